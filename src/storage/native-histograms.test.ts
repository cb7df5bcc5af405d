// native-histograms.test.ts checks the native side of the histogram hand-off
// format: histograms appended with appendHistogramsUnchecked come back from
// selectSamples in the same flat layout (integer ones marked isInt, bucket
// counts absolute), next to the float samples of a series that changes type;
// malformed runs are refused with nothing appended.

import { decodeSeriesLabels } from '../model/series-labels.js';
import t from 'tap';
import { loadNative, MatchType } from './native.js';

const b = loadNative();
const tenant = `nh-flat-${process.pid}`;
const eq = (name: string, value: string) => ({ name, type: MatchType.Equal, value });

// [schema, zeroThreshold, zeroCount, count, sum, hint, isInt, nPosSpans, nNegSpans, nPos, nNeg, nCustom, spans..., buckets..., custom...]
const intHist = (n: number, hint = 0): number[] => [0, 0.001, n, 3 * n, 2.5 * n, hint, 1, 1, 0, 2, 0, 0, 1, 2, n, n];
const floatHist = (n: number): number[] => [2, 0.001, 0.5, n + 0.5, -n, 3, 0, 0, 1, 0, 1, 0, 0, 1, n];
const nhcb = (n: number): number[] => [-53, 0, 0, n, n, 0, 1, 1, 0, 2, 0, 2, 0, 2, n, 0, 0.5, 1];

function flat(runs: number[][]): { data: Float64Array; dataOffsets: Uint32Array } {
  const offs = [0];
  for (const r of runs) offs.push(offs[offs.length - 1] + r.length);
  return { data: Float64Array.from(runs.flat()), dataOffsets: Uint32Array.from(offs) };
}

t.test('appendHistogramsUnchecked then selectSamples round-trips the flat format', (t) => {
  t.teardown(() => b.resetTenant(tenant));
  const labels = ['__name__', 'nh', 'job', 'x'];
  const runs = [intHist(1), intHist(2), nhcb(4)];
  const { data, dataOffsets } = flat(runs);
  t.equal(b.appendHistogramsUnchecked(tenant, labels, Float64Array.from([1000, 2000, 3000]), data, dataOffsets), 3);
  // A float sample after them, then float histograms (the series changes type twice).
  t.equal(b.appendSamplesUnchecked(tenant, labels, Float64Array.from([4000]), Float64Array.from([7])), 1);
  const f = flat([floatHist(5), floatHist(6)]);
  t.equal(b.appendHistogramsUnchecked(tenant, labels, Float64Array.from([5000, 6000]), f.data, f.dataOffsets), 2);
  // Not after the newest sample: dropped.
  t.equal(b.appendHistogramsUnchecked(tenant, labels, Float64Array.from([6000]), f.data.subarray(0, f.dataOffsets[1]), f.dataOffsets.subarray(0, 2)), 0);

  const sel = b.selectSamples(tenant, [eq('__name__', 'nh')], 0, 10_000);
  t.same(decodeSeriesLabels(sel.labels), [{ __name__: 'nh', job: 'x' }]);
  t.same(Array.from(sel.timestamps), [4000]);
  t.same(Array.from(sel.values), [7]);
  const h = sel.histograms;
  t.ok(h, 'the histogram side channel is present');
  if (!h) return;
  t.same(Array.from(h.offsets), [0, 5]);
  t.same(Array.from(h.timestamps), [1000, 2000, 3000, 5000, 6000]);
  const got = Array.from({ length: 5 }, (_, j) => Array.from(h.data.subarray(h.dataOffsets[j], h.dataOffsets[j + 1])));
  // Hints read as Prometheus's chunk iterators give them: the first sample of a chunk carries
  // the chunk's header (unknown here), the next ones "not a counter reset"; gauges stay gauges.
  t.same(got, [intHist(1), intHist(2, 2), nhcb(4), floatHist(5), floatHist(6)]);

  // A window without histograms has no side channel; one without floats keeps the series.
  t.equal(b.selectSamples(tenant, [eq('__name__', 'nh')], 4000, 4000).histograms, undefined);
  const only = b.selectSamples(tenant, [eq('__name__', 'nh')], 0, 3000);
  t.same(Array.from(only.offsets), [0, 0]);
  t.same(Array.from(only.histograms?.offsets ?? []), [0, 3]);
  t.end();
});

t.test('malformed histogram runs are refused', (t) => {
  t.teardown(() => b.resetTenant(tenant));
  const labels = ['__name__', 'bad'];
  const short = intHist(1).slice(0, 14);
  t.throws(() => b.appendHistogramsUnchecked(tenant, labels, Float64Array.from([1000]), Float64Array.from(short), Uint32Array.from([0, short.length])), {
    message: /appendHistogramsUnchecked: histogram run has 14 values, its header says 16/,
  });
  t.throws(() => b.appendHistogramsUnchecked(tenant, labels, Float64Array.from([1000, 2000]), Float64Array.from(intHist(1)), Uint32Array.from([0, 16])), {
    message: /2 timestamps need 3 data offsets/,
  });
  t.equal(b.selectSamples(tenant, [eq('__name__', 'bad')], 0, 10_000).histograms, undefined);
  t.end();
});

t.test('the float-only fused selections flag series with histograms in range', (t) => {
  t.teardown(() => b.resetTenant(tenant));
  const ts = Float64Array.from([60_000, 120_000]);
  b.appendSamplesUnchecked(tenant, ['__name__', 'mix', 'k', 'f'], ts, Float64Array.from([1, 2]));
  const { data, dataOffsets } = flat([intHist(1), intHist(2)]);
  b.appendHistogramsUnchecked(tenant, ['__name__', 'mix', 'k', 'h'], Float64Array.from([180_000, 240_000]), data, dataOffsets);
  const evalTimes = Float64Array.from([240_000]);
  const range = (mint: number, name = 'mix') =>
    b.selectRange(tenant, [eq('__name__', name)], mint, 240_000, 'count_over_time', evalTimes, 240_000 - mint, new Float64Array(0));
  t.equal(range(1).hasHistograms, true);
  t.equal(range(200_000).hasHistograms, true, 'one histogram in range');
  t.equal(range(1, 'nope').hasHistograms, false);
  // Float-only selections of the same tenant are not flagged.
  t.equal(b.selectRange(tenant, [eq('k', 'f')], 1, 240_000, 'count_over_time', evalTimes, 240_000, new Float64Array(0)).hasHistograms, false);
  const agg = b.selectRangeAggregate?.(tenant, [eq('__name__', 'mix')], 1, 240_000, 'count_over_time', evalTimes, 240_000, 'sum', false, [], false);
  t.equal(agg?.hasHistograms, true);
  const inst = b.selectInstantAggregate?.(tenant, [eq('k', 'f')], 1, 240_000, evalTimes, 300_000, 'sum', false, []);
  t.equal(inst?.hasHistograms, false);
  t.end();
});
