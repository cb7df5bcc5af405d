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
  /** -distributor.ingestion-rate-limit (items/s, per tenant, shared by all threads); absent: no rate limit. */
  ingestionRate?: number;
  /** -distributor.ingestion-burst-size, used with ingestionRate. */
  ingestionBurstSize?: number;
  /** -ingester.max-global-series-per-user; 0 or absent: no limit. */
  maxGlobalSeriesPerUser?: number;
  /** -ingester.max-global-series-per-metric; 0 or absent: no limit. */
  maxGlobalSeriesPerMetric?: number;
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
  /**
   * Status of the first error: 400 for bad data (series limits included), 429 when the tenant's
   * ingestion rate limit refused the whole request (nothing stored), 500 when the WAL failed;
   * absent when everything was accepted.
   */
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

/** WrittenBlock describes a block cut by writeBlock (see docs/format/block.md). */
export interface WrittenBlock {
  /** The block's ULID, also its directory name. */
  ulid: string;
  numSeries: number;
  numSamples: number;
  numChunks: number;
  /** meta.json minTime (inclusive, ms). */
  minTime: number;
  /** meta.json maxTime (exclusive, ms). */
  maxTime: number;
}

/**
 * SelectedChunks are the raw chunks of the series a block selector matched, flat: series i
 * (labels i of labelsJson) owns chunks [seriesOffsets[i], seriesOffsets[i+1]); chunk j is
 * data[dataOffsets[j], dataOffsets[j+1]) with encoding encodings[j] (1 = XOR) and samples from
 * minTimes[j] to maxTimes[j] (ms).
 */
export interface SelectedChunks {
  labelsJson: string;
  seriesOffsets: Uint32Array;
  minTimes: Float64Array;
  maxTimes: Float64Array;
  encodings: Uint8Array;
  dataOffsets: Uint32Array;
  data: Buffer;
}

/** NativeKernelResult is a kernel's output, row-major: cell series * nSteps + step. */
export interface NativeKernelResult {
  /** Meaningful where present is 1. */
  values: Float64Array;
  present: Uint8Array;
  /** instantKernel with withSampleTimes: each present cell's sample time (ms). */
  sampleTimes?: Float64Array;
}

/** StorageOptions configure the on-disk storage (openStorage). */
export interface StorageOptions {
  /** -blocks-storage.tsdb.dir: each tenant's WAL is in `<dir>/<tenant>/wal`. */
  dir: string;
  /** -blocks-storage.tsdb.wal-segment-size-bytes (a multiple of 32768). */
  walSegmentSize: number;
  /** -blocks-storage.tsdb.wal-sync-mode: 'none' or 'always'. */
  syncMode: string;
}

/** WalTenant is a tenant whose WAL has segments to replay. */
export interface WalTenant {
  tenant: string;
  /** Segment indexes, ascending. */
  segments: number[];
}

/** WalReplayResult are one WAL segment's replay figures. */
export interface WalReplayResult {
  records: number;
  series: number;
  samples: number;
  /** Samples whose series record was never seen (lost to corruption). */
  unknownRefs: number;
  /** Samples not after their series' newest one (dropped). */
  dropped: number;
  /** Bytes of the segment replayed. */
  bytes: number;
  /** Why the segment stopped making sense, when it did. */
  corruption?: string;
  /** Offset of the corrupt data in the segment. */
  corruptionOffset?: number;
  /** Bytes cut off the end of the last segment (a torn tail). */
  truncatedBytes: number;
}

/** TOO_MANY_SAMPLES_MESSAGE is the exact message selectSamples throws when maxSamples is exceeded. */
export const TOO_MANY_SAMPLES_MESSAGE = 'query processing would load too many samples into memory in query execution';

/** NativeBinding is the shape of native/napi's exports. */
export interface NativeBinding {
  coreVersion(): string;
  /** ingestWriteRequest decodes an uncompressed remote-write 1.0 protobuf body, validates it and appends it to the tenant's head. Throws only on internal failure; bad input is reported in the result. */
  ingestWriteRequest(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
  /** ingestSnappyWriteRequest is ingestWriteRequest for the snappy body as posted, uncompressed in Rust into a per-thread buffer; null when the snappy data is corrupt. */
  ingestSnappyWriteRequest(tenant: string, compressed: Uint8Array, limits: IngestLimits): IngestResult | null;
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
   * openStorage configures the on-disk WAL of every tenant (from then on a push is logged before
   * it is acknowledged) and lists the tenants with segments to replay. Throws on I/O errors and an
   * invalid segment size or sync mode. Without it, heads live in memory only.
   */
  openStorage?(opts: StorageOptions): WalTenant[];
  /**
   * replayWalSegment replays one segment (as listed by openStorage, in order) into the tenant's
   * head, off the calling thread. A corrupt end of the last segment is truncated at the last good
   * record; corruption is reported in the result, never thrown. Rejects on I/O errors.
   */
  replayWalSegment?(tenant: string, segment: number): Promise<WalReplayResult>;
  /** finishWalReplay ends a tenant's replay; true when its series were logged again (refs remapped). */
  finishWalReplay?(tenant: string): boolean;
  /** closeStorage fsyncs and closes every WAL (shutdown); pushes fail afterwards. */
  closeStorage?(): void;
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
  /**
   * writeBlock cuts the tenant head's samples with mintMs <= t < maxtMs into a Prometheus TSDB
   * block `<dir>/<ULID>/` (written as `<ULID>.tmp`, fsynced, renamed). Null when the range holds
   * no samples. Throws on I/O errors or an empty range.
   */
  writeBlock(tenant: string, dir: string, mintMs: number, maxtMs: number): WrittenBlock | null;
  /** writeBlockAsync is writeBlock computed on the libuv thread pool. */
  writeBlockAsync(tenant: string, dir: string, mintMs: number, maxtMs: number): Promise<WrittenBlock | null>;
  /**
   * blockSelectSamples reads the block in blockDir and returns the samples with
   * mintMs <= t <= maxtMs of every series matching all matchers (every series for none), in the
   * shape of selectSamples. Throws on an invalid regexp, on a missing or corrupt block (naming the
   * file), and with TOO_MANY_SAMPLES_MESSAGE when more than maxSamples (if given and > 0) would
   * be loaded.
   */
  blockSelectSamples(blockDir: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, maxSamples?: number): SelectedSamples;
  /**
   * blockSelectChunks reads the block in blockDir and returns, whole and as stored (CRC checked),
   * the chunks overlapping [mintMs, maxtMs] of every series matching all matchers (every series
   * for none), series sorted by labels. Throws on an invalid regexp and on a missing or corrupt block.
   */
  blockSelectChunks(blockDir: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number): SelectedChunks;
  /**
   * selectChunks returns, whole and as stored, the head's XOR chunks overlapping [mintMs, maxtMs]
   * of every series matching all matchers (every series for none), series sorted by labels, the
   * open head chunk with its current bytes (remote read's streamed chunks). Throws on an invalid regexp.
   */
  selectChunks(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number): SelectedChunks;
  /**
   * selectRange is selectSamples then rangeKernel in one pass over the head (no flat copy of the
   * samples), without the series that have no value at any step; samples is what selectSamples
   * would have loaded. Throws on an invalid regexp, an unknown function or a wrong parameter count.
   */
  selectRange(
    tenant: string,
    matchers: LabelMatcher[],
    mintMs: number,
    maxtMs: number,
    fn: string,
    evalTimes: Float64Array,
    rangeMs: number,
    params: Float64Array,
  ): { labelsJson: string; values: Float64Array; present: Uint8Array; samples: number };
  /**
   * encodeMatrixJson returns prefix + `{"resultType":"matrix","result":[...]}` + suffix as bytes:
   * metrics are the series' label objects as JSON joined by newlines, series i owns points
   * offsets[i]..offsets[i+1] of timestamps (ms) and values (encoded as Prometheus's API does).
   */
  encodeMatrixJson(prefix: string, metrics: string, offsets: Uint32Array, timestamps: Float64Array, values: Float64Array, suffix: string): Buffer;
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
  /** ingestSnappy, when present, takes the snappy body as posted; undefined means corrupt snappy. */
  ingestSnappy?(tenant: string, compressed: Uint8Array, limits: IngestLimits): IngestResult | undefined;
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
export const REQUIRED_EXPORTS = ['ingestWriteRequest', 'ingestSnappyWriteRequest', 'seriesJson', 'labelNames', 'labelValues', 'headStats'] as const;

/** missingNativeExports lists REQUIRED_EXPORTS the loaded binding lacks (empty when complete). */
export function missingNativeExports(b: Partial<NativeBinding> = loadNative()): string[] {
  return REQUIRED_EXPORTS.filter((name) => typeof b[name] !== 'function');
}

/** nativeStorage adapts the binding to the component interfaces. */
export function nativeStorage(): Appender & SeriesQuerier & HeadStatsSource {
  const b = loadNative();
  return {
    ingest: (tenant, body, limits) => b.ingestWriteRequest(tenant, body, limits),
    ingestSnappy: (tenant, compressed, limits) => b.ingestSnappyWriteRequest(tenant, compressed, limits) ?? undefined,
    seriesJson: (...a) => b.seriesJson(...a),
    labelNames: (...a) => b.labelNames(...a),
    labelValues: (...a) => b.labelValues(...a),
    headStats: () => b.headStats(),
  };
}

/** WalStore is what start-up replay and shutdown need from the WAL. */
export interface WalStore {
  openStorage(opts: StorageOptions): WalTenant[];
  replayWalSegment(tenant: string, segment: number): Promise<WalReplayResult>;
  finishWalReplay(tenant: string): boolean;
  closeStorage(): void;
}

/** nativeWalStore adapts the binding's WAL exports (throws when the binding predates them). */
export function nativeWalStore(): WalStore {
  const b = loadNative();
  const { openStorage, replayWalSegment, finishWalReplay, closeStorage } = b;
  if (openStorage === undefined || replayWalSegment === undefined || finishWalReplay === undefined || closeStorage === undefined) {
    throw new Error('native binding has no WAL exports (build it with npm run build:native)');
  }
  return {
    openStorage: (opts) => openStorage.call(b, opts),
    replayWalSegment: (tenant, segment) => replayWalSegment.call(b, tenant, segment),
    finishWalReplay: (tenant) => finishWalReplay.call(b, tenant),
    closeStorage: () => closeStorage.call(b),
  };
}
