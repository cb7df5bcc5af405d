// external-labels.test.ts: Mimir's per-tenant ruler_external_labels limit.
// Read from the YAML (and a tenant's runtime overrides), shown by /config
// and /runtime_config as a map; the tenant's rule templates see them as
// $externalLabels and its alerts reach the Alertmanager with them added
// where an alert lacks the label; other tenants get none.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { configTree } from '../config/config.js';
import { FLAGS } from '../config/flags.js';
import { applyYaml, defaultValues, labelMapOf, parseFlagText } from '../config/parse.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { nativeSkip } from '../testing/native-skip.js';
import { startTestServer } from '../testing/server.js';

t.test('ruler_external_labels is a map of strings in YAML, name=value pairs on the command line', async (t) => {
  const values = defaultValues();
  t.same(labelMapOf(values.get('ruler.external-labels')), {}, 'none by default');
  applyYaml(values, 'limits:\n  ruler_external_labels:\n    region: eu\n    cluster: c1\n', 'test.yaml');
  t.same(labelMapOf(values.get('ruler.external-labels')), { cluster: 'c1', region: 'eu' });
  t.same((configTree(values, 'values').limits as Record<string, unknown>).ruler_external_labels, { cluster: 'c1', region: 'eu' }, '/config shows the map');
  t.throws(() => applyYaml(defaultValues(), 'limits:\n  ruler_external_labels: [a, b]\n', 'bad.yaml'), /cannot unmarshal !!seq into limits.ruler_external_labels/);
  const def = FLAGS.find((f) => f.name === 'ruler.external-labels')!;
  t.same(labelMapOf(parseFlagText(def, 'b=2,a=1')), { a: '1', b: '2' });
  t.throws(() => parseFlagText(def, 'novalue'), /expected name=value/);
});

t.test("a tenant's external labels reach its templates and its alerts", { skip: nativeSkip() }, async (t) => {
  const received: Array<Record<string, unknown>> = [];
  const am = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/v2/alerts') received.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, unknown>>));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => am.listen(0, '127.0.0.1', r));
  t.teardown(() => am.close());
  const dir = mkdtempSync(join(tmpdir(), 'ruler-ext-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runtime = join(dir, 'runtime.yaml');
  writeFileSync(runtime, 'overrides:\n  ext-1:\n    ruler_external_labels:\n      cluster: eu-1\n      severity: low\n');
  const srv = await startTestServer({
    'ruler.alertmanager-url': `http://127.0.0.1:${(am.address() as AddressInfo).port}`,
    'ruler.resend-delay': 1000,
    'runtime-config.file': runtime,
  });
  t.teardown(() => srv.close());
  const overrides = await httpRequest(srv.port, '/runtime_config?mode=diff');
  t.match(overrides.body, /ruler_external_labels:\n\s+cluster: eu-1\n\s+severity: low/, '/runtime_config shows the map');

  const group = 'name: g\ninterval: 1s\nrules:\n  - alert: Always\n    expr: vector(1)\n    labels:\n      severity: page\n    annotations:\n      where: "in {{ $externalLabels.cluster }}"\n';
  for (const tenant of ['ext-1', 'ext-2']) {
    const push = await httpRequest(srv.port, '/api/v1/push', { method: 'POST', headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant }, body: encodeWriteRequestSnappy([{ labels: [['__name__', 'up']], samples: [[Date.now(), 1]] }]) });
    t.equal(push.status, 200);
    const post = await httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers: { 'X-Scope-OrgID': tenant }, body: group });
    t.equal(post.status, 202);
  }
  for (let i = 0; i < 150 && new Set(received.map((a) => (a.annotations as Record<string, string>).where)).size < 2; i++) await new Promise((r) => setTimeout(r, 100));
  const withCluster = received.find((a) => (a.labels as Record<string, string>).cluster === 'eu-1');
  t.ok(withCluster, 'the tenant with external labels sends them');
  t.same(withCluster?.labels, { alertname: 'Always', cluster: 'eu-1', severity: 'page' }, "added where missing: the alert's own severity wins");
  t.same(withCluster?.annotations, { where: 'in eu-1' }, '$externalLabels in templates');
  const plain = received.find((a) => (a.labels as Record<string, string>).cluster === undefined);
  t.same(plain?.labels, { alertname: 'Always', severity: 'page' }, 'the other tenant sends none');
  t.same(plain?.annotations, { where: 'in ' });
  const api = jsonOf<{ data: { alerts: Array<{ labels: Record<string, string> }> } }>(await httpRequest(srv.port, '/prometheus/api/v1/alerts', { headers: { 'X-Scope-OrgID': 'ext-1' } }));
  t.same(api.data.alerts[0]?.labels, { alertname: 'Always', severity: 'page' }, 'the API shows the rule labels only, as Prometheus');
});
