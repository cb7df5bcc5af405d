//! Tests of the remote write 2.0 decoder (`v2.rs`) with hand-built
//! messages, and of its ingestion (created timestamps, histograms).

use super::*;
use crate::head::{Head, DEFAULT_CHUNK_RANGE};
use crate::ingest::{ingest_write_request_v2_logged, IngestLimits};

use super::test_encode::{put_bytes, put_int, put_key, put_varint, sample};

fn packed(refs: &[u64]) -> Vec<u8> {
    let mut b = Vec::new();
    for r in refs {
        put_varint(&mut b, *r);
    }
    b
}

/// Ts builds one `TimeSeries`.
#[derive(Default, Clone)]
struct Ts {
    refs: Vec<u64>,
    samples: Vec<(f64, i64)>,
    histograms: usize,
    exemplars: Vec<Vec<u64>>,
    /// (type, help_ref, unit_ref)
    metadata: Option<(u64, u64, u64)>,
    created: i64,
}

impl Ts {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        // Metadata first on purpose: it must not depend on field order.
        if let Some((t, h, u)) = self.metadata {
            let mut m = Vec::new();
            put_int(&mut m, 1, t as i64);
            put_int(&mut m, 3, h as i64);
            put_int(&mut m, 4, u as i64);
            put_bytes(&mut b, 5, &m);
        }
        put_bytes(&mut b, 1, &packed(&self.refs));
        for (v, t) in &self.samples {
            put_bytes(&mut b, 2, &sample(*v, *t));
        }
        for _ in 0..self.histograms {
            let mut h = Vec::new();
            put_int(&mut h, 1, 3); // count_int
            put_int(&mut h, 6, 3); // zero_count_int: a valid histogram
            put_int(&mut h, 15, 1000); // timestamp
            put_bytes(&mut b, 3, &h);
        }
        for refs in &self.exemplars {
            let mut e = Vec::new();
            put_bytes(&mut e, 1, &packed(refs));
            put_key(&mut e, 2, 1);
            e.extend_from_slice(&1.5f64.to_le_bytes());
            put_int(&mut e, 3, 1000);
            put_bytes(&mut b, 4, &e);
        }
        if self.created != 0 {
            put_int(&mut b, 6, self.created);
        }
        b
    }
}

fn request(symbols: &[&str], series: &[Ts]) -> Vec<u8> {
    let mut b = Vec::new();
    for s in symbols {
        put_bytes(&mut b, 4, s.as_bytes());
    }
    for ts in series {
        put_bytes(&mut b, 5, &ts.encode());
    }
    b
}

const SYMS: &[&str] = &[
    "",                    // 0
    "__name__",            // 1
    "http_requests_total", // 2
    "job",                 // 3
    "api",                 // 4
    "Requests served.",    // 5
    "requests",            // 6
    "trace_id",            // 7
    "abc",                 // 8
    "latency_bucket",      // 9
    "le",                  // 10
    "0.5",                 // 11
    "latency_count",       // 12
];

fn err_of(body: &[u8]) -> String {
    decode_write_request_v2(body)
        .unwrap_err()
        .message()
        .to_string()
}

#[test]
fn decodes_series_metadata_and_counts() {
    let counter = Ts {
        refs: vec![1, 2, 3, 4],
        samples: vec![(1.0, 1000), (2.0, 2000)],
        exemplars: vec![vec![7, 8], vec![]],
        metadata: Some((1, 5, 6)),
        created: 500,
        ..Ts::default()
    };
    let bucket = Ts {
        refs: vec![1, 9, 10, 11],
        samples: vec![(3.0, 1000)],
        metadata: Some((3, 5, 0)),
        ..Ts::default()
    };
    // Same family as `bucket` once `_count` is cut: only the first is kept.
    let count = Ts {
        refs: vec![1, 12],
        samples: vec![(4.0, 1000)],
        metadata: Some((3, 0, 0)),
        ..Ts::default()
    };
    let native = Ts {
        refs: vec![1, 2, 3, 4],
        histograms: 2,
        metadata: Some((0, 0, 0)),
        ..Ts::default()
    };
    let body = request(SYMS, &[counter, bucket, count, native]);
    let r = decode_write_request_v2(&body).unwrap();
    let req = &r.request;
    assert_eq!(req.series.len(), 4);
    let s0 = req.series(0);
    assert_eq!(
        s0.labels,
        &[("__name__", "http_requests_total"), ("job", "api")]
    );
    assert_eq!(
        s0.samples,
        &[
            Sample {
                timestamp_ms: 1000,
                value: 1.0,
                ..Sample::default()
            },
            Sample {
                timestamp_ms: 2000,
                value: 2.0,
                ..Sample::default()
            }
        ]
    );
    assert_eq!((s0.exemplars, s0.histograms), (2, 0));
    assert_eq!(
        req.series(1).labels,
        &[("__name__", "latency_bucket"), ("le", "0.5")]
    );
    assert_eq!(req.series(3).samples.len(), 0);
    assert_eq!(req.series(3).histograms, 2);
    assert_eq!(req.total_samples(), 4);
    assert_eq!(req.total_histograms(), 2);
    assert_eq!(req.total_exemplars(), 2);
    assert_eq!(
        req.metadata,
        vec![
            MetadataView {
                metric_type: 1,
                metric_family_name: "http_requests_total",
                help: "Requests served.",
                unit: "requests",
            },
            MetadataView {
                metric_type: 3,
                metric_family_name: "latency",
                help: "Requests served.",
                unit: "",
            },
        ]
    );
    assert_eq!(r.request.created_timestamps.len(), 1);
    assert_eq!(r.request.created_timestamps.get(0), Some(500));
    assert_eq!(r.request.created_timestamps.get(2), None);
}

#[test]
fn symbols_may_follow_series_and_refs_may_be_unpacked() {
    let mut ts = Vec::new();
    for r in [1u64, 2] {
        put_int(&mut ts, 1, r as i64); // unpacked labels_refs
    }
    put_bytes(&mut ts, 2, &sample(7.0, 10));
    let mut body = Vec::new();
    put_bytes(&mut body, 5, &ts);
    put_int(&mut body, 2, 1); // Mimir's Source
    for s in ["", "__name__", "up"] {
        put_bytes(&mut body, 4, s.as_bytes());
    }
    let r = decode_write_request_v2(&body).unwrap();
    assert_eq!(r.request.series(0).labels, &[("__name__", "up")]);
    assert!(r.request.metadata.is_empty());
    assert!(r.request.created_timestamps.is_empty());
}

#[test]
fn empty_request_is_valid() {
    let r = decode_write_request_v2(&[]).unwrap();
    assert!(r.request.series.is_empty());
}

#[test]
fn reference_errors_have_mimirs_texts() {
    let with = |ts: Ts| request(SYMS, &[ts]);
    let bad_label = Ts {
        refs: vec![1, 99],
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(bad_label)),
        "proto: Remote Write 2.0 invalid label reference"
    );
    let odd = Ts {
        refs: vec![1, 2, 3],
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(odd)),
        "proto: Remote Write 2.0 odd number of label references"
    );
    let huge = Ts {
        refs: vec![1, u64::MAX],
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(huge)),
        "proto: Remote Write 2.0 invalid label reference"
    );
    let help = Ts {
        refs: vec![1, 2],
        metadata: Some((1, 13, 0)),
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(help)),
        "proto: Remote Write 2.0 invalid help reference"
    );
    let unit = Ts {
        refs: vec![1, 2],
        metadata: Some((1, 0, 100)),
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(unit)),
        "proto: Remote Write 2.0 invalid unit reference"
    );
    let ex = Ts {
        refs: vec![1, 2],
        exemplars: vec![vec![7, 50]],
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(ex)),
        "proto: Remote Write 2.0 invalid exemplar label reference"
    );
    let ex_odd = Ts {
        refs: vec![1, 2],
        exemplars: vec![vec![7]],
        ..Ts::default()
    };
    assert_eq!(
        err_of(&with(ex_odd)),
        "proto: Remote Write 2.0 odd number of exemplar label references"
    );
    // References into an empty table.
    assert_eq!(
        err_of(&request(
            &[],
            &[Ts {
                refs: vec![0, 0],
                ..Ts::default()
            }]
        )),
        "proto: Remote Write 2.0 invalid label reference"
    );
}

#[test]
fn message_level_errors() {
    assert_eq!(
        err_of(&request(&["__name__", "up"], &[])),
        "proto: Remote Write 2.0 symbols must start with empty string"
    );
    // A 1.0 WriteRequest sent as 2.0.
    let mut rw1 = Vec::new();
    put_bytes(&mut rw1, 1, b"");
    assert_eq!(
        err_of(&rw1),
        "proto: Remote Write 1.0 field Timeseries in non-Remote Write 1.0 message"
    );
    let mut md = Vec::new();
    put_bytes(&mut md, 3, b"");
    assert_eq!(
        err_of(&md),
        "proto: Remote Write 1.0 field Metadata in non-Remote Write 1.0 message"
    );
    let mut wt = Vec::new();
    put_int(&mut wt, 4, 1);
    assert_eq!(err_of(&wt), "proto: wrong wireType = 0 for field Symbols");
    let mut ts = Vec::new();
    put_bytes(&mut ts, 2, b"\x09\x00");
    let mut body = Vec::new();
    put_bytes(&mut body, 5, &ts);
    assert_eq!(err_of(&body), "unexpected EOF");
    let mut bad_utf8 = Vec::new();
    put_bytes(&mut bad_utf8, 4, b"");
    put_bytes(&mut bad_utf8, 4, b"\xff");
    assert_eq!(
        err_of(&bad_utf8),
        "proto: WriteRequest: invalid UTF-8 in field Symbols"
    );
    let mut ts_wt = Vec::new();
    put_key(&mut ts_wt, 1, 5);
    ts_wt.extend_from_slice(&[0, 0, 0, 0]);
    let mut body = Vec::new();
    put_bytes(&mut body, 5, &ts_wt);
    assert_eq!(
        err_of(&body),
        "proto: wrong wireType = 5 for field LabelsRefs"
    );
    let mut end_group = Vec::new();
    put_key(&mut end_group, 7, 4);
    let mut body = Vec::new();
    put_bytes(&mut body, 5, &end_group);
    assert_eq!(
        err_of(&body),
        "proto: TimeSeriesRW2: wiretype end group for non-group"
    );
}

#[test]
fn every_truncation_fails_cleanly() {
    let full = request(
        SYMS,
        &[
            Ts {
                refs: vec![1, 2, 3, 4],
                samples: vec![(1.0, 1000)],
                exemplars: vec![vec![7, 8]],
                metadata: Some((1, 5, 6)),
                created: 5,
                histograms: 1,
            },
            Ts {
                refs: vec![1, 9],
                samples: vec![(2.0, 1000)],
                ..Ts::default()
            },
        ],
    );
    assert!(decode_write_request_v2(&full).is_ok());
    for n in 0..full.len() {
        // Either an error or (at a field boundary) a shorter valid request;
        // never a panic.
        let _ = decode_write_request_v2(&full[..n]);
    }
    // Flipping bytes must not panic either.
    for i in 0..full.len() {
        let mut b = full.clone();
        b[i] ^= 0xa5;
        let _ = decode_write_request_v2(&b);
    }
}

#[test]
fn family_names() {
    assert_eq!(metric_family_name("a_total", 1), "a_total");
    assert_eq!(metric_family_name("a_bucket", 3), "a");
    assert_eq!(metric_family_name("a_count", 3), "a");
    assert_eq!(metric_family_name("a_sum", 5), "a");
    assert_eq!(metric_family_name("a_bucket", 5), "a_bucket");
    assert_eq!(metric_family_name("a_gsum", 4), "a");
    assert_eq!(metric_family_name("target_info", 6), "target_info");
    assert_eq!(metric_family_name("a_count", 0), "a_count");
}

// ---- ingestion of 2.0 requests ----

const NOW: i64 = 1_700_000_000_000;

fn limits() -> IngestLimits {
    IngestLimits {
        now_ms: NOW,
        ..IngestLimits::default()
    }
}

fn samples_of(h: &Head, name: &str) -> Vec<(i64, f64)> {
    use crate::index::{MatchType, Matcher};
    let m = vec![vec![
        Matcher::new(MatchType::Equal, "__name__", name).unwrap()
    ]];
    let sel = h.select_samples(&m, i64::MIN, i64::MAX, 0).unwrap();
    sel.timestamps
        .iter()
        .zip(&sel.values)
        .map(|(t, v)| (*t as i64, *v))
        .collect()
}

#[test]
fn created_timestamp_becomes_a_zero_sample() {
    let h = Head::new("v2-ct", DEFAULT_CHUNK_RANGE);
    let syms = ["", "__name__", "c_total", "job", "a"];
    let ts = |samples: Vec<(f64, i64)>, created: i64| Ts {
        refs: vec![1, 2, 3, 4],
        samples,
        created,
        ..Ts::default()
    };
    let r = ingest_write_request_v2_logged(
        &h,
        None,
        &request(&syms, &[ts(vec![(5.0, NOW - 1000)], NOW - 60_000)]),
        &limits(),
    );
    assert_eq!(r.error_status, None, "{:?}", r.error_message);
    assert_eq!(
        (r.samples, r.accepted_samples),
        (1, 1),
        "zero sample not counted"
    );
    assert_eq!(
        samples_of(&h, "c_total"),
        vec![(NOW - 60_000, 0.0), (NOW - 1000, 5.0)]
    );
    // The same created timestamp again is now in the past of the series:
    // dropped without an error.
    let r = ingest_write_request_v2_logged(
        &h,
        None,
        &request(&syms, &[ts(vec![(6.0, NOW)], NOW - 60_000)]),
        &limits(),
    );
    assert_eq!((r.error_status, r.accepted_samples), (None, 1));
    // Not before the first sample: ignored.
    let r = ingest_write_request_v2_logged(
        &h,
        None,
        &request(&syms, &[ts(vec![(7.0, NOW + 1000)], NOW + 1000)]),
        &limits(),
    );
    assert_eq!((r.error_status, r.accepted_samples), (None, 1));
    assert_eq!(samples_of(&h, "c_total").len(), 4);
}

#[test]
fn histograms_are_stored() {
    let h = Head::new("v2-hist", DEFAULT_CHUNK_RANGE);
    let syms = ["", "__name__", "h", "f"];
    let body = request(
        &syms,
        &[
            Ts {
                refs: vec![1, 2],
                histograms: 3,
                ..Ts::default()
            },
            Ts {
                refs: vec![1, 3],
                samples: vec![(1.0, NOW)],
                ..Ts::default()
            },
        ],
    );
    let r = ingest_write_request_v2_logged(&h, None, &body, &limits());
    assert_eq!(r.error_status, None);
    assert_eq!((r.series, r.samples, r.histograms), (2, 1, 3));
    // The three histograms share a time: the first is stored, the others
    // dropped within the batch (as Prometheus's commit drops them).
    assert_eq!(
        (r.accepted_samples, r.accepted_histograms, r.created_series),
        (1, 1, 2)
    );
    assert_eq!(h.num_series(), 2, "a histogram-only series is created");
}

#[test]
fn invalid_histograms_answer_400_and_keep_the_rest() {
    let h = Head::new("v2-hist-bad", DEFAULT_CHUNK_RANGE);
    let syms = ["", "__name__", "h", "f"];
    let mut body = request(
        &syms,
        &[Ts {
            refs: vec![1, 3],
            samples: vec![(1.0, NOW)],
            ..Ts::default()
        }],
    );
    // A second series with a histogram whose buckets do not add up.
    let mut ts = Vec::new();
    put_bytes(&mut ts, 1, &packed(&[1, 2]));
    let mut hist = Vec::new();
    put_int(&mut hist, 1, 5); // count_int
    put_int(&mut hist, 6, 1); // zero_count_int
    put_int(&mut hist, 15, 1000);
    put_bytes(&mut ts, 3, &hist);
    put_bytes(&mut body, 5, &ts);
    let r = ingest_write_request_v2_logged(&h, None, &body, &limits());
    assert_eq!(r.error_status, Some(400));
    assert_eq!(
        r.error_message.as_deref(),
        Some("err: 1 observations found in buckets, but the Count field is 5: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN). timestamp=1970-01-01T00:00:01Z, series=h (err-mimir-native-histogram-count-mismatch)")
    );
    assert_eq!(r.discarded, vec![("native_histogram_count_mismatch", 1)]);
    assert_eq!(
        r.accepted_samples, 1,
        "the float sample of the other series is kept"
    );
}

#[test]
fn invalid_series_keep_the_rest_and_bad_refs_fail_all() {
    let h = Head::new("v2-partial", DEFAULT_CHUNK_RANGE);
    let syms = ["", "__name__", "ok", "job", "x"];
    let body = request(
        &syms,
        &[
            Ts {
                refs: vec![3, 4],
                samples: vec![(1.0, NOW)],
                ..Ts::default()
            },
            Ts {
                refs: vec![1, 2],
                samples: vec![(1.0, NOW)],
                ..Ts::default()
            },
        ],
    );
    let r = ingest_write_request_v2_logged(&h, None, &body, &limits());
    assert_eq!(r.error_status, Some(400));
    assert_eq!(r.accepted_samples, 1);
    assert_eq!(r.discarded, vec![("missing_metric_name", 1)]);
    assert_eq!(h.num_series(), 1);

    let bad = request(
        &syms,
        &[
            Ts {
                refs: vec![1, 2],
                samples: vec![(2.0, NOW + 1)],
                ..Ts::default()
            },
            Ts {
                refs: vec![1, 40],
                samples: vec![(1.0, NOW)],
                ..Ts::default()
            },
        ],
    );
    let r = ingest_write_request_v2_logged(&h, None, &bad, &limits());
    assert_eq!(r.error_status, Some(400));
    assert_eq!(
        r.error_message.as_deref(),
        Some("proto: Remote Write 2.0 invalid label reference")
    );
    assert_eq!(r.accepted_samples, 0);
    assert_eq!(samples_of(&h, "ok"), vec![(NOW, 1.0)]);
}

#[test]
fn sample_start_timestamps_are_stored() {
    use crate::index::{MatchType, Matcher};
    let h = Head::new("v2-st", DEFAULT_CHUNK_RANGE);
    let syms = ["", "__name__", "c_total", "job", "a"];
    let mut series = Vec::new();
    put_bytes(&mut series, 1, &packed(&[1, 2, 3, 4]));
    for (v, t, st) in [
        (5.0, NOW - 2000, NOW - 60_000),
        (6.0, NOW - 1000, NOW - 60_000),
        (1.0, NOW, NOW - 500),
    ] {
        let mut s = sample(v, t);
        put_int(&mut s, 3, st);
        put_bytes(&mut series, 2, &s);
    }
    let mut body = Vec::new();
    for s in syms {
        put_bytes(&mut body, 4, s.as_bytes());
    }
    put_bytes(&mut body, 5, &series);
    let r = ingest_write_request_v2_logged(&h, None, &body, &limits());
    assert_eq!(
        (r.error_status, r.accepted_samples),
        (None, 3),
        "{:?}",
        r.error_message
    );
    let m = vec![vec![
        Matcher::new(MatchType::Equal, "__name__", "c_total").unwrap()
    ]];
    let sel = h.select_samples(&m, i64::MIN, i64::MAX, 0).unwrap();
    assert_eq!(
        sel.start_timestamps,
        Some(vec![
            (NOW - 60_000) as f64,
            (NOW - 60_000) as f64,
            (NOW - 500) as f64
        ])
    );
}
