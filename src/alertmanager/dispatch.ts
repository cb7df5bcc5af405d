// dispatch.ts is the dispatcher: every alert is routed through the tree and
// put into one aggregation group per matching route and group_by values. A
// group flushes after group_wait (at once if its alerts are older than
// that), then every group_interval: the pipeline drops inhibited, silenced
// and time-muted alerts, asks the notification log whether each integration
// must hear about the group (new firing alerts, newly resolved ones with
// send_resolved, or repeat_interval passed), delivers with retries, logs,
// and removes resolved alerts that did not change meanwhile.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { AlertmanagerConfig, Route } from './config.js';
import type { Inhibitor } from './inhibit.js';
import { notifyReason, type NotificationLog } from './nflog.js';
import { buildTemplateData, KV, notifyWithRetry, type Expander, type Integration, type NotifyContext } from './notifiers/notifier.js';
import type { Silences } from './silences.js';
import { anyContains } from './timeinterval.js';
import { labelSetString, type Alert, type LabelSet } from './types.js';

/** MIN_NOTIFY_TIMEOUT is notify.MinTimeout: a flush may retry for at least this long. */
const MIN_NOTIFY_TIMEOUT = 10_000;

/** DispatchMetrics counts deliveries per integration. */
export interface DispatchMetrics {
  notification(integration: string, ok: boolean): void;
}

/** DispatcherDeps are the tenant's parts the pipeline reads. */
export interface DispatcherDeps {
  tenant: string;
  config: AlertmanagerConfig;
  /** integrations per receiver name. */
  integrations: Map<string, Integration[]>;
  silences: Silences;
  inhibitor: Inhibitor;
  nflog: NotificationLog;
  externalURL: string;
  expand: Expander;
  logger: Logger;
  metrics: DispatchMetrics;
  /**
   * notifyDelayMs, for a replicated tenant, is how long a flush waits before it reads the
   * notification log (Alertmanager's wait stage: the replica's position times the peer timeout), so
   * that the first replica's notification reaches the others' logs before they decide to send.
   */
  notifyDelayMs?: () => number;
}

/** AggrGroup is one aggregation group. */
export class AggrGroup {
  readonly alerts = new Map<string, Alert>();
  readonly key: string;
  hasFlushed = false;
  /** removed is set once the dispatcher dropped the group (alerts that list it must be routed again). */
  removed = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private nextAt = 0;
  private flushing = false;
  /** tickAfterFlush is set when the timer fired during a flush. */
  private tickAfterFlush = false;

  constructor(
    readonly route: Route,
    readonly labels: LabelSet,
    private readonly dispatcher: Dispatcher,
    /** path is where the group sits among its route's groups (see GroupLevel). */
    readonly path: readonly string[],
  ) {
    this.key = `${route.key()}:${labelSetString(labels)}`;
    this.schedule(route.opts.groupWait);
  }

  private schedule(delay: number): void {
    this.cancel();
    this.nextAt = Date.now() + delay;
    // A zero wait (group_wait: 0s, or alerts older than it) flushes on the next turn of the loop, not a timer tick later.
    if (delay <= 0) this.immediate = setImmediate(() => void this.tick());
    else {
      this.timer = setTimeout(() => void this.tick(), delay);
      this.timer.unref();
    }
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** insert adds or replaces an alert at time now; an old enough alert makes the first flush happen now. */
  insert(fp: string, alert: Alert, held: boolean, now: number): void {
    // held: the group already holds this very object (a re-sent alert updated in place), nothing to store.
    if (!held) this.alerts.set(fp, alert);
    if (this.hasFlushed || this.flushing) return;
    if (alert.startsAt + this.route.opts.groupWait < now && this.nextAt > now) this.schedule(0);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.immediate = undefined;
    // As Alertmanager's group loop, flushes never overlap (a replica's wait before notifying can outlast
    // group_interval): a tick during a flush runs once it is over.
    if (this.flushing) {
      this.tickAfterFlush = true;
      return;
    }
    this.hasFlushed = true;
    this.schedule(this.route.opts.groupInterval);
    this.flushing = true;
    try {
      await this.dispatcher.flush(this);
    } finally {
      this.flushing = false;
    }
    if (this.alerts.size === 0) {
      this.stop();
      this.dispatcher.removeGroup(this);
      return;
    }
    if (this.tickAfterFlush && !this.removed) {
      this.tickAfterFlush = false;
      void this.tick();
    }
  }

  /** stop cancels the timer; the group is gone for good. */
  stop(): void {
    this.removed = true;
    this.cancel();
  }
}

/** Dispatcher owns a tenant's aggregation groups. */
export class Dispatcher {
  /** groups holds the live aggregation groups per route (see GroupLevel). */
  private readonly groups = new Map<Route, GroupLevel>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /**
   * process puts an alert into the group of every route it matches at time now
   * (a known alert still in its groups is not routed again).
   */
  process(fp: string, alert: Alert, now = Date.now()): void {
    if (this.stopped) return;
    const known = alert.groups as AggrGroup | AggrGroup[] | undefined;
    if (known instanceof AggrGroup) {
      if (!known.removed && known.alerts.get(fp) === alert) {
        known.insert(fp, alert, true, now);
        return;
      }
    } else if (known !== undefined && known.every((g) => !g.removed && g.alerts.get(fp) === alert)) {
      for (const g of known) g.insert(fp, alert, true, now);
      return;
    }
    const routes = this.deps.config.route.matchCached(alert.labels);
    if (routes.length === 1) {
      const g = this.group(fp, alert.labels, routes[0] as Route);
      g.insert(fp, alert, false, now);
      alert.groups = g;
      return;
    }
    const groups: AggrGroup[] = [];
    for (const route of routes) {
      const g = this.group(fp, alert.labels, route);
      g.insert(fp, alert, false, now);
      groups.push(g);
    }
    alert.groups = groups;
  }

  /** group finds (or makes) the aggregation group of an alert on a route, walking the route's levels with the alert's values (no key string per alert). */
  private group(fp: string, ls: LabelSet, route: Route): AggrGroup {
    let level = this.groups.get(route);
    if (level === undefined) {
      level = new Map();
      this.groups.set(route, level);
    }
    const by = route.opts.groupBy;
    const all = route.opts.groupByAll;
    const last = all ? 0 : by.length - 1;
    for (let i = 0; i < last; i++) {
      const v = ls[by[i] as string] ?? '';
      let next = level.get(v) as GroupLevel | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(v, next);
      }
      level = next;
    }
    const key = all ? fp : last < 0 ? '' : (ls[by[last] as string] ?? '');
    let g = level.get(key) as AggrGroup | undefined;
    if (g === undefined || g.removed) {
      g = new AggrGroup(route, groupLabels(ls, route), this, all ? [fp] : by.length === 0 ? [''] : by.map((n) => ls[n] ?? ''));
      level.set(key, g);
    }
    return g;
  }

  /** eachGroup calls fn with every live group. */
  private eachGroup(fn: (g: AggrGroup) => void): void {
    const visit = (level: GroupLevel): void => {
      for (const x of level.values()) {
        if (x instanceof AggrGroup) fn(x);
        else visit(x);
      }
    };
    for (const level of this.groups.values()) visit(level);
  }

  /** holds says whether an aggregation group still holds the alert. */
  holds(fp: string, alert: Alert): boolean {
    const known = alert.groups as AggrGroup | AggrGroup[] | undefined;
    if (known instanceof AggrGroup) return !known.removed && known.alerts.get(fp) === alert;
    if (known !== undefined) return known.some((g) => !g.removed && g.alerts.get(fp) === alert);
    let found = false;
    this.eachGroup((g) => {
      if (g.alerts.has(fp)) found = true;
    });
    return found;
  }

  /** removeGroup forgets an emptied group. */
  removeGroup(g: AggrGroup): void {
    g.removed = true;
    // Down the group's path, then its entry and the levels it leaves empty are deleted.
    const levels: GroupLevel[] = [];
    let level = this.groups.get(g.route);
    for (let i = 0; level !== undefined && i < g.path.length - 1; i++) {
      levels.push(level);
      level = level.get(g.path[i] as string) as GroupLevel | undefined;
    }
    const key = g.path[g.path.length - 1] as string;
    if (level === undefined || level.get(key) !== g) return;
    level.delete(key);
    for (let i = levels.length - 1; i >= 0 && level.size === 0; i--) {
      (levels[i] as GroupLevel).delete(g.path[i] as string);
      level = levels[i] as GroupLevel;
    }
  }

  /** allGroups lists the live groups. */
  allGroups(): AggrGroup[] {
    const out: AggrGroup[] = [];
    this.eachGroup((g) => out.push(g));
    return out;
  }

  /** stop cancels every timer and in-flight delivery. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.eachGroup((g) => g.stop());
    this.groups.clear();
  }

  /** mutedByTimeIntervals names the time intervals muting a route now (mute ones that contain now, active ones that do not). */
  mutedByTimeIntervals(route: Route, now: number): string[] {
    const out: string[] = [];
    for (const name of route.opts.muteTimeIntervals) {
      const tis = this.deps.config.timeIntervals.get(name);
      if (tis !== undefined && anyContains(tis, now)) out.push(name);
    }
    if (route.opts.activeTimeIntervals.length > 0) {
      const active = route.opts.activeTimeIntervals.some((name) => anyContains(this.deps.config.timeIntervals.get(name) ?? [], now));
      if (!active) out.push(...route.opts.activeTimeIntervals);
    }
    return out;
  }

  /** flush runs the notification pipeline for a group. */
  async flush(g: AggrGroup): Promise<void> {
    const d = this.deps;
    const now = Date.now();
    const snapshot = [...g.alerts.entries()];
    // Stored alerts are updated in place: the versions tell which changed during the flush.
    const versions = snapshot.map(([, a]) => a.version ?? 0);
    let ok = true;
    // Time intervals mute the whole group; resolved alerts stay for a later flush.
    if (this.mutedByTimeIntervals(g.route, now).length === 0) {
      const kept = snapshot.filter(([, a]) => {
        if (d.inhibitor.inhibitedBy(a.labels, now) !== undefined) return false;
        return d.silences.mutedBy(a.labels, now).length === 0;
      });
      // As 0.35, route labels are rendered against every alert of the flush, before silences and inhibition drop any.
      if (kept.length > 0) ok = await this.notifyGroup(g, kept, now, this.renderRouteLabels(g, snapshot.map(([, a]) => a), now));
    } else {
      ok = false;
    }
    if (!ok) return;
    // Remove resolved alerts that were not updated during the flush.
    snapshot.forEach(([fp, a], i) => {
      if (a.endsAt !== 0 && a.endsAt <= now && g.alerts.get(fp) === a && (a.version ?? 0) === versions[i]) g.alerts.delete(fp);
    });
  }

  /** routeLabels renders a group's route labels against its alerts now (API v2's alert groups). */
  routeLabels(g: AggrGroup, now = Date.now()): LabelSet {
    return this.renderRouteLabels(g, [...g.alerts.values()], now);
  }

  /**
   * renderRouteLabels renders the route's labels (templates) against alerts,
   * as aggrGroup.renderRouteLabels: the data's reason is "unknown", a label
   * that fails to render is logged and left out; no labels, nothing to do.
   */
  private renderRouteLabels(g: AggrGroup, alerts: Alert[], now: number): LabelSet {
    const raw = g.route.opts.labels;
    const render = this.deps.expand.routeLabels;
    if (render === undefined || alerts.length === 0 || Object.keys(raw).length === 0) return {};
    const data = buildTemplateData(g.route.opts.receiver, g.key, g.labels, sortAlerts([...alerts]), this.deps.externalURL, now);
    data.RouteLabels = KV.from(raw);
    data.routeLabelsRendered = false;
    return render.call(this.deps.expand, data, (label, err) => this.deps.logger.error('failed to render route label', { label, value: raw[label], err }));
  }

  private async notifyGroup(g: AggrGroup, alerts: Array<[string, Alert]>, now: number, routeLabels: LabelSet): Promise<boolean> {
    const d = this.deps;
    const receiver = g.route.opts.receiver;
    const integrations = d.integrations.get(receiver) ?? [];
    const firing = new Set<string>();
    const resolved = new Set<string>();
    // A copy of each alert as it stands now: retries send what this flush decided on, whatever arrives meanwhile.
    alerts = alerts.map(([fp, a]) => [fp, { ...a, groups: undefined }]);
    for (const [fp, a] of alerts) (a.endsAt !== 0 && a.endsAt <= now ? resolved : firing).add(fp);
    const delay = d.notifyDelayMs?.() ?? 0;
    if (delay > 0) {
      try {
        await sleep(delay, undefined, { signal: this.abort.signal });
      } catch {
        return false;
      }
    }
    const results = await Promise.all(
      integrations.map(async (integ) => {
        const nflogKey = `${receiver}/${integ.name}/${integ.index}`;
        const entry = d.nflog.get(g.key, nflogKey);
        const reason = notifyReason(entry, firing, resolved, integ.sendResolved, g.route.opts.repeatInterval, now);
        if (reason === 'none') return true;
        const toSend = integ.sendResolved ? alerts : alerts.filter(([fp]) => firing.has(fp));
        let store: Record<string, string> | undefined = entry?.store;
        if (toSend.length > 0) {
          const ctx: NotifyContext = {
            tenant: d.tenant,
            receiver,
            groupKey: g.key,
            groupLabels: g.labels,
            externalURL: d.externalURL,
            now,
            signal: this.abort.signal,
            expand: d.expand,
            logger: d.logger,
            reason,
            // As the dedup stage: a first notification starts an empty store, later ones carry the entry's.
            nflogStore: reason === 'first notification' ? {} : { ...(entry?.store ?? {}) },
            routeLabels,
          };
          try {
            await notifyWithRetry(integ, ctx, sortAlerts(toSend.map(([, a]) => a)), { deadline: now + Math.max(g.route.opts.groupInterval, MIN_NOTIFY_TIMEOUT) });
            store = ctx.nflogStore;
            d.metrics.notification(integ.name, true);
          } catch (err) {
            d.metrics.notification(integ.name, false);
            if (!this.stopped) d.logger.error('Notify for alerts failed', { receiver, integration: `${integ.name}[${integ.index}]`, aggrGroup: g.key, err });
            return false;
          }
        }
        if (this.stopped) return false;
        // As Alertmanager, the entry's time is when the notification went out.
        d.nflog.log(g.key, nflogKey, [...firing], [...resolved], Date.now(), store);
        return true;
      }),
    );
    return results.every((r) => r);
  }
}

/**
 * GroupLevel holds a route's aggregation groups without rendering a key per
 * alert (the group key proper, `route:{labels}`, is made once per group; the
 * groups are kept per route object, so sibling routes with the same matchers
 * stay apart as in Alertmanager): one level of maps per group_by name, keyed
 * by the alert's value (a missing label reads as empty, a value the API never
 * keeps), the groups at the last level; with `group_by: ['...']` one level
 * keyed by the alert's fingerprint (its group labels are the alert's), with an
 * empty group_by the route's one group under ''.
 */
type GroupLevel = Map<string, GroupLevel | AggrGroup>;

/** groupLabels picks the labels an alert is grouped by on a route. */
export function groupLabels(ls: LabelSet, route: Route): LabelSet {
  if (route.opts.groupByAll) return { ...ls };
  const out: LabelSet = {};
  for (const n of route.opts.groupBy) if (ls[n] !== undefined) out[n] = ls[n];
  return out;
}

/** sortAlerts orders alerts as types.AlertSlice: by job, then instance, then the full label set. */
export function sortAlerts(alerts: Alert[]): Alert[] {
  return alerts.sort((a, b) => {
    for (const k of ['job', 'instance']) {
      const av = a.labels[k];
      const bv = b.labels[k];
      if (av === undefined && bv === undefined) continue;
      if (av === undefined) return 1;
      if (bv === undefined) return -1;
      if (av !== bv) return av < bv ? -1 : 1;
    }
    const an = Object.keys(a.labels).length;
    const bn = Object.keys(b.labels).length;
    if (an !== bn) return an - bn;
    const as = labelSetString(a.labels);
    const bs = labelSetString(b.labels);
    return as < bs ? -1 : as > bs ? 1 : 0;
  });
}
