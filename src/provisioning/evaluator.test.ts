// evaluator.test.ts drives Grafana rule evaluation with a scripted query
// runner: `for` (Pending, then Alerting), keep_firing_for (Recovering),
// resolution, every noDataState and execErrState, $values/$value templates,
// queries to unknown data sources, and the routing labels of rules with
// notification settings.

import t from 'tap';
import type { Alert } from '../alertmanager/types.js';
import { log } from '../log.js';
import { GrafanaEvaluator, type QueryRunner } from './evaluator.js';
import type { SeriesItem } from './expressions.js';
import { emptyOrgState, type AlertRule, type OrgState } from './model.js';

let data: SeriesItem[] | Error = [];
const runner: QueryRunner = {
  instant: async () => {
    if (data instanceof Error) throw data;
    return data.map((s) => ({ labels: s.labels, value: s.points[s.points.length - 1]?.[1] ?? null }));
  },
  range: async () => {
    if (data instanceof Error) throw data;
    return data;
  },
};
const sent: Alert[][] = [];
const ev = new GrafanaEvaluator({ runner, deliver: (_t, alerts) => sent.push(alerts), externalURL: 'http://grafana.example', logger: log.with({ component: 'test' }) });
t.teardown(() => ev.stop());

function rule(over: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 1,
    uid: 'r1',
    folderUID: 'f',
    ruleGroup: 'g',
    title: 'Hot',
    condition: 'C',
    data: [
      { refId: 'A', queryType: '', relativeTimeRange: { from: 60, to: 0 }, datasourceUid: 'mimir', model: { expr: 'temp' } },
      { refId: 'B', queryType: '', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last' } },
      { refId: 'C', queryType: '', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [50] } }] } },
    ],
    updated: '',
    noDataState: 'NoData',
    execErrState: 'Error',
    forMs: 0,
    keepFiringForMs: 0,
    annotations: { text: '{{ $labels.room }}={{ $values.B.Value }}', v: '{{ $value }}' },
    labels: { team: 'ops' },
    isPaused: false,
    provenance: 'api',
    ...over,
  };
}

function orgWith(r: AlertRule): OrgState {
  const st = emptyOrgState('x');
  st.folders.push({ uid: 'f', title: 'Folder F' });
  st.groups.push({ folderUID: 'f', title: 'g', intervalSeconds: 60 });
  st.rules.push(r);
  return st;
}

const temp = (room: string, v: number): SeriesItem => ({ labels: { __name__: 'temp', room }, points: [[1000, v]] });

async function evalAt(r: AlertRule, ts: number): Promise<Alert[]> {
  ev.sync('org', orgWith(r));
  sent.length = 0;
  await ev.evaluateGroupNow('org', 'f', 'g', ts);
  return sent.flat();
}

t.test('for: pending first, then firing; templates; resolution', async (t) => {
  const r = rule({ uid: 'for', forMs: 120_000 });
  data = [temp('kitchen', 70), temp('hall', 20)];
  t.same(await evalAt(r, 1_000_000), [], 'pending: nothing sent');
  t.same(await evalAt(r, 1_060_000), [], 'still pending after 60s');
  const firing = await evalAt(r, 1_120_000);
  t.equal(firing.length, 1);
  const a = firing[0]!;
  t.same(a.labels, { __name__: 'temp', room: 'kitchen', team: 'ops', alertname: 'Hot', grafana_folder: 'Folder F', __alert_rule_uid__: 'for', __alert_rule_namespace_uid__: 'f' });
  t.equal(a.annotations.text, 'kitchen=70');
  // As Grafana's StateToPostableAlert: values (JSON, keys sorted), value string and organisation as private annotations.
  t.equal(a.annotations.__values__, '{"B":70,"C":1}');
  t.equal(a.annotations.__value_string__, a.annotations.v);
  t.equal(a.annotations.__orgId__, '1');
  t.equal(a.annotations.v, "[ var='B' labels={__name__=temp, room=kitchen} value=70 ], [ var='C' labels={__name__=temp, room=kitchen} value=1 ]");
  t.equal(a.startsAt, 1_120_000);
  t.equal(a.endsAt, 1_120_000 + 4 * 60_000);
  t.equal(a.generatorURL, 'http://grafana.example/alerting/grafana/for/view');
  data = [temp('kitchen', 30), temp('hall', 20)];
  const resolved = await evalAt(r, 1_180_000);
  t.equal(resolved.length, 1);
  t.equal(resolved[0]!.endsAt, 1_180_000, 'resolved at the evaluation');
  t.same(await evalAt(r, 1_240_000), [], 'a resolution is sent once');
});

t.test('keep_firing_for keeps the alert firing after the condition clears', async (t) => {
  const r = rule({ uid: 'keep', keepFiringForMs: 120_000 });
  data = [temp('lab', 90)];
  t.equal((await evalAt(r, 2_000_000)).length, 1);
  data = [temp('lab', 10)];
  const still = await evalAt(r, 2_060_000);
  t.equal(still.length, 1);
  t.ok(still[0]!.endsAt > 2_060_000, 'still firing while recovering');
  t.ok((await evalAt(r, 2_120_000))[0]!.endsAt > 2_120_000, 'firing until keep_firing_for has passed');
  const done = await evalAt(r, 2_180_000);
  t.equal(done[0]!.endsAt, 2_180_000, 'resolved after keep_firing_for');
});

t.test('no data: NoData, Alerting, OK, KeepLast', async (t) => {
  data = [];
  const nd = await evalAt(rule({ uid: 'nd1' }), 3_000_000);
  t.same(nd.map((a) => a.labels), [{ team: 'ops', alertname: 'DatasourceNoData', grafana_folder: 'Folder F', rulename: 'Hot', __alert_rule_uid__: 'nd1', __alert_rule_namespace_uid__: 'f' }]);
  const al = await evalAt(rule({ uid: 'nd2', noDataState: 'Alerting' }), 3_000_000);
  t.same(al.map((a) => a.labels.alertname), ['Hot']);
  t.same(await evalAt(rule({ uid: 'nd3', noDataState: 'OK' }), 3_000_000), []);
  // KeepLast: a firing alert stays firing through no data.
  const kl = rule({ uid: 'nd4', noDataState: 'KeepLast' });
  data = [temp('attic', 99)];
  t.equal((await evalAt(kl, 3_000_000)).length, 1);
  data = [];
  const kept = await evalAt(kl, 3_060_000);
  t.equal(kept.length, 1);
  t.equal(kept[0]!.labels.room, 'attic');
  t.ok(kept[0]!.endsAt > 3_060_000);
});

t.test('errors: Error, Alerting, OK, KeepLast', async (t) => {
  data = new Error('query timed out');
  const er = await evalAt(rule({ uid: 'e1' }), 4_000_000);
  t.same(er.map((a) => [a.labels.alertname, a.annotations.Error]), [['DatasourceError', 'query timed out']]);
  t.same((await evalAt(rule({ uid: 'e2', execErrState: 'Alerting' }), 4_000_000)).map((a) => a.labels.alertname), ['Hot']);
  t.same(await evalAt(rule({ uid: 'e3', execErrState: 'OK' }), 4_000_000), []);
  const unknownDs = rule({ uid: 'e4' });
  unknownDs.data[0]!.datasourceUid = 'elsewhere';
  data = [temp('x', 99)];
  const ds = await evalAt(unknownDs, 4_000_000);
  t.equal(ds[0]!.annotations.Error, "failed to build query 'A': data source not found");
  // A condition on series data is an error, as Grafana words it.
  const onSeries = rule({ uid: 'e5', condition: 'A' });
  const s = await evalAt(onSeries, 4_000_000);
  t.equal(s[0]!.annotations.Error, 'invalid format of evaluation results for the alert definition A: looks like time series data, only reduced data can be alerted on.');
});

t.test('paused rules are not evaluated; notification settings add routing labels', async (t) => {
  data = [temp('x', 99)];
  t.same(await evalAt(rule({ uid: 'p', isPaused: true }), 5_000_000), []);
  const ns = await evalAt(rule({ uid: 'n', notificationSettings: { receiver: 'ops', group_by: ['alertname'] } }), 5_000_000);
  t.equal(ns[0]!.labels.__grafana_receiver__, 'ops');
  t.equal(ns[0]!.labels.__grafana_autogenerated__, 'true');
  t.match(ns[0]!.labels.__grafana_route_settings_hash__, /^[0-9a-f]{16}$/);
});

t.test('sync starts and stops groups with the organisation state', async (t) => {
  const st = orgWith(rule());
  ev.sync('org-sync', st);
  const before = ev.groupCount();
  ev.sync('org-sync', { ...st, groups: [], rules: [] });
  t.equal(ev.groupCount(), before - 1);
});
