// alertmanager-differential.test.ts (peer suite) runs the real Alertmanager
// 0.35 next to ours with the same configuration and the same alert stream,
// each notifying its own webhook sink, and compares what the sinks receive
// (every payload field but times and the external URL): grouping, routing
// with continue, inhibition, a silence, resolution with send_resolved, a
// repeat after repeat_interval, and route labels (0.35: inherited, templated,
// cross-referenced through routeLabels) in payloads and in the alert groups.

import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { ALERTMANAGER, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';


interface Sink {
  url: string;
  bodies: Array<Record<string, any>>;
  close(): void;
}

function sink(): Promise<Sink> {
  const bodies: Array<Record<string, any>> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ ...(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, any>), path: req.url });
      res.end();
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, bodies, close: () => srv.close() })));
}

const config = (hook: string): string => `global:
  resolve_timeout: 1h
route:
  receiver: team
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 4500ms
  labels: {env: prod, team: core}
  routes:
    - matchers: ['severity=~"page|critical"']
      receiver: pager
      continue: true
      group_by: [alertname, instance]
      labels:
        team: paging
        summary: '{{ .GroupLabels.alertname }} on {{ .GroupLabels.instance }}: {{ len .Alerts }} alert(s), {{ .Status }}'
        ref: 'team {{ routeLabels "team" }} / {{ routeLabels "summary" | toUpper }}{{ routeLabels "missing" }}'
        raw: '{{ .RouteLabels.team }}'
    - matchers: ['severity="critical"']
      receiver: audit
      group_by: ['...']
receivers:
  - name: team
    webhook_configs: [{url: '${hook}/team'}]
  - name: pager
    webhook_configs: [{url: '${hook}/pager', send_resolved: false}]
  - name: audit
    webhook_configs: [{url: '${hook}/audit', max_alerts: 1}]
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['alertname="HighLatency"']
    equal: [instance]
`;

/** canonical drops times and URLs and sorts, so both sides compare field by field. */
function canonical(bodies: Array<Record<string, any>>): string[] {
  return bodies
    .map((b) =>
      JSON.stringify({
        path: b.path,
        receiver: b.receiver,
        status: b.status,
        groupKey: b.groupKey,
        groupLabels: b.groupLabels,
        commonLabels: b.commonLabels,
        commonAnnotations: b.commonAnnotations,
        version: b.version,
        truncatedAlerts: b.truncatedAlerts,
        notification_reason: b.notification_reason,
        routeLabels: b.routeLabels,
        alerts: (b.alerts as Array<Record<string, any>>).map((a) => ({ status: a.status, labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL, fingerprint: a.fingerprint })),
      }),
    )
    .sort();
}

const distinct = (xs: string[]): string[] => [...new Set(xs)];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('same notifications as Alertmanager 0.35', { skip: skipUnless(ALERTMANAGER) }, async (t) => {
  const theirsSink = await sink();
  const oursSink = await sink();
  t.teardown(() => {
    theirsSink.close();
    oursSink.close();
  });
  const dir = await makeTempDir('peer-am-');
  const cfgFile = join(dir, 'am.yml');
  await writeFile(cfgFile, config(theirsSink.url));
  const port = await freePort();
  const theirs = await startServer({
    name: 'alertmanager',
    command: ALERTMANAGER.path,
    args: [`--config.file=${cfgFile}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => theirs.stop());
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const oursBase = `http://127.0.0.1:${ours.port}`;
  const r = await fetch(`${oursBase}/api/v1/alerts`, { method: 'POST', headers: { 'X-Scope-OrgID': 'diff' }, body: JSON.stringify({ alertmanager_config: config(oursSink.url) }) });
  t.equal(r.status, 201);

  const post = async (path: string, body: unknown): Promise<Array<{ status: number; text: string }>> =>
    Promise.all(
      [`${theirs.baseUrl}/api/v2${path}`, `${oursBase}/alertmanager/api/v2${path}`].map(async (url) => {
        const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'diff' }, body: JSON.stringify(body) });
        return { status: res.status, text: await res.text() };
      }),
    );

  const now = Date.now();
  const silence = { matchers: [{ name: 'alertname', value: 'Silenced', isRegex: false, isEqual: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'diff', comment: 'quiet' };
  const sil = await post('/silences', silence);
  t.same(
    sil.map((x) => x.status),
    [200, 200],
  );
  const start = new Date(now - 1000).toISOString();
  const alerts = [
    { labels: { alertname: 'HighLatency', instance: 'a', severity: 'warning' }, annotations: { summary: 'slow <a>' }, startsAt: start, generatorURL: 'http://prom/graph?g0.expr=x' },
    { labels: { alertname: 'HighLatency', instance: 'b', severity: 'warning' }, annotations: { summary: 'slow' }, startsAt: start },
    { labels: { alertname: 'NodeDown', instance: 'a', severity: 'critical' }, startsAt: start },
    { labels: { alertname: 'NodeDown', instance: 'c', severity: 'critical' }, startsAt: start },
    { labels: { alertname: 'Silenced', instance: 'a' }, startsAt: start },
    { labels: { alertname: 'Paging', instance: 'z', severity: 'page' }, annotations: { runbook: 'r' }, startsAt: start },
  ];
  // Invalid alerts get the same answer.
  const bad = await post('/alerts', [{ labels: { alertname: 'X' }, startsAt: start, endsAt: new Date(now - 5000).toISOString() }]);
  t.same(bad[1], bad[0], 'same answer to an invalid alert');
  // The inhibiting alerts go first: Alertmanager's inhibitor learns of alerts asynchronously, so in one
  // batch it may flush a target group before it has seen the source that mutes part of it.
  const sources = await post('/alerts', alerts.filter((a) => a.labels.alertname === 'NodeDown'));
  t.same(
    sources.map((x) => x.status),
    [200, 200],
  );
  await sleep(300);
  const res = await post('/alerts', alerts.filter((a) => a.labels.alertname !== 'NodeDown'));
  t.same(
    res.map((x) => x.status),
    [200, 200],
  );
  await sleep(2500);
  t.ok(theirsSink.bodies.length > 0, 'Alertmanager notified');
  t.same(distinct(canonical(oursSink.bodies)), distinct(canonical(theirsSink.bodies)), 'first notifications');
  const paged = oursSink.bodies.find((b) => b.path === '/pager' && b.groupLabels.alertname === 'Paging');
  t.same(paged?.routeLabels, { env: 'prod', team: 'paging', summary: 'Paging on z: 1 alert(s), firing', ref: 'team paging / PAGING ON Z: 1 ALERT(S), FIRING', raw: 'paging' }, 'route labels rendered');
  // The alert groups carry the route labels rendered against each group's alerts.
  const groups = await Promise.all(
    [`${theirs.baseUrl}/api/v2/alerts/groups`, `${oursBase}/alertmanager/api/v2/alerts/groups`].map(async (url) => {
      const body = (await (await fetch(url, { headers: { 'X-Scope-OrgID': 'diff' } })).json()) as Array<Record<string, any>>;
      return body.map((g) => JSON.stringify({ labels: g.labels, receiver: g.receiver, routeLabels: g.routeLabels })).sort();
    }),
  );
  t.ok((groups[0] as string[]).some((g) => g.includes('"summary":"NodeDown on c: 1 alert(s), firing"')), 'Alertmanager renders them in the groups');
  t.same(groups[1], groups[0], 'same alert groups and route labels');

  // Resolve one HighLatency alert and the paging one (pager has send_resolved: false).
  const mark = [theirsSink.bodies.length, oursSink.bodies.length] as const;
  const end = new Date(Date.now() - 100).toISOString();
  await post('/alerts', [
    { ...alerts[1], endsAt: end },
    { ...alerts[5], endsAt: end },
  ]);
  await sleep(2000);
  // Repeats of the still firing groups fall due near the end of this window (repeat_interval 4.5 s), on either
  // side of it depending on the machine's load: they are compared below, once the interval has surely passed.
  const changes = (bodies: Array<Record<string, any>>): string[] => distinct(canonical(bodies.filter((b) => b.notification_reason !== 'repeat interval elapsed')));
  t.same(changes(oursSink.bodies.slice(mark[1])), changes(theirsSink.bodies.slice(mark[0])), 'notifications after resolving');
  t.ok(
    oursSink.bodies.slice(mark[1]).some((b) => b.status === 'resolved'),
    'a resolved notification was sent',
  );

  // Let repeat_interval pass: the still firing groups are notified again, on both.
  await sleep(3500);
  const repeatsOf = (bodies: Array<Record<string, any>>): string[] => distinct(canonical(bodies.filter((b) => b.groupKey.includes('NodeDown'))));
  t.same(repeatsOf(oursSink.bodies), repeatsOf(theirsSink.bodies), 'same NodeDown notifications');
  const count = (bodies: Array<Record<string, any>>): number => bodies.filter((b) => b.path === '/audit' && b.groupLabels.instance === 'c').length;
  t.ok(count(theirsSink.bodies) >= 2, `Alertmanager repeated (${count(theirsSink.bodies)})`);
  t.ok(count(oursSink.bodies) >= 2, `we repeated (${count(oursSink.bodies)})`);
});
