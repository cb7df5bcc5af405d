// params.ts parses the Prometheus API's common parameters: times (unix
// seconds with fractions, or RFC3339), `limit`, and `match[]` selectors, with
// Prometheus's error texts (all bad_data).

import { badData } from '../errors.js';
import { parseMetricSelector } from '../promql/parser/selector.js';
import { matchesEmpty } from '../promql/parser/selector.js';
import { ParseError } from '../promql/parser/errors.js';
import type { LabelMatcher } from '../model/matchers.js';

/** MIN_TIME_MS and MAX_TIME_MS stand for "no bound" (Prometheus's MinTime/MaxTime, clamped to safe integers). */
export const MIN_TIME_MS = Number.MIN_SAFE_INTEGER;
export const MAX_TIME_MS = Number.MAX_SAFE_INTEGER;

/** Prometheus's MinTime/MaxTime as RFC3339, which clients echo back. */
const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** parseTime returns unix milliseconds, as Prometheus's parseTime (float seconds rounded to ms, or RFC3339). */
export function parseTime(s: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    const t = Number(s);
    const whole = Math.trunc(t);
    const frac = Math.round((t - whole) * 1000) / 1000;
    return whole * 1000 + Math.round(frac * 1000);
  }
  if (RFC3339.test(s)) {
    const ms = Date.parse(s);
    if (!Number.isNaN(ms)) return ms;
  }
  if (s === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  throw new Error(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

/** parseTimeParam reads a time parameter, or returns the default when absent. */
export function parseTimeParam(value: string | undefined, name: string, def: number): number {
  if (value === undefined || value === '') return def;
  try {
    return parseTime(value);
  } catch (err) {
    throw badData(`invalid parameter ${JSON.stringify(name)}: Invalid time value for '${name}': ${(err as Error).message}`);
  }
}

/** parseLimitParam reads `limit`: 0 (or absent) means no limit. */
export function parseLimitParam(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^[+-]?\d+$/.test(value)) throw badData(`invalid parameter "limit": strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = Number(value);
  if (n < 0) throw badData('invalid parameter "limit": limit must be non-negative');
  return n;
}

/** parseMatchersParam parses every match[] value; each set needs a matcher that does not match "". */
export function parseMatchersParam(values: string[]): LabelMatcher[][] {
  const sets: LabelMatcher[][] = [];
  for (const v of values) {
    try {
      sets.push(parseMetricSelector(v));
    } catch (err) {
      if (err instanceof ParseError) throw badData(err.message);
      throw err;
    }
  }
  for (const set of sets) {
    if (!set.some((m) => !matchesEmpty(m))) throw badData('match[] must contain at least one non-empty matcher');
  }
  return sets;
}

/** unescapeLabelName decodes Prometheus's `U__` value-encoding escaping of label names in URL paths. */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const body = name.slice(3);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (body[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const close = body.indexOf('_', i + 1);
    const hex = close < 0 ? '' : body.slice(i + 1, close);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return name;
    out += String.fromCodePoint(parseInt(hex, 16));
    i = close;
  }
  return out;
}
