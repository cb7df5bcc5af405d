// kv.ts is the key-value store the rings live in: an in-memory store for a
// single process and etcd (through its v3 JSON gateway), both with
// compare-and-swap updates and watches.

import { request as httpRequest } from 'node:http';
import type { Logger } from '../log.js';

/** CasFn maps the current value (undefined: absent) to the new one; undefined leaves the key as it is. */
export type CasFn = (current: string | undefined) => string | undefined;

/** KvMember is one server of the KV store, for /memberlist. */
export interface KvMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

/** KvStatus describes the KV store for /memberlist. */
export interface KvStatus {
  store: string;
  version?: string;
  leader?: string;
  dbSize?: number;
  members: KvMember[];
}

/** KvClient is what a ring needs from its store. */
export interface KvClient {
  get(key: string): Promise<string | undefined>;
  /** cas applies f atomically, retrying when another writer changed the key meanwhile. */
  cas(key: string, f: CasFn): Promise<void>;
  delete(key: string): Promise<void>;
  /** watch calls onChange with each new value of key until the signal aborts. */
  watch(key: string, onChange: (value: string | undefined) => void, signal: AbortSignal): void;
  status(): Promise<KvStatus>;
  close(): void;
}

/** InMemoryKv keeps the keys in this process (every ring of the process shares one). */
export class InMemoryKv implements KvClient {
  private readonly data = new Map<string, string>();
  private readonly watchers = new Map<string, Set<(v: string | undefined) => void>>();

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.data.get(key));
  }

  cas(key: string, f: CasFn): Promise<void> {
    const next = f(this.data.get(key));
    if (next !== undefined) this.set(key, next);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.data.delete(key);
    this.notify(key, undefined);
    return Promise.resolve();
  }

  watch(key: string, onChange: (value: string | undefined) => void, signal: AbortSignal): void {
    const set = this.watchers.get(key) ?? new Set();
    set.add(onChange);
    this.watchers.set(key, set);
    signal.addEventListener('abort', () => set.delete(onChange), { once: true });
  }

  status(): Promise<KvStatus> {
    return Promise.resolve({ store: 'inmemory', members: [] });
  }

  /** keys lists the keys under prefix, sorted (as EtcdClient.keys). */
  keys(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.data.keys()].filter((k) => k.startsWith(prefix)).sort());
  }

  /** list reads the keys under prefix with their values, sorted by key (as EtcdClient.list). */
  list(prefix: string): Promise<Array<[string, string]>> {
    return Promise.resolve([...this.data].filter(([k]) => k.startsWith(prefix)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }

  close(): void {
    this.watchers.clear();
  }

  private set(key: string, value: string): void {
    this.data.set(key, value);
    this.notify(key, value);
  }

  private notify(key: string, value: string | undefined): void {
    for (const w of this.watchers.get(key) ?? []) w(value);
  }
}

/** CAS_ATTEMPTS bounds the compare-and-swap attempts of one update under contention. */
const CAS_ATTEMPTS = 50;

/** EtcdError is a failed etcd call. */
export class EtcdError extends Error {}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

/** prefixEnd is the end of the range of keys starting with key (etcd's range_end for a prefix). */
function prefixEnd(key: string): string {
  const b = Buffer.from(key, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i] = b[i]! + 1;
      return b.subarray(0, i + 1).toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

interface EtcdKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  version?: string;
}

/**
 * EtcdClient talks to etcd's v3 JSON gateway (POST /v3/kv/range, /v3/kv/txn,
 * /v3/kv/deleterange, /v3/watch). Calls go to the endpoints in turn until one
 * answers; a failed call is retried up to maxRetries times.
 */
export class EtcdClient implements KvClient {
  private readonly endpoints: URL[];
  private next = 0;

  constructor(
    endpoints: string[],
    private readonly opts: { dialTimeoutMs: number; maxRetries: number; log: Logger },
  ) {
    this.endpoints = endpoints.map((e) => new URL(/^https?:\/\//.test(e) ? e : `http://${e}`));
    if (this.endpoints.length === 0) throw new EtcdError('no etcd endpoints');
  }

  async get(key: string): Promise<string | undefined> {
    const kv = await this.range(key);
    return kv === undefined ? undefined : unb64(kv.value);
  }

  async cas(key: string, f: CasFn): Promise<void> {
    // Lost races are retried with a jittered pause (bounded); call() retries failed requests on its own.
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 5 + Math.random() * Math.min(200, 10 * attempt)));
      const kv = await this.range(key);
      const cur = kv === undefined ? undefined : unb64(kv.value);
      const next = f(cur);
      if (next === undefined) return;
      // Compare the revision read: absent keys have version 0.
      const compare =
        kv === undefined ? { key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' } : { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: kv.mod_revision ?? '0' };
      const res = (await this.call('/v3/kv/txn', { compare: [compare], success: [{ request_put: { key: b64(key), value: b64(next) } }] })) as { succeeded?: boolean };
      if (res.succeeded === true) return;
    }
    throw new EtcdError(`failed to CAS ${key}: too many concurrent updates`);
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  watch(key: string, onChange: (value: string | undefined) => void, signal: AbortSignal): void {
    let backoff = 100;
    const loop = (): void => {
      if (signal.aborted) return;
      const url = this.endpoint();
      const body = JSON.stringify({ create_request: { key: b64(key) } });
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: '/v3/watch', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, signal },
        (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            backoff = 100;
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line !== '') this.watchLine(line, onChange);
            }
            if (buf.trim() !== '' && buf.trim().endsWith('}')) {
              try {
                JSON.parse(buf);
                this.watchLine(buf, onChange);
                buf = '';
              } catch {
                // an incomplete message: wait for the rest
              }
            }
          });
          res.on('end', retry);
          res.on('error', retry);
        },
      );
      req.on('error', retry);
      req.end(body);
    };
    let pending = false;
    const retry = (): void => {
      if (signal.aborted || pending) return;
      pending = true;
      const t = setTimeout(() => {
        pending = false;
        // Read the key again: events may have been missed while the stream was down.
        this.get(key).then(onChange, () => undefined);
        loop();
      }, backoff);
      t.unref();
      backoff = Math.min(backoff * 2, 5_000);
    };
    loop();
  }

  private watchLine(line: string, onChange: (value: string | undefined) => void): void {
    let msg: { result?: { events?: Array<{ type?: string; kv?: EtcdKv }> } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    const events = msg.result?.events ?? [];
    const last = events[events.length - 1];
    if (last === undefined) return;
    onChange(last.type === 'DELETE' ? undefined : unb64(last.kv?.value));
  }

  async status(): Promise<KvStatus> {
    const members = (await this.call('/v3/cluster/member/list', {})) as { members?: Array<{ ID?: string; name?: string; peerURLs?: string[]; clientURLs?: string[] }> };
    const st = (await this.call('/v3/maintenance/status', {})) as { version?: string; leader?: string; dbSize?: string };
    return {
      store: 'etcd',
      ...(st.version !== undefined ? { version: st.version } : {}),
      ...(st.leader !== undefined ? { leader: st.leader } : {}),
      ...(st.dbSize !== undefined ? { dbSize: Number(st.dbSize) } : {}),
      members: (members.members ?? []).map((m) => ({ id: m.ID ?? '', name: m.name ?? '', peerUrls: m.peerURLs ?? [], clientUrls: m.clientURLs ?? [] })),
    };
  }

  close(): void {
    // Watches end with their signals; calls hold no pooled connection.
  }

  /** keys lists the keys under prefix (tests, tooling). */
  async keys(prefix: string): Promise<string[]> {
    const res = (await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix), keys_only: true })) as { kvs?: EtcdKv[] };
    return (res.kvs ?? []).map((k) => unb64(k.key));
  }

  /** list reads the keys under prefix with their values, sorted by key. */
  async list(prefix: string): Promise<Array<[string, string]>> {
    const res = (await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) })) as { kvs?: EtcdKv[] };
    return (res.kvs ?? []).map((k) => [unb64(k.key), unb64(k.value)]);
  }

  private async range(key: string): Promise<EtcdKv | undefined> {
    const res = (await this.call('/v3/kv/range', { key: b64(key) })) as { kvs?: EtcdKv[] };
    return res.kvs?.[0];
  }

  private endpoint(): URL {
    return this.endpoints[this.next % this.endpoints.length]!;
  }

  /** call POSTs body to path, trying the endpoints in turn, up to maxRetries retries. */
  private async call(path: string, body: unknown): Promise<unknown> {
    let lastErr: unknown;
    for (let attempt = 0; attempt <= this.opts.maxRetries; attempt++) {
      const url = this.endpoint();
      try {
        const res = await fetch(new URL(path, url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.dialTimeoutMs),
        });
        const text = await res.text();
        if (res.status !== 200) throw new EtcdError(`etcd ${path}: ${res.status} ${text.trim()}`);
        return JSON.parse(text) as unknown;
      } catch (err) {
        lastErr = err;
        this.next++;
        if (attempt < this.opts.maxRetries) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1_000)));
      }
    }
    this.opts.log.warn('etcd call failed', { path, err: lastErr });
    throw lastErr instanceof Error ? lastErr : new EtcdError(String(lastErr));
  }
}
