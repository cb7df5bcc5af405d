// head-compaction-crash.test.ts kills the real server (SIGKILL, from inside
// the native head compaction through MIMIR_HEAD_COMPACTION_CRASH_AT) after
// each step of a head compaction: block written, block published, head
// truncated, WAL checkpoint written (old segments not yet deleted),
// checkpoint done. After the restart every acknowledged float and native
// histogram sample is answered by the query API exactly once; then the
// restarted server compacts the same data again and, after a clean
// restart, still answers each sample once.

import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { encodeHistogramWriteRequestSnappy, type NativeHistogram } from '../../src/remote/write-request-histograms.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { sleep, startProcess, waitReady, type ServerProcess } from './lib/process.js';

// Five kill-and-restart rounds of three server starts each: more than tap's default file timeout on a loaded machine.
t.setTimeout(300_000);

const TENANT = 'head-compaction-crash';
const CRASH_ENV = 'MIMIR_HEAD_COMPACTION_CRASH_AT';
const STEPS = ['block-written', 'block-published', 'head-truncated', 'checkpoint-written', 'wal-checkpointed'];
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Samples start at a block boundary 14h ago: the head spans more than 1.5 block ranges after 3h of them. */
const START = Math.floor((Date.now() - 14 * HOUR) / (2 * HOUR)) * 2 * HOUR;
/** Each request carries MINUTES_PER_PUSH minutes of both series. */
const MINUTES_PER_PUSH = 10;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** hist is the histogram sample of minute k (count 2k, sum 1.5k, one bucket and the zero bucket). */
function hist(k: number): NativeHistogram {
  return {
    t: START + k * MIN,
    kind: 'int',
    hint: 0,
    schema: 0,
    zeroThreshold: 0.001,
    zeroCount: k,
    count: 2 * k,
    sum: 1.5 * k,
    positiveSpans: [[0, 1]],
    negativeSpans: [],
    positiveBuckets: [k],
    negativeBuckets: [],
    customValues: [],
  };
}

/** Acked are the minutes whose request was answered 200. */
type Acked = Set<number>;

/** push sends minutes [from, to) in requests of MINUTES_PER_PUSH, recording the acknowledged ones; stops when the server is gone. */
async function push(s: ServerProcess, from: number, to: number, acked: Acked): Promise<void> {
  for (let m = from; m < to; m += MINUTES_PER_PUSH) {
    const minutes = Array.from({ length: Math.min(MINUTES_PER_PUSH, to - m) }, (_, i) => m + i);
    const body = encodeHistogramWriteRequestSnappy(
      [{ labels: [['__name__', 'hcc_h']], histograms: minutes.map(hist) }],
      [{ labels: [['__name__', 'hcc_f']], samples: minutes.map((k): [number, number] => [START + k * MIN, k]) }],
    );
    let res;
    try {
      res = await httpRequest(s.port, '/api/v1/push', { body, headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT } });
    } catch {
      return;
    }
    if (res.status !== 200) throw new Error(`push answered ${res.status}: ${res.body}`);
    for (const k of minutes) acked.add(k);
    // Let the compaction loop (every 30ms) see the head grow.
    await sleep(15);
  }
}

interface Matrix {
  data: { result: Array<{ values?: Array<[number, string]>; histograms?: Array<[number, { count: string; sum: string }]> }> };
}

async function matrix(s: ServerProcess, query: string): Promise<Matrix['data']['result']> {
  const at = (START + 12 * HOUR) / 1000;
  const res = await httpRequest(s.port, `/prometheus/api/v1/query?query=${encodeURIComponent(query)}&time=${at}`, { headers: { 'X-Scope-OrgID': TENANT } });
  if (res.status !== 200) throw new Error(`query answered ${res.status}: ${res.body}`);
  return (JSON.parse(res.body) as Matrix).data.result;
}

/** check asserts every acknowledged minute of both series is answered once, with its value. */
async function check(t: Test, s: ServerProcess, acked: Acked, what: string): Promise<void> {
  const floats = (await matrix(s, 'hcc_f[1d]'))[0]?.values ?? [];
  const hists = (await matrix(s, 'hcc_h[1d]'))[0]?.histograms ?? [];
  const minuteOf = (ts: number): number => (Math.round(ts * 1000) - START) / MIN;
  const fTimes = floats.map(([ts]) => minuteOf(ts));
  const hTimes = hists.map(([ts]) => minuteOf(ts));
  t.equal(new Set(fTimes).size, fTimes.length, `${what}: no float sample twice`);
  t.equal(new Set(hTimes).size, hTimes.length, `${what}: no histogram sample twice`);
  const fGot = new Map(floats.map(([ts, v]) => [minuteOf(ts), Number(v)]));
  const hGot = new Map(hists.map(([ts, h]) => [minuteOf(ts), `${h.count}/${h.sum}`]));
  const lostF = [...acked].filter((k) => fGot.get(k) !== k);
  const lostH = [...acked].filter((k) => hGot.get(k) !== `${2 * k}/${1.5 * k}`);
  t.same(lostF, [], `${what}: all ${acked.size} acknowledged float samples are back`);
  t.same(lostH, [], `${what}: all ${acked.size} acknowledged histogram samples are back (first answered: ${JSON.stringify(hists[0])})`);
}

function localBlocks(tsdbDir: string): string[] {
  try {
    return readdirSync(join(tsdbDir, TENANT)).filter((n) => ULID_RE.test(n));
  } catch {
    return [];
  }
}

for (const step of STEPS) {
  t.test(`kill -9 after the head compaction step ${step} loses and duplicates nothing`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mimir-head-compaction-crash-'));
    const tsdbDir = join(dir, 'tsdb');
    const children: ServerProcess[] = [];
    t.teardown(() => {
      for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const flags = [
      `-blocks-storage.tsdb.dir=${tsdbDir}`,
      `-blocks-storage.filesystem.dir=${join(dir, 'bucket')}`,
      `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`,
      `-compactor.data-dir=${join(dir, 'compactor')}`,
      '-blocks-storage.tsdb.wal-segment-size-bytes=65536',
      '-blocks-storage.tsdb.head-compaction-interval=30ms',
      '-blocks-storage.tsdb.ship-interval=40ms',
      '-blocks-storage.bucket-store.sync-interval=50ms',
      // Never idle: the samples are hours old on purpose.
      '-blocks-storage.tsdb.head-compaction-idle-timeout=0s',
    ];
    const start = async (env?: NodeJS.ProcessEnv): Promise<ServerProcess> => {
      const s = await startProcess(flags, env);
      children.push(s);
      await waitReady(s);
      return s;
    };
    const acked: Acked = new Set();

    // 1. Push 5h of minutes; the compaction starts once the head spans more than 3h and the
    //    native hook kills the process after the step.
    const crashing = await start({ ...process.env, [CRASH_ENV]: step });
    await push(crashing, 0, 5 * 60, acked);
    const died = await Promise.race([crashing.exited.then(() => true), sleep(20_000).then(() => false)]);
    t.ok(died, `the server killed itself after ${step}`);
    if (!died) crashing.child.kill('SIGKILL');
    await crashing.exited;
    t.equal(crashing.child.signalCode, 'SIGKILL', 'by SIGKILL');
    t.ok(acked.size >= 3 * 60, `3h of minutes or more were acknowledged before (${acked.size})`);
    if (step !== 'block-written' && step !== 'block-published') t.ok(localBlocks(tsdbDir).length >= 1, 'a block was on disk');

    // 2. Restart: everything acknowledged is answered once.
    const restarted = await start();
    await check(t, restarted, acked, `after the kill at ${step}`);

    // 3. More samples; the restarted server compacts again (the same ranges, for the data the
    //    crash left in the head); still each sample once, also after a clean restart.
    const before = localBlocks(tsdbDir).length;
    await push(restarted, 5 * 60, 7 * 60, acked);
    for (let i = 0; i < 400 && localBlocks(tsdbDir).length <= before; i++) await sleep(25);
    t.ok(localBlocks(tsdbDir).length > before, 'the restarted server cut a block');
    await check(t, restarted, acked, `compacted again after the kill at ${step}`);
    restarted.child.kill('SIGTERM');
    t.equal(await restarted.exited, 0, 'clean stop');
    const last = await start();
    await check(t, last, acked, `restarted cleanly after the kill at ${step}`);
    last.child.kill('SIGTERM');
    t.equal(await last.exited, 0, 'clean stop');
  });
}
