//! head is the in-memory, per-tenant TSDB head: series identified by their
//! label sets, each with XOR chunks cut as Prometheus cuts them, a postings
//! index for lookups, and the tenant registry ([`Db`]) shared by every Node
//! worker thread of the process.
//!
//! # Lock order
//!
//! Locks are always taken in this order, never the other way round:
//!
//! 1. `Db::tenants` (RwLock, held only to find or create a tenant's head),
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
pub mod chunks;
mod json;
mod read;
mod select_range;
pub mod series;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::index::MemPostings;

pub use append::{AppendErrorKind, HeadAppender, SeriesAppendResult};
pub use chunks::{encode_chunks, DEFAULT_CHUNK_RANGE, SAMPLES_PER_CHUNK};
pub use json::write_json_string;
pub use read::{build_matcher_sets, SelectedSamples, TooManySamples, TOO_MANY_SAMPLES_MESSAGE};
pub use select_range::SelectedRange;
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
    /// Series by ref: ref r lives at `series[r - 1]` (refs start at 1).
    series: Vec<Arc<MemSeries>>,
    postings: MemPostings,
}

impl HeadIndex {
    fn find(&self, hash: u64, labels: &[(&str, &str)]) -> Option<&Arc<MemSeries>> {
        let same = |r: &u32| self.series[*r as usize - 1].labels.eq_pairs(labels);
        let first = self.by_hash.get(&hash)?;
        if same(first) {
            return Some(&self.series[*first as usize - 1]);
        }
        if self.collisions.is_empty() {
            return None;
        }
        self.collisions
            .get(&hash)?
            .iter()
            .find(|r| same(r))
            .map(|r| &self.series[*r as usize - 1])
    }

    fn get(&self, series_ref: u32) -> Option<&Arc<MemSeries>> {
        self.series.get((series_ref as usize).wrapping_sub(1))
    }
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
        self.index.read().series.len()
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

    /// series_by_ref returns a series by its ref.
    pub fn series_by_ref(&self, series_ref: u32) -> Option<Arc<MemSeries>> {
        self.index.read().get(series_ref).cloned()
    }

    /// get_or_create finds the series with exactly these labels (sorted by
    /// name, no empty values) or creates it. Returns the series and whether
    /// it was created. Existing series are found under the shared lock only.
    pub fn get_or_create(&self, labels: &[(&str, &str)]) -> (Arc<MemSeries>, bool) {
        let hash = hash_labels(labels);
        if let Some(s) = self.index.read().find(hash, labels) {
            return (Arc::clone(s), false);
        }
        let mut idx = self.index.write();
        if let Some(s) = idx.find(hash, labels) {
            return (Arc::clone(s), false);
        }
        let series_ref =
            u32::try_from(idx.series.len() + 1).expect("more than u32::MAX series in one head");
        let owned = series::Labels::from_pairs(labels);
        idx.postings.add(series_ref, labels);
        let s = Arc::new(MemSeries::new(series_ref, owned));
        idx.series.push(Arc::clone(&s));
        match idx.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(series_ref);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                idx.collisions.entry(hash).or_default().push(series_ref);
            }
        }
        (s, true)
    }

    /// lookup finds the series with exactly these labels (sorted by name,
    /// no empty values) without creating it (used by `crate::limits`).
    pub fn lookup(&self, labels: &[(&str, &str)]) -> Option<Arc<MemSeries>> {
        self.index.read().find(hash_labels(labels), labels).cloned()
    }

    /// appender starts a batch of appends (one per request), like a
    /// Prometheus head appender: the minimum valid time is fixed when the
    /// first sample arrives.
    pub fn appender(&self) -> HeadAppender<'_> {
        HeadAppender::new(self)
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

/// Db is the process-global registry of tenant heads.
#[derive(Debug, Default)]
pub struct Db {
    /// Tenant heads; lock level 1 (see the module docs).
    tenants: RwLock<HashMap<String, Arc<Head>>>,
}

static DB: LazyLock<Db> = LazyLock::new(Db::default);

/// db is the process-wide registry used by the napi binding.
pub fn db() -> &'static Db {
    &DB
}

impl Db {
    /// new creates a registry (tests use their own; the binding uses [`db`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// head returns the tenant's head, creating an empty one.
    pub fn head(&self, tenant: &str) -> Arc<Head> {
        if let Some(h) = self.tenants.read().get(tenant) {
            return Arc::clone(h);
        }
        let mut m = self.tenants.write();
        Arc::clone(
            m.entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Head::new(tenant, DEFAULT_CHUNK_RANGE))),
        )
    }

    /// get returns the tenant's head if it exists.
    pub fn get(&self, tenant: &str) -> Option<Arc<Head>> {
        self.tenants.read().get(tenant).cloned()
    }

    /// reset drops a tenant's head. Appends in flight finish on the old head.
    pub fn reset(&self, tenant: &str) -> bool {
        self.tenants.write().remove(tenant).is_some()
    }

    /// stats lists every tenant's head figures, sorted by tenant.
    pub fn stats(&self) -> Vec<HeadStats> {
        let heads: Vec<Arc<Head>> = self.tenants.read().values().cloned().collect();
        let mut out: Vec<HeadStats> = heads.iter().map(|h| h.stats()).collect();
        out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        out
    }
}

#[cfg(test)]
mod tests;
