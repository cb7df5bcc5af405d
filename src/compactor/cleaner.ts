// cleaner.ts is the compactor's blocks cleaner (Mimir's BlocksCleaner): per
// tenant, it marks blocks past the tenant's retention, deletes blocks marked
// longer ago than -compactor.deletion-delay and partial blocks (marked, or
// untouched past the partial block deletion delay), carries out tenant
// deletions, and writes the tenant's bucket index. Duplicates (blocks another
// block covers) are marked first, so no index lists them unmarked.

import type { Bucket } from '../storage/bucket/bucket.js';
import type { Logger } from '../log.js';
import { type BucketIndex, type PartialBlock, deleteBucketIndex, listBlockIds, readBucketIndex, updateBucketIndex, writeBucketIndex } from './bucket-index.js';
import { deleteBlock, markForDeletion, readTenantDeletionMark, writeTenantDeletionMark } from './markers.js';
import { DELETION_MARK_FILE, MARKERS_DIR } from './meta.js';
import type { MetaSyncer } from './meta-syncer.js';
import type { CompactorMetrics } from './metrics.js';

/** CleanerOptions configure a BlocksCleaner. */
export interface CleanerOptions {
  bucket: Bucket;
  syncer: MetaSyncer;
  /** deletionDelayMs is -compactor.deletion-delay. */
  deletionDelayMs: number;
  /** tenantCleanupDelayMs is -compactor.tenant-cleanup-delay. */
  tenantCleanupDelayMs: number;
  /** retentionMs is the tenant's -compactor.blocks-retention-period (0: keep forever). */
  retentionMs: (tenant: string) => number;
  /** partialDeletionDelayMs is the tenant's -compactor.partial-block-deletion-delay (0: never). */
  partialDeletionDelayMs: (tenant: string) => number;
  now: () => number;
  /** fault marks crash points (see CompactorOptions.fault). */
  fault?: (point: string) => void;
  metrics?: CompactorMetrics;
}

/** BlocksCleaner cleans one tenant at a time. */
export class BlocksCleaner {
  constructor(private readonly opts: CleanerOptions) {}

  private now(): number {
    return this.opts.now();
  }

  /** cleanTenant applies retention and deletion delays, deletes tenants, and writes the bucket index. */
  async cleanTenant(tenant: string, logger: Logger): Promise<void> {
    const { bucket } = this.opts;
    const mark = await readTenantDeletionMark(bucket, tenant);
    if (mark !== undefined) {
      await this.deleteTenantBlocks(tenant, mark, logger);
      return;
    }
    const start = this.now();
    const now = this.now();
    // Duplicates first, so the index never lists a block and its covered sources unmarked.
    await this.opts.syncer.collectGarbage(tenant, await this.opts.syncer.sync(tenant), logger);
    let old: BucketIndex | undefined;
    try {
      old = await readBucketIndex(bucket, tenant);
    } catch (err) {
      logger.warn('found a corrupted bucket index, recreating it', { err: (err as Error).message });
    }
    // Retention: mark blocks wholly older than now - retention.
    const retention = this.opts.retentionMs(tenant);
    let { index, partials } = await updateBucketIndex(bucket, tenant, old, (id) => this.opts.syncer.meta(tenant, id), logger, now);
    if (retention > 0) {
      const marked = new Set(index.block_deletion_marks.map((m) => m.block_id));
      let n = 0;
      for (const b of index.blocks) {
        if (marked.has(b.block_id) || Math.floor(b.max_time / 1000) * 1000 >= now - retention) continue;
        logger.info('applied retention: marking block for deletion', { block: b.block_id, maxTime: b.max_time });
        await markForDeletion(bucket, tenant, b.block_id, `block exceeding retention of ${retention}ms`, now);
        this.opts.metrics?.blocksMarkedForDeletion.inc({ reason: 'retention' });
        n++;
      }
      if (n > 0) ({ index, partials } = await updateBucketIndex(bucket, tenant, index, (id) => this.opts.syncer.meta(tenant, id), logger, now));
    }
    // Blocks marked longer ago than the deletion delay.
    let deleted = 0;
    for (const m of index.block_deletion_marks) {
      if (now - m.deletion_time * 1000 <= this.opts.deletionDelayMs) continue;
      await deleteBlock(bucket, tenant, m.block_id, () => this.opts.fault?.('mid-delete'));
      deleted++;
      this.opts.metrics?.blocksCleaned.inc();
      logger.info('deleted block marked for deletion', { block: m.block_id });
    }
    if (deleted > 0) ({ index, partials } = await updateBucketIndex(bucket, tenant, index, (id) => this.opts.syncer.meta(tenant, id), logger, now));
    await this.cleanPartials(tenant, partials, logger);
    await writeBucketIndex(bucket, tenant, index);
    const m = this.opts.metrics;
    m?.tenantBlocks.set({ user: tenant }, index.blocks.length);
    m?.tenantMarkedBlocks.set({ user: tenant }, index.block_deletion_marks.length);
    m?.tenantPartialBlocks.set({ user: tenant }, partials.length);
    m?.bucketIndexLastUpdate.set({ user: tenant }, index.updated_at);
    logger.info('completed blocks cleanup and maintenance', {
      blocks: index.blocks.length,
      marked: index.block_deletion_marks.length,
      partials: partials.length,
      deleted,
      duration: `${this.now() - start}ms`,
    });
  }

  /**
   * cleanPartials deletes partial blocks carrying a deletion mark now, and marks partial blocks
   * untouched for longer than the tenant's partial block deletion delay.
   */
  private async cleanPartials(tenant: string, partials: PartialBlock[], logger: Logger): Promise<void> {
    const { bucket } = this.opts;
    const delay = this.opts.partialDeletionDelayMs(tenant);
    for (const p of partials) {
      if (p.reason !== 'no-meta') continue;
      const keys = await bucket.list(`${tenant}/${p.id}/`, { recursive: true });
      if (keys.includes(`${tenant}/${p.id}/${DELETION_MARK_FILE}`)) {
        await deleteBlock(bucket, tenant, p.id);
        this.opts.metrics?.blocksCleaned.inc();
        logger.info('deleted partial block marked for deletion', { block: p.id });
        continue;
      }
      if (delay <= 0) continue;
      let newest = 0;
      for (const k of keys) newest = Math.max(newest, (await bucket.attributes(k)).lastModified);
      if (newest < this.now() - delay) {
        logger.info('stale partial block found: marking block for deletion', { block: p.id, last_modified: new Date(newest).toISOString() });
        await markForDeletion(bucket, tenant, p.id, 'stale partial block', this.now());
        this.opts.metrics?.blocksMarkedForDeletion.inc({ reason: 'partial' });
      }
    }
  }

  /** deleteTenantBlocks carries out a tenant deletion: index first, then every block, then (later) the markers. */
  private async deleteTenantBlocks(tenant: string, mark: { deletion_time: number; finished_time?: number }, logger: Logger): Promise<void> {
    const { bucket } = this.opts;
    logger.info('deleting blocks for tenant marked for deletion');
    await deleteBucketIndex(bucket, tenant);
    let deleted = 0;
    for (const id of await listBlockIds(bucket, tenant)) {
      await deleteBlock(bucket, tenant, id);
      deleted++;
      this.opts.metrics?.blocksCleaned.inc();
      logger.info('deleted block', { block: id });
    }
    if (deleted > 0) logger.info('deleted blocks for tenant marked for deletion', { deletedBlocks: deleted });
    for (const g of [this.opts.metrics?.tenantBlocks, this.opts.metrics?.tenantMarkedBlocks, this.opts.metrics?.tenantPartialBlocks, this.opts.metrics?.bucketIndexLastUpdate]) g?.remove({ user: tenant });
    if (deleted > 0 || mark.finished_time === undefined || mark.finished_time === 0) {
      await writeTenantDeletionMark(bucket, tenant, { ...mark, finished_time: Math.floor(this.now() / 1000) });
      return;
    }
    if (this.now() - mark.finished_time * 1000 < this.opts.tenantCleanupDelayMs) return;
    logger.info('cleaning up remaining blocks data for tenant marked for deletion');
    for (const key of await bucket.list(`${tenant}/${MARKERS_DIR}/`, { recursive: true })) await bucket.delete(key);
    await this.opts.syncer.forget(tenant);
  }
}
