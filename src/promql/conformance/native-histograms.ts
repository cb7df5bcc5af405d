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
import { compileAnchored, labelsKey } from '../engine/labels.js';
import type { Labels } from '../engine/types.js';
import { MatchType, type LabelMatcher } from '../../storage/native.js';

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

/** isGoFloat approximates strconv.ParseFloat succeeding with a non-NaN value. */
function isGoFloat(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return true;
  if (t === '' || t === 'nan') return false;
  return Number.isFinite(Number(t.replace(/_/g, '')));
}

function matcherMatches(m: LabelMatcher, value: string): boolean {
  switch (m.type) {
    case MatchType.Equal:
      return value === m.value;
    case MatchType.NotEqual:
      return value !== m.value;
    case MatchType.Regexp:
      return compileAnchored(m.value).test(value);
    case MatchType.NotRegexp:
      return !compileAnchored(m.value).test(value);
    default:
      return false;
  }
}

/** selectorMatches reports whether every matcher of vs accepts ls (absent labels are ""). */
function selectorMatches(vs: VectorSelector, ls: Labels): boolean {
  return vs.matchers.every((m) => matcherMatches(m, ls[m.name] ?? ''));
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
