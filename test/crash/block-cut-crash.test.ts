// block-cut-crash.test.ts kills the real server with SIGKILL at random
// moments while pushers write samples that move through time fast, with
// head compaction, shipping and the store-gateway's sync running every few
// tens of milliseconds: kills land during block cuts, head truncations,
// WAL checkpoints and uploads. After each restart every acknowledged sample
// must come back from the query API and /api/v1/series. Then a corrupt
// block index and a truncated chunk file: the server starts, says which
// block is damaged and serves the rest.

import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { Rng, sleep, startProcess, waitReady, type ServerProcess } from './lib/process.js';

const TENANT = 'cut-crash';
const PUSHERS = 3;
const SERIES_PER_PUSHER = 3;
const ROUNDS = 6;
/** MAX_ROUNDS bounds the rounds a slow machine needs to push TARGET_SPAN of sample time. */
const MAX_ROUNDS = 24;
const TARGET_SPAN = 8 * 3_600_000;
const STEP = 10_000;
const START = Math.floor((Date.now() - 14 * 3_600_000) / 7_200_000) * 7_200_000;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const dir = mkdtempSync(join(tmpdir(), 'mimir-cut-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tsdbDir = join(dir, 'tsdb');
const bucketDir = join(dir, 'bucket');

function start(): Promise<ServerProcess> {
  return startProcess([
    `-blocks-storage.tsdb.dir=${tsdbDir}`,
    `-blocks-storage.filesystem.dir=${bucketDir}`,
    `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`,
    `-compactor.data-dir=${join(dir, 'compactor')}`,
    '-blocks-storage.tsdb.wal-segment-size-bytes=65536',
    '-blocks-storage.tsdb.head-compaction-interval=30ms',
    '-blocks-storage.tsdb.ship-interval=40ms',
    '-blocks-storage.bucket-store.sync-interval=50ms',
    // Never idle: the samples are hours old on purpose.
    '-blocks-storage.tsdb.head-compaction-idle-timeout=0s',
  ]);
}

/** acked[series] lists the [t, v] pairs answered with 200. */
const acked: Array<Array<[number, number]>> = Array.from({ length: PUSHERS * SERIES_PER_PUSHER }, () => []);
/** tick is the shared clock of the pushers: every request takes the next one. */
let tick = 0;
const lastTick = (Date.now() - START) / STEP - 1;

async function pushUntilDead(s: ServerProcess, pusher: number, rng: Rng): Promise<void> {
  while (tick < lastTick) {
    const at = tick++;
    const series = [];
    const batch: Array<[number, number, number]> = [];
    for (let k = 0; k < SERIES_PER_PUSHER; k++) {
      const id = pusher * SERIES_PER_PUSHER + k;
      const n = 1 + Math.floor(rng.next() * 4);
      const samples: Array<[number, number]> = [];
      for (let j = 0; j < n; j++) {
        const ts = START + at * STEP + j * (STEP / 4);
        const v = id * 1_000_000 + at * 4 + j;
        samples.push([ts, v]);
        batch.push([id, ts, v]);
      }
      series.push({ labels: [['__name__', 'cut_crash'], ['s', String(id)]] as Array<[string, string]>, samples });
    }
    let res;
    try {
      res = await httpRequest(s.port, '/api/v1/push', { body: encodeWriteRequestSnappy(series), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT } });
    } catch {
      return;
    }
    if (res.status === 200) {
      for (const [id, ts, v] of batch) acked[id]!.push([ts, v]);
    } else if (res.status !== 503 && !(res.status === 400 && res.body.includes('err-mimir-sample-timestamp-too-old'))) {
      // 503: not ready yet or stopping. Too old: this pusher fell an hour behind the others
      // (its first request waited for a worker): refused as Mimir would, not acknowledged.
      throw new Error(`push answered ${res.status}: ${res.body}`);
    }
  }
}

async function stored(s: ServerProcess): Promise<Map<number, Map<number, number>>> {
  const evalAt = (START + tick * STEP + STEP) / 1000;
  const query = encodeURIComponent('cut_crash[1d]');
  const res = await httpRequest(s.port, `/prometheus/api/v1/query?query=${query}&time=${evalAt}`, { headers: { 'X-Scope-OrgID': TENANT } });
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${res.body}`);
  const body = JSON.parse(res.body) as { data: { result: Array<{ metric: { s: string }; values: Array<[number, string]> }> } };
  return new Map(body.data.result.map((r) => [Number(r.metric.s), new Map(r.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)]))]));
}

function missing(got: Map<number, Map<number, number>>): { missing: number; total: number; example?: string } {
  let n = 0;
  let total = 0;
  let example: string | undefined;
  acked.forEach((samples, id) => {
    for (const [ts, v] of samples) {
      total++;
      if (got.get(id)?.get(ts) !== v) {
        n++;
        example ??= `series ${id} t=${new Date(ts).toISOString()} v=${v}`;
      }
    }
  });
  return { missing: n, total, example };
}

function localBlocks(): string[] {
  try {
    return readdirSync(join(tsdbDir, TENANT)).filter((n) => ULID_RE.test(n));
  } catch {
    return [];
  }
}

const rng = new Rng(0xb10c);

t.test('kill -9 during block cuts, checkpoints and uploads loses no acknowledged sample', async (t) => {
  // At least ROUNDS kills, and on until the samples span several block ranges.
  for (let round = 0; round < MAX_ROUNDS && (round < ROUNDS || tick * STEP < TARGET_SPAN); round++) {
    const s = await start();
    await waitReady(s);
    const m = missing(await stored(s));
    t.equal(m.missing, 0, `round ${round}: all ${m.total} acknowledged samples are back (${m.example ?? ''})`);
    const pushers = Array.from({ length: PUSHERS }, (_, p) => pushUntilDead(s, p, new Rng(0x2000 + round * 16 + p)));
    await sleep(300 + Math.floor(rng.next() * 900));
    s.child.kill('SIGKILL');
    await Promise.all(pushers);
    await s.exited;
  }
  const s = await start();
  await waitReady(s);
  const m = missing(await stored(s));
  t.equal(m.missing, 0, `after the last kill: all ${m.total} acknowledged samples are back (${m.example ?? ''})`);
  const series = await httpRequest(s.port, `/prometheus/api/v1/series?match[]=cut_crash&start=${START / 1000}&end=${Date.now() / 1000}`, { headers: { 'X-Scope-OrgID': TENANT } });
  t.equal((JSON.parse(series.body) as { data: unknown[] }).data.length, PUSHERS * SERIES_PER_PUSHER, 'every series listed');
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
  t.ok(localBlocks().length >= 2, `blocks were cut (${localBlocks().length})`);
  t.ok(
    readdirSync(join(tsdbDir, TENANT, 'wal')).some((n) => n.startsWith('checkpoint.')),
    'the WAL was checkpointed',
  );
});

t.test('a corrupt block index and a truncated chunk file: reported, the rest is served', async (t) => {
  // Keep the copies local only, so the damage is what the queries see.
  rmSync(bucketDir, { recursive: true, force: true });
  const blocks = localBlocks().sort();
  t.ok(blocks.length >= 2);
  const badIndex = blocks[0]!;
  const badChunks = blocks[1]!;
  const index = join(tsdbDir, TENANT, badIndex, 'index');
  writeFileSync(index, Buffer.alloc(statSync(index).size, 0xab));
  const chunk = join(tsdbDir, TENANT, badChunks, 'chunks', '000001');
  truncateSync(chunk, Math.floor(statSync(chunk).size / 2));
  const s = await start();
  await waitReady(s);
  t.match(s.stderr(), new RegExp(`level=error msg="block could not be opened, it is not queried" component=blocks tenant=${TENANT} dir=\\S*${badIndex}`));
  // The head and the other blocks still answer; the damaged chunks fail only the queries that read them.
  const recent = await httpRequest(s.port, `/prometheus/api/v1/query?query=${encodeURIComponent('count(cut_crash)')}&time=${(START + tick * STEP) / 1000}`, { headers: { 'X-Scope-OrgID': TENANT } });
  t.equal(recent.status, 200, recent.body);
  const all = await httpRequest(s.port, `/prometheus/api/v1/query?query=${encodeURIComponent('cut_crash[1d]')}&time=${(START + tick * STEP) / 1000}`, { headers: { 'X-Scope-OrgID': TENANT } });
  if (all.status !== 200) t.match(all.body, /chunks|corrupt|truncated/, 'a query over the damaged block says what is wrong');
  const push = await httpRequest(s.port, '/api/v1/push', {
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'after_damage']], samples: [[Date.now(), 1]] }]),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
  });
  t.equal(push.status, 200, 'pushes are taken');
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
});
