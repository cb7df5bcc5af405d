// status.test.ts checks the Prometheus-compatible status and rules endpoints
// through a real server: buildinfo as Grafana's flavour detection reads it
// (Mimir, not Thanos, ruler management off), /api/v1/status/config and
// /api/v1/status/flags, and the empty /api/v1/rules and /api/v1/alerts.

import t from 'tap';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { startTestServer } from '../testing/server.js';
import { isSemver } from './ops.js';

const srv = await startTestServer(
  { 'blocks-storage.s3.secret-access-key': 'hunter2', 'querier.timeout': 90_000, 'tenant-federation.enabled': true },
  { storage: new FakeStorage() },
);
t.teardown(() => srv.close());

const get = (path: string, tenant?: string): Promise<ClientResponse> =>
  httpRequest(srv.port, path, { headers: tenant === undefined ? {} : { 'X-Scope-OrgID': tenant } });

/**
 * grafanaFlavour follows Grafana's discoverDataSourceFeatures for a
 * Prometheus data source whose URL is `url`: buildinfo must answer; a 2xx at
 * status/flags means Thanos; features present and application "Grafana
 * Mimir" mean Mimir, whose ruler API is used only when ruler_config_api is "true".
 */
async function grafanaFlavour(url: string): Promise<{ application: string; version: string; rulerApiEnabled: boolean }> {
  const info = await get(`${url}/api/v1/status/buildinfo`);
  if (info.status !== 200) throw new Error(`buildinfo answered ${info.status}`);
  const data = jsonOf<{ data: { application?: string; version: string; features?: Record<string, unknown> } }>(info).data;
  const flags = await get(`${url}/api/v1/status/flags`);
  if (flags.status >= 200 && flags.status < 300) return { application: 'thanos', version: data.version, rulerApiEnabled: false };
  if (data.features === undefined) return { application: 'prometheus', version: data.version, rulerApiEnabled: false };
  if (data.application === 'Grafana Mimir') return { application: 'mimir', version: data.version, rulerApiEnabled: data.features.ruler_config_api === 'true' };
  return { application: 'unknown', version: data.version, rulerApiEnabled: false };
}

t.test('buildinfo in the exact shape Grafana parses', async (t) => {
  const res = await get('/prometheus/api/v1/status/buildinfo');
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/json');
  const body = jsonOf<{ status: string; data: Record<string, unknown> }>(res);
  t.same(Object.keys(body), ['status', 'data']);
  t.equal(body.status, 'success');
  t.same(Object.keys(body.data).sort(), ['application', 'branch', 'buildDate', 'buildUser', 'features', 'goVersion', 'revision', 'version']);
  for (const [k, v] of Object.entries(body.data)) if (k !== 'features') t.type(v, 'string', k);
  t.equal(body.data.application, 'Grafana Mimir');
  t.ok(isSemver(body.data.version as string), `version ${String(body.data.version)} is semver`);
  // Only what works is claimed: the ruler and Alertmanager configuration APIs; no sharding, no federated rules yet.
  t.same(body.data.features, { ruler_config_api: 'true', alertmanager_config_api: 'true', query_sharding: 'false', federated_rules: 'false' });
  t.same(await grafanaFlavour('/prometheus'), { application: 'mimir', version: body.data.version, rulerApiEnabled: true }, 'Grafana sees Mimir at the prefix, with its ruler API');
});

t.test('semver check', async (t) => {
  for (const v of ['0.1.0', '2.14.3', '1.0.0-rc.1', '1.0.0+build.5']) t.ok(isSemver(v), v);
  for (const v of ['1.0', 'v1.0.0', '01.0.0', 'unknown', '']) t.notOk(isSemver(v), v);
});

t.test('status/config: the effective YAML, secrets masked', async (t) => {
  for (const path of ['/api/v1/status/config', '/prometheus/api/v1/status/config']) {
    const res = await get(path);
    t.equal(res.status, 200, path);
    const body = jsonOf<{ status: string; data: { yaml: string } }>(res);
    t.equal(body.status, 'success');
    t.same(Object.keys(body.data), ['yaml']);
    t.match(body.data.yaml, /^multitenancy_enabled: true$/m);
    t.match(body.data.yaml, /^ {2}timeout: 1m30s$/m);
    t.match(body.data.yaml, /^ {2}enabled: true$/m, 'tenant_federation.enabled');
    t.match(body.data.yaml, /secret_access_key: "\*\*\*\*\*\*\*\*"/);
    t.notMatch(body.data.yaml, 'hunter2');
  }
});

t.test('status/flags: every flag as a string, only at the root', async (t) => {
  const res = await get('/api/v1/status/flags');
  t.equal(res.status, 200);
  const body = jsonOf<{ status: string; data: Record<string, unknown> }>(res);
  t.equal(body.status, 'success');
  t.equal(body.data['auth.multitenancy-enabled'], 'true');
  t.equal(body.data['querier.timeout'], '1m30s');
  t.equal(body.data['server.http-listen-port'], '0');
  t.equal(body.data['tenant-federation.enabled'], 'true');
  t.equal(body.data['blocks-storage.s3.secret-access-key'], '********');
  t.equal(body.data['config.file'], '');
  for (const v of Object.values(body.data)) t.type(v, 'string');
  // Grafana takes a data source answering <url>/api/v1/status/flags for Thanos; Mimir has it at the root only.
  const prefixed = await get('/prometheus/api/v1/status/flags');
  t.equal(prefixed.status, 404);
});

t.test('rules and alerts: empty until the ruler exists', async (t) => {
  let res = await get('/prometheus/api/v1/rules', 'team');
  t.equal(res.status, 200);
  t.equal(res.body, '{"status":"success","data":{"groups":[]}}');
  res = await get('/prometheus/api/v1/rules?type=record&rule_name[]=x&exclude_alerts=true&match[]=up', 'team');
  t.equal(res.body, '{"status":"success","data":{"groups":[]}}', 'Grafana asks for recording rules');
  res = await get('/prometheus/api/v1/alerts', 'team');
  t.equal(res.status, 200);
  t.equal(res.body, '{"status":"success","data":{"alerts":[]}}');

  const cases: Array<[string, string]> = [
    ['type=bogus', 'unsupported rule type "bogus"'],
    ['state=nope', 'unsupported state value "nope"'],
    ['health=meh', 'unsupported health value "meh"'],
    ['match[]={', 'error parsing match params '],
    ['exclude_alerts=maybe', 'invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing "maybe": invalid syntax'],
  ];
  for (const [query, error] of cases) {
    res = await get(`/prometheus/api/v1/rules?${query}`, 'team');
    t.equal(res.status, 400, query);
    const body = jsonOf<{ status: string; errorType: string; error: string }>(res);
    t.equal(body.errorType, 'bad_data', query);
    t.match(body.error, error, query);
  }

  for (const path of ['/prometheus/api/v1/rules', '/prometheus/api/v1/alerts']) {
    res = await get(path);
    t.equal(res.status, 401, `${path} needs a tenant`);
    t.equal(res.body, 'no org id\n');
    res = await get(path, 'a|b');
    t.equal(res.status, 400, `${path} answers for one tenant only`);
    t.same(jsonOf(res), { status: 'error', errorType: 'bad_data', error: 'no valid org id found' });
  }
  // The unprefixed paths are the ruler's and Alertmanager's configuration APIs, not these.
  t.equal((await get('/api/v1/alerts', 'team')).status, 404);
});
