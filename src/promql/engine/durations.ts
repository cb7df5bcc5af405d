// durations.ts resolves duration expressions that depend on the query
// (`[step()*2]`, `offset min_of(range(), 1h)`) into the millisecond fields of
// selectors and subqueries, as Prometheus's PreprocessExpr does.

import { forEachNode, someNode, type Expr } from '../parser/ast.js';
import { arith } from './binary.js';
import { EngineError } from './types.js';

/** evalDuration evaluates a duration expression in seconds. */
export function evalDuration(e: Expr, stepSec: number, rangeSec: number): number {
  switch (e.type) {
    case 'NumberLiteral':
      return e.val;
    case 'ParenExpr':
      return evalDuration(e.expr, stepSec, rangeSec);
    case 'UnaryExpr': {
      const v = evalDuration(e.expr, stepSec, rangeSec);
      return e.op === '-' ? -v : v;
    }
    case 'BinaryExpr':
      return arith(e.op, evalDuration(e.lhs, stepSec, rangeSec), evalDuration(e.rhs, stepSec, rangeSec));
    case 'Call': {
      const args = e.args.map((a) => evalDuration(a, stepSec, rangeSec));
      switch (e.func) {
        case 'step':
          return stepSec;
        case 'range':
          return rangeSec;
        case 'min_of':
          return Math.min(args[0], args[1]);
        case 'max_of':
          return Math.max(args[0], args[1]);
      }
    }
  }
  throw new EngineError('execution', `unsupported duration expression ${e.type}`);
}

/** hasDurationExprs reports whether any node of e carries a duration expression (walked without recursion). */
function hasDurationExprs(e: Expr): boolean {
  return someNode(e, (n) => {
    switch (n.type) {
      case 'VectorSelector':
        return n.offsetExpr !== undefined;
      case 'MatrixSelector':
        return n.rangeExpr !== undefined;
      case 'SubqueryExpr':
        return n.rangeExpr !== undefined || n.stepExpr !== undefined || n.offsetExpr !== undefined;
      default:
        return false;
    }
  });
}

function toMs(sec: number): number {
  return Math.round(sec * 1000);
}

/** resolveDurations returns expr with every duration expression evaluated (a copy when any is present). */
export function resolveDurations(expr: Expr, stepMs: number, rangeMs: number): Expr {
  if (!hasDurationExprs(expr)) return expr;
  const copy = structuredClone(expr);
  const stepSec = stepMs / 1000;
  const rangeSec = rangeMs / 1000;
  forEachNode(copy, (e) => {
    switch (e.type) {
      case 'VectorSelector':
        if (e.offsetExpr) e.offsetMs = toMs(evalDuration(e.offsetExpr, stepSec, rangeSec));
        return;
      case 'MatrixSelector':
        if (e.rangeExpr) {
          e.rangeMs = toMs(evalDuration(e.rangeExpr, stepSec, rangeSec));
          if (e.rangeMs <= 0) throw new EngineError('execution', `range duration must be greater than 0`);
        }
        return;
      case 'SubqueryExpr':
        if (e.rangeExpr) e.rangeMs = toMs(evalDuration(e.rangeExpr, stepSec, rangeSec));
        if (e.stepExpr) e.stepMs = toMs(evalDuration(e.stepExpr, stepSec, rangeSec));
        if (e.offsetExpr) e.offsetMs = toMs(evalDuration(e.offsetExpr, stepSec, rangeSec));
        return;
      default:
        return;
    }
  });
  return copy;
}
