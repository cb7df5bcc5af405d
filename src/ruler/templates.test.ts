// templates.test.ts checks alert label and annotation templates through the
// Go template engine (src/template) with Prometheus's function map:
// $labels, $value, $externalURL, humanize, query | first | value,
// sortByLabel, Prometheus's error wording, and the config API rejecting an
// alert whose template does not parse (as rulefmt's testTemplateParsing).

import t from 'tap';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import type { Sample } from './eval-io.js';
import { newAlertExpander, templateCheck } from './template-funcs.js';

const expand = newAlertExpander();
const data = { labels: { instance: 'host-1:9100', job: 'node' }, externalLabels: { cluster: 'eu' }, externalURL: 'http://ruler.example/prometheus', value: 1234567 };
const queried: string[] = [];
const query = async (q: string): Promise<Sample[]> => {
  queried.push(q);
  return q === 'up'
    ? [
        { metric: { i: 'b' }, value: 2, tsMs: 0 },
        { metric: { i: 'a' }, value: 1, tsMs: 0 },
      ]
    : [];
};
const run = (text: string): Promise<string> => expand(text, { alertName: 'A', data, tsMs: 1_000_000, query });

t.test('variables and functions', async (t) => {
  t.equal(await run('{{ $labels.instance }} of {{ $labels.job }}'), 'host-1:9100 of node');
  t.equal(await run('{{ $value | humanize }}'), '1.235M');
  t.equal(await run('{{ $externalLabels.cluster }} {{ $externalURL }}'), 'eu http://ruler.example/prometheus');
  t.equal(await run('{{ $labels.instance | stripPort }}'), 'host-1');
  t.equal(await run('{{ $labels.missing }}'), '', 'missing keys are empty (missingkey=zero on map[string]string)');
  t.equal(await run('{{ with query "up" }}{{ . | first | value }}{{ end }}'), '2');
  t.equal(await run('{{ range query "up" | sortByLabel "i" }}{{ .Labels.i }}={{ .Value }} {{ end }}'), 'a=1 b=2 ');
  t.ok(queried.includes('up'), 'the query ran through the ruler querier');
  t.equal(await run('{{ pathPrefix }}'), '/prometheus');
  t.equal(await run('{{ "0.25" | humanizePercentage }}'), '25%');
});

t.test('errors worded as Prometheus', async (t) => {
  await t.rejects(run('{{ $labels.instance'), /^error parsing template __alert_A: template: __alert_A:1:/);
  await t.rejects(run('{{ query "none" | first }}'), /^error executing template __alert_A: template: __alert_A:1:.*first\(\) called on vector with no elements/);
  const check = templateCheck;
  t.throws(() => check('A', '{{ nosuchfunc }}'), /function "nosuchfunc" not defined/);
  t.doesNotThrow(() => check('A', '{{ $labels.x }} {{ humanize $value }}'));
});

t.test('the config API rejects alert templates that do not parse', async (t) => {
  const srv = await startTestServer({}, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  const post = (body: string): ReturnType<typeof httpRequest> => httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers: { 'X-Scope-OrgID': 'tmpl' }, body });
  const bad = await post('name: g\nrules:\n  - alert: A\n    expr: up\n    annotations:\n      summary: "{{ $labels.x"\n');
  t.equal(bad.status, 400);
  t.match(bad.body, /^group "g", rule 0, "A": annotation "summary": template: __alert_A:1: /);
  const good = await post('name: g\nrules:\n  - alert: A\n    expr: up\n    annotations:\n      summary: "{{ $labels.x }} is {{ $value | humanize }}"\n');
  t.equal(good.status, 202);
});

t.test('alert templates are text/template: no HTML escaping (Prometheus uses html/template only for console pages)', async (t) => {
  const html = { ...data, labels: { instance: `<script>alert("x")</script>&'`, job: 'a&b' } };
  const runWith = (text: string): Promise<string> => expand(text, { alertName: 'A', data: html, tsMs: 1_000_000, query });
  t.equal(await runWith('{{ $labels.instance }} {{ $labels.job }}'), `<script>alert("x")</script>&' a&b`, 'label values as they are');
  t.equal(await runWith('{{ "<b>bold</b>" | safeHtml }}'), '<b>bold</b>', 'safeHtml passes through');
  t.equal(await runWith('{{ "<i>" }}{{ printf "%s" "<u>" }}'), '<i><u>', 'literals and printf are not escaped');
  t.equal(await runWith('{{ html "<a&b>" }} {{ js "it\'s" }} {{ urlquery "a b&c" }}'), '&lt;a&amp;b&gt; it\\\'s a+b%26c', "Go's explicit escaping functions still escape");
});
