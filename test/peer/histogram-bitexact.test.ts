// histogram-bitexact.test.ts (peer suite) checks that our native histogram
// chunk encoders (EncHistogram, EncFloatHistogram) cut and encode chunks
// exactly as Prometheus 3.x's head does: integer and float, counter and
// gauge, exponential and custom-bucket (NHCB) histogram series, with layout
// growth, counter resets and staleness markers, are remote-written into a
// real Prometheus 3.x, read back as STREAMED_XOR_CHUNKS, and each chunk
// (encoding, time range, bytes) is compared with what encodeHistogramChunks
// returns for the same request. Prometheus's chunks are also decoded by our
// decoder and compared with the histograms sent.

import t from 'tap';
import { loadNative, type NativeBinding } from '../../src/storage/native.js';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { startPrometheus, type PrometheusProcess } from './lib/prometheus.js';
import { buildHistogramCases, encodeHistogramWriteRequest, type NativeHistogram } from './lib/histogram-write.js';
import { mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, STREAMED_CONTENT_TYPE } from './lib/remote-read.js';
import { CHUNK_RANGE_MS, STALE_NAN_BITS, layoutNow } from './lib/xor-cases.js';
import { compressSync } from '@napi-rs/snappy';

const JOB = 'histogram_bitexact';

interface DecodedSample {
  t: number;
  count: string;
  sum: string;
  positiveBuckets: string[];
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

function bitsOf(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.readBigUInt64LE().toString();
}

/** absolute turns what was sent into absolute bucket counts. */
function absolute(h: NativeHistogram): number[] {
  if (h.kind === 'float') return h.positiveBuckets;
  let cur = 0;
  return h.positiveBuckets.map((d) => (cur += d));
}

t.test('native histogram chunks bit-exact against Prometheus 3', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  let native: NativeBinding;
  try {
    native = loadNative();
  } catch (e) {
    t.fail(`cannot load native binding (npm run build:native): ${(e as Error).message}`);
    return;
  }
  if (typeof native.encodeHistogramChunks !== 'function' || typeof native.decodeHistogramChunkJson !== 'function') {
    t.fail('native binding exports encodeHistogramChunks and decodeHistogramChunkJson (npm run build:native)');
    return;
  }
  const layout = layoutNow(Date.now());
  const cases = buildHistogramCases(layout, JOB);
  const body = encodeHistogramWriteRequest(cases);
  t.comment(`${cases.length} series, ${cases.reduce((n, c) => n + c.histograms.length, 0)} histograms, 2h boundary ${new Date(layout.boundaryMs).toISOString()}`);

  let prom: PrometheusProcess;
  try {
    prom = await startPrometheus([], PROMETHEUS3.path);
  } catch (e) {
    t.fail((e as Error).message);
    return;
  }
  t.teardown(() => prom.stop());

  const write = await fetch(prom.writeUrl, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body: new Uint8Array(compressSync(body)) });
  t.equal(write.status, 204, `remote write accepted ${await write.text()}`);

  const read = await postRemoteRead(
    prom.readUrl,
    [{ startMs: 0, endMs: layout.nowMs + CHUNK_RANGE_MS, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: JOB }] }],
    [ResponseType.STREAMED_XOR_CHUNKS],
  );
  t.equal(read.status, 200, 'remote read status');
  t.equal(read.contentType, STREAMED_CONTENT_TYPE, 'streamed content type');
  const got = new Map(mergeChunkedSeries(parseChunkedReadBody(read.body)).map((s) => [s.labels.find(([n]) => n === 'series')?.[1] ?? '', s]));
  t.equal(got.size, cases.length, 'every series came back');

  const ours = native.encodeHistogramChunks(body);
  t.equal(ours.length, cases.length, 'one encoded entry per series');
  let recodedOrReset = 0;
  for (const [i, sent] of cases.entries()) {
    const name = sent.labels.find(([n]) => n === 'series')![1];
    await t.test(name, async (t) => {
      const s = got.get(name);
      if (!s) {
        t.fail('series missing from the remote-read response');
        return;
      }
      // Prometheus's chunks, decoded by us, give back what was sent.
      const decoded: DecodedSample[] = [];
      for (const c of s.chunks) decoded.push(...(JSON.parse(native.decodeHistogramChunkJson!(c.type, c.data)) as DecodedSample[]));
      t.equal(decoded.length, sent.histograms.length, 'sample count');
      let mismatches = 0;
      for (const [j, h] of sent.histograms.entries()) {
        const d = decoded[j];
        if (!d) break;
        const stale = h.sum === STALE_NAN_BITS;
        const sentBuckets = absolute(h).map(bitsOf);
        const wantCount = stale ? bitsOf(0) : bitsOf(h.count);
        // Decoded layouts may hold extra empty buckets (recoding): compare the non-empty ones.
        const nonEmpty = (l: string[]) => l.filter((b) => b !== bitsOf(0));
        if (d.t !== h.t || d.sum !== bitsOf(h.sum) || d.count !== wantCount || (!stale && nonEmpty(d.positiveBuckets).join() !== nonEmpty(sentBuckets).join())) {
          if (++mismatches <= 3) t.fail(`sample ${j} at ${h.t}: decoded ${JSON.stringify(d)} sent count ${h.count} sum ${h.sum}`);
        }
      }
      t.equal(mismatches, 0, 'our decoder reads Prometheus chunks back to what was sent');

      const mine = ours[i]!;
      t.equal(mine.chunks.length, s.chunks.length, `chunk count (prometheus ${s.chunks.length})`);
      if (s.chunks.length > 1) recodedOrReset++;
      let problems = 0;
      for (let k = 0; k < Math.min(mine.chunks.length, s.chunks.length); k++) {
        const p = s.chunks[k]!;
        const o = mine.chunks[k]!;
        const diff = describeByteDiff(p.data, o.data);
        if (p.type !== o.encoding || p.minTimeMs !== o.minTimeMs || p.maxTimeMs !== o.maxTimeMs || diff !== '') {
          if (++problems <= 3) t.fail(`chunk ${k}: prometheus enc ${p.type} [${p.minTimeMs}, ${p.maxTimeMs}], ours enc ${o.encoding} [${o.minTimeMs}, ${o.maxTimeMs}] ${diff}`);
        }
      }
      t.equal(problems, 0, `all ${s.chunks.length} chunks byte-identical`);
    });
  }
  t.ok(recodedOrReset >= 3, `several series span more than one chunk (${recodedOrReset})`);
});
