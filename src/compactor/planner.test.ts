import t from 'tap';
import { parseDuration } from '../config/duration.js';
import type { BlockMeta } from './meta.js';
import { findDuplicates, groupKey, jobMaxTime, jobMinTime, parseBlockRanges, planCompaction, rangeStartOf } from './planner.js';
import { coveredBlocks, dedupBlocks } from '../storage/block-meta.js';

const H = 3_600_000;
const RANGES = [2 * H, 12 * H, 24 * H];
let n = 0;

/** block makes a meta with a fresh sortable ID. */
function block(minH: number, maxH: number, extra: Partial<BlockMeta> = {}): BlockMeta {
  const ulid = `01J${String(n++).padStart(23, '0')}`;
  return {
    ulid,
    minTime: minH * H,
    maxTime: maxH * H,
    level: 1,
    sources: [ulid],
    labels: { __org_id__: 'team-a' },
    resolution: 0,
    source: 'ingester',
    files: [],
    stats: { numSamples: 0, numSeries: 0, numChunks: 0 },
    ...extra,
  };
}

const ids = (bs: BlockMeta[]): string[] => bs.map((b) => b.ulid);

t.test('two blocks of one 2h range are merged; a lone block is not', async (t) => {
  const a = block(0, 2);
  const b = block(0, 2);
  const c = block(2, 4);
  const jobs = planCompaction([a, b, c], RANGES);
  t.equal(jobs.length, 1);
  t.same(ids(jobs[0]!.blocks), ids([a, b]));
  t.equal(jobs[0]!.rangeStart, 0);
  t.equal(jobs[0]!.rangeEnd, 2 * H);
  t.match(jobs[0]!.key, /^0@\d+-merge--0-7200000$/);
});

t.test('a 12h range is compacted only once a block past it exists', async (t) => {
  const twoHour = [0, 2, 4, 6, 8, 10].map((h) => block(h, h + 2));
  const partial = twoHour.slice(0, 5);
  t.same(planCompaction(partial, RANGES), [], 'newest range may still receive blocks');
  t.same(planCompaction([...partial, block(12, 14)], RANGES).map((j) => j.blocks.length), [5], 'incomplete but past: compacted');
  t.same(planCompaction(twoHour, RANGES).map((j) => j.blocks.length), [6], 'blocks covering the whole range: compacted');
  const next = block(12, 14);
  const jobs = planCompaction([...twoHour, next], RANGES);
  t.equal(jobs.length, 1);
  t.same(ids(jobs[0]!.blocks), ids(twoHour));
  t.equal(jobMinTime(jobs[0]!), 0);
  t.equal(jobMaxTime(jobs[0]!), 12 * H);
});

t.test('blocks spanning a whole range are compacted without waiting', async (t) => {
  const a = block(0, 12);
  const b = block(0, 12, { level: 2 });
  const jobs = planCompaction([a, b], RANGES);
  t.same(
    jobs.map((j) => [j.rangeStart, j.rangeEnd]),
    [[0, 12 * H]],
  );
});

t.test('a larger range waits for the smaller overlapping job, smallest range runs first', async (t) => {
  const dupA = block(2, 4);
  const dupB = block(2, 4);
  const others = [0, 6, 8, 10].map((h) => block(h, h + 2));
  const later = [block(12, 14), block(12, 14)];
  const jobs = planCompaction([dupA, dupB, ...others, ...later], RANGES);
  // [2h,4h) and [12h,14h) are 2h jobs; the 12h range [0,12h) overlaps the first and waits.
  t.same(
    jobs.map((j) => [j.rangeStart / H, j.rangeEnd / H]),
    [
      [2, 4],
      [12, 14],
    ],
  );
});

t.test('misaligned blocks are left alone; groups split by resolution and labels', async (t) => {
  const across = block(1, 3); // crosses the 2h boundary: no 2h group; fits [0,12h)
  const x = block(0, 2);
  t.same(planCompaction([across, x], [2 * H]), []);
  const y = block(0, 2, { resolution: 300_000 });
  const z = block(0, 2, { labels: { __org_id__: 'other-tenant-label-is-ignored' } });
  t.equal(groupKey(x), groupKey(z), 'the tenant label does not split groups');
  t.not(groupKey(x), groupKey(y));
  t.same(planCompaction([x, y], RANGES), [], 'different resolutions are not merged');
  t.same(planCompaction([x, z], RANGES).length, 1);
});

t.test('rangeStartOf aligns negative times down', async (t) => {
  t.equal(rangeStartOf(5, 10), 0);
  t.equal(rangeStartOf(-1, 10), -10);
  t.equal(rangeStartOf(-10, 10), -10);
});

t.test('findDuplicates: blocks whose sources another block holds', async (t) => {
  const a = block(0, 2);
  const b = block(2, 4);
  const c = block(4, 6);
  const ab = block(0, 4, { level: 2, sources: [a.ulid, b.ulid] });
  t.same([...findDuplicates([a, b, c, ab])].sort(), [a.ulid, b.ulid].sort());
  // Same sources twice (a compaction that ran twice): the smaller ID stays.
  const ab2 = block(0, 4, { level: 2, sources: [a.ulid, b.ulid] });
  t.same([...findDuplicates([ab, ab2])], [ab2.ulid]);
  // Partly overlapping sources are not duplicates.
  const bc = block(2, 6, { level: 2, sources: [b.ulid, c.ulid] });
  t.same([...findDuplicates([ab, bc])], []);
});

t.test('parseBlockRanges', async (t) => {
  t.same(parseBlockRanges('2h0m0s,12h0m0s,24h0m0s', parseDuration), RANGES);
  t.same(parseBlockRanges(' 1h , 2h ', parseDuration), [H, 2 * H]);
  t.throws(() => parseBlockRanges('2h,3h', parseDuration), { message: 'compactor block range period 3h0m0s is not divisible by previous one 2h0m0s' });
  t.throws(() => parseBlockRanges('2x', parseDuration));
});

t.test('one covered-block rule: the compactor deletes exactly the blocks the store-gateway and ingester leave out', async (t) => {
  const H = 3_600_000;
  const mk = (ulid: string, sources: string[], minTime: number, maxTime: number): BlockMeta => ({ ulid, minTime, maxTime, level: sources.length > 1 ? 2 : 1, sources, labels: {}, resolution: 0, source: 'compactor', files: [], stats: { numSamples: 0, numSeries: 0, numChunks: 0 } });
  const metas = [
    mk('01A', ['01A'], 0, 2 * H),
    mk('01B', ['01B'], 2 * H, 4 * H),
    mk('01D', ['01A', '01B'], 0, 4 * H), // a copy of 01C's compaction with a larger ULID
    mk('01C', ['01A', '01B'], 0, 4 * H),
    mk('01E', ['01E'], 4 * H, 6 * H),
  ];
  const dup = findDuplicates(metas);
  t.same([...dup].sort(), ['01A', '01B', '01D'], 'the sources of a compaction, and of two identical compactions the larger ULID');
  const queryable = dedupBlocks(metas.map((m) => ({ meta: { ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime, compaction: { level: m.level, sources: m.sources } } })));
  t.same(queryable.map((b) => b.meta.ulid).sort(), metas.map((m) => m.ulid).filter((id) => !dup.has(id)).sort(), 'the store-gateway keeps what the compactor keeps');
  t.same([...coveredBlocks(metas, (m) => m.ulid, (m) => m.sources)].sort(), [...dup].sort());
});
