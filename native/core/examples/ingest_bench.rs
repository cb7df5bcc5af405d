//! ingest_bench measures the write path (decode + validate + append) on
//! remote-write requests shaped like Prometheus's: 2000 samples per request,
//! one sample per series, 10k series scraped every 15s. Fixed inputs.
//!
//! Run: `cargo run --release -p tsdb-core --example ingest_bench`

use std::time::Instant;

#[path = "common/remote_write.rs"]
mod remote_write;
use remote_write::request;

use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request, IngestLimits};

fn main() {
    let series = 10_000;
    let per_req = 2_000;
    let scrapes = 120;
    let t0 = 1_700_000_000_000i64;
    let mut reqs = Vec::new();
    for k in 0..scrapes {
        for start in (0..series).step_by(per_req) {
            reqs.push((
                t0 + k as i64 * 15_000,
                request(start, per_req, t0 + k as i64 * 15_000),
            ));
        }
    }
    // Decode + validation alone, for the breakdown.
    let started = Instant::now();
    let mut n = 0usize;
    for (t, body) in &reqs {
        let mut req = tsdb_core::remote::decode_write_request(body).expect("decode");
        req.sort_and_filter_labels();
        let limits = tsdb_core::remote::ValidationLimits::default();
        for i in 0..req.series.len() {
            n += usize::from(
                tsdb_core::remote::validate_series(&req.series(i), &limits, *t).is_ok(),
            );
        }
    }
    println!(
        "decode+validate only: {:.3}s ({n} series ok)",
        started.elapsed().as_secs_f64()
    );

    let head = Head::new("bench", DEFAULT_CHUNK_RANGE);
    let started = Instant::now();
    let mut accepted = 0u64;
    for (t, body) in &reqs {
        let r = ingest_write_request(
            &head,
            body,
            &IngestLimits {
                now_ms: *t,
                ..IngestLimits::default()
            },
        );
        accepted += u64::from(r.accepted_samples);
    }
    let secs = started.elapsed().as_secs_f64();
    let bytes: usize = reqs.iter().map(|r| r.1.len()).sum();
    println!(
        "{accepted} samples in {secs:.3}s: {:.0} samples/s ({:.1} MB/s of protobuf), {} series",
        accepted as f64 / secs,
        bytes as f64 / secs / 1e6,
        head.num_series()
    );
}
