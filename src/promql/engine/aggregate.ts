// aggregate.ts evaluates the aggregation operators (sum, avg, count, min, max,
// group, stddev, stdvar, quantile, topk, bottomk, limitk, limit_ratio,
// count_values) with by/without grouping, per step, as Prometheus does.

import type { AggregateExpr, Expr } from '../parser/ast.js';
import { formatFloatF } from './annotations.js';
import { goStrconvQuote } from '../parser/unquote.js';
import type { Evaluator } from './engine.js';
import { kahanSumInc, quantileOf } from './kernels-reference.js';
import { compareStrings, keyWith, keyWithout, labelsHash, labelsKey, METRIC_NAME } from './labels.js';
import { EngineError, type Labels, type StepGrid } from './types.js';
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

  if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'limitk' || e.op === 'limit_ratio') {
    return { type: 'vector', series: aggregateK(ev, e, params!, input, seriesGroup, groupLabelSets.length, n) };
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
        case 'sum':
          [value[x], comp[x]] = kahanSumInc(f, value[x], comp[x]);
          break;
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

  const outSeries: Array<Series | undefined> = new Array(input.length);
  const instantOrder: number[] = [];
  const offsets = e.op === 'limit_ratio' ? input.map((s) => ratioOffset(s.labels)) : [];
  const members: number[][] = Array.from({ length: G }, () => []);
  input.forEach((_, si) => members[seriesGroup[si]].push(si));

  const byValueDesc = (vals: Float64Array) => (a: number, b: number) => {
    const va = vals[a];
    const vb = vals[b];
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;
    return vb - va;
  };

  for (let i = 0; i < n; i++) {
    const p = params[i];
    let k = 0;
    let r = 0;
    if (e.op === 'limit_ratio') {
      if (p === 0) continue;
      r = p < -1 ? -1 : p > 1 ? 1 : p;
    } else {
      k = Math.min(Math.trunc(p), input.length);
      if (k < 1) continue;
    }
    for (let g = 0; g < G; g++) {
      const cand = members[g].filter((si) => input[si].present[i]);
      if (cand.length === 0) continue;
      let chosen: number[];
      switch (e.op) {
        case 'topk': {
          const vals = new Float64Array(input.length);
          for (const si of cand) vals[si] = input[si].values[i];
          chosen = [...cand].sort(byValueDesc(vals)).slice(0, k);
          break;
        }
        case 'bottomk': {
          const vals = new Float64Array(input.length);
          for (const si of cand) vals[si] = -input[si].values[i];
          chosen = [...cand].sort(byValueDesc(vals)).slice(0, k);
          break;
        }
        case 'limitk':
          chosen = cand.slice(0, k);
          break;
        default:
          chosen = cand.filter((si) => addRatioSample(r, offsets[si]));
      }
      for (const si of chosen) {
        let o = outSeries[si];
        if (!o) {
          o = newSeries(input[si].labels, n, input[si].dropName);
          outSeries[si] = o;
        }
        o.values[i] = input[si].values[i];
        o.present[i] = 1;
        if (n === 1) instantOrder.push(si);
      }
    }
  }
  if (n === 1) return instantOrder.map((si) => outSeries[si]!);
  return outSeries.filter((s): s is Series => s !== undefined);
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
  const col = new Collector(grid.n);
  for (let i = 0; i < grid.n; i++) {
    const counts = new Map<string, { labels: Labels; count: number }>();
    for (const s of input) {
      if (!s.present[i]) continue;
      const ls: Labels = { ...s.labels, [label]: formatFloatF(s.values[i]) };
      const key = keyOf(ls);
      const g = counts.get(key);
      if (g) g.count++;
      else counts.set(key, { labels: groupLabels(ls, groupBy, e.without), count: 1 });
    }
    for (const g of counts.values()) col.add(g.labels, false, i, g.count, labelsKey(g.labels));
  }
  return { type: 'vector', series: col.series() };
}
