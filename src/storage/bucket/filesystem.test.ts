import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { isNotFound } from './bucket.js';
import { bucketContract } from './contract.js';
import { FilesystemBucket } from './filesystem.js';

t.test('filesystem bucket stores, lists and deletes objects', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'bucket-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const b = new FilesystemBucket(root);
  await b.put('team-a/01ABC/meta.json', Buffer.from('{"a":1}'));
  await b.put('team-a/01ABC/chunks/000001', Buffer.from('xyz'));
  await b.put('team-a/bucket-index.json.gz', Buffer.from('gz'));
  t.same(await b.list(''), ['team-a/']);
  t.same(await b.list('team-a/'), ['team-a/01ABC/', 'team-a/bucket-index.json.gz']);
  t.same(await b.list('team-a/', { recursive: true }), [
    'team-a/01ABC/chunks/000001',
    'team-a/01ABC/meta.json',
    'team-a/bucket-index.json.gz',
  ]);
  t.equal((await b.get('team-a/01ABC/meta.json')).toString(), '{"a":1}');
  t.equal((await b.getRange('team-a/01ABC/chunks/000001', 1, 5)).toString(), 'yz');
  t.equal((await b.attributes('team-a/01ABC/chunks/000001')).size, 3);
  t.equal(await b.exists('team-a/01ABC/meta.json'), true);
  t.equal(await b.exists('team-a/01ABC'), false);
  t.ok(isNotFound(await b.get('team-a/missing').catch((e: unknown) => e)));
  t.ok(isNotFound(await b.get('nope/x').catch((e: unknown) => e)));
  await t.rejects(b.get('../etc/passwd'), /invalid object key/);
  await b.delete('team-a/01ABC/chunks/000001');
  await b.delete('team-a/01ABC/meta.json');
  await b.delete('team-a/01ABC/meta.json');
  t.same(await b.list('team-a/'), ['team-a/bucket-index.json.gz']);
  t.same(await b.list('other/'), []);
});

t.test('filesystem bucket passes the shared Bucket contract', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'bucket-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await bucketContract(t, new FilesystemBucket(root), { largeBytes: 3 * 1024 * 1024 + 7, manyKeys: 1003 });
});
