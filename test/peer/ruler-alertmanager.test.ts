// ruler-alertmanager.test.ts: firing alerts of our ruler reach a real
// Alertmanager 0.35 (started by the test, -ruler.alertmanager-url pointing
// at it) and are seen there with `amtool alert query`, with the rule's
// labels and annotations; an alert that stops firing is resolved there.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { missingNativeExports } from '../../src/storage/native.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { requireBinary } from './lib/binaries.js';
import { run } from './lib/promtool.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

const alertmanager = requireBinary('alertmanager', 'ALERTMANAGER_BIN');
const amtool = requireBinary('amtool', 'AMTOOL_BIN');
if (alertmanager === undefined || amtool === undefined || missingNativeExports().length > 0) {
  if (process.env.CI === 'true') throw new Error('native binding missing');
  t.comment('skipped: alertmanager or amtool not on PATH, or native binding missing');
  process.exit(0);
}
const amtoolBin: string = amtool;

const dir = await makeTempDir('ruler-am-');
await writeFile(join(dir, 'am.yml'), 'route:\n  receiver: sink\n  group_wait: 0s\nreceivers:\n  - name: sink\n');
const amPort = await freePort();
const am = await startServer({
  name: 'alertmanager',
  command: alertmanager,
  args: [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'],
  port: amPort,
  readyPath: '/-/ready',
  cleanup: [dir],
});
t.teardown(() => am.stop());
const srv = await startTestServer({ 'ruler.alertmanager-url': `http://127.0.0.1:${amPort}`, 'ruler.resend-delay': 1000, 'ruler.external.url': 'http://ruler.example' });
t.teardown(() => srv.close());

const TENANT = 'am-peer';
const now = Date.now();
const push = (value: number, from: number): Promise<unknown> =>
  httpRequest(srv.port, '/api/v1/push', {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'disk_free'], ['device', 'sda'], ['job', 'node']], samples: Array.from({ length: 5 }, (_, i) => [from + i * 1000, value] as [number, number]) }]),
  });
await push(0.01, now - 4000);
const group = `name: disks
interval: 1s
rules:
  - alert: DiskFull
    expr: disk_free < 0.05
    labels:
      severity: critical
    annotations:
      summary: disk almost full
`;
const posted = await httpRequest(srv.port, '/prometheus/config/v1/rules/storage', { method: 'POST', headers: { 'X-Scope-OrgID': TENANT }, body: group });
if (posted.status !== 202) throw new Error(`POST group: ${posted.status} ${posted.body}`);

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  status: { state: string };
}
async function query(args: string[] = []): Promise<AmAlert[]> {
  const { stdout } = await run(amtoolBin, ['alert', 'query', '-o', 'json', `--alertmanager.url=http://127.0.0.1:${amPort}`, ...args]);
  return JSON.parse(stdout) as AmAlert[];
}
async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('a firing alert is seen with amtool', async (t) => {
  const alerts = await until('alert in Alertmanager', async () => {
    const a = await query(['alertname=DiskFull']);
    return a.length > 0 ? a : undefined;
  });
  t.equal(alerts.length, 1);
  t.same(alerts[0]!.labels, { alertname: 'DiskFull', device: 'sda', job: 'node', severity: 'critical' });
  t.same(alerts[0]!.annotations, { summary: 'disk almost full' });
  t.equal(alerts[0]!.status.state, 'active');
  t.equal(alerts[0]!.generatorURL, 'http://ruler.example/graph?g0.expr=disk_free+%3C+0.05&g0.tab=1');
  const simple = await run(amtoolBin, ['alert', 'query', `--alertmanager.url=http://127.0.0.1:${amPort}`, 'severity=critical']);
  t.match(simple.stdout, /DiskFull/);
});

t.test('a resolved alert leaves the active list', async (t) => {
  await push(0.5, Date.now());
  await until('resolved', async () => ((await query(['alertname=DiskFull'])).length === 0 ? true : undefined));
  t.pass('resolved in Alertmanager');
});
