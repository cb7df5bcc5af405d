// native.ts is the one place TypeScript touches the Rust binding
// (native/napi). Components never import the binding directly: they depend on
// the narrow interfaces below (Appender, SeriesQuerier), which this module
// implements over the process-global TSDB state that lives in Rust memory and
// is shared by the main thread and every Piscina worker.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** MatchType mirrors Prometheus's labels.MatchType ordering. */
export const enum MatchType {
  Equal = 0,
  NotEqual = 1,
  Regexp = 2,
  NotRegexp = 3,
}

/** LabelMatcher is one `name op "value"` term of a series selector. */
export interface LabelMatcher {
  name: string;
  type: MatchType;
  value: string;
}

/** IngestLimits are the per-tenant validation limits applied while ingesting. */
export interface IngestLimits {
  /** -validation.max-label-names-per-series (default 30). */
  maxLabelNamesPerSeries: number;
  /** -validation.max-length-label-name (default 1024). */
  maxLabelNameLength: number;
  /** -validation.max-length-label-value (default 2048). */
  maxLabelValueLength: number;
  /** -validation.create-grace-period in ms (default 10m). */
  creationGracePeriodMs: number;
  /** -validation.past-grace-period in ms, 0 disables (default 0). */
  pastGracePeriodMs: number;
  /** Wall clock used for the grace periods, unix ms. */
  nowMs: number;
}

/** IngestResult summarises one decoded WriteRequest after it was appended. */
export interface IngestResult {
  /** Number of time series in the request. */
  series: number;
  /** Number of float samples in the request. */
  samples: number;
  /** Number of exemplars in the request. */
  exemplars: number;
  /** Number of metadata entries in the request. */
  metadata: number;
  /** Samples appended to the head. */
  acceptedSamples: number;
  /** Series that were new to the head. */
  createdSeries: number;
  /**
   * Discarded samples by Mimir reason label (e.g. `missing_metric_name`,
   * `sample_out_of_order`), as flat [reason, count, reason, count, ...].
   */
  discarded: Array<string | number>;
  /** Status of the first error: 400 for bad data, absent when everything was accepted. */
  errorStatus?: number;
  /** Message of the first error, worded as Mimir's distributor/ingester. */
  errorMessage?: string;
}

/** HeadStats are the figures /metrics and the status pages show for a tenant. */
export interface HeadStats {
  tenant: string;
  series: number;
  samples: number;
  chunks: number;
  minTime: number;
  maxTime: number;
}

/** SelectedSamples are the raw samples of the series a selector matched, flat (see selectSamples). */
export interface SelectedSamples {
  /** JSON array of label objects (keys sorted), series sorted by labels. */
  labelsJson: string;
  /** One more entry than series, starting at 0: series i owns samples [offsets[i], offsets[i+1]). */
  offsets: Uint32Array;
  /** Sample times in ms, ascending within a series. */
  timestamps: Float64Array;
  /** Sample values; staleness markers included with their exact bits. */
  values: Float64Array;
}

/** NativeKernelResult is a kernel's output, row-major: cell series * nSteps + step. */
export interface NativeKernelResult {
  /** Meaningful where present is 1. */
  values: Float64Array;
  present: Uint8Array;
  /** instantKernel with withSampleTimes: each present cell's sample time (ms). */
  sampleTimes?: Float64Array;
}

/** TOO_MANY_SAMPLES_MESSAGE is the exact message selectSamples throws when maxSamples is exceeded. */
export const TOO_MANY_SAMPLES_MESSAGE = 'query processing would load too many samples into memory in query execution';

/** NativeBinding is the shape of native/napi's exports. */
export interface NativeBinding {
  coreVersion(): string;
  /** ingestWriteRequest decodes an uncompressed remote-write 1.0 protobuf body, validates it and appends it to the tenant's head. Throws only on internal failure; bad input is reported in the result. */
  ingestWriteRequest(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
  /** seriesJson answers /api/v1/series: a JSON array of label objects for series matching any of the sets and overlapping [mint, maxt]. Throws on an invalid regexp. */
  seriesJson(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string;
  /** labelNames answers /api/v1/labels (sorted). An empty matcherSets means all series. */
  labelNames(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[];
  /** labelValues answers /api/v1/label/{name}/values (sorted). */
  labelValues(tenant: string, name: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[];
  /** headStats lists every tenant's head figures. */
  headStats(): HeadStats[];
  /** encodeXorChunks encodes samples as Prometheus's head would cut them into XOR chunks (120 samples, 2h range boundaries); returns each chunk's raw bytes (without the encoding byte). */
  encodeXorChunks(timestampsMs: Float64Array, values: Float64Array): Buffer[];
  /** decodeXorChunk decodes one raw XOR chunk into timestamps (ms) and values. */
  decodeXorChunk(chunk: Uint8Array): { timestamps: Float64Array; values: Float64Array };
  /** resetTenant drops a tenant's head (tests and tenant deletion). */
  resetTenant(tenant: string): void;
  /**
   * selectSamples returns the samples with mintMs <= t <= maxtMs of every series matching all
   * matchers (every series for none), series sorted by labels, series without such samples left
   * out. Throws on an invalid regexp, and with TOO_MANY_SAMPLES_MESSAGE when more than
   * maxSamples (if given and > 0) samples would be loaded.
   */
  selectSamples(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, maxSamples?: number): SelectedSamples;
  /**
   * instantKernel: for each series and each t of evalTimes (ms), the newest sample in
   * (t - lookbackMs, t], absent when none or a staleness marker.
   */
  instantKernel(
    offsets: Uint32Array,
    timestamps: Float64Array,
    values: Float64Array,
    evalTimes: Float64Array,
    lookbackMs: number,
    withSampleTimes?: boolean,
  ): NativeKernelResult;
  /**
   * rangeKernel evaluates a range-vector function over (t - rangeMs, t] for each t of evalTimes
   * (ms), staleness markers dropped. params: quantile_over_time [q], predict_linear [seconds],
   * double_exponential_smoothing [sf, tf]; once for all steps or once per step (step-major).
   */
  rangeKernel(
    func: string,
    offsets: Uint32Array,
    timestamps: Float64Array,
    values: Float64Array,
    evalTimes: Float64Array,
    rangeMs: number,
    params: Float64Array,
  ): NativeKernelResult;
  /**
   * appendSamplesUnchecked appends samples to one series (labels as flat [name, value, ...], any
   * order) without validation or the too-old check; samples not after the series' newest one are
   * dropped. Returns the number appended. For the PromQL test runner.
   */
  appendSamplesUnchecked(tenant: string, labels: string[], timestamps: Float64Array, values: Float64Array): number;
}

let binding: NativeBinding | undefined;

/** loadNative loads the napi module once per thread (the Rust state behind it is process-global). */
export function loadNative(): NativeBinding {
  binding ??= require('../../../native/napi/binding.cjs') as NativeBinding;
  return binding;
}

/** Appender is what the distributor needs from storage. */
export interface Appender {
  ingest(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
}

/** SeriesQuerier is what the metadata read endpoints need from storage. */
export interface SeriesQuerier {
  seriesJson(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string;
  labelNames(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[];
  labelValues(tenant: string, name: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number): string[];
}

/** HeadStatsSource is what /metrics and the status pages need from storage. */
export interface HeadStatsSource {
  headStats(): HeadStats[];
}

/** REQUIRED_EXPORTS are the binding functions the server cannot run without. */
export const REQUIRED_EXPORTS = ['ingestWriteRequest', 'seriesJson', 'labelNames', 'labelValues', 'headStats'] as const;

/** missingNativeExports lists REQUIRED_EXPORTS the loaded binding lacks (empty when complete). */
export function missingNativeExports(b: Partial<NativeBinding> = loadNative()): string[] {
  return REQUIRED_EXPORTS.filter((name) => typeof b[name] !== 'function');
}

/** nativeStorage adapts the binding to the component interfaces. */
export function nativeStorage(): Appender & SeriesQuerier & HeadStatsSource {
  const b = loadNative();
  return {
    ingest: (tenant, body, limits) => b.ingestWriteRequest(tenant, body, limits),
    seriesJson: (...a) => b.seriesJson(...a),
    labelNames: (...a) => b.labelNames(...a),
    labelValues: (...a) => b.labelValues(...a),
    headStats: () => b.headStats(),
  };
}
