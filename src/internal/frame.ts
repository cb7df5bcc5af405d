// frame.ts encodes raw sample selections for the internal wire (the layout is
// drawn in docs/format/select-frame.md): a JSON head (each selection's sizes)
// then per selection its labels (a SeriesLabels flatbuffer, as the binding
// answers them) and its offsets, timestamps and values arrays, little-endian;
// after every selection's float part, the optional arrays (float start
// timestamps, native histograms in the flat hand-off format of
// src/promql/engine/histogram-flat.ts) of the selections that have them. It
// also merges the selections of several replicas into one, samples
// deduplicated by timestamp.

import type { Labels, SelectedSeries } from '../promql/engine/types.js';
import type { FlatHistograms } from '../promql/engine/histogram-flat.js';
import { compareLabels } from '../promql/engine/labels.js';
import { decodeSeriesLabels } from '../model/series-labels.js';

/** Selection is one selector's raw samples (as the native selectSamples answers them). */
export interface Selection {
  /** The series' label sets, a SeriesLabels flatbuffer (src/model/series-labels.ts). */
  labels: Uint8Array;
  offsets: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
  /** histograms are the series' native-histogram samples (offsets per series as the floats'), when any. */
  histograms?: FlatHistograms;
  /** startTimestamps are each float sample's start timestamp in ms (0: unknown), when a series has any. */
  startTimestamps?: Float64Array;
}

/**
 * BlockHints are what a store-gateway tells the querier with its answer: the bucket blocks of the
 * asked range it knows of (owned or not) and those it queried, so that the querier can check that
 * every block was queried by some store-gateway.
 */
export interface BlockHints {
  known: string[];
  /** uploaded are the known blocks' upload times (ms since the epoch, 0 when unknown), by position. */
  uploaded?: number[];
  queried: string[];
}

/**
 * Sizes are one selection's entry in the frame's head: label bytes b, offsets n, float samples m;
 * st when float start timestamps follow; hm (histogram samples) and hd (f64s of histogram data)
 * when histograms follow, hst when their start timestamps do.
 */
interface Sizes {
  b: number;
  n: number;
  m: number;
  st?: 1;
  hm?: number;
  hd?: number;
  hst?: 1;
}

type Arr = Uint8Array | Uint32Array | Float64Array;

/** extras lists a selection's optional arrays in frame order (empty for a float-only selection). */
function extras(s: Selection): Arr[] {
  const out: Arr[] = [];
  if (s.startTimestamps !== undefined) out.push(s.startTimestamps);
  const h = s.histograms;
  if (h !== undefined) {
    out.push(h.offsets, h.timestamps, h.dataOffsets, h.data);
    if (h.startTimestamps !== undefined) out.push(h.startTimestamps);
  }
  return out;
}

/**
 * encodeSelections writes selections as [u32 head length][head JSON][per selection: labels, offsets,
 * timestamps, values][per selection: its optional arrays]; the head is `{"s": [sizes per
 * selection], "h": block hints}` (hints from a store-gateway only). The optional arrays come last
 * so that a float-only frame is byte for byte what it was before histograms travelled.
 */
export function encodeSelections(sels: Selection[], hints?: BlockHints): Buffer {
  const sizes = sels.map((s): Sizes => {
    const z: Sizes = { b: s.labels.length, n: s.offsets.length, m: s.timestamps.length };
    if (s.startTimestamps !== undefined) z.st = 1;
    const h = s.histograms;
    if (h !== undefined) {
      z.hm = h.timestamps.length;
      z.hd = h.data.length;
      if (h.startTimestamps !== undefined) z.hst = 1;
    }
    return z;
  });
  const head = Buffer.from(JSON.stringify(hints !== undefined ? { s: sizes, h: hints } : { s: sizes }));
  const arrays: Arr[] = [];
  for (const s of sels) arrays.push(s.labels, s.offsets, s.timestamps, s.values);
  for (const s of sels) arrays.push(...extras(s));
  let size = 4 + head.length;
  for (const a of arrays) size += a.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let pos = 4 + head.length;
  for (const a of arrays) {
    // Bytes are copied as they are: NaN payloads (staleness markers) keep their bits.
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), pos);
    pos += a.byteLength;
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
  const frame = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as { s: Sizes[]; h?: BlockHints };
  const head = frame.s;
  let pos = 4 + headLen;
  const take = (bytes: number): ArrayBuffer => {
    if (pos + bytes > buf.length) throw new Error(`select frame truncated: ${buf.length} bytes, needs more than ${pos + bytes}`);
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(buf.subarray(pos, pos + bytes));
    pos += bytes;
    return ab;
  };
  const f64 = (n: number): Float64Array => new Float64Array(take(n * 8));
  const u32 = (n: number): Uint32Array => new Uint32Array(take(n * 4));
  const selections: Selection[] = head.map((h) => ({
    labels: new Uint8Array(take(h.b)),
    offsets: u32(h.n),
    timestamps: f64(h.m),
    values: f64(h.m),
  }));
  head.forEach((h, i) => {
    const s = selections[i]!;
    if (h.st === 1) s.startTimestamps = f64(h.m);
    if (h.hm !== undefined) {
      const hs: FlatHistograms = { offsets: u32(h.n), timestamps: f64(h.hm), dataOffsets: u32(h.hm + 1), data: f64(h.hd ?? 0) };
      if (h.hst === 1) hs.startTimestamps = f64(h.hm);
      s.histograms = hs;
    }
  });
  return frame.h !== undefined ? { selections, hints: frame.h } : { selections };
}

/** MergedSelection is a selection with parsed labels (the engine's SelectedSeries). */
export type MergedSelection = SelectedSeries;

/**
 * Run is one part's samples of one series of one kind: samples [from, to) of part `part`'s floats
 * (hist false) or histograms (hist true).
 */
interface Run {
  part: number;
  hist: boolean;
  from: number;
  to: number;
}

/**
 * mergeSelections joins the same selection from several replicas: series
 * with equal labels are merged, samples sorted by time with one sample per
 * timestamp kept (replicas hold the same samples), series sorted by labels.
 * Floats and native histograms of a series are merged together: at a
 * timestamp the first part's sample is kept, whatever its kind, so that a
 * series never has a float and a histogram at the same time. Start
 * timestamps follow their samples.
 */
export function mergeSelections(parts: Selection[]): MergedSelection {
  // Per series: the runs of samples the parts hold for it, in part order (floats before histograms).
  const byKey = new Map<string, { labels: Labels; runs: Run[] }>();
  let floatUpper = 0;
  let histUpper = 0;
  let dataUpper = 0;
  parts.forEach((p, pi) => {
    const labels = decodeSeriesLabels(p.labels);
    const h = p.histograms;
    for (let i = 0; i < labels.length; i++) {
      const key = JSON.stringify(labels[i]);
      let e = byKey.get(key);
      if (e === undefined) {
        e = { labels: labels[i]!, runs: [] };
        byKey.set(key, e);
      }
      if (p.offsets[i + 1]! > p.offsets[i]!) e.runs.push({ part: pi, hist: false, from: p.offsets[i]!, to: p.offsets[i + 1]! });
      if (h !== undefined && h.offsets[i + 1]! > h.offsets[i]!) e.runs.push({ part: pi, hist: true, from: h.offsets[i]!, to: h.offsets[i + 1]! });
    }
    floatUpper += p.timestamps.length;
    if (h !== undefined) {
      histUpper += h.timestamps.length;
      dataUpper += h.data.length;
    }
  });
  const series = [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  const anyHist = histUpper > 0;
  const floatSts = parts.some((p) => p.startTimestamps !== undefined);
  const histSts = parts.some((p) => p.histograms?.startTimestamps !== undefined);

  // Values are copied as two 32-bit words so that NaN payloads (staleness markers) keep their bits.
  const partWords = parts.map((p) => new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2));
  const offsets = new Uint32Array(series.length + 1);
  const timestamps = new Float64Array(floatUpper);
  const words = new Uint32Array(floatUpper * 2);
  const starts = floatSts ? new Float64Array(floatUpper) : undefined;
  let pos = 0;
  const hOffsets = anyHist ? new Uint32Array(series.length + 1) : undefined;
  const hTimestamps = new Float64Array(histUpper);
  const hDataOffsets = new Uint32Array(histUpper + 1);
  const hData = new Float64Array(dataUpper);
  const hStarts = histSts ? new Float64Array(histUpper) : undefined;
  let hPos = 0;
  let dPos = 0;

  const take = (r: Run, k: number): void => {
    const p = parts[r.part]!;
    if (!r.hist) {
      timestamps[pos] = p.timestamps[k]!;
      const w = partWords[r.part]!;
      words[pos * 2] = w[k * 2]!;
      words[pos * 2 + 1] = w[k * 2 + 1]!;
      if (starts !== undefined) starts[pos] = p.startTimestamps?.[k] ?? 0;
      pos++;
      return;
    }
    const h = p.histograms!;
    hTimestamps[hPos] = h.timestamps[k]!;
    // A typed-array copy between arrays of one type is a byte copy: a stale marker's sum keeps its bits.
    const from = h.dataOffsets[k]!;
    const to = h.dataOffsets[k + 1]!;
    hData.set(h.data.subarray(from, to), dPos);
    dPos += to - from;
    hDataOffsets[hPos + 1] = dPos;
    if (hStarts !== undefined) hStarts[hPos] = h.startTimestamps?.[k] ?? 0;
    hPos++;
  };
  const timeOf = (r: Run, k: number): number => (r.hist ? parts[r.part]!.histograms!.timestamps[k]! : parts[r.part]!.timestamps[k]!);

  series.forEach((s, i) => {
    offsets[i] = pos;
    if (hOffsets !== undefined) hOffsets[i] = hPos;
    const runs = s.runs;
    if (runs.length === 1) {
      const r = runs[0]!;
      for (let k = r.from; k < r.to; k++) take(r, k);
      return;
    }
    // Merge the runs (each in time order) with a cursor per run; on equal times the first
    // run's sample (the first part's, its float before its histogram) is kept and the others skipped.
    const at = runs.map((r) => r.from);
    for (;;) {
      let best = -1;
      let bestT = Infinity;
      for (let r = 0; r < runs.length; r++) {
        if (at[r]! >= runs[r]!.to) continue;
        const t = timeOf(runs[r]!, at[r]!);
        if (best < 0 || t < bestT) {
          best = r;
          bestT = t;
        }
      }
      if (best < 0) break;
      take(runs[best]!, at[best]!);
      for (let r = 0; r < runs.length; r++) {
        if (at[r]! < runs[r]!.to && timeOf(runs[r]!, at[r]!) === bestT) at[r]!++;
      }
    }
  });
  offsets[series.length] = pos;
  const out: MergedSelection = {
    labels: series.map((s) => s.labels),
    offsets,
    timestamps: timestamps.subarray(0, pos),
    values: new Float64Array(words.buffer, 0, pos),
  };
  if (starts !== undefined) out.startTimestamps = starts.subarray(0, pos);
  if (hOffsets !== undefined) {
    hOffsets[series.length] = hPos;
    out.histograms = { offsets: hOffsets, timestamps: hTimestamps.subarray(0, hPos), dataOffsets: hDataOffsets.subarray(0, hPos + 1), data: hData.subarray(0, dPos) };
    if (hStarts !== undefined) out.histograms.startTimestamps = hStarts.subarray(0, hPos);
  }
  return out;
}
