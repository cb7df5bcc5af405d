// cache.ts holds the results cache's backends: `inmemory` (a least recently
// used map bounded in bytes, entries expiring after their TTL) and
// `memcached` (memcache.ts). A cache never fails a query: a failed or slow
// read is a miss, a failed write is dropped.

import { createHash } from 'node:crypto';

/** Cache stores opaque values under string keys. */
export interface Cache {
  /** get returns the value, or undefined on a miss (or any failure). */
  get(key: string): Promise<Buffer | undefined>;
  /** set stores the value for ttlMs (best effort). */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** hashKey turns a cache key into a memcached-safe one (no spaces, at most 250 bytes). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Entry is one inmemory value. */
interface Entry {
  value: Buffer;
  expiresAt: number;
}

/** InMemoryCache is the `inmemory` backend: LRU within maxBytes, with TTLs. */
export class InMemoryCache implements Cache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** size is how many bytes the values take. */
  get sizeBytes(): number {
    return this.bytes;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= this.now()) {
      this.bytes -= e.value.length;
      return undefined;
    }
    // Most recently used last.
    this.entries.set(key, e);
    return e.value;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    if (value.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= old.value.length;
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    this.bytes += value.length;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.value.length;
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }
}
