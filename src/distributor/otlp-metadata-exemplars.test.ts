// otlp-metadata-exemplars.test.ts checks that OTLP metric descriptions, types and units reach
// /api/v1/metadata as Mimir's translator makes them (family name with suffixes when they are on,
// counter/gauge/histogram/summary, the unit spelled as the name suffix), and that a sum point's
// exemplars reach /api/v1/query_exemplars with trace_id/span_id in hex and their attributes, for
// protobuf and JSON.

import t from 'tap';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { nativeSkip } from '../testing/native-skip.js';
import { startTestServer } from '../testing/server.js';
import { encodeOtlpMetrics, encodeOtlpMetricsJson, OTLP_JSON, OTLP_PROTOBUF, type ResourceInput } from './otlp-request.js';

const skip = nativeSkip();

type Metadata = Record<string, Array<{ type: string; help: string; unit: string }>>;
type Exemplars = Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }> }>;
const TRACE = '0102030405060708090a0b0c0d0e0f10';
const SPAN = '0102030405060708';

t.test('OTLP metadata', { skip }, async (t) => {
  const srv = await startTestServer({ 'distributor.otel-metric-suffixes-enabled': true, 'ingester.max-global-exemplars-per-user': 1000 });
  t.teardown(() => srv.close());
  const now = Date.now() - 10_000;
  const request = (prefix: string): ResourceInput[] => [
    {
      resource: { 'service.name': 'svc' },
      metrics: [
        {
          name: `${prefix}.requests`,
          description: 'Requests served.',
          unit: '{request}',
          sum: {
            points: [{ timeMs: now, value: 3, exemplars: [{ timeMs: now - 500, value: 1, traceId: TRACE, spanId: SPAN, attributes: { user: 'u1' } }] }],
            monotonic: true,
            temporality: 'cumulative',
          },
        },
        { name: `${prefix}.queue`, description: 'Bytes queued.', unit: 'By', gauge: [{ timeMs: now, value: 10 }] },
        {
          name: `${prefix}.latency`,
          description: 'Request latency.',
          unit: 's',
          histogram: { points: [{ timeMs: now, count: 2, sum: 0.3, bucketCounts: [1, 1], explicitBounds: [0.1] }], temporality: 'cumulative' },
        },
        { name: `${prefix}.sizes`, description: 'Sizes.', unit: 'By', summary: [{ timeMs: now, count: 1, sum: 5, quantiles: [[0.5, 5]] }] },
      ],
    },
  ];
  for (const [prefix, json] of [
    ['pb', false],
    ['js', true],
  ] as const) {
    const tenant = `meta-${prefix}`;
    const res = await httpRequest(srv.port, '/otlp/v1/metrics', {
      headers: { 'X-Scope-OrgID': tenant, 'Content-Type': json ? OTLP_JSON : OTLP_PROTOBUF },
      body: json ? encodeOtlpMetricsJson(request(prefix)) : encodeOtlpMetrics(request(prefix)),
    });
    t.equal(res.status, 200, res.body);
    const md = await httpRequest(srv.port, '/prometheus/api/v1/metadata', { headers: { 'X-Scope-OrgID': tenant } });
    t.equal(md.status, 200, md.body);
    t.same(
      jsonOf<{ data: Metadata }>(md).data,
      {
        [`${prefix}_requests_total`]: [{ type: 'counter', help: 'Requests served.', unit: '' }],
        [`${prefix}_queue_bytes`]: [{ type: 'gauge', help: 'Bytes queued.', unit: 'bytes' }],
        [`${prefix}_latency_seconds`]: [{ type: 'histogram', help: 'Request latency.', unit: 'seconds' }],
        [`${prefix}_sizes_bytes`]: [{ type: 'summary', help: 'Sizes.', unit: 'bytes' }],
      },
      json ? 'JSON' : 'protobuf',
    );
    const q = new URLSearchParams({ query: `${prefix}_requests_total`, start: String((now - 60_000) / 1000), end: String((now + 60_000) / 1000) });
    const ex = await httpRequest(srv.port, `/prometheus/api/v1/query_exemplars?${q}`, { headers: { 'X-Scope-OrgID': tenant } });
    t.equal(ex.status, 200, ex.body);
    t.same(
      jsonOf<{ data: Exemplars }>(ex).data,
      [
        {
          seriesLabels: { __name__: `${prefix}_requests_total`, job: 'svc' },
          exemplars: [{ labels: { span_id: SPAN, trace_id: TRACE, user: 'u1' }, value: '1', timestamp: (now - 500) / 1000 }],
        },
      ],
      `exemplars (${json ? 'JSON' : 'protobuf'})`,
    );
  }
});
