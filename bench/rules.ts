// rules.ts is the rule-evaluation benchmark: T tenants x G groups x R rules
// (recording and alerting: rate, sum, count, histogram_quantile) over the
// same application series, evaluated by our ruler and by Prometheus 3.x in
// the same run. Ours gets each tenant's share of the series under its own
// tenant; Prometheus gets all of them with a `tenant` label and each group
// selects its tenant's share, so every rule reads the same number of series
// in both. Both keep receiving a new sample per series every 15 s for the
// whole run (as scraped data keeps arriving), so each measuring window reads
// the same amount of recent data whenever it runs. After the rules are loaded
// and have run once, CPU seconds of each process are measured over a window
// (minus an idle window, samples arriving but no rules loaded yet), divided
// by the rule evaluations in that window; missed iterations are read from
// each one's metrics.
//
//   npm run build && node dist/bench/rules.js --tenants 10 --groups 20 --rules 10 --series 20000
//
// Flags: --tenants N (10), --groups N per tenant (20), --rules N per group
// (10, at most 10 distinct kinds repeated), --series N in total (20000),
// --interval S group interval in seconds (15), --window S measuring window
// (60), --seed N, --out FILE (append the markdown report), --ours-node-arg ARG
// (repeatable, e.g. --ours-node-arg=--cpu-prof).

import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../src/remote/write-request.js';
import { findBinary } from '../test/peer/lib/binaries.js';
import { freePort, makeTempDir, startServer, type ServerProcess } from '../test/peer/lib/server-process.js';
import { COUNTER_NAME, HISTOGRAM_NAME, generateAppFamilies, stepAppFamilies } from './lib/app-series.js';
import { intOption } from './lib/cli.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { Rng } from './lib/prng.js';
import { cpuSeconds, oursArgs, REPO_ROOT } from './lib/targets.js';

const { values: opts } = parseArgs({
  options: {
    tenants: { type: 'string', default: '10' },
    groups: { type: 'string', default: '20' },
    rules: { type: 'string', default: '10' },
    series: { type: 'string', default: '20000' },
    interval: { type: 'string', default: '15' },
    window: { type: 'string', default: '60' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string' },
    'ours-node-arg': { type: 'string', multiple: true },
  },
});
const TENANTS = intOption('tenants', opts.tenants, 1);
const GROUPS = intOption('groups', opts.groups, 1);
const RULES = intOption('rules', opts.rules, 1);
const SERIES = intOption('series', opts.series, 100);
const INTERVAL_S = intOption('interval', opts.interval, 1);
const WINDOW_S = intOption('window', opts.window, INTERVAL_S);
const SEED = intOption('seed', opts.seed, 0);
const STEP_MS = 15_000;
const HISTORY_STEPS = 40;

const X = COUNTER_NAME;
const B = `${HISTOGRAM_NAME}_bucket`;

/**
 * ruleKinds are the rules of a group (YAML items). tenant, for Prometheus, is the tenant matcher its
 * selectors need and a label on what its rules write: without it every tenant's group gN would write
 * the same series (ours keeps them apart by tenant), and Prometheus would spend the window refusing
 * duplicate and out-of-order samples.
 */
function ruleKinds(tenant: string | undefined, g: number): string[] {
  const sel = tenant !== undefined ? `{tenant="${tenant}"}` : '';
  const tenantLabel = tenant !== undefined ? `      tenant: ${tenant}\n` : '';
  const rule = (kind: 'record' | 'alert', name: string, expr: string, extra = ''): string => `  - ${kind}: ${name}\n    expr: ${expr}\n${extra}    labels:\n      group: g${g}\n${tenantLabel}`;
  return [
    rule('record', 'job:requests:rate1m', `sum by (job) (rate(${X}${sel}[1m]))`),
    rule('record', 'instance:requests:rate5m', `sum by (instance) (rate(${X}${sel}[5m]))`),
    rule('record', 'cluster:latency:p99', `histogram_quantile(0.99, sum by (le, cluster) (rate(${B}${sel}[5m])))`),
    rule('record', 'job:latency:p50', `histogram_quantile(0.5, sum by (le, job) (rate(${B}${sel}[5m])))`),
    rule('alert', 'RequestRateHuge', `sum by (job) (rate(${X}${sel}[1m])) > 1e12`),
    rule('alert', 'LatencyHigh', `histogram_quantile(0.99, sum by (le, job) (rate(${B}${sel}[5m]))) > 0.1`, '    for: 5m\n'),
    rule('record', 'cluster:requests:sum', `sum by (cluster) (${X}${sel})`),
    rule('record', 'job:requests:count', `count by (job) (${X}${sel})`),
    rule('alert', 'InstancesUp', `count by (cluster) (${X}${sel}) > 0`),
    rule('record', 'code:requests:rate5m', `sum by (code) (rate(${X}${sel}[5m]))`),
  ];
}

function groupYaml(tenant: number, g: number, withSelector: boolean): string {
  const kinds = ruleKinds(withSelector ? `t${tenant}` : undefined, g);
  const rules = Array.from({ length: RULES }, (_, i) => kinds[i % kinds.length]!);
  return `name: t${tenant}-g${g}\ninterval: ${INTERVAL_S}s\nrules:\n${rules.join('')}`;
}

/**
 * TenantData is one tenant's share of the application series: HISTORY_STEPS samples ending at the
 * start, then one more sample per series at every step while the benchmark runs (as scraped data
 * keeps arriving), so every measuring window reads the same amount of data, whenever it runs.
 */
class TenantData {
  private readonly fam: ReturnType<typeof generateAppFamilies>;
  private readonly rng: Rng;

  constructor(readonly tenant: number, perTenant: number) {
    const histograms = Math.max(1, Math.floor(perTenant / 60));
    const counters = Math.max(1, perTenant - histograms * 14);
    this.fam = generateAppFamilies(counters, histograms, SEED + tenant);
    this.rng = new Rng(SEED * 31 + tenant);
  }

  /** samples steps the series `steps` times, the last step at endMs: ours (no tenant label) and Prometheus's (with it). */
  samples(steps: number, endMs: number): { ours: TimeSeriesInput[]; prometheus: TimeSeriesInput[] } {
    const withTenant = (labels: Array<[string, string]>): Array<[string, string]> => [...labels, ['tenant', `t${this.tenant}`] as [string, string]].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const ours: TimeSeriesInput[] = this.fam.labels.map((labels) => ({ labels, samples: [] }));
    for (let s = 0; s < steps; s++) {
      stepAppFamilies(this.fam, this.rng);
      const ts = endMs - (steps - 1 - s) * STEP_MS;
      for (let i = 0; i < ours.length; i++) ours[i]!.samples.push([ts, this.fam.value[i]!]);
    }
    return { ours, prometheus: ours.map((x) => ({ labels: withTenant(x.labels), samples: x.samples })) };
  }
}

async function push(url: string, headers: Record<string, string>, series: TimeSeriesInput[]): Promise<void> {
  for (let i = 0; i < series.length; i += 500) {
    const res = await fetch(url, { method: 'POST', headers: { ...REMOTE_WRITE_HEADERS, ...headers }, body: new Uint8Array(encodeWriteRequestSnappy(series.slice(i, i + 500))) });
    if (res.status >= 300) throw new Error(`push to ${url}: ${res.status} ${await res.text()}`);
  }
}

/** metricMedian is the median of a metric's series (a gauge per rule group). */
async function metricMedian(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const vals: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) vals.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  vals.sort((a, b) => a - b);
  return vals.length === 0 ? NaN : vals[Math.floor(vals.length / 2)]!;
}

async function metricSum(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Measured {
  idleCpu: number;
  cpu: number;
  evaluations: number;
  missed: number;
  failures: number;
  /** groupMs is the median of the groups' last evaluation wall time at the window's end (ms). */
  groupMs: number;
}

/** measure waits for the rules to run once, then measures CPU and evaluations over the window. */
async function measure(proc: ServerProcess, names: { evals: string; missed: string; failures: string; lastDuration: string }, idleCpu: number): Promise<Measured> {
  await sleep((INTERVAL_S + 2) * 1000);
  const cpu0 = await cpuSeconds(proc.pid);
  const e0 = await metricSum(proc.baseUrl, names.evals);
  const m0 = await metricSum(proc.baseUrl, names.missed);
  const f0 = await metricSum(proc.baseUrl, names.failures);
  await sleep(WINDOW_S * 1000);
  const cpu1 = await cpuSeconds(proc.pid);
  return {
    idleCpu,
    cpu: cpu1 - cpu0,
    evaluations: (await metricSum(proc.baseUrl, names.evals)) - e0,
    missed: (await metricSum(proc.baseUrl, names.missed)) - m0,
    failures: (await metricSum(proc.baseUrl, names.failures)) - f0,
    groupMs: (await metricMedian(proc.baseUrl, names.lastDuration)) * 1000,
  };
}

/** IDLE_S is the idle window: whole push steps (samples keep arriving then too), at most the measuring window. */
const IDLE_S = Math.min(WINDOW_S, 2 * (STEP_MS / 1000));

async function idleCpuOver(pid: number): Promise<number> {
  const c0 = await cpuSeconds(pid);
  await sleep(IDLE_S * 1000);
  return ((await cpuSeconds(pid)) - c0) * (WINDOW_S / IDLE_S);
}

async function main(): Promise<void> {
  const prom = findBinary('prometheus3', 'PROMETHEUS3_BIN');
  if (prom === undefined) throw new Error('prometheus3 not found on PATH (scripts/install-peers.sh builds it; or set PROMETHEUS3_BIN)');
  const perTenant = Math.floor(SERIES / TENANTS);
  const endMs = Date.now();

  // Ours: multi-tenant, every tenant its share.
  const oursDir = await makeTempDir('bench-rules-ours-');
  const oursPort = await freePort();
  const ours = await startServer({
    name: 'ours',
    command: process.execPath,
    args: oursArgs(oursDir, oursPort, ['-auth.multitenancy-enabled=true', `-ruler-storage.filesystem.dir=${join(oursDir, 'ruler')}`, '-ruler.max-rule-groups-per-tenant=0', '-ruler.max-rules-per-rule-group=0', '-log.level=warn'], opts['ours-node-arg'] ?? []),
    cwd: REPO_ROOT,
    port: oursPort,
    readyPath: '/ready',
    readyTimeoutMs: 60_000,
    cleanup: [oursDir],
  });
  // Prometheus 3: every tenant's share with a tenant label, the rule file written before it starts.
  const promDir = await makeTempDir('bench-rules-prom-');
  const groups: string[] = [];
  for (let t = 0; t < TENANTS; t++) for (let g = 0; g < GROUPS; g++) groups.push(groupYaml(t, g, true));
  await writeFile(join(promDir, 'rules.yml'), `groups:\n${groups.map((y) => y.replace(/^/gm, '    ').replace(/^ {4}name:/, '  - name:')).join('\n')}\n`);
  await writeFile(join(promDir, 'prometheus.yml'), `global:\n  evaluation_interval: ${INTERVAL_S}s\nscrape_configs: []\n`);
  const promPort = await freePort();
  const prometheus = await startServer({
    name: 'prometheus3',
    command: prom,
    args: [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--web.enable-remote-write-receiver', '--web.enable-lifecycle', '--log.level=warn'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [promDir],
  });
  try {
    const data = Array.from({ length: TENANTS }, (_, t) => new TenantData(t, perTenant));
    const pushRound = async (steps: number, endMs: number): Promise<void> => {
      for (const d of data) {
        const { ours: o, prometheus: p } = d.samples(steps, endMs);
        await push(`${ours.baseUrl}/api/v1/push`, { 'X-Scope-OrgID': `t${d.tenant}` }, o);
        await push(`${prometheus.baseUrl}/api/v1/write`, {}, p);
      }
    };
    await pushRound(HISTORY_STEPS, endMs);
    // New samples every STEP_MS for both systems until the end, also while the other one is measured.
    let pushing = true;
    let pushErr: unknown;
    const pusher = (async () => {
      for (let next = endMs + STEP_MS; pushing; next += STEP_MS) {
        await sleep(Math.max(0, next - Date.now()));
        if (!pushing) break;
        await pushRound(1, next).catch((err: unknown) => {
          pushErr = err;
          pushing = false;
        });
      }
    })();
    const [oursIdle, promIdle] = await Promise.all([idleCpuOver(ours.pid), idleCpuOver(prometheus.pid)]);

    // Load the rules: ours through the config API, Prometheus by reloading its configuration with the rule file.
    for (let t = 0; t < TENANTS; t++) {
      for (let g = 0; g < GROUPS; g++) {
        const res = await fetch(`${ours.baseUrl}/prometheus/config/v1/rules/bench`, { method: 'POST', headers: { 'X-Scope-OrgID': `t${t}` }, body: groupYaml(t, g, false) });
        if (res.status !== 202) throw new Error(`POST group: ${res.status} ${await res.text()}`);
      }
    }
    await writeFile(join(promDir, 'prometheus.yml'), `global:\n  evaluation_interval: ${INTERVAL_S}s\nrule_files:\n  - ${join(promDir, 'rules.yml')}\nscrape_configs: []\n`);
    const reload = await fetch(`${prometheus.baseUrl}/-/reload`, { method: 'POST' });
    if (!reload.ok) throw new Error(`reload: ${reload.status} ${await reload.text()}`);

    // Measured one after the other so they do not share the two cores.
    const o = await measure(ours, { evals: 'cortex_prometheus_rule_evaluations_total', missed: 'cortex_prometheus_rule_group_iterations_missed_total', failures: 'cortex_prometheus_rule_evaluation_failures_total', lastDuration: 'cortex_prometheus_rule_group_last_duration_seconds' }, oursIdle);
    const p = await measure(prometheus, { evals: 'prometheus_rule_evaluations_total', missed: 'prometheus_rule_group_iterations_missed_total', failures: 'prometheus_rule_evaluation_failures_total', lastDuration: 'prometheus_rule_group_last_duration_seconds' }, promIdle);
    pushing = false;
    await pusher;
    if (pushErr !== undefined) throw pushErr;
    const perRule = (m: Measured): number => (Math.max(0, m.cpu - m.idleCpu) / Math.max(1, m.evaluations)) * 1e6;
    const rows = [
      ['', 'ours', 'Prometheus 3', 'ours / Prometheus'],
      ['rule evaluations in the window', String(o.evaluations), String(p.evaluations), ''],
      ['CPU seconds in the window (idle)', `${o.cpu.toFixed(2)} (${o.idleCpu.toFixed(2)})`, `${p.cpu.toFixed(2)} (${p.idleCpu.toFixed(2)})`, ''],
      ['CPU per rule evaluation (µs, idle removed)', perRule(o).toFixed(0), perRule(p).toFixed(0), `x${(perRule(o) / perRule(p)).toFixed(2)}`],
      ['group evaluation wall time, median of the last (ms)', o.groupMs.toFixed(2), p.groupMs.toFixed(2), `x${(o.groupMs / p.groupMs).toFixed(2)}`],
      ['missed iterations', String(o.missed), String(p.missed), ''],
      ['failed evaluations', String(o.failures), String(p.failures), ''],
    ];
    const report = [
      `### Rule evaluation: ${TENANTS} tenants x ${GROUPS} groups x ${RULES} rules, ${SERIES} series, ${INTERVAL_S}s interval, ${WINDOW_S}s window`,
      '',
      describeMachine(machineInfo(prom)),
      '',
      ...rows.map((r) => `| ${r.join(' | ')} |`).flatMap((line, i) => (i === 0 ? [line, '| --- | --- | --- | --- |'] : [line])),
      '',
    ].join('\n');
    process.stdout.write(report + '\n');
    if (opts.out !== undefined) await appendFile(opts.out, report + '\n');
  } finally {
    await ours.stop();
    await prometheus.stop();
  }
}

await main();
