// xor-bitexact.test.ts (peer suite) checks that our native XOR chunk encoder
// cuts and encodes chunks exactly as Prometheus 2.42's head does: tricky
// series are remote-written into a real Prometheus, read back as
// STREAMED_XOR_CHUNKS, and each chunk (count, time range, bytes) is compared
// with what encodeXorChunks returns for the same samples. Prometheus's chunks
// are also decoded with our decodeXorChunk and with an independent TypeScript
// reference decoder, and compared with the samples sent, bit for bit.

import t from 'tap';
import { loadNative, type NativeBinding } from '../../src/storage/native.js';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { prometheusSkip, startPrometheus, type PrometheusProcess } from './lib/prometheus.js';
import { encodeRawWriteRequestSnappy, type RawSeries } from './lib/raw-write.js';
import {
  ChunkEncoding,
  mergeChunkedSeries,
  parseChunkedReadBody,
  postRemoteRead,
  ReadMatchType,
  ResponseType,
  STREAMED_CONTENT_TYPE,
  type ChunkedSeries,
} from './lib/remote-read.js';
import { decodeXorChunkReference } from './lib/xor-chunk.js';
import { buildXorCases, CHUNK_RANGE_MS, layoutNow } from './lib/xor-cases.js';

const JOB = 'xor_bitexact';

/** bitsOf returns the raw IEEE-754 bits of every element without reading them as numbers. */
function bitsOf(values: Float64Array): bigint[] {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  const dv = new DataView(bytes.buffer);
  const out: bigint[] = [];
  for (let i = 0; i < values.length; i++) out.push(dv.getBigUint64(i * 8, true));
  return out;
}

function hex(b: Uint8Array, from = 0, len = 24): string {
  return Buffer.from(b.subarray(from, from + len)).toString('hex');
}

/** describeByteDiff says where two byte strings first differ, or returns '' if equal. */
function describeByteDiff(want: Uint8Array, got: Uint8Array): string {
  const n = Math.min(want.length, got.length);
  let i = 0;
  while (i < n && want[i] === got[i]) i++;
  if (i === n && want.length === got.length) return '';
  const from = Math.max(0, i - 4);
  return `first difference at byte ${i} (prometheus ${want.length} bytes, ours ${got.length}): prometheus[${from}..] ${hex(want, from)} ours[${from}..] ${hex(got, from)}`;
}

/** firstSampleDiff compares two sample lists, returning a message for the first mismatch. */
function firstSampleDiff(label: string, wantT: ArrayLike<number>, wantV: bigint[], gotT: ArrayLike<number>, gotV: bigint[]): string {
  if (wantT.length !== gotT.length) return `${label}: ${gotT.length} samples, want ${wantT.length}`;
  for (let i = 0; i < wantT.length; i++) {
    if (wantT[i] !== gotT[i] || wantV[i] !== gotV[i]) {
      return `${label}: sample ${i}: got (${gotT[i]}, 0x${gotV[i]!.toString(16)}) want (${wantT[i]}, 0x${wantV[i]!.toString(16)})`;
    }
  }
  return '';
}

function seriesName(s: ChunkedSeries): string {
  return s.labels.find(([n]) => n === 'series')?.[1] ?? '';
}

t.test('XOR chunks bit-exact against Prometheus', { skip: prometheusSkip }, async (t) => {
  let native: NativeBinding;
  try {
    native = loadNative();
  } catch (e) {
    t.fail(`cannot load native binding (npm run build:native): ${(e as Error).message}`);
    return;
  }
  const haveCodec = typeof native.encodeXorChunks === 'function' && typeof native.decodeXorChunk === 'function';
  // Without the codec the Prometheus side is still checked (reference decoder), and this fails.
  t.ok(haveCodec, 'native binding exports encodeXorChunks and decodeXorChunk (npm run build:native)');

  const layout = layoutNow(Date.now());
  const cases = buildXorCases(layout, JOB);
  t.comment(
    `window ${new Date(layout.startMs).toISOString()} .. ${new Date(layout.endMs).toISOString()}, ` +
      `2h boundary ${new Date(layout.boundaryMs).toISOString()}, ${cases.length} series, ` +
      `${cases.reduce((n, c) => n + c.values.length, 0)} samples`,
  );

  let prom: PrometheusProcess;
  try {
    prom = await startPrometheus();
  } catch (e) {
    t.fail((e as Error).message);
    return;
  }
  t.teardown(() => prom.stop());

  // One request, so the head's out-of-bounds floor is derived from the earliest sample.
  const write = await fetch(prom.writeUrl, {
    method: 'POST',
    headers: REMOTE_WRITE_HEADERS,
    body: new Uint8Array(encodeRawWriteRequestSnappy(cases)),
  });
  const writeBody = await write.text();
  t.equal(write.status, 204, `remote write accepted ${writeBody}`);

  const read = await postRemoteRead(
    prom.readUrl,
    [{ startMs: 0, endMs: layout.nowMs + CHUNK_RANGE_MS, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: JOB }] }],
    [ResponseType.STREAMED_XOR_CHUNKS],
  );
  t.equal(read.status, 200, 'remote read status');
  t.equal(read.contentType, STREAMED_CONTENT_TYPE, 'streamed content type');
  // splitChunkedFrames verifies each frame's CRC32C and throws on mismatch.
  const frames = parseChunkedReadBody(read.body);
  t.ok(frames.length > 0, `got ${frames.length} frames`);
  const got = new Map(mergeChunkedSeries(frames).map((s) => [seriesName(s), s]));
  t.equal(got.size, cases.length, 'every series came back');

  for (const sent of cases) {
    const name = sent.labels.find(([n]) => n === 'series')![1];
    await t.test(name, async (t) => {
      const s = got.get(name);
      if (!s) {
        t.fail('series missing from the remote-read response');
        return;
      }
      t.same(s.labels, sent.labels, 'labels');
      const sentT = Array.from(sent.timestampsMs);
      const sentV = bitsOf(sent.values);

      // Prometheus's chunks, decoded by the reference decoder, give back what was sent.
      const refT: number[] = [];
      const refV: bigint[] = [];
      const promDecodedByUs: { t: number[]; v: bigint[] } = { t: [], v: [] };
      let chunkProblems = 0;
      for (const [i, c] of s.chunks.entries()) {
        if (c.type !== ChunkEncoding.XOR) {
          t.fail(`chunk ${i}: encoding ${c.type}, want XOR`);
          chunkProblems++;
          continue;
        }
        const ref = decodeXorChunkReference(c.data);
        if (ref.timestamps[0] !== c.minTimeMs || ref.timestamps[ref.timestamps.length - 1] !== c.maxTimeMs) {
          t.fail(`chunk ${i}: header range [${c.minTimeMs}, ${c.maxTimeMs}] but samples span [${ref.timestamps[0]}, ${ref.timestamps.at(-1)}]`);
          chunkProblems++;
        }
        if (Math.floor(c.minTimeMs / CHUNK_RANGE_MS) !== Math.floor(c.maxTimeMs / CHUNK_RANGE_MS)) {
          t.fail(`chunk ${i}: crosses a 2h boundary`);
          chunkProblems++;
        }
        refT.push(...ref.timestamps);
        refV.push(...ref.valueBits);
        if (haveCodec) {
          const ours = native.decodeXorChunk(c.data);
          promDecodedByUs.t.push(...ours.timestamps);
          promDecodedByUs.v.push(...bitsOf(ours.values));
        }
      }
      t.equal(chunkProblems, 0, `${s.chunks.length} well-formed XOR chunks`);
      const refDiff = firstSampleDiff('reference decode of prometheus chunks', sentT, sentV, refT, refV);
      t.equal(refDiff, '', 'prometheus stored exactly what was sent (reference decoder)');
      if (!haveCodec) return;
      const ourDecodeDiff = firstSampleDiff('our decodeXorChunk of prometheus chunks', sentT, sentV, promDecodedByUs.t, promDecodedByUs.v);
      t.equal(ourDecodeDiff, '', 'decodeXorChunk reads prometheus chunks bit-exact');

      // Our encoder cuts the same chunks with the same bytes.
      const ours = native.encodeXorChunks(sent.timestampsMs, sent.values);
      t.equal(ours.length, s.chunks.length, `chunk count (prometheus ${s.chunks.map((c) => decodeXorChunkReference(c.data).timestamps.length).join('+')} samples)`);
      const n = Math.min(ours.length, s.chunks.length);
      let byteProblems = 0;
      for (let i = 0; i < n; i++) {
        const diff = describeByteDiff(s.chunks[i]!.data, ours[i]!);
        if (diff !== '') {
          byteProblems++;
          if (byteProblems <= 3) t.fail(`chunk ${i} [${s.chunks[i]!.minTimeMs}, ${s.chunks[i]!.maxTimeMs}]: ${diff}`);
          continue;
        }
        const ourRange = decodeXorChunkReference(ours[i]!);
        if (ourRange.timestamps[0] !== s.chunks[i]!.minTimeMs || ourRange.timestamps.at(-1) !== s.chunks[i]!.maxTimeMs) {
          byteProblems++;
          t.fail(`chunk ${i}: our time range differs`);
        }
      }
      t.equal(byteProblems, 0, `all ${n} chunks byte-identical`);
    });
  }

  // Coverage notes: make sure the interesting cuts really happened in this run.
  const spansBoundary = [...got.values()].some((s) => s.chunks.some((c) => c.minTimeMs >= layout.boundaryMs) && s.chunks.some((c) => c.maxTimeMs < layout.boundaryMs));
  t.ok(spansBoundary, 'at least one series has chunks on both sides of the 2h boundary');
  const rateChange = got.get('rate_change');
  const counts = rateChange?.chunks.map((c) => decodeXorChunkReference(c.data).timestamps.length) ?? [];
  t.ok(counts.includes(240), `rate_change was cut by the 2x120 sample rule (chunk sizes ${counts.join(',')})`);
});
