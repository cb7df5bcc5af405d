import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { mat, vec } from './engine.test.js';
import { agg, load, m, num, OPTS, sel, str } from './test-helpers.js';

const k = load(m(5), {
  'http_requests{job="api", instance="0", group="production"}': '0+10x10',
  'http_requests{job="api", instance="1", group="production"}': '0+20x10',
  'http_requests{job="api", instance="0", group="canary"}': '0+30x10',
  'http_requests{job="api", instance="1", group="canary"}': '0+40x10',
  'http_requests{job="app", instance="0", group="production"}': '0+50x10',
  'http_requests{job="app", instance="1", group="production"}': '0+60x10',
  'http_requests{job="app", instance="0", group="canary"}': '0+70x10',
  'http_requests{job="app", instance="1", group="canary"}': '0+80x10',
  'data{test="big"}': '9.988e307',
  'data{test="big2"}': '9.988e307',
  'nan{x="a"}': 'NaN',
  'nan{x="b"}': '1',
});
const at = m(50);
const hr = sel('http_requests');

t.test('sum, avg, count, min, max, group, stddev, stdvar by/without', async (t) => {
  t.same(vec(instantQuery(k, agg('sum', hr, { by: ['job'] }), at, OPTS)), { '{job="api"}': 1000, '{job="app"}': 2600 });
  t.same(vec(instantQuery(k, agg('count', hr, { without: ['instance'] }), at, OPTS)), {
    '{group="canary", job="api"}': 2,
    '{group="canary", job="app"}': 2,
    '{group="production", job="api"}': 2,
    '{group="production", job="app"}': 2,
  });
  t.same(vec(instantQuery(k, agg('avg', hr), at, OPTS)), { '{}': 450 });
  t.same(vec(instantQuery(k, agg('min', hr, { by: ['group'] }), at, OPTS)), { '{group="canary"}': 300, '{group="production"}': 100 });
  t.same(vec(instantQuery(k, agg('max', hr, { by: ['group'] }), at, OPTS)), { '{group="canary"}': 800, '{group="production"}': 600 });
  t.same(vec(instantQuery(k, agg('group', hr, { by: ['job'] }), at, OPTS)), { '{job="api"}': 1, '{job="app"}': 1 });
  t.ok(Math.abs(vec(instantQuery(k, agg('stdvar', sel('http_requests', { job: 'api' })), at, OPTS))['{}'] - 12500) < 1e-9);
  t.same(vec(instantQuery(k, agg('stddev', sel('http_requests', { job: 'api', group: 'production' })), at, OPTS)), { '{}': 50 });
  // avg switches to the incremental mean instead of overflowing
  t.same(vec(instantQuery(k, agg('avg', sel('data')), 0, OPTS)), { '{}': 9.988e307 });
  t.same(vec(instantQuery(k, agg('max', sel('nan')), 0, OPTS)), { '{}': 1 });
  t.same(vec(instantQuery(k, agg('sum', hr, { by: ['__name__'] }), at, OPTS)), { '{__name__="http_requests"}': 3600 });
});

t.test('quantile with param warnings', async (t) => {
  t.same(vec(instantQuery(k, agg('quantile', hr, { param: num(0.5), by: ['job'] }), at, OPTS)), { '{job="api"}': 250, '{job="app"}': 650 });
  const r = instantQuery(k, agg('quantile', hr, { param: num(1.5) }), at, OPTS);
  t.same(vec(r), { '{}': Infinity });
  t.same(r.warnings, ['PromQL warning: quantile value should be between 0 and 1, got 1.5']);
});

t.test('topk, bottomk keep labels and order', async (t) => {
  const r = instantQuery(k, agg('topk', hr, { param: num(2), by: ['group'] }), at, OPTS);
  if (r.value.resultType !== 'vector') throw new Error('vector');
  // groups in order of first appearance (canary sorts first), each descending
  t.same(r.value.series.map((s) => s.value), [800, 700, 600, 500]);
  t.same(vec(instantQuery(k, agg('bottomk', hr, { param: num(1) }), at, OPTS)), { '{__name__="http_requests", group="production", instance="0", job="api"}': 100 });
  t.same(vec(instantQuery(k, agg('topk', hr, { param: num(0) }), at, OPTS)), {});
  t.throws(() => instantQuery(k, agg('topk', hr, { param: num(NaN) }), at, OPTS), /Parameter value is NaN/);
  t.same(vec(instantQuery(k, agg('topk', sel('nan'), { param: num(1) }), 0, OPTS)), { '{__name__="nan", x="b"}': 1 });
  t.same(Object.keys(mat(rangeQuery(k, agg('topk', hr, { param: num(1) }), m(5), at, m(5), OPTS))), ['{__name__="http_requests", group="canary", instance="1", job="app"}']);
});

t.test('limitk, limit_ratio, count_values', async (t) => {
  t.equal(Object.keys(vec(instantQuery(k, agg('limitk', hr, { param: num(3) }), at, OPTS))).length, 3);
  t.equal(Object.keys(vec(instantQuery(k, agg('limit_ratio', hr, { param: num(1) }), at, OPTS))).length, 8);
  const half = Object.keys(vec(instantQuery(k, agg('limit_ratio', hr, { param: num(0.5) }), at, OPTS)));
  const other = Object.keys(vec(instantQuery(k, agg('limit_ratio', hr, { param: num(-0.5) }), at, OPTS)));
  t.equal(half.length + other.length, 8);
  t.same(half.filter((x) => other.includes(x)), []);
  const r = instantQuery(k, agg('limit_ratio', hr, { param: num(1.1) }), at, OPTS);
  t.same(r.warnings, ['PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1']);
  t.same(vec(instantQuery(k, agg('count_values', sel('http_requests', { job: 'api' }), { param: str('v') }), m(0), OPTS)), { '{v="0"}': 4 });
});
