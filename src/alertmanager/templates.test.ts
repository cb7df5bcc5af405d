import { test } from 'tap';
import { loadConfig } from './config.js';
import { buildTemplateData, KV } from './notifiers/notifier.js';
import { makeExpander, templateEngineAvailable } from './templates.js';

test('the expander renders default and tenant templates over template.Data', async (t) => {
  t.ok(templateEngineAvailable(), 'the Go template engine is loaded');
  const cfg = loadConfig('route: {receiver: a}\nreceivers: [{name: a}]\ntemplates: ["*.tmpl"]\n');
  const ex = makeExpander([{ filename: 'mine.tmpl', body: '{{ define "mine" }}{{ range .Alerts.Firing }}{{ .Labels.instance | toUpper }};{{ end }}{{ end }}' }], cfg, '');
  const now = Date.parse('2026-01-01T00:00:00Z');
  const alerts = ['a', 'b'].map((i) => ({ labels: { alertname: 'HighLatency', severity: 'warning', instance: i }, annotations: {}, startsAt: now - 1000, endsAt: 0, generatorURL: '', updatedAt: now, timeout: false }));
  const data = buildTemplateData('team', '{}:{alertname="HighLatency"}', { alertname: 'HighLatency' }, alerts, 'http://am', now);
  t.equal(ex.text('{{ template "__subject" . }}', data), '[FIRING:2] HighLatency (warning)');
  t.equal(ex.text('{{ template "mine" . }}', data), 'A;B;');
  t.equal(ex.text('{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}', data), 'alertname=HighLatency severity=warning ');
  t.equal(ex.text('{{ .CommonLabels.severity }} {{ len .Alerts.Resolved }} {{ .Receiver }}', data), 'warning 0 team');
  t.throws(() => ex.text('{{ template "missing" . }}', data));
  // StartsAt and EndsAt are Go time.Time values: methods, zones and Go's printing.
  t.equal(
    ex.text('{{ with index .Alerts 0 }}{{ .StartsAt.Format "2006-01-02 15:04:05" }} {{ .StartsAt.Unix }} {{ .EndsAt.IsZero }} {{ (tz "Europe/Berlin" .StartsAt).Format "15:04 MST" }} {{ .StartsAt }} {{ .EndsAt }}{{ end }}', data),
    '2025-12-31 23:59:59 1767225599 true 00:59 CET 2025-12-31 23:59:59 +0000 UTC 0001-01-01 00:00:00 +0000 UTC',
  );
  t.equal(ex.text('{{ with index .Alerts 0 }}{{ humanizeDuration (.StartsAt.Sub .StartsAt) }} {{ date "Jan 2" .StartsAt }} {{ .StartsAt | toJson }}{{ end }}', data), '0s Dec 31 "2025-12-31T23:59:59Z"');
});

test('route labels (0.35): inherited, rendered with one resolver, cycles left out', async (t) => {
  const cfg = loadConfig(`route:
  receiver: a
  labels: {env: prod, owner: core}
  routes:
    - receiver: b
      labels: {owner: '{{ .GroupLabels.alertname | toLower }}', a: 'x{{ routeLabels "b" }}', b: '{{ routeLabels "a" }}', c: '{{ routeLabels "owner" }}-{{ routeLabels "env" }}'}
receivers: [{name: a}, {name: b}]
`);
  t.same(cfg.route.opts.labels, { env: 'prod', owner: 'core' });
  const child = cfg.route.routes[0];
  t.same(child?.opts.labels, { env: 'prod', owner: '{{ .GroupLabels.alertname | toLower }}', a: 'x{{ routeLabels "b" }}', b: '{{ routeLabels "a" }}', c: '{{ routeLabels "owner" }}-{{ routeLabels "env" }}' }, 'merged over the parent');
  t.throws(() => loadConfig('route: {receiver: a, labels: {"": x}}\nreceivers: [{name: a}]\n'), { message: '"" is not a valid label name' });
  const ex = makeExpander([], cfg, '');
  const now = Date.parse('2026-01-01T00:00:00Z');
  const data = buildTemplateData('b', '{}/{}:{alertname="Disk"}', { alertname: 'Disk' }, [{ labels: { alertname: 'Disk' }, annotations: {}, startsAt: now, endsAt: 0, generatorURL: '', updatedAt: now, timeout: false }], '', now);
  data.RouteLabels = KV.from(child?.opts.labels ?? {});
  const failed: string[] = [];
  const out = ex.routeLabels?.(data, (label, err) => failed.push(`${label}: ${err instanceof Error ? err.message : String(err)}`));
  t.same(out, { env: 'prod', owner: 'disk', c: 'disk-prod' }, 'templates and cross references rendered');
  t.equal(failed.length, 2, 'the cycle a -> b -> a fails both');
  t.match(failed[0], /route label cycle detected: a -> b -> a/);
  // A notification's data carries them rendered: routeLabels returns them as they are.
  const rendered = buildTemplateData('b', 'k', {}, [], '', now, 'unknown', { x: '{{ .Receiver }}' });
  t.equal(ex.text('{{ routeLabels "x" }}|{{ .RouteLabels.x }}|{{ routeLabels "nope" }}', rendered), '{{ .Receiver }}|{{ .Receiver }}|');
});

test('a firing alert exposes no end time (zero until it is reached), a resolved one its end', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const base = { annotations: {}, startsAt: now - 60_000, generatorURL: '', updatedAt: now, timeout: false };
  const data = buildTemplateData('r', '{}', {}, [
    { ...base, labels: { alertname: 'Firing' }, endsAt: now + 240_000 },
    { ...base, labels: { alertname: 'Resolved' }, endsAt: now - 1000 },
  ], '', now);
  const ex = makeExpander([], loadConfig('route: {receiver: r}\nreceivers: [{name: r}]\n'), '');
  t.equal(ex.text('{{ range .Alerts }}{{ .Status }} {{ .EndsAt.IsZero }} {{ .EndsAt.Unix }};{{ end }}', data), `firing true -62135596800;resolved false ${(now - 1000) / 1000};`);
});
