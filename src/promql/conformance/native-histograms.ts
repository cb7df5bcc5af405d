// native-histograms.ts tells which evals of a promqltest script depend on
// native histogram data, which our storage does not hold yet: the runner
// loads only float samples, so such evals cannot pass and are reported apart.
//
// An eval depends on native histograms when its expected result holds one,
// or when one of its selectors matches a series that was loaded (since the
// last `clear`) with histogram samples: written as `{{...}}`, or made by
// `load_with_nhcb` from classic `_bucket`/`_count`/`_sum` series.

import type { Expr, VectorSelector } from '../parser/ast.js';
import { parseExpr } from '../parser/parser.js';
import { compileMatcher, labelsKey } from '../engine/labels.js';
import type { Labels } from '../engine/types.js';
import { CUSTOM_BUCKETS_SCHEMA, FloatHistogram } from '../engine/float-histogram.js';

const NHCB_SUFFIXES = ['_bucket', '_count', '_sum'] as const;

/**
 * nhcbBaseLabels returns the labels of the native histogram with custom
 * buckets that load_with_nhcb builds from a classic histogram series, or
 * undefined when the series is not part of one (as Prometheus's
 * convertnhcb: `_bucket` series need a numeric `le`).
 */
export function nhcbBaseLabels(ls: Labels): Labels | undefined {
  const name = ls.__name__ ?? '';
  const suffix = NHCB_SUFFIXES.find((s) => name.endsWith(s) && name.length > s.length);
  if (suffix === undefined) return undefined;
  if (suffix === '_bucket') {
    const le = ls.le;
    if (le === undefined || !isGoFloat(le)) return undefined;
  }
  const out: Labels = {};
  for (const [k, v] of Object.entries(ls)) if (k !== 'le') out[k] = v;
  out.__name__ = name.slice(0, -suffix.length);
  return out;
}

/** parseLe reads an `le` value as strconv.ParseFloat does (undefined when it fails or is NaN). */
function parseLe(s: string): number | undefined {
  if (!isGoFloat(s)) return undefined;
  const t = s.trim().toLowerCase().replace(/_/g, '');
  if (/^\+?(inf|infinity)$/.test(t)) return Infinity;
  if (/^-(inf|infinity)$/.test(t)) return -Infinity;
  return Number(t);
}

interface TempHistogram {
  buckets: Array<{ le: number; count: number }>;
  count: number;
  hasCount: boolean;
  sum: number;
  bad: boolean;
}

/**
 * classicToNhcb is load_with_nhcb's conversion (Prometheus's convertnhcb): the classic
 * `_bucket`/`_count`/`_sum` series of a load, per base series and timestamp, become native
 * histograms with custom buckets (bucket counts de-accumulated, the +Inf bucket last). Inputs
 * that Prometheus would refuse (counts not cumulative, count mismatching the +Inf bucket) are
 * left out.
 */
export function classicToNhcb(series: Array<{ labels: Labels; samples: Array<[number, number]> }>): Array<{ labels: Labels; samples: Array<[number, FloatHistogram]> }> {
  const byBase = new Map<string, { labels: Labels; byTs: Map<number, TempHistogram> }>();
  for (const s of series) {
    const base = nhcbBaseLabels(s.labels);
    if (base === undefined) continue;
    const name = s.labels.__name__ ?? '';
    const key = labelsKey(base);
    let w = byBase.get(key);
    if (w === undefined) byBase.set(key, (w = { labels: base, byTs: new Map() }));
    const le = name.endsWith('_bucket') ? parseLe(s.labels.le ?? '') : undefined;
    for (const [t, v] of s.samples) {
      let h = w.byTs.get(t);
      if (h === undefined) w.byTs.set(t, (h = { buckets: [], count: 0, hasCount: false, sum: 0, bad: false }));
      if (h.bad) continue;
      if (name.endsWith('_bucket')) {
        if (le === undefined) continue;
        if (v < 0) {
          h.bad = true;
          continue;
        }
        const at = h.buckets.findIndex((b) => b.le >= le);
        if (at >= 0 && h.buckets[at]!.le === le) continue;
        const prev = at < 0 ? h.buckets[h.buckets.length - 1] : h.buckets[at - 1];
        const next = at < 0 ? undefined : h.buckets[at];
        if ((prev !== undefined && v < prev.count) || (next !== undefined && v > next.count)) {
          h.bad = true;
          continue;
        }
        h.buckets.splice(at < 0 ? h.buckets.length : at, 0, { le, count: v });
      } else if (name.endsWith('_count')) {
        if (v < 0) h.bad = true;
        h.count = v;
        h.hasCount = true;
      } else {
        h.sum = v;
      }
    }
  }
  const out: Array<{ labels: Labels; samples: Array<[number, FloatHistogram]> }> = [];
  for (const w of byBase.values()) {
    const samples: Array<[number, FloatHistogram]> = [];
    for (const [t, h] of w.byTs) {
      if (h.bad) continue;
      if (!h.hasCount && h.buckets.length > 0) h.count = h.buckets[h.buckets.length - 1]!.count;
      if (h.buckets.length === 0 || h.buckets[h.buckets.length - 1]!.le !== Infinity) h.buckets.push({ le: Infinity, count: h.count });
      if (h.count !== h.buckets[h.buckets.length - 1]!.count && !(Number.isNaN(h.count) && Number.isNaN(h.buckets[h.buckets.length - 1]!.count))) continue;
      const counts: number[] = [];
      let prev = 0;
      for (const b of h.buckets) {
        counts.push(b.count - prev);
        prev = b.count;
      }
      const fh = FloatHistogram.fromSpans({
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: h.count,
        sum: h.sum,
        positiveSpans: [{ offset: 0, length: counts.length }],
        positiveBuckets: counts,
        customValues: h.buckets.slice(0, -1).map((b) => b.le),
      }).compact();
      samples.push([t, fh]);
    }
    samples.sort((a, b) => a[0] - b[0]);
    if (samples.length > 0) out.push({ labels: w.labels, samples });
  }
  return out;
}

/** isGoFloat approximates strconv.ParseFloat succeeding with a non-NaN value. */
function isGoFloat(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return true;
  if (t === '' || t === 'nan') return false;
  return Number.isFinite(Number(t.replace(/_/g, '')));
}

/** selectorMatches reports whether every matcher of vs accepts ls (absent labels are ""). */
function selectorMatches(vs: VectorSelector, ls: Labels): boolean {
  return vs.matchers.every((m) => compileMatcher(m)(ls[m.name] ?? ''));
}

function selectorsOf(e: Expr, out: VectorSelector[]): void {
  switch (e.type) {
    case 'VectorSelector':
      out.push(e);
      return;
    case 'MatrixSelector':
      out.push(e.vs);
      return;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
      selectorsOf(e.expr, out);
      return;
    case 'BinaryExpr':
      selectorsOf(e.lhs, out);
      selectorsOf(e.rhs, out);
      return;
    case 'AggregateExpr':
      if (e.param !== undefined) selectorsOf(e.param, out);
      selectorsOf(e.expr, out);
      return;
    case 'Call':
      for (const a of e.args) selectorsOf(a, out);
      return;
    default:
      return;
  }
}

/** HistogramSeries remembers the loaded series that hold native histogram samples. */
export class HistogramSeries {
  private readonly series = new Map<string, Labels>();

  add(ls: Labels): void {
    this.series.set(labelsKey(ls), ls);
  }

  clear(): void {
    this.series.clear();
  }

  get size(): number {
    return this.series.size;
  }

  /**
   * readBy reports whether a selector of the query matches one of the
   * series. A query we cannot parse (such as the histogram trim operators
   * `</` and `>/`) reads them when it names one of their metrics.
   */
  readBy(query: string): boolean {
    if (this.series.size === 0) return false;
    let expr: Expr;
    try {
      expr = parseExpr(query);
    } catch {
      const words = new Set(query.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []);
      for (const ls of this.series.values()) if (ls.__name__ !== undefined && words.has(ls.__name__)) return true;
      return false;
    }
    const selectors: VectorSelector[] = [];
    selectorsOf(expr, selectors);
    for (const vs of selectors) {
      for (const ls of this.series.values()) if (selectorMatches(vs, ls)) return true;
    }
    return false;
  }
}
