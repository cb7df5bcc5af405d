// write-request-histograms.ts encodes remote-write 1.0 requests carrying
// native histograms (prompb.Histogram), integer or float, the sum given as
// raw IEEE-754 bits where it matters (the staleness marker). Used by tests,
// benchmarks, and the ruler for recorded native histograms (encodeHistogram).

import { compressSync } from '@napi-rs/snappy';
import { ProtoWriter } from './protobuf-writer.js';

/** Span is a run of consecutive buckets: [offset, length]. */
export type Span = [offset: number, length: number];

/** NativeHistogram is one histogram sample as sent. */
export interface NativeHistogram {
  t: number;
  /** Integer histograms carry deltas, float ones absolute counts. */
  kind: 'int' | 'float';
  /** 0 unknown, 1 reset, 2 no reset, 3 gauge. */
  hint: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  /** The sum, or raw bits (the staleness marker). */
  sum: number | bigint;
  positiveSpans: Span[];
  negativeSpans: Span[];
  positiveBuckets: number[];
  negativeBuckets: number[];
  customValues: number[];
}

/** HistogramSeries is a series of histogram samples, with the exemplars sent beside them. */
export interface HistogramSeries {
  labels: Array<[string, string]>;
  histograms: NativeHistogram[];
  exemplars?: Array<{ labels: Array<[string, string]>; value: number; timestampMs: number }>;
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function spans(w: ProtoWriter, field: number, list: Span[]): void {
  for (const [offset, length] of list) w.message(field, (s) => s.uintField(1, zigzag(offset)).uintField(2, length));
}

function packedSint(w: ProtoWriter, field: number, list: number[]): void {
  if (list.length === 0) return;
  const p = new ProtoWriter(64);
  for (const v of list) p.varint(zigzag(v));
  w.bytes(field, p.finish());
}

function packedDouble(w: ProtoWriter, field: number, list: number[]): void {
  if (list.length === 0) return;
  const b = Buffer.alloc(list.length * 8);
  list.forEach((v, i) => b.writeDoubleLE(v, i * 8));
  w.bytes(field, b);
}

/** encodeHistogram writes one prompb.Histogram message body. */
export function encodeHistogram(h: NativeHistogram): Uint8Array {
  const w = new ProtoWriter(256);
  if (h.kind === 'int') w.uintField(1, h.count);
  else w.double(2, h.count);
  if (typeof h.sum === 'bigint') w.fixed64Field(3, h.sum);
  else w.double(3, h.sum);
  w.uintField(4, zigzag(h.schema));
  w.double(5, h.zeroThreshold);
  if (h.kind === 'int') w.uintField(6, h.zeroCount);
  else w.double(7, h.zeroCount);
  spans(w, 8, h.negativeSpans);
  if (h.kind === 'int') packedSint(w, 9, h.negativeBuckets);
  else packedDouble(w, 10, h.negativeBuckets);
  spans(w, 11, h.positiveSpans);
  if (h.kind === 'int') packedSint(w, 12, h.positiveBuckets);
  else packedDouble(w, 13, h.positiveBuckets);
  if (h.hint !== 0) w.uintField(14, h.hint);
  w.int64Field(15, h.t);
  packedDouble(w, 16, h.customValues);
  return Buffer.from(w.finish());
}

/** FloatSeries is a series of float samples sent in the same request. */
export interface FloatSeries {
  labels: Array<[string, string]>;
  samples: Array<[timestampMs: number, value: number]>;
}

/** encodeHistogramWriteRequest returns the uncompressed WriteRequest: the histogram series, then the float ones. */
export function encodeHistogramWriteRequest(series: HistogramSeries[], floats: FloatSeries[] = []): Buffer {
  const w = new ProtoWriter(64 * 1024);
  for (const s of series) {
    w.message(1, (tw) => {
      for (const [name, value] of s.labels) tw.message(1, (lw) => lw.string(1, name).string(2, value));
      for (const h of s.histograms) tw.bytes(4, encodeHistogram(h));
      for (const ex of s.exemplars ?? []) {
        tw.message(3, (e) => {
          for (const [name, value] of ex.labels) e.message(1, (l) => l.string(1, name).string(2, value));
          e.double(2, ex.value);
          e.int64Field(3, ex.timestampMs);
        });
      }
    });
  }
  for (const s of floats) {
    w.message(1, (tw) => {
      for (const [name, value] of s.labels) tw.message(1, (lw) => lw.string(1, name).string(2, value));
      for (const [t, v] of s.samples) tw.message(2, (m) => m.double(1, v).int64Field(2, t));
    });
  }
  return Buffer.from(w.finish());
}

/** encodeHistogramWriteRequestSnappy is the body a remote-write client posts. */
export function encodeHistogramWriteRequestSnappy(series: HistogramSeries[], floats: FloatSeries[] = []): Buffer {
  return compressSync(encodeHistogramWriteRequest(series, floats));
}

