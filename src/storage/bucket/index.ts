// index.ts picks the bucket backend from -blocks-storage.backend and builds
// it from the flags: the one place that knows every backend.

import type { Config } from '../../config/config.js';
import type { Bucket } from './bucket.js';
import { FilesystemBucket } from './filesystem.js';
import { S3Bucket, type S3Config } from './s3.js';
import { flagString } from '../../config/config.js';

export type { Bucket, ObjectAttributes } from './bucket.js';
export { NotFoundError, isNotFound } from './bucket.js';

function flag<T extends string | number | boolean>(config: Config, name: string): T {
  const v = config.values.get(name);
  if (v === undefined) throw new Error(`config: no flag ${name}`);
  return v as T;
}

/** s3ConfigFromFlags reads the -blocks-storage.s3.* flags. */
export function s3ConfigFromFlags(config: Config): S3Config {
  return {
    endpoint: flag(config, 'blocks-storage.s3.endpoint'),
    bucketName: flag(config, 'blocks-storage.s3.bucket-name'),
    region: flag(config, 'blocks-storage.s3.region'),
    accessKeyId: flag(config, 'blocks-storage.s3.access-key-id'),
    secretAccessKey: flag(config, 'blocks-storage.s3.secret-access-key'),
    sessionToken: flag(config, 'blocks-storage.s3.session-token'),
    insecure: flag(config, 'blocks-storage.s3.insecure'),
    bucketLookupType: flag(config, 'blocks-storage.s3.bucket-lookup-type'),
    nativeAwsAuthEnabled: flag(config, 'blocks-storage.s3.native-aws-auth-enabled'),
    partSize: flag(config, 'blocks-storage.s3.part-size'),
    storageClass: flag(config, 'blocks-storage.s3.storage-class'),
    insecureSkipVerify: flag(config, 'blocks-storage.s3.http.insecure-skip-verify'),
    maxRetries: flag(config, 'blocks-storage.s3.max-retries'),
  };
}

/** createBucket builds the bucket -blocks-storage.backend names; throws on a bad configuration. */
export function createBucket(config: Config): Bucket {
  return createBackendBucket(config, config.blocksStorageBackend, config.filesystemDir, '');
}

/**
 * createBackendBucket builds a bucket of the given backend: a filesystem directory, or an S3
 * bucket with the -blocks-storage.s3.* settings (bucketName, when not empty, instead of theirs).
 */
export function createBackendBucket(config: Config, backend: string, filesystemDir: string, bucketName: string): Bucket {
  switch (backend) {
    case 'filesystem':
      return new FilesystemBucket(filesystemDir);
    case 's3': {
      const s3 = s3ConfigFromFlags(config);
      return new S3Bucket(bucketName === '' ? s3 : { ...s3, bucketName });
    }
    default:
      throw new Error(`unsupported storage backend: ${backend}`);
  }
}

/** createAlertmanagerBucket builds the bucket -alertmanager-storage.backend names (S3 credentials shared with -blocks-storage.s3.*). */
export function createAlertmanagerBucket(config: Config): Bucket {
  const backend = flagString(config.values, 'alertmanager-storage.backend');
  switch (backend) {
    case 'filesystem':
      return new FilesystemBucket(flagString(config.values, 'alertmanager-storage.filesystem.dir'));
    case 's3': {
      const s3 = s3ConfigFromFlags(config);
      const endpoint = flagString(config.values, 'alertmanager-storage.s3.endpoint');
      return new S3Bucket({ ...s3, bucketName: flagString(config.values, 'alertmanager-storage.s3.bucket-name'), endpoint: endpoint !== '' ? endpoint : s3.endpoint });
    }
    default:
      throw new Error(`unsupported storage backend: ${backend}`);
  }
}
