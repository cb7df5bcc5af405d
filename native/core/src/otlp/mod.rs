//! OTLP/HTTP metrics ingestion (`POST /otlp/v1/metrics`) as Grafana
//! Mimir's distributor does it: the body (protobuf or JSON, optionally
//! gzip) is decoded ([`proto`], [`json`]), translated into Prometheus
//! series ([`translate`], [`names`]) and handed to the same ingest path as
//! remote write ([`crate::ingest::ingest_decoded`], with the start times as created timestamps: validation,
//! rate limit, series limits, WAL, head). [`ingest_otlp`] also decides the
//! answer as Mimir's OTLP handler does:
//!
//! | outcome | HTTP | `google.rpc.Status` code |
//! | --- | --- | --- |
//! | stored | 200 (empty `ExportMetricsServiceResponse`) | |
//! | head refused samples (out of order, too old, series limits) | 200 with `partial_success.error_message` | |
//! | undecodable body, every metric dropped by the translator | 400 | 400 |
//! | metrics dropped by the translator, the rest stored | 400 `otlp parse error: ...` | 400 |
//! | validation error (the rest stored) | 400 | 3 (InvalidArgument) |
//! | ingestion rate limit (nothing stored) | 429 | 8 (ResourceExhausted) |
//! | decompressed body over the size limit | 413 (text left to the caller) | 413 |
//! | WAL failure | 503 | 13 (Internal) |

pub mod json;
pub mod model;
pub mod names;
pub mod proto;
pub mod translate;

#[cfg(test)]
mod tests;

use std::io::Read;

use crate::head::Head;
use crate::ingest::{ingest_decoded, IngestLimits, IngestResult};
use crate::remote::{self, reason};
use crate::wal::TenantWal;

pub use translate::{translate, Settings, Translation, STALE_NAN};

/// Encoding is the request's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

/// Compression is the request's Content-Encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// OtlpRequest is one posted body and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct OtlpRequest<'a> {
    pub body: &'a [u8],
    pub encoding: Encoding,
    pub compression: Compression,
    /// -distributor.max-otlp-request-size: the limit of the decompressed body.
    pub max_size: usize,
}

/// gRPC codes used in the error bodies.
pub mod grpc {
    pub const INVALID_ARGUMENT: u32 = 3;
    pub const RESOURCE_EXHAUSTED: u32 = 8;
    pub const INTERNAL: u32 = 13;
}

/// MAX_ERR_MSG_LEN bounds the translator's error text (Mimir's maxErrMsgLen).
const MAX_ERR_MSG_LEN: usize = 1024;

/// REASON_OTLP_PARSE_ERROR counts the metrics the translator dropped.
pub const REASON_OTLP_PARSE_ERROR: &str = "otlp_parse_error";

/// OtlpResult is the outcome of one OTLP push.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtlpResult {
    /// What the ingest path did (counters, discarded samples by reason).
    pub ingest: IngestResult,
    /// HTTP status of the answer.
    pub status: u16,
    /// `google.rpc.Status.code` of an error answer (0 on success).
    pub grpc_code: u32,
    /// The error (or partial success) message; empty on plain success and
    /// for the 413, which the caller words.
    pub message: String,
    /// Whether a 200 carries `partial_success`.
    pub partial_success: bool,
    /// Uncompressed body size.
    pub uncompressed_size: u64,
}

impl OtlpResult {
    fn error(status: u16, grpc_code: u32, message: String) -> Self {
        OtlpResult {
            status,
            grpc_code,
            message,
            ..OtlpResult::default()
        }
    }
}

/// decompress returns the body as protobuf/JSON bytes, or the HTTP status
/// (also the Status code, as Mimir's httpgrpc errors) and message of the
/// refusal (413 without message: the caller words it).
fn decompress<'a>(
    req: &OtlpRequest<'a>,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], (u16, String)> {
    match req.compression {
        Compression::None => {
            if req.body.len() > req.max_size {
                return Err((413, String::new()));
            }
            Ok(req.body)
        }
        Compression::Gzip => {
            if req.body.len() < 10 || req.body[0] != 0x1f || req.body[1] != 0x8b || req.body[2] != 8
            {
                return Err((400, "gzip: invalid header".to_string()));
            }
            scratch.clear();
            let limit = req.max_size as u64 + 1;
            let mut dec = flate2::read::MultiGzDecoder::new(req.body).take(limit);
            match dec.read_to_end(scratch) {
                Ok(_) if scratch.len() as u64 >= limit => Err((413, String::new())),
                Ok(_) => Ok(&scratch[..]),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    Err((400, "unexpected EOF".to_string()))
                }
                Err(e) => Err((400, format!("gzip: {e}"))),
            }
        }
    }
}

/// Translated is a request read and translated, before ingestion.
struct Translated {
    translation: Translation,
    uncompressed_size: u64,
    /// parse_error is the translator's `otlp parse error: ...` text.
    parse_error: Option<String>,
    /// dropped counts the metrics the translator dropped.
    dropped: u64,
}

/// read_and_translate decompresses, decodes and translates a request; Err
/// is the answer to give when nothing is left to ingest (bad body, size
/// limit, every metric dropped).
fn read_and_translate(
    req: &OtlpRequest<'_>,
    settings: &Settings,
) -> Result<Translated, Box<OtlpResult>> {
    let mut scratch = Vec::new();
    let body = match decompress(req, &mut scratch) {
        Ok(b) => b,
        Err((status, message)) => {
            return Err(Box::new(OtlpResult::error(
                status,
                u32::from(status),
                message,
            )))
        }
    };
    let uncompressed_size = body.len() as u64;
    let decoded = match req.encoding {
        Encoding::Protobuf => proto::decode_export_request(body),
        Encoding::Json => json::decode_export_request_json(body),
    };
    let export = match decoded {
        Ok(e) => e,
        Err(e) => {
            let mut r = OtlpResult::error(400, 400, e.0);
            r.uncompressed_size = uncompressed_size;
            return Err(Box::new(r));
        }
    };
    let translation = translate(&export, settings);
    drop(export);
    let parse_error = translation.error_text().map(|e| {
        let mut cut = e.len().min(MAX_ERR_MSG_LEN);
        while !e.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("otlp parse error: {}", &e[..cut])
    });
    let dropped = translation.errors.len() as u64;
    if translation.num_series() == 0 {
        if let Some(msg) = parse_error {
            let mut out = OtlpResult::error(400, 400, msg);
            out.uncompressed_size = uncompressed_size;
            out.ingest
                .discarded
                .push((REASON_OTLP_PARSE_ERROR, dropped));
            return Err(Box::new(out));
        }
    }
    Ok(Translated {
        translation,
        uncompressed_size,
        parse_error,
        dropped,
    })
}

/// OtlpWriteRequest is a request translated into a remote-write 1.0
/// `WriteRequest` for the distributed write path (a distributor forwards
/// it to the ingesters as a remote-write push).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtlpWriteRequest {
    /// The answer when nothing is left to forward (status != 0): as
    /// [`ingest_otlp`] would give it.
    pub refusal: Option<OtlpResult>,
    /// The uncompressed `WriteRequest` protobuf.
    pub write_request: Vec<u8>,
    /// The translator's `otlp parse error: ...` text (metrics dropped).
    pub parse_error: Option<String>,
    /// Metrics the translator dropped.
    pub dropped: u64,
    pub uncompressed_size: u64,
}

/// otlp_write_request reads and translates one OTLP request into a
/// remote-write 1.0 `WriteRequest` (series in translation order, float
/// samples then native histograms), without ingesting it.
pub fn otlp_write_request(req: &OtlpRequest<'_>, settings: &Settings) -> OtlpWriteRequest {
    let t = match read_and_translate(req, settings) {
        Ok(t) => t,
        Err(r) => {
            return OtlpWriteRequest {
                uncompressed_size: r.uncompressed_size,
                refusal: Some(*r),
                ..OtlpWriteRequest::default()
            }
        }
    };
    OtlpWriteRequest {
        refusal: None,
        write_request: encode_write_request(&t.translation),
        parse_error: t.parse_error,
        dropped: t.dropped,
        uncompressed_size: t.uncompressed_size,
    }
}

/// encode_write_request writes a translation as a `prometheus.WriteRequest`
/// (TimeSeries: labels 1, samples 2, histograms 4 and, as Mimir's, the
/// created timestamp 6; Sample: value 1, timestamp 2; the families'
/// metadata as field 3).
pub fn encode_write_request(t: &Translation) -> Vec<u8> {
    use crate::block::encoding::put_uvarint;
    fn bytes_field(out: &mut Vec<u8>, field: u64, b: &[u8]) {
        put_uvarint(out, field << 3 | 2);
        put_uvarint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    let mut out = Vec::with_capacity(t.num_series() * 64 + t.num_samples() * 20);
    let mut series = Vec::with_capacity(256);
    let mut item = Vec::with_capacity(64);
    for i in 0..t.num_series() {
        series.clear();
        for (name, value) in t.series_labels(i) {
            item.clear();
            bytes_field(&mut item, 1, name.as_bytes());
            bytes_field(&mut item, 2, value.as_bytes());
            bytes_field(&mut series, 1, &item);
        }
        for s in t.series_samples(i) {
            item.clear();
            item.push(0x09);
            item.extend_from_slice(&s.value.to_bits().to_le_bytes());
            if s.timestamp_ms != 0 {
                item.push(0x10);
                put_uvarint(&mut item, s.timestamp_ms as u64);
            }
            bytes_field(&mut series, 2, &item);
        }
        // Exemplar { labels = 1; value = 2; timestamp = 3 }.
        for (labels, value, timestamp_ms) in t.series_exemplars(i) {
            item.clear();
            for (name, v) in labels {
                let mut label = Vec::with_capacity(name.len() + v.len() + 4);
                bytes_field(&mut label, 1, name.as_bytes());
                bytes_field(&mut label, 2, v.as_bytes());
                bytes_field(&mut item, 1, &label);
            }
            item.push(0x11);
            item.extend_from_slice(&value.to_bits().to_le_bytes());
            if timestamp_ms != 0 {
                item.push(0x18);
                put_uvarint(&mut item, timestamp_ms as u64);
            }
            bytes_field(&mut series, 3, &item);
        }
        for h in t.series_histograms(i) {
            item.clear();
            remote::encode_histogram(&mut item, h.timestamp_ms, &h.value);
            bytes_field(&mut series, 4, &item);
        }
        // Mimir's TimeSeries.created_timestamp (6): the ingester's zero sample.
        let created = t.series_created(i);
        if created != 0 {
            series.push(6 << 3);
            put_uvarint(&mut series, created as u64);
        }
        bytes_field(&mut out, 1, &series);
    }
    // MetricMetadata { type = 1; metric_family_name = 2; help = 4; unit = 5 }.
    for m in &t.metadata {
        item.clear();
        if m.metric_type != 0 {
            item.push(0x08);
            put_uvarint(&mut item, m.metric_type as u64);
        }
        bytes_field(&mut item, 2, m.family.as_bytes());
        if !m.help.is_empty() {
            bytes_field(&mut item, 4, m.help.as_bytes());
        }
        if !m.unit.is_empty() {
            bytes_field(&mut item, 5, m.unit.as_bytes());
        }
        bytes_field(&mut out, 3, &item);
    }
    out
}

/// ingest_otlp decodes, translates and ingests one OTLP request into
/// `head` (logging it to `wal` when given) and chooses the answer.
pub fn ingest_otlp(
    head: &Head,
    wal: Option<&TenantWal>,
    req: &OtlpRequest<'_>,
    settings: &Settings,
    limits: &IngestLimits,
) -> OtlpResult {
    let Translated {
        mut translation,
        uncompressed_size,
        parse_error,
        dropped,
    } = match read_and_translate(req, settings) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let mut out = OtlpResult {
        uncompressed_size,
        ..OtlpResult::default()
    };
    // Created timestamps first: they are keyed by where each series' histograms start.
    let created = translation.created_timestamps();
    let histograms = translation.take_histograms();
    let mut result = ingest_decoded(
        head,
        wal,
        translation.view_with(histograms),
        &created,
        limits,
    );
    if dropped > 0 {
        result.discarded.push((REASON_OTLP_PARSE_ERROR, dropped));
    }
    match (result.error_status, result.error_message.take()) {
        (Some(429), Some(msg)) => {
            out.status = 429;
            out.grpc_code = grpc::RESOURCE_EXHAUSTED;
            out.message = msg;
        }
        (Some(400), Some(msg)) if result.ingester_error => {
            out.status = 200;
            out.partial_success = true;
            out.message = msg;
        }
        (Some(400), Some(msg)) => {
            out.status = 400;
            out.grpc_code = grpc::INVALID_ARGUMENT;
            out.message = otel_validation_message(&translation, limits, msg);
        }
        (Some(_), msg) => {
            out.status = 503;
            out.grpc_code = grpc::INTERNAL;
            out.message = msg.unwrap_or_default();
        }
        (None, _) => match parse_error {
            Some(msg) => {
                out.status = 400;
                out.grpc_code = 400;
                out.message = msg;
            }
            None => out.status = 200,
        },
    }
    result.error_message = None;
    result.error_status = None;
    out.ingest = result;
    out
}

/// validation_message_for rewords a validation error `msg` that ingesting
/// the request's translation produced elsewhere (the distributed write path:
/// an ingester validated it) as [`ingest_otlp`] words it: the label value
/// too long error in OTel terms. The request is read and translated again.
pub fn validation_message_for(
    req: &OtlpRequest<'_>,
    settings: &Settings,
    limits: &IngestLimits,
    msg: String,
) -> String {
    match read_and_translate(req, settings) {
        Ok(t) => otel_validation_message(&t.translation, limits, msg),
        Err(_) => msg,
    }
}

/// otel_validation_message rewords Mimir's label-value-too-long error in
/// OTel terms (attribute, metric), as Mimir's OTLP handler does; other
/// validation errors are returned as they are. It finds the series the
/// ingest path refused first by validating the translation the same way.
fn otel_validation_message(t: &Translation, limits: &IngestLimits, msg: String) -> String {
    let mut view = t.view();
    view.sort_and_filter_labels();
    let vlimits = &limits.validation;
    for i in 0..view.series.len() {
        view.dedupe_sample_timestamps(i);
        let s = view.series(i);
        let Err(e) = remote::validate_series(&s, vlimits, limits.now_ms) else {
            continue;
        };
        if e.message != msg || e.reason != reason::LABEL_VALUE_TOO_LONG {
            return msg;
        }
        let limit = vlimits.max_label_value_length;
        let Some((name, value)) = s.labels.iter().find(|(_, v)| v.len() > limit) else {
            return msg;
        };
        return format!(
            "received a metric whose attribute value length of {} exceeds the limit of {}, attribute: '{}', value: '{}' (truncated) metric: '{}'. See: https://grafana.com/docs/grafana-cloud/send-data/otlp/otlp-format-considerations/#metrics-ingestion-limits",
            value.len(),
            limit,
            name,
            trunc(value, 200),
            trunc(&remote::format_labels(s.labels), 200),
        );
    }
    msg
}

/// trunc is Go's `%.Ns`: at most `n` characters.
fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
