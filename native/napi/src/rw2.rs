//! rw2: the N-API entry points for Prometheus remote write 2.0 pushes
//! (`io.prometheus.write.v2.Request`), the twins of `ingestWriteRequest`
//! and `ingestSnappyWriteRequest` in `lib.rs`: same limits, same result,
//! same WAL, only the decoder differs (`tsdb_core::remote::v2`).

use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

use tsdb_core::head::Head;
use tsdb_core::ingest;

use crate::{core_limits, js_result, with_snappy_body, IngestLimits, IngestResult};

/// ingest_v2 is `wal::ingest` for a 2.0 body: logged to the tenant's WAL
/// when storage is open.
pub(crate) fn ingest_v2(
    tenant: &str,
    head: &Head,
    body: &[u8],
    limits: &ingest::IngestLimits,
) -> ingest::IngestResult {
    crate::wal::ingest_logged(
        tenant,
        head,
        body,
        limits,
        ingest::ingest_write_request_v2_logged,
    )
}

/// ingest_write_request_v2 decodes an uncompressed remote-write 2.0
/// protobuf body (`io.prometheus.write.v2.Request`), validates it and
/// appends it to the tenant's head. Bad input is reported in the result.
#[napi]
pub fn ingest_write_request_v2(
    tenant: String,
    body: Uint8Array,
    limits: IngestLimits,
) -> IngestResult {
    let head = tsdb_core::tsdb::registry().head(&tenant);
    js_result(ingest_v2(&tenant, &head, &body, &core_limits(&limits)))
}

/// ingest_snappy_write_request_v2 is `ingestWriteRequestV2` for the body as
/// posted (raw snappy), uncompressed into the per-thread buffer. Returns
/// null when the snappy data is corrupt.
#[napi]
pub fn ingest_snappy_write_request_v2(
    tenant: String,
    compressed: Uint8Array,
    limits: IngestLimits,
) -> Option<IngestResult> {
    with_snappy_body(&compressed, |body| {
        let head = tsdb_core::tsdb::registry().head(&tenant);
        js_result(ingest_v2(&tenant, &head, body, &core_limits(&limits)))
    })
}
