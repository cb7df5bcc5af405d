//! bucket_reader: the N-API face of the store-gateway's ranged reads of
//! bucket blocks (`tsdb_core::block::remote`): which S3 bucket they read,
//! writing a block's index-header before it is opened, the chunks and
//! index caches under those reads (`tsdb_core::block::bucket_cache`), and
//! the totals of what was fetched and cached.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

use tsdb_core::block::bucket_cache::{
    self, CachingSource, InMemoryCache, MemcachedCache, RangeCache,
};
use tsdb_core::block::memcached::{MemcachedClient, MemcachedConfig};
use tsdb_core::block::remote::{self, Counted, S3Client, S3Config};
use tsdb_core::block::BucketBlock;

/// BucketReaderConfig is the S3 bucket bucket blocks are read from (the
/// `-blocks-storage.s3.*` flags as the TypeScript bucket resolved them).
#[napi(object)]
pub struct BucketReaderConfig {
    pub endpoint: String,
    pub bucket_name: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub insecure: bool,
    pub path_style: bool,
    pub insecure_skip_verify: bool,
    pub max_attempts: u32,
    /// The chunks cache (`-blocks-storage.bucket-store.chunks-cache.*`).
    pub chunks_cache: Option<BucketCacheConfig>,
    /// The index cache (`-blocks-storage.bucket-store.index-cache.*`).
    pub index_cache: Option<BucketCacheConfig>,
}

/// BucketCacheConfig is one cache of the bucket's byte ranges: `memcached`
/// (dskit's `<prefix>.memcached.*` flags) or `inmemory` (the index cache).
#[napi(object)]
pub struct BucketCacheConfig {
    pub backend: String,
    pub addresses: Vec<String>,
    pub timeout_ms: u32,
    pub connect_timeout_ms: u32,
    pub max_idle_connections: u32,
    pub max_async_concurrency: u32,
    pub max_async_buffer_size: u32,
    pub max_get_multi_batch_size: u32,
    pub max_item_size: u32,
    /// `inmemory`: the bytes it holds.
    pub inmemory_max_size_bytes: f64,
    /// How long a cached range lives.
    pub ttl_ms: f64,
    /// Most bucket reads one missed range takes (0: no bound).
    pub max_get_range_requests: u32,
}

/// range_cache builds the cache `name` of `cfg`, its keys prefixed `prefix`.
fn range_cache(
    name: &'static str,
    prefix: &'static str,
    cfg: BucketCacheConfig,
) -> Result<RangeCache> {
    let metrics = bucket_cache::metrics_for(name);
    let cache: Arc<dyn bucket_cache::Cache> = match cfg.backend.as_str() {
        "memcached" => {
            let client = MemcachedClient::new(MemcachedConfig {
                addresses: cfg.addresses,
                timeout: Duration::from_millis(u64::from(cfg.timeout_ms)),
                connect_timeout: Duration::from_millis(u64::from(cfg.connect_timeout_ms)),
                max_idle_connections: cfg.max_idle_connections as usize,
                max_get_multi_batch_size: cfg.max_get_multi_batch_size as usize,
                max_item_size: cfg.max_item_size as usize,
            })
            .map_err(|e| Error::new(Status::InvalidArg, format!("{name}: {e}")))?;
            Arc::new(MemcachedCache::new(
                client,
                metrics.clone(),
                cfg.max_async_concurrency as usize,
                cfg.max_async_buffer_size as usize,
            ))
        }
        "inmemory" => Arc::new(InMemoryCache::new(
            cfg.inmemory_max_size_bytes as usize,
            metrics.clone(),
        )),
        other => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("unsupported cache backend for {name}: {other}"),
            ))
        }
    };
    Ok(RangeCache {
        cache,
        metrics,
        prefix,
        ttl: Duration::from_millis(cfg.ttl_ms.max(0.0) as u64),
        max_get_range_requests: cfg.max_get_range_requests as usize,
    })
}

/// set_bucket_reader makes `cfg` the bucket that blocks with a
/// `bucket-block.json` are read from, through its caches (null: none).
#[napi]
pub fn set_bucket_reader(cfg: Option<BucketReaderConfig>) -> Result<()> {
    let Some(c) = cfg else {
        remote::set_bucket(None);
        return Ok(());
    };
    let s3: Arc<dyn remote::RangeSource> = Arc::new(Counted(Arc::new(S3Client::new(S3Config {
        endpoint: c.endpoint,
        bucket: c.bucket_name,
        region: c.region,
        access_key_id: c.access_key_id,
        secret_access_key: c.secret_access_key,
        session_token: c.session_token,
        insecure: c.insecure,
        path_style: c.path_style,
        insecure_skip_verify: c.insecure_skip_verify,
        max_attempts: c.max_attempts,
    }))));
    let chunks = c
        .chunks_cache
        .map(|x| range_cache("chunks-cache", "subrange", x))
        .transpose()?;
    let index = c
        .index_cache
        .map(|x| range_cache("index-cache", "index", x))
        .transpose()?;
    let source = if chunks.is_none() && index.is_none() {
        s3
    } else {
        Arc::new(CachingSource::new(s3, chunks, index))
    };
    remote::set_bucket(Some(source));
    Ok(())
}

/// BucketCacheFailures are a cache's failed operations of one kind.
#[napi(object)]
pub struct BucketCacheFailures {
    pub operation: String,
    pub reason: String,
    pub count: f64,
}

/// BucketCacheStats are the counters of one cache of the bucket's ranges
/// (`chunks-cache`, `index-cache`), process totals.
#[napi(object)]
pub struct BucketCacheStats {
    pub name: String,
    /// Items asked for and found.
    pub requests: f64,
    pub hits: f64,
    pub get_ops: f64,
    pub set_ops: f64,
    pub failures: Vec<BucketCacheFailures>,
    pub skipped_max_item_size: f64,
    pub skipped_buffer_full: f64,
    /// The last failure's message ("" if none yet).
    pub last_error: String,
    /// Ranged reads through the cache, and those it answered whole.
    pub range_requests: f64,
    pub range_hits: f64,
    pub requested_bytes: f64,
    pub fetched_bytes: f64,
}

/// bucket_cache_stats returns the counters of every cache configured so far.
#[napi]
pub fn bucket_cache_stats() -> Vec<BucketCacheStats> {
    bucket_cache::cache_stats()
        .into_iter()
        .map(|s| BucketCacheStats {
            name: s.name,
            requests: s.requests as f64,
            hits: s.hits as f64,
            get_ops: s.get_ops as f64,
            set_ops: s.set_ops as f64,
            failures: s
                .failures
                .into_iter()
                .map(|(operation, reason, n)| BucketCacheFailures {
                    operation,
                    reason,
                    count: n as f64,
                })
                .collect(),
            skipped_max_item_size: s.skipped_max_item_size as f64,
            skipped_buffer_full: s.skipped_buffer_full as f64,
            last_error: s.last_error,
            range_requests: s.range_requests as f64,
            range_hits: s.range_hits as f64,
            requested_bytes: s.requested_bytes as f64,
            fetched_bytes: s.fetched_bytes as f64,
        })
        .collect()
}

/// BucketReadStats are the requests sent and bytes fetched by ranged reads.
#[napi(object)]
pub struct BucketReadStats {
    pub requests: f64,
    pub bytes: f64,
}

/// bucket_read_stats returns the process's totals so far.
#[napi]
pub fn bucket_read_stats() -> BucketReadStats {
    let s = remote::read_stats();
    BucketReadStats {
        requests: s.requests as f64,
        bytes: s.bytes as f64,
    }
}

pub struct PrepareTask {
    dir: String,
}

impl Task for PrepareTask {
    type Output = u64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<u64> {
        BucketBlock::prepare(std::path::Path::new(&self.dir))
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn resolve(&mut self, _env: Env, n: u64) -> Result<f64> {
        Ok(n as f64)
    }
}

/// prepare_bucket_block writes the index-header of the bucket block whose
/// sync directory is `dir` (off the event loop: it reads the index's
/// tables from the bucket) and resolves to its size in bytes.
#[napi(ts_return_type = "Promise<number>")]
pub fn prepare_bucket_block(dir: String) -> AsyncTask<PrepareTask> {
    AsyncTask::new(PrepareTask { dir })
}
