// native.ts is the one place TypeScript touches the Rust binding
// (native/napi). Components never import the binding directly: they depend on
// the narrow interfaces below (Appender, SeriesQuerier), which this module
// implements over the process-global TSDB state that lives in Rust memory and
// is shared by the main thread and every Piscina worker.

import { createRequire } from 'node:module';

import { visibleTo, type Visibility } from '../auth/visibility.js';
import type { IngestLimits } from '../model/limits.js';
import type { LabelMatcher } from '../model/matchers.js';

export type { IngestLimits } from '../model/limits.js';
export { MatchType, type LabelMatcher } from '../model/matchers.js';

const require = createRequire(import.meta.url);

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
  /** Number of native histogram samples in the request. */
  histograms?: number;
  /** Float samples appended to the head. */
  acceptedSamples: number;
  /** Native histogram samples appended to the head. */
  acceptedHistograms?: number;
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
  /** Exemplars stored (exact repeats of a series' newest included). */
  acceptedExemplars?: number;
  /** Exemplars the ingester could not store (series missing, out of order). */
  failedExemplars?: number;
  /** Exemplars dropped by validation, as flat [reason, count, ...]. */
  discardedExemplars?: Array<string | number>;
  /** Metadata entries stored or refreshed. */
  acceptedMetadata?: number;
  /** Metadata dropped (invalid, over the limits, rate limited), as flat [reason, count, ...]. */
  discardedMetadata?: Array<string | number>;
  /** The first metadata limit refusal: logged as a warning, the push succeeds (as Mimir). */
  metadataWarning?: string;
  /** The HA cluster of the request, when it carried the HA labels. */
  haCluster?: string;
  /** ingesterError marks the error as the head's (out of order, too old, series limits), not validation's. */
  ingesterError?: boolean;
  /** Samples dropped because their replica is not the elected one (status 202). */
  dedupedSamples?: number;
  /** Samples of an HA-enabled tenant whose request lacked the HA labels. */
  nonHaSamples?: number;
}

/** ElectedReplica is one tenant's cluster in the HA tracker. */
export interface ElectedReplica {
  tenant: string;
  cluster: string;
  replica: string;
  /** When the replica was elected (unix ms). */
  electedAtMs: number;
  /** When it was last recorded as seen (unix ms). */
  receivedAtMs: number;
  electedChanges: number;
}

/** CardinalityAnswer is a JSON answer, or Mimir's error when distinct label names and values are too large. */
export interface CardinalityAnswer {
  json?: string;
  sizeError?: string;
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
  /** The series' native-histogram samples; absent when no selected series has any. */
  histograms?: SelectedHistograms;
}

/**
 * SelectedHistograms are native-histogram samples in the hand-off format: series i owns histogram
 * samples [offsets[i], offsets[i+1]); sample j is data[dataOffsets[j] .. dataOffsets[j+1]), laid out
 * `[schema, zeroThreshold, zeroCount, count, sum, counterResetHint, isInt, nPosSpans, nNegSpans,
 * nPosBuckets, nNegBuckets, nCustomValues, spans (offset, length)..., absolute buckets..., custom
 * values...]` (decoded by src/promql/engine/histogram-flat.ts).
 */
export interface SelectedHistograms {
  offsets: Uint32Array;
  timestamps: Float64Array;
  dataOffsets: Uint32Array;
  data: Float64Array;
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
  /** -blocks-storage.tsdb.wal-compression-enabled: snappy-compress WAL records (default true). */
  walCompression?: boolean;
  /** -blocks-storage.tsdb.wal-compression-type: 'snappy' (default) or 'zstd'. */
  walCompressionType?: string;
}

/** WalTenant is a tenant whose WAL has segments to replay. */
export interface WalTenant {
  tenant: string;
  /** Segment indexes after the checkpoint, ascending. */
  segments: number[];
  /** The newest checkpoint (last segment it covers), replayed first with replayWalCheckpoint. */
  checkpoint?: number | null;
}

/** HeadInfo is one tenant head's state for the block lifecycle. */
export interface HeadInfo {
  series: number;
  /** Oldest and newest sample (ms), absent while empty. */
  minTime?: number | null;
  maxTime?: number | null;
  /** Appends before this (ms) are refused; absent before any truncation. */
  minValidTime?: number | null;
  /** Wall-clock time (unix ms) of the last append, absent before any. */
  lastAppendMs?: number | null;
}

/** HeadTruncation are what truncateHead dropped. */
export interface HeadTruncation {
  chunksRemoved: number;
  samplesRemoved: number;
  seriesRemoved: number;
}

/** WalCheckpoint describes a checkpoint written by checkpointWal. */
export interface WalCheckpoint {
  index: number;
  series: number;
  samples: number;
  bytes: number;
  segmentsDeleted: number;
}

/** CutHeadBlock is one block range compactHead took out of the head. */
export interface CutHeadBlock {
  /** The range [rangeMinTime, rangeMaxTime) cut (ms). */
  rangeMinTime: number;
  rangeMaxTime: number;
  /** The block written, null when the range held no samples. */
  block?: WrittenBlock | null;
  truncated: HeadTruncation;
  /** Milliseconds spent writing and publishing the block. */
  durationMs: number;
}

/** HeadCompaction is what compactHead did. */
export interface HeadCompaction {
  cuts: CutHeadBlock[];
  /** The WAL checkpoint written after the cuts; null without a WAL or cuts, or when nothing was logged since the last one. */
  checkpoint?: WalCheckpoint | null;
}

/** BlockOpenFailure is a block directory setTenantBlocks could not open. */
export interface BlockOpenFailure {
  dir: string;
  error: string;
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

/** OtlpOptions say how to read an OTLP body and translate it (ingestOtlp). */
export interface OtlpOptions {
  /** json is true for application/json, false for application/x-protobuf. */
  json: boolean;
  /** gzip is true for Content-Encoding: gzip. */
  gzip: boolean;
  /** maxSize is -distributor.max-otlp-request-size, the limit of the decompressed body. */
  maxSize: number;
  /** addSuffixes is -distributor.otel-metric-suffixes-enabled. */
  addSuffixes: boolean;
  /** promoteResourceAttributes is -distributor.otel-promote-resource-attributes. */
  promoteResourceAttributes: string[];
  /** keepIdentifyingResourceAttributes is -distributor.otel-keep-identifying-resource-attributes. */
  keepIdentifyingResourceAttributes: boolean;
  /** promoteScopeMetadata is -distributor.otel-promote-scope-metadata. */
  promoteScopeMetadata: boolean;
  /** convertHistogramsToNhcb is -distributor.otel-convert-histograms-to-nhcb: explicit-bucket histograms become native histograms with custom buckets. */
  convertHistogramsToNhcb?: boolean;
  /** nativeDeltaIngestion is -distributor.otel-native-delta-ingestion: delta metrics are stored as sent instead of refused. */
  nativeDeltaIngestion?: boolean;
  /** createdTimestampZeroIngestion is -distributor.otel-created-timestamp-zero-ingestion-enabled: start times become zero samples. */
  createdTimestampZeroIngestion?: boolean;
}

/** OtlpIngestResult is the outcome of one OTLP push and the answer to give. */
export interface OtlpIngestResult {
  /** ingest is what the ingest path did (its errors are in status and message instead). */
  ingest: IngestResult;
  /** status is the HTTP status to answer (413: the caller words the message). */
  status: number;
  /** grpcCode is the google.rpc.Status code of an error answer. */
  grpcCode: number;
  /** message is the error or partial-success message ('' on success). */
  message: string;
  /** partialSuccess marks a 200 that carries partial_success. */
  partialSuccess: boolean;
  /** uncompressedSize is the size of the decompressed body. */
  uncompressedSize: number;
}

/** OtlpWriteRequest is an OTLP body translated for the distributed write path (otlpWriteRequest). */
export interface OtlpWriteRequest {
  /** refusal is the answer when nothing is left to forward (bad body, size limit, every metric dropped). */
  refusal?: OtlpIngestResult | null;
  /** writeRequest is the uncompressed remote-write 1.0 WriteRequest (empty with a refusal). */
  writeRequest: Buffer;
  /** parseError is the translator's `otlp parse error: ...` text when it dropped metrics. */
  parseError?: string | null;
  /** dropped counts the metrics the translator dropped. */
  dropped: number;
  uncompressedSize: number;
}

/** TOO_MANY_SAMPLES_MESSAGE is the exact message selectSamples throws when maxSamples is exceeded. */
export const TOO_MANY_SAMPLES_MESSAGE = 'query processing would load too many samples into memory in query execution';

/** NativeBinding is the shape of native/napi's exports. */
export interface NativeBinding {
  coreVersion(): string;
  /** allocatorStats reads malloc's counters for the whole process (the Rust core's heap is the system allocator). */
  allocatorStats(): { inUseBytes: number; freeBytes: number; mmappedBytes: number; arenaBytes: number };
  /** ingestWriteRequest decodes an uncompressed remote-write 1.0 protobuf body, validates it and appends it to the tenant's head. Throws only on internal failure; bad input is reported in the result. */
  ingestWriteRequest(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
  /** ingestSnappyWriteRequest is ingestWriteRequest for the snappy body as posted, uncompressed in Rust into a per-thread buffer; null when the snappy data is corrupt. */
  ingestSnappyWriteRequest(tenant: string, compressed: Uint8Array, limits: IngestLimits): IngestResult | null;
  /** ingestWriteRequestV2 is ingestWriteRequest for a remote-write 2.0 body (io.prometheus.write.v2.Request). */
  ingestWriteRequestV2?(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
  /** ingestSnappyWriteRequestV2 is ingestSnappyWriteRequest for a remote-write 2.0 body; null when the snappy data is corrupt. */
  ingestSnappyWriteRequestV2?(tenant: string, compressed: Uint8Array, limits: IngestLimits): IngestResult | null;
  /** seriesJson answers /api/v1/series: a JSON array of label objects for series matching any of the sets and overlapping [mint, maxt]. Throws on an invalid regexp. */
  seriesJson(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: LabelMatcher[][]): string;
  /** labelNames answers /api/v1/labels (sorted). An empty matcherSets means all series. */
  labelNames(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: LabelMatcher[][]): string[];
  /** labelValues answers /api/v1/label/{name}/values (sorted). */
  labelValues(tenant: string, name: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: LabelMatcher[][]): string[];
  /** headStats lists every tenant's head figures. */
  headStats(): HeadStats[];
  /** encodeXorChunks encodes samples as Prometheus's head would cut them into XOR chunks (120 samples, 2h range boundaries); returns each chunk's raw bytes (without the encoding byte). */
  encodeXorChunks(timestampsMs: Float64Array, values: Float64Array): Buffer[];
  /** decodeXorChunk decodes one raw XOR chunk into timestamps (ms) and values. */
  decodeXorChunk(chunk: Uint8Array): { timestamps: Float64Array; values: Float64Array };
  /** encodeHistogramChunks cuts each series' native histograms of an uncompressed remote-write 1.0 body into chunks as Prometheus 3.x's head would (encoding 2 integer, 3 float). */
  encodeHistogramChunks?(writeRequest: Uint8Array): Array<{ labels: string[]; chunks: Array<{ minTimeMs: number; maxTimeMs: number; encoding: number; data: Buffer }> }>;
  /**
   * encodeRemoteHistograms encodes histogram samples of a selection (SelectedHistograms' timestamps,
   * data and dataOffsets) as prompb.Histogram messages, message j being data[offsets[j], offsets[j+1]).
   */
  encodeRemoteHistograms?(timestamps: Float64Array, data: Float64Array, dataOffsets: Uint32Array): { data: Buffer; offsets: Uint32Array };
  /** decodeHistogramChunkJson decodes a raw histogram chunk (encoding 2 or 3) into a JSON array of samples, floats as the decimal strings of their bits. */
  decodeHistogramChunkJson?(encoding: number, chunk: Uint8Array): string;
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
  /** replayWalCheckpoint replays the tenant's checkpoint (listed by openStorage) before its segments. */
  replayWalCheckpoint?(tenant: string): Promise<WalReplayResult>;
  /** setTenantBlocks makes dirs the tenant's queryable blocks (read with its head, overlaps deduplicated); returns those that failed to open. */
  setTenantBlocks?(tenant: string, dirs: string[]): BlockOpenFailure[];
  /** tenantBlockDirs lists the tenant's queryable block directories. */
  tenantBlockDirs?(tenant: string): string[];
  /** truncateHead drops the head's samples before mintMs and the series left empty; later appends before mintMs are refused. */
  truncateHead?(tenant: string, mintMs: number): HeadTruncation;
  /** headInfo returns a tenant head's state, null without a head. */
  headInfo?(tenant: string): HeadInfo | null;
  /** checkpointWal writes the head's state as a WAL checkpoint and deletes the segments it replaces. */
  checkpointWal?(tenant: string): Promise<WalCheckpoint | null>;
  /**
   * compactHead cuts the tenant head's due block ranges into blocks `<dir>/<ULID>/` (every range
   * when cutAll, else the oldest while the head spans more than 1.5 block ranges), publishing each
   * to the tenant's queried blocks before truncating the head, then checkpoints the WAL: the
   * crash-safe order as one call, on the libuv thread pool.
   */
  compactHead?(tenant: string, dir: string, blockRangeMs: number, cutAll: boolean): Promise<HeadCompaction>;
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
  selectSamples(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, maxSamples?: number, visibility?: LabelMatcher[][]): SelectedSamples;
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
   * appendHistogramsUnchecked is appendSamplesUnchecked for native histograms: sample i has time
   * timestamps[i] and the histogram data[dataOffsets[i] .. dataOffsets[i+1]) in the hand-off format
   * (see SelectedHistograms; isInt 1 stores an integer histogram). Returns the number appended;
   * throws on a malformed histogram (nothing appended then).
   */
  appendHistogramsUnchecked(tenant: string, labels: string[], timestamps: Float64Array, data: Float64Array, dataOffsets: Uint32Array): number;
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
   * selectChunks returns, whole and as stored, the XOR chunks of the head and the queried blocks overlapping [mintMs, maxtMs]
   * of every series matching all matchers (every series for none), series sorted by labels, the
   * open head chunk with its current bytes (remote read's streamed chunks). Throws on an invalid regexp.
   */
  selectChunks(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, visibility?: LabelMatcher[][]): SelectedChunks;
  /**
   * verifyBlock checks the block in blockDir against its declared time range, off the calling
   * thread: index and series decode, series and chunks are ordered and inside [minTime, maxTime],
   * and with checkChunks every chunk's CRC and samples. Rejects with the first problem.
   */
  verifyBlock?(blockDir: string, minTime: number, maxTime: number, checkChunks: boolean): Promise<BlockVerifyStats>;
  /**
   * ingestOtlp decompresses, decodes and translates an OTLP/HTTP metrics body into Prometheus
   * series and ingests them for the tenant as a remote-write push (validation, limits, WAL, head);
   * bad input is reported in the result, never thrown.
   */
  ingestOtlp?(tenant: string, body: Uint8Array, limits: IngestLimits, opts: OtlpOptions): OtlpIngestResult;
  /** otlpWriteRequest translates an OTLP/HTTP metrics body into a remote-write 1.0 WriteRequest without ingesting it. */
  otlpWriteRequest?(body: Uint8Array, opts: OtlpOptions): OtlpWriteRequest;
  /** otlpValidationMessage rewords an ingester's validation error for this OTLP body as the OTLP endpoint words it. */
  otlpValidationMessage?(body: Uint8Array, opts: OtlpOptions, limits: IngestLimits, message: string): string;
  /**
   * allowIngestion takes items from the tenant's ingestion rate limiter (rate items/s, burst);
   * returns Mimir's 429 text (naming limitRate, the configured limit) when refused, null when allowed.
   */
  allowIngestion?(tenant: string, items: number, rate: number, burst: number, limitRate: number): string | null;
  /**
   * metadataJson answers /api/v1/metadata: the `data` object for the tenants (merged), at most limit
   * families (negative: all), limitPerMetric entries each (<= 0: all), only metric when not empty.
   */
  metadataJson?(tenants: string[], limit: number, limitPerMetric: number, metric: string, retainPeriodMs: number, nowMs: number): string;
  /** exemplarsJson answers /api/v1/query_exemplars for one tenant: the `data` array. Throws on an invalid regexp. */
  exemplarsJson?(tenant: string, matcherSets: LabelMatcher[][], startMs: number, endMs: number, visibility?: LabelMatcher[][]): string;
  /** setExemplarLimit sizes the tenant's exemplar storage (0 drops it), before the WAL replay. */
  setExemplarLimit?(tenant: string, maxExemplars: number): void;
  /** haTrackerStatus lists every elected HA replica, sorted by tenant then cluster. */
  haTrackerStatus?(): ElectedReplica[];
  /**
   * labelNamesCardinality answers /api/v1/cardinality/label_names (Mimir's JSON) for the series
   * matching all matchers; activeSinceMs (when not null) counts only series with a sample since.
   * Throws on an invalid regexp.
   */
  labelNamesCardinality?(tenant: string, matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, maxSizeBytes: number, visibility?: LabelMatcher[][]): CardinalityAnswer;
  /** labelValuesCardinality answers /api/v1/cardinality/label_values (Mimir's JSON). Throws on an invalid regexp. */
  labelValuesCardinality?(tenant: string, labelNames: string[], matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, visibility?: LabelMatcher[][]): string;
  /** activeSeries answers /api/v1/cardinality/active_series: `{"data":[...]}`. Throws on an invalid regexp. */
  activeSeries?(tenant: string, matchers: LabelMatcher[], sinceMs: number, visibility?: LabelMatcher[][]): string;
  /**
   * selectRange is selectSamples then rangeKernel in one pass over the head and blocks (no flat
   * copy of the samples), without the series that have no value at any step; samples is what
   * selectSamples would have loaded. Throws on an invalid regexp, an unknown function, a wrong
   * parameter count or an unreadable block, and with TOO_MANY_SAMPLES_MESSAGE as soon as more
   * than maxSamples (if given and > 0) samples are loaded. Native-histogram samples are not in
   * the answer: hasHistograms says a selected series has some in range (select it with
   * selectSamples instead).
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
    visibility?: LabelMatcher[][],
    maxSamples?: number,
  ): { labelsJson: string; values: Float64Array; present: Uint8Array; samples: number; hasHistograms?: boolean };
  /**
   * selectRangeAggregate is selectRange followed by the aggregation op (sum, avg, count, min, max,
   * group, stddev, stdvar) of its series grouped by grouping (in the order given; with without: by
   * every label but those and __name__), computed as the engine computes it: only the groups cross
   * the boundary, in order of first appearance among the series sorted by labels. metricNames
   * (when asked) are the distinct metric names of the series with a value. Throws as selectRange.
   */
  selectRangeAggregate?(
    tenant: string,
    matchers: LabelMatcher[],
    mintMs: number,
    maxtMs: number,
    fn: string,
    evalTimes: Float64Array,
    rangeMs: number,
    op: string,
    without: boolean,
    grouping: string[],
    metricNames: boolean,
    visibility?: LabelMatcher[][],
    maxSamples?: number,
  ): NativeAggregate;
  /**
   * selectInstantAggregate is selectSamples then instantKernel (lookbackMs) followed by the
   * aggregation as selectRangeAggregate; samples counts the series' cells with a value.
   */
  selectInstantAggregate?(
    tenant: string,
    matchers: LabelMatcher[],
    mintMs: number,
    maxtMs: number,
    evalTimes: Float64Array,
    lookbackMs: number,
    op: string,
    without: boolean,
    grouping: string[],
    visibility?: LabelMatcher[][],
    maxSamples?: number,
  ): NativeAggregate;
  /**
   * beginSelectionScope makes this thread's fused selections remember their decoded samples and
   * evaluated rows until endSelectionScope: later queries of the scope that select the same series
   * at the same evaluation time decode them once, and evaluate a function and window once (the
   * ruler's batch of one group's rules).
   */
  beginSelectionScope?(): void;
  endSelectionScope?(): void;
  /**
   * encodeMatrixJson returns prefix + `{"resultType":"matrix","result":[...]}` + suffix as bytes:
   * metrics are the series' label objects as JSON joined by newlines, series i owns points
   * offsets[i]..offsets[i+1] of timestamps (ms) and values (encoded as Prometheus's API does).
   */
  encodeMatrixJson(prefix: string, metrics: string, offsets: Uint32Array, timestamps: Float64Array, values: Float64Array, suffix: string): Buffer;
}

/** NativeAggregate is the answer of the fused aggregations: group i has cells i * nSteps + step. */
export interface NativeAggregate {
  labelsJson: string;
  values: Float64Array;
  present: Uint8Array;
  samples: number;
  metricNames: string[];
  /** Whether a selected series has native-histogram samples in range (not in this float-only answer). */
  hasHistograms?: boolean;
}

let binding: NativeBinding | undefined;

/** inSelectionScope runs fn inside a selection scope of this thread (see beginSelectionScope). */
export function inSelectionScope<T>(fn: () => T): T {
  const b = loadNative();
  if (typeof b.beginSelectionScope !== 'function' || typeof b.endSelectionScope !== 'function') return fn();
  b.beginSelectionScope();
  try {
    return fn();
  } finally {
    b.endSelectionScope();
  }
}

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
  /** ingestV2, when present, takes an uncompressed remote-write 2.0 body. */
  ingestV2?(tenant: string, body: Uint8Array, limits: IngestLimits): IngestResult;
  /** ingestSnappyV2, when present, takes the snappy remote-write 2.0 body as posted; undefined means corrupt snappy. */
  ingestSnappyV2?(tenant: string, compressed: Uint8Array, limits: IngestLimits): IngestResult | undefined;
  /** ingestOtlp, when present, ingests an OTLP/HTTP metrics body (see NativeBinding.ingestOtlp). */
  ingestOtlp?(tenant: string, body: Uint8Array, limits: IngestLimits, opts: OtlpOptions): OtlpIngestResult;
}

/** SeriesQuerier is what the metadata read endpoints need from storage. */
export interface SeriesQuerier {
  // visibility (LBAC) limits each tenant's series; the native core applies it to the selection.
  seriesJson(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: Visibility): string;
  labelNames(tenant: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: Visibility): string[];
  labelValues(tenant: string, name: string, matcherSets: LabelMatcher[][], mint: number, maxt: number, limit: number, visibility?: Visibility): string[];
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
    ...rw2Appender(b),
    seriesJson: (t, sets, mint, maxt, limit, vis) => b.seriesJson(t, sets, mint, maxt, limit, visibleTo(vis, t)),
    labelNames: (t, sets, mint, maxt, limit, vis) => b.labelNames(t, sets, mint, maxt, limit, visibleTo(vis, t)),
    labelValues: (t, name, sets, mint, maxt, limit, vis) => b.labelValues(t, name, sets, mint, maxt, limit, visibleTo(vis, t)),
    headStats: () => b.headStats(),
    ingestOtlp: b.ingestOtlp === undefined ? undefined : (tenant, body, limits, opts) => b.ingestOtlp!(tenant, body, limits, opts),
  };
}

/** rw2Appender adapts the remote-write 2.0 exports, when the loaded binding has them. */
function rw2Appender(b: NativeBinding): Pick<Appender, 'ingestV2' | 'ingestSnappyV2'> {
  const { ingestWriteRequestV2: plain, ingestSnappyWriteRequestV2: compressed } = b;
  if (plain === undefined || compressed === undefined) return {};
  return {
    ingestV2: (tenant, body, limits) => plain(tenant, body, limits),
    ingestSnappyV2: (tenant, body, limits) => compressed(tenant, body, limits) ?? undefined,
  };
}

/** WalStore is what start-up replay and shutdown need from the WAL. */
export interface WalStore {
  openStorage(opts: StorageOptions): WalTenant[];
  replayWalSegment(tenant: string, segment: number): Promise<WalReplayResult>;
  /** replayWalCheckpoint, when present, replays a tenant's checkpoint before its segments. */
  replayWalCheckpoint?(tenant: string): Promise<WalReplayResult>;
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
    ...(b.replayWalCheckpoint !== undefined ? { replayWalCheckpoint: (tenant: string) => b.replayWalCheckpoint!.call(b, tenant) } : {}),
    finishWalReplay: (tenant) => finishWalReplay.call(b, tenant),
    closeStorage: () => closeStorage.call(b),
  };
}

/** BlockLifecycleStore is what the ingester's block cutting and the store-gateway need from storage. */
export interface BlockLifecycleStore {
  headStats(): HeadStats[];
  headInfo(tenant: string): HeadInfo | null;
  compactHead(tenant: string, dir: string, blockRangeMs: number, cutAll: boolean): Promise<HeadCompaction>;
  setTenantBlocks(tenant: string, dirs: string[]): BlockOpenFailure[];
}

/** nativeBlockStore adapts the binding's block lifecycle exports (throws when the binding predates them). */
export function nativeBlockStore(): BlockLifecycleStore {
  const b = loadNative();
  const { headInfo, compactHead, setTenantBlocks } = b;
  if (headInfo === undefined || compactHead === undefined || setTenantBlocks === undefined) {
    throw new Error('native binding has no block lifecycle exports (build it with npm run build:native)');
  }
  return {
    headStats: () => b.headStats(),
    headInfo: (tenant) => headInfo.call(b, tenant),
    compactHead: (tenant, dir, range, cutAll) => compactHead.call(b, tenant, dir, range, cutAll),
    setTenantBlocks: (tenant, dirs) => setTenantBlocks.call(b, tenant, dirs),
  };
}

/** BlockVerifyStats are the totals verifyBlock found. */
export interface BlockVerifyStats {
  series: number;
  chunks: number;
  /** Samples decoded (0 unless chunks were checked). */
  samples: number;
}

/** nativeBlockVerifier adapts the binding's verifyBlock (throws when the binding predates it). */
export function nativeBlockVerifier(): (dir: string, minTime: number, maxTime: number, checkChunks: boolean) => Promise<BlockVerifyStats> {
  const b = loadNative();
  const verify = b.verifyBlock;
  if (verify === undefined) throw new Error('native binding has no verifyBlock (build it with npm run build:native)');
  return (dir, minTime, maxTime, checkChunks) => verify.call(b, dir, minTime, maxTime, checkChunks);
}

/** MetricMetadataReader is what /api/v1/metadata and /api/v1/query_exemplars need from storage. */
export interface MetricMetadataReader {
  metadataJson(tenants: string[], limit: number, limitPerMetric: number, metric: string, retainPeriodMs: number, nowMs: number): string;
  exemplarsJson(tenant: string, matcherSets: LabelMatcher[][], startMs: number, endMs: number, visibility?: LabelMatcher[][]): string;
  /** visibleMetricNames, when present, lists the metric names of a tenant's series matching one of the selectors (LBAC). */
  visibleMetricNames?(tenant: string, visibility: LabelMatcher[][]): string[];
}

/** nativeMetricMetadataReader adapts the binding's metadata and exemplar exports (empty answers when it predates them). */
export function nativeMetricMetadataReader(): MetricMetadataReader {
  return {
    metadataJson: (...a) => loadNative().metadataJson?.(...a) ?? '{}',
    exemplarsJson: (...a) => loadNative().exemplarsJson?.(...a) ?? '[]',
    visibleMetricNames: (tenant, visibility) => loadNative().labelValues(tenant, '__name__', [], -Infinity, Infinity, 0, visibility),
  };
}

/** setExemplarLimit sizes a tenant's exemplar storage in the native core (no-op when the binding predates it). */
export function setExemplarLimit(tenant: string, maxExemplars: number): void {
  loadNative().setExemplarLimit?.(tenant, maxExemplars);
}

/** HaTrackerState is what the HA tracker page needs from storage. */
export interface HaTrackerState {
  haTrackerStatus(): ElectedReplica[];
}

/** CardinalitySource is what the cardinality endpoints need from storage. */
export interface CardinalitySource {
  // visibility (LBAC): the tenant's visible-series selectors, applied by the native core.
  labelNamesCardinality(tenant: string, matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, maxSizeBytes: number, visibility?: LabelMatcher[][]): CardinalityAnswer;
  labelValuesCardinality(tenant: string, labelNames: string[], matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, visibility?: LabelMatcher[][]): string;
  activeSeries(tenant: string, matchers: LabelMatcher[], sinceMs: number, visibility?: LabelMatcher[][]): string;
}

/** VisibleStatsSource counts what a reader limited by label policies (LBAC) may see of a tenant. */
export interface VisibleStatsSource {
  /** visibleSeries is the number of the tenant's in-memory series matching one of the selectors. */
  visibleSeries(tenant: string, selectors: LabelMatcher[][]): number;
  /** visibleSamples is the number of samples with mintMs <= t <= maxtMs of those series (head and blocks). */
  visibleSamples(tenant: string, selectors: LabelMatcher[][], mintMs: number, maxtMs: number): number;
}

/** nativeVisibleStats counts visible series (the cardinality count) and samples (a selection) in the native core. */
export function nativeVisibleStats(): VisibleStatsSource {
  const b = loadNative();
  const card = nativeCardinality();
  return {
    visibleSeries: (tenant, selectors) => (JSON.parse(card.labelValuesCardinality(tenant, [], [], null, 0, selectors)) as { series_count_total: number }).series_count_total,
    visibleSamples: (tenant, selectors, mintMs, maxtMs) => b.selectSamples(tenant, [], mintMs, maxtMs, undefined, selectors).timestamps.length,
  };
}

/** nativeHaTracker adapts the binding's HA tracker export (throws when the binding predates it). */
export function nativeHaTracker(): HaTrackerState {
  const b = loadNative();
  const { haTrackerStatus } = b;
  if (haTrackerStatus === undefined) throw new Error('native binding has no HA tracker exports (build it with npm run build:native)');
  return { haTrackerStatus: () => haTrackerStatus.call(b) };
}

/** nativeCardinality adapts the binding's cardinality exports (throws when the binding predates them). */
export function nativeCardinality(): CardinalitySource {
  const b = loadNative();
  const { labelNamesCardinality, labelValuesCardinality, activeSeries } = b;
  if (labelNamesCardinality === undefined || labelValuesCardinality === undefined || activeSeries === undefined) {
    throw new Error('native binding has no cardinality exports (build it with npm run build:native)');
  }
  return {
    labelNamesCardinality: (...a) => labelNamesCardinality.call(b, ...a),
    labelValuesCardinality: (...a) => labelValuesCardinality.call(b, ...a),
    activeSeries: (...a) => activeSeries.call(b, ...a),
  };
}

/** CompactedBlock describes the block compactBlocks wrote (see native/napi/src/compact.rs). */
export interface CompactedBlock {
  /** The new block's ULID, also its directory name under outDir. */
  ulid: string;
  /** meta.json minTime (inclusive, ms). */
  minTime: number;
  /** meta.json maxTime (exclusive, ms). */
  maxTime: number;
  numSeries: number;
  numSamples: number;
  numChunks: number;
  /** compaction.level: the highest source level + 1. */
  level: number;
  /** compaction.sources: every level-1 block merged into it. */
  sources: string[];
}

/** BlockCompactor merges blocks: what the compactor needs from the native core. */
export interface BlockCompactor {
  /**
   * compactBlocks merges the block directories into one new block `<outDir>/<ULID>/` (written as
   * `<ULID>.tmp` and renamed), off the main thread. Null when tombstones left no sample.
   */
  compactBlocks(sourceDirs: string[], outDir: string, tenant: string): Promise<CompactedBlock | null>;
}

/** nativeBlockCompactor adapts the binding's compaction export (throws when the binding predates it). */
export function nativeBlockCompactor(): BlockCompactor {
  const b = loadNative() as NativeBinding & {
    compactBlocksAsync?: (sourceDirs: string[], outDir: string, tenant: string) => Promise<CompactedBlock | null>;
  };
  const fn = b.compactBlocksAsync;
  if (fn === undefined) throw new Error('native binding has no compaction export (build it with npm run build:native)');
  return { compactBlocks: (sourceDirs, outDir, tenant) => fn.call(b, sourceDirs, outDir, tenant) };
}
