// app.test.ts drives the whole process end to end through the real server on
// an ephemeral port with the real native binding: remote-write pushes for two
// tenants, every kind of rejection, and the metadata reads that must see
// exactly what was accepted.

import t from 'tap';
import snappy from '@napi-rs/snappy';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from './remote/write-request.js';
import { httpRequest, jsonOf, type ClientResponse } from './testing/http-client.js';
import { startTestServer, type TestServer } from './testing/server.js';
import { nativeSkip } from './testing/native-skip.js';

// nativeSkip: a missing binding skips by hand, never under CI (where the test runs and fails).
const skip = nativeSkip();
if (skip !== false) {
  t.plan(0, skip);
} else {
  await run();
}

interface Envelope<T> {
  status: string;
  data: T;
  warnings?: string[];
  errorType?: string;
  error?: string;
}

async function run(): Promise<void> {
  const srv: TestServer = await startTestServer({ 'distributor.max-recv-msg-size': 64 * 1024 });
  t.teardown(() => srv.close());
  const run = Date.now().toString(36);
  const tenantA = `team-a-${run}`;
  const tenantB = `team-b-${run}`;
  const now = Date.now();

  const push = (tenant: string | undefined, body: Buffer, path = '/api/v1/push'): Promise<ClientResponse> =>
    httpRequest(srv.port, path, {
      body,
      headers: { ...REMOTE_WRITE_HEADERS, ...(tenant === undefined ? {} : { 'X-Scope-OrgID': tenant }) },
    });
  const pushSeries = (tenant: string, series: TimeSeriesInput[]): Promise<ClientResponse> => push(tenant, encodeWriteRequestSnappy(series));
  const get = async <T>(tenant: string, path: string): Promise<Envelope<T>> => {
    const res = await httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': tenant } });
    t.equal(res.status, 200, `GET ${path}: ${res.body}`);
    return jsonOf<Envelope<T>>(res);
  };
  const seriesOf = async (tenant: string, match = '{__name__!=""}'): Promise<Array<Record<string, string>>> =>
    (await get<Array<Record<string, string>>>(tenant, `/prometheus/api/v1/series?match[]=${encodeURIComponent(match)}`)).data;
  const s = (labels: Array<[string, string]>, ...samples: Array<[number, number]>): TimeSeriesInput => ({ labels, samples });

  await t.test('push for two tenants and read back without cross-visibility', async (t) => {
    let res = await pushSeries(tenantA, [
      s([['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], [now - 60_000, 1], [now - 30_000, 1]),
      s([['__name__', 'http_requests_total'], ['code', '200'], ['job', 'api']], [now - 30_000, 10]),
    ]);
    t.equal(res.status, 200);
    t.equal(res.body, '');
    res = await pushSeries(tenantB, [s([['__name__', 'only_b'], ['job', 'b']], [now - 30_000, 5])]);
    t.equal(res.status, 200);

    t.same(await seriesOf(tenantA, 'up'), [{ __name__: 'up', instance: 'a:9100', job: 'node' }]);
    t.same(await seriesOf(tenantA, 'only_b'), []);
    t.same(await seriesOf(tenantB), [{ __name__: 'only_b', job: 'b' }]);
    t.same((await get<string[]>(tenantA, '/prometheus/api/v1/labels')).data, ['__name__', 'code', 'instance', 'job']);
    t.same((await get<string[]>(tenantB, '/api/v1/labels')).data, ['__name__', 'job']);
    t.same((await get<string[]>(tenantA, '/prometheus/api/v1/label/__name__/values')).data, ['http_requests_total', 'up']);
    t.same((await get<string[]>(tenantB, '/api/v1/label/job/values')).data, ['b']);
    t.same((await get<string[]>(tenantA, '/api/v1/label/job/values?match[]=up')).data, ['node']);
  });

  await t.test('legacy push path, POST form reads, repeated match[], time range and limit', async (t) => {
    const res = await push(tenantA, encodeWriteRequestSnappy([s([['__name__', 'legacy'], ['job', 'old']], [now - 20_000, 1])]), '/api/prom/push');
    t.equal(res.status, 200);
    const form = await httpRequest(srv.port, '/prometheus/api/v1/series', {
      method: 'POST',
      headers: { 'X-Scope-OrgID': tenantA, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `match[]=${encodeURIComponent('up')}&match[]=${encodeURIComponent('{job="old"}')}&start=${(now - 3_600_000) / 1000}`,
    });
    t.equal(form.status, 200, form.body);
    t.same(jsonOf<Envelope<unknown>>(form).data, [{ __name__: 'legacy', job: 'old' }, { __name__: 'up', instance: 'a:9100', job: 'node' }]);
    const past = await get<unknown[]>(tenantA, `/api/v1/series?match[]=up&start=${new Date(now - 7_200_000).toISOString()}&end=${(now - 3_600_000) / 1000}`);
    t.same(past.data, []);
    const limited = await get<unknown[]>(tenantA, '/api/v1/series?match[]={job=~".%2B"}&limit=1');
    t.equal(limited.data.length, 1);
    t.same(limited.warnings, ['results truncated due to limit']);
    const names = await get<string[]>(tenantA, '/api/v1/label/__name__/values?limit=2');
    t.same(names.data, ['http_requests_total', 'legacy']);
    t.same(names.warnings, ['results truncated due to limit']);
    const notTruncated = await get<string[]>(tenantA, '/api/v1/labels?limit=100');
    t.equal(notTruncated.warnings, undefined);
  });

  await t.test('auth: missing and invalid tenants are 401', async (t) => {
    const body = encodeWriteRequestSnappy([s([['__name__', 'x']], [now, 1])]);
    let res = await push(undefined, body);
    t.equal(res.status, 401);
    t.match(res.body, 'no org id');
    res = await push('bad/tenant', body);
    t.equal(res.status, 401);
    t.match(res.body, "tenant ID 'bad/tenant' contains unsupported character '/'");
    res = await push('x'.repeat(151), body);
    t.equal(res.status, 401);
    t.match(res.body, 'tenant ID is too long: max 150 characters');
    res = await push('..', body);
    t.equal(res.status, 401);
    res = await httpRequest(srv.port, '/prometheus/api/v1/labels');
    t.equal(res.status, 401);
    t.match(res.body, 'no org id');
  });

  await t.test('corrupt snappy and corrupt protobuf are 400', async (t) => {
    let res = await push(tenantA, Buffer.from('definitely not snappy at all'));
    t.equal(res.status, 400);
    t.match(res.body, 'snappy: corrupt input');
    res = await push(tenantA, Buffer.from([0x05, 0x00, 0x01]));
    t.equal(res.status, 400);
    res = await push(tenantA, snappy.compressSync(Buffer.from([0xff, 0xff, 0x01, 0x02, 0x07])));
    t.equal(res.status, 400);
    t.match(res.body, /proto/);
    t.same(await seriesOf(tenantA, 'up'), [{ __name__: 'up', instance: 'a:9100', job: 'node' }]);
  });

  await t.test('oversize bodies are 413 with Mimir message', async (t) => {
    const big = Buffer.alloc(70 * 1024, 1);
    let res = await push(tenantA, big);
    t.equal(res.status, 413);
    t.match(res.body, `message size of ${big.length} bytes is larger than the allowed limit of ${64 * 1024} bytes (err-mimir-distributor-max-write-message-size)`);
    t.match(res.body, '-distributor.max-recv-msg-size');
    res = await httpRequest(srv.port, '/api/v1/push', { body: big, chunked: true, headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenantA } });
    t.equal(res.status, 413);
    t.match(res.body, `message size is larger than the allowed limit of ${64 * 1024} bytes`);
    // Small on the wire, too big once uncompressed.
    const bomb = encodeWriteRequestSnappy([s([['__name__', 'bomb'], ['v', 'x'.repeat(100 * 1024)]], [now, 1])]);
    t.ok(bomb.length < 64 * 1024);
    res = await push(tenantA, bomb);
    t.equal(res.status, 413);
    t.match(res.body, 'bytes (uncompressed) is larger than the allowed limit');
    t.same(await seriesOf(tenantA, 'up'), [{ __name__: 'up', instance: 'a:9100', job: 'node' }]);
  });

  await t.test('invalid series are 400 naming the series; valid series of the request are stored', async (t) => {
    const cases: Array<[string, TimeSeriesInput, string]> = [
      ['invalid metric name', s([['__name__', '1bad'], ['job', 'v']], [now, 1]), "invalid metric name: '1bad'"],
      ['invalid label name', s([['__name__', 'badlabel'], ['a-b', 'x']], [now, 1]), "invalid label: 'a-b' series: 'badlabel{a-b=\"x\"}'"],
      ['duplicate label', s([['__name__', 'duplabel'], ['a', '1'], ['a', '2']], [now, 1]), "duplicate label name, label: 'a' series: 'duplabel{"],
      [
        'too many labels',
        s([['__name__', 'toomany'], ...Array.from({ length: 30 }, (_, i): [string, string] => [`l${String(i).padStart(2, '0')}`, 'v'])], [now, 1]),
        'number of labels exceeds the limit (actual: 31, limit: 30)',
      ],
      ['missing metric name', s([['job', 'nameless']], [now, 1]), 'no metric name'],
    ];
    for (const [name, bad, message] of cases) {
      const good = s([['__name__', 'good_metric'], ['case', name.replace(/ /g, '_')]], [now, 1]);
      const res = await pushSeries(tenantA, [bad, good]);
      t.equal(res.status, 400, name);
      t.match(res.body, message, name);
      t.same(await seriesOf(tenantA, `good_metric{case="${name.replace(/ /g, '_')}"}`), [{ __name__: 'good_metric', case: name.replace(/ /g, '_') }], `${name}: valid series stored`);
      t.same(await seriesOf(tenantA, 'up'), [{ __name__: 'up', instance: 'a:9100', job: 'node' }], `${name}: earlier data readable`);
    }
  });

  await t.test('unsorted labels are sorted and stored, as Mimir does', async (t) => {
    const res = await pushSeries(tenantA, [s([['__name__', 'unsorted'], ['z', '1'], ['a', '2']], [now, 1])]);
    t.equal(res.status, 200, res.body);
    t.same(await seriesOf(tenantA, 'unsorted'), [{ __name__: 'unsorted', a: '2', z: '1' }]);
  });

  await t.test('out-of-order and duplicate samples are 400; the rest is stored', async (t) => {
    let res = await pushSeries(tenantA, [
      s([['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], [now - 90_000, 1]),
      s([['__name__', 'fresh'], ['job', 'ooo']], [now - 1000, 1]),
    ]);
    t.equal(res.status, 400);
    t.match(res.body, 'err-mimir-sample-out-of-order');
    t.match(res.body, 'up{');
    t.equal((await seriesOf(tenantA, 'fresh')).length, 1);
    res = await pushSeries(tenantA, [
      s([['__name__', 'up'], ['instance', 'a:9100'], ['job', 'node']], [now - 30_000, 42]),
      s([['__name__', 'fresh2'], ['job', 'dup']], [now - 1000, 1]),
    ]);
    t.equal(res.status, 400);
    t.match(res.body, 'err-mimir-sample-duplicate-timestamp');
    t.equal((await seriesOf(tenantA, 'fresh2')).length, 1);
    t.same(await seriesOf(tenantA, 'up'), [{ __name__: 'up', instance: 'a:9100', job: 'node' }]);
  });

  await t.test('metadata read errors are bad_data envelopes', async (t) => {
    const bad = async (path: string, message: string | RegExp): Promise<void> => {
      const res = await httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': tenantA } });
      t.equal(res.status, 400, path);
      const env = jsonOf<Envelope<unknown>>(res);
      t.equal(env.status, 'error');
      t.equal(env.errorType, 'bad_data');
      t.match(env.error, message, path);
    };
    await bad('/prometheus/api/v1/series', 'no match[] parameter provided');
    await bad('/prometheus/api/v1/series?match[]=' + encodeURIComponent('up{job="a"'), '1:11: parse error: unexpected end of input inside braces');
    await bad('/prometheus/api/v1/series?match[]=' + encodeURIComponent('{job=""}'), 'match[] must contain at least one non-empty matcher');
    await bad('/prometheus/api/v1/labels?start=yesterday', `invalid parameter "start": Invalid time value for 'start': cannot parse "yesterday" to a valid timestamp`);
    await bad('/prometheus/api/v1/labels?limit=-1', 'limit must be non-negative');
    await bad('/prometheus/api/v1/series?match[]=' + encodeURIComponent('{job=~"("}'), /regex|regexp/);
  });

  await t.test('metrics reflect pushes', async (t) => {
    const res = await httpRequest(srv.port, '/metrics');
    t.equal(res.status, 200);
    t.match(res.body, `cortex_distributor_requests_in_total{user="${tenantA}"}`);
    t.match(res.body, `cortex_discarded_samples_total{reason="metric_name_invalid",user="${tenantA}"} 1`);
    t.match(res.body, `cortex_ingester_ingested_samples_total{user="${tenantB}"} 1`);
    t.match(res.body, /cortex_ingester_memory_series \d+/);
    t.match(res.body, /cortex_request_duration_seconds_count\{method="POST",route="api_v1_push",status_code="200",ws="false"\} \d+/);
    t.match(res.body, 'process_cpu_user_seconds_total');
  });
}
