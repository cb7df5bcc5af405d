// s3-server.ts starts a real S3-compatible server on loopback for the peer
// suites: moto's standalone server (PyPI `moto[server]`, which .ci/run
// installs), with one fresh bucket. Where the binary is missing the suites
// skip when run by hand and fail under CI (CI=true).

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
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

/** startS3Server starts moto_server on a free loopback port and creates bucket. */
export async function startS3Server(bucket = 'blocks'): Promise<S3Server> {
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
  const client = new S3Client({
    endpoint: `http://${endpoint}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    client.destroy();
  }
  return { ...proc, stop: proc.stop, output: proc.output, endpoint, bucket };
}
