// contract.ts is the behaviour every Bucket backend must share, as one tap
// suite: the filesystem backend runs it in the unit tests, the S3 backend
// against a real S3-compatible server in the peer suite. Keys live under a
// fresh prefix so a shared bucket can be reused.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { type Bucket, isNotFound } from './bucket.js';

/** ContractOptions tune the shared suite to a backend. */
export interface ContractOptions {
  /** largeBytes is the size of the big object (above the backend's multipart threshold for S3). */
  largeBytes: number;
  /** manyKeys objects are listed under one prefix (above S3's 1000-key page for pagination). */
  manyKeys: number;
}

async function notFound(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (err) {
    return isNotFound(err);
  }
}

/** pool runs fn over items with at most n in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** bucketContract runs the shared Bucket suite against bucket. */
export async function bucketContract(t: Test, bucket: Bucket, opts: ContractOptions): Promise<void> {
  const root = `contract-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'bucket-contract-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const k = (s: string): string => `${root}/${s}`;

  await t.test('put, get, overwrite', async (t) => {
    await bucket.put(k('team-a/01ABC/meta.json'), Buffer.from('{"a":1}'));
    t.equal((await bucket.get(k('team-a/01ABC/meta.json'))).toString(), '{"a":1}');
    await bucket.put(k('team-a/01ABC/meta.json'), Buffer.from('{"a":2}'));
    t.equal((await bucket.get(k('team-a/01ABC/meta.json'))).toString(), '{"a":2}', 'a second put replaces the object');
    await bucket.put(k('team-a/empty'), Buffer.alloc(0));
    t.equal((await bucket.get(k('team-a/empty'))).length, 0, 'an empty object');
    const odd = k("team-(x)!*'/a b+c=ü.json");
    await bucket.put(odd, Buffer.from('odd'));
    t.equal((await bucket.get(odd)).toString(), 'odd', 'tenant-ID characters, spaces and unicode in keys');
    t.same(await bucket.list(k("team-(x)!*'/")), [odd]);
  });

  await t.test('list: direct children, directories, recursive', async (t) => {
    await bucket.put(k('team-a/01ABC/chunks/000001'), Buffer.from('xyz'));
    await bucket.put(k('team-a/bucket-index.json.gz'), Buffer.from('gz'));
    t.same(await bucket.list(`${root}/`), [k("team-(x)!*'/"), k('team-a/')]);
    t.same(await bucket.list(k('team-a/')), [k('team-a/01ABC/'), k('team-a/bucket-index.json.gz'), k('team-a/empty')]);
    t.same(await bucket.list(k('team-a/'), { recursive: true }), [
      k('team-a/01ABC/chunks/000001'),
      k('team-a/01ABC/meta.json'),
      k('team-a/bucket-index.json.gz'),
      k('team-a/empty'),
    ]);
    t.same(await bucket.list(k('nothing/')), [], 'an unknown prefix lists nothing');
    t.ok((await bucket.list('')).includes(`${root}/`), 'the root lists the top-level prefix');
    await t.rejects(bucket.list(k('team-a')), /must end in \//);
  });

  await t.test('getRange, attributes, exists', async (t) => {
    const key = k('team-a/01ABC/chunks/000001');
    t.equal((await bucket.getRange(key, 1, 1)).toString(), 'y');
    t.equal((await bucket.getRange(key, 1, 5)).toString(), 'yz', 'a range past the end is cut short');
    t.equal((await bucket.getRange(key, 3, 4)).length, 0, 'a range at the end is empty');
    t.equal((await bucket.getRange(key, 0, 0)).length, 0, 'an empty range');
    const attrs = await bucket.attributes(key);
    t.equal(attrs.size, 3);
    t.ok(Math.abs(attrs.lastModified - Date.now()) < 10 * 60_000, 'lastModified is about now');
    t.equal(await bucket.exists(key), true);
    t.equal(await bucket.exists(k('team-a/01ABC')), false, 'a "directory" is not an object');
    t.equal(await bucket.exists(k('team-a/missing')), false);
  });

  await t.test('missing objects', async (t) => {
    t.ok(await notFound(bucket.get(k('team-a/missing'))), 'get');
    t.ok(await notFound(bucket.get(k('nope/x'))), 'get below an unknown prefix');
    t.ok(await notFound(bucket.getRange(k('team-a/missing'), 0, 10)), 'getRange');
    t.ok(await notFound(bucket.getRange(k('team-a/missing'), 0, 0)), 'getRange of nothing');
    t.ok(await notFound(bucket.attributes(k('team-a/missing'))), 'attributes');
    t.ok(await notFound(bucket.download(k('team-a/missing'), join(dir, 'missing'))), 'download');
    await bucket.delete(k('team-a/missing'));
    t.pass('deleting a missing object is not an error');
    await t.rejects(bucket.get('../etc/passwd'), /invalid object key/);
    await t.rejects(bucket.put('/abs', Buffer.from('x')), /invalid object key/);
  });

  await t.test('upload and download files, large ones in parts', async (t) => {
    const small = join(dir, 'small');
    await writeFile(small, 'small file');
    await bucket.upload(k('files/small'), small);
    t.equal((await bucket.get(k('files/small'))).toString(), 'small file');
    const large = randomBytes(opts.largeBytes);
    const largePath = join(dir, 'large');
    await writeFile(largePath, large);
    await bucket.upload(k('files/large'), largePath);
    t.equal((await bucket.attributes(k('files/large'))).size, large.length);
    const back = join(dir, 'sub', 'dir', 'large');
    await bucket.download(k('files/large'), back);
    t.ok((await readFile(back)).equals(large), 'a large file comes back byte for byte');
    t.ok((await bucket.getRange(k('files/large'), opts.largeBytes - 100, 100)).equals(large.subarray(-100)), 'the tail by range');
    await bucket.put(k('files/large-put'), large);
    t.ok((await bucket.get(k('files/large-put'))).equals(large), 'a large buffer put comes back');
  });

  await t.test('list pages past the first', async (t) => {
    const keys = Array.from({ length: opts.manyKeys }, (_, i) => k(`many/${String(i).padStart(5, '0')}`));
    await pool(keys, 16, (key) => bucket.put(key, Buffer.from('x')));
    const listed = await bucket.list(k('many/'));
    t.equal(listed.length, keys.length);
    t.same(listed, keys);
  });

  await t.test('delete', async (t) => {
    await bucket.delete(k('team-a/01ABC/chunks/000001'));
    await bucket.delete(k('team-a/01ABC/meta.json'));
    t.same(await bucket.list(k('team-a/')), [k('team-a/bucket-index.json.gz'), k('team-a/empty')], 'no empty "directory" is left');
    const all = await bucket.list(`${root}/`, { recursive: true });
    await pool(all, 16, (key) => bucket.delete(key));
    t.same(await bucket.list(`${root}/`, { recursive: true }), [], 'everything deleted');
  });
}
