// format-bytes.test.ts checks that the native matrix and vector encoders write exactly
// the bytes of the string encoder (format.ts, itself checked against what
// Prometheus writes) over values of every shape: random bit patterns, the
// 'e' switch points, NaN payloads, infinities, signed zeros, denormals, and
// timestamps with and without a fraction, negative ones included.

import t from 'tap';
import type { QueryResult } from '../promql/engine/types.js';
import { encodeQuerySuccess } from './format.js';
import { encodeQuerySuccessBytes } from './format-bytes.js';

const text = new TextDecoder();

/** rng is a small deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function randomValue(next: () => number): number {
  const kind = next() % 6;
  if (kind === 0) {
    // Any bit pattern (NaNs, denormals, huge and tiny numbers).
    const b = new DataView(new ArrayBuffer(8));
    b.setUint32(0, next());
    b.setUint32(4, next());
    return b.getFloat64(0);
  }
  if (kind === 1) return (next() / 2 ** 32) * 10 ** ((next() % 60) - 30);
  if (kind === 2) return -(next() % 100000) / 1000;
  if (kind === 3) return [0, -0, NaN, Infinity, -Infinity, 1e21, 1e-6, 9.999999999999999e-7, 1e20, 5e-324, 0.1 + 0.2][next() % 11]!;
  if (kind === 4) return next() % 1000;
  return (next() / 2 ** 32) * 2 ** ((next() % 120) - 60);
}

t.test('native matrix bytes equal the string encoding', async (t) => {
  const next = rng(7);
  for (let round = 0; round < 20; round++) {
    const series: Array<{ labels: Record<string, string>; timestamps: Float64Array; values: Float64Array }> = [];
    const nSeries = round === 0 ? 0 : 1 + (next() % 30);
    for (let s = 0; s < nSeries; s++) {
      const n = next() % 50;
      const timestamps = new Float64Array(n);
      const values = new Float64Array(n);
      let ts = (next() % 2_000_000_000_000) - 1_000_000_000;
      for (let i = 0; i < n; i++) {
        timestamps[i] = ts;
        values[i] = randomValue(next);
        ts += next() % 3 === 0 ? 1000 : next() % 100_000;
      }
      series.push({ labels: { __name__: `m${s}`, job: s % 2 ? 'a<b>&"c"\n' : 'ünï\u2028', z: String(s) }, timestamps, values });
    }
    const result: QueryResult = {
      value: { resultType: 'matrix', series },
      warnings: round % 3 === 0 ? ['PromQL warning: <x>'] : [],
      infos: round % 4 === 0 ? ['PromQL info: y'] : [],
    };
    const bytes = encodeQuerySuccessBytes(result);
    t.equal(text.decode(bytes), encodeQuerySuccess(result), `round ${round}`);
    t.equal(bytes.byteOffset, 0, 'owns its buffer');
    t.equal(bytes.buffer.byteLength, bytes.byteLength, 'owns its buffer');
  }
});

t.test('native vector bytes equal the string encoding', async (t) => {
  const next = rng(13);
  for (let round = 0; round < 20; round++) {
    const nSeries = round === 0 ? 0 : 1 + (next() % 40);
    const series = Array.from({ length: nSeries }, (_, s) => ({ labels: { __name__: `m${s}`, job: s % 2 ? 'a<b>&"c"\n' : 'ünï\u2028', '\u{1f600}': String(s), '\uffff': 'x' }, value: randomValue(next) }));
    const result: QueryResult = {
      value: { resultType: 'vector', timestampMs: (next() % 2_000_000_000_000) - 1_000_000_000, series },
      warnings: round % 3 === 0 ? ['PromQL warning: <x>'] : [],
      infos: round % 4 === 0 ? ['PromQL info: y'] : [],
    };
    t.equal(text.decode(encodeQuerySuccessBytes(result)), encodeQuerySuccess(result), `round ${round}`);
  }
});

t.test('other result types go through the string encoder', async (t) => {
  const results: QueryResult[] = [
    { value: { resultType: 'scalar', timestampMs: -500, value: -0 }, warnings: ['w'], infos: [] },
    { value: { resultType: 'string', timestampMs: 7000, value: 'x"y' }, warnings: [], infos: ['i'] },
  ];
  for (const r of results) t.equal(text.decode(encodeQuerySuccessBytes(r)), encodeQuerySuccess(r));
});

t.test('series that are views of one pair of arrays encode the same as separate arrays', async (t) => {
  const next = rng(11);
  const total = 200;
  const ts = Float64Array.from({ length: total }, (_, i) => 1_700_000_000_000 + i * 15_000);
  const vs = Float64Array.from({ length: total }, () => randomValue(next));
  const cuts = [0, 30, 30, 90, 200];
  const views = cuts.slice(1).map((end, i) => ({ labels: { s: String(i) }, timestamps: ts.subarray(cuts[i]!, end), values: vs.subarray(cuts[i]!, end) }));
  const copies = views.map((s) => ({ labels: s.labels, timestamps: s.timestamps.slice(), values: s.values.slice() }));
  // Consecutive views, views with a gap between them, views out of order.
  const gapped = [views[0]!, views[3]!];
  const reordered = [views[3]!, views[0]!, views[1]!];
  for (const [name, series] of [['consecutive', views], ['copies', copies], ['gapped', gapped], ['reordered', reordered], ['prefix', views.slice(0, 2)]] as const) {
    const result: QueryResult = { value: { resultType: 'matrix', series: [...series] }, warnings: [], infos: [] };
    t.equal(text.decode(encodeQuerySuccessBytes(result)), encodeQuerySuccess(result), name);
  }
});
