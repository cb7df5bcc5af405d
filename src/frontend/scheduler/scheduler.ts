// scheduler.ts is the query-scheduler (-target=query-scheduler), as Mimir's:
// query-frontends enqueue their (split, cache-missed) queries here, in the fair
// per-tenant queues of tenant-queues.ts (at most
// -query-scheduler.max-outstanding-requests-per-tenant waiting per tenant, 429
// beyond), and querier workers pull them one at a time. The answer travels
// back through the scheduler: the querier posts it here and the scheduler
// answers the frontend's held request with it (wire.ts has the protocol).
// A querier that goes away mid-query closes its lease: the frontend gets a 500
// and retries (-query-frontend.max-retries-per-request). A query whose
// deadline passed while it waited is answered with a timeout, never run.
// A tenant with max_queriers_per_tenant (-query-frontend.max-queriers-per-tenant)
// is served only by its shuffle shard of the connected queriers (by their
// -querier.id; a querier counts as connected while it polls, and until
// -query-scheduler.querier-forget-delay, at least QUERIER_FORGET_MS, after its
// last poll ended).
// Metrics are Mimir's cortex_query_scheduler_*.
//
// A query-frontend without schedulers or a downstream URL embeds the same
// service (Mimir's frontend v1, queriers pull with -querier.frontend-address):
// its queries are enqueued in-process (submit), the queue bound is
// -querier.max-outstanding-requests-per-tenant and the metrics are the
// frontend's cortex_query_frontend_*.

import snappy from '@napi-rs/snappy';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ApiError, toApiError } from '../../errors.js';
import type { InternalAnswer } from '../../internal/client.js';
import type { Logger } from '../../log.js';
import type { WorkerAnswer } from '../../querier/query-executor.js';
import { TenantQueues } from '../../querier/tenant-queues.js';
import type { HttpServer, Request } from '../../server/http.js';
import { CONTENT_TYPE, type ChunkedWriter, type Response } from '../../server/response.js';
import { ANSWER_HEADER, ENQUEUE_PATH, FRONTEND_HEADER, NEXT_PATH, QUERIER_HEADER, QUERY_ID_HEADER, RESULT_PATH, SHUTDOWN_PATH, encodeAnswer, frame, type NextTask, type SchedulerTask } from './wire.js';

/** ERR_NOT_RUNNING is Mimir's text when the scheduler is shutting down. */
export const ERR_NOT_RUNNING = 'scheduler is not running';
/** QUEUE_TIMEOUT is Prometheus's text for a query whose deadline passed in the queue. */
export const QUEUE_TIMEOUT = 'query timed out in query queue';
/** FRONTEND_ACTIVE_MS is how long a frontend counts as connected after its last call. */
const FRONTEND_ACTIVE_MS = 60_000;
/** QUERIER_FORGET_MS is how long a querier without an open poll stays in the tenants' shards (workers poll again at once, or after 1 s on errors). */
export const QUERIER_FORGET_MS = 3_000;

/** SchedulerServiceOptions configure the scheduler. */
export interface SchedulerServiceOptions {
  /** maxOutstandingPerTenant is -query-scheduler.max-outstanding-requests-per-tenant (0: no bound). */
  maxOutstandingPerTenant: number;
  /** pollMs is how long a worker's poll is held before a 204 (default 10 s). */
  pollMs?: number;
  /** querierForgetMs is -query-scheduler.querier-forget-delay (-query-frontend.querier-forget-delay), at least QUERIER_FORGET_MS. */
  querierForgetMs?: number;
  /** maxQueriers is a (possibly federated) tenant's max_queriers_per_tenant (0: every querier). */
  maxQueriers?: (tenant: string) => number;
  /** role names the metrics: the query-scheduler's (default) or, embedded in a query-frontend, the frontend's. */
  role?: 'query-scheduler' | 'query-frontend';
  registry?: Registry;
  log: Logger;
}

/** Reply is where a query's answer goes: the frontend's held request, or an in-process caller. */
interface Reply {
  /** answer sends the querier's answer: its kind (ANSWER_HEADER) and snappy-compressed body. */
  answer(kind: string, compressed: Buffer): void;
  /** fail sends an error's status and text. */
  fail(err: ApiError): void;
}

/** Querier is a connected querier: its open polls and leases, and the timer that forgets it once none is open. */
interface Querier {
  open: number;
  forget?: NodeJS.Timeout;
  /** shuttingDown: the querier said it stops; it is forgotten when its last poll closes. */
  shuttingDown?: boolean;
}

/** Lease is a query handed to a querier worker: the worker's open response. */
interface Lease {
  querier: string;
  writer: ChunkedWriter;
}

/** Pending is one enqueued query, from the frontend's request to its answer. */
interface Pending {
  id: number;
  tenant: string;
  task: SchedulerTask;
  /** reply takes the answer, once. */
  reply: Reply;
  lease?: Lease;
  done: boolean;
}

/** Waiter is a worker's poll, held until a query comes or the poll period ends. */
interface Waiter {
  querier: string;
  res: Response;
  timer: NodeJS.Timeout;
}

/** SchedulerService holds the queues, the waiting workers and the queries running on queriers. */
export class SchedulerService {
  private readonly queues: TenantQueues<Pending>;
  private readonly waiters: Waiter[] = [];
  /** pending are the queries enqueued and not yet answered, by id (queued or leased). */
  private readonly pending = new Map<number, Pending>();
  private readonly frontends = new Map<string, number>();
  private readonly queriers = new Map<string, Querier>();
  private nextId = 1;
  private workers = 0;
  private stopping = false;
  private readonly pollMs: number;
  /** observeQueued records how long a query waited (queue duration metric). */
  private readonly observeQueued?: (user: string, seconds: number) => void;
  private readonly discarded?: Counter<'user'>;
  private readonly cancelled?: Counter<'user'>;

  constructor(private readonly opts: SchedulerServiceOptions) {
    this.queues = new TenantQueues(opts.maxOutstandingPerTenant);
    this.pollMs = opts.pollMs ?? 10_000;
    const registers = opts.registry !== undefined ? [opts.registry] : [];
    if (registers.length === 0) return;
    const queues = this.queues;
    const self = (): SchedulerService => this;
    // The queue length per tenant, under the frontend v1's or the scheduler's name.
    new Gauge({
      name: opts.role === 'query-frontend' ? 'cortex_query_frontend_queue_length' : 'cortex_query_scheduler_queue_length',
      help: 'Number of queries in the queue.',
      labelNames: ['user'],
      registers,
      collect() {
        this.reset();
        for (const [user, n] of queues.lengths()) this.set({ user }, n);
      },
    });
    if (opts.role === 'query-frontend') {
      // Mimir's frontend v1 metrics.
      this.discarded = new Counter({ name: 'cortex_query_frontend_discarded_requests_total', help: 'Total number of query requests discarded.', labelNames: ['user'], registers });
      const duration = new Histogram({ name: 'cortex_query_frontend_queue_duration_seconds', help: 'Time spent by requests in queue before getting picked up by a querier.', registers });
      this.observeQueued = (_user, seconds) => duration.observe(seconds);
      new Gauge({
        name: 'cortex_query_frontend_connected_clients',
        help: 'Number of worker clients currently connected to the frontend.',
        registers,
        collect() {
          this.set(self().connectedWorkers());
        },
      });
      return;
    }
    const duration = new Histogram({
      name: 'cortex_query_scheduler_queue_duration_seconds',
      help: 'Time spent by requests in queue before getting picked up by a querier.',
      labelNames: ['user', 'additional_queue_dimensions'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.observeQueued = (user, seconds) => duration.observe({ user, additional_queue_dimensions: '' }, seconds);
    new Gauge({
      name: 'cortex_query_scheduler_connected_querier_clients',
      help: 'Number of querier worker clients currently connected to the query-scheduler.',
      registers,
      collect() {
        this.set(self().connectedWorkers());
      },
    });
    new Gauge({
      name: 'cortex_query_scheduler_connected_frontend_clients',
      help: 'Number of query-frontend worker clients currently connected to the query-scheduler.',
      registers,
      collect() {
        this.set(self().connectedFrontends());
      },
    });
    new Gauge({
      name: 'cortex_query_scheduler_running',
      help: 'Value will be 1 if the scheduler is in the ReplicationSet and actively receiving/processing requests',
      registers,
      collect() {
        this.set(self().stopping ? 0 : 1);
      },
    });
    this.discarded = new Counter({ name: 'cortex_query_scheduler_discarded_requests_total', help: 'Total number of query requests discarded.', labelNames: ['user'], registers });
    this.cancelled = new Counter({ name: 'cortex_query_scheduler_cancelled_requests_total', help: 'Total number of query requests that were cancelled after enqueuing.', labelNames: ['user'], registers });
  }

  /** connectedWorkers is how many worker connections are open (polling or running a query). */
  connectedWorkers(): number {
    return this.workers;
  }

  /** connectedFrontends is how many frontends called within the last minute. */
  connectedFrontends(nowMs = Date.now()): number {
    let n = 0;
    for (const [id, at] of this.frontends) {
      if (nowMs - at <= FRONTEND_ACTIVE_MS) n++;
      else this.frontends.delete(id);
    }
    return n;
  }

  /** queued is how many queries wait. */
  queued(): number {
    return this.queues.size();
  }

  /** connectedQueriers are the IDs of the queriers the tenants' shards are drawn from, sorted. */
  connectedQueriers(): string[] {
    return [...this.queriers.keys()].sort();
  }

  /**
   * register adds the scheduler's routes to the internal server: the querier workers' (next, result)
   * and, with enqueue (a query-scheduler), the frontends'.
   */
  register(server: HttpServer, maxBodyBytes: number, enqueue = true): void {
    const opts = { maxBodyBytes, errors: 'text' as const };
    if (enqueue) server.route('POST', ENQUEUE_PATH, (req, res) => this.enqueue(req, res), opts);
    server.route('POST', NEXT_PATH, (req, res) => this.next(req, res), opts);
    server.route('POST', RESULT_PATH, (req, res) => this.result(req, res), opts);
    server.route('POST', SHUTDOWN_PATH, (req, res) => this.querierShutdown(req, res), opts);
  }

  /** querierShutdown takes a querier's notice that it stops: out of the shards once its polls close. */
  private querierShutdown(req: Request, res: Response): void {
    const id = req.headers.get(QUERIER_HEADER.toLowerCase()) ?? '';
    this.opts.log.info('received shutdown notification from querier', { querier: id });
    const q = this.queriers.get(id);
    if (q !== undefined) {
      q.shuttingDown = true;
      if (q.open === 0) this.forgetQuerier(id, q);
    }
    res.send(200, '', CONTENT_TYPE.text);
  }

  /**
   * submit enqueues a task in-process (a query-frontend's own queue) and resolves with the answer
   * as the enqueue call would give it (status, uncompressed body, ANSWER_HEADER), or rejects with
   * the signal's reason when it aborts (the query leaves the queue, or its querier stops it) or
   * when timeoutMs passes.
   */
  submit(task: SchedulerTask, timeoutMs: number, signal: AbortSignal): Promise<InternalAnswer> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error(`deadline of ${timeoutMs}ms exceeded`)), timeoutMs);
      const onAbort = (): void => ac.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      ac.signal.addEventListener('abort', () => {
        done();
        reject(ac.signal.reason);
      });
      const fail = (err: ApiError): void => {
        done();
        resolve({ status: err.status, body: Buffer.from(err.message, 'utf8'), headers: {} });
      };
      if (this.stopping) {
        fail(new ApiError('unavailable', ERR_NOT_RUNNING));
        return;
      }
      const reply: Reply = {
        answer: (kind, compressed) => {
          done();
          resolve({ status: 200, body: compressed.length > 0 ? (snappy.uncompressSync(compressed) as Buffer) : compressed, headers: { [ANSWER_HEADER.toLowerCase()]: kind } });
        },
        fail,
      };
      try {
        this.add(task.tenant, task, reply, ac.signal);
      } catch (err) {
        fail(toApiError(err));
      }
    });
  }

  /** stop refuses new queries and polls (frontends and queriers move to another scheduler); running queries finish. */
  stop(): void {
    this.stopping = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.res.send(503, ERR_NOT_RUNNING, CONTENT_TYPE.text);
    }
    for (;;) {
      const d = this.queues.dequeue();
      if (d === undefined) break;
      this.answerError(d.item, new ApiError('unavailable', ERR_NOT_RUNNING));
    }
  }

  private enqueue(req: Request, res: Response): void {
    // The frontend went away while its body was read: nothing to queue.
    if (res.aborted) return;
    if (this.stopping) throw new ApiError('unavailable', ERR_NOT_RUNNING);
    const tenant = req.headers.get('x-scope-orgid') ?? '';
    const frontendId = req.headers.get(FRONTEND_HEADER.toLowerCase());
    if (frontendId !== undefined) this.frontends.set(frontendId, Date.now());
    let task: SchedulerTask;
    try {
      task = JSON.parse((snappy.uncompressSync(req.body) as Buffer).toString('utf8')) as SchedulerTask;
    } catch (err) {
      throw new ApiError('bad_data', `query-scheduler: undecodable query: ${err instanceof Error ? err.message : String(err)}`);
    }
    // The frontend's request closing is its cancel: out of the queue, or the querier's lease ended.
    const ac = new AbortController();
    res.whenDone(() => {
      if (res.aborted) ac.abort();
    });
    this.add(
      tenant,
      task,
      {
        answer: (kind, compressed) => res.send(200, compressed, 'application/octet-stream', { 'Content-Encoding': 'snappy', [ANSWER_HEADER]: kind }),
        fail: (err) => res.send(err.status, err.message, CONTENT_TYPE.text),
      },
      ac.signal,
    );
  }

  /** add queues a task for its tenant (429 beyond the bound); an abort of signal is the caller's cancel. */
  private add(tenant: string, task: SchedulerTask, reply: Reply, signal: AbortSignal): void {
    const p: Pending = { id: this.nextId++, tenant, task, reply, done: false };
    signal.addEventListener('abort', () => {
      if (p.done) return;
      p.done = true;
      this.pending.delete(p.id);
      this.cancelled?.inc({ user: tenant });
      p.lease?.writer.end();
    });
    try {
      this.queues.enqueue(tenant, p, signal, () => undefined, false, this.opts.maxQueriers?.(tenant) ?? 0);
    } catch (err) {
      if (toApiError(err).kind === 'too_many_requests') this.discarded?.inc({ user: tenant });
      throw err;
    }
    this.pending.set(p.id, p);
    this.dispatch();
  }

  private next(req: Request, res: Response): void {
    if (res.aborted) return;
    if (this.stopping) throw new ApiError('unavailable', ERR_NOT_RUNNING);
    const querier = req.headers.get(QUERIER_HEADER.toLowerCase()) ?? '';
    this.workers++;
    this.querierOpened(querier);
    const w: Waiter = {
      querier,
      res,
      timer: setTimeout(() => {
        this.dropWaiter(w);
        res.send(204, '', CONTENT_TYPE.text);
      }, this.pollMs),
    };
    res.whenDone(() => {
      this.workers--;
      clearTimeout(w.timer);
      this.dropWaiter(w);
      this.querierClosed(querier);
    });
    this.waiters.push(w);
    this.dispatch();
  }

  private result(req: Request, res: Response): void {
    const id = Number(req.headers.get(QUERY_ID_HEADER.toLowerCase()) ?? '');
    const p = this.pending.get(id);
    if (p === undefined || p.done) {
      // Cancelled by its frontend, or given up after its querier's lease broke.
      res.send(404, `query ${id} is not running`, CONTENT_TYPE.text);
      return;
    }
    p.done = true;
    this.pending.delete(id);
    // The answer is passed on as it came (snappy-compressed).
    p.reply.answer(req.headers.get(ANSWER_HEADER.toLowerCase()) ?? 'body', req.body);
    p.lease?.writer.end();
    res.send(200, '', CONTENT_TYPE.text);
  }

  private dropWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** querierOpened counts a poll of a querier, which joins the tenants' shards if it was not there. */
  private querierOpened(id: string): void {
    const q = this.queriers.get(id);
    if (q !== undefined) {
      q.open++;
      clearTimeout(q.forget);
      return;
    }
    this.queriers.set(id, { open: 1 });
    this.queues.addQuerier(id);
  }

  /** querierClosed ends a poll; a querier with none open leaves the shards after the forget delay (at once when it is shutting down). */
  private querierClosed(id: string): void {
    const q = this.queriers.get(id);
    if (q === undefined || --q.open > 0) return;
    clearTimeout(q.forget);
    if (q.shuttingDown === true) {
      this.forgetQuerier(id, q);
      return;
    }
    q.forget = setTimeout(() => {
      if (q.open === 0) this.forgetQuerier(id, q);
    }, Math.max(QUERIER_FORGET_MS, this.opts.querierForgetMs ?? 0));
    q.forget.unref();
  }

  /** forgetQuerier takes a querier out of the tenants' shards. */
  private forgetQuerier(id: string, q: Querier): void {
    if (this.queriers.get(id) !== q) return;
    clearTimeout(q.forget);
    this.queriers.delete(id);
    this.queues.removeQuerier(id);
    this.opts.log.debug('querier forgotten', { querier: id });
    // Tenants it served are drawn again among the others, whose polls may take them now.
    this.dispatch();
  }

  /** dispatch hands waiting queries to waiting workers: each worker the next tenant in turn whose querier shard holds its querier. */
  private dispatch(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      const d = this.queues.dequeue(w.querier);
      if (d === undefined) {
        i++;
        continue;
      }
      const p = d.item;
      if (Date.now() >= p.task.deadline) {
        this.answer(p, { ok: false, kind: 'timeout', message: QUEUE_TIMEOUT });
        continue;
      }
      this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      this.observeQueued?.(d.tenant, d.waitedMs / 1000);
      const writer = w.res.chunked(200, 'application/octet-stream');
      p.lease = { querier: w.querier, writer };
      const next: NextTask = { id: p.id, task: p.task };
      void writer.write(frame(snappy.compressSync(Buffer.from(JSON.stringify(next), 'utf8'))));
      w.res.whenDone(() => {
        // The worker's connection closed before its answer: the querier went away.
        if (!w.res.aborted || p.done) return;
        this.opts.log.warn('querier disconnected while running a query', { querier: w.querier, tenant: p.tenant, query_id: p.id });
        this.answerError(p, new ApiError('internal', `querier ${w.querier} disconnected while running the query`));
      });
    }
  }

  /** answer sends a query's answer to its frontend. */
  private answer(p: Pending, a: WorkerAnswer): void {
    if (p.done) return;
    p.done = true;
    this.pending.delete(p.id);
    const { kind, body } = encodeAnswer(a);
    p.reply.answer(kind, snappy.compressSync(Buffer.from(body.buffer, body.byteOffset, body.byteLength)));
  }

  /** answerError fails a query at its frontend with the error's status and text. */
  private answerError(p: Pending, err: ApiError): void {
    if (p.done) return;
    p.done = true;
    this.pending.delete(p.id);
    p.reply.fail(err);
  }
}
