// auth.ts measures what enterprise authentication costs: the same
// node_exporter-like remote-write load and the same queries against our
// server in trust mode (-auth.type=trust, X-Scope-OrgID) and in enterprise
// mode (-auth.type=enterprise, Basic auth with a GEM token whose realm has
// one label policy, so every read goes through label-based access control),
// fresh servers, alternated in one run. Targets (issue 16): push throughput
// at least 0.95x of trust mode, query latency at most 1.1x.
//
//   npm run build && node dist/bench/auth.js --series 20000 --rounds 5 --out bench/RESULTS.md

import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTokengen } from '../src/admin/tokengen.js';
import { defaultConfig } from '../src/config/config.js';
import { REMOTE_WRITE_HEADERS } from '../src/remote/write-request.js';
import { AdminClient, basicAuth } from '../src/testing/admin-client.js';
import { intOption } from './lib/cli.js';
import { percentile, runShards } from './lib/load.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { generateFleet, stepFleet } from './lib/node-exporter.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds, oursArgs, REPO_ROOT } from './lib/targets.js';
import { compress, encodeBatch, encodeLabelsBlob } from './lib/write-encoder.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';
import { freePort, makeTempDir, startServer } from '../test/peer/lib/server-process.js';

const SCRAPE_INTERVAL_MS = 15_000;
const CLUSTER = 'bench';
const INSTANCE = 'bench-instance';

/** QUERIES are the timed reads: PromQL (instant and fused range functions) and look-ups. */
const QUERIES: Array<{ name: string; path: (tMs: number) => string }> = [
  { name: 'sum by (cluster) (rate(node_cpu_seconds_total[1m]))', path: (t) => `query?${new URLSearchParams({ query: 'sum by (cluster) (rate(node_cpu_seconds_total[1m]))', time: String(t / 1000) })}` },
  { name: 'count(node_load1)', path: (t) => `query?${new URLSearchParams({ query: 'count(node_load1)', time: String(t / 1000) })}` },
  { name: 'topk(5, node_memory_MemAvailable_bytes)', path: (t) => `query?${new URLSearchParams({ query: 'topk(5, node_memory_MemAvailable_bytes)', time: String(t / 1000) })}` },
  {
    name: 'range avg_over_time(node_load1[1m])',
    path: (t) => `query_range?${new URLSearchParams({ query: 'avg(avg_over_time(node_load1[1m]))', start: String(t / 1000 - 60), end: String(t / 1000), step: '15' })}`,
  },
  { name: 'series node_load1', path: (t) => `series?${new URLSearchParams({ 'match[]': 'node_load1', start: String(t / 1000 - 120), end: String(t / 1000) })}` },
  { name: 'label/instance/values', path: (t) => `label/instance/values?${new URLSearchParams({ start: String(t / 1000 - 120), end: String(t / 1000) })}` },
  { name: 'labels', path: (t) => `labels?${new URLSearchParams({ start: String(t / 1000 - 120), end: String(t / 1000) })}` },
  { name: 'label/__name__/values', path: (t) => `label/__name__/values?${new URLSearchParams({ start: String(t / 1000 - 120), end: String(t / 1000) })}` },
];

interface Options {
  series: number;
  rounds: number;
  concurrency: number;
  batch: number;
  repeats: number;
  queryRuns: number;
  seed: number;
  out?: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      repeats: { type: 'string' },
      'query-runs': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    },
  });
  return {
    series: intOption('series', values.series ?? '20000', 1),
    rounds: intOption('rounds', values.rounds ?? '5', 1),
    concurrency: intOption('concurrency', values.concurrency ?? '8', 1),
    batch: intOption('batch', values.batch ?? '2000', 1),
    repeats: intOption('repeats', values.repeats ?? '2', 1),
    queryRuns: intOption('query-runs', values['query-runs'] ?? '20', 1),
    seed: intOption('seed', values.seed ?? '42', 0),
    ...(values.out !== undefined ? { out: values.out } : {}),
  };
}

type Mode = 'trust' | 'enterprise';

interface ModeResult {
  mode: Mode;
  samplesPerSec: number;
  pushP50: number;
  errors: number;
  /** queryMs holds each query's median latency. */
  queryMs: number[];
  /** pushCpuS is the server's CPU seconds (all threads) over the timed push rounds. */
  pushCpuS: number;
  /** queryCpuMs holds the server's CPU milliseconds per run of each query (mean over its runs). */
  queryCpuMs: number[];
}

/** encodeRounds encodes round 0 (warm-up) and the timed rounds, shard by shard. */
function encodeRounds(o: Options, firstTs: number): { warmup: Buffer[][]; timed: Buffer[][] } {
  const fleet = generateFleet(o.series, o.seed);
  const blobs = fleet.labels.map(encodeLabelsBlob);
  const rng = new Rng(o.seed ^ 0x5eed);
  const blocks = Math.ceil(o.series / o.batch);
  const warmup: Buffer[][] = Array.from({ length: o.concurrency }, () => []);
  const timed: Buffer[][] = Array.from({ length: o.concurrency }, () => []);
  for (let round = 0; round <= o.rounds; round++) {
    for (let b = 0; b < blocks; b++) {
      const body = compress(encodeBatch(blobs, fleet.value, b * o.batch, Math.min(o.series, (b + 1) * o.batch), firstTs + round * SCRAPE_INTERVAL_MS));
      (round === 0 ? warmup : timed)[b % o.concurrency]!.push(body);
    }
    stepFleet(fleet, rng);
  }
  return { warmup, timed };
}

async function runMode(mode: Mode, o: Options, firstTs: number): Promise<ModeResult> {
  const { warmup, timed } = encodeRounds(o, firstTs);
  const dir = await makeTempDir(`bench-auth-${mode}-`);
  const port = await freePort();
  const adminDir = join(dir, 'admin');
  const extra: string[] = [`-admin.client.filesystem.dir=${adminDir}`];
  let auth: Record<string, string> = {};
  if (mode === 'enterprise') {
    const adminToken = await runTokengen(defaultConfig({ 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': adminDir, 'log.level': 'warn' }), () => undefined);
    extra.push('-auth.type=enterprise', `-cluster-name=${CLUSTER}`);
    auth = { adminToken };
  }
  const proc = await startServer({ name: `ours-${mode}`, command: process.execPath, args: oursArgs(dir, port, extra), cwd: REPO_ROOT, port, readyPath: '/ready', readyTimeoutMs: 60_000, cleanup: [dir] });
  try {
    let headers: Record<string, string> = {};
    if (mode === 'enterprise') {
      const admin = new AdminClient(port, auth['adminToken']);
      await admin.instance(INSTANCE);
      // One label policy that every series of the fleet matches: the answers stay the same, the cost is measured.
      await admin.policy('bench-rw', ['metrics:read', 'metrics:write'], [{ instance: INSTANCE, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'RE', name: 'job', value: 'integrations/.*' }] }] }]);
      const token = await admin.token('bench-token', 'bench-rw');
      headers = { Authorization: basicAuth(INSTANCE, token) };
    }
    const target = { url: new URL(`http://127.0.0.1:${port}/api/v1/push`), headers: { ...REMOTE_WRITE_HEADERS, ...headers } };
    const w = await runShards(target, warmup);
    const cpu0 = await cpuSeconds(proc.pid);
    const t = await runShards(target, timed);
    const pushCpuS = (await cpuSeconds(proc.pid)) - cpu0;
    const pushed = o.series * o.rounds;
    const lastTs = firstTs + o.rounds * SCRAPE_INTERVAL_MS;
    const queryMs: number[] = [];
    const queryCpuMs: number[] = [];
    for (const q of QUERIES) {
      const times = new Float64Array(o.queryRuns);
      const qCpu0 = await cpuSeconds(proc.pid);
      for (let i = 0; i < o.queryRuns; i++) {
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/${q.path(lastTs)}`, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${mode} ${q.name}: HTTP ${res.status}`);
        times[i] = performance.now() - t0;
      }
      queryCpuMs.push((((await cpuSeconds(proc.pid)) - qCpu0) * 1000) / o.queryRuns);
      queryMs.push(percentile(times, 0.5));
    }
    return { mode, samplesPerSec: pushed / (t.wallMs / 1000), pushP50: percentile(t.latenciesMs, 0.5), errors: w.errors + t.errors, queryMs, pushCpuS, queryCpuMs };
  } finally {
    await proc.stop(20_000);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const o = parseOptions();
  const results: ModeResult[] = [];
  for (let r = 0; r < o.repeats; r++) {
    for (const mode of (r % 2 === 0 ? ['trust', 'enterprise'] : ['enterprise', 'trust']) as Mode[]) {
      process.stderr.write(`[${mode}] run ${r + 1}/${o.repeats}\n`);
      const firstTs = Math.floor(Date.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS - o.rounds * SCRAPE_INTERVAL_MS;
      results.push(await runMode(mode, o, firstTs));
    }
  }
  const by = (m: Mode): ModeResult[] => results.filter((x) => x.mode === m);
  const agg = (m: Mode): { sps: number; p50: number; errors: number; q: number[]; cpuPerM: number; qCpu: number[] } => ({
    sps: median(by(m).map((x) => x.samplesPerSec)),
    p50: median(by(m).map((x) => x.pushP50)),
    errors: by(m).reduce((n, x) => n + x.errors, 0),
    q: QUERIES.map((_, i) => median(by(m).map((x) => x.queryMs[i]!))),
    cpuPerM: median(by(m).map((x) => x.pushCpuS / ((o.series * o.rounds) / 1e6))),
    qCpu: QUERIES.map((_, i) => median(by(m).map((x) => x.queryCpuMs[i]!))),
  });
  const trust = agg('trust');
  const ent = agg('enterprise');
  const lines = [
    `### Enterprise auth vs trust (${new Date().toISOString().slice(0, 10)})`,
    '',
    `\`node dist/bench/auth.js ${process.argv.slice(2).join(' ')}\`: ${o.series} series, ${o.rounds} timed rounds, ${o.concurrency} in flight, ${o.batch} samples per request, ${o.repeats} fresh servers per mode alternated, each query ${o.queryRuns} times (medians). Enterprise: Basic auth with a GEM token whose realm has one label policy (\`job=~"integrations/.*"\`, matching every series).`,
    '',
    describeMachine(machineInfo(PROMETHEUS3.path)),
    '',
    'Wall clock (medians) and the server process\'s CPU time (user+system, all threads, from /proc): push CPU per million samples, query CPU per run.',
    '',
    '| | trust | enterprise + LBAC | ratio | target |',
    '| --- | ---: | ---: | ---: | --- |',
    `| push samples/s | ${Math.round(trust.sps).toLocaleString('en-US')} | ${Math.round(ent.sps).toLocaleString('en-US')} | ×${(ent.sps / trust.sps).toFixed(2)} | ≥ 0.95 |`,
    `| push p50 ms | ${trust.p50.toFixed(1)} | ${ent.p50.toFixed(1)} | ×${(ent.p50 / trust.p50).toFixed(2)} | |`,
    `| push server CPU s / 1M samples | ${trust.cpuPerM.toFixed(2)} | ${ent.cpuPerM.toFixed(2)} | ×${(ent.cpuPerM / trust.cpuPerM).toFixed(2)} | |`,
    ...QUERIES.map((q, i) => `| \`${q.name}\` ms (server CPU ms) | ${trust.q[i]!.toFixed(2)} (${trust.qCpu[i]!.toFixed(1)}) | ${ent.q[i]!.toFixed(2)} (${ent.qCpu[i]!.toFixed(1)}) | ×${(ent.q[i]! / trust.q[i]!).toFixed(2)} | ≤ 1.1 |`),
    `| errors | ${trust.errors} | ${ent.errors} | | 0 |`,
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (o.out !== undefined) await appendFile(o.out, '\n' + text);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
