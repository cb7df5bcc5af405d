// compactor-pages.test.ts renders the compactor's pages in headless Debian
// Chromium: the bucket tenants page, and the planned jobs page reached by
// following its link (relative, as Mimir's). Part of the peer suite; skipped
// with a reason when Chromium is absent.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { CHROMIUM as CHROMIUM_PEER, skipUnless } from '../peer/lib/binary.js';
import { FilesystemBucket } from '../../src/storage/bucket/filesystem.js';
import { makeBlock, uploadBlock } from '../../src/testing/blocks.js';
import { startTestServer } from '../../src/testing/server.js';

const run = promisify(execFile);
const CHROMIUM = CHROMIUM_PEER.path;
const H = 3_600_000;

async function renderDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', url],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

t.test('compactor pages render in headless Chromium', { skip: skipUnless(CHROMIUM_PEER) }, async (t) => {
  const server = await startTestServer({
    'compactor.cleanup-interval': 100,
    'compactor.first-level-compaction-wait-period': 3_600_000,
  });
  t.teardown(() => server.close());
  const bucket = new FilesystemBucket(join(server.dir, 'blocks'));
  for (const off of [0, 30_000]) {
    const ts = Array.from({ length: 60 }, (_, i) => i * 60_000 + off);
    await uploadBlock(bucket, 'browser-tenant', makeBlock(join(server.dir, 'scratch'), [{ labels: ['__name__', 'up'], ts, vs: ts.map(() => 1) }], 0, 2 * H));
  }
  for (let i = 0; i < 200 && !(await bucket.exists('browser-tenant/bucket-index.json.gz')); i++) await new Promise((r) => setTimeout(r, 50));
  const base = `http://127.0.0.1:${server.port}`;

  const tenants = await renderDom(`${base}/compactor/tenants`);
  t.match(tenants, /<title>Compactor: bucket tenants<\/title>/);
  t.match(tenants, /<h1>Compactor: bucket tenants<\/h1>/);
  const href = /<a href="([^"]+)">browser-tenant<\/a>/.exec(tenants)?.[1];
  t.equal(href, 'tenant/browser-tenant/planned_jobs');

  const jobs = await renderDom(new URL(href!, `${base}/compactor/tenants`).toString() + '?show_blocks=on');
  t.match(jobs, /<title>Compactor: compaction jobs based on bucket-index<\/title>/);
  t.match(jobs, /<strong>browser-tenant<\/strong>/);
  t.match(jobs, /<td>1<\/td><td>1970-01-01T00:00:00Z<\/td><td>1970-01-01T02:00:00Z<\/td><td>2<\/td>/, 'the planned job is a table row');
  t.match(jobs, /<input type="checkbox" id="show-blocks" name="show_blocks" checked="">/, 'the form keeps the option');
});
