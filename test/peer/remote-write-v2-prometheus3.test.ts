// remote-write-v2-prometheus3.test.ts (peer suite): Prometheus 3 (built by
// scripts/install-peers.sh) scrapes itself every second and remote-writes to
// us with remote write 2.0 (`protobuf_message: io.prometheus.write.v2.Request`),
// sending the tenant header itself (3.x sends the configured `headers:`). A
// loopback proxy only records the exchanges, so the test sees the 2.0 content
// type and version header on the wire and our written-count headers in the
// answers. Once Prometheus has sent everything up to a cut-off time T, the
// series it holds over [start, T] are exactly ours, query_range gives the same
// values at the same timestamps, and the metadata carried inside the 2.0
// series (type and help; Prometheus 3 sends it with metadata-wal-records on)
// is what our metadata API answers.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, scrapeMetric, startServer } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';
import { getJson, waitForValue } from './lib/poll.js';

const TENANT = 'peer-rw2';

type Labels = Record<string, string>;
interface Matrix {
  data: { result: Array<{ metric: Labels; values: Array<[number, string]> }> };
}



const key = (l: Labels): string =>
  JSON.stringify(
    Object.keys(l)
      .sort()
      .map((k) => [k, l[k]]),
  );

t.test('Prometheus 3 remote-writes to us with remote write 2.0', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const ourApi = `http://127.0.0.1:${ours.port}/prometheus/api/v1`;
  const hdr = { 'X-Scope-OrgID': TENANT };
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());

  const promPort = await freePort();
  const startedMs = Date.now();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${promPort}']`,
    'remote_write:',
    `  - url: ${proxy.url}/api/v1/push`,
    '    protobuf_message: io.prometheus.write.v2.Request',
    '    headers:',
    `      X-Scope-OrgID: ${TENANT}`,
    '    queue_config:',
    '      min_shards: 1',
    '      max_shards: 1',
    '      batch_send_deadline: 500ms',
    '',
  ].join('\n');
  const dir = await makeTempDir('rw2-peer-');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const prom = await startServer({
    name: 'prometheus3',
    command: PROMETHEUS3.path,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn', '--enable-feature=metadata-wal-records'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());
  const promApi = `${prom.baseUrl}/api/v1`;

  await waitForValue(
    'five scrapes',
    30_000,
    async () => {
      const r = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(`${promApi}/query?query=${encodeURIComponent('count_over_time(up[1m])')}`);
      const n = Number(r.data.result[0]?.value[1] ?? 0);
      return n >= 5 ? n : undefined;
    },
    () => prom.output(),
  );
  const T = Math.floor(Date.now() / 1000) * 1000 - 1000;
  let metricsText = '';
  await waitForValue(
    `remote write past ${new Date(T + 3000).toISOString()}`,
    30_000,
    async () => {
      metricsText = await (await fetch(`${prom.baseUrl}/metrics`)).text();
      const sent = scrapeMetric(metricsText, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds') ?? 0;
      return sent * 1000 >= T + 3000 ? sent : undefined;
    },
    () => `proxy saw ${proxy.exchanges.map((x) => x.status).join(',')}; ${prom.output()}`,
  );
  t.equal(scrapeMetric(metricsText, 'prometheus_remote_storage_samples_failed_total') ?? 0, 0, 'Prometheus counts no failed samples');

  const pushes = proxy.exchanges.filter((x) => x.path === '/api/v1/push');
  t.ok(pushes.length > 0, 'Prometheus pushed');
  const first = pushes[0]!;
  t.equal(first.requestHeaders['content-type'], 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'the 2.0 content type on the wire');
  t.match(first.requestHeaders['x-prometheus-remote-write-version'], /^2\./, 'the 2.0 version header');
  t.equal(first.requestHeaders['x-scope-orgid'], TENANT, 'Prometheus 3 sends the configured tenant header itself');
  t.same([...new Set(pushes.map((x) => x.status))], [204], 'every push answered 204');
  const written = pushes.map((x) => Number(x.responseHeaders['x-prometheus-remote-write-samples-written'] ?? NaN));
  t.ok(
    written.every((n) => Number.isInteger(n) && n >= 0),
    'every answer says how many samples were written',
  );
  t.ok(
    written.reduce((a, b) => a + b, 0) > 0,
    'and the samples written add up to more than none',
  );

  // The series Prometheus holds over [start, T] are exactly ours.
  const S = startedMs - 60_000;
  const seriesQuery = `match[]=${encodeURIComponent('{__name__=~".+"}')}&start=${S / 1000}&end=${T / 1000}`;
  const theirs = (await getJson<{ data: Labels[] }>(`${promApi}/series?${seriesQuery}`)).data.map(key).sort();
  const mine = (await getJson<{ data: Labels[] }>(`${ourApi}/series?${seriesQuery}`, hdr)).data.map(key).sort();
  t.ok(theirs.length > 100, `Prometheus holds ${theirs.length} series`);
  const mineSet = new Set(mine);
  const theirSet = new Set(theirs);
  t.same(
    { missing: theirs.filter((k) => !mineSet.has(k)).slice(0, 10), extra: mine.filter((k) => !theirSet.has(k)).slice(0, 10) },
    { missing: [], extra: [] },
    `the same ${theirs.length} series over [start, T]`,
  );

  // query_range at the same timestamps.
  const from = Math.max(T - 20_000, Math.ceil(startedMs / 1000) * 1000);
  const rangeQs = (q: string): string => `query=${encodeURIComponent(q)}&start=${from / 1000}&end=${T / 1000}&step=1`;
  const sortM = (m: Matrix): Array<[string, Array<[number, string]>]> =>
    m.data.result.map((r) => [key(r.metric), r.values] as [string, Array<[number, string]>]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  for (const q of ['up', 'prometheus_build_info', 'scrape_samples_scraped', 'sum by (quantile) (go_gc_duration_seconds)']) {
    const a = await getJson<Matrix>(`${promApi}/query_range?${rangeQs(q)}`);
    const b = await getJson<Matrix>(`${ourApi}/query_range?${rangeQs(q)}`, hdr);
    t.ok(a.data.result.length > 0, `${q}: Prometheus has data`);
    t.same(sortM(b), sortM(a), `${q}: same series, timestamps and values`);
  }

  // Remote write 2.0 carries each series' type and help with it: our metadata API has them.
  const theirMeta = await getJson<{ data: Record<string, Array<{ type: string; help: string }>> }>(`${promApi}/metadata?metric=prometheus_build_info`);
  const want = theirMeta.data['prometheus_build_info']?.[0];
  t.equal(want?.type, 'gauge', 'Prometheus knows prometheus_build_info as a gauge');
  const ourMeta = await waitForValue(
    'metadata of prometheus_build_info',
    10_000,
    async () => {
      const m = await getJson<{ data: Record<string, Array<{ type: string; help: string }>> }>(`${ourApi}/metadata?metric=prometheus_build_info`, hdr);
      return m.data['prometheus_build_info'];
    },
    () => 'no metadata yet',
  );
  t.match(ourMeta[0], { type: want?.type, help: want?.help }, 'our metadata: the type and help sent inside the 2.0 series');
});
