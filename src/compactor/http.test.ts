// http.test.ts drives the compactor's HTTP API through the real server: the
// tenants and planned-jobs pages (HTML and JSON), and tenant deletion under
// /compactor and /purger until the compactor has deleted the blocks.

import t from 'tap';
import { join } from 'node:path';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { readBucketIndex } from './bucket-index.js';
import { httpRequest } from '../testing/http-client.js';
import { makeBlock, uploadBlock } from '../testing/blocks.js';
import { startTestServer } from '../testing/server.js';

const H = 3_600_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('compactor pages and tenant deletion through the server', async (t) => {
  const s = await startTestServer({
    'compactor.compaction-interval': 100,
    'compactor.cleanup-interval': 100,
    // Fresh blocks wait: the planned job stays visible on the page.
    'compactor.first-level-compaction-wait-period': 3_600_000,
  });
  t.teardown(() => s.close());
  const bucket = new FilesystemBucket(join(s.dir, 'blocks'));
  const scratch = join(s.dir, 'scratch');
  const ids: string[] = [];
  for (const off of [0, 30_000]) {
    const ts = Array.from({ length: 120 }, (_, i) => i * 60_000 + off);
    ids.push(await uploadBlock(bucket, 'team-a', makeBlock(scratch, [{ labels: ['__name__', 'up'], ts, vs: ts.map(() => 1) }], 0, 2 * H)));
  }
  ids.sort();
  // The index may first be written between the two uploads: wait until it lists both blocks.
  await until('the bucket index with both blocks', async () => {
    const listed = new Set((await readBucketIndex(bucket, 'team-a'))?.blocks.map((b) => b.block_id) ?? []);
    return ids.every((id) => listed.has(id));
  });

  const tenants = await httpRequest(s.port, '/compactor/tenants');
  t.equal(tenants.status, 200);
  t.match(tenants.headers['content-type'], /text\/html/);
  t.match(tenants.body, /<title>Compactor: bucket tenants<\/title>/);
  t.match(tenants.body, '<a href="tenant/team-a/planned_jobs">team-a</a>');
  const tenantsJson = await httpRequest(s.port, '/compactor/tenants', { headers: { Accept: 'application/json' } });
  t.match(JSON.parse(tenantsJson.body), { tenants: ['team-a'] });

  const jobs = await httpRequest(s.port, '/compactor/tenant/team-a/planned_jobs?show_blocks=on');
  t.equal(jobs.status, 200);
  t.match(jobs.body, /<h1>Compaction jobs based on bucket-index<\/h1>/);
  t.match(jobs.body, 'Tenant: <strong>team-a</strong>');
  t.match(jobs.body, /<td>1<\/td><td>1970-01-01T00:00:00Z<\/td><td>1970-01-01T02:00:00Z<\/td><td>2<\/td><td><code>0@\d+-merge--0-7200000<\/code><\/td>/);
  for (const id of ids) t.match(jobs.body, id);
  const jobsJson = JSON.parse((await httpRequest(s.port, '/compactor/tenant/team-a/planned_jobs', { headers: { Accept: 'application/json' } })).body);
  t.match(jobsJson, { tenant: 'team-a', merge_jobs_count: 1, split_jobs_count: 0, jobs: [{ min_time: '1970-01-01T00:00:00Z', max_time: '1970-01-01T02:00:00Z', blocks: ids }] });
  const missing = await httpRequest(s.port, '/compactor/tenant/nobody/planned_jobs');
  t.equal(missing.status, 200);
  t.equal(missing.body, 'Failed to read bucket index for tenant');

  // Tenant deletion: authentication first.
  const noOrg = await httpRequest(s.port, '/compactor/delete_tenant', { method: 'POST' });
  t.equal(noOrg.status, 401);
  t.equal(noOrg.body, 'no org id\n');
  t.equal((await httpRequest(s.port, '/compactor/delete_tenant')).status, 405, 'POST only');
  const status0 = await httpRequest(s.port, '/compactor/delete_tenant_status', { headers: { 'X-Scope-OrgID': 'team-a' } });
  t.equal(status0.status, 200);
  t.match(status0.headers['content-type'], /application\/json/);
  t.same(JSON.parse(status0.body), { tenant_id: 'team-a', blocks_deleted: false });
  const del = await httpRequest(s.port, '/compactor/delete_tenant', { method: 'POST', headers: { 'X-Scope-OrgID': 'team-a' } });
  t.equal(del.status, 200);
  t.equal(del.body, '');
  t.ok(await bucket.exists('team-a/markers/tenant-deletion-mark.json'), 'the tenant deletion mark is written');
  await until('the tenant blocks to be deleted', async () => {
    const r = await httpRequest(s.port, '/compactor/delete_tenant_status', { headers: { 'X-Scope-OrgID': 'team-a' } });
    return JSON.parse(r.body).blocks_deleted === true;
  });
  t.notOk(await bucket.exists('team-a/bucket-index.json.gz'), 'the bucket index is gone with the blocks');
  for (const id of ids) t.notOk(await bucket.exists(`team-a/${id}/meta.json`));

  // The older purger paths answer the same way.
  const purge = await httpRequest(s.port, '/purger/delete_tenant', { method: 'POST', headers: { 'X-Scope-OrgID': 'team-b' } });
  t.equal(purge.status, 200);
  const purgeStatus = await httpRequest(s.port, '/purger/delete_tenant_status', { headers: { 'X-Scope-OrgID': 'team-b' } });
  t.same(JSON.parse(purgeStatus.body), { tenant_id: 'team-b', blocks_deleted: true });
  t.equal((await httpRequest(s.port, '/purger/delete_tenant_status')).status, 401);

  // The index page links the tenants page; /services lists the compactor.
  t.match((await httpRequest(s.port, '/')).body, 'href="/compactor/tenants"');
  t.match((await httpRequest(s.port, '/services', { headers: { Accept: 'text/plain' } })).body, 'compactor: Running');
  const metrics = (await httpRequest(s.port, '/metrics')).body;
  t.match(metrics, /^cortex_compactor_runs_completed_total [1-9]/m, 'compaction runs are counted');
  t.match(metrics, /^cortex_compactor_blocks_cleaned_total 2$/m, 'the deleted tenant\'s two blocks are counted');
});
