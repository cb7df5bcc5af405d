// value.ts holds the engine's intermediate values: instant vectors as
// per-step series (StepSeries plus the delayed name-dropping flag), scalars as
// one float per step, strings, and range vectors (only ever a query result).

import { labelsKey } from './labels.js';
import type { FloatHistogram } from './float-histogram.js';
import { EngineError, type Labels, type StepGrid, type StepSeries } from './types.js';

/** Series is an instant-vector series over the grid; dropName marks a `__name__` to drop at the end (Prometheus 3 delayed name removal). */
export interface Series extends StepSeries {
  dropName: boolean;
}

/** RangeSeries is one series of a range-vector result (raw points). */
export interface RangeSeries {
  labels: Labels;
  dropName: boolean;
  timestamps: number[];
  values: number[];
  /** histograms are the native-histogram points, apart from the float points. */
  histograms?: { timestamps: number[]; values: FloatHistogram[] };
}

/** Value is what evaluating a node yields. */
export type Value =
  | { type: 'vector'; series: Series[] }
  | { type: 'scalar'; values: Float64Array }
  | { type: 'string'; value: string }
  | { type: 'matrix'; series: RangeSeries[] };

/** DUPLICATE_LABELSET is Prometheus's error text for colliding output series. */
export const DUPLICATE_LABELSET = 'vector cannot contain metrics with the same labelset';

/** newSeries allocates an empty series of n steps. */
export function newSeries(labels: Labels, n: number, dropName: boolean): Series {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n), dropName };
}

/** gridTimes lists the evaluation timestamps of a grid. */
export function gridTimes(g: StepGrid): Float64Array {
  const out = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) out[i] = g.startMs + i * g.stepMs;
  return out;
}

/** makeGrid builds the grid start..end (inclusive) by step; n = 0 when end < start. */
export function makeGrid(startMs: number, endMs: number, stepMs: number): StepGrid {
  const n = endMs < startMs ? 0 : Math.floor((endMs - startMs) / stepMs) + 1;
  return { startMs, stepMs, n };
}

/** hasAny reports whether a series has a value at some step. */
export function hasAny(s: StepSeries): boolean {
  for (let i = 0; i < s.present.length; i++) if (s.present[i]) return true;
  return false;
}

/** nonEmpty drops series without any value. */
export function nonEmpty<T extends StepSeries>(ss: T[]): T[] {
  return ss.filter(hasAny);
}

/**
 * Collector gathers per-step output samples into series keyed by their full
 * label set, as Prometheus's range evaluation does: the same labels at
 * different steps merge, at the same step they are an error.
 */
export class Collector {
  private readonly byKey = new Map<string, Series>();

  constructor(private readonly n: number) {}

  add(labels: Labels, dropName: boolean, step: number, value: number, key = labelsKey(labels)): void {
    let s = this.byKey.get(key);
    if (!s) {
      s = newSeries(labels, this.n, dropName);
      this.byKey.set(key, s);
    } else if (s.present[step]) {
      throw new EngineError('execution', DUPLICATE_LABELSET);
    }
    s.values[step] = value;
    s.present[step] = 1;
  }

  series(): Series[] {
    return [...this.byKey.values()];
  }
}

/** vectorOf asserts a value is an instant vector. */
export function vectorOf(v: Value, what: string): Series[] {
  if (v.type !== 'vector') throw new EngineError('execution', `expected instant vector for ${what}, got ${v.type}`);
  return v.series;
}

/** scalarOf asserts a value is a scalar. */
export function scalarOf(v: Value, what: string): Float64Array {
  if (v.type !== 'scalar') throw new EngineError('execution', `expected scalar for ${what}, got ${v.type}`);
  return v.values;
}
