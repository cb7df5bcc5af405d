// compare.ts checks a decoded query answer against an eval command's
// expectations, as promqltest's compareResult and checkAnnotations do:
// floats equal within a relative epsilon of 1e-6 (NaN equals NaN), label sets
// exact, order checked only for ordered evals, matrices sorted by labels, and
// every expected point present at its timestamp and no other.

import type { Labels, QueryValue } from '../engine/types.js';
import { encodeHistogram, parseFloatValue, parseTimestampValue } from '../../querier/format.js';
import type { FloatHistogram } from '../engine/float-histogram.js';
import { isOrdered, type EvalCmd, type Expectation } from './script.js';
import type { SequenceValue } from './series.js';

/** DEFAULT_EPSILON is promqltest's relative error allowed for sample values. */
export const DEFAULT_EPSILON = 0.000001;

const MIN_NORMAL = 2.2250738585072014e-308;

/** almostEqual is Prometheus's util/almost.Equal. */
export function almostEqual(a: number, b: number, epsilon = DEFAULT_EPSILON): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** JsonHistogram is a native histogram as the JSON answer carries it (count, sum, non-empty buckets). */
export interface JsonHistogram {
  count: number;
  sum: number;
  /** buckets are [boundaryRule, lower, upper, count]. */
  buckets: Array<[number, number, number, number]>;
}

interface RawHistogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}

function decodeHistogram(r: RawHistogram): JsonHistogram {
  return {
    count: parseFloatValue(r.count),
    sum: parseFloatValue(r.sum),
    buckets: (r.buckets ?? []).map(([rule, lo, hi, c]) => [rule, parseFloatValue(lo), parseFloatValue(hi), parseFloatValue(c)]),
  };
}

/** jsonOf is the JSON answer's view of an expected histogram (compacted: empty buckets are not shown). */
export function jsonOf(h: FloatHistogram): JsonHistogram {
  return decodeHistogram(JSON.parse(encodeHistogram(h)) as RawHistogram);
}

/** histogramsMatch compares as promqltest does, through what the JSON answer shows: bounds exact, counts within epsilon. */
export function histogramsMatch(want: JsonHistogram, got: JsonHistogram): boolean {
  if (!almostEqual(want.count, got.count) || !almostEqual(want.sum, got.sum)) return false;
  if (want.buckets.length !== got.buckets.length) return false;
  for (let i = 0; i < want.buckets.length; i++) {
    const a = want.buckets[i]!;
    const b = got.buckets[i]!;
    if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2] || !almostEqual(a[3], b[3])) return false;
  }
  return true;
}

/** describeHistogram renders a decoded histogram for messages. */
export function describeHistogram(h: JsonHistogram): string {
  return `{count:${h.count} sum:${h.sum} buckets:[${h.buckets.map((b) => `${'([(['[b[0]]}${b[1]},${b[2]}${']))]'[b[0]]}:${b[3]}`).join(' ')}]}`;
}

/** Decoded is a query answer read back from its JSON body. */
export type Decoded =
  | { resultType: 'matrix'; series: Array<{ labels: Labels; points: Array<[number, number]>; hpoints?: Array<[number, JsonHistogram]> }> }
  | { resultType: 'vector'; timestampMs: number; series: Array<{ labels: Labels; value: number; histogram?: JsonHistogram }> }
  | { resultType: 'scalar'; timestampMs: number; value: number }
  | { resultType: 'string'; timestampMs: number; value: string };

/** DecodedAnswer is a decoded success body. */
export interface DecodedAnswer {
  data: Decoded;
  warnings: string[];
  infos: string[];
}

interface RawBody {
  data: { resultType: string; result: unknown };
  warnings?: string[];
  infos?: string[];
}

/** decodeBody reads a success body written by querier/format.ts. */
export function decodeBody(body: string): DecodedAnswer {
  const raw = JSON.parse(body) as RawBody;
  const r = raw.data.result;
  let data: Decoded;
  switch (raw.data.resultType) {
    case 'matrix':
      data = {
        resultType: 'matrix',
        series: (r as Array<{ metric: Labels; values?: Array<[number, string]>; histograms?: Array<[number, RawHistogram]> }>).map((s) => ({
          labels: s.metric,
          points: (s.values ?? []).map(([t, v]) => [parseTimestampValue(t), parseFloatValue(v)] as [number, number]),
          ...(s.histograms === undefined ? {} : { hpoints: s.histograms.map(([t, h]) => [parseTimestampValue(t), decodeHistogram(h)] as [number, JsonHistogram]) }),
        })),
      };
      break;
    case 'vector': {
      const list = r as Array<{ metric: Labels; value?: [number, string]; histogram?: [number, RawHistogram] }>;
      const first = list[0];
      data = {
        resultType: 'vector',
        timestampMs: first === undefined ? 0 : parseTimestampValue((first.value ?? first.histogram)![0]),
        series: list.map((s) =>
          s.histogram !== undefined ? { labels: s.metric, value: NaN, histogram: decodeHistogram(s.histogram[1]) } : { labels: s.metric, value: parseFloatValue(s.value![1]) },
        ),
      };
      break;
    }
    case 'scalar': {
      const [t, v] = r as [number, string];
      data = { resultType: 'scalar', timestampMs: parseTimestampValue(t), value: parseFloatValue(v) };
      break;
    }
    case 'string': {
      const [t, v] = r as [number, string];
      data = { resultType: 'string', timestampMs: parseTimestampValue(t), value: v };
      break;
    }
    default:
      throw new Error(`unknown resultType ${raw.data.resultType}`);
  }
  return { data, warnings: raw.warnings ?? [], infos: raw.infos ?? [] };
}

/**
 * labelsKey identifies a label set independent of key order. A label with an
 * empty value is no label at all: our storage does not keep empty-valued
 * labels (as Prometheus's scrape and remote-write paths drop them), so an
 * expected `{__unit__="", a="b"}` is the series `{a="b"}`.
 */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((k) => labels[k] !== '')
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

/** labelsString renders labels as Prometheus does in messages: {__name__="a", b="c"} (name outside). */
export function labelsString(labels: Labels): string {
  const names = Object.keys(labels).sort();
  const parts = names.filter((n) => n !== '__name__').map((n) => `${n}=${JSON.stringify(labels[n])}`);
  const name = labels.__name__ ?? '';
  if (parts.length === 0 && name !== '') return name;
  return `${name}{${parts.join(', ')}}`;
}

/** compareLabelSets is Prometheus's labels.Compare over sorted label sets. */
export function compareLabelSets(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    const va = a[ka[i]!]!;
    const vb = b[kb[i]!]!;
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return ka.length - kb.length;
}

function describeValues(vals: SequenceValue[]): string {
  return '[' + vals.map((v) => (v.kind === 'omitted' ? '_' : v.kind === 'histogram' ? v.text : String(v.value))).join(' ') + ']';
}

function describePoints(points: Array<[number, number]>, hpoints: Array<[number, JsonHistogram]> = []): string {
  const floats = `${points.length} float point${points.length === 1 ? '' : 's'} [${points.map(([t, v]) => `${v} @[${t}]`).join(' ')}]`;
  return `${floats} and ${hpoints.length} histogram point${hpoints.length === 1 ? '' : 's'} [${hpoints.map(([t, h]) => `${describeHistogram(h)} @[${t}]`).join(' ')}]`;
}

/** compareResult returns undefined when data meets the expectations, else why not. */
export function compareResult(cmd: EvalCmd, data: Decoded): string | undefined {
  const expected = new Map(cmd.series.map((s) => [labelsKey(s.labels), s]));
  switch (data.resultType) {
    case 'matrix': {
      if (isOrdered(cmd)) return 'expected ordered result, but query returned a matrix';
      if (cmd.expectScalar) return 'expected scalar result, but got matrix';
      for (let i = 0; i + 1 < data.series.length; i++) {
        if (compareLabelSets(data.series[i]!.labels, data.series[i + 1]!.labels) > 0) {
          return `matrix results should always be sorted by labels, but matrix is not sorted: series at index ${i + 1} with labels ${labelsString(data.series[i + 1]!.labels)} sorts before series at index ${i} with labels ${labelsString(data.series[i]!.labels)}`;
        }
      }
      const grid = cmd.rangeVector ?? { startMs: cmd.startMs, endMs: cmd.endMs, stepMs: cmd.stepMs };
      const seen = new Set<string>();
      for (const s of data.series) {
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        if (exp === undefined) return `unexpected metric ${labelsString(s.labels)} in result, has ${describePoints(s.points)}`;
        seen.add(key);
        const floats: Array<[number, number]> = [];
        const hists: Array<[number, FloatHistogram]> = [];
        for (let i = 0; i < exp.values.length; i++) {
          const t = grid.startMs + i * grid.stepMs;
          if (t > grid.endMs) return `expected ${exp.values.length} points for ${labelsString(exp.labels)}, but query time range cannot return this many points`;
          const e = exp.values[i]!;
          if (e.kind === 'histogram') hists.push([t, e.h]);
          else if (e.kind === 'float') floats.push([t, e.value]);
        }
        const hpoints = s.hpoints ?? [];
        if (floats.length !== s.points.length || hists.length !== hpoints.length) {
          return `expected ${floats.length} float points and ${hists.length} histogram points for ${labelsString(exp.labels)}, but got ${describePoints(s.points, hpoints)}`;
        }
        for (let i = 0; i < floats.length; i++) {
          const [et, ev] = floats[i]!;
          const [at, av] = s.points[i]!;
          if (et !== at) return `expected float value at index ${i} for ${labelsString(exp.labels)} to have timestamp ${et}, but it had timestamp ${at} (result has ${describePoints(s.points, hpoints)})`;
          if (!almostEqual(av, ev)) return `expected float value at index ${i} (t=${at}) for ${labelsString(exp.labels)} to be ${ev}, but got ${av} (result has ${describePoints(s.points, hpoints)})`;
        }
        for (let i = 0; i < hists.length; i++) {
          const [et, eh] = hists[i]!;
          const [at, ah] = hpoints[i]!;
          if (et !== at) return `expected histogram value at index ${i} for ${labelsString(exp.labels)} to have timestamp ${et}, but it had timestamp ${at} (result has ${describePoints(s.points, hpoints)})`;
          const want = jsonOf(eh);
          if (!histogramsMatch(want, ah)) return `expected histogram value at index ${i} (t=${at}) for ${labelsString(exp.labels)} to be ${describeHistogram(want)}, but got ${describeHistogram(ah)} (result has ${describePoints(s.points, hpoints)})`;
        }
      }
      for (const [key, exp] of expected) if (!seen.has(key)) return `expected metric ${labelsString(exp.labels)} not found`;
      return undefined;
    }
    case 'vector': {
      if (cmd.expectScalar) return `expected scalar result, but got vector ${data.series.map((s) => `${labelsString(s.labels)} => ${s.value}`).join(', ')}`;
      const seen = new Set<string>();
      const ordered = isOrdered(cmd);
      for (let pos = 0; pos < data.series.length; pos++) {
        const s = data.series[pos]!;
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        const got = s.histogram !== undefined ? `histogram ${describeHistogram(s.histogram)}` : `value ${s.value}`;
        if (exp === undefined) return `unexpected metric ${labelsString(s.labels)} in result, has ${got}`;
        if (ordered && exp.pos !== pos + 1) return `expected metric ${labelsString(s.labels)} with ${describeValues(exp.values)} at position ${exp.pos} but was at ${pos + 1}`;
        const e0 = exp.values[0];
        if (e0 === undefined || e0.kind === 'omitted') return `expected no value for ${labelsString(s.labels)} but got ${got}`;
        if (e0.kind === 'histogram') {
          if (s.histogram === undefined) return `expected histogram ${e0.text} for ${labelsString(s.labels)} but got float value ${s.value}`;
          const want = jsonOf(e0.h);
          if (!histogramsMatch(want, s.histogram)) return `expected ${describeHistogram(want)} for ${labelsString(s.labels)} but got ${got}`;
        } else {
          if (s.histogram !== undefined) return `expected float value ${e0.value} for ${labelsString(s.labels)} but got ${got}`;
          if (!almostEqual(e0.value, s.value)) return `expected ${e0.value} for ${labelsString(s.labels)} but got ${s.value}`;
        }
        seen.add(key);
      }
      for (const [key, exp] of expected) if (!seen.has(key)) return `expected metric ${labelsString(exp.labels)} with ${describeValues(exp.values)} not found`;
      return undefined;
    }
    case 'scalar': {
      if (!cmd.expectScalar) return `expected vector or matrix result, but got scalar ${data.value}`;
      if (!almostEqual(cmd.scalar!, data.value)) return `expected scalar ${cmd.scalar} but got ${data.value}`;
      return undefined;
    }
    case 'string': {
      const want = cmd.expectedString ?? '';
      if (want !== data.value) return `expected string "${want}" but got "${data.value}"`;
      return undefined;
    }
  }
}

function matches(e: Expectation, s: string): boolean {
  if (e.regex !== undefined) return e.regex.test(s);
  if (e.message !== undefined) return e.message === s;
  return true;
}

function checkOfType(expr: string, line: number, expected: Expectation[], actual: string[], kind: 'warn' | 'info'): string | undefined {
  if (expected.length === 0) return undefined;
  if (actual.length === 0) return `expected ${kind} annotations but none were found for query ${JSON.stringify(expr)} (line ${line})`;
  for (const e of expected) {
    if (!actual.some((a) => matches(e, a))) {
      return `expected ${kind} annotation matching ${e.regex !== undefined ? 'pattern' : 'message'} ${JSON.stringify(e.regex?.source ?? e.message ?? '')} but no matching annotation was found for query ${JSON.stringify(expr)} (line ${line}), found: ${JSON.stringify(actual)}`;
    }
  }
  for (const a of actual) {
    if (!expected.some((e) => matches(e, a))) return `unexpected ${kind} annotation ${JSON.stringify(a)} found for query ${expr} (line ${line})`;
  }
  return undefined;
}

/** checkAnnotations is promqltest's checkAnnotations over the body's warnings and infos. */
export function checkAnnotations(cmd: EvalCmd, expr: string, warnings: string[], infos: string[]): string | undefined {
  if (cmd.warn && warnings.length === 0) return `expected warnings evaluating query ${JSON.stringify(expr)} (line ${cmd.line}) but got none`;
  if (cmd.info && infos.length === 0) return `expected info annotations evaluating query ${JSON.stringify(expr)} (line ${cmd.line}) but got none`;
  const of = (t: Expectation['type']): Expectation[] => cmd.expects.filter((e) => e.type === t);
  const w = checkOfType(expr, cmd.line, of('warn'), warnings, 'warn');
  if (w !== undefined) return w;
  const i = checkOfType(expr, cmd.line, of('info'), infos, 'info');
  if (i !== undefined) return i;
  if (of('no_warn').length > 0 && warnings.length > 0) return `unexpected warning annotations evaluating query ${JSON.stringify(expr)} (line ${cmd.line}): ${JSON.stringify(warnings)}`;
  if (of('no_info').length > 0 && infos.length > 0) return `unexpected info annotations evaluating query ${JSON.stringify(expr)} (line ${cmd.line}): ${JSON.stringify(infos)}`;
  return undefined;
}

/** checkExpectedFailure is promqltest's check of an error against expected_fail_* and `expect fail`. */
export function checkExpectedFailure(cmd: EvalCmd, message: string): string | undefined {
  if (cmd.expectedFailMessage !== undefined && cmd.expectedFailMessage !== '' && cmd.expectedFailMessage !== message) {
    return `expected error ${JSON.stringify(cmd.expectedFailMessage)} evaluating query ${JSON.stringify(cmd.expr)} (line ${cmd.line}), but got: ${message}`;
  }
  if (cmd.expectedFailRegexp !== undefined && !cmd.expectedFailRegexp.test(message)) {
    return `expected error matching pattern ${JSON.stringify(cmd.expectedFailRegexp.source)} evaluating query ${JSON.stringify(cmd.expr)} (line ${cmd.line}), but got: ${message}`;
  }
  const fail = cmd.expects.find((e) => e.type === 'fail');
  if (fail !== undefined && !matches(fail, message)) {
    return `expected error matching ${JSON.stringify(fail.regex?.source ?? fail.message ?? '')} evaluating query ${JSON.stringify(cmd.expr)} (line ${cmd.line}), but got: ${message}`;
  }
  return undefined;
}

/** expectsHints reports whether an eval's expected histograms set counter_reset_hint (compared only then, as promqltest). */
export function expectsHints(cmd: EvalCmd): boolean {
  return cmd.series.some((s) => s.values.some((v) => v.kind === 'histogram' && v.hintSet));
}

const HINT_NAMES = ['unknown', 'reset', 'not_reset', 'gauge'];

/**
 * checkHints compares the counter-reset hints of an evaluated result (which the JSON answer does
 * not carry) with the expected histograms that set one; undefined when they agree.
 */
export function checkHints(cmd: EvalCmd, value: QueryValue): string | undefined {
  const grid = cmd.rangeVector ?? { startMs: cmd.startMs, endMs: cmd.endMs, stepMs: cmd.stepMs };
  for (const exp of cmd.series) {
    const key = labelsKey(exp.labels);
    for (let i = 0; i < exp.values.length; i++) {
      const e = exp.values[i]!;
      if (e.kind !== 'histogram' || !e.hintSet) continue;
      const t = grid.startMs + i * grid.stepMs;
      let got: number | undefined;
      if (value.resultType === 'vector') {
        got = value.series.find((s) => labelsKey(s.labels) === key)?.histogram?.counterResetHint;
      } else if (value.resultType === 'matrix') {
        const s = value.series.find((x) => labelsKey(x.labels) === key);
        const hs = s?.histograms;
        if (hs !== undefined) {
          const j = hs.timestamps.indexOf(t);
          if (j >= 0) got = hs.values[j]!.counterResetHint;
        }
      }
      if (got !== undefined && got !== e.h.counterResetHint) {
        return `expected counter reset hint ${HINT_NAMES[e.h.counterResetHint]} for ${labelsString(exp.labels)} at t=${t}, but got ${HINT_NAMES[got]}`;
      }
    }
  }
  return undefined;
}
