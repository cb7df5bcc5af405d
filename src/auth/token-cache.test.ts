// token-cache.test.ts proves that what enterprise auth remembers per set of
// credentials (-auth.token-cache-ttl, here a minute so that no periodic sync
// of the admin state hides a stale entry) is forgotten as soon as the admin
// API changes or deletes the token, its access policy or the instance, and
// never outlives the token's own expiration; and that series added between
// two reads under a label policy are seen by the second.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTokengen } from '../admin/tokengen.js';
import { defaultConfig } from '../config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { AdminClient, basicAuth } from '../testing/admin-client.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();

const CLUSTER = 'cache-cluster';
const A = 'cache-a';
const base = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;

t.test('cached auth decisions follow the admin API', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'token-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': join(dir, 'admin') };
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'tokengen.token-file': join(dir, 'admin-token'), 'log.level': 'warn' }), () => undefined);
  const srv = await startTestServer({ ...flags, 'auth.type': 'enterprise', 'auth.token-cache-ttl': 60_000 });
  t.teardown(() => srv.close());
  const admin = new AdminClient(srv.port, adminToken);
  await admin.instance(A);
  await admin.policy('writer', ['metrics:write'], [{ instance: A, cluster: CLUSTER }]);
  const writer = await admin.token('writer-token', 'writer');
  await admin.policy('reader', ['metrics:read'], [{ instance: A, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }] }]);
  const reader = await admin.token('reader-token', 'reader');

  const push = (series: TimeSeriesInput[]): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, Authorization: basicAuth(A, writer) }, body: encodeWriteRequestSnappy(series) });
  const series = (env: string, team: string): TimeSeriesInput => ({
    labels: [['__name__', 'cache_up'], ['env', env], ['team', team]],
    samples: [[base, 1], [base + 60_000, 1]],
  });
  const query = (token: string, expr: string): Promise<ClientResponse> =>
    httpRequest(srv.port, `/prometheus/api/v1/query?${new URLSearchParams({ query: expr, time: String(base / 1000 + 90) })}`, { headers: { Authorization: basicAuth(A, token) } });
  const count = async (token: string): Promise<string[]> => {
    const res = await query(token, 'count(cache_up)');
    t.equal(res.status, 200, res.body);
    return jsonOf<{ data: { result: Array<{ value: [number, string] }> } }>(res).data.result.map((r) => r.value[1]);
  };
  const teams = async (token: string): Promise<string[]> => {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/label/team/values?${new URLSearchParams({ start: String(base / 1000), end: String(base / 1000 + 120) })}`, {
      headers: { Authorization: basicAuth(A, token) },
    });
    t.equal(res.status, 200, res.body);
    return jsonOf<{ data: string[] }>(res).data;
  };

  t.equal((await push([series('prod', 'a'), series('dev', 'b')])).status, 200);

  await t.test('series added between two reads are seen by the second', async (t) => {
    t.same(await count(reader), ['1']);
    t.same(await teams(reader), ['a']);
    t.equal((await push([series('prod', 'c')])).status, 200);
    t.same(await count(reader), ['2']);
    t.same(await teams(reader), ['a', 'c']);
    t.equal((await push([series('dev', 'd'), series('prod', 'e')])).status, 200);
    t.same(await teams(reader), ['a', 'c', 'e']);
  });

  await t.test('a policy update takes effect at once: label policies and scopes', async (t) => {
    const put = (body: Record<string, unknown>): Promise<ClientResponse> => admin.call('PUT', 'accesspolicies/reader', body, { 'If-Match': '*' });
    t.equal((await put({ realms: [{ instance: A, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'dev' }] }] }] })).status, 200);
    t.same(await teams(reader), ['b', 'd'], 'the new label policy');
    t.equal((await put({ scopes: ['metrics:write'] })).status, 200);
    t.equal((await query(reader, 'count(cache_up)')).status, 403, 'scope removed');
    t.equal((await put({ scopes: ['metrics:read'], realms: [{ instance: A, cluster: CLUSTER }] })).status, 200);
    t.same(await count(reader), ['5'], 'no label policy any more');
  });

  await t.test('an instance made inactive is refused at once', async (t) => {
    t.equal((await admin.call('PUT', `instances/${A}`, { status: 'inactive' }, { 'If-Match': '*' })).status, 200);
    t.equal((await query(reader, 'count(cache_up)')).status, 403);
    t.equal((await admin.call('PUT', `instances/${A}`, { status: 'active' }, { 'If-Match': '*' })).status, 200);
    t.same(await count(reader), ['5']);
  });

  await t.test('deleting the token or its policy takes effect at once', async (t) => {
    await admin.policy('temp', ['metrics:read'], [{ instance: A, cluster: CLUSTER }]);
    const one = await admin.token('temp-one', 'temp');
    const two = await admin.token('temp-two', 'temp');
    t.same(await count(one), ['5']);
    t.same(await count(two), ['5']);
    t.equal((await admin.call('DELETE', 'tokens/temp-one', undefined, { 'If-Match': '*' })).status, 200);
    t.equal((await query(one, 'count(cache_up)')).status, 401, 'token deleted');
    t.same(await count(two), ['5'], 'the other token still works');
    t.equal((await admin.call('DELETE', 'accesspolicies/temp', undefined, { 'If-Match': '*' })).status, 200);
    t.equal((await query(two, 'count(cache_up)')).status, 401, 'policy deleted');
  });

  await t.test('a cached decision ends with the token expiration', async (t) => {
    const expiresAt = Date.now() + 1500;
    const short = await admin.token('short', 'reader', { expiration: new Date(expiresAt).toISOString() });
    t.same(await count(short), ['5']);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
    const res = await query(short, 'count(cache_up)');
    t.equal(res.status, 401, `expired while cached: ${res.body}`);
    const fresh = await httpRequest(srv.port, `/prometheus/api/v1/query?query=up`, { headers: { Authorization: basicAuth(A, short) } });
    t.equal(fresh.status, 401, `another query with the expired token: ${fresh.body}`);
  });
});
