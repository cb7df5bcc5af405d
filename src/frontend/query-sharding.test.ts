// query-sharding.test.ts checks query sharding: the rewrite of shardable
// queries (sharding.ts), the shard count rules and the Sharding-Control
// header, and end to end that the query-frontend with splitting, the
// results cache and 4 shards answers as the plain query: over generated
// data, and for every eval of the Prometheus conformance scripts
// (../shared/promql-tests, read at test time). Answers are compared series
// by series, values within promqltest's tolerance (a sharded sum adds the
// same numbers in another order; sums it cannot add up exactly run
// unsharded, see sharding.ts), annotations without their positions
// (Mimir's frontend drops the shard queries' positions).

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nativeKernels } from '../promql/engine/kernels.js';
import { parseExpr } from '../promql/parser/parser.js';
import { formatExpr } from '../promql/parser/printer.js';
import { executeQuery } from '../querier/execute.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import { parseShardingControl, type QueryTask } from '../querier/query-params.js';
import { loadNative } from '../storage/native.js';
import { almostEqual, decodeBody, labelsKey, type Decoded } from '../promql/conformance/compare.js';
import { ScriptRun } from '../promql/conformance/runner.js';
import { parseScript } from '../promql/conformance/script.js';
import { InMemoryCache } from './cache.js';
import { bodyText, QueryFrontend } from './frontend.js';
import { QuerySharding, shardsForQuery } from './query-sharding.js';
import { ResultsCache } from './results-cache.js';
import { shardQuery, shardSumsExact, SUM_CANCELLATION_LIMIT } from './sharding.js';
import type { Series } from '../promql/engine/value.js';
import { directExecutor } from '../testing/direct-executor.js';

const binding = loadNative();
const kernels = nativeKernels();
const M = 60_000;
const H = 60 * M;

/** rewrite prints a query's rewrite for 2 shards: the outer expression and each concatenation's shard queries. */
function rewrite(q: string): string | undefined {
  const r = shardQuery(parseExpr(q), 2);
  if (r === undefined) return undefined;
  return `${formatExpr(r.expr).replace(/__embedded_queries__\{__queries__="(?:[^"\\]|\\.)*"\}/g, 'CONCAT')} :: ${[...r.embedded.values()].map((qs) => qs.join(' ; ')).join(' || ')}`;
}

t.test('shardable queries are rewritten as Mimir does', async (t) => {
  t.equal(rewrite('sum by (job) (rate(x[5m]))'), 'sum by (job) (CONCAT) :: sum by (job) (rate(x{__query_shard__="1_of_2"}[5m])) ; sum by (job) (rate(x{__query_shard__="2_of_2"}[5m]))');
  t.equal(rewrite('count without (i) (x)'), 'sum without (i) (CONCAT) :: count without (i) (x{__query_shard__="1_of_2"}) ; count without (i) (x{__query_shard__="2_of_2"})');
  t.equal(rewrite('avg(x)'), '(sum(CONCAT) / sum(CONCAT)) :: sum(x{__query_shard__="1_of_2"}) ; sum(x{__query_shard__="2_of_2"}) || count(x{__query_shard__="1_of_2"}) ; count(x{__query_shard__="2_of_2"})');
  t.equal(rewrite('max(x) - min(x)'), 'max(CONCAT) - min(CONCAT) :: max(x{__query_shard__="1_of_2"}) ; max(x{__query_shard__="2_of_2"}) || min(x{__query_shard__="1_of_2"}) ; min(x{__query_shard__="2_of_2"})');
  t.equal(rewrite('histogram_quantile(0.99, sum by (le) (rate(x[5m])))'), 'histogram_quantile(0.99, sum by (le) (CONCAT)) :: sum by (le) (rate(x{__query_shard__="1_of_2"}[5m])) ; sum by (le) (rate(x{__query_shard__="2_of_2"}[5m]))');
  t.equal(rewrite('sum(rate(a[5m])) / sum(rate(b[5m]))'), 'sum(CONCAT) / sum(CONCAT) :: sum(rate(a{__query_shard__="1_of_2"}[5m])) ; sum(rate(a{__query_shard__="2_of_2"}[5m])) || sum(rate(b{__query_shard__="1_of_2"}[5m])) ; sum(rate(b{__query_shard__="2_of_2"}[5m]))');
  t.equal(rewrite('max_over_time(rate(x[1m])[5m:1m])'), 'CONCAT :: max_over_time(rate(x{__query_shard__="1_of_2"}[1m])[5m:1m]) ; max_over_time(rate(x{__query_shard__="2_of_2"}[1m])[5m:1m])');
  t.equal(rewrite('x > 2'), 'CONCAT :: x{__query_shard__="1_of_2"} > 2 ; x{__query_shard__="2_of_2"} > 2');
  t.equal(rewrite('topk(2, sum by (i) (x))'), 'topk(2, sum by (i) (CONCAT)) :: sum by (i) (x{__query_shard__="1_of_2"}) ; sum by (i) (x{__query_shard__="2_of_2"})');
  t.equal(rewrite('sum(x) + sum(x)'), 'sum(CONCAT) + sum(CONCAT) :: sum(x{__query_shard__="1_of_2"}) ; sum(x{__query_shard__="2_of_2"})', 'equal legs run once');
  for (const q of [
    'x',
    'rate(x[5m])',
    'absent(x)',
    'absent(sum(x))',
    'sum(x) + y',
    'x * 2',
    'x > bool 2',
    'topk(2, x)',
    'quantile(0.5, x)',
    'sum(sum by (i) (x))[5m:1m]',
    'max_over_time(sum(x)[5m:1m])',
    'sum(sort(x))',
    'sum(vector(1))',
    'clamp(sum(x), scalar(y), 1)',
    '__embedded_queries__{__queries__="x"}',
    'sum by (__name__) (rate(x[5m]))',
    'count by (__name__) (rate(x[5m]) > 1)',
    'sum(x * scalar(y))',
    'quantile_over_time(scalar(q), x[5m:1m])',
    'label_replace(sum by (job) (x), "__name__", "$1", "job", "(.*)")',
    'info(sum by (job) (x))',
  ]) {
    t.equal(rewrite(q), undefined, `${q} is not sharded`);
  }
  t.equal(shardQuery(parseExpr('max(sum(x))'), 3)?.shardedQueries, 3, 'the inner sum of a non-shardable aggregation is');
  t.equal(rewrite('scalar(sum(x))'), 'scalar(sum(CONCAT)) :: sum(x{__query_shard__="1_of_2"}) ; sum(x{__query_shard__="2_of_2"})');
  t.equal(shardQuery(parseExpr('avg(x) > 1'), 4)?.shardedQueries, 8);
});

t.test('the number of shards follows the limits and the Sharding-Control header', async (t) => {
  const task = (extra: Partial<QueryTask> = {}): QueryTask => ({ tenant: 'a', query: '', kind: 'range', startMs: 0, endMs: H, stepMs: M, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000, ...extra });
  const limits = (v: Record<string, number>) => ({ values: () => new Map<string, unknown>(Object.entries(v)) }) as never;
  const sum = parseExpr('sum(x)');
  t.equal(shardsForQuery({}, task(), sum, 1), 16, 'default query_sharding_total_shards');
  t.equal(shardsForQuery({}, task(), sum, 4), 16, '128 / 4 splits leaves 32 per split');
  t.equal(shardsForQuery({}, task(), sum, 24), 5, '128 / 24 splits');
  t.equal(shardsForQuery({}, task(), parseExpr('avg(x) / sum(y)'), 4), 10, 'three legs: 128 / 4 / 3');
  t.equal(shardsForQuery({ limits: limits({ 'query-frontend.query-sharding-total-shards': 4 }) }, task(), sum, 1), 4);
  t.equal(shardsForQuery({ limits: limits({ 'query-frontend.query-sharding-total-shards': 0 }) }, task(), sum, 1), 1, '0 disables');
  t.equal(shardsForQuery({ limits: limits({ 'query-frontend.query-sharding-max-sharded-queries': 0 }) }, task(), sum, 100), 16, 'no sharded queries limit');
  t.equal(shardsForQuery({}, task({ totalShards: 8 }), sum, 1), 8, 'the header sets the shards');
  t.equal(shardsForQuery({}, task({ totalShards: 0 }), sum, 1), 1, 'the header disables');
  const longRegexp = parseExpr(`sum(x{a=~"${'a'.repeat(5000)}"})`);
  t.equal(shardsForQuery({}, task(), longRegexp, 1), 1, 'a regexp over 4096 bytes is not sharded');
  t.equal(shardsForQuery({ limits: limits({ 'query-frontend.query-sharding-max-regexp-size-bytes': 0 }) }, task(), longRegexp, 1), 16);
  t.equal(parseShardingControl(undefined), undefined);
  t.equal(parseShardingControl('4'), 4);
  t.equal(parseShardingControl('x, 8'), 8, 'values that are no integer are skipped');
  t.equal(parseShardingControl('0'), 0);
  t.equal(parseShardingControl('abc'), undefined);
});

/** ANY_VALUE compares answers: same type, same series (by labels), same timestamps, values within tolerance. */
function sameAnswer(a: Decoded, b: Decoded): string | undefined {
  if (a.resultType !== b.resultType) return `result type ${a.resultType} vs ${b.resultType}`;
  if (a.resultType === 'scalar' && b.resultType === 'scalar') return almostEqual(a.value, b.value) ? undefined : `scalar ${a.value} vs ${b.value}`;
  if (a.resultType === 'string' || b.resultType === 'string') return JSON.stringify(a) === JSON.stringify(b) ? undefined : 'strings differ';
  const points = (d: Decoded): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    if (d.resultType === 'vector') for (const s of d.series) out.set(labelsKey(s.labels), [`${d.timestampMs}=${s.value}`, JSON.stringify(s.histogram ?? null)]);
    if (d.resultType === 'matrix') for (const s of d.series) out.set(labelsKey(s.labels), [...s.points.map(([t, v]) => `${t}=${v}`), JSON.stringify(s.hpoints ?? [])]);
    return out;
  };
  const pa = points(a);
  const pb = points(b);
  if (pa.size !== pb.size) return `${pa.size} series vs ${pb.size}: ${[...pa.keys()].join(' ')} / ${[...pb.keys()].join(' ')}`;
  for (const [k, xs] of pa) {
    const ys = pb.get(k);
    if (ys === undefined) return `series ${k} missing`;
    if (xs.length !== ys.length) return `series ${k}: ${xs.length} points vs ${ys.length}`;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === ys[i]) continue;
      const [ta, va] = xs[i]!.split('=');
      const [tb, vb] = ys[i]!.split('=');
      if (ta !== tb || va === undefined || vb === undefined || !almostEqual(Number(va), Number(vb))) return `series ${k}: ${xs[i]} vs ${ys[i]}`;
    }
  }
  return undefined;
}

/** POSITION strips an annotation's ` (line:col)`. */
const stripPositions = (xs: string[]): string[] => [...new Set(xs.map((x) => x.replace(/ \(\d+:\d+\)$/, '')))].sort();

/** compareAnswers compares a plain and a sharded answer body (or failure). */
function compareAnswers(plain: ReturnType<typeof executeQuery>, got: WorkerAnswer): string | undefined {
  if (!plain.ok) return got instanceof Uint8Array ? `plain failed (${plain.message}), sharded answered` : undefined;
  if (!(got instanceof Uint8Array)) return `sharded failed: ${got.message}`;
  const a = decodeBody(plain.body);
  const b = decodeBody(bodyText(got));
  const diff = sameAnswer(a.data, b.data);
  if (diff !== undefined) return diff;
  if (JSON.stringify(stripPositions(a.warnings)) !== JSON.stringify(stripPositions(b.warnings))) return `warnings ${JSON.stringify(a.warnings)} vs ${JSON.stringify(b.warnings)}`;
  if (JSON.stringify(stripPositions(a.infos)) !== JSON.stringify(stripPositions(b.infos))) return `infos ${JSON.stringify(a.infos)} vs ${JSON.stringify(b.infos)}`;
  return undefined;
}

/** counter counts incs. */
function counter(): { n: number; inc: (k?: number) => void } {
  const c = { n: 0, inc: (k = 1) => void (c.n += k) };
  return c;
}

/** shardedFrontend is a frontend splitting by splitMs, caching, and sharding 4 ways. */
function shardedFrontend(inner: QueryExecutor, splitMs: number) {
  const metrics = { attempts: counter(), successes: counter(), shardedQueries: counter() };
  const limits = { values: () => new Map<string, unknown>([['query-frontend.query-sharding-total-shards', 4]]) } as never;
  const fe = new QueryFrontend(inner, {
    splitIntervalMs: splitMs,
    alignWithStep: false,
    limits,
    resultsCache: new ResultsCache({ cache: new InMemoryCache(64 << 20), splitIntervalMs: splitMs, now: () => 1e15 }),
    sharding: new QuerySharding({ limits, metrics }),
  });
  return { fe, metrics };
}

t.test('sharded, split and cached answers equal the plain answers (generated data)', async (t) => {
  const tenant = `frontend-shard-${process.pid}`;
  t.teardown(() => binding.resetTenant(tenant));
  let seed = 7;
  const r = () => ((seed = (seed * 1664525 + 1013904223) >>> 0), seed / 2 ** 32);
  // 40 instances x 2 jobs of counters, gauges and bucket series over 6h at 30s, some ending early.
  for (const job of ['api', 'db']) {
    for (let i = 0; i < 40; i++) {
      const inst = `i${i}`;
      const end = i % 7 === 0 ? 4 * H : 6 * H;
      const ts: number[] = [];
      const c: number[] = [];
      const g: number[] = [];
      let acc = 0;
      for (let tms = 0; tms <= end; tms += 30_000) {
        acc += Math.floor(r() * 10);
        ts.push(tms);
        c.push(acc);
        g.push(Math.round(r() * 1000) / 10 - 20);
      }
      binding.appendSamplesUnchecked(tenant, ['__name__', 'reqs_total', 'job', job, 'instance', inst], Float64Array.from(ts), Float64Array.from(c));
      binding.appendSamplesUnchecked(tenant, ['__name__', 'temp', 'job', job, 'instance', inst], Float64Array.from(ts), Float64Array.from(g));
      for (const le of ['0.1', '1', '+Inf']) {
        const f = le === '+Inf' ? 3 : Number(le) + 1;
        binding.appendSamplesUnchecked(tenant, ['__name__', 'lat_bucket', 'job', job, 'instance', inst, 'le', le], Float64Array.from(ts), Float64Array.from(c.map((x) => Math.floor(x * f))));
      }
    }
  }
  const queries = [
    'sum(reqs_total)',
    'sum by (job) (rate(reqs_total[5m]))',
    'count(temp > 20)',
    'count by (job) (temp)',
    'avg(temp)',
    'avg by (job) (temp)',
    'min by (job) (temp) - max by (job) (temp)',
    'group by (job) (temp)',
    'histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))',
    'sum(rate(reqs_total{job="api"}[5m])) / sum(rate(reqs_total[5m]))',
    'max_over_time(rate(reqs_total[1m])[10m:1m])',
    'temp > 70',
    'topk(3, sum by (instance) (rate(reqs_total[5m])))',
    'sum without (instance) (increase(reqs_total[10m]))',
    'max(sum by (instance) (temp))',
    'sum(temp) > 0',
    'abs(sum by (job) (temp))',
    'label_replace(sum by (job) (temp), "j", "$1", "job", "(.*)")',
  ];
  let compared = 0;
  for (const q of queries) {
    for (const [start, end, step, split] of [
      [0, 6 * H, 5 * M, H],
      [16 * M, 5 * H + 2 * M, 2 * M, 2 * H],
    ] as const) {
      const task: QueryTask = { tenant, query: q, kind: 'range', startMs: start, endMs: end, stepMs: step, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: Date.now() + 60_000 };
      const plain = executeQuery(kernels, task);
      const inner = directExecutor(kernels);
      const { fe, metrics } = shardedFrontend(inner, split);
      const got = await fe.run(task, new AbortController().signal);
      const diff = compareAnswers(plain, got);
      t.equal(diff, undefined, `${q} [${start}, ${end}] step ${step} split ${split}: ${diff}`);
      t.equal(metrics.successes.n, metrics.attempts.n, `${q} was rewritten`);
      t.ok(metrics.successes.n > 1, `${q} was sharded per split`);
      t.ok(inner.calls.every((c) => c.query.includes('__query_shard__="')), `${q}: only shard queries reached the queriers`);
      // The cache answers the same again, without running anything.
      const before = inner.calls.length;
      const again = await fe.run(task, new AbortController().signal);
      t.equal(compareAnswers(plain, again), undefined, `${q} from the cache`);
      t.equal(inner.calls.length, before, `${q}: the second run came from the cache`);
      compared++;
    }
    const instant: QueryTask = { tenant, query: q, kind: 'instant', startMs: 3 * H + 7_000, endMs: 3 * H + 7_000, stepMs: 0, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: Date.now() + 60_000 };
    const inner = directExecutor(kernels);
    const { fe } = shardedFrontend(inner, H);
    t.equal(compareAnswers(executeQuery(kernels, instant), await fe.run(instant, new AbortController().signal)), undefined, `${q} instant`);
    t.ok(inner.calls.length >= 4, `${q} instant ran sharded`);
  }
  t.ok(compared >= queries.length * 2);
  // A malformed shard selector fails as Mimir's queriers do.
  const bad = executeQuery(kernels, { tenant, query: 'sum(temp{__query_shard__="5_of_4"})', kind: 'instant', startMs: H, endMs: H, stepMs: 0, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000 });
  t.match(bad, { ok: false, kind: 'execution', message: 'expanding series: invalid shard ID: "5_of_4"' });
  // The Sharding-Control header's 0 runs the query unsharded.
  const inner = directExecutor(kernels);
  const { fe, metrics } = shardedFrontend(inner, H);
  await fe.run({ tenant, query: 'sum(temp)', kind: 'instant', startMs: H, endMs: H, stepMs: 0, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000, totalShards: 0 }, new AbortController().signal);
  t.equal(metrics.attempts.n, 0);
  t.same(inner.calls.map((c) => c.query), ['sum(temp)']);
});

t.test('answers with native histograms are recomputed unsharded, and the query is not sharded again', async (t) => {
  const { encodeFlatSamples } = await import('../promql/engine/histogram-flat.js');
  const { FloatHistogram } = await import('../promql/engine/float-histogram.js');
  const tenant = `frontend-shard-hist-${process.pid}`;
  t.teardown(() => binding.resetTenant(tenant));
  for (let i = 0; i < 8; i++) {
    const hs = Array.from({ length: 61 }, (_, k) => {
      const h = new FloatHistogram();
      h.count = k + i;
      h.sum = 2 * k + i;
      return h;
    });
    const { data, dataOffsets } = encodeFlatSamples(hs);
    binding.appendHistogramsUnchecked!(tenant, ['__name__', 'h', 'i', `i${i}`], Float64Array.from(hs, (_, k) => k * M), data, dataOffsets);
  }
  const task: QueryTask = { tenant, query: 'sum(h)', kind: 'range', startMs: 0, endMs: H, stepMs: 5 * M, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000 };
  const plain = executeQuery(kernels, task);
  t.ok(plain.ok && plain.body.includes('"histograms"'), 'the answer holds histograms');
  const inner = directExecutor(kernels);
  const { fe } = shardedFrontend(inner, 20 * M);
  t.equal(compareAnswers(plain, await fe.run(task, new AbortController().signal)), undefined, 'the same answer');
  const unsharded = inner.calls.filter((c) => !c.query.includes('__query_shard__'));
  t.ok(unsharded.length >= 3, `every slice ran unsharded (${unsharded.length})`);
  // Run again (past the cache): the frontend remembers and runs the slices unsharded at once.
  const before = inner.calls.length;
  t.equal(compareAnswers(plain, await fe.run({ ...task, cacheNoStore: true }, new AbortController().signal)), undefined, 'the same answer again');
  t.same(
    inner.calls.slice(before).map((c) => c.query),
    unsharded.map(() => 'sum(h)'),
    'no shard query the second time',
  );
});

t.test('slices x shards run at most max_query_parallelism at once', async (t) => {
  let running = 0;
  let peak = 0;
  const calls: string[] = [];
  const inner: QueryExecutor = {
    run: async (task) => {
      calls.push(task.query);
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 3));
      running--;
      return new Uint8Array(Buffer.from('{"status":"success","data":{"resultType":"matrix","result":[]}}', 'utf8'));
    },
    close: async () => {},
  };
  const limits = { values: () => new Map<string, unknown>([['query-frontend.query-sharding-total-shards', 4], ['querier.max-query-parallelism', 3]]) } as never;
  const fe = new QueryFrontend(inner, { splitIntervalMs: H, alignWithStep: false, limits, sharding: new QuerySharding({ limits }) });
  const task: QueryTask = { tenant: 't', query: 'sum(x)', kind: 'range', startMs: 0, endMs: 4 * H - M, stepMs: M, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000 };
  const got = await fe.run(task, new AbortController().signal);
  t.ok(got instanceof Uint8Array);
  t.equal(calls.length, 16, '4 slices x 4 shards');
  t.equal(peak, 3, 'never more than max_query_parallelism downstream');
});

/** shardAnswer is one shard's answer series over steps (undefined: no sample at that step). */
function shardAnswer(labels: Record<string, string>, values: Array<number | undefined>): Series {
  return { labels, values: Float64Array.from(values, (v) => v ?? 0), present: Uint8Array.from(values, (v) => (v === undefined ? 0 : 1)), dropName: false };
}

t.test('shardSumsExact passes the shards\' sums that add up to the plain sum, and nothing else', async (t) => {
  const g = { job: 'a' };
  t.ok(shardSumsExact([]), 'no series');
  t.ok(shardSumsExact([shardAnswer(g, [1.5, 3]), shardAnswer(g, [2.25, undefined]), shardAnswer(g, [-0.5, 4])]), 'sums that hardly cancel');
  t.ok(shardSumsExact([shardAnswer(g, [10]), shardAnswer(g, [0])]), '2 + 8 in one shard, 1e100 - 1e100 in the other');
  t.notOk(shardSumsExact([shardAnswer(g, [2 + 1e100]), shardAnswer(g, [8 - 1e100])]), '2 + 1e100 in one shard, 8 - 1e100 in the other: the 10 is lost');
  t.notOk(shardSumsExact([shardAnswer(g, [2 + 1e100]), shardAnswer(g, [8]), shardAnswer(g, [-1e100])]), 'the same over 3 shards');
  t.notOk(shardSumsExact([shardAnswer(g, [1]), shardAnswer(g, [-1])]), 'sums cancelling to 0');
  t.ok(shardSumsExact([shardAnswer(g, [1]), shardAnswer(g, [-1 + 2 / SUM_CANCELLATION_LIMIT])]), 'cancellation up to the limit');
  t.notOk(shardSumsExact([shardAnswer(g, [1]), shardAnswer(g, [-1 + 1 / SUM_CANCELLATION_LIMIT])]), 'cancellation beyond the limit');
  t.notOk(shardSumsExact([shardAnswer(g, [1e308]), shardAnswer(g, [1e308])]), 'finite sums overflowing when added');
  t.notOk(shardSumsExact([shardAnswer(g, [Infinity]), shardAnswer(g, [1])]), 'a shard\'s ±Inf (an overflow, or an Inf the plain query may add in another order)');
  t.notOk(shardSumsExact([shardAnswer(g, [-Infinity])]), 'one shard\'s -Inf (avg would have switched to its incremental mean)');
  t.ok(shardSumsExact([shardAnswer(g, [NaN]), shardAnswer(g, [Infinity])]), 'a NaN: the plain sum is NaN too');
  t.ok(shardSumsExact([shardAnswer(g, [1, undefined]), shardAnswer({ job: 'b' }, [-1, 5])]), 'series of other labels are other sums');
  t.notOk(shardSumsExact([shardAnswer(g, [undefined, 3]), shardAnswer({ job: 'b' }, [2, 1]), shardAnswer(g, [undefined, -3])]), 'one cancelling step of one group is enough');
});

t.test('sums and averages the shards cannot add up exactly run unsharded (2, 8, 1e100, -1e100; avg overflow)', async (t) => {
  const tenant = `frontend-shard-exact-${process.pid}`;
  t.teardown(() => binding.resetTenant(tenant));
  const ts = Float64Array.from({ length: 11 }, (_, i) => i * M);
  const load = (labels: string[], v: number) => binding.appendSamplesUnchecked(tenant, labels, ts, new Float64Array(ts.length).fill(v));
  const instant = (query: string, extra: Partial<QueryTask> = {}): QueryTask => ({ tenant, query, kind: 'instant', startMs: 5 * M, endMs: 5 * M, stepMs: 0, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 0, deadline: Date.now() + 60_000, ...extra });
  /** shardOf maps each series' p label to its shard (0-based) of n. */
  const shardOf = (n: number): Map<string, number> => {
    const out = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const r = executeQuery(kernels, instant(`x{__query_shard__="${k + 1}_of_${n}"}`));
      if (!r.ok) throw new Error(r.message);
      const d = decodeBody(r.body).data;
      if (d.resultType === 'vector') for (const s of d.series) out.set(s.labels.p!, k);
    }
    return out;
  };
  // Find a label for -1e100 that puts it in another shard than 1e100 with 2 shards and with 3.
  for (let i = 0; i < 20; i++) load(['__name__', 'x', 'p', `d${i}`], 0);
  load(['__name__', 'x', 'p', 'c'], 0);
  const two = shardOf(2);
  const three = shardOf(3);
  const d = [...two.keys()].find((p) => p !== 'c' && two.get(p) !== two.get('c') && three.get(p) !== three.get('c'));
  if (d === undefined) throw new Error('no label splits 1e100 and -1e100 over 2 and 3 shards');
  binding.resetTenant(tenant);
  load(['__name__', 'x', 'p', 'a'], 2);
  load(['__name__', 'x', 'p', 'b'], 8);
  load(['__name__', 'x', 'p', 'c'], 1e100);
  load(['__name__', 'x', 'p', d], -1e100);
  const big = 9.988465674311579e307;
  for (const p of ['a', 'b', 'c', 'd']) load(['__name__', 'big', 'p', p], big);
  for (const [p, v] of [['a', -big], ['b', -big], ['c', big], ['d', big]] as const) load(['__name__', 'bigzero', 'p', p], v);
  /** valueOf is the answer's one value (the last point of a range answer), NaN for anything else. */
  const valueOf = (a: WorkerAnswer): number => {
    if (!(a instanceof Uint8Array)) return NaN;
    const data = decodeBody(bodyText(a)).data;
    if (data.resultType === 'vector' && data.series.length === 1) return data.series[0]!.value;
    if (data.resultType === 'matrix' && data.series.length === 1) return data.series[0]!.points.at(-1)![1];
    return NaN;
  };
  for (const [query, want] of [
    ['sum(x)', 10],
    ['avg(x)', 2.5],
    ['avg(big)', big],
    ['avg(bigzero)', 0],
  ] as const) {
    for (const kind of ['instant', 'range'] as const) {
      // The range query's slices of 2m each fall back on their own.
      const base = kind === 'instant' ? instant(query) : instant(query, { kind: 'range', startMs: 0, endMs: 10 * M, stepMs: M });
      const plain = executeQuery(kernels, base);
      t.equal(plain.ok && valueOf(new Uint8Array(Buffer.from(plain.body, 'utf8'))), want, `${query} ${kind} is ${want} unsharded`);
      for (const shards of [2, 3]) {
        const task: QueryTask = { ...base, totalShards: shards };
        const what = `${query} ${kind} over ${shards} shards`;
        const inner = directExecutor(kernels);
        const { fe, metrics } = shardedFrontend(inner, 2 * M);
        const got = await fe.run(task, new AbortController().signal);
        t.equal(compareAnswers(plain, got), undefined, what);
        t.equal(valueOf(got), want, `${what} is ${want}`);
        t.ok(metrics.successes.n >= (kind === 'instant' ? 1 : 5), `${what}: rewritten (${metrics.successes.n})`);
        t.ok(inner.calls.some((c) => c.query.includes(`__query_shard__="1_of_${shards}"`)), `${what}: the shard queries ran`);
        t.equal(inner.calls.filter((c) => c.query === query).length, metrics.successes.n, `${what}: then each rewritten query ran unsharded`);
        if (kind === 'range') {
          // The unsharded answers are cached as any other.
          const before = inner.calls.length;
          t.equal(compareAnswers(plain, await fe.run(task, new AbortController().signal)), undefined, `${what}, from the cache`);
          t.equal(inner.calls.length, before, `${what}: the second run came from the cache`);
        }
      }
    }
  }
  // Shard sums that do not cancel are used as they are.
  const inner = directExecutor(kernels);
  const { fe } = shardedFrontend(inner, 2 * M);
  const task = instant('sum(x{p=~"a|b"})', { totalShards: 2 });
  t.equal(valueOf(await fe.run(task, new AbortController().signal)), 10);
  t.ok(inner.calls.length > 0 && inner.calls.every((c) => c.query.includes('__query_shard__="')), 'only shard queries ran');
});

const PROMQL_TESTS = fileURLToPath(new URL('../../../../shared/promql-tests/', import.meta.url));

t.test('split + cache + sharding answer as the plain query for the conformance scripts', async (t) => {
  const files = readdirSync(PROMQL_TESTS).filter((f) => f.endsWith('.test'));
  t.ok(files.length > 10, `${files.length} scripts`);
  const loader = {
    appendSamplesUnchecked: binding.appendSamplesUnchecked.bind(binding),
    appendHistogramsUnchecked: binding.appendHistogramsUnchecked?.bind(binding),
    resetTenant: binding.resetTenant.bind(binding),
  };
  let evals = 0;
  let sharded = 0;
  let fromShards = 0;
  const mismatches: string[] = [];
  for (const file of files) {
    let cmds;
    try {
      cmds = parseScript(readFileSync(PROMQL_TESTS + file, 'utf8'));
    } catch {
      continue;
    }
    const run = new ScriptRun({ kernels, loader });
    try {
      for (const cmd of cmds) {
        if (cmd.type === 'load') run.load(cmd);
        else if (cmd.type === 'clear') run.clear();
        else {
          const base = { tenant: run.currentTenant, query: cmd.expr, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: Date.now() + 30_000, useStartTimestamps: true };
          const tasks: QueryTask[] = cmd.isRange
            ? [{ ...base, kind: 'range', startMs: cmd.startMs, endMs: cmd.endMs, stepMs: cmd.stepMs }]
            : [
                { ...base, kind: 'instant', startMs: cmd.startMs, endMs: cmd.startMs, stepMs: 0 },
                { ...base, kind: 'range', startMs: cmd.startMs - 2 * M, endMs: cmd.startMs + 2 * M, stepMs: M },
              ];
          for (const task of tasks) {
            const inner = directExecutor(kernels);
            const { fe, metrics } = shardedFrontend(inner, 2 * M);
            const diff = compareAnswers(executeQuery(kernels, task), await fe.run(task, new AbortController().signal));
            evals++;
            if (metrics.successes.n > 0) sharded++;
            if (metrics.successes.n > 0 && inner.calls.every((c) => c.query.includes('__query_shard__="'))) fromShards++;
            if (diff !== undefined) mismatches.push(`${file}:${cmd.line} ${task.kind} ${cmd.expr}: ${diff}`);
          }
        }
      }
    } finally {
      run.release();
    }
  }
  t.ok(evals > 1000, `${evals} queries compared`);
  t.ok(sharded > 300, `${sharded} of them sharded`);
  t.ok(fromShards > 300, `${fromShards} of them answered from their shards only`);
  t.same(mismatches, [], `${mismatches.length} of ${evals} differ`);
});
