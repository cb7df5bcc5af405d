// metadata-cache.ts is the store-gateway's metadata cache
// (-blocks-storage.bucket-store.metadata-cache.*): a Bucket that keeps in
// memcached what the store-gateway asks the bucket about its blocks, as
// Mimir's caching bucket does, with Mimir's rules and TTLs:
//
// - exists of a block's meta.json / deletion-mark.json or a tenant deletion
//   mark (`metafile`): metafile-exists-ttl, or metafile-doesnt-exist-ttl;
// - get of those (content up to metafile-max-size-bytes, metafile-content-ttl;
//   a missing one remembered as not existing) and of a tenant's
//   bucket-index.json.gz (`bucket-index`, bucket-index-content-ttl);
// - attributes of a metafile, a block's index (block-index-attributes-ttl)
//   and, with the chunks cache on, of chunk segments (chunks-cache.attributes-ttl);
// - list of the tenants (tenants-list-ttl), of a tenant's blocks
//   (tenant-blocks-list-ttl) and of a block's chunks/ (chunks-list-ttl).
//
// Keys are `<op>:<object>` (`exists:`, `content:`, `attrs:`, `iter:`), hashed
// when memcached cannot hold them. Everything else goes to the bucket. A
// failed or slow memcached (the client's timeout) is a miss, counted for
// thanos_cache_operation_failures_total{name="metadata-cache"}. It uses the
// TypeScript memcached client (src/frontend/memcache.ts): the metadata
// cache lives where the store-gateway's bucket calls are, in TypeScript;
// the chunks and index caches live under the native ranged reads, in Rust.

import { hashKey } from '../frontend/cache.js';
import type { MemcachedClient } from '../frontend/memcache.js';
import { NotFoundError, isNotFound, type Bucket, type ObjectAttributes, type RangeReadConfig } from '../storage/bucket/bucket.js';
import type { MetadataCacheTtls } from './cache-config.js';

/** MetadataCacheStats are the counters the metadata cache's metrics read. */
export interface MetadataCacheStats {
  /** Client: items asked for and found, operations sent, failures by `operation/reason`. */
  requests: number;
  hits: number;
  getOps: number;
  setOps: number;
  failures: Map<string, number>;
  skippedMaxItemSize: number;
  lastError: string;
  /** Caching bucket: requests and hits by `operation/config` (Mimir's labels). */
  opRequests: Map<string, number>;
  opHits: Map<string, number>;
}

const META_FILES = ['/meta.json', '/deletion-mark.json', '/markers/tenant-deletion-mark.json'];
const ULID_DIR = /(^|\/)[0-9A-HJKMNP-TV-Z]{26}\/index$/;

/** isMetaFile: a block's meta.json or deletion mark, or a tenant deletion mark. */
const isMetaFile = (k: string): boolean => META_FILES.some((s) => k.endsWith(s));
/** isBlockIndex: `<block ULID>/index`. */
const isBlockIndex = (k: string): boolean => ULID_DIR.test(k);
const isBucketIndex = (k: string): boolean => k.endsWith('/bucket-index.json.gz');
const isChunkSegment = (k: string): boolean => /\/chunks\/\d+$/.test(k);

/** memcachedKey is `op:name`, hashed when it has spaces or is too long for memcached. */
function memcachedKey(op: string, name: string): string {
  const k = `${op}:${name}`;
  return Buffer.byteLength(k) <= 250 && !/[\s\x00-\x20\x7f]/.test(k) ? k : hashKey(k);
}

/** failureReason is dskit's reason label of a client error. */
function failureReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/timed out/.test(msg)) return 'request-timeout';
  if (/SERVER_ERROR|CLIENT_ERROR|unexpected reply/.test(msg)) return 'server-error';
  if (/invalid memcached key/.test(msg)) return 'malformed-key';
  return 'network-error';
}

/** MetadataCachingBucket is `inner` with its metadata cached (see the file's header). */
export class MetadataCachingBucket implements Bucket {
  readonly stats: MetadataCacheStats = {
    requests: 0,
    hits: 0,
    getOps: 0,
    setOps: 0,
    failures: new Map(),
    skippedMaxItemSize: 0,
    lastError: '',
    opRequests: new Map(),
    opHits: new Map(),
  };

  constructor(
    private readonly inner: Bucket,
    private readonly cache: MemcachedClient,
    private readonly ttls: MetadataCacheTtls,
    /** chunksAttributes: the chunks cache is on, so chunk segments' attributes are cached here (Mimir). */
    private readonly chunksAttributes: boolean,
    private readonly maxItemSize: number,
  ) {
    // A filesystem bucket's blocks stay mapped in place.
    const local = inner.localPath?.bind(inner);
    if (local !== undefined) this.localPath = local;
  }

  /** localPath is the inner bucket's (filesystem buckets only). */
  localPath?: (key: string) => string;

  get name(): string {
    return this.inner.name;
  }

  private failed(op: string, err: unknown): void {
    const k = `${op}/${failureReason(err)}`;
    this.stats.failures.set(k, (this.stats.failures.get(k) ?? 0) + 1);
    this.stats.lastError = err instanceof Error ? err.message : String(err);
  }

  private count(map: Map<string, number>, op: string, config: string): void {
    const k = `${op}/${config}`;
    map.set(k, (map.get(k) ?? 0) + 1);
  }

  /** fetch reads one key from memcached; a failure is a miss. */
  private async fetch(key: string): Promise<Buffer | undefined> {
    this.stats.requests++;
    this.stats.getOps++;
    try {
      const v = (await this.cache.getRaw(key))?.value;
      if (v !== undefined) this.stats.hits++;
      return v;
    } catch (err) {
      this.failed('getmulti', err);
      return undefined;
    }
  }

  /** store writes one key to memcached in the background (best effort). */
  private store(key: string, value: Buffer, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.maxItemSize > 0 && value.length > this.maxItemSize) {
      this.stats.skippedMaxItemSize++;
      return;
    }
    this.stats.setOps++;
    this.cache.setRaw(key, value, ttlMs).catch((err: unknown) => this.failed('set', err));
  }

  async exists(key: string): Promise<boolean> {
    if (!isMetaFile(key)) return this.inner.exists(key);
    this.count(this.stats.opRequests, 'exists', 'metafile');
    const ck = memcachedKey('exists', key);
    const hit = await this.fetch(ck);
    if (hit !== undefined) {
      this.count(this.stats.opHits, 'exists', 'metafile');
      return hit.toString() === 'true';
    }
    const found = await this.inner.exists(key);
    this.store(ck, Buffer.from(String(found)), found ? this.ttls.metafileExists : this.ttls.metafileDoesntExist);
    return found;
  }

  async get(key: string): Promise<Buffer> {
    const meta = isMetaFile(key);
    if (!meta && !isBucketIndex(key)) return this.inner.get(key);
    const config = meta ? 'metafile' : 'bucket-index';
    this.count(this.stats.opRequests, 'get', config);
    const ck = memcachedKey('content', key);
    const existsKey = memcachedKey('exists', key);
    if (meta && (await this.fetch(existsKey))?.toString() === 'false') {
      this.count(this.stats.opHits, 'get', config);
      throw new NotFoundError(key);
    }
    const hit = await this.fetch(ck);
    if (hit !== undefined) {
      this.count(this.stats.opHits, 'get', config);
      return hit;
    }
    let body: Buffer;
    try {
      body = await this.inner.get(key);
    } catch (err) {
      if (meta && isNotFound(err)) this.store(existsKey, Buffer.from('false'), this.ttls.metafileDoesntExist);
      throw err;
    }
    const [maxSize, ttl] = meta ? [this.ttls.metafileMaxSize, this.ttls.metafileContent] : [this.ttls.bucketIndexMaxSize, this.ttls.bucketIndexContent];
    if (body.length <= maxSize) this.store(ck, body, ttl);
    if (meta) this.store(existsKey, Buffer.from('true'), this.ttls.metafileExists);
    return body;
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    const config = isMetaFile(key) ? 'metafile' : isBlockIndex(key) ? 'block-index' : this.chunksAttributes && isChunkSegment(key) ? 'chunks' : undefined;
    if (config === undefined) return this.inner.attributes(key);
    this.count(this.stats.opRequests, 'attributes', config);
    const ck = memcachedKey('attrs', key);
    const hit = await this.fetch(ck);
    if (hit !== undefined) {
      try {
        const a = JSON.parse(hit.toString()) as ObjectAttributes;
        if (typeof a.size === 'number' && typeof a.lastModified === 'number') {
          this.count(this.stats.opHits, 'attributes', config);
          return a;
        }
      } catch {
        // A damaged entry is a miss.
      }
    }
    const attrs = await this.inner.attributes(key);
    const ttl = config === 'metafile' ? this.ttls.metafileAttributes : config === 'block-index' ? this.ttls.blockIndexAttributes : this.ttls.chunksAttributes;
    this.store(ck, Buffer.from(JSON.stringify({ size: attrs.size, lastModified: attrs.lastModified })), ttl);
    return attrs;
  }

  async list(prefix: string, opts?: { recursive?: boolean }): Promise<string[]> {
    const recursive = opts?.recursive === true;
    const config = recursive ? undefined : prefix === '' ? 'tenants-iter' : /^[^/]+\/?$/.test(prefix) ? 'tenant-blocks-iter' : /\/chunks\/?$/.test(prefix) ? 'chunks-iter' : undefined;
    if (config === undefined) return this.inner.list(prefix, opts);
    this.count(this.stats.opRequests, 'iter', config);
    const ck = memcachedKey('iter', prefix);
    const hit = await this.fetch(ck);
    if (hit !== undefined) {
      try {
        const names = JSON.parse(hit.toString()) as unknown;
        if (Array.isArray(names) && names.every((n) => typeof n === 'string')) {
          this.count(this.stats.opHits, 'iter', config);
          return names as string[];
        }
      } catch {
        // A damaged entry is a miss.
      }
    }
    const names = await this.inner.list(prefix, opts);
    const ttl = config === 'tenants-iter' ? this.ttls.tenantsList : config === 'tenant-blocks-iter' ? this.ttls.tenantBlocksList : this.ttls.chunksList;
    this.store(ck, Buffer.from(JSON.stringify(names)), ttl);
    return names;
  }

  getRange(key: string, offset: number, length: number): Promise<Buffer> {
    return this.inner.getRange(key, offset, length);
  }

  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }

  upload(key: string, localPath: string): Promise<void> {
    return this.inner.upload(key, localPath);
  }

  download(key: string, localPath: string): Promise<void> {
    return this.inner.download(key, localPath);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  rangeReadConfig(): RangeReadConfig | undefined {
    return this.inner.rangeReadConfig?.();
  }

  /** close closes the memcached client (the bucket is the caller's). */
  async close(): Promise<void> {
    await this.cache.close();
  }
}
