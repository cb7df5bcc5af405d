// grafana-replay.test.ts (peer suite) replays, against the real server, the
// requests Grafana's Prometheus data source (pkg/promlib and
// packages/grafana-prometheus, see /work/shared/CLIENTS.md) sends when a
// Mimir data source is saved, its query editor opens and a dashboard panel
// runs, in Grafana's order, methods, parameters and headers; and checks each
// answer has the status, content type and JSON shape Grafana's parsers take:
//   - health check: instant `1+1` at time=4 (POST form), anything but 200 fails it;
//   - flavour detection: buildinfo with a semver `version` and `features` of strings;
//   - editor look-ups: metric names, label names with match[], label values,
//     series with limit=40000 and the match-all `{__name__!=""}`, metadata;
//   - the exemplar probe with start/end in milliseconds, then a real exemplar query;
//   - recording rules list; a range query by POST, then the same by GET;
//   - a bad query: 400 with Prometheus's error envelope (shown in the panel).

import t, { type Test } from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { startTestServer } from '../../src/testing/server.js';

const TENANT = 'grafana-replay';
const STEP = 15_000;
const end = Math.floor(Date.now() / STEP) * STEP;
const start = end - 40 * STEP;

/** GRAFANA_HEADERS are what Grafana's backend sends to a Mimir data source with the tenant as a custom header. */
const GRAFANA_HEADERS: Record<string, string> = {
  'User-Agent': 'Grafana/11.3.0',
  Accept: 'application/json, text/plain, */*',
  'X-Scope-OrgID': TENANT,
  'X-Grafana-Org-Id': '1',
};

function series(): TimeSeriesInput[] {
  const out: TimeSeriesInput[] = [];
  for (const [path, rate] of [['/api', 2], ['/login', 0.5]] as const) {
    out.push({
      labels: [['__name__', 'grafana_replay_requests_total'], ['instance', 'app-1:8080'], ['job', 'app'], ['path', path]],
      samples: Array.from({ length: 41 }, (_, i) => [start + i * STEP, i * STEP * rate / 1000] as [number, number]),
      exemplars: path === '/api' ? [{ labels: [['trace_id', 'abc123']], value: 42, timestampMs: end - STEP }] : [],
    });
  }
  out.push({
    labels: [['__name__', 'grafana_replay_temperature'], ['job', 'sensor'], ['room', 'lab']],
    samples: Array.from({ length: 41 }, (_, i) => [start + i * STEP, 20 + (i % 5)] as [number, number]),
  });
  return out;
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

t.test("Grafana's Prometheus data source against us", async (t) => {
  const ours = await startTestServer({ 'ingester.max-global-exemplars-per-user': 100 });
  t.teardown(() => ours.close());
  const base = `http://127.0.0.1:${ours.port}/prometheus`;
  const push = await fetch(`http://127.0.0.1:${ours.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: new Uint8Array(
      encodeWriteRequestSnappy(series(), [
        { type: 1, metricFamilyName: 'grafana_replay_requests_total', help: 'Requests served.', unit: '' },
        { type: 2, metricFamilyName: 'grafana_replay_temperature', help: 'Room temperature.', unit: 'celsius' },
      ]),
    ),
  });
  t.equal(push.status, 200, await push.text());

  const call = async (method: 'GET' | 'POST', path: string, params: Record<string, string | string[]>): Promise<Answer> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) qs.append(k, one);
    const res =
      method === 'GET'
        ? await fetch(`${base}/${path}${qs.size > 0 ? `?${qs}` : ''}`, { headers: GRAFANA_HEADERS })
        : await fetch(`${base}/${path}`, { method: 'POST', headers: { ...GRAFANA_HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' }, body: qs.toString() });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body, text };
  };
  const ok = (t: Test, a: Answer, what: string): void => {
    t.equal(a.status, 200, `${what}: 200 (${a.text.slice(0, 200)})`);
    t.match(a.contentType, /^application\/json/, `${what}: JSON content type`);
    t.match(a.body, { status: 'success' }, `${what}: status success`);
  };
  const secs = (ms: number): string => String(ms / 1000);
  const range = { start: secs(start), end: secs(end) };

  await t.test('health check: instant 1+1 at time=4 by POST', async (t) => {
    const a = await call('POST', 'api/v1/query', { query: '1+1', time: '4' });
    ok(t, a, 'health check');
    t.same(a.body, { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
  });

  await t.test('flavour detection: buildinfo', async (t) => {
    const a = await call('GET', 'api/v1/status/buildinfo', {});
    ok(t, a, 'buildinfo');
    const data = (a.body as { data: Record<string, unknown> }).data;
    t.match(data['version'], /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/, 'version is semver');
    for (const k of ['revision', 'branch', 'goVersion']) t.type(data[k], 'string', `${k} is a string`);
    t.type(data['features'], 'object', 'features is a map (Grafana then knows it is Mimir)');
    const features = data['features'] as Record<string, unknown>;
    t.ok(Object.keys(features).length > 0, 'features not empty');
    t.same(Object.values(features).filter((v) => typeof v !== 'string'), [], 'every feature value is a string');
  });

  await t.test('editor look-ups', async (t) => {
    let a = await call('GET', 'api/v1/label/__name__/values', range);
    ok(t, a, 'metric names');
    t.same((a.body as { data: string[] }).data, ['grafana_replay_requests_total', 'grafana_replay_temperature']);

    a = await call('GET', 'api/v1/labels', { ...range, 'match[]': 'grafana_replay_requests_total' });
    ok(t, a, 'label names with match[]');
    t.same((a.body as { data: string[] }).data, ['__name__', 'instance', 'job', 'path']);
    // The same by POST (data source set to POST): Grafana retries as GET only after a 400 or 405.
    a = await call('POST', 'api/v1/labels', { ...range, 'match[]': 'grafana_replay_requests_total' });
    ok(t, a, 'label names by POST');

    a = await call('GET', 'api/v1/label/path/values', { ...range, 'match[]': '{job="app"}' });
    ok(t, a, 'label values with match[]');
    t.same((a.body as { data: string[] }).data, ['/api', '/login']);
    a = await call('GET', 'api/v1/label/room/values', { ...range, limit: '1' });
    ok(t, a, 'label values with limit');
    t.same((a.body as { data: string[] }).data, ['lab']);

    a = await call('GET', 'api/v1/series', { ...range, 'match[]': '{__name__!=""}', limit: '40000' });
    ok(t, a, 'series with limit=40000');
    const list = (a.body as { data: Array<Record<string, string>> }).data;
    t.equal(list.length, 3, 'every series');
    t.same(list[2], { __name__: 'grafana_replay_temperature', job: 'sensor', room: 'lab' });

    a = await call('GET', 'api/v1/metadata', {});
    ok(t, a, 'metadata with no parameters');
    t.same((a.body as { data: unknown }).data, {
      grafana_replay_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }],
      grafana_replay_temperature: [{ type: 'gauge', help: 'Room temperature.', unit: 'celsius' }],
    });
  });

  await t.test('exemplars', async (t) => {
    // The probe: start and end in milliseconds; exemplars are enabled only on "success".
    let a = await call('GET', 'api/v1/query_exemplars', { query: 'test', start: String(start), end: String(end) });
    ok(t, a, 'exemplar probe');
    t.same((a.body as { data: unknown }).data, [], 'no exemplars for `test`');
    a = await call('GET', 'api/v1/query_exemplars', { query: 'sum(rate(grafana_replay_requests_total[1m]))', ...range });
    ok(t, a, 'exemplar query of a panel');
    t.same((a.body as { data: unknown }).data, [
      {
        seriesLabels: { __name__: 'grafana_replay_requests_total', instance: 'app-1:8080', job: 'app', path: '/api' },
        exemplars: [{ labels: { trace_id: 'abc123' }, value: '42', timestamp: (end - STEP) / 1000 }],
      },
    ]);
  });

  await t.test('recording rules list', async (t) => {
    const a = await call('GET', 'api/v1/rules', {});
    ok(t, a, 'rules');
    t.type((a.body as { data: { groups: unknown } }).data.groups, Array, 'data.groups is a list');
  });

  await t.test('a panel: range query by POST, then the same by GET', async (t) => {
    const params = { query: 'sum by (path) (rate(grafana_replay_requests_total[1m]))', start: secs(end - 10 * STEP), end: secs(end), step: '15' };
    const post = await call('POST', 'api/v1/query_range', params);
    ok(t, post, 'range query by POST');
    const get = await call('GET', 'api/v1/query_range', params);
    ok(t, get, 'range query by GET');
    t.equal(get.text, post.text, 'GET answers as POST');
    const data = (post.body as { data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } }).data;
    t.equal(data.resultType, 'matrix');
    t.same(
      data.result.map((r) => r.metric),
      [{ path: '/api' }, { path: '/login' }],
    );
    for (const r of data.result) {
      t.equal(r.values.length, 11, `${r.metric['path']}: a point per step`);
      const want = r.metric['path'] === '/api' ? 2 : 0.5;
      t.same([...new Set(r.values.map(([, v]) => Number(Number(v).toFixed(9))))], [want], `${r.metric['path']}: rate ${want}/s`);
      t.same(r.values.map(([ts]) => ts), Array.from({ length: 11 }, (_, i) => (end - 10 * STEP + i * STEP) / 1000), 'timestamps as float seconds');
    }
    // Instant query of a stat panel.
    const inst = await call('POST', 'api/v1/query', { query: 'grafana_replay_temperature', time: secs(end) });
    ok(t, inst, 'instant query');
    t.same(inst.body, { status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'grafana_replay_temperature', job: 'sensor', room: 'lab' }, value: [end / 1000, String(20 + (40 % 5))] }] } });
  });

  await t.test('a bad query: Prometheus error envelope', async (t) => {
    const a = await call('POST', 'api/v1/query_range', { query: 'sum(rate(x[1m])', start: secs(start), end: secs(end), step: '15' });
    t.equal(a.status, 400);
    t.match(a.contentType, /^application\/json/);
    t.match(a.body, { status: 'error', errorType: 'bad_data', error: /^invalid parameter "query": / });
  });
});
