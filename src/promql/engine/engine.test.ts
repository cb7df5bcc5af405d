import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { labelsString } from './labels.js';
import { EngineError, type QueryResult } from './types.js';
import { agg, bin, call, load, m, ms, neg, num, OPTS, s, sel, sq, str } from './test-helpers.js';

/** vec renders an instant vector result as { '{labels}': value }. */
export function vec(r: QueryResult): Record<string, number> {
  if (r.value.resultType !== 'vector') throw new Error(`not a vector: ${r.value.resultType}`);
  const out: Record<string, number> = {};
  for (const x of r.value.series) out[labelsString(x.labels)] = x.value;
  return out;
}

/** mat renders a matrix result as { '{labels}': [[t, v], ...] } with t in seconds. */
export function mat(r: QueryResult): Record<string, Array<[number, number]>> {
  if (r.value.resultType !== 'matrix') throw new Error(`not a matrix: ${r.value.resultType}`);
  const out: Record<string, Array<[number, number]>> = {};
  for (const x of r.value.series) out[labelsString(x.labels)] = [...x.timestamps].map((ts, i) => [ts / 1000, x.values[i]]);
  return out;
}

t.test('vector selector with lookback, offset and @', async (t) => {
  const k = load(m(5), { 'metric_total{env="1"}': '0 60 120', 'x{a="b"}': '1 _ _ 4' });
  t.same(vec(instantQuery(k, sel('metric_total', { env: '1' }), m(10), OPTS)), { '{__name__="metric_total", env="1"}': 120 });
  t.same(vec(instantQuery(k, sel('metric_total', {}, { offsetMs: m(5) }), m(10), OPTS)), { '{__name__="metric_total", env="1"}': 60 });
  t.same(vec(instantQuery(k, sel('metric_total', {}, { at: { kind: 'timestamp', ms: m(5) } }), m(100), OPTS)), {
    '{__name__="metric_total", env="1"}': 60,
  });
  // lookback: the sample at 0 is visible until just before 5m
  t.same(vec(instantQuery(k, sel('x'), m(5) - 1, OPTS)), { '{__name__="x", a="b"}': 1 });
  t.same(vec(instantQuery(k, sel('x'), m(5), OPTS)), {});
  t.same(mat(rangeQuery(k, sel('x'), 0, m(15), m(5), OPTS)), { '{__name__="x", a="b"}': [[0, 1], [900, 4]] });
});

t.test('staleness markers end a series', async (t) => {
  const k = load(s(10), { metric: '0 1 2 stale 4' });
  t.same(mat(rangeQuery(k, sel('metric'), 0, s(40), s(10), OPTS)), { '{__name__="metric"}': [[0, 0], [10, 1], [20, 2], [40, 4]] });
  t.same(vec(instantQuery(k, call('count_over_time', ms(sel('metric'), s(45))), s(40), OPTS)), { '{}': 4 });
});

t.test('scalar and string results', async (t) => {
  const k = load(m(1), {});
  const r = instantQuery(k, bin('+', num(1), num(2)), 5000, OPTS);
  t.same(r.value, { resultType: 'scalar', timestampMs: 5000, value: 3 });
  t.same(instantQuery(k, str('hi'), 0, OPTS).value, { resultType: 'string', timestampMs: 0, value: 'hi' });
  t.same(mat(rangeQuery(k, call('time'), 0, s(20), s(10), OPTS)), { '{}': [[0, 0], [10, 10], [20, 20]] });
  t.throws(() => rangeQuery(k, str('hi'), 0, 10, 1, OPTS), new EngineError('bad_data', 'invalid expression type "string" for range query, must be Scalar or instant Vector'));
});

t.test('matrix selector result for instant queries', async (t) => {
  const k = load(s(10), { metric: '1 2 3 4 5 6 7' });
  t.same(mat(instantQuery(k, ms(sel('metric'), s(30)), s(60), OPTS)), { '{__name__="metric"}': [[40, 5], [50, 6], [60, 7]] });
});

t.test('delayed name removal', async (t) => {
  const k = load(m(5), { 'metric_total{env="1"}': '0 60 120', 'another_metric_total{env="1"}': '60 120 180' });
  t.same(vec(instantQuery(k, neg(sel('metric_total')), m(10), OPTS)), { '{env="1"}': -120 });
  t.same(vec(instantQuery(k, call('rate', ms(sel('metric_total', { env: '1' }), m(10))), m(10), OPTS)), { '{env="1"}': 0.2 });
  t.same(vec(instantQuery(k, call('last_over_time', ms(sel('metric_total', { env: '1' }), m(10))), m(10), OPTS)), {
    '{__name__="metric_total", env="1"}': 120,
  });
  t.same(vec(instantQuery(k, call('last_over_time', sq(call('abs', sel('metric_total', { env: '1' })), m(10))), m(10), OPTS)), {
    '{env="1"}': 120,
  });
  const rateAll = call('rate', ms(sel('', { env: '1' }), m(10)));
  t.throws(() => instantQuery(k, agg('sum', rateAll, { by: ['__name__'] }), m(10), OPTS), /same labelset/);
  t.same(vec(instantQuery(k, agg('sum', rateAll, { by: ['env'] }), m(10), OPTS)), { '{env="1"}': 0.4 });
  t.same(vec(instantQuery(k, agg('topk', agg('sum', call('rate', ms(sel('metric_total', { env: '1' }), m(10))), { by: ['__name__', 'env'] }), { param: num(10) }), m(10), OPTS)), {
    '{env="1"}': 0.2,
  });
  const k2 = load(m(10), { metric_a: '1 _', metric_b: '3 4' });
  t.same(mat(rangeQuery(k2, bin('or', neg(sel('metric_a')), neg(sel('metric_b'))), 0, m(20), m(10), OPTS)), { '{}': [[0, -1], [600, -4]] });
  const k3 = load(m(5), { 'testmetric1{src="a",dst="b"}': '0', 'testmetric2{src="a",dst="b"}': '1' });
  t.throws(() => instantQuery(k3, call('ceil', sel('', { __name__: '~testmetric1|testmetric2' })), 0, OPTS), /same labelset/);
});

t.test('limits: samples, deadline, cancel', async (t) => {
  const k = load(s(10), { a: '1+1x100', b: '1+1x100' });
  t.throws(() => rangeQuery(k, sel('', { __name__: '~a|b' }), 0, s(1000), s(10), { ...OPTS, maxSamples: 100 }), /too many samples/);
  t.throws(() => instantQuery(k, sel('a'), 0, { ...OPTS, deadline: Date.now() - 1 }), /timed out/);
  const ac = new AbortController();
  ac.abort();
  t.throws(() => instantQuery(k, sel('a'), 0, { ...OPTS, signal: ac.signal }), /canceled/);
});
