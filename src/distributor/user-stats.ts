// user-stats.ts answers Mimir's tenant statistics: GET /api/v1/user_stats
// (the request tenant's ingestion rates and series, JSON) and GET
// /distributor/all_user_stats (every tenant, an HTML table or JSON when the
// client accepts it). Rates are exponentially weighted moving averages of
// the samples each tenant got stored, as Mimir's ingester keeps them
// (alpha 0.2, recomputed every -ingester.rate-update-period).
//
// A reader limited by label policies (enterprise auth, LBAC) gets figures
// computed from the series it may see only: numSeries counts the visible
// in-memory series, and the rates are the visible series' samples per second
// over the last minute (by sample time; the per-tenant EWMAs cannot be split
// by series), divided between API and rule ingestion in the tenant's current
// proportion.

import { escapeHtml, page } from '../ops/pages.js';
import { formatGoTime } from './ha-tracker.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { HeadStatsSource, VisibleStatsSource } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';

/** EWMA_ALPHA is the weight of the newest interval (Mimir's ingestion rate EWMA). */
const EWMA_ALPHA = 0.2;

/** EwmaRate is a rate of events per second, smoothed over fixed intervals. */
export class EwmaRate {
  private pending = 0;
  private rate = 0;
  private initialized = false;

  constructor(private readonly intervalMs: number) {}

  /** add records n events. */
  add(n: number): void {
    this.pending += n;
  }

  /** tick closes an interval: the first sets the rate, later ones move it by alpha towards the interval's rate. */
  tick(): void {
    const instant = this.pending / (this.intervalMs / 1000);
    this.pending = 0;
    if (this.initialized) this.rate += EWMA_ALPHA * (instant - this.rate);
    else {
      this.initialized = true;
      this.rate = instant;
    }
  }

  /** value is the current rate (events per second). */
  value(): number {
    return this.rate;
  }
}

/** IngestionRates keeps each tenant's API ingestion rate (samples/s). */
export class IngestionRates {
  private readonly rates = new Map<string, EwmaRate>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** add records samples stored for a tenant. */
  add(tenant: string, samples: number): void {
    let r = this.rates.get(tenant);
    if (r === undefined) {
      r = new EwmaRate(this.intervalMs);
      this.rates.set(tenant, r);
    }
    r.add(samples);
  }

  /** tick closes an interval for every tenant. */
  tick(): void {
    for (const r of this.rates.values()) r.tick();
  }

  /** rate is the tenant's current rate (0 when unknown). */
  rate(tenant: string): number {
    return this.rates.get(tenant)?.value() ?? 0;
  }

  /** tenants lists the tenants with a rate. */
  tenants(): string[] {
    return [...this.rates.keys()];
  }

  /** start ticks every interval until stop. */
  start(): void {
    if (this.timer !== undefined || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** UserStats is Mimir's per-tenant statistics object (fields in its order). */
export interface UserStats {
  ingestionRate: number;
  numSeries: number;
  APIIngestionRate: number;
  RuleIngestionRate: number;
}

/** VISIBLE_RATE_WINDOW_MS is the window a limited reader's ingestion rate is computed over. */
export const VISIBLE_RATE_WINDOW_MS = 60_000;

/** UserIdStats is a UserStats with its tenant, as /distributor/all_user_stats lists them. */
export type UserIdStats = { userID: string } & UserStats;

/** UserStatsApi serves the tenant statistics endpoints. */
export class UserStatsApi {
  constructor(
    private readonly rates: IngestionRates,
    private readonly heads: HeadStatsSource,
    /** ruleRates are the samples the ruler stored per tenant (its recording rules and ALERTS). */
    private readonly ruleRates?: IngestionRates,
    /** visible answers for readers limited by label policies (without it they get zeros). */
    private readonly visible?: VisibleStatsSource,
    private readonly now: () => number = Date.now,
  ) {}

  private series(): Map<string, number> {
    return new Map(this.heads.headStats().map((h) => [h.tenant, h.series]));
  }

  private statsFor(tenant: string, series: Map<string, number>): UserStats {
    const api = this.rates.rate(tenant);
    const rule = this.ruleRates?.rate(tenant) ?? 0;
    return { ingestionRate: api + rule, numSeries: series.get(tenant) ?? 0, APIIngestionRate: api, RuleIngestionRate: rule };
  }

  /** all lists every tenant's stats, most series first, then by tenant. */
  all(): UserIdStats[] {
    const series = this.series();
    const tenants = new Set([...series.keys(), ...this.rates.tenants(), ...(this.ruleRates?.tenants() ?? [])]);
    const out = [...tenants].map((t) => ({ userID: t, ...this.statsFor(t, series) }));
    out.sort((a, b) => b.numSeries - a.numSeries || (a.userID < b.userID ? -1 : a.userID > b.userID ? 1 : 0));
    return out;
  }

  /**
   * visibleStatsFor is statsFor computed from the series matching one of selectors only (a
   * token's label policies): nothing in it counts a hidden series.
   */
  visibleStatsFor(tenant: string, selectors: LabelMatcher[][]): UserStats {
    const v = this.visible;
    if (v === undefined) return { ingestionRate: 0, numSeries: 0, APIIngestionRate: 0, RuleIngestionRate: 0 };
    const now = this.now();
    const rate = v.visibleSamples(tenant, selectors, now - VISIBLE_RATE_WINDOW_MS, now) / (VISIBLE_RATE_WINDOW_MS / 1000);
    const api = this.rates.rate(tenant);
    const rule = this.ruleRates?.rate(tenant) ?? 0;
    const ruleShare = api + rule > 0 ? rule / (api + rule) : 0;
    return { ingestionRate: rate, numSeries: v.visibleSeries(tenant, selectors), APIIngestionRate: rate * (1 - ruleShare), RuleIngestionRate: rate * ruleShare };
  }

  /** userStats answers GET /api/v1/user_stats for the request tenant (its visible series for a token with label policies). */
  readonly userStats = (req: Request, res: Response): void => {
    const selectors = req.visibility?.[req.tenant];
    res.json(200, JSON.stringify(selectors === undefined ? this.statsFor(req.tenant, this.series()) : this.visibleStatsFor(req.tenant, selectors)));
  };

  /** allUserStats answers GET /distributor/all_user_stats: HTML, or JSON when the first Accept asks for json. */
  readonly allUserStats = (req: Request, res: Response): void => {
    const stats = this.all();
    if ((req.headers.get('accept') ?? '').includes('json')) {
      res.json(200, JSON.stringify(stats) + '\n');
      return;
    }
    res.send(200, allUserStatsPage(stats, Date.now()), CONTENT_TYPE.html);
  };
}

/** allUserStatsPage renders the tenants' stats as an HTML table. */
export function allUserStatsPage(stats: UserIdStats[], now: number): string {
  let rows = '';
  for (const s of stats) {
    rows +=
      `<tr><td>${escapeHtml(s.userID)}</td><td class="num">${s.numSeries}</td><td class="num">${s.ingestionRate.toFixed(2)}</td>` +
      `<td class="num">${s.APIIngestionRate.toFixed(2)}</td><td class="num">${s.RuleIngestionRate.toFixed(2)}</td></tr>\n`;
  }
  const table =
    stats.length === 0
      ? '<p>No tenant has sent data yet.</p>\n'
      : '<table>\n<thead><tr><th>User</th><th># Series</th><th>Total Ingest Rate</th><th>API Ingest Rate</th><th>Rule Ingest Rate</th></tr></thead>\n' +
        `<tbody>\n${rows}</tbody>\n</table>\n`;
  return page(
    'Ingester Stats',
    '<h1>Ingester Stats</h1>\n' +
      `<p>Current time: ${escapeHtml(formatGoTime(now))}</p>\n` +
      '<p>Rates are samples per second. Stats do not account for replication factor, which is currently set to 1.</p>\n' +
      table,
  );
}
