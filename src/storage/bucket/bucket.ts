// bucket.ts is the object-storage abstraction blocks are shipped to and read
// back from: a flat namespace of objects addressed by `/`-separated keys
// (`<tenant>/<ULID>/meta.json`, `<tenant>/bucket-index.json.gz`), as Thanos and
// Mimir lay a bucket out. The filesystem backend maps keys to files under one
// directory; the s3 backend maps them to objects of one S3 bucket.

import type { S3Config } from './s3.js';

/** ObjectAttributes describes one stored object. */
export interface ObjectAttributes {
  size: number;
  /** lastModified in unix ms. */
  lastModified: number;
}

/** Bucket is the whole surface the shipper, store-gateway and compactor use. */
export interface Bucket {
  /** name identifies the backend in logs and pages, e.g. `filesystem:/var/blocks`. */
  readonly name: string;
  /** get reads a whole object; rejects with an error whose `notFound` is true when missing. */
  get(key: string): Promise<Buffer>;
  /** getRange reads `length` bytes at `offset`. */
  getRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** put stores an object atomically: readers see the old or the new whole object. */
  put(key: string, body: Buffer): Promise<void>;
  /** upload stores the content of a local file. */
  upload(key: string, localPath: string): Promise<void>;
  /** download writes an object to a local file (parent directories created). */
  download(key: string, localPath: string): Promise<void>;
  /** exists says whether an object exists. */
  exists(key: string): Promise<boolean>;
  /** attributes of an object; rejects with notFound when missing. */
  attributes(key: string): Promise<ObjectAttributes>;
  /** delete removes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * list returns the direct children of a prefix ending in `/` (or of the
   * root for ''): objects as full keys, "directories" as full keys ending in
   * `/`, sorted. With recursive, every object below the prefix instead.
   */
  list(prefix: string, opts?: { recursive?: boolean }): Promise<string[]>;
  /**
   * localPath is where a filesystem bucket keeps the object or prefix `key` on this machine, for
   * readers that map files in place instead of copying them; remote buckets leave it out.
   */
  localPath?(key: string): string;
  /**
   * rangeReadConfig is how the native core reaches a remote bucket itself to read block files by
   * byte range (the store-gateway's lazy reads); absent or undefined when it cannot (a filesystem
   * bucket, or S3 credentials only the SDK's provider chain resolves).
   */
  rangeReadConfig?(): RangeReadConfig | undefined;
  /** close releases connections. */
  close(): Promise<void>;
}

/**
 * RangeReadConfig is an S3 bucket as the native core's ranged reader takes it: the flags' settings
 * (region resolved; keys both empty for unsigned requests), whether the bucket goes in the path,
 * and the attempts per request.
 */
export type RangeReadConfig = Pick<S3Config, 'endpoint' | 'bucketName' | 'region' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'insecure' | 'insecureSkipVerify'> & {
  pathStyle: boolean;
  maxAttempts: number;
};

/** NotFoundError is what get/attributes reject with for a missing key. */
export class NotFoundError extends Error {
  readonly notFound = true;
  constructor(key: string) {
    super(`object not found: ${key}`);
    this.name = 'NotFoundError';
  }
}

/** isNotFound tells a missing-object error from other failures. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { notFound?: unknown }).notFound === true;
}

/** checkKey rejects keys that could escape the bucket root or are not canonical. */
export function checkKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.')) {
    throw new Error(`invalid object key ${JSON.stringify(key)}`);
  }
}
