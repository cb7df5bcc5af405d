// lexer.ts is the PromQL lexer. It turns a query into tokens with byte
// positions, as Prometheus's promql/parser/lex.go does: identifiers, metric
// identifiers (with ':'), keywords, numbers, durations, strings in three
// quotings, operators and punctuation. Inside braces it switches to label
// matching (identifiers, strings, = != =~ !~). A lexing failure is an ERROR
// token whose value is the message; the parser turns it into a ParseError.

import { goStrconvQuote } from './unquote.js';

/** TokenType names a token kind after Prometheus's ItemType. */
export type TokenType =
  | 'EOF'
  | 'ERROR'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER'
  | 'STRING'
  | 'NUMBER'
  | 'DURATION'
  | 'LEFT_BRACE'
  | 'RIGHT_BRACE'
  | 'LEFT_PAREN'
  | 'RIGHT_PAREN'
  | 'LEFT_BRACKET'
  | 'RIGHT_BRACKET'
  | 'COMMA'
  | 'COLON'
  | 'AT'
  | 'EQL'
  | 'NEQ'
  | 'EQL_REGEX'
  | 'NEQ_REGEX'
  | 'EQLC'
  | 'LSS'
  | 'LTE'
  | 'GTR'
  | 'GTE'
  | 'TRIM_UPPER'
  | 'TRIM_LOWER'
  | 'ADD'
  | 'SUB'
  | 'MUL'
  | 'DIV'
  | 'MOD'
  | 'POW'
  | KeywordType;

/** KEYWORDS maps lower-case keywords to their token types. */
export const KEYWORDS = {
  and: 'LAND',
  or: 'LOR',
  unless: 'LUNLESS',
  atan2: 'ATAN2',
  sum: 'SUM',
  avg: 'AVG',
  count: 'COUNT',
  min: 'MIN',
  max: 'MAX',
  group: 'GROUP',
  stddev: 'STDDEV',
  stdvar: 'STDVAR',
  topk: 'TOPK',
  bottomk: 'BOTTOMK',
  count_values: 'COUNT_VALUES',
  quantile: 'QUANTILE',
  limitk: 'LIMITK',
  limit_ratio: 'LIMIT_RATIO',
  offset: 'OFFSET',
  by: 'BY',
  without: 'WITHOUT',
  on: 'ON',
  ignoring: 'IGNORING',
  group_left: 'GROUP_LEFT',
  group_right: 'GROUP_RIGHT',
  bool: 'BOOL',
  start: 'START',
  end: 'END',
} as const;

/** KeywordType is the token type of a keyword. */
export type KeywordType = (typeof KEYWORDS)[keyof typeof KEYWORDS];

const KEYWORD_TYPES: ReadonlySet<string> = new Set(Object.values(KEYWORDS));
const AGGREGATORS: ReadonlySet<string> = new Set(['SUM', 'AVG', 'COUNT', 'MIN', 'MAX', 'GROUP', 'STDDEV', 'STDVAR', 'TOPK', 'BOTTOMK', 'COUNT_VALUES', 'QUANTILE', 'LIMITK', 'LIMIT_RATIO']);
const OPERATORS: ReadonlySet<string> = new Set(['AT', 'LAND', 'LOR', 'LUNLESS', 'ATAN2', 'EQLC', 'NEQ', 'LSS', 'LTE', 'GTR', 'GTE', 'TRIM_UPPER', 'TRIM_LOWER', 'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW']);

/** Token is one lexed item; pos is the byte offset of its first byte in the query. */
export interface Token {
  type: TokenType;
  /** value is the token text (for ERROR: the message). */
  value: string;
  pos: number;
  /** end is the byte offset after the token. */
  end: number;
}

/** describeToken words a token for "unexpected ..." messages, as Prometheus's Item.desc does. */
export function describeToken(t: Token): string {
  if (t.type === 'EOF') return 'end of input';
  if (t.type === 'ERROR') return t.value;
  const quoted = t.value.length > 10 && t.type !== 'IDENTIFIER' && t.type !== 'METRIC_IDENTIFIER' ? `${JSON.stringify(t.value.slice(0, 10))}...` : JSON.stringify(t.value);
  if (AGGREGATORS.has(t.type)) return `<aggr:${t.value}>`;
  if (OPERATORS.has(t.type)) return `<op:${t.value}>`;
  if (KEYWORD_TYPES.has(t.type)) return `<${t.value}>`;
  switch (t.type) {
    case 'IDENTIFIER':
      return `identifier ${quoted}`;
    case 'METRIC_IDENTIFIER':
      return `metric identifier ${quoted}`;
    case 'STRING':
      return `string ${quoted}`;
    case 'NUMBER':
      return `number ${quoted}`;
    case 'DURATION':
      return `duration ${quoted}`;
    default:
      return quoted;
  }
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string): boolean => isAlpha(c) || isDigit(c);

/**
 * Lexer produces tokens one at a time. Positions are byte offsets in the
 * UTF-8 query (as Prometheus reports them); the lexer walks UTF-16 code units
 * and keeps a byte counter alongside.
 */
export class Lexer {
  private i = 0;
  private byte = 0;
  private braceOpen = false;
  private parenDepth = 0;
  private bracketOpen = false;
  /** gotColon and gotDuration track a bracket's range[:step] for lexDurationExpr. */
  private gotColon = false;
  private gotDuration = false;
  private done = false;

  constructor(private readonly input: string) {}

  /** all lexes the whole input, ending with EOF or the first ERROR. */
  all(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const t = this.next();
      out.push(t);
      if (t.type === 'EOF' || t.type === 'ERROR') return out;
    }
  }

  private peek(k = 0): string {
    return this.input[this.i + k] ?? '';
  }

  private advance(): string {
    const code = this.input.codePointAt(this.i);
    if (code === undefined) return '';
    const c = String.fromCodePoint(code);
    this.i += c.length;
    this.byte += Buffer.byteLength(c);
    return c;
  }

  private token(type: TokenType, startI: number, startByte: number): Token {
    return { type, value: this.input.slice(startI, this.i), pos: startByte, end: this.byte };
  }

  private error(message: string, pos: number): Token {
    this.done = true;
    return { type: 'ERROR', value: message, pos, end: pos };
  }

  /** next returns the next token; after EOF or ERROR it keeps returning EOF. */
  next(): Token {
    if (this.done) return { type: 'EOF', value: '', pos: this.byte, end: this.byte };
    for (;;) {
      const c = this.peek();
      if (c === '#' && !this.bracketOpen) {
        while (this.peek() !== '' && this.peek() !== '\n') this.advance();
        continue;
      }
      if (c !== '' && isSpace(c)) {
        this.advance();
        continue;
      }
      break;
    }
    const startI = this.i;
    const start = this.byte;
    const c = this.peek();
    if (this.bracketOpen) return this.lexDurationExpr(c, startI, start);
    if (c === '') {
      if (this.braceOpen) return this.error('unexpected end of input inside braces', start);
      if (this.parenDepth > 0) return this.error('unclosed left parenthesis', start);
      if (this.bracketOpen) return this.error('unclosed left bracket', start);
      this.done = true;
      return { type: 'EOF', value: '', pos: start, end: start };
    }
    if (c === '"' || c === "'") return this.lexString(c, startI, start);
    if (c === '`') return this.lexRawString(startI, start);
    return this.braceOpen ? this.lexInsideBraces(c, startI, start) : this.lexStatement(c, startI, start);
  }

  private lexInsideBraces(c: string, startI: number, start: number): Token {
    if (isAlpha(c)) {
      while (isAlnum(this.peek())) this.advance();
      return this.token('IDENTIFIER', startI, start);
    }
    this.advance();
    switch (c) {
      case ',':
        return this.token('COMMA', startI, start);
      case '}':
        this.braceOpen = false;
        return this.token('RIGHT_BRACE', startI, start);
      case '{':
        return this.error(`unexpected left brace '{' inside braces`, start);
      case '=':
        if (this.peek() === '~') {
          this.advance();
          return this.token('EQL_REGEX', startI, start);
        }
        return this.token('EQL', startI, start);
      case '!': {
        const n = this.peek();
        if (n === '=' || n === '~') {
          this.advance();
          return this.token(n === '=' ? 'NEQ' : 'NEQ_REGEX', startI, start);
        }
        return this.error(`unexpected character after '!' inside braces: ${goQuoteRune(n)}`, start);
      }
      default:
        return this.error(`unexpected character inside braces: ${goQuoteRune(c)}`, start);
    }
  }

  private lexStatement(c: string, startI: number, start: number): Token {
    if (isDigit(c) || (c === '.' && isDigit(this.peek(1)))) return this.lexNumberOrDuration(startI, start);
    if (isAlpha(c) || c === ':') {
      while (isAlnum(this.peek()) || this.peek() === ':') this.advance();
      const word = this.input.slice(startI, this.i);
      const lower = word.toLowerCase();
      if (lower === 'inf' || lower === 'nan') return this.token('NUMBER', startI, start);
      const kw = (KEYWORDS as Record<string, TokenType>)[lower];
      if (kw !== undefined) return this.token(kw, startI, start);
      return this.token(word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER', startI, start);
    }
    this.advance();
    const two = (second: string, ifTwo: TokenType, ifOne: TokenType): Token => {
      if (this.peek() === second) {
        this.advance();
        return this.token(ifTwo, startI, start);
      }
      return this.token(ifOne, startI, start);
    };
    switch (c) {
      case '{':
        this.braceOpen = true;
        return this.token('LEFT_BRACE', startI, start);
      case '}':
        return this.error(`unexpected character: '}'`, start);
      case '(':
        this.parenDepth++;
        return this.token('LEFT_PAREN', startI, start);
      case ')':
        // Prometheus emits the parenthesis first, so the error sits after it.
        if (this.parenDepth === 0) return this.error(`unexpected right parenthesis ')'`, this.byte);
        this.parenDepth--;
        return this.token('RIGHT_PAREN', startI, start);
      case '[':
        this.bracketOpen = true;
        this.gotColon = false;
        this.gotDuration = false;
        return this.token('LEFT_BRACKET', startI, start);
      case ']':
        if (!this.bracketOpen) return this.error(`unexpected right bracket ']'`, start);
        this.bracketOpen = false;
        return this.token('RIGHT_BRACKET', startI, start);
      case ',':
        return this.token('COMMA', startI, start);
      case '@':
        return this.token('AT', startI, start);
      case '+':
        return this.token('ADD', startI, start);
      case '-':
        return this.token('SUB', startI, start);
      case '*':
        return this.token('MUL', startI, start);
      case '/':
        return this.token('DIV', startI, start);
      case '%':
        return this.token('MOD', startI, start);
      case '^':
        return this.token('POW', startI, start);
      case '<':
        // `</` and `>/` are the native-histogram trim operators.
        if (this.peek() === '/') {
          this.advance();
          return this.token('TRIM_UPPER', startI, start);
        }
        return two('=', 'LTE', 'LSS');
      case '>':
        if (this.peek() === '/') {
          this.advance();
          return this.token('TRIM_LOWER', startI, start);
        }
        return two('=', 'GTE', 'GTR');
      case '=':
        if (this.peek() === '~') return this.error(`unexpected character after '=': '~'`, start);
        return two('=', 'EQLC', 'EQL');
      case '!':
        if (this.peek() === '=') {
          this.advance();
          return this.token('NEQ', startI, start);
        }
        return this.error(`unexpected character after '!': ${goQuoteRune(this.peek())}`, start);
      default:
        return this.error(`unexpected character: ${goQuoteRune(c)}`, start);
    }
  }

  /**
   * lexDurationExpr lexes inside [range] and [range:step], as Prometheus's
   * lexDurationExpr: numbers and durations, a colon, parentheses and
   * arithmetic operators (duration expressions, which the parser rejects as
   * an experimental feature), and the step()/range()/min_of()/max_of()
   * (or min()/max()) keywords
   * as identifiers. Anything else is an error.
   */
  private lexDurationExpr(c: string, startI: number, start: number): Token {
    if (c === '') return this.error('unexpected end of input in duration expression', start);
    if (isDigit(c) || (c === '.' && isDigit(this.peek(1)))) {
      this.gotDuration = true;
      return this.lexNumberOrDuration(startI, start);
    }
    const word = /^(step|range|min_of|max_of|min|max)\s*\(/i.exec(this.input.slice(this.i));
    if (word !== null) {
      for (let k = 0; k < word[1]!.length; k++) this.advance();
      return this.token('IDENTIFIER', startI, start);
    }
    this.advance();
    const simple: Record<string, TokenType> = { '+': 'ADD', '-': 'SUB', '*': 'MUL', '/': 'DIV', '%': 'MOD', '^': 'POW', ',': 'COMMA', '(': 'LEFT_PAREN' };
    const type = simple[c];
    if (type !== undefined) {
      if (c === '(') this.parenDepth++;
      return this.token(type, startI, start);
    }
    switch (c) {
      case ']':
        this.bracketOpen = false;
        return this.token('RIGHT_BRACKET', startI, start);
      case ':':
        // Prometheus emits the colon first, so these errors sit after it.
        if (!this.gotDuration) return this.error('unexpected colon before duration in duration expression', this.byte);
        if (this.gotColon) return this.error('unexpected repeated colon in duration expression', this.byte);
        this.gotColon = true;
        return this.token('COLON', startI, start);
      case ')':
        if (this.parenDepth === 0) return this.error(`unexpected right parenthesis ')'`, this.byte);
        this.parenDepth--;
        return this.token('RIGHT_PAREN', startI, start);
      default:
        if (this.gotDuration && !this.gotColon && isAlpha(c)) return this.error(`unexpected character: ${goQuoteRune(c)}, expected ':'`, start);
        return this.error(`unexpected character in duration expression: ${goQuoteRune(c)}`, start);
    }
  }

  /**
   * lexNumberOrDuration follows Prometheus's scanNumber and
   * acceptRemainingDuration: a number is [.][d][d._eE]* not followed by an
   * alphanumeric; otherwise the scan continues as a duration (units and
   * digits) from where the number stopped; otherwise the consumed text is a
   * "bad number or duration syntax".
   */
  private lexNumberOrDuration(startI: number, start: number): Token {
    if (this.scanNumber()) return this.token('NUMBER', startI, start);
    if (this.acceptRemainingDuration()) return this.token('DURATION', startI, start);
    return this.error(`bad number or duration syntax: ${JSON.stringify(this.input.slice(startI, this.i))}`, start);
  }

  private accept(chars: string): boolean {
    const c = this.peek();
    if (c !== '' && chars.includes(c)) {
      this.advance();
      return true;
    }
    return false;
  }

  private scanNumber(): boolean {
    const startI = this.i;
    let digits = '0123456789';
    if (this.peek() === '0' && (this.peek(1) === 'x' || this.peek(1) === 'X')) {
      this.advance();
      this.advance();
      this.accept('_');
      digits = '0123456789abcdefABCDEF';
    }
    this.accept('.');
    this.accept(digits);
    let dot = false;
    let exp = false;
    const all = digits + '._eE';
    while (this.peek() !== '' && all.includes(this.peek())) {
      const c = this.peek();
      if (c === '.' && dot) {
        this.advance();
        return false;
      }
      if ((c === 'e' || c === 'E') && exp && digits.length === 10) {
        this.advance();
        return false;
      }
      if (c === '.') {
        this.advance();
        dot = true;
        if (this.accept('_.')) return false;
        if (digits.length > 10) return false;
        continue;
      }
      if ((c === 'e' || c === 'E') && digits.length === 10) {
        this.advance();
        exp = true;
        this.accept('+-');
        if (this.accept('._eE') || this.peek() === '') return false;
        continue;
      }
      if (c === '_') {
        this.advance();
        if (this.accept('._eE') || this.peek() === '') return false;
        continue;
      }
      while (this.peek() !== '' && digits.includes(this.peek())) this.advance();
    }
    if (this.i === startI) return false;
    return !isAlnum(this.peek());
  }

  private acceptRemainingDuration(): boolean {
    if (!this.accept('smhdwy')) return false;
    this.accept('s');
    while (this.accept('0123456789')) {
      while (this.accept('0123456789'));
      if (!this.accept('smhdwy')) return false;
      this.accept('s');
    }
    // Prometheus reads one more rune here and backs up on success.
    if (isAlnum(this.peek())) {
      this.advance();
      return false;
    }
    return true;
  }

  private lexString(quote: string, startI: number, start: number): Token {
    this.advance();
    for (;;) {
      const c = this.advance();
      if (c === '' || c === '\n') return this.error('unterminated quoted string', start);
      if (c === quote) return this.token('STRING', startI, start);
      if (c === '\\') {
        const problem = this.lexEscape(quote);
        if (problem !== undefined) return this.error(problem, start);
      }
    }
  }

  /** lexEscape checks one escape sequence after the backslash, as Prometheus's lexEscape. */
  private lexEscape(quote: string): string | undefined {
    const c = this.advance();
    if (c === '') return 'escape sequence not terminated';
    if ('abfnrtv\\'.includes(c) || c === quote) return undefined;
    let n: number;
    let base: number;
    let max: number;
    if (c === 'x') [n, base, max] = [2, 16, 255];
    else if (c === 'u') [n, base, max] = [4, 16, 0x10ffff];
    else if (c === 'U') [n, base, max] = [8, 16, 0x10ffff];
    else if (c >= '0' && c <= '7') {
      [n, base, max] = [2, 8, 255];
    } else return `unknown escape sequence ${goRuneU(c)}`;
    let x = c >= '0' && c <= '7' ? Number(c) : 0;
    for (let k = 0; k < n; k++) {
      const d = this.advance();
      if (d === '') return 'escape sequence not terminated';
      const v = parseInt(d, base);
      if (Number.isNaN(v) || (base === 8 && d > '7')) return `illegal character ${goRuneU(d)} in escape sequence`;
      x = x * base + v;
    }
    if (x > max || (base === 16 && x >= 0xd800 && x < 0xe000)) return 'escape sequence is an invalid Unicode code point';
    return undefined;
  }

  private lexRawString(startI: number, start: number): Token {
    this.advance();
    for (;;) {
      const c = this.advance();
      if (c === '') return this.error('unterminated raw string', start);
      if (c === '`') return this.token('STRING', startI, start);
    }
  }
}

/** goQuoteRune renders a character as Go's %q does for a rune. */
function goQuoteRune(c: string): string {
  if (c === '') return "'\\x00'";
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  return `'${goStrconvQuote(c).slice(1, -1)}'`;
}

/** goRuneU renders a character as Go's %#U does: U+0071 'q'. */
function goRuneU(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}
