// query.ts answers the PromQL endpoints of the Prometheus HTTP API for one
// tenant: /api/v1/query, /api/v1/query_range (GET or POST form) and
// /api/v1/format_query. Parameters are checked here (query-params.ts); the
// query itself is parsed, evaluated and encoded by the query executor (a
// Piscina worker), within a deadline of min(`timeout`, -querier.timeout),
// and abandoned when the client goes away.

import type { Visibility } from '../auth/visibility.js';
import type { Config } from '../config/config.js';
import { ApiError, successEnvelope } from '../errors.js';
import { log } from '../log.js';
import { ParseError } from '../promql/parser/errors.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { QueryFailure } from './execute.js';
import type { QueryExecutor } from './query-executor.js';
import { queryLimitsFor, totalQueryLengthError, type QueryLimitsSource } from './query-limits.js';
import { parseInstantQueryParams, parseRangeQueryParams, parseShardingControl, type QueryRequestParams, type QueryTask } from './query-params.js';

/** Formatter parses and pretty-prints a query for format_query (parser + printer). */
export type Formatter = (query: string) => string;

/** loadFormatter imports the parser and printer on first use, so the server starts without them. */
async function loadFormatter(): Promise<Formatter> {
  const mod = await import('./format-query.js');
  return mod.prettyQuery;
}

/** WORKER_TIMEOUT_MESSAGE is the answer when the worker did not answer by the deadline. */
const WORKER_TIMEOUT_MESSAGE = 'query timed out in query execution';

/** WORKER_GRACE_MS is how long past the deadline the worker may take before the query is abandoned. */
const WORKER_GRACE_MS = 1000;

/** failureError turns a worker failure into the API error, prefixed as Prometheus's invalidParamError. */
export function failureError(f: QueryFailure): ApiError {
  const message = f.param === undefined ? f.message : `invalid parameter ${JSON.stringify(f.param)}: ${f.message}`;
  return new ApiError(f.kind, message);
}

/** QueryApi serves the PromQL endpoints over a QueryExecutor. */
export class QueryApi {
  private readonly logger = log.with({ component: 'querier' });

  constructor(
    private readonly config: Config,
    private readonly executor: QueryExecutor,
    private formatter?: Formatter,
    private readonly now: () => number = Date.now,
    private readonly limits?: QueryLimitsSource,
  ) {}

  /** query answers /api/v1/query. */
  readonly query = (req: Request, res: Response): Promise<void> => this.run(req, res, parseInstantQueryParams(req.form, this.now()));

  /** queryRange answers /api/v1/query_range. */
  readonly queryRange = (req: Request, res: Response): Promise<void> => this.run(req, res, parseRangeQueryParams(req.form));

  /** formatQuery answers /api/v1/format_query with the prettified query. */
  readonly formatQuery = async (req: Request, res: Response): Promise<void> => {
    this.formatter ??= await loadFormatter();
    let pretty: string;
    try {
      pretty = this.formatter(req.form.get('query') ?? '');
    } catch (err) {
      if (err instanceof ParseError) throw new ApiError('bad_data', `invalid parameter "query": ${err.message}`);
      throw err;
    }
    res.json(200, successEnvelope(pretty));
  };

  /** task adds the server's settings to the request's parameters. */
  task(tenant: string, p: QueryRequestParams, nowMs: number, visibility?: Visibility): QueryTask {
    const serverTimeout = this.config.querierTimeoutMs;
    const timeoutMs = p.timeoutMs === undefined ? serverTimeout : Math.min(p.timeoutMs, serverTimeout);
    return {
      tenant,
      query: p.query,
      kind: p.kind,
      startMs: p.startMs,
      endMs: p.endMs,
      stepMs: p.stepMs,
      limit: p.limit,
      lookbackDeltaMs: p.lookbackDeltaMs !== undefined && p.lookbackDeltaMs > 0 ? p.lookbackDeltaMs : this.config.lookbackDeltaMs,
      maxSamples: this.config.querierMaxSamples,
      deadline: nowMs + timeoutMs,
      ...(this.config.useStartTimestamps ? { useStartTimestamps: true } : {}),
      ...this.querierLimits(tenant),
      ...(visibility !== undefined ? { visibility } : {}),
    };
  }

  /** querierLimits are the tenant's limits the worker enforces while selecting. */
  private querierLimits(tenant: string): Pick<QueryTask, 'maxPartialQueryLengthMs' | 'maxFetchedSeriesPerQuery'> {
    if (this.limits === undefined) return {};
    const l = queryLimitsFor(this.limits, tenant);
    return { maxPartialQueryLengthMs: l.maxPartialQueryLengthMs, maxFetchedSeriesPerQuery: l.maxFetchedSeriesPerQuery };
  }

  private async run(req: Request, res: Response, params: QueryRequestParams): Promise<void> {
    if (params.kind === 'range' && this.limits !== undefined) {
      // The query-frontend's check, before anything runs.
      const tooLong = totalQueryLengthError(params.startMs, params.endMs, queryLimitsFor(this.limits, req.tenant).maxTotalQueryLengthMs);
      if (tooLong !== undefined) throw new ApiError('bad_data', tooLong);
    }
    const task = this.task(req.tenant, params, Date.now(), req.visibility);
    if (/(?:^|[\s,])no-store(?:$|[\s,])/i.test(req.headers.get('cache-control') ?? '')) task.cacheNoStore = true;
    const totalShards = parseShardingControl(req.headers.get('sharding-control'));
    if (totalShards !== undefined) task.totalShards = totalShards;
    const abort = new AbortController();
    res.whenDone(() => {
      if (res.aborted) abort.abort(new Error('client closed the request'));
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(WORKER_TIMEOUT_MESSAGE));
    }, Math.max(0, task.deadline - Date.now()) + WORKER_GRACE_MS);
    let answer: Awaited<ReturnType<QueryExecutor['run']>>;
    try {
      answer = await this.executor.run(task, abort.signal);
    } catch (err) {
      if (res.aborted) return;
      if (timedOut) throw new ApiError('timeout', WORKER_TIMEOUT_MESSAGE);
      // The scheduler's refusal (429 too many outstanding requests) as it is.
      if (err instanceof ApiError) throw err;
      this.logger.error('query worker failed', { err: err instanceof Error ? err.message : String(err) });
      throw new ApiError('internal', err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
    }
    if (answer instanceof Uint8Array) {
      res.send(200, Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength), CONTENT_TYPE.json);
      return;
    }
    throw failureError(answer);
  }
}
