// compactor.ts is the compactor: every -compactor.compaction-interval, for
// each tenant of the bucket, it syncs the block metas into
// -compactor.data-dir (meta-syncer.ts), marks duplicates (blocks another
// block covers) for deletion, plans merge jobs (planner.ts), and runs each
// job: download the source blocks, merge them in Rust off the main thread,
// upload the result (files first, meta.json last), then mark the sources for
// deletion. Every -compactor.cleanup-interval (and after each compaction) the
// blocks cleaner (cleaner.ts) applies retention and the deletion delays,
// carries out tenant deletions and writes the tenant's bucket index.
//
// Crash safety: until meta.json of the new block is uploaded, the new block
// is partial and invisible, and the sources are untouched; after it, the
// sources are only marked (never deleted in the same run), and a block whose
// sources another block covers is marked on the next run before any bucket
// index lists the two together. So a kill -9 at any point loses nothing and
// never makes a sample visible twice to a reader that skips marked and
// covered blocks.

import { readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Bucket } from '../storage/bucket/bucket.js';
import type { BlockCompactor } from '../storage/native.js';
import { log, type Logger } from '../log.js';
import { type BucketIndex, readBucketIndex } from './bucket-index.js';
import { BlocksCleaner } from './cleaner.js';
import { hasBlocks, listTenants, markForDeletion, readTenantDeletionMark, writeTenantDeletionMark } from './markers.js';
import { DELETION_MARK_FILE, META_FILE, metaKey } from './meta.js';
import { MetaSyncer } from './meta-syncer.js';
import type { CompactorMetrics } from './metrics.js';
import { type Job, jobShardingKey, planCompaction } from './planner.js';

/**
 * CompactorSharding splits the work between compactors as Mimir's split-and-merge sharding
 * strategy: every compactor plans every tenant's jobs, one compactor runs each job (by the job's
 * sharding key), and one compactor per tenant runs its blocks cleaner and writes its bucket index.
 */
export interface CompactorSharding {
  /** ownsTenant: this compactor cleans the tenant and writes its bucket index. */
  ownsTenant(tenant: string): boolean;
  /** ownsJob: this compactor runs the job with this sharding key (jobShardingKey). */
  ownsJob(shardingKey: string): boolean;
}

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

/** Compactor compacts and cleans every tenant of one bucket. */
export class Compactor {
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly syncer: MetaSyncer;
  private readonly cleaner: BlocksCleaner;
  private timers: NodeJS.Timeout[] = [];
  /** queue serialises runs: compaction and cleanup never overlap. */
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;
  private started = false;
  /** sharding splits tenants and jobs with the other compactors (the compactor ring; undefined: everything is this one's). */
  private sharding: CompactorSharding | undefined;
  /** runs counts finished compaction cycles (tests wait on it). */
  runs = 0;

  constructor(private readonly opts: CompactorOptions) {
    this.logger = opts.logger ?? log.with({ component: 'compactor' });
    this.now = opts.now ?? Date.now;
    this.syncer = new MetaSyncer(opts.bucket, opts.dataDir, this.now, opts.metrics);
    this.cleaner = new BlocksCleaner({
      bucket: opts.bucket,
      syncer: this.syncer,
      deletionDelayMs: opts.deletionDelayMs,
      tenantCleanupDelayMs: opts.tenantCleanupDelayMs,
      retentionMs: opts.retentionMs,
      partialDeletionDelayMs: opts.partialDeletionDelayMs,
      now: this.now,
      ...(opts.fault !== undefined ? { fault: opts.fault } : {}),
      ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
    });
  }

  /** shardBy makes this compactor run only its share of the jobs and of the tenants' cleanup (the compactor ring). */
  shardBy(sharding: CompactorSharding): void {
    this.sharding = sharding;
  }

  /** ownershipChanged runs a compaction and a cleanup (once started): jobs and tenants may have moved here. */
  ownershipChanged(): void {
    if (!this.started) return;
    void this.enqueue(() => this.compactAll());
    void this.enqueue(() => this.cleanupAll());
  }

  /** start runs a cleanup and a compaction now, then on their intervals. */
  start(): void {
    this.started = true;
    // Job workspaces left by a process that died mid-job.
    void this.enqueue(() => rm(join(this.opts.dataDir, 'compact'), { recursive: true, force: true }));
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

  /** runOnce runs a compaction then a cleanup of every tenant, after any run in progress (tests). */
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

  /** ownedTenants lists the bucket's tenants this compactor cleans. */
  private async ownedTenants(): Promise<string[]> {
    return (await this.tenants()).filter((t) => this.ownsTenant(t));
  }

  /** ownsTenant says whether this compactor cleans the tenant. */
  private ownsTenant(tenant: string): boolean {
    return this.sharding?.ownsTenant(tenant) ?? true;
  }

  // ---- Compaction ----------------------------------------------------------

  private async compactAll(): Promise<void> {
    const start = this.now();
    const m = this.opts.metrics;
    m?.runsStarted.inc();
    this.logger.info('discovering tenants for compaction');
    let failed = 0;
    // Every compactor plans every tenant (it runs only the jobs it owns); the tenant's owner cleans it.
    for (const tenant of await this.tenants()) {
      if (this.stopping) return;
      try {
        if ((await readTenantDeletionMark(this.opts.bucket, tenant)) !== undefined) continue;
        await this.compactTenant(tenant);
        if (this.ownsTenant(tenant)) await this.cleaner.cleanTenant(tenant, this.logger.with({ tenant }));
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

  /** blockRanges are -compactor.block-ranges in ms. */
  get blockRanges(): readonly number[] {
    return this.opts.blockRanges;
  }

  /** readIndex reads the tenant's bucket index (undefined when there is none). */
  readIndex(tenant: string): Promise<BucketIndex | undefined> {
    return readBucketIndex(this.opts.bucket, tenant);
  }

  /** compactTenant runs the tenant's jobs this compactor owns until none is left to run (the others' jobs and waiting ones are skipped). */
  async compactTenant(tenant: string): Promise<void> {
    const logger = this.logger.with({ tenant });
    const tried = new Set<string>();
    for (let round = 0; round < 64 && !this.stopping; round++) {
      const tm = await this.syncer.sync(tenant);
      const live = await this.syncer.collectGarbage(tenant, tm, logger);
      const jobs = planCompaction(live, this.opts.blockRanges).filter((j) => !tried.has(jobId(j)));
      let ran = 0;
      for (const job of jobs) {
        if (this.stopping) return;
        tried.add(jobId(job));
        const shardingKey = jobShardingKey(tenant, job);
        if (this.sharding !== undefined && !this.sharding.ownsJob(shardingKey)) {
          logger.debug('compaction job skipped: owned by another compactor', { job: job.key, sharding_key: shardingKey });
          continue;
        }
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

  private async cleanupAll(): Promise<void> {
    for (const tenant of await this.ownedTenants()) {
      if (this.stopping) return;
      try {
        await this.cleaner.cleanTenant(tenant, this.logger.with({ tenant }));
      } catch (err) {
        this.logger.error('failed blocks cleanup and maintenance', { tenant, err: (err as Error).message });
      }
    }
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
