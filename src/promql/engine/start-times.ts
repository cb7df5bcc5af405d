// start-times.ts holds Prometheus's two rules on start timestamps (ST) between consecutive samples
// (promql/functions.go), for the histogram windows and the overlap warning; the float kernels apply
// the same rules in Rust (native/core/src/promql/start_times.rs).

/** startTimeOverlaps is Prometheus's checkStartTimeOverlap. */
export function startTimeOverlaps(prevSt: number, prevT: number, st: number): boolean {
  return st !== 0 && st < prevT && st !== prevSt;
}

/** isStartTimeReset is Prometheus's isStartTimestampReset: the current sample's start marks a counter reset. */
export function isStartTimeReset(prevSt: number, prevT: number, st: number, t: number): boolean {
  if (st === 0 || st >= t || st < prevT) return false;
  if (st > prevT) return true;
  return prevSt <= prevT && prevSt !== 0 && prevSt !== prevT;
}

