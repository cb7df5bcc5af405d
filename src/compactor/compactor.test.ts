// compactor.test.ts runs the compactor on a filesystem bucket holding real
// blocks: merges with the native core, markers, the bucket index, the
// deletion delay, retention, duplicates left by a crash, partial blocks,
// the first-level wait period and tenant deletion.

import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { nativeBlockCompactor } from '../storage/native.js';
import { expectedSamples, makeBlock, readVisibleSamples, uploadBlock, type SeriesSamples } from '../testing/blocks.js';
import { readBucketIndex } from './bucket-index.js';
import { Compactor, type CompactorOptions } from './compactor.js';
import { ringSharding } from './module.js';
import { jobShardingKey } from './planner.js';
import { log, setLogSink } from '../log.js';
import { InMemoryKv } from '../ring/kv.js';
import { Lifecycler } from '../ring/lifecycler.js';
import { ACTIVE_OWNER } from '../ring/model.js';
import { Ring } from '../ring/ring.js';
import { fnv1aKey } from '../ring/shard.js';
import { readTenantDeletionMark } from './markers.js';

const H = 3_600_000;
const TENANT = 'team-a';

/** series makes samples of one series every step ms in [from, to) starting at offset. */
function series(job: string, from: number, to: number, step: number, offset = 0): SeriesSamples {
  const ts: number[] = [];
  for (let x = from + offset; x < to; x += step) ts.push(x);
  return { labels: ['__name__', 'up', 'job', job], ts, vs: ts.map((x) => (x / 1000) % 97) };
}

interface Env {
  root: string;
  bucket: FilesystemBucket;
  scratch: string;
  clock: { now: number };
  compactor: (o?: Partial<CompactorOptions>) => Compactor;
}

function env(t: Test): Env {
  const dir = mkdtempSync(join(tmpdir(), 'compactor-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'bucket');
  const bucket = new FilesystemBucket(root);
  const clock = { now: Date.now() };
  return {
    root,
    bucket,
    scratch: join(dir, 'scratch'),
    clock,
    compactor: (o = {}) =>
      new Compactor({
        bucket,
        blockCompactor: nativeBlockCompactor(),
        dataDir: join(dir, 'data'),
        blockRanges: [2 * H, 12 * H, 24 * H],
        compactionIntervalMs: 3_600_000,
        cleanupIntervalMs: 900_000,
        deletionDelayMs: 12 * H,
        tenantCleanupDelayMs: 6 * H,
        firstLevelWaitMs: 0,
        retentionMs: () => 0,
        partialDeletionDelayMs: () => 24 * H,
        now: () => clock.now,
        ...o,
      }),
  };
}

/** seed uploads two overlapping replicas of [0,2h) and 2h blocks up to 14h; returns every series. */
async function seed(e: Env): Promise<SeriesSamples[]> {
  const all: SeriesSamples[] = [];
  const add = async (s: SeriesSamples[], minH: number, maxH: number): Promise<string> => {
    all.push(...s);
    return uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, s, minH * H, maxH * H));
  };
  // Two replicas of the first range with interleaved timestamps: their chunks overlap.
  await add([series('a', 0, 2 * H, 30_000)], 0, 2);
  await add([series('a', 0, 2 * H, 30_000, 15_000), series('b', H, 2 * H, 60_000)], 0, 2);
  for (let h = 2; h < 14; h += 2) await add([series('a', h * H, (h + 2) * H, 30_000), series(`c${h}`, h * H, (h + 1) * H, 60_000)], h, h + 2);
  return all;
}

t.test('compacts vertically then into the 12h range, marks sources, writes the bucket index', async (t) => {
  const e = env(t);
  const all = await seed(e);
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  t.teardown(() => setLogSink((l) => process.stderr.write(l)));
  const c = e.compactor();
  await c.runOnce();

  const { samples, duplicates, blocks } = await readVisibleSamples(e.root, TENANT);
  t.same(duplicates, [], 'no sample is visible twice');
  t.same(samples, expectedSamples(all), 'exactly the union of the source samples');
  t.same(
    blocks.map((b) => [b.minTime / H, b.maxTime / H, b.level]).sort((a, b) => a[0]! - b[0]!),
    [
      [0, 12, 3],
      [12, 14, 1],
    ],
  );
  const big = blocks.find((b) => b.level === 3)!;
  t.equal(big.sources.length, 7, 'the union of the level-1 sources');

  // Every source block (the level-1 ones and the intermediate level-2 one) is marked in both places.
  const idx = await readBucketIndex(e.bucket, TENANT);
  t.ok(idx);
  t.equal(idx!.version, 2);
  t.equal(idx!.blocks.length, 10, '8 level-1, the level-2 and the level-3 block, until the deletion delay');
  t.equal(idx!.block_deletion_marks.length, 8);
  for (const m of idx!.block_deletion_marks) {
    t.ok(existsSync(join(e.root, TENANT, m.block_id, 'deletion-mark.json')), `local mark of ${m.block_id}`);
    t.ok(existsSync(join(e.root, TENANT, 'markers', `${m.block_id}-deletion-mark.json`)), `global mark of ${m.block_id}`);
  }
  const entry = idx!.blocks.find((b) => b.block_id === big.id)!;
  t.match(entry, { min_time: 0, max_time: 12 * H, segments_format: '1b6d', segments_num: 1, source: 'compactor', compaction_level: 3, labels: { __org_id__: TENANT } });
  t.ok(Math.abs(entry.uploaded_at - Date.now() / 1000) < 600, 'uploaded_at is when meta.json was written');
  t.equal(idx!.updated_at, Math.floor(e.clock.now / 1000));

  // Progress logs in logfmt, one per job with tenant, blocks and duration.
  const done = lines.filter((l) => l.includes('msg="compaction job succeeded"'));
  t.equal(done.length, 2);
  t.match(done[0]!, /component=compactor tenant=team-a job=\S+ blocks=2 result=\w{26} .*duration=\d+ms/);
  t.match(done[1]!, /blocks=6 /, 'the level-2 block and five level-1 blocks');

  // Nothing more to do: a second run changes nothing.
  await c.runOnce();
  t.equal((await readVisibleSamples(e.root, TENANT)).blocks.length, 2);

  // Past the deletion delay, the marked blocks go, and the index follows.
  e.clock.now += 13 * H;
  await c.runOnce();
  const after = await readBucketIndex(e.bucket, TENANT);
  t.equal(after!.blocks.length, 2);
  t.same(after!.block_deletion_marks, []);
  t.same(readdirSync(join(e.root, TENANT)).sort(), [...blocks.map((b) => b.id), 'bucket-index.json.gz'].sort(), 'the marked blocks and their markers are gone');
  t.same((await readVisibleSamples(e.root, TENANT)).samples, expectedSamples(all));
});

t.test('retention marks blocks older than the tenant retention, then deletes them', async (t) => {
  const e = env(t);
  const old = [series('a', 0, 2 * H, 60_000)];
  const oldId = await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, old, 0, 2 * H));
  const recentStart = Math.floor(e.clock.now / (2 * H)) * 2 * H - 2 * H;
  const recent = [series('a', recentStart, recentStart + 2 * H, 60_000)];
  const recentId = await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, recent, recentStart, recentStart + 2 * H));
  const c = e.compactor({ retentionMs: (tenant) => (tenant === TENANT ? 30 * 24 * H : 0), deletionDelayMs: 0 });
  await c.runOnce();
  const idx = await readBucketIndex(e.bucket, TENANT);
  t.same(
    idx!.blocks.map((b) => b.block_id),
    [recentId],
    'the old block was marked and, with no deletion delay, deleted',
  );
  t.notOk(existsSync(join(e.root, TENANT, oldId)));
  t.same((await readVisibleSamples(e.root, TENANT)).samples, expectedSamples(recent));
});

t.test('blocks left covered by a crashed compaction are marked, never merged twice', async (t) => {
  const e = env(t);
  const s1 = [series('a', 0, 2 * H, 30_000)];
  const s2 = [series('a', 2 * H, 4 * H, 30_000)];
  const d1 = makeBlock(e.scratch, s1, 0, 2 * H);
  const d2 = makeBlock(e.scratch, s2, 2 * H, 4 * H);
  const merged = await nativeBlockCompactor().compactBlocks([d1, d2], join(e.scratch, 'out'), TENANT);
  t.ok(merged);
  // As after a kill -9 between upload and marks: sources and result, no marks.
  const id1 = await uploadBlock(e.bucket, TENANT, d1);
  const id2 = await uploadBlock(e.bucket, TENANT, d2);
  await uploadBlock(e.bucket, TENANT, join(e.scratch, 'out', merged!.ulid));
  const view = await readVisibleSamples(e.root, TENANT);
  t.same(view.duplicates, [], 'readers skip the covered sources even before the marks');
  t.same(view.blocks.map((b) => b.id), [merged!.ulid]);

  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  t.teardown(() => setLogSink((l) => process.stderr.write(l)));
  await e.compactor({ blockRanges: [2 * H, 4 * H] }).runOnce();
  t.notOk(lines.some((l) => l.includes('compaction job started')), 'the covered sources are not compacted again');
  const idx = await readBucketIndex(e.bucket, TENANT);
  t.same(idx!.block_deletion_marks.map((m) => m.block_id).sort(), [id1, id2].sort());
  t.same((await readVisibleSamples(e.root, TENANT)).samples, expectedSamples([...s1, ...s2]));
});

t.test('a deletion mark only in the block directory is copied to markers/ and honoured', async (t) => {
  const e = env(t);
  const ids: string[] = [];
  for (const r of [0, 1]) ids.push(await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, [series('a', 0, 2 * H, 60_000, r * 30_000)], 0, 2 * H)));
  const when = Math.floor(e.clock.now / 1000) - 60;
  await e.bucket.put(`${TENANT}/${ids[0]}/deletion-mark.json`, Buffer.from(JSON.stringify({ id: ids[0], deletion_time: when, version: 1 })));
  await e.compactor().runOnce();
  t.ok(existsSync(join(e.root, TENANT, 'markers', `${ids[0]}-deletion-mark.json`)), 'migrated to the global location');
  const idx = await readBucketIndex(e.bucket, TENANT);
  t.same(idx!.block_deletion_marks, [{ block_id: ids[0], deletion_time: when }], 'with its original deletion time');
  t.same(
    (await readVisibleSamples(e.root, TENANT)).blocks.map((b) => b.id),
    [ids[1]],
    'the marked block was not compacted',
  );
});

t.test('partial blocks: left out of the index, deleted once stale', async (t) => {
  const e = env(t);
  const s = [series('a', 0, 2 * H, 60_000)];
  const dir = makeBlock(e.scratch, s, 0, 2 * H);
  const id = dir.split('/').pop()!;
  // Upload without meta.json: as a shipper or compactor killed mid-upload.
  await e.bucket.upload(`${TENANT}/${id}/index`, join(dir, 'index'));
  await e.bucket.upload(`${TENANT}/${id}/chunks/000001`, join(dir, 'chunks', '000001'));
  const c = e.compactor({ partialDeletionDelayMs: () => H });
  await c.runOnce();
  let idx = await readBucketIndex(e.bucket, TENANT);
  t.same(idx!.blocks, [], 'a partial block is not in the index');
  t.ok(existsSync(join(e.root, TENANT, id, 'index')), 'nor deleted while it may still be uploading');
  e.clock.now += 2 * H;
  await c.runOnce(); // marked as stale
  await c.runOnce(); // partial and marked: deleted
  t.notOk(existsSync(join(e.root, TENANT, id)));
  idx = await readBucketIndex(e.bucket, TENANT);
  t.same(idx!.block_deletion_marks, []);
});

t.test('first-level blocks wait for the wait period', async (t) => {
  const e = env(t);
  for (const r of [0, 1]) await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, [series('a', 0, 2 * H, 60_000, r * 30_000)], 0, 2 * H));
  const c = e.compactor({ firstLevelWaitMs: 25 * 60_000 });
  await c.runOnce();
  t.equal((await readVisibleSamples(e.root, TENANT)).blocks.length, 2, 'just uploaded: not compacted yet');
  e.clock.now += 30 * 60_000;
  await c.runOnce();
  const v = await readVisibleSamples(e.root, TENANT);
  t.same(
    v.blocks.map((b) => b.level),
    [2],
  );
});

t.test('tenant deletion: blocks and index first, markers after the tenant cleanup delay', async (t) => {
  const e = env(t);
  await seed(e);
  await uploadBlock(e.bucket, 'other', makeBlock(e.scratch, [series('x', 0, 2 * H, 60_000)], 0, 2 * H));
  const c = e.compactor();
  t.same(await c.tenants(), ['other', TENANT]);
  t.equal(await c.tenantBlocksDeleted(TENANT), false);
  await c.requestTenantDeletion(TENANT);
  t.match(await readTenantDeletionMark(e.bucket, TENANT), { deletion_time: Math.floor(e.clock.now / 1000) });
  await c.runOnce();
  t.equal(await c.tenantBlocksDeleted(TENANT), true);
  t.equal(await readBucketIndex(e.bucket, TENANT), undefined);
  t.match(await readTenantDeletionMark(e.bucket, TENANT), { finished_time: Math.floor(e.clock.now / 1000) });
  t.equal(await c.tenantBlocksDeleted('other'), false, 'other tenants keep their blocks');
  e.clock.now += 7 * H;
  await c.runOnce();
  t.notOk(existsSync(join(e.root, TENANT)), 'nothing of the tenant is left');
  t.same(await c.tenants(), ['other']);
});

t.test('a sharded compactor cleans only the tenants it owns and runs only its jobs', async (t) => {
  const e = env(t);
  const other = 'other-tenant';
  const blocks = [series('a', 0, 2 * H, 60_000)];
  await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, blocks, 0, 2 * H));
  await uploadBlock(e.bucket, other, makeBlock(e.scratch, blocks, 0, 2 * H));
  await uploadBlock(e.bucket, other, makeBlock(e.scratch, [series('a', 0, 2 * H, 60_000, 30_000)], 0, 2 * H));
  const c = e.compactor();
  c.shardBy({ ownsTenant: (tenant) => tenant === TENANT, ownsJob: () => false });
  await c.runOnce();
  t.ok(await readBucketIndex(e.bucket, TENANT), 'its tenant is indexed');
  t.equal(await readBucketIndex(e.bucket, other), undefined, "the other compactor's tenant is left alone");
  t.equal((await readVisibleSamples(e.root, other)).blocks.length, 2, 'a job it does not own is not run');
  // The ring moved the other tenant and its job here.
  c.shardBy({ ownsTenant: () => true, ownsJob: () => true });
  await c.runOnce();
  t.ok(await readBucketIndex(e.bucket, other), 'taken over once owned');
  t.equal((await readVisibleSamples(e.root, other)).blocks.length, 1, 'and its job run');
});

t.test("two compactors on one ring share a tenant's jobs: each job runs once, on the owner of its sharding key", async (t) => {
  const e = env(t);
  // Two 2h ranges with two overlapping blocks each: two jobs of one tenant.
  const all: SeriesSamples[] = [];
  for (const h of [0, 2]) {
    for (const offset of [0, 15_000]) {
      const s = [series('a', h * H, (h + 2) * H, 30_000, offset)];
      all.push(...s);
      await uploadBlock(e.bucket, TENANT, makeBlock(e.scratch, s, h * H, (h + 2) * H));
    }
  }
  const kv = new InMemoryKv();
  const quiet = log.with({ test: 'compactor-ring' });
  const ringOf = async (id: string): Promise<Ring> => {
    const ring = new Ring(kv, { key: 'collectors/compactor', replicationFactor: 1, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, quiet);
    await ring.start();
    t.teardown(() => ring.stop());
    await new Lifecycler(ring, { id, addr: `${id}:9095`, zone: '', numTokens: 4, heartbeatPeriodMs: 0, unregisterOnShutdown: () => true }, quiet).start();
    return ring;
  };
  const rings = [await ringOf('c1'), await ringOf('c2')];
  // Tokens chosen so that each compactor owns one job's key (the owner of a key is the first token above its hash).
  const keys = [0, 2].map((h) => jobShardingKey(TENANT, { key: '', rangeStart: h * H, rangeEnd: (h + 2) * H, blocks: [] }));
  await rings[0]!.casRing((d) => {
    d.ingesters['c1']!.tokens = [(fnv1aKey(keys[0]!) + 1) >>> 0];
    d.ingesters['c2']!.tokens = [(fnv1aKey(keys[1]!) + 1) >>> 0];
    return d;
  });
  for (const r of rings) await r.refresh();
  const tenantOwner = rings[0]!.ownerOf(fnv1aKey(TENANT), ACTIVE_OWNER);
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  t.teardown(() => setLogSink((l) => process.stderr.write(l)));
  const compactors = ['c1', 'c2'].map((id, n) => {
    const c = e.compactor({ dataDir: join(e.scratch, `data-${id}`), logger: log.with({ component: 'compactor', instance: id }) });
    c.shardBy(ringSharding(rings[n]!, id));
    return c;
  });
  // Both at once, then again: nothing is left to run.
  await Promise.all(compactors.map((c) => c.runOnce()));
  await Promise.all(compactors.map((c) => c.runOnce()));
  const ran = (id: string): string[] =>
    lines.filter((l) => l.includes('msg="compaction job succeeded"') && l.includes(`instance=${id} `)).map((l) => /job=\S+-merge--(\d+)-(\d+)/.exec(l)!.slice(1, 3).join('-'));
  t.same(ran('c1'), [`0-${2 * H}`], 'c1 ran the first range, once');
  t.same(ran('c2'), [`${2 * H}-${4 * H}`], 'c2 ran the second range, once');
  const { samples, duplicates, blocks } = await readVisibleSamples(e.root, TENANT);
  t.same(duplicates, [], 'no sample is visible twice');
  t.same(samples, expectedSamples(all), 'exactly the union of the source samples');
  t.same(
    blocks.map((b) => [b.minTime / H, b.maxTime / H, b.level]).sort((a, b) => a[0]! - b[0]!),
    [
      [0, 2, 2],
      [2, 4, 2],
    ],
  );
  // The bucket index is written by the tenant's owner alone.
  const cleaned = lines.filter((l) => l.includes('msg="completed blocks cleanup and maintenance"')).map((l) => /instance=(\w+)/.exec(l)?.[1]);
  t.ok(cleaned.length > 0 && cleaned.every((id) => id === tenantOwner), `only ${tenantOwner} cleans the tenant and writes its bucket index`);
  t.ok(await readBucketIndex(e.bucket, TENANT));
});
