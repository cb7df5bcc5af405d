// distributed-query-frontend-queue.test.ts (peer suite) runs the query paths of
// Mimir's microservices mode that do without a query-scheduler in the middle,
// or use only some of them, as separate processes on loopback beside a
// monolithic server holding the same samples:
//
// - a query-frontend with neither schedulers nor a downstream URL holds the
//   per-tenant queues itself and two queriers pull from it
//   (-querier.frontend-address, Mimir's frontend v1): range queries equal the
//   monolith's, also while one querier is SIGKILLed mid-query (its parts are
//   retried on the other);
// - a tenant with max_queriers_per_tenant: 1 (a runtime override) has its
//   queries run by one querier only, the one Mimir's shuffle shard picks: the
//   other querier's own calls to the ingesters do not move;
// - a query-frontend with -query-frontend.downstream-url answers series,
//   label names and label values as the monolith does;
// - with two query-schedulers in the ring and
//   -query-scheduler.max-used-instances=1, the frontend enqueues only to the
//   first by address and the other stays idle (one querier loop to drain it).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { querierShard } from '../../src/querier/tenant-queues.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { activeMembers, IN_MEMORY_RINGS, startCluster, startComponent, waitFor, answersMatch, type ApiAnswer, type Component } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'fev1';
/** SHARDED has max_queriers_per_tenant: 1. */
const SHARDED = 'one-querier';
const M = 60_000;
const H = 60 * M;


async function get(port: number, path: string, params: Record<string, string>, tenant: string): Promise<ApiAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/${path}?${new URLSearchParams(params)}`, { headers: { 'X-Scope-OrgID': tenant }, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as ApiAnswer['body'] };
}

/** metric reads one sample of a process's /metrics (the whole line up to the value, e.g. `name{user="x"}`); NaN when absent. */
async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

/** push sends the same samples of a tenant to each port. */
async function push(t: Test, ports: number[], tenant: string, series: TimeSeriesInput[]): Promise<void> {
  for (const port of ports) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, {
      method: 'POST',
      body: new Uint8Array(encodeWriteRequestSnappy(series)),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
      signal: AbortSignal.timeout(10_000),
    });
    t.equal(res.status, 200, await res.text());
  }
}

/** samples are four hours of three series ending an hour before now. */
function samples(base: number): TimeSeriesInput[] {
  return ['a', 'b', 'c'].map((inst, k) => ({
    labels: [
      ['__name__', 'fe_requests_total'],
      ['instance', inst],
      ['job', k === 2 ? 'other' : 'api'],
    ],
    samples: Array.from({ length: 240 }, (_, i) => [base + i * M, i * (k + 1) + (i % 5)] as [number, number]),
  }));
}

const QUERIES = ['fe_requests_total', 'rate(fe_requests_total[5m])', 'sum by (job) (increase(fe_requests_total[10m]))'];

t.test('queriers pulling from the query-frontend (-querier.frontend-address)', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const dir = await makeTempDir('frontend-queue-');
  const runtime = join(dir, 'runtime.yaml');
  await writeFile(runtime, `overrides:\n  ${SHARDED}:\n    max_queriers_per_tenant: 1\n`);
  const start = async (name: string, target: string, extra: string[] = [], readyPath?: string): Promise<Component> => {
    const c = await startComponent({ name, target, etcd: etcd.endpoint, extra: ['-ingester.ring.replication-factor=1', `-runtime-config.file=${runtime}`, ...extra], ...(readyPath !== undefined ? { readyPath } : {}) });
    started.push(c);
    return c;
  };
  await start('ingester-1', 'ingester');
  const distributor = await start('distributor-1', 'distributor');
  // Each query is cut into hourly parts, two of them queued at once.
  // Not ready until a querier connects (as Mimir's): started once its HTTP server answers.
  const frontend = await start('query-frontend-1', 'query-frontend', ['-query-frontend.split-queries-by-interval=1h', '-querier.max-query-parallelism=2'], '/services');
  const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${frontend.port}/ready`, { signal: AbortSignal.timeout(10_000) })).status;
  t.equal(await ready(), 503, 'the frontend is not ready without queriers');
  const queriers: Component[] = [];
  for (const id of ['querier-1', 'querier-2']) queriers.push(await start(id, 'querier', ['-querier.max-concurrent=2', `-querier.id=${id}`, `-querier.frontend-address=127.0.0.1:${frontend.grpcPort}`]));
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...IN_MEMORY_RINGS] });
  started.push(mono);
  const connected = (): Promise<number> => metric(frontend.port, 'cortex_query_frontend_connected_clients');
  t.ok(await waitFor(async () => (await connected()) === 4, 15_000), "both queriers' two workers poll the query-frontend");
  t.equal(await ready(), 200, 'and ready with them');

  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  for (const tenant of [TENANT, SHARDED]) await push(t, [distributor.port, mono.port], tenant, samples(base));
  const range = { start: String((base + 10 * M) / 1000), end: String((base + 4 * H - M) / 1000), step: '60' };
  const want = new Map<string, unknown>();
  for (const q of QUERIES) {
    const m = await get(mono.port, 'query_range', { query: q, ...range }, TENANT);
    t.equal(m.status, 200);
    t.ok(((m.body.data as { result: unknown[] }).result ?? []).length > 0, `${q} has data on the monolith`);
    want.set(q, m.body.data);
  }
  /** check runs the queries through the frontend, `lanes` at once, each `rounds` times, and compares every answer. */
  const check = (label: string, tenant: string, lanes: number, rounds: number, during?: () => void): Promise<void> =>
    answersMatch(t, label, QUERIES, want, (q) => get(frontend.port, 'query_range', { query: q, ...range }, tenant), lanes, rounds, during);
  // Each querier's calls to the ingesters: the work it did.
  const calls = (q: Component): Promise<number> => metric(q.port, 'mimir_internal_client_requests_total');
  const before = await Promise.all(queriers.map(calls));
  await check('two queriers', TENANT, 2, 2);
  const after = await Promise.all(queriers.map(calls));
  t.ok(after.every((n, i) => n > before[i]!), `both queriers ran parts of an unlimited tenant (${before} -> ${after})`);
  t.ok((await metric(frontend.port, 'cortex_query_frontend_queue_duration_seconds_count')) >= 2 * 2 * QUERIES.length * 4, "every hourly part went through the frontend's queue");

  // max_queriers_per_tenant: 1: only the querier of the tenant's shuffle shard runs its queries.
  const owner = [...querierShard(SHARDED, ['querier-1', 'querier-2'], 1)!][0]!;
  const [ownerQ, otherQ] = owner === 'querier-1' ? [queriers[0]!, queriers[1]!] : [queriers[1]!, queriers[0]!];
  const [ownerBefore, otherBefore] = [await calls(ownerQ), await calls(otherQ)];
  await check(`${SHARDED} on its querier`, SHARDED, 2, 2);
  const [ownerAfter, otherAfter] = [await calls(ownerQ), await calls(otherQ)];
  t.ok(ownerAfter > ownerBefore, `${owner} ran the limited tenant's queries (${ownerBefore} -> ${ownerAfter})`);
  t.equal(otherAfter, otherBefore, `${otherQ.name} ran none of them`);

  // A query-frontend in front of one querier's HTTP API (-query-frontend.downstream-url): series, label
  // names and label values as the monolith answers them.
  const downstream = await start('query-frontend-2', 'query-frontend', [`-query-frontend.downstream-url=http://127.0.0.1:${queriers[1]!.port}`]);
  const reads = { start: range.start, end: range.end };
  for (const [path, params] of [
    ['series', { 'match[]': 'fe_requests_total', ...reads }],
    ['series', { 'match[]': '{job="api"}', ...reads }],
    ['labels', reads],
    ['labels', { 'match[]': '{instance="c"}', ...reads }],
    ['label/instance/values', reads],
    ['label/job/values', { 'match[]': 'fe_requests_total{instance!="a"}', ...reads }],
    ['series', reads],
  ] as Array<[string, Record<string, string>]>) {
    const m = await get(mono.port, path, params, TENANT);
    const via = await get(downstream.port, path, params, TENANT);
    t.equal(via.status, m.status, `${path} ${JSON.stringify(params)}: status`);
    t.same(via.body, m.body, `${path} ${JSON.stringify(params)} through the downstream-url frontend equals the monolith`);
    if (m.status === 200) t.not((m.body.data as unknown[]).length, 0, `${path} has data`);
  }

  // querier-1 dies in the middle of queries: frozen (SIGSTOP) its workers' polls stay open, so the
  // frontend's queue hands it parts it never answers; then SIGKILL closes them and the parts are
  // retried on querier-2.
  queriers[0]!.proc.child.kill('SIGSTOP');
  await check('querier-1 killed mid-query', TENANT, 2, 2, () => setTimeout(() => queriers[0]!.proc.child.kill('SIGKILL'), 1_000));
  t.ok(await waitFor(async () => (await connected()) === 2, 10_000), "only querier-2's workers remain connected");
  const retried = frontend.proc.output().split('\n').filter((l) => l.includes('querier querier-1 disconnected while running the query')).length;
  t.ok(retried > 0, `the parts running on querier-1 when it died were retried (${retried})`);
  await check('one querier left', TENANT, 2, 1);
  // The limited tenant's shard is drawn again among the queriers left.
  await check(`${SHARDED} after querier-1 died`, SHARDED, 1, 1);
});

t.test('-query-scheduler.max-used-instances=1 with two query-schedulers', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const ring = ['-query-scheduler.service-discovery-mode=ring'];
  const start = async (name: string, target: string, extra: string[] = []): Promise<Component> => {
    const c = await startComponent({ name, target, etcd: etcd.endpoint, extra: ['-ingester.ring.replication-factor=1', ...ring, ...extra] });
    started.push(c);
    return c;
  };
  await start('ingester-1', 'ingester');
  const distributor = await start('distributor-1', 'distributor');
  const schedulers = [await start('query-scheduler-1', 'query-scheduler'), await start('query-scheduler-2', 'query-scheduler')];
  const maxUsed = ['-query-scheduler.max-used-instances=1'];
  const frontend = await start('query-frontend-1', 'query-frontend', ['-query-frontend.split-queries-by-interval=1h', ...maxUsed]);
  await start('querier-1', 'querier', ['-querier.max-concurrent=4', '-querier.id=querier-1', ...maxUsed]);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...IN_MEMORY_RINGS] });
  started.push(mono);
  t.ok(await waitFor(async () => (await activeMembers(frontend.port, '/query-scheduler/ring')).length === 2, 15_000), 'two schedulers in the ring');
  // In use: the first by address (dskit's ring.ByAddr), the string order of host:port.
  const addr = (c: Component): string => `127.0.0.1:${c.grpcPort}`;
  const [inUse, idle] = addr(schedulers[0]!) < addr(schedulers[1]!) ? [schedulers[0]!, schedulers[1]!] : [schedulers[1]!, schedulers[0]!];
  const clients = (c: Component): Promise<number> => metric(c.port, 'cortex_query_scheduler_connected_querier_clients');
  t.ok(await waitFor(async () => (await clients(inUse)) === 4 && (await clients(idle)) === 1, 15_000), "the querier's four loops poll the scheduler in use, one polls the idle one");

  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  await push(t, [distributor.port, mono.port], TENANT, samples(base));
  const range = { start: String((base + 10 * M) / 1000), end: String((base + 4 * H - M) / 1000), step: '60' };
  for (const q of QUERIES) {
    const m = await get(mono.port, 'query_range', { query: q, ...range }, TENANT);
    const via = await get(frontend.port, 'query_range', { query: q, ...range }, TENANT);
    t.equal(via.status, 200, via.body.error ?? '');
    t.same(via.body.data, m.body.data, `${q} through the scheduler in use equals the monolith`);
  }
  const queued = (c: Component): Promise<number> => metric(c.port, `cortex_query_scheduler_queue_duration_seconds_count{user="${TENANT}",additional_queue_dimensions=""}`);
  t.ok((await queued(inUse)) >= QUERIES.length * 4, `every part went through ${inUse.name} (${await queued(inUse)})`);
  t.ok(Number.isNaN(await queued(idle)), `${idle.name} queued nothing`);
  t.equal(await metric(inUse.port, 'cortex_query_scheduler_connected_frontend_clients'), 1);
  t.equal(await metric(idle.port, 'cortex_query_scheduler_connected_frontend_clients'), 0, 'no frontend calls the idle scheduler');
});
