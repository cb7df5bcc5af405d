// cache-config.ts reads the store-gateway's cache flags (cache-flags.ts): the chunks cache and the index cache
// (-blocks-storage.bucket-store.{chunks,index}-cache.*), which the native
// core runs under its ranged reads of bucket blocks (Rust memcached client,
// native/core/src/block/bucket_cache.rs), and the metadata cache
// (-blocks-storage.bucket-store.metadata-cache.*), which caches the bucket
// operations the TypeScript store-gateway makes (metadata-cache.ts, through
// the TypeScript memcached client). Every memcached client takes dskit's
// `<prefix>.memcached.*` flags.

import { flagNumber, flagString } from '../config/config.js';
import type { ConfigValues } from '../config/parse.js';
import type { BucketCacheConfig } from '../storage/native.js';
import { PREFIX } from './cache-flags.js';
import { MemcachedClient } from '../frontend/memcache.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import { MetadataCachingBucket, type MetadataCacheStats } from './metadata-cache.js';

/** MemcachedSettings are a cache's memcached client settings. */
export interface MemcachedSettings {
  addresses: string[];
  timeoutMs: number;
  connectTimeoutMs: number;
  maxIdleConnections: number;
  maxAsyncConcurrency: number;
  maxAsyncBufferSize: number;
  maxGetMultiBatchSize: number;
  maxItemSize: number;
}

/** memcachedSettings reads `<cache>.memcached.*`; throws without addresses (Mimir: "no server address configured"). */
export function memcachedSettings(values: ConfigValues, cache: 'chunks-cache' | 'index-cache' | 'metadata-cache'): MemcachedSettings {
  const f = `${PREFIX}.${cache}.memcached`;
  const addresses = flagString(values, `${f}.addresses`)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addresses.length === 0) throw new Error(`${cache}: no server address configured (-${f}.addresses)`);
  return {
    addresses,
    timeoutMs: flagNumber(values, `${f}.timeout`),
    connectTimeoutMs: flagNumber(values, `${f}.connect-timeout`),
    maxIdleConnections: flagNumber(values, `${f}.max-idle-connections`),
    maxAsyncConcurrency: flagNumber(values, `${f}.max-async-concurrency`),
    maxAsyncBufferSize: flagNumber(values, `${f}.max-async-buffer-size`),
    maxGetMultiBatchSize: flagNumber(values, `${f}.max-get-multi-batch-size`),
    maxItemSize: flagNumber(values, `${f}.max-item-size`),
  };
}

/** INDEX_CACHE_TTL_MS is how long a cached index range lives (Mimir's remote index cache: 7 days). */
const INDEX_CACHE_TTL_MS = 7 * 24 * 3_600_000;

/** nativeCache is a BucketCacheConfig of memcached settings (or none, for inmemory). */
function nativeCache(backend: string, m: MemcachedSettings | undefined, extra: { ttlMs: number; maxGetRangeRequests: number; inmemoryMaxSizeBytes?: number }): BucketCacheConfig {
  return {
    backend,
    addresses: m?.addresses ?? [],
    timeoutMs: m?.timeoutMs ?? 0,
    connectTimeoutMs: m?.connectTimeoutMs ?? 0,
    maxIdleConnections: m?.maxIdleConnections ?? 0,
    maxAsyncConcurrency: m?.maxAsyncConcurrency ?? 0,
    maxAsyncBufferSize: m?.maxAsyncBufferSize ?? 0,
    maxGetMultiBatchSize: m?.maxGetMultiBatchSize ?? 0,
    maxItemSize: m?.maxItemSize ?? 0,
    inmemoryMaxSizeBytes: extra.inmemoryMaxSizeBytes ?? 0,
    ttlMs: extra.ttlMs,
    maxGetRangeRequests: Math.max(0, extra.maxGetRangeRequests),
  };
}

/** RangeCaches are the native core's caches under the ranged reads of bucket blocks. */
export interface RangeCaches {
  chunksCache?: BucketCacheConfig;
  indexCache?: BucketCacheConfig;
}

/** rangeCaches reads the chunks and index cache flags (an empty backend: no cache); throws on a bad configuration. */
export function rangeCaches(values: ConfigValues): RangeCaches {
  const out: RangeCaches = {};
  if (flagString(values, `${PREFIX}.chunks-cache.backend`) === 'memcached') {
    out.chunksCache = nativeCache('memcached', memcachedSettings(values, 'chunks-cache'), {
      ttlMs: flagNumber(values, `${PREFIX}.chunks-cache.subrange-ttl`),
      maxGetRangeRequests: flagNumber(values, `${PREFIX}.chunks-cache.max-get-range-requests`),
    });
  }
  const index = flagString(values, `${PREFIX}.index-cache.backend`);
  if (index === 'memcached') {
    out.indexCache = nativeCache('memcached', memcachedSettings(values, 'index-cache'), { ttlMs: INDEX_CACHE_TTL_MS, maxGetRangeRequests: 0 });
  } else if (index === 'inmemory') {
    out.indexCache = nativeCache('inmemory', undefined, { ttlMs: INDEX_CACHE_TTL_MS, maxGetRangeRequests: 0, inmemoryMaxSizeBytes: flagNumber(values, `${PREFIX}.index-cache.inmemory.max-size-bytes`) });
  }
  return out;
}

/** MetadataCacheTtls are the metadata cache's TTLs (ms) and size bounds. */
export interface MetadataCacheTtls {
  tenantsList: number;
  tenantBlocksList: number;
  chunksList: number;
  metafileExists: number;
  metafileDoesntExist: number;
  metafileContent: number;
  metafileMaxSize: number;
  metafileAttributes: number;
  blockIndexAttributes: number;
  chunksAttributes: number;
  bucketIndexContent: number;
  bucketIndexMaxSize: number;
}

/** metadataCacheTtls reads the metadata cache's TTL flags. */
export function metadataCacheTtls(values: ConfigValues): MetadataCacheTtls {
  const n = (f: string): number => flagNumber(values, `${PREFIX}.${f}`);
  return {
    tenantsList: n('metadata-cache.tenants-list-ttl'),
    tenantBlocksList: n('metadata-cache.tenant-blocks-list-ttl'),
    chunksList: n('metadata-cache.chunks-list-ttl'),
    metafileExists: n('metadata-cache.metafile-exists-ttl'),
    metafileDoesntExist: n('metadata-cache.metafile-doesnt-exist-ttl'),
    metafileContent: n('metadata-cache.metafile-content-ttl'),
    metafileMaxSize: n('metadata-cache.metafile-max-size-bytes'),
    metafileAttributes: n('metadata-cache.metafile-attributes-ttl'),
    blockIndexAttributes: n('metadata-cache.block-index-attributes-ttl'),
    chunksAttributes: n('chunks-cache.attributes-ttl'),
    bucketIndexContent: n('metadata-cache.bucket-index-content-ttl'),
    bucketIndexMaxSize: n('metadata-cache.bucket-index-max-size-bytes'),
  };
}

/** StoreGatewayCaches are the store-gateway's caches as the flags configure them. */
export interface StoreGatewayCaches {
  /** bucket is the store-gateway's bucket: the given one, wrapped in the metadata cache when it is on. */
  bucket: Bucket;
  rangeCaches: RangeCaches;
  /** metadata is the metadata cache's counters, when it is on. */
  metadata?: MetadataCacheStats;
}

/** storeGatewayCaches builds the store-gateway's caches over `bucket`; throws on a bad configuration. */
export function storeGatewayCaches(values: ConfigValues, bucket: Bucket): StoreGatewayCaches {
  const rc = rangeCaches(values);
  if (flagString(values, `${PREFIX}.metadata-cache.backend`) !== 'memcached') return { bucket, rangeCaches: rc };
  const m = memcachedSettings(values, 'metadata-cache');
  const client = new MemcachedClient({ addresses: m.addresses, timeoutMs: m.timeoutMs, maxIdleConnections: m.maxIdleConnections, maxItemSize: m.maxItemSize });
  const cached = new MetadataCachingBucket(bucket, client, metadataCacheTtls(values), rc.chunksCache !== undefined, m.maxItemSize);
  return { bucket: cached, rangeCaches: rc, metadata: cached.stats };
}
