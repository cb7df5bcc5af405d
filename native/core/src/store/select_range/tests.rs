use super::*;
use crate::block::{write_block, BlockWriteOptions};
use crate::head::DEFAULT_CHUNK_RANGE;
use crate::index::MatchType;
use crate::model::series_labels::labels_json;
use crate::promql::{range_kernel, SeriesSet};
use crate::store::select_samples;

fn eq(n: &str, v: &str) -> Matcher {
    Matcher::new(MatchType::Equal, n, v).unwrap()
}

/// check compares select_range with select_samples + range_kernel (the
/// series without a value anywhere dropped) for a few functions, bit for
/// bit, and returns how many series came out of the rate.
fn check(tenant: &str, sets: &[Vec<Matcher>], eval: &[f64]) -> usize {
    let mut rate_series = 0;
    for (func, params, range) in [
        (RangeFn::Rate, vec![], 300_000.0),
        (RangeFn::MaxOverTime, vec![], 3_600_000.0),
        (RangeFn::QuantileOverTime, vec![0.9], 600_000.0),
        (RangeFn::CountOverTime, vec![], 60_000.0),
        (RangeFn::SumOverTime, vec![], 7_200_000.0),
    ] {
        let mint = eval[0] as i64 - range as i64 + 1;
        let maxt = *eval.last().unwrap() as i64;
        let sel = select_samples(tenant, sets, mint, maxt, 0).unwrap();
        let data = SeriesSet::new(&sel.offsets, &sel.timestamps, &sel.values).unwrap();
        let want = range_kernel(func, &data, eval, range, &params).unwrap();
        let got = select_range(tenant, sets, mint, maxt, func, eval, range, &params, 0).unwrap();
        assert_eq!(got.samples, sel.values.len() as u64, "{func:?}");
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
        assert_eq!(
            serde_json::from_str::<Vec<serde_json::Value>>(&labels_json(&got.labels)).unwrap(),
            kept,
            "{func:?}"
        );
        assert_eq!(got.present, present, "{func:?}");
        let same = got
            .values
            .iter()
            .zip(&values)
            .zip(&got.present)
            .all(|((a, b), &p)| p == 0 || a.to_bits() == b.to_bits());
        assert!(same, "{func:?}");
        if func == RangeFn::Rate {
            rate_series = kept.len();
        }
    }
    rate_series
}

/// Over a head cut into two blocks, before and after the head is
/// truncated (blocks and head overlapping, then only touching), the fused
/// path gives what selecting head and blocks together and then running the
/// range kernel gives.
#[test]
fn select_range_over_head_and_blocks_equals_select_then_kernel() {
    let tenant = "store-test-select-range";
    let dir = std::env::temp_dir().join(format!("store-range-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let head = crate::tsdb::registry().head(tenant);
    let r = DEFAULT_CHUNK_RANGE;
    let stale = f64::from_bits(crate::chunkenc::STALE_NAN_BITS);
    // 200 series (enough to be split over threads) over 5h at 60s, with
    // resets, staleness markers and gaps; one series only in the first
    // block's range, one only in the head's.
    let mut app = head.appender();
    for s in 0..200i64 {
        let job = format!("j{s:03}");
        let (series, _) = head.get_or_create(&[("__name__", "m"), ("job", &job)]);
        app.append_series(
            &series,
            (0..300i64)
                .filter(|i| s % 7 != 0 || !(100..160).contains(i))
                .map(|i| {
                    let v = if (i == 90 || i == 250) && s % 5 == 0 {
                        stale
                    } else {
                        ((i * (s + 1)) % 997) as f64
                    };
                    (i * 60_000 + s * 100, v)
                }),
        );
    }
    let (old, _) = head.get_or_create(&[("__name__", "m"), ("job", "old")]);
    app.append_series(&old, (0..30).map(|i| (i * 60_000, i as f64)));
    let (new, _) = head.get_or_create(&[("__name__", "m"), ("job", "new")]);
    app.append_series(&new, (250..300).map(|i| (i * 60_000, i as f64)));
    let (other, _) = head.get_or_create(&[("__name__", "other")]);
    app.append_series(&other, (0..300).map(|i| (i * 60_000, 1.0)));
    app.commit();
    let mut dirs = Vec::new();
    for k in 0..2 {
        let meta = write_block(
            &head,
            &dir,
            k * r,
            (k + 1) * r,
            &BlockWriteOptions::default(),
        )
        .unwrap()
        .unwrap();
        dirs.push(dir.join(meta.ulid.to_string()));
    }
    assert!(crate::tsdb::registry()
        .tenant(tenant)
        .set_blocks(&dirs)
        .is_empty());
    let sets = vec![vec![eq("__name__", "m")]];
    // Steps over the whole 5h, off the sample grid.
    let eval: Vec<f64> = (0..150).map(|k| 1_234.0 + k as f64 * 120_000.0).collect();
    // Blocks and head hold the same samples (nothing truncated yet).
    assert!(check(tenant, &sets, &eval) > 190);
    // The head keeps its chunks reaching past r: overlap with both blocks.
    head.truncate(r);
    assert!(check(tenant, &sets, &eval) > 190);
    assert!(check(tenant, &[], &eval) > 190);
    head.truncate(2 * r);
    let n = check(tenant, &sets, &eval);
    assert!(n > 190);
    // Only the blocks' range.
    let early: Vec<f64> = (0..50).map(|k| 1_234.0 + k as f64 * 60_000.0).collect();
    assert!(check(tenant, &sets, &early) > 190);
    // Bad parameters are reported as kernel errors.
    assert!(matches!(
        select_range(
            tenant,
            &sets,
            0,
            r,
            RangeFn::QuantileOverTime,
            &eval,
            1.0,
            &[],
            0
        ),
        Err(SelectRangeError::Kernel(_))
    ));
    crate::tsdb::registry().drop_tenant(tenant).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
