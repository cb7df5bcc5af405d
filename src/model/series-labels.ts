// series-labels.ts reads and writes the SeriesLabels flatbuffer
// (docs/format/series-labels.fbs), the form in which a selection's label
// sets cross from Rust to the workers and on to the main thread or another
// process: every distinct name and value once, then per series its
// (name, value) pairs as symbol numbers. Decoding makes each symbol one
// JavaScript string, shared by every series that carries it.

import * as flatbuffers from 'flatbuffers';
import { compareGoStrings } from '../compat/gostrings.js';

/** SeriesLabelSet is one series' labels, name to value. */
export type SeriesLabelSet = Record<string, string>;

const SLOT_SYMBOLS = 4;
const SLOT_REFS = 6;
const SLOT_OFFSETS = 8;

/** sortedNames returns the label names of a set in Prometheus's order (already sorted sets cost one pass). */
export function sortedNames(labels: SeriesLabelSet): string[] {
  const names = Object.keys(labels);
  for (let i = 1; i < names.length; i++) {
    if (compareGoStrings(names[i - 1]!, names[i]!) >= 0) return names.sort(compareGoStrings);
  }
  return names;
}

/** decodeSeriesLabels returns the label sets of a SeriesLabels buffer, in order. */
export function decodeSeriesLabels(buf: Uint8Array): SeriesLabelSet[] {
  if (buf.length < 8) throw new Error(`series labels: buffer of ${buf.length} bytes is too short`);
  const bb = new flatbuffers.ByteBuffer(buf);
  const root = bb.readUint32(0);
  const vec = (slot: number): [number, number] => {
    const o = bb.__offset(root, slot);
    if (o === 0) throw new Error(`series labels: field ${slot} missing`);
    const start = bb.__vector(root + o);
    const len = bb.__vector_len(root + o);
    return [start, len];
  };
  const [symStart, symLen] = vec(SLOT_SYMBOLS);
  const [refStart, refLen] = vec(SLOT_REFS);
  const [offStart, offLen] = vec(SLOT_OFFSETS);
  if (offLen === 0 || symStart + symLen * 4 > buf.length || refStart + refLen * 4 > buf.length || offStart + offLen * 4 > buf.length) {
    throw new Error('series labels: vectors out of bounds');
  }
  const symbols = new Array<string>(symLen);
  for (let i = 0; i < symLen; i++) {
    const at = symStart + i * 4;
    const str = at + bb.readUint32(at);
    if (str + 4 > buf.length || str + 4 + bb.readUint32(str) > buf.length) throw new Error(`series labels: symbol ${i} out of bounds`);
    symbols[i] = bb.__string(at) as string;
  }
  const out = new Array<SeriesLabelSet>(offLen - 1);
  let from = bb.readUint32(offStart);
  for (let i = 1; i < offLen; i++) {
    const to = bb.readUint32(offStart + i * 4);
    if (to < from || to > refLen) throw new Error(`series labels: bad offsets ${from}..${to}`);
    const labels: SeriesLabelSet = {};
    for (let k = from; k + 1 < to; k += 2) {
      const name = symbols[bb.readUint32(refStart + k * 4)];
      const value = symbols[bb.readUint32(refStart + (k + 1) * 4)];
      if (name === undefined || value === undefined) throw new Error('series labels: symbol out of range');
      labels[name] = value;
    }
    out[i - 1] = labels;
    from = to;
  }
  return out;
}

/** encodeSeriesLabels writes label sets as a SeriesLabels buffer (pairs sorted by name, as Rust writes them). */
export function encodeSeriesLabels(series: readonly SeriesLabelSet[]): Buffer {
  const ids = new Map<string, number>();
  const symbols: string[] = [];
  const refs: number[] = [];
  const offsets: number[] = [0];
  const symbol = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(s);
      ids.set(s, id);
    }
    return id;
  };
  for (const labels of series) {
    for (const name of sortedNames(labels)) {
      refs.push(symbol(name), symbol(labels[name]!));
    }
    offsets.push(refs.length);
  }
  const b = new flatbuffers.Builder(64 + refs.length * 4 + offsets.length * 4);
  const names = symbols.map((s) => b.createString(s));
  const u32Vector = (xs: number[]): number => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]! | 0);
    return b.endVector();
  };
  b.startVector(4, names.length, 4);
  for (let i = names.length - 1; i >= 0; i--) b.addOffset(names[i]!);
  const symbolsVec = b.endVector();
  const refsVec = u32Vector(refs);
  const offsetsVec = u32Vector(offsets);
  b.startObject(3);
  b.addFieldOffset(0, symbolsVec, 0);
  b.addFieldOffset(1, refsVec, 0);
  b.addFieldOffset(2, offsetsVec, 0);
  b.finish(b.endObject());
  const bytes = b.asUint8Array();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
