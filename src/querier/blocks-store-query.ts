// blocks-store-query.ts is the querier's read of the bucket blocks through the
// store-gateways, with Mimir's consistency check and retries
// (blocks_store_queryable.go, queryWithConsistencyCheck):
//
// 1. The blocks of the range are found: one healthy store-gateway names the
//    blocks of the range it knows of in the bucket (POST /internal/v1/blocks;
//    every store-gateway knows them all, owned or not), in place of the bucket
//    index Mimir's querier reads. Another is asked if it fails (three at most).
// 2. Each block is given to ONE of its owners: the store-gateway ring's replica
//    set of the block (HashBlockID, as the store-gateways shard by it), healthy
//    ACTIVE instances only, picked at random to spread the load, in a zone of
//    -querier.prefer-availability-zones first when the ring is zone-aware.
//    Each picked store-gateway is asked once for all the blocks it was given.
// 3. The blocks no answer says it queried (their store-gateway failed, or
//    answered without them) are given to another owner, one not tried for
//    them yet (in a zone not tried yet when zone-aware), up to three attempts
//    in all (Mimir's maxFetchSeriesAttempts). After that, or as soon as a
//    missing block has no owner left to try, the read fails with the
//    consistency check naming the blocks still missing.
//
// Blocks uploaded within the grace period (uploadGraceMs: three sync
// intervals, Mimir's NewBlockDiscoveryDelayMultiplier) are asked for but left
// out of the consistency check: their owners may not have loaded them yet.
//
// A store-gateway's selections and metadata reads (series, label names and
// values) read exactly the blocks it was given that it has loaded, and its
// hints name those (Mimir's queried blocks): a block it was given and left
// out is retried elsewhere.

import type { InternalClient } from '../internal/client.js';
import type { BlockHints } from '../internal/frame.js';
import { INTERNAL_BLOCKS_PATH, type BlocksRequest } from '../internal/ingester-server.js';
import type { Logger } from '../log.js';
import { BLOCKS_READ, isHealthy } from '../ring/model.js';
import type { ReplicaInstance, Ring } from '../ring/ring.js';
import { blockToken } from '../ring/shard.js';

/** MAX_FETCH_ATTEMPTS is how many times a block is asked for, each time of another owner (Mimir's maxFetchSeriesAttempts). */
export const MAX_FETCH_ATTEMPTS = 3;

/** StoreGatewayReads are what a read through the store-gateways needs. */
export interface StoreGatewayReads {
  /** ring is the store-gateway ring. */
  ring: Ring;
  client: InternalClient;
  log: Logger;
  timeoutMs: number;
  /** preferZones are -querier.prefer-availability-zones: their owners are picked first when the ring is zone-aware. */
  preferZones?: readonly string[];
  /**
   * uploadGraceMs: blocks uploaded this recently are asked for but not required by the consistency
   * check, as Mimir's (3 x -blocks-storage.bucket-store.sync-interval: time for their owners to load them).
   */
  uploadGraceMs?: number;
  /** shardSize is a tenant's -store-gateway.tenant-shard-size: its blocks' owners are those of its shuffle shard (storeGatewayShard). */
  shardSize?: (tenant: string) => number;
}

/**
 * storeGatewayShard is the part of the store-gateway ring that owns a tenant's blocks: its shuffle
 * shard of size instances (as Mimir's ShuffleShardingStrategy), or the whole ring when size <= 0.
 */
export function storeGatewayShard(ring: Ring, tenant: string, size: number): Ring {
  return size > 0 ? ring.shuffleShard(tenant, size) : ring;
}

/** StoreCall asks one store-gateway (by address) for its part of the read; blocks are those it was given. */
export type StoreCall<T> = (addr: string, blocks: readonly string[]) => Promise<T>;

/** consistencyError is the read's failure when blocks were not queried (sorted, as Mimir sorts them). */
function consistencyError(missing: Iterable<string>): Error {
  return new Error(`consistency check failed because some blocks were not queried: ${[...missing].sort().join(' ')}`);
}

/** shuffled is a copy of xs in a random order (Fisher-Yates). */
function shuffled<X>(xs: readonly X[]): X[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Tried is what a read has asked so far, per block: the addresses of the store-gateways it was
 * given to, and their zones.
 */
interface Tried {
  addrs: Set<string>;
  zones: Set<string>;
}

/**
 * pickOwner picks the owner a block is given to among those not tried for it yet: at random; with
 * zone awareness, in a zone not tried for it yet first, then in a preferred zone.
 */
function pickOwner(owners: readonly ReplicaInstance[], tried: Tried | undefined, zoneAware: boolean, prefer: ReadonlySet<string>): ReplicaInstance | undefined {
  const left = shuffled(owners.filter((o) => tried?.addrs.has(o.addr) !== true));
  if (!zoneAware) return left[0];
  const rank = (o: ReplicaInstance): number => (tried?.zones.has(o.zone) === true ? 2 : 0) + (prefer.has(o.zone) ? 0 : 1);
  let best: ReplicaInstance | undefined;
  for (const o of left) if (best === undefined || rank(o) < rank(best)) best = o;
  return best;
}

/** Plan is one attempt: each picked store-gateway with the blocks given to it, or why the first block left without an owner has none. */
type Plan = { calls: Map<string, { inst: ReplicaInstance; blocks: string[] }> } | { unowned: string };

/** plan gives each block to one of its healthy owners not tried for it yet (as Mimir's GetClientsFor with its exclude list). */
function plan(reads: StoreGatewayReads, tenant: string, blocks: readonly string[], tried: ReadonlyMap<string, Tried>): Plan {
  const ring = storeGatewayShard(reads.ring, tenant, reads.shardSize?.(tenant) ?? 0);
  const now = Date.now();
  const prefer = new Set(reads.preferZones ?? []);
  const calls = new Map<string, { inst: ReplicaInstance; blocks: string[] }>();
  for (const id of blocks) {
    const replicas = ring.replicasOf(blockToken(id), BLOCKS_READ);
    const healthy = replicas.filter((i) => isHealthy(i, BLOCKS_READ, ring.opts.heartbeatTimeoutMs, now));
    const owner = pickOwner(healthy, tried.get(id), ring.opts.zoneAwarenessEnabled, prefer);
    if (owner === undefined && healthy.length > 0) return { unowned: `no store-gateway instance left after checking exclude for block ${id}` };
    if (owner === undefined) {
      const unhealthy = replicas.map((i) => i.addr);
      return { unowned: `failed to get store-gateway replication set owning the block ${id}: at least 1 healthy replica required, could only find 0${unhealthy.length > 0 ? ` - unhealthy instances: ${unhealthy.join(',')}` : ''}` };
    }
    const call = calls.get(owner.addr);
    if (call === undefined) calls.set(owner.addr, { inst: owner, blocks: [id] });
    else call.blocks.push(id);
  }
  return { calls };
}

/**
 * findBlocks asks a healthy store-gateway (in a preferred zone first, else any, at random) for
 * the blocks of [mint, maxt] it knows of; another one when it fails, up to MAX_FETCH_ATTEMPTS.
 */
async function findBlocks(reads: StoreGatewayReads, tenant: string, mint: number, maxt: number): Promise<BlockHints> {
  const prefer = new Set(reads.preferZones ?? []);
  const zoneAware = reads.ring.opts.zoneAwarenessEnabled;
  const healthy = shuffled(reads.ring.healthyInstances(BLOCKS_READ));
  const order = [...healthy.filter((i) => zoneAware && prefer.has(i.zone)), ...healthy.filter((i) => !(zoneAware && prefer.has(i.zone)))];
  let lastErr = 'no healthy store-gateway in the ring';
  const req: BlocksRequest = { mint, maxt };
  for (const inst of order.slice(0, MAX_FETCH_ATTEMPTS)) {
    try {
      const a = await reads.client.post(inst.addr, INTERNAL_BLOCKS_PATH, tenant, Buffer.from(JSON.stringify(req)), {}, reads.timeoutMs);
      if (a.status !== 200) throw new Error(`${inst.addr}: ${a.status} ${a.body.toString('utf8').trim()}`);
      return JSON.parse(a.body.toString('utf8')) as BlockHints;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
      reads.log.warn('store-gateway query failed', { 'store-gateway': inst.id, err: lastErr });
    }
  }
  throw new Error(`failed to query store-gateways: ${lastErr}`);
}

/**
 * queryStoreGateways reads [mint, maxt] of the tenant's blocks through the store-gateways: each
 * block's read given to one owner, the blocks not queried retried on other owners, up to
 * MAX_FETCH_ATTEMPTS attempts (see the top of this file). call asks one store-gateway for its
 * part; hintsOf reads the blocks its answer names. Answers every store-gateway answer; fails
 * when no store-gateway names the blocks, when a block has no healthy owner, or with the
 * consistency check when blocks are still not queried.
 */
export async function queryStoreGateways<T>(reads: StoreGatewayReads, tenant: string, mint: number, maxt: number, call: StoreCall<T>, hintsOf: (answer: T) => BlockHints | undefined): Promise<T[]> {
  const known = new Set<string>();
  // Blocks uploaded within the grace period: asked for, not required.
  const recent = new Set<string>();
  const since = Date.now() - (reads.uploadGraceMs ?? 0);
  const learn = (h: BlockHints | undefined): void => {
    h?.known.forEach((id, i) => {
      known.add(id);
      if ((h.uploaded?.[i] ?? 0) > since) recent.add(id);
    });
  };
  learn(await findBlocks(reads, tenant, mint, maxt));
  const queried = new Set<string>();
  const tried = new Map<string, Tried>();
  const answers: T[] = [];
  let missing = [...known].sort();
  for (let attempt = 1; attempt <= MAX_FETCH_ATTEMPTS && missing.length > 0; attempt++) {
    const p = plan(reads, tenant, missing, tried);
    if ('unowned' in p) {
      if (attempt === 1) throw new Error(p.unowned);
      // A retry with a block no owner is left for fails anyway: stop here, as Mimir does.
      reads.log.warn('unable to get store-gateway clients while retrying to fetch missing blocks', { attempt, err: p.unowned });
      break;
    }
    if (attempt > 1) {
      const to = [...p.calls.values()].map((c) => `${c.inst.id}:${c.blocks.length}`);
      reads.log.warn('blocks not queried, retrying them on other store-gateways', { attempt, blocks: missing.join(' '), 'store-gateways': to.join(',') });
    }
    const calls = [...p.calls.values()];
    const settled = await Promise.allSettled(calls.map((c) => call(c.inst.addr, c.blocks)));
    settled.forEach((s, i) => {
      const { inst, blocks } = calls[i]!;
      for (const id of blocks) {
        const t = tried.get(id) ?? { addrs: new Set<string>(), zones: new Set<string>() };
        t.addrs.add(inst.addr);
        t.zones.add(inst.zone);
        tried.set(id, t);
      }
      if (s.status === 'rejected') {
        const err = s.reason instanceof Error ? s.reason.message : String(s.reason);
        reads.log.warn('store-gateway query failed', { 'store-gateway': inst.id, attempt, err });
        return;
      }
      answers.push(s.value);
      const h = hintsOf(s.value);
      for (const id of h?.queried ?? []) queried.add(id);
      // A block this store-gateway knows of and the first one did not (synced since) is read too.
      learn(h);
    });
    missing = [...known].filter((id) => !queried.has(id)).sort();
    // Recent blocks are asked for once; the check then leaves them out.
    if (missing.every((id) => recent.has(id))) break;
  }
  missing = missing.filter((id) => !recent.has(id));
  if (missing.length === 0) return answers;
  const err = consistencyError(missing);
  reads.log.warn('failed consistency check after all attempts', { err: err.message });
  throw err;
}
