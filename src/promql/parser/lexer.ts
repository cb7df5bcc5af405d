// lexer.ts is the PromQL lexer. It turns a query into tokens with byte
// positions, as Prometheus's promql/parser/lex.go does: identifiers, metric
// identifiers (with ':'), keywords, numbers, durations, strings in three
// quotings, operators and punctuation. Inside braces it switches to label
// matching (identifiers, strings, = != =~ !~). A lexing failure is an ERROR
// token whose value is the message; the parser turns it into a ParseError.

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
const OPERATORS: ReadonlySet<string> = new Set(['LAND', 'LOR', 'LUNLESS', 'ATAN2', 'EQLC', 'NEQ', 'LSS', 'LTE', 'GTR', 'GTE', 'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'POW']);

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
const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
const DURATION_UNITS = ['ms', 's', 'm', 'h', 'd', 'w', 'y'];

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
      if (c === '#') {
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
    if (c === ':' && this.bracketOpen) {
      // Inside a subquery's brackets a colon separates range and step.
      this.advance();
      return this.token('COLON', startI, start);
    }
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
        return this.error(`unexpected right brace '}'`, start);
      case '(':
        this.parenDepth++;
        return this.token('LEFT_PAREN', startI, start);
      case ')':
        if (this.parenDepth === 0) return this.error(`unexpected right parenthesis ')'`, start);
        this.parenDepth--;
        return this.token('RIGHT_PAREN', startI, start);
      case '[':
        if (this.bracketOpen) return this.error(`unexpected left bracket '['`, start);
        this.bracketOpen = true;
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
        return two('=', 'LTE', 'LSS');
      case '>':
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

  private lexNumberOrDuration(startI: number, start: number): Token {
    const digits = (accept: (c: string) => boolean): void => {
      while (accept(this.peek()) || (this.peek() === '_' && accept(this.peek(1)))) this.advance();
    };
    if (this.peek() === '0' && (this.peek(1) === 'x' || this.peek(1) === 'X') && isHex(this.peek(2))) {
      this.advance();
      this.advance();
      digits(isHex);
      return this.token('NUMBER', startI, start);
    }
    digits(isDigit);
    let isDuration = false;
    for (;;) {
      const unit = DURATION_UNITS.find((u) => this.input.startsWith(u, this.i) && !isAlnum(this.input[this.i + u.length] ?? '') ) ??
        DURATION_UNITS.find((u) => this.input.startsWith(u, this.i) && isDigit(this.input[this.i + u.length] ?? ''));
      if (unit === undefined) break;
      isDuration = true;
      for (let k = 0; k < unit.length; k++) this.advance();
      if (!isDigit(this.peek())) break;
      digits(isDigit);
    }
    if (isDuration) return this.token('DURATION', startI, start);
    if (this.peek() === '.') {
      this.advance();
      digits(isDigit);
    }
    if ((this.peek() === 'e' || this.peek() === 'E') && (isDigit(this.peek(1)) || ((this.peek(1) === '+' || this.peek(1) === '-') && isDigit(this.peek(2))))) {
      this.advance();
      if (this.peek() === '+' || this.peek() === '-') this.advance();
      digits(isDigit);
    }
    if (isAlnum(this.peek())) {
      this.advance();
      return this.error(`bad number or duration syntax: ${JSON.stringify(this.input.slice(startI, this.i))}`, start);
    }
    return this.token('NUMBER', startI, start);
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
  const json = JSON.stringify(c);
  return `'${json.slice(1, -1)}'`;
}

/** goRuneU renders a character as Go's %#U does: U+0071 'q'. */
function goRuneU(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}
