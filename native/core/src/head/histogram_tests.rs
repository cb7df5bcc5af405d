//! Tests of native-histogram samples in the head: append rules, type
//! switches, selection in the hand-off format, remote-write ingestion.

use super::*;
use crate::head::AppendErrorKind;
use crate::ingest::{ingest_write_request, IngestLimits};
use crate::model::histogram::{CounterResetHint, FloatHistogram, Histogram, HistogramValue, Span};
use crate::model::histogram_flat::decode_flat;
use crate::model::series_labels::labels_json;

const NOW: i64 = 1_700_000_000_000;

pub(crate) fn ih(n: u64) -> HistogramValue {
    HistogramValue::Int(Histogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: n,
        count: 3 * n,
        sum: 2.5 * n as f64,
        positive_spans: vec![Span {
            offset: 1,
            length: 2,
        }],
        positive_buckets: vec![n as i64, 0],
        ..Default::default()
    })
}

pub(crate) fn fh(n: f64) -> HistogramValue {
    HistogramValue::Float(FloatHistogram {
        schema: 2,
        zero_threshold: 0.001,
        zero_count: 0.5,
        count: n + 0.5,
        sum: -n,
        negative_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        negative_buckets: vec![n],
        ..Default::default()
    })
}

pub(crate) fn nhcb(n: u64) -> HistogramValue {
    HistogramValue::Int(Histogram {
        schema: -53,
        count: n,
        sum: n as f64,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![n as i64, -(n as i64)],
        custom_values: vec![0.5, 1.0],
        ..Default::default()
    })
}

/// sel_histograms selects everything and returns per series its labels
/// JSON, float samples and (time, histogram) samples decoded from the
/// hand-off format.
#[allow(clippy::type_complexity)]
pub(crate) fn sel_all(sel: &SelectedSamples) -> Vec<(Vec<(f64, f64)>, Vec<(f64, HistogramValue)>)> {
    let n = sel.offsets.len() - 1;
    (0..n)
        .map(|i| {
            let f = (sel.offsets[i] as usize..sel.offsets[i + 1] as usize)
                .map(|j| (sel.timestamps[j], sel.values[j]))
                .collect();
            let h = match &sel.histograms {
                None => Vec::new(),
                Some(h) => (h.offsets[i] as usize..h.offsets[i + 1] as usize)
                    .map(|j| {
                        let d = &h.data[h.data_offsets[j] as usize..h.data_offsets[j + 1] as usize];
                        (h.timestamps[j], decode_flat(d).unwrap())
                    })
                    .collect(),
            };
            (f, h)
        })
        .collect()
}

/// without_hint drops the counter-reset hint (chunks record it per chunk,
/// not per sample).
pub(crate) fn without_hint(v: &HistogramValue) -> HistogramValue {
    let mut v = v.clone();
    match &mut v {
        HistogramValue::Int(h) => h.counter_reset_hint = CounterResetHint::Unknown,
        HistogramValue::Float(h) => h.counter_reset_hint = CounterResetHint::Unknown,
    }
    v
}

#[test]
fn histograms_follow_the_in_order_rules_and_switch_with_floats() {
    let head = Head::new("nh-rules", DEFAULT_CHUNK_RANGE);
    let (s, _) = head.get_or_create(&[("__name__", "h")]);
    let mut app = head.appender();
    let r = app.append_histograms(&s, [(NOW, &ih(1)), (NOW + 1000, &ih(2))]);
    assert_eq!((r.appended, r.rejected()), (2, 0));
    app.commit();

    let mut app = head.appender();
    // Same time, same histogram: deduplicated; other histogram: duplicate.
    let r = app.append_histograms(&s, [(NOW + 1000, &ih(2))]);
    assert_eq!((r.appended, r.deduplicated), (0, 1));
    let r = app.append_histograms(&s, [(NOW + 1000, &ih(3))]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::DuplicateTimestamp, NOW + 1000))
    );
    let r = app.append_histograms(&s, [(NOW + 500, &ih(3))]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::OutOfOrder, NOW + 500))
    );
    // A float at the histogram's time is a duplicate, before it out of order.
    let r = app.append_series(&s, [(NOW + 1000, 1.0)]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::DuplicateTimestamp, NOW + 1000))
    );
    let r = app.append_series(&s, [(NOW + 900, 1.0)]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::OutOfOrder, NOW + 900))
    );
    // A float after it starts a float chunk.
    let r = app.append_series(&s, [(NOW + 2000, 7.0)]);
    assert_eq!(r.appended, 1);
    app.commit();

    let mut app = head.appender();
    // A histogram at the float's time is a duplicate.
    let r = app.append_histograms(&s, [(NOW + 2000, &ih(4))]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::DuplicateTimestamp, NOW + 2000))
    );
    let r = app.append_histograms(&s, [(NOW + 3000, &fh(4.0)), (NOW + 4000, &fh(5.0))]);
    assert_eq!(r.appended, 2);
    // A float not after the newest histogram is out of order.
    let r = app.append_series(&s, [(NOW + 3500, 1.0)]);
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::OutOfOrder, NOW + 3500))
    );
    // Within one call, a histogram not after the previous one is dropped.
    let r = app.append_histograms(&s, [(NOW + 4100, &fh(6.0)), (NOW + 4100, &fh(7.0))]);
    assert_eq!((r.appended, r.dropped_unordered), (1, 1));
    app.commit();

    // Chunks: int histograms, floats, float histograms.
    assert_eq!(s.state.lock().chunks.num_chunks(), 3);
    let st = head.stats();
    assert_eq!(
        (st.samples, st.chunks, st.min_time, st.max_time),
        (6, 3, NOW, NOW + 4100)
    );

    let sel = head.select_samples(&[], NOW, NOW + 4000, 0).unwrap();
    let all = sel_all(&sel);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, vec![((NOW + 2000) as f64, 7.0)]);
    let got: Vec<(f64, HistogramValue)> = all[0]
        .1
        .iter()
        .map(|(t, v)| (*t, without_hint(v)))
        .collect();
    assert_eq!(
        got,
        vec![
            (NOW as f64, ih(1)),
            ((NOW + 1000) as f64, ih(2)),
            ((NOW + 3000) as f64, fh(4.0)),
            ((NOW + 4000) as f64, fh(5.0)),
        ]
    );
    // isInt tells the kinds apart.
    let h = sel.histograms.as_ref().unwrap();
    assert_eq!(h.data[h.data_offsets[0] as usize + 6], 1.0);
    assert_eq!(h.data[h.data_offsets[2] as usize + 6], 0.0);
    // A range with histograms only still selects the series; the limit
    // counts histogram samples.
    let sel = head.select_samples(&[], NOW, NOW + 1000, 0).unwrap();
    assert_eq!(sel.offsets, vec![0, 0]);
    assert_eq!(sel.histograms.as_ref().unwrap().offsets, vec![0, 2]);
    assert!(head.select_samples(&[], NOW, NOW + 4000, 4).is_err());
    // Float-only selections carry no histogram side channel.
    let (f, _) = head.get_or_create(&[("__name__", "f")]);
    let mut app = head.appender();
    app.append_series(&f, [(NOW, 1.0)]);
    app.commit();
    let m = build_matcher_sets([vec![(0u32, "__name__", "f")]]).unwrap();
    assert_eq!(
        head.select_samples(&m, NOW, NOW + 4000, 0)
            .unwrap()
            .histograms,
        None
    );

    // Truncation drops histogram chunks too.
    let t = head.truncate(NOW + 2500);
    assert_eq!((t.samples_removed, t.series_removed), (4, 1));
    assert_eq!(s.state.lock().chunks.num_chunks(), 1);
}

#[test]
fn remote_write_stores_valid_histograms_and_reports_the_rest() {
    use crate::remote::test_encode::write_request_histograms;
    let head = Head::new("nh-ingest", DEFAULT_CHUNK_RANGE);
    let limits = IngestLimits {
        now_ms: NOW,
        ..IngestLimits::default()
    };
    let mut bad = ih(9);
    if let HistogramValue::Int(h) = &mut bad {
        h.count = 1; // fewer than its buckets hold
    }
    let body = write_request_histograms(&[
        (
            vec![("__name__", "only_hist"), ("job", "a")],
            vec![(NOW, ih(1)), (NOW + 1000, bad), (NOW + 2000, ih(2))],
        ),
        (
            vec![("__name__", "custom")],
            vec![(NOW, nhcb(4)), (NOW + 1000, fh(1.5))],
        ),
    ]);
    let r = ingest_write_request(&head, &body, &limits);
    assert_eq!(r.histograms, 5);
    assert_eq!(r.accepted_histograms, 4);
    assert_eq!(r.accepted_samples, 0);
    assert_eq!(r.created_series, 2);
    assert_eq!(r.error_status, Some(400));
    assert_eq!(r.discarded, vec![("native_histogram_count_mismatch", 1)]);

    // Out of order and duplicates answer as for floats.
    let body = write_request_histograms(&[(
        vec![("__name__", "only_hist"), ("job", "a")],
        vec![(NOW + 1500, ih(5)), (NOW + 2000, ih(2))],
    )]);
    let r = ingest_write_request(&head, &body, &limits);
    assert_eq!((r.accepted_histograms, r.error_status), (0, Some(400)));
    assert_eq!(r.discarded, vec![("sample-out-of-order", 1)]);
    assert!(r
        .error_message
        .unwrap()
        .contains("err-mimir-sample-out-of-order"));

    let sel = head.select_samples(&[], 0, NOW + 10_000, 0).unwrap();
    assert_eq!(
        labels_json(&sel.labels),
        r#"[{"__name__":"custom"},{"__name__":"only_hist","job":"a"}]"#
    );
    let all = sel_all(&sel);
    let strip = |v: &Vec<(f64, HistogramValue)>| -> Vec<(f64, HistogramValue)> {
        v.iter().map(|(t, h)| (*t, without_hint(h))).collect()
    };
    assert_eq!(
        strip(&all[0].1),
        vec![(NOW as f64, nhcb(4)), ((NOW + 1000) as f64, fh(1.5))]
    );
    assert_eq!(
        strip(&all[1].1),
        vec![(NOW as f64, ih(1)), ((NOW + 2000) as f64, ih(2))]
    );
}

#[test]
fn select_chunks_hands_out_histogram_chunks_as_prometheus_readers_get_them() {
    use crate::head::histogram_chunks::encode_histogram_chunks;
    let head = Head::new("nh-chunks", DEFAULT_CHUNK_RANGE);
    let (s, _) = head.get_or_create(&[("__name__", "h")]);
    // A counter reset in the middle: two chunks, the second one open.
    let samples: Vec<(i64, HistogramValue)> = (0..30)
        .map(|i| (NOW + i * 15_000, ih(if i < 20 { i as u64 + 1 } else { 1 })))
        .collect();
    let mut app = head.appender();
    app.append_histograms_unchecked(&s, samples.iter().map(|(t, v)| (*t, v)));
    app.commit();
    let want = encode_histogram_chunks(&samples, DEFAULT_CHUNK_RANGE);
    assert_eq!(want.len(), 2);
    let got = head.select_chunks(&[], NOW, NOW + 3_600_000).unwrap();
    assert_eq!(got.encodings, vec![crate::chunkenc::ENCODING_HISTOGRAM; 2]);
    for (j, c) in want.iter().enumerate() {
        let d = &got.data[got.data_offsets[j] as usize..got.data_offsets[j + 1] as usize];
        assert_eq!(d, &c.data[..], "chunk {j}");
        assert_eq!(
            (got.min_times[j], got.max_times[j]),
            (c.min_t as f64, c.max_t as f64)
        );
    }
}

#[test]
fn series_limits_apply_to_histogram_series() {
    use crate::limits::{SeriesLimits, REASON_PER_USER_SERIES_LIMIT};
    use crate::remote::test_encode::write_request_histograms;
    // The series gate is per tenant and process-wide: a tenant of its own.
    let tenant = format!("nh-limits-{}", std::process::id());
    let head = Head::new(&tenant, DEFAULT_CHUNK_RANGE);
    let limits = IngestLimits {
        now_ms: NOW,
        series: SeriesLimits {
            per_user: 1,
            per_metric: 0,
        },
        ..IngestLimits::default()
    };
    let body = write_request_histograms(&[
        (
            vec![("__name__", "h1")],
            vec![(NOW, ih(1)), (NOW + 1000, ih(2))],
        ),
        (
            vec![("__name__", "h2")],
            vec![(NOW, ih(1)), (NOW + 1000, ih(2))],
        ),
    ]);
    let r = ingest_write_request(&head, &body, &limits);
    assert_eq!((r.accepted_histograms, r.created_series), (2, 1));
    assert_eq!(r.discarded, vec![(REASON_PER_USER_SERIES_LIMIT, 2)]);
    assert_eq!(r.error_status, Some(400));
    assert!(r
        .error_message
        .unwrap()
        .contains("err-mimir-max-series-per-user"));
    assert_eq!(head.num_series(), 1);
}

#[test]
fn start_timestamps_are_selected_beside_their_samples() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let (a, _) = h.get_or_create(&[("__name__", "a")]);
    let (b, _) = h.get_or_create(&[("__name__", "b")]);
    let (c, _) = h.get_or_create(&[("__name__", "c")]);
    let mut app = h.appender();
    // a: no start timestamps; b: a cumulative run then a reset; c: histograms, steady deltas.
    app.append_series(&a, [(NOW, 1.0), (NOW + 60_000, 2.0)]);
    app.append_series_st(
        &b,
        [
            (NOW, 5.0, NOW - 30_000),
            (NOW + 60_000, 6.0, NOW - 30_000),
            (NOW + 120_000, 1.0, NOW + 90_000),
        ],
    );
    let (h1, h2) = (ih(1), ih(2));
    app.append_histograms_st(&c, [(NOW, &h1, NOW - 60_000), (NOW + 60_000, &h2, NOW)]);
    // Refused (out of order): its start timestamp is not kept either.
    let r = app.append_series_st(&b, [(NOW + 60_000, 9.0, 1)]);
    assert_eq!(r.rejected(), 1);
    app.commit();

    let all = h.select_samples(&[], NOW - 1, NOW + 200_000, 0).unwrap();
    assert_eq!(all.timestamps.len(), 5);
    assert_eq!(
        all.start_timestamps.as_deref(),
        Some(
            &[
                0.0,
                0.0,
                (NOW - 30_000) as f64,
                (NOW - 30_000) as f64,
                (NOW + 90_000) as f64
            ][..]
        )
    );
    let hists = all.histograms.expect("histograms");
    assert_eq!(
        hists.start_timestamps.as_deref(),
        Some(&[(NOW - 60_000) as f64, NOW as f64][..])
    );

    // A selection of series without any has none; one starting mid-series reads the run it is in.
    let only_a = h
        .select_samples(
            &[vec![Matcher::new(
                crate::index::MatchType::Equal,
                "__name__",
                "a",
            )
            .unwrap()]],
            NOW - 1,
            NOW + 200_000,
            0,
        )
        .unwrap();
    assert_eq!(only_a.start_timestamps, None);
    let late_b = h
        .select_samples(
            &[vec![Matcher::new(
                crate::index::MatchType::Equal,
                "__name__",
                "b",
            )
            .unwrap()]],
            NOW + 60_000,
            NOW + 200_000,
            0,
        )
        .unwrap();
    assert_eq!(
        late_b.start_timestamps.as_deref(),
        Some(&[(NOW - 30_000) as f64, (NOW + 90_000) as f64][..])
    );

    // Truncation keeps the run covering what is left.
    h.truncate(NOW + 100_000);
    assert_eq!(
        b.state.lock().chunks.start_time(NOW + 120_000),
        NOW + 90_000
    );
}
