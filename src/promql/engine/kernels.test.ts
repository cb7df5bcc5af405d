// kernels.test.ts checks the native Kernels end to end: samples pushed
// through ingestWriteRequest (and appendSamplesUnchecked) are selected as flat
// arrays, then evaluated by the instant and range kernels; staleness markers
// keep their bits through the round trip; the sample limit throws the
// execution error.

import t from 'tap';
import { loadNative, TOO_MANY_SAMPLES_MESSAGE } from '../../storage/native.js';
import { MatchType } from '../../model/matchers.js';
import type { IngestLimits } from '../../model/limits.js';
import { defaultConfig, ingestLimits } from '../../config/config.js';
import { encodeWriteRequest } from '../../remote/write-request.js';
import { rangeQuery } from './engine.js';
import { nativeKernels } from './kernels.js';
import { STALE_NAN } from './kernels-reference.js';
import { OPTS } from './test-helpers.js';
import { EngineError } from './types.js';

const b = loadNative();
const k = nativeKernels();
const now = Date.now();
const base = now - (now % 60_000) - 30 * 60_000; // whole minute, 30m ago
const limits: IngestLimits = ingestLimits(defaultConfig().limits, now);
const eq = (name: string, value: string) => ({ name, type: MatchType.Equal, value });
const present = (r: { present: Uint8Array }) => Array.from(r.present);

t.test('select, instant and range over pushed samples', async (t) => {
  const tenant = `kernels-${process.pid}-a`;
  b.resetTenant(tenant);
  // c{job="a"}: 0, 10, 20, ... every 15s for 5m; c{job="b"}: a counter that resets.
  const a: Array<[number, number]> = [];
  for (let i = 0; i <= 20; i++) a.push([base + i * 15_000, i * 10]);
  const bSamples: Array<[number, number]> = [
    [base, 5],
    [base + 60_000, 8],
    [base + 120_000, 2],
    [base + 180_000, 4],
  ];
  const res = b.ingestWriteRequest(
    tenant,
    encodeWriteRequest([
      { labels: [['__name__', 'c'], ['job', 'b']], samples: bSamples },
      { labels: [['__name__', 'c'], ['job', 'a']], samples: a },
      { labels: [['__name__', 'other']], samples: [[base, 1]] },
    ]),
    limits,
  );
  t.equal(res.acceptedSamples, 26);

  const sel = k.select(tenant, [eq('__name__', 'c')], base + 1, base + 300_000);
  t.same(sel.labels, [{ __name__: 'c', job: 'a' }, { __name__: 'c', job: 'b' }], 'sorted by labels');
  t.same(Array.from(sel.offsets), [0, 20, 23], 'left bound inclusive from base+1');
  t.equal(sel.timestamps[0], base + 15_000);
  t.equal(sel.values[19], 200);
  t.same(Array.from(sel.values.subarray(20)), [8, 2, 4]);

  const none = k.select(tenant, [eq('__name__', 'missing')], base, base + 300_000);
  t.same(none.labels, []);
  t.same(Array.from(none.offsets), [0]);
  t.same(k.select('no-such-tenant', [], 0, 1).labels, []);

  // Instant: lookback 60s at base+300s, base+400s (b is 220s old there, absent).
  const times = new Float64Array([base + 300_000, base + 400_000]);
  const inst = k.instant(sel, times, 60_000);
  t.same(present(inst), [1, 0, 0, 0]);
  t.equal(inst.values[0], 200);
  const withTimes = k.instantWithSampleTimes(sel, times, 300_000);
  t.same(present(withTimes), [1, 1, 1, 1]);
  t.equal(withTimes.sampleTimes[3], base + 180_000);

  // rate over 5m at base+300s for a: 20 samples 15s..300s, slope 10/15s, window (0s,300s].
  const rate = k.range('rate', sel, new Float64Array([base + 300_000]), 300_000, new Float64Array(0));
  t.same(present(rate), [1, 1]);
  t.ok(Math.abs(rate.values[0] - 200 / 300) < 1e-12, `rate a ${rate.values[0]}`);
  // b in (0s,300s]: 8, 2, 4 at 60s,120s,180s: increase 4-8+8=4 over 120s, extrapolated.
  const inc = k.range('increase', sel, new Float64Array([base + 300_000]), 300_000, new Float64Array(0));
  t.ok(inc.values[1] > 4, 'extrapolated increase');
  const resets = k.range('resets', sel, new Float64Array([base + 300_000]), 300_000, new Float64Array(0));
  t.same(Array.from(resets.values), [0, 1]);
  const q = k.range('quantile_over_time', sel, new Float64Array([base + 300_000]), 300_000, new Float64Array([0.5]));
  t.same(Array.from(q.values), [105, 4]);
  t.throws(() => k.range('quantile_over_time', sel, times, 300_000, new Float64Array(0)), /parameter/);
});

t.test('staleness markers and unchecked appends', async (t) => {
  const tenant = `kernels-${process.pid}-b`;
  b.resetTenant(tenant);
  const ts = new Float64Array([1000, 2000, 3000, 2500, 4000]);
  const vs = new Float64Array([1, 2, 0, 9, 4]);
  vs.set(STALE_NAN, 2);
  // Labels in any order; 2500 is out of order and dropped; no too-old check at t=1s.
  t.equal(b.appendSamplesUnchecked(tenant, ['job', 'x', '__name__', 'm'], ts, vs), 4);
  const sel = k.select(tenant, [eq('job', 'x')], 0, 10_000);
  t.same(sel.labels, [{ __name__: 'm', job: 'x' }]);
  t.same(Array.from(sel.timestamps), [1000, 2000, 3000, 4000]);
  const bits = new Uint32Array(sel.values.buffer, sel.values.byteOffset + 16, 2);
  t.same([bits[0], bits[1]], [2, 0x7ff00000], 'stale marker bits kept');

  const times = new Float64Array([2000, 3000, 3500, 4000]);
  const inst = k.instant(sel, times, 5000);
  t.same(present(inst), [1, 0, 0, 1], 'stale marker hides the series');
  const count = k.range('count_over_time', sel, times, 5000, new Float64Array(0));
  t.same(Array.from(count.values), [2, 2, 2, 3], 'markers dropped from windows');
  const absent = k.range('absent_over_time', sel, new Float64Array([500, 4000]), 500, new Float64Array(0));
  t.same(present(absent), [1, 0]);
});

t.test('max samples', async (t) => {
  const tenant = `kernels-${process.pid}-c`;
  b.resetTenant(tenant);
  b.appendSamplesUnchecked(tenant, ['__name__', 'm'], new Float64Array([1, 2, 3]), new Float64Array([1, 2, 3]));
  t.equal(k.select(tenant, [], 0, 10, 3).timestamps.length, 3);
  t.throws(() => k.select(tenant, [], 0, 10, 2), new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE));
  t.throws(() => b.selectSamples(tenant, [], 0, 10, 2), { message: TOO_MANY_SAMPLES_MESSAGE });
});

t.test('max samples stops the native selection, fused or flat, before the query holds it', async (t) => {
  const tenant = `kernels-${process.pid}-d`;
  b.resetTenant(tenant);
  // 50 series of 20 samples each (one a minute): 1,000 samples.
  const ts = new Float64Array(20).map((_, i) => i * 60_000);
  for (let s = 0; s < 50; s++) b.appendSamplesUnchecked(tenant, ['__name__', 'm', 'job', `j${s}`], ts, ts.map((t) => t / 1000));
  // The binding itself stops: fused path and flat selection.
  const params = new Float64Array(0);
  const evalTimes = new Float64Array([1_140_000]);
  t.equal(b.selectRange(tenant, [], 0, 1_140_000, 'rate', evalTimes, 1_200_000, params, undefined, 1000).samples, 1000);
  t.throws(() => b.selectRange(tenant, [], 0, 1_140_000, 'rate', evalTimes, 1_200_000, params, undefined, 999), { message: TOO_MANY_SAMPLES_MESSAGE });
  t.throws(() => k.selectRange(tenant, [], 0, 1_140_000, 'rate', evalTimes, 1_200_000, params, 999), new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE));

  // Through the engine, the query's -querier.max-samples reaches the binding: a spy records each
  // limit passed and whether the native call (not the engine's own count afterwards) refused.
  const calls: Array<{ fn: string; max: number | undefined; threw: boolean }> = [];
  const spy = {
    ...b,
    selectRange: (...args: Parameters<typeof b.selectRange>) => {
      try {
        const r = b.selectRange(...args);
        calls.push({ fn: 'selectRange', max: args[9] ?? undefined, threw: false });
        return r;
      } catch (err) {
        calls.push({ fn: 'selectRange', max: args[9] ?? undefined, threw: true });
        throw err;
      }
    },
    selectRangeAggregate: (...args: Parameters<NonNullable<typeof b.selectRangeAggregate>>) => {
      try {
        const r = b.selectRangeAggregate!(...args);
        calls.push({ fn: 'selectRangeAggregate', max: args[12] ?? undefined, threw: false });
        return r;
      } catch (err) {
        calls.push({ fn: 'selectRangeAggregate', max: args[12] ?? undefined, threw: true });
        throw err;
      }
    },
    selectSamples: (...args: Parameters<typeof b.selectSamples>) => {
      try {
        const r = b.selectSamples(...args);
        calls.push({ fn: 'selectSamples', max: args[4] ?? undefined, threw: false });
        return r;
      } catch (err) {
        calls.push({ fn: 'selectSamples', max: args[4] ?? undefined, threw: true });
        throw err;
      }
    },
  };
  const kk = nativeKernels({ binding: spy });
  const opts = (maxSamples: number) => ({ ...OPTS, tenant, maxSamples });
  const q = (query: string, maxSamples: number) => rangeQuery(kk, query, 1_140_000, 1_140_000, 60_000, opts(maxSamples));
  // Fused range path (rate), fused aggregation (sum of rate) and flat selection (a function
  // without the fused path).
  for (const [query, fn] of [
    ['rate(m[20m])', 'selectRange'],
    ['sum(rate(m[20m]))', 'selectRangeAggregate'],
    ['sum(quantile_over_time(0.5, m[20m]))', 'selectSamples'],
  ] as const) {
    calls.length = 0;
    const ok = q(query, 1000);
    t.equal(ok.value.resultType, 'matrix', `${query} within the limit answers`);
    t.same(calls, [{ fn, max: 1000, threw: false }], `${query}: limit passed to ${fn}`);
    calls.length = 0;
    t.throws(() => q(query, 999), new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE), `${query} over the limit`);
    t.same(calls, [{ fn, max: 999, threw: true }], `${query}: the native selection refused`);
  }
  // A second selection in the same query gets only what the first left.
  calls.length = 0;
  t.throws(() => q('sum(rate(m[20m])) + sum(max_over_time(m[20m]))', 1500), new EngineError('execution', TOO_MANY_SAMPLES_MESSAGE));
  t.same(calls, [
    { fn: 'selectRangeAggregate', max: 1500, threw: false },
    { fn: 'selectRangeAggregate', max: 500, threw: true },
  ]);
});
