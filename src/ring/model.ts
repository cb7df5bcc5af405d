// model.ts is the ring's data model, as dskit's ring.Desc: instances with an
// address, zone, state, tokens and timestamps, and the operations (write,
// read, reporting) that decide which states are healthy.

import { randomInt } from 'node:crypto';

/** InstanceState is an instance's state in the ring. */
export type InstanceState = 'ACTIVE' | 'LEAVING' | 'PENDING' | 'JOINING' | 'LEFT';

/** InstanceDesc is one ring member. Timestamps are unix seconds, as dskit stores them. */
export interface InstanceDesc {
  addr: string;
  /** timestamp is the last heartbeat (unix seconds). */
  timestamp: number;
  state: InstanceState;
  tokens: number[];
  zone: string;
  /** registered_timestamp is when the instance joined (unix seconds; 0 unknown). */
  registered_timestamp: number;
  read_only: boolean;
  /** read_only_updated_timestamp is when read_only last changed (unix seconds; 0 never). */
  read_only_updated_timestamp: number;
}

/** RingDesc is the ring stored under one KV key. */
export interface RingDesc {
  ingesters: Record<string, InstanceDesc>;
}

/** Operation decides which states are healthy for an operation, and which extend the replica set. */
export interface Operation {
  healthy: ReadonlySet<InstanceState>;
  extend: (s: InstanceState) => boolean;
}

/** WRITE: only ACTIVE instances take writes; any other state extends the replica set (as dskit's ring.Write). */
export const WRITE: Operation = { healthy: new Set(['ACTIVE']), extend: (s) => s !== 'ACTIVE' };
/** READ: ACTIVE, PENDING and LEAVING instances answer reads; JOINING and PENDING extend the set (as dskit's ring.Read). */
export const READ: Operation = { healthy: new Set(['ACTIVE', 'PENDING', 'LEAVING']), extend: (s) => s !== 'ACTIVE' && s !== 'LEAVING' };
/**
 * BLOCKS_OWNER_SYNC: which store-gateways own a block (as Mimir's BlocksOwnerSync): JOINING, ACTIVE
 * and LEAVING instances load it, and any state but ACTIVE extends the replica set, so a block
 * stays loaded somewhere while an owner joins or leaves.
 */
export const BLOCKS_OWNER_SYNC: Operation = { healthy: new Set(['JOINING', 'ACTIVE', 'LEAVING']), extend: (s) => s !== 'ACTIVE' };
/**
 * BLOCKS_READ: which owners of a block a querier asks for it (as Mimir's BlocksRead): ACTIVE
 * store-gateways; any other state extends the replica set as BLOCKS_OWNER_SYNC does, so the set
 * reaches the instance that loaded the block in place of a JOINING or LEAVING one.
 */
export const BLOCKS_READ: Operation = { healthy: new Set(['ACTIVE']), extend: (s) => s !== 'ACTIVE' };
/** ACTIVE_OWNER: the owner of a key must be ACTIVE, nothing extends (Mimir's compactor and ruler RingOp): a tenant's compactor, a rule group's ruler. */
export const ACTIVE_OWNER: Operation = { healthy: new Set(['ACTIVE']), extend: () => false };
/**
 * ALERTMANAGER_SYNC: whether an alertmanager runs a tenant (Mimir's alertmanager SyncRingOp): ACTIVE
 * and JOINING instances do, any state but ACTIVE extends the replica set. Requests and state
 * replication use WRITE (Mimir's alertmanager RingOp is the same operation).
 */
export const ALERTMANAGER_SYNC: Operation = { healthy: new Set(['ACTIVE', 'JOINING']), extend: (s) => s !== 'ACTIVE' };
/**
 * EXPORTER_LEADER: which overrides-exporter leads (Mimir's exporter ringOp): ACTIVE and LEAVING
 * instances, so that a leader being restarted keeps its place (until it is forgotten); nothing extends.
 */
export const EXPORTER_LEADER: Operation = { healthy: new Set(['ACTIVE', 'LEAVING']), extend: () => false };
/** REPORTING: every state counts (the ring page's health). */
export const REPORTING: Operation = { healthy: new Set(['ACTIVE', 'LEAVING', 'PENDING', 'JOINING', 'LEFT']), extend: () => false };

/** emptyDesc is a ring without members. */
export function emptyDesc(): RingDesc {
  return { ingesters: {} };
}

/** decodeDesc parses a stored ring (undefined or unparsable text is an empty ring). */
export function decodeDesc(text: string | undefined): RingDesc {
  if (text === undefined || text === '') return emptyDesc();
  try {
    const v = JSON.parse(text) as Partial<RingDesc>;
    if (v === null || typeof v !== 'object' || typeof v.ingesters !== 'object' || v.ingesters === null) return emptyDesc();
    const out: RingDesc = { ingesters: {} };
    for (const [id, d] of Object.entries(v.ingesters)) {
      out.ingesters[id] = {
        addr: String(d.addr ?? ''),
        timestamp: Number(d.timestamp ?? 0),
        state: (d.state ?? 'ACTIVE') as InstanceState,
        tokens: Array.isArray(d.tokens) ? d.tokens.map(Number) : [],
        zone: String(d.zone ?? ''),
        registered_timestamp: Number(d.registered_timestamp ?? 0),
        read_only: d.read_only === true,
        read_only_updated_timestamp: Number(d.read_only_updated_timestamp ?? 0),
      };
    }
    return out;
  } catch {
    return emptyDesc();
  }
}

/** encodeDesc serialises a ring for the KV store. */
export function encodeDesc(d: RingDesc): string {
  return JSON.stringify(d);
}

/** isHeartbeatHealthy: the last heartbeat is within timeoutMs of nowMs (timeout 0: always). */
export function isHeartbeatHealthy(i: InstanceDesc, timeoutMs: number, nowMs: number): boolean {
  if (timeoutMs <= 0) return true;
  return nowMs - i.timestamp * 1000 <= timeoutMs;
}

/** isHealthy: the instance's state is healthy for op and its heartbeat is fresh. */
export function isHealthy(i: InstanceDesc, op: Operation, timeoutMs: number, nowMs: number): boolean {
  return op.healthy.has(i.state) && isHeartbeatHealthy(i, timeoutMs, nowMs);
}

/** takenTokens collects every token of the ring. */
export function takenTokens(d: RingDesc): Set<number> {
  const s = new Set<number>();
  for (const i of Object.values(d.ingesters)) for (const t of i.tokens) s.add(t);
  return s;
}

/** generateTokens draws n random uint32 tokens, sorted, none in taken (as dskit's RandomTokenGenerator). */
export function generateTokens(n: number, taken: ReadonlySet<number>): number[] {
  const out = new Set<number>();
  let guard = 0;
  while (out.size < n && guard < n * 100) {
    guard++;
    const t = randomInt(0, 0x1_0000_0000 - 1) >>> 0;
    if (!taken.has(t)) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * ownership gives each instance the share of the token space it owns: a token
 * owns the range from the previous token (exclusive) up to itself, as dskit's
 * Desc.CountTokens. Values are fractions of 2^32.
 */
export function ownership(d: RingDesc): Map<string, number> {
  const all: Array<[number, string]> = [];
  for (const [id, i] of Object.entries(d.ingesters)) for (const t of i.tokens) all.push([t, id]);
  all.sort((a, b) => a[0] - b[0]);
  const out = new Map<string, number>();
  for (const id of Object.keys(d.ingesters)) out.set(id, 0);
  for (let k = 0; k < all.length; k++) {
    const [t, id] = all[k]!;
    const prev = k === 0 ? all[all.length - 1]![0] : all[k - 1]![0];
    const span = k === 0 ? t + (0xffff_ffff - prev) : t - prev;
    out.set(id, (out.get(id) ?? 0) + span);
  }
  for (const [id, n] of out) out.set(id, n / 0xffff_ffff);
  return out;
}
