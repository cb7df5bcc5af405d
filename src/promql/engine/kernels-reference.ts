// kernels-reference.ts is a plain TypeScript implementation of Kernels over
// in-memory series. It is slow and simple on purpose: the engine's tests run
// on it, and it is the oracle the native kernels are compared with.

import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import { isStaleAt, kahanSumInc, quantileOf } from './float-ops.js';
import { compareLabels, compileMatcher } from './labels.js';
import type { KernelResult, Kernels, Labels, RangeFunction, SelectedSeries } from './types.js';

/** STALE_NAN is Prometheus's staleness marker (a NaN with a distinct payload). */
export const STALE_NAN = (() => {
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  u[0] = 2; // low word
  u[1] = 0x7ff00000; // high word
  return f;
})();

/** RefSeries is one in-memory series of the reference store. */
export interface RefSeries {
  labels: Labels;
  timestamps: number[];
  values: Float64Array | number[];
  /** staleAt marks sample indexes that are staleness markers (alternative to STALE_NAN bits). */
  staleAt?: Set<number>;
}

/** ReferenceKernels implements Kernels in TypeScript over a fixed set of series. */
export class ReferenceKernels implements Kernels {
  private readonly series: Array<{ labels: Labels; ts: Float64Array; vs: Float64Array }>;

  constructor(series: RefSeries[]) {
    this.series = series.map((s) => {
      const vs = new Float64Array(s.values.length);
      for (let i = 0; i < vs.length; i++) {
        if (s.staleAt?.has(i)) vs.set(STALE_NAN, i);
        else if (s.values instanceof Float64Array) vs.set(s.values.subarray(i, i + 1), i);
        else vs[i] = s.values[i];
      }
      return { labels: s.labels, ts: Float64Array.from(s.timestamps), vs };
    });
  }

  select(_tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number): SelectedSeries {
    const preds = matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
    const labels: Labels[] = [];
    const offsets: number[] = [0];
    const ts: number[] = [];
    const idx: Array<[Float64Array, number]> = [];
    const chosen = this.series
      .filter((s) => preds.every((p) => p.test(s.labels[p.name] ?? '')))
      .sort((a, b) => compareLabels(a.labels, b.labels));
    for (const s of chosen) {
      let n = 0;
      for (let i = 0; i < s.ts.length; i++) {
        if (s.ts[i] >= mintMs && s.ts[i] <= maxtMs) {
          ts.push(s.ts[i]);
          idx.push([s.vs, i]);
          n++;
        }
      }
      if (n === 0) continue;
      labels.push(s.labels);
      offsets.push(ts.length);
    }
    const values = new Float64Array(idx.length);
    idx.forEach(([arr, i], j) => values.set(arr.subarray(i, i + 1), j));
    return { labels, offsets: Uint32Array.from(offsets), timestamps: Float64Array.from(ts), values };
  }

  instant(data: SelectedSeries, evalTimesMs: Float64Array, lookbackMs: number): KernelResult {
    const nS = data.labels.length;
    const nT = evalTimesMs.length;
    const values = new Float64Array(nS * nT);
    const present = new Uint8Array(nS * nT);
    for (let s = 0; s < nS; s++) {
      const lo = data.offsets[s];
      const hi = data.offsets[s + 1];
      for (let k = 0; k < nT; k++) {
        const t = evalTimesMs[k];
        // newest sample with ts <= t
        let a = lo;
        let b = hi;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (data.timestamps[mid] <= t) a = mid + 1;
          else b = mid;
        }
        const i = a - 1;
        if (i < lo || data.timestamps[i] <= t - lookbackMs) continue;
        if (isStaleAt(data.values, i)) continue;
        values[s * nT + k] = data.values[i];
        present[s * nT + k] = 1;
      }
    }
    return { values, present };
  }

  range(fn: RangeFunction, data: SelectedSeries, evalTimesMs: Float64Array, rangeMs: number, params: Float64Array): KernelResult {
    const nS = data.labels.length;
    const nT = evalTimesMs.length;
    const values = new Float64Array(nS * nT);
    const present = new Uint8Array(nS * nT);
    const wt: number[] = [];
    const wv: number[] = [];
    for (let s = 0; s < nS; s++) {
      const lo = data.offsets[s];
      const hi = data.offsets[s + 1];
      for (let k = 0; k < nT; k++) {
        const t = evalTimesMs[k];
        wt.length = 0;
        wv.length = 0;
        for (let i = lo; i < hi; i++) {
          const ts = data.timestamps[i];
          if (ts > t - rangeMs && ts <= t && !isStaleAt(data.values, i)) {
            wt.push(ts);
            wv.push(data.values[i]);
          }
        }
        const r = rangeFn(fn, wt, wv, t, rangeMs, params);
        if (r !== undefined) {
          values[s * nT + k] = r;
          present[s * nT + k] = 1;
        }
      }
    }
    return { values, present };
  }
}

function keyOf(ls: Labels): string {
  return Object.keys(ls)
    .sort()
    .map((k) => `${k}\xff${ls[k]}\xff`)
    .join('');
}

/** linearRegression is Prometheus's least-squares fit with Kahan sums; x in seconds from interceptMs. */
export function linearRegression(ts: number[], vs: number[], interceptMs: number): [number, number] {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = vs[0];
  let constY = true;
  for (let i = 0; i < ts.length; i++) {
    if (constY && i > 0 && vs[i] !== initY) constY = false;
    n += 1;
    const x = (ts[i] - interceptMs) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(vs[i], sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * vs[i], sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

function extrapolatedRate(ts: number[], vs: number[], t: number, rangeMs: number, isCounter: boolean, isRate: boolean): number | undefined {
  const n = ts.length;
  if (n < 2) return undefined;
  let result = vs[n - 1] - vs[0];
  if (isCounter) {
    let prev = vs[0];
    for (let i = 1; i < n; i++) {
      if (vs[i] < prev) result += prev;
      prev = vs[i];
    }
  }
  const rangeStart = t - rangeMs;
  let durationToStart = (ts[0] - rangeStart) / 1000;
  let durationToEnd = (t - ts[n - 1]) / 1000;
  const sampled = (ts[n - 1] - ts[0]) / 1000;
  const avg = sampled / (n - 1);
  const threshold = avg * 1.1;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (isCounter && result > 0 && vs[0] >= 0) {
    const durationToZero = sampled * (vs[0] / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = (sampled + durationToStart + durationToEnd) / sampled;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

function rangeFn(fn: RangeFunction, ts: number[], vs: number[], t: number, rangeMs: number, params: Float64Array): number | undefined {
  const n = ts.length;
  if (fn === 'absent_over_time') return n === 0 ? 1 : undefined;
  if (n === 0) return undefined;
  switch (fn) {
    case 'rate':
      return extrapolatedRate(ts, vs, t, rangeMs, true, true);
    case 'increase':
      return extrapolatedRate(ts, vs, t, rangeMs, true, false);
    case 'delta':
      return extrapolatedRate(ts, vs, t, rangeMs, false, false);
    case 'irate':
    case 'idelta': {
      if (n < 2) return undefined;
      const last = vs[n - 1];
      const prev = vs[n - 2];
      const dt = ts[n - 1] - ts[n - 2];
      if (dt === 0) return undefined;
      let r = fn === 'irate' && last < prev ? last : last - prev;
      if (fn === 'irate') r /= dt / 1000;
      return r;
    }
    case 'deriv':
      if (n < 2) return undefined;
      return linearRegression(ts, vs, ts[0])[0];
    case 'predict_linear': {
      if (n < 2) return undefined;
      const [slope, intercept] = linearRegression(ts, vs, t);
      return slope * params[0] + intercept;
    }
    case 'resets': {
      let c = 0;
      for (let i = 1; i < n; i++) if (vs[i] < vs[i - 1]) c++;
      return c;
    }
    case 'changes': {
      let c = 0;
      for (let i = 1; i < n; i++) {
        const a = vs[i];
        const b = vs[i - 1];
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) c++;
      }
      return c;
    }
    case 'avg_over_time': {
      let sum = 0, mean = 0, c = 0;
      let incremental = false;
      for (let i = 0; i < n; i++) {
        const count = i + 1;
        if (!incremental) {
          const [ns, nc] = kahanSumInc(vs[i], sum, c);
          if (count === 1 || Number.isNaN(ns) || Number.isFinite(ns)) {
            sum = ns;
            c = nc;
            continue;
          }
          incremental = true;
          mean = sum / (count - 1);
          c /= count - 1;
        }
        const q = (count - 1) / count;
        [mean, c] = kahanSumInc(vs[i] / count, q * mean, q * c);
      }
      return incremental ? mean + c : sum / n + c / n;
    }
    case 'sum_over_time': {
      let sum = 0, c = 0;
      for (const v of vs) [sum, c] = kahanSumInc(v, sum, c);
      return sum + c;
    }
    case 'count_over_time':
      return n;
    case 'present_over_time':
      return 1;
    case 'min_over_time': {
      let m = vs[0];
      for (const v of vs) if (v < m || Number.isNaN(m)) m = v;
      return m;
    }
    case 'max_over_time': {
      let m = vs[0];
      for (const v of vs) if (v > m || Number.isNaN(m)) m = v;
      return m;
    }
    case 'stddev_over_time':
    case 'stdvar_over_time': {
      let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
      for (const v of vs) {
        count++;
        const delta = v - (mean + cMean);
        [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
        [aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux);
      }
      const variance = (aux + cAux) / count;
      return fn === 'stddev_over_time' ? Math.sqrt(variance) : variance;
    }
    case 'last_over_time':
      return vs[n - 1];
    case 'first_over_time':
      return vs[0];
    case 'quantile_over_time':
      return quantileOf(params[0], vs);
    case 'mad_over_time': {
      if (vs.some(Number.isNaN)) return NaN;
      const med = quantileOf(0.5, vs);
      return quantileOf(
        0.5,
        vs.map((v) => Math.abs(v - med)),
      );
    }
    case 'double_exponential_smoothing': {
      if (n < 2) return undefined;
      const sf = params[0];
      const tf = params[1];
      let s0 = 0;
      let s1 = vs[0];
      let b = vs[1] - vs[0];
      for (let i = 1; i < n; i++) {
        const x = sf * vs[i];
        if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
        const y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    }
    case 'ts_of_last_over_time':
      return ts[n - 1] / 1000;
    case 'ts_of_first_over_time':
      return ts[0] / 1000;
    case 'ts_of_min_over_time':
    case 'ts_of_max_over_time': {
      let m = vs[0];
      let at = ts[0];
      for (let i = 0; i < n; i++) {
        const v = vs[i];
        const better = fn === 'ts_of_min_over_time' ? v <= m : v >= m;
        if (better || Number.isNaN(m)) {
          m = v;
          at = ts[i];
        }
      }
      return at / 1000;
    }
  }
  return undefined;
}

/**
 * ReferenceStore is a multi-tenant in-memory store with the reference
 * kernels on top: the conformance runner's SampleLoader over pure TypeScript,
 * to check the engine without the native core.
 */
export class ReferenceStore implements Kernels {
  private readonly tenants = new Map<string, RefSeries[]>();

  appendSamplesUnchecked(tenant: string, labels: string[], timestamps: Float64Array, values: Float64Array): void {
    const ls: Labels = {};
    for (let i = 0; i + 1 < labels.length; i += 2) ls[labels[i]] = labels[i + 1];
    let list = this.tenants.get(tenant);
    if (!list) this.tenants.set(tenant, (list = []));
    const key = keyOf(ls);
    const prev = list.find((s) => keyOf(s.labels) === key);
    if (!prev) {
      list.push({ labels: ls, timestamps: [...timestamps], values: Float64Array.from(values) });
      return;
    }
    const ts = [...prev.timestamps, ...timestamps];
    const vs = new Float64Array(ts.length);
    vs.set(prev.values as Float64Array, 0);
    vs.set(values, prev.timestamps.length);
    const order = ts.map((_, i) => i).sort((a, b) => ts[a] - ts[b]);
    const sortedVs = new Float64Array(order.length);
    order.forEach((j, i) => sortedVs.set(vs.subarray(j, j + 1), i));
    prev.timestamps = order.map((j) => ts[j]);
    prev.values = sortedVs;
  }

  resetTenant(tenant: string): void {
    this.tenants.delete(tenant);
  }

  private kernels(tenant: string): ReferenceKernels {
    return new ReferenceKernels(this.tenants.get(tenant) ?? []);
  }

  select(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number): SelectedSeries {
    return this.kernels(tenant).select(tenant, matchers, mintMs, maxtMs);
  }

  instant(data: SelectedSeries, evalTimesMs: Float64Array, lookbackMs: number): KernelResult {
    return new ReferenceKernels([]).instant(data, evalTimesMs, lookbackMs);
  }

  range(fn: RangeFunction, data: SelectedSeries, evalTimesMs: Float64Array, rangeMs: number, params: Float64Array): KernelResult {
    return new ReferenceKernels([]).range(fn, data, evalTimesMs, rangeMs, params);
  }
}
