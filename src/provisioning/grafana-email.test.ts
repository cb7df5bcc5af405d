// grafana-email.test.ts sends Grafana email contact points' notifications to
// an SMTP sink in this process and reads the messages back: envelope, one
// message per address (or one for all with singleEmail), Grafana's From and
// subject, the HTML body (alerts, values, labels, links, escaping, private
// labels left out), the plain-text part, and a custom message replacing the
// alert list.

import t from 'tap';
import { integrationFor } from '../alertmanager/notifiers/registry.js';
import type { NotifyContext } from '../alertmanager/notifiers/notifier.js';
import type { Alert } from '../alertmanager/types.js';
import { log } from '../log.js';
import { parseMimeMessage, startSmtpSink } from '../testing/smtp-sink.js';
import { DEFAULT_SMTP, splitAddresses, type GrafanaSmtp } from './grafana-email.js';
import { GRAFANA_INTEGRATIONS, GRAFANA_VERSION } from './grafana-notify.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const labels = { __alert_rule_uid__: 'rule-1', __alert_rule_namespace_uid__: 'infra', alertname: 'High load', grafana_folder: 'Infra', host: 'a<b>' };
const firing: Alert = {
  labels,
  annotations: { summary: 'load <5>', description: 'line one\nline two', runbook_url: 'http://runbooks/x', __orgId__: '7', __values__: '{"B":5.5,"C":1}' },
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
    receiver: 'mail',
    groupKey: '{}:{alertname="High load"}',
    groupLabels: { alertname: 'High load', grafana_folder: 'Infra' },
    externalURL: 'http://grafana.example:3000/sub/',
    now: NOW,
    signal: new AbortController().signal,
    expand: { text: (s) => s, html: (s) => s },
    logger: log,
  };
}

const sink = await startSmtpSink();
t.teardown(sink.close);
const smtp: GrafanaSmtp = { ...DEFAULT_SMTP, host: `127.0.0.1:${sink.port}`, ehloIdentity: 'grafana.test' };

function notifier(settings: Record<string, unknown>, templates: string[] = []) {
  const def = integrationFor(GRAFANA_INTEGRATIONS['email']!.key)!;
  return def.create({ send_resolved: true, settings, templates, smtp }, { logger: log, checkUrl: () => undefined });
}

t.test('addresses split at commas, semicolons and newlines', async (t) => {
  t.same(splitAddresses(' a@x.org; b@x.org,c@x.org\n\nd@x.org '), ['a@x.org', 'b@x.org', 'c@x.org', 'd@x.org']);
});

t.test('one message per address, Grafana sender and default subject, HTML and text bodies', async (t) => {
  sink.mails.length = 0;
  await notifier({ addresses: 'a@x.org;b@x.org' }).notify(ctx(), [firing, resolved]);
  t.equal(sink.mails.length, 2, 'one message per address without singleEmail');
  t.same(
    sink.mails.map((m) => [m.from, m.to]),
    [
      ['admin@grafana.localhost', ['a@x.org']],
      ['admin@grafana.localhost', ['b@x.org']],
    ],
  );
  t.equal(sink.mails[0]!.ehlo, 'grafana.test');
  const { headers, parts } = parseMimeMessage(sink.mails[0]!.data);
  t.equal(headers.get('From'), '"Grafana" <admin@grafana.localhost>');
  t.equal(headers.get('To'), 'a@x.org');
  t.equal(headers.get('Subject'), '[FIRING:1, RESOLVED:1] High load Infra ', 'Grafana default title (its trailing space too)');
  t.equal(headers.get('MIME-Version'), '1.0');
  const html = parts.get('text/html') ?? '';
  const text = parts.get('text/plain') ?? '';
  t.match(html, /^<!doctype html>/);
  t.match(html, '1 instance firing');
  t.match(html, '1 instance resolved');
  t.match(html, 'Infra / High load', 'the folder and rule name of Grafana\'s default grouping');
  t.match(html, 'load &lt;5&gt;', 'annotations HTML-escaped');
  t.match(html, 'host = a&lt;b&gt;', 'labels HTML-escaped');
  t.match(html, 'B=5.5<br>C=1<br>', 'the values of the query and condition');
  t.match(html, 'runbook_url = http://runbooks/x', 'annotations other than summary and description listed');
  t.match(html, 'line one\nline two', 'the description keeps its lines');
  t.match(html, 'href="http://grafana.example:3000/alerting/grafana/rule-1/view?orgId=7"', 'the rule link with the organisation');
  t.match(html, 'href="http://grafana.example:3000/sub/alerting/silence/new?', 'the silence link');
  t.match(html, 'href="http://grafana.example:3000/sub/alerting/list?alertState=firing&amp;view=state"', 'the firing alerts page');
  t.match(html, `Sent by Grafana v${GRAFANA_VERSION}`);
  t.notMatch(html, /__alert_rule_uid__ =|__values__|__orgId__/, 'private labels and annotations are not shown');
  t.ok(html.indexOf('Firing</td>') < html.indexOf('Resolved</td>'), 'firing alerts before resolved ones');
  t.match(text, '1 firing and 1 resolved alert instance(s) for Infra / High load');
  t.match(text, 'FIRING (1)\n\nAlert: High load\nSummary: load <5>\nDescription: line one\nline two\nValues: B=5.5 C=1\nLabels:\n - alertname = High load\n - grafana_folder = Infra\n - host = a<b>\n');
  t.match(text, 'RESOLVED (1)');
  t.match(text, 'Firing alerts: http://grafana.example:3000/sub/alerting/list?alertState=firing&view=state');
});

t.test('singleEmail: one message to every address; subject and message settings templated', async (t) => {
  sink.mails.length = 0;
  await notifier({ addresses: 'a@x.org, b@x.org', singleEmail: true, subject: '{{ template "my.subject" . }}', message: 'Check {{ .CommonLabels.alertname }}\n<now>' }, ['{{ define "my.subject" }}{{ len .Alerts.Firing }} firing in {{ .GroupLabels.grafana_folder }}{{ end }}']).notify(ctx(), [firing]);
  t.equal(sink.mails.length, 1);
  t.same(sink.mails[0]!.to, ['a@x.org', 'b@x.org']);
  const { headers, parts } = parseMimeMessage(sink.mails[0]!.data);
  t.equal(headers.get('To'), 'a@x.org, b@x.org');
  t.equal(headers.get('Subject'), '1 firing in Infra');
  const html = parts.get('text/html') ?? '';
  t.match(html, 'Check High load\n&lt;now&gt;', 'the message replaces the alert list, escaped');
  t.notMatch(html, 'load &lt;5&gt;', 'no alert list with a message');
  t.match(html, '<title>1 firing in Infra</title>');
  t.match(parts.get('text/plain') ?? '', '1 firing in Infra\n\nCheck High load\n<now>\n');
});

t.test('a template error in the subject leaves it empty and still sends, as Grafana', async (t) => {
  sink.mails.length = 0;
  await notifier({ addresses: 'a@x.org', subject: '{{ template "missing" . }}' }).notify(ctx(), [firing]);
  t.equal(sink.mails.length, 1);
  t.equal(parseMimeMessage(sink.mails[0]!.data).headers.get('Subject'), '');
});

t.test('an unreachable SMTP server fails the notification (retried)', async (t) => {
  const def = integrationFor(GRAFANA_INTEGRATIONS['email']!.key)!;
  const n = def.create({ send_resolved: true, settings: { addresses: 'a@x.org' }, templates: [], smtp: { ...smtp, host: '127.0.0.1:1' } }, { logger: log, checkUrl: () => undefined });
  await t.rejects(n.notify(ctx(), [firing]), /establish connection to server/);
});
