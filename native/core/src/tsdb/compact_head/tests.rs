//! Tests of the head compaction: a crash after every step (a panic out of
//! the step hook, the storage then abandoned unclosed) followed by a
//! restart (WAL replay, blocks found on disk) answers every pushed float
//! and histogram sample exactly once; blocks published by a compaction stay
//! queried while a caller publishes a set that does not list them yet.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::head::histogram_tests::{ih, sel_all, without_hint};
use crate::ingest::{ingest_write_request_logged, IngestLimits};
use crate::model::histogram::HistogramValue;
use crate::remote::test_encode::{write_request, write_request_histograms};
use crate::wal::{SyncMode, WalOptions, WalStorage, PAGE_SIZE};

const T: &str = "compact-head";
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const RANGE: i64 = 2 * HOUR;
const BASE: i64 = 1_700_000_000_000 / RANGE * RANGE;

/// TempDir is a directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "compact-head-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wal_opts(dir: &Path) -> WalOptions {
    WalOptions {
        dir: dir.to_path_buf(),
        segment_size: 4 * PAGE_SIZE as u64,
        sync_mode: SyncMode::None,
        compress: true,
        zstd: false,
    }
}

/// push logs and appends minute `m` of [from, to): float series `f` with
/// value m, histogram series `h` with ih(m).
fn push(storage: &WalStorage, from: i64, to: i64) {
    let tsdb = storage.tsdbs().tenant(T);
    let head = tsdb.head();
    let wal = storage.tenant(T).unwrap().unwrap();
    let limits = IngestLimits {
        now_ms: BASE + 12 * HOUR,
        ..IngestLimits::default()
    };
    for m in from..to {
        let t = BASE + m * MIN;
        let f = write_request(&[(vec![("__name__", "f".to_string())], vec![(t, m as f64)])]);
        let r = ingest_write_request_logged(head, Some(&wal), &f, &limits);
        assert_eq!(r.accepted_samples, 1, "{:?}", r.error_message);
        let h = write_request_histograms(&[(vec![("__name__", "h")], vec![(t, ih(m as u64))])]);
        let r = ingest_write_request_logged(head, Some(&wal), &h, &limits);
        assert_eq!(r.accepted_histograms, 1, "{:?}", r.error_message);
    }
}

/// restart opens the storage again as a restarted process does: WAL
/// replayed into a new head, the blocks on disk published.
fn restart(dir: &Path) -> WalStorage {
    let storage = WalStorage::new();
    storage.open(wal_opts(dir)).unwrap();
    let tsdb = storage.tsdbs().tenant(T);
    let head = tsdb.head();
    let wal = storage.tenant(T).unwrap().unwrap();
    wal.replay_checkpoint(head).unwrap();
    for i in wal.existing_segments().to_vec() {
        wal.replay_segment(head, i).unwrap();
    }
    wal.finish_replay(head).unwrap();
    tsdb.set_blocks(&block_dirs(dir));
    storage
}

fn block_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join(T))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.len() == 26 && !n.contains('.')
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// assert_all checks the tenant answers minutes [0, n) of both series,
/// each sample once.
fn assert_all(storage: &WalStorage, n: i64, what: &str) {
    let sel = crate::store::select_samples_in(storage.tsdbs(), T, &[], 0, i64::MAX, 0).unwrap();
    let all = sel_all(&sel);
    assert_eq!(all.len(), 2, "{what}: two series");
    let want_f: Vec<(f64, f64)> = (0..n)
        .map(|m| ((BASE + m * MIN) as f64, m as f64))
        .collect();
    assert_eq!(all[0].0, want_f, "{what}: float samples, each once");
    assert!(all[0].1.is_empty(), "{what}");
    let got_h: Vec<(f64, HistogramValue)> = all[1]
        .1
        .iter()
        .map(|(t, h)| (*t, without_hint(h)))
        .collect();
    let want_h: Vec<(f64, HistogramValue)> = (0..n)
        .map(|m| ((BASE + m * MIN) as f64, without_hint(&ih(m as u64))))
        .collect();
    assert_eq!(
        got_h.len(),
        want_h.len(),
        "{what}: histogram samples, each once"
    );
    assert_eq!(got_h, want_h, "{what}: histogram samples");
    assert!(all[1].0.is_empty(), "{what}");
}

fn compact(storage: &WalStorage, dir: &Path, step: &mut dyn FnMut(CompactStep)) -> HeadCompaction {
    let tenant_dir = dir.join(T);
    storage
        .tsdbs()
        .tenant(T)
        .compact_head(
            storage,
            &HeadCompactOptions {
                dir: &tenant_dir,
                block_range: RANGE,
                cut_all: false,
            },
            step,
        )
        .unwrap()
}

#[test]
fn a_crash_after_any_step_loses_and_duplicates_nothing() {
    for crash_at in CompactStep::ALL {
        let tmp = TempDir::new();
        let storage = WalStorage::new();
        storage.open(wal_opts(&tmp.0)).unwrap();
        // 5h of minutes: the head spans 2.5 ranges, two are due.
        push(&storage, 0, 5 * 60);
        let mut seen = Vec::new();
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            compact(&storage, &tmp.0, &mut |s| {
                seen.push(s);
                if s == crash_at {
                    panic!("crash at {}", s.name());
                }
            })
        }));
        assert!(
            crashed.is_err(),
            "{}: the step was reached",
            crash_at.name()
        );
        assert_eq!(seen.last(), Some(&crash_at));
        // A killed process closes nothing.
        std::mem::forget(storage);
        let what = format!("restart after a crash at {}", crash_at.name());
        let storage = restart(&tmp.0);
        assert_all(&storage, 5 * 60, &what);
        // The next compaction cuts what is due again; still each sample once.
        push(&storage, 5 * 60, 7 * 60);
        let done = compact(&storage, &tmp.0, &mut |_| {});
        assert!(!done.cuts.is_empty(), "{what}: cut again");
        assert_all(&storage, 7 * 60, &format!("{what}, compacted again"));
        storage.close().unwrap();
        let storage = restart(&tmp.0);
        assert_all(&storage, 7 * 60, &format!("{what}, restarted again"));
        storage.close().unwrap();
    }
}

#[test]
fn a_compaction_runs_its_steps_in_order_and_reports_them() {
    let tmp = TempDir::new();
    let storage = WalStorage::new();
    storage.open(wal_opts(&tmp.0)).unwrap();
    push(&storage, 0, 5 * 60);
    let tsdb = storage.tsdbs().tenant(T);
    let mut seen = Vec::new();
    let out = compact(&storage, &tmp.0, &mut |s| {
        // Every step leaves every sample queried, even when another source
        // publishes a set that does not list the new block yet.
        if s == CompactStep::BlockPublished {
            tsdb.set_blocks(&[]);
        }
        assert_all(&storage, 5 * 60, s.name());
        seen.push(s);
    });
    use CompactStep::*;
    // After one cut the head spans 1.5 ranges: no longer due.
    assert_eq!(
        seen,
        [
            BlockWritten,
            BlockPublished,
            HeadTruncated,
            CheckpointWritten,
            WalCheckpointed
        ]
    );
    let ranges: Vec<(i64, i64)> = out.cuts.iter().map(|c| (c.mint, c.maxt)).collect();
    assert_eq!(ranges, [(BASE, BASE + RANGE)]);
    let meta = out.cuts[0].block.as_ref().expect("a block");
    assert_eq!(meta.stats.num_samples, 2 * 120);
    assert_eq!(out.cuts[0].truncated.samples_removed, 2 * 120);
    let cp = out.checkpoint.expect("checkpointed");
    assert_eq!(cp.series, 2);
    assert_eq!(cp.samples, 2 * 3 * 60);
    // Once the caller lists the block, it is no longer held for it.
    let dirs = block_dirs(&tmp.0);
    assert_eq!(dirs.len(), 1);
    // Listed under another spelling of the same directory, it is no
    // longer held either: one copy is queried.
    let spelled: Vec<PathBuf> = dirs
        .iter()
        .map(|d| tmp.0.join(".").join(T).join(d.file_name().unwrap()))
        .collect();
    tsdb.set_blocks(&spelled);
    assert_eq!(tsdb.block_dirs(), spelled);
    tsdb.set_blocks(&[]);
    assert!(tsdb.block_dirs().is_empty());
    tsdb.set_blocks(&dirs);
    // Not due: a head spanning 1.5 ranges is left alone.
    let again = compact(&storage, &tmp.0, &mut |_| panic!("nothing is due"));
    assert!(again.cuts.is_empty() && again.checkpoint.is_none());
    // Cut everything (idle head, flush): the two ranges left.
    let all = tsdb
        .compact_head(
            &storage,
            &HeadCompactOptions {
                dir: &tmp.0.join(T),
                block_range: RANGE,
                cut_all: true,
            },
            &mut |_| {},
        )
        .unwrap();
    let ranges: Vec<(i64, i64)> = all.cuts.iter().map(|c| (c.mint, c.maxt)).collect();
    assert_eq!(
        ranges,
        [
            (BASE + RANGE, BASE + 2 * RANGE),
            (BASE + 2 * RANGE, BASE + 3 * RANGE)
        ]
    );
    assert_eq!(tsdb.head().num_series(), 0);
    // Nothing was logged since the last checkpoint: it stays (a superset).
    assert!(all.checkpoint.is_none());
    assert_eq!(block_dirs(&tmp.0).len(), 3);
    assert_all(&storage, 5 * 60, "cut whole");
    storage.close().unwrap();
    let storage = restart(&tmp.0);
    assert_all(&storage, 5 * 60, "cut whole, restarted");
    storage.close().unwrap();
}
