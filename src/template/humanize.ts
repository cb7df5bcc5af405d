// humanize.ts is the one copy of prometheus/common's template helpers that
// both the ruler's (Prometheus) and the alertmanager's function maps carry:
// ConvertToFloat, the humanize family, Time.String() of a UTC time, and Go's
// regexp ReplaceAllString with its $1 / ${name} replacement syntax.

import { sprintf } from '../compat/gofmt.js';
import { GoDuration } from '../compat/gotime.js';
import { compileRE2, re2Source } from '../compat/re2.js';

/** formatG is Go's fmt %.4g, as Prometheus's humanize functions print. */
export function formatG(v: number): string {
  return sprintf('%.4g', [v]);
}

/** convertToFloat is prometheus/common's ConvertToFloat over the values templates see. */
export function convertToFloat(i: unknown): number {
  if (typeof i === 'number') return i;
  if (i instanceof GoDuration) return i.Seconds();
  if (typeof i === 'bigint') return Number(i);
  if (typeof i === 'string') {
    const s = i.trim();
    if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(s)) return NaN;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && !/^0[xX][0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(i)}: invalid syntax`);
    return Number(s);
  }
  throw new Error(`can't convert ${goTypeName(i)} to float`);
}

function goTypeName(i: unknown): string {
  if (i === null || i === undefined) return '<nil>';
  if (typeof i === 'boolean') return 'bool';
  if (Array.isArray(i)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** goTimeString is Go's Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeString(seconds: number): string {
  const ns = BigInt(Math.trunc(seconds * 1e9));
  const ms = Number(ns / 1_000_000n);
  let frac = Number(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  let out = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  if (frac !== 0) {
    let digits = String(frac).padStart(9, '0');
    digits = digits.replace(/0+$/, '');
    out += '.' + digits;
    frac = 0;
  }
  return `${out} +0000 UTC`;
}

export function floatToTimeSeconds(v: number): number {
  if (Number.isNaN(v) || !Number.isFinite(v)) throw new Error('value is NaN or Inf');
  if (Math.abs(v * 1e9) > 9.223372036854776e18) throw new Error(`${v} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  return v;
}

/** humanize is Prometheus's humanize: SI prefixes, 4 significant digits. */
export function humanize(i: unknown): string {
  let v = convertToFloat(i);
  if (v === 0 || !Number.isFinite(v)) return formatG(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return formatG(v) + prefix;
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return formatG(v) + prefix;
}

/** humanize1024 is Prometheus's humanize1024: binary prefixes. */
export function humanize1024(i: unknown): string {
  let v = convertToFloat(i);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatG(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return formatG(v) + prefix;
}

/** humanizeDuration is prometheus/common's HumanizeDuration. */
export function humanizeDuration(i: unknown): string {
  let v = convertToFloat(i);
  if (!Number.isFinite(v)) return formatG(v);
  if (v === 0) return `${formatG(v)}s`;
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatG(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG(v)}${prefix}s`;
}

/** humanizeTimestamp is prometheus/common's HumanizeTimestamp. */
export function humanizeTimestamp(i: unknown): string {
  const v = convertToFloat(i);
  if (!Number.isFinite(v)) return formatG(v);
  return goTimeString(floatToTimeSeconds(v));
}

/** goRegexp compiles an unanchored Go (RE2) pattern, throwing Go's panic text when it cannot. */
export function goRegexp(pattern: string, global: boolean): RegExp {
  if (compileRE2(pattern) === undefined) throw new Error(`regexp: Compile(${JSON.stringify(pattern)}): error parsing regexp`);
  const src = re2Source(pattern);
  try {
    return new RegExp(src, global ? 'gu' : 'u');
  } catch {
    return new RegExp(src, global ? 'g' : '');
  }
}

/** expandGoTemplate expands Go's replacement syntax ($1, ${1}, $name, $$) for one match. */
function expandGoTemplate(repl: string, subs: Array<string | undefined>, groups: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i] as string;
    if (c !== '$') {
      out += c;
      continue;
    }
    if (repl[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (repl[i + 1] === '{') {
      const close = repl.indexOf('}', i + 2);
      const inner = close < 0 ? '' : repl.slice(i + 2, close);
      if (/^\w+$/.test(inner)) {
        name = inner;
        end = close;
      }
    } else {
      const m = /^\w+/.exec(repl.slice(i + 1));
      if (m !== null) {
        name = m[0];
        end = i + m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    out += /^\d+$/.test(name) ? (subs[Number(name)] ?? '') : (groups[name] ?? '');
    i = end;
  }
  return out;
}

/** reReplaceAll replaces every match of pattern in text with repl (Go's Regexp.ReplaceAllString). */
export function reReplaceAll(pattern: string, repl: string, text: string): string {
  const re = goRegexp(pattern, true);
  return text.replace(re, (...args: unknown[]) => {
    const hasGroups = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== undefined;
    const groups = (hasGroups ? args[args.length - 1] : {}) as Record<string, string | undefined>;
    const subs = args.slice(0, hasGroups ? args.length - 3 : args.length - 2) as Array<string | undefined>;
    return expandGoTemplate(repl, subs, groups);
  });
}

