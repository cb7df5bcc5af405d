//! Head tests: series identity, append semantics, reads.

use super::*;
use crate::index::{MatchType, Matcher};
use crate::model::series_labels::labels_json;

fn l<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    pairs.to_vec()
}

#[test]
fn series_identity_and_refs() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let (a, ca) = h.get_or_create(&l(&[("__name__", "up"), ("job", "a")]));
    let (b, cb) = h.get_or_create(&l(&[("__name__", "up"), ("job", "b")]));
    let (a2, ca2) = h.get_or_create(&l(&[("__name__", "up"), ("job", "a")]));
    assert!(ca && cb && !ca2);
    assert_eq!((a.series_ref, b.series_ref, a2.series_ref), (1, 2, 1));
    assert_eq!(h.num_series(), 2);
    assert_eq!(h.series_by_ref(2).unwrap().labels.get("job"), Some("b"));
    let a = h.series_by_ref(1).unwrap();
    assert!(a.labels.eq_pairs(&[("__name__", "up"), ("job", "a")]));
}

#[test]
fn hash_collisions_are_resolved_by_labels() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    // Force a collision by inserting two series under one hash by hand.
    let (a, _) = h.get_or_create(&l(&[("a", "1")]));
    {
        let mut idx = h.index.write();
        let hash = hash_labels(&[("a", "1")]);
        let owned = series::Labels::from_pairs(&[("a", "2")]);
        idx.series.push(Some(Arc::new(MemSeries::new(2, owned))));
        idx.collisions.insert(hash, vec![2]);
    }
    let idx = h.index.read();
    let hash = hash_labels(&[("a", "1")]);
    assert_eq!(idx.find(hash, &[("a", "2")]).unwrap().series_ref, 2);
    assert_eq!(
        idx.find(hash, &[("a", "1")]).unwrap().series_ref,
        a.series_ref
    );
    assert!(idx.find(hash, &[("a", "3")]).is_none());
}

#[test]
fn colliding_series_are_created_and_found() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let (a, _) = h.get_or_create(&[("a", "1")]);
    // Pretend {a="2"} hashes like {a="1"}: its hash already names series 1.
    let hash2 = hash_labels(&[("a", "2")]);
    h.index.write().by_hash.insert(hash2, a.series_ref);
    let (b, created) = h.get_or_create(&[("a", "2")]);
    assert!(created);
    assert_eq!(b.series_ref, 2);
    assert_eq!(h.index.read().collisions.get(&hash2), Some(&vec![2]));
    let (b2, again) = h.get_or_create(&[("a", "2")]);
    assert!(!again);
    assert_eq!(b2.series_ref, 2);
    assert_eq!(h.num_series(), 2);
}

fn append(h: &Head, labels: &[(&str, &str)], samples: &[(i64, f64)]) -> SeriesAppendResult {
    let (s, _) = h.get_or_create(labels);
    let mut app = h.appender();
    let r = app.append_series(&s, samples.iter().copied());
    app.commit();
    r
}

#[test]
fn append_semantics_like_mimir() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let s = [("__name__", "m")];
    let r = append(&h, &s, &[(1000, 1.0), (2000, 2.0)]);
    assert_eq!(r.appended, 2);
    // Duplicate with another value, exact duplicate, out of order, fine.
    let r = append(
        &h,
        &s,
        &[(2000, 3.0), (2000, 2.0), (1500, 1.0), (3000, 3.0)],
    );
    assert_eq!(
        (
            r.appended,
            r.duplicate_timestamp,
            r.deduplicated,
            r.out_of_order
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        r.first_error,
        Some((AppendErrorKind::DuplicateTimestamp, 2000))
    );
    // Stale NaN vs NaN differ by bits: duplicate error, same bits dedup.
    let stale = f64::from_bits(crate::chunkenc::STALE_NAN_BITS);
    let r = append(&h, &s, &[(4000, stale)]);
    assert_eq!(r.appended, 1);
    let r = append(&h, &s, &[(4000, f64::NAN), (4000, stale)]);
    assert_eq!(
        (r.appended, r.duplicate_timestamp, r.deduplicated),
        (0, 1, 1)
    );
    let st = h.stats();
    assert_eq!(
        (st.series, st.samples, st.chunks, st.min_time, st.max_time),
        (1, 4, 1, 1000, 4000)
    );
}

#[test]
fn too_old_relative_to_head_max() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let hour = 3_600_000;
    append(&h, &[("__name__", "a")], &[(10 * hour, 1.0)]);
    // New series: min valid time = 10h - 1h.
    let r = append(
        &h,
        &[("__name__", "b")],
        &[(9 * hour - 1, 1.0), (9 * hour, 2.0)],
    );
    assert_eq!((r.out_of_bounds, r.appended), (1, 1));
    assert_eq!(r.first_error.unwrap().0.reason(), "sample-out-of-bounds");
    // Too old wins over out of order.
    let r = append(&h, &[("__name__", "a")], &[(hour, 1.0)]);
    assert_eq!(r.out_of_bounds, 1);
}

#[test]
fn empty_head_min_valid_time_from_first_sample() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let hour = 3_600_000;
    let (s, _) = h.get_or_create(&[("__name__", "a")]);
    let mut app = h.appender();
    let r = app.append_series(&s, [(10 * hour, 1.0)]);
    assert_eq!(r.appended, 1);
    let (s2, _) = h.get_or_create(&[("__name__", "b")]);
    let r = app.append_series(&s2, [(9 * hour - 1, 1.0)]);
    assert_eq!(r.out_of_bounds, 1);
    app.commit();
}

fn eq(n: &str, v: &str) -> Matcher {
    Matcher::new(MatchType::Equal, n, v).unwrap()
}

fn re(n: &str, v: &str) -> Matcher {
    Matcher::new(MatchType::Regexp, n, v).unwrap()
}

#[test]
fn reads_sorted_filtered_limited() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    append(&h, &[("__name__", "up"), ("job", "z")], &[(100, 1.0)]);
    append(
        &h,
        &[("__name__", "up"), ("instance", "i<1>"), ("job", "a")],
        &[(200, 1.0)],
    );
    append(&h, &[("__name__", "down"), ("job", "a")], &[(300, 1.0)]);
    h.get_or_create(&[("__name__", "empty")]);

    let all = h.series_json(&[], 0, 1000, 0);
    assert_eq!(
        all,
        r#"[{"__name__":"down","job":"a"},{"__name__":"up","instance":"i\u003c1\u003e","job":"a"},{"__name__":"up","job":"z"}]"#
    );
    assert_eq!(
        h.series_json(&[], 0, 1000, 1),
        r#"[{"__name__":"down","job":"a"}]"#
    );
    assert_eq!(
        h.series_json(&[], 150, 250, 0),
        r#"[{"__name__":"up","instance":"i\u003c1\u003e","job":"a"}]"#
    );
    assert_eq!(h.series_json(&[], 2000, 3000, 0), "[]");

    let sets = vec![
        vec![eq("__name__", "up"), eq("job", "z")],
        vec![re("__name__", "do.*")],
    ];
    assert_eq!(
        h.series_json(&sets, 0, 1000, 0),
        r#"[{"__name__":"down","job":"a"},{"__name__":"up","job":"z"}]"#
    );

    assert_eq!(
        h.label_names(&[], 0, 1000, 0),
        ["__name__", "instance", "job"]
    );
    assert_eq!(
        h.label_names(&[vec![eq("job", "z")]], 0, 1000, 0),
        ["__name__", "job"]
    );
    assert_eq!(h.label_names(&[], 0, 1000, 2), ["__name__", "instance"]);
    assert_eq!(h.label_values("job", &[], 0, 1000, 0), ["a", "z"]);
    assert_eq!(
        h.label_values("__name__", &[vec![eq("job", "a")]], 0, 1000, 0),
        ["down", "up"]
    );
    assert_eq!(
        h.label_values("__name__", &[vec![eq("job", "a")]], 250, 1000, 0),
        ["down"]
    );
    assert!(h.label_values("nope", &[], 0, 1000, 0).is_empty());
}

#[test]
fn series_in_a_gap_between_chunks_is_not_selected() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let hour = 3_600_000;
    append(
        &h,
        &[("__name__", "gap")],
        &[(0, 1.0), (1000, 1.0), (3 * hour, 1.0)],
    );
    assert_eq!(h.series_json(&[], 2000, hour, 0), "[]");
    assert_eq!(
        h.series_json(&[], 2000, 3 * hour, 0),
        r#"[{"__name__":"gap"}]"#
    );
}

#[test]
fn matcher_sets_from_triples() {
    assert!(build_matcher_sets([[(2u32, "a", "(")]]).is_err());
    assert!(build_matcher_sets([[(9u32, "a", "b")]]).is_err());
    assert_eq!(
        build_matcher_sets([[(0u32, "a", "b")], [(3u32, "c", "d.*")]])
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn db_registry() {
    let db = crate::tsdb::Registry::new();
    let h = db.head("a");
    append(&h, &[("__name__", "x")], &[(1, 1.0)]);
    db.head("b");
    let st = db.head_stats();
    assert_eq!(
        st.iter().map(|s| s.tenant.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(st[0].samples, 1);
    assert!(db.drop_tenant("a").unwrap());
    assert!(!db.drop_tenant("a").unwrap());
    assert_eq!(db.head("a").num_series(), 0);
}

#[test]
fn concurrent_appends_from_threads() {
    let h = Arc::new(Head::new("t", DEFAULT_CHUNK_RANGE));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let h = Arc::clone(&h);
            std::thread::spawn(move || {
                for i in 0..200i64 {
                    let job = format!("j{}", i % 10);
                    let (s, _) = h.get_or_create(&[("__name__", "m"), ("job", job.as_str())]);
                    let mut app = h.appender();
                    app.append_series(&s, [(i * 1000 + k, 1.0)]);
                    app.commit();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(h.num_series(), 10);
}

#[test]
fn disorder_within_one_batch_is_dropped_silently() {
    // Checks run against the series before the batch; the in-order append
    // then drops what is not after its predecessor, without an error.
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let s = [("__name__", "m")];
    append(&h, &s, &[(1000, 1.0)]);
    let r = append(
        &h,
        &s,
        &[(3000, 1.0), (2000, 2.0), (3000, 5.0), (4000, 1.0)],
    );
    assert_eq!((r.appended, r.dropped_unordered, r.rejected()), (2, 2, 0));
    assert_eq!(r.first_error, None);
    assert_eq!(h.stats().samples, 3);
}

#[test]
fn select_samples_decodes_overlapping_chunks() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    // 300 samples 15s apart: three chunks (120, 120, 60 samples).
    let a: Vec<(i64, f64)> = (0..300).map(|i| (i * 15_000, i as f64)).collect();
    append(&h, &[("__name__", "m"), ("job", "b")], &a);
    let stale = f64::from_bits(crate::chunkenc::STALE_NAN_BITS);
    append(
        &h,
        &[("__name__", "m"), ("job", "a")],
        &[(4_000_000, 1.0), (4_001_000, stale), (4_002_000, 3.0)],
    );
    append(&h, &[("__name__", "other")], &[(4_000_000, 1.0)]);
    assert_eq!(
        h.series_by_ref(1).unwrap().state.lock().chunks.num_chunks(),
        3
    );

    let sets = vec![vec![eq("__name__", "m")]];
    // Bounds are inclusive; the range spans the first chunk boundary.
    let sel = h.select_samples(&sets, 1_785_000, 1_815_000, 0).unwrap();
    assert_eq!(labels_json(&sel.labels), r#"[{"__name__":"m","job":"b"}]"#);
    assert_eq!(sel.offsets, vec![0, 3]);
    assert_eq!(sel.timestamps, vec![1_785_000.0, 1_800_000.0, 1_815_000.0]);
    assert_eq!(sel.values, vec![119.0, 120.0, 121.0]);

    // Everything: sorted by labels, the marker's bits intact.
    let sel = h.select_samples(&sets, i64::MIN, i64::MAX, 0).unwrap();
    assert_eq!(
        labels_json(&sel.labels),
        r#"[{"__name__":"m","job":"a"},{"__name__":"m","job":"b"}]"#
    );
    assert_eq!(sel.offsets, vec![0, 3, 303]);
    assert_eq!(sel.values[1].to_bits(), crate::chunkenc::STALE_NAN_BITS);
    assert_eq!(sel.timestamps[302], 299.0 * 15_000.0);

    // A series with chunks around but no sample inside is left out.
    // (The first chunk of job="b" overlaps [3.5s, 14s], its samples do not.)
    let sel = h.select_samples(&sets, 3_500, 14_000, 0).unwrap();
    assert_eq!(labels_json(&sel.labels), "[]");
    assert_eq!(sel.offsets, vec![0]);
    let none = h
        .select_samples(&[vec![eq("__name__", "x")]], 0, 10, 0)
        .unwrap();
    assert_eq!(
        (labels_json(&none.labels).as_str(), none.offsets.as_slice()),
        ("[]", &[0u32][..])
    );
    // No matcher sets: every series.
    assert_eq!(
        h.select_samples(&[], 3_990_000, 4_000_000, 0)
            .unwrap()
            .offsets,
        vec![0, 1, 2, 3]
    );

    // The sample limit.
    assert!(h.select_samples(&sets, 0, 30_000, 3).is_ok());
    let err = h.select_samples(&sets, 0, 30_000, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
}

#[test]
fn unchecked_appends_skip_validation_but_keep_order() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    append(&h, &[("__name__", "m")], &[(100 * 3_600_000, 1.0)]);
    let (s, _) = h.get_or_create(&[("__name__", "old")]);
    let mut app = h.appender();
    // Far below maxT - range/2, and a duplicate / out-of-order pair.
    let n = app.append_series_unchecked(&s, [(0, 1.0), (10, 2.0), (10, 3.0), (5, 4.0), (20, 5.0)]);
    app.commit();
    assert_eq!(n, 3);
    assert_eq!(h.min_time(), Some(0));
    let sel = h
        .select_samples(&[vec![eq("__name__", "old")]], 0, 100, 0)
        .unwrap();
    assert_eq!(sel.timestamps, vec![0.0, 10.0, 20.0]);
    assert_eq!(sel.values, vec![1.0, 2.0, 5.0]);
    assert_eq!(h.stats().samples, 4);
}

/// Prints (run with `--nocapture`) and bounds the fixed per-series sizes:
/// what a series costs before its labels and chunk bytes.
#[test]
fn per_series_struct_sizes() {
    use std::mem::size_of;
    let sizes = [
        ("MemSeries", size_of::<MemSeries>()),
        ("SeriesState", size_of::<series::SeriesState>()),
        ("SeriesChunks", size_of::<chunks::SeriesChunks>()),
        ("HeadChunk", size_of::<chunks::HeadChunk>()),
        ("Option<HeadChunk>", size_of::<Option<chunks::HeadChunk>>()),
        ("ClosedChunk", size_of::<chunks::ClosedChunk>()),
        ("Labels", size_of::<series::Labels>()),
        ("by_hash entry", size_of::<(u64, u32)>()),
    ];
    for (name, n) in sizes {
        println!("size_of::<{name}>() = {n}");
    }
    assert_eq!(size_of::<series::Labels>(), 16);
    // 136 before native histograms; their chunks cost a float-only series
    // one pointer (`SeriesChunks::hist`, None until a histogram arrives),
    // start timestamps one more (`SeriesChunks::st`, None until one comes).
    assert!(size_of::<MemSeries>() <= 152, "{sizes:?}");
}

#[test]
fn select_chunks_returns_stored_chunks_and_the_open_one() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    // 300 samples 15s apart: two closed chunks of 120 and the open one of 60.
    let a: Vec<(i64, f64)> = (0..300).map(|i| (i * 15_000, i as f64)).collect();
    append(&h, &[("__name__", "m"), ("job", "b")], &a);
    append(&h, &[("__name__", "m"), ("job", "a")], &[(4_000_000, 1.0)]);
    let sets = vec![vec![eq("__name__", "m")]];

    let sel = h.select_chunks(&sets, i64::MIN, i64::MAX).unwrap();
    assert_eq!(
        labels_json(&sel.labels),
        r#"[{"__name__":"m","job":"a"},{"__name__":"m","job":"b"}]"#
    );
    assert_eq!(sel.series_offsets, vec![0, 1, 4]);
    assert_eq!(sel.encodings, vec![1, 1, 1, 1]);
    assert_eq!(
        sel.min_times,
        vec![4_000_000.0, 0.0, 1_800_000.0, 3_600_000.0]
    );
    assert_eq!(
        sel.max_times,
        vec![4_000_000.0, 1_785_000.0, 3_585_000.0, 4_485_000.0]
    );
    // Each chunk is stored XOR data: it decodes to its own samples.
    let mut n = 0;
    for j in 1..4 {
        let data = &sel.data[sel.data_offsets[j] as usize..sel.data_offsets[j + 1] as usize];
        let mut it = crate::chunkenc::XorIterator::new(data);
        assert_eq!(it.num_samples(), if j == 3 { 60 } else { 120 });
        assert!(it.seek(i64::MIN));
        loop {
            let (t, bits) = it.at_bits();
            assert_eq!((t, f64::from_bits(bits)), a[n]);
            n += 1;
            if !it.next() {
                break;
            }
        }
    }
    assert_eq!(n, 300);

    // Whole chunks overlapping the range; series without one are left out.
    let sel = h.select_chunks(&sets, 1_785_000, 1_800_000).unwrap();
    assert_eq!(labels_json(&sel.labels), r#"[{"__name__":"m","job":"b"}]"#);
    assert_eq!(sel.min_times, vec![0.0, 1_800_000.0]);
    let sel = h
        .select_chunks(&[vec![eq("__name__", "x")]], 0, 10)
        .unwrap();
    assert_eq!(
        (
            labels_json(&sel.labels).as_str(),
            sel.series_offsets.as_slice()
        ),
        ("[]", &[0u32][..])
    );
}

/// truncate drops chunks before the cut and series left empty (their refs
/// not reused), keeps the rest, and refuses appends before the cut.
#[test]
fn truncate_drops_old_chunks_and_empty_series() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let r = DEFAULT_CHUNK_RANGE;
    let (old, _) = h.get_or_create(&l(&[("__name__", "old")]));
    let (live, _) = h.get_or_create(&l(&[("__name__", "live")]));
    let mut app = h.appender();
    app.append_series(&old, (0..100).map(|i| (i * 60_000, 1.0)));
    app.append_series(&live, (0..300).map(|i| (i * 60_000, 2.0)));
    app.commit();
    let st = h.truncate(r);
    assert_eq!(st.series_removed, 1);
    assert_eq!(st.samples_removed, 100 + 120);
    assert_eq!(h.num_series(), 1);
    assert!(h.lookup(&[("__name__", "old")]).is_none());
    assert_eq!(h.min_time(), Some(r));
    assert_eq!(h.stats().samples, 180);
    assert!(h.select_series(&[], 0, r - 1).is_empty());
    // A new "old" series gets a new ref.
    let (again, created) = h.get_or_create(&l(&[("__name__", "old")]));
    assert!(created);
    assert_eq!(again.series_ref, 3);
    let mut app = h.appender();
    let res = app.append_series(&again, [(r - 1, 1.0), (300 * 60_000, 1.0)]);
    app.commit();
    assert_eq!((res.appended, res.out_of_bounds), (1, 1));
    assert_eq!(h.all_series().len(), 2);
}

/// Removing many series at once (their postings in one pass) leaves the
/// same index as removing them one by one: lookups, postings and label
/// values of the series left, and none of the removed ones.
#[test]
fn truncate_removes_many_series_in_one_pass() {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let r = DEFAULT_CHUNK_RANGE;
    for i in 0..1000 {
        let inst = format!("i{i}");
        let parity = if i % 2 == 0 { "even" } else { "odd" };
        // Odd series only have samples before the cut.
        let t = if i % 2 == 0 { r + 1_000 } else { 1_000 };
        append(
            &h,
            &[("__name__", "m"), ("inst", &inst), ("p", parity)],
            &[(t, 1.0)],
        );
    }
    let st = h.truncate(r);
    assert_eq!(st.series_removed, 500);
    assert_eq!(h.num_series(), 500);
    assert!(h
        .lookup(&[("__name__", "m"), ("inst", "i1"), ("p", "odd")])
        .is_none());
    assert!(h
        .lookup(&[("__name__", "m"), ("inst", "i2"), ("p", "even")])
        .is_some());
    assert_eq!(h.label_values("p", &[], i64::MIN, i64::MAX, 0), ["even"]);
    assert_eq!(
        h.select_series(&[vec![eq("__name__", "m")]], i64::MIN, i64::MAX)
            .len(),
        500
    );
    assert!(h
        .select_series(&[vec![eq("p", "odd")]], i64::MIN, i64::MAX)
        .is_empty());
    // A removed series comes back with a new ref and is found again.
    append(
        &h,
        &[("__name__", "m"), ("inst", "i1"), ("p", "odd")],
        &[(r + 5_000, 2.0)],
    );
    assert_eq!(
        h.select_series(&[vec![eq("p", "odd")]], i64::MIN, i64::MAX)
            .len(),
        1
    );
    assert_eq!(
        h.label_values("p", &[], i64::MIN, i64::MAX, 0),
        ["even", "odd"]
    );
}

#[test]
fn select_range_equals_select_then_range_kernel() {
    use crate::promql::{range_kernel, RangeFn, SeriesSet};
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    let stale = f64::from_bits(crate::chunkenc::STALE_NAN_BITS);
    // 300 series (enough to be split over threads), 400 samples each, some
    // with resets, a staleness marker, gaps; one series only outside the steps' windows.
    for s in 0..300i64 {
        let job = format!("j{s:03}");
        let samples: Vec<(i64, f64)> = (0..400i64)
            .filter(|i| s % 7 != 0 || !(100..200).contains(i))
            .map(|i| {
                let v = if i == 250 && s % 5 == 0 {
                    stale
                } else {
                    ((i * (s + 1)) % 997) as f64
                };
                (i * 15_000 + s, v)
            })
            .collect();
        append(&h, &[("__name__", "m"), ("job", &job)], &samples);
    }
    append(&h, &[("__name__", "m"), ("job", "old")], &[(1_000, 1.0)]);
    // Selected, but rate has no value for it anywhere (one sample).
    append(
        &h,
        &[("__name__", "m"), ("job", "single")],
        &[(5_000_000, 1.0)],
    );
    let sets = vec![vec![eq("__name__", "m")]];
    let eval: Vec<f64> = (0..100).map(|k| 400_000.0 + k as f64 * 60_000.0).collect();
    for (func, params, range) in [
        (RangeFn::Rate, vec![], 300_000.0),
        (RangeFn::MaxOverTime, vec![], 3_600_000.0),
        (RangeFn::QuantileOverTime, vec![0.9], 600_000.0),
        (RangeFn::CountOverTime, vec![], 60_000.0),
    ] {
        let mint = eval[0] as i64 - range as i64 + 1;
        let maxt = *eval.last().unwrap() as i64;
        let sel = h.select_samples(&sets, mint, maxt, 0).unwrap();
        let data = SeriesSet::new(&sel.offsets, &sel.timestamps, &sel.values).unwrap();
        let want = range_kernel(func, &data, &eval, range, &params).unwrap();
        let got = h
            .select_range(&sets, mint, maxt, func, &eval, range, &params, 0)
            .unwrap();
        assert_eq!(got.samples, sel.values.len() as u64);
        // The two-step answer without its series that have no value anywhere.
        let n = eval.len();
        let labels: Vec<serde_json::Value> =
            serde_json::from_str(&labels_json(&sel.labels)).unwrap();
        let (mut kept, mut values, mut present) = (Vec::new(), Vec::new(), Vec::new());
        for (i, l) in labels.iter().enumerate() {
            let row = i * n..(i + 1) * n;
            if want.present[row.clone()].contains(&1) {
                kept.push(l.clone());
                values.extend_from_slice(&want.values[row.clone()]);
                present.extend_from_slice(&want.present[row]);
            }
        }
        assert!(
            kept.len() > 250,
            "{func:?}: {} of {}",
            kept.len(),
            labels.len()
        );
        if func == RangeFn::Rate {
            assert_eq!(kept.len() + 1, labels.len());
        }
        assert_eq!(
            serde_json::from_str::<Vec<serde_json::Value>>(&labels_json(&got.labels)).unwrap(),
            kept
        );
        assert_eq!(got.present, present, "{func:?}");
        let same = got
            .values
            .iter()
            .zip(&values)
            .zip(&got.present)
            .all(|((a, b), &p)| p == 0 || a.to_bits() == b.to_bits());
        assert!(same, "{func:?}");
    }
}

#[test]
fn select_range_stops_at_max_samples() {
    use super::read::SampleBudget;
    use crate::promql::RangeFn;
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    // 400 series (split over threads) of 100 samples each: 40,000 in all.
    for s in 0..400i64 {
        let job = format!("j{s:03}");
        let samples: Vec<(i64, f64)> = (0..100i64).map(|i| (i * 15_000, i as f64)).collect();
        append(&h, &[("__name__", "m"), ("job", &job)], &samples);
    }
    let sets = vec![vec![eq("__name__", "m")]];
    let eval: Vec<f64> = (0..20).map(|k| 300_000.0 + k as f64 * 60_000.0).collect();
    let (mint, maxt) = (0, 1_500_000);
    let run =
        |max: usize| h.select_range(&sets, mint, maxt, RangeFn::Rate, &eval, 300_000.0, &[], max);
    // At the limit (and without one) the answer is whole.
    let all = run(0).unwrap();
    assert_eq!(all.samples, 40_000);
    assert_eq!(run(40_000).unwrap(), all);
    // One under: refused, with Prometheus's text.
    assert_eq!(run(39_999), Err(HeadRangeError::TooManySamples));
    assert_eq!(
        TooManySamples.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    // The selection stops at the first series over the limit: each thread
    // decodes at most one series past it, never the whole selection.
    let budget = SampleBudget::new(1_000);
    let got = h.select_range_budget(
        &sets,
        mint,
        maxt,
        RangeFn::Rate,
        &eval,
        300_000.0,
        &[],
        &budget,
    );
    assert_eq!(got, Err(HeadRangeError::TooManySamples));
    let threads = super::select_range::threads() as u64;
    assert!(budget.used() > 1_000, "charged {}", budget.used());
    assert!(
        budget.used() <= 1_000 + 100 * threads,
        "charged {}",
        budget.used()
    );
    // The plain selection applies the same limit.
    assert_eq!(
        h.select_samples(&sets, mint, maxt, 39_999),
        Err(TooManySamples)
    );
    assert_eq!(
        h.select_samples(&sets, mint, maxt, 40_000)
            .unwrap()
            .values
            .len(),
        40_000
    );
}

/// label_look_ups_under_a_selection_match_a_series_walk checks label names
/// and values over random selections (as label policies give them) and
/// ranges, covering the head or not, against the labels of the series
/// `select_series` returns.
#[test]
fn label_look_ups_under_a_selection_match_a_series_walk() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    for i in 0..400u64 {
        let name = format!("m{}", next(5));
        let team = format!("t{}", next(4));
        let env = format!("e{}", next(3));
        let idx = i.to_string();
        let mut labels = vec![
            ("__name__", name.as_str()),
            ("i", idx.as_str()),
            ("team", team.as_str()),
        ];
        if next(2) == 0 {
            labels.push(("env", env.as_str()));
        }
        let t = (next(10) * 100) as i64;
        append(&h, &labels, &[(t, 1.0), (t + 50, 2.0)]);
    }
    let matchers = [
        eq("team", "t1"),
        re("team", "t[02]"),
        eq("env", "e0"),
        Matcher::new(MatchType::NotEqual, "env", "e1").unwrap(),
        re("__name__", "m[13]"),
        Matcher::new(MatchType::NotRegexp, "team", "t3").unwrap(),
    ];
    for _ in 0..60 {
        let sets: Vec<Vec<Matcher>> = (0..1 + next(2))
            .map(|_| {
                (0..1 + next(2))
                    .map(|_| matchers[next(6) as usize].clone())
                    .collect()
            })
            .collect();
        let (mint, maxt) = if next(2) == 0 {
            (0, 2000)
        } else {
            let a = (next(10) * 100) as i64;
            (a, a + (next(5) * 100) as i64)
        };
        let series = h.select_series(&sets, mint, maxt);
        let mut names: Vec<String> = series
            .iter()
            .flat_map(|s| s.labels.iter().map(|(n, _)| n.to_string()))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(
            h.label_names(&sets, mint, maxt, 0),
            names,
            "names {sets:?} [{mint}, {maxt}]"
        );
        for label in ["__name__", "team", "env", "i"] {
            let mut values: Vec<String> = series
                .iter()
                .filter_map(|s| s.labels.get(label).map(str::to_string))
                .collect();
            values.sort();
            values.dedup();
            assert_eq!(
                h.label_values(label, &sets, mint, maxt, 0),
                values,
                "{label} {sets:?} [{mint}, {maxt}]"
            );
        }
        // Without a per-series range (a label policy's sets only): every selected series counts
        // once one of them overlaps the range (the head's own range counts hidden series too).
        let mut any: Vec<Arc<MemSeries>> = h.select_series(&sets, i64::MIN, i64::MAX);
        if !any.iter().any(|s| s.overlaps(mint, maxt)) {
            any.clear();
        }
        let mut names: Vec<String> = any
            .iter()
            .flat_map(|s| s.labels.iter().map(|(n, _)| n.to_string()))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(
            h.label_names_ranged(&sets, mint, maxt, 0, false),
            names,
            "unranged names {sets:?}"
        );
        let mut values: Vec<String> = any
            .iter()
            .filter_map(|s| s.labels.get("team").map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        assert_eq!(
            h.label_values_ranged("team", &sets, mint, maxt, 0, false),
            values,
            "unranged team {sets:?}"
        );
    }
}

#[test]
fn instant_rows_read_only_the_newest_sample_when_every_step_is_after_it() {
    use super::read::SampleBudget;
    use crate::promql::aggregate::{AggOp, Aggregator};
    use crate::promql::RowEval;
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    append(
        &h,
        &[("__name__", "x"), ("job", "a")],
        &[(1_000, 1.0), (16_000, 2.0), (31_000, 3.0)],
    );
    append(
        &h,
        &[("__name__", "x"), ("job", "b")],
        &[(1_000, 10.0), (16_000, 20.0)],
    );
    let stale = f64::from_bits(crate::model::histogram::STALE_NAN_BITS);
    append(
        &h,
        &[("__name__", "x"), ("job", "c")],
        &[(1_000, 5.0), (16_000, stale)],
    );
    let sets = vec![vec![eq("__name__", "x")]];
    // Steps at, after and before the newest samples, with a 5m and a 10s lookback.
    let cases: [(&[f64], f64); 5] = [
        (&[31_000.0], 300_000.0),
        (&[40_000.0, 100_000.0], 300_000.0),
        (&[40_000.0], 10_000.0),
        (&[20_000.0, 31_000.0], 300_000.0),
        (&[400_000.0], 300_000.0),
    ];
    for (times, lookback) in cases {
        let run = |budget: &SampleBudget| {
            let mut agg =
                Aggregator::new(AggOp::Sum, false, &["job".to_string()], times.len(), false);
            let (mint, maxt) = (
                times[0] as i64 - lookback as i64 + 1,
                *times.last().unwrap() as i64,
            );
            h.select_rows_aggregate(
                &sets,
                mint,
                maxt,
                &RowEval::Instant(lookback),
                times,
                budget,
                &mut agg,
            )
            .unwrap();
            let out = agg.finish(0);
            (labels_json(&out.labels), out.values, out.present, out.cells)
        };
        // A limited budget takes the decoding path; an unlimited one the newest-sample path.
        let decoded = run(&SampleBudget::new(1_000_000));
        let newest = run(&SampleBudget::new(0));
        assert_eq!(newest, decoded, "steps {times:?} lookback {lookback}");
    }
    let mut agg = Aggregator::new(AggOp::Sum, false, &["job".to_string()], 1, false);
    h.select_rows_aggregate(
        &sets,
        40_000 - 300_000 + 1,
        40_000,
        &RowEval::Instant(300_000.0),
        &[40_000.0],
        &SampleBudget::new(0),
        &mut agg,
    )
    .unwrap();
    let out = agg.finish(0);
    assert_eq!(
        labels_json(&out.labels),
        r#"[{"job":"a"},{"job":"b"}]"#,
        "the stale series has no value"
    );
    assert_eq!(out.values, vec![3.0, 20.0]);
}

#[test]
fn unranged_look_ups_under_a_policy_ignore_hidden_series_times() {
    // A label policy shows `visible` (samples at 0-2m); a hidden series has samples at 10-12m.
    // Over 10-12m, a head holding only the visible series has nothing: neither has the policy reader.
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    append(
        &h,
        &[("__name__", "m"), ("team", "z"), ("vis", "1")],
        &[(0, 1.0), (60_000, 1.0), (120_000, 1.0)],
    );
    append(
        &h,
        &[("__name__", "m"), ("team", "y")],
        &[(600_000, 1.0), (660_000, 1.0), (720_000, 1.0)],
    );
    let policy = vec![vec![eq("vis", "1")]];
    assert!(h
        .label_values_ranged("team", &policy, 600_000, 720_000, 0, false)
        .is_empty());
    assert!(h
        .label_names_ranged(&policy, 600_000, 720_000, 0, false)
        .is_empty());
    // Over a range the visible series meets, every selected value and name (no per-series range).
    assert_eq!(
        h.label_values_ranged("team", &policy, 100_000, 700_000, 0, false),
        vec!["z".to_string()]
    );
    assert_eq!(
        h.label_names_ranged(&policy, 100_000, 700_000, 0, false),
        vec![
            "__name__".to_string(),
            "team".to_string(),
            "vis".to_string()
        ]
    );
}

#[test]
fn selection_scope_evaluates_a_repeated_selection_once() {
    use super::read::SampleBudget;
    use super::row_memo;
    use crate::promql::{RangeEval, RangeFn, RowEval};
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    for s in 0..20i64 {
        let job = format!("j{s:02}");
        let samples: Vec<(i64, f64)> = (0..40i64).map(|i| (i * 15_000, (i * s) as f64)).collect();
        append(&h, &[("__name__", "m"), ("job", &job)], &samples);
    }
    let sets = vec![vec![eq("__name__", "m")]];
    let eval = [585_000.0];
    let rate =
        |range_ms: f64| RowEval::Range(RangeEval::new(RangeFn::Rate, &[], 1, range_ms).unwrap());
    let rows = |ev: &RowEval<'_>, mint: i64, budget: &SampleBudget| {
        h.range_rows(&sets, mint, 585_000, ev, &eval, budget)
            .unwrap()
    };
    let five = rate(300_000.0);
    let budget = SampleBudget::new(0);
    // Outside a scope every selection is evaluated.
    let a = rows(&five, 285_001, &budget);
    assert!(!Arc::ptr_eq(&a, &rows(&five, 285_001, &budget)));

    row_memo::begin_scope();
    let first = rows(&five, 285_001, &budget);
    assert_eq!(
        (first.values.clone(), first.present.clone()),
        (a.values.clone(), a.present.clone())
    );
    let used = budget.used();
    // The same selection, function, window and steps: the same rows, charged again.
    let again = rows(&five, 285_001, &budget);
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(budget.used(), used + first.samples);
    let limited = SampleBudget::new(first.samples as usize - 1);
    assert!(h
        .range_rows(&sets, 285_001, 585_000, &five, &eval, &limited)
        .is_err());
    // Another window or function is another selection.
    let one = rate(60_000.0);
    assert!(!Arc::ptr_eq(&first, &rows(&one, 525_001, &budget)));
    assert!(!Arc::ptr_eq(
        &first,
        &rows(&RowEval::Instant(300_000.0), 285_001, &budget)
    ));
    // A sample appended to a selected series makes it run again, with it.
    append(&h, &[("__name__", "m"), ("job", "j03")], &[(600_000, 1e6)]);
    let after = rows(&five, 285_001, &budget);
    assert!(!Arc::ptr_eq(&first, &after));
    assert!(Arc::ptr_eq(&after, &rows(&five, 285_001, &budget)));
    // A new series too.
    append(&h, &[("__name__", "m"), ("job", "new")], &[(580_000, 1.0)]);
    let grown = rows(&five, 285_001, &budget);
    assert_eq!(grown.selection.series.len(), 21);
    row_memo::end_scope();
    assert!(!Arc::ptr_eq(&grown, &rows(&five, 285_001, &budget)));
}

#[test]
fn selection_scope_decodes_once_for_every_window_and_function() {
    use super::read::SampleBudget;
    use super::row_memo;
    use crate::chunkenc::STALE_NAN_BITS;
    use crate::promql::{RangeEval, RangeFn, RowEval};
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    for s in 0..30i64 {
        let job = format!("j{s:02}");
        // Series start at different times; some end in a staleness marker, some have one inside.
        let mut samples: Vec<(i64, f64)> = (s..40i64)
            .map(|i| (i * 15_000, (i * s) as f64 + 0.5))
            .collect();
        if s % 3 == 0 {
            let at = 5 % samples.len();
            samples[at].1 = f64::from_bits(STALE_NAN_BITS);
        }
        if s % 4 == 0 {
            samples.push((40 * 15_000, f64::from_bits(STALE_NAN_BITS)));
        }
        append(&h, &[("__name__", "m"), ("job", &job)], &samples);
    }
    let sets = vec![vec![eq("__name__", "m")]];
    let maxt = 585_000;
    let evals: Vec<(i64, RowEval<'_>)> = vec![
        (
            525_001,
            RowEval::Range(RangeEval::new(RangeFn::Rate, &[], 2, 60_000.0).unwrap()),
        ),
        (
            285_001,
            RowEval::Range(RangeEval::new(RangeFn::Rate, &[], 2, 300_000.0).unwrap()),
        ),
        (285_001, RowEval::Instant(300_000.0)),
        (
            0,
            RowEval::Range(RangeEval::new(RangeFn::CountOverTime, &[], 2, 585_000.0).unwrap()),
        ),
        (
            400_001,
            RowEval::Range(RangeEval::new(RangeFn::MaxOverTime, &[], 2, 185_000.0).unwrap()),
        ),
    ];
    let eval = [555_000.0, 585_000.0];
    let outside: Vec<_> = evals
        .iter()
        .map(|(mint, ev)| {
            h.range_rows(
                &sets,
                *mint,
                maxt,
                ev,
                &eval,
                &SampleBudget::new(50_000_000),
            )
            .unwrap()
        })
        .collect();
    row_memo::begin_scope();
    let selection = {
        let idx = h.index.read();
        row_memo::selection_key(
            &h as *const Head as usize,
            idx.series.len(),
            idx.live,
            &sets,
            maxt,
        )
    };
    for ((mint, ev), want) in evals.iter().zip(&outside) {
        let got = h
            .range_rows(
                &sets,
                *mint,
                maxt,
                ev,
                &eval,
                &SampleBudget::new(50_000_000),
            )
            .unwrap();
        assert_eq!(got.samples, want.samples, "mint {mint}");
        assert_eq!(got.present, want.present, "mint {mint}");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got.values), bits(&want.values), "mint {mint}");
        // The first selection decoded the series from their chunks' start: every later window reads it.
        assert!(row_memo::recall_decoded(&selection, *mint).is_some());
    }
    // Over the limit inside the scope as outside it.
    let five = &evals[1].1;
    let limit = SampleBudget::new(outside[1].samples as usize - 1);
    row_memo::end_scope();
    row_memo::begin_scope();
    assert!(h
        .range_rows(
            &sets,
            525_001,
            maxt,
            &evals[0].1,
            &eval,
            &SampleBudget::new(0)
        )
        .is_ok());
    assert!(h
        .range_rows(&sets, 285_001, maxt, five, &eval, &limit)
        .is_err());
    row_memo::end_scope();
    assert!(row_memo::recall_decoded(&selection, 285_001).is_none());
}
