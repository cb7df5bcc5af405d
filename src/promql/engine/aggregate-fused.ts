// aggregate-fused.ts pushes an aggregation down into the native selection:
// `sum by (job) (rate(x[5m]))` or `max without (pod) (x)` is selected,
// evaluated per series and step and aggregated in one native pass, so
// only the groups (a handful of label sets) cross into JS instead of every
// selected series' labels. The answer is bit-identical to evalAggregate's
// general path (same order of additions, same compensation); shapes the
// native side does not cover return undefined and take the general path.
// `sum` of `rate`/`increase` over native histograms comes back as the
// groups' histograms (native/core/src/promql/histogram_rate_sum.rs).

import type { AggregateExpr, Call, Expr, MatrixSelector, VectorSelector } from '../parser/ast.js';
import type { Evaluator } from './engine.js';
import { NO_NAME_DROP, RANGE_FUNCTIONS } from './functions.js';
import { START_TIME_FUNCTIONS, type AggregateInner, type RangeFunction, type StepGrid } from './types.js';
import type { Series } from './value.js';
import type { FloatHistogram } from './float-histogram.js';
import { decodeFlat } from './histogram-flat.js';

/** FUSED_OPS are the aggregations the native side computes. */
const FUSED_OPS = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']);

/** COUNTER_SUFFIX matches the metric names rate/increase do not warn about. */
const COUNTER_SUFFIX = /(_total|_sum|_count|_bucket)$/;

function unwrap(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

/** Shape is an aggregation's input the native side evaluates. */
interface Shape {
  vs: VectorSelector;
  inner: AggregateInner;
  /** windowMs is how far before each step the selection reaches. */
  windowMs: number;
  dropName: boolean;
  /** call is the range function call (for its annotations). */
  call?: Call;
}

/** shapeOf recognizes `f(sel[range])` (a parameterless range function) or a plain selector. */
function shapeOf(ev: Evaluator, expr: Expr): Shape | undefined {
  const e = unwrap(expr);
  if (e.type === 'VectorSelector') {
    if (e.smoothed || e.anchored) return undefined;
    return { vs: e, inner: { kind: 'instant', lookbackMs: ev.lookbackMs }, windowMs: ev.lookbackMs, dropName: false };
  }
  if (e.type !== 'Call' || !RANGE_FUNCTIONS.has(e.func) || e.func === 'absent_over_time' || e.args.length !== 1) return undefined;
  const arg = unwrap(e.args[0]);
  if (arg.type !== 'MatrixSelector') return undefined;
  const ms: MatrixSelector = arg;
  if (ms.vs.anchored || ms.vs.smoothed) return undefined;
  const fn = e.func as RangeFunction;
  const counter = fn === 'rate' || fn === 'increase';
  return {
    vs: ms.vs,
    inner: { kind: 'range', fn, rangeMs: ms.rangeMs, metricNames: counter, statsOnly: ev.isStatsOnly(ms.vs) },
    windowMs: ms.rangeMs,
    dropName: !NO_NAME_DROP.has(fn),
    call: counter ? e : undefined,
  };
}

/**
 * fusedAggregate evaluates `op by|without (grouping) (inner)` natively when the shape allows
 * (grouping sorted as evalAggregate sorts it); undefined otherwise. Samples are charged and
 * annotations raised as the general path would.
 */
export function fusedAggregate(ev: Evaluator, e: AggregateExpr, grouping: string[], grid: StepGrid): Series[] | undefined {
  const kernels = ev.kernels;
  if (!kernels.selectAggregate || grid.n === 0 || e.param !== undefined || !FUSED_OPS.has(e.op)) return undefined;
  const shape = shapeOf(ev, e.expr);
  if (!shape) return undefined;
  // Start timestamps are read on the general path only.
  if (ev.opts.useStartTimestamps && shape.inner.kind === 'range' && START_TIME_FUNCTIONS.has(shape.inner.fn)) return undefined;
  ev.checkLimits();
  const vs = shape.vs;
  const times = ev.shiftedTimes(grid, vs.at, vs.offsetMs);
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  // A range function's selection is bounded by what -querier.max-samples leaves (see fusedRange);
  // an instant selector's raw selection is not (its present cells are charged afterwards).
  const budget = shape.inner.kind === 'range' ? ev.sampleBudget() : 0;
  const r = kernels.selectAggregate(ev.opts.tenant, vs.matchers, min - shape.windowMs + 1, max, shape.inner, times, e.op, e.without, grouping, budget);
  if (!r) return undefined;
  if (shape.call) {
    const pos = shape.call.args[0].pos;
    for (const metric of r.metricNames) if (metric && !COUNTER_SUFFIX.test(metric)) ev.ann.possibleNonCounter(metric, pos);
  }
  ev.addSamples(r.samples);
  const n = grid.n;
  const out: Series[] = [];
  const hist = r.histograms;
  for (let g = 0; g < r.labels.length; g++) {
    const present = r.present.subarray(g * n, (g + 1) * n);
    const s: Series = { labels: r.labels[g], values: r.values.subarray(g * n, (g + 1) * n), present, dropName: shape.dropName };
    if (hist !== undefined) {
      // Native histograms (sum of a counter rate): each present cell's group sum, decoded here.
      const col = new Array<FloatHistogram | undefined>(n);
      for (let i = 0; i < n; i++) {
        const x = g * n + i;
        if (present[i]) col[i] = decodeFlat(hist.data, hist.offsets[x]!, hist.offsets[x + 1]!);
      }
      s.values = new Float64Array(n).fill(NaN);
      s.histograms = col;
    }
    out.push(s);
  }
  return out;
}
