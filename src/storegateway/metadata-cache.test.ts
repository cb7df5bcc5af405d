// metadata-cache.test.ts runs the metadata caching bucket over a filesystem
// bucket that counts its calls, against a real memcached (Debian
// `memcached`; under CI a missing one fails instead of skipping): what
// Mimir's caching bucket caches is asked of the bucket once, the rest every
// time, and a dead memcached makes every call go to the bucket.

import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failIfMissing, skipUnless } from '../../test/peer/lib/binary.js';
import { MEMCACHED, startMemcached } from '../../test/peer/lib/memcached.js';
import { MemcachedClient } from '../frontend/memcache.js';
import { defaultConfig } from '../config/config.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { isNotFound, type Bucket } from '../storage/bucket/bucket.js';
import { metadataCacheTtls } from './cache-config.js';
import { MetadataCachingBucket } from './metadata-cache.js';

const BLOCK = '01HZZZZZZZZZZZZZZZZZZZZZZZ';

/** counting is `fs` with each call counted by `<method> <key>`. */
function counting(fs: FilesystemBucket, calls: Map<string, number>): Bucket {
  const c = <T>(what: string, f: () => Promise<T>): Promise<T> => {
    calls.set(what, (calls.get(what) ?? 0) + 1);
    return f();
  };
  return {
    name: 'counting',
    get: (k) => c(`get ${k}`, () => fs.get(k)),
    getRange: (k, o, n) => c(`getRange ${k}`, () => fs.getRange(k, o, n)),
    put: (k, b) => fs.put(k, b),
    upload: (k, p) => fs.upload(k, p),
    download: (k, p) => c(`download ${k}`, () => fs.download(k, p)),
    exists: (k) => c(`exists ${k}`, () => fs.exists(k)),
    attributes: (k) => c(`attributes ${k}`, () => fs.attributes(k)),
    delete: (k) => fs.delete(k),
    list: (p, o) => c(`list ${p}${o?.recursive === true ? ' recursive' : ''}`, () => fs.list(p, o)),
    close: () => fs.close(),
  };
}

/** operations runs what the store-gateway asks of its bucket about a tenant's block. */
async function operations(b: Bucket): Promise<unknown[]> {
  const out: unknown[] = [];
  out.push(await b.list(''));
  out.push(await b.list('team/'));
  out.push(await b.list(`team/${BLOCK}/chunks/`));
  out.push(await b.list(`team/${BLOCK}/`, { recursive: true }));
  out.push(await b.exists(`team/${BLOCK}/meta.json`));
  out.push(await b.exists(`team/${BLOCK}/deletion-mark.json`));
  out.push((await b.get(`team/${BLOCK}/meta.json`)).toString());
  out.push(await b.get(`team/${BLOCK}/deletion-mark.json`).catch((err: unknown) => (isNotFound(err) ? 'not found' : err)));
  out.push((await b.get('team/bucket-index.json.gz')).length);
  out.push((await b.attributes(`team/${BLOCK}/index`)).size);
  out.push((await b.attributes(`team/${BLOCK}/chunks/000001`)).size);
  out.push((await b.get(`team/${BLOCK}/index`)).length);
  return out;
}

t.test('the metadata cache', { skip: skipUnless(MEMCACHED) }, async (t) => {
  if (failIfMissing(t, MEMCACHED)) return;
  const dir = await mkdtemp(join(tmpdir(), 'metadata-cache-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fs = new FilesystemBucket(dir);
  await fs.put(`team/${BLOCK}/meta.json`, Buffer.from('{"ulid":"x"}'));
  await fs.put(`team/${BLOCK}/index`, Buffer.alloc(300, 1));
  await fs.put(`team/${BLOCK}/chunks/000001`, Buffer.alloc(100, 2));
  await fs.put('team/bucket-index.json.gz', Buffer.alloc(50, 3));
  const mc = await startMemcached();
  t.teardown(() => mc.stop());
  const ttls = metadataCacheTtls(defaultConfig().values);

  const calls = new Map<string, number>();
  const client = new MemcachedClient({ addresses: [mc.address], timeoutMs: 500, maxIdleConnections: 4, maxItemSize: 1 << 20 });
  const cached = new MetadataCachingBucket(counting(fs, calls), client, ttls, true, 1 << 20);
  t.teardown(() => cached.close());
  const want = await operations(counting(fs, new Map()));
  t.same(await operations(cached), want, 'the first round answers as the bucket');
  // The writes to memcached are in the background.
  await new Promise((r) => setTimeout(r, 300));
  const first = new Map(calls);
  t.same(await operations(cached), want, 'the second round answers the same');
  const again = [...calls].filter(([k, n]) => n > (first.get(k) ?? 0)).map(([k]) => k);
  // Only what Mimir does not cache goes to the bucket again: a block's recursive listing and its index content.
  t.same(again.sort(), [`get team/${BLOCK}/index`, `list team/${BLOCK}/ recursive`], 'cached operations are not asked again');
  t.equal(calls.get(`exists team/${BLOCK}/deletion-mark.json`), 1, 'a missing metafile is asked once, then remembered as missing');
  t.ok(cached.stats.hits >= 10 && cached.stats.opHits.get('iter/tenant-blocks-iter') === 1, `hits counted (${cached.stats.hits})`);

  // A dead memcached: every call goes to the bucket and answers the same.
  mc.stop();
  await new Promise((r) => setTimeout(r, 100));
  const deadCalls = new Map<string, number>();
  const deadClient = new MemcachedClient({ addresses: [mc.address], timeoutMs: 500, maxIdleConnections: 4, maxItemSize: 1 << 20 });
  const dead = new MetadataCachingBucket(counting(fs, deadCalls), deadClient, ttls, true, 1 << 20);
  t.teardown(() => dead.close());
  t.same(await operations(dead), want, 'answers without memcached');
  t.same(await operations(dead), want, 'and again');
  t.equal(deadCalls.get(`exists team/${BLOCK}/meta.json`), 2, 'every call reaches the bucket');
  t.ok((dead.stats.failures.get('getmulti/network-error') ?? 0) > 0, 'the failures are counted');
  t.match(dead.stats.lastError, /ECONNREFUSED/);
});
