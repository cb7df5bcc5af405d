// etcd.test.ts runs the rings on a real etcd (Debian `etcd-server`, started
// on loopback): the v3 JSON gateway client (CAS under contention, watch,
// members), lifecyclers of separate "processes" sharing one ring, heartbeat
// timeouts, a server whose rings live in etcd, and an etcd restart. Under CI a
// missing etcd fails the test.

import t from 'tap';
import { ETCD, failIfMissing, skipUnless } from '../../test/peer/lib/binary.js';
import { startEtcd, type EtcdProcess } from '../../test/peer/lib/etcd.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { log } from '../log.js';
import { EtcdClient } from './kv.js';
import { Lifecycler } from './lifecycler.js';
import { WRITE } from './model.js';
import { Ring } from './ring.js';

const quiet = log.with({ test: 'etcd' });

/** waitFor polls cond every 50 ms for up to ms (bounded). */
async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

t.test('rings on etcd', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const etcd: EtcdProcess = await startEtcd();
  t.teardown(() => etcd.stop());
  const client = new EtcdClient([etcd.endpoint], { dialTimeoutMs: 2_000, maxRetries: 3, log: quiet });

  t.test('the KV client', async (t) => {
    t.equal(await client.get('absent'), undefined);
    await client.cas('k', () => 'v1');
    t.equal(await client.get('k'), 'v1');
    // Contended compare-and-swap: every increment lands.
    await client.cas('n', () => '0');
    await Promise.all(Array.from({ length: 10 }, () => client.cas('n', (cur) => String(Number(cur) + 1))));
    t.equal(await client.get('n'), '10', 'ten concurrent increments');
    t.equal(await client.cas('k', () => undefined), undefined, 'no change asked: nothing written');
    const seen: Array<string | undefined> = [];
    const ac = new AbortController();
    client.watch('w', (v) => seen.push(v), ac.signal);
    t.teardown(() => ac.abort());
    await new Promise((r) => setTimeout(r, 200));
    await client.cas('w', () => 'first');
    await client.cas('w', () => 'second');
    t.ok(await waitFor(() => seen.includes('second')), `the watch sees the updates (${JSON.stringify(seen)})`);
    await client.delete('w');
    t.ok(await waitFor(() => seen[seen.length - 1] === undefined), 'and the delete');
    t.same(await client.keys('k'), ['k']);
    const st = await client.status();
    t.equal(st.store, 'etcd');
    t.equal(st.members.length, 1);
    t.equal(st.members[0]!.name, 'default');
    t.match(st.version, /^3\./);
  });

  t.test('lifecyclers of three processes share one ring', async (t) => {
    const key = 'collectors/ring-test';
    const rings = [0, 1, 2].map(() => new Ring(new EtcdClient([etcd.endpoint], { dialTimeoutMs: 2_000, maxRetries: 3, log: quiet }), { key, replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 2_000, resyncMs: 200 }, quiet));
    for (const r of rings) await r.start();
    t.teardown(() => rings.forEach((r) => r.stop()));
    const lcs = rings.map((r, i) => new Lifecycler(r, { id: `ing-${i}`, addr: `127.0.0.1:${9000 + i}`, zone: '', numTokens: 32, heartbeatPeriodMs: 300, unregisterOnShutdown: () => true }, quiet));
    await Promise.all(lcs.map((l) => l.start()));
    t.teardown(() => Promise.all(lcs.map((l) => l.stop())));
    // Every view converges on three ACTIVE members with 32 tokens each (the joins raced on CAS).
    t.ok(await waitFor(() => rings.every((r) => Object.values(r.getDesc().ingesters).filter((i) => i.state === 'ACTIVE' && i.tokens.length === 32).length === 3)), 'three members in every view');
    const set = rings[0]!.get(12345, WRITE);
    t.equal(set.instances.length, 3);
    // One process stops heartbeating (as when killed): after the timeout it is unhealthy and a write needs the other two.
    await lcs[2]!.stop();
    await rings[2]!.casRing((d) => {
      d.ingesters['ing-2'] = { addr: '127.0.0.1:9002', timestamp: Math.floor(Date.now() / 1000) - 10, state: 'ACTIVE', tokens: [1, 2, 3], zone: '', registered_timestamp: 0, read_only: false, read_only_updated_timestamp: 0 };
      return d;
    });
    t.ok(await waitFor(() => rings[0]!.getDesc().ingesters['ing-2']?.tokens.length === 3), 'the stale entry is seen');
    const after = rings[0]!.get(2, WRITE);
    t.same(after.instances.map((i) => i.id).sort(), ['ing-0', 'ing-1'], 'the stale instance is skipped');
    t.equal(after.maxErrors, 0);
  });

  t.test('a server with its rings in etcd, across an etcd restart', async (t) => {
    const flags = {
      'ingester.ring.store': 'etcd',
      'ingester.ring.etcd.endpoints': etcd.endpoint,
      'ingester.ring.instance-id': 'ingester-a',
      'ingester.ring.instance-addr': '127.0.0.1',
      'ingester.ring.heartbeat-period': 200,
      'distributor.ring.store': 'etcd',
      'distributor.ring.etcd.endpoints': etcd.endpoint,
      'distributor.ring.instance-id': 'distributor-a',
    };
    const srv = await startTestServer(flags);
    t.teardown(() => srv.close());
    const ring = jsonOf<{ shards: Array<{ id: string; state: string; address: string; tokens: number[] }> }>(await httpRequest(srv.port, '/ingester/ring', { headers: { Accept: 'application/json' } }));
    t.same(
      ring.shards.map((s) => [s.id, s.state, s.address, s.tokens.length]),
      [['ingester-a', 'ACTIVE', '127.0.0.1:9095', 128]],
    );
    // It is in etcd, under Mimir's key.
    const stored = JSON.parse((await client.get('collectors/ring')) ?? '{}') as { ingesters?: Record<string, unknown> };
    t.ok(stored.ingesters?.['ingester-a'] !== undefined, 'stored under collectors/ring');
    t.ok((await client.get('collectors/distributor'))?.includes('distributor-a'), 'the distributor ring too');
    // /memberlist shows the etcd cluster.
    const ml = jsonOf<{ store: string; members: Array<{ name: string }>; keys: string[] }>(await httpRequest(srv.port, '/memberlist', { headers: { Accept: 'application/json' } }));
    t.equal(ml.store, 'etcd');
    t.same(
      ml.members.map((m) => m.name),
      ['default'],
    );
    t.ok(ml.keys.includes('collectors/ring'));
    // An instance whose heartbeat is older than -ingester.ring.heartbeat-timeout shows UNHEALTHY.
    await client.cas('collectors/ring', (cur) => {
      const d = JSON.parse(cur ?? '{"ingesters":{}}') as { ingesters: Record<string, unknown> };
      d.ingesters['ingester-dead'] = { addr: '127.0.0.1:1', timestamp: Math.floor(Date.now() / 1000) - 120, state: 'ACTIVE', tokens: [7], zone: '', registered_timestamp: 0, read_only: false, read_only_updated_timestamp: 0 };
      return JSON.stringify(d);
    });
    const withDead = jsonOf<{ shards: Array<{ id: string; state: string }> }>(await httpRequest(srv.port, '/ingester/ring', { headers: { Accept: 'application/json' } }));
    t.same(
      withDead.shards.map((s) => [s.id, s.state]),
      [
        ['ingester-a', 'ACTIVE'],
        ['ingester-dead', 'UNHEALTHY'],
      ],
    );
    t.match((await httpRequest(srv.port, '/ingester/ring')).body, /<td>ingester-dead<\/td>\n<td><\/td>\n<td>UNHEALTHY<\/td>/);
    const forgetDead = await httpRequest(srv.port, '/ingester/ring', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'forget=ingester-dead' });
    t.equal(forgetDead.status, 302);
    t.notOk((await client.get('collectors/ring'))?.includes('ingester-dead'), 'the dead instance is forgotten for good');
    // Forget: gone from etcd, back at the next heartbeat (the instance is alive).
    const forget = await httpRequest(srv.port, '/ingester/ring', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'forget=ingester-a' });
    t.equal(forget.status, 302);
    t.equal(forget.headers['location'], '#');
    t.ok(await waitFor(async () => (await client.get('collectors/ring'))?.includes('ingester-a') === true, 5_000), 'the live instance registers again');
    // etcd restarts: heartbeats resume and the ring page answers.
    await etcd.restart();
    const before = Date.now();
    t.ok(
      await waitFor(async () => {
        const d = JSON.parse((await client.get('collectors/ring').catch(() => undefined)) ?? '{}') as { ingesters?: Record<string, { timestamp: number }> };
        return (d.ingesters?.['ingester-a']?.timestamp ?? 0) * 1000 >= before - 1000;
      }, 10_000),
      'heartbeats land after the restart',
    );
    const page = await httpRequest(srv.port, '/ingester/ring');
    t.equal(page.status, 200);
    t.match(page.body, /ingester-a/);
    await srv.close();
    t.notOk((await client.get('collectors/ring'))?.includes('ingester-a'), 'unregistered on shutdown');
  });
});
