// provisioning.ts is the Grafana alerting provisioning benchmark: it
// provisions N alert rules in G rule groups through the provisioning API
// (PUT folder/{f}/rule-groups/{g}, C requests in flight) over S series pushed
// by remote write, then lets our server evaluate them. It reports the
// provisioning requests (and rules) per second, and the evaluation CPU per
// rule: the server process's user+system CPU over a window, minus an idle
// window measured before the rules existed, divided by the rule evaluations
// counted in the window (grafana_alerting_rule_evaluations_total).
//
//   npm run build && node dist/bench/provisioning.js --rules 10000 --groups 500 --series 100000
//
// Each rule reads its own S/N series (`bench_load{group, rule}`) with an
// instant query, then reduce (last) and threshold (gt) expressions, as
// Grafana's rule editor builds a Prometheus alert. Flags: --rules N (10000),
// --groups N (500), --series N (100000), --interval S (60), --window S (60),
// --concurrency N (8), --out FILE (append the markdown report), --cpu-prof DIR
// (the server writes a V8 CPU profile of its main thread there when stopped).

import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../src/remote/write-request.js';
import { freePort, makeTempDir, scrapeMetric, startServer } from '../test/peer/lib/server-process.js';
import { intOption } from './lib/cli.js';
import { cpuSeconds, oursArgs, REPO_ROOT } from './lib/targets.js';

const { values: opts } = parseArgs({
  options: {
    rules: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '500' },
    series: { type: 'string', default: '100000' },
    interval: { type: 'string', default: '60' },
    window: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const RULES = intOption('rules', opts.rules, 1);
const GROUPS = intOption('groups', opts.groups, 1);
const SERIES = intOption('series', opts.series, RULES);
const INTERVAL_S = intOption('interval', opts.interval, 10);
const WINDOW_S = intOption('window', opts.window, INTERVAL_S);
const CONCURRENCY = intOption('concurrency', opts.concurrency, 1);
const PER_GROUP = Math.ceil(RULES / GROUPS);
const PER_RULE = Math.max(1, Math.floor(SERIES / RULES));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ruleBody(g: number, r: number): Record<string, unknown> {
  return {
    uid: `b-${g}-${r}`,
    title: `Load g${g} r${r}`,
    condition: 'C',
    data: [
      { refId: 'A', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: 'mimir', model: { expr: `bench_load{group="g${g}",rule="r${r}"}`, instant: true, refId: 'A' } },
      { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last', refId: 'B' } },
      { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [0.95] } }], refId: 'C' } },
    ],
    noDataState: 'NoData',
    execErrState: 'Error',
    for: '5m',
    labels: { team: `t${g % 10}` },
    annotations: { summary: 'load {{ $values.B.Value }} on {{ $labels.host }}' },
  };
}

async function main(): Promise<void> {
  const dir = await makeTempDir('bench-prov-');
  const port = await freePort();
  const server = await startServer({
    name: 'ours',
    command: process.execPath,
    args: oursArgs(dir, port, ['-grafana-provisioning.base-interval=10s', '-querier.max-concurrent=8', `-ruler-storage.filesystem.dir=${dir}/ruler`, `-alertmanager.storage.path=${dir}/am`, `-alertmanager-storage.filesystem.dir=${dir}/ams`, `-admin.client.filesystem.dir=${dir}/admin`], opts['cpu-prof'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof']}`] : []),
    cwd: REPO_ROOT,
    port,
    readyPath: '/ready',
    cleanup: [dir],
    readyTimeoutMs: 60_000,
  });
  const base = server.baseUrl;
  try {
    // Series: PER_RULE hosts for every rule, two samples each (1 min apart).
    const now = Date.now();
    let batch: TimeSeriesInput[] = [];
    let pushed = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const res = await fetch(`${base}/api/v1/push`, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body: new Uint8Array(encodeWriteRequestSnappy(batch)) });
      if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
      pushed += batch.length;
      batch = [];
    };
    for (let g = 0; g < GROUPS; g++) {
      for (let r = 0; r < PER_GROUP && g * PER_GROUP + r < RULES; r++) {
        for (let h = 0; h < PER_RULE; h++) {
          const v = ((g * 7919 + r * 104729 + h * 31) % 1000) / 1000;
          batch.push({ labels: [['__name__', 'bench_load'], ['group', `g${g}`], ['host', `h${h}`], ['rule', `r${r}`]], samples: [[now - 60_000, v], [now, v]] });
          if (batch.length >= 2000) await flush();
        }
      }
    }
    await flush();
    console.error(`pushed ${pushed} series`);

    // Idle CPU before any rule exists.
    const idle0 = await cpuSeconds(server.pid);
    await sleep(10_000);
    const idlePerS = ((await cpuSeconds(server.pid)) - idle0) / 10;

    // Provisioning: one PUT per group, CONCURRENCY in flight.
    let next = 0;
    let failures = 0;
    const latencies: number[] = [];
    const t0 = performance.now();
    const cpuP0 = await cpuSeconds(server.pid);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const g = next++;
          if (g >= GROUPS) return;
          const rules = [];
          for (let r = 0; r < PER_GROUP && g * PER_GROUP + r < RULES; r++) rules.push(ruleBody(g, r));
          const s = performance.now();
          const res = await fetch(`${base}/api/v1/provisioning/folder/bench-f${g % 20}/rule-groups/g${g}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ interval: INTERVAL_S, rules }) });
          await res.arrayBuffer();
          latencies.push(performance.now() - s);
          if (res.status !== 200) failures++;
        }
      }),
    );
    const provSeconds = (performance.now() - t0) / 1000;
    const provCpu = (await cpuSeconds(server.pid)) - cpuP0;
    latencies.sort((a, b) => a - b);
    const listStart = performance.now();
    const all = (await (await fetch(`${base}/api/v1/provisioning/alert-rules`)).json()) as unknown[];
    const listMs = performance.now() - listStart;
    console.error(`provisioned ${all.length} rules in ${provSeconds.toFixed(1)} s`);

    // Evaluation: let every group run once, then measure a window.
    const evalCount = async (): Promise<number> => scrapeMetric(await (await fetch(`${base}/metrics`)).text(), 'grafana_alerting_rule_evaluations_total') ?? 0;
    const failCount = async (): Promise<number> => scrapeMetric(await (await fetch(`${base}/metrics`)).text(), 'grafana_alerting_rule_evaluation_failures_total') ?? 0;
    for (let i = 0; i < INTERVAL_S * 4 && (await evalCount()) < RULES; i++) await sleep(500);
    const e0 = await evalCount();
    const c0 = await cpuSeconds(server.pid);
    await sleep(WINDOW_S * 1000);
    const e1 = await evalCount();
    const c1 = await cpuSeconds(server.pid);
    const evals = e1 - e0;
    const cpu = c1 - c0 - idlePerS * WINDOW_S;
    const failed = await failCount();

    const report = [
      `## Grafana alerting provisioning — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `\`node dist/bench/provisioning.js --rules ${RULES} --groups ${GROUPS} --series ${SERIES} --interval ${INTERVAL_S} --window ${WINDOW_S} --concurrency ${CONCURRENCY}\``,
      `(\`bench/provisioning.ts\`): ${RULES} rules in ${GROUPS} groups (${PER_GROUP} per group, one PUT per group, ${CONCURRENCY} in flight) over ${pushed} series`,
      `(${PER_RULE} per rule); each rule an instant PromQL query on the \`mimir\` data source, then reduce (last) and threshold (gt) expressions; groups every ${INTERVAL_S} s.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| provisioning: group PUTs per second | ${(GROUPS / provSeconds).toFixed(1)} |`,
      `| provisioning: rules per second | ${(all.length / provSeconds).toFixed(0)} |`,
      `| provisioning: PUT latency p50 / p99 | ${latencies[Math.floor(latencies.length * 0.5)]!.toFixed(0)} ms / ${latencies[Math.floor(latencies.length * 0.99)]!.toFixed(0)} ms |`,
      `| provisioning: server CPU per group PUT | ${((provCpu / GROUPS) * 1000).toFixed(1)} ms |`,
      `| failed PUTs | ${failures} |`,
      `| GET alert-rules (${all.length} rules) | ${listMs.toFixed(0)} ms |`,
      `| rule evaluations in the ${WINDOW_S} s window | ${evals} (expected ${Math.round((RULES * WINDOW_S) / INTERVAL_S)}) |`,
      `| evaluation CPU per rule (idle removed) | ${evals > 0 ? ((cpu / evals) * 1e6).toFixed(0) : 'n/a'} µs |`,
      `| failed evaluations (total) | ${failed} |`,
      '',
    ].join('\n');
    console.log(report);
    if (opts.out !== undefined) await appendFile(opts.out, '\n' + report);
  } finally {
    await server.stop();
  }
}

await main();
