// frame.ts encodes raw sample selections for the internal wire: a JSON head
// (each selection's labels and sizes) then the offsets, timestamps and
// values arrays, little-endian, and merges the selections of several
// replicas into one, samples deduplicated by timestamp.

import type { Labels } from '../promql/engine/types.js';

/** Selection is one selector's raw samples (as the native selectSamples, labels parsed or as JSON). */
export interface Selection {
  labelsJson: string;
  offsets: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
}

/** encodeSelections writes selections as [u32 head length][head JSON][arrays...]. */
export function encodeSelections(sels: Selection[]): Buffer {
  const head = Buffer.from(JSON.stringify(sels.map((s) => ({ l: s.labelsJson, n: s.offsets.length, m: s.timestamps.length }))));
  let size = 4 + head.length;
  for (const s of sels) size += s.offsets.length * 4 + s.timestamps.length * 16;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let pos = 4 + head.length;
  for (const s of sels) {
    for (const a of [s.offsets, s.timestamps, s.values] as const) {
      const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      b.copy(out, pos);
      pos += b.length;
    }
  }
  return out;
}

/** decodeSelections reads what encodeSelections wrote (arrays copied to aligned memory). */
export function decodeSelections(buf: Buffer): Selection[] {
  const headLen = buf.readUInt32LE(0);
  const head = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as Array<{ l: string; n: number; m: number }>;
  let pos = 4 + headLen;
  const take = (bytes: number): ArrayBuffer => {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(buf.subarray(pos, pos + bytes));
    pos += bytes;
    return ab;
  };
  return head.map((h) => ({
    labelsJson: h.l,
    offsets: new Uint32Array(take(h.n * 4)),
    timestamps: new Float64Array(take(h.m * 8)),
    values: new Float64Array(take(h.m * 8)),
  }));
}

/** compareLabels orders label sets as Prometheus's labels.Compare (names, then values, pairwise; shorter first). */
export function compareLabels(a: Labels, b: Labels): number {
  const ak = Object.keys(a).sort();
  const bk = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ak.length, bk.length); i++) {
    if (ak[i] !== bk[i]) return ak[i]! < bk[i]! ? -1 : 1;
    const av = a[ak[i]!]!;
    const bv = b[bk[i]!]!;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return ak.length - bk.length;
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
  // Per series: the (part, sample index) pairs holding its samples. Values are copied as two
  // 32-bit words so that NaN payloads (staleness markers) keep their exact bits.
  const byKey = new Map<string, { labels: Labels; refs: Array<[number, number]> }>();
  parts.forEach((p, pi) => {
    const labels = JSON.parse(p.labelsJson) as Labels[];
    for (let i = 0; i < labels.length; i++) {
      const key = JSON.stringify(labels[i]);
      let e = byKey.get(key);
      if (e === undefined) {
        e = { labels: labels[i]!, refs: [] };
        byKey.set(key, e);
      }
      for (let k = p.offsets[i]!; k < p.offsets[i + 1]!; k++) e.refs.push([pi, k]);
    }
  });
  const series = [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  const kept = series.map((s) => {
    // Stable by time: the first replica's sample wins a timestamp.
    const refs = s.refs.slice().sort((a, b) => parts[a[0]]!.timestamps[a[1]]! - parts[b[0]]!.timestamps[b[1]]! || a[0] - b[0] || a[1] - b[1]);
    const out: Array<[number, number]> = [];
    let last = NaN;
    for (const r of refs) {
      const t = parts[r[0]]!.timestamps[r[1]]!;
      if (t === last) continue;
      last = t;
      out.push(r);
    }
    return out;
  });
  const total = kept.reduce((n, k) => n + k.length, 0);
  const offsets = new Uint32Array(series.length + 1);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  const words = new Uint32Array(values.buffer);
  const partWords = parts.map((p) => new Uint32Array(p.values.buffer, p.values.byteOffset, p.values.length * 2));
  let pos = 0;
  kept.forEach((refs, i) => {
    offsets[i] = pos;
    for (const [pi, k] of refs) {
      timestamps[pos] = parts[pi]!.timestamps[k]!;
      words[pos * 2] = partWords[pi]![k * 2]!;
      words[pos * 2 + 1] = partWords[pi]![k * 2 + 1]!;
      pos++;
    }
  });
  offsets[series.length] = pos;
  return { labels: series.map((s) => s.labels), offsets, timestamps, values };
}
