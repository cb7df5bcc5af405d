// split.ts cuts a range query into sub-queries as Mimir's query-frontend
// does (querymiddleware split_by_interval and step_align): every sub-query
// covers the steps of one interval (24h by default, aligned to multiples of
// the interval since the epoch, so each day is its own sub-query), the next
// one starting one step after the previous one's end; and, with
// -query-frontend.align-queries-with-step, start and end are first rounded
// down to a multiple of the step. Each step of a range query is evaluated on
// its own, so the sub-queries' answers joined are the whole query's answer,
// except where the query depends on the whole range (`@ start()` /
// `@ end()`, duration expressions), which is never split (traits.ts).

import type { QueryTask } from '../querier/query-params.js';
import { queryTraits } from './traits.js';

/**
 * nextIntervalBoundary returns the last step of the range starting at t
 * (steps t, t+step, ...) that falls before the start of the next interval.
 */
export function nextIntervalBoundary(t: number, stepMs: number, intervalMs: number): number {
  const startOfNext = (Math.floor(t / intervalMs) + 1) * intervalMs;
  // A whole number of steps after t.
  let target = startOfNext - ((startOfNext - t) % stepMs);
  if (target === startOfNext) target -= stepMs;
  return target;
}

/** alignToStep rounds start and end down to multiples of the step (Mimir's stepAlign). */
export function alignToStep(task: QueryTask): QueryTask {
  const startMs = task.startMs - mod(task.startMs, task.stepMs);
  const endMs = task.endMs - mod(task.endMs, task.stepMs);
  if (startMs === task.startMs && endMs === task.endMs) return task;
  return { ...task, startMs, endMs };
}

/** mod is the remainder with the divisor's sign (times before the epoch round down too). */
function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** splittable reports whether a range query may be split: not with `limit`, nor when it does not parse or depends on the whole range. */
export function splittable(task: QueryTask): boolean {
  if (task.kind !== 'range' || task.stepMs <= 0 || task.limit > 0) return false;
  const traits = queryTraits(task.query);
  return traits.parsed && !traits.rangeDependent;
}

/** splitByInterval returns the sub-queries of a range query, one per interval it touches, in time order. */
export function splitByInterval(task: QueryTask, intervalMs: number): QueryTask[] {
  if (intervalMs <= 0 || !splittable(task)) return [task];
  const out: QueryTask[] = [];
  for (let start = task.startMs; start <= task.endMs; ) {
    let end = nextIntervalBoundary(start, task.stepMs, intervalMs);
    if (end > task.endMs) end = task.endMs;
    out.push({ ...task, startMs: start, endMs: end });
    start = end + task.stepMs;
  }
  return out;
}
