//! bucket_read_bench measures the store-gateway's ranged reads of a bucket
//! block: it cuts a block of `series` node_exporter-like series (120
//! samples each), serves its files as a bucket whose every ranged read is
//! counted (a local stand-in for S3, so the figures are bytes and requests,
//! not network time), and reports
//! - what opening the block costs: the index-header written, the bytes
//!   fetched for it, and the resident memory of the opened block (ranged
//!   and, for comparison, mapped as a local block), each in a fresh process;
//! - for selective to broad queries, the bytes and requests each fetches
//!   against the block's size (what a copy of the block would fetch).
//!
//! Run: `cargo run --release -p tsdb-core --example bucket_read_bench [series]`

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[path = "common/blocks.rs"]
mod blocks;
#[path = "common/remote_write.rs"]
mod remote_write;
#[path = "common/rss.rs"]
mod rss;

use rss::rss_kib;

use tsdb_core::block::remote::{read_stats, set_bucket, Counted, RangeSource};
use tsdb_core::block::{Block, BucketBlock};
use tsdb_core::index::{MatchType, Matcher};

/// FileSource is a bucket of one block's files on local disk.
#[derive(Debug)]
struct FileSource {
    block_dir: PathBuf,
}

impl RangeSource for FileSource {
    fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String> {
        // key: <tenant>/<ULID>/<file>
        let file = key.splitn(3, '/').nth(2).ok_or("bad key")?;
        let f = std::fs::File::open(self.block_dir.join(file)).map_err(|e| e.to_string())?;
        let size = f.metadata().map_err(|e| e.to_string())?.len();
        let mut buf = vec![0; len.min(size.saturating_sub(off)) as usize];
        f.read_exact_at(&mut buf, off).map_err(|e| e.to_string())?;
        Ok(buf)
    }
}

fn m(t: MatchType, n: &str, v: &str) -> Matcher {
    Matcher::new(t, n, v).expect("matcher")
}

/// sync_dir writes the store-gateway's sync directory of the block.
fn sync_dir(block_dir: &Path, out: &Path) {
    std::fs::create_dir_all(out).expect("sync dir");
    std::fs::copy(block_dir.join("meta.json"), out.join("meta.json")).expect("meta");
    let size = |p: PathBuf| std::fs::metadata(p).expect("size").len();
    let mut chunks = Vec::new();
    for i in 1.. {
        let p = block_dir.join(format!("chunks/{i:06}"));
        if !p.exists() {
            break;
        }
        chunks.push(size(p).to_string());
    }
    std::fs::write(
        out.join("bucket-block.json"),
        format!(
            r#"{{"key":"t/{}","index":{},"chunks":[{}]}}"#,
            block_dir.file_name().unwrap().to_string_lossy(),
            size(block_dir.join("index")),
            chunks.join(",")
        ),
    )
    .expect("descriptor");
}

/// open measures opening the block one way, in a fresh process.
fn open(block_dir: &Path, sync: &Path, how: &str) {
    set_bucket(Some(Arc::new(Counted(Arc::new(FileSource {
        block_dir: block_dir.to_path_buf(),
    })))));
    let before = rss_kib();
    let began = Instant::now();
    let dir = if how == "ranged" { sync } else { block_dir };
    let block = Block::open(dir).expect("open");
    let t = began.elapsed().as_secs_f64();
    let opened = rss_kib();
    let sel = block
        .select_samples(
            &[m(MatchType::Equal, "__name__", "metric_7")],
            i64::MIN,
            i64::MAX,
            0,
        )
        .expect("select");
    println!(
        "{how:>6}: open {:.1} ms, +{:.1} MiB resident; after reading one metric ({} series): +{:.1} MiB",
        t * 1e3,
        (opened - before) as f64 / 1024.0,
        sel.offsets.len() - 1,
        (rss_kib() - before) as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("open") {
        open(Path::new(&args[1]), Path::new(&args[2]), &args[3]);
        return;
    }
    let series: usize = args.first().map_or(200_000, |a| a.parse().expect("series"));
    let dir = std::env::temp_dir().join(format!("bucket-read-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let block_dir = dir.join(
        blocks::cut(&blocks::filled_head(series, 120), &dir)
            .ulid
            .to_string(),
    );
    let files: Vec<PathBuf> = std::iter::once(block_dir.join("index"))
        .chain(
            (1..)
                .map(|i| block_dir.join(format!("chunks/{i:06}")))
                .take_while(|p| p.exists()),
        )
        .collect();
    let index_size = std::fs::metadata(&files[0]).expect("index").len();
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).expect("size").len())
        .sum();
    println!(
        "block: {series} series x 120 samples; index {:.1} MiB, chunks {:.1} MiB (a copy of the block fetches {:.1} MiB)",
        index_size as f64 / 1048576.0,
        (total - index_size) as f64 / 1048576.0,
        total as f64 / 1048576.0
    );
    let sync = dir.join("sync");
    sync_dir(&block_dir, &sync);
    set_bucket(Some(Arc::new(Counted(Arc::new(FileSource {
        block_dir: block_dir.clone(),
    })))));
    let began = Instant::now();
    let header = BucketBlock::prepare(&sync).expect("prepare");
    let s = read_stats();
    println!(
        "index-header: {:.1} KiB written in {:.1} ms from {} requests, {:.1} KiB fetched",
        header as f64 / 1024.0,
        began.elapsed().as_secs_f64() * 1e3,
        s.requests,
        s.bytes as f64 / 1024.0
    );
    let exe = std::env::current_exe().expect("exe");
    for how in ["ranged", "mapped"] {
        let st = std::process::Command::new(&exe)
            .args([
                "open",
                &block_dir.display().to_string(),
                &sync.display().to_string(),
                how,
            ])
            .status()
            .expect("run");
        assert!(st.success());
    }
    let queries: Vec<(&str, Vec<Matcher>)> = vec![
        (
            "one series",
            vec![
                m(MatchType::Equal, "__name__", "metric_7"),
                m(MatchType::Equal, "instance", "host-17.example:9100"),
            ],
        ),
        (
            "one host (100 series)",
            vec![m(MatchType::Equal, "instance", "host-17.example:9100")],
        ),
        (
            "one metric (1%)",
            vec![m(MatchType::Equal, "__name__", "metric_7")],
        ),
        ("one mode (1/7)", vec![m(MatchType::Equal, "mode", "m3")]),
        ("every series", vec![]),
    ];
    println!("| query | series | samples | fetched | requests | of the block | time |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, ms) in &queries {
        // A fresh open per query: its page cache starts empty.
        let block = Block::open(&sync).expect("open");
        let before = read_stats();
        let began = Instant::now();
        let sel = block
            .select_samples(ms, i64::MIN, i64::MAX, 0)
            .expect("select");
        let t = began.elapsed().as_secs_f64();
        let after = read_stats();
        let fetched = after.bytes - before.bytes;
        println!(
            "| {name} | {} | {} | {:.1} KiB | {} | {:.2}% | {:.1} ms |",
            sel.offsets.len() - 1,
            sel.timestamps.len(),
            fetched as f64 / 1024.0,
            after.requests - before.requests,
            100.0 * fetched as f64 / total as f64,
            t * 1e3
        );
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
