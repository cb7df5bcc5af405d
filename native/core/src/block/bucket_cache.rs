//! bucket_cache caches the store-gateway's ranged reads of bucket blocks,
//! as Mimir's chunks cache and index cache do, under [`RemoteFile`]'s
//! per-file page cache:
//!
//! - [`CachingSource`] wraps the bucket's [`RangeSource`]. A read of a chunk
//!   segment (`<tenant>/<block>/chunks/NNNNNN`) is split into subranges of
//!   [`SUBRANGE_SIZE`] bytes aligned to the object's start, as Mimir's
//!   caching bucket splits them; the subranges found in the chunks cache are
//!   not fetched, the missing ones are fetched with at most
//!   `max_get_range_requests` ranged reads (runs closest together merged) and
//!   stored asynchronously. Key: `subrange:<object>:<start>:<end>` (Mimir's).
//! - The index cache caches the index's bytes the same way, keyed
//!   `index:<object>:<start>:<end>`. Mimir caches decoded postings lists
//!   and series by block and label pair or series reference; our reader
//!   reads postings and series entries as byte ranges of the index file
//!   (the index-header locates them), so the index cache keeps those bytes.
//! - [`MemcachedCache`] (backend `memcached`) and [`InMemoryCache`]
//!   (`inmemory`, the index cache only, as Mimir) hold the values.
//!
//! A cache never fails a read: a failed or slow cache operation (bounded by
//! the client's timeouts) is a miss, counted by reason with the last error
//! kept for the log ([`cache_stats`]). Every read that reaches the bucket
//! is counted by [`Counted`] (`remote::read_stats`).
//!
//! [`RemoteFile`]: super::remote::RemoteFile

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::memcached::{Failure, MemcachedClient, OpError};
use super::remote::RangeSource;

/// SUBRANGE_SIZE is the bytes of one cached subrange (Mimir's fixed 16000).
pub const SUBRANGE_SIZE: u64 = 16_000;

/// CacheMetrics are the counters of one named cache (`chunks-cache`,
/// `index-cache`), process-wide and kept across reconfigurations: the
/// client's (dskit's `thanos_cache_*`) and the ranged reads' above it.
#[derive(Debug, Default)]
pub struct CacheMetrics {
    /// Items asked for and found.
    pub requests: AtomicU64,
    pub hits: AtomicU64,
    /// Operations sent: `getmulti` and `set`.
    pub get_ops: AtomicU64,
    pub set_ops: AtomicU64,
    /// Failed operations by (operation, reason).
    failures: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Sets skipped: value over max-item-size, async buffer full.
    pub skipped_max_item_size: AtomicU64,
    pub skipped_buffer_full: AtomicU64,
    last_error: Mutex<String>,
    /// Ranged reads through the cache, and those served whole from it.
    pub range_requests: AtomicU64,
    pub range_hits: AtomicU64,
    /// Bytes asked for by ranged reads, and fetched from the bucket.
    pub requested_bytes: AtomicU64,
    pub fetched_bytes: AtomicU64,
}

impl CacheMetrics {
    fn failed(&self, op: &'static str, e: &OpError) {
        *self
            .failures
            .lock()
            .entry((op, e.kind.reason()))
            .or_default() += 1;
        *self.last_error.lock() = e.message.clone();
    }
}

/// CacheStats is a snapshot of one cache's [`CacheMetrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub name: String,
    pub requests: u64,
    pub hits: u64,
    pub get_ops: u64,
    pub set_ops: u64,
    /// (operation, reason, count)
    pub failures: Vec<(String, String, u64)>,
    pub skipped_max_item_size: u64,
    pub skipped_buffer_full: u64,
    pub last_error: String,
    pub range_requests: u64,
    pub range_hits: u64,
    pub requested_bytes: u64,
    pub fetched_bytes: u64,
}

static METRICS: OnceLock<Mutex<BTreeMap<&'static str, Arc<CacheMetrics>>>> = OnceLock::new();

/// metrics_for returns the counters of the cache `name`.
pub fn metrics_for(name: &'static str) -> Arc<CacheMetrics> {
    let mut m = METRICS.get_or_init(Mutex::default).lock();
    Arc::clone(m.entry(name).or_default())
}

/// cache_stats returns the counters of every cache configured so far.
pub fn cache_stats() -> Vec<CacheStats> {
    let m = METRICS.get_or_init(Mutex::default).lock();
    let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
    m.iter()
        .map(|(name, c)| CacheStats {
            name: name.to_string(),
            requests: ld(&c.requests),
            hits: ld(&c.hits),
            get_ops: ld(&c.get_ops),
            set_ops: ld(&c.set_ops),
            failures: c
                .failures
                .lock()
                .iter()
                .map(|((o, r), n)| (o.to_string(), r.to_string(), *n))
                .collect(),
            skipped_max_item_size: ld(&c.skipped_max_item_size),
            skipped_buffer_full: ld(&c.skipped_buffer_full),
            last_error: c.last_error.lock().clone(),
            range_requests: ld(&c.range_requests),
            range_hits: ld(&c.range_hits),
            requested_bytes: ld(&c.requested_bytes),
            fetched_bytes: ld(&c.fetched_bytes),
        })
        .collect()
}

/// Cache holds opaque values by key, best effort.
pub trait Cache: Send + Sync + fmt::Debug {
    /// fetch returns the values found (a failure is a miss).
    fn fetch(&self, keys: &[String]) -> HashMap<String, Vec<u8>>;
    /// store keeps the values for `ttl` (possibly later, possibly not).
    fn store(&self, items: Vec<(String, Vec<u8>)>, ttl: Duration);
}

/// SetQueue is the asynchronous writes waiting for a memcached worker.
type SetQueue = SyncSender<(String, Vec<u8>, Duration)>;

/// MemcachedCache is the `memcached` backend: reads wait for memcached
/// (within its timeouts), writes are queued (up to max-async-buffer-size,
/// then dropped) for max-async-concurrency worker threads.
pub struct MemcachedCache {
    client: Arc<MemcachedClient>,
    metrics: Arc<CacheMetrics>,
    queue: SetQueue,
}

impl fmt::Debug for MemcachedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedCache")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl MemcachedCache {
    /// new starts the cache's writer threads; they end when it is dropped.
    pub fn new(
        client: MemcachedClient,
        metrics: Arc<CacheMetrics>,
        max_async_concurrency: usize,
        max_async_buffer_size: usize,
    ) -> Self {
        let client = Arc::new(client);
        let (queue, rx) = sync_channel(max_async_buffer_size.max(1));
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..max_async_concurrency.clamp(1, 16) {
            let (client, metrics, rx) = (client.clone(), metrics.clone(), rx.clone());
            std::thread::Builder::new()
                .name("memcached-set".into())
                .spawn(move || set_worker(&client, &metrics, &rx))
                .expect("spawn a memcached writer thread");
        }
        MemcachedCache {
            client,
            metrics,
            queue,
        }
    }
}

type SetReceiver = std::sync::Mutex<Receiver<(String, Vec<u8>, Duration)>>;

fn set_worker(client: &MemcachedClient, metrics: &CacheMetrics, rx: &SetReceiver) {
    loop {
        let next = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok((key, value, ttl)) = next else { return };
        metrics.set_ops.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = client.set(&key, &value, ttl) {
            metrics.failed("set", &e);
        }
    }
}

impl Cache for MemcachedCache {
    fn fetch(&self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        if keys.is_empty() {
            return HashMap::new();
        }
        self.metrics.get_ops.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .requests
            .fetch_add(keys.len() as u64, Ordering::Relaxed);
        let (found, errors) = self.client.get_multi(keys);
        for e in &errors {
            self.metrics.failed("getmulti", e);
        }
        self.metrics
            .hits
            .fetch_add(found.len() as u64, Ordering::Relaxed);
        found
    }

    fn store(&self, items: Vec<(String, Vec<u8>)>, ttl: Duration) {
        let max = self.client.max_item_size();
        for (k, v) in items {
            if max > 0 && v.len() > max {
                self.metrics
                    .skipped_max_item_size
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            match self.queue.try_send((k, v, ttl)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    self.metrics
                        .skipped_buffer_full
                        .fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.metrics.failed(
                        "set",
                        &OpError {
                            kind: Failure::NetworkError,
                            message: "memcached writer threads are gone".into(),
                        },
                    );
                }
            }
        }
    }
}

/// InMemoryCache is the `inmemory` backend: values kept up to `max_bytes`,
/// the least recently used evicted first, each expiring after its TTL.
#[derive(Debug)]
pub struct InMemoryCache {
    metrics: Arc<CacheMetrics>,
    max_bytes: usize,
    inner: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    /// key -> (value, expiry, tick of last use)
    items: HashMap<String, (Arc<[u8]>, Instant, u64)>,
    /// tick -> key, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

impl Lru {
    fn remove(&mut self, key: &str) {
        if let Some((v, _, t)) = self.items.remove(key) {
            self.order.remove(&t);
            self.bytes -= v.len() + key.len();
        }
    }
}

impl InMemoryCache {
    pub fn new(max_bytes: usize, metrics: Arc<CacheMetrics>) -> Self {
        InMemoryCache {
            metrics,
            max_bytes,
            inner: Mutex::default(),
        }
    }
}

impl Cache for InMemoryCache {
    fn fetch(&self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        let now = Instant::now();
        let mut out = HashMap::new();
        let mut l = self.inner.lock();
        for k in keys {
            let Some((v, exp, t)) = l.items.get(k).map(|(v, e, t)| (v.clone(), *e, *t)) else {
                continue;
            };
            if exp <= now {
                l.remove(k);
                continue;
            }
            l.tick += 1;
            let tick = l.tick;
            l.order.remove(&t);
            l.order.insert(tick, k.clone());
            if let Some(e) = l.items.get_mut(k) {
                e.2 = tick;
            }
            out.insert(k.clone(), v.to_vec());
        }
        self.metrics
            .requests
            .fetch_add(keys.len() as u64, Ordering::Relaxed);
        self.metrics
            .hits
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        out
    }

    fn store(&self, items: Vec<(String, Vec<u8>)>, ttl: Duration) {
        let expiry = Instant::now() + ttl;
        let mut l = self.inner.lock();
        for (k, v) in items {
            let size = k.len() + v.len();
            if size > self.max_bytes {
                self.metrics
                    .skipped_max_item_size
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            l.remove(&k);
            while l.bytes + size > self.max_bytes {
                let Some((_, oldest)) = l.order.pop_first() else {
                    break;
                };
                if let Some((v, _, _)) = l.items.remove(&oldest) {
                    l.bytes -= v.len() + oldest.len();
                }
            }
            l.tick += 1;
            let tick = l.tick;
            l.order.insert(tick, k.clone());
            l.bytes += size;
            l.items.insert(k, (Arc::from(v), expiry, tick));
        }
    }
}

/// RangeCache is one cache of object byte ranges: its backend, key prefix
/// and TTL, and how many bucket reads one missed range may take.
#[derive(Debug, Clone)]
pub struct RangeCache {
    pub cache: Arc<dyn Cache>,
    pub metrics: Arc<CacheMetrics>,
    /// Key prefix: `subrange` (chunks) or `index`.
    pub prefix: &'static str,
    pub ttl: Duration,
    /// Most bucket reads per ranged read (0: one per run of missed subranges).
    pub max_get_range_requests: usize,
}

/// CachingSource is a bucket whose chunk segments and indexes are read
/// through their caches (see the module's doc).
#[derive(Debug)]
pub struct CachingSource {
    inner: Arc<dyn RangeSource>,
    chunks: Option<RangeCache>,
    index: Option<RangeCache>,
}

/// is_chunk_segment says whether `key` names a chunk segment
/// (`.../chunks/<digits>`), as Mimir's chunks cache matches them.
fn is_chunk_segment(key: &str) -> bool {
    key.rsplit_once("/chunks/")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl CachingSource {
    pub fn new(
        inner: Arc<dyn RangeSource>,
        chunks: Option<RangeCache>,
        index: Option<RangeCache>,
    ) -> Self {
        CachingSource {
            inner,
            chunks,
            index,
        }
    }

    fn cache_of(&self, key: &str) -> Option<&RangeCache> {
        if is_chunk_segment(key) {
            self.chunks.as_ref()
        } else if key.ends_with("/index") {
            self.index.as_ref()
        } else {
            None
        }
    }
}

/// merge_runs joins the closest runs until at most `max` are left (0: no
/// bound); runs are `[start, end)` subrange numbers in order.
fn merge_runs(mut runs: Vec<(u64, u64)>, max: usize) -> Vec<(u64, u64)> {
    while max > 0 && runs.len() > max {
        let i = (0..runs.len() - 1)
            .min_by_key(|&i| runs[i + 1].0 - runs[i].1)
            .expect("two runs or more");
        runs[i].1 = runs[i + 1].1;
        runs.remove(i + 1);
    }
    runs
}

impl RangeSource for CachingSource {
    fn get_range(&self, key: &str, off: u64, len: u64) -> Result<Vec<u8>, String> {
        let Some(rc) = self.cache_of(key) else {
            return self.inner.get_range(key, off, len);
        };
        if len == 0 {
            return Ok(Vec::new());
        }
        let m = &rc.metrics;
        m.range_requests.fetch_add(1, Ordering::Relaxed);
        m.requested_bytes.fetch_add(len, Ordering::Relaxed);
        let (first, last) = (off / SUBRANGE_SIZE, (off + len - 1) / SUBRANGE_SIZE);
        let key_of = |n: u64| {
            format!(
                "{}:{key}:{}:{}",
                rc.prefix,
                n * SUBRANGE_SIZE,
                (n + 1) * SUBRANGE_SIZE
            )
        };
        let keys: Vec<String> = (first..=last).map(key_of).collect();
        let mut found = rc.cache.fetch(&keys);
        // subs[i] is subrange first + i; a cached subrange shorter than
        // SUBRANGE_SIZE ends the object, so only the last one may be.
        let mut subs: Vec<Option<Vec<u8>>> = keys.iter().map(|k| found.remove(k)).collect();
        for i in 0..subs.len().saturating_sub(1) {
            if subs[i]
                .as_ref()
                .is_some_and(|s| s.len() as u64 != SUBRANGE_SIZE)
            {
                subs[i] = None;
            }
        }
        let mut runs = Vec::new();
        let mut i = 0;
        while i < subs.len() {
            if subs[i].is_some() {
                i += 1;
                continue;
            }
            let s = i;
            while i < subs.len() && subs[i].is_none() {
                i += 1;
            }
            runs.push((first + s as u64, first + i as u64));
        }
        if runs.is_empty() {
            m.range_hits.fetch_add(1, Ordering::Relaxed);
        }
        let mut fresh = Vec::new();
        for (a, b) in merge_runs(runs, rc.max_get_range_requests) {
            let bytes = self
                .inner
                .get_range(key, a * SUBRANGE_SIZE, (b - a) * SUBRANGE_SIZE)?;
            m.fetched_bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            for (k, part) in bytes.chunks(SUBRANGE_SIZE as usize).enumerate() {
                let n = a + k as u64;
                let slot = &mut subs[(n - first) as usize];
                if slot.is_none() {
                    fresh.push((key_of(n), part.to_vec()));
                }
                *slot = Some(part.to_vec());
            }
        }
        rc.cache.store(fresh, rc.ttl);
        let end = off + len;
        let mut out = Vec::with_capacity(len as usize);
        for (k, s) in subs.iter().enumerate() {
            // A subrange past the object's end was not returned.
            let Some(s) = s else { break };
            let base = (first + k as u64) * SUBRANGE_SIZE;
            let a = (off.max(base) - base).min(s.len() as u64);
            let b = (end.min(base + SUBRANGE_SIZE) - base).min(s.len() as u64);
            out.extend_from_slice(&s[a as usize..b as usize]);
            if (s.len() as u64) < SUBRANGE_SIZE {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::memcached::tests::{config, FakeMemcached};
    use super::super::remote::tests::MemSource;
    use super::*;

    fn source(data: &[u8]) -> Arc<MemSource> {
        let src = Arc::new(MemSource::default());
        src.objects
            .lock()
            .insert("t/B/chunks/000001".into(), data.to_vec());
        src.objects.lock().insert("t/B/index".into(), data.to_vec());
        src.objects
            .lock()
            .insert("t/B/meta.json".into(), b"{}".to_vec());
        src
    }

    fn range_cache(
        cache: Arc<dyn Cache>,
        metrics: Arc<CacheMetrics>,
        prefix: &'static str,
    ) -> RangeCache {
        RangeCache {
            cache,
            metrics,
            prefix,
            ttl: Duration::from_secs(60),
            max_get_range_requests: 3,
        }
    }

    /// wait_for polls `f` for up to two seconds (asynchronous sets).
    fn wait_for(f: impl Fn() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("condition not met in time");
    }

    #[test]
    fn a_repeated_read_comes_from_memcached() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 251) as u8).collect();
        let src = source(&data);
        let mc = FakeMemcached::start();
        let metrics = Arc::new(CacheMetrics::default());
        let client = MemcachedClient::new(config(vec![mc.address.clone()])).unwrap();
        let cache = Arc::new(MemcachedCache::new(client, metrics.clone(), 2, 100));
        let cs = CachingSource::new(
            src.clone(),
            Some(range_cache(cache, metrics.clone(), "subrange")),
            None,
        );
        let key = "t/B/chunks/000001";
        for (off, len) in [(0u64, 10u64), (15_990, 40), (20_000, 79_000), (99_990, 100)] {
            let got = cs.get_range(key, off, len).unwrap();
            let end = ((off + len) as usize).min(data.len());
            assert_eq!(got, &data[off as usize..end], "{off}+{len}");
        }
        // Every subrange of the object is in memcached (7, the last short).
        wait_for(|| mc.items.lock().len() == 7);
        assert!(mc
            .items
            .lock()
            .contains_key("subrange:t/B/chunks/000001:96000:112000"));
        let before = src.requests.load(Ordering::Relaxed);
        for (off, len) in [(5u64, 70_000u64), (99_990, 100), (0, 100_000)] {
            let got = cs.get_range(key, off, len).unwrap();
            let end = ((off + len) as usize).min(data.len());
            assert_eq!(got, &data[off as usize..end], "cached {off}+{len}");
        }
        assert_eq!(
            src.requests.load(Ordering::Relaxed),
            before,
            "no bucket read"
        );
        assert!(metrics.range_hits.load(Ordering::Relaxed) >= 3);
        assert!(mc.hits.load(Ordering::Relaxed) >= 7);
        // The first reads missed.
        assert!(mc.gets.load(Ordering::Relaxed) > mc.hits.load(Ordering::Relaxed));
        // Objects other than chunks and indexes are read as they are.
        assert_eq!(cs.get_range("t/B/meta.json", 0, 2).unwrap(), b"{}");
        assert_eq!(src.requests.load(Ordering::Relaxed), before + 1);
    }

    #[test]
    fn missed_subranges_take_at_most_max_requests() {
        let data = vec![7u8; 200_000];
        let src = source(&data);
        let metrics = Arc::new(CacheMetrics::default());
        let mem: Arc<dyn Cache> = Arc::new(InMemoryCache::new(1 << 20, metrics.clone()));
        // Every other subrange cached.
        let items = (0..13u64)
            .step_by(2)
            .map(|n| {
                (
                    format!(
                        "index:t/B/index:{}:{}",
                        n * SUBRANGE_SIZE,
                        (n + 1) * SUBRANGE_SIZE
                    ),
                    vec![7u8; SUBRANGE_SIZE as usize],
                )
            })
            .collect();
        mem.store(items, Duration::from_secs(60));
        let cs = CachingSource::new(
            src.clone(),
            None,
            Some(range_cache(mem, metrics.clone(), "index")),
        );
        let got = cs.get_range("t/B/index", 0, 13 * SUBRANGE_SIZE).unwrap();
        assert_eq!(got.len(), 13 * SUBRANGE_SIZE as usize);
        assert_eq!(src.requests.load(Ordering::Relaxed), 3);
        assert_eq!(metrics.hits.load(Ordering::Relaxed), 7);
        // The chunks have no cache here: every read goes to the bucket.
        cs.get_range("t/B/chunks/000001", 0, 10).unwrap();
        cs.get_range("t/B/chunks/000001", 0, 10).unwrap();
        assert_eq!(src.requests.load(Ordering::Relaxed), 5);
        assert_eq!(
            merge_runs(vec![(0, 1), (5, 6), (7, 8), (20, 21)], 2),
            vec![(0, 8), (20, 21)]
        );
    }

    #[test]
    fn a_dead_memcached_is_a_miss() {
        let data: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        let src = source(&data);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = l.local_addr().unwrap().to_string();
        drop(l);
        let metrics = Arc::new(CacheMetrics::default());
        let client = MemcachedClient::new(config(vec![dead])).unwrap();
        let cache = Arc::new(MemcachedCache::new(client, metrics.clone(), 1, 10));
        let cs = CachingSource::new(
            src.clone(),
            Some(range_cache(cache, metrics.clone(), "subrange")),
            None,
        );
        for _ in 0..3 {
            assert_eq!(
                cs.get_range("t/B/chunks/000001", 100, 30_000).unwrap(),
                &data[100..30_100]
            );
        }
        assert_eq!(src.requests.load(Ordering::Relaxed), 3);
        let f = metrics
            .failures
            .lock()
            .get(&("getmulti", "network-error"))
            .copied();
        assert_eq!(f, Some(3));
        assert!(
            metrics.last_error.lock().contains("memcached 127.0.0.1:"),
            "{}",
            metrics.last_error.lock()
        );
        assert_eq!(metrics.hits.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_slow_memcached_is_a_miss_within_the_timeout() {
        let data = vec![9u8; 40_000];
        let src = source(&data);
        // Accepts connections and never answers.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let slow = l.local_addr().unwrap().to_string();
        let held = std::thread::spawn(move || {
            let conns: Vec<_> = l.incoming().take(1).collect();
            std::thread::sleep(Duration::from_secs(2));
            drop(conns);
        });
        let metrics = Arc::new(CacheMetrics::default());
        let client = MemcachedClient::new(config(vec![slow])).unwrap();
        let cache = Arc::new(MemcachedCache::new(client, metrics.clone(), 1, 10));
        let cs = CachingSource::new(
            src.clone(),
            Some(range_cache(cache, metrics.clone(), "subrange")),
            None,
        );
        let began = Instant::now();
        assert_eq!(cs.get_range("t/B/chunks/000001", 0, 40_000).unwrap(), data);
        // The 200 ms socket timeout, not the server, bounds the read.
        assert!(
            began.elapsed() < Duration::from_secs(1),
            "{:?}",
            began.elapsed()
        );
        let f = metrics
            .failures
            .lock()
            .get(&("getmulti", "request-timeout"))
            .copied();
        assert_eq!(f, Some(1));
        assert_eq!(src.requests.load(Ordering::Relaxed), 1);
        held.join().unwrap();
    }

    #[test]
    fn the_inmemory_cache_evicts_the_least_recently_used() {
        let metrics = Arc::new(CacheMetrics::default());
        let c = InMemoryCache::new(25, metrics);
        let ttl = Duration::from_secs(60);
        c.store(
            vec![("a".into(), vec![1; 9]), ("b".into(), vec![2; 9])],
            ttl,
        );
        assert_eq!(c.fetch(&["a".into()]).len(), 1);
        c.store(vec![("c".into(), vec![3; 9])], ttl);
        let got = c.fetch(&["a".into(), "b".into(), "c".into()]);
        assert!(got.contains_key("a") && got.contains_key("c") && !got.contains_key("b"));
        c.store(vec![("d".into(), vec![0; 100])], ttl);
        assert!(c.fetch(&["d".into()]).is_empty());
        c.store(vec![("e".into(), vec![5; 2])], Duration::ZERO);
        assert!(c.fetch(&["e".into()]).is_empty());
        assert!(is_chunk_segment("t/B/chunks/000001") && !is_chunk_segment("t/B/chunks/x"));
    }
}
