// tenant-queues.ts is the fair per-tenant queue of Mimir's query-frontend /
// query-scheduler: one first-in first-out queue per tenant, the tenants
// served in turn (round robin), at most maxOutstandingPerTenant items of one
// tenant waiting (beyond: 429 "too many outstanding requests"), and an item
// whose signal aborts while it waits leaves the queue. With queriers known to
// it (addQuerier), a tenant with max_queriers_per_tenant = n > 0 is served
// only by its shuffle shard of n of them (querierShard, as Mimir's
// tenantQuerierSharding). It only holds and orders; who takes items out (the
// in-process slots of scheduler.ts, the querier workers of
// src/frontend/scheduler/) is the caller's.

import { ApiError } from '../errors.js';
import { GoRand } from '../ring/go-rand.js';
import { shuffleShardSeed } from '../ring/shard.js';

/** TOO_MANY_OUTSTANDING is Mimir's text when a tenant's queue is full. */
export const TOO_MANY_OUTSTANDING = 'too many outstanding requests';

/** Entry is one waiting item with its abort wiring. */
interface Entry<T> {
  item: T;
  signal: AbortSignal;
  onAbort: () => void;
  /** enqueuedAt is when the item joined (Date.now()), for the queue-duration metric. */
  enqueuedAt: number;
}

/** Dequeued is an item taken out, with its tenant and how long it waited (ms). */
export interface Dequeued<T> {
  tenant: string;
  item: T;
  waitedMs: number;
}

/**
 * querierShard is the set of queriers that serve a tenant's queries: undefined (all of them) when
 * maxQueriers is 0 or at least their number; else maxQueriers of the sorted querier IDs drawn by
 * Go's math/rand seeded with dskit's ShuffleShardSeed(tenant, ""), each draw moved out of the way
 * (Mimir's shuffleTenantQueriers), so every frontend and scheduler picks the same ones.
 */
export function querierShard(tenant: string, sortedQueriers: readonly string[], maxQueriers: number): Set<string> | undefined {
  if (maxQueriers <= 0 || sortedQueriers.length <= maxQueriers) return undefined;
  const random = new GoRand(shuffleShardSeed(tenant, ''));
  const scratch = [...sortedQueriers];
  const out = new Set<string>();
  for (let last = scratch.length - 1, i = 0; i < maxQueriers; i++, last--) {
    const r = random.intn(last + 1);
    out.add(scratch[r]!);
    [scratch[r], scratch[last]] = [scratch[last]!, scratch[r]!];
  }
  return out;
}

/** Shard is a tenant's querier shard as last computed, with what it was computed from. */
interface Shard {
  maxQueriers: number;
  version: number;
  queriers: Set<string> | undefined;
}

/** TenantQueues orders waiting items fairly across tenants. */
export class TenantQueues<T> {
  private readonly queues = new Map<string, Array<Entry<T>>>();
  /** order is the round robin of the tenants with waiting items; next is where the turn is. */
  private readonly order: string[] = [];
  private next = 0;
  /** queriers are the connected querier IDs, sorted; version changes with them. */
  private queriers: string[] = [];
  private version = 0;
  /** maxQueriers is each waiting tenant's max_queriers_per_tenant as last enqueued; shards their computed shards. */
  private readonly maxQueriers = new Map<string, number>();
  private readonly shards = new Map<string, Shard>();

  /** maxOutstandingPerTenant: 0 or less means no bound. */
  constructor(private readonly maxOutstandingPerTenant: number) {}

  /** size is how many items wait. */
  size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** tenants is how many tenants have items waiting. */
  tenants(): number {
    return this.queues.size;
  }

  /** lengths are the waiting items per tenant. */
  lengths(): Map<string, number> {
    return new Map([...this.queues].map(([t, q]) => [t, q.length]));
  }

  /**
   * enqueue adds item at the end of its tenant's queue (at the front with first, for a retried
   * item). It throws a 429 ApiError when the tenant already has the most items waiting. When signal
   * aborts while the item waits, the item leaves and aborted(item) is called.
   */
  enqueue(tenant: string, item: T, signal: AbortSignal, aborted: (item: T) => void, first = false, maxQueriers = 0): void {
    let queue = this.queues.get(tenant);
    if (this.maxOutstandingPerTenant > 0 && (queue?.length ?? 0) >= this.maxOutstandingPerTenant) {
      throw new ApiError('too_many_requests', TOO_MANY_OUTSTANDING);
    }
    const e: Entry<T> = { item, signal, enqueuedAt: Date.now(), onAbort: () => this.remove(tenant, e) && aborted(item) };
    signal.addEventListener('abort', e.onAbort, { once: true });
    if (queue === undefined) {
      queue = [];
      this.queues.set(tenant, queue);
      // A tenant that starts waiting joins the end of the round.
      this.order.push(tenant);
    }
    if (first) queue.unshift(e);
    else queue.push(e);
    this.maxQueriers.set(tenant, Math.max(0, maxQueriers));
  }

  /** addQuerier makes a querier known (its tenants' shards are drawn again). */
  addQuerier(id: string): void {
    if (this.queriers.includes(id)) return;
    this.queriers = [...this.queriers, id].sort();
    this.version++;
  }

  /** removeQuerier forgets a querier (its tenants' shards are drawn again without it). */
  removeQuerier(id: string): void {
    if (!this.queriers.includes(id)) return;
    this.queriers = this.queriers.filter((q) => q !== id);
    this.version++;
  }

  /** queriersOf is the shard of the queriers serving tenant (undefined: every querier). */
  queriersOf(tenant: string): Set<string> | undefined {
    const max = this.maxQueriers.get(tenant) ?? 0;
    const s = this.shards.get(tenant);
    if (s !== undefined && s.maxQueriers === max && s.version === this.version) return s.queriers;
    const queriers = querierShard(tenant, this.queriers, max);
    this.shards.set(tenant, { maxQueriers: max, version: this.version, queriers });
    return queriers;
  }

  /**
   * dequeue takes the next item: the first of the tenant whose turn it is; for a querier, the first
   * of the next tenant in turn whose shard holds it; undefined when none waits (for it).
   */
  dequeue(querier?: string): Dequeued<T> | undefined {
    if (this.order.length === 0) return undefined;
    if (this.next >= this.order.length) this.next = 0;
    let at = this.next;
    if (querier !== undefined) {
      let k = 0;
      for (; k < this.order.length; k++, at = (at + 1) % this.order.length) {
        const shard = this.queriersOf(this.order[at]!);
        if (shard === undefined || shard.has(querier)) break;
      }
      if (k === this.order.length) return undefined;
    }
    const tenant = this.order[at]!;
    const queue = this.queues.get(tenant)!;
    const e = queue.shift()!;
    if (queue.length === 0) {
      this.next = at;
      this.dropTenant(tenant);
    } else this.next = (at + 1) % this.order.length;
    e.signal.removeEventListener('abort', e.onAbort);
    return { tenant, item: e.item, waitedMs: Date.now() - e.enqueuedAt };
  }

  /** remove drops an entry (aborted while waiting); false when it was no longer queued. */
  private remove(tenant: string, e: Entry<T>): boolean {
    const queue = this.queues.get(tenant);
    const i = queue?.indexOf(e) ?? -1;
    if (queue === undefined || i < 0) return false;
    queue.splice(i, 1);
    if (queue.length === 0) this.dropTenant(tenant);
    return true;
  }

  private dropTenant(tenant: string): void {
    this.queues.delete(tenant);
    this.maxQueriers.delete(tenant);
    this.shards.delete(tenant);
    const i = this.order.indexOf(tenant);
    if (i < 0) return;
    this.order.splice(i, 1);
    if (i < this.next) this.next--;
    if (this.next >= this.order.length) this.next = 0;
  }
}
