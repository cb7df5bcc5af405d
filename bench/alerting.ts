// alerting.ts benchmarks our Alertmanager next to Alertmanager 0.35 in the
// same run, with the same configuration (a route tree by team and severity,
// webhook receivers on a local sink) and the same pre-generated alerts:
//   - POST /api/v2/alerts throughput in batches while 50,000 alerts are
//     active (a first pass creates them, timed passes re-send them, as
//     Prometheus does every evaluation);
//   - memory per active alert (RSS after the load minus RSS before, / alerts);
//   - time from an alert's arrival to its webhook notification (new group,
//     group_wait 0s), p50 and p99.
// Usage: node dist/bench/alerting.js [--alerts 50000] [--batch 100] [--rounds 3] [--latency 300] [--out bench/RESULTS.md]
//   [--systems both|ours|am] [--ours-node-args "--trace-gc"]

import http from 'node:http';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { intOption } from './lib/cli.js';
import { percentile } from './lib/load.js';
import { cpuSeconds, oursArgs, REPO_ROOT } from './lib/targets.js';
import { alertingConfig as config, generateAlerts } from './lib/alerting-data.js';
import { freePort, makeTempDir, readRssBytes, scrapeMetric, startServer, type ServerProcess } from '../test/peer/lib/server-process.js';
import { ALERTMANAGER } from '../test/peer/lib/binary.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i] as string;
  if (!a.startsWith('--')) continue;
  const [k, v] = a.slice(2).split('=');
  args.set(k as string, v ?? (process.argv[i + 1] as string));
  if (v === undefined) i++;
}
const ALERTS = intOption('alerts', args.get('alerts') ?? '50000', 1);
const BATCH = intOption('batch', args.get('batch') ?? '100', 1);
const ROUNDS = intOption('rounds', args.get('rounds') ?? '3', 1);
const LATENCY = intOption('latency', args.get('latency') ?? '300', 1);
const CONCURRENCY = 4;
const OUT = args.get('out');
/** SYSTEMS picks who runs: both (default), ours or am (to profile one side). */
const SYSTEMS = args.get('systems') ?? 'both';
/** OURS_NODE_ARGS are extra node flags for our server (--ours-node-args="--trace-gc --cpu-prof"). */
const OURS_NODE_ARGS = (args.get('ours-node-args') ?? '').split(' ').filter((x) => x !== '');
if (!['both', 'ours', 'am'].includes(SYSTEMS)) throw new Error(`--systems must be both, ours or am, got ${SYSTEMS}`);

interface Sink {
  url: string;
  latencyArrivals: Map<string, number>;
  close(): void;
}

function startSink(): Promise<Sink> {
  const latencyArrivals = new Map<string, number>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      if (req.url === '/latency') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { alerts: Array<{ labels: { id: string } }> };
        for (const a of body.alerts) if (!latencyArrivals.has(a.labels.id)) latencyArrivals.set(a.labels.id, now);
      }
      res.end();
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, latencyArrivals, close: () => srv.close() })));
}

interface System {
  name: string;
  proc: ServerProcess;
  alertsUrl: string;
  /** metricsUrl is our /metrics (the heap reading); Alertmanager's Go heap is not compared. */
  metricsUrl?: string;
}

/**
 * AGENT keeps one connection per concurrent client. The posts go through
 * node:http rather than fetch: undici spends about 0.3 ms more per POST than
 * per GET in this process (measured against a bare uWS server as well), CPU
 * the benchmark would take from both servers on this shared machine.
 */
const AGENT = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: AGENT, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
    });
    req.setTimeout(60_000, () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function sendAll(url: string, batches: string[]): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) await post(url, batches[next++] as string);
    }),
  );
  return (performance.now() - start) / 1000;
}

/** heapUsed reads our process's V8 heap in use from /metrics (live objects and garbage not yet collected). */
async function heapUsed(sys: System): Promise<number> {
  if (sys.metricsUrl === undefined) return Number.NaN;
  const text = await (await fetch(sys.metricsUrl)).text();
  return scrapeMetric(text, 'nodejs_heap_size_used_bytes') ?? Number.NaN;
}

async function measure(sys: System, sink: Sink, batches: string[]): Promise<Record<string, number>> {
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = await readRssBytes(sys.proc.pid);
  const heapBefore = await heapUsed(sys);
  // Server CPU (all threads, 10 ms ticks) per pass: what each system spends per alert, whatever the machine's load.
  const cpu0 = await cpuSeconds(sys.proc.pid);
  const first = await sendAll(sys.alertsUrl, batches);
  const cpu1 = await cpuSeconds(sys.proc.pid);
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await sendAll(sys.alertsUrl, batches));
  const cpu2 = await cpuSeconds(sys.proc.pid);
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = await readRssBytes(sys.proc.pid);
  const heapAfter = await heapUsed(sys);
  // Latency: one new alert (its own group) at a time.
  const lat = new Float64Array(LATENCY);
  const postMs = new Float64Array(LATENCY);
  for (let i = 0; i < LATENCY; i++) {
    const id = `${sys.name}-${i}`;
    const t0 = performance.now();
    await post(sys.alertsUrl, JSON.stringify([{ labels: { alertname: 'Latency', bench: 'latency', id } }]));
    postMs[i] = performance.now() - t0;
    for (let w = 0; w < 2000 && !sink.latencyArrivals.has(id); w++) await new Promise((r) => setTimeout(r, 1));
    const t1 = sink.latencyArrivals.get(id);
    lat[i] = t1 === undefined ? Number.NaN : t1 - t0;
  }
  const sorted = lat.filter((x) => !Number.isNaN(x)).sort();
  const best = Math.min(...rounds);
  return {
    firstPassAlertsPerSec: ALERTS / first,
    alertsPerSec: ALERTS / best,
    firstPassCpuMicrosPerAlert: ((cpu1 - cpu0) * 1e6) / ALERTS,
    resendCpuMicrosPerAlert: ((cpu2 - cpu1) * 1e6) / (ALERTS * ROUNDS),
    bytesPerAlert: Math.max(0, rssAfter - rssBefore) / ALERTS,
    heapBytesPerAlert: (heapAfter - heapBefore) / ALERTS,
    rssMiB: rssAfter / 2 ** 20,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    postP99Ms: percentile(postMs.slice().sort(), 99),
    delivered: sorted.length,
  };
}

async function main(): Promise<void> {
  if (!ALERTMANAGER.found) throw new Error(ALERTMANAGER.missing);
  const amBin = ALERTMANAGER.path;
  const sink = await startSink();
  const alerts = generateAlerts(ALERTS, 42);
  const batches: string[] = [];
  for (let i = 0; i < alerts.length; i += BATCH) batches.push(JSON.stringify(alerts.slice(i, i + BATCH)));
  const results: Record<string, Record<string, number>> = {};

  // Alertmanager 0.35.
  if (SYSTEMS !== 'ours') {
    const dir = await makeTempDir('bench-am-');
    await writeFile(join(dir, 'am.yml'), config(sink.url));
    const port = await freePort();
    const proc = await startServer({
      name: 'alertmanager',
      command: amBin,
      args: [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
      port,
      readyPath: '/-/ready',
      cleanup: [dir],
    });
    try {
      results['Alertmanager 0.35'] = await measure({ name: 'am', proc, alertsUrl: `${proc.baseUrl}/api/v2/alerts` }, sink, batches);
    } finally {
      await proc.stop();
    }
  }
  // Ours.
  if (SYSTEMS !== 'am') {
    const dir = await makeTempDir('bench-ours-am-');
    const port = await freePort();
    const proc = await startServer({
      name: 'ours',
      command: process.execPath,
      args: oursArgs(dir, port, ['-target=alertmanager', `-admin.client.filesystem.dir=${join(dir, 'admin')}`, `-alertmanager.storage.path=${join(dir, 'am-data')}`, `-alertmanager-storage.filesystem.dir=${join(dir, 'am-bucket')}`, '-log.level=warn'], OURS_NODE_ARGS),
      cwd: REPO_ROOT,
      port,
      readyPath: '/ready',
      readyTimeoutMs: 60_000,
      cleanup: [dir],
    });
    try {
      const r = await fetch(`${proc.baseUrl}/api/v1/alerts`, { method: 'POST', body: JSON.stringify({ alertmanager_config: config(sink.url) }) });
      if (r.status !== 201) throw new Error(`config: ${r.status} ${await r.text()}`);
      results['ours'] = await measure({ name: 'ours', proc, alertsUrl: `${proc.baseUrl}/alertmanager/api/v2/alerts`, metricsUrl: `${proc.baseUrl}/metrics` }, sink, batches);
      // With extra node flags (--trace-gc...) the tail of the server's output is what was asked for.
      if (OURS_NODE_ARGS.length > 0) process.stderr.write(proc.output() + '\n');
    } finally {
      await proc.stop();
    }
  }
  sink.close();
  AGENT.destroy();

  const none: Record<string, number> = {};
  const am = results['Alertmanager 0.35'] ?? none;
  const ours = results['ours'] ?? none;
  process.stdout.write(JSON.stringify(results) + '\n');
  const f = (x: number | undefined, d = 0): string => x === undefined || Number.isNaN(x) ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const report = [
    `### Alerting: ${f(ALERTS)} active alerts, batches of ${BATCH}, ${CONCURRENCY} concurrent posts, ${ROUNDS} timed re-send passes, ${LATENCY} latency probes — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    '| | Alertmanager 0.35 | ours | ours / AM |',
    '| --- | ---: | ---: | ---: |',
    `| alerts/s, first pass (creating) | ${f(am.firstPassAlertsPerSec as number)} | ${f(ours.firstPassAlertsPerSec as number)} | x${f((ours.firstPassAlertsPerSec as number) / (am.firstPassAlertsPerSec as number), 2)} |`,
    `| alerts/s, re-send (best pass) | ${f(am.alertsPerSec as number)} | ${f(ours.alertsPerSec as number)} | x${f((ours.alertsPerSec as number) / (am.alertsPerSec as number), 2)} |`,
    `| server CPU per alert, first pass | ${f(am.firstPassCpuMicrosPerAlert as number, 1)} µs | ${f(ours.firstPassCpuMicrosPerAlert as number, 1)} µs | x${f((ours.firstPassCpuMicrosPerAlert as number) / (am.firstPassCpuMicrosPerAlert as number), 2)} |`,
    `| server CPU per alert, re-send (mean) | ${f(am.resendCpuMicrosPerAlert as number, 1)} µs | ${f(ours.resendCpuMicrosPerAlert as number, 1)} µs | x${f((ours.resendCpuMicrosPerAlert as number) / (am.resendCpuMicrosPerAlert as number), 2)} |`,
    `| memory per active alert (RSS delta) | ${f(am.bytesPerAlert as number)} B | ${f(ours.bytesPerAlert as number)} B | x${f((ours.bytesPerAlert as number) / (am.bytesPerAlert as number), 2)} |`,
    `| our heap per active alert (V8 heap in use, delta) | | ${f(ours.heapBytesPerAlert as number)} B | |`,
    `| RSS after load | ${f(am.rssMiB as number)} MiB | ${f(ours.rssMiB as number)} MiB | |`,
    `| arrival -> webhook p50 | ${f(am.p50Ms as number, 1)} ms | ${f(ours.p50Ms as number, 1)} ms | |`,
    `| arrival -> webhook p99 | ${f(am.p99Ms as number, 1)} ms | ${f(ours.p99Ms as number, 1)} ms | x${f((ours.p99Ms as number) / (am.p99Ms as number), 2)} |`,
    `| probe's POST answered, p99 | ${f(am.postP99Ms as number, 1)} ms | ${f(ours.postP99Ms as number, 1)} ms | |`,
    `| latency probes delivered | ${am.delivered} / ${LATENCY} | ${ours.delivered} / ${LATENCY} | |`,
    '',
  ].join('\n');
  process.stdout.write(report + '\n');
  if (OUT !== undefined) await appendFile(OUT, '\n' + report);
}

await main();
