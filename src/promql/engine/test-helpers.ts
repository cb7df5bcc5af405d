// test-helpers.ts builds syntax trees by hand and loads promqltest-style
// series notation into the reference kernels, for the engine's tests (until
// the parser lands, and for tests that must not depend on it).

import type {
  AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Expr, MatchCardinality,
  MatrixSelector, NumberLiteral, StringLiteral, SubqueryExpr, VectorSelector,
} from '../parser/ast.js';
import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import { ReferenceKernels, type RefSeries } from './kernels-reference.js';
import type { Labels, QueryOptions, QueryResult } from './types.js';
import type { FloatHistogram } from './float-histogram.js';
import { labelsString } from './labels.js';

const P = { start: 0, end: 0 };

/** sel builds a vector selector `name{k="v"}`; regex matchers with `~` prefixed values (`{k: '~a.*'}`). */
export function sel(name: string, labels: Record<string, string> = {}, mod: { offsetMs?: number; at?: AtModifier } = {}): VectorSelector {
  const matchers: LabelMatcher[] = [];
  if (name) matchers.push({ name: '__name__', type: MatchType.Equal, value: name });
  for (const [k, v] of Object.entries(labels)) {
    if (v.startsWith('!~')) matchers.push({ name: k, type: MatchType.NotRegexp, value: v.slice(2) });
    else if (v.startsWith('~')) matchers.push({ name: k, type: MatchType.Regexp, value: v.slice(1) });
    else if (v.startsWith('!')) matchers.push({ name: k, type: MatchType.NotEqual, value: v.slice(1) });
    else matchers.push({ name: k, type: MatchType.Equal, value: v });
  }
  return { type: 'VectorSelector', name, matchers, offsetMs: mod.offsetMs ?? 0, at: mod.at, pos: P };
}

export function ms(vs: VectorSelector, rangeMs: number): MatrixSelector {
  return { type: 'MatrixSelector', vs, rangeMs, pos: P };
}

export function num(val: number): NumberLiteral {
  return { type: 'NumberLiteral', val, pos: P };
}

export function str(val: string): StringLiteral {
  return { type: 'StringLiteral', val, pos: P };
}

export function neg(expr: Expr): Expr {
  return { type: 'UnaryExpr', op: '-', expr, pos: P };
}

export interface BinOpts {
  bool?: boolean;
  on?: string[];
  ignoring?: string[];
  groupLeft?: string[];
  groupRight?: string[];
}

export function bin(op: BinaryOp, lhs: Expr, rhs: Expr, o: BinOpts = {}): BinaryExpr {
  const isSet = op === 'and' || op === 'or' || op === 'unless';
  const card: MatchCardinality = isSet ? 'many-to-many' : o.groupLeft ? 'many-to-one' : o.groupRight ? 'one-to-many' : 'one-to-one';
  return {
    type: 'BinaryExpr',
    op,
    lhs,
    rhs,
    returnBool: !!o.bool,
    matching: { card, on: !!o.on, labels: o.on ?? o.ignoring ?? [], include: o.groupLeft ?? o.groupRight ?? [] },
    pos: P,
  };
}

export function agg(op: AggregateOp, expr: Expr, o: { by?: string[]; without?: string[]; param?: Expr } = {}): AggregateExpr {
  return { type: 'AggregateExpr', op, expr, param: o.param, grouping: o.by ?? o.without ?? [], without: !!o.without, pos: P };
}

export function call(func: string, ...args: Expr[]): Call {
  return { type: 'Call', func, args, pos: P };
}

export function sq(expr: Expr, rangeMs: number, stepMs = 0, mod: { offsetMs?: number; at?: AtModifier } = {}): SubqueryExpr {
  return { type: 'SubqueryExpr', expr, rangeMs, stepMs, offsetMs: mod.offsetMs ?? 0, at: mod.at, pos: P };
}

/** parseSeriesDesc parses `name{a="b"}` into labels. */
export function parseSeriesDesc(desc: string): Labels {
  const m = /^([^{\s]*)\s*(?:\{(.*)\})?$/.exec(desc.trim());
  if (!m) throw new Error(`bad series ${desc}`);
  const out: Labels = {};
  if (m[1]) out.__name__ = m[1];
  const re = /([^\s=,{}"]+)\s*=\s*"((?:[^"\\]|\\.)*)"/g;
  let x: RegExpExecArray | null;
  while ((x = re.exec(m[2] ?? '')) !== null) out[x[1]] = JSON.parse(`"${x[2]}"`) as string;
  return out;
}

/** expandValues expands promqltest value notation (`0+10x5 _ stale 3`) into [index, value|'stale'] pairs. */
export function expandValues(notation: string): Array<number | 'stale' | undefined> {
  const out: Array<number | 'stale' | undefined> = [];
  for (const tok of notation.trim().split(/\s+/)) {
    if (!tok) continue;
    let m: RegExpExecArray | null;
    if (tok === '_') out.push(undefined);
    else if (tok === 'stale') out.push('stale');
    else if ((m = /^_x(\d+)$/.exec(tok))) for (let i = 0; i < Number(m[1]); i++) out.push(undefined);
    else if ((m = /^([^x+]+?)([+-])([^x]+)x(\d+)$/.exec(tok))) {
      const a = Number(m[1]);
      const d = Number(m[3]) * (m[2] === '-' ? -1 : 1);
      for (let i = 0; i <= Number(m[4]); i++) out.push(a + d * i);
    } else if ((m = /^([^x]+)x(\d+)$/.exec(tok))) for (let i = 0; i <= Number(m[2]); i++) out.push(Number(m[1]));
    else out.push(Number(tok));
  }
  return out;
}

/** load builds reference kernels from `{ 'metric{a="b"}': '0+1x10' }` sampled every intervalMs from 0. */
export function load(intervalMs: number, series: Record<string, string>): ReferenceKernels {
  const refs: RefSeries[] = [];
  for (const [desc, notation] of Object.entries(series)) {
    const ts: number[] = [];
    const vs: number[] = [];
    const staleAt = new Set<number>();
    expandValues(notation).forEach((v, i) => {
      if (v === undefined) return;
      if (v === 'stale') staleAt.add(vs.length);
      ts.push(i * intervalMs);
      vs.push(v === 'stale' ? 0 : v);
    });
    refs.push({ labels: parseSeriesDesc(desc), timestamps: ts, values: vs, staleAt });
  }
  return new ReferenceKernels(refs);
}

/** OPTS are test query options (5m lookback, no limits). */
export const OPTS: QueryOptions = { tenant: 't', lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: 0 };

/** m is minutes in ms. */
export const m = (x: number): number => x * 60_000;
/** s is seconds in ms. */
export const s = (x: number): number => x * 1000;

/** rng is a small deterministic generator (xorshift) of fractions in [0, 1). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * bits renders a float exactly (the sign of zero included). Every NaN renders alike: which NaN an
 * operation on two NaNs returns (its sign bit) depends on operand order, which V8's optimizing
 * compiler may swap in commutative additions, so the general path itself does not fix it; no API
 * output distinguishes NaNs (and staleness markers never reach results).
 */
export function bits(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0).toString(16);
}

/** histogramBits renders a native histogram exactly (every field and bucket). */
export function histogramBits(h: FloatHistogram): string {
  const list = (idx: number[], cnt: number[]): string => idx.map((x, i) => `${x}:${bits(cnt[i]!)}`).join(',');
  return `{s${h.schema} zt${bits(h.zeroThreshold)} zc${bits(h.zeroCount)} c${bits(h.count)} sum${bits(h.sum)} p[${list(h.posIdx, h.posCnt)}] n[${list(h.negIdx, h.negCnt)}] cv[${h.customValues.join(',')}]}`;
}

/** renderExact lists a result exactly: labels, timestamps, value bits and histograms, in order, plus annotations. */
export function renderExact(r: QueryResult): string {
  const lines: string[] = [];
  const v = r.value;
  if (v.resultType === 'matrix') {
    for (const s of v.series) {
      const floats = Array.from(s.timestamps, (ts, i) => `${ts}=${bits(s.values[i]!)}`).join(' ');
      const hs = s.histograms === undefined ? '' : ` | ${Array.from(s.histograms.timestamps, (ts, i) => `${ts}=${histogramBits(s.histograms!.values[i]!)}`).join(' ')}`;
      lines.push(`${labelsString(s.labels)} ${floats}${hs}`);
    }
  } else if (v.resultType === 'vector') {
    for (const s of v.series) lines.push(`${labelsString(s.labels)} ${v.timestampMs}=${s.histogram ? histogramBits(s.histogram) : bits(s.value)}`);
  } else lines.push(JSON.stringify(v));
  lines.push(`warnings ${JSON.stringify(r.warnings)} infos ${JSON.stringify(r.infos)}`);
  return lines.join('\n');
}

/** attemptExact is renderExact of f's result, or `error <message>`. */
export function attemptExact(f: () => QueryResult): string {
  try {
    return renderExact(f());
  } catch (err) {
    return `error ${(err as Error).message}`;
  }
}
