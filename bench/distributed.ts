// distributed.ts is the write-path benchmark of microservices mode: etcd, one
// distributor and 1, 2 or 3 ingesters as processes on loopback (replication
// factor --rf, by default min(3, ingesters)); the same pre-encoded node_exporter-like
// WriteRequests are pushed to the distributor. It reports ingest throughput,
// CPU per sample (distributor and ingesters together, and per component) and
// the compressed bytes on the internal wire per sample.
//
//   npm run build && node dist/bench/distributed.js --series 20000 --rounds 5 --ingesters 1,2,3
//   node dist/bench/distributed.js --rf 1 --ingesters 1,2,3   (ingest growth at a fixed RF)
//
// Flags: --series N, --rounds N timed rounds after the warm-up, --ingesters
// comma list of cluster sizes, --concurrency N in-flight requests, --batch N
// samples per request, --rf N replication factor of every cluster (at most its
// smallest size; default min(3, ingesters) per cluster), --out FILE (append the
// markdown report).

import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runShards } from './lib/load.js';
import { generateFleet, stepFleet } from './lib/node-exporter.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds } from './lib/targets.js';
import { compress, encodeBatch, encodeLabelsBlob } from './lib/write-encoder.js';
import { intOption } from './lib/cli.js';
import { startComponent, type Component } from '../test/peer/lib/cluster.js';
import { startEtcd } from '../test/peer/lib/etcd.js';
import { scrapeMetric } from '../test/peer/lib/server-process.js';

const TENANT = 'bench';
const INTERVAL_MS = 15_000;

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    ingesters: { type: 'string', default: '1,2,3' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '2000' },
    rf: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});
const series = intOption('series', values.series, 1);
const rounds = intOption('rounds', values.rounds, 1);
const concurrency = intOption('concurrency', values.concurrency, 1);
const batch = intOption('batch', values.batch, 1);
const sizes = String(values.ingesters)
  .split(',')
  .map((x) => intOption('ingesters', x, 1));
/** fixedRf is --rf: one replication factor for every cluster (undefined: min(3, ingesters)). */
const fixedRf = values.rf === undefined ? undefined : intOption('rf', values.rf, 1);
if (fixedRf !== undefined && fixedRf > Math.min(...sizes)) throw new Error(`--rf ${fixedRf} needs at least ${fixedRf} ingesters in every cluster, got --ingesters ${String(values.ingesters)}`);

/** workload encodes the warm-up round and the timed rounds, request b in shard b % concurrency. */
function workload(first: number): { warmup: Buffer[][]; timed: Buffer[][] } {
  const fleet = generateFleet(series, 7);
  const blobs = fleet.labels.map(encodeLabelsBlob);
  const rng = new Rng(99);
  const warmup: Buffer[][] = Array.from({ length: concurrency }, () => []);
  const timed: Buffer[][] = Array.from({ length: concurrency }, () => []);
  const blocks = Math.ceil(series / batch);
  for (let round = 0; round <= rounds; round++) {
    for (let b = 0; b < blocks; b++) {
      (round === 0 ? warmup : timed)[b % concurrency]!.push(compress(encodeBatch(blobs, fleet.value, b * batch, Math.min(series, (b + 1) * batch), first + round * INTERVAL_MS)));
    }
    stepFleet(fleet, rng);
  }
  return { warmup, timed };
}

async function metric(c: Component, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
  return scrapeMetric(text, name) ?? 0;
}

interface Row {
  ingesters: number;
  rf: number;
  samplesPerSec: number;
  cpuPerMSamples: number;
  distributorCpuPerM: number;
  ingesterCpuPerM: number;
  wireBytesPerSample: number;
  errors: number;
}

async function run(n: number): Promise<Row> {
  const rf = fixedRf ?? Math.min(3, n);
  const etcd = await startEtcd();
  const procs: Component[] = [];
  try {
    // No per-tenant rate limit in the way (Mimir's default burst, 200,000 samples, refuses longer runs).
    const extra = [`-ingester.ring.replication-factor=${rf}`, '-distributor.remote-timeout=20s', '-distributor.ingestion-rate-limit=1000000000000', '-distributor.ingestion-burst-size=1000000000000'];
    for (let i = 1; i <= n; i++) procs.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint, extra }));
    const d = await startComponent({ name: 'distributor', target: 'distributor', etcd: etcd.endpoint, extra });
    procs.push(d);
    await new Promise((r) => setTimeout(r, 1500));
    const w = workload(Date.now() - (rounds + 2) * INTERVAL_MS);
    const target = { url: new URL(`http://127.0.0.1:${d.port}/api/v1/push`), headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'X-Scope-OrgID': TENANT } };
    const warm = await runShards(target, w.warmup);
    if (warm.errors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
    const cpu0 = await Promise.all(procs.map((p) => cpuSeconds(p.proc.pid)));
    const bytes0 = (await metric(d, 'mimir_internal_client_sent_bytes_total')) + (await metric(d, 'mimir_internal_client_received_bytes_total'));
    const timed = await runShards(target, w.timed);
    const cpu1 = await Promise.all(procs.map((p) => cpuSeconds(p.proc.pid)));
    const bytes1 = (await metric(d, 'mimir_internal_client_sent_bytes_total')) + (await metric(d, 'mimir_internal_client_received_bytes_total'));
    const samples = series * rounds;
    const cpu = cpu1.map((c, i) => c - cpu0[i]!);
    const distCpu = cpu[cpu.length - 1]!;
    const ingCpu = cpu.slice(0, -1).reduce((a, b) => a + b, 0);
    return {
      ingesters: n,
      rf,
      samplesPerSec: samples / (timed.wallMs / 1000),
      cpuPerMSamples: ((distCpu + ingCpu) / samples) * 1e6,
      distributorCpuPerM: (distCpu / samples) * 1e6,
      ingesterCpuPerM: (ingCpu / samples) * 1e6,
      wireBytesPerSample: (bytes1 - bytes0) / samples,
      errors: timed.errors,
    };
  } finally {
    for (const p of procs) await p.proc.stop(10_000);
    await etcd.stop();
  }
}

const rows: Row[] = [];
for (const n of sizes) {
  process.stderr.write(`[${n} ingesters] running\n`);
  rows.push(await run(n));
}
const f = (x: number, d = 2): string => x.toFixed(d);
let report = `| ingesters | RF | samples/s | CPU s / 1M samples (all) | distributor | ingesters | internal wire B/sample | errors |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`;
for (const r of rows) report += `| ${r.ingesters} | ${r.rf} | ${Math.round(r.samplesPerSec).toLocaleString('en-US')} | ${f(r.cpuPerMSamples)} | ${f(r.distributorCpuPerM)} | ${f(r.ingesterCpuPerM)} | ${f(r.wireBytesPerSample)} | ${r.errors} |\n`;
process.stdout.write(report);
if (values.out !== undefined) await appendFile(values.out, report);
