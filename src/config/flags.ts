// flags.ts is the flag table: the single source of truth for every setting's
// Mimir flag name, YAML path, type, default and help. The parser, /config
// (mode=defaults|diff) and /api/v1/status/flags all read it.

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
  /** list marks a string flag holding a comma-separated list: a YAML sequence in the config file and in /config. */
  list?: boolean;
}

/** TARGETS are the -target values (modules). */
export const TARGETS = [
  'all',
  'distributor',
  'ingester',
  'querier',
  'query-frontend',
  'store-gateway',
  'compactor',
  'ruler',
  'alertmanager',
] as const;

/** FLAGS lists every flag the server understands. */
export const FLAGS: readonly FlagDef[] = [
  { name: 'config.file', type: 'string', default: '', help: 'YAML file with the configuration; flags given on the command line win over it.' },
  { name: 'target', yaml: 'target', type: 'string', default: 'all', choices: TARGETS, help: 'Which components this process runs, comma-separated (all = monolithic).' },
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
    name: 'blocks-storage.tsdb.wal-sync-mode',
    yaml: 'blocks_storage.tsdb.wal_sync_mode',
    type: 'string',
    default: 'none',
    choices: ['none', 'always'],
    help: 'When a push is acknowledged: none = once its samples are written to the write-ahead log (kept by the OS if the process dies), always = once the log is fsynced (kept on power loss; concurrent pushes share one fsync).',
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
  { name: 'validation.max-label-names-per-series', yaml: 'limits.max_label_names_per_series', type: 'int', default: 30, help: 'Most labels one series may carry.' },
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
  { name: 'querier.max-fetched-series-per-query', yaml: 'limits.max_fetched_series_per_query', type: 'int', default: 0, help: 'Most series one query may fetch, 0 for no limit (configuration only: not enforced yet).' },
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
  {
    name: 'compactor.block-ranges',
    yaml: 'compactor.block_ranges',
    type: 'string',
    default: '2h0m0s,12h0m0s,24h0m0s',
    list: true,
    help: 'Comma-separated time ranges blocks are compacted into, smallest first, each a multiple of the one before.',
  },
  { name: 'compactor.data-dir', yaml: 'compactor.data_dir', type: 'string', default: './data-compactor/', help: 'Local directory of the compactor: cached block metas and the blocks of the job in progress.' },
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
    help: 'Blocks whose newest sample is older than this are deleted from the bucket; 0 keeps them forever. Per tenant in the runtime configuration.',
  },
  {
    name: 'compactor.partial-block-deletion-delay',
    yaml: 'limits.compactor_partial_block_deletion_delay',
    type: 'duration',
    default: 86_400_000,
    help: 'A block left incomplete (no meta.json) and untouched for this long is deleted; 0 never deletes them.',
  },
];

/** FLAGS_BY_NAME indexes FLAGS by flag name. */
export const FLAGS_BY_NAME: ReadonlyMap<string, FlagDef> = new Map(FLAGS.map((f) => [f.name, f]));

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
