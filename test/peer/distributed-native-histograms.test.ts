// distributed-native-histograms.test.ts (peer suite): native histograms
// through the distributed querier. Separate processes on loopback: etcd (the
// rings), 3 ingesters at replication factor 3, a distributor, a store-gateway,
// a querier, and a monolithic server (-target=all) as the reference. The same
// native histograms (integer and float counters, a gauge, custom buckets,
// counter resets, stale markers, layout changes) and a float series are
// remote-written to the distributor and to the monolith; the querier's
// answers (raw samples, histogram functions, rate, quantiles, range
// selectors, series) must equal the monolith's JSON. Histograms of twenty
// hours ago, past -querier.query-ingesters-within, written by the monolith
// into the bucket it shares with the store-gateway (/ingester/flush), are
// answered by the querier from the store-gateway alone, again as the
// monolith answered them.

import t from 'tap';
import { join } from 'node:path';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { encodeHistogramWriteRequestSnappy } from '../../src/remote/write-request-histograms.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { startCluster, startComponent, waitFor, type Component } from './lib/cluster.js';
import { buildHistogramCases } from './lib/histogram-write.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'nh-dist';
/** TENANT_OLD holds the old data: a head does not take samples an hour older than its newest. */
const TENANT_OLD = 'nh-dist-old';
const HOUR = 3_600_000;
const MINUTE = 60_000;
/** The monolith keeps its rings in memory: it is not part of the cluster. */
const ALONE = ['ingester.ring', 'distributor.ring', 'store-gateway.sharding-ring', 'compactor.ring', 'ruler.ring', 'query-scheduler.ring', 'alertmanager.sharding-ring'].map((r) => `-${r}.store=inmemory`);

interface Answer {
  status: number;
  body: string;
}

async function api(port: number, path: string, tenant = TENANT): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/${path}`, { headers: { 'X-Scope-OrgID': tenant }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: await res.text() };
}

async function push(port: number, body: Buffer, tenant = TENANT): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
    signal: AbortSignal.timeout(20_000),
  });
  if (res.status !== 200) throw new Error(`push to ${port}: ${res.status} ${await res.text()}`);
}

/** queries are the reads compared over [start, end] (instant ones at end). */
function queries(start: number, end: number): string[] {
  const s = start / 1000;
  const e = end / 1000;
  const q = (query: string): string => `query?query=${encodeURIComponent(query)}&time=${e}`;
  const r = (query: string, step = 30): string => `query_range?query=${encodeURIComponent(query)}&start=${s}&end=${e}&step=${step}`;
  const all = '{__name__=~"nh_bitexact_.+|nh_float_total"}';
  return [
    q(all),
    r(all, 15),
    q('nh_bitexact_int_counter_5s[5m]'),
    q('nh_bitexact_nhcb_counter[3m]'),
    q(`histogram_count(${all})`),
    r(`histogram_sum(${all})`),
    r('histogram_quantile(0.9, sum(rate(nh_bitexact_int_counter_15s[5m])))'),
    r('histogram_quantile(0.5, sum by (job) (rate(nh_bitexact_nhcb_counter[5m])))'),
    r('histogram_count(increase(nh_bitexact_float_counter[10m]))'),
    r('rate({__name__=~"nh_bitexact_.+_counter.*"}[5m])'),
    r('sum(nh_bitexact_int_gauge)'),
    r('histogram_fraction(0, 8, nh_bitexact_float_gauge)'),
    r('rate(nh_float_total[5m])'),
    `series?match[]=${encodeURIComponent(all)}&start=${s}&end=${e}`,
  ];
}

/** writeRequest is the test's data in the window [start, end]: every histogram case and a float counter. */
function writeRequest(start: number, end: number, job: string): Buffer {
  const floats = [{ labels: [['__name__', 'nh_float_total'], ['job', job]] as Array<[string, string]>, samples: [] as Array<[number, number]> }];
  for (let ts = start; ts <= end; ts += 15_000) floats[0]!.samples.push([ts, Math.floor((ts - start) / 7_000)]);
  return encodeHistogramWriteRequestSnappy(buildHistogramCases({ nowMs: end, startMs: start, endMs: end, boundaryMs: start }, job), floats);
}

t.test('native histograms through distributor, ingesters, store-gateway and querier answer as the monolith', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const bucket = join(await makeTempDir('dist-nh-bucket-'), 'bucket');
  const { etcd, started } = await startCluster(t);
  const ingesters: Component[] = [];
  for (const i of [1, 2, 3]) ingesters.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint }));
  started.push(...ingesters);
  const distributor = await startComponent({ name: 'distributor-1', target: 'distributor', etcd: etcd.endpoint });
  started.push(distributor);
  const storeGateway = await startComponent({
    name: 'store-gateway-1',
    target: 'store-gateway',
    etcd: etcd.endpoint,
    extra: [`-blocks-storage.filesystem.dir=${bucket}`, '-blocks-storage.bucket-store.sync-interval=1s'],
  });
  started.push(storeGateway);
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint });
  started.push(querier);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: [...ALONE, `-blocks-storage.filesystem.dir=${bucket}`] });
  started.push(mono);

  const active = async (port: number, path: string): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Accept: 'application/json' } });
    return ((await res.json()) as { shards: Array<{ state: string }> }).shards.filter((s) => s.state === 'ACTIVE').length;
  };
  t.ok(await waitFor(async () => (await active(distributor.port, '/ingester/ring')) === 3, 20_000), 'the distributor sees three ACTIVE ingesters');
  t.ok(
    await waitFor(async () => (await active(querier.port, '/ingester/ring')) === 3 && (await active(querier.port, '/store-gateway/ring')) === 1, 20_000),
    'the querier sees the ingesters and the store-gateway',
  );
  t.ok(await waitFor(async () => (await fetch(`http://127.0.0.1:${distributor.port}/ready`)).status === 200, 20_000), 'the distributor is ready');

  // Recent data, through the distributor to the ingesters (RF 3), and into the monolith.
  const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  const start = end - 40 * MINUTE;
  const recent = writeRequest(start, end, 'recent');
  await push(distributor.port, recent);
  await push(mono.port, recent);
  for (const path of queries(start + 5 * MINUTE, end)) {
    const want = await api(mono.port, path);
    const got = await api(querier.port, path);
    t.equal(want.status, 200, `monolith: ${path}: ${want.body.slice(0, 200)}`);
    t.ok(!want.body.includes('"result":[]') && !want.body.includes('"data":[]'), `the monolith answers something: ${path}`);
    t.equal(got.status, 200, `querier: ${path}: ${got.body.slice(0, 200)}`);
    t.same(JSON.parse(got.body), JSON.parse(want.body), `the querier answers as the monolith: ${decodeURIComponent(path)}`);
  }
  t.match((await api(querier.port, `query?query=nh_bitexact_int_counter_15s&time=${end / 1000}`)).body, /"histogram":\[/, 'histograms, not floats');

  // Old data: into the monolith only, which ships it as blocks to the bucket the store-gateway serves.
  const oldEnd = Math.floor((Date.now() - 20 * HOUR) / HOUR) * HOUR;
  const oldStart = oldEnd - 40 * MINUTE;
  await push(mono.port, writeRequest(oldStart, oldEnd, 'old'), TENANT_OLD);
  const oldQueries = queries(oldStart + 5 * MINUTE, oldEnd);
  const wants: unknown[] = [];
  for (const path of oldQueries) {
    const want = await api(mono.port, path, TENANT_OLD);
    t.equal(want.status, 200, `monolith: ${path}`);
    t.ok(!want.body.includes('"result":[]') && !want.body.includes('"data":[]'), `the monolith answers something: ${path}`);
    wants.push(JSON.parse(want.body) as unknown);
  }
  const flushed = await fetch(`http://127.0.0.1:${mono.port}/ingester/flush?tenant=${TENANT_OLD}&wait=true`, { method: 'POST', signal: AbortSignal.timeout(60_000) });
  t.equal(flushed.status, 204, 'the monolith flushed its head to the bucket');
  const first = oldQueries[0]!;
  t.ok(
    await waitFor(async () => {
      const r = await api(querier.port, first, TENANT_OLD);
      return r.status === 200 && JSON.stringify(JSON.parse(r.body)) === JSON.stringify(wants[0]);
    }, 30_000),
    'the old range answers once the store-gateway has synced the blocks',
  );
  for (const [i, path] of oldQueries.entries()) {
    const got = await api(querier.port, path, TENANT_OLD);
    t.equal(got.status, 200, `querier: ${path}: ${got.body.slice(0, 200)}`);
    t.same(JSON.parse(got.body), wants[i], `from the store-gateway as the monolith: ${decodeURIComponent(path)}`);
  }
});
