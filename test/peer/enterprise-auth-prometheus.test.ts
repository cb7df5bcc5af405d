// enterprise-auth-prometheus.test.ts (peer suite): real clients against
// -auth.type=enterprise with GEM tokens. Prometheus 3 remote-writes its own
// metrics with `basic_auth: {username: <instance>, password: <token>}` and
// remote-reads, with a token limited by a label policy, series only we hold
// (PromQL on the Prometheus side sees only the visible ones); promtool 3
// queries with `--http.config.file` holding `basic_auth`, and is refused
// with a wrong password.

import t from 'tap';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runTokengen } from '../../src/admin/tokengen.js';
import { defaultConfig } from '../../src/config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { AdminClient, basicAuth } from '../../src/testing/admin-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { binSkip, findBin } from './lib/peer-bin.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

const run = promisify(execFile);
const PROMETHEUS = findBin('prometheus3', 'PROMETHEUS3_BIN');
const PROMTOOL = findBin('promtool3', 'PROMTOOL3_BIN');
const CLUSTER = 'peer-cluster';
const INSTANCE = `peer-inst-${Date.now().toString(36)}`;
const now = Math.floor(Date.now() / 1000) * 1000;

interface Vector {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

t.test('Prometheus 3 and promtool 3 with basic_auth tokens', { skip: binSkip(PROMETHEUS, 'prometheus3', 'PROMETHEUS3_BIN') || binSkip(PROMTOOL, 'promtool3', 'PROMTOOL3_BIN') }, async (t) => {
  const dir = await makeTempDir('peer-enterprise-');
  const flags = { 'cluster-name': CLUSTER, 'admin.client.filesystem.dir': join(dir, 'admin') };
  const adminToken = await runTokengen(defaultConfig({ ...flags, 'log.level': 'warn' }), () => undefined);
  const ours = await startTestServer({ ...flags, 'auth.type': 'enterprise' });
  t.teardown(() => ours.close());
  const admin = new AdminClient(ours.port, adminToken);
  await admin.instance(INSTANCE);
  await admin.policy('peer-rw', ['metrics:read', 'metrics:write'], [{ instance: INSTANCE, cluster: CLUSTER }]);
  await admin.policy('peer-prod-only', ['metrics:read'], [{ instance: INSTANCE, cluster: CLUSTER, label_policies: [{ selector: [{ type: 'EQ', name: 'env', value: 'prod' }] }] }]);
  const rw = await admin.token('peer-rw-token', 'peer-rw');
  const prodOnly = await admin.token('peer-prod-token', 'peer-prod-only');

  // Series only we hold, for remote read: one visible to the limited token, one not.
  const push = await fetch(`http://127.0.0.1:${ours.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, Authorization: basicAuth(INSTANCE, rw) },
    body: new Uint8Array(
      encodeWriteRequestSnappy(
        ['prod', 'dev'].map((env, i) => ({
          labels: [['__name__', 'peer_rr_only'], ['env', env]] as Array<[string, string]>,
          samples: Array.from({ length: 20 }, (_, k) => [now - 10 * 60_000 + k * 30_000, (i + 1) * 100 + k] as [number, number]),
        })),
      ),
    ),
  });
  t.equal(push.status, 200, await push.text());

  const promPort = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: self',
    '    static_configs:',
    `      - targets: ["127.0.0.1:${promPort}"]`,
    'remote_write:',
    `  - url: http://127.0.0.1:${ours.port}/api/v1/push`,
    '    basic_auth:',
    `      username: ${INSTANCE}`,
    `      password: ${rw}`,
    '    queue_config:',
    '      batch_send_deadline: 1s',
    'remote_read:',
    `  - url: http://127.0.0.1:${ours.port}/prometheus/api/v1/read`,
    '    read_recent: true',
    '    basic_auth:',
    `      username: ${INSTANCE}`,
    `      password: ${prodOnly}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const prom = await startServer({
    name: 'prometheus3',
    command: PROMETHEUS!,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());

  const ourQuery = async (expr: string, token: string): Promise<Vector> => {
    const res = await fetch(`http://127.0.0.1:${ours.port}/prometheus/api/v1/query?${new URLSearchParams({ query: expr })}`, { headers: { Authorization: basicAuth(INSTANCE, token) } });
    return (await res.json()) as Vector;
  };

  await t.test('remote_write with basic_auth lands in the instance', async (t) => {
    let got: Vector | undefined;
    for (let i = 0; i < 120; i++) {
      got = await ourQuery('prometheus_build_info{job="self"}', rw);
      if (got.data.result.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    t.equal(got?.data.result.length, 1, `Prometheus's own build info arrived:\n${prom.output()}`);
    t.match(got?.data.result[0]?.metric, { job: 'self', instance: `127.0.0.1:${promPort}` });
  });

  await t.test('remote_read with a label-policy token: only the visible series', async (t) => {
    const res = await fetch(`${prom.baseUrl}/api/v1/query?${new URLSearchParams({ query: 'peer_rr_only', time: String(now / 1000 - 60) })}`);
    const body = (await res.json()) as Vector;
    t.equal(body.status, 'success');
    t.same(
      body.data.result.map((r) => [r.metric['env'], r.value[1]]),
      [['prod', '118']],
      'the dev series is hidden by the token, the prod one read back exactly',
    );
  });

  await t.test('promtool query with --http.config.file basic_auth', async (t) => {
    const hc = join(dir, 'http.yml');
    await writeFile(hc, `basic_auth:\n  username: ${INSTANCE}\n  password: ${rw}\n`);
    const { stdout } = await run(PROMTOOL!, ['query', 'instant', '--http.config.file', hc, `http://127.0.0.1:${ours.port}/prometheus`, 'count(peer_rr_only)']);
    t.match(stdout, /^\{\} => 2 @\[/, stdout);
    await writeFile(hc, `basic_auth:\n  username: ${INSTANCE}\n  password: ${prodOnly}\n`);
    const limited = await run(PROMTOOL!, ['query', 'instant', '--http.config.file', hc, `http://127.0.0.1:${ours.port}/prometheus`, 'count(peer_rr_only)']);
    t.match(limited.stdout, /^\{\} => 1 @\[/, 'the label policy applies');
    await writeFile(hc, `basic_auth:\n  username: ${INSTANCE}\n  password: wrong\n`);
    const bad = await run(PROMTOOL!, ['query', 'instant', '--http.config.file', hc, `http://127.0.0.1:${ours.port}/prometheus`, 'count(peer_rr_only)']).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    t.ok(bad !== undefined && bad.code !== 0, 'a wrong password fails');
    t.match(bad?.stderr ?? '', /401|nauthorized|invalid token/);
  });
});
