//! Tests of the OTLP decoders, the translation and the answers, on
//! hand-encoded protobuf requests.

use super::names::*;
use super::*;
use crate::head::DEFAULT_CHUNK_RANGE;

use crate::remote::test_encode::{
    put_bytes as len_field, put_fixed64 as fixed64_field, put_uint as varint_field,
};

fn kv(key: &str, value: &str) -> Vec<u8> {
    let mut any = Vec::new();
    len_field(&mut any, 1, value.as_bytes());
    let mut out = Vec::new();
    len_field(&mut out, 1, key.as_bytes());
    len_field(&mut out, 2, &any);
    out
}

fn kv_int(key: &str, value: i64) -> Vec<u8> {
    let mut any = Vec::new();
    varint_field(&mut any, 3, value as u64);
    let mut out = Vec::new();
    len_field(&mut out, 1, key.as_bytes());
    len_field(&mut out, 2, &any);
    out
}

/// number_point encodes a NumberDataPoint with a double value.
fn number_point(attrs: &[Vec<u8>], t_ns: u64, v: f64, flags: u32) -> Vec<u8> {
    let mut p = Vec::new();
    for a in attrs {
        len_field(&mut p, 7, a);
    }
    fixed64_field(&mut p, 3, t_ns);
    fixed64_field(&mut p, 4, v.to_bits());
    if flags != 0 {
        varint_field(&mut p, 8, u64::from(flags));
    }
    p
}

fn metric(name: &str, unit: &str, data_field: u64, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    len_field(&mut m, 1, name.as_bytes());
    len_field(&mut m, 3, unit.as_bytes());
    len_field(&mut m, data_field, data);
    m
}

fn gauge(points: &[Vec<u8>]) -> Vec<u8> {
    let mut g = Vec::new();
    for p in points {
        len_field(&mut g, 1, p);
    }
    g
}

fn sum(points: &[Vec<u8>], temporality: u64, monotonic: bool) -> Vec<u8> {
    let mut s = gauge(points);
    varint_field(&mut s, 2, temporality);
    varint_field(&mut s, 3, u64::from(monotonic));
    s
}

/// request encodes one resource with one scope holding `metrics`.
fn request(resource: &[Vec<u8>], scope: Option<(&str, &str)>, metrics: &[Vec<u8>]) -> Vec<u8> {
    let mut res = Vec::new();
    for a in resource {
        len_field(&mut res, 1, a);
    }
    let mut sm = Vec::new();
    if let Some((name, version)) = scope {
        let mut s = Vec::new();
        len_field(&mut s, 1, name.as_bytes());
        len_field(&mut s, 2, version.as_bytes());
        len_field(&mut sm, 1, &s);
    }
    for m in metrics {
        len_field(&mut sm, 2, m);
    }
    let mut rm = Vec::new();
    len_field(&mut rm, 1, &res);
    len_field(&mut rm, 2, &sm);
    let mut out = Vec::new();
    len_field(&mut out, 1, &rm);
    out
}

const T0: u64 = 1_700_000_000_000_000_000; // ns

fn series_of(t: &Translation) -> Vec<(String, Vec<(i64, u64)>)> {
    let mut out: Vec<(String, Vec<(i64, u64)>)> = (0..t.num_series())
        .map(|i| {
            let mut l = t.series_labels(i);
            l.retain(|(_, v)| !v.is_empty());
            l.sort();
            (
                crate::remote::format_labels(&l),
                t.series_samples(i)
                    .iter()
                    .map(|s| (s.timestamp_ms, s.value.to_bits()))
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

fn tr(body: &[u8], settings: &Settings) -> Translation {
    translate(&proto::decode_export_request(body).unwrap(), settings)
}

// --- names ---------------------------------------------------------------

#[test]
fn metric_names_without_suffixes() {
    let n = |name: &str| metric_name(name, "s", MetricKind::MonotonicSum, false);
    assert_eq!(n("http.server.duration"), "http_server_duration");
    assert_eq!(n("..a..b__c.."), "a_b__c");
    assert_eq!(n("2xx-count"), "_2xx_count");
    assert_eq!(n("ns:metric"), "ns:metric");
    assert_eq!(n("ünïcode"), "n_code");
}

#[test]
fn metric_names_with_suffixes() {
    let n = |name: &str, unit: &str, kind| metric_name(name, unit, kind, true);
    assert_eq!(
        n("http.server.duration", "s", MetricKind::Histogram),
        "http_server_duration_seconds"
    );
    assert_eq!(
        n("requests", "1", MetricKind::MonotonicSum),
        "requests_total"
    );
    assert_eq!(
        n("requests_total", "{req}", MetricKind::MonotonicSum),
        "requests_total"
    );
    assert_eq!(
        n("total_requests", "", MetricKind::MonotonicSum),
        "requests_total"
    );
    assert_eq!(
        n("cpu.utilization", "1", MetricKind::Gauge),
        "cpu_utilization_ratio"
    );
    assert_eq!(
        n("throughput", "By/s", MetricKind::Gauge),
        "throughput_bytes_per_second"
    );
    assert_eq!(
        n("size_bytes", "By", MetricKind::NonMonotonicSum),
        "size_bytes"
    );
    assert_eq!(n("a__b", "ms", MetricKind::Gauge), "a_b_milliseconds");
    assert_eq!(n("temp", "Cel", MetricKind::Gauge), "temp_celsius");
    assert_eq!(
        n("x", "widgets/min", MetricKind::Gauge),
        "x_widgets_per_min"
    );
}

#[test]
fn label_names() {
    assert_eq!(label_name("http.method"), "http_method");
    assert_eq!(label_name("0day"), "key_0day");
    assert_eq!(label_name("_private"), "key_private");
    assert_eq!(label_name("__reserved"), "__reserved");
    assert_eq!(label_name("ä-b"), "__b");
    assert_eq!(label_name(""), "");
}

#[test]
fn attribute_values_as_strings() {
    use super::model::{AnyValue, KeyValue};
    use std::borrow::Cow;
    assert_eq!(any_value_string(&AnyValue::Double(1.5)), "1.5");
    assert_eq!(any_value_string(&AnyValue::Double(1e21)), "1e+21");
    assert_eq!(any_value_string(&AnyValue::Double(1.5e-7)), "1.5e-7");
    assert_eq!(any_value_string(&AnyValue::Double(100.0)), "100");
    assert_eq!(any_value_string(&AnyValue::Int(-3)), "-3");
    assert_eq!(any_value_string(&AnyValue::Bool(true)), "true");
    assert_eq!(
        any_value_string(&AnyValue::Bytes(Cow::Borrowed(b"hi!?"))),
        "aGkhPw=="
    );
    let arr = AnyValue::Array(vec![AnyValue::Int(1), AnyValue::String("<a>".into())]);
    assert_eq!(any_value_string(&arr), "[1,\"\\u003ca\\u003e\"]");
    let map = AnyValue::KvList(vec![
        KeyValue {
            key: "z".into(),
            value: AnyValue::Bool(false),
        },
        KeyValue {
            key: "a".into(),
            value: AnyValue::Double(0.5),
        },
    ]);
    assert_eq!(any_value_string(&map), "{\"a\":0.5,\"z\":false}");
    assert_eq!(format_float(0.1), "0.1");
    assert_eq!(format_float(1e21), "1000000000000000000000");
    assert_eq!(format_float(f64::INFINITY), "+Inf");
}

// --- translation ---------------------------------------------------------

#[test]
fn gauge_and_sums_with_resource_labels_and_target_info() {
    let body = request(
        &[
            kv("service.name", "api"),
            kv("service.namespace", "shop"),
            kv("service.instance.id", "i-1"),
            kv("host.name", "h1"),
            kv_int("k8s.pod.count", 3),
        ],
        Some(("lib", "1.0")),
        &[
            metric(
                "process.cpu",
                "1",
                5,
                &gauge(&[number_point(
                    &[kv("cpu", "0"), kv("cpu.state", "user")],
                    T0,
                    0.25,
                    0,
                )]),
            ),
            metric(
                "requests",
                "{req}",
                7,
                &sum(
                    &[number_point(&[kv("http.method", "GET")], T0, 7.0, 0)],
                    2,
                    true,
                ),
            ),
            metric(
                "queue",
                "",
                7,
                &sum(&[number_point(&[], T0 + 1_500_000, 3.0, 1)], 2, false),
            ),
        ],
    );
    let t = tr(&body, &Settings::default());
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    let ms = (T0 / 1_000_000) as i64;
    assert_eq!(
        series_of(&t),
        vec![
            ("process_cpu{cpu=\"0\", cpu_state=\"user\", instance=\"i-1\", job=\"shop/api\"}".to_string(), vec![(ms, 0.25f64.to_bits())]),
            ("queue{instance=\"i-1\", job=\"shop/api\"}".to_string(), vec![(ms + 1, STALE_NAN)]),
            ("requests{http_method=\"GET\", instance=\"i-1\", job=\"shop/api\"}".to_string(), vec![(ms, 7f64.to_bits())]),
            ("target_info{host_name=\"h1\", instance=\"i-1\", job=\"shop/api\", k8s_pod_count=\"3\"}".to_string(), vec![(ms, 1f64.to_bits()), (ms + 1, 1f64.to_bits())]),
        ]
    );

    let with_suffixes = Settings {
        add_suffixes: true,
        ..Settings::default()
    };
    let names: Vec<String> = series_of(&tr(&body, &with_suffixes))
        .into_iter()
        .map(|(s, _)| s.split('{').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        vec![
            "process_cpu_ratio",
            "queue",
            "requests_total",
            "target_info"
        ]
    );
}

#[test]
fn target_info_spans_the_points_every_150s_and_skips_service_only_resources() {
    let body = request(
        &[kv("service.name", "api"), kv("region", "eu")],
        None,
        &[metric(
            "g",
            "",
            5,
            &gauge(&[
                number_point(&[], T0, 1.0, 0),
                number_point(&[kv("a", "b")], T0 + 400_000_000_000, 2.0, 0),
            ]),
        )],
    );
    let t = tr(&body, &Settings::default());
    let ms = (T0 / 1_000_000) as i64;
    let info = series_of(&t)
        .into_iter()
        .find(|(s, _)| s.starts_with("target_info"))
        .unwrap();
    assert_eq!(info.0, "target_info{job=\"api\", region=\"eu\"}");
    let times: Vec<i64> = info.1.iter().map(|x| x.0).collect();
    assert_eq!(times, vec![ms, ms + 150_000, ms + 300_000, ms + 400_000]);

    let only_service = request(
        &[kv("service.name", "api"), kv("service.instance.id", "x")],
        None,
        &[metric("g", "", 5, &gauge(&[number_point(&[], T0, 1.0, 0)]))],
    );
    assert!(series_of(&tr(&only_service, &Settings::default()))
        .iter()
        .all(|(s, _)| !s.starts_with("target_info")));
    // Without job or instance there is no target_info either.
    let no_identity = request(
        &[kv("region", "eu")],
        None,
        &[metric("g", "", 5, &gauge(&[number_point(&[], T0, 1.0, 0)]))],
    );
    assert_eq!(series_of(&tr(&no_identity, &Settings::default())).len(), 1);
    // Kept identifying attributes show on target_info.
    let keep = Settings {
        keep_identifying_resource_attributes: true,
        ..Settings::default()
    };
    let info = series_of(&tr(&body, &keep))
        .into_iter()
        .find(|(s, _)| s.starts_with("target_info"))
        .unwrap();
    assert_eq!(
        info.0,
        "target_info{job=\"api\", region=\"eu\", service_name=\"api\"}"
    );
}

#[test]
fn promoted_resource_attributes_scope_labels_and_collisions() {
    let body = request(
        &[
            kv("service.name", "api"),
            kv("deployment.environment", "prod"),
            kv("host.name", "h1"),
        ],
        Some(("io.opentelemetry.runtime", "2.1")),
        &[metric(
            "g",
            "",
            5,
            &gauge(&[number_point(
                &[kv("a.b", "1"), kv("a_b", "2"), kv("host.name", "mine")],
                T0,
                1.0,
                0,
            )]),
        )],
    );
    let settings = Settings {
        promote_resource_attributes: vec![
            "deployment.environment".to_string(),
            "host.name".to_string(),
        ],
        promote_scope_metadata: true,
        ..Settings::default()
    };
    let s = series_of(&tr(&body, &settings));
    assert_eq!(
        s[0].0,
        "g{a_b=\"1;2\", deployment_environment=\"prod\", host_name=\"mine\", job=\"api\", otel_scope_name=\"io.opentelemetry.runtime\", otel_scope_version=\"2.1\"}"
    );
}

/// bucket_fields appends a HistogramDataPoint's packed bucket_counts (6)
/// and explicit_bounds (7).
fn bucket_fields(hp: &mut Vec<u8>, counts: &[u64], bounds: &[f64]) {
    let packed: Vec<u8> = counts.iter().flat_map(|c| c.to_le_bytes()).collect();
    len_field(hp, 6, &packed);
    let packed: Vec<u8> = bounds
        .iter()
        .flat_map(|b| b.to_bits().to_le_bytes())
        .collect();
    len_field(hp, 7, &packed);
}

#[test]
fn histogram_and_summary() {
    // HistogramDataPoint: count 10, sum 12.5, bounds [0.1, 1], counts [2, 5, 3].
    let mut hp = Vec::new();
    len_field(&mut hp, 9, &kv("route", "/x"));
    fixed64_field(&mut hp, 3, T0);
    fixed64_field(&mut hp, 4, 10);
    fixed64_field(&mut hp, 5, 12.5f64.to_bits());
    bucket_fields(&mut hp, &[2, 5, 3], &[0.1, 1.0]);
    let mut h = Vec::new();
    len_field(&mut h, 1, &hp);
    varint_field(&mut h, 2, 2);

    // SummaryDataPoint: count 4, sum 2, quantiles 0.5 -> 0.4, 0.99 -> 0.9.
    let mut sp = Vec::new();
    fixed64_field(&mut sp, 3, T0);
    fixed64_field(&mut sp, 4, 4);
    fixed64_field(&mut sp, 5, 2f64.to_bits());
    for (q, v) in [(0.5f64, 0.4f64), (0.99, 0.9)] {
        let mut qv = Vec::new();
        fixed64_field(&mut qv, 1, q.to_bits());
        fixed64_field(&mut qv, 2, v.to_bits());
        len_field(&mut sp, 6, &qv);
    }
    let mut s = Vec::new();
    len_field(&mut s, 1, &sp);

    let body = request(
        &[],
        None,
        &[metric("latency", "s", 9, &h), metric("rpc", "ms", 11, &s)],
    );
    let t = tr(
        &body,
        &Settings {
            add_suffixes: true,
            ..Settings::default()
        },
    );
    let ms = (T0 / 1_000_000) as i64;
    let got: Vec<(String, f64)> = series_of(&t)
        .into_iter()
        .map(|(n, v)| (n, f64::from_bits(v[0].1)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "latency_seconds_bucket{le=\"+Inf\", route=\"/x\"}".to_string(),
                10.0
            ),
            (
                "latency_seconds_bucket{le=\"0.1\", route=\"/x\"}".to_string(),
                2.0
            ),
            (
                "latency_seconds_bucket{le=\"1\", route=\"/x\"}".to_string(),
                7.0
            ),
            ("latency_seconds_count{route=\"/x\"}".to_string(), 10.0),
            ("latency_seconds_sum{route=\"/x\"}".to_string(), 12.5),
            ("rpc_milliseconds_count".to_string(), 4.0),
            ("rpc_milliseconds_sum".to_string(), 2.0),
            ("rpc_milliseconds{quantile=\"0.5\"}".to_string(), 0.4),
            ("rpc_milliseconds{quantile=\"0.99\"}".to_string(), 0.9),
        ]
    );
    assert!(series_of(&t).iter().all(|(_, v)| v[0].0 == ms));
}

#[test]
fn dropped_metrics_and_their_errors() {
    // Delta sum, empty gauge, metric without data, exponential histogram.
    let delta = metric(
        "d.sum",
        "",
        7,
        &sum(&[number_point(&[], T0, 1.0, 0)], 1, true),
    );
    let empty = metric("empty", "", 5, &gauge(&[]));
    let mut no_data = Vec::new();
    len_field(&mut no_data, 1, b"nodata");
    // An exponential histogram of scale -5: refused.
    let exp = metric(
        "exp",
        "",
        10,
        &exp_histogram(&[exp_point(-5, T0, 0, &(0, vec![]), &(0, vec![]), 0)], 2),
    );
    let ok = metric("ok", "", 5, &gauge(&[number_point(&[], T0, 1.0, 0)]));
    let t = tr(
        &request(&[], None, &[delta, empty, no_data, exp, ok]),
        &Settings::default(),
    );
    assert_eq!(
        t.error_text().unwrap(),
        "invalid temporality and type combination for metric \"d.sum\"; empty data points. empty is dropped; could not get aggregation temporality for nodata as it has unsupported metric type Empty; cannot convert exponential to native histogram. Scale must be >= -4, was -5"
    );
    assert_eq!(t.num_series(), 1);
}

// --- native histograms ---------------------------------------------------

/// exp_point encodes an ExponentialHistogramDataPoint: scale, time,
/// zero count, (offset, counts) of the positive and negative buckets; the
/// count is the total of the buckets, the sum 10.5.
fn exp_point(
    scale: i32,
    t_ns: u64,
    zero_count: u64,
    positive: &(i32, Vec<u64>),
    negative: &(i32, Vec<u64>),
    flags: u32,
) -> Vec<u8> {
    let count = zero_count + positive.1.iter().sum::<u64>() + negative.1.iter().sum::<u64>();
    let mut p = Vec::new();
    len_field(&mut p, 1, &kv("k", "v"));
    fixed64_field(&mut p, 3, t_ns);
    fixed64_field(&mut p, 4, count);
    fixed64_field(&mut p, 5, 10.5f64.to_bits());
    varint_field(&mut p, 6, u64::from(((scale << 1) ^ (scale >> 31)) as u32));
    fixed64_field(&mut p, 7, zero_count);
    for (field, (offset, counts)) in [(8, positive), (9, negative)] {
        if counts.is_empty() {
            continue;
        }
        let mut b = Vec::new();
        varint_field(
            &mut b,
            1,
            u64::from(((offset << 1) ^ (offset >> 31)) as u32),
        );
        let mut packed = Vec::new();
        for c in counts {
            crate::remote::test_encode::put_varint(&mut packed, *c);
        }
        len_field(&mut b, 2, &packed);
        len_field(&mut p, field, &b);
    }
    if flags != 0 {
        varint_field(&mut p, 10, u64::from(flags));
    }
    p
}

fn exp_histogram(points: &[Vec<u8>], temporality: u64) -> Vec<u8> {
    let mut h = gauge(points);
    varint_field(&mut h, 2, temporality);
    h
}

fn spans(s: &[(i32, u32)]) -> Vec<Span> {
    s.iter()
        .map(|(offset, length)| Span {
            offset: *offset,
            length: *length,
        })
        .collect()
}

/// int_histogram returns the one integer histogram of the translation's
/// only histogram series, with that series' labels.
fn only_histogram(t: &Translation) -> (String, Histogram, i64) {
    let i = (0..t.num_series())
        .find(|i| !t.series_histograms(*i).is_empty())
        .expect("a histogram series");
    let mut l = t.series_labels(i);
    l.sort();
    let h = &t.series_histograms(i)[0];
    let HistogramValue::Int(v) = &h.value else {
        panic!("integer histogram expected")
    };
    (crate::remote::format_labels(&l), v.clone(), h.timestamp_ms)
}

use crate::model::histogram::{CounterResetHint, Histogram, HistogramValue, Span};

#[test]
fn exponential_histograms_become_native_histograms() {
    let ms = (T0 / 1_000_000) as i64;
    // Layouts (offset, counts) -> spans and deltas at scales 0, 3, 8 (as
    // sent) and 10 (two scale steps merged: four buckets into one).
    type Case = (i32, (i32, Vec<u64>), Vec<(i32, u32)>, Vec<i64>);
    let cases: Vec<Case> = vec![
        (0, (0, vec![4, 3, 2, 1]), vec![(1, 4)], vec![4, -1, -1, -1]),
        (
            3,
            (-2, vec![3, 1, 0, 0, 0, 1]),
            vec![(-1, 2), (3, 1)],
            vec![3, -2, 0],
        ),
        (8, (1, vec![1, 1, 1]), vec![(2, 3)], vec![1, 0, 0]),
        (
            10,
            (4, vec![4, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            vec![(2, 4)],
            vec![8, -8, 0, 1],
        ),
        (9, (1, vec![1, 1, 1]), vec![(1, 2)], vec![1, 1]),
    ];
    for (scale, positive, want_spans, want_deltas) in cases {
        let body = request(
            &[kv("service.name", "api")],
            None,
            &[metric(
                "latency",
                "s",
                10,
                &exp_histogram(&[exp_point(scale, T0, 0, &positive, &(0, vec![]), 0)], 2),
            )],
        );
        let t = tr(&body, &Settings::default());
        let (labels, h, t_ms) = only_histogram(&t);
        assert_eq!(labels, "latency{job=\"api\", k=\"v\"}", "scale {scale}");
        assert_eq!(t_ms, ms);
        assert_eq!(h.schema, scale.min(8), "scale {scale}");
        assert_eq!(h.positive_spans, spans(&want_spans), "scale {scale}");
        assert_eq!(h.positive_buckets, want_deltas, "scale {scale}");
        assert!(h.negative_spans.is_empty() && h.negative_buckets.is_empty());
        assert_eq!(h.zero_threshold, 1e-128);
        assert_eq!(h.count, positive.1.iter().sum::<u64>());
        assert_eq!(h.sum, 10.5);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Unknown);
        // No classic series besides the histogram (and target_info: none here).
        assert_eq!(t.num_series(), 1);
        assert_eq!(t.num_samples(), 0);
    }

    // Negative buckets and a zero bucket; suffixes on: the unit is added,
    // no _count/_sum series are made.
    let body = request(
        &[kv("service.name", "api")],
        None,
        &[metric(
            "latency",
            "s",
            10,
            &exp_histogram(
                &[exp_point(1, T0, 3, &(1, vec![1, 1]), &(1, vec![2, 1]), 0)],
                2,
            ),
        )],
    );
    let settings = Settings {
        add_suffixes: true,
        ..Settings::default()
    };
    let t = tr(&body, &settings);
    let (labels, h, _) = only_histogram(&t);
    assert_eq!(labels, "latency_seconds{job=\"api\", k=\"v\"}");
    assert_eq!((h.zero_count, h.count), (3, 8));
    assert_eq!(h.positive_spans, spans(&[(2, 2)]));
    assert_eq!(h.positive_buckets, vec![1, 0]);
    assert_eq!(h.negative_spans, spans(&[(2, 2)]));
    assert_eq!(h.negative_buckets, vec![2, -1]);
    assert_eq!(t.num_series(), 1);

    // No recorded value: a staleness marker.
    let body = request(
        &[],
        None,
        &[metric(
            "latency",
            "",
            10,
            &exp_histogram(&[exp_point(0, T0, 0, &(0, vec![1]), &(0, vec![]), 1)], 2),
        )],
    );
    let (_, h, _) = only_histogram(&tr(&body, &Settings::default()));
    assert_eq!(h.sum.to_bits(), STALE_NAN);
    assert_eq!(h.count, STALE_NAN);

    // Delta temporality: refused, unless native delta ingestion is on
    // (then with the gauge reset hint).
    let body = request(
        &[],
        None,
        &[metric(
            "latency",
            "",
            10,
            &exp_histogram(&[exp_point(0, T0, 0, &(0, vec![1]), &(0, vec![]), 0)], 1),
        )],
    );
    let t = tr(&body, &Settings::default());
    assert_eq!(t.num_series(), 0);
    assert_eq!(
        t.error_text().unwrap(),
        "invalid temporality and type combination for metric \"latency\""
    );
    let delta = Settings {
        allow_delta_temporality: true,
        ..Settings::default()
    };
    let (_, h, _) = only_histogram(&tr(&body, &delta));
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
}

#[test]
fn explicit_histograms_as_nhcb() {
    // count 10, sum 12.5, bounds [0.1, 1, 5], counts [0, 5, 0, 5].
    let mut p = Vec::new();
    fixed64_field(&mut p, 3, T0);
    fixed64_field(&mut p, 4, 10);
    fixed64_field(&mut p, 5, 12.5f64.to_bits());
    for c in [0u64, 5, 0, 5] {
        fixed64_field(&mut p, 6, c);
    }
    for b in [0.1f64, 1.0, 5.0] {
        fixed64_field(&mut p, 7, b.to_bits());
    }
    let mut h = Vec::new();
    len_field(&mut h, 1, &p);
    varint_field(&mut h, 2, 2);
    let body = request(&[], None, &[metric("latency", "", 9, &h)]);
    let nhcb = Settings {
        convert_histograms_to_nhcb: true,
        ..Settings::default()
    };
    let t = tr(&body, &nhcb);
    assert_eq!(t.num_series(), 1);
    let (labels, v, _) = only_histogram(&t);
    assert_eq!(labels, "latency");
    assert_eq!(v.schema, -53);
    assert_eq!(v.custom_values, vec![0.1, 1.0, 5.0]);
    assert_eq!(v.positive_spans, spans(&[(1, 3)]));
    assert_eq!(v.positive_buckets, vec![5, -5, 5]);
    assert_eq!(
        (v.count, v.sum, v.zero_threshold, v.zero_count),
        (10, 12.5, 0.0, 0)
    );
    assert!(crate::remote::validate_histogram(&HistogramValue::Int(v)).is_ok());
    // Without the flag: classic series.
    let t = tr(&body, &Settings::default());
    assert_eq!(t.num_series(), 6);
    assert_eq!(t.num_histograms(), 0);
}

#[test]
fn exponential_histograms_are_ingested() {
    let head = Head::new("otlp-nh", DEFAULT_CHUNK_RANGE);
    let now = (T0 / 1_000_000) as i64;
    let points: Vec<Vec<u8>> = (0..3u64)
        .map(|i| {
            exp_point(
                3,
                T0 + i * 15_000_000_000,
                i,
                &(-2, vec![3 + i, 1, 0, 0, 0, 1]),
                &(0, vec![2]),
                0,
            )
        })
        .collect();
    let body = request(
        &[],
        None,
        &[metric("latency", "", 10, &exp_histogram(&points, 2))],
    );
    let r = push(&head, &body, Compression::None, &limits(now + 60_000));
    assert_eq!(r.status, 200, "{}", r.message);
    assert_eq!((r.ingest.histograms, r.ingest.accepted_histograms), (3, 3));
    let series = head
        .lookup(&[("__name__", "latency"), ("k", "v")])
        .expect("series");
    let mut out = crate::head::SelectedHistograms::default();
    series.read_histograms(i64::MIN, i64::MAX, &mut out);
    assert_eq!(
        out.timestamps,
        vec![now as f64, (now + 15_000) as f64, (now + 30_000) as f64]
    );
    let all = crate::model::histogram_flat::decode_flat_all(&out.data, &out.data_offsets).unwrap();
    let HistogramValue::Int(h) = &all[2] else {
        panic!("integer histogram expected")
    };
    assert_eq!(h.schema, 3);
    assert_eq!((h.zero_count, h.count), (2, 2 + 5 + 1 + 1 + 2));
    assert_eq!(h.positive_spans, spans(&[(-1, 2), (3, 1)]));
    assert_eq!(h.positive_buckets, vec![5, -4, 0]);
    assert_eq!(h.negative_spans, spans(&[(1, 1)]));
    assert_eq!(h.negative_buckets, vec![2]);
}

#[test]
fn identical_label_sets_share_a_series() {
    let body = request(
        &[],
        None,
        &[
            metric(
                "g",
                "",
                5,
                &gauge(&[number_point(&[kv("a", "1")], T0, 1.0, 0)]),
            ),
            metric(
                "g",
                "",
                5,
                &gauge(&[number_point(&[kv("a", "1")], T0 + 1_000_000_000, 2.0, 0)]),
            ),
        ],
    );
    let t = tr(&body, &Settings::default());
    assert_eq!(t.num_series(), 1);
    assert_eq!(t.series_samples(0).len(), 2);
}

// --- decoding ------------------------------------------------------------

#[test]
fn json_decodes_like_protobuf() {
    let json = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},{"key":"n","value":{"intValue":"5"}}]},
      "scopeMetrics":[{"scope":{"name":"lib"},"metrics":[
        {"name":"g","gauge":{"dataPoints":[{"attributes":[{"key":"a","value":{"boolValue":true}}],"timeUnixNano":"1700000000000000000","asDouble":1.5}]}},
        {"name":"c","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true,"dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":"7","flags":1}]}},
        {"name":"h","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1700000000000000000","count":"3","sum":1,"bucketCounts":["1","2"],"explicitBounds":[0.5]}]}},
        {"name":"s","summary":{"dataPoints":[{"timeUnixNano":"1700000000000000000","count":"2","sum":3,"quantileValues":[{"quantile":0.5,"value":1}]}]}}
      ]}]}]}"#;
    let req = json::decode_export_request_json(json).unwrap();
    let t = translate(&req, &Settings::default());
    let ms = (T0 / 1_000_000) as i64;
    let s = series_of(&t);
    let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "c{job=\"api\"}",
            "g{a=\"true\", job=\"api\"}",
            "h_bucket{job=\"api\", le=\"+Inf\"}",
            "h_bucket{job=\"api\", le=\"0.5\"}",
            "h_count{job=\"api\"}",
            "h_sum{job=\"api\"}",
            "s_count{job=\"api\"}",
            "s_sum{job=\"api\"}",
            "s{job=\"api\", quantile=\"0.5\"}",
            "target_info{job=\"api\", n=\"5\"}",
        ]
    );
    assert_eq!(s[0].1, vec![(ms, STALE_NAN)]);
    assert_eq!(s[1].1, vec![(ms, 1.5f64.to_bits())]);
    assert!(json::decode_export_request_json(b"{").is_err());
    assert!(json::decode_export_request_json(br#"{"resourceMetrics":{}}"#).is_err());
}

#[test]
fn protobuf_errors() {
    assert_eq!(
        proto::decode_export_request(&[0x0a, 0x05, 0x01])
            .unwrap_err()
            .0,
        "unexpected EOF"
    );
    assert_eq!(
        proto::decode_export_request(&[0x08, 0x01]).unwrap_err().0,
        "proto: wrong wireType = 0 for field ResourceMetrics"
    );
    assert_eq!(
        proto::decode_export_request(&[0x0c]).unwrap_err().0,
        "proto: ExportMetricsServiceRequest: wiretype end group for non-group"
    );
    // Unknown fields are skipped.
    let mut body = Vec::new();
    varint_field(&mut body, 9, 1);
    len_field(&mut body, 10, b"xyz");
    assert!(proto::decode_export_request(&body)
        .unwrap()
        .resource_metrics
        .is_empty());
}

// --- the whole push --------------------------------------------------------

fn limits(now_ms: i64) -> IngestLimits {
    IngestLimits {
        now_ms,
        ..IngestLimits::default()
    }
}

fn push(head: &Head, body: &[u8], compression: Compression, lim: &IngestLimits) -> OtlpResult {
    let req = OtlpRequest {
        body,
        encoding: Encoding::Protobuf,
        compression,
        max_size: 1 << 20,
    };
    ingest_otlp(head, None, &req, &Settings::default(), lim)
}

#[test]
fn ingest_gzip_and_plain() {
    use std::io::Write;
    let head = Head::new("otlp-t1", DEFAULT_CHUNK_RANGE);
    let now = (T0 / 1_000_000) as i64;
    let body = request(
        &[kv("service.name", "api")],
        None,
        &[metric("g", "", 5, &gauge(&[number_point(&[], T0, 1.0, 0)]))],
    );
    let r = push(&head, &body, Compression::None, &limits(now));
    assert_eq!(
        (r.status, r.ingest.accepted_samples, r.ingest.created_series),
        (200, 1, 1)
    );

    let body2 = request(
        &[kv("service.name", "api")],
        None,
        &[metric(
            "g",
            "",
            5,
            &gauge(&[number_point(&[], T0 + 1_000_000_000, 2.0, 0)]),
        )],
    );
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&body2).unwrap();
    let gz = enc.finish().unwrap();
    let r = push(&head, &gz, Compression::Gzip, &limits(now));
    assert_eq!(
        (r.status, r.ingest.accepted_samples, r.uncompressed_size),
        (200, 1, body2.len() as u64)
    );
    assert_eq!(head.num_series(), 1);

    let r = push(&head, b"not gzip at all", Compression::Gzip, &limits(now));
    assert_eq!(
        (r.status, r.grpc_code, r.message.as_str()),
        (400, 400, "gzip: invalid header")
    );
    let r = push(&head, &gz[..gz.len() / 2], Compression::Gzip, &limits(now));
    assert_eq!(r.status, 400);
    let small = OtlpRequest {
        body: &gz,
        encoding: Encoding::Protobuf,
        compression: Compression::Gzip,
        max_size: 10,
    };
    let r = ingest_otlp(&head, None, &small, &Settings::default(), &limits(now));
    assert_eq!((r.status, r.grpc_code), (413, 413));
}

#[test]
fn answers_as_mimir() {
    let head = Head::new("otlp-t2", DEFAULT_CHUNK_RANGE);
    let now = (T0 / 1_000_000) as i64;
    let g = |v: f64, t: u64| {
        request(
            &[],
            None,
            &[metric("g", "", 5, &gauge(&[number_point(&[], t, v, 0)]))],
        )
    };
    assert_eq!(
        push(&head, &g(1.0, T0), Compression::None, &limits(now)).status,
        200
    );
    // An older sample: the head refuses it, which is a partial success.
    let r = push(
        &head,
        &g(2.0, T0 - 1_000_000_000),
        Compression::None,
        &limits(now),
    );
    assert_eq!((r.status, r.partial_success), (200, true));
    assert!(
        r.message.contains("(err-mimir-sample-out-of-order)"),
        "{}",
        r.message
    );

    // Translator errors after storing the rest: 400 "otlp parse error".
    let mixed = request(
        &[],
        None,
        &[
            metric("d", "", 7, &sum(&[number_point(&[], T0, 1.0, 0)], 1, true)),
            metric("g2", "", 5, &gauge(&[number_point(&[], T0, 1.0, 0)])),
        ],
    );
    let r = push(&head, &mixed, Compression::None, &limits(now));
    assert_eq!(
        (r.status, r.grpc_code, r.ingest.accepted_samples),
        (400, 400, 1)
    );
    assert_eq!(
        r.message,
        "otlp parse error: invalid temporality and type combination for metric \"d\""
    );
    assert!(r.ingest.discarded.contains(&("otlp_parse_error", 1)));
    // Only dropped metrics: nothing to push.
    let only = request(
        &[],
        None,
        &[metric(
            "d",
            "",
            7,
            &sum(&[number_point(&[], T0, 1.0, 0)], 1, true),
        )],
    );
    let r = push(&head, &only, Compression::None, &limits(now));
    assert_eq!((r.status, r.grpc_code, r.ingest.series), (400, 400, 0));

    // A too long attribute value is worded in OTel terms.
    let long = request(
        &[],
        None,
        &[metric(
            "foo",
            "",
            5,
            &gauge(&[number_point(&[kv("too_long", "huge value")], T0, 1.0, 0)]),
        )],
    );
    let mut lim = limits(now);
    lim.validation.max_label_value_length = 9;
    let r = push(&head, &long, Compression::None, &lim);
    assert_eq!((r.status, r.grpc_code), (400, grpc::INVALID_ARGUMENT));
    assert_eq!(
        r.message,
        "received a metric whose attribute value length of 10 exceeds the limit of 9, attribute: 'too_long', value: 'huge value' (truncated) metric: 'foo{too_long=\"huge value\"}'. See: https://grafana.com/docs/grafana-cloud/send-data/otlp/otlp-format-considerations/#metrics-ingestion-limits"
    );
    // Other validation errors keep Mimir's text.
    let far = push(
        &head,
        &g(1.0, T0 + 3_600_000_000_000),
        Compression::None,
        &limits(now),
    );
    assert_eq!((far.status, far.grpc_code), (400, grpc::INVALID_ARGUMENT));
    assert!(
        far.message.contains("(err-mimir-too-far-in-future)"),
        "{}",
        far.message
    );

    // Rate limited: 429, ResourceExhausted, nothing stored.
    let _ = crate::tsdb::registry().drop_tenant("otlp-t2");
    let lim = IngestLimits {
        ingestion_rate: Some(crate::limits::RateLimit {
            rate: 1.0,
            burst: 1,
        }),
        ..limits(now)
    };
    let two = request(
        &[],
        None,
        &[metric(
            "new",
            "",
            5,
            &gauge(&[
                number_point(&[], T0, 1.0, 0),
                number_point(&[kv("a", "b")], T0, 1.0, 0),
            ]),
        )],
    );
    let r = push(&head, &two, Compression::None, &lim);
    assert_eq!((r.status, r.grpc_code), (429, grpc::RESOURCE_EXHAUSTED));
    assert_eq!(r.ingest.accepted_samples, 0);
}

#[test]
fn write_request_of_a_translation_decodes_as_the_translation() {
    let points: Vec<Vec<u8>> = (0..2u64)
        .map(|i| {
            exp_point(
                3,
                T0 + i * 15_000_000_000,
                i,
                &(-2, vec![3 + i, 1]),
                &(0, vec![2]),
                0,
            )
        })
        .collect();
    let body = request(
        &[kv("service.name", "api")],
        None,
        &[
            metric(
                "g",
                "",
                5,
                &gauge(&[number_point(&[kv("a", "b")], T0, 1.5, 0)]),
            ),
            metric("latency", "", 10, &exp_histogram(&points, 2)),
        ],
    );
    let req = OtlpRequest {
        body: &body,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
        max_size: 1 << 20,
    };
    let out = otlp_write_request(&req, &Settings::default());
    assert!(out.refusal.is_none());
    assert_eq!(out.uncompressed_size, body.len() as u64);
    let t = tr(&body, &Settings::default());
    let view =
        crate::remote::decode_write_request(&out.write_request).expect("a valid WriteRequest");
    assert_eq!(view.series.len(), t.num_series());
    for i in 0..t.num_series() {
        let s = view.series(i);
        assert_eq!(s.labels, &t.series_labels(i)[..]);
        assert_eq!(s.samples, t.series_samples(i));
        assert_eq!(view.series[i].histograms, t.series_histograms(i).len());
    }
    let want: Vec<_> = (0..t.num_series())
        .flat_map(|i| {
            t.series_histograms(i)
                .iter()
                .map(|h| (h.timestamp_ms, h.value.clone()))
        })
        .collect();
    let got: Vec<_> = view
        .histograms
        .iter()
        .map(|h| (h.timestamp_ms, h.value.clone()))
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got, want);
    // The families' metadata travels too.
    let meta: Vec<_> = view
        .metadata
        .iter()
        .map(|m| (m.metric_type, m.metric_family_name, m.help, m.unit))
        .collect();
    assert_eq!(meta, vec![(2, "g", "", ""), (3, "latency", "", "")]);
    // A body that does not decode is refused as ingest_otlp refuses it.
    let bad = OtlpRequest {
        body: b"\xff\xff",
        ..req
    };
    let out = otlp_write_request(&bad, &Settings::default());
    assert_eq!(out.refusal.map(|r| r.status), Some(400));
}

/// number_point_started is number_point with a start time.
fn number_point_started(start_ns: u64, t_ns: u64, v: f64) -> Vec<u8> {
    let mut p = number_point(&[], t_ns, v, 0);
    fixed64_field(&mut p, 2, start_ns);
    p
}

#[test]
fn start_times_become_zero_samples_when_enabled() {
    // Mimir's cases: a first point whose start equals its time (no zero),
    // then a point 30s later whose start time decides.
    let now = (T0 / 1_000_000) as i64;
    let prev_ns = T0 - 30_000_000_000;
    let cases: [(&str, u64, bool); 5] = [
        ("zero start time", 0, false),
        ("start time too old", T0 - 3_600_000_000_000, false),
        ("start time ok", T0 - 20_000_000_000, true),
        ("start time equal to the sample", T0, false),
        ("start time in the future", T0 + 30_000_000_000, false),
    ];
    for enabled in [false, true] {
        let settings = Settings {
            created_timestamp_zero_ingestion: enabled,
            ..Settings::default()
        };
        for (name, start_ns, zero) in cases {
            let head = Head::new("otlp-ct", DEFAULT_CHUNK_RANGE);
            let points = [
                number_point_started(prev_ns, prev_ns, 1000.0),
                number_point_started(start_ns, T0, 100.0),
            ];
            let body = request(&[], None, &[metric("c", "", 7, &sum(&points, 2, true))]);
            let req = OtlpRequest {
                body: &body,
                encoding: Encoding::Protobuf,
                compression: Compression::None,
                max_size: 1 << 20,
            };
            let r = ingest_otlp(&head, None, &req, &settings, &limits(now + 1_000));
            assert_eq!((r.status, r.message.as_str()), (200, ""), "{name}");
            let series = head.lookup(&[("__name__", "c")]).expect("series");
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            read_all(&series, &mut ts, &mut vs);
            let prev = (prev_ns / 1_000_000) as f64;
            if enabled && zero {
                let ct = (start_ns / 1_000_000) as f64;
                assert_eq!(ts, vec![prev, ct, now as f64], "{name}");
                assert_eq!(vs, vec![1000.0, 0.0, 100.0], "{name}");
            } else {
                assert_eq!(ts, vec![prev, now as f64], "{name} (enabled: {enabled})");
                assert_eq!(vs, vec![1000.0, 100.0], "{name}");
            }
            // The zero sample is not counted as a written sample.
            assert_eq!(r.ingest.accepted_samples, 2, "{name}");
        }
    }
}

#[test]
fn a_repeated_start_time_older_than_the_series_is_dropped_quietly() {
    // The same start time sent again with every point: the zero sample is
    // out of order from the second push on and is dropped without an error.
    let now = (T0 / 1_000_000) as i64;
    let settings = Settings {
        created_timestamp_zero_ingestion: true,
        ..Settings::default()
    };
    let head = Head::new("otlp-ct2", DEFAULT_CHUNK_RANGE);
    let start = T0 - 60_000_000_000;
    for (i, v) in [(0u64, 5.0), (1, 7.0), (2, 9.0)] {
        let t = T0 + i * 15_000_000_000;
        let body = request(
            &[],
            None,
            &[metric(
                "c",
                "",
                7,
                &sum(&[number_point_started(start, t, v)], 2, true),
            )],
        );
        let req = OtlpRequest {
            body: &body,
            encoding: Encoding::Protobuf,
            compression: Compression::None,
            max_size: 1 << 20,
        };
        let r = ingest_otlp(&head, None, &req, &settings, &limits(now + 60_000));
        assert_eq!(
            (r.status, r.message.as_str(), r.ingest.accepted_samples),
            (200, "", 1)
        );
    }
    let series = head.lookup(&[("__name__", "c")]).expect("series");
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    read_all(&series, &mut ts, &mut vs);
    assert_eq!(vs, vec![0.0, 5.0, 7.0, 9.0]);
    assert_eq!(ts[0], (start / 1_000_000) as f64);
}

#[test]
fn points_of_one_series_with_different_start_times_get_their_own_zero() {
    // A counter reset inside one request: each start time puts its zero
    // sample right before its own point (a new series entry, same labels).
    let settings = Settings {
        created_timestamp_zero_ingestion: true,
        ..Settings::default()
    };
    let s1 = T0 - 10_000_000_000;
    let s2 = T0 + 50_000_000_000;
    let points = [
        number_point_started(s1, T0, 4.0),
        number_point_started(s1, T0 + 30_000_000_000, 6.0),
        number_point_started(s2, T0 + 60_000_000_000, 1.0),
    ];
    let body = request(&[], None, &[metric("c", "", 7, &sum(&points, 2, true))]);
    let t = tr(&body, &settings);
    assert_eq!(t.num_series(), 2, "the reset starts a second entry");
    let ct = t.created_timestamps();
    assert_eq!(ct.len(), 2);
    assert_eq!(ct.get(0), Some((s1 / 1_000_000) as i64));
    assert_eq!(ct.get(2), Some((s2 / 1_000_000) as i64));
    let head = Head::new("otlp-ct3", DEFAULT_CHUNK_RANGE);
    let req = OtlpRequest {
        body: &body,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
        max_size: 1 << 20,
    };
    let now = (T0 / 1_000_000) as i64;
    let r = ingest_otlp(&head, None, &req, &settings, &limits(now + 60_000));
    assert_eq!((r.status, r.ingest.accepted_samples), (200, 3));
    let series = head.lookup(&[("__name__", "c")]).expect("series");
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    read_all(&series, &mut ts, &mut vs);
    assert_eq!(vs, vec![0.0, 4.0, 6.0, 0.0, 1.0]);
    // Off by default: the translation carries no created timestamps.
    assert!(tr(&body, &Settings::default())
        .created_timestamps()
        .is_empty());
}

/// described is metric() with a description.
fn described(name: &str, description: &str, unit: &str, data_field: u64, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    len_field(&mut m, 1, name.as_bytes());
    len_field(&mut m, 2, description.as_bytes());
    len_field(&mut m, 3, unit.as_bytes());
    len_field(&mut m, data_field, data);
    m
}

#[test]
fn metadata_of_every_family() {
    let body = request(
        &[],
        None,
        &[
            described(
                "http.requests",
                "Requests served.",
                "{request}",
                7,
                &sum(&[number_point(&[], T0, 3.0, 0)], 2, true),
            ),
            described(
                "queue.size",
                "Items waiting.",
                "By",
                7,
                &sum(&[number_point(&[], T0, 3.0, 0)], 2, false),
            ),
            described(
                "cpu.util",
                "Busy share.",
                "1",
                5,
                &gauge(&[number_point(&[], T0, 0.5, 0)]),
            ),
            described(
                "rate",
                "Bytes per second.",
                "By/s",
                5,
                &gauge(&[number_point(&[], T0, 0.5, 0)]),
            ),
            described(
                "deltas",
                "A delta sum.",
                "",
                7,
                &sum(&[number_point(&[], T0, 1.0, 0)], 1, true),
            ),
            // The same family again with the same metadata: one entry.
            described(
                "cpu.util",
                "Busy share.",
                "1",
                5,
                &gauge(&[number_point(&[kv("k", "v")], T0, 0.5, 0)]),
            ),
        ],
    );
    let suffixed = Settings {
        add_suffixes: true,
        allow_delta_temporality: true,
        ..Settings::default()
    };
    let t = tr(&body, &suffixed);
    let got: Vec<_> = t
        .metadata
        .iter()
        .map(|m| {
            (
                m.metric_type,
                m.family.as_str(),
                m.help.as_str(),
                m.unit.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "http_requests_total", "Requests served.", ""),
            (2, "queue_size_bytes", "Items waiting.", "bytes"),
            (2, "cpu_util_ratio", "Busy share.", ""),
            (
                2,
                "rate_bytes_per_second",
                "Bytes per second.",
                "bytes_per_second"
            ),
            (0, "deltas_total", "A delta sum.", ""),
        ]
    );
    // They reach the head's metadata store through the ingest path.
    let head = Head::new("otlp-meta", DEFAULT_CHUNK_RANGE);
    let req = OtlpRequest {
        body: &body,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
        max_size: 1 << 20,
    };
    let r = ingest_otlp(
        &head,
        None,
        &req,
        &suffixed,
        &limits((T0 / 1_000_000) as i64),
    );
    assert_eq!((r.status, r.ingest.accepted_metadata), (200, 5));
}

/// exemplar_bytes encodes an Exemplar: value, time, optional IDs and attributes.
fn exemplar_bytes(v: f64, t_ns: u64, trace: &[u8], span: &[u8], attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut e = Vec::new();
    for a in attrs {
        len_field(&mut e, 7, a);
    }
    fixed64_field(&mut e, 2, t_ns);
    fixed64_field(&mut e, 3, v.to_bits());
    if !span.is_empty() {
        len_field(&mut e, 4, span);
    }
    if !trace.is_empty() {
        len_field(&mut e, 5, trace);
    }
    e
}

#[test]
fn exemplars_of_sums_and_histograms() {
    let trace: Vec<u8> = (1..=16).collect();
    let span: Vec<u8> = (1..=8).collect();
    // A sum point with one exemplar (trace, span and an attribute).
    let mut sp = number_point(&[], T0, 7.0, 0);
    len_field(
        &mut sp,
        5,
        &exemplar_bytes(1.0, T0 - 1_000_000_000, &trace, &span, &[kv("user", "u1")]),
    );
    // A gauge point's exemplar is not kept, as the translator keeps none.
    let mut gp = number_point(&[], T0, 1.0, 0);
    len_field(&mut gp, 5, &exemplar_bytes(1.0, T0, &trace, &[], &[]));
    // A classic histogram with bounds [0.1, 1] and exemplars 0.05, 0.5, 0.1 and 5: the first
    // bucket takes 0.05 and 0.1 (bounds are inclusive), the second 0.5, +Inf takes 5.
    let mut hp = Vec::new();
    fixed64_field(&mut hp, 3, T0);
    fixed64_field(&mut hp, 4, 4);
    bucket_fields(&mut hp, &[2, 1, 1], &[0.1, 1.0]);
    for v in [0.05, 0.5, 0.1, 5.0] {
        len_field(&mut hp, 8, &exemplar_bytes(v, T0, &[], &span, &[]));
    }
    let mut h = Vec::new();
    len_field(&mut h, 1, &hp);
    varint_field(&mut h, 2, 2);
    // Attributes too long for the 128-rune bound are left out; the IDs stay.
    let long = "x".repeat(120);
    let mut sp2 = number_point(&[kv("k", "2")], T0, 8.0, 0);
    len_field(
        &mut sp2,
        5,
        &exemplar_bytes(2.0, T0, &trace, &[], &[kv("note", &long)]),
    );
    let body = request(
        &[],
        None,
        &[
            metric("c", "", 7, &sum(&[sp, sp2], 2, true)),
            metric("g", "", 5, &gauge(&[gp])),
            metric("h", "", 9, &h),
        ],
    );
    let t = tr(&body, &Settings::default());
    type Owned = (Vec<(String, String)>, f64, i64);
    let by_name = |want: &[(&str, &str)]| -> Vec<Owned> {
        let i = (0..t.num_series())
            .find(|&i| t.series_labels(i) == want)
            .unwrap_or_else(|| panic!("series {want:?}"));
        t.series_exemplars(i)
            .into_iter()
            .map(|(l, v, ts)| {
                let l = l
                    .into_iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect();
                (l, v, ts)
            })
            .collect()
    };
    let now = (T0 / 1_000_000) as i64;
    let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let trace_hex = "0102030405060708090a0b0c0d0e0f10";
    let span_hex = "0102030405060708";
    assert_eq!(
        by_name(&[("__name__", "c")]),
        vec![(
            own(&[
                ("span_id", span_hex),
                ("trace_id", trace_hex),
                ("user", "u1")
            ]),
            1.0,
            now - 1000
        )]
    );
    assert_eq!(
        by_name(&[("__name__", "c"), ("k", "2")]),
        vec![(own(&[("trace_id", trace_hex)]), 2.0, now)]
    );
    assert!(by_name(&[("__name__", "g")]).is_empty());
    let values = |le: &str| -> Vec<f64> {
        by_name(&[("__name__", "h_bucket"), ("le", le)])
            .into_iter()
            .map(|(_, v, _)| v)
            .collect()
    };
    assert_eq!(values("0.1"), vec![0.05, 0.1]);
    assert_eq!(values("1"), vec![0.5]);
    assert_eq!(values("+Inf"), vec![5.0]);
    assert!(by_name(&[("__name__", "h_count")]).is_empty());
    assert_eq!(t.num_exemplars(), 6);

    // The distributor's WriteRequest carries them as the translation has them.
    let req = OtlpRequest {
        body: &body,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
        max_size: 1 << 20,
    };
    let out = otlp_write_request(&req, &Settings::default());
    let view = crate::remote::decode_write_request(&out.write_request).expect("a WriteRequest");
    assert_eq!(view.exemplars.len(), 6);
    for i in 0..t.num_series() {
        let want = t.series_exemplars(i);
        let got: Vec<_> = view
            .exemplar_range(i)
            .map(|k| {
                let e = &view.exemplars[k];
                (view.exemplar_labels_of(e).to_vec(), e.value, e.timestamp_ms)
            })
            .collect();
        assert_eq!(got, want);
    }
}

/// read_all appends every float sample of a head series (times in ms as
/// f64, as the selections answer them).
fn read_all(series: &std::sync::Arc<crate::head::MemSeries>, ts: &mut Vec<f64>, vs: &mut Vec<f64>) {
    let mut t = Vec::new();
    crate::querier::Part::Head(std::sync::Arc::clone(series))
        .read_floats(i64::MIN, i64::MAX, &mut t, vs)
        .expect("a head series reads without error");
    ts.extend(t.into_iter().map(|t| t as f64));
}

#[test]
fn start_times_of_native_histograms_become_zero_histograms_when_enabled() {
    // As Prometheus's AppendHistogramCTZeroSample: an empty histogram
    // marked as a counter reset, with the first one's schema, before it;
    // not counted; a second start time within the request gets its own.
    let now = (T0 / 1_000_000) as i64;
    let started = |start_ns: u64, t_ns: u64| {
        let mut p = exp_point(3, t_ns, 1, &(0, vec![2, 1]), &(0, vec![]), 0);
        fixed64_field(&mut p, 2, start_ns);
        p
    };
    let s1 = T0 - 10_000_000_000;
    let s2 = T0 + 20_000_000_000;
    let points = [
        started(s1, T0),
        started(s1, T0 + 15_000_000_000),
        started(s2, T0 + 30_000_000_000),
    ];
    let body = request(
        &[],
        None,
        &[metric("latency", "", 10, &exp_histogram(&points, 2))],
    );
    for enabled in [false, true] {
        let settings = Settings {
            created_timestamp_zero_ingestion: enabled,
            ..Settings::default()
        };
        let head = Head::new("otlp-nh-ct", DEFAULT_CHUNK_RANGE);
        let req = OtlpRequest {
            body: &body,
            encoding: Encoding::Protobuf,
            compression: Compression::None,
            max_size: 1 << 20,
        };
        let r = ingest_otlp(&head, None, &req, &settings, &limits(now + 60_000));
        assert_eq!(
            (r.status, r.ingest.accepted_histograms),
            (200, 3),
            "{}",
            r.message
        );
        let series = head
            .lookup(&[("__name__", "latency"), ("k", "v")])
            .expect("series");
        let mut out = crate::head::SelectedHistograms::default();
        series.read_histograms(i64::MIN, i64::MAX, &mut out);
        let all =
            crate::model::histogram_flat::decode_flat_all(&out.data, &out.data_offsets).unwrap();
        if !enabled {
            assert_eq!(
                out.timestamps,
                vec![now as f64, (now + 15_000) as f64, (now + 30_000) as f64]
            );
            continue;
        }
        let (c1, c2) = ((s1 / 1_000_000) as f64, (s2 / 1_000_000) as f64);
        assert_eq!(
            out.timestamps,
            vec![
                c1,
                now as f64,
                (now + 15_000) as f64,
                c2,
                (now + 30_000) as f64
            ]
        );
        for k in [0, 3] {
            let HistogramValue::Int(z) = &all[k] else {
                panic!("integer histogram expected")
            };
            assert_eq!((z.schema, z.count, z.zero_count, z.sum), (3, 0, 0, 0.0));
            // The chunk may give it the next histograms' layout (Prometheus
            // re-encodes earlier samples with zero-filled new buckets).
            assert!(z.positive_buckets.iter().all(|&b| b == 0), "{z:?}");
        }
    }
}

#[test]
fn start_times_reach_ingesters_through_the_distributors_write_request() {
    // A distributor sends the translation as a 1.0 request with Mimir's
    // TimeSeries.created_timestamp: the ingester makes the same zero
    // samples (floats and histograms) as the monolith's OTLP path.
    let settings = Settings {
        created_timestamp_zero_ingestion: true,
        ..Settings::default()
    };
    let now = (T0 / 1_000_000) as i64;
    let s1 = T0 - 10_000_000_000;
    let s2 = T0 + 20_000_000_000;
    let mut hp = exp_point(3, T0, 1, &(0, vec![2, 1]), &(0, vec![]), 0);
    fixed64_field(&mut hp, 2, s1);
    let floats = [
        number_point_started(s1, T0, 4.0),
        number_point_started(s2, T0 + 30_000_000_000, 1.0),
    ];
    let body = request(
        &[],
        None,
        &[
            metric("c", "", 7, &sum(&floats, 2, true)),
            metric("latency", "", 10, &exp_histogram(&[hp], 2)),
        ],
    );
    let monolith = Head::new("otlp-ct-mono", DEFAULT_CHUNK_RANGE);
    let req = OtlpRequest {
        body: &body,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
        max_size: 1 << 20,
    };
    let r = ingest_otlp(&monolith, None, &req, &settings, &limits(now + 60_000));
    assert_eq!(r.status, 200, "{}", r.message);
    let wr = otlp_write_request(&req, &settings);
    let ingester = Head::new("otlp-ct-ing", DEFAULT_CHUNK_RANGE);
    let ri = crate::ingest::ingest_write_request_logged(
        &ingester,
        None,
        &wr.write_request,
        &limits(now + 60_000),
    );
    assert_eq!(ri.error_status, None, "{:?}", ri.error_message);
    assert_eq!(
        (ri.accepted_samples, ri.accepted_histograms),
        (2, 1),
        "zero samples not counted"
    );
    let want = monolith.select_samples(&[], i64::MIN, i64::MAX, 0).unwrap();
    assert_eq!(want.timestamps.len(), 4, "two float zeros and their points");
    assert_eq!(
        want.histograms.as_ref().map(|h| h.len()),
        Some(2),
        "a zero histogram and the point"
    );
    assert_eq!(
        ingester.select_samples(&[], i64::MIN, i64::MAX, 0).unwrap(),
        want
    );
}
