// native.ts is the one place TypeScript touches the Rust binding
// (native/napi). Components never import the binding directly: they depend on
// the narrow interfaces below (Appender, SeriesQuerier), which this module
// implements over the process-global TSDB state that lives in Rust memory and
// is shared by the main thread and every Piscina worker.
//
// The binding's types are the ones napi-rs generates from the Rust sources
// into native/napi/binding.d.cts (npm run build:native); this module
// re-exports them, and the domain types of src/model/ that cross the boundary,
// checked against their generated counterparts.

import { createRequire } from 'node:module';

import type * as generated from '../../native/napi/binding.cjs';
import { visibleTo, type Visibility } from '../auth/visibility.js';
import type { IngestLimits } from '../model/limits.js';
import type { LabelMatcher } from '../model/matchers.js';
import type { RangeReadConfig } from './bucket/bucket.js';
import type { BlockOpenFailure, CardinalityAnswer, CompactedBlock, ElectedReplica, HeadCompaction, HeadInfo, HeadStats, IngestResult, OtlpIngestResult, OtlpOptions, StorageOptions, WalReplayResult, WalTenant } from '../../native/napi/binding.cjs';

export type { HaLimits, IngestLimits } from '../model/limits.js';
export { MatchType, type LabelMatcher } from '../model/matchers.js';

/** The objects the binding takes and returns, as napi-rs generates them from the Rust structs. */
export type {
  AllocatorStats,
  BlockOpenFailure,
  BlockVerifyStats,
  BucketCacheConfig,
  BucketCacheStats,
  BucketReadStats,
  CardinalityAnswer,
  CompactedBlock,
  CutHeadBlock,
  DecodedChunk,
  ElectedReplica,
  EncodedHistograms,
  HeadCompaction,
  HeadInfo,
  HeadStats,
  HeadTruncation,
  HistogramChunkOut,
  HistogramSeriesChunksOut,
  IngestResult,
  KernelResult,
  OtlpIngestResult,
  OtlpOptions,
  OtlpWriteRequest,
  SelectedAggregate,
  SelectedChunks,
  SelectedHistograms,
  SelectedRange,
  SelectedSamples,
  StorageOptions,
  WalCheckpoint,
  WalReplayResult,
  WalTenant,
  WrittenBlock,
} from '../../native/napi/binding.cjs';

const require = createRequire(import.meta.url);

/** Same is true when A and B are the same type, optional fields included. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Check<T extends true> = T;
/**
 * ModelChecks fails tsc when the model's types drift from what the binding declares: IngestLimits
 * must be the generated type field for field, and a LabelMatcher must be a generated one with the
 * same fields (its type narrowed to MatchType); the bucket's RangeReadConfig is the generated BucketReaderConfig
 * without the store-gateway's caches.
 */
export type ModelChecks = [
  Check<Same<IngestLimits, generated.IngestLimits>>,
  Check<LabelMatcher extends generated.LabelMatcher ? true : false>,
  Check<Same<keyof LabelMatcher, keyof generated.LabelMatcher>>,
  Check<RangeReadConfig extends generated.BucketReaderConfig ? (generated.BucketReaderConfig extends RangeReadConfig ? true : false) : false>,
  Check<Same<keyof RangeReadConfig | 'chunksCache' | 'indexCache', keyof generated.BucketReaderConfig>>,
];

/** TOO_MANY_SAMPLES_MESSAGE is the exact message selectSamples throws when maxSamples is exceeded. */
export const TOO_MANY_SAMPLES_MESSAGE = 'query processing would load too many samples into memory in query execution';

/**
 * CheckedExport names the exports callers test for before calling them (a binding built from
 * older sources lacks them): they are optional in NativeBinding, every other export is required.
 */
type CheckedExport =
  | 'ingestWriteRequestV2'
  | 'ingestSnappyWriteRequestV2'
  | 'ingestSnappyWriteRequestAsync'
  | 'validatedItems'
  | 'encodeHistogramChunks'
  | 'encodeRemoteHistograms'
  | 'decodeHistogramChunkJson'
  | 'openStorage'
  | 'replayWalSegment'
  | 'replayWalCheckpoint'
  | 'finishWalReplay'
  | 'closeStorage'
  | 'headInfo'
  | 'compactHead'
  | 'setTenantBlocks'
  | 'verifyBlock'
  | 'compactBlocksAsync'
  | 'ingestOtlp'
  | 'otlpWriteRequest'
  | 'otlpValidationMessage'
  | 'allowIngestion'
  | 'metadataJson'
  | 'exemplarsJson'
  | 'setExemplarLimit'
  | 'haTrackerStatus'
  | 'labelNamesCardinality'
  | 'labelValuesCardinality'
  | 'activeSeries'
  | 'selectRangeAggregate'
  | 'selectInstantAggregate'
  | 'beginSelectionScope'
  | 'endSelectionScope'
  | 'selectBlockSamplesAsync'
  | 'blockSeriesJson'
  | 'blockLabelStrings';

/** NativeBinding is the shape of native/napi's exports, as napi-rs declares them (binding.d.cts). */
export type NativeBinding = Omit<typeof generated, CheckedExport> & Partial<Pick<typeof generated, CheckedExport>>;

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
  /**
   * ingestSnappyAsync, when present, is ingestSnappy (v2: ingestSnappyV2) computed on the native
   * module's threads (off the calling thread); undefined means corrupt snappy.
   */
  ingestSnappyAsync?(tenant: string, compressed: Uint8Array, limits: IngestLimits, v2: boolean): Promise<IngestResult | undefined>;
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
    ingestSnappyAsync:
      b.ingestSnappyWriteRequestAsync === undefined
        ? undefined
        : async (tenant, compressed, limits, v2) => (await b.ingestSnappyWriteRequestAsync!(tenant, compressed, limits, v2)) ?? undefined,
  };
}

/** BlockSeriesQuerier makes a SeriesQuerier over named blocks (ULIDs) that tells `queried` which of them each read read. */
export type BlockSeriesQuerier = (blocks: readonly string[], queried: (ids: string[]) => void) => SeriesQuerier;

/**
 * nativeBlockSeriesQuerier reads series, label names and values from a tenant's named blocks only
 * (not its head): a store-gateway's metadata reads for the blocks a querier gave it. Undefined
 * when the loaded binding lacks the block reads.
 */
export function nativeBlockSeriesQuerier(): BlockSeriesQuerier | undefined {
  const b = loadNative();
  const { blockSeriesJson, blockLabelStrings } = b;
  if (blockSeriesJson === undefined || blockLabelStrings === undefined) return undefined;
  return (blocks, queried) => {
    const strings = (t: string, name: string | undefined, sets: LabelMatcher[][], mint: number, maxt: number, limit: number, vis?: Visibility): string[] => {
      const a = blockLabelStrings(t, [...blocks], name, sets, mint, maxt, limit, visibleTo(vis, t));
      queried(a.queriedBlocks);
      return a.values;
    };
    return {
      seriesJson: (t, sets, mint, maxt, limit, vis) => {
        const a = blockSeriesJson(t, [...blocks], sets, mint, maxt, limit, visibleTo(vis, t));
        queried(a.queriedBlocks);
        return a.json;
      },
      labelNames: (t, sets, mint, maxt, limit, vis) => strings(t, undefined, sets, mint, maxt, limit, vis),
      labelValues: (t, name, sets, mint, maxt, limit, vis) => strings(t, name, sets, mint, maxt, limit, vis),
    };
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

/**
 * nativeBlockVerifier adapts the binding's verifyBlock (throws when the binding predates it). It
 * resolves to the totals found (BlockVerifyStats), which the generated declaration leaves unknown.
 */
export function nativeBlockVerifier(): NonNullable<NativeBinding['verifyBlock']> {
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
  // Each walks the tenant's series on the libuv thread pool; a bad matcher throws at once.
  labelNamesCardinality(tenant: string, matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, maxSizeBytes: number, visibility?: LabelMatcher[][]): Promise<CardinalityAnswer>;
  labelValuesCardinality(tenant: string, labelNames: string[], matchers: LabelMatcher[], activeSinceMs: number | null, limit: number, visibility?: LabelMatcher[][]): Promise<string>;
  activeSeries(tenant: string, matchers: LabelMatcher[], sinceMs: number, visibility?: LabelMatcher[][]): Promise<string>;
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
  return {
    visibleSeries: (tenant, selectors) => b.visibleSeriesCount(tenant, selectors),
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
  const b = loadNative();
  const fn = b.compactBlocksAsync;
  if (fn === undefined) throw new Error('native binding has no compaction export (build it with npm run build:native)');
  return { compactBlocks: (sourceDirs, outDir, tenant) => fn.call(b, sourceDirs, outDir, tenant) };
}

/** BucketBlockReader is what the store-gateway needs to serve bucket blocks by ranged reads. */
export interface BucketBlockReader {
  /**
   * setBucketReader names the bucket blocks with a bucket-block.json are read from (null: none),
   * with the chunks and index caches under those reads; throws on a bad cache configuration.
   */
  setBucketReader(cfg: (RangeReadConfig & { chunksCache?: generated.BucketCacheConfig; indexCache?: generated.BucketCacheConfig }) | null): void;
  /** prepareBucketBlock writes the index-header of the bucket block synced to `dir`; resolves to its size. */
  prepareBucketBlock(dir: string): Promise<number>;
  /** bucketReadStats are the ranged requests sent and bytes fetched so far, process-wide. */
  bucketReadStats(): generated.BucketReadStats;
  /** bucketCacheStats are the counters of the chunks and index caches configured so far, process-wide. */
  bucketCacheStats(): generated.BucketCacheStats[];
}

/** nativeBucketBlockReader is BucketBlockReader over the binding. */
export function nativeBucketBlockReader(): BucketBlockReader {
  const b = loadNative();
  return {
    setBucketReader: (cfg) => b.setBucketReader(cfg),
    prepareBucketBlock: (dir) => b.prepareBucketBlock(dir),
    bucketReadStats: () => b.bucketReadStats(),
    bucketCacheStats: () => b.bucketCacheStats(),
  };
}
