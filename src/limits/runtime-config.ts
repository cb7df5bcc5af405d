// runtime-config.ts is the per-tenant limits machinery: the defaults come from
// `limits:` in the YAML (and the flags), the per-tenant `overrides:` from the
// files named by -runtime-config.file, re-read every
// -runtime-config.reload-period without a restart. A file that fails to load
// or parse at start fails the start; later, the last good configuration stays
// in force and the error is logged. It also renders /runtime_config (all
// values, or with mode=diff only what differs from the defaults).

import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import { buildConfig, type Config, type Limits } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import { FLAGS, type FlagDef, type FlagValue } from '../config/flags.js';
import { applyYaml, ConfigError, labelMapOf, type ConfigValues } from '../config/parse.js';
import { log, type Logger } from '../log.js';

/** LIMIT_FLAGS are the flags a tenant may override (YAML `limits.<field>`). */
export const LIMIT_FLAGS: readonly FlagDef[] = FLAGS.filter((f) => f.yaml?.startsWith('limits.') === true);

/** limitField is the override field name of a limits flag (its YAML key under `limits:`). */
function limitField(def: FlagDef): string {
  return def.yaml!.slice('limits.'.length);
}

/** RUNTIME_CONFIG_MISSING is Mimir's /runtime_config answer without -runtime-config.file. */
export const RUNTIME_CONFIG_MISSING = "runtime config file doesn't exist";

/**
 * OTHER_RUNTIME_SECTIONS are the other top-level keys of Mimir's runtime configuration: accepted
 * (so a file written for Mimir loads) and ignored.
 */
const OTHER_RUNTIME_SECTIONS = new Set(['multi_kv_config', 'ingester_limits', 'distributor_limits', 'ingester_stream_chunks_when_using_blocks']);

/** TenantLimits are one tenant's effective values (every flag) and the Limits built from them. */
interface TenantLimits {
  values: ConfigValues;
  limits: Limits;
}

/** RuntimeConfig is a parsed set of runtime configuration files. */
export interface RuntimeConfig {
  /** tenants maps each tenant of `overrides:` to its values: the defaults with its fields on top. */
  tenants: Map<string, TenantLimits>;
}

/**
 * parseRuntimeConfig parses the runtime configuration files' texts (later files win field by
 * field) on top of the default values; throws a ConfigError naming the file and the problem.
 */
export function parseRuntimeConfig(
  files: ReadonlyArray<{ name: string; text: string }>,
  defaults: ConfigValues,
  instances: ReadonlyMap<string, Record<string, unknown>> = new Map(),
): RuntimeConfig {
  const perTenant = new Map<string, Array<{ source: string; fields: Record<string, unknown> }>>();
  for (const { name, text } of files) {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) throw new ConfigError(`error loading runtime config from ${name}: yaml: ${doc.errors[0]!.message}`);
    const root: unknown = doc.toJS();
    if (root === null || root === undefined) continue;
    if (typeof root !== 'object' || Array.isArray(root)) throw new ConfigError(`error loading runtime config from ${name}: the file must be a YAML map`);
    for (const [key, overrides] of Object.entries(root as Record<string, unknown>)) {
      if (OTHER_RUNTIME_SECTIONS.has(key)) continue;
      if (key !== 'overrides') throw new ConfigError(`error loading runtime config from ${name}: field ${key} not found in type runtime config`);
      if (overrides === null || overrides === undefined) continue;
      if (typeof overrides !== 'object' || Array.isArray(overrides)) {
        throw new ConfigError(`error loading runtime config from ${name}: overrides must map tenant IDs to limits`);
      }
      for (const [tenant, fields] of Object.entries(overrides as Record<string, unknown>)) {
        if (fields !== null && (typeof fields !== 'object' || Array.isArray(fields))) {
          throw new ConfigError(`error loading runtime config from ${name}: the overrides of tenant ${tenant} must be a map of limits`);
        }
        const list = perTenant.get(tenant) ?? [];
        list.push({ source: `${name} (overrides of tenant ${tenant})`, fields: (fields ?? {}) as Record<string, unknown> });
        perTenant.set(tenant, list);
      }
    }
  }
  // The admin API's instance limits, on top of the files' overrides.
  for (const [tenant, fields] of instances) {
    const list = perTenant.get(tenant) ?? [];
    list.push({ source: `the limits of instance ${tenant}`, fields });
    perTenant.set(tenant, list);
  }
  const tenants = new Map<string, TenantLimits>();
  for (const [tenant, list] of perTenant) {
    const values: ConfigValues = new Map(defaults);
    for (const { source, fields } of list) {
      try {
        applyYaml(values, stringify({ limits: fields }), source);
      } catch (err) {
        throw new ConfigError((err as Error).message.replace('error loading config from', 'error loading runtime config from'));
      }
    }
    tenants.set(tenant, { values, limits: buildConfig(values).limits });
  }
  return { tenants };
}

function renderValue(def: FlagDef, v: FlagValue): FlagValue | Record<string, string> {
  if (def.labelMap === true) return labelMapOf(v);
  return def.type === 'duration' ? formatDuration(v as number) : v;
}

/**
 * renderRuntimeConfig renders /runtime_config: every tenant's limits, or (diff) only the fields
 * that differ from the defaults, tenants without any left out.
 */
export function renderRuntimeConfig(rc: RuntimeConfig, defaults: ConfigValues, mode: 'values' | 'diff'): string {
  const overrides: Record<string, Record<string, FlagValue | Record<string, string>>> = {};
  for (const tenant of [...rc.tenants.keys()].sort()) {
    const { values } = rc.tenants.get(tenant)!;
    const out: Record<string, FlagValue | Record<string, string>> = {};
    for (const def of LIMIT_FLAGS) {
      const v = values.get(def.name) ?? def.default;
      if (mode === 'diff' && v === (defaults.get(def.name) ?? def.default)) continue;
      out[limitField(def)] = renderValue(def, v);
    }
    if (mode === 'diff' && Object.keys(out).length === 0) continue;
    overrides[tenant] = out;
  }
  if (mode === 'diff' && Object.keys(overrides).length === 0) return '{}\n';
  return stringify({ overrides }, { lineWidth: 0 });
}

/**
 * instanceLimitFields picks, from an admin API instance's `limits`, the fields that are limits
 * here (others are kept by the instance and not applied); GEM writes durations as integer
 * nanoseconds, which become durations.
 */
export function instanceLimitFields(limits: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const def of LIMIT_FLAGS) {
    const field = limitField(def);
    if (!(field in limits)) continue;
    const v = limits[field];
    out[field] = def.type === 'duration' && typeof v === 'number' && v !== 0 ? `${v / 1e6}ms` : v;
  }
  return out;
}

/** checkInstanceLimits throws a ConfigError when an instance's limits do not parse. */
export function checkInstanceLimits(limits: Readonly<Record<string, unknown>>, defaults: ConfigValues): void {
  try {
    parseRuntimeConfig([], defaults, new Map([['instance', instanceLimitFields(limits)]]));
  } catch (err) {
    // Only the problem itself: the YAML the limits were turned into is not the client's.
    throw new ConfigError((err as Error).message.replace(/^error loading runtime config from [^:]*: (yaml: unmarshal errors:\s*)?(line \d+: )?/, '').trim());
  }
}

/** Overrides answers each tenant's effective limits. */
export interface LimitsSource {
  /** limits are the tenant's limits: its overrides on top of the defaults. */
  limits(tenant: string): Limits;
  /** values are the tenant's effective flag values (for limits without a typed field). */
  values(tenant: string): ConfigValues;
}

/** RuntimeConfigOptions configure a RuntimeConfigManager. */
export interface RuntimeConfigOptions {
  /** files are the -runtime-config.file paths (empty: no runtime configuration). */
  files: readonly string[];
  /** reloadPeriodMs is -runtime-config.reload-period; 0 never reloads. */
  reloadPeriodMs: number;
  logger?: Logger;
  /** readFile reads one file (tests). */
  readFile?: (path: string) => string;
}

/** runtimeConfigFiles splits -runtime-config.file (comma-separated, as Mimir's). */
export function runtimeConfigFiles(flag: string): string[] {
  return flag
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * RuntimeConfigManager holds the current runtime configuration and reloads it on a timer. Only
 * the main thread holds it: workers get each push's limits with the push.
 */
export class RuntimeConfigManager implements LimitsSource {
  private current: RuntimeConfig = { tenants: new Map() };
  private lastTexts: string | undefined;
  /** files are the last good files' texts; instances the admin API's instance limits (the layer on top). */
  private files: Array<{ name: string; text: string }> = [];
  private instances: ReadonlyMap<string, Record<string, unknown>> = new Map();
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly readFile: (path: string) => string;

  constructor(
    private readonly config: Config,
    private readonly opts: RuntimeConfigOptions,
  ) {
    this.logger = opts.logger ?? log.with({ component: 'runtime-config' });
    this.readFile = opts.readFile ?? ((p) => readFileSync(p, 'utf8'));
  }

  /** configured reports whether -runtime-config.file names any file. */
  get configured(): boolean {
    return this.opts.files.length > 0;
  }

  /** load reads and applies the files now; true when they changed. Throws a ConfigError on failure. */
  load(): boolean {
    if (!this.configured) return false;
    const files = this.opts.files.map((name) => {
      try {
        return { name, text: this.readFile(name) };
      } catch (err) {
        throw new ConfigError(`error loading runtime config from ${name}: ${(err as Error).message}`);
      }
    });
    const joined = JSON.stringify(files.map((f) => f.text));
    if (joined === this.lastTexts) return false;
    this.current = parseRuntimeConfig(files, this.config.values, this.instances);
    this.files = files;
    this.lastTexts = joined;
    return true;
  }

  /**
   * setInstanceLimits replaces the admin API's layer (instance name -> its limits) and applies
   * it at once; an instance whose limits no longer parse is left out and logged.
   */
  setInstanceLimits(instances: ReadonlyMap<string, Readonly<Record<string, unknown>>>): void {
    const layer = new Map<string, Record<string, unknown>>();
    for (const [name, limits] of instances) {
      const fields = instanceLimitFields(limits);
      try {
        parseRuntimeConfig([], this.config.values, new Map([[name, fields]]));
        layer.set(name, fields);
      } catch (err) {
        this.logger.error('instance limits ignored', { instance: name, err: (err as Error).message });
      }
    }
    this.instances = layer;
    this.current = parseRuntimeConfig(this.files, this.config.values, layer);
  }

  /** start loads the files (throwing when they are bad) and starts the reload timer. */
  start(): void {
    if (!this.configured) return;
    this.load();
    this.logger.info('runtime config loaded', { file: this.opts.files.join(','), tenants: this.current.tenants.size });
    if (this.opts.reloadPeriodMs > 0) {
      this.timer = setInterval(() => this.reload(), this.opts.reloadPeriodMs);
      this.timer.unref();
    }
  }

  /** reload re-reads the files, keeping the last good configuration when they are bad. */
  reload(): void {
    try {
      if (this.load()) this.logger.info('runtime config reloaded', { file: this.opts.files.join(','), tenants: this.current.tenants.size });
    } catch (err) {
      this.logger.error('failed to reload runtime config, keeping the last good one', { file: this.opts.files.join(','), err: (err as Error).message });
    }
  }

  /** stop ends the reloads. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  limits(tenant: string): Limits {
    return this.current.tenants.get(tenant)?.limits ?? this.config.limits;
  }

  values(tenant: string): ConfigValues {
    return this.current.tenants.get(tenant)?.values ?? this.config.values;
  }

  /** overriddenTenants lists the tenants with overrides (the files' and the admin API's instances), sorted. */
  overriddenTenants(): string[] {
    return [...this.current.tenants.keys()].sort();
  }

  /** render is the /runtime_config text, undefined without -runtime-config.file. */
  render(mode: 'values' | 'diff'): string | undefined {
    if (!this.configured && this.instances.size === 0) return undefined;
    return renderRuntimeConfig(this.current, this.config.values, mode);
  }
}

/** numberValue reads a numeric flag value that may not exist (yet) in the flag table. */
function numberValue(values: ConfigValues, name: string, fallback: number): number {
  const v = values.get(name);
  return typeof v === 'number' ? v : fallback;
}

/**
 * userLimitsJson is Mimir's /api/v1/user_limits body (validation.UserLimitsResponse, fields in
 * its order); limits this server does not have show Mimir's defaults.
 */
export function userLimitsJson(source: LimitsSource, tenant: string): string {
  const l = source.limits(tenant);
  const v = source.values(tenant);
  return JSON.stringify({
    compactor_blocks_retention_period_seconds: Math.floor(numberValue(v, 'compactor.blocks-retention-period', 0) / 1000),
    ingestion_rate: l.ingestionRate,
    ingestion_burst_size: l.ingestionBurstSize,
    ingestion_burst_factor: numberValue(v, 'distributor.ingestion-burst-factor', 0),
    max_global_series_per_user: l.maxGlobalSeriesPerUser,
    max_global_series_per_metric: l.maxGlobalSeriesPerMetric,
    max_global_exemplars_per_user: numberValue(v, 'ingester.max-global-exemplars-per-user', 0),
    max_fetched_chunks_per_query: numberValue(v, 'querier.max-fetched-chunks-per-query', 2_000_000),
    max_fetched_series_per_query: l.maxFetchedSeriesPerQuery,
    max_fetched_chunk_bytes_per_query: numberValue(v, 'querier.max-fetched-chunk-bytes-per-query', 0),
    ruler_max_rules_per_rule_group: numberValue(v, 'ruler.max-rules-per-rule-group', 20),
    ruler_max_rule_groups_per_tenant: numberValue(v, 'ruler.max-rule-groups-per-tenant', 70),
  });
}
