// selector.ts parses series selectors (`match[]` of the metadata endpoints,
// and later the vector selectors of the full PromQL parser):
//   metric, metric{a="b"}, {a=~"x.*", b!="c"}, {"my.metric", "a.b"="c"}
// Errors are Prometheus's texts at Prometheus's positions.

import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import { ParseError } from './errors.js';
import { compileRE2, regexpError } from '../../compat/re2.js';
import { Lexer, describeToken, type Token, type TokenType } from './lexer.js';
import { unquoteString } from './unquote.js';

/** METRIC_NAME_LABEL is the label that holds the metric name. */
export const METRIC_NAME_LABEL = '__name__';

const MATCH_OPS: Partial<Record<TokenType, MatchType>> = {
  EQL: MatchType.Equal,
  NEQ: MatchType.NotEqual,
  EQL_REGEX: MatchType.Regexp,
  NEQ_REGEX: MatchType.NotRegexp,
};

/** Keyword tokens that may still name a metric, as in Prometheus's metric_identifier rule. */
const NAME_TOKENS: ReadonlySet<TokenType> = new Set<TokenType>([
  'IDENTIFIER', 'METRIC_IDENTIFIER', 'AVG', 'BOTTOMK', 'BY', 'COUNT', 'COUNT_VALUES', 'GROUP', 'LAND', 'LOR', 'LUNLESS',
  'MAX', 'MIN', 'OFFSET', 'QUANTILE', 'STDDEV', 'STDVAR', 'SUM', 'TOPK', 'WITHOUT', 'GROUP_LEFT', 'GROUP_RIGHT',
  'IGNORING', 'ON', 'START', 'END', 'ATAN2', 'LIMITK', 'LIMIT_RATIO',
]);

/** SelectorParser reads one selector from a token stream. */
class SelectorParser {
  private tok: Token;

  constructor(
    private readonly query: string,
    private readonly lexer: Lexer,
  ) {
    this.tok = lexer.next();
  }

  private fail(t: Token, detail: string): never {
    throw new ParseError(this.query, t.pos, detail);
  }

  /** unexpected reports the current token, as the generated parser's yylex.unexpected. */
  private unexpected(context: string, expected: string): never {
    const t = this.tok;
    if (t.type === 'ERROR') this.fail(t, t.value);
    let msg = `unexpected ${describeToken(t)}`;
    if (context !== '') msg += ` in ${context}`;
    if (expected !== '') msg += `, expected ${expected}`;
    this.fail(t, msg);
  }

  /** kind is the current token's type (a method, so narrowing does not survive advance()). */
  private kind(): TokenType {
    return this.tok.type;
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  parse(checkAst: boolean): LabelMatcher[] {
    const start = this.tok;
    let name: string | undefined;
    if (NAME_TOKENS.has(this.kind())) name = this.advance().value;
    else if (this.kind() !== 'LEFT_BRACE') this.unexpected('', '');
    const matchers: LabelMatcher[] = [];
    let braceName: string | undefined;
    if (this.kind() === 'LEFT_BRACE') {
      this.advance();
      braceName = this.matchers(matchers);
    }
    if (this.kind() !== 'EOF') this.unexpected('', '');
    if (name !== undefined && braceName !== undefined) {
      this.fail(start, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(braceName)}`);
    }
    if (checkAst) {
      // Prometheus's checkAST rules for a vector selector in an expression.
      const nameMatcher = matchers.find((m) => m.name === METRIC_NAME_LABEL);
      if (name !== undefined && nameMatcher !== undefined) {
        this.fail(start, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(nameMatcher.value)}`);
      }
    }
    if (name !== undefined) matchers.unshift({ name: METRIC_NAME_LABEL, type: MatchType.Equal, value: name });
    if (checkAst && !matchers.some((m) => !matchesEmpty(m))) this.fail(start, 'vector selector must contain at least one non-empty matcher');
    return matchers;
  }

  /** matchers reads up to the closing brace; returns a bare quoted metric name if one was given. */
  private matchers(out: LabelMatcher[]): string | undefined {
    let bareName: string | undefined;
    for (;;) {
      if (this.kind() === 'RIGHT_BRACE') {
        this.advance();
        return bareName;
      }
      let label: string;
      const labelTok = this.tok;
      if (this.kind() === 'IDENTIFIER') label = this.advance().value;
      else if (this.kind() === 'STRING') label = unquoteString(this.advance().value);
      else this.unexpected('label matching', 'identifier or "}"');
      const op = MATCH_OPS[this.kind()];
      if (op === undefined) {
        if (labelTok.type === 'STRING' && (this.kind() === 'COMMA' || this.kind() === 'RIGHT_BRACE')) {
          if (bareName !== undefined) this.fail(labelTok, `metric name must not be set twice: ${JSON.stringify(bareName)} or ${JSON.stringify(label)}`);
          bareName = label;
          out.push({ name: METRIC_NAME_LABEL, type: MatchType.Equal, value: label });
        } else {
          this.unexpected('label matching', 'label matching operator');
        }
      } else {
        this.advance();
        if (this.kind() !== 'STRING') this.unexpected('label matching', 'string');
        const valueTok = this.advance();
        const value = unquoteString(valueTok.value);
        if (op === MatchType.Regexp || op === MatchType.NotRegexp) checkRegexp(this.query, valueTok, value);
        out.push({ name: label, type: op, value });
      }
      if (this.kind() === 'COMMA') {
        this.advance();
        continue;
      }
      if (this.kind() !== 'RIGHT_BRACE') this.unexpected('label matching', '"," or "}"');
    }
  }
}

function anchored(value: string): RegExp | undefined {
  return compileRE2(value);
}

/** checkRegexp rejects a matcher regexp that cannot compile, as labels.NewMatcher does. */
export function checkRegexp(query: string, tok: Token, value: string): void {
  const problem = regexpError(value);
  if (problem !== undefined) throw new ParseError(query, tok.pos, problem);
}

/** matchesEmpty reports whether a matcher matches the empty label value. */
export function matchesEmpty(m: LabelMatcher): boolean {
  switch (m.type) {
    case MatchType.Equal:
      return m.value === '';
    case MatchType.NotEqual:
      return m.value !== '';
    case MatchType.Regexp:
      return anchored(m.value)?.test('') ?? false;
    case MatchType.NotRegexp:
      return !(anchored(m.value)?.test('') ?? true);
  }
}

/**
 * parseMetricSelector parses one series selector into matchers, or throws
 * ParseError. Like Prometheus's ParseMetricSelector it skips the expression
 * checks (non-empty matcher, name set twice); the HTTP API checks emptiness
 * with its own wording.
 */
export function parseMetricSelector(input: string): LabelMatcher[] {
  return new SelectorParser(input, new Lexer(input)).parse(false);
}

/** parseVectorSelector parses a selector as a PromQL expression, with Prometheus's checkAST rules. */
export function parseVectorSelector(input: string): LabelMatcher[] {
  return new SelectorParser(input, new Lexer(input)).parse(true);
}
