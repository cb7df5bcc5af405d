// otlp.test.ts drives POST /otlp/v1/metrics through the real server and the
// native core: every OTLP data type in protobuf (plain and gzip) and JSON,
// read back through /api/v1/series and /api/v1/query with exact names,
// labels and values; the answers' encodings; and Mimir's error statuses.

import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { missingNativeExports, loadNative } from '../storage/native.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { encodeOtlpMetrics, encodeOtlpMetricsJson, OTLP_JSON, OTLP_PROTOBUF, type ResourceInput } from './otlp-request.js';
import { encodeExportResponse, encodeStatus, goJsonString } from './otlp.js';

const missing = missingNativeExports();
if (missing.length > 0 || typeof loadNative().ingestOtlp !== 'function') {
  t.plan(0, 'native binding without ingestOtlp (npm run build:native)');
} else {
  await run();
}

interface Status {
  code: number;
  message: string;
}

/** decodeStatus reads a protobuf google.rpc.Status. */
function decodeStatus(b: Uint8Array): Status {
  const r = new ProtoReader(b);
  const out: Status = { code: 0, message: '' };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) out.code = r.varint();
    else if (field === 2) out.message = r.string();
    else r.skip(wireType);
  }
  return out;
}

/** decodePartialSuccess reads ExportMetricsServiceResponse.partial_success.error_message (undefined when absent). */
function decodePartialSuccess(b: Uint8Array): string | undefined {
  const r = new ProtoReader(b);
  let msg: string | undefined;
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) {
      msg = '';
      const p = new ProtoReader(r.bytes());
      while (!p.done()) {
        const f = p.tag();
        if (f.field === 2) msg = p.string();
        else p.skip(f.wireType);
      }
    } else r.skip(wireType);
  }
  return msg;
}

type Series = Record<string, string>;
interface Envelope<T> {
  status: string;
  data: T;
}
interface VectorSample {
  metric: Series;
  value: [number, string];
}

async function run(): Promise<void> {
  const id = Date.now().toString(36);
  const tenant = `otlp-${id}`;
  const suffixTenant = `otlp-suffix-${id}`;
  const limitedTenant = `otlp-limited-${id}`;
  const runtimeFile = join(process.env['TMPDIR'] ?? '/tmp', `otlp-runtime-${id}.yaml`);
  writeFileSync(
    runtimeFile,
    `overrides:\n  ${suffixTenant}:\n    otel_metric_suffixes_enabled: true\n    promote_otel_resource_attributes: deployment.environment\n  ${limitedTenant}:\n    ingestion_rate: 1\n    ingestion_burst_size: 2\n`,
  );
  const srv: TestServer = await startTestServer({ 'distributor.max-otlp-request-size': 64 * 1024, 'runtime-config.file': runtimeFile });
  t.teardown(async () => {
    await srv.close();
    rmSync(runtimeFile, { force: true });
  });
  const now = Math.floor(Date.now() / 1000) * 1000;
  const t0 = now - 120_000;

  const post = (who: string | undefined, body: Buffer | string, headers: Record<string, string>): Promise<ClientResponse> =>
    httpRequest(srv.port, '/otlp/v1/metrics', { body, headers: { ...headers, ...(who === undefined ? {} : { 'X-Scope-OrgID': who }) } });
  const postPb = (who: string, resources: ResourceInput[], gzip = false): Promise<ClientResponse> =>
    post(who, gzip ? gzipSync(encodeOtlpMetrics(resources)) : encodeOtlpMetrics(resources), { 'Content-Type': OTLP_PROTOBUF, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
  const get = async <T>(who: string, path: string): Promise<T> => {
    const res = await httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': who } });
    t.equal(res.status, 200, `GET ${path}: ${res.body}`);
    return jsonOf<Envelope<T>>(res).data;
  };
  const series = async (who: string, match: string): Promise<Series[]> => get<Series[]>(who, `/prometheus/api/v1/series?match[]=${encodeURIComponent(match)}&start=0`);
  const query = async (who: string, q: string, timeMs: number): Promise<Array<[Series, string]>> => {
    const data = await get<{ resultType: string; result: VectorSample[] }>(who, `/prometheus/api/v1/query?query=${encodeURIComponent(q)}&time=${timeMs / 1000}`);
    return data.result.map((s) => [s.metric, s.value[1]] as [Series, string]).sort((a, b) => JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0])));
  };

  const resource = { 'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-1', 'host.name': 'node-7', 'deployment.environment': 'prod' };
  const job = 'shop/checkout';
  const allTypes = (tm: number, offset = 0): ResourceInput[] => [
    {
      resource,
      scope: { name: 'io.opentelemetry.sdk', version: '1.2.0' },
      metrics: [
        { name: 'process.memory.usage', unit: 'By', gauge: [{ attributes: { 'memory.kind': 'heap' }, timeMs: tm, value: 1024 + offset, asInt: true }] },
        { name: 'http.server.requests', unit: '{request}', sum: { monotonic: true, points: [{ attributes: { 'http.method': 'GET', 'http.status_code': 200 }, timeMs: tm, value: 42 + offset }] } },
        { name: 'queue.depth', sum: { monotonic: false, points: [{ timeMs: tm, value: -3.5 + offset }] } },
        {
          name: 'http.server.duration',
          unit: 's',
          histogram: { points: [{ attributes: { route: '/cart' }, timeMs: tm, count: 10 + offset, sum: 4.25, explicitBounds: [0.1, 0.5, 1], bucketCounts: [3, 4, 2, 1 + offset] }] },
        },
        { name: 'rpc.latency', unit: 'ms', summary: [{ timeMs: tm, count: 8, sum: 96.5, quantiles: [[0.5, 10], [0.99, 30 + offset]] }] },
        { name: 'exp.latency', exponentialHistogram: { points: [{ timeMs: tm, count: 5 + offset, sum: 1, zeroCount: 5 + offset }] } },
      ],
    },
  ];
  const labels = { instance: 'pod-1', job };

  await t.test('protobuf push of every data type, read back exactly', async (t) => {
    const res = await postPb(tenant, allTypes(t0));
    t.equal(res.status, 200, res.body);
    t.equal(res.headers['content-type'], OTLP_PROTOBUF);
    t.equal(res.raw.length, 0, 'empty ExportMetricsServiceResponse');

    const all = await series(tenant, '{__name__!=""}');
    t.same(
      all,
      [
        { __name__: 'exp_latency', ...labels },
        { __name__: 'http_server_duration_bucket', ...labels, le: '+Inf', route: '/cart' },
        { __name__: 'http_server_duration_bucket', ...labels, le: '0.1', route: '/cart' },
        { __name__: 'http_server_duration_bucket', ...labels, le: '0.5', route: '/cart' },
        { __name__: 'http_server_duration_bucket', ...labels, le: '1', route: '/cart' },
        { __name__: 'http_server_duration_count', ...labels, route: '/cart' },
        { __name__: 'http_server_duration_sum', ...labels, route: '/cart' },
        { __name__: 'http_server_requests', http_method: 'GET', http_status_code: '200', ...labels },
        { __name__: 'process_memory_usage', ...labels, memory_kind: 'heap' },
        { __name__: 'queue_depth', ...labels },
        { __name__: 'rpc_latency', ...labels, quantile: '0.5' },
        { __name__: 'rpc_latency', ...labels, quantile: '0.99' },
        { __name__: 'rpc_latency_count', ...labels },
        { __name__: 'rpc_latency_sum', ...labels },
        { __name__: 'target_info', deployment_environment: 'prod', host_name: 'node-7', ...labels },
      ],
      'an exponential histogram is one series (a native histogram); service attributes become job and instance',
    );
    t.same(await query(tenant, 'http_server_duration_bucket', t0), [
      [{ __name__: 'http_server_duration_bucket', ...labels, le: '+Inf', route: '/cart' }, '10'],
      [{ __name__: 'http_server_duration_bucket', ...labels, le: '0.1', route: '/cart' }, '3'],
      [{ __name__: 'http_server_duration_bucket', ...labels, le: '0.5', route: '/cart' }, '7'],
      [{ __name__: 'http_server_duration_bucket', ...labels, le: '1', route: '/cart' }, '9'],
    ]);
    const scalar = async (q: string): Promise<string[]> => (await query(tenant, q, t0)).map((x) => x[1]);
    t.same(await scalar('http_server_duration_sum'), ['4.25']);
    t.same(await scalar('http_server_duration_count'), ['10']);
    t.same(await scalar('http_server_requests'), ['42']);
    t.same(await scalar('process_memory_usage'), ['1024']);
    t.same(await scalar('queue_depth'), ['-3.5']);
    t.same(await scalar('rpc_latency'), ['10', '30']);
    t.same(await scalar('rpc_latency_sum'), ['96.5']);
    t.same(await scalar('rpc_latency_count'), ['8']);
    t.same(await scalar('target_info'), ['1']);
  });

  await t.test('gzip protobuf and JSON pushes land in the same series', async (t) => {
    let res = await postPb(tenant, allTypes(t0 + 15_000, 1), true);
    t.equal(res.status, 200, res.body);
    t.equal(res.raw.length, 0);
    res = await post(tenant, encodeOtlpMetricsJson(allTypes(t0 + 30_000, 2)), { 'Content-Type': OTLP_JSON });
    t.equal(res.status, 200, res.body);
    t.equal(res.headers['content-type'], OTLP_JSON);
    t.equal(res.body, '{}');
    res = await post(tenant, gzipSync(encodeOtlpMetricsJson(allTypes(t0 + 45_000, 3))), { 'Content-Type': OTLP_JSON, 'Content-Encoding': 'gzip' });
    t.equal(res.status, 200, res.body);
    t.equal((await series(tenant, '{__name__!=""}')).length, 15, 'no new series');
    t.same((await query(tenant, 'http_server_requests', t0 + 15_000)).map((x) => x[1]), ['43']);
    t.same((await query(tenant, 'http_server_requests', t0 + 30_000)).map((x) => x[1]), ['44']);
    t.same((await query(tenant, 'http_server_duration_bucket{le="+Inf"}', t0 + 45_000)).map((x) => x[1]), ['13']);
    t.same((await query(tenant, 'count_over_time(queue_depth[1m])', t0 + 45_000)).map((x) => x[1]), ['4']);
    t.same((await query(tenant, 'rpc_latency{quantile="0.99"}', t0 + 45_000)).map((x) => x[1]), ['33']);
  });

  await t.test('no recorded value is a staleness marker', async (t) => {
    const m = (tm: number, noRecordedValue: boolean): ResourceInput[] => [
      { resource: { 'service.name': 'stale' }, metrics: [{ name: 'temperature', gauge: [{ timeMs: tm, value: 21.5, noRecordedValue }] }] },
    ];
    t.equal((await postPb(tenant, m(t0, false))).status, 200);
    t.equal((await postPb(tenant, m(t0 + 10_000, true))).status, 200);
    t.same(await query(tenant, 'temperature', t0 + 5_000), [[{ __name__: 'temperature', job: 'stale' }, '21.5']]);
    t.same(await query(tenant, 'temperature', t0 + 20_000), [], 'stale after the marker, well within the lookback delta');
  });

  await t.test('metric suffixes and promoted resource attributes as per-tenant overrides', async (t) => {
    const res = await postPb(suffixTenant, allTypes(t0));
    t.equal(res.status, 200, res.body);
    const names = [...new Set((await series(suffixTenant, '{__name__!=""}')).map((s) => s['__name__']))];
    t.same(names, [
      'exp_latency',
      'http_server_duration_seconds_bucket',
      'http_server_duration_seconds_count',
      'http_server_duration_seconds_sum',
      'http_server_requests_total',
      'process_memory_usage_bytes',
      'queue_depth',
      'rpc_latency_milliseconds',
      'rpc_latency_milliseconds_count',
      'rpc_latency_milliseconds_sum',
      'target_info',
    ]);
    t.same(await series(suffixTenant, 'http_server_requests_total'), [
      { __name__: 'http_server_requests_total', deployment_environment: 'prod', http_method: 'GET', http_status_code: '200', ...labels },
    ]);
  });

  await t.test('partial success, parse errors and validation errors', async (t) => {
    // An older sample for an existing series: the head refuses it: 200 with partial_success.
    let res = await postPb(tenant, [{ resource: { 'service.name': 'stale' }, metrics: [{ name: 'temperature', gauge: [{ timeMs: t0 - 60_000, value: 1 }] }] }]);
    t.equal(res.status, 200);
    const partial = decodePartialSuccess(res.raw);
    t.match(partial, /out-of-order sample.*\(err-mimir-sample-out-of-order\)/);
    res = await post(tenant, encodeOtlpMetricsJson([{ resource: { 'service.name': 'stale' }, metrics: [{ name: 'temperature', gauge: [{ timeMs: t0 - 60_000, value: 1 }] }] }]), {
      'Content-Type': OTLP_JSON,
    });
    t.equal(res.status, 200);
    t.equal(res.body, `{"partial_success":{"error_message":${goJsonString(partial!)}}}`);

    // A delta sum is dropped with the translator's text; the gauge beside it is stored.
    res = await postPb(tenant, [
      {
        resource: { 'service.name': 'delta' },
        metrics: [
          { name: 'delta.requests', sum: { monotonic: true, temporality: 'delta', points: [{ timeMs: t0, value: 1 }] } },
          { name: 'beside.delta', gauge: [{ timeMs: t0, value: 7 }] },
        ],
      },
    ]);
    t.equal(res.status, 400);
    t.equal(res.headers['content-type'], OTLP_PROTOBUF);
    t.same(decodeStatus(res.raw), { code: 400, message: 'otlp parse error: invalid temporality and type combination for metric "delta.requests"' });
    t.same(await query(tenant, 'beside_delta', t0), [[{ __name__: 'beside_delta', job: 'delta' }, '7']]);
    t.same(await series(tenant, '{__name__=~"delta.*"}'), []);

    // Undecodable protobuf.
    res = await post(tenant, Buffer.from([0x0a, 0x05, 0x01]), { 'Content-Type': OTLP_PROTOBUF });
    t.equal(res.status, 400);
    t.same(decodeStatus(res.raw), { code: 400, message: 'unexpected EOF' });
    // Bad gzip.
    res = await post(tenant, Buffer.from('plain'), { 'Content-Type': OTLP_PROTOBUF, 'Content-Encoding': 'gzip' });
    t.same([res.status, decodeStatus(res.raw)], [400, { code: 400, message: 'gzip: invalid header' }]);
    // Validation: a too long attribute value, worded for OTel, InvalidArgument.
    res = await postPb(tenant, [{ resource: {}, metrics: [{ name: 'long', gauge: [{ attributes: { big: 'x'.repeat(2049) }, timeMs: t0, value: 1 }] }] }]);
    t.equal(res.status, 400);
    const st = decodeStatus(res.raw);
    t.equal(st.code, 3);
    t.match(st.message, /^received a metric whose attribute value length of 2049 exceeds the limit of 2048, attribute: 'big', value: 'x{200}' \(truncated\) metric: 'long\{big="x{190}'\. See: https:\/\/grafana\.com/);
  });

  await t.test('unsupported media types, size limit, auth and rate limit', async (t) => {
    let res = await post(tenant, '{}', { 'Content-Type': 'text/plain' });
    t.equal(res.status, 415);
    t.equal(res.headers['content-type'], OTLP_PROTOBUF);
    t.same(decodeStatus(res.raw), { code: 415, message: 'unsupported content type: text/plain, supported: [application/json, application/x-protobuf]' });
    res = await post(tenant, '{}', { 'Content-Type': OTLP_JSON, 'Content-Encoding': 'snappy' });
    t.equal(res.status, 415);
    t.equal(res.headers['content-type'], OTLP_JSON);
    t.equal(res.body, '{"code":415,"message":"unsupported compression: snappy. Only \\"gzip\\" or no compression supported"}');

    const big = Buffer.alloc(64 * 1024 + 1);
    res = await post(tenant, big, { 'Content-Type': OTLP_PROTOBUF });
    t.equal(res.status, 413);
    t.same(decodeStatus(res.raw), {
      code: 413,
      message: `the incoming OTLP request has been rejected because its message size of ${big.length} bytes is larger than the allowed limit of 65536 bytes (err-mimir-distributor-max-otlp-request-size). To adjust the related limit, configure -distributor.max-otlp-request-size, or contact your service administrator.`,
    });
    // Small compressed, too big once decompressed.
    res = await post(tenant, gzipSync(Buffer.alloc(200_000)), { 'Content-Type': OTLP_PROTOBUF, 'Content-Encoding': 'gzip' });
    t.equal(res.status, 413);
    t.match(decodeStatus(res.raw).message, /^the incoming OTLP request has been rejected because its message size is larger than the allowed limit of 65536 bytes/);

    res = await post(undefined, encodeOtlpMetrics(allTypes(t0)), { 'Content-Type': OTLP_PROTOBUF });
    t.equal(res.status, 401);
    t.equal(res.body, 'no org id\n');

    // Burst 2: one sample fits, three do not (nothing stored), 429 ResourceExhausted. The family's
    // metadata counts as an item too, as Mimir counts samples, exemplars and metadata.
    const three: ResourceInput[] = [{ resource: {}, metrics: [{ name: 'limited', gauge: [1, 2, 3].map((i) => ({ attributes: { i }, timeMs: t0, value: i })) }] }];
    res = await postPb(limitedTenant, three);
    t.equal(res.status, 429);
    const rl = decodeStatus(res.raw);
    t.equal(rl.code, 8);
    t.match(rl.message, /exceeded the ingestion burst size limit, set to 2, with 4 items/);
    t.same(await series(limitedTenant, '{__name__!=""}'), []);
    t.equal((await postPb(limitedTenant, [{ resource: {}, metrics: [{ name: 'limited', gauge: [{ timeMs: t0, value: 1 }] }] }])).status, 200);
  });

  await t.test('metrics count OTLP pushes and dropped metrics', async (t) => {
    const res = await httpRequest(srv.port, '/metrics');
    t.match(res.body, `cortex_distributor_otlp_requests_total{user="${tenant}"}`);
    t.match(res.body, `cortex_discarded_samples_total{reason="otlp_parse_error",user="${tenant}"} 1`);
  });

  t.test('response encodings', async (t) => {
    t.same(encodeStatus(OTLP_PROTOBUF, 429, 'go slower').length, 14, 'as Mimir: Status{code=429, message="go slower"} is 14 bytes');
    t.equal(encodeStatus(OTLP_JSON, 3, 'a<b & "c"').toString(), '{"code":3,"message":"a\\u003cb \\u0026 \\"c\\""}');
    t.equal(encodeExportResponse(OTLP_JSON).toString(), '{}');
    t.equal(encodeExportResponse(OTLP_PROTOBUF).length, 0);
    t.equal(decodePartialSuccess(encodeExportResponse(OTLP_PROTOBUF, 'x')), 'x');
  });
}
