// histogram-select.ts reads native-histogram samples out of a selection's
// side channel (the hand-off format, histogram-flat.ts) for the engine's
// selectors: the instant lookup (the newest sample of either kind in the
// lookback window decides) and the per-window histogram points of range
// functions and range-vector results.

import type { FloatHistogram } from './float-histogram.js';
import { decodeFlat, isStaleFlat, type FlatHistograms } from './histogram-flat.js';
import type { SelectedSeries } from './types.js';

/** HistogramReader decodes a selection's histogram samples on demand, each once. */
export class HistogramReader {
  private readonly cache = new Map<number, FloatHistogram>();

  constructor(readonly flat: FlatHistograms) {}

  /** range is series s's histogram samples [from, to). */
  range(s: number): [number, number] {
    return [this.flat.offsets[s]!, this.flat.offsets[s + 1]!];
  }

  time(j: number): number {
    return this.flat.timestamps[j]!;
  }

  isStale(j: number): boolean {
    return isStaleFlat(this.flat.data, this.flat.dataOffsets[j]!);
  }

  /** at is sample j, decoded (shared: never change it in place). */
  at(j: number): FloatHistogram {
    let h = this.cache.get(j);
    if (h === undefined) {
      h = decodeFlat(this.flat.data, this.flat.dataOffsets[j]!, this.flat.dataOffsets[j + 1]!);
      this.cache.set(j, h);
    }
    return h;
  }
}

/** lastAtOrBefore is the index of the last time <= t in ts[from, to), or from - 1. */
export function lastAtOrBefore(ts: Float64Array, from: number, to: number, t: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * overlayInstantHistograms applies the histogram samples of data to an instant lookup's float
 * result (row-major by series, n steps): where a series' newest sample in (t - lookback, t] is a
 * histogram, the cell becomes that histogram (absent for a stale marker). Returns the histogram
 * column of each series (undefined where a series has none).
 */
export function overlayInstantHistograms(
  data: SelectedSeries,
  evalTimes: Float64Array,
  lookbackMs: number,
  values: Float64Array,
  present: Uint8Array,
): Array<Array<FloatHistogram | undefined> | undefined> {
  const out: Array<Array<FloatHistogram | undefined> | undefined> = new Array(data.labels.length);
  if (data.histograms === undefined) return out;
  const r = new HistogramReader(data.histograms);
  const n = evalTimes.length;
  for (let s = 0; s < data.labels.length; s++) {
    const [hFrom, hTo] = r.range(s);
    if (hTo === hFrom) continue;
    const fFrom = data.offsets[s]!;
    const fTo = data.offsets[s + 1]!;
    let col: Array<FloatHistogram | undefined> | undefined;
    for (let i = 0; i < n; i++) {
      const t = evalTimes[i]!;
      const j = lastAtOrBefore(data.histograms.timestamps, hFrom, hTo, t);
      if (j < hFrom) continue;
      const ht = r.time(j);
      if (ht <= t - lookbackMs) continue;
      const k = lastAtOrBefore(data.timestamps, fFrom, fTo, t);
      if (k >= fFrom && data.timestamps[k]! > ht) continue;
      const cell = s * n + i;
      if (r.isStale(j)) {
        present[cell] = 0;
        continue;
      }
      present[cell] = 1;
      values[cell] = NaN;
      col ??= new Array<FloatHistogram | undefined>(n);
      col[i] = r.at(j);
    }
    out[s] = col;
  }
  return out;
}
