// histogram-exemplars-http.test.ts pushes native-histogram series carrying
// exemplars over remote write 1.0 and 2.0 through the real server and reads
// them back from /api/v1/query_exemplars as Prometheus answers it: the
// exemplars are kept by the histogram series, dropped when more than five
// minutes older than the request's earliest histogram (Mimir's window counts
// histograms as samples), bounded by -ingester.max-global-exemplars-per-user
// (a ring: the newest kept) and not stored at all for a tenant whose limit
// is 0.

import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHistogramWriteRequestSnappy, type NativeHistogram } from '../remote/write-request-histograms.js';
import { REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { encodeWriteRequestV2Snappy, MetricType, REMOTE_WRITE_V2_HEADERS } from '../remote/write-request-v2.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { nativeSkip } from '../testing/native-skip.js';
import { startTestServer } from '../testing/server.js';

interface SeriesExemplars {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

t.test('exemplars on native histograms', { skip: nativeSkip('ingestSnappyWriteRequestV2') }, async (t) => {
  const id = Date.now().toString(36);
  const tenant = `hex-${id}`;
  const off = `hex-off-${id}`;
  const runtimeFile = join(process.env['TMPDIR'] ?? '/tmp', `hex-runtime-${id}.yaml`);
  writeFileSync(runtimeFile, `overrides:\n  ${off}:\n    max_global_exemplars_per_user: 0\n`);
  const srv = await startTestServer({ 'ingester.max-global-exemplars-per-user': 3, 'runtime-config.file': runtimeFile });
  t.teardown(async () => {
    await srv.close();
    rmSync(runtimeFile, { force: true });
  });
  const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const hist = (tm: number, count: number): NativeHistogram => ({
    t: tm,
    kind: 'int',
    hint: 0,
    schema: 3,
    zeroThreshold: 1e-128,
    zeroCount: 0,
    count,
    sum: count * 0.25,
    positiveSpans: [[0, 1]],
    positiveBuckets: [count],
    negativeSpans: [],
    negativeBuckets: [],
    customValues: [],
  });
  const pushV1 = (who: string, tm: number, exemplars: Array<{ trace: string; value: number; t: number }>): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', {
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': who },
      body: encodeHistogramWriteRequestSnappy([
        { labels: [['__name__', 'hex_latency_seconds'], ['job', 'v1']], histograms: [hist(tm, 4)], exemplars: exemplars.map((e) => ({ labels: [['trace_id', e.trace]], value: e.value, timestampMs: e.t })) },
      ]),
    });
  const exemplars = async (who: string, query: string): Promise<SeriesExemplars[]> => {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/query_exemplars?query=${encodeURIComponent(query)}&start=${(base - 900_000) / 1000}&end=${(base + 120_000) / 1000}`, {
      headers: { 'X-Scope-OrgID': who },
    });
    t.equal(res.status, 200, res.body);
    return jsonOf<{ data: SeriesExemplars[] }>(res).data;
  };

  await t.test('remote write 1.0: kept by the histogram series, the too old one dropped', async (t) => {
    const res = await pushV1(tenant, base, [
      { trace: 'a1', value: 0.2, t: base - 1000 },
      { trace: 'stale', value: 0.3, t: base - 10 * 60_000 },
    ]);
    t.equal(res.status, 200, res.body);
    t.same(await exemplars(tenant, 'hex_latency_seconds'), [
      { seriesLabels: { __name__: 'hex_latency_seconds', job: 'v1' }, exemplars: [{ labels: { trace_id: 'a1' }, value: '0.2', timestamp: (base - 1000) / 1000 }] },
    ]);
  });

  await t.test('remote write 2.0: histogram series with exemplars', async (t) => {
    const res = await httpRequest(srv.port, '/api/v1/push', {
      headers: { ...REMOTE_WRITE_V2_HEADERS, 'X-Scope-OrgID': tenant },
      body: encodeWriteRequestV2Snappy([
        {
          labels: [['__name__', 'hex_size_bytes'], ['job', 'v2']],
          histograms: [[base + 1000, 5]],
          exemplars: [{ labels: [['trace_id', 'b1']], value: 512, timestampMs: base + 1000 }],
          metadata: { type: MetricType.histogram },
        },
      ]),
    });
    t.equal(res.status, 204, res.body);
    t.equal(res.headers['x-prometheus-remote-write-histograms-written'], '1');
    t.equal(res.headers['x-prometheus-remote-write-exemplars-written'], '1');
    t.same(await exemplars(tenant, 'hex_size_bytes'), [
      { seriesLabels: { __name__: 'hex_size_bytes', job: 'v2' }, exemplars: [{ labels: { trace_id: 'b1' }, value: '512', timestamp: (base + 1000) / 1000 }] },
    ]);
  });

  await t.test('-ingester.max-global-exemplars-per-user bounds them; 0 stores none', async (t) => {
    // Two more on the 1.0 series: four in all for a limit of three, the oldest (a1) overwritten.
    const res = await pushV1(tenant, base + 2000, [
      { trace: 'a2', value: 0.4, t: base + 1500 },
      { trace: 'a3', value: 0.5, t: base + 2000 },
    ]);
    t.equal(res.status, 200, res.body);
    const got = await exemplars(tenant, '{__name__=~"hex_.*"}');
    t.same(
      got.map((s) => [s.seriesLabels['__name__'], s.exemplars.map((e) => e.labels['trace_id'])]),
      [
        ['hex_latency_seconds', ['a2', 'a3']],
        ['hex_size_bytes', ['b1']],
      ],
    );
    t.equal((await pushV1(off, base, [{ trace: 'x', value: 1, t: base }])).status, 200);
    t.same(await exemplars(off, 'hex_latency_seconds'), [], 'a limit of 0 stores no exemplar');
  });
});
