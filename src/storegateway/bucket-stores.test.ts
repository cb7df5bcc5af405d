// bucket-stores.test.ts checks where the store-gateway serves bucket blocks
// from: a filesystem bucket's blocks in place (nothing copied to the sync
// dir, the queried directory is the bucket's), an object store the native
// core can reach by ranged reads (bucket-block.json, index-header and
// meta.json synced, no index or chunks), any other object store from local
// copies (files copied, meta.json included); marked blocks are not served
// either way.

import t, { type Test } from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BucketStores } from './bucket-stores.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import type { Bucket, RangeReadConfig } from '../storage/bucket/bucket.js';
import type { BucketBlockReader } from '../storage/native.js';
import { QueryableBlocks } from '../storage/queryable-blocks.js';
import { Logger } from '../log.js';

const A = '01JAAAAAAAAAAAAAAAAAAAAAAA';
const B = '01JBBBBBBBBBBBBBBBBBBBBBBB';

async function bucketWithBlocks(root: string): Promise<void> {
  for (const [ulid, minTime] of [[A, 0], [B, 7_200_000]] as const) {
    const dir = join(root, 'team', ulid);
    await mkdir(join(dir, 'chunks'), { recursive: true });
    await writeFile(join(dir, 'index'), 'index bytes');
    await writeFile(join(dir, 'chunks', '000001'), 'chunk bytes');
    const meta = { ulid, minTime, maxTime: minTime + 7_200_000, version: 1, stats: {}, compaction: { level: 1, sources: [ulid] } };
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
  }
  await writeFile(join(root, 'team', B, 'deletion-mark.json'), JSON.stringify({ id: B, deletion_time: 1, version: 1 }));
}

/** liveBlocksBucket is a temporary filesystem bucket holding blocks A and B of tenant team, neither marked for deletion. */
async function liveBlocksBucket(t: Test): Promise<{ dir: string; root: string; fs: FilesystemBucket }> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-stores-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'bucket');
  await bucketWithBlocks(root);
  await rm(join(root, 'team', B, 'deletion-mark.json'));
  return { dir, root, fs: new FilesystemBucket(root) };
}

/** objectStore is a filesystem bucket seen as an object store: the same objects, no localPath. */
function objectStore(fs: FilesystemBucket, name: string): Bucket {
  return {
    name,
    get: (k) => fs.get(k),
    getRange: (k, o, n) => fs.getRange(k, o, n),
    put: (k, b) => fs.put(k, b),
    upload: (k, p) => fs.upload(k, p),
    download: (k, p) => fs.download(k, p),
    exists: (k) => fs.exists(k),
    attributes: (k) => fs.attributes(k),
    delete: (k) => fs.delete(k),
    list: (p, o) => fs.list(p, o),
    close: () => fs.close(),
  };
}

/** stores returns a store-gateway over bucket and the block directories it publishes per tenant. */
function stores(bucket: Bucket, syncDir: string, reader?: BucketBlockReader): { sg: BucketStores; published: Map<string, string[]> } {
  const published = new Map<string, string[]>();
  const queryable = new QueryableBlocks((tenant, dirs) => {
    published.set(tenant, dirs);
    return [];
  }, new Logger());
  return { sg: new BucketStores({ bucket, syncDir, syncIntervalMs: 0, ...(reader !== undefined ? { reader } : {}) }, queryable, new Logger()), published };
}

t.test('a filesystem bucket is served in place, an object store from local copies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-stores-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'bucket');
  await bucketWithBlocks(root);
  const fs = new FilesystemBucket(root);

  const inPlace = stores(fs, join(dir, 'sync-fs'));
  await inPlace.sg.sync();
  t.same(inPlace.published.get('team'), [join(root, 'team', A)], 'the bucket directory, the marked block left out');
  t.same(await readdir(join(dir, 'sync-fs', 'team')), [], 'nothing copied');

  // The same bucket without localPath: an object store.
  const remote = objectStore(fs, 'remote');
  const copied = stores(remote, join(dir, 'sync-s3'), readerStub([]));
  await copied.sg.sync();
  const local = join(dir, 'sync-s3', 'team', A);
  t.same(copied.published.get('team'), [local], 'the local copy');
  t.same((await readdir(local)).sort(), ['chunks', 'index', 'meta.json']);
  t.same(copied.sg.blocks('team').map((b) => b.bytes > 0), [true]);
});

/** readerStub records the bucket set and writes a stand-in index-header. */
function readerStub(set: Array<RangeReadConfig | null>): BucketBlockReader {
  return {
    setBucketReader: (cfg) => void set.push(cfg),
    prepareBucketBlock: async (dir) => {
      await writeFile(join(dir, 'index-header'), 'header');
      return 6;
    },
    bucketReadStats: () => ({ requests: 0, bytes: 0 }),
    bucketCacheStats: () => [],
  };
}

t.test('an object store the native core reaches is read by range: only the small files are synced', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-stores-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'bucket');
  await bucketWithBlocks(root);
  await writeFile(join(root, 'team', A, 'chunks', '000002'), 'more chunk bytes');
  await writeFile(join(root, 'team', A, 'tombstones'), 'tombstones');
  const fs = new FilesystemBucket(root);
  const cfg: RangeReadConfig = { endpoint: '127.0.0.1:9000', bucketName: 'blocks', region: 'us-east-1', accessKeyId: '', secretAccessKey: '', sessionToken: '', insecure: true, pathStyle: true, insecureSkipVerify: false, maxAttempts: 3 };
  const s3Like: Bucket = { ...objectStore(fs, 's3-like'), rangeReadConfig: () => cfg };
  const set: Array<RangeReadConfig | null> = [];
  const ranged = stores(s3Like, join(dir, 'sync'), readerStub(set));
  await ranged.sg.start();
  await ranged.sg.stop();
  t.same(set, [cfg], 'the native reader is given the bucket');
  const local = join(dir, 'sync', 'team', A);
  t.same(ranged.published.get('team'), [local]);
  t.same((await readdir(local)).sort(), ['bucket-block.json', 'index-header', 'meta.json', 'tombstones'], 'no index, no chunks');
  t.same(JSON.parse(await readFile(join(local, 'bucket-block.json'), 'utf8')), { key: `team/${A}`, index: 11, chunks: [11, 16] }, 'the key and the sizes of index and segments');
  t.ok(ranged.sg.blocks('team')[0]!.bytes > 0);

  // Segments that do not run 000001, 000002, ... are not served.
  await rm(join(root, 'team', A, 'chunks', '000001'));
  await rm(join(dir, 'sync'), { recursive: true, force: true });
  const gap = stores(s3Like, join(dir, 'sync'), readerStub([]));
  await gap.sg.sync();
  t.same(gap.published.get('team'), [], 'a block with a missing segment is left out');
});

t.test("a fresh bucket index lists the tenant's blocks; a stale or missing one makes the store-gateway list the bucket", async (t) => {
  const { writeBucketIndex, BUCKET_INDEX_VERSION } = await import('../compactor/bucket-index.js');
  const { dir, root, fs } = await liveBlocksBucket(t);
  const served = async (maxStaleMs: number): Promise<string[]> => {
    const sg = new BucketStores({ bucket: fs, syncDir: join(dir, `sync-${maxStaleMs}`), syncIntervalMs: 0, bucketIndexMaxStaleMs: maxStaleMs }, new QueryableBlocks(() => [], new Logger()), new Logger());
    await sg.sync();
    return sg.blocks('team').map((b) => b.meta.ulid);
  };
  t.same(await served(3_600_000), [A, B], 'no index: the bucket is listed');
  // The compactor's index knows A only (B was shipped after it ran), and marks nothing.
  const idx = { version: BUCKET_INDEX_VERSION, blocks: [{ block_id: A, min_time: 0, max_time: 7_200_000, uploaded_at: 1 }], block_deletion_marks: [], updated_at: Math.floor(Date.now() / 1000) };
  await writeBucketIndex(fs, 'team', idx);
  t.same(await served(3_600_000), [A], 'a fresh index is what the store-gateway serves');
  await writeBucketIndex(fs, 'team', { ...idx, block_deletion_marks: [{ block_id: A, deletion_time: 1 }] });
  t.same(await served(3_600_000), [], "the index's deletion marks are honoured");
  await writeBucketIndex(fs, 'team', { ...idx, updated_at: Math.floor(Date.now() / 1000) - 7200 });
  t.same(await served(3_600_000), [A, B], 'an index older than the max stale period is not trusted');
  // An index naming a block that is gone is behind the bucket (a compaction replaced the block).
  await writeBucketIndex(fs, 'team', { ...idx, blocks: [...idx.blocks, { block_id: '01JCCCCCCCCCCCCCCCCCCCCCCC', min_time: 0, max_time: 1, uploaded_at: 1 }] });
  t.same(await served(3_600_000), [A, B], 'the bucket is listed');
  // A block whose meta.json was read before and is gone now (a cleaner mid-delete) is gone for a
  // store-gateway that keeps metas too: the index naming it is behind, and listing skips it.
  await writeBucketIndex(fs, 'team', { ...idx, blocks: [...idx.blocks, { block_id: B, min_time: 7_200_000, max_time: 14_400_000, uploaded_at: 1 }] });
  const sg = new BucketStores({ bucket: fs, syncDir: join(dir, 'sync-kept'), syncIntervalMs: 0 }, new QueryableBlocks(() => [], new Logger()), new Logger());
  await sg.sync();
  t.same(sg.blocks('team').map((b) => b.meta.ulid), [A, B], 'both indexed blocks served');
  await rm(join(root, 'team', B, 'meta.json'));
  await sg.sync();
  t.same(sg.blocks('team').map((b) => b.meta.ulid), [A], 'the block without meta.json is dropped');
});

t.test("the blocks a store-gateway names carry their upload times: the index's, or meta.json's when listed", async (t) => {
  const { writeBucketIndex, BUCKET_INDEX_VERSION } = await import('../compactor/bucket-index.js');
  const { dir, fs } = await liveBlocksBucket(t);
  const listed = new BucketStores({ bucket: fs, syncDir: join(dir, 'sync-listed'), syncIntervalMs: 0 }, new QueryableBlocks(() => [], new Logger()), new Logger());
  await listed.sync();
  const h = listed.hints('team', 0, 20_000_000);
  t.same(h.known, [A, B]);
  const metaTimes = await Promise.all([A, B].map(async (id) => (await fs.attributes(`team/${id}/meta.json`)).lastModified));
  t.same(h.uploaded, metaTimes, "listed: meta.json's last-modified times");
  t.ok(metaTimes.every((ms) => Math.abs(Date.now() - ms) < 600_000), 'which are recent here');

  const idx = { version: BUCKET_INDEX_VERSION, blocks: [{ block_id: A, min_time: 0, max_time: 7_200_000, uploaded_at: 1_700_000_000 }], block_deletion_marks: [], updated_at: Math.floor(Date.now() / 1000) };
  await writeBucketIndex(fs, 'team', idx);
  const indexed = new BucketStores({ bucket: fs, syncDir: join(dir, 'sync-indexed'), syncIntervalMs: 0 }, new QueryableBlocks(() => [], new Logger()), new Logger());
  await indexed.sync();
  t.same(indexed.hints('team', 0, 20_000_000).uploaded, [1_700_000_000_000], "indexed: the index's uploaded_at");
});
