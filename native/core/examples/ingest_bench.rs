//! ingest_bench measures the write path (decode + validate + append) on
//! remote-write requests shaped like Prometheus's: 2000 samples per request,
//! one sample per series, 10k series scraped every 15s. Fixed inputs.
//!
//! Run: `cargo run --release -p tsdb-core --example ingest_bench`

use std::time::Instant;

use tsdb_core::head::{Head, DEFAULT_CHUNK_RANGE};
use tsdb_core::ingest::{ingest_write_request, IngestLimits};

fn varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn field(out: &mut Vec<u8>, f: u64, b: &[u8]) {
    varint(out, f << 3 | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn request(first_series: usize, n: usize, t: i64) -> Vec<u8> {
    let mut req = Vec::with_capacity(n * 128);
    for i in first_series..first_series + n {
        let mut ts = Vec::with_capacity(160);
        let labels = [
            ("__name__", format!("metric_{}", i % 100)),
            ("instance", format!("host-{}.example:9100", i / 100)),
            ("job", "node".to_string()),
            ("mode", format!("m{}", i % 7)),
        ];
        for (n, v) in &labels {
            let mut l = Vec::new();
            field(&mut l, 1, n.as_bytes());
            field(&mut l, 2, v.as_bytes());
            field(&mut ts, 1, &l);
        }
        let mut s = vec![0x09];
        s.extend_from_slice(&((t / 1000 + i as i64) as f64 * 0.5).to_le_bytes());
        s.push(0x10);
        varint(&mut s, t as u64);
        field(&mut ts, 2, &s);
        field(&mut req, 1, &ts);
    }
    req
}

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
