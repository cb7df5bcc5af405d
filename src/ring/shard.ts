// shard.ts splits a remote-write 1.0 WriteRequest by ring token without
// decoding samples: each TimeSeries (field 1) is hashed on the tenant and its
// labels as Mimir's ShardByAllLabelAdapters (32-bit FNV-1), each metadata
// entry (field 3) on the tenant and metric family name (ShardByMetricName),
// and sub-requests are the original field bytes concatenated. The other ring
// keys Mimir and dskit compute (blocks, compactor tenants, rule groups,
// shuffle-shard seeds) are here too.

import { createHash } from 'node:crypto';

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** fnvAdd folds bytes into a 32-bit FNV-1 hash (multiply, then xor), as Mimir's HashAdd32. */
function fnvAdd(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h, FNV_PRIME) ^ b[i]!;
  return h >>> 0;
}

/**
 * fnv1aKey is the FNV-1a hash of the strings' UTF-8 bytes one after the other: a tenant's
 * key on the compactor ring (Mimir's compactor ownUser), and tenant, '/', namespace, '/', group a
 * rule group's on the ruler ring (Mimir's tokenForGroup).
 */
export function fnv1aKey(...parts: string[]): number {
  let h = FNV_OFFSET;
  for (const part of parts) for (const b of Buffer.from(part, 'utf8')) h = Math.imul(h ^ b, FNV_PRIME);
  return h >>> 0;
}

/**
 * shuffleShardSeed is the seed of an identifier's (a tenant's) shuffle shard in a zone ('' without
 * zones), as dskit's ShuffleShardSeed: the first 8 bytes of the MD5 of the identifier (then a NUL
 * and the zone, when there is one), big-endian, as a signed 64-bit integer.
 */
export function shuffleShardSeed(identifier: string, zone: string): bigint {
  const h = createHash('md5').update(identifier, 'utf8');
  if (zone !== '') h.update(Buffer.from([0])).update(zone, 'utf8');
  return h.digest().readBigInt64BE(0);
}

/** tenantHash is the hash of the tenant alone (ShardByUser). */
export function tenantHash(tenant: string): number {
  return fnvAdd(FNV_OFFSET, Buffer.from(tenant, 'utf8'));
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * blockToken is a block's ring key, as Mimir's HashBlockID: FNV-1 over the ULID's 16 bytes
 * (decoded from its 26 Crockford base32 characters). Store-gateways shard blocks by it.
 */
export function blockToken(ulid: string): number {
  if (ulid.length !== 26) throw new Error(`not a ULID: ${ulid}`);
  // 26 characters carry 130 bits, the first two of them zero: read them as a big integer.
  let n = 0n;
  for (const c of ulid.toUpperCase()) {
    const v = CROCKFORD.indexOf(c);
    if (v < 0) throw new Error(`not a ULID: ${ulid}`);
    n = (n << 5n) | BigInt(v);
  }
  const bytes = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return fnvAdd(FNV_OFFSET, bytes);
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

/**
 * ShardItem is one TimeSeries or metadata entry of a request: its field bytes [start, end), its
 * token, and what it carries for the rate limit: samples (float and histogram) and exemplars (a
 * metadata entry is one item of its own, meta).
 */
export interface ShardItem {
  start: number;
  end: number;
  token: number;
  samples: number;
  exemplars: number;
  meta: boolean;
}

/** at is the read position of the varint/skip helpers below (one walk at a time: no tuple per call). */
let at = 0;
/** samplesSeen and exemplarsSeen count the current TimeSeries' samples and exemplars during its walk. */
let samplesSeen = 0;
let exemplarsSeen = 0;

/** varint reads an unsigned varint at `at`, moving it past; throws when truncated. */
function varint(b: Uint8Array): number {
  const x = b[at];
  if (x !== undefined && x < 0x80) {
    at++;
    return x;
  }
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= b.length) throw new Error('protobuf: truncated varint');
    const y = b[at++]!;
    v += (y & 0x7f) * mul;
    if (y < 0x80) return v;
    mul *= 128;
  }
  throw new Error('protobuf: varint longer than 10 bytes');
}

/** skipField moves `at` past a field's value of the given wire type. */
function skipField(b: Uint8Array, wt: number): void {
  switch (wt) {
    case 0:
      varint(b);
      return;
    case 1:
      at += 8;
      return;
    case 2: {
      const len = varint(b);
      at += len;
      return;
    }
    case 5:
      at += 4;
      return;
    default:
      throw new Error(`protobuf: unsupported wire type ${wt}`);
  }
}

/** fnvRange folds b[from, to) into h (FNV-1). */
function fnvRange(h: number, b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h, FNV_PRIME) ^ b[i]!;
  return h >>> 0;
}

/**
 * shardWriteRequest lists the items of an uncompressed WriteRequest with their
 * tokens, walking the wire format in place (no allocation per label). Other
 * top-level fields (source, skip_label_validation) are left out of the
 * sub-requests. Throws on malformed protobuf.
 */
export function shardWriteRequest(tenant: string, raw: Uint8Array): ShardItem[] {
  const base = tenantHash(tenant);
  const out: ShardItem[] = [];
  at = 0;
  while (at < raw.length) {
    const start = at;
    const key = varint(raw);
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if ((field === 1 || field === 3) && wt === 2) {
      const len = varint(raw);
      const from = at;
      const end = from + len;
      if (end > raw.length) throw new Error('protobuf: truncated length-delimited field');
      samplesSeen = 0;
      exemplarsSeen = 0;
      const token = field === 1 ? labelsHash(base, raw, from, end) : metadataHash(base, raw, from, end);
      out.push({ start, end, token, samples: samplesSeen, exemplars: exemplarsSeen, meta: field === 3 });
      at = end;
    } else {
      skipField(raw, wt);
    }
  }
  if (at !== raw.length) throw new Error('protobuf: truncated field');
  return out;
}

/** labelsHash hashes a TimeSeries' labels (field 1: Label{name=1, value=2}) in b[from, to) onto the tenant's hash. */
function labelsHash(h: number, b: Uint8Array, from: number, to: number): number {
  at = from;
  while (at < to) {
    const key = varint(b);
    if (key !== 0x0a) {
      // samples (2) and histograms (4) count as samples, exemplars (3) apart.
      if (key === 0x12 || key === 0x22) samplesSeen++;
      else if (key === 0x1a) exemplarsSeen++;
      skipField(b, key & 7);
      continue;
    }
    const end = varint(b) + at;
    let nameFrom = 0;
    let nameTo = 0;
    let valueFrom = 0;
    let valueTo = 0;
    while (at < end) {
      const k = varint(b);
      if (k === 0x0a || k === 0x12) {
        const l = varint(b);
        if (k === 0x0a) {
          nameFrom = at;
          nameTo = at + l;
        } else {
          valueFrom = at;
          valueTo = at + l;
        }
        at += l;
      } else {
        skipField(b, k & 7);
      }
    }
    h = fnvRange(fnvRange(h, b, nameFrom, nameTo), b, valueFrom, valueTo);
    at = end;
  }
  return h;
}

/** metadataHash hashes a MetricMetadata's metric_family_name (field 2) in b[from, to) onto the tenant's hash. */
function metadataHash(h: number, b: Uint8Array, from: number, to: number): number {
  at = from;
  while (at < to) {
    const key = varint(b);
    if (key === 0x12) {
      const len = varint(b);
      return fnvRange(h, b, at, at + len);
    }
    skipField(b, key & 7);
  }
  return h;
}

/** ShardedV2 is a remote-write 2.0 Request split into items: its symbols go to every sub-request. */
export interface ShardedV2 {
  items: ShardItem[];
  /** common are the byte ranges of the symbols fields, copied into every sub-request first. */
  common: Array<[number, number]>;
  /** symbols are the byte ranges of the symbol strings, by reference. */
  symbols: Array<[number, number]>;
}

/**
 * shardWriteRequestV2 lists the TimeSeries (field 5) of an uncompressed
 * io.prometheus.write.v2.Request with their tokens: labels_refs resolved
 * through the symbols (field 4) and hashed as v1 labels are, so a series has
 * the same token whatever the protocol. Throws on malformed protobuf or refs.
 */
export function shardWriteRequestV2(tenant: string, raw: Uint8Array): ShardedV2 {
  const base = tenantHash(tenant);
  const symbols: Array<[number, number]> = [];
  const common: Array<[number, number]> = [];
  const series: Array<[number, number, number]> = [];
  at = 0;
  while (at < raw.length) {
    const start = at;
    const key = varint(raw);
    const field = Math.floor(key / 8);
    const wt = key & 7;
    if ((field === 4 || field === 5) && wt === 2) {
      const len = varint(raw);
      const from = at;
      at = from + len;
      if (at > raw.length) throw new Error('protobuf: truncated length-delimited field');
      if (field === 4) {
        symbols.push([from, at]);
        common.push([start, at]);
      } else {
        series.push([start, from, at]);
      }
    } else {
      skipField(raw, wt);
    }
  }
  if (at !== raw.length) throw new Error('protobuf: truncated field');
  const items = series.map(([start, from, end]): ShardItem => {
    samplesSeen = 0;
    exemplarsSeen = 0;
    const token = refsHash(base, raw, from, end, symbols);
    return { start, end, token, samples: samplesSeen, exemplars: exemplarsSeen, meta: false };
  });
  return { items, common, symbols };
}

/** refsHash hashes a v2 TimeSeries' labels_refs (field 1, packed or not) through the symbols. */
function refsHash(h: number, b: Uint8Array, from: number, to: number, symbols: ReadonlyArray<[number, number]>): number {
  const refs: number[] = [];
  at = from;
  while (at < to) {
    const key = varint(b);
    if (key === 0x0a) {
      const end = varint(b) + at;
      while (at < end) refs.push(varint(b));
    } else if (key === 0x08) {
      refs.push(varint(b));
    } else {
      // samples (2) and histograms (3) count as samples, exemplars (4) apart.
      if (key === 0x12 || key === 0x1a) samplesSeen++;
      else if (key === 0x22) exemplarsSeen++;
      skipField(b, key & 7);
    }
  }
  for (const r of refs) {
    const sym = symbols[r];
    if (sym === undefined) throw new Error(`labels_refs: symbol ${r} out of range`);
    h = fnvRange(h, b, sym[0], sym[1]);
  }
  return h;
}

/** joinItems builds a WriteRequest of the given items' field bytes, after the common ranges (v2 symbols). */
export function joinItems(raw: Uint8Array, items: readonly ShardItem[], indexes: readonly number[], common: ReadonlyArray<[number, number]> = []): Buffer {
  let size = 0;
  for (const i of indexes) size += items[i]!.end - items[i]!.start;
  for (const [a, b] of common) size += b - a;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [a, b] of common) {
    out.set(raw.subarray(a, b), pos);
    pos += b - a;
  }
  for (const i of indexes) {
    const it = items[i]!;
    out.set(raw.subarray(it.start, it.end), pos);
    pos += it.end - it.start;
  }
  return out;
}

/**
 * itemLabels decodes the labels of one TimeSeries item, in request order: a 1.0 series' Label
 * messages, or a 2.0 series' labels_refs resolved through symbols (given for 2.0 only).
 */
export function itemLabels(raw: Uint8Array, item: ShardItem, symbols?: ReadonlyArray<[number, number]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const text = (from: number, to: number): string => Buffer.from(raw.buffer, raw.byteOffset + from, to - from).toString('utf8');
  at = item.start;
  varint(raw);
  const end = varint(raw) + at;
  if (symbols !== undefined) {
    const refs: number[] = [];
    while (at < end) {
      const key = varint(raw);
      if (key === 0x0a) {
        const e = varint(raw) + at;
        while (at < e) refs.push(varint(raw));
      } else if (key === 0x08) refs.push(varint(raw));
      else skipField(raw, key & 7);
    }
    for (let i = 0; i + 1 < refs.length; i += 2) {
      const n = symbols[refs[i]!];
      const v = symbols[refs[i + 1]!];
      if (n === undefined || v === undefined) throw new Error(`labels_refs: symbol out of range`);
      out.push([text(n[0], n[1]), text(v[0], v[1])]);
    }
    return out;
  }
  while (at < end) {
    const key = varint(raw);
    if (key !== 0x0a) {
      skipField(raw, key & 7);
      continue;
    }
    const lend = varint(raw) + at;
    let name = '';
    let value = '';
    while (at < lend) {
      const k = varint(raw);
      if (k === 0x0a || k === 0x12) {
        const l = varint(raw);
        if (k === 0x0a) name = text(at, at + l);
        else value = text(at, at + l);
        at += l;
      } else skipField(raw, k & 7);
    }
    out.push([name, value]);
    at = lend;
  }
  return out;
}
