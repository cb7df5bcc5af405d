// alertmanager-prometheus.test.ts (peer suite): a real Prometheus 3 evaluates
// an alerting rule and sends its alerts to our Alertmanager, configured as a
// Mimir user would (`path_prefix: /alertmanager`, `api_version: v2`,
// X-Scope-OrgID in `http_headers`); the alert shows up in the tenant's API v2
// with Prometheus's labels, annotations and generator URL, and reaches the
// tenant's webhook.

import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';


t.test('Prometheus 3 sends its alerts to our Alertmanager', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const bodies: Array<Record<string, any>> = [];
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, any>);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => hook.close());
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;

  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const base = `http://127.0.0.1:${ours.port}`;
  const cfg = `route: {receiver: hook, group_by: [alertname], group_wait: 0s, group_interval: 1s}\nreceivers: [{name: hook, webhook_configs: [{url: '${hookUrl}'}]}]\n`;
  t.equal((await fetch(`${base}/api/v1/alerts`, { method: 'POST', headers: { 'X-Scope-OrgID': 'prom' }, body: JSON.stringify({ alertmanager_config: cfg }) })).status, 201);

  const dir = await makeTempDir('peer-prom3-am-');
  await writeFile(
    join(dir, 'rules.yml'),
    'groups:\n  - name: peer\n    interval: 1s\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        labels: {severity: page}\n        annotations: {summary: "value is {{ $value }}"}\n',
  );
  const port = await freePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global: {evaluation_interval: 1s}
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ['127.0.0.1:${ours.port}']}]
      path_prefix: /alertmanager
      api_version: v2
      http_headers:
        X-Scope-OrgID: {values: [prom]}
`,
  );
  const prom = await startServer({
    name: 'prometheus3',
    command: PROMETHEUS3.path,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());

  let alerts: Array<Record<string, any>> = [];
  // Prometheus evaluates every second and flushes its notification queue at once, but its start and its
  // Alertmanager discovery take longer on a loaded machine: wait up to a minute.
  for (let i = 0; i < 600 && alerts.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    alerts = (await (await fetch(`${base}/alertmanager/api/v2/alerts`, { headers: { 'X-Scope-OrgID': 'prom' } })).json()) as Array<Record<string, any>>;
  }
  t.equal(alerts.length, 1, prom.output());
  t.same(alerts[0]?.labels, { alertname: 'AlwaysFiring', severity: 'page' });
  t.same(alerts[0]?.annotations, { summary: 'value is 1' });
  t.match(alerts[0]?.generatorURL, /\/graph\?g0\.expr=vector%281%29/);
  t.same(alerts[0]?.receivers, [{ name: 'hook' }]);
  for (let i = 0; i < 400 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(bodies[0]?.groupKey, '{}:{alertname="AlwaysFiring"}');
  t.equal(bodies[0]?.alerts[0]?.labels.severity, 'page');
  // Another tenant has none of it.
  const other = await fetch(`${base}/alertmanager/api/v2/alerts`, { headers: { 'X-Scope-OrgID': 'someone-else' } });
  t.equal(other.status, 404);
});
