// distributed-store-gateway.test.ts (peer suite): in distributed mode the
// querier reads blocks through the store-gateways. Separate processes on
// loopback: etcd (the rings), a distributor, an ingester, a store-gateway and
// a querier. A
// block of two days ago, written by promtool (`tsdb create-blocks-from
// openmetrics`), sits in the filesystem bucket the store-gateway serves; the
// ingester holds recent samples pushed to it. The querier must answer the old
// range from the store-gateway alone (every sample, range and instant queries,
// series and label values), the recent one from the ingester, a range across
// both from both, and fail (not answer partially) when the store-gateway is
// gone. A second case runs two store-gateways with replication factor 1:
// each loads its share of a day of blocks (the store-gateway ring), the
// querier answers every sample from both, and with one killed it fails
// Mimir's consistency check instead of answering without that one's blocks
// (no other owner to retry them on; with one,
// distributed-store-gateway-retry.test.ts). The querier runs with query
// sharding: the store-gateway and the ingester answer shard selectors
// (`__query_shard__="n_of_4"`) with the series Prometheus's labels.Hash
// puts in that shard.

import t from 'tap';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { ETCD, PROMTOOL_PEER, failIfMissing, skipUnless } from './lib/binary.js';
import { startComponent, startStoreGateways, type Component, waitFor, startCluster } from './lib/cluster.js';
import { bucketFromOpenMetrics, PROMTOOL, run } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'sg-tenant';
const HOUR = 3_600_000;

async function api(port: number, path: string): Promise<{ status: number; body: { status: string; data: unknown; error?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/${path}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as { status: string; data: unknown; error?: string } };
}

type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

/** skipReason skips by hand without etcd or promtool; under CI it never skips (failIfMissing fails instead). */
function skipReason(): string | false {
  return skipUnless(ETCD, PROMTOOL_PEER);
}

t.test('the querier reads old ranges from the store-gateways and recent ones from the ingesters', { skip: skipReason() }, async (t) => {
  if (failIfMissing(t, ETCD, PROMTOOL_PEER)) return;
  const dir = await makeTempDir('dist-sg-');
  // Two hours of 15 s samples of two series, two days ago (past -querier.query-store-after and
  // -querier.query-ingesters-within).
  const base = Math.floor((Date.now() - 48 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  const want = new Map<string, number[]>([
    ['a', []],
    ['b', []],
  ]);
  for (let k = 0; k < 480; k++) {
    const ts = base + k * 15_000;
    lines.push(`old_gauge{job="a"} ${k} ${ts / 1000}`, `old_gauge{job="b"} ${-k / 4} ${ts / 1000}`);
    want.get('a')!.push(k);
    want.get('b')!.push(-k / 4);
  }
  lines.push('# EOF', '');
  await writeFile(join(dir, 'input.om'), lines.join('\n'));
  await mkdir(join(dir, 'out'));
  await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'input.om'), join(dir, 'out')]);
  const bucket = join(dir, 'bucket');
  for (const ulid of (await readdir(join(dir, 'out'))).filter((n) => /^[0-9A-Z]{26}$/.test(n))) {
    await cp(join(dir, 'out', ulid), join(bucket, TENANT, ulid), { recursive: true });
  }

  const { etcd, started } = await startCluster(t);
  const rf1 = ['-ingester.ring.replication-factor=1'];
  const ingester = await startComponent({ name: 'ingester-1', target: 'ingester', etcd: etcd.endpoint, extra: rf1 });
  started.push(ingester);
  const storeGateway = await startComponent({
    name: 'store-gateway-1',
    target: 'store-gateway',
    etcd: etcd.endpoint,
    extra: [...rf1, `-blocks-storage.filesystem.dir=${bucket}`, '-blocks-storage.bucket-store.sync-interval=1s'],
  });
  started.push(storeGateway);
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: [...rf1, '-query-frontend.parallelize-shardable-queries=true', '-blocks-storage.bucket-store.sync-interval=1s'] });
  started.push(querier);
  const distributor = await startComponent({ name: 'distributor-1', target: 'distributor', etcd: etcd.endpoint, extra: rf1 });
  started.push(distributor);
  const active = async (path: string): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${querier.port}${path}`, { headers: { Accept: 'application/json' } });
    return ((await res.json()) as { shards: Array<{ state: string }> }).shards.filter((s) => s.state === 'ACTIVE').length;
  };
  t.ok(await waitFor(async () => (await active('/ingester/ring')) === 1 && (await active('/store-gateway/ring')) === 1, 20_000), 'the querier sees the ingester and the store-gateway');

  // Recent samples in the ingester.
  const now = Date.now();
  t.ok(await waitFor(async () => (await fetch(`http://127.0.0.1:${distributor.port}/ready`)).status === 200, 20_000), 'the distributor is ready');
  const push = await fetch(`http://127.0.0.1:${distributor.port}/api/v1/push`, {
    method: 'POST',
    body: new Uint8Array(encodeWriteRequestSnappy([{ labels: [['__name__', 'old_gauge'], ['job', 'a']], samples: [[now - 60_000, 1000]] }])),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(push.status, 200, await push.text());

  // The old range: every sample, from the block the store-gateway serves.
  const range = `query_range?query=old_gauge&start=${base / 1000}&end=${(base + 2 * HOUR - 15_000) / 1000}&step=15`;
  let matrix: Matrix = [];
  t.ok(
    await waitFor(async () => {
      const r = await api(querier.port, range);
      matrix = r.body.data !== undefined ? ((r.body.data as { result: Matrix }).result ?? []) : [];
      return r.status === 200 && matrix.length === 2;
    }, 30_000),
    'the old range answers once the store-gateway has synced',
  );
  t.same(
    matrix.map((s) => [s.metric['job'], s.values.map(([, v]) => Number(v))]),
    [
      ['a', want.get('a')],
      ['b', want.get('b')],
    ],
    'every sample of the block',
  );
  const instant = await api(querier.port, `query?query=${encodeURIComponent('sum by (job) (old_gauge)')}&time=${(base + HOUR) / 1000}`);
  t.same(
    (instant.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result.map((s) => [s.metric['job'], s.value[1]]),
    [
      ['a', '240'],
      ['b', '-60'],
    ],
    'an instant query in the old range',
  );
  const shardedMetrics = await (await fetch(`http://127.0.0.1:${querier.port}/metrics`)).text();
  t.match(shardedMetrics, /^cortex_frontend_query_sharding_rewrites_succeeded_total [1-9]\d*$/m, 'the instant query ran sharded');
  // Each shard selector sees its share of the block's series (the store-gateway's selection).
  const shardJobs = async (q: string, time: number): Promise<string[][]> => {
    const out: string[][] = [];
    for (const n of [1, 2, 3, 4]) {
      const r = await api(querier.port, `query?query=${encodeURIComponent(q.replace('SHARD', `__query_shard__="${n}_of_4"`))}&time=${time / 1000}`);
      t.equal(r.status, 200);
      out.push((r.body.data as { result: Array<{ metric: Record<string, string> }> }).result.map((x) => x.metric['job']!).sort());
    }
    return out;
  };
  // Go's labels.FromStrings("__name__", "old_gauge", "job", j).Hash() % 4 is 1 for a and 3 for b.
  const oldShards = await shardJobs('old_gauge{SHARD}', base + HOUR);
  t.same(oldShards, [[], ['a'], [], ['b']], 'each series of the block in the shard of its hash');
  const malformed = await api(querier.port, `query?query=${encodeURIComponent('old_gauge{__query_shard__="5_of_4"}')}&time=${(base + HOUR) / 1000}`);
  t.equal(malformed.status, 422, 'a malformed shard selector is an execution error, before any store is asked');
  t.equal(malformed.body.error, 'expanding series: invalid shard ID: "5_of_4"');
  const series = await api(querier.port, `series?match[]=old_gauge&start=${base / 1000}&end=${(base + HOUR) / 1000}`);
  t.same(series.body.data, [
    { __name__: 'old_gauge', job: 'a' },
    { __name__: 'old_gauge', job: 'b' },
  ]);
  const values = await api(querier.port, `label/job/values?start=${base / 1000}&end=${(base + HOUR) / 1000}`);
  t.same(values.body.data, ['a', 'b']);

  // The recent range: the ingester's sample alone (the block is two days old).
  const recent = await api(querier.port, `query?query=old_gauge&time=${now / 1000}`);
  t.same(
    (recent.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result.map((s) => [s.metric['job'], s.value[1]]),
    [['a', '1000']],
    'a recent instant query',
  );
  // The ingester puts job a in the shard the store-gateway did (one hash for both).
  const recentShards = await shardJobs('old_gauge{SHARD}', now);
  t.same(recentShards, oldShards.map((jobs) => jobs.filter((j) => j === 'a')), 'the ingester shards as the store-gateway');
  // A range across both: the block's samples and the ingester's.
  const across = await api(querier.port, `query_range?query=${encodeURIComponent('count_over_time(old_gauge{job="a"}[3d])')}&start=${now / 1000}&end=${now / 1000}&step=60`);
  t.equal((across.body.data as { result: Matrix }).result[0]?.values[0]?.[1], '481', 'the 480 block samples and the recent one');

  // Without the store-gateway, the old range fails instead of answering without the block.
  await storeGateway.proc.stop(5_000);
  const gone = await api(querier.port, range);
  t.not(gone.status, 200, 'no partial answer');
  t.match(gone.body.error, /store-gateway/);
});

/** blocksOf lists the blocks a store-gateway serves for the tenant (its blocks page). */
async function blocksOf(port: number): Promise<string[]> {
  const html = await (await fetch(`http://127.0.0.1:${port}/store-gateway/tenant/${TENANT}/blocks`, { signal: AbortSignal.timeout(10_000) })).text();
  return [...html.matchAll(/<td>([0-9A-HJKMNP-TV-Z]{26})<\/td>/g)].map((m) => m[1]!);
}

t.test('two store-gateways share the blocks over their ring; a lost share fails the consistency check', { skip: skipReason() }, async (t) => {
  if (failIfMissing(t, ETCD, PROMTOOL_PEER)) return;
  const dir = await makeTempDir('dist-sg-shard-');
  // A day of one-minute samples, three days ago: twelve 2h blocks.
  const base = Math.floor((Date.now() - 72 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  for (let k = 0; k < 24 * 60; k++) lines.push(`day_gauge{job="a"} ${k} ${(base + k * 60_000) / 1000}`);
  const { bucket, ulids } = await bucketFromOpenMetrics(dir, lines, TENANT);
  t.equal(ulids.length, 12, 'promtool wrote twelve 2h blocks');

  const { etcd, started } = await startCluster(t);
  const rf1 = ['-ingester.ring.replication-factor=1', '-store-gateway.sharding-ring.replication-factor=1'];
  started.push(await startComponent({ name: 'ingester-1', target: 'ingester', etcd: etcd.endpoint, extra: rf1 }));
  const gateways = await startStoreGateways(2, etcd.endpoint, bucket, rf1);
  started.push(...gateways);
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: [...rf1, '-blocks-storage.bucket-store.sync-interval=1s'] });
  started.push(querier);

  // Each loads its share once both are in the ring: together every block, once.
  let shares: string[][] = [];
  t.ok(
    await waitFor(async () => {
      shares = await Promise.all(gateways.map((g) => blocksOf(g.port)));
      return shares[0]!.length + shares[1]!.length === 12 && new Set(shares.flat()).size === 12;
    }, 30_000),
    `the blocks are split between the store-gateways (${shares.map((s) => s.length).join(' + ')})`,
  );
  t.ok(shares[0]!.length > 0 && shares[1]!.length > 0, 'each owns some');

  const range = `query_range?query=day_gauge&start=${base / 1000}&end=${(base + 24 * HOUR - 60_000) / 1000}&step=60`;
  const r = await api(querier.port, range);
  t.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
  const values = (r.body.data as { result: Matrix }).result[0]?.values.map(([, v]) => Number(v)) ?? [];
  t.equal(values.length, 24 * 60, 'every sample of the day');
  t.same(values.slice(0, 3), [0, 1, 2]);
  t.equal(values[values.length - 1], 24 * 60 - 1);

  // kill -9 one: its blocks are not served, and the querier says so rather than answering part of the day.
  const victim = gateways[1]!.proc.child;
  const exited = new Promise((r) => victim.once('exit', r));
  victim.kill('SIGKILL');
  await exited;
  const lost = await api(querier.port, range);
  t.not(lost.status, 200);
  t.match(lost.body.error, /consistency check failed because some blocks were not queried/);
  // Back, it serves its share again.
  await gateways[1]!.restart();
  t.ok(await waitFor(async () => (await api(querier.port, range)).status === 200, 30_000), 'answers again once the store-gateway is back');
});
