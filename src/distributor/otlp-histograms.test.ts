// otlp-histograms.test.ts drives OTLP exponential and explicit-bucket
// histograms through POST /otlp/v1/metrics (protobuf, gzip, JSON, an
// otelcol-shaped request) and reads them back over remote read: the chunks
// as stored (STREAMED_XOR_CHUNKS, decoded by the native chunk decoder) and
// the head's samples (SAMPLES, prompb.Histogram decoded here), with the exact
// bucket layouts Mimir's translator gives: scales 0, 3 and 8 as sent, scale
// 10 merged down to schema 8, negative buckets and a zero bucket, no
// _count/_sum series; NHCB under -distributor.otel-convert-histograms-to-nhcb;
// delta temporality refused unless -distributor.otel-native-delta-ingestion.

import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, type ChunkedSeries } from '../../test/peer/lib/remote-read.js';
import snappy from '@napi-rs/snappy';
import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { loadNative } from '../storage/native.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { nativeSkip } from '../testing/native-skip.js';
import { startTestServer } from '../testing/server.js';
import { withinOneChunkRange } from '../testing/chunk-range.js';
import { encodeOtlpMetrics, encodeOtlpMetricsJson, OTLP_JSON, OTLP_PROTOBUF, type ExponentialHistogramPoint, type ResourceInput } from './otlp-request.js';

const skip = nativeSkip();

type Span = [offset: number, length: number];

/** Layout is what a histogram sample holds, buckets as absolute counts. */
interface Layout {
  t: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  positiveSpans: Span[];
  negativeSpans: Span[];
  positiveBuckets: number[];
  negativeBuckets: number[];
  customValues: number[];
}

const fromBits = (s: string): number => new Float64Array(new BigUint64Array([BigInt(s)]).buffer)[0]!;

/** chunkLayouts decodes a series' histogram chunks with the native chunk decoder. */
function chunkLayouts(s: ChunkedSeries): Layout[] {
  const native = loadNative();
  const out: Layout[] = [];
  for (const c of s.chunks) {
    const raw = JSON.parse(native.decodeHistogramChunkJson!(Number(c.type), c.data)) as Array<Record<string, unknown>>;
    for (const d of raw) {
      out.push({
        t: d['t'] as number,
        schema: d['schema'] as number,
        zeroThreshold: fromBits(d['zeroThreshold'] as string),
        zeroCount: fromBits(d['zeroCount'] as string),
        count: fromBits(d['count'] as string),
        sum: fromBits(d['sum'] as string),
        positiveSpans: d['positiveSpans'] as Span[],
        negativeSpans: d['negativeSpans'] as Span[],
        positiveBuckets: (d['positiveBuckets'] as string[]).map(fromBits),
        negativeBuckets: (d['negativeBuckets'] as string[]).map(fromBits),
        customValues: (d['customValues'] as string[]).map(fromBits),
      });
    }
  }
  return out;
}

/** ProtoHistogram is a decoded prompb.Histogram (integer histograms only here). */
interface ProtoHistogram extends Layout {
  hint: number;
  isInt: boolean;
}

function zigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

function decodeProtoHistogram(buf: Uint8Array): ProtoHistogram {
  const r = new ProtoReader(buf);
  const h: ProtoHistogram = { t: 0, schema: 0, zeroThreshold: 0, zeroCount: 0, count: 0, sum: 0, positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [], customValues: [], hint: 0, isInt: true };
  const f64 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  const span = (b: Uint8Array): Span => {
    const s = new ProtoReader(b);
    const out: Span = [0, 0];
    while (!s.done()) {
      const { field, wireType } = s.tag();
      if (field === 1) out[0] = zigzag(s.varint());
      else if (field === 2) out[1] = s.varint();
      else s.skip(wireType);
    }
    return out;
  };
  const absolute = (b: Uint8Array): number[] => {
    const p = new ProtoReader(b);
    const out: number[] = [];
    let cur = 0;
    while (!p.done()) out.push((cur += zigzag(p.varint())));
    return out;
  };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1) h.count = r.varint();
    else if (field === 2) {
      h.isInt = false;
      h.count = f64(r.fixed64Bytes());
    } else if (field === 3) h.sum = f64(r.fixed64Bytes());
    else if (field === 4) h.schema = zigzag(r.varint());
    else if (field === 5) h.zeroThreshold = f64(r.fixed64Bytes());
    else if (field === 6) h.zeroCount = r.varint();
    else if (field === 8) h.negativeSpans.push(span(r.bytes()));
    else if (field === 9) h.negativeBuckets = absolute(r.bytes());
    else if (field === 11) h.positiveSpans.push(span(r.bytes()));
    else if (field === 12) h.positiveBuckets = absolute(r.bytes());
    else if (field === 14) h.hint = r.varint();
    else if (field === 15) h.t = r.int64();
    else if (field === 16 && wireType === WireType.Bytes) {
      const b = r.bytes();
      for (let i = 0; i + 8 <= b.length; i += 8) h.customValues.push(f64(b.subarray(i, i + 8)));
    } else r.skip(wireType);
  }
  return h;
}

/** samplesHistograms decodes a SAMPLES answer's first query result: series name -> histograms. */
function samplesHistograms(body: Uint8Array): Map<string, ProtoHistogram[]> {
  const out = new Map<string, ProtoHistogram[]>();
  const r = new ProtoReader(snappy.uncompressSync(Buffer.from(body)) as Buffer);
  const { field } = r.tag();
  if (field !== 1) throw new Error('expected ReadResponse.results');
  const qr = new ProtoReader(r.bytes());
  while (!qr.done()) {
    const ts = qr.tag();
    if (ts.field !== 1) {
      qr.skip(ts.wireType);
      continue;
    }
    const sr = new ProtoReader(qr.bytes());
    let name = '';
    const hists: ProtoHistogram[] = [];
    while (!sr.done()) {
      const st = sr.tag();
      if (st.field === 1) {
        const lr = new ProtoReader(sr.bytes());
        let n = '';
        let v = '';
        while (!lr.done()) {
          const lt = lr.tag();
          if (lt.field === 1) n = lr.string();
          else if (lt.field === 2) v = lr.string();
          else lr.skip(lt.wireType);
        }
        if (n === '__name__') name = v;
      } else if (st.field === 4) hists.push(decodeProtoHistogram(sr.bytes()));
      else sr.skip(st.wireType);
    }
    out.set(name, hists);
  }
  return out;
}

interface Case {
  name: string;
  point: Omit<ExponentialHistogramPoint, 'timeMs'>;
  want: Omit<Layout, 't' | 'sum' | 'zeroThreshold' | 'customValues'>;
}

const CASES: Case[] = [
  {
    name: 'scale0',
    point: { count: 10, sum: 4.5, scale: 0, positive: { offset: 0, bucketCounts: [4, 3, 2, 1] } },
    want: { schema: 0, zeroCount: 0, count: 10, positiveSpans: [[1, 4]], positiveBuckets: [4, 3, 2, 1], negativeSpans: [], negativeBuckets: [] },
  },
  {
    // A gap of three empty buckets starts a new span; negative buckets; a zero bucket.
    name: 'scale3',
    point: { count: 12, sum: -1.25, scale: 3, zeroCount: 4, positive: { offset: -2, bucketCounts: [3, 1, 0, 0, 0, 1] }, negative: { offset: 1, bucketCounts: [2, 1] } },
    want: { schema: 3, zeroCount: 4, count: 12, positiveSpans: [[-1, 2], [3, 1]], positiveBuckets: [3, 1, 1], negativeSpans: [[2, 2]], negativeBuckets: [2, 1] },
  },
  {
    name: 'scale8',
    point: { count: 7, sum: 2, scale: 8, zeroCount: 1, positive: { offset: 1, bucketCounts: [1, 1, 1] }, negative: { offset: 2, bucketCounts: [1, 1, 1] } },
    want: { schema: 8, zeroCount: 1, count: 7, positiveSpans: [[2, 3]], positiveBuckets: [1, 1, 1], negativeSpans: [[3, 3]], negativeBuckets: [1, 1, 1] },
  },
  {
    // Scale 10: four neighbouring buckets merge into one of schema 8.
    name: 'scale10',
    point: { count: 9, sum: 7.5, scale: 10, positive: { offset: 4, bucketCounts: [4, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1] } },
    want: { schema: 8, zeroCount: 0, count: 9, positiveSpans: [[2, 4]], positiveBuckets: [8, 0, 0, 1], negativeSpans: [], negativeBuckets: [] },
  },
];

t.test('OTLP histograms become native histograms', { skip }, async (t) => {
  const id = Date.now().toString(36);
  const tenant = `otlp-nh-${id}`;
  const nhcbTenant = `otlp-nhcb-${id}`;
  const deltaTenant = `otlp-delta-${id}`;
  const runtimeFile = join(process.env['TMPDIR'] ?? '/tmp', `otlp-nh-runtime-${id}.yaml`);
  writeFileSync(runtimeFile, `overrides:\n  ${nhcbTenant}:\n    otel_convert_histograms_to_nhcb: true\n  ${deltaTenant}:\n    otel_native_delta_ingestion: true\n`);
  const srv = await startTestServer({ 'runtime-config.file': runtimeFile });
  t.teardown(async () => {
    await srv.close();
    rmSync(runtimeFile, { force: true });
  });
  // The three points 15s apart stay in one chunk range (see withinOneChunkRange).
  const t0 = withinOneChunkRange(Math.floor(Date.now() / 1000) * 1000 - 120_000, 30_000);
  const post = (who: string, body: Buffer | string, headers: Record<string, string>): Promise<ClientResponse> =>
    httpRequest(srv.port, '/otlp/v1/metrics', { body, headers: { ...headers, 'X-Scope-OrgID': who } });
  const resources = (tm: number): ResourceInput[] => [
    { resource: { 'service.name': 'api' }, metrics: CASES.map((c) => ({ name: `latency.${c.name}`, exponentialHistogram: { points: [{ ...c.point, attributes: { route: '/x' }, timeMs: tm }] } })) },
  ];
  const read = async (who: string, type: ResponseType, name: string) => {
    const res = await postRemoteRead(
      `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`,
      [{ startMs: t0 - 60_000, endMs: t0 + 120_000, matchers: [{ type: ReadMatchType.RE, name: '__name__', value: name }] }],
      [type],
      { 'X-Scope-OrgID': who },
    );
    t.equal(res.status, 200, `remote read ${name}`);
    return res;
  };
  const chunks = async (who: string, name: string): Promise<Map<string, ChunkedSeries>> =>
    new Map(mergeChunkedSeries(parseChunkedReadBody((await read(who, ResponseType.STREAMED_XOR_CHUNKS, name)).body)).map((s) => [s.labels.find(([n]) => n === '__name__')![1], s]));

  await t.test('protobuf, gzip and JSON pushes: exact layouts in chunks and in the head', async (t) => {
    let res = await post(tenant, encodeOtlpMetrics(resources(t0)), { 'Content-Type': OTLP_PROTOBUF });
    t.equal(res.status, 200, res.body);
    res = await post(tenant, gzipSync(encodeOtlpMetrics(resources(t0 + 15_000))), { 'Content-Type': OTLP_PROTOBUF, 'Content-Encoding': 'gzip' });
    t.equal(res.status, 200, res.body);
    res = await post(tenant, encodeOtlpMetricsJson(resources(t0 + 30_000)), { 'Content-Type': OTLP_JSON });
    t.equal(res.status, 200, res.body);
    t.equal(res.body, '{}');

    const series = await httpRequest(srv.port, `/prometheus/api/v1/series?match[]=${encodeURIComponent('{__name__=~"latency.*"}')}&start=0`, { headers: { 'X-Scope-OrgID': tenant } });
    t.same(
      (jsonOf<{ data: Array<Record<string, string>> }>(series).data).map((s) => s['__name__']),
      CASES.map((c) => `latency_${c.name}`).sort(),
      'one series per metric: no _count, _sum or _bucket series',
    );

    const stored = await chunks(tenant, 'latency_.*');
    const heads = samplesHistograms((await read(tenant, ResponseType.SAMPLES, 'latency_.*')).body);
    for (const c of CASES) {
      const s = stored.get(`latency_${c.name}`);
      t.ok(s, `${c.name} stored`);
      if (s === undefined) continue;
      t.same(s.labels, [['__name__', `latency_${c.name}`], ['job', 'api'], ['route', '/x']], `${c.name} labels`);
      t.same(s.chunks.map((ch) => Number(ch.type)), [2], `${c.name}: one integer histogram chunk`);
      const want = [0, 15_000, 30_000].map((dt) => ({ ...c.want, t: t0 + dt, sum: c.point.sum!, zeroThreshold: 1e-128, customValues: [] }));
      t.same(chunkLayouts(s), want, `${c.name}: the chunk holds the translated histograms`);
      const fromHead = heads.get(`latency_${c.name}`) ?? [];
      t.same(
        fromHead.map(({ hint: _h, isInt: _i, ...l }) => l),
        want,
        `${c.name}: the head's samples (SAMPLES) are the same`,
      );
      t.same(
        fromHead.map((h) => [h.isInt, h.hint]),
        [
          [true, 0],
          [true, 2],
          [true, 2],
        ],
        `${c.name}: integer histograms; read back as Prometheus reads chunks (unknown reset hint, then not a reset)`,
      );
    }
  });

  await t.test('an otelcol-shaped request (gzip protobuf, resource and scope, staleness flag)', async (t) => {
    const otelcol = (tm: number, noRecordedValue: boolean): ResourceInput[] => [
      {
        resource: { 'service.name': 'otelcol-contrib', 'service.instance.id': '6f1d3f6e-2b1c-4a57-9a1c-2f0f1a2b3c4d', 'service.version': '0.115.0', 'host.name': 'node-3' },
        scope: { name: 'go.opentelemetry.io/collector/receiver/otlpreceiver', version: '0.115.0' },
        metrics: [
          {
            name: 'http.server.request.duration',
            unit: 's',
            description: 'Duration of HTTP server requests.',
            exponentialHistogram: {
              points: [
                {
                  attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
                  timeMs: tm,
                  count: 6,
                  sum: 0.42,
                  scale: 20,
                  zeroCount: 1,
                  // 2^12 neighbouring buckets of scale 20 make one of scale 8.
                  positive: { offset: -4096 * 7, bucketCounts: [2, ...new Array<number>(4095).fill(0), 3] },
                  noRecordedValue,
                },
              ],
            },
          },
        ],
      },
    ];
    let res = await post(tenant, gzipSync(encodeOtlpMetrics(otelcol(t0, false))), { 'Content-Type': OTLP_PROTOBUF, 'Content-Encoding': 'gzip', 'User-Agent': 'OpenTelemetry Collector Contrib/0.115.0 (linux/amd64)' });
    t.equal(res.status, 200, res.body);
    res = await post(tenant, gzipSync(encodeOtlpMetrics(otelcol(t0 + 15_000, true))), { 'Content-Type': OTLP_PROTOBUF, 'Content-Encoding': 'gzip' });
    t.equal(res.status, 200, res.body);
    const s = (await chunks(tenant, 'http_server_request_duration'))?.get('http_server_request_duration');
    t.ok(s, 'stored');
    if (s === undefined) return;
    t.same(s.labels, [
      ['__name__', 'http_server_request_duration'],
      ['http_request_method', 'GET'],
      ['http_response_status_code', '200'],
      ['instance', '6f1d3f6e-2b1c-4a57-9a1c-2f0f1a2b3c4d'],
      ['job', 'otelcol-contrib'],
    ]);
    const got = chunkLayouts(s);
    t.same(got[0], { t: t0, schema: 8, zeroThreshold: 1e-128, zeroCount: 1, count: 6, sum: 0.42, positiveSpans: [[-6, 2]], negativeSpans: [], positiveBuckets: [2, 3], negativeBuckets: [], customValues: [] });
    t.equal(got.length, 2);
    t.ok(Number.isNaN(got[1]!.sum), 'the no-recorded-value point is a staleness marker');
    const q = await httpRequest(srv.port, `/prometheus/api/v1/series?match[]=target_info&start=0`, { headers: { 'X-Scope-OrgID': tenant } });
    t.match(q.body, /"host_name":"node-3"/, 'target_info carries the other resource attributes');
  });

  await t.test('explicit-bucket histograms as NHCB when the tenant asks for it', async (t) => {
    const explicit = (tm: number): ResourceInput[] => [
      {
        resource: { 'service.name': 'api' },
        metrics: [{ name: 'queue.wait', unit: 's', histogram: { points: [{ timeMs: tm, count: 10, sum: 12.5, explicitBounds: [0.1, 1, 5], bucketCounts: [0, 5, 0, 5] }] } }],
      },
    ];
    t.equal((await post(nhcbTenant, encodeOtlpMetrics(explicit(t0)), { 'Content-Type': OTLP_PROTOBUF })).status, 200);
    t.equal((await post(tenant, encodeOtlpMetrics(explicit(t0)), { 'Content-Type': OTLP_PROTOBUF })).status, 200);
    const nhcb = await chunks(nhcbTenant, 'queue_wait.*');
    t.same([...nhcb.keys()], ['queue_wait'], 'one native histogram series');
    t.same(chunkLayouts(nhcb.get('queue_wait')!), [
      { t: t0, schema: -53, zeroThreshold: 0, zeroCount: 0, count: 10, sum: 12.5, positiveSpans: [[1, 3]], negativeSpans: [], positiveBuckets: [5, 0, 5], negativeBuckets: [], customValues: [0.1, 1, 5] },
    ]);
    const classic = await chunks(tenant, 'queue_wait.*');
    t.same([...classic.keys()].sort(), ['queue_wait_bucket', 'queue_wait_count', 'queue_wait_sum'], 'classic series without the flag');
  });

  await t.test('delta temporality: refused, or stored as gauge histograms when the tenant allows it', async (t) => {
    const delta = (tm: number): ResourceInput[] => [
      {
        resource: { 'service.name': 'api' },
        metrics: [{ name: 'batch.size', exponentialHistogram: { temporality: 'delta', points: [{ timeMs: tm, count: 3, sum: 3, scale: 0, positive: { offset: 0, bucketCounts: [3] } }] } }],
      },
    ];
    const refused = await post(tenant, encodeOtlpMetricsJson(delta(t0)), { 'Content-Type': OTLP_JSON });
    t.equal(refused.status, 400);
    t.same(JSON.parse(refused.body), { code: 400, message: 'otlp parse error: invalid temporality and type combination for metric "batch.size"' });
    t.equal((await post(deltaTenant, encodeOtlpMetrics(delta(t0)), { 'Content-Type': OTLP_PROTOBUF })).status, 200);
    t.equal((await post(deltaTenant, encodeOtlpMetrics(delta(t0 + 15_000)), { 'Content-Type': OTLP_PROTOBUF })).status, 200);
    const s = (await chunks(deltaTenant, 'batch_size')).get('batch_size');
    t.ok(s, 'stored');
    if (s === undefined) return;
    t.equal(s.chunks.length, 1);
    t.equal(s.chunks[0]!.data[2]! >> 6, 3, 'a gauge histogram chunk (counter reset header 0b11)');
    t.same(chunkLayouts(s).map((l) => [l.t, l.count]), [[t0, 3], [t0 + 15_000, 3]]);
    const heads = samplesHistograms((await read(deltaTenant, ResponseType.SAMPLES, 'batch_size')).body);
    t.same(heads.get('batch_size')?.map((h) => h.hint), [3, 3], 'reset hint gauge');
  });
});
