// tenant-queues.test.ts: the fair queue shared by the in-process scheduler and
// the query-scheduler target: tenants in turn, FIFO within a tenant, retried
// items first, 429 beyond the per-tenant bound, aborted items leave.

import t from 'tap';
import { ApiError } from '../errors.js';
import { querierShard, TenantQueues, TOO_MANY_OUTSTANDING } from './tenant-queues.js';

const never = new AbortController().signal;
const drain = <T>(q: TenantQueues<T>): T[] => {
  const out: T[] = [];
  for (let d = q.dequeue(); d !== undefined; d = q.dequeue()) out.push(d.item);
  return out;
};

t.test('tenants take turns, each in arrival order; a retried item goes first', async (t) => {
  const q = new TenantQueues<string>(0);
  for (const item of ['a0', 'a1', 'a2', 'b0', 'b1', 'c0']) q.enqueue(item[0]!, item, never, () => undefined);
  q.enqueue('b', 'b-retry', never, () => undefined, true);
  t.same(Object.fromEntries(q.lengths()), { a: 3, b: 3, c: 1 });
  t.equal(q.size(), 7);
  t.same(drain(q), ['a0', 'b-retry', 'c0', 'a1', 'b0', 'a2', 'b1']);
  t.equal(q.tenants(), 0);
  t.equal(q.dequeue(), undefined);
});

t.test('a tenant that empties leaves the round and joins its end again', async (t) => {
  const q = new TenantQueues<string>(0);
  q.enqueue('a', 'a0', never, () => undefined);
  q.enqueue('b', 'b0', never, () => undefined);
  t.equal(q.dequeue()?.item, 'a0');
  q.enqueue('a', 'a1', never, () => undefined);
  q.enqueue('c', 'c0', never, () => undefined);
  t.same(drain(q), ['b0', 'a1', 'c0']);
});

t.test('beyond maxOutstandingPerTenant: 429 too many outstanding requests, other tenants unaffected', async (t) => {
  const q = new TenantQueues<number>(2);
  q.enqueue('a', 1, never, () => undefined);
  q.enqueue('a', 2, never, () => undefined);
  let err: unknown;
  try {
    q.enqueue('a', 3, never, () => undefined);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ApiError);
  t.equal((err as ApiError).status, 429);
  t.equal((err as ApiError).message, TOO_MANY_OUTSTANDING);
  q.enqueue('b', 4, never, () => undefined);
  t.same(drain(q), [1, 4, 2]);
  q.enqueue('a', 5, never, () => undefined);
  t.equal(q.size(), 1, 'accepted again once drained');
});

t.test('an aborted item leaves the queue and is reported once; a dequeued one no longer listens', async (t) => {
  const q = new TenantQueues<string>(0);
  const ac = new AbortController();
  const aborted: string[] = [];
  q.enqueue('a', 'x', ac.signal, (i) => aborted.push(i));
  q.enqueue('a', 'y', never, (i) => aborted.push(i));
  const taken = new AbortController();
  q.enqueue('b', 'z', taken.signal, (i) => aborted.push(i));
  ac.abort();
  t.same(aborted, ['x']);
  t.same(Object.fromEntries(q.lengths()), { a: 1, b: 1 });
  const d = q.dequeue();
  t.equal(d?.item, 'y');
  t.ok((d?.waitedMs ?? -1) >= 0);
  t.equal(q.dequeue()?.item, 'z');
  taken.abort();
  t.same(aborted, ['x'], 'aborting a dequeued item reports nothing');
});

t.test("querierShard draws a tenant's queriers as Mimir's queue does", async (t) => {
  // Printed once by a Go program doing Mimir's shuffleTenantQueriers (math/rand seeded with dskit's
  // ShuffleShardSeed(tenant, ""), Intn over the sorted IDs, each pick swapped to the end).
  const queriers = ['querier-a', 'querier-b', 'querier-c', 'querier-d', 'querier-e', 'querier-f', 'querier-g'];
  const golden: Array<[string, number, string[]]> = [
    ['team-a', 1, ['querier-f']],
    ['team-a', 2, ['querier-f', 'querier-g']],
    ['team-a', 3, ['querier-d', 'querier-f', 'querier-g']],
    ['team-a', 6, ['querier-a', 'querier-c', 'querier-d', 'querier-e', 'querier-f', 'querier-g']],
    ['team-b', 1, ['querier-g']],
    ['team-b', 2, ['querier-a', 'querier-g']],
    ['team-b', 3, ['querier-a', 'querier-f', 'querier-g']],
    ['anonymous', 3, ['querier-a', 'querier-e', 'querier-g']],
    ['tenant-1', 1, ['querier-c']],
    ['tenant-1', 2, ['querier-c', 'querier-f']],
    ['tenant-1', 6, ['querier-b', 'querier-c', 'querier-d', 'querier-e', 'querier-f', 'querier-g']],
  ];
  for (const [tenant, n, want] of golden) t.same([...querierShard(tenant, queriers, n)!].sort(), want, `${tenant} with ${n}`);
  t.same([...querierShard('team-a', ['q1', 'q2'], 1)!], ['q2']);
  t.equal(querierShard('team-a', queriers, 0), undefined, '0: every querier');
  t.equal(querierShard('team-a', queriers, 7), undefined, 'as many as there are: every querier');
  t.equal(querierShard('team-a', [], 1), undefined);
});

t.test("a sharded tenant's items go only to its queriers, others to any; shards follow the queriers", async (t) => {
  const q = new TenantQueues<string>(0);
  for (const id of ['querier-c', 'querier-a', 'querier-b']) q.addQuerier(id);
  t.equal(q.queriersOf('x'), undefined, 'no shard before the tenant waits with a limit');
  q.enqueue('team-a', 'a0', never, () => undefined, false, 1);
  q.enqueue('team-a', 'a1', never, () => undefined, false, 1);
  q.enqueue('free', 'f0', never, () => undefined);
  const owner = [...q.queriersOf('team-a')!];
  t.same(owner, [...querierShard('team-a', ['querier-a', 'querier-b', 'querier-c'], 1)!]);
  const other = ['querier-a', 'querier-b', 'querier-c'].find((id) => id !== owner[0])!;
  t.equal(q.dequeue(other)?.item, 'f0', 'another querier skips the sharded tenant');
  t.equal(q.dequeue(other), undefined, 'and gets nothing more');
  t.equal(q.dequeue(owner[0])?.item, 'a0', "the tenant's querier takes its items");
  // Its querier goes away: the shard is drawn again among the two left.
  q.removeQuerier(owner[0]!);
  const next = [...q.queriersOf('team-a')!];
  t.same(next, [...querierShard('team-a', ['querier-a', 'querier-b', 'querier-c'].filter((id) => id !== owner[0]), 1)!]);
  t.equal(q.dequeue(next[0])?.item, 'a1');
  t.equal(q.size(), 0);
});
