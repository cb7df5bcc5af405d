//! tsdb is the one owner of a tenant's storage state: its head, WAL,
//! queryable blocks, exemplars, metadata, ingestion rate limiter, series
//! gate and HA elections live in one [`Tsdb`], created on first use and
//! dropped as one by [`Registry::drop_tenant`] (tenant deletion). The
//! process keeps a single [`Registry`] (tenant -> `Arc<Tsdb>`), returned by
//! [`registry`]; nothing else in the crate holds per-tenant state.
//!
//! # Lock order
//!
//! The registry's map lock is taken alone and only to find, create or drop
//! a `Tsdb`; every per-tenant lock is taken on the `Arc<Tsdb>` afterwards,
//! so pushes and reads of different tenants never wait on each other.
//! Within a tenant: the series gate before the head's index lock (see
//! `crate::limits`); the other fields are leaf locks.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use parking_lot::{Mutex, RwLock};

use crate::block::Block;
use crate::exemplars::ExemplarRing;
use crate::ha_tracker::{KvUpdate, ReplicaDesc, ReplicaKv};
use crate::head::{Head, HeadStats, DEFAULT_CHUNK_RANGE};
use crate::limits::{RateLimit, SeriesGate, TokenBucket};
use crate::metadata::TenantMetadata;
use crate::store::OpenFailure;
use crate::wal::TenantWal;

pub mod compact_head;

/// HEAD_CHUNK_RANGE is the chunk range (ms) of the heads created from now on:
/// the ingester's block range, as a Prometheus head takes its chunk range
/// from the smallest block range. Chunks are cut at its multiples, so a
/// block cut truncates whole chunks, and samples older than half of it
/// before the head's newest are out of bounds.
static HEAD_CHUNK_RANGE: AtomicI64 = AtomicI64::new(DEFAULT_CHUNK_RANGE);

/// set_head_chunk_range sets the chunk range of the heads created from now
/// on (-blocks-storage.tsdb.block-ranges-period; 0 or less: 2h). Heads
/// that exist keep theirs.
pub fn set_head_chunk_range(ms: i64) {
    let range = if ms > 0 { ms } else { DEFAULT_CHUNK_RANGE };
    HEAD_CHUNK_RANGE.store(range, Ordering::Relaxed);
}

/// Tsdb is one tenant's storage state.
#[derive(Debug)]
pub struct Tsdb {
    tenant: String,
    /// The head, created on first write (a tenant known only by its
    /// blocks or metadata has none, and lists no head figures).
    head: OnceLock<Arc<Head>>,
    /// The tenant's WAL once storage is open and the tenant wrote.
    wal: RwLock<Option<Arc<TenantWal>>>,
    /// Queryable blocks (ingester-local and bucket), oldest first.
    blocks: RwLock<Vec<Arc<Block>>>,
    /// Blocks published by a head compaction that no `set_blocks` call
    /// listed yet: kept queryable whatever the caller publishes meanwhile,
    /// so the samples the compaction truncated from the head stay visible.
    cut_pending: Mutex<Vec<PathBuf>>,
    /// The exemplar ring (None while exemplars are off for the tenant).
    exemplars: RwLock<Option<Arc<Mutex<ExemplarRing>>>>,
    metadata: TenantMetadata,
    /// The ingestion rate limiter (created full on first use).
    rate: Mutex<Option<TokenBucket>>,
    gate: SeriesGate,
    /// HA elections: cluster -> elected replica.
    ha: Mutex<BTreeMap<String, ReplicaDesc>>,
}

impl Tsdb {
    /// new creates an empty tenant state.
    pub fn new(tenant: &str) -> Self {
        Tsdb {
            tenant: tenant.to_string(),
            head: OnceLock::new(),
            wal: RwLock::new(None),
            blocks: RwLock::new(Vec::new()),
            cut_pending: Mutex::new(Vec::new()),
            exemplars: RwLock::new(None),
            metadata: TenantMetadata::default(),
            rate: Mutex::new(None),
            gate: SeriesGate::default(),
            ha: Mutex::new(BTreeMap::new()),
        }
    }

    /// tenant is the tenant's id.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// head returns the tenant's head, creating an empty one.
    pub fn head(&self) -> &Arc<Head> {
        self.head.get_or_init(|| {
            Arc::new(Head::new(
                &self.tenant,
                HEAD_CHUNK_RANGE.load(Ordering::Relaxed),
            ))
        })
    }

    /// head_if_any returns the head when one was created.
    pub fn head_if_any(&self) -> Option<&Arc<Head>> {
        self.head.get()
    }

    /// wal returns the tenant's WAL, opening it through `storage` on first
    /// use; None when storage was never opened (in-memory heads).
    pub fn wal(
        &self,
        storage: &crate::wal::WalStorage,
    ) -> Result<Option<Arc<TenantWal>>, crate::wal::WalError> {
        storage.check_open()?;
        if let Some(w) = self.wal.read().as_ref() {
            return Ok(Some(Arc::clone(w)));
        }
        let mut slot = self.wal.write();
        if let Some(w) = slot.as_ref() {
            return Ok(Some(Arc::clone(w)));
        }
        let w = storage.open_tenant(&self.tenant)?;
        if let Some(w) = &w {
            *slot = Some(Arc::clone(w));
        }
        Ok(w)
    }

    /// wal_if_open returns the tenant's WAL when it was opened.
    pub fn wal_if_open(&self) -> Option<Arc<TenantWal>> {
        self.wal.read().clone()
    }

    /// take_wal removes the tenant's WAL from the tenant (storage reopened
    /// or closed).
    fn take_wal(&self) -> Option<Arc<TenantWal>> {
        self.wal.write().take()
    }

    /// forget_wal closes the tenant's WAL and deletes its directory
    /// (tenant deletion: the log must never outlive its head).
    pub fn forget_wal(&self) -> std::io::Result<()> {
        if let Some(w) = self.take_wal() {
            w.lock_writer().close_segment()?;
            w.head_chunks().remove()?;
            match std::fs::remove_dir_all(w.dir()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// set_blocks makes `dirs` the tenant's queryable blocks: blocks already
    /// open stay open, new ones are opened, the others are dropped (closed
    /// when the last query using them ends). Blocks that fail to open are
    /// left out and reported; the rest are served. Blocks a head compaction
    /// published and `dirs` does not list yet stay (see [`Tsdb::publish_block`]).
    pub fn set_blocks(&self, dirs: &[PathBuf]) -> Vec<OpenFailure> {
        let mut pending = self.cut_pending.lock();
        // Listed under any path (the caller's spelling of the directory, or
        // another copy of the block): the caller knows it now.
        pending.retain(|p| !dirs.iter().any(|d| d.file_name() == p.file_name()));
        let dirs: Vec<PathBuf> = dirs.iter().chain(pending.iter()).cloned().collect();
        let open: HashMap<PathBuf, Arc<Block>> = self
            .blocks()
            .into_iter()
            .map(|b| (b.dir().to_path_buf(), b))
            .collect();
        let mut blocks = Vec::with_capacity(dirs.len());
        let mut failures = Vec::new();
        for d in &dirs {
            if let Some(b) = open.get(d) {
                blocks.push(Arc::clone(b));
                continue;
            }
            match Block::open(d) {
                Ok(b) => blocks.push(Arc::new(b)),
                Err(e) => failures.push(OpenFailure {
                    dir: d.display().to_string(),
                    error: e.to_string(),
                }),
            }
        }
        blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
        *self.blocks.write() = blocks;
        failures
    }

    /// publish_block opens the block a head compaction just wrote and adds
    /// it to the queryable blocks, where it stays until a `set_blocks` call
    /// lists it (the caller learns of the block only after the compaction).
    pub fn publish_block(&self, dir: &std::path::Path) -> Result<(), crate::block::BlockError> {
        let b = Arc::new(Block::open(dir)?);
        let mut pending = self.cut_pending.lock();
        pending.push(dir.to_path_buf());
        let mut blocks = self.blocks.write();
        blocks.retain(|o| o.dir() != dir);
        blocks.push(b);
        blocks.sort_by_key(|b| (b.meta().min_time, b.meta().max_time));
        Ok(())
    }

    /// blocks returns the tenant's queryable blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks.read().clone()
    }

    /// overlapping_blocks returns the blocks with samples in [mint, maxt].
    pub fn overlapping_blocks(&self, mint: i64, maxt: i64) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .iter()
            .filter(|b| b.meta().min_time <= maxt && b.meta().max_time > mint)
            .cloned()
            .collect()
    }

    /// block_dirs lists the tenant's queryable block directories.
    pub fn block_dirs(&self) -> Vec<PathBuf> {
        self.blocks
            .read()
            .iter()
            .map(|b| b.dir().to_path_buf())
            .collect()
    }

    /// exemplar_ring returns the tenant's ring sized to `capacity` (created
    /// or resized as needed); capacity 0 drops the tenant's exemplars (None).
    pub fn exemplar_ring(&self, capacity: usize) -> Option<Arc<Mutex<ExemplarRing>>> {
        if capacity == 0 {
            // The read lock first: with exemplars off (the default) every
            // push comes here, and should not serialise on the write lock.
            if self.exemplars.read().is_some() {
                *self.exemplars.write() = None;
            }
            return None;
        }
        let ring = match self.exemplars() {
            Some(r) => r,
            None => Arc::clone(
                self.exemplars
                    .write()
                    .get_or_insert_with(|| Arc::new(Mutex::new(ExemplarRing::new(capacity)))),
            ),
        };
        {
            let mut r = ring.lock();
            if r.capacity() != capacity {
                r.resize(capacity);
            }
        }
        Some(ring)
    }

    /// exemplars returns the tenant's ring, if it has one.
    pub fn exemplars(&self) -> Option<Arc<Mutex<ExemplarRing>>> {
        self.exemplars.read().clone()
    }

    /// metadata is the tenant's metric metadata.
    pub fn metadata(&self) -> &TenantMetadata {
        &self.metadata
    }

    /// allow_ingestion takes n items from the tenant's rate limiter (created
    /// full on first use, its limits updated when they changed).
    pub fn allow_ingestion(&self, limit: RateLimit, n: u64, now_ms: i64) -> bool {
        let mut slot = self.rate.lock();
        let bucket = match slot.as_mut() {
            Some(b) => {
                b.set_limits(limit.rate, limit.burst, now_ms);
                b
            }
            None => slot.insert(TokenBucket::new(limit.rate, limit.burst, now_ms)),
        };
        bucket.allow_n(now_ms, n)
    }

    /// series_gate serialises the creation of the tenant's series under
    /// its series limits.
    pub fn series_gate(&self) -> &SeriesGate {
        &self.gate
    }
}

/// Registry maps each tenant to its [`Tsdb`].
#[derive(Debug, Default)]
pub struct Registry {
    tenants: RwLock<HashMap<String, Arc<Tsdb>>>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

/// registry is the process-wide registry used by the binding.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

impl Registry {
    /// new creates an empty registry (tests; the binding uses [`registry`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// tenant returns the tenant's state, creating it empty.
    pub fn tenant(&self, tenant: &str) -> Arc<Tsdb> {
        if let Some(t) = self.tenants.read().get(tenant) {
            return Arc::clone(t);
        }
        let mut m = self.tenants.write();
        Arc::clone(
            m.entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Tsdb::new(tenant))),
        )
    }

    /// get returns the tenant's state if it exists.
    pub fn get(&self, tenant: &str) -> Option<Arc<Tsdb>> {
        self.tenants.read().get(tenant).cloned()
    }

    /// head returns the tenant's head, creating the tenant and head.
    pub fn head(&self, tenant: &str) -> Arc<Head> {
        Arc::clone(self.tenant(tenant).head())
    }

    /// get_head returns the tenant's head if it exists.
    pub fn get_head(&self, tenant: &str) -> Option<Arc<Head>> {
        self.get(tenant).and_then(|t| t.head_if_any().cloned())
    }

    /// all lists every tenant's state, sorted by tenant.
    pub fn all(&self) -> Vec<Arc<Tsdb>> {
        let mut v: Vec<Arc<Tsdb>> = self.tenants.read().values().cloned().collect();
        v.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        v
    }

    /// head_stats lists every tenant's head figures, sorted by tenant.
    pub fn head_stats(&self) -> Vec<HeadStats> {
        self.all()
            .iter()
            .filter_map(|t| t.head_if_any().map(|h| h.stats()))
            .collect()
    }

    /// drop_tenant removes the tenant's state: head, blocks, exemplars,
    /// metadata, limiters and HA elections go with it; writes in flight
    /// finish on the dropped state. The tenant's WAL is closed and its
    /// directory deleted, so the log never outlives its head.
    pub fn drop_tenant(&self, tenant: &str) -> std::io::Result<bool> {
        let Some(t) = self.tenants.write().remove(tenant) else {
            return Ok(false);
        };
        t.forget_wal()?;
        Ok(true)
    }

    /// take_wals detaches every tenant's open WAL (storage reopened or
    /// closed), returning them for closing.
    pub fn take_wals(&self) -> Vec<Arc<TenantWal>> {
        self.all().iter().filter_map(|t| t.take_wal()).collect()
    }

    /// open_wals lists every tenant's open WAL.
    pub fn open_wals(&self) -> Vec<Arc<TenantWal>> {
        self.all().iter().filter_map(|t| t.wal_if_open()).collect()
    }
}

impl ReplicaKv for Registry {
    fn cas(
        &self,
        tenant: &str,
        cluster: &str,
        f: &mut dyn FnMut(Option<&ReplicaDesc>, usize) -> KvUpdate,
    ) {
        let t = self.tenant(tenant);
        let mut clusters = t.ha.lock();
        let n = clusters.len();
        if let KvUpdate::Put(desc) = f(clusters.get(cluster), n) {
            clusters.insert(cluster.to_string(), desc);
        }
    }

    fn list(&self) -> Vec<(String, String, ReplicaDesc)> {
        let mut out = Vec::new();
        for t in self.all() {
            for (c, d) in t.ha.lock().iter() {
                out.push((t.tenant.clone(), c.clone(), d.clone()));
            }
        }
        out
    }

    fn delete_tenant(&self, tenant: &str) {
        if let Some(t) = self.get(tenant) {
            t.ha.lock().clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_state_is_created_and_dropped_as_one() {
        let r = Registry::new();
        assert!(r.get("a").is_none());
        let h = r.head("a");
        let (s, created) = h.get_or_create(&[("__name__", "up")]);
        assert!(created);
        let mut app = h.appender();
        app.append_series(&s, [(1000, 1.0)]);
        app.commit();
        let t = r.tenant("a");
        assert!(Arc::ptr_eq(t.head(), &h), "one head per tenant");
        assert!(t.exemplar_ring(4).is_some());
        let lim = RateLimit {
            rate: 1.0,
            burst: 2,
        };
        assert!(t.allow_ingestion(lim, 2, 0));
        assert!(!t.allow_ingestion(lim, 1, 0));
        r.cas("a", "c1", &mut |cur, n| {
            assert!(cur.is_none());
            assert_eq!(n, 0);
            KvUpdate::Put(ReplicaDesc {
                replica: "r1".into(),
                received_at: 1,
                elected_at: 1,
                elected_changes: 0,
            })
        });
        assert_eq!(r.list().len(), 1);
        assert_eq!(r.head_stats().len(), 1);
        // A tenant known only by reads has no head figures.
        r.tenant("b");
        assert_eq!(r.head_stats().len(), 1);
        assert!(r.drop_tenant("a").unwrap());
        assert!(!r.drop_tenant("a").unwrap());
        assert!(r.get_head("a").is_none());
        assert!(r.list().is_empty(), "HA elections dropped with the tenant");
        let t2 = r.tenant("a");
        assert_eq!(t2.head().num_series(), 0, "a fresh head after the drop");
        assert!(t2.exemplars().is_none());
        assert!(t2.allow_ingestion(lim, 2, 0), "a full bucket again");
    }
}
