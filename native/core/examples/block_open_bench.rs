//! block_open_bench measures what a loaded block costs in memory: it cuts a
//! block of `series` node_exporter-like series (4 samples each), then opens
//! it the way the store-gateway and the ingester do (`Block::open`: index
//! and chunk segments mapped, the symbol and postings offset tables copied)
//! and, for comparison in the same run, with the whole index read into the
//! heap as before. It prints the resident memory each adds, and after a
//! selection of every series.
//!
//! Run: `cargo run --release -p tsdb-core --example block_open_bench [series]`

use std::time::Instant;

#[path = "common/blocks.rs"]
mod blocks;
#[path = "common/remote_write.rs"]
mod remote_write;
#[path = "common/rss.rs"]
mod rss;

use rss::rss_kib;

use tsdb_core::block::{Block, BlockIndex};
use tsdb_core::querier::{select, Reader};

/// measure opens the block in `dir` one way (a fresh process each, so the
/// resident figures are this open's alone) and prints what it costs.
fn measure(dir: &std::path::Path, how: &str) {
    let before = rss_kib();
    let began = Instant::now();
    if how == "mapped" {
        let block = Block::open(dir).expect("open");
        let opened = rss_kib();
        let t = began.elapsed().as_secs_f64();
        let sel = select(&[Reader::Block(&block)], &[], i64::MIN, i64::MAX).expect("select");
        println!(
            "Block::open (index and chunks mapped): {t:.3}s, +{:.1} MiB resident; after selecting all {} series: +{:.1} MiB",
            (opened - before) as f64 / 1024.0,
            sel.len(),
            (rss_kib() - before) as f64 / 1024.0
        );
    } else {
        let data = std::fs::read(dir.join("index")).expect("read index");
        let index = BlockIndex::parse(data).expect("parse");
        println!(
            "index read into the heap (before this change): {:.3}s, +{:.1} MiB resident",
            began.elapsed().as_secs_f64(),
            (rss_kib() - before) as f64 / 1024.0
        );
        drop(index);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("open") {
        measure(std::path::Path::new(&args[1]), &args[2]);
        return;
    }
    let series: usize = args.first().map_or(200_000, |a| a.parse().expect("series"));
    let dir = std::env::temp_dir().join(format!("block-open-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let block_dir = dir.join(
        blocks::cut(&blocks::filled_head(series, 4), &dir)
            .ulid
            .to_string(),
    );
    let index_size = std::fs::metadata(block_dir.join("index"))
        .expect("index")
        .len();
    println!(
        "block: {series} series, index {:.1} MiB",
        index_size as f64 / (1 << 20) as f64
    );

    let exe = std::env::current_exe().expect("exe");
    for how in ["mapped", "heap"] {
        let status = std::process::Command::new(&exe)
            .args(["open", &block_dir.to_string_lossy(), how])
            .status()
            .expect("run");
        assert!(status.success());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
