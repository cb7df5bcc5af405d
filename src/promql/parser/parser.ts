// parser.ts is the PromQL parser: parseExpr turns a query into the syntax
// tree of ast.ts, with Prometheus 3.x's grammar (promql/parser/
// generated_parser.y), precedence, error texts and error positions, then
// type-checks it as Prometheus's checkAST does. Prometheus collects errors
// and reports the first; this parser stops at the first instead, which gives
// the same message wherever the order of detection matches.
//
// Precedence, loosest first: or; and unless; == != <= < >= >; + -;
// * / % atan2; ^ (right-associative). Unary minus binds like *, so -1^2 is
// -(1^2). The postfix modifiers [range], [range:step], offset and @ bind to
// the closest primary expression.

import { MatchType, type LabelMatcher } from '../../storage/native.js';
import type {
  AggregateExpr,
  AggregateOp,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatchCardinality,
  MatrixSelector,
  PosRange,
  SubqueryExpr,
  ValueType,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { ParseError } from './errors.js';
import { EXPERIMENTAL_AGGREGATIONS, getFunction } from './functions.js';
import { Lexer, describeToken, KEYWORDS, type Token, type TokenType } from './lexer.js';
import { METRIC_NAME_LABEL, matchesEmpty } from './selector.js';
import { goStrconvQuote, unquoteString } from './unquote.js';

/** ParseOptions tunes parseExpr. */
export interface ParseOptions {
  /**
   * experimentalFunctions allows the experimental functions and the limitk /
   * limit_ratio aggregations (Prometheus's promql-experimental-functions).
   * Default true: Mimir enables them in the parser and gates them per tenant.
   */
  experimentalFunctions?: boolean;
}

/** parseExpr parses and type-checks a PromQL expression, or throws ParseError. */
export function parseExpr(query: string, options: ParseOptions = {}): Expr {
  try {
    const parser = new Parser(query, options.experimentalFunctions ?? true);
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
      // Scalar only when every operand along the (left-deep) chain is.
      let scalar = true;
      let n: Expr = e;
      while (scalar && n.type === 'BinaryExpr') {
        scalar = exprType(n.rhs) === 'scalar';
        n = n.lhs;
      }
      typ = scalar && exprType(n) === 'scalar' ? 'scalar' : 'vector';
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

// ---------------------------------------------------------------------------
// Numbers and durations.

/** parseNumber reads a NUMBER token as Prometheus does: strconv.ParseInt(s, 0, 64), else ParseFloat. */
export function parseNumber(text: string): number | { error: string } {
  const s = text.replace(/_/g, '');
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(lower)) return NaN;
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else v = Number(s);
  if (Number.isNaN(v)) return { error: `strconv.ParseFloat: parsing ${goStrconvQuote(text)}: invalid syntax` };
  if (!Number.isFinite(v)) return { error: `strconv.ParseFloat: parsing ${goStrconvQuote(text)}: value out of range` };
  return v;
}

const DURATION_UNITS: Record<string, { ms: number; order: number }> = {
  y: { ms: 365 * 24 * 3600 * 1000, order: 1 },
  w: { ms: 7 * 24 * 3600 * 1000, order: 2 },
  d: { ms: 24 * 3600 * 1000, order: 3 },
  h: { ms: 3600 * 1000, order: 4 },
  m: { ms: 60 * 1000, order: 5 },
  s: { ms: 1000, order: 6 },
  ms: { ms: 1, order: 7 },
};

/** MAX_DURATION_MS is the largest Go time.Duration in milliseconds. */
const MAX_DURATION_MS = 9223372036854.775;

/** parseDuration reads a duration as Prometheus's model.ParseDuration does; returns milliseconds. */
export function parseDuration(text: string): number | { error: string } {
  if (text === '0') return 0;
  if (text === '') return { error: 'empty duration string' };
  const invalid = { error: `not a valid duration string: ${goStrconvQuote(text)}` };
  let rest = text;
  let total = 0;
  let lastOrder = 0;
  while (rest !== '') {
    const digits = /^[0-9]+/.exec(rest);
    if (digits === null) return invalid;
    rest = rest.slice(digits[0].length);
    const unitText = /^[^0-9]+/.exec(rest);
    if (unitText === null) return invalid;
    rest = rest.slice(unitText[0].length);
    const unit = DURATION_UNITS[unitText[0]];
    if (unit === undefined) return { error: `unknown unit ${goStrconvQuote(unitText[0])} in duration ${goStrconvQuote(text)}` };
    if (unit.order <= lastOrder) return invalid;
    lastOrder = unit.order;
    const v = Number(digits[0]);
    if (v > MAX_DURATION_MS / unit.ms) return { error: 'duration out of range' };
    total += v * unit.ms;
    if (total > MAX_DURATION_MS) return { error: 'duration out of range' };
  }
  return total;
}

/** secondsToMs converts float seconds to whole milliseconds as Prometheus does (round to ns, truncate to ms). */
function secondsToMs(seconds: number): number {
  const ms = Math.trunc(Math.round(seconds * 1e9) / 1e6);
  return ms === 0 ? 0 : ms;
}

/** roundHalfAway is Go's math.Round. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** goFloatF renders a float as Go's %f does. */
function goFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  // toFixed switches to exponent form from 1e21; such floats are integers.
  if (Math.abs(x) >= 1e21) return `${BigInt(x).toString()}.000000`;
  return x.toFixed(6);
}

/**
 * regexpError reports why a matcher regexp cannot compile, worded as Go's
 * regexp/syntax errors for the common cases (JavaScript approximates RE2).
 */
export function regexpError(value: string): string | undefined {
  const perl = /\(\?[=!]|\(\?<[=!]|\\[1-9]/.exec(value);
  if (perl !== null) return `error parsing regexp: invalid or unsupported Perl syntax: \`${perl[0]}\``;
  try {
    new RegExp(`^(?:${value})$`, 'su');
    return undefined;
  } catch {
    try {
      new RegExp(value, 's');
      return undefined;
    } catch (err) {
      const msg = (err as Error).message;
      if (/Unterminated group/.test(msg)) return `error parsing regexp: missing closing ): \`${value}\``;
      if (/Unmatched '\)'/.test(msg)) return `error parsing regexp: unexpected ): \`${value}\``;
      if (/Unterminated character class/.test(msg)) return `error parsing regexp: missing closing ]: \`${value.slice(value.lastIndexOf('['))}\``;
      const rep = /Nothing to repeat/.test(msg) ? /(^|[(|])([*+?]|\{\d)/.exec(value) : null;
      if (rep !== null) return `error parsing regexp: missing argument to repetition operator: \`${rep[2]}\``;
      return `error parsing regexp: ${msg}`;
    }
  }
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
  /** lastClosing is the end of the last consumed ) } ] number or duration, as Prometheus tracks it. */
  private lastClosing = 0;

  constructor(
    private readonly query: string,
    private readonly experimental: boolean,
  ) {
    this.lexer = new Lexer(query);
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
      this.next();
      const mods = this.parseBinModifiers();
      const rhs = this.parseBinary(prec === POW_PRECEDENCE ? prec : prec + 1);
      const node: BinaryExpr = {
        type: 'BinaryExpr',
        op: BINARY_OPS[opTok.type]!,
        lhs,
        rhs,
        returnBool: mods.returnBool,
        matching: mods.matching,
        pos: { start: lhs.pos.start, end: rhs.pos.end },
      };
      lhs = node;
    }
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
    return mods;
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.type !== 'ADD' && t.type !== 'SUB') return this.parsePostfix(this.parsePrimary());
    this.next();
    // unary_op expr %prec MUL: only ^ and the postfix modifiers bind tighter.
    const operand = this.parseBinary(POW_PRECEDENCE);
    if (operand.type === 'NumberLiteral') {
      if (t.type === 'SUB') operand.val = -operand.val;
      operand.pos = { start: t.pos, end: operand.pos.end };
      return operand;
    }
    return { type: 'UnaryExpr', op: t.type === 'ADD' ? '+' : '-', expr: operand, pos: { start: t.pos, end: operand.pos.end } };
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
      case 'STRING':
        this.next();
        return { type: 'StringLiteral', val: unquoteString(t.value), pos: { start: t.pos, end: t.end } };
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
        default:
          return e;
      }
    }
  }

  /**
   * parseDurationArg reads a (signed) number or duration inside brackets or
   * after offset, as seconds; positive demands a value above zero.
   */
  private parseDurationArg(context: string, expected: string, positive: boolean, allowPlus: boolean): number {
    const first = this.peek();
    let sign = 1;
    if (first.type === 'SUB' || (allowPlus && first.type === 'ADD')) {
      this.next();
      if (first.type === 'SUB') sign = -1;
    }
    const t = this.peek();
    let seconds: number;
    if (t.type === 'NUMBER') {
      const v = parseNumber(t.value);
      if (typeof v !== 'number') this.fail(t.pos, `error parsing number: ${v.error}`);
      if (Math.abs(v) * 1e9 >= 2 ** 63) this.fail(t.pos, 'duration out of range');
      seconds = v;
    } else if (t.type === 'DURATION') {
      const ms = parseDuration(t.value);
      if (typeof ms !== 'number') this.fail(t.pos, ms.error);
      seconds = ms / 1000;
    } else {
      this.unexpected(context, expected);
    }
    this.next();
    seconds *= sign;
    if (positive) this.rejectDurationExpr(first.pos, true);
    if (positive && !(seconds > 0)) this.fail(first.pos, 'duration must be greater than 0');
    return seconds;
  }

  /**
   * rejectDurationExpr fails on arithmetic, parentheses or step()/range()
   * inside brackets: Prometheus's duration expressions, which sit behind
   * --enable-feature=promql-duration-expr.
   */
  private rejectDurationExpr(start: number, afterValue: boolean): void {
    const t = this.peek();
    const opening = t.type === 'LEFT_PAREN' || (t.type === 'IDENTIFIER' && /^(step|range|min|max)$/i.test(t.value));
    const arithmetic = t.type === 'ADD' || t.type === 'SUB' || t.type === 'MUL' || t.type === 'DIV' || t.type === 'MOD' || t.type === 'POW';
    if ((afterValue && arithmetic) || (!afterValue && opening)) this.fail(start, 'experimental duration expression is not enabled');
  }

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.next();
    const rangeStart = this.peek().pos;
    this.rejectDurationExpr(rangeStart, false);
    const range = this.parseDurationArg('subquery or range selector', 'number, duration, step(), or range()', true, true);
    if (this.kind() === 'RIGHT_BRACKET') {
      const close = this.next();
      let problem = '';
      if (e.type !== 'VectorSelector') problem = 'ranges only allowed for vector selectors';
      else if (e.offsetMs !== 0) problem = 'no offset modifiers allowed before range';
      else if (e.at !== undefined) problem = 'no @ modifiers allowed before range';
      if (problem !== '') this.fail(open.pos, problem);
      const vs = e as VectorSelector;
      const m: MatrixSelector = { type: 'MatrixSelector', vs, rangeMs: secondsToMs(range), pos: { start: vs.pos.start, end: close.end } };
      return m;
    }
    if (this.kind() !== 'COLON') this.unexpected('subquery or range', '":" or "]"');
    this.next();
    let step = 0;
    if (this.kind() !== 'RIGHT_BRACKET') {
      const stepStart = this.peek().pos;
      this.rejectDurationExpr(stepStart, false);
      step = this.parseDurationArg('subquery selector', 'number, duration, step(), range(), or "]"', true, true);
      if (this.kind() !== 'RIGHT_BRACKET') this.unexpected('subquery selector', '"]"');
    }
    const close = this.next();
    const sq: SubqueryExpr = {
      type: 'SubqueryExpr',
      expr: e,
      rangeMs: secondsToMs(range),
      stepMs: secondsToMs(step),
      offsetMs: 0,
      pos: { start: e.pos.start, end: close.end },
    };
    return sq;
  }

  private parseOffset(e: Expr): void {
    this.next();
    const seconds = this.parseDurationArg('offset', 'number, duration, step(), or range()', false, false);
    const offsetMs = secondsToMs(seconds);
    const target = this.modifierTarget(e, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.offsetMs !== 0) this.fail(e.pos.start, 'offset may not be set multiple times');
    target.offsetMs = offsetMs;
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

  /** modifierTarget is the node that holds offset and @ for e: the selector, or the subquery. */
  private modifierTarget(e: Expr, problem: string): VectorSelector | SubqueryExpr {
    if (e.type === 'VectorSelector' || e.type === 'SubqueryExpr') return e;
    if (e.type === 'MatrixSelector') return e.vs;
    this.fail(e.pos.start, problem);
  }
}

// ---------------------------------------------------------------------------
// Type checking, after Prometheus's checkAST.

class Checker {
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
    const typ = exprType(e);
    switch (e.type) {
      case 'AggregateExpr':
        this.expectType(e.expr, 'vector', 'aggregation expression');
        if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile' || e.op === 'limitk' || e.op === 'limit_ratio') {
          this.expectType(e.param!, 'scalar', 'aggregation parameter');
        }
        if (e.op === 'count_values') this.expectType(e.param!, 'string', 'aggregation parameter');
        break;
      case 'BinaryExpr':
        return this.checkBinaryChain(e);
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
   * checkBinaryChain checks a left-deep chain of binary expressions (a + b +
   * c ...) bottom-up without recursing down the chain, in checkAST's order:
   * each node's lhs, then its rhs, then the node itself.
   */
  private checkBinaryChain(top: BinaryExpr): ValueType {
    const spine: BinaryExpr[] = [];
    let n: Expr = top;
    while (n.type === 'BinaryExpr') {
      spine.push(n);
      n = n.lhs;
    }
    let lt = this.check(n);
    for (let i = spine.length - 1; i >= 0; i--) {
      const b = spine[i]!;
      const rt = this.check(b.rhs);
      this.checkBinary(b, lt, rt);
      lt = lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
      TYPES.set(b, lt);
    }
    return lt;
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
      delete n.matching;
    } else if (setOp) {
      if (m.card === 'one-to-many' || m.card === 'many-to-one') this.fail(n.pos.start, `no grouping allowed for ${goStrconvQuote(n.op)} operation`);
      if ((m.card as MatchCardinality) !== 'many-to-many') this.fail(n.pos.start, 'set operations must always be many-to-many');
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
