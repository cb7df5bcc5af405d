// query-limits.test.ts: the per-tenant query limits with Mimir's exact texts
// and statuses, set per tenant in a runtime configuration file and checked
// through the real server: max_total_query_length (400 bad_data before the
// range query runs), max_partial_query_length (422 execution, "expanding
// series: " as Prometheus's engine words a storage error; 400 plain text for
// remote read), max_fetched_series_per_query (distinct series over the whole
// query); a federated read takes the smallest non-zero value of its tenants.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test as Tap } from 'tap';
import { postRemoteRead, ReadMatchType, ResponseType } from '../../test/peer/lib/remote-read.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { formatGoDuration, limitedKernels, maxQueryLengthMessage, maxSeriesPerQueryMessage, maxTotalQueryLengthMessage, queryLimitsFor } from './query-limits.js';
import { defaultConfig } from '../config/config.js';
import { nativeSkip } from '../testing/native-skip.js';

t.test('Go duration texts', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [500, '500ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [3_600_000, '1h0m0s'],
    [3_600_000 + 1, '1h0m0.001s'],
    [721 * 3_600_000 + 60_000, '721h1m0s'],
    [744 * 3_600_000, '744h0m0s'],
  ];
  for (const [ms, want] of cases) t.equal(formatGoDuration(ms), want, `${ms} ms`);
});

t.test("Mimir's texts", async (t) => {
  t.equal(
    maxQueryLengthMessage(3_600_000, 60_000),
    'the query time range exceeds the limit (query length: 1h0m0s, limit: 1m0s) (err-mimir-max-query-length). To adjust the related per-tenant limit, configure -querier.max-partial-query-length, or contact your service administrator.',
  );
  t.equal(
    maxTotalQueryLengthMessage(3_600_000, 60_000),
    'the total query time range exceeds the limit (query length: 1h0m0s, limit: 1m0s) (err-mimir-max-total-query-length). To adjust the related per-tenant limit, configure -query-frontend.max-total-query-length, or contact your service administrator.',
  );
  t.equal(
    maxSeriesPerQueryMessage(1),
    'the query exceeded the maximum number of series (limit: 1 series) (err-mimir-max-series-per-query). Consider reducing the time range and/or number of series selected by the query. One way to reduce the number of selected series is to add more label matchers to the query. Otherwise, to adjust the related per-tenant limit, configure -querier.max-fetched-series-per-query, or contact your service administrator.',
  );
});

t.test('federated limits: the smallest non-zero value', async (t) => {
  const values = (over: Record<string, number>) => defaultConfig(over).values;
  const byTenant: Record<string, ReturnType<typeof values>> = {
    a: values({ 'querier.max-partial-query-length': 7_200_000, 'querier.max-fetched-series-per-query': 0 }),
    b: values({ 'querier.max-partial-query-length': 3_600_000, 'query-frontend.max-total-query-length': 60_000, 'querier.max-fetched-series-per-query': 5 }),
    c: values({}),
  };
  const source = { values: (t: string) => byTenant[t]! };
  t.same(queryLimitsFor(source, 'a|b|c'), { maxPartialQueryLengthMs: 3_600_000, maxTotalQueryLengthMs: 60_000, maxFetchedSeriesPerQuery: 5 });
  t.same(queryLimitsFor(source, 'a'), { maxPartialQueryLengthMs: 7_200_000, maxTotalQueryLengthMs: 0, maxFetchedSeriesPerQuery: 0 });
  t.same(queryLimitsFor(source, 'c'), { maxPartialQueryLengthMs: 0, maxTotalQueryLengthMs: 0, maxFetchedSeriesPerQuery: 0 });
});

const skip = nativeSkip();
const run = Date.now().toString(36);
const LIMITED = `ql-limited-${run}`;
const FREE = `ql-free-${run}`;
const now = Math.floor(Date.now() / 1000) * 1000;

interface ErrorBody {
  status: string;
  errorType: string;
  error: string;
}

t.test('limited kernels keep the start-timestamp kernel', async (t) => {
  // Without it, a query under a limit would read start timestamps as if there were none.
  const answer = { values: Float64Array.of(42), present: Uint8Array.of(1) };
  const empty = { labels: [], offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };
  const inner = { select: () => empty, instant: () => answer, range: () => answer, rangeStartTimes: () => answer };
  const k = limitedKernels(inner, { maxPartialQueryLengthMs: 0, maxFetchedSeriesPerQuery: 10 });
  t.not(k, inner, 'wrapped: a limit is set');
  t.equal(k.rangeStartTimes?.('rate', empty, new Float64Array(0), 1), answer);
  t.equal(limitedKernels({ ...inner, rangeStartTimes: undefined }, { maxPartialQueryLengthMs: 0, maxFetchedSeriesPerQuery: 10 }).rangeStartTimes, undefined, 'absent stays absent');
});

t.test('query limits through the server', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'query-limits-'));
  const file = join(dir, 'runtime.yaml');
  writeFileSync(file, `overrides:\n  ${LIMITED}:\n    max_partial_query_length: 1h\n    max_total_query_length: 2h\n    max_fetched_series_per_query: 2\n`);
  // Splitting off: the partial length is checked per split part, so a range crossing
  // a UTC midnight would be checked as two shorter parts.
  const srv = await startTestServer({ 'runtime-config.file': file, 'tenant-federation.enabled': true, 'query-frontend.split-queries-by-interval': 0 });
  t.teardown(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const tenant of [LIMITED, FREE]) {
    const res = await httpRequest(srv.port, '/api/v1/push', {
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
      body: encodeWriteRequestSnappy(['a', 'b', 'c'].map((job) => ({ labels: [['__name__', 'ql_metric'], ['job', job]], samples: [[now - 60_000, 1], [now, 2]] }))),
    });
    t.equal(res.status, 200, res.body);
  }
  const query = (path: string, params: Record<string, string>, tenant = LIMITED): Promise<ClientResponse> =>
    httpRequest(srv.port, `/prometheus/api/v1/${path}?${new URLSearchParams(params)}`, { headers: { 'X-Scope-OrgID': tenant } });
  const s = (ms: number): string => String(ms / 1000);
  const H = 3_600_000;
  const expectError = (t: Tap, res: ClientResponse, status: number, errorType: string, error: string): void => {
    t.equal(res.status, status, res.body);
    t.match(res.headers['content-type'], /^application\/json/);
    t.same(jsonOf<ErrorBody>(res), { status: 'error', errorType, error });
  };

  await t.test('max_total_query_length: 400 before the query runs', async (t) => {
    const res = await query('query_range', { query: 'ql_metric', start: s(now - 3 * H), end: s(now), step: '60' });
    expectError(t, res, 400, 'bad_data', maxTotalQueryLengthMessage(3 * H, 2 * H));
    const ok = await query('query_range', { query: 'ql_metric{job="a"}', start: s(now - 50 * 60_000), end: s(now), step: '60' });
    t.equal(ok.status, 200, 'within both lengths');
    t.equal((await query('query_range', { query: 'ql_metric', start: s(now - 3 * H), end: s(now), step: '60' }, FREE)).status, 200, 'another tenant is not limited');
  });

  await t.test('max_partial_query_length: 422, the selector range and lookback counted', async (t) => {
    // 90m of range plus the 5m lookback of an instant selector.
    let res = await query('query_range', { query: 'ql_metric{job="a"}', start: s(now - 90 * 60_000), end: s(now), step: '60' });
    expectError(t, res, 422, 'execution', `expanding series: ${maxQueryLengthMessage(95 * 60_000, H)}`);
    res = await query('query', { query: 'rate(ql_metric{job="a"}[2h])', time: s(now) });
    expectError(t, res, 422, 'execution', `expanding series: ${maxQueryLengthMessage(2 * H, H)}`);
    res = await query('query', { query: 'rate(ql_metric{job="a"}[55m])', time: s(now) });
    t.equal(res.status, 200, res.body);
  });

  await t.test('max_fetched_series_per_query: distinct series over every selection', async (t) => {
    let res = await query('query', { query: 'ql_metric', time: s(now) });
    expectError(t, res, 422, 'execution', `expanding series: ${maxSeriesPerQueryMessage(2)}`);
    res = await query('query', { query: 'count(ql_metric{job=~"a|b"}) + count(ql_metric{job="a"})', time: s(now) });
    t.equal(res.status, 200, `the same series selected twice counts once: ${res.body}`);
    res = await query('query', { query: 'count(ql_metric{job="a"}) + count(ql_metric{job="b"}) + count(ql_metric{job="c"})', time: s(now) });
    expectError(t, res, 422, 'execution', `expanding series: ${maxSeriesPerQueryMessage(2)}`);
    t.equal((await query('query', { query: 'ql_metric', time: s(now) }, FREE)).status, 200, 'another tenant is not limited');
  });

  await t.test('a federated query takes the smallest limit of its tenants', async (t) => {
    // job="a" is one series in each tenant: two in all, within the limit; a|b is four.
    let res = await query('query', { query: 'count(ql_metric{job="a"})', time: s(now) }, `${FREE}|${LIMITED}`);
    t.equal(res.status, 200, res.body);
    res = await query('query', { query: 'count(ql_metric{job=~"a|b"})', time: s(now) }, `${FREE}|${LIMITED}`);
    expectError(t, res, 422, 'execution', `expanding series: ${maxSeriesPerQueryMessage(2)}`);
  });

  await t.test('remote read: 400 in plain text', async (t) => {
    const url = `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`;
    const name = { type: ReadMatchType.EQ, name: '__name__', value: 'ql_metric' };
    let res = await postRemoteRead(url, [{ startMs: now - 2 * H, endMs: now, matchers: [name] }], [ResponseType.SAMPLES], { 'X-Scope-OrgID': LIMITED });
    t.equal(res.status, 400);
    t.match(res.contentType, /^text\/plain/);
    t.equal(Buffer.from(res.body).toString(), `${maxQueryLengthMessage(2 * H, H)}\n`);
    res = await postRemoteRead(url, [{ startMs: now - H, endMs: now, matchers: [name] }], [ResponseType.STREAMED_XOR_CHUNKS], { 'X-Scope-OrgID': LIMITED });
    t.equal(res.status, 400);
    t.equal(Buffer.from(res.body).toString(), `${maxSeriesPerQueryMessage(2)}\n`);
    res = await postRemoteRead(url, [{ startMs: now - H, endMs: now, matchers: [name, { type: ReadMatchType.NEQ, name: 'job', value: 'c' }] }], [ResponseType.SAMPLES], { 'X-Scope-OrgID': LIMITED });
    t.equal(res.status, 200, 'within the limits');
    res = await postRemoteRead(url, [{ startMs: now - 2 * H, endMs: now, matchers: [name] }], [ResponseType.SAMPLES], { 'X-Scope-OrgID': FREE });
    t.equal(res.status, 200, 'another tenant is not limited');
  });
});


