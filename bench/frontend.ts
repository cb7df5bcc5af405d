// frontend.ts is the query-frontend benchmark: bench/query.ts's data
// (remote-written oldest first) goes into two servers of ours, one with the
// query-frontend's splitting off (-query-frontend.split-queries-by-interval=0)
// and one with splitting by 24h and the inmemory results cache, and into
// Prometheus 3 (prometheus3 on PATH, or PROMETHEUS3_BIN). Then each
// dashboard query (bench/query.ts's QUERIES) over the last 24h (step 5m) and
// the last 7d (step 30m) is sent once per pass, one at a time: Prometheus 3;
// ours unsplit; ours split with a cold cache; ours again (cache warm); ours
// with `Cache-Control: no-store` (split only); and a fourth server of ours
// that also shards shardable queries (-query-frontend.parallelize-shardable-queries,
// --shards shards), cold and with no-store. It reports the median and total
// latency and the server's CPU seconds per pass.
//
//   npm run build:ts && node dist/bench/frontend.js --series 200 --hours 168
//
// Flags: --series N (200), --hours N of data (168; 7d queries need 168),
// --shards N (4: query shards of the sharding server), --seed N, --out FILE
// (append the markdown report).

import { appendFile } from 'node:fs/promises';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { intOption } from './lib/cli.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { cpuSeconds, startOurs, startReference, type RunningTarget } from './lib/targets.js';
import { buildWorkload, ingest, QUERIES, SCRAPE_INTERVAL_MS, SCRAPE_OFFSET_MS, type Options } from './query.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';

const HOUR_MS = 3_600_000;
/** RANGES are the long dashboard ranges the query-frontend is for. */
const RANGES = [
  { label: '24h', rangeMs: 24 * HOUR_MS, stepMs: 300_000 },
  { label: '7d', rangeMs: 168 * HOUR_MS, stepMs: 1_800_000 },
];

/** Pass is one run of every query against one system. */
interface Pass {
  name: string;
  range: string;
  latenciesMs: number[];
  cpuS: number;
  errors: number;
  firstError?: string;
}

/** get sends one query_range and times it. */
function get(apiBase: string, params: URLSearchParams, headers: Record<string, string>): Promise<{ ms: number; status: number; body: string }> {
  const url = new URL(`${apiBase}/query_range?${params}`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error('query timed out after 300 s')));
    req.on('error', reject);
  });
}

/** runPass sends every query over the range once, in turn. */
async function runPass(name: string, t: RunningTarget, range: (typeof RANGES)[number], endMs: number, headers: Record<string, string> = {}): Promise<Pass> {
  const end = Math.floor(endMs / range.stepMs) * range.stepMs;
  const out: Pass = { name, range: range.label, latenciesMs: [], cpuS: 0, errors: 0 };
  const cpu0 = await cpuSeconds(t.proc.pid);
  for (const q of QUERIES) {
    const params = new URLSearchParams({ query: q.query, start: String((end - range.rangeMs) / 1000), end: String(end / 1000), step: String(range.stepMs / 1000) });
    const a = await get(t.queryApi, params, headers);
    if (a.status === 200) out.latenciesMs.push(a.ms);
    else {
      out.errors++;
      out.firstError ??= `${a.status} ${a.body.slice(0, 200)}`;
    }
  }
  out.cpuS = (await cpuSeconds(t.proc.pid)) - cpu0;
  process.stderr.write(`[${name} ${range.label}] ${out.latenciesMs.map((l) => l.toFixed(0)).join(' ')} ms, cpu ${out.cpuS.toFixed(2)} s\n`);
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({
    options: { series: { type: 'string', default: '200' }, hours: { type: 'string', default: '168' }, shards: { type: 'string', default: '4' }, seed: { type: 'string', default: '42' }, out: { type: 'string' } },
    strict: true,
  });
  const series = intOption('series', values.series, 100);
  const hours = intOption('hours', values.hours, 1);
  const shards = intOption('shards', values.shards, 2);
  if (!PROMETHEUS3.found) throw new Error(PROMETHEUS3.missing);
  const command = `node dist/bench/frontend.js ${process.argv.slice(2).join(' ')}`.trim();
  const machine = describeMachine(machineInfo(PROMETHEUS3.path));
  const lastTs = Math.floor(Date.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS - SCRAPE_INTERVAL_MS + SCRAPE_OFFSET_MS;
  const wo: Options = { series, hours, repeat: 1, concurrency: 8, batch: 2000, wave: 40, targets: ['ours', 'prometheus'], seed: intOption('seed', values.seed, 0), hold: false, oursArgs: [], oursNodeArgs: [] };
  process.stderr.write(`encoding ${hours} h of ${series} series...\n`);
  const w = buildWorkload(wo, lastTs);
  const targets: RunningTarget[] = [];
  const passes: Pass[] = [];
  try {
    const prom = await startReference(PROMETHEUS3.path);
    targets.push(prom);
    const plain = await startOurs(['-query-frontend.split-queries-by-interval=0']);
    targets.push(plain);
    const frontendArgs = ['-query-frontend.split-queries-by-interval=24h', '-query-frontend.cache-results=true', '-query-frontend.results-cache.backend=inmemory'];
    const fe = await startOurs(frontendArgs);
    targets.push(fe);
    const sharded = await startOurs([...frontendArgs, '-query-frontend.parallelize-shardable-queries=true', `-query-frontend.query-sharding-total-shards=${shards}`]);
    targets.push(sharded);
    for (const t of targets) {
      process.stderr.write(`[${t.name}] ingesting\n`);
      await ingest(t, wo, w);
    }
    w.waves = [];
    for (const range of RANGES) {
      if (range.rangeMs > hours * HOUR_MS) continue;
      passes.push(await runPass('Prometheus 3', prom, range, w.lastTs));
      passes.push(await runPass('ours, unsplit', plain, range, w.lastTs));
      passes.push(await runPass('ours, split 24h, cache cold', fe, range, w.lastTs));
      passes.push(await runPass('ours, split 24h, cache warm', fe, range, w.lastTs));
      passes.push(await runPass('ours, split 24h, no-store', fe, range, w.lastTs, { 'Cache-Control': 'no-store' }));
      passes.push(await runPass(`ours, split 24h + ${shards} shards, cache cold`, sharded, range, w.lastTs));
      passes.push(await runPass(`ours, split 24h + ${shards} shards, no-store`, sharded, range, w.lastTs, { 'Cache-Control': 'no-store' }));
    }
  } finally {
    for (const t of targets) await t.proc.stop(20_000);
  }
  const lines: string[] = [];
  lines.push(`## Query-frontend: split, results cache and query sharding on 24h and 7d range queries (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
  lines.push('');
  lines.push(`- command: \`${command}\` (${fmt((Date.now() - started) / 1000, 0)} s in all)`);
  lines.push(machine);
  lines.push(`- data: ${series} series x ${hours} h at 15 s (bench/query.ts's generator); each of the ${QUERIES.length} dashboard queries sent once per pass, one at a time; "cache warm" repeats the cold pass on the same server; "no-store" sends \`Cache-Control: no-store\` (split only)`);
  lines.push('');
  lines.push('| range | system | median ms | total ms | server CPU s | errors |');
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const p of passes) {
    lines.push(`| ${p.range} | ${p.name} | ${fmt(median(p.latenciesMs), 0)} | ${fmt(p.latenciesMs.reduce((a, b) => a + b, 0), 0)} | ${fmt(p.cpuS, 2)} | ${p.errors} |`);
  }
  for (const p of passes.filter((x) => x.firstError !== undefined)) lines.push(`- ${p.name} ${p.range}: first error: ${p.firstError}`);
  lines.push('');
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (values.out !== undefined) await appendFile(values.out, text + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
