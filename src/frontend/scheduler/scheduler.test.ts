// scheduler.test.ts runs the query-scheduler's protocol in one process over
// real sockets: a SchedulerService on an internal HttpServer, the frontend's
// schedulerExecutor and querier worker loops (SchedulerWorkers) with fake
// executors. It checks that answers come back from the queriers, the 429
// beyond -query-scheduler.max-outstanding-requests-per-tenant, that a
// frontend's cancel takes a queued query out and stops a running one, that a
// querier going away mid-query is retried on another (or fails with the
// error once retries are spent), that a query past its deadline in the queue
// times out, and the cortex_query_scheduler_* metrics; the same for a
// query-frontend's own queue (submit, frontend v1) with its cortex_query_frontend_*
// metrics; max_queriers_per_tenant shards; the workers' spread over in-use and
// idle schedulers.

import { connect } from 'node:http2';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { ApiError } from '../../errors.js';
import { InternalClient } from '../../internal/client.js';
import { Logger } from '../../log.js';
import type { QueryExecutor, WorkerAnswer } from '../../querier/query-executor.js';
import type { QueryTask } from '../../querier/query-params.js';
import { querierShard, TOO_MANY_OUTSTANDING } from '../../querier/tenant-queues.js';
import { HttpServer } from '../../server/http.js';
import { remoteEnqueue, schedulerExecutor, type EnqueueCall } from './frontend-client.js';
import { selectInUse } from './module.js';
import { NEXT_PATH, QUERIER_HEADER } from './wire.js';
import { QUERIER_FORGET_MS, QUEUE_TIMEOUT, SchedulerService } from './scheduler.js';
import { SchedulerWorkers, spread } from './worker.js';

const log = new Logger();

function task(tenant: string, query: string, deadlineMs = 30_000): QueryTask {
  return { tenant, query, kind: 'instant', startMs: 0, endMs: 0, stepMs: 0, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 1000, deadline: Date.now() + deadlineMs };
}

const text = (a: WorkerAnswer): string => (a instanceof Uint8Array ? Buffer.from(a).toString('utf8') : JSON.stringify(a));

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

/** metric reads one sample value from the registry's exposition ('' labels: unlabelled). */
async function metric(registry: Registry, line: RegExp): Promise<number> {
  const m = (await registry.metrics()).match(line);
  return m === null ? NaN : Number(m[1]);
}

/** SetupOptions: the queue bound, the frontend's retries, max_queriers_per_tenant, and local for a query-frontend's own queue (frontend v1). */
interface SetupOptions {
  maxOutstanding?: number;
  maxRetries?: number;
  maxQueriers?: (tenant: string) => number;
  local?: boolean;
}

/** setup starts a scheduler on an ephemeral port and returns its pieces; everything is closed at teardown. */
async function setup(t: Test, o: SetupOptions = {}) {
  const registry = new Registry();
  const service = new SchedulerService({
    maxOutstandingPerTenant: o.maxOutstanding ?? 0,
    registry,
    log,
    pollMs: 500,
    ...(o.maxQueriers !== undefined ? { maxQueriers: o.maxQueriers } : {}),
    ...(o.local === true ? { role: 'query-frontend' as const } : {}),
  });
  const server = new HttpServer({ http2: true });
  service.register(server, 1 << 20, o.local !== true);
  const port = await server.listen('127.0.0.1', 0);
  const addr = `127.0.0.1:${port}`;
  const client = new InternalClient();
  const enqueue: EnqueueCall = o.local === true ? (_addr, tk, timeoutMs, signal) => service.submit(tk, timeoutMs, signal) : remoteEnqueue(client, 'fe-1');
  const frontend = schedulerExecutor({ addresses: () => [addr], enqueue, maxRetries: o.maxRetries ?? 2, readTimeoutMs: 10_000, log });
  const workers: SchedulerWorkers[] = [];
  const startWorkers = (querierId: string, executor: QueryExecutor, concurrency = 1): SchedulerWorkers => {
    const w = new SchedulerWorkers({ instances: () => [{ addr, inUse: true }], concurrency, querierId, executor, client, log });
    w.start();
    workers.push(w);
    return w;
  };
  t.teardown(async () => {
    for (const w of workers) w.stop();
    service.stop();
    await server.close(100);
    client.close();
  });
  // The metric names: the query-scheduler's, or a query-frontend's own queue's.
  const prefix = o.local === true ? 'cortex_query_frontend' : 'cortex_query_scheduler';
  return { registry, service, frontend, startWorkers, prefix, addr };
}

/** MODES run a test against the query-scheduler and against a query-frontend's own queue. */
const MODES: Array<{ name: string; local: boolean }> = [
  { name: 'query-scheduler', local: false },
  { name: "query-frontend's own queue", local: true },
];

/** echo answers `${id}:${query}` at once. */
const echo = (id: string): QueryExecutor => ({ run: async (tk) => new Uint8Array(Buffer.from(`${id}:${tk.query}`)), close: async () => {} });

/** hanging runs `slow` queries until their signal aborts (recording starts and aborts) and echoes the others. */
function hanging(id: string): QueryExecutor & { started: string[]; aborted: string[] } {
  const started: string[] = [];
  const aborted: string[] = [];
  return {
    started,
    aborted,
    run: (tk, signal) => {
      if (tk.query !== 'slow') return Promise.resolve(new Uint8Array(Buffer.from(`${id}:${tk.query}`)));
      return new Promise<WorkerAnswer>((_, reject) => {
        started.push(tk.query);
        signal.addEventListener('abort', () => {
          aborted.push(tk.query);
          reject(signal.reason);
        });
      });
    },
    close: async () => {},
  };
}

t.test('queriers pull the queries and their answers reach the frontend', async (t) => {
  const { registry, frontend, startWorkers } = await setup(t);
  startWorkers('q1', echo('q1'), 2);
  startWorkers('q2', echo('q2'), 2);
  t.ok(await waitFor(async () => (await metric(registry, /^cortex_query_scheduler_connected_querier_clients (\S+)$/m)) === 4), 'four worker connections');
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => frontend.run(task(i % 2 === 0 ? 'a' : 'b', `up${i}`), new AbortController().signal)));
  answers.forEach((a, i) => t.match(text(a), new RegExp(`^q[12]:up${i}$`), `query ${i} answered by a querier`));
  t.equal(await metric(registry, /^cortex_query_scheduler_queue_duration_seconds_count\{user="a",additional_queue_dimensions=""\} (\S+)$/m), 6);
  t.equal(await metric(registry, /^cortex_query_scheduler_connected_frontend_clients (\S+)$/m), 1);
  // Failures and errors of the querier come back as such.
  const failing: QueryExecutor = {
    run: async (tk) => (tk.query === 'bad' ? { ok: false, kind: 'bad_data', message: 'parse error' } : Promise.reject(new ApiError('unavailable', 'too many unhealthy instances in the ring'))),
    close: async () => {},
  };
  const { frontend: f2, startWorkers: s2 } = await setup(t);
  s2('q3', failing);
  t.same(await f2.run(task('a', 'bad'), new AbortController().signal), { ok: false, kind: 'bad_data', message: 'parse error' });
  await t.rejects(f2.run(task('a', 'other'), new AbortController().signal), new ApiError('unavailable', 'too many unhealthy instances in the ring'));
});

for (const mode of MODES)
t.test(`${mode.name}: beyond max outstanding per tenant: 429, other tenants still queue; cancelled queries leave`, async (t) => {
  const { registry, service, frontend, startWorkers, prefix } = await setup(t, { maxOutstanding: 2, local: mode.local });
  const acs = [new AbortController(), new AbortController(), new AbortController()];
  const queued = [frontend.run(task('a', 'a1'), acs[0]!.signal), frontend.run(task('a', 'a2'), acs[1]!.signal)];
  for (const q of queued) q.catch(() => undefined);
  t.ok(await waitFor(() => service.queued() === 2), 'two queued, no querier yet');
  await t.rejects(frontend.run(task('a', 'a3'), new AbortController().signal), new ApiError('too_many_requests', TOO_MANY_OUTSTANDING));
  t.equal(await metric(registry, new RegExp(`^${prefix}_discarded_requests_total\\{user="a"\\} (\\S+)$`, 'm')), 1);
  const other = frontend.run(task('b', 'b1'), acs[2]!.signal);
  other.catch(() => undefined);
  t.ok(await waitFor(() => service.queued() === 3));
  t.equal(await metric(registry, new RegExp(`^${prefix}_queue_length\\{user="a"\\} (\\S+)$`, 'm')), 2);
  // The frontend's client goes away: its queries leave the queue and never run.
  acs[0]!.abort(new Error('client went away'));
  acs[2]!.abort(new Error('client went away'));
  await t.rejects(queued[0]!, /client went away/);
  t.ok(await waitFor(() => service.queued() === 1), 'the cancelled queries left the queue');
  if (!mode.local) t.ok(await waitFor(async () => (await metric(registry, /^cortex_query_scheduler_cancelled_requests_total\{user="a"\} (\S+)$/m)) === 1));
  const seen: string[] = [];
  startWorkers('q1', { run: async (tk) => (seen.push(tk.query), new Uint8Array(Buffer.from('ok'))), close: async () => {} });
  t.equal(text(await queued[1]!), 'ok');
  t.same(seen, ['a2'], 'only the query still wanted ran');
});

for (const mode of MODES)
t.test(`${mode.name}: a cancel reaches the querier running the query`, async (t) => {
  const { frontend, startWorkers } = await setup(t, { local: mode.local });
  const exec = hanging('q1');
  startWorkers('q1', exec);
  const ac = new AbortController();
  const run = frontend.run(task('a', 'slow'), ac.signal);
  run.catch(() => undefined);
  t.ok(await waitFor(() => exec.started.length === 1), 'the querier runs it');
  ac.abort(new Error('client went away'));
  t.ok(await waitFor(() => exec.aborted.length === 1), 'the querier stopped it');
  // The same worker goes on with the next query.
  t.equal(text(await frontend.run(task('a', 'next'), new AbortController().signal)), 'q1:next');
});

for (const mode of MODES)
t.test(`${mode.name}: a querier that goes away mid-query: retried on another, or the error once retries are spent`, async (t) => {
  const { frontend, startWorkers } = await setup(t, { maxRetries: 2, local: mode.local });
  const exec = hanging('q1');
  const dying = startWorkers('q1', exec);
  const run = frontend.run(task('a', 'slow'), new AbortController().signal);
  t.ok(await waitFor(() => exec.started.length === 1), 'q1 runs it');
  startWorkers('q2', echo('q2'));
  dying.stop();
  t.equal(text(await run), 'q2:slow', 'answered by q2 after q1 went away');

  const s = await setup(t, { maxRetries: 0, local: mode.local });
  const exec3 = hanging('q3');
  const dying3 = s.startWorkers('q3', exec3);
  const lost = s.frontend.run(task('a', 'slow'), new AbortController().signal);
  t.ok(await waitFor(() => exec3.started.length === 1));
  dying3.stop();
  await t.rejects(lost, new ApiError('internal', 'querier q3 disconnected while running the query'));
});

t.test('a query whose deadline passed in the queue times out without running', async (t) => {
  const { frontend, startWorkers, service } = await setup(t);
  const run = frontend.run(task('a', 'late', 100), new AbortController().signal);
  t.ok(await waitFor(() => service.queued() === 1));
  await new Promise((r) => setTimeout(r, 150));
  const seen: string[] = [];
  startWorkers('q1', { run: async (tk) => (seen.push(tk.query), new Uint8Array()), close: async () => {} });
  t.same(await run, { ok: false, kind: 'timeout', message: QUEUE_TIMEOUT });
  t.same(seen, []);
});

t.test('spread gives each in-use scheduler its share of the workers, at least one, and one to each not in use', async (t) => {
  const all = (...addrs: string[]) => addrs.map((addr) => ({ addr, inUse: true }));
  t.same([...spread(all('a', 'b', 'c'), 8)], [['a', 3], ['b', 3], ['c', 2]]);
  t.same([...spread(all('a', 'b', 'c'), 2)], [['a', 1], ['b', 1], ['c', 1]]);
  t.same([...spread([], 4)], []);
  t.same([...spread(selectInUse(['c:1', 'a:1', 'b:1'], 1), 8)], [['a:1', 8], ['b:1', 1], ['c:1', 1]]);
  t.same([...spread(selectInUse(['c:1', 'a:1', 'b:1'], 2), 5)], [['a:1', 3], ['b:1', 2], ['c:1', 1]]);
});

t.test('selectInUse: the first max-used-instances by address are in use (0: all)', async (t) => {
  t.same(selectInUse(['10.0.0.2:9095', '10.0.0.10:9095', '10.0.0.1:9095'], 2), [
    // Byte order, as Go compares strings: '0' sorts before ':'.
    { addr: '10.0.0.10:9095', inUse: true },
    { addr: '10.0.0.1:9095', inUse: true },
    { addr: '10.0.0.2:9095', inUse: false },
  ]);
  t.same(selectInUse(['b', 'a'], 0), [{ addr: 'a', inUse: true }, { addr: 'b', inUse: true }]);
  t.same(selectInUse(['b', 'a', 'a'], 5), [{ addr: 'a', inUse: true }, { addr: 'b', inUse: true }]);
});

for (const mode of MODES)
t.test(`${mode.name}: max_queriers_per_tenant keeps a tenant's queries on its querier shard`, async (t) => {
  const { frontend, startWorkers, service } = await setup(t, { local: mode.local, maxQueriers: (tenant) => (tenant === 'one' ? 1 : 0) });
  for (const id of ['querier-a', 'querier-b', 'querier-c']) startWorkers(id, echo(id), 2);
  t.ok(await waitFor(() => service.connectedQueriers().length === 3), 'three queriers connected');
  const owner = [...querierShard('one', service.connectedQueriers(), 1)!][0]!;
  const by = async (tenant: string): Promise<Set<string>> => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => frontend.run(task(tenant, `q${i}`), new AbortController().signal)));
    return new Set(answers.map((a) => text(a).split(':')[0]!));
  };
  t.same([...(await by('one'))], [owner], `every query of the limited tenant ran on ${owner}`);
  t.ok((await by('many')).size > 1, 'an unlimited tenant uses several queriers');
});

t.test("a querier that goes away stays in the tenants' shards for the forget delay; one that shuts down leaves at once", async (t) => {
  const { frontend, startWorkers, service, addr } = await setup(t, { maxQueriers: () => 1 });
  // querier-a is a bare poll that breaks (a querier that dies); querier-b runs workers. The tenant is one whose shard is querier-a.
  const tenant = ['t0', 't1', 't2', 't3', 't4', 't5'].find((x) => querierShard(x, ['querier-a', 'querier-b'], 1)!.has('querier-a'))!;
  const conn = connect(`http://${addr}`);
  conn.on('error', () => undefined);
  const poll = conn.request({ ':method': 'POST', ':path': NEXT_PATH, [QUERIER_HEADER.toLowerCase()]: 'querier-a' }, { endStream: true });
  poll.on('error', () => undefined);
  const b = startWorkers('querier-b', echo('querier-b'));
  t.ok(await waitFor(() => service.connectedQueriers().length === 2));
  // Its connection breaks.
  conn.destroy();
  const brokenAt = Date.now();
  const queued = frontend.run(task(tenant, 'later'), new AbortController().signal);
  t.ok(await waitFor(() => service.queued() === 1), 'a query of the tenant waits for its querier');
  await new Promise((r) => setTimeout(r, 500));
  t.same(service.connectedQueriers(), ['querier-a', 'querier-b'], 'the querier that went away is still in the shards');
  t.equal(service.queued(), 1, 'and the query still waits for it');
  t.ok(await waitFor(() => service.queued() === 0, QUERIER_FORGET_MS + 2_000), 'the waiting query is taken once the querier is forgotten');
  // Timers may fire a few milliseconds early by the wall clock.
  t.ok(Date.now() - brokenAt >= QUERIER_FORGET_MS - 50, `not before the forget delay (${Date.now() - brokenAt} ms)`);
  t.equal(text(await queued), 'querier-b:later', 'by the querier left');
  t.same(service.connectedQueriers(), ['querier-b']);
  // A querier that stops gracefully says so: it leaves the shards as soon as its polls close.
  await b.stop();
  t.ok(await waitFor(() => service.connectedQueriers().length === 0, 1_000), 'a querier that shut down is forgotten at once');
});
