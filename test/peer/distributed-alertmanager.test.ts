// distributed-alertmanager.test.ts (peer suite): three -target=alertmanager
// processes on the alertmanager ring in etcd (replication factor 3) behave
// as Mimir's sharded alertmanagers: an alert posted to any of them reaches
// the tenant's webhook once (not once per replica: the replicas wait their
// position times -alertmanager.peer-timeout and read the notification log
// the first one replicated); a silence created through one is answered by
// every other and held by every replica (asked directly on the internal
// API), and it silences the alert on all of them; with one replica killed
// (SIGKILL) the API keeps answering and notifications keep flowing; the ring
// page of each lists the three.

import t from 'tap';
import http from 'node:http';
import { join } from 'node:path';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { startAlertmanagers, startCluster, waitFor, type Component } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';
import { InternalClient } from '../../src/internal/client.js';

/** internal calls the alertmanagers' internal API (HTTP/2) as their peers do. */
const internal = new InternalClient({ timeoutMs: 10_000 });

const TENANT = 'am-shard';
const PEER_TIMEOUT_S = 1;

interface Notification {
  groupKey: string;
  status: string;
  alerts: Array<{ labels: Record<string, string>; status: string }>;
}

const headers = { 'X-Scope-OrgID': TENANT, 'Content-Type': 'application/json' };

async function api(c: Component, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${c.port}/alertmanager/api/v2${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

/** local asks one replica itself (the internal API's forwarded request, served where it lands): its own answer, not the merged one. */
async function local<T>(c: Component, path: string): Promise<T> {
  const a = await internal.post(`127.0.0.1:${c.grpcPort}`, '/internal/v1/alertmanager/request', TENANT, new Uint8Array(), { 'X-Mimir-Alertmanager-Method': 'GET', 'X-Mimir-Alertmanager-Url': `/alertmanager/api/v2${path}` }, 10_000);
  if (a.status !== 200) throw new Error(`${c.name}: ${a.status} ${a.body.toString('utf8')}`);
  return JSON.parse(a.body.toString('utf8')) as T;
}

const localSilences = (c: Component): Promise<Array<{ id: string; status: { state: string } }>> => local(c, '/silences');

function alert(name: string): Record<string, unknown> {
  return { labels: { alertname: name, severity: 'page' }, annotations: { summary: name }, startsAt: new Date().toISOString() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('sharded alertmanagers: one notification per alert, replicated silences, a killed replica tolerated', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const notifications: Notification[] = [];
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      notifications.push(JSON.parse(Buffer.concat(chunks).toString()) as Notification);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => hook.close());
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
  const firing = (name: string): Notification[] => notifications.filter((n) => n.status === 'firing' && n.alerts.some((a) => a.labels.alertname === name));

  const { etcd, started } = await startCluster(t);
  const root = await makeTempDir('dist-am-');
  const bucket = join(root, 'bucket');
  const ams = await startAlertmanagers(3, etcd.endpoint, bucket, root, 3, [`-alertmanager.peer-timeout=${PEER_TIMEOUT_S}s`]);
  started.push(...ams);

  // The ring page of each lists the three.
  for (const c of ams) {
    t.ok(
      await waitFor(async () => {
        const page = await (await fetch(`http://127.0.0.1:${c.port}/multitenant_alertmanager/ring`)).text();
        return ['am-1', 'am-2', 'am-3'].every((id) => page.includes(id));
      }, 20_000),
      `${c.name}'s ring page lists am-1, am-2 and am-3`,
    );
  }

  const cfg = `route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}\nreceivers: [{name: hook, webhook_configs: [{url: '${hookUrl}'}]}]\n`;
  const set = await fetch(`http://127.0.0.1:${ams[0]!.port}/api/v1/alerts`, { method: 'POST', headers, body: JSON.stringify({ alertmanager_config: cfg }) });
  t.equal(set.status, 201, 'configuration stored');
  // Every replica runs the tenant once its poll saw the configuration.
  for (const c of ams) {
    t.ok(
      await waitFor(async () => (await fetch(`http://127.0.0.1:${c.port}/multitenant_alertmanager/status`)).text().then((s) => s.includes(`<td>${TENANT}</td>`)), 20_000),
      `${c.name} runs the tenant`,
    );
  }

  // An alert posted to one alertmanager: every replica holds it, the webhook gets it once.
  t.equal((await api(ams[1]!, 'POST', '/alerts', [alert('First')])).status, 200, 'alert posted to am-2');
  t.ok(await waitFor(async () => firing('First').length > 0, 20_000), 'the webhook got the alert');
  await sleep((3 * PEER_TIMEOUT_S + 3) * 1000);
  t.equal(firing('First').length, 1, 'exactly one notification, not one per replica');
  // Bad input answers the replicas' own error; the UI and the unary reads answer through any alertmanager.
  const bad = await api(ams[0]!, 'POST', '/alerts', { not: 'a list' });
  t.same([bad.status, bad.text], [400, JSON.stringify({ code: 400, message: 'parsing alerts body from "" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts' })], 'a bad post answers 400 as one replica did');
  for (const c of ams) {
    const ui = await fetch(`http://127.0.0.1:${c.port}/alertmanager/`, { headers, signal: AbortSignal.timeout(10_000) });
    t.equal(ui.status, 200, `${c.name} serves the UI`);
    t.match(ui.headers.get('content-type') ?? '', /text\/html/);
    t.same(JSON.parse((await api(c, 'GET', '/receivers')).text), [{ name: 'hook' }], `${c.name} answers receivers`);
  }
  for (const c of ams) {
    const got = JSON.parse((await api(c, 'GET', '/alerts')).text) as Array<{ labels: Record<string, string> }>;
    t.same(
      got.map((a) => a.labels.alertname),
      ['First'],
      `${c.name} answers the alert`,
    );
  }

  // A silence created on am-1: visible through every alertmanager, held by every replica.
  const now = Date.now();
  const created = await api(ams[0]!, 'POST', '/silences', {
    matchers: [{ name: 'alertname', value: 'Silenced', isRegex: false, isEqual: true }],
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    createdBy: 'peer-test',
    comment: 'replicated',
  });
  t.equal(created.status, 200, 'silence created');
  const id = (JSON.parse(created.text) as { silenceID: string }).silenceID;
  for (const c of ams) {
    const list = JSON.parse((await api(c, 'GET', '/silences')).text) as Array<{ id: string }>;
    t.ok(
      list.some((s) => s.id === id),
      `${c.name} answers the silence`,
    );
    t.ok(await waitFor(async () => (await localSilences(c)).some((s) => s.id === id && s.status.state === 'active'), 10_000), `${c.name} holds the silence itself`);
    t.equal((await api(c, 'GET', `/silence/${id}`)).status, 200, `${c.name} answers GET /silence/{id}`);
  }
  // The silenced alert is posted to am-3 with another that is not silenced: only the other is notified.
  t.equal((await api(ams[2]!, 'POST', '/alerts', [alert('Silenced'), alert('Loud')])).status, 200);
  t.ok(await waitFor(async () => firing('Loud').length > 0, 20_000), 'the unsilenced alert is notified');
  await sleep((3 * PEER_TIMEOUT_S + 3) * 1000);
  t.equal(firing('Silenced').length, 0, 'the silenced alert is notified by no replica');
  t.equal(firing('Loud').length, 1, 'the other once');
  for (const c of ams) {
    const merged = JSON.parse((await api(c, 'GET', '/alerts?filter=alertname%3D%22Silenced%22')).text) as Array<{ status: { state: string; silencedBy: string[] } }>;
    t.same(
      merged.map((a) => [a.status.state, a.status.silencedBy]),
      [['suppressed', [id]]],
      `through ${c.name}: the alert is suppressed by the silence`,
    );
    const own = await local<Array<{ status: { state: string; silencedBy: string[] } }>>(c, '/alerts?filter=alertname%3D%22Silenced%22');
    t.same(
      own.map((a) => [a.status.state, a.status.silencedBy]),
      [['suppressed', [id]]],
      `on ${c.name} itself: the alert is suppressed by the silence`,
    );
  }

  // One replica is killed: the API keeps answering through the other two, notifications keep flowing.
  ams[0]!.proc.child.kill('SIGKILL');
  await new Promise<void>((r) => (ams[0]!.proc.child.exitCode !== null ? r() : ams[0]!.proc.child.once('exit', () => r())));
  for (const c of ams.slice(1)) {
    for (let k = 0; k < 5; k++) {
      t.equal((await api(c, 'GET', '/alerts')).status, 200, `${c.name} answers alerts reads (${k})`);
      t.equal((await api(c, 'GET', '/status')).status, 200, `${c.name} answers status (${k})`);
    }
  }
  t.equal((await api(ams[1]!, 'POST', '/alerts', [alert('AfterKill')])).status, 200, 'a post succeeds on a quorum');
  t.ok(await waitFor(async () => firing('AfterKill').length > 0, 20_000), 'the webhook got the alert posted after the kill');
  await sleep((3 * PEER_TIMEOUT_S + 3) * 1000);
  t.equal(firing('AfterKill').length, 1, 'once');
  const expire = await api(ams[2]!, 'DELETE', `/silence/${id}`);
  t.equal(expire.status, 200, 'the silence is expired through am-3');
  t.ok(
    await waitFor(async () => {
      const both = await Promise.all(ams.slice(1).map(localSilences));
      return both.every((l) => l.some((s) => s.id === id && s.status.state === 'expired'));
    }, 10_000),
    'both live replicas hold the expiry',
  );
});
