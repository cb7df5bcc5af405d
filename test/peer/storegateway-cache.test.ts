// storegateway-cache.test.ts (peer suite): the store-gateway's chunks, index
// and metadata caches in a real memcached, over a real S3 (moto). A block
// written by promtool, two days old, is put in the S3 bucket; a server
// (-target=all, in this process) reads it by range through the caches.
// Each server starts with an empty sync dir, so its blocks' page caches are
// empty: the first server reads the index and chunks from S3 and fills
// memcached; a second one, asked the same query, reads them from memcached
// (no ranged S3 read, memcached's get_hits rise) and answers the same. With
// memcached killed, a third one still answers the same, from S3, and counts
// the cache failures.

import t from 'tap';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { loadNative } from '../../src/storage/native.js';
import { startTestServer, type TestServer } from '../../src/testing/server.js';
import { failIfMissing, PROMTOOL_PEER, skipUnless } from './lib/binary.js';
import { waitFor } from './lib/cluster.js';
import { MEMCACHED, memcachedStats, startMemcached } from './lib/memcached.js';
import { bucketFromOpenMetrics } from './lib/promtool.js';
import { MOTO, S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server, uploadDir } from './lib/s3-server.js';
import { makeTempDir, scrapeMetric } from './lib/server-process.js';

const TENANT = 'cache-tenant';
const HOUR = 3_600_000;

type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

async function queryRange(srv: TestServer, q: string): Promise<{ status: number; result: Matrix }> {
  const res = await fetch(`http://127.0.0.1:${srv.port}/prometheus/api/v1/query_range?${q}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as { data?: { result: Matrix } };
  return { status: res.status, result: body.data?.result ?? [] };
}

async function metrics(srv: TestServer): Promise<string> {
  return (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
}

t.test('a repeated query reads chunks and index from memcached, not S3; a dead memcached is a miss', { skip: skipUnless(MOTO, MEMCACHED, PROMTOOL_PEER) }, async (t) => {
  if (failIfMissing(t, MOTO, MEMCACHED, PROMTOOL_PEER)) return;
  const s3 = await startS3Server('blocks');
  t.teardown(() => s3.stop());
  const memcached = await startMemcached();
  t.teardown(() => memcached.stop());
  const dir = await makeTempDir('sg-cache-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  // Two hours of 15 s samples of 40 series, two days ago (only the store-gateway has them).
  const base = Math.floor((Date.now() - 48 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  for (let k = 0; k < 480; k++) for (let s = 0; s < 40; s++) lines.push(`cached_gauge{series="s${s}"} ${k * (s + 1)} ${(base + k * 15_000) / 1000}`);
  const { bucket, ulids } = await bucketFromOpenMetrics(dir, lines, TENANT);
  await uploadDir(s3.endpoint, 'blocks', bucket);
  t.equal(ulids.length, 1, 'promtool wrote one block');

  const flags = (name: string): Record<string, string | number | boolean> => ({
    'blocks-storage.backend': 's3',
    'blocks-storage.s3.endpoint': s3.endpoint,
    'blocks-storage.s3.bucket-name': 'blocks',
    'blocks-storage.s3.access-key-id': S3_ACCESS_KEY,
    'blocks-storage.s3.secret-access-key': S3_SECRET_KEY,
    'blocks-storage.s3.insecure': true,
    'blocks-storage.bucket-store.sync-interval': 200,
    // A fresh sync dir: the block is attached again, its page caches empty.
    'blocks-storage.bucket-store.sync-dir': join(dir, `sync-${name}`),
    'blocks-storage.bucket-store.chunks-cache.backend': 'memcached',
    'blocks-storage.bucket-store.chunks-cache.memcached.addresses': memcached.address,
    'blocks-storage.bucket-store.index-cache.backend': 'memcached',
    'blocks-storage.bucket-store.index-cache.memcached.addresses': memcached.address,
    'blocks-storage.bucket-store.metadata-cache.backend': 'memcached',
    'blocks-storage.bucket-store.metadata-cache.memcached.addresses': memcached.address,
  });
  const q = new URLSearchParams({ query: 'cached_gauge', start: String(base / 1000), end: String((base + 2 * HOUR - 15_000) / 1000), step: '15' }).toString();
  /** run starts a server, waits for the block's answer, and returns it with the ranged S3 reads it took. */
  const run = async (name: string): Promise<{ srv: TestServer; result: Matrix; s3Reads: number }> => {
    const before = loadNative().bucketReadStats().requests;
    const srv = await startTestServer(flags(name));
    t.teardown(() => srv.close());
    let result: Matrix = [];
    t.ok(
      await waitFor(async () => {
        const r = await queryRange(srv, q);
        result = r.result;
        return r.status === 200 && result.length === 40;
      }, 30_000),
      `${name}: the block answers`,
    );
    return { srv, result, s3Reads: loadNative().bucketReadStats().requests - before };
  };

  const first = await run('first');
  const samples = first.result.map((s) => s.values.length);
  t.same(new Set(samples), new Set([480]), 'every sample of every series');
  t.ok(first.s3Reads > 0, `the first server read the block from S3 (${first.s3Reads} ranged reads)`);
  // The writes to memcached are asynchronous.
  t.ok(await waitFor(async () => Number((await memcachedStats(memcached.address)).get('curr_items')) > 0, 5_000), 'memcached holds the cached ranges');
  await first.srv.close();
  await new Promise((r) => setTimeout(r, 500));

  const hitsBefore = Number((await memcachedStats(memcached.address)).get('get_hits'));
  const second = await run('second');
  const hitsAfter = Number((await memcachedStats(memcached.address)).get('get_hits'));
  t.same(second.result, first.result, 'the same answer');
  t.equal(second.s3Reads, 0, `the second server read no index or chunk range from S3 (the first read ${first.s3Reads})`);
  t.ok(hitsAfter > hitsBefore, `memcached's get_hits rose (${hitsBefore} -> ${hitsAfter})`);
  const m = await metrics(second.srv);
  t.ok((scrapeMetric(m, 'thanos_cache_hits_total{name="chunks-cache"}') ?? 0) > 0, 'chunks-cache hits counted');
  t.ok((scrapeMetric(m, 'thanos_store_index_cache_hits_total{item_type="IndexRange"}') ?? 0) > 0, 'index-cache hits counted');
  t.ok((scrapeMetric(m, 'thanos_cache_hits_total{name="metadata-cache"}') ?? 0) > 0, 'metadata-cache hits counted');
  t.ok((scrapeMetric(m, 'thanos_store_bucket_cache_operation_hits_total{operation="get_range",config="chunks"}') ?? 0) > 0, 'chunk ranges answered whole from the cache');

  // memcached dies: the running server keeps answering, and a new one (empty page caches) reads
  // S3 instead, bounded by the client's timeouts.
  memcached.stop();
  await new Promise((r) => setTimeout(r, 200));
  const again = await queryRange(second.srv, q);
  t.same(again.result, first.result, 'the running server still answers');
  await second.srv.close();
  const began = Date.now();
  const third = await run('third');
  t.same(third.result, first.result, 'without memcached the answer is the same');
  t.ok(third.s3Reads > 0, `read from S3 instead (${third.s3Reads} ranged reads)`);
  t.ok(Date.now() - began < 30_000, 'without slowing to a halt');
  const dead = await metrics(third.srv);
  t.ok((scrapeMetric(dead, 'thanos_cache_operation_failures_total{name="chunks-cache",operation="getmulti",reason="network-error"}') ?? 0) > 0, 'chunks-cache failures counted');
  t.ok((scrapeMetric(dead, 'thanos_cache_operation_failures_total{name="metadata-cache",operation="getmulti",reason="network-error"}') ?? 0) > 0, 'metadata-cache failures counted');
});
