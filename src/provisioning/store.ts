// store.ts keeps each organisation's provisioned objects in the ruler's
// bucket: `grafana/<tenant>/config.json` holds the notification objects
// (contact points, policy tree, templates, mute timings) and folders, and
// `grafana/<tenant>/groups/<base64url folder>/<base64url group>.json` each
// rule group with its rules. State is read on first use and cached.
// Changes to one organisation are applied one at a time, copy on write: a
// change works on a copy whose arrays are new but whose unchanged objects
// are shared, only the objects that changed are written, and the copy
// replaces the cached state once the bucket has them, so an answer of
// success means the change survives a restart.

import { randomBytes } from 'node:crypto';
import { isNotFound, type Bucket } from '../storage/bucket/bucket.js';
import { decodeKeyPart, encodeKeyPart } from '../ruler/rule-store.js';
import { emptyOrgState, type AlertRule, type OrgState, type RuleGroup } from './model.js';

const PREFIX = 'grafana/';
const CONFIG = 'config.json';

/** shortUid makes a 14-character uid as Grafana's util.GenerateShortUID. */
export function shortUid(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** groupKey identifies a rule group within an organisation. */
export function groupKey(folderUID: string, title: string): string {
  return `${folderUID}\u0000${title}`;
}

/** rulesByGroup indexes an organisation's rules by group key, in order (one key built per group, not per rule). */
export function rulesByGroup(rules: readonly AlertRule[]): Map<string, AlertRule[]> {
  const byFolder = new Map<string, Map<string, AlertRule[]>>();
  for (const r of rules) {
    let groups = byFolder.get(r.folderUID);
    if (groups === undefined) byFolder.set(r.folderUID, (groups = new Map()));
    const list = groups.get(r.ruleGroup);
    if (list === undefined) groups.set(r.ruleGroup, [r]);
    else list.push(r);
  }
  const out = new Map<string, AlertRule[]>();
  for (const [folderUID, groups] of byFolder) for (const [title, list] of groups) out.set(groupKey(folderUID, title), list);
  return out;
}

/** changedGroups is the keys of the groups whose rules differ between two rule lists: a rule object added, removed or moved (objects are replaced, never modified). */
function changedGroups(prev: readonly AlertRule[], next: readonly AlertRule[]): Set<string> {
  const out = new Set<string>();
  const before = new Set(prev);
  const after = new Set(next);
  for (const r of next) if (!before.has(r)) out.add(groupKey(r.folderUID, r.ruleGroup));
  for (const r of prev) if (!after.has(r)) out.add(groupKey(r.folderUID, r.ruleGroup));
  // A change of order within a group (same objects) rewrites the group too.
  if (out.size === 0 && prev.length === next.length) {
    for (let i = 0; i < next.length; i++) if (prev[i] !== next[i]) out.add(groupKey(next[i]!.folderUID, next[i]!.ruleGroup));
  }
  return out;
}

/** copyForUpdate is the copy a change works on: new arrays and policy tree, shared objects otherwise. */
function copyForUpdate(s: OrgState): OrgState {
  return {
    nextRuleId: s.nextRuleId,
    folders: [...s.folders],
    groups: [...s.groups],
    rules: [...s.rules],
    contactPoints: [...s.contactPoints],
    policy: structuredClone(s.policy),
    policyProvenance: s.policyProvenance,
    templates: [...s.templates],
    muteTimings: [...s.muteTimings],
  };
}

function configPart(s: OrgState): Omit<OrgState, 'groups' | 'rules'> {
  return { nextRuleId: s.nextRuleId, folders: s.folders, contactPoints: s.contactPoints, policy: s.policy, policyProvenance: s.policyProvenance, templates: s.templates, muteTimings: s.muteTimings };
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** ProvisioningStore reads and writes organisations' states. */
export class ProvisioningStore {
  private readonly cache = new Map<string, OrgState>();
  /** queues serialise each organisation's loads and changes. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** listeners see each organisation's state after a change. */
  private readonly listeners: Array<(tenant: string, state: OrgState) => void> = [];
  /** persisted holds the organisations whose config object exists in the bucket. */
  private readonly persisted = new Set<string>();

  constructor(private readonly bucket: Bucket) {}

  /** onChange registers fn to run after each committed change. */
  onChange(fn: (tenant: string, state: OrgState) => void): void {
    this.listeners.push(fn);
  }

  /** tenants lists every organisation with a stored state. */
  async tenants(): Promise<string[]> {
    const keys = await this.bucket.list(PREFIX, { recursive: true });
    const out = new Set<string>();
    for (const k of keys) {
      const rest = k.slice(PREFIX.length);
      const slash = rest.indexOf('/');
      if (slash > 0 && (rest.endsWith('/' + CONFIG) || rest.includes('/groups/'))) out.add(rest.slice(0, slash));
    }
    return [...out].sort();
  }

  /** get returns an organisation's state (a new organisation's defaults when it has none); callers must not modify it. */
  async get(tenant: string): Promise<OrgState> {
    const cached = this.cache.get(tenant);
    if (cached !== undefined) return cached;
    return this.serial(tenant, () => this.load(tenant));
  }

  private async load(tenant: string): Promise<OrgState> {
    const cached = this.cache.get(tenant);
    if (cached !== undefined) return cached;
    let state: OrgState;
    try {
      const cfg = JSON.parse((await this.bucket.get(`${PREFIX}${tenant}/${CONFIG}`)).toString('utf8')) as Omit<OrgState, 'groups' | 'rules'>;
      state = { ...cfg, groups: [], rules: [] };
      this.persisted.add(tenant);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      state = emptyOrgState(shortUid());
    }
    const groupsPrefix = `${PREFIX}${tenant}/groups/`;
    const keys = (await this.bucket.list(groupsPrefix, { recursive: true })).filter((k) => k.endsWith('.json')).sort();
    for (const k of keys) {
      const [f, g] = k.slice(groupsPrefix.length, -'.json'.length).split('/');
      if (f === undefined || g === undefined || decodeKeyPart(f) === undefined || decodeKeyPart(g) === undefined) continue;
      const stored = JSON.parse((await this.bucket.get(k)).toString('utf8')) as { group: RuleGroup; rules: AlertRule[] };
      state.groups.push(stored.group);
      state.rules.push(...stored.rules);
    }
    state.rules.sort((a, b) => a.id - b.id);
    this.cache.set(tenant, state);
    return state;
  }

  /**
   * update applies fn to a copy of the organisation's state and stores what changed; fn's result
   * is returned. When fn throws, nothing changes. fn must replace objects it changes, never modify
   * them in place (they are shared with the current state).
   */
  update<T>(tenant: string, fn: (state: OrgState) => T): Promise<T> {
    return this.serial(tenant, async () => {
      const current = await this.load(tenant);
      const next = copyForUpdate(current);
      const result = fn(next);
      await this.persist(tenant, current, next);
      this.cache.set(tenant, next);
      for (const l of this.listeners) l(tenant, next);
      return result;
    });
  }

  private async persist(tenant: string, prev: OrgState, next: OrgState): Promise<void> {
    const a = configPart(prev);
    const b = configPart(next);
    const configChanged =
      !this.persisted.has(tenant) ||
      a.nextRuleId !== b.nextRuleId ||
      a.policyProvenance !== b.policyProvenance ||
      JSON.stringify(a.policy) !== JSON.stringify(b.policy) ||
      !sameList(a.folders, b.folders) ||
      !sameList(a.contactPoints, b.contactPoints) ||
      !sameList(a.templates, b.templates) ||
      !sameList(a.muteTimings, b.muteTimings);
    const changed = prev.rules === next.rules ? new Set<string>() : changedGroups(prev.rules, next.rules);
    const prevGroups = new Set(prev.groups);
    for (const g of next.groups) {
      const k = groupKey(g.folderUID, g.title);
      if (prevGroups.has(g) && !changed.has(k)) continue;
      const rules = next.rules.filter((r) => r.folderUID === g.folderUID && r.ruleGroup === g.title);
      await this.bucket.put(this.groupObject(tenant, g.folderUID, g.title), Buffer.from(JSON.stringify({ group: g, rules })));
    }
    const kept = new Set(next.groups.map((g) => groupKey(g.folderUID, g.title)));
    for (const g of prev.groups) {
      if (kept.has(groupKey(g.folderUID, g.title))) continue;
      try {
        await this.bucket.delete(this.groupObject(tenant, g.folderUID, g.title));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (configChanged) {
      await this.bucket.put(`${PREFIX}${tenant}/${CONFIG}`, Buffer.from(JSON.stringify(b)));
      this.persisted.add(tenant);
    }
  }

  private groupObject(tenant: string, folderUID: string, title: string): string {
    return `${PREFIX}${tenant}/groups/${encodeKeyPart(folderUID)}/${encodeKeyPart(title)}.json`;
  }

  private serial<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(tenant) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.queues.set(tenant, settled);
    void settled.then(() => {
      if (this.queues.get(tenant) === settled) this.queues.delete(tenant);
    });
    return run;
  }
}
