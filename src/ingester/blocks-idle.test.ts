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

function fakeStore(info: HeadInfo): BlockLifecycleStore & { calls: Array<{ range: number; cutAll: boolean }> } {
  const calls: Array<{ range: number; cutAll: boolean }> = [];
  return {
    calls,
    headStats: () => [{ tenant: 't', series: info.series, samples: 1, chunks: 1, minTime: info.minTime ?? 0, maxTime: info.maxTime ?? 0 }],
    headInfo: () => (calls.length > 0 ? { series: 0 } : info),
    compactHead: async (_tenant, _dir, range, cutAll) => {
      calls.push({ range, cutAll });
      return { cuts: [] };
    },
    setTenantBlocks: () => [],
  };
}

async function run(info: HeadInfo): Promise<Array<{ range: number; cutAll: boolean }>> {
  const config = defaultConfig({ 'blocks-storage.tsdb.dir': dir });
  const store = fakeStore(info);
  const blocks = new IngesterBlocks({ tsdbDir: config.tsdbDir, blocks: config.blocks, now: () => NOW }, store, new QueryableBlocks(() => [], new Logger()), new Logger());
  await blocks.compactAll(false).catch(() => undefined);
  return store.calls;
}

t.test('a head written a minute ago holding hours-old samples is not idle', async (t) => {
  const calls = await run({ series: 10, minTime: NOW - 5 * HOUR, maxTime: NOW - 4 * HOUR, lastAppendMs: NOW - 60_000 });
  t.same(calls, [], 'no compaction: it spans under 1.5 block ranges and was just written');
});

t.test('a head nobody wrote to for longer than the idle timeout is cut whole', async (t) => {
  const calls = await run({ series: 10, minTime: NOW - 5 * HOUR, maxTime: NOW - 4 * HOUR, lastAppendMs: NOW - 2 * HOUR });
  t.same(calls, [{ range: 2 * HOUR, cutAll: true }], 'one compaction of the whole head');
});

t.test('a busy head spanning more than 1.5 ranges has its due ranges cut', async (t) => {
  const calls = await run({ series: 10, minTime: NOW - 5 * HOUR, maxTime: NOW - HOUR, lastAppendMs: NOW - 1000 });
  t.same(calls, [{ range: 2 * HOUR, cutAll: false }], 'one compaction of the due ranges only');
});
