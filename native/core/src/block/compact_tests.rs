//! Compaction tests: blocks cut from heads merged into one, read back
//! sample for sample against the union of the sources.

use crate::model::series_labels::labels_json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::compact::SAMPLES_PER_CHUNK;
use super::tests::TempDir;
use super::tombstones::{encode_tombstones, Tombstones};
use super::*;
use crate::head::{Head, DEFAULT_CHUNK_RANGE};

const H: i64 = 3_600_000;

/// Samples maps (labels JSON, time) to value bits.
type Samples = BTreeMap<(String, i64), u64>;

/// block_of cuts a block [mint, maxt) from a fresh head holding `series`
/// (job label -> samples).
fn block_of(dir: &Path, series: &[(&str, Vec<(i64, f64)>)], mint: i64, maxt: i64) -> PathBuf {
    let h = Head::new("t", DEFAULT_CHUNK_RANGE);
    for (job, samples) in series {
        let (s, _) = h.get_or_create(&[("__name__", "m"), ("job", job)]);
        let mut app = h.appender();
        app.append_series_unchecked(&s, samples.iter().copied());
        app.commit();
    }
    let meta = write_block(&h, dir, mint, maxt, &BlockWriteOptions::default())
        .unwrap()
        .unwrap();
    dir.join(meta.ulid.to_string())
}

fn read_all(dir: &Path) -> Samples {
    let b = Block::open(dir).unwrap();
    let sel = b.select_samples(&[], i64::MIN, i64::MAX, 0).unwrap();
    let labels: Vec<serde_json::Value> = serde_json::from_str(&labels_json(&sel.labels)).unwrap();
    let mut out = Samples::new();
    for (i, l) in labels.iter().enumerate() {
        for k in sel.offsets[i] as usize..sel.offsets[i + 1] as usize {
            out.insert(
                (l.to_string(), sel.timestamps[k] as i64),
                sel.values[k].to_bits(),
            );
        }
    }
    out
}

fn steps(from: i64, to: i64, step: i64, f: impl Fn(i64) -> f64) -> Vec<(i64, f64)> {
    (0..)
        .map(|k| from + k * step)
        .take_while(|&t| t < to)
        .map(|t| (t, f(t)))
        .collect()
}

fn opts() -> CompactOptions {
    CompactOptions {
        tenant: "team-a".to_string(),
        ..Default::default()
    }
}

/// compact merges `sources` into a new block under `dir/out`: its meta and path.
fn compact(dir: &Path, sources: &[PathBuf]) -> (BlockMeta, PathBuf) {
    let out = dir.join("out");
    let meta = compact_blocks(sources, &out, &opts()).unwrap().unwrap();
    let path = out.join(meta.ulid.to_string());
    (meta, path)
}

#[test]
fn adjacent_blocks_merge_copying_chunks() {
    let dir = TempDir::new();
    let a = block_of(
        dir.path(),
        &[
            ("x", steps(0, 2 * H, 15_000, |t| t as f64)),
            ("y", steps(0, 2 * H, 60_000, |_| 1.0)),
        ],
        0,
        2 * H,
    );
    let b = block_of(
        dir.path(),
        &[
            ("x", steps(2 * H, 4 * H, 15_000, |t| -(t as f64))),
            ("z", steps(2 * H, 4 * H, 30_000, |_| f64::NAN)),
        ],
        2 * H,
        4 * H,
    );
    let (meta, merged) = compact(dir.path(), &[a.clone(), b.clone()]);
    let mut want = read_all(&a);
    want.extend(read_all(&b));
    assert_eq!(read_all(&merged), want);

    let (ma, mb) = (BlockMeta::read(&a).unwrap(), BlockMeta::read(&b).unwrap());
    assert_eq!((meta.min_time, meta.max_time), (0, 4 * H));
    assert_eq!(meta.compaction_level, 2);
    let mut sources = vec![ma.ulid, mb.ulid];
    sources.sort();
    assert_eq!(meta.compaction_sources, sources);
    assert_eq!(meta.compaction_parents.len(), 2);
    assert_eq!(meta.thanos_source, "compactor");
    assert_eq!(
        meta.thanos_labels,
        vec![("__org_id__".to_string(), "team-a".to_string())]
    );
    assert_eq!(
        meta.stats.num_samples,
        ma.stats.num_samples + mb.stats.num_samples
    );
    assert_eq!(meta.stats.num_series, 3);
    // Nothing overlapped: every chunk is a source chunk, byte for byte.
    assert_eq!(
        meta.stats.num_chunks,
        ma.stats.num_chunks + mb.stats.num_chunks
    );
    let src = Block::open(&a)
        .unwrap()
        .select_chunks(&[], 0, 2 * H)
        .unwrap();
    let dst = Block::open(&merged)
        .unwrap()
        .select_chunks(&[], 0, 2 * H - 1)
        .unwrap();
    assert_eq!(src.data, dst.data);
    // meta.json on disk is what was returned, parents included.
    assert_eq!(BlockMeta::read(&merged).unwrap(), meta);
}

#[test]
fn overlapping_blocks_deduplicate_by_timestamp() {
    let dir = TempDir::new();
    // Two replicas of the same range: one every 10s, one every 15s, so half
    // of the timestamps collide (equal values) and the rest interleave.
    let a = block_of(
        dir.path(),
        &[("x", steps(0, 2 * H, 10_000, |t| t as f64 / 7.0))],
        0,
        2 * H,
    );
    let b = block_of(
        dir.path(),
        &[
            ("x", steps(0, 2 * H, 15_000, |t| t as f64 / 7.0)),
            ("y", steps(H, 2 * H, 15_000, |_| 3.0)),
        ],
        0,
        2 * H,
    );
    let (meta, merged) = compact(dir.path(), &[a.clone(), b.clone()]);
    let mut want = read_all(&a);
    want.extend(read_all(&b));
    let got = read_all(&merged);
    assert_eq!(got, want);
    assert_eq!(meta.stats.num_samples, want.len() as u64);
    // Re-encoded chunks hold at most 120 samples each.
    let blk = Block::open(&merged).unwrap();
    let sc = blk.select_chunks(&[], i64::MIN, i64::MAX).unwrap();
    for j in 0..sc.encodings.len() {
        let d = &sc.data[sc.data_offsets[j] as usize..sc.data_offsets[j + 1] as usize];
        assert!(crate::chunkenc::XorIterator::new(d).num_samples() as usize <= SAMPLES_PER_CHUNK);
    }
    assert_eq!(
        sc.encodings.len() as u64,
        meta.stats.num_chunks,
        "one chunk meta per chunk"
    );
}

#[test]
fn tombstones_are_applied_and_levels_nest() {
    let dir = TempDir::new();
    let a = block_of(
        dir.path(),
        &[("x", steps(0, 2 * H, 15_000, |t| t as f64))],
        0,
        2 * H,
    );
    let b = block_of(
        dir.path(),
        &[("x", steps(2 * H, 4 * H, 15_000, |t| t as f64))],
        2 * H,
        4 * H,
    );
    // Delete [30m, 45m] of x in block a (series id from its index).
    let ba = Block::open(&a).unwrap();
    let id = ba.select_series(&[]).unwrap()[0];
    drop(ba);
    let mut ts = Tombstones::new();
    ts.insert(id, vec![(1_800_000, 2_700_000)]);
    std::fs::write(a.join("tombstones"), encode_tombstones(&ts)).unwrap();
    let before = read_all(&a);

    let (first, merged) = compact(dir.path(), &[a.clone(), b.clone()]);
    let got = read_all(&merged);
    let mut want = before.clone();
    want.extend(read_all(&b));
    assert_eq!(got, want, "deleted samples stay deleted");
    assert!(!got.keys().any(|(_, t)| (1_800_000..=2_700_000).contains(t)));

    // A level-2 block compacted with a new level-1 block: level 3, the
    // sources of both.
    let c = block_of(
        dir.path(),
        &[("w", steps(4 * H, 6 * H, 60_000, |_| 2.0))],
        4 * H,
        6 * H,
    );
    let mc = BlockMeta::read(&c).unwrap();
    let (second, _) = compact(dir.path(), &[merged.clone(), c.clone()]);
    assert_eq!(second.compaction_level, 3);
    let mut sources = first.compaction_sources.clone();
    sources.push(mc.ulid);
    sources.sort();
    assert_eq!(second.compaction_sources, sources);
    let parents: Vec<Ulid> = second.compaction_parents.iter().map(|p| p.ulid).collect();
    let mut want_parents = vec![first.ulid, mc.ulid];
    want_parents.sort();
    assert_eq!(parents, want_parents);
}

#[test]
fn everything_deleted_writes_no_block() {
    let dir = TempDir::new();
    let a = block_of(
        dir.path(),
        &[("x", steps(0, H, 15_000, |t| t as f64))],
        0,
        2 * H,
    );
    let ba = Block::open(&a).unwrap();
    let id = ba.select_series(&[]).unwrap()[0];
    drop(ba);
    let mut ts = Tombstones::new();
    ts.insert(id, vec![(i64::MIN, i64::MAX)]);
    std::fs::write(a.join("tombstones"), encode_tombstones(&ts)).unwrap();
    let out = dir.path().join("out");
    assert!(compact_blocks(&[a], &out, &opts()).unwrap().is_none());
    assert!(std::fs::read_dir(&out)
        .map(|d| d.count() == 0)
        .unwrap_or(true));
}

#[test]
fn missing_source_is_an_error() {
    let dir = TempDir::new();
    let e = compact_blocks(&[dir.path().join("nope")], dir.path(), &opts()).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    assert!(compact_blocks(&[], dir.path(), &opts()).is_err());
}
