//! histogram_ingest_bench measures the native-histogram write path of one
//! tenant (decode + validate + append to histogram chunks + WAL records,
//! snappy-compressed) on remote-write requests shaped like
//! `bench/histograms.ts`'s: integer histograms of 40 buckets at schema 3,
//! 500 series a request, counts growing every 15 s round. Fixed inputs, so
//! `perf stat -e instructions:u` on it compares two builds exactly.
//!
//! Run: `cargo run --release -p tsdb-core --example histogram_ingest_bench [series] [rounds]`

use std::time::Instant;

#[path = "common/remote_write.rs"]
#[allow(dead_code)]
mod remote_write;
use remote_write::field;

use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request_logged, IngestLimits};
use tsdb_core::model::histogram::{Histogram, HistogramValue, Span};
use tsdb_core::remote::encode_histogram;
use tsdb_core::wal::{SyncMode, TenantWal, WalOptions};

const BUCKETS: usize = 40;
const BATCH: usize = 500;

/// thread_cpu_ns is the time this thread has run on a CPU (Linux's
/// schedstat), so a busy machine slows the run but not the figure much.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args.next().map_or(2_000, |a| a.parse().expect("series"));
    let rounds: usize = args.next().map_or(240, |a| a.parse().expect("rounds"));
    let t0 = 1_700_000_000_000i64;
    let mut counts = vec![[0u64; BUCKETS]; series];
    let mut sums = vec![0f64; series];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut reqs = Vec::new();
    for r in 0..rounds {
        let t = t0 + r as i64 * 15_000;
        for first in (0..series).step_by(BATCH) {
            let mut req = Vec::with_capacity(BATCH * 160);
            for s in first..(first + BATCH).min(series) {
                let c = &mut counts[s];
                let mut total = 0u64;
                for (b, n) in c.iter_mut().enumerate() {
                    let w = (-((b as f64 - BUCKETS as f64 / 2.0) / 8.0).powi(2)).exp();
                    *n += (next() * 20.0 * w) as u64;
                    total += *n;
                }
                sums[s] += total as f64 * 0.01;
                let mut prev = 0i64;
                let deltas = c
                    .iter()
                    .map(|&n| {
                        let d = n as i64 - prev;
                        prev = n as i64;
                        d
                    })
                    .collect();
                let h = HistogramValue::Int(Histogram {
                    schema: 3,
                    zero_threshold: 2.938735877055719e-39,
                    count: total,
                    sum: sums[s],
                    positive_spans: vec![Span {
                        offset: -20,
                        length: BUCKETS as u32,
                    }],
                    positive_buckets: deltas,
                    ..Histogram::default()
                });
                let mut ts = Vec::with_capacity(512);
                let instance = format!("i-{}", s % 100);
                let name = s.to_string();
                for (n, v) in [
                    ("__name__", "bench_latency_seconds"),
                    ("job", "bench"),
                    ("instance", instance.as_str()),
                    ("series", name.as_str()),
                ] {
                    let mut l = Vec::new();
                    field(&mut l, 1, n.as_bytes());
                    field(&mut l, 2, v.as_bytes());
                    field(&mut ts, 1, &l);
                }
                let mut hb = Vec::with_capacity(256);
                encode_histogram(&mut hb, t, &h);
                field(&mut ts, 4, &hb);
                field(&mut req, 1, &ts);
            }
            reqs.push((t, req));
        }
    }
    let dir = std::env::temp_dir().join(format!("histogram-ingest-bench-{}", std::process::id()));
    let opts = WalOptions {
        dir: dir.clone(),
        segment_size: 128 << 20,
        sync_mode: SyncMode::None,
        compress: true,
        zstd: false,
    };
    let wal = TenantWal::open(dir.join("bench").join("wal"), &opts).expect("wal");
    let head = Head::new("bench", DEFAULT_CHUNK_RANGE);
    let started = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut accepted = 0u64;
    for (t, body) in &reqs {
        let r = ingest_write_request_logged(
            &head,
            Some(&wal),
            body,
            &IngestLimits {
                now_ms: *t,
                ..IngestLimits::default()
            },
        );
        accepted += u64::from(r.accepted_samples) + u64::from(r.accepted_histograms);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
    println!(
        "{accepted} histogram samples in {secs:.3}s ({cpu:.3}s on CPU): {:.0} samples/s, {:.2} µs of CPU a sample, {} series",
        accepted as f64 / secs,
        cpu * 1e6 / accepted as f64,
        head.num_series()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
