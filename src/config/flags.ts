// flags.ts is the flag table: the single source of truth for every setting's
// Mimir flag name, YAML path, type, default and help. The parser, /config
// (mode=defaults|diff) and, later, /api/v1/status/flags all read it.

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
  { name: 'config.file', type: 'string', default: '', help: 'Configuration file to load.' },
  { name: 'target', yaml: 'target', type: 'string', default: 'all', choices: TARGETS, help: 'Comma-separated list of modules to load.' },
  {
    name: 'auth.multitenancy-enabled',
    yaml: 'multitenancy_enabled',
    type: 'bool',
    default: true,
    help: 'When set to true, incoming HTTP requests must specify tenant ID in HTTP X-Scope-OrgId header. When set to false, tenant ID from -auth.no-auth-tenant is used instead.',
  },
  { name: 'auth.no-auth-tenant', yaml: 'no_auth_tenant', type: 'string', default: 'anonymous', help: 'Tenant ID to use when multitenancy is disabled.' },
  { name: 'server.http-listen-address', yaml: 'server.http_listen_address', type: 'string', default: '', help: 'HTTP server listen address.' },
  { name: 'server.http-listen-port', yaml: 'server.http_listen_port', type: 'int', default: 8080, help: 'HTTP server listen port.' },
  {
    name: 'server.graceful-shutdown-timeout',
    yaml: 'server.graceful_shutdown_timeout',
    type: 'duration',
    default: 30_000,
    help: 'Timeout for graceful shutdowns.',
  },
  { name: 'log.level', yaml: 'server.log_level', type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: 'Only log messages with the given severity or above.' },
  { name: 'http.prometheus-http-prefix', yaml: 'api.prometheus_http_prefix', type: 'string', default: '/prometheus', help: 'HTTP URL path under which the Prometheus api will be served.' },
  { name: 'blocks-storage.backend', yaml: 'blocks_storage.backend', type: 'string', default: 'filesystem', choices: ['s3', 'filesystem'], help: 'Backend storage to use.' },
  { name: 'blocks-storage.filesystem.dir', yaml: 'blocks_storage.filesystem.dir', type: 'string', default: 'blocks', help: 'Local filesystem storage directory.' },
  { name: 'blocks-storage.s3.endpoint', yaml: 'blocks_storage.s3.endpoint', type: 'string', default: '', help: 'The S3 bucket endpoint.' },
  { name: 'blocks-storage.s3.bucket-name', yaml: 'blocks_storage.s3.bucket_name', type: 'string', default: '', help: 'S3 bucket name.' },
  { name: 'blocks-storage.s3.access-key-id', yaml: 'blocks_storage.s3.access_key_id', type: 'string', default: '', help: 'S3 access key ID.' },
  { name: 'blocks-storage.s3.secret-access-key', yaml: 'blocks_storage.s3.secret_access_key', type: 'string', default: '', secret: true, help: 'S3 secret access key.' },
  { name: 'blocks-storage.tsdb.dir', yaml: 'blocks_storage.tsdb.dir', type: 'string', default: './tsdb/', help: 'Directory to store TSDBs (including WAL) in the ingesters.' },
  {
    name: 'distributor.max-recv-msg-size',
    yaml: 'distributor.max_recv_msg_size',
    type: 'int',
    default: 104857600,
    help: 'Max message size in bytes that the distributors will accept for incoming push requests to the remote write API.',
  },
  { name: 'querier.max-samples', yaml: 'querier.max_samples', type: 'int', default: 50_000_000, help: 'Maximum number of samples a single query can load into memory.' },
  { name: 'querier.timeout', yaml: 'querier.timeout', type: 'duration', default: 120_000, help: 'The timeout for a query.' },
  { name: 'querier.lookback-delta', yaml: 'querier.lookback_delta', type: 'duration', default: 300_000, help: 'Time since the last sample after which a time series is considered stale and ignored by expression evaluations.' },
  { name: 'validation.max-label-names-per-series', yaml: 'limits.max_label_names_per_series', type: 'int', default: 30, help: 'Maximum number of label names per series.' },
  { name: 'validation.max-length-label-name', yaml: 'limits.max_label_name_length', type: 'int', default: 1024, help: 'Maximum length accepted for label names.' },
  { name: 'validation.max-length-label-value', yaml: 'limits.max_label_value_length', type: 'int', default: 2048, help: 'Maximum length accepted for label value.' },
  {
    name: 'validation.create-grace-period',
    yaml: 'limits.creation_grace_period',
    type: 'duration',
    default: 600_000,
    help: 'Controls how far into the future incoming samples and exemplars are accepted compared to the wall clock.',
  },
  {
    name: 'validation.past-grace-period',
    yaml: 'limits.past_grace_period',
    type: 'duration',
    default: 0,
    help: 'Controls how far into the past incoming samples and exemplars are accepted compared to the wall clock. 0 to disable.',
  },
  { name: 'distributor.ingestion-rate-limit', yaml: 'limits.ingestion_rate', type: 'float', default: 10000, help: 'Per-tenant ingestion rate limit in samples per second.' },
  { name: 'distributor.ingestion-burst-size', yaml: 'limits.ingestion_burst_size', type: 'int', default: 200000, help: 'Per-tenant allowed ingestion burst size (in number of samples).' },
  { name: 'ingester.max-global-series-per-user', yaml: 'limits.max_global_series_per_user', type: 'int', default: 150000, help: 'The maximum number of in-memory series per tenant, across the cluster. 0 to disable.' },
  { name: 'ingester.max-global-series-per-metric', yaml: 'limits.max_global_series_per_metric', type: 'int', default: 0, help: 'The maximum number of in-memory series per metric name, across the cluster. 0 to disable.' },
  { name: 'querier.max-fetched-series-per-query', yaml: 'limits.max_fetched_series_per_query', type: 'int', default: 0, help: 'The maximum number of unique series for which a query can fetch samples. 0 to disable.' },
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
