// distributed-query-scheduler.test.ts (peer suite) runs the query path of
// Mimir's microservices mode with a query-scheduler, as separate processes on
// loopback: etcd (the rings), an ingester, a distributor, a query-scheduler, a
// query-frontend and two queriers, all finding the scheduler in the
// query-scheduler ring (-query-scheduler.service-discovery-mode=ring), and a
// monolithic server holding the same samples. Range queries through the
// frontend (split by the hour, each part pulled by a querier's worker from the
// scheduler) must equal the monolith's answers; with one querier killed
// (SIGKILL, after a SIGSTOP so that it surely holds parts it never answers)
// in the middle of a batch, every query still answers (its parts are retried
// on the other querier); and beyond
// -query-scheduler.max-outstanding-requests-per-tenant queued parts, queries
// get 429 "too many outstanding requests".

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { activeMembers, IN_MEMORY_RINGS, startCluster, startComponent, waitFor, answersMatch, type ApiAnswer } from './lib/cluster.js';

const TENANT = 'sched';
const M = 60_000;
const H = 60 * M;


async function rangeQuery(port: number, query: string, start: number, end: number): Promise<ApiAnswer> {
  const params = new URLSearchParams({ query, start: String(start / 1000), end: String(end / 1000), step: '60' });
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/query_range?${params}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: (await res.json()) as ApiAnswer['body'] };
}

/** metric reads one sample of a process's /metrics (the whole line up to the value, e.g. `name{user="x"}`). */
async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

t.test('a query-scheduler between the query-frontend and two queriers', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const common = ['-ingester.ring.replication-factor=1', '-query-scheduler.service-discovery-mode=ring'];
  const start = async (name: string, target: string, extra: string[] = []) => {
    const c = await startComponent({ name, target, etcd: etcd.endpoint, extra: [...common, ...extra] });
    started.push(c);
    return c;
  };
  await start('ingester-1', 'ingester');
  const distributor = await start('distributor-1', 'distributor');
  const scheduler = await start('query-scheduler-1', 'query-scheduler', ['-query-scheduler.max-outstanding-requests-per-tenant=4']);
  const queriers = [await start('querier-1', 'querier', ['-querier.max-concurrent=2', '-querier.id=querier-1']), await start('querier-2', 'querier', ['-querier.max-concurrent=2', '-querier.id=querier-2'])];
  // Each query is cut into hourly parts, two of them queued at once.
  const frontend = await start('query-frontend-1', 'query-frontend', ['-query-frontend.split-queries-by-interval=1h', '-querier.max-query-parallelism=2']);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...IN_MEMORY_RINGS] });
  started.push(mono);

  const schedulerRing = (): Promise<string[]> => activeMembers(frontend.port, '/query-scheduler/ring');
  t.ok(await waitFor(async () => (await schedulerRing()).join() === 'query-scheduler-1', 15_000), 'the frontend finds the scheduler in its ring');
  const connected = (): Promise<number> => metric(scheduler.port, 'cortex_query_scheduler_connected_querier_clients');
  t.ok(await waitFor(async () => (await connected()) === 4, 15_000), "both queriers' two workers poll the scheduler");

  // The same four hours of three series, to the distributor and to the monolith.
  const base = Math.floor((Date.now() - 5 * H) / M) * M;
  const series: TimeSeriesInput[] = ['a', 'b', 'c'].map((inst, k) => ({
    labels: [
      ['__name__', 'sched_requests_total'],
      ['instance', inst],
      ['job', k === 2 ? 'other' : 'api'],
    ],
    samples: Array.from({ length: 240 }, (_, i) => [base + i * M, i * (k + 1) + (i % 7)] as [number, number]),
  }));
  for (const port of [distributor.port, mono.port]) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, {
      method: 'POST',
      body: new Uint8Array(encodeWriteRequestSnappy(series)),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
      signal: AbortSignal.timeout(10_000),
    });
    t.equal(res.status, 200, await res.text());
  }
  const queries = ['sched_requests_total', 'rate(sched_requests_total[5m])', 'sum by (job) (increase(sched_requests_total[10m]))', 'max_over_time(sched_requests_total[7m]) - min_over_time(sched_requests_total[7m])'];
  const [from, to] = [base + 10 * M, base + 4 * H - M];
  const want = new Map<string, unknown>();
  for (const q of queries) {
    const m = await rangeQuery(mono.port, q, from, to);
    t.equal(m.status, 200);
    t.ok(((m.body.data as { result: unknown[] }).result ?? []).length > 0, `${q} has data on the monolith`);
    want.set(q, m.body.data);
  }
  /** check runs the queries through the frontend, `lanes` at once, each `rounds` times, and compares every answer. */
  const check = (label: string, lanes: number, rounds: number, during?: () => void): Promise<void> =>
    answersMatch(t, label, queries, want, (q) => rangeQuery(frontend.port, q, from, to), lanes, rounds, during);
  await check('two queriers', 2, 2);
  const before = await metric(scheduler.port, `cortex_query_scheduler_queue_duration_seconds_count{user="${TENANT}",additional_queue_dimensions=""}`);
  t.ok(before >= 2 * 2 * queries.length * 4, `every hourly part went through the scheduler's queue (${before})`);

  // querier-1 dies in the middle of queries: frozen (SIGSTOP) its workers' connections stay open, so
  // the scheduler hands it parts it never answers; then SIGKILL closes them and the frontend retries
  // those parts on querier-2.
  queriers[0]!.proc.child.kill('SIGSTOP');
  await check('querier-1 killed mid-query', 2, 2, () => setTimeout(() => queriers[0]!.proc.child.kill('SIGKILL'), 1_000));
  t.ok(await waitFor(async () => (await connected()) === 2, 10_000), "only querier-2's workers remain connected");
  const retried = frontend.proc.output().split('\n').filter((l) => l.includes('querier querier-1 disconnected while running the query')).length;
  t.ok(retried > 0, `the parts running on querier-1 when it died were retried (${retried})`);
  await check('one querier left', 2, 1);

  // Many queries at once: more than 4 parts of the tenant wait, the rest is refused with 429.
  const burst = await Promise.all(Array.from({ length: 6 }, () => rangeQuery(frontend.port, queries[1]!, from, to)));
  const refused = burst.filter((a) => a.status === 429);
  t.ok(refused.length > 0, `some of the burst is refused (${refused.length} of ${burst.length})`);
  t.same([...new Set(refused.map((a) => a.body.error))], ['too many outstanding requests'], "with Mimir's text");
  t.ok(
    burst.filter((a) => a.status !== 429).every((a) => a.status === 200 && JSON.stringify(a.body.data) === JSON.stringify(want.get(queries[1]!))),
    'the others answer correctly',
  );
  t.ok((await metric(scheduler.port, `cortex_query_scheduler_discarded_requests_total{user="${TENANT}"}`)) > 0, 'the scheduler counts the discarded requests');
  // The refused queries' other parts were taken back out of the queue (the frontend abandons them).
  const queued = async (): Promise<number> => {
    const n = await metric(scheduler.port, `cortex_query_scheduler_queue_length{user="${TENANT}"}`);
    return Number.isNaN(n) ? 0 : n;
  };
  t.ok(await waitFor(async () => (await queued()) === 0, 5_000), 'nothing left in the queue');
  await check('after the burst', 1, 1);
});
