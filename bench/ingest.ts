// ingest.ts is the remote-write ingestion benchmark: the same pre-encoded
// node_exporter-like WriteRequests are pushed into our server and into a
// reference Prometheus 3.x and VictoriaMetrics single-node, each started
// fresh, and samples/s, push latency,
// server CPU time and resident memory per series are compared.
//
//   npm run build && node dist/bench/ingest.js --series 100000
//
// Flags: --series N (100000), --rounds N timed rounds after the warm-up round
// (10), --concurrency N in-flight requests like remote-write shards (8),
// --batch N samples per request like max_samples_per_send (2000),
// --target all|both|ours,prometheus,victoriametrics (all: the three;
// VictoriaMetrics is built by `scripts/install-peers.sh victoriametrics`), --seed N, --out FILE (append the
// markdown report), --ours-arg FLAG (extra flag for our server, repeatable),
// --ours-node-arg ARG (extra node option for our server, e.g. --cpu-prof).

import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runShards, percentile, type PushStats } from './lib/load.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { generateFleet, stepFleet } from './lib/node-exporter.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds, startTarget, type RunningTarget, type TargetName } from './lib/targets.js';
import { compress, encodeBatch, encodeLabelsBlob, selfCheck } from './lib/write-encoder.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';
import { readRssBytes } from '../test/peer/lib/server-process.js';
import { intOption, targetsOption } from './lib/cli.js';

const SCRAPE_INTERVAL_MS = 15_000;
/** SPOT_METRIC is the metric whose samples are counted through PromQL after ingestion. */
const SPOT_METRIC = 'node_load1';

interface Options {
  series: number;
  rounds: number;
  concurrency: number;
  batch: number;
  targets: TargetName[];
  seed: number;
  out?: string;
  oursArgs: string[];
  oursNodeArgs: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      batch: { type: 'string', default: '2000' },
      target: { type: 'string', default: 'all' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      'ours-arg': { type: 'string', multiple: true, default: [] },
      'ours-node-arg': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  return {
    series: intOption('series', values.series, 1),
    rounds: intOption('rounds', values.rounds, 1),
    concurrency: intOption('concurrency', values.concurrency, 1),
    batch: intOption('batch', values.batch, 1),
    targets: targetsOption(values.target, ['ours', 'prometheus', 'victoriametrics']),
    seed: intOption('seed', values.seed, 0),
    out: values.out,
    oursArgs: values['ours-arg'] ?? [],
    oursNodeArgs: values['ours-node-arg'] ?? [],
  };
}

/** Workload is every pre-encoded request, per phase and shard. */
interface Workload {
  warmup: Buffer[][];
  timed: Buffer[][];
  samplesPerRound: number;
  lastTimestampMs: number;
  /** Series named SPOT_METRIC, for the PromQL spot check. */
  spotSeries: number;
  wireBytes: number;
  rawBytes: number;
  encodeMs: number;
}

/**
 * buildWorkload generates the fleet and encodes round 0 (warm-up, creates the
 * series) and the timed rounds. Request b of a round carries series
 * [b*batch, (b+1)*batch) and belongs to shard b % concurrency, so each shard
 * always sends the same series, round after round, in order.
 */
function buildWorkload(o: Options, firstTimestampMs: number): Workload {
  const t0 = performance.now();
  const fleet = generateFleet(o.series, o.seed);
  const blobs = fleet.labels.map(encodeLabelsBlob);
  selfCheck(fleet.labels, fleet.value, firstTimestampMs);
  const rng = new Rng(o.seed ^ 0x5eed);
  const blocks = Math.ceil(o.series / o.batch);
  const warmup: Buffer[][] = Array.from({ length: o.concurrency }, () => []);
  const timed: Buffer[][] = Array.from({ length: o.concurrency }, () => []);
  let wireBytes = 0;
  let rawBytes = 0;
  for (let round = 0; round <= o.rounds; round++) {
    const ts = firstTimestampMs + round * SCRAPE_INTERVAL_MS;
    for (let b = 0; b < blocks; b++) {
      const raw = encodeBatch(blobs, fleet.value, b * o.batch, Math.min(o.series, (b + 1) * o.batch), ts);
      const body = compress(raw);
      if (round > 0) {
        wireBytes += body.length;
        rawBytes += raw.length;
      }
      (round === 0 ? warmup : timed)[b % o.concurrency]!.push(body);
    }
    stepFleet(fleet, rng);
  }
  const spotSeries = fleet.labels.filter((l) => l.some(([n, v]) => n === '__name__' && v === SPOT_METRIC)).length;
  return {
    warmup,
    timed,
    samplesPerRound: o.series,
    lastTimestampMs: firstTimestampMs + o.rounds * SCRAPE_INTERVAL_MS,
    spotSeries,
    wireBytes,
    rawBytes,
    encodeMs: performance.now() - t0,
  };
}

/** TargetResult is what one system under test measured. */
interface TargetResult {
  name: TargetName;
  warmup: PushStats;
  timed: PushStats;
  timedSamples: number;
  warmupSamples: number;
  cpuTimedS: number;
  cpuWarmupS: number;
  rssIdle: number;
  rssWarm: number;
  rssAfter: number;
  headSeries: number | undefined;
  appendedSamples: number | undefined;
  spotCount: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runTarget(name: TargetName, o: Options, w: Workload): Promise<TargetResult> {
  process.stderr.write(`[${name}] starting\n`);
  const target: RunningTarget = await startTarget(name, o.oursArgs, o.oursNodeArgs);
  try {
    await sleep(2000);
    const pid = target.proc.pid;
    const rssIdle = await readRssBytes(pid);

    process.stderr.write(`[${name}] warm-up round: ${o.series} new series\n`);
    const cpu0 = await cpuSeconds(pid);
    const warmup = await runShards(target.push, w.warmup);
    const cpu1 = await cpuSeconds(pid);
    const rssWarm = await readRssBytes(pid);
    process.stderr.write(`[${name}] warm-up ${(warmup.wallMs / 1000).toFixed(1)} s, ${warmup.errors} errors ${warmup.firstError ?? ''}\n`);

    process.stderr.write(`[${name}] ${o.rounds} timed rounds\n`);
    const timed = await runShards(target.push, w.timed);
    const cpu2 = await cpuSeconds(pid);
    process.stderr.write(`[${name}] timed ${(timed.wallMs / 1000).toFixed(1)} s, ${timed.errors} errors ${timed.firstError ?? ''}\n`);

    // Let background work (chunk mmap, GC) settle before reading memory.
    await sleep(3000);
    const rssAfter = await readRssBytes(pid);
    const headSeries = await target.headSeries();
    const appendedSamples = await target.appendedSamples();
    const window = `${(o.rounds + 2) * (SCRAPE_INTERVAL_MS / 1000)}s`;
    const spotCount = await target.instantQuery(`sum(count_over_time(${SPOT_METRIC}[${window}]))`, w.lastTimestampMs + 1000);
    return {
      name,
      warmup,
      timed,
      warmupSamples: w.samplesPerRound,
      timedSamples: w.samplesPerRound * o.rounds,
      cpuWarmupS: cpu1 - cpu0,
      cpuTimedS: cpu2 - cpu1,
      rssIdle,
      rssWarm,
      rssAfter,
      headSeries,
      appendedSamples,
      spotCount,
    };
  } finally {
    await target.proc.stop(20_000);
  }
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const mib = (b: number): string => fmt(b / 2 ** 20, 0);

interface Derived {
  samplesPerSec: number;
  p50: number;
  p99: number;
  grossPerSeries: number;
  netPerSeries: number;
  cpuPerMillion: number;
}

function derive(r: TargetResult, series: number): Derived {
  return {
    samplesPerSec: r.timedSamples / (r.timed.wallMs / 1000),
    p50: percentile(r.timed.latenciesMs, 50),
    p99: percentile(r.timed.latenciesMs, 99),
    grossPerSeries: r.rssAfter / series,
    netPerSeries: (r.rssAfter - r.rssIdle) / series,
    cpuPerMillion: r.cpuTimedS / (r.timedSamples / 1e6),
  };
}

function report(o: Options, w: Workload, results: TargetResult[], machine: string, command: string): string {
  const lines: string[] = [];
  lines.push(`### Ingestion: ${fmtInt(o.series)} active series, ${o.rounds} timed rounds, ${o.concurrency} shards, ${o.batch} samples/request`);
  lines.push('');
  lines.push(machine);
  lines.push(`- command: \`${command}\``);
  lines.push(
    `- workload: node_exporter-like series, 1 sample per series per round (15s apart), ` +
      `${fmt(w.wireBytes / (o.series * o.rounds), 1)} wire bytes/sample snappy (${fmt(w.rawBytes / (o.series * o.rounds), 1)} raw), ` +
      `pre-encoded in ${fmt(w.encodeMs / 1000, 1)} s`,
  );
  lines.push('');
  lines.push(
    '| target | samples/s | p50 ms | p99 ms | errors | warm-up samples/s (series creation) | server CPU s / 1M samples | RSS idle MiB | RSS after warm-up MiB | RSS after MiB | gross B/series | net B/series | check: head series / appended samples / PromQL count |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const derived = new Map<TargetName, Derived>();
  for (const r of results) {
    const d = derive(r, o.series);
    derived.set(r.name, d);
    const errors = r.warmup.errors + r.timed.errors;
    const verdict = (got: number | undefined, want: number): string =>
      got === undefined ? 'n/a' : got === want ? `${fmtInt(got)} ✓` : `${fmtInt(got)} ✗ (want ${fmtInt(want)})`;
    const check = [
      verdict(r.headSeries, o.series),
      verdict(r.appendedSamples, o.series * (o.rounds + 1)),
      verdict(r.spotCount, w.spotSeries * (o.rounds + 1)),
    ].join(' / ');
    lines.push(
      `| ${r.name} | ${fmtInt(d.samplesPerSec)} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${errors} | ` +
        `${fmtInt(r.warmupSamples / (r.warmup.wallMs / 1000))} | ${fmt(d.cpuPerMillion, 2)} | ${mib(r.rssIdle)} | ${mib(r.rssWarm)} | ${mib(r.rssAfter)} | ` +
        `${fmtInt(d.grossPerSeries)} | ${fmtInt(d.netPerSeries)} | ${check} |`,
    );
  }
  const ours = derived.get('ours');
  for (const refName of ['prometheus', 'victoriametrics'] as const) {
    const ref = derived.get(refName);
    if (!ours || !ref) continue;
    lines.push('');
    lines.push(
      `ours/${refName}: samples/s ×${fmt(ours.samplesPerSec / ref.samplesPerSec, 2)} (higher is better), ` +
        `p99 latency ×${fmt(ours.p99 / ref.p99, 2)}, CPU per sample ×${fmt(ours.cpuPerMillion / ref.cpuPerMillion, 2)}, ` +
        `net bytes/series ×${fmt(ours.netPerSeries / ref.netPerSeries, 2)}, gross bytes/series ×${fmt(ours.grossPerSeries / ref.grossPerSeries, 2)} (lower is better)`,
    );
  }
  for (const r of results) {
    const errs = [...r.warmup.statusCounts, ...r.timed.statusCounts].filter(([s]) => s < 200 || s >= 300);
    if (errs.length > 0) lines.push(`- ${r.name}: non-2xx statuses ${errs.map(([s, n]) => `${s}×${n}`).join(', ')}; first: ${r.timed.firstError ?? r.warmup.firstError}`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions();
  const command = `node dist/bench/ingest.js ${process.argv.slice(2).join(' ')}`.trim();
  const machine = describeMachine(machineInfo(PROMETHEUS3.path));
  // Timestamps end at "now" so both systems take them as fresh samples.
  const firstTs = Math.floor(Date.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS - o.rounds * SCRAPE_INTERVAL_MS;
  process.stderr.write(`encoding ${o.rounds + 1} rounds of ${o.series} series...\n`);
  const w = buildWorkload(o, firstTs);
  process.stderr.write(`encoded in ${(w.encodeMs / 1000).toFixed(1)} s, ${(w.wireBytes / 2 ** 20).toFixed(1)} MiB timed payload\n`);

  const results: TargetResult[] = [];
  for (const name of o.targets) {
    try {
      results.push(await runTarget(name, o, w));
    } catch (e) {
      process.stderr.write(`[${name}] failed: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  const text = report(o, w, results, machine, command);
  process.stdout.write(text);
  if (o.out) await appendFile(o.out, text + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
