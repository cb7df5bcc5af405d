// evaluation.test.ts runs rules end to end in a real server over the native
// storage: series pushed by remote write, a group posted through the config
// API with a 1s interval, then the recorded series and ALERTS read back
// through the query API, the rule state through /api/v1/rules and
// /api/v1/alerts, a failing group reported with health "err", alerts
// delivered to an Alertmanager stand-in with the tenant's X-Scope-OrgID, and
// a second tenant that sees none of it.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { missingNativeExports } from '../storage/native.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

if (missingNativeExports().length > 0) {
  t.comment('native binding missing');
  if (process.env.CI === 'true') t.fail('native binding missing');
  process.exit(0);
}

// An Alertmanager stand-in: records every POST /api/v2/alerts.
const received: Array<{ headers: IncomingHttpHeaders; alerts: Array<Record<string, unknown>> }> = [];
const am = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/api/v2/alerts') received.push({ headers: req.headers, alerts: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, unknown>> });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => am.listen(0, '127.0.0.1', r));
t.teardown(() => am.close());

const srv = await startTestServer({
  'ruler.alertmanager-url': `http://127.0.0.1:${(am.address() as AddressInfo).port}`,
  'ruler.external.url': 'http://ruler.example:9009/prometheus',
  'ruler.resend-delay': 1000,
  'ruler.tenant-federation.enabled': true,
  'ingester.rate-update-period': 1000,
});
t.teardown(() => srv.close());

const req = (method: string, path: string, tenant: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<ClientResponse> =>
  httpRequest(srv.port, path, { method, headers: { 'X-Scope-OrgID': tenant, ...headers }, ...(body !== undefined ? { body } : {}) });

async function query(tenant: string, expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await req('GET', `/prometheus/api/v1/query?query=${encodeURIComponent(expr)}`, tenant);
  return jsonOf<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(res).data.result;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const now = Date.now();
const push = await req(
  'POST',
  '/api/v1/push',
  'eval-1',
  encodeWriteRequestSnappy([
    { labels: [['__name__', 'up'], ['instance', 'i1'], ['job', 'node']], samples: [[now, 0]] },
    { labels: [['__name__', 'up'], ['instance', 'i2'], ['job', 'node']], samples: [[now, 1]] },
    { labels: [['__name__', 'up'], ['instance', 'i3'], ['job', 'api']], samples: [[now, 1]] },
  ]),
  REMOTE_WRITE_HEADERS,
);
if (push.status !== 200) throw new Error(`push: ${push.status} ${push.body}`);

const GROUP = `name: availability
interval: 1s
rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      source: rule
  - alert: InstanceDown
    expr: up == 0
    for: 2s
    labels:
      severity: page
    annotations:
      summary: instance down
`;
for (const body of [GROUP, 'name: broken\ninterval: 1s\nrules:\n  - record: dup\n    expr: label_replace(up, "instance", "", "", "")\n']) {
  const r = await req('POST', '/prometheus/config/v1/rules/infra', 'eval-1', body);
  if (r.status !== 202) throw new Error(`POST: ${r.status} ${r.body}`);
}

t.test('recording rule output is queryable', async (t) => {
  const rows = await until('job:up:sum', async () => {
    const r = await query('eval-1', 'job:up:sum');
    return r.length === 2 ? r : undefined;
  });
  const byJob = Object.fromEntries(rows.map((r) => [r.metric.job, r]));
  t.same(byJob.node!.metric, { __name__: 'job:up:sum', job: 'node', source: 'rule' });
  t.equal(byJob.node!.value[1], '1');
  t.equal(byJob.api!.value[1], '1');
});

t.test('alert goes pending, then firing, with ALERTS and ALERTS_FOR_STATE', async (t) => {
  const firing = await until('ALERTS firing', async () => {
    const r = await query('eval-1', 'ALERTS{alertstate="firing"}');
    return r.length === 1 ? r : undefined;
  });
  t.same(firing[0]!.metric, { __name__: 'ALERTS', alertname: 'InstanceDown', alertstate: 'firing', instance: 'i1', job: 'node', severity: 'page' });
  const forState = await query('eval-1', 'ALERTS_FOR_STATE');
  t.equal(forState.length, 1);
  t.same(forState[0]!.metric, { __name__: 'ALERTS_FOR_STATE', alertname: 'InstanceDown', instance: 'i1', job: 'node', severity: 'page' });
  t.ok(Math.abs(Number(forState[0]!.value[1]) - now / 1000) < 30, 'ALERTS_FOR_STATE holds activeAt in seconds');
  const pendingBefore = await query('eval-1', `ALERTS{alertstate="pending"}[1m]`);
  t.type(pendingBefore, Array);
});

t.test('/api/v1/rules and /api/v1/alerts', async (t) => {
  const body = await until('rules with health', async () => {
    const b = jsonOf<{ status: string; data: { groups: Array<Record<string, unknown> & { rules: Array<Record<string, unknown>> }> } }>(await req('GET', '/prometheus/api/v1/rules', 'eval-1'));
    const broken = b.data.groups.find((g) => g.name === 'broken');
    return broken?.rules[0]?.health === 'err' && b.data.groups.find((g) => g.name === 'availability')?.rules[1]?.state === 'firing' ? b : undefined;
  });
  t.equal(body.status, 'success');
  const [avail, broken] = [body.data.groups.find((g) => g.name === 'availability')!, body.data.groups.find((g) => g.name === 'broken')!];
  t.equal(avail.file, 'infra');
  t.equal(avail.interval, 1);
  t.equal(avail.sourceTenants, null);
  t.match(avail.lastEvaluation, /^\d{4}-\d\d-\d\dT/);
  t.match(avail.rules[0], { name: 'job:up:sum', query: 'sum by (job) (up)', labels: { source: 'rule' }, health: 'ok', lastError: '', type: 'recording' });
  t.match(avail.rules[1], { state: 'firing', name: 'InstanceDown', query: 'up == 0', duration: 2, keepFiringFor: 0, labels: { severity: 'page' }, annotations: { summary: 'instance down' }, health: 'ok', type: 'alerting' });
  const alerts = avail.rules[1]!.alerts as Array<Record<string, unknown>>;
  t.equal(alerts.length, 1);
  t.match(alerts[0], { labels: { alertname: 'InstanceDown', instance: 'i1', job: 'node', severity: 'page' }, annotations: { summary: 'instance down' }, state: 'firing', value: '0e+00' });
  t.equal(broken.rules[0]!.health, 'err');
  t.match(broken.rules[0]!.lastError, /same labelset/);

  const onlyRecording = jsonOf<{ data: { groups: Array<{ name: string; rules: Array<{ type: string }> }> } }>(await req('GET', '/prometheus/api/v1/rules?type=record&rule_group[]=availability', 'eval-1'));
  t.same(onlyRecording.data.groups.map((g) => [g.name, g.rules.map((r) => r.type)]), [['availability', ['recording']]]);
  const excl = jsonOf<{ data: { groups: Array<{ rules: Array<{ alerts?: unknown[] }> }> } }>(await req('GET', '/prometheus/api/v1/rules?type=alert&exclude_alerts=true', 'eval-1'));
  t.same(excl.data.groups[0]!.rules[0]!.alerts, []);
  const page1 = jsonOf<{ data: { groups: Array<{ name: string }>; groupNextToken?: string } }>(await req('GET', '/prometheus/api/v1/rules?group_limit=1', 'eval-1'));
  t.equal(page1.data.groups.length, 1);
  t.type(page1.data.groupNextToken, 'string');
  const page2 = jsonOf<{ data: { groups: Array<{ name: string }>; groupNextToken?: string } }>(
    await req('GET', `/prometheus/api/v1/rules?group_limit=1&group_next_token=${page1.data.groupNextToken}`, 'eval-1'),
  );
  t.equal(page2.data.groups.length, 1);
  t.not(page2.data.groups[0]!.name, page1.data.groups[0]!.name);
  t.equal(page2.data.groupNextToken, undefined);

  const a = jsonOf<{ data: { alerts: Array<Record<string, unknown>> } }>(await req('GET', '/prometheus/api/v1/alerts', 'eval-1'));
  t.equal(a.data.alerts.length, 1);
  t.match(a.data.alerts[0], { state: 'firing', labels: { alertname: 'InstanceDown' } });
});

t.test('firing alerts reach the Alertmanager with the tenant', async (t) => {
  const got = await until('notification', async () => received.find((r) => r.alerts.some((a) => (a.labels as Record<string, string>).alertname === 'InstanceDown')));
  t.equal(got.headers['x-scope-orgid'], 'eval-1');
  t.match(got.headers['content-type'], /application\/json/);
  const alert = got.alerts[0]!;
  t.same(Object.keys(alert).sort(), ['annotations', 'endsAt', 'generatorURL', 'labels', 'startsAt']);
  t.same(alert.labels, { alertname: 'InstanceDown', instance: 'i1', job: 'node', severity: 'page' });
  t.equal(alert.generatorURL, 'http://ruler.example:9009/prometheus/graph?g0.expr=up+%3D%3D+0&g0.tab=1');
  t.ok(Date.parse(alert.endsAt as string) > Date.parse(alert.startsAt as string), 'endsAt is the validity horizon');
  // Re-sent every resend delay while firing.
  await until('a resend', async () => (received.filter((r) => r.alerts.some((a) => (a.labels as Record<string, string>).alertname === 'InstanceDown')).length >= 2 ? true : undefined));
});

t.test('federated group reads its source tenants and writes to its own', async (t) => {
  const other = await req('POST', '/api/v1/push', 'eval-3', encodeWriteRequestSnappy([{ labels: [['__name__', 'up'], ['instance', 'i9'], ['job', 'node']], samples: [[Date.now(), 1]] }]), REMOTE_WRITE_HEADERS);
  t.equal(other.status, 200);
  const fed = 'name: fed\ninterval: 1s\nsource_tenants: [eval-1, eval-3]\nrules:\n  - record: fed:up:count\n    expr: count(up)\n';
  t.equal((await req('POST', '/prometheus/config/v1/rules/fed', 'eval-fed', fed)).status, 202);
  const rows = await until('fed:up:count', async () => {
    const r = await query('eval-fed', 'fed:up:count');
    return r.length === 1 ? r : undefined;
  });
  t.equal(rows[0]!.value[1], '4', 'three series of eval-1 and one of eval-3');
  t.same(await query('eval-1', 'fed:up:count'), [], 'written to the group owner only');
  const groups = jsonOf<{ data: { groups: Array<{ sourceTenants: string[] }> } }>(await req('GET', '/prometheus/api/v1/rules', 'eval-fed')).data.groups;
  t.same(groups[0]!.sourceTenants, ['eval-1', 'eval-3']);
});

t.test('ruler metrics under Mimir names', async (t) => {
  const m = (await httpRequest(srv.port, '/metrics')).body;
  t.match(m, /cortex_prometheus_rule_evaluations_total\{user="eval-1",rule_group="infra;availability"\} [1-9]/);
  t.match(m, /cortex_prometheus_rule_evaluation_failures_total\{user="eval-1",rule_group="infra;broken"\} [1-9]/);
  t.match(m, /cortex_prometheus_rule_group_last_duration_seconds\{user="eval-1",rule_group="infra;availability"\}/);
  t.match(m, /cortex_prometheus_rule_group_rules\{user="eval-1",rule_group="infra;availability"\} 2/);
  t.match(m, /cortex_prometheus_notifications_sent_total\{user="eval-1"\} [1-9]/);
});

t.test('rule samples count in the rule ingestion rate', async (t) => {
  const stats = await until('RuleIngestionRate', async () => {
    const s = jsonOf<{ RuleIngestionRate: number; APIIngestionRate: number }>(await req('GET', '/api/v1/user_stats', 'eval-1'));
    return s.RuleIngestionRate > 0 ? s : undefined;
  });
  t.ok(stats.RuleIngestionRate > 0);
});

t.test('another tenant sees nothing', async (t) => {
  const rules = jsonOf<{ data: { groups: unknown[] } }>(await req('GET', '/prometheus/api/v1/rules', 'eval-2'));
  t.same(rules.data.groups, []);
  const alerts = jsonOf<{ data: { alerts: unknown[] } }>(await req('GET', '/prometheus/api/v1/alerts', 'eval-2'));
  t.same(alerts.data.alerts, []);
  t.same(await query('eval-2', 'job:up:sum'), []);
  t.same(await query('eval-2', 'ALERTS'), []);
});

t.test('deleting the group marks its series stale', async (t) => {
  t.equal((await req('DELETE', '/prometheus/config/v1/rules/infra/availability', 'eval-1')).status, 202);
  await until('stale job:up:sum', async () => ((await query('eval-1', 'job:up:sum')).length === 0 ? true : undefined));
  t.same(await query('eval-1', 'ALERTS'), [], 'ALERTS gone too');
});
