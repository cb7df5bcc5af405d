// select-blocks.test.ts checks a store-gateway's selections and metadata
// reads over its internal API with real blocks (written by the native core
// into a filesystem bucket, loaded by BucketStores, read by the native block
// reads): given some of the blocks it loaded, it reads those only and names
// exactly the ones it answered for, as Mimir's store-gateway answers its
// querier's block matchers.

import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BucketStores } from './bucket-stores.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { QueryableBlocks } from '../storage/queryable-blocks.js';
import { loadNative, nativeBlockSeriesQuerier, nativeBlockStore, nativeStorage } from '../storage/native.js';
import { Logger } from '../log.js';
import { HttpServer } from '../server/http.js';
import { InternalClient } from '../internal/client.js';
import { decodeFrame, type BlockHints } from '../internal/frame.js';
import { INTERNAL_METADATA_PATH, INTERNAL_SELECT_PATH, registerReadInternal, type MetadataRequest, type SelectRequest } from '../internal/ingester-server.js';
import { decodeSeriesLabels } from '../model/series-labels.js';
import { makeBlock, uploadBlock } from '../testing/blocks.js';
import { nativeSkip } from '../testing/native-skip.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Answer is what a select call answered: per series `name@t=v` samples, and the block hints. */
interface Answer {
  samples: string[];
  hints: BlockHints | undefined;
}

/**
 * storeGateway loads two blocks of tenant `tenant` from a filesystem bucket: A holds series a at
 * every minute of [0h, 2h), B series b at every minute of [2h, 4h). It answers selections on an
 * ephemeral internal port, wired as app.ts wires a store-gateway.
 */
async function storeGateway(t: Test, tenant: string): Promise<{ a: string; b: string; ask: (req: SelectRequest) => Promise<Answer>; read: (req: MetadataRequest) => Promise<{ values?: string[]; json?: string; blocks?: BlockHints }> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-select-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bucket = new FilesystemBucket(join(dir, 'bucket'));
  const minutes = (from: number): number[] => [...Array(120).keys()].map((i) => from + i * MINUTE);
  const a = await uploadBlock(bucket, tenant, makeBlock(join(dir, 'made'), [{ labels: ['__name__', 'a'], ts: minutes(0), vs: minutes(0).map((_, i) => i) }], 0, 2 * HOUR));
  const b = await uploadBlock(bucket, tenant, makeBlock(join(dir, 'made'), [{ labels: ['__name__', 'b'], ts: minutes(2 * HOUR), vs: minutes(0).map((_, i) => i) }], 2 * HOUR, 4 * HOUR));
  const blockStore = nativeBlockStore();
  const queryable = new QueryableBlocks(blockStore.setTenantBlocks, new Logger());
  t.teardown(() => blockStore.setTenantBlocks(tenant, []));
  const selectBlocks = loadNative().selectBlockSamplesAsync!;
  const stores = new BucketStores(
    { bucket, syncDir: join(dir, 'sync'), syncIntervalMs: 0, selectBlocks: (tn, ids, m, mint, maxt) => selectBlocks(tn, ids, m, mint, maxt), blockSeries: nativeBlockSeriesQuerier()! },
    queryable,
    new Logger(),
  );
  await stores.sync();
  t.same(
    stores.blocks(tenant).map((x) => x.meta.ulid),
    [a, b],
    'both blocks loaded',
  );
  const server = new HttpServer({ http2: true });
  const select = loadNative().selectSamplesAsync;
  registerReadInternal(server, {
    maxRecvMsgSize: 1 << 20,
    select: (tn, m, mint, maxt) => select(tn, m, mint, maxt),
    series: nativeStorage(),
    blocks: (tn, mint, maxt) => stores.hints(tn, mint, maxt),
    selectBlocks: (tn, ids, m, mint, maxt) => stores.select(tn, ids, m, mint, maxt),
    readBlocks: (r, ids) => stores.readMetadata(r, ids),
  });
  const port = await server.listen('127.0.0.1', 0);
  const client = new InternalClient({ timeoutMs: 5_000 });
  t.teardown(async () => {
    client.close();
    await server.close(1_000);
  });
  const ask = async (req: SelectRequest): Promise<Answer> => {
    const got = await client.post(`127.0.0.1:${port}`, INTERNAL_SELECT_PATH, tenant, Buffer.from(JSON.stringify(req)));
    t.equal(got.status, 200, 'select answered');
    const { selections, hints } = decodeFrame(got.body);
    const samples: string[] = [];
    for (const s of selections) {
      decodeSeriesLabels(s.labels).forEach((l, i) => {
        for (let k = s.offsets[i]!; k < s.offsets[i + 1]!; k++) samples.push(`${l.__name__}@${s.timestamps[k]! / MINUTE}=${s.values[k]}`);
      });
    }
    return { samples, hints };
  };
  const read = async (req: MetadataRequest): Promise<{ values?: string[]; json?: string; blocks?: BlockHints }> => {
    const got = await client.post(`127.0.0.1:${port}`, INTERNAL_METADATA_PATH, tenant, Buffer.from(JSON.stringify(req)));
    t.equal(got.status, 200, 'metadata read answered');
    return JSON.parse(got.body.toString('utf8')) as { values?: string[]; json?: string; blocks?: BlockHints };
  };
  return { a, b, ask, read };
}

const ALL = { matchers: [], mint: 0, maxt: 4 * HOUR };
const names = (samples: string[]): string[] => [...new Set(samples.map((s) => s.split('@')[0]!))];

t.test('a store-gateway reads only the blocks it is asked for and names them', { skip: nativeSkip('selectBlockSamplesAsync', 'blockSeriesJson', 'blockLabelStrings') }, async (t) => {
  const tenant = `sg-select-${process.pid}`;
  const { a, b, ask, read } = await storeGateway(t, tenant);

  const onlyB = await ask({ selections: [ALL], blocks: [b] });
  t.same(names(onlyB.samples), ['b'], "only block B's series");
  t.equal(onlyB.samples.length, 120, "every sample of B's, none of A's");
  t.equal(onlyB.samples[0], 'b@120=0');
  t.same(onlyB.hints?.queried, [b], 'B reported queried, A not');
  t.same(onlyB.hints?.known, [a, b], 'both known');

  const both = await ask({ selections: [ALL], blocks: [a, b] });
  t.equal(both.samples.length, 240, 'both blocks read');
  t.same(both.hints?.queried, [a, b]);

  // A block it does not serve is not reported: the querier asks another owner for it.
  const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  const partly = await ask({ selections: [ALL], blocks: [unknown, a] });
  t.same(names(partly.samples), ['a']);
  t.same(partly.hints?.queried, [a], 'the block it does not have left out');

  // Two selections with a gap between them: B lies in neither range, yet is answered for (nothing
  // in it to read); A is read by the first selection only.
  const gap = await ask({
    selections: [
      { matchers: [], mint: 0, maxt: 30 * MINUTE },
      { matchers: [], mint: 5 * HOUR, maxt: 6 * HOUR },
    ],
    blocks: [a, b],
  });
  t.equal(gap.samples.length, 31, "A's first 31 minutes");
  t.same(gap.hints?.queried, [a, b], 'both answered for');

  // A querier that names no blocks gets every block it loaded (and every block reported).
  const unnamed = await ask({ selections: [ALL] });
  t.equal(unnamed.samples.length, 240);
  t.same(unnamed.hints?.queried, [a, b]);

  // Metadata reads (series, label names and values) answer for the named blocks the same way.
  const range = { tenant, sets: [], mint: 0, maxt: 4 * HOUR, limit: 0 };
  const valuesOfB = await read({ op: 'labelValues', name: '__name__', ...range, blocks: [b] });
  t.same(valuesOfB.values, ['b'], "B's metric name only");
  t.same(valuesOfB.blocks?.queried, [b]);
  const seriesOfA = await read({ op: 'series', ...range, blocks: [unknown, a] });
  t.same(JSON.parse(seriesOfA.json ?? ''), [{ __name__: 'a' }], "A's series only");
  t.same(seriesOfA.blocks?.queried, [a]);
  const namesOutside = await read({ op: 'labels', ...range, maxt: HOUR, blocks: [a, b] });
  t.same(namesOutside.values, ['__name__']);
  t.same(namesOutside.blocks?.queried, [a, b], 'B answered for without a read: outside the range');
  const everyValue = await read({ op: 'labelValues', name: '__name__', ...range });
  t.same(everyValue.values, ['a', 'b'], 'no blocks named: every loaded block');
});
