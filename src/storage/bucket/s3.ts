// s3.ts is the `-blocks-storage.backend=s3` bucket over the AWS SDK v3: one
// S3 bucket (AWS or any S3-compatible server such as MinIO), keys used as
// object names unchanged. Files above the part size go up as multipart
// uploads read part by part from disk; list uses the `/` delimiter; getRange
// sends a Range header.

import { Agent as HttpsAgent } from 'node:https';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
// The SDK is loaded on the first request (about 160 ms of start-up that a
// filesystem-backed server never needs).
import type { S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { type Bucket, NotFoundError, type ObjectAttributes, type RangeReadConfig, checkKey } from './bucket.js';

/** S3Config is the S3 part of the configuration (flags `-blocks-storage.s3.*`). */
export interface S3Config {
  /** endpoint is `host[:port]` (no scheme) or empty for AWS's regional endpoint. */
  endpoint: string;
  bucketName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** insecure uses http:// instead of https://. */
  insecure: boolean;
  bucketLookupType: 'auto' | 'virtual-hosted' | 'path';
  nativeAwsAuthEnabled: boolean;
  /** partSize in bytes; 0 = DEFAULT_PART_SIZE, grown when a file would need more than MAX_PARTS. */
  partSize: number;
  storageClass: string;
  insecureSkipVerify: boolean;
  maxRetries: number;
}

/** MIN_PART_SIZE is S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** DEFAULT_PART_SIZE is the part size when -blocks-storage.s3.part-size is 0 (as minio-go's). */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
/** MAX_PARTS is S3's most parts per upload. */
const MAX_PARTS = 10_000;

/** DEFAULT_REGION is used when -blocks-storage.s3.region is empty. */
const DEFAULT_REGION = 'us-east-1';

/** validateS3Config returns what is wrong with the configuration, Mimir's words where it has them. */
export function validateS3Config(cfg: S3Config): string | undefined {
  if (cfg.bucketName === '') return 'the S3 bucket name is empty: set -blocks-storage.s3.bucket-name';
  if (cfg.endpoint !== '') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(cfg.endpoint)) {
      return `the S3 endpoint must be host[:port] without a scheme (use -blocks-storage.s3.insecure for http): ${cfg.endpoint}`;
    }
    if (cfg.endpoint.split('.')[0] === cfg.bucketName) return 'the endpoint must not prefixed with the bucket name';
  }
  if (cfg.partSize !== 0 && cfg.partSize < MIN_PART_SIZE) return `-blocks-storage.s3.part-size must be 0 or at least ${MIN_PART_SIZE} bytes`;
  if ((cfg.accessKeyId === '') !== (cfg.secretAccessKey === '')) {
    return 'the S3 access key ID and secret access key must be set together';
  }
  return undefined;
}

/** forcePathStyle tells whether requests name the bucket in the path rather than the host. */
export function forcePathStyle(cfg: Pick<S3Config, 'endpoint' | 'bucketLookupType'>): boolean {
  if (cfg.bucketLookupType === 'path') return true;
  if (cfg.bucketLookupType === 'virtual-hosted') return false;
  // auto: virtual-hosted for AWS (and the SDK's default endpoint), path-style for other servers, as minio-go.
  return cfg.endpoint !== '' && !/(^|\.)amazonaws\.com(\.cn)?(:\d+)?$/.test(cfg.endpoint);
}

/** clientConfig turns the flags into the SDK client configuration. */
export function clientConfig(cfg: S3Config): S3ClientConfig {
  const out: S3ClientConfig = {
    region: cfg.region === '' ? DEFAULT_REGION : cfg.region,
    forcePathStyle: forcePathStyle(cfg),
    maxAttempts: Math.max(1, cfg.maxRetries),
    // S3-compatible servers differ in their support of the newer flexible checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (cfg.endpoint !== '') out.endpoint = `${cfg.insecure ? 'http' : 'https'}://${cfg.endpoint}`;
  if (cfg.accessKeyId !== '') {
    out.credentials = {
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      ...(cfg.sessionToken !== '' ? { sessionToken: cfg.sessionToken } : {}),
    };
  } else if (!cfg.nativeAwsAuthEnabled) {
    // Anonymous access: requests go unsigned, as minio-go does without keys.
    out.signer = { sign: async (request) => request };
  }
  if (cfg.insecureSkipVerify) out.requestHandler = { httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) };
  return out;
}

/** SdkError is the part of an SDK exception we look at. */
interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function isMissing(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

function isInvalidRange(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416;
}

/** describe prefixes an SDK failure with what was being done, keeping the S3 error code and status. */
function describe(err: unknown, op: string, key: string): Error {
  const e = err as SdkError & { message?: string };
  const status = e?.$metadata?.httpStatusCode;
  const wrapped = new Error(`s3 ${op} ${key}: ${e?.name ?? 'error'}${status !== undefined ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(err)}`);
  (wrapped as Error & { cause?: unknown }).cause = err;
  return wrapped;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** S3Bucket stores objects in one S3 bucket. */
export class S3Bucket implements Bucket {
  readonly name: string;
  private readonly clientConfig: S3ClientConfig;
  private connecting: Promise<{ client: S3Client; s: S3Sdk }> | undefined;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly storageClass: StorageClass | undefined;
  private readonly rangeRead: RangeReadConfig | undefined;

  constructor(cfg: S3Config) {
    const problem = validateS3Config(cfg);
    if (problem !== undefined) throw new Error(problem);
    // The SDK warns on stderr (not logfmt) that releases after early 2027 need Node 22; the lock
    // file pins this one, which supports the Node 20 the project runs on.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.clientConfig = clientConfig(cfg);
    this.bucket = cfg.bucketName;
    this.partSize = cfg.partSize;
    this.storageClass = cfg.storageClass === '' ? undefined : (cfg.storageClass as StorageClass);
    this.name = `s3:${cfg.endpoint === '' ? 'aws' : cfg.endpoint}/${cfg.bucketName}`;
    // Keys from the flags, or none (unsigned requests); credentials only the SDK's provider
    // chain finds (-blocks-storage.s3.native-aws-auth-enabled without keys) stay with the SDK.
    this.rangeRead =
      cfg.accessKeyId === '' && cfg.nativeAwsAuthEnabled
        ? undefined
        : {
            endpoint: cfg.endpoint,
            bucketName: cfg.bucketName,
            region: cfg.region === '' ? DEFAULT_REGION : cfg.region,
            accessKeyId: cfg.accessKeyId,
            secretAccessKey: cfg.secretAccessKey,
            sessionToken: cfg.sessionToken,
            insecure: cfg.insecure,
            pathStyle: forcePathStyle(cfg),
            insecureSkipVerify: cfg.insecureSkipVerify,
            maxAttempts: Math.max(1, cfg.maxRetries),
          };
  }

  /** sdk loads the SDK and makes the client on first use. */
  private sdk(): Promise<{ client: S3Client; s: S3Sdk }> {
    this.connecting ??= import('@aws-sdk/client-s3').then((s) => ({ client: new s.S3Client(this.clientConfig), s }));
    return this.connecting;
  }

  /** partSizeFor is the part size for an object of size bytes (parts are at most MAX_PARTS). */
  private partSizeFor(size: number): number {
    const base = this.partSize > 0 ? this.partSize : DEFAULT_PART_SIZE;
    return Math.max(base, Math.ceil(size / MAX_PARTS));
  }

  /** multipartThreshold is the size above which uploads go in parts. */
  private get multipartThreshold(): number {
    return this.partSize > 0 ? this.partSize : DEFAULT_PART_SIZE;
  }

  async get(key: string): Promise<Buffer> {
    checkKey(key);
    try {
      const { client, s } = await this.sdk();
      const out = await client.send(new s.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(key);
      throw describe(err, 'get', key);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    checkKey(key);
    if (length <= 0) {
      // S3 has no empty range: check existence so a missing key still fails.
      await this.attributes(key);
      return Buffer.alloc(0);
    }
    try {
      const { client, s } = await this.sdk();
      const out = await client.send(new s.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(key);
      // A range starting at or past the end: nothing to read, as a short file read.
      if (isInvalidRange(err)) return Buffer.alloc(0);
      throw describe(err, 'get range of', key);
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    checkKey(key);
    if (body.length > this.multipartThreshold) {
      const partSize = this.partSizeFor(body.length);
      await this.multipart(key, body.length, partSize, async (offset, n) => body.subarray(offset, offset + n));
      return;
    }
    try {
      const { client, s } = await this.sdk();
      await client.send(new s.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, StorageClass: this.storageClass }));
    } catch (err) {
      throw describe(err, 'put', key);
    }
  }

  async upload(key: string, localPath: string): Promise<void> {
    checkKey(key);
    const size = (await stat(localPath)).size;
    if (size > this.multipartThreshold) {
      const fh = await open(localPath, 'r');
      try {
        await this.multipart(key, size, this.partSizeFor(size), async (offset, n) => {
          const buf = Buffer.allocUnsafe(n);
          let done = 0;
          while (done < n) {
            const { bytesRead } = await fh.read(buf, done, n - done, offset + done);
            if (bytesRead === 0) throw new Error(`${localPath} shrank while being uploaded`);
            done += bytesRead;
          }
          return buf;
        });
      } finally {
        await fh.close();
      }
      return;
    }
    try {
      const { client, s } = await this.sdk();
      await client.send(
        new s.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(localPath), ContentLength: size, StorageClass: this.storageClass }),
      );
    } catch (err) {
      throw describe(err, 'upload', key);
    }
  }

  /**
   * multipart uploads size bytes in parts of partSize, one part in flight at
   * a time (memory stays at one part), aborting the upload on failure so no
   * orphaned parts are billed.
   */
  private async multipart(key: string, size: number, partSize: number, readPart: (offset: number, n: number) => Promise<Buffer>): Promise<void> {
    let uploadId: string | undefined;
    const { client, s } = await this.sdk();
    try {
      const created = await client.send(new s.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, StorageClass: this.storageClass }));
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new Error('no upload ID in the CreateMultipartUpload answer');
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let offset = 0, n = 1; offset < size; offset += partSize, n++) {
        const body = await readPart(offset, Math.min(partSize, size - offset));
        const out = await client.send(
          new s.UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length }),
        );
        parts.push({ ETag: out.ETag!, PartNumber: n });
      }
      await client.send(new s.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      if (uploadId !== undefined) {
        await client.send(new s.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      }
      throw describe(err, 'multipart upload', key);
    }
  }

  async download(key: string, localPath: string): Promise<void> {
    checkKey(key);
    await mkdir(dirname(localPath), { recursive: true });
    const tmp = `${localPath}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const { client, s } = await this.sdk();
      const out = await client.send(new s.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      await pipeline(out.Body as Readable, createWriteStream(tmp));
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      if (isMissing(err)) throw new NotFoundError(key);
      throw describe(err, 'download', key);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.attributes(key);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    checkKey(key);
    try {
      const { client, s } = await this.sdk();
      const out = await client.send(new s.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, lastModified: out.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(key);
      throw describe(err, 'head', key);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      const { client, s } = await this.sdk();
      await client.send(new s.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw describe(err, 'delete', key);
    }
  }

  async list(prefix: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
    if (prefix !== '' && !prefix.endsWith('/')) throw new Error(`list prefix must end in /: ${prefix}`);
    const out: string[] = [];
    let token: string | undefined;
    try {
      const { client, s } = await this.sdk();
      do {
        const page = await client.send(
          new s.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix === '' ? undefined : prefix,
            Delimiter: opts.recursive === true ? undefined : '/',
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined && o.Key !== prefix) out.push(o.Key);
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) out.push(p.Prefix);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw describe(err, 'list', prefix === '' ? '/' : prefix);
    }
    return out.sort();
  }

  rangeReadConfig(): RangeReadConfig | undefined {
    return this.rangeRead;
  }

  async close(): Promise<void> {
    if (this.connecting !== undefined) (await this.connecting).client.destroy();
  }
}
