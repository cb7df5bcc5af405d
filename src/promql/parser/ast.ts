// ast.ts defines the PromQL syntax tree, after Prometheus's promql/parser/ast.go.
// The parser (parser.ts) builds it, the engine (../engine/) evaluates it and
// printer.ts renders it back (format_query). Positions are byte offsets into
// the query, for error messages.

import type { LabelMatcher } from '../../model/matchers.js';

/** ValueType is the type an expression evaluates to. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** PosRange is the byte range [start, end) of a node in the query. */
export interface PosRange {
  start: number;
  end: number;
}

/** BinaryOp lists the binary operators, written as in PromQL. */
export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '^' | 'atan2'
  | '==' | '!=' | '>' | '<' | '>=' | '<='
  | '</' | '>/'
  | 'and' | 'or' | 'unless';

/** AggregateOp lists the aggregation operators. */
export type AggregateOp =
  | 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar'
  | 'topk' | 'bottomk' | 'count_values' | 'quantile' | 'limitk' | 'limit_ratio';

/** AtModifier is an `@` modifier: a fixed time (ms) or start()/end() of the query. */
export type AtModifier = { kind: 'timestamp'; ms: number } | { kind: 'start' } | { kind: 'end' };

/** NumberLiteral is a float literal (durations used as numbers become seconds). */
export interface NumberLiteral {
  type: 'NumberLiteral';
  val: number;
  /** duration is set when the literal was written as a duration (1m): it prints back as one. */
  duration?: boolean;
  pos: PosRange;
}

/** StringLiteral is a string literal (already unquoted). */
export interface StringLiteral {
  type: 'StringLiteral';
  val: string;
  /**
   * invalidUtf8 is set when the literal's bytes are not valid UTF-8 (byte
   * escapes such as "a\xc5z"): Go's %q of those bytes, as Prometheus prints
   * them. val holds U+FFFD in place of the invalid bytes.
   */
  invalidUtf8?: string;
  pos: PosRange;
}

/** VectorSelector is an instant vector selector. name is the metric name when given outside braces. */
export interface VectorSelector {
  type: 'VectorSelector';
  name: string;
  /** matchers includes the `__name__` matcher for the metric name, as Prometheus does. */
  matchers: LabelMatcher[];
  /** offsetMs is the offset modifier (negative allowed), 0 when absent. */
  offsetMs: number;
  /** offsetExpr is an offset duration expression depending on step()/range() (seconds); the engine resolves it into offsetMs. */
  offsetExpr?: Expr;
  at?: AtModifier;
  /** anchored is the `anchored` modifier (range selectors of rate/increase/delta/changes/resets). */
  anchored?: boolean;
  /** smoothed is the `smoothed` modifier (interpolated instant selectors; rate/increase/delta ranges). */
  smoothed?: boolean;
  pos: PosRange;
}

/** MatrixSelector is a range vector selector `vs[range]`; offset and @ live on vs. */
export interface MatrixSelector {
  type: 'MatrixSelector';
  vs: VectorSelector;
  rangeMs: number;
  /** rangeExpr is a range duration expression depending on step()/range() (seconds); the engine resolves it into rangeMs. */
  rangeExpr?: Expr;
  pos: PosRange;
}

/** SubqueryExpr is `expr[range:step]`; stepMs 0 means the default evaluation interval. */
export interface SubqueryExpr {
  type: 'SubqueryExpr';
  expr: Expr;
  rangeMs: number;
  stepMs: number;
  offsetMs: number;
  /** rangeExpr, stepExpr, offsetExpr are duration expressions depending on step()/range() (seconds), resolved by the engine. */
  rangeExpr?: Expr;
  stepExpr?: Expr;
  offsetExpr?: Expr;
  at?: AtModifier;
  pos: PosRange;
}

/** ParenExpr is a parenthesised expression. */
export interface ParenExpr {
  type: 'ParenExpr';
  expr: Expr;
  pos: PosRange;
}

/** UnaryExpr is unary minus or plus. */
export interface UnaryExpr {
  type: 'UnaryExpr';
  op: '+' | '-';
  expr: Expr;
  pos: PosRange;
}

/** Cardinality of a vector match. */
export type MatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

/** VectorMatching describes on/ignoring and group_left/group_right of a binary expression. */
export interface VectorMatching {
  card: MatchCardinality;
  /** on is true for `on(...)`, false for `ignoring(...)` or no clause. */
  on: boolean;
  /** labels are the on/ignoring label names. */
  labels: string[];
  /** include are the extra labels of group_left/group_right. */
  include: string[];
  /**
   * fill holds the fill(v) / fill_left(v) / fill_right(v) modifiers: the value
   * an unmatched side takes (lhs: for rhs series without a match, rhs: for lhs
   * series without a match). Absent means no filling.
   */
  fill?: { lhs?: number; rhs?: number };
}

/** BinaryExpr is `lhs op rhs`. matching is set when both sides are vectors. */
export interface BinaryExpr {
  type: 'BinaryExpr';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  matching?: VectorMatching;
  pos: PosRange;
}

/** AggregateExpr is an aggregation; param is the k/quantile/label argument. */
export interface AggregateExpr {
  type: 'AggregateExpr';
  op: AggregateOp;
  expr: Expr;
  param?: Expr;
  grouping: string[];
  without: boolean;
  pos: PosRange;
}

/** Call is a function call; func names an entry of FUNCTIONS (functions.ts). */
export interface Call {
  type: 'Call';
  func: string;
  args: Expr[];
  pos: PosRange;
}

/** Expr is any PromQL expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call;

/**
 * childrenOf lists the sub-expressions of e that are evaluated (operands, arguments, the
 * selector of a range, the inner expression of a subquery), in source order; duration
 * expressions (`[step()*2]`, `offset range()`) are not among them.
 */
export function childrenOf(e: Expr): Expr[] {
  switch (e.type) {
    case 'MatrixSelector':
      return [e.vs];
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      return [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'AggregateExpr':
      return e.param !== undefined ? [e.param, e.expr] : [e.expr];
    case 'Call':
      return e.args;
    default:
      return [];
  }
}

/**
 * someNode reports whether pred holds for e or any node under it (pre-order, source order),
 * walking with an explicit stack: an expression of any depth needs no recursion.
 */
export function someNode(e: Expr, pred: (n: Expr) => boolean): boolean {
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (pred(n)) return true;
    const kids = childrenOf(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return false;
}

/** forEachNode calls fn for e and every node under it (pre-order, source order), without recursion. */
export function forEachNode(e: Expr, fn: (n: Expr) => void): void {
  someNode(e, (n) => {
    fn(n);
    return false;
  });
}
