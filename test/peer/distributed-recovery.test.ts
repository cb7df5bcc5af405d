// distributed-recovery.test.ts (peer suite) checks that a microservices
// cluster on etcd (3 ingesters, a distributor, a querier, RF=3) survives its
// KV store and its ingesters going away: a short etcd restart (within the
// heartbeat timeout) fails no push and no query (the querier answers every
// acknowledged sample while etcd is down) and both rings are whole after it;
// a long one fails pushes only while the
// ring cannot be trusted and the cluster accepts writes again once etcd is
// back; an ingester killed with SIGKILL restarts, replays its WAL (it holds
// the series it held before) and rejoins the ring ACTIVE. No acknowledged
// sample is lost through any of it.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { startComponent, type Component, waitFor, startCluster } from './lib/cluster.js';

const TENANT = 'recovery';
const SERIES = 20;
// The ingester ring's heartbeat timeout here. A "short" etcd restart must stay inside it even on a
// loaded CI machine, where etcd takes seconds to stop and start again; the long one must exceed it.
const HEARTBEAT_TIMEOUT_S = 10;
const RING = [`-ingester.ring.heartbeat-timeout=${HEARTBEAT_TIMEOUT_S}s`];

async function activeIds(port: number, path: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { shards: Array<{ id: string; state: string }> }).shards.filter((s) => s.state === 'ACTIVE').map((s) => s.id);
}

async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

/** readAll reads count_over_time(rec[1h]) through the querier: the samples per series, or why it failed. */
async function readAll(port: number): Promise<number[] | string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/query?query=${encodeURIComponent('count_over_time(rec[1h])')}&time=${Date.now() / 1000}`, {
      headers: { 'X-Scope-OrgID': TENANT },
      signal: AbortSignal.timeout(20_000),
    });
    if (res.status !== 200) return `${res.status} ${await res.text()}`;
    const result = ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
    return result.map((r) => Number(r.value[1]));
  } catch (err) {
    return (err as Error).name;
  }
}

/** Load pushes one sample to each of SERIES series per batch, batch after batch, recording what was acknowledged. */
class Load {
  acked = 0;
  failed = 0;
  /** why pushes failed: HTTP status or error name, with their counts. */
  readonly reasons = new Map<string, number>();
  private batch = 0;
  private stopped = false;
  private done: Promise<void> | undefined;
  private readonly base = Date.now() - 120_000;

  constructor(private readonly port: number) {}

  start(): void {
    this.done = (async () => {
      while (!this.stopped && this.batch < 5_000) {
        const b = this.batch++;
        const series: TimeSeriesInput[] = Array.from({ length: SERIES }, (_, s) => ({ labels: [['__name__', 'rec'], ['s', String(s)]], samples: [[this.base + b * 10, b]] }));
        try {
          const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/push`, {
            method: 'POST',
            body: new Uint8Array(encodeWriteRequestSnappy(series)),
            headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
            signal: AbortSignal.timeout(15_000),
          });
          await res.arrayBuffer();
          if (res.status === 200) this.acked++;
          else this.fail(`${res.status}`);
        } catch (err) {
          this.fail((err as Error).name);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private fail(reason: string): void {
    this.failed++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  /** counts snapshots the acknowledged and failed pushes. */
  counts(): { acked: number; failed: number } {
    return { acked: this.acked, failed: this.failed };
  }
}

t.test('etcd restarts and a killed ingester: the cluster recovers and loses nothing acknowledged', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const ingesters: Component[] = [];
  for (const i of [1, 2, 3]) ingesters.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint, extra: RING }));
  started.push(...ingesters);
  const distributor = await startComponent({ name: 'distributor-1', target: 'distributor', etcd: etcd.endpoint, extra: RING });
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: RING });
  started.push(distributor, querier);
  t.ok(await waitFor(async () => (await activeIds(distributor.port, '/ingester/ring')).length === 3, 15_000), 'three ACTIVE ingesters');

  const load = new Load(distributor.port);
  load.start();
  t.teardown(() => load.stop());
  t.ok(await waitFor(async () => load.counts().acked >= 10, 10_000), 'pushes are acknowledged');

  // A short outage (1.5 s down, within the heartbeat timeout): the rings are served from the last view.
  // Queries run through it, each expected to see every series with at least the batches acknowledged
  // before it was sent.
  const before = load.counts();
  const outageStart = Date.now();
  let restarting = true;
  const reads = { during: 0, bad: [] as string[] };
  const reader = (async () => {
    while (restarting) {
      const acked = load.counts().acked;
      const got = await readAll(querier.port);
      if (restarting) reads.during++;
      if (typeof got === 'string') reads.bad.push(got);
      else if (got.length !== SERIES || got.some((n) => n < acked)) reads.bad.push(`${got.length} series, fewest samples ${Math.min(...got)} < ${acked} acknowledged`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await etcd.restart(1_500);
  restarting = false;
  await reader;
  const outageMs = Date.now() - outageStart;
  const afterShort = load.counts();
  t.ok(reads.during >= 3, `queries ran while etcd was restarting (${reads.during})`);
  t.same(reads.bad, [], 'every query during it answered with every acknowledged sample');
  t.ok(outageMs < (HEARTBEAT_TIMEOUT_S - 2) * 1000, `the short restart took ${outageMs} ms, inside the heartbeat timeout`);
  t.equal(afterShort.failed, before.failed, `no push failed during a short etcd restart (failures: ${JSON.stringify([...load.reasons])})`);
  t.ok(afterShort.acked > before.acked, 'pushes went on during it');
  t.ok(await waitFor(async () => (await activeIds(distributor.port, '/ingester/ring')).length === 3, 15_000), 'the ring is whole after it');
  t.ok(await waitFor(async () => (await activeIds(querier.port, '/ingester/ring')).length === 3, 15_000), "and in the querier's view");
  // The rings are written again: a heartbeat after the outage reaches the querier through etcd.
  const heartbeat = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${querier.port}/ingester/ring`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    const shards = ((await res.json()) as { shards: Array<{ timestamp: string }> }).shards;
    return Math.min(...shards.map((s) => Date.parse(s.timestamp)));
  };
  // Timestamps are whole seconds: a heartbeat from the next second on.
  const restartedAt = Math.ceil(Date.now() / 1000) * 1000;
  t.ok(await waitFor(async () => (await heartbeat()) >= restartedAt, 20_000), "every ingester's heartbeat after etcd came back is in the querier's ring");

  // A long outage (past the heartbeat timeout): the heartbeats are too old to trust; once etcd is
  // back, writes are accepted again.
  await etcd.restart((HEARTBEAT_TIMEOUT_S + 2) * 1000);
  const back = load.counts();
  t.ok(await waitFor(async () => load.counts().acked >= back.acked + 10, 30_000), `writes are accepted again after etcd came back (${load.counts().failed - before.failed} failed meanwhile)`);
  t.ok(await waitFor(async () => (await activeIds(distributor.port, '/ingester/ring')).length === 3, 15_000), 'three ACTIVE ingesters again');

  // kill -9 an ingester under load: pushes go on (quorum of 2).
  const victim = ingesters[0]!;
  t.equal(await gauge(victim.port, 'cortex_ingester_memory_series'), SERIES, 'the ingester holds every series (RF=3 of 3)');
  const killedAt = load.counts();
  victim.proc.child.kill('SIGKILL');
  t.ok(await waitFor(async () => load.counts().acked >= killedAt.acked + 10, 15_000), 'pushes go on with an ingester dead');
  t.equal(load.counts().failed, killedAt.failed, 'no push failed: two replicas of three are a quorum');
  // The load stops before the restart: whatever the ingester holds afterwards came from its WAL.
  await load.stop();
  await victim.restart();
  t.ok(await waitFor(async () => (await activeIds(distributor.port, '/ingester/ring')).includes(victim.name), 20_000), 'the restarted ingester is ACTIVE in the ring');
  t.equal(await gauge(victim.port, 'cortex_ingester_memory_series'), SERIES, 'its WAL replay restored its series');
  // The distributor may still see the rejoined ingester's old, stale heartbeat for a moment and
  // write to the two others only (a quorum): push the same sample again until the ingester has it.
  const rejoinTs = Date.now();
  const pushAfterRejoin = (): Promise<Response> =>
    fetch(`http://127.0.0.1:${distributor.port}/api/v1/push`, {
      method: 'POST',
      body: new Uint8Array(encodeWriteRequestSnappy([{ labels: [['__name__', 'after_rejoin']], samples: [[rejoinTs, 1]] }])),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
      signal: AbortSignal.timeout(15_000),
    });
  const statuses: number[] = [];
  const reached = await waitFor(async () => {
    statuses.push((await pushAfterRejoin()).status);
    return (await gauge(victim.port, 'cortex_ingester_memory_series')) === SERIES + 1;
  }, 15_000);
  t.ok(statuses.every((s) => s === 200), `every push after the rejoin is acknowledged (${statuses.join(', ')})`);
  t.ok(reached, `and the sample reaches the rejoined ingester (after ${statuses.length} pushes)`);

  // Every acknowledged batch is readable: count_over_time per series is at least the acknowledged batches.
  const { acked } = load.counts();
  const res = await fetch(`http://127.0.0.1:${querier.port}/prometheus/api/v1/query?query=${encodeURIComponent('count_over_time(rec[1h])')}&time=${Date.now() / 1000}`, {
    headers: { 'X-Scope-OrgID': TENANT },
    signal: AbortSignal.timeout(20_000),
  });
  const result = ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
  t.equal(result.length, SERIES, 'every series is readable');
  for (const r of result) t.ok(Number(r.value[1]) >= acked, `series ${r.metric['s']}: ${r.value[1]} samples, ${acked} batches acknowledged`);
});
