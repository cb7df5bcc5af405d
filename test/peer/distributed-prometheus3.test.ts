// distributed-prometheus3.test.ts (peer suite) runs our server in
// microservices mode on loopback: etcd (the rings), 3 ingesters, 2
// distributors and 2 queriers as separate processes, RF=3. A real Prometheus
// 3 scrapes itself and remote-writes to a distributor and to a monolithic
// server at once; the queriers' answers (instant, range, series, labels) must
// equal the monolithic server's. Then, under a push load spread over both
// distributors, one ingester is killed with SIGKILL: pushes keep succeeding,
// no acknowledged sample is lost and queries keep answering fully; the
// ingester restarts (WAL replay) and rejoins the ring.

import t from 'tap';
import { ETCD, PROMETHEUS3, failIfMissing, skipUnless } from './lib/binary.js';
import { activeMembers, IN_MEMORY_RINGS, startComponent, type Component, waitFor } from './lib/cluster.js';
import { startEtcd } from './lib/etcd.js';
import { startSelfScrapingPrometheus } from './lib/prometheus.js';
import { startPushLoad } from './lib/push-load.js';
import type { ServerProcess } from './lib/server-process.js';

const TENANT = 'dist';
const TENANT_V2 = 'dist-rw2';

interface Answer {
  status: string;
  data: unknown;
}

async function get(port: number, path: string, tenant = TENANT): Promise<{ status: number; json: Answer }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'X-Scope-OrgID': tenant }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, json: (await res.json()) as Answer };
}

t.test('microservices on etcd answer as the monolith; an ingester killed under load loses nothing', { skip: skipUnless(ETCD, PROMETHEUS3) }, async (t) => {
  if (failIfMissing(t, ETCD, PROMETHEUS3)) return;
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const started: Component[] = [];
  const others: ServerProcess[] = [];
  t.teardown(async () => {
    for (const p of others) await p.stop(5_000);
    for (const c of started) await c.proc.stop(5_000);
  });
  const ingesters: Component[] = [];
  for (const i of [1, 2, 3]) ingesters.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint }));
  started.push(...ingesters);
  const distributors = [await startComponent({ name: 'distributor-1', target: 'distributor', etcd: etcd.endpoint }), await startComponent({ name: 'distributor-2', target: 'distributor', etcd: etcd.endpoint })];
  const queriers = [await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint }), await startComponent({ name: 'querier-2', target: 'querier', etcd: etcd.endpoint })];
  started.push(...distributors, ...queriers);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...IN_MEMORY_RINGS] });
  started.push(mono);

  // Every process sees the three ingesters ACTIVE and the distributors in their ring.
  const ring = activeMembers;
  t.ok(await waitFor(async () => (await ring(distributors[0]!.port, '/ingester/ring')).length === 3, 10_000), 'three ACTIVE ingesters in the ring');
  t.same(await ring(queriers[1]!.port, '/ingester/ring'), ['ingester-1', 'ingester-2', 'ingester-3']);
  t.same(await ring(distributors[1]!.port, '/distributor/ring'), ['distributor-1', 'distributor-2']);

  // Prometheus 3 scrapes itself and remote-writes to a distributor and to the monolith; the same
  // samples also go, as remote write 2.0, to the other distributor under a second tenant.
  const push = (c: Component): string => `http://127.0.0.1:${c.port}/api/v1/push`;
  const prom = await startSelfScrapingPrometheus(PROMETHEUS3.path, [
    { url: push(distributors[0]!), tenant: TENANT },
    { url: push(mono), tenant: TENANT },
    { url: push(distributors[1]!), tenant: TENANT_V2, v2: true },
  ]);
  others.push(prom);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 8_000));
  await prom.stop(15_000);
  const t1 = Math.floor(Date.now() / 1000);

  // Both stores hold the same samples once the remote-write queues are flushed.
  const count = (port: number): Promise<string> => get(port, `/prometheus/api/v1/query?query=${encodeURIComponent('count(count_over_time({__name__=~".+"}[5m]))')}&time=${t1}`).then((a) => JSON.stringify(a.json.data));
  t.ok(await waitFor(async () => (await count(queriers[0]!.port)) === (await count(mono.port)), 15_000), 'the same series reached both');
  const queries = [
    `/prometheus/api/v1/query?query=up&time=${t1}`,
    `/prometheus/api/v1/query?query=${encodeURIComponent('sum by (job) (count_over_time({__name__=~"prometheus_http.*"}[5m]))')}&time=${t1}`,
    `/prometheus/api/v1/query?query=${encodeURIComponent('topk(3, prometheus_tsdb_head_series)')}&time=${t1}`,
    `/prometheus/api/v1/query?query=${encodeURIComponent('sum(rate(prometheus_http_requests_total[1m]))')}&time=${t1}`,
    `/prometheus/api/v1/query_range?query=${encodeURIComponent('sum(count_over_time({__name__=~"go_gc.*"}[3s]))')}&start=${Math.floor(t0 / 1000)}&end=${t1}&step=1`,
    `/prometheus/api/v1/query_range?query=${encodeURIComponent('max_over_time(scrape_samples_scraped[2s] offset 1s)')}&start=${Math.floor(t0 / 1000)}&end=${t1}&step=2`,
    `/prometheus/api/v1/series?${encodeURIComponent('match[]')}=up&start=${Math.floor(t0 / 1000) - 60}&end=${t1}`,
    `/prometheus/api/v1/labels?start=${Math.floor(t0 / 1000) - 60}&end=${t1}`,
    `/prometheus/api/v1/label/job/values?start=${Math.floor(t0 / 1000) - 60}&end=${t1}`,
  ];
  // An evaluation error is answered alike too (422, the same text).
  const failing = `/prometheus/api/v1/query_range?query=${encodeURIComponent('count_over_time({__name__=~"go_gc.*"}[3s])')}&start=${Math.floor(t0 / 1000)}&end=${t1}&step=1`;
  const monoErr = await get(mono.port, failing);
  t.equal(monoErr.status, 422, 'series without names collide in the monolith');
  for (const qr of queriers) t.same((await get(qr.port, failing)).json, monoErr.json, `${qr.name} fails alike`);
  for (const q of queries) {
    const want = await get(mono.port, q);
    t.equal(want.status, 200, `monolith answers ${q}`);
    const d = want.json.data as { result?: unknown[] } | unknown[];
    t.ok(Array.isArray(d) ? d.length > 0 : (d.result?.length ?? 0) > 0, `non-empty answer to ${q}`);
    for (const qr of queriers) {
      const got = await get(qr.port, q);
      t.same(got.json, want.json, `${qr.name}: ${q}`);
    }
  }

  // Remote write 2.0 through the other distributor stored the same samples.
  for (const q of queries.slice(0, 5)) t.same((await get(queriers[1]!.port, q, TENANT_V2)).json, (await get(queriers[0]!.port, q)).json, `remote write 2.0: ${q}`);

  // Load over both distributors; ingester-2 is killed with SIGKILL in the middle.
  const load = startPushLoad(
    distributors.map((d) => d.port),
    TENANT,
    'load',
    40,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  ingesters[1]!.proc.child.kill('SIGKILL');
  const killedAt = load.batches();
  // Queries keep answering fully while the ingester is down (before and after its heartbeat times out).
  const sumQuery = `/prometheus/api/v1/query?query=${encodeURIComponent('count(load)')}&time=${Math.floor(Date.now() / 1000)}`;
  for (let i = 0; i < 3; i++) {
    const a = await get(queriers[i % 2]!.port, sumQuery);
    t.equal(a.status, 200, 'a query answers with an ingester down');
    t.same((a.json.data as { result: Array<{ value: [number, string] }> }).result[0]?.value[1], '40', 'and sees every series');
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const { acked, failures, batches } = await load.stop();
  t.ok(batches > killedAt + 10, `pushes went on after the kill (${killedAt} before, ${batches} in all)`);
  t.equal(failures, 0, 'no push failed: two replicas of three are a quorum');
  // Every acknowledged sample is there.
  const want = acked.get('0')!.length;
  t.ok(want > 50, `${want} acknowledged pushes`);
  const countPath = `/prometheus/api/v1/query?query=${encodeURIComponent('count_over_time(load[1h])')}&time=${Math.floor(Date.now() / 1000)}`;
  const cnt = await get(queriers[0]!.port, countPath);
  const got = new Map((cnt.json.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result.map((r) => [r.metric['s']!, Number(r.value[1])]));
  for (const [s, list] of acked) t.equal(got.get(s), list.length, `series ${s}: every acknowledged sample`);

  // The killed ingester comes back (WAL replay) and rejoins the ring.
  await ingesters[1]!.restart();
  t.ok(await waitFor(async () => (await ring(queriers[0]!.port, '/ingester/ring')).length === 3, 15_000), 'three ACTIVE ingesters again');
  const after = await get(queriers[1]!.port, countPath);
  t.same(after.json, cnt.json, 'answers unchanged after the rejoin');
});
