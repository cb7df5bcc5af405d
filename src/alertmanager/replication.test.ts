// replication.test.ts checks where tenants live on the alertmanager ring
// (replication factor 2 over three instances): the tenant's token is FNV-1a
// 32 of its id, exactly its replica set owns it, the replicas' positions are
// their order clockwise, a JOINING instance runs tenants but takes no
// requests, too few healthy replicas own nothing; state parts go to the
// other replicas only; a full-state read keeps what the replicas answered.
// It also checks the distributor's merges of the replicas' answers.

import t from 'tap';
import { Registry } from 'prom-client';
import { log } from '../log.js';
import type { InternalAnswer, InternalClient } from '../internal/client.js';
import { InMemoryKv } from '../ring/kv.js';
import type { InstanceDesc, InstanceState, RingDesc } from '../ring/model.js';
import { Ring } from '../ring/ring.js';
import { mergeAlertGroups, mergeAlerts, mergeSilences } from './distributor.js';
import { AlertmanagerRing, INTERNAL_AM_READ_STATE_PATH, INTERNAL_AM_UPDATE_STATE_PATH, STATE_KEY_HEADER, shardByUser } from './replication.js';

const now = Math.floor(Date.now() / 1000);

function inst(addr: string, tokens: number[], state: InstanceState = 'ACTIVE', ts = now): InstanceDesc {
  return { addr, timestamp: ts, state, tokens, zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 };
}

const TOKENS: Record<string, number[]> = { a: [500_000_000, 2_500_000_000], b: [1_200_000_000, 3_300_000_000], c: [1_900_000_000, 4_000_000_000] };

function ringOf(d: RingDesc, rf: number): Ring {
  const r = new Ring(new InMemoryKv(), { key: 'alertmanager', replicationFactor: rf, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  r.update(d);
  return r;
}

interface Call {
  addr: string;
  path: string;
  tenant: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

/** fakeClient records calls and answers them with answer (a throw is a failed call). */
function fakeClient(answer: (c: Call) => InternalAnswer): { client: InternalClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    post: (addr: string, path: string, tenant: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<InternalAnswer> => {
      const c = { addr, path, tenant, body, headers };
      calls.push(c);
      try {
        return Promise.resolve(answer(c));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  } as unknown as InternalClient;
  return { client, calls };
}

function amRing(ring: Ring, selfId: string, rf: number, client?: InternalClient): AlertmanagerRing {
  return new AlertmanagerRing({ ring, selfId, replicationFactor: rf, client: client ?? fakeClient(() => ({ status: 200, body: Buffer.alloc(0), headers: {} })).client, timeoutMs: 1000, log });
}

/** expectedReplicas walks the tokens clockwise from the tenant's token: the first n distinct owners. */
function expectedReplicas(user: string, n: number, tokens: Record<string, number[]> = TOKENS): string[] {
  const all = Object.entries(tokens)
    .flatMap(([id, ts]) => ts.map((x): [number, string] => [x, id]))
    .sort((x, y) => x[0] - y[0]);
  const key = shardByUser(user);
  let i = all.findIndex(([x]) => x > key);
  if (i < 0) i = 0;
  const out: string[] = [];
  for (let k = 0; out.length < n && k < all.length; k++) {
    const id = all[(i + k) % all.length]![1];
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

t.test("a tenant's token is FNV-1a 32 of its id (Mimir's shardByUser)", async (t) => {
  t.equal(shardByUser(''), 0x811c9dc5);
  t.equal(shardByUser('a'), 0xe40c292c);
  t.equal(shardByUser('foobar'), 0xbf9cf968);
});

t.test('replication factor 2 over three alertmanagers: each tenant runs on exactly its two replicas, in ring order', async (t) => {
  const d: RingDesc = { ingesters: Object.fromEntries(Object.entries(TOKENS).map(([id, ts]) => [id, inst(`${id}:9095`, ts)])) };
  const ring = ringOf(d, 2);
  const members = Object.fromEntries(['a', 'b', 'c'].map((id) => [id, amRing(ring, id, 2)]));
  const perInstance: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let n = 0; n < 60; n++) {
    const user = `tenant-${n}`;
    const want = expectedReplicas(user, 2);
    const owners = ['a', 'b', 'c'].filter((id) => members[id]!.owns(user));
    t.same(owners.sort(), [...want].sort(), `${user} runs on ${want.join(',')}`);
    t.same(
      members.a!.replicas(user).instances.map((i) => i.id),
      want,
      'the replica set is the ring walk',
    );
    t.same(
      want.map((id) => members[id]!.position(user)),
      [0, 1],
      'positions follow the ring order',
    );
    for (const id of owners) perInstance[id]!++;
  }
  t.ok(Object.values(perInstance).every((x) => x > 0 && x < 60), `every alertmanager runs some tenants, none all (${JSON.stringify(perInstance)})`);
});

t.test('a JOINING alertmanager runs its tenants but takes no requests; too few healthy replicas: nobody runs the tenant', async (t) => {
  const user = 'tenant-joining';
  const [first, second] = expectedReplicas(user, 2) as [string, string];
  const third = ['a', 'b', 'c'].find((id) => id !== first && id !== second)!;
  const joining: RingDesc = { ingesters: Object.fromEntries(Object.entries(TOKENS).map(([id, ts]) => [id, inst(`${id}:9095`, ts, id === first ? 'JOINING' : 'ACTIVE')])) };
  const ring = ringOf(joining, 2);
  t.ok(amRing(ring, first, 2).owns(user), 'the JOINING replica runs the tenant');
  t.same(
    amRing(ring, second, 2)
      .replicas(user)
      .instances.map((i) => i.id),
    [second, third],
    'requests go past it to the next instance',
  );
  const stale: RingDesc = { ingesters: Object.fromEntries(Object.entries(TOKENS).map(([id, ts]) => [id, inst(`${id}:9095`, ts, 'ACTIVE', id === first ? now - 3600 : now)])) };
  const ring2 = ringOf(stale, 2);
  const registry = new Registry();
  const checking = new AlertmanagerRing({ ring: ring2, selfId: second, replicationFactor: 2, client: fakeClient(() => ({ status: 200, body: Buffer.alloc(0), headers: {} })).client, timeoutMs: 1000, log, registry });
  t.notOk(checking.owns(user), 'one of two replicas unhealthy: no quorum, not run');
  t.equal((await registry.getSingleMetric('cortex_alertmanager_ring_check_errors_total')?.get())?.values[0]?.value, 1, 'the ring check error is counted');
  t.equal(amRing(ring2, second, 2).position(user), 0, 'the position falls back to 0 (notify rather than never)');
});

t.test('state parts go to the other replicas only; a full-state read keeps the answers', async (t) => {
  const d: RingDesc = { ingesters: Object.fromEntries(Object.entries(TOKENS).map(([id, ts]) => [id, inst(`${id}:9095`, ts)])) };
  const ring = ringOf(d, 3);
  const { client, calls } = fakeClient((c) => {
    if (c.path === INTERNAL_AM_READ_STATE_PATH && c.addr === 'b:9095') throw new Error('connection refused');
    return { status: 200, body: Buffer.from(`state of ${c.addr}`), headers: {} };
  });
  const self = amRing(ring, 'a', 3, client);
  t.equal(await self.replicate('u', 'sil:u', Buffer.from('part')), true, 'both other replicas took the part');
  t.same(
    calls.map((c) => [c.addr, c.path, c.tenant, c.headers[STATE_KEY_HEADER]]).sort(),
    [
      ['b:9095', INTERNAL_AM_UPDATE_STATE_PATH, 'u', 'sil:u'],
      ['c:9095', INTERNAL_AM_UPDATE_STATE_PATH, 'u', 'sil:u'],
    ],
  );
  calls.length = 0;
  const states = await self.readFullState('u');
  t.same(
    states?.map((b) => b.toString()),
    ['state of c:9095'],
    'the replica that answered',
  );
  t.same(calls.map((c) => c.addr).sort(), ['b:9095', 'c:9095'], 'both others were asked');
  const none = amRing(ring, 'a', 3, fakeClient(() => ({ status: 404, body: Buffer.from('user not found'), headers: {} })).client);
  t.equal(await none.readFullState('u'), undefined, 'no replica has it: undefined (the bucket is read instead)');
});

t.test("the distributor's merges keep the newest copy of each alert and silence", async (t) => {
  const a1 = { fingerprint: 'b2', updatedAt: '2026-01-01T00:00:01.000Z', labels: { alertname: 'B' }, v: 'old' };
  const a2 = { fingerprint: 'b2', updatedAt: '2026-01-01T00:00:05.000Z', labels: { alertname: 'B' }, v: 'new' };
  const a3 = { fingerprint: 'a1', updatedAt: '2026-01-01T00:00:02.000Z', labels: { alertname: 'A' }, v: 'only' };
  t.same(mergeAlerts([[a1, a3], [a2]]), [a3, a2], 'union by fingerprint, newest wins, ordered by fingerprint');

  const g = (labels: Record<string, string>, receiver: string, alerts: unknown[]): Record<string, unknown> => ({ labels, receiver: { name: receiver }, alerts });
  const merged = mergeAlertGroups([[g({ alertname: 'B' }, 'r', [a1]), g({ alertname: 'A' }, 'r', [a3])], [g({ alertname: 'B' }, 'r', [a2]), g({ alertname: 'B' }, 'q', [a1])]]);
  t.same(
    merged.map((x) => [x.labels, (x.receiver as { name: string }).name, (x.alerts as Array<{ v: string }>).map((y) => y.v)]),
    [
      [{ alertname: 'A' }, 'r', ['only']],
      [{ alertname: 'B' }, 'q', ['old']],
      [{ alertname: 'B' }, 'r', ['new']],
    ],
    'groups by labels and receiver, their alerts merged, ordered by labels then receiver',
  );

  const s = (id: string, state: string, startsAt: string, endsAt: string, updatedAt: string): Record<string, unknown> => ({ id, status: { state }, startsAt, endsAt, updatedAt });
  const out = mergeSilences([
    [s('x', 'active', '2026-01-01T00:00:00Z', '2026-01-01T05:00:00Z', '2026-01-01T00:00:00Z'), s('e', 'expired', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z')],
    [s('x', 'expired', '2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z', '2026-01-01T00:10:00Z'), s('p', 'pending', '2027-01-01T00:00:00Z', '2027-01-02T00:00:00Z', '2026-01-01T00:00:00Z'), s('y', 'active', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z')],
  ]);
  t.same(
    out.map((x) => [x.id, (x.status as { state: string }).state]),
    [
      ['y', 'active'],
      ['p', 'pending'],
      ['x', 'expired'],
      ['e', 'expired'],
    ],
    'the expiry (newer) wins; active, pending, then expired latest end first',
  );
});
