// fused-paths.test.ts: the kernels the query worker runs on (federatedKernels
// over nativeKernels, limitedKernels per query) keep the native fused paths
// (selectRange, selectAggregate) for a single tenant, so `sum by (job)
// (rate(x[5m]))` is aggregated in Rust in production and not only in the
// engine's own tests; several tenants and a series limit take the general path.

import t from 'tap';
import { federatedKernels } from './tenant-federation.js';
import { limitedKernels } from './query-limits.js';
import { EngineError, type AggregateSelection, type Kernels, type RangeSelection } from '../promql/engine/types.js';

/** spyKernels answers every call with empty data and records which entry point ran. */
function spyKernels(calls: string[]): Kernels {
  const empty = { values: new Float64Array(0), present: new Uint8Array(0) };
  return {
    select: () => {
      calls.push('select');
      return { labels: [], offsets: new Uint32Array(1), timestamps: new Float64Array(0), values: new Float64Array(0) };
    },
    instant: () => empty,
    range: () => empty,
    selectRange: (): RangeSelection => {
      calls.push('selectRange');
      return { ...empty, labels: [], samples: 0 };
    },
    selectAggregate: (): AggregateSelection => {
      calls.push('selectAggregate');
      return { ...empty, labels: [{ job: 'a' }], samples: 7, metricNames: [] };
    },
  };
}

const times = new Float64Array([1000]);
const inner = { kind: 'range', fn: 'rate', rangeMs: 300_000, metricNames: true } as const;

t.test('federatedKernels keeps the fused paths for one tenant', async (t) => {
  const calls: string[] = [];
  const k = federatedKernels(spyKernels(calls));
  t.ok(k.selectAggregate, 'selectAggregate offered');
  const r = k.selectAggregate?.('t1', [], 0, 1000, inner, times, 'sum', false, ['job'], 0);
  t.same(r?.labels, [{ job: 'a' }]);
  t.equal(r?.samples, 7);
  t.ok(k.selectRange?.('t1', [], 0, 1000, 'rate', times, 300_000, new Float64Array(0), 0));
  t.same(calls, ['selectAggregate', 'selectRange']);
  // Several tenants: undefined, so the engine selects (adding __tenant_id__) and aggregates itself.
  t.equal(k.selectAggregate?.('t1|t2', [], 0, 1000, inner, times, 'sum', false, ['job'], 0), undefined);
  t.equal(k.selectRange?.('t1|t2', [], 0, 1000, 'rate', times, 300_000, new Float64Array(0), 0), undefined);
  t.same(calls, ['selectAggregate', 'selectRange'], 'inner fused paths not called for several tenants');
});

t.test('limitedKernels keeps the fused paths under a length limit only', async (t) => {
  const calls: string[] = [];
  const k = limitedKernels(spyKernels(calls), { maxPartialQueryLengthMs: 60_000, maxFetchedSeriesPerQuery: 0 });
  t.ok(k.selectAggregate?.('t1', [], 0, 30_000, inner, times, 'sum', false, ['job'], 0));
  t.ok(k.selectRange?.('t1', [], 0, 30_000, 'rate', times, 300_000, new Float64Array(0), 0));
  t.same(calls, ['selectAggregate', 'selectRange']);
  // Too long a selection fails on the fused path as on select.
  t.throws(() => k.selectAggregate?.('t1', [], 0, 120_000, inner, times, 'sum', false, ['job'], 0), EngineError);
  t.throws(() => k.selectRange?.('t1', [], 0, 120_000, 'rate', times, 300_000, new Float64Array(0), 0), EngineError);
  t.same(calls, ['selectAggregate', 'selectRange'], 'nothing selected past the limit');

  const counted = limitedKernels(spyKernels([]), { maxPartialQueryLengthMs: 0, maxFetchedSeriesPerQuery: 10 });
  t.equal(counted.selectAggregate, undefined, 'a series limit needs every fetched series: general path');
  t.equal(counted.selectRange, undefined);
});
