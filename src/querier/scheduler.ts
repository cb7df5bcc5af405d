// scheduler.ts queues PromQL queries before they reach the query workers, as
// Mimir's query-frontend / query-scheduler queue does: one first-in first-out
// queue per tenant, the tenants served in turn (round robin), at most
// -querier.max-concurrent queries running at once, and at most
// -query-frontend.max-outstanding-requests-per-tenant queries of one tenant
// waiting; beyond that the query is refused with 429 "too many outstanding
// requests". A query whose client goes away while it waits leaves the queue.
// Federated queries (tenants joined by `|`) queue under the joined id, as in
// Mimir.

import { ApiError } from '../errors.js';
import type { QueryExecutor, WorkerAnswer } from './query-executor.js';
import type { MetadataRead } from './metadata.js';
import type { QueryTask } from './query-params.js';

/** TOO_MANY_OUTSTANDING is Mimir's text when a tenant's queue is full. */
export const TOO_MANY_OUTSTANDING = 'too many outstanding requests';

/** SchedulerOptions bound the queue. */
export interface SchedulerOptions {
  /** maxConcurrent is how many queries run at once (-querier.max-concurrent); 0 or less means no bound. */
  maxConcurrent: number;
  /** maxOutstandingPerTenant is how many queries of one tenant may wait (-query-frontend.max-outstanding-requests-per-tenant); 0 or less means no bound. */
  maxOutstandingPerTenant: number;
}

/** Waiting is one queued query. */
interface Waiting {
  start: () => void;
  cancel: (reason: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/** SchedulerStats are the queue's gauges. */
export interface SchedulerStats {
  running: number;
  queued: number;
  tenantsWaiting: number;
}

/** QueryScheduler runs queries fairly across tenants within a concurrency bound. */
export class QueryScheduler {
  private readonly queues = new Map<string, Waiting[]>();
  /** order is the round robin of the tenants with waiting queries; next is where the turn is. */
  private readonly order: string[] = [];
  private next = 0;
  private running = 0;

  constructor(private readonly opts: SchedulerOptions) {}

  /** stats returns how many queries run and wait. */
  stats(): SchedulerStats {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { running: this.running, queued, tenantsWaiting: this.queues.size };
  }

  /**
   * run waits for the tenant's turn, then runs fn; it rejects with a 429 ApiError when the tenant
   * already has the most queries waiting, and with the signal's reason when aborted while waiting.
   */
  async run<T>(tenant: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    await this.acquire(tenant, signal);
    try {
      return await fn();
    } finally {
      this.running--;
      this.dispatch();
    }
  }

  private hasSlot(): boolean {
    return this.opts.maxConcurrent <= 0 || this.running < this.opts.maxConcurrent;
  }

  private acquire(tenant: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    // A free slot and nobody waiting: run at once.
    if (this.hasSlot() && this.order.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    let queue = this.queues.get(tenant);
    if (this.opts.maxOutstandingPerTenant > 0 && (queue?.length ?? 0) >= this.opts.maxOutstandingPerTenant) {
      return Promise.reject(new ApiError('too_many_requests', TOO_MANY_OUTSTANDING));
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiting = {
        start: () => {
          signal.removeEventListener('abort', w.onAbort);
          resolve();
        },
        cancel: reject,
        signal,
        onAbort: () => this.remove(tenant, w),
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      if (queue === undefined) {
        queue = [];
        this.queues.set(tenant, queue);
        // A tenant that starts waiting joins the end of the round.
        this.order.push(tenant);
      }
      queue.push(w);
      this.dispatch();
    });
  }

  /** remove drops an aborted query from its tenant's queue. */
  private remove(tenant: string, w: Waiting): void {
    const queue = this.queues.get(tenant);
    const i = queue?.indexOf(w) ?? -1;
    if (queue === undefined || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) this.dropTenant(tenant);
    w.cancel(w.signal.reason);
  }

  private dropTenant(tenant: string): void {
    this.queues.delete(tenant);
    const i = this.order.indexOf(tenant);
    if (i < 0) return;
    this.order.splice(i, 1);
    if (i < this.next) this.next--;
    if (this.next >= this.order.length) this.next = 0;
  }

  /** dispatch starts waiting queries while slots are free, one tenant after another. */
  private dispatch(): void {
    while (this.order.length > 0 && this.hasSlot()) {
      if (this.next >= this.order.length) this.next = 0;
      const tenant = this.order[this.next]!;
      const queue = this.queues.get(tenant)!;
      const w = queue.shift()!;
      if (queue.length === 0) this.dropTenant(tenant);
      else this.next = (this.next + 1) % this.order.length;
      this.running++;
      w.start();
    }
  }
}

/** scheduledExecutor runs an executor's tasks (queries, metadata reads) through the scheduler, queued by the task's tenant. */
export function scheduledExecutor(inner: QueryExecutor, scheduler: QueryScheduler): QueryExecutor {
  const out: QueryExecutor = {
    run: (task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> => scheduler.run(task.tenant, signal, () => inner.run(task, signal)),
    close: () => inner.close(),
  };
  const read = inner.readMetadata?.bind(inner);
  if (read !== undefined) out.readMetadata = (r: MetadataRead, signal: AbortSignal) => scheduler.run(r.tenant, signal, () => read(r, signal));
  return out;
}
