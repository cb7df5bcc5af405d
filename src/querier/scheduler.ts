// scheduler.ts queues PromQL queries before they reach this process's query
// workers, as Mimir's query-frontend queue does: the fair per-tenant queue of
// tenant-queues.ts (shared with the query-scheduler target, src/frontend/scheduler/),
// at most -querier.max-concurrent queries running at once, and at most
// -querier.max-outstanding-requests-per-tenant queries of one tenant
// waiting; beyond that the query is refused with 429 "too many outstanding
// requests". A query whose client goes away while it waits leaves the queue.
// Federated queries (tenants joined by `|`) queue under the joined id, as in
// Mimir.

import type { QueryExecutor, WorkerAnswer } from './query-executor.js';
import type { MetadataRead } from './metadata.js';
import type { QueryTask } from './query-params.js';
import { TenantQueues } from './tenant-queues.js';

/** SchedulerOptions bound the queue. */
export interface SchedulerOptions {
  /** maxConcurrent is how many queries run at once (-querier.max-concurrent); 0 or less means no bound. */
  maxConcurrent: number;
  /** maxOutstandingPerTenant is how many queries of one tenant may wait (-querier.max-outstanding-requests-per-tenant); 0 or less means no bound. */
  maxOutstandingPerTenant: number;
}

/** Waiting is one queued query: start runs it, cancel fails it. */
interface Waiting {
  start: () => void;
  cancel: (reason: unknown) => void;
  signal: AbortSignal;
}

/** SchedulerStats are the queue's gauges. */
export interface SchedulerStats {
  running: number;
  queued: number;
  tenantsWaiting: number;
}

/** QueryScheduler runs queries fairly across tenants (the queue of tenant-queues.ts) within a concurrency bound. */
export class QueryScheduler {
  private readonly queues: TenantQueues<Waiting>;
  private running = 0;

  constructor(private readonly opts: SchedulerOptions) {
    this.queues = new TenantQueues(opts.maxOutstandingPerTenant);
  }

  /** stats returns how many queries run and wait. */
  stats(): SchedulerStats {
    return { running: this.running, queued: this.queues.size(), tenantsWaiting: this.queues.tenants() };
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
    if (this.hasSlot() && this.queues.size() === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queues.enqueue(tenant, { start: resolve, cancel: reject, signal }, signal, (w) => w.cancel(w.signal.reason));
      this.dispatch();
    });
  }

  /** dispatch starts waiting queries while slots are free, one tenant after another. */
  private dispatch(): void {
    while (this.hasSlot()) {
      const d = this.queues.dequeue();
      if (d === undefined) return;
      this.running++;
      d.item.start();
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
