// alertmanager-ui.test.ts renders the tenant's Alertmanager page in headless
// Debian Chromium (multi-tenancy off, so the browser needs no header): the
// alert groups with their receiver and alert states, and the silences.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startTestServer } from '../../src/testing/server.js';
import { CHROMIUM, skipUnless } from '../peer/lib/binary.js';

const run = promisify(execFile);

async function renderDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM.path,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', url],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

t.test('Alertmanager page lists alert groups and silences', { skip: skipUnless(CHROMIUM) }, async (t) => {
  const server = await startTestServer({ 'auth.multitenancy-enabled': false });
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  const cfg = 'route: {receiver: ops, group_by: [alertname], group_wait: 1h}\nreceivers: [{name: ops}]\n';
  t.equal((await fetch(`${base}/api/v1/alerts`, { method: 'POST', body: JSON.stringify({ alertmanager_config: cfg }) })).status, 201);
  const post = (path: string, body: unknown): Promise<Response> => fetch(`${base}/alertmanager/api/v2${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  t.equal((await post('/alerts', [{ labels: { alertname: 'DiskFull', instance: 'db<1>' } }, { labels: { alertname: 'DiskFull', instance: 'db2' } }])).status, 200);
  const now = Date.now();
  t.equal(
    (await post('/silences', { matchers: [{ name: 'instance', value: 'db2', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'alice', comment: 'disk swap' })).status,
    200,
  );
  const dom = await renderDom(`${base}/alertmanager/`);
  t.match(dom, /<title>Alertmanager<\/title>/);
  t.match(dom, /<strong id="tenant">anonymous<\/strong>/);
  t.match(dom, /<h3><span class="label">alertname="DiskFull"<\/span><\/h3>/, 'the group heading shows its labels');
  t.match(dom, /<span class="receiver">ops<\/span>/);
  t.match(dom, /<span class="label">instance="db&lt;1&gt;"<\/span><\/td><td class="state">active<\/td>/, 'labels are escaped, the state shown');
  t.match(dom, /<span class="label">instance="db2"<\/span><\/td><td class="state">suppressed<\/td>/, 'the silenced alert is suppressed');
  t.match(dom, /<td>instance="db2"<\/td><td class="state">active<\/td>.*<td>alice<\/td><td>disk swap<\/td>/s, 'the silence is listed');
});
