// histogram-flat.ts is the TypeScript side of the histogram hand-off format
// shared with the Rust core (native/core/src/model/histogram_flat.rs): one
// histogram is a run of f64
//   [schema, zeroThreshold, zeroCount, count, sum, counterResetHint, isInt,
//    nPosSpans, nNegSpans, nPosBuckets, nNegBuckets, nCustomValues,
//    posSpans (offset, length)..., negSpans..., posBuckets (absolute)...,
//    negBuckets (absolute)..., customValues...]
// and a selection's histograms are `{offsets, timestamps, dataOffsets, data}`
// (series i owns samples [offsets[i], offsets[i+1]); sample j is
// data[dataOffsets[j] .. dataOffsets[j+1])). A stale marker is a histogram
// whose sum has Prometheus's StaleNaN bits.

import { FloatHistogram, indicesToSpans, spansToIndices, type Span } from './float-histogram.js';

/** HEADER_LEN is the number of fixed fields before the spans. */
export const HEADER_LEN = 12;

/** STALE_NAN_HI/LO are the two 32-bit words of Prometheus's StaleNaN (0x7ff0000000000002). */
const STALE_NAN_HI = 0x7ff00000;
const STALE_NAN_LO = 0x00000002;

/** FlatHistograms is a selection's histogram side channel. */
export interface FlatHistograms {
  offsets: Uint32Array;
  timestamps: Float64Array;
  dataOffsets: Uint32Array;
  data: Float64Array;
  /** startTimestamps are each sample's start timestamp in ms (0: unknown), when a series has any. */
  startTimestamps?: Float64Array;
}

/** FlatHistogramError is a run of f64 that is not a histogram in the hand-off format. */
export class FlatHistogramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatHistogramError';
  }
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** isStaleNaN reports whether v has the exact StaleNaN bits. */
export function isStaleNaN(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  scratch[0] = v;
  return scratchWords[0] === STALE_NAN_LO && scratchWords[1] === STALE_NAN_HI;
}

/** isStaleFlat reports whether the flat histogram at data[from..] is a stale marker (without decoding it). */
export function isStaleFlat(data: Float64Array, from: number): boolean {
  // The sum's bits must survive: read them through a view of the same buffer.
  const words = new Uint32Array(data.buffer, data.byteOffset + (from + 4) * 8, 2);
  return words[0] === STALE_NAN_LO && words[1] === STALE_NAN_HI;
}

function count(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0) throw new FlatHistogramError(`histogram ${what} ${v} is not a count`);
  return v;
}

/** decodeFlat decodes the histogram in data[from, to). isInt is dropped (the engine computes in floats). */
export function decodeFlat(data: Float64Array, from: number, to: number = data.length): FloatHistogram {
  if (to - from < HEADER_LEN) throw new FlatHistogramError(`histogram needs ${HEADER_LEN} header fields, has ${to - from}`);
  const nPosSpans = count(data[from + 7]!, 'positive span count');
  const nNegSpans = count(data[from + 8]!, 'negative span count');
  const nPos = count(data[from + 9]!, 'positive bucket count');
  const nNeg = count(data[from + 10]!, 'negative bucket count');
  const nCustom = count(data[from + 11]!, 'custom value count');
  const need = HEADER_LEN + 2 * (nPosSpans + nNegSpans) + nPos + nNeg + nCustom;
  if (to - from !== need) throw new FlatHistogramError(`histogram layout needs ${need} values, has ${to - from}`);
  let at = from + HEADER_LEN;
  const spans = (n: number): Span[] => {
    const out: Span[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ offset: data[at]!, length: data[at + 1]! });
      at += 2;
    }
    return out;
  };
  const posSpans = spans(nPosSpans);
  const negSpans = spans(nNegSpans);
  const posIdx = spansToIndices(posSpans);
  const negIdx = spansToIndices(negSpans);
  if (posIdx.length !== nPos || negIdx.length !== nNeg) throw new FlatHistogramError('histogram spans specify different number of buckets than provided');
  const posCnt = Array.from(data.subarray(at, at + nPos));
  at += nPos;
  const negCnt = Array.from(data.subarray(at, at + nNeg));
  at += nNeg;
  const customValues = Array.from(data.subarray(at, at + nCustom));
  const h = new FloatHistogram(data[from]!, data[from + 1]!, data[from + 2]!, data[from + 3]!, 0, data[from + 5]!, posIdx, posCnt, negIdx, negCnt, customValues);
  h.sum = data[from + 4]!;
  return h;
}

/** flatLength is the number of f64 encodeFlat writes for h. */
export function flatLength(h: FloatHistogram): number {
  return HEADER_LEN + 2 * (indicesToSpans(h.posIdx).length + indicesToSpans(h.negIdx).length) + h.posIdx.length + h.negIdx.length + h.customValues.length;
}

/** encodeFlat appends h in the hand-off format to out (a plain array, copied into a Float64Array by the caller). */
export function encodeFlat(out: number[], h: FloatHistogram, isInt = false): void {
  const pos = indicesToSpans(h.posIdx);
  const neg = indicesToSpans(h.negIdx);
  out.push(h.schema, h.zeroThreshold, h.zeroCount, h.count, h.sum, h.counterResetHint, isInt ? 1 : 0, pos.length, neg.length, h.posIdx.length, h.negIdx.length, h.customValues.length);
  for (const s of pos) out.push(s.offset, s.length);
  for (const s of neg) out.push(s.offset, s.length);
  for (const c of h.posCnt) out.push(c);
  for (const c of h.negCnt) out.push(c);
  for (const v of h.customValues) out.push(v);
}

/** encodeFlatSamples packs histograms into data/dataOffsets (stale[j] writes a stale marker's sum bits). */
export function encodeFlatSamples(hs: FloatHistogram[], isInt: boolean[] = [], stale: boolean[] = []): { data: Float64Array; dataOffsets: Uint32Array } {
  const out: number[] = [];
  const dataOffsets = new Uint32Array(hs.length + 1);
  const staleAt: number[] = [];
  for (let j = 0; j < hs.length; j++) {
    if (stale[j] === true) staleAt.push(out.length + 4);
    encodeFlat(out, hs[j]!, isInt[j] === true);
    dataOffsets[j + 1] = out.length;
  }
  const data = Float64Array.from(out);
  const words = new Uint32Array(data.buffer);
  for (const at of staleAt) {
    words[2 * at] = STALE_NAN_LO;
    words[2 * at + 1] = STALE_NAN_HI;
  }
  return { data, dataOffsets };
}

/** isIntFlat reports whether the flat histogram at data[from..] was stored as an integer histogram. */
export function isIntFlat(data: Float64Array, from: number): boolean {
  return data[from + 6] === 1;
}
