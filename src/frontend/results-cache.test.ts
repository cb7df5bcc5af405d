// results-cache.test.ts checks the results cache against the plain answers:
// repeated and overlapping queries answer exactly as uncached ones, only the
// missing parts run, the fresh part is never cached (by the configured and the
// tenant's own max cache freshness), one tenant's answers never answer
// another's, and the queries Mimir does not cache are not.

import t, { type Test } from 'tap';
import { nativeKernels } from '../promql/engine/kernels.js';
import { executeQuery } from '../querier/execute.js';
import type { QueryTask } from '../querier/query-params.js';
import { loadNative } from '../storage/native.js';
import { InMemoryCache } from './cache.js';
import { bodyText, QueryFrontend } from './frontend.js';
import { coalesce, ResultsCache } from './results-cache.js';
import { directExecutor } from '../testing/direct-executor.js';
import { defaultConfig } from '../config/config.js';
import { RuntimeConfigManager } from '../limits/runtime-config.js';
import type { QueryLimitsSource } from '../querier/query-limits.js';

const binding = loadNative();
const kernels = nativeKernels();
const TENANT = `frontend-cache-${process.pid}`;
/** OTHER holds the same series as TENANT with other values (ten times theirs). */
const OTHER = `frontend-cache-other-${process.pid}`;
const M = 60_000;
const H = 60 * M;

for (const [tenant, scale] of [[TENANT, 1], [OTHER, 10]] as const) {
  for (const inst of ['a', 'b', 'c']) {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < (6 * H) / 15_000; i++) {
      if (inst === 'c' && i > 400 && i < 700) continue;
      ts.push(i * 15_000);
      vs.push(scale * (i * (inst.charCodeAt(0) - 96) + (i % 7)));
    }
    binding.appendSamplesUnchecked(tenant, ['__name__', 'c', 'instance', inst], Float64Array.from(ts), Float64Array.from(vs));
  }
}
t.teardown(() => {
  binding.resetTenant(TENANT);
  binding.resetTenant(OTHER);
});

function rangeTask(query: string, startMs: number, endMs: number, stepMs: number, extra: Partial<QueryTask> = {}): QueryTask {
  return { tenant: TENANT, query, kind: 'range', startMs, endMs, stepMs, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: Date.now() + 60_000, ...extra };
}

function setup(nowMs = 100 * H, splitIntervalMs = H, limits?: QueryLimitsSource): { inner: ReturnType<typeof directExecutor>; fe: QueryFrontend; cache: InMemoryCache } {
  const inner = directExecutor(kernels);
  const cache = new InMemoryCache(64 << 20);
  const resultsCache = new ResultsCache({ cache, splitIntervalMs, now: () => nowMs, ...(limits !== undefined ? { limits } : {}) });
  return { inner, cache, fe: new QueryFrontend(inner, { splitIntervalMs, alignWithStep: false, resultsCache }) };
}

async function check(t: Test, fe: QueryFrontend, task: QueryTask): Promise<void> {
  const got = await fe.run(task, new AbortController().signal);
  const plain = executeQuery(kernels, task);
  t.ok(plain.ok && got instanceof Uint8Array, `${task.query} answers`);
  if (plain.ok && got instanceof Uint8Array) t.equal(bodyText(got), plain.body, `${task.query} [${task.startMs}, ${task.endMs}] step ${task.stepMs}`);
}

t.test('a repeated query is answered from the cache, equal to the plain answer', async (t) => {
  const { inner, fe } = setup();
  const q = rangeTask('rate(c[5m])', 0, 3 * H, M);
  await check(t, fe, q);
  t.equal(inner.calls.length, 4, 'one sub-query per hour, run');
  await check(t, fe, q);
  t.equal(inner.calls.length, 4, 'nothing run the second time');
});

t.test('an overlapping query runs only the missing parts', async (t) => {
  const { inner, fe } = setup();
  await check(t, fe, rangeTask('sum(c)', 30 * M, 2 * H, M));
  inner.calls.length = 0;
  await check(t, fe, rangeTask('sum(c)', 0, 3 * H, M));
  t.same(
    inner.calls.map((c) => [c.startMs, c.endMs]),
    [
      [0, 29 * M],
      [2 * H + M, 3 * H - M],
      [3 * H, 3 * H],
    ],
  );
});

t.test('the part newer than max cache freshness is never cached', async (t) => {
  // now = 2h30m: times after 2h20m are not cached.
  const { inner, fe } = setup(2 * H + 30 * M);
  const q = rangeTask('c', 0, 2 * H + 30 * M, M);
  await check(t, fe, q);
  inner.calls.length = 0;
  await check(t, fe, q);
  t.same(
    inner.calls.map((c) => [c.startMs, c.endMs]),
    [[2 * H + 21 * M, 2 * H + 30 * M]],
  );
});

t.test("one tenant's cached answers never answer another tenant", async (t) => {
  const { inner, fe } = setup();
  const q = rangeTask('sum(c)', 0, 3 * H, M);
  const other = { ...q, tenant: OTHER };
  await check(t, fe, q);
  const first = inner.calls.length;
  await check(t, fe, other);
  t.equal(inner.calls.length, 2 * first, 'the other tenant ran every part of the same query');
  t.ok(inner.calls.slice(first).every((c) => c.tenant === OTHER), 'as itself');
  const a = bodyText((await fe.run(q, new AbortController().signal)) as Uint8Array);
  const b = bodyText((await fe.run(other, new AbortController().signal)) as Uint8Array);
  t.equal(inner.calls.length, 2 * first, 'each answered from its own cache entries afterwards');
  t.not(a, b, 'and the two answers differ (the data does)');
});

t.test('-query-frontend.max-cache-freshness as configured and per tenant', async (t) => {
  // Configured: 30m for every tenant; OTHER's override: 1h. now = 2h30m.
  const limits = new RuntimeConfigManager(defaultConfig({ 'query-frontend.max-cache-freshness': 30 * M }), {
    files: ['runtime.yaml'],
    reloadPeriodMs: 0,
    readFile: () => `overrides:\n  ${OTHER}:\n    max_cache_freshness: 1h\n`,
  });
  limits.start();
  const now = 2 * H + 30 * M;
  const { inner, fe } = setup(now, H, limits);
  const rerun = async (tenant: string): Promise<number[][]> => {
    const q = rangeTask('c', 0, now, M, { tenant });
    await check(t, fe, q);
    inner.calls.length = 0;
    await check(t, fe, q);
    return inner.calls.map((c) => [c.startMs, c.endMs]).sort((x, y) => x[0]! - y[0]!);
  };
  t.same(await rerun(TENANT), [[2 * H + M, 2 * H + 30 * M]], 'the configured 30m: times after 2h run again');
  t.same(
    await rerun(OTHER),
    [
      [H + 31 * M, H + 59 * M],
      [2 * H, 2 * H + 30 * M],
    ],
    "the tenant's 1h: times after 1h30m run again",
  );
  const cache = new ResultsCache({ cache: new InMemoryCache(1 << 20), splitIntervalMs: H, limits, now: () => now });
  t.equal(cache.maxCacheTime(`${TENANT}|${OTHER}`), now - H, 'a federated query: the largest of its tenants');
});

t.test('not cached: no-store, unaligned, @ after end, negative offset, range-dependent', async (t) => {
  const cases: QueryTask[] = [
    rangeTask('c', 0, H, M, { cacheNoStore: true }),
    rangeTask('c', 1000, H + 1000, M),
    rangeTask('c @ 7200', 0, H, M),
    rangeTask('c offset -5m', 0, H, M),
    rangeTask('c @ start()', 0, H, M),
  ];
  for (const q of cases) {
    const { inner, cache, fe } = setup();
    await check(t, fe, q);
    const first = inner.calls.length;
    await check(t, fe, q);
    t.equal(inner.calls.length, 2 * first, `${q.query} ran again`);
    t.equal(cache.sizeBytes, 0, `${q.query} stored nothing`);
  }
  // An @ time before the end is cached.
  const { inner, fe } = setup();
  const q = rangeTask('c @ 1800', 0, H, M);
  await check(t, fe, q);
  const first = inner.calls.length;
  await check(t, fe, q);
  t.equal(inner.calls.length, first);
});

t.test('random overlapping queries through one cache answer as the plain queries', async (t) => {
  const { inner, fe } = setup(5 * H, H);
  let s = 7;
  const r = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const exprs = ['c', 'rate(c[5m])', 'sum by (instance) (c)', 'max_over_time(c[10m])', 'count(c)'];
  const steps = [15_000, M, 5 * M];
  for (let i = 0; i < 60; i++) {
    const step = steps[Math.floor(r() * steps.length)]!;
    const start = Math.floor((r() * 5 * H) / step) * step;
    const end = start + Math.floor((r() * 2 * H) / step) * step;
    await check(t, fe, rangeTask(exprs[i % exprs.length]!, start, end, step));
  }
  t.ok(inner.calls.length > 0);
});

t.test('coalesce joins adjacent and overlapping extents', async (t) => {
  const body = (pts: number[]): string => `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[${pts.map((p) => `[${p},"${p}"]`).join(',')}]}]}}`;
  const out = coalesce(
    [
      { start: 120_000, end: 180_000, body: body([120, 180]) },
      { start: 0, end: 60_000, body: body([0, 60]) },
      { start: 600_000, end: 660_000, body: body([600, 660]) },
      { start: 60_000, end: 120_000, body: body([60, 120]) },
    ],
    60_000,
  );
  t.same(
    out.map((e) => [e.start, e.end]),
    [
      [0, 180_000],
      [600_000, 660_000],
    ],
  );
  t.equal(out[0]!.body, body([0, 60, 120, 180]));
});
