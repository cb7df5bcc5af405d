// main.test.ts runs the real entrypoint: it logs the listen address in
// logfmt, serves, and on SIGTERM stops and exits 0.

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpRequest } from './testing/http-client.js';

t.test('start, serve, SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimir-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [main, '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', `-blocks-storage.tsdb.dir=${join(dir, 'tsdb')}`, `-blocks-storage.filesystem.dir=${join(dir, 'bucket')}`, `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`, `-compactor.data-dir=${join(dir, 'compactor')}`, '-auth.multitenancy-enabled=false'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /level=info msg="server listening" addr=127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  t.match(stderr, /^ts=\d{4}-\d{2}-\d{2}T[\d:.]+Z level=info msg="server listening"/m);
  // /ready answers 503 until start-up work (WAL replay, first syncs) is done: wait for it, bounded.
  let res = await httpRequest(port, '/ready');
  for (let i = 0; i < 100 && res.status === 503; i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await httpRequest(port, '/ready');
  }
  t.equal(res.status, 200);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.match(stderr, 'msg="shutdown complete"');
});
