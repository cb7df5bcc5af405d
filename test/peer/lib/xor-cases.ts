// xor-cases.ts builds the tricky sample series the XOR bit-exactness peer
// suite remote-writes into a real Prometheus: regular and jittered intervals,
// every delta-of-delta bucket edge in both signs, large gaps inside one 2h
// chunk range, NaN payloads (staleness markers included), infinities,
// extreme and denormal values, -0, constant runs, sample-rate changes that
// trigger the 2x120-samples cut, and series spanning a 2h boundary.
//
// Times are laid out around the most recent 2h boundary B at least 10 minutes
// in the past: [B-45m, min(now-1m, B+90m)], so the span stays under the 3h at
// which Prometheus compacts its head, and the first sample of the first series
// is the earliest of all (a fresh Prometheus head takes that first timestamp
// as the reference for what is too old).

import type { RawSeries } from './raw-write.js';

/** CHUNK_RANGE_MS is Prometheus's default head chunk range (2h). */
export const CHUNK_RANGE_MS = 2 * 60 * 60 * 1000;

/** STALE_NAN_BITS is Prometheus's staleness marker (value.StaleNaN). */
export const STALE_NAN_BITS = 0x7ff0000000000002n;
/** GO_NAN_BITS is what Go's math.NaN() returns. */
export const GO_NAN_BITS = 0x7ff8000000000001n;
/** JS_NAN_BITS is V8's canonical quiet NaN. */
export const JS_NAN_BITS = 0x7ff8000000000000n;

/** CaseLayout is the time window the cases were laid out in. */
export interface CaseLayout {
  nowMs: number;
  startMs: number;
  endMs: number;
  /** The 2h boundary inside the window. */
  boundaryMs: number;
}

/** mulberry32 is a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Value is a sample value: a number, or raw IEEE-754 bits as a bigint. */
type Value = number | bigint;

class SeriesBuilder {
  readonly ts: number[] = [];
  readonly vs: Value[] = [];

  constructor(readonly name: string, private readonly layout: CaseLayout) {}

  /** add appends a sample if it is inside the window and after the previous one. */
  add(t: number, v: Value): this {
    const tt = Math.round(t);
    if (tt < this.layout.startMs || tt > this.layout.endMs) return this;
    const last = this.ts[this.ts.length - 1];
    if (last !== undefined && tt <= last) return this;
    this.ts.push(tt);
    this.vs.push(v);
    return this;
  }

  build(job: string): RawSeries {
    const n = this.ts.length;
    const values = new Float64Array(n);
    const dv = new DataView(values.buffer);
    for (let i = 0; i < n; i++) {
      const v = this.vs[i]!;
      // Little-endian, the layout of a Float64Array on every platform Node runs on here.
      if (typeof v === 'bigint') dv.setBigUint64(i * 8, v, true);
      else dv.setFloat64(i * 8, v, true);
    }
    return {
      labels: [
        ['__name__', `xor_peer_${this.name}`],
        ['job', job],
        ['series', this.name],
      ],
      timestampsMs: Float64Array.from(this.ts),
      values,
    };
  }
}

/** layoutNow picks the time window for a run starting at nowMs. */
export function layoutNow(nowMs: number): CaseLayout {
  const boundaryMs = Math.floor((nowMs - 10 * 60_000) / CHUNK_RANGE_MS) * CHUNK_RANGE_MS;
  const startMs = boundaryMs - 45 * 60_000;
  const endMs = Math.min(nowMs - 60_000, boundaryMs + 90 * 60_000);
  return { nowMs, startMs, endMs, boundaryMs };
}

/** buildXorCases returns every case series; the first one holds the earliest sample. */
export function buildXorCases(layout: CaseLayout, job: string, seed = 20240615): RawSeries[] {
  const rnd = mulberry32(seed);
  const { startMs: S, endMs: E, boundaryMs: B } = layout;
  const out: SeriesBuilder[] = [];
  const mk = (name: string): SeriesBuilder => {
    const b = new SeriesBuilder(name, layout);
    out.push(b);
    return b;
  };

  // Regular 15s counter across the whole window (and the 2h boundary): first sample is S.
  {
    const b = mk('regular_15s_counter');
    let v = 0;
    for (let t = S; t <= E; t += 15_000) {
      b.add(t, v);
      v += Math.floor(rnd() * 100);
    }
  }
  // Jittered ~15s gauge (ms-level jitter, both directions).
  {
    const b = mk('jitter_gauge');
    let v = 50;
    for (let i = 0; S + i * 15_000 <= E; i++) {
      b.add(S + 3_000 + i * 15_000 + Math.floor((rnd() - 0.5) * 4_000), v);
      v += (rnd() - 0.5) * 3.7;
    }
  }
  // Every delta-of-delta bucket edge, going up then back down (negative dod).
  {
    const b = mk('dod_buckets');
    const base = 15_000;
    const edges = [1, 8191, 8192, 8193, 65535, 65536, 65537, 524287, 524288, 524289, 1_000_000];
    let t = S + 1_000;
    b.add(t, 1);
    for (let k = 0; k < 3; k++) b.add((t += base), k);
    for (const x of edges) {
      b.add((t += base + x), x); // dod +x
      b.add((t += base), -x); // dod -x
      b.add((t += base), 0); // dod 0
    }
    // Decreasing then increasing small deltas.
    for (const d of [14_000, 13_000, 1, 2, 1, 30_000, 29_999, 30_001]) b.add((t += d), d);
  }
  // Large gaps inside one 2h chunk range (before B), including a huge first delta.
  {
    const b = mk('gap_inside_range');
    let t = S + 2_000;
    for (let i = 0; i < 10; i++) b.add((t += 15_000), i);
    t += 35 * 60_000;
    for (let i = 0; i < 10; i++) b.add((t += 15_000), 10 + i);
  }
  {
    const b = mk('gap_first_delta');
    b.add(S + 5_000, 7);
    let t = S + 38 * 60_000;
    for (let i = 0; i < 20; i++) b.add((t += 15_000), 7 + i * 0.25);
  }
  // Special values, NaN payloads kept as bits.
  {
    const b = mk('special_values');
    const cycle: Value[] = [
      1.5, JS_NAN_BITS, 2.5, GO_NAN_BITS, Infinity, -Infinity, STALE_NAN_BITS, 3, STALE_NAN_BITS, STALE_NAN_BITS,
      4, -Infinity, Infinity, Infinity, 0, GO_NAN_BITS, GO_NAN_BITS, 5.25,
    ];
    let t = S + 4_000;
    for (let i = 0; i < 160; i++) b.add((t += 15_000), cycle[i % cycle.length]!);
  }
  {
    const b = mk('stale_run');
    let t = S + 6_000;
    for (let i = 0; i < 40; i++) b.add((t += 15_000), 100 + i);
    for (let i = 0; i < 25; i++) b.add((t += 15_000), STALE_NAN_BITS);
    for (let i = 0; i < 40; i++) b.add((t += 15_000), 200 + i);
  }
  // Extreme magnitudes, denormals, signed zero, bits that differ in one place.
  {
    const b = mk('extremes');
    const pool: Value[] = [
      Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, 1e308,
      1e-300, 2 ** 53, -(2 ** 53), 2 ** 63, 1, 0x8000000000000001n, 0n, 0x000fffffffffffffn, 0x7fefffffffffffffn,
      -1e-310, 123456789.123456789, -0,
    ];
    let t = S + 7_000;
    for (let i = 0; i < 200; i++) b.add((t += 15_000), pool[Math.floor(rnd() * pool.length)]!);
  }
  {
    const b = mk('one_bit_xor');
    // 1.0 and its neighbours: XORs with >= 32 leading zeros (Prometheus clamps to 31),
    // a sign-bit-only XOR, and a 64-significant-bit XOR.
    const pool: Value[] = [0x3ff0000000000000n, 0x3ff0000000000001n, 0x3ff0000000000003n, 0xbff0000000000000n,
      0x8000000000000001n, 0x0000000000000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x3ff0000080000000n];
    let t = S + 8_000;
    for (let i = 0; i < 150; i++) b.add((t += 15_000), i % 5 === 4 ? pool[Math.floor(rnd() * pool.length)]! : pool[i % 3]!);
  }
  {
    const b = mk('integers');
    let t = S + 9_000;
    for (let i = 0; i < 250; i++) b.add((t += 15_000), i * 3);
  }
  {
    const b = mk('constant');
    let t = S + 10_000;
    for (let i = 0; i < 400; i++) b.add((t += 5_000), 42);
  }
  {
    const b = mk('zeros');
    let t = S + 11_000;
    for (let i = 0; i < 130; i++) b.add((t += 15_000), [0, -0, 0, 0, -0, 1, 0, -0][i % 8]!);
  }
  {
    const b = mk('random_floats');
    let t = S + 12_000;
    for (let i = 0; i < 260; i++) {
      const scale = 10 ** Math.floor(rnd() * 40 - 20);
      b.add((t += 15_000), (rnd() - 0.3) * scale);
    }
  }
  // Dense 1s series: many 120-sample chunks.
  {
    const b = mk('dense_1s');
    let t = S + 13_000;
    let v = 0;
    for (let i = 0; i < 700; i++) b.add((t += 1_000), (v += rnd()));
  }
  // Sample rate rising after the quarter-mark prediction: cut by the 2x120 count rule.
  {
    const b = mk('rate_change');
    let t = S + 60_000;
    for (let i = 0; i < 30; i++) b.add((t += 60_000), i);
    for (let i = 0; i < 300; i++) b.add((t += 1_000), 30 + i);
  }
  {
    mk('single_sample').add(S + 14_000, 3.14);
    mk('two_samples').add(S + 15_000, 1).add(S + 15_001, 2);
  }
  // Random millisecond intervals.
  {
    const b = mk('ms_irregular');
    let t = S + 16_000;
    for (let i = 0; i < 300; i++) b.add((t += 1 + Math.floor(rnd() * 20_000)), rnd() * 1000);
  }
  // Samples right at the 2h boundary.
  {
    const b = mk('boundary_exact');
    for (const t of [B - 30_000, B - 15_000, B - 1, B, B + 1, B + 15_000, B + 30_000]) b.add(t, t % 1000);
  }
  // Long regular series across B at 10s: > 240 samples on each side when the window allows.
  {
    const b = mk('regular_10s_gauge');
    let v = 0.5;
    for (let t = S + 17_000; t <= E; t += 10_000) b.add(t, (v = v * 0.97 + rnd() * 0.1));
  }

  return out.filter((b) => b.ts.length > 0).map((b) => b.build(job));
}
