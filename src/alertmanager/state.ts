// state.ts encodes a tenant's persisted Alertmanager state as Mimir and
// Alertmanager 0.35 do. The bucket object `alertmanager/<tenant>/fullstate`
// is alertspb.FullStateDesc{state: clusterpb.FullState{parts}} with two parts:
// "nfl:<tenant>" (the notification log) and "sil:<tenant>" (the silences).
// Each part's data is what the Alertmanager's MarshalBinary writes: a run of
// varint-length-delimited nflogpb.MeshEntry or silencepb.MeshSilence
// messages; the same bytes are the local snapshot files `notifications` and
// `silences` in the tenant's data directory. State written by older versions
// of ours (one JSON document) is still read, and written back as protobuf.

import { ProtoReader, WireType } from '../remote/proto-reader.js';
import { ProtoWriter } from '../remote/protobuf-writer.js';
import { fromApiMatcher, newMatcher, type ApiMatcher, type MatchType, type Matcher } from './matchers.js';
import type { NflogEntry } from './nflog.js';
import type { Silence } from './silences.js';
import type { LabelSet } from './types.js';

/** NFLOG_KEY_PREFIX and SILENCES_KEY_PREFIX start the FullState part keys (then the tenant). */
export const NFLOG_KEY_PREFIX = 'nfl:';
export const SILENCES_KEY_PREFIX = 'sil:';

/** NflogRecord is one notification log entry with its key (`<group key>\x00<receiver>/<integration>/<index>`). */
export type NflogRecord = [string, NflogEntry];

/** TenantState is a decoded state: the silences and the notification log entries. */
export interface TenantState {
  silences: Silence[];
  nflog: NflogRecord[];
}

/** MATCH_TYPES orders silencepb.Matcher.Type: EQUAL, REGEXP, NOT_EQUAL, NOT_REGEXP. */
const MATCH_TYPES: readonly MatchType[] = ['=', '=~', '!=', '!~'];

/** timestamp writes a google.protobuf.Timestamp field from unix ms (zero fields left out, as Go). */
function timestamp(w: ProtoWriter, field: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  w.message(field, (t) => {
    if (seconds !== 0) t.int64Field(1, seconds);
    if (nanos !== 0) t.uintField(2, nanos);
  });
}

/** readTimestamp reads a google.protobuf.Timestamp as unix ms. */
function readTimestamp(buf: Uint8Array): number {
  const r = new ProtoReader(buf);
  let seconds = 0;
  let nanos = 0;
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Varint) seconds = r.int64();
    else if (field === 2 && wireType === WireType.Varint) nanos = Number(BigInt.asIntN(32, r.varintBig()));
    else r.skip(wireType);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/** uvarint appends v as an unsigned varint. */
function uvarint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** packedFingerprints writes a repeated uint64 field (packed, as proto3) from hex fingerprints. */
function packedFingerprints(w: ProtoWriter, field: number, fps: readonly string[]): void {
  if (fps.length === 0) return;
  const bytes: number[] = [];
  for (const fp of fps) uvarint(bytes, BigInt('0x' + fp));
  w.bytes(field, Uint8Array.from(bytes));
}

/** readFingerprints reads one packed or unpacked repeated uint64 value as hex fingerprints. */
function readFingerprints(r: ProtoReader, wireType: WireType, out: string[]): void {
  const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
  if (wireType === WireType.Varint) {
    out.push(hex(r.varintBig()));
    return;
  }
  const p = new ProtoReader(r.bytes());
  while (!p.done()) out.push(hex(p.varintBig()));
}

/** delimited appends message as a varint-length-delimited record (protodelim). */
function delimited(w: ProtoWriter, message: Uint8Array): void {
  w.varint(message.length);
  w.raw(message);
}

/** records splits a run of varint-length-delimited records. */
function records(buf: Uint8Array): Uint8Array[] {
  const r = new ProtoReader(buf);
  const out: Uint8Array[] = [];
  while (!r.done()) out.push(r.bytes());
  return out;
}

/**
 * NFLOG_RECORDS keeps each entry's encoded record (with its length prefix) by
 * the entry object: entries are never changed once logged (a new notification
 * logs a new object), so a snapshot encodes only the entries that are new
 * since the last one. The log is written after every notification; encoding
 * every entry each time held the event loop for milliseconds with a few
 * hundred entries.
 */
const NFLOG_RECORDS = new WeakMap<NflogEntry, { key: string; record: Uint8Array }>();

/** encodeNflog writes notification log entries as nflog's MarshalBinary (MeshEntry records). */
export function encodeNflog(entries: readonly NflogRecord[]): Buffer {
  const records: Uint8Array[] = [];
  let size = 0;
  for (const [key, e] of entries) {
    let hit = NFLOG_RECORDS.get(e);
    if (hit === undefined || hit.key !== key) {
      hit = { key, record: encodeNflogRecord(key, e) };
      NFLOG_RECORDS.set(e, hit);
    }
    records.push(hit.record);
    size += hit.record.length;
  }
  return Buffer.concat(records, size);
}

/** encodeNflogRecord encodes one entry as a length-delimited MeshEntry record. */
function encodeNflogRecord(key: string, e: NflogEntry): Uint8Array {
  const w = new ProtoWriter(256);
  {
    const cut = key.lastIndexOf('\x00');
    const groupKey = key.slice(0, cut);
    const parts = key.slice(cut + 1).split('/');
    const idx = Number(parts.pop());
    const integration = parts.pop() ?? '';
    const groupName = parts.join('/');
    const mesh = new ProtoWriter(256);
    mesh.message(1, (m) => {
      if (groupKey !== '') m.string(1, groupKey);
      m.message(2, (rcv) => {
        if (groupName !== '') rcv.string(1, groupName);
        if (integration !== '') rcv.string(2, integration);
        if (idx !== 0) rcv.uintField(3, idx);
      });
      timestamp(m, 5, e.timestamp);
      packedFingerprints(m, 6, e.firing);
      packedFingerprints(m, 7, e.resolved);
      for (const k of Object.keys(e.store ?? {}).sort()) {
        m.message(8, (kv) => {
          kv.string(1, k);
          kv.message(2, (v) => v.string(1, (e.store as Record<string, string>)[k] as string));
        });
      }
      packedFingerprints(m, 9, e.muted ?? []);
    });
    timestamp(mesh, 2, e.expiresAt);
    delimited(w, mesh.finish());
  }
  return new Uint8Array(w.finish());
}

/** decodeNflog reads nflog's MarshalBinary (MeshEntry records) into entries. */
export function decodeNflog(buf: Uint8Array): NflogRecord[] {
  const out: NflogRecord[] = [];
  for (const rec of records(buf)) {
    const mesh = new ProtoReader(rec);
    let groupKey = '';
    let receiver = { name: '', integration: '', idx: 0 };
    const e: NflogEntry = { firing: [], resolved: [], timestamp: 0, expiresAt: 0 };
    const store: Record<string, string> = {};
    while (!mesh.done()) {
      const f = mesh.tag();
      if (f.field === 2 && f.wireType === WireType.Bytes) {
        e.expiresAt = readTimestamp(mesh.bytes());
        continue;
      }
      if (f.field !== 1 || f.wireType !== WireType.Bytes) {
        mesh.skip(f.wireType);
        continue;
      }
      const entry = new ProtoReader(mesh.bytes());
      while (!entry.done()) {
        const g = entry.tag();
        if (g.field === 1 && g.wireType === WireType.Bytes) groupKey = Buffer.from(entry.bytes()).toString('utf8');
        else if (g.field === 2 && g.wireType === WireType.Bytes) receiver = decodeReceiver(entry.bytes());
        else if (g.field === 5 && g.wireType === WireType.Bytes) e.timestamp = readTimestamp(entry.bytes());
        else if (g.field === 6) readFingerprints(entry, g.wireType, e.firing);
        else if (g.field === 7) readFingerprints(entry, g.wireType, e.resolved);
        else if (g.field === 8 && g.wireType === WireType.Bytes) decodeReceiverData(entry.bytes(), store);
        else if (g.field === 9) readFingerprints(entry, g.wireType, (e.muted ??= []));
        else entry.skip(g.wireType);
      }
    }
    if (Object.keys(store).length > 0) e.store = store;
    out.push([`${groupKey}\x00${receiver.name}/${receiver.integration}/${receiver.idx}`, e]);
  }
  return out;
}

function decodeReceiver(buf: Uint8Array): { name: string; integration: string; idx: number } {
  const r = new ProtoReader(buf);
  const out = { name: '', integration: '', idx: 0 };
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) out.name = r.string();
    else if (field === 2 && wireType === WireType.Bytes) out.integration = r.string();
    else if (field === 3 && wireType === WireType.Varint) out.idx = r.varint();
    else r.skip(wireType);
  }
  return out;
}

/** decodeReceiverData reads one receiver_data map entry (a ReceiverDataValue: string, int64 or double) into store as text. */
function decodeReceiverData(buf: Uint8Array, store: Record<string, string>): void {
  const r = new ProtoReader(buf);
  let key = '';
  let value = '';
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) key = r.string();
    else if (field === 2 && wireType === WireType.Bytes) {
      const v = new ProtoReader(r.bytes());
      while (!v.done()) {
        const t = v.tag();
        if (t.field === 1 && t.wireType === WireType.Bytes) value = v.string();
        else if (t.field === 2 && t.wireType === WireType.Varint) value = String(v.int64());
        else if (t.field === 3 && t.wireType === WireType.Fixed64) value = String(v.double());
        else v.skip(t.wireType);
      }
    } else r.skip(wireType);
  }
  store[key] = value;
}

function writeMatcher(w: ProtoWriter, field: number, m: Matcher): void {
  w.message(field, (pm) => {
    const type = MATCH_TYPES.indexOf(m.type);
    if (type !== 0) pm.uintField(1, type);
    if (m.name !== '') pm.string(2, m.name);
    if (m.value !== '') pm.string(3, m.value);
  });
}

/**
 * encodeSilences writes silences as the silences' MarshalBinary (MeshSilence
 * records). As 0.35, the matchers go in matcher_sets and, for older readers,
 * in matchers too; a silence expires from the state retentionMs after it ends.
 */
export function encodeSilences(silences: readonly Silence[], retentionMs: number): Buffer {
  const w = new ProtoWriter(Math.min(256 * silences.length + 64, 1 << 20));
  for (const s of silences) {
    const mesh = new ProtoWriter(256);
    mesh.message(1, (m) => {
      if (s.id !== '') m.string(1, s.id);
      for (const x of s.matchers) writeMatcher(m, 2, x);
      timestamp(m, 3, s.startsAt);
      timestamp(m, 4, s.endsAt);
      timestamp(m, 5, s.updatedAt);
      if (s.createdBy !== '') m.string(8, s.createdBy);
      if (s.comment !== '') m.string(9, s.comment);
      // annotations (map<string, string>): one entry message per pair, key and value always written, keys in order.
      for (const k of Object.keys(s.annotations ?? {}).sort()) {
        m.message(10, (kv) => {
          kv.string(1, k);
          kv.string(2, (s.annotations as LabelSet)[k] as string);
        });
      }
      m.message(11, (set) => {
        for (const x of s.matchers) writeMatcher(set, 1, x);
      });
    });
    timestamp(mesh, 2, s.endsAt + retentionMs);
    delimited(w, mesh.finish());
  }
  return Buffer.from(w.finish());
}

function decodeMatcher(buf: Uint8Array): Matcher {
  const r = new ProtoReader(buf);
  let type = 0;
  let name = '';
  let pattern = '';
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Varint) type = r.varint();
    else if (field === 2 && wireType === WireType.Bytes) name = r.string();
    else if (field === 3 && wireType === WireType.Bytes) pattern = r.string();
    else r.skip(wireType);
  }
  const t = MATCH_TYPES[type];
  if (t === undefined) throw new Error(`unknown matcher type ${type}`);
  return newMatcher(t, name, pattern);
}

/** readStringPair reads one map<string, string> entry into out. */
function readStringPair(buf: Uint8Array, out: LabelSet): void {
  const r = new ProtoReader(buf);
  let key = '';
  let value = '';
  while (!r.done()) {
    const { field, wireType } = r.tag();
    if (field === 1 && wireType === WireType.Bytes) key = r.string();
    else if (field === 2 && wireType === WireType.Bytes) value = r.string();
    else r.skip(wireType);
  }
  out[key] = value;
}

/** decodeSilences reads the silences' MarshalBinary (MeshSilence records); matcher_sets win over the older matchers field, as 0.35. */
export function decodeSilences(buf: Uint8Array): Silence[] {
  const out: Silence[] = [];
  for (const rec of records(buf)) {
    const mesh = new ProtoReader(rec);
    while (!mesh.done()) {
      const f = mesh.tag();
      if (f.field !== 1 || f.wireType !== WireType.Bytes) {
        mesh.skip(f.wireType);
        continue;
      }
      const r = new ProtoReader(mesh.bytes());
      const s: Silence = { id: '', matchers: [], startsAt: 0, endsAt: 0, updatedAt: 0, createdBy: '', comment: '' };
      const sets: Matcher[][] = [];
      while (!r.done()) {
        const g = r.tag();
        if (g.wireType !== WireType.Bytes) {
          r.skip(g.wireType);
          continue;
        }
        const b = r.bytes();
        if (g.field === 1) s.id = Buffer.from(b).toString('utf8');
        else if (g.field === 2) s.matchers.push(decodeMatcher(b));
        else if (g.field === 3) s.startsAt = readTimestamp(b);
        else if (g.field === 4) s.endsAt = readTimestamp(b);
        else if (g.field === 5) s.updatedAt = readTimestamp(b);
        else if (g.field === 8) s.createdBy = Buffer.from(b).toString('utf8');
        else if (g.field === 9) s.comment = Buffer.from(b).toString('utf8');
        else if (g.field === 10) readStringPair(b, (s.annotations ??= {}));
        else if (g.field === 11) {
          const set: Matcher[] = [];
          const sr = new ProtoReader(b);
          while (!sr.done()) {
            const h = sr.tag();
            if (h.field === 1 && h.wireType === WireType.Bytes) set.push(decodeMatcher(sr.bytes()));
            else sr.skip(h.wireType);
          }
          sets.push(set);
        }
      }
      if (sets.length > 0) s.matchers = sets[0] as Matcher[];
      out.push(s);
    }
  }
  return out;
}

/** encodeFullState writes alertspb.FullStateDesc with the tenant's nflog and silences parts. */
export function encodeFullState(user: string, nflog: Uint8Array, silences: Uint8Array): Buffer {
  const w = new ProtoWriter(nflog.length + silences.length + 64);
  w.message(1, (state) => {
    state.message(1, (p) => {
      p.string(1, NFLOG_KEY_PREFIX + user);
      if (nflog.length > 0) p.bytes(2, nflog);
    });
    state.message(1, (p) => {
      p.string(1, SILENCES_KEY_PREFIX + user);
      if (silences.length > 0) p.bytes(2, silences);
    });
  });
  return Buffer.from(w.finish());
}

/** decodeFullState reads alertspb.FullStateDesc into its parts (key -> data). */
export function decodeFullState(buf: Uint8Array): Map<string, Uint8Array> {
  const parts = new Map<string, Uint8Array>();
  const desc = new ProtoReader(buf);
  while (!desc.done()) {
    const f = desc.tag();
    if (f.field !== 1 || f.wireType !== WireType.Bytes) {
      desc.skip(f.wireType);
      continue;
    }
    const state = new ProtoReader(desc.bytes());
    while (!state.done()) {
      const g = state.tag();
      if (g.field !== 1 || g.wireType !== WireType.Bytes) {
        state.skip(g.wireType);
        continue;
      }
      const part = new ProtoReader(state.bytes());
      let key = '';
      let data: Uint8Array = new Uint8Array(0);
      while (!part.done()) {
        const h = part.tag();
        if (h.field === 1 && h.wireType === WireType.Bytes) key = part.string();
        else if (h.field === 2 && h.wireType === WireType.Bytes) data = part.bytes();
        else part.skip(h.wireType);
      }
      parts.set(key, data);
    }
  }
  return parts;
}

/** LegacyState is the JSON state of older versions of ours. */
interface LegacyState {
  version: number;
  /** silences is a JSON array of silences with API matchers. */
  silences: string;
  /** nflog is a JSON array of [key, entry]. */
  nflog: string;
}

/** isLegacyState says whether a stored state is the JSON of older versions (a FullStateDesc starts with field 1's tag, 0x0a). */
export function isLegacyState(buf: Uint8Array): boolean {
  return buf.length > 0 && buf[0] === 0x7b;
}

/**
 * decodeTenantState reads a stored state: a FullStateDesc (parts other than
 * the tenant's nfl: and sil: are ignored, as Mimir logs and skips them), or
 * the JSON of older versions of ours.
 */
export function decodeTenantState(buf: Uint8Array, user: string): TenantState {
  if (isLegacyState(buf)) {
    const st = JSON.parse(Buffer.from(buf).toString('utf8')) as LegacyState;
    if (st.version !== 1) throw new Error(`unknown alertmanager state version ${String(st.version)}`);
    const silences = (JSON.parse(st.silences) as Array<Omit<Silence, 'matchers'> & { matchers: ApiMatcher[] }>).map((s) => ({ ...s, matchers: s.matchers.map(fromApiMatcher) }));
    return { silences, nflog: JSON.parse(st.nflog) as NflogRecord[] };
  }
  const parts = decodeFullState(buf);
  const nfl = parts.get(NFLOG_KEY_PREFIX + user);
  const sil = parts.get(SILENCES_KEY_PREFIX + user);
  return { silences: sil === undefined ? [] : decodeSilences(sil), nflog: nfl === undefined ? [] : decodeNflog(nfl) };
}
