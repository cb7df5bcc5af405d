// standalone.test.ts runs -target=query-frontend as its own server in front
// of a monolithic one (-query-frontend.downstream-url): its answers (split by
// the hour, cached and sharded) equal the querier's own, errors come back
// with the querier's status and text; series, label names and label values
// reads are forwarded to the querier.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const M = 60_000;
const H = 60 * M;

t.test('a standalone query-frontend answers as the querier', async (t) => {
  const querier = await startTestServer({ 'query-frontend.split-queries-by-interval': 0 });
  t.teardown(() => querier.close());
  const frontend = await startTestServer({
    target: 'query-frontend',
    'query-frontend.downstream-url': `http://127.0.0.1:${querier.port}`,
    'query-frontend.split-queries-by-interval': H,
    'query-frontend.cache-results': true,
    'query-frontend.results-cache.backend': 'inmemory',
    'query-frontend.parallelize-shardable-queries': true,
  });
  t.teardown(() => frontend.close());

  // 4 hours of samples, ending a little before now.
  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  const series: TimeSeriesInput[] = ['a', 'b'].map((inst, k) => ({
    labels: [
      ['__name__', 'reqs'],
      ['instance', inst],
    ],
    samples: Array.from({ length: 240 }, (_, i) => [base + i * M, i * (k + 1)] as [number, number]),
  }));
  const pushed = await httpRequest(querier.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'fe' }, body: encodeWriteRequestSnappy(series) });
  t.equal(pushed.status, 200, pushed.body);

  const get = (port: number, params: Record<string, string>, path = 'query_range') =>
    httpRequest(port, `/prometheus/api/v1/${path}?${new URLSearchParams(params)}`, { headers: { 'X-Scope-OrgID': 'fe' } });
  const queries = ['reqs', 'rate(reqs[5m])', 'sum(reqs)', 'max_over_time(reqs[7m])', 'count by (instance) (reqs > 100)', 'max(reqs) - min(reqs)'];
  for (const query of queries) {
    const params = { query, start: String(base / 1000), end: String((base + 4 * H) / 1000), step: '60' };
    const direct = await get(querier.port, params);
    t.equal(direct.status, 200);
    t.ok((JSON.parse(direct.body) as { data: { result: unknown[] } }).data.result.length > 0, `${query} has data`);
    for (let i = 0; i < 2; i++) {
      const via = await get(frontend.port, params);
      t.equal(via.status, 200);
      t.equal(via.body, direct.body, `${query} through the frontend (${i === 0 ? 'run' : 'cached'})`);
    }
  }
  const inst = await get(frontend.port, { query: 'sum(reqs)', time: String((base + 2 * H) / 1000) }, 'query');
  t.equal(inst.body, (await get(querier.port, { query: 'sum(reqs)', time: String((base + 2 * H) / 1000) }, 'query')).body);

  const bad = await get(frontend.port, { query: 'sum(', start: '0', end: '100', step: '10' });
  const badDirect = await get(querier.port, { query: 'sum(', start: '0', end: '100', step: '10' });
  t.equal(bad.status, 400);
  t.equal(bad.body, badDirect.body);
  // Series, label names and label values reads are forwarded to the querier: same answers, same errors.
  const range = { start: String(base / 1000), end: String((base + 4 * H) / 1000) };
  for (const [path, params] of [
    ['series', { 'match[]': 'reqs', ...range }],
    ['series', { 'match[]': 'reqs', ...range, limit: '1' }],
    ['labels', range],
    ['labels', { 'match[]': '{instance="b"}', ...range }],
    ['label/instance/values', range],
    ['series', range],
    ['labels', { 'match[]': '{a=~"("}', ...range }],
  ] as Array<[string, Record<string, string>]>) {
    const direct = await get(querier.port, params, path);
    const via = await get(frontend.port, params, path);
    t.equal(via.status, direct.status, `${path} ${JSON.stringify(params)}: status`);
    t.equal(via.body, direct.body, `${path} ${JSON.stringify(params)} through the frontend`);
    if (direct.status === 200) t.not((JSON.parse(direct.body) as { data: unknown[] }).data.length, 0, `${path} has data`);
  }
  const unprefixed = await httpRequest(frontend.port, `/api/v1/label/__name__/values`, { headers: { 'X-Scope-OrgID': 'fe' } });
  t.equal(unprefixed.body, '{"status":"success","data":["reqs"]}', 'the path without the prefix too');
  const otherTenant = await httpRequest(frontend.port, `/prometheus/api/v1/labels`, { headers: { 'X-Scope-OrgID': 'nobody' } });
  t.equal(otherTenant.body, '{"status":"success","data":[]}', "the tenant header is passed on (another tenant's reads are empty)");
  const metrics = (await httpRequest(frontend.port, '/metrics')).body;
  t.match(metrics, /^cortex_frontend_query_result_cache_hits_total\{request_type="query_range"\} [1-9]\d*$/m);
  t.match(metrics, /^cortex_frontend_query_sharding_rewrites_succeeded_total [1-9]\d*$/m, 'sum, count and max - min were sharded');
});
