// remote-write-v2-http.test.ts pushes remote write 2.0 requests through the
// real server (worker pool, native decoder, head) and reads them back with
// the series and query APIs: content negotiation (415), the written-count
// headers, Mimir's 400 texts for malformed references, partial writes, and
// the 1.0 path left as it was.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { encodeWriteRequestV2Snappy, MetricType, REMOTE_WRITE_V2_HEADERS, type TimeSeriesV2Input } from '../remote/write-request-v2.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { nativeSkip } from '../testing/native-skip.js';


interface Envelope<T> {
  status: string;
  data: T;
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

t.test('remote write 2.0 through the server', { skip: nativeSkip('ingestSnappyWriteRequestV2') }, async (t) => {
  const srv = await startTestServer({ 'ingester.max-global-exemplars-per-user': 100 });
  t.teardown(() => srv.close());
  const tenant = `rw2-${Date.now().toString(36)}`;
  // Whole seconds, a minute ago: query times print exactly.
  const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;

  const pushV2 = (series: TimeSeriesV2Input[], headers: Record<string, string> = {}, path = '/api/v1/push'): Promise<ClientResponse> =>
    httpRequest(srv.port, path, { body: encodeWriteRequestV2Snappy(series), headers: { ...REMOTE_WRITE_V2_HEADERS, 'X-Scope-OrgID': tenant, ...headers } });
  const get = async <T>(path: string): Promise<T> => {
    const res = await httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': tenant } });
    t.equal(res.status, 200, `GET ${path}: ${res.body}`);
    return jsonOf<Envelope<T>>(res).data;
  };
  const series = (match: string): Promise<Array<Record<string, string>>> => get(`/prometheus/api/v1/series?match[]=${encodeURIComponent(match)}`);
  const query = (expr: string, timeMs: number): Promise<VectorSample[]> =>
    get<{ result: VectorSample[] }>(`/prometheus/api/v1/query?query=${encodeURIComponent(expr)}&time=${timeMs / 1000}`).then((d) => d.result);
  const written = (res: ClientResponse): [string?, string?, string?] => [
    res.headers['x-prometheus-remote-write-samples-written'] as string | undefined,
    res.headers['x-prometheus-remote-write-histograms-written'] as string | undefined,
    res.headers['x-prometheus-remote-write-exemplars-written'] as string | undefined,
  ];

  await t.test('push, 204 with the written counts, read back', async (t) => {
    const res = await pushV2([
      {
        labels: [['__name__', 'rw2_requests_total'], ['code', '200'], ['job', 'api']],
        samples: [[base, 5], [base + 15_000, 7]],
        exemplars: [{ labels: [['trace_id', 'abc123']], value: 1, timestampMs: base }],
        metadata: { type: MetricType.counter, help: 'Requests served.', unit: 'requests' },
        createdTimestampMs: base - 30_000,
      },
      { labels: [['__name__', 'rw2_temperature'], ['job', 'api']], samples: [[base, 21.5]], metadata: { type: MetricType.gauge } },
      // Native histograms are stored: the histograms-written header counts them.
      { labels: [['__name__', 'rw2_latency_seconds'], ['job', 'api']], histograms: [[base, 3]], metadata: { type: MetricType.histogram } },
    ]);
    t.equal(res.status, 204, res.body);
    t.equal(res.body, '');
    t.same(written(res), ['3', '1', '1'], 'the created-timestamp zero sample is not counted as written');
    // The exemplar and the metadata of 2.0 series are stored as 1.0's.
    const ex = await get<Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }> }>>(
      `/prometheus/api/v1/query_exemplars?query=rw2_requests_total&start=${(base - 60_000) / 1000}&end=${(base + 60_000) / 1000}`,
    );
    t.same(ex, [{ seriesLabels: { __name__: 'rw2_requests_total', code: '200', job: 'api' }, exemplars: [{ labels: { trace_id: 'abc123' }, value: '1', timestamp: base / 1000 }] }]);
    const md = await get<Record<string, Array<{ type: string; help: string; unit: string }>>>('/prometheus/api/v1/metadata?metric=rw2_requests_total');
    t.same(md, { rw2_requests_total: [{ type: 'counter', help: 'Requests served.', unit: 'requests' }] });

    t.same(await series('{__name__=~"rw2_.*"}'), [
      { __name__: 'rw2_latency_seconds', job: 'api' },
      { __name__: 'rw2_requests_total', code: '200', job: 'api' },
      { __name__: 'rw2_temperature', job: 'api' },
    ]);
    t.same(await query('rw2_requests_total', base + 15_000), [{ metric: { __name__: 'rw2_requests_total', code: '200', job: 'api' }, value: [(base + 15_000) / 1000, '7'] }]);
    t.same(await query('rw2_temperature', base), [{ metric: { __name__: 'rw2_temperature', job: 'api' }, value: [base / 1000, '21.5'] }]);
    // The created timestamp became a zero sample 30s before the first one.
    t.same(await query('rw2_requests_total', base - 10_000), [{ metric: { __name__: 'rw2_requests_total', code: '200', job: 'api' }, value: [(base - 10_000) / 1000, '0'] }]);
    t.same(await query('count_over_time(rw2_requests_total[2m])', base + 15_000), [{ metric: { code: '200', job: 'api' }, value: [(base + 15_000) / 1000, '3'] }]);
  });

  await t.test('the legacy path takes 2.0 too', async (t) => {
    const res = await pushV2([{ labels: [['__name__', 'rw2_legacy']], samples: [[base, 1]] }], {}, '/api/prom/push');
    t.equal(res.status, 204, res.body);
    t.same(written(res), ['1', '0', '0']);
    t.same(await series('rw2_legacy'), [{ __name__: 'rw2_legacy' }]);
  });

  await t.test('unsupported content types and encodings are 415 and store nothing', async (t) => {
    const body: TimeSeriesV2Input[] = [{ labels: [['__name__', 'rw2_refused']], samples: [[base, 1]] }];
    let res = await pushV2(body, { 'Content-Type': 'text/plain' });
    t.equal(res.status, 415);
    t.equal(res.body, 'expected application/x-protobuf as the first (media) part, got text/plain content-type\n');
    res = await pushV2(body, { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' });
    t.equal(res.status, 415);
    t.equal(
      res.body,
      'got application/x-protobuf;proto=io.prometheus.write.v3.Request content type; unknown remote write protobuf message io.prometheus.write.v3.Request, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request\n',
    );
    res = await pushV2(body, { 'Content-Encoding': 'zstd' });
    t.equal(res.status, 415);
    t.equal(res.body, 'zstd encoding (compression) is not accepted by this server; only snappy is acceptable\n');
    t.same(written(res), [undefined, undefined, undefined]);
    t.same(await series('rw2_refused'), []);
  });

  await t.test('malformed references are 400 with Mimir texts and store nothing', async (t) => {
    const ok: TimeSeriesV2Input = { labels: [['__name__', 'rw2_not_stored']], samples: [[base, 1]] };
    let res = await pushV2([ok, { labels: [], labelsRefs: [1, 999], samples: [[base, 1]] }]);
    t.equal(res.status, 400);
    t.equal(res.body, 'proto: Remote Write 2.0 invalid label reference\n');
    res = await pushV2([ok, { labels: [], labelsRefs: [1, 2, 1], samples: [[base, 1]] }]);
    t.equal(res.status, 400);
    t.equal(res.body, 'proto: Remote Write 2.0 odd number of label references\n');
    t.same(await series('rw2_not_stored'), []);
    // A 1.0 body sent as 2.0 is refused, not misread.
    res = await httpRequest(srv.port, '/api/v1/push', {
      body: encodeWriteRequestSnappy([{ labels: [['__name__', 'rw2_not_stored']], samples: [[base, 1]] }]),
      headers: { ...REMOTE_WRITE_V2_HEADERS, 'X-Scope-OrgID': tenant },
    });
    t.equal(res.status, 400);
    t.equal(res.body, 'proto: Remote Write 1.0 field Timeseries in non-Remote Write 1.0 message\n');
  });

  await t.test('an invalid series is 400, the valid part stored and counted', async (t) => {
    const res = await pushV2([
      { labels: [['job', 'no-name']], samples: [[base, 1]] },
      { labels: [['__name__', 'rw2_partial'], ['job', 'api']], samples: [[base, 1], [base + 15_000, 2]] },
    ]);
    t.equal(res.status, 400);
    t.match(res.body, 'received series has no metric name (err-mimir-missing-metric-name)');
    t.same(written(res), ['2', '0', '0']);
    t.same(await series('rw2_partial'), [{ __name__: 'rw2_partial', job: 'api' }]);
  });

  await t.test('remote write 1.0 keeps answering 200 without the 2.0 headers', async (t) => {
    const body = encodeWriteRequestSnappy([{ labels: [['__name__', 'rw2_v1'], ['job', 'api']], samples: [[base, 1]] }]);
    let res = await httpRequest(srv.port, '/api/v1/push', { body, headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant } });
    t.equal(res.status, 200, res.body);
    t.same(written(res), [undefined, undefined, undefined]);
    const explicit = { ...REMOTE_WRITE_HEADERS, 'Content-Type': 'application/x-protobuf;proto=prometheus.WriteRequest', 'X-Scope-OrgID': tenant };
    res = await httpRequest(srv.port, '/api/v1/push', { body, headers: explicit });
    t.equal(res.status, 200, res.body);
    res = await httpRequest(srv.port, '/api/v1/push', { body, headers: { 'X-Scope-OrgID': tenant } });
    t.equal(res.status, 200, 'no Content-Type and no Content-Encoding: 1.0, snappy');
    t.same(await series('rw2_v1'), [{ __name__: 'rw2_v1', job: 'api' }]);
  });
});

t.test('a storage without the 2.0 decoder refuses 2.0 with 415 and keeps taking 1.0', async (t) => {
  const storage = new FakeStorage();
  const srv = await startTestServer({ 'auth.multitenancy-enabled': false }, { storage });
  t.teardown(() => srv.close());
  const series = [{ labels: [['__name__', 'x']] as Array<[string, string]>, samples: [[1000, 1]] as Array<[number, number]> }];
  let res = await httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestV2Snappy(series), headers: REMOTE_WRITE_V2_HEADERS });
  t.equal(res.status, 415);
  t.equal(res.body, 'io.prometheus.write.v2.Request protobuf message is not accepted by this server; accepted [prometheus.WriteRequest]\n');
  t.equal(storage.ingests.length, 0);
  res = await httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestSnappy(series), headers: REMOTE_WRITE_HEADERS });
  t.equal(res.status, 200);
  t.equal(storage.ingests.length, 1);
});
