// script.test.ts checks the promqltest script parser: series expansion,
// load/clear/eval commands, expect lines and result lines.

import t from 'tap';
import { parseScript, ScriptError, type EvalCmd, type LoadCmd } from './script.js';
import { expandItem, parseSeriesDesc, splitItems } from './series.js';

const floats = (item: string) => expandItem(item).map((v) => (v.kind === 'float' ? v.value : v.kind));

t.test('series value expansion', async (t) => {
  t.same(floats('1'), [1]);
  t.same(floats('-1.5'), [-1.5]);
  t.same(floats('0+10x3'), [0, 10, 20, 30]);
  t.same(floats('5-1x3'), [5, 4, 3, 2]);
  t.same(floats('-2+2x2'), [-2, 0, 2]);
  t.same(floats('1x3'), [1, 1, 1, 1]);
  t.same(floats('0x59').length, 60);
  t.same(floats('1.5+0.5x2'), [1.5, 2, 2.5]);
  t.same(floats('_'), ['omitted']);
  t.same(floats('_x3'), ['omitted', 'omitted', 'omitted']);
  t.same(floats('Inf'), [Infinity]);
  t.same(floats('-Inf'), [-Infinity]);
  t.same(floats('+Inf'), [Infinity]);
  t.ok(Number.isNaN(floats('NaN')[0]));
  const stale = expandItem('stale');
  t.same(stale.length, 1);
  t.ok(stale[0]!.kind === 'float' && stale[0]!.stale === true);
  t.same(expandItem('{{schema:0 sum:1 count:2}}x2').map((v) => v.kind), ['histogram', 'histogram', 'histogram']);
  t.throws(() => expandItem('abc'));
  t.throws(() => expandItem('1+2'), /missing repetition/);
  t.same(splitItems(' 1  {{a:1 b:[1 2]}} 2\t3'), ['1', '{{a:1 b:[1 2]}}', '2', '3']);
});

t.test('series descriptions', async (t) => {
  t.same(parseSeriesDesc('http_requests{job="api", instance="0"} 1 2'), {
    labels: { __name__: 'http_requests', instance: '0', job: 'api' },
    values: [{ kind: 'float', value: 1 }, { kind: 'float', value: 2 }],
  });
  t.same(parseSeriesDesc('{} 3').labels, {});
  t.same(parseSeriesDesc('{a="b",} 3').labels, { a: 'b' });
  t.same(parseSeriesDesc('metric 3').labels, { __name__: 'metric' });
  t.same(parseSeriesDesc('metric{} 3').labels, { __name__: 'metric' });
  t.same(parseSeriesDesc('{"my.metric", "a.b"="c\\n"} 3').labels, { __name__: 'my.metric', 'a.b': 'c\n' });
  t.same(parseSeriesDesc(`{a='x"y'} 1`).labels, { a: 'x"y' });
  t.throws(() => parseSeriesDesc('{a=b} 1'));
});

const SCRIPT = `
# a comment
load 5m
  http_requests{job="api"}  0+10x10
  other 1 _ stale
  cumulative{type="x"}@st   _ -1mx2
  cumulative{type="x"}      _ 1 2 3

eval instant at 50m http_requests
  http_requests{job="api"} 100

eval range from 0 to 10m step 5m sum(http_requests)
  {} 0 10 20

eval instant at 0 1 + 1
  2

eval_fail instant at 0 foo(
  expected_fail_message unexpected end

eval instant at 5m topk(1, other)
  expect ordered
  expect no_warn
  expect info msg: PromQL info: hello (1:1)
  expect warn regex: ^PromQL
  other 1

eval instant at 1m "a"
  expect string "a"

eval instant at 1m other[1m]
  expect range vector from 0 to 1m step 1m
  other 1

eval instant at 1m absent(nothing)
  expect fail msg: boom

clear

load_with_nhcb 1m
  h_bucket{le="1"} 1

eval instant at 0 h_bucket
`;

t.test('script commands', async (t) => {
  const cmds = parseScript(SCRIPT);
  t.same(cmds.map((c) => c.type), ['load', 'eval', 'eval', 'eval', 'eval', 'eval', 'eval', 'eval', 'eval', 'clear', 'load', 'eval']);
  const load = cmds[0] as LoadCmd;
  t.equal(load.intervalMs, 300_000);
  t.equal(load.series.length, 3, 'an @st line is no series of its own');
  t.equal(load.series[0]!.values.length, 11);
  t.equal(load.series[0]!.startOffsets, undefined);
  t.same(load.series[2]!.startOffsets, [undefined, -60_000, -60_000, -60_000], 'the @st offsets go to the next series');
  t.equal((cmds[10] as LoadCmd).withNhcb, true);

  const inst = cmds[1] as EvalCmd;
  t.match(inst, { isRange: false, startMs: 3_000_000, expr: 'http_requests', expectScalar: false });
  t.same(inst.series[0]!.labels, { __name__: 'http_requests', job: 'api' });
  t.equal(inst.series[0]!.pos, 1);

  const rng = cmds[2] as EvalCmd;
  t.match(rng, { isRange: true, startMs: 0, endMs: 600_000, stepMs: 300_000, expr: 'sum(http_requests)' });
  t.equal(rng.series[0]!.values.length, 3);

  t.match(cmds[3], { expectScalar: true, scalar: 2, expr: '1 + 1' });
  t.match(cmds[4], { fail: true, expectedFailMessage: 'unexpected end', expr: 'foo(' });

  const annotated = cmds[5] as EvalCmd;
  t.same(annotated.expects.map((e) => e.type), ['ordered', 'no_warn', 'info', 'warn']);
  t.equal(annotated.expects[2]!.message, 'PromQL info: hello (1:1)');
  t.ok(annotated.expects[3]!.regex?.test('PromQL warning'));
  t.equal(annotated.series[0]!.pos, 1, 'expect lines do not count as positions');

  t.match(cmds[6], { expectedString: 'a', excludeFromRangeQuery: true });
  t.match(cmds[7], { rangeVector: { startMs: 0, endMs: 60_000, stepMs: 60_000 }, excludeFromRangeQuery: true });
  t.equal((cmds[8] as EvalCmd).expects[0]!.message, 'boom');
  t.same((cmds[11] as EvalCmd).series, [], 'an eval with no result lines expects an empty result');
});

t.test('script errors name the line', async (t) => {
  t.throws(() => parseScript('bogus'), ScriptError);
  t.throws(() => parseScript('\nload x\n  a 1\n'), { name: 'ScriptError', message: /^line 2: invalid step definition/ });
  t.throws(() => parseScript('eval instant at 0 a\n  a 1 2\n'), /expecting multiple values in instant evaluation not allowed/);
  t.throws(() => parseScript('eval range from 10m to 0 step 1m a\n'), /end timestamp \(0\) is before start timestamp \(10m\)/);
  t.throws(() => parseScript('eval instant at 0 a\n  expect bogus\n'), /invalid expect statement/);
});
