// meta-syncer.ts keeps the compactor's view of a tenant's blocks: the metas
// of its complete blocks, cached under -compactor.data-dir (a meta.json never
// changes, but a block whose meta.json is gone is being deleted and drops
// out), the blocks marked for deletion, and the garbage collection of blocks
// whose sources another block holds.

import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Bucket, NotFoundError, isNotFound } from '../storage/bucket/bucket.js';
import type { Logger } from '../log.js';
import { listBlockIds } from './bucket-index.js';
import { markForDeletion } from './markers.js';
import { type BlockMeta, MARKERS_DIR, MetaError, deletionMarkKey, metaKey, parseGlobalDeletionMark, parseMeta } from './meta.js';
import type { CompactorMetrics } from './metrics.js';
import { findDuplicates } from './planner.js';

/** TenantMetas are a tenant's complete blocks and which of them are marked for deletion. */
export interface TenantMetas {
  metas: Map<string, BlockMeta>;
  marked: Set<string>;
}

/** MetaSyncer reads block metas through a local cache. */
export class MetaSyncer {
  constructor(
    private readonly bucket: Bucket,
    private readonly dataDir: string,
    private readonly now: () => number,
    private readonly metrics?: CompactorMetrics,
  ) {}

  /**
   * sync reads the metas of the tenant's complete blocks, through the local cache in
   * data-dir (metas never change), and the set marked for deletion.
   */
  async sync(tenant: string): Promise<TenantMetas> {
    const bucket = this.bucket;
    const cacheDir = join(this.dataDir, 'meta-syncer', tenant);
    await mkdir(cacheDir, { recursive: true });
    const ids = await listBlockIds(bucket, tenant);
    const metas = new Map<string, BlockMeta>();
    for (const id of ids) {
      const meta = await this.meta(tenant, id).catch((err: unknown) => {
        if (isNotFound(err) || err instanceof MetaError) return undefined; // partial or corrupt: the cleaner's business
        throw err;
      });
      if (meta !== undefined) metas.set(id, meta);
    }
    // Drop cache entries of blocks gone from the bucket.
    for (const f of await readdir(cacheDir)) {
      if (f.endsWith('.json') && !metas.has(f.slice(0, -5))) await rm(join(cacheDir, f), { force: true });
    }
    const marked = new Set<string>();
    for (const key of await bucket.list(`${tenant}/${MARKERS_DIR}/`)) {
      const id = parseGlobalDeletionMark(key.slice(key.lastIndexOf('/') + 1));
      if (id !== undefined) marked.add(id);
    }
    // A mark only in the block's directory (written by another tool, or a crash between the two
    // writes) is copied to the global location, as Mimir migrates them.
    for (const id of metas.keys()) {
      if (marked.has(id) || !(await bucket.exists(deletionMarkKey(tenant, id)))) continue;
      await markForDeletion(bucket, tenant, id, '', this.now());
      marked.add(id);
    }
    return { metas, marked };
  }

  /**
   * meta reads a block's meta from the local cache, or from the bucket into the cache.
   * meta.json must still exist in the bucket (a block being deleted loses it first): rejects with
   * NotFoundError otherwise.
   */
  async meta(tenant: string, id: string): Promise<BlockMeta> {
    const path = join(this.dataDir, 'meta-syncer', tenant, `${id}.json`);
    if (!(await this.bucket.exists(metaKey(tenant, id)))) throw new NotFoundError(metaKey(tenant, id));
    try {
      return parseMeta(await readFile(path, 'utf8'));
    } catch {
      const text = (await this.bucket.get(metaKey(tenant, id))).toString('utf8');
      const meta = parseMeta(text);
      await mkdir(join(this.dataDir, 'meta-syncer', tenant), { recursive: true });
      await writeFile(path, text);
      return meta;
    }
  }

  /**
   * collectGarbage marks the unmarked blocks whose sources another unmarked block covers; returns
   * the live metas (neither marked nor covered).
   */
  async collectGarbage(tenant: string, tm: TenantMetas, logger: Logger): Promise<BlockMeta[]> {
    const live = [...tm.metas.values()].filter((m) => !tm.marked.has(m.ulid));
    const dups = findDuplicates(live);
    for (const id of dups) {
      logger.info('marking block covered by another block for deletion', { block: id });
      if (await markForDeletion(this.bucket, tenant, id, 'source of a compacted block', this.now())) this.metrics?.blocksMarkedForDeletion.inc({ reason: 'compaction' });
      tm.marked.add(id);
    }
    return live.filter((m) => !dups.has(m.ulid));
  }

  /** forget drops a tenant's cache (its blocks are gone). */
  async forget(tenant: string): Promise<void> {
    await rm(join(this.dataDir, 'meta-syncer', tenant), { recursive: true, force: true });
  }
}
