// compactor-crash.test.ts runs the real server process as a compactor
// (-target=compactor) over a filesystem bucket of real blocks and kills it
// with SIGKILL in the middle of compactions: at each point where a crash
// matters (new block half uploaded, uploaded but sources not marked, sources
// half marked, a block half deleted) and at random moments. After every
// kill, the bucket read as a store-gateway reads it (complete blocks, marked
// blocks and blocks covered by another block's sources left out) must hold
// exactly the samples that were uploaded: none lost, none twice. A final
// clean run must reach the fully compacted state.

import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_ENV } from '../../src/compactor/module.js';
import { FilesystemBucket } from '../../src/storage/bucket/filesystem.js';
import { expectedSamples, makeBlock, readVisibleSamples, uploadBlock, visibleBlocks, type SeriesSamples } from '../../src/testing/blocks.js';
import { Rng, sleep, spawnServer, type SpawnedServer } from './lib/process.js';

const H = 3_600_000;
const TENANT = 'crash-tenant';
/** deadline resolves after ms without keeping the process alive. */
const deadline = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

const dir = mkdtempSync(join(tmpdir(), 'mimir-compactor-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'bucket');
const bucket = new FilesystemBucket(root);

/** series makes one series sampled every step ms in [from, to), shifted by offset. */
function series(job: string, from: number, to: number, step: number, offset = 0): SeriesSamples {
  const ts: number[] = [];
  for (let x = from + offset; x < to; x += step) ts.push(x);
  return { labels: ['__name__', 'up', 'job', job, 'instance', `i-${offset}`], ts, vs: ts.map((x) => Math.sin(x / 1e6)) };
}

function start(crashAt?: string): SpawnedServer {
  const env = { ...process.env };
  if (crashAt !== undefined) env[CRASH_ENV] = crashAt;
  else delete env[CRASH_ENV];
  return spawnServer(
    [
      '-target=compactor',
      `-blocks-storage.tsdb.dir=${join(dir, 'tsdb')}`,
      `-blocks-storage.filesystem.dir=${root}`,
      `-compactor.data-dir=${join(dir, 'compactor')}`,
      '-compactor.compaction-interval=200ms',
      '-compactor.cleanup-interval=200ms',
      '-compactor.first-level-compaction-wait-period=0s',
      // Sources are deleted right after they are marked: the crash points of deletion are exercised too.
      '-compactor.deletion-delay=0s',
      // Blocks left half uploaded by a kill are cleaned up within the test.
      '-compactor.partial-block-deletion-delay=1s',
    ],
    env,
  );
}

/** seed uploads three overlapping replicas of every 2h block of [0,12h) and one block past it. */
async function seed(): Promise<SeriesSamples[]> {
  const all: SeriesSamples[] = [];
  const scratch = join(dir, 'scratch');
  for (let h = 0; h < 14; h += 2) {
    const replicas = h < 12 ? 3 : 1;
    for (let r = 0; r < replicas; r++) {
      // Replicas interleave in time (their chunks overlap) without sharing a timestamp.
      const s = [series('api', h * H, (h + 2) * H, 30_000, r * 10_000), series(`node-${h}`, h * H, (h + 1) * H, 60_000, r * 20_000)];
      all.push(...s);
      await uploadBlock(bucket, TENANT, makeBlock(scratch, s, h * H, (h + 2) * H));
    }
  }
  return all;
}

async function checkVisible(t: Test, want: Map<string, number>, when: string): Promise<void> {
  const { samples, duplicates, blocks } = await readVisibleSamples(root, TENANT);
  t.same(duplicates.slice(0, 5), [], `${when}: no sample visible twice (${blocks.length} blocks visible)`);
  t.equal(samples.size, want.size, `${when}: every sample visible`);
  let mismatched = 0;
  for (const [k, v] of want) if (samples.get(k) !== v) mismatched++;
  t.equal(mismatched, 0, `${when}: the same values`);
}

t.test('kill -9 in the middle of compactions loses and duplicates nothing', async (t) => {
  const all = await seed();
  const want = expectedSamples(all);
  await checkVisible(t, want, 'before compaction');

  // Crash at each point that matters, several times over (each run makes some progress first).
  const points = ['upload-before-meta', 'after-upload', 'between-marks', 'mid-delete', 'upload-before-meta', 'after-upload', 'between-marks', 'mid-delete'];
  let killedAt = 0;
  for (const point of points) {
    const p = start(point);
    const res = await Promise.race([p.exited, deadline(60_000).then(() => undefined)]);
    if (res === undefined) {
      p.child.kill('SIGKILL');
      await p.exited;
      t.fail(`no crash at ${point} within 60s: ${p.stderr().slice(-2000)}`);
      continue;
    }
    if (res.signal === 'SIGKILL') killedAt++;
    await checkVisible(t, want, `killed at ${point}`);
  }
  t.ok(killedAt >= 6, `the process was killed at ${killedAt} crash points`);

  // Kills at random moments of a compaction job.
  const rng = new Rng(0x5eed);
  for (let round = 0; round < 4; round++) {
    const p = start();
    for (let i = 0; i < 100 && !p.stderr().includes('compaction job started'); i++) await sleep(50);
    await sleep(Math.floor(rng.next() * 150));
    p.child.kill('SIGKILL');
    await p.exited;
    await checkVisible(t, want, `random kill ${round}`);
  }

  // A clean run reaches the end state: one level-3 block for [0,12h) and the block past it,
  // every source and every half-uploaded block deleted.
  const p = start();
  for (let i = 0; i < 200 && !p.stderr().includes('msg="compaction run completed"'); i++) await sleep(50);
  let blocks = await visibleBlocks(root, TENANT);
  for (let i = 0; i < 600; i++) {
    blocks = await visibleBlocks(root, TENANT);
    const dirs = readdirSync(join(root, TENANT)).filter((n) => /^[0-7][0-9A-Z]{25}$/.test(n));
    if (blocks.length === 2 && dirs.length === 2 && blocks.some((b) => b.level === 3)) break;
    await sleep(100);
  }
  t.same(
    blocks.map((b) => [b.minTime / H, b.maxTime / H, b.level]).sort((a, b) => a[0]! - b[0]!),
    [
      [0, 12, 3],
      [12, 14, 1],
    ],
    'fully compacted',
  );
  t.equal(blocks.find((b) => b.level === 3)?.sources.length, 18, 'the 18 replicas of [0,12h) in one block');
  await checkVisible(t, want, 'after the clean run');
  p.child.kill('SIGTERM');
  const stopped = await p.exited;
  t.match(stopped, { code: 0 }, `graceful stop (${JSON.stringify(stopped)}): ${stopped.code === 0 ? '' : p.stderr().slice(-1500)}`);
});
