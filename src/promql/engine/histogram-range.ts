// histogram-range.ts evaluates the range-vector functions over windows that
// hold native-histogram samples, as Prometheus's promql/functions.go does:
// rate/increase/delta extrapolate a histogram difference with counter-reset
// correction, irate/idelta take the last two samples, sum/avg_over_time add
// histograms, count/last/first/present_over_time and changes/resets see both
// kinds, and the float-only functions keep their float result with an info
// that histograms were ignored. The native range kernels never see histogram
// samples: for each window that has some, this file replaces the kernel's
// float cell.

import type { PosRange } from '../parser/ast.js';
import type { Evaluator } from './engine.js';
import { FloatHistogram, GAUGE_TYPE, HistogramMean, HistogramOpError, KahanHistogramSum } from './float-histogram.js';
import { HistogramReader, lastAtOrBefore } from './histogram-select.js';
import { isStaleAt } from './float-ops.js';
import { METRIC_NAME } from './labels.js';
import type { SelectedSeries } from './types.js';

/** HistPoints are one series' native-histogram samples (no stale markers), ascending in time. */
export interface HistPoints {
  ts: number[];
  hs: FloatHistogram[];
}

/** histPointsOf decodes a selection's histogram samples per series (undefined where a series has none). */
export function histPointsOf(data: SelectedSeries): Array<HistPoints | undefined> {
  const out: Array<HistPoints | undefined> = new Array(data.labels.length);
  if (data.histograms === undefined) return out;
  const r = new HistogramReader(data.histograms);
  for (let s = 0; s < data.labels.length; s++) {
    const [from, to] = r.range(s);
    if (to === from) continue;
    const p: HistPoints = { ts: [], hs: [] };
    for (let j = from; j < to; j++) {
      if (r.isStale(j)) continue;
      p.ts.push(r.time(j));
      p.hs.push(r.at(j));
    }
    out[s] = p;
  }
  return out;
}

/** FLOAT_ONLY_IGNORING are the float functions that note ignored histograms when a window holds both kinds. */
const FLOAT_ONLY_IGNORING = new Set([
  'max_over_time', 'min_over_time', 'ts_of_max_over_time', 'ts_of_min_over_time', 'stddev_over_time', 'stdvar_over_time',
  'quantile_over_time', 'mad_over_time', 'deriv', 'predict_linear', 'double_exponential_smoothing',
]);

/** ONE_FLOAT_NOTES are the functions that also note ignored histograms when one float leaves no result. */
const ONE_FLOAT_NOTES = new Set(['deriv', 'predict_linear', 'double_exponential_smoothing']);

interface Window {
  /** floats: indices into data.timestamps/values of the non-stale float samples. */
  floats: number[];
  /** hist: indices into the series' HistPoints. */
  hist: number[];
}

/**
 * applyHistogramRange rewrites, for every window holding histogram samples, the kernel's float
 * cell (values/present, row-major by series, n steps) with the function's result over both kinds.
 * Returns each series' histogram column (undefined where none).
 */
export function applyHistogramRange(
  ev: Evaluator,
  name: string,
  data: SelectedSeries,
  hist: Array<HistPoints | undefined>,
  evalTimes: Float64Array,
  rangeMs: number,
  values: Float64Array,
  present: Uint8Array,
  pos: PosRange | undefined,
): Array<Array<FloatHistogram | undefined> | undefined> {
  const n = evalTimes.length;
  const out: Array<Array<FloatHistogram | undefined> | undefined> = new Array(data.labels.length);
  for (let s = 0; s < data.labels.length; s++) {
    const hp = hist[s];
    if (hp === undefined || hp.ts.length === 0) continue;
    const metric = data.labels[s]![METRIC_NAME] ?? '';
    const fFrom = data.offsets[s]!;
    const fTo = data.offsets[s + 1]!;
    let col: Array<FloatHistogram | undefined> | undefined;
    const tsArr = Float64Array.from(hp.ts);
    for (let i = 0; i < n; i++) {
      const t = evalTimes[i]!;
      // The window (t - range, t]: binary searches for both ends, then the indices in order.
      const hLast = lastAtOrBefore(tsArr, 0, tsArr.length, t);
      const hFirst = lastAtOrBefore(tsArr, 0, hLast + 1, t - rangeMs) + 1;
      if (hLast < hFirst) continue;
      const w: Window = { floats: [], hist: [] };
      const fLast = lastAtOrBefore(data.timestamps, fFrom, fTo, t);
      for (let j = lastAtOrBefore(data.timestamps, fFrom, fLast + 1, t - rangeMs) + 1; j <= fLast; j++) {
        if (!isStaleAt(data.values, j)) w.floats.push(j);
      }
      for (let j = hFirst; j <= hLast; j++) w.hist.push(j);
      const cell = s * n + i;
      const setFloat = (v: number): void => {
        values[cell] = v;
        present[cell] = 1;
      };
      const setHist = (h: FloatHistogram): void => {
        present[cell] = 1;
        values[cell] = NaN;
        col ??= new Array<FloatHistogram | undefined>(n);
        col[i] = h;
      };
      const drop = (): void => {
        present[cell] = 0;
      };
      const hs = w.hist.map((j) => hp.hs[j]!);
      const hts = w.hist.map((j) => hp.ts[j]!);
      switch (name) {
        case 'rate':
        case 'increase':
        case 'delta': {
          if (w.floats.length > 0) {
            ev.ann.mixedFloatsHistograms(metric, pos);
            drop();
            break;
          }
          const h = histogramRate(ev, hs, hts, name !== 'delta', name === 'rate', t, rangeMs, metric, pos);
          if (h === undefined) drop();
          else setHist(h);
          break;
        }
        case 'irate':
        case 'idelta': {
          const r = instantHistogramValue(ev, data, w, hp, name === 'irate', metric, pos);
          if (r === undefined) drop();
          else if (typeof r === 'number') setFloat(r);
          else setHist(r);
          break;
        }
        case 'sum_over_time':
        case 'avg_over_time': {
          if (w.floats.length > 0) {
            ev.ann.mixedFloatsHistograms(metric, pos);
            drop();
            break;
          }
          const h = sumHistograms(ev, hs, metric, pos, name === 'avg_over_time');
          if (h === undefined) drop();
          else setHist(h);
          break;
        }
        case 'count_over_time':
          setFloat(w.floats.length + w.hist.length);
          break;
        case 'present_over_time':
          setFloat(1);
          break;
        case 'last_over_time': {
          const lf = w.floats[w.floats.length - 1];
          const lh = hts.length - 1;
          if (lf !== undefined && data.timestamps[lf]! > hts[lh]!) setFloat(data.values[lf]!);
          else setHist(hs[lh]!);
          break;
        }
        case 'first_over_time': {
          const ff = w.floats[0];
          if (ff !== undefined && data.timestamps[ff]! < hts[0]!) setFloat(data.values[ff]!);
          else setHist(hs[0]!);
          break;
        }
        case 'ts_of_last_over_time': {
          const lf = w.floats[w.floats.length - 1];
          setFloat(Math.max(lf === undefined ? -Infinity : data.timestamps[lf]!, hts[hts.length - 1]!) / 1000);
          break;
        }
        case 'ts_of_first_over_time': {
          const ff = w.floats[0];
          setFloat(Math.min(ff === undefined ? Infinity : data.timestamps[ff]!, hts[0]!) / 1000);
          break;
        }
        case 'resets':
        case 'changes':
          setFloat(countTransitions(data, w, hp, name === 'resets'));
          break;
        default:
          if (FLOAT_ONLY_IGNORING.has(name) && (present[cell] === 1 || (ONE_FLOAT_NOTES.has(name) && w.floats.length === 1))) {
            ev.ann.histogramIgnoredInMixedRange(metric, pos);
          }
      }
    }
    out[s] = col;
  }
  return out;
}

/** addNoting adds (sub: subtracts) b into a, turning a mix of schemas into Prometheus's warning; false then. */
function addNoting(ev: Evaluator, a: FloatHistogram, b: FloatHistogram, sub: boolean, metric: string, pos: PosRange | undefined, op: string): boolean {
  try {
    const r = a.add(b, sub);
    if (r.nhcbBoundsReconciled) ev.ann.mismatchedCustomBuckets(op, pos);
    return true;
  } catch (err) {
    if (err instanceof HistogramOpError) {
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return false;
    }
    throw err;
  }
}

/** sumHistograms adds up a window's histograms (sum_over_time), noting conflicting counter-reset hints. */
function sumHistograms(ev: Evaluator, hs: FloatHistogram[], metric: string, pos: PosRange | undefined, mean: boolean): FloatHistogram | undefined {
  const sum = mean ? new HistogramMean(hs[0]!) : new KahanHistogramSum(hs[0]!);
  let reset = hs[0]!.counterResetHint === 1;
  let notReset = hs[0]!.counterResetHint === 2;
  let reconciled = false;
  for (let k = 1; k < hs.length; k++) {
    const h = hs[k]!;
    if (h.counterResetHint === 1) reset = true;
    if (h.counterResetHint === 2) notReset = true;
    try {
      if (sum.add(h).nhcbBoundsReconciled) reconciled = true;
    } catch (err) {
      if (!(err instanceof HistogramOpError)) throw err;
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
  }
  if (reset && notReset) ev.ann.counterResetCollision('aggregation', pos);
  if (reconciled) ev.ann.mismatchedCustomBuckets('aggregation', pos);
  return sum.result().compact();
}

/** histogramRate is Prometheus's extrapolatedRate over histogram samples (isCounter: rate/increase; isRate: per second). */
function histogramRate(
  ev: Evaluator,
  hs: FloatHistogram[],
  ts: number[],
  isCounter: boolean,
  isRate: boolean,
  t: number,
  rangeMs: number,
  metric: string,
  pos: PosRange | undefined,
): FloatHistogram | undefined {
  if (hs.length < 2) return undefined;
  const last = hs[hs.length - 1]!;
  let prev = hs[0]!;
  let usingCustom = prev.usesCustomBuckets;
  if (isCounter && (prev.counterResetHint === GAUGE_TYPE || last.counterResetHint === GAUGE_TYPE)) ev.ann.histogramNotCounter(metric, pos);
  if (isCounter && hs[1]!.detectReset(prev)) {
    const second = hs[1]!;
    prev = new FloatHistogram(second.schema);
    prev.customValues = second.customValues;
    usingCustom = second.usesCustomBuckets;
  }
  if (last.usesCustomBuckets !== usingCustom) {
    ev.ann.mixedExponentialCustomHistograms(metric, pos);
    return undefined;
  }
  let minSchema = Math.min(last.schema, prev.schema);
  for (let k = 1; k < hs.length - 1; k++) {
    const c = hs[k]!;
    if (!isCounter) continue;
    if (c.counterResetHint === GAUGE_TYPE) ev.ann.histogramNotCounter(metric, pos);
    if (c.schema < minSchema) minSchema = c.schema;
    if (c.usesCustomBuckets !== usingCustom) {
      ev.ann.mixedExponentialCustomHistograms(metric, pos);
      return undefined;
    }
  }
  const h = last.copy().reduceResolution(minSchema);
  if (!addNoting(ev, h, prev, true, metric, pos, 'subtraction')) return undefined;
  if (isCounter) {
    let p = prev;
    for (let k = 1; k < hs.length; k++) {
      const c = hs[k]!;
      if (c.detectReset(p) && !addNoting(ev, h, p, false, metric, pos, 'addition')) return undefined;
      p = c;
    }
  } else if (hs[0]!.counterResetHint !== GAUGE_TYPE || last.counterResetHint !== GAUGE_TYPE) {
    ev.ann.histogramNotGauge(metric, pos);
  }
  h.counterResetHint = GAUGE_TYPE;
  h.compact();

  // Extrapolation as for floats (promql/functions.go extrapolatedRate).
  const rangeStart = t - rangeMs;
  const firstT = ts[0]!;
  const lastT = ts[ts.length - 1]!;
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (t - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avg = sampledInterval / (hs.length - 1);
  const threshold = avg * 1.1;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (h.count > 0 && hs[0]!.count >= 0) durationToZero = sampledInterval * (hs[0]!.count / h.count);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
  if (isRate) factor /= rangeMs / 1000;
  return h.mul(factor);
}

/** instantHistogramValue is Prometheus's instantValue (irate/idelta) when a window holds histograms. */
function instantHistogramValue(
  ev: Evaluator,
  data: SelectedSeries,
  w: Window,
  hp: HistPoints,
  isRate: boolean,
  metric: string,
  pos: PosRange | undefined,
): number | FloatHistogram | undefined {
  if (w.floats.length + w.hist.length < 2) return undefined;
  type P = { t: number; f?: number; h?: FloatHistogram };
  const pts: P[] = [];
  for (const j of w.floats.slice(-2)) pts.push({ t: data.timestamps[j]!, f: data.values[j]! });
  for (const j of w.hist.slice(-2)) pts.push({ t: hp.ts[j]!, h: hp.hs[j]! });
  pts.sort((a, b) => a.t - b.t);
  const [a, b] = pts.slice(-2) as [P, P];
  const interval = b.t - a.t;
  if (interval === 0) return undefined;
  if (a.h === undefined && b.h === undefined) {
    let v = b.f!;
    if (!isRate || !(b.f! < a.f!)) v = b.f! - a.f!;
    return isRate ? v / (interval / 1000) : v;
  }
  if (a.h === undefined || b.h === undefined) {
    ev.ann.mixedFloatsHistograms(metric, pos);
    return undefined;
  }
  const r = b.h.copy();
  if (isRate && (b.h.counterResetHint === GAUGE_TYPE || a.h.counterResetHint === GAUGE_TYPE)) ev.ann.histogramNotCounter(metric, pos);
  if (!isRate && (b.h.counterResetHint !== GAUGE_TYPE || a.h.counterResetHint !== GAUGE_TYPE)) ev.ann.histogramNotGauge(metric, pos);
  if (!isRate || !b.h.detectReset(a.h)) {
    if (!addNoting(ev, r, a.h, true, metric, pos, 'subtraction')) return undefined;
  }
  r.counterResetHint = GAUGE_TYPE;
  r.compact();
  if (isRate) r.div(interval / 1000);
  return r;
}

/** exactlyEqual is Prometheus's FloatHistogram.Equals (bit-exact counts, same buckets). */
function exactlyEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  const same = (x: number, y: number): boolean => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
  if (a.schema !== b.schema || !same(a.count, b.count) || !same(a.sum, b.sum)) return false;
  if (a.zeroThreshold !== b.zeroThreshold || !same(a.zeroCount, b.zeroCount)) return false;
  if (a.customValues.length !== b.customValues.length || a.customValues.some((v, i) => v !== b.customValues[i])) return false;
  const eqList = (ai: number[], ac: number[], bi: number[], bc: number[]): boolean =>
    ai.length === bi.length && ai.every((v, i) => v === bi[i]) && ac.every((v, i) => same(v, bc[i]!));
  return eqList(a.posIdx, a.posCnt, b.posIdx, b.posCnt) && eqList(a.negIdx, a.negCnt, b.negIdx, b.negCnt);
}

/** countTransitions is resets() / changes() over a window of both kinds. */
function countTransitions(data: SelectedSeries, w: Window, hp: HistPoints, resets: boolean): number {
  type P = { t: number; f?: number; h?: FloatHistogram };
  const pts: P[] = [];
  for (const j of w.floats) pts.push({ t: data.timestamps[j]!, f: data.values[j]! });
  for (const j of w.hist) pts.push({ t: hp.ts[j]!, h: hp.hs[j]! });
  pts.sort((a, b) => a.t - b.t);
  let n = 0;
  for (let k = 1; k < pts.length; k++) {
    const p = pts[k - 1]!;
    const c = pts[k]!;
    if (p.h === undefined && c.h === undefined) {
      if (resets ? c.f! < p.f! : c.f !== p.f && !(Number.isNaN(c.f) && Number.isNaN(p.f))) n++;
    } else if (p.h === undefined || c.h === undefined) {
      n++;
    } else if (resets ? c.h.detectReset(p.h) : !exactlyEqual(c.h, p.h)) {
      n++;
    }
  }
  return n;
}
