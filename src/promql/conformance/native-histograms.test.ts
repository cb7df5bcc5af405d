// native-histograms.test.ts checks how the runner tells evals that need
// native histograms apart, and the loader's promqltest semantics, with a
// recording loader and a stub engine (no native binding needed).

import t from 'tap';
import { HistogramSeries, nhcbBaseLabels } from './native-histograms.js';
import { runScript, type SampleLoader } from './runner.js';
import { parseScript, parseStartOffsets } from './script.js';

t.test('load_with_nhcb base series', async (t) => {
  t.same(nhcbBaseLabels({ __name__: 'x_bucket', le: '0.1', job: 'a' }), { __name__: 'x', job: 'a' });
  t.same(nhcbBaseLabels({ __name__: 'x_bucket', le: '+Inf' }), { __name__: 'x' });
  t.same(nhcbBaseLabels({ __name__: 'x_count' }), { __name__: 'x' });
  t.same(nhcbBaseLabels({ __name__: 'x_sum', job: 'a' }), { __name__: 'x', job: 'a' });
  t.equal(nhcbBaseLabels({ __name__: 'x_bucket', le: 'Hello World' }), undefined, 'le must be a number');
  t.equal(nhcbBaseLabels({ __name__: 'x_bucket', le: 'NaN' }), undefined);
  t.equal(nhcbBaseLabels({ __name__: 'x_bucket' }), undefined);
  t.equal(nhcbBaseLabels({ __name__: 'x_total' }), undefined);
  t.equal(nhcbBaseLabels({ __name__: '_bucket', le: '1' }), undefined);
});

t.test('selectors reading histogram series', async (t) => {
  const h = new HistogramSeries();
  t.equal(h.readBy('x'), false, 'nothing loaded');
  h.add({ __name__: 'http_requests', instance: 'histogram_1' });
  h.add({ __name__: 'data_histogram', type: 'mix' });
  t.equal(h.readBy('count(limitk(100, http_requests) and http_requests)'), true);
  t.equal(h.readBy('http_requests{instance="0"}'), false);
  t.equal(h.readBy('http_requests{instance=~"histogram_[0-9]"}'), true);
  t.equal(h.readBy('http_requests{instance!~"histogram_.*"}'), false);
  t.equal(h.readBy('max_over_time({__name__=~"data(_histogram)?"}[2m])'), true);
  t.equal(h.readBy('rate(data_histogram{type="mix"}[5m])[10m:1m]'), true, 'inside subqueries');
  t.equal(h.readBy('data_histogram{type=""}'), false, 'an empty matcher needs the label absent');
  t.equal(h.readBy('vector(1) + time()'), false);
  t.equal(h.readBy('not a query ('), false);
  t.equal(h.readBy('histogram_count(data_histogram </ 2)'), true, 'an unparsable query naming a histogram metric');
  t.equal(h.readBy('histogram_count(data </ 2)'), false);
  h.clear();
  t.equal(h.readBy('http_requests'), false, 'clear forgets');
});

/** recorder is a SampleLoader that keeps what was appended, by flat label text. */
function recorder(): SampleLoader & { appended: Map<string, Array<[number, number]>>; starts: Map<string, number[]> } {
  const appended = new Map<string, Array<[number, number]>>();
  const starts = new Map<string, number[]>();
  return {
    appended,
    starts,
    appendSamplesUnchecked(_tenant, labels, ts, vs, sts) {
      const key = labels.join(',');
      const list = appended.get(key) ?? [];
      ts.forEach((x, i) => list.push([x, vs[i]!]));
      appended.set(key, list);
      if (sts !== undefined) starts.set(key, [...(starts.get(key) ?? []), ...sts]);
    },
    resetTenant() {},
  };
}

/** failingDeps runs scripts whose every eval fails (the engine is a stub). */
function failingDeps(loader: SampleLoader) {
  return { kernels: {} as never, loader, lookbackDeltaMs: 300_000 };
}

t.test('a series defined twice in one load keeps its last definition', async (t) => {
  const loader = recorder();
  runScript('load 1m\n  m{a="1"} 1 2\n  m{a="2"} 5\n  m{a="1"} _ _ 3\n\nload 1m\n  m{a="2"} _ 6\n', failingDeps(loader));
  t.same(loader.appended.get('__name__,m,a,1'), [[120_000, 3]]);
  t.same(loader.appended.get('__name__,m,a,2'), [[0, 5], [60_000, 6]], 'separate loads add up');
});

t.test('failures are counted as needing native histograms when they read histogram series', async (t) => {
  const script = [
    'load 1m',
    '  floats 1',
    '  mixed 1 {{schema:0 sum:1 count:1}}',
    '',
    'eval instant at 1m floats',
    '  floats 1',
    '',
    'eval instant at 1m mixed',
    '  mixed 1',
    '',
    'eval instant at 1m sum({__name__=~"floats|mixed"})',
    '  {} 2',
    '',
    'eval instant at 1m vector(1)',
    '  {} {{schema:0 sum:1 count:1}}',
    '',
    'clear',
    '',
    'load_with_nhcb 1m',
    '  h_bucket{le="1"} 1',
    '  h_bucket{le="+Inf"} 2',
    '',
    'eval instant at 0 h_bucket',
    '  h_bucket{le="1"} 1',
    '',
    'eval instant at 0 histogram_count(h)',
    '  {} 2',
    '',
    'clear',
    '',
    'eval instant at 0 mixed',
    '',
  ].join('\n');
  const report = runScript(script, failingDeps(recorder()));
  t.equal(report.total, 7);
  t.equal(report.passed, 0, 'the stub engine fails everything');
  t.same(
    report.failures.map((f) => [f.line, f.nativeHistograms === true]),
    [
      [5, false],
      [8, true],
      [11, true],
      [14, true],
      [23, false],
      [26, true],
      [31, false],
    ],
  );
  t.equal(report.unsupported, 4);
});

t.test('an @st line gives the next series its start timestamps', async (t) => {
  const script = [
    'load 1m',
    '  counter{type="st"}@st _ -1m -90s+30sx1 _',
    '  counter{type="st"} 0 1 2 3 4',
    '  other 0 1 2',
    '',
    'eval instant at 2m other',
    '  other 2',
    '',
  ].join('\n');
  const rec = recorder();
  runScript(script, failingDeps(rec));
  t.same(rec.appended.get('__name__,counter,type,st'), [[0, 0], [60_000, 1], [120_000, 2], [180_000, 3], [240_000, 4]]);
  t.same(rec.starts.get('__name__,counter,type,st'), [0, 0, 30_000, 120_000, 0], 'omitted offsets load no start timestamp');
  t.equal(rec.starts.get('__name__,other'), undefined, 'a series without an @st line loads none');
  t.throws(() => parseScript('load 1m\n  a@st -1m\n  b 1\n'), /does not match/);
  t.throws(() => parseScript('load 1m\n  a@st -1m -1m\n  a 1\n'), /has 2 values but sample line has 1/);
  t.throws(() => parseScript('load 1m\n  a@st -1m\n'), /no following sample line/);
  t.same(parseStartOffsets('_x2 -0ms 1ms -59999ms 0 +1m -1m-1mx2 10sx1'), [undefined, undefined, -0, 1, -59_999, 0, 60_000, -60_000, -120_000, -180_000, 10_000, 10_000]);
});
