// format-bytes.ts encodes a query's success body straight to bytes, as the
// query worker sends it: float matrix and vector results go to the native
// encoder as flat typed arrays, so no string is built per point or series;
// the series' labels go as one SeriesLabels flatbuffer and are written as
// JSON there. Scalars, strings and results holding native histograms are the
// string encoding of format.ts as UTF-8. The bytes are the same as
// encodeQuerySuccess's (format-bytes.test.ts checks it).

import { loadNative } from '../storage/native.js';
import type { QueryResult } from '../promql/engine/types.js';
import { encodeQuerySuccess, encodeSuccessEnd, SUCCESS_PREFIX } from './format.js';
import { encodeSeriesLabels } from '../model/series-labels.js';

const utf8 = new TextEncoder();

/** encodeQuerySuccessBytes renders a whole success body as UTF-8 bytes in a buffer of its own (transferable). */
export function encodeQuerySuccessBytes(result: QueryResult): Uint8Array {
  const v = result.value;
  // Native-histogram points have no flat encoding: such results take the string encoder.
  if (v.resultType === 'vector' && v.series.every((s) => s.histogram === undefined)) {
    const values = Float64Array.from(v.series, (s) => s.value);
    return loadNative().encodeVectorJson(SUCCESS_PREFIX, encodeSeriesLabels(v.series.map((s) => s.labels)), v.timestampMs, values, encodeSuccessEnd(result));
  }
  if (v.resultType !== 'matrix' || v.series.some((s) => s.histograms !== undefined)) return utf8.encode(encodeQuerySuccess(result));
  const n = v.series.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + v.series[i]!.timestamps.length;
  const total = offsets[n]!;
  const metrics = encodeSeriesLabels(v.series.map((s) => s.labels));
  // A range query's series are consecutive views of one pair of arrays: encode those in place.
  const timestamps = flatView(v.series.map((s) => s.timestamps), total) ?? flatCopy(v.series.map((s) => s.timestamps), offsets);
  const values = flatView(v.series.map((s) => s.values), total) ?? flatCopy(v.series.map((s) => s.values), offsets);
  return loadNative().encodeMatrixJson(SUCCESS_PREFIX, metrics, offsets, timestamps, values, encodeSuccessEnd(result));
}

/**
 * flatView returns the arrays as one view when each starts where the one before ends in the same
 * buffer (total elements in all); undefined otherwise.
 */
function flatView(parts: Float64Array[], total: number): Float64Array | undefined {
  if (parts.length === 0) return undefined;
  const first = parts[0]!;
  let next = first.byteOffset;
  for (const p of parts) {
    if (p.buffer !== first.buffer || p.byteOffset !== next) return undefined;
    next += p.byteLength;
  }
  return new Float64Array(first.buffer, first.byteOffset, total);
}

/** flatCopy concatenates the arrays (part i at offsets[i]). */
function flatCopy(parts: Float64Array[], offsets: Uint32Array): Float64Array {
  const out = new Float64Array(offsets[parts.length]!);
  parts.forEach((p, i) => out.set(p, offsets[i]!));
  return out;
}
