// Peer test of the Grafana alerting provisioning API with PyPI's
// grafana-client (`api.alertingprovisioning`): test/peer/grafana-provisioning-python
// creates, reads, updates and deletes every object type through it, for two
// organisations (tenants) of one server.

import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { FakeStorage } from '../../src/testing/fake-storage.js';
import { startTestServer } from '../../src/testing/server.js';
import { failIfMissing, inCi, peerBinary, skipUnless } from './lib/binary.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = resolve(here, '../../../test/peer/grafana-provisioning-python/roundtrip.py');
const PYTHON = peerBinary('python3', 'PYTHON_BIN', ['python3'], 'Python 3 (on the machine image; PYTHON_BIN overrides it)');

/** hasGrafanaClient tells whether the grafana_client module imports (.ci/run pip-installs grafana-client). */
async function hasGrafanaClient(): Promise<boolean> {
  try {
    await promisify(execFile)(PYTHON.path, ['-c', 'import grafana_client']);
    return true;
  } catch {
    return false;
  }
}

t.test('grafana-client (PyPI): alertingprovisioning round trip', { skip: skipUnless(PYTHON) }, async (t) => {
  if (failIfMissing(t, PYTHON)) return;
  if (!(await hasGrafanaClient())) {
    if (inCi()) t.fail('the grafana_client module is missing (pip install grafana-client)');
    else t.comment('skipped: the grafana_client module is missing (pip install grafana-client)');
    return;
  }
  const srv = await startTestServer({}, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  for (const org of ['1', 'python-org']) {
    let out: string;
    try {
      out = (await promisify(execFile)(PYTHON.path, [script, `http://127.0.0.1:${srv.port}`, org], { timeout: 60_000 })).stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      out = `${e.stdout ?? ''}${e.stderr ?? String(err)}`;
    }
    const lines = out.trim().split('\n');
    t.same(
      lines.filter((l) => l.startsWith('FAIL') || l.startsWith('Traceback')),
      [],
      `org ${org}: no step failed`,
    );
    t.equal(lines.filter((l) => l.startsWith('ok ')).length, 24, `org ${org}: every step answered`);
    t.equal(lines[lines.length - 1], 'DONE', `org ${org}: the client ran to the end`);
  }
});
