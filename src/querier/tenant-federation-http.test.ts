// tenant-federation-http.test.ts drives tenant federation through the real
// server and native storage: two tenants pushed, then series, labels, label
// values, instant and range queries with `X-Scope-OrgID: a|b` see both with a
// `__tenant_id__` label, matchers on it choose the tenants, and with
// -tenant-federation.enabled off (the default) a multi-tenant header is
// refused as Mimir's middleware does. Writes never take several tenants.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { httpRequest, jsonOf, type ClientResponse } from '../testing/http-client.js';
import { startTestServer, type TestServer } from '../testing/server.js';
import { nativeSkip } from '../testing/native-skip.js';

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

interface Body<T> {
  status: string;
  data: T;
}

const skip = nativeSkip();

// Tenant names unique to this run: the native heads are process-global.
const run = Date.now().toString(36);
const A = `fed-a-${run}`;
const B = `fed-b-${run}`;
const BOTH = `${B}|${A}`;
const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;

async function push(srv: TestServer, tenant: string, job: string, value: number): Promise<ClientResponse> {
  return httpRequest(srv.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
    body: encodeWriteRequestSnappy([
      { labels: [['__name__', 'fed_metric'], ['job', job]], samples: [[base, value], [base + 30_000, value + 1]] },
    ]),
  });
}

t.test('federation enabled', { skip }, async (t) => {
  const srv = await startTestServer({ 'tenant-federation.enabled': true });
  t.teardown(() => srv.close());
  t.equal((await push(srv, A, 'api', 1)).status, 200);
  t.equal((await push(srv, B, 'db', 10)).status, 200);
  const get = (path: string, tenant = BOTH): Promise<ClientResponse> => httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': tenant } });
  const range = { start: String(base / 1000 - 1), end: String(base / 1000 + 60) };

  await t.test('series of both tenants carry __tenant_id__', async (t) => {
    let res = await get(`/prometheus/api/v1/series?${q({ 'match[]': 'fed_metric', ...range })}`);
    t.equal(res.status, 200, res.body);
    t.same(jsonOf<Body<unknown>>(res).data, [
      { __name__: 'fed_metric', __tenant_id__: A, job: 'api' },
      { __name__: 'fed_metric', __tenant_id__: B, job: 'db' },
    ]);
    res = await get(`/prometheus/api/v1/series?${q({ 'match[]': `{__tenant_id__="${B}"}`, ...range })}`);
    t.same(jsonOf<Body<unknown>>(res).data, [{ __name__: 'fed_metric', __tenant_id__: B, job: 'db' }], 'a matcher naming only the tenant');
    res = await get(`/prometheus/api/v1/series?${q({ 'match[]': `fed_metric{__tenant_id__=~"fed-a-.*"}`, ...range })}`);
    t.same(jsonOf<Body<unknown>>(res).data, [{ __name__: 'fed_metric', __tenant_id__: A, job: 'api' }], 'regexp on the tenant');
    res = await get(`/prometheus/api/v1/series?${q({ 'match[]': 'fed_metric', ...range, limit: '1' })}`);
    t.same(jsonOf<Body<unknown[]> & { warnings: string[] }>(res).data.length, 1);
    t.same(jsonOf<{ warnings: string[] }>(res).warnings, ['results truncated due to limit']);
    res = await get(`/prometheus/api/v1/series?${q({ 'match[]': 'fed_metric', ...range })}`, A);
    t.same(jsonOf<Body<unknown>>(res).data, [{ __name__: 'fed_metric', job: 'api' }], 'one tenant: no label, as Mimir');
  });

  await t.test('labels and label values', async (t) => {
    let res = await get(`/prometheus/api/v1/labels?${q(range)}`);
    t.same(jsonOf<Body<unknown>>(res).data, ['__name__', '__tenant_id__', 'job']);
    res = await get(`/prometheus/api/v1/label/__tenant_id__/values?${q(range)}`);
    t.same(jsonOf<Body<unknown>>(res).data, [A, B]);
    res = await get(`/prometheus/api/v1/label/job/values?${q(range)}`);
    t.same(jsonOf<Body<unknown>>(res).data, ['api', 'db']);
    res = await get(`/prometheus/api/v1/label/job/values?${q({ 'match[]': `{__tenant_id__="${A}"}`, ...range })}`);
    t.same(jsonOf<Body<unknown>>(res).data, ['api']);
    res = await get(`/prometheus/api/v1/label/__tenant_id__/values?${q({ 'match[]': `{__tenant_id__=~"fed-.+",__tenant_id__!="${A}"}`, ...range })}`);
    t.same(jsonOf<Body<unknown>>(res).data, [B]);
    res = await get(`/prometheus/api/v1/label/__tenant_id__/values?${q({ 'match[]': `{__tenant_id__!="${A}"}`, ...range })}`);
    t.equal(res.status, 400, 'a selector must still have a matcher that does not match ""');
  });

  await t.test('instant and range queries merge the tenants', async (t) => {
    const time = String(base / 1000 + 30);
    let res = await get(`/prometheus/api/v1/query?${q({ query: 'fed_metric', time })}`);
    t.equal(res.status, 200, res.body);
    t.same(jsonOf<Body<{ result: unknown }>>(res).data.result, [
      { metric: { __name__: 'fed_metric', __tenant_id__: A, job: 'api' }, value: [Number(time), '2'] },
      { metric: { __name__: 'fed_metric', __tenant_id__: B, job: 'db' }, value: [Number(time), '11'] },
    ]);
    res = await get(`/prometheus/api/v1/query?${q({ query: 'sum by (__tenant_id__) (fed_metric)', time })}`);
    t.same(jsonOf<Body<{ result: unknown }>>(res).data.result, [
      { metric: { __tenant_id__: A }, value: [Number(time), '2'] },
      { metric: { __tenant_id__: B }, value: [Number(time), '11'] },
    ]);
    res = await httpRequest(srv.port, '/prometheus/api/v1/query', {
      headers: { 'X-Scope-OrgID': BOTH, ...FORM },
      body: q({ query: `fed_metric{__tenant_id__="${B}"}`, time }),
    });
    t.same(jsonOf<Body<{ result: unknown }>>(res).data.result, [{ metric: { __name__: 'fed_metric', __tenant_id__: B, job: 'db' }, value: [Number(time), '11'] }]);
    res = await get(`/prometheus/api/v1/query_range?${q({ query: 'fed_metric', start: String(base / 1000), end: String(base / 1000 + 30), step: '30' })}`);
    t.same(jsonOf<Body<{ result: unknown }>>(res).data.result, [
      { metric: { __name__: 'fed_metric', __tenant_id__: A, job: 'api' }, values: [[base / 1000, '1'], [base / 1000 + 30, '2']] },
      { metric: { __name__: 'fed_metric', __tenant_id__: B, job: 'db' }, values: [[base / 1000, '10'], [base / 1000 + 30, '11']] },
    ]);
    res = await get(`/prometheus/api/v1/query?${q({ query: 'count(fed_metric)', time })}`, A);
    t.same(jsonOf<Body<{ result: unknown }>>(res).data.result, [{ metric: {}, value: [Number(time), '1'] }], 'one tenant alone');
  });

  await t.test('writes take exactly one tenant', async (t) => {
    const res = await push(srv, BOTH, 'x', 1);
    t.equal(res.status, 400);
    t.equal(res.body, 'multiple org IDs present\n');
  });
});

t.test('federation limited by -tenant-federation.max-tenants', { skip }, async (t) => {
  const srv = await startTestServer({ 'tenant-federation.enabled': true, 'tenant-federation.max-tenants': 2 });
  t.teardown(() => srv.close());
  const res = await httpRequest(srv.port, '/prometheus/api/v1/labels', { headers: { 'X-Scope-OrgID': 'x|y|z' } });
  t.equal(res.status, 422);
  t.equal(res.body, 'too many tenant IDs present in the request. max: 2 actual: 3\n');
});

t.test('federation disabled (the default)', { skip }, async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  for (const path of [
    '/prometheus/api/v1/series?match[]=up',
    '/prometheus/api/v1/labels',
    '/prometheus/api/v1/label/job/values',
    '/prometheus/api/v1/query?query=up',
    '/prometheus/api/v1/query_range?query=up&start=0&end=1&step=1',
  ]) {
    const res = await httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': 'a|b' } });
    t.equal(res.status, 422, path);
    t.equal(res.body, 'too many tenant IDs present in the request. max: 1 actual: 2\n', path);
    t.match(res.headers['content-type'], 'text/plain', path);
  }
  const dup = await httpRequest(srv.port, '/prometheus/api/v1/labels', { headers: { 'X-Scope-OrgID': 'a|a' } });
  t.equal(dup.status, 200, 'a repeated tenant is one tenant');
  const write = await push(srv, 'a|b', 'x', 1);
  t.equal(write.status, 422);
  t.equal(write.body, 'too many tenant IDs present in the request. max: 1 actual: 2\n');
  const none = await httpRequest(srv.port, '/prometheus/api/v1/labels');
  t.equal(none.status, 401);
  t.equal(none.body, 'no org id\n');
});
