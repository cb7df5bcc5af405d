// blocks.ts is the ingester's block lifecycle, as Mimir's ingester runs it
// over each tenant's TSDB:
//
//  - head compaction: every -blocks-storage.tsdb.head-compaction-interval a
//    head spanning more than 1.5 block ranges has its oldest range cut into
//    a block `<tsdb-dir>/<tenant>/<ULID>/`; the block joins the queried set,
//    then the head is truncated and the WAL checkpointed (in that order, so
//    every sample is always in the head, the WAL or a queried block; the
//    native compactHead runs the whole sequence as one call). An
//    idle head (nothing appended for the idle timeout, wall clock) and a flush cut
//    everything;
//  - shipping: every -blocks-storage.tsdb.ship-interval new local blocks are
//    uploaded to the bucket (files first, meta.json last) and recorded in
//    `<tenant>/shipper.json`;
//  - local retention: a shipped block older than
//    -blocks-storage.tsdb.retention-period is removed once the bucket copy
//    is served (by this process's store-gateway when it runs one).
//
// One operation runs at a time (a promise chain), so cuts, uploads and
// deletions never interleave.

import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { BlocksConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import { readBlockMeta } from '../storage/block-meta.js';
import type { BlockLifecycleStore } from '../storage/native.js';
import type { BlockRef, QueryableBlocks } from '../storage/queryable-blocks.js';

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** ShipperFile is `<tenant>/shipper.json`: the blocks uploaded and when (unix ms). */
interface ShipperFile {
  version: 1;
  uploaded: Record<string, number>;
}

/** TenantBlocksInfo is one tenant's state for the ingester pages. */
export interface TenantBlocksInfo {
  tenant: string;
  series: number;
  minTime?: number;
  maxTime?: number;
  blocks: Array<BlockRef & { uploadedAt?: number }>;
}

/** IngesterBlocksOptions configure the lifecycle. */
export interface IngesterBlocksOptions {
  tsdbDir: string;
  blocks: BlocksConfig;
  /** bucket receives shipped blocks; none: no shipping. */
  bucket?: Bucket;
  /** servedFromBucket says whether a shipped block is served by a store-gateway (local copy deletable). */
  servedFromBucket?: (tenant: string, ulid: string) => boolean;
  now?: () => number;
}

/** IngesterBlocks runs the cutting, shipping and local retention of every tenant. */
export class IngesterBlocks {
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly local = new Map<string, BlockRef[]>();
  private readonly now: () => number;

  constructor(
    private readonly opts: IngesterBlocksOptions,
    private readonly store: BlockLifecycleStore,
    private readonly queryable: QueryableBlocks,
    private readonly logger: Logger,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** start loads the local blocks (they become queryable) and starts the periodic work. */
  async start(): Promise<void> {
    await this.serial(async () => {
      for (const tenant of await this.tenantDirs()) await this.loadLocal(tenant);
    });
    const { headCompactionIntervalMs, shipIntervalMs } = this.opts.blocks;
    if (headCompactionIntervalMs > 0) {
      this.timers.push(setInterval(() => void this.compactAll(false).catch((err: unknown) => this.logger.error('head compaction failed', { err })), headCompactionIntervalMs));
    }
    if (shipIntervalMs > 0 && this.opts.bucket !== undefined) {
      this.timers.push(
        setInterval(() => {
          void this.shipAll()
            .then(() => this.applyRetention())
            .catch((err: unknown) => this.logger.error('shipping blocks failed', { err }));
        }, shipIntervalMs),
      );
    }
    for (const t of this.timers) t.unref();
  }

  /** stop ends the periodic work and waits for the running operation. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.chain.catch(() => undefined);
  }

  /** flush cuts the whole head of the tenants (all when none) into blocks and ships them. */
  async flush(tenants?: string[]): Promise<void> {
    await this.compactAll(true, tenants);
    await this.shipAll(tenants);
  }

  /** compactAll cuts the blocks that are due (all of each head when forced). */
  compactAll(force: boolean, only?: string[]): Promise<void> {
    return this.serial(async () => {
      const tenants = only ?? this.store.headStats().map((s) => s.tenant);
      for (const tenant of tenants) await this.compactTenant(tenant, force);
    });
  }

  /** shipAll uploads the local blocks not in the bucket yet. */
  shipAll(only?: string[]): Promise<void> {
    return this.serial(async () => {
      const bucket = this.opts.bucket;
      if (bucket === undefined) return;
      for (const tenant of only ?? [...this.local.keys()]) await this.shipTenant(bucket, tenant);
    });
  }

  /** applyRetention removes shipped local blocks past the retention period. */
  applyRetention(): Promise<void> {
    return this.serial(async () => {
      for (const tenant of [...this.local.keys()]) await this.retainTenant(tenant);
    });
  }

  /** info describes every tenant with a head or local blocks, for the pages. */
  async info(): Promise<TenantBlocksInfo[]> {
    const heads = new Map(this.store.headStats().map((s) => [s.tenant, s]));
    const tenants = [...new Set([...heads.keys(), ...this.local.keys()])].sort();
    const out: TenantBlocksInfo[] = [];
    for (const tenant of tenants) {
      const h = this.store.headInfo(tenant);
      const shipped = await this.readShipper(tenant);
      out.push({
        tenant,
        series: h?.series ?? 0,
        ...(h?.minTime != null ? { minTime: h.minTime } : {}),
        ...(h?.maxTime != null ? { maxTime: h.maxTime } : {}),
        blocks: (this.local.get(tenant) ?? []).map((b) => ({ ...b, ...(shipped.uploaded[b.meta.ulid] !== undefined ? { uploadedAt: shipped.uploaded[b.meta.ulid] } : {}) })),
      });
    }
    return out;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private tenantDir(tenant: string): string {
    return join(this.opts.tsdbDir, tenant);
  }

  private async tenantDirs(): Promise<string[]> {
    try {
      return (await readdir(this.opts.tsdbDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** loadLocal rescans a tenant's block directories and publishes them. */
  private async loadLocal(tenant: string): Promise<void> {
    const dir = this.tenantDir(tenant);
    const blocks: BlockRef[] = [];
    let entries: string[] = [];
    try {
      entries = await readdir(dir);
    } catch {
      // No directory: no blocks.
    }
    for (const name of entries) {
      if (!ULID_RE.test(name)) continue;
      try {
        blocks.push({ dir: join(dir, name), meta: await readBlockMeta(join(dir, name)) });
      } catch (err) {
        this.logger.error('local block is unreadable, it is not queried', { tenant, block: name, err });
      }
    }
    if (blocks.length === 0 && !this.local.has(tenant)) return;
    this.local.set(tenant, blocks);
    this.queryable.set('ingester', tenant, blocks);
  }

  /**
   * compactTenant cuts a tenant's due blocks, publishes them, truncates the head and checkpoints
   * the WAL: one native call keeps that order (crash-safe at every step), then the new blocks
   * join this lifecycle's local set.
   */
  private async compactTenant(tenant: string, force: boolean): Promise<void> {
    const range = this.opts.blocks.blockRangeMs;
    const idleMs = this.opts.blocks.headCompactionIdleTimeoutMs;
    const info = this.store.headInfo(tenant);
    if (info === null || info.minTime == null || info.maxTime == null || info.series === 0) return;
    // Idle as Mimir means it: nothing appended for a while (wall clock), whatever the samples'
    // times, so a backfill of old samples is not cut under the writers' feet.
    const idle = idleMs > 0 && info.lastAppendMs != null && this.now() - info.lastAppendMs > idleMs;
    const cutAll = force || idle;
    if (!cutAll && info.maxTime - info.minTime <= range * 1.5) return;
    await mkdir(this.tenantDir(tenant), { recursive: true });
    const done = await this.store.compactHead(tenant, this.tenantDir(tenant), range, cutAll);
    if (done.cuts.some((c) => c.block != null)) await this.loadLocal(tenant);
    for (const c of done.cuts) {
      const b = c.block;
      if (b != null) {
        this.logger.info('head compacted into a block', {
          tenant,
          block: b.ulid,
          min_time: new Date(b.minTime).toISOString(),
          max_time: new Date(b.maxTime).toISOString(),
          series: b.numSeries,
          samples: b.numSamples,
          duration: `${c.durationMs.toFixed(1)}ms`,
        });
      }
      const tr = c.truncated;
      this.logger.debug('head truncated', { tenant, before: new Date(c.rangeMaxTime).toISOString(), series_removed: tr.seriesRemoved, samples_removed: tr.samplesRemoved });
    }
    const cp = done.checkpoint;
    if (cp != null) {
      this.logger.info('WAL checkpoint written', { tenant, checkpoint: cp.index, series: cp.series, samples: cp.samples, bytes: cp.bytes, segments_deleted: cp.segmentsDeleted });
    }
  }

  private async readShipper(tenant: string): Promise<ShipperFile> {
    try {
      const f = JSON.parse(await readFile(join(this.tenantDir(tenant), 'shipper.json'), 'utf8')) as ShipperFile;
      if (f.version === 1 && typeof f.uploaded === 'object' && f.uploaded !== null) return f;
    } catch {
      // Missing or unreadable: nothing shipped yet (uploads are idempotent).
    }
    return { version: 1, uploaded: {} };
  }

  private async writeShipper(tenant: string, f: ShipperFile): Promise<void> {
    const path = join(this.tenantDir(tenant), 'shipper.json');
    await writeFile(`${path}.tmp`, JSON.stringify(f));
    await rename(`${path}.tmp`, path);
  }

  /** shipTenant uploads each unshipped block: every file, meta.json last. */
  private async shipTenant(bucket: Bucket, tenant: string): Promise<void> {
    const shipped = await this.readShipper(tenant);
    for (const b of this.local.get(tenant) ?? []) {
      const id = b.meta.ulid;
      if (shipped.uploaded[id] !== undefined) continue;
      const began = process.hrtime.bigint();
      const files = (await listFiles(b.dir)).filter((f) => f !== 'meta.json');
      let bytes = 0;
      for (const f of files) {
        await bucket.upload(`${tenant}/${id}/${f}`, join(b.dir, ...f.split('/')));
        bytes += (await stat(join(b.dir, ...f.split('/')))).size;
      }
      await bucket.upload(`${tenant}/${id}/meta.json`, join(b.dir, 'meta.json'));
      shipped.uploaded[id] = this.now();
      await this.writeShipper(tenant, shipped);
      this.logger.info('block uploaded', { tenant, block: id, files: files.length + 1, bytes, bucket: bucket.name, duration: `${(Number(process.hrtime.bigint() - began) / 1e6).toFixed(1)}ms` });
    }
  }

  /** retainTenant removes local blocks past retention that are safe in the bucket. */
  private async retainTenant(tenant: string): Promise<void> {
    const retention = this.opts.blocks.retentionPeriodMs;
    if (retention <= 0) return;
    const shipped = await this.readShipper(tenant);
    const shipping = this.opts.bucket !== undefined;
    let removed = false;
    for (const b of this.local.get(tenant) ?? []) {
      const id = b.meta.ulid;
      const uploadedAt = shipped.uploaded[id];
      if (shipping) {
        if (uploadedAt === undefined || this.now() - uploadedAt < retention) continue;
        if (this.opts.servedFromBucket !== undefined && !this.opts.servedFromBucket(tenant, id)) continue;
      } else if (this.now() - b.meta.maxTime < retention) {
        continue;
      }
      await rm(b.dir, { recursive: true, force: true });
      delete shipped.uploaded[id];
      removed = true;
      this.logger.info('local block removed after retention', { tenant, block: id, shipped: uploadedAt !== undefined });
    }
    if (removed) {
      await this.writeShipper(tenant, shipped);
      await this.loadLocal(tenant);
    }
  }
}

/** listFiles lists the files below dir as `/`-separated relative paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}
