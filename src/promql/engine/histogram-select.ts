// histogram-select.ts reads native-histogram samples out of a selection's
// side channel (the hand-off format, histogram-flat.ts) for the engine's
// selectors: the instant lookup (the newest sample of either kind in the
// lookback window decides) and the per-window histogram points of range
// functions and range-vector results.

import { COUNTER_RESET, NOT_COUNTER_RESET, UNKNOWN_COUNTER_RESET, type FloatHistogram } from './float-histogram.js';
import { childrenOf, type Expr, type VectorSelector } from '../parser/ast.js';
import { decodeFlat, isStaleFlat, type FlatHistograms } from './histogram-flat.js';
import type { SelectedSeries } from './types.js';

/** HistogramReader decodes a selection's histogram samples on demand, each once. */
export class HistogramReader {
  private readonly cache = new Map<number, FloatHistogram>();

  constructor(readonly flat: FlatHistograms) {}

  /** range is series s's histogram samples [from, to). */
  range(s: number): [number, number] {
    return [this.flat.offsets[s]!, this.flat.offsets[s + 1]!];
  }

  time(j: number): number {
    return this.flat.timestamps[j]!;
  }

  isStale(j: number): boolean {
    return isStaleFlat(this.flat.data, this.flat.dataOffsets[j]!);
  }

  /** at is sample j, decoded (shared: never change it in place). */
  at(j: number): FloatHistogram {
    let h = this.cache.get(j);
    if (h === undefined) {
      h = decodeFlat(this.flat.data, this.flat.dataOffsets[j]!, this.flat.dataOffsets[j + 1]!);
      this.cache.set(j, h);
    }
    return h;
  }
}

/** lastAtOrBefore is the index of the last time <= t in ts[from, to), or from - 1. */
export function lastAtOrBefore(ts: Float64Array, from: number, to: number, t: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * overlayInstantHistograms applies the histogram samples of data to an instant lookup's float
 * result (row-major by series, n steps): where a series' newest sample in (t - lookback, t] is a
 * histogram, the cell becomes that histogram (absent for a stale marker). Returns the histogram
 * column of each series (undefined where a series has none).
 */
export function overlayInstantHistograms(
  data: SelectedSeries,
  evalTimes: Float64Array,
  lookbackMs: number,
  values: Float64Array,
  present: Uint8Array,
): Array<Array<FloatHistogram | undefined> | undefined> {
  const out: Array<Array<FloatHistogram | undefined> | undefined> = new Array(data.labels.length);
  if (data.histograms === undefined) return out;
  const r = new HistogramReader(data.histograms);
  const n = evalTimes.length;
  for (let s = 0; s < data.labels.length; s++) {
    const [hFrom, hTo] = r.range(s);
    if (hTo === hFrom) continue;
    const fFrom = data.offsets[s]!;
    const fTo = data.offsets[s + 1]!;
    let col: Array<FloatHistogram | undefined> | undefined;
    for (let i = 0; i < n; i++) {
      const t = evalTimes[i]!;
      const j = lastAtOrBefore(data.histograms.timestamps, hFrom, hTo, t);
      if (j < hFrom) continue;
      const ht = r.time(j);
      if (ht <= t - lookbackMs) continue;
      const k = lastAtOrBefore(data.timestamps, fFrom, fTo, t);
      if (k >= fFrom && data.timestamps[k]! > ht) continue;
      const cell = s * n + i;
      if (r.isStale(j)) {
        present[cell] = 0;
        continue;
      }
      present[cell] = 1;
      values[cell] = NaN;
      col ??= new Array<FloatHistogram | undefined>(n);
      col[i] = r.at(j);
    }
    out[s] = col;
  }
  return out;
}

/**
 * statsOnlySelectors returns the vector selectors whose histograms only feed histogram_count,
 * histogram_sum or histogram_avg (no subquery, histogram_quantile(s), histogram_fraction or trim
 * operator on the way up): Prometheus reads those through its HistogramStatsIterator, which
 * resolves unknown counter-reset hints by detection. The walk keeps an explicit stack.
 */
export function statsOnlySelectors(root: Expr): Set<VectorSelector> {
  const out = new Set<VectorSelector>();
  const stack: Array<{ e: Expr; skip: boolean | undefined; blocked: boolean }> = [{ e: root, skip: undefined, blocked: false }];
  while (stack.length > 0) {
    const { e, skip, blocked } = stack.pop()!;
    if (e.type === 'VectorSelector') {
      if (skip === true && !blocked) out.add(e);
      continue;
    }
    let s = skip;
    let b = blocked;
    // Walking down, the nearest deciding node wins for skip; a blocking node anywhere above blocks.
    if (e.type === 'SubqueryExpr') b = true;
    else if (e.type === 'Call') {
      if (e.func === 'histogram_count' || e.func === 'histogram_sum' || e.func === 'histogram_avg') s ??= true;
      else if (e.func === 'histogram_quantile' || e.func === 'histogram_quantiles' || e.func === 'histogram_fraction') b = true;
    } else if (e.type === 'BinaryExpr' && (e.op === '</' || e.op === '>/')) b = true;
    for (const k of childrenOf(e)) stack.push({ e: k, skip: s, blocked: b });
  }
  return out;
}

/**
 * withDetectedHints returns the selection with each series' unknown counter-reset hints resolved
 * as the HistogramStatsIterator does: reset when the sample is a counter reset against the
 * series' previous (non-stale) histogram sample, not-reset otherwise; the first sample stays
 * unknown. The flat data is copied, never changed in place.
 */
export function withDetectedHints(data: SelectedSeries): SelectedSeries {
  const flat = data.histograms;
  if (flat === undefined) return data;
  const copy = new Float64Array(flat.data.length);
  copy.set(flat.data);
  const r = new HistogramReader(flat);
  for (let s = 0; s < data.labels.length; s++) {
    const [from, to] = r.range(s);
    let last: FloatHistogram | undefined;
    for (let j = from; j < to; j++) {
      if (r.isStale(j)) continue;
      const h = r.at(j);
      const at = flat.dataOffsets[j]! + 5;
      if (h.counterResetHint === UNKNOWN_COUNTER_RESET && last !== undefined) copy[at] = h.detectReset(last) ? COUNTER_RESET : NOT_COUNTER_RESET;
      last = h;
    }
  }
  return { ...data, histograms: { ...flat, data: copy } };
}
