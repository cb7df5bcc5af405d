// read-handler.test.ts drives remote read through the real server and native
// head: samples pushed, then read back as SAMPLES (values and timestamps
// bit-exact, staleness markers included) and as STREAMED_XOR_CHUNKS (frames
// CRC-checked, chunks decoded with the binding), the order of
// accepted_response_types honoured, and bad requests refused.

import { decodeSeriesLabels } from '../model/series-labels.js';
import { once } from 'node:events';
import { connect } from 'node:net';
import snappy from '@napi-rs/snappy';
import t from 'tap';
import {
  decodeSamplesBody,
  encodeReadRequest,
  mergeChunkedSeries,
  parseChunkedReadBody,
  postRemoteRead,
  ReadMatchType,
  REMOTE_READ_HEADERS,
  ResponseType,
  STREAMED_CONTENT_TYPE,
  type ReadQuery,
} from '../../test/peer/lib/remote-read.js';
import { loadNative, TOO_MANY_SAMPLES_MESSAGE } from '../storage/native.js';
import { startTestServer } from '../testing/server.js';
import { encodeRawWriteRequestSnappy } from '../../test/peer/lib/raw-write.js';
import { chunkedFrames, remoteReadStorage } from './read-handler.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from './write-request.js';
import { nativeSkip } from '../testing/native-skip.js';
import { CHUNK_RANGE_MS } from '../testing/chunk-range.js';

const skip = nativeSkip();

const run = Date.now().toString(36);
const TENANT = `rr-${run}`;
// base sits 10 minutes into a 2h chunk range that ended at least an hour ago, so the 50 minutes of
// samples never straddle a range boundary (where the head would cut an extra chunk) whatever the clock says.
const base = Math.floor((Date.now() - 3 * 3_600_000) / CHUNK_RANGE_MS) * CHUNK_RANGE_MS + 600_000;
const STALE_BITS = 0x7ff0000000000002n;
const bitsOf = (v: number): bigint => new BigUint64Array(new Float64Array([v]).buffer)[0]!;
/** bitsOfArray reads values' bits from their memory: a signalling NaN read into a JS number may be quieted. */
const bitsOfArray = (values: Float64Array): bigint[] => [...new BigUint64Array(values.buffer, values.byteOffset, values.length)];

// Series a: 300 samples (three chunks: two closed, one open); b: two samples then a staleness
// marker, written from raw bits (the marker is a signalling NaN).
const aSamples: Array<[number, number]> = Array.from({ length: 300 }, (_, i) => [base + i * 10_000, i * 1.5 - 7]);
const bTimes = new Float64Array([base, base + 15_000, base + 30_000]);
const bBits = [bitsOf(1), bitsOf(0.1 + 0.2), STALE_BITS];
const bValues = new Float64Array(new BigUint64Array(bBits).buffer);

t.test('remote read', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const push = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: new Uint8Array(
      encodeWriteRequestSnappy([
        { labels: [['__name__', 'rr_metric'], ['job', 'a']], samples: aSamples },
        { labels: [['__name__', 'other_metric'], ['job', 'c']], samples: [[base, 5]] },
      ]),
    ),
  });
  t.equal(push.status, 200, await push.text());
  const raw = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: new Uint8Array(encodeRawWriteRequestSnappy([{ labels: [['__name__', 'rr_metric'], ['job', 'b']], timestampsMs: bTimes, values: bValues }])),
  });
  t.equal(raw.status, 200, await raw.text());

  const url = `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`;
  const hdr = { 'X-Scope-OrgID': TENANT };
  const all: ReadQuery = { startMs: base - 1000, endMs: base + 3_600_000, matchers: [{ type: ReadMatchType.EQ, name: '__name__', value: 'rr_metric' }] };

  await t.test('SAMPLES: bit-exact values and timestamps, series sorted', async (t) => {
    for (const accepted of [[], [ResponseType.SAMPLES], [ResponseType.SAMPLES, ResponseType.STREAMED_XOR_CHUNKS]]) {
      const res = await postRemoteRead(url, [all], accepted, hdr);
      t.equal(res.status, 200, `accepted ${JSON.stringify(accepted)}`);
      t.equal(res.contentType, 'application/x-protobuf');
      const [series] = decodeSamplesBody(res.body);
      t.same(series!.map((s) => s.labels), [
        [['__name__', 'rr_metric'], ['job', 'a']],
        [['__name__', 'rr_metric'], ['job', 'b']],
      ]);
      t.same(series![0]!.samples.map((s) => [s.timestampMs, s.valueBits]), aSamples.map(([ts, v]) => [ts, bitsOf(v)]));
      t.same(series![1]!.samples.map((s) => [s.timestampMs, s.valueBits]), [...bTimes].map((ts, i) => [ts, bBits[i]]));
      t.equal(series![1]!.samples[2]!.valueBits, STALE_BITS, 'staleness marker bits kept');
    }
    const r = await fetch(url, { method: 'POST', headers: { ...REMOTE_READ_HEADERS, ...hdr }, body: new Uint8Array(snappy.compressSync(encodeReadRequest([all]))) });
    t.equal(r.headers.get('content-encoding'), 'snappy');
    await r.arrayBuffer();
  });

  await t.test('SAMPLES: time range, matcher types and several queries', async (t) => {
    const queries: ReadQuery[] = [
      { startMs: base + 10_000, endMs: base + 30_000, matchers: [{ type: ReadMatchType.RE, name: 'job', value: 'a|b' }] },
      { startMs: base - 1000, endMs: base + 1000, matchers: [{ type: ReadMatchType.NEQ, name: '__name__', value: 'rr_metric' }] },
      { startMs: base - 1000, endMs: base + 1000, matchers: [{ type: ReadMatchType.NRE, name: 'job', value: 'a|c' }] },
      { startMs: base - 1000, endMs: base + 1000, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: 'nope' }] },
    ];
    const res = await postRemoteRead(url, queries, [ResponseType.SAMPLES], hdr);
    t.equal(res.status, 200);
    const results = decodeSamplesBody(res.body);
    t.equal(results.length, 4, 'one result per query');
    t.same(results[0]!.map((s) => s.samples.map((x) => x.timestampMs)), [
      [base + 10_000, base + 20_000, base + 30_000],
      [base + 15_000, base + 30_000],
    ]);
    t.same(results[1]!.map((s) => s.labels), [[['__name__', 'other_metric'], ['job', 'c']]]);
    t.same(results[2]!.map((s) => s.labels), [[['__name__', 'rr_metric'], ['job', 'b']]]);
    t.same(results[3], []);
  });

  await t.test('STREAMED_XOR_CHUNKS: raw chunks that decode to the samples', async (t) => {
    for (const accepted of [[ResponseType.STREAMED_XOR_CHUNKS], [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES], [7, ResponseType.STREAMED_XOR_CHUNKS]]) {
      const res = await postRemoteRead(url, [all, { ...all, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: 'c' }] }], accepted as ResponseType[], hdr);
      t.equal(res.status, 200);
      t.equal(res.contentType, STREAMED_CONTENT_TYPE);
      const frames = parseChunkedReadBody(res.body); // verifies every CRC32C
      const series = mergeChunkedSeries(frames, 0);
      t.same(series.map((s) => s.labels), [
        [['__name__', 'rr_metric'], ['job', 'a']],
        [['__name__', 'rr_metric'], ['job', 'b']],
      ]);
      t.equal(series[0]!.chunks.length, 3, 'two closed chunks and the open head chunk');
      const want: Array<[number[], bigint[]]> = [
        [aSamples.map(([x]) => x), aSamples.map(([, v]) => bitsOf(v))],
        [[...bTimes], bBits],
      ];
      series.forEach((s, i) => {
        const ts: number[] = [];
        const bits: bigint[] = [];
        for (const c of s.chunks) {
          t.equal(c.type, 1, 'XOR');
          const d = loadNative().decodeXorChunk(c.data);
          t.equal(c.minTimeMs, d.timestamps[0]);
          t.equal(c.maxTimeMs, d.timestamps[d.timestamps.length - 1]);
          ts.push(...d.timestamps);
          bits.push(...bitsOfArray(d.values));
        }
        t.same(ts, want[i]![0]);
        t.same(bits, want[i]![1]);
      });
      const second = mergeChunkedSeries(frames, 1);
      t.same(second.map((s) => s.labels), [[['__name__', 'other_metric'], ['job', 'c']]], 'query_index 1');
    }
  });

  await t.test('remote read selects on the thread pool: the same answer as the synchronous selection', async (t) => {
    const native = loadNative();
    const m = [{ type: 0, name: 'job', value: 'a' }];
    const storage = remoteReadStorage();
    const pending = storage.selectChunks(TENANT, m, base, base + 3_600_000);
    t.ok(pending instanceof Promise, 'a promise, not a selection made on the event loop');
    const chunks = await pending;
    const syncChunks = native.selectChunks(TENANT, m, base, base + 3_600_000);
    t.same([decodeSeriesLabels(chunks.labels), [...chunks.seriesOffsets], [...chunks.dataOffsets], [...chunks.data]], [decodeSeriesLabels(syncChunks.labels), [...syncChunks.seriesOffsets], [...syncChunks.dataOffsets], [...syncChunks.data]]);
    const samples = await storage.selectSamples(TENANT, m, base, base + 3_600_000);
    const syncSamples = native.selectSamples(TENANT, m, base, base + 3_600_000);
    t.ok(samples.timestamps.length > 0);
    t.same([decodeSeriesLabels(samples.labels), [...samples.offsets], [...samples.timestamps], [...samples.values]], [decodeSeriesLabels(syncSamples.labels), [...syncSamples.offsets], [...syncSamples.timestamps], [...syncSamples.values]]);
    await t.rejects(storage.selectSamples(TENANT, [{ type: 2, name: 'job', value: '(' }], base, base + 1), 'a bad regexp rejects');
    await t.rejects(native.selectSamplesAsync(TENANT, m, base, base + 3_600_000, 1), { message: TOO_MANY_SAMPLES_MESSAGE }, 'the sample limit rejects');
  });

  await t.test('frames are bounded: a series with many chunks is split, labels repeated', async (t) => {
    const sel = loadNative().selectChunks(TENANT, [{ type: 0, name: 'job', value: 'a' }], base, base + 3_600_000);
    const frames = [...chunkedFrames(sel, 0, 100)];
    t.equal(frames.length, 3, 'one chunk per frame');
    const body = Buffer.concat(frames);
    const parsed = parseChunkedReadBody(body);
    t.same(parsed.map((f) => f.chunkedSeries.length), [1, 1, 1]);
    t.same(mergeChunkedSeries(parsed)[0]!.chunks.length, 3);
  });

  await t.test('STREAMED_XOR_CHUNKS streams: chunked encoding, a slow reader does not hold up other requests', async (t) => {
    // 3,000 series of 40 samples with long labels: about 3,000 frames, several MiB unread at first.
    const big = `rr-big-${run}`;
    const series = Array.from({ length: 3000 }, (_, i) => ({
      labels: [['__name__', 'rr_big'], ['i', String(i)], ['pad', 'x'.repeat(1000)]] as Array<[string, string]>,
      samples: Array.from({ length: 40 }, (_, k): [number, number] => [base + k * 15_000, Math.sin(i + k) * 1e6]),
    }));
    for (let from = 0; from < series.length; from += 500) {
      const res = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
        method: 'POST',
        headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': big },
        body: new Uint8Array(encodeWriteRequestSnappy(series.slice(from, from + 500))),
      });
      t.equal(res.status, 200);
    }
    const body = snappy.compressSync(encodeReadRequest([{ startMs: base, endMs: base + 3_600_000, matchers: [{ type: ReadMatchType.EQ, name: '__name__', value: 'rr_big' }] }], [ResponseType.STREAMED_XOR_CHUNKS]));
    // A raw socket that reads nothing for a while: the server must keep serving others meanwhile.
    const sock = connect(srv.port, '127.0.0.1');
    await once(sock, 'connect');
    sock.pause();
    sock.write(
      `POST /prometheus/api/v1/read HTTP/1.1\r\nHost: x\r\nX-Scope-OrgID: ${big}\r\nContent-Type: application/x-protobuf\r\n` +
        `Content-Encoding: snappy\r\nX-Prometheus-Remote-Read-Version: 0.1.0\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    sock.write(body);
    await new Promise((r) => setTimeout(r, 300));
    const began = Date.now();
    const ready = await fetch(`http://127.0.0.1:${srv.port}/ready`);
    t.equal(ready.status, 200, 'another request is answered while the reader is paused');
    t.ok(Date.now() - began < 5000, 'promptly');
    // Now read it all: chunked transfer encoding, and frames that decode to every series.
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.resume();
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no end of the chunked body within 30s')), 30_000);
      const check = (): void => {
        const all = Buffer.concat(parts);
        if (all.subarray(-5).toString() === '0\r\n\r\n') {
          clearTimeout(timer);
          resolve(all);
        }
      };
      sock.on('data', check);
    });
    sock.destroy();
    const headEnd = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, headEnd).toString();
    t.match(head, /^HTTP\/1\.1 200 OK/);
    t.match(head, /Transfer-Encoding: chunked/i, 'streamed, not one buffered body');
    // Undo the chunked encoding.
    const pieces: Buffer[] = [];
    for (let at = headEnd + 4; ; ) {
      const eol = raw.indexOf('\r\n', at);
      const size = parseInt(raw.subarray(at, eol).toString(), 16);
      if (size === 0) break;
      pieces.push(raw.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    const merged = mergeChunkedSeries(parseChunkedReadBody(Buffer.concat(pieces)));
    t.equal(merged.length, 3000, 'every series');
    t.equal(
      merged.reduce((n, s) => n + s.chunks.reduce((m, c) => m + loadNative().decodeXorChunk(c.data).timestamps.length, 0), 0),
      3000 * 40,
      'every sample',
    );
  });

  await t.test('errors', async (t) => {
    const post = (body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = hdr): Promise<Response> =>
      fetch(url, { method: 'POST', headers: { ...REMOTE_READ_HEADERS, ...headers }, body });
    let r = await post(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]));
    t.equal(r.status, 400, 'bad snappy');
    await r.text();
    r = await post(new Uint8Array(snappy.compressSync(Buffer.from([0x0a, 0x05, 0x01]))));
    t.equal(r.status, 400, 'bad protobuf');
    await r.text();
    r = await post(new Uint8Array(snappy.compressSync(encodeReadRequest([{ ...all, matchers: [{ type: ReadMatchType.RE, name: 'job', value: '(' }] }]))));
    t.equal(r.status, 400, 'bad regexp');
    t.match(await r.text(), /\(/);
    r = await post(new Uint8Array(snappy.compressSync(encodeReadRequest([all]))), {});
    t.equal(r.status, 401, 'no tenant');
    await r.text();
    r = await post(new Uint8Array(snappy.compressSync(encodeReadRequest([all], [5 as ResponseType]))));
    t.equal(r.status, 400, 'no supported response type');
    await r.text();
    const unprefixed = await postRemoteRead(`http://127.0.0.1:${srv.port}/api/v1/read`, [all], [], hdr);
    t.equal(unprefixed.status, 200, 'unprefixed route');
  });
});
