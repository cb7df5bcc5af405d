// seed-coverage.test.ts keeps the documented surface answered: it reads every
// `METHOD /path` of the seeds (../shared/seeds beside the checkout, or
// SEEDS_DIR), sends each, with a tenant, to a server running every module, and
// fails when the router answers it (404 or 405 marked with X-Unmatched-Route)
// or anything answers 501 (the overrides-exporter's paths go to a second
// server running it). Endpoints owned by open issues are allowed to be
// missing; that list is printed and shrinks as they land.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { httpRequest } from '../testing/http-client.js';
import { fillPathParams, parseSeedEndpoints, readSeedEndpoints, type SeedEndpoint } from '../testing/seeds.js';
import { startTestServer } from '../testing/server.js';
import { UNMATCHED_HEADER } from '../server/http.js';

const DIR = process.env['SEEDS_DIR'] ?? resolve(fileURLToPath(import.meta.url), '../../../../../shared/seeds');

/** SEED_PAIRS is how many distinct method/path pairs the five seeds document. */
const SEED_PAIRS = 209;

/** OPEN_ISSUES are the endpoints that open issues own: allowed to be unanswered until they land. */
const OPEN_ISSUES: Array<{ issue: number; what: string; match: (e: SeedEndpoint) => boolean }> = [];

/** PARAMS fill the seeds' path parameters. */
const PARAMS: Record<string, string> = {
  name: 'job',
  namespace: 'seed-ns',
  groupName: 'seed-group',
  tenant: 'seed-tenant',
  block: '01HZ0000000000000000000000',
  uid: 'seed-uid',
  folderUid: 'seed-folder',
  group: 'seed-group',
};

/** QUERY adds what keeps a request short or well-formed (profiles take 30 s by default). */
function query(e: SeedEndpoint): string {
  if (/^\/debug\/(pprof\/(profile|trace)|fgprof)$/.test(e.path)) return '?seconds=1';
  if (e.path.endsWith('/files')) return '?path=index';
  return '';
}

/** LAST are sent at the end: they stop the ingester. */
const LAST = new Set(['/shutdown', '/ingester/shutdown']);

const skip = existsSync(DIR) || process.env['CI'] === 'true' ? false : `${DIR} not present (set SEEDS_DIR)`;

t.test('every seed endpoint is answered', { skip }, async (t) => {
  const endpoints = readSeedEndpoints(DIR);
  t.equal(endpoints.length, SEED_PAIRS, `the seeds document ${SEED_PAIRS} method/path pairs`);
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  // The overrides-exporter is not part of -target=all (as Mimir): its paths go to a server running it.
  const exporter = await startTestServer({ target: 'overrides-exporter' });
  t.teardown(() => exporter.close());
  const portFor = (e: SeedEndpoint): number => (e.path.startsWith('/overrides-exporter/') ? exporter.port : srv.port);
  const headers = { 'X-Scope-OrgID': 'seed-tenant' };

  // The marker is what tells the router's answer from a handler's 404: it must be there.
  const stray = await httpRequest(srv.port, '/no/such/route', { headers });
  t.equal(stray.status, 404);
  t.equal(stray.headers[UNMATCHED_HEADER.toLowerCase()], 'true', 'the router marks its own 404');

  const ordered = [...endpoints.filter((e) => !LAST.has(e.path)), ...endpoints.filter((e) => LAST.has(e.path))];
  const unanswered: Array<{ e: SeedEndpoint; status: number }> = [];
  for (const e of ordered) {
    const path = fillPathParams(e.path, PARAMS) + query(e);
    const res = await httpRequest(portFor(e), path, { method: e.method, headers, ...(e.method === 'GET' || e.method === 'DELETE' ? {} : { body: '' }) });
    const routerMiss = (res.status === 404 || res.status === 405) && res.headers[UNMATCHED_HEADER.toLowerCase()] === 'true';
    if (routerMiss || res.status === 501) unanswered.push({ e, status: res.status });
  }
  const answered = endpoints.length - unanswered.length;
  t.comment(`seed endpoints answered: ${answered}/${SEED_PAIRS}`);
  console.log(`seed endpoints answered: ${answered}/${SEED_PAIRS}`);

  const allowed: string[] = [];
  const failing: string[] = [];
  for (const { e, status } of unanswered) {
    const owner = OPEN_ISSUES.find((o) => o.match(e));
    const line = `${e.method} ${e.path} -> ${status} (${e.source})`;
    if (owner !== undefined) allowed.push(`${line}: issue ${owner.issue} (${owner.what})`);
    else failing.push(line);
  }
  if (allowed.length > 0) console.log(`unanswered, owned by open issues (allow-list):\n  ${allowed.join('\n  ')}`);
  // Allow-listed endpoints that now answer: the list can shrink.
  const missing = new Set(unanswered.map((u) => u.e));
  const stale = endpoints.filter((e) => !missing.has(e) && OPEN_ISSUES.some((o) => o.match(e)));
  if (stale.length > 0) console.log(`allow-listed but answered now (shrink the list):\n  ${stale.map((e) => `${e.method} ${e.path}`).join('\n  ')}`);
  t.same(failing, [], 'every seed endpoint not owned by an open issue is answered');
});

t.test('the seed parser', async (t) => {
  const text = [
    'GET,POST <prometheus-http-prefix>/api/v1/query',
    '  GET /config?mode=diff  ',
    'GET /config',
    'POST /<prometheus-http-prefix>/config/v1/rules/{namespace}',
    'DELETE <legacy-http-prefix>/rules/{namespace}/{groupName}',
    'GET <alertmanager-http-prefix>',
    'PUT /api/v1/provisioning/templates/{name}',
    'PUT /api/v1/provisioning/templates/:name',
    'Index pageAll servicesGET /',
    'This API endpoint accepts an HTTP POST request with a body',
    'curl -X DELETE -H "If-Match: 1" /admin/api/v1/tokens/x',
  ].join('\n');
  const got = parseSeedEndpoints([{ name: 'seed.md', text }]).map((e) => `${e.method} ${e.path}`);
  t.same(got, [
    'GET /prometheus/api/v1/query',
    'POST /prometheus/api/v1/query',
    'GET /config',
    'POST /prometheus/config/v1/rules/{namespace}',
    'DELETE /api/prom/rules/{namespace}/{groupName}',
    'GET /alertmanager',
    'PUT /api/v1/provisioning/templates/{name}',
    'PUT /api/v1/provisioning/templates/:name',
  ]);
  t.equal(parseSeedEndpoints([{ name: 'seed.md', text }])[2]!.source, 'seed.md:2', 'first occurrence, 1-based line');
  t.equal(fillPathParams('/a/{namespace}/:groupName/{FolderUID}', { namespace: 'n s', groupname: 'g', folderuid: 'f' }), '/a/n%20s/g/f');
  t.equal(fillPathParams('/x/{unknown}', {}), '/x/x');
});
