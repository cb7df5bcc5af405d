// group.test.ts checks a rule group's evaluation semantics with a scripted
// querier and a recording appender, iteration by iteration: recording rule
// relabelling and stale markers, the alert state machine (`for`,
// `keep_firing_for`, resolved alerts kept then dropped), ALERTS samples only
// once the `for` state is restored, restoring activeAt after a restart,
// `limit`, notifications due, the slot offset and missed iterations.

import { encodeSeriesLabels } from '../model/series-labels.js';
import { Registry } from 'prom-client';
import t from 'tap';
import { log } from '../log.js';
import type { Labels } from '../promql/engine/types.js';
import { MatchType } from '../model/matchers.js';
import { rawSeriesOf, type OutSample, type RuleQuerier, type Sample, type SeriesSamples } from './eval-io.js';
import { evalTimestamp, groupSlotOffsetMs, RuleGroup, type GroupOptions } from './group.js';
import { RulerMetrics } from './metrics.js';
import type { RuleDef, RuleGroupDef } from './rulefmt.js';
import { AlertingRule, type Alert } from './rules.js';

/** Script answers queries from a table the test changes between iterations. */
class Script implements RuleQuerier {
  answers = new Map<string, Array<{ metric: Labels; value: number }>>();
  stored: SeriesSamples[] = [];
  queries: Array<[string, string, number]> = [];
  async instant(tenant: string, query: string, tsMs: number): Promise<Sample[]> {
    this.queries.push([tenant, query, tsMs]);
    const a = this.answers.get(query);
    if (a === undefined) throw new Error(`no answer for ${query}`);
    return a.map((s) => ({ metric: s.metric, value: s.value, tsMs }));
  }
  series: (() => Promise<SeriesSamples[]>) | undefined = async () => this.stored;
  rawSeries: RuleQuerier['rawSeries'];
}

const rule = (r: Partial<RuleDef>): RuleDef => ({ record: '', alert: '', expr: '', forMs: 0, keepFiringForMs: 0, labels: {}, annotations: {}, ...r });
const group = (rules: RuleDef[], extra: Partial<RuleGroupDef> = {}): RuleGroupDef => ({ name: 'g', intervalMs: 10_000, limit: 0, rules, sourceTenants: [], alignEvaluationTimeOnInterval: false, ...extra });

function setup(def: RuleGroupDef, overrides: Partial<GroupOptions> = {}): { g: RuleGroup; q: Script; appended: OutSample[][]; sent: Alert[][] } {
  const q = new Script();
  const appended: OutSample[][] = [];
  const sent: Alert[][] = [];
  const opts: GroupOptions = {
    querier: q,
    appender: { append: async (_t, s) => void appended.push(s) },
    expand: async (text, ctx) => text.replace('$value', String(ctx.data.value)).replace('$labels.instance', ctx.data.labels.instance ?? ''),
    metrics: new RulerMetrics(new Registry()),
    logger: log.with({ component: 'test' }),
    defaultIntervalMs: 60_000,
    resendDelayMs: 60_000,
    outageToleranceMs: 3_600_000,
    forGracePeriodMs: 0,
    externalURL: '',
    externalLabels: () => ({}),
    notify: (_t, _e, alerts) => void sent.push(alerts),
    now: () => 1_000_000,
    ...overrides,
  };
  return { g: new RuleGroup('tenant', 'ns', def, opts), q, appended, sent };
}

t.test('recording rule: name and labels applied, stale markers for vanished series', async (t) => {
  const { g, q, appended } = setup(group([rule({ record: 'job:x:sum', expr: 'sum by (job) (x)', labels: { env: 'prod', drop: '' } })], { queryOffsetMs: 5000 }));
  q.answers.set('sum by (job) (x)', [
    { metric: { job: 'a', drop: 'me' }, value: 3 },
    { metric: { job: 'b' }, value: 4 },
  ]);
  await g.eval(100_000);
  t.same(q.queries[0], ['tenant', 'sum by (job) (x)', 95_000], 'queried at ts - query_offset');
  t.same(appended[0], [
    { metric: { job: 'a', __name__: 'job:x:sum', env: 'prod' }, tsMs: 95_000, value: 3 },
    { metric: { job: 'b', __name__: 'job:x:sum', env: 'prod' }, tsMs: 95_000, value: 4 },
  ]);
  q.answers.set('sum by (job) (x)', [{ metric: { job: 'b' }, value: 5 }]);
  await g.eval(110_000);
  t.same(appended[1]!.map((s) => [s.metric.job, s.value, s.stale === true]), [
    ['b', 5, false],
    ['a', NaN, true],
  ]);
  t.equal(appended[1]![1]!.tsMs, 105_000);
  t.equal(g.rules[0]!.health, 'ok');
});

t.test('recording rule: duplicate label sets and limit are errors', async (t) => {
  const { g, q, appended } = setup(group([rule({ record: 'r', expr: 'x' })], { limit: 1 }));
  q.answers.set('x', [{ metric: { a: '1' }, value: 1 }, { metric: { a: '2' }, value: 1 }]);
  await g.eval(0);
  t.equal(g.rules[0]!.health, 'err');
  t.equal(g.rules[0]!.lastError, 'exceeded limit of 1 with 2 series');
  t.same(appended, []);
  const dup = setup(group([rule({ record: 'r', expr: 'x', labels: { a: 'same' } })]));
  dup.q.answers.set('x', [{ metric: { a: '1' }, value: 1 }, { metric: { a: '2' }, value: 1 }]);
  await dup.g.eval(0);
  t.equal(dup.g.rules[0]!.lastError, 'vector contains metrics with the same labelset after applying rule labels');
});

t.test('alerting rule: pending, firing, resolved, retention', async (t) => {
  const { g, q, appended, sent } = setup(group([rule({ alert: 'Down', expr: 'up == 0', forMs: 20_000, labels: { sev: 'page' }, annotations: { s: '$labels.instance is $value' } })]));
  const r = g.rules[0] as AlertingRule;
  r.restored = true;
  q.answers.set('up == 0', [{ metric: { __name__: 'up', instance: 'i1' }, value: 0 }]);
  await g.eval(0);
  t.equal(r.state, 'pending');
  t.same(appended[0], [
    { metric: { sev: 'page', instance: 'i1', __name__: 'ALERTS', alertname: 'Down', alertstate: 'pending' }, tsMs: 0, value: 1 },
    { metric: { sev: 'page', instance: 'i1', __name__: 'ALERTS_FOR_STATE', alertname: 'Down' }, tsMs: 0, value: 0 },
  ]);
  t.same(sent, [], 'pending alerts are not sent');
  await g.eval(10_000);
  t.equal(r.state, 'pending', 'not yet for 20s');
  await g.eval(20_000);
  t.equal(r.state, 'firing');
  const a = [...r.active.values()][0]!;
  t.equal(a.firedAt, 20_000);
  t.same(a.annotations, { s: 'i1 is 0' });
  t.equal(sent.length, 1, 'firing alert sent');
  t.equal(sent[0]![0]!.validUntil, 20_000 + 4 * 60_000);
  await g.eval(30_000);
  t.equal(sent.length, 1, 'not re-sent within the resend delay');
  q.answers.set('up == 0', []);
  await g.eval(40_000);
  t.equal(r.state, 'inactive');
  t.equal(a.resolvedAt, 40_000);
  t.equal(sent.length, 2, 'resolved alert sent');
  t.equal(sent[1]![0]!.resolvedAt, 40_000);
  const last = appended.at(-1)!;
  t.same(
    last.filter((s) => s.stale === true).map((s) => s.metric.__name__),
    ['ALERTS', 'ALERTS_FOR_STATE'],
    'ALERTS series marked stale when the alert resolves',
  );
  t.equal(r.active.size, 1, 'resolved alert kept');
  await g.eval(40_000 + 15 * 60_000 + 1);
  t.equal(r.active.size, 0, 'dropped after 15 minutes');
});

t.test('alerting rule: keep_firing_for', async (t) => {
  const { g, q } = setup(group([rule({ alert: 'A', expr: 'x', keepFiringForMs: 30_000 })]));
  const r = g.rules[0] as AlertingRule;
  q.answers.set('x', [{ metric: {}, value: 1 }]);
  await g.eval(0);
  t.equal(r.state, 'firing', 'no for: fires at once');
  q.answers.set('x', []);
  await g.eval(10_000);
  t.equal(r.state, 'firing', 'kept firing');
  t.equal([...r.active.values()][0]!.keepFiringSince, 10_000);
  await g.eval(30_000);
  t.equal(r.state, 'firing');
  await g.eval(40_000);
  t.equal(r.state, 'inactive', 'keep_firing_for elapsed');
});

t.test('alerting rule: limit and duplicates', async (t) => {
  const { g, q } = setup(group([rule({ alert: 'A', expr: 'x' })], { limit: 1 }));
  const r = g.rules[0] as AlertingRule;
  q.answers.set('x', [{ metric: { i: '1' }, value: 1 }, { metric: { i: '2' }, value: 1 }]);
  await g.eval(0);
  t.equal(r.health, 'err');
  t.equal(r.lastError, 'exceeded limit of 1 with 2 alerts');
  t.equal(r.active.size, 0, 'no alerts when over the limit');
  const d = setup(group([rule({ alert: 'A', expr: 'x' })]));
  d.q.answers.set('x', [{ metric: { __name__: 'a' }, value: 1 }, { metric: { __name__: 'b' }, value: 1 }]);
  await d.g.eval(0);
  t.equal(d.g.rules[0]!.lastError, 'vector contains metrics with the same labelset after applying alert labels');
});

t.test('no ALERTS series before the for state is restored; restore shifts activeAt by the downtime', async (t) => {
  const start = 10_000_000;
  const { g, q, appended } = setup(group([rule({ alert: 'Down', expr: 'up == 0', forMs: 600_000 })]), { forGracePeriodMs: 120_000, now: () => start });
  q.answers.set('up == 0', [{ metric: { instance: 'i1' }, value: 0 }]);
  // Before the restart the alert had been pending for 300s (activeAt start-900s) when the ruler went down at start-600s.
  q.stored = [{ metric: { __name__: 'ALERTS_FOR_STATE', alertname: 'Down', instance: 'i1' }, samples: [[start - 600_000, (start - 900_000) / 1000]] }];
  await g.iterate(start);
  t.same(appended[0], [], 'first evaluation writes no ALERTS');
  const r = g.rules[0] as AlertingRule;
  t.ok(r.restored);
  const a = [...r.active.values()][0]!;
  t.equal(a.activeAt, start - 300_000, 'pending time before the outage kept, the outage not counted');
  await g.eval(start + 299_000);
  t.equal(r.state, 'pending');
  await g.eval(start + 300_000);
  t.equal(r.state, 'firing', 'fires when the remaining 300s have passed');
  t.same(
    appended.at(-1)!.map((s) => [s.metric.__name__, s.metric.alertstate, s.stale === true]),
    [
      ['ALERTS', 'firing', false],
      ['ALERTS_FOR_STATE', undefined, false],
      ['ALERTS', 'pending', true],
    ],
    'the pending series goes stale as the firing one starts',
  );
});

t.test('restore: a nearly done for waits the grace period; a short for is not restored', async (t) => {
  const start = 10_000_000;
  const { g, q } = setup(group([rule({ alert: 'Down', expr: 'up == 0', forMs: 600_000 }), rule({ alert: 'Quick', expr: 'q', forMs: 60_000 })]), { forGracePeriodMs: 120_000, now: () => start });
  q.answers.set('up == 0', [{ metric: {}, value: 0 }]);
  q.answers.set('q', [{ metric: {}, value: 0 }]);
  q.stored = [{ metric: { __name__: 'ALERTS_FOR_STATE', alertname: 'Down' }, samples: [[start - 60_000, (start - 630_000) / 1000]] }];
  await g.iterate(start);
  const down = [...(g.rules[0] as AlertingRule).active.values()][0]!;
  t.equal(down.activeAt, start + 120_000 - 600_000, 'fires after the grace period');
  const quick = [...(g.rules[1] as AlertingRule).active.values()][0]!;
  t.equal(quick.activeAt, start, 'for under the grace period: not restored');
});

t.test('restore reads the stored samples: a series that went stale is not restored (Prometheus 3.x)', async (t) => {
  const start = 10_000_000;
  for (const [stale, want] of [
    [false, start - 300_000],
    [true, start],
  ] as const) {
    const { g, q } = setup(group([rule({ alert: 'Down', expr: 'up == 0', forMs: 600_000 })]), { forGracePeriodMs: 120_000, outageToleranceMs: 3_600_000, now: () => start });
    q.answers.set('up == 0', [{ metric: { instance: 'i1' }, value: 0 }]);
    const asked: Array<[string, Labels, number, number]> = [];
    const samples: SeriesSamples['samples'] = [[start - 660_000, (start - 900_000) / 1000], [start - 600_000, (start - 900_000) / 1000]];
    // The alert resolved (its ALERTS_FOR_STATE series got a stale marker) before the ruler went down.
    if (stale) samples.push([start - 590_000, NaN, true]);
    q.rawSeries = async (tenant, labels, mint, maxt) => {
      asked.push([tenant, labels, mint, maxt]);
      return [{ metric: labels, samples }];
    };
    q.series = async () => {
      throw new Error('PromQL hides stale markers: not used when the stored samples can be read');
    };
    await g.iterate(start);
    t.same(asked, [['tenant', { __name__: 'ALERTS_FOR_STATE', alertname: 'Down', instance: 'i1' }, start - 3_600_000, start]], 'the series, over the outage tolerance');
    const r = g.rules[0] as AlertingRule;
    t.ok(r.restored);
    t.equal([...r.active.values()][0]!.activeAt, want, stale ? 'stale: not restored, active from now' : 'restored, shifted by the downtime');
  }
});

t.test('rawSeriesOf flags staleness markers by their bits and keeps exactly the asked labels', async (t) => {
  const values = new Float64Array([1, 2, 0, 5]);
  new Uint32Array(values.buffer, 2 * 8, 2).set([2, 0x7ff00000]);
  const asked: unknown[] = [];
  const out = rawSeriesOf(
    (tenant, matchers, mint, maxt) => {
      asked.push([tenant, matchers, mint, maxt]);
      return {
        labels: encodeSeriesLabels([{ __name__: 'ALERTS_FOR_STATE', a: 'x' }, { __name__: 'ALERTS_FOR_STATE', a: 'x', extra: 'y' }]),
        offsets: new Uint32Array([0, 3, 4]),
        timestamps: new Float64Array([10, 20, 30, 40]),
        values,
      };
    },
    'tn',
    { __name__: 'ALERTS_FOR_STATE', a: 'x' },
    5,
    50,
  );
  t.same(asked, [['tn', [{ name: '__name__', type: MatchType.Equal, value: 'ALERTS_FOR_STATE' }, { name: 'a', type: MatchType.Equal, value: 'x' }], 5, 50]]);
  t.equal(out.length, 1, 'the series with an extra label is left out');
  t.same(out[0]!.samples.map((s) => [s[0], s[2] === true]), [[10, false], [20, false], [30, true]]);
  t.equal(out[0]!.samples[1]![1], 2);
});

t.test('slot offset and alignment follow Prometheus', async (t) => {
  const off = groupSlotOffsetMs('/etc/prometheus/rules.yml', 'example', 60_000);
  t.ok(off >= 0 && off < 60_000);
  t.equal(groupSlotOffsetMs('/etc/prometheus/rules.yml', 'example', 60_000), off, 'deterministic');
  t.not(groupSlotOffsetMs('/etc/prometheus/rules.yml', 'other', 60_000), off);
  const ts = evalTimestamp(1_700_000_012_345, 60_000, off);
  t.ok(ts <= 1_700_000_012_345 && ts > 1_700_000_012_345 - 60_000);
  t.equal(((ts - off) % 60_000 + 60_000) % 60_000, 0);
});

t.test('missed iterations are counted and skipped, never bunched', async (t) => {
  const registry = new Registry();
  const { g, q } = setup(group([rule({ record: 'r', expr: 'slow' })], { intervalMs: 100, alignEvaluationTimeOnInterval: true }), { metrics: new RulerMetrics(registry), now: Date.now });
  let calls = 0;
  q.instant = async (_tenant, _query, tsMs) => {
    calls++;
    // The first evaluation takes 350ms (3 slots missed).
    if (calls === 1) await new Promise((r) => setTimeout(r, 350));
    return [{ metric: {}, value: 1, tsMs }];
  };
  g.start();
  await new Promise((r) => setTimeout(r, 900));
  await g.stop(false);
  const missed = (await registry.getSingleMetric('cortex_prometheus_rule_group_iterations_missed_total')!.get()).values;
  t.ok(missed.length === 1 && missed[0]!.value >= 2, `missed iterations counted: ${JSON.stringify(missed)}`);
  t.ok(calls <= 9, `no bunching: ${calls} evaluations in 900ms`);
});

t.test('a reload keeps alert state of unchanged rules and marks removed rules stale', async (t) => {
  const first = setup(group([rule({ alert: 'A', expr: 'x', forMs: 60_000 }), rule({ record: 'gone', expr: 'y' })]));
  first.q.answers.set('x', [{ metric: { i: '1' }, value: 1 }]);
  first.q.answers.set('y', [{ metric: { j: '1' }, value: 2 }]);
  await first.g.eval(0);
  const appended: OutSample[][] = [];
  const opts = { ...(first.g as unknown as { opts: GroupOptions }).opts, appender: { append: async (_t: string, s: OutSample[]) => void appended.push(s) } };
  const next = new RuleGroup('tenant', 'ns', group([rule({ alert: 'A', expr: 'x', forMs: 60_000 })]), opts, first.g);
  const a = next.rules[0] as AlertingRule;
  t.equal([...a.active.values()][0]!.activeAt, 0, 'pending alert kept across the reload');
  await next.eval(10_000);
  const stale = appended.flat().filter((s) => s.stale === true);
  t.same(stale.map((s) => [s.metric.__name__, s.tsMs]), [['gone', 10_000]], 'the removed rule series marked stale');
});
