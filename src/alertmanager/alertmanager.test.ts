// alertmanager.test.ts drives the Alertmanager through a real server: the
// configuration API and its validation, API v2 (alerts, groups, silences,
// status, receivers), webhook delivery with grouping, inhibition, silences
// and send_resolved, tenant isolation, and no duplicate notification after a
// restart.

import http from 'node:http';
import { test } from 'tap';
import { startTestServer, type TestServer } from '../testing/server.js';
import { startServer } from '../app.js';
import { defaultConfig } from '../config/config.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Hook {
  url: string;
  bodies: Array<Record<string, any>>;
  close(): void;
  waitFor(n: number, ms?: number): Promise<void>;
}

function webhookSink(): Promise<Hook> {
  const bodies: Array<Record<string, any>> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, any>);
      res.end();
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}/hook`,
        bodies,
        close: () => srv.close(),
        async waitFor(n, ms = 5000) {
          for (let i = 0; i < ms / 20 && bodies.length < n; i++) await new Promise((r) => setTimeout(r, 20));
          if (bodies.length < n) throw new Error(`expected ${n} notifications, got ${bodies.length}`);
        },
      });
    }),
  );
}

async function req(s: { port: number }, method: string, path: string, tenant: string | undefined, body?: string): Promise<{ status: number; text: string; type: string }> {
  const headers: Record<string, string> = {};
  if (tenant !== undefined) headers['X-Scope-OrgID'] = tenant;
  const r = await fetch(`http://127.0.0.1:${s.port}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') ?? '' };
}

function userConfig(amConfig: string, templates: Record<string, string> = {}): string {
  return JSON.stringify({ template_files: templates, alertmanager_config: amConfig });
}

function amConfig(hook: string, extra = ''): string {
  return `route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 300ms
  repeat_interval: 1h
  routes:
    - matchers: ['severity="page"']
      receiver: pager
receivers:
  - name: team
    webhook_configs: [{url: '${hook}'}]
  - name: pager
    webhook_configs: [{url: '${hook}?pager', send_resolved: false}]
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['alertname="HighLatency"']
    equal: [instance]
${extra}`;
}

test('configuration API: store, read, validate, limits, delete', async (t) => {
  const s = await startTestServer({ 'alertmanager.max-template-size-bytes': 30, 'alertmanager.max-templates-count': 1 });
  t.teardown(() => s.close());
  t.equal((await req(s, 'GET', '/api/v1/alerts', 't1')).status, 404);
  t.equal((await req(s, 'GET', '/api/v1/alerts', 't1')).text, 'alertmanager storage object not found\n');
  t.equal((await req(s, 'GET', '/api/v1/alerts', undefined)).status, 401);
  const good = userConfig(amConfig('http://127.0.0.1:1/x'), { 'a.tmpl': '{{ define "x" }}y{{ end }}' });
  t.equal((await req(s, 'POST', '/api/v1/alerts', 't1', good)).status, 201);
  const got = await req(s, 'GET', '/api/v1/alerts', 't1');
  t.equal(got.status, 200);
  t.equal(got.type, 'application/yaml');
  t.match(got.text, /template_files:\n {2}a\.tmpl: '\{\{ define "x" \}\}y\{\{ end \}\}'\nalertmanager_config: \|/);
  t.match(got.text, /receiver: team/);

  const bad = async (cfg: string, templates: Record<string, string>, want: string): Promise<void> => {
    const r = await req(s, 'POST', '/api/v1/alerts', 't1', userConfig(cfg, templates));
    t.equal(r.status, 400, want);
    t.equal(r.text, `error validating Alertmanager config: ${want}\n`);
  };
  await bad('', {}, "configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint");
  await bad('route: {receiver: nope}\nreceivers: [{name: a}]', {}, 'undefined receiver "nope" used in route');
  await bad('receivers: [{name: a}]', {}, 'no route provided in config');
  await bad('route: {}\nreceivers: [{name: a}]', {}, 'root route must specify a default receiver');
  await bad('route: {receiver: a}\nreceivers: [{name: a}, {name: a}]', {}, 'notification config name "a" is not unique');
  await bad('route: {receiver: a, group_by: [x, x]}\nreceivers: [{name: a}]', {}, 'duplicated label "x" in group_by');
  await bad('route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{}]}]', {}, 'one of url or url_file must be configured');
  await bad('route: {receiver: a, routes: [{receiver: a, mute_time_intervals: [off]}]}\nreceivers: [{name: a}]', {}, 'undefined time interval "off" used in route');
  await bad(
    'route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{url: "http://x", http_config: {bearer_token_file: /etc/passwd}}]}]',
    {},
    'setting password_file, bearer_token_file and credentials_file is not allowed',
  );
  await bad('route: {receiver: a}\nreceivers: [{name: a}]', { 'a.tmpl': 'x', 'b.tmpl': 'y' }, 'too many templates in the configuration: 2 (limit: 1)');
  await bad('route: {receiver: a}\nreceivers: [{name: a}]', { 'a.tmpl': 'x'.repeat(31) }, 'template a.tmpl is too big: 31 bytes (limit: 30 bytes)');
  await bad('route: {receiver: a}\nreceivers: [{name: a}]', { '../a.tmpl': 'x' }, 'invalid template name "../a.tmpl": the template name cannot contain any path');
  const tr = await req(s, 'POST', '/api/v1/alerts', 't1', userConfig('route: {receiver: a}\nreceivers: [{name: a}]\ntemplates: [a.tmpl]', { 'a.tmpl': '{{ define "x" }}{{ .Foo' }));
  t.equal(tr.status, 400);
  t.match(tr.text, /^error validating Alertmanager config: template: \S+:1: unclosed action/, 'a template parse error is reported');
  // The running configuration stayed.
  t.match((await req(s, 'GET', '/api/v1/alerts', 't1')).text, /receiver: team/);
  // Tenants are isolated.
  t.equal((await req(s, 'GET', '/api/v1/alerts', 't2')).status, 404);
  const all = await req(s, 'GET', '/multitenant_alertmanager/configs', undefined);
  t.match(all.text, /^---\nt1:\n {2}template_files:/);
  t.match((await req(s, 'GET', '/multitenant_alertmanager/status', undefined)).text, /<td>t1<\/td>/);
  t.match((await req(s, 'GET', '/multitenant_alertmanager/ring', undefined)).text, /ACTIVE/);
  const bi = JSON.parse((await req(s, 'GET', '/api/v1/status/buildinfo', undefined)).text) as { data: { features: Record<string, string> } };
  t.equal(bi.data.features.alertmanager_config_api, 'true');
  t.equal((await req(s, 'DELETE', '/api/v1/alerts', 't1')).status, 200);
  t.equal((await req(s, 'GET', '/api/v1/alerts', 't1')).status, 404);
  t.equal((await req(s, 'DELETE', '/api/v1/alerts', 't1')).status, 200, 'deleting nothing is fine');
  t.equal((await req(s, 'GET', '/alertmanager/api/v2/status', 't1')).text, 'the Alertmanager is not configured\n');
});

test('fallback configuration for tenants without one', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'am-fallback-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'fallback.yml'), 'route: {receiver: fallback}\nreceivers: [{name: fallback}]\n');
  const s = await startTestServer({ 'alertmanager.configs.fallback': join(dir, 'fallback.yml') });
  t.teardown(() => s.close());
  const r = await req(s, 'GET', '/alertmanager/api/v2/receivers', 'newcomer');
  t.equal(r.status, 200);
  t.same(JSON.parse(r.text), [{ name: 'fallback' }]);
  t.match((await req(s, 'GET', '/api/v1/alerts', 'newcomer')).text, /receiver: fallback/, 'the fallback is stored as the tenant config, as Mimir');
});

test('config size limit', async (t) => {
  const s = await startTestServer({ 'alertmanager.max-config-size-bytes': 50 });
  t.teardown(() => s.close());
  const r = await req(s, 'POST', '/api/v1/alerts', 't1', userConfig(amConfig('http://127.0.0.1:1/x')));
  t.equal(r.status, 400);
  t.equal(r.text, 'Alertmanager configuration is too big, limit: 50 bytes\n');
});

async function postAlerts(s: TestServer | { port: number }, tenant: string, alerts: unknown[]): Promise<{ status: number; text: string }> {
  return req(s, 'POST', '/alertmanager/api/v2/alerts', tenant, JSON.stringify(alerts));
}

test('API v2 and notifications: grouping, routing, inhibition, silences, resolve', async (t) => {
  const hook = await webhookSink();
  t.teardown(hook.close);
  const s = await startTestServer();
  t.teardown(() => s.close());
  t.equal((await req(s, 'POST', '/api/v1/alerts', 'acme', userConfig(amConfig(hook.url)))).status, 201);

  const status = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/status', 'acme')).text) as Record<string, any>;
  t.equal(status.versionInfo.version, '0.35.0');
  t.equal(status.cluster.status, 'ready');
  t.match(status.config.original, /receiver: team/);
  t.same(JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/receivers', 'acme')).text), [{ name: 'team' }, { name: 'pager' }]);

  // Validation.
  let r = await postAlerts(s, 'acme', [{ labels: {} }]);
  t.equal(r.status, 400);
  t.equal(r.text, '"at least one label pair required"\n');
  r = await postAlerts(s, 'acme', [{ annotations: {} }]);
  t.equal(r.status, 422);
  t.same(JSON.parse(r.text), { code: 602, message: '0.labels in body is required' });

  // Two alerts of one group, and a paging one on its own route.
  r = await postAlerts(s, 'acme', [
    { labels: { alertname: 'HighLatency', instance: 'a' }, annotations: { summary: 's' }, generatorURL: 'http://prom/graph' },
    { labels: { alertname: 'HighLatency', instance: 'b' } },
    { labels: { alertname: 'Disk', severity: 'page' } },
  ]);
  t.equal(r.status, 200);
  await hook.waitFor(2);
  await new Promise((res) => setTimeout(res, 100));
  t.equal(hook.bodies.length, 2, 'one notification per group');
  const team = hook.bodies.find((b) => b.receiver === 'team');
  const pager = hook.bodies.find((b) => b.receiver === 'pager');
  t.equal(team?.groupKey, '{}:{alertname="HighLatency"}');
  t.equal(team?.alerts.length, 2);
  t.same(team?.groupLabels, { alertname: 'HighLatency' });
  t.same(team?.commonLabels, { alertname: 'HighLatency' });
  t.equal(team?.version, '4');
  t.equal(team?.status, 'firing');
  t.equal(team?.externalURL, `http://localhost:${s.port}/alertmanager`);
  t.equal(pager?.groupKey, '{}/{severity="page"}:{alertname="Disk"}');

  const alerts = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts', 'acme')).text) as Array<Record<string, any>>;
  t.equal(alerts.length, 3);
  t.same(alerts.find((a) => a.labels.severity === 'page')?.receivers, [{ name: 'pager' }]);
  t.same(alerts[0]?.status, { inhibitedBy: [], mutedBy: [], silencedBy: [], state: 'active' });
  const filtered = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts?filter=instance%3D%22a%22', 'acme')).text) as unknown[];
  t.equal(filtered.length, 1);
  const byReceiver = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts?receiver=pag.*', 'acme')).text) as unknown[];
  t.equal(byReceiver.length, 1);
  const groups = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts/groups', 'acme')).text) as Array<Record<string, any>>;
  t.equal(groups.length, 2);
  t.same(groups.map((g) => g.receiver.name).sort(), ['pager', 'team']);

  // Inhibition: NodeDown on instance a inhibits HighLatency on a.
  await postAlerts(s, 'acme', [{ labels: { alertname: 'NodeDown', instance: 'a' } }]);
  await hook.waitFor(3);
  const inhibited = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts?filter=alertname%3DHighLatency&inhibited=false', 'acme')).text) as Array<Record<string, any>>;
  t.same(
    inhibited.map((a) => a.labels.instance),
    ['b'],
  );
  const a = (JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts?filter=instance%3Da&filter=alertname%3DHighLatency', 'acme')).text) as Array<Record<string, any>>)[0];
  t.equal(a?.status.state, 'suppressed');
  t.equal(a?.status.inhibitedBy.length, 1);

  // Silences: create, query, get, update in place, expire.
  const now = Date.now();
  const sil = { matchers: [{ name: 'instance', value: 'b', isRegex: false, isEqual: true }], startsAt: new Date(now - 1000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'me', comment: 'maint' };
  r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify(sil));
  t.equal(r.status, 200);
  const id = (JSON.parse(r.text) as { silenceID: string }).silenceID;
  t.match(id, /^[0-9a-f-]{36}$/);
  const gotText = (await req(s, 'GET', `/alertmanager/api/v2/silence/${id}`, 'acme')).text;
  const got = JSON.parse(gotText) as Record<string, any>;
  t.equal(got.status.state, 'active');
  t.same(got.matchers, sil.matchers);
  t.notMatch(gotText, 'annotations', 'no annotations: the field is left out (omitempty)');
  // Annotations (0.35): kept as posted, rendered in name order after updatedAt; null values read as empty.
  r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify({ ...sil, comment: 'annotated', annotations: { ticket: 'T-1', '10': 'x', '9': 'y', owner: null } }));
  t.equal(r.status, 200);
  const annotatedId = (JSON.parse(r.text) as { silenceID: string }).silenceID;
  const annotated = (await req(s, 'GET', `/alertmanager/api/v2/silence/${annotatedId}`, 'acme')).text;
  t.match(annotated, /"updatedAt":"[^"]+","annotations":\{"10":"x","9":"y","owner":"","ticket":"T-1"\},"comment":"annotated"/);
  t.match((await req(s, 'GET', '/alertmanager/api/v2/silences', 'acme')).text, '"annotations":{"10":"x","9":"y","owner":"","ticket":"T-1"}');
  t.equal((await req(s, 'DELETE', `/alertmanager/api/v2/silence/${annotatedId}`, 'acme')).status, 200);
  for (const [annotations, type] of [[{ n: 5 }, 'number into Go struct field Silence.annotations of type string'], [[1], 'array into Go struct field Silence.annotations of type models.LabelSet'], ['x', 'string into Go struct field Silence.annotations of type models.LabelSet']] as const) {
    r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify({ ...sil, annotations }));
    t.equal(r.status, 400);
    t.same(JSON.parse(r.text), { code: 400, message: `parsing silence body from "" failed, because json: cannot unmarshal ${type}` }, JSON.stringify(annotations));
  }
  const silenced = (JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts?filter=instance%3Db', 'acme')).text) as Array<Record<string, any>>)[0];
  t.same(silenced?.status.silencedBy, [id]);
  // Another tenant sees none of it.
  await req(s, 'POST', '/api/v1/alerts', 'other', userConfig(amConfig(hook.url)));
  t.same(JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/silences', 'other')).text), []);
  t.same(JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/alerts', 'other')).text), []);
  t.equal((await req(s, 'GET', `/alertmanager/api/v2/silence/${id}`, 'other')).status, 404);
  // Update keeping start: same ID; changing matchers: new ID, old one expired.
  r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify({ ...sil, id, startsAt: got.startsAt, comment: 'longer' }));
  t.equal((JSON.parse(r.text) as { silenceID: string }).silenceID, id);
  r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify({ ...sil, id, matchers: [{ name: 'instance', value: 'c', isRegex: false, isEqual: true }] }));
  const id2 = (JSON.parse(r.text) as { silenceID: string }).silenceID;
  t.not(id2, id);
  t.equal((JSON.parse((await req(s, 'GET', `/alertmanager/api/v2/silence/${id}`, 'acme')).text) as Record<string, any>).status.state, 'expired');
  r = await req(s, 'POST', '/alertmanager/api/v2/silences', 'acme', JSON.stringify({ ...sil, endsAt: sil.startsAt }));
  t.equal(r.status, 400);
  t.equal(r.text, '"Failed to create silence: start time must be before end time"\n');
  t.equal((await req(s, 'DELETE', `/alertmanager/api/v2/silence/${id2}`, 'acme')).status, 200);
  t.equal((await req(s, 'DELETE', '/alertmanager/api/v2/silence/00000000-0000-0000-0000-000000000000', 'acme')).status, 404);
  const sils = JSON.parse((await req(s, 'GET', '/alertmanager/api/v2/silences', 'acme')).text) as Array<Record<string, any>>;
  t.same(
    sils.map((x) => x.status.state),
    ['expired', 'expired', 'expired'],
  );

  // Resolve: the team group gets a resolved notification (send_resolved defaults to true).
  const before = hook.bodies.length;
  const end = new Date(Date.now() - 10).toISOString();
  await postAlerts(s, 'acme', [
    { labels: { alertname: 'HighLatency', instance: 'a' }, endsAt: end },
    { labels: { alertname: 'HighLatency', instance: 'b' }, endsAt: end },
  ]);
  await hook.waitFor(before + 1);
  const resolved = hook.bodies.slice(before).find((b) => b.groupKey === '{}:{alertname="HighLatency"}');
  t.equal(resolved?.status, 'resolved');
  t.ok(resolved?.alerts.every((x: { status: string }) => x.status === 'resolved'));

  // The UI page lists the tenant's groups.
  const page = await req(s, 'GET', '/alertmanager/', 'acme');
  t.equal(page.status, 200);
  t.match(page.text, /alertname="NodeDown"/);
});

test('state survives a restart: no duplicate notification, silences kept', async (t) => {
  const hook = await webhookSink();
  t.teardown(hook.close);
  const dir = mkdtempSync(join(tmpdir(), 'am-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = (n: number): ReturnType<typeof defaultConfig> =>
    defaultConfig({
      'server.http-listen-address': '127.0.0.1',
      'server.http-listen-port': 0,
      'blocks-storage.tsdb.dir': join(dir, `tsdb${n}`),
      'blocks-storage.filesystem.dir': join(dir, 'blocks'),
      'blocks-storage.bucket-store.sync-dir': join(dir, `sync${n}`),
      'log.level': 'warn',
      'compactor.data-dir': join(dir, `compactor${n}`),
      'alertmanager.storage.path': join(dir, 'alertmanager-data'),
      'alertmanager-storage.filesystem.dir': join(dir, 'alertmanager'),
      // The alertmanager alone, as Mimir's microservice mode runs it.
      target: 'alertmanager',
    });
  const s = await startServer(config(1));
  const cfg = amConfig(hook.url).replace('group_interval: 300ms', 'group_interval: 200ms');
  await req(s, 'POST', '/api/v1/alerts', 'acme', userConfig(cfg));
  const alert = [{ labels: { alertname: 'Restart', instance: 'x' }, startsAt: new Date(Date.now() - 60_000).toISOString() }];
  await postAlerts(s, 'acme', alert);
  await hook.waitFor(1);
  const now = Date.now();
  const r = await req(
    s,
    'POST',
    '/alertmanager/api/v2/silences',
    'acme',
    JSON.stringify({ matchers: [{ name: 'x', value: 'y', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'me', comment: 'c' }),
  );
  const id = (JSON.parse(r.text) as { silenceID: string }).silenceID;
  await s.close();
  const s2 = await startServer(config(2));
  t.teardown(() => s2.close());
  const before = hook.bodies.length;
  await postAlerts(s2, 'acme', alert);
  await new Promise((res) => setTimeout(res, 700));
  t.equal(hook.bodies.length, before, 'nothing new to say: no notification after the restart');
  const got = JSON.parse((await req(s2, 'GET', `/alertmanager/api/v2/silence/${id}`, 'acme')).text) as Record<string, any>;
  t.equal(got.id, id);
  t.equal(got.status.state, 'active');
});

test('-target: all leaves the alertmanager out as Mimir; all,alertmanager and alertmanager run it', async (t) => {
  const cfg = JSON.stringify({ alertmanager_config: 'route: {receiver: r}\nreceivers: [{name: r}]\n' });
  for (const [target, runs] of [['all', false], ['all,alertmanager', true], ['alertmanager', true]] as const) {
    const s = await startTestServer({ target });
    t.teardown(() => s.close());
    const services = await req(s, 'GET', '/services', undefined);
    t.equal(services.text.includes('alertmanager'), runs, `${target}: /services lists the alertmanager: ${runs}`);
    const post = await req(s, 'POST', '/api/v1/alerts', 'acme', cfg);
    t.equal(post.status, runs ? 201 : 404, `${target}: configuration API`);
    const status = await req(s, 'GET', '/alertmanager/api/v2/status', 'acme');
    t.equal(status.status, runs ? 200 : 404, `${target}: API v2`);
    if (runs) t.match(JSON.parse(status.text), { config: { original: /receiver: r/ } });
    const modules = await req(s, 'GET', '/config', undefined);
    t.match(modules.text, new RegExp(`target: ${target.replace(',', ',')}\\b`), `${target}: /config shows the target`);
  }
});
