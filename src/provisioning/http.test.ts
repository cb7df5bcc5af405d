// http.test.ts drives Grafana's alerting provisioning API through a real
// server: every method/path pair, Grafana's status codes and bodies,
// validation texts, provenance and X-Disable-Provenance, version checks,
// organisation isolation, and persistence across a restart.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer, type TestServer } from '../testing/server.js';

const rulerDir = mkdtempSync(join(tmpdir(), 'prov-ruler-'));
t.teardown(() => rmSync(rulerDir, { recursive: true, force: true }));
let srv: TestServer = await startTestServer({ 'ruler-storage.filesystem.dir': rulerDir }, { storage: new FakeStorage() });
t.teardown(() => srv.close());

type J = Record<string, any>;
const P = '/api/v1/provisioning';

function call(method: string, path: string, body?: unknown, opts: { org?: string; headers?: Record<string, string> } = {}): Promise<ClientResponse> {
  const headers: Record<string, string> = { 'X-Scope-OrgID': opts.org ?? '1', ...(opts.headers ?? {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return httpRequest(srv.port, P + path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
}

function rule(over: J = {}): J {
  return {
    title: 'High load',
    ruleGroup: 'g1',
    folderUID: 'folder-a',
    condition: 'C',
    data: [
      { refId: 'A', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: 'mimir', model: { expr: 'node_load1', refId: 'A' } },
      { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last', refId: 'B' } },
      { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [2] } }], refId: 'C' } },
    ],
    noDataState: 'NoData',
    execErrState: 'Error',
    for: '5m',
    annotations: { summary: 'load is {{ $values.B }}' },
    labels: { team: 'sre' },
    isPaused: false,
    ...over,
  };
}

t.test('alert rules: create, get, list, update, delete', async (t) => {
  const created = await call('POST', '/alert-rules', rule({ uid: 'rule-1' }));
  t.equal(created.status, 201, created.body);
  const c = jsonOf<J>(created);
  t.equal(c.uid, 'rule-1');
  t.equal(c.orgID, 1);
  t.equal(c.provenance, 'api');
  t.equal(c.for, '5m');
  t.equal(c.keep_firing_for, '0s');
  t.equal(c.isPaused, false);
  t.equal(c.notification_settings, null);
  t.match(c.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.same(Object.keys(c).slice(0, 9), ['id', 'uid', 'orgID', 'folderUID', 'ruleGroup', 'title', 'condition', 'data', 'updated']);
  t.same(c.data[0], { refId: 'A', queryType: '', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: 'mimir', model: { expr: 'node_load1', refId: 'A' } });

  // A generated uid when none is given; a Go client's "5m0s" is read as 5m.
  const gen = jsonOf<J>(await call('POST', '/alert-rules', rule({ title: 'Other', for: '1m0s', keep_firing_for: '30s' })));
  t.match(gen.uid, /^[A-Za-z0-9]{14}$/);
  t.equal(gen.for, '1m');
  t.equal(gen.keep_firing_for, '30s');
  t.ok(gen.id > c.id);

  const got = await call('GET', '/alert-rules/rule-1');
  t.equal(got.status, 200);
  t.same(jsonOf(got), c);
  const list = jsonOf<J[]>(await call('GET', '/alert-rules'));
  t.same(list.map((r) => r.uid), ['rule-1', gen.uid]);

  const upd = await call('PUT', '/alert-rules/rule-1', rule({ title: 'High load!', for: '10m' }));
  t.equal(upd.status, 200, upd.body);
  t.equal(jsonOf<J>(upd).title, 'High load!');
  t.equal(jsonOf<J>(upd).uid, 'rule-1');
  t.equal(jsonOf<J>(upd).id, c.id);
  t.equal(jsonOf<J>(await call('GET', '/alert-rules/rule-1')).for, '10m');

  const missing = await call('GET', '/alert-rules/nope');
  t.equal(missing.status, 404);
  t.equal((await call('PUT', '/alert-rules/nope', rule())).status, 404);

  t.equal((await call('DELETE', `/alert-rules/${gen.uid}`)).status, 204);
  t.equal((await call('GET', `/alert-rules/${gen.uid}`)).status, 404);
  const del404 = await call('DELETE', `/alert-rules/${gen.uid}`);
  t.equal(del404.status, 404);
  t.equal(jsonOf<J>(del404).message, 'could not find alert rule');
});

t.test('alert rules: validation answers 400 with Grafana texts', async (t) => {
  const cases: Array<[J, string]> = [
    [rule({ title: '' }), 'invalid alert rule: title is empty'],
    [rule({ condition: 'Z' }), 'invalid alert rule: condition Z does not exist, must be one of [A,B,C]'],
    [rule({ data: [] }), 'invalid alert rule: no queries or expressions are found'],
    [rule({ folderUID: '' }), 'invalid alert rule: folderUID must be set'],
    [rule({ noDataState: 'Maybe' }), 'invalid alert rule: unknown NoData state option Maybe'],
    [rule({ execErrState: 'Boom' }), 'invalid alert rule: unknown Exec Error state option Boom'],
    [rule({ for: 'soon' }), 'invalid alert rule: invalid duration "soon" in field for'],
    [rule({ for: '-1m' }), 'invalid alert rule: field `for` cannot be negative'],
    [rule({ notification_settings: { receiver: 'nobody' } }), "invalid alert rule: receiver 'nobody' does not exist"],
  ];
  for (const [body, message] of cases) {
    const r = await call('POST', '/alert-rules', body);
    t.equal(r.status, 400, message);
    t.same(jsonOf(r), { message });
  }
  const bad = await call('POST', '/alert-rules', '{not json');
  t.equal(bad.status, 400);
  t.same(jsonOf(bad), { message: 'bad request data' });
  // A duplicate uid is a conflict.
  t.equal((await call('POST', '/alert-rules', rule({ uid: 'dup' }))).status, 201);
  const dup = await call('POST', '/alert-rules', rule({ uid: 'dup' }));
  t.equal(dup.status, 409);
  t.equal(jsonOf<J>(dup).messageId, 'alerting.alert-rule.conflict');
  t.equal((await call('DELETE', '/alert-rules/dup')).status, 204);
});

t.test('rule groups: get, put (interval, replace), export, delete', async (t) => {
  const put = await call('PUT', '/folder/folder-b/rule-groups/grp', { interval: 30, rules: [rule({ uid: 'g-1', title: 'one' }), rule({ uid: 'g-2', title: 'two' })] });
  t.equal(put.status, 200, put.body);
  const pj = jsonOf<J>(put);
  t.equal(pj.title, 'grp');
  t.equal(pj.folderUid, 'folder-b');
  t.equal(pj.interval, 30);
  t.same(pj.rules.map((r: J) => [r.uid, r.folderUID, r.ruleGroup]), [
    ['g-1', 'folder-b', 'grp'],
    ['g-2', 'folder-b', 'grp'],
  ]);
  const got = jsonOf<J>(await call('GET', '/folder/folder-b/rule-groups/grp'));
  t.equal(got.interval, 30);
  t.equal(got.rules.length, 2);

  // Rules left out are deleted; the interval must be a multiple of 10s.
  t.equal((await call('PUT', '/folder/folder-b/rule-groups/grp', { interval: 60, rules: [rule({ uid: 'g-2', title: 'two' })] })).status, 200);
  t.equal((await call('GET', '/alert-rules/g-1')).status, 404);
  t.equal(jsonOf<J>(await call('GET', '/folder/folder-b/rule-groups/grp')).interval, 60);
  const badInterval = await call('PUT', '/folder/folder-b/rule-groups/grp', { interval: 15, rules: [rule({ uid: 'g-2' })] });
  t.equal(badInterval.status, 400);
  t.same(jsonOf(badInterval), { message: 'invalid alert rule: interval (15s) should be non-zero and divided exactly by scheduler interval: 10s' });

  const unknown = await call('GET', '/folder/folder-b/rule-groups/none');
  t.equal(unknown.status, 404);
  t.equal(jsonOf<J>(unknown).message, 'rule group not found under this folder');

  const exp = await call('GET', '/folder/folder-b/rule-groups/grp/export?format=json');
  t.equal(exp.status, 200);
  t.match(exp.headers['content-type'], /application\/json/);
  const e = jsonOf<J>(exp);
  t.equal(e.apiVersion, 1);
  t.same(Object.keys(e.groups[0]), ['orgId', 'name', 'folder', 'interval', 'rules']);
  t.equal(e.groups[0].interval, '1m');
  t.same(e.groups[0].rules.map((r: J) => r.uid), ['g-2']);

  t.equal((await call('DELETE', '/folder/folder-b/rule-groups/grp')).status, 204);
  t.equal((await call('GET', '/folder/folder-b/rule-groups/grp')).status, 404);
  t.equal((await call('DELETE', '/folder/folder-b/rule-groups/grp')).status, 404);
});

t.test('provenance: X-Disable-Provenance and changes from another source', async (t) => {
  const none = jsonOf<J>(await call('POST', '/alert-rules', rule({ uid: 'free', ruleGroup: 'free-g' }), { headers: { 'X-Disable-Provenance': 'true' } }));
  t.equal(none.provenance, undefined);
  // An object without provenance can be taken over by the API; one the API manages cannot be changed without it.
  t.equal((await call('PUT', '/alert-rules/free', rule({ ruleGroup: 'free-g' }))).status, 200);
  const refused = await call('PUT', '/alert-rules/free', rule({ ruleGroup: 'free-g' }), { headers: { 'X-Disable-Provenance': 'true' } });
  t.equal(refused.status, 403);
  t.same(jsonOf(refused), {
    message: "Resource with provenance status 'api' cannot be managed via API that handles resources with provenance status ''. You must use appropriate API and permissions to manage this resource",
    messageId: 'alerting.notifications.invalidProvenance',
    statusCode: 403,
  });
  t.equal((await call('DELETE', '/alert-rules/free', undefined, { headers: { 'X-Disable-Provenance': 'true' } })).status, 403);
  // A rule cannot join a group of another provenance.
  t.equal((await call('POST', '/alert-rules', rule({ ruleGroup: 'free-g' }), { headers: { 'X-Disable-Provenance': '' } })).status, 403);
  t.equal((await call('DELETE', '/alert-rules/free')).status, 204);

  const tpl = await call('PUT', '/templates/locked', { template: 'x' });
  t.equal(tpl.status, 202);
  t.equal((await call('PUT', '/templates/locked', { template: 'y' }, { headers: { 'X-Disable-Provenance': 'true' } })).status, 403);
  t.equal((await call('DELETE', '/templates/locked', undefined, { headers: { 'X-Disable-Provenance': 'true' } })).status, 403);
  t.equal((await call('DELETE', '/templates/locked')).status, 204);
});

t.test('contact points: list with name filter, create, update, delete, export', async (t) => {
  const initial = jsonOf<J[]>(await call('GET', '/contact-points'));
  t.same(initial.map((c) => [c.name, c.type, c.settings]), [['grafana-default-email', 'email', { addresses: '<example@email.com>' }]]);

  const created = await call('POST', '/contact-points', { name: 'ops', type: 'webhook', settings: { url: 'http://127.0.0.1:9/hook', httpMethod: 'POST', password: 's3cret' } });
  t.equal(created.status, 202, created.body);
  const cp = jsonOf<J>(created);
  t.match(cp.uid, /^[A-Za-z0-9]{14}$/);
  t.equal(cp.provenance, 'api');
  t.equal(cp.settings.password, '[REDACTED]');
  t.same(Object.keys(cp), ['uid', 'name', 'type', 'settings', 'disableResolveMessage', 'provenance']);
  await call('POST', '/contact-points', { uid: 'slack-1', name: 'chat', type: 'slack', settings: { recipient: '#ops', token: 'xoxb-1' } });

  const filtered = jsonOf<J[]>(await call('GET', '/contact-points?name=ops'));
  t.same(filtered.map((c) => c.uid), [cp.uid]);
  t.same(jsonOf<J[]>(await call('GET', '/contact-points')).map((c) => c.name), ['chat', 'grafana-default-email', 'ops']);

  // A redacted secret sent back keeps its value (the decrypted export shows it).
  const upd = await call('PUT', `/contact-points/${cp.uid}`, { name: 'ops', type: 'webhook', settings: { url: 'http://127.0.0.1:9/hook2', password: '[REDACTED]' } });
  t.equal(upd.status, 202);
  t.same(jsonOf(upd), { message: 'contactpoint updated' });
  const dec = jsonOf<J>(await call('GET', '/contact-points/export?format=json&decrypt=true&name=ops'));
  t.same(dec.contactPoints[0].receivers[0].settings, { url: 'http://127.0.0.1:9/hook2', password: 's3cret' });
  // The webhook's TLS material and HMAC secret are secrets too; the header names are not.
  const signed = jsonOf<J>(
    await call('POST', '/contact-points', { name: 'signed', type: 'webhook', settings: { url: 'http://127.0.0.1:9/s', hmacConfig: { secret: 'k', header: 'X-Sig' }, tlsConfig: { clientKey: 'KEY', caCertificate: 'CA', insecureSkipVerify: true } } }),
  );
  t.same(signed.settings, { url: 'http://127.0.0.1:9/s', hmacConfig: { secret: '[REDACTED]', header: 'X-Sig' }, tlsConfig: { clientKey: '[REDACTED]', caCertificate: '[REDACTED]', insecureSkipVerify: true } });
  t.equal((await call('DELETE', `/contact-points/${signed.uid}`)).status, 202);
  const red = jsonOf<J>(await call('GET', '/contact-points/export?format=json'));
  t.same(red.contactPoints.map((c: J) => c.name), ['chat', 'grafana-default-email', 'ops']);
  t.equal(red.contactPoints[0].receivers[0].settings.token, '[REDACTED]');
  t.same(Object.keys(red.contactPoints[0]), ['orgId', 'name', 'receivers']);

  const cases: Array<[J, string]> = [
    [{ name: '', type: 'webhook', settings: { url: 'http://x' } }, 'invalid object specification: name should not be empty'],
    [{ name: 'a', type: '', settings: {} }, 'invalid object specification: type should not be an empty string'],
    [{ name: 'a', type: 'carrier-pigeon', settings: {} }, 'invalid object specification: notifier type "carrier-pigeon" is not supported'],
    [{ name: 'a', type: 'webhook', settings: {} }, 'invalid object specification: failed to validate integration "a" (UID ) of type "webhook": could not find url property in settings'],
    [
      { name: 'a', type: 'webhook', settings: { url: 'http://x', headers: { 'X-Ok': '1', 'user-agent': 'me', Authorization: 'Bearer x' } } },
      'invalid object specification: failed to validate integration "a" (UID ) of type "webhook": custom headers ["Authorization" "user-agent"] are not allowed',
    ],
    [
      { name: 'a', type: 'webhook', settings: { url: 'http://x', username: 'u', password: 'p', authorization_credentials: 't' } },
      'invalid object specification: failed to validate integration "a" (UID ) of type "webhook": both HTTP Basic Authentication and Authorization Header are set, only 1 is permitted',
    ],
  ];
  for (const [body, message] of cases) {
    const r = await call('POST', '/contact-points', body);
    t.equal(r.status, 400, message);
    t.same(jsonOf(r), { message });
  }
  t.equal((await call('PUT', '/contact-points/unknown', { name: 'x', type: 'email', settings: { addresses: 'a@b' } })).status, 404);

  // In use by the policy tree: the last integration of the name cannot be deleted.
  t.equal((await call('PUT', '/policies', { receiver: 'grafana-default-email', routes: [{ receiver: 'chat', object_matchers: [['team', '=', 'sre']] }] })).status, 202);
  const inUse = await call('DELETE', '/contact-points/slack-1');
  t.equal(inUse.status, 409);
  t.equal(jsonOf<J>(inUse).messageId, 'alerting.notifications.contact-points.referenced');
  t.equal((await call('DELETE', '/policies')).status, 202);
  const del = await call('DELETE', '/contact-points/slack-1');
  t.equal(del.status, 202);
  t.same(jsonOf(del), { message: 'contactpoint deleted' });
  t.same(jsonOf<J[]>(await call('GET', '/contact-points')).map((c) => c.name), ['grafana-default-email', 'ops']);
});

t.test('notification policies: get, put, validation, reset, export', async (t) => {
  t.same(jsonOf(await call('GET', '/policies')), { receiver: 'grafana-default-email', group_by: ['grafana_folder', 'alertname'] });
  await call('POST', '/mute-timings', { name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'] }] });
  const tree = {
    receiver: 'ops',
    group_by: ['alertname'],
    routes: [{ receiver: 'grafana-default-email', object_matchers: [['severity', '=~', 'crit.*']], mute_time_intervals: ['weekends'], continue: true, group_wait: '10s' }, { receiver: 'ops', matchers: ['team="sre"'] }],
    group_interval: '1m',
    repeat_interval: '4h',
  };
  const put = await call('PUT', '/policies', tree);
  t.equal(put.status, 202);
  t.same(jsonOf(put), { message: 'policies updated' });
  t.same(jsonOf(await call('GET', '/policies')), {
    receiver: 'ops',
    group_by: ['alertname'],
    routes: [
      { receiver: 'grafana-default-email', object_matchers: [['severity', '=~', 'crit.*']], mute_time_intervals: ['weekends'], continue: true, group_wait: '10s' },
      { receiver: 'ops', object_matchers: [['team', '=', 'sre']] },
    ],
    group_interval: '1m',
    repeat_interval: '4h',
    provenance: 'api',
  });
  const exp = jsonOf<J>(await call('GET', '/policies/export', undefined, { headers: { Accept: 'application/json' } }));
  t.same(exp.policies[0].orgId, 1);
  t.equal(exp.policies[0].receiver, 'ops');
  const yaml = await call('GET', '/policies/export');
  t.match(yaml.headers['content-type'], /text\/yaml/);
  t.match(yaml.body, /^apiVersion: 1\npolicies:\n  - orgId: 1\n    receiver: ops\n/);

  const cases: Array<[J, string]> = [
    [{ receiver: 'nobody' }, "invalid object specification: receiver 'nobody' does not exist"],
    [{ group_by: ['a'] }, 'invalid object specification: root route must specify a default receiver'],
    [{ receiver: 'ops', routes: [{ receiver: 'ops', mute_time_intervals: ['holidays'] }] }, "invalid object specification: mute time interval 'holidays' does not exist"],
    [{ receiver: 'ops', routes: [{ object_matchers: [['a', '=~', '(']] }] }, 'invalid object specification: invalid regular expression "(" in matcher for label "a"'],
    [{ receiver: 'ops', group_wait: 'later' }, 'invalid object specification: invalid group wait "later"'],
  ];
  for (const [body, message] of cases) {
    const r = await call('PUT', '/policies', body);
    t.equal(r.status, 400, message);
    t.same(jsonOf(r), { message });
  }
  t.equal((await call('PUT', '/policies', { receiver: 'ops', routes: [{ object_matchers: [['a', '<>', 'b']] }] })).status, 400);
  // A mute timing in use cannot be deleted.
  const inUse = await call('DELETE', '/mute-timings/weekends');
  t.equal(inUse.status, 409);
  const reset = await call('DELETE', '/policies');
  t.equal(reset.status, 202);
  t.same(jsonOf(reset), { receiver: 'grafana-default-email', group_by: ['grafana_folder', 'alertname'] });
  t.equal(jsonOf<J>(await call('GET', '/policies')).provenance, undefined);
  t.equal((await call('DELETE', '/mute-timings/weekends')).status, 204);
});

t.test('templates: list, get, put (wrapping, parse errors, versions), delete', async (t) => {
  const put = await call('PUT', '/templates/my.msg', { template: '{{ define "my.msg" }}{{ len .Alerts.Firing }} firing{{ end }}' });
  t.equal(put.status, 202, put.body);
  const tp = jsonOf<J>(put);
  t.same(Object.keys(tp), ['name', 'template', 'provenance', 'version']);
  t.match(tp.version, /^[0-9a-f]{16}$/);
  // A body without {{ define }} becomes the definition of the name.
  const wrapped = jsonOf<J>(await call('PUT', '/templates/plain', { template: 'Hello {{ .Status }}' }));
  t.equal(wrapped.template, '{{ define "plain" }}\n  Hello {{ .Status }}\n{{ end }}');
  t.same(jsonOf<J[]>(await call('GET', '/templates')).map((x) => x.name), ['my.msg', 'plain']);
  t.same(jsonOf(await call('GET', '/templates/my.msg')), tp);
  const missing = await call('GET', '/templates/none');
  t.equal(missing.status, 404);
  t.equal(jsonOf<J>(missing).messageId, 'alerting.notifications.templates.notFound');

  const broken = await call('PUT', '/templates/bad', { template: '{{ define "bad" }}{{ .Foo ' });
  t.equal(broken.status, 400);
  t.match(jsonOf<J>(broken).message, /^Invalid format of the submitted template: template: bad:1: /);
  const unknownFn = await call('PUT', '/templates/bad', { template: '{{ nosuchfunc }}' });
  t.equal(unknownFn.status, 400);
  t.match(jsonOf<J>(unknownFn).message, /function "nosuchfunc" not defined/);
  const gomplate = await call('PUT', '/templates/payload', { template: '{{ define "payload" }}{{ coll.Dict "s" .Status | data.ToJSON }}{{ tmpl.Exec "plain" . }}{{ end }}' });
  t.equal(gomplate.status, 202, "Grafana's gomplate namespaces are known functions");
  t.equal((await call('DELETE', '/templates/payload')).status, 204);

  const stale = await call('PUT', '/templates/my.msg', { template: '{{ define "my.msg" }}x{{ end }}', version: '0000000000000000' });
  t.equal(stale.status, 409);
  t.equal(jsonOf<J>(stale).messageId, 'alerting.notifications.conflict');
  const fresh = await call('PUT', '/templates/my.msg', { template: '{{ define "my.msg" }}x{{ end }}', version: tp.version });
  t.equal(fresh.status, 202);
  t.not(jsonOf<J>(fresh).version, tp.version);
  t.equal((await call('DELETE', `/templates/my.msg?version=${tp.version}`)).status, 409);
  t.equal((await call('DELETE', '/templates/my.msg')).status, 204);
  t.equal((await call('DELETE', '/templates/my.msg')).status, 204);
  t.equal((await call('DELETE', '/templates/plain')).status, 204);
  t.same(jsonOf(await call('GET', '/templates')), []);
});

t.test('mute timings: list, create, get, update, delete, export', async (t) => {
  const body = { name: 'nights', time_intervals: [{ times: [{ start_time: '22:00', end_time: '24:00' }], weekdays: ['monday:friday'], location: 'Europe/Paris' }] };
  const created = await call('POST', '/mute-timings', body);
  t.equal(created.status, 201, created.body);
  const m = jsonOf<J>(created);
  t.same(m.time_intervals, body.time_intervals);
  t.equal(m.provenance, 'api');
  t.match(m.version, /^[0-9a-f]{16}$/);
  const dup = await call('POST', '/mute-timings', body);
  t.equal(dup.status, 400);
  t.equal(jsonOf<J>(dup).messageId, 'alerting.notifications.time-intervals.nameExists');
  const badTime = await call('POST', '/mute-timings', { name: 'x', time_intervals: [{ times: [{ start_time: '25:00', end_time: '26:00' }] }] });
  t.equal(badTime.status, 400);
  t.same(jsonOf(badTime), { message: 'invalid object specification: timestamp 25:00 out of range' });
  t.equal((await call('POST', '/mute-timings', { name: 'x', time_intervals: [{ weekdays: ['funday'] }] })).status, 400);
  t.equal((await call('POST', '/mute-timings', { name: '', time_intervals: [] })).status, 400);

  t.same(jsonOf(await call('GET', '/mute-timings/nights')), m);
  t.same(jsonOf<J[]>(await call('GET', '/mute-timings')).map((x) => x.name), ['nights']);
  const missing = await call('GET', '/mute-timings/none');
  t.equal(missing.status, 404);
  t.equal(jsonOf<J>(missing).messageId, 'alerting.notifications.time-intervals.notFound');

  const upd = await call('PUT', '/mute-timings/nights', { name: 'nights', time_intervals: [{ weekdays: ['saturday'] }], version: m.version });
  t.equal(upd.status, 202, upd.body);
  t.same(jsonOf<J>(upd).time_intervals, [{ weekdays: ['saturday'] }]);
  t.equal((await call('PUT', '/mute-timings/nights', { time_intervals: [], version: m.version })).status, 409);
  t.equal((await call('PUT', '/mute-timings/none', { time_intervals: [] })).status, 404);

  const one = jsonOf<J>(await call('GET', '/mute-timings/nights/export?format=json'));
  t.same(one, { apiVersion: 1, muteTimes: [{ orgId: 1, name: 'nights', time_intervals: [{ weekdays: ['saturday'] }] }] });
  const all = await call('GET', '/mute-timings/export?format=yaml&download=true');
  t.equal(all.headers['content-disposition'], 'attachment;filename=export.yaml');
  t.match(all.body, /muteTimes:\n  - orgId: 1\n    name: nights\n/);
  t.equal((await call('GET', '/mute-timings/none/export')).status, 404);
  t.equal((await call('DELETE', '/mute-timings/nights')).status, 204);
  t.same(jsonOf(await call('GET', '/mute-timings')), []);
});

t.test('alert rule exports: all, filters, one rule, formats', async (t) => {
  await call('PUT', '/folder/exp/rule-groups/e1', { interval: 60, rules: [rule({ uid: 'e-1', title: 'e one' })] });
  await call('PUT', '/folder/exp/rule-groups/e2', { interval: 120, rules: [rule({ uid: 'e-2', title: 'e two' })] });
  const all = jsonOf<J>(await call('GET', '/alert-rules/export?format=json&folderUid=exp'));
  t.same(all.groups.map((g: J) => [g.name, g.interval]), [
    ['e1', '1m'],
    ['e2', '2m'],
  ]);
  const one = jsonOf<J>(await call('GET', '/alert-rules/e-2/export?format=json'));
  t.same(one.groups[0].rules.map((r: J) => r.uid), ['e-2']);
  t.same(Object.keys(one.groups[0].rules[0]), ['uid', 'title', 'condition', 'data', 'noDataState', 'execErrState', 'for', 'annotations', 'labels', 'isPaused']);
  const byGroup = jsonOf<J>(await call('GET', '/alert-rules/export?format=json&folderUid=exp&group=e1'));
  t.same(byGroup.groups.map((g: J) => g.name), ['e1']);
  t.equal((await call('GET', '/alert-rules/export?group=e1')).status, 400);
  t.equal((await call('GET', '/alert-rules/export?ruleUid=e-1&group=e1')).status, 400);
  t.equal((await call('GET', '/alert-rules/export?folderUid=nothing-here')).status, 404);
  t.equal((await call('GET', '/alert-rules/none/export')).status, 404);
  const hcl = await call('GET', '/alert-rules/e-1/export?format=hcl');
  t.match(hcl.headers['content-type'], /text\/hcl/);
  t.match(hcl.body, /^resource "grafana_rule_group" "rule_group_[0-9a-f]{16}" \{\n  name             = "e1"\n  folder_uid       = "exp"\n  interval_seconds = 60\n/);
  const dl = await call('GET', '/alert-rules/e-1/export?format=hcl&download=true');
  t.equal(dl.headers['content-type'], 'application/terraform+hcl');
  t.equal(dl.headers['content-disposition'], 'attachment;filename=export.tf');
  await call('DELETE', '/folder/exp/rule-groups/e1');
  await call('DELETE', '/folder/exp/rule-groups/e2');
});

t.test('organisations never see each other\'s objects', async (t) => {
  t.equal((await call('POST', '/alert-rules', rule({ uid: 'org2-rule' }), { org: 'team-two' })).status, 201);
  await call('POST', '/contact-points', { name: 'two-only', type: 'email', settings: { addresses: 'two@example.com' } }, { org: 'team-two' });
  t.equal((await call('GET', '/alert-rules/org2-rule')).status, 404);
  t.notOk(jsonOf<J[]>(await call('GET', '/contact-points')).some((c) => c.name === 'two-only'));
  t.ok(jsonOf<J[]>(await call('GET', '/contact-points', undefined, { org: 'team-two' })).some((c) => c.name === 'two-only'));
  t.equal(jsonOf<J>(await call('GET', '/alert-rules/org2-rule', undefined, { org: 'team-two' })).orgID, 1);
  // The same uid may exist in two organisations.
  t.equal((await call('POST', '/alert-rules', rule({ uid: 'org2-rule' }))).status, 201);
  t.equal((await call('DELETE', '/alert-rules/org2-rule')).status, 204);
  t.equal((await call('GET', '/alert-rules/org2-rule', undefined, { org: 'team-two' })).status, 200);
  const noOrg = await httpRequest(srv.port, `${P}/alert-rules`);
  t.equal(noOrg.status, 401);
});

t.test('objects survive a restart', async (t) => {
  await call('PUT', '/templates/kept', { template: 'kept text' });
  await call('POST', '/mute-timings', { name: 'kept-mt', time_intervals: [{ weekdays: ['monday'] }] });
  await srv.close();
  srv = await startTestServer({ 'ruler-storage.filesystem.dir': rulerDir }, { storage: new FakeStorage() });
  t.equal(jsonOf<J>(await call('GET', '/templates/kept')).template, '{{ define "kept" }}\n  kept text\n{{ end }}');
  t.equal((await call('GET', '/mute-timings/kept-mt')).status, 200);
  t.equal(jsonOf<J>(await call('GET', '/alert-rules/rule-1')).title, 'High load!');
  t.equal((await call('GET', '/alert-rules/org2-rule', undefined, { org: 'team-two' })).status, 200);
});
