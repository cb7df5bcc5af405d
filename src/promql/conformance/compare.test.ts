// compare.test.ts checks the result comparison against promqltest's rules:
// epsilon, NaN, label sets, order, matrix points and annotations.

import t from 'tap';
import { almostEqual, checkAnnotations, checkExpectedFailure, compareResult, decodeBody } from './compare.js';
import { parseScript, type EvalCmd } from './script.js';

const evalOf = (script: string): EvalCmd => parseScript(script)[0] as EvalCmd;

t.test('almostEqual', async (t) => {
  t.ok(almostEqual(1, 1));
  t.ok(almostEqual(NaN, NaN));
  t.ok(almostEqual(Infinity, Infinity));
  t.notOk(almostEqual(Infinity, -Infinity));
  t.ok(almostEqual(1, 1 + 1e-7));
  t.notOk(almostEqual(1, 1 + 1e-5));
  t.ok(almostEqual(1e10, 1e10 + 1));
  t.notOk(almostEqual(0, 1e-300), 'zero is compared absolutely, scaled by the smallest normal');
  t.ok(almostEqual(0, -0));
  t.notOk(almostEqual(NaN, 1));
});

t.test('vectors', async (t) => {
  const cmd = evalOf('eval instant at 0 x\n  x{a="1"} 1\n  x{a="2"} NaN\n');
  const vec = (series: Array<{ labels: Record<string, string>; value: number }>) => ({ resultType: 'vector' as const, timestampMs: 0, series });
  t.equal(compareResult(cmd, vec([{ labels: { __name__: 'x', a: '2' }, value: NaN }, { labels: { __name__: 'x', a: '1' }, value: 1.0000001 }])), undefined, 'unordered, within epsilon');
  t.match(compareResult(cmd, vec([{ labels: { __name__: 'x', a: '1' }, value: 1 }])), /expected metric x\{a="2"\} with \[NaN\] not found/);
  t.match(compareResult(cmd, vec([{ labels: { __name__: 'x', a: '1' }, value: 2 }, { labels: { __name__: 'x', a: '2' }, value: NaN }])), /expected 1 for x\{a="1"\} but got 2/);
  t.match(compareResult(cmd, vec([{ labels: { a: '3' }, value: 1 }])), /unexpected metric \{a="3"\} in result/);
  t.match(compareResult(cmd, { resultType: 'scalar', timestampMs: 0, value: 1 }), /expected vector or matrix result, but got scalar/);

  const ordered = evalOf('eval_ordered instant at 0 sort(x)\n  x{a="1"} 1\n  x{a="2"} 2\n');
  t.equal(compareResult(ordered, vec([{ labels: { __name__: 'x', a: '1' }, value: 1 }, { labels: { __name__: 'x', a: '2' }, value: 2 }])), undefined);
  t.match(compareResult(ordered, vec([{ labels: { __name__: 'x', a: '2' }, value: 2 }, { labels: { __name__: 'x', a: '1' }, value: 1 }])), /at position 2 but was at 1/);
  t.equal(compareResult(evalOf('eval instant at 0 nothing\n'), vec([])), undefined, 'empty result expected and got');

  // An empty-valued label is no label (type_and_unit.test expects __unit__="").
  const empty = evalOf('eval instant at 0 x\n  x{__unit__="", a="1"} 1\n');
  t.equal(compareResult(empty, vec([{ labels: { __name__: 'x', a: '1' }, value: 1 }])), undefined, 'expected empty label, none returned');
  t.equal(compareResult(empty, vec([{ labels: { __name__: 'x', __unit__: '', a: '1' }, value: 1 }])), undefined, 'both with the empty label');
  t.match(compareResult(empty, vec([{ labels: { __name__: 'x', __unit__: 'b', a: '1' }, value: 1 }])), /unexpected metric/, 'a non-empty value still counts');
});

t.test('scalars and strings', async (t) => {
  const cmd = evalOf('eval instant at 0 1+1\n  2\n');
  t.equal(compareResult(cmd, { resultType: 'scalar', timestampMs: 0, value: 2 }), undefined);
  t.match(compareResult(cmd, { resultType: 'scalar', timestampMs: 0, value: 3 }), /expected scalar 2 but got 3/);
  t.match(compareResult(cmd, { resultType: 'vector', timestampMs: 0, series: [] }), /expected scalar result/);
  const str = evalOf('eval instant at 0 "a"\n  expect string "a"\n');
  t.equal(compareResult(str, { resultType: 'string', timestampMs: 0, value: 'a' }), undefined);
  t.match(compareResult(str, { resultType: 'string', timestampMs: 0, value: 'b' }), /expected string "a" but got "b"/);
});

t.test('matrices', async (t) => {
  const cmd = evalOf('eval range from 0 to 2m step 1m x\n  x{a="1"} 1 _ 3\n  x{a="2"} 1x2\n');
  const good = {
    resultType: 'matrix' as const,
    series: [
      { labels: { __name__: 'x', a: '1' }, points: [[0, 1], [120_000, 3]] as Array<[number, number]> },
      { labels: { __name__: 'x', a: '2' }, points: [[0, 1], [60_000, 1], [120_000, 1]] as Array<[number, number]> },
    ],
  };
  t.equal(compareResult(cmd, good), undefined);
  t.match(compareResult(cmd, { ...good, series: [good.series[1]!, good.series[0]!] }), /matrix results should always be sorted by labels/);
  t.match(compareResult(cmd, { ...good, series: [{ ...good.series[0]!, points: [[0, 1], [60_000, 2], [120_000, 3]] }, good.series[1]!] }), /expected 2 float points and 0 histogram points/);
  t.match(compareResult(cmd, { ...good, series: [{ ...good.series[0]!, points: [[0, 1], [60_000, 3]] }, good.series[1]!] }), /to have timestamp 120000, but it had timestamp 60000/);
  t.match(compareResult(cmd, { ...good, series: [good.series[0]!] }), /expected metric x\{a="2"\} not found/);
  t.match(compareResult(evalOf('eval range from 0 to 1m step 1m x\n  x 1 2 3\n'), { resultType: 'matrix', series: [{ labels: { __name__: 'x' }, points: [] }] }), /query time range cannot return this many points/);
  const rv = evalOf('eval instant at 1m x[1m]\n  expect range vector from 30s to 1m step 30s\n  x 1 2\n');
  t.equal(compareResult(rv, { resultType: 'matrix', series: [{ labels: { __name__: 'x' }, points: [[30_000, 1], [60_000, 2]] }] }), undefined);
  t.match(compareResult(evalOf('eval_ordered instant at 0 x[1m]\n'), { resultType: 'matrix', series: [] }), /expected ordered result/);
});

t.test('annotations and failures', async (t) => {
  const cmd = evalOf('eval instant at 0 x\n  expect warn msg: w1\n  expect info regex: ^i\n');
  t.equal(checkAnnotations(cmd, 'x', ['w1'], ['i1', 'i2']), undefined);
  t.match(checkAnnotations(cmd, 'x', [], ['i1']), /expected warn annotations but none were found/);
  t.match(checkAnnotations(cmd, 'x', ['w1', 'w2'], ['i1']), /unexpected warn annotation "w2"/);
  t.match(checkAnnotations(cmd, 'x', ['w1'], ['j']), /expected info annotation matching pattern/);
  const none = evalOf('eval instant at 0 x\n  expect no_warn\n  expect no_info\n');
  t.equal(checkAnnotations(none, 'x', [], []), undefined);
  t.match(checkAnnotations(none, 'x', ['w'], []), /unexpected warning annotations/);
  t.match(checkAnnotations(none, 'x', [], ['i']), /unexpected info annotations/);
  t.match(checkAnnotations(evalOf('eval_warn instant at 0 x\n'), 'x', [], []), /expected warnings/);
  t.equal(checkAnnotations(evalOf('eval instant at 0 x\n'), 'x', ['ignored'], ['ignored']), undefined, 'annotations unchecked without expect lines');

  t.equal(checkExpectedFailure(evalOf('eval_fail instant at 0 x\n'), 'anything'), undefined);
  t.equal(checkExpectedFailure(evalOf('eval instant at 0 x\n  expect fail msg: boom\n'), 'boom'), undefined);
  t.match(checkExpectedFailure(evalOf('eval instant at 0 x\n  expect fail msg: boom\n'), 'bang'), /expected error matching "boom"/);
  t.equal(checkExpectedFailure(evalOf('eval instant at 0 x\n  expect fail regex: bo+m\n'), 'a boom'), undefined);
  t.match(checkExpectedFailure(evalOf('eval_fail instant at 0 x\n  expected_fail_message boom\n'), 'bang'), /expected error "boom"/);
});

t.test('decodeBody reads the API encoding back', async (t) => {
  const d = decodeBody('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1.5,"NaN"],[-0.001,"+Inf"]]}]},"warnings":["w"]}');
  t.equal(d.data.resultType, 'matrix');
  if (d.data.resultType === 'matrix') {
    t.equal(d.data.series[0]!.points[0]![0], 1500);
    t.ok(Number.isNaN(d.data.series[0]!.points[0]![1]));
    t.same(d.data.series[0]!.points[1], [-1, Infinity]);
  }
  t.same(d.warnings, ['w']);
  t.same(d.infos, []);
  t.same(decodeBody('{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}').data, { resultType: 'scalar', timestampMs: 4000, value: 2 });
});

t.test('native histograms: compared through the JSON answer, hints on the engine result', async (t) => {
  const { checkHints, expectsHints } = await import('./compare.js');
  const { encodeQuerySuccess } = await import('../../querier/format.js');
  const { parseHistogramLiteral } = await import('./series.js');
  const cmd = evalOf('eval instant at 1m h\n  {} {{schema:0 count:4 sum:6 counter_reset_hint:gauge buckets:[1 3]}}\n');
  t.ok(expectsHints(cmd));
  const h = parseHistogramLiteral('{{schema:0 count:4 sum:6 counter_reset_hint:gauge buckets:[1 3]}}').h;
  const body = (x: typeof h) => encodeQuerySuccess({ value: { resultType: 'vector', timestampMs: 60_000, series: [{ labels: {}, value: NaN, histogram: x }] }, warnings: [], infos: [] });
  t.equal(compareResult(cmd, decodeBody(body(h)).data), undefined);
  const other = parseHistogramLiteral('{{schema:0 count:4 sum:6 buckets:[2 2]}}').h;
  t.match(compareResult(cmd, decodeBody(body(other)).data), /expected \{count:4 sum:6 buckets:\[\(0\.5,1\]:1 \(1,2\]:3\]\}/);
  const float = encodeQuerySuccess({ value: { resultType: 'vector', timestampMs: 60_000, series: [{ labels: {}, value: 4 }] }, warnings: [], infos: [] });
  t.match(compareResult(cmd, decodeBody(float).data), /expected histogram .* but got float value 4/);
  t.equal(checkHints(cmd, { resultType: 'vector', timestampMs: 60_000, series: [{ labels: {}, value: NaN, histogram: h }] }), undefined);
  const unknown = h.copy();
  unknown.counterResetHint = 0;
  t.match(checkHints(cmd, { resultType: 'vector', timestampMs: 60_000, series: [{ labels: {}, value: NaN, histogram: unknown }] }), /expected counter reset hint gauge for \{\} at t=60000, but got unknown/);
});
