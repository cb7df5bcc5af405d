// results-cache.ts is the query-frontend's results cache, keyed as Mimir's
// (tenant, query, step, the index of the split interval the slice starts
// in; and here the lookback delta too, which changes answers). A cached
// value holds extents: answers of parts of that interval, step-aligned.
// A slice is answered from the extents it overlaps and only the missing
// parts are run; what was run is added to the extents. Never cached: the
// part of a slice newer than now - max_cache_freshness, queries whose
// start or end is not a multiple of the step, queries with an `@` time
// after the query's end or the freshness bound, negative offsets, queries
// that depend on the whole range, limited (LBAC) reads, and requests with
// `Cache-Control: no-store`.

import type { QueryLimitsSource } from '../querier/query-limits.js';
import type { WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import { splitTenants } from '../tenant/tenant.js';
import { hashKey, type Cache } from './cache.js';
import { bodyText, isFailure } from './frontend.js';
import { mergeMatrixBodies } from './merge.js';
import { queryTraits } from './traits.js';

/** DEFAULT_MAX_CACHE_FRESHNESS_MS is Mimir's -query-frontend.max-cache-freshness. */
export const DEFAULT_MAX_CACHE_FRESHNESS_MS = 600_000;
/** DEFAULT_RESULTS_CACHE_TTL_MS is Mimir's -query-frontend.results-cache-ttl (7d). */
export const DEFAULT_RESULTS_CACHE_TTL_MS = 7 * 86_400_000;
/** KEY_INTERVAL_MS is the interval of the key when queries are not split. */
const KEY_INTERVAL_MS = 86_400_000;

/** CounterLike is a counter (or one label set of it). */
export interface CounterLike {
  inc(n?: number): void;
}

/** Extent is a cached answer for [start, end] at the key's step. */
export interface Extent {
  start: number;
  end: number;
  body: string;
}

/** ResultsCacheOptions configure the cache. */
export interface ResultsCacheOptions {
  cache: Cache;
  splitIntervalMs: number;
  limits?: QueryLimitsSource;
  now?: () => number;
  /** requests and hits count slice lookups and full hits (cortex_frontend_query_result_cache_*). */
  requests?: CounterLike;
  hits?: CounterLike;
}

/** tenantDuration reads a duration limit: the largest over a federated tenant's members, or the default. */
function tenantDuration(limits: QueryLimitsSource | undefined, tenant: string, name: string, dflt: number, pick: (a: number, b: number) => number): number {
  if (limits === undefined) return dflt;
  let out: number | undefined;
  for (const id of splitTenants(tenant)) {
    const v = limits.values(id).get(name);
    if (typeof v === 'number') out = out === undefined ? v : pick(out, v);
  }
  return out ?? dflt;
}

/** decodeExtents reads a cached value; anything unreadable is no extents. */
export function decodeExtents(value: Buffer | undefined): Extent[] {
  if (value === undefined) return [];
  try {
    const parsed = JSON.parse(value.toString('utf8')) as { extents?: Extent[] };
    if (!Array.isArray(parsed.extents)) return [];
    return parsed.extents.filter((e) => typeof e.start === 'number' && typeof e.end === 'number' && typeof e.body === 'string' && e.start <= e.end).sort((a, b) => a.start - b.start);
  } catch {
    return [];
  }
}

/** coalesce merges overlapping or adjacent (one step apart) extents, sorted by start. */
export function coalesce(extents: Extent[], stepMs: number): Extent[] {
  const sorted = [...extents].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Extent[] = [];
  for (const e of sorted) {
    const last = out.at(-1);
    if (last === undefined || e.start > last.end + stepMs) {
      out.push(e);
      continue;
    }
    if (e.end <= last.end) continue;
    last.body = mergeMatrixBodies([last.body, mergeMatrixBodies([e.body], [last.end + stepMs, e.end])]);
    last.end = e.end;
  }
  return out;
}

/** ResultsCache answers range-query slices from cached extents. */
export class ResultsCache {
  private readonly now: () => number;

  constructor(private readonly opts: ResultsCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** maxCacheTime is the newest time whose answers may be cached for a tenant. */
  maxCacheTime(tenant: string): number {
    return this.now() - tenantDuration(this.opts.limits, tenant, 'query-frontend.max-cache-freshness', DEFAULT_MAX_CACHE_FRESHNESS_MS, Math.max);
  }

  /** cacheable reports whether a (whole, prepared) range query may use the cache. */
  cacheable(task: QueryTask): boolean {
    if (task.kind !== 'range' || task.cacheNoStore === true || task.visibility !== undefined || task.limit > 0) return false;
    if (task.startMs % task.stepMs !== 0 || task.endMs % task.stepMs !== 0) return false;
    const traits = queryTraits(task.query);
    if (!traits.parsed || traits.rangeDependent || traits.negativeOffset) return false;
    const maxT = this.maxCacheTime(task.tenant);
    return traits.atTimesMs.every((t) => t <= task.endMs && t <= maxT);
  }

  /** key is the slice's cache key (hashed for the backend). */
  key(slice: QueryTask): string {
    const interval = this.opts.splitIntervalMs > 0 ? this.opts.splitIntervalMs : KEY_INTERVAL_MS;
    return hashKey(`${slice.tenant}:${slice.query}:${slice.stepMs}:${Math.floor(slice.startMs / interval)}:${slice.lookbackDeltaMs}`);
  }

  /** run answers a slice (within one split interval) from the cache and run for the missing parts. */
  async run(slice: QueryTask, run: (t: QueryTask) => Promise<WorkerAnswer>): Promise<WorkerAnswer> {
    const maxT = this.maxCacheTime(slice.tenant);
    if (slice.startMs > maxT) return run(slice);
    this.opts.requests?.inc();
    const key = this.key(slice);
    const extents = decodeExtents(await this.opts.cache.get(key));
    const step = slice.stepMs;
    // The pieces of the answer in time order: cached parts and parts to run.
    const pieces: Array<{ cached: string } | { start: number; end: number }> = [];
    let cursor = slice.startMs;
    for (const e of extents) {
      if (cursor > slice.endMs) break;
      if (e.end < cursor || e.start > slice.endMs) continue;
      // Extents of another grid (not whole steps from the slice) cannot be used.
      if ((((e.start - slice.startMs) % step) + step) % step !== 0) continue;
      if (e.start > cursor) pieces.push({ start: cursor, end: Math.min(e.start - step, slice.endMs) });
      const from = Math.max(cursor, e.start);
      const to = Math.min(e.end, slice.endMs);
      pieces.push({ cached: from === e.start && to === e.end ? e.body : mergeMatrixBodies([e.body], [from, to]) });
      cursor = to + step;
    }
    if (cursor <= slice.endMs) pieces.push({ start: cursor, end: slice.endMs });
    const missing = pieces.filter((p): p is { start: number; end: number } => !('cached' in p));
    if (missing.length === 0) this.opts.hits?.inc();
    const answers = await Promise.all(missing.map((m) => run({ ...slice, startMs: m.start, endMs: m.end })));
    for (const a of answers) if (isFailure(a)) return a;
    const fetched = answers.map((a) => bodyText(a as Uint8Array));
    let fi = 0;
    const bodies = pieces.map((p) => ('cached' in p ? p.cached : fetched[fi++]!));
    const body = mergeMatrixBodies(bodies);
    if (missing.length > 0) {
      const added: Extent[] = [];
      missing.forEach((m, i) => {
        // Only what is older than the freshness bound, on the step grid.
        const end = Math.min(m.end, m.start + Math.floor((maxT - m.start) / step) * step);
        if (end < m.start) return;
        added.push({ start: m.start, end, body: end === m.end ? fetched[i]! : mergeMatrixBodies([fetched[i]!], [m.start, end]) });
      });
      if (added.length > 0) {
        const value = Buffer.from(JSON.stringify({ extents: coalesce([...extents, ...added], step) }), 'utf8');
        const ttl = tenantDuration(this.opts.limits, slice.tenant, 'query-frontend.results-cache-ttl', DEFAULT_RESULTS_CACHE_TTL_MS, Math.min);
        await this.opts.cache.set(key, value, ttl);
      }
    }
    return new Uint8Array(Buffer.from(body, 'utf8'));
  }
}
