// read-handler-histograms.test.ts reads native histograms back over remote
// read through the real server: a SAMPLES answer carries them as
// prompb.Histogram (its QueryResult, which has the layout of a WriteRequest,
// ingested into a second tenant gives back the same histograms bit for bit,
// staleness marker included), and a STREAMED_XOR_CHUNKS answer carries
// histogram and float-histogram chunks beside the XOR ones.

import { decodeSeriesLabels } from '../model/series-labels.js';
import snappy from '@napi-rs/snappy';
import t from 'tap';
import { mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType } from '../../test/peer/lib/remote-read.js';
import { loadNative } from '../storage/native.js';
import { MatchType } from '../model/matchers.js';
import type { IngestLimits } from '../model/limits.js';
import { defaultConfig, ingestLimits } from '../config/config.js';
import { startTestServer } from '../testing/server.js';
import { encodeHistogramWriteRequestSnappy, type NativeHistogram } from './write-request-histograms.js';
import { REMOTE_WRITE_HEADERS } from './write-request.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();
const run = Date.now().toString(36);
const A = `rrh-a-${run}`;
const B = `rrh-b-${run}`;
const base = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;

function hist(t: number, over: Partial<NativeHistogram>): NativeHistogram {
  return { t, kind: 'int', hint: 0, schema: 1, zeroThreshold: 0.001, zeroCount: 1, count: 5, sum: 2.5, positiveSpans: [[0, 2]], positiveBuckets: [1, 1], negativeSpans: [[1, 1]], negativeBuckets: [1], customValues: [], ...over };
}

t.test('native histograms over remote read', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const series = [
    {
      labels: [['__name__', 'rrh_int'], ['job', 'x']] as Array<[string, string]>,
      histograms: [hist(base, {}), hist(base + 15_000, { count: 9, zeroCount: 2, positiveBuckets: [2, 1], negativeBuckets: [2] }), hist(base + 30_000, { count: 0, zeroCount: 0, sum: 0x7ff0000000000002n, positiveSpans: [], positiveBuckets: [], negativeSpans: [], negativeBuckets: [] })],
    },
    {
      labels: [['__name__', 'rrh_float'], ['job', 'x']] as Array<[string, string]>,
      histograms: [hist(base, { kind: 'float', hint: 3, count: 3.5, zeroCount: 0.5, positiveBuckets: [1.25, 1.75], negativeSpans: [], negativeBuckets: [] })],
    },
    {
      labels: [['__name__', 'rrh_nhcb'], ['job', 'x']] as Array<[string, string]>,
      histograms: [hist(base, { schema: -53, zeroThreshold: 0, zeroCount: 0, count: 3, positiveBuckets: [2, -1], negativeSpans: [], negativeBuckets: [], customValues: [0.5, 1] })],
    },
  ];
  const push = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': A },
    body: new Uint8Array(encodeHistogramWriteRequestSnappy(series, [{ labels: [['__name__', 'rrh_float_plain'], ['job', 'x']], samples: [[base, 1.5]] }])),
  });
  t.equal(push.status, 200, await push.text());
  const query = [{ startMs: base - 60_000, endMs: base + 60_000, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: 'x' }] }];
  const url = `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`;

  const samples = await postRemoteRead(url, query, [ResponseType.SAMPLES], { 'X-Scope-OrgID': A });
  t.equal(samples.status, 200);
  const raw = snappy.uncompressSync(Buffer.from(samples.body)) as Buffer;
  // ReadResponse.results[0] (field 1, length-delimited): a QueryResult, laid out as a WriteRequest.
  t.equal(raw[0], 0x0a);
  let len = 0;
  let shift = 0;
  let p = 1;
  for (;;) {
    const b = raw[p++]!;
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) break;
  }
  const queryResult = raw.subarray(p, p + len);
  const native = loadNative();
  t.teardown(() => {
    native.resetTenant(A);
    native.resetTenant(B);
  });
  const limits: IngestLimits = ingestLimits(defaultConfig().limits, Date.now());
  const r = native.ingestWriteRequest(B, queryResult, limits);
  t.equal(r.errorMessage, undefined);
  t.same([r.histograms, r.acceptedHistograms, r.acceptedSamples], [5, 5, 1], 'every histogram and the float came back');
  const sel = (tenant: string) => native.selectSamples(tenant, [{ name: 'job', type: MatchType.Equal, value: 'x' }], base - 60_000, base + 60_000);
  const a = sel(A);
  const b = sel(B);
  t.same(decodeSeriesLabels(b.labels), decodeSeriesLabels(a.labels));
  t.same(Array.from(b.values), Array.from(a.values));
  const ha = a.histograms!;
  const hb = b.histograms!;
  t.same(Array.from(hb.offsets), Array.from(ha.offsets));
  t.same(Array.from(hb.timestamps), Array.from(ha.timestamps));
  t.same(Array.from(hb.dataOffsets), Array.from(ha.dataOffsets));
  const bits = (d: Float64Array) => [...new BigUint64Array(d.buffer, d.byteOffset, d.length)];
  t.same(bits(hb.data), bits(ha.data), 'the same histograms, bit for bit (the staleness marker too)');
  t.ok(bits(ha.data).includes(0x7ff0000000000002n), 'the staleness marker was read');

  const streamed = await postRemoteRead(url, query, [ResponseType.STREAMED_XOR_CHUNKS], { 'X-Scope-OrgID': A });
  t.equal(streamed.status, 200);
  const got = mergeChunkedSeries(parseChunkedReadBody(streamed.body));
  const types = Object.fromEntries(got.map((s) => [s.labels.find(([n]) => n === '__name__')![1], s.chunks.map((c) => Number(c.type))]));
  t.same(types, { rrh_float: [3], rrh_float_plain: [1], rrh_int: [2], rrh_nhcb: [2] }, 'chunk encodings: XOR 1, histogram 2, float histogram 3');
});
