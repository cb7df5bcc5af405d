// tenant-queues.ts is the fair per-tenant queue of Mimir's query-frontend /
// query-scheduler: one first-in first-out queue per tenant, the tenants
// served in turn (round robin), at most maxOutstandingPerTenant items of one
// tenant waiting (beyond: 429 "too many outstanding requests"), and an item
// whose signal aborts while it waits leaves the queue. It only holds and
// orders; who takes items out (the in-process slots of scheduler.ts, the
// querier workers of src/frontend/scheduler/) is the caller's.

import { ApiError } from '../errors.js';

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

/** TenantQueues orders waiting items fairly across tenants. */
export class TenantQueues<T> {
  private readonly queues = new Map<string, Array<Entry<T>>>();
  /** order is the round robin of the tenants with waiting items; next is where the turn is. */
  private readonly order: string[] = [];
  private next = 0;

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
  enqueue(tenant: string, item: T, signal: AbortSignal, aborted: (item: T) => void, first = false): void {
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
  }

  /** dequeue takes the next item: the first of the tenant whose turn it is; undefined when none waits. */
  dequeue(): Dequeued<T> | undefined {
    if (this.order.length === 0) return undefined;
    if (this.next >= this.order.length) this.next = 0;
    const tenant = this.order[this.next]!;
    const queue = this.queues.get(tenant)!;
    const e = queue.shift()!;
    if (queue.length === 0) this.dropTenant(tenant);
    else this.next = (this.next + 1) % this.order.length;
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
    const i = this.order.indexOf(tenant);
    if (i < 0) return;
    this.order.splice(i, 1);
    if (i < this.next) this.next--;
    if (this.next >= this.order.length) this.next = 0;
  }
}
