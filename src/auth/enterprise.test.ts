// enterprise.test.ts drives -auth.type=enterprise through the real server
// and native storage: tokengen's admin token, the admin API behind the
// admin scope, and the security cases of data requests (no credentials, a
// wrong password, another instance's token, an expired token, a token
// deleted a moment ago or elsewhere, the `*` realm, a metrics token on the
// admin API, X-Scope-OrgID smuggled alongside Basic auth, missing scopes,
// federated reads needing a realm per instance), then label-based access
// control on every read API (PromQL incl. absent/count/subqueries, series,
// labels, label values, metadata, exemplars, remote read, cardinality).

import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTokengen } from '../admin/tokengen.js';
import { defaultConfig } from '../config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { AdminClient, basicAuth } from '../testing/admin-client.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { decodeSamplesBody, postRemoteRead, ReadMatchType, ResponseType } from '../../test/peer/lib/remote-read.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();

const CLUSTER = 'ent-cluster';
const run = Date.now().toString(36);
const A = `ent-a-${run}`;
const B = `ent-b-${run}`;
const base = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

t.test('enterprise auth', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'enterprise-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const adminDir = join(dir, 'admin');
  const tokenFile = join(dir, 'admin-token');
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': adminDir };

  // tokengen: an admin token, printed once and written to a file it will not overwrite.
  const printed: string[] = [];
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'tokengen.token-file': tokenFile, 'log.level': 'warn' }), (l) => printed.push(l));
  t.equal(readFileSync(tokenFile, 'utf8'), adminToken + '\n');
  t.same(printed, [`Token created: ${adminToken}\n`]);
  await t.rejects(runTokengen(defaultConfig({ ...flags, 'tokengen.token-file': tokenFile, 'log.level': 'warn' }), () => undefined), /EEXIST/, 'never overwrites the token file');

  const srv = await startTestServer({ ...flags, 'auth.type': 'enterprise', 'auth.token-cache-ttl': 300, 'tenant-federation.enabled': true, 'querier.cardinality-analysis-enabled': true });
  t.teardown(() => srv.close());
  const admin = new AdminClient(srv.port, adminToken);
  await admin.instance(A);
  await admin.instance(B);
  await admin.policy('a-rw', ['metrics:read', 'metrics:write'], [{ instance: A, cluster: CLUSTER }]);
  await admin.policy('a-read', ['metrics:read'], [{ instance: A, cluster: CLUSTER }]);
  await admin.policy('all-rw', ['metrics:read', 'metrics:write'], [{ instance: '*', cluster: CLUSTER }]);
  await admin.policy('other-cluster', ['metrics:read'], [{ instance: '*', cluster: CLUSTER }]);
  const aRw = await admin.token('a-rw-token', 'a-rw');
  const aRead = await admin.token('a-read-token', 'a-read');
  const all = await admin.token('all-token', 'all-rw');
  const expired = await admin.token('old-token', 'a-rw', { expiration: '2001-01-01T00:00:00Z' });

  const push = (auth: Record<string, string>, series: TimeSeriesInput[]): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, ...auth }, body: encodeWriteRequestSnappy(series) });
  const sample = (name: string, labels: Array<[string, string]> = [], v = 1): TimeSeriesInput => ({ labels: [['__name__', name], ...labels], samples: [[base, v], [base + 60_000, v + 1]] });
  const query = (auth: Record<string, string>, expr: string): Promise<ClientResponse> =>
    httpRequest(srv.port, `/prometheus/api/v1/query?${q({ query: expr, time: String(base / 1000 + 90) })}`, { headers: auth });
  const basic = (user: string, token: string): Record<string, string> => ({ Authorization: basicAuth(user, token) });
  const values = (res: ClientResponse): string[] => jsonOf<{ data: { result: Array<{ value: [number, string] }> } }>(res).data.result.map((r) => r.value[1]);

  await t.test('admin API needs the admin scope', async (t) => {
    const none = await httpRequest(srv.port, '/admin/api/v1/instances');
    t.equal(none.status, 401);
    t.equal(none.headers['www-authenticate'], 'Basic realm="Grafana Enterprise Metrics"');
    t.equal((await httpRequest(srv.port, '/admin/api/v1/instances', { headers: basic('', 'garbage') })).status, 401);
    const metrics = await httpRequest(srv.port, '/admin/api/v1/instances', { headers: basic('', all) });
    t.equal(metrics.status, 403, 'a metrics token');
    t.match(metrics.body, /does not have the scope admin/);
    t.equal((await httpRequest(srv.port, '/admin/api/v1/instances', { headers: { Authorization: `Bearer ${adminToken}` } })).status, 200, 'Bearer works too');
    t.equal((await admin.call('GET', 'instances')).status, 200);
  });

  await t.test('writes and reads with Basic auth', async (t) => {
    t.equal((await push(basic(A, aRw), [sample('ent_up', [['job', 'a']])])).status, 200);
    t.same(values(await query(basic(A, aRw), 'ent_up')), ['2']);
    t.same(values(await query(basic(A, aRead), 'ent_up')), ['2'], 'a read-only token reads');
    const ro = await push(basic(A, aRead), [sample('ent_up')]);
    t.equal(ro.status, 403, 'a read-only token cannot write');
    t.match(ro.body, /does not have the scope metrics:write/);
  });

  await t.test('refusals', async (t) => {
    const noCreds = await query({}, 'ent_up');
    t.equal(noCreds.status, 401);
    t.equal(noCreds.headers['www-authenticate'], 'Basic realm="Grafana Enterprise Metrics"');
    t.notOk(noCreds.body.startsWith('{'), 'plain text, as the auth middleware');
    const noHeaderOnly = await query({ 'X-Scope-OrgID': A }, 'ent_up');
    t.equal(noHeaderOnly.status, 401, 'X-Scope-OrgID alone is not enough');
    const wrong = await query(basic(A, aRw.slice(0, -4) + 'AAAA'), 'ent_up');
    t.equal(wrong.status, 401, 'wrong password');
    t.match(wrong.body, /invalid token/);
    t.notOk(wrong.body.includes(aRw.slice(0, 20)), 'the token is not echoed');
    const otherInstance = await query(basic(B, aRw), 'ent_up');
    t.equal(otherInstance.status, 403, "instance A's token on B");
    t.match(otherInstance.body, new RegExp(`no realm for instance "${B}"`));
    t.equal((await push(basic(B, aRw), [sample('ent_up')])).status, 403);
    const old = await query(basic(A, expired), 'ent_up');
    t.equal(old.status, 401);
    t.match(old.body, /token has expired/);
    const unknownInstance = await query(basic(`ent-nope-${run}`, all), 'ent_up');
    t.equal(unknownInstance.status, 403, 'an instance the admin API does not know');
  });

  await t.test('the * realm reaches every instance; federated reads need a realm each', async (t) => {
    t.equal((await push(basic(B, all), [sample('ent_up', [['job', 'b']], 10)])).status, 200);
    t.same(values(await query(basic(B, all), 'ent_up')), ['11']);
    const fed = await query(basic(`${A}|${B}`, all), 'sum(ent_up)');
    t.equal(fed.status, 200, fed.body);
    t.same(values(fed), ['13']);
    const half = await query(basic(`${A}|${B}`, aRw), 'sum(ent_up)');
    t.equal(half.status, 403, 'no realm for B');
    t.equal((await push(basic(`${A}|${B}`, all), [sample('ent_up')])).status, 400, 'writes take one instance');
  });

  await t.test('the token decides the tenant: smuggled X-Scope-OrgID is ignored', async (t) => {
    t.equal((await push({ ...basic(A, aRw), 'X-Scope-OrgID': B }, [sample('ent_smuggled')])).status, 200);
    t.same(values(await query(basic(B, all), 'count(ent_smuggled)')), [], 'nothing landed in B');
    t.same(values(await query(basic(A, aRw), 'count(ent_smuggled)')), ['1'], 'it landed in A');
    const read = await query({ ...basic(A, aRw), 'X-Scope-OrgID': B }, 'sum(ent_up)');
    t.same(values(read), ['2'], 'a read of A whatever the header says');
    // Bearer: the token, with X-Scope-OrgID naming the instance (its realms decide).
    t.same(values(await query({ Authorization: `Bearer ${aRw}`, 'X-Scope-OrgID': A }, 'sum(ent_up)')), ['2']);
    t.equal((await query({ Authorization: `Bearer ${aRw}`, 'X-Scope-OrgID': B }, 'sum(ent_up)')).status, 403);
  });

  await t.test('inactive instances and deleted tokens are refused at once', async (t) => {
    t.equal((await admin.call('PUT', `instances/${B}`, { status: 'inactive' }, { 'If-Match': '"1"' })).status, 200);
    t.equal((await query(basic(B, all), 'ent_up')).status, 403);
    t.equal((await push(basic(B, all), [sample('ent_up')])).status, 403);
    t.equal((await admin.call('PUT', `instances/${B}`, { status: 'active' }, { 'If-Match': '"2"' })).status, 200);
    t.equal((await query(basic(B, all), 'ent_up')).status, 200);

    const short = await admin.token('short-lived', 'a-rw');
    t.equal((await query(basic(A, short), 'ent_up')).status, 200, 'works (and is cached)');
    t.equal((await admin.call('DELETE', 'tokens/short-lived', undefined, { 'If-Match': '"1"' })).status, 200);
    t.equal((await query(basic(A, short), 'ent_up')).status, 401, 'deleted a moment ago');

    // Deleted by another process (straight from the bucket): refused within -auth.token-cache-ttl.
    const elsewhere = await admin.token('deleted-elsewhere', 'a-rw');
    t.equal((await query(basic(A, elsewhere), 'ent_up')).status, 200);
    const file = join(adminDir, 'gem-admin', 'tokens', 'deleted-elsewhere.json');
    t.ok(existsSync(file));
    unlinkSync(file);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await query(basic(A, elsewhere), 'ent_up')).status;
    }
    t.equal(status, 401, 'refused after the next sync');

    // Deleting the policy takes its tokens with it.
    const p = await admin.policy('temp-policy', ['metrics:read'], [{ instance: A, cluster: CLUSTER }]);
    t.ok(p);
    const tempToken = await admin.token('temp-token', 'temp-policy');
    t.equal((await query(basic(A, tempToken), 'ent_up')).status, 200);
    t.equal((await admin.call('DELETE', 'accesspolicies/temp-policy', undefined, { 'If-Match': '*' })).status, 200);
    t.equal((await query(basic(A, tempToken), 'ent_up')).status, 401);
  });

  await t.test('secrets stay out of /config and the status API', async (t) => {
    for (const p of ['/config', '/api/v1/status/config', '/config?mode=diff']) {
      const res = await httpRequest(srv.port, p);
      for (const secret of [adminToken, aRw, all]) t.notOk(res.body.includes(secret), p);
    }
  });

  await t.test('label-based access control on every read API', async (t) => {
    await admin.policy('a-prod', ['metrics:read'], [
      { instance: A, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }, { selector: [{ type: 'RE', name: 'team', value: 'blue|green' }] }] },
    ]);
    const prodToken = await admin.token('a-prod-token', 'a-prod');
    const series: TimeSeriesInput[] = [
      { ...sample('lbac_req', [['env', 'prod'], ['team', 'red']], 1), exemplars: [{ labels: [['trace_id', 'visible']], value: 1, timestampMs: base }] },
      { ...sample('lbac_req', [['env', 'dev'], ['team', 'blue']], 10) },
      { ...sample('lbac_req', [['env', 'dev'], ['team', 'red'], ['secret', 'hidden-value']], 100), exemplars: [{ labels: [['trace_id', 'hidden']], value: 1, timestampMs: base }] },
      sample('lbac_hidden_metric', [['env', 'dev']], 1000),
    ];
    const pushRes = await httpRequest(srv.port, '/api/v1/push', {
      headers: { ...REMOTE_WRITE_HEADERS, ...basic(A, aRw) },
      body: encodeWriteRequestSnappy(series, [
        { type: 1, metricFamilyName: 'lbac_req', help: 'visible', unit: '' },
        { type: 1, metricFamilyName: 'lbac_hidden_metric', help: 'hidden', unit: '' },
      ]),
    });
    t.equal(pushRes.status, 200, 'writes are not restricted by label policies');
    const auth = basic(A, prodToken);
    const full = basic(A, aRw);

    t.same(values(await query(full, 'count(lbac_req)')), ['3']);
    t.same(values(await query(auth, 'count(lbac_req)')), ['2'], 'count sees the visible series only');
    t.same(values(await query(auth, 'sum(lbac_req)')), ['13']);
    t.same(values(await query(auth, 'sum(lbac_req{team="red"})')), ['2'], 'a selector cannot widen the policy');
    t.same(values(await query(auth, 'absent(lbac_hidden_metric)')), ['1'], 'absent of a hidden metric');
    t.same(values(await query(auth, 'absent(lbac_req{secret="hidden-value"})')), ['1']);
    t.same(values(await query(auth, 'sum(max_over_time(lbac_req[5m:1m]))')), ['13'], 'subqueries');
    t.same(values(await query(auth, 'sum(rate(lbac_req[5m]))')), values(await query(full, 'sum(rate(lbac_req{secret=""}[5m]))')), 'range functions (fused path)');
    t.same(values(await query(auth, 'count({__name__=~"lbac_.*"})')), ['2']);
    const range = await httpRequest(srv.port, `/prometheus/api/v1/query_range?${q({ query: 'sum(lbac_req)', start: String(base / 1000), end: String(base / 1000 + 60), step: '30' })}`, { headers: auth });
    t.same(jsonOf<{ data: { result: Array<{ values: Array<[number, string]> }> } }>(range).data.result[0]!.values.map((v) => v[1]), ['11', '11', '13']);

    const r = { start: String(base / 1000 - 60), end: String(base / 1000 + 120) };
    const seriesRes = jsonOf<{ data: Array<Record<string, string>> }>(await httpRequest(srv.port, `/prometheus/api/v1/series?${q({ 'match[]': '{__name__=~"lbac_.*"}', ...r })}`, { headers: auth }));
    t.same(seriesRes.data, [
      { __name__: 'lbac_req', env: 'dev', team: 'blue' },
      { __name__: 'lbac_req', env: 'prod', team: 'red' },
    ]);
    const labels = jsonOf<{ data: string[] }>(await httpRequest(srv.port, `/prometheus/api/v1/labels?${q(r)}`, { headers: auth })).data;
    t.notOk(labels.includes('secret'), 'label names of hidden series never show');
    t.ok(labels.includes('team'));
    const secretValues = jsonOf<{ data: string[] }>(await httpRequest(srv.port, `/prometheus/api/v1/label/secret/values?${q(r)}`, { headers: auth })).data;
    t.same(secretValues, []);
    const names = jsonOf<{ data: string[] }>(await httpRequest(srv.port, `/prometheus/api/v1/label/__name__/values?${q(r)}`, { headers: auth })).data;
    t.notOk(names.includes('lbac_hidden_metric'));
    t.ok(names.includes('lbac_req'));

    const meta = jsonOf<{ data: Record<string, unknown> }>(await httpRequest(srv.port, '/prometheus/api/v1/metadata', { headers: auth })).data;
    t.ok('lbac_req' in meta);
    t.notOk('lbac_hidden_metric' in meta, 'metadata of metrics without a visible series');
    const fullMeta = jsonOf<{ data: Record<string, unknown> }>(await httpRequest(srv.port, '/prometheus/api/v1/metadata', { headers: full })).data;
    t.ok('lbac_hidden_metric' in fullMeta);

    const ex = await httpRequest(srv.port, `/prometheus/api/v1/query_exemplars?${q({ query: 'lbac_req', ...r })}`, { headers: auth });
    t.equal(ex.status, 200);
    t.notOk(ex.body.includes('hidden'), 'exemplars of hidden series');

    // Cardinality: counts and values of the visible series only.
    const visibleAll = jsonOf<{ data: unknown[] }>(await httpRequest(srv.port, `/prometheus/api/v1/series?${q({ 'match[]': '{__name__=~".+"}', start: '0', end: String(Date.now() / 1000 + 60) })}`, { headers: auth })).data.length;
    const card = await httpRequest(srv.port, `/prometheus/api/v1/cardinality/label_values?${q({ 'label_names[]': 'secret' })}`, { headers: auth });
    t.equal(card.status, 200, card.body);
    t.notOk(card.body.includes('hidden-value'), 'values of hidden series');
    t.equal(jsonOf<{ series_count_total: number }>(card).series_count_total, visibleAll, 'series_count_total counts the visible series');
    const fullCard = jsonOf<{ series_count_total: number }>(await httpRequest(srv.port, `/prometheus/api/v1/cardinality/label_values?${q({ 'label_names[]': 'secret' })}`, { headers: full }));
    t.ok(fullCard.series_count_total > visibleAll, 'the full token counts more');
    const cardNames = await httpRequest(srv.port, '/prometheus/api/v1/cardinality/label_names', { headers: auth });
    t.equal(cardNames.status, 200);
    t.notOk(cardNames.body.includes('"secret"'), 'label names of hidden series');
    t.ok(cardNames.body.includes('"team"'));
    const active = await httpRequest(srv.port, `/prometheus/api/v1/cardinality/active_series?${q({ selector: '{__name__=~"lbac_.*"}' })}`, { headers: auth });
    t.equal(active.status, 200);
    t.notOk(active.body.includes('hidden'), 'active series of hidden series');

    const rr = await postRemoteRead(
      `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`,
      [{ startMs: base - 60_000, endMs: base + 120_000, matchers: [{ type: ReadMatchType.RE, name: '__name__', value: 'lbac_.*' }] }],
      [ResponseType.SAMPLES],
      auth,
    );
    t.equal(rr.status, 200);
    const [got] = decodeSamplesBody(rr.body);
    t.same(got!.map((s) => Object.fromEntries(s.labels)), [
      { __name__: 'lbac_req', env: 'dev', team: 'blue' },
      { __name__: 'lbac_req', env: 'prod', team: 'red' },
    ]);
    const chunks = await postRemoteRead(
      `http://127.0.0.1:${srv.port}/prometheus/api/v1/read`,
      [{ startMs: base - 60_000, endMs: base + 120_000, matchers: [{ type: ReadMatchType.EQ, name: 'env', value: 'dev' }] }],
      [ResponseType.STREAMED_XOR_CHUNKS],
      auth,
    );
    t.equal(chunks.status, 200);
    t.notOk(Buffer.from(chunks.body).includes('hidden-value'), 'streamed chunks of hidden series');
    t.ok(Buffer.from(chunks.body).includes('blue'));

    // Federated: each instance's own realm decides (A limited, B not).
    await admin.policy('fed-lbac', ['metrics:read'], [
      { instance: A, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }] },
      { instance: B, cluster: CLUSTER },
    ]);
    const fedToken = await admin.token('fed-lbac-token', 'fed-lbac');
    t.equal((await push(basic(B, all), [sample('lbac_req', [['env', 'dev']], 5)])).status, 200);
    const fed = basic(`${A}|${B}`, fedToken);
    const byTenant = jsonOf<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(await query(fed, 'count by (__tenant_id__) (lbac_req)')).data.result;
    t.same(
      byTenant.map((r) => [r.metric['__tenant_id__'], r.value[1]]).sort(),
      [
        [A, '1'],
        [B, '1'],
      ],
      'A shows its prod series only, B everything',
    );
    const fedSeries = jsonOf<{ data: Array<Record<string, string>> }>(await httpRequest(srv.port, `/prometheus/api/v1/series?${q({ 'match[]': 'lbac_req', ...r })}`, { headers: fed })).data;
    t.same(fedSeries.map((s) => `${s['__tenant_id__']}/${s['env']}`).sort(), [`${A}/prod`, `${B}/dev`].sort());
  });

  await t.test('user stats count the visible series; rules and alerts are not filtered (as GEM)', async (t) => {
    const C = `ent-c-${run}`;
    await admin.instance(C);
    await admin.policy('c-rw', ['metrics:read', 'metrics:write', 'rules:read', 'rules:write'], [{ instance: C, cluster: CLUSTER }]);
    await admin.policy('c-prod', ['metrics:read', 'rules:read', 'alerts:read'], [{ instance: C, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }] }]);
    const cRw = basic(C, await admin.token('c-rw-token', 'c-rw'));
    const cProd = basic(C, await admin.token('c-prod-token', 'c-prod'));
    // Recent samples (inside the one-minute window): 3 of a visible series, 4 of a hidden one each of two.
    const now = Date.now();
    const recent = (n: number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [now - 40_000 + i * 5_000, i]);
    t.equal(
      (
        await push(cRw, [
          { labels: [['__name__', 'stats_req'], ['env', 'prod']], samples: recent(3) },
          { labels: [['__name__', 'stats_req'], ['env', 'dev']], samples: recent(4) },
          { labels: [['__name__', 'stats_other'], ['env', 'dev']], samples: recent(4) },
        ])
      ).status,
      200,
    );
    type Stats = { ingestionRate: number; numSeries: number; APIIngestionRate: number; RuleIngestionRate: number };
    for (const path of ['/api/v1/user_stats', '/api/prom/user_stats']) {
      const limited = await httpRequest(srv.port, path, { headers: cProd });
      t.equal(limited.status, 200, `${path}: ${limited.body}`);
      const s = jsonOf<Stats>(limited);
      t.equal(s.numSeries, 1, `${path}: only the visible series is counted`);
      t.equal(s.ingestionRate, 3 / 60, `${path}: the visible series' samples per second over the last minute`);
      t.equal(s.APIIngestionRate + s.RuleIngestionRate, s.ingestionRate);
      const whole = jsonOf<Stats>(await httpRequest(srv.port, path, { headers: cRw }));
      t.equal(whole.numSeries, 3, `${path}: a token without label policies sees the tenant's figures`);
    }
    t.equal((await httpRequest(srv.port, '/api/v1/user_stats', { headers: basic(C, aRead) })).status, 403, 'no realm for the instance');

    // Rules: GEM applies no label policy to the ruler's HTTP API (its docs: listing rule groups
    // returns all of the tenant's groups); the series rules write are filtered when queried.
    const group = 'name: g1\nrules:\n  - record: dev_job:stats_req:sum\n    expr: sum(stats_req{env="dev"})\n    labels:\n      env: dev\n';
    const posted = await httpRequest(srv.port, '/prometheus/config/v1/rules/ns1', { method: 'POST', headers: { ...cRw, 'Content-Type': 'application/yaml' }, body: group });
    t.equal(posted.status, 202, posted.body);
    const listed = await httpRequest(srv.port, '/prometheus/config/v1/rules', { headers: cProd });
    t.equal(listed.status, 200);
    t.match(listed.body, /dev_job:stats_req:sum/, 'the rules config API lists every rule of the tenant');
    const api = await httpRequest(srv.port, '/prometheus/api/v1/rules', { headers: cProd });
    t.equal(api.status, 200);
    t.match(api.body, /dev_job:stats_req:sum/, '/api/v1/rules lists every rule of the tenant');
    t.equal((await httpRequest(srv.port, '/prometheus/config/v1/rules/ns1', { method: 'POST', headers: { ...cProd, 'Content-Type': 'application/yaml' }, body: group })).status, 403, 'rules:write is still needed');
  });
});
