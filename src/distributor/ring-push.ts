// ring-push.ts is the distributor's push executor in distributed mode: the
// remote-write body is uncompressed and split by ring token (src/ring/shard.ts),
// each ingester gets the series whose replica set holds it (one internal
// call per ingester), and the push succeeds once every series is stored on a
// quorum of its replicas (RF/2+1, as Mimir), failing with the ring's or the
// ingester's error otherwise. Validation and appends run in the ingesters,
// through their usual push path.

import snappy from '@napi-rs/snappy';
import type { InternalClient } from '../internal/client.js';
import { INTERNAL_PUSH_PATH, LIMITS_HEADER, PROTOCOL_HEADER } from '../internal/ingester-server.js';
import type { Logger } from '../log.js';
import { WRITE } from '../ring/model.js';
import { RingError, type ReplicationSet, type Ring } from '../ring/ring.js';
import { joinItems, shardWriteRequest, shardWriteRequestV2 } from '../ring/shard.js';
import type { IngestResult } from '../storage/native.js';
import type { PushExecutor } from './distributor.js';
import { SNAPPY_CORRUPT, snappyUncompressedLength, type PushOutcome, type PushTask } from './push.js';

/** RingPushOptions configure the executor. */
export interface RingPushOptions {
  ring: Ring;
  client: InternalClient;
  log: Logger;
  /** timeoutMs is the deadline of one ingester call (-distributor.remote-timeout). */
  timeoutMs: number;
}

/** Group is the items that share one replica set. */
interface Group {
  set: ReplicationSet;
  items: number[];
}

/** IngesterFailure is why an ingester did not take its part. */
class IngesterFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const NUMERIC_FIELDS = ['series', 'samples', 'exemplars', 'metadata', 'histograms', 'acceptedSamples', 'acceptedHistograms', 'createdSeries', 'acceptedExemplars', 'failedExemplars', 'acceptedMetadata', 'dedupedSamples', 'nonHaSamples'] as const;

/** ringPushExecutor builds the distributed PushExecutor. */
export function ringPushExecutor(opts: RingPushOptions): PushExecutor {
  return {
    run: (task) => pushToIngesters(opts, task),
    close: async () => {
      opts.client.close();
    },
  };
}

async function pushToIngesters(opts: RingPushOptions, task: PushTask): Promise<PushOutcome> {
  const compressed = Buffer.from(task.body);
  const size = snappyUncompressedLength(compressed);
  if (size === undefined) return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  if (size > task.maxRecvMsgSize) return { kind: 'too_large', uncompressedSize: size };
  let raw: Buffer;
  try {
    raw = snappy.uncompressSync(compressed) as Buffer;
  } catch {
    return { kind: 'bad_snappy', message: SNAPPY_CORRUPT };
  }
  let items;
  let common: Array<[number, number]> = [];
  try {
    if (task.protocol === 2) ({ items, common } = shardWriteRequestV2(task.tenant, raw));
    else items = shardWriteRequest(task.tenant, raw);
  } catch (err) {
    return { kind: 'ingested', result: failed(400, `failed to parse the write request: ${err instanceof Error ? err.message : String(err)}`) };
  }
  if (items.length === 0) return { kind: 'ingested', result: emptyResult() };

  // Replica sets: one per distinct set of instances (few: with 3 ingesters and RF=3, one).
  const groups = new Map<string, Group>();
  const now = Date.now();
  try {
    for (let i = 0; i < items.length; i++) {
      const set = opts.ring.get(items[i]!.token, WRITE, now);
      const key = set.instances.map((x) => x.id).join('\u0000');
      let g = groups.get(key);
      if (g === undefined) {
        g = { set, items: [] };
        groups.set(key, g);
      }
      g.items.push(i);
    }
  } catch (err) {
    if (err instanceof RingError) return { kind: 'ingested', result: failed(500, err.message) };
    throw err;
  }

  // Each instance's part: the items of every group it is in.
  const perInstance = new Map<string, { addr: string; items: number[]; groups: Group[] }>();
  for (const g of groups.values()) {
    for (const inst of g.set.instances) {
      let p = perInstance.get(inst.id);
      if (p === undefined) {
        p = { addr: inst.addr, items: [], groups: [] };
        perInstance.set(inst.id, p);
      }
      for (const i of g.items) p.items.push(i);
      p.groups.push(g);
    }
  }

  const groupIds = new Map<Group, number>([...groups.values()].map((g, i) => [g, i]));
  const limitsHeader = Buffer.from(JSON.stringify(task.limits)).toString('base64');
  const results: IngestResult[] = [];
  let sentItems = 0;
  const outcome = await new Promise<{ ok: true } | { ok: false; err: IngesterFailure }>((resolve) => {
    const ok = new Map<Group, number>();
    const bad = new Map<Group, number>();
    let undecided = groups.size;
    let done = false;
    let pending = perInstance.size;
    const finish = (v: { ok: true } | { ok: false; err: IngesterFailure }): void => {
      if (done) return;
      done = true;
      resolve(v);
    };
    // Instances with the same groups get the same bytes: compressed once; the whole request as it came.
    const bodies = new Map<string, Buffer>();
    const whole = coversAll(items, common, raw.length);
    for (const [id, part] of perInstance) {
      const key = part.groups.map((g) => groupIds.get(g)).join(',');
      let body = bodies.get(key);
      if (body === undefined) {
        body = whole && part.items.length === items.length ? compressed : (snappy.compressSync(joinItems(raw, items, part.items, common)) as Buffer);
        bodies.set(key, body);
      }
      opts.client
        .postCompressed(part.addr, INTERNAL_PUSH_PATH, task.tenant, body, { [LIMITS_HEADER]: limitsHeader, ...(task.protocol === 2 ? { [PROTOCOL_HEADER]: '2' } : {}) }, opts.timeoutMs)
        .then((answer) => {
          if (answer.status !== 200) throw new IngesterFailure(`failed pushing to ingester ${id}: ${answer.body.toString('utf8').trim() || `status ${answer.status}`}`, answer.status >= 500 ? answer.status : 500);
          const out = JSON.parse(answer.body.toString('utf8')) as PushOutcome;
          if (out.kind !== 'ingested') throw new IngesterFailure(out.kind === 'unsupported' || out.kind === 'bad_snappy' ? out.message : `ingester ${id}: ${out.kind}`, 500);
          results.push(out.result);
          sentItems += part.items.length;
          for (const g of part.groups) {
            const n = (ok.get(g) ?? 0) + 1;
            ok.set(g, n);
            if (n === g.set.instances.length - g.set.maxErrors) undecided--;
          }
          if (undecided === 0) finish({ ok: true });
        })
        .catch((err: unknown) => {
          const f = err instanceof IngesterFailure ? err : new IngesterFailure(`failed pushing to ingester ${id}: ${err instanceof Error ? err.message : String(err)}`, 500);
          opts.log.warn('push to ingester failed', { ingester: id, addr: part.addr, err: f.message });
          for (const g of part.groups) {
            const n = (bad.get(g) ?? 0) + 1;
            bad.set(g, n);
            if (n > g.set.maxErrors) finish({ ok: false, err: f });
          }
        })
        .finally(() => {
          pending--;
          if (pending === 0) finish(undecided === 0 ? { ok: true } : { ok: false, err: new IngesterFailure('failed pushing to ingesters: no quorum', 500) });
        });
    }
  });
  if (!outcome.ok) return { kind: 'ingested', result: failed(outcome.err.status, outcome.err.message) };
  return { kind: 'ingested', result: mergeResults(results, items.length, sentItems) };
}

/** coversAll tells whether the items and common ranges are the whole request (nothing else in it). */
function coversAll(items: ReadonlyArray<{ start: number; end: number }>, common: ReadonlyArray<[number, number]>, length: number): boolean {
  let n = 0;
  for (const it of items) n += it.end - it.start;
  for (const [a, b] of common) n += b - a;
  return n === length;
}

/**
 * mergeResults folds the ingesters' answers into one result for the request: counts are summed
 * and scaled by items / items sent (each item was sent to its replicas), the first error kept.
 */
function mergeResults(results: IngestResult[], items: number, sent: number): IngestResult {
  const scale = sent > 0 ? items / sent : 1;
  const out = emptyResult();
  const o = out as unknown as Record<string, number>;
  const discarded = new Map<string, number>();
  for (const r of results) {
    const x = r as unknown as Record<string, number | undefined>;
    for (const f of NUMERIC_FIELDS) o[f] = (o[f] ?? 0) + (x[f] ?? 0);
    for (let i = 0; i + 1 < r.discarded.length; i += 2) discarded.set(String(r.discarded[i]), (discarded.get(String(r.discarded[i])) ?? 0) + Number(r.discarded[i + 1]));
    if (out.errorMessage === undefined && r.errorMessage !== undefined && r.errorMessage !== '') {
      out.errorMessage = r.errorMessage;
      out.errorStatus = r.errorStatus ?? 400;
    }
    if (out.metadataWarning === undefined && r.metadataWarning !== undefined) out.metadataWarning = r.metadataWarning;
  }
  for (const f of NUMERIC_FIELDS) o[f] = Math.round((o[f] ?? 0) * scale);
  out.discarded = [...discarded].flatMap(([k, v]) => [k, Math.round(v * scale)]);
  return out;
}

function emptyResult(): IngestResult {
  return { series: 0, samples: 0, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: 0, createdSeries: 0, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
}

function failed(status: number, message: string): IngestResult {
  return { ...emptyResult(), errorStatus: status, errorMessage: message };
}
