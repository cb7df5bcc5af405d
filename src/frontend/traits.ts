// traits.ts reads what the query-frontend needs to know about a query from
// its syntax tree: whether its value at a step depends on the query's range
// (`@ start()` / `@ end()`, duration expressions such as `offset range()`,
// the functions start(), end(), range() and step()),
// which fixed `@` times it reads, and whether it looks into the future (a
// negative offset). Splitting needs the first; the results cache all three
// (Mimir's isAtModifierCachable and isOffsetCachable).

import { forEachNode } from '../promql/parser/ast.js';
import { parseExpr } from '../promql/parser/parser.js';

/** RANGE_FUNCTIONS are the functions whose value is the query's start, end, range or step. */
const RANGE_FUNCTIONS: ReadonlySet<string> = new Set(['start', 'end', 'range', 'step']);

/** QueryTraits describe one query; parsed is false when the query does not parse (it is then passed on untouched). */
export interface QueryTraits {
  parsed: boolean;
  /** rangeDependent: `@ start()`, `@ end()`, a duration expression (whose step()/range() depend on the query) or a call of start(), end(), range() or step(). */
  rangeDependent: boolean;
  /** atTimesMs are the fixed `@` times. */
  atTimesMs: number[];
  negativeOffset: boolean;
}

/** queryTraits parses the query and reads its traits. */
export function queryTraits(query: string): QueryTraits {
  const out: QueryTraits = { parsed: false, rangeDependent: false, atTimesMs: [], negativeOffset: false };
  let expr;
  try {
    expr = parseExpr(query);
  } catch {
    return out;
  }
  out.parsed = true;
  forEachNode(expr, (n) => {
    if (n.type === 'MatrixSelector' && n.rangeExpr !== undefined) out.rangeDependent = true;
    if (n.type === 'Call' && RANGE_FUNCTIONS.has(n.func)) out.rangeDependent = true;
    if (n.type !== 'VectorSelector' && n.type !== 'SubqueryExpr') return;
    if (n.offsetExpr !== undefined) out.rangeDependent = true;
    if (n.type === 'SubqueryExpr' && (n.rangeExpr !== undefined || n.stepExpr !== undefined)) out.rangeDependent = true;
    if (n.offsetMs < 0) out.negativeOffset = true;
    if (n.at !== undefined) {
      if (n.at.kind === 'timestamp') out.atTimesMs.push(n.at.ms);
      else out.rangeDependent = true;
    }
  });
  return out;
}
