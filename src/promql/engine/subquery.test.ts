import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { mat, vec } from './engine.test.js';
import { call, load, m, ms, OPTS, s, sel, sq } from './test-helpers.js';

t.test('subquery steps align to absolute multiples of the step', async (t) => {
  const k = load(s(10), { metric_total: '1 2' });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric_total'), s(50), s(10))), s(10), OPTS)), { '{}': 3 });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric_total'), s(50), s(5))), s(10), OPTS)), { '{}': 4 });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric_total'), s(50), s(10))), m(5), OPTS)), { '{}': 10 });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric_total'), s(60), s(10))), m(5) + s(59), OPTS)), { '{}': 2 });
  t.same(vec(instantQuery(k, call('rate', sq(sel('metric_total'), s(20), s(5))), s(20), OPTS)), { '{}': 0.06666666666666667 });
});

t.test('offset, @ and nesting', async (t) => {
  const k = load(s(10), { metric1_total: '0+1x1000' });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric1_total'), s(30), s(5))), s(1000), OPTS)), { '{}': 591 });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric1_total'), s(30), s(10), { offsetMs: s(10) })), s(1010), OPTS)), { '{}': 297 });
  t.same(vec(instantQuery(k, call('sum_over_time', sq(sel('metric1_total'), s(30), s(10), { at: { kind: 'timestamp', ms: s(1000) } })), s(5000), OPTS)), {
    '{}': 297,
  });
  // nested: the inner subquery runs on its own grid for every outer step
  const nested = call('max_over_time', sq(call('rate', sq(sel('metric1_total'), s(20), s(10))), s(60), s(20)));
  t.same(vec(instantQuery(k, nested, s(1000), OPTS)), { '{}': 0.1 });
  // default step (1m) when none is given
  t.same(vec(instantQuery(k, call('count_over_time', sq(sel('metric1_total'), m(5))), s(1000), OPTS)), { '{}': 5 });
});

t.test('subquery results for instant queries and in range queries', async (t) => {
  const k = load(s(10), { metric: '0+1x100' });
  t.same(mat(instantQuery(k, sq(sel('metric'), s(30), s(10)), s(100), OPTS)), {
    '{__name__="metric"}': [[80, 8], [90, 9], [100, 10]],
  });
  t.same(mat(rangeQuery(k, call('last_over_time', sq(sel('metric'), s(30), s(10))), s(20), s(40), s(10), OPTS)), {
    '{__name__="metric"}': [[20, 2], [30, 3], [40, 4]],
  });
  t.same(vec(instantQuery(k, call('avg_over_time', ms(sel('metric'), s(30))), s(100), OPTS)), { '{}': 9 });
});

t.test('duration expressions resolved per query', async (t) => {
  const k = load(s(10), { metric1_total: '0+1x100' });
  const e = call('count_over_time', ms(sel('metric1_total'), 1));
  if (e.args[0].type === 'MatrixSelector') e.args[0].rangeExpr = call('step');
  t.same(mat(rangeQuery(k, e, s(50), s(60), s(10), OPTS)), { '{}': [[50, 1], [60, 1]] });
  const off = sel('metric1_total');
  off.offsetExpr = call('range');
  t.same(mat(rangeQuery(k, off, s(50), s(60), s(5), OPTS)), { '{__name__="metric1_total"}': [[50, 4], [55, 4], [60, 5]] });
});
