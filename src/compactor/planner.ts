// planner.ts decides what to compact, following Mimir's split-and-merge
// compactor run with a single shard (merge stage only):
//
// - blocks are grouped by downsampling resolution and external labels
//   (leaving out the shard ID and the deprecated tenant/ingester labels);
// - for each block range (-compactor.block-ranges, smallest first), blocks
//   are grouped by the aligned range they fall wholly inside; a group of two
//   or more blocks is a merge job, unless a job already planned for a
//   smaller range overlaps it (that one runs first);
// - a job whose range ends after the newest block ends, and whose blocks do
//   not cover the whole range, is dropped: that range may still receive
//   blocks (so the newest 12h range waits until a block past it exists);
// - jobs run smallest range first, oldest first.
//
// Duplicates, blocks whose compaction sources are all inside another block
// (left behind by a compaction that did not get to mark its sources), are
// found first and not planned; the compactor marks them for deletion.

import type { BucketIndexBlock } from './bucket-index.js';
import type { BlockMeta } from './meta.js';
import { coveredBlocks } from '../storage/block-meta.js';

/** IGNORED_GROUP_LABELS are external labels that do not split compaction groups. */
export const IGNORED_GROUP_LABELS: ReadonlySet<string> = new Set(['compactor_shard_id', '__org_id__', '__ingester_id__']);

/** Job is one planned compaction: blocks of one group merged into one block. */
export interface Job {
  /** key identifies the job as Mimir's group key does: `<group>-merge--<rangeStart>-<rangeEnd>`. */
  key: string;
  /** rangeStart, rangeEnd are the aligned compaction range (ms). */
  rangeStart: number;
  rangeEnd: number;
  /** blocks to merge, by min time. */
  blocks: BlockMeta[];
}

/**
 * jobShardingKey is the key a job is hashed by onto the compactor ring (Mimir's job shardingKey,
 * `<tenant>-<stage>-<rangeStart>-<rangeEnd>-<shardID>`): every job here is of the merge stage
 * with a single shard, whose ID is empty.
 */
export function jobShardingKey(tenant: string, job: Job): string {
  return `${tenant}-merge-${job.rangeStart}-${job.rangeEnd}-`;
}

/** jobMinTime, jobMaxTime span the job's blocks. */
export const jobMinTime = (j: Job): number => Math.min(...j.blocks.map((b) => b.minTime));
export const jobMaxTime = (j: Job): number => Math.max(...j.blocks.map((b) => b.maxTime));

/** fnv1a64 hashes a string (FNV-1a, 64 bits) for group keys. */
function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** groupKey is `<resolution>@<hash of the external labels>` without the ignored labels. */
export function groupKey(meta: BlockMeta): string {
  const labels = Object.entries(meta.labels)
    .filter(([k]) => !IGNORED_GROUP_LABELS.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${meta.resolution}@${fnv1a64(labels.map(([k, v]) => `${k}\xff${v}\xff`).join(''))}`;
}

/** rangeStart aligns a block's min time down to a multiple of tr (as Prometheus's TSDB does). */
export function rangeStartOf(minTime: number, tr: number): number {
  return minTime >= 0 ? tr * Math.floor(minTime / tr) : tr * Math.trunc((minTime - tr + 1) / tr);
}

/**
 * findDuplicates returns the IDs of blocks (of the same group) that another block covers
 * (coveredBlocks, the rule the store-gateway and ingester also apply): their data is in that
 * block already.
 */
export function findDuplicates(metas: readonly BlockMeta[]): Set<string> {
  const dup = new Set<string>();
  const byGroup = new Map<string, BlockMeta[]>();
  for (const m of metas) {
    const k = groupKey(m);
    const list = byGroup.get(k) ?? [];
    list.push(m);
    byGroup.set(k, list);
  }
  for (const list of byGroup.values()) {
    for (const id of coveredBlocks(list, (m) => m.ulid, (m) => m.sources)) dup.add(id);
  }
  return dup;
}

interface Group {
  rangeStart: number;
  rangeEnd: number;
  blocks: BlockMeta[];
}

/** groupByRange groups blocks sorted by min time by the aligned range of size tr they fit in wholly. */
function groupByRange(blocks: readonly BlockMeta[], tr: number): Group[] {
  const out: Group[] = [];
  for (let i = 0; i < blocks.length; ) {
    const m = blocks[i]!;
    const start = rangeStartOf(m.minTime, tr);
    const g: Group = { rangeStart: start, rangeEnd: start + tr, blocks: [] };
    if (m.maxTime > g.rangeEnd) {
      // Not aligned to this range (or larger than it): not part of any group.
      i++;
      continue;
    }
    for (; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (b.minTime >= g.rangeEnd) break;
      if (b.maxTime > g.rangeEnd) continue;
      g.blocks.push(b);
    }
    if (g.blocks.length > 0) out.push(g);
  }
  return out;
}

/**
 * planCompaction returns the merge jobs for the blocks (blocks marked for deletion and
 * duplicates already left out), ranges in ms sorted ascending, in execution order.
 */
export function planCompaction(metas: readonly BlockMeta[], ranges: readonly number[]): Job[] {
  if (metas.length === 0 || ranges.length === 0) return [];
  const groups = new Map<string, BlockMeta[]>();
  for (const m of metas) {
    const k = groupKey(m);
    const list = groups.get(k) ?? [];
    list.push(m);
    groups.set(k, list);
  }
  let jobs: Job[] = [];
  for (const [key, list] of groups) {
    const sorted = [...list].sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1));
    const planned: Job[] = [];
    for (const tr of ranges) {
      for (const g of groupByRange(sorted, tr)) {
        if (g.blocks.length < 2) continue;
        // A job overlapping one planned for a smaller range waits for it.
        if (planned.some((p) => g.rangeStart < p.rangeEnd && p.rangeStart < g.rangeEnd)) continue;
        planned.push({ key: `${key}-merge--${g.rangeStart}-${g.rangeEnd}`, rangeStart: g.rangeStart, rangeEnd: g.rangeEnd, blocks: g.blocks });
      }
    }
    // Do not compact the newest range early: keep a job only if its range ends before the
    // newest block of the group does, or its blocks already span the whole range.
    const highest = Math.max(...sorted.map((b) => b.maxTime));
    jobs = jobs.concat(planned.filter((j) => j.rangeEnd <= highest || jobMaxTime(j) - jobMinTime(j) === j.rangeEnd - j.rangeStart));
  }
  return jobs.sort((a, b) => {
    const la = a.rangeEnd - a.rangeStart;
    const lb = b.rangeEnd - b.rangeStart;
    if (la !== lb) return la - lb;
    if (jobMinTime(a) !== jobMinTime(b)) return jobMinTime(a) - jobMinTime(b);
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}

/** parseBlockRanges parses -compactor.block-ranges (comma-separated durations in ms, via parseDuration). */
export function parseBlockRanges(text: string, parseDuration: (s: string) => number): number[] {
  const out = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseDuration(s));
  for (let i = 1; i < out.length; i++) {
    if (out[i]! % out[i - 1]! !== 0) throw new Error(`compactor block range period ${goDuration(out[i]!)} is not divisible by previous one ${goDuration(out[i - 1]!)}`);
  }
  return out;
}

/** goDuration renders whole seconds as Go's time.Duration does ("2h0m0s", "30m0s", "45s"). */
function goDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${m}m${s % 60}s`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

/**
 * metasFromIndex turns a bucket index into metas for planning, blocks marked for deletion left
 * out (the index has no compaction sources, so duplicates are not detected: as Mimir's estimate).
 */
export function metasFromIndex(idx: { blocks: BucketIndexBlock[]; block_deletion_marks: Array<{ block_id: string }> }): BlockMeta[] {
  const marked = new Set(idx.block_deletion_marks.map((m) => m.block_id));
  return idx.blocks
    .filter((b) => !marked.has(b.block_id))
    .map((b) => ({
      ulid: b.block_id,
      minTime: b.min_time,
      maxTime: b.max_time,
      level: b.compaction_level ?? 1,
      sources: [b.block_id],
      labels: { ...(b.labels ?? {}) },
      resolution: 0,
      source: b.source ?? '',
      files: [],
      stats: { numSamples: 0, numSeries: 0, numChunks: 0 },
    }));
}
