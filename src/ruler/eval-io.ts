// eval-io.ts connects rule evaluation to the rest of the process without a
// second engine or ingest path:
//   - queries run as instant QueryTasks through the querier's QueryExecutor
//     (the PromQL worker pool), for the group's tenant (or its source tenants
//     joined by `|`, which the worker federates), and the answer's vector is
//     read back;
//   - results are appended as a remote-write 1.0 request through the
//     distributor's PushExecutor, with the tenant's limits, so they pass the
//     same validation, limits and WAL as pushed samples.

import { decodeSeriesLabels } from '../model/series-labels.js';
import snappy from '@napi-rs/snappy';
import { ingestLimits, type Config, type Limits } from '../config/config.js';
import type { PushExecutor } from '../distributor/distributor.js';
import type { Labels } from '../promql/engine/types.js';
import { isStaleAt } from '../promql/engine/float-ops.js';
import type { IngestResult, SelectedSamples } from '../storage/native.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { failureError } from '../querier/query.js';
import type { QueryExecutor } from '../querier/query-executor.js';
import { queryLimitsFor, type QueryLimitsSource } from '../querier/query-limits.js';
import type { QueryTask } from '../querier/query-params.js';
import { ProtoWriter } from '../remote/protobuf-writer.js';
import { NOT_A_VECTOR } from './rules.js';
import type { RuleBatchTask, RuleQueryAnswer, RuleQueryItem } from './batch-eval.js';
import type { IngestLimits } from '../model/limits.js';

/** Sample is one element of an instant vector. */
export interface Sample {
  metric: Labels;
  value: number;
  /** tsMs is the sample's timestamp (the evaluation time). */
  tsMs: number;
  /** histogram marks a native histogram sample (value is then 0, as Prometheus's Sample.F). */
  histogram?: boolean;
}

/** RuleQuerier evaluates an instant query; it throws with the engine's text on failure. */
export interface RuleQuerier {
  instant(tenant: string, query: string, tsMs: number): Promise<Sample[]>;
  /** series runs a range-selector query at tsMs and returns the raw samples of each series (restoring `for` state). */
  series?(tenant: string, query: string, tsMs: number): Promise<SeriesSamples[]>;
  /**
   * rawSeries returns the stored samples (mintMs <= t <= maxtMs) of the series with exactly these
   * labels, staleness markers included (flagged): what Prometheus's RestoreForState reads
   * through a storage querier rather than PromQL, which hides stale markers.
   */
  rawSeries?(tenant: string, labels: Labels, mintMs: number, maxtMs: number): Promise<SeriesSamples[]>;
  /**
   * batch, when present, evaluates several rule queries at tsMs in one worker task (batch-eval.ts);
   * it throws only when the whole batch failed (each query's own failure is in its answer).
   */
  batch?(tenant: string, items: RuleQueryItem[], tsMs: number): Promise<RuleQueryAnswer[]>;
}

/** SeriesSamples are the raw samples of one series (stale: the sample is a staleness marker; rawSeries only). */
export interface SeriesSamples {
  metric: Labels;
  samples: Array<[tsMs: number, value: number, stale?: boolean]>;
}

/** RawSelect reads a tenant's stored samples (the native storage's selectSamples). */
export type RawSelect = (tenant: string, matchers: LabelMatcher[], mintMs: number, maxtMs: number) => SelectedSamples;

/** rawSeriesOf reads the samples of the series with exactly `labels` through select, flagging staleness markers. */
export function rawSeriesOf(select: RawSelect, tenant: string, labels: Labels, mintMs: number, maxtMs: number): SeriesSamples[] {
  const names = Object.keys(labels);
  // Exactly these labels: each one equal, and (as a series selector cannot say "no other label") the
  // answer's label sets compared below.
  const sel = select(tenant, names.map((name) => ({ name, type: MatchType.Equal, value: labels[name]! })), mintMs, maxtMs);
  const metrics = decodeSeriesLabels(sel.labels);
  const out: SeriesSamples[] = [];
  metrics.forEach((metric, i) => {
    if (Object.keys(metric).length !== names.length) return;
    const samples: SeriesSamples['samples'] = [];
    for (let j = sel.offsets[i]!; j < sel.offsets[i + 1]!; j++) {
      samples.push(isStaleAt(sel.values, j) ? [sel.timestamps[j]!, NaN, true] : [sel.timestamps[j]!, sel.values[j]!]);
    }
    out.push({ metric, samples });
  });
  return out;
}

/** parseMatrixAnswer reads an encoded matrix answer (a range selector evaluated as an instant query). */
export function parseMatrixAnswer(body: Uint8Array): SeriesSamples[] {
  const answer = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as QueryAnswer;
  if (answer.data?.resultType !== 'matrix') throw new Error('expected a matrix');
  return (answer.data.result as Array<{ metric: Labels; values?: Array<[number, string]> }>).map((s) => ({
    metric: s.metric,
    samples: (s.values ?? []).map(([t, v]) => [Math.round(t * 1000), parseGoFloat(v)] as [number, number]),
  }));
}

/** OutSample is one sample a rule writes; stale marks the series stale (Prometheus's StaleNaN). */
export interface OutSample {
  metric: Labels;
  tsMs: number;
  value: number;
  stale?: boolean;
  /** key, when set, is metric's series key (series-key.ts), computed once by its producer. */
  key?: string;
}

/** RuleAppender writes rule results for a tenant; it throws with the push's error text on failure. */
export interface RuleAppender {
  append(tenant: string, samples: OutSample[]): Promise<void>;
  /** appendEncoded, when present, writes an uncompressed remote-write 1.0 WriteRequest (series-key.ts builds it) on the same path. */
  appendEncoded?(tenant: string, body: Uint8Array): Promise<void>;
}

/** STALE_NAN_BITS are the bits of Prometheus's stale marker (value.StaleNaN). */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

/** NOT_A_VECTOR is re-exported from rules.ts (its owner) for the callers that read it here. */
export { NOT_A_VECTOR };

interface QueryAnswer {
  status: string;
  data?: { resultType: string; result: unknown };
}

/** parseAnswer reads an encoded instant-query success body into samples. */
export function parseAnswer(body: Uint8Array, tsMs: number): Sample[] {
  const answer = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as QueryAnswer;
  const data = answer.data;
  if (data === undefined) throw new Error('empty query answer');
  switch (data.resultType) {
    case 'vector': {
      const out: Sample[] = [];
      for (const s of data.result as Array<{ metric: Labels; value?: [number, string]; histogram?: unknown }>) {
        // Native histogram samples carry no float value; their float part is 0, as Prometheus's Sample.F.
        if (s.value === undefined) out.push({ metric: s.metric, value: 0, tsMs, histogram: true });
        else out.push({ metric: s.metric, value: parseGoFloat(s.value[1]), tsMs });
      }
      return out;
    }
    case 'scalar': {
      const [, v] = data.result as [number, string];
      return [{ metric: {}, value: parseGoFloat(v), tsMs }];
    }
    default:
      throw new Error(NOT_A_VECTOR);
  }
}

/** parseGoFloat reads the API's float text ("NaN", "+Inf", "-Inf", digits). */
export function parseGoFloat(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** executorQuerier evaluates rule queries through the query worker pool. */
export function executorQuerier(config: Config, executor: QueryExecutor, limits: QueryLimitsSource, select?: RawSelect): RuleQuerier {
  const run = async (tenant: string, query: string, tsMs: number): Promise<Uint8Array> => {
      const l = queryLimitsFor(limits, tenant);
      const task: QueryTask = {
        tenant,
        query,
        kind: 'instant',
        startMs: tsMs,
        endMs: tsMs,
        stepMs: 0,
        limit: 0,
        lookbackDeltaMs: config.lookbackDeltaMs,
        maxSamples: config.querierMaxSamples,
        deadline: Date.now() + config.querierTimeoutMs,
        maxPartialQueryLengthMs: l.maxPartialQueryLengthMs,
        maxFetchedSeriesPerQuery: l.maxFetchedSeriesPerQuery,
      };
      const abort = new AbortController();
      const answer = await executor.run(task, abort.signal);
      if (answer instanceof Uint8Array) return answer;
      throw new Error(failureError(answer).message);
  };
  const runRules = executor.runRules;
  const batch =
    runRules === undefined
      ? undefined
      : async (tenant: string, items: RuleQueryItem[], tsMs: number): Promise<RuleQueryAnswer[]> => {
          const l = queryLimitsFor(limits, tenant);
          const task: RuleBatchTask = {
            tenant,
            tsMs,
            items,
            lookbackDeltaMs: config.lookbackDeltaMs,
            maxSamples: config.querierMaxSamples,
            timeoutMs: config.querierTimeoutMs,
            maxPartialQueryLengthMs: l.maxPartialQueryLengthMs,
            maxFetchedSeriesPerQuery: l.maxFetchedSeriesPerQuery,
          };
          return runRules.call(executor, task, new AbortController().signal);
        };
  return {
    ...(batch !== undefined ? { batch } : {}),
    instant: async (tenant, query, tsMs) => parseAnswer(await run(tenant, query, tsMs), tsMs),
    series: async (tenant, query, tsMs) => parseMatrixAnswer(await run(tenant, query, tsMs)),
    ...(select !== undefined ? { rawSeries: async (tenant: string, labels: Labels, mintMs: number, maxtMs: number) => rawSeriesOf(select, tenant, labels, mintMs, maxtMs) } : {}),
  };
}

/** encodeRuleWriteRequest encodes samples as a remote-write 1.0 WriteRequest, stale markers with their exact bits. */
export function encodeRuleWriteRequest(samples: OutSample[]): Buffer {
  const w = new ProtoWriter(64 * 1024);
  for (const s of samples) {
    w.message(1, (ts) => {
      for (const name of Object.keys(s.metric).sort()) ts.message(1, (l) => l.string(1, name).string(2, s.metric[name]!));
      ts.message(2, (m) => {
        if (s.stale === true) m.fixed64Field(1, STALE_NAN_BITS);
        else m.double(1, s.value);
        m.int64Field(2, s.tsMs);
      });
    });
  }
  return Buffer.from(w.finish());
}

/** RawIngest appends an uncompressed remote-write 1.0 body on the calling thread (the storage's Appender.ingest). */
export type RawIngest = (tenant: string, body: Uint8Array, limits: IngestLimits) => IngestResult;

/** RAW_INLINE_MAX_BYTES: encoded rule results up to this size go to rawIngest on the calling thread, larger ones through the push executor. */
export const RAW_INLINE_MAX_BYTES = 64 * 1024;

/** executorAppender writes rule results through the distributor's push executor (small encoded ones straight to rawIngest). */
export function executorAppender(
  config: Config,
  executor: PushExecutor,
  limits: (tenant: string) => Limits,
  gate: () => string | undefined = () => undefined,
  onIngested?: (tenant: string, acceptedSamples: number) => void,
  rawIngest?: RawIngest,
): RuleAppender {
  const finish = (tenant: string, r: IngestResult): void => {
    onIngested?.(tenant, r.acceptedSamples);
    if (r.errorMessage !== undefined && r.errorMessage !== '') throw new Error(r.errorMessage);
  };
  const push = async (tenant: string, raw: Uint8Array): Promise<void> => {
    const compressed = snappy.compressSync(raw);
    const body = new ArrayBuffer(compressed.length);
    new Uint8Array(body).set(compressed);
    // The message-size limit guards remote-write clients; a rule's own result is never refused for its size.
    const outcome = await executor.run({ tenant, body, limits: ingestLimits(limits(tenant), Date.now()), maxRecvMsgSize: Math.max(config.maxRecvMsgSize, raw.length) });
    if (outcome.kind !== 'ingested') throw new Error(outcome.kind === 'too_large' ? 'rule result too large' : outcome.message);
    finish(tenant, outcome.result);
  };
  return {
    append: async (tenant, samples) => {
      if (samples.length === 0) return;
      const closed = gate();
      if (closed !== undefined) throw new Error(closed);
      await push(tenant, encodeRuleWriteRequest(samples));
    },
    appendEncoded: async (tenant, body) => {
      if (body.length === 0) return;
      const closed = gate();
      if (closed !== undefined) throw new Error(closed);
      // The same validation, limits and WAL as a push: only the snappy round trip is left out.
      if (rawIngest !== undefined && body.length <= RAW_INLINE_MAX_BYTES) finish(tenant, rawIngest(tenant, body, ingestLimits(limits(tenant), Date.now())));
      else await push(tenant, body);
    },
  };
}
