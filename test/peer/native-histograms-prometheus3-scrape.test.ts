// native-histograms-prometheus3-scrape.test.ts (peer suite): Prometheus 3
// scrapes itself every second with `scrape_native_histograms: true` (its own
// HTTP and engine latencies are native histograms) and remote-writes 2.0 to us
// with `send_native_histograms: true`, through a loopback proxy that records
// the exchanges. Once it has sent everything up to a cut-off, it counts no
// failed histogram, and the histograms our answers say were written
// (X-Prometheus-Remote-Write-Histograms-Written) add up to the histograms it
// counts as sent; the histogram series it holds are ours.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, scrapeMetric, startServer } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';

const TENANT = 'peer-nh-scrape';

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, seen: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen()})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

t.test('Prometheus 3 scrapes native histograms and remote-writes them to us (2.0)', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());
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
  const T = Date.now();
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
