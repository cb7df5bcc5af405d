import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { BucketIndexCorruptedError, indexBlock, readBucketIndex, writeBucketIndex, type BucketIndex } from './bucket-index.js';
import { parseMeta } from './meta.js';

const META = JSON.stringify({
  ulid: '01HFAY3VMA1D6NYKSJAA6WSXP3',
  minTime: 1700006400057,
  maxTime: 1700092800000,
  stats: { numSamples: 10, numSeries: 1, numChunks: 1 },
  compaction: { level: 3, sources: ['01HFAY3VMA1D6NYKSJAA6WSXP1', '01HFAY3VMA1D6NYKSJAA6WSXP2'] },
  version: 1,
  thanos: {
    labels: { __org_id__: 'team-a' },
    downsample: { resolution: 0 },
    source: 'compactor',
    files: [{ rel_path: 'chunks/000001', size_bytes: 10 }, { rel_path: 'chunks/000002', size_bytes: 10 }, { rel_path: 'index', size_bytes: 5 }, { rel_path: 'meta.json' }],
  },
});

t.test('index entries as Mimir writes them', async (t) => {
  const m = parseMeta(META);
  t.same(m.sources.length, 2);
  t.same(indexBlock(m, 1700100435_999), {
    block_id: '01HFAY3VMA1D6NYKSJAA6WSXP3',
    min_time: 1700006400057,
    max_time: 1700092800000,
    uploaded_at: 1700100435,
    segments_format: '1b6d',
    segments_num: 2,
    source: 'compactor',
    compaction_level: 3,
    labels: { __org_id__: 'team-a' },
  });
  const gappy = parseMeta(META.replace('chunks/000002', 'chunks/000003'));
  t.notOk('segments_format' in indexBlock(gappy, 0), 'unknown numbering: no segments format');
  t.throws(() => parseMeta('{"version":2}'), /unexpected meta file version 2/);
  t.throws(() => parseMeta('{'), /invalid JSON/);
});

t.test('write, read, missing and corrupted index', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bucket-index-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bucket = new FilesystemBucket(dir);
  t.equal(await readBucketIndex(bucket, 'team-a'), undefined);
  const idx: BucketIndex = {
    version: 2,
    blocks: [indexBlock(parseMeta(META), 1700100435_000)],
    block_deletion_marks: [{ block_id: '01HFAY3VMA1D6NYKSJAA6WSXP3', deletion_time: 1701288425 }],
    updated_at: 1701291078,
  };
  await writeBucketIndex(bucket, 'team-a', idx);
  t.same(JSON.parse(gunzipSync(await bucket.get('team-a/bucket-index.json.gz')).toString()), idx, 'gzipped JSON');
  t.same(await readBucketIndex(bucket, 'team-a'), idx);
  await bucket.put('team-a/bucket-index.json.gz', Buffer.from('not gzip'));
  await t.rejects(readBucketIndex(bucket, 'team-a'), BucketIndexCorruptedError);
});
