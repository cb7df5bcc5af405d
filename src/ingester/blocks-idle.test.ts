// blocks-idle.test.ts: the idle cut goes by when the head was last written
// (wall clock), not by how old its samples are, so a backfill of hours-old
// samples is not cut and truncated under the writers' feet.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { defaultConfig } from '../config/config.js';
import { Logger } from '../log.js';
import type { BlockLifecycleStore, HeadInfo } from '../storage/native.js';
import { QueryableBlocks } from '../storage/queryable-blocks.js';
import { IngesterBlocks } from './blocks.js';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'blocks-idle-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function fakeStore(info: HeadInfo): BlockLifecycleStore & { cuts: Array<[number, number]> } {
  const cuts: Array<[number, number]> = [];
  return {
    cuts,
    headStats: () => [{ tenant: 't', series: info.series, samples: 1, chunks: 1, minTime: info.minTime ?? 0, maxTime: info.maxTime ?? 0 }],
    headInfo: () => (cuts.length > 0 ? { series: 0 } : info),
    writeBlockAsync: async (_tenant, _dir, mint, maxt) => {
      cuts.push([mint, maxt]);
      return null;
    },
    truncateHead: () => ({ chunksRemoved: 0, samplesRemoved: 0, seriesRemoved: 0 }),
    checkpointWal: async () => null,
    setTenantBlocks: () => [],
  };
}

async function run(info: HeadInfo): Promise<Array<[number, number]>> {
  const config = defaultConfig({ 'blocks-storage.tsdb.dir': dir });
  const store = fakeStore(info);
  const blocks = new IngesterBlocks({ tsdbDir: config.tsdbDir, blocks: config.blocks, now: () => NOW }, store, new QueryableBlocks(() => [], new Logger()), new Logger());
  await blocks.compactAll(false).catch(() => undefined);
  return store.cuts;
}

t.test('a head written a minute ago holding hours-old samples is not idle', async (t) => {
  const cuts = await run({ series: 10, minTime: NOW - 5 * HOUR, maxTime: NOW - 4 * HOUR, lastAppendMs: NOW - 60_000 });
  t.same(cuts, [], 'no cut: it spans under 1.5 block ranges and was just written');
});

t.test('a head nobody wrote to for longer than the idle timeout is cut whole', async (t) => {
  const cuts = await run({ series: 10, minTime: NOW - 5 * HOUR, maxTime: NOW - 4 * HOUR, lastAppendMs: NOW - 2 * HOUR });
  t.ok(cuts.length >= 1, 'cut');
  t.equal(cuts[0]![0], Math.floor((NOW - 5 * HOUR) / (2 * HOUR)) * 2 * HOUR, 'from the range holding its oldest sample');
});
