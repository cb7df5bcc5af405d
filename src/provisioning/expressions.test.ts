// expressions.test.ts checks the server-side expressions against Grafana's
// definitions: reduce (functions, strict/dropNN/replaceNN modes, empty
// series), math (operators, precedence, functions, label union), threshold
// (every evaluator), resample and classic_conditions.

import t from 'tap';
import { dependencies, evaluateExpression, ExpressionError, type NodeResult } from './expressions.js';

const series = (items: Array<[Record<string, string>, Array<number | null>]>): NodeResult => ({
  kind: 'series',
  items: items.map(([labels, vs]) => ({ labels, points: vs.map((v, i) => [(i + 1) * 10_000, v] as [number, number | null]) })),
});
const numbers = (items: Array<[Record<string, string>, number | null]>): NodeResult => ({ kind: 'number', items: items.map(([labels, value]) => ({ labels, value })) });
const values = (r: NodeResult): Array<number | null> => (r.kind === 'number' ? r.items.map((i) => i.value) : []);

t.test('reduce', async (t) => {
  const A = series([
    [{ h: 'a' }, [1, 2, 6]],
    [{ h: 'b' }, [4, null, NaN]],
    [{ h: 'c' }, []],
  ]);
  const red = (reducer: string, settings?: Record<string, unknown>): Array<number | null> => values(evaluateExpression('B', { type: 'reduce', expression: '$A', reducer, ...(settings ? { settings } : {}) }, () => A));
  t.same(red('last'), [6, NaN, NaN]);
  t.same(red('mean'), [3, NaN, NaN]);
  t.same(red('sum'), [9, NaN, 0]);
  t.same(red('count'), [3, 3, 0]);
  t.same(red('min'), [1, NaN, NaN]);
  t.same(red('max'), [6, NaN, NaN]);
  t.same(red('median'), [2, NaN, NaN]);
  t.same(red('mean', { mode: 'dropNN' }), [3, 4, NaN]);
  t.same(red('count', { mode: 'dropNN' }), [3, 1, 0]);
  t.same(red('sum', { mode: 'replaceNN', replaceWithValue: 10 }), [9, 24, 0]);
  const r = evaluateExpression('B', { type: 'reduce', expression: 'A', reducer: 'last' }, () => A);
  t.same(r.kind === 'number' ? r.items.map((i) => i.labels) : [], [{ h: 'a' }, { h: 'b' }, { h: 'c' }]);
  // A number passes through.
  const n = numbers([[{ h: 'x' }, 7]]);
  t.same(evaluateExpression('B', { type: 'reduce', expression: 'A', reducer: 'mean' }, () => n), n);
  t.throws(() => evaluateExpression('B', { type: 'reduce', expression: 'A', reducer: 'p99' }, () => A), ExpressionError);
});

t.test('math', async (t) => {
  const A = numbers([
    [{ h: 'a' }, 2],
    [{ h: 'b' }, 10],
  ]);
  const B = numbers([
    [{ h: 'a', x: '1' }, 3],
    [{ h: 'c' }, 100],
  ]);
  const input = (ref: string): NodeResult => (ref === 'A' ? A : B);
  const m = (expr: string): NodeResult => evaluateExpression('C', { type: 'math', expression: expr }, input);
  t.same(values(m('$A * 2 + 1')), [5, 21]);
  t.same(values(m('1 + 2 * 3 ^ 2')), [19]);
  t.same(values(m('(1 + 2) * 3')), [9]);
  t.same(values(m('$A > 5')), [0, 1]);
  t.same(values(m('$A > 1 && $A < 5')), [1, 0]);
  t.same(values(m('!($A == 2) || 0')), [0, 1]);
  t.same(values(m('abs(-$A) - 2')), [0, 8]);
  t.same(values(m('${A} % 3')), [2, 1]);
  // Union: label sets that are equal or subsets pair up; the result has the larger set.
  const u = m('$A + $B');
  t.same(u.kind === 'number' ? u.items : [], [{ labels: { h: 'a', x: '1' }, value: 5 }]);
  const s = evaluateExpression('C', { type: 'math', expression: '$S * 10' }, () => series([[{ h: 'a' }, [1, null, 3]]]));
  t.same(s.kind === 'series' ? s.items[0]!.points.map((p) => p[1]) : [], [10, null, 30]);
  t.same(dependencies({ type: 'math', expression: '$A + ${B} / $C1' }), ['A', 'B', 'C1']);
  t.throws(() => m('$A +'), ExpressionError);
  t.throws(() => m('nosuch($A)'), /unknown function nosuch/);
});

t.test('threshold', async (t) => {
  const B = numbers([
    [{ h: 'a' }, 1],
    [{ h: 'b' }, 5],
    [{ h: 'c' }, 10],
    [{ h: 'd' }, null],
  ]);
  const th = (type: string, params: number[]): Array<number | null> => values(evaluateExpression('C', { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type, params } }] }, () => B));
  t.same(th('gt', [4]), [0, 1, 1, null]);
  t.same(th('lt', [4]), [1, 0, 0, null]);
  t.same(th('within_range', [1, 10]), [0, 1, 0, null]);
  t.same(th('outside_range', [1, 10]), [0, 0, 0, null]);
  t.same(th('within_range_included', [1, 10]), [1, 1, 1, null]);
  t.same(th('outside_range_included', [10, 1]), [1, 0, 1, null]);
  t.throws(() => th('sideways', [1]), /unsupported threshold type 'sideways'/);
});

t.test('resample', async (t) => {
  const A: NodeResult = { kind: 'series', items: [{ labels: {}, points: [[1000, 1], [2000, 3], [5000, 5]] }] };
  const r = (down: string, up: string): Array<[number, number | null]> => {
    const x = evaluateExpression('B', { type: 'resample', expression: 'A', window: '2s', downsampler: down, upsampler: up }, () => A);
    return x.kind === 'series' ? x.items[0]!.points : [];
  };
  t.same(r('mean', 'pad'), [
    [2000, 2],
    [4000, 2],
    [6000, 5],
  ]);
  t.same(r('max', 'fillna'), [
    [2000, 3],
    [4000, NaN],
    [6000, 5],
  ]);
  t.same(r('last', 'backfilling')[1], [4000, 5]);
  t.throws(() => evaluateExpression('B', { type: 'resample', expression: 'A', window: 'x' }, () => A), /failed to parse resample "window" duration field "x"/);
});

t.test('classic conditions', async (t) => {
  const A = series([
    [{ h: 'a' }, [1, 2, 3]],
    [{ h: 'b' }, [10, 20, 30]],
  ]);
  const B = series([[{ h: 'a' }, [null, null]]]);
  const input = (ref: string): NodeResult => (ref === 'A' ? A : B);
  const cc = (conditions: unknown[]): NodeResult => evaluateExpression('C', { type: 'classic_conditions', conditions }, input);
  const cond = (ref: string, reducer: string, type: string, params: number[], op = 'and'): Record<string, unknown> => ({
    query: { params: [ref] },
    reducer: { type: reducer },
    evaluator: { type, params },
    operator: { type: op },
  });
  t.same(cc([cond('A', 'avg', 'gt', [15])]), { kind: 'number', items: [{ labels: {}, value: 1 }] });
  t.same(values(cc([cond('A', 'max', 'gt', [50])])), [0]);
  t.same(values(cc([cond('A', 'max', 'gt', [25]), cond('A', 'min', 'lt', [0], 'and')])), [0]);
  t.same(values(cc([cond('A', 'max', 'gt', [25]), cond('A', 'min', 'lt', [0], 'or')])), [1]);
  t.same(values(cc([cond('A', 'diff', 'gt', [19])])), [1]);
  t.same(values(cc([cond('B', 'avg', 'no_value', [])])), [1]);
  // Only empty series: no data.
  t.same(cc([cond('B', 'avg', 'gt', [0])]), { kind: 'number', items: [] });
});
