// sharding.test.ts runs two -target=compactor servers sharing one in-memory
// ring store and one filesystem bucket: the app's wiring splits one tenant's
// jobs between them by the jobs' sharding keys, each job running once.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';
import { InMemoryKv } from '../ring/kv.js';
import { Ring } from '../ring/ring.js';
import { fnv1aKey } from '../ring/shard.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { makeBlock, readVisibleSamples, uploadBlock } from '../testing/blocks.js';
import { startTestServer } from '../testing/server.js';
import { jobShardingKey } from './planner.js';

const H = 3_600_000;
const TENANT = 'team-a';

t.test('two compactor servers on one ring run one job each of a tenant', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compactor-sharding-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bucket = new FilesystemBucket(join(dir, 'bucket'));
  const kv = new InMemoryKv();
  const start = (id: string): ReturnType<typeof startTestServer> =>
    startTestServer(
      { target: 'compactor', 'compactor.ring.instance-id': id, 'compactor.ring.instance-addr': '127.0.0.1', 'server.grpc-listen-port': 0, 'compactor.compaction-interval': 300, 'compactor.first-level-compaction-wait-period': 0 },
      { bucket, ringKv: kv },
    );
  const servers = [await start('c1'), await start('c2')];
  t.teardown(async () => {
    for (const s of servers) await s.close();
  });
  // Each compactor owns one job's key: one token each, just above the key's hash.
  const keys = [0, 2].map((h) => jobShardingKey(TENANT, { key: '', rangeStart: h * H, rangeEnd: (h + 2) * H, blocks: [] }));
  const ring = new Ring(kv, { key: 'collectors/compactor', replicationFactor: 1, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  await ring.casRing((d) => {
    d.ingesters['c1']!.tokens = [(fnv1aKey(keys[0]!) + 1) >>> 0];
    d.ingesters['c2']!.tokens = [(fnv1aKey(keys[1]!) + 1) >>> 0];
    return d;
  });
  const scratch = join(dir, 'scratch');
  for (const h of [0, 2]) {
    for (const offset of [0, 15_000]) {
      const ts: number[] = [];
      for (let x = h * H + offset; x < (h + 2) * H; x += 30_000) ts.push(x);
      await uploadBlock(bucket, TENANT, makeBlock(scratch, [{ labels: ['__name__', 'up', 'job', 'a'], ts, vs: ts.map((x) => x % 97) }], h * H, (h + 2) * H));
    }
  }
  const jobs = async (n: number): Promise<number> => (await servers[n]!.registry.getSingleMetric('cortex_compactor_group_compactions_total')?.get())?.values[0]?.value ?? 0;
  let merged = false;
  for (let i = 0; i < 100 && !merged; i++) {
    merged = (await readVisibleSamples(join(dir, 'bucket'), TENANT)).blocks.length === 2 && (await jobs(0)) + (await jobs(1)) === 2;
    if (!merged) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(merged, 'both ranges merged');
  await new Promise((r) => setTimeout(r, 1_000)); // a few more compaction runs
  t.equal(await jobs(0), 1, 'c1 ran one job');
  t.equal(await jobs(1), 1, 'c2 ran the other');
  const { duplicates, blocks } = await readVisibleSamples(join(dir, 'bucket'), TENANT);
  t.same(duplicates, []);
  t.same(blocks.map((b) => [b.minTime / H, b.maxTime / H, b.level]).sort((a, b) => a[0]! - b[0]!), [
    [0, 2, 2],
    [2, 4, 2],
  ]);
});
