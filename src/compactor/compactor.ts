// compactor.ts is the compactor: every -compactor.compaction-interval, for
// each tenant of the bucket, it syncs the block metas into
// -compactor.data-dir, marks duplicates (blocks another block covers) for
// deletion, plans merge jobs (planner.ts), and runs each job: download the
// source blocks, merge them in Rust off the main thread, upload the result
// (files first, meta.json last), then mark the sources for deletion. Every
// -compactor.cleanup-interval (and after each compaction) the cleaner
// applies retention, deletes blocks marked longer ago than
// -compactor.deletion-delay and stale partial blocks, carries out tenant
// deletions, and writes the tenant's bucket index.
//
// Crash safety: until meta.json of the new block is uploaded, the new block
// is partial and invisible, and the sources are untouched; after it, the
// sources are only marked (never deleted in the same run), and a block whose
// sources another block covers is marked on the next run before any bucket
// index lists the two together. So a kill -9 at any point loses nothing and
// never makes a sample visible twice to a reader that skips marked and
// covered blocks.

import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type Bucket, NotFoundError, isNotFound } from '../storage/bucket/bucket.js';
import type { BlockCompactor } from '../storage/native.js';
import { log, type Logger } from '../log.js';
import { type BucketIndex, type PartialBlock, listBlockIds, readBucketIndex, updateBucketIndex, deleteBucketIndex, writeBucketIndex } from './bucket-index.js';
import { deleteBlock, hasBlocks, listTenants, markForDeletion, readTenantDeletionMark, writeTenantDeletionMark } from './markers.js';
import { type BlockMeta, DELETION_MARK_FILE, MARKERS_DIR, META_FILE, MetaError, isUlid, metaKey, parseGlobalDeletionMark, parseMeta } from './meta.js';
import type { CompactorMetrics } from './metrics.js';
import { type Job, findDuplicates, planCompaction } from './planner.js';

/** CompactorOptions configure a Compactor. */
export interface CompactorOptions {
  bucket: Bucket;
  blockCompactor: BlockCompactor;
  /** dataDir is -compactor.data-dir: meta cache and job workspace. */
  dataDir: string;
  /** blockRanges is -compactor.block-ranges in ms, ascending. */
  blockRanges: number[];
  /** compactionIntervalMs is -compactor.compaction-interval. */
  compactionIntervalMs: number;
  /** cleanupIntervalMs is -compactor.cleanup-interval. */
  cleanupIntervalMs: number;
  /** deletionDelayMs is -compactor.deletion-delay. */
  deletionDelayMs: number;
  /** tenantCleanupDelayMs is -compactor.tenant-cleanup-delay. */
  tenantCleanupDelayMs: number;
  /** firstLevelWaitMs is -compactor.first-level-compaction-wait-period. */
  firstLevelWaitMs: number;
  /** retentionMs is the tenant's -compactor.blocks-retention-period (0: keep forever). */
  retentionMs: (tenant: string) => number;
  /** partialDeletionDelayMs is the tenant's -compactor.partial-block-deletion-delay (0: never). */
  partialDeletionDelayMs: (tenant: string) => number;
  logger?: Logger;
  /** now is the clock (tests). */
  now?: () => number;
  /**
   * fault is called at the points where a crash matters (crash tests kill the process there):
   * `upload-before-meta` (some files of the new block uploaded, meta.json not), `after-upload`
   * (new block complete, sources not marked), `between-marks` (one source marked),
   * `mid-delete` (a block's meta.json deleted, its other files not).
   */
  fault?: (point: string) => void;
  /** metrics, when given, are updated as Mimir's compactor and cleaner do. */
  metrics?: CompactorMetrics;
}

/** TenantMetas are a tenant's complete blocks and which of them are marked for deletion. */
interface TenantMetas {
  metas: Map<string, BlockMeta>;
  marked: Set<string>;
}

/** Compactor compacts and cleans every tenant of one bucket. */
export class Compactor {
  private readonly logger: Logger;
  private readonly now: () => number;
  private timers: NodeJS.Timeout[] = [];
  /** queue serialises runs: compaction and cleanup never overlap. */
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;
  /** runs counts finished compaction cycles (tests wait on it). */
  runs = 0;

  constructor(private readonly opts: CompactorOptions) {
    this.logger = opts.logger ?? log.with({ component: 'compactor' });
    this.now = opts.now ?? Date.now;
  }

  /** start runs a cleanup and a compaction now, then on their intervals. */
  start(): void {
    void this.enqueue(() => this.cleanupAll());
    void this.enqueue(() => this.compactAll());
    this.timers.push(setInterval(() => void this.enqueue(() => this.compactAll()), this.opts.compactionIntervalMs));
    this.timers.push(setInterval(() => void this.enqueue(() => this.cleanupAll()), this.opts.cleanupIntervalMs));
    for (const t of this.timers) t.unref();
  }

  /** stop ends the timers and waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.queue;
  }

  /** enqueue runs fn after every queued run; failures are logged, not thrown. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopping) return;
      try {
        await fn();
      } catch (err) {
        this.logger.error('compactor run failed', { err: (err as Error).message });
      }
    });
    return this.queue;
  }

  /** runOnce runs a compaction then a cleanup of every tenant (tests, and the interval). */
  runOnce(): Promise<void> {
    return this.enqueue(async () => {
      await this.compactAll();
      await this.cleanupAll();
    });
  }

  /** tenants lists the tenants with data in the bucket. */
  tenants(): Promise<string[]> {
    return listTenants(this.opts.bucket);
  }

  // ---- Compaction ----------------------------------------------------------

  private async compactAll(): Promise<void> {
    const start = this.now();
    const m = this.opts.metrics;
    m?.runsStarted.inc();
    this.logger.info('discovering tenants for compaction');
    let failed = 0;
    for (const tenant of await this.tenants()) {
      if (this.stopping) return;
      try {
        if ((await readTenantDeletionMark(this.opts.bucket, tenant)) !== undefined) continue;
        await this.compactTenant(tenant);
        await this.cleanTenant(tenant);
      } catch (err) {
        failed++;
        this.logger.error('failed to compact tenant', { tenant, err: (err as Error).message });
      }
    }
    this.runs++;
    if (failed === 0) {
      m?.runsCompleted.inc();
      m?.lastSuccessfulRun.set(this.now() / 1000);
    } else {
      m?.runsFailed.inc();
    }
    this.logger.info(failed === 0 ? 'compaction run completed' : 'compaction run completed with failures', {
      duration: `${this.now() - start}ms`,
      failed_tenants: failed,
    });
  }

  /**
   * syncMetas reads the metas of the tenant's complete blocks, through the local cache in
   * data-dir (metas never change), and the set marked for deletion (global markers).
   */
  private async syncMetas(tenant: string): Promise<TenantMetas> {
    const { bucket } = this.opts;
    const cacheDir = join(this.opts.dataDir, 'meta-syncer', tenant);
    await mkdir(cacheDir, { recursive: true });
    const ids = await listBlockIds(bucket, tenant);
    const metas = new Map<string, BlockMeta>();
    for (const id of ids) {
      const meta = await this.cachedMeta(tenant, id).catch((err: unknown) => {
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
    return { metas, marked };
  }

  /**
   * cachedMeta reads a block's meta from the local cache, or from the bucket into the cache.
   * meta.json must still exist in the bucket (a block being deleted loses it first): rejects with
   * NotFoundError otherwise.
   */
  private async cachedMeta(tenant: string, id: string): Promise<BlockMeta> {
    const path = join(this.opts.dataDir, 'meta-syncer', tenant, `${id}.json`);
    if (!(await this.opts.bucket.exists(metaKey(tenant, id)))) throw new NotFoundError(metaKey(tenant, id));
    try {
      return parseMeta(await readFile(path, 'utf8'));
    } catch {
      const text = (await this.opts.bucket.get(metaKey(tenant, id))).toString('utf8');
      const meta = parseMeta(text);
      await mkdir(join(this.opts.dataDir, 'meta-syncer', tenant), { recursive: true });
      await writeFile(path, text);
      return meta;
    }
  }

  /**
   * collectGarbage marks the unmarked blocks whose sources another unmarked block covers; returns
   * the live metas (neither marked nor covered).
   */
  private async collectGarbage(tenant: string, tm: TenantMetas, logger: Logger): Promise<BlockMeta[]> {
    const live = [...tm.metas.values()].filter((m) => !tm.marked.has(m.ulid));
    const dups = findDuplicates(live);
    for (const id of dups) {
      logger.info('marking block covered by another block for deletion', { block: id });
      if (await markForDeletion(this.opts.bucket, tenant, id, 'source of a compacted block', this.now())) this.opts.metrics?.blocksMarkedForDeletion.inc({ reason: 'compaction' });
      tm.marked.add(id);
    }
    return live.filter((m) => !dups.has(m.ulid));
  }

  /** blockRanges are -compactor.block-ranges in ms. */
  get blockRanges(): readonly number[] {
    return this.opts.blockRanges;
  }

  /** readIndex reads the tenant's bucket index (undefined when there is none). */
  readIndex(tenant: string): Promise<BucketIndex | undefined> {
    return readBucketIndex(this.opts.bucket, tenant);
  }

  /** compactTenant runs the tenant's jobs until the plan is empty (or only waiting jobs are left). */
  async compactTenant(tenant: string): Promise<void> {
    const logger = this.logger.with({ tenant });
    const tried = new Set<string>();
    for (let round = 0; round < 64 && !this.stopping; round++) {
      const tm = await this.syncMetas(tenant);
      const live = await this.collectGarbage(tenant, tm, logger);
      const jobs = planCompaction(live, this.opts.blockRanges).filter((j) => !tried.has(jobId(j)));
      let ran = 0;
      for (const job of jobs) {
        if (this.stopping) return;
        tried.add(jobId(job));
        if (!(await this.waitPeriodElapsed(tenant, job))) {
          logger.info('compaction job skipped: blocks uploaded within the first level compaction wait period', { job: job.key });
          continue;
        }
        await this.runJob(tenant, job, logger);
        ran++;
      }
      if (ran === 0) return;
    }
  }

  /** waitPeriodElapsed applies -compactor.first-level-compaction-wait-period to level-1 jobs. */
  private async waitPeriodElapsed(tenant: string, job: Job): Promise<boolean> {
    const wait = this.opts.firstLevelWaitMs;
    if (wait <= 0 || Math.min(...job.blocks.map((b) => b.level)) > 1) return true;
    for (const b of job.blocks) {
      const attrs = await this.opts.bucket.attributes(metaKey(tenant, b.ulid));
      if (attrs.lastModified > this.now() - wait) return false;
    }
    return true;
  }

  /** runJob downloads the sources, merges them, uploads the result and marks the sources. */
  private async runJob(tenant: string, job: Job, logger: Logger): Promise<void> {
    const { bucket } = this.opts;
    const start = this.now();
    const ids = job.blocks.map((b) => b.ulid);
    logger.info('compaction job started', { job: job.key, blocks: ids.join(','), range_start: job.rangeStart, range_end: job.rangeEnd });
    const workDir = join(this.opts.dataDir, 'compact', tenant, `${job.rangeStart}-${job.rangeEnd}`);
    await rm(workDir, { recursive: true, force: true });
    try {
      const sourceDirs: string[] = [];
      for (const id of ids) {
        const dir = join(workDir, id);
        for (const key of await bucket.list(`${tenant}/${id}/`, { recursive: true })) {
          const rel = key.slice(`${tenant}/${id}/`.length);
          if (rel === DELETION_MARK_FILE) continue;
          await bucket.download(key, join(dir, ...rel.split('/')));
        }
        sourceDirs.push(dir);
      }
      const outDir = join(workDir, 'out');
      const result = await this.opts.blockCompactor.compactBlocks(sourceDirs, outDir, tenant);
      if (result !== null) {
        const blockDir = join(outDir, result.ulid);
        const files = (await listFiles(blockDir)).filter((f) => f !== META_FILE).sort();
        for (const f of files) {
          await bucket.upload(`${tenant}/${result.ulid}/${f}`, join(blockDir, ...f.split('/')));
          this.opts.fault?.('upload-before-meta');
        }
        // meta.json last: from here on the new block is complete.
        await bucket.upload(metaKey(tenant, result.ulid), join(blockDir, META_FILE));
        this.opts.fault?.('after-upload');
      }
      for (const id of ids) {
        if (await markForDeletion(bucket, tenant, id, result === null ? 'compacted into no samples' : `source of compacted block ${result.ulid}`, this.now())) {
          this.opts.metrics?.blocksMarkedForDeletion.inc({ reason: 'compaction' });
        }
        this.opts.fault?.('between-marks');
      }
      this.opts.metrics?.jobsCompleted.inc();
      logger.info('compaction job succeeded', {
        job: job.key,
        blocks: ids.length,
        result: result?.ulid ?? 'none',
        series: result?.numSeries ?? 0,
        samples: result?.numSamples ?? 0,
        level: result?.level ?? 0,
        duration: `${this.now() - start}ms`,
      });
    } catch (err) {
      this.opts.metrics?.jobsFailed.inc();
      logger.error('compaction job failed', { job: job.key, blocks: ids.length, err: (err as Error).message, duration: `${this.now() - start}ms` });
      throw err;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  // ---- Cleanup -------------------------------------------------------------

  private async cleanupAll(): Promise<void> {
    for (const tenant of await this.tenants()) {
      if (this.stopping) return;
      try {
        await this.cleanTenant(tenant);
      } catch (err) {
        this.logger.error('failed blocks cleanup and maintenance', { tenant, err: (err as Error).message });
      }
    }
  }

  /** cleanTenant applies retention and deletion delays, deletes tenants, and writes the bucket index. */
  async cleanTenant(tenant: string): Promise<void> {
    const { bucket } = this.opts;
    const logger = this.logger.with({ tenant });
    const mark = await readTenantDeletionMark(bucket, tenant);
    if (mark !== undefined) {
      await this.deleteTenantBlocks(tenant, mark, logger);
      return;
    }
    const start = this.now();
    const now = this.now();
    // Duplicates first, so the index never lists a block and its covered sources unmarked.
    await this.collectGarbage(tenant, await this.syncMetas(tenant), logger);
    let old: BucketIndex | undefined;
    try {
      old = await readBucketIndex(bucket, tenant);
    } catch (err) {
      logger.warn('found a corrupted bucket index, recreating it', { err: (err as Error).message });
    }
    // Retention: mark blocks wholly older than now - retention.
    const retention = this.opts.retentionMs(tenant);
    let { index, partials } = await updateBucketIndex(bucket, tenant, old, (id) => this.cachedMeta(tenant, id), logger, now);
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
      if (n > 0) ({ index, partials } = await updateBucketIndex(bucket, tenant, index, (id) => this.cachedMeta(tenant, id), logger, now));
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
    if (deleted > 0) ({ index, partials } = await updateBucketIndex(bucket, tenant, index, (id) => this.cachedMeta(tenant, id), logger, now));
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
    await rm(join(this.opts.dataDir, 'meta-syncer', tenant), { recursive: true, force: true });
  }

  // ---- Tenant deletion API ---------------------------------------------------

  /** requestTenantDeletion writes the tenant deletion mark; the cleaner deletes the blocks. */
  async requestTenantDeletion(tenant: string): Promise<void> {
    await writeTenantDeletionMark(this.opts.bucket, tenant, { deletion_time: Math.floor(this.now() / 1000) });
    this.logger.info('tenant deletion mark in blocks storage created', { tenant });
  }

  /** tenantBlocksDeleted says whether no block of the tenant is left in the bucket. */
  async tenantBlocksDeleted(tenant: string): Promise<boolean> {
    return !(await hasBlocks(this.opts.bucket, tenant));
  }
}

/** jobId names a job by its blocks (the key stays the same when blocks change). */
function jobId(j: Job): string {
  return j.blocks
    .map((b) => b.ulid)
    .sort()
    .join(',');
}

/** listFiles lists the files below dir as `/`-separated relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out;
}

/** isBlockId re-exports the ULID check for the HTTP layer. */
export { isUlid as isBlockId };
