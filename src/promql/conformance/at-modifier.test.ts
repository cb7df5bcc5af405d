// at-modifier.test.ts checks promqltest's `@` re-writes: which nodes get
// pinned, the extra evaluation times, and the functions that skip them.

import t from 'tap';
import { parseExpr } from '../parser/parser.js';
import { atVariants } from './at-modifier.js';

t.test('selectors and outer subqueries are pinned at the eval time', async (t) => {
  const v = atVariants('rate(a[5m]) + b + max_over_time(c[10m:1m])', 600_000);
  t.same(v.map((x) => x.evalMs), [-6_000_000, 0, 120_000, 600_000, 6_000_000]);
  const pinned = parseExpr(v[0]!.expr);
  t.match(pinned, {
    type: 'BinaryExpr',
    lhs: { lhs: { args: [{ vs: { at: { kind: 'timestamp', ms: 600_000 } } }] }, rhs: { at: { kind: 'timestamp', ms: 600_000 } } },
    rhs: { args: [{ type: 'SubqueryExpr', at: { kind: 'timestamp', ms: 600_000 }, expr: { at: undefined } }] },
  });
});

t.test('times around zero and selectors already pinned', async (t) => {
  t.same(atVariants('a', 0).map((x) => x.evalMs), [-1000, 0, 1000]);
  const kept = parseExpr(atVariants('a @ 100', 50_000)[0]!.expr);
  t.match(kept, { at: { kind: 'timestamp', ms: 100_000 } });
});

t.test('time-dependent functions skip the re-writes', async (t) => {
  for (const q of ['time()', 'hour(a)', 'timestamp(a)', 'predict_linear(a[5m], 60)', 'a + day_of_week()']) t.same(atVariants(q, 60_000), [], q);
});

t.test('start() and end() are the evaluation time of an instant query: no re-writes', async (t) => {
  for (const q of ['start()', 'vector(end())', 'end() - start()', 'a @ start() + start()']) t.same(atVariants(q, 100_000), [], q);
  // step() and range() are 0 in every instant query, so they keep their variants.
  t.equal(atVariants('step() + range()', 100_000).length, 5);
});
