// configs-api.test.ts drives Cortex's deprecated configs API through a real
// server: the versioned document, its JSON and YAML forms, Cortex's status
// codes and texts, and that what is posted here lands in the ruler (listed by
// the rules config API, evaluated, shown by the Prometheus rules API) and in
// the Alertmanager (GET /api/v1/alerts), and leaves with deactivate.

import t from 'tap';
import { parse as yamlParse } from 'yaml';
import { httpRequest, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const srv = await startTestServer();
t.teardown(() => srv.close());

const req = (method: string, path: string, tenant: string, body?: string, headers: Record<string, string> = {}): Promise<ClientResponse> =>
  httpRequest(srv.port, path, { method, headers: { 'X-Scope-OrgID': tenant, ...headers }, ...(body !== undefined ? { body } : {}) });

const RULES = `groups:
  - name: cfg-group
    interval: 1s
    rules:
      - record: cfg:one
        expr: vector(1)
      - alert: Always
        expr: vector(1) > 0
        labels:
          severity: page
`;
const AM = `route:
  receiver: hook
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:9/hook
templates:
  - 'myorg.tmpl'
`;
const TEMPLATE = '{{ define "__alertmanager" }}AlertManager <b>&</b>{{ end }}';
const DOC = { rule_format_version: '2', rules_files: { 'team.yaml': RULES }, template_files: { 'myorg.tmpl': TEMPLATE }, alertmanager_config: AM };

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('a tenant without a document', async (t) => {
  for (const p of ['rules', 'templates', 'alertmanager']) {
    const res = await req('GET', `/api/prom/configs/${p}`, 'none');
    t.equal(res.status, 404, p);
    t.equal(res.body, 'No configuration\n');
  }
  t.equal((await req('DELETE', '/api/prom/configs/deactivate', 'none')).status, 404);
  t.equal((await req('POST', '/api/prom/configs/restore', 'none')).body, 'No configuration\n');
  t.equal((await httpRequest(srv.port, '/api/prom/configs/rules')).status, 401, 'a tenant is required');
});

t.test('bad documents are refused with Cortex texts', async (t) => {
  const noVersion = await req('POST', '/api/prom/configs/rules', 'bad', JSON.stringify({ rules_files: { 'a.yaml': RULES } }));
  t.equal(noVersion.status, 400);
  t.equal(noVersion.body, 'Invalid rules: unsupported rule format version 0\n');
  const badRule = await req('POST', '/api/prom/configs/rules', 'bad', JSON.stringify({ rule_format_version: '2', rules_files: { 'a.yaml': 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n' } }));
  t.equal(badRule.status, 400);
  t.match(badRule.body, /^Invalid rules: error parsing a\.yaml: /);
  const badAm = await req('POST', '/api/prom/configs/alertmanager', 'bad', JSON.stringify({ rule_format_version: '2', alertmanager_config: 'route: {receiver: nope}\n' }));
  t.equal(badAm.status, 400);
  t.match(badAm.body, /^Invalid Alertmanager config: .*nope/);
  const badTemplate = await req('POST', '/api/prom/configs/templates', 'bad', JSON.stringify({ rule_format_version: '2', template_files: { 'x.tmpl': '{{ if }}' } }));
  t.equal(badTemplate.status, 400);
  t.match(badTemplate.body, /^Invalid templates: /);
  const version = await req('POST', '/api/prom/configs/rules', 'bad', JSON.stringify({ rule_format_version: '3' }));
  t.equal(version.status, 400);
  t.match(version.body, /unknown rule format version/);
  t.equal((await req('POST', '/api/prom/configs/rules', 'bad', '{')).status, 400);
  t.equal((await req('GET', '/api/prom/configs/rules', 'bad')).status, 404, 'nothing was stored');
});

t.test('validate', async (t) => {
  const ok = await req('POST', '/api/prom/configs/alertmanager/validate', 'v', AM);
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.body), { status: 'success' });
  const bad = await req('POST', '/api/prom/configs/alertmanager/validate', 'v', 'route: {receiver: nope}\n');
  t.equal(bad.status, 400);
  t.equal(JSON.parse(bad.body).status, 'error');
  t.match(JSON.parse(bad.body).error, /nope/);
});

t.test('set, get, evaluated, shown; deactivate and restore', async (t) => {
  const tenant = 'cfg-a';
  // A namespace of the newer rules API is not the configs API's to replace.
  const own = await req('POST', '/prometheus/config/v1/rules/mine', tenant, 'name: own\nrules:\n  - record: own:one\n    expr: vector(2)\n');
  t.equal(own.status, 202);

  const set = await req('POST', '/api/prom/configs/rules', tenant, JSON.stringify(DOC));
  t.equal(set.status, 204, set.body);
  t.equal(set.body, '');

  const got = await req('GET', '/api/prom/configs/alertmanager', tenant);
  t.equal(got.status, 200);
  t.match(got.headers['content-type'], /application\/json/);
  t.ok(got.body.includes('\\u003cb\\u003e\\u0026\\u003c/b\\u003e'), 'HTML characters escaped as Go does');
  t.ok(got.body.endsWith('}\n'));
  const view = JSON.parse(got.body);
  t.same(view, { id: 1, config: { rules_files: DOC.rules_files, rule_format_version: '2', template_files: DOC.template_files, alertmanager_config: AM }, deleted_at: '0001-01-01T00:00:00Z' });
  t.same(Object.keys(view.config), ['rules_files', 'rule_format_version', 'template_files', 'alertmanager_config']);

  // In the ruler's store: namespace = file name.
  const listed = yamlParse((await req('GET', '/prometheus/config/v1/rules', tenant)).body) as Record<string, Array<{ name: string }>>;
  t.same(Object.keys(listed).sort(), ['mine', 'team.yaml']);
  t.equal(listed['team.yaml']![0]!.name, 'cfg-group');
  // Evaluated: the Prometheus rules API shows an evaluation.
  const group = await until('an evaluation', async () => {
    const res = await req('GET', '/prometheus/api/v1/rules', tenant);
    const g = (JSON.parse(res.body).data.groups as Array<{ name: string; file: string; lastEvaluation: string; rules: Array<{ health: string }> }>).find((x) => x.name === 'cfg-group');
    return g !== undefined && g.lastEvaluation !== '0001-01-01T00:00:00Z' && g.rules.every((r) => r.health === 'ok') ? g : undefined;
  });
  t.equal(group.file, 'team.yaml');
  // In the Alertmanager's store.
  const am = await req('GET', '/api/v1/alerts', tenant);
  t.equal(am.status, 200);
  const amDoc = yamlParse(am.body) as { alertmanager_config: string; template_files: Record<string, string> };
  t.equal(amDoc.alertmanager_config, AM);
  t.same(amDoc.template_files, { 'myorg.tmpl': TEMPLATE });

  // YAML both ways; a new document replaces the rule files of the previous one.
  const yamlDoc = `rule_format_version: "2"\nrules_files:\n  other.yaml: |\n    groups:\n      - name: g2\n        rules:\n          - record: cfg:two\n            expr: vector(2)\n`;
  t.equal((await req('POST', '/api/prom/configs/rules', tenant, yamlDoc, { 'Content-Type': 'application/yaml' })).status, 204);
  const asYaml = await req('GET', '/api/prom/configs/rules', tenant, undefined, { Accept: 'application/yaml' });
  t.match(asYaml.headers['content-type'], /application\/yaml/);
  const y = yamlParse(asYaml.body) as { id: number; config: { rules_files: Record<string, string>; alertmanager_config: string } };
  t.equal(y.id, 2);
  t.same(Object.keys(y.config.rules_files), ['other.yaml']);
  t.equal(y.config.alertmanager_config, '');
  const after = yamlParse((await req('GET', '/prometheus/config/v1/rules', tenant)).body) as Record<string, unknown>;
  t.same(Object.keys(after).sort(), ['mine', 'other.yaml']);
  t.equal((await req('GET', '/api/v1/alerts', tenant)).status, 404, 'the Alertmanager configuration left with the document');

  // Deactivate: the rules leave the ruler; the document stays, marked.
  const deact = await req('DELETE', '/api/prom/configs/deactivate', tenant);
  t.equal(deact.status, 200);
  const gone = yamlParse((await req('GET', '/prometheus/config/v1/rules', tenant)).body) as Record<string, unknown>;
  t.same(Object.keys(gone), ['mine']);
  const marked = JSON.parse((await req('GET', '/api/prom/configs/rules', tenant)).body);
  t.equal(marked.id, 3);
  t.not(marked.deleted_at, '0001-01-01T00:00:00Z');
  t.ok(Math.abs(Date.parse(marked.deleted_at) - Date.now()) < 60_000);

  // Restore: back in the ruler.
  t.equal((await req('POST', '/api/prom/configs/restore', tenant)).status, 200);
  const back = yamlParse((await req('GET', '/prometheus/config/v1/rules', tenant)).body) as Record<string, unknown>;
  t.same(Object.keys(back).sort(), ['mine', 'other.yaml']);
  const restored = JSON.parse((await req('GET', '/api/prom/configs/templates', tenant)).body);
  t.equal(restored.id, 4);
  t.equal(restored.deleted_at, '0001-01-01T00:00:00Z');
});
