// export.test.ts checks that every export can be provisioned back: objects
// made through the API are exported as json, yaml and hcl, the files are
// given to a second server (-grafana-provisioning.alerting-dir), and its
// exports are identical, for each format and object kind.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const P = '/api/v1/provisioning';
const dir = mkdtempSync(join(tmpdir(), 'prov-export-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const first = await startTestServer({}, { storage: new FakeStorage() });
const call = async (port: number, method: string, path: string, org: string, body?: unknown): Promise<{ status: number; body: string; headers: Record<string, unknown> }> =>
  httpRequest(port, P + path, { method, headers: { 'X-Scope-OrgID': org, 'Content-Type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

async function must(p: Promise<{ status: number; body: string }>, status: number): Promise<void> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.body}`);
}

const org = '1';
await must(call(first.port, 'POST', '/mute-timings', org, { name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'], location: 'UTC' }, { times: [{ start_time: '00:00', end_time: '06:00' }] }] }), 201);
await must(call(first.port, 'POST', '/contact-points', org, { uid: 'hook-1', name: 'ops "team"', type: 'webhook', settings: { url: 'http://127.0.0.1:9/x', httpMethod: 'PUT', password: 'p${w}d' }, disableResolveMessage: true }), 202);
await must(call(first.port, 'POST', '/contact-points', org, { uid: 'mail-1', name: 'ops "team"', type: 'email', settings: { addresses: 'a@example.com;b@example.com', singleEmail: true } }), 202);
await must(
  call(first.port, 'PUT', '/policies', org, {
    receiver: 'ops "team"',
    group_by: ['alertname', 'grafana_folder'],
    group_wait: '15s',
    routes: [{ receiver: 'grafana-default-email', object_matchers: [['severity', '=~', 'crit|page'], ['team', '!=', 'x']], mute_time_intervals: ['weekends'], continue: true, routes: [{ receiver: 'ops "team"', repeat_interval: '2h' }] }],
  }),
  202,
);
const data = [
  { refId: 'A', relativeTimeRange: { from: 900, to: 60 }, datasourceUid: 'mimir', model: { expr: 'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))', refId: 'A', intervalMs: 1000 } },
  { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'mean', settings: { mode: 'dropNN' }, refId: 'B' } },
  { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'outside_range', params: [1, 5.5] } }], refId: 'C' } },
];
await must(
  call(first.port, 'PUT', '/folder/svc/rule-groups/errors', org, {
    interval: 120,
    rules: [
      { uid: 'r-err', title: 'Errors ${high}', condition: 'C', data, noDataState: 'OK', execErrState: 'Alerting', for: '3m', keep_firing_for: '1m', annotations: { summary: 'job {{ $labels.job }}: {{ $values.B }}\nsecond line %{x}', runbook: 'http://r/1' }, labels: { severity: 'page' }, isPaused: false },
      { uid: 'r-paused', title: 'Paused', condition: 'C', data, noDataState: 'KeepLast', execErrState: 'Error', for: '0s', isPaused: true, notification_settings: { receiver: 'ops "team"', group_by: ['alertname'], group_wait: '5s', mute_time_intervals: ['weekends'] } },
    ],
  }),
  200,
);
await must(call(first.port, 'PUT', '/folder/other/rule-groups/g', org, { interval: 60, rules: [{ uid: 'r-3', title: 'three', condition: 'A', data: [data[0]], for: '1h' }, { uid: 'r-rec', title: 'recorded', record: { metric: 'job:errors:rate5m', from: 'A' }, data: [data[0]], labels: { kind: 'rec' } }] }), 200);

const KINDS: Array<[string, string]> = [
  ['1-mute', '/mute-timings/export'],
  ['2-contacts', '/contact-points/export?decrypt=true'],
  ['3-policies', '/policies/export'],
  ['4-rules', '/alert-rules/export'],
];
const FORMATS: Array<[string, string]> = [
  ['json', 'json'],
  ['yaml', 'yaml'],
  ['hcl', 'tf'],
];
const exported = new Map<string, string>();
for (const [format, ext] of FORMATS) {
  const target = `org-${format}`;
  mkdirSync(join(dir, target), { recursive: true });
  for (const [kind, path] of KINDS) {
    const r = await call(first.port, 'GET', `${path}${path.includes('?') ? '&' : '?'}format=${format}`, org);
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
    exported.set(`${format} ${kind}`, r.body);
    writeFileSync(join(dir, target, `${kind}.${ext}`), r.body);
  }
}
await first.close();

const second = await startTestServer({ 'grafana-provisioning.alerting-dir': dir }, { storage: new FakeStorage() });
t.teardown(() => second.close());

for (const [format] of FORMATS) {
  for (const [kind, path] of KINDS) {
    t.test(`${format} ${kind}: export -> provision -> export is identical`, async (t) => {
      const r = await call(second.port, 'GET', `${path}${path.includes('?') ? '&' : '?'}format=${format}`, `org-${format}`);
      t.equal(r.status, 200);
      const before = exported.get(`${format} ${kind}`)!;
      t.ok(before.length > 50, 'the export is not empty');
      t.equal(r.body, before);
    });
  }
}

t.test('provisioned objects carry provenance file', async (t) => {
  const rules = jsonOf<Array<Record<string, unknown>>>(await httpRequest(second.port, `${P}/alert-rules`, { headers: { 'X-Scope-OrgID': 'org-yaml' } }));
  t.same(rules.map((r) => [r.uid, r.provenance]).sort(), [
    ['r-3', 'file'],
    ['r-err', 'file'],
    ['r-paused', 'file'],
    ['r-rec', 'file'],
  ]);
  t.same(
    rules.find((r) => r.uid === 'r-rec')?.record,
    { metric: 'job:errors:rate5m', from: 'A', target_datasource_uid: 'mimir' },
    'a recording rule keeps its record through export and provisioning',
  );
  // The API cannot change what a file manages.
  const r = await call(second.port, 'DELETE', '/alert-rules/r-3', 'org-yaml');
  t.equal(r.status, 403);
  const tree = jsonOf<Record<string, unknown>>(await httpRequest(second.port, `${P}/policies`, { headers: { 'X-Scope-OrgID': 'org-hcl' } }));
  t.equal(tree.provenance, 'file');
});

t.test('hcl contact points use the Terraform provider attribute names', async (t) => {
  const hcl = exported.get('hcl 2-contacts')!;
  t.match(hcl, /resource "grafana_contact_point" "contact_point_[0-9a-f]+" \{/);
  t.match(hcl, /\n\s+http_method\s+= "PUT"\n/);
  t.match(hcl, /\n\s+basic_auth_password\s+= "p\$\$\{w\}d"\n/, 'HCL template sequences escaped');
  t.notMatch(hcl, /httpMethod|"password"|\bpassword\s+=/);
});
