// batch-eval.ts evaluates several rule queries of one group in one query
// worker task (workers/query.ts `rules`), so a group pays one round trip to
// the pool per batch instead of one per rule. Expressions are parsed once per
// worker and text (a rule group's new version brings new texts, which are
// parsed afresh). Answers stay compact: a recording rule's vector comes back
// already renamed and relabelled as series keys (series-key.ts) with a
// Float64Array of values; an alerting rule's vector as label sets and values
// (its alert state lives on the main thread). The group (group.ts) decides
// which rules may share a batch: never a rule that reads what an earlier rule
// of the same batch writes.

import { parseExpr } from '../promql/parser/parser.js';
import { forEachNode, type Expr } from '../promql/parser/ast.js';
import { MatchType } from '../model/matchers.js';
import { instantQuery, type EngineQueryOptions } from '../promql/engine/engine.js';
import { EngineError, type Kernels, type Labels } from '../promql/engine/types.js';
import { DEFAULT_SUBQUERY_STEP_MS, TIMEOUT_MESSAGE, toFailure, type QueryFailure } from '../querier/execute.js';
import { limitedKernels } from '../querier/query-limits.js';
import { ERR_DUPLICATE_RECORDING, NOT_A_VECTOR } from './rules.js';
import { encodeFlatSamples, decodeFlat } from '../promql/engine/histogram-flat.js';
import { indicesToSpans, type FloatHistogram } from '../promql/engine/float-histogram.js';
import { encodeHistogram } from '../remote/write-request-histograms.js';
import { seriesKeyOfPairs, type KeyedHistograms, type SeriesKey } from './series-key.js';

/** RuleQueryItem is one rule's query; record (with the rule's labels) asks for a recording rule's output. */
export interface RuleQueryItem {
  query: string;
  /** record is the recording rule's metric name; absent for alerting rules. */
  record?: string;
  /** labels are the recording rule's labels, sorted by name (record only). */
  labels?: Array<[string, string]>;
}

/** RuleBatchTask evaluates items in order at tsMs for tenant (plain data, structured-clone safe). */
export interface RuleBatchTask {
  tenant: string;
  tsMs: number;
  items: RuleQueryItem[];
  lookbackDeltaMs: number;
  maxSamples: number;
  /** timeoutMs bounds each query (-querier.timeout), counted from its own start. */
  timeoutMs: number;
  maxPartialQueryLengthMs: number;
  maxFetchedSeriesPerQuery: number;
}

/** RuleQueryAnswer is one item's answer; ms is how long its evaluation took in the worker. */
export type RuleQueryAnswer =
  | { ms: number; failure: QueryFailure }
  | { ms: number; keys: SeriesKey[]; values: Float64Array; histograms?: RecordedHistograms }
  | { ms: number; metrics: Labels[]; values: Float64Array }
  | { ms: number; error: string };

/**
 * RecordedHistograms are a recording rule's native-histogram results: the series keys[at[j]] holds
 * histogram j, in the engine's hand-off format (histogram-flat.ts: data[dataOffsets[j]..dataOffsets[j+1])).
 */
export interface RecordedHistograms {
  at: Uint32Array;
  data: Float64Array;
  dataOffsets: Uint32Array;
}

/** histogramBodies encodes recorded histograms as prompb.Histogram bodies at tsMs (float counts, the result's hint). */
export function histogramBodies(h: RecordedHistograms, tsMs: number): KeyedHistograms {
  const bodies: Uint8Array[] = [];
  for (let j = 0; j < h.at.length; j++) {
    const fh = decodeFlat(h.data, h.dataOffsets[j]!, h.dataOffsets[j + 1]!);
    bodies.push(
      encodeHistogram({
        t: tsMs,
        kind: 'float',
        hint: fh.counterResetHint,
        schema: fh.schema,
        zeroThreshold: fh.zeroThreshold,
        zeroCount: fh.zeroCount,
        count: fh.count,
        sum: fh.sum,
        positiveSpans: indicesToSpans(fh.posIdx).map((s) => [s.offset, s.length]),
        negativeSpans: indicesToSpans(fh.negIdx).map((s) => [s.offset, s.length]),
        positiveBuckets: fh.posCnt,
        negativeBuckets: fh.negCnt,
        customValues: [...fh.customValues],
      }),
    );
  }
  return { at: h.at, bodies };
}

const PARSED_CACHE_MAX = 50_000;

/** ExprCache keeps parsed expressions by text (per worker thread). */
export class ExprCache {
  private readonly byText = new Map<string, Expr>();
  /** parses counts the parses done (tests check that a repeated text is not parsed again). */
  parses = 0;

  get(text: string): Expr {
    let e = this.byText.get(text);
    if (e === undefined) {
      e = parseExpr(text);
      this.parses++;
      if (this.byText.size >= PARSED_CACHE_MAX) this.byText.clear();
      this.byText.set(text, e);
    }
    return e;
  }
}

/** evaluateRuleBatch evaluates every item of the task; it never throws. */
export function evaluateRuleBatch(kernels: Kernels, task: RuleBatchTask, cache: ExprCache): RuleQueryAnswer[] {
  const out: RuleQueryAnswer[] = [];
  for (const item of task.items) {
    const started = performance.now();
    try {
      const deadline = Date.now() + task.timeoutMs;
      const opts: EngineQueryOptions = {
        tenant: task.tenant,
        lookbackDeltaMs: task.lookbackDeltaMs,
        maxSamples: task.maxSamples,
        deadline,
        defaultSubqueryStepMs: DEFAULT_SUBQUERY_STEP_MS,
      };
      const limited = limitedKernels(kernels, { maxPartialQueryLengthMs: task.maxPartialQueryLengthMs, maxFetchedSeriesPerQuery: task.maxFetchedSeriesPerQuery });
      const expr = cache.get(item.query);
      if (Date.now() >= deadline) throw new EngineError('timeout', TIMEOUT_MESSAGE);
      const v = instantQuery(limited, expr, task.tsMs, opts).value;
      let series: Array<{ labels: Labels; value: number; histogram?: unknown }>;
      if (v.resultType === 'vector') series = v.series;
      else if (v.resultType === 'scalar') series = [{ labels: {}, value: v.value }];
      else {
        out.push({ ms: performance.now() - started, error: NOT_A_VECTOR });
        continue;
      }
      if (item.record === undefined) {
        // A native histogram sample's float part is 0, as Prometheus's Sample.F.
        const values = new Float64Array(series.length);
        for (let i = 0; i < series.length; i++) values[i] = series[i]!.histogram !== undefined ? 0 : series[i]!.value;
        out.push({ ms: performance.now() - started, metrics: series.map((s) => s.labels), values });
        continue;
      }
      // Native histogram results travel in the hand-off format; their float cell is unused.
      const values = new Float64Array(series.length);
      const histAt: number[] = [];
      const hs: FloatHistogram[] = [];
      for (let i = 0; i < series.length; i++) {
        const h = series[i]!.histogram as FloatHistogram | undefined;
        if (h === undefined) values[i] = series[i]!.value;
        else {
          histAt.push(i);
          hs.push(h);
        }
      }
      const keys = recordedKeys(series, item.record, item.labels ?? []);
      if (keys === undefined) {
        out.push({ ms: performance.now() - started, error: ERR_DUPLICATE_RECORDING });
        continue;
      }
      const answer: RuleQueryAnswer & { keys: SeriesKey[] } = { ms: 0, keys, values };
      if (hs.length > 0) answer.histograms = { at: Uint32Array.from(histAt), ...encodeFlatSamples(hs) };
      answer.ms = performance.now() - started;
      out.push(answer);
    } catch (err) {
      out.push({ ms: performance.now() - started, failure: toFailure(err) });
    }
  }
  return out;
}

/**
 * recordedKeys names each sample's output series as a recording rule does: its labels without
 * `__name__`, then `__name__` set to the record name and the rule's labels set over them, empty values
 * dropped. undefined when two samples end up with the same labels.
 */
export function recordedKeys(series: ReadonlyArray<{ labels: Labels }>, record: string, ruleLabels: ReadonlyArray<[string, string]>): SeriesKey[] | undefined {
  const keys: SeriesKey[] = new Array<SeriesKey>(series.length);
  const seen = new Set<SeriesKey>();
  for (let i = 0; i < series.length; i++) {
    const merged: Labels = { ...series[i]!.labels, __name__: record };
    for (const [k, v] of ruleLabels) merged[k] = v;
    const names = Object.keys(merged).sort();
    const values = names.map((n) => merged[n]!);
    const key = seriesKeyOfPairs(names, values);
    if (seen.has(key)) return undefined;
    seen.add(key);
    keys[i] = key;
  }
  return keys;
}

/** ANY_NAME stands for "any metric name" in what a rule reads. */
const ANY_NAME = '';

/**
 * readNames lists the metric names an expression's selectors read; [ANY_NAME] when one selector
 * can match any name (no `__name__` equality) or info() reads implicitly. Unparsable: [ANY_NAME].
 */
export function readNames(expr: string): string[] {
  let e: Expr;
  try {
    e = parseExpr(expr);
  } catch {
    return [ANY_NAME];
  }
  const names = new Set<string>();
  forEachNode(e, (n) => {
    if (n.type === 'Call' && n.func === 'info') names.add(ANY_NAME);
    if (n.type !== 'VectorSelector') return;
    const eq = n.matchers.find((m) => m.name === '__name__' && m.type === MatchType.Equal);
    names.add(eq !== undefined ? eq.value : ANY_NAME);
  });
  return [...names];
}

/** BatchRule is what planBatches needs of a rule: its expression and the metric names it writes. */
export interface BatchRule {
  expr: string;
  writes: readonly string[];
}

/**
 * planBatches splits rules (in order) into runs that can be evaluated in one worker task: a run
 * ends before a rule that reads a metric an earlier rule of the run writes, so every rule still
 * sees the output of the rules before it in the same evaluation (Prometheus's sequential order).
 */
export function planBatches(rules: readonly BatchRule[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let written = new Set<string>();
  rules.forEach((r, i) => {
    const reads = readNames(r.expr);
    const conflict = current.length > 0 && reads.some((n) => (n === ANY_NAME ? written.size > 0 : written.has(n)));
    if (conflict) {
      batches.push(current);
      current = [];
      written = new Set();
    }
    current.push(i);
    for (const w of r.writes) written.add(w);
  });
  if (current.length > 0) batches.push(current);
  return batches;
}
