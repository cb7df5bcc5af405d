// prometheus-scrape.test.ts (peer suite) proves the whole path with real
// clients: Debian's Prometheus 2.42 scrapes itself and a node_exporter on
// loopback every second and remote-writes to us as a tenant (multi-tenancy
// on). Debian's 2.42 does not send the `headers:` configured under
// remote_write / remote_read (checked on the wire: only its user agent and
// the protocol's headers arrive), so a loopback proxy sets X-Scope-OrgID, as an
// auth gateway in front of Mimir would (lib/tenant-proxy.ts). Once Prometheus
// reports it has sent everything up to a cut-off time T:
//   - the series it holds over [start, T] (its own /api/v1/series) are exactly
//     ours, and query_range answers (raw series and a rate) are the same at
//     the same timestamps;
//   - a second Prometheus 2.42 with only `remote_read` (read_recent: true)
//     pointed at us answers the same query_range from our data (2.42's client
//     asks for SAMPLES: it sends no accepted_response_types);
//   - remote read asked directly, for SAMPLES and for STREAMED_XOR_CHUNKS,
//     gives the same series and sample bits as Prometheus's own remote read.
// Remote write 2.0 is not in Prometheus 2.42 (it came with 3.0): it is proven
// with Prometheus 3 in remote-write-v2-prometheus3.test.ts.

import snappy from '@napi-rs/snappy';
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeReadRequest } from '../../src/remote/read-handler.js';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS_BIN, prometheusSkip } from './lib/prometheus.js';
import { chunkedSamplesInRange, decodeSamplesBody, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, STREAMED_CONTENT_TYPE } from './lib/remote-read.js';
import { freePort, makeTempDir, scrapeMetric, startServer, type ServerProcess } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';
import { NODE_EXPORTER, skipUnless } from './lib/binary.js';
import { getJson, waitForValue } from './lib/poll.js';

const NODE_EXPORTER_BIN = NODE_EXPORTER.path;
const TENANT = 'peer-scrape';
const skip = prometheusSkip || skipUnless(NODE_EXPORTER);

type Labels = Record<string, string>;
interface Matrix {
  status: string;
  data: { resultType: string; result: Array<{ metric: Labels; values: Array<[number, string]> }> };
}



const key = (l: Labels): string =>
  JSON.stringify(
    Object.keys(l)
      .sort()
      .map((k) => [k, l[k]]),
  );

async function startPrometheusWith(name: string, config: string, teardown: (fn: () => Promise<void>) => void): Promise<ServerProcess> {
  const dir = await makeTempDir(`${name}-`);
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const proc = await startServer({
    name,
    command: PROMETHEUS_BIN,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  teardown(() => proc.stop());
  return proc;
}

t.test('Prometheus 2.42 scraping itself and node_exporter, remote-writing to us', { skip }, async (t) => {
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const ourApi = `http://127.0.0.1:${ours.port}/prometheus/api/v1`;
  const hdr = { 'X-Scope-OrgID': TENANT };
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());

  const nodePort = await freePort();
  const node = await startServer({
    name: 'node_exporter',
    command: NODE_EXPORTER_BIN,
    args: [`--web.listen-address=127.0.0.1:${nodePort}`, '--log.level=warn'],
    port: nodePort,
    readyPath: '/',
  });
  t.teardown(() => node.stop());

  const promPort = await freePort();
  const startedMs = Date.now();
  // The scraper: 1s scrapes, one remote-write shard (so samples leave in WAL order and "highest sent
  // timestamp" bounds everything sent before it), and the tenant header Debian's 2.42 drops.
  const scraperConfig = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${promPort}']`,
    '  - job_name: node',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${nodePort}']`,
    'remote_write:',
    `  - url: ${proxy.url}/api/v1/push`,
    '    headers:',
    `      X-Scope-OrgID: ${TENANT}`,
    '    queue_config:',
    '      min_shards: 1',
    '      max_shards: 1',
    '      batch_send_deadline: 500ms',
    '    metadata_config:',
    '      send_interval: 2s',
    '',
  ].join('\n');
  const dir = await makeTempDir('scrape-peer-');
  await writeFile(join(dir, 'prometheus.yml'), scraperConfig);
  const prom = await startServer({
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());
  const promApi = `${prom.baseUrl}/api/v1`;

  // Several scrapes of both targets.
  await waitForValue(
    'five scrapes of both targets',
    30_000,
    async () => {
      const r = await getJson<{ data: { result: Array<{ value: [number, string] }> } }>(`${promApi}/query?query=${encodeURIComponent('min(count_over_time(up[1m]))')}`);
      const n = Number(r.data.result[0]?.value[1] ?? 0);
      return n >= 5 ? n : undefined;
    },
    () => prom.output(),
  );
  // T: a whole second a little in the past; then wait until Prometheus says it sent samples newer
  // than T + 3s (a scrape takes at most its 1s timeout, so everything up to T was sent before).
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
    () => `highest sent ${scrapeMetric(metricsText, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')}; proxy saw ${proxy.exchanges.map((x) => x.status).join(',')}`,
  );
  t.equal(scrapeMetric(metricsText, 'prometheus_remote_storage_samples_failed_total'), 0, 'Prometheus counts no failed samples');
  t.equal(scrapeMetric(metricsText, 'prometheus_remote_storage_samples_dropped_total') ?? 0, 0, 'nor dropped ones');
  const pushes = proxy.exchanges.filter((x) => x.path === '/api/v1/push');
  t.ok(pushes.length > 0, 'Prometheus pushed through the proxy');
  t.equal(pushes[0]?.requestHeaders['x-scope-orgid'], undefined, 'Debian Prometheus 2.42 leaves out the configured remote_write headers (hence the proxy)');
  t.same([...new Set(pushes.map((x) => x.status))], [200], 'every push answered 200');

  // The series Prometheus holds over [start, T] are exactly ours.
  const S = startedMs - 60_000;
  const seriesQuery = `match[]=${encodeURIComponent('{__name__=~".+"}')}&start=${S / 1000}&end=${T / 1000}`;
  const theirs = await getJson<{ data: Labels[] }>(`${promApi}/series?${seriesQuery}`);
  const mine = await getJson<{ data: Labels[] }>(`${ourApi}/series?${seriesQuery}`, hdr);
  const theirKeys = theirs.data.map(key).sort();
  const myKeys = mine.data.map(key).sort();
  const names = new Set(theirs.data.map((l) => l['__name__']));
  for (const n of ['up', 'node_cpu_seconds_total', 'prometheus_build_info', 'scrape_samples_scraped', 'node_exporter_build_info']) t.ok(names.has(n), `Prometheus has ${n}`);
  t.ok(theirKeys.length > 500, `Prometheus holds ${theirKeys.length} series`);
  const missing = theirKeys.filter((k) => !myKeys.includes(k));
  const extra = myKeys.filter((k) => !theirKeys.includes(k));
  t.same({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] }, `the same ${theirKeys.length} series over [start, T]`);

  // query_range at the same timestamps.
  const from = Math.max(T - 30_000, Math.ceil(startedMs / 1000) * 1000);
  const rangeQs = (q: string): string => `query=${encodeURIComponent(q)}&start=${from / 1000}&end=${T / 1000}&step=1`;
  const exact = ['up', 'node_cpu_seconds_total{mode="idle"}', 'prometheus_build_info', 'scrape_samples_scraped', 'node_memory_MemTotal_bytes'];
  for (const q of exact) {
    const a = await getJson<Matrix>(`${promApi}/query_range?${rangeQs(q)}`);
    const b = await getJson<Matrix>(`${ourApi}/query_range?${rangeQs(q)}`, hdr);
    t.ok(a.data.result.length > 0, `${q}: Prometheus has data`);
    const sortM = (m: Matrix): Array<[string, Array<[number, string]>]> => m.data.result.map((r) => [key(r.metric), r.values] as [string, Array<[number, string]>]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
    t.same(sortM(b), sortM(a), `${q}: same series, timestamps and values`);
  }
  const rateQ = 'sum by (mode) (rate(node_cpu_seconds_total[5s]))';
  const ra = await getJson<Matrix>(`${promApi}/query_range?${rangeQs(rateQ)}`);
  const rb = await getJson<Matrix>(`${ourApi}/query_range?${rangeQs(rateQ)}`, hdr);
  const flat = (m: Matrix): Map<string, number> => {
    const out = new Map<string, number>();
    for (const r of m.data.result) for (const [ts, v] of r.values) out.set(`${key(r.metric)}@${ts}`, Number(v));
    return out;
  };
  const fa = flat(ra);
  const fb = flat(rb);
  t.same([...fb.keys()].sort(), [...fa.keys()].sort(), `${rateQ}: same series and timestamps`);
  const off = [...fa].filter(([k, v]) => !(Math.abs((fb.get(k) ?? NaN) - v) <= 1e-9 * Math.max(1, Math.abs(v))));
  t.same(off.slice(0, 5), [], `${rateQ}: same values (within 1e-9)`);

  // A second Prometheus reads our copy back through remote_read and answers the same.
  const readerConfig = ['global:', '  scrape_interval: 15s', 'scrape_configs: []', 'remote_read:', `  - url: ${proxy.url}/prometheus/api/v1/read`, '    read_recent: true', ''].join('\n');
  const reader = await startPrometheusWith('prometheus-reader', readerConfig, (fn) => t.teardown(fn));
  const before = proxy.exchanges.length;
  for (const q of ['up', 'node_cpu_seconds_total{mode="idle"}', rateQ]) {
    const a = await getJson<Matrix>(`${promApi}/query_range?${rangeQs(q)}`);
    const b = await getJson<Matrix>(`${reader.baseUrl}/api/v1/query_range?${rangeQs(q)}`);
    t.same(flat(b), flat(a), `remote_read: ${q} answered from our data as the scraper answers it`);
  }
  const reads = proxy.exchanges.slice(before).filter((x) => x.path === '/prometheus/api/v1/read');
  t.ok(reads.length >= 3, 'the reader called our remote read');
  for (const x of reads) {
    t.same(decodeReadRequest(snappy.uncompressSync(x.requestBody) as Buffer).acceptedResponseTypes, [], '2.42 sends no accepted_response_types');
    t.match(x, { status: 200, contentType: 'application/x-protobuf' }, 'answered SAMPLES');
  }

  // Remote read asked directly, both response types, against Prometheus's own remote read.
  const queries = [
    { startMs: from, endMs: T, matchers: [{ type: ReadMatchType.EQ, name: '__name__', value: 'up' }] },
    { startMs: from, endMs: T, matchers: [{ type: ReadMatchType.RE, name: '__name__', value: 'node_cpu_seconds_total|prometheus_build_info' }, { type: ReadMatchType.NEQ, name: 'mode', value: 'steal' }] },
  ];
  const ourRead = `${proxy.url}/prometheus/api/v1/read`;
  const a = await postRemoteRead(ourRead, queries, [ResponseType.SAMPLES]);
  const b = await postRemoteRead(`${promApi}/read`, queries, [ResponseType.SAMPLES]);
  t.match({ status: a.status, contentType: a.contentType }, { status: 200, contentType: 'application/x-protobuf' });
  t.equal(b.status, 200);
  const sa = decodeSamplesBody(a.body);
  t.ok(sa[1]!.length > 2, 'SAMPLES: the second query selects several series');
  t.same(sa, decodeSamplesBody(b.body), 'SAMPLES: same series and sample bits as Prometheus');
  const c = await postRemoteRead(ourRead, queries, [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES]);
  const d = await postRemoteRead(`${promApi}/read`, queries, [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES]);
  t.match({ status: c.status, contentType: c.contentType }, { status: 200, contentType: STREAMED_CONTENT_TYPE });
  t.equal(d.contentType, STREAMED_CONTENT_TYPE);
  const ourFrames = parseChunkedReadBody(c.body);
  const theirFrames = parseChunkedReadBody(d.body);
  for (const qi of [0, 1]) {
    t.same(chunkedSamplesInRange(ourFrames, qi, from, T), chunkedSamplesInRange(theirFrames, qi, from, T), `STREAMED_XOR_CHUNKS query ${qi}: same series and samples as Prometheus`);
  }
});
