// read-federation.test.ts: remote read across tenants (X-Scope-OrgID `a|b`).
// The merge is checked on hand-made selections (offsets, chunk bytes and
// NaN bits moved intact, series in label order, `__tenant_id__` matchers
// choosing the tenants), then through the real server for SAMPLES and
// STREAMED_XOR_CHUNKS, and refused with 422 when federation is off.

import { decodeSeriesLabels, encodeSeriesLabels } from '../model/series-labels.js';
import t from 'tap';
import { decodeSamplesBody, mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, STREAMED_CONTENT_TYPE, type ReadQuery } from '../../test/peer/lib/remote-read.js';
import { loadNative, type SelectedChunks, type SelectedSamples } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
import { startTestServer } from '../testing/server.js';
import { federatedReadStorage } from './read-federation.js';
import type { RemoteReadStorage } from './read-handler.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from './write-request.js';
import { encodeHistogramWriteRequestSnappy, type NativeHistogram } from './write-request-histograms.js';
import { nativeSkip } from '../testing/native-skip.js';
import { withinOneChunkRange } from '../testing/chunk-range.js';

const bitsOf = (v: Float64Array): bigint[] => [...new BigUint64Array(v.buffer, v.byteOffset, v.length)];
const STALE = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

/** fakeStorage serves fixed selections per tenant and records the matchers each tenant got. */
function fakeStorage(calls: Array<[string, LabelMatcher[]]>): RemoteReadStorage {
  const samples: Record<string, SelectedSamples> = {
    a: {
      labels: encodeSeriesLabels([{ __name__: 'm', job: 'x' }, { __name__: 'm', job: 'z' }]),
      offsets: new Uint32Array([0, 2, 3]),
      timestamps: new Float64Array([1, 2, 5]),
      values: new Float64Array([10, STALE, 30]),
      // Native histograms (hand-off format, not decoded by the merge): two for job z.
      histograms: { offsets: new Uint32Array([0, 0, 2]), timestamps: new Float64Array([6, 7]), dataOffsets: new Uint32Array([0, 2, 5]), data: new Float64Array([0.5, 1, 2, STALE, 3]) },
    },
    b: { labels: encodeSeriesLabels([{ __name__: 'm', __tenant_id__: 'own', job: 'y' }]), offsets: new Uint32Array([0, 1]), timestamps: new Float64Array([3]), values: new Float64Array([20]) },
  };
  const chunks: Record<string, SelectedChunks> = {
    a: {
      labels: encodeSeriesLabels([{ __name__: 'm', job: 'x' }, { __name__: 'm', job: 'z' }]),
      seriesOffsets: new Uint32Array([0, 2, 3]),
      minTimes: new Float64Array([1, 100, 7]),
      maxTimes: new Float64Array([99, 150, 8]),
      encodings: new Uint8Array([1, 1, 1]),
      dataOffsets: new Uint32Array([0, 3, 5, 9]),
      data: Buffer.from([1, 1, 1, 2, 2, 3, 3, 3, 3]),
    },
    b: {
      labels: encodeSeriesLabels([{ __name__: 'm', __tenant_id__: 'own', job: 'y' }]),
      seriesOffsets: new Uint32Array([0, 1]),
      minTimes: new Float64Array([4]),
      maxTimes: new Float64Array([6]),
      encodings: new Uint8Array([1]),
      dataOffsets: new Uint32Array([0, 2]),
      data: Buffer.from([9, 9]),
    },
  };
  return {
    selectSamples: async (tenant, matchers) => {
      calls.push([tenant, matchers]);
      return samples[tenant]!;
    },
    selectChunks: async (tenant, matchers) => {
      calls.push([tenant, matchers]);
      return chunks[tenant]!;
    },
  };
}

t.test('merging per-tenant selections', async (t) => {
  const calls: Array<[string, LabelMatcher[]]> = [];
  const fed = federatedReadStorage(fakeStorage(calls));
  const name: LabelMatcher = { type: 0, name: '__name__', value: 'm' };

  const s = await fed.selectSamples('a|b', [name], 0, 10);
  t.same(decodeSeriesLabels(s.labels), [
    { __name__: 'm', __tenant_id__: 'a', job: 'x' },
    { __name__: 'm', __tenant_id__: 'a', job: 'z' },
    { __name__: 'm', __tenant_id__: 'b', job: 'y', original___tenant_id__: 'own' },
  ]);
  t.same([...s.offsets], [0, 2, 3, 4]);
  t.same([...s.timestamps], [1, 2, 5, 3]);
  t.same(bitsOf(s.values), bitsOf(new Float64Array([10, STALE, 30, 20])), 'values moved with their bits (staleness marker)');
  t.same(calls, [['a', [name]], ['b', [name]]], 'each tenant selected with the other matchers');
  const h = s.histograms!;
  t.same([...h.offsets], [0, 0, 2, 2], 'histograms follow their series (tenant b has none)');
  t.same([...h.timestamps], [6, 7]);
  t.same([...h.dataOffsets], [0, 2, 5]);
  t.same(bitsOf(h.data), bitsOf(new Float64Array([0.5, 1, 2, STALE, 3])), 'histogram data moved with its bits');

  const c = await fed.selectChunks('a|b', [name], 0, 200);
  t.same(decodeSeriesLabels(c.labels).map((l: Record<string, string>) => l['job']), ['x', 'z', 'y']);
  t.same([...c.seriesOffsets], [0, 2, 3, 4]);
  t.same([...c.minTimes], [1, 100, 7, 4]);
  t.same([...c.maxTimes], [99, 150, 8, 6]);
  t.same([...c.dataOffsets], [0, 3, 5, 9, 11]);
  t.same([...c.data], [1, 1, 1, 2, 2, 3, 3, 3, 3, 9, 9], 'chunk bytes as stored');

  calls.length = 0;
  const only = await fed.selectSamples('a|b', [name, { type: 0, name: '__tenant_id__', value: 'b' }], 0, 10);
  t.same(decodeSeriesLabels(only.labels), [{ __name__: 'm', __tenant_id__: 'b', job: 'y', original___tenant_id__: 'own' }], 'a __tenant_id__ matcher chooses the tenants');
  t.same(calls, [['b', [name]]], 'the matcher does not reach storage');
  t.equal(only.histograms, undefined, 'no histograms in the tenants chosen: none in the merge');
  calls.length = 0;
  const none = await fed.selectChunks('a|b', [{ type: 2, name: '__tenant_id__', value: 'c.*' }], 0, 10);
  t.same([decodeSeriesLabels(none.labels), [...none.seriesOffsets], [...none.dataOffsets], none.data.length], [[], [0], [0], 0], 'no tenant chosen: empty');
  t.same(calls, []);

  calls.length = 0;
  const single = await fed.selectSamples('a', [name], 0, 10);
  t.same(decodeSeriesLabels(single.labels), [{ __name__: 'm', job: 'x' }, { __name__: 'm', job: 'z' }], 'one tenant: no label, as Mimir');
});

const skip = nativeSkip();
const run = Date.now().toString(36);
const A = `rrfed-a-${run}`;
const B = `rrfed-b-${run}`;
// Samples span 400s from base, inside one chunk range whatever the clock says.
const base = withinOneChunkRange(Math.floor(Date.now() / 1000) * 1000 - 600_000, 400_000);

t.test('federated remote read through the server', { skip }, async (t) => {
  const srv = await startTestServer({ 'tenant-federation.enabled': true });
  t.teardown(() => srv.close());
  for (const [tenant, job, v] of [[A, 'api', 1], [B, 'db', 100]] as const) {
    const res = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
      method: 'POST',
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
      body: new Uint8Array(encodeWriteRequestSnappy([{ labels: [['__name__', 'rrfed'], ['job', job]], samples: Array.from({ length: 200 }, (_, i) => [base + i * 1000, v + i] as [number, number]) }])),
    });
    t.equal(res.status, 200, await res.text());
  }
  const url = `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`;
  const hdr = { 'X-Scope-OrgID': `${B}|${A}` };
  const queries: ReadQuery[] = [
    { startMs: base, endMs: base + 199_000, matchers: [{ type: ReadMatchType.EQ, name: '__name__', value: 'rrfed' }] },
    { startMs: base + 10_000, endMs: base + 11_000, matchers: [{ type: ReadMatchType.EQ, name: '__tenant_id__', value: B }] },
  ];

  const samples = await postRemoteRead(url, queries, [ResponseType.SAMPLES], hdr);
  t.equal(samples.status, 200, samples.status === 200 ? 'SAMPLES answered' : Buffer.from(samples.body).toString());
  const [all, onlyB] = decodeSamplesBody(samples.body);
  t.same(all!.map((s) => s.labels), [
    [['__name__', 'rrfed'], ['__tenant_id__', A], ['job', 'api']],
    [['__name__', 'rrfed'], ['__tenant_id__', B], ['job', 'db']],
  ]);
  t.same(all!.map((s) => [s.samples.length, s.samples[0]!.value, s.samples[199]!.value]), [[200, 1, 200], [200, 100, 299]]);
  t.same(onlyB!.map((s) => [s.labels[1], s.samples.map((x) => x.value)]), [[['__tenant_id__', B], [110, 111]]]);

  const streamed = await postRemoteRead(url, queries, [ResponseType.STREAMED_XOR_CHUNKS], hdr);
  t.equal(streamed.status, 200);
  t.equal(streamed.contentType, STREAMED_CONTENT_TYPE);
  const frames = parseChunkedReadBody(streamed.body);
  const series = mergeChunkedSeries(frames, 0);
  t.same(series.map((s) => s.labels[1]), [['__tenant_id__', A], ['__tenant_id__', B]]);
  // The chunk bytes are each tenant's own, as a single-tenant read returns them.
  for (const [i, tenant] of [A, B].entries()) {
    const own = mergeChunkedSeries(parseChunkedReadBody((await postRemoteRead(url, [queries[0]!], [ResponseType.STREAMED_XOR_CHUNKS], { 'X-Scope-OrgID': tenant })).body), 0);
    t.same(series[i]!.chunks, own[0]!.chunks, `${tenant}: the same chunks as its own read`);
    const values = series[i]!.chunks.flatMap((c) => [...loadNative().decodeXorChunk(c.data).values]);
    t.equal(values.length, 200);
  }
  t.same(mergeChunkedSeries(frames, 1).map((s) => s.labels[1]), [['__tenant_id__', B]], 'query 1: only the tenant matched');
});

t.test('federated remote read of native histograms', { skip }, async (t) => {
  const srv = await startTestServer({ 'tenant-federation.enabled': true });
  t.teardown(() => srv.close());
  const hist = (tm: number, k: number, over: Partial<NativeHistogram> = {}): NativeHistogram => ({
    t: tm,
    kind: 'int',
    hint: 0,
    schema: 2,
    zeroThreshold: 0.001,
    zeroCount: k,
    count: 3 * k,
    sum: 1.5 * k,
    positiveSpans: [[0, 2]],
    positiveBuckets: [k, 0],
    negativeSpans: [],
    negativeBuckets: [],
    customValues: [],
    ...over,
  });
  for (const [tenant, job, k] of [[A, 'api', 1], [B, 'db', 4]] as const) {
    const histograms = Array.from({ length: 20 }, (_, i) => hist(base + i * 15_000, k + i));
    // The last one of tenant A is a float histogram with custom buckets; B ends with a staleness marker.
    if (tenant === B) histograms.push(hist(base + 20 * 15_000, 0, { count: 0, zeroCount: 0, sum: 0x7ff0000000000002n, positiveSpans: [], positiveBuckets: [] }));
    const series = [{ labels: [['__name__', 'rrfed_h'], ['job', job]] as Array<[string, string]>, histograms }];
    if (tenant === A) series.push({ labels: [['__name__', 'rrfed_h_nhcb'], ['job', job]], histograms: [hist(base, 0, { kind: 'float', schema: -53, zeroThreshold: 0, count: 3, positiveBuckets: [1, 2], customValues: [0.5, 1] })] });
    const res = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, { method: 'POST', headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant }, body: new Uint8Array(encodeHistogramWriteRequestSnappy(series)) });
    t.equal(res.status, 200, await res.text());
  }
  const url = `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`;
  const query: ReadQuery[] = [{ startMs: base - 1000, endMs: base + 400_000, matchers: [{ type: ReadMatchType.RE, name: '__name__', value: 'rrfed_h.*' }] }];
  const own = async (tenant: string, type: ResponseType) => postRemoteRead(url, query, [type], { 'X-Scope-OrgID': tenant });

  const fed = await postRemoteRead(url, query, [ResponseType.SAMPLES], { 'X-Scope-OrgID': `${A}|${B}` });
  t.equal(fed.status, 200);
  const [all] = decodeSamplesBody(fed.body);
  t.same(all!.map((s) => s.labels), [
    [['__name__', 'rrfed_h'], ['__tenant_id__', A], ['job', 'api']],
    [['__name__', 'rrfed_h'], ['__tenant_id__', B], ['job', 'db']],
    [['__name__', 'rrfed_h_nhcb'], ['__tenant_id__', A], ['job', 'api']],
  ]);
  t.same(all!.map((s) => [s.samples.length, s.histograms.length]), [[0, 20], [0, 21], [0, 1]]);
  const [ownA] = decodeSamplesBody((await own(A, ResponseType.SAMPLES)).body);
  const [ownB] = decodeSamplesBody((await own(B, ResponseType.SAMPLES)).body);
  const bytes = (l: Uint8Array[]) => l.map((m) => Buffer.from(m).toString('hex'));
  t.same(bytes(all![0]!.histograms), bytes(ownA![0]!.histograms), 'tenant A: the histograms of its own read, byte for byte');
  t.same(bytes(all![1]!.histograms), bytes(ownB![0]!.histograms), 'tenant B: the same (staleness marker included)');
  t.same(bytes(all![2]!.histograms), bytes(ownA![1]!.histograms), 'the float NHCB histogram too');

  const streamed = await postRemoteRead(url, query, [ResponseType.STREAMED_XOR_CHUNKS], { 'X-Scope-OrgID': `${A}|${B}` });
  t.equal(streamed.status, 200);
  const series = mergeChunkedSeries(parseChunkedReadBody(streamed.body), 0);
  t.same(series.map((s) => [s.labels[0]![1], s.labels[1], s.chunks.map((c) => Number(c.type))]), [
    ['rrfed_h', ['__tenant_id__', A], [2]],
    ['rrfed_h', ['__tenant_id__', B], [2]],
    ['rrfed_h_nhcb', ['__tenant_id__', A], [3]],
  ]);
  const ownChunks = async (tenant: string) => mergeChunkedSeries(parseChunkedReadBody((await own(tenant, ResponseType.STREAMED_XOR_CHUNKS)).body), 0);
  const [cA, cB] = [await ownChunks(A), await ownChunks(B)];
  t.same(series[0]!.chunks, cA[0]!.chunks, 'tenant A: its own histogram chunks');
  t.same(series[1]!.chunks, cB[0]!.chunks, 'tenant B: its own histogram chunks');
  t.same(series[2]!.chunks, cA[1]!.chunks, 'tenant A: its float-histogram chunk');
});

t.test('federated remote read with federation off', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const res = await postRemoteRead(`http://127.0.0.1:${srv.port}/prometheus/api/v1/read`, [{ startMs: 0, endMs: 1, matchers: [] }], [], { 'X-Scope-OrgID': 'a|b' });
  t.equal(res.status, 422);
});
