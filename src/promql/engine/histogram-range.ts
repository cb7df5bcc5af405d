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
import { isStartTimeReset, startTimeOverlaps } from './start-times.js';
import type { SelectedSeries } from './types.js';

/** HistPoints are one series' native-histogram samples (no stale markers), ascending in time. */
export interface HistPoints {
  ts: number[];
  hs: FloatHistogram[];
  /** st are the samples' start timestamps in ms (0: unknown), when the selection has any. */
  st?: number[];
}

/** histPointsOf decodes a selection's histogram samples per series (undefined where a series has none). */
export function histPointsOf(data: SelectedSeries): Array<HistPoints | undefined> {
  const out: Array<HistPoints | undefined> = new Array(data.labels.length);
  if (data.histograms === undefined) return out;
  const r = new HistogramReader(data.histograms);
  const sts = data.histograms.startTimestamps;
  for (let s = 0; s < data.labels.length; s++) {
    const [from, to] = r.range(s);
    if (to === from) continue;
    const p: HistPoints = sts === undefined ? { ts: [], hs: [] } : { ts: [], hs: [], st: [] };
    for (let j = from; j < to; j++) {
      if (r.isStale(j)) continue;
      p.ts.push(r.time(j));
      p.hs.push(r.at(j));
      p.st?.push(sts![j]!);
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
  // Start timestamps count only for rate, increase, irate and resets, with use-start-timestamps.
  const readSts = ev.opts.useStartTimestamps === true;
  const floatSts = readSts ? data.startTimestamps : undefined;
  for (let s = 0; s < data.labels.length; s++) {
    const hp = hist[s];
    if (hp === undefined || hp.ts.length === 0) continue;
    const histSts = readSts ? hp.st : undefined;
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
          const sts = name === 'delta' ? undefined : histSts && w.hist.map((j) => histSts[j]!);
          const h = histogramRate(ev, hs, hts, sts, name !== 'delta', name === 'rate', t, rangeMs, metric, pos);
          if (h === undefined) drop();
          else setHist(h);
          break;
        }
        case 'irate':
        case 'idelta': {
          const r = instantHistogramValue(ev, data, w, hp, name === 'irate', metric, pos, name === 'irate' ? { floats: floatSts, hist: histSts } : {});
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
          setFloat(countTransitions(data, w, hp, name === 'resets', name === 'resets' ? { floats: floatSts, hist: histSts } : {}));
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

/** WindowStarts are the start timestamps of a window's float and histogram samples, where read. */
interface WindowStarts {
  /** floats are indexed as data.timestamps. */
  floats?: Float64Array;
  /** hist are indexed as the series' HistPoints. */
  hist?: number[];
}

/**
 * histogramRate is Prometheus's extrapolatedRate over histogram samples (isCounter: rate/increase;
 * isRate: per second). With start timestamps (sts, one per sample), a start past the previous
 * sample is a counter reset, and a first sample whose start lies inside the window stands for a
 * zero there (so one sample can be enough).
 */
function histogramRate(
  ev: Evaluator,
  hs: FloatHistogram[],
  ts: number[],
  sts: number[] | undefined,
  isCounter: boolean,
  isRate: boolean,
  t: number,
  rangeMs: number,
  metric: string,
  pos: PosRange | undefined,
): FloatHistogram | undefined {
  let h: FloatHistogram | undefined;
  if (hs.length > 1) {
    h = histogramIncrease(ev, hs, ts, sts, isCounter, metric, pos);
    if (h === undefined) return undefined;
  }

  // Extrapolation as for floats (promql/functions.go extrapolatedRate).
  const rangeStart = t - rangeMs;
  const firstT = ts[0]!;
  const lastT = ts[ts.length - 1]!;
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (t - lastT) / 1000;
  let sampledInterval = (lastT - firstT) / 1000;
  const avg = hs.length > 1 ? sampledInterval / (hs.length - 1) : 0;
  const threshold = avg * 1.1;
  const st0 = sts?.[0] ?? 0;
  if (isCounter && st0 !== 0 && st0 > rangeStart && st0 < firstT) {
    // A zero at the first sample's start, inside the window, instead of extrapolating left.
    durationToStart = 0;
    sampledInterval = (lastT - st0) / 1000;
    if (h === undefined) h = hs[0]!.copy();
    else if (!addNoting(ev, h, hs[0]!, false, metric, pos, 'addition')) return undefined;
  } else if (h === undefined) {
    return undefined;
  } else {
    if (durationToStart >= threshold) durationToStart = avg / 2;
    if (isCounter) {
      let durationToZero = durationToStart;
      if (h.count > 0 && hs[0]!.count >= 0) durationToZero = sampledInterval * (hs[0]!.count / h.count);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
  if (isRate) factor /= rangeMs / 1000;
  return h.mul(factor);
}

/** histogramIncrease is Prometheus's histogramRate: last minus first with counter-reset correction (two samples or more). */
function histogramIncrease(
  ev: Evaluator,
  hs: FloatHistogram[],
  ts: number[],
  sts: number[] | undefined,
  isCounter: boolean,
  metric: string,
  pos: PosRange | undefined,
): FloatHistogram | undefined {
  const last = hs[hs.length - 1]!;
  let prev = hs[0]!;
  let usingCustom = prev.usesCustomBuckets;
  const stReset = (k: number): boolean => sts !== undefined && isStartTimeReset(sts[k - 1]!, ts[k - 1]!, sts[k]!, ts[k]!);
  if (isCounter && (prev.counterResetHint === GAUGE_TYPE || last.counterResetHint === GAUGE_TYPE)) ev.ann.histogramNotCounter(metric, pos);
  if (isCounter && (stReset(1) || hs[1]!.detectReset(prev))) {
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
    let overlapNoted = false;
    for (let k = 1; k < hs.length; k++) {
      const c = hs[k]!;
      if (!overlapNoted && sts !== undefined && startTimeOverlaps(sts[k - 1]!, ts[k - 1]!, sts[k]!)) {
        ev.ann.startTimeOverlap(metric, pos);
        overlapNoted = true;
      }
      if ((stReset(k) || c.detectReset(p)) && !addNoting(ev, h, p, false, metric, pos, 'addition')) return undefined;
      p = c;
    }
  } else if (hs[0]!.counterResetHint !== GAUGE_TYPE || last.counterResetHint !== GAUGE_TYPE) {
    ev.ann.histogramNotGauge(metric, pos);
  }
  h.counterResetHint = GAUGE_TYPE;
  h.compact();
  return h;
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
  starts: WindowStarts,
): number | FloatHistogram | undefined {
  if (w.floats.length + w.hist.length < 2) return undefined;
  const pts: Point[] = [];
  for (const j of w.floats.slice(-2)) pts.push({ t: data.timestamps[j]!, f: data.values[j]!, st: starts.floats?.[j] ?? 0 });
  for (const j of w.hist.slice(-2)) pts.push({ t: hp.ts[j]!, h: hp.hs[j]!, st: starts.hist?.[j] ?? 0 });
  pts.sort((a, b) => a.t - b.t);
  const [a, b] = pts.slice(-2) as [Point, Point];
  const interval = b.t - a.t;
  if (interval === 0) return undefined;
  const stReset = isStartTimeReset(a.st, a.t, b.st, b.t);
  if (a.h === undefined && b.h === undefined) {
    let v = b.f!;
    if (!isRate || !(b.f! < a.f! || stReset)) v = b.f! - a.f!;
    return isRate ? v / (interval / 1000) : v;
  }
  if (a.h === undefined || b.h === undefined) {
    ev.ann.mixedFloatsHistograms(metric, pos);
    return undefined;
  }
  const r = b.h.copy();
  if (isRate && (b.h.counterResetHint === GAUGE_TYPE || a.h.counterResetHint === GAUGE_TYPE)) ev.ann.histogramNotCounter(metric, pos);
  if (!isRate && (b.h.counterResetHint !== GAUGE_TYPE || a.h.counterResetHint !== GAUGE_TYPE)) ev.ann.histogramNotGauge(metric, pos);
  if (!isRate || !(stReset || b.h.detectReset(a.h))) {
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

/** Point is one sample of a window of both kinds, with its start timestamp (0: unknown or not read). */
type Point = { t: number; f?: number; h?: FloatHistogram; st: number };

/** countTransitions is resets() / changes() over a window of both kinds (resets also at start-timestamp resets). */
function countTransitions(data: SelectedSeries, w: Window, hp: HistPoints, resets: boolean, starts: WindowStarts): number {
  const pts: Point[] = [];
  for (const j of w.floats) pts.push({ t: data.timestamps[j]!, f: data.values[j]!, st: starts.floats?.[j] ?? 0 });
  for (const j of w.hist) pts.push({ t: hp.ts[j]!, h: hp.hs[j]!, st: starts.hist?.[j] ?? 0 });
  pts.sort((a, b) => a.t - b.t);
  let n = 0;
  for (let k = 1; k < pts.length; k++) {
    const p = pts[k - 1]!;
    const c = pts[k]!;
    const stReset = resets && isStartTimeReset(p.st, p.t, c.st, c.t);
    if (p.h === undefined && c.h === undefined) {
      if (resets ? c.f! < p.f! || stReset : c.f !== p.f && !(Number.isNaN(c.f) && Number.isNaN(p.f))) n++;
    } else if (p.h === undefined || c.h === undefined) {
      n++;
    } else if (resets ? stReset || c.h.detectReset(p.h) : !exactlyEqual(c.h, p.h)) {
      n++;
    }
  }
  return n;
}
