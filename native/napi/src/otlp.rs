//! otlp: the N-API face of OTLP metrics ingestion (`tsdb_core::otlp`):
//! one call decompresses, decodes, translates and ingests a posted body
//! into the tenant's head (logged to its WAL when storage is open).

use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;

use tsdb_core::otlp::{self, Compression, Encoding, OtlpRequest, Settings};
use tsdb_core::wal;

use super::{core_limits, js_result, IngestLimits, IngestResult};

/// OtlpOptions say how to read the body and translate it.
#[napi(object)]
pub struct OtlpOptions {
    /// true for `application/json`, false for `application/x-protobuf`.
    pub json: bool,
    /// true for `Content-Encoding: gzip`.
    pub gzip: bool,
    /// -distributor.max-otlp-request-size, the limit of the decompressed body.
    pub max_size: f64,
    /// -distributor.otel-metric-suffixes-enabled.
    pub add_suffixes: bool,
    /// -distributor.otel-promote-resource-attributes (attribute names).
    pub promote_resource_attributes: Vec<String>,
    /// -distributor.otel-keep-identifying-resource-attributes.
    pub keep_identifying_resource_attributes: bool,
    /// -distributor.otel-promote-scope-metadata.
    pub promote_scope_metadata: bool,
    /// -distributor.otel-convert-histograms-to-nhcb.
    pub convert_histograms_to_nhcb: Option<bool>,
    /// -distributor.otel-native-delta-ingestion.
    pub native_delta_ingestion: Option<bool>,
    /// -distributor.otel-created-timestamp-zero-ingestion-enabled.
    pub created_timestamp_zero_ingestion: Option<bool>,
}

/// OtlpIngestResult is the outcome of one OTLP push and the answer to give.
#[napi(object)]
pub struct OtlpIngestResult {
    /// What the ingest path did (errors are in status/message instead).
    pub ingest: IngestResult,
    /// HTTP status of the answer (413: the caller words the message).
    pub status: u32,
    /// google.rpc.Status code of an error answer.
    pub grpc_code: u32,
    /// Error or partial-success message ('' on success).
    pub message: String,
    /// Whether a 200 carries partial_success.
    pub partial_success: bool,
    /// Size of the decompressed body.
    pub uncompressed_size: f64,
}

/// OtlpWriteRequest is an OTLP body translated for the distributed write
/// path: a remote-write 1.0 WriteRequest, or the refusal to answer.
#[napi(object)]
pub struct OtlpWriteRequest {
    /// The answer when nothing is left to forward (bad body, size limit,
    /// every metric dropped); absent otherwise.
    pub refusal: Option<OtlpIngestResult>,
    /// The uncompressed WriteRequest protobuf (empty with a refusal).
    pub write_request: Buffer,
    /// The translator's `otlp parse error: ...` text when it dropped metrics.
    pub parse_error: Option<String>,
    /// Metrics the translator dropped.
    pub dropped: f64,
    /// Size of the decompressed body.
    pub uncompressed_size: f64,
}

fn request<'a>(body: &'a [u8], opts: &OtlpOptions) -> OtlpRequest<'a> {
    OtlpRequest {
        body,
        encoding: if opts.json {
            Encoding::Json
        } else {
            Encoding::Protobuf
        },
        compression: if opts.gzip {
            Compression::Gzip
        } else {
            Compression::None
        },
        max_size: opts.max_size.max(0.0) as usize,
    }
}

fn settings(opts: &OtlpOptions) -> Settings {
    Settings {
        add_suffixes: opts.add_suffixes,
        promote_resource_attributes: opts.promote_resource_attributes.clone(),
        keep_identifying_resource_attributes: opts.keep_identifying_resource_attributes,
        promote_scope_metadata: opts.promote_scope_metadata,
        convert_histograms_to_nhcb: opts.convert_histograms_to_nhcb.unwrap_or(false),
        allow_delta_temporality: opts.native_delta_ingestion.unwrap_or(false),
        created_timestamp_zero_ingestion: opts.created_timestamp_zero_ingestion.unwrap_or(false),
    }
}

fn js_otlp_result(r: otlp::OtlpResult) -> OtlpIngestResult {
    OtlpIngestResult {
        ingest: js_result(r.ingest),
        status: u32::from(r.status),
        grpc_code: r.grpc_code,
        message: r.message,
        partial_success: r.partial_success,
        uncompressed_size: r.uncompressed_size as f64,
    }
}

/// otlp_write_request translates one OTLP/HTTP metrics body into a
/// remote-write 1.0 WriteRequest without ingesting it (a distributor
/// forwards it to the ingesters). Bad input is reported, never thrown.
#[napi]
pub fn otlp_write_request(body: Uint8Array, opts: OtlpOptions) -> OtlpWriteRequest {
    let out = otlp::otlp_write_request(&request(&body, &opts), &settings(&opts));
    OtlpWriteRequest {
        refusal: out.refusal.map(js_otlp_result),
        write_request: out.write_request.into(),
        parse_error: out.parse_error,
        dropped: out.dropped as f64,
        uncompressed_size: out.uncompressed_size as f64,
    }
}

/// otlp_validation_message rewords the validation error `message` that an
/// ingester gave for the translation of this body as the OTLP endpoint
/// words it (a label value too long names the attribute and metric).
#[napi]
pub fn otlp_validation_message(
    body: Uint8Array,
    opts: OtlpOptions,
    limits: IngestLimits,
    message: String,
) -> String {
    otlp::validation_message_for(
        &request(&body, &opts),
        &settings(&opts),
        &core_limits(&limits),
        message,
    )
}

/// ingest_otlp ingests one OTLP/HTTP metrics body for the tenant. Bad input
/// is reported in the result, never thrown.
#[napi]
pub fn ingest_otlp(
    tenant: String,
    body: Uint8Array,
    limits: IngestLimits,
    opts: OtlpOptions,
) -> OtlpIngestResult {
    let head = tsdb_core::tsdb::registry().head(&tenant);
    let req = request(&body, &opts);
    let settings = settings(&opts);
    let limits = core_limits(&limits);
    let r = match wal::storage().tenant(&tenant) {
        Ok(w) => otlp::ingest_otlp(&head, w.as_deref(), &req, &settings, &limits),
        Err(e) => otlp::OtlpResult {
            status: 503,
            grpc_code: otlp::grpc::INTERNAL,
            message: e.to_string(),
            ..Default::default()
        },
    };
    js_otlp_result(r)
}
