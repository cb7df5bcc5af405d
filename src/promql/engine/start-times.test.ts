// start-times.test.ts checks start timestamps end to end through the native head and kernels:
// stored beside the samples, read by rate/increase/irate/resets and start_timestamp() only with
// useStartTimestamps, not by the fused native paths, and cut by subqueries.

import t from 'tap';
import { loadNative } from '../../storage/native.js';
import { instantQuery } from './engine.js';
import { nativeKernels } from './kernels.js';
import type { QueryOptions, QueryValue } from './types.js';
import { OPTS, m } from './test-helpers.js';
import { federatedKernels } from '../../querier/tenant-federation.js';

const b = loadNative();
const kernels = nativeKernels();
const tenant = `st-${process.pid}`;
const off: QueryOptions = { ...OPTS, tenant, deadline: Date.now() + 60_000 };
const on: QueryOptions = { ...off, useStartTimestamps: true };

// c_total: 10, 20, 30 at 1m..3m started at 30s, then 5 at 4m started at 3m30s (a reset a drop alone
// would miss: 5 < 30 is one too, so the second series resets upwards: 40 at 4m started at 3m30s).
b.appendSamplesUnchecked(tenant, ['__name__', 'c_total', 'k', 'down'], Float64Array.from([m(1), m(2), m(3), m(4)]), Float64Array.from([10, 20, 30, 5]), Float64Array.from([30_000, 30_000, 30_000, 210_000]));
b.appendSamplesUnchecked(tenant, ['__name__', 'c_total', 'k', 'up'], Float64Array.from([m(1), m(2), m(3), m(4)]), Float64Array.from([10, 20, 30, 40]), Float64Array.from([30_000, 30_000, 30_000, 210_000]));
b.appendSamplesUnchecked(tenant, ['__name__', 'c_total', 'k', 'none'], Float64Array.from([m(1), m(2), m(3), m(4)]), Float64Array.from([10, 20, 30, 40]));

function vector(v: QueryValue): Record<string, number> {
  if (v.resultType !== 'vector') throw new Error(`not a vector: ${v.resultType}`);
  return Object.fromEntries(v.series.map((s) => [s.labels.k ?? '', s.value]));
}

t.teardown(() => b.resetTenant(tenant));

t.test('resets and irate see a start after the previous sample only with start timestamps in use', async (t) => {
  t.same(vector(instantQuery(kernels, 'resets(c_total[5m])', m(4), off).value), { down: 1, up: 0, none: 0 });
  t.same(vector(instantQuery(kernels, 'resets(c_total[5m])', m(4), on).value), { down: 1, up: 1, none: 0 });
  t.same(vector(instantQuery(kernels, 'irate(c_total[5m])', m(4), off).value), { down: 5 / 60, up: 10 / 60, none: 10 / 60 });
  t.same(vector(instantQuery(kernels, 'irate(c_total[5m])', m(4), on).value), { down: 5 / 60, up: 40 / 60, none: 10 / 60 });
});

t.test('increase counts from a zero at the first sample start inside the window', async (t) => {
  // Window (0, 4m]: the first sample's start (30s) is inside, so the increase runs from 0 at 30s:
  // 30 before the reset plus 40 after it, over 3m30s, extrapolated to the right edge (no gap).
  const got = vector(instantQuery(kernels, 'increase(c_total[4m])', m(4), on).value);
  t.equal(got.up, 70);
  t.equal(got.none, 40, 'no start timestamps: extrapolation as before (to zero at 0s)');
  const plain = vector(instantQuery(kernels, 'increase(c_total[4m])', m(4), off).value);
  t.equal(plain.up, 40);
  const summed = vector(instantQuery(kernels, 'sum by (k) (increase(c_total[4m]))', m(4), on).value);
  t.equal(summed.up, 70, 'the aggregation pushdown gives way to the start-timestamp path');
  t.equal(vector(instantQuery(kernels, 'increase(c_total[4m:1m])', m(4), on).value).up, 40, 'subqueries carry no start timestamps');
});

t.test('start_timestamp() answers only with start timestamps in use, for selectors', async (t) => {
  t.same(vector(instantQuery(kernels, 'start_timestamp(c_total)', m(3), on).value), { down: 30, up: 30, none: 0 });
  t.same(vector(instantQuery(kernels, 'start_timestamp(c_total)', m(3), off).value), {});
  t.same(vector(instantQuery(kernels, 'start_timestamp(c_total * 1)', m(3), on).value), {});
});

t.test('an overlapping start time warns once per metric, with its occurrences', async (t) => {
  const name = ['__name__', 'o_total'];
  b.appendSamplesUnchecked(tenant, [...name, 'k', 'a'], Float64Array.from([m(1), m(2), m(3)]), Float64Array.from([1, 2, 3]), Float64Array.from([0, 1000, 2000]));
  const r = instantQuery(kernels, 'rate(o_total[5m])', m(3), on);
  t.same(r.warnings, ['PromQL warning: sample has start time that overlaps with previous sample timestamp for metric "o_total" (1:6)']);
  b.appendSamplesUnchecked(tenant, [...name, 'k', 'b'], Float64Array.from([m(1), m(2), m(3)]), Float64Array.from([1, 2, 3]), Float64Array.from([0, 1000, 2000]));
  const two = instantQuery(kernels, 'rate(o_total[5m])', m(3), on);
  t.same(two.warnings, ['PromQL warning: sample has start time that overlaps with previous sample timestamp for metric "o_total" (2 occurrences) (1:6)']);
  t.same(instantQuery(kernels, 'rate(o_total[5m])', m(3), off).warnings, []);
});

t.test('federated reads keep start timestamps', async (t) => {
  const other = `${tenant}-b`;
  b.appendSamplesUnchecked(other, ['__name__', 'c_total', 'k', 'up'], Float64Array.from([m(1), m(2)]), Float64Array.from([1, 2]), Float64Array.from([30_000, 90_000]));
  t.teardown(() => b.resetTenant(other));
  const fed = federatedKernels(kernels);
  const r = instantQuery(fed, 'resets(c_total{k="up"}[5m])', m(4), { ...on, tenant: `${tenant}|${other}` });
  if (r.value.resultType !== 'vector') throw new Error('not a vector');
  t.same(
    r.value.series.map((s) => [s.labels.__tenant_id__, s.value]),
    [
      [tenant, 1],
      [other, 1],
    ],
  );
});
