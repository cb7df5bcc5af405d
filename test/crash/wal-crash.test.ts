// wal-crash.test.ts runs the real server process (dist/src/main.js) and
// kills it with SIGKILL at random moments (fixed seed, bounded rounds)
// while pushers write; after each restart and WAL replay, every sample that
// was acknowledged with a 200 must be returned by the query API. Then a
// graceful SIGTERM, a torn tail (garbage appended to the last segment) and
// a corrupt middle segment: the server still starts and serves.

import t from 'tap';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { Rng, sleep, startProcess, waitReady, type ServerProcess } from './lib/process.js';

const TENANT = 'crash-test';
const PUSHERS = 3;
const SERIES_PER_PUSHER = 4;
const ROUNDS = 6;
const START = Date.now() - 30 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'mimir-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tsdbDir = join(dir, 'tsdb');
const walDir = join(tsdbDir, TENANT, 'wal');

/** start spawns the server and resolves once it listens (it may still be replaying). */
function start(): Promise<ServerProcess> {
  return startProcess([
    `-blocks-storage.tsdb.dir=${tsdbDir}`,
    `-blocks-storage.filesystem.dir=${join(dir, 'bucket')}`,
    `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`,
    `-compactor.data-dir=${join(dir, 'compactor')}`,
    // Small segments, so that the rounds cross segment boundaries.
    '-blocks-storage.tsdb.wal-segment-size-bytes=65536',
  ]);
}

/** acked[series] lists the [t, v] pairs answered with 200, in push order. */
const acked: Array<Array<[number, number]>> = Array.from({ length: PUSHERS * SERIES_PER_PUSHER }, () => []);
/** next[series] is the next sample index of each series (never reused). */
const next: number[] = acked.map(() => 0);

/** pushUntilDead runs one pusher until its requests fail (the server died). */
async function pushUntilDead(s: ServerProcess, pusher: number, rng: Rng): Promise<void> {
  for (;;) {
    const series = [];
    const batch: Array<[number, number, number]> = [];
    for (let k = 0; k < SERIES_PER_PUSHER; k++) {
      const id = pusher * SERIES_PER_PUSHER + k;
      const n = 1 + Math.floor(rng.next() * 5);
      const samples: Array<[number, number]> = [];
      for (let j = 0; j < n; j++) {
        const i = next[id]!++;
        const ts = START + i * 100;
        const v = id * 1_000_000 + i;
        samples.push([ts, v]);
        batch.push([id, ts, v]);
      }
      series.push({ labels: [['__name__', 'crash_test'], ['s', String(id)]] as Array<[string, string]>, samples });
    }
    let res;
    try {
      res = await httpRequest(s.port, '/api/v1/push', {
        body: encodeWriteRequestSnappy(series),
        headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
      });
    } catch {
      return;
    }
    if (res.status === 200) {
      for (const [id, ts, v] of batch) acked[id]!.push([ts, v]);
    } else if (res.status !== 503) {
      throw new Error(`push answered ${res.status}: ${res.body}`);
    }
  }
}

/** stored returns every sample of crash_test per series id, as the query API returns them. */
async function stored(s: ServerProcess): Promise<Map<number, Map<number, number>>> {
  const lastT = START + Math.max(...next) * 100;
  const evalAt = (lastT + 1) / 1000;
  const query = encodeURIComponent('crash_test[2h]');
  const res = await httpRequest(s.port, `/prometheus/api/v1/query?query=${query}&time=${evalAt}`, { headers: { 'X-Scope-OrgID': TENANT } });
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${res.body}`);
  const body = JSON.parse(res.body) as { data: { resultType: string; result: Array<{ metric: { s: string }; values: Array<[number, string]> }> } };
  const out = new Map<number, Map<number, number>>();
  for (const r of body.data.result) {
    out.set(Number(r.metric.s), new Map(r.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)])));
  }
  return out;
}

/** missing counts acknowledged samples that the server does not return. */
function missing(got: Map<number, Map<number, number>>): { missing: number; total: number; example?: string } {
  let n = 0;
  let total = 0;
  let example: string | undefined;
  acked.forEach((samples, id) => {
    const have = got.get(id);
    for (const [ts, v] of samples) {
      total++;
      if (have?.get(ts) !== v) {
        n++;
        example ??= `series ${id} t=${ts} v=${v}`;
      }
    }
  });
  return { missing: n, total, example };
}

const rng = new Rng(0x5eed1234);

t.test('kill -9 at random moments loses no acknowledged sample', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const s = await start();
    await waitReady(s);
    const before = missing(await stored(s));
    t.equal(before.missing, 0, `round ${round}: after restart, all ${before.total} acknowledged samples are back (${before.example ?? ''})`);
    const pushers = Array.from({ length: PUSHERS }, (_, p) => pushUntilDead(s, p, new Rng(0x1000 + round * 16 + p)));
    await sleep(150 + Math.floor(rng.next() * 600));
    s.child.kill('SIGKILL');
    await Promise.all(pushers);
    await s.exited;
  }
  const total = acked.reduce((n, a) => n + a.length, 0);
  t.ok(total > 100, `acknowledged ${total} samples over ${ROUNDS} kills`);
  t.ok(readdirSync(walDir).length > 1, 'the WAL spans several segments');
});

t.test('SIGTERM: refuses, drains, closes the WAL, exits 0; replay logs progress', async (t) => {
  const s = await start();
  await waitReady(s);
  t.match(s.stderr(), /level=info msg="WAL replay" component=ingester tenant=crash-test segment=1\/\d+ file=00000000 series=\d+ samples=\d+/);
  t.equal(missing(await stored(s)).missing, 0);
  const pusher = pushUntilDead(s, 0, new Rng(7));
  await sleep(200);
  s.child.kill('SIGTERM');
  await pusher;
  t.equal(await s.exited, 0);
  t.match(s.stderr(), 'msg="shutdown complete"');
  const again = await start();
  await waitReady(again);
  t.equal(missing(await stored(again)).missing, 0, 'everything acknowledged before SIGTERM is back');
  again.child.kill('SIGTERM');
  t.equal(await again.exited, 0);
});

t.test('a torn tail is truncated with a warning, and the server serves', async (t) => {
  const segments = readdirSync(walDir).sort();
  const last = join(walDir, segments[segments.length - 1]!);
  appendFileSync(last, Buffer.from([0x01, 0x00, 0x40, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]));
  const s = await start();
  await waitReady(s);
  t.match(s.stderr(), /level=warn msg="WAL has a torn or corrupt tail, truncated at the last good record" component=ingester tenant=crash-test/);
  t.equal(missing(await stored(s)).missing, 0, 'every acknowledged sample survives a torn tail');
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
});

t.test('a corrupt middle segment is reported, the rest is served', async (t) => {
  // The first segment of a good size that is not the last one.
  const segments = readdirSync(walDir).sort().slice(0, -1);
  const name = segments.find((f) => statSync(join(walDir, f)).size > 20_000) ?? segments[0]!;
  const path = join(walDir, name);
  const b = readFileSync(path);
  const mid = Math.floor(b.length / 2);
  for (let i = mid; i < mid + 16; i++) b[i] = b[i]! ^ 0xff;
  writeFileSync(path, b);
  // Without the head chunk files, which would still hold full chunks of the lost records: the WAL
  // alone is what is damaged here.
  rmSync(join(tsdbDir, TENANT, 'chunks_head'), { recursive: true, force: true });
  const s = await start();
  await waitReady(s);
  t.match(s.stderr(), `level=error msg="WAL segment is corrupt, records after the corruption are lost" component=ingester tenant=crash-test segment=${name}`);
  const m = missing(await stored(s));
  t.ok(m.missing > 0 && m.missing < m.total, `some samples lost (${m.missing} of ${m.total}), the rest served`);
  const res = await httpRequest(s.port, '/api/v1/push', {
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'after_corruption']], samples: [[Date.now(), 1]] }]),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
  });
  t.equal(res.status, 200, 'pushes are taken');
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
});
