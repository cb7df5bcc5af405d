import t from 'tap';
import { loadNative } from '../../storage/native.js';
import { MatchType } from '../../model/matchers.js';
import {
  bound,
  boundExponential,
  CUSTOM_BUCKETS_SCHEMA,
  FloatHistogram,
  GAUGE_TYPE,
  histogramFraction,
  histogramQuantile,
  histogramStdVar,
  HistogramOpError,
  indicesToSpans,
  NOT_COUNTER_RESET,
  COUNTER_RESET,
  UNKNOWN_COUNTER_RESET,
} from './float-histogram.js';
import { decodeFlat, encodeFlat, encodeFlatSamples, isStaleFlat } from './histogram-flat.js';

/** h builds a histogram from dense bucket lists starting at the given offsets. */
function h(o: {
  schema?: number;
  count: number;
  sum: number;
  zc?: number;
  zt?: number;
  offset?: number;
  buckets?: number[];
  nOffset?: number;
  nBuckets?: number[];
  custom?: number[];
  hint?: number;
}): FloatHistogram {
  const b = o.buckets ?? [];
  const nb = o.nBuckets ?? [];
  return FloatHistogram.fromSpans({
    schema: o.schema ?? 0,
    count: o.count,
    sum: o.sum,
    zeroCount: o.zc ?? 0,
    zeroThreshold: o.zt ?? 0,
    counterResetHint: o.hint ?? UNKNOWN_COUNTER_RESET,
    positiveSpans: b.length > 0 ? [{ offset: o.offset ?? 0, length: b.length }] : [],
    positiveBuckets: b,
    negativeSpans: nb.length > 0 ? [{ offset: o.nOffset ?? 0, length: nb.length }] : [],
    negativeBuckets: nb,
    customValues: o.custom,
  });
}

t.test('exponential bounds are correctly rounded powers of two', async (t) => {
  t.equal(boundExponential(0, 0), 1);
  t.equal(boundExponential(1, 0), 2);
  t.equal(boundExponential(-1, 0), 0.5);
  // Prometheus's table: sqrt(1/2) one unit in the last place below its correct rounding, so 2^(1/2) too.
  t.equal(boundExponential(1, 1), Math.SQRT2 - 2 ** -52);
  t.equal(boundExponential(1, 1), 1.414213562373095);
  // 2^(3/4) = 1.681792830507429086...: Prometheus's table entry 0.8408964152537144, one unit below the correct rounding.
  t.equal(boundExponential(3, 2), 1.6817928305074288);
  t.equal(boundExponential(1, 8), 2 * 0.5013556375251013);
  t.ok(Math.abs(boundExponential(-1, 8) - 2 ** (-1 / 256)) <= 4 * 2 ** -53, '2^(-1/256) to four units in the last place');
  t.equal(boundExponential(2, -2), 256);
  t.equal(boundExponential(-3, -1), 2 ** -6);
  t.equal(boundExponential(1024, 0), Number.MAX_VALUE, 'last bucket before the overflow bucket');
  t.equal(boundExponential(1025, 0), Infinity);
  t.equal(bound(2, CUSTOM_BUCKETS_SCHEMA, [1, 5]), Infinity);
  t.equal(bound(-1, CUSTOM_BUCKETS_SCHEMA, [1, 5]), -Infinity);
  t.equal(bound(1, CUSTOM_BUCKETS_SCHEMA, [1, 5]), 5);
});

t.test('spans from indices', async (t) => {
  t.same(indicesToSpans([0, 1, 4, 5, 6, 10]), [
    { offset: 0, length: 2 },
    { offset: 2, length: 3 },
    { offset: 3, length: 1 },
  ]);
  t.same(indicesToSpans([-3]), [{ offset: -3, length: 1 }]);
});

t.test('add and sub reduce to the coarser schema and the wider zero bucket', async (t) => {
  // schema 1 buckets 1..4 (bounds sqrt2, 2, 2sqrt2, 4) into schema 0 buckets 1, 2
  const a = h({ schema: 1, count: 4, sum: 10, offset: 1, buckets: [1, 1, 1, 1] });
  const b = h({ schema: 0, count: 3, sum: 5, offset: 1, buckets: [1, 2] });
  const r = a.copy();
  r.add(b);
  t.equal(r.schema, 0);
  t.same(r.posIdx, [1, 2]);
  t.same(r.posCnt, [3, 4]);
  t.equal(r.count, 7);
  t.equal(r.sum, 15);
  // The zero bucket of the result covers the wider one; buckets inside it move into its count.
  const z = h({ count: 3, sum: 1, zc: 1, zt: 0.5, offset: -1, buckets: [1, 1] });
  const w = h({ count: 2, sum: 1, zc: 1, zt: 1, offset: 1, buckets: [1] });
  const s = z.copy();
  s.add(w);
  t.equal(s.zeroThreshold, 1);
  t.equal(s.zeroCount, 4, 'buckets (0.25,0.5] and (0.5,1] folded in, plus the other zero count');
  t.same(s.posIdx, [1]);
  t.same(s.posCnt, [1]);
  const d = s.copy();
  d.add(w, true);
  t.equal(d.count, 3);
  t.equal(d.zeroCount, 3);
  t.same(d.copy().compact().posCnt, []);
  // Mixing exponential and custom buckets is refused.
  t.throws(() => a.copy().add(h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 1, sum: 1, buckets: [1], custom: [1] })), HistogramOpError);
  // Hints: CounterReset + NotCounterReset collide.
  const c1 = h({ count: 1, sum: 1, hint: COUNTER_RESET });
  t.equal(c1.add(h({ count: 1, sum: 1, hint: NOT_COUNTER_RESET })).counterResetCollision, true);
  t.equal(c1.counterResetHint, UNKNOWN_COUNTER_RESET);
  const g = h({ count: 1, sum: 1 });
  g.add(h({ count: 1, sum: 1, hint: GAUGE_TYPE }));
  t.equal(g.counterResetHint, GAUGE_TYPE);
});

t.test('custom buckets with different bounds meet at their intersection', async (t) => {
  const a = h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 6, sum: 10, buckets: [1, 2, 3], custom: [1, 2] });
  const b = h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 3, sum: 4, buckets: [1, 1, 1], custom: [2, 3] });
  const r = a.copy();
  t.equal(r.add(b).nhcbBoundsReconciled, true);
  t.same(r.customValues, [2]);
  // a: le 2 gets 1+2, +Inf gets 3; b: le 2 gets 1, +Inf gets 1+1
  t.same(r.posCnt, [4, 5]);
});

t.test('mul and div', async (t) => {
  const a = h({ count: 4, sum: 10, zc: 1, offset: 0, buckets: [1, 2], nBuckets: [1] });
  a.copy().mul(2);
  const m = a.copy().mul(-1);
  t.equal(m.counterResetHint, GAUGE_TYPE);
  t.same(m.posCnt, [-1, -2]);
  const z = a.copy().div(0);
  t.equal(z.count, Infinity);
  t.same(z.posIdx, []);
});

t.test('counter reset detection', async (t) => {
  const prev = h({ count: 4, sum: 10, offset: 0, buckets: [2, 2] });
  t.equal(h({ count: 5, sum: 11, offset: 0, buckets: [2, 3] }).detectReset(prev), false);
  t.equal(h({ count: 5, sum: 11, offset: 0, buckets: [3, 1, 1] }).detectReset(prev), true, 'a bucket went down');
  t.equal(h({ count: 5, sum: 11, offset: 1, buckets: [5] }).detectReset(prev), true, 'a populated bucket vanished');
  t.equal(h({ count: 3, sum: 11, offset: 0, buckets: [2, 2] }).detectReset(prev), true, 'count went down');
  t.equal(h({ schema: 1, count: 5, sum: 11, offset: 0, buckets: [2, 3] }).detectReset(prev), true, 'finer schema');
  t.equal(h({ schema: -1, count: 4, sum: 11, offset: 0, buckets: [2, 2] }).detectReset(prev), false, 'coarser schema merges the previous buckets');
  t.equal(h({ count: 1, sum: 1, hint: NOT_COUNTER_RESET }).detectReset(prev), false, 'the hint decides');
});

t.test('histogram_quantile interpolates exponentially, linearly in the zero bucket', async (t) => {
  // schema 0: buckets (1,2]:4; quantile 0.5 is at rank 2 of 4 in (1,2] -> 2^0.5, as Go's
  // math.Exp2(0.5) gives it (one unit in the last place below sqrt(2)), the value Prometheus answers.
  const a = h({ count: 4, sum: 6, offset: 1, buckets: [4] });
  t.equal(histogramQuantile(0.5, a).value, 1.414213562373095);
  t.equal(histogramQuantile(0.25, a).value, 2 ** 0.25);
  t.equal(histogramQuantile(-1, a).value, -Infinity);
  t.equal(histogramQuantile(2, a).value, Infinity);
  // zero bucket with only positive buckets: [0, threshold] linearly
  const z = h({ count: 4, sum: 3, zc: 2, zt: 0.5, offset: 1, buckets: [2] });
  t.equal(histogramQuantile(0.25, z).value, 0.25);
  // negative buckets mirrored: (-2,-1]:4 -> 0.5 quantile -sqrt2
  const n = h({ count: 4, sum: -6, offset: 1, nOffset: 1, nBuckets: [4] });
  t.equal(histogramQuantile(0.5, n).value, -1.414213562373095);
  // custom buckets: linear; the +Inf bucket yields its lower bound
  const c = h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 4, sum: 6, buckets: [2, 1, 1], custom: [1, 3] });
  t.equal(histogramQuantile(0.25, c).value, 0.5);
  t.equal(histogramQuantile(0.625, c).value, 2);
  t.equal(histogramQuantile(0.99, c).value, 3);
  // NaN observations: sum NaN and count above the buckets' total
  const nan = h({ count: 5, sum: NaN, offset: 1, buckets: [4] });
  t.same(histogramQuantile(0.99, nan), { value: NaN, info: 'quantile-nan-result' });
  t.equal(histogramQuantile(0.5, nan).info, 'quantile-nan-skew');
});

t.test('histogram_fraction and stdvar', async (t) => {
  const a = h({ count: 4, sum: 6, offset: 1, buckets: [4] });
  t.equal(histogramFraction(0, 2, a).value, 1);
  t.ok(Math.abs(histogramFraction(1, 2 ** 0.5, a).value - 0.5) < 1e-15);
  t.equal(histogramFraction(3, 2, a).value, 0);
  const c = h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 4, sum: 6, buckets: [2, 1, 1], custom: [1, 3] });
  t.equal(histogramFraction(0, 2, c).value, (2 + 0.5) / 4);
  // one bucket (1,2] of 4 at its geometric mean sqrt2, mean 1.5
  t.equal(histogramStdVar(a), (2 ** 0.5 - 1.5) ** 2);
});

t.test('hand-off format round trip, in TS and through the Rust core', async (t) => {
  const a = FloatHistogram.fromSpans({
    schema: 3,
    zeroThreshold: 0.001,
    zeroCount: 2,
    count: 12,
    sum: -4.5,
    counterResetHint: NOT_COUNTER_RESET,
    positiveSpans: [
      { offset: -2, length: 2 },
      { offset: 3, length: 1 },
    ],
    positiveBuckets: [1, 2, 3],
    negativeSpans: [{ offset: 1, length: 2 }],
    negativeBuckets: [2, 2],
  });
  const c = h({ schema: CUSTOM_BUCKETS_SCHEMA, count: 4, sum: 6, buckets: [2, 1, 1], custom: [1, 3] });
  const out: number[] = [];
  encodeFlat(out, a);
  const back = decodeFlat(Float64Array.from(out), 0, out.length);
  t.same(back, a);
  const { data, dataOffsets } = encodeFlatSamples([a, c, c], [false, true, false], [false, false, true]);
  t.same(decodeFlat(data, dataOffsets[1]!, dataOffsets[2]!), c);
  t.equal(isStaleFlat(data, dataOffsets[2]!), true);
  t.equal(isStaleFlat(data, dataOffsets[1]!), false);
  t.throws(() => decodeFlat(Float64Array.from([0, 0, 0, 1, 1, 0, 0, 1, 0, 2, 0, 0, 0, 1, 5, 6]), 0), /different number of buckets/);

  const b = loadNative();
  const tenant = `flat-${process.pid}`;
  b.appendHistogramsUnchecked(tenant, ['__name__', 'h'], Float64Array.from([1000, 2000, 3000]), data, dataOffsets);
  try {
    const sel = b.selectSamples(tenant, [{ name: '__name__', value: 'h', type: MatchType.Equal }], 0, 10_000);
    const hs = sel.histograms;
    t.ok(hs, 'histograms side channel');
    t.same(Array.from(hs!.timestamps), [1000, 2000, 3000]);
    t.same(Array.from(hs!.offsets), [0, 3]);
    // The head keeps hints as Prometheus's chunks do: the first sample of a chunk reads back unknown.
    t.same(decodeFlat(hs!.data, hs!.dataOffsets[0]!, hs!.dataOffsets[1]!), Object.assign(a.copy(), { counterResetHint: UNKNOWN_COUNTER_RESET }));
    t.same(decodeFlat(hs!.data, hs!.dataOffsets[1]!, hs!.dataOffsets[2]!), c);
    t.equal(hs!.data[hs!.dataOffsets[1]! + 6], 1, 'integer histogram kept as such');
    t.equal(isStaleFlat(hs!.data, hs!.dataOffsets[2]!), true, 'stale marker bits survive');
  } finally {
    b.resetTenant(tenant);
  }
});

t.test('compensated sums and means of histograms', async (t) => {
  const { KahanHistogramSum, HistogramMean } = await import('./float-histogram.js');
  const k = new KahanHistogramSum(h({ count: 1, sum: 1e100, offset: 0, buckets: [1e100] }));
  k.add(h({ count: 1, sum: 1, offset: 0, buckets: [1] }));
  k.add(h({ count: 1, sum: -1e100, offset: 0, buckets: [-1e100] }));
  const r = k.result();
  t.equal(r.sum, 1, 'plain addition would lose the 1');
  t.same(r.posCnt, [1]);
  t.equal(r.count, 3);
  // The mean switches to incremental averaging where the sum overflows.
  const m = new HistogramMean(h({ count: Number.MAX_VALUE, sum: 1, offset: 0, buckets: [1] }));
  m.add(h({ count: Number.MAX_VALUE, sum: 3, offset: 0, buckets: [3] }));
  const avg = m.result();
  t.equal(avg.count, Number.MAX_VALUE);
  t.equal(avg.sum, 2);
  t.same(avg.posCnt, [2]);
});
