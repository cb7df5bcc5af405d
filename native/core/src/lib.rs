//! tsdb-core is the pure-Rust storage engine behind the napi binding:
//! XOR chunks (`chunkenc`), the postings index (`index`), remote-write
//! decoding and validation (`remote`), the in-memory per-tenant head
//! (`head`), the write path tying them together (`ingest`) and the PromQL
//! evaluation kernels over selected samples (`promql`); `labels` is the
//! compact label set the head keeps per series.

pub mod block;
pub mod chunkenc;
pub mod exemplars;
pub mod ha_tracker;
pub mod head;
pub mod index;
pub mod ingest;
pub mod ingest_extra;
pub mod labels;
pub mod limits;
pub mod metadata;
pub mod model;
pub mod otlp;
pub mod promql;
pub mod querier;
pub mod remote;
pub mod store;
pub mod tsdb;
pub mod wal;

/// version is the crate version reported by `coreVersion()`.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
