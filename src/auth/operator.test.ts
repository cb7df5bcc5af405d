// operator.test.ts: with -auth.type=enterprise, operator pages and actions
// that reach every tenant (all tenants' stats, rule groups and Alertmanager
// configs, ingester/store-gateway/compactor tenant pages, flush and shutdown
// actions, profiling) need a token with the admin scope: 401 with
// WWW-Authenticate without credentials, 403 with a token lacking the scope.
// The tenant-config deletions of the ruler and the Alertmanager need the
// admin scope and a realm for the tenant. /ready, /metrics, the index page,
// /config and the build information stay open.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTokengen } from '../admin/tokengen.js';
import { defaultConfig } from '../config/config.js';
import { AdminClient, basicAuth } from '../testing/admin-client.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { WWW_AUTHENTICATE } from './enterprise.js';
import { nativeSkip } from '../testing/native-skip.js';

const skip = nativeSkip();

const CLUSTER = 'op-cluster';
const A = 'op-tenant';

/** READ_PAGES are operator GETs without side effects: the admin token gets a 200. */
const READ_PAGES = [
  '/distributor/all_user_stats',
  '/all_user_stats',
  '/distributor/ha_tracker',
  '/ruler/rule_groups',
  '/multitenant_alertmanager/configs',
  '/ingester/tenants',
  '/store-gateway/tenants',
  '/compactor/tenants',
  '/debug/pprof/',
  '/debug/pprof/cmdline',
  '/debug/pprof/goroutine',
];

/** ACTIONS are operator actions (or slow profiles): only refusals are checked. */
const ACTIONS: Array<[string, string]> = [
  ['POST', '/ingester/flush'],
  ['POST', '/flush'],
  ['POST', '/ingester/shutdown'],
  ['POST', '/shutdown'],
  ['GET', '/ingester/prepare-shutdown'],
  ['GET', '/ingester/unregister-on-shutdown'],
  ['GET', '/store-gateway/prepare-shutdown'],
  ['GET', `/ingester/tsdb/${A}`],
  ['GET', `/store-gateway/tenant/${A}/blocks`],
  ['GET', `/compactor/tenant/${A}/planned_jobs`],
  ['GET', '/debug/pprof/profile'],
  ['GET', '/debug/pprof/trace'],
  ['GET', '/debug/fgprof'],
  ['POST', '/ruler/delete_tenant_config'],
  ['POST', '/multitenant_alertmanager/delete_tenant_config'],
  ['POST', '/ruler/ring'],
  ['POST', '/ruler_ring'],
];

/** OPEN_PAGES stay readable without credentials, as GEM leaves them. */
const OPEN_PAGES = ['/', '/ready', '/metrics', '/config', '/api/v1/status/buildinfo'];

t.test('operator endpoints need the admin scope under enterprise auth', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'operator-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': join(dir, 'admin') };
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'tokengen.token-file': join(dir, 'admin-token'), 'log.level': 'warn' }), () => undefined);
  const srv = await startTestServer({ ...flags, 'auth.type': 'enterprise', 'auth.token-cache-ttl': 60_000 });
  t.teardown(() => srv.close());
  const admin = new AdminClient(srv.port, adminToken);
  await admin.instance(A);
  await admin.policy('everything-but-admin', ['metrics:read', 'metrics:write', 'metrics:delete', 'rules:read', 'rules:write', 'alerts:read', 'alerts:write'], [{ instance: '*', cluster: CLUSTER }]);
  const user = await admin.token('user-token', 'everything-but-admin');
  const asUser = { Authorization: basicAuth(A, user) };
  const asAdmin = { Authorization: basicAuth(A, adminToken) };

  for (const [method, path] of [...READ_PAGES.map((p): [string, string] => ['GET', p]), ...ACTIONS]) {
    const none = await httpRequest(srv.port, path, { method });
    t.equal(none.status, 401, `${method} ${path} without credentials: ${none.body}`);
    t.equal(none.headers['www-authenticate'], WWW_AUTHENTICATE, `${path} asks for Basic auth`);
    const wrong = await httpRequest(srv.port, path, { method, headers: { Authorization: basicAuth(A, 'not-a-token') } });
    t.equal(wrong.status, 401, `${method} ${path} with an invalid token`);
    const scoped = await httpRequest(srv.port, path, { method, headers: asUser });
    t.equal(scoped.status, 403, `${method} ${path} with a token without the admin scope: ${scoped.body}`);
    t.match(scoped.body, /does not have the scope admin/);
  }
  for (const path of READ_PAGES) {
    const res = await httpRequest(srv.port, path, { headers: asAdmin });
    t.equal(res.status, 200, `GET ${path} with the admin token: ${res.body.slice(0, 200)}`);
  }
  // The tenant-config deletions act on the token's instance.
  for (const path of ['/ruler/delete_tenant_config', '/multitenant_alertmanager/delete_tenant_config']) {
    const res = await httpRequest(srv.port, path, { method: 'POST', headers: asAdmin });
    t.equal(res.status, 200, `POST ${path} with the admin token: ${res.body}`);
  }
  for (const path of OPEN_PAGES) {
    const res = await httpRequest(srv.port, path);
    t.equal(res.status, 200, `${path} stays open`);
  }
});

t.test('trust mode leaves operator pages open, as Mimir', { skip }, async (t) => {
  const srv = await startTestServer({});
  t.teardown(() => srv.close());
  for (const path of ['/distributor/all_user_stats', '/ruler/rule_groups', '/multitenant_alertmanager/configs', '/debug/pprof/cmdline']) {
    const res = await httpRequest(srv.port, path);
    t.equal(res.status, 200, `${path}: ${res.body.slice(0, 200)}`);
  }
});
