// query-load.ts is the concurrent query-load benchmark: the query benchmark's
// data (bench/query.ts: node_exporter-like series, an application counter and
// a classic histogram, remote-written oldest first) goes into our server and
// into Prometheus 3 (prometheus3 on PATH, or PROMETHEUS3_BIN); then, for each
// client count, that many clients send the dashboard mix of query_range
// requests back to back (each client its own keep-alive connection, each
// starting at a different point of the mix) for a fixed time, against one
// system and then the other, in the same run. It reports queries/s, median and
// p99 latency, errors and the server's CPU seconds (per query too).
//
//   npm run build:ts && node dist/bench/query-load.js --series 10000 --hours 6
//
// Flags: --series N (10000), --hours N of data (6), --clients LIST (4,16,64),
// --seconds N per client count and system (30), --target ours|prometheus|both,
// --seed N, --out FILE (append the markdown report), --ours-arg FLAG (repeatable).

import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { intOption, targetsOption } from './lib/cli.js';
import { percentile } from './lib/load.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { QueryClient, type RangeQuery } from './lib/query-client.js';
import { cpuSeconds, startOurs, startReference, type RunningTarget, type TargetName } from './lib/targets.js';
import { buildWorkload, ingest, QUERIES, SCRAPE_INTERVAL_MS, SCRAPE_OFFSET_MS, type Options } from './query.js';
import { PROMETHEUS3 } from '../test/peer/lib/binary.js';

const HOUR_MS = 3_600_000;
/** RANGES are the dashboard ranges the clients ask for, with the step Grafana picks for a ~1000 px panel. */
const RANGES = [
  { label: '1h', rangeMs: HOUR_MS, stepMs: 15_000 },
  { label: '6h', rangeMs: 6 * HOUR_MS, stepMs: 60_000 },
];

interface LoadOptions {
  series: number;
  hours: number;
  clients: number[];
  seconds: number;
  targets: TargetName[];
  seed: number;
  out?: string;
  oursArgs: string[];
}

function parseOptions(): LoadOptions {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '10000' },
      hours: { type: 'string', default: '6' },
      clients: { type: 'string', default: '4,16,64' },
      seconds: { type: 'string', default: '30' },
      target: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      'ours-arg': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const clients = (values.clients ?? '').split(',').map((c) => intOption('clients', c, 1));
  return {
    series: intOption('series', values.series, 100),
    hours: intOption('hours', values.hours, 1),
    clients,
    seconds: intOption('seconds', values.seconds, 1),
    targets: targetsOption(values.target),
    seed: intOption('seed', values.seed, 0),
    out: values.out,
    oursArgs: values['ours-arg'] ?? [],
  };
}

/** LoadResult is one system under one client count. */
interface LoadResult {
  target: TargetName;
  clients: number;
  wallS: number;
  completed: number;
  errors: number;
  firstError?: string;
  latenciesMs: Float64Array;
  cpuS: number;
}

/** mix is the dashboard mix: every query over every range ending at endMs. */
function mix(endMs: number): RangeQuery[] {
  const out: RangeQuery[] = [];
  for (const r of RANGES) {
    const end = Math.floor(endMs / r.stepMs) * r.stepMs;
    for (const q of QUERIES) out.push({ query: q.query, startMs: end - r.rangeMs, endMs: end, stepMs: r.stepMs });
  }
  return out;
}

/** runLoad runs `clients` clients back to back for seconds against t; every loop ends at the deadline. */
async function runLoad(t: RunningTarget, clients: number, seconds: number, queries: RangeQuery[]): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = await cpuSeconds(t.proc.pid);
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const loops = Array.from({ length: clients }, async (_, c) => {
    const client = new QueryClient(t.queryApi);
    let i = (c * 7) % queries.length;
    try {
      while (performance.now() < deadline) {
        const q = queries[i % queries.length]!;
        i++;
        try {
          const a = await client.queryRange(q);
          if (a.status === 200) latencies.push(a.ms);
          else {
            errors++;
            firstError ??= `${a.status} ${a.body.toString('utf8').slice(0, 200)}`;
          }
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
        }
      }
    } finally {
      client.close();
    }
  });
  await Promise.all(loops);
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = (await cpuSeconds(t.proc.pid)) - cpu0;
  const out: LoadResult = { target: t.name, clients, wallS, completed: latencies.length, errors, latenciesMs: Float64Array.from(latencies), cpuS };
  if (firstError !== undefined) out.firstError = firstError;
  return out;
}

const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function report(o: LoadOptions, results: LoadResult[], info: { machine: string; command: string; wallS: number; queries: number }): string {
  const lines: string[] = [];
  lines.push(`## Concurrent query load (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
  lines.push('');
  lines.push(`- command: \`${info.command}\` (${fmt(info.wallS, 0)} s in all)`);
  lines.push(info.machine);
  lines.push(
    `- data: ${o.series.toLocaleString('en-US')} series x ${o.hours} h at 15 s (bench/query.ts's generator); mix: ${info.queries} query_range requests (${QUERIES.length} dashboard queries x ranges ${RANGES.map((r) => r.label).join(', ')}), each client its own keep-alive connection, back to back for ${o.seconds} s per client count and system; reference: Prometheus 3 (\`${PROMETHEUS3.path}\`)`,
  );
  lines.push('');
  lines.push('| clients | system | queries/s | p50 ms | p99 ms | max ms | errors | server CPU s | CPU ms / query |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const qps = r.completed / r.wallS;
    const name = r.target === 'ours' ? 'ours' : 'Prometheus 3';
    const max = r.latenciesMs.length > 0 ? Math.max(...r.latenciesMs) : NaN;
    lines.push(
      `| ${r.clients} | ${name} | ${fmt(qps)} | ${fmt(percentile(r.latenciesMs, 50), 0)} | ${fmt(percentile(r.latenciesMs, 99), 0)} | ${fmt(max, 0)} | ${r.errors} | ${fmt(r.cpuS)} | ${fmt((r.cpuS * 1000) / Math.max(1, r.completed), 0)} |`,
    );
  }
  const errs = results.filter((r) => r.firstError !== undefined);
  if (errs.length > 0) {
    lines.push('');
    for (const r of errs) lines.push(`- ${r.target} at ${r.clients} clients, first error: ${r.firstError}`);
  }
  lines.push('');
  lines.push('Goal at the largest client count: at least 2x the reference queries/s with a p99 below its p99.');
  const top = Math.max(...o.clients);
  const ours = results.find((r) => r.target === 'ours' && r.clients === top);
  const ref = results.find((r) => r.target === 'prometheus' && r.clients === top);
  if (ours !== undefined && ref !== undefined) {
    const ratio = ours.completed / ours.wallS / (ref.completed / ref.wallS);
    const p99o = percentile(ours.latenciesMs, 99);
    const p99r = percentile(ref.latenciesMs, 99);
    lines.push(`At ${top} clients: queries/s x${fmt(ratio, 2)} of Prometheus 3 (${ratio >= 2 ? 'met' : 'not met'}), p99 ${fmt(p99o, 0)} ms against ${fmt(p99r, 0)} ms (${p99o < p99r ? 'met' : 'not met'}).`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const o = parseOptions();
  if (o.targets.includes('prometheus') && !PROMETHEUS3.found) throw new Error(PROMETHEUS3.missing);
  const command = `node dist/bench/query-load.js ${process.argv.slice(2).join(' ')}`.trim();
  const machine = describeMachine(machineInfo(PROMETHEUS3.path));
  const lastTs = Math.floor(Date.now() / SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS - SCRAPE_INTERVAL_MS + SCRAPE_OFFSET_MS;
  const wo: Options = { series: o.series, hours: o.hours, repeat: 1, concurrency: 8, batch: 2000, wave: 40, targets: o.targets, seed: o.seed, hold: false, oursArgs: o.oursArgs, oursNodeArgs: [] };
  process.stderr.write(`encoding ${o.hours} h of ${o.series} series...\n`);
  const w = buildWorkload(wo, lastTs);
  const targets: RunningTarget[] = [];
  const results: LoadResult[] = [];
  try {
    for (const name of o.targets) {
      process.stderr.write(`[${name}] starting\n`);
      const t = name === 'ours' ? await startOurs(o.oursArgs) : await startReference(PROMETHEUS3.path);
      targets.push(t);
      await ingest(t, wo, w);
    }
    w.waves = [];
    const queries = mix(w.lastTs);
    for (const clients of o.clients) {
      for (const t of targets) {
        process.stderr.write(`[${t.name}] ${clients} clients for ${o.seconds} s\n`);
        const r = await runLoad(t, clients, o.seconds, queries);
        process.stderr.write(`[${t.name}] ${clients} clients: ${fmt(r.completed / r.wallS)} queries/s, p99 ${fmt(percentile(r.latenciesMs, 99), 0)} ms, ${r.errors} errors\n`);
        results.push(r);
      }
    }
    const text = report(o, results, { machine, command, wallS: (Date.now() - started) / 1000, queries: queries.length });
    process.stdout.write(text);
    if (o.out) await appendFile(o.out, text + '\n');
  } finally {
    for (const t of targets) await t.proc.stop(20_000);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
