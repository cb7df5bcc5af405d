// chunk-range.ts keeps a test's samples inside one head chunk range, so that
// "one chunk per series" holds whatever the clock says: the head cuts chunks
// at multiples of the 2h block range since the epoch.

/** CHUNK_RANGE_MS is the head's chunk and block range (2h). */
export const CHUNK_RANGE_MS = 7_200_000;

/**
 * withinOneChunkRange returns startMs, or an earlier time, such that [start, start + spanMs] does
 * not cross a multiple of rangeMs (the samples then land in one chunk). spanMs must be below rangeMs.
 */
export function withinOneChunkRange(startMs: number, spanMs: number, rangeMs = CHUNK_RANGE_MS): number {
  const boundary = Math.floor((startMs + spanMs) / rangeMs) * rangeMs;
  return boundary > startMs ? boundary - spanMs - 1000 : startMs;
}
