// flags.ts is the flag table: the single source of truth for every setting's
// Mimir flag name, YAML path, type, default and help. The parser, /config
// (mode=defaults|diff) and /api/v1/status/flags all read it.

import { RING_FLAGS } from '../ring/config.js';
import { DISTRIBUTED_WRITE_FLAGS } from '../distributor/distributed-flags.js';
import { STORE_GATEWAY_CACHE_FLAGS } from '../storegateway/cache-flags.js';

/** FlagType is how a flag's text is parsed and its YAML value checked. */
export type FlagType = 'string' | 'int' | 'float' | 'bool' | 'duration';

/** FlagValue is a parsed value: durations are milliseconds. */
export type FlagValue = string | number | boolean;

/** FlagDef describes one setting. */
export interface FlagDef {
  /** name is the CLI flag without the leading dash. */
  name: string;
  /** yaml is the dotted path in the config file; absent for CLI-only flags. */
  yaml?: string;
  type: FlagType;
  default: FlagValue;
  help: string;
  /** secret values are shown as ******** by /config. */
  secret?: boolean;
  /** choices restricts a string flag to these values. */
  choices?: readonly string[];
  /** csv marks a string flag holding comma-separated values, each of which must be one of choices. */
  csv?: boolean;
  /** list marks a string flag holding a comma-separated list: a YAML sequence in the config file and in /config. */
  list?: boolean;
  /**
   * labelMap marks a string flag holding a label set: a YAML map of strings in the config file and in
   * /config, `name=value,...` on the command line; the value is the set's JSON, names sorted.
   */
  labelMap?: boolean;
  /** aliases are other names the command line accepts for this flag (older or issue-given spellings). */
  aliases?: readonly string[];
  /**
   * aliasAlsoSets maps an alias to another flag: a value given under that alias also sets it,
   * unless it is given itself (on the command line or in the config file).
   */
  aliasAlsoSets?: Readonly<Record<string, string>>;
}

/** TARGETS are the -target values (modules). */
export const TARGETS = [
  'all',
  'distributor',
  'ingester',
  'querier',
  'query-frontend',
  'query-scheduler',
  'store-gateway',
  'compactor',
  'ruler',
  'alertmanager',
  'tokengen',
  'overrides-exporter',
] as const;

/** RULER_FLAGS are the ruler's settings (-ruler.*, -ruler-storage.*), with Mimir's names and defaults. */
const RULER_FLAGS: readonly FlagDef[] = [
  { name: 'ruler.enable-api', yaml: 'ruler.enable_api', type: 'bool', default: true, help: 'Serve the rules configuration API (<prefix>/config/v1/rules and its older paths).' },
  { name: 'ruler.evaluation-interval', yaml: 'ruler.evaluation_interval', type: 'duration', default: 60_000, help: 'How often rule groups without their own interval are evaluated.' },
  { name: 'ruler.poll-interval', yaml: 'ruler.poll_interval', type: 'duration', default: 600_000, help: 'How often the rule groups are re-read from the rule storage (changes through the API apply at once).' },
  { name: 'ruler.resend-delay', yaml: 'ruler.resend_delay', type: 'duration', default: 60_000, help: 'Minimum time between two notifications of the same firing alert to the Alertmanager.' },
  { name: 'ruler.for-outage-tolerance', yaml: 'ruler.for_outage_tolerance', type: 'duration', default: 3_600_000, help: 'Longest outage after which the `for` state of alerts is still restored.' },
  { name: 'ruler.for-grace-period', yaml: 'ruler.for_grace_period', type: 'duration', default: 600_000, help: 'Minimum time an alert with a `for` waits after a restart before firing; rules with a shorter `for` are not restored.' },
  { name: 'ruler.alertmanager-url', yaml: 'ruler.alertmanager_url', type: 'string', default: '', help: 'Comma-separated URLs of the Alertmanagers notified (API v2 under each); empty sends no notification.' },
  { name: 'ruler.external.url', yaml: 'ruler.external_url', type: 'string', default: '', help: 'URL of the ruler as users reach it: the base of generatorURL and $externalURL in templates.' },
  { name: 'ruler.notification-timeout', yaml: 'ruler.notification_timeout', type: 'duration', default: 10_000, help: 'Timeout of one request to an Alertmanager.' },
  { name: 'ruler.notification-queue-capacity', yaml: 'ruler.notification_queue_capacity', type: 'int', default: 10_000, help: 'Most alerts queued per tenant for the Alertmanager; the oldest are dropped beyond it.' },
  { name: 'ruler.tenant-federation.enabled', yaml: 'ruler.tenant_federation.enabled', type: 'bool', default: false, help: 'Accept rule groups with source_tenants (federated rule groups).' },
  { name: 'ruler.max-rules-per-rule-group', yaml: 'limits.ruler_max_rules_per_rule_group', type: 'int', default: 20, help: 'Most rules in one rule group of the tenant; 0 for no limit.' },
  { name: 'ruler.recording-rules-evaluation-enabled', yaml: 'limits.ruler_recording_rules_evaluation_enabled', type: 'bool', default: true, help: "Evaluate the tenant's recording rules; false leaves them stored but not evaluated." },
  { name: 'ruler.alerting-rules-evaluation-enabled', yaml: 'limits.ruler_alerting_rules_evaluation_enabled', type: 'bool', default: true, help: "Evaluate the tenant's alerting rules; false leaves them stored but not evaluated." },
  {
    name: 'ruler.external-labels',
    yaml: 'limits.ruler_external_labels',
    type: 'string',
    labelMap: true,
    default: '',
    help: "Labels added to the tenant's alerts sent to the Alertmanager (where an alert lacks them) and shown to rule templates as $externalLabels (Mimir's ruler_external_labels).",
  },
  { name: 'ruler.max-rule-groups-per-tenant', yaml: 'limits.ruler_max_rule_groups_per_tenant', type: 'int', default: 70, help: 'Most rule groups the tenant may have; 0 for no limit.' },
  { name: 'ruler-storage.backend', yaml: 'ruler_storage.backend', type: 'string', default: 'filesystem', choices: ['filesystem', 's3'], help: 'Where rule groups are stored: filesystem or s3.' },
  { name: 'ruler-storage.filesystem.dir', yaml: 'ruler_storage.filesystem.dir', type: 'string', default: 'ruler', help: 'Directory of the filesystem rule storage.' },
  { name: 'ruler-storage.s3.endpoint', yaml: 'ruler_storage.s3.endpoint', type: 'string', default: '', help: 'Host (and port) of the S3-compatible endpoint of the rule storage.' },
  { name: 'ruler-storage.s3.bucket-name', yaml: 'ruler_storage.s3.bucket_name', type: 'string', default: '', help: 'Name of the S3 bucket holding the rule groups.' },
  { name: 'ruler-storage.s3.region', yaml: 'ruler_storage.s3.region', type: 'string', default: '', help: 'Region of the rule storage bucket; empty means us-east-1.' },
  { name: 'ruler-storage.s3.access-key-id', yaml: 'ruler_storage.s3.access_key_id', type: 'string', default: '', help: 'Access key of the rule storage S3 credentials.' },
  { name: 'ruler-storage.s3.secret-access-key', yaml: 'ruler_storage.s3.secret_access_key', type: 'string', default: '', secret: true, help: 'Secret key of the rule storage S3 credentials (masked in /config).' },
  { name: 'ruler-storage.s3.insecure', yaml: 'ruler_storage.s3.insecure', type: 'bool', default: false, help: 'Talk to the rule storage S3 endpoint over plain http.' },
];

/** CORTEX_FLAGS are Cortex's older surface (legacy prefix, configs API) and the profiling endpoints. */
const CORTEX_FLAGS: readonly FlagDef[] = [
  { name: 'http.legacy-http-prefix', yaml: 'api.legacy_http_prefix', type: 'string', default: '/api/prom', help: 'Path prefix of Cortex\'s older Prometheus API paths (query, push, rules, user_stats) and of the configs API.' },
  { name: 'configs.notifications.disable-email', yaml: 'configs.api.notifications.disable_email', type: 'bool', default: false, help: 'Refuse Alertmanager configurations with email receivers in the configs API.' },
  { name: 'server.register-instrumentation', yaml: 'server.register_instrumentation', type: 'bool', default: true, help: 'Register the instrumentation handlers (/debug/pprof).' },
  {
    name: 'server.http-write-timeout',
    yaml: 'server.http_server_write_timeout',
    type: 'duration',
    default: 120_000,
    help: 'Longest time to write a response: /debug/pprof/profile and /debug/pprof/trace refuse a longer duration (0 = no bound).',
  },
  {
    name: 'overrides-exporter.enabled-metrics',
    yaml: 'overrides_exporter.enabled_metrics',
    type: 'string',
    list: true,
    default:
      'ingestion_rate,ingestion_burst_size,max_global_series_per_user,max_global_series_per_metric,max_global_exemplars_per_user,max_fetched_chunks_per_query,max_fetched_series_per_query,max_fetched_chunk_bytes_per_query,ruler_max_rules_per_rule_group,ruler_max_rule_groups_per_tenant',
    help: 'Comma-separated limits the overrides-exporter shows (cortex_limits_overrides and cortex_limits_defaults).',
  },
  { name: 'configs.notifications.disable-webhook', yaml: 'configs.api.notifications.disable_webhook', type: 'bool', default: false, help: 'Refuse Alertmanager configurations with webhook receivers in the configs API.' },
];

/** FLAGS lists every flag the server understands. */
export const FLAGS: readonly FlagDef[] = [
  { name: 'config.file', type: 'string', default: '', help: 'YAML file with the configuration; flags given on the command line win over it.' },
  { name: 'target', yaml: 'target', type: 'string', default: 'all', choices: TARGETS, csv: true, help: 'Which components this process runs, comma-separated (all = monolithic, without the alertmanager: add it as -target=all,alertmanager).' },
  {
    name: 'auth.multitenancy-enabled',
    yaml: 'multitenancy_enabled',
    type: 'bool',
    default: true,
    help: 'Require the X-Scope-OrgID header on data requests; when false every request belongs to the -auth.no-auth-tenant tenant.',
  },
  { name: 'auth.no-auth-tenant', yaml: 'no_auth_tenant', type: 'string', default: 'anonymous', help: 'The tenant every request belongs to while multi-tenancy is off.' },
  { name: 'server.http-listen-address', yaml: 'server.http_listen_address', type: 'string', default: '', help: 'Address the HTTP server binds to (empty: all interfaces).' },
  { name: 'server.http-listen-port', yaml: 'server.http_listen_port', type: 'int', default: 8080, help: 'Port of the HTTP server.' },
  {
    name: 'server.graceful-shutdown-timeout',
    yaml: 'server.graceful_shutdown_timeout',
    type: 'duration',
    default: 30_000,
    help: 'How long a shutdown waits for requests in flight before closing anyway.',
  },
  { name: 'log.level', yaml: 'server.log_level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'Lowest severity written to the log: debug, info, warn or error.' },
  { name: 'http.prometheus-http-prefix', yaml: 'api.prometheus_http_prefix', type: 'string', default: '/prometheus', help: 'Path prefix of the Prometheus-compatible query API.' },
  { name: 'blocks-storage.backend', yaml: 'blocks_storage.backend', type: 'string', default: 'filesystem', choices: ['s3', 'filesystem'], help: 'Where blocks are shipped: filesystem or s3.' },
  { name: 'blocks-storage.filesystem.dir', yaml: 'blocks_storage.filesystem.dir', type: 'string', default: 'blocks', help: 'Bucket directory of the filesystem backend.' },
  { name: 'blocks-storage.s3.endpoint', yaml: 'blocks_storage.s3.endpoint', type: 'string', default: '', help: 'Host (and port) of the S3-compatible endpoint.' },
  { name: 'blocks-storage.s3.bucket-name', yaml: 'blocks_storage.s3.bucket_name', type: 'string', default: '', help: 'Name of the S3 bucket holding the blocks.' },
  { name: 'blocks-storage.s3.access-key-id', yaml: 'blocks_storage.s3.access_key_id', type: 'string', default: '', help: 'Access key of the S3 credentials.' },
  { name: 'blocks-storage.s3.secret-access-key', yaml: 'blocks_storage.s3.secret_access_key', type: 'string', default: '', secret: true, help: 'Secret key of the S3 credentials (masked in /config).' },
  { name: 'blocks-storage.tsdb.dir', yaml: 'blocks_storage.tsdb.dir', type: 'string', default: './tsdb/', help: 'Local directory of the per-tenant TSDBs and their write-ahead logs.' },
  {
    name: 'blocks-storage.tsdb.wal-segment-size-bytes',
    yaml: 'blocks_storage.tsdb.wal_segment_size_bytes',
    type: 'int',
    default: 134217728,
    help: 'Size at which a write-ahead log segment is closed and the next one started (a multiple of 32768 bytes).',
  },
  {
    name: 'blocks-storage.tsdb.wal-compression-enabled',
    yaml: 'blocks_storage.tsdb.wal_compression_enabled',
    type: 'bool',
    default: true,
    help: 'Compress write-ahead log records with snappy, as Prometheus does (replay reads compressed and plain records).',
  },
  {
    name: 'blocks-storage.tsdb.wal-compression-type',
    yaml: 'blocks_storage.tsdb.wal_compression_type',
    type: 'string',
    default: 'snappy',
    choices: ['snappy', 'zstd'],
    help: 'Compression of write-ahead log records when -blocks-storage.tsdb.wal-compression-enabled is true: snappy, or zstd (as Prometheus 3.x with --storage.tsdb.wal-compression-type=zstd; replay reads every kind).',
  },
  {
    name: 'blocks-storage.tsdb.wal-sync-mode',
    yaml: 'blocks_storage.tsdb.wal_sync_mode',
    type: 'string',
    default: 'none',
    choices: ['none', 'always'],
    help: 'When a push is acknowledged: none = once its samples are written to the write-ahead log (kept by the OS if the process dies), always = once the log is fsynced (kept on power loss; concurrent pushes share one fsync).',
  },
  {
    name: 'blocks-storage.tsdb.block-ranges-period',
    yaml: 'blocks_storage.tsdb.block_ranges_period',
    type: 'duration',
    default: 7_200_000,
    help: 'Time range of the blocks cut from the head (Prometheus\'s 2h), also the head\'s chunk range (samples older than half of it before the newest are out of bounds); the head holds up to 1.5 times this before a block is cut.',
  },
  { name: 'blocks-storage.tsdb.head-compaction-interval', yaml: 'blocks_storage.tsdb.head_compaction_interval', type: 'duration', default: 60_000, help: 'How often each head is checked for a block to cut.' },
  {
    name: 'blocks-storage.tsdb.head-compaction-idle-timeout',
    yaml: 'blocks_storage.tsdb.head_compaction_idle_timeout',
    type: 'duration',
    default: 3_600_000,
    help: 'A head nobody appended to for this long is cut into blocks whole; 0 disables.',
  },
  { name: 'blocks-storage.tsdb.ship-interval', yaml: 'blocks_storage.tsdb.ship_interval', type: 'duration', default: 60_000, help: 'How often new local blocks are uploaded to the bucket; 0 disables shipping.' },
  {
    name: 'blocks-storage.tsdb.retention-period',
    yaml: 'blocks_storage.tsdb.retention_period',
    type: 'duration',
    default: 46_800_000,
    help: 'How long a local block is kept after it was uploaded to the bucket (queries then read the bucket copy).',
  },
  {
    name: 'blocks-storage.tsdb.flush-blocks-on-shutdown',
    yaml: 'blocks_storage.tsdb.flush_blocks_on_shutdown',
    type: 'bool',
    default: false,
    help: 'Cut the whole head into blocks and upload them when the process stops (the WAL keeps the data otherwise).',
  },
  { name: 'blocks-storage.bucket-store.sync-dir', yaml: 'blocks_storage.bucket_store.sync_dir', type: 'string', default: './tsdb-sync/', help: 'Local directory where the store-gateway keeps the bucket blocks it serves.' },
  { name: 'store-gateway.tenant-shard-size', yaml: 'limits.store_gateway_tenant_shard_size', type: 'int', default: 0, help: "The tenant's shard size when shuffle sharding is used by store-gateways: its blocks are owned and read only within this many store-gateways (per zone: divided by the zones, rounded up). 0 disables shuffle sharding." },
  { name: 'blocks-storage.bucket-store.sync-interval', yaml: 'blocks_storage.bucket_store.sync_interval', type: 'duration', default: 900_000, help: 'How often the store-gateway looks for new and deleted blocks in the bucket.' },
  { name: 'blocks-storage.bucket-store.bucket-index.max-stale-period', yaml: 'blocks_storage.bucket_store.bucket_index.max_stale_period', type: 'duration', default: 3_600_000, help: 'The store-gateway finds a tenant\'s blocks in its bucket index (written by the compactor) while the index is younger than this; an older or missing index makes it list the bucket.' },
  {
    name: 'ingester.ring.unregister-on-shutdown',
    yaml: 'ingester.ring.unregister_on_shutdown',
    type: 'bool',
    default: true,
    help: 'Leave the ring on shutdown (reported by /ingester/unregister-on-shutdown; a single process has no ring peers).',
  },
  {
    name: 'distributor.max-recv-msg-size',
    yaml: 'distributor.max_recv_msg_size',
    type: 'int',
    default: 104857600,
    help: 'Largest push body in bytes, compressed or not; larger requests get 413.',
  },
  { name: 'querier.max-samples', yaml: 'querier.max_samples', type: 'int', default: 50_000_000, help: 'Most samples one query may hold in memory before it fails.' },
  { name: 'querier.timeout', yaml: 'querier.timeout', type: 'duration', default: 120_000, help: 'Longest time a query may run.' },
  { name: 'querier.lookback-delta', yaml: 'querier.lookback_delta', type: 'duration', default: 300_000, help: 'How far back an instant selector looks for the latest sample of a series.' },
  { name: 'querier.use-start-timestamps', yaml: 'querier.use_start_timestamps', type: 'bool', default: false, help: "Experimental: rate(), increase(), irate(), resets() and start_timestamp() use the samples' start timestamps, as Prometheus's use-start-timestamps feature (a start after the previous sample is a counter reset; a start inside the window replaces extrapolation to its left)." },
  { name: 'querier.max-concurrent', yaml: 'querier.max_concurrent', type: 'int', default: 20, help: 'Most PromQL queries evaluated at once; more wait in the per-tenant queues, served in turn. With query-schedulers (-querier.scheduler-address or ring discovery), also the number of worker loops pulling queries from them.' },
  {
    name: 'querier.max-outstanding-requests-per-tenant',
    aliases: ['query-frontend.max-outstanding-requests-per-tenant'],
    aliasAlsoSets: { 'query-frontend.max-outstanding-requests-per-tenant': 'query-scheduler.max-outstanding-requests-per-tenant' },
    yaml: 'frontend.max_outstanding_per_tenant',
    type: 'int',
    default: 100,
    help: 'Maximum number of outstanding requests per tenant per frontend (the in-process queue of a querier, and the queue of a query-frontend its queriers pull from with -querier.frontend-address); requests beyond this error with HTTP 429. Also accepted as -query-frontend.max-outstanding-requests-per-tenant, which sets -query-scheduler.max-outstanding-requests-per-tenant too unless that is given itself.',
  },
  { name: 'validation.max-label-names-per-series', yaml: 'limits.max_label_names_per_series', type: 'int', default: 30, help: 'Most labels one series may carry.' },
  { name: 'validation.max-label-names-per-info-series', yaml: 'limits.max_label_names_per_info_series', type: 'int', default: 80, help: 'Most labels one info series (metric name ending in _info) may carry; below -validation.max-label-names-per-series it changes nothing.' },
  { name: 'validation.max-length-label-name', yaml: 'limits.max_label_name_length', type: 'int', default: 1024, help: 'Longest label name accepted, in bytes.' },
  { name: 'validation.max-length-label-value', yaml: 'limits.max_label_value_length', type: 'int', default: 2048, help: 'Longest label value accepted, in bytes.' },
  {
    name: 'validation.create-grace-period',
    yaml: 'limits.creation_grace_period',
    type: 'duration',
    default: 600_000,
    help: 'How far ahead of the wall clock a sample may be and still be accepted.',
  },
  {
    name: 'validation.past-grace-period',
    yaml: 'limits.past_grace_period',
    type: 'duration',
    default: 0,
    help: 'How far behind the wall clock a sample may be and still be accepted; 0 accepts any age.',
  },
  {
    name: 'distributor.ingestion-rate-limit',
    yaml: 'limits.ingestion_rate',
    type: 'float',
    default: 10000,
    help: 'Samples, exemplars and metadata per second each tenant may push (a token bucket refilled at this rate); pushes above it get 429.',
  },
  {
    name: 'distributor.ingestion-burst-size',
    yaml: 'limits.ingestion_burst_size',
    type: 'int',
    default: 200000,
    help: 'Size of each tenant\'s token bucket: the most items (samples, exemplars, metadata) one push, or a burst of pushes, may carry.',
  },
  {
    name: 'ingester.max-global-series-per-user',
    yaml: 'limits.max_global_series_per_user',
    type: 'int',
    default: 150000,
    help: 'Most in-memory series per tenant, 0 for no limit; samples of further new series are refused with 400, existing series keep accepting.',
  },
  {
    name: 'ingester.max-global-series-per-metric',
    yaml: 'limits.max_global_series_per_metric',
    type: 'int',
    default: 0,
    help: 'Most in-memory series per metric name and tenant, 0 for no limit; samples of further new series are refused with 400.',
  },
  {
    name: 'ingester.max-global-exemplars-per-user',
    yaml: 'limits.max_global_exemplars_per_user',
    type: 'int',
    default: 0,
    help: 'Size of each tenant\'s in-memory exemplar storage (the oldest exemplars make room for new ones); 0 drops every exemplar.',
  },
  {
    name: 'ingester.max-global-metadata-per-user',
    yaml: 'limits.max_global_metadata_per_user',
    type: 'int',
    default: 0,
    help: 'Most metric families with metadata per tenant, 0 for no limit; metadata past it is dropped with a warning, the push still succeeds.',
  },
  {
    name: 'ingester.max-global-metadata-per-metric',
    yaml: 'limits.max_global_metadata_per_metric',
    type: 'int',
    default: 0,
    help: 'Most distinct metadata entries per metric family and tenant, 0 for no limit; further entries are dropped with a warning.',
  },
  {
    name: 'validation.max-metadata-length',
    yaml: 'limits.max_metadata_length',
    type: 'int',
    default: 1024,
    help: 'Longest metric name or unit of a metadata entry, in bytes (longer entries are refused with 400); longer help texts are cut to it.',
  },
  {
    name: 'validation.enforce-metadata-metric-name',
    yaml: 'limits.enforce_metadata_metric_name',
    type: 'bool',
    default: true,
    help: 'Refuse (400) metadata entries without a metric family name.',
  },
  {
    name: 'validation.max-native-histogram-buckets',
    yaml: 'limits.max_native_histogram_buckets',
    type: 'int',
    default: 0,
    help: 'Maximum number of buckets per native histogram sample, 0 for no limit. Over it, the resolution is reduced (or the sample refused, see -validation.reduce-native-histogram-over-max-buckets).',
  },
  {
    name: 'validation.reduce-native-histogram-over-max-buckets',
    yaml: 'limits.reduce_native_histogram_over_max_buckets',
    type: 'bool',
    default: true,
    help: 'Whether to reduce the resolution of native histogram samples with more buckets than -validation.max-native-histogram-buckets instead of refusing them.',
  },
  {
    name: 'ingester.metadata-retain-period',
    yaml: 'ingester.metadata_retain_period',
    type: 'duration',
    default: 600_000,
    help: 'How long metric metadata is kept after it was last received.',
  },
  { name: 'querier.max-fetched-series-per-query', yaml: 'limits.max_fetched_series_per_query', type: 'int', default: 0, help: 'Most distinct series one query (PromQL or remote read) may fetch, 0 for no limit; over it the query fails.' },
  { name: 'runtime-config.file', yaml: 'runtime_config.file', type: 'string', default: '', help: 'Comma-separated YAML files with per-tenant limits under overrides: (tenant -> limits fields); re-read periodically.' },
  {
    name: 'runtime-config.reload-period',
    yaml: 'runtime_config.period',
    type: 'duration',
    default: 10_000,
    help: 'How often the runtime configuration files are re-read; a file that fails to load keeps the previous configuration.',
  },
  {
    name: 'tenant-federation.enabled',
    yaml: 'tenant_federation.enabled',
    type: 'bool',
    default: false,
    help: 'Let reads name several tenants joined by | in X-Scope-OrgID; results carry a __tenant_id__ label. When off, such a header is refused with 422.',
  },
  {
    name: 'tenant-federation.max-tenants',
    yaml: 'tenant_federation.max_tenants',
    type: 'int',
    default: 0,
    help: 'Most tenants one federated read may name, 0 for no limit.',
  },
  // Object storage: S3 backend (issue 4).
  { name: 'blocks-storage.s3.region', yaml: 'blocks_storage.s3.region', type: 'string', default: '', help: 'Region of the S3 bucket; empty means us-east-1 (what MinIO and most S3-compatible servers expect).' },
  {
    name: 'blocks-storage.s3.insecure',
    yaml: 'blocks_storage.s3.insecure',
    type: 'bool',
    default: false,
    help: 'Talk plain http:// to the S3 endpoint instead of https:// (local MinIO-style servers).',
  },
  {
    name: 'blocks-storage.s3.bucket-lookup-type',
    yaml: 'blocks_storage.s3.bucket_lookup_type',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'virtual-hosted', 'path'],
    help: 'How the bucket is addressed: path (endpoint/bucket/key), virtual-hosted (bucket.endpoint/key) or auto (virtual-hosted for AWS endpoints, path for any other).',
  },
  { name: 'blocks-storage.s3.session-token', yaml: 'blocks_storage.s3.session_token', type: 'string', default: '', secret: true, help: 'Session token of temporary S3 credentials (masked in /config).' },
  {
    name: 'blocks-storage.s3.native-aws-auth-enabled',
    yaml: 'blocks_storage.s3.native_aws_auth_enabled',
    type: 'bool',
    default: false,
    help: 'Without an access key, take credentials from the AWS SDK default chain (environment, shared files, instance roles).',
  },
  {
    name: 'blocks-storage.s3.part-size',
    yaml: 'blocks_storage.s3.part_size',
    type: 'int',
    default: 0,
    help: 'Objects larger than this many bytes are uploaded in parts of this size (at least 5 MiB); 0 picks 16 MiB, larger when a file would need more than 10000 parts.',
  },
  { name: 'blocks-storage.s3.storage-class', yaml: 'blocks_storage.s3.storage_class', type: 'string', default: '', help: 'S3 storage class of uploaded objects (e.g. STANDARD_IA); empty leaves it to the bucket.' },
  {
    name: 'blocks-storage.s3.http.insecure-skip-verify',
    yaml: 'blocks_storage.s3.http.insecure_skip_verify',
    type: 'bool',
    default: false,
    help: 'Accept any TLS certificate from an https:// S3 endpoint (self-signed test servers only).',
  },
  {
    name: 'blocks-storage.s3.max-retries',
    yaml: 'blocks_storage.s3.max_retries',
    type: 'int',
    default: 10,
    help: 'Attempts per S3 request on throttling and server errors before it fails.',
  },
  // Block upload API (compactor, issue 4).
  {
    name: 'compactor.max-block-upload-validation-concurrency',
    yaml: 'compactor.max_block_upload_validation_concurrency',
    type: 'int',
    default: 1,
    help: 'Most uploaded blocks validated at the same time; finishing another upload gets 429. 0 for no limit.',
  },
  { name: 'compactor.block-upload-enabled', yaml: 'limits.compactor_block_upload_enabled', type: 'bool', default: false, help: 'Let the tenant upload blocks through /api/v1/upload/block/.' },
  {
    name: 'compactor.block-upload-validation-enabled',
    yaml: 'limits.compactor_block_upload_validation_enabled',
    type: 'bool',
    default: true,
    help: 'Check an uploaded block (file sizes, index, chunks) before it becomes part of the tenant\'s data.',
  },
  { name: 'compactor.block-upload-verify-chunks', yaml: 'limits.compactor_block_upload_verify_chunks', type: 'bool', default: true, help: 'Validation also reads every chunk of an uploaded block (CRC and samples).' },
  {
    name: 'compactor.block-upload-max-block-size-bytes',
    yaml: 'limits.compactor_block_upload_max_block_size_bytes',
    type: 'int',
    default: 0,
    help: 'Largest block (sum of its files) the tenant may upload, in bytes; 0 for no limit.',
  },
  {
    name: 'distributor.max-otlp-request-size',
    yaml: 'distributor.max_otlp_request_size',
    type: 'int',
    default: 104857600,
    help: 'Largest OTLP metrics body in bytes, before and after decompression; larger requests get 413.',
  },
  {
    name: 'distributor.otel-metric-suffixes-enabled',
    yaml: 'limits.otel_metric_suffixes_enabled',
    type: 'bool',
    default: false,
    help: 'Give OTLP metric names Prometheus suffixes: the unit (e.g. _seconds), _total for counters, _ratio for gauges of unit 1.',
  },
  {
    name: 'distributor.otel-promote-resource-attributes',
    yaml: 'limits.promote_otel_resource_attributes',
    type: 'string',
    default: '',
    help: 'Comma-separated OTel resource attributes copied as labels onto every series of the resource (they stay on target_info too).',
  },
  {
    name: 'distributor.otel-keep-identifying-resource-attributes',
    yaml: 'limits.otel_keep_identifying_resource_attributes',
    type: 'bool',
    default: false,
    help: 'Keep service.name, service.namespace and service.instance.id as labels of target_info, besides the job and instance labels made from them.',
  },
  {
    name: 'distributor.otel-promote-scope-metadata',
    yaml: 'limits.otel_promote_scope_metadata',
    type: 'bool',
    default: false,
    help: 'Label OTLP series with their instrumentation scope: otel_scope_name, otel_scope_version, otel_scope_schema_url and otel_scope_<attribute>.',
  },
  {
    name: 'distributor.otel-convert-histograms-to-nhcb',
    yaml: 'limits.otel_convert_histograms_to_nhcb',
    type: 'bool',
    default: false,
    help: 'Store OTLP explicit-bucket histograms as native histograms with custom buckets (schema -53) instead of _bucket, _sum and _count series.',
  },
  {
    name: 'distributor.otel-native-delta-ingestion',
    yaml: 'limits.otel_native_delta_ingestion',
    type: 'bool',
    default: false,
    help: 'Store OTLP metrics of delta temporality as sent (native histograms with the gauge reset hint) instead of refusing them.',
  },
  {
    name: 'distributor.otel-created-timestamp-zero-ingestion-enabled',
    yaml: 'limits.otel_created_timestamp_zero_ingestion_enabled',
    type: 'bool',
    default: false,
    help: 'Whether to enable translation of OTel start timestamps to Prometheus zero samples in the OTLP endpoint (a float point whose start time is at most 5m before it gets a zero sample at that time; dropped quietly when out of order).',
  },
  {
    name: 'distributor.ha-tracker.enable',
    yaml: 'distributor.ha_tracker.enable_ha_tracker',
    type: 'bool',
    default: false,
    help: 'Run the HA tracker: for tenants that accept HA samples, keep one elected replica per Prometheus HA cluster and drop the pushes of the others (answered 202).',
  },
  {
    name: 'distributor.ha-tracker.update-timeout',
    yaml: 'distributor.ha_tracker.ha_tracker_update_timeout',
    type: 'duration',
    default: 15_000,
    help: 'How old the recorded last-seen time of the elected replica must be before a push from it records a new one.',
  },
  {
    name: 'distributor.ha-tracker.update-timeout-jitter-max',
    yaml: 'distributor.ha_tracker.ha_tracker_update_timeout_jitter_max',
    type: 'duration',
    default: 5_000,
    help: 'Largest random offset added to or taken from the update timeout, chosen once per process so that processes refresh at different times.',
  },
  {
    name: 'distributor.ha-tracker.failover-timeout',
    yaml: 'distributor.ha_tracker.ha_tracker_failover_timeout',
    type: 'duration',
    default: 30_000,
    help: 'How long the elected replica may stay silent before a push from another replica of its cluster takes over; at least the update timeout plus the jitter plus 1s.',
  },
  {
    name: 'distributor.ha-tracker.enable-for-all-users',
    yaml: 'limits.accept_ha_samples',
    type: 'bool',
    default: false,
    help: 'Treat pushes carrying the cluster and replica labels as coming from Prometheus HA pairs (per tenant as accept_ha_samples): deduplicated when the HA tracker runs, the replica label always removed.',
  },
  { name: 'distributor.ha-tracker.cluster', yaml: 'limits.ha_cluster_label', type: 'string', default: 'cluster', help: 'Label naming the Prometheus HA cluster of a push.' },
  { name: 'distributor.ha-tracker.replica', yaml: 'limits.ha_replica_label', type: 'string', default: '__replica__', help: 'Label naming the replica within its HA cluster; removed from stored series.' },
  {
    name: 'distributor.ha-tracker.max-clusters',
    yaml: 'limits.ha_max_clusters',
    type: 'int',
    default: 100,
    help: 'Most HA clusters tracked per tenant, 0 for no limit; pushes from further clusters are refused with 400.',
  },
  { name: 'querier.cardinality-analysis-enabled', yaml: 'limits.cardinality_analysis_enabled', type: 'bool', default: false, help: 'Serve the /api/v1/cardinality endpoints for the tenant.' },
  {
    name: 'querier.label-names-and-values-results-max-size-bytes',
    yaml: 'limits.label_names_and_values_results_max_size_bytes',
    type: 'int',
    default: 419430400,
    help: 'Largest total size in bytes of the distinct label names and values a label names cardinality request may gather.',
  },
  {
    name: 'querier.label-values-max-cardinality-label-names-per-request',
    yaml: 'limits.label_values_max_cardinality_label_names_per_request',
    type: 'int',
    default: 100,
    help: 'Most label names one /api/v1/cardinality/label_values request may ask for.',
  },
  {
    name: 'ingester.active-series-metrics-idle-timeout',
    yaml: 'ingester.active_series_metrics_idle_timeout',
    type: 'duration',
    default: 1_200_000,
    help: 'A series counts as active while its newest sample is at most this old (cardinality count_method=active, active_series).',
  },
  {
    name: 'ingester.rate-update-period',
    yaml: 'ingester.rate_update_period',
    type: 'duration',
    default: 15_000,
    help: 'How often the per-tenant ingestion rates of /api/v1/user_stats are recomputed.',
  },
  {
    name: 'compactor.block-ranges',
    yaml: 'compactor.block_ranges',
    type: 'string',
    default: '2h0m0s,12h0m0s,24h0m0s',
    list: true,
    help: 'Comma-separated time ranges blocks are compacted into, smallest first, each a multiple of the one before.',
  },
  { name: 'compactor.data-dir', yaml: 'compactor.data_dir', type: 'string', default: './data-compactor/', help: 'Local directory of the compactor: cached block metas, the blocks of the job in progress and uploaded blocks being validated.' },
  { name: 'compactor.compaction-interval', yaml: 'compactor.compaction_interval', type: 'duration', default: 3_600_000, help: 'How often the compactor looks for blocks to compact.' },
  {
    name: 'compactor.cleanup-interval',
    yaml: 'compactor.cleanup_interval',
    type: 'duration',
    default: 900_000,
    help: 'How often the compactor applies retention, deletes marked blocks and rewrites each tenant\'s bucket index.',
  },
  {
    name: 'compactor.deletion-delay',
    yaml: 'compactor.deletion_delay',
    type: 'duration',
    default: 43_200_000,
    help: 'How long a block marked for deletion stays in the bucket, so readers that still list it can finish with it.',
  },
  {
    name: 'compactor.tenant-cleanup-delay',
    yaml: 'compactor.tenant_cleanup_delay',
    type: 'duration',
    default: 21_600_000,
    help: 'After a deleted tenant\'s blocks are gone, how long its markers stay before they are removed too.',
  },
  {
    name: 'compactor.first-level-compaction-wait-period',
    yaml: 'compactor.first_level_compaction_wait_period',
    type: 'duration',
    default: 1_500_000,
    help: 'Blocks fresh from the ingesters are compacted only once every block of the job was uploaded at least this long ago.',
  },
  {
    name: 'compactor.blocks-retention-period',
    yaml: 'limits.compactor_blocks_retention_period',
    type: 'duration',
    default: 0,
    help: 'Blocks whose newest sample is older than this are deleted from the bucket, and uploads of such blocks refused with 422; 0 keeps them forever. Per tenant in the runtime configuration.',
  },
  {
    name: 'compactor.partial-block-deletion-delay',
    yaml: 'limits.compactor_partial_block_deletion_delay',
    type: 'duration',
    default: 86_400_000,
    help: 'A block left incomplete (no meta.json) and untouched for this long is deleted; 0 never deletes them.',
  },
  {
    name: 'querier.max-partial-query-length',
    yaml: 'limits.max_partial_query_length',
    type: 'duration',
    default: 0,
    help: 'Longest time range one selection of a query may read (its range and lookback included), 0 for no limit; longer ones fail with 422.',
  },
  {
    name: 'query-frontend.max-total-query-length',
    yaml: 'limits.max_total_query_length',
    type: 'duration',
    default: 0,
    help: 'Longest end - start of a range query, 0 for no limit; longer ones are refused with 400 before they run.',
  },
  {
    name: 'distributor.retry-after-header.enabled',
    yaml: 'distributor.retry_after_header.enabled',
    type: 'bool',
    default: true,
    help: 'Answer pushes refused with 429 or 5xx with a Retry-After header telling the client how long to back off.',
  },
  {
    name: 'distributor.retry-after-header.min-backoff',
    yaml: 'distributor.retry_after_header.min_backoff',
    type: 'duration',
    default: 6_000,
    help: 'Retry-After for a first attempt; it doubles with each Retry-Attempt, with 50% jitter either way (at least 1s).',
  },
  {
    name: 'distributor.retry-after-header.max-backoff',
    yaml: 'distributor.retry_after_header.max_backoff',
    type: 'duration',
    default: 96_000,
    help: 'Largest Retry-After sent, whatever the Retry-Attempt (at least 1s).',
  },
  // Enterprise (GEM): authentication, the admin API's state, the license, tokengen.
  {
    name: 'auth.type',
    yaml: 'auth.type',
    type: 'string',
    default: 'trust',
    choices: ['trust', 'enterprise'],
    help: 'Authentication of data and admin requests: trust (the X-Scope-OrgID header) or enterprise (tokens of the admin API: Basic auth with the instance as user and the token as password, or Bearer).',
  },
  {
    name: 'auth.token-cache-ttl',
    yaml: 'auth.token_cache_ttl',
    type: 'duration',
    default: 10_000,
    help: 'How long a verified token is remembered, and how often the admin state is re-read from storage: a token or access policy deleted elsewhere is refused within it.',
  },
  { name: 'cluster-name', yaml: 'cluster_name', type: 'string', default: 'mimir-native', help: 'Name of this cluster, as the admin API and access policy realms name it.' },
  {
    name: 'admin.client.backend',
    yaml: 'admin_client.storage.backend',
    type: 'string',
    default: 'filesystem',
    choices: ['filesystem', 's3'],
    help: 'Where the admin API keeps instances, access policies and tokens: filesystem or s3 (the -blocks-storage.s3.* settings).',
  },
  { name: 'admin.client.filesystem.dir', yaml: 'admin_client.storage.filesystem.dir', type: 'string', default: 'admin', help: 'Directory of the admin state with the filesystem backend.' },
  { name: 'admin.client.s3.bucket-name', yaml: 'admin_client.storage.s3.bucket_name', type: 'string', default: '', help: 'S3 bucket of the admin state (empty: -blocks-storage.s3.bucket-name).' },
  { name: 'admin.client.storage-prefix', yaml: 'admin_client.storage.storage_prefix', type: 'string', default: 'gem-admin', help: 'Prefix of the admin state objects in their bucket.' },
  { name: 'license.path', yaml: 'license.path', type: 'string', default: '', help: 'GEM license file (a JWT); empty: a built-in license for this cluster that never expires.' },
  { name: 'tokengen.token-file', yaml: 'tokengen.token_file', type: 'string', default: '', help: 'With -target=tokengen, the file the admin token is written to (it must not exist).' },
  ...RULER_FLAGS,
  ...CORTEX_FLAGS,
  ...RING_FLAGS,
  ...DISTRIBUTED_WRITE_FLAGS,
  ...STORE_GATEWAY_CACHE_FLAGS,
  // Alertmanager (src/alertmanager/).
  { name: 'http.alertmanager-http-prefix', yaml: 'api.alertmanager_http_prefix', type: 'string', default: '/alertmanager', help: 'HTTP URL path under which the Alertmanager UI and API v2 are served.' },
  { name: 'alertmanager.storage.path', yaml: 'alertmanager.data_dir', type: 'string', default: './data-alertmanager/', help: 'Directory where each tenant keeps its Alertmanager state (silences and notification log).' },
  { name: 'alertmanager.storage.retention', yaml: 'alertmanager.retention', type: 'duration', default: 120 * 3_600_000, help: 'How long to keep expired silences and notification log entries.' },
  { name: 'alertmanager.web.external-url', yaml: 'alertmanager.external_url', type: 'string', default: '', help: 'URL under which the Alertmanager is reached from outside (templates and links); empty: http://localhost:<port><prefix>.' },
  { name: 'alertmanager.configs.fallback', yaml: 'alertmanager.fallback_config_file', type: 'string', default: '', help: 'Configuration file used for tenants without a configuration of their own.' },
  { name: 'alertmanager.configs.poll-interval', yaml: 'alertmanager.poll_interval', type: 'duration', default: 15_000, help: 'How often the tenants\' configurations are synced from storage.' },
  {
    name: 'alertmanager.peer-timeout',
    yaml: 'alertmanager.peer_timeout',
    type: 'duration',
    default: 15_000,
    help: 'Time to wait between peers to send notifications: a replica waits its position in the tenant\'s replica set times this before it notifies.',
  },
  {
    name: 'alertmanager.alertmanager-client.remote-timeout',
    yaml: 'alertmanager.alertmanager_client.remote_timeout',
    type: 'duration',
    default: 2_000,
    help: 'Timeout for downstream alertmanagers (forwarded requests and state replication between sharded alertmanagers).',
  },
  { name: 'alertmanager.persist-interval', yaml: 'alertmanager.persist_interval', type: 'duration', default: 15 * 60_000, help: 'How often each tenant\'s state is written to object storage.' },
  { name: 'alertmanager.max-config-size-bytes', yaml: 'limits.alertmanager_max_config_size_bytes', type: 'int', default: 0, help: 'Maximum size of a tenant\'s configuration file in bytes (0 = no limit).' },
  { name: 'alertmanager.max-templates-count', yaml: 'limits.alertmanager_max_templates_count', type: 'int', default: 0, help: 'Maximum number of templates in a tenant\'s configuration (0 = no limit).' },
  { name: 'alertmanager.max-template-size-bytes', yaml: 'limits.alertmanager_max_template_size_bytes', type: 'int', default: 0, help: 'Maximum size of one template in a tenant\'s configuration (0 = no limit).' },
  {
    name: 'alertmanager.receivers-firewall-block-cidr-networks',
    yaml: 'limits.alertmanager_receivers_firewall_block_cidr_networks',
    type: 'string',
    default: '',
    list: true,
    help: 'Comma-separated CIDR networks receivers may not send notifications to.',
  },
  {
    name: 'alertmanager.receivers-firewall-block-private-addresses',
    yaml: 'limits.alertmanager_receivers_firewall_block_private_addresses',
    type: 'bool',
    default: false,
    help: 'Refuse to send notifications to private network addresses.',
  },
  { name: 'alertmanager-storage.backend', yaml: 'alertmanager_storage.backend', type: 'string', default: 'filesystem', choices: ['s3', 'filesystem'], help: 'Where tenants\' Alertmanager configurations and state are stored: filesystem or s3.' },
  { name: 'alertmanager-storage.filesystem.dir', yaml: 'alertmanager_storage.filesystem.dir', type: 'string', default: 'alertmanager', help: 'Directory of the filesystem backend.' },
  { name: 'alertmanager-storage.s3.bucket-name', yaml: 'alertmanager_storage.s3.bucket_name', type: 'string', default: '', help: 'S3 bucket of the s3 backend (the other S3 settings are -blocks-storage.s3.*).' },
  { name: 'alertmanager-storage.s3.endpoint', yaml: 'alertmanager_storage.s3.endpoint', type: 'string', default: '', help: 'S3 endpoint of the s3 backend; empty: -blocks-storage.s3.endpoint.' },  // Grafana alerting provisioning (no Mimir equivalent: Grafana reads provisioning/alerting/ the same way).
  {
    name: 'grafana-provisioning.alerting-dir',
    yaml: 'grafana_provisioning.alerting_dir',
    type: 'string',
    default: '',
    help: 'Directory of Grafana alerting provisioning files (<dir>/<tenant>/*.yaml|json|tf), applied to each tenant at start with provenance "file"; empty: none.',
  },
  { name: 'grafana-provisioning.base-interval', yaml: 'grafana_provisioning.base_interval', type: 'duration', default: 10_000, help: 'Base interval of the Grafana rule scheduler: rule group intervals must be multiples of it (Grafana\'s unified_alerting.base_interval).' },
  { name: 'grafana-provisioning.evaluation-enabled', yaml: 'grafana_provisioning.evaluation_enabled', type: 'bool', default: true, help: 'Evaluate provisioned Grafana alert rules and deliver their notifications through the provisioned policy tree.' },
  // Grafana's [smtp] section: how Grafana email contact points send.
  { name: 'grafana-provisioning.smtp.host', yaml: 'grafana_provisioning.smtp.host', type: 'string', default: 'localhost:25', help: 'SMTP server (host:port) of Grafana email contact points; port 465 uses implicit TLS (Grafana\'s smtp.host).' },
  { name: 'grafana-provisioning.smtp.user', yaml: 'grafana_provisioning.smtp.user', type: 'string', default: '', help: 'SMTP user of Grafana email contact points; empty: no authentication.' },
  { name: 'grafana-provisioning.smtp.password', yaml: 'grafana_provisioning.smtp.password', type: 'string', default: '', help: 'SMTP password of Grafana email contact points.' },
  { name: 'grafana-provisioning.smtp.from-address', yaml: 'grafana_provisioning.smtp.from_address', type: 'string', default: 'admin@grafana.localhost', help: 'Sender address of Grafana email notifications.' },
  { name: 'grafana-provisioning.smtp.from-name', yaml: 'grafana_provisioning.smtp.from_name', type: 'string', default: 'Grafana', help: 'Sender name of Grafana email notifications.' },
  { name: 'grafana-provisioning.smtp.ehlo-identity', yaml: 'grafana_provisioning.smtp.ehlo_identity', type: 'string', default: '', help: 'Name sent in EHLO; empty: localhost.' },
  { name: 'grafana-provisioning.smtp.skip-verify', yaml: 'grafana_provisioning.smtp.skip_verify', type: 'bool', default: false, help: 'Do not verify the SMTP server\'s certificate.' },
  {
    name: 'grafana-provisioning.smtp.starttls-policy',
    yaml: 'grafana_provisioning.smtp.starttls_policy',
    type: 'string',
    default: 'OpportunisticStartTLS',
    choices: ['OpportunisticStartTLS', 'MandatoryStartTLS', 'NoStartTLS'],
    help: 'STARTTLS use as Grafana\'s smtp.startTLS_policy: when offered, always (fail without), or never.',
  },
  // Query-frontend (src/frontend/): splitting, step alignment, results cache.
  { name: 'query-frontend.split-queries-by-interval', yaml: 'frontend.split_queries_by_interval', type: 'duration', default: 86_400_000, help: 'Split range queries by this interval (aligned to multiples of it since the epoch) and run the parts in parallel; 0 disables splitting.' },
  { name: 'query-frontend.downstream-url', yaml: 'frontend.downstream_url', type: 'string', default: '', help: 'URL of the queriers (http://host:port) a -target=query-frontend process sends its queries to.' },
  {
    name: 'query-frontend.scheduler-address',
    yaml: 'frontend.scheduler_address',
    type: 'string',
    default: '',
    help: 'Address of the query-scheduler (host:port of its -server.grpc-listen-port) a query-frontend enqueues its queries to. Not with -query-scheduler.service-discovery-mode=ring.',
  },
  { name: 'query-frontend.max-retries-per-request', yaml: 'frontend.max_retries', type: 'int', default: 5, help: 'Maximum number of retries for a single request; beyond this, the downstream error is returned.' },
  {
    name: 'querier.scheduler-address',
    yaml: 'frontend_worker.scheduler_address',
    type: 'string',
    default: '',
    help: 'Address of the query-scheduler (host:port of its -server.grpc-listen-port) a querier pulls queries from; -querier.max-concurrent worker loops. Not with -query-scheduler.service-discovery-mode=ring.',
  },
  { name: 'querier.id', yaml: 'frontend_worker.id', type: 'string', default: '', help: 'Querier ID, sent to the query-scheduler to identify requests from the same querier. Defaults to hostname.' },
  {
    name: 'query-scheduler.max-outstanding-requests-per-tenant',
    yaml: 'query_scheduler.max_outstanding_requests_per_tenant',
    type: 'int',
    default: 100,
    help: 'Maximum number of outstanding requests per tenant per query-scheduler. In-flight requests above this limit fail with HTTP response status code 429. When neither this flag nor its config-file field is given, -query-frontend.max-outstanding-requests-per-tenant (if given) sets it.',
  },
  {
    name: 'query-scheduler.max-used-instances',
    yaml: 'query_scheduler.max_used_instances',
    type: 'int',
    default: 0,
    help: "The maximum number of query-scheduler instances to use, regardless how many replicas are running. This option can be set only when -query-scheduler.service-discovery-mode is set to 'ring'. 0 to use all available query-scheduler instances.",
  },
  {
    name: 'querier.frontend-address',
    yaml: 'frontend_worker.frontend_address',
    type: 'string',
    default: '',
    help: 'Address of the query-frontend component, in host:port format (its -server.grpc-listen-port). If multiple query-frontends are running, a comma-separated list of them. This option should be set only when query-scheduler component is not in use.',
  },
  {
    name: 'query-frontend.max-queriers-per-tenant',
    yaml: 'limits.max_queriers_per_tenant',
    type: 'int',
    default: 0,
    help: 'Maximum number of queriers that can handle requests for a single tenant. If set to 0 or value higher than number of available queriers, *all* queriers will handle requests for the tenant. Each frontend (or query-scheduler, if used) will select the same set of queriers for the same tenant (given that all queriers are connected to all frontends / query-schedulers). This option only works with queriers connecting to the query-frontend / query-scheduler, not when using downstream URL.',
  },
  {
    name: 'query-scheduler.querier-forget-delay',
    yaml: 'query_scheduler.querier_forget_delay',
    type: 'duration',
    default: 0,
    help: "If a querier disconnects without sending notification about graceful shutdown, the query-scheduler will keep the querier in the tenant's shard until the forget delay has passed (at least 3s here: queriers poll). This feature is useful to reduce the blast radius when shuffle-sharding is enabled.",
  },
  {
    name: 'query-frontend.querier-forget-delay',
    yaml: 'frontend.querier_forget_delay',
    type: 'duration',
    default: 0,
    help: "If a querier disconnects without sending notification about graceful shutdown, the query-frontend will keep the querier in the tenant's shard until the forget delay has passed (at least 3s here: queriers poll). This feature is useful to reduce the blast radius when shuffle-sharding is enabled.",
  },
  {
    name: 'query-scheduler.service-discovery-mode',
    yaml: 'query_scheduler.service_discovery_mode',
    type: 'string',
    default: 'dns',
    choices: ['dns', 'ring'],
    help: "Service discovery mode that query-frontends and queriers use to find query-scheduler instances. When query-scheduler ring-based service discovery is enabled, this option needs be set on query-schedulers, query-frontends and queriers. Supported values are: dns, ring.",
  },
  { name: 'query-frontend.align-queries-with-step', yaml: 'limits.align_queries_with_step', type: 'bool', default: false, help: 'Round the start and end of range queries down to a multiple of their step.' },
  { name: 'querier.max-query-parallelism', yaml: 'limits.max_query_parallelism', type: 'int', default: 14, help: 'Most split or sharded sub-queries of one query the query-frontend runs at once.' },
  { name: 'query-frontend.cache-results', yaml: 'frontend.cache_results', type: 'bool', default: false, help: 'Cache the answers of range queries (per split interval) in the results cache.' },
  { name: 'query-frontend.results-cache.backend', yaml: 'frontend.results_cache.backend', type: 'string', default: '', choices: ['', 'memcached', 'inmemory'], help: 'Results cache backend: memcached, inmemory, or empty for none.' },
  { name: 'query-frontend.results-cache.memcached.addresses', yaml: 'frontend.results_cache.memcached.addresses', type: 'string', default: '', list: true, help: 'Comma-separated memcached addresses (host:port) of the results cache.' },
  { name: 'query-frontend.results-cache.memcached.timeout', yaml: 'frontend.results_cache.memcached.timeout', type: 'duration', default: 200, help: 'Timeout of one memcached operation; a slow or failed cache read is a miss.' },
  { name: 'query-frontend.results-cache.memcached.max-idle-connections', yaml: 'frontend.results_cache.memcached.max_idle_connections', type: 'int', default: 100, help: 'Most idle connections kept to each memcached server.' },
  { name: 'query-frontend.results-cache.memcached.max-item-size', yaml: 'frontend.results_cache.memcached.max_item_size', type: 'int', default: 1_048_576, help: 'Largest cached item in bytes; larger answers are not cached (memcached\'s -I).' },
  { name: 'query-frontend.results-cache.inmemory.max-size-bytes', yaml: 'frontend.results_cache.inmemory.max_size_bytes', type: 'int', default: 268_435_456, help: 'Bytes the inmemory results cache holds before it evicts the least recently used entries.' },
  { name: 'query-frontend.max-cache-freshness', yaml: 'limits.max_cache_freshness', type: 'duration', default: 600_000, help: 'Most recent time range of a query that is never cached (newer samples may still arrive).' },
  { name: 'query-frontend.results-cache-ttl', yaml: 'limits.results_cache_ttl', type: 'duration', default: 604_800_000, help: 'Time to live of cached query results.' },
  // Query sharding (src/frontend/query-sharding.ts).
  { name: 'query-frontend.parallelize-shardable-queries', yaml: 'frontend.parallelize_shardable_queries', type: 'bool', default: false, help: 'Shard the shardable legs of queries (sum, count, min, max, avg, group, ...) by series hash and run the shards in parallel.' },
  { name: 'query-frontend.query-sharding-total-shards', yaml: 'limits.query_sharding_total_shards', type: 'int', default: 16, help: 'Shards a sharded query of the tenant is split into; 0 or 1 turns query sharding off for the tenant.' },
  { name: 'query-frontend.query-sharding-max-sharded-queries', yaml: 'limits.query_sharding_max_sharded_queries', type: 'int', default: 128, help: 'Most shard queries one query may run, over all its split intervals and sharded legs (fewer shards are used to stay below); 0 for no limit.' },
  { name: 'query-frontend.query-sharding-max-regexp-size-bytes', yaml: 'limits.query_sharding_max_regexp_size_bytes', type: 'int', default: 4096, help: 'Queries with a regular-expression matcher longer than this many bytes are not sharded; 0 for no limit.' },
];

/** FLAGS_BY_NAME indexes FLAGS by flag name and by each alias. */
export const FLAGS_BY_NAME: ReadonlyMap<string, FlagDef> = new Map(FLAGS.flatMap((f) => [f.name, ...(f.aliases ?? [])].map((n) => [n, f] as const)));

/** FLAGS_BY_YAML indexes FLAGS by YAML path. */
export const FLAGS_BY_YAML: ReadonlyMap<string, FlagDef> = new Map(
  FLAGS.filter((f) => f.yaml !== undefined).map((f) => [f.yaml!, f]),
);

/** YAML_SECTIONS holds every dotted prefix of a YAML path (e.g. "blocks_storage.tsdb"). */
export const YAML_SECTIONS: ReadonlySet<string> = new Set(
  FLAGS.flatMap((f) => {
    if (f.yaml === undefined) return [];
    const parts = f.yaml.split('.');
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);
