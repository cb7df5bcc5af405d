//! block_write_bench times cutting a block from a head: `series`
//! node_exporter-like series with `samples` samples each (15 s apart),
//! written as one 2h block, with the time spent per step.
//!
//! Run: `cargo run --release -p tsdb-core --example block_write_bench [series] [samples]`

use std::time::Instant;

#[path = "common/blocks.rs"]
mod blocks;
#[path = "common/remote_write.rs"]
mod remote_write;

use tsdb_core::head::DEFAULT_CHUNK_RANGE;

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("series"));
    let samples: i64 = args.next().map_or(4, |a| a.parse().expect("samples"));
    let t0 = blocks::block_start();
    let began = Instant::now();
    let head = blocks::filled_head(series, samples);
    println!(
        "ingest: {:.3}s, {} series",
        began.elapsed().as_secs_f64(),
        head.num_series()
    );
    let dir = std::env::temp_dir().join(format!("block-write-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let began = Instant::now();
    let meta = blocks::cut(&head, &dir);
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
