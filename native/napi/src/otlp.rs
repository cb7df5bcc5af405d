//! otlp: the N-API face of OTLP metrics ingestion (`tsdb_core::otlp`):
//! one call decompresses, decodes, translates and ingests a posted body
//! into the tenant's head (logged to its WAL when storage is open).

use napi::bindgen_prelude::Uint8Array;
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
    let req = OtlpRequest {
        body: &body,
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
    };
    let settings = Settings {
        add_suffixes: opts.add_suffixes,
        promote_resource_attributes: opts.promote_resource_attributes,
        keep_identifying_resource_attributes: opts.keep_identifying_resource_attributes,
        promote_scope_metadata: opts.promote_scope_metadata,
        convert_histograms_to_nhcb: opts.convert_histograms_to_nhcb.unwrap_or(false),
        allow_delta_temporality: opts.native_delta_ingestion.unwrap_or(false),
    };
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
    OtlpIngestResult {
        ingest: js_result(r.ingest),
        status: u32::from(r.status),
        grpc_code: r.grpc_code,
        message: r.message,
        partial_success: r.partial_success,
        uncompressed_size: r.uncompressed_size as f64,
    }
}
