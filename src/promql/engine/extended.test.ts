import t from 'tap';
import { instantQuery } from './engine.js';
import { vec } from './engine.test.js';
import { call, load, m, ms, OPTS, s, sel } from './test-helpers.js';
import type { VectorSelector } from '../parser/ast.js';

const k = load(s(15), { metric: '1+1x4 9+1x4' });
const mod = (kind: 'anchored' | 'smoothed'): VectorSelector => {
  const v = sel('metric');
  v[kind] = true;
  return v;
};
const at = (fn: string, kind: 'anchored' | 'smoothed', range: number, time: number) =>
  vec(instantQuery(k, call(fn, ms(mod(kind), range)), time, OPTS))['{}'];

t.test('anchored increase takes the sample before the range as the anchor', async (t) => {
  t.equal(at('increase', 'anchored', m(1), s(5)), 0);
  t.equal(at('increase', 'anchored', m(1), s(20)), 1);
  t.equal(at('increase', 'anchored', m(1), s(80)), 7);
  t.equal(at('increase', 'anchored', m(1), s(125)), 7);
});

t.test('smoothed increase interpolates at the range boundaries', async (t) => {
  t.ok(Math.abs(at('increase', 'smoothed', m(1), s(5)) - 0.333333333) < 1e-6);
  t.ok(Math.abs(at('increase', 'smoothed', m(1), s(20)) - 1.333333333) < 1e-6);
  t.equal(at('increase', 'smoothed', m(1), s(65)), 5);
  t.equal(at('increase', 'smoothed', m(1), s(80)), 7);
});

t.test('modifier function checks and smoothed instant selectors', async (t) => {
  t.throws(() => instantQuery(k, call('deriv', ms(mod('smoothed'), m(3))), m(1), OPTS), {
    message: 'smoothed modifier can only be used with: delta, increase, rate - not with deriv',
  });
  t.throws(() => instantQuery(k, call('max_over_time', ms(mod('anchored'), m(3))), m(1), OPTS), {
    message: 'anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time',
  });
  const k2 = load(s(10), { metric: '1 2 3' });
  const sm = sel('metric');
  sm.smoothed = true;
  t.same(vec(instantQuery(k2, sm, s(15), OPTS)), { '{__name__="metric"}': 2.5 });
  t.same(vec(instantQuery(k2, sm, s(25), OPTS)), { '{__name__="metric"}': 3 });
});
