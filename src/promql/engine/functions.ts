// functions.ts evaluates function calls: range-vector functions through the
// range kernels, and the instant-vector and scalar functions (math, time,
// label manipulation, sorting, absent, classic histogram quantiles).

import { goLog, goLog2 } from './go-math.js';
import type { Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from '../parser/ast.js';
import { MatchType } from '../../model/matchers.js';
import { formatFloatF } from '../../compat/gofmt.js';
import type { Evaluator } from './engine.js';
import { checkModifier, evalExtendedRange } from './extended.js';
import { evalInfo } from './info.js';
import { goStrconvQuote } from '../parser/unquote.js';
import { bucketFraction, bucketQuantile, type Bucket } from './histogram.js';
import { histogramFraction, histogramQuantile, histogramStdVar, type FloatHistogram, type HistogramEstimate } from './float-histogram.js';
import { applyHistogramRange, histPointsOf } from './histogram-range.js';
import { HistogramReader, lastAtOrBefore, overlayInstantHistograms } from './histogram-select.js';
import { compileAnchored } from '../../compat/re2.js';
import { isStaleAt } from './float-ops.js';
import { startTimeOverlaps } from './start-times.js';
import { compareLabels, keyWithout, labelsKey, METRIC_NAME } from './labels.js';
import { EngineError, START_TIME_FUNCTIONS, type Labels, type RangeFunction, type SelectedSeries, type StartTimeFunction, type StepGrid } from './types.js';
import { Collector, gridTimes, newSeries, scalarOf, vectorOf, type Series, type Value } from './value.js';

export const RANGE_FUNCTIONS = new Set<string>([
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'resets', 'changes',
  'avg_over_time', 'sum_over_time', 'count_over_time', 'min_over_time', 'max_over_time',
  'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'first_over_time', 'present_over_time',
  'quantile_over_time', 'mad_over_time', 'absent_over_time', 'double_exponential_smoothing',
  'ts_of_min_over_time', 'ts_of_max_over_time', 'ts_of_last_over_time', 'ts_of_first_over_time',
]);

const MATH: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  sqrt: Math.sqrt,
  // As Go computes them, so answers equal Prometheus's to the bit.
  ln: goLog,
  log2: goLog2,
  log10: (x) => goLog(x) * Math.LOG10E,
  sgn: (x) => (x < 0 ? -1 : x > 0 ? 1 : x),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  sinh: Math.sinh,
  cosh: Math.cosh,
  tanh: Math.tanh,
  asinh: Math.asinh,
  acosh: Math.acosh,
  atanh: Math.atanh,
  deg: (x) => (x * 180) / Math.PI,
  rad: (x) => (x * Math.PI) / 180,
};

const DATE_FUNCS: Record<string, (d: Date) => number> = {
  minute: (d) => d.getUTCMinutes(),
  hour: (d) => d.getUTCHours(),
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

export const NO_NAME_DROP = new Set(['last_over_time', 'first_over_time']);

/** HISTOGRAM_FUNCS are the functions of one native histogram sample. */
const HISTOGRAM_FUNCS: Record<string, (h: FloatHistogram) => number> = {
  histogram_count: (h) => h.count,
  histogram_sum: (h) => h.sum,
  histogram_avg: (h) => h.sum / h.count,
  histogram_stddev: (h) => Math.sqrt(histogramStdVar(h)),
  histogram_stdvar: (h) => histogramStdVar(h),
};

/** hasFloatCell reports whether a series has a float value at some step. */
function hasFloatCell(s: Series): boolean {
  for (let i = 0; i < s.present.length; i++) if (s.present[i] && s.histograms?.[i] === undefined) return true;
  return false;
}

/** floatCells returns the series with their histogram cells removed (series left without a value dropped). */
export function floatCells(series: Series[]): Series[] {
  const out: Series[] = [];
  for (const s of series) {
    if (s.histograms === undefined) {
      out.push(s);
      continue;
    }
    const present = s.present.slice();
    let any = false;
    for (let i = 0; i < present.length; i++) {
      if (s.histograms[i] !== undefined) present[i] = 0;
      else if (present[i]) any = true;
    }
    if (any) out.push({ labels: s.labels, values: s.values, present, dropName: s.dropName });
  }
  return out;
}

function unwrap(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

function stringArg(e: Expr, fn: string): string {
  const u = unwrap(e);
  if (u.type !== 'StringLiteral') throw new EngineError('execution', `expected string literal argument to ${fn}`);
  return u.val;
}

/** mapSeries applies f to every present value; dropName marks the output for name removal. */
function mapSeries(series: Series[], f: (x: number, step: number) => number, dropName: boolean): Series[] {
  return series.map((s) => {
    const values = new Float64Array(s.values.length);
    for (let i = 0; i < values.length; i++) if (s.present[i]) values[i] = f(s.values[i], i);
    return { labels: s.labels, values, present: s.present, dropName: dropName || s.dropName };
  });
}

/** evalCall evaluates a function call over the grid. */
export function evalCall(ev: Evaluator, e: Call, grid: StepGrid): Value {
  const args = e.args.map(unwrap);
  const name = e.func;
  if (RANGE_FUNCTIONS.has(name)) return evalRangeCall(ev, e, args, grid);

  const fn = MATH[name];
  if (fn) {
    const v = ev.eval(args[0], grid);
    if (v.type === 'scalar') return { type: 'scalar', values: v.values.map(fn) };
    // Float functions skip histogram samples, as Prometheus's simpleFloatFunc.
    return { type: 'vector', series: mapSeries(floatCells(vectorOf(v, name)), fn, true) };
  }
  const dateFn = DATE_FUNCS[name];
  if (dateFn) {
    const at = (secs: number): number => (Number.isFinite(secs) ? dateFn(new Date(secs * 1000)) : NaN);
    if (args.length === 0) {
      const s = newSeries({}, grid.n, false);
      const times = gridTimes(grid);
      for (let i = 0; i < grid.n; i++) {
        s.values[i] = at(times[i] / 1000);
        s.present[i] = 1;
      }
      return { type: 'vector', series: [s] };
    }
    return { type: 'vector', series: mapSeries(floatCells(vectorOf(ev.eval(args[0], grid), name)), at, true) };
  }

  switch (name) {
    case 'pi':
      return { type: 'scalar', values: new Float64Array(grid.n).fill(Math.PI) };
    case 'time':
      return { type: 'scalar', values: gridTimes(grid).map((t) => t / 1000) };
    case 'step':
      return { type: 'scalar', values: new Float64Array(grid.n).fill(ev.isRangeQuery ? ev.queryStepMs / 1000 : 0) };
    case 'range':
      return { type: 'scalar', values: new Float64Array(grid.n).fill((ev.queryEndMs - ev.queryStartMs) / 1000) };
    case 'start':
      return { type: 'scalar', values: new Float64Array(grid.n).fill(ev.queryStartMs / 1000) };
    case 'end':
      return { type: 'scalar', values: new Float64Array(grid.n).fill(ev.queryEndMs / 1000) };
    case 'min_of':
    case 'max_of': {
      const a = scalarOf(ev.eval(args[0], grid), name);
      const b = scalarOf(ev.eval(args[1], grid), name);
      const f = name === 'min_of' ? Math.min : Math.max;
      return { type: 'scalar', values: a.map((x, i) => f(x, b[i])) };
    }
    case 'round': {
      const vec = floatCells(vectorOf(ev.eval(args[0], grid), name));
      const to = args[1] ? scalarOf(ev.eval(args[1], grid), name) : undefined;
      return {
        type: 'vector',
        series: mapSeries(
          vec,
          (x, i) => {
            const inv = 1 / (to ? to[i] : 1);
            return Math.floor(x * inv + 0.5) / inv;
          },
          true,
        ),
      };
    }
    case 'clamp':
    case 'clamp_min':
    case 'clamp_max': {
      const vec = floatCells(vectorOf(ev.eval(args[0], grid), name));
      const a = scalarOf(ev.eval(args[1], grid), name);
      const b = name === 'clamp' ? scalarOf(ev.eval(args[2], grid), name) : undefined;
      const out = mapSeries(
        vec,
        (x, i) => (name === 'clamp' ? Math.max(a[i], Math.min(b![i], x)) : name === 'clamp_min' ? Math.max(a[i], x) : Math.min(a[i], x)),
        true,
      );
      if (b) {
        // clamp with max < min yields nothing at that step.
        for (const s of out) {
          const present = s.present.slice();
          for (let i = 0; i < grid.n; i++) if (b[i] < a[i]) present[i] = 0;
          s.present = present;
        }
      }
      return { type: 'vector', series: out };
    }
    case 'timestamp':
      return evalTimestamp(ev, args[0], grid);
    case 'start_timestamp':
      return evalStartTimestamp(ev, args[0], grid);
    case 'scalar': {
      // Only float samples count (histograms are skipped).
      const vec = floatCells(vectorOf(ev.eval(args[0], grid), name));
      const out = new Float64Array(grid.n);
      for (let i = 0; i < grid.n; i++) {
        let count = 0;
        let v = NaN;
        for (const s of vec) {
          if (s.present[i]) {
            count++;
            v = s.values[i];
          }
        }
        out[i] = count === 1 ? v : NaN;
      }
      return { type: 'scalar', values: out };
    }
    case 'vector': {
      const v = scalarOf(ev.eval(args[0], grid), name);
      const s = newSeries({}, grid.n, false);
      s.values.set(v);
      s.present.fill(1);
      return { type: 'vector', series: [s] };
    }
    case 'absent': {
      const vec = vectorOf(ev.eval(args[0], grid), name);
      const s = newSeries(absentLabels(args[0]), grid.n, false);
      let any = false;
      for (let i = 0; i < grid.n; i++) {
        if (vec.some((x) => x.present[i])) continue;
        s.values[i] = 1;
        s.present[i] = 1;
        any = true;
      }
      return { type: 'vector', series: any ? [s] : [] };
    }
    case 'label_replace':
      return evalLabelReplace(ev, args, grid);
    case 'label_join':
      return evalLabelJoin(ev, args, grid);
    case 'sort':
    case 'sort_desc':
    case 'sort_by_label':
    case 'sort_by_label_desc':
      return evalSort(ev, e, args, grid);
    case 'histogram_quantile':
      return evalHistogramQuantile(ev, args, grid);
    case 'histogram_quantiles':
      return evalHistogramQuantiles(ev, args, grid);
    case 'histogram_fraction':
      return evalHistogramFraction(ev, args, grid);
    case 'histogram_count':
    case 'histogram_sum':
    case 'histogram_avg':
    case 'histogram_stddev':
    case 'histogram_stdvar': {
      // Only histogram samples count; float samples are ignored, as Prometheus does.
      const f = HISTOGRAM_FUNCS[name]!;
      const out: Series[] = [];
      for (const s of vectorOf(ev.eval(args[0], grid), name)) {
        if (s.histograms === undefined) continue;
        const r = newSeries(s.labels, grid.n, true);
        let any = false;
        for (let i = 0; i < grid.n; i++) {
          const h = s.histograms[i];
          if (!s.present[i] || h === undefined) continue;
          r.values[i] = f(h);
          r.present[i] = 1;
          any = true;
        }
        if (any) out.push(r);
      }
      return { type: 'vector', series: out };
    }
    case 'info':
      return evalInfo(ev, args, grid);
    default:
      throw new EngineError('execution', `unknown function with name "${name}"`);
  }
}

function evalTimestamp(ev: Evaluator, arg: Expr, grid: StepGrid): Value {
  // An embedded (already evaluated) selector is a function result: its timestamps are the steps'.
  if (arg.type === 'VectorSelector' && ev.opts.embedded?.(arg, grid) === undefined) {
    const vs: VectorSelector = arg;
    const times = ev.shiftedTimes(grid, vs.at, vs.offsetMs);
    const lookback = ev.lookbackMs;
    const data = ev.selectFor(vs, times, lookback);
    const inst = ev.kernels.instant(data, times, lookback);
    const ts = ev.kernels.range('ts_of_last_over_time', data, times, lookback, new Float64Array(0));
    if (data.histograms !== undefined) {
      // A histogram sample newer than the newest float decides (absent when it is a stale marker).
      overlayInstantHistograms(data, times, lookback, inst.values, inst.present);
      const hist = histPointsOf(data);
      const stale = new HistogramReader(data.histograms);
      for (let s = 0; s < data.labels.length; s++) {
        const [from, to] = stale.range(s);
        if (to === from || hist[s] === undefined) continue;
        for (let i = 0; i < grid.n; i++) {
          const t = times[i]!;
          const j = lastAtOrBefore(data.histograms.timestamps, from, to, t);
          if (j < from || stale.time(j) <= t - lookback) continue;
          const x = s * grid.n + i;
          if (!ts.present[x] || ts.values[x]! < stale.time(j) / 1000) {
            ts.values[x] = stale.time(j) / 1000;
            ts.present[x] = 1;
          }
        }
      }
    }
    const n = grid.n;
    return cellsVector(ev, data.labels, n, (s, i) => {
      const x = s * n + i;
      return inst.present[x] && ts.present[x] ? ts.values[x] : undefined;
    });
  }
  const vec = vectorOf(ev.eval(arg, grid), 'timestamp');
  const times = gridTimes(grid);
  return { type: 'vector', series: mapSeries(vec, (_x, i) => times[i] / 1000, true) };
}

/**
 * evalStartTimestamp is start_timestamp(): the start timestamp (seconds) of the sample an instant
 * selector picks at each step, 0 where it has none. As Prometheus, it answers only for a selector
 * argument with start timestamps in use; any other argument gives nothing.
 */
function evalStartTimestamp(ev: Evaluator, arg: Expr, grid: StepGrid): Value {
  if (arg.type !== 'VectorSelector' || ev.opts.useStartTimestamps !== true) {
    ev.eval(arg, grid);
    return { type: 'vector', series: [] };
  }
  const vs: VectorSelector = arg;
  const times = ev.shiftedTimes(grid, vs.at, vs.offsetMs);
  const lookback = ev.lookbackMs;
  const data = ev.selectFor(vs, times, lookback);
  const inst = ev.kernels.instant(data, times, lookback);
  overlayInstantHistograms(data, times, lookback, inst.values, inst.present);
  const n = grid.n;
  const hr = data.histograms === undefined ? undefined : new HistogramReader(data.histograms);
  return cellsVector(ev, data.labels, n, (s, i) => {
    if (!inst.present[s * n + i]) return undefined;
    const from = data.offsets[s]!;
    const to = data.offsets[s + 1]!;
    const t = times[i]!;
    // The picked sample is the newer of the last float and the last histogram at or before t.
    const j = lastAtOrBefore(data.timestamps, from, to, t);
    if (hr !== undefined) {
      const [hFrom, hTo] = hr.range(s);
      const h = lastAtOrBefore(data.histograms!.timestamps, hFrom, hTo, t);
      if (h >= hFrom && (j < from || data.histograms!.timestamps[h]! > data.timestamps[j]!)) return (data.histograms!.startTimestamps?.[h] ?? 0) / 1000;
    }
    return j >= from ? (data.startTimestamps?.[j] ?? 0) / 1000 : 0;
  });
}

/**
 * cellsVector is the vector of a selector's series (metric names dropped) with cell(s, i) as series
 * s's value at step i (undefined: none), charging a sample per value.
 */
function cellsVector(ev: Evaluator, labels: Labels[], n: number, cell: (s: number, i: number) => number | undefined): Value {
  const out: Series[] = [];
  let loaded = 0;
  for (let s = 0; s < labels.length; s++) {
    const series = newSeries(labels[s]!, n, true);
    let any = false;
    for (let i = 0; i < n; i++) {
      const v = cell(s, i);
      if (v === undefined) continue;
      series.values[i] = v;
      series.present[i] = 1;
      any = true;
      loaded++;
    }
    if (any) out.push(series);
  }
  ev.addSamples(loaded);
  return { type: 'vector', series: out };
}

/**
 * noteStartTimeOverlaps warns, once per series and step, where a window of rate/increase holds a
 * float sample whose start time reaches back before the previous sample (Prometheus's
 * checkStartTimeOverlap), staleness markers skipped.
 */
function noteStartTimeOverlaps(ev: Evaluator, data: SelectedSeries, evalTimes: Float64Array, rangeMs: number, pos: Parameters<Evaluator['ann']['startTimeOverlap']>[1]): void {
  const sts = data.startTimestamps;
  if (sts === undefined) return;
  for (let s = 0; s < data.labels.length; s++) {
    // Pairs (previous, current) that overlap, as [previous time, current time].
    const pairs: Array<[number, number]> = [];
    let prev = -1;
    for (let j = data.offsets[s]!; j < data.offsets[s + 1]!; j++) {
      if (isStaleAt(data.values, j)) continue;
      if (prev >= 0 && startTimeOverlaps(sts[prev]!, data.timestamps[prev]!, sts[j]!)) pairs.push([data.timestamps[prev]!, data.timestamps[j]!]);
      prev = j;
    }
    if (pairs.length === 0) continue;
    const metric = data.labels[s]![METRIC_NAME] ?? '';
    for (const t of evalTimes) {
      if (pairs.some(([a, b]) => a > t - rangeMs && b <= t)) ev.ann.startTimeOverlap(metric, pos);
    }
  }
}

/** absentLabels derives absent()'s output labels from a selector's equality matchers. */
function absentLabels(arg: Expr): Labels {
  let vs: VectorSelector | undefined;
  if (arg.type === 'VectorSelector') vs = arg;
  else if (arg.type === 'MatrixSelector') vs = arg.vs;
  if (!vs) return {};
  const out: Labels = {};
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === MatchType.Equal && !has.has(m.name)) {
      if (m.value !== '') out[m.name] = m.value;
      has.add(m.name);
    } else {
      delete out[m.name];
    }
  }
  const sorted: Labels = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return sorted;
}

function evalRangeCall(ev: Evaluator, e: Call, args: Expr[], grid: StepGrid): Value {
  const name = e.func as RangeFunction;
  const rangeIdx = args.findIndex((a) => a.type === 'MatrixSelector' || a.type === 'SubqueryExpr');
  if (rangeIdx < 0) throw new EngineError('execution', `expected type range vector in call to function "${name}"`);
  const scalars: Float64Array[] = [];
  args.forEach((a, i) => {
    if (i !== rangeIdx) scalars.push(scalarOf(ev.eval(a, grid), name));
  });
  const arg = args[rangeIdx] as MatrixSelector | SubqueryExpr;
  if (arg.type === 'MatrixSelector' && (arg.vs.anchored || arg.vs.smoothed)) {
    checkModifier(name, arg.vs);
    return { type: 'vector', series: evalExtendedRange(ev, name, arg, grid) };
  }
  if (arg.type === 'MatrixSelector' && scalars.length === 0 && name !== 'absent_over_time') {
    const fused = ev.fusedRange(name, arg, grid, !NO_NAME_DROP.has(name));
    if (fused) {
      if (name === 'rate' || name === 'increase') {
        for (const s of fused) {
          const metric = s.labels[METRIC_NAME];
          if (metric && !/(_total|_sum|_count|_bucket)$/.test(metric)) ev.ann.possibleNonCounter(metric, e.args[rangeIdx].pos);
        }
      }
      return { type: 'vector', series: fused };
    }
  }
  const rd = ev.rangeData(arg, grid);
  const n = grid.n;
  const nS = rd.data.labels.length;

  if (name === 'predict_linear') {
    // Prometheus fits the intercept at the evaluation time, not at the window end (they differ by offset or @).
    const stepTimes = gridTimes(grid);
    scalars[0] = scalars[0].map((d, i) => d + (stepTimes[i] - rd.evalTimes[i]) / 1000);
  }
  if (name === 'quantile_over_time') {
    for (const q of scalars[0]) if (Number.isNaN(q) || q < 0 || q > 1) ev.ann.invalidQuantile(q, e.args[0].pos);
  }
  if (name === 'double_exponential_smoothing' && rd.data.values.length > 0) {
    for (let i = 0; i < n; i++) {
      const sf = scalars[0][i];
      const tf = scalars[1][i];
      if (!(sf > 0 && sf < 1)) throw new EngineError('execution', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
      if (!(tf > 0 && tf < 1)) throw new EngineError('execution', `invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
    }
  }

  const kernelFn: RangeFunction = name === 'absent_over_time' ? 'count_over_time' : name;
  let values: Float64Array;
  let present: Uint8Array;
  const constant = scalars.every((s) => s.every((x) => Object.is(x, s[0])));
  if (constant || n <= 1) {
    const params = Float64Array.from(scalars.map((s) => s[0]));
    ({ values, present } = ev.kernels.range(kernelFn, rd.data, rd.evalTimes, rd.rangeMs, params));
  } else {
    values = new Float64Array(nS * n);
    present = new Uint8Array(nS * n);
    for (let i = 0; i < n; i++) {
      const params = Float64Array.from(scalars.map((s) => s[i]));
      const r = ev.kernels.range(kernelFn, rd.data, rd.evalTimes.subarray(i, i + 1), rd.rangeMs, params);
      for (let s = 0; s < nS; s++) {
        values[s * n + i] = r.values[s];
        present[s * n + i] = r.present[s];
      }
    }
  }

  const readStartTimes = ev.opts.useStartTimestamps === true && START_TIME_FUNCTIONS.has(name) && arg.type === 'MatrixSelector';
  if (readStartTimes && rd.data.startTimestamps !== undefined && ev.kernels.rangeStartTimes) {
    ({ values, present } = ev.kernels.rangeStartTimes(name as StartTimeFunction, rd.data, rd.evalTimes, rd.rangeMs));
    if (name === 'rate' || name === 'increase') noteStartTimeOverlaps(ev, rd.data, rd.evalTimes, rd.rangeMs, e.args[rangeIdx].pos);
  }

  let histCols: Array<Array<FloatHistogram | undefined> | undefined> | undefined;
  if (rd.hist !== undefined && name !== 'absent_over_time') {
    histCols = applyHistogramRange(ev, name, rd.data, rd.hist, rd.evalTimes, rd.rangeMs, values, present, e.args[rangeIdx].pos);
  } else if (rd.hist !== undefined) {
    // absent_over_time: a window with only histogram samples is not empty.
    for (let k = 0; k < nS; k++) {
      const hp = rd.hist[k];
      if (hp === undefined) continue;
      for (let i = 0; i < n; i++) {
        const t = rd.evalTimes[i]!;
        if (hp.ts.some((x) => x > t - rd.rangeMs && x <= t)) present[k * n + i] = 1;
      }
    }
  }

  if (name === 'absent_over_time') {
    const s = newSeries(absentLabels(arg), n, true);
    let any = false;
    for (let i = 0; i < n; i++) {
      let found = false;
      for (let k = 0; k < nS; k++) if (present[k * n + i]) found = true;
      if (found) continue;
      s.values[i] = 1;
      s.present[i] = 1;
      any = true;
    }
    return { type: 'vector', series: any ? [s] : [] };
  }

  const dropName = !NO_NAME_DROP.has(name);
  const out: Series[] = [];
  // Rows are views of the kernel's arrays (no node changes its inputs' arrays).
  for (let k = 0; k < nS; k++) {
    const p = present.subarray(k * n, (k + 1) * n);
    let any = false;
    for (let i = 0; i < n; i++) if (p[i]) any = true;
    if (!any) continue;
    const labels = rd.data.labels[k];
    const series: Series = { labels, values: values.subarray(k * n, (k + 1) * n), present: p, dropName };
    const hc = histCols?.[k];
    if (hc !== undefined) series.histograms = hc;
    out.push(series);
    if ((name === 'rate' || name === 'increase') && (hc === undefined || hasFloatCell(series))) {
      const metric = labels[METRIC_NAME];
      if (metric && !/(_total|_sum|_count|_bucket)$/.test(metric)) ev.ann.possibleNonCounter(metric, e.args[rangeIdx].pos);
    }
  }
  return { type: 'vector', series: out };
}

/** isValidLabelName accepts any non-empty valid UTF-8 name (Prometheus 3 UTF-8 names). */
function isValidLabelName(s: string): boolean {
  return s.length > 0 && !/[\ufffd]/.test(s) && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
}

/** expandTemplate expands $1, ${1}, $name, ${name} as Go's regexp.Expand does. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      if (close < 0) {
        out += c;
        continue;
      }
      name = template.slice(i + 2, close);
      end = close;
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        out += c;
        continue;
      }
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!mm) {
        out += c;
        continue;
      }
      name = mm[0];
      end = i + name.length;
    }
    if (/^[0-9]+$/.test(name)) {
      const idx = Number(name);
      out += idx < m.length ? (m[idx] ?? '') : '';
    } else {
      out += m.groups?.[name] ?? '';
    }
    i = end;
  }
  return out;
}

/** compileGoRegexp compiles a fully anchored regexp, translating Go's named groups. */
function compileGoRegexp(re: string): RegExp {
  return compileAnchored(re);
}

function relabel(ev: Evaluator, input: Series[], n: number, f: (ls: Labels) => Labels, dst: string): Value {
  const col = new Collector(n);
  for (const s of input) {
    const labels = f(s.labels);
    const key = labelsKey(labels);
    const dropName = dst === METRIC_NAME ? false : s.dropName;
    for (let i = 0; i < n; i++) if (s.present[i]) col.add(labels, dropName, i, s.values[i], key);
  }
  void ev;
  return { type: 'vector', series: col.series() };
}

function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: Labels = {};
  const names = new Set(Object.keys(ls));
  names.add(name);
  for (const k of [...names].sort()) {
    const v = k === name ? value : ls[k];
    if (v !== '') out[k] = v;
  }
  return out;
}

function evalLabelReplace(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const dst = stringArg(args[1], 'label_replace');
  const repl = stringArg(args[2], 'label_replace');
  const src = stringArg(args[3], 'label_replace');
  const reStr = stringArg(args[4], 'label_replace');
  let re: RegExp;
  try {
    re = compileGoRegexp(reStr);
  } catch {
    throw new EngineError('execution', `invalid regular expression in label_replace(): ${reStr}`);
  }
  if (!isValidLabelName(dst)) throw new EngineError('execution', `invalid destination label name in label_replace(): ${dst}`);
  const input = vectorOf(ev.eval(args[0], grid), 'label_replace');
  return relabel(
    ev,
    input,
    grid.n,
    (ls) => {
      const m = re.exec(ls[src] ?? '');
      if (!m) return ls;
      return setLabel(ls, dst, expandTemplate(repl, m));
    },
    dst,
  );
}

function evalLabelJoin(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const dst = stringArg(args[1], 'label_join');
  const sep = stringArg(args[2], 'label_join');
  const srcs = args.slice(3).map((a) => stringArg(a, 'label_join'));
  if (!isValidLabelName(dst)) throw new EngineError('execution', `invalid destination label name in label_join(): ${dst}`);
  for (const s of srcs) if (!isValidLabelName(s)) throw new EngineError('execution', `invalid source label name in label_join(): ${s}`);
  const input = vectorOf(ev.eval(args[0], grid), 'label_join');
  return relabel(ev, input, grid.n, (ls) => setLabel(ls, dst, srcs.map((s) => ls[s] ?? '').join(sep)), dst);
}

/** naturalLess orders strings with embedded numbers numerically (as natsort). */
export function naturalCompare(a: string, b: string): number {
  const ca = a.match(/(\d+|\D+)/g) ?? [];
  const cb = b.match(/(\d+|\D+)/g) ?? [];
  const l = Math.min(ca.length, cb.length);
  for (let i = 0; i < l; i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

function evalSort(ev: Evaluator, e: Call, args: Expr[], grid: StepGrid): Value {
  const name = e.func;
  const input = vectorOf(ev.eval(args[0], grid), name);
  // sort and sort_desc drop histogram samples (Prometheus's filterFloats).
  const vec = name === 'sort' || name === 'sort_desc' ? floatCells(input) : input;
  if (ev.isRangeQuery) ev.ann.sortInRangeQuery(e.pos);
  if (grid.n !== 1) return { type: 'vector', series: vec };
  const present = vec.filter((s) => s.present[0]);
  if (name === 'sort' || name === 'sort_desc') {
    const desc = name === 'sort_desc';
    present.sort((a, b) => {
      const x = a.values[0];
      const y = b.values[0];
      const nx = Number.isNaN(x);
      const ny = Number.isNaN(y);
      if (nx || ny) return nx === ny ? 0 : nx ? 1 : -1;
      return desc ? y - x : x - y;
    });
    return { type: 'vector', series: present };
  }
  const names = args.slice(1).map((a) => stringArg(a, name));
  const desc = name === 'sort_by_label_desc';
  present.sort((a, b) => {
    for (const l of names) {
      const x = a.labels[l] ?? '';
      const y = b.labels[l] ?? '';
      if (x === y) continue;
      const c = naturalCompare(x, y);
      return desc ? -c : c;
    }
    const c = compareLabels(a.labels, b.labels);
    return desc ? -c : c;
  });
  return { type: 'vector', series: present };
}

/** parseLe parses a bucket bound as Go's strconv.ParseFloat does. */
export function parseLe(s: string): number | undefined {
  const t = s.trim() === s ? s : '';
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?0[xX][0-9a-fA-F.]+([pP][+-]?\d+)?$/.test(t)) {
    const v = Number(t.replace(/_/g, ''));
    return Number.isNaN(v) ? undefined : v;
  }
  return undefined;
}

interface BucketGroup {
  /** key is the group's signature: its series' labels without le (metric name kept). */
  key: string;
  labels: Labels;
  metric: string;
  members: Array<{ series: Series; le: number }>;
  /** skip are the steps where a native histogram of the same labels voids the group. */
  skip?: Set<number>;
}

const LE = new Set(['le']);

function bucketGroups(ev: Evaluator, input: Series[], argPos: Call['pos']): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  const ex = new Set(['le']);
  for (const s of input) {
    const raw = s.labels.le ?? '';
    const le = parseLe(raw);
    if (le === undefined) {
      ev.ann.badBucketLabel(s.labels[METRIC_NAME] ?? '', raw, argPos);
      continue;
    }
    // The signature keeps the metric name; the output labels drop it and le.
    const key = keyWithout(s.labels, ex);
    let g = groups.get(key);
    if (!g) {
      const labels: Labels = {};
      for (const k of Object.keys(s.labels)) if (k !== 'le' && k !== METRIC_NAME) labels[k] = s.labels[k];
      g = { key, labels, metric: s.labels[METRIC_NAME] ?? '', members: [] };
      groups.set(key, g);
    }
    g.members.push({ series: s, le });
  }
  return [...groups.values()];
}

function bucketsAt(g: BucketGroup, i: number): Bucket[] {
  const out: Bucket[] = [];
  for (const m of g.members) if (m.series.present[i]) out.push({ upperBound: m.le, count: m.series.values[i] });
  return out;
}

/**
 * nativeCells calls f for each native histogram cell of the input that has no classic buckets of
 * the same labels at its step (where it has, neither is evaluated and Prometheus warns), and
 * returns the classic groups with those steps removed.
 */
function nativeAndClassic(
  ev: Evaluator,
  input: Series[],
  argPos: Call['pos'],
  n: number,
  f: (s: Series, h: FloatHistogram, step: number) => void,
): BucketGroup[] {
  const groups = bucketGroups(ev, floatCells(input), argPos);
  const byKey = new Map<string, BucketGroup>();
  for (const g of groups) byKey.set(g.key, g);
  for (const s of input) {
    if (s.histograms === undefined) continue;
    const g = byKey.get(keyWithout(s.labels, LE));
    for (let i = 0; i < n; i++) {
      const h = s.histograms[i];
      if (!s.present[i] || h === undefined) continue;
      if (g !== undefined && bucketsAt(g, i).length > 0) {
        ev.ann.mixedClassicNativeHistograms(s.labels[METRIC_NAME] ?? '', argPos);
        (g.skip ??= new Set()).add(i);
        continue;
      }
      f(s, h, i);
    }
  }
  return groups;
}

/** estimateInfo adds the info annotation a native quantile or fraction asked for. */
function estimateInfo(ev: Evaluator, r: HistogramEstimate, metric: string, p: Call['pos']): void {
  if (r.info === 'quantile-nan-result') ev.ann.quantileNaNResult(metric, p);
  else if (r.info === 'quantile-nan-skew') ev.ann.quantileNaNSkew(metric, p);
  else if (r.info === 'fraction-nans') ev.ann.fractionNaNs(metric, p);
}

function evalHistogramQuantile(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const q = scalarOf(ev.eval(args[0], grid), 'histogram_quantile');
  const input = vectorOf(ev.eval(args[1], grid), 'histogram_quantile');
  for (const x of q) if (Number.isNaN(x) || x < 0 || x > 1) ev.ann.invalidQuantile(x, args[0].pos);
  const col = new Collector(grid.n);
  const groups = nativeAndClassic(ev, input, args[1].pos, grid.n, (s, h, i) => {
    const r = histogramQuantile(q[i], h);
    estimateInfo(ev, r, s.labels[METRIC_NAME] ?? '', args[1].pos);
    col.add(s.labels, true, i, r.value);
  });
  for (const g of groups) {
    const key = labelsKey(g.labels);
    for (let i = 0; i < grid.n; i++) {
      if (g.skip?.has(i)) continue;
      const b = bucketsAt(g, i);
      if (b.length === 0) continue;
      const [v, forced] = bucketQuantile(q[i], b);
      if (forced) ev.ann.forcedMonotonicity(g.metric, args[1].pos);
      col.add(g.labels, true, i, v, key);
    }
  }
  return { type: 'vector', series: col.series() };
}

/** quantileLabel renders a quantile as a label value, always with a decimal point ("0.0", "0.25"). */
function quantileLabel(q: number): string {
  const s = formatFloatF(q);
  return /^[+-]?\d+$/.test(s) ? `${s}.0` : s;
}

function evalHistogramQuantiles(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const input = vectorOf(ev.eval(args[0], grid), 'histogram_quantiles');
  const label = stringArg(args[1], 'histogram_quantiles');
  const lit = unwrap(args[1]);
  const invalidUtf8 = lit.type === 'StringLiteral' ? lit.invalidUtf8 : undefined;
  if (invalidUtf8 !== undefined || !isValidLabelName(label)) throw new EngineError('execution', `invalid label name ${invalidUtf8 ?? goStrconvQuote(label)}`);
  const qs = args.slice(2).map((a) => scalarOf(ev.eval(a, grid), 'histogram_quantiles'));
  for (const q of qs) for (const x of q) if (Number.isNaN(x) || x < 0 || x > 1) ev.ann.invalidQuantile(x, args[2 + qs.indexOf(q)].pos);
  const col = new Collector(grid.n);
  const groups = nativeAndClassic(ev, input, args[0].pos, grid.n, (s, h, i) => {
    if (label in s.labels) throw new EngineError('execution', `label ${goStrconvQuote(label)} already exists in the input of histogram_quantiles`);
    for (const q of qs) {
      const r = histogramQuantile(q[i], h);
      estimateInfo(ev, r, s.labels[METRIC_NAME] ?? '', args[0].pos);
      col.add(setLabel(s.labels, label, quantileLabel(q[i])), true, i, r.value);
    }
  });
  for (const g of groups) {
    if (label in g.labels) throw new EngineError('execution', `label ${goStrconvQuote(label)} already exists in the input of histogram_quantiles`);
    for (let i = 0; i < grid.n; i++) {
      if (g.skip?.has(i)) continue;
      const b = bucketsAt(g, i);
      if (b.length === 0) continue;
      for (const q of qs) {
        const [v, forced] = bucketQuantile(q[i], b.map((x) => ({ ...x })));
        if (forced) ev.ann.forcedMonotonicity(g.metric, args[0].pos);
        const labels = setLabel(g.labels, label, quantileLabel(q[i]));
        col.add(labels, true, i, v);
      }
    }
  }
  return { type: 'vector', series: col.series() };
}

function evalHistogramFraction(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const lo = scalarOf(ev.eval(args[0], grid), 'histogram_fraction');
  const hi = scalarOf(ev.eval(args[1], grid), 'histogram_fraction');
  const input = vectorOf(ev.eval(args[2], grid), 'histogram_fraction');
  const col = new Collector(grid.n);
  const groups = nativeAndClassic(ev, input, args[2].pos, grid.n, (s, h, i) => {
    const r = histogramFraction(lo[i], hi[i], h);
    estimateInfo(ev, r, s.labels[METRIC_NAME] ?? '', args[2].pos);
    col.add(s.labels, true, i, r.value);
  });
  for (const g of groups) {
    const key = labelsKey(g.labels);
    for (let i = 0; i < grid.n; i++) {
      if (g.skip?.has(i)) continue;
      const b = bucketsAt(g, i);
      if (b.length === 0) continue;
      col.add(g.labels, true, i, bucketFraction(lo[i], hi[i], b), key);
    }
  }
  return { type: 'vector', series: col.series() };
}
