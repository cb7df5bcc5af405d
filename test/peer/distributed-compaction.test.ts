// distributed-compaction.test.ts (peer suite): the block path of a
// microservices deployment end to end, every component its own process on
// loopback, the rings in etcd, one filesystem bucket. Three ingesters at
// replication factor 3 with a 10 s block range
// (-blocks-storage.tsdb.block-ranges-period) cut their heads every second
// (-blocks-storage.tsdb.head-compaction-interval), cut what is left once idle,
// ship every second (-blocks-storage.tsdb.ship-interval) and drop their local
// copies a second after the upload: every 10 s range is in the bucket three
// times. The compactor (-target=compactor, -compactor.block-ranges=10s,40s)
// merges the three replicas of each range into one block (vertical
// compaction, samples deduplicated), then those into 40 s blocks, marks the
// sources for deletion and writes the bucket index. With the ingesters'
// heads and local blocks gone, queries through the querier (answered by two
// store-gateways) equal a monolith's that received the same pushes.

import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { readBucketIndex } from '../../src/compactor/bucket-index.js';
import { FilesystemBucket } from '../../src/storage/bucket/filesystem.js';
import { readVisibleSamples } from '../../src/testing/blocks.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { activeMembers, IN_MEMORY_RINGS, startCluster, startComponent, waitFor, type Component } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';

const TENANT = 'compaction';
const RANGE = 10_000;
const SERIES = 6;
const SECONDS = 60;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface Meta {
  ulid: string;
  minTime: number;
  maxTime: number;
  compaction: { level: number; sources: string[] };
  stats?: { numSamples?: number };
}

/** metas reads every block's meta.json of the tenant in the bucket, with whether it is marked for deletion. */
async function metas(bucket: FilesystemBucket): Promise<Array<Meta & { marked: boolean }>> {
  const out: Array<Meta & { marked: boolean }> = [];
  for (const k of await bucket.list(`${TENANT}/`)) {
    const id = k.slice(TENANT.length + 1, -1);
    if (!ULID_RE.test(id) || !(await bucket.exists(`${TENANT}/${id}/meta.json`))) continue;
    const meta = JSON.parse((await bucket.get(`${TENANT}/${id}/meta.json`)).toString('utf8')) as Meta;
    out.push({ ...meta, marked: await bucket.exists(`${TENANT}/markers/${id}-deletion-mark.json`) });
  }
  return out;
}

async function get(port: number, path: string): Promise<{ status: number; body: { status: string; data?: unknown; error?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as { status: string; data?: unknown; error?: string } };
}

async function push(port: number, series: TimeSeriesInput[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, { method: 'POST', body: new Uint8Array(encodeWriteRequestSnappy(series)), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`push to ${port}: ${res.status} ${text}`);
}

t.test('ingesters cut and ship short blocks, the compactor merges the replicas, store-gateways answer as the monolith', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const bucketDir = join(await makeTempDir('cluster-compaction-'), 'bucket');
  const bucket = new FilesystemBucket(bucketDir);
  const common = [`-blocks-storage.filesystem.dir=${bucketDir}`, '-blocks-storage.bucket-store.sync-interval=1s'];
  const start = async (name: string, target: string, extra: string[] = []): Promise<Component> => {
    const c = await startComponent({ name, target, etcd: etcd.endpoint, extra: [...common, ...extra] });
    started.push(c);
    return c;
  };
  const ingesterFlags = [
    `-blocks-storage.tsdb.block-ranges-period=${RANGE / 1000}s`,
    '-blocks-storage.tsdb.head-compaction-interval=1s',
    '-blocks-storage.tsdb.head-compaction-idle-timeout=3s',
    '-blocks-storage.tsdb.ship-interval=1s',
    '-blocks-storage.tsdb.retention-period=1s',
  ];
  const compactorFlags = ['-compactor.block-ranges=10s,40s', '-compactor.compaction-interval=2s', '-compactor.cleanup-interval=2s', '-compactor.first-level-compaction-wait-period=1s'];
  const [ingesters, [distributor, querier, compactor], storeGateways] = await Promise.all([
    Promise.all([1, 2, 3].map((i) => start(`ingester-${i}`, 'ingester', ingesterFlags))),
    Promise.all([start('distributor-1', 'distributor'), start('querier-1', 'querier', ['-querier.query-store-after=0s']), start('compactor-1', 'compactor', compactorFlags)]),
    Promise.all([1, 2].map((i) => start(`store-gateway-${i}`, 'store-gateway'))),
  ]);
  const mono = await startComponent({ name: 'monolith', target: 'all', etcd: etcd.endpoint, extra: IN_MEMORY_RINGS.slice() });
  started.push(mono);
  t.ok(
    await waitFor(async () => (await activeMembers(distributor.port, '/ingester/ring')).length === 3, 20_000),
    'the distributor sees three ACTIVE ingesters',
  );

  // A minute of samples, a second apart, ending a few seconds ago: one push per second of data
  // (each sample within the head's appendable window, half a block range), to the distributor
  // and to the monolith.
  const base = Math.floor((Date.now() - (SECONDS + 20) * 1000) / RANGE) * RANGE + 500;
  for (let k = 0; k < SECONDS; k++) {
    const ts = base + k * 1000;
    const series: TimeSeriesInput[] = [];
    for (let s = 0; s < SERIES; s++) series.push({ labels: [['__name__', 'compaction_total'], ['s', String(s)]], samples: [[ts, k * (s + 1)]] });
    series.push({ labels: [['__name__', 'compaction_gauge']], samples: [[ts, Math.sin(k / 7)]] });
    await push(distributor.port, series);
    await push(mono.port, series);
  }
  const end = base + (SECONDS - 1) * 1000;
  const ranges = new Set<number>();
  for (let ts = base; ts <= end; ts += 1000) ranges.add(Math.floor(ts / RANGE) * RANGE);

  // Every range cut by every ingester (the last ones once the heads are idle) and shipped: three
  // level-1 blocks per range in the bucket.
  let level1: Array<Meta & { marked: boolean }> = [];
  t.ok(
    await waitFor(async () => {
      level1 = (await metas(bucket)).filter((m) => m.compaction.level === 1);
      return [...ranges].every((r) => level1.filter((m) => m.minTime === r).length === 3);
    }, 60_000),
    `each of the ${ranges.size} ranges of ${RANGE / 1000}s shipped by the three ingesters (${level1.length} level-1 blocks)`,
  );
  t.equal(level1.length, 3 * ranges.size, 'no other level-1 block');
  t.ok(
    level1.every((m) => m.maxTime === m.minTime + RANGE),
    'each block spans one range',
  );

  // The ingesters hold nothing any more: local copies removed after their upload (the heads were cut whole).
  t.ok(
    await waitFor(async () => {
      for (const i of ingesters) {
        const names = await readdir(join(i.dir, 'tsdb', TENANT)).catch(() => [] as string[]);
        if (names.some((n) => ULID_RE.test(n))) return false;
      }
      return true;
    }, 30_000),
    'no ingester keeps a local block',
  );

  // The compactor merges the replicas (and the 10s blocks into 40s ones), marks every source and
  // writes the bucket index listing the rest.
  // A settled bucket: every level-1 block marked, and no compaction half done (a level-2 block and
  // the level-3 block made from it both unmarked would hold the same samples twice).
  let all: Array<Meta & { marked: boolean }> = [];
  t.ok(
    await waitFor(async () => {
      all = await metas(bucket);
      if (!all.filter((m) => m.compaction.level === 1).every((m) => m.marked)) return false;
      const sources = all.filter((m) => !m.marked).flatMap((m) => m.compaction.sources);
      return new Set(sources).size === sources.length && sources.length === level1.length;
    }, 60_000),
    `every level-1 block compacted and marked for deletion (${all.filter((m) => m.marked).length} marked of ${all.length})`,
  );
  const compacted = all.filter((m) => !m.marked);
  t.ok(compacted.length > 0 && compacted.every((m) => m.compaction.level >= 2), `compacted blocks: ${compacted.map((m) => `${m.ulid} L${m.compaction.level}`).join(', ')}`);
  const sources = compacted.flatMap((m) => m.compaction.sources).sort();
  t.same(sources, level1.map((m) => m.ulid).sort(), "the compacted blocks' sources are the level-1 blocks, each once");
  const visible = await readVisibleSamples(bucketDir, TENANT);
  t.same(visible.duplicates, [], 'no sample in two visible blocks');
  t.equal(visible.samples.size, (SERIES + 1) * SECONDS, 'every sample once: the three replicas deduplicated');
  const replicaSamples = level1.reduce((n, m) => n + (m.stats?.numSamples ?? 0), 0);
  t.equal(replicaSamples, 3 * (SERIES + 1) * SECONDS, 'the level-1 blocks held every sample three times');
  let index: Awaited<ReturnType<typeof readBucketIndex>>;
  t.ok(
    await waitFor(async () => {
      index = await readBucketIndex(bucket, TENANT);
      const live = new Set(index?.blocks.map((b) => b.block_id));
      return compacted.every((m) => live.has(m.ulid)) && level1.every((m) => index!.block_deletion_marks.some((d) => d.block_id === m.ulid));
    }, 30_000),
    'the bucket index lists the compacted blocks and the deletion marks of their sources',
  );

  // Queries over the minute: the querier reads the store-gateways (the ingesters hold nothing) and
  // answers as the monolith does from its head.
  const enc = encodeURIComponent;
  const s0 = Math.floor(base / 1000);
  const s1 = Math.ceil(end / 1000);
  const queries = [
    `/prometheus/api/v1/query?query=${enc('sum(compaction_total)')}&time=${s1}`,
    `/prometheus/api/v1/query?query=${enc('count_over_time(compaction_total[2m])')}&time=${s1}`,
    `/prometheus/api/v1/query?query=${enc('rate(compaction_total[30s])')}&time=${s1}`,
    `/prometheus/api/v1/query_range?query=${enc('compaction_gauge')}&start=${s0}&end=${s1}&step=1`,
    `/prometheus/api/v1/query_range?query=${enc('sum by (s) (increase(compaction_total[15s]))')}&start=${s0}&end=${s1}&step=5`,
    `/prometheus/api/v1/series?${enc('match[]')}=${enc('{__name__=~"compaction_.*"}')}&start=${s0}&end=${s1}`,
    `/prometheus/api/v1/label/s/values?start=${s0}&end=${s1}`,
  ];
  for (const q of queries) {
    const want = await get(mono.port, q);
    t.equal(want.status, 200, `the monolith answers ${q}`);
    const d = want.body.data as { result?: unknown[] } | unknown[] | undefined;
    t.ok((Array.isArray(d) ? d.length : (d?.result?.length ?? 0)) > 0, 'with data');
    let got = await get(querier.port, q);
    t.ok(
      await waitFor(async () => {
        got = await get(querier.port, q);
        return got.status === 200 && JSON.stringify(got.body.data) === JSON.stringify(want.body.data);
      }, 20_000),
      `the querier answers ${q} as the monolith (${got.status} ${JSON.stringify(got.body).slice(0, 300)})`,
    );
  }
  const count = await get(querier.port, queries[1]!);
  t.same(
    (count.body.data as { result: Array<{ value: [number, string] }> }).result.map((r) => r.value[1]),
    Array(SERIES).fill(String(SECONDS)),
    'each series has its minute of samples once',
  );
  const pages = await Promise.all(storeGateways.map(async (sg) => (await fetch(`http://127.0.0.1:${sg.port}/store-gateway/tenants`)).text()));
  t.ok(
    pages.every((page) => page.includes(`>${TENANT}</a>`)),
    'both store-gateways serve the tenant',
  );
  const planned = await fetch(`http://127.0.0.1:${compactor.port}/compactor/tenants`, { headers: { Accept: 'application/json' } });
  t.match(await planned.text(), TENANT, "the compactor's tenants page lists the tenant");
});
