// config-api.test.ts drives the rules configuration API through a real
// server: every path family, Mimir's status codes and texts, the bucket
// layout (rules/<tenant>/<base64url ns>/<base64url group>, RuleGroupDesc
// protobuf), limits, tenant isolation, /ruler/rule_groups and
// /ruler/delete_tenant_config.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { ACCEPTED_BODY } from './config-api.js';
import { encodeKeyPart } from './rule-store.js';
import { decodeRuleGroupDesc } from './rulespb.js';

const srv = await startTestServer({ 'ruler.max-rules-per-rule-group': 3, 'ruler.max-rule-groups-per-tenant': 4 }, { storage: new FakeStorage() });
t.teardown(() => srv.close());

const req = (method: string, path: string, tenant: string | undefined, body?: string): Promise<ClientResponse> =>
  httpRequest(srv.port, path, { method, headers: tenant === undefined ? {} : { 'X-Scope-OrgID': tenant }, ...(body !== undefined ? { body } : {}) });

const GROUP = `name: my group/1
interval: 30s
rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      team: a
  - alert: InstanceDown
    expr: up == 0
    for: 5m
    keep_firing_for: 1m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.instance }} down"
`;

t.test('set, get, list and delete on every path family', async (t) => {
  const families = ['/prometheus/config/v1/rules', '/api/v1/rules', '/prometheus/rules', '/api/prom/rules'];
  for (const [i, base] of families.entries()) {
    const tenant = `fam${i}`;
    const ns = 'team a/ns%x';
    const nsPath = encodeURIComponent(ns);
    const post = await req('POST', `${base}/${nsPath}`, tenant, GROUP);
    t.equal(post.status, 202, `${base}: POST ${post.body}`);
    t.equal(post.body, ACCEPTED_BODY);
    t.match(post.headers['content-type'], /application\/json/);

    const one = await req('GET', `${base}/${nsPath}/${encodeURIComponent('my group/1')}`, tenant);
    t.equal(one.status, 200, `${base}: GET group`);
    t.match(one.headers['content-type'], /application\/yaml/);
    t.equal(
      one.body,
      `name: my group/1
interval: 30s
rules:
    - record: job:up:sum
      expr: sum by (job) (up)
      labels:
          team: a
    - alert: InstanceDown
      expr: up == 0
      for: 5m
      keep_firing_for: 1m
      labels:
          severity: page
      annotations:
          summary: '{{ $labels.instance }} down'
`,
    );
    const list = await req('GET', base, tenant);
    t.equal(list.status, 200);
    const parsed = parse(list.body) as Record<string, Array<{ name: string; rules: unknown[] }>>;
    t.same(Object.keys(parsed), [ns]);
    t.equal(parsed[ns]![0]!.name, 'my group/1');
    t.equal(parsed[ns]![0]!.rules.length, 2);
    const byNs = await req('GET', `${base}/${nsPath}`, tenant);
    t.equal(byNs.status, 200);
    t.same(parse(byNs.body), parsed);

    const del = await req('DELETE', `${base}/${nsPath}/${encodeURIComponent('my group/1')}`, tenant);
    t.equal(del.status, 202);
    t.equal(del.body, ACCEPTED_BODY);
    const gone = await req('GET', `${base}/${nsPath}/${encodeURIComponent('my group/1')}`, tenant);
    t.equal(gone.status, 404);
    t.equal(gone.body, 'group does not exist\n');
    const again = await req('DELETE', `${base}/${nsPath}/${encodeURIComponent('my group/1')}`, tenant);
    t.equal(again.status, 404);
    const empty = await req('GET', base, tenant);
    t.equal(empty.status, 200, 'no groups: 200 with an empty map, as Mimir');
    t.equal(empty.body, '{}\n');
  }
});

t.test('bucket layout is Mimir rule store layout', async (t) => {
  const r = await req('POST', '/prometheus/config/v1/rules/ns1', 'layout', GROUP);
  t.equal(r.status, 202);
  const file = join(srv.dir, 'ruler', 'rules', 'layout', encodeKeyPart('ns1'), encodeKeyPart('my group/1'));
  t.equal(encodeKeyPart('my group/1'), 'bXkgZ3JvdXAvMQ==', 'base64 URL alphabet with padding');
  t.ok(existsSync(file), file);
  const g = decodeRuleGroupDesc(readFileSync(file));
  t.equal(g.user, 'layout');
  t.equal(g.namespace, 'ns1');
  t.equal(g.intervalMs, 30_000);
  t.equal(g.rules[1]!.alert, 'InstanceDown');
  t.equal(g.rules[1]!.forMs, 300_000);
  t.equal(g.rules[1]!.keepFiringForMs, 60_000);
  t.same(g.rules[1]!.annotations, { summary: '{{ $labels.instance }} down' });
});

t.test('validation: Mimir texts and 400s', async (t) => {
  const cases: Array<[string, string | RegExp]> = [
    ['name: [', 'unable to decode rule group\n'],
    ['name: g\nrules: 5\n', 'unable to decode rule group\n'],
    ['name: g\ninterval: 5x\nrules: []\n', 'unable to decode rule group\n'],
    ['rules:\n  - record: a\n    expr: up\n', 'invalid rules configuration: rule group name must not be empty\n'],
    ['name: g\nrules: []\n', "invalid rules configuration: rule group 'g' has no rules\n"],
    [
      'name: g\nsource_tenants: [a, b]\nrules:\n  - record: a\n    expr: up\n',
      "invalid rules configuration: rule group 'g' is a federated rule group, but rules federation is disabled; please contact your service administrator to have it enabled\n",
    ],
    ['name: g\nrules:\n  - record: a\n    expr: sum(up\n', /^4:11: group "g", rule 0, "a": could not parse expression: 1:7: parse error: unclosed left parenthesis\n$/],
    ['name: g\nrules:\n  - record: a\n    alert: b\n    expr: up\n', `3:13: 4:12: group "g", rule 0, "b": only one of 'record' and 'alert' must be set\n`],
    ['name: g\nrules:\n  - expr: up\n', `0:0: 0:0: group "g", rule 0, "": one of 'record' or 'alert' must be set\n`],
    ['name: g\nrules:\n  - record: a{b="c"}\n    expr: up\n', /braces present in the recording rule name; should it be in expr\?: a\{b="c"\}/],
    ['name: g\nrules:\n  - record: a\n    expr: up\n    for: 1m\n', `3:13: group "g", rule 0, "a": invalid field 'for' in recording rule\n`],
    ['name: g\nrules:\n  - alert: a\n    expr: up\n    labels:\n      __name__: x\n', 'group "g", rule 0, "a": invalid label name: __name__\n'],
    [
      'name: g\nrules:\n  - record: a\n    expr: up\n  - record: b\n    expr: up\n  - record: c\n    expr: up\n  - record: d\n    expr: up\n',
      'per-user rules per rule group limit (limit: 3 actual: 4) exceeded\n',
    ],
  ];
  for (const [body, want] of cases) {
    const r = await req('POST', '/prometheus/config/v1/rules/ns', 'val', body);
    t.equal(r.status, 400, body);
    if (typeof want === 'string') t.equal(r.body, want, body);
    else t.match(r.body, want, body);
  }
  const list = await req('GET', '/prometheus/config/v1/rules', 'val');
  t.equal(list.body, '{}\n', 'nothing rejected was stored');
});

t.test('rule groups per tenant limit', async (t) => {
  for (let i = 0; i < 4; i++) {
    const r = await req('POST', '/prometheus/config/v1/rules/ns', 'lim', `name: g${i}\nrules:\n  - record: a\n    expr: up\n`);
    t.equal(r.status, 202);
  }
  const r = await req('POST', '/prometheus/config/v1/rules/ns', 'lim', 'name: g9\nrules:\n  - record: a\n    expr: up\n');
  t.equal(r.status, 400);
  t.equal(r.body, 'per-user rule groups limit (limit: 4 actual: 5) exceeded\n');
});

t.test('tenants are isolated; auth required', async (t) => {
  t.equal((await req('POST', '/prometheus/config/v1/rules/shared', 'iso-a', GROUP)).status, 202);
  t.equal((await req('GET', '/prometheus/config/v1/rules', 'iso-b')).body, '{}\n');
  t.equal((await req('GET', `/prometheus/config/v1/rules/shared/${encodeURIComponent('my group/1')}`, 'iso-b')).status, 404);
  t.equal((await req('DELETE', '/prometheus/config/v1/rules/shared', 'iso-b')).status, 404);
  t.equal((await req('GET', '/prometheus/config/v1/rules', undefined)).status, 401);
  t.equal((await req('POST', '/prometheus/config/v1/rules/x', undefined, GROUP)).status, 401);
});

t.test('delete namespace, rule_groups and delete_tenant_config', async (t) => {
  t.equal((await req('POST', '/prometheus/config/v1/rules/n1', 'del', GROUP)).status, 202);
  t.equal((await req('POST', '/prometheus/config/v1/rules/n2', 'del', GROUP.replace('my group/1', 'other'))).status, 202);
  const all = await req('GET', '/ruler/rule_groups', undefined);
  t.equal(all.status, 200);
  const doc = parse(all.body) as Record<string, Record<string, Array<{ name: string }>>>;
  t.same(Object.keys(doc.del!).sort(), ['n1', 'n2']);
  t.equal(doc.del!.n2![0]!.name, 'other');
  const dn = await req('DELETE', '/prometheus/config/v1/rules/n1', 'del');
  t.equal(dn.status, 202);
  const dn2 = await req('DELETE', '/prometheus/config/v1/rules/n1', 'del');
  t.equal(dn2.status, 404);
  t.equal(dn2.body, 'group namespace does not exist\n');
  t.same(Object.keys(parse((await req('GET', '/prometheus/config/v1/rules', 'del')).body) as object), ['n2']);
  const dt = await req('POST', '/ruler/delete_tenant_config', 'del');
  t.equal(dt.status, 200);
  t.equal((await req('GET', '/prometheus/config/v1/rules', 'del')).body, '{}\n');
  t.equal((await req('POST', '/ruler/delete_tenant_config', 'nobody')).status, 200, 'no groups: still 200');
  t.equal((await req('POST', '/ruler/delete_tenant_config', undefined)).status, 401);
});

t.test('ruler ring and buildinfo feature', async (t) => {
  const ring = await req('GET', '/ruler/ring', undefined);
  t.equal(ring.status, 200);
  t.match(ring.body, /ACTIVE/);
  const info = jsonOf<{ data: { features: Record<string, string> } }>(await req('GET', '/prometheus/api/v1/status/buildinfo', undefined));
  t.equal(info.data.features.ruler_config_api, 'true');
});

t.test('-ruler.enable-api=false removes the configuration API only', async (t) => {
  const off = await startTestServer({ 'ruler.enable-api': false }, { storage: new FakeStorage() });
  t.teardown(() => off.close());
  const call = (method: string, path: string): Promise<ClientResponse> => httpRequest(off.port, path, { method, headers: { 'X-Scope-OrgID': 'x' } });
  t.equal((await call('GET', '/prometheus/config/v1/rules')).status, 404);
  t.equal((await call('GET', '/prometheus/api/v1/rules')).status, 200, 'the read API stays');
  t.equal((await call('POST', '/ruler/delete_tenant_config')).status, 200, 'the internal endpoints stay');
  t.equal((await call('GET', '/ruler/rule_groups')).status, 200);
});

t.test('a tenant without rules: `{}` on every list path, 404 for a group, empty read API (as current Mimir)', async (t) => {
  const tenant = 'never-had-rules';
  for (const base of ['/prometheus/config/v1/rules', '/api/v1/rules', '/prometheus/rules', '/api/prom/rules']) {
    for (const path of [base, `${base}/no-such-namespace`]) {
      const res = await req('GET', path, tenant);
      t.equal(res.status, 200, `GET ${path}`);
      t.equal(res.body, '{}\n', `GET ${path}: an empty map`);
      t.match(res.headers['content-type'], /^application\/yaml/);
    }
    const group = await req('GET', `${base}/no-such-namespace/no-such-group`, tenant);
    t.equal(group.status, 404, `GET ${base}/ns/group`);
    t.equal(group.body, 'group does not exist\n');
    const delGroup = await req('DELETE', `${base}/no-such-namespace/no-such-group`, tenant);
    t.equal(delGroup.status, 404, `DELETE ${base}/ns/group`);
    const delNs = await req('DELETE', `${base}/no-such-namespace`, tenant);
    t.equal(delNs.status, 404, `DELETE ${base}/ns`);
    t.equal(delNs.body, 'group namespace does not exist\n');
  }
  for (const path of ['/prometheus/api/v1/rules', '/api/prom/api/v1/rules']) {
    const res = await req('GET', path, tenant);
    t.equal(res.status, 200, path);
    t.same(jsonOf<{ status: string; data: { groups: unknown[] } }>(res), { status: 'success', data: { groups: [] } }, path);
  }
  const alerts = await req('GET', '/prometheus/api/v1/alerts', tenant);
  t.equal(alerts.status, 200);
  t.same(jsonOf<{ data: { alerts: unknown[] } }>(alerts).data.alerts, []);
});
