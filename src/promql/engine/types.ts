// types.ts holds the engine's value representation and the narrow interface
// to the native selection and range kernels.
//
// The engine evaluates a query over all steps at once (as Prometheus's range
// evaluation does): an instant-vector node yields, per series, one value per
// step with a presence mask; scalars yield one value per step. Instant queries
// are range queries with a single step. No JavaScript object per sample:
// per-series typed arrays only.

import type { LabelMatcher } from '../../model/matchers.js';
import type { FloatHistogram } from './float-histogram.js';
import type { FlatHistograms } from './histogram-flat.js';

/** Labels is a series' label set, keys sorted, `__name__` included when present. */
export type Labels = Record<string, string>;

/** StepGrid is the set of evaluation timestamps: startMs + i*stepMs for i < n. */
export interface StepGrid {
  startMs: number;
  stepMs: number;
  n: number;
}

/** StepSeries is one series of an instant vector over all steps. */
export interface StepSeries {
  labels: Labels;
  /** values[i] is the value at step i; meaningful only where present[i] === 1. */
  values: Float64Array;
  present: Uint8Array;
  /**
   * histograms is the native-histogram column: where present[i] === 1 and histograms[i] is set,
   * the value at step i is that histogram (values[i] is then meaningless). Absent when no step
   * holds a histogram. Histogram objects are shared between nodes: never change one in place.
   */
  histograms?: Array<FloatHistogram | undefined>;
}

/** SelectedSeries are raw samples of the series a selector matched, flat. */
export interface SelectedSeries {
  labels: Labels[];
  /** offsets has labels.length + 1 entries: series i owns samples [offsets[i], offsets[i+1]). */
  offsets: Uint32Array;
  /** timestamps in ms, ascending per series. */
  timestamps: Float64Array;
  values: Float64Array;
  /** histograms are the series' native-histogram samples in the hand-off format (histogram-flat.ts), when any. */
  histograms?: FlatHistograms;
  /** startTimestamps are each float sample's start timestamp in ms (0: unknown), when a selected series has any. */
  startTimestamps?: Float64Array;
}

/** START_TIME_FUNCTIONS are the range functions that read start timestamps (Prometheus's use-start-timestamps). */
export const START_TIME_FUNCTIONS: ReadonlySet<string> = new Set(['rate', 'increase', 'irate', 'resets']);

/** StartTimeFunction is one of START_TIME_FUNCTIONS. */
export type StartTimeFunction = 'rate' | 'increase' | 'irate' | 'resets';

/** KernelResult is a kernel's output: nSeries * nSteps values, row-major by series. */
export interface KernelResult {
  values: Float64Array;
  present: Uint8Array;
}

/**
 * RangeFunction names the range-vector functions computed natively.
 * Extra float parameters (quantile's q, predict_linear's t, holt_winters' sf/tf)
 * go in params.
 */
export type RangeFunction =
  | 'rate' | 'irate' | 'increase' | 'delta' | 'idelta' | 'deriv' | 'predict_linear' | 'resets' | 'changes'
  | 'avg_over_time' | 'sum_over_time' | 'count_over_time' | 'min_over_time' | 'max_over_time'
  | 'stddev_over_time' | 'stdvar_over_time' | 'last_over_time' | 'first_over_time' | 'present_over_time'
  | 'quantile_over_time' | 'mad_over_time' | 'absent_over_time' | 'double_exponential_smoothing'
  | 'ts_of_min_over_time' | 'ts_of_max_over_time' | 'ts_of_last_over_time' | 'ts_of_first_over_time';

/** Kernels is what the engine needs from the native core. */
export interface Kernels {
  /**
   * select returns the raw samples of every series matching all matchers with
   * samples in [mintMs, maxtMs]. Throws on invalid regexps. With maxSamples > 0, stops with
   * EngineError('execution', TOO_MANY_SAMPLES_MESSAGE) as soon as more than that many samples
   * are loaded (kernels without a storage-side limit may ignore it: the engine counts too).
   */
  select(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, maxSamples?: number): SelectedSeries;
  /**
   * instant evaluates an instant selector: for each series and each time t of
   * evalTimesMs, the newest sample in (t - lookbackMs, t], absent if that
   * sample is a staleness marker or none exists.
   */
  instant(data: SelectedSeries, evalTimesMs: Float64Array, lookbackMs: number): KernelResult;
  /**
   * range evaluates fn over the left-open window (t - rangeMs, t] for each t
   * of evalTimesMs (staleness markers dropped), with Prometheus 3.x semantics
   * (extrapolation for rate/increase/delta).
   */
  range(fn: RangeFunction, data: SelectedSeries, evalTimesMs: Float64Array, rangeMs: number, params: Float64Array): KernelResult;
  /**
   * rangeStartTimes, where offered, is range for a START_TIME_FUNCTIONS function over float samples
   * with start timestamps (data.startTimestamps set), as Prometheus evaluates it with
   * use-start-timestamps: a start past the previous sample is a counter reset, and a first sample
   * whose start lies in the window stands for a zero there instead of extrapolating.
   */
  rangeStartTimes?(fn: StartTimeFunction, data: SelectedSeries, evalTimesMs: Float64Array, rangeMs: number): KernelResult;
  /**
   * selectRange, where offered, is select then range in one pass over the storage (no flat copy of
   * the samples): the answer of range(fn, select(tenant, matchers, mintMs, maxtMs), ...) without
   * the series that have no value at any step, plus how many samples select would have loaded.
   * Undefined when it cannot answer this call (the engine then selects and runs range).
   * maxSamples bounds the samples loaded as for select.
   */
  selectRange?(
    tenant: string,
    matchers: LabelMatcher[],
    mintMs: number,
    maxtMs: number,
    fn: RangeFunction,
    evalTimesMs: Float64Array,
    rangeMs: number,
    params: Float64Array,
    maxSamples?: number,
  ): RangeSelection | undefined;
  /**
   * selectAggregate, where offered, is the selection of `inner` (a parameterless range function
   * over a matrix selector's samples, or an instant selector's lookback), evaluated per series and
   * step as select then range/instant would, then aggregated with op (sum, avg, count, min, max,
   * group, stddev, stdvar) by (or without) grouping exactly as the engine aggregates: only the
   * groups come back. Undefined when it cannot answer this call (the engine then takes the
   * general path).
   */
  selectAggregate?(
    tenant: string,
    matchers: LabelMatcher[],
    mintMs: number,
    maxtMs: number,
    inner: AggregateInner,
    evalTimesMs: Float64Array,
    op: string,
    without: boolean,
    grouping: string[],
    maxSamples?: number,
  ): AggregateSelection | undefined;
}

/** AggregateInner is what selectAggregate evaluates per series before aggregating. */
export type AggregateInner =
  | {
      kind: 'range';
      fn: RangeFunction;
      rangeMs: number;
      metricNames: boolean;
      /** statsOnly: native histograms feed only histogram_count/sum/avg (their buckets may be left out). */
      statsOnly?: boolean;
    }
  | { kind: 'instant'; lookbackMs: number };

/**
 * AggregateSelection is selectAggregate's answer: group i has the cells i * nSteps + step. samples
 * is what the engine charges for the inner expression (raw samples loaded for a range function,
 * present cells for an instant selector); metricNames are, when asked, the distinct metric names
 * of the series with a value in order of first appearance.
 */
export interface AggregateSelection extends KernelResult {
  labels: Labels[];
  samples: number;
  metricNames: string[];
  /**
   * histograms, for `sum` of `rate`/`increase` over native histograms: cell x holds the histogram
   * data[offsets[x] .. offsets[x + 1]] (the hand-off format, histogram-flat.ts) where present.
   */
  histograms?: { offsets: Uint32Array; data: Float64Array };
}

/** RangeSelection is selectRange's answer: series i has the cells i * nSteps + step (row-major). */
export interface RangeSelection extends KernelResult {
  labels: Labels[];
  /** samples is what select would have loaded (for -querier.max-samples). */
  samples: number;
}

/** QueryOptions are the evaluation settings of one query. */
export interface QueryOptions {
  tenant: string;
  /** lookbackDeltaMs is -querier.lookback-delta (default 5m). */
  lookbackDeltaMs: number;
  /** maxSamples is -querier.max-samples. */
  maxSamples: number;
  /** deadline is the wall-clock ms after which evaluation stops with a timeout. */
  deadline: number;
  /** signal aborts evaluation when the HTTP request is cancelled. */
  signal?: AbortSignal;
  /**
   * useStartTimestamps has rate, increase, irate, resets and start_timestamp() read the samples'
   * start timestamps (-querier.use-start-timestamps, Prometheus's use-start-timestamps feature).
   */
  useStartTimestamps?: boolean;
}

/** QueryValue is an evaluated query result as the HTTP API encodes it. */
export type QueryValue =
  | {
      resultType: 'matrix';
      series: Array<{
        labels: Labels;
        timestamps: Float64Array;
        values: Float64Array;
        /** histograms are the series' native-histogram points, apart from its float points. */
        histograms?: { timestamps: Float64Array; values: FloatHistogram[] };
      }>;
    }
  | { resultType: 'vector'; timestampMs: number; series: Array<{ labels: Labels; value: number; histogram?: FloatHistogram }> }
  | { resultType: 'scalar'; timestampMs: number; value: number }
  | { resultType: 'string'; timestampMs: number; value: string };

/** QueryResult is a result with its annotations. */
export interface QueryResult {
  value: QueryValue;
  warnings: string[];
  infos: string[];
}

/** EngineError kinds map to the API's errorType: bad_data, execution, timeout, canceled. */
export class EngineError extends Error {
  constructor(
    readonly kind: 'bad_data' | 'execution' | 'timeout' | 'canceled',
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
