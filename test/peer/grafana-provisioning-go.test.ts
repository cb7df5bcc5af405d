// Peer test of the Grafana alerting provisioning API with Grafana's generated
// Go client (github.com/grafana/grafana-openapi-client-go, from the Go module
// proxy): test/peer/grafana-provisioning-go creates, reads, updates, exports
// and deletes every object type through it, validating each answer with the
// client models' own Validate; it is built here into the cache directory
// (modules in Go's own module cache).

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FakeStorage } from '../../src/testing/fake-storage.js';
import { startTestServer } from '../../src/testing/server.js';
import { failIfMissing, peerBinary, skipUnless } from './lib/binary.js';

const here = dirname(fileURLToPath(import.meta.url));
const goSource = resolve(here, '../../../test/peer/grafana-provisioning-go');
const GO = peerBinary('go', 'GO_BIN', ['go'], 'the Go toolchain (on the machine image; GO_BIN overrides it)');

t.test('grafana-openapi-client-go: every provisioning object type round trips with strict models', { skip: skipUnless(GO) }, async (t) => {
  if (failIfMissing(t, GO)) return;
  const cacheDir = join(homedir(), '.cache', 'mimir-native');
  mkdirSync(cacheDir, { recursive: true });
  const bin = join(cacheDir, 'grafana-provisioning-go');
  execFileSync(GO.path, ['build', '-p', '2', '-o', bin, '.'], {
    cwd: goSource,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const srv = await startTestServer({}, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  for (const org of ['1', 'team-b']) {
    // Asynchronously: the server answers from this same process.
    let out: string;
    try {
      out = (await promisify(execFile)(bin, [`127.0.0.1:${srv.port}`, org], { timeout: 60_000 })).stdout;
    } catch (err) {
      const e = err as { stdout?: string };
      out = e.stdout ?? String(err);
    }
    const lines = out.trim().split('\n');
    t.same(
      lines.filter((l) => l.startsWith('FAIL')),
      [],
      `org ${org}: no step failed`,
    );
    t.equal(lines[lines.length - 1], 'DONE', `org ${org}: the client ran to the end`);
    t.ok(lines.filter((l) => l.startsWith('ok ')).length === 33, `org ${org}: every step answered`);
  }
});
