// overrides-exporter.test.ts runs -target=overrides-exporter with a runtime
// configuration file: /metrics shows each overridden tenant's limits and the
// defaults, follows the file when it is reloaded, -overrides-exporter.enabled-metrics
// picks the limits, and -target=all does not run the exporter (as Mimir).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { UNMATCHED_HEADER } from '../server/http.js';
import { Registry } from 'prom-client';
import { defaultValues } from '../config/parse.js';
import { log } from '../log.js';
import { InMemoryKv } from '../ring/kv.js';
import { Rings, ringNamesFor } from '../ring/module.js';
import { pageFor } from '../ring/routes.js';
import { OverridesExporter, enabledLimits, ringLeader } from './overrides-exporter.js';

/** series returns the samples of one metric family in a /metrics text, keyed by their label text. */
function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m !== null) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function metrics(port: number): Promise<string> {
  return (await httpRequest(port, '/metrics')).body;
}

t.test('-target=overrides-exporter exports overrides and defaults, and follows reloads', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'runtime.yaml');
  writeFileSync(file, 'overrides:\n  tenant-a:\n    ingestion_rate: 5\n    max_global_series_per_user: 7\n');
  const srv = await startTestServer(
    { target: 'overrides-exporter', 'runtime-config.file': file, 'runtime-config.reload-period': 100, 'distributor.ingestion-rate-limit': 123 },
    { storage: new FakeStorage() },
  );
  t.teardown(() => srv.close());

  const first = await metrics(srv.port);
  const defaults = series(first, 'cortex_limits_defaults');
  t.equal(defaults.size, 10, 'the ten default limits');
  t.equal(defaults.get('limit_name="ingestion_rate"'), 123, 'defaults follow the flags');
  t.equal(defaults.get('limit_name="ingestion_burst_size"'), 200000);
  t.equal(defaults.get('limit_name="ruler_max_rule_groups_per_tenant"'), 70);
  t.equal(defaults.get('limit_name="max_fetched_chunks_per_query"'), 2_000_000);
  const overrides = series(first, 'cortex_limits_overrides');
  t.equal(overrides.size, 10, "every enabled limit of the one overridden tenant");
  t.equal(overrides.get('limit_name="ingestion_rate",user="tenant-a"'), 5);
  t.equal(overrides.get('limit_name="max_global_series_per_user",user="tenant-a"'), 7);
  t.equal(overrides.get('limit_name="ingestion_burst_size",user="tenant-a"'), 200000, 'what the tenant does not override is the default');
  t.match(first, /# HELP cortex_limits_overrides Resource limit overrides applied to tenants/);
  t.match(first, /# TYPE cortex_limits_defaults gauge/);

  // A reload changes the metrics at the next scrape; a tenant gone from the file leaves them.
  writeFileSync(file, 'overrides:\n  tenant-b:\n    ingestion_rate: 9\n');
  let after = new Map<string, number>();
  for (let i = 0; i < 50; i++) {
    after = series(await metrics(srv.port), 'cortex_limits_overrides');
    if (after.has('limit_name="ingestion_rate",user="tenant-b"')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(after.get('limit_name="ingestion_rate",user="tenant-b"'), 9);
  t.notOk([...after.keys()].some((k) => k.includes('tenant-a')), 'tenant-a is gone');

  const ring = await httpRequest(srv.port, '/overrides-exporter/ring');
  t.equal(ring.status, 200);
  t.match(ring.body, /Overrides-exporter hash ring is disabled\./);
  t.match((await httpRequest(srv.port, '/services', { headers: { Accept: 'text/plain' } })).body, /overrides-exporter: Running/);
});

t.test('-overrides-exporter.enabled-metrics', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'runtime.yaml');
  writeFileSync(file, 'overrides:\n  t1:\n    ingestion_rate: 1\n');
  const srv = await startTestServer(
    { target: 'overrides-exporter', 'runtime-config.file': file, 'overrides-exporter.enabled-metrics': 'request_rate,ingestion_artificial_delay_msec' },
    { storage: new FakeStorage() },
  );
  t.teardown(() => srv.close());
  const text = await metrics(srv.port);
  t.same([...series(text, 'cortex_limits_defaults').keys()].sort(), ['limit_name="ingestion_artificial_delay_msec"', 'limit_name="request_rate"']);
  const o = series(text, 'cortex_limits_overrides');
  t.equal(o.size, 2);
  t.equal(o.get('limit_name="request_rate",user="t1"'), 0, 'a limit this server does not have shows Mimir\'s default');
  t.equal(o.get('limit_name="ingestion_artificial_delay_msec",user="t1"'), 0);
  await t.rejects(
    startTestServer({ target: 'overrides-exporter', 'overrides-exporter.enabled-metrics': 'ingestion_rate,nope' }, { storage: new FakeStorage() }),
    /enabled-metrics: unknown metric name 'nope'/,
  );
});

t.test('-target=all,overrides-exporter runs it beside the rest', async (t) => {
  const srv = await startTestServer({ target: 'all,overrides-exporter' }, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  t.equal(series(await metrics(srv.port), 'cortex_limits_defaults').size, 10);
  t.equal((await httpRequest(srv.port, '/overrides-exporter/ring')).status, 200);
  t.equal((await httpRequest(srv.port, '/api/v1/labels', { headers: { 'X-Scope-OrgID': 'x' } })).status, 200, 'the querier runs too');
});

t.test('-target=all does not run the exporter', async (t) => {
  const srv = await startTestServer({}, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  t.notMatch(await metrics(srv.port), /cortex_limits_(overrides|defaults)/);
  const ring = await httpRequest(srv.port, '/overrides-exporter/ring');
  t.equal(ring.status, 404);
  t.equal(ring.headers[UNMATCHED_HEADER.toLowerCase()], 'true');
});

const quiet = log.with({ test: 'overrides-exporter-ring' });

/** exporterOf is one overrides-exporter process of the ring test: its rings on the shared store, joined, and its metrics. */
async function exporterOf(kv: InMemoryKv, id: string, addr: string): Promise<{ rings: Rings; text: () => Promise<string> }> {
  const values = defaultValues();
  values.set('overrides-exporter.ring.enabled', true);
  values.set('overrides-exporter.ring.instance-id', id);
  values.set('overrides-exporter.ring.instance-addr', addr);
  values.set('overrides-exporter.ring.heartbeat-period', 0);
  const rings = new Rings({ values, ...ringNamesFor(['overrides-exporter'], false, false, true), log: quiet, inMemoryKv: kv });
  await rings.start();
  await rings.join(9095);
  const member = rings.get('overrides-exporter')!;
  const registry = new Registry();
  const source = { overriddenTenants: () => ['t1'], values: () => values };
  new OverridesExporter(source, values, enabledLimits('ingestion_rate'), registry, { isLeader: ringLeader(member, quiet), page: pageFor(rings, 'overrides-exporter')! });
  return { rings, text: () => registry.metrics() };
}

t.test('-overrides-exporter.ring.enabled: two exporters on one ring, only the leader exports', async (t) => {
  const kv = new InMemoryKv();
  const a = await exporterOf(kv, 'exporter-a', '10.0.0.1');
  const b = await exporterOf(kv, 'exporter-b', '10.0.0.2');
  t.teardown(async () => {
    await a.rings.stop();
    await b.rings.stop();
  });
  await a.rings.get('overrides-exporter')!.ring.refresh();
  await b.rings.get('overrides-exporter')!.ring.refresh();
  const desc = a.rings.get('overrides-exporter')!.ring.getDesc();
  t.same(Object.keys(desc.ingesters).sort(), ['exporter-a', 'exporter-b']);
  t.ok(Object.values(desc.ingesters).every((i) => i.tokens.length === 1 && i.state === 'ACTIVE'), 'one token each, ACTIVE');
  // The leader owns token 0: the instance with the smallest token (the first one above 0).
  const leaderId = Object.entries(desc.ingesters).sort((x, y) => x[1].tokens[0]! - y[1].tokens[0]!)[0]![0];
  const [leader, follower] = leaderId === 'exporter-a' ? [a, b] : [b, a];
  const lt = await leader.text();
  t.equal(series(lt, 'cortex_limits_overrides').get('limit_name="ingestion_rate",user="t1"'), 10000, 'the leader exports the overrides');
  t.equal(series(lt, 'cortex_limits_defaults').size, 1, 'and the defaults');
  const ft = await follower.text();
  t.equal(series(ft, 'cortex_limits_overrides').size, 0, 'the other exports no overrides');
  t.equal(series(ft, 'cortex_limits_defaults').size, 0, 'nor defaults');

  // A stopping leader stays LEAVING and keeps leading nobody (its own exporter stops); once forgotten, the other leads.
  await leader.rings.leave('overrides-exporter');
  await follower.rings.get('overrides-exporter')!.ring.refresh();
  t.equal(follower.rings.get('overrides-exporter')!.ring.getDesc().ingesters[leaderId]?.state, 'LEAVING', 'kept in the ring on shutdown, LEAVING');
  t.equal(series(await follower.text(), 'cortex_limits_overrides').size, 0, 'a LEAVING leader keeps its place');
  t.equal(series(await leader.text(), 'cortex_limits_overrides').size, 0, 'and exports no more itself');
  await follower.rings.get('overrides-exporter')!.ring.casRing((d) => {
    delete d.ingesters[leaderId];
    return d;
  });
  await new Promise((r) => setTimeout(r, 1_100)); // the replica-set cache
  t.equal(series(await follower.text(), 'cortex_limits_overrides').get('limit_name="ingestion_rate",user="t1"'), 10000, 'the remaining exporter leads');
});

t.test('the exporter ring forgets a member that stopped heartbeating', async (t) => {
  const kv = new InMemoryKv();
  const a = await exporterOf(kv, 'exporter-a', '10.0.0.1');
  t.teardown(() => a.rings.stop());
  const member = a.rings.get('overrides-exporter')!;
  await member.ring.casRing((d) => {
    d.ingesters['gone'] = { ...d.ingesters['exporter-a']!, addr: '10.0.0.9:9095', tokens: [1], timestamp: Math.floor(Date.now() / 1000) - 5 * 60 };
    d.ingesters['recent'] = { ...d.ingesters['exporter-a']!, addr: '10.0.0.8:9095', tokens: [2], timestamp: Math.floor(Date.now() / 1000) - 3 * 60 };
    return d;
  });
  await member.lifecycler!.heartbeat();
  t.same(Object.keys(member.ring.getDesc().ingesters).sort(), ['exporter-a', 'recent'], 'unhealthy for over 4 heartbeat timeouts (4m): forgotten');
});

t.test('-overrides-exporter.ring.enabled: /overrides-exporter/ring is the ring page', async (t) => {
  const srv = await startTestServer(
    { target: 'overrides-exporter', 'overrides-exporter.ring.enabled': true, 'overrides-exporter.ring.instance-id': 'exp-1', 'overrides-exporter.ring.instance-addr': '10.1.2.3' },
    { storage: new FakeStorage() },
  );
  t.teardown(() => srv.close());
  const json = await httpRequest(srv.port, '/overrides-exporter/ring', { headers: { Accept: 'application/json' } });
  const page = JSON.parse(json.body) as { shards: Array<{ id: string; state: string; address: string; tokens: number[] }> };
  t.same(page.shards.map((s) => [s.id, s.state, s.address, s.tokens.length]), [['exp-1', 'ACTIVE', '10.1.2.3:9095', 1]]);
  const html = await httpRequest(srv.port, '/overrides-exporter/ring');
  t.match(html.body, /<button name="forget" value="exp-1" type="submit">Forget<\/button>/);
  t.notMatch(html.body, /hash ring is disabled/);
  t.equal(series(await metrics(srv.port), 'cortex_limits_defaults').size, 10, 'the only member leads and exports');
});
