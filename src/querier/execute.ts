// execute.ts is the one path from a QueryTask to an encoded answer: evaluate
// the query with the engine (which parses it) over the given kernels, apply
// `limit`, and encode the body.
// The query worker (workers/query.ts) runs it off the main thread; the
// conformance runner (src/promql/conformance/) runs it directly, so what the
// scripts check is what the HTTP API answers.

import { ParseError } from '../promql/parser/errors.js';
import { documentedType, exprType, parseExpr } from '../promql/parser/parser.js';
import { instantQuery, rangeQuery, type EngineQueryOptions } from '../promql/engine/engine.js';
import { EngineError, type Kernels, type QueryResult } from '../promql/engine/types.js';
import { encodeQuerySuccess } from './format.js';
import { limitedKernels } from './query-limits.js';
import type { QueryTask } from './query-params.js';

/** TRUNCATED_BY_LIMIT is Prometheus's warning when `limit` dropped series. */
export const TRUNCATED_BY_LIMIT = 'results truncated due to limit';

/** QueryFailureKind is the Prometheus errorType of a failed query. */
export type QueryFailureKind = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

/** QueryFailure is a failed query: message is the engine's or parser's own text. */
export interface QueryFailure {
  ok: false;
  kind: QueryFailureKind;
  message: string;
  /** param names the request parameter the error is about (the API prefixes `invalid parameter "query": `). */
  param?: 'query';
}

/** QuerySuccess carries the whole encoded response body. */
export interface QuerySuccess {
  ok: true;
  body: string;
}

/** QueryOutcome is what executeQuery returns (plain data, structured-clone safe). */
export type QueryOutcome = QuerySuccess | QueryFailure;

/** TIMEOUT_MESSAGE is the engine's text when the deadline passed before evaluation. */
export const TIMEOUT_MESSAGE = 'query timed out in expression evaluation';

/** DEFAULT_SUBQUERY_STEP_MS is the step of `[range:]` subqueries (Prometheus's and Mimir's default evaluation interval). */
export const DEFAULT_SUBQUERY_STEP_MS = 60_000;

/**
 * checkRangeQueryType rejects range queries that are not of scalar or
 * instant-vector type, worded as Prometheus's NewRangeQuery.
 */
export function checkRangeQueryType(query: string): void {
  const t = exprType(parseExpr(query));
  if (t !== 'vector' && t !== 'scalar') {
    throw new EngineError('bad_data', `invalid expression type ${JSON.stringify(documentedType(t))} for range query, must be Scalar or instant Vector`);
  }
}

/** engineOptions are the engine settings a query task carries (tenant, lookback, sample limit, deadline, subquery step). */
export function engineOptions(task: QueryTask): EngineQueryOptions {
  return {
    tenant: task.tenant,
    lookbackDeltaMs: task.lookbackDeltaMs,
    maxSamples: task.maxSamples,
    deadline: task.deadline,
    defaultSubqueryStepMs: DEFAULT_SUBQUERY_STEP_MS,
  };
}

/**
 * evaluateTask evaluates a task and returns the raw result (no limit
 * applied). The engine is given the text and parses it itself (it keeps the
 * text for the positions in annotations). Throws ParseError, EngineError or
 * anything else.
 */
export function evaluateTask(kernels: Kernels, task: QueryTask, signal?: AbortSignal): QueryResult {
  if (task.kind === 'range') checkRangeQueryType(task.query);
  if (Date.now() >= task.deadline) throw new EngineError('timeout', TIMEOUT_MESSAGE);
  const opts = engineOptions(task);
  if (task.useStartTimestamps === true) opts.useStartTimestamps = true;
  if (signal !== undefined) opts.signal = signal;
  // One limiter per query: the partial query length and the distinct series over every selection.
  const limited = limitedKernels(kernels, { maxPartialQueryLengthMs: task.maxPartialQueryLengthMs ?? 0, maxFetchedSeriesPerQuery: task.maxFetchedSeriesPerQuery ?? 0 });
  if (task.kind === 'instant') return instantQuery(limited, task.query, task.startMs, opts);
  return rangeQuery(limited, task.query, task.startMs, task.endMs, task.stepMs, opts);
}

/** applyLimit keeps the first limit series of a vector or matrix, adding Prometheus's warning when any were dropped. */
export function applyLimit(result: QueryResult, limit: number): QueryResult {
  if (limit <= 0) return result;
  const v = result.value;
  if ((v.resultType === 'vector' || v.resultType === 'matrix') && v.series.length > limit) {
    const value: QueryResult['value'] = v.resultType === 'vector' ? { ...v, series: v.series.slice(0, limit) } : { ...v, series: v.series.slice(0, limit) };
    return { ...result, value, warnings: [...result.warnings, TRUNCATED_BY_LIMIT] };
  }
  return result;
}

/** toFailure classifies anything evaluateTask threw. */
export function toFailure(err: unknown): QueryFailure {
  if (err instanceof ParseError) return { ok: false, kind: 'bad_data', message: err.message, param: 'query' };
  if (err instanceof EngineError) {
    if (err.kind === 'bad_data') return { ok: false, kind: 'bad_data', message: err.message, param: 'query' };
    return { ok: false, kind: err.kind, message: err.message };
  }
  return { ok: false, kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** executeQuery runs a task end to end and never throws. */
export function executeQuery(kernels: Kernels, task: QueryTask, signal?: AbortSignal): QueryOutcome {
  try {
    const result = applyLimit(evaluateTask(kernels, task, signal), task.limit);
    return { ok: true, body: encodeQuerySuccess(result) };
  } catch (err) {
    return toFailure(err);
  }
}
