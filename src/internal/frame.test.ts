// frame.test.ts checks the internal select frame: selections with native
// histograms and start timestamps survive encode/decode bit for bit (stale
// markers included) beside float-only ones, whose layout is unchanged, and
// the replica merge keeps one sample per timestamp (the first replica's,
// float or histogram), in label order, with the start timestamps of the
// samples it keeps.

import t from 'tap';
import { encodeSeriesLabels } from '../model/series-labels.js';
import { decodeFlat, encodeFlatSamples, isStaleFlat, type FlatHistograms } from '../promql/engine/histogram-flat.js';
import { FloatHistogram } from '../promql/engine/float-histogram.js';
import { decodeFrame, decodeSelections, encodeSelections, mergeSelections, type Selection } from './frame.js';

/** STALE stands for Prometheus's StaleNaN in test samples (selection writes its exact bits). */
const STALE = NaN;
/** STALE_BITS are StaleNaN's 32-bit words as bits() lists them. */
const STALE_BITS = ['2', '7ff00000'];

function bits(a: Float64Array): string[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length * 2), (w) => w.toString(16));
}

/** Hist is one histogram sample of a test series: [t, count, start timestamp] (count < 0: a stale marker). */
type Hist = [number, number, number];

/** hists builds a selection's histogram side channel, series by series. */
function hists(perSeries: Hist[][], withStarts = true): FlatHistograms {
  const all = perSeries.flat();
  const offsets = new Uint32Array(perSeries.length + 1);
  perSeries.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length));
  // Count c in the zero bucket, two positive buckets (so that samples differ in length).
  const hs = all.map(([, c]) => new FloatHistogram(0, 0.001, Math.max(c, 0), Math.max(c, 0) * 3, c * 1.5, 0, c > 5 ? [0, 1, 2] : [0, 1], c > 5 ? [c, c, 0] : [c, c]));
  const { data, dataOffsets } = encodeFlatSamples(
    hs,
    all.map(() => true),
    all.map(([, c]) => c < 0),
  );
  const out: FlatHistograms = { offsets, timestamps: Float64Array.from(all, (h) => h[0]), dataOffsets, data };
  if (withStarts) out.startTimestamps = Float64Array.from(all, (h) => h[2]);
  return out;
}

/** floats builds a selection of float series: per series [t, value, start] samples. */
function selection(labels: Array<Record<string, string>>, floats: Array<Array<[number, number, number]>>, h?: FlatHistograms, withStarts = false): Selection {
  const all = floats.flat();
  const offsets = new Uint32Array(labels.length + 1);
  floats.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length));
  const sel: Selection = { labels: encodeSeriesLabels(labels), offsets, timestamps: Float64Array.from(all, (s) => s[0]), values: Float64Array.from(all, (s) => s[1]) };
  // A JS NaN may lose its payload: StaleNaN's bits are written as words.
  const words = new Uint32Array(sel.values.buffer);
  all.forEach((s, j) => {
    if (Number.isNaN(s[1])) words.set([0x00000002, 0x7ff00000], j * 2);
  });
  if (withStarts) sel.startTimestamps = Float64Array.from(all, (s) => s[2]);
  if (h !== undefined) sel.histograms = h;
  return sel;
}

/** histSamples lists a merged selection's histograms per series as [t, count, start, stale]. */
function histSamples(h: FlatHistograms | undefined, nSeries: number): Array<Array<[number, number, number, boolean]>> {
  const out: Array<Array<[number, number, number, boolean]>> = [];
  for (let i = 0; i < nSeries; i++) {
    const s: Array<[number, number, number, boolean]> = [];
    if (h !== undefined) {
      for (let j = h.offsets[i]!; j < h.offsets[i + 1]!; j++) {
        const stale = isStaleFlat(h.data, h.dataOffsets[j]!);
        s.push([h.timestamps[j]!, stale ? -1 : decodeFlat(h.data, h.dataOffsets[j]!, h.dataOffsets[j + 1]!).zeroCount, h.startTimestamps?.[j] ?? 0, stale]);
      }
    }
    out.push(s);
  }
  return out;
}

t.test('a frame carries histograms and start timestamps bit for bit', async (t) => {
  const h = hists([[[1000, 2, 500], [2000, -1, 0], [3000, 7, 2500]], [], [[1500, 1, 0]]]);
  const withHist = selection([{ __name__: 'h', job: 'a' }, { __name__: 'm' }, { __name__: 'x' }], [[], [[1000, 1, 900], [2000, STALE, 0]], []], h, true);
  const floatOnly = selection([{ __name__: 'f' }], [[[5000, 4, 0]]]);
  const frame = encodeSelections([floatOnly, withHist, floatOnly], { known: ['A'], queried: ['A'] });
  const { selections, hints } = decodeFrame(frame);
  t.same(hints, { known: ['A'], queried: ['A'] });
  t.equal(selections.length, 3);
  const got = selections[1]!;
  t.same(got.labels, withHist.labels);
  t.same(got.offsets, withHist.offsets);
  t.same(got.timestamps, withHist.timestamps);
  t.same(bits(got.values), bits(withHist.values), 'float stale marker bits kept');
  t.same(bits(got.values.subarray(1, 2)), STALE_BITS);
  t.same(got.startTimestamps, withHist.startTimestamps);
  t.ok(got.histograms !== undefined);
  t.same(got.histograms!.offsets, h.offsets);
  t.same(got.histograms!.timestamps, h.timestamps);
  t.same(got.histograms!.dataOffsets, h.dataOffsets);
  t.same(bits(got.histograms!.data), bits(h.data), 'histogram data (its stale marker sum) bit for bit');
  t.ok(isStaleFlat(got.histograms!.data, got.histograms!.dataOffsets[1]!), 'the stale histogram is still stale');
  t.same(got.histograms!.startTimestamps, h.startTimestamps);
  for (const i of [0, 2]) {
    t.same(selections[i], floatOnly, 'a float-only selection beside it is intact');
    t.equal(selections[i]!.histograms, undefined);
    t.equal(selections[i]!.startTimestamps, undefined);
  }
  // Histograms without start timestamps: none on the other side either.
  const noStarts = selection([{ __name__: 'h' }], [[]], hists([[[1000, 3, 0]]], false));
  const back = decodeSelections(encodeSelections([noStarts]))[0]!;
  t.equal(back.histograms?.startTimestamps, undefined);
  t.same(back.histograms?.timestamps, [1000]);
});

t.test('a float-only frame is as cheap as before: sizes, then the arrays', async (t) => {
  const sel = selection([{ __name__: 'f' }], [[[5000, 4, 0], [6000, 5, 0]]]);
  const frame = encodeSelections([sel]);
  const headLen = frame.readUInt32LE(0);
  t.same(JSON.parse(frame.subarray(4, 4 + headLen).toString('utf8')), { s: [{ b: sel.labels.length, n: 2, m: 2 }] }, 'no optional sizes in the head');
  t.equal(frame.length, 4 + headLen + sel.labels.length + 2 * 4 + 2 * 16, 'labels, offsets, timestamps and values only');
  t.throws(() => decodeFrame(frame.subarray(0, frame.length - 1)), /truncated/);
});

t.test('the replica merge keeps one sample per timestamp, floats and histograms alike', async (t) => {
  const a = { __name__: 'h', job: 'a' };
  const b = { __name__: 'h', job: 'b' };
  const c = { __name__: 'm' };
  // Replica 1: series b (histograms 1000, 2000 stale, 3000) and c (floats); series a is missing.
  const r1 = selection([b, c], [[], [[1000, 1, 10], [2000, 2, 10]]], hists([[[1000, 2, 900], [2000, -1, 0], [3000, 4, 2900]], []]), true);
  // Replica 2: a (histograms) and b (its histograms from 2000 with other start times, then 4000).
  const r2 = selection([a, b], [[], []], hists([[[1000, 6, 0]], [[2000, 9, 1], [3000, 9, 2], [4000, 5, 3900]]]));
  // Replica 3: a again, and c with a float that replica 1 lacks, no start timestamps.
  const r3 = selection([a, c], [[], [[1500, 7, 0], [2000, 99, 0]]], hists([[[1000, 8, 0], [2000, 3, 1950]], []], false));
  const m = mergeSelections([r1, r2, r3]);
  t.same(m.labels, [a, b, c], 'series in label order');
  t.same(Array.from(m.offsets), [0, 0, 0, 3]);
  t.same(Array.from(m.timestamps), [1000, 1500, 2000]);
  t.same(Array.from(m.values), [1, 7, 2], "the first replica's float at 2000");
  t.same(Array.from(m.startTimestamps!), [10, 0, 10], 'float start timestamps follow (0 where a replica has none)');
  t.same(
    histSamples(m.histograms, 3),
    [
      [
        [1000, 6, 0, false],
        [2000, 3, 0, false],
      ],
      [
        [1000, 2, 900, false],
        [2000, -1, 0, true],
        [3000, 4, 2900, false],
        [4000, 5, 3900, false],
      ],
      [],
    ],
    "one histogram per timestamp, the first replica's, stale marker kept",
  );
  t.equal(m.histograms!.dataOffsets.length, m.histograms!.timestamps.length + 1);
  t.equal(m.histograms!.dataOffsets[m.histograms!.timestamps.length], m.histograms!.data.length);

  // A series whose replicas disagree on the kind at a timestamp: one sample, the first replica's.
  const x = { __name__: 'x' };
  const floatFirst = mergeSelections([selection([x], [[[1000, 1, 0], [2000, 2, 0]]]), selection([x], [[]], hists([[[2000, 5, 0], [3000, 6, 0]]]))]);
  t.same(Array.from(floatFirst.timestamps), [1000, 2000]);
  t.same(histSamples(floatFirst.histograms, 1), [[[3000, 6, 0, false]]], 'the histogram at 2000 is not kept beside the float');
  const histFirst = mergeSelections([selection([x], [[]], hists([[[2000, 5, 0], [3000, 6, 0]]])), selection([x], [[[1000, 1, 0], [2000, 2, 0]]])]);
  t.same(Array.from(histFirst.timestamps), [1000]);
  t.same(histSamples(histFirst.histograms, 1), [[[2000, 5, 0, false], [3000, 6, 0, false]]]);
});

t.test('a float-only merge has no histograms nor start timestamps, and keeps stale bits', async (t) => {
  const m = mergeSelections([selection([{ __name__: 'm' }], [[[1000, 1, 0], [2000, STALE, 0]]]), selection([{ __name__: 'm' }], [[[2000, 3, 0], [3000, 4, 0]]])]);
  t.equal(m.histograms, undefined);
  t.equal(m.startTimestamps, undefined);
  t.same(Array.from(m.timestamps), [1000, 2000, 3000]);
  t.same(bits(m.values.subarray(1, 2)), STALE_BITS);
});
