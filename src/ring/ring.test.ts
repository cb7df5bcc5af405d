// ring.test.ts checks the ring model without a KV server: replica selection
// (as dskit's ring.Get), quorum errors, the all-instances replication set,
// ownership, and the lifecycler over the in-memory store.

import t from 'tap';
import { log } from '../log.js';
import { InMemoryKv } from './kv.js';
import { Lifecycler } from './lifecycler.js';
import { BLOCKS_OWNER_SYNC, ACTIVE_OWNER, decodeDesc, encodeDesc, generateTokens, ownership, READ, WRITE, type InstanceDesc, type InstanceState, type RingDesc } from './model.js';
import { Ring, RingError, searchToken } from './ring.js';
import { defaultValues } from '../config/parse.js';
import { ringConfig as readRingConfig, type RingName } from './config.js';
import { ringNamesFor as ringNames } from './module.js';

/** ringConfig reads a ring's config from the defaults with overrides. */
function ringConfig(overrides: Record<string, string>, name: RingName): ReturnType<typeof readRingConfig> {
  const v = defaultValues();
  for (const [k, x] of Object.entries(overrides)) v.set(k, x);
  return readRingConfig(v, name);
}

const now = Math.floor(Date.now() / 1000);

function inst(addr: string, tokens: number[], state: InstanceState = 'ACTIVE', zone = '', ts = now): InstanceDesc {
  return { addr, timestamp: ts, state, tokens, zone, registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 };
}

function ringOf(d: RingDesc, rf = 3, zones = false, timeoutMs = 60_000): Ring {
  const r = new Ring(new InMemoryKv(), { key: 'k', replicationFactor: rf, zoneAwarenessEnabled: zones, heartbeatTimeoutMs: timeoutMs }, log);
  r.update(d);
  return r;
}

t.test('searchToken finds the first token above the key, wrapping', async (t) => {
  const tokens = Uint32Array.from([10, 20, 30]);
  t.equal(searchToken(tokens, 5), 0);
  t.equal(searchToken(tokens, 10), 1, 'a key equal to a token goes to the next one');
  t.equal(searchToken(tokens, 25), 2);
  t.equal(searchToken(tokens, 30), 0, 'past the last token wraps');
});

t.test('get walks clockwise and picks replication-factor distinct instances', async (t) => {
  const r = ringOf({ ingesters: { a: inst('a:1', [100, 400]), b: inst('b:1', [200, 500]), c: inst('c:1', [300, 600]), d: inst('d:1', [350]) } });
  t.same(
    r.get(150, WRITE).instances.map((i) => i.id),
    ['b', 'c', 'd'],
  );
  t.same(
    r.get(550, WRITE).instances.map((i) => i.id),
    ['c', 'a', 'b'],
    'wraps around the ring',
  );
  t.equal(r.get(150, WRITE).maxErrors, 1, 'RF=3 tolerates one failure');
  t.throws(() => ringOf({ ingesters: {} }).get(1, WRITE), new RingError('empty ring'));
});

t.test('JOINING and LEAVING instances extend the replica set as dskit does', async (t) => {
  const d = { ingesters: { a: inst('a:1', [100]), b: inst('b:1', [200], 'LEAVING'), c: inst('c:1', [300]), d: inst('d:1', [400]), e: inst('e:1', [500]) } };
  const r = ringOf(d);
  // Write: LEAVING is not healthy but extends the set by one (a quorum of 4 is 3).
  const w = r.get(50, WRITE);
  t.same(
    w.instances.map((i) => i.id),
    ['a', 'c', 'd'],
  );
  t.equal(w.maxErrors, 0, 'the extended set (4) needs 3 successes');
  // Read: LEAVING answers reads and does not extend.
  t.same(
    r.get(50, READ).instances.map((i) => i.id),
    ['a', 'b', 'c'],
  );
  const j = ringOf({ ingesters: { ...d.ingesters, b: inst('b:1', [200], 'JOINING') } });
  t.same(
    j.get(50, READ).instances.map((i) => i.id),
    ['a', 'c', 'd'],
    'JOINING extends reads (its data is not there yet)',
  );
});

t.test('unhealthy instances are dropped; below quorum fails with dskit text', async (t) => {
  const old = now - 3600;
  const r = ringOf({ ingesters: { a: inst('a:1', [100]), b: inst('b:1', [200], 'ACTIVE', '', old), c: inst('c:1', [300]) } });
  const set = r.get(50, WRITE);
  t.same(
    set.instances.map((i) => i.id),
    ['a', 'c'],
  );
  t.equal(set.maxErrors, 0);
  const r2 = ringOf({ ingesters: { a: inst('a:1', [100]), b: inst('b:1', [200], 'ACTIVE', '', old), c: inst('c:1', [300], 'ACTIVE', '', old) } });
  t.throws(() => r2.get(50, WRITE), new RingError('at least 2 live replicas required, could only find 1 - unhealthy instances: b:1,c:1'));
  const z = ringOf({ ingesters: { a: inst('a:1', [100], 'ACTIVE', 'z1'), b: inst('b:1', [200], 'ACTIVE', 'z2', old), c: inst('c:1', [300], 'ACTIVE', 'z3', old) } }, 3, true);
  t.throws(() => z.get(50, WRITE), new RingError('at least 2 live replicas required across different availability zones, could only find 1 - unhealthy instances: b:1,c:1'));
});

t.test('zone awareness picks one instance per zone', async (t) => {
  const r = ringOf(
    {
      ingesters: {
        a1: inst('a1', [100], 'ACTIVE', 'a'),
        a2: inst('a2', [150], 'ACTIVE', 'a'),
        b1: inst('b1', [200], 'ACTIVE', 'b'),
        b2: inst('b2', [250], 'ACTIVE', 'b'),
        c1: inst('c1', [300], 'ACTIVE', 'c'),
      },
    },
    3,
    true,
  );
  const got = r.get(50, WRITE).instances;
  t.same(
    got.map((i) => i.id),
    ['a1', 'b1', 'c1'],
  );
  t.same(new Set(got.map((i) => i.zone)).size, 3);
});

t.test('getReplicationSetForOperation: every healthy instance and the failures tolerated', async (t) => {
  const old = now - 3600;
  const r = ringOf({ ingesters: { a: inst('a', [1]), b: inst('b', [2]), c: inst('c', [3]), d: inst('d', [4]) } });
  const all = r.getReplicationSetForOperation(READ);
  t.equal(all.instances.length, 4);
  t.equal(all.maxErrors, 1, '4 instances, RF=3: 3 must answer');
  const one = ringOf({ ingesters: { a: inst('a', [1]), b: inst('b', [2], 'ACTIVE', '', old), c: inst('c', [3]) } }).getReplicationSetForOperation(READ);
  t.same(one.instances.map((i) => i.id).sort(), ['a', 'c']);
  t.equal(one.maxErrors, 0);
  t.throws(
    () => ringOf({ ingesters: { a: inst('a', [1]), b: inst('b', [2], 'ACTIVE', '', old), c: inst('c', [3], 'ACTIVE', '', old) } }).getReplicationSetForOperation(READ),
    new RingError('too many unhealthy instances in the ring'),
  );
  // Zones: a zone with a failing instance is left out whole.
  const z = ringOf({ ingesters: { a: inst('a', [1], 'ACTIVE', 'z1'), a2: inst('a2', [5], 'ACTIVE', 'z1', old), b: inst('b', [2], 'ACTIVE', 'z2'), c: inst('c', [3], 'ACTIVE', 'z3') } }, 3, true);
  const zs = z.getReplicationSetForOperation(READ);
  t.same(zs.instances.map((i) => i.id).sort(), ['b', 'c']);
  t.equal(zs.maxUnavailableZones, 0);
});

t.test('tokens, ownership and the stored form', async (t) => {
  const taken = new Set([5, 6, 7]);
  const tokens = generateTokens(128, taken);
  t.equal(tokens.length, 128);
  t.equal(new Set(tokens).size, 128, 'distinct');
  t.ok(tokens.every((x) => !taken.has(x) && x >= 0 && x <= 0xffffffff));
  t.same(tokens, [...tokens].sort((a, b) => a - b), 'sorted');
  const d = { ingesters: { a: inst('a', [0x40000000]), b: inst('b', [0xc0000000]) } };
  const own = ownership(d);
  t.ok(Math.abs(own.get('a')! - 0.5) < 1e-6 && Math.abs(own.get('b')! - 0.5) < 1e-6, 'two halves');
  t.same(decodeDesc(encodeDesc(d)), d, 'round trip');
  t.same(decodeDesc('not json'), { ingesters: {} });
});

t.test('lifecycler: join, heartbeat, read-only, forget and rejoin, leave', async (t) => {
  const kv = new InMemoryKv();
  const ring = new Ring(kv, { key: 'collectors/ring', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  await ring.start();
  t.teardown(() => ring.stop());
  const lc = new Lifecycler(ring, { id: 'ing-1', addr: '10.0.0.1:9095', zone: 'z', numTokens: 16, heartbeatPeriodMs: 0, unregisterOnShutdown: () => true }, log);
  await lc.start();
  let d = ring.getDesc().ingesters['ing-1'];
  t.equal(d?.state, 'ACTIVE');
  t.equal(d?.tokens.length, 16);
  t.equal(d?.addr, '10.0.0.1:9095');
  t.equal(d?.zone, 'z');
  const tokens = d!.tokens;
  // A second instance never takes a token of the first.
  const lc2 = new Lifecycler(ring, { id: 'ing-2', addr: '10.0.0.2:9095', zone: 'z', numTokens: 16, heartbeatPeriodMs: 0, unregisterOnShutdown: () => false }, log);
  await lc2.start();
  const t2 = ring.getDesc().ingesters['ing-2']!.tokens;
  t.ok(t2.every((x) => !tokens.includes(x)));
  // Heartbeat moves the timestamp forward (simulate an old one first).
  await ring.casRing((x) => {
    x.ingesters['ing-1']!.timestamp = 1000;
    return x;
  });
  await lc.heartbeat();
  t.ok(ring.getDesc().ingesters['ing-1']!.timestamp >= now);
  await lc.setReadOnly(true);
  t.equal(lc.readOnly().readOnly, true);
  t.ok(lc.readOnly().since >= now);
  await lc.setReadOnly(false);
  t.equal(lc.readOnly().readOnly, false);
  // Forgotten (the ring page's button): the next heartbeat registers it again.
  await ring.casRing((x) => {
    delete x.ingesters['ing-1'];
    return x;
  });
  t.equal(ring.getDesc().ingesters['ing-1'], undefined);
  await lc.heartbeat();
  t.equal(ring.getDesc().ingesters['ing-1']?.state, 'ACTIVE', 'rejoined');
  // Restart with the same id keeps the tokens it has in the ring.
  const before = ring.getDesc().ingesters['ing-2']!.tokens;
  const again = new Lifecycler(ring, { id: 'ing-2', addr: '10.0.0.2:9095', zone: 'z', numTokens: 16, heartbeatPeriodMs: 0, unregisterOnShutdown: () => false }, log);
  await again.start();
  t.same(ring.getDesc().ingesters['ing-2']!.tokens, before, 'tokens kept across a restart');
  await lc.stop();
  t.equal(ring.getDesc().ingesters['ing-1'], undefined, 'unregistered on shutdown');
  await again.stop();
  t.equal(ring.getDesc().ingesters['ing-2']?.state, 'LEAVING', 'stays LEAVING without unregistering');
});

t.test('lifecycler: a starting instance is PENDING without tokens, then JOINING, then ACTIVE', async (t) => {
  const kv = new InMemoryKv();
  const ring = new Ring(kv, { key: 'collectors/ring', replicationFactor: 1, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  await ring.start();
  t.teardown(() => ring.stop());
  // Every write of the ring to the store, as the other processes' watches see it.
  const seen: Array<{ state: InstanceState; tokens: number }> = [];
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  kv.watch(
    'collectors/ring',
    (v) => {
      const d = decodeDesc(v).ingesters['ing-1'];
      const last = seen[seen.length - 1];
      if (d !== undefined && (last === undefined || last.state !== d.state)) seen.push({ state: d.state, tokens: d.tokens.length });
    },
    stop.signal,
  );
  const lc = new Lifecycler(ring, { id: 'ing-1', addr: '10.0.0.1:9095', zone: '', numTokens: 8, heartbeatPeriodMs: 0, unregisterOnShutdown: () => true }, log);
  await lc.start();
  t.same(
    seen,
    [
      { state: 'PENDING', tokens: 0 },
      { state: 'JOINING', tokens: 8 },
      { state: 'ACTIVE', tokens: 8 },
    ],
    'PENDING (no tokens) is written before JOINING and ACTIVE',
  );
  // An instance found JOINING (a start that did not finish) starts over from PENDING, without tokens.
  await ring.casRing((d) => {
    d.ingesters['ing-2'] = inst('10.0.0.2:9095', [1, 2, 3], 'JOINING');
    return d;
  });
  const pending: InstanceDesc[] = [];
  kv.watch('collectors/ring', (v) => {
    const d = decodeDesc(v).ingesters['ing-2'];
    if (d?.state === 'PENDING') pending.push(d);
  }, stop.signal);
  const lc2 = new Lifecycler(ring, { id: 'ing-2', addr: '10.0.0.2:9095', zone: '', numTokens: 8, heartbeatPeriodMs: 0, unregisterOnShutdown: () => true }, log);
  await lc2.start();
  t.equal(pending.length, 1, 'registered PENDING once');
  t.same(pending[0]?.tokens, [], 'owning no tokens while PENDING');
  const d2 = ring.getDesc().ingesters['ing-2']!;
  t.equal(d2.state, 'ACTIVE');
  t.equal(d2.tokens.length, 8);
  t.ok([1, 2, 3].every((x) => d2.tokens.includes(x)), 'the tokens of the unfinished join come back');
  // A restart of an ACTIVE instance keeps its state and tokens: no PENDING.
  seen.length = 0;
  const before = ring.getDesc().ingesters['ing-1']!.tokens;
  const again = new Lifecycler(ring, { id: 'ing-1', addr: '10.0.0.1:9095', zone: '', numTokens: 8, heartbeatPeriodMs: 0, unregisterOnShutdown: () => true }, log);
  await again.start();
  t.same(seen, [{ state: 'ACTIVE', tokens: 8 }], 'a restart goes on ACTIVE');
  t.same(ring.getDesc().ingesters['ing-1']!.tokens, before);
});

t.test('replica selection skips a PENDING instance', async (t) => {
  const d = { ingesters: { a: inst('a:1', [100, 400]), p: inst('p:1', [], 'PENDING'), b: inst('b:1', [200, 500]), c: inst('c:1', [300]) } };
  const r = ringOf(d, 3);
  for (const key of [0, 150, 250, 350, 450, 600]) {
    t.notOk(
      r.get(key, WRITE).instances.some((i) => i.id === 'p'),
      `writes of ${key} skip it`,
    );
    t.notOk(
      r.get(key, READ).instances.some((i) => i.id === 'p'),
      `reads of ${key} skip it`,
    );
    t.equal(r.get(key, WRITE).instances.length, 3, 'the set is the three ACTIVE instances');
  }
  t.equal(ownership(r.getDesc()).get('p'), 0, 'it owns nothing');
  t.notOk(
    r.healthyInstances(WRITE).some((i) => i.id === 'p'),
    'not healthy for writes',
  );
  t.equal(ringOf(d, 1).ownerOf(150, ACTIVE_OWNER), 'b', 'a key owner is never a PENDING instance');
  t.notOk(
    ringOf(d, 1).healthyInstances(ACTIVE_OWNER).some((i) => i.id === 'p'),
    'nor ACTIVE for owner lookups',
  );
});

t.test('ring flags: Mimir names, defaults and the instance defaults', async (t) => {
  const c = ringConfig({ 'ingester.ring.store': 'etcd', 'ingester.ring.etcd.endpoints': 'a:2379,b:2379', 'ingester.ring.instance-id': 'i1' }, 'ingester');
  t.equal(c.store, 'etcd');
  t.same(c.etcdEndpoints, ['a:2379', 'b:2379']);
  t.equal(c.key, 'collectors/ring');
  t.equal(c.replicationFactor, 3);
  t.equal(c.numTokens, 128);
  t.equal(c.heartbeatTimeoutMs, 60_000);
  t.equal(c.instanceId, 'i1');
  t.match(c.instanceAddr, /^\d+\.\d+\.\d+\.\d+$/);
  t.throws(() => ringConfig({ 'ingester.ring.store': 'etcd' }, 'ingester'), /-ingester.ring.etcd.endpoints must be set/);
  t.throws(() => ringConfig({ 'ruler.ring.store': 'consul' }, 'ruler'), /-ruler.ring.store=consul is not supported/);
  t.equal(ringConfig({}, 'store-gateway').key, 'collectors/store-gateway');
  t.equal(ringConfig({}, 'ruler').key, 'rulers/ring');
  t.equal(ringConfig({}, 'alertmanager').key, 'alertmanagers/alertmanager');
  t.equal(ringConfig({}, 'compactor').store, 'inmemory', 'memberlist (the default) is served in memory');
  t.same(ringNames(['server', 'distributor'], false), { follow: ['distributor', 'ingester'], join: ['distributor'] });
  t.same(ringNames(['server', 'querier'], false), { follow: ['ingester', 'store-gateway'], join: [] });
  t.same(ringNames(['server', 'ingester'], false), { follow: ['ingester'], join: ['ingester'] });
  // -query-scheduler.service-discovery-mode=ring: schedulers join, frontends and queriers follow.
  t.same(ringNames(['server', 'query-scheduler'], false, true), { follow: ['query-scheduler'], join: ['query-scheduler'] });
  t.same(ringNames(['server', 'query-frontend'], false, true), { follow: ['query-scheduler'], join: [] });
  t.same(ringNames(['server', 'querier'], false, true), { follow: ['ingester', 'store-gateway', 'query-scheduler'], join: [] });
  t.same(ringNames(['server', 'querier'], true, true).join, [], 'a monolithic process is no scheduler of that ring');
});

t.test('replicasOf: block owners, kept while an owner misses heartbeats, extended past a joining one', async (t) => {
  const stale = now - 3600;
  const d = { ingesters: { a: inst('a:1', [100, 400]), b: inst('b:1', [200, 500], 'ACTIVE', '', stale), c: inst('c:1', [300, 600], 'JOINING') } };
  const r = ringOf(d, 1, false, 4_000);
  t.same(r.replicasOf(150, BLOCKS_OWNER_SYNC).map((i) => i.id), ['b'], 'an unhealthy owner keeps its share');
  t.same(r.replicasOf(250, BLOCKS_OWNER_SYNC).map((i) => i.id), ['c', 'a'], 'a JOINING owner extends the set to the next instance');
  t.throws(() => r.get(150, READ), /live replicas required/, 'get drops the unhealthy owner and wants a quorum');
  t.same(ringOf({ ingesters: {} }).replicasOf(1, BLOCKS_OWNER_SYNC), [], 'an empty ring owns nothing');
});

t.test('shuffleShardWithLookback: the shard plus whoever may hold its recent writes', async (t) => {
  const old = now - 30 * 86_400;
  const taken = new Set<number>();
  const mk = (id: string, extra: Partial<InstanceDesc> = {}): [string, InstanceDesc] => {
    const tokens = generateTokens(64, taken);
    for (const x of tokens) taken.add(x);
    return [id, { ...inst(`${id}:1`, tokens), registered_timestamp: old, ...extra }];
  };
  const base = Object.fromEntries(['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8'].map((id) => mk(id)));
  const hour = 3_600_000;
  const ids = (r: Ring): string[] => Object.keys(r.getDesc().ingesters).sort();
  const ring = ringOf({ ingesters: base });
  const write = ids(ring.shuffleShard('tenant', 3));
  t.equal(write.length, 3);
  t.same(ids(ring.shuffleShardWithLookback('tenant', 3, 13 * hour)), write, 'nothing changed within the lookback: the write shard');
  t.equal(ring.shuffleShardWithLookback('tenant', 0, 13 * hour), ring, 'size 0: the whole ring');

  // A member of the shard that joined an hour ago: included, and the shard it displaced is still read.
  const joined = write[0]!;
  const recent = ringOf({ ingesters: { ...base, [joined]: { ...base[joined]!, registered_timestamp: now - 3600 } } });
  const withJoined = ids(recent.shuffleShardWithLookback('tenant', 3, 13 * hour));
  t.equal(withJoined.length, 4, `one more instance is read (${withJoined.join(',')})`);
  t.ok(write.every((id) => withJoined.includes(id)));
  t.same(ids(recent.shuffleShardWithLookback('tenant', 3, 0.5 * hour)), write, 'joined before a shorter lookback: not extended');

  // A read-only member: still read (it holds data) and one more instance, which took its writes.
  const ro = write[1]!;
  const readOnly = ringOf({ ingesters: { ...base, [ro]: { ...base[ro]!, read_only: true, read_only_updated_timestamp: now - 60 } } });
  t.notOk(ids(readOnly.shuffleShard('tenant', 3)).includes(ro), 'writes skip it');
  const roRead = ids(readOnly.shuffleShardWithLookback('tenant', 3, 13 * hour));
  t.ok(roRead.includes(ro) && roRead.length === 4, `read with one more (${roRead.join(',')})`);
  // Read-only since before the lookback: its data is older than what ingesters are asked for.
  const longRo = ringOf({ ingesters: { ...base, [ro]: { ...base[ro]!, read_only: true, read_only_updated_timestamp: old } } });
  t.notOk(ids(longRo.shuffleShardWithLookback('tenant', 3, 13 * hour)).includes(ro));
  t.notOk(ids(longRo.shuffleShardWithLookback('tenant', 0, 13 * hour)).includes(ro), 'nor in the whole ring');
});

t.test('shuffleShard picks the instances dskit picks on the same ring', async (t) => {
  // Expected shards from dskit's Ring.shuffleShard selection loop (ring/ring.go, no lookback)
  // transcribed into a Go 1.26 program with Go's own math/rand and crypto/md5, run once on these
  // rings: n instances "ingester-<i>" (zones round-robin), token j of instance i being
  // uint32(i*0x9E3779B1 + j*0x7F4A7C15 + 12345).
  const build = (n: number, zones: string[]): RingDesc => ({
    ingesters: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`ingester-${i}`, inst(`i${i}:1`, Array.from({ length: 16 }, (_, j) => (Math.imul(i, 0x9e3779b1) + Math.imul(j, 0x7f4a7c15) + 12345) >>> 0), 'ACTIVE', zones.length > 0 ? zones[i % zones.length]! : '')]),
    ),
  });
  const ids = (r: Ring): string => Object.keys(r.getDesc().ingesters).sort().join(' ');
  const flat = ringOf(build(10, []));
  const flatWant: Record<string, string[]> = {
    'tenant-a': ['ingester-4', 'ingester-2 ingester-4 ingester-6', 'ingester-2 ingester-4 ingester-6 ingester-7 ingester-8'],
    'user-1': ['ingester-9', 'ingester-4 ingester-5 ingester-9', 'ingester-0 ingester-4 ingester-5 ingester-6 ingester-9'],
    'team-x': ['ingester-8', 'ingester-1 ingester-4 ingester-8', 'ingester-1 ingester-4 ingester-5 ingester-6 ingester-8'],
  };
  for (const [tenant, want] of Object.entries(flatWant)) [1, 3, 5].forEach((size, k) => t.equal(ids(flat.shuffleShard(tenant, size)), want[k], `${tenant}, ${size} of 10`));
  const zoned = ringOf(build(12, ['zone-a', 'zone-b', 'zone-c']), 3, true);
  const zonedWant: Record<string, string[]> = {
    'tenant-a': ['ingester-7 ingester-8 ingester-9', 'ingester-3 ingester-4 ingester-5 ingester-7 ingester-8 ingester-9', 'ingester-1 ingester-2 ingester-3 ingester-4 ingester-5 ingester-6 ingester-7 ingester-8 ingester-9'],
    'user-1': ['ingester-1 ingester-3 ingester-8', 'ingester-0 ingester-1 ingester-10 ingester-3 ingester-5 ingester-8', 'ingester-0 ingester-1 ingester-10 ingester-2 ingester-3 ingester-5 ingester-7 ingester-8 ingester-9'],
    'team-x': ['ingester-10 ingester-2 ingester-3', 'ingester-0 ingester-10 ingester-11 ingester-2 ingester-3 ingester-7', 'ingester-0 ingester-10 ingester-11 ingester-2 ingester-3 ingester-4 ingester-7 ingester-8 ingester-9'],
  };
  for (const [tenant, want] of Object.entries(zonedWant)) [3, 4, 9].forEach((size, k) => t.equal(ids(zoned.shuffleShard(tenant, size)), want[k], `${tenant}, ${size} of 12 in 3 zones`));
  t.equal(zoned.shuffleShard('tenant-a', 12), zoned, 'every instance of every zone: the ring itself');
});

t.test('ownerOf: the first instance clockwise owns a key alone, and nobody while it is unhealthy', async (t) => {
  const stale = now - 3600;
  const r = ringOf({ ingesters: { a: inst('a:1', [100, 400]), b: inst('b:1', [200]), c: inst('c:1', [300], 'ACTIVE', '', stale), d: inst('d:1', [350], 'JOINING') } }, 0, false, 4_000);
  t.equal(r.ownerOf(150, ACTIVE_OWNER), 'b');
  t.equal(r.ownerOf(450, ACTIVE_OWNER), 'a', 'past the last token wraps');
  t.equal(r.ownerOf(250, ACTIVE_OWNER), undefined, 'its owner misses heartbeats: nobody');
  t.equal(r.ownerOf(320, ACTIVE_OWNER), undefined, 'a JOINING owner does not compact yet');
  t.equal(ringOf({ ingesters: {} }).ownerOf(1, ACTIVE_OWNER), undefined);
});
