// raw-write.ts encodes a remote-write 1.0 WriteRequest whose sample values
// are taken as raw IEEE-754 bits from a Float64Array's memory, never read
// back into a JS number, so NaN payloads such as Prometheus's staleness
// marker (0x7ff0000000000002) reach the receiver unchanged.

import { compressSync } from '@napi-rs/snappy';
import { ProtoWriter } from '../../../src/remote/protobuf-writer.js';

/** RawSeries is one series with its samples as parallel arrays. */
export interface RawSeries {
  labels: Array<[string, string]>;
  timestampsMs: Float64Array;
  /** Values; their bytes are copied as they are. */
  values: Float64Array;
}

/** encodeRawSample returns one prompb.Sample message body (value=1 fixed64, timestamp=2 int64). */
function encodeRawSample(valueBytes: Uint8Array, timestampMs: number): Uint8Array {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new Error(`raw-write: timestamp ${timestampMs} must be a non-negative integer`);
  }
  const out = new Uint8Array(1 + 8 + 1 + 10);
  out[0] = 0x09; // field 1, wire type 1 (fixed64)
  out.set(valueBytes, 1);
  let pos = 9;
  out[pos++] = 0x10; // field 2, wire type 0 (varint)
  let t = timestampMs;
  while (t >= 0x80) {
    out[pos++] = (t % 0x80) | 0x80;
    t = Math.floor(t / 0x80);
  }
  out[pos++] = t;
  return out.subarray(0, pos);
}

/** encodeRawWriteRequest returns the uncompressed WriteRequest bytes. */
export function encodeRawWriteRequest(series: RawSeries[]): Buffer {
  const w = new ProtoWriter(64 * 1024);
  for (const s of series) {
    if (s.timestampsMs.length !== s.values.length) throw new Error('raw-write: timestamps and values differ in length');
    const bytes = new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength);
    w.message(1, (tw) => {
      for (const [name, value] of s.labels) tw.message(1, (lw) => lw.string(1, name).string(2, value));
      for (let i = 0; i < s.values.length; i++) {
        tw.bytes(2, encodeRawSample(bytes.subarray(i * 8, i * 8 + 8), s.timestampsMs[i]!));
      }
    });
  }
  return Buffer.from(w.finish());
}

/** encodeRawWriteRequestSnappy returns the snappy body a remote-write client posts. */
export function encodeRawWriteRequestSnappy(series: RawSeries[]): Buffer {
  return compressSync(encodeRawWriteRequest(series));
}
