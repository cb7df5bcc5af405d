// distributed-ruler.test.ts (peer suite): rulers as separate processes on
// loopback share the rule groups over the ruler ring in etcd, as Mimir's
// sharded rulers: each evaluates its share (the groups it answers for on the
// internal API are disjoint and cover all of them), while the rules API of
// either ruler shows every group, evaluated. When one ruler stops, the other
// takes its groups over. A ruler apart from the ingesters evaluates over
// what they hold and writes its results through them (read by a querier).

import t from 'tap';
import { join } from 'node:path';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { startComponent, type Component, waitFor, startCluster } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';
import { InternalClient } from '../../src/internal/client.js';
import { RULER_GROUPS_PATH } from '../../src/ruler/prometheus-api.js';

/** internal calls the rulers' internal API (HTTP/2) as their peers do. */
const internal = new InternalClient({ timeoutMs: 10_000 });
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';

const TENANT = 'ruler-shard';
const GROUPS = 16;

interface Group {
  name: string;
  file: string;
  lastEvaluation: string;
  rules: Array<{ name: string; health: string }>;
}

async function apiGroups(port: number): Promise<Group[]> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/rules`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`rules API ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: { groups: Group[] } }).data.groups;
}

/** ownGroups is what one ruler evaluates: its answer on the internal API. */
async function ownGroups(c: Component): Promise<string[]> {
  const a = await internal.post(`127.0.0.1:${c.grpcPort}`, RULER_GROUPS_PATH, TENANT, Buffer.from('{}'), {}, 10_000);
  if (a.status !== 200) throw new Error(`${c.name}: ${a.status} ${a.body.toString('utf8')}`);
  return (JSON.parse(a.body.toString('utf8')) as Array<{ name: string }>).map((g) => g.name).sort();
}

t.test('rulers shard the rule groups over their ring; the rules API shows them all', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const store = join(await makeTempDir('dist-ruler-'), 'rules');
  const flags = [`-ruler-storage.filesystem.dir=${store}`, '-ruler.poll-interval=1s', '-ruler.evaluation-interval=1s', '-ingester.ring.replication-factor=1'];
  started.push(await startComponent({ name: 'ingester-1', target: 'ingester', etcd: etcd.endpoint, extra: flags }));
  const rulers: Component[] = [];
  for (const i of [1, 2]) rulers.push(await startComponent({ name: `ruler-${i}`, target: 'ruler', etcd: etcd.endpoint, extra: flags }));
  started.push(...rulers);

  const names = Array.from({ length: GROUPS }, (_, i) => `group-${String(i).padStart(2, '0')}`);
  for (const name of names) {
    const body = `name: ${name}\ninterval: 1s\nrules:\n  - record: ${name.replace('-', '_')}:one\n    expr: vector(1)\n`;
    const res = await fetch(`http://127.0.0.1:${rulers[0]!.port}/prometheus/config/v1/rules/ns`, { method: 'POST', headers: { 'X-Scope-OrgID': TENANT }, body, signal: AbortSignal.timeout(10_000) });
    t.equal(res.status, 202, `${name} stored`);
  }

  // Each ruler evaluates a share: disjoint, together every group.
  let shares: string[][] = [];
  t.ok(
    await waitFor(async () => {
      shares = await Promise.all(rulers.map(ownGroups));
      return shares[0]!.length + shares[1]!.length === GROUPS && new Set(shares.flat()).size === GROUPS;
    }, 30_000),
    `the groups are split between the rulers (${shares.map((s) => s.length).join(' + ')})`,
  );
  t.ok(shares[0]!.length > 0 && shares[1]!.length > 0, 'each evaluates some');

  // Either ruler's rules API shows every group, each evaluated by its owner.
  for (const r of rulers) {
    let groups: Group[] = [];
    t.ok(
      await waitFor(async () => {
        groups = await apiGroups(r.port);
        return groups.length === GROUPS && groups.every((g) => g.rules[0]?.health === 'ok' && !g.lastEvaluation.startsWith('0001'));
      }, 20_000),
      `${r.name}'s rules API shows all ${GROUPS} groups, evaluated`,
    );
    t.same(
      groups.map((g) => g.name),
      names,
      'in order',
    );
  }

  // One ruler leaves the ring: the other takes its groups over.
  await rulers[1]!.proc.stop(5_000);
  t.ok(await waitFor(async () => (await ownGroups(rulers[0]!)).length === GROUPS, 30_000), 'the remaining ruler evaluates every group');
  t.equal((await apiGroups(rulers[0]!.port)).length, GROUPS);
});

t.test('a standalone ruler reads through the ingesters and writes its results through them', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const store = join(await makeTempDir('dist-ruler-apart-'), 'rules');
  const flags = [`-ruler-storage.filesystem.dir=${store}`, '-ruler.poll-interval=1s', '-ruler.evaluation-interval=1s', '-ingester.ring.replication-factor=1'];
  for (const i of [1, 2]) started.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint, extra: flags }));
  const distributor = await startComponent({ name: 'distributor-1', target: 'distributor', etcd: etcd.endpoint, extra: flags });
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: flags });
  const ruler = await startComponent({ name: 'ruler-1', target: 'ruler', etcd: etcd.endpoint, extra: flags });
  started.push(distributor, querier, ruler);

  // Input series spread over both ingesters, pushed through the distributor.
  const now = Date.now();
  const series: TimeSeriesInput[] = Array.from({ length: 8 }, (_, i) => ({
    labels: [
      ['__name__', 'ruler_input'],
      ['instance', `i${i}`],
    ],
    samples: [[now, i + 1]],
  }));
  const res = await fetch(`http://127.0.0.1:${distributor.port}/api/v1/push`, {
    method: 'POST',
    body: new Uint8Array(encodeWriteRequestSnappy(series)),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(res.status, 200, 'input pushed');

  const body = 'name: sums\ninterval: 1s\nrules:\n  - record: ruler_input:sum\n    expr: sum(ruler_input)\n';
  const stored = await fetch(`http://127.0.0.1:${ruler.port}/prometheus/config/v1/rules/ns`, { method: 'POST', headers: { 'X-Scope-OrgID': TENANT }, body, signal: AbortSignal.timeout(10_000) });
  t.equal(stored.status, 202, 'rule group stored');

  // The ruler's result (1+...+8 = 36, read from both ingesters) is stored in the ingesters: the querier reads it.
  let value: string | undefined;
  t.ok(
    await waitFor(async () => {
      const q = await fetch(`http://127.0.0.1:${querier.port}/prometheus/api/v1/query?query=${encodeURIComponent('ruler_input:sum')}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(10_000) });
      const result = ((await q.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
      value = result[0]?.value[1];
      return value === '36';
    }, 30_000),
    `the querier reads the recorded sum from the ingesters (${value ?? 'none'})`,
  );
  // And the rules API reports the rule healthy.
  const groups = await apiGroups(ruler.port);
  t.equal(groups[0]?.rules[0]?.health, 'ok', 'the rule evaluated without error');
});
