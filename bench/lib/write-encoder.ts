// write-encoder.ts pre-encodes remote-write 1.0 WriteRequests for the
// ingestion benchmark. Each series' labels are encoded once into a blob of
// repeated `labels` fields; a request is then TimeSeries messages of
// blob + one Sample, built with plain byte copies. The output is byte-for-byte
// what src/remote/write-request.ts produces (checked by selfCheck), only
// fast enough to pre-build a million-series round in a few seconds.

import snappy from '@napi-rs/snappy';
import { encodeWriteRequest } from '../../src/remote/write-request.js';
import type { Labels } from './node-exporter.js';
import { putVarint, varintLen } from '../../src/remote/protobuf-writer.js';

/** encodeLabelsBlob returns the repeated `labels = 1` fields of a TimeSeries. */
export function encodeLabelsBlob(labels: Labels): Buffer {
  let size = 0;
  const parts: Array<[Buffer, Buffer]> = labels.map(([n, v]) => [Buffer.from(n, 'utf8'), Buffer.from(v, 'utf8')]);
  for (const [n, v] of parts) {
    const inner = 1 + varintLen(n.length) + n.length + 1 + varintLen(v.length) + v.length;
    size += 1 + varintLen(inner) + inner;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [n, v] of parts) {
    const inner = 1 + varintLen(n.length) + n.length + 1 + varintLen(v.length) + v.length;
    out[pos++] = 0x0a; // TimeSeries.labels, length-delimited
    pos = putVarint(out, pos, inner);
    out[pos++] = 0x0a; // Label.name
    pos = putVarint(out, pos, n.length);
    pos += n.copy(out, pos);
    out[pos++] = 0x12; // Label.value
    pos = putVarint(out, pos, v.length);
    pos += v.copy(out, pos);
  }
  return out;
}

/** sampleLen is the size of a Sample message body (value fixed64 + timestamp varint). */
function sampleLen(ts: number): number {
  return 1 + 8 + 1 + varintLen(ts);
}

/**
 * encodeBatch returns the uncompressed WriteRequest for series [from, to) with
 * one sample each at timestampMs, values read from values[i].
 */
export function encodeBatch(blobs: Buffer[], values: Float64Array, from: number, to: number, timestampMs: number): Buffer {
  const sLen = sampleLen(timestampMs);
  let size = 0;
  for (let i = from; i < to; i++) {
    const tsLen = blobs[i]!.length + 1 + varintLen(sLen) + sLen;
    size += 1 + varintLen(tsLen) + tsLen;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const blob = blobs[i]!;
    const tsLen = blob.length + 1 + varintLen(sLen) + sLen;
    out[pos++] = 0x0a; // WriteRequest.timeseries
    pos = putVarint(out, pos, tsLen);
    pos += blob.copy(out, pos);
    out[pos++] = 0x12; // TimeSeries.samples
    pos = putVarint(out, pos, sLen);
    out[pos++] = 0x09; // Sample.value, fixed64
    out.writeDoubleLE(values[i]!, pos);
    pos += 8;
    out[pos++] = 0x10; // Sample.timestamp, varint
    pos = putVarint(out, pos, timestampMs);
  }
  return out;
}

/** compress snappy-compresses a request body (block format, as remote write uses). */
export function compress(body: Buffer): Buffer {
  return snappy.compressSync(body);
}

/** selfCheck verifies encodeBatch against the project's reference encoder on a few series. */
export function selfCheck(labels: Labels[], values: Float64Array, timestampMs: number): void {
  const n = Math.min(50, labels.length);
  const blobs = labels.slice(0, n).map(encodeLabelsBlob);
  const fast = encodeBatch(blobs, values, 0, n, timestampMs);
  const reference = encodeWriteRequest(
    labels.slice(0, n).map((l, i) => ({ labels: l, samples: [[timestampMs, values[i]!] as [number, number]] })),
  );
  if (!fast.equals(reference)) throw new Error('bench write encoder disagrees with src/remote/write-request.ts');
}
