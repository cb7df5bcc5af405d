// check.ts type-checks a parsed expression as Prometheus's checkAST does
// (promql/parser/parse.go): operand and argument types, vector matching,
// set operators, bool, function arity, selectors that need a non-empty
// matcher. It runs only on a syntactically valid tree, and like the parser
// it stops at the first error, checking children before their parent.

import type { BinaryExpr, Call, Expr, MatchCardinality, ValueType, VectorSelector } from './ast.js';
import { ParseError } from './errors.js';
import { getFunction } from './functions.js';
import { METRIC_NAME_LABEL, matchesEmpty } from './selector.js';
import { goStrconvQuote } from './unquote.js';

/** TYPES caches expression types; chains of binary operators would otherwise be walked once per level. */
const TYPES = new WeakMap<Expr, ValueType>();

/** exprType is the type an expression evaluates to, as Prometheus's Expr.Type(). */
export function exprType(e: Expr): ValueType {
  const cached = TYPES.get(e);
  if (cached !== undefined) return cached;
  let typ: ValueType;
  switch (e.type) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
    case 'AggregateExpr':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'ParenExpr':
    case 'UnaryExpr':
      typ = exprType(e.expr);
      break;
    case 'BinaryExpr': {
      // Scalar only when every operand is: walked with an explicit stack, so chains of any
      // length and shape (left-deep `a + b + c`, right-deep `a ^ b ^ c`) need no recursion.
      let scalar = true;
      const stack: Expr[] = [e.rhs, e.lhs];
      while (scalar && stack.length > 0) {
        const n = stack.pop()!;
        if (TYPES.has(n)) scalar = TYPES.get(n) === 'scalar';
        else if (n.type === 'BinaryExpr') stack.push(n.rhs, n.lhs);
        else if (n.type === 'ParenExpr' || n.type === 'UnaryExpr') stack.push(n.expr);
        else scalar = exprType(n) === 'scalar';
      }
      typ = scalar ? 'scalar' : 'vector';
      break;
    }
    case 'Call':
      return getFunction(e.func)?.returnType ?? 'vector';
  }
  TYPES.set(e, typ);
  return typ;
}

/** documentedType words a type as Prometheus's DocumentedType does. */
export function documentedType(t: ValueType): string {
  if (t === 'vector') return 'instant vector';
  if (t === 'matrix') return 'range vector';
  return t;
}

/** Checker walks a tree and throws ParseError at the first type error. */
export class Checker {
  /** bypass holds the label-only selectors of info()'s second argument. */
  private readonly bypass = new WeakSet<VectorSelector>();

  constructor(private readonly query: string) {}

  private fail(pos: number, detail: string): never {
    throw new ParseError(this.query, pos, detail);
  }

  /** opStart is where a binary expression's operator starts (after the lhs and any blanks). */
  private opStart(n: BinaryExpr): number {
    const bytes = Buffer.from(this.query, 'utf8');
    let i = n.lhs.pos.end;
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
    return i;
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e);
    if (t !== want) this.fail(e.pos.start, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  check(e: Expr): ValueType {
    if (e.type === 'BinaryExpr') return this.checkBinaryTree(e);
    const typ = exprType(e);
    switch (e.type) {
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile' || e.op === 'limitk' || e.op === 'limit_ratio') {
          this.expectType(e.param!, 'scalar', 'aggregation parameter');
        }
        if (e.op === 'count_values') this.expectType(e.param!, 'string', 'aggregation parameter');
        break;
      case 'Call':
        this.checkCall(e);
        break;
      case 'ParenExpr':
        this.check(e.expr);
        break;
      case 'UnaryExpr': {
        const t = this.check(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(e.pos.start, `unary expression only allowed on expressions of type scalar or instant vector, got ${goStrconvQuote(documentedType(t))}`);
        }
        break;
      }
      case 'SubqueryExpr': {
        const t = this.check(e.expr);
        if (t !== 'vector') this.fail(e.pos.start, `subquery is only allowed on instant vector, got ${t} instead`);
        break;
      }
      case 'MatrixSelector':
        this.check(e.vs);
        break;
      case 'VectorSelector':
        this.checkSelector(e);
        break;
      case 'NumberLiteral':
      case 'StringLiteral':
        break;
    }
    return typ;
  }

  /**
   * checkBinaryTree checks the binary expressions under top (through their
   * lhs and rhs, left-deep `a + b + c` and right-deep `a ^ b ^ c` alike)
   * with an explicit stack instead of recursing down the chain, in checkAST's
   * order: each node's lhs, then its rhs, then the node itself.
   */
  private checkBinaryTree(top: BinaryExpr): ValueType {
    const typeOf = new Map<Expr, ValueType>();
    const stack: Array<{ n: BinaryExpr; next: 'lhs' | 'rhs' | 'self' }> = [{ n: top, next: 'lhs' }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.next !== 'self') {
        const child = f.next === 'lhs' ? f.n.lhs : f.n.rhs;
        f.next = f.next === 'lhs' ? 'rhs' : 'self';
        if (child.type === 'BinaryExpr') stack.push({ n: child, next: 'lhs' });
        else typeOf.set(child, this.check(child));
        continue;
      }
      stack.pop();
      const lt = typeOf.get(f.n.lhs)!;
      const rt = typeOf.get(f.n.rhs)!;
      this.checkBinary(f.n, lt, rt);
      const t = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
      TYPES.set(f.n, t);
      typeOf.set(f.n, t);
    }
    return typeOf.get(top)!;
  }

  private checkBinary(n: BinaryExpr, lt: ValueType, rt: ValueType): void {
    const comparison = n.op === '==' || n.op === '!=' || n.op === '<' || n.op === '<=' || n.op === '>' || n.op === '>=';
    const setOp = n.op === 'and' || n.op === 'or' || n.op === 'unless';
    const m = n.matching!;
    if (n.returnBool && !comparison) this.fail(this.opStart(n), 'bool modifier can only be used on comparison operators');
    if (comparison && !n.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail(this.opStart(n), 'comparisons between scalars must use BOOL modifier');
    }
    if (setOp && m.card === 'one-to-one') m.card = 'many-to-many';
    if (m.on) {
      for (const l of m.labels) {
        if (m.include.includes(l)) this.fail(this.opStart(n), `label ${goStrconvQuote(l)} must not occur in ON and GROUP clause at once`);
      }
    }
    if (lt !== 'scalar' && lt !== 'vector') this.fail(n.lhs.pos.start, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector') this.fail(n.rhs.pos.start, 'binary expression must contain only scalar and instant vector types');
    if (lt !== 'vector' || rt !== 'vector') {
      if (m.labels.length > 0) this.fail(n.pos.start, 'vector matching only allowed between instant vectors');
      if (m.fill !== undefined) this.fail(n.pos.start, 'filling in missing series only allowed between instant vectors');
      delete n.matching;
    } else if (setOp) {
      if (m.card === 'one-to-many' || m.card === 'many-to-one') this.fail(n.pos.start, `no grouping allowed for ${goStrconvQuote(n.op)} operation`);
      if ((m.card as MatchCardinality) !== 'many-to-many') this.fail(n.pos.start, 'set operations must always be many-to-many');
      if (m.fill !== undefined) this.fail(n.pos.start, 'filling in missing series not allowed for set operators');
    }
    if ((lt === 'scalar' || rt === 'scalar') && setOp) {
      this.fail(n.pos.start, `set operator ${goStrconvQuote(n.op)} not allowed in binary scalar expression`);
    }
  }

  private checkCall(n: Call): void {
    const fn = getFunction(n.func)!;
    const nargs = fn.argTypes.length;
    if (fn.variadic === 0) {
      if (nargs !== n.args.length) this.fail(n.pos.start, `expected ${nargs} argument(s) in call to ${goStrconvQuote(fn.name)}, got ${n.args.length}`);
    } else {
      const na = nargs - 1;
      if (na > n.args.length) {
        this.fail(n.pos.start, `expected at least ${na} argument(s) in call to ${goStrconvQuote(fn.name)}, got ${n.args.length}`);
      } else if (fn.variadic > 0 && na + fn.variadic < n.args.length) {
        this.fail(n.pos.start, `expected at most ${na + fn.variadic} argument(s) in call to ${goStrconvQuote(fn.name)}, got ${n.args.length}`);
      }
    }
    if (fn.name === 'info' && n.args.length > 1) {
      const labels = n.args[1]!;
      const t = exprType(labels);
      if (t !== 'vector') this.fail(n.pos.start, `expected type instant vector in call to function "info", got ${documentedType(t)}`);
      if (labels.type === 'VectorSelector') {
        if (labels.name !== '') this.fail(labels.pos.start, 'expected label selectors only, got vector selector instead');
        this.bypass.add(labels);
      } else {
        this.fail(labels.pos.start, 'expected label selectors only');
      }
    }
    n.args.forEach((arg, i) => {
      if (i >= nargs && fn.variadic === 0) return;
      const want = fn.argTypes[Math.min(i, nargs - 1)]!;
      const t = this.check(arg);
      if (t !== want) this.fail(arg.pos.start, `expected type ${documentedType(want)} in call to function ${goStrconvQuote(fn.name)}, got ${documentedType(t)}`);
    });
  }

  private checkSelector(n: VectorSelector): void {
    if (n.name !== '') {
      for (const m of n.matchers.slice(0, -1)) {
        if (m.name === METRIC_NAME_LABEL) this.fail(n.pos.start, `metric name must not be set twice: ${goStrconvQuote(n.name)} or ${goStrconvQuote(m.value)}`);
      }
      return;
    }
    if (this.bypass.has(n)) return;
    if (!n.matchers.some((m) => !matchesEmpty(m))) this.fail(n.pos.start, 'vector selector must contain at least one non-empty matcher');
  }
}
