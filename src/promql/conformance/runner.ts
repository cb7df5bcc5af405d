// runner.ts runs a promqltest script against our storage and engine. Each
// `load` appends to the current tenant through the binding's unchecked append
// (no validation: the scripts' samples sit near the unix epoch), `clear` moves
// to a fresh tenant. Each eval runs through the querier's executeQuery, the
// function the HTTP API's worker runs, and its JSON body is decoded and
// compared, so a pass here means the API answers the same. As promqltest,
// instant evals are re-run with `@` pinned at several times and in range
// mode (the middle step of a 3-step range query must agree).

import { executeQuery, type QueryFailure } from '../../querier/execute.js';
import type { QueryTask } from '../../querier/query-params.js';
import type { Kernels } from '../engine/types.js';
import { checkAnnotations, checkExpectedFailure, checkHints, compareLabelSets, compareResult, decodeBody, expectsHints, labelsKey, type Decoded, type JsonHistogram } from './compare.js';
import { evaluateTask } from '../../querier/execute.js';
import type { Labels } from '../engine/types.js';
import { isFail, isOrdered, parseScript, ScriptError, type Command, type EvalCmd } from './script.js';
import { STALE_NAN_HI, STALE_NAN_LO } from './series.js';
import { classicToNhcb, HistogramSeries, nhcbBaseLabels } from './native-histograms.js';
import type { FloatHistogram } from '../engine/float-histogram.js';
import { encodeFlatSamples } from '../engine/histogram-flat.js';

/** SampleLoader is what the runner needs from the native binding. */
export interface SampleLoader {
  /** appendSamplesUnchecked appends one series' samples, with their start timestamps (ms, 0: unknown) when given; labels are flat name/value pairs. */
  appendSamplesUnchecked(tenant: string, labels: string[], timestamps: Float64Array, values: Float64Array, startTimestamps?: Float64Array): void;
  /** appendHistogramsUnchecked appends one series' native histograms in the hand-off format (histogram-flat.ts); without it histogram samples are not loaded. */
  appendHistogramsUnchecked?(tenant: string, labels: string[], timestamps: Float64Array, data: Float64Array, dataOffsets: Uint32Array, startTimestamps?: Float64Array): void;
  resetTenant(tenant: string): void;
}

/** AtVariant is an instant query re-written with `@` pinned, and its evaluation time. */
export interface AtVariant {
  expr: string;
  evalMs: number;
}

/** RunnerDeps are the engine-side pieces the runner drives. */
export interface RunnerDeps {
  kernels: Kernels;
  loader: SampleLoader;
  /** atVariants returns promqltest's `@` re-writes of an instant query (empty when none apply). */
  atVariants?: (expr: string, evalMs: number) => AtVariant[];
  /** lookbackDeltaMs defaults to 5m. */
  lookbackDeltaMs?: number;
  /** evalTimeoutMs bounds each query (default 30s). */
  evalTimeoutMs?: number;
}

/** EvalFailure is one eval that did not pass. */
export interface EvalFailure {
  line: number;
  expr: string;
  message: string;
  /** nativeHistograms is set when the eval needs native histograms (see native-histograms.ts). */
  nativeHistograms?: boolean;
}

/** FileReport is the outcome of one script. */
export interface FileReport {
  passed: number;
  total: number;
  failures: EvalFailure[];
  /** unsupported counts the failed evals that need native histograms (see native-histograms.ts). */
  unsupported: number;
}

let tenantSeq = 0;

function newTenant(): string {
  tenantSeq++;
  return `conformance-${process.pid}-${tenantSeq}`;
}

/** staleValues returns a Float64Array holding v, with Prometheus's StaleNaN bit pattern where stale[i]. */
function valuesArray(values: number[], stale: boolean[]): Float64Array {
  const out = new Float64Array(values.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (stale[i]) {
      // Little-endian: low word first.
      words[2 * i] = STALE_NAN_LO;
      words[2 * i + 1] = STALE_NAN_HI;
    } else {
      out[i] = values[i]!;
    }
  }
  return out;
}

/** QUERY_CONTEXT_FUNCS matches calls whose value depends on the query's range (no range-mode check). */
const QUERY_CONTEXT_FUNCS = /(start|end|range|step)\(\)/;

/** ScriptRun is one script's state: its current tenant (each `clear` a fresh one) and what was loaded. */
export class ScriptRun {
  private tenant = newTenant();
  private readonly used = new Set<string>();
  /** histogramSeries are the series loaded with native histogram samples since the last clear. */
  private readonly histogramSeries = new HistogramSeries();

  constructor(private readonly deps: RunnerDeps) {}

  load(cmd: Extract<Command, { type: 'load' }>): number {
    // As promqltest, a series defined twice in one load command keeps only its last definition
    // (labelsKey ignores empty-valued labels, which the storage drops).
    const defs = new Map<string, (typeof cmd.series)[number]>();
    for (const s of cmd.series) {
      const key = labelsKey(s.labels);
      defs.delete(key);
      defs.set(key, s);
    }
    let histograms = 0;
    for (const s of defs.values()) {
      if (s.values.some((v) => v.kind === 'histogram')) this.histogramSeries.add(s.labels);
      if (cmd.withNhcb) {
        const base = nhcbBaseLabels(s.labels);
        if (base !== undefined) this.histogramSeries.add(base);
      }
      const flat: string[] = [];
      for (const [k, v] of Object.entries(s.labels)) flat.push(k, v);
      // Start timestamps are the sample's time plus the @st line's offset (0: none given).
      const offsets = s.startOffsets;
      const startOf = (i: number): number => {
        const o = offsets?.[i];
        return o === undefined ? 0 : i * cmd.intervalMs + o;
      };
      const starts = (idx: number[]): Float64Array | undefined => (offsets === undefined ? undefined : Float64Array.from(idx, startOf));
      // Runs of one kind in time order: the storage takes a series' samples in order across kinds.
      let i = 0;
      while (i < s.values.length) {
        const v = s.values[i]!;
        if (v.kind === 'omitted') {
          i++;
          continue;
        }
        if (v.kind === 'histogram') {
          const ts: number[] = [];
          const hs: FloatHistogram[] = [];
          const idx: number[] = [];
          for (; i < s.values.length; i++) {
            const w = s.values[i]!;
            if (w.kind === 'omitted') continue;
            if (w.kind !== 'histogram') break;
            ts.push(i * cmd.intervalMs);
            hs.push(w.h);
            idx.push(i);
          }
          histograms += hs.length;
          const { data, dataOffsets } = encodeFlatSamples(hs);
          this.deps.loader.appendHistogramsUnchecked?.(this.tenant, flat, Float64Array.from(ts), data, dataOffsets, starts(idx));
          this.used.add(this.tenant);
          continue;
        }
        const ts: number[] = [];
        const vs: number[] = [];
        const stale: boolean[] = [];
        const idx: number[] = [];
        for (; i < s.values.length; i++) {
          const w = s.values[i]!;
          if (w.kind === 'omitted') continue;
          if (w.kind !== 'float') break;
          ts.push(i * cmd.intervalMs);
          vs.push(w.value);
          stale.push(w.stale === true);
          idx.push(i);
        }
        this.deps.loader.appendSamplesUnchecked(this.tenant, flat, Float64Array.from(ts), valuesArray(vs, stale), starts(idx));
        this.used.add(this.tenant);
      }
    }
    if (cmd.withNhcb && this.deps.loader.appendHistogramsUnchecked !== undefined) {
      const classic = [...defs.values()].map((s) => ({
        labels: s.labels,
        samples: s.values.flatMap((v, i): Array<[number, number]> => (v.kind === 'float' ? [[i * cmd.intervalMs, v.value]] : [])),
      }));
      for (const nh of classicToNhcb(classic)) {
        const flat: string[] = [];
        for (const [k, v] of Object.entries(nh.labels)) flat.push(k, v);
        const { data, dataOffsets } = encodeFlatSamples(nh.samples.map(([, h]) => h));
        this.deps.loader.appendHistogramsUnchecked(this.tenant, flat, Float64Array.from(nh.samples.map(([t]) => t)), data, dataOffsets);
        histograms += nh.samples.length;
        this.used.add(this.tenant);
      }
    }
    return histograms;
  }

  /** currentTenant is the tenant the loads so far went to. */
  get currentTenant(): string {
    return this.tenant;
  }

  /** needsNativeHistograms reports whether an eval expects or reads native histogram samples. */
  needsNativeHistograms(cmd: EvalCmd): boolean {
    return expectsHistogram(cmd) || this.histogramSeries.readBy(cmd.expr);
  }

  clear(): void {
    this.release();
    this.histogramSeries.clear();
    this.tenant = newTenant();
  }

  release(): void {
    for (const t of this.used) this.deps.loader.resetTenant(t);
    this.used.clear();
  }

  private task(expr: string, kind: 'instant' | 'range', startMs: number, endMs: number, stepMs: number): QueryTask {
    return {
      tenant: this.tenant,
      query: expr,
      kind,
      startMs,
      endMs,
      stepMs,
      limit: 0,
      lookbackDeltaMs: this.deps.lookbackDeltaMs ?? 300_000,
      maxSamples: 50_000_000,
      deadline: Date.now() + (this.deps.evalTimeoutMs ?? 30_000),
      // As promqltest, which runs its engine with UseStartTimestamps.
      useStartTimestamps: true,
    };
  }

  /** query runs one task through the API's path and decodes the answer. */
  private query(task: QueryTask): { ok: true; data: Decoded; warnings: string[]; infos: string[] } | QueryFailure {
    const outcome = executeQuery(this.deps.kernels, task);
    if (!outcome.ok) return outcome;
    return { ok: true, ...decodeBody(outcome.body) };
  }

  /** eval returns undefined when the eval passes, else the first failure. */
  eval(cmd: EvalCmd): string | undefined {
    if (cmd.isRange) return this.evalRange(cmd);
    // The query as written first, so its own error (if any) is the one reported.
    const first = this.evalInstant(cmd, { expr: cmd.expr, evalMs: cmd.startMs });
    if (first !== undefined || this.deps.atVariants === undefined) return first;
    let variants: AtVariant[];
    try {
      variants = this.deps.atVariants(cmd.expr, cmd.startMs);
    } catch (err) {
      return `error preparing @ variants of ${JSON.stringify(cmd.expr)}: ${(err as Error).message}`;
    }
    for (const v of variants) {
      const err = this.evalInstant(cmd, v);
      if (err !== undefined) return err;
    }
    return undefined;
  }

  private evalRange(cmd: EvalCmd): string | undefined {
    const res = this.query(this.task(cmd.expr, 'range', cmd.startMs, cmd.endMs, cmd.stepMs));
    if (!res.ok) {
      if (isFail(cmd)) return checkExpectedFailure(cmd, res.message);
      return `error evaluating query ${JSON.stringify(cmd.expr)} (line ${cmd.line}): ${res.message}`;
    }
    if (isFail(cmd)) return `expected error evaluating query ${JSON.stringify(cmd.expr)} (line ${cmd.line}) but got none`;
    const anno = checkAnnotations(cmd, cmd.expr, res.warnings, res.infos);
    if (anno !== undefined) return anno;
    const diff = compareResult(cmd, res.data);
    if (diff !== undefined) return `error in eval ${cmd.expr} (line ${cmd.line}): ${diff}`;
    return this.hints(cmd, this.task(cmd.expr, 'range', cmd.startMs, cmd.endMs, cmd.stepMs));
  }

  /** hints checks the counter-reset hints the JSON answer cannot show, on the engine's own result. */
  private hints(cmd: EvalCmd, task: QueryTask): string | undefined {
    if (!expectsHints(cmd)) return undefined;
    const diff = checkHints(cmd, evaluateTask(this.deps.kernels, task).value);
    return diff === undefined ? undefined : `error in eval ${task.query} (line ${cmd.line}): ${diff}`;
  }

  private evalInstant(cmd: EvalCmd, v: AtVariant): string | undefined {
    const res = this.query(this.task(v.expr, 'instant', v.evalMs, v.evalMs, 0));
    if (!res.ok) {
      if (isFail(cmd)) return checkExpectedFailure(cmd, res.message);
      return `error evaluating query ${JSON.stringify(v.expr)} (line ${cmd.line}): ${res.message}`;
    }
    if (isFail(cmd)) return `expected error evaluating query ${JSON.stringify(v.expr)} (line ${cmd.line}) but got none`;
    const anno = checkAnnotations(cmd, v.expr, res.warnings, res.infos);
    if (anno !== undefined) return anno;
    const diff = compareResult(cmd, res.data);
    if (diff !== undefined) return `error in eval ${v.expr} (line ${cmd.line}): ${diff}`;
    const hints = this.hints(cmd, this.task(v.expr, 'instant', v.evalMs, v.evalMs, 0));
    if (hints !== undefined) return hints;
    if (cmd.excludeFromRangeQuery || QUERY_CONTEXT_FUNCS.test(v.expr)) return undefined;

    // Range mode: the same query over [t-1m, t+1m] must give the same answer at t.
    const rng = this.query(this.task(v.expr, 'range', v.evalMs - 60_000, v.evalMs + 60_000, 60_000));
    if (!rng.ok) return `error evaluating query ${JSON.stringify(v.expr)} (line ${cmd.line}) in range mode: ${rng.message}`;
    if (isOrdered(cmd)) return undefined;
    if (rng.data.resultType !== 'matrix') return `range mode of ${JSON.stringify(v.expr)} returned a ${rng.data.resultType}`;
    const series = rng.data.series;
    for (let i = 0; i + 1 < series.length; i++) {
      if (compareLabelSets(series[i]!.labels, series[i + 1]!.labels) > 0) return `error in eval ${v.expr} (line ${cmd.line}) range mode: matrix results should always be sorted by labels`;
    }
    const atT: Array<{ labels: Labels; value: number; histogram?: JsonHistogram }> = series.flatMap((s) => [
      ...s.points.filter(([t]) => t === v.evalMs).map(([, value]) => ({ labels: s.labels, value })),
      ...(s.hpoints ?? []).filter(([t]) => t === v.evalMs).map(([, histogram]) => ({ labels: s.labels, value: NaN, histogram })),
    ]);
    let asInstant: Decoded;
    if (res.data.resultType === 'scalar') {
      if (atT.length === 0) return `error in eval ${v.expr} (line ${cmd.line}) range mode: no value at the evaluation time`;
      asInstant = { resultType: 'scalar', timestampMs: v.evalMs, value: atT[0]!.value };
    } else {
      asInstant = { resultType: 'vector', timestampMs: v.evalMs, series: atT };
    }
    const rdiff = compareResult(cmd, asInstant);
    return rdiff === undefined ? undefined : `error in eval ${v.expr} (line ${cmd.line}) range mode: ${rdiff}`;
  }
}

/** countEvals counts eval commands by their first word, for scripts we cannot parse. */
export function countEvals(text: string): number {
  return text.split('\n').filter((l) => /^\s*eval/.test(l)).length;
}

/** expectsHistogram reports whether an eval's expected results hold native histograms. */
function expectsHistogram(cmd: EvalCmd): boolean {
  return cmd.series.some((s) => s.values.some((v) => v.kind === 'histogram'));
}

/** runScript runs every command of a script and reports per-eval outcomes. */
export function runScript(text: string, deps: RunnerDeps): FileReport {
  let cmds: Command[];
  try {
    cmds = parseScript(text);
  } catch (err) {
    const line = err instanceof ScriptError ? err.line : 0;
    const total = countEvals(text);
    return { passed: 0, total, unsupported: 0, failures: [{ line, expr: '', message: `script not parsed: ${(err as Error).message}` }] };
  }
  const run = new ScriptRun(deps);
  const report: FileReport = { passed: 0, total: 0, failures: [], unsupported: 0 };
  try {
    for (const cmd of cmds) {
      switch (cmd.type) {
        case 'load':
          run.load(cmd);
          break;
        case 'clear':
          run.clear();
          break;
        case 'eval': {
          report.total++;
          let message: string | undefined;
          try {
            message = run.eval(cmd);
          } catch (err) {
            message = `runner error: ${err instanceof Error ? err.message : String(err)}`;
          }
          if (message === undefined) {
            report.passed++;
          } else {
            const failure: EvalFailure = { line: cmd.line, expr: cmd.expr, message };
            if (run.needsNativeHistograms(cmd)) {
              report.unsupported++;
              failure.nativeHistograms = true;
            }
            report.failures.push(failure);
          }
          break;
        }
      }
    }
  } finally {
    run.release();
  }
  return report;
}
