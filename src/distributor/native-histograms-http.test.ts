// native-histograms-http.test.ts pushes remote write 1.0 requests with
// native histograms through the real server: histograms that break
// Prometheus's consistency rules or Mimir's bucket limit are refused with
// Mimir's 400 texts while the rest of the request is kept, and the bucket
// limit reduces the resolution of histograms over it instead of refusing
// them (the default of -validation.reduce-native-histogram-over-max-buckets).

import t from 'tap';
import { REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { encodeHistogramWriteRequestSnappy, type HistogramSeries, type NativeHistogram } from '../remote/write-request-histograms.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { nativeSkip } from '../testing/native-skip.js';


function hist(t: number, over: Partial<NativeHistogram> = {}): NativeHistogram {
  return {
    t,
    kind: 'int',
    hint: 0,
    schema: 0,
    zeroThreshold: 0.001,
    zeroCount: 1,
    count: 6,
    sum: 4.5,
    positiveSpans: [[0, 3]],
    negativeSpans: [],
    positiveBuckets: [1, 1, 0], // 1, 2, 2
    negativeBuckets: [],
    customValues: [],
    ...over,
  };
}

t.test('native histogram validation through the server', { skip: nativeSkip() }, async (t) => {
  const srv = await startTestServer({ 'validation.max-native-histogram-buckets': 4 });
  t.teardown(() => srv.close());
  const tenant = `nh-${Date.now().toString(36)}`;
  const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const push = (series: HistogramSeries[], floats: Array<[string, number]> = []): Promise<ClientResponse> => {
    // Float series ride in the same request through plain Sample messages.
    const body = encodeHistogramWriteRequestSnappy(series, floats.map(([name, v]) => ({ labels: [['__name__', name]], samples: [[base, v]] })));
    return httpRequest(srv.port, '/api/v1/push', { body, headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant } });
  };

  await t.test('valid histograms are stored', async (t) => {
    const res = await push([{ labels: [['__name__', 'nh_ok'], ['job', 'a']], histograms: [hist(base), hist(base + 15_000, { count: 9, zeroCount: 4 })] }]);
    t.equal(res.status, 200, res.body);
    const s = await httpRequest(srv.port, `/prometheus/api/v1/series?match[]=nh_ok&start=${base / 1000}&end=${(base + 15_000) / 1000}`, { headers: { 'X-Scope-OrgID': tenant } });
    t.same(jsonOf<{ data: unknown }>(s).data, [{ __name__: 'nh_ok', job: 'a' }], 'a histogram-only series exists');
    // The same samples again: accepted as exact duplicates; another value at the same time is refused.
    t.equal((await push([{ labels: [['__name__', 'nh_ok'], ['job', 'a']], histograms: [hist(base + 15_000, { count: 9, zeroCount: 4 })] }])).status, 200);
    const dup = await push([{ labels: [['__name__', 'nh_ok'], ['job', 'a']], histograms: [hist(base + 15_000, { count: 10, zeroCount: 5 })] }]);
    t.equal(dup.status, 400);
    t.match(dup.body, /err-mimir-sample-duplicate-timestamp/);
  });

  await t.test('inconsistent histograms get Mimir texts, the rest is kept', async (t) => {
    const res = await push(
      [{ labels: [['__name__', 'nh_bad'], ['job', 'a']], histograms: [hist(base, { count: 7 })] }],
      [['nh_float_kept', 42]],
    );
    t.equal(res.status, 400);
    t.equal(
      res.body.trim(),
      `err: 6 observations found in buckets, but the Count field is 7: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN). timestamp=${new Date(base).toISOString().replace('.000Z', 'Z')}, series=nh_bad{job="a"} (err-mimir-native-histogram-count-mismatch)`,
    );
    const q = await httpRequest(srv.port, `/prometheus/api/v1/query?query=nh_float_kept&time=${base / 1000}`, { headers: { 'X-Scope-OrgID': tenant } });
    t.same(jsonOf<{ data: { result: Array<{ value: [number, string] }> } }>(q).data.result.map((r) => r.value[1]), ['42'], 'the float series of the same request is stored');

    const neg = await push([{ labels: [['__name__', 'nh_neg']], histograms: [hist(base, { positiveBuckets: [1, -2, 0] })] }]);
    t.equal(neg.status, 400);
    t.match(neg.body, /^err: positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative\. timestamp=.*\(err-mimir-native-histogram-negative-bucket-count\)/);
    const spans = await push([{ labels: [['__name__', 'nh_spans']], histograms: [hist(base, { positiveSpans: [[0, 2]] })] }]);
    t.equal(spans.status, 400);
    t.match(spans.body, /positive side: spans need 2 buckets, have 3 buckets: histogram spans specify different number of buckets than provided/);
    const schema = await push([{ labels: [['__name__', 'nh_schema']], histograms: [hist(base, { schema: 9 })] }]);
    t.equal(schema.status, 400);
    t.equal(schema.body.trim(), 'received a native histogram sample with an invalid schema: 9 (err-mimir-invalid-native-histogram-schema)');
  });

  await t.test('over the bucket limit: reduced, or refused when it cannot be', async (t) => {
    // 6 buckets at schema 2 become 3 at schema 1 (limit 4): accepted.
    const wide = hist(base, { schema: 2, count: 6, zeroCount: 0, positiveSpans: [[0, 6]], positiveBuckets: [1, 0, 0, 0, 0, 0] });
    t.equal((await push([{ labels: [['__name__', 'nh_wide']], histograms: [wide] }])).status, 200);
    // Custom buckets cannot be reduced.
    const nhcb = hist(base, { schema: -53, zeroThreshold: 0, zeroCount: 0, count: 5, positiveSpans: [[0, 5]], positiveBuckets: [1, 0, 0, 0, 0], customValues: [1, 2, 3, 4] });
    const res = await push([{ labels: [['__name__', 'nh_nhcb']], histograms: [nhcb] }]);
    t.equal(res.status, 400);
    t.equal(
      res.body.trim(),
      `received a native histogram sample with more custom buckets than the limit, timestamp: ${base} series: nh_nhcb, buckets: 5, limit: 4 (err-mimir-native-histogram-custom-buckets-not-reducible)`,
    );
  });
});
