// tsdb.ts is the storage benchmark: the ingestion data set (node_exporter-like
// series, one sample per series every 15 s over more than 3 h) is pushed into
// our server and into a reference Prometheus in one run, then each is stopped
// and started again on the same data directory to time its WAL replay
// (sampling its RSS meanwhile), and then made to cut its oldest 2 h into a
// block, timed, and the block's bytes per sample measured.
//
//   npm run build && node dist/bench/tsdb.js            # 20k series x 210 min, a few minutes
//   node dist/bench/tsdb.js --series 100000 --out bench/RESULTS.md
//
// Flags: --series N (20000), --minutes N of data at one sample per 15 s
// (210; more than 180 so a 2 h block is due), --concurrency N push shards (8),
// --batch N samples per request (2000), --wave N scrape rounds pushed to one
// target before the next gets them (40), --target ours|prometheus|both
// (both), --seed N (42), --stop-signal SIGTERM|SIGKILL (SIGTERM), --sample-ms N
// RSS sampling period during start-up (50), --cut-wait N seconds to wait for
// Prometheus's own head compaction (240), --out FILE, --keep (leave the data
// directories), --ours-arg FLAG, --ours-node-arg ARG (repeatable).

import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { intOption, targetsOption } from './lib/cli.js';
import { runShards, type PushTarget } from './lib/load.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { generateFleet, stepFleet } from './lib/node-exporter.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds, firstMetric, instantQuerySum, oursArgs, REPO_ROOT, type TargetName } from './lib/targets.js';
import { findLog, parseGoDuration, readStatusKb, spawnMeasured, type BenchProcess, type RssTrace } from './lib/tsdb-process.js';
import { compress, encodeBatch, encodeLabelsBlob, selfCheck } from './lib/write-encoder.js';
import { REMOTE_WRITE_HEADERS } from '../src/remote/write-request.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';
import { freePort, makeTempDir } from '../test/peer/lib/server-process.js';

const PROMTOOL_BIN = process.env['PROMTOOL_BIN'] ?? '/usr/bin/promtool';
const SCRAPE_INTERVAL_MS = 15_000;
const BLOCK_RANGE_MS = 2 * 3_600_000;
/** TENANT is where our server puts everything while multitenancy is off. */
const TENANT = 'anonymous';
/** SPOT_METRIC is the metric whose samples are counted through PromQL at every check. */
const SPOT_METRIC = 'node_load1';
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface Options {
  series: number;
  minutes: number;
  concurrency: number;
  batch: number;
  wave: number;
  targets: TargetName[];
  seed: number;
  stopSignal: NodeJS.Signals;
  sampleMs: number;
  cutWaitS: number;
  out?: string;
  keep: boolean;
  oursArgs: string[];
  oursNodeArgs: string[];
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '20000' },
      minutes: { type: 'string', default: '210' },
      concurrency: { type: 'string', default: '8' },
      batch: { type: 'string', default: '2000' },
      wave: { type: 'string', default: '40' },
      target: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '42' },
      'stop-signal': { type: 'string', default: 'SIGTERM' },
      'sample-ms': { type: 'string', default: '50' },
      'cut-wait': { type: 'string', default: '240' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'ours-arg': { type: 'string', multiple: true, default: [] },
      'ours-node-arg': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const stopSignal = values['stop-signal'];
  if (stopSignal !== 'SIGTERM' && stopSignal !== 'SIGKILL') throw new Error(`--stop-signal must be SIGTERM or SIGKILL, got ${stopSignal}`);
  return {
    series: intOption('series', values.series, 1),
    minutes: intOption('minutes', values.minutes, 1),
    concurrency: intOption('concurrency', values.concurrency, 1),
    batch: intOption('batch', values.batch, 1),
    wave: intOption('wave', values.wave, 1),
    targets: targetsOption(values.target),
    seed: intOption('seed', values.seed, 0),
    stopSignal,
    sampleMs: intOption('sample-ms', values['sample-ms'], 1),
    cutWaitS: intOption('cut-wait', values['cut-wait'], 1),
    out: values.out,
    keep: values.keep ?? false,
    oursArgs: values['ours-arg'] ?? [],
    oursNodeArgs: values['ours-node-arg'] ?? [],
  };
}

/** DataSet is the shape of the generated data (the samples themselves are encoded wave by wave). */
interface DataSet {
  rounds: number;
  firstTs: number;
  lastTs: number;
  samples: number;
  spotSeries: number;
}

/** Target is one system under test: how to start it, where it keeps its data, how to ask it. */
interface Target {
  name: TargetName;
  dir: string;
  port: number;
  baseUrl: string;
  command: string;
  /** args for the first start (ingestion) and for the restart. */
  args: { ingest: string[]; restart: string[] };
  readyPath: string;
  apiBase: string;
  push: PushTarget;
  headSeriesMetric: string;
  appendedMetric: string;
  /** blockRoot holds the ULID block directories. */
  blockRoot: string;
  /** headDirs hold the on-disk head: WAL and head chunk files (chunks_head, both systems). */
  headDirs: string[];
  proc?: BenchProcess;
}

async function makeOurs(o: Options): Promise<Target> {
  const dir = await makeTempDir('bench-tsdb-ours-');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // No automatic head compaction or shipping: the head keeps everything until the flush.
  const args = oursArgs(
    dir,
    port,
    [
      '-blocks-storage.tsdb.head-compaction-interval=0',
      '-blocks-storage.tsdb.head-compaction-idle-timeout=0',
      '-blocks-storage.tsdb.ship-interval=0',
      ...o.oursArgs,
    ],
    o.oursNodeArgs,
  );
  return {
    name: 'ours',
    dir,
    port,
    baseUrl,
    command: process.execPath,
    args: { ingest: args, restart: args },
    readyPath: '/ready',
    apiBase: `${baseUrl}/prometheus/api/v1`,
    push: { url: new URL(`${baseUrl}/api/v1/push`), headers: { ...REMOTE_WRITE_HEADERS } },
    headSeriesMetric: 'cortex_ingester_memory_series',
    appendedMetric: 'cortex_ingester_ingested_samples_total',
    blockRoot: join(dir, 'tsdb', TENANT),
    headDirs: [join(dir, 'tsdb', TENANT, 'wal'), join(dir, 'tsdb', TENANT, 'chunks_head')],
  };
}

async function makePrometheus(): Promise<Target> {
  const dir = await makeTempDir('bench-tsdb-prometheus-');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, ['global:', '  scrape_interval: 15s', 'scrape_configs: []', ''].join('\n'));
  const common = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=info',
  ];
  return {
    name: 'prometheus',
    dir,
    port,
    baseUrl,
    command: PROMETHEUS3.path,
    // While ingesting, a 24h block range (hidden test flags) keeps the head from compacting
    // once it spans 3h; restarted with the default 2h, it cuts the oldest 2h on its own.
    args: { ingest: [...common, '--storage.tsdb.min-block-duration=24h', '--storage.tsdb.max-block-duration=24h'], restart: common },
    readyPath: '/-/ready',
    apiBase: `${baseUrl}/api/v1`,
    push: { url: new URL(`${baseUrl}/api/v1/write`), headers: { ...REMOTE_WRITE_HEADERS } },
    headSeriesMetric: 'prometheus_tsdb_head_series',
    appendedMetric: 'prometheus_tsdb_head_samples_appended_total',
    blockRoot: dataDir,
    headDirs: [join(dataDir, 'wal'), join(dataDir, 'chunks_head')],
  };
}

function start(t: Target, phase: 'ingest' | 'restart', o: Options): Promise<BenchProcess> {
  return spawnMeasured({
    name: t.name,
    command: t.command,
    args: t.args[phase],
    cwd: REPO_ROOT,
    baseUrl: t.baseUrl,
    readyPath: t.readyPath,
    readyTimeoutMs: 30 * 60_000,
    sampleMs: o.sampleMs,
  });
}

/** dirBytes sums the sizes of the files below dir (0 when missing). */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** IngestResult is one target's share of the ingestion phase. */
interface IngestResult {
  wallMs: number;
  requests: number;
  errors: number;
  firstError?: string;
  headSeries?: number;
  appended?: number;
  rssBytes?: number;
  headDiskBytes: number;
}

/**
 * ingest generates the data set wave by wave (fixed seed, same bodies for every target) and
 * pushes each wave to each target in turn, oldest first. Request b of a round carries series
 * [b*batch, (b+1)*batch) and belongs to shard b % concurrency, so every series' samples
 * arrive in order and no shard runs ahead of the others by more than one wave.
 */
async function ingest(o: Options, targets: Target[], ds: DataSet): Promise<{ results: Map<TargetName, IngestResult>; encodeMs: number; wireBytes: number }> {
  const fleet = generateFleet(o.series, o.seed);
  const blobs = fleet.labels.map(encodeLabelsBlob);
  selfCheck(fleet.labels, fleet.value, ds.firstTs);
  const rng = new Rng(o.seed ^ 0x5eed);
  const blocks = Math.ceil(o.series / o.batch);
  const shardCount = Math.min(o.concurrency, blocks);
  const results = new Map<TargetName, IngestResult>(targets.map((t) => [t.name, { wallMs: 0, requests: 0, errors: 0, headDiskBytes: 0 }]));
  let encodeMs = 0;
  let wireBytes = 0;
  let reported = 0;
  for (let from = 0; from < ds.rounds; from += o.wave) {
    const e0 = performance.now();
    const shards: Buffer[][] = Array.from({ length: shardCount }, () => []);
    for (let round = from; round < Math.min(ds.rounds, from + o.wave); round++) {
      const ts = ds.firstTs + round * SCRAPE_INTERVAL_MS;
      for (let b = 0; b < blocks; b++) {
        const body = compress(encodeBatch(blobs, fleet.value, b * o.batch, Math.min(o.series, (b + 1) * o.batch), ts));
        wireBytes += body.length;
        shards[b % shardCount]!.push(body);
      }
      stepFleet(fleet, rng);
    }
    encodeMs += performance.now() - e0;
    for (const t of targets) {
      const s = await runShards(t.push, shards);
      const r = results.get(t.name)!;
      r.wallMs += s.wallMs;
      r.requests += s.requests;
      r.errors += s.errors;
      r.firstError ??= s.firstError;
    }
    const done = Math.min(ds.rounds, from + o.wave) / ds.rounds;
    if (done - reported >= 0.1 || done === 1) {
      reported = done;
      log(`ingest ${(done * 100).toFixed(0)}%: ${targets.map((t) => `${t.name} ${(results.get(t.name)!.wallMs / 1000).toFixed(1)} s`).join(', ')}`);
    }
  }
  await sleep(2000);
  for (const t of targets) {
    const r = results.get(t.name)!;
    r.headSeries = await firstMetric(t.baseUrl, [t.headSeriesMetric]);
    r.appended = await firstMetric(t.baseUrl, [t.appendedMetric]);
    const kb = await readStatusKb(t.proc!.pid, 'VmRSS');
    if (kb !== undefined) r.rssBytes = kb * 1024;
  }
  return { results, encodeMs, wireBytes };
}

/** spotCount counts SPOT_METRIC's samples over the whole data set through PromQL. */
function spotCount(t: Target, ds: DataSet): Promise<number | undefined> {
  const windowS = Math.ceil((ds.lastTs - ds.firstTs) / 1000) + 300;
  return instantQuerySum(t.apiBase, `sum(count_over_time(${SPOT_METRIC}[${windowS}s]))`, ds.lastTs + 1000);
}

/** ReplayResult is what the restart measured. */
interface ReplayResult {
  stopMs: number;
  headDiskBytes: number;
  readyMs: number;
  rss: RssTrace;
  cpuToReadyS: number;
  /** replayS is the replay duration the server logged. */
  replayS?: number;
  /** replayedSamples is what the server said it replayed (ours only). */
  replayedSamples?: number;
  /** detail names the parts of the logged replay. */
  detail: string;
  headSeries?: number;
  spot?: number;
}

async function restartAndReplay(t: Target, o: Options): Promise<ReplayResult> {
  log(`[${t.name}] stopping (${o.stopSignal})`);
  const stopMs = await t.proc!.stop(o.stopSignal);
  const headDiskBytes = (await Promise.all(t.headDirs.map(dirBytes))).reduce((a, b) => a + b, 0);
  log(`[${t.name}] restarting on the same data directory (${(headDiskBytes / 2 ** 20).toFixed(0)} MiB of on-disk head)`);
  const proc = await start(t, 'restart', o);
  t.proc = proc;
  const cpuToReadyS = await cpuSeconds(proc.pid);
  log(`[${t.name}] ready after ${(proc.readyMs / 1000).toFixed(2)} s`);
  const r: ReplayResult = { stopMs, headDiskBytes, readyMs: proc.readyMs, rss: proc.startRss, cpuToReadyS, detail: '' };
  if (t.name === 'ours') {
    const done = findLog(proc.lines(), 'WAL replay done')[0];
    if (done) {
      r.replayS = parseGoDuration(done.fields.get('duration'));
      r.replayedSamples = Number(done.fields.get('samples'));
      const headChunks = Number(done.fields.get('headChunks') ?? 0);
      const fromFiles = headChunks > 0 ? `, ${headChunks.toLocaleString('en-US')} head chunks (${Number(done.fields.get('headChunkSamples')).toLocaleString('en-US')} samples) from chunks_head` : '';
      r.detail = `${done.fields.get('segments')} segments, ${Number(done.fields.get('series')).toLocaleString('en-US')} series${fromFiles}`;
    }
  } else {
    const done = findLog(proc.lines(), 'WAL replay completed')[0];
    const mmap = findLog(proc.lines(), 'On-disk memory mappable chunks replay completed')[0];
    if (done) {
      r.replayS = parseGoDuration(done.fields.get('total_replay_duration'));
      r.detail = `m-mapped chunks ${done.fields.get('mmap_chunk_replay_duration') ?? mmap?.fields.get('duration') ?? '?'}, WAL ${done.fields.get('wal_replay_duration') ?? '?'}`;
    }
  }
  r.headSeries = await firstMetric(t.baseUrl, [t.headSeriesMetric]);
  return r;
}

/** BlockInfo is one block directory's figures. */
interface BlockInfo {
  ulid: string;
  minTime: number;
  maxTime: number;
  series: number;
  samples: number;
  chunks: number;
  indexBytes: number;
  chunkBytes: number;
  totalBytes: number;
}

async function listBlocks(root: string): Promise<BlockInfo[]> {
  let names: string[] = [];
  try {
    names = (await readdir(root)).filter((n) => ULID_RE.test(n));
  } catch {
    return [];
  }
  const out: BlockInfo[] = [];
  for (const ulid of names) {
    const dir = join(root, ulid);
    let meta: { minTime: number; maxTime: number; stats?: { numSeries?: number; numSamples?: number; numChunks?: number } };
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as typeof meta;
    } catch {
      continue; // still being written
    }
    const indexBytes = (await stat(join(dir, 'index')).catch(() => ({ size: 0 }))).size;
    const chunkBytes = await dirBytes(join(dir, 'chunks'));
    out.push({
      ulid,
      minTime: meta.minTime,
      maxTime: meta.maxTime,
      series: meta.stats?.numSeries ?? 0,
      samples: meta.stats?.numSamples ?? 0,
      chunks: meta.stats?.numChunks ?? 0,
      indexBytes,
      chunkBytes,
      totalBytes: await dirBytes(dir),
    });
  }
  return out.sort((a, b) => a.minTime - b.minTime);
}

/** CutResult is what the block phase measured. */
interface CutResult {
  method: string;
  /** cutS per block ULID, as logged. */
  cutS: Map<string, number>;
  /** wallS is the flush request's wall time (ours) or the logged compaction of the head (Prometheus). */
  wallS?: number;
  wallWhat: string;
  blocks: BlockInfo[];
  spot?: number;
  analyze: Map<string, string>;
  error?: string;
}

async function cutOurs(t: Target): Promise<CutResult> {
  const proc = t.proc!;
  const from = proc.sinceSpawnMs();
  log('[ours] POST /ingester/flush?wait=true');
  const t0 = performance.now();
  const res = await fetch(`${t.baseUrl}/ingester/flush?wait=true`, { method: 'POST', signal: AbortSignal.timeout(30 * 60_000) });
  const body = await res.text();
  const wallS = (performance.now() - t0) / 1000;
  const cut: CutResult = { method: '`POST /ingester/flush?wait=true`', cutS: new Map(), wallS, wallWhat: 'flush request (cut every range, truncate, checkpoint, upload to the filesystem bucket)', blocks: [], analyze: new Map() };
  if (res.status !== 204 && res.status !== 200) cut.error = `flush answered ${res.status}: ${body.slice(0, 200)}`;
  await sleep(200);
  for (const l of findLog(proc.lines(), 'head compacted into a block', from)) {
    const s = parseGoDuration(l.fields.get('duration'));
    if (s !== undefined) cut.cutS.set(l.fields.get('block') ?? '?', s);
  }
  cut.blocks = await listBlocks(t.blockRoot);
  return cut;
}

async function cutPrometheus(t: Target, o: Options): Promise<CutResult> {
  const proc = t.proc!;
  const cut: CutResult = { method: 'its own head compaction (head spans > 1.5 × 2h; checked every minute)', cutS: new Map(), wallWhat: 'write block + head GC + WAL checkpoint, from its log', blocks: [], analyze: new Map() };
  log(`[prometheus] waiting up to ${o.cutWaitS} s for its head compaction`);
  const deadline = performance.now() + o.cutWaitS * 1000;
  // The cut is over once the head is truncated and the WAL checkpointed after the block write.
  let written: ReturnType<typeof findLog> = [];
  while (performance.now() < deadline) {
    written = findLog(proc.lines(), 'write block');
    if (written.length > 0 && findLog(proc.lines(), 'Head GC completed').length > 0) break;
    await sleep(250);
  }
  if (written.length === 0) {
    cut.error = `no block written within ${o.cutWaitS} s`;
    return cut;
  }
  // The WAL checkpoint follows (skipped when the WAL has too few segments to truncate).
  for (let i = 0; i < 40 && findLog(proc.lines(), 'WAL checkpoint complete').length === 0; i++) await sleep(250);
  let total = 0;
  for (const l of written) {
    const s = parseGoDuration(l.fields.get('duration'));
    if (s !== undefined) {
      cut.cutS.set(l.fields.get('ulid') ?? '?', s);
      total += s;
    }
  }
  for (const l of findLog(proc.lines(), 'Head GC completed')) total += parseGoDuration(l.fields.get('duration')) ?? 0;
  for (const l of findLog(proc.lines(), 'WAL checkpoint complete')) total += parseGoDuration(l.fields.get('duration')) ?? 0;
  cut.wallS = total;
  cut.blocks = await listBlocks(t.blockRoot);
  return cut;
}

/**
 * analyze runs `promtool tsdb analyze` on a copy of one block in a directory of its own (our
 * tenant directory also holds our WAL and shipper.json; promtool skips symlinked blocks).
 */
async function analyze(t: Target, b: BlockInfo): Promise<string> {
  const dir = join(t.dir, `analyze-${b.ulid}`);
  await mkdir(dir, { recursive: true });
  await cp(join(t.blockRoot, b.ulid), join(dir, b.ulid), { recursive: true });
  try {
    const { stdout } = await promisify(execFile)(PROMTOOL_BIN, ['tsdb', 'analyze', dir, b.ulid], { maxBuffer: 64 * 2 ** 20 });
    // The summary is the lines before the first cardinality list.
    const lines = stdout.split('\n');
    const end = lines.findIndex((l) => l.startsWith('Label pairs most involved') || l.trim() === '');
    return lines.slice(0, end < 0 ? 8 : end).join('; ');
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return `promtool failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-2).join(' ')}`;
  }
}

interface TargetRun {
  target: Target;
  ingest: IngestResult;
  replay?: ReplayResult;
  cut?: CutResult;
  afterCutRss?: { rss: number; hwm: number };
  error?: string;
}

const fmtInt = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmt = (n: number | undefined, d = 1): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const mib = (b: number | undefined): string => (b === undefined ? 'n/a' : fmt(b / 2 ** 20, 0));
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined && b !== 0 && Number.isFinite(a / b) ? `×${(a / b).toFixed(2)}` : 'n/a');
const verdict = (got: number | undefined, want: number): string =>
  got === undefined || Number.isNaN(got) ? 'n/a' : got === want ? `${fmtInt(got)} ✓` : `${fmtInt(got)} ✗ (want ${fmtInt(want)})`;

/** comparedBlock is the block holding the data set's first 2h (both cut it; ours cuts the rest too). */
function comparedBlock(cut: CutResult | undefined, ds: DataSet): BlockInfo | undefined {
  return cut?.blocks.find((b) => b.minTime <= ds.firstTs && ds.firstTs < b.maxTime) ?? cut?.blocks[0];
}

function report(o: Options, ds: DataSet, runs: TargetRun[], encodeMs: number, wireBytes: number, machine: string, command: string): string {
  const L: string[] = [];
  const spanMin = (ds.lastTs - ds.firstTs) / 60_000;
  L.push(`### Storage: ${fmtInt(o.series)} series × ${ds.rounds} samples (${fmt(spanMin / 60, 2)} h at 15 s), WAL replay and block cut`);
  L.push('');
  L.push(machine);
  L.push(`- command: \`${command}\``);
  L.push(
    `- data set: node_exporter-like series (bench/lib/node-exporter.ts, seed ${o.seed}), ${fmtInt(ds.samples)} samples from ${iso(ds.firstTs)} to ${iso(ds.lastTs)} UTC ` +
      `(starts on a 2h boundary), ${fmt(wireBytes / 2 ** 20, 0)} MiB snappy, encoded wave by wave in ${fmt(encodeMs / 1000, 1)} s; ` +
      `pushed oldest first in waves of ${o.wave} scrapes, each wave to every target in turn, ${o.concurrency} shards, ${o.batch} samples/request`,
  );
  L.push('');
  L.push('Ingestion (context: both heads hold the whole data set, nothing compacted yet):');
  L.push('');
  L.push('| target | push samples/s | errors | head series | appended samples | RSS after MiB | on-disk head MiB (at restart) | on-disk head B/sample |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of runs) {
    const i = r.ingest;
    const disk = r.replay?.headDiskBytes;
    L.push(
      `| ${r.target.name} | ${fmtInt(ds.samples / (i.wallMs / 1000))} | ${i.errors}${i.firstError ? ` (${i.firstError.slice(0, 80)})` : ''} | ${verdict(i.headSeries, o.series)} | ${verdict(i.appended, ds.samples)} | ` +
        `${mib(i.rssBytes)} | ${mib(disk)} | ${disk === undefined ? 'n/a' : fmt(disk / ds.samples, 2)} |`,
    );
  }
  L.push('');
  L.push(`WAL replay (stopped with ${o.stopSignal}, started again on the same directory; RSS sampled every ${o.sampleMs} ms from spawn to ready):`);
  L.push('');
  L.push('| target | replay s (logged) | samples/s (logged replay) | spawn → ready s | samples/s (spawn → ready) | CPU s to ready | peak RSS sampled MiB | VmHWM MiB | RSS at ready MiB | logged detail | check: head series / PromQL count |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  const rep = new Map<TargetName, ReplayResult>();
  for (const r of runs) {
    const p = r.replay;
    if (!p) continue;
    rep.set(r.target.name, p);
    const replayed = p.replayedSamples !== undefined ? `; ${fmtInt(p.replayedSamples)} samples replayed from the WAL` : '';
    L.push(
      `| ${r.target.name} | ${fmt(p.replayS, 2)} | ${fmtInt(p.replayS ? ds.samples / p.replayS : undefined)} | ${fmt(p.readyMs / 1000, 2)} | ${fmtInt(ds.samples / (p.readyMs / 1000))} | ${fmt(p.cpuToReadyS, 2)} | ` +
        `${mib(p.rss.peakSampledBytes)} | ${mib(p.rss.hwmBytes)} | ${mib(p.rss.lastBytes)} | ${p.detail}${replayed} | ${verdict(p.headSeries, o.series)} / ${verdict(p.spot, ds.spotSeries * ds.rounds)} |`,
    );
  }
  const ro = rep.get('ours');
  const rp = rep.get('prometheus');
  if (ro && rp) {
    L.push('');
    L.push(
      `ours/prometheus: replay time ${ratio(ro.replayS, rp.replayS)} (logged), ${ratio(ro.readyMs, rp.readyMs)} (spawn → ready), CPU to ready ${ratio(ro.cpuToReadyS, rp.cpuToReadyS)}, ` +
        `peak RSS ${ratio(ro.rss.hwmBytes, rp.rss.hwmBytes)} (VmHWM), on-disk head ${ratio(ro.headDiskBytes, rp.headDiskBytes)} (lower is better)`,
    );
  }
  L.push('');
  L.push('Block cut (the data set\'s first 2h range, which both cut; ours also cuts the remaining range in the same flush):');
  L.push('');
  L.push('| target | how | block | range (UTC) | series | samples | chunks | cut s (logged) | whole operation s | index bytes | chunks bytes | block bytes | bytes/sample | chunk bytes/sample | check: PromQL count after |');
  L.push('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const cmp = new Map<TargetName, { b: BlockInfo; cutS?: number; wallS?: number }>();
  for (const r of runs) {
    const c = r.cut;
    if (!c) continue;
    if (c.error) L.push(`| ${r.target.name} | ${c.method} | ${c.error} | | | | | | | | | | | | |`);
    const first = comparedBlock(c, ds);
    for (const b of c.blocks) {
      const cutS = c.cutS.get(b.ulid);
      if (b === first) cmp.set(r.target.name, { b, cutS, wallS: c.wallS });
      L.push(
        `| ${r.target.name} | ${b === c.blocks[0] ? c.method : ''} | ${b.ulid}${b === first ? ' (compared)' : ''} | ${iso(b.minTime)} – ${iso(b.maxTime)} | ${fmtInt(b.series)} | ${fmtInt(b.samples)} | ${fmtInt(b.chunks)} | ` +
          `${fmt(cutS, 3)} | ${b === c.blocks[0] ? `${fmt(c.wallS, 3)} (${c.wallWhat})` : ''} | ${fmtInt(b.indexBytes)} | ${fmtInt(b.chunkBytes)} | ${fmtInt(b.totalBytes)} | ` +
          `${fmt(b.totalBytes / b.samples, 3)} | ${fmt(b.chunkBytes / b.samples, 3)} | ${b === c.blocks[0] ? verdict(c.spot, ds.spotSeries * ds.rounds) : ''} |`,
      );
    }
  }
  const co = cmp.get('ours');
  const cp = cmp.get('prometheus');
  if (co && cp) {
    L.push('');
    const same = co.b.samples === cp.b.samples && co.b.series === cp.b.series ? 'same series and samples in both' : `✗ blocks differ: ${co.b.series}/${co.b.samples} vs ${cp.b.series}/${cp.b.samples}`;
    L.push(
      `ours/prometheus on the compared block (${same}): block write ${ratio(co.cutS, cp.cutS)}, bytes/sample ${ratio(co.b.totalBytes / co.b.samples, cp.b.totalBytes / cp.b.samples)}, ` +
        `chunk bytes ${ratio(co.b.chunkBytes, cp.b.chunkBytes)}, index bytes ${ratio(co.b.indexBytes, cp.b.indexBytes)} (lower is better)`,
    );
  }
  const analyses = runs.flatMap((r) => [...(r.cut?.analyze ?? new Map<string, string>())].map(([id, text]) => `- \`promtool tsdb analyze\` on ${r.target.name}'s ${id}: ${text}`));
  if (analyses.length > 0) {
    L.push('');
    L.push(...analyses);
  }
  for (const r of runs) {
    if (r.afterCutRss) L.push(`- ${r.target.name}: RSS ${mib(r.afterCutRss.rss)} MiB after the cut, VmHWM since the restart ${mib(r.afterCutRss.hwm)} MiB`);
    if (r.error) L.push(`- ${r.target.name} failed: ${r.error}`);
  }
  L.push('');
  return L.join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions();
  const command = `node dist/bench/tsdb.js ${process.argv.slice(2).join(' ')}`.trim();
  const machine = describeMachine(machineInfo(PROMETHEUS3.path));
  // Rounds ending before now, the first on a 2h boundary, so the first block is a full range.
  const rounds = Math.floor((o.minutes * 60_000) / SCRAPE_INTERVAL_MS);
  const firstTs = Math.floor((Date.now() - rounds * SCRAPE_INTERVAL_MS - 60_000) / BLOCK_RANGE_MS) * BLOCK_RANGE_MS;
  const probe = generateFleet(o.series, o.seed);
  const ds: DataSet = {
    rounds,
    firstTs,
    lastTs: firstTs + (rounds - 1) * SCRAPE_INTERVAL_MS,
    samples: o.series * rounds,
    spotSeries: probe.labels.filter((l) => l.some(([n, v]) => n === '__name__' && v === SPOT_METRIC)).length,
  };
  if (ds.lastTs - ds.firstTs <= 1.5 * BLOCK_RANGE_MS) log(`note: ${o.minutes} min of data do not exceed 3h: Prometheus will not cut a block on its own`);

  const targets: Target[] = [];
  for (const name of o.targets) targets.push(name === 'ours' ? await makeOurs(o) : await makePrometheus());
  const runs: TargetRun[] = [];
  let encodeMs = 0;
  let wireBytes = 0;
  try {
    for (const t of targets) {
      log(`[${t.name}] starting fresh in ${t.dir}`);
      t.proc = await start(t, 'ingest', o);
    }
    log(`pushing ${fmtInt(ds.samples)} samples (${o.series} series × ${rounds} rounds) into ${targets.map((t) => t.name).join(' and ')}`);
    const ing = await ingest(o, targets, ds);
    encodeMs = ing.encodeMs;
    wireBytes = ing.wireBytes;
    for (const t of targets) runs.push({ target: t, ingest: ing.results.get(t.name)! });

    // One target at a time from here, the other idle, so they do not compete for the CPUs.
    for (const run of runs) {
      const t = run.target;
      try {
        run.replay = await restartAndReplay(t, o);
        run.replay.spot = await spotCount(t, ds);
        run.cut = t.name === 'ours' ? await cutOurs(t) : await cutPrometheus(t, o);
        run.cut.spot = await spotCount(t, ds);
        const b = comparedBlock(run.cut, ds);
        if (b) run.cut.analyze.set(b.ulid, await analyze(t, b));
        const rss = await readStatusKb(t.proc!.pid, 'VmRSS');
        const hwm = await readStatusKb(t.proc!.pid, 'VmHWM');
        if (rss !== undefined && hwm !== undefined) run.afterCutRss = { rss: rss * 1024, hwm: hwm * 1024 };
      } catch (e) {
        run.error = (e as Error).message;
        log(`[${t.name}] failed: ${run.error}`);
        process.exitCode = 1;
      } finally {
        await t.proc?.stop('SIGTERM');
      }
    }
  } finally {
    for (const t of targets) {
      await t.proc?.stop('SIGTERM');
      if (!o.keep) await rm(t.dir, { recursive: true, force: true });
      else log(`[${t.name}] data kept in ${t.dir}`);
    }
  }
  const text = report(o, ds, runs, encodeMs, wireBytes, machine, command);
  process.stdout.write(text);
  if (o.out) await appendFile(o.out, text + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
