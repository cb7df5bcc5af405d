// histogram-write.ts builds deterministic native-histogram series for the
// chunk byte-equality peer test (encoded by src/remote/write-request-histograms.ts).

import type { HistogramSeries, NativeHistogram, Span } from '../../../src/remote/write-request-histograms.js';
import { mulberry32, STALE_NAN_BITS, type CaseLayout } from './xor-cases.js';

export { encodeHistogramWriteRequest } from '../../../src/remote/write-request-histograms.js';
export type { NativeHistogram } from '../../../src/remote/write-request-histograms.js';

function toDeltas(abs: number[]): number[] {
  let prev = 0;
  return abs.map((v) => {
    const d = v - prev;
    prev = v;
    return d;
  });
}

function bucketCount(s: Span[]): number {
  return s.reduce((n, [, l]) => n + l, 0);
}

/** buildHistogramCases returns deterministic histogram series inside the layout's window. */
export function buildHistogramCases(layout: CaseLayout, job: string, seed = 424242): HistogramSeries[] {
  const rnd = mulberry32(seed);
  const out: HistogramSeries[] = [];
  const { startMs: S, endMs: E } = layout;
  const kinds: Array<{ name: string; kind: 'int' | 'float'; gauge: boolean; custom: boolean; stepMs: number }> = [
    { name: 'int_counter_15s', kind: 'int', gauge: false, custom: false, stepMs: 15_000 },
    { name: 'int_counter_5s', kind: 'int', gauge: false, custom: false, stepMs: 5_000 },
    { name: 'int_gauge', kind: 'int', gauge: true, custom: false, stepMs: 15_000 },
    { name: 'float_counter', kind: 'float', gauge: false, custom: false, stepMs: 15_000 },
    { name: 'float_gauge', kind: 'float', gauge: true, custom: false, stepMs: 30_000 },
    { name: 'nhcb_counter', kind: 'int', gauge: false, custom: true, stepMs: 15_000 },
    { name: 'nhcb_float', kind: 'float', gauge: false, custom: true, stepMs: 60_000 },
  ];
  for (const [ci, k] of kinds.entries()) {
    const labels: Array<[string, string]> = [['__name__', `nh_bitexact_${k.name}`], ['job', job], ['series', k.name]];
    const schema = k.custom ? -53 : [3, 0, -2, 1, 8][ci % 5]!;
    const customValues = k.custom ? [0.005, 0.01, 0.25, 1, 2.5, 10, 1e9] : [];
    let pos: Span[] = k.custom ? [[0, 8]] : [[-3, 2], [2, 3]];
    const neg: Span[] = k.custom ? [] : [[0, 2]];
    let pAbs = new Array<number>(bucketCount(pos)).fill(0);
    let nAbs = new Array<number>(bucketCount(neg)).fill(0);
    let zero = 0;
    let sum = 0;
    const zeroThreshold = k.custom ? 0 : [0.001, 2 ** -128, 0][ci % 3]!;
    const hs: NativeHistogram[] = [];
    // The first series starts at S so Prometheus's head accepts them all.
    for (let t = S + (ci === 0 ? 0 : Math.floor(rnd() * 20_000)); t <= E; t += k.stepMs) {
      const r = rnd();
      if (!k.custom && r < 0.01) {
        // The layout grows by one span (a recode in the chunk).
        pos = [...pos, [1 + Math.floor(rnd() * 3), 1]];
        pAbs = [...pAbs, 0];
      }
      if (!k.gauge && r > 0.995) {
        // Counter reset.
        pAbs = pAbs.map(() => 0);
        nAbs = nAbs.map(() => 0);
        zero = 0;
        sum = 0;
      }
      if (k.gauge) {
        pAbs = pAbs.map(() => Math.floor(rnd() * 40));
      } else {
        pAbs = pAbs.map((v, i) => v + (i % 3 === 0 ? 0 : Math.floor(rnd() * 7)));
        nAbs = nAbs.map((v) => v + Math.floor(rnd() * 2));
        if (!k.custom) zero += Math.floor(rnd() * 3);
      }
      sum += rnd() * 100;
      const scale = k.kind === 'float' ? 0.5 : 1;
      const p = pAbs.map((v) => v * scale);
      const n = k.custom ? [] : nAbs.map((v) => v * scale);
      const z = k.custom ? 0 : zero * scale;
      const count = p.reduce((a, b) => a + b, 0) + n.reduce((a, b) => a + b, 0) + z;
      const stale = !k.gauge && r > 0.45 && r < 0.452;
      hs.push({
        t,
        kind: k.kind,
        hint: k.gauge ? 3 : 0,
        schema,
        zeroThreshold,
        zeroCount: z,
        count,
        sum: stale ? STALE_NAN_BITS : sum,
        positiveSpans: pos,
        negativeSpans: k.custom ? [] : neg,
        positiveBuckets: k.kind === 'int' ? toDeltas(p) : p,
        negativeBuckets: k.kind === 'int' ? toDeltas(n) : n,
        customValues,
      });
    }
    out.push({ labels, histograms: hs });
  }
  return out;
}
