// overrides-exporter.ts is Mimir's overrides-exporter (-target=overrides-exporter):
// the limits of every tenant of the runtime configuration's `overrides:` as
// cortex_limits_overrides{limit_name,user} and the defaults as
// cortex_limits_defaults{limit_name}, read at each scrape (so a runtime
// configuration reload shows at the next one), for the limits named by
// -overrides-exporter.enabled-metrics; and its /overrides-exporter/ring page.
// With -overrides-exporter.ring.enabled the exporters share a ring and only
// its leader (the owner of token 0) exports, so that replicas do not
// duplicate the series.

import { Gauge, type Registry } from 'prom-client';
import type { ConfigValues } from '../config/parse.js';
import { FLAGS_BY_YAML } from '../config/flags.js';
import type { Logger } from '../log.js';
import type { Handler, Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { EXPORTER_LEADER } from '../ring/model.js';
import type { RingMember } from '../ring/module.js';

/** ExportedLimit is one limit the exporter can show: its metric label, the limits field it reads and Mimir's default. */
interface ExportedLimit {
  name: string;
  /** field is the YAML key under `limits:` (the flag it names holds the value). */
  field: string;
  /** fallback is Mimir's default, for limits this server has no flag for. */
  fallback: number;
}

/** EXPORTABLE_LIMITS are the limits Mimir's exporter allows, in its order. */
const EXPORTABLE_LIMITS: readonly ExportedLimit[] = [
  { name: 'ingestion_rate', field: 'ingestion_rate', fallback: 10000 },
  { name: 'ingestion_burst_size', field: 'ingestion_burst_size', fallback: 200000 },
  { name: 'ingestion_artificial_delay_msec', field: 'ingestion_artificial_delay', fallback: 0 },
  { name: 'max_global_series_per_user', field: 'max_global_series_per_user', fallback: 150000 },
  { name: 'max_global_series_per_metric', field: 'max_global_series_per_metric', fallback: 0 },
  { name: 'max_global_exemplars_per_user', field: 'max_global_exemplars_per_user', fallback: 0 },
  { name: 'max_fetched_chunks_per_query', field: 'max_fetched_chunks_per_query', fallback: 2_000_000 },
  { name: 'max_fetched_series_per_query', field: 'max_fetched_series_per_query', fallback: 0 },
  { name: 'max_fetched_chunk_bytes_per_query', field: 'max_fetched_chunk_bytes_per_query', fallback: 0 },
  { name: 'ruler_max_rules_per_rule_group', field: 'ruler_max_rules_per_rule_group', fallback: 20 },
  { name: 'ruler_max_rule_groups_per_tenant', field: 'ruler_max_rule_groups_per_tenant', fallback: 70 },
  { name: 'max_global_metadata_per_user', field: 'max_global_metadata_per_user', fallback: 0 },
  { name: 'max_global_metadata_per_metric', field: 'max_global_metadata_per_metric', fallback: 0 },
  { name: 'request_rate', field: 'request_rate', fallback: 0 },
  { name: 'request_burst_size', field: 'request_burst_size', fallback: 0 },
  { name: 'alertmanager_notification_rate_limit', field: 'alertmanager_notification_rate_limit', fallback: 0 },
  { name: 'alertmanager_max_dispatcher_aggregation_groups', field: 'alertmanager_max_dispatcher_aggregation_groups', fallback: 0 },
  { name: 'alertmanager_max_alerts_count', field: 'alertmanager_max_alerts_count', fallback: 0 },
  { name: 'alertmanager_max_alerts_size_bytes', field: 'alertmanager_max_alerts_size_bytes', fallback: 0 },
];

/** ALLOWED_LIMIT_NAMES lists what -overrides-exporter.enabled-metrics may name. */
export const ALLOWED_LIMIT_NAMES = EXPORTABLE_LIMITS.map((l) => l.name);

/** TenantLimitsSource is what the exporter reads of the runtime configuration. */
export interface TenantLimitsSource {
  /** overriddenTenants lists the tenants of `overrides:`. */
  overriddenTenants(): string[];
  values(tenant: string): ConfigValues;
}

/** enabledLimits parses -overrides-exporter.enabled-metrics; throws Mimir's error for an unknown name. */
export function enabledLimits(flag: string): ExportedLimit[] {
  const names = flag
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) if (!ALLOWED_LIMIT_NAMES.includes(n)) throw new Error(`invalid overrides-exporter config: enabled-metrics: unknown metric name '${n}'`);
  return EXPORTABLE_LIMITS.filter((l) => names.includes(l.name));
}

/** limitValue reads one limit from a tenant's (or the default) values, as the metric shows it. */
function limitValue(values: ConfigValues, l: ExportedLimit): number {
  const def = FLAGS_BY_YAML.get(`limits.${l.field}`);
  const v = def === undefined ? undefined : values.get(def.name);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return l.fallback;
}

/** LEADER_TOKEN is the token whose owner leads the exporter ring (Mimir's leaderToken). */
const LEADER_TOKEN = 0;

/**
 * ringLeader tells whether this process leads the overrides-exporter ring: it has joined and is
 * ACTIVE, and it is the instance owning LEADER_TOKEN among the ACTIVE and LEAVING members. When
 * the ring cannot tell (empty, the owner unhealthy), nobody exports, as Mimir, with a warning.
 */
export function ringLeader(member: RingMember, log: Logger): () => boolean {
  return () => {
    const lc = member.lifecycler;
    // Not yet joined, or stopping: Mimir's exporter is not Running then.
    if (lc === undefined || lc.getState() !== 'ACTIVE') return false;
    try {
      const set = member.ring.get(LEADER_TOKEN, EXPORTER_LEADER);
      if (set.instances.length !== 1) throw new Error(`got ${set.instances.length} instances for token ${LEADER_TOKEN} (but expected 1)`);
      return set.instances[0]!.addr === lc.opts.addr;
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log.warn('overrides-exporter failed to determine ring leader', { err: msg.startsWith('got ') ? msg : `failed to get a healthy instance for token ${LEADER_TOKEN}: ${msg}` });
      return false;
    }
  };
}

/** ExporterRing is the exporter's ring when enabled: who leads, and the ring's page. */
export interface ExporterRing {
  isLeader: () => boolean;
  page: Handler;
}

/** OverridesExporter registers the two gauges and answers the ring page. */
export class OverridesExporter {
  constructor(
    source: TenantLimitsSource,
    defaults: ConfigValues,
    limits: ExportedLimit[],
    registry: Registry,
    private readonly ring?: ExporterRing,
  ) {
    // Without the ring every exporter exports; with it only the leader does (the others show no series).
    const exports = ring?.isLeader ?? ((): boolean => true);
    new Gauge({
      name: 'cortex_limits_defaults',
      help: 'Resource limit defaults for tenants without overrides',
      labelNames: ['limit_name'],
      registers: [registry],
      collect() {
        this.reset();
        if (!exports()) return;
        for (const l of limits) this.set({ limit_name: l.name }, limitValue(defaults, l));
      },
    });
    new Gauge({
      name: 'cortex_limits_overrides',
      help: 'Resource limit overrides applied to tenants',
      labelNames: ['limit_name', 'user'],
      registers: [registry],
      collect() {
        this.reset();
        if (!exports()) return;
        for (const user of source.overriddenTenants()) {
          const values = source.values(user);
          for (const l of limits) this.set({ limit_name: l.name, user }, limitValue(values, l));
        }
      },
    });
  }

  /** ringPage answers /overrides-exporter/ring: the ring's page when enabled, else Mimir's text saying it is disabled. */
  readonly ringPage = async (req: Request, res: Response): Promise<void> => {
    if (this.ring !== undefined) {
      await this.ring.page(req, res);
      return;
    }
    res.send(
      200,
      '<!DOCTYPE html>\n<html>\n\t<head>\n\t\t<meta charset="UTF-8">\n\t\t<title>Overrides-exporter Status</title>\n\t</head>\n\t<body>\n\t\t<h1>Overrides-exporter Status</h1>\n\t\t<p>Overrides-exporter hash ring is disabled.</p>\n\t</body>\n</html>',
      'text/html',
    );
  };
}
