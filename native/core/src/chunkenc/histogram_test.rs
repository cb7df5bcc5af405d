//! Histogram chunks against Prometheus: `testdata/histogram_golden.json`
//! holds samples appended through Prometheus 3.x's own chunkenc appenders
//! (generator in `testdata/histogram-golden/`) and the chunk bytes they
//! produced. We append the same samples and compare every byte, then decode
//! Prometheus's chunks and compare with what was appended.

use super::float_histogram::{decode_float_histogram_chunk, FloatHistogramAppender};
use super::histogram::{decode_histogram_chunk, HistogramAppend, HistogramAppender};
use crate::model::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use serde_json::Value;

const GOLDEN: &str = include_str!("testdata/histogram_golden.json");

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn spans(v: &Value) -> Vec<Span> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| Span {
                    offset: s["offset"].as_i64().unwrap() as i32,
                    length: s["length"].as_u64().unwrap() as u32,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_i64().unwrap()).collect())
        .unwrap_or_default()
}

pub(super) fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| f64::from_bits(x.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn bits(v: &Value) -> f64 {
    f64::from_bits(v.as_u64().unwrap_or(0))
}

fn int_sample(s: &Value) -> (i64, Histogram) {
    (
        s["t"].as_i64().unwrap(),
        Histogram {
            counter_reset_hint: CounterResetHint::from_u8(s["hint"].as_u64().unwrap() as u8),
            schema: s["schema"].as_i64().unwrap() as i32,
            zero_threshold: bits(&s["zt"]),
            zero_count: s["zc"].as_u64().unwrap(),
            count: s["count"].as_u64().unwrap(),
            sum: bits(&s["sum"]),
            positive_spans: spans(&s["ps"]),
            negative_spans: spans(&s["ns"]),
            positive_buckets: ints(&s["pb"]),
            negative_buckets: ints(&s["nb"]),
            custom_values: floats(&s["cv"]),
        },
    )
}

pub(super) fn golden_cases(float: bool) -> Vec<Value> {
    let v: Value = serde_json::from_str(GOLDEN).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["float"].as_bool() == Some(float))
        .cloned()
        .collect()
}

pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// same compares histograms with NaN sums (staleness) by bits.
fn same(a: &Histogram, b: &Histogram) -> bool {
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    let (sa, sb) = (a.sum.to_bits(), b.sum.to_bits());
    a2.sum = 0.0;
    b2.sum = 0.0;
    a2.counter_reset_hint = CounterResetHint::Unknown;
    b2.counter_reset_hint = CounterResetHint::Unknown;
    sa == sb && a2 == b2
}

#[test]
fn histogram_chunks_match_prometheus() {
    let cases = golden_cases(false);
    assert!(
        cases.len() >= 20,
        "golden file has {} integer cases",
        cases.len()
    );
    let mut total_chunks = 0;
    let mut recoded = 0;
    for (ci, c) in cases.iter().enumerate() {
        let samples: Vec<(i64, Histogram)> = c["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(int_sample)
            .collect();
        let want: Vec<&str> = c["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let mut chunks: Vec<HistogramAppender> = vec![HistogramAppender::new()];
        for (t, h) in &samples {
            let cur = chunks.last_mut().unwrap();
            match cur.append(None, *t, h) {
                HistogramAppend::Appended => {}
                HistogramAppend::Recoded => recoded += 1,
                HistogramAppend::NewChunk(a) => chunks.push(a),
            }
        }
        let got: Vec<String> = chunks.iter().map(|a| hex(a.bytes())).collect();
        assert_eq!(
            got.len(),
            want.len(),
            "case {ci} {}: chunk count",
            c["name"]
        );
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "case {ci} {}: chunk {i} bytes", c["name"]);
        }
        total_chunks += got.len();

        // Prometheus's chunks decode to what was appended (bucket layouts
        // may have been widened with empty buckets, so compare counts).
        let mut decoded = Vec::new();
        for w in &want {
            decoded.extend(decode_histogram_chunk(&unhex(w)).unwrap());
        }
        assert_eq!(
            decoded.len(),
            samples.len(),
            "case {ci}: decoded sample count"
        );
        for ((t, h), (dt, dh)) in samples.iter().zip(&decoded) {
            assert_eq!(t, dt);
            if h.positive_spans == dh.positive_spans && h.negative_spans == dh.negative_spans {
                assert!(same(h, dh), "case {ci} t={t}: {h:?} vs {dh:?}");
            } else {
                assert_eq!(
                    (h.count, h.zero_count, h.sum.to_bits()),
                    (dh.count, dh.zero_count, dh.sum.to_bits())
                );
                let total = |v: &[i64]| {
                    v.iter()
                        .fold((0i64, 0i64), |(cur, tot), d| (cur + d, tot + cur + d))
                        .1
                };
                assert_eq!(
                    total(&h.positive_buckets),
                    total(&dh.positive_buckets),
                    "case {ci} t={t}"
                );
            }
        }
    }
    assert!(
        total_chunks > 50 && recoded > 0,
        "{total_chunks} chunks, {recoded} recodes"
    );
}

fn float_sample(s: &Value) -> (i64, FloatHistogram) {
    (
        s["t"].as_i64().unwrap(),
        FloatHistogram {
            counter_reset_hint: CounterResetHint::from_u8(s["hint"].as_u64().unwrap() as u8),
            schema: s["schema"].as_i64().unwrap() as i32,
            zero_threshold: bits(&s["zt"]),
            zero_count: bits(&s["fzc"]),
            count: bits(&s["fcount"]),
            sum: bits(&s["sum"]),
            positive_spans: spans(&s["ps"]),
            negative_spans: spans(&s["ns"]),
            positive_buckets: floats(&s["fpb"]),
            negative_buckets: floats(&s["fnb"]),
            custom_values: floats(&s["cv"]),
        },
    )
}

#[test]
fn float_histogram_chunks_match_prometheus() {
    let cases = golden_cases(true);
    assert!(
        cases.len() >= 10,
        "golden file has {} float cases",
        cases.len()
    );
    let mut total_chunks = 0;
    for (ci, c) in cases.iter().enumerate() {
        let samples: Vec<(i64, FloatHistogram)> = c["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(float_sample)
            .collect();
        let want: Vec<&str> = c["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let mut chunks: Vec<FloatHistogramAppender> = vec![FloatHistogramAppender::new()];
        for (t, h) in &samples {
            if let HistogramAppend::NewChunk(a) = chunks.last_mut().unwrap().append(None, *t, h) {
                chunks.push(a);
            }
        }
        let got: Vec<String> = chunks.iter().map(|a| hex(a.bytes())).collect();
        assert_eq!(got.len(), want.len(), "float case {ci}: chunk count");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "float case {ci}: chunk {i} bytes");
        }
        total_chunks += got.len();
        let mut decoded = Vec::new();
        for w in &want {
            decoded.extend(decode_float_histogram_chunk(&unhex(w)).unwrap());
        }
        assert_eq!(decoded.len(), samples.len());
        for ((t, h), (dt, dh)) in samples.iter().zip(&decoded) {
            assert_eq!(t, dt);
            assert_eq!(
                (h.count.to_bits(), h.sum.to_bits()),
                (dh.count.to_bits(), dh.sum.to_bits()),
                "float case {ci} t={t}"
            );
            let total = |v: &[f64]| v.iter().sum::<f64>();
            assert_eq!(
                total(&h.positive_buckets),
                total(&dh.positive_buckets),
                "float case {ci} t={t}"
            );
        }
    }
    assert!(total_chunks > 20, "{total_chunks} chunks");
}
