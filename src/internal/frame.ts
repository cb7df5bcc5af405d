// frame.ts encodes raw sample selections for the internal wire: a JSON head
// (each selection's sizes) then per selection its labels (a SeriesLabels
// flatbuffer, as the binding answers them) and its offsets, timestamps and
// values arrays, little-endian, and merges the selections of several
// replicas into one, samples deduplicated by timestamp.

import type { Labels } from '../promql/engine/types.js';
import { compareLabels } from '../promql/engine/labels.js';
import { decodeSeriesLabels } from '../model/series-labels.js';

/** Selection is one selector's raw samples (as the native selectSamples answers them). */
export interface Selection {
  /** The series' label sets, a SeriesLabels flatbuffer (src/model/series-labels.ts). */
  labels: Uint8Array;
  offsets: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * BlockHints are what a store-gateway tells the querier with its answer: the bucket blocks of the
 * asked range it knows of (owned or not) and those it queried, so that the querier can check that
 * every block was queried by some store-gateway.
 */
export interface BlockHints {
  known: string[];
  queried: string[];
}

/**
 * encodeSelections writes selections as [u32 head length][head JSON][per selection: labels,
 * arrays...]; the head is `{"s": [sizes per selection], "h": block hints}` (hints from a store-gateway only).
 */
export function encodeSelections(sels: Selection[], hints?: BlockHints): Buffer {
  const sizes = sels.map((s) => ({ b: s.labels.length, n: s.offsets.length, m: s.timestamps.length }));
  const head = Buffer.from(JSON.stringify(hints !== undefined ? { s: sizes, h: hints } : { s: sizes }));
  let size = 4 + head.length;
  for (const s of sels) size += s.labels.length + s.offsets.length * 4 + s.timestamps.length * 16;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let pos = 4 + head.length;
  for (const s of sels) {
    for (const a of [s.labels, s.offsets, s.timestamps, s.values] as const) {
      const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      b.copy(out, pos);
      pos += b.length;
    }
  }
  return out;
}

/** decodeSelections reads what encodeSelections wrote (arrays copied to aligned memory). */
export function decodeSelections(buf: Buffer): Selection[] {
  return decodeFrame(buf).selections;
}

/** decodeFrame reads the selections and, from a store-gateway, its block hints. */
export function decodeFrame(buf: Buffer): { selections: Selection[]; hints?: BlockHints } {
  const headLen = buf.readUInt32LE(0);
  const frame = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as { s: Array<{ b: number; n: number; m: number }>; h?: BlockHints };
  const head = frame.s;
  let pos = 4 + headLen;
  const take = (bytes: number): ArrayBuffer => {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(buf.subarray(pos, pos + bytes));
    pos += bytes;
    return ab;
  };
  const selections = head.map((h) => ({
    labels: new Uint8Array(take(h.b)),
    offsets: new Uint32Array(take(h.n * 4)),
    timestamps: new Float64Array(take(h.m * 8)),
    values: new Float64Array(take(h.m * 8)),
  }));
  return frame.h !== undefined ? { selections, hints: frame.h } : { selections };
}

/** MergedSelection is a selection with parsed labels (the engine's SelectedSeries). */
export interface MergedSelection {
  labels: Labels[];
  offsets: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
}

/**
 * mergeSelections joins the same selection from several replicas: series
 * with equal labels are merged, samples sorted by time with one sample per
 * timestamp kept (replicas hold the same samples), series sorted by labels.
 */
export function mergeSelections(parts: Selection[]): MergedSelection {
  // Per series: the runs of samples the replicas hold for it, [part, from, to) each, in part order.
  const byKey = new Map<string, { labels: Labels; runs: number[] }>();
  let upper = 0;
  parts.forEach((p, pi) => {
    const labels = decodeSeriesLabels(p.labels);
    for (let i = 0; i < labels.length; i++) {
      const key = JSON.stringify(labels[i]);
      let e = byKey.get(key);
      if (e === undefined) {
        e = { labels: labels[i]!, runs: [] };
        byKey.set(key, e);
      }
      e.runs.push(pi, p.offsets[i]!, p.offsets[i + 1]!);
      upper += p.offsets[i + 1]! - p.offsets[i]!;
    }
  });
  const series = [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  // Values are copied as two 32-bit words so that NaN payloads (staleness markers) keep their bits.
  const partWords = parts.map((p) => new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2));
  const offsets = new Uint32Array(series.length + 1);
  const timestamps = new Float64Array(upper);
  const words = new Uint32Array(upper * 2);
  let pos = 0;
  const take = (pi: number, k: number): void => {
    timestamps[pos] = parts[pi]!.timestamps[k]!;
    words[pos * 2] = partWords[pi]![k * 2]!;
    words[pos * 2 + 1] = partWords[pi]![k * 2 + 1]!;
    pos++;
  };
  series.forEach((s, i) => {
    offsets[i] = pos;
    const runs = s.runs;
    if (runs.length === 3) {
      for (let k = runs[1]!; k < runs[2]!; k++) take(runs[0]!, k);
      return;
    }
    // Merge the runs (each in time order) with a cursor per run; on equal times the first
    // replica's sample is kept and the others skipped.
    const at = [];
    for (let r = 0; r < runs.length; r += 3) at.push(runs[r + 1]!);
    for (;;) {
      let best = -1;
      let bestT = Infinity;
      for (let r = 0; r < at.length; r++) {
        if (at[r]! >= runs[r * 3 + 2]!) continue;
        const t = parts[runs[r * 3]!]!.timestamps[at[r]!]!;
        if (best < 0 || t < bestT) {
          best = r;
          bestT = t;
        }
      }
      if (best < 0) break;
      take(runs[best * 3]!, at[best]!);
      for (let r = 0; r < at.length; r++) {
        if (at[r]! < runs[r * 3 + 2]! && parts[runs[r * 3]!]!.timestamps[at[r]!]! === bestT) at[r]!++;
      }
    }
  });
  offsets[series.length] = pos;
  const values = new Float64Array(words.buffer, 0, pos);
  return { labels: series.map((s) => s.labels), offsets, timestamps: timestamps.subarray(0, pos), values };
}
