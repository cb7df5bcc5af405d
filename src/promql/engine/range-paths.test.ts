// range-paths.test.ts checks the range-query-only paths against the
// step-by-step ones: a range query must answer, at every step, what an
// instant query at that time answers. topk/bottomk (series-major heaps in
// range queries) and vector matching with fixed pairs (series by series)
// are run over random data with ties, NaNs, gaps and duplicates.

import t from 'tap';
import { instantQuery, rangeQuery } from './engine.js';
import { labelsString } from './labels.js';
import { agg, bin, call, load, m, ms, num, OPTS, rng, sel } from './test-helpers.js';
import type { Expr } from '../parser/ast.js';
import type { QueryResult } from './types.js';


/** series builds `count` series of a metric, values from a small set (ties), some NaN, some gaps. */
function data(next: () => number, count: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const vals: string[] = [];
    for (let j = 0; j < 30; j++) {
      const r = next();
      vals.push(r < 0.1 ? '_' : r < 0.15 ? 'NaN' : String(Math.floor(next() * 6)));
    }
    out[`x{i="${i}", g="${i % 3}", h="${i % 5}"}`] = vals.join(' ');
  }
  for (let i = 0; i < 5; i++) out[`y{h="${i}"}`] = Array.from({ length: 30 }, () => (next() < 0.2 ? '_' : String(1 + Math.floor(next() * 4)))).join(' ');
  return out;
}

/** perStep lists a range result as label set -> step -> value text, and the same from instant queries. */
function fromRange(r: QueryResult): Map<string, string> {
  const out = new Map<string, string>();
  if (r.value.resultType !== 'matrix') throw new Error(r.value.resultType);
  for (const s of r.value.series) s.timestamps.forEach((ts, i) => out.set(`${labelsString(s.labels)}@${ts}`, String(s.values[i])));
  return out;
}

function fromInstants(k: ReturnType<typeof load>, e: Expr, start: number, end: number, step: number): Map<string, string> | string {
  const out = new Map<string, string>();
  for (let ts = start; ts <= end; ts += step) {
    let r: QueryResult;
    try {
      r = instantQuery(k, e, ts, OPTS);
    } catch (err) {
      return (err as Error).message;
    }
    if (r.value.resultType !== 'vector') throw new Error(r.value.resultType);
    for (const s of r.value.series) out.set(`${labelsString(s.labels)}@${ts}`, String(s.value));
  }
  return out;
}

t.test('range queries answer what instant queries answer at each step', async (t) => {
  const next = rng(99);
  for (let round = 0; round < 6; round++) {
    const k = load(m(1), data(next, 40));
    const x = sel('x');
    const exprs: Expr[] = [
      agg('topk', x, { param: num(3) }),
      agg('bottomk', x, { param: num(2), by: ['g'] }),
      agg('topk', x, { param: num(20), by: ['g'] }),
      agg('topk', call('rate', ms(x, m(5))), { param: num(4), by: ['h'] }),
      bin('/', x, agg('sum', x, { by: ['h'] }), { on: ['h'], groupLeft: [] }),
      bin('*', sel('y'), x, { on: ['h'], groupRight: [] }),
      bin('>', x, agg('max', x, { by: ['g'] }), { on: ['g'], groupLeft: [] }),
      bin('-', agg('sum', x, { by: ['g'] }), agg('max', x, { by: ['g'] })),
      bin('+', x, x, { on: ['h'], groupLeft: [] }),
      bin('+', x, x),
      bin('-', x, agg('sum', x, { by: ['g', 'h', 'i'] }), { ignoring: ['__name__'] }),
    ];
    for (const e of exprs) {
      const want = fromInstants(k, e, m(3), m(28), m(1));
      let got: Map<string, string> | string;
      try {
        got = fromRange(rangeQuery(k, e, m(3), m(28), m(1), OPTS));
      } catch (err) {
        got = (err as Error).message;
      }
      if (typeof want === 'string') {
        // A step failing alone fails the whole range query with the same message.
        t.equal(got, want, `round ${round}: error`);
        continue;
      }
      t.same(got, want, `round ${round}`);
    }
  }
});
