// store.ts keeps tenants' Alertmanager configurations and state in the
// bucket as Mimir lays them out: `alerts/<tenant>` holds the
// AlertConfigDesc protobuf (user, raw_config, templates), and
// `alertmanager/<tenant>/fullstate` the tenant's persisted state.

import { isNotFound, type Bucket } from '../storage/bucket/bucket.js';
import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { ProtoWriter } from '../remote/protobuf-writer.js';

/** AlertConfigDesc is one tenant's stored configuration. */
export interface AlertConfigDesc {
  user: string;
  rawConfig: string;
  /** templates in the order given (filename -> body). */
  templates: Array<{ filename: string; body: string }>;
}

/** ERR_NOT_FOUND is alertspb.ErrNotFound's text. */
export const ERR_NOT_FOUND = 'alertmanager storage object not found';

const CONFIG_PREFIX = 'alerts/';
const STATE_PREFIX = 'alertmanager/';

/** encodeConfigDesc writes AlertConfigDesc protobuf. */
export function encodeConfigDesc(d: AlertConfigDesc): Buffer {
  const w = new ProtoWriter(256 + d.rawConfig.length);
  if (d.user !== '') w.string(1, d.user);
  if (d.rawConfig !== '') w.string(2, d.rawConfig);
  for (const t of d.templates) {
    w.message(3, (m) => {
      if (t.filename !== '') m.string(1, t.filename);
      if (t.body !== '') m.string(2, t.body);
    });
  }
  return Buffer.from(w.finish());
}

/** decodeConfigDesc reads AlertConfigDesc protobuf. */
export function decodeConfigDesc(buf: Uint8Array): AlertConfigDesc {
  const r = new ProtoReader(buf);
  const out: AlertConfigDesc = { user: '', rawConfig: '', templates: [] };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) out.user = r.string();
    else if (field === 2 && wireType === WireType.Bytes) out.rawConfig = r.string();
    else if (field === 3 && wireType === WireType.Bytes) {
      const t = new ProtoReader(r.bytes());
      const tmpl = { filename: '', body: '' };
      while (!t.done()) {
        const f = t.tag();
        if (f.field === 1 && f.wireType === WireType.Bytes) tmpl.filename = t.string();
        else if (f.field === 2 && f.wireType === WireType.Bytes) tmpl.body = t.string();
        else t.skip(f.wireType);
      }
      out.templates.push(tmpl);
    } else r.skip(wireType);
  }
  return out;
}

/** AlertStore reads and writes configurations and state in a bucket. */
export class AlertStore {
  constructor(readonly bucket: Bucket) {}

  /** listUsers returns every tenant with a stored configuration. */
  async listUsers(): Promise<string[]> {
    const keys = await this.bucket.list(CONFIG_PREFIX);
    return keys.filter((k) => !k.endsWith('/')).map((k) => k.slice(CONFIG_PREFIX.length));
  }

  /** get returns a tenant's configuration, or undefined when it has none. */
  async get(user: string): Promise<AlertConfigDesc | undefined> {
    try {
      return decodeConfigDesc(await this.bucket.get(CONFIG_PREFIX + user));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** set stores a tenant's configuration. */
  async set(d: AlertConfigDesc): Promise<void> {
    await this.bucket.put(CONFIG_PREFIX + d.user, encodeConfigDesc(d));
  }

  /** delete removes a tenant's configuration (missing is fine). */
  async delete(user: string): Promise<void> {
    await this.bucket.delete(CONFIG_PREFIX + user);
  }

  /** getState returns a tenant's persisted state, or undefined. */
  async getState(user: string): Promise<Buffer | undefined> {
    try {
      return await this.bucket.get(`${STATE_PREFIX}${user}/fullstate`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** setState stores a tenant's state. */
  async setState(user: string, state: Buffer): Promise<void> {
    await this.bucket.put(`${STATE_PREFIX}${user}/fullstate`, state);
  }

  /** deleteState removes a tenant's state. */
  async deleteState(user: string): Promise<void> {
    await this.bucket.delete(`${STATE_PREFIX}${user}/fullstate`);
  }
}
