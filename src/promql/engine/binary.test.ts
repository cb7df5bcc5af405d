import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { mat, vec } from './engine.test.js';
import { bin, load, m, num, OPTS, sel } from './test-helpers.js';

const k = load(m(5), {
  'http_requests{job="api", instance="0", group="production"}': '0+10x10',
  'http_requests{job="api", instance="1", group="production"}': '0+20x10',
  'http_requests{job="api", instance="0", group="canary"}': '0+30x10',
  'http_requests{job="app", instance="0", group="production"}': '0+50x10',
  'ratio{group="production"}': '1x10',
  'ratio{group="canary"}': '2x10',
  'dup_metric{label="alpha"}': '1',
  'dup_metric{label="beta"}': '2',
  scalar_metric: '3',
});
const at = m(50);

t.test('scalar/scalar and vector/scalar', async (t) => {
  t.same(instantQuery(k, bin('^', num(2), num(10)), 0, OPTS).value, { resultType: 'scalar', timestampMs: 0, value: 1024 });
  t.same(instantQuery(k, bin('>', num(2), num(1), { bool: true }), 0, OPTS).value, { resultType: 'scalar', timestampMs: 0, value: 1 });
  t.same(vec(instantQuery(k, bin('*', sel('http_requests', { job: 'app' }), num(2)), at, OPTS)), { '{group="production", instance="0", job="app"}': 1000 });
  // filtering keeps the name and the vector's value, even with the scalar on the left
  t.same(vec(instantQuery(k, bin('<', num(150), sel('http_requests', { instance: '0' })), at, OPTS)), {
    '{__name__="http_requests", group="canary", instance="0", job="api"}': 300,
    '{__name__="http_requests", group="production", instance="0", job="app"}': 500,
  });
  t.same(vec(instantQuery(k, bin('>', sel('http_requests', { job: 'app' }), num(1000), { bool: true }), at, OPTS)), {
    '{group="production", instance="0", job="app"}': 0,
  });
  t.same(instantQuery(k, bin('^', num(1), num(NaN)), 0, OPTS).value, { resultType: 'scalar', timestampMs: 0, value: 1 });
});

t.test('one-to-one, on/ignoring, group_left', async (t) => {
  t.same(
    vec(instantQuery(k, bin('/', sel('http_requests', { instance: '0', job: 'api' }), sel('ratio'), { ignoring: ['instance', 'job'] }), at, OPTS)),
    { '{group="canary"}': 150, '{group="production"}': 100 },
  );
  t.same(
    vec(instantQuery(k, bin('*', sel('http_requests', { job: 'api' }), sel('ratio'), { on: ['group'], groupLeft: [] }), at, OPTS)),
    {
      '{group="canary", instance="0", job="api"}': 600,
      '{group="production", instance="0", job="api"}': 100,
      '{group="production", instance="1", job="api"}': 200,
    },
  );
  t.same(
    vec(instantQuery(k, bin('*', sel('ratio'), sel('http_requests', { job: 'app' }), { on: ['group'], groupRight: ['job'] }), at, OPTS)),
    { '{group="production", instance="0"}': 500 }, // job comes from the "one" side, which lacks it
  );
  t.throws(
    () => instantQuery(k, bin('*', sel('http_requests'), sel('ratio'), { on: ['group'] }), at, OPTS),
    /multiple matches for labels: many-to-one matching must be explicit \(group_left\/group_right\)/,
  );
  t.throws(() => instantQuery(k, bin('>', sel('scalar_metric'), sel('dup_metric'), { on: [] }), 0, OPTS), {
    message:
      'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="dup_metric", label="alpha"}, {__name__="dup_metric", label="beta"}];many-to-many matching not allowed: matching labels must be unique on one side',
  });
});

t.test('set operators', async (t) => {
  const canary = sel('http_requests', { group: 'canary' });
  const inst0 = sel('http_requests', { instance: '0' });
  t.same(Object.keys(vec(instantQuery(k, bin('and', inst0, canary), at, OPTS))), ['{__name__="http_requests", group="canary", instance="0", job="api"}']);
  t.equal(Object.keys(vec(instantQuery(k, bin('unless', inst0, canary), at, OPTS))).length, 2);
  t.equal(Object.keys(vec(instantQuery(k, bin('or', canary, inst0), at, OPTS))).length, 3);
  t.equal(Object.keys(vec(instantQuery(k, bin('or', canary, inst0, { on: ['instance'] }), at, OPTS))).length, 1);
  const k2 = load(m(10), { metric_a: '1 _', metric_b: '3 4' });
  t.same(mat(rangeQuery(k2, bin('or', sel('metric_a'), sel('metric_b')), 0, m(20), m(10), OPTS)), {
    '{__name__="metric_a"}': [[0, 1]],
    '{__name__="metric_b"}': [[600, 4]], // same signature as metric_a (names are ignored): only where metric_a is absent
  });
});

t.test('fill modifiers', async (t) => {
  const kf = load(m(5), {
    'left_vector{label="a"}': '10',
    'left_vector{label="b"}': '20',
    'left_vector{label="c"}': '30',
    'right_vector{label="a"}': '100',
    'right_vector{label="d"}': '400',
  });
  const withFill = (op: Parameters<typeof bin>[0], fill: { lhs?: number; rhs?: number }, o = {}) => {
    const e = bin(op, sel('left_vector'), sel('right_vector'), o);
    e.matching!.fill = fill;
    return e;
  };
  t.same(vec(instantQuery(kf, withFill('+', { lhs: 0, rhs: 0 }), 0, OPTS)), { '{label="a"}': 110, '{label="b"}': 20, '{label="c"}': 30, '{label="d"}': 400 });
  t.same(vec(instantQuery(kf, withFill('+', { lhs: 5 }), 0, OPTS)), { '{label="a"}': 110, '{label="d"}': 405 });
  t.same(vec(instantQuery(kf, withFill('!=', { lhs: 30, rhs: 30 }), 0, OPTS)), {
    '{__name__="left_vector", label="a"}': 10,
    '{__name__="left_vector", label="b"}': 20,
    '{label="d"}': 30,
  });
});
