// blocks-store-query.test.ts checks the querier's reads through the
// store-gateways against stand-in store-gateways (HTTP servers speaking the
// internal blocks, select and metadata API, each serving the blocks it
// "loaded"; a selection answers for the blocks it was given and loaded, as
// the real one does): each block is given to one owner, a failed owner's
// blocks and the blocks an answer leaves out are retried on other owners,
// three attempts at most, then the consistency check fails; each
// store-gateway is asked once per attempt for all of its blocks.

import t, { type Test } from 'tap';
import type { Http2Server } from 'node:http2';
import { closeH2FakeServer, h2FakeServer } from '../testing/h2-server.js';
import type { AddressInfo } from 'node:net';
import snappy from '@napi-rs/snappy';
import { InternalClient } from '../internal/client.js';
import { encodeSelections, type BlockHints } from '../internal/frame.js';
import type { BlocksRequest, MetadataRequest, SelectRequest } from '../internal/ingester-server.js';
import { Logger, setLogSink } from '../log.js';
import { encodeSeriesLabels } from '../model/series-labels.js';
import { BLOCKS_READ } from '../ring/model.js';
import { InMemoryKv } from '../ring/kv.js';
import { Ring } from '../ring/ring.js';
import { blockToken } from '../ring/shard.js';
import { nativeSkip } from '../testing/native-skip.js';
import { MAX_FETCH_ATTEMPTS, queryStoreGateways, storeGatewayShard, type StoreGatewayReads } from './blocks-store-query.js';
import { ringQueryExecutor } from './ring-query.js';
import type { QueryTask } from './query-params.js';

const TENANT = 't';
/**
 * BLOCKS are twelve ULIDs (sorted; apart in their first bytes, so that their tokens spread over the
 * ring); block i holds the sample (i * 1000 ms, i) of series m.
 */
const BLOCKS = [...'0123456789AB'].map((c) => `01${c}RZ3NDEKTSV4RRFFQ69G5FAV`);

/** Gateway is a stand-in store-gateway. */
interface Gateway {
  id: string;
  zone: string;
  server: Http2Server;
  addr: string;
  /** loaded are the blocks it serves (its hints' queried ones); every block of BLOCKS is known to it. */
  loaded: Set<string>;
  /** down makes it answer 500 to selections and metadata reads (still naming the blocks). */
  down: boolean;
  /** reads counts its selections and metadata reads. */
  reads: number;
  /** uploaded are the upload times (ms) it names for blocks (0 for the others). */
  uploaded: Map<string, number>;
  /** given are the blocks each of its selection calls named. */
  given: string[][];
}

async function gateway(id: string, zone: string, loaded: Iterable<string>): Promise<Gateway> {
  const g: Gateway = { id, zone, server: h2FakeServer(), addr: '', loaded: new Set(loaded), down: false, reads: 0, uploaded: new Map(), given: [] };
  g.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = (snappy.uncompressSync(Buffer.concat(chunks)) as Buffer).toString('utf8');
      const hints: BlockHints = { known: [...BLOCKS], queried: BLOCKS.filter((b) => g.loaded.has(b)) };
      const send = (buf: Buffer): void => void res.writeHead(200, { 'content-encoding': 'snappy' }).end(snappy.compressSync(buf));
      if (req.url === '/internal/v1/blocks') {
        const r = JSON.parse(body) as BlocksRequest;
        const known = r.maxt >= r.mint ? [...BLOCKS] : [];
        send(Buffer.from(JSON.stringify({ known, uploaded: known.map((b) => g.uploaded.get(b) ?? 0), queried: [] })));
        return;
      }
      g.reads++;
      if (g.down) {
        res.writeHead(500).end('boom');
        return;
      }
      if (req.url === '/internal/v1/metadata') {
        // A metadata read answers for the blocks it was given that it loaded, as a selection does.
        const given = new Set((JSON.parse(body) as MetadataRequest).blocks ?? []);
        const queried = hints.queried.filter((b) => given.has(b));
        send(Buffer.from(JSON.stringify({ ok: true, values: queried, blocks: { ...hints, queried } })));
        return;
      }
      // A selection reads the blocks it was given that it loaded (none when it was given none).
      const r = JSON.parse(body) as SelectRequest;
      g.given.push(r.blocks ?? []);
      const given = new Set(r.blocks ?? []);
      const ks = BLOCKS.flatMap((b, i) => (g.loaded.has(b) && given.has(b) ? [i] : []));
      const sel = { labels: encodeSeriesLabels([{ __name__: 'm' }]), offsets: Uint32Array.from([0, ks.length]), timestamps: Float64Array.from(ks, (i) => i * 1000), values: Float64Array.from(ks) };
      send(encodeSelections(r.selections.map(() => sel), { ...hints, queried: ks.map((i) => BLOCKS[i]!) }));
    });
  });
  await new Promise<void>((r) => g.server.listen(0, '127.0.0.1', r));
  g.addr = `127.0.0.1:${(g.server.address() as AddressInfo).port}`;
  return g;
}

/** gateways starts n stand-ins (zones: their zone each) and their ring at the replication factor; each loads the blocks it owns. */
async function gateways(t: Test, n: number, rf: number, zones?: string[]): Promise<{ gws: Gateway[]; ring: Ring }> {
  const gws = await Promise.all([...Array(n).keys()].map((i) => gateway(`sg-${i}`, zones?.[i] ?? '', [])));
  t.teardown(() => gws.forEach((g) => closeH2FakeServer(g.server)));
  const ring = new Ring(new InMemoryKv(), { key: 'sg', replicationFactor: rf, zoneAwarenessEnabled: zones !== undefined, heartbeatTimeoutMs: 60_000 }, new Logger());
  const now = Math.floor(Date.now() / 1000);
  ring.update({
    ingesters: Object.fromEntries(
      gws.map((g, i) => {
        // Four tokens each, interleaved around the ring.
        const tokens = [0, 1, 2, 3].map((k) => Math.floor(((k * n + i) * 2 ** 32) / (4 * n)) + 7);
        return [g.id, { addr: g.addr, timestamp: now, state: 'ACTIVE' as const, tokens, zone: g.zone, registered_timestamp: now, read_only: false, read_only_updated_timestamp: 0 }];
      }),
    ),
  });
  for (const b of BLOCKS) for (const o of ownersOf(ring, b)) gws.find((g) => g.id === o)!.loaded.add(b);
  return { gws, ring };
}

function ownersOf(ring: Ring, block: string): string[] {
  return ring.replicasOf(blockToken(block), BLOCKS_READ).map((i) => i.id);
}

/** logged captures the log lines written during fn. */
async function logged<X>(fn: () => Promise<X>): Promise<{ out: X; lines: string[] }> {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  try {
    return { out: await fn(), lines };
  } finally {
    setLogSink((l) => void process.stderr.write(l));
  }
}

/** Call is one store-gateway call a read made: its attempt (counted by the read) and the blocks given to it. */
interface Call {
  attempt: number;
  id: string;
  blocks: string[];
}

/**
 * read runs queryStoreGateways with a call that records what it was given and answers as the
 * stand-in's selection would (failing when it is down; naming the blocks given that it loaded). The calls of an attempt all start before any of them
 * settles, and the next attempt's after they all did: a call starting with none in flight opens
 * an attempt.
 */
async function read(reads: StoreGatewayReads, gws: Gateway[]): Promise<{ calls: Call[]; answers: BlockHints[] }> {
  const calls: Call[] = [];
  let attempt = 0;
  let inFlight = 0;
  const answers = await queryStoreGateways(
    reads,
    TENANT,
    0,
    60_000,
    async (addr, blocks) => {
      if (inFlight === 0) attempt++;
      inFlight++;
      const g = gws.find((x) => x.addr === addr)!;
      calls.push({ attempt, id: g.id, blocks: [...blocks] });
      try {
        await Promise.resolve();
        if (g.down) throw new Error(`${addr}: 500 boom`);
        return { known: [...BLOCKS], queried: blocks.filter((b) => g.loaded.has(b)) };
      } finally {
        inFlight--;
      }
    },
    (h) => h,
  );
  return { calls, answers };
}

function readsOf(ring: Ring, extra: Partial<StoreGatewayReads> = {}): StoreGatewayReads {
  return { ring, client: new InternalClient({ timeoutMs: 5_000 }), log: new Logger({ component: 'querier' }), timeoutMs: 5_000, ...extra };
}

t.test('a block whose first owner fails is answered by a second', async (t) => {
  // Two zones, one store-gateway each, replication factor 2: every block on both; zone-a is preferred.
  const { gws, ring } = await gateways(t, 2, 2, ['zone-a', 'zone-b']);
  const reads = readsOf(ring, { preferZones: ['zone-a'] });
  const { out, lines } = await logged(() => read(reads, gws));
  t.same(
    out.calls.map((c) => [c.attempt, c.id, c.blocks.length]),
    [[1, 'sg-0', 12]],
    'every block given to the owner in the preferred zone',
  );
  gws[0]!.down = true;
  const failed = await logged(() => read(reads, gws));
  t.same(
    failed.out.calls.map((c) => [c.attempt, c.id, c.blocks.length]),
    [
      [1, 'sg-0', 12],
      [2, 'sg-1', 12],
    ],
    'the failed owner first, then the other zone for all its blocks',
  );
  t.same(new Set(failed.out.answers.flatMap((a) => a.queried)), new Set(BLOCKS), 'every block answered');
  t.ok(
    failed.lines.some((l) => /level=warn .*msg="store-gateway query failed" .*store-gateway=sg-0 attempt=1/.test(l)),
    'the failure logged',
  );
  t.ok(
    failed.lines.some((l) => new RegExp(`level=warn .*msg="blocks not queried, retrying them on other store-gateways" .*attempt=2 blocks="${BLOCKS[0]} .* store-gateways=sg-1:12`).test(l)),
    'the retry logged (logfmt, on stderr)',
  );

  // Through the querier, without zones: picks at random, a dead owner never makes a read fail.
  const plain = await gateways(t, 2, 2);
  plain.gws[1]!.down = true;
  const exec = ringQueryExecutor({ ring: plain.ring, storeGateways: plain.ring, client: new InternalClient({ timeoutMs: 5_000 }), log: new Logger(), timeoutMs: 5_000, queryIngestersWithinMs: 1, queryStoreAfterMs: 0 });
  t.teardown(() => exec.close());
  const labels = (): ReturnType<NonNullable<typeof exec.readMetadata>> => exec.readMetadata!({ op: 'labels', tenant: TENANT, sets: [], mint: 0, maxt: 60_000, limit: 0 }, new AbortController().signal);
  const quiet = await logged(async () => {
    const got = [];
    for (let i = 0; i < 10; i++) got.push(await labels());
    return got;
  });
  for (const got of quiet.out) t.same(got, { ok: true, values: [...BLOCKS] }, 'every block, from the live owner');
  t.ok(plain.gws[1]!.reads > 0, `the dead owner was picked for some blocks (${plain.gws[1]!.reads} reads of 10)`);
  t.ok(plain.gws[0]!.reads >= 10 && plain.gws[0]!.reads <= 20, `the live one asked once or twice per read (${plain.gws[0]!.reads})`);
});

t.test("a block missing from a store-gateway's hints is retried elsewhere", async (t) => {
  const { gws, ring } = await gateways(t, 2, 2, ['zone-a', 'zone-b']);
  // sg-0 has not loaded the last four blocks (say it is still syncing).
  for (const b of BLOCKS.slice(8)) gws[0]!.loaded.delete(b);
  const { out, lines } = await logged(() => read(readsOf(ring, { preferZones: ['zone-a'] }), gws));
  t.same(
    out.calls,
    [
      { attempt: 1, id: 'sg-0', blocks: BLOCKS },
      { attempt: 2, id: 'sg-1', blocks: BLOCKS.slice(8) },
    ],
    'only the blocks its answer left out asked again, of the other owner',
  );
  t.match(lines.join(''), `attempt=2 blocks="${BLOCKS.slice(8).join(' ')}"`, 'the retry logged');

  // The same through a PromQL query: every block's sample.
  t.test('through the querier', { skip: nativeSkip() }, async (t) => {
    const exec = ringQueryExecutor({ ring, storeGateways: ring, client: new InternalClient({ timeoutMs: 5_000 }), log: new Logger(), timeoutMs: 5_000, queryIngestersWithinMs: 1, queryStoreAfterMs: 0, preferZones: ['zone-a'] });
    t.teardown(() => exec.close());
    const task: QueryTask = { kind: 'instant', tenant: TENANT, query: 'count_over_time(m[1m])', startMs: 30_000, endMs: 30_000, stepMs: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 10_000, limit: 0 };
    gws.forEach((g) => {
      g.reads = 0;
      g.given = [];
    });
    const got = await logged(() => exec.run(task, new AbortController().signal));
    t.ok(got.out instanceof Uint8Array, 'answered');
    const body = JSON.parse(Buffer.from(got.out as Uint8Array).toString('utf8')) as { data: { result: Array<{ value: [number, string] }> } };
    t.equal(body.data.result[0]?.value[1], '12', 'the twelve blocks, none twice');
    t.same(
      gws.map((g) => g.reads),
      [1, 1],
      'one selection call each',
    );
    t.same(
      gws.map((g) => g.given),
      [[BLOCKS], [BLOCKS.slice(8)]],
      'each selection names the blocks given to the store-gateway: all of them first, then the four not reported',
    );
  });
});

t.test('a block a store-gateway loaded but did not report is retried elsewhere', async (t) => {
  // Every block on both; sg-0 has loaded them all but its answers name the first three only
  // (say its selection found the others gone): the report counts, not what it loaded.
  const { gws, ring } = await gateways(t, 2, 2, ['zone-a', 'zone-b']);
  const reported = new Set(BLOCKS.slice(0, 3));
  const calls: Call[] = [];
  const answers = await logged(() =>
    queryStoreGateways(
      readsOf(ring, { preferZones: ['zone-a'] }),
      TENANT,
      0,
      60_000,
      async (addr, blocks) => {
        const g = gws.find((x) => x.addr === addr)!;
        calls.push({ attempt: 0, id: g.id, blocks: [...blocks] });
        return { known: [...BLOCKS], queried: blocks.filter((b) => g.loaded.has(b) && (g.id !== 'sg-0' || reported.has(b))) };
      },
      (h) => h,
    ),
  );
  t.ok(
    BLOCKS.every((b) => gws[0]!.loaded.has(b)),
    'sg-0 loaded every block',
  );
  t.same(
    calls.map((c) => [c.id, c.blocks]),
    [
      ['sg-0', BLOCKS],
      ['sg-1', BLOCKS.slice(3)],
    ],
    'the blocks it did not report asked of the other owner',
  );
  t.same(new Set(answers.out.flatMap((a) => a.queried)), new Set(BLOCKS), 'every block queried once in all');
});

t.test('after three attempts the read fails with the consistency check', async (t) => {
  // Four store-gateways at replication factor 4: every one owns every block, none has loaded the
  // first one. Three are tried for it, then the check fails (the fourth is never asked).
  const { gws, ring } = await gateways(t, 4, 4);
  for (const g of gws) g.loaded.delete(BLOCKS[0]!);
  let failure: unknown;
  const { lines } = await logged(() => read(readsOf(ring), gws).catch((err: unknown) => (failure = err)));
  t.equal(MAX_FETCH_ATTEMPTS, 3);
  t.equal((failure as Error).message, `consistency check failed because some blocks were not queried: ${BLOCKS[0]}`);
  t.ok(
    lines.some((l) => l.includes('msg="failed consistency check after all attempts"')),
    'the failure logged',
  );

  // Which owners were asked for it: one per attempt, each a different one; nothing else retried.
  const calls: Call[] = [];
  await logged(() =>
    queryStoreGateways(
      readsOf(ring),
      TENANT,
      0,
      60_000,
      async (addr, blocks) => {
        const g = gws.find((x) => x.addr === addr)!;
        calls.push({ attempt: 0, id: g.id, blocks: [...blocks] });
        return { known: [...BLOCKS], queried: blocks.filter((b) => g.loaded.has(b)) };
      },
      (h) => h,
    ).catch(() => undefined),
  );
  const asked = calls.filter((c) => c.blocks.includes(BLOCKS[0]!)).map((c) => c.id);
  t.equal(asked.length, 3, `three attempts for the block (${asked.join(', ')})`);
  t.equal(new Set(asked).size, 3, 'each of another owner');
  t.equal(calls.flatMap((c) => c.blocks).length, 12 + 2, 'the other blocks asked for once');

  // Two owners only (replication factor 2, both down): it stops once none is left to try.
  const two = await gateways(t, 2, 2);
  two.gws.forEach((g) => (g.down = true));
  const tried = await logged(() => read(readsOf(two.ring), two.gws).catch((err: unknown) => err as Error));
  t.equal((tried.out as Error).message, `consistency check failed because some blocks were not queried: ${BLOCKS.join(' ')}`);
  t.ok(
    tried.lines.some((l) => l.includes('msg="unable to get store-gateway clients while retrying to fetch missing blocks"') && l.includes('attempt=3') && l.includes('no store-gateway instance left after checking exclude for block')),
    'no third attempt: no owner left',
  );

  // A block whose every owner is unhealthy fails the first attempt with the ring's error.
  const stale = await gateways(t, 2, 1);
  const desc = stale.ring.getDesc();
  desc.ingesters['sg-1']!.timestamp = 1;
  stale.ring.update(desc);
  const orphan = BLOCKS.find((b) => ownersOf(stale.ring, b)[0] === 'sg-1')!;
  const err = await logged(() => read(readsOf(stale.ring), stale.gws).catch((e: unknown) => e as Error));
  t.equal((err.out as Error).message, `failed to get store-gateway replication set owning the block ${orphan}: at least 1 healthy replica required, could only find 0 - unhealthy instances: ${stale.gws[1]!.addr}`);
});

t.test('each store-gateway is asked once per attempt for all the blocks given to it', async (t) => {
  // Three store-gateways at replication factor 2: each block on two of them.
  const { gws, ring } = await gateways(t, 3, 2);
  t.ok(
    gws.every((g) => g.loaded.size > 0 && g.loaded.size < 12),
    `each loads a share (${gws.map((g) => g.loaded.size).join(', ')})`,
  );
  for (let round = 0; round < 5; round++) {
    const { calls } = await read(readsOf(ring), gws);
    t.equal(new Set(calls.map((c) => c.id)).size, calls.length, 'no store-gateway asked twice');
    t.ok(calls.length <= 3, `${calls.length} calls for 12 blocks`);
    t.same(calls.flatMap((c) => c.blocks).sort(), BLOCKS, 'every block given once');
    for (const c of calls) for (const b of c.blocks) t.ok(ownersOf(ring, b).includes(c.id), `${b} given to an owner`);
  }
  // With one down: its blocks go to their other owner in the second attempt (an answer covers the
  // blocks its store-gateway was given only), again one call each.
  gws[2]!.down = true;
  let retries = 0;
  for (let round = 0; round < 5; round++) {
    const { calls, answers } = await logged(() => read(readsOf(ring), gws)).then((r) => r.out);
    const first = calls.filter((c) => c.attempt === 1);
    const second = calls.filter((c) => c.attempt === 2);
    t.equal(new Set(first.map((c) => c.id)).size, first.length, 'attempt 1: one call per store-gateway');
    t.equal(new Set(second.map((c) => c.id)).size, second.length, 'attempt 2: one call per store-gateway');
    t.notOk(
      second.some((c) => c.id === 'sg-2'),
      'the failed one not asked again',
    );
    const retried = first.find((c) => c.id === 'sg-2')?.blocks ?? [];
    t.same(second.flatMap((c) => c.blocks).sort(), [...retried].sort(), 'exactly its blocks retried');
    if (second.length > 0) retries++;
    t.same(new Set(answers.flatMap((a) => a.queried)), new Set(BLOCKS), 'every block answered');
  }
  t.comment(`${retries} of 5 reads needed a second attempt`);
});

t.test('a block uploaded within the grace period is asked for but not required', async (t) => {
  // Every store-gateway owns every block; none has loaded the first one yet.
  const { gws, ring } = await gateways(t, 4, 4);
  for (const g of gws) g.loaded.delete(BLOCKS[0]!);
  const grace = 45 * 60_000;
  for (const g of gws) g.uploaded.set(BLOCKS[0]!, Date.now() - 60_000);
  const { out } = await logged(() => read(readsOf(ring, { uploadGraceMs: grace }), gws));
  const asked = out.calls.filter((c) => c.blocks.includes(BLOCKS[0]!));
  t.equal(asked.length, 1, 'asked for once, in the first attempt');
  t.equal(out.answers.length > 0, true, 'the read answers with the blocks loaded');
  t.notOk(
    out.answers.some((a) => a.queried.includes(BLOCKS[0]!)),
    'without the new block',
  );

  // Uploaded before the grace period: required, so the read fails the consistency check.
  for (const g of gws) g.uploaded.set(BLOCKS[0]!, Date.now() - grace - 60_000);
  const old = await logged(() => read(readsOf(ring, { uploadGraceMs: grace }), gws).catch((e: unknown) => e as Error));
  t.equal((old.out as Error).message, `consistency check failed because some blocks were not queried: ${BLOCKS[0]}`);
});

t.test("with a tenant shard size, a tenant's blocks are read from the owners in its shuffle shard", async (t) => {
  const { gws, ring } = await gateways(t, 6, 2);
  const shard = storeGatewayShard(ring, TENANT, 3);
  const members = new Set(shard.healthyInstances(BLOCKS_READ).map((i) => i.id));
  t.equal(members.size, 3, 'a shard of three');
  t.equal(storeGatewayShard(ring, TENANT, 0), ring, 'size 0: the whole ring');
  // The store-gateways loaded what they own within the shard (as they sync with the same size).
  for (const g of gws) g.loaded.clear();
  for (const b of BLOCKS) for (const i of shard.replicasOf(blockToken(b), BLOCKS_READ)) gws.find((g) => g.id === i.id)!.loaded.add(b);
  const { out } = await logged(() => read(readsOf(ring, { shardSize: () => 3 }), gws));
  t.ok(out.calls.length > 0 && out.calls.every((c) => members.has(c.id)), `only shard members asked (${[...new Set(out.calls.map((c) => c.id))].join(', ')})`);
  t.same(new Set(out.answers.flatMap((a) => a.queried)), new Set(BLOCKS), 'every block read');
  t.ok(out.calls.every((c) => c.attempt === 1), 'in one attempt');
});
