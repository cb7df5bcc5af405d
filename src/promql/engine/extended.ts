// extended.ts evaluates the `anchored` and `smoothed` selector modifiers:
// range functions over windows extended by the lookback delta (with boundary
// samples picked or interpolated), and smoothed instant selectors that
// interpolate between the samples around each step. These run in TypeScript
// over the selected raw samples: the kernels only know plain windows.

import type { MatrixSelector, VectorSelector } from '../parser/ast.js';
import type { Evaluator } from './engine.js';
import { isStaleAt } from './float-ops.js';
import { EngineError, type SelectedSeries, type StepGrid } from './types.js';
import { newSeries, type RangeSeries, type Series } from './value.js';
import { FloatHistogram, GAUGE_TYPE, HistogramOpError, UNKNOWN_COUNTER_RESET } from './float-histogram.js';
import { histPointsOf, type HistPoints } from './histogram-range.js';
import { histogramsEqual } from './histogram-binary.js';
import { METRIC_NAME } from './labels.js';
import type { PosRange } from '../parser/ast.js';

interface HPt {
  t: number;
  h: FloatHistogram;
}

/** histIn returns a series' histogram samples in (mint, maxt]. */
function histIn(hp: HistPoints | undefined, mint: number, maxt: number): HPt[] {
  const out: HPt[] = [];
  if (hp === undefined) return out;
  for (let j = 0; j < hp.ts.length; j++) {
    const t = hp.ts[j]!;
    if (t > mint && t <= maxt) out.push({ t, h: hp.hs[j]! });
  }
  return out;
}

/** HistogramMixError is a mix of exponential and custom buckets met while interpolating. */
class HistogramMixError extends Error {}

/** addOrThrow adds (sub: subtracts) b into a, noting reconciled custom bounds; throws HistogramMixError on a schema mix. */
function addOrThrow(ev: Evaluator, a: FloatHistogram, b: FloatHistogram, sub: boolean, pos: PosRange): void {
  try {
    if (a.add(b, sub).nhcbBoundsReconciled) ev.ann.mismatchedCustomBuckets(sub ? 'subtraction' : 'addition', pos);
  } catch (err) {
    if (err instanceof HistogramOpError) throw new HistogramMixError(err.message);
    throw err;
  }
}

/** interpolateHistograms is h1 + (h2 - h1) * fraction at t (a counter reset restarts from zero). */
function interpolateHistograms(ev: Evaluator, p1: HPt, p2: HPt, t: number, isCounter: boolean, pos: PosRange): FloatHistogram {
  if (t === p1.t) return p1.h.copy();
  if (t === p2.t) return p2.h.copy();
  const fraction = (t - p1.t) / (p2.t - p1.t);
  if (isCounter && p2.h.detectReset(p1.h)) return p2.h.copy().mul(fraction);
  const r = p2.h.copy();
  addOrThrow(ev, r, p1.h, true, pos);
  r.mul(fraction);
  addOrThrow(ev, r, p1.h, false, pos);
  return r;
}

/** extendedHistogramRate is Prometheus's extendedHistogramRate (anchored/smoothed rate, increase, delta). */
function extendedHistogramRate(
  ev: Evaluator,
  h: HPt[],
  rangeStart: number,
  rangeEnd: number,
  rangeMs: number,
  smoothed: boolean,
  isCounter: boolean,
  isRate: boolean,
  metric: string,
  pos: PosRange,
): FloatHistogram | undefined {
  let last = h.length - 1;
  const first = Math.max(0, searchFirst(last, (i) => h[i]!.t > rangeStart) - 1);
  if (smoothed) last = searchFirst(last, (i) => h[i]!.t >= rangeEnd);
  if (h[last]!.t <= rangeStart) return undefined;
  if (smoothed && h[first]!.t > rangeEnd) return undefined;
  const custom = h[first]!.h.usesCustomBuckets;
  for (let i = first; i <= last; i++) {
    if (h[i]!.h.usesCustomBuckets !== custom) {
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
    if (isCounter && h[i]!.h.counterResetHint === GAUGE_TYPE) ev.ann.histogramNotCounter(metric, pos);
  }
  try {
    const left = smoothed && h[first]!.t < rangeStart ? interpolateHistograms(ev, h[first]!, h[first + 1]!, rangeStart, isCounter, pos) : h[first]!.h.copy();
    const right = smoothed && last > 0 && h[last]!.t > rangeEnd ? interpolateHistograms(ev, h[last - 1]!, h[last]!, rangeEnd, isCounter, pos) : h[last]!.h.copy();
    if (!isCounter && (left.counterResetHint !== GAUGE_TYPE || right.counterResetHint !== GAUGE_TYPE)) ev.ann.histogramNotGauge(metric, pos);
    const result = right.copy();
    addOrThrow(ev, result, left, true, pos);
    if (isCounter) {
      let from = first + 1;
      let prev = left;
      if (smoothed && h[first]!.t < rangeStart && h[first + 1]!.h.detectReset(h[first]!.h)) {
        prev = h[first + 1]!.h;
        from++;
      }
      const to = last - 1;
      let correction: FloatHistogram | undefined;
      const addCorrection = (x: FloatHistogram): void => {
        if (correction === undefined) correction = x.copy();
        else addOrThrow(ev, correction, x, false, pos);
      };
      if (from <= to + 1) {
        for (let i = from; i <= to; i++) {
          if (h[i]!.h.detectReset(prev)) addCorrection(prev);
          prev = h[i]!.h;
        }
        if (right.detectReset(prev)) addCorrection(prev);
      }
      if (correction !== undefined) addOrThrow(ev, result, correction, false, pos);
    }
    if (isRate) result.div(rangeMs / 1000);
    result.counterResetHint = GAUGE_TYPE;
    return result.compact();
  } catch (err) {
    if (err instanceof HistogramMixError) {
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
    throw err;
  }
}

/** ANCHORED_SAFE lists the functions the anchored modifier works with. */
export const ANCHORED_SAFE = ['changes', 'delta', 'increase', 'rate', 'resets'];
/** SMOOTHED_SAFE lists the functions the smoothed modifier works with. */
export const SMOOTHED_SAFE = ['delta', 'increase', 'rate'];

interface Pt {
  t: number;
  v: number;
}

/** pointsIn returns a series' non-stale samples in (mint, maxt]. */
function pointsIn(data: SelectedSeries, s: number, mint: number, maxt: number): Pt[] {
  const out: Pt[] = [];
  for (let i = data.offsets[s]; i < data.offsets[s + 1]; i++) {
    const t = data.timestamps[i];
    if (t > mint && t <= maxt && !isStaleAt(data.values, i)) out.push({ t, v: data.values[i] });
  }
  return out;
}

/** searchFirst returns the smallest i in [0, n) with pred(i), or n. */
function searchFirst(n: number, pred: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function interpolate(p1: Pt, p2: Pt, t: number, isCounter: boolean): number {
  let y1 = p1.v;
  const y2 = p2.v;
  if (isCounter && y2 < y1) y1 = 0;
  return y1 + ((y2 - y1) * (t - p1.t)) / (p2.t - p1.t);
}

function pickLeft(f: Pt[], first: number, rangeStart: number, smoothed: boolean, isCounter: boolean): number {
  if (smoothed && f[first].t < rangeStart) return interpolate(f[first], f[first + 1], rangeStart, isCounter);
  return f[first].v;
}

function pickRight(f: Pt[], last: number, rangeEnd: number, smoothed: boolean, isCounter: boolean): number {
  if (smoothed && last > 0 && f[last].t > rangeEnd) return interpolate(f[last - 1], f[last], rangeEnd, isCounter);
  return f[last].v;
}

/** extendPoints adds boundary points at mint and maxt (picked or interpolated), as Prometheus's extendFloats. */
export function extendPoints(f: Pt[], mint: number, maxt: number, smoothed: boolean): Pt[] {
  let last = f.length - 1;
  let first = Math.max(0, searchFirst(last, (i) => f[i].t > mint) - 1);
  if (smoothed) last = searchFirst(last, (i) => f[i].t >= maxt);
  if (f[last].t <= mint) return [];
  const left = pickLeft(f, first, mint, smoothed, false);
  const right = pickRight(f, last, maxt, smoothed, false);
  if (f[first].t <= mint) first++;
  if (f[last].t >= maxt) last--;
  const out: Pt[] = [{ t: mint, v: left }];
  for (let i = first; i <= last; i++) out.push(f[i]);
  out.push({ t: maxt, v: right });
  return out;
}

function extendedRate(f: Pt[], rangeStart: number, rangeEnd: number, rangeMs: number, smoothed: boolean, isCounter: boolean, isRate: boolean): number | undefined {
  let last = f.length - 1;
  let first = Math.max(0, searchFirst(last, (i) => f[i].t > rangeStart) - 1);
  if (smoothed) last = searchFirst(last, (i) => f[i].t >= rangeEnd);
  if (f[last].t <= rangeStart) return undefined;
  // Smoothing needs data on both sides: none when every sample is after the range.
  if (smoothed && f[first].t > rangeEnd) return undefined;
  const left = pickLeft(f, first, rangeStart, smoothed, isCounter);
  const right = pickRight(f, last, rangeEnd, smoothed, isCounter);
  let result = right - left;
  if (isCounter) {
    if (f[first].t <= rangeStart) first++;
    if (f[last].t >= rangeEnd) last--;
    let correction = 0;
    let prev = left;
    for (let i = first; i <= last; i++) {
      if (f[i].v < prev) correction += prev;
      prev = f[i].v;
    }
    if (right < prev) correction += prev;
    result += correction;
  }
  if (isRate) result /= rangeMs / 1000;
  return result;
}

/** checkModifier rejects anchored/smoothed selectors under functions that do not support them. */
export function checkModifier(fn: string, vs: VectorSelector): void {
  if (vs.anchored && !ANCHORED_SAFE.includes(fn)) {
    throw new EngineError('execution', `anchored modifier can only be used with: ${ANCHORED_SAFE.join(', ')} - not with ${fn}`);
  }
  if (vs.smoothed && !SMOOTHED_SAFE.includes(fn)) {
    throw new EngineError('execution', `smoothed modifier can only be used with: ${SMOOTHED_SAFE.join(', ')} - not with ${fn}`);
  }
}

/** evalExtendedRange evaluates rate/increase/delta/changes/resets over an anchored or smoothed range selector. */
export function evalExtendedRange(ev: Evaluator, fn: string, ms: MatrixSelector, grid: StepGrid): Series[] {
  const vs = ms.vs;
  checkModifier(fn, vs);
  const smoothed = !!vs.smoothed;
  const lookback = ev.lookbackMs;
  const times = ev.shiftedTimes(grid, vs.at, vs.offsetMs);
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  if (grid.n === 0) return [];
  const data = ev.kernels.select(ev.opts.tenant, vs.matchers, min - ms.rangeMs - lookback + 1, max + (smoothed ? lookback : 0), ev.sampleBudget());
  ev.addSamples(data.values.length + (data.histograms?.timestamps.length ?? 0));
  const hist = histPointsOf(data);
  const out: Series[] = [];
  for (let s = 0; s < data.labels.length; s++) {
    const series = newSeries(data.labels[s], grid.n, true);
    let any = false;
    for (let i = 0; i < grid.n; i++) {
      const t = times[i];
      const f = pointsIn(data, s, t - ms.rangeMs - lookback, t + (smoothed ? lookback : 0));
      const hs = histIn(hist[s], t - ms.rangeMs - lookback, t + (smoothed ? lookback : 0));
      if (hs.length > 0 && (fn === 'rate' || fn === 'increase' || fn === 'delta')) {
        const metric = data.labels[s]![METRIC_NAME] ?? '';
        if (f.length > 0) {
          ev.ann.mixedFloatsHistograms(metric, ms.pos);
          continue;
        }
        const r = extendedHistogramRate(ev, hs, t - ms.rangeMs, t, ms.rangeMs, smoothed, fn !== 'delta', fn === 'rate', metric, ms.pos);
        if (r === undefined) continue;
        series.present[i] = 1;
        series.values[i] = NaN;
        (series.histograms ??= new Array<FloatHistogram | undefined>(grid.n))[i] = r;
        any = true;
        continue;
      }
      if (f.length === 0 && hs.length === 0) continue;
      let v: number | undefined;
      switch (fn) {
        case 'rate':
          v = extendedRate(f, t - ms.rangeMs, t, ms.rangeMs, smoothed, true, true);
          break;
        case 'increase':
          v = extendedRate(f, t - ms.rangeMs, t, ms.rangeMs, smoothed, true, false);
          break;
        case 'delta':
          v = extendedRate(f, t - ms.rangeMs, t, ms.rangeMs, smoothed, false, false);
          break;
        case 'changes':
        case 'resets': {
          if (hs.length > 0) {
            v = anchoredTransitions(f, hs, t - ms.rangeMs, fn === 'resets');
            break;
          }
          const pts = extendPoints(f, t - ms.rangeMs, t, smoothed);
          if (pts.length === 0) break;
          let c = 0;
          for (let j = 1; j < pts.length; j++) {
            const a = pts[j].v;
            const b = pts[j - 1].v;
            if (fn === 'resets' ? a < b : a !== b && !(Number.isNaN(a) && Number.isNaN(b))) c++;
          }
          v = c;
          break;
        }
      }
      if (v === undefined) continue;
      series.values[i] = v;
      series.present[i] = 1;
      any = true;
    }
    if (any) out.push(series);
  }
  return out;
}

/** evalSmoothedSelector evaluates `metric smoothed`: per step, the value interpolated between the samples around it. */
export function evalSmoothedSelector(ev: Evaluator, vs: VectorSelector, grid: StepGrid): Series[] {
  const lookback = ev.lookbackMs;
  const times = ev.shiftedTimes(grid, vs.at, vs.offsetMs);
  if (grid.n === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  const data = ev.kernels.select(ev.opts.tenant, vs.matchers, min - lookback + 1, max + lookback, ev.sampleBudget());
  ev.addSamples(data.values.length + (data.histograms?.timestamps.length ?? 0));
  const hist = histPointsOf(data);
  const out: Series[] = [];
  for (let s = 0; s < data.labels.length; s++) {
    const series = newSeries(data.labels[s], grid.n, false);
    let any = false;
    for (let i = 0; i < grid.n; i++) {
      const t = times[i];
      const f = pointsIn(data, s, t - lookback, t + lookback);
      const hs = histIn(hist[s], t - lookback, t + lookback);
      if (hs.length > 0) {
        const metric = data.labels[s]![METRIC_NAME] ?? '';
        if (f.length > 0) {
          ev.ann.mixedFloatsHistograms(metric, vs.pos);
          continue;
        }
        const h = smoothedHistogramAt(ev, hs, t, metric, vs.pos);
        if (h === undefined) continue;
        series.present[i] = 1;
        series.values[i] = NaN;
        (series.histograms ??= new Array<FloatHistogram | undefined>(grid.n))[i] = h;
        any = true;
        continue;
      }
      if (f.length === 0) continue;
      const j = searchFirst(f.length, (k) => f[k].t >= t);
      let v: number;
      if (j < f.length && f[j].t === t) v = f[j].v;
      else if (j > 0 && j < f.length) v = interpolate(f[j - 1], f[j], t, false);
      else if (j > 0) v = f[j - 1].v;
      else continue;
      series.values[i] = v;
      series.present[i] = 1;
      any = true;
    }
    if (any) out.push(series);
  }
  return out;
}

/** extendedMatrixResult evaluates an anchored or smoothed range selector as a query result (instant queries). */
export function extendedMatrixResult(ev: Evaluator, ms: MatrixSelector, timeMs: number): RangeSeries[] {
  const vs = ms.vs;
  const smoothed = !!vs.smoothed;
  const lookback = ev.lookbackMs;
  const t = (ev.atMs(vs.at) ?? timeMs) - vs.offsetMs;
  const data = ev.kernels.select(ev.opts.tenant, vs.matchers, t - ms.rangeMs - lookback + 1, t + (smoothed ? lookback : 0));
  const out: RangeSeries[] = [];
  for (let s = 0; s < data.labels.length; s++) {
    const f = pointsIn(data, s, t - ms.rangeMs - lookback, t + (smoothed ? lookback : 0));
    if (f.length === 0) continue;
    const pts = extendPoints(f, t - ms.rangeMs, t, smoothed);
    if (pts.length === 0) continue;
    out.push({ labels: data.labels[s], dropName: false, timestamps: pts.map((p) => p.t), values: pts.map((p) => p.v) });
  }
  return out;
}

/** smoothedHistogramAt is a smoothed selector's histogram at t: the sample at t, interpolated between its neighbours, or the last one carried forward. */
function smoothedHistogramAt(ev: Evaluator, hs: HPt[], t: number, metric: string, pos: PosRange): FloatHistogram | undefined {
  const j = searchFirst(hs.length, (k) => hs[k]!.t >= t);
  if (j < hs.length && hs[j]!.t === t) return hs[j]!.h;
  if (j > 0 && j < hs.length) {
    const prev = hs[j - 1]!;
    const next = hs[j]!;
    if (prev.h.usesCustomBuckets !== next.h.usesCustomBuckets) {
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
    const isCounter = prev.h.counterResetHint !== GAUGE_TYPE || next.h.counterResetHint !== GAUGE_TYPE;
    try {
      return interpolateHistograms(ev, prev, next, t, isCounter, pos);
    } catch (err) {
      if (!(err instanceof HistogramMixError)) throw err;
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
  }
  if (j > 0) return Object.assign(hs[j - 1]!.h.copy(), { counterResetHint: UNKNOWN_COUNTER_RESET });
  return undefined;
}

/**
 * anchoredTransitions is anchored resets()/changes() over samples of both kinds: the last sample
 * at or before the range start anchors the samples after it (Prometheus's pickFirstSampleIndices);
 * a change of kind counts as a reset and a change.
 */
function anchoredTransitions(f: Pt[], hs: HPt[], rangeStart: number, resets: boolean): number | undefined {
  type P = { t: number; v?: number; h?: FloatHistogram };
  const all: P[] = [...f.map((p) => ({ t: p.t, v: p.v })), ...hs.map((p) => ({ t: p.t, h: p.h }))].sort((a, b) => a.t - b.t);
  const after = all.findIndex((p) => p.t > rangeStart);
  if (after < 0) return undefined;
  const pts = after > 0 ? all.slice(after - 1) : all;
  let n = 0;
  for (let k = 1; k < pts.length; k++) {
    const p = pts[k - 1]!;
    const c = pts[k]!;
    if (p.h === undefined && c.h === undefined) {
      if (resets ? c.v! < p.v! : c.v !== p.v && !(Number.isNaN(c.v) && Number.isNaN(p.v))) n++;
    } else if (p.h === undefined || c.h === undefined) {
      n++;
    } else if (resets ? c.h.detectReset(p.h) : !histogramsEqual(c.h, p.h)) {
      n++;
    }
  }
  return n;
}
