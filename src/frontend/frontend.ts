// frontend.ts is the query-frontend: a QueryExecutor in front of the
// queriers' executor (the per-tenant queue and the query workers) that cuts
// range queries by time (split.ts), runs the slices concurrently, each
// through the results cache when the query is cacheable (results-cache.ts),
// each slice (and each instant query) sharded when query sharding is on
// (query-sharding.ts), and joins their answers (merge.ts). At most
// max_query_parallelism of one query's sub-queries (slices x shards) run
// downstream at once. Metadata reads pass through unchanged.

import type { Counter } from 'prom-client';
import { smallestPositive, type QueryLimitsSource } from '../querier/query-limits.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import { splitTenants } from '../tenant/tenant.js';
import { mergeMatrixBodies } from './merge.js';
import type { QuerySharding } from './query-sharding.js';
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
  /** sharding, when set, runs shardable queries sharded (-query-frontend.parallelize-shardable-queries). */
  sharding?: QuerySharding;
}

/** maxQueryParallelismFor is a (possibly federated) tenant's max_query_parallelism: the smallest positive one. */
export function maxQueryParallelismFor(limits: QueryLimitsSource | undefined, tenant: string): number {
  if (limits === undefined) return DEFAULT_MAX_QUERY_PARALLELISM;
  const out = smallestPositive(splitTenants(tenant).map((id) => {
    const v = limits.values(id).get('querier.max-query-parallelism');
    return typeof v === 'number' ? v : 0;
  }));
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

/** limiter returns fn bounded to `parallelism` calls running at once (the others wait their turn, in call order). */
export function limiter<A, R>(parallelism: number, fn: (a: A) => Promise<R>): (a: A) => Promise<R> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (a: A): Promise<R> => {
    if (running >= parallelism) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn(a);
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else running--;
    }
  };
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
    if (task.kind !== 'range') {
      const sharding = this.opts.sharding;
      if (sharding === undefined) return this.inner.run(task, signal);
      return sharding.run(task, 1, this.downstream(task, signal));
    }
    return this.runSplit(this.prepare(task), signal);
  }

  /** downstream is the inner executor bounded to the tenant's max_query_parallelism, for one query's sub-queries. */
  private downstream(task: QueryTask, signal: AbortSignal): (t: QueryTask) => Promise<WorkerAnswer> {
    return limiter(maxQueryParallelismFor(this.opts.limits, task.tenant), (t: QueryTask) => this.inner.run(t, signal));
  }

  /** runSplit runs a (prepared) range query as its time slices and joins them. */
  async runSplit(task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> {
    const parts = splitByInterval(task, this.opts.splitIntervalMs);
    this.opts.splitQueries?.inc(parts.length);
    const cache = this.opts.resultsCache !== undefined && this.opts.resultsCache.cacheable(task) ? this.opts.resultsCache : undefined;
    // Once one part fails, the parts still queued or running are abandoned (their signal aborts).
    const partsAbort = new AbortController();
    const onAbort = (): void => partsAbort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const down = this.downstream(task, partsAbort.signal);
    const sharding = this.opts.sharding;
    const runSlice = sharding === undefined ? down : (t: QueryTask) => sharding.run(t, parts.length, down);
    const runPart = (p: QueryTask): Promise<WorkerAnswer> => (cache !== undefined ? cache.run(p, runSlice) : runSlice(p));
    try {
      if (parts.length === 1) return await runPart(parts[0]!);
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
