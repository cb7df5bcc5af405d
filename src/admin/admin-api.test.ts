// admin-api.test.ts drives GEM's admin API through the real server (trust
// auth, so no token is needed): every example of the seed
// (../shared/seeds/gem-admin-api.txt), list envelopes, ETag / If-Match
// (428 without, 412 when stale, `*` always), validation texts, 404 and
// 409, instance limits applied as the tenant's overrides, and a restart
// that keeps everything.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { AdminClient } from '../testing/admin-client.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer, type TestServer } from '../testing/server.js';

const CLUSTER = 'metrics-enterprise-dev';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** SEED_LIMITS is the limits object of the seed's instance examples. */
const SEED_LIMITS = {
  ingestion_rate: 350000,
  ingestion_rate_strategy: 'local',
  ingestion_burst_size: 350000,
  accept_ha_samples: false,
  ha_cluster_label: 'cluster',
  ha_replica_label: '__replica__',
  ha_max_clusters: 0,
  drop_labels: null,
  max_label_name_length: 1024,
  max_label_value_length: 2048,
  max_label_names_per_series: 30,
  max_metadata_length: 1024,
  reject_old_samples: false,
  reject_old_samples_max_age: 1209600000000000,
  creation_grace_period: 600000000000,
  enforce_metadata_metric_name: true,
  enforce_metric_name: true,
  ingestion_tenant_shard_size: 0,
  max_series_per_query: 10002,
  max_samples_per_query: 100000,
  max_series_per_user: 10002,
  max_series_per_metric: 0,
  max_global_series_per_user: 300000,
  max_global_series_per_metric: 300000,
  min_chunk_length: 0,
  max_metadata_per_user: 8000,
  max_metadata_per_metric: 10,
  max_global_metadata_per_user: 0,
  max_global_metadata_per_metric: 0,
  max_chunks_per_query: 2000000,
  max_query_lookback: '0s',
  max_query_length: 0,
  max_query_parallelism: 14,
  cardinality_limit: 100000,
  max_cache_freshness: 60000000000,
  max_queriers_per_tenant: 0,
  ruler_evaluation_delay_duration: 0,
  ruler_tenant_shard_size: 0,
  ruler_max_rules_per_rule_group: 0,
  ruler_max_rule_groups_per_tenant: 0,
  store_gateway_tenant_shard_size: 0,
  compactor_blocks_retention_period: 0,
  s3_sse_type: '',
  s3_sse_kms_key_id: '',
  s3_sse_kms_encryption_context: '',
  per_tenant_override_config: '',
  per_tenant_override_period: 10000000000,
};

const adminDir = mkdtempSync(join(tmpdir(), 'admin-api-'));
t.teardown(() => rmSync(adminDir, { recursive: true, force: true }));
const start = (): Promise<TestServer> => startTestServer({ 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': adminDir });

t.test('admin API', async (t) => {
  let srv = await start();
  t.teardown(() => srv.close());
  let admin = new AdminClient(srv.port);
  let tokenSecret = '';

  await t.test('clusters: this cluster, kind cortex, no ETag', async (t) => {
    const list = await admin.call('GET', 'clusters');
    t.equal(list.status, 200);
    const body = jsonOf<{ items: Array<Record<string, unknown>>; type: string }>(list);
    t.equal(body.type, 'cluster');
    t.equal(body.items.length, 1);
    t.match(body.items[0], { name: CLUSTER, display_name: CLUSTER, kind: 'cortex', base_url: '' });
    t.match(body.items[0]!['created_at'], RFC3339);
    const one = await admin.call('GET', `clusters/${CLUSTER}`);
    t.equal(one.status, 200);
    t.same(jsonOf(one), body.items[0]);
    t.equal(one.headers.etag, undefined, 'clusters are immutable: no ETag');
    t.equal((await admin.call('GET', 'clusters/nope')).status, 404);
    t.equal((await admin.call('POST', 'clusters', { name: 'x' })).status, 405, 'clusters cannot be created');
  });

  await t.test('instances: the seed create, get, list, update and delete', async (t) => {
    // The seed's create example.
    const created = await admin.call('POST', 'instances', { name: 'metrics-enterprise-dev', display_name: 'Grafana Enterprise Metrics Dev Instance', cluster: CLUSTER });
    t.equal(created.status, 200, created.body);
    t.equal(created.headers.etag, '"1"');
    const inst = jsonOf<Record<string, unknown>>(created);
    t.match(inst, { name: 'metrics-enterprise-dev', display_name: 'Grafana Enterprise Metrics Dev Instance', status: 'active', cluster: CLUSTER });
    t.match(inst['created_at'], RFC3339);
    t.notOk('limits' in inst, 'limits omitted while unset');

    const got = await admin.call('GET', 'instances/metrics-enterprise-dev');
    t.equal(got.status, 200);
    t.equal(got.headers.etag, '"1"');
    t.same(jsonOf(got), inst);
    const list = jsonOf<{ items: unknown[]; type: string }>(await admin.call('GET', 'instances'));
    t.same(list, { items: [inst], type: 'instance' });

    t.equal((await admin.call('POST', 'instances', { name: 'metrics-enterprise-dev', cluster: CLUSTER })).status, 409, 'duplicate');
    for (const name of ['ab', 'Upper-case', 'a'.repeat(65), 'dots.not.allowed', '']) {
      const res = await admin.call('POST', 'instances', { name, cluster: CLUSTER });
      t.equal(res.status, 400, `name ${JSON.stringify(name)}`);
      t.match(res.body, name === '' ? /instance name is required/ : /between 3 and 64 characters/);
    }
    t.equal((await admin.call('POST', 'instances', '{not json')).status, 400);
    const badCluster = await admin.call('POST', 'instances', { name: 'other-cluster', cluster: 'elsewhere' });
    t.equal(badCluster.status, 400);
    t.match(badCluster.body, /cluster "elsewhere" not found/);
    const badStatus = await admin.call('POST', 'instances', { name: 'bad-status', status: 'sleeping' });
    t.equal(badStatus.status, 400);
    t.match(badStatus.body, /invalid status "sleeping"/);

    // The seed's update example, with its limits.
    const path = 'instances/metrics-enterprise-dev';
    const update = { name: 'renamed-ignored', created_at: '2000-01-01T00:00:00Z', display_name: 'Grafana Enterprise Metrics Dev Instance', cluster: CLUSTER, limits: SEED_LIMITS };
    const noMatch = await admin.call('PUT', path, update);
    t.equal(noMatch.status, 428, 'If-Match is required');
    t.match(noMatch.body, /If-Match/);
    const stale = await admin.call('PUT', path, update, { 'If-Match': '"7"' });
    t.equal(stale.status, 412, 'a stale version');
    t.match(stale.body, /current version "1"/);
    const ok = await admin.call('PUT', path, update, { 'If-Match': '"1"' });
    t.equal(ok.status, 200, ok.body);
    t.equal(ok.headers.etag, '"2"', 'the version increases');
    const updated = jsonOf<Record<string, unknown>>(ok);
    t.equal(updated['name'], 'metrics-enterprise-dev', 'the body name is ignored');
    t.equal(updated['created_at'], inst['created_at'], 'created_at is kept');
    t.same(updated['limits'], SEED_LIMITS, 'limits shown as given');
    const star = await admin.call('PUT', path, { ...update, display_name: 'Dev' }, { 'If-Match': '*' });
    t.equal(star.status, 200);
    t.equal(star.headers.etag, '"3"');
    t.equal(jsonOf<Record<string, unknown>>(star)['display_name'], 'Dev');
    t.equal((await admin.call('PUT', 'instances/nope', update, { 'If-Match': '*' })).status, 404);
    const badLimits = await admin.call('PUT', path, { limits: { ingestion_rate: 'fast' } }, { 'If-Match': '*' });
    t.equal(badLimits.status, 400);
    t.match(badLimits.body, /invalid limits: .*ingestion_rate/);
  });

  await t.test('instance limits are the tenant overrides, live', async (t) => {
    const rc = await httpRequest(srv.port, '/runtime_config');
    t.equal(rc.status, 200);
    t.match(rc.body, /metrics-enterprise-dev:\n(\s+.*\n)*?\s+ingestion_rate: 350000\n/);
    const diff = await httpRequest(srv.port, '/runtime_config?mode=diff');
    t.match(diff.body, /ingestion_rate: 350000/);
    const ul = await httpRequest(srv.port, '/api/v1/user_limits', { headers: { 'X-Scope-OrgID': 'metrics-enterprise-dev' } });
    t.equal(ul.status, 200);
    t.match(jsonOf(ul), { ingestion_rate: 350000, ingestion_burst_size: 350000, max_global_series_per_user: 300000, max_global_series_per_metric: 300000 });
    const other = await httpRequest(srv.port, '/api/v1/user_limits', { headers: { 'X-Scope-OrgID': 'someone-else' } });
    t.not(jsonOf<Record<string, unknown>>(other)['ingestion_rate'], 350000, 'other tenants keep the defaults');
    // A change applies at once.
    const res = await admin.call('PUT', 'instances/metrics-enterprise-dev', { limits: { ingestion_rate: 1234 } }, { 'If-Match': '*' });
    t.equal(res.status, 200);
    const after = await httpRequest(srv.port, '/api/v1/user_limits', { headers: { 'X-Scope-OrgID': 'metrics-enterprise-dev' } });
    t.equal(jsonOf<Record<string, unknown>>(after)['ingestion_rate'], 1234);
  });

  await t.test('inactive instances refuse reads and writes', async (t) => {
    t.equal((await admin.call('POST', 'instances', { name: 'sleepy', status: 'inactive' })).status, 200);
    const read = await httpRequest(srv.port, '/prometheus/api/v1/labels', { headers: { 'X-Scope-OrgID': 'sleepy' } });
    t.equal(read.status, 403);
    t.match(read.body, /instance "sleepy" is inactive/);
    const write = await httpRequest(srv.port, '/api/v1/push', { headers: { 'X-Scope-OrgID': 'sleepy' }, body: Buffer.alloc(0) });
    t.equal(write.status, 403);
    const woke = await admin.call('PUT', 'instances/sleepy', { status: 'active' }, { 'If-Match': '"1"' });
    t.equal(woke.status, 200);
    t.equal((await httpRequest(srv.port, '/prometheus/api/v1/labels', { headers: { 'X-Scope-OrgID': 'sleepy' } })).status, 200);
  });

  await t.test('access policies', async (t) => {
    const body = {
      name: 'dev-read-write',
      display_name: 'Dev read write',
      realms: [
        { instance: 'metrics-enterprise-dev', cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'job', value: 'grafana-labs' }, { type: 'NEQ', name: 'role', value: 'software-engineer' }] }] },
        { instance: '*', cluster: CLUSTER },
      ],
      expiration: '2099-01-01T00:00:00Z',
      scopes: ['metrics:read', 'metrics:write'],
    };
    const res = await admin.call('POST', 'accesspolicies', body);
    t.equal(res.status, 200, res.body);
    t.equal(res.headers.etag, '"1"');
    const policy = jsonOf<Record<string, unknown>>(res);
    t.match(policy, { name: 'dev-read-write', display_name: 'Dev read write', realms: body.realms, scopes: body.scopes, expiration: '2099-01-01T00:00:00.000Z' });
    t.match(policy['created_at'], RFC3339);
    t.same(jsonOf(await admin.call('GET', 'accesspolicies')), { items: [policy], type: 'key' });
    t.equal((await admin.call('POST', 'accesspolicies', body)).status, 409);

    const bad = async (patch: Record<string, unknown>, want: RegExp): Promise<void> => {
      const r = await admin.call('POST', 'accesspolicies', { ...body, name: 'bad-policy', ...patch });
      t.equal(r.status, 400, JSON.stringify(patch));
      t.match(r.body, want);
    };
    await bad({ scopes: ['metrics:read', 'root'] }, /invalid scope "root"/);
    await bad({ realms: [{ instance: 'no-such-instance', cluster: CLUSTER }] }, /instance "no-such-instance" not found/);
    await bad({ realms: [{ instance: '*', cluster: 'elsewhere' }] }, /cluster "elsewhere" not found/);
    await bad({ realms: [{ instance: '*', cluster: CLUSTER, label_policies: [{ selector: [{ type: 'LIKE', name: 'a', value: 'b' }] }] }] }, /expected one of EQ, NEQ, RE, NRE/);
    await bad({ realms: [{ instance: '*', cluster: CLUSTER, label_policies: [{ selector: [{ type: 'RE', name: 'a', value: '(' }] }] }] }, /label_policies\[0\]\.selector\[0\]\.value/);
    await bad({ expiration: 'tomorrow' }, /invalid expiration "tomorrow": expected an RFC 3339 time/);

    // Only display_name, realms and scopes are updatable.
    const upd = await admin.call(
      'PUT',
      'accesspolicies/dev-read-write',
      { name: 'other', display_name: 'Renamed', expiration: '2000-01-01T00:00:00Z', scopes: ['metrics:read'], realms: [{ instance: '*', cluster: CLUSTER }] },
      { 'If-Match': '"1"' },
    );
    t.equal(upd.status, 200, upd.body);
    t.equal(upd.headers.etag, '"2"');
    t.match(jsonOf(upd), { name: 'dev-read-write', display_name: 'Renamed', expiration: '2099-01-01T00:00:00.000Z', scopes: ['metrics:read'], realms: [{ instance: '*', cluster: CLUSTER }] });
    t.equal((await admin.call('GET', 'accesspolicies/dev-read-write')).headers.etag, '"2"');
    t.equal((await admin.call('DELETE', 'accesspolicies/dev-read-write')).status, 428);
    t.equal((await admin.call('DELETE', 'accesspolicies/dev-read-write', undefined, { 'If-Match': '"1"' })).status, 412);
    // The seed's delete example (version quoted).
    t.equal((await admin.call('DELETE', 'accesspolicies/dev-read-write', undefined, { 'If-Match': '"2"' })).status, 200);
    t.equal((await admin.call('GET', 'accesspolicies/dev-read-write')).status, 404);
    t.equal((await admin.call('DELETE', 'accesspolicies/dev-read-write', undefined, { 'If-Match': '*' })).status, 404);
  });

  await t.test('tokens: the secret is returned once and stored hashed', async (t) => {
    t.equal((await admin.call('POST', 'accesspolicies', { name: 'reader', scopes: ['metrics:read'], realms: [{ instance: '*', cluster: CLUSTER }] })).status, 200);
    const res = await admin.call('POST', 'tokens', { name: 'reader-token', display_name: 'Reader', access_policy: 'reader', expiration: '2099-01-01T00:00:00Z' });
    t.equal(res.status, 200, res.body);
    t.equal(res.headers.etag, '"1"');
    const tok = jsonOf<Record<string, string>>(res);
    t.match(tok, { name: 'reader-token', display_name: 'Reader', access_policy: 'reader', expiration: '2099-01-01T00:00:00.000Z' });
    t.ok(typeof tok['token'] === 'string' && tok['token'].length > 40, 'the token string');
    tokenSecret = tok['token']!;
    const got = await admin.call('GET', 'tokens/reader-token');
    t.equal(got.headers.etag, '"1"');
    t.notOk('token' in jsonOf(got), 'never shown again');
    const list = jsonOf<{ items: Array<Record<string, unknown>>; type: string }>(await admin.call('GET', 'tokens'));
    t.equal(list.type, 'key');
    t.same(list.items.map((i) => i['name']), ['reader-token']);
    t.notOk(JSON.stringify(list).includes(tokenSecret));
    t.equal((await admin.call('POST', 'tokens', { name: 'reader-token', access_policy: 'reader' })).status, 409);
    const noPolicy = await admin.call('POST', 'tokens', { name: 'orphan', access_policy: 'nope' });
    t.equal(noPolicy.status, 400);
    t.match(noPolicy.body, /access policy "nope" not found/);
    t.equal((await admin.call('POST', 'tokens', { name: 'orphan' })).status, 400);
    // Nothing on disk, in /config or in the status API holds the secret.
    const files = readdirSync(join(adminDir, 'gem-admin', 'tokens'));
    t.same(files, ['reader-token.json']);
    const stored = readFileSync(join(adminDir, 'gem-admin', 'tokens', 'reader-token.json'), 'utf8');
    t.notOk(stored.includes(tokenSecret) || stored.includes(Buffer.from(tokenSecret, 'base64').toString().split(':')[1]!), 'only a salted hash is stored');
    for (const p of ['/config', '/api/v1/status/config']) t.notOk((await httpRequest(srv.port, p)).body.includes(tokenSecret), p);
  });

  await t.test('licenses and features', async (t) => {
    const lic = jsonOf<{ items: Array<{ name: string; created_at: string; token: Record<string, unknown> }>; type: string }>(await admin.call('GET', 'licenses'));
    t.equal(lic.type, 'license');
    t.equal(lic.items.length, 1);
    t.match(lic.items[0]!.token, { sub: CLUSTER, exp: Number, iat: Number, prod: Array, lid: String, max_users: Number });
    t.match(lic.items[0]!.created_at, RFC3339);
    const f = jsonOf<{ product: string; product_version: string; features: Record<string, string> }>(await admin.call('GET', 'features'));
    t.equal(f.product, 'GEM');
    t.match(f.product_version, /^\d+\.\d+/);
    t.equal(f.features['lbac'], 'v2');
  });

  await t.test('a restart keeps everything', async (t) => {
    const before = await Promise.all(['clusters', 'instances', 'accesspolicies', 'tokens'].map(async (k) => jsonOf(await admin.call('GET', k))));
    await srv.close();
    srv = await start();
    admin = new AdminClient(srv.port);
    const after = await Promise.all(['clusters', 'instances', 'accesspolicies', 'tokens'].map(async (k) => jsonOf(await admin.call('GET', k))));
    t.same(after, before);
    t.equal((await admin.call('GET', 'instances/metrics-enterprise-dev')).headers.etag, '"4"', 'versions kept');
    const ul = await httpRequest(srv.port, '/api/v1/user_limits', { headers: { 'X-Scope-OrgID': 'metrics-enterprise-dev' } });
    t.equal(jsonOf<Record<string, unknown>>(ul)['ingestion_rate'], 1234, 'limits applied again');
    // Deleting the instance drops its overrides.
    t.equal((await admin.call('DELETE', 'instances/metrics-enterprise-dev', undefined, { 'If-Match': '"4"' })).status, 200);
    const gone = await httpRequest(srv.port, '/api/v1/user_limits', { headers: { 'X-Scope-OrgID': 'metrics-enterprise-dev' } });
    t.not(jsonOf<Record<string, unknown>>(gone)['ingestion_rate'], 1234);
  });
});
