// pages.test.ts renders every HTML page the server shows in headless Debian
// Chromium and checks what a reader sees: the document title, the headings and
// that every link of the index page answers. Part of the peer suite (CI
// installs the `chromium` package); skipped with a reason when it is absent.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { CHROMIUM as CHROMIUM_PEER, skipUnless } from '../peer/lib/binary.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';

const run = promisify(execFile);
const CHROMIUM = CHROMIUM_PEER.path;

/** renderDom loads url in headless Chromium and returns the DOM after scripts ran. */
async function renderDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${profile}`, '--dump-dom', url,
      ],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

t.test('HTML pages render in headless Chromium', { skip: skipUnless(CHROMIUM_PEER) }, async (t) => {
  const server = await startTestServer({ 'blocks-storage.bucket-store.sync-interval': 100 });
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;

  const index = await renderDom(`${base}/`);
  t.match(index, /<title>[^<]+<\/title>/, 'index page has a title');
  t.match(index, /<h1>[^<]+<\/h1>/, 'index page has a heading');
  const hrefs = [...index.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
  t.ok(hrefs.includes('/services'), 'index links the services page');
  t.ok(hrefs.includes('/metrics'), 'index links the metrics');
  t.ok(hrefs.includes('/config'), 'index links the config');

  // The tenant's Alertmanager UI answers once the tenant has a configuration (404 "the Alertmanager
  // is not configured" before, as Mimir).
  const amConfig = 'alertmanager_config: |\n  route:\n    receiver: none\n  receivers:\n    - name: none\n';
  const posted = await httpRequest(server.port, '/api/v1/alerts', { method: 'POST', headers: { 'X-Scope-OrgID': 'browser-test' }, body: amConfig });
  t.equal(posted.status, 201, 'the tenant gets an Alertmanager configuration');

  // Every GET link of the index answers (POST-only endpoints say so in their title).
  for (const href of hrefs) {
    if (href.endsWith('/push') || href.endsWith('/otlp/v1/metrics') || href.startsWith('http')) continue;
    const res = await fetch(`${base}${href}`, { headers: { 'X-Scope-OrgID': 'browser-test' } });
    // 204 for the links that trigger an action (the ingester's flush).
    t.ok(res.status === 200 || res.status === 204, `GET ${href} answers ${res.status}`);
    await res.arrayBuffer();
  }

  const services = await renderDom(`${base}/services`);
  t.match(services, /<title>[^<]+<\/title>/, 'services page has a title');
  t.match(services, /<table/, 'services page shows a table');
  t.match(services, /Running/, 'services page shows running services');

  // The ring pages (dskit's ring page: a table of members with Forget buttons) and /memberlist.
  for (const path of ['/ingester/ring', '/distributor/ring', '/store-gateway/ring', '/compactor/ring', '/ruler/ring', '/multitenant_alertmanager/ring', '/query-scheduler/ring']) {
    t.ok(hrefs.includes(path) || path === '/ruler/ring', `index links ${path}`);
    const dom = await renderDom(`${base}${path}`);
    t.match(dom, /<title>Ring Status<\/title>/, `${path} has a title`);
    t.match(dom, /<h1>Ring Status<\/h1>/, `${path} has a heading`);
    t.match(dom, /<td>ACTIVE<\/td>/, `${path} shows this process ACTIVE`);
    t.match(dom, /<button name="forget" value="[^"]+" type="submit">Forget<\/button>/, `${path} has a Forget button`);
  }
  // The overrides-exporter's ring page, once its ring is on (-target=all does not run the exporter).
  const exporter = await startTestServer({ target: 'overrides-exporter', 'overrides-exporter.ring.enabled': true, 'overrides-exporter.ring.store': 'inmemory' });
  t.teardown(() => exporter.close());
  const exporterRing = await renderDom(`http://127.0.0.1:${exporter.port}/overrides-exporter/ring`);
  t.match(exporterRing, /<h1>Ring Status<\/h1>/, '/overrides-exporter/ring has a heading');
  t.match(exporterRing, /<td>ACTIVE<\/td>/, '/overrides-exporter/ring shows the exporter ACTIVE');
  t.match(exporterRing, /<button name="forget" value="[^"]+" type="submit">Forget<\/button>/, '/overrides-exporter/ring has a Forget button');
  const memberlist = await renderDom(`${base}/memberlist`);
  t.match(memberlist, /<h1>Memberlist Status<\/h1>/, 'memberlist page has a heading');
  t.match(memberlist, /collectors\/ring/, 'memberlist page lists the ring keys');

  // The distributor's status pages.
  t.ok(hrefs.includes('/distributor/ha_tracker'), 'index links the HA tracker page');
  t.ok(hrefs.includes('/distributor/all_user_stats'), 'index links the tenant stats page');
  const ha = await renderDom(`${base}/distributor/ha_tracker`);
  t.match(ha, /<title>HA Tracker Status<\/title>/, 'HA tracker page has a title');
  t.match(ha, /<h1>HA Tracker Status<\/h1>/, 'HA tracker page has a heading');
  const stats = await renderDom(`${base}/distributor/all_user_stats`);
  t.match(stats, /<title>Ingester Stats<\/title>/, 'tenant stats page has a title');
  t.match(stats, /<h1>Ingester Stats<\/h1>/, 'tenant stats page has a heading');

  // The ingester's and store-gateway's pages, with a block cut from pushed samples.
  const tenant = 'browser-test';
  const start = Math.floor((Date.now() - 4 * 3_600_000) / 7_200_000) * 7_200_000;
  const samples: Array<[number, number]> = [];
  for (let ts = start; ts < start + 7_200_000; ts += 60_000) samples.push([ts, samples.length]);
  const push = await httpRequest(server.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'page_test']], samples }]),
  });
  t.equal(push.status, 200, push.body);
  t.equal((await httpRequest(server.port, `/ingester/flush?tenant=${tenant}&wait=true`, { method: 'POST' })).status, 204);
  const tenants = await renderDom(`${base}/ingester/tenants`);
  t.match(tenants, /<h1>Ingester tenants<\/h1>/, 'ingester tenants page has a heading');
  t.match(tenants, new RegExp(`<a href="tsdb/${tenant}">${tenant}</a>`), 'it links the tenant');
  const tsdb = await renderDom(`${base}/ingester/tsdb/${tenant}`);
  t.match(tsdb, new RegExp(`<h1>Tenant ${tenant}</h1>`), 'tenant TSDB page has a heading');
  const ulid = /<td>([0-9A-HJKMNP-TV-Z]{26})<\/td>/.exec(tsdb)?.[1];
  t.ok(ulid, 'tenant TSDB page lists the block');
  for (let i = 0; i < 100 && !(await fetch(`${base}/store-gateway/tenant/${tenant}/blocks`).then((r) => r.text())).includes(ulid ?? '-'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const sgTenants = await renderDom(`${base}/store-gateway/tenants`);
  t.match(sgTenants, /<h1>Store-gateway tenants<\/h1>/, 'store-gateway tenants page has a heading');
  t.match(sgTenants, new RegExp(`<a href="tenant/${tenant}/blocks">${tenant}</a>`), 'it links the tenant');
  const blocks = await renderDom(`${base}/store-gateway/tenant/${tenant}/blocks`);
  t.match(blocks, new RegExp(`<h1>Blocks of tenant ${tenant}</h1>`), 'blocks page has a heading');
  t.match(blocks, new RegExp(`<td>${ulid}</td>`), 'blocks page lists the shipped block');
});
