// ops.test.ts checks the operational endpoints and the API wiring through a
// real server backed by a fake storage: /, /ready, /config, /services,
// buildinfo, /metrics, 404, multitenancy off, and parameter handling.

import t from 'tap';
import snappy from '@napi-rs/snappy';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { startTestServer } from '../testing/server.js';

const storage = new FakeStorage();
const srv = await startTestServer({ 'auth.multitenancy-enabled': false, 'validation.max-length-label-name': 99 }, { storage });
t.teardown(() => srv.close());

t.test('index page', async (t) => {
  const res = await httpRequest(srv.port, '/');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], 'text/html');
  t.match(res.body, /^<!DOCTYPE html>\n<html lang="en">/);
  t.match(res.body, '<title>Grafana Mimir</title>');
  for (const href of ['/config', '/config?mode=diff', '/config?mode=defaults', '/services', '/ready', '/metrics', '/api/v1/status/buildinfo']) {
    t.match(res.body, `href="${href}"`, href);
  }
});

t.test('ready and services', async (t) => {
  const ready = await httpRequest(srv.port, '/ready');
  t.equal(ready.status, 200);
  t.equal(ready.body, 'ready\n');
  const services = await httpRequest(srv.port, '/services');
  t.equal(services.status, 200);
  t.match(services.body, '<td>distributor</td><td>Running</td>');
  const text = await httpRequest(srv.port, '/services', { headers: { Accept: 'text/plain' } });
  t.match(text.body, 'ingester: Running');
});

t.test('config modes', async (t) => {
  let res = await httpRequest(srv.port, '/config');
  t.equal(res.status, 200);
  t.match(res.body, 'multitenancy_enabled: false');
  t.match(res.body, 'max_label_name_length: 99');
  res = await httpRequest(srv.port, '/config?mode=diff');
  t.match(res.body, 'max_label_name_length: 99');
  t.notMatch(res.body, 'max_label_value_length');
  res = await httpRequest(srv.port, '/config?mode=defaults');
  t.match(res.body, 'max_label_name_length: 1024');
  t.match(res.body, 'http_listen_port: 8080');
  res = await httpRequest(srv.port, '/config?mode=bogus');
  t.equal(res.status, 400);
  t.match(res.body, 'unknown value for mode query parameter: bogus');
});

t.test('buildinfo as Mimir', async (t) => {
  for (const path of ['/api/v1/status/buildinfo', '/prometheus/api/v1/status/buildinfo']) {
    const res = await httpRequest(srv.port, path);
    t.equal(res.status, 200);
    const body = jsonOf<{ status: string; data: Record<string, unknown> & { features: Record<string, unknown> } }>(res);
    t.equal(body.status, 'success');
    t.equal(body.data.application, 'Grafana Mimir');
    t.match(body.data.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    for (const k of ['revision', 'branch', 'goVersion', 'buildUser', 'buildDate']) t.type(body.data[k], 'string', k);
    t.equal(body.data.features.ruler_config_api, 'true');
    for (const v of Object.values(body.data.features)) t.type(v, 'string');
  }
});

t.test('multitenancy disabled uses anonymous; push runs inline on the fake', async (t) => {
  const res = await httpRequest(srv.port, '/api/v1/push', { body: snappy.compressSync(Buffer.from('abc')) });
  t.equal(res.status, 200);
  t.equal(res.body, '');
  const last = storage.ingests.at(-1)!;
  t.equal(last.tenant, 'anonymous');
  t.equal(last.bytes, 3);
  t.equal(last.limits.maxLabelNameLength, 99);
  t.ok(Math.abs(last.limits.nowMs - Date.now()) < 10_000);
  storage.result = { ...storage.result, discarded: ['label_invalid', 1], errorStatus: 400, errorMessage: 'received a series with an invalid label' };
  const rejected = await httpRequest(srv.port, '/api/prom/push', { body: snappy.compressSync(Buffer.from('abc')) });
  t.equal(rejected.status, 400);
  t.equal(rejected.body, 'received a series with an invalid label\n');
});

t.test('metadata parameters reach the storage', async (t) => {
  let res = await httpRequest(srv.port, '/api/v1/series?match[]=up&match[]={a=~"b.*"}&start=1.5&end=2026-01-02T03:04:05.678Z&limit=2');
  t.equal(res.status, 200);
  t.same(jsonOf(res), { status: 'success', data: [{ __name__: 'a', s: 'x"}' }, { __name__: 'b' }], warnings: ['results truncated due to limit'] });
  const read = storage.reads.at(-1)!;
  t.equal(read.tenant, 'anonymous');
  t.equal(read.mint, 1500);
  t.equal(read.maxt, Date.parse('2026-01-02T03:04:05.678Z'));
  t.equal(read.limit, 3, 'asks for one more than the limit');
  t.same(read.sets, [[{ name: '__name__', type: 0, value: 'up' }], [{ name: 'a', type: 2, value: 'b.*' }]]);
  res = await httpRequest(srv.port, '/prometheus/api/v1/label/U__my_2e_label/values');
  t.same(jsonOf(res).data, ['v1', 'v2']);
  t.equal(storage.reads.at(-1)!.op, 'values:my.label', 'U__ escaped names are decoded');
  t.equal(storage.reads.at(-1)!.limit, 0, 'no limit');
  res = await httpRequest(srv.port, '/api/v1/labels?limit=1');
  t.same(jsonOf(res), { status: 'success', data: ['__name__'], warnings: ['results truncated due to limit'] });
});

t.test('metrics', async (t) => {
  const res = await httpRequest(srv.port, '/metrics');
  t.equal(res.status, 200);
  t.match(res.body, 'cortex_ingester_memory_series 7');
  t.match(res.body, 'cortex_ingester_memory_users 1');
  t.match(res.body, 'cortex_distributor_samples_in_total{user="anonymous"} 4');
  t.match(res.body, 'cortex_discarded_samples_total{reason="label_invalid",user="anonymous"} 1');
  t.match(res.body, 'cortex_request_duration_seconds_bucket{le="0.005",method="GET",route="api_v1_series",status_code="200",ws="false"}');
});

t.test('unknown paths', async (t) => {
  const res = await httpRequest(srv.port, '/no/such/path');
  t.equal(res.status, 404);
});
