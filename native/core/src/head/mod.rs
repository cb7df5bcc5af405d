//! head is the in-memory, per-tenant TSDB head: series identified by their
//! label sets, each with XOR chunks cut as Prometheus cuts them, a postings
//! index for lookups, and the tenant registry (`crate::tsdb::Registry`) shared by every Node
//! worker thread of the process.
//!
//! # Lock order
//!
//! Locks are always taken in this order, never the other way round:
//!
//! 1. `tsdb::Registry::tenants` (RwLock, held only to find or create a tenant),
//! 2. `Head::index` (RwLock: series lookup by hash, series table, postings),
//! 3. `MemSeries::state` (Mutex, per series: chunks and last sample).
//!
//! The ingest path takes (2) shared to find a series, clones its `Arc` and
//! releases (2) before taking (3); it takes (2) exclusively only to create a
//! series. Readers take (2) shared to resolve postings into series, release
//! it, then lock each series briefly. Head-wide figures are atomics.
//!
//! The WAL (`crate::wal`) hooks in at `HeadAppender::append_series` (see
//! `HeadAppender::log_samples`: samples that passed every check) and at
//! series creation (in `ingest`); a tenant's WAL writer mutex is taken
//! before (2). Blocks are cut from the closed chunks, which keep their
//! min/max times.

mod append;
pub mod cardinality;
pub mod chunks;
pub mod histogram_chunks;
mod json;
mod read;
mod refs;
pub mod row_memo;
mod select_cache;
pub(crate) mod select_range;
pub mod series;
pub mod start_times;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::index::{Matcher, MemPostings};

pub use append::format_rfc3339_nano;
pub use append::{AppendErrorKind, HeadAppender, SeriesAppendResult};
pub use chunks::{encode_chunks, DEFAULT_CHUNK_RANGE, SAMPLES_PER_CHUNK};
pub use json::write_json_string;
pub use json::{write_labels_json, write_owned_labels_json};
pub use read::{
    build_matcher_sets, SampleBudget, SelectedHistograms, SelectedSamples, TooManySamples,
    TOO_MANY_SAMPLES_MESSAGE,
};
pub use select_range::{HeadRangeError, SelectedRange};
pub use series::MemSeries;

/// HeadIndex is everything behind `Head::index`.
#[derive(Debug, Default)]
struct HeadIndex {
    /// The first series created with each label-set hash (16 bytes a
    /// series, no per-hash allocation).
    by_hash: HashMap<u64, u32, ahash::RandomState>,
    /// Series created later under an already used hash (a 64-bit hash
    /// collision: practically always empty). Collisions are resolved by
    /// comparing full label sets.
    collisions: HashMap<u64, Vec<u32>, ahash::RandomState>,
    /// Series by ref: ref r lives at `series[r - 1]` (refs start at 1);
    /// None once the series was garbage-collected by `Head::truncate`
    /// (refs are never reused, so the WAL's refs keep their meaning).
    series: Vec<Option<Arc<MemSeries>>>,
    /// Series present (the `Some` slots).
    live: usize,
    postings: MemPostings,
}

impl HeadIndex {
    fn find(&self, hash: u64, labels: &[(&str, &str)]) -> Option<&Arc<MemSeries>> {
        let same = |r: &u32| self.get(*r).is_some_and(|s| s.labels.eq_pairs(labels));
        let first = self.by_hash.get(&hash)?;
        if same(first) {
            return self.get(*first);
        }
        if self.collisions.is_empty() {
            return None;
        }
        self.collisions
            .get(&hash)?
            .iter()
            .find(|r| same(r))
            .and_then(|r| self.get(*r))
    }

    fn get(&self, series_ref: u32) -> Option<&Arc<MemSeries>> {
        self.series
            .get((series_ref as usize).wrapping_sub(1))
            .and_then(Option::as_ref)
    }

    /// all returns every series present, by ref.
    fn all(&self) -> Vec<Arc<MemSeries>> {
        self.series.iter().flatten().cloned().collect()
    }

    /// insert adds a new series under `series_ref` (at least the next free
    /// ref; skipped refs stay empty).
    fn insert(&mut self, hash: u64, series_ref: u32, labels: &[(&str, &str)]) -> Arc<MemSeries> {
        let owned = series::Labels::from_pairs(labels);
        self.postings.add(series_ref, labels);
        let s = Arc::new(MemSeries::new(series_ref, owned));
        let slot = series_ref as usize - 1;
        if self.series.len() <= slot {
            self.series.resize(slot + 1, None);
        }
        self.series[slot] = Some(Arc::clone(&s));
        self.live += 1;
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(series_ref);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.entry(hash).or_default().push(series_ref);
            }
        }
        s
    }

    /// remove drops a series from every structure.
    /// remove_many drops series; the postings of many go in one pass over
    /// the index (removing them one by one shifts the all-series list for
    /// each: minutes for a million series).
    fn remove_many(&mut self, refs: &[u32]) {
        let batch = refs.len() > 64;
        for &r in refs {
            self.unlink(r, !batch);
        }
        if batch {
            self.postings.delete(refs);
        }
    }

    /// unlink drops one series from the hash and the series table, and from
    /// the postings when `postings`.
    fn unlink(&mut self, series_ref: u32, postings: bool) {
        let Some(s) = self.get(series_ref).cloned() else {
            return;
        };
        let pairs: Vec<(&str, &str)> = s.labels.iter().collect();
        let hash = hash_labels(&pairs);
        if postings {
            self.postings
                .delete_series(series_ref, pairs.iter().copied());
        }
        if self.by_hash.get(&hash) == Some(&series_ref) {
            // Promote a colliding series, if any, to the first slot.
            match self.collisions.get_mut(&hash).and_then(|v| v.pop()) {
                Some(other) => {
                    self.by_hash.insert(hash, other);
                }
                None => {
                    self.by_hash.remove(&hash);
                }
            }
        } else if let Some(v) = self.collisions.get_mut(&hash) {
            v.retain(|r| *r != series_ref);
        }
        if self.collisions.get(&hash).is_some_and(Vec::is_empty) {
            self.collisions.remove(&hash);
        }
        self.series[series_ref as usize - 1] = None;
        self.live -= 1;
    }
}

/// Attached is what `Head::attach_closed_chunk` did: the samples of the
/// chunk it took, and a copy of the open chunk it closed first, if any.
#[derive(Debug, Clone)]
pub struct Attached {
    pub samples: u64,
    pub closed: Option<chunks::ClosedChunk>,
}

/// TruncateStats are what `Head::truncate` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TruncateStats {
    pub chunks_removed: u64,
    pub samples_removed: u64,
    pub series_removed: u64,
}

/// Head is one tenant's in-memory TSDB head.
#[derive(Debug)]
pub struct Head {
    tenant: String,
    chunk_range: i64,
    /// Lookup structures; lock level 2 (see the module docs).
    index: RwLock<HeadIndex>,
    /// Smallest sample time appended, i64::MAX while empty.
    min_time: AtomicI64,
    /// Largest sample time appended, i64::MIN while empty.
    max_time: AtomicI64,
    /// Samples older than this are refused (raised when blocks are cut).
    min_valid_time: AtomicI64,
    num_samples: AtomicU64,
    num_chunks: AtomicU64,
    /// Wall-clock time (unix ms) of the last commit that appended samples,
    /// 0 before any: an idle head is one nobody wrote to for a while,
    /// whatever its samples' times (backfills write old samples).
    last_append_ms: AtomicI64,
    /// Held shared by every appender (from before its first series lookup
    /// to its commit) and exclusively by `truncate` while it removes
    /// series, so no request appends to a series being dropped. Taken
    /// after the WAL writer mutex and before `index`.
    append_lock: RwLock<()>,
    /// Recent selections' series sorted by labels (see select_cache.rs).
    sorted_cache: select_cache::SortedCache,
    /// Recent look-up selections' refs and bitmaps (see select_cache.rs).
    refs_cache: select_cache::RefsCache,
    /// Set once a native-histogram sample was appended: selections that
    /// read floats only check for histograms when it is.
    has_histograms: std::sync::atomic::AtomicBool,
}

/// HeadStats are a head's figures for `headStats()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadStats {
    pub tenant: String,
    pub series: u64,
    pub samples: u64,
    pub chunks: u64,
    /// 0 while the head is empty.
    pub min_time: i64,
    /// 0 while the head is empty.
    pub max_time: i64,
}

/// Hasher seeds: fixed so a label set hashes the same in every thread.
const SEEDS: [u64; 4] = [
    0x6d69_6d69_725f_6e61,
    0x7469_7665_5f74_7364,
    0x9e37_79b9_7f4a_7c15,
    0xc2b2_ae3d_27d4_eb4f,
];

static LABEL_HASHER: LazyLock<ahash::RandomState> =
    LazyLock::new(|| ahash::RandomState::with_seeds(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]));

/// hash_labels hashes a sorted label set (names and values separated by 0xff,
/// a byte that never occurs in UTF-8).
pub fn hash_labels(labels: &[(&str, &str)]) -> u64 {
    let mut h = LABEL_HASHER.build_hasher();
    for (n, v) in labels {
        h.write(n.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

impl Head {
    /// new creates an empty head with the given chunk range.
    pub fn new(tenant: &str, chunk_range: i64) -> Self {
        Head {
            tenant: tenant.to_string(),
            chunk_range,
            index: RwLock::new(HeadIndex::default()),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            num_samples: AtomicU64::new(0),
            num_chunks: AtomicU64::new(0),
            last_append_ms: AtomicI64::new(0),
            append_lock: RwLock::new(()),
            sorted_cache: select_cache::SortedCache::default(),
            refs_cache: select_cache::RefsCache::default(),
            has_histograms: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// tenant is the head's tenant ID.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// chunk_range is the head chunk range in ms.
    pub fn chunk_range(&self) -> i64 {
        self.chunk_range
    }

    /// min_time is the smallest sample time, None while empty.
    pub fn min_time(&self) -> Option<i64> {
        let t = self.min_time.load(Ordering::Acquire);
        (t != i64::MAX).then_some(t)
    }

    /// max_time is the largest sample time, None while empty.
    pub fn max_time(&self) -> Option<i64> {
        let t = self.max_time.load(Ordering::Acquire);
        (t != i64::MIN).then_some(t)
    }

    /// num_series is the number of series in the head.
    pub fn num_series(&self) -> usize {
        self.index.read().live
    }

    /// next_ref is the ref the next created series gets.
    pub fn next_ref(&self) -> u32 {
        self.index.read().series.len() as u32 + 1
    }

    /// all_series returns every series, by ref.
    pub fn all_series(&self) -> Vec<Arc<MemSeries>> {
        self.index.read().all()
    }

    /// touch records that samples were just appended (wall clock).
    pub(crate) fn touch(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.last_append_ms.store(now, Ordering::Relaxed);
    }

    /// last_append_ms is the wall-clock time (unix ms) of the last append,
    /// None before any.
    pub fn last_append_ms(&self) -> Option<i64> {
        let t = self.last_append_ms.load(Ordering::Relaxed);
        (t != 0).then_some(t)
    }

    /// min_valid_time is the time below which appends are refused (raised
    /// when the head is truncated), i64::MIN at first.
    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_time.load(Ordering::Acquire)
    }

    /// stats gathers the head's figures.
    pub fn stats(&self) -> HeadStats {
        HeadStats {
            tenant: self.tenant.clone(),
            series: self.num_series() as u64,
            samples: self.num_samples.load(Ordering::Relaxed),
            chunks: self.num_chunks.load(Ordering::Relaxed),
            min_time: self.min_time().unwrap_or(0),
            max_time: self.max_time().unwrap_or(0),
        }
    }

    /// has_histograms reports whether a native-histogram sample was ever
    /// appended to the head.
    pub fn has_histograms(&self) -> bool {
        self.has_histograms.load(Ordering::Relaxed)
    }

    /// histograms_in reports whether a series matching any of the sets has
    /// native-histogram samples overlapping [mint, maxt] (false at once
    /// for a head that never took one): the float-only fused selections
    /// flag their answer with it so the engine can select again.
    pub fn histograms_in(&self, sets: &[Vec<Matcher>], mint: i64, maxt: i64) -> bool {
        if !self.has_histograms() {
            return false;
        }
        self.select_series_unsorted(sets, mint, maxt)
            .iter()
            .any(|s| {
                let st = s.state.lock();
                st.chunks
                    .hist
                    .as_deref()
                    .is_some_and(|h| h.chunks().any(|(a, b, _, _)| a <= maxt && b >= mint))
            })
    }

    /// series_by_ref returns a series by its ref.
    pub fn series_by_ref(&self, series_ref: u32) -> Option<Arc<MemSeries>> {
        self.index.read().get(series_ref).cloned()
    }

    /// get_or_create finds the series with exactly these labels (sorted by
    /// name, no empty values) or creates it. Returns the series and whether
    /// it was created. Existing series are found under the shared lock only.
    pub fn get_or_create(&self, labels: &[(&str, &str)]) -> (Arc<MemSeries>, bool) {
        // Ref 0 is never free: a new series gets the next ref.
        self.get_or_create_at(labels, 0)
    }

    /// get_or_create_at is `get_or_create` for WAL replay: a new series
    /// gets `want_ref` when no series holds that ref, so a log whose refs
    /// have gaps (series dropped by truncation, then checkpointed) or whose
    /// Series records are out of ref order (series created by concurrent
    /// requests, see `crate::wal`) replays without remapping.
    pub fn get_or_create_at(
        &self,
        labels: &[(&str, &str)],
        want_ref: u64,
    ) -> (Arc<MemSeries>, bool) {
        self.get_or_create_hashed_at(labels, hash_labels(labels), want_ref)
    }

    /// get_or_create_hashed is `get_or_create` for labels whose
    /// `hash_labels` the caller already has.
    pub fn get_or_create_hashed(
        &self,
        labels: &[(&str, &str)],
        hash: u64,
    ) -> (Arc<MemSeries>, bool) {
        self.get_or_create_hashed_at(labels, hash, 0)
    }

    fn get_or_create_hashed_at(
        &self,
        labels: &[(&str, &str)],
        hash: u64,
        want_ref: u64,
    ) -> (Arc<MemSeries>, bool) {
        if let Some(s) = self.index.read().find(hash, labels) {
            return (Arc::clone(s), false);
        }
        let mut idx = self.index.write();
        if let Some(s) = idx.find(hash, labels) {
            return (Arc::clone(s), false);
        }
        let next = idx.series.len() as u64 + 1;
        let free = u32::try_from(want_ref).is_ok_and(|r| r > 0 && idx.get(r).is_none());
        let series_ref = if free {
            want_ref as u32
        } else {
            u32::try_from(next).expect("more than u32::MAX series in one head")
        };
        (idx.insert(hash, series_ref, labels), true)
    }

    /// truncate drops every sample before `mint` (already written to a
    /// block): chunks ending before it are released, series left without
    /// chunks are removed, and appends before `mint` are refused from now
    /// on. Runs beside appends: only the removal of series excludes them.
    pub fn truncate(&self, mint: i64) -> TruncateStats {
        self.min_valid_time.fetch_max(mint, Ordering::AcqRel);
        let mut stats = TruncateStats::default();
        let mut empty: Vec<u32> = Vec::new();
        let mut new_min = i64::MAX;
        for s in self.all_series() {
            let mut st = s.state.lock();
            let (chunks, samples) = st.chunks.truncate_before(mint);
            stats.chunks_removed += chunks;
            stats.samples_removed += samples;
            match st.chunks.min_time() {
                Some(t) => new_min = new_min.min(t),
                None => empty.push(s.series_ref),
            }
        }
        if !empty.is_empty() {
            let _excl = self.append_lock.write();
            let mut idx = self.index.write();
            // Re-checked: a sample may have arrived since.
            empty.retain(|&r| {
                idx.get(r)
                    .is_some_and(|s| s.state.lock().chunks.min_time().is_none())
            });
            idx.remove_many(&empty);
            stats.series_removed += empty.len() as u64;
        }
        self.num_chunks.fetch_sub(
            stats
                .chunks_removed
                .min(self.num_chunks.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        self.num_samples.fetch_sub(
            stats
                .samples_removed
                .min(self.num_samples.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        // The head's range now starts at its oldest sample left (or at the
        // cut when everything went).
        let floor = if new_min == i64::MAX {
            mint
        } else {
            new_min.max(mint)
        };
        let cur = self.min_time.load(Ordering::Acquire);
        if cur != i64::MAX && cur < floor {
            let _ = self
                .min_time
                .compare_exchange(cur, floor, Ordering::AcqRel, Ordering::Acquire);
        }
        stats
    }

    /// attach_closed_chunk appends a closed float chunk loaded from the
    /// head chunk files (replay, see `crate::wal::head_chunks`) to a series
    /// that never took a histogram, after closing its open chunk: the next
    /// sample starts a new chunk, as the one after the loaded chunk did
    /// when it was written. A chunk not after the series' newest sample, or
    /// too short to be one, is refused (None).
    pub fn attach_closed_chunk(&self, s: &MemSeries, c: chunks::ClosedChunk) -> Option<Attached> {
        let mut st = s.state.lock();
        let after = st.chunks.float_max_time().is_none_or(|l| c.min_t > l);
        if st.chunks.hist.is_some() || !after || c.data.len() < 2 || c.min_t > c.max_t {
            return None;
        }
        let before = st.chunks.closed.len();
        st.chunks.close_head();
        let closed = (st.chunks.closed.len() > before).then(|| st.chunks.closed[before].clone());
        let (mint, maxt) = (c.min_t, c.max_t);
        let samples = u64::from(crate::chunkenc::num_samples(&c.data));
        st.chunks.closed.push(c);
        drop(st);
        self.update_min_max(mint, maxt);
        self.num_samples.fetch_add(samples, Ordering::Relaxed);
        self.num_chunks.fetch_add(1, Ordering::Relaxed);
        Some(Attached { samples, closed })
    }

    /// lookup finds the series with exactly these labels (sorted by name,
    /// no empty values) without creating it (used by `crate::limits`).
    pub fn lookup(&self, labels: &[(&str, &str)]) -> Option<Arc<MemSeries>> {
        self.lookup_hashed(labels, hash_labels(labels))
    }

    /// lookup_hashed is `lookup` for labels whose `hash_labels` the caller
    /// already has.
    pub fn lookup_hashed(&self, labels: &[(&str, &str)], hash: u64) -> Option<Arc<MemSeries>> {
        self.index.read().find(hash, labels).cloned()
    }

    /// appender starts a batch of appends (one per request), like a
    /// Prometheus head appender: the minimum valid time is fixed when the
    /// first sample arrives.
    pub fn appender(&self) -> HeadAppender<'_> {
        HeadAppender::new(self, self.append_lock.read())
    }

    /// appendable_min_valid_time is max(min valid time, maxT - range/2),
    /// initialising an empty head's time range at `t` first
    /// (Prometheus's `initTime` + `appendableMinValidTime`).
    fn appendable_min_valid_time(&self, t: i64) -> i64 {
        let _ = self
            .min_time
            .compare_exchange(i64::MAX, t, Ordering::AcqRel, Ordering::Acquire);
        let _ = self
            .max_time
            .compare_exchange(i64::MIN, t, Ordering::AcqRel, Ordering::Acquire);
        let max_t = self.max_time.load(Ordering::Acquire);
        self.min_valid_time
            .load(Ordering::Acquire)
            .max(max_t.saturating_sub(self.chunk_range / 2))
    }

    /// current_min_valid_time is max(min valid time, maxT - range/2), None
    /// while the head is empty (Mimir's `AppendableMinValidTime`).
    fn current_min_valid_time(&self) -> Option<i64> {
        let max_t = self.max_time()?;
        Some(
            self.min_valid_time
                .load(Ordering::Acquire)
                .max(max_t.saturating_sub(self.chunk_range / 2)),
        )
    }

    /// update_min_max widens the head's time range after a commit.
    fn update_min_max(&self, mint: i64, maxt: i64) {
        if mint <= maxt {
            self.min_time.fetch_min(mint, Ordering::AcqRel);
            self.max_time.fetch_max(maxt, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
pub(crate) mod histogram_tests;
#[cfg(test)]
mod tests;
