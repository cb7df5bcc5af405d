// at-modifier.ts builds promqltest's `@` re-writes of an instant query: every
// selector and subquery not already pinned (and not inside a pinned
// subquery) gets `@ <eval time>`, and the query is then evaluated at several
// other times (-10t, 0, t/5, t, 10t; or -1s, 0, 1s at t = 0), which must not
// change the answer. Queries calling a function whose value depends on the
// evaluation time itself are skipped, as Prometheus does.

import type { Expr } from '../parser/ast.js';
import { parseExpr } from '../parser/parser.js';
import { formatExpr } from '../parser/printer.js';
import type { AtVariant } from './runner.js';

/** AT_MODIFIER_UNSAFE_FUNCTIONS is Prometheus's promql.AtModifierUnsafeFunctions. */
export const AT_MODIFIER_UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  'days_in_month', 'day_of_month', 'day_of_week', 'day_of_year', 'hour', 'minute', 'month', 'year', 'predict_linear', 'time', 'timestamp',
]);

/**
 * QUERY_TIME_FUNCTIONS return the query's start or end time, which for an
 * instant query is its evaluation time: like time(), re-evaluating them at
 * other times changes the answer, so their queries get no `@` variants
 * (functions.test expects `start()` at 100s to be 100 on every run).
 */
const QUERY_TIME_FUNCTIONS: ReadonlySet<string> = new Set(['start', 'end']);

/** pin sets `@ ms` on the unpinned selectors and subqueries of expr; returns false when an unsafe function is used. */
function pin(expr: Expr, ms: number): boolean {
  let safe = true;
  const visit = (e: Expr, underPinnedSubquery: boolean): void => {
    switch (e.type) {
      case 'VectorSelector':
        if (!underPinnedSubquery && e.at === undefined) e.at = { kind: 'timestamp', ms };
        return;
      case 'MatrixSelector':
        if (!underPinnedSubquery && e.vs.at === undefined) e.vs.at = { kind: 'timestamp', ms };
        return;
      case 'SubqueryExpr':
        if (!underPinnedSubquery && e.at === undefined) e.at = { kind: 'timestamp', ms };
        visit(e.expr, true);
        return;
      case 'ParenExpr':
      case 'UnaryExpr':
        visit(e.expr, underPinnedSubquery);
        return;
      case 'BinaryExpr':
        visit(e.lhs, underPinnedSubquery);
        visit(e.rhs, underPinnedSubquery);
        return;
      case 'AggregateExpr':
        if (e.param !== undefined) visit(e.param, underPinnedSubquery);
        visit(e.expr, underPinnedSubquery);
        return;
      case 'Call':
        if (AT_MODIFIER_UNSAFE_FUNCTIONS.has(e.func) || QUERY_TIME_FUNCTIONS.has(e.func)) safe = false;
        for (const a of e.args) visit(a, underPinnedSubquery);
        return;
      default:
        return;
    }
  };
  visit(expr, false);
  return safe;
}

/** atVariants returns the re-written query at each extra evaluation time. */
export function atVariants(query: string, evalMs: number): AtVariant[] {
  const expr = parseExpr(query);
  if (!pin(expr, evalMs)) return [];
  const text = formatExpr(expr);
  const times = evalMs === 0 ? [-1000, 0, 1000] : [-10 * evalMs, 0, Math.trunc(evalMs / 5), evalMs, 10 * evalMs];
  return times.map((t) => ({ expr: text, evalMs: t }));
}
