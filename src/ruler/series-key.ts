// series-key.ts is how the ruler names and writes the series its rules
// produce without building a label object per sample: a series key is the
// series' labels as remote-write 1.0 `Label` messages (sorted by name, empty
// values left out) held as a latin1 string, one char per byte. Equal label
// sets give equal keys, so the keys serve the staleness bookkeeping (which
// series a rule wrote last time) and are spliced as they are into the
// WriteRequest that appends the samples.

import type { Labels } from '../promql/engine/types.js';
import { putVarint, varintLen } from '../remote/protobuf-writer.js';

/** SeriesKey is a label set as encoded `Label` messages, one latin1 char per byte. */
export type SeriesKey = string;

let scratch = Buffer.allocUnsafe(4096);

function ensureScratch(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  return scratch;
}

/** SHORT_PAIR is the longest name plus value (in UTF-16 units) whose Label message surely has one-byte lengths (3 bytes per unit at most). */
const SHORT_PAIR = 41;

/** seriesKeyOfPairs encodes name/value pairs already sorted by name (empty values are skipped). */
export function seriesKeyOfPairs(names: readonly string[], values: readonly string[]): SeriesKey {
  // Room for the longest UTF-8 form: at most 3 bytes per UTF-16 unit, plus tags and lengths.
  let room = 0;
  for (let i = 0; i < names.length; i++) room += 3 * (names[i]!.length + values[i]!.length) + 24;
  const buf = ensureScratch(room);
  let pos = 0;
  for (let i = 0; i < names.length; i++) {
    const value = values[i]!;
    if (value === '') continue;
    const name = names[i]!;
    if (name.length + value.length <= SHORT_PAIR) {
      // Short pair: write the strings, then fill in the one-byte lengths.
      const start = pos;
      buf[pos] = 0x0a;
      buf[pos + 2] = 0x0a;
      const nb = buf.write(name, pos + 4, 'utf8');
      buf[pos + 3] = nb;
      pos += 4 + nb;
      buf[pos] = 0x12;
      const vb = buf.write(value, pos + 2, 'utf8');
      buf[pos + 1] = vb;
      pos += 2 + vb;
      buf[start + 1] = pos - start - 2;
      continue;
    }
    const nb = Buffer.byteLength(name, 'utf8');
    const vb = Buffer.byteLength(value, 'utf8');
    buf[pos++] = 0x0a;
    pos = putVarint(buf, pos, 1 + varintLen(nb) + nb + 1 + varintLen(vb) + vb);
    buf[pos++] = 0x0a;
    pos = putVarint(buf, pos, nb);
    pos += buf.write(name, pos, nb, 'utf8');
    buf[pos++] = 0x12;
    pos = putVarint(buf, pos, vb);
    pos += buf.write(value, pos, vb, 'utf8');
  }
  return buf.toString('latin1', 0, pos);
}

/** seriesKey encodes a label set (any key order; empty values are left out). */
export function seriesKey(labels: Labels): SeriesKey {
  const names = Object.keys(labels).sort();
  return seriesKeyOfPairs(names, names.map((n) => labels[n]!));
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, pos];
    mul *= 0x80;
  }
}

/** labelsOfKey decodes a series key back to its label set. */
export function labelsOfKey(key: SeriesKey): Labels {
  const buf = Buffer.from(key, 'latin1');
  const out: Labels = {};
  let pos = 0;
  while (pos < buf.length) {
    let len;
    [len, pos] = readVarint(buf, pos + 1);
    const end = pos + len;
    let name = '';
    let value = '';
    while (pos < end) {
      const tag = buf[pos]!;
      let n;
      [n, pos] = readVarint(buf, pos + 1);
      const s = buf.toString('utf8', pos, pos + n);
      pos += n;
      if (tag === 0x0a) name = s;
      else value = s;
    }
    out[name] = value;
  }
  return out;
}

/** STALE_LO and STALE_HI are the two 32-bit halves of Prometheus's StaleNaN (0x7ff0000000000002). */
const STALE_LO = 0x00000002;
const STALE_HI = 0x7ff00000;

/** KeyedHistograms are histogram samples of some keys: keys[at[j]] carries the prompb.Histogram body bodies[j]. */
export interface KeyedHistograms {
  at: ArrayLike<number>;
  bodies: Uint8Array[];
}

/**
 * encodeKeyedSamples writes a remote-write 1.0 WriteRequest (uncompressed): one sample at tsMs for
 * each key with its value (or, for the keys histograms names, its native histogram), then a
 * staleness marker at tsMs for each of staleKeys.
 */
export function encodeKeyedSamples(
  keys: readonly SeriesKey[],
  values: ArrayLike<number>,
  tsMs: number,
  staleKeys: readonly SeriesKey[] = [],
  histograms?: KeyedHistograms,
): Uint8Array {
  const histogramOf = new Map<number, Uint8Array>();
  if (histograms !== undefined) for (let j = 0; j < histograms.at.length; j++) histogramOf.set(histograms.at[j]!, histograms.bodies[j]!);
  const tsVarint = tsMs >= 0 ? varintLen(tsMs) : 10;
  const sampleLen = 9 + 1 + tsVarint;
  let total = 0;
  const seriesLen = (k: string): number => k.length + 1 + varintLen(sampleLen) + sampleLen;
  const histogramSeriesLen = (k: string, body: Uint8Array): number => k.length + 1 + varintLen(body.length) + body.length;
  keys.forEach((k, i) => {
    const body = histogramOf.get(i);
    const n = body === undefined ? seriesLen(k) : histogramSeriesLen(k, body);
    total += 1 + varintLen(n) + n;
  });
  for (const k of staleKeys) {
    const n = seriesLen(k);
    total += 1 + varintLen(n) + n;
  }
  const buf = Buffer.alloc(total);
  let pos = 0;
  const putHistogram = (k: string, body: Uint8Array): void => {
    buf[pos++] = 0x0a;
    pos = putVarint(buf, pos, histogramSeriesLen(k, body));
    pos += buf.write(k, pos, k.length, 'latin1');
    // TimeSeries.histograms (field 4).
    buf[pos++] = 0x22;
    pos = putVarint(buf, pos, body.length);
    buf.set(body, pos);
    pos += body.length;
  };
  const put = (k: string, value: number, stale: boolean): void => {
    buf[pos++] = 0x0a;
    pos = putVarint(buf, pos, seriesLen(k));
    pos += buf.write(k, pos, k.length, 'latin1');
    buf[pos++] = 0x12;
    pos = putVarint(buf, pos, sampleLen);
    buf[pos++] = 0x09;
    if (stale) {
      buf.writeUInt32LE(STALE_LO, pos);
      buf.writeUInt32LE(STALE_HI, pos + 4);
    } else {
      buf.writeDoubleLE(value, pos);
    }
    pos += 8;
    buf[pos++] = 0x10;
    if (tsMs >= 0) {
      pos = putVarint(buf, pos, tsMs);
    } else {
      let big = BigInt.asUintN(64, BigInt(tsMs));
      while (big >= 0x80n) {
        buf[pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      buf[pos++] = Number(big);
    }
  };
  for (let i = 0; i < keys.length; i++) {
    const body = histogramOf.get(i);
    if (body === undefined) put(keys[i]!, values[i]!, false);
    else putHistogram(keys[i]!, body);
  }
  for (const k of staleKeys) put(k, NaN, true);
  return new Uint8Array(buf.buffer, buf.byteOffset, pos);
}
