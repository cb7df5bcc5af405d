// parity.test.ts checks that the native kernels and the TypeScript reference
// kernels give the engine the same answers on random data (seeded).

import t from 'tap';
import { loadNative } from '../../storage/native.js';
import { rangeQuery } from './engine.js';
import { ReferenceStore, STALE_NAN } from './kernels-reference.js';
import { labelsString } from './labels.js';
import type { Kernels, QueryResult } from './types.js';
import { OPTS } from './test-helpers.js';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

let native: Kernels | undefined;
let binding: ReturnType<typeof loadNative> | undefined;
try {
  binding = loadNative();
  const { nativeKernels } = await import('./kernels.js');
  native = nativeKernels();
} catch {
  native = undefined;
}

function closeEnough(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

function diff(a: QueryResult, b: QueryResult): string | undefined {
  if (a.value.resultType !== 'matrix' || b.value.resultType !== 'matrix') return 'not matrices';
  const bs = new Map(b.value.series.map((s) => [labelsString(s.labels), s]));
  if (a.value.series.length !== b.value.series.length) return `series count ${a.value.series.length} vs ${b.value.series.length}`;
  for (const s of a.value.series) {
    const o = bs.get(labelsString(s.labels));
    if (!o) return `missing ${labelsString(s.labels)}`;
    if (o.timestamps.length !== s.timestamps.length) return `${labelsString(s.labels)}: ${s.timestamps.length} vs ${o.timestamps.length} points`;
    for (let i = 0; i < s.timestamps.length; i++) {
      if (s.timestamps[i] !== o.timestamps[i] || !closeEnough(s.values[i], o.values[i])) {
        return `${labelsString(s.labels)} @${s.timestamps[i]}: ${s.values[i]} vs ${o.values[i]}`;
      }
    }
  }
  return undefined;
}

const QUERIES = [
  'm', 'm offset 1m', 'rate(m[2m])', 'increase(m[5m])', 'delta(m[3m])', 'irate(m[2m])', 'idelta(m[2m])', 'deriv(m[5m])',
  'predict_linear(m[5m], 60)', 'resets(m[10m])', 'changes(m[10m])', 'avg_over_time(m[3m])', 'sum_over_time(m[3m])',
  'count_over_time(m[3m])', 'min_over_time(m[3m])', 'max_over_time(m[3m])', 'stddev_over_time(m[3m])', 'stdvar_over_time(m[3m])',
  'last_over_time(m[3m])', 'first_over_time(m[3m])', 'present_over_time(m[3m])', 'quantile_over_time(0.3, m[5m])',
  'mad_over_time(m[5m])', 'double_exponential_smoothing(m[5m], 0.3, 0.6)', 'timestamp(m)', 'absent_over_time(m[1m])',
  'sum by (g) (rate(m[2m]))', 'topk(2, m)', 'avg(m)', 'quantile(0.9, m)', 'histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))',
  'max_over_time(rate(m[2m])[5m:30s])', 'sum_over_time(m[7m:1m] offset 2m)',
];

t.test('native kernels agree with the reference kernels', { skip: native === undefined ? 'native binding not available' : false }, async (t) => {
  const ref = new ReferenceStore();
  const tenant = `parity-${process.pid}`;
  const r = rng(42);
  const add = (labels: string[], ts: number[], vs: Float64Array) => {
    binding!.appendSamplesUnchecked(tenant, labels, Float64Array.from(ts), vs);
    ref.appendSamplesUnchecked(tenant, labels, Float64Array.from(ts), vs);
  };
  for (let sIdx = 0; sIdx < 12; sIdx++) {
    const ts: number[] = [];
    const vals: number[] = [];
    let t0 = Math.floor(r() * 20_000);
    let v = r() * 100;
    const stale = new Set<number>();
    while (t0 < 3_600_000) {
      ts.push(t0);
      if (r() < 0.05) v = r() * 10; // counter reset
      else v += r() * 10;
      vals.push(v);
      if (r() < 0.01) stale.add(vals.length - 1);
      t0 += 5_000 + Math.floor(r() * 30_000);
      if (r() < 0.02) t0 += 400_000; // gap beyond the lookback
    }
    const arr = Float64Array.from(vals);
    for (const i of stale) arr.set(STALE_NAN, i);
    add(['__name__', 'm', 'g', String(sIdx % 3), 'i', String(sIdx)], ts, arr);
  }
  const les = ['0.1', '0.5', '1', '5', '+Inf'];
  for (const [j, le] of les.entries()) {
    const ts: number[] = [];
    const vals: number[] = [];
    for (let x = 0; x < 240; x++) {
      ts.push(x * 15_000);
      vals.push(x * (j + 1) + (j === les.length - 1 ? x : 0));
    }
    add(['__name__', 'h_bucket', 'le', le], ts, Float64Array.from(vals));
  }
  const opts = { ...OPTS, tenant };
  for (const q of QUERIES) {
    const a = rangeQuery(native!, q, 300_000, 3_500_000, 37_000, opts);
    const b = rangeQuery(ref, q, 300_000, 3_500_000, 37_000, opts);
    const d = diff(a, b);
    t.equal(d, undefined, q);
  }
  binding!.resetTenant(tenant);
});
