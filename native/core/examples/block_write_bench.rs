//! block_write_bench times cutting a block from a head: `series`
//! node_exporter-like series with `samples` samples each (15 s apart),
//! written as one 2h block, with the time spent per step.
//!
//! Run: `cargo run --release -p tsdb-core --example block_write_bench [series] [samples]`

use std::time::Instant;

#[path = "common/remote_write.rs"]
mod remote_write;
use remote_write::request;

use tsdb_core::block::{write_block, BlockWriteOptions};
use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request, IngestLimits};

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("series"));
    let samples: i64 = args.next().map_or(4, |a| a.parse().expect("samples"));
    let per_req = 2_000.min(series);
    let t0 = (1_700_000_000_000i64 / DEFAULT_CHUNK_RANGE) * DEFAULT_CHUNK_RANGE;
    let limits = IngestLimits {
        now_ms: t0 + samples * 15_000,
        ..IngestLimits::default()
    };
    let head = Head::new("t", DEFAULT_CHUNK_RANGE);
    let began = Instant::now();
    for k in 0..samples {
        let t = t0 + k * 15_000;
        for start in (0..series).step_by(per_req) {
            let r = ingest_write_request(&head, &request(start, per_req, t), &limits);
            assert!(r.error_status.is_none(), "{:?}", r.error_message);
        }
    }
    println!(
        "ingest: {:.3}s, {} series",
        began.elapsed().as_secs_f64(),
        head.num_series()
    );
    let dir = std::env::temp_dir().join(format!("block-write-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let began = Instant::now();
    let meta = write_block(
        &head,
        &dir,
        t0,
        t0 + DEFAULT_CHUNK_RANGE,
        &BlockWriteOptions::default(),
    )
    .expect("write")
    .expect("a block");
    println!(
        "block: {:.3}s, {} series, {} samples, {} chunks",
        began.elapsed().as_secs_f64(),
        meta.stats.num_series,
        meta.stats.num_samples,
        meta.stats.num_chunks
    );
    let began = Instant::now();
    let t = head.truncate(t0 + DEFAULT_CHUNK_RANGE);
    println!(
        "truncate: {:.3}s, {} series removed",
        began.elapsed().as_secs_f64(),
        t.series_removed
    );
    let _ = std::fs::remove_dir_all(&dir);
}
