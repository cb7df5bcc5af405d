// ring-query.test.ts checks the distributed querier's fan-out against
// stand-in ingesters (HTTP servers speaking the internal metadata and select
// API): answers are merged, a hung ingester does not hold the read once the
// others answered, too many failures fail it, and a PromQL query is evaluated
// over the replicas' samples merged.

import { encodeSeriesLabels } from '../model/series-labels.js';
import t from 'tap';
import type { Http2Server } from 'node:http2';
import { closeH2FakeServer, h2FakeServer } from '../testing/h2-server.js';
import type { AddressInfo } from 'node:net';
import snappy from '@napi-rs/snappy';
import { InternalClient } from '../internal/client.js';
import { encodeSelections, type Selection } from '../internal/frame.js';
import { log } from '../log.js';
import { InMemoryKv } from '../ring/kv.js';
import { Ring } from '../ring/ring.js';
import { nativeSkip } from '../testing/native-skip.js';
import { ringQueryExecutor } from './ring-query.js';
import type { QueryTask } from './query-params.js';
import { FloatHistogram } from '../promql/engine/float-histogram.js';
import { encodeFlatSamples } from '../promql/engine/histogram-flat.js';
import { nativeKernels } from '../promql/engine/kernels.js';
import type { Kernels } from '../promql/engine/types.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { decodeSeriesLabels } from '../model/series-labels.js';
import type { SelectRequest } from '../internal/ingester-server.js';
import { evaluateTask } from './execute.js';
import { encodeQuerySuccessBytes } from './format-bytes.js';

type Mode = 'ok' | 'hang' | 'fail';

interface Fake {
  server: Http2Server;
  addr: string;
  mode: Mode;
  /** calls counts the requests answered. */
  calls: number;
  labels: string[];
  /** samples of series {__name__="m"} this replica holds, as [ts, value]. */
  samples: Array<[number, number]>;
  /** selection, when set, answers each selector instead of samples. */
  selection?: (matchers: LabelMatcher[]) => Selection;
  /** blocks, when set, make it a store-gateway holding these blocks: it names them and says it read them. */
  blocks?: string[];
}

async function fake(labels: string[], samples: Array<[number, number]>): Promise<Fake> {
  const f: Fake = { server: h2FakeServer(), addr: '', mode: 'ok', calls: 0, labels, samples };
  f.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      f.calls++;
      if (f.mode === 'hang') return;
      if (f.mode === 'fail') {
        res.writeHead(500).end('boom');
        return;
      }
      const hints = f.blocks !== undefined ? { known: f.blocks, queried: f.blocks } : undefined;
      if (req.url === '/internal/v1/blocks') {
        res.writeHead(200, { 'content-encoding': 'snappy' }).end(snappy.compressSync(Buffer.from(JSON.stringify({ known: f.blocks ?? [], queried: [] }))));
        return;
      }
      if (req.url === '/internal/v1/metadata') {
        res.writeHead(200, { 'content-encoding': 'snappy' }).end(snappy.compressSync(Buffer.from(JSON.stringify({ ok: true, values: f.labels, ...(hints !== undefined ? { blocks: hints } : {}) }))));
        return;
      }
      const sel = { labels: encodeSeriesLabels([{ __name__: 'm' }]), offsets: Uint32Array.from([0, f.samples.length]), timestamps: Float64Array.from(f.samples.map((s) => s[0])), values: Float64Array.from(f.samples.map((s) => s[1])) };
      const body = JSON.parse((snappy.uncompressSync(Buffer.concat(chunks)) as Buffer).toString('utf8')) as SelectRequest;
      res.writeHead(200, { 'content-encoding': 'snappy' }).end(snappy.compressSync(encodeSelections(body.selections.map((s) => f.selection?.(s.matchers) ?? sel), hints)));
    });
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.addr = `127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

t.test('the distributed querier fans out to the ring', async (t) => {
  // Each label and sample on two of the three replicas (RF 3): a read returns once all but one
  // answered, so whichever replica answers last, the merge holds everything.
  const fakes = [await fake(['a', 'b'], [[1000, 1], [2000, 2]]), await fake(['b', 'c'], [[2000, 2], [3000, 3]]), await fake(['a', 'c'], [[1000, 1], [3000, 3]])];
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  ring.update({ ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [i + 1], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }])) });
  const exec = ringQueryExecutor({ ring, client: new InternalClient({ timeoutMs: 5_000 }), log, timeoutMs: 5_000, queryIngestersWithinMs: 0 });
  t.teardown(() => exec.close());
  const read = (): ReturnType<NonNullable<typeof exec.readMetadata>> => exec.readMetadata!({ op: 'labels', tenant: 't', sets: [], mint: 0, maxt: 1e13, limit: 0 }, new AbortController().signal);

  t.same(await read(), { ok: true, values: ['a', 'b', 'c'] }, 'every answer merged');
  fakes[2]!.mode = 'hang';
  const t0 = Date.now();
  const two = await read();
  t.ok(Date.now() - t0 < 2_000, 'a hung ingester does not hold the read');
  t.same(two, { ok: true, values: ['a', 'b', 'c'] });
  fakes[1]!.mode = 'fail';
  const failed = await read();
  t.match(failed, { ok: false, kind: 'internal', message: /^failed to query ingesters: / }, 'two of three down: too many failures');
  fakes[1]!.mode = 'ok';
  fakes[2]!.mode = 'ok';

  // PromQL over the merged replicas: samples at 1, 2 and 3 s, each on two of the three.
  t.test('PromQL over merged replicas', { skip: nativeSkip() }, async (t) => {
    const task: QueryTask = { kind: 'instant', tenant: 't', query: 'count_over_time(m[10s])', startMs: 3500, endMs: 3500, stepMs: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 10_000, limit: 0 };
    const out = await exec.run(task, new AbortController().signal);
    t.ok(out instanceof Uint8Array, 'answered');
    const body = JSON.parse(Buffer.from(out as Uint8Array).toString('utf8')) as { data: { result: Array<{ value: [number, string] }> } };
    t.equal(body.data.result[0]?.value[1], '3', 'three distinct samples, replicas deduplicated');
  });
});

t.test('minimized reads ask only the ingesters they need, more on failure and after the hedging delay', async (t) => {
  const fakes = [await fake(['a'], [[1000, 1]]), await fake(['a'], [[1000, 1]]), await fake(['a'], [[1000, 1]])];
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  ring.update({ ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [i + 1], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }])) });
  const exec = ringQueryExecutor({ ring, client: new InternalClient({ timeoutMs: 5_000 }), log, timeoutMs: 5_000, queryIngestersWithinMs: 0, minimizeRequests: true, hedgingDelayMs: 300 });
  t.teardown(() => exec.close());
  const read = (): ReturnType<NonNullable<typeof exec.readMetadata>> => exec.readMetadata!({ op: 'labels', tenant: 't', sets: [], mint: 0, maxt: Date.now(), limit: 0 }, new AbortController().signal);
  const calls = (): number => fakes.reduce((n, f) => n + f.calls, 0);
  const reset = (): void => fakes.forEach((f) => (f.calls = 0));

  t.same(await read(), { ok: true, values: ['a'] });
  t.equal(calls(), 2, 'RF 3 over three ingesters: two are asked, a quorum');
  // Each of them failing in turn: the third one is asked in its place.
  for (const down of fakes) {
    reset();
    down.mode = 'fail';
    t.same(await read(), { ok: true, values: ['a'] }, 'answered with one ingester failing');
    t.ok(calls() === 2 || calls() === 3, `the failed one replaced (${calls()} asked)`);
    down.mode = 'ok';
  }
  // A hung ingester is hedged: the rest are asked once the delay passes.
  fakes[0]!.mode = 'hang';
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) t.same(await read(), { ok: true, values: ['a'] });
  t.ok(Date.now() - t0 < 3 * 2_000, 'hedged, not waiting for the deadline');
  fakes[0]!.mode = 'ok';
});

t.test("reads go to the tenant's shuffle shard only", async (t) => {
  const fakes = await Promise.all([0, 1, 2, 3, 4, 5].map(() => fake(['x'], [[1000, 1]])));
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  const old = now - 30 * 86_400;
  ring.update({ ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [(i + 1) * 500_000_000], zone: '', registered_timestamp: old, read_only: false, read_only_updated_timestamp: 0 }])) });
  const exec = ringQueryExecutor({ ring, client: new InternalClient({ timeoutMs: 5_000 }), log, timeoutMs: 5_000, queryIngestersWithinMs: 13 * 3_600_000, shardSize: (tenant) => (tenant === 'sharded' ? 3 : 0) });
  t.teardown(() => exec.close());
  const read = (tenant: string): ReturnType<NonNullable<typeof exec.readMetadata>> => exec.readMetadata!({ op: 'labels', tenant, sets: [], mint: Date.now() - 60_000, maxt: Date.now(), limit: 0 }, new AbortController().signal);
  t.same(await read('sharded'), { ok: true, values: ['x'] });
  const shard = Object.entries(ring.shuffleShard('sharded', 3).getDesc().ingesters).map(([, i]) => i.addr);
  t.same(
    fakes.filter((f) => f.calls > 0).map((f) => f.addr).sort(),
    shard.sort(),
    'only the three ingesters of its shard were asked',
  );
  fakes.forEach((f) => (f.calls = 0));
  await read('whole');
  t.equal(fakes.filter((f) => f.calls > 0).length, 6, 'a tenant without a shard size asks every ingester');
});

t.test('-querier.query-ingesters-within and -querier.query-store-after choose the stores a read asks', async (t) => {
  const ingester = await fake(['from_ingester'], [[1000, 1]]);
  const storeGateway = await fake(['from_store'], [[1000, 1]]);
  storeGateway.blocks = ['01ARZ3NDEKTSV4RRFFQ69G5FAV'];
  const fakes = [ingester, storeGateway];
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const now = Math.floor(Date.now() / 1000);
  const ringOf = (key: string, f: Fake): Ring => {
    const r = new Ring(new InMemoryKv(), { key, replicationFactor: 1, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
    r.update({ ingesters: { [`${key}-0`]: { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [1], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 } } });
    return r;
  };
  const H = 3_600_000;
  const exec = ringQueryExecutor({
    ring: ringOf('ingester', ingester),
    storeGateways: ringOf('store-gateway', storeGateway),
    client: new InternalClient({ timeoutMs: 5_000 }),
    log,
    timeoutMs: 5_000,
    queryIngestersWithinMs: 13 * H,
    queryStoreAfterMs: 12 * H,
  });
  t.teardown(() => exec.close());
  const asked = (): { ingesters: boolean; store: boolean } => {
    const out = { ingesters: ingester.calls > 0, store: storeGateway.calls > 0 };
    fakes.forEach((f) => (f.calls = 0));
    return out;
  };
  // [mint, maxt] back from now: the stores each range reaches.
  const ranges: Array<{ name: string; from: number; to: number; ingesters: boolean; store: boolean }> = [
    { name: 'entirely older than the ingesters window', from: 20 * H, to: 13 * H + 60_000, ingesters: false, store: true },
    { name: 'overlapping the ingesters window by a minute', from: 20 * H, to: 13 * H - 60_000, ingesters: true, store: true },
    { name: 'entirely newer than query-store-after', from: 12 * H - 60_000, to: 0, ingesters: true, store: false },
    { name: 'starting just before query-store-after', from: 12 * H + 60_000, to: 0, ingesters: true, store: true },
  ];
  for (const r of ranges) {
    const t0 = Date.now();
    const got = await exec.readMetadata!({ op: 'labels', tenant: 't', sets: [], mint: t0 - r.from, maxt: t0 - r.to, limit: 0 }, new AbortController().signal);
    const values = [...(r.ingesters ? ['from_ingester'] : []), ...(r.store ? ['from_store'] : [])];
    t.same(got, { ok: true, values }, `labels ${r.name}: from ${values.join(' and ')}`);
    t.same(asked(), { ingesters: r.ingesters, store: r.store }, `labels ${r.name}: only those asked`);
  }

  // A PromQL query's selections are routed the same way (the range its selectors read).
  t.test('PromQL selections', { skip: nativeSkip() }, async (t) => {
    for (const r of ranges) {
      const t0 = Date.now();
      // m[range] evaluated at t0 - to reads (t0 - from, t0 - to].
      const task: QueryTask = { kind: 'instant', tenant: 't', query: `count_over_time(m[${(r.from - r.to) / 1000}s])`, startMs: t0 - r.to, endMs: t0 - r.to, stepMs: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 10_000, limit: 0 };
      t.ok((await exec.run(task, new AbortController().signal)) instanceof Uint8Array, `${r.name}: answered`);
      t.same(asked(), { ingesters: r.ingesters, store: r.store }, `${r.name}: only those asked`);
    }
  });
});

t.test("a store-gateway's block hints travel in the selection frame's head", async (t) => {
  const { decodeFrame } = await import('../internal/frame.js');
  const empty = { labels: encodeSeriesLabels([]), offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };
  t.same(decodeFrame(encodeSelections([empty], { known: ['A'], queried: [] })).hints, { known: ['A'], queried: [] });
  t.equal(decodeFrame(encodeSelections([empty])).hints, undefined, "an ingester's frame has none");
});

t.test('native histograms and start timestamps through the replicas answer as one store would', { skip: nativeSkip() }, async (t) => {
  // One histogram series (a counter with a stale marker and a reset) and one float series with
  // start timestamps, minute by minute; each replica lacks some samples, together they have all.
  const minute = 60_000;
  const n = 30;
  const hs: FloatHistogram[] = [];
  const stale: boolean[] = [];
  for (let k = 0; k < n; k++) {
    const c = k < 20 ? k * 4 : (k - 20) * 2;
    hs.push(new FloatHistogram(0, 0.001, c, c * 4, c * 2.5, 0, [0, 1, 2], [c, c * 2, c]));
    stale.push(k === 12);
  }
  // The series a selector asks for (by metric name only, all the queries below need).
  const wants = (matchers: LabelMatcher[], name: string): boolean => matchers.every((m) => m.name !== '__name__' || m.type !== MatchType.Equal || m.value === name);
  const full = (keep: (k: number) => boolean, matchers: LabelMatcher[]): Selection => {
    const ks = [...Array(n).keys()].filter(keep);
    const withH = wants(matchers, 'h');
    const withM = wants(matchers, 'm');
    const hk = withH ? ks : [];
    const mk = withM ? ks : [];
    const { data, dataOffsets } = encodeFlatSamples(
      hk.map((k) => hs[k]!),
      hk.map(() => true),
      hk.map((k) => stale[k]!),
    );
    return {
      labels: encodeSeriesLabels([...(withH ? [{ __name__: 'h', job: 'a' }] : []), ...(withM ? [{ __name__: 'm', job: 'a' }] : [])]),
      offsets: Uint32Array.from(withH && withM ? [0, 0, mk.length] : [0, mk.length]),
      timestamps: Float64Array.from(mk, (k) => k * minute),
      values: Float64Array.from(mk, (k) => (k < 15 ? k : k - 15)),
      startTimestamps: Float64Array.from(mk, (k) => (k < 15 ? 1 : 15 * minute - 1)),
      histograms: {
        offsets: Uint32Array.from(withH && withM ? [0, hk.length, hk.length] : [0, hk.length]),
        timestamps: Float64Array.from(hk, (k) => k * minute),
        dataOffsets,
        data,
        startTimestamps: Float64Array.from(hk, () => 0),
      },
    };
  };
  // Every sample on two replicas of three (a quorum write): any two answers hold all.
  const fakes = [await fake([], []), await fake([], []), await fake([], [])];
  fakes.forEach((f, r) => (f.selection = (m) => full((k) => k % 3 !== r, m)));
  t.teardown(() => fakes.forEach((f) => closeH2FakeServer(f.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'r', replicationFactor: 3, zoneAwarenessEnabled: false, heartbeatTimeoutMs: 60_000 }, log);
  const now = Math.floor(Date.now() / 1000);
  ring.update({ ingesters: Object.fromEntries(fakes.map((f, i) => [`ing-${i}`, { addr: f.addr, timestamp: now, state: 'ACTIVE' as const, tokens: [i + 1], zone: '', registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }])) });
  const exec = ringQueryExecutor({ ring, client: new InternalClient({ timeoutMs: 5_000 }), log, timeoutMs: 5_000, queryIngestersWithinMs: 0, minimizeRequests: false });
  t.teardown(() => exec.close());

  // The reference: the same engine over every sample as one store selects them.
  const native = nativeKernels();
  const reference: Kernels = {
    select: (_tenant, matchers) => {
      const whole = full(() => true, matchers);
      return { ...whole, labels: decodeSeriesLabels(whole.labels) };
    },
    instant: native.instant.bind(native),
    range: native.range.bind(native),
    rangeStartTimes: native.rangeStartTimes!.bind(native),
  };
  const cases: Array<[string, 'instant' | 'range', boolean?]> = [
    ['histogram_count(h)', 'instant'],
    ['h[5m]', 'instant'],
    ['h', 'range'],
    ['histogram_quantile(0.9, sum(rate(h[5m])))', 'range'],
    ['histogram_count(increase(h[10m]))', 'range'],
    ['rate(m[5m])', 'range', true],
    ['{job="a"}', 'range'],
  ];
  for (const [query, kind, useStartTimestamps] of cases) {
    const task: QueryTask = {
      kind,
      tenant: 't',
      query,
      startMs: kind === 'instant' ? 27 * minute : 0,
      endMs: 27 * minute,
      stepMs: kind === 'instant' ? 0 : 30_000,
      lookbackDeltaMs: 300_000,
      maxSamples: 0,
      deadline: Date.now() + 10_000,
      limit: 0,
      ...(useStartTimestamps === true ? { useStartTimestamps } : {}),
    };
    const got = await exec.run(task, new AbortController().signal);
    t.ok(got instanceof Uint8Array, `${query}: answered ${got instanceof Uint8Array ? "" : JSON.stringify(got)}`);
    const body = Buffer.from(got as Uint8Array).toString('utf8');
    const want = Buffer.from(encodeQuerySuccessBytes(evaluateTask(reference, task))).toString('utf8');
    t.equal(body, want, `${query} (${kind}) answers as over one store`);
    t.notOk(body.includes('"result":[]'), `${query}: not empty ${body.slice(0, 300)}`);
  }
});
