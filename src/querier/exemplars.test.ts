// exemplars.test.ts drives metric metadata and exemplars end to end through
// the real server and native storage: remote-write pushes carrying metadata
// and exemplars, then /api/v1/metadata and /api/v1/query_exemplars (both
// prefixed and not), Mimir's limits and validation with their exact
// statuses and texts (the valid part of a push is still stored), per-tenant
// overrides from the runtime configuration, Grafana's exemplar probe, and
// tenant federation.

import t from 'tap';
import { ParseError } from '../promql/parser/errors.js';
import { parseExpr } from '../promql/parser/parser.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type MetadataInput, type TimeSeriesInput } from '../remote/write-request.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startWithRuntimeConfig } from '../testing/runtime-config.js';
import { END_BEFORE_START, extractSelectors } from './exemplars.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();

const run = Date.now().toString(36);
const A = `ex-a-${run}`;
const B = `ex-b-${run}`;
const OFF = `ex-off-${run}`;
const now = Math.floor(Date.now() / 1000) * 1000;
const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

interface Body<T> {
  status: string;
  data: T;
  errorType?: string;
  error?: string;
}

function parseErrorOf(query: string): string {
  try {
    parseExpr(query);
  } catch (err) {
    if (err instanceof ParseError) return err.message;
  }
  throw new Error(`${query} parsed`);
}

t.test('extractSelectors finds every selector', async (t) => {
  const sets = extractSelectors(parseExpr('sum(rate(a{x="1"}[5m])) / on() b + count_over_time(c[1m:10s]) + 1'));
  t.same(
    sets.map((s) => s.map((m) => `${m.name}${['=', '!=', '=~', '!~'][m.type]}${m.value}`)),
    [['x=1', '__name__=a'], ['__name__=b'], ['__name__=c']],
  );
  t.same(extractSelectors(parseExpr('1 + 2')), []);
});

t.test('metadata and exemplars end to end', { skip }, async (t) => {
  const { srv, close } = await startWithRuntimeConfig(
    'exemplars-e2e-',
    `overrides:\n  ${OFF}:\n    max_global_exemplars_per_user: 0\n    max_global_metadata_per_user: 0\n`,
    {
      'tenant-federation.enabled': true,
      'ingester.max-global-exemplars-per-user': 100,
      'ingester.max-global-metadata-per-user': 2,
      'ingester.max-global-metadata-per-metric': 1,
    },
  );
  t.teardown(close);
  const push = (tenant: string, series: TimeSeriesInput[], metadata: MetadataInput[] = []): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestSnappy(series, metadata), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant } });
  const get = (path: string, tenant: string): Promise<ClientResponse> => httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': tenant } });
  const seriesCount = async (tenant: string, name: string): Promise<number> =>
    jsonOf<Body<unknown[]>>(await get(`/prometheus/api/v1/series?${q({ 'match[]': name })}`, tenant)).data.length;
  const md = (type: number, metricFamilyName: string, help: string, unit = ''): MetadataInput => ({ type, metricFamilyName, help, unit });

  await t.test('metadata is stored and answered in Mimir\'s shape', async (t) => {
    const res = await push(A, [{ labels: [['__name__', 'up']], samples: [[now, 1]] }], [md(1, 'http_requests_total', 'Requests <all>.'), md(2, 'mem', 'Memory.', 'bytes')]);
    t.equal(res.status, 200, res.body);
    let r = await get('/prometheus/api/v1/metadata', A);
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'application/json');
    t.equal(
      r.body,
      '{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests \\u003call\\u003e.","unit":""}],"mem":[{"type":"gauge","help":"Memory.","unit":"bytes"}]}}',
    );
    r = await get(`/api/v1/metadata?${q({ limit: '1' })}`, A);
    t.same(Object.keys(jsonOf<Body<object>>(r).data), ['http_requests_total'], 'unprefixed, limit');
    r = await get(`/prometheus/api/v1/metadata?${q({ metric: 'mem' })}`, A);
    t.same(jsonOf<Body<object>>(r).data, { mem: [{ type: 'gauge', help: 'Memory.', unit: 'bytes' }] });
    r = await get(`/prometheus/api/v1/metadata?${q({ limit: '0' })}`, A);
    t.same(jsonOf<Body<object>>(r).data, {});
    r = await httpRequest(srv.port, '/prometheus/api/v1/metadata', {
      method: 'POST',
      body: q({ metric: 'nope' }),
      headers: { 'X-Scope-OrgID': A, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    t.equal(r.body, '{"status":"success","data":{}}', 'POST form');
    r = await get(`/prometheus/api/v1/metadata?${q({ limit: 'x' })}`, A);
    t.equal(r.status, 400);
    t.equal(r.body, '{"status":"error","error":"limit must be a number"}');
    r = await get(`/prometheus/api/v1/metadata?${q({ limit_per_metric: '1.5' })}`, A);
    t.equal(r.body, '{"status":"error","error":"limit_per_metric must be a number"}');
  });

  await t.test('metadata over the limits: 200, dropped, samples stored', async (t) => {
    const res = await push(
      A,
      [{ labels: [['__name__', 'limited']], samples: [[now, 1]] }],
      [md(1, 'http_requests_total', 'Another help.'), md(1, 'third_family', 'Over the per-user limit.')],
    );
    t.equal(res.status, 200, res.body);
    t.equal(await seriesCount(A, 'limited'), 1);
    const data = jsonOf<Body<Record<string, unknown[]>>>(await get('/prometheus/api/v1/metadata', A)).data;
    t.same(Object.keys(data), ['http_requests_total', 'mem']);
    t.equal(data.http_requests_total!.length, 1, 'per-metric limit of 1');
    const metrics = (await httpRequest(srv.port, '/metrics')).body;
    t.match(metrics, `cortex_discarded_metadata_total{reason="per_metric_metadata_limit",user="${A}"} 1`);
    t.match(metrics, `cortex_discarded_metadata_total{reason="per_user_metadata_limit",user="${A}"} 1`);
  });

  await t.test('invalid metadata: 400 with Mimir\'s text, the rest stored', async (t) => {
    const res = await push(B, [{ labels: [['__name__', 'kept']], samples: [[now, 1]] }], [md(1, '', 'No name.'), md(1, 'b_total', 'B.')]);
    t.equal(res.status, 400);
    t.equal(res.body, 'received a metric metadata with no metric name (err-mimir-metadata-missing-metric-name)\n');
    t.equal(await seriesCount(B, 'kept'), 1);
    t.same(jsonOf<Body<object>>(await get('/prometheus/api/v1/metadata', B)).data, { b_total: [{ type: 'counter', help: 'B.', unit: '' }] });
  });

  await t.test('federated metadata merges the tenants', async (t) => {
    const data = jsonOf<Body<Record<string, unknown[]>>>(await get('/prometheus/api/v1/metadata', `${A}|${B}`)).data;
    t.same(Object.keys(data), ['b_total', 'http_requests_total', 'mem']);
  });

  const ex = (trace: string, value: number, timestampMs: number): { labels: Array<[string, string]>; value: number; timestampMs: number } => ({
    labels: [['trace_id', trace]],
    value,
    timestampMs,
  });
  const range = { start: String((now - 60_000) / 1000), end: String((now + 60_000) / 1000) };

  await t.test('exemplars are stored and queried', async (t) => {
    const res = await push(A, [
      { labels: [['__name__', 'req_total'], ['job', 'api']], samples: [[now, 5]], exemplars: [ex('abc', 1.5, now - 1500), ex('def', 2, now)] },
      { labels: [['__name__', 'req_total'], ['job', 'db']], samples: [[now, 6]], exemplars: [ex('x'.repeat(130), 1, now)] },
      { labels: [['__name__', 'other']], samples: [[now, 1]], exemplars: [ex('zzz', 3, now - 123)] },
    ]);
    t.equal(res.status, 200, res.body);
    let r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'sum(rate(req_total[5m]))', ...range })}`, A);
    t.equal(r.status, 200, r.body);
    const sec = now / 1000;
    t.equal(
      r.body,
      `{"status":"success","data":[{"seriesLabels":{"__name__":"req_total","job":"api"},"exemplars":[` +
        `{"labels":{"trace_id":"abc"},"value":"1.5","timestamp":${sec - 2}.500},{"labels":{"trace_id":"def"},"value":"2","timestamp":${sec}}]}]}`,
    );
    r = await httpRequest(srv.port, '/api/v1/query_exemplars', {
      method: 'POST',
      body: q({ query: 'req_total or other', ...range }),
      headers: { 'X-Scope-OrgID': A, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const data = jsonOf<Body<Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ timestamp: number }> }>>>(r).data;
    t.same(data.map((s) => s.seriesLabels.__name__), ['other', 'req_total'], 'unprefixed POST, series sorted');
    t.equal(data[0]!.exemplars[0]!.timestamp, (now - 123) / 1000);
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'req_total', start: String((now - 1000) / 1000), end: String(now / 1000) })}`, A);
    t.same(jsonOf<Body<Array<{ exemplars: unknown[] }>>>(r).data[0]!.exemplars.length, 1, 'start and end bound the exemplars');
    const metrics = (await httpRequest(srv.port, '/metrics')).body;
    t.match(metrics, `cortex_discarded_exemplars_total{reason="exemplar_labels_too_long",user="${A}"} 1`);
  });

  await t.test('out-of-order exemplars: 400 with the TSDB text, the sample stored', async (t) => {
    const res = await push(A, [{ labels: [['__name__', 'req_total'], ['job', 'api']], samples: [[now + 1000, 7]], exemplars: [ex('old', 1, now - 2000)] }]);
    t.equal(res.status, 400);
    t.equal(res.body, `err: out of order exemplar. timestamp=${new Date(now - 2000).toISOString().replace('.000Z', 'Z')}, series=req_total{job="api"}, exemplar={trace_id="old"}\n`);
    const r = await get(`/prometheus/api/v1/query?${q({ query: 'req_total{job="api"}', time: String((now + 1000) / 1000) })}`, A);
    t.match(r.body, '"value":[' + String((now + 1000) / 1000) + ',"7"]');
  });

  await t.test('Grafana\'s probe and Prometheus\'s errors', async (t) => {
    let r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'test', start: String(now - 3_600_000), end: String(now) })}`, A);
    t.equal(r.status, 200);
    t.equal(r.body, '{"status":"success","data":[]}');
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: '1 + 1' })}`, A);
    t.equal(r.body, '{"status":"success","data":null}', 'no selector: no data');
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'up{' })}`, A);
    t.equal(r.status, 400);
    t.same(jsonOf<Body<unknown>>(r), { status: 'error', errorType: 'bad_data', error: parseErrorOf('up{') });
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'up', start: '20', end: '10' })}`, A);
    t.equal(r.status, 400);
    t.same(jsonOf<Body<unknown>>(r), { status: 'error', errorType: 'bad_data', error: END_BEFORE_START });
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'up', start: 'yesterday' })}`, A);
    t.equal(r.status, 400);
    t.match(jsonOf<Body<unknown>>(r).error, /^invalid parameter "start": /);
    r = await get('/prometheus/api/v1/query_exemplars?query=up', '');
    t.equal(r.status, 401, 'needs a tenant');
  });

  await t.test('a tenant whose override disables exemplars stores none', async (t) => {
    const res = await push(OFF, [{ labels: [['__name__', 'req_total']], samples: [[now, 1]], exemplars: [ex('abc', 1, now)] }], [md(1, 'req_total', 'R.')]);
    t.equal(res.status, 200, res.body);
    const r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'req_total', ...range })}`, OFF);
    t.equal(r.body, '{"status":"success","data":[]}');
    t.same(jsonOf<Body<object>>(await get('/prometheus/api/v1/metadata', OFF)).data, { req_total: [{ type: 'counter', help: 'R.', unit: '' }] }, 'a metadata limit of 0 is no limit');
  });

  await t.test('federated exemplars carry __tenant_id__', async (t) => {
    t.equal((await push(B, [{ labels: [['__name__', 'req_total'], ['job', 'api']], samples: [[now, 1]], exemplars: [ex('bbb', 9, now)] }])).status, 200);
    let r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: 'req_total{job="api"}', ...range })}`, `${A}|${B}`);
    const data = jsonOf<Body<Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: object }> }>>>(r).data;
    t.same(
      data.map((s) => [s.seriesLabels.__tenant_id__, s.exemplars.length]),
      [
        [A, 2],
        [B, 1],
      ],
    );
    r = await get(`/prometheus/api/v1/query_exemplars?${q({ query: `req_total{__tenant_id__="${B}"}`, ...range })}`, `${A}|${B}`);
    t.same(
      jsonOf<Body<Array<{ seriesLabels: Record<string, string> }>>>(r).data.map((s) => s.seriesLabels),
      [{ __name__: 'req_total', __tenant_id__: B, job: 'api' }],
    );
  });
});
