// shard.ts splits a remote-write 1.0 WriteRequest by ring token without
// decoding samples: each TimeSeries (field 1) is hashed on the tenant and its
// labels as Mimir's ShardByAllLabelAdapters (32-bit FNV-1), each metadata
// entry (field 3) on the tenant and metric family name (ShardByMetricName),
// and sub-requests are the original field bytes concatenated.

import { ProtoReader, WireType } from '../remote/proto-reader.js';

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** fnvAdd folds bytes into a 32-bit FNV-1 hash (multiply, then xor), as Mimir's HashAdd32. */
function fnvAdd(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = (Math.imul(h, FNV_PRIME) ^ b[i]!) >>> 0;
  return h;
}

/** tenantHash is the hash of the tenant alone (ShardByUser). */
export function tenantHash(tenant: string): number {
  return fnvAdd(FNV_OFFSET, Buffer.from(tenant, 'utf8'));
}

/** seriesToken is the token of a series: the tenant's hash extended with each label name and value, in order. */
export function seriesToken(tenant: string, labels: Array<[string, string]>): number {
  let h = tenantHash(tenant);
  for (const [n, v] of labels) {
    h = fnvAdd(h, Buffer.from(n, 'utf8'));
    h = fnvAdd(h, Buffer.from(v, 'utf8'));
  }
  return h;
}

/** ShardItem is one TimeSeries or metadata entry of a request: its field bytes [start, end) and its token. */
export interface ShardItem {
  start: number;
  end: number;
  token: number;
}

/**
 * shardWriteRequest lists the items of an uncompressed WriteRequest with their
 * tokens. Other top-level fields (source, skip_label_validation) are left out
 * of the sub-requests. Throws on malformed protobuf.
 */
export function shardWriteRequest(tenant: string, raw: Uint8Array): ShardItem[] {
  const base = tenantHash(tenant);
  const r = new ProtoReader(raw);
  const out: ShardItem[] = [];
  while (!r.done()) {
    const start = r.offset();
    const { field, wireType } = r.tag();
    if ((field === 1 || field === 3) && wireType === WireType.Bytes) {
      const body = r.bytes();
      out.push({ start, end: r.offset(), token: field === 1 ? labelsHash(base, body) : metadataHash(base, body) });
    } else {
      r.skip(wireType);
    }
  }
  return out;
}

/** labelsHash hashes a TimeSeries' labels (field 1: Label{name=1, value=2}) onto the tenant's hash. */
function labelsHash(h: number, ts: Uint8Array): number {
  const r = new ProtoReader(ts);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field !== 1 || wireType !== WireType.Bytes) {
      r.skip(wireType);
      continue;
    }
    const label = new ProtoReader(r.bytes());
    let name: Uint8Array = EMPTY;
    let value: Uint8Array = EMPTY;
    while (!label.done()) {
      const f = label.tag();
      if (f.field === 1 && f.wireType === WireType.Bytes) name = label.bytes();
      else if (f.field === 2 && f.wireType === WireType.Bytes) value = label.bytes();
      else label.skip(f.wireType);
    }
    h = fnvAdd(fnvAdd(h, name), value);
  }
  return h;
}

const EMPTY = new Uint8Array(0);

/** metadataHash hashes a MetricMetadata's metric_family_name (field 2) onto the tenant's hash. */
function metadataHash(h: number, md: Uint8Array): number {
  const r = new ProtoReader(md);
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 2 && wireType === WireType.Bytes) return fnvAdd(h, r.bytes());
    r.skip(wireType);
  }
  return h;
}

/** joinItems builds a WriteRequest of the given items' field bytes. */
export function joinItems(raw: Uint8Array, items: readonly ShardItem[], indexes: readonly number[]): Buffer {
  let size = 0;
  for (const i of indexes) size += items[i]!.end - items[i]!.start;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const i of indexes) {
    const it = items[i]!;
    out.set(raw.subarray(it.start, it.end), pos);
    pos += it.end - it.start;
  }
  return out;
}
