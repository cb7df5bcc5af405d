// parser.ts is the PromQL parser: parseExpr turns a query into the syntax
// tree of ast.ts, with Prometheus 3.x's grammar (promql/parser/
// generated_parser.y), precedence, error texts and error positions, then
// type-checks it (check.ts, Prometheus's checkAST). Prometheus collects errors
// and reports the first; this parser stops at the first instead, which gives
// the same message wherever the order of detection matches.
//
// Precedence, loosest first: or; and unless; == != <= < >= >; + -;
// * / % atan2; ^ (right-associative). Unary minus binds like *, so -1^2 is
// -(1^2). The postfix modifiers [range], [range:step], offset, @, anchored
// and smoothed bind to the closest primary expression.

import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  NumberLiteral,
  PosRange,
  StringLiteral,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { Checker, documentedType, exprType } from './check.js';
import { ParseError } from './errors.js';
import { EXPERIMENTAL_AGGREGATIONS, getFunction } from './functions.js';
import { Lexer, describeToken, KEYWORDS, type Token, type TokenType } from './lexer.js';
import { constantSeconds, goFloatF, parseDuration, parseNumber, roundHalfAway, secondsToMs } from './literals.js';
import { regexpError } from '../../compat/re2.js';
import { METRIC_NAME_LABEL } from './selector.js';
import { goQuoteBytes, goStrconvQuote, isValidUtf8, unquoteString, unquoteStringBytes } from './unquote.js';

export { constantSeconds, documentedType, exprType, parseDuration, parseNumber };

/** ParseOptions tunes parseExpr. */
export interface ParseOptions {
  /**
   * experimentalFunctions allows the experimental functions and the limitk /
   * limit_ratio aggregations (Prometheus's promql-experimental-functions).
   * Default true: Mimir enables them in the parser and gates them per tenant.
   */
  experimentalFunctions?: boolean;
  /**
   * durationExpressions allows arithmetic, step() and range() in ranges,
   * steps and offsets (Prometheus's promql-duration-expr). Default true.
   */
  durationExpressions?: boolean;
  /**
   * extendedRangeSelectors allows the anchored and smoothed selector
   * modifiers (Prometheus's promql-extended-range-selectors). Default true.
   */
  extendedRangeSelectors?: boolean;
  /**
   * binopFillModifiers allows fill(v), fill_left(v) and fill_right(v) after
   * a binary operator (Prometheus's promql-binop-fill-modifiers). Default true.
   */
  binopFillModifiers?: boolean;
}

/** parseExpr parses and type-checks a PromQL expression, or throws ParseError. */
export function parseExpr(query: string, options: ParseOptions = {}): Expr {
  try {
    const parser = new Parser(query, {
      experimental: options.experimentalFunctions ?? true,
      durationExprs: options.durationExpressions ?? true,
      extendedSelectors: options.extendedRangeSelectors ?? true,
      fillModifiers: options.binopFillModifiers ?? true,
    });
    const expr = parser.parseQuery();
    new Checker(query).check(expr);
    return expr;
  } catch (err) {
    // Prometheus's LALR parser has no depth limit; this one recurses per
    // nesting level, so absurdly deep nesting becomes a parse error here.
    if (err instanceof RangeError) throw new ParseError(query, 0, 'expression is nested too deeply');
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Token classes.

const BINARY_PRECEDENCE: Partial<Record<TokenType, number>> = {
  LOR: 1,
  LAND: 2,
  LUNLESS: 2,
  EQLC: 3,
  NEQ: 3,
  LTE: 3,
  LSS: 3,
  GTE: 3,
  GTR: 3,
  TRIM_UPPER: 3,
  TRIM_LOWER: 3,
  ADD: 4,
  SUB: 4,
  MUL: 5,
  DIV: 5,
  MOD: 5,
  ATAN2: 5,
  POW: 6,
};
const POW_PRECEDENCE = 6;

const BINARY_OPS: Partial<Record<TokenType, BinaryOp>> = {
  LOR: 'or',
  LAND: 'and',
  LUNLESS: 'unless',
  EQLC: '==',
  NEQ: '!=',
  LTE: '<=',
  LSS: '<',
  GTE: '>=',
  GTR: '>',
  TRIM_UPPER: '</',
  TRIM_LOWER: '>/',
  ADD: '+',
  SUB: '-',
  MUL: '*',
  DIV: '/',
  MOD: '%',
  ATAN2: 'atan2',
  POW: '^',
};

const AGGREGATORS: ReadonlySet<TokenType> = new Set<TokenType>([
  'SUM', 'AVG', 'COUNT', 'MIN', 'MAX', 'GROUP', 'STDDEV', 'STDVAR', 'TOPK', 'BOTTOMK', 'COUNT_VALUES', 'QUANTILE', 'LIMITK', 'LIMIT_RATIO',
]);
const PARAM_AGGREGATORS: ReadonlySet<AggregateOp> = new Set<AggregateOp>(['topk', 'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio']);

/** Tokens that may name a metric: the grammar's metric_identifier rule. */
const METRIC_NAME_TOKENS: ReadonlySet<TokenType> = new Set<TokenType>([
  'IDENTIFIER', 'METRIC_IDENTIFIER', 'AVG', 'BOTTOMK', 'BY', 'COUNT', 'COUNT_VALUES', 'GROUP', 'LAND', 'LOR', 'LUNLESS',
  'MAX', 'MIN', 'OFFSET', 'QUANTILE', 'STDDEV', 'STDVAR', 'SUM', 'TOPK', 'WITHOUT', 'START', 'END', 'LIMITK', 'LIMIT_RATIO',
]);

/** Tokens that may name a label in grouping options: the grammar's maybe_label rule, plus quoted names. */
const GROUPING_LABEL_TOKENS: ReadonlySet<TokenType> = new Set<TokenType>([
  'IDENTIFIER', 'METRIC_IDENTIFIER', 'STRING', ...(Object.values(KEYWORDS) as TokenType[]),
]);

const MATCH_OPS: Partial<Record<TokenType, MatchType>> = {
  EQL: MatchType.Equal,
  NEQ: MatchType.NotEqual,
  EQL_REGEX: MatchType.Regexp,
  NEQ_REGEX: MatchType.NotRegexp,
};

/** Tokens after which Prometheus's parser records lastClosing. */
const CLOSING_TOKENS: ReadonlySet<TokenType> = new Set<TokenType>(['RIGHT_BRACE', 'RIGHT_PAREN', 'RIGHT_BRACKET', 'DURATION', 'NUMBER']);

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Operators allowed in duration expressions. */
const DURATION_OPERATORS: ReadonlySet<TokenType> = new Set<TokenType>(['ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW']);
/**
 * Functions of duration expressions: min_of and max_of, also spelled min and
 * max (which become min_of and max_of in the tree).
 */
const DURATION_FUNCTIONS: ReadonlySet<string> = new Set(['step', 'range', 'min', 'max', 'min_of', 'max_of']);
const DURATION_BINARY_FUNCTIONS: ReadonlySet<string> = new Set(['min', 'max', 'min_of', 'max_of']);

/** foldSign applies a unary sign: folded into a number literal, as the grammar does, else a UnaryExpr. */
function foldSign(sign: Token, operand: Expr): Expr {
  if (operand.type === 'NumberLiteral') {
    if (sign.type === 'SUB') operand.val = -operand.val;
    operand.pos = { start: sign.pos, end: operand.pos.end };
    return operand;
  }
  return { type: 'UnaryExpr', op: sign.type === 'ADD' ? '+' : '-', expr: operand, pos: { start: sign.pos, end: operand.pos.end } };
}
// ---------------------------------------------------------------------------
// Parser.

/** Modifiers is what follows a binary operator: bool, on/ignoring, group_left/group_right. */
interface Modifiers {
  returnBool: boolean;
  matching: VectorMatching;
}

/** Parser is a recursive-descent (precedence-climbing) parser over the lexer's tokens. */
class Parser {
  private readonly lexer: Lexer;
  private readonly buf: Token[] = [];
  private readonly experimental: boolean;
  private readonly durationExprs: boolean;
  private readonly extendedSelectors: boolean;
  private readonly fillModifiers: boolean;
  /** lastClosing is the end of the last consumed ) } ] number or duration, as Prometheus tracks it. */
  private lastClosing = 0;

  constructor(
    private readonly query: string,
    features: { experimental: boolean; durationExprs: boolean; extendedSelectors: boolean; fillModifiers: boolean },
  ) {
    this.lexer = new Lexer(query);
    this.experimental = features.experimental;
    this.durationExprs = features.durationExprs;
    this.extendedSelectors = features.extendedSelectors;
    this.fillModifiers = features.fillModifiers;
  }

  // --- Tokens --------------------------------------------------------------

  /** peek looks k tokens ahead; a lexing error surfaces as soon as its token is read. */
  private peek(k = 0): Token {
    while (this.buf.length <= k) {
      const t = this.lexer.next();
      if (t.type === 'ERROR') throw new ParseError(this.query, t.pos, t.value);
      this.buf.push(t);
    }
    return this.buf[k]!;
  }

  private kind(k = 0): TokenType {
    return this.peek(k).type;
  }

  private next(): Token {
    const t = this.peek();
    this.buf.shift();
    if (CLOSING_TOKENS.has(t.type)) this.lastClosing = t.end;
    return t;
  }

  private fail(pos: number, detail: string): never {
    throw new ParseError(this.query, pos, detail);
  }

  /** unexpected reports the next token, as the grammar's error rules do. */
  private unexpected(context: string, expected: string): never {
    const t = this.peek();
    let msg = `unexpected ${describeToken(t)}`;
    if (context !== '') msg += ` in ${context}`;
    if (expected !== '') msg += `, expected ${expected}`;
    this.fail(t.pos, msg);
  }

  // --- Expressions ---------------------------------------------------------

  parseQuery(): Expr {
    if (this.kind() === 'EOF') this.fail(0, 'no expression found in input');
    const e = this.parseBinary(1);
    if (this.kind() !== 'EOF') this.unexpected('', '');
    return e;
  }

  private parseBinary(minPrec: number): Expr {
    let lhs = this.parseUnary();
    for (;;) {
      const opTok = this.peek();
      const prec = BINARY_PRECEDENCE[opTok.type];
      if (prec === undefined || prec < minPrec) return lhs;
      if (prec === POW_PRECEDENCE) {
        lhs = this.parsePowChain(lhs);
        continue;
      }
      this.next();
      const mods = this.parseBinModifiers();
      const rhs = this.parseBinary(prec + 1);
      lhs = this.binaryNode(opTok, mods, lhs, rhs);
    }
  }

  /**
   * parsePowChain parses `lhs ^ a ^ b ...` (right-associative) with a loop instead of one
   * recursion per operator, so a chain of any length parses as Prometheus's LALR parser does.
   */
  private parsePowChain(lhs: Expr): Expr {
    const operands: Expr[] = [lhs];
    const ops: Array<{ tok: Token; mods: Modifiers }> = [];
    while (BINARY_PRECEDENCE[this.kind()] === POW_PRECEDENCE) {
      const tok = this.next();
      const mods = this.parseBinModifiers();
      ops.push({ tok, mods });
      operands.push(this.parseUnary());
    }
    let acc = operands[operands.length - 1]!;
    for (let i = ops.length - 1; i >= 0; i--) acc = this.binaryNode(ops[i]!.tok, ops[i]!.mods, operands[i]!, acc);
    return acc;
  }

  /** binaryNode builds `lhs op rhs` with its modifiers. */
  private binaryNode(opTok: Token, mods: Modifiers, lhs: Expr, rhs: Expr): BinaryExpr {
    if (mods.matching.fill !== undefined && !this.fillModifiers) this.fail(lhs.pos.start, 'binop fill modifiers are experimental and not enabled');
    return {
      type: 'BinaryExpr',
      op: BINARY_OPS[opTok.type]!,
      lhs,
      rhs,
      returnBool: mods.returnBool,
      matching: mods.matching,
      pos: { start: lhs.pos.start, end: rhs.pos.end },
    };
  }

  private parseBinModifiers(): Modifiers {
    const mods: Modifiers = { returnBool: false, matching: { card: 'one-to-one', on: false, labels: [], include: [] } };
    if (this.kind() === 'BOOL') {
      this.next();
      mods.returnBool = true;
    }
    const k = this.kind();
    if (k === 'ON' || k === 'IGNORING') {
      this.next();
      mods.matching.on = k === 'ON';
      mods.matching.labels = this.parseGroupingLabels();
      const g = this.kind();
      if (g === 'GROUP_LEFT' || g === 'GROUP_RIGHT') {
        this.next();
        mods.matching.card = g === 'GROUP_LEFT' ? 'many-to-one' : 'one-to-many';
        if (this.kind() === 'LEFT_PAREN') mods.matching.include = this.parseGroupingLabels();
      }
    }
    this.parseFillModifiers(mods.matching);
    return mods;
  }

  /** fillKeyword is fill, fill_left or fill_right when the next tokens open a fill modifier. */
  private fillKeyword(): string | undefined {
    const t = this.peek();
    if (t.type !== 'IDENTIFIER' || this.kind(1) !== 'LEFT_PAREN') return undefined;
    const word = t.value.toLowerCase();
    return word === 'fill' || word === 'fill_left' || word === 'fill_right' ? word : undefined;
  }

  /**
   * parseFillModifiers reads fill(v), or fill_left(v) and/or fill_right(v)
   * in either order (Prometheus's promql-binop-fill-modifiers).
   */
  private parseFillModifiers(m: VectorMatching): void {
    const first = this.fillKeyword();
    if (first === undefined) return;
    const fill: { lhs?: number; rhs?: number } = {};
    this.next();
    const v = this.parseFillValue();
    if (first === 'fill') {
      fill.lhs = v;
      fill.rhs = v;
    } else {
      fill[first === 'fill_left' ? 'lhs' : 'rhs'] = v;
      const second = this.fillKeyword();
      if (second !== undefined && second !== 'fill' && second !== first) {
        this.next();
        fill[second === 'fill_left' ? 'lhs' : 'rhs'] = this.parseFillValue();
      }
    }
    m.fill = fill;
  }

  /** parseFillValue reads "(" [sign] number-or-duration ")". */
  private parseFillValue(): number {
    this.next(); // (
    const sign = this.peek();
    if (sign.type === 'ADD' || sign.type === 'SUB') this.next();
    const t = this.peek();
    if (t.type !== 'NUMBER' && t.type !== 'DURATION') this.unexpected('fill modifier', 'number or duration');
    // Any float (Inf and NaN too) or a duration in seconds: no duration range check here.
    let v: number;
    if (t.type === 'NUMBER') {
      this.next();
      const n = parseNumber(t.value);
      if (typeof n !== 'number') this.fail(t.pos, `error parsing number: ${n.error}`);
      v = n;
    } else {
      v = this.parseDurationLiteral().val;
    }
    if (sign.type === 'SUB') v = -v;
    if (this.kind() !== 'RIGHT_PAREN') this.unexpected('fill modifier', '")"');
    this.next();
    return v;
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.type !== 'ADD' && t.type !== 'SUB') return this.parsePostfix(this.parsePrimary());
    this.next();
    // unary_op expr %prec MUL: only ^ and the postfix modifiers bind tighter.
    return foldSign(t, this.parseBinary(POW_PRECEDENCE));
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.type) {
      case 'NUMBER': {
        this.next();
        const v = parseNumber(t.value);
        if (typeof v !== 'number') this.fail(t.pos, `error parsing number: ${v.error}`);
        return { type: 'NumberLiteral', val: v, pos: { start: t.pos, end: t.end } };
      }
      case 'DURATION': {
        this.next();
        const ms = parseDuration(t.value);
        if (typeof ms !== 'number') this.fail(t.pos, ms.error);
        return { type: 'NumberLiteral', val: ms / 1000, duration: true, pos: { start: t.pos, end: t.end } };
      }
      case 'STRING': {
        this.next();
        const lit: StringLiteral = { type: 'StringLiteral', val: unquoteString(t.value), pos: { start: t.pos, end: t.end } };
        if (lit.val.includes('\ufffd')) {
          const bytes = unquoteStringBytes(t.value);
          if (!isValidUtf8(bytes)) lit.invalidUtf8 = goQuoteBytes(bytes);
        }
        return lit;
      }
      case 'LEFT_PAREN': {
        this.next();
        const inner = this.parseBinary(1);
        if (this.kind() !== 'RIGHT_PAREN') this.unexpected('', '');
        const close = this.next();
        return { type: 'ParenExpr', expr: inner, pos: { start: t.pos, end: close.end } };
      }
      case 'LEFT_BRACE':
        return this.parseVectorSelector(undefined);
      case 'IDENTIFIER':
        if (this.kind(1) === 'LEFT_PAREN') return this.parseCall();
        return this.parseVectorSelector(this.next());
      case 'START':
      case 'END':
        // start() and end() are functions; bare start/end are metric names (and `@ start()` is a modifier).
        if (this.kind(1) === 'LEFT_PAREN') return this.parseCall();
        return this.parseVectorSelector(this.next());
      default:
        break;
    }
    if (AGGREGATORS.has(t.type)) {
      const k = this.kind(1);
      if (k === 'LEFT_PAREN' || k === 'BY' || k === 'WITHOUT') return this.parseAggregation();
    }
    if (METRIC_NAME_TOKENS.has(t.type)) return this.parseVectorSelector(this.next());
    this.unexpected('', '');
  }

  private parseCall(): Call {
    const name = this.next();
    this.next(); // (
    const args = this.parseCallArgs();
    const fn = getFunction(name.value);
    if (fn === undefined) this.fail(name.pos, `unknown function with name ${goStrconvQuote(name.value)}`);
    if (fn.experimental && !this.experimental) this.fail(name.pos, `function ${goStrconvQuote(name.value)} is not enabled`);
    return { type: 'Call', func: fn.name, args, pos: { start: name.pos, end: this.lastClosing } };
  }

  /** parseCallArgs reads comma-separated expressions up to ")" (the "(" is consumed). */
  private parseCallArgs(): Expr[] {
    const args: Expr[] = [];
    if (this.kind() === 'RIGHT_PAREN') {
      this.next();
      return args;
    }
    for (;;) {
      args.push(this.parseBinary(1));
      if (this.kind() === 'COMMA') {
        const comma = this.next();
        if (this.kind() === 'RIGHT_PAREN') this.fail(comma.pos, 'trailing commas not allowed in function call args');
        continue;
      }
      if (this.kind() === 'RIGHT_PAREN') {
        this.next();
        return args;
      }
      this.unexpected('', '');
    }
  }

  private parseAggregation(): AggregateExpr {
    const opTok = this.next();
    const op = opTok.value.toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let modified = false;
    const modifier = (): void => {
      without = this.next().type === 'WITHOUT';
      grouping = this.parseGroupingLabels();
      modified = true;
    };
    if (this.kind() === 'BY' || this.kind() === 'WITHOUT') modifier();
    if (this.kind() !== 'LEFT_PAREN') this.unexpected('aggregation', '');
    this.next();
    const args = this.parseCallArgs();
    if (!modified && (this.kind() === 'BY' || this.kind() === 'WITHOUT')) modifier();
    const pos: PosRange = { start: opTok.pos, end: this.lastClosing };
    if (args.length === 0) this.fail(pos.start, 'no arguments for aggregate expression provided');
    let desired = 1;
    let param: Expr | undefined;
    if (PARAM_AGGREGATORS.has(op)) {
      if (EXPERIMENTAL_AGGREGATIONS.has(op) && !this.experimental) {
        this.fail(pos.start, `${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`);
      }
      desired = 2;
      param = args[0];
    }
    if (args.length !== desired) {
      this.fail(pos.start, `wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`);
    }
    const node: AggregateExpr = { type: 'AggregateExpr', op, expr: args[desired - 1]!, grouping, without, pos };
    if (param !== undefined) node.param = param;
    return node;
  }

  /** parseGroupingLabels reads "(" label, ... ")" of by/without/on/ignoring/group_left/group_right. */
  private parseGroupingLabels(): string[] {
    if (this.kind() !== 'LEFT_PAREN') this.unexpected('grouping opts', '"("');
    this.next();
    const labels: string[] = [];
    if (this.kind() === 'RIGHT_PAREN') {
      this.next();
      return labels;
    }
    for (;;) {
      const t = this.peek();
      if (!GROUPING_LABEL_TOKENS.has(t.type)) this.unexpected('grouping opts', 'label');
      if (t.type === 'STRING') {
        const label = unquoteString(t.value);
        if (label === '') this.fail(t.pos, `invalid label name for grouping: ${goStrconvQuote(label)}`);
        labels.push(label);
      } else {
        if (!LABEL_NAME_RE.test(t.value)) this.unexpected('grouping opts', 'label');
        labels.push(t.value);
      }
      this.next();
      if (this.kind() === 'COMMA') {
        this.next();
        if (this.kind() === 'RIGHT_PAREN') {
          this.next();
          return labels;
        }
        continue;
      }
      if (this.kind() === 'RIGHT_PAREN') {
        this.next();
        return labels;
      }
      this.unexpected('grouping opts', '"," or ")"');
    }
  }

  /** parseVectorSelector reads an optional {matchers} after an optional metric name token (consumed). */
  private parseVectorSelector(nameTok: Token | undefined): VectorSelector {
    const matchers: LabelMatcher[] = [];
    let start = nameTok?.pos ?? this.peek().pos;
    let end = nameTok?.end ?? start;
    if (this.kind() === 'LEFT_BRACE') {
      const open = this.next();
      if (nameTok === undefined) start = open.pos;
      end = this.parseLabelMatchers(matchers);
    }
    const name = nameTok?.value ?? '';
    if (name !== '') matchers.push({ name: METRIC_NAME_LABEL, type: MatchType.Equal, value: name });
    return { type: 'VectorSelector', name, matchers, offsetMs: 0, pos: { start, end } };
  }

  /** parseLabelMatchers reads matchers up to "}" (the "{" is consumed); returns the end of "}". */
  private parseLabelMatchers(out: LabelMatcher[]): number {
    if (this.kind() === 'RIGHT_BRACE') return this.next().end;
    for (;;) {
      const labelTok = this.peek();
      if (labelTok.type !== 'IDENTIFIER' && labelTok.type !== 'STRING') this.unexpected('label matching', 'identifier or "}"');
      this.next();
      const label = labelTok.type === 'STRING' ? unquoteString(labelTok.value) : labelTok.value;
      const op = MATCH_OPS[this.kind()];
      if (op !== undefined) {
        this.next();
        if (this.kind() !== 'STRING') this.unexpected('label matching', 'string');
        const valueTok = this.next();
        const value = unquoteString(valueTok.value);
        if (op === MatchType.Regexp || op === MatchType.NotRegexp) {
          const problem = regexpError(value);
          if (problem !== undefined) this.fail(labelTok.pos, problem);
        }
        out.push({ name: label, type: op, value });
      } else if (labelTok.type === 'STRING') {
        out.push({ name: METRIC_NAME_LABEL, type: MatchType.Equal, value: label });
      } else {
        this.unexpected('label matching', 'label matching operator');
      }
      if (this.kind() === 'COMMA') {
        this.next();
        if (this.kind() === 'RIGHT_BRACE') return this.next().end;
        continue;
      }
      if (this.kind() === 'RIGHT_BRACE') return this.next().end;
      this.unexpected('label matching', '"," or "}"');
    }
  }

  // --- Postfix modifiers ---------------------------------------------------

  private parsePostfix(e: Expr): Expr {
    for (;;) {
      switch (this.kind()) {
        case 'LEFT_BRACKET':
          e = this.parseRangeOrSubquery(e);
          break;
        case 'OFFSET':
          this.parseOffset(e);
          break;
        case 'AT':
          this.parseAt(e);
          break;
        case 'IDENTIFIER': {
          const word = this.peek().value.toLowerCase();
          if (word !== 'anchored' && word !== 'smoothed') return e;
          this.next();
          this.setExtendedModifier(e, word);
          break;
        }
        default:
          return e;
      }
    }
  }

  /**
   * parseDurationArg reads a plain (signed) number or duration inside
   * brackets or after offset, as seconds; positive demands a value above
   * zero. This is the grammar without duration expressions.
   */
  private parseDurationArg(context: string, expected: string, positive: boolean, allowPlus: boolean): number {
    const first = this.peek();
    let sign = 1;
    if (first.type === 'SUB' || (allowPlus && first.type === 'ADD')) {
      this.next();
      if (first.type === 'SUB') sign = -1;
    }
    const t = this.peek();
    if (t.type !== 'NUMBER' && t.type !== 'DURATION') this.unexpected(context, expected);
    const seconds = (this.parseDurationLiteral().val as number) * sign;
    if (positive) this.rejectDurationExpr(first.pos, true);
    if (positive && !(seconds > 0)) this.fail(first.pos, 'duration must be greater than 0');
    return seconds;
  }

  /** parseDurationLiteral reads a NUMBER (seconds) or DURATION token as a number literal. */
  private parseDurationLiteral(): NumberLiteral {
    const t = this.next();
    const pos = { start: t.pos, end: t.end };
    if (t.type === 'DURATION') {
      const ms = parseDuration(t.value);
      if (typeof ms !== 'number') this.fail(t.pos, ms.error);
      return { type: 'NumberLiteral', val: ms / 1000, duration: true, pos };
    }
    const v = parseNumber(t.value);
    if (typeof v !== 'number') this.fail(t.pos, `error parsing number: ${v.error}`);
    if (Math.abs(v) * 1e9 >= 2 ** 63) this.fail(t.pos, 'duration out of range');
    return { type: 'NumberLiteral', val: v, pos };
  }

  /**
   * rejectDurationExpr fails, with duration expressions switched off, on
   * arithmetic, parentheses or step()/range() inside brackets.
   */
  private rejectDurationExpr(start: number, afterValue: boolean): void {
    const t = this.peek();
    const opening = t.type === 'LEFT_PAREN' || t.type === 'MIN' || t.type === 'MAX' || (t.type === 'IDENTIFIER' && DURATION_FUNCTIONS.has(t.value.toLowerCase()));
    const arithmetic = DURATION_OPERATORS.has(t.type);
    if ((afterValue && arithmetic) || (!afterValue && opening)) this.fail(start, 'experimental duration expression is not enabled');
  }

  // --- Duration expressions (promql-duration-expr) ------------------------
  //
  // Inside brackets: arithmetic (+ - * / % ^, unary signs, parentheses) over
  // numbers (seconds), durations, step(), range(), min_of(a, b) and
  // max_of(a, b) (or min(a, b) and max(a, b)).
  // After offset: one signed operand, or a parenthesised expression. The
  // tree uses ordinary nodes; min and max are Calls of min_of and max_of.

  /** parseDurationExpr reads a duration expression by precedence climbing. */
  private parseDurationExpr(minPrec: number, context: string, expected: string): Expr {
    let lhs = this.parseDurationUnary(context, expected);
    for (;;) {
      const opTok = this.peek();
      const prec = BINARY_PRECEDENCE[opTok.type];
      if (!DURATION_OPERATORS.has(opTok.type) || prec === undefined || prec < minPrec) return lhs;
      this.next();
      const rhs = this.parseDurationExpr(prec === POW_PRECEDENCE ? prec : prec + 1, context, expected);
      const op = BINARY_OPS[opTok.type]!;
      if ((op === '/' || op === '%') && constantSeconds(rhs) === 0) this.fail(opTok.pos, op === '/' ? 'division by zero' : 'modulo by zero');
      lhs = { type: 'BinaryExpr', op, lhs, rhs, returnBool: false, pos: { start: lhs.pos.start, end: rhs.pos.end } };
    }
  }

  private parseDurationUnary(context: string, expected: string): Expr {
    const t = this.peek();
    if (t.type !== 'ADD' && t.type !== 'SUB') return this.parseDurationPrimary(context, expected);
    this.next();
    return foldSign(t, this.parseDurationExpr(POW_PRECEDENCE, context, expected));
  }

  private parseDurationPrimary(context: string, expected: string): Expr {
    const t = this.peek();
    if (t.type === 'NUMBER' || t.type === 'DURATION') return this.parseDurationLiteral();
    if (t.type === 'LEFT_PAREN') {
      this.next();
      const inner = this.parseDurationExpr(1, context, expected);
      if (this.kind() !== 'RIGHT_PAREN') this.unexpected('duration expression', '")"');
      return { type: 'ParenExpr', expr: inner, pos: { start: t.pos, end: this.next().end } };
    }
    const name = t.type === 'MIN' || t.type === 'MAX' || t.type === 'IDENTIFIER' ? t.value.toLowerCase() : '';
    if (DURATION_FUNCTIONS.has(name) && this.kind(1) === 'LEFT_PAREN') {
      this.next();
      this.next();
      const args: Expr[] = [];
      if (DURATION_BINARY_FUNCTIONS.has(name)) {
        args.push(this.parseDurationExpr(1, context, expected));
        if (this.kind() !== 'COMMA') this.unexpected('duration expression', '","');
        this.next();
        args.push(this.parseDurationExpr(1, context, expected));
      }
      if (this.kind() !== 'RIGHT_PAREN') this.unexpected('duration expression', '")"');
      const close = this.next();
      return { type: 'Call', func: name === 'min' || name === 'max' ? `${name}_of` : name, args, pos: { start: t.pos, end: close.end } };
    }
    this.unexpected(context, expected);
  }

  /**
   * parseBracketDuration reads a range or step. A plain literal gives
   * milliseconds only (and must be positive); an expression is kept for
   * printing and for the engine (step() and range() resolve per query),
   * with its value folded in when it is constant.
   */
  private parseBracketDuration(context: string, expected: string): { ms: number; expr?: Expr } {
    const start = this.peek().pos;
    if (!this.durationExprs) {
      this.rejectDurationExpr(start, false);
      return { ms: secondsToMs(this.parseDurationArg(context, expected, true, true)) };
    }
    const e = this.parseDurationExpr(1, context, expected);
    if (e.type === 'NumberLiteral') {
      if (!(e.val > 0)) this.fail(e.pos.start, 'duration must be greater than 0');
      return { ms: secondsToMs(e.val) };
    }
    // The engine resolves the expression per query (and rejects a range that
    // is not positive); a constant one is folded in already.
    const seconds = constantSeconds(e);
    return { ms: seconds === undefined ? 0 : secondsToMs(seconds), expr: e };
  }

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.next();
    const range = this.parseBracketDuration('subquery or range selector', 'number, duration, step(), or range()');
    if (this.kind() === 'RIGHT_BRACKET') {
      const close = this.next();
      let problem = '';
      if (e.type !== 'VectorSelector') problem = 'ranges only allowed for vector selectors';
      else if (e.offsetMs !== 0 || e.offsetExpr !== undefined) problem = 'no offset modifiers allowed before range';
      else if (e.at !== undefined) problem = 'no @ modifiers allowed before range';
      if (problem !== '') this.fail(open.pos, problem);
      const vs = e as VectorSelector;
      const m: MatrixSelector = { type: 'MatrixSelector', vs, rangeMs: range.ms, pos: { start: vs.pos.start, end: close.end } };
      if (range.expr !== undefined) m.rangeExpr = range.expr;
      return m;
    }
    if (this.kind() !== 'COLON') this.unexpected('subquery or range', '":" or "]"');
    this.next();
    let step: { ms: number; expr?: Expr } = { ms: 0 };
    if (this.kind() !== 'RIGHT_BRACKET') {
      step = this.parseBracketDuration('subquery selector', 'number, duration, step(), range(), or "]"');
      if (this.kind() !== 'RIGHT_BRACKET') this.unexpected('subquery selector', '"]"');
    }
    const close = this.next();
    const sq: SubqueryExpr = {
      type: 'SubqueryExpr',
      expr: e,
      rangeMs: range.ms,
      stepMs: step.ms,
      offsetMs: 0,
      pos: { start: e.pos.start, end: close.end },
    };
    if (range.expr !== undefined) sq.rangeExpr = range.expr;
    if (step.expr !== undefined) sq.stepExpr = step.expr;
    return sq;
  }

  /** parseOffsetValue reads what follows offset: milliseconds, and the expression when it is one. */
  private parseOffsetValue(): { ms: number; expr?: Expr } {
    const context = 'offset';
    const expected = 'number, duration, step(), or range()';
    if (!this.durationExprs) {
      this.rejectDurationExpr(this.peek().pos, false);
      return { ms: secondsToMs(this.parseDurationArg(context, expected, false, false)) };
    }
    const sign = this.peek();
    if (sign.type === 'ADD' || sign.type === 'SUB') this.next();
    const t = this.peek();
    let operand: Expr;
    if (t.type === 'NUMBER' || t.type === 'DURATION' || t.type === 'LEFT_PAREN') operand = this.parseDurationPrimary(context, expected);
    else if ((t.type === 'MIN' || t.type === 'MAX' || t.type === 'IDENTIFIER') && DURATION_FUNCTIONS.has(t.value.toLowerCase()) && this.kind(1) === 'LEFT_PAREN') {
      operand = this.parseDurationPrimary(context, expected);
    } else this.unexpected(context, expected);
    const e = sign.type === 'ADD' || sign.type === 'SUB' ? foldSign(sign, operand) : operand;
    if (e.type === 'NumberLiteral') return { ms: secondsToMs(e.val) };
    const seconds = constantSeconds(e);
    return seconds === undefined ? { ms: 0, expr: e } : { ms: secondsToMs(seconds), expr: e };
  }

  private parseOffset(e: Expr): void {
    this.next();
    const offset = this.parseOffsetValue();
    const target = this.modifierTarget(e, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.offsetMs !== 0 || target.offsetExpr !== undefined) this.fail(e.pos.start, 'offset may not be set multiple times');
    target.offsetMs = offset.ms;
    if (offset.expr !== undefined) target.offsetExpr = offset.expr;
    e.pos.end = this.lastClosing;
  }

  private parseAt(e: Expr): void {
    this.next();
    const t = this.peek();
    let at: AtModifier;
    if (t.type === 'START' || t.type === 'END') {
      this.next();
      if (this.kind() !== 'LEFT_PAREN') this.unexpected('@', 'timestamp');
      this.next();
      if (this.kind() !== 'RIGHT_PAREN') this.unexpected('@', 'timestamp');
      this.next();
      at = { kind: t.type === 'START' ? 'start' : 'end' };
    } else {
      let sign = 1;
      if (t.type === 'ADD' || t.type === 'SUB') {
        this.next();
        if (t.type === 'SUB') sign = -1;
      }
      const n = this.peek();
      let seconds: number;
      if (n.type === 'NUMBER') {
        const v = parseNumber(n.value);
        if (typeof v !== 'number') this.fail(n.pos, `error parsing number: ${v.error}`);
        seconds = v;
      } else if (n.type === 'DURATION') {
        const ms = parseDuration(n.value);
        if (typeof ms !== 'number') this.fail(n.pos, ms.error);
        seconds = ms / 1000;
      } else {
        this.unexpected('@', 'timestamp');
      }
      this.next();
      seconds *= sign;
      if (!Number.isFinite(seconds) || seconds >= 2 ** 63 || seconds <= -(2 ** 63)) {
        this.fail(e.pos.start, `timestamp out of bounds for @ modifier: ${goFloatF(seconds)}`);
      }
      at = { kind: 'timestamp', ms: roundHalfAway(seconds * 1000) };
    }
    const target = this.modifierTarget(e, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.at !== undefined) this.fail(e.pos.start, '@ <timestamp> may not be set multiple times');
    target.at = at;
    e.pos.end = this.lastClosing;
  }

  /**
   * setExtendedModifier applies `anchored` or `smoothed` (Prometheus's
   * promql-extended-range-selectors) to an instant or range selector.
   */
  private setExtendedModifier(e: Expr, word: 'anchored' | 'smoothed'): void {
    if (!this.extendedSelectors) this.fail(e.pos.start, `${word} modifier is experimental and not enabled`);
    if (e.type === 'SubqueryExpr') this.fail(e.pos.start, `${word} modifier is not supported for subqueries`);
    if (e.type !== 'VectorSelector' && e.type !== 'MatrixSelector') this.fail(e.pos.start, `${word} modifier not implemented`);
    const vs = e.type === 'MatrixSelector' ? e.vs : e;
    vs[word] = true;
    if (vs.anchored === true && vs.smoothed === true) this.fail(e.pos.start, 'anchored and smoothed modifiers cannot be used together');
  }

  /** modifierTarget is the node that holds offset and @ for e: the selector, or the subquery. */
  private modifierTarget(e: Expr, problem: string): VectorSelector | SubqueryExpr {
    if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') return e;
    if (e.type === 'MatrixSelector') return e.vs;
    this.fail(e.pos.start, problem);
  }
}
