// grafana-replay-enterprise.test.ts (peer suite) replays the requests of
// Grafana's Prometheus data source (see grafana-replay.test.ts and
// /work/shared/CLIENTS.md) against -auth.type=enterprise, with the data
// source's basic auth set to the instance and a GEM token: the health check,
// the editor look-ups, the exemplar probe, the rules list and a panel's
// range query all succeed; with a token limited by a label policy every
// answer holds only the visible series; without credentials or with a wrong
// password the health check fails with 401.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTokengen } from '../../src/admin/tokengen.js';
import { defaultConfig } from '../../src/config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { AdminClient, basicAuth } from '../../src/testing/admin-client.js';
import { startTestServer } from '../../src/testing/server.js';

const CLUSTER = 'grafana-cluster';
const INSTANCE = `grafana-inst-${Date.now().toString(36)}`;
const STEP = 15_000;
const end = Math.floor(Date.now() / STEP) * STEP;
const start = end - 40 * STEP;

function series(): TimeSeriesInput[] {
  return ['prod', 'dev'].map((env, i) => ({
    labels: [['__name__', 'grafana_ent_requests_total'], ['env', env], ['job', 'app']] as Array<[string, string]>,
    samples: Array.from({ length: 41 }, (_, k) => [start + k * STEP, (k * STEP * (i + 1)) / 1000] as [number, number]),
    exemplars: [{ labels: [['trace_id', `trace-${env}`]], value: 1, timestampMs: end - STEP }],
  }));
}

t.test("Grafana's data source with basic auth tokens", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grafana-ent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': join(dir, 'admin') };
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'log.level': 'warn' }), () => undefined);
  const ours = await startTestServer({ ...flags, 'auth.type': 'enterprise', 'ingester.max-global-exemplars-per-user': 100 });
  t.teardown(() => ours.close());
  const admin = new AdminClient(ours.port, adminToken);
  await admin.instance(INSTANCE);
  await admin.policy('grafana-ds', ['metrics:read', 'metrics:write', 'rules:read'], [{ instance: INSTANCE, cluster: CLUSTER }]);
  await admin.policy('grafana-prod', ['metrics:read', 'rules:read'], [{ instance: INSTANCE, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }] }]);
  const full = await admin.token('grafana-ds-token', 'grafana-ds');
  const prod = await admin.token('grafana-prod-token', 'grafana-prod');
  const push = await fetch(`http://127.0.0.1:${ours.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, Authorization: basicAuth(INSTANCE, full) },
    body: new Uint8Array(encodeWriteRequestSnappy(series(), [{ type: 1, metricFamilyName: 'grafana_ent_requests_total', help: 'Requests.', unit: '' }])),
  });
  t.equal(push.status, 200, await push.text());

  const base = `http://127.0.0.1:${ours.port}/prometheus`;
  const call = async (token: string | undefined, method: 'GET' | 'POST', path: string, params: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> => {
    const headers: Record<string, string> = { 'User-Agent': 'Grafana/11.3.0', Accept: 'application/json, text/plain, */*', 'X-Grafana-Org-Id': '1' };
    if (token !== undefined) headers['Authorization'] = basicAuth(INSTANCE, token);
    const qs = new URLSearchParams(params);
    const res =
      method === 'GET'
        ? await fetch(`${base}/${path}?${qs}`, { headers })
        : await fetch(`${base}/${path}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: qs.toString() });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // plain text (auth errors)
    }
    return { status: res.status, body, headers: res.headers };
  };
  const range = { start: String(start / 1000), end: String(end / 1000) };

  await t.test('health check, look-ups, exemplars, rules and a panel with the full token', async (t) => {
    const health = await call(full, 'POST', 'api/v1/query', { query: '1+1', time: '4' });
    t.same(health.body, { status: 'success', data: { resultType: 'scalar', result: [4, '2'] } });
    t.same((await call(full, 'GET', 'api/v1/label/__name__/values', range)).body.data, ['grafana_ent_requests_total']);
    t.same((await call(full, 'GET', 'api/v1/label/env/values', range)).body.data, ['dev', 'prod']);
    t.equal((await call(full, 'GET', 'api/v1/series', { ...range, 'match[]': '{__name__!=""}', limit: '40000' })).body.data.length, 2);
    t.same((await call(full, 'GET', 'api/v1/query_exemplars', { query: 'test', start: String(start), end: String(end) })).body, { status: 'success', data: [] });
    t.equal((await call(full, 'GET', 'api/v1/rules', {})).status, 200);
    const panel = await call(full, 'POST', 'api/v1/query_range', { query: 'sum(rate(grafana_ent_requests_total[1m]))', start: String((end - 4 * STEP) / 1000), end: String(end / 1000), step: '15' });
    t.same(panel.body.data.result[0].values.map((v: [number, string]) => Number(Number(v[1]).toFixed(9))), [3, 3, 3, 3, 3]);
  });

  await t.test('a data source whose token has a label policy sees only its series', async (t) => {
    t.same((await call(prod, 'GET', 'api/v1/label/env/values', range)).body.data, ['prod']);
    t.same((await call(prod, 'GET', 'api/v1/series', { ...range, 'match[]': '{__name__!=""}', limit: '40000' })).body.data, [{ __name__: 'grafana_ent_requests_total', env: 'prod', job: 'app' }]);
    const ex = await call(prod, 'GET', 'api/v1/query_exemplars', { query: 'grafana_ent_requests_total', ...range });
    t.same(ex.body.data.map((s: { seriesLabels: Record<string, string> }) => s.seriesLabels['env']), ['prod']);
    const panel = await call(prod, 'POST', 'api/v1/query_range', { query: 'sum(rate(grafana_ent_requests_total[1m]))', start: String((end - 4 * STEP) / 1000), end: String(end / 1000), step: '15' });
    t.same(panel.body.data.result[0].values.map((v: [number, string]) => Number(Number(v[1]).toFixed(9))), [1, 1, 1, 1, 1]);
  });

  await t.test('the health check fails without credentials or with a wrong password', async (t) => {
    const none = await call(undefined, 'POST', 'api/v1/query', { query: '1+1', time: '4' });
    t.equal(none.status, 401);
    t.match(none.headers.get('www-authenticate'), /^Basic realm=/);
    t.equal((await call('not-a-token', 'POST', 'api/v1/query', { query: '1+1', time: '4' })).status, 401);
  });
});
