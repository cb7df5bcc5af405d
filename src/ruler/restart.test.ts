// restart.test.ts stops the server in the middle of an alert's `for` and
// starts it again on the same directories: the rule groups come back from
// the rule store, the pending alert's activeAt is restored from
// ALERTS_FOR_STATE (shifted by the downtime, as Prometheus does) and the
// alert fires when its remaining `for` has passed, not a whole `for` after
// the restart.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer, type RunningServer } from '../app.js';
import { defaultConfig } from '../config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { missingNativeExports } from '../storage/native.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';

if (missingNativeExports().length > 0) {
  if (process.env.CI === 'true') throw new Error('native binding missing');
  t.comment('skipped: native binding missing');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'ruler-restart-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const start = (): Promise<RunningServer> =>
  startServer(
    defaultConfig({
      'server.http-listen-address': '127.0.0.1',
      'server.http-listen-port': 0,
      'blocks-storage.tsdb.dir': join(dir, 'tsdb'),
      'blocks-storage.filesystem.dir': join(dir, 'blocks'),
      'blocks-storage.bucket-store.sync-dir': join(dir, 'sync'),
      'compactor.data-dir': join(dir, 'compactor'),
      'ruler-storage.filesystem.dir': join(dir, 'ruler'),
      'ruler.for-grace-period': 0,
      'log.level': 'error',
    }),
  );

const TENANT = 'restart';
interface AlertJson {
  state: string;
  activeAt: string;
  labels: Record<string, string>;
}
async function alerts(port: number): Promise<AlertJson[]> {
  return jsonOf<{ data: { alerts: AlertJson[] } }>(await httpRequest(port, '/prometheus/api/v1/alerts', { headers: { 'X-Scope-OrgID': TENANT } })).data.alerts;
}
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 2000 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('restart in the middle of a for', async (t) => {
  let srv = await start();
  const now = Date.now();
  const samples: Array<[number, number]> = Array.from({ length: 240 }, (_, i) => [now - 60_000 + i * 1000, 0]);
  const push = await httpRequest(srv.port, '/api/v1/push', {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'up'], ['instance', 'i1']], samples }]),
  });
  t.equal(push.status, 200);
  const group = 'name: restart\ninterval: 1s\nrules:\n  - alert: Down\n    expr: up == 0\n    for: 16s\n';
  t.equal((await httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers: { 'X-Scope-OrgID': TENANT }, body: group })).status, 202);

  // Pending for 7 seconds (and its ALERTS_FOR_STATE written), then the process stops.
  const pending = await until('pending 7s', async () => {
    const a = (await alerts(srv.port))[0];
    return a !== undefined && a.state === 'pending' && Date.now() - Date.parse(a.activeAt) >= 7000 ? a : undefined;
  });
  const activeBefore = Date.parse(pending.activeAt);
  await srv.close();
  const stoppedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1500));

  srv = await start();
  const restartedAt = Date.now();
  t.teardown(() => srv.close());
  // A fresh alert would be active from the first evaluation after the restart; a restored one
  // keeps its pending time before the stop: when it is first seen it has been active ~7s already.
  // (The alert may be seen for a moment between the first evaluation and the restore: 2s of grace.)
  const firstSeen = await until('pending alert after the restart', async () => ((await alerts(srv.port))[0] !== undefined ? Date.now() : undefined));
  const restored = await until(
    'restored activeAt',
    async () => {
      const a = (await alerts(srv.port))[0];
      return a !== undefined && Date.now() - Date.parse(a.activeAt) >= 5000 + (Date.now() - firstSeen) ? { ...a, seenAt: Date.now() } : undefined;
    },
    2000,
  );
  const activeAfter = Date.parse(restored.activeAt);
  const downtime = restartedAt - stoppedAt;
  t.ok(restored.seenAt - activeAfter >= 5000, `restored: active ${restored.seenAt - activeAfter}ms when first seen after the restart`);
  t.ok(activeAfter > activeBefore, 'activeAt moved forward by the time away');
  // The shift runs from the last ALERTS_FOR_STATE sample to the restore (after the first evaluation), in whole seconds.
  t.ok(activeAfter - activeBefore <= downtime + 15_000, `shift ${activeAfter - activeBefore}ms ~ downtime ${downtime}ms`);
  const firing = await until('firing', async () => ((await alerts(srv.port))[0]?.state === 'firing' ? Date.now() : undefined));
  // Fired `for` after the restored activeAt (which is before the restart): the pending time before the stop counted.
  t.ok(firing - activeAfter >= 16_000 && firing - activeAfter < 16_000 + 4000, `fired ${firing - activeAfter}ms after the restored activeAt, ${firing - restartedAt}ms after the restart`);
});
