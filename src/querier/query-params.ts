// query-params.ts reads the parameters of /api/v1/query and
// /api/v1/query_range as Prometheus's web/api/v1 handlers do, in the same
// order and with the same texts (all bad_data):
//   query:       limit, time (default now), timeout, lookback_delta, query
//   query_range: limit, start, end, end >= start, step > 0, <= 11,000 points,
//                timeout, lookback_delta, query
// Durations (step, timeout, lookback_delta) are float seconds or Prometheus
// durations ("15s", "1m30s"). The query text itself is checked in the worker.

import { ApiError, badData } from '../errors.js';
import type { Params } from '../server/params.js';
import type { Visibility } from '../auth/visibility.js';
import { parseLimitParam, parseTime, parseTimeParam } from './params.js';

/** MAX_POINTS_PER_SERIES is Prometheus's fixed cap on (end-start)/step. */
export const MAX_POINTS_PER_SERIES = 11_000;

/** QueryTask is one evaluation, as handed to a query worker (plain data, structured-clone safe). */
export interface QueryTask {
  tenant: string;
  query: string;
  kind: 'instant' | 'range';
  /** startMs = endMs = the evaluation time for instant queries. */
  startMs: number;
  endMs: number;
  /** stepMs is 0 for instant queries. */
  stepMs: number;
  /** limit caps the number of series returned (0 = no limit). */
  limit: number;
  lookbackDeltaMs: number;
  maxSamples: number;
  /** deadline is the wall-clock ms at which evaluation gives up with a timeout. */
  deadline: number;
  /** maxPartialQueryLengthMs is the tenant's -querier.max-partial-query-length (absent or 0: none). */
  maxPartialQueryLengthMs?: number;
  /** maxFetchedSeriesPerQuery is the tenant's -querier.max-fetched-series-per-query (absent or 0: none). */
  maxFetchedSeriesPerQuery?: number;
  /** visibility limits each tenant's series to its label policies (enterprise auth, LBAC). */
  visibility?: Visibility;
  /** useStartTimestamps is -querier.use-start-timestamps (absent: false). */
  useStartTimestamps?: boolean;
  /** cacheNoStore is set when the request said `Cache-Control: no-store`: the query-frontend's results cache is not used. */
  cacheNoStore?: boolean;
  /** totalShards is the request's `Sharding-Control` header: the query-frontend's shard count for it (below 1: no sharding). */
  totalShards?: number;
}

/** QueryRequestParams is what the handlers read before applying server defaults. */
export interface QueryRequestParams {
  query: string;
  kind: 'instant' | 'range';
  startMs: number;
  endMs: number;
  stepMs: number;
  limit: number;
  /** timeoutMs is the `timeout` parameter, undefined when absent. */
  timeoutMs?: number;
  /** lookbackDeltaMs is the `lookback_delta` parameter, undefined when absent. */
  lookbackDeltaMs?: number;
}

const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
const GO_FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI]nf(?:inity)?|NaN)$/;
const MAX_INT64_NS = 9_223_372_036_854_775_807;

/**
 * parsePromDuration parses Prometheus's model.Duration: units y w d h m s ms
 * in that order, integers only, "0" allowed. Returns ms, undefined if invalid.
 */
export function parsePromDuration(s: string): number | undefined {
  if (s === '') return undefined;
  if (s === '0') return 0;
  const m = PROM_DURATION.exec(s);
  if (m === null) return undefined;
  let total = 0;
  let any = false;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part === undefined) continue;
    any = true;
    total += Number(part) * UNIT_MS[i]!;
  }
  return any ? total : undefined;
}

/**
 * parseDurationNs is the API's parseDuration: float seconds first, then a
 * Prometheus duration. Returns nanoseconds (a float: sub-ms steps are
 * checked before they are truncated to ms).
 */
export function parseDurationNs(s: string): number {
  if (GO_FLOAT.test(s)) {
    const secs = /^[+-]?[iI]nf/.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
    if (!Number.isNaN(secs)) {
      const ns = secs * 1e9;
      if (ns > MAX_INT64_NS || ns < -MAX_INT64_NS) throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
      return Math.trunc(ns);
    }
  }
  const ms = parsePromDuration(s);
  if (ms !== undefined) return ms * 1e6;
  throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration`);
}

/** invalidParam wraps err as Prometheus's invalidParamError. */
function invalidParam(err: unknown, name: string): ApiError {
  return badData(`invalid parameter ${JSON.stringify(name)}: ${err instanceof Error ? err.message : String(err)}`);
}

function parseOptionalDurations(form: Params, out: QueryRequestParams): void {
  const timeout = form.get('timeout');
  if (timeout !== undefined && timeout !== '') {
    try {
      out.timeoutMs = parseDurationNs(timeout) / 1e6;
    } catch (err) {
      throw invalidParam(err, 'timeout');
    }
  }
  const lookback = form.get('lookback_delta');
  if (lookback !== undefined && lookback !== '') {
    try {
      out.lookbackDeltaMs = Math.trunc(parseDurationNs(lookback) / 1e6);
    } catch (err) {
      throw badData(`error parsing lookback delta duration: ${(err as Error).message}`);
    }
  }
}

/** parseInstantQueryParams reads /api/v1/query's parameters; nowMs is the default `time`. */
export function parseInstantQueryParams(form: Params, nowMs: number): QueryRequestParams {
  const limit = parseLimitParam(form.get('limit'));
  const timeMs = parseTimeParam(form.get('time'), 'time', nowMs);
  const out: QueryRequestParams = { query: form.get('query') ?? '', kind: 'instant', startMs: timeMs, endMs: timeMs, stepMs: 0, limit };
  parseOptionalDurations(form, out);
  return out;
}

/** parseRangeQueryParams reads /api/v1/query_range's parameters. */
export function parseRangeQueryParams(form: Params): QueryRequestParams {
  const limit = parseLimitParam(form.get('limit'));
  let startMs: number;
  let endMs: number;
  try {
    startMs = parseTime(form.get('start') ?? '');
  } catch (err) {
    throw invalidParam(err, 'start');
  }
  try {
    endMs = parseTime(form.get('end') ?? '');
  } catch (err) {
    throw invalidParam(err, 'end');
  }
  if (endMs < startMs) throw invalidParam(new Error('end timestamp must not be before start time'), 'end');
  let stepNs: number;
  try {
    stepNs = parseDurationNs(form.get('step') ?? '');
  } catch (err) {
    throw invalidParam(err, 'step');
  }
  const stepMs = Math.trunc(stepNs / 1e6);
  if (stepNs <= 0 || stepMs <= 0) {
    throw invalidParam(new Error('zero or negative query resolution step widths are not accepted. Try a positive integer'), 'step');
  }
  // Go divides the durations as integers (nanoseconds).
  if (Math.floor(((endMs - startMs) * 1e6) / stepNs) > MAX_POINTS_PER_SERIES) {
    throw badData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  const out: QueryRequestParams = { query: form.get('query') ?? '', kind: 'range', startMs, endMs, stepMs, limit };
  parseOptionalDurations(form, out);
  return out;
}

/**
 * parseShardingControl reads the `Sharding-Control` header as Mimir's
 * DecodeOptions does: each value that parses as an integer sets the total
 * shards (the last one wins); below 1 disables sharding. Undefined when no
 * value is an integer.
 */
export function parseShardingControl(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined) return undefined;
  let out: number | undefined;
  for (const v of header.split(',')) {
    const s = v.trim();
    if (!/^[+-]?\d+$/.test(s)) continue;
    const n = Number(s);
    if (n > 2_147_483_647 || n < -2_147_483_648) continue;
    out = n;
  }
  return out;
}
