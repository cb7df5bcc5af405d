// query-limits.ts holds the per-tenant query limits Mimir enforces on reads,
// with Mimir's texts (each names the flag to change):
//   - -query-frontend.max-total-query-length (max_total_query_length): the
//     end - start of a range query, checked before it runs: 400 bad_data;
//   - -querier.max-partial-query-length (max_partial_query_length): the time
//     range each selection reads (its matrix range or lookback included), a
//     limit error of the querier: 422 execution for PromQL, prefixed
//     "expanding series: " as Prometheus's engine wraps storage errors;
//   - -querier.max-fetched-series-per-query (max_fetched_series_per_query):
//     distinct series one query fetches over all its selections, 422 likewise.
// Remote read answers both querier limits with 400 in plain text, as Mimir's
// remote-read handler does for limit errors. A federated read takes, per
// limit, the smallest non-zero value among its tenants (as Mimir's
// SmallestPositiveNonZero helpers).

import type { ConfigValues } from '../config/parse.js';
import { EngineError, type Kernels, type Labels, type SelectedSeries } from '../promql/engine/types.js';
import { splitTenants } from '../tenant/tenant.js';

/** QueryLimits are one read's limits (0 = none); ms for durations. */
export interface QueryLimits {
  maxPartialQueryLengthMs: number;
  maxTotalQueryLengthMs: number;
  maxFetchedSeriesPerQuery: number;
}

/** NO_QUERY_LIMITS disables every limit. */
export const NO_QUERY_LIMITS: QueryLimits = { maxPartialQueryLengthMs: 0, maxTotalQueryLengthMs: 0, maxFetchedSeriesPerQuery: 0 };

/** QueryLimitsSource gives a tenant's effective flag values (its runtime overrides on top of the defaults). */
export interface QueryLimitsSource {
  values(tenant: string): ConfigValues;
}

function num(values: ConfigValues, name: string): number {
  const v = values.get(name);
  return typeof v === 'number' && v > 0 ? v : 0;
}

/** smallestPositive is the smallest value above 0, or 0 when there is none. */
export function smallestPositive(values: number[]): number {
  let out = 0;
  for (const v of values) if (v > 0 && (out === 0 || v < out)) out = v;
  return out;
}

/** queryLimitsFor reads the limits of a (possibly federated, `a|b`) tenant text. */
export function queryLimitsFor(source: QueryLimitsSource, tenant: string): QueryLimits {
  const all = splitTenants(tenant).map((id) => source.values(id));
  return {
    maxPartialQueryLengthMs: smallestPositive(all.map((v) => num(v, 'querier.max-partial-query-length'))),
    maxTotalQueryLengthMs: smallestPositive(all.map((v) => num(v, 'query-frontend.max-total-query-length'))),
    maxFetchedSeriesPerQuery: smallestPositive(all.map((v) => num(v, 'querier.max-fetched-series-per-query'))),
  };
}

/**
 * formatGoDuration renders a duration of whole milliseconds as Go's
 * time.Duration.String does: "1h0m0s", "721h1m0s", "1m30.5s", "500ms", "0s".
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const frac = rest - s * 1000;
  const secs = frac === 0 ? String(s) : `${s}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
  if (h > 0) return `${sign}${h}h${m}m${secs}s`;
  if (m > 0) return `${sign}${m}m${secs}s`;
  return `${sign}${secs}s`;
}

/** perTenantLimit words Mimir's suffix of a per-tenant limit error. */
function perTenantLimit(id: string, flag: string): string {
  return ` (err-mimir-${id}). To adjust the related per-tenant limit, configure -${flag}, or contact your service administrator.`;
}

/** maxQueryLengthMessage is Mimir's NewMaxQueryLengthError text (the querier's partial query length). */
export function maxQueryLengthMessage(actualMs: number, limitMs: number): string {
  return `the query time range exceeds the limit (query length: ${formatGoDuration(actualMs)}, limit: ${formatGoDuration(limitMs)})` + perTenantLimit('max-query-length', 'querier.max-partial-query-length');
}

/** maxTotalQueryLengthMessage is Mimir's query-frontend text for max_total_query_length. */
export function maxTotalQueryLengthMessage(actualMs: number, limitMs: number): string {
  return (
    `the total query time range exceeds the limit (query length: ${formatGoDuration(actualMs)}, limit: ${formatGoDuration(limitMs)})` +
    perTenantLimit('max-total-query-length', 'query-frontend.max-total-query-length')
  );
}

/** maxSeriesPerQueryMessage is Mimir's query limiter text for max_fetched_series_per_query. */
export function maxSeriesPerQueryMessage(limit: number): string {
  return (
    `the query exceeded the maximum number of series (limit: ${limit} series) (err-mimir-max-series-per-query). ` +
    'Consider reducing the time range and/or number of series selected by the query. One way to reduce the number of selected series is to add more label matchers to the query. ' +
    'Otherwise, to adjust the related per-tenant limit, configure -querier.max-fetched-series-per-query, or contact your service administrator.'
  );
}

/** QueryLimitError is a querier limit hit (Mimir's validation.LimitError): 422 for PromQL, 400 for remote read. */
export class QueryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryLimitError';
  }
}

/** totalQueryLengthError is the frontend's check of a range query, undefined when within the limit. */
export function totalQueryLengthError(startMs: number, endMs: number, limitMs: number): string | undefined {
  if (limitMs <= 0 || endMs - startMs <= limitMs) return undefined;
  return maxTotalQueryLengthMessage(endMs - startMs, limitMs);
}

/**
 * SeriesLimiter is one query's limiter: it checks each selection's time range
 * and counts the distinct series fetched over every selection.
 */
export class SeriesLimiter {
  private readonly seen = new Set<string>();

  constructor(private readonly limits: Pick<QueryLimits, 'maxPartialQueryLengthMs' | 'maxFetchedSeriesPerQuery'>) {}

  /**
   * checkRange throws when a selection of [mintMs, maxtMs] (both inclusive)
   * is longer than the partial query length; the length is maxt - mint + 1 ms,
   * so that a selector's range or lookback counts whole.
   */
  checkRange(mintMs: number, maxtMs: number): void {
    this.checkLength(maxtMs - mintMs + 1);
  }

  /** checkLength throws when a selection lasting lengthMs is longer than the partial query length. */
  checkLength(lengthMs: number): void {
    const limit = this.limits.maxPartialQueryLengthMs;
    if (limit > 0 && lengthMs > limit) throw new QueryLimitError(maxQueryLengthMessage(lengthMs, limit));
  }

  /** countsSeries tells whether addSeries does anything (a series limit is set). */
  get countsSeries(): boolean {
    return this.limits.maxFetchedSeriesPerQuery > 0;
  }

  /** addSeries counts series by their labels and throws once more than the limit are distinct. */
  addSeries(labelSets: Iterable<Labels>): void {
    const limit = this.limits.maxFetchedSeriesPerQuery;
    if (limit <= 0) return;
    for (const labels of labelSets) {
      this.seen.add(JSON.stringify(labels));
      if (this.seen.size > limit) throw new QueryLimitError(maxSeriesPerQueryMessage(limit));
    }
  }
}

/**
 * limitedKernels wraps the engine's kernels so that every select of one
 * query goes through a SeriesLimiter; a limit hit is an execution error
 * worded as Prometheus's engine words a storage error.
 */
export function limitedKernels(inner: Kernels, limits: Pick<QueryLimits, 'maxPartialQueryLengthMs' | 'maxFetchedSeriesPerQuery'>): Kernels {
  if (limits.maxPartialQueryLengthMs <= 0 && limits.maxFetchedSeriesPerQuery <= 0) return inner;
  const limiter = new SeriesLimiter(limits);
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof QueryLimitError) throw new EngineError('execution', `expanding series: ${err.message}`);
      throw err;
    }
  };
  return {
    select(tenant, matchers, mintMs, maxtMs, maxSamples): SelectedSeries {
      guard(() => limiter.checkRange(mintMs, maxtMs));
      const sel = inner.select(tenant, matchers, mintMs, maxtMs, maxSamples);
      guard(() => limiter.addSeries(sel.labels));
      return sel;
    },
    instant: (data, evalTimesMs, lookbackMs) => inner.instant(data, evalTimesMs, lookbackMs),
    range: (fn, data, evalTimesMs, rangeMs, params) => inner.range(fn, data, evalTimesMs, rangeMs, params),
    // A kernel over selected data: without it start timestamps would be ignored under a limit.
    ...(inner.rangeStartTimes !== undefined ? { rangeStartTimes: inner.rangeStartTimes.bind(inner) } : {}),
    // The fused paths do not return every fetched series (selectRange drops the ones without a value,
    // selectAggregate returns groups), so with a series limit the engine takes select; with only a
    // length limit they run after the range check.
    selectRange:
      inner.selectRange && !limiter.countsSeries
        ? (tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, maxSamples) => {
            guard(() => limiter.checkRange(mintMs, maxtMs));
            return inner.selectRange?.(tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, maxSamples);
          }
        : undefined,
    selectAggregate:
      inner.selectAggregate && !limiter.countsSeries
        ? (tenant, matchers, mintMs, maxtMs, agg, evalTimesMs, op, without, grouping, maxSamples) => {
            guard(() => limiter.checkRange(mintMs, maxtMs));
            return inner.selectAggregate?.(tenant, matchers, mintMs, maxtMs, agg, evalTimesMs, op, without, grouping, maxSamples);
          }
        : undefined,
  };
}
