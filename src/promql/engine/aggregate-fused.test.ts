// aggregate-fused.test.ts checks the native aggregation pushdown
// (aggregate-fused.ts) against the general path bit for bit: random series
// with NaN, ±Inf, huge values (overflowing sums), staleness markers, counter
// resets and gaps, in the head alone and in a block overlapping the head;
// random operators, groupings, inner expressions, modifiers and grids; the
// same kernels with the pushdown removed give the expected answer, warnings,
// samples charged and errors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadNative } from '../../storage/native.js';
import { parseExpr } from '../parser/parser.js';
import { Evaluator, instantQuery, rangeQuery } from './engine.js';
import { STALE_NAN } from './kernels-reference.js';
import { nativeKernels } from './kernels.js';
import type { Kernels } from './types.js';
import { attemptExact as attempt, OPTS, rng } from './test-helpers.js';

const b = loadNative();
const fused = nativeKernels();
const plain: Kernels = { ...fused, selectAggregate: undefined };

/** samplesCharged evaluates e over a grid and returns what it charged against -querier.max-samples. */
function samplesCharged(k: Kernels, q: string, start: number, end: number, step: number, tenant: string): number {
  const ev = new Evaluator(k, { ...OPTS, tenant }, q, start, end, true, step);
  ev.eval(parseExpr(q), { startMs: start, stepMs: step, n: Math.floor((end - start) / step) + 1 });
  return (ev as unknown as { samples: number }).samples;
}

/** load writes random series into the tenant: counters with resets, NaN, ±Inf, huge values, staleness markers, gaps. */
function load(tenant: string, next: () => number, count: number): void {
  for (let s = 0; s < count; s++) {
    const labels = ['__name__', s % 4 === 0 ? 'm' : 'm_total', 'i', String(s)];
    if (s % 5 !== 0) labels.push('g', String(s % 3));
    labels.push('h', String(s % 4));
    const ts: number[] = [];
    const vs: number[] = [];
    const stale: number[] = [];
    let at = Math.floor(next() * 30_000);
    let v = next() * 100;
    while (at < 3_600_000) {
      const r = next();
      if (r < 0.03) v = next() * 10;
      else v += next() * 10;
      let x = v;
      if (r > 0.995) x = NaN;
      else if (r > 0.99) x = next() < 0.5 ? Infinity : -Infinity;
      else if (r > 0.985) x = (next() < 0.5 ? -1 : 1) * 1.7e308;
      else if (r > 0.98) stale.push(vs.length);
      ts.push(at);
      vs.push(x);
      at += 5_000 + Math.floor(next() * 40_000);
      if (next() < 0.02) at += 400_000;
    }
    const arr = Float64Array.from(vs);
    for (const i of stale) arr.set(STALE_NAN, i);
    b.appendSamplesUnchecked(tenant, labels, Float64Array.from(ts), arr);
  }
}

const OPS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar'];
const INNERS = [
  'rate(X[5m]M)', 'increase(X[3m]M)', 'irate(X[2m]M)', 'delta(X[4m]M)', 'deriv(X[5m]M)', 'changes(X[10m]M)', 'resets(X[10m]M)',
  'avg_over_time(X[3m]M)', 'sum_over_time(X[3m]M)', 'count_over_time(X[2m]M)', 'min_over_time(X[3m]M)', 'max_over_time(X[3m]M)',
  'stddev_over_time(X[5m]M)', 'last_over_time(X[3m]M)', 'first_over_time(X[3m]M)', 'present_over_time(X[1m]M)', 'XM', 'XM', '(XM)',
];
const SELECTORS = ['m_total', 'm', '{__name__=~"m.*"}', 'm_total{g!="1"}', '{__name__=~"m.*",h=~"1|2"}'];
const MODS = ['', '', '', ' offset 2m', ' offset -1m', ' @ 1800', ' @ end()'];
const GROUPS = ['', ' by (g)', ' by (h, g)', ' by (g, h, i)', ' without (i)', ' without (i, h)', ' without ()', ' by ()', ' by (__name__)', ' by (nope)', ' without (__name__, g)'];

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[Math.floor(next() * xs.length)];
}

function randomQuery(next: () => number): string {
  const inner = pick(next, INNERS).replace('X', pick(next, SELECTORS)).replace('M', pick(next, MODS));
  return `${pick(next, OPS)}${pick(next, GROUPS)} (${inner})`;
}

t.test('the pushdown answers exactly what the general path answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agg-fused-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const next = rng(7);
  const headOnly = `aggf-head-${process.pid}`;
  const withBlock = `aggf-block-${process.pid}`;
  load(headOnly, rng(11), 40);
  load(withBlock, rng(12), 40);
  // The first half also in a block overlapping the head: reads merge both.
  const written = b.writeBlock(withBlock, dir, 0, 1_800_000);
  t.ok(written, 'block written');
  t.same(b.setTenantBlocks!(withBlock, [join(dir, written!.ulid)]), [], 'block opened');
  t.teardown(() => {
    b.setTenantBlocks!(withBlock, []);
    b.resetTenant(headOnly);
    b.resetTenant(withBlock);
  });

  let compared = 0;
  let pushed = 0;
  for (let round = 0; round < 160; round++) {
    const tenant = round % 2 === 0 ? headOnly : withBlock;
    const q = randomQuery(next);
    const opts = { ...OPTS, tenant };
    const step = pick(next, [15_000, 37_000, 60_000, 300_000]);
    const start = Math.floor(next() * 1_800_000);
    const end = start + Math.floor(next() * 1_800_000);
    const want = attempt(() => rangeQuery(plain, q, start, end, step, opts));
    const got = attempt(() => rangeQuery(fused, q, start, end, step, opts));
    t.equal(got, want, `range ${q} [${start}, ${end}] / ${step} (${tenant})`);
    const at = Math.floor(next() * 3_700_000);
    t.equal(attempt(() => instantQuery(fused, q, at, opts)), attempt(() => instantQuery(plain, q, at, opts)), `instant ${q} @ ${at}`);
    const charged = samplesCharged(plain, q, start, end, step, tenant);
    t.equal(samplesCharged(fused, q, start, end, step, tenant), charged, `samples of ${q}`);
    // Over the sample limit by one: both fail with the same error.
    if (charged > 0) {
      const tight = { ...opts, maxSamples: charged - 1 };
      t.equal(attempt(() => rangeQuery(fused, q, start, end, step, tight)), attempt(() => rangeQuery(plain, q, start, end, step, tight)), `limit ${q}`);
    }
    compared++;
    if (!want.startsWith('error') && want.split('\n').length > 1) pushed++;
  }
  t.ok(pushed > 100, `most random queries have an answer (${pushed} of ${compared})`);
});

t.test('the pushdown is taken for the shapes it covers, and only those', async (t) => {
  const tenant = `aggf-shape-${process.pid}`;
  load(tenant, rng(5), 10);
  t.teardown(() => b.resetTenant(tenant));
  let calls = 0;
  const counting: Kernels = {
    ...fused,
    selectAggregate: (...args) => {
      calls++;
      return fused.selectAggregate(...args);
    },
  };
  const opts = { ...OPTS, tenant };
  const cases: Array<[string, boolean]> = [
    ['sum by (g) (rate(m_total[5m]))', true],
    ['max without (i) (m_total offset 1m)', true],
    ['avg(last_over_time(m[3m] @ 600))', true],
    ['quantile(0.5, m_total)', false],
    ['topk(2, m_total)', false],
    ['sum(quantile_over_time(0.5, m_total[5m]))', false],
    ['sum(rate(m_total[5m:1m]))', false],
    ['sum(abs(m_total))', false],
    ['count_values("v", m_total)', false],
  ];
  for (const [q, used] of cases) {
    calls = 0;
    rangeQuery(counting, q, 600_000, 1_200_000, 60_000, opts);
    t.equal(calls > 0, used, q);
  }
});

t.test('label policies (LBAC) limit the pushdown as they limit the selection', async (t) => {
  const tenant = `aggf-lbac-${process.pid}`;
  load(tenant, rng(9), 20);
  t.teardown(() => b.resetTenant(tenant));
  const visibility = { [tenant]: [[{ name: 'h', type: 0, value: '1' }]] };
  const k = nativeKernels({ visibility });
  const kPlain: Kernels = { ...k, selectAggregate: undefined };
  const opts = { ...OPTS, tenant };
  for (const q of ['sum by (h) (rate(m_total[5m]))', 'count without (i) (m_total)', 'count(m)']) {
    const got = attempt(() => rangeQuery(k, q, 600_000, 1_800_000, 60_000, opts));
    t.equal(got, attempt(() => rangeQuery(kPlain, q, 600_000, 1_800_000, 60_000, opts)), q);
    t.notOk(/h="[^1]"/.test(got), `${q}: only h="1" is visible`);
  }
  const all = attempt(() => rangeQuery(fused, 'count(m_total)', 600_000, 600_000, 60_000, opts));
  const limited = attempt(() => rangeQuery(k, 'count(m_total)', 600_000, 600_000, 60_000, opts));
  t.not(all, limited, 'the policy changes the count');
});
