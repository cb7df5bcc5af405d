// runtime-config.ts starts the real test server with a runtime
// configuration file (per-tenant overrides) in a fresh temporary directory.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerDeps } from '../app.js';
import { startTestServer, type TestServer } from './server.js';

/** RuntimeConfigServer is a started server, its runtime configuration file and how to stop both. */
export interface RuntimeConfigServer {
  srv: TestServer;
  /** The runtime configuration file: rewrite it to test reloads. */
  file: string;
  /** close stops the server, then removes the file's directory. */
  close: () => Promise<void>;
}

/**
 * startWithRuntimeConfig writes `yaml` as `runtime.yaml` in a new temporary
 * directory named after `prefix` and starts a test server with
 * `runtime-config.file` pointing at it and the other `flags`.
 */
export async function startWithRuntimeConfig(
  prefix: string,
  yaml: string,
  flags: Record<string, string | number | boolean> = {},
  deps: ServerDeps = {},
): Promise<RuntimeConfigServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'runtime.yaml');
  writeFileSync(file, yaml);
  let srv: TestServer;
  try {
    srv = await startTestServer({ 'runtime-config.file': file, ...flags }, deps);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    srv,
    file,
    close: async () => {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
