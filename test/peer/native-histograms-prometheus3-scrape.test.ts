// native-histograms-prometheus3-scrape.test.ts (peer suite): Prometheus 3
// scrapes itself and a node_exporter every second with
// `scrape_native_histograms: true` (its own HTTP latencies are native
// histograms; node_exporter's metrics arrive over the protobuf exposition) and
// remote-writes 2.0 to us with `send_native_histograms: true`, through a
// loopback proxy that records the exchanges. Once it has sent everything up to
// a cut-off T:
//   - histogram_quantile / histogram_count / histogram_sum range queries over
//     the same range answer the same from its API and ours, and so do
//     node_exporter's series;
//   - it counts no failed histogram or sample, and the histograms our answers
//     say were written (X-Prometheus-Remote-Write-Histograms-Written) add up to
//     the histograms it counts as sent; the histogram series it holds are ours.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '../../src/testing/server.js';
import { NODE_EXPORTER, PROMETHEUS3, failIfMissing, skipUnless } from './lib/binary.js';
import { getJson } from './lib/poll.js';
import { freePort, makeTempDir, scrapeMetric, startServer } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';

const TENANT = 'peer-nh-scrape';

type Labels = Record<string, string>;
interface RangeAnswer {
  status: string;
  data: { resultType: string; result: Array<{ metric: Labels; values?: unknown[]; histograms?: unknown[] }> };
}

/** sortedResult orders a range answer's series by their label sets, for comparing two servers' answers. */
function sortedResult(a: RangeAnswer): Array<[string, unknown]> {
  const key = (l: Labels): string => JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
  return a.data.result.map((r) => [key(r.metric), { values: r.values, histograms: r.histograms }] as [string, unknown]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/**
 * COMPARED are the range queries both servers answer over [from, T]. The
 * windows start several seconds after Prometheus started, so the zero sample
 * we store at a series' created timestamp (remote write 2.0 sends it; the
 * scraper's own TSDB does not store it) is never inside one.
 */
const COMPARED = [
  'histogram_count(prometheus_http_request_duration_seconds{handler="/metrics"})',
  'histogram_sum(prometheus_http_request_duration_seconds{handler="/metrics"})',
  'histogram_count(rate(prometheus_http_request_duration_seconds{handler="/metrics"}[5s]))',
  'histogram_quantile(0.9, sum(rate(prometheus_http_request_duration_seconds{handler="/metrics"}[5s])))',
  'histogram_quantile(0.5, sum by (handler) (increase(prometheus_http_request_duration_seconds{handler="/metrics"}[6s])))',
  'prometheus_http_request_duration_seconds{handler="/metrics"}',
  'node_cpu_seconds_total{mode="idle"}',
  'sum by (mode) (rate(node_cpu_seconds_total[5s]))',
  'node_memory_MemTotal_bytes',
];

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, seen: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen()})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

t.test('Prometheus 3 scrapes native histograms and remote-writes them to us (2.0)', { skip: skipUnless(PROMETHEUS3, NODE_EXPORTER) }, async (t) => {
  if (failIfMissing(t, PROMETHEUS3, NODE_EXPORTER)) return;
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());
  const nodePort = await freePort();
  const node = await startServer({
    name: 'node_exporter',
    command: NODE_EXPORTER.path,
    args: [`--web.listen-address=127.0.0.1:${nodePort}`, '--log.level=warn'],
    port: nodePort,
    readyPath: '/',
  });
  t.teardown(() => node.stop());
  const promPort = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    scrape_native_histograms: true',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${promPort}']`,
    '  - job_name: node',
    '    scrape_native_histograms: true',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${nodePort}']`,
    'remote_write:',
    `  - url: ${proxy.url}/api/v1/push`,
    '    protobuf_message: io.prometheus.write.v2.Request',
    '    send_native_histograms: true',
    '    headers:',
    `      X-Scope-OrgID: ${TENANT}`,
    '    queue_config:',
    '      min_shards: 1',
    '      max_shards: 1',
    '      batch_send_deadline: 500ms',
    '',
  ].join('\n');
  const dir = await makeTempDir('nh-scrape-peer-');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const promStartedMs = Date.now();
  const prom = await startServer({
    name: 'prometheus3',
    command: PROMETHEUS3.path,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());

  // Enough scrapes for histograms to be sent, then everything up to a cut-off delivered.
  let metrics = '';
  await waitFor(
    'histograms sent',
    40_000,
    async () => {
      metrics = await (await fetch(`${prom.baseUrl}/metrics`)).text();
      const n = scrapeMetric(metrics, 'prometheus_remote_storage_histograms_total') ?? 0;
      return n >= 50 ? n : undefined;
    },
    () => prom.output(),
  );
  // T: a whole second at least 20 s after Prometheus started (see COMPARED).
  while (Date.now() < promStartedMs + 21_000) await new Promise((r) => setTimeout(r, 250));
  const T = Math.floor(Date.now() / 1000) * 1000 - 1000;
  // Pushes answered before the last metrics read were all counted as sent by it.
  let answeredBefore = 0;
  await waitFor(
    'remote write past the cut-off',
    30_000,
    async () => {
      answeredBefore = proxy.exchanges.length;
      metrics = await (await fetch(`${prom.baseUrl}/metrics`)).text();
      const sent = scrapeMetric(metrics, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds') ?? 0;
      return sent * 1000 >= T + 2000 ? sent : undefined;
    },
    () => prom.output(),
  );
  // The same answers from both over [from, T], a 1 s step.
  const from = Math.max(T - 12_000, Math.ceil((promStartedMs + 8_000) / 1000) * 1000);
  const range = (q: string): string => `query=${encodeURIComponent(q)}&start=${from / 1000}&end=${T / 1000}&step=1`;
  for (const q of COMPARED) {
    const theirs = await getJson<RangeAnswer>(`${prom.baseUrl}/api/v1/query_range?${range(q)}`);
    const mine = await getJson<RangeAnswer>(`http://127.0.0.1:${ours.port}/prometheus/api/v1/query_range?${range(q)}`, { 'X-Scope-OrgID': TENANT });
    t.ok(theirs.data.result.length > 0, `${q}: Prometheus has data`);
    t.same(sortedResult(mine), sortedResult(theirs), `${q}: the same series, timestamps and values as Prometheus 3`);
  }

  // Stop Prometheus so no push is in flight while the counts are compared.
  await prom.stop();
  const sentHistograms = scrapeMetric(metrics, 'prometheus_remote_storage_histograms_total') ?? 0;
  t.equal(scrapeMetric(metrics, 'prometheus_remote_storage_histograms_failed_total') ?? 0, 0, 'Prometheus counts no failed histogram');
  t.equal(scrapeMetric(metrics, 'prometheus_remote_storage_samples_failed_total') ?? 0, 0, 'nor a failed sample');
  const pushes = proxy.exchanges.filter((x) => x.path === '/api/v1/push');
  t.same([...new Set(pushes.map((x) => x.status))], [204], 'every push answered 204');
  const writtenIn = (list: typeof proxy.exchanges) =>
    list.filter((x) => x.path === '/api/v1/push').reduce((n, x) => n + Number(x.responseHeaders['x-prometheus-remote-write-histograms-written'] ?? 0), 0);
  const writtenBefore = writtenIn(proxy.exchanges.slice(0, answeredBefore));
  const written = writtenIn(proxy.exchanges);
  t.ok(sentHistograms > 0, `Prometheus sent ${sentHistograms} histograms`);
  // Prometheus counts a batch as sent when it sends it: what we had answered by its last count
  // is at most that count, and everything we answered in the end is at least it.
  t.ok(writtenBefore <= sentHistograms && sentHistograms <= written, `we wrote ${writtenBefore} by Prometheus's count of ${sentHistograms} sent, ${written} in the end`);
  t.comment(`pushes ${pushes.length}, histograms written ${written}, sent (at the last count) ${sentHistograms}`);

  // The native-histogram series are in our head.
  const series = await fetch(
    `http://127.0.0.1:${ours.port}/prometheus/api/v1/series?match[]=${encodeURIComponent('prometheus_http_request_duration_seconds')}`,
    { headers: { 'X-Scope-OrgID': TENANT } },
  );
  const body = (await series.json()) as { data: Array<Record<string, string>> };
  t.ok(body.data.length > 0, `${body.data.length} prometheus_http_request_duration_seconds series (a native histogram without _bucket series)`);
});
