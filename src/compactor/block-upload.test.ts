// block-upload.test.ts drives the block upload API through the real server
// (filesystem bucket) with blocks our writer cuts: every refusal with
// Mimir's status and text, the markers in the bucket at each step, a block
// that validates and completes, one whose damaged chunk fails validation,
// the validation concurrency limit and per-tenant overrides.

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { BlockVerifier } from './block-upload.js';
import { loadNative } from '../storage/native.js';
import { BlockUploadClient, uploadMeta, blockFiles } from '../testing/block-upload-client.js';
import { startTestServer } from '../testing/server.js';
import { nativeBlockVerifier } from '../storage/native.js';

const HOUR = 3600_000;
const native = loadNative();

/** writeTestBlock cuts a 2h block of two series from a fresh head, ending hoursAgo before now (aligned to 2h). */
async function writeTestBlock(parent: string, tenant: string, hoursAgo: number): Promise<{ dir: string; mint: number; maxt: number; ulid: string }> {
  const mint = Math.floor((Date.now() - hoursAgo * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const maxt = mint + 2 * HOUR;
  native.resetTenant(tenant);
  for (const job of ['a', 'b']) {
    const ts = Float64Array.from({ length: 240 }, (_, i) => mint + i * 30_000);
    const vs = Float64Array.from(ts, (_, i) => i * 2.5);
    native.appendSamplesUnchecked(tenant, ['__name__', 'up', 'job', job], ts, vs);
  }
  const written = native.writeBlock(tenant, parent, mint, maxt);
  native.resetTenant(tenant);
  if (written === null) throw new Error('no block written');
  return { dir: join(parent, written.ulid), mint, maxt, ulid: written.ulid };
}

/** newBlockId makes a valid ULID for uploads of hand-made metas. */
function newBlockId(n: number): string {
  return `01HZZZZZZZZZZZZZZZZZZZZ${String(n).padStart(3, '0')}`;
}

async function setup(t: Test, overrides: string, flags: Record<string, string | number | boolean> = {}, verifier?: BlockVerifier) {
  const dir = await mkdtemp(join(tmpdir(), 'block-upload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const rc = join(dir, 'runtime.yaml');
  await writeFile(rc, overrides);
  const srv = await startTestServer({ 'runtime-config.file': rc, 'compactor.data-dir': join(dir, 'compactor'), ...flags }, verifier === undefined ? {} : { blockVerifier: verifier });
  t.teardown(() => srv.close());
  return { dir, srv, bucketDir: join(srv.dir, 'blocks') };
}

const ENABLED = ['overrides:', '  team-a:', '    compactor_block_upload_enabled: true', '  old:', '    compactor_block_upload_enabled: true', '    compactor_blocks_retention_period: 1h', '  novalidate:', '    compactor_block_upload_enabled: true', '    compactor_block_upload_validation_enabled: false', ''].join('\n');

t.test('a block goes through start, files, finish and validation to complete', async (t) => {
  const { dir, srv, bucketDir } = await setup(t, ENABLED);
  const block = await writeTestBlock(join(dir, 'src'), 'bu-src', 6);
  const c = new BlockUploadClient(srv.port, 'team-a');
  const id = block.ulid;
  const meta = await uploadMeta(block.dir);
  (meta['thanos'] as Record<string, unknown>)['labels'] = { __org_id__: 'someone-else' };

  t.equal((await c.check(id)).status, 404);
  t.equal((await c.check(id)).body, "block doesn't exist\n");
  const started = await c.start(id, meta);
  t.equal(started.status, 200, started.body);
  t.equal(started.body, '');
  t.same(JSON.parse((await c.check(id)).body), { result: 'uploading' });
  const uploading = JSON.parse(await readFile(join(bucketDir, 'team-a', id, 'uploading-meta.json'), 'utf8')) as Record<string, any>;
  t.equal(uploading['ulid'], id);
  t.same(uploading['compaction']['sources'], [id], 'the block is its own source');
  t.equal(uploading['thanos']['source'], 'upload');
  t.same(uploading['thanos']['labels'], {}, 'the deprecated __org_id__ label is dropped');
  t.same(
    Object.keys(uploading),
    ['ulid', 'minTime', 'maxTime', 'stats', 'compaction', 'version', 'thanos'],
    "fields in Mimir's block.Meta order",
  );

  for (const f of await blockFiles(block.dir)) {
    const r = await c.file(id, f.rel_path, await readFile(join(block.dir, f.rel_path)));
    t.equal(r.status, 200, `${f.rel_path}: ${r.body}`);
  }
  t.same(JSON.parse((await c.check(id)).body), { result: 'uploading' }, 'still uploading until finish');
  const fin = await c.finish(id);
  t.equal(fin.status, 200, fin.body);
  t.same(await c.waitFinal(id), { result: 'complete' });

  // meta.json marks the block complete before uploading-meta.json is deleted (as Mimir): wait for the delete.
  const want = ['chunks', 'chunks/000001', 'index', 'meta.json'];
  let files: string[] = [];
  for (let i = 0; i < 100; i++) {
    files = (await readdir(join(bucketDir, 'team-a', id), { recursive: true })).sort();
    if (files.length === want.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(files, want, 'markers gone, the block in place');
  const final = await readFile(join(bucketDir, 'team-a', id, 'meta.json'), 'utf8');
  t.equal(final, JSON.stringify(uploading) + '\n', 'the final meta.json is the sanitized meta');
  t.same(await nativeBlockVerifier()(join(bucketDir, 'team-a', id), block.mint, block.maxt, true), { series: 2, chunks: 4, samples: 480 });

  t.equal((await c.start(id, meta)).status, 409);
  t.equal((await c.start(id, meta)).body, 'block already exists\n');
  t.equal((await c.file(id, 'index', 'x')).status, 409);
  t.equal((await c.finish(id)).body, 'block already exists\n');
  t.same(JSON.parse((await c.check(id)).body), { result: 'complete' });
  t.equal((await c.check(id)).headers['content-type'], 'application/json');
});

t.test('refusals with Mimir statuses and texts', async (t) => {
  const { dir, srv } = await setup(t, ENABLED);
  const block = await writeTestBlock(join(dir, 'src'), 'bu-refuse', 6);
  const meta = await uploadMeta(block.dir);
  const c = new BlockUploadClient(srv.port, 'team-a');
  const id = newBlockId(1);
  const expect = async (name: string, p: Promise<{ status: number; body: string }>, status: number, body: string) => {
    const r = await p;
    t.equal(r.status, status, `${name}: status`);
    t.equal(r.body, body + '\n', `${name}: text`);
  };

  await expect('disabled tenant', new BlockUploadClient(srv.port, 'team-b').start(id, meta), 400, 'block upload is disabled');
  await expect('disabled tenant check', new BlockUploadClient(srv.port, 'team-b').check(id), 400, 'block upload is disabled');
  const noOrg = await fetch(`http://127.0.0.1:${srv.port}/api/v1/upload/block/${id}/start`, { method: 'POST', body: '{}' });
  t.equal(noOrg.status, 401);
  t.equal(await noOrg.text(), 'no org id\n');
  await expect('bad block ID', c.start('not-a-ulid', meta), 400, 'invalid block ID');
  await expect('ULID overflow', c.check('81HZZZZZZZZZZZZZZZZZZZZ001'), 400, 'invalid block ID');
  await expect('files before start', c.file(id, 'index', 'x'), 404, 'block upload not started');
  await expect('finish before start', c.finish(id), 404, 'block upload not started');
  await expect('malformed', c.start(id, '{"minTime": "x"'), 400, 'malformed request body');
  await expect('wrong type', c.start(id, { ...meta, minTime: 'yesterday' }), 400, 'malformed request body');
  await expect('version', c.start(id, { ...meta, version: 2 }), 400, 'version must be 1');
  await expect('time range', c.start(id, { ...meta, minTime: 10, maxTime: 5 }), 400, 'invalid minTime/maxTime: minTime=10, maxTime=5');
  const future = Date.UTC(2200, 0, 1);
  await expect(
    'future',
    c.start(id, { ...meta, minTime: future, maxTime: future + HOUR }),
    400,
    `block time(s) greater than the present: minTime=${future} (2200-01-01T00:00:00Z), maxTime=${future + HOUR} (2200-01-01T01:00:00Z)`,
  );
  const thanos = meta['thanos'] as Record<string, unknown>;
  await expect('label', c.start(id, { ...meta, thanos: { ...thanos, labels: { cluster: 'x' } } }), 400, 'unsupported external label: cluster');
  await expect('shard label', c.start(id, { ...meta, thanos: { ...thanos, labels: { __compactor_shard_id__: '3_of_2' } } }), 400, 'invalid __compactor_shard_id__ external label: "3_of_2"');
  await expect('downsampled', c.start(id, { ...meta, thanos: { ...thanos, downsample: { resolution: 300000 } } }), 400, 'block contains downsampled data');
  await expect('file path', c.start(id, { ...meta, thanos: { ...thanos, files: [{ rel_path: 'tombstones', size_bytes: 9 }] } }), 400, 'file with invalid path: tombstones');
  await expect('file size', c.start(id, { ...meta, thanos: { ...thanos, files: [{ rel_path: 'index' }] } }), 400, 'file with invalid size: index');
  await expect('too large', c.start(id, ' '.repeat(1024 * 1024 + 1)), 413, 'The block metadata was too large (maximum size allowed is 1048576 bytes)');
  const day = Math.floor((Date.now() - 3 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
  await expect('longer than 24h', c.start(id, { ...meta, minTime: day, maxTime: day + 25 * HOUR }), 422, 'block duration (1d1h) is larger than max configured compactor time range (1d)');
  await expect('crossing a day', c.start(id, { ...meta, minTime: day + 23 * HOUR, maxTime: day + 25 * HOUR }), 422, 'block time range crosses boundary of configured compactor time range (1d)');
  const old = new BlockUploadClient(srv.port, 'old');
  await expect('retention', old.start(id, meta), 422, `block max time (${goTime(block.maxt)}) older than retention period`);

  t.equal((await c.start(id, meta)).status, 200);
  await expect('missing path', c.file(id, '', 'x'), 400, 'missing or invalid file path');
  await expect('meta.json', c.file(id, 'meta.json', 'x'), 400, 'meta.json is not allowed');
  await expect('nested meta.json', c.file(id, 'chunks/meta.json', 'x'), 400, 'meta.json is not allowed');
  await expect('bad path', c.file(id, 'chunks/1', 'x'), 400, 'invalid path: "chunks/1"');
  await expect('traversal', c.file(id, '../index', 'x'), 400, 'invalid path: "../index"');
  await expect('empty file', c.file(id, 'index', ''), 400, 'file cannot be empty');
  await expect('unlisted file', c.file(id, 'chunks/000009', 'x'), 400, 'unexpected file');
  await expect('wrong size', c.file(id, 'index', 'x'), 400, "file size doesn't match meta.json");
  t.same(JSON.parse((await c.check(id)).body), { result: 'uploading' });
  t.equal((await c.start(id, meta)).status, 200, 'an open upload may be started again');
});

t.test('a damaged block fails validation and stays refused', async (t) => {
  const { dir, srv, bucketDir } = await setup(t, ENABLED);
  const block = await writeTestBlock(join(dir, 'src'), 'bu-damaged', 6);
  const seg = join(block.dir, 'chunks', '000001');
  const data = await readFile(seg);
  data[data.length - 5] ^= 0xff;
  await writeFile(seg, data);
  const c = new BlockUploadClient(srv.port, 'team-a');
  const id = block.ulid;
  const res = await c.upload(id, block.dir);
  t.equal(res.result, 'failed');
  t.match(res.error, /^error validating block: corrupt block: chunks: chunk ref 0x[0-9a-f]+ in segment 000001: .*checksum mismatch/);
  const v = JSON.parse(await readFile(join(bucketDir, 'team-a', id, 'validation.json'), 'utf8')) as { LastUpdate: number; Error: string };
  t.equal(v.Error, res.error, 'validation.json keeps the error');
  t.ok(Math.abs(v.LastUpdate - Date.now()) < 60_000);
  t.notOk(existsSync(join(bucketDir, 'team-a', id, 'meta.json')), 'no meta.json: the block is not part of the data');
  t.equal((await c.start(id, {})).body, 'block validation failed\n');
  t.equal((await c.file(id, 'index', 'x')).status, 400);
  t.equal((await c.finish(id)).body, 'block validation failed\n');

  // A file missing from the bucket fails before the index is read.
  const block2 = await writeTestBlock(join(dir, 'src'), 'bu-missing', 8);
  const meta2 = await uploadMeta(block2.dir);
  t.equal((await c.start(block2.ulid, meta2)).status, 200);
  t.equal((await c.file(block2.ulid, 'index', await readFile(join(block2.dir, 'index')))).status, 200);
  t.equal((await c.finish(block2.ulid)).status, 200);
  const r2 = await c.waitFinal(block2.ulid);
  t.equal(r2.result, 'failed');
  t.match(r2.error, /^failed to stat chunks\/000001: stat .*000001: no such file or directory$/);
});

t.test('validation concurrency: 429 while a validation runs; validation can be turned off per tenant', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { dir, srv } = await setup(t, ENABLED, {}, async (d, mint, maxt, chunks) => {
    await gate;
    return nativeBlockVerifier()(d, mint, maxt, chunks);
  });
  const c = new BlockUploadClient(srv.port, 'team-a');
  const b1 = await writeTestBlock(join(dir, 'src'), 'bu-c1', 6);
  const b2 = await writeTestBlock(join(dir, 'src'), 'bu-c2', 10);
  for (const b of [b1, b2]) {
    t.equal((await c.start(b.ulid, await uploadMeta(b.dir))).status, 200);
    for (const f of await blockFiles(b.dir)) t.equal((await c.file(b.ulid, f.rel_path, await readFile(join(b.dir, f.rel_path)))).status, 200);
  }
  t.equal((await c.finish(b1.ulid)).status, 200);
  t.same(JSON.parse((await c.check(b1.ulid)).body), { result: 'validating' });
  t.equal((await c.start(b1.ulid, {})).body, 'block validation in progress\n');
  const busy = await c.finish(b2.ulid);
  t.equal(busy.status, 429);
  t.equal(busy.body, 'too many block upload validations in progress, limit is 1\n');
  release();
  t.same(await c.waitFinal(b1.ulid), { result: 'complete' });
  // The slot frees once the first validation has also removed its marker.
  let again = await c.finish(b2.ulid);
  for (let i = 0; i < 100 && again.status === 429; i++) {
    await new Promise((r) => setTimeout(r, 20));
    again = await c.finish(b2.ulid);
  }
  t.equal(again.status, 200, 'the slot is free again');
  t.same(await c.waitFinal(b2.ulid), { result: 'complete' });

  const nv = new BlockUploadClient(srv.port, 'novalidate');
  const b3 = await writeTestBlock(join(dir, 'src'), 'bu-nv', 6);
  const meta3 = await uploadMeta(b3.dir);
  t.equal((await nv.start(b3.ulid, meta3)).status, 200);
  t.equal((await nv.finish(b3.ulid)).status, 200);
  t.same(JSON.parse((await nv.check(b3.ulid)).body), { result: 'complete' }, 'without validation finish completes at once (even with files missing)');
});

/** goTime is Go's time.Time.String() of a whole-second UTC time. */
function goTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}
