// aggregate.ts evaluates the aggregation operators (sum, avg, count, min, max,
// group, stddev, stdvar, quantile, topk, bottomk, limitk, limit_ratio,
// count_values) with by/without grouping, per step, as Prometheus does.

import type { AggregateExpr, Expr } from '../parser/ast.js';
import { formatFloatF } from '../../compat/gofmt.js';
import { goStrconvQuote } from '../parser/unquote.js';
import { fusedAggregate } from './aggregate-fused.js';
import type { Evaluator } from './engine.js';
import { kahanSumInc, quantileOf } from './float-ops.js';
import { compareStrings, keyWith, keyWithout, labelsHash, labelsKey, METRIC_NAME } from './labels.js';
import { EngineError, type Labels, type StepGrid } from './types.js';
import { COUNTER_RESET, HistogramMean, HistogramOpError, KahanHistogramSum, NOT_COUNTER_RESET, type FloatHistogram } from './float-histogram.js';
import { Collector, newSeries, scalarOf, vectorOf, type Series, type Value } from './value.js';

const MAX_INT64 = 9223372036854774784;
const MIN_INT64 = -9223372036854775808;

function unwrap(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

/** groupingKeyFn returns the function mapping a label set to its group key. */
function groupingKeyFn(grouping: string[], without: boolean): (ls: Labels) => string {
  if (without) {
    const ex = new Set([METRIC_NAME, ...grouping]);
    return (ls) => keyWithout(ls, ex);
  }
  if (grouping.length === 0) return () => '';
  return (ls) => keyWith(ls, grouping);
}

/** groupLabels returns the output labels of the group a label set falls in. */
function groupLabels(ls: Labels, grouping: string[], without: boolean): Labels {
  const out: Labels = {};
  if (without) {
    const ex = new Set([METRIC_NAME, ...grouping]);
    for (const k of Object.keys(ls).sort(compareStrings)) if (!ex.has(k)) out[k] = ls[k];
    return out;
  }
  for (const k of grouping) if (ls[k] !== undefined && ls[k] !== '') out[k] = ls[k];
  const sorted: Labels = {};
  for (const k of Object.keys(out).sort(compareStrings)) sorted[k] = out[k];
  return sorted;
}

/** evalAggregate evaluates an aggregation over the grid. */
export function evalAggregate(ev: Evaluator, e: AggregateExpr, grid: StepGrid): Value {
  const grouping = [...e.grouping].sort(compareStrings);
  if (e.op === 'count_values') return countValues(ev, e, grouping, grid);
  const fused = fusedAggregate(ev, e, grouping, grid);
  if (fused) return { type: 'vector', series: fused };

  let params: Float64Array | undefined;
  if (e.param) params = scalarOf(ev.eval(unwrap(e.param), grid), `${e.op} parameter`);
  const input = vectorOf(ev.eval(e.expr, grid), e.op);
  const n = grid.n;

  const keyOf = groupingKeyFn(grouping, e.without);
  const groupIndex = new Map<string, number>();
  const groupLabelSets: Labels[] = [];
  const seriesGroup = new Int32Array(input.length);
  input.forEach((s, i) => {
    const key = keyOf(s.labels);
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = groupLabelSets.length;
      groupIndex.set(key, g);
      groupLabelSets.push(groupLabels(s.labels, grouping, e.without));
    }
    seriesGroup[i] = g;
  });

  const withHistograms = input.some((s) => s.histograms !== undefined);
  if (withHistograms && HISTOGRAM_IGNORING.has(e.op)) {
    // Histogram samples are skipped by these operators, each noted (Prometheus's info).
    if (input.some(hasHistogramCell)) ev.ann.histogramIgnoredInAggregation(e.op, e.op === 'topk' || e.op === 'bottomk' ? e.pos : e.expr.pos);
  }
  if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'limitk' || e.op === 'limit_ratio') {
    const kInput = withHistograms && (e.op === 'topk' || e.op === 'bottomk') ? input.map(withoutHistogramCells) : input;
    return { type: 'vector', series: aggregateK(ev, e, params!, kInput, seriesGroup, groupLabelSets.length, n) };
  }
  if (withHistograms && (e.op === 'sum' || e.op === 'avg')) {
    const floats = aggregateFloat(e, params, input.map(withoutHistogramCells), seriesGroup, groupLabelSets, n);
    return { type: 'vector', series: mergeHistogramGroups(ev, e, floats, input, seriesGroup, groupLabelSets, n) };
  }
  if (withHistograms && HISTOGRAM_IGNORING.has(e.op)) {
    return { type: 'vector', series: aggregateFloat(e, params, input.map(withoutHistogramCells), seriesGroup, groupLabelSets, n) };
  }
  if (e.op === 'quantile' && params) {
    let max = -Infinity;
    let min = Infinity;
    let nan = false;
    for (const q of params) {
      if (Number.isNaN(q)) nan = true;
      else {
        if (q > max) max = q;
        if (q < min) min = q;
      }
    }
    const pos = e.param?.pos;
    if (nan) ev.ann.invalidQuantile(NaN, pos);
    if (max > 1) ev.ann.invalidQuantile(max, pos);
    if (min < 0) ev.ann.invalidQuantile(min, pos);
  }
  return { type: 'vector', series: aggregateFloat(e, params, input, seriesGroup, groupLabelSets, n) };
}

/** HISTOGRAM_IGNORING are the operators that skip histogram samples. */
const HISTOGRAM_IGNORING = new Set(['min', 'max', 'stddev', 'stdvar', 'quantile', 'topk', 'bottomk']);

function hasHistogramCell(s: Series): boolean {
  if (s.histograms === undefined) return false;
  for (let i = 0; i < s.present.length; i++) if (s.present[i] && s.histograms[i] !== undefined) return true;
  return false;
}

/** withoutHistogramCells is the series with its histogram cells absent (same length, so group indices hold). */
function withoutHistogramCells(s: Series): Series {
  if (s.histograms === undefined) return s;
  const present = s.present.slice();
  for (let i = 0; i < present.length; i++) if (s.histograms[i] !== undefined) present[i] = 0;
  return { labels: s.labels, values: s.values, present, dropName: s.dropName };
}

/**
 * mergeHistogramGroups adds the histogram cells of sum/avg to the float result: per group and step,
 * histograms only make a histogram result, a mix of both kinds makes none (with Prometheus's
 * warning), a mix of exponential and custom buckets none either.
 */
function mergeHistogramGroups(
  ev: Evaluator,
  e: AggregateExpr,
  floats: Series[],
  input: Series[],
  seriesGroup: Int32Array,
  groupLabelSets: Labels[],
  n: number,
): Series[] {
  const G = groupLabelSets.length;
  const acc: Array<{ h: KahanHistogramSum | HistogramMean; bad: boolean; reset: boolean; notReset: boolean; dropName: boolean } | undefined> = new Array(G * n);
  const pos = e.expr.pos;
  for (let si = 0; si < input.length; si++) {
    const s = input[si]!;
    if (s.histograms === undefined) continue;
    const base = seriesGroup[si]! * n;
    for (let i = 0; i < n; i++) {
      const h = s.histograms[i];
      if (!s.present[i] || h === undefined) continue;
      let a = acc[base + i];
      if (a === undefined) {
        a = { h: e.op === 'avg' ? new HistogramMean(h) : new KahanHistogramSum(h), bad: false, reset: false, notReset: false, dropName: s.dropName };
        acc[base + i] = a;
      } else {
        if (s.dropName) a.dropName = true;
        if (!a.bad) {
          try {
            if (a.h.add(h).nhcbBoundsReconciled) ev.ann.mismatchedCustomBuckets('aggregation', pos);
          } catch (err) {
            if (!(err instanceof HistogramOpError)) throw err;
            // Prometheus names the series as it is at this point: a function such as rate() already dropped the name.
            ev.ann.mixedExponentialCustomHistograms(s.dropName ? '' : (s.labels[METRIC_NAME] ?? ''), pos);
            a.bad = true;
          }
        }
      }
      if (h.counterResetHint === COUNTER_RESET) a.reset = true;
      if (h.counterResetHint === NOT_COUNTER_RESET) a.notReset = true;
    }
  }
  const byGroup = new Map<string, Series>();
  for (const f of floats) byGroup.set(labelsKey(f.labels), f);
  const out: Series[] = [...floats];
  for (let g = 0; g < G; g++) {
    let res = byGroup.get(labelsKey(groupLabelSets[g]!));
    for (let i = 0; i < n; i++) {
      const a = acc[g * n + i];
      if (a === undefined) continue;
      if (res !== undefined && res.present[i] && res.histograms?.[i] === undefined) {
        // Floats and histograms in one group: no result.
        ev.ann.mixedFloatsHistogramsAggregation(pos);
        res.present = res.present.slice();
        res.present[i] = 0;
        continue;
      }
      if (a.bad) continue;
      if (a.reset && a.notReset) ev.ann.counterResetCollision('aggregation', pos);
      if (res === undefined) {
        res = newSeries(groupLabelSets[g]!, n, a.dropName);
        byGroup.set(labelsKey(groupLabelSets[g]!), res);
        out.push(res);
      }
      const h = a.h.result();
      h.compact();
      res.histograms ??= new Array<FloatHistogram | undefined>(n);
      res.present[i] = 1;
      res.values[i] = NaN;
      res.histograms[i] = h;
      if (a.dropName) res.dropName = true;
    }
  }
  return out.filter((s) => s.present.some((p) => p === 1));
}

function aggregateFloat(
  e: AggregateExpr,
  params: Float64Array | undefined,
  input: Series[],
  seriesGroup: Int32Array,
  groupLabelSets: Labels[],
  n: number,
): Series[] {
  const G = groupLabelSets.length;
  const size = G * n;
  const seen = new Uint8Array(size);
  const value = new Float64Array(size);
  const comp = new Float64Array(size);
  const mean = new Float64Array(size);
  const count = new Float64Array(size);
  const incremental = new Uint8Array(size);
  const dropName = new Uint8Array(size);
  const heaps: Array<number[] | undefined> = e.op === 'quantile' ? new Array(size) : [];
  const op = e.op;

  for (let si = 0; si < input.length; si++) {
    const s = input[si];
    const base = seriesGroup[si] * n;
    if (op === 'sum') {
      // sum's loop on its own: Kahan–Neumaier inline (kahanSumInc), no per-sample switch.
      const sp = s.present;
      const sv = s.values;
      const dn = s.dropName ? 1 : 0;
      for (let i = 0; i < n; i++) {
        if (!sp[i]) continue;
        const f = sv[i];
        const x = base + i;
        if (!seen[x]) {
          seen[x] = 1;
          value[x] = f;
          dropName[x] = dn;
          continue;
        }
        if (dn) dropName[x] = 1;
        const sum = value[x];
        const t = sum + f;
        if (t === Infinity || t === -Infinity) comp[x] = 0;
        else if (Math.abs(sum) >= Math.abs(f)) comp[x] += sum - t + f;
        else comp[x] += f - t + sum;
        value[x] = t;
      }
      continue;
    }
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const f = s.values[i];
      const x = base + i;
      if (!seen[x]) {
        seen[x] = 1;
        value[x] = f;
        mean[x] = f;
        count[x] = 1;
        dropName[x] = s.dropName ? 1 : 0;
        switch (op) {
          case 'stddev':
          case 'stdvar':
            value[x] = Number.isFinite(f) ? 0 : NaN;
            break;
          case 'quantile':
            heaps[x] = [f];
            break;
          case 'group':
            value[x] = 1;
            break;
        }
        continue;
      }
      if (s.dropName) dropName[x] = 1;
      switch (op) {
        case 'avg': {
          count[x]++;
          const c = count[x];
          if (!incremental[x]) {
            const [nv, nc] = kahanSumInc(f, value[x], comp[x]);
            if (Number.isFinite(nv) || Number.isNaN(nv)) {
              value[x] = nv;
              comp[x] = nc;
              break;
            }
            incremental[x] = 1;
            mean[x] = value[x] / (c - 1);
            comp[x] /= c - 1;
          }
          const q = (c - 1) / c;
          [mean[x], comp[x]] = kahanSumInc(f / c, q * mean[x], q * comp[x]);
          break;
        }
        case 'group':
          break;
        case 'max':
          if (value[x] < f || Number.isNaN(value[x])) value[x] = f;
          break;
        case 'min':
          if (value[x] > f || Number.isNaN(value[x])) value[x] = f;
          break;
        case 'count':
          count[x]++;
          break;
        case 'stddev':
        case 'stdvar': {
          count[x]++;
          const delta = f - mean[x];
          mean[x] += delta / count[x];
          value[x] += delta * (f - mean[x]);
          break;
        }
        case 'quantile':
          heaps[x]!.push(f);
          break;
        default:
          throw new EngineError('execution', `expected aggregation operator but got "${op}"`);
      }
    }
  }

  const out: Series[] = [];
  for (let g = 0; g < G; g++) {
    const res = newSeries(groupLabelSets[g], n, false);
    let any = false;
    for (let i = 0; i < n; i++) {
      const x = g * n + i;
      if (!seen[x]) continue;
      let v = value[x];
      switch (op) {
        case 'avg':
          v = incremental[x] ? mean[x] + comp[x] : value[x] / count[x] + comp[x] / count[x];
          break;
        case 'count':
          v = count[x];
          break;
        case 'stdvar':
          v = value[x] / count[x];
          break;
        case 'stddev':
          v = Math.sqrt(value[x] / count[x]);
          break;
        case 'quantile':
          v = quantileOf(params ? params[i] : NaN, heaps[x]!);
          break;
        case 'sum':
          v = value[x] + comp[x];
          break;
      }
      res.values[i] = v;
      res.present[i] = 1;
      res.dropName = dropName[x] === 1;
      any = true;
    }
    if (any) out.push(res);
  }
  return out;
}

const MAX_UINT64 = 18446744073709551615;

/** ratioOffset is Prometheus's HashRatioSampler offset of a label set in [0, 1]. */
export function ratioOffset(ls: Labels): number {
  return Number(labelsHash(ls)) / MAX_UINT64;
}

function addRatioSample(r: number, offset: number): boolean {
  return (r >= 0 && offset < r) || (r < 0 && offset >= 1 + r);
}

function aggregateK(ev: Evaluator, e: AggregateExpr, params: Float64Array, input: Series[], seriesGroup: Int32Array, G: number, n: number): Series[] {
  let max = -Infinity;
  let min = Infinity;
  let nan = false;
  for (const p of params) {
    if (Number.isNaN(p)) nan = true;
    else {
      if (p > max) max = p;
      if (p < min) min = p;
    }
  }
  if (nan) {
    max = NaN;
    min = NaN;
  }
  if (e.op === 'limit_ratio') {
    if (max === 0 && min === 0 && !nan) return [];
    if (nan) throw new EngineError('execution', 'Ratio value is NaN');
    if (max > 1) ev.ann.invalidRatio(max, 1, e.param?.pos);
    if (min < -1) ev.ann.invalidRatio(min, -1, e.param?.pos);
  } else {
    if (max < 1) return [];
    if (nan) throw new EngineError('execution', 'Parameter value is NaN');
    if (min <= MIN_INT64) throw new EngineError('execution', `Scalar value ${min} underflows int64`);
    if (max >= MAX_INT64) throw new EngineError('execution', `Scalar value ${max} overflows int64`);
  }

  const N = input.length;
  const outSeries: Array<Series | undefined> = new Array(N);
  const instantOrder: number[] = [];
  const offsets = e.op === 'limit_ratio' ? input.map((s) => ratioOffset(s.labels)) : [];
  // Members of each group, ascending by input index: memberList[memberStart[g] .. memberStart[g+1]).
  const memberStart = new Int32Array(G + 1);
  for (let si = 0; si < N; si++) memberStart[seriesGroup[si] + 1]++;
  for (let g = 0; g < G; g++) memberStart[g + 1] += memberStart[g];
  const memberList = new Int32Array(N);
  const fill = memberStart.slice(0, G);
  for (let si = 0; si < N; si++) memberList[fill[seriesGroup[si]]++] = si;

  // topk/bottomk keep, per group and step, a bounded heap of the k best candidates with the worst at
  // the root; the buffers are reused across groups and steps. The order is that of a stable sort of
  // the group's members by value (descending for topk, ascending for bottomk) with NaN last: ties go
  // to the lower input index.
  const sel = e.op === 'topk' || e.op === 'bottomk';
  const neg = e.op === 'bottomk';
  const kCap = sel ? Math.min(N, Math.trunc(max)) : 0;
  const heapI = new Int32Array(kCap);
  const heapV = new Float64Array(kCap);
  // worse reports whether heap slot a ranks after heap slot b.
  const worse = (a: number, b: number): boolean => {
    const va = heapV[a];
    const vb = heapV[b];
    if (va !== va) return vb === vb || heapI[a] > heapI[b];
    if (vb !== vb) return false;
    if (va !== vb) return va < vb;
    return heapI[a] > heapI[b];
  };
  const swap = (a: number, b: number): void => {
    const ti = heapI[a];
    heapI[a] = heapI[b];
    heapI[b] = ti;
    const tv = heapV[a];
    heapV[a] = heapV[b];
    heapV[b] = tv;
  };
  const siftDown = (root: number, size: number): void => {
    for (;;) {
      const l = 2 * root + 1;
      if (l >= size) return;
      let w = l;
      if (l + 1 < size && worse(l + 1, l)) w = l + 1;
      if (!worse(w, root)) return;
      swap(w, root);
      root = w;
    }
  };

  const emit = (si: number, i: number): void => {
    let o = outSeries[si];
    if (!o) {
      o = newSeries(input[si].labels, n, input[si].dropName);
      outSeries[si] = o;
    }
    o.values[i] = input[si].values[i];
    o.present[i] = 1;
    const h = input[si].histograms?.[i];
    if (h !== undefined) (o.histograms ??= new Array<FloatHistogram | undefined>(n))[i] = h;
    if (n === 1) instantOrder.push(si);
  };

  if (sel && n > 1) {
    topkSeriesMajor();
    return outSeries.filter((s): s is Series => s !== undefined);
  }

  for (let i = 0; i < n; i++) {
    const p = params[i];
    let k = 0;
    let r = 0;
    if (e.op === 'limit_ratio') {
      if (p === 0) continue;
      r = p < -1 ? -1 : p > 1 ? 1 : p;
    } else {
      k = Math.min(Math.trunc(p), N);
      if (k < 1) continue;
    }
    for (let g = 0; g < G; g++) {
      const from = memberStart[g];
      const to = memberStart[g + 1];
      if (!sel) {
        if (e.op === 'limitk') {
          let taken = 0;
          for (let m = from; m < to && taken < k; m++) {
            const si = memberList[m];
            if (!input[si].present[i]) continue;
            emit(si, i);
            taken++;
          }
        } else {
          for (let m = from; m < to; m++) {
            const si = memberList[m];
            if (input[si].present[i] && addRatioSample(r, offsets[si])) emit(si, i);
          }
        }
        continue;
      }
      if (n > 1 && k >= to - from) {
        // Every candidate is chosen, and the order of a range result does not depend on the rank.
        for (let m = from; m < to; m++) {
          const si = memberList[m];
          if (input[si].present[i]) emit(si, i);
        }
        continue;
      }
      let size = 0;
      for (let m = from; m < to; m++) {
        const si = memberList[m];
        const s = input[si];
        if (!s.present[i]) continue;
        const v = neg ? -s.values[i] : s.values[i];
        if (size < k) {
          let c = size++;
          heapI[c] = si;
          heapV[c] = v;
          while (c > 0) {
            const parent = (c - 1) >> 1;
            if (!worse(c, parent)) break;
            swap(parent, c);
            c = parent;
          }
        } else {
          // Candidates come in ascending index, so one only beats the root with a strictly better value.
          const root = heapV[0];
          if (v !== v || !(root !== root || v > root)) continue;
          heapI[0] = si;
          heapV[0] = v;
          siftDown(0, size);
        }
      }
      if (n === 1) {
        // Instant results list a group's series best first: pop the worst to the back.
        for (let end = size - 1; end > 0; end--) {
          swap(0, end);
          siftDown(0, end);
        }
      }
      for (let h = 0; h < size; h++) emit(heapI[h], i);
    }
  }
  if (n === 1) return instantOrder.map((si) => outSeries[si]!);
  return outSeries.filter((s): s is Series => s !== undefined);

  // topkSeriesMajor is topk/bottomk of a range query with the loops turned round: a group's members
  // one after the other (each series' arrays read in order, not one element of every series per
  // step), into one bounded heap per step. Members still reach each step's heap in ascending index,
  // so the heaps and the answer are those of the step-by-step loop.
  function topkSeriesMajor(): void {
    const ks = new Int32Array(n);
    let kMax = 0;
    for (let i = 0; i < n; i++) {
      const k = Math.min(Math.trunc(params[i]), N);
      ks[i] = k < 1 ? 0 : k;
      if (ks[i] > kMax) kMax = ks[i];
    }
    const hI = new Int32Array(n * kMax);
    const hV = new Float64Array(n * kMax);
    const sizes = new Int32Array(n);
    // worseAt reports whether heap slot a ranks after heap slot b (absolute slots).
    const worseAt = (a: number, b: number): boolean => {
      const va = hV[a];
      const vb = hV[b];
      if (va !== va) return vb === vb || hI[a] > hI[b];
      if (vb !== vb) return false;
      if (va !== vb) return va < vb;
      return hI[a] > hI[b];
    };
    const swapAt = (a: number, b: number): void => {
      const ti = hI[a];
      hI[a] = hI[b];
      hI[b] = ti;
      const tv = hV[a];
      hV[a] = hV[b];
      hV[b] = tv;
    };
    for (let g = 0; g < G; g++) {
      const from = memberStart[g];
      const to = memberStart[g + 1];
      const members = to - from;
      sizes.fill(0);
      for (let m = from; m < to; m++) {
        const si = memberList[m];
        const sp = input[si].present;
        const sv = input[si].values;
        for (let i = 0; i < n; i++) {
          const k = ks[i];
          if (k === 0 || !sp[i]) continue;
          if (k >= members) {
            // Every candidate is chosen, and the order of a range result does not depend on the rank.
            emit(si, i);
            continue;
          }
          const v = neg ? -sv[i] : sv[i];
          const base = i * kMax;
          const size = sizes[i];
          if (size < k) {
            let c = size;
            sizes[i] = size + 1;
            hI[base + c] = si;
            hV[base + c] = v;
            while (c > 0) {
              const parent = (c - 1) >> 1;
              if (!worseAt(base + c, base + parent)) break;
              swapAt(base + parent, base + c);
              c = parent;
            }
            continue;
          }
          // Candidates come in ascending index, so one only beats the root with a strictly better value.
          const root = hV[base];
          if (v !== v || !(root !== root || v > root)) continue;
          hI[base] = si;
          hV[base] = v;
          let r = 0;
          for (;;) {
            const l = 2 * r + 1;
            if (l >= size) break;
            let w = l;
            if (l + 1 < size && worseAt(base + l + 1, base + l)) w = l + 1;
            if (!worseAt(base + w, base + r)) break;
            swapAt(base + w, base + r);
            r = w;
          }
        }
      }
      for (let i = 0; i < n; i++) {
        const base = i * kMax;
        for (let h = 0; h < sizes[i]; h++) emit(hI[base + h], i);
      }
    }
  }
}

function countValues(ev: Evaluator, e: AggregateExpr, grouping: string[], grid: StepGrid): Value {
  const param = e.param ? unwrap(e.param) : undefined;
  if (!param || param.type !== 'StringLiteral') throw new EngineError('execution', 'count_values needs a string parameter');
  const label = param.val;
  // Prometheus checks model.LabelName(label).IsValid(): any non-empty valid UTF-8 under UTF-8 names.
  if (label === '' || param.invalidUtf8 !== undefined) {
    throw new EngineError('execution', `invalid label name ${param.invalidUtf8 ?? goStrconvQuote(label)}`);
  }
  const groupBy = e.without ? grouping : [...grouping, label].sort(compareStrings);
  const keyOf = groupingKeyFn(groupBy, e.without);
  const input = vectorOf(ev.eval(e.expr, grid), 'count_values');
  // A series' group key is that of its labels without the count label (computed once), plus the
  // formatted value when the grouping keeps the count label: formatted values hold no NUL.
  const keepsLabel = e.without ? label !== METRIC_NAME && !grouping.includes(label) : true;
  const baseKeys = input.map((s) => {
    const ls: Labels = { ...s.labels };
    delete ls[label];
    return keyOf(ls);
  });
  const col = new Collector(grid.n);
  const counts = new Map<string, { labels: Labels; count: number }>();
  for (let i = 0; i < grid.n; i++) {
    counts.clear();
    for (let si = 0; si < input.length; si++) {
      const s = input[si];
      if (!s.present[i]) continue;
      const h = s.histograms?.[i];
      const str = h !== undefined ? h.goString() : formatFloatF(s.values[i]);
      const key = keepsLabel ? `${baseKeys[si]}\u0000${str}` : baseKeys[si];
      const g = counts.get(key);
      if (g) g.count++;
      else counts.set(key, { labels: groupLabels({ ...s.labels, [label]: str }, groupBy, e.without), count: 1 });
    }
    for (const g of counts.values()) col.add(g.labels, false, i, g.count, labelsKey(g.labels));
  }
  return { type: 'vector', series: col.series() };
}
