// histograms.ts is the native-histogram ingestion benchmark: the same
// pre-encoded remote-write requests of integer native histograms (schema 3,
// a few dozen buckets each, counters that grow like a service's latencies)
// are pushed into our server and into a Prometheus 3 remote-write receiver,
// each started fresh, in the same run. It reports histogram samples/s, server
// CPU seconds, and the chunk bytes per histogram sample each side stores (read
// back over remote read STREAMED_XOR_CHUNKS: the chunks blocks are cut from).
// Then each server answers the same native-histogram range queries
// (histogram_quantile over sum(rate(...)), ...) --query-runs times: median
// latency and server CPU per query, and our answers checked against
// Prometheus's. Last, each writes its head out as a block (ours: a flush to
// the bucket; Prometheus: an admin TSDB snapshot) and the block's chunk files
// are weighed: bytes per histogram sample in blocks.
//
//   npm run build && node dist/bench/histograms.js --series 2000 --rounds 60
//
// Flags: --series N histogram series (2000), --rounds N scrapes 15s apart (60),
// --batch N histograms per request (500), --concurrency N shards (4),
// --query-runs N runs of each query (10, 0 skips the queries),
// --target ours|prometheus|both (both), --seed N, --out FILE (append the report),
// --node-args="ARGS" (options for our server's node, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/p").

import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodeHistogramWriteRequestSnappy, type HistogramSeries, type NativeHistogram } from '../src/remote/write-request-histograms.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';
import { mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType } from '../test/peer/lib/remote-read.js';
import { intOption, targetsOption } from './lib/cli.js';
import { percentile, runShards } from './lib/load.js';
import { compareMatrices, parseMatrix, QueryClient, type MatrixSeries } from './lib/query-client.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds, startOurs, startReference, type RunningTarget, type TargetName } from './lib/targets.js';

const STEP_MS = 15_000;
const BUCKETS = 40;
/** RATE_WINDOW is the range of the rate() in the benchmark's queries. */
const RATE_WINDOW_MS = 300_000;

/** QUERIES are the native-histogram range queries timed on both servers (float results, comparable). */
const QUERIES = [
  'histogram_quantile(0.99, sum(rate(bench_latency_seconds[5m])))',
  'histogram_quantile(0.9, sum by (instance) (rate(bench_latency_seconds[5m])))',
  'histogram_count(sum(rate(bench_latency_seconds[5m])))',
  'histogram_sum(sum by (instance) (increase(bench_latency_seconds[5m])))',
];

interface Options {
  series: number;
  rounds: number;
  batch: number;
  concurrency: number;
  queryRuns: number;
  targets: TargetName[];
  seed: number;
  out?: string;
  nodeArgs: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '60' },
      batch: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '4' },
      'query-runs': { type: 'string', default: '10' },
      target: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string' },
      'node-args': { type: 'string', default: '' },
    },
    strict: true,
  });
  return {
    series: intOption('series', values.series, 1),
    rounds: intOption('rounds', values.rounds, 2),
    batch: intOption('batch', values.batch, 1),
    concurrency: intOption('concurrency', values.concurrency, 1),
    queryRuns: intOption('query-runs', values['query-runs'], 0),
    targets: targetsOption(values.target),
    seed: intOption('seed', values.seed, 0),
    out: values.out,
    nodeArgs: String(values['node-args']).split(' ').filter((a) => a !== ''),
  };
}

/** buildShards encodes every round of every series, split into shards that each own whole series (in-order samples). */
function buildShards(o: Options, baseMs: number): Buffer[][] {
  const rng = new Rng(o.seed);
  // Per series: absolute bucket counts, grown each round.
  const counts = Array.from({ length: o.series }, () => new Float64Array(BUCKETS));
  const sums = new Float64Array(o.series);
  const shards: Buffer[][] = Array.from({ length: o.concurrency }, () => []);
  for (let r = 0; r < o.rounds; r++) {
    const t = baseMs + r * STEP_MS;
    for (let first = 0; first < o.series; first += o.batch) {
      const batch: HistogramSeries[] = [];
      for (let s = first; s < Math.min(o.series, first + o.batch); s++) {
        const c = counts[s]!;
        let total = 0;
        for (let b = 0; b < BUCKETS; b++) {
          // Most observations land in the middle buckets.
          const w = Math.exp(-(((b - BUCKETS / 2) / 8) ** 2));
          c[b]! += Math.floor(rng.next() * 20 * w);
          total += c[b]!;
        }
        sums[s]! += total * 0.01;
        const deltas: number[] = [];
        let prev = 0;
        for (let b = 0; b < BUCKETS; b++) {
          deltas.push(c[b]! - prev);
          prev = c[b]!;
        }
        const h: NativeHistogram = {
          t,
          kind: 'int',
          hint: 0,
          schema: 3,
          zeroThreshold: 2.938735877055719e-39,
          zeroCount: 0,
          count: total,
          sum: sums[s]!,
          positiveSpans: [[-20, BUCKETS]],
          negativeSpans: [],
          positiveBuckets: deltas,
          negativeBuckets: [],
          customValues: [],
        };
        batch.push({ labels: [['__name__', 'bench_latency_seconds'], ['job', 'bench'], ['instance', `i-${s % 100}`], ['series', String(s)]], histograms: [h] });
      }
      shards[Math.floor(first / o.batch) % o.concurrency]!.push(encodeHistogramWriteRequestSnappy(batch));
    }
  }
  return shards;
}

interface Result {
  target: string;
  samplesPerSec: number;
  wallMs: number;
  cpuS: number;
  /** clientCpuS is the load generator's CPU while it pushed (it shares the machine's cores). */
  clientCpuS: number;
  errors: number;
  chunkBytesPerSample: number;
  /** blockBytesPerSample is the chunk files of the head written out as a block, per pushed sample. */
  blockBytesPerSample: number;
  chunkSamples: number;
  queries: QueryResult[];
}

/** QueryResult is one query's timings on one server, and its answer for the comparison. */
interface QueryResult {
  query: string;
  medianMs: number;
  cpuMsPerQuery: number;
  series: Map<string, MatrixSeries> | undefined;
  error?: string;
}

/** measureQueries runs every query o.queryRuns times over the ingested window (after the first rate window). */
async function measureQueries(target: RunningTarget, o: Options, baseMs: number): Promise<QueryResult[]> {
  if (o.queryRuns === 0 || o.rounds * STEP_MS <= RATE_WINDOW_MS + STEP_MS) return [];
  const client = new QueryClient(target.queryApi);
  const range = { startMs: baseMs + RATE_WINDOW_MS, endMs: baseMs + (o.rounds - 1) * STEP_MS, stepMs: STEP_MS };
  const out: QueryResult[] = [];
  try {
    for (const query of QUERIES) {
      // One warm-up run gives the answer compared between the servers.
      const first = parseMatrix(await client.queryRange({ query, ...range }));
      const ms = new Float64Array(o.queryRuns);
      const cpu0 = await cpuSeconds(target.proc.pid);
      for (let i = 0; i < o.queryRuns; i++) ms[i] = (await client.queryRange({ query, ...range })).ms;
      const cpu1 = await cpuSeconds(target.proc.pid);
      out.push({
        query,
        medianMs: percentile(ms, 50),
        cpuMsPerQuery: ((cpu1 - cpu0) * 1000) / o.queryRuns,
        series: first.ok ? first.series : undefined,
        error: first.ok ? undefined : first.error,
      });
    }
  } finally {
    client.close();
  }
  return out;
}

/** queryRows renders the query table: each query's figures per server, the ratios, and whether the answers agree. */
function queryRows(results: Result[]): string[] {
  const ours = results.find((r) => r.target === 'ours');
  const ref = results.find((r) => r.target !== 'ours');
  const rows: string[] = [];
  for (let i = 0; i < QUERIES.length; i++) {
    const a = ours?.queries[i];
    const b = ref?.queries[i];
    if (!a && !b) continue;
    const fmt = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(2));
    const ratio = (x: number | undefined, y: number | undefined): string => (x !== undefined && y ? `x${(x / y).toFixed(2)}` : '');
    let same = '';
    if (a?.error || b?.error) same = `error: ${a?.error ?? b?.error}`;
    else if (a?.series && b?.series) {
      const c = compareMatrices(a.series, b.series);
      same = c.equal ? `✓ (${a.series.size} series)` : `✗ ${c.example ?? ''}`;
    }
    rows.push(
      `| \`${QUERIES[i]}\` | ${fmt(a?.medianMs)} | ${fmt(b?.medianMs)} | ${ratio(a?.medianMs, b?.medianMs)} | ${fmt(a?.cpuMsPerQuery)} | ${fmt(b?.cpuMsPerQuery)} | ${ratio(a?.cpuMsPerQuery, b?.cpuMsPerQuery)} | ${same} |`,
    );
  }
  return rows;
}

async function measure(target: RunningTarget, shards: Buffer[][], o: Options, baseMs: number): Promise<Result> {
  const cpu0 = await cpuSeconds(target.proc.pid);
  const stats = await runShards(target.push, shards);
  const cpu1 = await cpuSeconds(target.proc.pid);
  const total = o.series * o.rounds;
  const readUrl = `${target.queryApi}/read`;
  const read = await postRemoteRead(
    readUrl,
    [{ startMs: baseMs - 1, endMs: baseMs + o.rounds * STEP_MS, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: 'bench' }] }],
    [ResponseType.STREAMED_XOR_CHUNKS],
  );
  let bytes = 0;
  let samples = 0;
  for (const s of mergeChunkedSeries(parseChunkedReadBody(read.body))) {
    for (const c of s.chunks) {
      bytes += c.data.length;
      samples += (c.data[0]! << 8) | c.data[1]!;
    }
  }
  const queries = await measureQueries(target, o, baseMs);
  // After the queries (ours moves its head into the bucket): the head written out as a block.
  const blockBytes = target.blockChunkBytes ? await target.blockChunkBytes() : undefined;
  return {
    target: target.name === 'ours' ? 'ours' : 'Prometheus 3',
    samplesPerSec: (total / stats.wallMs) * 1000,
    wallMs: stats.wallMs,
    cpuS: cpu1 - cpu0,
    clientCpuS: stats.clientCpuS,
    errors: stats.errors,
    chunkBytesPerSample: samples > 0 ? bytes / samples : NaN,
    chunkSamples: samples,
    blockBytesPerSample: blockBytes === undefined ? NaN : blockBytes / total,
    queries,
  };
}

async function main(): Promise<void> {
  const o = parseOptions();
  const baseMs = Math.floor((Date.now() - 3_600_000) / STEP_MS) * STEP_MS;
  const shards = buildShards(o, baseMs);
  const results: Result[] = [];
  for (const name of o.targets) {
    const target = name === 'ours' ? await startOurs([], o.nodeArgs) : await startReference(PROMETHEUS3.path);
    try {
      results.push(await measure(target, shards, o, baseMs));
    } finally {
      await target.proc.stop();
    }
  }
  const m = machineInfo(PROMETHEUS3.path);
  const lines = [
    `### Native histograms: ${o.series} series x ${o.rounds} rounds (${o.series * o.rounds} histogram samples, ${BUCKETS} buckets, schema 3)`,
    '',
    describeMachine(m),
    '',
    `Command: \`node dist/bench/histograms.js --series ${o.series} --rounds ${o.rounds} --batch ${o.batch} --concurrency ${o.concurrency} --query-runs ${o.queryRuns}\``,
    '',
    '| target | histogram samples/s | wall ms | server CPU s | server cores busy | load generator CPU s | CPU µs per sample | chunk bytes per sample | block chunk-file bytes per sample | samples in chunks | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.target} | ${Math.round(r.samplesPerSec)} | ${Math.round(r.wallMs)} | ${r.cpuS.toFixed(2)} | ${((r.cpuS * 1000) / r.wallMs).toFixed(2)} | ${r.clientCpuS.toFixed(2)} | ${((r.cpuS * 1e6) / (o.series * o.rounds)).toFixed(1)} | ${r.chunkBytesPerSample.toFixed(2)} | ${r.blockBytesPerSample.toFixed(2)} | ${r.chunkSamples} | ${r.errors} |`,
    ),
    '',
    ...(o.queryRuns > 0
      ? [
          `Range queries over the last ${((o.rounds - 1) * STEP_MS - RATE_WINDOW_MS) / 60_000} minutes at a 15 s step, ${o.queryRuns} runs each (median latency; server CPU per query):`,
          '',
          '| query | ours ms | Prometheus 3 ms | ratio | ours CPU ms | Prometheus 3 CPU ms | CPU ratio | same answer |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
          ...queryRows(results),
          '',
        ]
      : []),
  ];
  const report = lines.join('\n');
  process.stdout.write(report + '\n');
  if (o.out) await appendFile(o.out, report + '\n');
}

await main();
