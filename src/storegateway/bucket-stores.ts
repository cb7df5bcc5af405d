// bucket-stores.ts is the store-gateway: every
// -blocks-storage.bucket-store.sync-interval it lists each tenant's blocks
// in the bucket, skips the ones being uploaded (no meta.json yet), marked
// for deletion or replaced by a compacted block, and hands the rest to the
// queried block set. A filesystem bucket's blocks are served where they
// are (the native core maps their index and chunk files). An S3 bucket's
// are read in place too, as Mimir's store-gateway reads them: the sync dir
// (-blocks-storage.bucket-store.sync-dir) keeps each block's meta.json,
// tombstones, a bucket-block.json naming its files and their sizes, and its
// index-header (the index's symbol and postings offset tables, fetched once);
// postings, series and chunks are read from the bucket by byte range when a
// query selects them. Only a bucket the native core cannot reach itself (S3
// credentials that only the AWS SDK's provider chain resolves) has its
// blocks copied whole. Index lookups go through the native postings code
// like the head's.

import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { parseBlockMeta, dedupBlocks, sourcesOf, type BlockMeta } from '../storage/block-meta.js';
import { type Bucket, isNotFound } from '../storage/bucket/bucket.js';
import { readBucketIndex } from '../compactor/bucket-index.js';
import type { BlockSeriesQuerier, BucketBlockReader } from '../storage/native.js';
import type { BlockRef, QueryableBlocks } from '../storage/queryable-blocks.js';
import type { BlockHints, Selection } from '../internal/frame.js';
import type { BlockSelection } from '../internal/ingester-server.js';
import type { LabelMatcher } from '../model/matchers.js';
import { readMetadata, type MetadataRead, type MetadataReadAnswer } from '../querier/metadata.js';
import type { RangeCaches } from './cache-config.js';

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Files of a block that queries read. */
const BLOCK_FILE_RE = /^(meta\.json|index|tombstones|chunks\/\d{6})$/;

/** DiscoveryOptions say how a tenant's blocks are found. */
export interface DiscoveryOptions {
  /** bucketIndexMaxStaleMs: a younger bucket index lists the blocks; an older or missing one makes the bucket listed. */
  bucketIndexMaxStaleMs: number;
  /** metas caches meta.json by `<tenant>/<ULID>` (blocks never change). */
  metas?: Map<string, BlockMeta>;
  /**
   * uploaded, when given, is filled with each block's upload time (ms) by `<tenant>/<ULID>`: the
   * bucket index's uploaded_at, or the last-modified time of a listed block's meta.json.
   */
  uploaded?: Map<string, number>;
}

/** DEFAULT_DISCOVERY trusts a bucket index up to an hour old (Mimir's bucket-index max stale period). */
const DEFAULT_DISCOVERY: DiscoveryOptions = { bucketIndexMaxStaleMs: 3_600_000 };

/**
 * indexedMetas are a tenant's blocks as its bucket index (bucket-index.json.gz, written by the
 * compactor) lists them, blocks with a deletion mark left out, each block's meta.json read once;
 * undefined when there is no index, it is unreadable, older than the max stale period, or names a
 * block that is gone.
 */
async function indexedMetas(bucket: Bucket, tenant: string, logger: Logger, opts: DiscoveryOptions): Promise<BlockMeta[] | undefined> {
  let idx;
  try {
    idx = await readBucketIndex(bucket, tenant);
  } catch (err) {
    logger.warn('bucket index unreadable, the bucket is listed instead', { tenant, err });
    return undefined;
  }
  if (idx === undefined || Date.now() - idx.updated_at * 1000 > opts.bucketIndexMaxStaleMs) return undefined;
  const marked = new Set(idx.block_deletion_marks.map((m) => m.block_id));
  const metas: BlockMeta[] = [];
  for (const b of idx.blocks) {
    if (marked.has(b.block_id)) continue;
    const meta = await readMeta(bucket, tenant, b.block_id, logger, opts.metas);
    // A block deleted since the index was written: the index is behind the bucket (what
    // replaced the block may not be in it either), so the bucket is listed instead.
    if (meta === null) return undefined;
    if (meta !== undefined) metas.push(meta);
    opts.uploaded?.set(`${tenant}/${b.block_id}`, b.uploaded_at * 1000);
  }
  return metas;
}

/**
 * readMeta reads a block's meta.json: null when it is missing, undefined (logged) when it is
 * unreadable. With a cache it is parsed once per block (a block never changes); later calls only
 * check that it is still there.
 */
async function readMeta(bucket: Bucket, tenant: string, id: string, logger: Logger, cache?: Map<string, BlockMeta>): Promise<BlockMeta | null | undefined> {
  const key = `${tenant}/${id}`;
  const cached = cache?.get(key);
  if (cached !== undefined) return (await bucket.exists(`${key}/meta.json`)) ? cached : null;
  try {
    const meta = parseBlockMeta((await bucket.get(`${key}/meta.json`)).toString('utf8'));
    cache?.set(key, meta);
    return meta;
  } catch (err) {
    if (isNotFound(err)) return null;
    logger.warn('block meta.json in the bucket is unreadable, block skipped', { tenant, block: id, err });
    return undefined;
  }
}

/**
 * bucketMetas lists a tenant's complete, undeleted blocks in the bucket: blocks without meta.json
 * (being uploaded) and blocks with a deletion mark (global under markers/ or in the block) are left out.
 */
async function bucketMetas(bucket: Bucket, tenant: string, logger: Logger, cache?: Map<string, BlockMeta>, uploaded?: Map<string, number>): Promise<BlockMeta[]> {
  const entries = await bucket.list(`${tenant}/`);
  const marked = new Set<string>();
  for (const k of await bucket.list(`${tenant}/markers/`).catch(() => [] as string[])) {
    const m = /([0-9A-HJKMNP-TV-Z]{26})-deletion-mark\.json$/.exec(k);
    if (m !== null) marked.add(m[1]!);
  }
  const metas: BlockMeta[] = [];
  for (const k of entries) {
    const id = k.slice(tenant.length + 1, -1);
    if (!k.endsWith('/') || !ULID_RE.test(id) || marked.has(id)) continue;
    if (await bucket.exists(`${tenant}/${id}/deletion-mark.json`)) continue;
    // No meta.json: still being uploaded (or a failed upload) - not a block yet.
    const meta = await readMeta(bucket, tenant, id, logger, cache);
    if (meta === null || meta === undefined) continue;
    metas.push(meta);
    const key = `${tenant}/${id}`;
    if (uploaded !== undefined && !uploaded.has(key)) {
      try {
        uploaded.set(key, (await bucket.attributes(`${key}/meta.json`)).lastModified);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  return metas;
}

/**
 * visibleBucketBlocks is the store-gateway's rule for which of a tenant's bucket blocks are queried:
 * the complete, undeleted ones (from the bucket index, as Mimir's store-gateway finds them, or by
 * listing the bucket when there is no fresh index) not covered by a compacted block (dedupBlocks).
 * Blocks shipped after the compactor last wrote the index wait for its next run; the ingesters
 * serve their samples meanwhile, as in Mimir.
 */
export async function visibleBucketBlocks(bucket: Bucket, tenant: string, logger: Logger, opts: DiscoveryOptions = DEFAULT_DISCOVERY): Promise<Array<{ meta: BlockMeta }>> {
  const metas = (await indexedMetas(bucket, tenant, logger, opts)) ?? (await bucketMetas(bucket, tenant, logger, opts.metas, opts.uploaded));
  return dedupBlocks(metas.map((meta) => ({ meta })));
}

/**
 * registerBucketReadMetrics exposes the ranged reads of bucket blocks (process totals, read at
 * scrape time): Thanos's objstore operation count for get_range and the bytes those fetched.
 */
export function registerBucketReadMetrics(registry: Registry, reader: BucketBlockReader): void {
  new Gauge({
    name: 'thanos_objstore_bucket_operations_total',
    help: 'Total number of all attempted operations against a bucket.',
    labelNames: ['bucket', 'operation'],
    registers: [registry],
    collect() {
      this.set({ bucket: 'store-gateway', operation: 'get_range' }, reader.bucketReadStats().requests);
    },
  });
  new Gauge({
    name: 'cortex_bucket_store_get_range_fetched_bytes_total',
    help: 'Bytes of block index and chunk files the store-gateway fetched from the bucket by range.',
    registers: [registry],
    collect() {
      this.set(reader.bucketReadStats().bytes);
    },
  });
}

/**
 * NativeBlockSelect is the native core's selection from a tenant's named blocks only, with the
 * ULIDs of those it read (selectBlockSamplesAsync).
 */
export type NativeBlockSelect = (tenant: string, blocks: string[], matchers: LabelMatcher[], mint: number, maxt: number) => Promise<{ samples: Selection; queriedBlocks: string[] }>;

/** overlaps says whether a block has samples in [mint, maxt] (its maxTime is exclusive), as the native core decides it. */
function overlaps(m: BlockMeta, mint: number, maxt: number): boolean {
  return m.minTime <= maxt && m.maxTime > mint;
}

/** StoreGatewayOptions configure the sync. */
export interface StoreGatewayOptions {
  bucket: Bucket;
  syncDir: string;
  syncIntervalMs: number;
  /** bucketIndexMaxStaleMs is -blocks-storage.bucket-store.bucket-index.max-stale-period (default: an hour). */
  bucketIndexMaxStaleMs?: number;
  /** reader serves a remote bucket's blocks by ranged reads when the bucket allows it. */
  reader?: BucketBlockReader;
  /** selectBlocks reads selections from named blocks (select); without it the store-gateway answers from every block it loaded. */
  selectBlocks?: NativeBlockSelect;
  /** blockSeries reads series, label names and values from named blocks (readMetadata). */
  blockSeries?: BlockSeriesQuerier;
  /** rangeCaches are the chunks and index caches under the reader's ranged reads (cache-config.ts). */
  rangeCaches?: RangeCaches;
}

/** SyncedBlock is a bucket block served in place (mapped, or read by range) or from its local copy. */
export interface SyncedBlock extends BlockRef {
  /** bytes kept in the sync dir: the whole copy, or the files of a block read by range (0 mapped in place). */
  bytes: number;
}

/** BucketStores serves the bucket's blocks of every tenant. */
export class BucketStores {
  private readonly tenantBlocks = new Map<string, SyncedBlock[]>();
  /** meta.json of the blocks seen, by `<tenant>/<ULID>`. */
  private readonly metas = new Map<string, BlockMeta>();
  /** Every visible block of each tenant at the last sync, owned or not. */
  private readonly tenantKnown = new Map<string, BlockMeta[]>();
  /** When each block seen was uploaded (ms), by `<tenant>/<ULID>`. */
  private readonly uploaded = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** prepareShutdown is set by POST /store-gateway/prepare-shutdown. */
  prepareShutdown = false;
  /**
   * owns says whether this store-gateway loads a block (its share of the store-gateway ring, in
   * distributed mode, see shardBy); undefined: every block is loaded.
   */
  private owns: ((tenant: string, ulid: string) => boolean) | undefined;
  private started = false;

  constructor(
    private readonly opts: StoreGatewayOptions,
    private readonly queryable: QueryableBlocks,
    private readonly logger: Logger,
  ) {}

  /** start loads what is already synced, syncs once, then periodically. */
  async start(): Promise<void> {
    const cfg = this.opts.bucket.rangeReadConfig?.();
    if (this.opts.reader !== undefined && cfg !== undefined) this.opts.reader.setBucketReader({ ...cfg, ...this.opts.rangeCaches });
    this.started = true;
    await this.sync();
    if (this.opts.syncIntervalMs > 0) {
      this.timer = setInterval(() => void this.sync(), this.opts.syncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * shardBy makes the store-gateway load only the blocks `owns` accepts from the next sync on
   * (call sync again when the ownership changes).
   */
  shardBy(owns: (tenant: string, ulid: string) => boolean): void {
    this.owns = owns;
  }

  /** ownershipChanged syncs again (once started) because the blocks this store-gateway owns changed. */
  ownershipChanged(): void {
    if (this.started) void this.sync();
  }

  /** stop ends the periodic sync and waits for one in progress. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** sync brings every tenant's local copies in line with the bucket (one sync at a time). */
  sync(): Promise<void> {
    this.running ??= this.syncAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** tenants lists the tenants with blocks in the bucket. */
  tenants(): string[] {
    return [...this.tenantBlocks.keys()].sort();
  }

  /** blocks lists a tenant's served blocks, oldest first. */
  blocks(tenant: string): SyncedBlock[] {
    return this.tenantBlocks.get(tenant) ?? [];
  }

  /**
   * hints names the tenant's blocks overlapping [mint, maxt] this store-gateway knows of in the
   * bucket (owned or not) with their upload times, and those it serves, for the querier's check
   * that every block was queried.
   */
  hints(tenant: string, mint: number, maxt: number): BlockHints {
    const known = (this.tenantKnown.get(tenant) ?? []).filter((m) => overlaps(m, mint, maxt));
    return {
      known: known.map((m) => m.ulid),
      uploaded: known.map((m) => this.uploaded.get(`${tenant}/${m.ulid}`) ?? 0),
      queried: this.blocks(tenant)
        .map((b) => b.meta)
        .filter((m) => overlaps(m, mint, maxt))
        .map((m) => m.ulid),
    };
  }

  /**
   * select reads one selection from the tenant's blocks named by ids only, as Mimir's store-gateway
   * filters its blocks by the querier's block matchers, and names the blocks of ids it answered
   * for: those the native read found loaded and overlapping [mint, maxt], and those it serves
   * outside the range (nothing in them to read). A named block it does not serve is left out, so
   * that the querier asks another owner for it.
   */
  async select(tenant: string, ids: readonly string[], matchers: LabelMatcher[], mint: number, maxt: number): Promise<BlockSelection> {
    const selectBlocks = this.opts.selectBlocks;
    if (selectBlocks === undefined) throw new Error('store-gateway: no native block selection');
    const { samples, queriedBlocks } = await selectBlocks(tenant, [...ids], matchers, mint, maxt);
    return { selection: samples, queried: [...queriedBlocks, ...this.servedOutside(tenant, ids, mint, maxt)] };
  }

  /**
   * readMetadata runs a series, label names or label values read on the tenant's blocks named by
   * ids only, and names the blocks of ids it answered for, as select does.
   */
  readMetadata(read: MetadataRead, ids: readonly string[]): { answer: MetadataReadAnswer; queried: string[] } {
    const blockSeries = this.opts.blockSeries;
    if (blockSeries === undefined) throw new Error('store-gateway: no native block metadata reads');
    const queried: string[] = [];
    const answer = readMetadata(
      blockSeries(ids, (got) => queried.push(...got)),
      read,
    );
    return { answer, queried: [...queried, ...this.servedOutside(read.tenant, ids, read.mint, read.maxt)] };
  }

  /** servedOutside are the blocks of ids this store-gateway serves that hold nothing in [mint, maxt]: answered without a read. */
  private servedOutside(tenant: string, ids: readonly string[], mint: number, maxt: number): string[] {
    const named = new Set(ids);
    return this.blocks(tenant)
      .filter((b) => named.has(b.meta.ulid) && !overlaps(b.meta, mint, maxt))
      .map((b) => b.meta.ulid);
  }

  /**
   * serves says whether a block's samples are served: the block itself (its local copy is complete)
   * or a compacted block made from it, which replaces it once the compactor has run.
   */
  serves(tenant: string, ulid: string): boolean {
    return this.blocks(tenant).some((b) => b.meta.ulid === ulid || sourcesOf(b.meta).includes(ulid));
  }

  private async syncAll(): Promise<void> {
    const began = process.hrtime.bigint();
    let tenants: string[];
    try {
      tenants = (await this.opts.bucket.list('')).filter((k) => k.endsWith('/')).map((k) => k.slice(0, -1));
    } catch (err) {
      this.logger.error('store-gateway could not list the bucket', { bucket: this.opts.bucket.name, err });
      return;
    }
    const seen = new Set<string>();
    for (const tenant of tenants) {
      seen.add(tenant);
      try {
        await this.syncTenant(tenant);
      } catch (err) {
        this.logger.error('store-gateway sync of a tenant failed', { tenant, err });
      }
    }
    for (const tenant of [...this.tenantBlocks.keys()]) {
      if (seen.has(tenant)) continue;
      this.tenantBlocks.delete(tenant);
      this.tenantKnown.delete(tenant);
      this.queryable.set('store-gateway', tenant, []);
      await rm(join(this.opts.syncDir, tenant), { recursive: true, force: true });
    }
    this.logger.debug('store-gateway synced', { tenants: tenants.length, duration: `${(Number(process.hrtime.bigint() - began) / 1e6).toFixed(1)}ms` });
  }

  private async syncTenant(tenant: string): Promise<void> {
    const visible = await visibleBucketBlocks(this.opts.bucket, tenant, this.logger, {
      bucketIndexMaxStaleMs: this.opts.bucketIndexMaxStaleMs ?? DEFAULT_DISCOVERY.bucketIndexMaxStaleMs,
      metas: this.metas,
      uploaded: this.uploaded,
    });
    const owns = this.owns;
    const wanted = owns === undefined ? visible : visible.filter((b) => owns(tenant, b.meta.ulid));
    const tenantDir = join(this.opts.syncDir, tenant);
    await mkdir(tenantDir, { recursive: true });
    const have = new Map((this.tenantBlocks.get(tenant) ?? []).map((b) => [b.meta.ulid, b]));
    const out: SyncedBlock[] = [];
    const inPlace = this.opts.bucket.localPath?.bind(this.opts.bucket);
    for (const { meta } of wanted) {
      const known = have.get(meta.ulid);
      if (known !== undefined) {
        out.push(known);
        continue;
      }
      if (inPlace !== undefined) {
        // A filesystem bucket's blocks are served where they are: their files are mapped, not copied.
        out.push({ dir: inPlace(`${tenant}/${meta.ulid}`), meta, bytes: 0 });
        continue;
      }
      const dir = join(tenantDir, meta.ulid);
      const local = await stat(join(dir, 'meta.json')).then(
        () => true,
        () => false,
      );
      if (local) {
        // Synced before a restart: meta.json is written last, so the copy is whole.
        out.push({ dir, meta, bytes: 0 });
        continue;
      }
      try {
        out.push(this.ranged() ? await this.attach(tenant, meta) : await this.download(tenant, meta));
      } catch (err) {
        this.logger.error('store-gateway could not download a block, it is not served', { tenant, block: meta.ulid, err });
      }
    }
    const keep = new Set(out.filter((b) => b.dir.startsWith(tenantDir)).map((b) => b.meta.ulid));
    for (const name of await readdir(tenantDir)) {
      if (!keep.has(name)) await rm(join(tenantDir, name), { recursive: true, force: true });
    }
    out.sort((a, b) => a.meta.minTime - b.meta.minTime);
    this.tenantBlocks.set(tenant, out);
    this.tenantKnown.set(
      tenant,
      visible.map((b) => b.meta),
    );
    this.queryable.set('store-gateway', tenant, out);
  }

  /** ranged says whether bucket blocks are read by range rather than copied. */
  private ranged(): boolean {
    return this.opts.reader !== undefined && this.opts.bucket.rangeReadConfig?.() !== undefined;
  }

  /**
   * attach prepares a block to be read from the bucket by range: its meta.json (last), tombstones,
   * bucket-block.json (the sizes of its index and chunk segments) and index-header go to the sync dir.
   */
  private attach(tenant: string, meta: BlockMeta): Promise<SyncedBlock> {
    return this.install(tenant, meta, 'store-gateway loaded a block, read by range from the bucket', async (prefix, tmp, files) => {
      if (!files.includes('index')) throw new Error(`block ${prefix} has no index in the bucket`);
      const segments = files.filter((f) => f.startsWith('chunks/')).sort();
      segments.forEach((f, i) => {
        if (f !== `chunks/${String(i + 1).padStart(6, '0')}`) throw new Error(`block ${prefix} chunk segments are not numbered 000001 on: ${segments.join(', ')}`);
      });
      const [index, ...chunks] = await Promise.all(['index', ...segments].map(async (f) => (await this.opts.bucket.attributes(`${prefix}${f}`)).size));
      await mkdir(tmp, { recursive: true });
      if (files.includes('tombstones')) await this.opts.bucket.download(`${prefix}tombstones`, join(tmp, 'tombstones'));
      await writeFile(join(tmp, 'bucket-block.json'), JSON.stringify({ key: `${tenant}/${meta.ulid}`, index, chunks }));
      const headerBytes = await this.opts.reader!.prepareBucketBlock(tmp);
      await this.opts.bucket.download(`${prefix}meta.json`, join(tmp, 'meta.json'));
      let bytes = 0;
      for (const f of await readdir(tmp)) bytes += (await stat(join(tmp, f))).size;
      return { bytes, log: { index_bytes: index, chunk_bytes: chunks.reduce((x, y) => x + y, 0), index_header_bytes: headerBytes } };
    });
  }

  /** download copies a block's files (meta.json last) into the sync dir. */
  private download(tenant: string, meta: BlockMeta): Promise<SyncedBlock> {
    return this.install(tenant, meta, 'store-gateway loaded a block', async (prefix, tmp, files) => {
      let bytes = 0;
      for (const f of files.filter((f) => f !== 'meta.json').concat('meta.json')) {
        const local = join(tmp, ...f.split('/'));
        await this.opts.bucket.download(`${prefix}${f}`, local);
        bytes += (await stat(local)).size;
      }
      return { bytes, log: { files: files.length, bytes } };
    });
  }

  /**
   * install builds a block's sync directory in a temporary one, which `fill` fills from the block's
   * files in the bucket (meta.json last), then moves it in place and logs `msg`.
   */
  private async install(
    tenant: string,
    meta: BlockMeta,
    msg: string,
    fill: (prefix: string, tmp: string, files: string[]) => Promise<{ bytes: number; log: Record<string, unknown> }>,
  ): Promise<SyncedBlock> {
    const began = process.hrtime.bigint();
    const prefix = `${tenant}/${meta.ulid}/`;
    const dir = join(this.opts.syncDir, tenant, meta.ulid);
    const tmp = `${dir}.download`;
    await rm(tmp, { recursive: true, force: true });
    const files = (await this.opts.bucket.list(prefix, { recursive: true })).map((k) => k.slice(prefix.length)).filter((f) => BLOCK_FILE_RE.test(f));
    const { bytes, log } = await fill(prefix, tmp, files);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    this.logger.info(msg, { tenant, block: meta.ulid, ...log, duration: `${(Number(process.hrtime.bigint() - began) / 1e6).toFixed(1)}ms` });
    return { dir, meta, bytes };
  }
}
