// read-handler.ts answers Prometheus remote read (`POST /api/v1/read`,
// prompb remote.proto): a snappy ReadRequest in, and per Prometheus's read
// handler either a snappy ReadResponse of raw samples (SAMPLES; native
// histograms as prompb.Histogram) or a stream of frames holding the chunks as
// stored (STREAMED_XOR_CHUNKS: XOR, histogram and float-histogram chunks), the
// first type of accepted_response_types we support winning (none = SAMPLES).
// Responses are encoded straight from the binding's typed arrays: no object
// per sample or chunk. A federated tenant text (`a|b`) reads every tenant,
// labelled with `__tenant_id__` (read-federation.ts). The tenant's
// -querier.max-partial-query-length and -querier.max-fetched-series-per-query
// apply, answered with 400 in plain text as Mimir's remote read answers limit
// errors.

import { decodeSeriesLabels } from '../model/series-labels.js';
import snappy from '@napi-rs/snappy';
import { ApiError, badData } from '../errors.js';
import type { Request } from '../server/http.js';
import type { ChunkedWriter, Response } from '../server/response.js';
import { loadNative, type SelectedChunks, type SelectedHistograms, type SelectedSamples } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
import { NO_QUERY_LIMITS, queryLimitsFor, SeriesLimiter, type QueryLimitsSource } from '../querier/query-limits.js';
import { crc32c } from './crc32c.js';
import { putVarint, varintLen } from './protobuf-writer.js';
import { visibleTo, type Visibility } from '../auth/visibility.js';
import { federatedReadStorage } from './read-federation.js';
import { ProtoReader, WireType } from './proto-reader.js';

/** RemoteReadStorage is what remote read needs from the head: selections made off the event loop. */
export interface RemoteReadStorage {
  // visibility (LBAC) limits each tenant's series; the native core applies it to the selection.
  selectSamples(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, visibility?: Visibility): Promise<SelectedSamples>;
  selectChunks(tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number, visibility?: Visibility): Promise<SelectedChunks>;
}

/** ResponseType is prompb.ReadRequest.ResponseType. */
export const RESPONSE_SAMPLES = 0;
export const RESPONSE_STREAMED_XOR_CHUNKS = 1;

/** STREAMED_CONTENT_TYPE is Prometheus's Content-Type of a STREAMED_XOR_CHUNKS answer. */
export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

/** MAX_BYTES_IN_FRAME is Prometheus's default frame bound (1 MiB). */
export const MAX_BYTES_IN_FRAME = 1024 * 1024;

/** ReadQuery is one decoded prompb.Query. */
export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: LabelMatcher[];
}

/** ReadRequest is a decoded prompb.ReadRequest (hints ignored). */
export interface ReadRequest {
  queries: ReadQuery[];
  acceptedResponseTypes: number[];
}

function decodeMatcher(buf: Uint8Array): LabelMatcher {
  const r = new ProtoReader(buf);
  let type = 0;
  let name = '';
  let value = '';
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Varint) type = r.varint();
    else if (field === 2 && wireType === WireType.Bytes) name = r.string();
    else if (field === 3 && wireType === WireType.Bytes) value = r.string();
    else r.skip(wireType);
  }
  if (type > 3) throw badData(`invalid matcher type ${type} for label ${JSON.stringify(name)}`);
  return { type: type as LabelMatcher['type'], name, value };
}

function decodeQuery(buf: Uint8Array): ReadQuery {
  const r = new ProtoReader(buf);
  const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [] };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Varint) q.startMs = r.int64();
    else if (field === 2 && wireType === WireType.Varint) q.endMs = r.int64();
    else if (field === 3 && wireType === WireType.Bytes) q.matchers.push(decodeMatcher(r.bytes()));
    else r.skip(wireType);
  }
  return q;
}

/** decodeReadRequest decodes an uncompressed prompb.ReadRequest; throws on malformed protobuf. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new ProtoReader(buf);
  const out: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) out.queries.push(decodeQuery(r.bytes()));
    else if (field === 2 && wireType === WireType.Varint) out.acceptedResponseTypes.push(r.varint());
    else if (field === 2 && wireType === WireType.Bytes) {
      const packed = new ProtoReader(r.bytes());
      while (!packed.done()) out.acceptedResponseTypes.push(packed.varint());
    } else r.skip(wireType);
  }
  return out;
}

/**
 * negotiateResponseType picks the first accepted type we support, SAMPLES
 * when none is listed, and undefined when none of those listed is supported.
 */
export function negotiateResponseType(accepted: number[]): number | undefined {
  if (accepted.length === 0) return RESPONSE_SAMPLES;
  return accepted.find((t) => t === RESPONSE_SAMPLES || t === RESPONSE_STREAMED_XOR_CHUNKS);
}

// --- encoding into a preallocated buffer -------------------------------------

/** int64Size is the size of a protobuf int64 varint (10 bytes when negative). */
function int64Size(v: number): number {
  return v < 0 ? 10 : varintLen(v);
}

/** Out is a fixed-size output buffer filled front to back. */
class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(v: number): void {
    this.pos = putVarint(this.buf, this.pos, v);
  }

  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    let big = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  bytes(src: Uint8Array): void {
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }
}

/** EncodedLabels are one series' labels as encoded prompb.Label fields (field 1 of the parent). */
function encodeLabels(labels: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(labels)) {
    const nb = Buffer.from(name, 'utf8');
    const vb = Buffer.from(labels[name]!, 'utf8');
    const inner = 1 + varintLen(nb.length) + nb.length + 1 + varintLen(vb.length) + vb.length;
    const out = new Out(Buffer.allocUnsafe(1 + varintLen(inner) + inner));
    out.varint(0x0a);
    out.varint(inner);
    out.varint(0x0a);
    out.varint(nb.length);
    out.bytes(nb);
    out.varint(0x12);
    out.varint(vb.length);
    out.bytes(vb);
    parts.push(out.buf);
  }
  return Buffer.concat(parts);
}

function sampleSize(t: number): number {
  return 9 + 1 + int64Size(t);
}

/**
 * encodeHistograms encodes a selection's histogram samples as prompb.Histogram messages (message j is
 * data[offsets[j], offsets[j+1])): the native core, which reads the hand-off format, encodes them.
 */
function encodeHistograms(h: SelectedHistograms): { data: Buffer; offsets: Uint32Array } {
  const native = loadNative();
  if (native.encodeRemoteHistograms === undefined) throw new Error('the native binding cannot encode native histograms (rebuild it)');
  return native.encodeRemoteHistograms(h.timestamps, h.data, h.dataOffsets);
}

/**
 * encodeQueryResult encodes one prompb.QueryResult (timeseries with labels,
 * samples and native histograms), values copied by their bits so NaN
 * payloads (staleness markers) survive.
 */
function encodeQueryResult(sel: SelectedSamples): Buffer {
  const labelSets = decodeSeriesLabels(sel.labels);
  const labels = labelSets.map(encodeLabels);
  const ts = sel.timestamps;
  const valueBytes = new Uint8Array(sel.values.buffer, sel.values.byteOffset, sel.values.byteLength);
  const seriesSizes = new Array<number>(labels.length);
  // Each series' histograms as prompb.Histogram messages, encoded by the native core.
  const hists = sel.histograms;
  const encoded = hists === undefined || hists.timestamps.length === 0 ? undefined : encodeHistograms(hists);
  const histMsgs: Uint8Array[][] = labels.map((_, i) => {
    if (hists === undefined || encoded === undefined) return [];
    const out: Uint8Array[] = [];
    for (let j = hists.offsets[i]!; j < hists.offsets[i + 1]!; j++) out.push(encoded.data.subarray(encoded.offsets[j]!, encoded.offsets[j + 1]!));
    return out;
  });
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let size = labels[i]!.length;
    for (let j = sel.offsets[i]!; j < sel.offsets[i + 1]!; j++) {
      const s = sampleSize(ts[j]!);
      size += 1 + varintLen(s) + s;
    }
    for (const m of histMsgs[i]!) size += 1 + varintLen(m.length) + m.length;
    seriesSizes[i] = size;
    total += 1 + varintLen(size) + size;
  }
  const out = new Out(Buffer.allocUnsafe(total));
  for (let i = 0; i < labels.length; i++) {
    out.varint(0x0a); // QueryResult.timeseries
    out.varint(seriesSizes[i]!);
    out.bytes(labels[i]!);
    for (let j = sel.offsets[i]!; j < sel.offsets[i + 1]!; j++) {
      const t = ts[j]!;
      out.varint(0x12); // TimeSeries.samples
      out.varint(sampleSize(t));
      out.varint(0x09); // Sample.value, fixed64
      out.bytes(valueBytes.subarray(j * 8, j * 8 + 8));
      out.varint(0x10); // Sample.timestamp
      out.int64(t);
    }
    for (const m of histMsgs[i]!) {
      out.varint(0x22); // TimeSeries.histograms
      out.varint(m.length);
      out.bytes(m);
    }
  }
  return out.buf;
}

/** encodeReadResponse encodes prompb.ReadResponse from one QueryResult per query. */
export function encodeReadResponse(results: Buffer[]): Buffer {
  let total = 0;
  for (const r of results) total += 1 + varintLen(r.length) + r.length;
  const out = new Out(Buffer.allocUnsafe(total));
  for (const r of results) {
    out.varint(0x0a);
    out.varint(r.length);
    out.bytes(r);
  }
  return out.buf;
}

function chunkSize(minT: number, maxT: number, len: number): number {
  return 1 + int64Size(minT) + 1 + int64Size(maxT) + 2 + 1 + varintLen(len) + len;
}

/**
 * encodeFrame encodes one frame: uvarint(len) | big-endian CRC32C | a
 * ChunkedReadResponse holding one series and chunks [from, to) of sel.
 */
function encodeFrame(sel: SelectedChunks, labels: Buffer, from: number, to: number, queryIndex: number): Buffer {
  let seriesSize = labels.length;
  for (let c = from; c < to; c++) {
    const s = chunkSize(sel.minTimes[c]!, sel.maxTimes[c]!, sel.dataOffsets[c + 1]! - sel.dataOffsets[c]!);
    seriesSize += 1 + varintLen(s) + s;
  }
  const msgSize = 1 + varintLen(seriesSize) + seriesSize + (queryIndex > 0 ? 1 + varintLen(queryIndex) : 0);
  const head = varintLen(msgSize) + 4;
  const out = new Out(Buffer.allocUnsafe(head + msgSize));
  out.pos = head;
  out.varint(0x0a); // ChunkedReadResponse.chunked_series
  out.varint(seriesSize);
  out.bytes(labels);
  for (let c = from; c < to; c++) {
    const minT = sel.minTimes[c]!;
    const maxT = sel.maxTimes[c]!;
    const data = sel.data.subarray(sel.dataOffsets[c]!, sel.dataOffsets[c + 1]!);
    out.varint(0x12); // ChunkedSeries.chunks
    out.varint(chunkSize(minT, maxT, data.length));
    out.varint(0x08);
    out.int64(minT);
    out.varint(0x10);
    out.int64(maxT);
    out.varint(0x18);
    out.varint(sel.encodings[c]!);
    out.varint(0x22);
    out.varint(data.length);
    out.bytes(data);
  }
  if (queryIndex > 0) {
    out.varint(0x10); // ChunkedReadResponse.query_index
    out.varint(queryIndex);
  }
  const msg = out.buf.subarray(head);
  const prefix = new Out(out.buf);
  prefix.varint(msgSize);
  out.buf.writeUInt32BE(crc32c(msg), prefix.pos);
  return out.buf;
}

/**
 * chunkedFrames encodes one query's series as frames the way Prometheus
 * streams them: one series per frame, a series' chunks split over
 * consecutive frames (labels repeated) once a frame reaches maxBytesInFrame.
 * Frames are made as they are taken, so a streamed answer holds one at a time.
 */
export function* chunkedFrames(sel: SelectedChunks, queryIndex: number, maxBytesInFrame = MAX_BYTES_IN_FRAME): Generator<Buffer> {
  const labelSets = decodeSeriesLabels(sel.labels);
  for (let i = 0; i < labelSets.length; i++) {
    const labels = encodeLabels(labelSets[i]!);
    const end = sel.seriesOffsets[i + 1]!;
    let from = sel.seriesOffsets[i]!;
    let bytes = labels.length;
    for (let c = from; c < end; c++) {
      bytes += sel.dataOffsets[c + 1]! - sel.dataOffsets[c]! + 32;
      if (bytes >= maxBytesInFrame || c === end - 1) {
        yield encodeFrame(sel, labels, from, c + 1, queryIndex);
        from = c + 1;
        bytes = labels.length;
      }
    }
  }
}

/** RemoteReadApi serves POST /api/v1/read for one tenant. */
export class RemoteReadApi {
  private readonly storage: RemoteReadStorage;

  /** limits, when given, are each tenant's query limits (its runtime overrides on top of the defaults). */
  constructor(
    storage: RemoteReadStorage = remoteReadStorage(),
    private readonly limits?: QueryLimitsSource,
  ) {
    this.storage = federatedReadStorage(storage);
  }

  readonly read = async (req: Request, res: Response): Promise<void> => {
    let request: ReadRequest;
    try {
      request = decodeReadRequest(snappy.uncompressSync(req.body) as Buffer);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badData(err instanceof Error ? err.message : String(err));
    }
    const type = negotiateResponseType(request.acceptedResponseTypes);
    if (type === undefined) {
      throw badData(`unsupported response types ${request.acceptedResponseTypes.join(', ')}; supported: SAMPLES, STREAMED_XOR_CHUNKS`);
    }
    // One limiter for the whole request, as Mimir's per-request query limiter.
    const limiter = new SeriesLimiter(this.limits === undefined ? NO_QUERY_LIMITS : queryLimitsFor(this.limits, req.tenant));
    const select = async <T extends { labels: Uint8Array }>(q: ReadQuery, fn: () => Promise<T>): Promise<T> => {
      let sel: T;
      try {
        limiter.checkLength(q.endMs - q.startMs);
        sel = await fn();
        if (limiter.countsSeries) limiter.addSeries(decodeSeriesLabels(sel.labels));
      } catch (err) {
        // Limit errors, or the binding's only failure: a bad matcher (regexp or type).
        throw badData(err instanceof Error ? err.message : String(err));
      }
      return sel;
    };
    if (type === RESPONSE_SAMPLES) {
      // One query at a time, so that the series limit stops the request before the next selection.
      const results: Buffer[] = [];
      for (const q of request.queries) {
        results.push(encodeQueryResult(await select(q, () => this.storage.selectSamples(req.tenant, q.matchers, q.startMs, q.endMs, req.visibility))));
      }
      const body = snappy.compressSync(encodeReadResponse(results));
      res.send(200, body, 'application/x-protobuf', { 'Content-Encoding': 'snappy' });
      return;
    }
    // Every selection (and its limits) first, so that an error still answers 400; then the frames
    // are streamed as the client reads them, one encoded frame held at a time.
    const selections: SelectedChunks[] = [];
    for (const q of request.queries) selections.push(await select(q, () => this.storage.selectChunks(req.tenant, q.matchers, q.startMs, q.endMs, req.visibility)));
    return streamFrames(res.chunked(200, STREAMED_CONTENT_TYPE), selections);
  };
}

/** streamFrames writes every selection's frames, waiting for the client on backpressure; it stops if the client goes away. */
async function streamFrames(out: ChunkedWriter, selections: SelectedChunks[]): Promise<void> {
  try {
    for (const [i, sel] of selections.entries()) {
      for (const frame of chunkedFrames(sel, i)) {
        if (!(await out.write(frame))) return;
      }
    }
  } finally {
    out.end();
  }
}

/** remoteReadStorage reads the tenants' heads and blocks through the native binding, on the libuv thread pool. */
export function remoteReadStorage(): RemoteReadStorage {
  return {
    selectSamples: async (tenant, matchers, mintMs, maxtMs, vis) => loadNative().selectSamplesAsync(tenant, matchers, mintMs, maxtMs, undefined, visibleTo(vis, tenant)),
    selectChunks: async (tenant, matchers, mintMs, maxtMs, vis) => loadNative().selectChunksAsync(tenant, matchers, mintMs, maxtMs, visibleTo(vis, tenant)),
  };
}
