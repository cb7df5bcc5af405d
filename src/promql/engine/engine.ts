// engine.ts is the PromQL engine's entry (instantQuery, rangeQuery) and the
// node dispatch. Every node is evaluated over a whole step grid at once:
// instant vectors as per-step series, scalars as one value per step (see
// value.ts). Selectors go through the Kernels interface (types.ts);
// aggregations, binary operators and functions live in their own files.

import { childrenOf, type AtModifier, type Expr, type MatrixSelector, type SubqueryExpr, type VectorSelector } from '../parser/ast.js';
import { evalAggregate } from './aggregate.js';
import { Annotations } from './annotations.js';
import { evalBinary } from './binary.js';
import { resolveDurations } from './durations.js';
import { evalExtendedRange, evalSmoothedSelector, extendedMatrixResult } from './extended.js';
import { evalCall } from './functions.js';
import { compareLabels, dropMetricName, labelsKey } from './labels.js';
import {
  EngineError,
  START_TIME_FUNCTIONS,
  type Kernels,
  type Labels,
  type QueryOptions,
  type QueryResult,
  type RangeFunction,
  type SelectedSeries,
  type StepGrid,
} from './types.js';
import { DUPLICATE_LABELSET, gridTimes, makeGrid, newSeries, type RangeSeries, type Series, type Value } from './value.js';
import { isStaleAt } from './float-ops.js';
import { HistogramReader, overlayInstantHistograms, statsOnlySelectors, withDetectedHints } from './histogram-select.js';
import { histPointsOf, type HistPoints } from './histogram-range.js';
import { COUNTER_RESET, NOT_COUNTER_RESET, UNKNOWN_COUNTER_RESET, type FloatHistogram } from './float-histogram.js';
import { TOO_MANY_SAMPLES_MESSAGE } from '../../storage/native.js';

const NO_PARAMS = new Float64Array(0);

/** EngineQueryOptions are QueryOptions plus engine-only settings. */
export interface EngineQueryOptions extends QueryOptions {
  /** defaultSubqueryStepMs is the step of `[range:]` subqueries (Prometheus: the global evaluation interval; promqltest: 1m). */
  defaultSubqueryStepMs?: number;
  /**
   * embedded, when set, gives the value of the vector selectors it knows (the query-frontend's
   * concatenations of shard queries, see src/frontend/sharding.ts) on the query's grid, already
   * evaluated; undefined for any other selector, which is selected from the kernels.
   */
  embedded?: (vs: VectorSelector, grid: StepGrid) => Series[] | undefined;
}

/** ParseFn turns a query text into a syntax tree; set by setParser once the parser module is loaded. */
export type ParseFn = (query: string) => Expr;

let parseFn: ParseFn | undefined;

/** setParser installs the parser used when queries are given as text. */
export function setParser(fn: ParseFn): void {
  parseFn = fn;
}

async function loadParser(): Promise<void> {
  try {
    const mod = (await import('../parser/parser.js' as string)) as { parseExpr?: ParseFn };
    if (mod.parseExpr && !parseFn) parseFn = mod.parseExpr;
  } catch {
    // The parser has not landed yet: callers pass syntax trees.
  }
}
await loadParser();

/** RangeData is a range-vector argument ready for a range kernel. */
export interface RangeData {
  data: SelectedSeries;
  /** hist are the series' native-histogram samples (undefined where a series has none). */
  hist?: Array<HistPoints | undefined>;
  /** evalTimes are the window end times per step (offset and @ applied). */
  evalTimes: Float64Array;
  rangeMs: number;
}

/** DEEP_EVAL is the eval depth beyond which operator trees are evaluated with an explicit stack. */
const DEEP_EVAL = 64;

/** isOperatorNode reports whether e is evaluated over its parent's grid from its operands alone. */
function isOperatorNode(e: Expr): boolean {
  return e.type === 'BinaryExpr' || e.type === 'UnaryExpr' || e.type === 'ParenExpr';
}

/** Evaluator evaluates the nodes of one query. */
export class Evaluator {
  readonly ann: Annotations;
  private samples = 0;
  /** fused range-function results of this query by function, selector and grid (see fusedRange). */
  private readonly rangeCache = new Map<string, { series: Series[]; samples: number }>();
  /** depth is how many eval calls are open (see evalOperatorTree). */
  private depth = 0;
  /** statsOnly are the selectors Prometheus reads with its HistogramStatsIterator (see prepare). */
  private statsOnly = new Set<VectorSelector>();
  /** ready holds operator-tree results computed ahead by evalOperatorTree, each taken once by eval. */
  private readonly ready = new Map<Expr, { grid: StepGrid; value: Value }>();

  constructor(
    readonly kernels: Kernels,
    readonly opts: EngineQueryOptions,
    readonly query: string,
    readonly queryStartMs: number,
    readonly queryEndMs: number,
    readonly isRangeQuery: boolean,
    readonly queryStepMs = 0,
  ) {
    this.ann = new Annotations(query);
  }

  /** prepare notes, before evaluating expr, the selectors whose histograms only feed histogram_count/sum/avg. */
  prepare(expr: Expr): void {
    this.statsOnly = statsOnlySelectors(expr);
  }

  /** lookbackMs is the lookback delta (-querier.lookback-delta; 5m when unset). */
  get lookbackMs(): number {
    return this.opts.lookbackDeltaMs > 0 ? this.opts.lookbackDeltaMs : 300_000;
  }

  /** checkLimits raises timeout / cancellation errors. */
  checkLimits(): void {
    if (this.opts.signal?.aborted) throw new EngineError('canceled', 'query was canceled in expression evaluation');
    if (this.opts.deadline && Date.now() > this.opts.deadline) {
      throw new EngineError('timeout', 'query timed out in expression evaluation');
    }
  }

  /** addSamples accounts loaded samples against -querier.max-samples. */
  addSamples(n: number): void {
    this.samples += n;
    if (this.opts.maxSamples > 0 && this.samples > this.opts.maxSamples) {
      throw new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE);
    }
  }

  /**
   * sampleBudget is the limit to pass to a selection whose raw samples are all charged with
   * addSamples: what -querier.max-samples leaves of this query (0 = no limit), so the storage
   * stops reading as soon as the query would be over it instead of after loading it all.
   */
  sampleBudget(): number {
    return this.opts.maxSamples > 0 ? this.opts.maxSamples - this.samples : 0;
  }

  /** atMs resolves an @ modifier to a timestamp. */
  atMs(at: AtModifier | undefined): number | undefined {
    if (!at) return undefined;
    if (at.kind === 'start') return this.queryStartMs;
    if (at.kind === 'end') return this.queryEndMs;
    return at.ms;
  }

  /** shiftedTimes returns per-step times with @ and offset applied. */
  shiftedTimes(grid: StepGrid, at: AtModifier | undefined, offsetMs: number): Float64Array {
    const fixed = this.atMs(at);
    const out = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) out[i] = (fixed ?? grid.startMs + i * grid.stepMs) - offsetMs;
    return out;
  }

  /** eval evaluates e over grid. */
  eval(e: Expr, grid: StepGrid): Value {
    const pre = this.ready.get(e);
    if (pre !== undefined && pre.grid === grid) {
      this.ready.delete(e);
      return pre.value;
    }
    this.depth++;
    try {
      if (this.depth > DEEP_EVAL && isOperatorNode(e)) return this.evalOperatorTree(e, grid);
      return this.evalNode(e, grid);
    } finally {
      this.depth--;
    }
  }

  /**
   * evalOperatorTree evaluates a deep tree of operators (binary and unary
   * operators, parentheses: `1 + 1 + ... + 1`, `2 ^ 2 ^ ... ^ 2`) without
   * recursing down it: its operator nodes are visited with an explicit stack
   * and evaluated children first, each result kept in `ready` for its parent's
   * eval to take, so the stack depth stays that of one node whatever the
   * length of the chain (Prometheus evaluates such expressions; a recursion
   * per operator would overflow the stack).
   */
  private evalOperatorTree(top: Expr, grid: StepGrid): Value {
    const stack: Array<{ n: Expr; expanded: boolean }> = [{ n: top, expanded: false }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (!f.expanded) {
        f.expanded = true;
        const kids = childrenOf(f.n);
        for (let i = kids.length - 1; i >= 0; i--) if (isOperatorNode(kids[i]!)) stack.push({ n: kids[i]!, expanded: false });
        continue;
      }
      stack.pop();
      if (f.n !== top) this.ready.set(f.n, { grid, value: this.evalNode(f.n, grid) });
    }
    return this.evalNode(top, grid);
  }

  private evalNode(e: Expr, grid: StepGrid): Value {
    this.checkLimits();
    switch (e.type) {
      case 'NumberLiteral':
        return { type: 'scalar', values: new Float64Array(grid.n).fill(e.val) };
      case 'StringLiteral':
        return { type: 'string', value: e.val };
      case 'ParenExpr':
        return this.eval(e.expr, grid);
      case 'UnaryExpr': {
        const v = this.eval(e.expr, grid);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', values: v.values.map((x) => -x) };
        if (v.type !== 'vector') throw new EngineError('execution', `unary minus on ${v.type}`);
        return {
          type: 'vector',
          series: v.series.map((s) => {
            const r: Series = { labels: s.labels, values: s.values.map((x) => -x), present: s.present, dropName: true };
            if (s.histograms !== undefined) r.histograms = s.histograms.map((h) => h?.copy().mul(-1));
            return r;
          }),
        };
      }
      case 'VectorSelector':
        return { type: 'vector', series: e.smoothed ? evalSmoothedSelector(this, e, grid) : this.evalVectorSelector(e, grid) };
      case 'MatrixSelector':
        return this.evalMatrixResult(e, grid);
      case 'SubqueryExpr':
        return this.evalSubqueryResult(e, grid);
      case 'BinaryExpr':
        return evalBinary(this, e, grid);
      case 'AggregateExpr':
        return evalAggregate(this, e, grid);
      case 'Call':
        return evalCall(this, e, grid);
    }
  }

  /** isStatsOnly reports whether vs's histograms feed only histogram_count/sum/avg (see statsOnlySelectors). */
  isStatsOnly(vs: VectorSelector): boolean {
    return this.statsOnly.has(vs);
  }

  /** selectFor selects the raw samples a selector needs for the given window ends and lookback/range. */
  selectFor(vs: VectorSelector, evalTimes: Float64Array, windowMs: number, maxSamples = 0): SelectedSeries {
    let min = Infinity;
    let max = -Infinity;
    for (const t of evalTimes) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
    if (evalTimes.length === 0) return { labels: [], offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };
    const data = this.kernels.select(this.opts.tenant, vs.matchers, min - windowMs + 1, max, maxSamples);
    return data.histograms !== undefined && this.statsOnly.has(vs) ? withDetectedHints(data) : data;
  }

  evalVectorSelector(vs: VectorSelector, grid: StepGrid): Series[] {
    const embedded = this.opts.embedded?.(vs, grid);
    if (embedded !== undefined) return embedded;
    const times = this.shiftedTimes(grid, vs.at, vs.offsetMs);
    const lookback = this.lookbackMs;
    const data = this.selectFor(vs, times, lookback);
    const res = this.kernels.instant(data, times, lookback);
    const hist = overlayInstantHistograms(data, times, lookback, res.values, res.present);
    const out: Series[] = [];
    const n = grid.n;
    let loaded = 0;
    for (let s = 0; s < data.labels.length; s++) {
      const present = res.present.subarray(s * n, (s + 1) * n);
      let any = 0;
      for (let i = 0; i < n; i++) any += present[i];
      if (any === 0) continue;
      loaded += any;
      const series: Series = { labels: data.labels[s], values: res.values.slice(s * n, (s + 1) * n), present: present.slice(), dropName: false };
      if (hist[s] !== undefined) series.histograms = hist[s];
      out.push(series);
    }
    this.addSamples(loaded);
    return out;
  }

  /**
   * fusedRange evaluates a parameterless range function over a matrix selector with the kernels'
   * selectRange (selection and kernel in one native pass), once per distinct function, selector
   * and grid in a query: `rate(x[5m]) / sum(rate(x[5m]))` reads x once. The series are what
   * evalRangeCall builds from select and range; repeated uses get their own series objects over
   * the same arrays (no node changes its inputs' arrays). Undefined when the kernels cannot answer.
   */
  fusedRange(fn: RangeFunction, ms: MatrixSelector, grid: StepGrid, dropName: boolean): Series[] | undefined {
    if (!this.kernels.selectRange || grid.n === 0) return undefined;
    // Start timestamps are read on the general path only (select, then rangeStartTimes).
    if (this.opts.useStartTimestamps && START_TIME_FUNCTIONS.has(fn)) return undefined;
    const vs = ms.vs;
    const key = JSON.stringify([fn, vs.matchers, vs.offsetMs, this.atMs(vs.at) ?? null, ms.rangeMs, grid.startMs, grid.stepMs, grid.n]);
    let hit = this.rangeCache.get(key);
    if (!hit) {
      const evalTimes = this.shiftedTimes(grid, vs.at, vs.offsetMs);
      let min = Infinity;
      let max = -Infinity;
      for (const t of evalTimes) {
        if (t < min) min = t;
        if (t > max) max = t;
      }
      const r = this.kernels.selectRange(this.opts.tenant, vs.matchers, min - ms.rangeMs + 1, max, fn, evalTimes, ms.rangeMs, NO_PARAMS, this.sampleBudget());
      if (!r) return undefined;
      const n = grid.n;
      const series: Series[] = new Array<Series>(r.labels.length);
      for (let k = 0; k < r.labels.length; k++) {
        series[k] = { labels: r.labels[k], values: r.values.subarray(k * n, (k + 1) * n), present: r.present.subarray(k * n, (k + 1) * n), dropName };
      }
      hit = { series, samples: r.samples };
      this.rangeCache.set(key, hit);
    }
    this.addSamples(hit.samples);
    return hit.series.map((s) => ({ ...s }));
  }

  /** rangeData prepares a matrix selector or subquery argument for a range kernel. */
  rangeData(arg: MatrixSelector | SubqueryExpr, grid: StepGrid): RangeData {
    if (arg.type === 'MatrixSelector') {
      const vs = arg.vs;
      const evalTimes = this.shiftedTimes(grid, vs.at, vs.offsetMs);
      const data = this.selectFor(vs, evalTimes, arg.rangeMs, this.sampleBudget());
      this.addSamples(data.values.length + (data.histograms?.timestamps.length ?? 0));
      const rd: RangeData = { data, evalTimes, rangeMs: arg.rangeMs };
      if (data.histograms !== undefined) rd.hist = histPointsOf(data);
      return rd;
    }
    const evalTimes = this.shiftedTimes(grid, arg.at, arg.offsetMs);
    const { series, times } = this.evalSubqueryInner(arg, evalTimes);
    // The inner series' present steps, flat, sized by a first counting pass.
    let total = 0;
    for (const s of series) for (let i = 0; i < times.length; i++) total += s.present[i];
    const labels: Labels[] = [];
    const offsets = new Uint32Array(series.length + 1);
    const ts = new Float64Array(total);
    const vals = new Float64Array(total);
    const hist: Array<HistPoints | undefined> = [];
    let anyHist = false;
    let at = 0;
    for (const s of series) {
      const from = at;
      const present = s.present;
      const values = s.values;
      let hp: HistPoints | undefined;
      for (let i = 0; i < times.length; i++) {
        if (!present[i]) continue;
        const h = s.histograms?.[i];
        if (h !== undefined) {
          hp ??= { ts: [], hs: [] };
          hp.ts.push(times[i]);
          // As Prometheus, reset/not-reset hints become unknown: a subquery may skip or repeat samples.
          hp.hs.push(h.counterResetHint === COUNTER_RESET || h.counterResetHint === NOT_COUNTER_RESET ? Object.assign(h.copy(), { counterResetHint: UNKNOWN_COUNTER_RESET }) : h);
          continue;
        }
        ts[at] = times[i];
        vals[at] = values[i];
        at++;
      }
      if (at === from && hp === undefined) continue;
      labels.push(s.dropName ? dropMetricName(s.labels) : s.labels);
      offsets[labels.length] = at;
      hist.push(hp);
      if (hp !== undefined) anyHist = true;
    }
    this.addSamples(total);
    const rd: RangeData = {
      data: { labels, offsets: offsets.subarray(0, labels.length + 1), timestamps: ts.subarray(0, at), values: vals.subarray(0, at) },
      evalTimes,
      rangeMs: arg.rangeMs,
    };
    if (anyHist) rd.hist = hist;
    return rd;
  }

  /** evalSubqueryInner evaluates a subquery's expression on its own grid, aligned to absolute multiples of its step. */
  evalSubqueryInner(e: SubqueryExpr, evalTimes: Float64Array): { series: Series[]; times: Float64Array } {
    const step = e.stepMs > 0 ? e.stepMs : (this.opts.defaultSubqueryStepMs ?? 60_000);
    if (evalTimes.length === 0) return { series: [], times: new Float64Array(0) };
    let min = Infinity;
    let max = -Infinity;
    for (const t of evalTimes) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
    const lowest = min - e.rangeMs;
    let start = step * Math.trunc(lowest / step);
    if (start <= lowest) start += step;
    const grid = makeGrid(start, max, step);
    if (grid.n === 0) return { series: [], times: new Float64Array(0) };
    const v = this.eval(e.expr, grid);
    if (v.type !== 'vector') throw new EngineError('execution', `subquery is only allowed on instant vector, got ${v.type}`);
    return { series: v.series, times: gridTimes(grid) };
  }

  /** evalMatrixResult evaluates a matrix selector as a query result (instant queries only). */
  evalMatrixResult(ms: MatrixSelector, grid: StepGrid): Value {
    if (grid.n !== 1) throw new EngineError('execution', 'cannot do range evaluation of matrix selector');
    if (ms.vs.anchored || ms.vs.smoothed) return { type: 'matrix', series: extendedMatrixResult(this, ms, grid.startMs) };
    const { data, evalTimes, rangeMs } = this.rangeData(ms, grid);
    const t = evalTimes[0];
    const series: RangeSeries[] = [];
    const reader = data.histograms === undefined ? undefined : new HistogramReader(data.histograms);
    for (let s = 0; s < data.labels.length; s++) {
      const r: RangeSeries = { labels: data.labels[s], dropName: false, timestamps: [], values: [] };
      for (let i = data.offsets[s]; i < data.offsets[s + 1]; i++) {
        const ts = data.timestamps[i];
        if (ts > t - rangeMs && ts <= t && !isStaleAt(data.values, i)) {
          r.timestamps.push(ts);
          r.values.push(data.values[i]);
        }
      }
      if (reader !== undefined) {
        const [from, to] = reader.range(s);
        for (let j = from; j < to; j++) {
          const ts = reader.time(j);
          if (ts > t - rangeMs && ts <= t && !reader.isStale(j)) {
            r.histograms ??= { timestamps: [], values: [] };
            r.histograms.timestamps.push(ts);
            r.histograms.values.push(reader.at(j));
          }
        }
      }
      if (r.timestamps.length > 0 || r.histograms !== undefined) series.push(r);
    }
    return { type: 'matrix', series };
  }

  /** evalSubqueryResult evaluates a subquery as a query result (instant queries only). */
  evalSubqueryResult(e: SubqueryExpr, grid: StepGrid): Value {
    if (grid.n !== 1) throw new EngineError('execution', 'cannot do range evaluation of subquery');
    const evalTimes = this.shiftedTimes(grid, e.at, e.offsetMs);
    const { series, times } = this.evalSubqueryInner(e, evalTimes);
    const out: RangeSeries[] = [];
    for (const s of series) {
      const r: RangeSeries = { labels: s.labels, dropName: s.dropName, timestamps: [], values: [] };
      for (let i = 0; i < times.length; i++) {
        if (!s.present[i]) continue;
        const h = s.histograms?.[i];
        if (h !== undefined) {
          r.histograms ??= { timestamps: [], values: [] };
          r.histograms.timestamps.push(times[i]);
          r.histograms.values.push(h);
        } else {
          r.timestamps.push(times[i]);
          r.values.push(s.values[i]);
        }
      }
      if (r.timestamps.length > 0 || r.histograms !== undefined) out.push(r);
    }
    return { type: 'matrix', series: out };
  }
}

function resolve(query: string | Expr): { expr: Expr; text: string } {
  if (typeof query !== 'string') return { expr: query, text: '' };
  if (!parseFn) throw new EngineError('bad_data', 'PromQL parser is not available');
  return { expr: parseFn(query), text: query };
}

function finish(ev: Evaluator, value: QueryResult['value']): QueryResult {
  return { value, warnings: [...ev.ann.warnings], infos: [...ev.ann.infos] };
}

/** cleanupNames applies delayed name removal to vector series and merges series whose label sets now coincide. */
export function cleanupNames(series: Series[]): Series[] {
  const byKey = new Map<string, Series>();
  const out: Series[] = [];
  for (const s of series) {
    const labels = s.dropName ? dropMetricName(s.labels) : s.labels;
    const key = labelsKey(labels);
    const prev = byKey.get(key);
    if (!prev) {
      const ns = { ...s, labels, dropName: false };
      byKey.set(key, ns);
      out.push(ns);
      continue;
    }
    const values = prev.values.slice();
    const present = prev.present.slice();
    let histograms = prev.histograms?.slice();
    for (let i = 0; i < s.present.length; i++) {
      if (!s.present[i]) continue;
      if (present[i]) throw new EngineError('execution', DUPLICATE_LABELSET);
      present[i] = 1;
      values[i] = s.values[i];
      const h = s.histograms?.[i];
      if (h !== undefined) {
        histograms ??= new Array<FloatHistogram | undefined>(s.present.length);
        histograms[i] = h;
      }
    }
    prev.values = values;
    prev.present = present;
    if (histograms !== undefined) prev.histograms = histograms;
  }
  return out;
}

/** instantQuery evaluates query at one time. */
export function instantQuery(kernels: Kernels, query: string | Expr, timeMs: number, opts: EngineQueryOptions): QueryResult {
  const { expr: parsed, text } = resolve(query);
  const expr = resolveDurations(parsed, 0, 0);
  const ev = new Evaluator(kernels, opts, text, timeMs, timeMs, false);
  ev.prepare(expr);
  const grid: StepGrid = { startMs: timeMs, stepMs: 1, n: 1 };
  const v = ev.eval(expr, grid);
  switch (v.type) {
    case 'scalar':
      return finish(ev, { resultType: 'scalar', timestampMs: timeMs, value: v.values[0] });
    case 'string':
      return finish(ev, { resultType: 'string', timestampMs: timeMs, value: v.value });
    case 'vector': {
      const series: Array<{ labels: Labels; value: number; histogram?: FloatHistogram }> = [];
      const seen = new Set<string>();
      for (const s of v.series) {
        if (!s.present[0]) continue;
        const labels = s.dropName ? dropMetricName(s.labels) : s.labels;
        const key = labelsKey(labels);
        if (seen.has(key)) throw new EngineError('execution', DUPLICATE_LABELSET);
        seen.add(key);
        const h = s.histograms?.[0];
        series.push(h === undefined ? { labels, value: s.values[0] } : { labels, value: NaN, histogram: h });
      }
      return finish(ev, { resultType: 'vector', timestampMs: timeMs, series });
    }
    case 'matrix': {
      const merged = mergeRangeSeries(v.series);
      merged.sort((a, b) => compareLabels(a.labels, b.labels));
      return finish(ev, {
        resultType: 'matrix',
        series: merged.map((s) => ({
          labels: s.labels,
          timestamps: Float64Array.from(s.timestamps),
          values: Float64Array.from(s.values),
          ...(s.histograms === undefined ? {} : { histograms: { timestamps: Float64Array.from(s.histograms.timestamps), values: s.histograms.values } }),
        })),
      });
    }
  }
}

function mergeRangeSeries(series: RangeSeries[]): RangeSeries[] {
  const byKey = new Map<string, RangeSeries>();
  for (const s of series) {
    const labels = s.dropName ? dropMetricName(s.labels) : s.labels;
    const key = labelsKey(labels);
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, { ...s, labels, dropName: false });
      continue;
    }
    const pts = prev.timestamps.map((t, i) => [t, prev.values[i]] as [number, number]);
    s.timestamps.forEach((t, i) => pts.push([t, s.values[i]]));
    pts.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < pts.length; i++) if (pts[i][0] === pts[i - 1][0]) throw new EngineError('execution', DUPLICATE_LABELSET);
    prev.timestamps = pts.map((p) => p[0]);
    prev.values = pts.map((p) => p[1]);
    if (s.histograms !== undefined) {
      const hp: Array<[number, FloatHistogram]> = prev.histograms === undefined ? [] : prev.histograms.timestamps.map((t, i) => [t, prev.histograms!.values[i]!]);
      s.histograms.timestamps.forEach((t, i) => hp.push([t, s.histograms!.values[i]!]));
      hp.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < hp.length; i++) if (hp[i][0] === hp[i - 1][0]) throw new EngineError('execution', DUPLICATE_LABELSET);
      prev.histograms = { timestamps: hp.map((p) => p[0]), values: hp.map((p) => p[1]) };
    }
  }
  return [...byKey.values()];
}

/** rangeQuery evaluates query at start, start+step, ... end. */
export function rangeQuery(
  kernels: Kernels,
  query: string | Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  opts: EngineQueryOptions,
): QueryResult {
  const { expr: parsed, text } = resolve(query);
  const expr = resolveDurations(parsed, stepMs, endMs - startMs);
  if (stepMs <= 0) throw new EngineError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  let top = expr;
  while (top.type === 'ParenExpr') top = top.expr;
  if (top.type === 'StringLiteral') {
    throw new EngineError('bad_data', 'invalid expression type "string" for range query, must be Scalar or instant Vector');
  }
  if (top.type === 'MatrixSelector' || top.type === 'SubqueryExpr') {
    throw new EngineError('bad_data', 'invalid expression type "range vector" for range query, must be Scalar or instant Vector');
  }
  const ev = new Evaluator(kernels, opts, text, startMs, endMs, true, stepMs);
  ev.prepare(expr);
  const grid = makeGrid(startMs, endMs, stepMs);
  const times = gridTimes(grid);
  const v = ev.eval(expr, grid);
  if (v.type === 'string' || v.type === 'matrix') {
    throw new EngineError('bad_data', `invalid expression type "${v.type === 'string' ? 'string' : 'range vector'}" for range query, must be Scalar or instant Vector`);
  }
  let series: Series[];
  if (v.type === 'scalar') {
    const s = newSeries({}, grid.n, false);
    s.values.set(v.values);
    s.present.fill(1);
    series = [s];
  } else {
    series = cleanupNames(v.series);
  }
  // Sorted first, then written into one pair of flat arrays in that order: each series' points are
  // views of them, and the JSON encoder takes the flat arrays as they are (no copy per series).
  const kept: Array<{ s: Series; count: number }> = [];
  let total = 0;
  for (const s of series) {
    let count = 0;
    for (let i = 0; i < grid.n; i++) count += s.present[i];
    if (count === 0) continue;
    kept.push({ s, count });
    total += count;
  }
  kept.sort((a, b) => compareLabels(a.s.labels, b.s.labels));
  const allTs = new Float64Array(total);
  const allVs = new Float64Array(total);
  const out: Array<{ labels: Labels; timestamps: Float64Array; values: Float64Array; histograms?: { timestamps: Float64Array; values: FloatHistogram[] } }> = new Array(kept.length);
  let at = 0;
  for (let k = 0; k < kept.length; k++) {
    const { s, count } = kept[k];
    const from = at;
    const present = s.present;
    const values = s.values;
    const hcol = s.histograms;
    let hts: number[] | undefined;
    let hvs: FloatHistogram[] | undefined;
    for (let i = 0; i < grid.n; i++) {
      if (!present[i]) continue;
      const h = hcol?.[i];
      if (h !== undefined) {
        (hts ??= []).push(times[i]);
        (hvs ??= []).push(h);
        continue;
      }
      allTs[at] = times[i];
      allVs[at] = values[i];
      at++;
    }
    const nf = at - from;
    out[k] = { labels: s.labels, timestamps: allTs.subarray(from, from + nf), values: allVs.subarray(from, from + nf) };
    if (hts !== undefined) out[k].histograms = { timestamps: Float64Array.from(hts), values: hvs! };
  }
  return finish(ev, { resultType: 'matrix', series: out });
}
