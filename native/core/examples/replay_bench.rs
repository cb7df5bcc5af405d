//! replay_bench times a tenant's start-up replay: 20k series scraped every
//! 15 s for 3.5 h (840 samples each, the tsdb benchmark's shape) are
//! ingested with the WAL on, then a new storage replays them, with and
//! without the head chunk files. Fixed inputs.
//!
//! Run: `cargo run --release -p tsdb-core --example replay_bench [series] [scrapes] [dir]`

use std::path::Path;
use std::time::Instant;

#[path = "common/remote_write.rs"]
mod remote_write;
use remote_write::request;

use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request_logged, IngestLimits};
use tsdb_core::wal::{SyncMode, WalOptions, WalStorage, DEFAULT_SEGMENT_SIZE};

fn opts(dir: &Path) -> WalOptions {
    WalOptions {
        dir: dir.to_path_buf(),
        segment_size: DEFAULT_SEGMENT_SIZE,
        sync_mode: SyncMode::None,
        compress: true,
        zstd: false,
    }
}

fn replay(dir: &Path, label: &str) {
    let storage = WalStorage::new();
    let found = storage.open(opts(dir)).expect("open");
    let began = Instant::now();
    let wal = storage.tenant("t").expect("wal").expect("opened");
    let head = Head::new("t", DEFAULT_CHUNK_RANGE);
    let (mut samples, mut disk) = (0u64, 0u64);
    if let Some(s) = wal.replay_checkpoint(&head).expect("checkpoint") {
        samples += s.samples;
        disk += s.disk_samples;
    }
    for seg in &found[0].segments {
        let s = wal.replay_segment(&head, *seg).expect("segment");
        samples += s.samples;
        disk += s.disk_samples;
    }
    wal.finish_replay(&head).expect("finish");
    println!(
        "{label}: {:.3}s, {} series, {samples} samples from the WAL, {disk} from chunks_head",
        began.elapsed().as_secs_f64(),
        head.num_series()
    );
    wal.close().expect("close");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args.next().map_or(20_000, |a| a.parse().expect("series"));
    let scrapes: i64 = args.next().map_or(840, |a| a.parse().expect("scrapes"));
    let per_req = 2_000.min(series);
    // A third argument keeps the data in that directory (and reuses it).
    let kept = args.next();
    let dir = kept.as_ref().map_or_else(
        || std::env::temp_dir().join(format!("replay-bench-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    if kept.is_some() && dir.join("t").join("wal").is_dir() {
        replay(&dir, "replay of the kept data");
        return;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let t0 = (1_700_000_000_000i64 / DEFAULT_CHUNK_RANGE) * DEFAULT_CHUNK_RANGE;
    let limits = IngestLimits {
        now_ms: t0 + scrapes * 15_000,
        ..IngestLimits::default()
    };
    {
        let storage = WalStorage::new();
        storage.open(opts(&dir)).expect("open");
        let wal = storage.tenant("t").expect("wal").expect("opened");
        let head = Head::new("t", DEFAULT_CHUNK_RANGE);
        let began = Instant::now();
        for k in 0..scrapes {
            let t = t0 + k * 15_000;
            for start in (0..series).step_by(per_req) {
                let r = ingest_write_request_logged(
                    &head,
                    Some(&wal),
                    &request(start, per_req, t),
                    &limits,
                );
                assert!(r.error_status.is_none(), "{:?}", r.error_message);
            }
        }
        println!("ingest: {:.3}s", began.elapsed().as_secs_f64());
        wal.close().expect("close");
    }
    replay(&dir, "replay with chunks_head");
    replay(&dir, "replay again");
    let _ = std::fs::remove_dir_all(dir.join("t").join("chunks_head"));
    replay(&dir, "replay from the WAL only (writes chunks_head)");
    replay(&dir, "replay with the rewritten chunks_head");
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
