// frontend.test.ts checks that split range queries answer exactly as the
// unsplit query: a randomized set of expressions, ranges, steps and split
// intervals over series in the native storage, the answers compared byte for
// byte.

import t from 'tap';
import { nativeKernels } from '../promql/engine/kernels.js';
import { executeQuery } from '../querier/execute.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import { loadNative } from '../storage/native.js';
import { bodyText, QueryFrontend, runBounded } from './frontend.js';
import { directExecutor } from '../testing/direct-executor.js';

const binding = loadNative();
const kernels = nativeKernels();
const TENANT = `frontend-split-${process.pid}`;
const M = 60_000;
const H = 60 * M;

/** rand is a seeded generator so a failure can be reproduced. */
function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** load writes 8 hours of counters, gauges and histogram buckets, with resets and gaps. */
function load(r: () => number): void {
  const series: Array<[string[], (i: number, prev: number) => number | undefined]> = [];
  for (const job of ['api', 'db']) {
    for (const inst of ['a', 'b', 'c']) {
      series.push([['__name__', 'http_requests_total', 'job', job, 'instance', inst], (i, p) => (r() < 0.01 ? 0 : p + Math.floor(r() * 10))]);
      series.push([['__name__', 'temp', 'job', job, 'instance', inst], (i) => (r() < 0.05 ? undefined : Math.round(r() * 1000) / 10 - 20)]);
      for (const le of ['0.1', '1', '10', '+Inf']) {
        const f = Number(le === '+Inf' ? 100 : le);
        series.push([['__name__', 'latency_bucket', 'job', job, 'instance', inst, 'le', le], (i, p) => p + Math.floor(r() * 5 * f)]);
      }
    }
  }
  for (const [labels, gen] of series) {
    const ts: number[] = [];
    const vs: number[] = [];
    let prev = 0;
    // 8h at 15s, with a 40-minute hole in the middle of every other series.
    for (let i = 0; i < (8 * H) / 15_000; i++) {
      const tms = i * 15_000;
      if (labels[5] === 'b' && tms > 3 * H && tms < 3 * H + 40 * M) continue;
      const v = gen(i, prev);
      if (v === undefined) continue;
      prev = v;
      ts.push(tms);
      vs.push(v);
    }
    binding.appendSamplesUnchecked(TENANT, labels, Float64Array.from(ts), Float64Array.from(vs));
  }
}

const EXPRS = [
  'http_requests_total',
  'rate(http_requests_total[5m])',
  'sum by (job) (rate(http_requests_total[5m]))',
  'sum without (instance) (increase(http_requests_total[10m]))',
  'avg(temp)',
  'max by (instance) (temp) - min by (instance) (temp)',
  'count(temp > 20)',
  'histogram_quantile(0.9, sum by (le, job) (rate(latency_bucket[5m])))',
  'max_over_time(temp[17m])',
  'avg_over_time(temp[1h:5m])',
  'rate(http_requests_total[5m] offset 30m)',
  'temp @ 7200',
  'deriv(temp[10m])',
  'predict_linear(temp[30m], 600)',
  'changes(temp[20m])',
  'resets(http_requests_total[30m])',
  'topk(2, temp)',
  'bottomk(1, sum by (instance) (temp))',
  'absent(nonexistent)',
  'absent_over_time(temp{instance="b"}[5m])',
  'timestamp(temp)',
  'time()',
  'vector(time())',
  'scalar(sum(temp))',
  'count_values("v", round(temp / 10))',
  'label_replace(temp, "x", "$1", "instance", "(.*)")',
  'temp and on (instance) temp{job="api"}',
  'sum(temp) / ignoring (job) group_left sum by (job) (temp)',
  'quantile_over_time(0.5, temp[15m])',
  'last_over_time(temp[3m])',
  'sort_desc(temp)',
  'stddev by (job) (temp)',
];

function rangeTask(query: string, startMs: number, endMs: number, stepMs: number): QueryTask {
  return { tenant: TENANT, query, kind: 'range', startMs, endMs, stepMs, limit: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, deadline: Date.now() + 60_000 };
}

t.teardown(() => binding.resetTenant(TENANT));

t.test('split answers equal the unsplit answers (randomized)', async (t) => {
  const r = rand(13);
  load(r);
  const STEPS = [15_000, 60_000, 7 * M, 13_000, 5 * M + 500];
  const INTERVALS = [H, 2 * H, 90 * M, 24 * H];
  let splitCount = 0;
  let compared = 0;
  for (let i = 0; i < EXPRS.length * 6; i++) {
    const expr = EXPRS[i % EXPRS.length]!;
    const step = STEPS[Math.floor(r() * STEPS.length)]!;
    const start = Math.floor(r() * 4 * H) - 30 * M;
    const end = start + Math.floor(r() * 5 * H);
    const interval = INTERVALS[Math.floor(r() * INTERVALS.length)]!;
    const task = rangeTask(expr, start, end, step);
    const plain = executeQuery(kernels, task);
    const inner = directExecutor(kernels);
    const fe = new QueryFrontend(inner, { splitIntervalMs: interval, alignWithStep: false });
    const got = await fe.run(task, new AbortController().signal);
    if (inner.calls.length > 1) splitCount++;
    if (!plain.ok) {
      t.notOk(got instanceof Uint8Array, `${expr} fails unsplit and split`);
      continue;
    }
    t.ok(got instanceof Uint8Array, `${expr} answers`);
    if (!(got instanceof Uint8Array)) continue;
    const body = bodyText(got);
    if (body !== plain.body) t.equal(body, plain.body, `${expr} [${start}, ${end}] step ${step} split ${interval} in ${inner.calls.length}`);
    compared++;
  }
  t.ok(splitCount > EXPRS.length * 3, `most queries were split (${splitCount})`);
  t.ok(compared > EXPRS.length * 5, `compared ${compared}`);
});

t.test('align-queries-with-step rounds the range before splitting', async (t) => {
  const inner = directExecutor(kernels);
  const fe = new QueryFrontend(inner, { splitIntervalMs: H, alignWithStep: true });
  const got = await fe.run(rangeTask('temp', 61_234, 3 * H + 59_999, M), new AbortController().signal);
  t.ok(got instanceof Uint8Array);
  t.equal(inner.calls[0]!.startMs, M);
  t.equal(inner.calls.at(-1)!.endMs, 3 * H);
  t.equal(inner.calls.length, 4);
  const plain = executeQuery(kernels, rangeTask('temp', M, 3 * H, M));
  t.equal(bodyText(got as Uint8Array), plain.ok ? plain.body : '');
});

t.test('a failing sub-query fails the query; instant queries pass through', async (t) => {
  const inner = directExecutor(kernels);
  const fe = new QueryFrontend(inner, { splitIntervalMs: H, alignWithStep: false });
  const bad = await fe.run(rangeTask('sum(', 0, 3 * H, M), new AbortController().signal);
  t.match(bad, { ok: false, kind: 'bad_data' });
  const inst = await fe.run({ ...rangeTask('temp', 3 * H, 3 * H, 0), kind: 'instant' }, new AbortController().signal);
  t.ok(inst instanceof Uint8Array);
  t.equal(inner.calls.at(-1)!.kind, 'instant');
});

t.test('runBounded keeps at most N running and answers in order', async (t) => {
  let running = 0;
  let peak = 0;
  const out = await runBounded(
    [5, 1, 4, 2, 3, 0, 6],
    3,
    async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, n));
      running--;
      return n * 2;
    },
    () => false,
  );
  t.same(out, [10, 2, 8, 4, 6, 0, 12]);
  t.equal(peak, 3);
});

t.test('max_query_parallelism per tenant bounds the slices running at once', async (t) => {
  const { maxQueryParallelismFor } = await import('./frontend.js');
  const values = (n: number) => new Map<string, unknown>([['querier.max-query-parallelism', n]]);
  const limits = { values: (id: string) => (id === 'a' ? values(3) : id === 'b' ? values(2) : values(14)) } as never;
  t.equal(maxQueryParallelismFor(limits, 'a'), 3);
  t.equal(maxQueryParallelismFor(limits, 'a|b|c'), 2, 'federated: the smallest');
  t.equal(maxQueryParallelismFor(undefined, 'a'), 14);
  let running = 0;
  let peak = 0;
  const inner: QueryExecutor = {
    run: async (task) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 5));
      running--;
      const out = executeQuery(kernels, task);
      return out.ok ? new Uint8Array(Buffer.from(out.body, 'utf8')) : out;
    },
    close: async () => {},
  };
  const fe = new QueryFrontend(inner, { splitIntervalMs: H, alignWithStep: false, limits: { values: () => values(2) } as never });
  const got = await fe.run(rangeTask('temp', 0, 6 * H, M), new AbortController().signal);
  t.ok(got instanceof Uint8Array);
  t.equal(peak, 2, 'two slices at once');
});

t.test('a part that throws (e.g. a 429 from the scheduler) abandons the other parts: none more start, running ones are aborted', async (t) => {
  const started: number[] = [];
  const aborted: number[] = [];
  const inner: QueryExecutor = {
    run: (task, signal) => {
      const hour = task.startMs / H;
      started.push(hour);
      if (hour >= 1) return Promise.reject(new Error('too many outstanding requests'));
      return new Promise<WorkerAnswer>((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(hour);
          reject(signal.reason);
        }),
      );
    },
    close: async () => {},
  };
  const fe = new QueryFrontend(inner, { splitIntervalMs: H, alignWithStep: false, limits: { values: () => new Map([['querier.max-query-parallelism', 2]]) } as never });
  await t.rejects(fe.run(rangeTask('temp', 0, 6 * H - M, M), new AbortController().signal), /too many outstanding requests/);
  t.same(started, [0, 1], 'no part starts after the failure');
  t.same(aborted, [0], 'the running part is aborted');
});
