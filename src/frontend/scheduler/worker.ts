// worker.ts runs a querier's worker loops against the query-schedulers
// (-querier.scheduler-address, or the query-scheduler ring) or the
// query-frontends holding the queues (-querier.frontend-address): as Mimir's
// querier workers, each loop pulls one query at a time from its scheduler (a
// long poll, wire.ts), runs it (or a metadata read) with the querier's executor and posts the
// answer back. -querier.max-concurrent loops in all, spread over the in-use
// schedulers (at least one each), and one loop for each scheduler not in use
// (-query-scheduler.max-used-instances); the spread follows the scheduler list
// as it changes. While a query runs, the loop keeps the scheduler's response open:
// if the scheduler ends it first (the frontend cancelled) or the connection
// breaks, the query is stopped.

import { constants, type ClientHttp2Stream } from 'node:http2';
import snappy from '@napi-rs/snappy';
import { ApiError, toApiError } from '../../errors.js';
import type { InternalClient } from '../../internal/client.js';
import type { Logger } from '../../log.js';
import type { QueryExecutor, WorkerAnswer } from '../../querier/query-executor.js';
import type { SchedulerInstance } from './module.js';
import { ANSWER_HEADER, FrameReader, NEXT_PATH, QUERIER_HEADER, QUERY_ID_HEADER, RESULT_PATH, SHUTDOWN_PATH, encodeAnswer, encodeError, encodeMetadataAnswer, isMetadataTask, type NextTask } from './wire.js';

/** RETRY_DELAY_MS is the pause before polling a scheduler again after a failed poll. */
const RETRY_DELAY_MS = 1_000;
/** REFRESH_MS is how often the loops are matched to the scheduler list. */
const REFRESH_MS = 1_000;
/** SHUTDOWN_NOTIFY_MS bounds the shutdown notice to each scheduler. */
const SHUTDOWN_NOTIFY_MS = 1_000;

/** WorkerOptions configure a querier's workers. */
export interface WorkerOptions {
  /** instances are the schedulers (or query-frontends) to pull from: internal API addresses (host:port), in use or not. */
  instances: () => SchedulerInstance[];
  /** concurrency is -querier.max-concurrent. */
  concurrency: number;
  querierId: string;
  executor: QueryExecutor;
  client: InternalClient;
  log: Logger;
}

/** Loop is one worker loop bound to a scheduler. */
interface Loop {
  addr: string;
  stopped: boolean;
  /** current is the open poll or lease, closed on stop. */
  current?: { destroy: () => void };
}

/** Polled is a query pulled from a scheduler, with the open response that is its lease. */
interface Polled {
  next: NextTask;
  /** ended resolves once the scheduler's response ends or breaks. */
  ended: Promise<void>;
  finish: () => void;
}

/**
 * spread divides n loops over the in-use instances (the first n mod count of them get one more), at
 * least one each, and gives one loop to each instance not in use, so that its queue still drains
 * (Mimir's getDesiredConcurrency).
 */
export function spread(instances: readonly SchedulerInstance[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  const inUse = instances.filter((i) => i.inUse).length;
  const base = Math.floor(n / Math.max(1, inUse));
  let k = 0;
  for (const i of instances) {
    if (!i.inUse) {
      out.set(i.addr, 1);
      continue;
    }
    out.set(i.addr, Math.max(1, base + (k < n - base * inUse ? 1 : 0)));
    k++;
  }
  return out;
}

/** dedupe keeps one instance per address (in use when any is), sorted by address. */
function dedupe(instances: readonly SchedulerInstance[]): SchedulerInstance[] {
  const by = new Map<string, boolean>();
  for (const i of instances) by.set(i.addr, (by.get(i.addr) ?? false) || i.inUse);
  return [...by].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([addr, inUse]) => ({ addr, inUse }));
}

/** SchedulerWorkers owns the worker loops of one querier. */
export class SchedulerWorkers {
  private readonly loops: Loop[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: WorkerOptions) {}

  /** start begins the loops and follows the scheduler list. */
  start(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  /**
   * stop tells each scheduler that this querier shuts down (so that it leaves the tenants' shards at
   * once, waiting at most SHUTDOWN_NOTIFY_MS), then ends every loop (a running query is abandoned; its
   * scheduler sees the lease close).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // No loop polls again from here on: a poll opened after the notice would make the scheduler
    // take this querier back as a new one, forgotten only after the forget delay.
    for (const l of this.loops) l.stopped = true;
    const addrs = [...new Set(this.loops.map((l) => l.addr))];
    await Promise.all(
      addrs.map((addr) =>
        this.opts.client.post(addr, SHUTDOWN_PATH, '', new Uint8Array(), { [QUERIER_HEADER]: this.opts.querierId }, SHUTDOWN_NOTIFY_MS).catch((err: unknown) => {
          this.opts.log.debug('notifying the query-scheduler of the shutdown failed', { scheduler: addr, err });
        }),
      ),
    );
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const l of this.loops.splice(0)) l.current?.destroy();
  }

  /** loopCount is how many loops run per scheduler address. */
  loopCount(): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.loops) out.set(l.addr, (out.get(l.addr) ?? 0) + 1);
    return out;
  }

  /** refresh starts and stops loops so that each known scheduler has its share. */
  private refresh(): void {
    if (this.stopped) return;
    const want = spread(dedupe(this.opts.instances()), this.opts.concurrency);
    const have = this.loopCount();
    for (let i = this.loops.length - 1; i >= 0; i--) {
      const l = this.loops[i]!;
      const n = have.get(l.addr) ?? 0;
      if (n > (want.get(l.addr) ?? 0)) {
        // Stopped between queries: a running query finishes first.
        l.stopped = true;
        this.loops.splice(i, 1);
        have.set(l.addr, n - 1);
      }
    }
    for (const [addr, n] of want) {
      for (let k = have.get(addr) ?? 0; k < n; k++) {
        const l: Loop = { addr, stopped: false };
        this.loops.push(l);
        void this.run(l);
      }
    }
  }

  private async run(l: Loop): Promise<void> {
    while (!l.stopped) {
      let polled: Polled | undefined;
      try {
        polled = await this.poll(l);
      } catch (err) {
        if (l.stopped) return;
        this.opts.log.debug('polling the query-scheduler failed', { scheduler: l.addr, err });
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
        continue;
      }
      if (polled !== undefined) await this.execute(l, polled);
    }
  }

  /** execute runs one pulled query and posts its answer, unless the scheduler ended the lease first. */
  private async execute(l: Loop, p: Polled): Promise<void> {
    const { id, task } = p.next;
    const ac = new AbortController();
    let answered = false;
    void p.ended.then(() => {
      if (!answered) ac.abort(new Error('query cancelled by the query-scheduler'));
    });
    let kind: string;
    let body: Uint8Array;
    try {
      if (isMetadataTask(task)) {
        const read = this.opts.executor.readMetadata;
        if (read === undefined) throw new ApiError('internal', 'this querier does not serve series, labels or label values reads');
        ({ kind, body } = encodeMetadataAnswer(await read.call(this.opts.executor, task, ac.signal)));
      } else {
        const a: WorkerAnswer = await this.opts.executor.run(task, ac.signal);
        ({ kind, body } = encodeAnswer(a));
      }
    } catch (err) {
      kind = 'error';
      body = encodeError(toApiError(err));
    }
    answered = true;
    if (ac.signal.aborted) {
      p.finish();
      return;
    }
    try {
      await this.opts.client.post(l.addr, RESULT_PATH, task.tenant, body, { [QUERY_ID_HEADER]: String(id), [ANSWER_HEADER]: kind }, 10_000);
    } catch (err) {
      this.opts.log.warn('sending a query answer to the query-scheduler failed', { scheduler: l.addr, err });
    }
    await Promise.race([p.ended, new Promise((r) => setTimeout(r, 5_000).unref())]);
    p.finish();
  }

  /**
   * poll waits for the next query of the scheduler: undefined when the poll period ended without
   * one. The poll is a stream on the client's connection to the scheduler (HTTP/2: the loops share
   * it, each poll and lease one stream).
   */
  private poll(l: Loop): Promise<Polled | undefined> {
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.opts.client.open(l.addr, NEXT_PATH, { [QUERIER_HEADER.toLowerCase()]: this.opts.querierId });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      l.current = { destroy: () => stream.close(constants.NGHTTP2_CANCEL) };
      let status = 0;
      const chunks: Buffer[] = [];
      const reader = new FrameReader();
      let got = false;
      let markEnded!: () => void;
      const ended = new Promise<void>((r) => (markEnded = r));
      let failure: Error | undefined;
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0);
      });
      stream.on('data', (c: Buffer) => {
        if (status !== 200) {
          chunks.push(c);
          return;
        }
        if (got) return;
        const payload = reader.push(c);
        if (payload === undefined) return;
        got = true;
        let next: NextTask;
        try {
          next = JSON.parse((snappy.uncompressSync(payload) as Buffer).toString('utf8')) as NextTask;
        } catch (err) {
          stream.close(constants.NGHTTP2_CANCEL);
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        resolve({ next, ended, finish: () => (l.current = undefined) });
      });
      stream.on('error', (err) => (failure ??= err));
      stream.on('close', () => {
        markEnded();
        if (status === 204) resolve(undefined);
        else if (status !== 0 && status !== 200) reject(new Error(`query-scheduler ${l.addr}: ${status}: ${Buffer.concat(chunks).toString('utf8').trim()}`));
        else if (!got) reject(failure ?? new Error(`query-scheduler ${l.addr}: the poll closed before a query`));
      });
    });
  }
}
