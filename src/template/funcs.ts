// funcs.ts holds text/template's builtin functions with Go's semantics and
// error texts: and/or (short-circuit), not, len, index, slice, print,
// printf, println, html, js, urlquery, eq/ne/lt/le/gt/ge, call.

import { formatValue, goTypeName, sprint, sprintf, sprintln } from '../compat/gofmt.js';
import { GO_STRUCT } from './values.js';

/** TemplateFunc is a function callable from a template. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TemplateFunc = (...args: any[]) => unknown;

/** FuncMap maps function names to functions, as Go's template.FuncMap. */
export type FuncMap = Record<string, TemplateFunc>;

/** SafeHtml is trusted HTML that html templates print without escaping (html/template.HTML). */
export class SafeHtml {
  constructor(readonly value: string) {}
  goString(): string {
    return this.value;
  }
}

/** isTrue is Go's template truth: non-zero, non-empty, non-nil. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'function':
      return true;
    default:
      break;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof SafeHtml) return v.value.length > 0;
  if ((v as { [GO_STRUCT]?: string })[GO_STRUCT] !== undefined) return true;
  return Object.keys(v).length > 0;
}

/** htmlEscape is Go's template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => HTML_ESCAPES[c]!);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' };

/** jsEscape is Go's template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case "'": out += "\\'"; break;
      case '"': out += '\\"'; break;
      case '<': out += '\\u003C'; break;
      case '>': out += '\\u003E'; break;
      case '&': out += '\\u0026'; break;
      case '=': out += '\\u003D'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default:
        if (cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
        else out += ch;
    }
  }
  return out;
}

/** queryEscape is Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** evalArgs is text/template's evalArgs: a lone string as is, otherwise fmt.Sprint. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

type Kind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: unknown): Kind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    default:
      return 'invalid';
  }
}

function isNil(v: unknown): boolean {
  return v === null || v === undefined;
}

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (!isNil(arg1) && !isNil(arg)) throw new Error(`incompatible types for comparison: ${goTypeName(arg1)} and ${goTypeName(arg)}`);
    } else if (k1 !== 'invalid') {
      truth = arg1 === arg;
    } else {
      if (isNil(arg1) || isNil(arg)) truth = isNil(arg) === isNil(arg1);
      else if (Array.isArray(arg1) || typeof arg1 === 'object' || typeof arg1 === 'function') {
        throw new Error(`non-comparable type ${formatValue(arg1, 'v')}: ${goTypeName(arg1)}`);
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === 'invalid' || k2 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error(`incompatible types for comparison: ${goTypeName(arg1)} and ${goTypeName(arg2)}`);
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  return (arg1 as string | number | bigint) < (arg2 as string | number | bigint);
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

function indexArg(v: unknown, cap: number): number {
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(cap)) throw new Error(`index out of range: ${v}`);
    return Number(v);
  }
  if (isNil(v)) throw new Error('cannot index slice/array with nil');
  throw new Error(`cannot index slice/array with type ${goTypeName(v)}`);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let v = item;
  if (isNil(v)) throw new Error('index of untyped nil');
  for (const ix of indexes) {
    if (isNil(v)) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      const len = Array.isArray(v) ? v.length : Buffer.byteLength(v);
      const i = indexArg(ix, len);
      if (i === len) throw new Error(`index out of range: ${i}`);
      v = Array.isArray(v) ? v[i] : BigInt(Buffer.from(v)[i]!);
    } else if (v instanceof Map) {
      v = v.has(ix) ? v.get(ix) : null;
    } else if (typeof v === 'object') {
      if (typeof ix !== 'string') throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      v = Object.prototype.hasOwnProperty.call(v, ix) ? (v as Record<string, unknown>)[ix] : null;
    } else {
      throw new Error(`can't index item of type ${goTypeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    const buf = Buffer.from(item);
    const idx = [0, buf.length];
    indexes.forEach((x, i) => (idx[i] = indexArg(x, buf.length)));
    if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
    return buf.subarray(idx[0], idx[1]).toString('utf8');
  }
  if (Array.isArray(item)) {
    const idx = [0, item.length, item.length];
    indexes.forEach((x, i) => (idx[i] = indexArg(x, item.length)));
    if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
    if (indexes.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
    return item.slice(idx[0], idx[1]);
  }
  throw new Error(`can't slice item of type ${goTypeName(item)}`);
}

function length(item: unknown): bigint {
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (isNil(item)) throw new Error('len of nil pointer');
  if (typeof item === 'string') return BigInt(Buffer.byteLength(item));
  if (Array.isArray(item)) return BigInt(item.length);
  if (item instanceof Map) return BigInt(item.size);
  if (typeof item === 'object' && item !== null && (item as { [GO_STRUCT]?: string })[GO_STRUCT] === undefined) return BigInt(Object.keys(item).length);
  throw new Error(`len of type ${goTypeName(item)}`);
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (isNil(fn)) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
  return (fn as TemplateFunc)(...args);
}

/** BUILTINS are text/template's predefined functions (and/or are in lazyBuiltins). */
export const BUILTINS: FuncMap = {
  not: (a: unknown) => !isTrue(a),
  len: length,
  index,
  slice,
  print: (...a: unknown[]) => sprint(a),
  printf: (format: unknown, ...a: unknown[]) => sprintf(String(format), a),
  println: (...a: unknown[]) => sprintln(a),
  html: (...a: unknown[]) => htmlEscape(evalArgs(a)),
  js: (...a: unknown[]) => jsEscape(evalArgs(a)),
  urlquery: (...a: unknown[]) => queryEscape(evalArgs(a)),
  eq,
  ne: (a: unknown, b: unknown) => !eq(a, b),
  lt,
  le,
  gt: (a: unknown, b: unknown) => !le(a, b),
  ge: (a: unknown, b: unknown) => !lt(a, b),
  call,
  and: () => undefined,
  or: () => undefined,
};

/** lazyBuiltins evaluate their arguments only as far as needed (Go 1.18+ and/or). */
export const lazyBuiltins: Record<string, (args: Array<() => unknown>) => unknown> = {
  and: (args) => {
    if (args.length === 0) throw new Error('wrong number of args for and: want at least 1 got 0');
    let v: unknown;
    for (const a of args) {
      v = a();
      if (!isTrue(v)) return v;
    }
    return v;
  },
  or: (args) => {
    if (args.length === 0) throw new Error('wrong number of args for or: want at least 1 got 0');
    let v: unknown;
    for (const a of args) {
      v = a();
      if (isTrue(v)) return v;
    }
    return v;
  },
};
