// legacy-aliases.test.ts checks Cortex's older paths against the ones they
// alias: the legacy prefix (-http.legacy-http-prefix, default /api/prom)
// answers every query endpoint exactly as the Prometheus prefix does, data
// pushed through <legacy>/push is what they read, and /flush, /shutdown,
// /all_user_stats, /ha-tracker, /status and the Alertmanager UI roots are
// the same handlers as their newer paths.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { UNMATCHED_HEADER } from '../server/http.js';
import { FakeStorage } from '../testing/fake-storage.js';
import { httpRequest, type ClientResponse } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const srv = await startTestServer();
t.teardown(() => srv.close());
const TENANT = { 'X-Scope-OrgID': 'legacy' };
const get = (path: string, headers: Record<string, string> = TENANT): Promise<ClientResponse> => httpRequest(srv.port, path, { headers });

const now = Date.now();
const nowSec = (now / 1000).toFixed(3);

t.test('the legacy prefix answers as the Prometheus prefix', async (t) => {
  const push = await httpRequest(srv.port, '/api/prom/push', {
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'legacy_metric'], ['job', 'cortex']], samples: [[now - 1000, 42]] }]),
    headers: { ...REMOTE_WRITE_HEADERS, ...TENANT },
  });
  t.equal(push.status, 200, push.body);
  const paths = [
    `/api/v1/query?query=legacy_metric&time=${nowSec}`,
    `/api/v1/query_range?query=legacy_metric&start=${(now / 1000 - 60).toFixed(3)}&end=${nowSec}&step=15`,
    `/api/v1/query_exemplars?query=legacy_metric&start=${(now / 1000 - 60).toFixed(3)}&end=${nowSec}`,
    `/api/v1/series?match[]=legacy_metric`,
    `/api/v1/labels`,
    `/api/v1/label/job/values`,
    `/api/v1/metadata`,
    `/api/v1/rules`,
    `/api/v1/alerts`,
    `/api/v1/query?query=sum(`,
  ];
  for (const p of paths) {
    const ours = await get(`/api/prom${p}`);
    const theirs = await get(`/prometheus${p}`);
    t.equal(ours.status, theirs.status, `${p}: status`);
    t.equal(ours.body, theirs.body, `${p}: body`);
    t.not(ours.headers[UNMATCHED_HEADER.toLowerCase()], 'true');
  }
  const q = JSON.parse((await get(`/api/prom/api/v1/query?query=legacy_metric&time=${nowSec}`)).body);
  t.equal(q.data.result[0].value[1], '42', 'the pushed sample');
  const post = await httpRequest(srv.port, '/api/prom/api/v1/query', { method: 'POST', body: `query=legacy_metric&time=${nowSec}`, headers: { ...TENANT, 'Content-Type': 'application/x-www-form-urlencoded' } });
  t.equal(JSON.parse(post.body).data.result[0].value[1], '42', 'POST form');
  // Remote read: the same answer to the same (bad) body.
  const readOurs = await httpRequest(srv.port, '/api/prom/api/v1/read', { method: 'POST', body: 'x', headers: TENANT });
  const readTheirs = await httpRequest(srv.port, '/prometheus/api/v1/read', { method: 'POST', body: 'x', headers: TENANT });
  t.equal(readOurs.status, readTheirs.status);
  t.equal(readOurs.body, readTheirs.body);
  const stats = await get('/api/prom/user_stats');
  t.equal(stats.status, 200);
  t.equal(JSON.parse(stats.body).numSeries, JSON.parse((await get('/api/v1/user_stats')).body).numSeries);
  // The rules configuration API under the legacy prefix.
  t.equal((await httpRequest(srv.port, '/api/prom/rules/ns', { method: 'POST', body: 'name: g\nrules:\n  - record: r\n    expr: vector(1)\n', headers: TENANT })).status, 202);
  t.match((await get('/prometheus/config/v1/rules/ns/g')).body, /record: r/);
});

t.test('older paths of the same handlers', async (t) => {
  const pairs: Array<[string, string]> = [
    ['/all_user_stats', '/distributor/all_user_stats'],
    ['/ha-tracker', '/distributor/ha_tracker'],
    ['/status', '/multitenant_alertmanager/status'],
    ['/api/prom', '/alertmanager'],
    ['/alertmanager/api/v1/status/buildinfo', '/api/v1/status/buildinfo'],
  ];
  for (const [older, newer] of pairs) {
    const a = await get(older, { ...TENANT, Accept: 'application/json' });
    const b = await get(newer, { ...TENANT, Accept: 'application/json' });
    t.equal(a.status, b.status, `${older}: status ${a.status}`);
    t.equal(a.headers['content-type'], b.headers['content-type'], `${older}: content type`);
    t.not(a.headers[UNMATCHED_HEADER.toLowerCase()], 'true', older);
  }
  for (const method of ['GET', 'POST']) {
    const flush = await httpRequest(srv.port, '/flush', { method, ...(method === 'POST' ? { body: '' } : {}) });
    t.equal(flush.status, (await httpRequest(srv.port, '/ingester/flush', { method, ...(method === 'POST' ? { body: '' } : {}) })).status, `${method} /flush`);
  }
});

t.test('GET /shutdown stops the ingester', async (t) => {
  const res = await get('/shutdown');
  t.equal(res.status, 204);
  const push = await httpRequest(srv.port, '/api/v1/push', {
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'after_shutdown']], samples: [[Date.now(), 1]] }]),
    headers: { ...REMOTE_WRITE_HEADERS, ...TENANT },
  });
  t.ok(push.status >= 500, `writes are refused after the shutdown (${push.status})`);
});

t.test('-http.legacy-http-prefix moves the aliases', async (t) => {
  const other = await startTestServer({ 'http.legacy-http-prefix': '/cortex' }, { storage: new FakeStorage() });
  t.teardown(() => other.close());
  t.equal((await httpRequest(other.port, '/cortex/api/v1/labels', { headers: TENANT })).status, 200);
  t.equal((await httpRequest(other.port, '/cortex/configs/rules', { headers: TENANT })).status, 404, 'the configs API under it (no document yet)');
  const gone = await httpRequest(other.port, '/api/prom/api/v1/labels', { headers: TENANT });
  t.equal(gone.status, 404);
  t.equal(gone.headers[UNMATCHED_HEADER.toLowerCase()], 'true');
});
