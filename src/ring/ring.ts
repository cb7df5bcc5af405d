// ring.ts is a client's view of one hash ring: it follows the ring in the KV
// store (watch plus a periodic re-read) and picks the replica set of a token
// as dskit's ring.Get does (replication factor, zones, unhealthy instances,
// extension past JOINING/LEAVING instances).

import type { Logger } from '../log.js';
import { compareGoStrings } from '../compat/gostrings.js';
import { GoRand } from './go-rand.js';
import type { KvClient } from './kv.js';
import { decodeDesc, emptyDesc, encodeDesc, isHealthy, type InstanceDesc, type Operation, type RingDesc } from './model.js';
import { shuffleShardSeed } from './shard.js';

/** RingOptions are what replica selection needs. */
export interface RingOptions {
  key: string;
  replicationFactor: number;
  zoneAwarenessEnabled: boolean;
  heartbeatTimeoutMs: number;
  /** resyncMs re-reads the ring this often besides the watch (default 5 s). */
  resyncMs?: number;
}

/** ReplicaInstance is an instance of a replica set, with its id. */
export interface ReplicaInstance extends InstanceDesc {
  id: string;
}

/** ReplicationSet is the instances an operation goes to and how many of them may fail. */
export interface ReplicationSet {
  instances: ReplicaInstance[];
  maxErrors: number;
  maxUnavailableZones: number;
  zoneAwarenessEnabled: boolean;
}

/** CACHE_MS is how long a computed replica set is reused. */
const CACHE_MS = 1_000;

/** RingError is dskit's ring error (its text is what Mimir answers). */
export class RingError extends Error {}

/** ERR_EMPTY_RING is dskit's ErrEmptyRing. */
export const ERR_EMPTY_RING = 'empty ring';
/** ERR_TOO_MANY_UNHEALTHY is dskit's ErrTooManyUnhealthyInstances. */
export const ERR_TOO_MANY_UNHEALTHY = 'too many unhealthy instances in the ring';

/** Ring follows one ring and answers replica-set questions. */
export class Ring {
  private desc: RingDesc = emptyDesc();
  private tokens: Uint32Array = new Uint32Array(0);
  private tokenOwner: string[] = [];
  private zones: string[] = [];
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(d: RingDesc) => void>();
  /** cache holds replica sets by operation and ring position, for CACHE_MS (health moves with time). */
  private cache = new Map<Operation, Map<number, ReplicationSet>>();
  private cacheAt = 0;
  /** shards holds the shuffle shards computed on the current view, by identifier and size. */
  private shards = new Map<string, Ring>();

  constructor(
    readonly kv: KvClient,
    readonly opts: RingOptions,
    private readonly log: Logger,
  ) {}

  /** start reads the ring once and follows it. */
  async start(): Promise<void> {
    await this.refresh();
    this.kv.watch(this.opts.key, (v) => this.update(decodeDesc(v)), this.controller.signal);
    this.timer = setInterval(() => void this.refresh(), this.opts.resyncMs ?? 5_000);
    this.timer.unref();
  }

  /** stop ends the watch. */
  stop(): void {
    this.controller.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** refresh re-reads the ring from the store (errors keep the last view). */
  async refresh(): Promise<void> {
    try {
      this.update(decodeDesc(await this.kv.get(this.opts.key)));
    } catch (err) {
      this.log.warn('reading the ring failed', { key: this.opts.key, err });
    }
  }

  /** onChange calls fn with each new ring. */
  onChange(fn: (d: RingDesc) => void): void {
    this.listeners.add(fn);
  }

  /**
   * onTopologyChange calls fn when the ring's members, their states or their token counts change
   * (not on heartbeats): what decides which instance owns what.
   */
  onTopologyChange(fn: () => void): void {
    let last = '';
    this.onChange((d) => {
      const now = Object.entries(d.ingesters)
        .map(([id, i]) => `${id}:${i.state}:${i.tokens.length}`)
        .sort()
        .join(',');
      if (now === last) return;
      last = now;
      fn();
    });
  }

  /**
   * ownerOf is the instance owning key alone (replication factor 1, as the compactor's ring): the
   * first instance clockwise from it, if it is healthy for op; undefined otherwise (nobody owns
   * the key while its owner is unhealthy).
   */
  ownerOf(key: number, op: Operation, nowMs = Date.now()): string | undefined {
    if (this.tokens.length === 0) return undefined;
    const id = this.tokenOwner[searchToken(this.tokens, key >>> 0)]!;
    return isHealthy(this.desc.ingesters[id]!, op, this.opts.heartbeatTimeoutMs, nowMs) ? id : undefined;
  }

  /** update installs a new view of the ring. */
  update(d: RingDesc): void {
    this.desc = d;
    const all: Array<[number, string]> = [];
    for (const [id, i] of Object.entries(d.ingesters)) for (const t of i.tokens) all.push([t, id]);
    all.sort((a, b) => a[0] - b[0]);
    this.tokens = Uint32Array.from(all.map((x) => x[0]));
    this.tokenOwner = all.map((x) => x[1]);
    this.zones = [...new Set(Object.values(d.ingesters).map((i) => i.zone))].sort(compareGoStrings);
    this.cache = new Map();
    this.shards = new Map();
    for (const fn of this.listeners) fn(d);
  }

  /** getDesc is the current view. */
  getDesc(): RingDesc {
    return this.desc;
  }

  /** casRing updates the ring in the store (the ring pages' Forget). */
  async casRing(f: (d: RingDesc) => RingDesc | undefined): Promise<void> {
    await this.kv.cas(this.opts.key, (cur) => {
      const next = f(decodeDesc(cur));
      return next === undefined ? undefined : encodeDesc(next);
    });
    await this.refresh();
  }

  /**
   * shuffleShard is the sub-ring of identifier (a tenant) with size instances, as dskit's
   * ShuffleShard, the same instances Mimir picks on the same ring: per zone (ceil(size / zones)
   * instances each, with zone awareness; every instance of a zone that has no more), Go's
   * math/rand seeded with dskit's ShuffleShardSeed of the identifier (and zone) draws tokens
   * (go-rand.ts) and each draw takes the first instance after it not yet taken. Read-only
   * instances are never part of it; size <= 0 or at least the ring's size is the whole ring
   * (without read-only instances). The sub-ring is a view: it does not follow the store, and is
   * recomputed when this ring changes.
   */
  shuffleShard(identifier: string, size: number): Ring {
    const key = `${size}\u0000${identifier}`;
    const hit = this.shards.get(key);
    if (hit !== undefined) return hit;
    const sub = this.drawShard(identifier, size, 0, Date.now());
    this.shards.set(key, sub);
    return sub;
  }

  /**
   * shuffleShardWithLookback is the read side of shuffleShard (as dskit's): the instances of the
   * identifier's shard now, plus those that may hold its data written within the lookback period.
   * While drawing, an instance registered within the lookback, or read-only, or whose read-only
   * state changed within it, is taken without counting towards the size (the next draw finds the
   * instance that took its share). Read-only instances that switched before the lookback are
   * left out. size <= 0: every instance but those. Not cached; never used for writes.
   */
  shuffleShardWithLookback(identifier: string, size: number, lookbackMs: number, nowMs = Date.now()): Ring {
    return this.drawShard(identifier, size, lookbackMs, nowMs);
  }

  /** drawShard is shuffleShard (lookbackMs 0: read-only instances never taken) and its lookback variant. */
  private drawShard(identifier: string, size: number, lookbackMs: number, nowMs: number): Ring {
    const until = Math.floor((nowMs - lookbackMs) / 1000);
    const include = (i: InstanceDesc): boolean => !i.read_only || (lookbackMs > 0 && !(i.read_only_updated_timestamp > 0 && i.read_only_updated_timestamp < until));
    const all = Object.entries(this.desc.ingesters);
    let picked: Array<[string, InstanceDesc]>;
    if (size <= 0) {
      picked = all.filter(([, i]) => include(i));
      if (picked.length === all.length) return this;
    } else {
      const zoneAware = this.opts.zoneAwarenessEnabled;
      const zones = zoneAware ? [...new Set(all.map(([, i]) => i.zone))].sort(compareGoStrings) : [''];
      const perZone = zoneAware ? Math.ceil(size / zones.length) : size;
      const chosen = new Set<string>();
      for (const zone of zones) {
        const inZone = all.filter(([, i]) => !zoneAware || i.zone === zone);
        if (zoneAware && perZone >= inZone.length) {
          // The whole zone (its instances without tokens too), as dskit: no draws.
          for (const [id, i] of inZone) if (include(i)) chosen.add(id);
          continue;
        }
        const tokens: Array<[number, string]> = [];
        for (const [id, i] of inZone) for (const t of i.tokens) tokens.push([t, id]);
        tokens.sort((a, b) => a[0] - b[0]);
        const sorted = Uint32Array.from(tokens.map((x) => x[0]));
        const random = new GoRand(shuffleShardSeed(identifier, zoneAware ? zone : ''));
        for (let n = 0; n < perZone; n++) {
          const start = searchToken(sorted, random.uint32());
          let found = false;
          for (let k = 0; k < tokens.length; k++) {
            const id = tokens[(start + k) % tokens.length]![1];
            if (chosen.has(id)) continue;
            const inst = this.desc.ingesters[id]!;
            if (!include(inst)) continue;
            chosen.add(id);
            if (lookbackMs > 0 && (inst.registered_timestamp >= until || inst.read_only || inst.read_only_updated_timestamp >= until)) continue;
            found = true;
            break;
          }
          if (!found) break;
        }
      }
      picked = all.filter(([id]) => chosen.has(id));
      if (picked.length === all.length) return this;
    }
    const sub = new Ring(this.kv, this.opts, this.log);
    sub.update({ ingesters: Object.fromEntries(picked) });
    return sub;
  }

  /** instanceCount is the number of members. */
  instanceCount(): number {
    return Object.keys(this.desc.ingesters).length;
  }

  /** healthyInstances lists the members healthy for op. */
  healthyInstances(op: Operation, nowMs = Date.now()): ReplicaInstance[] {
    return Object.entries(this.desc.ingesters)
      .filter(([, i]) => isHealthy(i, op, this.opts.heartbeatTimeoutMs, nowMs))
      .map(([id, i]) => ({ id, ...i }));
  }

  /**
   * get is the replica set of key for op: walking the ring clockwise from key,
   * the first replicationFactor distinct instances (one per zone with zone
   * awareness), extended past instances in states op extends on; unhealthy
   * instances are dropped and at least a quorum of the set must remain.
   */
  get(key: number, op: Operation, nowMs = Date.now()): ReplicationSet {
    if (this.tokens.length === 0) throw new RingError(ERR_EMPTY_RING);
    // The set depends only on where the key falls in the ring: cached per position for a moment.
    if (nowMs - this.cacheAt > CACHE_MS || nowMs < this.cacheAt) {
      this.cache = new Map();
      this.cacheAt = nowMs;
    }
    const pos = searchToken(this.tokens, key >>> 0);
    let byPos = this.cache.get(op);
    const hit = byPos?.get(pos);
    if (hit !== undefined) return hit;
    const set = this.compute(pos, op, nowMs);
    if (byPos === undefined) {
      byPos = new Map();
      this.cache.set(op, byPos);
    }
    byPos.set(pos, set);
    return set;
  }

  /**
   * replicasOf is the replica set of key for op before health is considered: an instance that
   * misses heartbeats keeps its place (its share is not moved until it leaves or is forgotten).
   * Store-gateways decide which blocks they own with it.
   */
  replicasOf(key: number, op: Operation): ReplicaInstance[] {
    if (this.tokens.length === 0) return [];
    return this.pick(searchToken(this.tokens, key >>> 0), op);
  }

  /** compute is get without the cache, from ring position pos. */
  private compute(pos: number, op: Operation, nowMs: number): ReplicationSet {
    const rf = this.opts.replicationFactor;
    const zoneAware = this.opts.zoneAwarenessEnabled;
    const picked = this.pick(pos, op);
    return this.healthyQuorum(picked, op, nowMs, rf, zoneAware);
  }

  /** pick walks the ring from position pos and takes the replica set of op (extended on op's states, one per zone with zones). */
  private pick(pos: number, op: Operation): ReplicaInstance[] {
    const rf = this.opts.replicationFactor;
    const zoneAware = this.opts.zoneAwarenessEnabled;
    let size = rf;
    const picked: ReplicaInstance[] = [];
    const seen = new Set<string>();
    const maxInstances = this.instanceCount();
    // Zone awareness: one instance per zone (the replication factor is the number of zones), as dskit.
    const total = new Map<string, number>();
    const found = new Map<string, number>();
    const examined = new Map<string, number>();
    if (zoneAware) for (const i of Object.values(this.desc.ingesters)) total.set(i.zone, (total.get(i.zone) ?? 0) + 1);
    const perZone = 1;
    const canStop = (): boolean => [...total].every(([z, n]) => (found.get(z) ?? 0) >= perZone || (examined.get(z) ?? 0) >= n);
    let start = pos;
    for (let n = 0; seen.size < Math.min(maxInstances, size) && n < this.tokens.length; n++, start++) {
      if (zoneAware && canStop()) break;
      const idx = start % this.tokens.length;
      const id = this.tokenOwner[idx]!;
      if (seen.has(id)) continue;
      const inst = this.desc.ingesters[id]!;
      const zoned = zoneAware && inst.zone !== '';
      if (zoned) {
        if ((found.get(inst.zone) ?? 0) >= perZone) continue;
        examined.set(inst.zone, (examined.get(inst.zone) ?? 0) + 1);
      }
      seen.add(id);
      if (op.extend(inst.state)) size++;
      else if (zoned) found.set(inst.zone, (found.get(inst.zone) ?? 0) + 1);
      picked.push({ id, ...inst });
    }
    return picked;
  }

  /** healthyQuorum drops the unhealthy instances of a picked set; a quorum of the (possibly extended) set must be left. */
  private healthyQuorum(picked: ReplicaInstance[], op: Operation, nowMs: number, rf: number, zoneAware: boolean): ReplicationSet {
    const factor = Math.max(rf, picked.length);
    const minSuccess = Math.floor(factor / 2) + 1;
    const healthy: ReplicaInstance[] = [];
    const unhealthy: string[] = [];
    for (const i of picked) {
      if (isHealthy(i, op, this.opts.heartbeatTimeoutMs, nowMs)) healthy.push(i);
      else unhealthy.push(i.addr);
    }
    if (healthy.length < minSuccess) {
      const tail = unhealthy.length > 0 ? ` - unhealthy instances: ${unhealthy.join(',')}` : '';
      throw new RingError(
        zoneAware
          ? `at least ${minSuccess} live replicas required across different availability zones, could only find ${healthy.length}${tail}`
          : `at least ${minSuccess} live replicas required, could only find ${healthy.length}${tail}`,
      );
    }
    return { instances: healthy, maxErrors: healthy.length - minSuccess, maxUnavailableZones: 0, zoneAwarenessEnabled: zoneAware };
  }

  /**
   * getReplicationSetForOperation is every healthy instance, with how many may
   * fail (as dskit's): with zones, whole zones are left out once one of their
   * instances is unhealthy.
   */
  getReplicationSetForOperation(op: Operation, nowMs = Date.now()): ReplicationSet {
    if (this.tokens.length === 0 && this.instanceCount() === 0) throw new RingError(ERR_EMPTY_RING);
    const rf = this.opts.replicationFactor;
    let healthy: ReplicaInstance[] = [];
    const zoneFailures = new Set<string>();
    for (const [id, i] of Object.entries(this.desc.ingesters)) {
      if (isHealthy(i, op, this.opts.heartbeatTimeoutMs, nowMs)) healthy.push({ id, ...i });
      else zoneFailures.add(i.zone);
    }
    if (this.opts.zoneAwarenessEnabled) {
      const replicatedZones = Math.min(this.zones.length, rf);
      let maxUnavailableZones = Math.floor(replicatedZones / 2);
      if (zoneFailures.size > maxUnavailableZones) throw new RingError(ERR_TOO_MANY_UNHEALTHY);
      if (zoneFailures.size > 0) healthy = healthy.filter((i) => !zoneFailures.has(i.zone));
      maxUnavailableZones -= zoneFailures.size;
      return { instances: healthy, maxErrors: 0, maxUnavailableZones, zoneAwarenessEnabled: true };
    }
    const required = Math.max(this.instanceCount(), rf) - Math.floor(rf / 2);
    if (healthy.length < required) throw new RingError(ERR_TOO_MANY_UNHEALTHY);
    return { instances: healthy, maxErrors: healthy.length - required, maxUnavailableZones: 0, zoneAwarenessEnabled: false };
  }
}

/** searchToken is the index of the first token > key (wrapping to 0), as dskit's searchToken. */
export function searchToken(tokens: Uint32Array, key: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tokens[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo >= tokens.length ? 0 : lo;
}
