// distributed-store-gateway-retry.test.ts (peer suite): the querier reads
// each block from one of its owners and retries a block on another owner
// when the first fails, as Mimir's querier does. Separate processes on
// loopback: etcd (the rings), three store-gateways at replication factor 2
// (each of the twelve 2h blocks of a day, written by promtool, loaded by two
// of them) and a querier. Every query (the whole day, each block's window,
// an instant query, series and label values) is answered; then one
// store-gateway is killed with SIGKILL and every query must still answer in
// full, the same answer as before: first while the ring still calls the dead
// one healthy (its blocks are retried on their other owner), then once its
// heartbeat has timed out (it is no longer picked).

import t from 'tap';
import { join } from 'node:path';
import { ETCD, PROMTOOL_PEER, failIfMissing, skipUnless } from './lib/binary.js';
import { startComponent, startStoreGateways, type Component, waitFor, startCluster } from './lib/cluster.js';
import { bucketFromOpenMetrics } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'sg-retry-tenant';
const HOUR = 3_600_000;

async function api(port: number, path: string): Promise<{ status: number; body: { status: string; data?: unknown; error?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/${path}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as { status: string; data?: unknown; error?: string } };
}

/** blocksOf lists the blocks a store-gateway serves for the tenant (its blocks page). */
async function blocksOf(port: number): Promise<string[]> {
  const html = await (await fetch(`http://127.0.0.1:${port}/store-gateway/tenant/${TENANT}/blocks`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...html.matchAll(/<td>([0-9A-HJKMNP-TV-Z]{26})<\/td>/g)].map((m) => m[1]!);
}

t.test('three store-gateways at replication factor 2: a killed one is retried around, every answer stays whole', { skip: skipUnless(ETCD, PROMTOOL_PEER) }, async (t) => {
  if (failIfMissing(t, ETCD, PROMTOOL_PEER)) return;
  const dir = await makeTempDir('dist-sg-retry-');
  // A day of one-minute samples of two series, three days ago: twelve 2h blocks.
  const base = Math.floor((Date.now() - 72 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  for (let k = 0; k < 24 * 60; k++) {
    const ts = (base + k * 60_000) / 1000;
    lines.push(`day_gauge{job="a"} ${k} ${ts}`, `day_gauge{job="b"} ${-k / 2} ${ts}`);
  }
  const { bucket, ulids } = await bucketFromOpenMetrics(dir, lines, TENANT);
  t.equal(ulids.length, 12, 'promtool wrote twelve 2h blocks');

  const { etcd, started } = await startCluster(t);
  // The querier finds a block's owners with the store-gateways' replication factor.
  const rf = ['-ingester.ring.replication-factor=1', '-store-gateway.sharding-ring.replication-factor=2'];
  const gateways = await startStoreGateways(3, etcd.endpoint, bucket, rf);
  started.push(...gateways);
  // -log.level=warn (cluster.ts): the querier's retries show in its output.
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: [...rf, '-blocks-storage.bucket-store.sync-interval=1s'] });
  started.push(querier);

  // Each loads its share once all three are in the ring: every block on exactly two of them.
  let shares: string[][] = [];
  t.ok(
    await waitFor(async () => {
      shares = await Promise.all(gateways.map((g) => blocksOf(g.port)));
      return shares.every((s) => s.length > 0 && s.length < 12) && shares.flat().length === 24 && new Set(shares.flat()).size === 12;
    }, 30_000),
    `each block on two store-gateways (${shares.map((s) => s.length).join(' + ')})`,
  );

  const end = base + 24 * HOUR - 60_000;
  const queries: string[] = [
    `query_range?query=day_gauge&start=${base / 1000}&end=${end / 1000}&step=60`,
    // Each block alone (starting past the lookback into the one before): a read of one block.
    ...[...Array(12).keys()].map((b) => `query_range?query=day_gauge&start=${(base + b * 2 * HOUR + 300_000) / 1000}&end=${(base + (b + 1) * 2 * HOUR - 60_000) / 1000}&step=300`),
    `query?query=${encodeURIComponent('sum by (job) (count_over_time(day_gauge[1d]))')}&time=${end / 1000}`,
    `series?match[]=day_gauge&start=${base / 1000}&end=${end / 1000}`,
    ...[...Array(12).keys()].map((b) => `label/job/values?start=${(base + b * 2 * HOUR) / 1000}&end=${(base + (b + 1) * 2 * HOUR - 60_000) / 1000}`),
  ];
  const answers = async (): Promise<Array<[string, number, unknown]>> => {
    const out: Array<[string, number, unknown]> = [];
    for (const q of queries) {
      const r = await api(querier.port, q);
      out.push([q, r.status, r.status === 200 ? r.body.data : r.body.error]);
    }
    return out;
  };
  const before = await answers();
  for (const [q, status, data] of before) t.equal(status, 200, `${q}: ${status === 200 ? 'ok' : String(data)}`);
  const day = (before[0]![2] as { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }).result;
  t.same(
    day.map((s) => [s.metric['job'], s.values.length, s.values[0]![1], s.values[s.values.length - 1]![1]]),
    [
      ['a', 24 * 60, '0', String(24 * 60 - 1)],
      ['b', 24 * 60, '0', String(-(24 * 60 - 1) / 2)],
    ],
    'every sample of the day, from the three of them',
  );
  t.same(
    (before[13]![2] as { result: Array<{ value: [number, string] }> }).result.map((s) => s.value[1]),
    [String(24 * 60), String(24 * 60)],
    'the instant query counts every sample',
  );

  // kill -9 the one with the most blocks. Its heartbeat stays fresh for up to 4 s
  // (-store-gateway.sharding-ring.heartbeat-timeout in cluster.ts): the querier still picks it
  // for some blocks, fails, and asks their other owner.
  const most = shares.reduce((m, s, i) => (s.length > shares[m]!.length ? i : m), 0);
  const victim = gateways[most]!.proc.child;
  const exited = new Promise((r) => victim.once('exit', r));
  victim.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  const during = await answers();
  t.ok(Date.now() - killedAt < 4_000, `asked before the dead one's heartbeat timed out (${Date.now() - killedAt} ms)`);
  t.same(during, before, 'every query answers as before, the dead one just killed');
  const out = querier.proc.output();
  t.match(out, /level=warn .*msg="store-gateway query failed" .*store-gateway=store-gateway-\d/, 'the failed calls are logged');
  t.match(out, /level=warn msg="blocks not queried, retrying them on other store-gateways" .*attempt=2 blocks="?[0-9A-Z]{26}/, 'and the retries');
  t.notMatch(out, /consistency check failed/, 'no read failed the consistency check');

  // Once its heartbeat timed out the ring leaves it out: no more failed calls, same answers.
  await new Promise((r) => setTimeout(r, 5_000));
  const failures = (querier.proc.output().match(/msg="store-gateway query failed"/g) ?? []).length;
  t.same(await answers(), before, 'every query answers as before, the dead one unhealthy');
  t.equal((querier.proc.output().match(/msg="store-gateway query failed"/g) ?? []).length, failures, 'the dead one is not asked any more');
});
