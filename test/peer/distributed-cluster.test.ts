// distributed-cluster.test.ts (peer suite) runs Mimir's whole microservices
// deployment on loopback, every component its own process: etcd (the rings),
// moto (the S3 buckets of the blocks, the rule groups and the alertmanager
// configurations), memcached (the query-frontend's results cache), 2
// distributors, 3 ingesters (RF 3), 2 queriers, a query-frontend and a
// query-scheduler (found through the query-scheduler ring), 2
// store-gateways, a compactor, a ruler and an alertmanager; beside it a
// monolithic server (-target=all) as the reference. A real Prometheus 3
// scrapes itself and remote-writes to both distributors and to the monolith.
// Checks: instant, range, series and label queries through the frontend
// (split by interval, sharded, cached in memcached) answer as the monolith
// over the range both hold completely; a recording rule stored through the
// ruler's config API is evaluated by the ruler and read back through the
// frontend; an alert posted to the alertmanager is listed back; every ring
// page lists its members; with one ingester killed (SIGKILL) under load,
// queries through the frontend still answer fully. A block of two days ago
// (written by promtool) is put in the S3 blocks bucket and in the monolith's
// bucket: queries over its range, answered by the store-gateways, equal the
// monolith's too.
//
// Not covered within the test's time: the ingesters cut and ship no block of
// their own (2h ranges), so the compactor has nothing to compact; that path is
// distributed-compaction.test.ts (10 s ranges).

import t from 'tap';
import { ETCD, PROMETHEUS3, PROMTOOL_PEER, failIfMissing, skipUnless } from './lib/binary.js';
import { activeMembers, IN_MEMORY_RINGS, startCluster, startComponent, waitFor, type Component } from './lib/cluster.js';
import { MEMCACHED, memcachedStats, startMemcached } from './lib/memcached.js';
import { startSelfScrapingPrometheus } from './lib/prometheus.js';
import { startPushLoad } from './lib/push-load.js';
import { bucketFromOpenMetrics } from './lib/promtool.js';
import { listKeys, MOTO, s3StorageFlags, startS3Server, uploadDir } from './lib/s3-server.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'cluster';
const HOUR = 3_600_000;

interface Answer {
  status: number;
  body: { status: string; data?: unknown; error?: string };
}

async function get(port: number, path: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Answer['body'] };
  } catch {
    throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 500)}`);
  }
}

async function send(port: number, method: string, path: string, body: string, contentType = 'application/yaml'): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'X-Scope-OrgID': TENANT, 'Content-Type': contentType }, body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

/**
 * comparable rounds every sample value of a query answer to 12 significant digits: a sharded sum
 * adds its terms in another order than the monolith's, which may change the last bits.
 */
function comparable(data: unknown): unknown {
  const round = (v: string): string => (Number.isFinite(Number(v)) ? String(Number(Number(v).toPrecision(12))) : v);
  return JSON.parse(JSON.stringify(data), (key, value: unknown) => {
    if ((key === 'value' || /^\d+$/.test(key)) && Array.isArray(value) && value.length === 2 && typeof value[1] === 'string') return [value[0], round(value[1])];
    return value;
  });
}

/** nonEmpty tells whether an answer has data: a query result, or a series / label list. */
function nonEmpty(a: Answer): boolean {
  const d = a.body.data as { result?: unknown[] } | unknown[] | undefined;
  return Array.isArray(d) ? d.length > 0 : (d?.result?.length ?? 0) > 0;
}

/** resultOf is the result list of a query answer. */
function resultOf(a: Answer): Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> {
  return (a.body.data as { result?: [] } | undefined)?.result ?? [];
}

t.test('the whole microservices deployment answers as the monolith', { skip: skipUnless(ETCD, PROMETHEUS3, MOTO, MEMCACHED, PROMTOOL_PEER) }, async (t) => {
  if (failIfMissing(t, ETCD, PROMETHEUS3, MOTO, MEMCACHED, PROMTOOL_PEER)) return;
  const { etcd, started } = await startCluster(t);
  const s3 = await startS3Server('blocks', 'ruler', 'alertmanager');
  t.teardown(() => s3.stop());
  const memcached = await startMemcached();
  t.teardown(() => memcached.stop());
  // Two hours of 15 s samples of two series, two days ago (past -querier.query-store-after), as a block
  // in the S3 bucket of the store-gateways and in the monolith's filesystem bucket.
  const oldBase = Math.floor((Date.now() - 48 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  for (let k = 0; k < 480; k++) lines.push(`old_requests_total{job="a"} ${k * 3} ${(oldBase + k * 15_000) / 1000}`, `old_requests_total{job="b"} ${k * k} ${(oldBase + k * 15_000) / 1000}`);
  const { bucket: oldBucket, ulids } = await bucketFromOpenMetrics(await makeTempDir('cluster-old-'), lines, TENANT);
  const uploaded = await uploadDir(s3.endpoint, 'blocks', oldBucket);
  t.ok(ulids.length > 0 && uploaded.some((k) => k.endsWith('/meta.json')), `promtool's blocks are in the S3 bucket (${ulids.join(', ')})`);

  const common = [
    ...s3StorageFlags(s3.endpoint, { blocks: 'blocks', ruler: 'ruler', alertmanager: 'alertmanager' }),
    '-query-scheduler.service-discovery-mode=ring',
    '-blocks-storage.bucket-store.sync-interval=1s',
    '-alertmanager.sharding-ring.replication-factor=1',
    '-ruler.poll-interval=1s',
    '-ruler.evaluation-interval=1s',
  ];
  const start = async (name: string, target: string, extra: string[] = []): Promise<Component> => {
    const c = await startComponent({ name, target, etcd: etcd.endpoint, extra: [...common, ...extra] });
    started.push(c);
    return c;
  };
  const frontendFlags = [
    '-query-frontend.split-queries-by-interval=5s',
    '-query-frontend.parallelize-shardable-queries=true',
    '-query-frontend.query-sharding-total-shards=4',
    '-query-frontend.cache-results=true',
    '-query-frontend.results-cache.backend=memcached',
    `-query-frontend.results-cache.memcached.addresses=${memcached.address}`,
    '-query-frontend.max-cache-freshness=1s',
  ];
  // Every component at once (the machine has few cores; each waits for its own /ready).
  const [ingesters, distributors, queriers, [frontend, scheduler, compactor, ruler, alertmanager], storeGateways] = await Promise.all([
    Promise.all([1, 2, 3].map((i) => start(`ingester-${i}`, 'ingester'))),
    Promise.all([1, 2].map((i) => start(`distributor-${i}`, 'distributor'))),
    Promise.all([1, 2].map((i) => start(`querier-${i}`, 'querier', [`-querier.id=querier-${i}`, '-querier.max-concurrent=4']))),
    Promise.all([
      start('query-frontend-1', 'query-frontend', frontendFlags),
      start('query-scheduler-1', 'query-scheduler'),
      start('compactor-1', 'compactor', ['-compactor.compaction-interval=5s']),
      start('ruler-1', 'ruler'),
      start('alertmanager-1', 'alertmanager'),
    ]),
    Promise.all([1, 2].map((i) => start(`store-gateway-${i}`, 'store-gateway'))),
  ]);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...IN_MEMORY_RINGS, `-blocks-storage.filesystem.dir=${oldBucket}`, '-blocks-storage.bucket-store.sync-interval=1s'] });
  started.push(mono);

  // Every ring page lists its members (JSON), as seen by a process of that ring.
  const rings: Array<[Component, string, string[]]> = [
    [distributors[0]!, '/ingester/ring', ingesters.map((c) => c.name)],
    [distributors[1]!, '/distributor/ring', distributors.map((c) => c.name)],
    [storeGateways[0]!, '/store-gateway/ring', storeGateways.map((c) => c.name)],
    [ruler, '/ruler/ring', [ruler.name]],
    [compactor, '/compactor/ring', [compactor.name]],
    [alertmanager, '/multitenant_alertmanager/ring', [alertmanager.name]],
    [frontend, '/query-scheduler/ring', [scheduler.name]],
  ];
  for (const [c, path, want] of rings) {
    let seen: string[] = [];
    t.ok(
      await waitFor(async () => {
        seen = await activeMembers(c.port, path);
        return seen.join() === want.join();
      }, 20_000),
      `${path} on ${c.name} lists ${want.join(', ')} (saw ${seen.join(', ')})`,
    );
  }
  t.same(await activeMembers(queriers[0]!.port, '/ingester/ring'), ingesters.map((c) => c.name), 'the queriers see the ingesters');
  t.same(await activeMembers(queriers[1]!.port, '/store-gateway/ring'), storeGateways.map((c) => c.name), 'and the store-gateways');

  // Prometheus 3 scrapes itself for a while and writes every sample to both distributors and the monolith.
  const t0 = Math.ceil(Date.now() / 1000) + 2;
  const prom = await startSelfScrapingPrometheus(
    PROMETHEUS3.path,
    [distributors[0]!, distributors[1]!, mono].map((c) => ({ url: `http://127.0.0.1:${c.port}/api/v1/push`, tenant: TENANT })),
  );
  t.teardown(() => prom.stop(5_000));
  await new Promise((r) => setTimeout(r, 12_000));
  await prom.stop(15_000);
  const t1 = Math.floor(Date.now() / 1000) - 1;

  // Both stores hold the same samples once the remote-write queues are flushed.
  const everything = `/prometheus/api/v1/query?query=${encodeURIComponent('count(count_over_time({__name__=~".+"}[5m]))')}&time=${t1}`;
  const same = async (): Promise<boolean> => JSON.stringify((await get(frontend.port, everything)).body.data) === JSON.stringify((await get(mono.port, everything)).body.data);
  t.ok(await waitFor(same, 20_000), 'the same series reached the cluster and the monolith');

  const enc = encodeURIComponent;
  const range = (q: string, step = 1): string => `/prometheus/api/v1/query_range?query=${enc(q)}&start=${t0}&end=${t1}&step=${step}`;
  const instant = (q: string): string => `/prometheus/api/v1/query?query=${enc(q)}&time=${t1}`;
  const queries = [
    instant('up'),
    instant('sum(prometheus_tsdb_head_series)'),
    instant('sum by (handler) (rate(prometheus_http_requests_total[5s]))'),
    instant('histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[10s])))'),
    instant('count by (job) ({__name__=~"go_.*"})'),
    range('sum(rate(prometheus_http_requests_total[3s]))'),
    range('histogram_quantile(0.5, sum by (le, handler) (rate(prometheus_http_response_size_bytes_bucket[4s])))', 2),
    range('sum by (job) (scrape_samples_scraped)'),
    range('max_over_time(go_goroutines[2s])'),
    range('count(count_over_time({__name__=~"prometheus_tsdb.*"}[3s]))'),
    `/prometheus/api/v1/series?${enc('match[]')}=up&${enc('match[]')}=${enc('{__name__=~"go_memstats_.*_bytes"}')}&start=${t0}&end=${t1}`,
    `/prometheus/api/v1/labels?start=${t0}&end=${t1}`,
    `/prometheus/api/v1/label/__name__/values?start=${t0}&end=${t1}`,
    `/prometheus/api/v1/label/handler/values?start=${t0}&end=${t1}`,
  ];
  const want = new Map<string, unknown>();
  for (const q of queries) {
    const m = await get(mono.port, q);
    t.equal(m.status, 200, `monolith answers ${q}`);
    t.ok(nonEmpty(m), `non-empty answer to ${q}`);
    want.set(q, comparable(m.body.data));
  }
  // The old block's range: the queriers read it from the store-gateways, the monolith from its bucket.
  const oldAt = (oldBase + HOUR) / 1000;
  const oldQueries = [
    `/prometheus/api/v1/query?query=${enc('sum by (job) (rate(old_requests_total[5m]))')}&time=${oldAt}`,
    `/prometheus/api/v1/query?query=${enc('count_over_time(old_requests_total[1h])')}&time=${oldAt}`,
    `/prometheus/api/v1/query_range?query=${enc('max(old_requests_total)')}&start=${oldAt - 60}&end=${oldAt + 60}&step=15`,
    `/prometheus/api/v1/series?${enc('match[]')}=old_requests_total&start=${oldAt - 60}&end=${oldAt}`,
    `/prometheus/api/v1/label/job/values?${enc('match[]')}=old_requests_total&start=${oldAt - 60}&end=${oldAt}`,
  ];
  for (const q of oldQueries) {
    let m: Answer = { status: 0, body: { status: '' } };
    t.ok(
      await waitFor(async () => {
        m = await get(mono.port, q);
        return m.status === 200 && nonEmpty(m);
      }, 30_000),
      `the monolith answers ${q} from the block`,
    );
    let a: Answer = { status: 0, body: { status: '' } };
    t.ok(
      await waitFor(async () => {
        a = await get(frontend.port, q);
        return a.status === 200 && JSON.stringify(comparable(a.body.data)) === JSON.stringify(comparable(m.body.data));
      }, 30_000),
      `the frontend answers ${q} from the store-gateways as the monolith (${a.status} ${JSON.stringify(a.body).slice(0, 200)})`,
    );
  }
  t.equal(resultOf(await get(frontend.port, oldQueries[1]!)).map((r) => r.value?.[1]).join(), '240,240', 'an hour of 15 s samples of each series');

  const hitsBefore = Number((await memcachedStats(memcached.address)).get('get_hits'));
  // Twice: the second round's range queries come (in part) from memcached.
  for (const round of [1, 2]) {
    for (const q of queries) {
      const a = await get(frontend.port, q);
      t.equal(a.status, 200, `frontend answers ${q}`);
      t.same(comparable(a.body.data), want.get(q), `round ${round}: ${q}`);
    }
  }
  const stats = await memcachedStats(memcached.address);
  t.ok(Number(stats.get('get_hits')) > hitsBefore, `the second round hit the results cache in memcached (${stats.get('get_hits')} hits, ${stats.get('curr_items')} items)`);
  const frontendMetrics = await (await fetch(`http://127.0.0.1:${frontend.port}/metrics`)).text();
  t.match(frontendMetrics, /^cortex_frontend_query_sharding_rewrites_succeeded_total [1-9]\d*$/m, 'the frontend sharded queries');
  const schedulerMetrics = await (await fetch(`http://127.0.0.1:${scheduler.port}/metrics`)).text();
  t.match(schedulerMetrics, /^cortex_query_scheduler_connected_querier_clients [1-9]\d*$/m, 'the queriers pull from the scheduler');

  // A recording rule stored through the ruler's config API (into the S3 bucket), evaluated by the ruler.
  const rule = 'name: cluster\ninterval: 1s\nrules:\n  - record: cluster:http_requests:count\n    expr: count(prometheus_http_requests_total)\n';
  const stored = await send(ruler.port, 'POST', '/prometheus/config/v1/rules/ns', rule);
  t.equal(stored.status, 202, stored.text);
  t.ok((await listKeys(s3.endpoint, 'ruler')).some((k) => k.startsWith(`rules/${TENANT}/`)), 'the rule group is in the ruler bucket');
  const direct = resultOf(await get(frontend.port, `/prometheus/api/v1/query?query=${enc('count(prometheus_http_requests_total)')}&time=${t1}`))[0]?.value?.[1];
  t.ok(Number(direct) > 0, `the frontend counts ${direct} request series`);
  let recorded: string | undefined;
  t.ok(
    await waitFor(async () => {
      recorded = resultOf(await get(frontend.port, `/prometheus/api/v1/query?query=${enc('cluster:http_requests:count')}&time=${Math.floor(Date.now() / 1000)}`))[0]?.value?.[1];
      return recorded !== undefined;
    }, 20_000),
    'the recorded series reads back through the frontend',
  );
  t.equal(recorded, direct, 'with the value the query has');

  // An alertmanager configuration for the tenant (into its bucket), and an alert posted and listed back.
  const amConfig = 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n';
  const cfg = await send(alertmanager.port, 'POST', '/api/v1/alerts', JSON.stringify({ alertmanager_config: amConfig, template_files: {} }), 'application/json');
  t.equal(cfg.status, 201, cfg.text);
  t.ok((await listKeys(s3.endpoint, 'alertmanager')).includes(`alerts/${TENANT}`), 'the configuration is in the alertmanager bucket');
  const now = Date.now();
  const alert = [{ labels: { alertname: 'ClusterUp', severity: 'none' }, annotations: { summary: 'posted by the cluster test' }, startsAt: new Date(now).toISOString(), endsAt: new Date(now + 600_000).toISOString() }];
  let posted = { status: 0, text: '' };
  t.ok(
    await waitFor(async () => {
      posted = await send(alertmanager.port, 'POST', '/alertmanager/api/v2/alerts', JSON.stringify(alert), 'application/json');
      return posted.status === 200;
    }, 15_000),
    `the alert is accepted (${posted.status} ${posted.text})`,
  );
  const listed = (await (await fetch(`http://127.0.0.1:${alertmanager.port}/alertmanager/api/v2/alerts`, { headers: { 'X-Scope-OrgID': TENANT } })).json()) as Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
  t.same(
    listed.map((a) => [a.labels['alertname'], a.annotations['summary']]),
    [['ClusterUp', 'posted by the cluster test']],
    'the alert is listed back',
  );

  // kill -9 one ingester under a load over both distributors: queries through the frontend still answer fully.
  const load = startPushLoad(
    distributors.map((d) => d.port),
    TENANT,
    'cluster_load',
    40,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  const victim = ingesters[1]!.proc.child;
  const exited = new Promise((r) => victim.once('exit', r));
  victim.kill('SIGKILL');
  await exited;
  const killedAt = load.batches();
  for (let i = 0; i < 3; i++) {
    const a = await get(frontend.port, `/prometheus/api/v1/query?query=${enc('count(cluster_load)')}&time=${Math.floor(Date.now() / 1000)}`);
    t.equal(a.status, 200, 'a query through the frontend answers with an ingester down');
    t.equal(resultOf(a)[0]?.value?.[1], '40', 'and sees every series');
    await new Promise((r) => setTimeout(r, 1_500));
  }
  const result = await load.stop();
  t.ok(result.batches > killedAt + 10, `pushes went on after the kill (${killedAt} before, ${result.batches} in all)`);
  t.equal(result.failures, 0, 'no push failed: two replicas of three are a quorum');
  const counts = await get(frontend.port, `/prometheus/api/v1/query?query=${enc('count_over_time(cluster_load[1h])')}&time=${Math.floor(Date.now() / 1000)}`);
  const got = new Map(resultOf(counts).map((r) => [r.metric['s']!, Number(r.value?.[1])]));
  t.equal(got.size, 40, 'every series of the load');
  t.ok(
    [...result.acked].every(([s, list]) => got.get(s) === list.length),
    `every acknowledged sample is there (${result.acked.get('0')?.length} per series)`,
  );
  // The earlier answers are unchanged with the ingester gone.
  for (const q of queries.slice(0, 5)) t.same(comparable((await get(frontend.port, q)).body.data), want.get(q), `with an ingester down: ${q}`);
});
