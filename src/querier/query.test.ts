// query.test.ts drives the PromQL endpoints end to end through the real
// server: remote-write pushes, then /api/v1/query and /api/v1/query_range
// answers compared byte for byte (evaluated in the query worker pool with the
// native kernels), Grafana's health check, format_query, `limit`, the
// lookback flag, and one request per error kind with Prometheus's status,
// errorType and text. Outcomes the real engine cannot be made to produce on
// demand (canceled, internal, a client abort) use an injected executor.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { formatTimestamp } from './format.js';
import type { QueryExecutor, WorkerAnswer } from './query-executor.js';
import type { QueryTask } from './query-params.js';
import { nativeSkip } from '../testing/native-skip.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const HEALTH_BODY = '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}';

interface ErrorBody {
  status: string;
  errorType: string;
  error: string;
}

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

t.test('with an injected executor', async (t) => {
  const tasks: QueryTask[] = [];
  let next: (task: QueryTask, signal: AbortSignal) => Promise<WorkerAnswer> = async () => new TextEncoder().encode(HEALTH_BODY);
  const executor: QueryExecutor = {
    run: (task, signal) => {
      tasks.push(task);
      return next(task, signal);
    },
    close: async () => {},
  };
  const srv = await startTestServer({ 'querier.timeout': 30_000, 'querier.lookback-delta': 60_000, 'querier.max-samples': 1234 }, { queryExecutor: executor });
  t.teardown(() => srv.close());
  const get = (path: string, tenant: string | null = 'tenant-1'): Promise<ClientResponse> =>
    httpRequest(srv.port, path, { headers: tenant === null ? {} : { 'X-Scope-OrgID': tenant } });

  await t.test('tasks carry the server settings and the tighter deadline', async (t) => {
    const before = Date.now();
    let res = await get(`/prometheus/api/v1/query?${q({ query: 'up', time: '100.5', limit: '7' })}`);
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'application/json');
    t.equal(res.body, HEALTH_BODY);
    t.match(tasks.at(-1), { tenant: 'tenant-1', query: 'up', kind: 'instant', startMs: 100_500, endMs: 100_500, stepMs: 0, limit: 7, lookbackDeltaMs: 60_000, maxSamples: 1234 });
    t.ok(tasks.at(-1)!.deadline >= before + 30_000 && tasks.at(-1)!.deadline <= Date.now() + 30_000, 'deadline from -querier.timeout');
    res = await get(`/api/v1/query_range?${q({ query: 'up', start: '0', end: '60', step: '15s', timeout: '2s', lookback_delta: '30s' })}`);
    t.equal(res.status, 200, 'unprefixed route');
    t.match(tasks.at(-1), { kind: 'range', startMs: 0, endMs: 60_000, stepMs: 15_000, lookbackDeltaMs: 30_000 });
    t.ok(tasks.at(-1)!.deadline <= Date.now() + 2000, 'the timeout parameter wins when shorter');
  });

  await t.test('parameter errors are 400 bad_data before any evaluation', async (t) => {
    const count = tasks.length;
    const cases: Array<[string, string]> = [
      [`/prometheus/api/v1/query_range?${q({ query: 'up', end: '10', step: '1' })}`, 'invalid parameter "start": cannot parse "" to a valid timestamp'],
      [`/prometheus/api/v1/query_range?${q({ query: 'up', start: '10', end: '5', step: '1' })}`, 'invalid parameter "end": end timestamp must not be before start time'],
      [`/prometheus/api/v1/query_range?${q({ query: 'up', start: '0', end: '10', step: '0' })}`, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
      [`/prometheus/api/v1/query_range?${q({ query: 'up', start: '0', end: '11001', step: '1' })}`, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
      [`/prometheus/api/v1/query?${q({ query: 'up', time: 'soon' })}`, `invalid parameter "time": Invalid time value for 'time': cannot parse "soon" to a valid timestamp`],
      [`/prometheus/api/v1/query?${q({ query: 'up', timeout: 'x' })}`, 'invalid parameter "timeout": cannot parse "x" to a valid duration'],
    ];
    for (const [path, error] of cases) {
      const res = await get(path);
      t.equal(res.status, 400, path);
      t.same(jsonOf<ErrorBody>(res), { status: 'error', errorType: 'bad_data', error }, path);
    }
    t.equal(tasks.length, count);
  });

  await t.test('worker failures map to their status', async (t) => {
    const cases: Array<[WorkerAnswer, number, string, string]> = [
      [{ ok: false, kind: 'bad_data', message: '1:4: parse error: unexpected end of input', param: 'query' }, 400, 'bad_data', 'invalid parameter "query": 1:4: parse error: unexpected end of input'],
      [{ ok: false, kind: 'execution', message: 'vector cannot contain metrics with the same labelset' }, 422, 'execution', 'vector cannot contain metrics with the same labelset'],
      [{ ok: false, kind: 'timeout', message: 'query timed out in expression evaluation' }, 503, 'timeout', 'query timed out in expression evaluation'],
      [{ ok: false, kind: 'canceled', message: 'query was canceled in expression evaluation' }, 499, 'canceled', 'query was canceled in expression evaluation'],
      [{ ok: false, kind: 'internal', message: 'boom' }, 500, 'internal', 'boom'],
    ];
    for (const [answer, status, errorType, error] of cases) {
      next = async () => answer;
      const res = await get(`/prometheus/api/v1/query?${q({ query: 'up' })}`);
      t.equal(res.status, status, errorType);
      t.same(jsonOf<ErrorBody>(res), { status: 'error', errorType, error }, errorType);
    }
    next = async () => {
      throw new Error('worker exited');
    };
    const res = await get(`/prometheus/api/v1/query?${q({ query: 'up' })}`);
    t.equal(res.status, 500, 'a crashed worker is internal');
    t.same(jsonOf<ErrorBody>(res), { status: 'error', errorType: 'internal', error: 'worker exited' });
  });

  await t.test('a client that goes away aborts its query', async (t) => {
    let aborted: () => void = () => {};
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    next = (_task, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted();
          reject(signal.reason as Error);
        });
      });
    const http = await import('node:http');
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/prometheus/api/v1/query?query=up', headers: { 'X-Scope-OrgID': 'tenant-1' } });
    req.on('error', () => {});
    req.end();
    setTimeout(() => req.destroy(), 100);
    await sawAbort;
    t.pass('the executor saw the abort');
    next = async () => new TextEncoder().encode(HEALTH_BODY);
  });

  await t.test('the tenant is required', async (t) => {
    const res = await get('/prometheus/api/v1/query?query=up', null);
    t.equal(res.status, 401);
    t.equal(res.body, 'no org id\n');
  });
});

t.test('through the worker pool and the native engine', { skip: nativeSkip() }, async (t) => {
  const srv = await startTestServer({ 'querier.lookback-delta': 60_000 });
  t.teardown(() => srv.close());
  const tenant = `query-${Date.now().toString(36)}`;
  const headers = { 'X-Scope-OrgID': tenant };
  const get = (path: string): Promise<ClientResponse> => httpRequest(srv.port, path, { headers });
  const post = (path: string, form: string): Promise<ClientResponse> => httpRequest(srv.port, path, { headers: { ...headers, ...FORM }, body: form });

  // Whole seconds plus 500ms, two minutes ago: timestamps print as "<s>.500".
  const base = Math.floor(Date.now() / 1000) * 1000 - 120_000 + 500;
  const s = (labels: Array<[string, string]>, ...samples: Array<[number, number]>): TimeSeriesInput => ({ labels, samples });
  const pushed = await httpRequest(srv.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, ...headers },
    body: encodeWriteRequestSnappy([
      s([['__name__', 'http_requests_total'], ['code', '200'], ['job', 'api']], [base, 1], [base + 15_000, 2], [base + 30_000, 3]),
      s([['__name__', 'http_requests_total'], ['code', '500'], ['job', 'api']], [base, 0.1]),
    ]),
  });
  t.equal(pushed.status, 200, pushed.body);
  const ts = (offsetMs: number): string => formatTimestamp(base + offsetMs);

  await t.test('Grafana health check: 1+1 at time=4, POST form then GET', async (t) => {
    let res = await post('/prometheus/api/v1/query', 'query=1%2B1&time=4');
    t.equal(res.status, 200);
    t.equal(res.body, HEALTH_BODY);
    res = await get('/prometheus/api/v1/query?query=1%2B1&time=4');
    t.equal(res.status, 200);
    t.equal(res.body, HEALTH_BODY);
  });

  await t.test('instant query', async (t) => {
    const res = await get(`/prometheus/api/v1/query?${q({ query: 'http_requests_total{code="200"}', time: ts(20_000) })}`);
    t.equal(res.status, 200);
    t.equal(res.body, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"value":[${ts(20_000)},"2"]}]}}`);
    const sum = await post('/api/v1/query', q({ query: 'sum by (job) (http_requests_total)', time: ts(0) }));
    t.equal(sum.body, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[${ts(0)},"1.1"]}]}}`);
  });

  await t.test('range query, sorted by labels, with the 1m lookback flag', async (t) => {
    const res = await get(`/prometheus/api/v1/query_range?${q({ query: 'http_requests_total', start: ts(0), end: ts(90_000), step: '15s' })}`);
    t.equal(res.status, 200);
    const pts = (pairs: Array<[number, string]>): string => pairs.map(([o, v]) => `[${ts(o)},"${v}"]`).join(',');
    t.equal(
      res.body,
      '{"status":"success","data":{"resultType":"matrix","result":[' +
        `{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"values":[${pts([[0, '1'], [15_000, '2'], [30_000, '3'], [45_000, '3'], [60_000, '3'], [75_000, '3']])}]},` +
        `{"metric":{"__name__":"http_requests_total","code":"500","job":"api"},"values":[${pts([[0, '0.1'], [15_000, '0.1'], [30_000, '0.1'], [45_000, '0.1']])}]}` +
        ']}}',
    );
    const limited = await get(`/prometheus/api/v1/query_range?${q({ query: 'http_requests_total', start: ts(0), end: ts(0), step: '15s', limit: '1' })}`);
    const body = jsonOf<{ data: { result: unknown[] }; warnings: string[] }>(limited);
    t.equal(body.data.result.length, 1);
    t.same(body.warnings, ['results truncated due to limit']);
  });

  await t.test('format_query', async (t) => {
    const res = await get(`/prometheus/api/v1/format_query?${q({ query: 'sum(rate(http_requests_total[5m]))by(job)' })}`);
    t.equal(res.status, 200);
    t.same(jsonOf(res), { status: 'success', data: 'sum by (job) (rate(http_requests_total[5m]))' });
    const bad = await post('/api/v1/format_query', 'query=sum(');
    t.equal(bad.status, 400);
    t.match(jsonOf<ErrorBody>(bad), { errorType: 'bad_data', error: /^invalid parameter "query": 1:5: parse error: / });
  });

  await t.test('error kinds from the real engine', async (t) => {
    let res = await get(`/prometheus/api/v1/query?${q({ query: 'sum(' })}`);
    t.equal(res.status, 400);
    t.match(jsonOf<ErrorBody>(res), { status: 'error', errorType: 'bad_data', error: /^invalid parameter "query": 1:5: parse error: / });
    res = await get(`/prometheus/api/v1/query_range?${q({ query: 'http_requests_total[1m]', start: '0', end: '60', step: '15' })}`);
    t.equal(res.status, 400);
    t.same(jsonOf<ErrorBody>(res), {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    });
    res = await get(`/prometheus/api/v1/query?${q({ query: 'label_replace(http_requests_total, "code", "x", "", "")', time: ts(0) })}`);
    t.equal(res.status, 422, res.body);
    t.match(jsonOf<ErrorBody>(res), { status: 'error', errorType: 'execution', error: /same labelset/ });
    res = await get(`/prometheus/api/v1/query?${q({ query: 'http_requests_total', timeout: '0s' })}`);
    t.equal(res.status, 503);
    t.same(jsonOf<ErrorBody>(res), { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
  });
});
