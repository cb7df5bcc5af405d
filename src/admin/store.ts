// store.ts keeps the admin resources (clusters, instances, access policies,
// tokens) in memory and in object storage, one JSON object per resource
// under `<prefix>/<kind>/<name>.json` with its version. The bucket is the
// source of truth: a restart (or another process, on its next sync) reads
// everything back. Mutations are serialised; each writes the bucket before
// memory, so an acknowledged change is never lost.

import type { Bucket } from '../storage/bucket/bucket.js';
import { isNotFound } from '../storage/bucket/bucket.js';
import type { TokenHash } from '../auth/token.js';
import type { AccessPolicy, Cluster, Instance, Token } from './model.js';
import type { Logger } from '../log.js';

/** KindItems maps each resource kind (its path segment) to its model. */
export interface KindItems {
  clusters: Cluster;
  instances: Instance;
  accesspolicies: AccessPolicy;
  tokens: Token;
}

/** Kind is a resource kind. */
export type Kind = keyof KindItems;

/** KINDS lists every kind. */
export const KINDS: readonly Kind[] = ['clusters', 'instances', 'accesspolicies', 'tokens'];

/** Stored is one resource with its version (and, for tokens, the secret's salted hash). */
export interface Stored<K extends Kind> {
  version: number;
  item: KindItems[K];
  secret?: TokenHash;
}

type Maps = { [K in Kind]: Map<string, Stored<K>> };

function emptyMaps(): Maps {
  return { clusters: new Map(), instances: new Map(), accesspolicies: new Map(), tokens: new Map() };
}

/** AdminStore is the admin state of the cluster. */
export class AdminStore {
  private maps: Maps = emptyMaps();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly bucket: Bucket,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  private key(kind: Kind, name: string): string {
    return `${this.prefix}/${kind}/${name}.json`;
  }

  /** onChange registers fn, called after every change of the state (mutation or sync). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** load reads every resource from the bucket, replacing the state in memory. */
  async load(): Promise<void> {
    const maps = emptyMaps();
    for (const kind of KINDS) {
      const keys = await this.bucket.list(`${this.prefix}/${kind}/`);
      for (const key of keys) {
        if (!key.endsWith('.json')) continue;
        let body: Buffer;
        try {
          body = await this.bucket.get(key);
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
        const stored = JSON.parse(body.toString('utf8')) as Stored<typeof kind>;
        (maps[kind] as Map<string, Stored<Kind>>).set(stored.item.name, stored);
      }
    }
    this.maps = maps;
    this.changed();
  }

  /** startSync re-reads the bucket every periodMs (changes made by other processes); 0 never. */
  startSync(periodMs: number): void {
    if (!Number.isFinite(periodMs) || periodMs <= 0) return;
    let syncing = false;
    this.timer = setInterval(() => {
      // One sync at a time: a slow bucket skips beats rather than queueing them.
      if (syncing) return;
      syncing = true;
      const load = (): Promise<void> => this.load();
      const done = this.chain.then(load, load).catch((err: unknown) => this.logger.warn('admin state sync failed', { err: (err as Error).message }));
      this.chain = done;
      void done.finally(() => {
        syncing = false;
      });
    }, periodMs);
    this.timer.unref();
  }

  /** stop ends the sync. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
  }

  /** list returns a kind's resources sorted by name. */
  list<K extends Kind>(kind: K): Array<Stored<K>> {
    return [...(this.maps[kind] as Map<string, Stored<K>>).values()].sort((a, b) => (a.item.name < b.item.name ? -1 : a.item.name > b.item.name ? 1 : 0));
  }

  /** get returns one resource, undefined when unknown. */
  get<K extends Kind>(kind: K, name: string): Stored<K> | undefined {
    return (this.maps[kind] as Map<string, Stored<K>>).get(name);
  }

  /**
   * mutate runs fn alone (no other mutation interleaves): fn reads the state,
   * decides, and returns the writes to make; they go to the bucket, then to memory.
   */
  mutate<T>(fn: () => { result: T; put?: Array<{ kind: Kind; stored: Stored<Kind> }>; del?: Array<{ kind: Kind; name: string }> }): Promise<T> {
    const run = async (): Promise<T> => {
      const { result, put = [], del = [] } = fn();
      for (const p of put) await this.bucket.put(this.key(p.kind, p.stored.item.name), Buffer.from(JSON.stringify(p.stored)));
      for (const d of del) await this.bucket.delete(this.key(d.kind, d.name));
      for (const p of put) (this.maps[p.kind] as Map<string, Stored<Kind>>).set(p.stored.item.name, p.stored);
      for (const d of del) this.maps[d.kind].delete(d.name);
      if (put.length > 0 || del.length > 0) this.changed();
      return result;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
