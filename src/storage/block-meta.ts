// block-meta.ts reads the parts of a block's meta.json (Prometheus TSDB
// format with Thanos's extension) the lifecycle needs, and decides which
// blocks of a set are worth querying: a block whose compaction sources are
// all covered by another block's is a duplicate (its compacted replacement
// exists) and is left out, as Thanos's and Mimir's deduplicate filter does.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** BlockMeta is what the lifecycle reads from meta.json. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats?: { numSamples?: number; numSeries?: number; numChunks?: number };
  compaction?: { level?: number; sources?: string[] };
  thanos?: { source?: string; labels?: Record<string, string> };
}

/** parseBlockMeta parses meta.json text; throws on anything that is not a block meta. */
export function parseBlockMeta(text: string): BlockMeta {
  const m = JSON.parse(text) as Partial<BlockMeta> & { version?: number };
  if (typeof m.ulid !== 'string' || typeof m.minTime !== 'number' || typeof m.maxTime !== 'number') {
    throw new Error('meta.json lacks ulid, minTime or maxTime');
  }
  return m as BlockMeta;
}

/** readBlockMeta reads `<dir>/meta.json`. */
export async function readBlockMeta(dir: string): Promise<BlockMeta> {
  return parseBlockMeta(await readFile(join(dir, 'meta.json'), 'utf8'));
}

/** sourcesOf are the level-1 blocks a block was made of (itself when none are listed). */
export function sourcesOf(m: BlockMeta): string[] {
  const s = m.compaction?.sources;
  return s !== undefined && s.length > 0 ? s : [m.ulid];
}

/**
 * coveredBlocks is the one rule for a block made redundant by another (the ingester's queryable
 * blocks, the store-gateway and the compactor all use it): a block is covered when another block's
 * compaction sources include all of its own, and either have more, or are the same set and the
 * other's ULID is smaller (of identical copies the oldest ULID stays). Returns the covered IDs.
 */
export function coveredBlocks<T>(blocks: readonly T[], id: (b: T) => string, sources: (b: T) => readonly string[]): Set<string> {
  const sets = blocks.map((b) => new Set(sources(b)));
  const ids = blocks.map(id);
  const covered = new Set<string>();
  blocks.forEach((_, i) => {
    const mine = sets[i]!;
    const by = sets.some((other, j) => {
      if (j === i || ids[j] === ids[i] || other.size < mine.size) return false;
      for (const s of mine) if (!other.has(s)) return false;
      return other.size > mine.size || ids[j]! < ids[i]!;
    });
    if (by) covered.add(ids[i]!);
  });
  return covered;
}

/** dedupBlocks keeps one copy per ULID and drops every block another covers (coveredBlocks). */
export function dedupBlocks<T extends { meta: BlockMeta }>(blocks: T[]): T[] {
  const byId = new Map<string, T>();
  for (const b of blocks) if (!byId.has(b.meta.ulid)) byId.set(b.meta.ulid, b);
  const all = [...byId.values()];
  const covered = coveredBlocks(all, (b) => b.meta.ulid, (b) => sourcesOf(b.meta));
  return all.filter((b) => !covered.has(b.meta.ulid));
}
