// query-sharding.ts runs a query (a split slice of a range query, or an
// instant query) sharded, as Mimir's querySharding middleware does: it
// picks the number of shards (the tenant's query_sharding_total_shards, or
// the request's `Sharding-Control` header; fewer when the shard queries
// would exceed query_sharding_max_sharded_queries over all of the query's
// splits; none when a regexp matcher is longer than
// query_sharding_max_regexp_size_bytes), rewrites the query (sharding.ts),
// runs every shard query through the downstream path, and evaluates the
// outer expression with the PromQL engine over the shards' answers. The
// answer is the unsharded query's: per shard, the queriers select only the
// series whose label-set hash falls in it (native/core/src/index/shard.rs).
// A query that cannot be sharded, or whose shard answers carry native
// histograms (which the JSON answers do not carry exactly), runs unsharded;
// so does one whose shards' sums would not add up to the plain query's
// (shardSumsExact, the rule in sharding.ts's header).

import { log } from '../log.js';
import { instantQuery, rangeQuery, type EngineQueryOptions } from '../promql/engine/engine.js';
import { compareLabels } from '../promql/engine/labels.js';
import { type Kernels, type Labels, type QueryResult, type StepGrid } from '../promql/engine/types.js';
import type { Series } from '../promql/engine/value.js';
import type { Expr } from '../promql/parser/ast.js';
import { parseExpr } from '../promql/parser/parser.js';
import { applyLimit, engineOptions, toFailure } from '../querier/execute.js';
import { encodeQuerySuccess, parseFloatValue, parseTimestampValue } from '../querier/format.js';
import type { WorkerAnswer } from '../querier/query-executor.js';
import { smallestPositive, type QueryLimitsSource } from '../querier/query-limits.js';
import type { QueryTask } from '../querier/query-params.js';
import { splitTenants } from '../tenant/tenant.js';
import { mergeAnnotations } from './merge.js';
import type { CounterLike } from './results-cache.js';
import { embeddedKey, longestRegexpMatcherBytes, shardableLegs, shardQuery, shardSumsExact, type ShardedQuery } from './sharding.js';

/** Defaults of Mimir's query sharding limits. */
export const DEFAULT_QUERY_SHARDING_TOTAL_SHARDS = 16;
export const DEFAULT_QUERY_SHARDING_MAX_SHARDED_QUERIES = 128;
export const DEFAULT_QUERY_SHARDING_MAX_REGEXP_SIZE_BYTES = 4096;

/** QueryShardingMetrics are Mimir's query sharding counters. */
export interface QueryShardingMetrics {
  /** attempts is cortex_frontend_query_sharding_rewrites_attempted_total. */
  attempts: CounterLike;
  /** successes is cortex_frontend_query_sharding_rewrites_succeeded_total. */
  successes: CounterLike;
  /** shardedQueries is cortex_frontend_sharded_queries_total. */
  shardedQueries: CounterLike;
  /** perQuery is cortex_frontend_sharded_queries_per_query. */
  perQuery?: { observe(v: number): void };
}

/** QueryShardingOptions configure the sharding of one frontend. */
export interface QueryShardingOptions {
  limits?: QueryLimitsSource;
  metrics?: QueryShardingMetrics;
}

/** limitValues reads a numeric limit of every tenant of a (possibly federated) tenant text, the default where unset. */
function limitValues(limits: QueryLimitsSource | undefined, tenant: string, name: string, dflt: number): number[] {
  return splitTenants(tenant).map((id) => {
    const v = limits?.values(id).get(name);
    return typeof v === 'number' ? v : dflt;
  });
}

/** smallest is the smallest value (Mimir's SmallestPositiveIntPerTenant: 0 or less disables). */
function smallest(values: number[]): number {
  return values.length === 0 ? 0 : Math.min(...values);
}

/**
 * shardsForQuery is the number of shards to run the query with (Mimir's
 * getShardsForQuery), 1 or less for none. totalQueries is how many queries
 * the original query was split into.
 */
export function shardsForQuery(opts: QueryShardingOptions, task: QueryTask, expr: Expr, totalQueries: number): number {
  if (task.totalShards !== undefined && task.totalShards < 1) return 1;
  let shards = smallest(limitValues(opts.limits, task.tenant, 'query-frontend.query-sharding-total-shards', DEFAULT_QUERY_SHARDING_TOTAL_SHARDS));
  if (shards <= 1) return 1;
  const maxRegexp = smallestPositive(limitValues(opts.limits, task.tenant, 'query-frontend.query-sharding-max-regexp-size-bytes', DEFAULT_QUERY_SHARDING_MAX_REGEXP_SIZE_BYTES));
  if (maxRegexp > 0 && longestRegexpMatcherBytes(expr) > maxRegexp) return 1;
  if (task.totalShards !== undefined && task.totalShards > 0) shards = task.totalShards;
  const maxSharded = smallest(limitValues(opts.limits, task.tenant, 'query-frontend.query-sharding-max-sharded-queries', DEFAULT_QUERY_SHARDING_MAX_SHARDED_QUERIES));
  if (maxSharded > 0) {
    const legs = Math.max(1, shardableLegs(expr));
    shards = Math.max(1, Math.min(shards, Math.floor(Math.floor(maxSharded / Math.max(1, totalQueries)) / legs)));
  }
  return shards;
}

/** HISTOGRAM_MEMO bounds QuerySharding.withHistograms. */
const HISTOGRAM_MEMO = 1000;

/** POSITION is the ` (line:col)` an annotation ends with: the shard query's, meaningless for the user's query. */
const POSITION = / \(\d+:\d+\)$/;

/** Decoded is the shard answers of one concatenation on the query's grid. */
type Decoded = Series[];

/** BodyJson is a shard query's success body as decoded. */
interface BodyJson {
  status: string;
  data: { resultType: string; result: Array<{ metric: Labels; values?: Array<[number, string]>; value?: [number, string]; histograms?: unknown; histogram?: unknown }> };
  warnings?: string[];
  infos?: string[];
}

/** decodeShardBody turns a shard's answer into series on the grid; undefined when it cannot be used (histograms, another shape). */
function decodeShardBody(body: BodyJson, grid: StepGrid, into: Decoded): boolean {
  const { resultType, result } = body.data;
  if (!Array.isArray(result) || (resultType !== 'matrix' && resultType !== 'vector')) return false;
  for (const s of result) {
    if (s.histograms !== undefined || s.histogram !== undefined) return false;
    const series: Series = { labels: s.metric, values: new Float64Array(grid.n), present: new Uint8Array(grid.n), dropName: false };
    const points = s.values ?? (s.value !== undefined ? [s.value] : []);
    for (const [t, v] of points) {
      const at = (parseTimestampValue(t) - grid.startMs) / grid.stepMs;
      if (!Number.isInteger(at) || at < 0 || at >= grid.n) return false;
      series.values[at] = parseFloatValue(v);
      series.present[at] = 1;
    }
    into.push(series);
  }
  return true;
}

/** NO_STORAGE are the kernels of the outer expression: every selector in it is a concatenation, never selected. */
const NO_STORAGE: Kernels = {
  select: noStorage,
  instant: noStorage,
  range: noStorage,
};

/** noStorage fails a selection in the outer expression (shardQuery never leaves one). */
function noStorage(): never {
  throw new Error('query-frontend: a sharded query selected series outside its shard queries');
}

/** INEXACT is runShards' answer when the shards' sums do not add up to the unsharded query's (shardSumsExact). */
const INEXACT = Symbol('inexact');

/** ShardRun is how a shard query reaches the queriers. */
export type ShardRun = (t: QueryTask) => Promise<WorkerAnswer>;

/**
 * QuerySharding runs queries sharded when they can be; `run` answers a
 * query (sharded or not) through the downstream path.
 */
export class QuerySharding {
  /**
   * withHistograms are the tenant-and-query keys whose shard answers carried
   * native histograms lately: they run unsharded at once (the first slice
   * of such a query found out), at most HISTOGRAM_MEMO of them, oldest
   * forgotten first.
   */
  private readonly withHistograms = new Set<string>();

  constructor(private readonly opts: QueryShardingOptions) {}

  /**
   * run answers the task, sharded when it can be; totalQueries is how many
   * queries the original query was split into (for the max sharded queries
   * limit).
   */
  async run(task: QueryTask, totalQueries: number, run: ShardRun): Promise<WorkerAnswer> {
    // An instant query's `limit` keeps its first series, in an order sharding may change.
    if (task.kind === 'instant' && task.limit > 0) return run(task);
    const memoKey = `${task.tenant}\u0000${task.query}`;
    if (this.withHistograms.has(memoKey)) return run(task);
    let expr: Expr;
    try {
      expr = parseExpr(task.query);
    } catch {
      return run(task);
    }
    const shards = shardsForQuery(this.opts, task, expr, totalQueries);
    if (shards <= 1) return run(task);
    this.opts.metrics?.attempts.inc();
    let sharded: ShardedQuery | undefined;
    try {
      sharded = shardQuery(expr, shards);
    } catch (err) {
      log.warn('failed to rewrite the input query into a shardable query, falling back to try executing without sharding', { query: task.query, err: err instanceof Error ? err.message : String(err) });
    }
    if (sharded === undefined) return run(task);
    this.opts.metrics?.successes.inc();
    this.opts.metrics?.shardedQueries.inc(sharded.shardedQueries);
    this.opts.metrics?.perQuery?.observe(sharded.shardedQueries);
    log.debug('query has been rewritten into a shardable query', { query: task.query, sharded_queries: sharded.shardedQueries });
    const answer = await this.runShards(task, sharded, run);
    if (answer === INEXACT) {
      log.debug('sharded query sums would differ from the unsharded ones, running it without sharding', { query: task.query });
      return run(task);
    }
    if (answer !== undefined) return answer;
    log.debug('sharded query answers carry native histograms, running it without sharding', { query: task.query });
    if (this.withHistograms.size >= HISTOGRAM_MEMO) this.withHistograms.delete(this.withHistograms.values().next().value!);
    this.withHistograms.add(memoKey);
    return run(task);
  }

  /**
   * runShards runs the shard queries and evaluates the outer expression;
   * undefined when the answers cannot be combined (histograms), INEXACT when
   * adding them up would not give the unsharded answer.
   */
  private async runShards(task: QueryTask, sharded: ShardedQuery, run: ShardRun): Promise<WorkerAnswer | typeof INEXACT | undefined> {
    const nodes = [...sharded.embedded.entries()];
    const tasks = nodes.flatMap(([, queries]) => queries.map((query): QueryTask => ({ ...task, query, limit: 0 })));
    const answers = await Promise.all(tasks.map((t) => run(t)));
    for (const a of answers) if (!(a instanceof Uint8Array)) return a;
    const grid: StepGrid = task.kind === 'range' ? { startMs: task.startMs, stepMs: task.stepMs, n: Math.floor((task.endMs - task.startMs) / task.stepMs) + 1 } : { startMs: task.startMs, stepMs: 1, n: 1 };
    const values = new Map<string, Decoded>();
    const warnings: string[] = [];
    const infos: string[] = [];
    let at = 0;
    for (const [node, queries] of nodes) {
      const series: Decoded = [];
      for (let i = 0; i < queries.length; i++) {
        const a = answers[at++] as Uint8Array;
        const body = JSON.parse(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf8')) as BodyJson;
        if (body.status !== 'success' || !decodeShardBody(body, grid, series)) return undefined;
        for (const w of body.warnings ?? []) warnings.push(w.replace(POSITION, ''));
        for (const w of body.infos ?? []) infos.push(w.replace(POSITION, ''));
      }
      // In label order (shards in order for equal labels), as a selection is: functions and
      // aggregations that keep their input order (topk ties) see the series as unsharded.
      values.set(node, series.sort((x, y) => compareLabels(x.labels, y.labels)));
      if (sharded.summed.has(node) && !shardSumsExact(series)) return INEXACT;
    }
    const opts: EngineQueryOptions = {
      ...engineOptions(task),
      // Each use gets its own series objects over the decoded arrays (no node changes its inputs' arrays).
      embedded: (vs) => {
        const key = embeddedKey(vs);
        return key === undefined ? undefined : values.get(key)?.map((s) => ({ ...s }));
      },
    };
    let result: QueryResult;
    try {
      result = task.kind === 'range' ? rangeQuery(NO_STORAGE, sharded.expr, task.startMs, task.endMs, task.stepMs, opts) : instantQuery(NO_STORAGE, sharded.expr, task.startMs, opts);
    } catch (err) {
      return toFailure(err);
    }
    result = applyLimit(result, task.limit);
    result = { ...result, warnings: mergeAnnotations([...result.warnings, ...warnings]), infos: mergeAnnotations([...result.infos, ...infos]) };
    return new Uint8Array(Buffer.from(encodeQuerySuccess(result), 'utf8'));
  }
}
