// cache-metrics.test.ts checks the caches' metrics exposition (Mimir's names
// and labels, from the native and the metadata cache counters) and that
// cache failures are logged once per period, not once per failure.

import t from 'tap';
import { Registry } from 'prom-client';
import { Logger, setLogSink } from '../log.js';
import type { BucketBlockReader, BucketCacheStats } from '../storage/native.js';
import { registerCacheMetrics, watchCacheFailures } from './cache-metrics.js';
import type { MetadataCacheStats } from './metadata-cache.js';

function nativeStats(name: string, over: Partial<BucketCacheStats> = {}): BucketCacheStats {
  return { name, requests: 10, hits: 4, getOps: 3, setOps: 6, failures: [], skippedMaxItemSize: 0, skippedBufferFull: 0, lastError: '', rangeRequests: 5, rangeHits: 2, requestedBytes: 1000, fetchedBytes: 600, ...over };
}

function readerOf(stats: () => BucketCacheStats[]): BucketBlockReader {
  return {
    setBucketReader: () => undefined,
    prepareBucketBlock: () => Promise.resolve(0),
    bucketReadStats: () => ({ requests: 0, bytes: 0 }),
    bucketCacheStats: stats,
  };
}

function metadataStats(): MetadataCacheStats {
  return { requests: 7, hits: 5, getOps: 7, setOps: 2, failures: new Map(), skippedMaxItemSize: 0, lastError: '', opRequests: new Map([['iter/tenant-blocks-iter', 3]]), opHits: new Map([['iter/tenant-blocks-iter', 2]]) };
}

t.test('metrics carry Mimir names and labels', async (t) => {
  const registry = new Registry();
  const metadata = metadataStats();
  registerCacheMetrics(registry, { reader: readerOf(() => [nativeStats('chunks-cache', { failures: [{ operation: 'getmulti', reason: 'network-error', count: 2 }] }), nativeStats('index-cache', { requests: 20, hits: 9 })]), metadata });
  const text = await registry.metrics();
  for (const line of [
    'thanos_cache_requests_total{name="chunks-cache"} 10',
    'thanos_cache_hits_total{name="index-cache"} 9',
    'thanos_cache_hits_total{name="metadata-cache"} 5',
    'thanos_cache_operations_total{name="chunks-cache",operation="set"} 6',
    'thanos_cache_operation_failures_total{name="chunks-cache",operation="getmulti",reason="network-error"} 2',
    'thanos_store_bucket_cache_operation_requests_total{operation="get_range",config="chunks"} 5',
    'thanos_store_bucket_cache_operation_hits_total{operation="iter",config="tenant-blocks-iter"} 2',
    'thanos_store_bucket_cache_getrange_fetched_bytes_total{config="chunks"} 600',
    'thanos_store_index_cache_requests_total{item_type="IndexRange"} 20',
    'thanos_store_index_cache_hits_total{item_type="IndexRange"} 9',
  ]) {
    t.ok(text.split('\n').includes(line), line);
  }
});

t.test('failures are logged once per period, with the last error', async (t) => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  t.teardown(() => setLogSink((l) => process.stderr.write(`${l}\n`)));
  let failures = 0;
  const reader = readerOf(() => [nativeStats('chunks-cache', { failures: [{ operation: 'getmulti', reason: 'network-error', count: failures }], lastError: 'memcached 127.0.0.1:1: Connection refused' })]);
  const stop = watchCacheFailures({ reader }, new Logger({ component: 'store-gateway' }), 40);
  t.teardown(stop);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(lines.length, 0, 'nothing failed, nothing logged');
  failures = 500;
  await new Promise((r) => setTimeout(r, 60));
  failures = 700;
  await new Promise((r) => setTimeout(r, 150));
  const warned = lines.filter((l) => l.includes('cache operations failed'));
  t.equal(warned.length, 2, 'one line per period with failures, not one per failure');
  t.match(warned[0], /level=warn .*name=chunks-cache failures=500 err="memcached 127.0.0.1:1: Connection refused"/);
  t.match(warned[1], /failures=200/);
});
