// functions.ts lists the PromQL functions with their signatures, after
// Prometheus 3.x promql/parser/functions.go. The parser checks calls against
// it; the engine looks implementations up by the same names.

import type { ValueType } from './ast.js';

/** FunctionDef describes one function's signature. */
export interface FunctionDef {
  name: string;
  /** argTypes are the parameter types; with variadic != 0 the last one repeats. */
  argTypes: ValueType[];
  /**
   * variadic is 0 for a fixed argument count, n > 0 for up to n optional
   * trailing arguments (of the last argType), -1 for any number of them.
   */
  variadic: number;
  returnType: ValueType;
  /** experimental functions sit behind --enable-feature=promql-experimental-functions. */
  experimental: boolean;
}

type Sig = [argTypes: ValueType[], variadic?: number, returnType?: ValueType, experimental?: boolean];

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const SIGNATURES: Record<string, Sig> = {
  abs: [[V]],
  absent: [[V]],
  absent_over_time: [[M]],
  acos: [[V]],
  acosh: [[V]],
  asin: [[V]],
  asinh: [[V]],
  atan: [[V]],
  atanh: [[V]],
  avg_over_time: [[M]],
  ceil: [[V]],
  changes: [[M]],
  clamp: [[V, S, S]],
  clamp_max: [[V, S]],
  clamp_min: [[V, S]],
  cos: [[V]],
  cosh: [[V]],
  count_over_time: [[M]],
  days_in_month: [[V], 1],
  day_of_month: [[V], 1],
  day_of_week: [[V], 1],
  day_of_year: [[V], 1],
  deg: [[V]],
  delta: [[M]],
  deriv: [[M]],
  end: [[], 0, S, true],
  double_exponential_smoothing: [[M, S, S], 0, V, true],
  exp: [[V]],
  first_over_time: [[M], 0, V, true],
  floor: [[V]],
  histogram_avg: [[V]],
  histogram_count: [[V]],
  histogram_fraction: [[S, S, V]],
  histogram_quantile: [[S, V]],
  histogram_quantiles: [[V, STR, S, S], -1, V, true],
  histogram_stddev: [[V]],
  histogram_stdvar: [[V]],
  histogram_sum: [[V]],
  hour: [[V], 1],
  idelta: [[M]],
  increase: [[M]],
  info: [[V, V], 1, V, true],
  irate: [[M]],
  label_join: [[V, STR, STR, STR], -1],
  label_replace: [[V, STR, STR, STR, STR]],
  last_over_time: [[M]],
  ln: [[V]],
  log10: [[V]],
  log2: [[V]],
  mad_over_time: [[M], 0, V, true],
  max_of: [[S, S], 0, S, true],
  max_over_time: [[M]],
  min_of: [[S, S], 0, S, true],
  min_over_time: [[M]],
  minute: [[V], 1],
  month: [[V], 1],
  pi: [[], 0, S],
  predict_linear: [[M, S]],
  present_over_time: [[M]],
  quantile_over_time: [[S, M]],
  rad: [[V]],
  range: [[], 0, S, true],
  rate: [[M]],
  resets: [[M]],
  round: [[V, S], 1],
  scalar: [[V], 0, S],
  sgn: [[V]],
  sin: [[V]],
  sinh: [[V]],
  sort: [[V]],
  sort_by_label: [[V, STR], -1, V, true],
  sort_by_label_desc: [[V, STR], -1, V, true],
  sort_desc: [[V]],
  sqrt: [[V]],
  start: [[], 0, S, true],
  start_timestamp: [[V], 0, V, true],
  stddev_over_time: [[M]],
  step: [[], 0, S, true],
  stdvar_over_time: [[M]],
  sum_over_time: [[M]],
  tan: [[V]],
  tanh: [[V]],
  time: [[], 0, S],
  timestamp: [[V]],
  ts_of_first_over_time: [[M], 0, V, true],
  ts_of_last_over_time: [[M], 0, V, true],
  ts_of_max_over_time: [[M], 0, V, true],
  ts_of_min_over_time: [[M], 0, V, true],
  vector: [[S]],
  year: [[V], 1],
};

/**
 * FUNCTIONS maps every PromQL function name to its signature. holt_winters
 * is gone in Prometheus 3 (renamed double_exponential_smoothing); the
 * limitk/limit_ratio operators are aggregations, not functions.
 */
export const FUNCTIONS: Record<string, FunctionDef> = Object.freeze(
  Object.fromEntries(
    Object.entries(SIGNATURES).map(([name, [argTypes, variadic = 0, returnType = V, experimental = false]]) => [
      name,
      Object.freeze({ name, argTypes, variadic, returnType, experimental }),
    ]),
  ),
);

/** getFunction returns a function's signature, or undefined when unknown. */
export function getFunction(name: string): FunctionDef | undefined {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
}

/** EXPERIMENTAL_AGGREGATIONS are the aggregations behind promql-experimental-functions. */
export const EXPERIMENTAL_AGGREGATIONS: ReadonlySet<string> = new Set(['limitk', 'limit_ratio']);
