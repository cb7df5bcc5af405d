// grafana-notify.test.ts sends notifications through Grafana's own
// integrations (webhook, Google Chat, WeCom) to a local sink and compares the
// bodies field by field with what Grafana writes: the webhook's extended
// payload (title and message from Grafana's default templates, state, orgId,
// values, value string, silence URL, private labels removed), the Google Chat
// card and the WeCom markdown message.

import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { integrationFor } from '../alertmanager/notifiers/registry.js';
import { buildTemplateData, type NotifyContext } from '../alertmanager/notifiers/notifier.js';
import { fingerprintHex, type Alert } from '../alertmanager/types.js';
import { log } from '../log.js';
import { GRAFANA_INTEGRATIONS, GRAFANA_VERSION, grafanaExpander, signWebhook } from './grafana-notify.js';

const got: Array<{ url: string; method: string; headers: IncomingHttpHeaders; body: string }> = [];
const sink = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    got.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200).end('{"errcode":0}');
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
t.teardown(() => sink.close());
const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const labels = {
  __name__: 'node_load',
  __alert_rule_uid__: 'rule-1',
  __alert_rule_namespace_uid__: 'infra',
  alertname: 'High load',
  grafana_folder: 'Infra',
  host: 'a b',
  severity: 'page',
};
const firing: Alert = {
  labels,
  annotations: { summary: 'load <5>', __orgId__: '7', __values__: '{"B":5.5,"C":1}', __value_string__: "[ var='B' labels={host=a b} value=5.5 ]" },
  startsAt: NOW - 60_000,
  endsAt: NOW + 240_000,
  generatorURL: 'http://grafana.example:3000/alerting/grafana/rule-1/view',
  updatedAt: NOW,
  timeout: false,
};
const resolved: Alert = { ...firing, labels: { ...labels, host: 'c' }, annotations: { summary: 'ok', __orgId__: '7' }, endsAt: NOW - 1000 };

function ctx(): NotifyContext {
  return {
    tenant: '7',
    receiver: 'ops',
    groupKey: '{}:{alertname="High load"}',
    groupLabels: { alertname: 'High load' },
    externalURL: 'http://grafana.example:3000/',
    now: NOW,
    signal: new AbortController().signal,
    expand: { text: (s) => s, html: (s) => s },
    logger: log,
  };
}

function notifier(type: string, settings: Record<string, unknown>, templates: string[] = []) {
  const def = integrationFor(GRAFANA_INTEGRATIONS[type]!.key)!;
  return def.create({ send_resolved: true, settings, templates }, { logger: log, checkUrl: () => undefined });
}

const firingMessage = [
  '**Firing**',
  '',
  'Value: B=5.5, C=1',
  'Labels:',
  ' - alertname = High load',
  ' - grafana_folder = Infra',
  ' - host = a b',
  ' - severity = page',
  'Annotations:',
  ' - summary = load <5>',
  'Source: http://grafana.example:3000/alerting/grafana/rule-1/view?orgId=7',
  'Silence: http://grafana.example:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Drule-1&matcher=host%3Da+b&matcher=severity%3Dpage&orgId=7',
  '',
].join('\n');

t.test('webhook: Grafana extended payload, field by field', async (t) => {
  got.length = 0;
  await notifier('webhook', { url: `${base}/hook`, username: 'u', password: 'p' }).notify(ctx(), [firing, resolved]);
  t.equal(got.length, 1);
  const req = got[0]!;
  t.equal(req.method, 'POST');
  t.equal(req.headers['content-type'], 'application/json');
  t.equal(req.headers['user-agent'], 'Grafana');
  t.equal(req.headers.authorization, 'Basic ' + Buffer.from('u:p').toString('base64'));
  // Key order as Grafana's encoder writes the message.
  t.same(Object.keys(JSON.parse(req.body) as object), [
    'receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'version', 'groupKey', 'truncatedAlerts', 'orgId', 'title', 'state', 'message',
  ]);
  t.match(req.body, /"summary":"load \\u003c5\\u003e"/, 'HTML characters escaped as Go does');
  const p = JSON.parse(req.body) as Record<string, any>;
  t.equal(p.receiver, 'ops');
  t.equal(p.status, 'firing');
  t.equal(p.version, '1');
  t.equal(p.groupKey, '{}:{alertname="High load"}');
  t.equal(p.truncatedAlerts, 0);
  t.equal(p.orgId, 7);
  t.equal(p.state, 'alerting');
  t.equal(p.externalURL, 'http://grafana.example:3000/');
  t.same(p.groupLabels, { alertname: 'High load' });
  t.same(p.commonLabels, { alertname: 'High load', grafana_folder: 'Infra', severity: 'page' }, 'private labels removed from common labels');
  t.same(p.commonAnnotations, {});
  t.equal(p.title, '[FIRING:1, RESOLVED:1] High load (Infra page)');
  const resolvedPart = [
    '**Resolved**',
    '',
    'Value: [no value]',
    'Labels:',
    ' - alertname = High load',
    ' - grafana_folder = Infra',
    ' - host = c',
    ' - severity = page',
    'Annotations:',
    ' - summary = ok',
    'Source: http://grafana.example:3000/alerting/grafana/rule-1/view?orgId=7',
    'Silence: http://grafana.example:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Drule-1&matcher=host%3Dc&matcher=severity%3Dpage&orgId=7',
    '',
  ].join('\n');
  t.equal(p.message, firingMessage + '\n\n' + resolvedPart);
  t.equal(p.alerts.length, 2);
  const a = p.alerts[0];
  t.same(Object.keys(a), ['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint', 'silenceURL', 'dashboardURL', 'panelURL', 'ruleUID', 'values', 'valueString', 'orgId']);
  t.equal(a.status, 'firing');
  t.same(a.labels, { alertname: 'High load', grafana_folder: 'Infra', host: 'a b', severity: 'page' });
  t.same(a.annotations, { summary: 'load <5>' });
  t.equal(a.startsAt, '2026-12-04T11:59:00Z');
  t.equal(a.endsAt, '0001-01-01T00:00:00Z', 'a firing alert does not expose its end');
  t.equal(a.generatorURL, 'http://grafana.example:3000/alerting/grafana/rule-1/view?orgId=7');
  t.equal(a.fingerprint, fingerprintHex(labels), 'the fingerprint of the full label set');
  t.equal(a.silenceURL, 'http://grafana.example:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Drule-1&matcher=host%3Da+b&matcher=severity%3Dpage&orgId=7');
  t.equal(a.dashboardURL, '');
  t.equal(a.panelURL, '');
  t.equal(a.ruleUID, 'rule-1');
  t.same(a.values, { B: 5.5, C: 1 });
  t.equal(a.valueString, "[ var='B' labels={host=a b} value=5.5 ]");
  t.equal(a.orgId, 7);
  const r = p.alerts[1];
  t.equal(r.status, 'resolved');
  t.equal(r.endsAt, '2026-12-04T11:59:59Z');
  t.equal(r.values, null, 'no values annotation: null as a nil Go map');
  t.equal(r.valueString, '');
});

t.test('webhook: custom title and message templates, org templates, maxAlerts, dashboard and panel links', async (t) => {
  got.length = 0;
  const withDash: Alert = { ...firing, annotations: { ...firing.annotations, __dashboardUid__: 'dash-1', __panelId__: '4' } };
  await notifier(
    'webhook',
    { url: `${base}/hook2`, httpMethod: 'PUT', maxAlerts: 1, title: '{{ template "my.title" . }}', message: '{{ len .Alerts.Firing }} firing; {{ range .Alerts }}{{ .Labels.host }}={{ .Values.B }}{{ end }}', authorization_credentials: 'tok' },
    ['{{ define "my.title" }}custom {{ .Status }} {{ .CommonLabels.alertname }}{{ end }}'],
  ).notify(ctx(), [withDash, resolved]);
  const req = got[0]!;
  t.equal(req.method, 'PUT');
  t.equal(req.headers.authorization, 'Bearer tok');
  const p = JSON.parse(req.body) as Record<string, any>;
  t.equal(p.title, 'custom firing High load');
  t.equal(p.message, '1 firing; a b=5.5');
  t.equal(p.truncatedAlerts, 1);
  t.equal(p.alerts.length, 1);
  t.equal(p.alerts[0].dashboardURL, 'http://grafana.example:3000/d/dash-1?from=1796381940000&orgId=7&to=1796385600000');
  t.equal(p.alerts[0].panelURL, 'http://grafana.example:3000/d/dash-1?from=1796381940000&orgId=7&to=1796385600000&viewPanel=4');
});

t.test('webhook: a resolved group is state ok', async (t) => {
  got.length = 0;
  await notifier('webhook', { url: `${base}/hook3` }).notify(ctx(), [resolved]);
  const p = JSON.parse(got[0]!.body) as Record<string, any>;
  t.equal(p.status, 'resolved');
  t.equal(p.state, 'ok');
  t.equal(p.title, '[RESOLVED] High load (Infra c page)');
});

t.test('googlechat: Grafana card', async (t) => {
  got.length = 0;
  await notifier('googlechat', { url: `${base}/chat` }).notify(ctx(), [firing]);
  const req = got[0]!;
  t.equal(req.headers['content-type'], 'application/json; charset=UTF-8');
  const p = JSON.parse(req.body) as Record<string, any>;
  const title = '[FIRING:1] High load (Infra a b page)';
  t.same(p, {
    previewText: title,
    fallbackText: title,
    cards: [
      {
        header: { title },
        sections: [
          {
            widgets: [
              { textParagraph: { text: firingMessage } },
              { buttons: [{ textButton: { text: 'OPEN IN GRAFANA', onClick: { openLink: { url: 'http://grafana.example:3000/alerting/list' } } } }] },
              { textParagraph: { text: `Grafana v${GRAFANA_VERSION} | 04 Dec 26 12:00 UTC` } },
            ],
          },
        ],
      },
    ],
  });
});

t.test('wecom: markdown and text messages on the group robot webhook', async (t) => {
  got.length = 0;
  await notifier('wecom', { url: `${base}/wecom` }).notify(ctx(), [firing]);
  await notifier('wecom', { url: `${base}/wecom`, msgtype: 'text', title: 'T', message: 'M {{ .Status }}' }).notify(ctx(), [firing]);
  // Go's encoder escapes <, > and & inside strings.
  const goEscaped = (s: string): string => s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  t.equal(got[0]!.body, goEscaped(JSON.stringify({ markdown: { content: `# [FIRING:1] High load (Infra a b page)\n${firingMessage}\n` }, msgtype: 'markdown' })));
  t.equal(got[1]!.body, JSON.stringify({ msgtype: 'text', text: { content: 'T\nM firing' } }));
});

t.test('wecom: application channel fetches a token first', async (t) => {
  got.length = 0;
  await notifier('wecom', { endpointUrl: base, corp_id: 'corp', secret: 's3', agent_id: '100', msgtype: 'text', title: 'T', message: 'M' }).notify(ctx(), [firing]);
  t.equal(got.length, 2);
  t.equal(got[0]!.url, '/cgi-bin/gettoken?corpid=corp&corpsecret=s3');
  t.equal(got[1]!.url, '/cgi-bin/message/send?access_token=');
  t.same(JSON.parse(got[1]!.body), { agentid: '100', msgtype: 'text', text: { content: 'T\nM' }, touser: '@all' });
});

t.test('the Alertmanager integrations render through Grafana data and templates', async (t) => {
  const expand = grafanaExpander(['{{ define "org.text" }}org {{ .Status }}{{ end }}']);
  const data = buildTemplateData('ops', '{}:{alertname="High load"}', { alertname: 'High load' }, [firing], 'http://grafana.example:3000/', NOW);
  // Grafana's __subject replaces Alertmanager's (Grafana parses its defaults after Alertmanager's), so Slack's default title is Grafana's.
  t.equal(expand.text('{{ template "slack.default.title" . }}', data), '[FIRING:1] High load (Infra a b page)');
  t.equal(expand.text('{{ template "default.message" . }}', data), firingMessage);
  t.equal(expand.text('{{ template "org.text" . }} {{ (index .Alerts 0).ValueString }}', data), "org firing [ var='B' labels={host=a b} value=5.5 ]");
  // Alertmanager's HTML email body renders from Grafana's data (private labels left out), HTML-escaped.
  const html = expand.html('{{ template "email.default.html" . }}', data);
  t.match(html, /load &lt;5&gt;/);
  t.notMatch(html, /__alert_rule_uid__|__values__/);
});

t.test('webhook: HMAC signature as Grafana signs it (body, or `<seconds>:<body>` with a timestamp header)', async (t) => {
  // Known vectors (Python's hmac over the same bytes).
  const plain: Record<string, string> = {};
  signWebhook(plain, '{"a":1}', { secret: 's3cret' }, 1_764_849_600_123);
  t.same(plain, { 'X-Grafana-Alerting-Signature': '5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d' });
  const stamped: Record<string, string> = {};
  signWebhook(stamped, '{"a":1}', { secret: 's3cret', header: 'X-Sig', timestampHeader: 'X-Ts' }, 1_764_849_600_123);
  t.same(stamped, { 'X-Ts': '1764849600', 'X-Sig': 'aea8ddfb1c2929d4338ae83b11de004a661d110d9c3a0edc099d96694126f3f8' });
  const none: Record<string, string> = {};
  signWebhook(none, '{}', { secret: '' }, NOW);
  t.same(none, {}, 'no secret, no signature');

  // On the wire: the signature covers the exact body the sink received.
  got.length = 0;
  await notifier('webhook', { url: `${base}/signed`, hmacConfig: { secret: 'k', timestampHeader: 'X-Grafana-Alerting-Timestamp' } }).notify(ctx(), [firing]);
  const r = got[0]!;
  t.equal(r.headers['x-grafana-alerting-timestamp'], String(NOW / 1000));
  t.equal(r.headers['x-grafana-alerting-signature'], createHmac('sha256', 'k').update(`${NOW / 1000}:${r.body}`).digest('hex'));
});

t.test('webhook: tlsConfig trusts the given CA (and without it the self-signed sink is refused)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grafana-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const bodies: string[] = [];
  const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await notifier('webhook', { url, tlsConfig: { caCertificate: readFileSync(cert, 'utf8') } }).notify(ctx(), [firing]);
  t.equal(bodies.length, 1, 'delivered over TLS to the trusted CA');
  t.match(JSON.parse(bodies[0]!), { receiver: 'ops', status: 'firing' });
  await t.rejects(notifier('webhook', { url }).notify(ctx(), [firing]), 'an unknown CA is refused');
  await notifier('webhook', { url, tlsConfig: { insecureSkipVerify: true } }).notify(ctx(), [firing]);
  t.equal(bodies.length, 2, 'insecureSkipVerify delivers');
});

t.test('webhook: a custom payload template with its vars replaces the extended payload; custom headers; noop URL', async (t) => {
  got.length = 0;
  await notifier('webhook', {
    url: `${base}/custom`,
    headers: { 'Content-Type': 'text/plain', 'X-Team': 'core' },
    payload: {
      template: '{"team":"{{ .Vars.team }}","status":"{{ .Status }}","n":{{ len .Alerts }},"hosts":[{{ range $i, $a := .Alerts }}{{ if $i }},{{ end }}"{{ $a.Labels.host }}"{{ end }}],"rule":"{{ (index .Alerts 0).RuleUID }}","missing":"{{ .Vars.nope }}"}',
      vars: { team: 'core' },
    },
  }).notify(ctx(), [firing, resolved]);
  t.equal(got.length, 1);
  t.equal(got[0]!.body, '{"team":"core","status":"firing","n":2,"hosts":["a b","c"],"rule":"rule-1","missing":""}');
  t.equal(got[0]!.headers['content-type'], 'text/plain', 'a custom Content-Type header wins');
  t.equal(got[0]!.headers['x-team'], 'core');
  t.equal(got[0]!.headers['user-agent'], 'Grafana');

  await t.rejects(notifier('webhook', { url: `${base}/custom`, payload: { template: '{{ template "nope" . }}' } }).notify(ctx(), [firing]), /failed to template webhook payload/, 'a payload that does not render fails the notification');

  got.length = 0;
  await notifier('webhook', { url: 'grafana://noop' }).notify(ctx(), [firing]);
  t.equal(got.length, 0, 'the noop URL sends nothing and succeeds');
});

t.test('Alertmanager integrations copying labels into their payload leave private labels out (Opsgenie details)', async (t) => {
  got.length = 0;
  const def = integrationFor('opsgenie_configs')!;
  const entry: Record<string, unknown> = { api_key: 'k', api_url: `${base}/`, send_resolved: true };
  def.validate(entry, {});
  const n = def.create(entry, { logger: log, checkUrl: () => undefined });
  await n.notify({ ...ctx(), expand: grafanaExpander([]) }, [firing]);
  const p = JSON.parse(got[0]!.body) as { details: Record<string, string> };
  t.same(p.details, { alertname: 'High load', grafana_folder: 'Infra', host: 'a b', severity: 'page' });
});

t.test('custom payloads with Grafana\'s gomplate functions: coll, data, tmpl, time', async (t) => {
  got.length = 0;
  const send = async (template: string, templates: string[] = []): Promise<string> => {
    got.length = 0;
    await notifier('webhook', { url: `${base}/g`, payload: { template, vars: { env: 'prod' } } }, templates).notify(ctx(), [firing]);
    return got[0]!.body;
  };
  // data.ToJSON writes an alert as Go's json.Marshal of ExtendedAlert: the same bytes as the default payload's alert.
  const extended = JSON.parse((await (async () => (await notifier('webhook', { url: `${base}/d` }).notify(ctx(), [firing]), got[0]!.body))()) as string) as { alerts: unknown[] };
  const alertJson = await send('{{ (index .Alerts 0) | data.ToJSON }}');
  t.same(JSON.parse(alertJson), extended.alerts[0]);
  t.equal(alertJson, JSON.stringify(extended.alerts[0]).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026'), 'byte for byte, field order and HTML escaping');
  t.equal(
    await send('{{ coll.Dict "env" .Vars.env "status" .Status "n" (len .Alerts) "hosts" (coll.Append "z" (coll.Slice "x" "y")) "odd" | data.ToJSON }}'),
    '{"env":"prod","hosts":["x","y","z"],"n":1,"odd":"","status":"firing"}',
    'Dict keys sorted as a Go map; an odd key gets ""',
  );
  t.equal(await send('{{ coll.Dict "b" (coll.Dict) "a" (coll.Slice 1 "two") | data.ToJSONPretty "  " }}'), '{\n  "a": [\n    1,\n    "two"\n  ],\n  "b": {}\n}');
  t.equal(await send('{{ $d := data.JSON "{\\"a\\": [1, 2], \\"b\\": {\\"c\\": \\"d\\"}}" }}{{ index $d.a 1 }} {{ $d.b.c }}'), '2 d', 'data.JSON parses JSON (and YAML)');
  t.equal(await send('{{ tmpl.Exec "my.alert" (index .Alerts 0) }}|{{ tmpl.Inline "{{ .Status }}!" . }}', ['{{ define "my.alert" }}{{ .Labels.host }}{{ end }}']), 'a b|firing!');
  t.match(await send('{{ (time.Now).Year }}'), /^20\d\d$/);
  await t.rejects(notifier('webhook', { url: `${base}/g`, payload: { template: '{{ tmpl.Exec "nope" . }}' } }).notify(ctx(), [firing]), /template "nope" not defined/);
});
