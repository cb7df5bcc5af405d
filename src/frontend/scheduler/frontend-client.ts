// frontend-client.ts is the executor of a query-frontend that uses
// query-schedulers (-query-frontend.scheduler-address, or the in-use members of
// the query-scheduler ring with -query-scheduler.service-discovery-mode=ring), or
// its own queue (a query-frontend without schedulers nor downstream URL, whose
// queriers pull with -querier.frontend-address; the enqueue call is then
// in-process): each (split,
// cache-missed) query, and each series / labels / label values read, is enqueued to a scheduler, the schedulers taken in
// turn, and the request is held until the querier's answer comes back through
// it (wire.ts). A 5xx or a connection failure (the querier running the query
// or the scheduler went away) is retried on the next scheduler, at most
// -query-frontend.max-retries-per-request more times, as Mimir's retry
// middleware; 429 "too many outstanding requests" is passed on at once. The
// query's deadline bounds each call; an aborted signal (the client went away)
// closes the call, which takes the query out of the scheduler's queue.

import { ApiError } from '../../errors.js';
import type { InternalAnswer, InternalClient } from '../../internal/client.js';
import type { Logger } from '../../log.js';
import type { MetadataRead, MetadataReadAnswer } from '../../querier/metadata.js';
import type { QueryExecutor, WorkerAnswer } from '../../querier/query-executor.js';
import type { QueryTask } from '../../querier/query-params.js';
import { TOO_MANY_OUTSTANDING } from '../../querier/tenant-queues.js';
import { ANSWER_HEADER, ENQUEUE_PATH, FRONTEND_HEADER, decodeAnswer, decodeMetadataAnswer, type SchedulerTask } from './wire.js';

/** ERR_NO_SCHEDULER is the error when no query-scheduler is known. */
export const ERR_NO_SCHEDULER = 'no query-scheduler available';
/** DEADLINE_GRACE_MS is how long past a query's deadline its call may wait (the querier answers the timeout itself). */
const DEADLINE_GRACE_MS = 5_000;

/** SchedulerClientOptions configure the frontend's side. */
export interface SchedulerClientOptions {
  /** addresses are the (in-use) schedulers' internal API addresses (host:port), read at each call. */
  addresses: () => string[];
  /** enqueue makes one call to a scheduler (remoteEnqueue, or the frontend's own queue). */
  enqueue: EnqueueCall;
  /** maxRetries is -query-frontend.max-retries-per-request. */
  maxRetries: number;
  /** readTimeoutMs bounds a metadata read (-querier.timeout; a query carries its own deadline). */
  readTimeoutMs: number;
  log: Logger;
}

/** EnqueueCall enqueues a task at the scheduler at addr and resolves with its answer (the enqueue call's status, body and headers). */
export type EnqueueCall = (addr: string, task: SchedulerTask, timeoutMs: number, signal: AbortSignal) => Promise<InternalAnswer>;

/** remoteEnqueue is the enqueue call over the internal API, naming this frontend (frontendId) to the schedulers. */
export function remoteEnqueue(client: InternalClient, frontendId: string): EnqueueCall {
  return (addr, task, timeoutMs, signal) => client.post(addr, ENQUEUE_PATH, task.tenant, Buffer.from(JSON.stringify(task), 'utf8'), { [FRONTEND_HEADER]: frontendId }, timeoutMs, signal);
}

/** schedulerExecutor runs queries and metadata reads (series, labels, label values) on the queriers behind the query-schedulers. */
export function schedulerExecutor(opts: SchedulerClientOptions): QueryExecutor {
  let turn = 0;
  /** enqueue sends task to a scheduler (retried on the next one) and returns the 200 answer's kind and body. */
  const enqueue = async (task: SchedulerTask, signal: AbortSignal): Promise<{ kind: string | undefined; body: Buffer }> => {
    let last = ERR_NO_SCHEDULER;
    for (let attempt = 0; attempt <= opts.maxRetries; attempt++) {
      const addrs = opts.addresses();
      if (addrs.length === 0) break;
      const addr = addrs[turn++ % addrs.length]!;
      const timeoutMs = Math.max(1_000, task.deadline - Date.now() + DEADLINE_GRACE_MS);
      let a: InternalAnswer;
      try {
        a = await opts.enqueue(addr, task, timeoutMs, signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        last = err instanceof Error ? err.message : String(err);
        opts.log.warn('query-scheduler call failed, retrying', { scheduler: addr, tenant: task.tenant, attempt, err: last });
        continue;
      }
      const kind = a.headers[ANSWER_HEADER.toLowerCase()];
      if (a.status === 200) return { kind: typeof kind === 'string' ? kind : undefined, body: a.body };
      const status = a.status;
      const text = a.body.toString('utf8').trim();
      if (status === 429) throw new ApiError('too_many_requests', TOO_MANY_OUTSTANDING);
      if (status >= 400 && status < 500) throw new ApiError(status === 400 ? 'bad_data' : 'internal', text);
      last = text;
      opts.log.warn('query-scheduler call failed, retrying', { scheduler: addr, tenant: task.tenant, attempt, status, err: text });
    }
    throw new ApiError('internal', last);
  };
  return {
    run: async (task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> => {
      const a = await enqueue(task, signal);
      return decodeAnswer(a.kind, a.body);
    },
    readMetadata: async (read: MetadataRead, signal: AbortSignal): Promise<MetadataReadAnswer> => {
      const a = await enqueue({ ...read, deadline: Date.now() + opts.readTimeoutMs }, signal);
      return decodeMetadataAnswer(a.kind, a.body);
    },
    close: async () => {},
  };
}
