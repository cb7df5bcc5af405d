// evaluation.test.ts runs provisioned Grafana rules end to end over the
// native storage: series pushed by remote write, a webhook contact point on
// a local sink, a policy tree with a mute timing, a template, and a rule
// group whose query crosses a threshold. The sink receives the notification
// with the templated annotation; the route under an active mute timing
// receives nothing; a second organisation's rules see only its own data.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { missingNativeExports } from '../storage/native.js';
import { httpRequest, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { parseMimeMessage, startSmtpSink } from '../testing/smtp-sink.js';

if (missingNativeExports().length > 0) {
  t.comment('native binding missing');
  if (process.env.CI === 'true') t.fail('native binding missing');
  process.exit(0);
}

type Payload = {
  receiver: string;
  status: string;
  version?: string;
  orgId?: number;
  state?: string;
  title?: string;
  message?: string;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; endsAt?: string; generatorURL: string; silenceURL: string; ruleUID?: string; values?: Record<string, number>; valueString?: string }>;
};
const received = new Map<string, Payload[]>();
const sink = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const list = received.get(req.url ?? '') ?? [];
    list.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Payload);
    received.set(req.url ?? '', list);
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
t.teardown(() => sink.close());
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const smtp = await startSmtpSink();
t.teardown(smtp.close);
const srv = await startTestServer({
  'grafana-provisioning.base-interval': 1000,
  'ruler.external.url': 'http://grafana.test:3000/',
  'grafana-provisioning.smtp.host': `127.0.0.1:${smtp.port}`,
  'grafana-provisioning.smtp.from-address': 'alerts@grafana.test',
});
t.teardown(() => srv.close());

const P = '/api/v1/provisioning';
function call(method: string, path: string, org: string, body?: unknown): Promise<ClientResponse> {
  return httpRequest(srv.port, P + path, { method, headers: { 'X-Scope-OrgID': org, 'Content-Type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}
async function ok(p: Promise<ClientResponse>, status: number): Promise<void> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.body}`);
}
async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 400 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Data: host a is loaded, host b is not; org-2 has only a quiet host.
let lastPush = 0;
const push = (org: string, host: string, v: number): Promise<ClientResponse> => {
  const ts = Math.max(Date.now(), lastPush + 1);
  lastPush = ts;
  return httpRequest(srv.port, '/api/v1/push', {
    method: 'POST',
    headers: { 'X-Scope-OrgID': org, ...REMOTE_WRITE_HEADERS },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'node_load'], ['host', host]], samples: [[ts, v]] }]),
  });
};
await ok(push('org-1', 'a', 5), 200);
await ok(push('org-1', 'b', 1), 200);
await ok(push('org-2', 'c', 1), 200);

function loadRule(uid: string, route: string): Record<string, unknown> {
  return {
    uid,
    title: `Load ${route}`,
    condition: 'C',
    data: [
      { refId: 'A', relativeTimeRange: { from: 60, to: 0 }, datasourceUid: 'mimir', model: { expr: 'node_load', intervalMs: 1000 } },
      { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } } },
      { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [2] } }] } },
    ],
    noDataState: 'OK',
    execErrState: 'Error',
    for: '0s',
    labels: { route, severity: '{{ if gt $values.B.Value 4.0 }}page{{ else }}ticket{{ end }}' },
    annotations: { summary: 'host {{ $labels.host }} load {{ $values.B.Value }} in {{ $labels.grafana_folder }}' },
  };
}

for (const org of ['org-1', 'org-2']) {
  await ok(call('POST', '/contact-points', org, { name: 'open', type: 'webhook', settings: { url: `${sinkUrl}/${org}/open` } }), 202);
  await ok(call('POST', '/contact-points', org, { name: 'muted', type: 'webhook', settings: { url: `${sinkUrl}/${org}/muted` } }), 202);
  // org-1's open contact point also e-mails (a second integration under the same name).
  if (org === 'org-1') await ok(call('POST', '/contact-points', org, { name: 'open', type: 'email', settings: { addresses: 'oncall@example.org' } }), 202);
  await ok(call('POST', '/mute-timings', org, { name: 'always', time_intervals: [{ times: [{ start_time: '00:00', end_time: '24:00' }] }] }), 201);
  await ok(
    call('PUT', '/policies', org, {
      receiver: 'open',
      group_by: ['alertname', 'host'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
      routes: [{ receiver: 'muted', object_matchers: [['route', '=', 'muted']], mute_time_intervals: ['always'] }],
    }),
    202,
  );
  await ok(call('PUT', '/folder/infra/rule-groups/load', org, { interval: 1, rules: [loadRule(`${org}-open`, 'open'), loadRule(`${org}-muted`, 'muted')] }), 200);
}

t.test('the open route receives the templated notification', async (t) => {
  const payload = await until('a notification at the open sink', () => received.get('/org-1/open')?.find((p) => p.alerts.some((a) => a.labels.host === 'a')));
  t.equal(payload.status, 'firing');
  t.equal(payload.receiver, 'open');
  const alert = payload.alerts.find((a) => a.labels.host === 'a')!;
  // Grafana's webhook payload: private labels (__name__, __alert_rule_uid__, ...) and annotations are not shown.
  t.same(alert.labels, { alertname: 'Load open', grafana_folder: 'infra', host: 'a', route: 'open', severity: 'page' });
  t.same(alert.annotations, { summary: 'host a load 5 in infra' });
  t.equal(payload.version, '1');
  t.equal(payload.orgId, 1);
  t.equal(payload.state, 'alerting');
  t.equal(payload.title, '[FIRING:1] Load open a (infra open page)');
  t.equal(alert.ruleUID, 'org-1-open');
  t.same(alert.values, { B: 5, C: 1 });
  t.equal(alert.valueString, "[ var='B' labels={__name__=node_load, host=a} value=5 ], [ var='C' labels={__name__=node_load, host=a} value=1 ]");
  t.equal(alert.endsAt, '0001-01-01T00:00:00Z');
  t.equal(alert.generatorURL, 'http://grafana.test:3000/alerting/grafana/org-1-open/view?orgId=1');
  t.match(alert.silenceURL, /^http:\/\/grafana\.test:3000\/alerting\/silence\/new\?alertmanager=grafana&matcher=__alert_rule_uid__%3Dorg-1-open&matcher=host%3Da&matcher=route%3Dopen&matcher=severity%3Dpage&orgId=1$/);
  t.ok(
    payload.message!.startsWith('**Firing**\n\nValue: B=5, C=1\nLabels:\n - alertname = Load open\n - grafana_folder = infra\n - host = a\n - route = open\n - severity = page\nAnnotations:\n - summary = host a load 5 in infra\nSource: '),
    payload.message ?? '',
  );
  // Host b stays under the threshold.
  t.notOk([...(received.get('/org-1/open') ?? [])].some((p) => p.alerts.some((a) => a.labels.host === 'b')));
});

t.test('the e-mail integration of the same contact point sends Grafana\'s e-mail through the configured SMTP server', async (t) => {
  const mail = await until('an e-mail at the SMTP sink', () => smtp.mails.find((m) => parseMimeMessage(m.data).headers.get('Subject')?.startsWith('[FIRING:1] Load open a ')));
  t.equal(mail.from, 'alerts@grafana.test');
  t.same(mail.to, ['oncall@example.org']);
  const { headers, parts } = parseMimeMessage(mail.data);
  t.equal(headers.get('From'), '"Grafana" <alerts@grafana.test>');
  t.equal(headers.get('Subject'), '[FIRING:1] Load open a (infra open page)');
  t.match(parts.get('text/html') ?? '', 'host a load 5 in infra');
  t.match(parts.get('text/plain') ?? '', 'Summary: host a load 5 in infra');
});

t.test('nothing is delivered while the mute timing is active', async (t) => {
  await until('the open sink to have been notified', () => received.get('/org-1/open'));
  // Several evaluations and group intervals later, the muted route has still sent nothing.
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(received.get('/org-1/muted'), undefined);
  // Lifting the mute timing delivers the muted route's alert.
  await ok(call('PUT', '/policies', 'org-1', { receiver: 'open', group_by: ['alertname', 'host'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h', routes: [{ receiver: 'muted', object_matchers: [['route', '=', 'muted']] }] }), 202);
  const p = await until('a notification at the unmuted sink', () => received.get('/org-1/muted')?.[0]);
  t.equal(p.alerts[0]!.labels.alertname, 'Load muted');
});

t.test('another organisation evaluates only its own data', async (t) => {
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(received.get('/org-2/open'), undefined, 'org-2 has no loaded host');
  await ok(push('org-2', 'c', 9), 200);
  const p = await until('org-2 notification', () => received.get('/org-2/open')?.[0]);
  t.same(
    p.alerts.map((a) => a.labels.host),
    ['c'],
  );
});

t.test('a resolved alert is sent as resolved', async (t) => {
  await ok(push('org-1', 'a', 0.5), 200);
  const p = await until('a resolved notification', () => received.get('/org-1/open')?.find((x) => x.status === 'resolved' && x.alerts.some((a) => a.labels.host === 'a')));
  t.equal(p.alerts.find((a) => a.labels.host === 'a')!.status, 'resolved');
});

t.test('recording rules: accepted, shown with their record, evaluated and written through the push path', async (t) => {
  const rec = (metric: string, from: string): Record<string, unknown> => ({
    uid: `rec-${metric.replace(/[^a-z]/g, '')}`,
    title: `Record ${metric}`,
    record: { metric, from },
    data: [
      { refId: 'A', relativeTimeRange: { from: 60, to: 0 }, datasourceUid: 'mimir', model: { expr: 'node_load', instant: true } },
      { refId: 'B', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'math', expression: '$A * 10' } },
    ],
    labels: { source: 'grafana' },
  });
  // Invalid records are refused as Grafana refuses them.
  const bad = await call('PUT', '/folder/rec/rule-groups/bad', 'org-1', { interval: 1, rules: [rec('not a metric', 'B')] });
  t.equal(bad.status, 400);
  t.equal((JSON.parse(bad.body) as { message: string }).message, 'invalid alert rule: metric name for recording rule must be a valid Prometheus metric name');
  const badFrom = await call('PUT', '/folder/rec/rule-groups/bad', 'org-1', { interval: 1, rules: [rec('load_x10', 'Z')] });
  t.equal(badFrom.status, 400);
  t.equal((JSON.parse(badFrom.body) as { message: string }).message, 'invalid alert rule: from Z does not exist, must be one of [A,B]');

  await ok(call('PUT', '/folder/rec/rule-groups/rec', 'org-1', { interval: 1, rules: [rec('load_x10', 'B')] }), 200);
  const got = JSON.parse((await call('GET', '/alert-rules/rec-loadx', 'org-1')).body) as Record<string, unknown>;
  t.same(got.record, { metric: 'load_x10', from: 'B', target_datasource_uid: 'mimir' });
  t.equal(got.condition, '');

  type Vector = { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  const query = async (): Promise<Vector['data']['result']> => {
    const r = await httpRequest(srv.port, `/prometheus/api/v1/query?query=${encodeURIComponent('load_x10')}`, { headers: { 'X-Scope-OrgID': 'org-1' } });
    return r.status === 200 ? (JSON.parse(r.body) as Vector).data.result : [];
  };
  let result: Vector['data']['result'] = [];
  await until('the recorded series', async () => {
    result = await query();
    return result.length >= 2 ? true : undefined;
  });
  const byHost = new Map(result.map((s) => [s.metric.host, s]));
  t.same(byHost.get('b')?.metric, { __name__: 'load_x10', host: 'b', source: 'grafana' });
  t.equal(byHost.get('b')?.value[1], '10');
  // org-2 has no recorded series: each organisation writes to its own tenant.
  const other = await httpRequest(srv.port, `/prometheus/api/v1/query?query=load_x10`, { headers: { 'X-Scope-OrgID': 'org-2' } });
  t.same((JSON.parse(other.body) as Vector).data.result, []);
});
