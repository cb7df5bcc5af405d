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

/** formatFloat is Go's strconv.FormatFloat(x, fmt, prec, 64) for fmt 'e', 'E', 'f', 'g', 'G' (prec -1: shortest). */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let out: string;
  if (fmt === 'f') {
    if (prec < 0) {
      const d = decimal(ax, -1);
      out = fixedForm(d, Math.max(d.d.length - d.dp, 0));
    } else {
      out = ax.toFixed(Math.min(prec, 100)) + '0'.repeat(Math.max(prec - 100, 0));
    }
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

/** Decimal is x as significant digits without trailing zeros and the decimal point position (Go's decimal). */
interface Decimal {
  d: string;
  dp: number;
}

/** decimal returns x >= 0 rounded to n significant digits (shortest round-trip digits when n < 0). */
function decimal(x: number, n: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const s = n < 0 ? x.toExponential() : x.toExponential(Math.min(Math.max(n - 1, 0), 100));
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
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
  return ' '.repeat(w - len) + s;
}

function badVerb(verb: string, v: unknown): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${formatValue(v, 'v', NO_FLAGS)})`;
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
      return pad(String.fromCodePoint(Number(n)), f);
    case 'q':
      return pad(quoteRune(Number(n)), f);
    case 'U': {
      let s = 'U+' + a.toString(16).toUpperCase().padStart(4, '0');
      if (f.sharp) s += ` '${String.fromCodePoint(Number(n))}'`;
      return pad(s, f);
    }
    default:
      return badVerb(verb, n);
  }
  if (f.prec !== undefined) body = body.padStart(f.prec, '0');
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return pad(sign + body, f, f.prec === undefined);
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
    default:
      return badVerb(verb, x);
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
      return badVerb(verb, s);
  }
}

/** formatValue formats one operand for a verb as fmt does (verb 'v' for Sprint). */
export function formatValue(v: unknown, verb: string, f: Flags = NO_FLAGS): string {
  if (v === null || v === undefined) {
    if (verb === 'v') return pad('<nil>', f);
    return badVerb(verb, v);
  }
  switch (typeof v) {
    case 'bigint':
      return fmtInteger(v, verb, f);
    case 'number':
      return fmtFloatVerb(v, verb, f);
    case 'string':
      return fmtString(v, verb, f);
    case 'boolean':
      if (verb === 'v' || verb === 't') return pad(String(v), f);
      return badVerb(verb, v);
    case 'function':
      return verb === 'v' || verb === 'p' ? pad('0x0', f) : badVerb(verb, v);
    default:
      break;
  }
  if (v instanceof Date) return pad(v.toISOString(), f);
  if (Array.isArray(v)) {
    if (verb === 's' && v.every((x) => typeof x === 'number' && false)) return '';
    return pad(`[${v.map((x) => formatValue(x, verb, { ...f, width: undefined })).join(' ')}]`, f);
  }
  if (typeof (v as { goString?: unknown }).goString === 'function') {
    return fmtString((v as { goString: () => string }).goString(), verb === 'v' ? 's' : verb, f);
  }
  const inner = { ...f, width: undefined };
  const parts = mapEntries(v).map(([k, x]) => `${formatValue(k, verb, inner)}:${formatValue(x, verb, inner)}`);
  return pad(`map[${parts.join(' ')}]`, f);
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
