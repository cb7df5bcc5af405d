// lex.ts splits a Go text/template source into items, as Go's
// text/template/parse lexer does: text between actions, and inside `{{ }}`
// identifiers, fields, variables, literals, keywords and punctuation.
// Trim markers (`{{- ` and ` -}}`) remove the white space beside an action.

/** ItemType is the kind of a lexed item. */
export type ItemType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'space'
  | 'keyword'
  | 'comment'
  | 'eof'
  | 'error';

/** Item is one lexed token with its byte offset and line. */
export interface Item {
  type: ItemType;
  val: string;
  pos: number;
  line: number;
}

/** KEYWORDS are the words the lexer reports as keywords. */
export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

const LEFT = '{{';
const RIGHT = '}}';
const TRIM = ' -';

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlphaNumeric(c: string): boolean {
  return c === '_' || /[\p{L}\p{Nd}]/u.test(c);
}

/** lex returns every item of the source; the last is `eof` or `error`. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;
  let insideAction = false;

  const emit = (type: ItemType, val = input.slice(start, pos)): void => {
    items.push({ type, val, pos: start, line: startLine });
    start = pos;
    startLine = line;
  };
  const advance = (n: number): void => {
    for (let i = 0; i < n; i++) {
      if (input[pos] === '\n') line++;
      pos++;
    }
  };
  const ignore = (): void => {
    start = pos;
    startLine = line;
  };
  const fail = (msg: string): Item[] => {
    items.push({ type: 'error', val: msg, pos: start, line: startLine });
    return items;
  };

  for (;;) {
    if (!insideAction) {
      const i = input.indexOf(LEFT, pos);
      if (i < 0) {
        advance(input.length - pos);
        if (pos > start) emit('text');
        emit('eof', '');
        return items;
      }
      advance(i - pos);
      // Trim the text before a `{{- ` action.
      const trimLeft = input.startsWith(LEFT + '-', i) && isSpace(input[i + 3] ?? '');
      let textEnd = pos;
      if (trimLeft) while (textEnd > start && isSpace(input[textEnd - 1]!)) textEnd--;
      if (textEnd > start) {
        items.push({ type: 'text', val: input.slice(start, textEnd), pos: start, line: startLine });
      }
      start = pos;
      startLine = line;
      advance(LEFT.length);
      if (trimLeft) advance(2);
      // A comment is a whole action.
      if (input.startsWith('/*', pos)) {
        const end = input.indexOf('*/', pos);
        if (end < 0) return fail('unclosed comment');
        advance(end + 2 - pos);
        const trimRight = input.startsWith(TRIM + RIGHT, pos);
        if (trimRight) advance(2);
        if (!input.startsWith(RIGHT, pos)) return fail('comment ends before closing delimiter');
        advance(RIGHT.length);
        ignore();
        if (trimRight) {
          while (pos < input.length && isSpace(input[pos]!)) advance(1);
          ignore();
        }
        continue;
      }
      emit('leftDelim', LEFT);
      insideAction = true;
      parenDepth = 0;
      continue;
    }

    // Inside an action.
    const trimRight = input.startsWith(TRIM + RIGHT, pos);
    if (input.startsWith(RIGHT, pos) || trimRight) {
      if (parenDepth > 0) return fail('unclosed left paren');
      if (trimRight) {
        advance(2);
        ignore();
      }
      advance(RIGHT.length);
      emit('rightDelim', RIGHT);
      if (trimRight) {
        while (pos < input.length && isSpace(input[pos]!)) advance(1);
        ignore();
      }
      insideAction = false;
      continue;
    }
    if (pos >= input.length) return fail('unclosed action');
    const c = input[pos]!;
    if (c === '\n' || c === '\r') {
      // Newlines are allowed inside actions since Go 1.16 (as space).
    }
    if (isSpace(c)) {
      while (pos < input.length && isSpace(input[pos]!) && !input.startsWith(TRIM + RIGHT, pos)) advance(1);
      emit('space');
      continue;
    }
    if (c === '=') {
      advance(1);
      emit('assign');
      continue;
    }
    if (c === ':') {
      if (input[pos + 1] !== '=') return fail('expected :=');
      advance(2);
      emit('declare');
      continue;
    }
    if (c === '|') {
      advance(1);
      emit('pipe');
      continue;
    }
    if (c === '"') {
      advance(1);
      for (;;) {
        const d = input[pos];
        if (d === undefined || d === '\n') return fail('unterminated quoted string');
        if (d === '\\') {
          advance(1);
          if (input[pos] === undefined || input[pos] === '\n') return fail('unterminated quoted string');
        } else if (d === '"') break;
        advance(1);
      }
      advance(1);
      emit('string');
      continue;
    }
    if (c === '`') {
      const end = input.indexOf('`', pos + 1);
      if (end < 0) return fail('unterminated raw quoted string');
      advance(end + 1 - pos);
      emit('rawString');
      continue;
    }
    if (c === "'") {
      advance(1);
      for (;;) {
        const d = input[pos];
        if (d === undefined || d === '\n') return fail('unterminated character constant');
        if (d === '\\') {
          advance(1);
          if (input[pos] === undefined || input[pos] === '\n') return fail('unterminated character constant');
        } else if (d === "'") break;
        advance(1);
      }
      advance(1);
      emit('char');
      continue;
    }
    if (c === '$') {
      advance(1);
      while (pos < input.length && isAlphaNumeric(input[pos]!)) advance(1);
      if (!atTerminator()) return fail(badCharacter(input[pos]!));
      emit('variable');
      continue;
    }
    if (c === '.') {
      const n = input[pos + 1] ?? '';
      if (n >= '0' && n <= '9') {
        if (!lexNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
        continue;
      }
      advance(1);
      if (pos < input.length && isAlphaNumeric(input[pos]!)) {
        while (pos < input.length && isAlphaNumeric(input[pos]!)) advance(1);
        if (!atTerminator()) return fail(badCharacter(input[pos]!));
        emit('field');
      } else {
        emit('dot');
      }
      continue;
    }
    if (c === '+' || c === '-' || (c >= '0' && c <= '9')) {
      if (!lexNumber()) return fail(`bad number syntax: "${input.slice(start, pos)}"`);
      continue;
    }
    if (isAlphaNumeric(c)) {
      while (pos < input.length && isAlphaNumeric(input[pos]!)) advance(1);
      const word = input.slice(start, pos);
      if (!atTerminator()) return fail(badCharacter(input[pos]!));
      if (word === 'true' || word === 'false') emit('bool');
      else if (word === 'nil') emit('nil');
      else if (KEYWORDS.has(word)) emit('keyword');
      else emit('identifier');
      continue;
    }
    if (c === '(') {
      advance(1);
      parenDepth++;
      emit('leftParen');
      continue;
    }
    if (c === ')') {
      advance(1);
      parenDepth--;
      if (parenDepth < 0) return fail('unexpected right paren');
      emit('rightParen');
      continue;
    }
    if (c === ',') {
      advance(1);
      emit('comma');
      continue;
    }
    return fail(`unrecognized character in action: ${goQuoteRune(c)}`);
  }

  /** atTerminator tells whether the character at pos may end a word (Go's lexer.atTerminator). */
  function atTerminator(): boolean {
    const next = input[pos] ?? '';
    return next === '' || isSpace(next) || '.,|:)('.includes(next) || input.startsWith(RIGHT, pos);
  }

  function lexNumber(): boolean {
    // Optional sign, then digits in any of Go's bases, a fraction and an exponent.
    if (input[pos] === '+' || input[pos] === '-') advance(1);
    let digits = '0123456789_';
    if (input[pos] === '0' && /[xXoObB]/.test(input[pos + 1] ?? '')) {
      const b = input[pos + 1]!.toLowerCase();
      advance(2);
      digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
    }
    const run = (set: string): void => {
      while (pos < input.length && set.includes(input[pos]!)) advance(1);
    };
    run(digits);
    if (input[pos] === '.') {
      advance(1);
      run(digits);
    }
    if (digits.length === 11 && /[eE]/.test(input[pos] ?? '')) {
      advance(1);
      if (input[pos] === '+' || input[pos] === '-') advance(1);
      run('0123456789_');
    }
    if (digits.length === 23 && /[pP]/.test(input[pos] ?? '')) {
      advance(1);
      if (input[pos] === '+' || input[pos] === '-') advance(1);
      run('0123456789_');
    }
    if (input[pos] === 'i') advance(1);
    if (pos < input.length && isAlphaNumeric(input[pos]!)) {
      advance(1);
      return false;
    }
    emit('number');
    return true;
  }
}

/** badCharacter is Go's lexer error for a character that cannot follow a word (%#U). */
function badCharacter(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const u = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return cp >= 0x20 && cp !== 0x7f ? `bad character ${u} '${c}'` : `bad character ${u}`;
}

/** goQuoteRune renders one character as Go's %q of a rune. */
export function goQuoteRune(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '\\') return "'\\\\'";
  if (c === '\n') return "'\\n'";
  if (c === '\t') return "'\\t'";
  if (c === '\r') return "'\\r'";
  if (c === '') return "'\\x00'";
  return `'${c}'`;
}
