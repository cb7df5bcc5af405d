// store.ts keeps each organisation's provisioned objects in the ruler's
// bucket (`grafana/<tenant>/provisioning.json`), read on first use and
// cached. Changes to one organisation are applied one at a time: a change
// works on a copy, which replaces the cached state only once the bucket has
// it, so an answer of success means the change survives a restart.

import { randomBytes } from 'node:crypto';
import { isNotFound, type Bucket } from '../storage/bucket/bucket.js';
import { emptyOrgState, type OrgState } from './model.js';

const PREFIX = 'grafana/';
const FILE = 'provisioning.json';

/** shortUid makes a 14-character uid as Grafana's util.GenerateShortUID. */
export function shortUid(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(14);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** ProvisioningStore reads and writes organisations' states. */
export class ProvisioningStore {
  private readonly cache = new Map<string, OrgState>();
  /** queues serialise each organisation's reads-for-update and writes. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** listeners see each organisation's state after a change. */
  private readonly listeners: Array<(tenant: string, state: OrgState) => void> = [];

  constructor(private readonly bucket: Bucket) {}

  /** onChange registers fn to run after each committed change. */
  onChange(fn: (tenant: string, state: OrgState) => void): void {
    this.listeners.push(fn);
  }

  /** tenants lists every organisation with a stored state. */
  async tenants(): Promise<string[]> {
    const keys = await this.bucket.list(PREFIX, { recursive: true });
    return keys.filter((k) => k.endsWith('/' + FILE)).map((k) => k.slice(PREFIX.length, -(FILE.length + 1)));
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
      state = JSON.parse((await this.bucket.get(this.key(tenant))).toString('utf8')) as OrgState;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      state = emptyOrgState(shortUid());
    }
    this.cache.set(tenant, state);
    return state;
  }

  /**
   * update applies fn to a copy of the organisation's state and stores the copy; fn's result is
   * returned. When fn throws, nothing changes.
   */
  update<T>(tenant: string, fn: (state: OrgState) => T): Promise<T> {
    return this.serial(tenant, async () => {
      const current = await this.load(tenant);
      const next = structuredClone(current);
      const result = fn(next);
      await this.bucket.put(this.key(tenant), Buffer.from(JSON.stringify(next)));
      this.cache.set(tenant, next);
      for (const l of this.listeners) l(tenant, next);
      return result;
    });
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

  private key(tenant: string): string {
    return `${PREFIX}${tenant}/${FILE}`;
  }
}
