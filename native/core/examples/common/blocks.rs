//! blocks fills a head with node_exporter-like series and cuts it into a
//! block, for the block examples (see `remote_write.rs` for the series).

use tsdb_core::block::{write_block, BlockMeta, BlockWriteOptions};
use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request, IngestLimits};

use super::remote_write::request;

/// block_start is the start of the 2h block the examples write.
pub fn block_start() -> i64 {
    (1_700_000_000_000i64 / DEFAULT_CHUNK_RANGE) * DEFAULT_CHUNK_RANGE
}

/// filled_head returns a head holding `series` series with `samples`
/// samples each, 15 s apart from `block_start()`.
pub fn filled_head(series: usize, samples: i64) -> Head {
    let per_req = 2_000.min(series);
    let t0 = block_start();
    let limits = IngestLimits {
        now_ms: t0 + samples * 15_000,
        ..IngestLimits::default()
    };
    let head = Head::new("t", DEFAULT_CHUNK_RANGE);
    for k in 0..samples {
        for start in (0..series).step_by(per_req) {
            let r = ingest_write_request(&head, &request(start, per_req, t0 + k * 15_000), &limits);
            assert!(r.error_status.is_none(), "{:?}", r.error_message);
        }
    }
    head
}

/// cut writes the head's first 2h as one block under `dir`.
pub fn cut(head: &Head, dir: &std::path::Path) -> BlockMeta {
    let t0 = block_start();
    write_block(
        head,
        dir,
        t0,
        t0 + DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .expect("write")
    .expect("a block")
}
