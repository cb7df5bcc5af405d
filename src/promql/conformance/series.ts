// series.ts parses the series descriptions of promqltest scripts (Prometheus's
// parser.ParseSeriesDesc), used by `load` blocks and by expected results:
//
//   metric{a="b", "utf8.name"="v"} 1 2 _ stale 0+10x5 5-1x3 _x2 Inf -Inf NaN
//   {a="b"} {{schema:0 sum:1 count:2}} {{...}}+{{...}}x3
//
// Expansion as in Prometheus: `a+bxN` and `a-bxN` are N+1 values starting at a,
// `axN` is a repeated N+1 times, `_xN` is N omitted values. Native histogram
// literals `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2]
// offset:1 n_buckets:[1] n_offset:0 custom_values:[1 2] counter_reset_hint:gauge}}`
// expand the same way: `{{a}}xN` repeats a, `{{a}}+{{b}}xN` / `{{a}}-{{b}}xN`
// add / subtract b N times (Prometheus's histogram Add / Sub).

import type { Labels } from '../engine/types.js';
import { unquoteString } from '../parser/unquote.js';
import { COUNTER_RESET, FloatHistogram, GAUGE_TYPE, NOT_COUNTER_RESET, UNKNOWN_COUNTER_RESET } from '../engine/float-histogram.js';

/** STALE_NAN_BITS is Prometheus's staleness marker (value.StaleNaN). */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;

/** SequenceValue is one expanded position of a series description. */
export type SequenceValue =
  | { kind: 'omitted' }
  | { kind: 'float'; value: number; stale?: boolean }
  | { kind: 'histogram'; text: string; h: FloatHistogram; hintSet: boolean };

/** SeriesDesc is a parsed series line. */
export interface SeriesDesc {
  labels: Labels;
  values: SequenceValue[];
}

/** SeriesParseError is a malformed series description. */
export class SeriesParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeriesParseError';
  }
}

const NUMBER = String.raw`(?:[+-]?(?:[iI]nf(?:inity)?|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))`;
const UNSIGNED = String.raw`(?:[iI]nf(?:inity)?|NaN|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`;
const ITEM = new RegExp(`^(${NUMBER}|stale)(?:([+-])(${UNSIGNED}))?(?:x(\\d+))?$`);
const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;

/** parseNumber reads a Go-style float (Inf, NaN, exponents). */
export function parseNumberText(s: string): number {
  const t = s.replace(/^\+/, '');
  if (/^-?[iI]nf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^-?NaN$/.test(t)) return NaN;
  const v = Number(t);
  if (Number.isNaN(v) || t === '') throw new SeriesParseError(`invalid number ${JSON.stringify(s)}`);
  return v;
}

/** skipSpaces returns the index of the first non-blank character at or after i. */
function skipSpaces(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** readQuoted reads a quoted string starting at s[i]; returns its value and the index after it. */
function readQuoted(s: string, i: number): [string, number] {
  const q = s[i]!;
  let j = i + 1;
  while (j < s.length && s[j] !== q) {
    if (s[j] === '\\' && q !== '`') j++;
    j++;
  }
  if (j >= s.length) throw new SeriesParseError(`unterminated string in ${JSON.stringify(s)}`);
  return [unquoteString(s.slice(i, j + 1)), j + 1];
}

function readName(s: string, i: number): [string, number] {
  if (s[i] === '"' || s[i] === "'" || s[i] === '`') return readQuoted(s, i);
  let j = i;
  if (j < s.length && NAME_START.test(s[j]!)) {
    j++;
    while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
  }
  if (j === i) throw new SeriesParseError(`expected a label name at ${JSON.stringify(s.slice(i))}`);
  return [s.slice(i, j), j];
}

/** parseLabelsPart reads `name{...}` / `{...}` / `name`; returns the labels and the index after them. */
export function parseLabelsPart(s: string): [Labels, number] {
  const labels: Labels = {};
  let i = skipSpaces(s, 0);
  if (s[i] !== '{') {
    const [name, j] = readName(s, i);
    labels.__name__ = name;
    i = j;
  }
  if (s[i] !== '{') return [sortLabels(labels), i];
  i++;
  for (;;) {
    i = skipSpaces(s, i);
    if (s[i] === '}') {
      i++;
      break;
    }
    const [name, j] = readName(s, i);
    i = skipSpaces(s, j);
    if (s[i] === ',' || s[i] === '}') {
      // A lone quoted name inside the braces is the metric name.
      labels.__name__ = name;
    } else {
      if (s[i] !== '=') throw new SeriesParseError(`expected "=" after label ${JSON.stringify(name)} in ${JSON.stringify(s)}`);
      i = skipSpaces(s, i + 1);
      if (s[i] !== '"' && s[i] !== "'" && s[i] !== '`') throw new SeriesParseError(`expected a quoted label value in ${JSON.stringify(s)}`);
      const [value, k] = readQuoted(s, i);
      labels[name] = value;
      i = skipSpaces(s, k);
    }
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] === '}') {
      i++;
      break;
    }
    throw new SeriesParseError(`unexpected ${JSON.stringify(s[i] ?? 'end of line')} in labels of ${JSON.stringify(s)}`);
  }
  return [sortLabels(labels), i];
}

/** sortLabels returns the labels with keys in byte order (engine Labels convention). */
export function sortLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) out[k] = labels[k]!;
  return out;
}

/** splitItems splits the values part on blanks, keeping `{{...}}` literals whole. */
export function splitItems(s: string): string[] {
  const items: string[] = [];
  let cur = '';
  let depth = 0;
  for (const c of s) {
    if (c === '{') depth++;
    else if (c === '}') depth--;
    if ((c === ' ' || c === '\t') && depth === 0) {
      if (cur !== '') items.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (depth !== 0) throw new SeriesParseError(`unbalanced braces in ${JSON.stringify(s)}`);
  if (cur !== '') items.push(cur);
  return items;
}

/** expandItem turns one item into its values. */
export function expandItem(item: string): SequenceValue[] {
  if (item === '_') return [{ kind: 'omitted' }];
  const blank = /^_x(\d+)$/.exec(item);
  if (blank !== null) return Array.from({ length: Number(blank[1]) }, () => ({ kind: 'omitted' as const }));
  if (item.startsWith('{{')) return expandHistogramItem(item);
  const m = ITEM.exec(item);
  if (m === null) throw new SeriesParseError(`invalid series value ${JSON.stringify(item)}`);
  const stale = m[1] === 'stale';
  const start = stale ? NaN : parseNumberText(m[1]!);
  if (m[4] === undefined) {
    if (m[2] !== undefined) throw new SeriesParseError(`missing repetition in ${JSON.stringify(item)}`);
    return [stale ? { kind: 'float', value: NaN, stale: true } : { kind: 'float', value: start }];
  }
  const n = Number(m[4]);
  const delta = m[2] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * parseNumberText(m[3]!);
  const out: SequenceValue[] = [];
  let v = start;
  for (let i = 0; i <= n; i++) {
    out.push(stale ? { kind: 'float', value: NaN, stale: true } : { kind: 'float', value: v });
    v += delta;
  }
  return out;
}

/** parseSeriesDesc parses one series line. */
export function parseSeriesDesc(line: string): SeriesDesc {
  const [labels, end] = parseLabelsPart(line);
  const values: SequenceValue[] = [];
  for (const item of splitItems(line.slice(end))) values.push(...expandItem(item));
  return { labels, values };
}

const HINTS: Record<string, number> = {
  unknown: UNKNOWN_COUNTER_RESET,
  reset: COUNTER_RESET,
  not_reset: NOT_COUNTER_RESET,
  gauge: GAUGE_TYPE,
};

/** parseHistogramLiteral parses one `{{...}}` literal; hintSet tells whether counter_reset_hint was given. */
export function parseHistogramLiteral(text: string): { h: FloatHistogram; hintSet: boolean } {
  if (!text.startsWith('{{') || !text.endsWith('}}')) throw new SeriesParseError(`invalid histogram ${JSON.stringify(text)}`);
  const body = text.slice(2, -2).trim();
  const fields = new Map<string, string>();
  const re = /([a-z_]+)\s*:\s*(\[[^\]]*\]|\S+)/gy;
  let at = 0;
  for (;;) {
    while (at < body.length && /\s/.test(body[at]!)) at++;
    if (at >= body.length) break;
    re.lastIndex = at;
    const m = re.exec(body);
    if (m === null) throw new SeriesParseError(`unexpected ${JSON.stringify(body.slice(at))} in histogram description, expected a histogram description key, e.g. buckets:[5 10 7]`);
    if (fields.has(m[1]!)) throw new SeriesParseError(`duplicate key "${m[1]}" in histogram`);
    fields.set(m[1]!, m[2]!);
    at = re.lastIndex;
  }
  const num = (k: string): number | undefined => {
    const v = fields.get(k);
    return v === undefined ? undefined : parseNumberText(v);
  };
  const int = (k: string): number | undefined => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw new SeriesParseError(`error parsing ${k} number: ${v}`);
    return Number(v);
  };
  const list = (k: string): number[] | undefined => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    if (!v.startsWith('[')) throw new SeriesParseError(`error parsing ${k} float array: ${v}`);
    return v
      .slice(1, -1)
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(parseNumberText);
  };
  for (const k of fields.keys()) {
    if (!['schema', 'sum', 'count', 'z_bucket', 'z_bucket_w', 'custom_values', 'buckets', 'offset', 'n_buckets', 'n_offset', 'counter_reset_hint'].includes(k)) {
      throw new SeriesParseError(`unknown histogram description key ${JSON.stringify(k)}`);
    }
  }
  let hint = UNKNOWN_COUNTER_RESET;
  const hintText = fields.get('counter_reset_hint');
  if (hintText !== undefined) {
    const v = HINTS[hintText];
    if (v === undefined) throw new SeriesParseError(`error parsing counter_reset_hint: unknown value ${hintText}`);
    hint = v;
  }
  const buckets = list('buckets') ?? [];
  const nBuckets = list('n_buckets') ?? [];
  const h = FloatHistogram.fromSpans({
    schema: int('schema') ?? 0,
    sum: num('sum') ?? 0,
    count: num('count') ?? 0,
    zeroCount: num('z_bucket') ?? 0,
    zeroThreshold: num('z_bucket_w') ?? 0,
    customValues: list('custom_values') ?? [],
    counterResetHint: hint,
    positiveSpans: buckets.length > 0 ? [{ offset: int('offset') ?? 0, length: buckets.length }] : [],
    positiveBuckets: buckets,
    negativeSpans: nBuckets.length > 0 ? [{ offset: int('n_offset') ?? 0, length: nBuckets.length }] : [],
    negativeBuckets: nBuckets,
  });
  return { h, hintSet: hintText !== undefined };
}

/** expandHistogramItem expands `{{a}}`, `{{a}}xN`, `{{a}}+{{b}}xN` and `{{a}}-{{b}}xN`. */
function expandHistogramItem(item: string): SequenceValue[] {
  const close = item.indexOf('}}');
  if (close < 0) throw new SeriesParseError(`invalid series value ${JSON.stringify(item)}`);
  const firstText = item.slice(0, close + 2);
  const first = parseHistogramLiteral(firstText);
  const rest = item.slice(close + 2);
  const value = (p: { h: FloatHistogram; hintSet: boolean }, text: string): SequenceValue => ({ kind: 'histogram', text, h: p.h, hintSet: p.hintSet });
  if (rest === '') return [value(first, firstText)];
  const times = /^x(\d+)$/.exec(rest);
  if (times !== null) return Array.from({ length: Number(times[1]) + 1 }, () => value({ h: first.h.copy(), hintSet: first.hintSet }, firstText));
  const step = /^([+-])(\{\{.*\}\})x(\d+)$/.exec(rest);
  if (step === null) throw new SeriesParseError(`invalid series value ${JSON.stringify(item)}`);
  const inc = parseHistogramLiteral(step[2]!);
  const n = Number(step[3]);
  // As Prometheus, the values carry whether the increment's hint was set.
  const out: SequenceValue[] = [value({ h: first.h, hintSet: inc.hintSet }, firstText)];
  let cur = first.h;
  for (let i = 1; i <= n; i++) {
    if (cur.schema > inc.h.schema) throw new SeriesParseError(`error combining histograms: cannot merge from schema ${inc.h.schema} to ${cur.schema}`);
    const next = cur.copy();
    try {
      next.add(inc.h, step[1] === '-');
    } catch (err) {
      throw new SeriesParseError((err as Error).message);
    }
    out.push(value({ h: next, hintSet: inc.hintSet }, next.toString()));
    cur = next;
  }
  return out;
}
