// ha-tracker.ts is the TypeScript side of the distributor's HA tracker (the
// election itself runs in Rust inside the push, see native/core/src/
// ha_tracker.rs): the per-push settings it needs (the tenant's labels and
// limits, the timeouts with this process's jitter, the clock) and the
// /distributor/ha_tracker status page (HTML, or JSON for Accept:
// application/json, as Mimir's).

import { Gauge, type Registry } from 'prom-client';
import type { Config, Limits } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import { ConfigError } from '../config/parse.js';
import { escapeHtml, page } from '../ops/pages.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { ElectedReplica, HaTrackerState } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';
import { flagBool } from '../config/config.js';

/** HaTrackerConfig is the process-wide part of the HA tracker configuration. */
export interface HaTrackerConfig {
  enabled: boolean;
  updateTimeoutMs: number;
  updateTimeoutJitterMaxMs: number;
  failoverTimeoutMs: number;
}

/** haTrackerConfig reads the -distributor.ha-tracker.* flags. */
export function haTrackerConfig(config: Config): HaTrackerConfig {
  const num = (name: string, fallback: number): number => {
    const v = config.values.get(name);
    return typeof v === 'number' ? v : fallback;
  };
  return {
    enabled: flagBool(config.values, 'distributor.ha-tracker.enable'),
    updateTimeoutMs: num('distributor.ha-tracker.update-timeout', 15_000),
    updateTimeoutJitterMaxMs: num('distributor.ha-tracker.update-timeout-jitter-max', 5_000),
    failoverTimeoutMs: num('distributor.ha-tracker.failover-timeout', 30_000),
  };
}

/** validateHaTrackerConfig throws Mimir's configuration errors. */
export function validateHaTrackerConfig(cfg: HaTrackerConfig): void {
  if (cfg.updateTimeoutJitterMaxMs < 0) throw new ConfigError("HA tracker max update timeout jitter shouldn't be negative");
  const min = cfg.updateTimeoutMs + cfg.updateTimeoutJitterMaxMs + 1000;
  if (cfg.failoverTimeoutMs < min) {
    throw new ConfigError(
      `HA Tracker failover timeout (${formatDuration(cfg.failoverTimeoutMs)}) must be at least 1s greater than update timeout - max jitter (${formatDuration(min)})`,
    );
  }
}

/** formatGoDuration prints milliseconds as Go's time.Duration.String does ("1m30s", "14.5s", "-2s", "500ms"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** formatGoTime prints unix ms as Go's time.Time.String does in UTC ("2006-01-02 15:04:05.123 +0000 UTC"). */
export function formatGoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(19, 23).replace(/\.?0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** formatTableTime prints unix ms to the second, for the status table ("2006-01-02 15:04:05 UTC"). */
export function formatTableTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** goRfc3339Nano prints unix ms as Go's JSON encoding of a time.Time in UTC. */
export function goRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}${iso.slice(19, 23).replace(/\.?0+$/, '')}Z`;
}

/** HaTracker holds the HA tracker's process settings and serves its status page. */
export class HaTracker {
  /** jitterMs is this process's update timeout jitter, in [-max, max) as Mimir draws it. */
  readonly jitterMs: number;

  constructor(
    readonly cfg: HaTrackerConfig,
    private readonly state: HaTrackerState | undefined,
    /** now is the tracker's clock (unix ms); tests pass a fake one. */
    readonly now: () => number = Date.now,
    random: () => number = Math.random,
  ) {
    validateHaTrackerConfig(cfg);
    const max = cfg.updateTimeoutJitterMaxMs;
    this.jitterMs = max > 0 ? Math.floor(random() * 2 * max) - max : 0;
  }

  /** pushLimits are the HA fields of a push's IngestLimits for a tenant with these limits. */
  pushLimits(limits: Limits): Partial<IngestLimits> {
    if (!limits.acceptHaSamples) return {};
    return {
      ha: {
        trackerEnabled: this.cfg.enabled,
        clusterLabel: limits.haClusterLabel,
        replicaLabel: limits.haReplicaLabel,
        maxClusters: limits.haMaxClusters,
        updateTimeoutMs: this.cfg.updateTimeoutMs + this.jitterMs,
        failoverTimeoutMs: this.cfg.failoverTimeoutMs,
        nowMs: this.now(),
      },
    };
  }

  /** status answers GET /distributor/ha_tracker. */
  readonly status = (req: Request, res: Response): void => {
    const now = this.now();
    const elected = this.state?.haTrackerStatus() ?? [];
    if ((req.headers.get('accept') ?? '').includes('application/json')) {
      res.json(200, haTrackerJson(elected, now, this.cfg));
      return;
    }
    res.send(200, haTrackerPage(elected, now, this.cfg), CONTENT_TYPE.html);
  };
}

/** haTrackerJson is Mimir's JSON form of the page (durations in nanoseconds, as Go encodes them). */
export function haTrackerJson(elected: ElectedReplica[], now: number, cfg: HaTrackerConfig): string {
  return JSON.stringify({
    elected: elected.map((e) => ({
      userID: e.tenant,
      cluster: e.cluster,
      replica: e.replica,
      lastElectionTime: goRfc3339Nano(e.electedAtMs),
      electedLastSeenTime: goRfc3339Nano(e.receivedAtMs),
      updateDuration: (e.receivedAtMs + cfg.updateTimeoutMs - now) * 1e6,
      failoverDuration: (e.receivedAtMs + cfg.failoverTimeoutMs - now) * 1e6,
    })),
    now: goRfc3339Nano(now),
  });
}

/** haTrackerPage renders the HA tracker status as an HTML table, one row per tenant and cluster. */
export function haTrackerPage(elected: ElectedReplica[], now: number, cfg: HaTrackerConfig): string {
  let rows = '';
  for (const e of elected) {
    const cells = [
      e.tenant,
      e.cluster,
      e.replica,
      formatTableTime(e.electedAtMs),
      formatTableTime(e.receivedAtMs),
      formatGoDuration(roundToSecond(e.receivedAtMs + cfg.updateTimeoutMs - now)),
      formatGoDuration(roundToSecond(e.receivedAtMs + cfg.failoverTimeoutMs - now)),
    ];
    rows += `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>\n`;
  }
  const state = cfg.enabled
    ? `<p>Failover after ${escapeHtml(formatGoDuration(cfg.failoverTimeoutMs))} without samples from the elected replica; last-seen times are refreshed every ${escapeHtml(formatGoDuration(cfg.updateTimeoutMs))}.</p>\n`
    : '<p>The HA tracker is disabled (-distributor.ha-tracker.enable=false).</p>\n';
  const table =
    elected.length === 0
      ? '<p>No HA cluster has been seen yet.</p>\n'
      : '<table>\n<thead><tr><th>User ID</th><th>Cluster</th><th>Replica</th><th>Elected at</th><th>Elected last seen</th><th>Time until update</th><th>Time until failover</th></tr></thead>\n' +
        `<tbody>\n${rows}</tbody>\n</table>\n`;
  return page('HA Tracker Status', `<h1>HA Tracker Status</h1>\n<p>Current time: ${escapeHtml(formatGoTime(now))}</p>\n${state}${table}`, true);
}

/** roundToSecond rounds a duration in ms to whole seconds (the table's precision). */
function roundToSecond(ms: number): number {
  return Math.round(ms / 1000) * 1000;
}

/**
 * registerHaTrackerMetrics adds Mimir's HA tracker gauges, read from the election state at each
 * scrape: the elected replica's last-seen and election times and the re-elections per cluster.
 */
export function registerHaTrackerMetrics(registry: Registry, state: HaTrackerState): void {
  const gauge = (name: string, help: string, value: (e: ElectedReplica) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['user', 'cluster'],
      registers: [registry],
      collect() {
        this.reset();
        for (const e of state.haTrackerStatus()) this.set({ user: e.tenant, cluster: e.cluster }, value(e));
      },
    });
  };
  gauge('cortex_ha_tracker_elected_replica_timestamp_seconds', 'The timestamp stored for the currently elected replica, from the KVStore.', (e) => Math.floor(e.receivedAtMs / 1000));
  gauge('cortex_ha_tracker_last_election_timestamp_seconds', 'The timestamp stored for the most recent election, from the KVStore.', (e) => Math.floor(e.electedAtMs / 1000));
  gauge('cortex_ha_tracker_reelections_total', 'The total number of reelections for a user ID/cluster, from the KVStore.', (e) => e.electedChanges);
}
