// exemplars-metadata-prometheus.test.ts (peer suite): a real Prometheus 2.42
// scrapes an OpenMetrics page with HELP/TYPE and an exemplar (exemplar
// storage on) and remote-writes to us with `send_exemplars` and metadata
// every second. What it sends must come back from our /api/v1/metadata and
// /api/v1/query_exemplars exactly as Prometheus's own APIs answer them for
// the same scrape: its exemplar storage holds the same exemplars, its target
// metadata the same type and help.

import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS_BIN, prometheusSkip } from './lib/prometheus.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

// The Debian 2.42 build sends no remote_write `headers`: multi-tenancy is off, so
// everything lands in the no-auth tenant (this file runs in its own process).
const TENANT = 'anonymous';
const skip = prometheusSkip;

const PAGE = [
  '# HELP peer_requests Requests handled by the <peer>.',
  '# TYPE peer_requests counter',
  'peer_requests_total{path="/a"} 7 # {trace_id="abc123"} 1.5',
  'peer_requests_total{path="/b"} 3',
  '# HELP peer_temperature Temperature.',
  '# TYPE peer_temperature gauge',
  'peer_temperature 21.5',
  '# EOF',
  '',
].join('\n');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, fn: () => Promise<T | undefined>, context: () => Promise<string>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${await context()}`);
    await sleep(500);
  }
}

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

t.test('Prometheus 2.42 remote-writes exemplars and metadata to us', { skip }, async (t) => {
  const ours = await startTestServer({ 'ingester.max-global-exemplars-per-user': 1000, 'auth.multitenancy-enabled': false });
  t.teardown(() => ours.close());
  const target = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  t.teardown(() => target.close());
  const targetPort = (target.address() as { port: number }).port;

  const dir = await makeTempDir('peer-exemplars-');
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: peer',
      `    static_configs: [{ targets: ['127.0.0.1:${targetPort}'] }]`,
      'remote_write:',
      `  - url: http://127.0.0.1:${ours.port}/api/v1/push`,
      '    send_exemplars: true',
      '    metadata_config: { send: true, send_interval: 1s }',
      '    queue_config: { batch_send_deadline: 1s }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const prom = await startServer({
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());
  const context = async (): Promise<string> => {
    const series = await fetch(`http://127.0.0.1:${ours.port}/prometheus/api/v1/series?match[]=%7B__name__%3D~%22peer.%2B%22%7D`, { headers: { 'X-Scope-OrgID': TENANT } });
    return `our series ${await series.text()}; Prometheus log: ${prom.output()}`;
  };

  const query = new URLSearchParams({ query: 'peer_requests_total', start: String(Date.now() / 1000 - 600), end: String(Date.now() / 1000 + 600) });
  const oursExemplars = await poll('our exemplars', async () => {
    const res = await fetch(`http://127.0.0.1:${ours.port}/prometheus/api/v1/query_exemplars?${query}`, { headers: { 'X-Scope-OrgID': TENANT } });
    const body = (await res.json()) as { data: ExemplarSeries[] };
    return body.data.length > 0 ? body : undefined;
  }, context);
  // Prometheus's own answer, asked after ours so that it holds at least as many scrapes.
  const theirs = (await (await fetch(`${prom.baseUrl}/api/v1/query_exemplars?${query}`)).json()) as { status: string; data: ExemplarSeries[] };
  t.equal(theirs.status, 'success');
  t.same(oursExemplars.data.map((s) => s.seriesLabels), [{ __name__: 'peer_requests_total', instance: `127.0.0.1:${targetPort}`, job: 'peer', path: '/a' }]);
  const first = oursExemplars.data[0]!.exemplars[0]!;
  t.same(first.labels, { trace_id: 'abc123' });
  t.equal(first.value, '1.5');
  // Every exemplar we hold is one Prometheus holds, with the same time.
  const theirsByTime = new Map(theirs.data[0]!.exemplars.map((e) => [e.timestamp, e]));
  for (const e of oursExemplars.data[0]!.exemplars) t.same(theirsByTime.get(e.timestamp), e, `exemplar at ${e.timestamp}`);

  const oursMetadata = await poll('our metadata', async () => {
    const res = await fetch(`http://127.0.0.1:${ours.port}/prometheus/api/v1/metadata`, { headers: { 'X-Scope-OrgID': TENANT } });
    const body = (await res.json()) as { data: Record<string, unknown[]> };
    return body.data['peer_requests'] !== undefined && body.data['peer_temperature'] !== undefined ? body : undefined;
  }, context);
  const theirMetadata = (await (await fetch(`${prom.baseUrl}/api/v1/metadata`)).json()) as { data: Record<string, unknown[]> };
  for (const name of ['peer_requests', 'peer_temperature']) t.same(oursMetadata.data[name], theirMetadata.data[name], name);
});
