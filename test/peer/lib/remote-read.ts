// remote-read.ts is the client side of Prometheus remote read (prompb
// remote.proto / types.proto): it encodes a ReadRequest as Prometheus's
// remote-read client or Thanos sidecar sends it, and decodes both response
// kinds: SAMPLES (snappy ReadResponse) and STREAMED_XOR_CHUNKS (a stream of
// length-prefixed, CRC32C-checked ChunkedReadResponse frames).

import snappy from '@napi-rs/snappy';
import { ProtoWriter } from '../../../src/remote/protobuf-writer.js';
import { crc32c } from '../../../src/remote/crc32c.js';
import { ProtoReader, WireType } from '../../../src/remote/proto-reader.js';
import { loadNative } from '../../../src/storage/native.js';

/** ReadMatchType is prompb.LabelMatcher.Type. */
export const enum ReadMatchType {
  EQ = 0,
  NEQ = 1,
  RE = 2,
  NRE = 3,
}

/** ResponseType is prompb.ReadRequest.ResponseType. */
export const enum ResponseType {
  SAMPLES = 0,
  STREAMED_XOR_CHUNKS = 1,
}

/** ChunkEncoding is prompb.Chunk.Encoding. */
export const enum ChunkEncoding {
  UNKNOWN = 0,
  XOR = 1,
  HISTOGRAM = 2,
  FLOAT_HISTOGRAM = 3,
}

/** ReadMatcher is one prompb.LabelMatcher. */
export interface ReadMatcher {
  type: ReadMatchType;
  name: string;
  value: string;
}

/** ReadHints is prompb.ReadHints (all optional). */
export interface ReadHints {
  stepMs?: number;
  func?: string;
  startMs?: number;
  endMs?: number;
  grouping?: string[];
  by?: boolean;
  rangeMs?: number;
}

/** ReadQuery is one prompb.Query. */
export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: ReadMatcher[];
  hints?: ReadHints;
}

/** REMOTE_READ_HEADERS are the headers Prometheus's remote-read client sends. */
export const REMOTE_READ_HEADERS: Record<string, string> = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Read-Version': '0.1.0',
};

/** STREAMED_CONTENT_TYPE is the Content-Type of a STREAMED_XOR_CHUNKS response. */
export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

/** encodeReadRequest returns the uncompressed prompb.ReadRequest bytes. */
export function encodeReadRequest(queries: ReadQuery[], accepted: ResponseType[] = []): Buffer {
  const w = new ProtoWriter(256);
  for (const q of queries) {
    w.message(1, (qw) => {
      qw.int64Field(1, q.startMs).int64Field(2, q.endMs);
      for (const m of q.matchers) {
        qw.message(3, (mw) => {
          // proto3 omits default values; type EQ (0) is not written.
          if (m.type !== ReadMatchType.EQ) mw.uintField(1, m.type);
          mw.string(2, m.name).string(3, m.value);
        });
      }
      const h = q.hints;
      if (h) {
        qw.message(4, (hw) => {
          if (h.stepMs) hw.int64Field(1, h.stepMs);
          if (h.func) hw.string(2, h.func);
          if (h.startMs) hw.int64Field(3, h.startMs);
          if (h.endMs) hw.int64Field(4, h.endMs);
          for (const g of h.grouping ?? []) hw.string(5, g);
          if (h.by) hw.uintField(6, 1);
          if (h.rangeMs) hw.int64Field(7, h.rangeMs);
        });
      }
    });
  }
  if (accepted.length > 0) {
    // repeated enum: packed encoding, as gogo/protobuf emits it.
    const packed = new ProtoWriter(16);
    for (const a of accepted) packed.varint(a);
    w.bytes(2, packed.finish());
  }
  return Buffer.from(w.finish());
}

/** encodeReadRequestSnappy returns the body a remote-read client posts. */
export function encodeReadRequestSnappy(queries: ReadQuery[], accepted: ResponseType[] = []): Buffer {
  return snappy.compressSync(encodeReadRequest(queries, accepted));
}

/** Label is one name/value pair as it came over the wire. */
export type Label = [name: string, value: string];

/** ReadChunk is one prompb.Chunk. */
export interface ReadChunk {
  minTimeMs: number;
  maxTimeMs: number;
  type: ChunkEncoding;
  data: Uint8Array;
}

/** ChunkedSeries is one prompb.ChunkedSeries. */
export interface ChunkedSeries {
  labels: Label[];
  chunks: ReadChunk[];
}

/** ChunkedReadResponse is one frame of a streamed response. */
export interface ChunkedReadResponse {
  chunkedSeries: ChunkedSeries[];
  queryIndex: number;
}

function decodeLabel(buf: Uint8Array): Label {
  const r = new ProtoReader(buf);
  let name = '';
  let value = '';
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) name = r.string();
    else if (field === 2 && wireType === WireType.Bytes) value = r.string();
    else r.skip(wireType);
  }
  return [name, value];
}

function decodeChunk(buf: Uint8Array): ReadChunk {
  const r = new ProtoReader(buf);
  const c: ReadChunk = { minTimeMs: 0, maxTimeMs: 0, type: ChunkEncoding.UNKNOWN, data: new Uint8Array(0) };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Varint) c.minTimeMs = r.int64();
    else if (field === 2 && wireType === WireType.Varint) c.maxTimeMs = r.int64();
    else if (field === 3 && wireType === WireType.Varint) c.type = r.varint() as ChunkEncoding;
    else if (field === 4 && wireType === WireType.Bytes) c.data = r.bytes();
    else r.skip(wireType);
  }
  return c;
}

function decodeChunkedSeries(buf: Uint8Array): ChunkedSeries {
  const r = new ProtoReader(buf);
  const s: ChunkedSeries = { labels: [], chunks: [] };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) s.labels.push(decodeLabel(r.bytes()));
    else if (field === 2 && wireType === WireType.Bytes) s.chunks.push(decodeChunk(r.bytes()));
    else r.skip(wireType);
  }
  return s;
}

/** decodeChunkedReadResponse decodes one frame's message. */
export function decodeChunkedReadResponse(buf: Uint8Array): ChunkedReadResponse {
  const r = new ProtoReader(buf);
  const out: ChunkedReadResponse = { chunkedSeries: [], queryIndex: 0 };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) out.chunkedSeries.push(decodeChunkedSeries(r.bytes()));
    else if (field === 2 && wireType === WireType.Varint) out.queryIndex = r.int64();
    else r.skip(wireType);
  }
  return out;
}

/**
 * splitChunkedFrames splits a streamed body into frame messages. Each frame is
 * uvarint(len(message)) | CRC32C(message) as 4 big-endian bytes | message.
 * Throws on a truncated frame or a checksum mismatch.
 */
export function splitChunkedFrames(body: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (pos < body.length) {
    const r = new ProtoReader(body.subarray(pos));
    const len = r.varint();
    const start = pos + r.offset();
    if (start + 4 + len > body.length) {
      throw new Error(`remote read: truncated frame at byte ${pos} (want ${len} bytes)`);
    }
    const want = new DataView(body.buffer, body.byteOffset + start, 4).getUint32(0, false);
    const msg = body.subarray(start + 4, start + 4 + len);
    const got = crc32c(msg);
    if (got !== want) {
      throw new Error(`remote read: frame at byte ${pos}: CRC32C ${got.toString(16)} != header ${want.toString(16)}`);
    }
    frames.push(msg);
    pos = start + 4 + len;
  }
  return frames;
}

/** parseChunkedReadBody splits and decodes every frame of a streamed body. */
export function parseChunkedReadBody(body: Uint8Array): ChunkedReadResponse[] {
  return splitChunkedFrames(body).map(decodeChunkedReadResponse);
}

/**
 * mergeChunkedSeries joins the frames of one query into whole series:
 * Prometheus splits a series with many chunks over consecutive frames,
 * repeating its labels in each.
 */
export function mergeChunkedSeries(frames: ChunkedReadResponse[], queryIndex = 0): ChunkedSeries[] {
  const out: ChunkedSeries[] = [];
  let lastKey = '';
  for (const f of frames) {
    if (f.queryIndex !== queryIndex) continue;
    for (const s of f.chunkedSeries) {
      const key = JSON.stringify(s.labels);
      const last = out[out.length - 1];
      if (last && key === lastKey) last.chunks.push(...s.chunks);
      else out.push({ labels: s.labels, chunks: [...s.chunks] });
      lastKey = key;
    }
  }
  return out;
}

/** ReadSample is one prompb.Sample with the value's raw IEEE-754 bits kept. */
export interface ReadSample {
  timestampMs: number;
  value: number;
  valueBits: bigint;
}

/** ReadTimeSeries is one prompb.TimeSeries of a SAMPLES response. */
export interface ReadTimeSeries {
  labels: Label[];
  samples: ReadSample[];
  /** The series' prompb.Histogram messages, undecoded. */
  histograms: Uint8Array[];
}

function decodeSample(buf: Uint8Array): ReadSample {
  const r = new ProtoReader(buf);
  const s: ReadSample = { timestampMs: 0, value: 0, valueBits: 0n };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Fixed64) {
      const raw = r.fixed64Bytes();
      const dv = new DataView(raw.buffer, raw.byteOffset, 8);
      s.valueBits = dv.getBigUint64(0, true);
      s.value = dv.getFloat64(0, true);
    } else if (field === 2 && wireType === WireType.Varint) s.timestampMs = r.int64();
    else r.skip(wireType);
  }
  return s;
}

/** decodeReadResponse decodes an uncompressed SAMPLES ReadResponse: one series list per query. */
export function decodeReadResponse(buf: Uint8Array): ReadTimeSeries[][] {
  const results: ReadTimeSeries[][] = [];
  const r = new ProtoReader(buf);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field !== 1 || wireType !== WireType.Bytes) {
      r.skip(wireType);
      continue;
    }
    const qr = new ProtoReader(r.bytes());
    const series: ReadTimeSeries[] = [];
    while (!qr.done()) {
      const t = qr.tag();
      if (t.field !== 1 || t.wireType !== WireType.Bytes) {
        qr.skip(t.wireType);
        continue;
      }
      const sr = new ProtoReader(qr.bytes());
      const ts: ReadTimeSeries = { labels: [], samples: [], histograms: [] };
      while (!sr.done()) {
        const st = sr.tag();
        if (st.field === 1 && st.wireType === WireType.Bytes) ts.labels.push(decodeLabel(sr.bytes()));
        else if (st.field === 2 && st.wireType === WireType.Bytes) ts.samples.push(decodeSample(sr.bytes()));
        else if (st.field === 4 && st.wireType === WireType.Bytes) ts.histograms.push(sr.bytes());
        else sr.skip(st.wireType);
      }
      series.push(ts);
    }
    results.push(series);
  }
  return results;
}

/** RemoteReadResult is the raw answer of a remote-read POST. */
export interface RemoteReadResult {
  status: number;
  contentType: string;
  body: Uint8Array;
}

/** postRemoteRead posts a snappy ReadRequest to url and returns the raw response. */
export async function postRemoteRead(
  url: string,
  queries: ReadQuery[],
  accepted: ResponseType[],
  extraHeaders: Record<string, string> = {},
): Promise<RemoteReadResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...REMOTE_READ_HEADERS, ...extraHeaders },
    body: new Uint8Array(encodeReadRequestSnappy(queries, accepted)),
  });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
}

/** decodeSamplesBody uncompresses and decodes a SAMPLES response body. */
export function decodeSamplesBody(body: Uint8Array): ReadTimeSeries[][] {
  // uncompressSync is not a detectable named export of the CJS module, hence the default import.
  return decodeReadResponse(snappy.uncompressSync(Buffer.from(body)));
}

/**
 * chunkedSamplesInRange decodes the XOR chunks of one query's series and keeps the samples in
 * [minT, maxT] as [labels JSON, timestamps, value bits]: the way to compare streamed answers when
 * one side trims the chunks at the edges of the range (Prometheus) and the other does not (us).
 */
export function chunkedSamplesInRange(frames: ChunkedReadResponse[], queryIndex: number, minT: number, maxT: number): Array<[string, number[], bigint[]]> {
  return mergeChunkedSeries(frames, queryIndex).map((s) => {
    const ts: number[] = [];
    const bits: bigint[] = [];
    for (const c of s.chunks) {
      const dec = loadNative().decodeXorChunk(c.data);
      const raw = new BigUint64Array(dec.values.buffer, dec.values.byteOffset, dec.values.length);
      dec.timestamps.forEach((x, i) => {
        if (x < minT || x > maxT || (ts.length > 0 && x <= ts[ts.length - 1]!)) return;
        ts.push(x);
        bits.push(raw[i]!);
      });
    }
    return [JSON.stringify(s.labels), ts, bits];
  });
}
