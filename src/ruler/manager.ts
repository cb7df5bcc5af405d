// manager.ts is the multi-tenant rule manager: it keeps an in-memory copy
// of every tenant's rule groups, re-read from the rule store every
// -ruler.poll-interval (and at once for a tenant whose rules changed through
// the API), and runs one RuleGroup per group. A changed group is replaced by
// a new one that takes over the alert state of its unchanged rules; a
// removed group writes stale markers for what it recorded.

import type { Logger } from '../log.js';
import { RuleGroup, type GroupOptions } from './group.js';
import type { RuleStore } from './rule-store.js';
import type { StoredGroup } from './rulespb.js';

/** ManagerOptions configure the manager. */
export interface ManagerOptions {
  store: RuleStore;
  pollIntervalMs: number;
  group: GroupOptions;
  logger: Logger;
  /**
   * evaluationEnabled tells which rule types a tenant evaluates (Mimir's per-tenant
   * ruler_recording_rules_evaluation_enabled / ruler_alerting_rules_evaluation_enabled):
   * rules of a disabled type are left out of the running groups, and groups left empty are not run.
   */
  evaluationEnabled?: (tenant: string) => { recording: boolean; alerting: boolean };
}

/** RulerManager runs every tenant's rule groups. */
export class RulerManager {
  /** tenants maps tenant -> group key (namespace \0 name) -> running group. */
  private readonly tenants = new Map<string, Map<string, { def: string; group: RuleGroup }>>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;
  /** owns says whether this ruler evaluates a group (its share of the ruler ring); undefined: every group. */
  private owns: ((user: string, namespace: string, group: string) => boolean) | undefined;

  constructor(private readonly opts: ManagerOptions) {}

  /** start loads every tenant's groups, then re-syncs every poll interval. */
  async start(): Promise<void> {
    this.started = true;
    await this.syncAll('initial');
    this.timer = setInterval(() => void this.syncAll('periodic'), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  /** syncAll re-reads every tenant's groups from the store. */
  syncAll(reason: string): Promise<void> {
    this.opts.group.metrics.syncs.inc({ reason });
    this.syncing = this.syncing.then(async () => {
      if (this.stopped) return;
      try {
        const users = new Set(await this.opts.store.listAllUsers());
        for (const u of this.tenants.keys()) if (!users.has(u)) users.add(u);
        for (const u of users) await this.syncTenantNow(u);
      } catch (err) {
        this.opts.logger.error('unable to list rules', { err: err instanceof Error ? err.message : String(err) });
      }
    });
    return this.syncing;
  }

  /**
   * shardBy makes this ruler evaluate only the groups `owns` accepts (its share of the ruler ring,
   * as Mimir's sharded rulers), from the next sync on.
   */
  shardBy(owns: (user: string, namespace: string, group: string) => boolean): void {
    this.owns = owns;
  }

  /** ownershipChanged re-syncs every tenant (once started): groups may have moved to or from here. */
  ownershipChanged(): void {
    if (this.started) void this.syncAll('ring-change');
  }

  /** syncTenant re-reads one tenant's groups (after an API change). */
  syncTenant(user: string): Promise<void> {
    this.opts.group.metrics.syncs.inc({ reason: 'api-change' });
    this.syncing = this.syncing.then(async () => {
      if (this.stopped) return;
      try {
        await this.syncTenantNow(user);
      } catch (err) {
        this.opts.logger.error('unable to sync rules', { user, err: err instanceof Error ? err.message : String(err) });
      }
    });
    return this.syncing;
  }

  private async syncTenantNow(user: string): Promise<void> {
    const loaded = await this.opts.store.loadGroups(user);
    const owns = this.owns;
    const mine = owns === undefined ? loaded : loaded.filter((g) => owns(user, g.namespace, g.name));
    this.apply(user, this.enabledRules(user, mine));
  }

  /** enabledRules drops the rules of types the tenant does not evaluate, and the groups left empty. */
  private enabledRules(user: string, loaded: StoredGroup[]): StoredGroup[] {
    const enabled = this.opts.evaluationEnabled?.(user);
    if (enabled === undefined || (enabled.recording && enabled.alerting)) return loaded;
    const out: StoredGroup[] = [];
    for (const g of loaded) {
      const rules = g.rules.filter((r) => (r.record !== '' ? enabled.recording : enabled.alerting));
      if (rules.length > 0) out.push({ ...g, rules });
    }
    return out;
  }

  /** apply makes the running groups of a tenant match the given ones. */
  apply(user: string, loaded: StoredGroup[]): void {
    const running = this.tenants.get(user) ?? new Map<string, { def: string; group: RuleGroup }>();
    const next = new Map<string, { def: string; group: RuleGroup }>();
    for (const g of loaded) {
      const key = `${g.namespace}\x00${g.name}`;
      const def = JSON.stringify({ ...g, user: undefined });
      const old = running.get(key);
      if (old !== undefined && old.def === def) {
        next.set(key, old);
        continue;
      }
      const group = new RuleGroup(user, g.namespace, g, this.opts.group, old?.group);
      if (old !== undefined) void old.group.stop(false);
      const labels = { user, rule_group: group.key };
      this.opts.group.metrics.groupRules.set(labels, g.rules.length);
      this.opts.group.metrics.groupInterval.set(labels, group.intervalMs / 1000);
      group.start();
      next.set(key, { def, group });
    }
    for (const [key, old] of running) {
      if (next.has(key)) continue;
      void old.group.stop(true);
      this.opts.group.metrics.forget(user, old.group.key);
    }
    if (next.size === 0) this.tenants.delete(user);
    else this.tenants.set(user, next);
  }

  /** groups returns a tenant's running groups ordered by namespace, then name. */
  groups(user: string): RuleGroup[] {
    const m = this.tenants.get(user);
    if (m === undefined) return [];
    return [...m.values()]
      .map((e) => e.group)
      .sort((a, b) => compareGroups(a.namespace, a.def.name, b.namespace, b.def.name));
  }

  /** tenantIds lists tenants with running groups. */
  tenantIds(): string[] {
    return [...this.tenants.keys()].sort();
  }

  /** stop ends every group (no stale markers: the series continue after a restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.syncing;
    const all: Array<Promise<void>> = [];
    for (const m of this.tenants.values()) for (const e of m.values()) all.push(e.group.stop(false));
    await Promise.all(all);
    this.tenants.clear();
  }
}

/** compareGroups orders rule groups by namespace, then name: the order the rules API lists them in. */
export function compareGroups(aNamespace: string, aName: string, bNamespace: string, bName: string): number {
  if (aNamespace !== bNamespace) return aNamespace < bNamespace ? -1 : 1;
  return aName < bName ? -1 : aName > bName ? 1 : 0;
}
