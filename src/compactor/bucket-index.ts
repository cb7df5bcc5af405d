// bucket-index.ts is the per-tenant bucket index, `<tenant>/bucket-index.json.gz`,
// in Mimir's format: the tenant's complete blocks (partial blocks, without
// meta.json, are left out) and block deletion marks, so readers learn the
// bucket's content with one GET instead of listing it.
//
// The compactor writes it at the end of each run, after it has marked every
// block that another block covers (compaction sources) for deletion; so a
// compacted block never appears in the index without deletion marks for its
// sources, and a reader that skips marked blocks never sees a sample twice.

import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { type Bucket, isNotFound } from '../storage/bucket/bucket.js';
import type { Logger } from '../log.js';
import { MARKERS_DIR, MetaError, type BlockMeta, deletionMarkKey, globalDeletionMarkKey, isUlid, metaKey, parseGlobalDeletionMark, parseMeta } from './meta.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** BUCKET_INDEX_FILE is the object name under the tenant's prefix. */
export const BUCKET_INDEX_FILE = 'bucket-index.json.gz';
/** BUCKET_INDEX_VERSION is Mimir's current index version (2: compactor_shard_id added). */
export const BUCKET_INDEX_VERSION = 2;
/** SEGMENTS_FORMAT_1B6D names chunk segments 000001, 000002, ... */
export const SEGMENTS_FORMAT_1B6D = '1b6d';

/** BucketIndexBlock is one block of the index (JSON field names as Mimir's). */
export interface BucketIndexBlock {
  block_id: string;
  /** min_time, max_time in ms; the block covers [min_time, max_time). */
  min_time: number;
  max_time: number;
  segments_format?: string;
  segments_num?: number;
  /** uploaded_at is when meta.json was written, unix seconds. */
  uploaded_at: number;
  compactor_shard_id?: string;
  source?: string;
  compaction_level?: number;
  labels?: Record<string, string>;
}

/** BucketIndexDeletionMark is one block deletion mark of the index. */
export interface BucketIndexDeletionMark {
  block_id: string;
  /** deletion_time in unix seconds. */
  deletion_time: number;
}

/** BucketIndex is the content of bucket-index.json.gz. */
export interface BucketIndex {
  version: number;
  blocks: BucketIndexBlock[];
  block_deletion_marks: BucketIndexDeletionMark[];
  /** updated_at in unix seconds. */
  updated_at: number;
}

/** bucketIndexKey is the index object of a tenant. */
export const bucketIndexKey = (tenant: string): string => `${tenant}/${BUCKET_INDEX_FILE}`;

/** BucketIndexCorruptedError is an index that does not decompress or parse. */
export class BucketIndexCorruptedError extends Error {
  constructor(tenant: string, cause: string) {
    super(`bucket index corrupted for tenant ${tenant}: ${cause}`);
    this.name = 'BucketIndexCorruptedError';
  }
}

/**
 * readBucketIndex reads a tenant's bucket index: undefined when the tenant has none (never
 * compacted, or deleted); throws BucketIndexCorruptedError when it cannot be decoded.
 */
export async function readBucketIndex(bucket: Bucket, tenant: string): Promise<BucketIndex | undefined> {
  let gz: Buffer;
  try {
    gz = await bucket.get(bucketIndexKey(tenant));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  let idx: BucketIndex;
  try {
    idx = JSON.parse((await gunzipAsync(gz)).toString('utf8')) as BucketIndex;
  } catch (err) {
    throw new BucketIndexCorruptedError(tenant, (err as Error).message);
  }
  if (typeof idx !== 'object' || idx === null || !Array.isArray(idx.blocks)) throw new BucketIndexCorruptedError(tenant, 'no blocks list');
  idx.block_deletion_marks ??= [];
  return idx;
}

/** writeBucketIndex stores the index gzipped (a single atomic put). */
export async function writeBucketIndex(bucket: Bucket, tenant: string, idx: BucketIndex): Promise<void> {
  await bucket.put(bucketIndexKey(tenant), await gzipAsync(Buffer.from(JSON.stringify(idx), 'utf8')));
}

/** deleteBucketIndex removes a tenant's index. */
export async function deleteBucketIndex(bucket: Bucket, tenant: string): Promise<void> {
  await bucket.delete(bucketIndexKey(tenant));
}

/** segmentsOf detects the 1b6d segment numbering from thanos.files. */
function segmentsOf(meta: BlockMeta): { format: string; num: number } | undefined {
  let n = 0;
  for (const f of meta.files) {
    if (!f.startsWith('chunks/')) continue;
    if (f !== `chunks/${String(n + 1).padStart(6, '0')}`) return undefined;
    n++;
  }
  return n > 0 ? { format: SEGMENTS_FORMAT_1B6D, num: n } : undefined;
}

/** indexBlock builds a block entry from its meta and the time meta.json was written (ms). */
export function indexBlock(meta: BlockMeta, uploadedAtMs: number): BucketIndexBlock {
  const b: BucketIndexBlock = { block_id: meta.ulid, min_time: meta.minTime, max_time: meta.maxTime, uploaded_at: Math.floor(uploadedAtMs / 1000) };
  const seg = segmentsOf(meta);
  if (seg !== undefined) {
    b.segments_format = seg.format;
    b.segments_num = seg.num;
  }
  const shard = meta.labels['compactor_shard_id'];
  if (shard !== undefined) b.compactor_shard_id = shard;
  if (meta.source !== '') b.source = meta.source;
  if (meta.level > 0) b.compaction_level = meta.level;
  if (Object.keys(meta.labels).length > 0) b.labels = { ...meta.labels };
  return b;
}

/** PartialBlock is a block directory that is not (or not yet) a complete block. */
export interface PartialBlock {
  id: string;
  /** reason: meta.json missing, or why it could not be read. */
  reason: 'no-meta' | 'corrupted-meta';
  detail?: string;
}

/** UpdatedIndex is a fresh index plus what did not make it in. */
export interface UpdatedIndex {
  index: BucketIndex;
  partials: PartialBlock[];
  /** metas of every block in the index, by ID (read now or found in the sync cache). */
  metas: Map<string, BlockMeta>;
}

/** listBlockIds lists the block directories of a tenant. */
export async function listBlockIds(bucket: Bucket, tenant: string): Promise<string[]> {
  const out: string[] = [];
  for (const key of await bucket.list(`${tenant}/`)) {
    if (!key.endsWith('/')) continue;
    const name = key.slice(tenant.length + 1, -1);
    if (isUlid(name)) out.push(name);
  }
  return out;
}

/** MetaSource reads a block's meta (the compactor's local sync cache, or the bucket). */
export type MetaReader = (id: string) => Promise<BlockMeta>;

/**
 * updateBucketIndex builds the tenant's index from the bucket: blocks of the old index that
 * still exist are kept as they are (blocks are immutable), others have meta.json read; block
 * directories without a readable meta.json are returned as partials. Deletion marks come from
 * the global `markers/` location.
 */
export async function updateBucketIndex(
  bucket: Bucket,
  tenant: string,
  old: BucketIndex | undefined,
  readMeta: MetaReader,
  logger?: Logger,
  nowMs: number = Date.now(),
): Promise<UpdatedIndex> {
  const ids = await listBlockIds(bucket, tenant);
  const oldBlocks = new Map((old?.blocks ?? []).map((b) => [b.block_id, b]));
  const blocks: BucketIndexBlock[] = [];
  const partials: PartialBlock[] = [];
  const metas = new Map<string, BlockMeta>();
  for (const id of ids) {
    let meta: BlockMeta;
    try {
      meta = await readMeta(id);
    } catch (err) {
      if (isNotFound(err)) {
        partials.push({ id, reason: 'no-meta' });
        logger?.warn('skipped partial block when updating bucket index', { block: id });
        continue;
      }
      if (err instanceof MetaError) {
        partials.push({ id, reason: 'corrupted-meta', detail: err.message });
        logger?.error('skipped block with corrupted meta.json when updating bucket index', { block: id, err: err.message });
        continue;
      }
      throw err;
    }
    metas.set(id, meta);
    const kept = oldBlocks.get(id);
    if (kept !== undefined) {
      blocks.push(kept);
      continue;
    }
    const attrs = await bucket.attributes(metaKey(tenant, id));
    blocks.push(indexBlock(meta, attrs.lastModified));
  }
  const marks: BucketIndexDeletionMark[] = [];
  const oldMarks = new Map((old?.block_deletion_marks ?? []).map((m) => [m.block_id, m]));
  for (const key of await bucket.list(`${tenant}/${MARKERS_DIR}/`)) {
    const id = parseGlobalDeletionMark(key.slice(key.lastIndexOf('/') + 1));
    if (id === undefined) continue;
    const kept = oldMarks.get(id);
    if (kept !== undefined) {
      marks.push(kept);
      continue;
    }
    try {
      const m = JSON.parse((await bucket.get(globalDeletionMarkKey(tenant, id))).toString('utf8')) as { deletion_time?: unknown };
      if (typeof m.deletion_time !== 'number') throw new Error('no deletion_time');
      marks.push({ block_id: id, deletion_time: m.deletion_time });
    } catch (err) {
      if (isNotFound(err)) {
        logger?.warn('skipped missing block deletion mark when updating bucket index', { block: id });
        continue;
      }
      logger?.error('skipped corrupted block deletion mark when updating bucket index', { block: id, err: (err as Error).message });
    }
  }
  blocks.sort((a, b) => a.min_time - b.min_time || a.block_id.localeCompare(b.block_id));
  marks.sort((a, b) => a.block_id.localeCompare(b.block_id));
  return {
    index: { version: BUCKET_INDEX_VERSION, blocks, block_deletion_marks: marks, updated_at: Math.floor(nowMs / 1000) },
    partials,
    metas,
  };
}

/** readBucketMeta reads meta.json of a block from the bucket. */
export async function readBucketMeta(bucket: Bucket, tenant: string, id: string): Promise<BlockMeta> {
  return parseMeta((await bucket.get(metaKey(tenant, id))).toString('utf8'));
}

/** hasLocalDeletionMark says whether a block carries `<ULID>/deletion-mark.json`. */
export async function hasLocalDeletionMark(bucket: Bucket, tenant: string, id: string): Promise<boolean> {
  return bucket.exists(deletionMarkKey(tenant, id));
}
