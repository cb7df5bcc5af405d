// grafana-replay.test.ts replays the requests Grafana's data-source-managed
// alerting (the Lotex ruler proxy, pkg/services/ngalert/api/lotex_ruler.go)
// sends to a Mimir data source once buildinfo says ruler_config_api "true":
// list namespaces, post a group (its YAML as Go's yaml.v3 writes it, the
// namespace path-escaped), read the namespace and the group back, read the
// rule state through <prefix>/api/v1/rules, then delete the group and the
// namespace; each answer is checked for what Grafana's decoders need.

import t from 'tap';
import { parse } from 'yaml';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const srv = await startTestServer({}, { storage: new FakeStorage() });
t.teardown(() => srv.close());

const HEADERS = { 'User-Agent': 'Grafana/11.3.0', 'X-Scope-OrgID': 'grafana', 'X-Grafana-Org-Id': '1', Accept: 'application/json, text/plain, */*' };
const BASE = '/prometheus/config/v1/rules';
const call = (method: string, path: string, body?: string, extra: Record<string, string> = {}): Promise<ClientResponse> =>
  httpRequest(srv.port, path, { method, headers: { ...HEADERS, ...extra }, ...(body !== undefined ? { body } : {}) });

// Go's url.PathEscape, as Grafana escapes the namespace (a folder title may hold '/').
const pathEscape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const NS = 'Team/Infra alerts';
const GROUP_YAML = `name: cpu
interval: 1m
rules:
    - alert: HighCPU
      expr: avg by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])) > 0.9
      for: 5m
      labels:
        severity: warning
      annotations:
        description: CPU of {{ $labels.instance }} is {{ $value | humanizePercentage }}
    - record: instance:cpu:rate5m
      expr: avg by (instance) (rate(node_cpu_seconds_total[5m]))
`;

t.test('Grafana ruler management round trip', async (t) => {
  const info = jsonOf<{ data: { application: string; features: Record<string, string> } }>(await call('GET', '/prometheus/api/v1/status/buildinfo'));
  t.equal(info.data.application, 'Grafana Mimir');
  t.equal(info.data.features.ruler_config_api, 'true', 'Grafana enables ruler management');

  const empty = await call('GET', BASE);
  t.equal(empty.status, 200);
  t.same(parse(empty.body), {}, 'no namespaces yet');

  const post = await call('POST', `${BASE}/${pathEscape(NS)}`, GROUP_YAML, { 'Content-Type': 'application/yaml' });
  t.equal(post.status, 202, post.body);
  t.same(JSON.parse(post.body), { status: 'success', data: null, errorType: '', error: '' });

  const list = await call('GET', BASE);
  t.equal(list.status, 200);
  t.match(list.headers['content-type'], /yaml/);
  const namespaces = parse(list.body) as Record<string, Array<{ name: string; interval: string; rules: Array<Record<string, unknown>> }>>;
  t.same(Object.keys(namespaces), [NS]);
  const g = namespaces[NS]![0]!;
  t.equal(g.name, 'cpu');
  t.equal(g.interval, '1m');
  t.match(g.rules[0], { alert: 'HighCPU', for: '5m', labels: { severity: 'warning' } });
  t.equal((g.rules[0]!.annotations as Record<string, string>).description, 'CPU of {{ $labels.instance }} is {{ $value | humanizePercentage }}');
  t.match(g.rules[1], { record: 'instance:cpu:rate5m' });

  const byNs = await call('GET', `${BASE}/${pathEscape(NS)}`);
  t.same(parse(byNs.body), namespaces);
  const one = await call('GET', `${BASE}/${pathEscape(NS)}/cpu`);
  t.equal(one.status, 200);
  t.same(parse(one.body), g);

  type Rules = { status: string; data: { groups: Array<{ name: string; file: string; rules: Array<{ type: string; name: string; health: string }> }> } };
  let rules = jsonOf<Rules>(await call('GET', '/prometheus/api/v1/rules'));
  // The ruler picks the change up asynchronously (as Mimir's NotifySyncRulesAsync).
  for (let i = 0; i < 50 && rules.data.groups.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    rules = jsonOf<Rules>(await call('GET', '/prometheus/api/v1/rules'));
  }
  t.equal(rules.status, 'success');
  t.same(
    rules.data.groups.map((x) => [x.file, x.name, x.rules.map((r) => `${r.type}:${r.name}:${r.health}`)]),
    [[NS, 'cpu', ['alerting:HighCPU:unknown', 'recording:instance:cpu:rate5m:unknown']]],
    'the group is loaded (not evaluated yet)',
  );

  t.equal((await call('DELETE', `${BASE}/${pathEscape(NS)}/cpu`)).status, 202);
  t.equal((await call('GET', `${BASE}/${pathEscape(NS)}/cpu`)).status, 404);
  t.equal((await call('POST', `${BASE}/${pathEscape(NS)}`, GROUP_YAML)).status, 202);
  t.equal((await call('DELETE', `${BASE}/${pathEscape(NS)}`)).status, 202);
  t.same(parse((await call('GET', BASE)).body), {});
});
