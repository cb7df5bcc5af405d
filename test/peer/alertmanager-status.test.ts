// alertmanager-status.test.ts (peer suite): the alert states of API v2 next to
// a real Alertmanager 0.35. 0.35 predicts an alert's status at query time
// (the inhibitor and the silencer run for each alert), so an alert the
// dispatcher has not flushed yet (group_wait 1h) is already "active" or
// "suppressed", never "unprocessed", and the `unprocessed` filter of GET
// /api/v2/alerts changes nothing; both sides must answer the same states for
// every filter combination, right after the alerts arrive.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { ALERTMANAGER, failIfMissing, skipUnless } from './lib/binary.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

const CONFIG = `route:
  receiver: r
  group_by: [alertname]
  group_wait: 1h
  group_interval: 1h
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
`;

interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

t.test('alert states before the first flush and the unprocessed filter, as Alertmanager 0.35', { skip: skipUnless(ALERTMANAGER) }, async (t) => {
  if (failIfMissing(t, ALERTMANAGER)) return;
  const dir = await makeTempDir('peer-am-status-');
  const cfgFile = join(dir, 'am.yml');
  await writeFile(cfgFile, CONFIG);
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
  const oursBase = `http://127.0.0.1:${ours.port}/alertmanager/api/v2`;
  const cfg = await fetch(`http://127.0.0.1:${ours.port}/api/v1/alerts`, { method: 'POST', headers: { 'X-Scope-OrgID': 'st' }, body: JSON.stringify({ alertmanager_config: CONFIG }) });
  t.equal(cfg.status, 201);
  const bases = [`${theirs.baseUrl}/api/v2`, oursBase];
  const call = (path: string, method = 'GET', body?: unknown): Promise<Array<{ status: number; json: unknown }>> =>
    Promise.all(
      bases.map(async (b) => {
        const res = await fetch(b + path, { method, headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'st' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        const text = await res.text();
        return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
      }),
    );

  const now = Date.now();
  const silence = { matchers: [{ name: 'alertname', value: 'Quiet', isRegex: false, isEqual: true }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 't', comment: 'c' };
  t.same((await call('/silences', 'POST', silence)).map((r) => r.status), [200, 200]);
  // Silence annotations (0.35): the same answers for a good, an empty and a bad set.
  const annotated = { ...silence, matchers: [{ name: 'alertname', value: 'Annotated', isRegex: false, isEqual: true }], annotations: { ticket: 'T-1', owner: null, '10': 'x' } };
  t.same((await call('/silences', 'POST', annotated)).map((r) => r.status), [200, 200]);
  t.same((await call('/silences', 'POST', { ...annotated, annotations: {}, comment: 'none' })).map((r) => r.status), [200, 200]);
  const bad = await call('/silences', 'POST', { ...annotated, annotations: { n: 1 } });
  t.same(bad[1], bad[0], 'a number annotation value: the same error');
  const listed = (await call('/silences')).map((r) =>
    (r.json as Array<{ comment: string; annotations?: unknown; matchers: Array<{ value: string }> }>).filter((x) => x.matchers[0]?.value === 'Annotated').map((x) => [x.comment, x.annotations]).sort(),
  );
  t.same(listed[1], listed[0], 'annotations listed as Alertmanager lists them');
  t.same(listed[0], [['c', { '10': 'x', owner: '', ticket: 'T-1' }], ['none', undefined]]);
  const alerts = [
    { labels: { alertname: 'Down', instance: 'a', severity: 'critical' } },
    { labels: { alertname: 'Slow', instance: 'a', severity: 'warning' } },
    { labels: { alertname: 'Slow', instance: 'b', severity: 'warning' } },
    { labels: { alertname: 'Quiet', instance: 'c' } },
  ];
  // Sources first: 0.35's inhibitor learns of new alerts asynchronously.
  t.same((await call('/alerts', 'POST', alerts.slice(0, 1))).map((r) => r.status), [200, 200]);
  await new Promise((r) => setTimeout(r, 300));
  t.same((await call('/alerts', 'POST', alerts.slice(1))).map((r) => r.status), [200, 200]);
  await new Promise((r) => setTimeout(r, 300));

  const summary = (json: unknown): string[] =>
    (json as ApiAlert[])
      .map((a) => `${a.labels.alertname}/${a.labels.instance} ${a.status.state} silenced=${a.status.silencedBy.length} inhibited=${a.status.inhibitedBy.length}`)
      .sort();
  const queries = ['', '?unprocessed=false', '?unprocessed=true', '?active=false', '?active=false&unprocessed=false', '?silenced=false&inhibited=false', '?silenced=false&unprocessed=false', '?inhibited=false&active=false'];
  for (const q of queries) {
    const [a, b] = await call('/alerts' + q);
    t.equal(b?.status, a?.status, `GET /alerts${q}: status`);
    t.same(summary(b?.json), summary(a?.json), `GET /alerts${q}: the same alerts in the same states`);
  }
  const [all] = await call('/alerts');
  t.same(summary(all?.json), ['Down/a active silenced=0 inhibited=0', 'Quiet/c suppressed silenced=1 inhibited=0', 'Slow/a suppressed silenced=0 inhibited=1', 'Slow/b active silenced=0 inhibited=0'], '0.35: states predicted at query time, nothing unprocessed');
  const groups = await call('/alerts/groups');
  const groupStates = (json: unknown): string[] => summary((json as Array<{ alerts: ApiAlert[] }>).flatMap((g) => g.alerts));
  t.same(groupStates(groups[1]?.json), groupStates(groups[0]?.json), 'GET /alerts/groups: the same states');

  // Bad alerts: the same status and text (the decoder's errors, schema checks, then per-alert validation); times in
  // every layout strfmt accepts, and Go's time.Parse errors for those it does not.
  const timed = (startsAt: unknown): unknown[] => [{ labels: { a: 'b' }, startsAt, endsAt: '2099-01-01T00:00:00Z' }];
  for (const body of [
    timed('yesterday'),
    timed('2026-1-01'),
    timed('20260101'),
    timed('2026-13-01T00:00:00Z'),
    timed('2026-02-30T00:00:00Z'),
    timed('2026-02-30'),
    timed('2026-01-01T25:00:00Z'),
    timed('2026-01-01t00:00:00Z'),
    timed('2026-01-01T00:00:00z'),
    timed('2026-01-01T10:30:00.12+0200'),
    timed('é2026'),
    timed('"quoted"\\'),
    timed(5),
    timed(true),
    timed({}),
    [{ labels: { a: 'b' } }, { labels: { a: 'b' }, endsAt: '2026-13-01T00:00:00Z' }],
    [{ annotations: {} }, { labels: { a: 'b' }, startsAt: 'bad' }],
    timed('2026-01-01'),
    timed('2026-01-01T10:30Z'),
    timed('2026-01-01T10:30'),
    timed('2026-01-01T10:30:00'),
    timed('2026-01-01T1:30:00Z'),
    timed('2026-01-01T10:30:00.123+0200'),
    timed('2026-01-01T10:30:00.123456-0130'),
    timed('2026-01-01T10:30:00,5+02:00'),
    timed('2026-01-01 10:30:00.5'),
    timed('2024-02-29T00:00:00Z'),
    timed(null),
    [{ annotations: {} }],
    [{ labels: { a: '' } }],
    [{ labels: { '': 'x', a: 'b' } }],
    [{ labels: { a: 'b' }, annotations: { '': 'x' } }],
    [{ labels: { a: 'b' }, startsAt: '2026-01-02T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' }],
  ]) {
    const got = await call('/alerts', 'POST', body);
    t.same(got[1], got[0], JSON.stringify(body));
  }
  // The accepted ones kept the same start (the earliest of those posted, as alerts merge).
  const starts = (await call('/alerts?filter=a%3Db')).map((r) => (r.json as Array<{ startsAt: string }>).map((x) => x.startsAt));
  t.same(starts[1], starts[0], 'the merged start time');
  // Silences: the same decoder errors, with the Silence struct named.
  for (const startsAt of ['yesterday', 5, '2026-02-30T00:00:00Z']) {
    const got = await call('/silences', 'POST', { ...silence, startsAt });
    t.same(got[1], got[0], `silence startsAt ${JSON.stringify(startsAt)}`);
  }
});
