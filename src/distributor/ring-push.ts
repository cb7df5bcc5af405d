// ring-push.ts is the distributor's push executor in distributed mode: the
// remote-write body is uncompressed and split by ring token (src/ring/shard.ts),
// each ingester gets the series whose replica set holds it (one internal
// call per ingester), and the push succeeds once every series is stored on a
// quorum of its replicas (RF/2+1, as Mimir), failing with the ring's or the
// ingester's error otherwise. Validation and appends run in the ingesters,
// through their usual push path. Before the fan-out, as Mimir's distributor:
// HA deduplication against the elected replica in the KV store shared by the
// distributors (ha-kv.ts), the tenant's ingestion rate limit (its share: the
// limit divided by the healthy distributors of the distributor ring; counted
// on the items that pass validation when the rate limit is given a validator,
// on every item otherwise), and the tenant's shuffle shard of the ingester
// ring (read-only ingesters left out).
// OTLP bodies are translated into a remote-write request (Rust) and take the
// same path.

import snappy from '@napi-rs/snappy';
import type { InternalClient } from '../internal/client.js';
import { INTERNAL_PUSH_PATH, LIMITS_HEADER, PROTOCOL_HEADER } from '../internal/ingester-server.js';
import type { Logger } from '../log.js';
import { WRITE } from '../ring/model.js';
import { RingError, type ReplicationSet, type Ring } from '../ring/ring.js';
import { itemLabels, joinItems, shardWriteRequest, shardWriteRequestV2, type ShardItem } from '../ring/shard.js';
import type { IngestResult, OtlpIngestResult, OtlpOptions, OtlpWriteRequest } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';
import type { PushExecutor } from './distributor.js';
import type { HaKvTracker } from './ha-kv.js';
import type { OtlpOutcome, OtlpTask } from './otlp-push.js';
import { SNAPPY_CORRUPT, snappyUncompressedLength, type PushOutcome, type PushTask } from './push.js';

/** RingPushOptions configure the executor. */
export interface RingPushOptions {
  ring: Ring;
  client: InternalClient;
  log: Logger;
  /** timeoutMs is the deadline of one ingester call (-distributor.remote-timeout). */
  timeoutMs: number;
  /** shardSize is a tenant's -distributor.ingestion-tenant-shard-size (absent or <= 0: every writable ingester). */
  shardSize?: (tenant: string) => number;
  /** rateLimit, when given, applies the ingestion rate limit here instead of in the ingesters. */
  rateLimit?: DistributorRateLimit;
  /** ha, when given, elects HA replicas in the shared KV store instead of in each ingester. */
  ha?: HaKvTracker;
  /** otlpWriteRequest translates OTLP bodies, on a worker thread or here (absent: OTLP pushes are unsupported). */
  otlpWriteRequest?: (body: ArrayBuffer, opts: OtlpOptions) => OtlpWriteRequest | Promise<OtlpWriteRequest>;
  /** otlpValidationMessage rewords an ingester's validation error for an OTLP body as the monolith does (absent: kept). */
  otlpValidationMessage?: (body: Uint8Array, opts: OtlpOptions, limits: IngestLimits, message: string) => string;
}

/** DistributorRateLimit is the distributor's side of the ingestion rate limit. */
export interface DistributorRateLimit {
  /** distributors is how many distributors share a tenant's limit (global: the healthy ones in the ring; local: 1). */
  distributors: (tenant: string) => number;
  /** allow takes items from the tenant's bucket at rate/burst; the refusal text (naming limitRate) or null. */
  allow: (tenant: string, items: number, rate: number, burst: number, limitRate: number) => string | null | undefined;
  /**
   * validated counts what of an uncompressed request passes validation under limits (the
   * ingesters' validation, as the monolith's rate limiter counts it): the limit takes only
   * that, as Mimir's distributor takes it after its validation. Absent: every item counts.
   */
  validated?: (tenant: string, raw: Uint8Array, protocol: 1 | 2, limits: IngestLimits) => ValidatedItems | Promise<ValidatedItems>;
}

/** ValidatedItems are a request's items that pass validation: samples (native histograms among them), exemplars, metadata. */
export interface ValidatedItems {
  samples: number;
  exemplars: number;
  metadata: number;
}

/** REASON_RATE_LIMITED is the discarded-samples reason of a rate-limited push. */
const REASON_RATE_LIMITED = 'rate_limited';
/** REASON_OTLP_PARSE_ERROR is the discarded-samples reason of metrics the OTLP translator dropped. */
const REASON_OTLP_PARSE_ERROR = 'otlp_parse_error';
/** gRPC status codes of OTLP error answers. */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_INTERNAL = 13;

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
    runOtlp: opts.otlpWriteRequest === undefined ? undefined : (task) => pushOtlp(opts, task),
    close: async () => {
      opts.client.close();
      opts.ha?.close();
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
  return { kind: 'ingested', result: await pushRaw(opts, task.tenant, task.limits, task.protocol === 2 ? 2 : 1, raw, compressed) };
}

/**
 * pushOtlp translates an OTLP body into a remote-write request and pushes it, answering as the
 * monolith's OTLP path does (ingest_otlp): 429 ResourceExhausted, validation 400 InvalidArgument,
 * the head's refusals a 200 with partial_success, dropped metrics a 400 `otlp parse error`.
 */
async function pushOtlp(opts: RingPushOptions, task: OtlpTask): Promise<OtlpOutcome> {
  const conv = await opts.otlpWriteRequest!(task.body, task.options);
  if (conv.refusal !== undefined && conv.refusal !== null) return { kind: 'ingested', result: conv.refusal };
  // From a worker the request comes back as a Uint8Array (structured clone): viewed as a Buffer.
  const raw = Buffer.from(conv.writeRequest.buffer, conv.writeRequest.byteOffset, conv.writeRequest.byteLength);
  const r = await pushRaw(opts, task.tenant, task.limits, 1, raw, undefined);
  // A validation error names the OTel attribute and metric, as the monolith's OTLP path words it.
  if (r.errorStatus === 400 && r.ingesterError !== true && r.errorMessage !== undefined && opts.otlpValidationMessage !== undefined) {
    r.errorMessage = opts.otlpValidationMessage(new Uint8Array(task.body), task.options, task.limits, r.errorMessage);
  }
  return { kind: 'ingested', result: otlpAnswer(r, conv) };
}

/** otlpAnswer turns the pushed translation's result into the OTLP answer. */
export function otlpAnswer(r: IngestResult, conv: Pick<OtlpWriteRequest, 'parseError' | 'dropped' | 'uncompressedSize'>): OtlpIngestResult {
  const ingest: IngestResult = { ...r, discarded: conv.dropped > 0 ? [...r.discarded, REASON_OTLP_PARSE_ERROR, conv.dropped] : r.discarded };
  delete ingest.errorMessage;
  delete ingest.errorStatus;
  const out: OtlpIngestResult = { ingest, status: 200, grpcCode: 0, message: '', partialSuccess: false, uncompressedSize: conv.uncompressedSize };
  const msg = r.errorMessage ?? '';
  const status = r.errorStatus;
  if (status === undefined || msg === '') {
    if (conv.parseError !== undefined && conv.parseError !== null) Object.assign(out, { status: 400, grpcCode: 400, message: conv.parseError });
  } else if (status === 429) Object.assign(out, { status: 429, grpcCode: GRPC_RESOURCE_EXHAUSTED, message: msg });
  else if (status === 400 && r.ingesterError === true) Object.assign(out, { status: 200, partialSuccess: true, message: msg });
  else if (status === 400) Object.assign(out, { status: 400, grpcCode: GRPC_INVALID_ARGUMENT, message: msg });
  else if (status === 202) Object.assign(out, { status: 202, grpcCode: GRPC_ALREADY_EXISTS, message: msg });
  else Object.assign(out, { status: status >= 500 ? status : 503, grpcCode: GRPC_INTERNAL, message: msg });
  return out;
}

/** LOCAL_LIMIT_FIELDS are the global per-tenant limits each ingester enforces a share of. */
const LOCAL_LIMIT_FIELDS = ['maxGlobalSeriesPerUser', 'maxGlobalSeriesPerMetric', 'maxGlobalMetadataPerUser', 'maxGlobalMetadataPerMetric'] as const;

/**
 * localLimit is one ingester's share of a tenant's global limit, as Mimir's ingester limiter
 * converts it: each series is on min(RF, n) of the n ingesters the tenant writes to (its shard
 * size when shuffle sharded, else the ring's), so an ingester holds global × min(RF, n) / n of
 * them; with zone awareness, each zone holds every series once: global / ingesters per zone (the
 * shard's per zone). Never below 1, never above global.
 */
export function localLimit(global: number, ring: Ring, shardSize: number): number {
  const desc = ring.getDesc().ingesters;
  const all = Object.values(desc);
  if (all.length === 0) return global;
  let share: number;
  if (ring.opts.zoneAwarenessEnabled) {
    const zones = new Set(all.map((i) => i.zone)).size;
    let perZone = Math.ceil(all.length / zones);
    if (shardSize > 0) perZone = Math.min(perZone, Math.ceil(shardSize / zones));
    share = global / perZone;
  } else {
    const n = shardSize > 0 ? Math.min(all.length, shardSize) : all.length;
    share = (global * Math.min(ring.opts.replicationFactor, n)) / n;
  }
  return Math.min(global, Math.max(1, Math.floor(share)));
}

/** haLabels finds the cluster and replica values among labels ('' when absent; the last occurrence wins, as Mimir). */
function haLabels(labels: Array<[string, string]>, clusterLabel: string, replicaLabel: string): { cluster: string; replica: string } {
  let cluster = '';
  let replica = '';
  for (const [n, v] of labels) {
    if (n === clusterLabel) cluster = v;
    if (n === replicaLabel) replica = v;
  }
  return { cluster, replica };
}

/** pushRaw shards an uncompressed request (compressed: the same bytes as posted, reused when one ingester takes all of it) and pushes it. */
async function pushRaw(opts: RingPushOptions, tenant: string, taskLimits: IngestLimits, protocol: 1 | 2, raw: Buffer, compressed: Buffer | undefined): Promise<IngestResult> {
  let items: ShardItem[];
  let common: Array<[number, number]> = [];
  let symbols: Array<[number, number]> | undefined;
  try {
    if (protocol === 2) ({ items, common, symbols } = shardWriteRequestV2(tenant, raw));
    else items = shardWriteRequest(tenant, raw);
  } catch (err) {
    return failed(400, `failed to parse the write request: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (items.length === 0) return emptyResult();
  let samples = 0;
  let exemplars = 0;
  let metadata = 0;
  for (const it of items) {
    samples += it.samples;
    exemplars += it.exemplars;
    if (it.meta) metadata++;
  }
  const limits: IngestLimits = { ...taskLimits };

  // HA deduplication (the first series' labels decide for the whole request, as Mimir).
  const ha = limits.ha;
  if (opts.ha !== undefined && ha !== undefined && ha.trackerEnabled) {
    const first = items.find((it) => !it.meta);
    const { cluster, replica } = first === undefined ? { cluster: '', replica: '' } : haLabels(itemLabels(raw, first, symbols), ha.clusterLabel, ha.replicaLabel);
    if (cluster !== '' && replica !== '' && Buffer.byteLength(replica) <= limits.maxLabelValueLength) {
      let decision;
      try {
        decision = await opts.ha.check(tenant, cluster, replica, {
          updateTimeoutMs: ha.updateTimeoutMs,
          failoverTimeoutMs: ha.failoverTimeoutMs,
          maxClusters: ha.maxClusters,
          nowMs: ha.nowMs,
        });
      } catch (err) {
        return failed(500, `failed to check the HA replica: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!decision.ok) return { ...failed(decision.status, decision.message), haCluster: cluster, dedupedSamples: decision.status === 202 ? samples : 0 };
    }
    // Elected (or not an HA push): the ingesters only drop the replica label.
    limits.ha = { ...ha, trackerEnabled: false };
  }

  // The ingestion rate limit: this distributor's share of the tenant's limit, on the items that
  // pass validation (after the HA replica label was dropped), only when samples or metadata are
  // left (as Mimir: a request refused by validation alone takes nothing).
  if (opts.rateLimit !== undefined && limits.ingestionRate !== undefined) {
    const rate = limits.ingestionRate;
    if (Number.isFinite(rate)) {
      const n = (await opts.rateLimit.validated?.(tenant, raw, protocol, limits)) ?? { samples, exemplars, metadata };
      if (n.samples > 0 || n.metadata > 0) {
        const share = rate / Math.max(1, opts.rateLimit.distributors(tenant));
        const refused = opts.rateLimit.allow(tenant, n.samples + n.exemplars + n.metadata, share, limits.ingestionBurstSize, rate);
        if (refused !== null && refused !== undefined) return rateLimited(refused, n);
      }
    }
    delete limits.ingestionRate;
  }

  // The tenant's shuffle shard (read-only ingesters never take writes).
  const shardSize = opts.shardSize?.(tenant) ?? 0;
  const ring = opts.ring.shuffleShard(tenant, shardSize);
  // Series and metadata limits are the tenant's, across the cluster: each ingester enforces its share.
  for (const f of LOCAL_LIMIT_FIELDS) {
    const global = limits[f];
    if (global !== undefined && global > 0) limits[f] = localLimit(global, opts.ring, shardSize);
  }

  // Replica sets: one per distinct set of instances (few: with 3 ingesters and RF=3, one).
  const groups = new Map<string, Group>();
  const now = Date.now();
  try {
    for (let i = 0; i < items.length; i++) {
      const set = ring.get(items[i]!.token, WRITE, now);
      const key = set.instances.map((x) => x.id).join('\u0000');
      let g = groups.get(key);
      if (g === undefined) {
        g = { set, items: [] };
        groups.set(key, g);
      }
      g.items.push(i);
    }
  } catch (err) {
    if (err instanceof RingError) return failed(500, err.message);
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
  const limitsHeader = Buffer.from(JSON.stringify(limits)).toString('base64');
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
        body = compressed !== undefined && whole && part.items.length === items.length ? compressed : (snappy.compressSync(joinItems(raw, items, part.items, common)) as Buffer);
        bodies.set(key, body);
      }
      opts.client
        .postCompressed(part.addr, INTERNAL_PUSH_PATH, tenant, body, { [LIMITS_HEADER]: limitsHeader, ...(protocol === 2 ? { [PROTOCOL_HEADER]: '2' } : {}) }, opts.timeoutMs)
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
  if (!outcome.ok) return failed(outcome.err.status, outcome.err.message);
  return mergeResults(results, items.length, sentItems);
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
  const exemplars = new Map<string, number>();
  const metadata = new Map<string, number>();
  for (const r of results) {
    const x = r as unknown as Record<string, number | undefined>;
    for (const f of NUMERIC_FIELDS) o[f] = (o[f] ?? 0) + (x[f] ?? 0);
    addReasons(discarded, r.discarded);
    addReasons(exemplars, r.discardedExemplars);
    addReasons(metadata, r.discardedMetadata);
    if (out.errorMessage === undefined && r.errorMessage !== undefined && r.errorMessage !== '') {
      out.errorMessage = r.errorMessage;
      out.errorStatus = r.errorStatus ?? 400;
      if (r.ingesterError !== undefined) out.ingesterError = r.ingesterError;
    }
    if (out.metadataWarning === undefined && r.metadataWarning !== undefined) out.metadataWarning = r.metadataWarning;
  }
  for (const f of NUMERIC_FIELDS) o[f] = Math.round((o[f] ?? 0) * scale);
  const scaled = (m: Map<string, number>): Array<string | number> => [...m].flatMap(([k, v]) => [k, Math.round(v * scale)]);
  out.discarded = scaled(discarded);
  if (exemplars.size > 0) out.discardedExemplars = scaled(exemplars);
  if (metadata.size > 0) out.discardedMetadata = scaled(metadata);
  return out;
}

/** addReasons adds a flat [reason, count, ...] list into per-reason totals. */
function addReasons(into: Map<string, number>, flat: ReadonlyArray<string | number> | undefined): void {
  if (flat === undefined) return;
  for (let i = 0; i + 1 < flat.length; i += 2) into.set(String(flat[i]), (into.get(String(flat[i])) ?? 0) + Number(flat[i + 1]));
}

function emptyResult(): IngestResult {
  return { series: 0, samples: 0, exemplars: 0, metadata: 0, histograms: 0, acceptedSamples: 0, createdSeries: 0, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
}

/** rateLimited is the 429 of a refused request, its items counted as discarded `rate_limited` (as the monolith's). */
function rateLimited(message: string, n: ValidatedItems): IngestResult {
  const out: IngestResult = { ...failed(429, message), discarded: n.samples > 0 ? [REASON_RATE_LIMITED, n.samples] : [] };
  if (n.exemplars > 0) out.discardedExemplars = [REASON_RATE_LIMITED, n.exemplars];
  if (n.metadata > 0) out.discardedMetadata = [REASON_RATE_LIMITED, n.metadata];
  return out;
}

function failed(status: number, message: string): IngestResult {
  return { ...emptyResult(), errorStatus: status, errorMessage: message };
}
