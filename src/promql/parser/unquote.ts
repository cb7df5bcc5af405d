// unquote.ts turns a PromQL string token into its value: double- and
// single-quoted strings take Go escapes (\n, \x41, \101, \u00e9,
// \U0001F600, \" or \' for the string's own quote); back-quoted strings are
// raw. The lexer has already rejected malformed escapes. goStrconvQuote is
// the way back, as Go's strconv.Quote (and %q) writes strings.

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** unquoteString returns the value of a STRING token's text (quotes included). */
export function unquoteString(text: string): string {
  if (text[0] === '`' || !text.includes('\\')) return text.slice(1, -1);
  return Buffer.from(unquoteStringBytes(text)).toString('utf8');
}

/**
 * unquoteStringBytes returns the bytes of a STRING token's value. Byte
 * escapes (\x, octal) may form multi-byte UTF-8 sequences, or bytes that are
 * not UTF-8 at all (Go keeps them; unquoteString turns them into U+FFFD).
 */
export function unquoteStringBytes(text: string): Uint8Array {
  const quote = text[0];
  const body = text.slice(1, -1);
  if (quote === '`' || !body.includes('\\')) return Buffer.from(body, 'utf8');
  const bytes: number[] = [];
  const pushText = (s: string): void => {
    for (const b of Buffer.from(s, 'utf8')) bytes.push(b);
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = body.codePointAt(i)!;
      const ch = String.fromCodePoint(code);
      pushText(ch);
      i += ch.length - 1;
      continue;
    }
    const e = body[++i]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      pushText(simple);
    } else if (e === 'x') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      pushText(String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + n), 16)));
      i += n;
    } else {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    }
  }
  return Uint8Array.from(bytes);
}

/** isValidUtf8 reports whether bytes are well-formed UTF-8 (as Go's utf8.Valid). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** utf8SequenceLength is the length of the valid UTF-8 sequence at bytes[i], or 0 when there is none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 === 0xe0) lo = 0xa0;
    if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > bytes.length) return 0;
  const b1 = bytes[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return n;
}

/**
 * goQuoteBytes quotes a byte string as Go's strconv.Quote (and %q) does:
 * like goStrconvQuote, with each byte that is not part of valid UTF-8
 * written as \xNN.
 */
export function goQuoteBytes(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    out += goStrconvQuote(Buffer.from(bytes.subarray(i, i + n)).toString('utf8')).slice(1, -1);
    i += n;
  }
  return `${out}"`;
}

/** goStrconvQuote quotes a string as Go's strconv.Quote does. */
export function goStrconvQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
      default:
        break;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0x2028 && c <= 0x2029) || (c >= 0xd800 && c < 0xe000)) {
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}
