// batch-eval.test.ts checks the pieces of batched rule evaluation: which
// rules may share a worker task (planBatches), the series keys and the
// WriteRequest built from them (byte for byte what the generic encoder
// writes), parsing once per expression text, recording-rule relabelling and
// duplicate detection; and, end to end in a real server, that a later rule of
// a group reads an earlier recording rule's output of the same evaluation and
// that a changed expression takes effect.

import t from 'tap';
import { evaluateRuleBatch, ExprCache, planBatches, readNames, recordedKeys, type RuleBatchTask } from './batch-eval.js';
import type { Kernels } from '../promql/engine/types.js';
import { ERR_DUPLICATE_RECORDING, NOT_A_VECTOR } from './rules.js';
import { encodeRuleWriteRequest, type OutSample } from './eval-io.js';
import { encodeKeyedSamples, labelsOfKey, seriesKey } from './series-key.js';
import { nativeSkip } from '../testing/native-skip.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { encodeHistogramWriteRequestSnappy } from '../remote/write-request-histograms.js';

t.test('readNames lists the metric names a query selects, or any', async (t) => {
  t.same(readNames('sum(rate(http_requests_total{job="a"}[5m])) / on() group_left sum(up)').sort(), ['http_requests_total', 'up']);
  t.same(readNames('{__name__="x"} + {"y"}').sort(), ['x', 'y']);
  t.same(readNames('{job="a"}'), [''], 'no name: any');
  t.same(readNames('{__name__=~"x|y"}'), [''], 'a name regex: any');
  t.same(readNames('vector(time())'), [], 'no selector reads nothing');
  t.same(readNames('max_over_time(a:b[5m:1m])'), ['a:b'], 'subqueries are walked');
  t.same(readNames('sum(('), [''], 'unparsable: any');
});

t.test('planBatches ends a batch before a rule that reads what the batch wrote', async (t) => {
  const rec = (expr: string, name: string) => ({ expr, writes: [name] });
  const alert = (expr: string) => ({ expr, writes: ['ALERTS', 'ALERTS_FOR_STATE'] });
  t.same(planBatches([rec('sum(x)', 'a'), rec('sum(y)', 'b'), alert('x > 1'), rec('count(x)', 'c')]), [[0, 1, 2, 3]], 'independent rules share one batch');
  t.same(planBatches([rec('sum(x)', 'a'), rec('a * 2', 'b'), rec('sum(y)', 'c'), rec('b + a', 'd')]), [[0], [1, 2], [3]]);
  t.same(planBatches([alert('x > 1'), rec('count(ALERTS)', 'n')]), [[0], [1]], 'ALERTS written by an alerting rule');
  t.same(planBatches([rec('sum(x)', 'a'), rec('sum({job="j"})', 'b')]), [[0], [1]], 'a selector without a name reads everything written before');
  t.same(planBatches([rec('sum({job="j"})', 'b'), rec('sum(x)', 'a')]), [[0, 1]], 'nothing written yet: no conflict');
  t.same(planBatches([]), []);
});

t.test('series keys: sorted Label messages, empty values left out, decoded back', async (t) => {
  const ls = { job: 'api', __name__: 'a:b', empty: '', 'ünïcode': 'välue ✓' };
  const key = seriesKey(ls);
  t.equal(key, seriesKey({ 'ünïcode': 'välue ✓', __name__: 'a:b', job: 'api' }), 'order and empty values do not matter');
  t.same(labelsOfKey(key), { __name__: 'a:b', job: 'api', 'ünïcode': 'välue ✓' });
  t.not(seriesKey({ a: 'b' }), seriesKey({ a: 'c' }));
  t.equal(seriesKey({}), '');
  t.same(labelsOfKey(''), {});
});

t.test('encodeKeyedSamples writes the same bytes as the generic WriteRequest encoder', async (t) => {
  const long = 'x'.repeat(300);
  const samples: OutSample[] = [
    { metric: { __name__: 'm', job: 'a' }, tsMs: 1_700_000_000_123, value: 1.5 },
    { metric: { __name__: 'm', job: long }, tsMs: 1_700_000_000_123, value: -Infinity },
    { metric: { __name__: 'm', 'ünïcode': 'välue ✓ 😀', ['n'.repeat(20)]: 'é'.repeat(21), ['l'.repeat(30)]: 'ü'.repeat(30) }, tsMs: 1_700_000_000_123, value: 0 },
    { metric: { __name__: 'm', job: 'c' }, tsMs: 1_700_000_000_123, value: NaN, stale: true },
  ];
  const got = encodeKeyedSamples(
    samples.slice(0, 3).map((s) => seriesKey(s.metric)),
    samples.slice(0, 3).map((s) => s.value),
    1_700_000_000_123,
    [seriesKey(samples[3]!.metric)],
  );
  t.same(Buffer.from(got), encodeRuleWriteRequest(samples));
  t.same(Buffer.from(encodeKeyedSamples([seriesKey({ a: 'b' })], [2], -5)), encodeRuleWriteRequest([{ metric: { a: 'b' }, tsMs: -5, value: 2 }]), 'negative timestamps');
  t.equal(encodeKeyedSamples([], [], 1).length, 0);
});

t.test('ExprCache parses a text once and a changed text again', async (t) => {
  const cache = new ExprCache();
  const a = cache.get('sum(rate(x[5m]))');
  t.equal(cache.get('sum(rate(x[5m]))'), a, 'same tree for the same text');
  t.equal(cache.parses, 1);
  t.not(cache.get('sum(rate(x[10m]))'), a);
  t.equal(cache.parses, 2, 'a changed expression is parsed');
  t.throws(() => cache.get('sum(('), 'a parse error is thrown');
});

t.test('recordedKeys renames, relabels and detects duplicates as a recording rule', async (t) => {
  const keys = recordedKeys([{ labels: { __name__: 'x', job: 'a', drop: 'v' } }, { labels: { job: 'b' } }], 'rec', [['drop', ''], ['team', 't']]);
  t.same(keys?.map(labelsOfKey), [
    { __name__: 'rec', job: 'a', team: 't' },
    { __name__: 'rec', job: 'b', team: 't' },
  ]);
  t.equal(recordedKeys([{ labels: { job: 'a', x: '1' } }, { labels: { job: 'a', x: '2' } }], 'rec', [['x', 'same']]), undefined, 'same labels after the rule labels');
});

t.test('evaluateRuleBatch answers each item on its own: keys, label sets, errors', async (t) => {
  // Queries without selectors: the kernels are never asked for data.
  const task: RuleBatchTask = {
    tenant: 't',
    tsMs: 60_000,
    items: [
      { query: 'vector(2) or label_replace(vector(3), "x", "y", "", "")', record: 'rec', labels: [['team', 'a']] },
      { query: '1 + 1', record: 'sc' },
      { query: '"text"', record: 'str' },
      { query: 'sum((', record: 'bad' },
      { query: 'vector(1) or label_replace(vector(2), "x", "y", "", "")', record: 'dup', labels: [['x', '']] },
      { query: 'label_replace(vector(5), "instance", "i1", "", "")' },
    ],
    lookbackDeltaMs: 300_000,
    maxSamples: 1_000_000,
    timeoutMs: 60_000,
    maxPartialQueryLengthMs: 0,
    maxFetchedSeriesPerQuery: 0,
  };
  const answers = evaluateRuleBatch({} as Kernels, task, new ExprCache());
  t.equal(answers.length, 6);
  const [rec, sc, str, bad, dup, alert] = answers;
  t.ok(rec && 'keys' in rec);
  if (rec && 'keys' in rec) {
    t.same(rec.keys.map(labelsOfKey), [{ __name__: 'rec', team: 'a' }, { __name__: 'rec', team: 'a', x: 'y' }]);
    t.same([...rec.values], [2, 3]);
  }
  t.same(sc && 'keys' in sc ? [sc.keys.map(labelsOfKey), [...sc.values]] : undefined, [[{ __name__: 'sc' }], [2]], 'a scalar is one sample without labels');
  t.same(str, { ms: str!.ms, error: NOT_A_VECTOR });
  t.equal(bad && 'failure' in bad ? bad.failure.kind : undefined, 'bad_data', 'a parse error fails only its own item');
  t.same(dup, { ms: dup!.ms, error: ERR_DUPLICATE_RECORDING });
  t.same(alert && 'metrics' in alert ? [alert.metrics, [...alert.values]] : undefined, [[{ instance: 'i1' }], [5]], 'alerting items get label sets and values');
});

t.test('a later rule sees the earlier recording rule output of the same evaluation (real server)', { skip: nativeSkip() }, async (t) => {
  const srv = await startTestServer({});
  t.teardown(() => srv.close());
  const tenant = 'batch-1';
  const post = (yaml: string) => httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers: { 'X-Scope-OrgID': tenant }, body: yaml });
  type Result = Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }>;
  const query = async (expr: string): Promise<Result> => {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/query?query=${encodeURIComponent(expr)}`, { headers: { 'X-Scope-OrgID': tenant } });
    return jsonOf<{ data: { result: Result } }>(res).data.result;
  };
  const until = async <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => {
    const end = Date.now() + 20_000;
    for (let i = 0; i < 200 && Date.now() < end; i++) {
      const v = await fn();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  // a:t records the evaluation time; b:t reads a:t. Evaluated in one task, b:t would read the
  // previous evaluation's a:t (one interval behind) or nothing at the first evaluation.
  const group = (bExpr: string): string => `name: chain\ninterval: 1s\nrules:\n  - record: a:t\n    expr: vector(time())\n  - record: b:t\n    expr: ${bExpr}\n  - record: c:t\n    expr: vector(time())\n`;
  t.equal((await post(group('a:t'))).status, 202);
  const series = await until('three evaluations', async () => {
    // b first: a:t then holds every evaluation b:t saw.
    const b = await query('b:t[1m]');
    const a = await query('a:t[1m]');
    const [av, bv] = [a[0]?.values ?? [], b[0]?.values ?? []];
    return a.length === 1 && b.length === 1 && bv.length >= 3 ? { a: av, b: bv } : undefined;
  });
  t.same(
    series.b.map(([ts]) => ts),
    series.a.map(([ts]) => ts).slice(0, series.b.length),
    'b:t has a sample at every evaluation a:t has, the first one included',
  );
  // time() keeps the slot's sub-millisecond part; the sample's timestamp is in whole milliseconds.
  for (const [ts, v] of series.b) t.ok(Math.abs(Number(v) - ts) < 0.001, `b:t at ${ts} is that evaluation's a:t (${v})`);

  // A changed expression is parsed and evaluated from the next evaluation on.
  t.equal((await post(group('a:t + 1000'))).status, 202);
  const diff = await until('the new expression', async () => {
    const r = await query('b:t - a:t');
    const v = r.length === 1 ? Number(r[0]!.value?.[1]) : NaN;
    return v === 1000 ? v : undefined;
  });
  t.equal(diff, 1000);
});

t.test('recording rules write native-histogram results as histogram samples (real server)', { skip: nativeSkip() }, async (t) => {
  const srv = await startTestServer({});
  t.teardown(() => srv.close());
  const tenant = 'batch-nh';
  const headers = { 'X-Scope-OrgID': tenant };
  // Two integer histogram series, 10 s apart over the last 5 minutes, growing each step.
  const now = Date.now();
  const series = ['a', 'b'].map((inst, k) => ({
    labels: [['__name__', 'req_seconds'], ['instance', inst]] as Array<[string, string]>,
    histograms: Array.from({ length: 30 }, (_, i) => ({
      t: now - 300_000 + i * 10_000,
      kind: 'int' as const,
      hint: 0,
      schema: 1,
      zeroThreshold: 0.001,
      zeroCount: i,
      count: 3 * i + k,
      sum: 2.5 * i,
      positiveSpans: [[0, 2]] as Array<[number, number]>,
      negativeSpans: [],
      positiveBuckets: [i, k],
      negativeBuckets: [],
      customValues: [],
    })),
  }));
  const push = await httpRequest(srv.port, '/api/v1/push', {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
    body: encodeHistogramWriteRequestSnappy(series),
  });
  t.equal(push.status, 200, push.body);
  const rules = 'name: nh\ninterval: 1s\nrules:\n  - record: instance:req_seconds:rate1m\n    expr: rate(req_seconds[1m])\n  - record: job:req_seconds:sum\n    expr: sum(req_seconds)\n    labels:\n      job: api\n';
  const post = await httpRequest(srv.port, '/prometheus/config/v1/rules/ns', { method: 'POST', headers, body: rules });
  t.equal(post.status, 202);
  type Result = Array<{ metric: Record<string, string>; value?: unknown; histogram?: [number, { count: string; sum: string; buckets?: unknown[] }] }>;
  const query = async (expr: string): Promise<Result> => {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/query?query=${encodeURIComponent(expr)}`, { headers });
    return jsonOf<{ data: { result: Result } }>(res).data.result;
  };
  let recorded: Result = [];
  let summed: Result = [];
  for (let i = 0; i < 100 && (recorded.length < 2 || summed.length < 1); i++) {
    await new Promise((r) => setTimeout(r, 200));
    recorded = await query('instance:req_seconds:rate1m');
    summed = await query('job:req_seconds:sum');
  }
  t.equal(recorded.length, 2, 'one recorded series per instance');
  for (const r of recorded) {
    t.equal(r.metric.__name__, 'instance:req_seconds:rate1m');
    t.ok(r.histogram !== undefined && r.value === undefined, `${r.metric.instance}: a histogram sample`);
    // The counts grow by 3 per 10 s: a rate of 0.3/s.
    t.ok(Math.abs(Number(r.histogram?.[1].count) - 0.3) < 1e-9, `${r.metric.instance}: count rate ${r.histogram?.[1].count}`);
  }
  t.same(summed[0]?.metric, { __name__: 'job:req_seconds:sum', job: 'api' });
  t.equal(summed[0]?.histogram?.[1].count, String(3 * 29 + 3 * 29 + 1), 'the sum of the newest histograms');
  const direct = await query('sum(req_seconds)');
  t.same(summed[0]?.histogram?.[1].buckets, direct[0]?.histogram?.[1].buckets, 'the same buckets as the expression answers');
});
