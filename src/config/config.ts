// config.ts turns the flag values into the typed Config the components read.
// Durations are milliseconds. It also renders configuration as YAML for
// /config: the effective values, only the values that differ from the
// defaults (mode=diff), or the defaults (mode=defaults), secrets masked.

import type { IngestLimits } from '../model/limits.js';
import type { LogLevel } from '../log.js';
import { stringify } from 'yaml';
import { formatDuration } from './duration.js';
import { FLAGS, type FlagDef, type FlagValue } from './flags.js';
import { parseArgs, defaultValues, labelMapOf, type ConfigValues } from './parse.js';

/**
 * Limits are the per-tenant limits (YAML `limits:`): the write path's (IngestLimits, declared once in
 * src/model/limits.ts, without the clock and the HA object the push fills in) and the others.
 */
export interface Limits extends Omit<IngestLimits, 'nowMs' | 'ingestionRate' | 'ha'> {
  /** ingestionRate is -distributor.ingestion-rate-limit (optional in IngestLimits only after a distributor applied it). */
  ingestionRate: number;
  maxFetchedSeriesPerQuery: number;
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
  /** bucketIndexMaxStaleMs: an older bucket index is not trusted (the bucket is listed instead). */
  bucketIndexMaxStaleMs: number;
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
  /** useStartTimestamps is -querier.use-start-timestamps: rate, increase, irate, resets and start_timestamp() read samples' start timestamps. */
  useStartTimestamps: boolean;
  /** tenantFederationEnabled is -tenant-federation.enabled: reads may name several tenants. */
  tenantFederationEnabled: boolean;
  /** tenantFederationMaxTenants is -tenant-federation.max-tenants (0 = no limit). */
  tenantFederationMaxTenants: number;
  limits: Limits;
}

function get<T>(values: ConfigValues, name: string): T {
  if (!values.has(name)) throw new Error(`config: no flag ${name}`);
  return values.get(name) as T;
}

// The flag accessors below are how components read a flag that Config does not type: the value
// parsed (or the flag's default, which only flags.ts defines); an unknown name throws.

/** flagString is the value of the string flag name. */
export function flagString(values: ConfigValues, name: string): string {
  return String(get<FlagValue>(values, name));
}

/** flagNumber is the value of the number (or duration, in ms) flag name. */
export function flagNumber(values: ConfigValues, name: string): number {
  return Number(get<FlagValue>(values, name));
}

/** flagBool is the value of the boolean flag name. */
export function flagBool(values: ConfigValues, name: string): boolean {
  return get<FlagValue>(values, name) === true;
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
      bucketIndexMaxStaleMs: get(values, 'blocks-storage.bucket-store.bucket-index.max-stale-period'),
      unregisterOnShutdown: get(values, 'ingester.ring.unregister-on-shutdown'),
    },
    maxRecvMsgSize: get(values, 'distributor.max-recv-msg-size'),
    querierMaxSamples: get(values, 'querier.max-samples'),
    querierTimeoutMs: get(values, 'querier.timeout'),
    lookbackDeltaMs: get(values, 'querier.lookback-delta'),
    useStartTimestamps: get(values, 'querier.use-start-timestamps'),
    tenantFederationEnabled: get(values, 'tenant-federation.enabled'),
    tenantFederationMaxTenants: get(values, 'tenant-federation.max-tenants'),
    limits: limitsFrom(values),
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

/** LimitDef ties a Limits field to its flag; native marks the fields passed to the native appender. */
export interface LimitDef {
  /** The flag (Mimir's name); its YAML key `limits.<field>`, where it has one, is also the runtime override's. */
  flag: string;
  /** Passed to the native appender as the IngestLimits field of the same name (by ingestLimits). */
  native: boolean;
}

/**
 * LIMITS is the one definition of the per-tenant limits: each Limits field, the flag that sets
 * it (so its default, YAML key and runtime override) and whether the native appender takes it.
 * buildConfig and ingestLimits are driven by it; a Limits field without an entry fails tsc.
 */
export const LIMITS = {
  maxLabelNamesPerSeries: { flag: 'validation.max-label-names-per-series', native: true },
  maxLabelNamesPerInfoSeries: { flag: 'validation.max-label-names-per-info-series', native: true },
  maxLabelNameLength: { flag: 'validation.max-length-label-name', native: true },
  maxLabelValueLength: { flag: 'validation.max-length-label-value', native: true },
  creationGracePeriodMs: { flag: 'validation.create-grace-period', native: true },
  pastGracePeriodMs: { flag: 'validation.past-grace-period', native: true },
  ingestionRate: { flag: 'distributor.ingestion-rate-limit', native: true },
  ingestionBurstSize: { flag: 'distributor.ingestion-burst-size', native: true },
  maxGlobalSeriesPerUser: { flag: 'ingester.max-global-series-per-user', native: true },
  maxGlobalSeriesPerMetric: { flag: 'ingester.max-global-series-per-metric', native: true },
  maxFetchedSeriesPerQuery: { flag: 'querier.max-fetched-series-per-query', native: false },
  maxGlobalExemplarsPerUser: { flag: 'ingester.max-global-exemplars-per-user', native: true },
  maxGlobalMetadataPerUser: { flag: 'ingester.max-global-metadata-per-user', native: true },
  maxGlobalMetadataPerMetric: { flag: 'ingester.max-global-metadata-per-metric', native: true },
  maxMetadataLength: { flag: 'validation.max-metadata-length', native: true },
  enforceMetadataMetricName: { flag: 'validation.enforce-metadata-metric-name', native: true },
  maxNativeHistogramBuckets: { flag: 'validation.max-native-histogram-buckets', native: true },
  reduceNativeHistogramOverMaxBuckets: { flag: 'validation.reduce-native-histogram-over-max-buckets', native: true },
  // An ingester setting in Mimir (no per-tenant override), kept here so that the native struct has one source.
  metadataRetainPeriodMs: { flag: 'ingester.metadata-retain-period', native: true },
  // The HA fields reach the appender through the HA tracker (HaTracker.pushLimits), only for tenants that accept HA samples.
  acceptHaSamples: { flag: 'distributor.ha-tracker.enable-for-all-users', native: false },
  haClusterLabel: { flag: 'distributor.ha-tracker.cluster', native: false },
  haReplicaLabel: { flag: 'distributor.ha-tracker.replica', native: false },
  haMaxClusters: { flag: 'distributor.ha-tracker.max-clusters', native: false },
  cardinalityAnalysisEnabled: { flag: 'querier.cardinality-analysis-enabled', native: false },
  labelNamesAndValuesResultsMaxSizeBytes: { flag: 'querier.label-names-and-values-results-max-size-bytes', native: false },
  labelValuesMaxCardinalityLabelNamesPerRequest: { flag: 'querier.label-values-max-cardinality-label-names-per-request', native: false },
} as const satisfies { [K in keyof Limits]: LimitDef };

/** NativeLimitField is a Limits field LIMITS passes to the native appender. */
type NativeLimitField = { [K in keyof typeof LIMITS]: (typeof LIMITS)[K]['native'] extends true ? K : never }[keyof typeof LIMITS];
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Check<T extends true> = T;
/**
 * LimitsTableChecks fails tsc when LIMITS and IngestLimits drift: every native field must be an
 * IngestLimits field of the same type, and every required IngestLimits field (but the clock) native.
 */
export type LimitsTableChecks = [
  Check<NativeLimitField extends keyof IngestLimits ? true : false>,
  Check<Pick<Limits, NativeLimitField> extends Pick<IngestLimits, NativeLimitField> ? true : false>,
  Check<Exclude<RequiredKeys<IngestLimits>, 'nowMs'> extends NativeLimitField ? true : false>,
];

/** limitsFrom builds the Limits from the flags' values (defaults, YAML, or a tenant's overrides on top). */
export function limitsFrom(values: ConfigValues): Limits {
  const out: Record<string, unknown> = {};
  for (const [field, def] of Object.entries(LIMITS)) out[field] = get(values, def.flag);
  return out as unknown as Limits;
}

/** ingestLimits is what the native appender needs from the limits (LIMITS' native fields), at time nowMs. */
export function ingestLimits(limits: Limits, nowMs: number): IngestLimits {
  const out: Record<string, unknown> = {};
  for (const [field, def] of Object.entries(LIMITS)) if (def.native) out[field] = limits[field as keyof Limits];
  out['nowMs'] = nowMs;
  return out as unknown as IngestLimits;
}

/** SECRET_MASK replaces secret values, as Mimir's config handler does. */
export const SECRET_MASK = '********';

/** RenderMode selects what /config shows. */
export type RenderMode = 'values' | 'diff' | 'defaults';

function yamlScalar(def: FlagDef, v: FlagValue): FlagValue | string[] | Record<string, string> {
  if (def.secret === true && v !== '') return SECRET_MASK;
  if (def.labelMap === true) return labelMapOf(v);
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
  for (const def of FLAGS) {
    const v = values.get(def.name) ?? def.default;
    out[def.name] =
      def.labelMap === true
        ? Object.entries(labelMapOf(v))
            .map(([k, x]) => `${k}=${x}`)
            .join(',')
        : String(yamlScalar(def, v));
  }
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
