// gofmt.ts renders values as Go's fmt and strconv packages do, for output that
// must be byte-identical with Go programs (templates, Alertmanager payloads).
// Go values are modelled as: `bigint` int, `number` float64, `string`,
// `boolean`, `null`/`undefined` nil, arrays []interface {}, Maps and plain
// objects map[string]interface {}.

/** goTypeName is the Go type fmt names in `%!verb(type=value)`. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  switch (typeof v) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'function':
      return 'func()';
    default:
      break;
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  return 'map[string]interface {}';
}

/** formatFloatF is Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent (the fast path of formatFloat). */
export function formatFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) return String(x);
  const [, sign, d0, rest = '', expStr] = m;
  const exp = Number(expStr);
  const digits = d0 + rest;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** formatFloatE is Go's strconv.FormatFloat(v, 'e', -1, 64): shortest digits, exponent of at least two digits (the fast path of formatFloat). */
export function formatFloatE(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0e+00' : '0e+00';
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(v.toExponential());
  if (m === null) return String(v);
  return `${m[1]}e${m[2]}${m[3]!.padStart(2, '0')}`;
}

/** formatFloat is Go's strconv.FormatFloat(x, fmt, prec, 64) for fmt 'e', 'E', 'f', 'g', 'G', 'x', 'X' (prec -1: shortest). */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G' | 'x' | 'X', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let out: string;
  if (fmt === 'x' || fmt === 'X') {
    out = hexFloat(ax, prec);
    if (fmt === 'X') out = out.toUpperCase();
  } else if (fmt === 'f') {
    const d = prec < 0 ? decimal(ax, -1) : roundedFixed(ax, prec);
    out = fixedForm(d, prec < 0 ? Math.max(d.d.length - d.dp, 0) : prec);
  } else if (fmt === 'e' || fmt === 'E') {
    const d = decimal(ax, prec < 0 ? -1 : prec + 1);
    out = expForm(d, prec < 0 ? Math.max(d.d.length - 1, 0) : prec);
    if (fmt === 'E') out = out.toUpperCase();
  } else {
    const shortest = prec < 0;
    let p = prec === 0 ? 1 : prec;
    const d = decimal(ax, shortest ? -1 : p);
    const nd = d.d.length;
    let eprec = p;
    if (shortest) {
      p = nd;
      eprec = 6;
    } else if (eprec > nd && nd >= d.dp) {
      eprec = nd;
    }
    const exp = d.dp - 1;
    if (nd > 0 && (exp < -4 || exp >= eprec)) {
      out = expForm(d, Math.min(p, nd) - 1);
    } else {
      if (p > d.dp) p = nd;
      out = fixedForm(d, Math.max(p - d.dp, 0));
    }
    if (fmt === 'G') out = out.toUpperCase();
  }
  return neg ? `-${out}` : out;
}

/** hexFloat is strconv's 'x' format of x >= 0: 0x1.8p+01 (prec -1: as many hex digits as needed). */
function hexFloat(x: number, prec: number): string {
  if (x === 0) return '0x0' + (prec > 0 ? '.' + '0'.repeat(prec) : '') + 'p+00';
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) {
    // Subnormal: normalise.
    exp = 1;
    while ((mant & (1n << 52n)) === 0n) {
      mant <<= 1n;
      exp--;
    }
    mant &= (1n << 52n) - 1n;
  }
  exp -= 1023;
  let frac = mant.toString(16).padStart(13, '0');
  let lead = 1n;
  if (prec >= 0 && prec < 13) {
    // Round the 52-bit fraction to prec hex digits, half to even.
    const shift = BigInt((13 - prec) * 4);
    let m = (1n << 52n) | mant;
    const rem = m & ((1n << shift) - 1n);
    m >>= shift;
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
    if (m >> BigInt(prec * 4) > 1n) {
      m >>= 1n;
      exp++;
    }
    lead = m >> BigInt(prec * 4);
    frac = prec === 0 ? '' : (m & ((1n << BigInt(prec * 4)) - 1n)).toString(16).padStart(prec, '0');
  } else {
    frac = frac.replace(/0+$/, '');
    if (prec > 13) frac = frac.padEnd(prec, '0');
  }
  const ae = Math.abs(exp);
  return `0x${lead.toString(16)}${frac.length > 0 ? '.' + frac : ''}p${exp < 0 ? '-' : '+'}${ae < 10 ? '0' + ae : ae}`;
}

/** binaryFloat is strconv's 'b' format: the mantissa and a power-of-two exponent (4503599627370496p-52). */
function binaryFloat(x: number): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const neg = (bits >> 63n) === 1n;
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  exp += -1023 - 52;
  return `${neg ? '-' : ''}${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

/** exactDecimal is the exact decimal expansion of x >= 0: its digits and decimal point position. */
function exactDecimal(x: number): Decimal {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2: number;
  if (biased === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  if (mant === 0n) return { d: '', dp: 0 };
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { d: trimmed, dp };
}

/** roundDecimal rounds d to n digits (n counted from the first digit), half to even as Go's decimal.Round. */
function roundDecimal(d: Decimal, n: number): Decimal {
  if (n < 0) return { d: '', dp: d.dp };
  if (n >= d.d.length) return d;
  const next = d.d.charCodeAt(n) - 48;
  let up = next > 5;
  if (next === 5) {
    const exactHalf = n + 1 === d.d.length;
    up = !exactHalf || (n > 0 && (d.d.charCodeAt(n - 1) - 48) % 2 === 1);
  }
  let digits = d.d.slice(0, n);
  let dp = d.dp;
  if (up) {
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === '9') i--;
    if (i < 0) {
      digits = '1';
      dp++;
    } else {
      digits = digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1);
    }
  }
  return { d: digits.replace(/0+$/, ''), dp };
}

/** roundedFixed rounds x >= 0 to frac digits after the point. */
function roundedFixed(x: number, frac: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const d = exactDecimal(x);
  return roundDecimal(d, d.dp + frac);
}

/** Decimal is x as significant digits without trailing zeros and the decimal point position (Go's decimal). */
interface Decimal {
  d: string;
  dp: number;
}

/** decimal returns x >= 0 rounded to n significant digits (shortest round-trip digits when n < 0). */
function decimal(x: number, n: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  if (n >= 0) return roundDecimal(exactDecimal(x), n);
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential())!;
  const d = (m[1]! + (m[2] ?? '')).replace(/0+$/, '');
  return { d, dp: Number(m[3]) + 1 };
}

function expForm(dec: Decimal, frac: number): string {
  const first = dec.d[0] ?? '0';
  let out = first;
  if (frac > 0) out += '.' + dec.d.slice(1, frac + 1).padEnd(frac, '0');
  const exp = dec.d.length === 0 ? 0 : dec.dp - 1;
  const ae = Math.abs(exp);
  return `${out}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' + ae : ae}`;
}

function fixedForm(dec: Decimal, frac: number): string {
  let out = dec.dp > 0 ? dec.d.slice(0, dec.dp).padEnd(dec.dp, '0') : '0';
  if (frac > 0) {
    out += '.';
    for (let i = 0; i < frac; i++) {
      const j = dec.dp + i;
      out += j >= 0 && j < dec.d.length ? dec.d[j] : '0';
    }
  }
  return out;
}

/** quote is Go's strconv.Quote. */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
      default:
        break;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if (isPrintable(cp)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

function isPrintable(cp: number): boolean {
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp === 0xad) return false;
  return !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(String.fromCodePoint(cp)) && !(cp > 0x20 && /\p{Zs}/u.test(String.fromCodePoint(cp)) && cp !== 0x20);
}

/** sortedKeys lists a Go map's keys in fmt's order (sorted). */
export function mapEntries(v: unknown): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = v instanceof Map ? [...(v as Map<unknown, unknown>).entries()] : Object.entries(v as object);
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Flags are a verb's fmt flags. */
interface Flags {
  sharpV?: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

const NO_FLAGS: Flags = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };

function pad(s: string, f: Flags, numeric = false): string {
  const w = f.width;
  const len = [...s].length;
  if (w === undefined || len >= w) return s;
  if (f.minus) return s + ' '.repeat(w - len);
  if (f.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(w - len) + s.slice(sign.length);
  }
  return (f.zero ? '0' : ' ').repeat(w - len) + s;
}

function badVerb(verb: string, v: unknown, f: Flags = NO_FLAGS): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatValue(v, 'v', f)})`;
}

function fmtInteger(n: bigint, verb: string, f: Flags): string {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let body: string;
  switch (verb) {
    case 'd':
    case 'v':
      body = a.toString(10);
      break;
    case 'x':
      body = a.toString(16);
      if (f.sharp) body = '0x' + body;
      break;
    case 'X':
      body = a.toString(16).toUpperCase();
      if (f.sharp) body = '0X' + body;
      break;
    case 'o':
      body = a.toString(8);
      if (f.sharp) body = '0' + body;
      break;
    case 'O':
      body = '0o' + a.toString(8);
      break;
    case 'b':
      body = a.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(validRune(n)), f);
    case 'q':
      return pad(quoteRune(validRune(n)), f);
    case 'U': {
      let s = 'U+' + a.toString(16).toUpperCase().padStart(4, '0');
      if (f.sharp) s += ` '${String.fromCodePoint(Number(n))}'`;
      return pad(s, f);
    }
    default:
      return badVerb(verb, n, f);
  }
  if (f.prec !== undefined) body = body.padStart(f.prec, '0');
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return pad(sign + body, f, f.prec === undefined);
}

/** validRune is n as a code point, or U+FFFD when it is not a valid one (as Go's utf8 encoding does). */
function validRune(n: bigint): number {
  if (n < 0n || n > 0x10ffffn || (n >= 0xd800n && n <= 0xdfffn)) return 0xfffd;
  return Number(n);
}

function quoteRune(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = quote(ch);
  return `'${q.slice(1, -1)}'`;
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  let s: string;
  switch (verb) {
    case 'v':
    case 'g':
      s = formatFloat(x, 'g', f.prec ?? -1);
      break;
    case 'G':
      s = formatFloat(x, 'G', f.prec ?? -1);
      break;
    case 'e':
    case 'E':
      s = formatFloat(x, verb, f.prec ?? 6);
      break;
    case 'f':
    case 'F':
      s = formatFloat(x, 'f', f.prec ?? 6);
      break;
    case 'x':
    case 'X':
      s = formatFloat(x, verb, f.prec ?? -1);
      break;
    case 'b':
      s = binaryFloat(x);
      break;
    default:
      return badVerb(verb, x, f);
  }
  if (f.sharp && (verb === 'v' || verb === 'g' || verb === 'G') && !s.includes('.') && !/[eE]|Inf|NaN/.test(s)) s += '.';
  let num = s.startsWith('-') || s.startsWith('+') ? s : '+' + s;
  if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad(num, { ...f, zero: false });
  }
  if (f.plus || num[0] !== '+') return pad(num, f, true);
  return pad(num.slice(1), f, true);
}

function fmtString(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
    case 's': {
      const t = f.prec !== undefined ? [...s].slice(0, f.prec).join('') : s;
      return pad(t, f);
    }
    case 'q':
      if (f.sharp && !s.includes('`') && !/[\x00-\x08\x0a-\x1f\x7f]/.test(s)) return pad('`' + s + '`', f);
      return pad(quote(f.prec !== undefined ? [...s].slice(0, f.prec).join('') : s), f);
    case 'x':
    case 'X': {
      const bytes = [...Buffer.from(s, 'utf8')].map((b) => b.toString(16).padStart(2, '0'));
      let out = f.space ? bytes.map((b) => (f.sharp ? '0x' + b : b)).join(' ') : (f.sharp ? '0x' : '') + bytes.join('');
      if (verb === 'X') out = out.toUpperCase();
      return pad(out, f);
    }
    default:
      return badVerb(verb, s, f);
  }
}

/** formatValue formats one operand for a verb as fmt does (verb 'v' for Sprint). */
export function formatValue(v: unknown, verb: string, flags: Flags = NO_FLAGS): string {
  let f = flags;
  if (verb === 'v' && (f.sharp || f.plus)) {
    // %#v is Go syntax (sharpV), %+v only adds struct field names (plusV).
    f = { ...f, sharpV: f.sharpV === true || f.sharp, sharp: false, plus: false };
  }
  if (v === null || v === undefined) {
    if (verb === 'v') return pad(f.sharpV === true ? 'interface {}(nil)' : '<nil>', f);
    return badVerb(verb, v, f);
  }
  switch (typeof v) {
    case 'bigint':
      return fmtInteger(v, verb, f);
    case 'number':
      return fmtFloatVerb(v, verb === 'v' && f.sharpV === true ? 'g' : verb, f);
    case 'string':
      if (verb === 'v' && f.sharpV === true) return pad(quote(v), f);
      return fmtString(v, verb, f);
    case 'boolean':
      if (verb === 'v' || verb === 't') return pad(String(v), f);
      return badVerb(verb, v, f);
    case 'function':
      return verb === 'v' || verb === 'p' ? pad('0x0', f) : badVerb(verb, v, f);
    default:
      break;
  }
  if (v instanceof Date) return pad(v.toISOString(), f);
  if (typeof (v as { goString?: unknown }).goString === 'function') {
    return fmtString((v as { goString: () => string }).goString(), verb === 'v' ? 's' : verb, f);
  }
  const inner = { ...f, width: undefined };
  // A nil element of a container prints as <nil> whatever the verb, unpadded.
  const elem = (x: unknown, vb: string, fl: Flags): string => (x === null || x === undefined ? (fl.sharpV === true ? 'interface {}(nil)' : '<nil>') : formatValue(x, vb, fl));
  if (Array.isArray(v)) {
    if (f.sharpV === true) return pad(`[]interface {}{${v.map((x) => elem(x, 'v', inner)).join(', ')}}`, f);
    return `[${v.map((x) => elem(x, verb, f)).join(' ')}]`;
  }
  if (f.sharpV === true) {
    const parts = mapEntries(v).map(([k, x]) => `${elem(k, 'v', inner)}:${elem(x, 'v', inner)}`);
    return pad(`map[string]interface {}{${parts.join(', ')}}`, f);
  }
  const parts = mapEntries(v).map(([k, x]) => `${elem(k, verb, f)}:${elem(x, verb, f)}`);
  return `map[${parts.join(' ')}]`;
}

/** sprint is Go's fmt.Sprint: operands joined, a space between two that are not strings. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a, 'v');
  });
  return out;
}

/** sprintln is Go's fmt.Sprintln: operands joined by spaces, then a newline. */
export function sprintln(args: unknown[]): string {
  return args.map((a) => formatValue(a, 'v')).join(' ') + '\n';
}

/** sprintf is Go's fmt.Sprintf over the value model above. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const f: Flags = { ...NO_FLAGS };
    for (; i < format.length; i++) {
      const fc = format[i];
      if (fc === '-') {
        f.minus = true;
        f.zero = false;
      } else if (fc === '+') f.plus = true;
      else if (fc === '#') f.sharp = true;
      else if (fc === ' ') f.space = true;
      else if (fc === '0') f.zero = !f.minus;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        if (typeof a === 'bigint') return Number(a);
        out += '%!(BADWIDTH)';
        return undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (m === null) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    f.width = num();
    if (f.width !== undefined && f.width < 0) {
      f.minus = true;
      f.width = -f.width;
    }
    if (format[i] === '.') {
      i++;
      f.prec = num() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    if (verb === 'T') {
      out += pad(goTypeName(a), f);
      continue;
    }
    if (verb === 'w') {
      out += formatValue(a, 'v', f);
      continue;
    }
    out += formatValue(a, verb, f);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatValue(a, 'v')}`)).join(', ') + ')';
  }
  return out;
}
