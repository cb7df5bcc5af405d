// alertmanager-s3.test.ts (peer suite): with -alertmanager-storage.backend=s3
// against a real S3-compatible server (moto), a tenant's configuration is
// stored at `alerts/<tenant>` as Mimir's AlertConfigDesc protobuf, its state
// at `alertmanager/<tenant>/fullstate` on shutdown, and a second process
// started on an empty local directory gets both back from the bucket.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../src/app.js';
import { defaultConfig } from '../../src/config/config.js';
import { decodeConfigDesc } from '../../src/alertmanager/store.js';
import { createAlertmanagerBucket } from '../../src/storage/bucket/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3SkipReason, startS3Server } from './lib/s3-server.js';

t.test('Alertmanager configs and state in S3', { skip: s3SkipReason() }, async (t) => {
  const s3 = await startS3Server('alertmanager');
  t.teardown(() => s3.stop());
  const dir = mkdtempSync(join(tmpdir(), 'am-s3-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = (n: number): ReturnType<typeof defaultConfig> =>
    defaultConfig({
      'server.http-listen-address': '127.0.0.1',
      'server.http-listen-port': 0,
      'log.level': 'warn',
      // Mimir's -target=all leaves the alertmanager out.
      target: 'all,alertmanager',
      'blocks-storage.tsdb.dir': join(dir, `tsdb${n}`),
      'blocks-storage.filesystem.dir': join(dir, `blocks${n}`),
      'blocks-storage.bucket-store.sync-dir': join(dir, `sync${n}`),
      'compactor.data-dir': join(dir, `compactor${n}`),
      'alertmanager.storage.path': join(dir, `am-local${n}`),
      'alertmanager-storage.backend': 's3',
      'alertmanager-storage.s3.endpoint': s3.endpoint,
      'alertmanager-storage.s3.bucket-name': s3.bucket,
      'blocks-storage.s3.access-key-id': S3_ACCESS_KEY,
      'blocks-storage.s3.secret-access-key': S3_SECRET_KEY,
      'blocks-storage.s3.insecure': true,
    });
  const amConfig = 'route: {receiver: a}\nreceivers: [{name: a}]\n';
  const s1 = await startServer(config(1));
  const base1 = `http://127.0.0.1:${s1.port}`;
  const h = { 'X-Scope-OrgID': 's3-tenant' };
  t.equal((await fetch(`${base1}/api/v1/alerts`, { method: 'POST', headers: h, body: JSON.stringify({ alertmanager_config: amConfig, template_files: { 'x.tmpl': '{{ define "x" }}x{{ end }}' } }) })).status, 201);
  const now = Date.now();
  const sil = await fetch(`${base1}/alertmanager/api/v2/silences`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ matchers: [{ name: 'a', value: 'b', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'me', comment: 'kept in s3' }),
  });
  const id = ((await sil.json()) as { silenceID: string }).silenceID;
  await s1.close();

  const bucket = createAlertmanagerBucket(config(1));
  t.teardown(() => bucket.close());
  const desc = decodeConfigDesc(await bucket.get('alerts/s3-tenant'));
  t.equal(desc.user, 's3-tenant');
  t.equal(desc.rawConfig, amConfig);
  t.same(desc.templates, [{ filename: 'x.tmpl', body: '{{ define "x" }}x{{ end }}' }]);
  t.ok(await bucket.exists('alertmanager/s3-tenant/fullstate'), 'state uploaded on shutdown');

  const s2 = await startServer(config(2));
  t.teardown(() => s2.close());
  const base2 = `http://127.0.0.1:${s2.port}`;
  const got = await fetch(`${base2}/alertmanager/api/v2/silence/${id}`, { headers: h });
  t.equal(got.status, 200, 'the silence comes back from the bucket');
  t.equal(((await got.json()) as { comment: string }).comment, 'kept in s3');
});
