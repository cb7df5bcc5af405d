// http.test.ts drives the query-frontend through the real server: range
// queries split by -query-frontend.split-queries-by-interval reach the
// querier's executor as slices, a repeated query is answered by the inmemory
// results cache, `Cache-Control: no-store` bypasses it, and the frontend's
// metrics count both.

import t from 'tap';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const H = 3_600_000;

/** fakeBody is a matrix with one series whose value at each step is the step's time in ms. */
function fakeBody(task: QueryTask): string {
  const pts: string[] = [];
  for (let s = task.startMs; s <= task.endMs; s += task.stepMs) pts.push(`[${s / 1000},"${s}"]`);
  return `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x"},"values":[${pts.join(',')}]}]}}`;
}

t.test('split and cached through the HTTP API', async (t) => {
  const tasks: QueryTask[] = [];
  const executor: QueryExecutor = {
    run: async (task): Promise<WorkerAnswer> => {
      tasks.push(task);
      return new TextEncoder().encode(task.kind === 'range' ? fakeBody(task) : '{"status":"success","data":{"resultType":"vector","result":[]}}');
    },
    close: async () => {},
  };
  const srv = await startTestServer(
    { 'query-frontend.split-queries-by-interval': H, 'query-frontend.cache-results': true, 'query-frontend.results-cache.backend': 'inmemory' },
    { queryExecutor: executor },
  );
  t.teardown(() => srv.close());
  const get = (path: string, headers: Record<string, string> = {}) => httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': 'fe-tenant', ...headers } });
  const path = `/prometheus/api/v1/query_range?${new URLSearchParams({ query: 'up', start: '0', end: String((3 * H) / 1000), step: '600' })}`;

  let res = await get(path);
  t.equal(res.status, 200);
  const body = JSON.parse(res.body) as { data: { result: Array<{ values: Array<[number, string]> }> } };
  t.same(
    body.data.result[0]!.values.map(([s]) => s),
    Array.from({ length: 19 }, (_, i) => i * 600),
    'every step once, in order',
  );
  t.same(
    tasks.map((x) => [x.startMs, x.endMs]),
    [
      [0, H - 600_000],
      [H, 2 * H - 600_000],
      [2 * H, 3 * H - 600_000],
      [3 * H, 3 * H],
    ],
    'one slice per hour',
  );

  res = await get(path);
  t.equal(res.status, 200);
  t.equal(tasks.length, 4, 'the repeated query ran nothing');
  t.same(JSON.parse(res.body), body);

  res = await get(path, { 'Cache-Control': 'no-store' });
  t.equal(res.status, 200);
  t.equal(tasks.length, 8, 'no-store ran every slice again');

  res = await get(`/prometheus/api/v1/query?query=up&time=100`);
  t.equal(res.status, 200);
  t.match(tasks.at(-1), { kind: 'instant', startMs: 100_000 });

  const metrics = (await httpRequest(srv.port, '/metrics')).body;
  t.match(metrics, /^cortex_frontend_split_queries_total 12$/m);
  t.match(metrics, /^cortex_frontend_query_result_cache_requests_total\{request_type="query_range"\} 8$/m);
  t.match(metrics, /^cortex_frontend_query_result_cache_hits_total\{request_type="query_range"\} 4$/m);
});

t.test('a memcached backend without addresses is refused at start', async (t) => {
  await t.rejects(
    startTestServer({ 'query-frontend.cache-results': true, 'query-frontend.results-cache.backend': 'memcached' }),
    /-query-frontend.results-cache.memcached.addresses must be set/,
  );
});

t.test('query sharding through the HTTP API: shard queries, Sharding-Control, metrics, malformed shards', async (t) => {
  const { loadNative } = await import('../storage/native.js');
  const { nativeKernels } = await import('../promql/engine/kernels.js');
  const { executeQuery } = await import('../querier/execute.js');
  const binding = loadNative();
  const kernels = nativeKernels();
  const tenant = `fe-shard-${process.pid}`;
  t.teardown(() => binding.resetTenant(tenant));
  for (let i = 0; i < 20; i++) {
    binding.appendSamplesUnchecked(tenant, ['__name__', 'up', 'instance', `i${i}`, 'job', i % 2 === 0 ? 'a' : 'b'], Float64Array.from([0, 60_000, 120_000]), Float64Array.from([i, i + 1, i + 2]));
  }
  const tasks: QueryTask[] = [];
  const executor: QueryExecutor = {
    run: async (task): Promise<WorkerAnswer> => {
      tasks.push(task);
      const out = executeQuery(kernels, task);
      return out.ok ? new TextEncoder().encode(out.body) : out;
    },
    close: async () => {},
  };
  const srv = await startTestServer({ 'query-frontend.parallelize-shardable-queries': true, 'query-frontend.query-sharding-total-shards': 3 }, { queryExecutor: executor });
  t.teardown(() => srv.close());
  const get = (query: string, headers: Record<string, string> = {}) =>
    httpRequest(srv.port, `/prometheus/api/v1/query?${new URLSearchParams({ query, time: '120' })}`, { headers: { 'X-Scope-OrgID': tenant, ...headers } });

  let res = await get('sum by (job) (up)');
  t.equal(res.status, 200);
  t.same(JSON.parse(res.body).data.result, [
    { metric: { job: 'a' }, value: [120, String([0, 2, 4, 6, 8, 10, 12, 14, 16, 18].reduce((a, i) => a + i + 2, 0))] },
    { metric: { job: 'b' }, value: [120, String([1, 3, 5, 7, 9, 11, 13, 15, 17, 19].reduce((a, i) => a + i + 2, 0))] },
  ]);
  t.same(
    tasks.map((x) => x.query),
    [1, 2, 3].map((n) => `sum by (job) (up{__query_shard__="${n}_of_3"})`),
    'one query per shard of the tenant limit',
  );

  tasks.length = 0;
  res = await get('sum(up)', { 'Sharding-Control': '2' });
  t.equal(JSON.parse(res.body).data.result[0].value[1], String(Array.from({ length: 20 }, (_, i) => i + 2).reduce((a, b) => a + b)));
  t.equal(tasks.length, 2, 'Sharding-Control sets the shards');

  tasks.length = 0;
  res = await get('sum(up)', { 'Sharding-Control': '0' });
  t.equal(res.status, 200);
  t.same(
    tasks.map((x) => x.query),
    ['sum(up)'],
    'Sharding-Control: 0 runs it unsharded',
  );

  res = await get('sum(up{__query_shard__="4_of_3"})', { 'Sharding-Control': '0' });
  t.equal(res.status, 422);
  t.same(JSON.parse(res.body), { status: 'error', errorType: 'execution', error: 'expanding series: invalid shard ID: "4_of_3"' });

  const metrics = (await httpRequest(srv.port, '/metrics')).body;
  t.match(metrics, /^cortex_frontend_query_sharding_rewrites_attempted_total 2$/m);
  t.match(metrics, /^cortex_frontend_query_sharding_rewrites_succeeded_total 2$/m);
  t.match(metrics, /^cortex_frontend_sharded_queries_total 5$/m);
});
