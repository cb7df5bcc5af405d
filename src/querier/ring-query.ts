// ring-query.ts is the querier's QueryExecutor in distributed mode: recent
// data lives in the ingesters, older data in the bucket's blocks that the
// store-gateways serve. A query is evaluated twice: first over empty
// selections, which records every raw selection (matchers and time range) the
// engine asks for (they depend on the query and its times, not on data); the
// selections are then fetched in one call each from every ACTIVE ingester of
// the ring (within -querier.query-ingesters-within) and from the store-gateways
// (reaching back past -querier.query-store-after), merged and
// deduplicated (RF replicas, and a block and the head holding the same
// samples), and the query is evaluated again over them with the same engine
// code. The series/labels/label values reads fan out the same way.
//
// Store-gateways load their share of the bucket's blocks (the store-gateway
// ring, -store-gateway.sharding-ring.replication-factor owners per block).
// Each block is read from one of its owners, retried on another when that
// one fails or answers without it, and a read fails, as Mimir's consistency
// check does, rather than answering without a block (blocks-store-query.ts).

import type { InternalClient } from '../internal/client.js';
import { decodeFrame, mergeSelections, type BlockHints, type MergedSelection, type Selection } from '../internal/frame.js';
import { compareLabels } from '../promql/engine/labels.js';
import { INTERNAL_METADATA_PATH, INTERNAL_SELECT_PATH, type MetadataRequest, type SelectRequest } from '../internal/ingester-server.js';
import type { Logger } from '../log.js';
import { nativeKernels } from '../promql/engine/kernels.js';
import type { Kernels, SelectedSeries } from '../promql/engine/types.js';
import { READ } from '../ring/model.js';
import { RingError, type ReplicationSet, type Ring } from '../ring/ring.js';
import type { LabelMatcher } from '../model/matchers.js';
import { queryStoreGateways, type StoreGatewayReads } from './blocks-store-query.js';
import { applyLimit, evaluateTask, toFailure } from './execute.js';
import { encodeQuerySuccessBytes } from './format-bytes.js';
import type { MetadataRead, MetadataReadAnswer } from './metadata.js';
import type { QueryExecutor, WorkerAnswer } from './query-executor.js';

/** RingQueryOptions configure the distributed querier. */
export interface RingQueryOptions {
  ring: Ring;
  client: InternalClient;
  log: Logger;
  timeoutMs: number;
  /** queryIngestersWithinMs is -querier.query-ingesters-within: older ranges are not asked of ingesters (0: always). */
  queryIngestersWithinMs: number;
  /**
   * shardSize is a tenant's -distributor.ingestion-tenant-shard-size: reads go to the ingesters of
   * its shuffle shard, with a lookback of -querier.query-ingesters-within (0 or absent: all).
   */
  shardSize?: (tenant: string) => number;
  /**
   * minimizeRequests is -querier.minimize-ingester-requests: ask only the ingesters a read needs,
   * more on failure and the rest after hedgingDelayMs (-querier.minimize-ingester-requests-hedging-delay).
   */
  minimizeRequests?: boolean;
  hedgingDelayMs?: number;
  /** storeGateways is the store-gateway ring (absent: no store-gateway is asked). */
  storeGateways?: Ring;
  /** queryStoreAfterMs is -querier.query-store-after: newer ranges are not asked of store-gateways (0: always). */
  queryStoreAfterMs?: number;
  /** preferZones are -querier.prefer-availability-zones: a block's owners in them are asked first (zone-aware store-gateway ring). */
  preferZones?: readonly string[];
  /** uploadGraceMs: blocks uploaded this recently are not required by the consistency check (see blocks-store-query.ts). */
  uploadGraceMs?: number;
  /** storeGatewayShardSize is a tenant's -store-gateway.tenant-shard-size: its blocks are read from its shuffle shard. */
  storeGatewayShardSize?: (tenant: string) => number;
}

interface Recorded {
  matchers: LabelMatcher[];
  mint: number;
  maxt: number;
}

const EMPTY: SelectedSeries = { labels: [], offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };

const keyOf = (m: LabelMatcher[]): string => JSON.stringify(m);

/**
 * withSelect wraps the native kernels with another select: no fused paths (selectRange and
 * selectAggregate read the process's own storage, so the engine selects and evaluates instead,
 * histograms included); the kernels over selected data are kept, rangeStartTimes among them.
 */
function withSelect(base: Kernels, select: Kernels['select']): Kernels {
  const k: Kernels = { select, instant: base.instant.bind(base), range: base.range.bind(base) };
  if (base.rangeStartTimes !== undefined) k.rangeStartTimes = base.rangeStartTimes.bind(base);
  return k;
}

/** ringQueryExecutor builds the distributed QueryExecutor. */
export function ringQueryExecutor(opts: RingQueryOptions): QueryExecutor {
  const base = nativeKernels();
  return {
    run: async (task, signal): Promise<WorkerAnswer> => {
      // Pass 1: record the selections.
      const recorded = new Map<string, Recorded>();
      const recorder = withSelect(base, (_tenant, matchers, mint, maxt) => {
        // A bad selector fails here, as Mimir's querier refuses it before asking the stores.
        base.checkMatchers(matchers);
        const k = keyOf(matchers);
        const r = recorded.get(k);
        if (r === undefined) recorded.set(k, { matchers, mint, maxt });
        else {
          r.mint = Math.min(r.mint, mint);
          r.maxt = Math.max(r.maxt, maxt);
        }
        return EMPTY;
      });
      try {
        evaluateTask(recorder, task, signal);
      } catch (err) {
        return toFailure(err);
      }
      // Fetch every selection from the ingesters.
      const list = [...recorded.values()];
      let fetched: MergedSelection[];
      try {
        fetched = await fetchSelections(opts, task.tenant, list);
      } catch (err) {
        return { ok: false, kind: 'internal', message: err instanceof Error ? err.message : String(err) };
      }
      const data = new Map<string, MergedSelection>();
      list.forEach((r, i) => data.set(keyOf(r.matchers), fetched[i]!));
      // Pass 2: evaluate over the fetched samples (each select cut to the range it asks for).
      const serving = withSelect(base, (_tenant, matchers, mint, maxt) => {
        const sel = data.get(keyOf(matchers));
        return sel === undefined ? EMPTY : cut(sel, mint, maxt);
      });
      try {
        return encodeQuerySuccessBytes(applyLimit(evaluateTask(serving, task, signal), task.limit));
      } catch (err) {
        return toFailure(err);
      }
    },
    readMetadata: (read) => readFromIngesters(opts, read),
    close: async () => {
      opts.client.close();
    },
  };
}

/** cut keeps the samples of sel within [mint, maxt], floats and histograms, with their start timestamps. */
function cut(sel: MergedSelection, mint: number, maxt: number): SelectedSeries {
  const h = sel.histograms;
  // The samples of series i in range: floats [fa, fb), histograms [ha, hb).
  const bounds = (ts: Float64Array, a: number, b: number): [number, number] => {
    while (a < b && ts[a]! < mint) a++;
    while (b > a && ts[b - 1]! > maxt) b--;
    return [a, b];
  };
  const ranges: Array<[number, number, number, number]> = [];
  let total = 0;
  let hTotal = 0;
  let dTotal = 0;
  for (let i = 0; i < sel.labels.length; i++) {
    const [fa, fb] = bounds(sel.timestamps, sel.offsets[i]!, sel.offsets[i + 1]!);
    const [ha, hb] = h === undefined ? [0, 0] : bounds(h.timestamps, h.offsets[i]!, h.offsets[i + 1]!);
    ranges.push([fa, fb, ha, hb]);
    total += fb - fa;
    hTotal += hb - ha;
    if (h !== undefined) dTotal += h.dataOffsets[hb]! - h.dataOffsets[ha]!;
  }
  const offsets = new Uint32Array(sel.labels.length + 1);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  const starts = sel.startTimestamps !== undefined ? new Float64Array(total) : undefined;
  // Copies between typed arrays of one type are byte copies: staleness markers keep their bits.
  const hs =
    h !== undefined && hTotal > 0
      ? {
          offsets: new Uint32Array(sel.labels.length + 1),
          timestamps: new Float64Array(hTotal),
          dataOffsets: new Uint32Array(hTotal + 1),
          data: new Float64Array(dTotal),
          ...(h.startTimestamps !== undefined ? { startTimestamps: new Float64Array(hTotal) } : {}),
        }
      : undefined;
  let pos = 0;
  let hPos = 0;
  let dPos = 0;
  const labels = [];
  for (let i = 0; i < ranges.length; i++) {
    const [fa, fb, ha, hb] = ranges[i]!;
    // The native select leaves out series without samples in the range.
    if (fb === fa && hb === ha) continue;
    offsets[labels.length] = pos;
    timestamps.set(sel.timestamps.subarray(fa, fb), pos);
    values.set(sel.values.subarray(fa, fb), pos);
    starts?.set(sel.startTimestamps!.subarray(fa, fb), pos);
    pos += fb - fa;
    if (hs !== undefined) {
      hs.offsets[labels.length] = hPos;
      hs.timestamps.set(h!.timestamps.subarray(ha, hb), hPos);
      hs.startTimestamps?.set(h!.startTimestamps!.subarray(ha, hb), hPos);
      const base = h!.dataOffsets[ha]!;
      for (let k = ha; k < hb; k++) hs.dataOffsets[hPos + k - ha + 1] = dPos + h!.dataOffsets[k + 1]! - base;
      hs.data.set(h!.data.subarray(base, h!.dataOffsets[hb]!), dPos);
      dPos += h!.dataOffsets[hb]! - base;
      hPos += hb - ha;
    }
    labels.push(sel.labels[i]!);
  }
  offsets[labels.length] = pos;
  const out: SelectedSeries = { labels, offsets: offsets.slice(0, labels.length + 1), timestamps, values };
  if (starts !== undefined) out.startTimestamps = starts;
  if (hs !== undefined) {
    hs.offsets[labels.length] = hPos;
    out.histograms = { ...hs, offsets: hs.offsets.slice(0, labels.length + 1) };
  }
  return out;
}

/**
 * fanOut calls the healthy instances of the read replication set and returns
 * as soon as enough answered (as dskit's replication set does): without
 * zones, all but maxErrors instances; with zones, every instance of all but
 * maxUnavailableZones zones. Waiting for no more than that keeps a slow or
 * dead ingester from holding the query; a quorum-written sample is on at
 * least one of the instances that answered. Fails when too many failed.
 * Minimized (dskit's DoUntilQuorum with MinimizeRequests), only that many
 * are asked at first, in a random order: one more (zone) for each failure,
 * and all the rest once the hedging delay passes without an answer.
 */
async function fanOut<T>(opts: RingQueryOptions, tenant: string, call: (addr: string) => Promise<T>): Promise<T[]> {
  let set: ReplicationSet;
  try {
    // The tenant's shuffle shard, with every ingester that may have taken its writes within the
    // ingesters' query window (instances that joined, or went read-only, since).
    const size = opts.shardSize?.(tenant) ?? 0;
    const ring = size > 0 ? opts.ring.shuffleShardWithLookback(tenant, size, opts.queryIngestersWithinMs > 0 ? opts.queryIngestersWithinMs : 365 * 86_400_000) : opts.ring;
    set = ring.getReplicationSetForOperation(READ);
  } catch (err) {
    if (err instanceof RingError) throw new Error(err.message);
    throw err;
  }
  const instances = set.instances;
  const zoneOf = (i: number): string => (set.zoneAwarenessEnabled ? instances[i]!.zone : instances[i]!.id);
  const perZone = new Map<string, number>();
  for (let i = 0; i < instances.length; i++) perZone.set(zoneOf(i), (perZone.get(zoneOf(i)) ?? 0) + 1);
  const tolerated = set.zoneAwarenessEnabled ? set.maxUnavailableZones : set.maxErrors;
  const needZones = perZone.size - tolerated;
  // The zones in the order they are asked (each instance its own zone without zone awareness).
  const order = [...perZone.keys()];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return new Promise<T[]>((resolve, reject) => {
    const ok: T[] = [];
    const answered = new Map<string, number>();
    const failedZones = new Set<string>();
    let completeZones = 0;
    let done = false;
    let hedge: NodeJS.Timeout | undefined;
    const finish = (): void => {
      done = true;
      if (hedge !== undefined) clearTimeout(hedge);
    };
    if (needZones <= 0) {
      resolve([]);
      return;
    }
    let next = 0;
    const askZone = (): void => {
      if (next >= order.length) return;
      const zone = order[next++]!;
      instances.forEach((inst, i) => {
        if (zoneOf(i) !== zone) return;
        call(inst.addr).then(
          (v) => {
            if (done) return;
            ok.push(v);
            const n = (answered.get(zone) ?? 0) + 1;
            answered.set(zone, n);
            if (n === perZone.get(zone) && !failedZones.has(zone)) completeZones++;
            if (completeZones >= needZones) {
              finish();
              resolve(ok);
            }
          },
          (err: unknown) => {
            const msg = err instanceof Error ? err.message : String(err);
            opts.log.warn('ingester query failed', { ingester: inst.id, err: msg });
            if (done || failedZones.has(zone)) return;
            failedZones.add(zone);
            if (failedZones.size > tolerated) {
              finish();
              reject(new Error(`failed to query ingesters: ${msg}`));
              return;
            }
            // Minimized: a failed zone is replaced by the next one.
            askZone();
          },
        );
      });
    };
    const minimize = opts.minimizeRequests === true;
    const first = minimize ? needZones : order.length;
    for (let k = 0; k < first; k++) askZone();
    if (minimize && next < order.length) {
      hedge = setTimeout(() => {
        while (!done && next < order.length) askZone();
      }, opts.hedgingDelayMs ?? 3_000);
      hedge.unref();
    }
  });
}

/** storeReads are the options of a read through the store-gateways (sources() says whether there is one). */
function storeReads(opts: RingQueryOptions): StoreGatewayReads {
  const reads: StoreGatewayReads = { ring: opts.storeGateways!, client: opts.client, log: opts.log, timeoutMs: opts.timeoutMs };
  if (opts.preferZones !== undefined) reads.preferZones = opts.preferZones;
  if (opts.uploadGraceMs !== undefined) reads.uploadGraceMs = opts.uploadGraceMs;
  if (opts.storeGatewayShardSize !== undefined) reads.shardSize = opts.storeGatewayShardSize;
  return reads;
}

/** Sources says which of the ingesters and store-gateways hold data of the range [mint, maxt]. */
function sources(opts: RingQueryOptions, now: number, mint: number, maxt: number): { ingesters: boolean; store: boolean } {
  const storeAfter = opts.queryStoreAfterMs ?? 0;
  return {
    // Ranges entirely older than -querier.query-ingesters-within are not in the ingesters.
    ingesters: opts.queryIngestersWithinMs <= 0 || maxt >= now - opts.queryIngestersWithinMs,
    // Ranges entirely newer than -querier.query-store-after are not in blocks yet.
    store: opts.storeGateways !== undefined && (storeAfter <= 0 || mint < now - storeAfter),
  };
}

/**
 * selectFrom posts selections to one process and decodes its answer (with a store-gateway's block
 * hints); blocks, to a store-gateway, are the blocks it is to read.
 */
async function selectFrom(opts: RingQueryOptions, addr: string, tenant: string, list: Recorded[], blocks?: readonly string[]): Promise<{ selections: Selection[]; hints?: BlockHints }> {
  const req: SelectRequest = { selections: list.map((r) => ({ matchers: r.matchers, mint: r.mint, maxt: r.maxt })) };
  if (blocks !== undefined) req.blocks = [...blocks];
  const a = await opts.client.post(addr, INTERNAL_SELECT_PATH, tenant, Buffer.from(JSON.stringify(req)), {}, opts.timeoutMs);
  if (a.status !== 200) throw new Error(`${addr}: ${a.status} ${a.body.toString('utf8').trim()}`);
  return decodeFrame(a.body);
}

/** fetchSelections asks the ingesters and store-gateways for every selection (one call each) and merges the answers. */
async function fetchSelections(opts: RingQueryOptions, tenant: string, list: Recorded[]): Promise<MergedSelection[]> {
  if (list.length === 0) return [];
  const now = Date.now();
  const from = list.map((r) => sources(opts, now, r.mint, r.maxt));
  const toIngesters = list.filter((_, i) => from[i]!.ingesters);
  const toStore = list.filter((_, i) => from[i]!.store);
  // The range of the store-gateways' hints: from the first mint to the last maxt asked of them.
  const storeMint = Math.min(...toStore.map((r) => r.mint));
  const storeMaxt = Math.max(...toStore.map((r) => r.maxt));
  const [ingesterFrames, storeFrames] = await Promise.all([
    toIngesters.length > 0 ? fanOut(opts, tenant, (addr) => selectFrom(opts, addr, tenant, toIngesters)) : Promise.resolve([]),
    toStore.length > 0
      ? queryStoreGateways(
          storeReads(opts),
          tenant,
          storeMint,
          storeMaxt,
          (addr, blocks) => selectFrom(opts, addr, tenant, toStore, blocks),
          (f) => f.hints,
        )
      : Promise.resolve([]),
  ]);
  const ingesterAnswers = ingesterFrames.map((f) => f.selections);
  const storeAnswers = storeFrames.map((f) => f.selections);
  let ji = 0;
  let js = 0;
  return list.map((_, i) => {
    const parts: Selection[] = [];
    if (from[i]!.ingesters) {
      const k = ji++;
      for (const a of ingesterAnswers) parts.push(a[k]!);
    }
    if (from[i]!.store) {
      const k = js++;
      for (const a of storeAnswers) parts.push(a[k]!);
    }
    return mergeSelections(parts);
  });
}

/** readFromIngesters runs a series / labels / label values read on every ingester (and store-gateway, for older ranges) and merges the answers. */
async function readFromIngesters(opts: RingQueryOptions, read: MetadataRead): Promise<MetadataReadAnswer> {
  let answers: MetadataReadAnswer[];
  // A store-gateway is given the blocks it is to read.
  const call = async (addr: string, blocks?: readonly string[]): Promise<MetadataReadAnswer & { blocks?: BlockHints }> => {
    const body: MetadataRequest = blocks !== undefined ? { ...read, blocks: [...blocks] } : read;
    const a = await opts.client.post(addr, INTERNAL_METADATA_PATH, read.tenant, Buffer.from(JSON.stringify(body)), {}, opts.timeoutMs);
    if (a.status !== 200) throw new Error(`${addr}: ${a.status} ${a.body.toString('utf8').trim()}`);
    return JSON.parse(a.body.toString('utf8')) as MetadataReadAnswer & { blocks?: BlockHints };
  };
  const from = sources(opts, Date.now(), read.mint, read.maxt);
  try {
    const [fromIngesters, fromStore] = await Promise.all([
      from.ingesters ? fanOut(opts, read.tenant, (addr) => call(addr)) : Promise.resolve([]),
      from.store ? queryStoreGateways(storeReads(opts), read.tenant, read.mint, read.maxt, call, (a) => a.blocks) : Promise.resolve([]),
    ]);
    answers = [...fromIngesters, ...fromStore];
  } catch (err) {
    return { ok: false, kind: 'internal', message: err instanceof Error ? err.message : String(err) };
  }
  const failed = answers.find((a) => !a.ok);
  if (failed !== undefined) return failed;
  // The same limit + 1 the single-process read uses, so that truncation is still detected.
  const cap = read.limit > 0 ? read.limit + 1 : Infinity;
  if (read.op === 'series') {
    const seen = new Map<string, Record<string, string>>();
    for (const a of answers) {
      if (!a.ok || !('json' in a)) continue;
      for (const s of JSON.parse(a.json) as Array<Record<string, string>>) seen.set(JSON.stringify(s), s);
    }
    const all = [...seen.values()].sort(compareLabels).slice(0, cap);
    return { ok: true, json: JSON.stringify(all) };
  }
  const values = new Set<string>();
  for (const a of answers) if (a.ok && 'values' in a) for (const v of a.values) values.add(v);
  return { ok: true, values: [...values].sort().slice(0, cap) };
}
