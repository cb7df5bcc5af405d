// kernels.ts implements the engine's Kernels interface over the native
// binding: selection decodes XOR chunks straight into flat typed arrays, and
// the instant/range kernels run in Rust over those arrays, which pass through
// untouched (so staleness-marker NaN bits survive the round trip).

import { decodeSeriesLabels } from '../../model/series-labels.js';
import { loadNative, TOO_MANY_SAMPLES_MESSAGE, type NativeBinding } from '../../storage/native.js';
import type { LabelMatcher } from '../../model/matchers.js';
import { visibleTo, type Visibility } from '../../auth/visibility.js';
import { EngineError, type AggregateSelection, type KernelResult, type Kernels, type Labels, type RangeFunction, type SelectedSeries } from './types.js';

/** NativeKernelsOptions configure nativeKernels. */
export interface NativeKernelsOptions {
  /** maxSamples is the default -querier.max-samples for select (0 = no limit). */
  maxSamples?: number;
  /** binding replaces the loaded native module (tests). */
  binding?: NativeBinding;
  /** visibility limits each tenant's selections to its label policies (LBAC). */
  visibility?: Visibility;
}

/** NativeKernels are Kernels plus what only the native side offers. */
export interface NativeKernels extends Kernels {
  selectRange: NonNullable<Kernels['selectRange']>;
  selectAggregate: NonNullable<Kernels['selectAggregate']>;
  /**
   * select takes an optional per-call sample limit (overriding the default); exceeding it throws
   * EngineError('execution', TOO_MANY_SAMPLES_MESSAGE).
   */
  select(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, maxSamples?: number): SelectedSeries;
  /**
   * checkMatchers fails as select would on a bad selector (a malformed `__query_shard__`, as
   * EngineError('execution', 'expanding series: invalid shard ID: ...')) without selecting anything.
   */
  checkMatchers(matchers: LabelMatcher[]): void;
  /** instantWithSampleTimes is instant plus each present cell's sample time in ms (for timestamp()). */
  instantWithSampleTimes(data: SelectedSeries, evalTimesMs: Float64Array, lookbackMs: number): KernelResult & { sampleTimes: Float64Array };
}

const NO_PARAMS = new Float64Array(0);

/**
 * tooManySamples turns the binding's sample-limit error into the engine's execution error, and a
 * malformed shard selector's (`invalid shard ID: ...`, Mimir's text) into the execution error
 * Prometheus's engine makes of a storage error (`expanding series: ...`); other errors pass unchanged.
 */
function tooManySamples(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err.message === TOO_MANY_SAMPLES_MESSAGE) return new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE);
  if (err.message.startsWith('invalid shard ID: ')) return new EngineError('execution', `expanding series: ${err.message}`);
  return err;
}

/** nativeKernels returns the Kernels the engine runs on in production. */
export function nativeKernels(opts: NativeKernelsOptions = {}): NativeKernels {
  const b = opts.binding ?? loadNative();
  const defaultMax = opts.maxSamples ?? 0;
  return {
    checkMatchers(matchers) {
      try {
        b.checkMatchers(matchers);
      } catch (err) {
        throw tooManySamples(err);
      }
    },
    select(tenant, matchers, mintMs, maxtMs, maxSamples = defaultMax) {
      let sel;
      try {
        sel = b.selectSamples(tenant, matchers, mintMs, maxtMs, maxSamples, visibleTo(opts.visibility, tenant));
      } catch (err) {
        throw tooManySamples(err);
      }
      return {
        labels: decodeSeriesLabels(sel.labels),
        offsets: sel.offsets,
        timestamps: sel.timestamps,
        values: sel.values,
        ...(sel.histograms === undefined ? {} : { histograms: sel.histograms }),
        ...(sel.startTimestamps === undefined ? {} : { startTimestamps: sel.startTimestamps }),
      };
    },
    rangeStartTimes(fn, data, evalTimesMs, rangeMs) {
      const sts = data.startTimestamps ?? new Float64Array(data.timestamps.length);
      const r = b.rangeKernelSt(fn, data.offsets, data.timestamps, data.values, sts, evalTimesMs, rangeMs);
      return { values: r.values, present: r.present };
    },
    instant(data, evalTimesMs, lookbackMs) {
      const r = b.instantKernel(data.offsets, data.timestamps, data.values, evalTimesMs, lookbackMs);
      return { values: r.values, present: r.present };
    },
    instantWithSampleTimes(data, evalTimesMs, lookbackMs) {
      const r = b.instantKernel(data.offsets, data.timestamps, data.values, evalTimesMs, lookbackMs, true);
      return { values: r.values, present: r.present, sampleTimes: r.sampleTimes ?? new Float64Array(r.values.length) };
    },
    selectRange(tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, maxSamples = defaultMax) {
      // A stand-in binding (tests) may not have the fused path.
      if (typeof b.selectRange !== 'function') return undefined;
      let r;
      try {
        r = b.selectRange(tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, visibleTo(opts.visibility, tenant), maxSamples);
      } catch (err) {
        throw tooManySamples(err);
      }
      // A float-only answer cannot carry native histograms: the engine selects such series itself.
      if (r.hasHistograms === true) return undefined;
      return { labels: decodeSeriesLabels(r.labels), values: r.values, present: r.present, samples: r.samples };
    },
    selectAggregate(tenant, matchers, mintMs, maxtMs, inner, evalTimesMs, op, without, grouping, maxSamples = defaultMax) {
      const vis = visibleTo(opts.visibility, tenant);
      let r;
      try {
        if (inner.kind === 'range') {
          if (typeof b.selectRangeAggregate !== 'function') return undefined;
          r = b.selectRangeAggregate(tenant, matchers, mintMs, maxtMs, inner.fn, evalTimesMs, inner.rangeMs, op, without, grouping, inner.metricNames, vis, maxSamples, inner.statsOnly === true);
        } else {
          if (typeof b.selectInstantAggregate !== 'function') return undefined;
          r = b.selectInstantAggregate(tenant, matchers, mintMs, maxtMs, evalTimesMs, inner.lookbackMs, op, without, grouping, vis, maxSamples);
        }
      } catch (err) {
        throw tooManySamples(err);
      }
      if (r.hasHistograms === true) return undefined;
      const out: AggregateSelection = { labels: decodeSeriesLabels(r.labels), values: r.values, present: r.present, samples: r.samples, metricNames: r.metricNames };
      if (r.histogramOffsets != null && r.histogramData != null) out.histograms = { offsets: r.histogramOffsets, data: r.histogramData };
      return out;
    },
    range(fn: RangeFunction, data, evalTimesMs, rangeMs, params) {
      const r = b.rangeKernel(fn, data.offsets, data.timestamps, data.values, evalTimesMs, rangeMs, params ?? NO_PARAMS);
      return { values: r.values, present: r.present };
    },
  };
}
