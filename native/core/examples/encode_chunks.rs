//! encode_chunks cuts and encodes one series' samples as the head does and
//! prints each chunk as hex, one per line. Used to compare our chunks with
//! the ones Prometheus writes (see docs/format/xor-chunk.md).
//!
//! Input on stdin: one sample per line, `<timestamp ms> <value bits as hex>`.
//! Argument: chunk range in ms (default 7200000).

use std::io::{BufRead, Write};

fn main() {
    let range: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7_200_000);
    let mut ts = Vec::new();
    let mut vs = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read stdin");
        let mut it = line.split_whitespace();
        let (Some(t), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        ts.push(t.parse::<i64>().expect("timestamp"));
        vs.push(f64::from_bits(
            u64::from_str_radix(v, 16).expect("value bits"),
        ));
    }
    let out = std::io::stdout();
    let mut out = out.lock();
    for c in tsdb_core::head::encode_chunks(&ts, &vs, range) {
        let hex: String = c.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(out, "{hex}").expect("write stdout");
    }
}
