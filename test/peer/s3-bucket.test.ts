// s3-bucket.test.ts (peer suite) runs the shared Bucket contract against the
// S3 backend talking to a real S3-compatible server (moto) on loopback,
// built by createBucket from the -blocks-storage.s3.* flags as a user would
// set them for a MinIO-style server: endpoint host:port, -insecure, keys.
// Small part sizes make the large object go up as a multipart upload.

import t from 'tap';
import { defaultConfig } from '../../src/config/config.js';
import { createBucket } from '../../src/storage/bucket/index.js';
import { bucketContract } from '../../src/storage/bucket/contract.js';
import { MIN_PART_SIZE } from '../../src/storage/bucket/s3.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3SkipReason, startS3Server } from './lib/s3-server.js';

t.test('the S3 backend passes the Bucket contract against a real S3 server', { skip: s3SkipReason() }, async (t) => {
  const server = await startS3Server('contract');
  t.teardown(() => server.stop());
  const config = defaultConfig({
    'blocks-storage.backend': 's3',
    'blocks-storage.s3.endpoint': server.endpoint,
    'blocks-storage.s3.bucket-name': server.bucket,
    'blocks-storage.s3.access-key-id': S3_ACCESS_KEY,
    'blocks-storage.s3.secret-access-key': S3_SECRET_KEY,
    'blocks-storage.s3.insecure': true,
    'blocks-storage.s3.part-size': MIN_PART_SIZE,
  });
  const bucket = createBucket(config);
  t.teardown(() => bucket.close());
  t.match(bucket.name, /^s3:127\.0\.0\.1:\d+\/contract$/);
  // 2 full parts and a short one; 1003 keys make the listing take two pages.
  await bucketContract(t, bucket, { largeBytes: 2 * MIN_PART_SIZE + 12345, manyKeys: 1003 });
});

t.test('S3 errors name the operation, key and S3 error code', { skip: s3SkipReason() }, async (t) => {
  const server = await startS3Server('errors');
  t.teardown(() => server.stop());
  const bucket = createBucket(
    defaultConfig({
      'blocks-storage.backend': 's3',
      'blocks-storage.s3.endpoint': server.endpoint,
      'blocks-storage.s3.bucket-name': 'no-such-bucket',
      'blocks-storage.s3.access-key-id': S3_ACCESS_KEY,
      'blocks-storage.s3.secret-access-key': S3_SECRET_KEY,
      'blocks-storage.s3.insecure': true,
      'blocks-storage.s3.max-retries': 1,
    }),
  );
  t.teardown(() => bucket.close());
  await t.rejects(bucket.put('a/b', Buffer.from('x')), /^s3 put a\/b: NoSuchBucket \(HTTP 404\)/);
  await t.rejects(bucket.list('a/'), /^s3 list a\/: NoSuchBucket \(HTTP 404\)/);
});
