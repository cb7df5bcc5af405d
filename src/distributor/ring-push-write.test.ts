// ring-push-write.test.ts checks the distributor-side stages of the
// distributed write path against stand-in ingesters (HTTP servers speaking
// the internal push API): shuffle sharding (a tenant's series reach only its
// shard), read-only ingesters (no writes), the ingestion rate limit divided by
// the distributors and counted on what passes validation, HA replica election
// shared by two distributors through one KV store, and OTLP translated and
// forwarded.

import t, { type Test } from 'tap';
import type { Http2Server } from 'node:http2';
import { closeH2FakeServer, h2FakeServer } from '../testing/h2-server.js';
import type { AddressInfo } from 'node:net';
import snappy from '@napi-rs/snappy';
import { InternalClient } from '../internal/client.js';
import { log } from '../log.js';
import { encodeWriteRequestSnappy, type TimeSeriesInput } from '../remote/write-request.js';
import { InMemoryKv } from '../ring/kv.js';
import { generateTokens, type InstanceDesc } from '../ring/model.js';
import { Ring } from '../ring/ring.js';
import { itemLabels, shardWriteRequest } from '../ring/shard.js';
import { loadNative } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';
import { defaultConfig, ingestLimits } from '../config/config.js';
import type { PushExecutor } from './distributor.js';
import { HaKvTracker } from './ha-kv.js';
import type { PushOutcome } from './push.js';
import { localLimit, otlpAnswer, ringPushExecutor, type RingPushOptions } from './ring-push.js';

interface Fake {
  server: Http2Server;
  addr: string;
  /** series lists the labels (JSON) of every series received. */
  series: string[];
  /** metadata holds the raw MetricMetadata entries each fake received. */
  metadata: string[];
  /** limits are the limits of each push received. */
  limits: IngestLimits[];
}

async function fakeIngester(): Promise<Fake> {
  const f: Fake = { server: h2FakeServer(), addr: '', series: [], metadata: [], limits: [] };
  f.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = snappy.uncompressSync(Buffer.concat(chunks)) as Buffer;
      const items = shardWriteRequest(String(req.headers['x-scope-orgid']), raw);
      for (const it of items) (it.meta ? f.metadata : f.series).push(it.meta ? raw.subarray(it.start, it.end).toString('latin1') : JSON.stringify(itemLabels(raw, it)));
      f.limits.push(JSON.parse(Buffer.from(String(req.headers['x-mimir-ingest-limits']), 'base64').toString('utf8')) as IngestLimits);
      const n = items.length;
      const result = { series: n, samples: n, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: n, createdSeries: 0, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ingested', result }));
    });
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.addr = `127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

/** cluster starts n stand-in ingesters and a ring of them (128 random tokens each; zones when given). */
async function cluster(t: Test, n: number, zones: string[] = [], readOnly: number[] = []): Promise<{ fakes: Fake[]; ring: Ring }> {
  const fakes: Fake[] = [];
  for (let i = 0; i < n; i++) fakes.push(await fakeIngester());
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: zones.length > 0, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  const taken = new Set<number>();
  const ingesters: Record<string, InstanceDesc> = {};
  fakes.forEach((f, i) => {
    const tokens = generateTokens(128, taken);
    for (const x of tokens) taken.add(x);
    const ro = readOnly.includes(i);
    ingesters[`ing-${i}`] = { addr: f.addr, timestamp: now, state: 'ACTIVE', tokens, zone: zones[i] ?? '', registered_timestamp: now, read_only: ro, read_only_updated_timestamp: ro ? now : 0 };
  });
  ring.update({ ingesters });
  return { fakes, ring };
}

function executor(t: Test, opts: Omit<RingPushOptions, 'client' | 'log' | 'timeoutMs'>): PushExecutor {
  const exec = ringPushExecutor({ client: new InternalClient({ timeoutMs: 2_000 }), log, timeoutMs: 2_000, ...opts });
  t.teardown(() => exec.close());
  return exec;
}

const series = (n: number, name = 'm', extra: Array<[string, string]> = [], at = 1000): TimeSeriesInput[] =>
  Array.from({ length: n }, (_, i) => ({ labels: [['__name__', name], ['s', String(i)], ...extra], samples: [[at, i]] }));

/** push sends a write request and waits a moment: the replicas past the quorum answer after it. */
async function push(exec: PushExecutor, tenant: string, s: TimeSeriesInput[], limits: Partial<IngestLimits> = {}): Promise<PushOutcome> {
  const body = encodeWriteRequestSnappy(s);
  const ab = new ArrayBuffer(body.length);
  new Uint8Array(ab).set(body);
  const out = await exec.run({ tenant, body: ab, limits: { maxLabelValueLength: 2048, ...limits } as IngestLimits, maxRecvMsgSize: 1 << 22 });
  await settle();
  return out;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

const holders = (fakes: Fake[], ring: Ring): string[] =>
  fakes
    .map((f, i) => [f, `ing-${i}`] as const)
    .filter(([f]) => f.series.length > 0)
    .map(([, id]) => id)
    .filter((id) => ring.getDesc().ingesters[id] !== undefined);

t.test("shuffle sharding: a tenant's series land only on its shard", async (t) => {
  const { fakes, ring } = await cluster(t, 6);
  const shard = ring.shuffleShard('tenant-a', 3);
  const members = Object.keys(shard.getDesc().ingesters).sort();
  t.equal(members.length, 3, 'three instances in the shard');
  t.same(Object.keys(ring.shuffleShard('tenant-a', 3).getDesc().ingesters).sort(), members, 'the same shard every time');
  t.equal(ring.shuffleShard('tenant-a', 0), ring, 'size 0: the whole ring');
  t.equal(ring.shuffleShard('tenant-a', 6), ring, 'size >= instances: the whole ring');
  // Tenants spread over the ring: not every tenant gets the same shard.
  const shards = new Set(Array.from({ length: 20 }, (_, i) => Object.keys(ring.shuffleShard(`tenant-${i}`, 3).getDesc().ingesters).sort().join(',')));
  t.ok(shards.size > 1, `20 tenants got ${shards.size} different shards`);

  const exec = executor(t, { ring, shardSize: (tenant) => (tenant === 'tenant-a' ? 3 : 0) });
  const ok = await push(exec, 'tenant-a', series(200));
  t.ok(ok.kind === 'ingested' && ok.result.errorMessage === undefined, 'the push succeeds');
  t.same(
    fakes.map((f, i) => (f.series.length > 0 ? `ing-${i}` : '')).filter((x) => x !== ''),
    members,
    'only the shard received series',
  );
  for (const id of members) t.equal(fakes[Number(id.slice(4))]!.series.length, 200, `${id}: RF=3 over a shard of 3 is every series`);
  // Without a shard size the series spread over every ingester.
  for (const f of fakes) f.series = [];
  await push(exec, 'tenant-b', series(200));
  t.equal(holders(fakes, ring).length, 6, 'no shard size: every ingester takes writes');
});

t.test('shuffle sharding with zones: ceil(size / zones) instances per zone', async (t) => {
  const { ring } = await cluster(t, 6, ['z1', 'z1', 'z2', 'z2', 'z3', 'z3']);
  for (let i = 0; i < 10; i++) {
    const zones = Object.values(ring.shuffleShard(`t${i}`, 3).getDesc().ingesters).map((d) => d.zone);
    t.same(zones.sort(), ['z1', 'z2', 'z3'], `t${i}: one instance in each zone`);
  }
  t.equal(Object.keys(ring.shuffleShard('t', 4).getDesc().ingesters).length, 6, 'size 4 over 3 zones: 2 per zone');
});

t.test("series limits: each ingester enforces its share of the tenant's global limit", async (t) => {
  const { fakes, ring } = await cluster(t, 6);
  t.equal(localLimit(1000, ring, 0), 500, '6 ingesters, RF=3: each holds half the series');
  t.equal(localLimit(1000, ring, 3), 1000, 'a shard of 3 with RF=3: each holds every series');
  t.equal(localLimit(1000, ring, 4), 750, 'a shard of 4');
  t.equal(localLimit(1, ring, 0), 1, 'never below 1');
  const { ring: small } = await cluster(t, 2);
  t.equal(localLimit(1000, small, 0), 1000, 'fewer ingesters than RF: each holds every series');
  const { ring: zoned } = await cluster(t, 6, ['a', 'a', 'b', 'b', 'c', 'c']);
  t.equal(localLimit(1000, zoned, 0), 500, 'zones: global / ingesters per zone');
  t.equal(localLimit(1000, zoned, 3), 1000, 'zones with a shard of one per zone');
  // What the ingesters are sent.
  const exec = executor(t, { ring, shardSize: (tenant) => (tenant === 'sharded' ? 3 : 0) });
  await push(exec, 'spread', series(30), { maxGlobalSeriesPerUser: 1000, maxGlobalSeriesPerMetric: 100, maxGlobalMetadataPerUser: 0 });
  const sent = fakes.flatMap((f) => f.limits);
  t.ok(sent.length > 0);
  t.ok(sent.every((l) => l.maxGlobalSeriesPerUser === 500 && l.maxGlobalSeriesPerMetric === 50 && l.maxGlobalMetadataPerUser === 0), 'halved limits; 0 stays unlimited');
  for (const f of fakes) f.limits = [];
  await push(exec, 'sharded', series(30), { maxGlobalSeriesPerUser: 1000 });
  t.ok(fakes.flatMap((f) => f.limits).every((l) => l.maxGlobalSeriesPerUser === 1000), 'the shard of 3 keeps the whole limit');
});

t.test('read-only ingesters receive no writes', async (t) => {
  const { fakes, ring } = await cluster(t, 4, [], [2]);
  const exec = executor(t, { ring });
  const r = await push(exec, 'tenant-ro', series(300));
  t.ok(r.kind === 'ingested' && r.result.errorMessage === undefined, 'the push succeeds');
  t.equal(fakes[2]!.series.length, 0, 'the read-only ingester got nothing');
  for (const i of [0, 1, 3]) t.equal(fakes[i]!.series.length, 300, `ing-${i} got every series (RF=3 over the 3 writable)`);
  // Back to writable: it takes writes again.
  ring.update({ ingesters: { ...ring.getDesc().ingesters, 'ing-2': { ...ring.getDesc().ingesters['ing-2']!, read_only: false } } });
  await push(exec, 'tenant-ro', series(300, 'n'));
  t.ok(fakes[2]!.series.length > 0, 'writable again: it receives series');
  // With a shard size too, the read-only instance is never picked.
  ring.update({ ingesters: { ...ring.getDesc().ingesters, 'ing-2': { ...ring.getDesc().ingesters['ing-2']!, read_only: true } } });
  for (let i = 0; i < 20; i++) t.notOk('ing-2' in ring.shuffleShard(`x${i}`, 3).getDesc().ingesters, `x${i}: shard without the read-only ingester`);
});

t.test('the ingestion rate limit is divided by the distributors and applied before the fan-out', async (t) => {
  const native = loadNative();
  const allow = native.allowIngestion;
  if (allow === undefined) {
    t.fail('native allowIngestion missing (rebuild with npm run build:native)');
    return;
  }
  const { fakes, ring } = await cluster(t, 3);
  let distributors = 2;
  const exec = executor(t, { ring, rateLimit: { distributors: () => distributors, allow: (...a) => allow(...a) } });
  const limits = { ingestionRate: 10, ingestionBurstSize: 50 };
  const tenant = `rate-${process.pid}-${Date.now()}`;
  const first = await push(exec, tenant, series(50), limits);
  t.ok(first.kind === 'ingested' && first.result.errorMessage === undefined, 'a full bucket takes the burst');
  t.equal(fakes[0]!.limits[0]!.ingestionRate, undefined, 'the ingesters do not limit again');
  const refused = await push(exec, tenant, series(8), limits);
  t.ok(refused.kind === 'ingested' && refused.result.errorStatus === 429, '429 once the bucket is empty');
  if (refused.kind === 'ingested') {
    t.match(refused.result.errorMessage, /^the request has been rejected because the tenant exceeded the ingestion rate limit, set to 10 items\/s with a maximum allowed burst of 50\./, 'the configured (global) limit is named');
    t.same(refused.result.discarded, ['rate_limited', 8]);
  }
  t.equal(fakes[0]!.series.length, 50, 'nothing of the refused push was forwarded');
  // 1.2 s at 10/s divided by 2 distributors: about 6 tokens, fewer than 8.
  await new Promise((r) => setTimeout(r, 1_200));
  const share = await push(exec, tenant, series(8), limits);
  t.equal(share.kind === 'ingested' ? share.result.errorStatus : -1, 429, "two distributors: 8 items are over this distributor's share");
  // One distributor: the whole rate refills (1.2 s: 12 tokens).
  distributors = 1;
  await new Promise((r) => setTimeout(r, 1_200));
  const whole = await push(exec, tenant, series(8), limits);
  t.equal(whole.kind === 'ingested' ? whole.result.errorStatus : -1, undefined, 'one distributor: the whole limit');
});

t.test('the ingestion rate limit takes only what passes validation', async (t) => {
  const allow = loadNative().allowIngestion;
  if (allow === undefined) {
    t.fail('native allowIngestion missing (rebuild with npm run build:native)');
    return;
  }
  const { fakes, ring } = await cluster(t, 3);
  // A stand-in validator: series with a `bad` label fail validation.
  const validated = (tenant: string, raw: Uint8Array): { samples: number; exemplars: number; metadata: number } => {
    const n = { samples: 0, exemplars: 0, metadata: 0 };
    for (const it of shardWriteRequest(tenant, raw)) {
      if (it.meta) n.metadata++;
      else if (!itemLabels(raw, it).some(([name]) => name === 'bad')) {
        n.samples += it.samples;
        n.exemplars += it.exemplars;
      }
    }
    return n;
  };
  const exec = executor(t, { ring, rateLimit: { distributors: () => 1, allow: (...a) => allow(...a), validated } });
  // A bucket that does not refill during the test: 20 items.
  const limits = { ingestionRate: 0.001, ingestionBurstSize: 20 };
  const status = (o: PushOutcome): number | undefined => (o.kind === 'ingested' ? o.result.errorStatus : -1);

  const mixed = `rate-mixed-${process.pid}-${Date.now()}`;
  t.equal(status(await push(exec, mixed, [...series(15, 'm', [['bad', '1']]), ...series(5)], limits)), undefined, '15 invalid and 5 valid samples');
  t.equal(status(await push(exec, mixed, series(15), limits)), undefined, 'the request took 5: 15 are left');
  const over = await push(exec, mixed, [...series(3, 'm', [['bad', '1']]), ...series(1)], limits);
  t.equal(status(over), 429, 'and no more');
  if (over.kind === 'ingested') t.same(over.result.discarded, ['rate_limited', 1], 'the refused valid samples are the rate-limited ones');

  const invalid = `rate-invalid-${process.pid}-${Date.now()}`;
  const before = fakes.reduce((n, f) => n + f.series.length, 0);
  t.not(status(await push(exec, invalid, series(30, 'm', [['bad', '1']]), limits)), 429, 'a request refused by validation alone is not rate-limited (30 items, over the burst)');
  t.ok(fakes.reduce((n, f) => n + f.series.length, 0) > before, 'it goes on to the ingesters, whose validation answers');
  t.equal(status(await push(exec, invalid, series(20), limits)), undefined, 'it took nothing: the whole burst is left');
  t.equal(status(await push(exec, invalid, series(1), limits)), 429);
});

t.test("the native validator counts what the ingesters' validation keeps", async (t) => {
  const native = loadNative();
  const allow = native.allowIngestion;
  const validatedItems = native.validatedItems;
  if (allow === undefined || validatedItems === undefined) {
    t.fail('native allowIngestion/validatedItems missing (rebuild with npm run build:native)');
    return;
  }
  const { ring } = await cluster(t, 3);
  const exec = executor(t, {
    ring,
    rateLimit: { distributors: () => 1, allow: (...a) => allow(...a), validated: (tenant, raw, protocol, l) => validatedItems(tenant, raw, protocol === 2, l) },
  });
  const now = Date.now();
  const limits: Partial<IngestLimits> = { ...ingestLimits(defaultConfig().limits, now), ingestionRate: 0.001, ingestionBurstSize: 20 };
  const status = (o: PushOutcome): number | undefined => (o.kind === 'ingested' ? o.result.errorStatus : -1);
  const tenant = `rate-native-${process.pid}-${Date.now()}`;
  // Invalid for the ingesters: a label name Prometheus does not allow, and samples an hour ahead.
  const bad = [...series(10, 'm', [['bad-name!', '1']], now), ...series(5, 'future', [], now + 3_600_000)];
  t.equal(status(await push(exec, tenant, [...bad, ...series(5, 'm', [], now)], limits)), undefined, '15 invalid and 5 valid samples');
  t.equal(status(await push(exec, tenant, series(15, 'n', [], now), limits)), undefined, 'the request took 5: 15 are left');
  t.equal(status(await push(exec, tenant, series(1, 'o', [], now), limits)), 429, 'and no more');
});

t.test('HA: two distributors agree on the elected replica through the KV store', async (t) => {
  const { fakes, ring } = await cluster(t, 3);
  const kv = new InMemoryKv();
  const h2 = new HaKvTracker(kv, 'ha-tracker/', log);
  const d1 = executor(t, { ring, ha: new HaKvTracker(kv, 'ha-tracker/', log) });
  const d2 = executor(t, { ring, ha: h2 });
  const t0 = 1_700_000_000_000;
  const ha = (now: number): Partial<IngestLimits> => ({ ha: { trackerEnabled: true, clusterLabel: 'cluster', replicaLabel: '__replica__', updateTimeoutMs: 15_000, failoverTimeoutMs: 30_000, maxClusters: 2, nowMs: now } });
  const from = (replica: string, n = 5): TimeSeriesInput[] => series(n, 'ha', [['cluster', 'c1'], ['__replica__', replica]]);
  const status = (o: PushOutcome): number => (o.kind === 'ingested' ? (o.result.errorStatus ?? 200) : -1);

  t.equal(status(await push(d1, 'tenant-ha', from('r1'), ha(t0))), 200, 'r1 is elected through distributor 1');
  const dup = await push(d2, 'tenant-ha', from('r2'), ha(t0 + 1_000));
  t.equal(status(dup), 202, 'distributor 2 refuses r2');
  if (dup.kind === 'ingested') {
    t.equal(dup.result.errorMessage, 'replicas did not match, rejecting sample: replica=r2, elected=r1');
    t.equal(dup.result.dedupedSamples, 5, 'the samples are counted as deduplicated');
  }
  t.equal(status(await push(d2, 'tenant-ha', from('r1'), ha(t0 + 2_000))), 200, 'distributor 2 accepts r1');
  t.equal(fakes[0]!.series.length, 10, 'only the elected replica reached the ingesters');
  t.ok(
    fakes[0]!.limits.every((l) => l.ha?.trackerEnabled === false),
    'the ingesters only drop the replica label',
  );
  t.same(JSON.parse(await kv.get('ha-tracker/tenant-ha/c1') ?? '{}'), { replica: 'r1', receivedAt: t0, electedAt: t0, electedChanges: 0 }, 'the election is in the store');

  // r1 goes silent: after the failover timeout r2 takes over through distributor 1; distributor 2 follows.
  t.equal(status(await push(d1, 'tenant-ha', from('r2'), ha(t0 + 31_000))), 200, 'failover to r2');
  t.equal(status(await push(d2, 'tenant-ha', from('r1'), ha(t0 + 32_000))), 202, 'distributor 2 now refuses r1');
  t.equal(status(await push(d2, 'tenant-ha', from('r2'), ha(t0 + 33_000))), 200, 'and accepts r2');
  t.same(JSON.parse(await kv.get('ha-tracker/tenant-ha/c1') ?? '{}').electedChanges, 1);
  // Requests without the HA labels pass; a third cluster is over ha_max_clusters (2).
  t.equal(status(await push(d1, 'tenant-ha', series(3), ha(t0 + 34_000))), 200, 'no HA labels: accepted');
  t.equal(status(await push(d1, 'tenant-ha', series(1, 'ha', [['cluster', 'c2'], ['__replica__', 'a']]), ha(t0 + 34_000))), 200);
  // Distributor 2 never saw c2: the limit counts the clusters in the store.
  const third = await push(d2, 'tenant-ha', series(1, 'ha', [['cluster', 'c3'], ['__replica__', 'a']]), ha(t0 + 34_000));
  t.equal(status(third), 400, 'a third cluster is refused, whichever distributor it reaches');
  if (third.kind === 'ingested') t.match(third.result.errorMessage, /maximum number of high-availability \(HA\) clusters has been reached for this tenant \(limit: 2\)/);
  t.same(
    h2.status().map((e) => [e.tenant, e.cluster, e.replica, e.electedChanges]),
    [['tenant-ha', 'c1', 'r2', 1]],
    "distributor 2's status page shows the election it read",
  );
  const fresh = new HaKvTracker(kv, 'ha-tracker/', log);
  t.same(fresh.status(), [], 'a new tracker knows nothing before it reads the store');
  await fresh.sync();
  t.same(
    fresh.status().map((e) => [e.tenant, e.cluster, e.replica]),
    [
      ['tenant-ha', 'c1', 'r2'],
      ['tenant-ha', 'c2', 'a'],
    ],
    'after a sync it shows every election in the store',
  );
  // The synced cache decides without the store: r1 is refused while r2 is fresh.
  const d3 = executor(t, { ring, ha: fresh });
  t.equal(status(await push(d3, 'tenant-ha', from('r1'), ha(t0 + 35_000))), 202, 'a third distributor refuses r1 too');
});

t.test('OTLP is translated and forwarded; answers as the monolith', async (t) => {
  const native = loadNative();
  if (native.otlpWriteRequest === undefined) {
    t.fail('native otlpWriteRequest missing (rebuild with npm run build:native)');
    return;
  }
  const { fakes, ring } = await cluster(t, 3);
  const translate = native.otlpWriteRequest.bind(native);
  const exec = executor(t, { ring, otlpWriteRequest: (b, o) => translate(new Uint8Array(b), o) });
  t.ok(exec.runOtlp !== undefined, 'the ring executor takes OTLP');
  const nowNs = `${Date.now()}000000`;
  const body = JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
        scopeMetrics: [{ metrics: [{ name: 'otel_gauge', gauge: { dataPoints: [{ asDouble: 1.5, timeUnixNano: nowNs, attributes: [{ key: 'k', value: { stringValue: 'v' } }] }] } }] }],
      },
    ],
  });
  const options = { json: true, gzip: false, maxSize: 1 << 20, addSuffixes: false, promoteResourceAttributes: [], keepIdentifyingResourceAttributes: false, promoteScopeMetadata: false };
  const ab = new Uint8Array(Buffer.from(body)).buffer;
  const out = await exec.runOtlp!({ tenant: 'otlp', body: ab, limits: { maxLabelValueLength: 2048 } as IngestLimits, options });
  await settle();
  t.equal(out.kind, 'ingested');
  if (out.kind === 'ingested') t.equal(out.result.status, 200, out.result.message);
  for (const f of fakes) t.same(f.series.map((s) => JSON.parse(s) as unknown), [[['__name__', 'otel_gauge'], ['job', 'api'], ['k', 'v']]], 'every replica got the translated series');
  t.ok(
    fakes.some((f) => f.metadata.some((m) => m.includes('otel_gauge'))),
    "the family's metadata is forwarded too",
  );
  const bad = await exec.runOtlp!({ tenant: 'otlp', body: new Uint8Array(Buffer.from('{')).buffer, limits: {} as IngestLimits, options });
  t.ok(bad.kind === 'ingested' && bad.result.status === 400, 'an undecodable body is a 400');

  // The answer mapping (ingest_otlp's table).
  const base = { series: 1, samples: 1, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: 0, createdSeries: 0, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
  const conv = { parseError: undefined, dropped: 0, uncompressedSize: 10 };
  t.match(otlpAnswer({ ...base, errorStatus: 429, errorMessage: 'slow down' }, conv), { status: 429, grpcCode: 8, message: 'slow down' });
  t.match(otlpAnswer({ ...base, errorStatus: 400, errorMessage: 'out of order', ingesterError: true }, conv), { status: 200, partialSuccess: true, message: 'out of order' });
  t.match(otlpAnswer({ ...base, errorStatus: 400, errorMessage: 'bad label' }, conv), { status: 400, grpcCode: 3 });
  t.match(otlpAnswer({ ...base, errorStatus: 500, errorMessage: 'no quorum' }, conv), { status: 500, grpcCode: 13 });
  const parse = otlpAnswer(base, { parseError: 'otlp parse error: x', dropped: 2, uncompressedSize: 10 });
  t.match(parse, { status: 400, grpcCode: 400, message: 'otlp parse error: x' });
  t.same(parse.ingest.discarded, ['otlp_parse_error', 2]);
});
