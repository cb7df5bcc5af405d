// cache-metrics.ts exposes the store-gateway's caches as Mimir names them,
// reading the native chunks and index caches' counters (Rust,
// bucketCacheStats) and the metadata cache's (metadata-cache.ts) at scrape
// time, and logs cache failures at most once per period per cache.
//
// - dskit's client metrics, `name` = chunks-cache | index-cache | metadata-cache:
//   thanos_cache_requests_total, thanos_cache_hits_total,
//   thanos_cache_operations_total{operation}, thanos_cache_operation_failures_total{operation,reason},
//   thanos_cache_operation_skipped_total{operation,reason};
// - the caching bucket's: thanos_store_bucket_cache_operation_requests_total{operation,config},
//   thanos_store_bucket_cache_operation_hits_total{operation,config} (chunks get_range and the
//   metadata operations), thanos_store_bucket_cache_getrange_requested_bytes_total{config},
//   thanos_store_bucket_cache_getrange_fetched_bytes_total{config};
// - the index cache's: thanos_store_index_cache_requests_total{item_type},
//   thanos_store_index_cache_hits_total{item_type}, item_type `IndexRange` (our index cache keeps
//   byte ranges of the index, see native/core/src/block/bucket_cache.rs).

import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { BucketBlockReader, BucketCacheStats } from '../storage/native.js';
import type { MetadataCacheStats } from './metadata-cache.js';

/** CacheSources are where the counters are read. */
export interface CacheSources {
  reader?: BucketBlockReader;
  metadata?: MetadataCacheStats;
}

/** ClientCounters are one cache client's totals (native or TypeScript) in one shape. */
interface ClientCounters {
  name: string;
  requests: number;
  hits: number;
  getOps: number;
  setOps: number;
  /** [operation, reason, count] */
  failures: Array<[string, string, number]>;
  skippedMaxItemSize: number;
  skippedBufferFull: number;
  lastError: string;
}

function fromNative(s: BucketCacheStats): ClientCounters {
  return {
    name: s.name,
    requests: s.requests,
    hits: s.hits,
    getOps: s.getOps,
    setOps: s.setOps,
    failures: s.failures.map((f) => [f.operation, f.reason, f.count]),
    skippedMaxItemSize: s.skippedMaxItemSize,
    skippedBufferFull: s.skippedBufferFull,
    lastError: s.lastError,
  };
}

function fromMetadata(s: MetadataCacheStats): ClientCounters {
  return {
    name: 'metadata-cache',
    requests: s.requests,
    hits: s.hits,
    getOps: s.getOps,
    setOps: s.setOps,
    failures: [...s.failures].map(([k, n]) => {
      const [op, reason] = k.split('/');
      return [op!, reason!, n];
    }),
    skippedMaxItemSize: s.skippedMaxItemSize,
    skippedBufferFull: 0,
    lastError: s.lastError,
  };
}

/** clients are the totals of every cache client configured. */
function clients(src: CacheSources): ClientCounters[] {
  const out = (src.reader?.bucketCacheStats() ?? []).map(fromNative);
  if (src.metadata !== undefined) out.push(fromMetadata(src.metadata));
  return out;
}

/** registerCacheMetrics registers the caches' metrics (see the file's header). */
export function registerCacheMetrics(registry: Registry, src: CacheSources): void {
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  };
  gauge('thanos_cache_requests_total', 'Total number of items requests to cache.', ['name'], (g) => {
    for (const c of clients(src)) g.set({ name: c.name }, c.requests);
  });
  gauge('thanos_cache_hits_total', 'Total number of items requests to the cache that were a hit.', ['name'], (g) => {
    for (const c of clients(src)) g.set({ name: c.name }, c.hits);
  });
  gauge('thanos_cache_operations_total', 'Total number of operations against cache.', ['name', 'operation'], (g) => {
    for (const c of clients(src)) {
      g.set({ name: c.name, operation: 'getmulti' }, c.getOps);
      g.set({ name: c.name, operation: 'set' }, c.setOps);
    }
  });
  gauge('thanos_cache_operation_failures_total', 'Total number of operations against cache that failed.', ['name', 'operation', 'reason'], (g) => {
    for (const c of clients(src)) for (const [operation, reason, n] of c.failures) g.set({ name: c.name, operation, reason }, n);
  });
  gauge('thanos_cache_operation_skipped_total', 'Total number of operations against cache that have been skipped.', ['name', 'operation', 'reason'], (g) => {
    for (const c of clients(src)) {
      g.set({ name: c.name, operation: 'set', reason: 'max-item-size' }, c.skippedMaxItemSize);
      g.set({ name: c.name, operation: 'set', reason: 'async-buffer-full' }, c.skippedBufferFull);
    }
  });
  const native = (name: string): BucketCacheStats | undefined => src.reader?.bucketCacheStats().find((s) => s.name === name);
  gauge('thanos_store_bucket_cache_operation_requests_total', 'Number of requested operations matching given config.', ['operation', 'config'], (g) => {
    const chunks = native('chunks-cache');
    if (chunks !== undefined) g.set({ operation: 'get_range', config: 'chunks' }, chunks.rangeRequests);
    for (const [k, n] of src.metadata?.opRequests ?? []) {
      const [operation, config] = k.split('/');
      g.set({ operation: operation!, config: config! }, n);
    }
  });
  gauge('thanos_store_bucket_cache_operation_hits_total', 'Number of operations served from cache for given config.', ['operation', 'config'], (g) => {
    const chunks = native('chunks-cache');
    if (chunks !== undefined) g.set({ operation: 'get_range', config: 'chunks' }, chunks.rangeHits);
    for (const [k, n] of src.metadata?.opHits ?? []) {
      const [operation, config] = k.split('/');
      g.set({ operation: operation!, config: config! }, n);
    }
  });
  gauge('thanos_store_bucket_cache_getrange_requested_bytes_total', 'Total number of bytes requested via GetRange.', ['config'], (g) => {
    const chunks = native('chunks-cache');
    if (chunks !== undefined) g.set({ config: 'chunks' }, chunks.requestedBytes);
  });
  gauge('thanos_store_bucket_cache_getrange_fetched_bytes_total', 'Total number of bytes fetched because of GetRange operation. Data from bucket is then stored to cache.', ['config'], (g) => {
    const chunks = native('chunks-cache');
    if (chunks !== undefined) g.set({ config: 'chunks' }, chunks.fetchedBytes);
  });
  gauge('thanos_store_index_cache_requests_total', 'Total number of items requests to the cache.', ['item_type'], (g) => {
    const index = native('index-cache');
    if (index !== undefined) g.set({ item_type: 'IndexRange' }, index.requests);
  });
  gauge('thanos_store_index_cache_hits_total', 'Total number of items requests to the cache that were a hit.', ['item_type'], (g) => {
    const index = native('index-cache');
    if (index !== undefined) g.set({ item_type: 'IndexRange' }, index.hits);
  });
}

/**
 * watchCacheFailures checks the caches every periodMs and logs a warning for each whose
 * operations failed since the last check (how many, and the last error): a memcached that is
 * down is logged once per period, not once per read. Returns the function that stops it.
 */
export function watchCacheFailures(src: CacheSources, logger: Logger, periodMs = 60_000): () => void {
  const seen = new Map<string, number>();
  const total = (c: ClientCounters): number => c.failures.reduce((s, f) => s + f[2], 0);
  const check = (): void => {
    for (const c of clients(src)) {
      const n = total(c);
      const before = seen.get(c.name) ?? 0;
      seen.set(c.name, n);
      if (n > before) logger.warn('cache operations failed, treated as misses', { name: c.name, failures: n - before, err: c.lastError });
    }
  };
  const timer = setInterval(check, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}
