//! Native histograms in blocks: cut from the head (aligned and across a
//! chunk), read back, verified, compacted, and merged with the head by the
//! store's selection.

use crate::model::series_labels::labels_json;
use std::path::PathBuf;

use super::tests::TempDir;
use super::*;
use crate::head::histogram_tests::{fh, ih, nhcb, sel_all, without_hint};
use crate::head::{Head, SelectedSamples, DEFAULT_CHUNK_RANGE};
use crate::model::histogram::HistogramValue;

const MIN: i64 = 60_000;

/// mixed_head holds, over 4h at one sample a minute: `ints` (integer
/// histograms), `floats` (float histograms), `custom` (NHCB with a
/// counter reset), and `mixed` (floats, then histograms, then floats).
fn mixed_head(tenant: &str) -> Head {
    let head = Head::new(tenant, DEFAULT_CHUNK_RANGE);
    let add_h = |name: &str, f: &dyn Fn(i64) -> HistogramValue, from: i64, to: i64| {
        let (s, _) = head.get_or_create(&[("__name__", name)]);
        let hs: Vec<(i64, HistogramValue)> = (from..to).map(|i| (i * MIN, f(i))).collect();
        let mut app = head.appender();
        app.append_histograms_unchecked(&s, hs.iter().map(|(t, v)| (*t, v)));
        app.commit();
    };
    let add_f = |name: &str, from: i64, to: i64| {
        let (s, _) = head.get_or_create(&[("__name__", name)]);
        let mut app = head.appender();
        app.append_series_unchecked(&s, (from..to).map(|i| (i * MIN, i as f64)));
        app.commit();
    };
    add_h("ints", &|i| ih(i as u64 + 1), 0, 240);
    add_h("floats", &|i| fh(i as f64), 0, 240);
    add_h(
        "custom",
        &|i| nhcb(if i < 100 { i as u64 + 1 } else { i as u64 - 99 }),
        0,
        240,
    );
    add_f("mixed", 0, 50);
    add_h("mixed", &|i| ih(i as u64), 50, 150);
    add_f("mixed", 150, 240);
    head
}

type Whole = Vec<(Vec<(f64, f64)>, Vec<(f64, HistogramValue)>)>;

fn whole(sel: &SelectedSamples) -> Whole {
    sel_all(sel)
}

/// same_but_hints compares selections with the counter-reset hints left
/// out (a re-encoded chunk starts with an unknown hint where the original
/// chunk went on), reporting the first difference only.
fn same_but_hints(got: &SelectedSamples, want: &SelectedSamples) {
    assert_eq!(labels_json(&got.labels), labels_json(&want.labels));
    let strip = |w: Whole| -> Whole {
        w.into_iter()
            .map(|(f, h)| (f, h.iter().map(|(t, v)| (*t, without_hint(v))).collect()))
            .collect()
    };
    let (g, w) = (strip(whole(got)), strip(whole(want)));
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert_eq!(a.0, b.0, "floats of series {i}");
        assert_eq!(a.1.len(), b.1.len(), "histogram count of series {i}");
        for (x, y) in a.1.iter().zip(&b.1) {
            assert_eq!(x, y, "series {i}");
        }
    }
    assert_eq!(g.len(), w.len());
}

#[test]
fn blocks_carry_histogram_chunks_and_read_back() {
    let dir = TempDir::new();
    let head = mixed_head("nh-block");
    let r = DEFAULT_CHUNK_RANGE;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (a, b) in [(0, r), (r, 2 * r)] {
        let meta = write_block(&head, dir.path(), a, b, &BlockWriteOptions::default())
            .unwrap()
            .unwrap();
        // 3 histogram series * 120 + mixed's histograms in range.
        let mixed_h = (50..150).filter(|i| i * MIN >= a && i * MIN < b).count() as u64;
        assert_eq!(meta.stats.num_histogram_samples, 3 * 120 + mixed_h);
        assert_eq!(meta.stats.num_samples, 4 * 120);
        assert_eq!(
            meta.stats.num_float_samples,
            meta.stats.num_samples - meta.stats.num_histogram_samples
        );
        let bdir = dir.path().join(meta.ulid.to_string());
        let json = std::fs::read_to_string(bdir.join("meta.json")).unwrap();
        assert!(json.contains(&format!(
            "\"numHistogramSamples\": {}",
            meta.stats.num_histogram_samples
        )));
        let v = verify::verify_block(&bdir, a, b, true).unwrap();
        assert_eq!(v.samples, 4 * 120);
        let block = Block::open(&bdir).unwrap();
        assert!(block.has_histograms());
        let want = head.select_samples(&[], a, b - 1, 0).unwrap();
        let got = block.select_samples(&[], a, b - 1, 0).unwrap();
        assert_eq!(labels_json(&got.labels), labels_json(&want.labels));
        assert_eq!(whole(&got), whole(&want));
        dirs.push(bdir);
    }

    // A range across chunks re-encodes the cut ones.
    let meta = write_block(
        &head,
        dir.path(),
        30 * MIN,
        90 * MIN,
        &BlockWriteOptions::default(),
    )
    .unwrap()
    .unwrap();
    let bdir = dir.path().join(meta.ulid.to_string());
    verify::verify_block(&bdir, 30 * MIN, 90 * MIN, true).unwrap();
    let got = Block::open(&bdir)
        .unwrap()
        .select_samples(&[], 0, 4 * r, 0)
        .unwrap();
    let want = head.select_samples(&[], 30 * MIN, 90 * MIN - 1, 0).unwrap();
    same_but_hints(&got, &want);

    // Compaction of the two aligned blocks and the overlapping one.
    let out = dir.path().join("compacted");
    let mut sources = dirs.clone();
    sources.push(bdir);
    let cm = compact_blocks(&sources, &out, &CompactOptions::default())
        .unwrap()
        .unwrap();
    assert_eq!(cm.stats.num_samples, 8 * 120);
    let cdir = out.join(cm.ulid.to_string());
    verify::verify_block(&cdir, 0, 2 * r, true).unwrap();
    let got = Block::open(&cdir)
        .unwrap()
        .select_samples(&[], 0, 2 * r, 0)
        .unwrap();
    let want = head.select_samples(&[], 0, 2 * r, 0).unwrap();
    same_but_hints(&got, &want);
}

#[test]
fn the_store_merges_block_and_head_histograms() {
    let dir = TempDir::new();
    let tenant = format!("nh-store-{}", Ulid::new());
    let head = crate::tsdb::registry().head(&tenant);
    let src = mixed_head("src");
    // The tenant's head gets the same samples through its own appender.
    for s in src.all_series() {
        let pairs: Vec<(&str, &str)> = s.labels.iter().collect();
        let (dst, _) = head.get_or_create(&pairs);
        let all = src
            .select_samples(
                &[vec![crate::index::Matcher::new(
                    crate::index::MatchType::Equal,
                    "__name__",
                    pairs[0].1,
                )
                .unwrap()]],
                0,
                i64::MAX,
                0,
            )
            .unwrap();
        let mut app = head.appender();
        for (f, h) in sel_all(&all) {
            let mut samples: Vec<(i64, Option<f64>, Option<HistogramValue>)> = f
                .iter()
                .map(|(t, v)| (*t as i64, Some(*v), None))
                .chain(h.into_iter().map(|(t, v)| (t as i64, None, Some(v))))
                .collect();
            samples.sort_by_key(|s| s.0);
            for (t, v, hv) in samples {
                match (v, hv) {
                    (Some(v), _) => {
                        app.append_series_unchecked(&dst, [(t, v)]);
                    }
                    (_, Some(hv)) => {
                        app.append_histograms_unchecked(&dst, [(t, &hv)]);
                    }
                    _ => unreachable!(),
                }
            }
        }
        app.commit();
    }
    let r = DEFAULT_CHUNK_RANGE;
    let meta = write_block(&head, dir.path(), 0, r, &BlockWriteOptions::default())
        .unwrap()
        .unwrap();
    let failures = crate::tsdb::registry()
        .tenant(&tenant)
        .set_blocks(&[dir.path().join(meta.ulid.to_string())]);
    assert!(failures.is_empty());
    // Head and block both hold [0, 2h): each sample once.
    let got = crate::store::select_samples(&tenant, &[], 0, 2 * r, 0).unwrap();
    let want = src.select_samples(&[], 0, 2 * r, 0).unwrap();
    assert_eq!(whole(&got), whole(&want));
    // The head truncated: the block alone answers the first range.
    head.truncate(r);
    let got = crate::store::select_samples(&tenant, &[], 0, 2 * r, 0).unwrap();
    assert_eq!(whole(&got), whole(&want));
    let m = |v: &str| {
        vec![vec![crate::index::Matcher::new(
            crate::index::MatchType::Equal,
            "__name__",
            v,
        )
        .unwrap()]]
    };
    assert!(crate::store::histograms_in(&tenant, &m("ints"), 0, MIN));
    assert!(!crate::store::histograms_in(
        &tenant,
        &m("mixed"),
        0,
        40 * MIN
    ));
    assert!(crate::store::histograms_in(
        &tenant,
        &m("mixed"),
        0,
        60 * MIN
    ));
    crate::tsdb::registry().drop_tenant(&tenant).unwrap();
}
