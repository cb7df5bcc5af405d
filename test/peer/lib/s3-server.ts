// s3-server.ts starts a real S3-compatible server on loopback for the peer
// suites: moto's standalone server (PyPI `moto[server]`, which .ci/run
// installs), with one fresh bucket. Where the binary is missing the suites
// skip when run by hand and fail under CI (CI=true).

import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { peerBinary, skipUnless } from './binary.js';
import { freePort, makeTempDir, startServer, type ServerProcess } from './server-process.js';

// The SDK's Node-version notice is noise here (the lock pins a release that supports Node 20).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** MOTO is moto's server (PyPI `moto[server]`), found on PATH or by MOTO_SERVER_BIN (see binary.ts). */
export const MOTO = peerBinary('moto_server', 'MOTO_SERVER_BIN', ['moto_server'], "PyPI package (pip install 'moto[server]'; .ci/run installs it)");

/** MOTO_SERVER_BIN is the moto_server command run. */
export const MOTO_SERVER_BIN = MOTO.path;

/** S3_ACCESS_KEY and S3_SECRET_KEY are the (any) credentials moto accepts. */
export const S3_ACCESS_KEY = 'peer-access-key';
export const S3_SECRET_KEY = 'peer-secret-key';

/** s3SkipReason is the tap `skip` option of an S3 peer test (never a skip under CI). */
export function s3SkipReason(): string | false {
  return skipUnless(MOTO);
}

/** S3Server is a running server with one bucket. */
export interface S3Server extends ServerProcess {
  /** endpoint is host:port, as -blocks-storage.s3.endpoint takes it. */
  readonly endpoint: string;
  readonly bucket: string;
}

/** s3Client is an SDK client of the server at endpoint (host:port), with the credentials it accepts. */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint: `http://${endpoint}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
}

/** startS3Server starts moto_server on a free loopback port and creates bucket (and the `more` buckets). */
export async function startS3Server(bucket = 'blocks', ...more: string[]): Promise<S3Server> {
  const port = await freePort();
  const dir = await makeTempDir('peer-s3-');
  const proc = await startServer({
    name: 'moto_server',
    command: MOTO_SERVER_BIN,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    port,
    readyPath: '/moto-api/',
    cwd: dir,
    cleanup: [dir],
    env: { ...process.env, AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY },
  });
  const endpoint = `127.0.0.1:${port}`;
  const client = s3Client(endpoint);
  try {
    for (const b of [bucket, ...more]) await client.send(new CreateBucketCommand({ Bucket: b }));
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    client.destroy();
  }
  return { ...proc, stop: proc.stop, output: proc.output, endpoint, bucket };
}

/** S3Buckets names the bucket of each store kept in S3 (a store left out stays on its default backend). */
export interface S3Buckets {
  blocks?: string;
  ruler?: string;
  alertmanager?: string;
}

/** s3StorageFlags are the command-line flags that put the named stores in buckets of the server at endpoint. */
export function s3StorageFlags(endpoint: string, buckets: S3Buckets): string[] {
  const out: string[] = [];
  // The blocks' S3 credentials are also the alertmanager store's.
  if (buckets.blocks !== undefined || buckets.alertmanager !== undefined) {
    out.push(`-blocks-storage.s3.endpoint=${endpoint}`, `-blocks-storage.s3.access-key-id=${S3_ACCESS_KEY}`, `-blocks-storage.s3.secret-access-key=${S3_SECRET_KEY}`, '-blocks-storage.s3.insecure=true');
  }
  if (buckets.blocks !== undefined) out.push('-blocks-storage.backend=s3', `-blocks-storage.s3.bucket-name=${buckets.blocks}`);
  if (buckets.ruler !== undefined) {
    out.push('-ruler-storage.backend=s3', `-ruler-storage.s3.endpoint=${endpoint}`, `-ruler-storage.s3.bucket-name=${buckets.ruler}`, `-ruler-storage.s3.access-key-id=${S3_ACCESS_KEY}`, `-ruler-storage.s3.secret-access-key=${S3_SECRET_KEY}`, '-ruler-storage.s3.insecure=true');
  }
  if (buckets.alertmanager !== undefined) out.push('-alertmanager-storage.backend=s3', `-alertmanager-storage.s3.endpoint=${endpoint}`, `-alertmanager-storage.s3.bucket-name=${buckets.alertmanager}`);
  return out;
}

/** listKeys lists the object keys of a bucket of the server at endpoint. */
export async function listKeys(endpoint: string, bucket: string): Promise<string[]> {
  const client = s3Client(endpoint);
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    client.destroy();
  }
}

/** uploadDir puts every file under dir into bucket, keyed by its path relative to dir (`/`-separated). */
export async function uploadDir(endpoint: string, bucket: string, dir: string): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join, relative, sep } = await import('node:path');
  const client = s3Client(endpoint);
  const keys: string[] = [];
  try {
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const path = join(e.parentPath, e.name);
      const key = relative(dir, path).split(sep).join('/');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path) }));
      keys.push(key);
    }
  } finally {
    client.destroy();
  }
  return keys;
}
