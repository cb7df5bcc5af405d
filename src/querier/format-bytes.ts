// format-bytes.ts encodes a query's success body straight to bytes, as the
// query worker sends it: matrix results (the large ones) go to the native
// encoder as flat typed arrays, so no string is built per point; every other
// result type is the string encoding of format.ts as UTF-8. The bytes are the
// same as encodeQuerySuccess's (format-bytes.test.ts checks it).

import { loadNative } from '../storage/native.js';
import type { QueryResult } from '../promql/engine/types.js';
import { encodeLabels, encodeQuerySuccess, encodeSuccessEnd, SUCCESS_PREFIX } from './format.js';

const utf8 = new TextEncoder();

/** encodeQuerySuccessBytes renders a whole success body as UTF-8 bytes in a buffer of its own (transferable). */
export function encodeQuerySuccessBytes(result: QueryResult): Uint8Array {
  const v = result.value;
  if (v.resultType !== 'matrix') return utf8.encode(encodeQuerySuccess(result));
  const n = v.series.length;
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + v.series[i]!.timestamps.length;
  const total = offsets[n]!;
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  const metrics = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = v.series[i]!;
    timestamps.set(s.timestamps, offsets[i]!);
    values.set(s.values, offsets[i]!);
    metrics[i] = encodeLabels(s.labels);
  }
  return loadNative().encodeMatrixJson(SUCCESS_PREFIX, metrics.join('\n'), offsets, timestamps, values, encodeSuccessEnd(result));
}
