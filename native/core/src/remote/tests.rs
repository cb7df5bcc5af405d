use super::*;

use super::test_encode::{label, put_bytes, put_double, put_int, put_key, put_varint, sample};

/// series encodes a `TimeSeries` with `(value, t)` samples.
fn series(labels: &[(&str, &str)], samples: &[(f64, i64)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in labels {
        put_bytes(&mut b, 1, &label(n, v));
    }
    for (v, t) in samples {
        put_bytes(&mut b, 2, &sample(*v, *t));
    }
    b
}

fn request(series_list: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    for s in series_list {
        put_bytes(&mut b, 1, s);
    }
    b
}

/// Unknown fields of every wire type, groups included, for field `f`.
fn unknown_fields(out: &mut Vec<u8>, f: u64) {
    put_int(out, f, 300); // varint
    put_double(out, f + 1, 1.5); // fixed64
    put_bytes(out, f + 2, b"junk"); // length-delimited
    put_key(out, f + 3, 5); // fixed32
    out.extend_from_slice(&[1, 2, 3, 4]);
    put_key(out, f + 4, 3); // group with a nested varint and nested group
    put_int(out, 1, 7);
    put_key(out, 2, 3);
    put_key(out, 2, 4);
    put_key(out, f + 4, 4);
}

/// A request with every known construct; returns it with the offsets at
/// which a prefix is itself a complete message (top-level field ends).
fn rich_request() -> (Vec<u8>, Vec<usize>) {
    let mut s1 = Vec::new();
    put_bytes(&mut s1, 2, &sample(1.0, 1000)); // sample before labels
    put_bytes(&mut s1, 1, &label("__name__", "up"));
    unknown_fields(&mut s1, 20);
    put_bytes(&mut s1, 1, &label("job", "node"));
    put_bytes(&mut s1, 2, &sample(2.5, 2000));
    let mut ex = Vec::new();
    put_bytes(&mut ex, 1, &label("trace_id", "abc"));
    put_double(&mut ex, 2, 9.0);
    put_int(&mut ex, 3, 1500);
    put_bytes(&mut s1, 3, &ex);
    put_bytes(&mut s1, 3, &ex);
    put_bytes(&mut s1, 4, b"\x08\x01"); // opaque histogram
    let s2 = series(&[("__name__", "x"), ("a", "é")], &[(f64::NAN, -5)]);
    let mut md = Vec::new();
    put_int(&mut md, 1, 1);
    put_bytes(&mut md, 2, b"up");
    unknown_fields(&mut md, 10);
    put_bytes(&mut md, 4, b"help text");
    put_bytes(&mut md, 5, b"seconds");

    let mut b = Vec::new();
    let mut ends = vec![0];
    put_bytes(&mut b, 1, &s1);
    ends.push(b.len());
    unknown_fields(&mut b, 40);
    // each unknown field ends a complete prefix; recompute by re-encoding
    let mut at = ends[1];
    for part in [
        {
            let mut p = Vec::new();
            put_int(&mut p, 40, 300);
            p
        },
        {
            let mut p = Vec::new();
            put_double(&mut p, 41, 1.5);
            p
        },
        {
            let mut p = Vec::new();
            put_bytes(&mut p, 42, b"junk");
            p
        },
        {
            let mut p = Vec::new();
            put_key(&mut p, 43, 5);
            p.extend_from_slice(&[1, 2, 3, 4]);
            p
        },
    ] {
        at += part.len();
        ends.push(at);
    }
    ends.push(b.len()); // after the group
    put_int(&mut b, 2, 1); // Mimir's Source
    ends.push(b.len());
    put_bytes(&mut b, 3, &md);
    ends.push(b.len());
    put_bytes(&mut b, 1, &s2);
    ends.push(b.len());
    put_int(&mut b, 1000, 1); // Mimir's skip_label_validation
    ends.push(b.len());
    (b, ends)
}

// ---- decoding ----

#[test]
fn decodes_rich_request() {
    let (buf, _) = rich_request();
    let req = decode_write_request(&buf).unwrap();
    assert_eq!(req.series.len(), 2);
    let s = req.series(0);
    assert_eq!(s.labels, &[("__name__", "up"), ("job", "node")]);
    assert_eq!(
        s.samples,
        &[
            Sample {
                timestamp_ms: 1000,
                value: 1.0,
                ..Sample::default()
            },
            Sample {
                timestamp_ms: 2000,
                value: 2.5,
                ..Sample::default()
            }
        ]
    );
    assert_eq!((s.exemplars, s.histograms), (2, 1));
    assert_eq!(s.exemplar_list.len(), 2);
    for ex in s.exemplar_list {
        assert_eq!((ex.value, ex.timestamp_ms), (9.0, 1500));
        assert_eq!(req.exemplar_labels_of(ex), &[("trace_id", "abc")]);
    }
    assert_eq!(req.exemplar_range(0), 0..2);
    assert_eq!(req.exemplar_range(1), 2..2);
    let s = req.series(1);
    assert!(s.exemplar_list.is_empty());
    assert_eq!(s.labels, &[("__name__", "x"), ("a", "é")]);
    assert_eq!(s.samples.len(), 1);
    assert!(s.samples[0].value.is_nan());
    assert_eq!(s.samples[0].timestamp_ms, -5);
    assert_eq!(req.total_samples(), 3);
    assert_eq!(req.total_exemplars(), 2);
    assert_eq!(req.total_histograms(), 1);
    assert_eq!(
        req.metadata,
        vec![MetadataView {
            metric_type: 1,
            metric_family_name: "up",
            help: "help text",
            unit: "seconds"
        }]
    );
    assert_eq!(req.metadata[0].type_name(), "counter");
    // zero copy: label strings point into the buffer
    let range = buf.as_ptr_range();
    assert!(range.contains(&req.series(0).labels[1].1.as_ptr()));
}

#[test]
fn empty_and_default_fields() {
    let req = decode_write_request(&[]).unwrap();
    assert!(req.series.is_empty() && req.metadata.is_empty());
    // a series with an empty label message and an empty sample message
    let mut s = Vec::new();
    put_bytes(&mut s, 1, &[]);
    put_bytes(&mut s, 2, &[]);
    let buf = request(&[s]);
    let req = decode_write_request(&buf).unwrap();
    assert_eq!(req.series(0).labels, &[("", "")]);
    assert_eq!(req.series(0).samples, &[Sample::default()]);
}

#[test]
fn last_field_occurrence_wins_in_label() {
    let mut l = label("a", "1");
    put_bytes(&mut l, 2, b"2");
    let mut s = Vec::new();
    put_bytes(&mut s, 1, &l);
    let buf = request(&[s]);
    assert_eq!(
        decode_write_request(&buf).unwrap().series(0).labels,
        &[("a", "2")]
    );
}

#[test]
fn scratch_is_reused() {
    let (buf, _) = rich_request();
    let mut scratch = DecodeScratch::default();
    let req = decode_write_request_with(&buf, &mut scratch).unwrap();
    let cap = req.samples.capacity();
    scratch = req.into_scratch();
    let buf2 = request(&[series(&[("__name__", "m")], &[(1.0, 1)])]);
    let req = decode_write_request_with(&buf2, &mut scratch).unwrap();
    assert_eq!(req.series.len(), 1);
    assert_eq!(req.samples.len(), 1);
    assert_eq!(req.samples.capacity(), cap);
    assert_eq!(req.series(0).labels, &[("__name__", "m")]);
    // an error leaves the allocations in the scratch
    scratch = req.into_scratch();
    assert!(decode_write_request_with(&[0x0a, 0x05], &mut scratch).is_err());
    let req = decode_write_request_with(&buf2, &mut scratch).unwrap();
    assert_eq!(req.samples.capacity(), cap);
}

fn err(buf: &[u8]) -> String {
    decode_write_request(buf).unwrap_err().message().to_string()
}

#[test]
fn decode_error_texts() {
    // varint running past the end
    assert_eq!(err(&[0x0a, 0x80]), "unexpected EOF");
    // eleven-byte varint
    let mut b = vec![0x0a];
    b.extend_from_slice(&[0xff; 10]);
    b.push(0x01);
    assert_eq!(err(&b), "proto: integer overflow");
    // length past the end
    assert_eq!(err(&[0x0a, 0x05, 0x00]), "unexpected EOF");
    // negative length (top bit set)
    let mut b = vec![0x0a];
    put_varint(&mut b, u64::MAX);
    assert_eq!(err(&b), "proto: negative length found during unmarshaling");
    // wrong wire type for known fields
    assert_eq!(
        err(&[0x08, 0x01]),
        "proto: wrong wireType = 0 for field Timeseries"
    );
    assert_eq!(
        err(&[0x1d, 0, 0, 0, 0]),
        "proto: wrong wireType = 5 for field Metadata"
    );
    let mut s = Vec::new();
    put_int(&mut s, 1, 1);
    assert_eq!(
        err(&request(&[s])),
        "proto: wrong wireType = 0 for field Labels"
    );
    let mut smp = Vec::new();
    put_int(&mut smp, 1, 1);
    let mut s = Vec::new();
    put_bytes(&mut s, 2, &smp);
    assert_eq!(
        err(&request(&[s])),
        "proto: wrong wireType = 0 for field Value"
    );
    let mut smp = Vec::new();
    put_double(&mut smp, 2, 1.0);
    let mut s = Vec::new();
    put_bytes(&mut s, 2, &smp);
    assert_eq!(
        err(&request(&[s])),
        "proto: wrong wireType = 1 for field TimestampMs"
    );
    let mut l = Vec::new();
    put_int(&mut l, 2, 1);
    let mut s = Vec::new();
    put_bytes(&mut s, 1, &l);
    assert_eq!(
        err(&request(&[s])),
        "proto: wrong wireType = 0 for field Value"
    );
    assert_eq!(
        err(&[0x11, 0, 0, 0, 0, 0, 0, 0, 0]),
        "proto: wrong wireType = 1 for field Source"
    );
    // illegal tag 0
    assert_eq!(
        err(&[0x00, 0x01]),
        "proto: WriteRequest: illegal tag 0 (wire type 0)"
    );
    let s = vec![0x02];
    assert_eq!(
        err(&request(&[s])),
        "proto: TimeSeries: illegal tag 0 (wire type 2)"
    );
    // end group where no group is open
    assert_eq!(
        err(&[0x0c]),
        "proto: WriteRequest: wiretype end group for non-group"
    );
    // unknown field: bad wire types, unterminated group, stray end group
    assert_eq!(err(&[0x2e]), "proto: illegal wireType 6");
    assert_eq!(err(&[0x2f]), "proto: illegal wireType 7");
    assert_eq!(err(&[0x2b, 0x08, 0x01]), "unexpected EOF");
    assert_eq!(
        err(&[0x2b, 0x2c, 0x2c]),
        "proto: WriteRequest: wiretype end group for non-group"
    );
    assert_eq!(
        err(&[0x2b, 0x2c, 0x2b, 0x0c, 0x0c]),
        "proto: WriteRequest: wiretype end group for non-group"
    );
    // unknown fixed fields past the end
    assert_eq!(err(&[0x29, 0, 0, 0]), "unexpected EOF");
    assert_eq!(err(&[0x2d, 0, 0]), "unexpected EOF");
    // invalid UTF-8
    let mut s = Vec::new();
    let mut l = Vec::new();
    put_bytes(&mut l, 1, b"a");
    put_bytes(&mut l, 2, b"\xff\xfe");
    put_bytes(&mut s, 1, &l);
    assert_eq!(
        err(&request(&[s])),
        "proto: LabelPair: invalid UTF-8 in field Value"
    );
    let mut s = Vec::new();
    put_bytes(&mut s, 1, &label_bytes(b"\xc3", b"v"));
    assert_eq!(
        err(&request(&[s])),
        "proto: LabelPair: invalid UTF-8 in field Name"
    );
    let mut md = Vec::new();
    put_bytes(&mut md, 4, b"\x80");
    let mut b = Vec::new();
    put_bytes(&mut b, 3, &md);
    assert_eq!(
        err(&b),
        "proto: MetricMetadata: invalid UTF-8 in field Help"
    );
    // exemplars are checked for well-formedness
    let mut ex = Vec::new();
    put_int(&mut ex, 2, 1);
    let mut s = Vec::new();
    put_bytes(&mut s, 3, &ex);
    assert_eq!(
        err(&request(&[s])),
        "proto: wrong wireType = 0 for field Value"
    );
    // Display matches message()
    let e = decode_write_request(&[0x0a, 0x80]).unwrap_err();
    assert_eq!(e.to_string(), "unexpected EOF");
}

fn label_bytes(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    put_bytes(&mut b, 1, name);
    put_bytes(&mut b, 2, value);
    b
}

#[test]
fn group_in_unknown_field_is_skipped() {
    let mut b = Vec::new();
    put_key(&mut b, 9, 3);
    put_bytes(&mut b, 1, b"inside");
    put_key(&mut b, 9, 4);
    put_bytes(&mut b, 1, &series(&[("__name__", "m")], &[]));
    let req = decode_write_request(&b).unwrap();
    assert_eq!(req.series.len(), 1);
}

#[test]
fn every_truncation_errors_and_never_panics() {
    let (buf, ends) = rich_request();
    assert_eq!(*ends.last().unwrap(), buf.len());
    for n in 0..buf.len() {
        let r = decode_write_request(&buf[..n]);
        if ends.contains(&n) {
            assert!(
                r.is_ok(),
                "prefix {n} ends a top-level field and must decode"
            );
        } else {
            assert!(r.is_err(), "prefix {n} of {} decoded", buf.len());
        }
    }
    // truncating an embedded message (shrinking its length too) also fails
    let s = series(&[("__name__", "up"), ("job", "node")], &[(1.0, 1000)]);
    for n in 0..s.len() {
        // inner cuts may land on inner field boundaries: must simply not panic
        let _ = decode_write_request(&request(&[s[..n].to_vec()])).is_ok();
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut buf = Vec::new();
    for _ in 0..20_000 {
        buf.clear();
        let len = (rng.next() % 64) as usize;
        for _ in 0..len {
            buf.push(rng.next() as u8);
        }
        let _ = decode_write_request(&buf);
    }
    // mutations of a valid request
    let (base, _) = rich_request();
    for _ in 0..20_000 {
        let mut b = base.clone();
        for _ in 0..1 + rng.next() % 4 {
            let i = (rng.next() as usize) % b.len();
            b[i] = rng.next() as u8;
        }
        if let Ok(req) = decode_write_request(&b) {
            for s in req.iter_series() {
                let _ = validate_series(&s, &ValidationLimits::default(), 0);
            }
        }
    }
}

// ---- normalisation ----

#[test]
fn sort_and_filter_labels_like_mimir() {
    let buf = request(&[
        series(
            &[("job", "a"), ("__name__", "m"), ("empty", ""), ("b", "x")],
            &[(1.0, 1)],
        ),
        series(&[("only", "")], &[(1.0, 1)]),
        series(&[("__name__", "n")], &[]),
    ]);
    let mut req = decode_write_request(&buf).unwrap();
    assert_eq!(req.sort_and_filter_labels(), 1);
    assert_eq!(req.series.len(), 2);
    assert_eq!(
        req.series(0).labels,
        &[("__name__", "m"), ("b", "x"), ("job", "a")]
    );
    assert_eq!(req.series(1).labels, &[("__name__", "n")]);
}

#[test]
fn dedupe_keeps_first_sample_per_timestamp() {
    let buf = request(&[series(
        &[("__name__", "m")],
        &[(1.0, 5), (2.0, 3), (3.0, 5), (4.0, 3), (5.0, 9)],
    )]);
    let mut req = decode_write_request(&buf).unwrap();
    assert_eq!(req.dedupe_sample_timestamps(0), 2);
    let got: Vec<_> = req
        .series(0)
        .samples
        .iter()
        .map(|s| (s.value, s.timestamp_ms))
        .collect();
    assert_eq!(got, vec![(1.0, 5), (2.0, 3), (5.0, 9)]);
    assert_eq!(req.dedupe_sample_timestamps(0), 0);
}

// ---- format_labels ----

#[test]
fn format_labels_as_mimir() {
    assert_eq!(format_labels(&[]), "{}");
    assert_eq!(format_labels(&[("__name__", "up")]), "up");
    assert_eq!(
        format_labels(&[("__name__", "up"), ("a", "b"), ("c", "d")]),
        r#"up{a="b", c="d"}"#
    );
    assert_eq!(
        format_labels(&[("a", "b"), ("__name__", "up")]),
        r#"up{a="b"}"#
    );
    assert_eq!(format_labels(&[("a", "b")]), r#"{a="b"}"#);
    assert_eq!(
        format_labels(&[("__name__", "m"), ("v", "q\"\\\n\t\u{1}\u{7f}é\u{200b}😀")]),
        r#"m{v="q\"\\\n\t\x01\x7fé\u200b😀"}"#
    );
    // duplicates are kept, only the first __name__ is the metric name
    assert_eq!(
        format_labels(&[("__name__", "a"), ("__name__", "b")]),
        r#"a{__name__="b"}"#
    );
}

// ---- validation ----

const NOW: i64 = 1_700_000_000_000;

fn check(
    labels: &[(&str, &str)],
    samples: &[i64],
    limits: &ValidationLimits,
) -> Result<(), ValidationError> {
    let samples: Vec<Sample> = samples
        .iter()
        .map(|&t| Sample {
            timestamp_ms: t,
            value: 1.0,
            ..Sample::default()
        })
        .collect();
    let view = SeriesView {
        labels,
        samples: &samples,
        exemplars: 0,
        histograms: 0,
        exemplar_list: &[],
        histogram_list: &[],
    };
    validate_series(&view, limits, NOW)
}

fn reject(
    labels: &[(&str, &str)],
    samples: &[i64],
    limits: &ValidationLimits,
) -> (&'static str, String) {
    let e = check(labels, samples, limits).unwrap_err();
    (e.reason, e.message)
}

#[test]
fn valid_series_passes() {
    let l = ValidationLimits::default();
    assert!(check(
        &[("__name__", "up"), ("job", "x")],
        &[NOW, NOW + 600_000],
        &l
    )
    .is_ok());
    assert!(check(&[("__name__", "ns:metric_total"), ("_a1", "x")], &[0], &l).is_ok());
}

#[test]
fn missing_metric_name() {
    let l = ValidationLimits::default();
    let want = (
        "missing_metric_name",
        "received series has no metric name (err-mimir-missing-metric-name)".to_string(),
    );
    assert_eq!(reject(&[("job", "x")], &[NOW], &l), want);
    assert_eq!(reject(&[("__name__", ""), ("job", "x")], &[NOW], &l), want);
}

#[test]
fn metric_name_invalid() {
    let l = ValidationLimits::default();
    assert_eq!(
        reject(&[("__name__", "1abc")], &[NOW], &l),
        (
            "metric_name_invalid",
            "received a series with invalid metric name: '1abc' (err-mimir-metric-name-invalid)"
                .to_string()
        )
    );
    assert_eq!(
        reject(&[("__name__", "tëst-x")], &[NOW], &l).1,
        "received a series with invalid metric name: 'tst-x (non-ascii characters removed)' (err-mimir-metric-name-invalid)"
    );
    let long = format!("{}-", "a".repeat(300));
    assert_eq!(
        reject(&[("__name__", &long)], &[NOW], &l).1,
        format!(
            "received a series with invalid metric name: '{}' (err-mimir-metric-name-invalid)",
            "a".repeat(200)
        )
    );
}

#[test]
fn max_label_names_per_series() {
    let l = ValidationLimits {
        max_label_names_per_series: 2,
        ..ValidationLimits::default()
    };
    assert_eq!(
        reject(&[("__name__", "m"), ("a", "1"), ("b", "2")], &[NOW], &l),
        (
            "max_label_names_per_series",
            "received a series whose number of labels exceeds the limit (actual: 3, limit: 2) series: 'm{a=\"1\", b=\"2\"}' (err-mimir-max-label-names-per-series). To adjust the related per-tenant limit, configure -validation.max-label-names-per-series, or contact your service administrator.".to_string()
        )
    );
    // long series are cut at 200 characters and get an ellipsis
    let v = "v".repeat(300);
    let msg = reject(&[("__name__", "m"), ("a", &v), ("b", "2")], &[NOW], &l).1;
    let series = format!("m{{a=\"{}", "v".repeat(200 - 5));
    assert_eq!(
        msg,
        format!("received a series whose number of labels exceeds the limit (actual: 3, limit: 2) series: '{series}\u{2026}' (err-mimir-max-label-names-per-series). To adjust the related per-tenant limit, configure -validation.max-label-names-per-series, or contact your service administrator.")
    );
}

#[test]
fn max_label_names_per_info_series() {
    let l = ValidationLimits {
        max_label_names_per_series: 2,
        max_label_names_per_info_series: 3,
        ..ValidationLimits::default()
    };
    assert!(check(
        &[("__name__", "x_info"), ("a", "1"), ("b", "2")],
        &[NOW],
        &l
    )
    .is_ok());
    assert_eq!(
        reject(&[("__name__", "x_info"), ("a", "1"), ("b", "2"), ("c", "3")], &[NOW], &l),
        (
            "max_label_names_per_info_series",
            "received an info series whose number of labels exceeds the limit (actual: 4, limit: 3) series: 'x_info{a=\"1\", b=\"2\", c=\"3\"}' (err-mimir-max-label-names-per-info-series). To adjust the related per-tenant limit, configure -validation.max-label-names-per-info-series, or contact your service administrator.".to_string()
        )
    );
}

#[test]
fn label_invalid() {
    let l = ValidationLimits::default();
    assert_eq!(
        reject(&[("__name__", "m"), ("1a", "x")], &[NOW], &l),
        ("label_invalid", "received a series with an invalid label: '1a' series: 'm{1a=\"x\"}' (err-mimir-label-invalid)".to_string())
    );
    assert_eq!(
        reject(&[("__name__", "m"), ("a:b", "x")], &[NOW], &l).1,
        "received a series with an invalid label: 'a:b' series: 'm{a:b=\"x\"}' (err-mimir-label-invalid)"
    );
    assert_eq!(
        reject(&[("", "x"), ("__name__", "m")], &[NOW], &l).0,
        "label_invalid"
    );
}

#[test]
fn label_name_too_long() {
    let l = ValidationLimits {
        max_label_name_length: 8,
        ..ValidationLimits::default()
    };
    assert_eq!(
        reject(&[("__name__", "m"), ("abcdefghi", "x")], &[NOW], &l),
        (
            "label_name_too_long",
            "received a series whose label name length exceeds the limit, label: 'abcdefghi' series: 'm{abcdefghi=\"x\"}' (err-mimir-label-name-too-long). To adjust the related per-tenant limit, configure -validation.max-length-label-name, or contact your service administrator.".to_string()
        )
    );
    // __name__ itself (8 bytes) counts too
    let l = ValidationLimits {
        max_label_name_length: 7,
        ..ValidationLimits::default()
    };
    assert_eq!(
        reject(&[("__name__", "m")], &[NOW], &l).0,
        "label_name_too_long"
    );
}

#[test]
fn label_value_too_long() {
    let l = ValidationLimits {
        max_label_value_length: 3,
        ..ValidationLimits::default()
    };
    assert_eq!(
        reject(&[("__name__", "m"), ("a", "abcd")], &[NOW], &l),
        (
            "label_value_too_long",
            "received a series whose label value length exceeds the limit, label: 'a', value: 'abcd' (truncated) series: 'm{a=\"abcd\"}' (err-mimir-label-value-too-long). To adjust the related per-tenant limit, configure -validation.max-length-label-value, or contact your service administrator.".to_string()
        )
    );
    // lengths are bytes, truncation in messages is characters
    let l = ValidationLimits {
        max_label_value_length: 250,
        ..ValidationLimits::default()
    };
    let v = "é".repeat(201);
    let msg = reject(&[("__name__", "m"), ("a", &v)], &[NOW], &l).1;
    let series = format!("m{{a=\"{}", "é".repeat(200 - 5));
    assert_eq!(
        msg,
        format!("received a series whose label value length exceeds the limit, label: 'a', value: '{}' (truncated) series: '{series}' (err-mimir-label-value-too-long). To adjust the related per-tenant limit, configure -validation.max-length-label-value, or contact your service administrator.", "é".repeat(200))
    );
}

#[test]
fn duplicate_label_names() {
    let l = ValidationLimits::default();
    assert_eq!(
        reject(&[("__name__", "m"), ("a", "1"), ("a", "2")], &[NOW], &l),
        (
            "duplicate_label_names",
            "received a series with duplicate label name, label: 'a' series: 'm{a=\"1\", a=\"2\"}' (err-mimir-duplicate-label-names)".to_string()
        )
    );
}

#[test]
fn labels_not_sorted_check() {
    assert!(check_labels_sorted(&[("__name__", "m"), ("a", "1"), ("b", "2")]).is_ok());
    let e = check_labels_sorted(&[("__name__", "m"), ("b", "1"), ("a", "2")]).unwrap_err();
    assert_eq!(e.reason, "labels_not_sorted");
    assert_eq!(
        e.message,
        "received a series where the label names are not alphabetically sorted, label: 'a' series: 'm{b=\"1\", a=\"2\"}' (err-mimir-labels-not-sorted)"
    );
}

#[test]
fn too_far_in_future() {
    let l = ValidationLimits::default();
    let t = NOW + 600_001;
    assert_eq!(
        reject(&[("__name__", "m"), ("a", "1")], &[NOW, t], &l),
        (
            "too_far_in_future",
            format!("received a sample whose timestamp is too far in the future, timestamp: {t} series: 'm' (err-mimir-too-far-in-future). To adjust the related per-tenant limit, configure -validation.create-grace-period, or contact your service administrator.")
        )
    );
    assert!(validate_sample(&[("__name__", "m")], NOW + 600_000, &l, NOW).is_ok());
}

#[test]
fn too_far_in_past() {
    let off = ValidationLimits::default();
    assert!(check(&[("__name__", "m")], &[0], &off).is_ok());
    let l = ValidationLimits {
        past_grace_period_ms: 3_600_000,
        out_of_order_time_window_ms: 60_000,
        ..ValidationLimits::default()
    };
    let edge = NOW - 3_660_000;
    assert!(validate_sample(&[("__name__", "m")], edge, &l, NOW).is_ok());
    assert_eq!(
        reject(&[("__name__", "m")], &[edge - 1], &l),
        (
            "too_far_in_past",
            format!("received a sample whose timestamp is too far in the past, timestamp: {} series: 'm' (err-mimir-too-far-in-past). To adjust the related per-tenant limit, configure -validation.past-grace-period, or contact your service administrator.", edge - 1)
        )
    );
}

#[test]
fn label_checks_run_before_sample_checks_and_in_order() {
    let l = ValidationLimits {
        max_label_value_length: 3,
        ..ValidationLimits::default()
    };
    // the first offending label decides
    assert_eq!(
        reject(
            &[("__name__", "m"), ("a", "long"), ("b-", "x")],
            &[NOW + 10_000_000],
            &l
        )
        .0,
        "label_value_too_long"
    );
    assert_eq!(
        reject(&[("__name__", "m"), ("b-", "x"), ("c", "long")], &[NOW], &l).0,
        "label_invalid"
    );
}
