// query.ts is the PromQL range-query benchmark: the same day of node_exporter-
// like series plus an application counter and a classic histogram is
// remote-written, oldest first, into our server and into a reference
// Prometheus; then a dashboard-like mix of range queries (last 1h, 6h, 24h,
// steps as Grafana picks them) runs against both, interleaved query by query.
// It reports median/p99 latency, ours/Prometheus ratios, samples scanned per
// second (wall and per CPU-second of the server) and checks that both systems
// return the same series and values.
//
//   npm run build && node dist/bench/query.js --series 10000 --hours 24
//
// Flags: --series N (10000), --hours N of data (24), --repeat N timed runs per
// query after 1 warm-up (10), --concurrency N push shards (8), --batch N
// samples per push (2000), --wave N scrape rounds per push wave (40),
// --target ours|prometheus|both (both), --seed N, --out FILE (append the
// markdown report), --hold (keep both servers up afterwards), --ours-arg FLAG, --ours-node-arg ARG (repeatable, e.g.
// --ours-node-arg=--cpu-prof).

import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { COUNTER_NAME, HISTOGRAM_NAME, HISTOGRAM_SERIES, generateAppFamilies, stepAppFamilies } from './lib/app-series.js';
import { percentile, runWaves, type PushStats } from './lib/load.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { generateFleet, stepFleet } from './lib/node-exporter.js';
import { Rng } from './lib/prng.js';
import { compareMatrices, parseMatrix, QueryClient, REL_TOLERANCE, type Comparison, type Matrix, type RangeQuery } from './lib/query-client.js';
import { cpuSeconds, firstMetric, REPO_ROOT, startOurs, startReference, type RunningTarget, type TargetName } from './lib/targets.js';
import { compress, encodeBatch, encodeLabelsBlob, selfCheck } from './lib/write-encoder.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';
import { intOption, targetsOption } from './lib/cli.js';

export const SCRAPE_INTERVAL_MS = 15_000;
/**
 * SCRAPE_OFFSET_MS puts sample timestamps off the queries' step grid, as real
 * scrapes are: no sample sits exactly on a range boundary, so Prometheus 2.x's
 * closed [t-5m, t] and 3.x's left-open (t-5m, t] windows select the same samples.
 */
export const SCRAPE_OFFSET_MS = 3_217;
const HOUR_MS = 3_600_000;
const RATE_WINDOW_MS = 300_000;

const X = COUNTER_NAME;
const B = `${HISTOGRAM_NAME}_bucket`;
/** THROUGHPUT_QUERY is the query whose samples scanned per second are reported. */
const THROUGHPUT_QUERY = `sum(rate(${X}[5m]))`;
/**
 * QUERIES is the dashboard mix. leftOpen, where given, is the same query
 * written so that Prometheus 2.42 (closed windows [t-r, t]) computes what
 * Prometheus 3 and our engine (left-open windows (t-r, t]) do: the inner
 * steps of a subquery fall on its boundary, so the two versions differ there.
 */
export const QUERIES: Array<{ query: string; leftOpen?: string }> = [
  { query: `sum by (job) (rate(${X}[5m]))` },
  { query: `histogram_quantile(0.99, sum by (le) (rate(${B}[5m])))` },
  { query: `topk(10, rate(${X}[5m]))` },
  { query: `max_over_time(rate(${X}[5m])[1h:1m])`, leftOpen: `max_over_time(rate(${X}[5m])[59m59s999ms:1m])` },
  { query: `rate(${X}[5m]) / on(instance) group_left sum by (instance) (rate(${X}[5m]))` },
  { query: THROUGHPUT_QUERY },
];
/** RANGES are the dashboard time ranges with the step Grafana picks for a ~1000 px panel. */
const RANGES = [
  { label: '1h', rangeMs: HOUR_MS, stepMs: 15_000 },
  { label: '6h', rangeMs: 6 * HOUR_MS, stepMs: 60_000 },
  { label: '24h', rangeMs: 24 * HOUR_MS, stepMs: 300_000 },
];

export interface Options {
  series: number;
  hours: number;
  repeat: number;
  concurrency: number;
  batch: number;
  wave: number;
  targets: TargetName[];
  seed: number;
  out?: string;
  /** hold keeps the targets running after the report, for ad-hoc queries, until SIGINT. */
  hold: boolean;
  oursArgs: string[];
  oursNodeArgs: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '10000' },
      hours: { type: 'string', default: '24' },
      repeat: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      batch: { type: 'string', default: '2000' },
      wave: { type: 'string', default: '40' },
      target: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      hold: { type: 'boolean', default: false },
      'ours-arg': { type: 'string', multiple: true, default: [] },
      'ours-node-arg': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  return {
    series: intOption('series', values.series, 100),
    hours: intOption('hours', values.hours, 1),
    repeat: intOption('repeat', values.repeat, 1),
    concurrency: intOption('concurrency', values.concurrency, 1),
    batch: intOption('batch', values.batch, 1),
    wave: intOption('wave', values.wave, 1),
    targets: targetsOption(values.target),
    seed: intOption('seed', values.seed, 0),
    out: values.out,
    hold: values.hold ?? false,
    oursArgs: values['ours-arg'] ?? [],
    oursNodeArgs: values['ours-node-arg'] ?? [],
  };
}

/** Workload is the generated day, pre-encoded as push waves. */
export interface Workload {
  /** waves[w][shard] are the bodies that shard sends in wave w, in order. */
  waves: Buffer[][][];
  rounds: number;
  firstTs: number;
  lastTs: number;
  counterSeries: number;
  histograms: number;
  nodeSeries: number;
  wireBytes: number;
  encodeMs: number;
}

/**
 * buildWorkload generates the series and encodes every scrape round. Request
 * b of a round carries series [b*batch, (b+1)*batch) and belongs to shard
 * b % concurrency; rounds are grouped into waves of o.wave rounds.
 */
export function buildWorkload(o: Options, lastTs: number): Workload {
  const t0 = performance.now();
  const counterSeries = Math.max(20, Math.round(o.series * 0.2));
  const histograms = Math.max(1, Math.round((o.series * 0.1) / HISTOGRAM_SERIES));
  const nodeSeries = o.series - counterSeries - histograms * HISTOGRAM_SERIES;
  if (nodeSeries < 0) throw new Error(`--series ${o.series} is too small`);
  const app = generateAppFamilies(counterSeries, histograms, o.seed);
  const fleet = generateFleet(nodeSeries, o.seed);
  const labels = [...app.labels, ...fleet.labels];
  const blobs = labels.map(encodeLabelsBlob);
  const values = new Float64Array(o.series);
  const rounds = o.hours * (HOUR_MS / SCRAPE_INTERVAL_MS);
  const firstTs = lastTs - (rounds - 1) * SCRAPE_INTERVAL_MS;
  selfCheck(labels, values, firstTs);
  const rng = new Rng(o.seed ^ 0x5eed);
  const blocks = Math.ceil(o.series / o.batch);
  const waves: Buffer[][][] = [];
  let wireBytes = 0;
  for (let round = 0; round < rounds; round++) {
    if (round % o.wave === 0) waves.push(Array.from({ length: Math.min(o.concurrency, blocks) }, () => []));
    const wave = waves[waves.length - 1]!;
    values.set(app.value, 0);
    values.set(fleet.value, app.value.length);
    const ts = firstTs + round * SCRAPE_INTERVAL_MS;
    for (let b = 0; b < blocks; b++) {
      const body = compress(encodeBatch(blobs, values, b * o.batch, Math.min(o.series, (b + 1) * o.batch), ts));
      wireBytes += body.length;
      wave[b % wave.length]!.push(body);
    }
    stepAppFamilies(app, rng);
    stepFleet(fleet, rng);
    if (round % 960 === 959) process.stderr.write(`  encoded ${(round + 1) / 240} h\n`);
  }
  return { waves, rounds, firstTs, lastTs, counterSeries, histograms, nodeSeries, wireBytes, encodeMs: performance.now() - t0 };
}

/** IngestResult is what pushing the day into one target measured. */
export interface IngestResult {
  stats: PushStats;
  cpuS: number;
  settleMs: number;
  appended: number | undefined;
  counterPoints: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * settle waits until the target is done with background work after the push:
 * Prometheus's head no longer compactable (span <= 1.5 × 2h, compaction runs
 * on a one-minute tick), then the process idle (< 3% of a core) for 3 s.
 */
async function settle(t: RunningTarget, hours: number): Promise<number> {
  const t0 = Date.now();
  if (t.name === 'prometheus' && hours > 3) {
    while (Date.now() - t0 < 180_000) {
      const maxT = await firstMetric(t.proc.baseUrl, ['prometheus_tsdb_head_max_time']);
      const minT = await firstMetric(t.proc.baseUrl, ['prometheus_tsdb_head_min_time']);
      if (maxT !== undefined && minT !== undefined && maxT - minT <= 3 * HOUR_MS) break;
      await sleep(2000);
    }
  }
  let quiet = 0;
  let cpu = await cpuSeconds(t.proc.pid);
  while (quiet < 3 && Date.now() - t0 < 240_000) {
    await sleep(1000);
    const now = await cpuSeconds(t.proc.pid);
    quiet = now - cpu < 0.03 ? quiet + 1 : 0;
    cpu = now;
  }
  return Date.now() - t0;
}

export async function ingest(t: RunningTarget, o: Options, w: Workload): Promise<IngestResult> {
  process.stderr.write(`[${t.name}] pushing ${w.rounds} rounds of ${o.series} series in ${w.waves.length} waves\n`);
  const cpu0 = await cpuSeconds(t.proc.pid);
  const stats = await runWaves(t.push, w.waves);
  const cpuS = (await cpuSeconds(t.proc.pid)) - cpu0;
  process.stderr.write(`[${t.name}] pushed in ${(stats.wallMs / 1000).toFixed(1)} s, ${stats.errors} errors ${stats.firstError ?? ''}\n`);
  const settleMs = await settle(t, o.hours);
  process.stderr.write(`[${t.name}] settled in ${(settleMs / 1000).toFixed(1)} s\n`);
  const appended = await t.appendedSamples();
  const counterPoints = await t.instantQuery(`sum(count_over_time(${X}[${o.hours}h]))`, w.lastTs + 1000);
  return { stats, cpuS, settleMs, appended, counterPoints };
}

/** Sampled is one target's measurement of one query over one range. */
interface Sampled {
  latenciesMs: Float64Array;
  cpuS: number;
  errors: number;
  result: Matrix;
}

/** Measured is one query over one range, on every target. */
interface Measured {
  query: string;
  range: (typeof RANGES)[number];
  rq: RangeQuery;
  /** Steps in the range (points of a series present everywhere). */
  steps: number;
  /** Samples sum(rate(x[5m])) reads, from the generated timestamps: each step's window counted in full. */
  scanned: number;
  /** Distinct counter samples in [start-5m, end]: what has to be decoded at least once. */
  distinct: number;
  byTarget: Map<TargetName, Sampled>;
  check?: Comparison;
  /** check against Prometheus's answer to the left-open equivalent, when check failed and there is one. */
  leftOpenCheck?: { query: string; comparison?: Comparison; error?: string };
}

/** scannedSamples counts the counter samples inside [t-5m, t] over every step, for every counter series. */
function scannedSamples(w: Workload, rq: RangeQuery): number {
  let perSeries = 0;
  for (let t = rq.startMs; t <= rq.endMs; t += rq.stepMs) {
    const hi = Math.min(w.rounds - 1, Math.floor((t - w.firstTs) / SCRAPE_INTERVAL_MS));
    const lo = Math.max(0, Math.ceil((t - RATE_WINDOW_MS - w.firstTs) / SCRAPE_INTERVAL_MS));
    if (hi >= lo) perSeries += hi - lo + 1;
  }
  return perSeries * w.counterSeries;
}

/** pct is the percentile of the runs that completed. */
const pct = (ms: Float64Array, p: number): number => percentile(ms.filter((x) => !Number.isNaN(x)), p);

/** exitNote describes a target's process if it has exited, with the end of its output. */
function exitNote(t: RunningTarget): string | undefined {
  const c = t.proc.child;
  if (c.exitCode === null && c.signalCode === null) return undefined;
  return `${t.name} exited (code ${c.exitCode}, signal ${c.signalCode}); last output: ${t.proc.output().slice(-600).replaceAll('\n', ' ⏎ ')}`;
}

/** distinctSamples counts the counter samples in [start-5m, end], over every counter series. */
function distinctSamples(w: Workload, rq: RangeQuery): number {
  const hi = Math.min(w.rounds - 1, Math.floor((rq.endMs - w.firstTs) / SCRAPE_INTERVAL_MS));
  const lo = Math.max(0, Math.ceil((rq.startMs - RATE_WINDOW_MS - w.firstTs) / SCRAPE_INTERVAL_MS));
  return Math.max(0, hi - lo + 1) * w.counterSeries;
}

async function measure(t: RunningTarget, client: QueryClient, rq: RangeQuery, repeat: number): Promise<Sampled> {
  const latenciesMs = new Float64Array(repeat).fill(NaN);
  const failed = (e: unknown): Sampled => ({
    latenciesMs,
    cpuS: NaN,
    errors: repeat,
    result: { ok: false, error: `${(e as Error).message}${exitNote(t) ? `; ${exitNote(t)}` : ''}` },
  });
  const dead = exitNote(t);
  if (dead) return failed(new Error('not run'));
  // The warm-up run's answer is the one checked; Prometheus's adds its own sample count.
  let result: Matrix;
  try {
    result = parseMatrix(await client.queryRange(rq, t.name === 'prometheus' ? { stats: 'all' } : {}));
  } catch (e) {
    return failed(e);
  }
  let errors = 0;
  const cpu0 = await cpuSeconds(t.proc.pid);
  for (let i = 0; i < repeat; i++) {
    try {
      const a = await client.queryRange(rq);
      latenciesMs[i] = a.ms;
      if (a.status !== 200) errors++;
    } catch (e) {
      errors++;
      if (exitNote(t)) return failed(e);
    }
  }
  const cpuS = (await cpuSeconds(t.proc.pid)) - cpu0;
  return { latenciesMs, cpuS, errors, result };
}

async function runQueries(targets: RunningTarget[], o: Options, w: Workload, retries: Map<TargetName, number>): Promise<Measured[]> {
  const clients = new Map(targets.map((t) => [t.name, new QueryClient(t.queryApi)] as const));
  const out: Measured[] = [];
  try {
    for (const range of RANGES.filter((r) => r.rangeMs <= o.hours * HOUR_MS)) {
      // Grafana aligns the range to the step.
      const endMs = Math.floor(w.lastTs / range.stepMs) * range.stepMs;
      for (const { query, leftOpen } of QUERIES) {
        const rq: RangeQuery = { query, startMs: endMs - range.rangeMs, endMs, stepMs: range.stepMs };
        const m: Measured = {
          query,
          range,
          rq,
          steps: range.rangeMs / range.stepMs + 1,
          scanned: scannedSamples(w, rq),
          distinct: distinctSamples(w, rq),
          byTarget: new Map(),
        };
        for (const t of targets) {
          const s = await measure(t, clients.get(t.name)!, rq, o.repeat);
          m.byTarget.set(t.name, s);
          process.stderr.write(
            `[${t.name}] ${range.label} ${query}: median ${pct(s.latenciesMs, 50).toFixed(1)} ms` +
              `${s.result.ok ? '' : ` ERROR ${s.result.error.slice(0, 200)}`}\n`,
          );
        }
        const ours = m.byTarget.get('ours')?.result;
        const ref = m.byTarget.get('prometheus')?.result;
        if (ours?.ok && ref?.ok) m.check = compareMatrices(ours.series, ref.series, query.startsWith('topk('));
        if (ours?.ok && m.check && !m.check.equal && leftOpen !== undefined) {
          const alt = parseMatrix(await clients.get('prometheus')!.queryRange({ ...rq, query: leftOpen }));
          m.leftOpenCheck = alt.ok ? { query: leftOpen, comparison: compareMatrices(ours.series, alt.series) } : { query: leftOpen, error: alt.error };
        }
        out.push(m);
      }
    }
  } finally {
    for (const [name, c] of clients) {
      retries.set(name, c.retries);
      c.close();
    }
  }
  return out;
}

const fmtInt = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const fmtRate = (n: number): string => (Number.isFinite(n) ? `${fmt(n / 1e6, 1)}M` : 'n/a');

function verdict(got: number | undefined, want: number): string {
  return got === undefined ? 'n/a' : got === want ? `${fmtInt(got)} ✓` : `${fmtInt(got)} ✗ (want ${fmtInt(want)})`;
}

function describeComparison(c: Comparison): string {
  const parts = [
    c.missing > 0 ? `${c.missing} missing` : '',
    c.extra > 0 ? `${c.extra} extra` : '',
    c.timestampDiffs > 0 ? `${c.timestampDiffs} with other timestamps` : '',
    c.valueDiffs > 0 ? `${c.valueDiffs} values differ (max rel ${c.maxRelDiff.toExponential(1)})` : '',
    c.ties > 0 ? `${c.ties} points tied for k-th place chosen differently` : '',
  ].filter((s) => s !== '');
  return parts.join(', ');
}

function checkCell(m: Measured): string {
  const bad = [...m.byTarget].filter(([, s]) => !s.result.ok).map(([n]) => `${n} failed`);
  if (bad.length > 0) return `✗ ${bad.join(', ')}`;
  const c = m.check;
  if (!c) return 'n/a';
  if (c.equal) return c.ties > 0 ? `✓ (${c.ties} points tied for k-th place chosen differently)` : '✓';
  const lo = m.leftOpenCheck;
  if (lo?.comparison?.equal) return `≠ 2.42 (${describeComparison(c)}); ✓ against the left-open equivalent \`${lo.query}\``;
  return `✗ ${describeComparison(c)}`;
}

function seriesCount(s: Sampled | undefined): string {
  if (!s) return '';
  return s.result.ok ? String(s.result.series.size) : 'err';
}

interface RunInfo {
  machine: string;
  command: string;
  loadEnd: number[];
  wallS: number;
  /** Queries re-sent after the server closed a kept-alive connection. */
  retries: Map<TargetName, number>;
}

function report(o: Options, w: Workload, ingests: Map<TargetName, IngestResult>, ms: Measured[], info: RunInfo): string {
  const L: string[] = [];
  const total = w.rounds * o.series;
  L.push(`### Query: ${fmtInt(o.series)} series × ${o.hours} h at 15 s, ${o.repeat} runs per query after 1 warm-up`);
  L.push('');
  L.push(info.machine);
  L.push(`- load average at end: ${info.loadEnd.map((x) => x.toFixed(2)).join(' ')}; whole run ${fmt(info.wallS / 60, 1)} min`);
  L.push(`- command: \`${info.command}\``);
  L.push(
    `- data: ${fmtInt(w.counterSeries)} series of \`${X}\` (job/instance/method/code), ${fmtInt(w.histograms)} histograms ` +
      `\`${HISTOGRAM_NAME}\` (${HISTOGRAM_SERIES} series each: 12 \`le\` buckets, _sum, _count), ${fmtInt(w.nodeSeries)} node_exporter-like series; ` +
      `${fmtInt(w.rounds)} scrapes per series, timestamps ${SCRAPE_OFFSET_MS} ms off the 15 s grid; ${fmtInt(total)} samples, ` +
      `${fmt(w.wireBytes / 2 ** 20, 0)} MiB snappy, pre-encoded in ${fmt(w.encodeMs / 1000, 1)} s; pushed oldest first in waves of ${o.wave} scrapes ` +
      `(${o.concurrency} shards, ${o.batch} samples/request)`,
  );
  L.push('');
  L.push('| target | push wall s | samples/s | push errors | server CPU s | settle s | check: appended samples / `count_over_time` of x |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of ingests) {
    L.push(
      `| ${name} | ${fmt(r.stats.wallMs / 1000)} | ${fmtInt(total / (r.stats.wallMs / 1000))} | ${r.stats.errors} | ${fmt(r.cpuS)} | ${fmt(r.settleMs / 1000)} | ` +
        `${verdict(r.appended, total)} / ${verdict(r.counterPoints, w.counterSeries * w.rounds)} |`,
    );
    if (r.stats.errors > 0) L.push(`- ${name}: first push error: ${r.stats.firstError}`);
  }
  L.push('');
  L.push(
    `Latency is from sending the request to the last byte of the JSON answer (client on the same machine). ` +
      `With ${o.repeat} runs the p99 is the slowest run. Result check: ours against Prometheus on the warm-up answer, ` +
      `same series and timestamps, values within ${REL_TOLERANCE} relative. CPU ms per query is the server's CPU time ` +
      `(all threads, /proc/<pid>/stat, 10 ms ticks) over the ${o.repeat} timed runs, divided by ${o.repeat}.`,
  );
  L.push('');
  L.push('| query | range, step | ours median ms | ours p99 ms | ours CPU ms/query | prom median ms | prom p99 ms | prom CPU ms/query | ours/prom median | ours/prom CPU | series ours / prom | same result |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const m of ms) {
    const ours = m.byTarget.get('ours');
    const ref = m.byTarget.get('prometheus');
    const med = (s: Sampled | undefined): number => (s ? pct(s.latenciesMs, 50) : NaN);
    const p99 = (s: Sampled | undefined): number => (s ? pct(s.latenciesMs, 99) : NaN);
    const cpuMs = (s: Sampled | undefined): number => (s ? (s.cpuS * 1000) / o.repeat : NaN);
    const errs = (s: Sampled | undefined): string => (s && s.errors > 0 ? ` (${s.errors} errors)` : '');
    L.push(
      `| \`${m.query}\` | ${m.range.label}, ${m.range.stepMs / 1000}s | ${fmt(med(ours))}${errs(ours)} | ${fmt(p99(ours))} | ${fmt(cpuMs(ours))} | ` +
        `${fmt(med(ref))}${errs(ref)} | ${fmt(p99(ref))} | ${fmt(cpuMs(ref))} | ` +
        `×${fmt(med(ours) / med(ref), 2)} | ×${fmt(cpuMs(ours) / cpuMs(ref), 2)} | ${seriesCount(ours)} / ${seriesCount(ref)} | ${checkCell(m)} |`,
    );
  }
  L.push('');
  L.push(
    `Samples scanned by \`${THROUGHPUT_QUERY}\`: counter series × samples in each step's 5m window, summed over the steps ` +
      `(computed from the generated timestamps; Prometheus's own \`totalQueryableSamples\` from \`stats=all\` alongside). ` +
      `Windows overlap when the step is shorter than 5m, so a distinct sample is scanned up to 20 times (1h) or 5 times (6h). ` +
      `Per CPU-second divides by the server's CPU time (all threads, /proc/<pid>/stat) over the ${o.repeat} timed runs.`,
  );
  L.push('');
  L.push('| range, step | samples scanned per query (Prometheus stats) | distinct samples per query | ours samples/s (median) | ours samples/CPU-s | prom samples/s (median) | prom samples/CPU-s | ours/prom samples/s | ours/prom per CPU-s |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of ms.filter((x) => x.query === THROUGHPUT_QUERY)) {
    const ours = m.byTarget.get('ours');
    const ref = m.byTarget.get('prometheus');
    const wall = (s: Sampled | undefined): number => (s && s.result.ok ? m.scanned / (pct(s.latenciesMs, 50) / 1000) : NaN);
    const perCpu = (s: Sampled | undefined): number => (s && s.result.ok && s.cpuS > 0 ? (m.scanned * o.repeat) / s.cpuS : NaN);
    const stats = ref?.result.ok ? ref.result.totalQueriedSamples : undefined;
    L.push(
      `| ${m.range.label}, ${m.range.stepMs / 1000}s | ${fmtInt(m.scanned)} (${fmtInt(stats)}) | ${fmtInt(m.distinct)} | ${fmtRate(wall(ours))} | ${fmtRate(perCpu(ours))} | ` +
        `${fmtRate(wall(ref))} | ${fmtRate(perCpu(ref))} | ×${fmt(wall(ours) / wall(ref), 2)} | ×${fmt(perCpu(ours) / perCpu(ref), 2)} |`,
    );
  }
  const cpuTotal = (n: TargetName): number => ms.reduce((s, m) => s + (m.byTarget.get(n)?.cpuS ?? 0), 0);
  L.push('');
  L.push(`Server CPU over all timed query runs: ${o.targets.map((n) => `${n} ${fmt(cpuTotal(n), 1)} s`).join(', ')}.`);
  L.push(`Queries re-sent on a fresh connection because the server had closed the idle kept-alive one: ${o.targets.map((n) => `${n} ${info.retries.get(n) ?? 0}`).join(', ')}.`);
  const problems = ms.filter((m) => checkCell(m).startsWith('✗'));
  if (problems.length > 0) {
    L.push('');
    L.push('Differences and failures (first of each):');
    for (const m of problems) {
      const failed = [...m.byTarget].filter(([, s]) => !s.result.ok);
      const what = failed.length > 0 ? failed.map(([n, s]) => `${n}: ${s.result.ok ? '' : s.result.error.slice(0, 300)}`).join('; ') : m.check?.example;
      L.push(`- \`${m.query}\` ${m.range.label}: ${what}`);
    }
  }
  L.push('');
  return L.join('\n');
}

/**
 * buildInfo names the build under test: the checkout's commit, whether the
 * tree has local changes, and when dist/ and the native addon were built
 * (others may rebuild a shared tree while a run is going).
 */
function buildInfo(): string {
  const mtime = (p: string): string => {
    try {
      return statSync(join(REPO_ROOT, p)).mtime.toISOString();
    } catch {
      return 'missing';
    }
  };
  let commit = 'unknown';
  try {
    const git = (args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--untracked-files=no']) === '' ? '' : ' + local changes'}`;
  } catch {
    // not a git checkout
  }
  return `- build: ${commit}; dist/src/main.js built ${mtime('dist/src/main.js')}, native addon built ${mtime('native/napi/tsdb.linux-x64-gnu.node')}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const o = parseOptions();
  const command = `node dist/bench/query.js ${process.argv.slice(2).join(' ')}`.trim();
  const machine = `${describeMachine(machineInfo(PROMETHEUS3.path))}\n${buildInfo()}`;
  // The last scrape is just before now, so both systems take the day as recent.
  const lastTs = Math.floor(Date.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS - SCRAPE_INTERVAL_MS + SCRAPE_OFFSET_MS;
  process.stderr.write(`encoding ${o.hours} h of ${o.series} series...\n`);
  const w = buildWorkload(o, lastTs);
  process.stderr.write(`encoded in ${(w.encodeMs / 1000).toFixed(1)} s, ${(w.wireBytes / 2 ** 20).toFixed(0)} MiB\n`);

  const targets: RunningTarget[] = [];
  const ingests = new Map<TargetName, IngestResult>();
  try {
    for (const name of o.targets) {
      process.stderr.write(`[${name}] starting\n`);
      const t = name === 'ours' ? await startOurs(o.oursArgs, o.oursNodeArgs) : await startReference();
      targets.push(t);
      await sleep(1000);
      ingests.set(name, await ingest(t, o, w));
    }
    w.waves = []; // let the encoded day go before querying
    const retries = new Map<TargetName, number>();
    const measured = await runQueries(targets, o, w, retries);
    const text = report(o, w, ingests, measured, { machine, command, loadEnd: os.loadavg(), wallS: (Date.now() - started) / 1000, retries });
    process.stdout.write(text);
    if (o.out) await appendFile(o.out, text + '\n');
    if (o.hold) {
      process.stderr.write(`holding (SIGINT to stop): ${targets.map((t) => `${t.name} ${t.queryApi}`).join(', ')}\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    for (const t of targets) await t.proc.stop(20_000);
  }
}

// Run only as the program (bench/query-load.ts imports the workload from here).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
