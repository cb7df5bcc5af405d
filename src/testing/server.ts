// server.ts starts a real server for tests: ephemeral port, temp data dir,
// quiet logs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerDeps } from '../app.js';
import { defaultConfig } from '../config/config.js';

/** TestServer is a started server and its temp directory. */
export interface TestServer extends RunningServer {
  dir: string;
}

/** startTestServer starts a server on 127.0.0.1:0 with flag overrides (default -target=all,alertmanager). */
export async function startTestServer(overrides: Record<string, string | number | boolean> = {}, deps: ServerDeps = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mimir-test-'));
  const config = defaultConfig({
    'server.http-listen-address': '127.0.0.1',
    'server.http-listen-port': 0,
    'blocks-storage.tsdb.dir': join(dir, 'tsdb'),
    'blocks-storage.filesystem.dir': join(dir, 'blocks'),
    'blocks-storage.bucket-store.sync-dir': join(dir, 'tsdb-sync'),
    'log.level': 'warn',
    'compactor.data-dir': join(dir, 'compactor'),
    'admin.client.filesystem.dir': join(dir, 'admin'),
    'ruler-storage.filesystem.dir': join(dir, 'ruler'),
    'alertmanager.storage.path': join(dir, 'alertmanager-data'),
    'alertmanager-storage.filesystem.dir': join(dir, 'alertmanager'),
    // The monolithic set plus the alertmanager (Mimir's `all` leaves it out), so every API answers in tests.
    target: 'all,alertmanager',
    ...overrides,
  });
  const server = await startServer(config, deps);
  return {
    ...server,
    dir,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
