// config.ts turns the flag values into the typed Config the components read.
// Durations are milliseconds. It also renders configuration as YAML for
// /config: the effective values, only the values that differ from the
// defaults (mode=diff), or the defaults (mode=defaults), secrets masked.

import type { IngestLimits } from '../storage/native.js';
import type { LogLevel } from '../log.js';
import { stringify } from 'yaml';
import { formatDuration } from './duration.js';
import { FLAGS, type FlagDef, type FlagValue } from './flags.js';
import { parseArgs, defaultValues, type ConfigValues } from './parse.js';

/** Limits are the per-tenant limits (YAML `limits:`). */
export interface Limits {
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  creationGracePeriodMs: number;
  pastGracePeriodMs: number;
  ingestionRate: number;
  ingestionBurstSize: number;
  maxGlobalSeriesPerUser: number;
  maxGlobalSeriesPerMetric: number;
  maxFetchedSeriesPerQuery: number;
  maxGlobalExemplarsPerUser: number;
  maxGlobalMetadataPerUser: number;
  maxGlobalMetadataPerMetric: number;
  maxMetadataLength: number;
  enforceMetadataMetricName: boolean;
  maxNativeHistogramBuckets: number;
  reduceNativeHistogramOverMaxBuckets: boolean;
  /** acceptHaSamples is accept_ha_samples (-distributor.ha-tracker.enable-for-all-users). */
  acceptHaSamples: boolean;
  haClusterLabel: string;
  haReplicaLabel: string;
  haMaxClusters: number;
  cardinalityAnalysisEnabled: boolean;
  labelNamesAndValuesResultsMaxSizeBytes: number;
  labelValuesMaxCardinalityLabelNamesPerRequest: number;
}

/** BlocksConfig configures blocks (durations in ms). */
export interface BlocksConfig {
  blockRangeMs: number;
  headCompactionIntervalMs: number;
  headCompactionIdleTimeoutMs: number;
  shipIntervalMs: number;
  retentionPeriodMs: number;
  flushOnShutdown: boolean;
  syncDir: string;
  syncIntervalMs: number;
  unregisterOnShutdown: boolean;
}

/** Config is the effective configuration of one process. */
export interface Config {
  /** values keeps every flag's effective value, for /config. */
  values: ConfigValues;
  target: string;
  multitenancyEnabled: boolean;
  noAuthTenant: string;
  httpListenAddress: string;
  httpListenPort: number;
  gracefulShutdownTimeoutMs: number;
  logLevel: LogLevel;
  prometheusHttpPrefix: string;
  blocksStorageBackend: string;
  tsdbDir: string;
  /** walSegmentSizeBytes is -blocks-storage.tsdb.wal-segment-size-bytes. */
  walSegmentSizeBytes: number;
  /** walSyncMode is -blocks-storage.tsdb.wal-sync-mode: 'none' or 'always'. */
  walSyncMode: string;
  /** walCompression is -blocks-storage.tsdb.wal-compression-enabled. */
  walCompression: boolean;
  /** walCompressionType is -blocks-storage.tsdb.wal-compression-type: 'snappy' or 'zstd'. */
  walCompressionType: string;
  filesystemDir: string;
  /** blocks is the block lifecycle: cutting, shipping, local retention and the store-gateway's sync. */
  blocks: BlocksConfig;
  maxRecvMsgSize: number;
  querierMaxSamples: number;
  querierTimeoutMs: number;
  lookbackDeltaMs: number;
  /** tenantFederationEnabled is -tenant-federation.enabled: reads may name several tenants. */
  tenantFederationEnabled: boolean;
  /** tenantFederationMaxTenants is -tenant-federation.max-tenants (0 = no limit). */
  tenantFederationMaxTenants: number;
  limits: Limits;
  /** metadataRetainPeriodMs is -ingester.metadata-retain-period. */
  metadataRetainPeriodMs: number;
}

function get<T>(values: ConfigValues, name: string): T {
  if (!values.has(name)) throw new Error(`config: no flag ${name}`);
  return values.get(name) as T;
}

/** buildConfig types the values. */
export function buildConfig(values: ConfigValues): Config {
  return {
    values,
    target: get(values, 'target'),
    multitenancyEnabled: get(values, 'auth.multitenancy-enabled'),
    noAuthTenant: get(values, 'auth.no-auth-tenant'),
    httpListenAddress: get(values, 'server.http-listen-address'),
    httpListenPort: get(values, 'server.http-listen-port'),
    gracefulShutdownTimeoutMs: get(values, 'server.graceful-shutdown-timeout'),
    logLevel: get(values, 'log.level'),
    prometheusHttpPrefix: get(values, 'http.prometheus-http-prefix'),
    blocksStorageBackend: get(values, 'blocks-storage.backend'),
    tsdbDir: get(values, 'blocks-storage.tsdb.dir'),
    walSegmentSizeBytes: get(values, 'blocks-storage.tsdb.wal-segment-size-bytes'),
    walSyncMode: get(values, 'blocks-storage.tsdb.wal-sync-mode'),
    walCompression: get(values, 'blocks-storage.tsdb.wal-compression-enabled'),
    walCompressionType: get(values, 'blocks-storage.tsdb.wal-compression-type'),
    filesystemDir: get(values, 'blocks-storage.filesystem.dir'),
    blocks: {
      blockRangeMs: get(values, 'blocks-storage.tsdb.block-ranges-period'),
      headCompactionIntervalMs: get(values, 'blocks-storage.tsdb.head-compaction-interval'),
      headCompactionIdleTimeoutMs: get(values, 'blocks-storage.tsdb.head-compaction-idle-timeout'),
      shipIntervalMs: get(values, 'blocks-storage.tsdb.ship-interval'),
      retentionPeriodMs: get(values, 'blocks-storage.tsdb.retention-period'),
      flushOnShutdown: get(values, 'blocks-storage.tsdb.flush-blocks-on-shutdown'),
      syncDir: get(values, 'blocks-storage.bucket-store.sync-dir'),
      syncIntervalMs: get(values, 'blocks-storage.bucket-store.sync-interval'),
      unregisterOnShutdown: get(values, 'ingester.ring.unregister-on-shutdown'),
    },
    maxRecvMsgSize: get(values, 'distributor.max-recv-msg-size'),
    querierMaxSamples: get(values, 'querier.max-samples'),
    querierTimeoutMs: get(values, 'querier.timeout'),
    lookbackDeltaMs: get(values, 'querier.lookback-delta'),
    tenantFederationEnabled: get(values, 'tenant-federation.enabled'),
    tenantFederationMaxTenants: get(values, 'tenant-federation.max-tenants'),
    limits: {
      maxLabelNamesPerSeries: get(values, 'validation.max-label-names-per-series'),
      maxLabelNameLength: get(values, 'validation.max-length-label-name'),
      maxLabelValueLength: get(values, 'validation.max-length-label-value'),
      creationGracePeriodMs: get(values, 'validation.create-grace-period'),
      pastGracePeriodMs: get(values, 'validation.past-grace-period'),
      ingestionRate: get(values, 'distributor.ingestion-rate-limit'),
      ingestionBurstSize: get(values, 'distributor.ingestion-burst-size'),
      maxGlobalSeriesPerUser: get(values, 'ingester.max-global-series-per-user'),
      maxGlobalSeriesPerMetric: get(values, 'ingester.max-global-series-per-metric'),
      maxFetchedSeriesPerQuery: get(values, 'querier.max-fetched-series-per-query'),
      maxGlobalExemplarsPerUser: get(values, 'ingester.max-global-exemplars-per-user'),
      maxGlobalMetadataPerUser: get(values, 'ingester.max-global-metadata-per-user'),
      maxGlobalMetadataPerMetric: get(values, 'ingester.max-global-metadata-per-metric'),
      maxMetadataLength: get(values, 'validation.max-metadata-length'),
      enforceMetadataMetricName: get(values, 'validation.enforce-metadata-metric-name'),
      maxNativeHistogramBuckets: get(values, 'validation.max-native-histogram-buckets'),
      reduceNativeHistogramOverMaxBuckets: get(values, 'validation.reduce-native-histogram-over-max-buckets'),
      acceptHaSamples: get(values, 'distributor.ha-tracker.enable-for-all-users'),
      haClusterLabel: get(values, 'distributor.ha-tracker.cluster'),
      haReplicaLabel: get(values, 'distributor.ha-tracker.replica'),
      haMaxClusters: get(values, 'distributor.ha-tracker.max-clusters'),
      cardinalityAnalysisEnabled: get(values, 'querier.cardinality-analysis-enabled'),
      labelNamesAndValuesResultsMaxSizeBytes: get(values, 'querier.label-names-and-values-results-max-size-bytes'),
      labelValuesMaxCardinalityLabelNamesPerRequest: get(values, 'querier.label-values-max-cardinality-label-names-per-request'),
    },
    metadataRetainPeriodMs: get(values, 'ingester.metadata-retain-period'),
  };
}

/** loadConfig parses argv into a Config (throws ConfigError / HelpRequested). */
export function loadConfig(argv: readonly string[]): Config {
  return buildConfig(parseArgs(argv));
}

/** defaultConfig is the configuration with no flags at all, with overrides by flag name (tests). */
export function defaultConfig(overrides: Record<string, string | number | boolean> = {}): Config {
  const values = defaultValues();
  for (const [k, v] of Object.entries(overrides)) {
    if (!values.has(k)) throw new Error(`config: no flag ${k}`);
    values.set(k, v);
  }
  return buildConfig(values);
}

/** ingestLimits is what the native appender needs from the limits, at time nowMs. */
export function ingestLimits(limits: Limits, nowMs: number): IngestLimits {
  return {
    maxLabelNamesPerSeries: limits.maxLabelNamesPerSeries,
    maxLabelNameLength: limits.maxLabelNameLength,
    maxLabelValueLength: limits.maxLabelValueLength,
    creationGracePeriodMs: limits.creationGracePeriodMs,
    pastGracePeriodMs: limits.pastGracePeriodMs,
    nowMs,
    ingestionRate: limits.ingestionRate,
    ingestionBurstSize: limits.ingestionBurstSize,
    maxGlobalSeriesPerUser: limits.maxGlobalSeriesPerUser,
    maxGlobalSeriesPerMetric: limits.maxGlobalSeriesPerMetric,
    maxGlobalExemplarsPerUser: limits.maxGlobalExemplarsPerUser,
    maxGlobalMetadataPerUser: limits.maxGlobalMetadataPerUser,
    maxGlobalMetadataPerMetric: limits.maxGlobalMetadataPerMetric,
    maxMetadataLength: limits.maxMetadataLength,
    enforceMetadataMetricName: limits.enforceMetadataMetricName,
    maxNativeHistogramBuckets: limits.maxNativeHistogramBuckets,
    reduceNativeHistogramOverMaxBuckets: limits.reduceNativeHistogramOverMaxBuckets,
  };
}

/** SECRET_MASK replaces secret values, as Mimir's config handler does. */
export const SECRET_MASK = '********';

/** RenderMode selects what /config shows. */
export type RenderMode = 'values' | 'diff' | 'defaults';

function yamlScalar(def: FlagDef, v: FlagValue): FlagValue | string[] {
  if (def.secret === true && v !== '') return SECRET_MASK;
  if (def.list === true) return String(v).split(',').filter((s) => s !== '');
  if (def.type === 'duration') return formatDuration(v as number);
  return v;
}

/**
 * flagStrings maps every flag name to its effective value as text, the way
 * Prometheus's /api/v1/status/flags shows them (durations formatted, secrets
 * masked).
 */
export function flagStrings(values: ConfigValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of FLAGS) out[def.name] = String(yamlScalar(def, values.get(def.name) ?? def.default));
  return out;
}

/** configTree nests the values by YAML path. */
export function configTree(values: ConfigValues, mode: RenderMode): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const def of FLAGS) {
    if (def.yaml === undefined) continue;
    const value = mode === 'defaults' ? def.default : values.get(def.name) ?? def.default;
    if (mode === 'diff' && value === def.default) continue;
    const parts = def.yaml.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = yamlScalar(def, value);
  }
  return root;
}

/** renderConfigYaml renders the config tree as YAML text. */
export function renderConfigYaml(values: ConfigValues, mode: RenderMode): string {
  const tree = configTree(values, mode);
  if (Object.keys(tree).length === 0) return '{}\n';
  return stringify(tree, { lineWidth: 0 });
}
