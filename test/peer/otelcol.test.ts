// otelcol.test.ts (peer suite): a real OpenTelemetry Collector (otelcol, built
// from scripts/otelcol by scripts/install-peers.sh) receives OTLP metrics on
// its otlp receiver (HTTP, protobuf as an SDK sends them) and forwards them to
// our POST /otlp/v1/metrics with two otlphttp exporters (named otlp_http since
// 0.165; otlphttp is a deprecated alias), one per encoding
// (protobuf and JSON, both gzip), each to its own tenant set with `headers:`.
// A loopback proxy in front of us records the exchanges (the tenant it puts
// back is the one the collector sent), so the test sees each encoding on the
// wire. Then our query, series and metadata APIs answer what Mimir's
// translation gives (with -distributor.otel-metric-suffixes-enabled): a
// counter with _total, units as suffixes, job and instance from service.name
// and service.instance.id, target_info with the other resource attributes,
// an explicit-bucket histogram as _bucket/_count/_sum series, an exponential
// histogram as a native histogram and a summary as quantile series, every
// value exact.

import t from 'tap';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeOtlpMetrics, OTLP_PROTOBUF, type ResourceInput } from '../../src/distributor/otlp-request.js';
import { startTestServer } from '../../src/testing/server.js';
import { failIfMissing, OTELCOL, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, scrapeMetric } from './lib/server-process.js';
import { startTenantProxy, type TenantProxy } from './lib/tenant-proxy.js';
import { getJson, waitForValue } from './lib/poll.js';

/** ENCODINGS are the otlphttp exporter's encodings, each sent to its own tenant. */
const ENCODINGS = [
  { encoding: 'proto', tenant: 'otelcol-proto', contentType: 'application/x-protobuf' },
  { encoding: 'json', tenant: 'otelcol-json', contentType: 'application/json' },
] as const;

type Labels = Record<string, string>;
interface Vector {
  data: { resultType: string; result: Array<{ metric: Labels; value?: [number, string]; histogram?: [number, NativeHistogram] }> };
}
interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}



/** collectorConfig is the collector's YAML: one otlp HTTP receiver, one pipeline and otlphttp exporter per encoding. */
function collectorConfig(receiverPort: number, telemetryPort: number, proxies: readonly TenantProxy[]): string {
  const lines = ['receivers:', '  otlp:', '    protocols:', '      http:', `        endpoint: 127.0.0.1:${receiverPort}`, 'exporters:'];
  ENCODINGS.forEach((e, i) => {
    lines.push(
      `  otlp_http/${e.encoding}:`,
      `    endpoint: ${proxies[i]!.url}/otlp`,
      `    encoding: ${e.encoding}`,
      '    compression: gzip',
      '    headers:',
      `      X-Scope-OrgID: ${e.tenant}`,
      '    retry_on_failure:',
      '      enabled: false',
    );
  });
  lines.push('service:', '  telemetry:', '    logs:', '      level: warn', '    metrics:', '      level: basic', '      readers:', '        - pull:', '            exporter:', '              prometheus:', '                host: 127.0.0.1', `                port: ${telemetryPort}`, '  pipelines:');
  for (const e of ENCODINGS) lines.push(`    metrics/${e.encoding}:`, '      receivers: [otlp]', `      exporters: [otlp_http/${e.encoding}]`);
  return lines.join('\n') + '\n';
}

t.test('the OpenTelemetry Collector forwards OTLP metrics to us (otlphttp, protobuf and JSON)', { skip: skipUnless(OTELCOL) }, async (t) => {
  if (failIfMissing(t, OTELCOL)) return;
  const ours = await startTestServer({ 'distributor.otel-metric-suffixes-enabled': true });
  t.teardown(() => ours.close());
  const proxies: TenantProxy[] = [];
  for (const e of ENCODINGS) {
    const p = await startTenantProxy(`http://127.0.0.1:${ours.port}`, e.tenant);
    t.teardown(() => p.close());
    proxies.push(p);
  }

  const dir = await makeTempDir('otelcol-peer-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const receiverPort = await freePort();
  const telemetryPort = await freePort();
  await writeFile(join(dir, 'otelcol.yaml'), collectorConfig(receiverPort, telemetryPort, proxies));
  const child = spawn(OTELCOL.path, [`--config=${join(dir, 'otelcol.yaml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });

  // What an SDK would export: a counter, two gauges, an explicit-bucket and an exponential histogram, a summary.
  const tm = Date.now() - 10_000;
  const start = tm - 60_000;
  const resources: ResourceInput[] = [
    {
      resource: { 'service.name': 'checkout', 'service.instance.id': 'pod-7', 'deployment.environment': 'ci', 'host.name': 'node-1' },
      scope: { name: 'checkout-instrumentation', version: '1.2.3' },
      metrics: [
        { name: 'app.requests', description: 'Requests served.', unit: '{request}', sum: { monotonic: true, temporality: 'cumulative', points: [{ attributes: { method: 'GET' }, startTimeMs: start, timeMs: tm, value: 42, asInt: true }] } },
        { name: 'process.memory.usage', description: 'Resident memory.', unit: 'By', gauge: [{ timeMs: tm, value: 1048576.5 }] },
        { name: 'system.cpu.utilization', description: 'CPU busy share.', unit: '1', gauge: [{ attributes: { cpu: '0' }, timeMs: tm, value: 0.25 }] },
        {
          name: 'http.server.duration',
          description: 'Request latency.',
          unit: 's',
          histogram: { temporality: 'cumulative', points: [{ attributes: { route: '/cart' }, timeMs: tm, count: 10, sum: 4.2, explicitBounds: [0.1, 0.5, 1], bucketCounts: [2, 3, 4, 1] }] },
        },
        {
          name: 'rpc.latency',
          description: 'RPC latency.',
          unit: 'ms',
          exponentialHistogram: {
            temporality: 'cumulative',
            points: [{ timeMs: tm, count: 9, sum: 5.5, scale: 0, zeroCount: 1, positive: { offset: 0, bucketCounts: [1, 2] }, negative: { offset: 1, bucketCounts: [3, 0, 2] } }],
          },
        },
        { name: 'rpc.size', description: 'RPC sizes.', unit: 'By', summary: [{ timeMs: tm, count: 4, sum: 10, quantiles: [[0.5, 2], [0.99, 5]] }] },
      ],
    },
  ];
  const body = encodeOtlpMetrics(resources);

  // The receiver listens once the collector has started its pipelines.
  const sent = await waitForValue(
    'the collector to accept the export',
    30_000,
    async () => {
      if (child.exitCode !== null) throw new Error('exited');
      const res = await fetch(`http://127.0.0.1:${receiverPort}/v1/metrics`, { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': OTLP_PROTOBUF }, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    },
    () => `collector output: ${output}`,
    true,
  );
  t.equal(sent, 200, 'the collector accepted the export');

  // Both exporters have sent (and we accepted) every point.
  const points = 6;
  const telemetry = await waitForValue(
    'both exporters to send',
    30_000,
    async () => {
      const text = await (await fetch(`http://127.0.0.1:${telemetryPort}/metrics`)).text();
      const done = ENCODINGS.every((e) => (scrapeMetric(text.split('\n').filter((l) => l.includes(`exporter="otlp_http/${e.encoding}"`)).join('\n'), 'otelcol_exporter_sent_metric_points') ?? 0) >= points);
      const failed = scrapeMetric(text, 'otelcol_exporter_send_failed_metric_points') ?? 0;
      return done || failed > 0 ? text : undefined;
    },
    () => `proxied: ${proxies.map((p) => p.exchanges.map((x) => `${x.status} ${x.requestBody.length}B`).join(',')).join(' | ')}; collector output: ${output}`,
    true,
  );
  t.equal(scrapeMetric(telemetry, 'otelcol_exporter_send_failed_metric_points') ?? 0, 0, 'the collector counts no failed points');

  for (const [i, e] of ENCODINGS.entries()) {
    await t.test(`encoding: ${e.encoding}`, async (t) => {
      const pushes = proxies[i]!.exchanges;
      t.ok(pushes.length > 0, 'the exporter pushed');
      for (const x of pushes) {
        t.match(x, { method: 'POST', path: '/otlp/v1/metrics', status: 200 }, 'POST /otlp/v1/metrics answered 200');
        t.equal(x.requestHeaders['content-type'], e.contentType, `the ${e.encoding} content type on the wire`);
        t.equal(x.requestHeaders['content-encoding'], 'gzip', 'gzip on the wire');
        t.equal(x.requestHeaders['x-scope-orgid'], e.tenant, 'the collector sends the configured tenant header');
        t.match(x.requestHeaders['user-agent'], /^OpenTelemetry Collector\/0\.\d+\.\d+ \(/, 'the collector identifies itself');
      }

      const hdr = { 'X-Scope-OrgID': e.tenant };
      const api = `http://127.0.0.1:${ours.port}/prometheus/api/v1`;
      const query = (q: string): Promise<Vector> => getJson<Vector>(`${api}/query?query=${encodeURIComponent(q)}&time=${tm / 1000}`, hdr);
      const floats = async (q: string): Promise<Array<[Labels, string]>> =>
        (await query(q)).data.result.map((r) => [r.metric, r.value![1]] as [Labels, string]).sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1));
      const job = { job: 'checkout', instance: 'pod-7' };

      t.same(await floats('app_requests_total'), [[{ __name__: 'app_requests_total', ...job, method: 'GET' }, '42']], 'the counter: _total, the {request} annotation dropped');
      t.same(await floats('process_memory_usage_bytes'), [[{ __name__: 'process_memory_usage_bytes', ...job }, '1048576.5']], 'a gauge in bytes: _bytes');
      t.same(await floats('system_cpu_utilization_ratio'), [[{ __name__: 'system_cpu_utilization_ratio', ...job, cpu: '0' }, '0.25']], 'a gauge of unit 1: _ratio');
      t.same(
        await floats('target_info'),
        [[{ __name__: 'target_info', ...job, deployment_environment: 'ci', host_name: 'node-1' }, '1']],
        'target_info: the other resource attributes, job and instance',
      );
      const le = (b: string, v: string): [Labels, string] => [{ __name__: 'http_server_duration_seconds_bucket', ...job, route: '/cart', le: b }, v];
      t.same(await floats('http_server_duration_seconds_bucket'), [le('+Inf', '10'), le('0.1', '2'), le('0.5', '5'), le('1', '9')], 'the histogram: cumulative _bucket series, +Inf included');
      t.same(await floats('http_server_duration_seconds_count'), [[{ __name__: 'http_server_duration_seconds_count', ...job, route: '/cart' }, '10']], 'the histogram: _count');
      t.same(await floats('http_server_duration_seconds_sum'), [[{ __name__: 'http_server_duration_seconds_sum', ...job, route: '/cart' }, '4.2']], 'the histogram: _sum');

      t.same(await floats('histogram_count(rpc_latency_milliseconds)'), [[job, '9']], 'the exponential histogram: histogram_count');
      t.same(await floats('histogram_sum(rpc_latency_milliseconds)'), [[job, '5.5']], 'the exponential histogram: histogram_sum');
      const nh = (await query('rpc_latency_milliseconds')).data.result;
      t.equal(nh.length, 1, 'one native histogram series');
      t.same(nh[0]?.metric, { __name__: 'rpc_latency_milliseconds', ...job }, 'its labels');
      t.equal(nh[0]?.value, undefined, 'no float value');
      t.same(
        nh[0]?.histogram?.[1],
        {
          count: '9',
          sum: '5.5',
          buckets: [
            [1, '-16', '-8', '2'],
            [1, '-4', '-2', '3'],
            [3, '-1e-128', '1e-128', '1'],
            [0, '1', '2', '1'],
            [0, '2', '4', '2'],
          ],
        },
        'the exponential histogram as a native histogram: schema 0 buckets, the empty one left out, the zero bucket',
      );

      const q = (v: string, x: string): [Labels, string] => [{ __name__: 'rpc_size_bytes', ...job, quantile: v }, x];
      t.same(await floats('rpc_size_bytes'), [q('0.5', '2'), q('0.99', '5')], 'the summary: one series per quantile');
      t.same(await floats('rpc_size_bytes_count'), [[{ __name__: 'rpc_size_bytes_count', ...job }, '4']], 'the summary: _count');
      t.same(await floats('rpc_size_bytes_sum'), [[{ __name__: 'rpc_size_bytes_sum', ...job }, '10']], 'the summary: _sum');

      const seriesQs = `match[]=${encodeURIComponent('{job="checkout"}')}&start=${(tm - 60_000) / 1000}&end=${(tm + 60_000) / 1000}`;
      const names = (await getJson<{ data: Labels[] }>(`${api}/series?${seriesQs}`, hdr)).data.map((l) => l['__name__']).sort();
      t.same(
        names,
        [
          'app_requests_total',
          'http_server_duration_seconds_bucket',
          'http_server_duration_seconds_bucket',
          'http_server_duration_seconds_bucket',
          'http_server_duration_seconds_bucket',
          'http_server_duration_seconds_count',
          'http_server_duration_seconds_sum',
          'process_memory_usage_bytes',
          'rpc_latency_milliseconds',
          'rpc_size_bytes',
          'rpc_size_bytes',
          'rpc_size_bytes_count',
          'rpc_size_bytes_sum',
          'system_cpu_utilization_ratio',
          'target_info',
        ],
        'the series: no _count/_sum for the exponential histogram',
      );

      const md = await waitForValue(
        'metadata',
        10_000,
        async () => {
          const m = await getJson<{ data: Record<string, Array<{ type: string; help: string; unit: string }>> }>(`${api}/metadata`, hdr);
          return Object.keys(m.data).length >= 6 ? m.data : undefined;
        },
        () => 'no metadata yet',
        true,
      );
      t.same(
        md,
        {
          app_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
          process_memory_usage_bytes: [{ type: 'gauge', help: 'Resident memory.', unit: 'bytes' }],
          // Unit "1" gives the name its _ratio but no unit (otlptranslator's UnitNamer builds "1" as "").
          system_cpu_utilization_ratio: [{ type: 'gauge', help: 'CPU busy share.', unit: '' }],
          http_server_duration_seconds: [{ type: 'histogram', help: 'Request latency.', unit: 'seconds' }],
          rpc_latency_milliseconds: [{ type: 'histogram', help: 'RPC latency.', unit: 'milliseconds' }],
          rpc_size_bytes: [{ type: 'summary', help: 'RPC sizes.', unit: 'bytes' }],
        },
        'the metadata: family names with suffixes, types, help and units',
      );
    });
  }
});
