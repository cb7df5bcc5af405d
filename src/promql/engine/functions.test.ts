import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { mat, vec } from './engine.test.js';
import { bucketFraction, bucketQuantile } from './histogram.js';
import { call, load, m, ms, num, OPTS, s, sel, str } from './test-helpers.js';

t.test('math and clamp drop the name', async (t) => {
  const k = load(m(5), { 'm{a="1"}': '-1.5', 'm{a="2"}': '2.5' });
  t.same(vec(instantQuery(k, call('abs', sel('m')), 0, OPTS)), { '{a="1"}': 1.5, '{a="2"}': 2.5 });
  t.same(vec(instantQuery(k, call('round', sel('m')), 0, OPTS)), { '{a="1"}': -1, '{a="2"}': 3 });
  t.same(vec(instantQuery(k, call('round', sel('m'), num(2)), 0, OPTS)), { '{a="1"}': -2, '{a="2"}': 2 });
  t.same(vec(instantQuery(k, call('clamp', sel('m'), num(0), num(2)), 0, OPTS)), { '{a="1"}': 0, '{a="2"}': 2 });
  t.same(vec(instantQuery(k, call('clamp', sel('m'), num(2), num(0)), 0, OPTS)), {});
  t.same(vec(instantQuery(k, call('sgn', sel('m')), 0, OPTS)), { '{a="1"}': -1, '{a="2"}': 1 });
  t.same(instantQuery(k, call('deg', call('pi')), 0, OPTS).value, { resultType: 'scalar', timestampMs: 0, value: 180 });
});

t.test('time functions', async (t) => {
  const k = load(m(5), {});
  t.same(vec(instantQuery(k, call('month'), Date.UTC(2024, 1, 10) , OPTS)), { '{}': 2 });
  t.same(vec(instantQuery(k, call('days_in_month', call('vector', num(Date.UTC(2024, 1, 10) / 1000))), 0, OPTS)), { '{}': 29 });
  t.same(vec(instantQuery(k, call('day_of_year', call('vector', num(Date.UTC(2023, 11, 31) / 1000))), 0, OPTS)), { '{}': 365 });
  t.same(vec(instantQuery(k, call('day_of_week', call('vector', num(0))), 0, OPTS)), { '{}': 4 });
});

t.test('timestamp, scalar, vector, absent', async (t) => {
  const k = load(s(10), { metric: '1 1', 'other{job="a"}': '1 2' });
  t.same(vec(instantQuery(k, call('timestamp', sel('metric')), s(15), OPTS)), { '{}': 10 });
  t.same(vec(instantQuery(k, call('timestamp', call('abs', sel('metric'))), s(15), OPTS)), { '{}': 15 });
  t.same(instantQuery(k, call('scalar', sel('other')), s(10), OPTS).value, { resultType: 'scalar', timestampMs: 10_000, value: 2 });
  t.same(vec(instantQuery(k, call('absent', sel('nonexistent', { job: 'x', instance: '~.*' })), 0, OPTS)), { '{job="x"}': 1 });
  t.same(vec(instantQuery(k, call('absent', sel('metric')), 0, OPTS)), {});
  t.same(vec(instantQuery(k, call('absent_over_time', ms(sel('nonexistent', { job: 'x' }), m(1))), 0, OPTS)), { '{job="x"}': 1 });
});

t.test('label_replace and label_join', async (t) => {
  const k = load(m(5), { 'testmetric{src="source-value-10",dst="original"}': '0', 'testmetric{src="source-value-20",dst="original"}': '1' });
  t.same(vec(instantQuery(k, call('label_replace', sel('testmetric'), str('dst'), str('destination-value-$1'), str('src'), str('source-value-(.*)')), 0, OPTS)), {
    '{__name__="testmetric", dst="destination-value-10", src="source-value-10"}': 0,
    '{__name__="testmetric", dst="destination-value-20", src="source-value-20"}': 1,
  });
  // Go's expansion reads `$1x` as the group named `1x`
  t.same(Object.keys(vec(instantQuery(k, call('label_replace', sel('testmetric'), str('dst'), str('$1x'), str('src'), str('source-value-(.*)')), 0, OPTS))), [
    '{__name__="testmetric", src="source-value-10"}',
    '{__name__="testmetric", src="source-value-20"}',
  ]);
  t.throws(() => instantQuery(k, call('label_replace', sel('testmetric'), str('src'), str(''), str(''), str('')), 0, OPTS), /same labelset/);
  t.throws(() => instantQuery(k, call('label_replace', sel('testmetric'), str('dst'), str(''), str('src'), str('(.*')), 0, OPTS), /invalid regular expression/);
  t.same(vec(instantQuery(k, call('label_join', sel('testmetric'), str('dst'), str('-'), str('src'), str('nope'), str('src')), 0, OPTS)), {
    '{__name__="testmetric", dst="source-value-10--source-value-10", src="source-value-10"}': 0,
    '{__name__="testmetric", dst="source-value-20--source-value-20", src="source-value-20"}': 1,
  });
});

t.test('sort functions and the range-query warning', async (t) => {
  const k = load(m(5), { 'x{i="1"}': '3', 'x{i="2"}': 'NaN', 'x{i="10"}': '1' });
  const order = (q: ReturnType<typeof instantQuery>) => (q.value.resultType === 'vector' ? q.value.series.map((x) => x.labels.i) : []);
  t.same(order(instantQuery(k, call('sort', sel('x')), 0, OPTS)), ['10', '1', '2']);
  t.same(order(instantQuery(k, call('sort_desc', sel('x')), 0, OPTS)), ['1', '10', '2']);
  t.same(order(instantQuery(k, call('sort_by_label', sel('x'), str('i')), 0, OPTS)), ['1', '2', '10']);
  t.same(order(instantQuery(k, call('sort_by_label_desc', sel('x'), str('i')), 0, OPTS)), ['10', '2', '1']);
  const r = rangeQuery(k, call('sort', sel('x')), 0, m(1), m(1), OPTS);
  t.same(r.warnings, ['PromQL warning: sort is ineffective for range queries since results are always ordered by labels']);
});

t.test('range functions through the kernels', async (t) => {
  const k = load(m(5), { 'metric_total{env="1"}': '0 60 120', gauge: '1 3 2' });
  t.same(vec(instantQuery(k, call('rate', ms(sel('metric_total'), m(10))), m(10), OPTS)), { '{env="1"}': 0.2 });
  t.same(vec(instantQuery(k, call('quantile_over_time', num(0.5), ms(sel('gauge'), m(15))), m(10), OPTS)), { '{}': 2 });
  const r = instantQuery(k, call('rate', ms(sel('gauge'), m(15))), m(10), OPTS);
  t.same(r.infos, ['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "gauge"']);
  t.throws(() => instantQuery(k, call('double_exponential_smoothing', ms(sel('gauge'), m(15)), num(1), num(0.5)), m(10), OPTS), {
    message: 'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000',
  });
  t.same(mat(rangeQuery(k, call('delta', ms(sel('gauge'), m(10))), m(5), m(10), m(5), OPTS)), { '{}': [[300, 4], [600, -2]] });
});

t.test('classic histogram quantile and fraction', async (t) => {
  const k = load(m(5), {
    'req_bucket{le="0.1"}': '0+1x10',
    'req_bucket{le="1"}': '0+3x10',
    'req_bucket{le="+Inf"}': '0+4x10',
    'bad_bucket{le="x"}': '1',
  });
  t.same(vec(instantQuery(k, call('histogram_quantile', num(0.5), sel('req_bucket')), m(50), OPTS)), { '{}': 0.1 + 0.9 * (20 - 10) / 20 });
  t.same(vec(instantQuery(k, call('histogram_quantile', num(0.99), sel('req_bucket')), m(50), OPTS)), { '{}': 1 });
  t.same(vec(instantQuery(k, call('histogram_fraction', num(0), num(0.1), sel('req_bucket')), m(50), OPTS)), { '{}': 0.25 });
  const r = instantQuery(k, call('histogram_quantile', num(0.5), sel('bad_bucket')), 0, OPTS);
  t.same(r.warnings, ['PromQL warning: bucket label "le" is missing or has a malformed value of "x" for metric name "bad_bucket"']);
  t.same(bucketQuantile(0.5, [{ upperBound: 1, count: 5 }, { upperBound: 0.5, count: 6 }, { upperBound: Infinity, count: 10 }]), [0.5 * (5 / 6), true]);
  t.same(bucketQuantile(0.5, [{ upperBound: 1, count: 5 }]), [NaN, false]);
  t.equal(bucketFraction(-4, -2, [
    { upperBound: -3, count: 10 }, { upperBound: -2, count: 12 }, { upperBound: -1, count: 15 }, { upperBound: Infinity, count: 100 },
  ]), 0.02);
});
