// app.test.ts runs the query-scheduler as its own server (-target=query-scheduler)
// between a query-frontend (-query-frontend.scheduler-address) and a querier
// that pulls from it (-querier.scheduler-address): range queries through the
// frontend, and series / labels / label values reads, answer as the querier
// does on its own, the querier's
// -querier.max-concurrent workers show as the scheduler's connected clients,
// a client that goes away takes its query out of the scheduler's queue, and
// ring discovery refuses a fixed address with Mimir's error. A query-frontend
// with neither schedulers nor a downstream URL holds the queues itself and its
// querier pulls with -querier.frontend-address (Mimir's frontend v1).

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../remote/write-request.js';
import { httpRequest } from '../../testing/http-client.js';
import { startTestServer } from '../../testing/server.js';

const M = 60_000;
const H = 60 * M;

t.test('frontend -> query-scheduler -> querier answers as the querier', async (t) => {
  const scheduler = await startTestServer({ target: 'query-scheduler', 'server.grpc-listen-address': '127.0.0.1', 'server.grpc-listen-port': 0 });
  t.teardown(() => scheduler.close());
  t.ok(scheduler.grpcPort > 0, 'the scheduler serves the internal API');
  const address = `127.0.0.1:${scheduler.grpcPort}`;
  const querier = await startTestServer({ 'query-frontend.split-queries-by-interval': 0, 'querier.scheduler-address': address, 'querier.max-concurrent': 3 });
  t.teardown(() => querier.close());
  const frontend = await startTestServer({ target: 'query-frontend', 'query-frontend.scheduler-address': address, 'query-frontend.split-queries-by-interval': H });
  t.teardown(() => frontend.close());

  const metric = async (name: string): Promise<number> => {
    const m = (await httpRequest(scheduler.port, '/metrics')).body.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    return m === null ? NaN : Number(m[1]);
  };
  const end = Date.now() + 5_000;
  while ((await metric('cortex_query_scheduler_connected_querier_clients')) !== 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.equal(await metric('cortex_query_scheduler_connected_querier_clients'), 3, "the querier's three workers poll the scheduler");

  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  const series: TimeSeriesInput[] = ['a', 'b'].map((inst, k) => ({
    labels: [
      ['__name__', 'sched_reqs'],
      ['instance', inst],
    ],
    samples: Array.from({ length: 240 }, (_, i) => [base + i * M, i * (k + 1)] as [number, number]),
  }));
  const pushed = await httpRequest(querier.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'sch' }, body: encodeWriteRequestSnappy(series) });
  t.equal(pushed.status, 200, pushed.body);
  const get = (port: number, params: Record<string, string>, path = 'query_range') =>
    httpRequest(port, `/prometheus/api/v1/${path}?${new URLSearchParams(params)}`, { headers: { 'X-Scope-OrgID': 'sch' } });
  for (const query of ['sched_reqs', 'rate(sched_reqs[5m])', 'sum(sched_reqs)']) {
    const params = { query, start: String(base / 1000), end: String((base + 4 * H) / 1000), step: '60' };
    const direct = await get(querier.port, params);
    t.equal(direct.status, 200);
    t.ok((JSON.parse(direct.body) as { data: { result: unknown[] } }).data.result.length > 0, `${query} has data`);
    const via = await get(frontend.port, params);
    t.equal(via.status, 200);
    t.equal(via.body, direct.body, `${query} through the scheduler`);
  }
  // Series, label names and label values reads go through the scheduler too (Mimir's frontend serves every read endpoint).
  const range = { start: String(base / 1000), end: String((base + 4 * H) / 1000) };
  for (const [path, params] of [
    ['series', { 'match[]': 'sched_reqs', ...range }],
    ['labels', range],
    ['label/instance/values', range],
    ['series', { 'match[]': 'sched_reqs', ...range, limit: '1' }],
  ] as Array<[string, Record<string, string>]>) {
    const direct = await get(querier.port, params, path);
    t.equal(direct.status, 200, direct.body);
    t.not(JSON.parse(direct.body).data, [], `${path} has data`);
    const via = await get(frontend.port, params, path);
    t.equal(via.status, 200, via.body);
    t.equal(via.body, direct.body, `${path} ${JSON.stringify(params)} through the scheduler`);
  }
  const noMatch = await get(frontend.port, range, 'series');
  t.equal(noMatch.status, 400);
  t.equal(noMatch.body, (await get(querier.port, range, 'series')).body, 'a series read without match[] fails as on the querier');
  const badMatch = await get(frontend.port, { 'match[]': '{a=~"("}', ...range }, 'labels');
  t.equal(badMatch.status, 400);
  t.equal(badMatch.body, (await get(querier.port, { 'match[]': '{a=~"("}', ...range }, 'labels')).body, 'a bad matcher fails as on the querier');
  const bad = await get(frontend.port, { query: 'sum(', start: '0', end: '100', step: '10' });
  t.equal(bad.status, 400);
  t.equal(bad.body, (await get(querier.port, { query: 'sum(', start: '0', end: '100', step: '10' })).body, 'a bad query fails as on the querier');
  t.match((await httpRequest(scheduler.port, '/metrics')).body, /^cortex_query_scheduler_queue_duration_seconds_count\{user="sch",additional_queue_dimensions=""\} [1-9]\d*$/m);
  t.equal(await metric('cortex_query_scheduler_connected_frontend_clients'), 1);
});

t.test("a client that goes away takes its query out of the scheduler's queue", async (t) => {
  const scheduler = await startTestServer({ target: 'query-scheduler', 'server.grpc-listen-address': '127.0.0.1', 'server.grpc-listen-port': 0 });
  t.teardown(() => scheduler.close());
  // No querier pulls: the query waits in the queue until its client gives up.
  const frontend = await startTestServer({ target: 'query-frontend', 'query-frontend.scheduler-address': `127.0.0.1:${scheduler.grpcPort}` });
  t.teardown(() => frontend.close());
  const metric = async (series: string): Promise<number> => {
    const line = (await httpRequest(scheduler.port, '/metrics')).body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };
  const params = new URLSearchParams({ query: 'up', start: '0', end: '3600', step: '60' });
  const gone = fetch(`http://127.0.0.1:${frontend.port}/prometheus/api/v1/query_range?${params}`, { headers: { 'X-Scope-OrgID': 'quitter' }, signal: AbortSignal.timeout(500) });
  const queued = (): Promise<number> => metric('cortex_query_scheduler_queue_length{user="quitter"}');
  let end = Date.now() + 5_000;
  while ((await queued()) !== 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(await queued(), 1, 'the query waits in the queue');
  await t.rejects(gone, /aborted|timeout/i, 'the client gives up');
  end = Date.now() + 5_000;
  while ((await queued()) !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(await queued(), 0, 'and its query left the queue');
  t.equal(await metric('cortex_query_scheduler_cancelled_requests_total{user="quitter"}'), 1);
});

t.test('queriers pull from a query-frontend without schedulers (-querier.frontend-address)', async (t) => {
  // No downstream URL and no scheduler: the frontend holds the queues (Mimir's frontend v1).
  const frontend = await startTestServer({
    target: 'query-frontend',
    'server.grpc-listen-address': '127.0.0.1',
    'server.grpc-listen-port': 0,
    'query-frontend.split-queries-by-interval': H,
    'querier.max-outstanding-requests-per-tenant': 3,
  });
  t.teardown(() => frontend.close());
  t.ok(frontend.grpcPort > 0, 'the frontend serves its queriers on the internal API');
  const metric = async (name: string): Promise<number> => {
    const m = (await httpRequest(frontend.port, '/metrics')).body.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    return m === null ? NaN : Number(m[1]);
  };
  // Before any querier connects, queries wait; beyond -querier.max-outstanding-requests-per-tenant: 429.
  const params = (q: string) => new URLSearchParams({ query: q, start: '0', end: '60', step: '15' });
  const waiting = Array.from({ length: 3 }, (_, i) =>
    fetch(`http://127.0.0.1:${frontend.port}/prometheus/api/v1/query_range?${params(`vector(${i})`)}`, { headers: { 'X-Scope-OrgID': 'v1' } }),
  );
  let end = Date.now() + 5_000;
  while ((await metric('cortex_query_frontend_queue_length{user="v1"}')) !== 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const refused = await httpRequest(frontend.port, `/prometheus/api/v1/query_range?${params('vector(9)')}`, { headers: { 'X-Scope-OrgID': 'v1' } });
  t.equal(refused.status, 429);
  t.match(refused.body, /too many outstanding requests/);
  t.equal(await metric('cortex_query_frontend_discarded_requests_total{user="v1"}'), 1);

  const notReady = await httpRequest(frontend.port, '/ready');
  t.equal(notReady.status, 503, 'not ready without a querier');
  t.equal(notReady.body, 'Query Frontend not ready: not ready: number of queriers connected to query-frontend is 0\n');
  const querier = await startTestServer({ 'query-frontend.split-queries-by-interval': 0, 'querier.frontend-address': `127.0.0.1:${frontend.grpcPort}`, 'querier.max-concurrent': 2 });
  t.teardown(() => querier.close());
  for (const w of await Promise.all(waiting)) t.equal(w.status, 200, 'the waiting queries ran once a querier pulled them');
  end = Date.now() + 5_000;
  while ((await metric('cortex_query_frontend_connected_clients')) !== 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(await metric('cortex_query_frontend_connected_clients'), 2, "the querier's two workers");
  t.equal((await httpRequest(frontend.port, '/ready')).status, 200, 'ready with a querier');

  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  const series: TimeSeriesInput[] = [{ labels: [['__name__', 'v1_reqs'], ['instance', 'a']], samples: Array.from({ length: 240 }, (_, i) => [base + i * M, i] as [number, number]) }];
  const pushed = await httpRequest(querier.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'v1' }, body: encodeWriteRequestSnappy(series) });
  t.equal(pushed.status, 200, pushed.body);
  const get = (port: number, p: Record<string, string>, path = 'query_range') => httpRequest(port, `/prometheus/api/v1/${path}?${new URLSearchParams(p)}`, { headers: { 'X-Scope-OrgID': 'v1' } });
  const range = { start: String(base / 1000), end: String((base + 4 * H) / 1000) };
  for (const [path, p] of [
    ['query_range', { query: 'rate(v1_reqs[5m])', ...range, step: '60' }],
    ['query', { query: 'v1_reqs', time: String((base + 2 * H) / 1000) }],
    ['series', { 'match[]': 'v1_reqs', ...range }],
    ['labels', range],
    ['label/instance/values', range],
    ['query_range', { query: 'sum(', ...range, step: '60' }],
  ] as Array<[string, Record<string, string>]>) {
    const direct = await get(querier.port, p, path);
    const via = await get(frontend.port, p, path);
    t.equal(via.status, direct.status, `${path} ${p.query ?? ''}: status`);
    t.equal(via.body, direct.body, `${path} ${p.query ?? ''} through the frontend's queue`);
  }
  t.ok((await metric('cortex_query_frontend_queue_duration_seconds_count')) > 0);
});

t.test('address flags that Mimir refuses together', async (t) => {
  await t.rejects(startTestServer({ target: 'querier', 'querier.frontend-address': '127.0.0.1:9095', 'querier.scheduler-address': '127.0.0.1:9096' }), /^frontend address and scheduler address are mutually exclusive, please use only one$/);
  await t.rejects(startTestServer({ target: 'query-frontend', 'query-scheduler.max-used-instances': 1 }), /^the query-scheduler max used instances can be set only when -query-scheduler.service-discovery-mode is set to 'ring'$/);
  await t.rejects(startTestServer({ target: 'query-frontend', 'query-scheduler.service-discovery-mode': 'ring', 'query-scheduler.max-used-instances': -1 }), /^the query-scheduler max used instances can't be negative$/);
});

t.test('ring discovery refuses fixed scheduler addresses, as Mimir', async (t) => {
  await t.rejects(
    startTestServer({ target: 'query-frontend', 'query-scheduler.service-discovery-mode': 'ring', 'query-frontend.scheduler-address': '127.0.0.1:9095' }),
    /^scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'$/,
  );
  await t.rejects(
    startTestServer({ target: 'querier', 'query-scheduler.service-discovery-mode': 'ring', 'querier.scheduler-address': '127.0.0.1:9095' }),
    /frontend address and scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'/,
  );
});
