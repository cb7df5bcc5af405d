// ring-push.test.ts checks the distributed write path against stand-in
// ingesters (HTTP servers speaking the internal push API): every series goes
// to its RF replicas, a push succeeds with one replica down and fails with
// two, the sharding is by Mimir's token, and replicas merge on read.

import { encodeSeriesLabels } from '../model/series-labels.js';
import t from 'tap';
import type { Http2Server } from 'node:http2';
import { closeH2FakeServer, h2FakeServer } from '../testing/h2-server.js';
import type { AddressInfo } from 'node:net';
import snappy from '@napi-rs/snappy';
import { InternalClient } from '../internal/client.js';
import { decodeSelections, encodeSelections, mergeSelections } from '../internal/frame.js';
import { log } from '../log.js';
import { encodeWriteRequest, encodeWriteRequestSnappy, type TimeSeriesInput } from '../remote/write-request.js';
import { InMemoryKv } from '../ring/kv.js';
import { Ring } from '../ring/ring.js';
import { joinItems, seriesToken, shardWriteRequest, shardWriteRequestV2 } from '../ring/shard.js';
import { encodeWriteRequestV2 } from '../remote/write-request-v2.js';
import type { IngestLimits } from '../model/limits.js';
import { ringPushExecutor } from './ring-push.js';

interface Fake {
  server: Http2Server;
  addr: string;
  /** got lists the token of every series received. */
  got: string[];
  down: boolean;
  /** extra adds fields to every answer, given the number of series received. */
  extra?: (items: number) => Record<string, unknown>;
}

async function fakeIngester(): Promise<Fake> {
  const f: Fake = { server: h2FakeServer(), addr: '', got: [], down: false };
  f.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (f.down) {
        res.writeHead(503).end('ingester is unavailable');
        return;
      }
      const raw = snappy.uncompressSync(Buffer.concat(chunks)) as Buffer;
      const items = shardWriteRequest('t', raw);
      for (const it of items) f.got.push(String(it.token));
      const result = { series: items.length, samples: items.length, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: items.length, createdSeries: 0, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ingested', result: { ...result, ...f.extra?.(items.length) } }));
    });
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.addr = `127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

const series = (n: number): TimeSeriesInput[] => Array.from({ length: n }, (_, i) => ({ labels: [['__name__', 'm'], ['s', String.fromCharCode(65 + i)]], samples: [[1000, i]] }));

t.test('the token is the tenant and labels hash, on the raw bytes too', async (t) => {
  const raw = encodeWriteRequest(series(3));
  const items = shardWriteRequest('tenant-1', raw);
  t.equal(items.length, 3);
  t.same(
    items.map((i) => i.token),
    series(3).map((s) => seriesToken('tenant-1', s.labels)),
  );
  t.not(seriesToken('tenant-1', [['a', 'b']]), seriesToken('tenant-2', [['a', 'b']]), 'the tenant matters');
  // FNV-1 (multiply then xor) over "t": (2166136261 * 16777619) ^ 0x74.
  t.equal(seriesToken('t', []), (Math.imul(2166136261, 16777619) ^ 0x74) >>> 0);
  // Remote write 2.0: labels resolved through the symbols give the same tokens; sub-requests keep every symbol.
  const raw2 = encodeWriteRequestV2(series(3).map((x) => ({ labels: x.labels, samples: x.samples })));
  const v2 = shardWriteRequestV2('tenant-1', raw2);
  t.same(
    v2.items.map((i) => i.token),
    items.map((i) => i.token),
  );
  t.ok(v2.common.length >= 4, 'the symbols are shared');
  const sub = shardWriteRequestV2('tenant-1', joinItems(raw2, v2.items, [1], v2.common));
  t.same(sub.items.map((i) => i.token), [items[1]!.token], 'a v2 sub-request resolves its labels');
  // Sub-requests are valid WriteRequests of the chosen items.
  t.same(shardWriteRequest('tenant-1', joinItems(raw, items, [2, 0])).map((i) => i.token), [items[2]!.token, items[0]!.token]);
});

t.test('pushes reach RF replicas, survive one failure, fail without quorum', async (t) => {
  const fakes = [await fakeIngester(), await fakeIngester(), await fakeIngester()];
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  ring.update({
    ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [i * 0x50000000 + 7], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }])),
  });
  const client = new InternalClient({ timeoutMs: 2_000 });
  const exec = ringPushExecutor({ ring, client, log, timeoutMs: 2_000 });
  t.teardown(() => exec.close());
  const push = async (n: number): Promise<ReturnType<typeof exec.run>> => {
    const body = encodeWriteRequestSnappy(series(n));
    const ab = new ArrayBuffer(body.length);
    new Uint8Array(ab).set(body);
    return exec.run({ tenant: 't', body: ab, limits: {} as IngestLimits, maxRecvMsgSize: 1 << 20 });
  };
  const ok = await push(10);
  t.equal(ok.kind, 'ingested');
  if (ok.kind === 'ingested') {
    t.equal(ok.result.errorMessage, undefined);
    t.equal(ok.result.acceptedSamples, 10, 'counts are per request, not per replica');
  }
  await new Promise((r) => setTimeout(r, 100));
  for (const f of fakes) t.equal(f.got.length, 10, 'RF=3 of 3: every ingester has every series');
  t.equal(client.stats.requests, 3, 'one internal call per ingester');

  fakes[1]!.down = true;
  const one = await push(5);
  t.ok(one.kind === 'ingested' && one.result.errorMessage === undefined, 'one replica down: quorum of 2 reached');
  fakes[2]!.down = true;
  const two = await push(5);
  t.ok(two.kind === 'ingested' && (two.result.errorStatus ?? 0) >= 500, 'two replicas down: the push fails');
  if (two.kind === 'ingested') t.match(two.result.errorMessage, /^failed pushing to ingester ing-[12]: ingester is unavailable/);
  // Instances past their heartbeat are not even tried: the ring's own error text.
  ring.update({ ingesters: Object.fromEntries(Object.entries(ring.getDesc().ingesters).map(([id, d]) => [id, id === 'ing-0' ? d : { ...d, timestamp: now - 3600 }])) });
  const stale = await push(1);
  t.ok(stale.kind === 'ingested' && /^at least 2 live replicas required, could only find 1 - unhealthy instances: /.test(stale.result.errorMessage ?? ''), 'dskit text');
});

t.test('replicas merge: one sample per timestamp, staleness NaN bits kept, series sorted', async (t) => {
  // The staleness marker's bits are written as words (a JS number would canonicalise the NaN).
  const withStale = (vs: number[], at: number): Float64Array => {
    const out = Float64Array.from(vs);
    new Uint32Array(out.buffer).set([2, 0x7ff00000], at * 2);
    return out;
  };
  const a = { labels: encodeSeriesLabels([{ __name__: 'b' }, { __name__: 'a' }]), offsets: Uint32Array.from([0, 2, 3]), timestamps: Float64Array.from([1, 2, 5]), values: withStale([10, 0, 50], 1) };
  const b = { labels: encodeSeriesLabels([{ __name__: 'b' }]), offsets: Uint32Array.from([0, 3]), timestamps: Float64Array.from([1, 2, 3]), values: withStale([10, 0, 30], 1) };
  const m = mergeSelections(decodeSelections(encodeSelections([a, b])));
  t.same(m.labels, [{ __name__: 'a' }, { __name__: 'b' }]);
  t.same([...m.offsets], [0, 1, 4]);
  t.same([...m.timestamps], [5, 1, 2, 3]);
  t.same([...new Uint32Array(m.values.buffer, 16, 2)], [2, 0x7ff00000], 'the staleness marker is bit-exact');
  t.equal(m.values[3], 30);
});

t.test('the replicas\' discarded exemplars and metadata are merged per reason', async (t) => {
  const fakes = [await fakeIngester(), await fakeIngester(), await fakeIngester()];
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  for (const f of fakes) f.extra = (n) => ({ discardedExemplars: ['exemplar_too_old', n, 'exemplar_labels_too_long', 3], discardedMetadata: ['metric_name_too_long', 6] });
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  ring.update({
    ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [i * 0x50000000 + 7], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }])),
  });
  const exec = ringPushExecutor({ ring, client: new InternalClient({ timeoutMs: 2_000 }), log, timeoutMs: 2_000 });
  t.teardown(() => exec.close());
  const body = encodeWriteRequestSnappy(series(9));
  const ab = new ArrayBuffer(body.length);
  new Uint8Array(ab).set(body);
  const r = await exec.run({ tenant: 't', body: ab, limits: {} as IngestLimits, maxRecvMsgSize: 1 << 20 });
  t.equal(r.kind, 'ingested');
  if (r.kind !== 'ingested') return;
  // Every series went to all 3 replicas: the sums are scaled back to the request (÷3).
  t.same(r.result.discardedExemplars, ['exemplar_too_old', 9, 'exemplar_labels_too_long', 3]);
  t.same(r.result.discardedMetadata, ['metric_name_too_long', 6]);
});
