// histogram-rate-sum.test.ts checks the native `sum(rate(...))` over native
// histograms (native/core/src/promql/histogram_rate_sum.rs, reached through
// aggregate-fused.ts) against the engine's general path bit for bit: random
// integer and float histograms with counter resets (by count, by bucket and
// by hint), schema changes, negative buckets, custom buckets, staleness
// markers and gaps, in the head alone and in a block overlapping the head;
// and that the shapes it does not cover (gauges, other zero thresholds,
// custom bounds that differ within a group, floats among the histograms)
// give way to the general path with its annotations.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadNative } from '../../storage/native.js';
import { rangeQuery, instantQuery } from './engine.js';
import { COUNTER_RESET, FloatHistogram, GAUGE_TYPE, UNKNOWN_COUNTER_RESET } from './float-histogram.js';
import { encodeFlatSamples } from './histogram-flat.js';
import { nativeKernels } from './kernels.js';
import type { Kernels } from './types.js';
import { attemptExact as attempt, OPTS, rng } from './test-helpers.js';

const b = loadNative();
const fused = nativeKernels();
const plain: Kernels = { ...fused, selectAggregate: undefined };

const BOUNDS = [0.1, 0.5, 1, 5, 10];
const DEFAULT_ZT = 2.938735877055719e-39;

interface Kind {
  name: string;
  schema: (series: number, at: number) => number;
  custom?: (series: number) => number[];
  zt?: number;
  hint?: number;
  floats?: boolean;
  negative?: boolean;
  float?: boolean;
}

const KINDS: Kind[] = [
  { name: 'hx', schema: () => 3, negative: true },
  // Schemas that fall during the series (as a bucket limit reduces them) and differ between series.
  { name: 'hy', schema: (s, at) => Math.max(0, 3 - (s % 2) - Math.floor(at / 1_500_000)), float: true },
  { name: 'hc', schema: () => -53, custom: () => BOUNDS },
  { name: 'hd', schema: () => -53, custom: (s) => (s % 2 === 0 ? BOUNDS : [0.5, 1, 2]) },
  { name: 'hg', schema: () => 3, hint: GAUGE_TYPE },
  { name: 'hz', schema: () => 2, zt: 0.001 },
  { name: 'hm', schema: () => 1, floats: true },
];

/** load writes per kind 6 random histogram series into the tenant. */
function load(t: Test, tenant: string, next: () => number): void {
  for (const kind of KINDS) {
    for (let s = 0; s < 6; s++) {
      const labels = ['__name__', kind.name, 'i', String(s), 'g', String(s % 3)];
      const ts: number[] = [];
      const hs: FloatHistogram[] = [];
      const stale: boolean[] = [];
      const floatTs: number[] = [];
      let at = Math.floor(next() * 30_000);
      let buckets = new Map<number, number>();
      let neg = new Map<number, number>();
      let zc = 0;
      let sum = 0;
      while (at < 3_600_000) {
        const r = next();
        let hint = kind.hint ?? UNKNOWN_COUNTER_RESET;
        if (r < 0.04) {
          // A counter reset: everything starts again (sometimes said by the hint).
          buckets = new Map();
          neg = new Map();
          zc = 0;
          sum = 0;
          if (next() < 0.5 && kind.hint === undefined) hint = COUNTER_RESET;
        }
        const scale = kind.float === true ? 0.37 : 1;
        const n = 1 + Math.floor(next() * 4);
        for (let k = 0; k < n; k++) {
          const idx = kind.custom ? Math.floor(next() * (kind.custom(s).length + 1)) : Math.floor(next() * 14) - 3;
          buckets.set(idx, (buckets.get(idx) ?? 0) + Math.ceil(next() * 5) * scale);
        }
        if (kind.negative === true && next() < 0.5) {
          const idx = Math.floor(next() * 6) - 2;
          neg.set(idx, (neg.get(idx) ?? 0) + Math.ceil(next() * 3));
        }
        if (kind.custom === undefined && next() < 0.3) zc += Math.ceil(next() * 2) * scale;
        sum += next() * 20;
        const schema = kind.schema(s, at);
        const h = toHistogram(buckets, neg, schema, kind.zt ?? DEFAULT_ZT, zc, sum, hint, kind.custom?.(s) ?? []);
        ts.push(at);
        hs.push(h);
        stale.push(next() < 0.01);
        if (kind.floats === true && next() < 0.1) floatTs.push(at + 1);
        at += 10_000 + Math.floor(next() * 20_000);
        if (next() < 0.02) at += 400_000;
      }
      // Appended in time order: each float goes in between the histograms around it.
      let from = 0;
      for (const ft of [...floatTs, Infinity]) {
        let to = from;
        while (to < ts.length && ts[to]! < ft) to++;
        if (to > from) {
          const { data, dataOffsets } = encodeFlatSamples(hs.slice(from, to), hs.slice(from, to).map(() => kind.float !== true), stale.slice(from, to));
          t.equal(b.appendHistogramsUnchecked(tenant, labels, Float64Array.from(ts.slice(from, to)), data, dataOffsets), to - from);
        }
        if (ft !== Infinity) t.equal(b.appendSamplesUnchecked(tenant, labels, Float64Array.of(ft), Float64Array.of(ft / 1000)), 1);
        from = to;
      }
    }
  }
}

/** toHistogram builds a histogram of the given schema from finer (schema 3) counts (custom: as they are). */
function toHistogram(pos: Map<number, number>, neg: Map<number, number>, schema: number, zt: number, zc: number, sum: number, hint: number, custom: number[]): FloatHistogram {
  const side = (m: Map<number, number>): [number[], number[]] => {
    const merged = new Map<number, number>();
    for (const [k, v] of m) {
      const t = custom.length > 0 ? k : Math.floor((k - 1) / 2 ** (3 - schema)) + 1;
      merged.set(t, (merged.get(t) ?? 0) + v);
    }
    const idx = [...merged.keys()].sort((a, c) => a - c);
    return [idx, idx.map((k) => merged.get(k)!)];
  };
  const [pi, pc] = side(pos);
  const [ni, nc] = side(neg);
  const count = zc + pc.reduce((a, c) => a + c, 0) + nc.reduce((a, c) => a + c, 0);
  return new FloatHistogram(schema, zt, zc, count, sum, hint, pi, pc, ni, nc, custom);
}

const SELECTORS = ['hx', 'hy', 'hc', 'hd', 'hd{g="0"}', 'hg', 'hz', 'hm', '{__name__=~"hx|hy"}', '{__name__=~"h[xc]"}', 'hx{i!="2"}'];
const GROUPS = ['', ' by (g)', ' by (i, g)', ' without (i)', ' without ()', ' by (__name__)'];
const INNERS = ['rate(X[5m]M)', 'increase(X[3m]M)', 'rate(X[90s]M)', 'increase(X[10m]M)'];
const MODS = ['', '', ' offset 2m', ' @ 1800'];
const OUTER = ['Q', 'Q', 'histogram_quantile(0.9, Q)', 'histogram_count(Q)', 'histogram_sum(Q)', 'Q / 2'];

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[Math.floor(next() * xs.length)]!;
}

function randomQuery(next: () => number): string {
  const inner = pick(next, INNERS).replace('X', pick(next, SELECTORS)).replace('M', pick(next, MODS));
  return pick(next, OUTER).replace('Q', `sum${pick(next, GROUPS)} (${inner})`);
}

t.test('sum of histogram rates: the native kernel answers exactly what the general path answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hist-rate-sum-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const headOnly = `hrs-head-${process.pid}`;
  const withBlock = `hrs-block-${process.pid}`;
  load(t, headOnly, rng(21));
  load(t, withBlock, rng(22));
  const written = b.writeBlock(withBlock, dir, 0, 1_800_000);
  t.ok(written, 'block written');
  t.same(b.setTenantBlocks!(withBlock, [join(dir, written!.ulid)]), [], 'block opened');
  t.teardown(() => {
    b.setTenantBlocks!(withBlock, []);
    b.resetTenant(headOnly);
    b.resetTenant(withBlock);
  });

  let native = 0;
  const counting: Kernels = {
    ...fused,
    selectAggregate: (...args) => {
      const r = fused.selectAggregate(...args);
      if (r?.histograms !== undefined) native++;
      return r;
    },
  };
  const next = rng(23);
  let answered = 0;
  for (let round = 0; round < 160; round++) {
    const tenant = round % 2 === 0 ? headOnly : withBlock;
    const q = randomQuery(next);
    const opts = { ...OPTS, tenant };
    const step = pick(next, [15_000, 37_000, 60_000]);
    const start = Math.floor(next() * 1_800_000);
    const end = start + Math.floor(next() * 1_800_000);
    const want = attempt(() => rangeQuery(plain, q, start, end, step, opts));
    t.equal(attempt(() => rangeQuery(counting, q, start, end, step, opts)), want, `range ${q} [${start}, ${end}] / ${step} (${tenant})`);
    const at = Math.floor(next() * 3_700_000);
    t.equal(attempt(() => instantQuery(counting, q, at, opts)), attempt(() => instantQuery(plain, q, at, opts)), `instant ${q} @ ${at}`);
    if (want.includes('={s')) answered++;
  }
  t.ok(answered > 40, `many answers hold histograms (${answered})`);
  t.ok(native > 60, `the native kernel answered ${native} selections`);
});

t.test('the kernel gives way where the general path must annotate or reconcile', async (t) => {
  const tenant = `hrs-shapes-${process.pid}`;
  load(t, tenant, rng(31));
  t.teardown(() => b.resetTenant(tenant));
  const opts = { ...OPTS, tenant };
  const cases: Array<[string, boolean]> = [
    ['sum(rate(hx[5m]))', true],
    ['sum by (i) (increase(hy[5m]))', true],
    // Schemas that differ within a group: the sum's compensation would follow a layout change.
    ['sum by (g) (increase(hy[5m]))', false],
    ['sum(rate(hz[5m]))', true],
    ['sum(rate(hc[5m]))', true],
    ['sum by (i) (rate(hd[5m]))', true],
    // Custom bounds that differ within one group are reconciled (and noted) by the general path.
    ['sum(rate(hd[5m]))', false],
    ['sum(rate(hg[5m]))', false],
    ['sum(rate(hm[5m]))', false],
    ['sum(rate({__name__=~"hx|hz"}[5m]))', false],
    ['avg(rate(hx[5m]))', false],
  ];
  for (const [q, native] of cases) {
    let answered = false;
    const k: Kernels = {
      ...fused,
      selectAggregate: (...args) => {
        const r = fused.selectAggregate(...args);
        if (r?.histograms !== undefined) answered = true;
        return r;
      },
    };
    const got = attempt(() => rangeQuery(k, q, 600_000, 3_000_000, 60_000, opts));
    t.equal(answered, native, `${q}: native ${native}`);
    t.equal(got, attempt(() => rangeQuery(plain, q, 600_000, 3_000_000, 60_000, opts)), `${q}: same answer`);
    t.ok(got.includes('={s'), `${q}: histograms in the answer`);
  }
  const gauge = attempt(() => rangeQuery(fused, 'sum(rate(hg[5m]))', 600_000, 3_000_000, 60_000, opts));
  t.match(gauge, /this native histogram metric is not a counter/, 'the gauge warning is raised');
  const mixed = attempt(() => rangeQuery(fused, 'sum(rate(hm[5m]))', 600_000, 3_000_000, 60_000, opts));
  t.match(mixed, /encountered a mix of histograms and floats/, 'the mixed-samples warning is raised');
});

t.test('the sample limit counts histogram samples on the native path too', async (t) => {
  const tenant = `hrs-limit-${process.pid}`;
  load(t, tenant, rng(41));
  t.teardown(() => b.resetTenant(tenant));
  const q = 'sum(rate(hx[5m]))';
  const ok = attempt(() => rangeQuery(fused, q, 600_000, 1_200_000, 60_000, { ...OPTS, tenant }));
  t.notMatch(ok, /^error/, 'answers without a limit');
  const tight = attempt(() => rangeQuery(fused, q, 600_000, 1_200_000, 60_000, { ...OPTS, tenant, maxSamples: 10 }));
  t.equal(tight, attempt(() => rangeQuery(plain, q, 600_000, 1_200_000, 60_000, { ...OPTS, tenant, maxSamples: 10 })), 'the same error as the general path');
  t.match(tight, /too many samples/, 'the limit error');
});
