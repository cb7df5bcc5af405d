// scheduler.test.ts: the query queue's semantics (first come first served
// within a tenant, tenants in turn, the concurrency bound, 429 beyond the
// per-tenant bound, aborted waiters leave) and the 429 through the server.

import t from 'tap';
import { ApiError } from '../errors.js';
import { startTestServer } from '../testing/server.js';
import type { QueryExecutor, WorkerAnswer } from './query-executor.js';
import { QueryScheduler } from './scheduler.js';
import { TOO_MANY_OUTSTANDING } from './tenant-queues.js';

/** Gate is a promise released from outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('one slot: tenants take turns, each tenant in arrival order', async (t) => {
  const s = new QueryScheduler({ maxConcurrent: 1, maxOutstandingPerTenant: 0 });
  const started: string[] = [];
  const first = gate();
  const signal = new AbortController().signal;
  const done: Array<Promise<void>> = [];
  done.push(s.run('a', signal, async () => { started.push('a0'); await first.promise; }));
  // While a0 runs: tenant a queues 4 more, then b 2, then c 1.
  for (let i = 1; i <= 4; i++) done.push(s.run('a', signal, async () => { started.push(`a${i}`); }));
  for (let i = 0; i < 2; i++) done.push(s.run('b', signal, async () => { started.push(`b${i}`); }));
  done.push(s.run('c', signal, async () => { started.push('c0'); }));
  await tick();
  t.same(started, ['a0'], 'only one runs at a time');
  t.same(s.stats(), { running: 1, queued: 7, tenantsWaiting: 3 });
  first.open();
  await Promise.all(done);
  t.same(started, ['a0', 'a1', 'b0', 'c0', 'a2', 'b1', 'a3', 'a4'], 'round robin over a, b, c; FIFO within a tenant');
  t.same(s.stats(), { running: 0, queued: 0, tenantsWaiting: 0 });
});

t.test('at most maxConcurrent run at once', async (t) => {
  const s = new QueryScheduler({ maxConcurrent: 3, maxOutstandingPerTenant: 0 });
  let running = 0;
  let peak = 0;
  const signal = new AbortController().signal;
  const all = Array.from({ length: 20 }, (_, i) =>
    s.run(`t${i % 4}`, signal, async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      return i;
    }),
  );
  t.same(await Promise.all(all), Array.from({ length: 20 }, (_, i) => i), 'every query ran and answered');
  t.equal(peak, 3, 'never more than 3 at once');
});

t.test('beyond maxOutstandingPerTenant waiting: 429 too many outstanding requests, other tenants unaffected', async (t) => {
  const s = new QueryScheduler({ maxConcurrent: 1, maxOutstandingPerTenant: 2 });
  const g = gate();
  const signal = new AbortController().signal;
  const running = s.run('a', signal, () => g.promise);
  const waiting = [s.run('a', signal, async () => 1), s.run('a', signal, async () => 2)];
  const refused = s.run('a', signal, async () => 3);
  await t.rejects(refused, new ApiError('too_many_requests', TOO_MANY_OUTSTANDING));
  const err = await refused.catch((e: unknown) => e);
  t.equal((err as ApiError).status, 429);
  const other = s.run('b', signal, async () => 'b');
  g.open();
  await running;
  t.same(await Promise.all([...waiting, other]), [1, 2, 'b']);
  t.equal(await s.run('a', signal, async () => 4), 4, 'accepted again once the queue drained');
});

t.test('a query aborted while waiting leaves the queue and never runs', async (t) => {
  const s = new QueryScheduler({ maxConcurrent: 1, maxOutstandingPerTenant: 1 });
  const g = gate();
  const running = s.run('a', new AbortController().signal, () => g.promise);
  const ac = new AbortController();
  let ran = false;
  const waiting = s.run('a', ac.signal, async () => {
    ran = true;
  });
  ac.abort(new Error('client closed the request'));
  await t.rejects(waiting, { message: 'client closed the request' });
  t.same(s.stats(), { running: 1, queued: 0, tenantsWaiting: 0 });
  const next = s.run('a', new AbortController().signal, async () => 'next');
  g.open();
  await running;
  t.equal(await next, 'next', 'the freed place is taken by the next query');
  t.notOk(ran, 'the aborted query never ran');
});

t.test('through the server: -querier.max-concurrent=1 and one outstanding query per tenant', async (t) => {
  const release: Array<() => void> = [];
  const executor: QueryExecutor = {
    run: () =>
      new Promise<WorkerAnswer>((resolve) => {
        release.push(() => resolve(new TextEncoder().encode('{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}')));
      }),
    close: async () => {},
  };
  const srv = await startTestServer({ 'querier.max-concurrent': 1, 'querier.max-outstanding-requests-per-tenant': 1 }, { queryExecutor: executor });
  t.teardown(() => srv.close());
  const q = (tenant: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${srv.port}/prometheus/api/v1/query?query=1&time=1`, { headers: { 'X-Scope-OrgID': tenant }, signal: AbortSignal.timeout(20_000) });
  const first = q('a');
  const second = q('a');
  // Wait until the first reached the executor (the second waits in the queue).
  for (let i = 0; i < 200 && release.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(release.length, 1, 'one query running');
  const third = await q('a');
  t.equal(third.status, 429, 'the third query of the tenant is refused');
  t.same(await third.json(), { status: 'error', errorType: 'bad_data', error: TOO_MANY_OUTSTANDING });
  const otherTenant = q('b');
  release.shift()!();
  t.equal((await first).status, 200);
  for (let i = 0; i < 200 && release.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  release.shift()!();
  t.equal((await second).status, 200, 'the queued query ran after the first');
  for (let i = 0; i < 200 && release.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  release.shift()!();
  t.equal((await otherTenant).status, 200, "tenant b's query was queued, not refused");
});
