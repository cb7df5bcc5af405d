// frontend.ts is the query-frontend: a QueryExecutor in front of the
// queriers' executor (the per-tenant queue and the query workers) that cuts
// range queries by time (split.ts), runs the slices concurrently, at most
// max_query_parallelism of one query at once, each through the results
// cache when the query is cacheable (results-cache.ts), and joins their
// answers (merge.ts). Instant queries and metadata reads pass through
// unchanged.

import type { Counter } from 'prom-client';
import type { QueryLimitsSource } from '../querier/query-limits.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import { splitTenants } from '../tenant/tenant.js';
import { mergeMatrixBodies } from './merge.js';
import type { ResultsCache } from './results-cache.js';
import { alignToStep, splitByInterval } from './split.js';

/** DEFAULT_MAX_QUERY_PARALLELISM is Mimir's -querier.max-query-parallelism. */
export const DEFAULT_MAX_QUERY_PARALLELISM = 14;

/** FrontendOptions configure the query-frontend. */
export interface FrontendOptions {
  /** splitIntervalMs is -query-frontend.split-queries-by-interval (0: no splitting). */
  splitIntervalMs: number;
  /** alignWithStep is -query-frontend.align-queries-with-step. */
  alignWithStep: boolean;
  /** limits give each tenant's max_query_parallelism (-querier.max-query-parallelism). */
  limits?: QueryLimitsSource;
  /** resultsCache, when set, answers the slices of cacheable queries from cached extents. */
  resultsCache?: ResultsCache;
  /** splitQueries counts the sub-queries run (cortex_frontend_split_queries_total). */
  splitQueries?: Counter;
}

/** maxQueryParallelismFor is a (possibly federated) tenant's max_query_parallelism: the smallest positive one. */
export function maxQueryParallelismFor(limits: QueryLimitsSource | undefined, tenant: string): number {
  if (limits === undefined) return DEFAULT_MAX_QUERY_PARALLELISM;
  let out = 0;
  for (const id of splitTenants(tenant)) {
    const v = limits.values(id).get('querier.max-query-parallelism');
    if (typeof v === 'number' && v > 0 && (out === 0 || v < out)) out = v;
  }
  return out > 0 ? out : DEFAULT_MAX_QUERY_PARALLELISM;
}

/** runBounded runs the tasks with at most `parallelism` at once, answers in task order; it stops starting new ones after a failure or a throw. */
export async function runBounded<T, R>(items: T[], parallelism: number, fn: (item: T) => Promise<R>, failed: (r: R) => boolean): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && next < items.length) {
      const i = next++;
      let r: R;
      try {
        r = await fn(items[i]!);
      } catch (err) {
        stop = true;
        throw err;
      }
      out[i] = r;
      if (failed(r)) stop = true;
    }
  };
  const workers: Array<Promise<void>> = [];
  for (let i = 0; i < Math.max(1, Math.min(parallelism, items.length)); i++) workers.push(worker());
  await Promise.all(workers);
  return out;
}

/** isFailure tells a worker's failure from its encoded body. */
export function isFailure(a: WorkerAnswer): a is Exclude<WorkerAnswer, Uint8Array> {
  return !(a instanceof Uint8Array);
}

/** bodyText decodes an encoded body. */
export function bodyText(a: Uint8Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf8');
}

/** QueryFrontend splits range queries before they reach the inner executor. */
export class QueryFrontend implements QueryExecutor {
  readonly readMetadata?: QueryExecutor['readMetadata'];

  constructor(
    private readonly inner: QueryExecutor,
    private readonly opts: FrontendOptions,
  ) {
    if (inner.readMetadata !== undefined) this.readMetadata = inner.readMetadata.bind(inner);
  }

  /** prepare applies step alignment to a range query. */
  prepare(task: QueryTask): QueryTask {
    return task.kind === 'range' && this.opts.alignWithStep ? alignToStep(task) : task;
  }

  async run(task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> {
    if (task.kind !== 'range') return this.inner.run(task, signal);
    return this.runSplit(this.prepare(task), signal);
  }

  /** runSplit runs a (prepared) range query as its time slices and joins them. */
  async runSplit(task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> {
    const parts = splitByInterval(task, this.opts.splitIntervalMs);
    this.opts.splitQueries?.inc(parts.length);
    const cache = this.opts.resultsCache !== undefined && this.opts.resultsCache.cacheable(task) ? this.opts.resultsCache : undefined;
    if (parts.length === 1) return cache !== undefined ? cache.run(parts[0]!, (t) => this.inner.run(t, signal)) : this.inner.run(parts[0]!, signal);
    // Once one part fails, the parts still queued or running are abandoned (their signal aborts).
    const partsAbort = new AbortController();
    const onAbort = (): void => partsAbort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const runPart = (p: QueryTask): Promise<WorkerAnswer> => (cache !== undefined ? cache.run(p, (t) => this.inner.run(t, partsAbort.signal)) : this.inner.run(p, partsAbort.signal));
    try {
      const answers = await runBounded(parts, maxQueryParallelismFor(this.opts.limits, task.tenant), runPart, isFailure);
      for (const a of answers) {
        if (a !== undefined && isFailure(a)) {
          partsAbort.abort(new Error('another part of the query failed'));
          return a;
        }
      }
      return new Uint8Array(Buffer.from(mergeMatrixBodies(answers.map((a) => bodyText(a as Uint8Array))), 'utf8'));
    } catch (err) {
      partsAbort.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
