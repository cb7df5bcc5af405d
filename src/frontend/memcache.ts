// memcache.ts is a memcached client over the text protocol (get, gets, set)
// on plain TCP: values are binary-safe (sent and read by their byte count),
// each operation has a timeout (a timed-out connection is closed, the read
// is a miss), and a small pool of idle connections is kept per server. Keys
// are spread over the servers by a hash of the key. It serves the caches
// that live in TypeScript (the results cache, the store-gateway's metadata
// cache); the store-gateway's chunks and index caches sit under the native
// ranged reads and use the Rust client (native/core/src/block/memcached.rs),
// so chunk bytes never cross N-API per read.

import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Cache } from './cache.js';

/** MemcachedOptions configure the client. */
export interface MemcachedOptions {
  /** addresses are host:port of the servers. */
  addresses: string[];
  timeoutMs: number;
  maxIdleConnections: number;
  /** maxItemSize is the largest value sent; larger ones are not stored. */
  maxItemSize: number;
}

/** GetResult is one value read, with its CAS unique for `gets`. */
export interface GetResult {
  value: Buffer;
  flags: number;
  cas?: string;
}

/** MAX_EXPTIME_SECONDS is memcached's bound above which exptime means a unix time. */
const MAX_EXPTIME_SECONDS = 30 * 24 * 3600;

const CRLF = Buffer.from('\r\n');

/** Conn is one connection with its read buffer. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    const end = (): void => {
      this.closed = true;
      this.waiter?.();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  /** more waits for data (or the connection's end). */
  private more(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('memcached connection closed'));
    return new Promise((resolve) => {
      this.waiter = () => {
        this.waiter = undefined;
        resolve();
      };
    });
  }

  /** line reads one CRLF-terminated line. */
  async line(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf(CRLF);
      if (i >= 0) {
        const out = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return out;
      }
      await this.more();
    }
  }

  /** bytes reads n bytes and the CRLF after them. */
  async bytes(n: number): Promise<Buffer> {
    while (this.buf.length < n + 2) await this.more();
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n + 2);
    return out;
  }
}

/** checkKey refuses keys memcached cannot hold. */
function checkKey(key: string): void {
  if (key.length === 0 || Buffer.byteLength(key) > 250 || /[\s\x00-\x20\x7f]/.test(key)) throw new Error(`invalid memcached key ${JSON.stringify(key)}`);
}

/** MemcachedClient talks to a set of memcached servers. */
export class MemcachedClient implements Cache {
  private readonly idle = new Map<string, Conn[]>();
  private closing = false;

  constructor(private readonly opts: MemcachedOptions) {
    if (opts.addresses.length === 0) throw new Error('no memcached addresses given');
  }

  /** serverFor picks the server of a key. */
  serverFor(key: string): string {
    const a = this.opts.addresses;
    if (a.length === 1) return a[0]!;
    return a[createHash('sha1').update(key).digest().readUInt32BE(0) % a.length]!;
  }

  private async acquire(address: string): Promise<Conn> {
    const pool = this.idle.get(address);
    while (pool !== undefined && pool.length > 0) {
      const c = pool.pop()!;
      if (!c.closed) return c;
    }
    const i = address.lastIndexOf(':');
    const host = address.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(i + 1));
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const conn = new Conn(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return conn;
  }

  private release(address: string, c: Conn): void {
    if (c.closed || this.closing) {
      c.socket.destroy();
      return;
    }
    let pool = this.idle.get(address);
    if (pool === undefined) this.idle.set(address, (pool = []));
    if (pool.length >= this.opts.maxIdleConnections) c.socket.destroy();
    else pool.push(c);
  }

  /** op runs fn on a pooled connection of the key's server within the timeout; the connection is closed on failure. */
  private async op<T>(key: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    const address = this.serverFor(key);
    let conn: Conn | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`memcached operation timed out after ${this.opts.timeoutMs}ms`)), this.opts.timeoutMs);
    });
    try {
      const out = await Promise.race([
        (async () => {
          conn = await this.acquire(address);
          return fn(conn);
        })(),
        timeout,
      ]);
      this.release(address, conn!);
      return out;
    } catch (err) {
      conn?.socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** getRaw runs get (or gets, with the CAS unique) for one key. */
  async getRaw(key: string, withCas = false): Promise<GetResult | undefined> {
    checkKey(key);
    return this.op(key, async (c) => {
      c.socket.write(`${withCas ? 'gets' : 'get'} ${key}\r\n`);
      let out: GetResult | undefined;
      for (;;) {
        const line = await c.line();
        if (line === 'END') return out;
        const parts = line.split(' ');
        if (parts[0] !== 'VALUE' || parts.length < 4) throw new Error(`memcached: unexpected reply ${JSON.stringify(line)}`);
        const value = await c.bytes(Number(parts[3]));
        out = { value, flags: Number(parts[2]), ...(withCas && parts[4] !== undefined ? { cas: parts[4] } : {}) };
      }
    });
  }

  /** gets returns the value and its CAS unique. */
  gets(key: string): Promise<GetResult | undefined> {
    return this.getRaw(key, true);
  }

  /** setRaw stores a value; returns the server's reply (STORED, NOT_STORED, ...). */
  async setRaw(key: string, value: Buffer, ttlMs: number, flags = 0): Promise<string> {
    checkKey(key);
    const secs = Math.max(0, Math.ceil(ttlMs / 1000));
    const exptime = secs > MAX_EXPTIME_SECONDS ? Math.floor(Date.now() / 1000) + secs : secs;
    return this.op(key, async (c) => {
      c.socket.write(Buffer.concat([Buffer.from(`set ${key} ${flags} ${exptime} ${value.length}\r\n`), value, CRLF]));
      const reply = await c.line();
      if (reply.startsWith('SERVER_ERROR') || reply.startsWith('CLIENT_ERROR') || reply === 'ERROR') throw new Error(`memcached: ${reply}`);
      return reply;
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return (await this.getRaw(key))?.value;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    if (value.length > this.opts.maxItemSize) return;
    try {
      await this.setRaw(key, value, ttlMs);
    } catch {
      // Best effort.
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const pool of this.idle.values()) for (const c of pool) c.socket.destroy();
    this.idle.clear();
  }
}
