//! series_memory measures resident memory per head series: it creates
//! 100k series with 10 node_exporter-like labels (~220 bytes of label
//! text each), then appends 30 samples (15s apart) to every series, and
//! prints the process RSS (`VmRSS` of /proc/self/status) at each step.
//!
//! Run: `cargo run --release -p tsdb-core --example series_memory [series]`

use tsdb_core::head::{Head, MemSeries, DEFAULT_CHUNK_RANGE};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// labels are series `i`'s labels, sorted by name.
fn labels(i: usize) -> Vec<(String, String)> {
    let host = i / 1000;
    let l = vec![
        ("__name__", format!("node_cpu_seconds_total_{}", i % 10)),
        ("cluster", format!("prod-eu-west-{}", host % 3)),
        ("cpu", format!("{}", i % 64)),
        ("env", "production".to_string()),
        (
            "instance",
            format!(
                "ip-10-0-{}-{}.eu-west-1.compute.internal:9100",
                host / 256,
                host % 256
            ),
        ),
        ("job", "node-exporter".to_string()),
        ("mode", format!("mode_{}", (i / 64) % 8)),
        ("namespace", "monitoring".to_string()),
        (
            "pod",
            format!("node-exporter-{:05x}", host * 7919 % 1_048_576),
        ),
        ("region", "eu-west-1".to_string()),
    ];
    l.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let text: usize = labels(0).iter().map(|(a, b)| a.len() + b.len()).sum();
    println!(
        "size_of: MemSeries {} bytes, {n} series, ~{text} bytes of label text per series",
        std::mem::size_of::<MemSeries>()
    );
    let head = Head::new("mem", DEFAULT_CHUNK_RANGE);
    let before = rss_kib();
    let mut series = Vec::with_capacity(n);
    for i in 0..n {
        let l = labels(i);
        let borrowed: Vec<(&str, &str)> = l.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (s, _) = head.get_or_create(&borrowed);
        series.push(s.series_ref);
    }
    let created = rss_kib();
    let per = |kib: u64| kib as f64 * 1024.0 / n as f64;
    println!(
        "RSS before {before} KiB, after creating {n} series {created} KiB: {:.0} bytes/series",
        per(created - before)
    );
    let t0 = 1_700_000_000_000i64;
    for round in 0..30i64 {
        let mut app = head.appender();
        for (k, r) in series.iter().enumerate() {
            let s = head.series_by_ref(*r).expect("series");
            let t = t0 + round * 15_000;
            app.append_series(&s, [(t, (k as i64 + round) as f64 * 0.25)]);
        }
        app.commit();
    }
    let sampled = rss_kib();
    println!(
        "after 30 samples/series {sampled} KiB: {:.0} bytes/series net",
        per(sampled - before)
    );
}
