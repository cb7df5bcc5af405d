// ring-query.ts is the querier's QueryExecutor in distributed mode: the data
// lives in the ingesters. A query is evaluated twice: first over empty
// selections, which records every raw selection (matchers and time range) the
// engine asks for (they depend on the query and its times, not on data); the
// selections are then fetched from every ACTIVE ingester of the ring in one
// call each, merged and deduplicated (RF replicas hold the same samples), and
// the query is evaluated again over them with the same engine code. The
// series/labels/label values reads fan out the same way.

import type { InternalClient } from '../internal/client.js';
import { decodeSelections, mergeSelections, type MergedSelection, type Selection } from '../internal/frame.js';
import { compareLabels } from '../promql/engine/labels.js';
import { INTERNAL_METADATA_PATH, INTERNAL_SELECT_PATH, type SelectRequest } from '../internal/ingester-server.js';
import type { Logger } from '../log.js';
import { nativeKernels } from '../promql/engine/kernels.js';
import type { Kernels, SelectedSeries } from '../promql/engine/types.js';
import { READ } from '../ring/model.js';
import { RingError, type ReplicationSet, type Ring } from '../ring/ring.js';
import type { LabelMatcher } from '../model/matchers.js';
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
}

interface Recorded {
  matchers: LabelMatcher[];
  mint: number;
  maxt: number;
}

const EMPTY: SelectedSeries = { labels: [], offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };

const keyOf = (m: LabelMatcher[]): string => JSON.stringify(m);

/** withSelect wraps the native kernels with another select (and no fused paths, which read local data). */
function withSelect(base: Kernels, select: Kernels['select']): Kernels {
  return { select, instant: base.instant.bind(base), range: base.range.bind(base) };
}

/** ringQueryExecutor builds the distributed QueryExecutor. */
export function ringQueryExecutor(opts: RingQueryOptions): QueryExecutor {
  const base = nativeKernels();
  return {
    run: async (task, signal): Promise<WorkerAnswer> => {
      // Pass 1: record the selections.
      const recorded = new Map<string, Recorded>();
      const recorder = withSelect(base, (_tenant, matchers, mint, maxt) => {
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

/** cut keeps the samples of sel within [mint, maxt] (series without any are kept empty: select's own shape). */
function cut(sel: MergedSelection, mint: number, maxt: number): SelectedSeries {
  const offsets = new Uint32Array(sel.labels.length + 1);
  let total = 0;
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < sel.labels.length; i++) {
    let a = sel.offsets[i]!;
    let b = sel.offsets[i + 1]!;
    while (a < b && sel.timestamps[a]! < mint) a++;
    while (b > a && sel.timestamps[b - 1]! > maxt) b--;
    ranges.push([a, b]);
    total += b - a;
  }
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  const words = new Uint32Array(values.buffer);
  const src = new Uint32Array(sel.values.buffer, sel.values.byteOffset, sel.values.length * 2);
  let pos = 0;
  const labels = [];
  for (let i = 0; i < ranges.length; i++) {
    const [a, b] = ranges[i]!;
    // The native select leaves out series without samples in the range.
    if (b === a) continue;
    offsets[labels.length] = pos;
    labels.push(sel.labels[i]!);
    timestamps.set(sel.timestamps.subarray(a, b), pos);
    words.set(src.subarray(a * 2, b * 2), pos * 2);
    pos += b - a;
  }
  offsets[labels.length] = pos;
  return { labels, offsets: offsets.slice(0, labels.length + 1), timestamps, values };
}

/**
 * fanOut calls every healthy instance of the read replication set and returns
 * as soon as enough answered (as dskit's replication set does): without
 * zones, all but maxErrors instances; with zones, every instance of all but
 * maxUnavailableZones zones. Waiting for no more than that keeps a slow or
 * dead ingester from holding the query; a quorum-written sample is on at
 * least one of the instances that answered. Fails when too many failed.
 */
async function fanOut<T>(opts: RingQueryOptions, call: (addr: string) => Promise<T>): Promise<T[]> {
  let set: ReplicationSet;
  try {
    set = opts.ring.getReplicationSetForOperation(READ);
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
  return new Promise<T[]>((resolve, reject) => {
    const ok: T[] = [];
    const answered = new Map<string, number>();
    const failedZones = new Set<string>();
    let completeZones = 0;
    let done = false;
    if (needZones <= 0) {
      resolve([]);
      return;
    }
    instances.forEach((inst, i) => {
      const zone = zoneOf(i);
      call(inst.addr).then(
        (v) => {
          if (done) return;
          ok.push(v);
          const n = (answered.get(zone) ?? 0) + 1;
          answered.set(zone, n);
          if (n === perZone.get(zone) && !failedZones.has(zone)) completeZones++;
          if (completeZones >= needZones) {
            done = true;
            resolve(ok);
          }
        },
        (err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          opts.log.warn('ingester query failed', { ingester: inst.id, err: msg });
          if (done) return;
          failedZones.add(zone);
          if (failedZones.size > tolerated) {
            done = true;
            reject(new Error(`failed to query ingesters: ${msg}`));
          }
        },
      );
    });
  });
}

/** fetchSelections asks the ingesters for every selection (one call each) and merges the replicas. */
async function fetchSelections(opts: RingQueryOptions, tenant: string, list: Recorded[]): Promise<MergedSelection[]> {
  if (list.length === 0) return [];
  const now = Date.now();
  // Ranges entirely older than -querier.query-ingesters-within are not in the ingesters.
  const wanted = list.map((r) => opts.queryIngestersWithinMs <= 0 || r.maxt >= now - opts.queryIngestersWithinMs);
  const req: SelectRequest = { selections: list.filter((_, i) => wanted[i]).map((r) => ({ matchers: r.matchers, mint: r.mint, maxt: r.maxt })) };
  let answers: Selection[][] = [];
  if (req.selections.length > 0) {
    answers = await fanOut(opts, async (addr) => {
      const a = await opts.client.post(addr, INTERNAL_SELECT_PATH, tenant, Buffer.from(JSON.stringify(req)), {}, opts.timeoutMs);
      if (a.status !== 200) throw new Error(`${addr}: ${a.status} ${a.body.toString('utf8').trim()}`);
      return decodeSelections(a.body);
    });
  }
  let j = 0;
  return list.map((_, i) => {
    if (!wanted[i]) return mergeSelections([]);
    const k = j++;
    return mergeSelections(answers.map((a) => a[k]!));
  });
}

/** readFromIngesters runs a series / labels / label values read on every ingester and merges the answers. */
async function readFromIngesters(opts: RingQueryOptions, read: MetadataRead): Promise<MetadataReadAnswer> {
  let answers: MetadataReadAnswer[];
  try {
    answers = await fanOut(opts, async (addr) => {
      const a = await opts.client.post(addr, INTERNAL_METADATA_PATH, read.tenant, Buffer.from(JSON.stringify(read)), {}, opts.timeoutMs);
      if (a.status !== 200) throw new Error(`${addr}: ${a.status} ${a.body.toString('utf8').trim()}`);
      return JSON.parse(a.body.toString('utf8')) as MetadataReadAnswer;
    });
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
