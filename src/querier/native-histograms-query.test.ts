// native-histograms-query.test.ts pushes native histograms over remote write
// through the real server and reads them back through the query API: instant
// answers carry `histogram`, range answers and range-vector results
// `histograms`, encoded exactly as Prometheus encodes them (count and sum as
// strings, buckets as [boundaryRule, lower, upper, count] with the empty ones
// left out), and the histogram functions answer floats.

import t from 'tap';
import { REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { encodeHistogramWriteRequestSnappy, type NativeHistogram } from '../remote/write-request-histograms.js';
import { httpRequest } from '../testing/http-client.js';
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
    count: 7,
    sum: 10.5,
    positiveSpans: [[0, 3]],
    negativeSpans: [[0, 1]],
    positiveBuckets: [1, 1, -1], // absolute 1, 2, 1
    negativeBuckets: [2],
    customValues: [],
    ...over,
  };
}

t.test('native histograms in query answers', { skip: nativeSkip() }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const tenant = `nhq-${Date.now().toString(36)}`;
  const base = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
  const headers = { 'X-Scope-OrgID': tenant };
  const body = encodeHistogramWriteRequestSnappy(
    [
      {
        labels: [['__name__', 'req_seconds'], ['job', 'a']],
        histograms: [hist(base), hist(base + 60_000, { count: 14, sum: 21, zeroCount: 2, positiveBuckets: [2, 2, -2], negativeBuckets: [4] })],
      },
    ],
    [],
  );
  const push = await httpRequest(srv.port, '/api/v1/push', { body, headers: { ...REMOTE_WRITE_HEADERS, ...headers } });
  t.equal(push.status, 200, push.body);
  const q = async (path: string): Promise<string> => {
    const r = await httpRequest(srv.port, path, { headers });
    t.equal(r.status, 200, r.body);
    return r.body;
  };
  const ts = (ms: number): string => String(ms / 1000);
  const first = '{"count":"7","sum":"10.5","buckets":[[1,"-1","-0.5","2"],[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"1","2","2"],[0,"2","4","1"]]}';
  const second = '{"count":"14","sum":"21","buckets":[[1,"-1","-0.5","4"],[3,"-0.001","0.001","2"],[0,"0.5","1","2"],[0,"1","2","4"],[0,"2","4","2"]]}';

  t.equal(
    await q(`/prometheus/api/v1/query?query=req_seconds&time=${ts(base + 30_000)}`),
    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"req_seconds","job":"a"},"histogram":[${ts(base + 30_000)},${first}]}]}}`,
    'instant query: histogram',
  );
  t.equal(
    await q(`/prometheus/api/v1/query_range?query=req_seconds&start=${ts(base)}&end=${ts(base + 60_000)}&step=60`),
    `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"req_seconds","job":"a"},"histograms":[[${ts(base)},${first}],[${ts(base + 60_000)},${second}]]}]}}`,
    'range query: histograms, no values',
  );
  t.equal(
    await q(`/prometheus/api/v1/query?query=${encodeURIComponent('req_seconds[2m]')}&time=${ts(base + 60_000)}`),
    `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"req_seconds","job":"a"},"histograms":[[${ts(base)},${first}],[${ts(base + 60_000)},${second}]]}]}}`,
    'range-vector result',
  );
  // increase over the two samples (+7 in 60s), extrapolated to the 2m window as Prometheus does: x2.
  const inc = JSON.parse(await q(`/prometheus/api/v1/query?query=${encodeURIComponent('histogram_count(increase(req_seconds[2m]))')}&time=${ts(base + 60_000)}`)) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  t.same(inc.data.result.map((r) => [r.metric, r.value[1]]), [[{ job: 'a' }, '14']]);
  const quant = JSON.parse(await q(`/prometheus/api/v1/query?query=${encodeURIComponent('histogram_quantile(0.5, req_seconds)')}&time=${ts(base + 60_000)}`)) as {
    data: { result: Array<{ value: [number, string] }> };
  };
  // rank 7 of 14: past the negative bucket (4) and the zero bucket (2), 1 of 2 into (0.5, 1]: 2^-0.5.
  t.equal(Number(quant.data.result[0]!.value[1]), 2 ** -0.5);
  const mixed = JSON.parse(await q(`/prometheus/api/v1/query?query=${encodeURIComponent('req_seconds * 2 + 1')}&time=${ts(base + 60_000)}`)) as {
    data: { result: unknown[] };
    infos?: string[];
  };
  t.same(mixed.data.result, [], 'histogram + scalar is dropped');
  t.same(mixed.infos, ['PromQL info: incompatible sample types encountered for binary operator "+": histogram + float (1:1)']);
});
