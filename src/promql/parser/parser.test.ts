// parser.test.ts checks parseExpr against expectations taken from
// Prometheus's promql/parser parse_test.go and printer_test.go: valid
// queries with the String() form they print back to, invalid queries with
// the exact "line:col: parse error: ..." text, and the tree shapes the
// engine relies on (positions, offsets, @, ranges, matchers).

import t from 'tap';
import { MatchType } from '../../model/matchers.js';
import type { AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, NumberLiteral, SubqueryExpr, UnaryExpr, VectorSelector } from './ast.js';
import { ParseError } from './errors.js';
import { FUNCTIONS } from './functions.js';
import { exprType, parseDuration, parseExpr, parseNumber } from './parser.js';
import { formatExpr } from './printer.js';

/** VALID lists queries that parse, with the form String() prints ('' means unchanged). */
const VALID: Array<[query: string, printed: string]> = [
  // Numbers and scalar arithmetic.
  ['1', ''],
  ['+Inf', ''],
  ['-Inf', ''],
  ['inf', '+Inf'],
  ['NaN', ''],
  ['nAn', 'NaN'],
  ['.5', '0.5'],
  ['5.', '5'],
  ['123.4567', ''],
  ['5e-3', '0.005'],
  ['5e3', '5000'],
  ['0xc', '12'],
  ['0755', '493'],
  ['+5.5e-3', '0.0055'],
  ['-0755', '-493'],
  ['1_000', '1000'],
  ['1e21', '1000000000000000000000'],
  ['1e-7', '0.0000001'],
  ['1m', ''],
  ['1h30m', ''],
  ['90m', '1h30m'],
  ['-1m', ''],
  ['1m + 1', ''],
  ['1 + 1', ''],
  ['1 - 1', ''],
  ['1 * 1', ''],
  ['1 % 1', ''],
  ['1 / 1', ''],
  ['1 == bool 1', ''],
  ['1 != bool 1', ''],
  ['1 > bool 1', ''],
  ['1 >= bool 1', ''],
  ['1 < bool 1', ''],
  ['1 <= bool 1', ''],
  ['-1^2', '-1 ^ 2'],
  ['-1*2', '-1 * 2'],
  ['-1+2', '-1 + 2'],
  ['-1^-2', '-1 ^ -2'],
  ['+1 + -2 * 1', '1 + -2 * 1'],
  ['1 + 2/(3*1)', '1 + 2 / (3 * 1)'],
  ['1 < bool 2 - 1 * 2', ''],
  ['2 ^ 3 ^ 2', ''],
  ['- -1', '1'],
  ['-(1)', ''],
  ['1 atan2 2', ''],
  ['# comment\n1 # trailing', '1'],
  // Unary on vectors.
  ['-some_metric', ''],
  ['+some_metric', ''],
  [' +some_metric', '+some_metric'],
  [' +{"some_metric"}', '+{__name__="some_metric"}'],
  // Vector binary operations.
  ['foo * bar', ''],
  ['foo * sum', ''],
  ['foo == 1', ''],
  ['foo == bool 1', ''],
  ['2.5 / bar', ''],
  ['foo and bar', ''],
  ['foo or bar', ''],
  ['foo unless bar', ''],
  ['foo + bar or bla and blub', ''],
  ['foo and bar unless baz or qux', ''],
  ['bar + on(foo) bla / on(baz, buz) group_right(test) blub', 'bar + on (foo) bla / on (baz, buz) group_right (test) blub'],
  ['foo * on(test,blub) bar', 'foo * on (test, blub) bar'],
  ['foo * on(test,blub) group_left bar', 'foo * on (test, blub) group_left () bar'],
  ['foo and on(test,blub) bar', 'foo and on (test, blub) bar'],
  ['foo and on() bar', 'foo and on () bar'],
  ['foo and ignoring(test,blub) bar', 'foo and ignoring (test, blub) bar'],
  ['foo and ignoring() bar', 'foo and bar'],
  ['foo unless on(bar) baz', 'foo unless on (bar) baz'],
  ['foo / on(test,blub) group_left(bar) bar', 'foo / on (test, blub) group_left (bar) bar'],
  ['foo / ignoring(test,blub) group_left(blub) bar', 'foo / ignoring (test, blub) group_left (blub) bar'],
  ['foo - on(test,blub) group_right(bar,foo) bar', 'foo - on (test, blub) group_right (bar, foo) bar'],
  ['a - on(b) group_left() (c)', 'a - on (b) group_left () (c)'],
  ['up > bool 0', ''],
  ['a == bool on(x) b', 'a == bool on (x) b'],
  ['1 + on() foo', '1 + foo'],
  ['foo atan2 bar', ''],
  // Vector selectors.
  ['foo', ''],
  ['min', ''],
  ['by', ''],
  ['and', ''],
  ['start', ''],
  ['end', ''],
  ['start{end="foo"}', ''],
  ['end{start="foo"}', ''],
  ['foo offset 5m', ''],
  ['foo offset -7m', ''],
  ['foo OFFSET 1h30m', 'foo offset 1h30m'],
  ['foo OFFSET 1m30ms', 'foo offset 1m30ms'],
  ['foo offset 90m', 'foo offset 1h30m'],
  ['foo offset 0s', 'foo'],
  ['foo @ 1603774568', 'foo @ 1603774568.000'],
  ['foo @ -100', 'foo @ -100.000'],
  ['foo @ .3', 'foo @ 0.300'],
  ['foo @ 3.', 'foo @ 3.000'],
  ['foo @ 3.33', 'foo @ 3.330'],
  ['foo @ 3.3333', 'foo @ 3.333'],
  ['foo @ 3.3335', 'foo @ 3.334'],
  ['foo @ 3e2', 'foo @ 300.000'],
  ['foo @ 0xA', 'foo @ 10.000'],
  ['foo @ -3.3e1', 'foo @ -33.000'],
  ['foo @ 1m', 'foo @ 60.000'],
  ['foo @ start()', ''],
  ['foo @ end()', ''],
  ['foo offset 5m @ 10', 'foo @ 10.000 offset 5m'],
  ['foo:bar{a="bc"}', ''],
  ['{"foo"}', '{__name__="foo"}'],
  ['{"foo", a="bc"}', '{__name__="foo",a="bc"}'],
  ['foo{NaN=\'bc\'}', 'foo{NaN="bc"}'],
  ["foo{bar='}'}", 'foo{bar="}"}'],
  ['foo{a="b", foo!="bar", test=~"test", bar!~"baz"}', 'foo{a="b",bar!~"baz",foo!="bar",test=~"test"}'],
  ['foo{a="b", foo!="bar", test=~"test", bar!~"baz",}', 'foo{a="b",bar!~"baz",foo!="bar",test=~"test"}'],
  ['{__name__=~"bar", __name__!~"baz"}', '{__name__!~"baz",__name__=~"bar"}'],
  ['{__name__="bar", __name__="baz"}', '{__name__="bar",__name__="baz"}'],
  ['{"bar", __name__="baz"}', '{__name__="bar",__name__="baz"}'],
  ['{"my.metric", "a.b"="c"}', '{"a.b"="c",__name__="my.metric"}'],
  ['{"ünïcødé"="✓"}', '{"ünïcødé"="✓"}'],
  ['offset{step="1s"}[5m]', ''],
  ['step{offset="1s"}[5m]', ''],
  ['foo{a="\\n\\t\\"q\\""}', 'foo{a="\\n\\t\\"q\\""}'],
  ['foo{a=`x\\d+`}', 'foo{a="x\\\\d+"}'],
  ['foo{a=~"(?i)foo"}', ''],
  ['foo{a=~"(?i:foo)bar|[(?]"}', ''],
  ['{a=~"(?P<x>a)"}', ''],
  ['{a=~"\\\\pL+"}', ''],
  // Matrix selectors.
  ['test[1000ms]', 'test[1s]'],
  ['test[1001ms]', 'test[1s1ms]'],
  ['test[5s]', ''],
  ['test[5m]', ''],
  ['foo[5m30s]', ''],
  ['test[5h] OFFSET 5m', 'test[5h] offset 5m'],
  ['test[5d] OFFSET 10s', 'test[5d] offset 10s'],
  ['test[5w] offset 2w', ''],
  ['test{a="b"}[5y] OFFSET 3d', 'test{a="b"}[5y] offset 3d'],
  ['test{a="b"}[5m] OFFSET 3600', 'test{a="b"}[5m] offset 1h'],
  ['foo[3ms] @ 2.345', ''],
  ['foo[4s180ms] @ 2.345', ''],
  ['foo[4.18] @ 2.345', 'foo[4s180ms] @ 2.345'],
  ['foo[4s18ms] @ 2.345', ''],
  ['foo[4.018] @ 2.345', 'foo[4s18ms] @ 2.345'],
  ['test{a="b"}[5y] @ 1603774699', 'test{a="b"}[5y] @ 1603774699.000'],
  ['test[5]', 'test[5s]'],
  ['some_metric[5m] @ 1m', 'some_metric[5m] @ 60.000'],
  ['test[5y] @ start()', ''],
  ['test[5y] @ end()', ''],
  ['x[14d]', 'x[2w]'],
  ['x[100d]', ''],
  ['x[90m]', 'x[1h30m]'],
  ['a[12m] offset -3m', ''],
  // Aggregations.
  ['sum by (foo)(some_metric)', 'sum by (foo) (some_metric)'],
  ['avg by (foo)(some_metric)', 'avg by (foo) (some_metric)'],
  ['max by (foo)(some_metric)', 'max by (foo) (some_metric)'],
  ['sum without (foo) (some_metric)', ''],
  ['sum (some_metric) without (foo)', 'sum without (foo) (some_metric)'],
  ['stddev(some_metric)', ''],
  ['stdvar by (foo)(some_metric)', 'stdvar by (foo) (some_metric)'],
  ['sum by ()(some_metric)', 'sum(some_metric)'],
  ['sum by (foo,bar,)(some_metric)', 'sum by (foo, bar) (some_metric)'],
  ['sum by (foo,)(some_metric)', 'sum by (foo) (some_metric)'],
  ['sum without() (x)', 'sum without () (x)'],
  ['topk(5, some_metric)', ''],
  ['bottomk by (a) (5, some_metric)', 'bottomk by (a) (5, some_metric)'],
  ['count_values("value", some_metric)', ''],
  ['quantile(0.9, x)', ''],
  ['limitk(2, x)', ''],
  ['limit_ratio(0.5, x)', ''],
  ['group(x)', ''],
  ['sum without(and, by, avg, count, alert, annotations)(some_metric)', 'sum without (and, by, avg, count, alert, annotations) (some_metric)'],
  ['sum by ("foo bar")({"some.metric"})', 'sum by ("foo bar") ({__name__="some.metric"})'],
  ["sum by (\"foo\", bar, 'baz')({\"some.metric\"})", 'sum by (foo, bar, baz) ({__name__="some.metric"})'],
  ['sum(sum)', ''],
  ['a + sum', ''],
  ['sum by(code) (task:errors:rate10s{job="s"})', 'sum by (code) (task:errors:rate10s{job="s"})'],
  ['sum by (on, ignoring, group_left, bool) (x)', ''],
  // Function calls.
  ['time()', ''],
  ['pi()', ''],
  ['floor(some_metric{foo!="bar"})', ''],
  ['rate(some_metric[5m])', ''],
  ['round(some_metric)', ''],
  ['round(some_metric, 5)', ''],
  ['hour()', ''],
  ['vector(1m)', ''],
  ['label_replace(up, "a", "$1", "b", "(.*)")', ''],
  ['label_join(x, "a", ",", "b", "c", "d")', ''],
  ['sort_by_label(x, "a", "b")', ''],
  ['histogram_quantile(0.9, sum by (le) (rate(x[5m])))', ''],
  ['histogram_fraction(0, 0.2, x)', ''],
  ['double_exponential_smoothing(x[5m], 0.5, 0.5)', ''],
  ['mad_over_time(x[5m])', ''],
  ['ts_of_max_over_time(x[5m])', ''],
  ['info(rate(http_request_counter_total{}[5m]))', 'info(rate(http_request_counter_total[5m]))'],
  ['info(http_request_counter_total{namespace="zzz"}, {foo="bar", bar="baz"})', 'info(http_request_counter_total{namespace="zzz"}, {bar="baz",foo="bar"})'],
  // Strings.
  ['"double-quoted string \\" with escaped quote"', ''],
  ["'single-quoted string \\' with escaped quote'", '"single-quoted string \' with escaped quote"'],
  ['`backtick-quoted string`', '"backtick-quoted string"'],
  ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', ''],
  ['"\\x41\\101\\u00e9\\U0001F600"', '"AAé😀"'],
  // Subqueries.
  ['foo{bar="baz"}[10m:6s]', ''],
  ['foo{bar="baz"}[10m5s:1h6ms]', ''],
  ['foo[10m:]', ''],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:5s])', ''],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:])[4m:3s]', ''],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]', ''],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ 1603775091)[4m:3s]', 'min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ 1603775091.000)[4m:3s]'],
  ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ -160377509)[4m:3s]', 'min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ -160377509.000)[4m:3s]'],
  ['sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]', 'sum without (and, by, avg, count, alert, annotations) (some_metric)[30m:10s]'],
  ['some_metric OFFSET 1m [10m:5s]', 'some_metric offset 1m[10m:5s]'],
  ['some_metric @ 123 [10m:5s]', 'some_metric @ 123.000[10m:5s]'],
  ['some_metric @ 123 offset 1m [10m:5s]', 'some_metric @ 123.000 offset 1m[10m:5s]'],
  ['some_metric offset 1m @ 123 [10m:5s]', 'some_metric @ 123.000 offset 1m[10m:5s]'],
  ['some_metric[10m:5s] offset 1m @ 123', 'some_metric[10m:5s] @ 123.000 offset 1m'],
  ['(foo + bar{nm="val"})[5m:]', ''],
  ['(foo + bar{nm="val"})[5m:] offset 10m', ''],
  ['(foo + bar{nm="val"} @ 1234)[5m:] @ 1603775019', '(foo + bar{nm="val"} @ 1234.000)[5m:] @ 1603775019.000'],
  ['foo[10m:6s] @ start()', ''],
  ['foo[10m:6s] @ end()', ''],
  ['a[1h:5m] offset 1m', ''],
  ['foo unless on(start) bar', 'foo unless on (start) bar'],
  ['foo unless on(end) bar', 'foo unless on (end) bar'],
  ['foo offset 5s-8', 'foo offset 5s - 8'],
  ['foo offset -1^1', 'foo offset -1s ^ 1'],
  // Duration expressions (promql-duration-expr), from duration_expression.test.
  ['changes(http_requests[26m+4m])', 'changes(http_requests[26m + 4m])'],
  ['changes(http_requests[60*30])', 'changes(http_requests[60 * 30])'],
  ['changes(http_requests[2m*(10+5)])', 'changes(http_requests[2m * (10 + 5)])'],
  ['changes(http_requests[24m+((1.5*2m)+2m)])', 'changes(http_requests[24m + ((1.5 * 2m) + 2m)])'],
  ['changes(http_requests[-5m+35m])', 'changes(http_requests[-5m + 35m])'],
  ['changes(http_requests[1h30m % 1h])', ''],
  ['sum_over_time(metric1_total[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms])', 'sum_over_time(metric1_total[29s + 1s:((((8 - 2) / 3) * 7s) % 4) + 8s])'],
  ['sum_over_time(metric1_total[29s+1s:20*500ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms)))', 'sum_over_time(metric1_total[29s + 1s:20 * 500ms] offset -(20 * (((((8 - 2) / 3) * 7s) % 4) + 8s)))'],
  ['metric1_total offset (100 + 2)', ''],
  ['metric1_total offset 100 + 2', 'metric1_total offset 1m40s + 2'],
  ['metric1_total offset -2 ^ 2', 'metric1_total offset -2s ^ 2'],
  ['count_over_time(metric1_total[step()])', ''],
  ['count_over_time(metric1_total[1+(STep()-5)*2])', 'count_over_time(metric1_total[1 + (step() - 5) * 2])'],
  ['count_over_time(metric1_total[((max(min((step()+1),((1h))),1ms)))])', 'count_over_time(metric1_total[((max(min((step() + 1), ((1h))), 1ms)))])'],
  ['metric1_total offset STEP()', 'metric1_total offset step()'],
  ['metric1_total offset -step()*2', 'metric1_total offset -step() * 2'],
  ['metric1_total offset +min(step(), 1s)^0', 'metric1_total offset min(step(), 1s) ^ 0'],
  ['metric1_total offset -(min(step(), 2s)-5)+8000', 'metric1_total offset -(min(step(), 2s) - 5) + 8000'],
  ['metric1_total offset max(3s,min(step(), 1s))+8000', 'metric1_total offset max(3s, min(step(), 1s)) + 8000'],
  ['count_over_time(metric1_total[range()])', ''],
  ['metric1_total offset min(range(), 8s)', ''],
  ['foo[11s+10s-5*2^2]', 'foo[11s + 10s - 5 * 2 ^ 2]'],
  ['foo[-2^2]', 'foo[-2 ^ 2]'],
  ['foo[  -  step  (  )  ]', 'foo[-step()]'],
  ['foo[4s+4s:1s*2] offset (5s-8)', 'foo[4s + 4s:1s * 2] offset (5s - 8)'],
  // Fill modifiers (promql-binop-fill-modifiers).
  ['sum(foo) / on(label) fill_left(0) bar', 'sum(foo) / on (label) fill_left (0) bar'],
  ['foo / on(label) fill_right(0) bar', 'foo / on (label) fill_right (0) bar'],
  ['foo + fill(1) bar', 'foo + fill (1) bar'],
  ['foo + ignoring(a) group_left(b) fill_right(-1) fill_left(2) bar', 'foo + ignoring (a) group_left (b) fill_left (2) fill_right (-1) bar'],
  ['fill + fill', ''],
  // Extended range selectors (promql-extended-range-selectors).
  ['rate(foo[5m] anchored)', ''],
  ['increase(foo[5m] smoothed offset 1m)', ''],
  ['rate(foo[5m] anchored @ 100 offset 1m)', 'rate(foo[5m] anchored @ 100.000 offset 1m)'],
  ['rate(foo[5m] @ 100 ANCHORED)', 'rate(foo[5m] anchored @ 100.000)'],
  ['foo smoothed', ''],
  ['foo offset 1m smoothed', 'foo smoothed offset 1m'],
  ['anchored{job="test"}', ''],
  ['sum by (anchored, smoothed) (x)', ''],
  ['(sum(foo))', ''],
  ['(sum(foo) )', '(sum(foo))'],
  ['(sum(foo) by (bar))', '(sum by (bar) (foo))'],
  ['sum by (job)(rate(http_requests_total[30m]))', 'sum by (job) (rate(http_requests_total[30m]))'],
  // Query-context and scalar functions of newer Prometheus (functions.test); start and end stay metric names.
  ['start()', ''],
  ['end() - start()', ''],
  ['vector(end())', ''],
  ['step() * range()', ''],
  ['start @ end()', ''],
  ['start{a="b"} + end', ''],
  ['min_of(3, 5)', ''],
  ['max_of(NaN, 1)', ''],
  ['histogram_quantiles(x, "q", 0.5, 0.9)', ''],
  // min_of/max_of in duration expressions (duration_expression.test); printed as min/max.
  ['count_over_time(x[min_of(step()+1,1h)])', 'count_over_time(x[min(step() + 1, 1h)])'],
  ['x offset max_of(3s, min_of(step(), 1s))', 'x offset max(3s, min(step(), 1s))'],
  ['x offset -min_of(step(), 1s) + 8000', 'x offset -min(step(), 1s) + 8000'],
  // fill() takes any float (fill-modifier.test).
  ['foo + fill(Inf) bar', 'foo + fill (+Inf) bar'],
  ['foo + fill(-Inf) bar', 'foo + fill (-Inf) bar'],
  ['foo + fill(NaN) bar', 'foo + fill (NaN) bar'],
  // A string that is not valid UTF-8 prints back with its byte escapes.
  ['count_values("a\\xc5z", x)', ''],
];

/** INVALID lists queries that fail, with Prometheus's error text. */
const INVALID: Array<[query: string, error: string]> = [
  ['', 'unknown position: parse error: no expression found in input'],
  ['# just a comment\n\n', '1:1: parse error: no expression found in input'],
  ['1+', '1:3: parse error: unexpected end of input'],
  ['.', "1:1: parse error: unexpected character: '.'"],
  ['2.5.', '1:1: parse error: bad number or duration syntax: "2.5."'],
  ['100..4', '1:1: parse error: bad number or duration syntax: "100.."'],
  ['0deadbeef', '1:1: parse error: bad number or duration syntax: "0de"'],
  ['1 /', '1:4: parse error: unexpected end of input'],
  ['*1', '1:1: parse error: unexpected <op:*>'],
  ['(1))', "1:5: parse error: unexpected right parenthesis ')'"],
  ['((1)', '1:5: parse error: unclosed left parenthesis'],
  ['(', '1:2: parse error: unclosed left parenthesis'],
  ['9'.repeat(309), `1:1: parse error: error parsing number: strconv.ParseFloat: parsing "${'9'.repeat(309)}": value out of range`],
  ['1 and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
  ['1 or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
  ['1 unless 1', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'],
  ['1 !~ 1', "1:3: parse error: unexpected character after '!': '~'"],
  ['1 =~ 1', "1:3: parse error: unexpected character after '=': '~'"],
  ['-"string"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
  ['-test[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
  ['*test', '1:1: parse error: unexpected <op:*>'],
  ['@@', '1:1: parse error: unexpected <op:@>'],
  ['1 offset 1d', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo offset 1s offset 2s', '1:1: parse error: offset may not be set multiple times'],
  ['a - on(b) ignoring(c) d', '1:11: parse error: unexpected <ignoring>'],
  ['foo and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['1 and foo', '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ['foo or 1', '1:1: parse error: set operator "or" not allowed in binary scalar expression'],
  ['1 unless foo', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'],
  ['1 or on(bar) foo', '1:1: parse error: vector matching only allowed between instant vectors'],
  ['foo == on(bar) 10', '1:1: parse error: vector matching only allowed between instant vectors'],
  ['foo + group_left(baz) bar', '1:7: parse error: unexpected <group_left>'],
  ['foo and on(bar) group_left(baz) bar', '1:1: parse error: no grouping allowed for "and" operation'],
  ['foo and on(bar) group_right(baz) bar', '1:1: parse error: no grouping allowed for "and" operation'],
  ['foo or on(bar) group_left(baz) bar', '1:1: parse error: no grouping allowed for "or" operation'],
  ['foo unless on(bar) group_right(baz) bar', '1:1: parse error: no grouping allowed for "unless" operation'],
  ['http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"}', '1:35: parse error: label "instance" must not occur in ON and GROUP clause at once'],
  ['foo + bool bar', '1:5: parse error: bool modifier can only be used on comparison operators'],
  ['foo + bool 10', '1:5: parse error: bool modifier can only be used on comparison operators'],
  ['foo and bool 10', '1:5: parse error: bool modifier can only be used on comparison operators'],
  ['foo @ +Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'],
  ['foo @ -Inf', '1:1: parse error: timestamp out of bounds for @ modifier: -Inf'],
  ['foo @ NaN', '1:1: parse error: timestamp out of bounds for @ modifier: NaN'],
  ['foo @ 9223372036854775808.000000', '1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000'],
  ['foo @ 1e30', '1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000'],
  ['foo @ 1 @ 2', '1:1: parse error: @ <timestamp> may not be set multiple times'],
  ['foo @ start() @ end()', '1:1: parse error: @ <timestamp> may not be set multiple times'],
  ['{', '1:2: parse error: unexpected end of input inside braces'],
  ['}', "1:1: parse error: unexpected character: '}'"],
  ['some{', '1:6: parse error: unexpected end of input inside braces'],
  ['some}', "1:5: parse error: unexpected character: '}'"],
  ['some_metric{a=b}', '1:15: parse error: unexpected identifier "b" in label matching, expected string'],
  ['some_metric{a:b="b"}', "1:14: parse error: unexpected character inside braces: ':'"],
  ['foo{a*"b"}', "1:6: parse error: unexpected character inside braces: '*'"],
  ['foo{a>="b"}', "1:6: parse error: unexpected character inside braces: '>'"],
  ['foo{gibberish}', '1:14: parse error: unexpected "}" in label matching, expected label matching operator'],
  ['foo{1}', "1:5: parse error: unexpected character inside braces: '1'"],
  ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{x=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{x=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{x!~".+"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['{x!="a"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
  ['foo{"bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'],
  ['foo{__name__= =}', '1:15: parse error: unexpected "=" in label matching, expected string'],
  ['foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'],
  ['foo{__name__ == "bar"}', '1:15: parse error: unexpected "=" in label matching, expected string'],
  ['foo{__name__="bar" lol}', '1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}"'],
  ['foo{"a"=}', '1:9: parse error: unexpected "}" in label matching, expected string'],
  ['{a=~"(?i).*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo{a=~"(?=x)"}', '1:5: parse error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
  ['foo{a=~"a)"}', '1:5: parse error: error parsing regexp: unexpected ): `a)`'],
  ['foo{a=~"x**"}', '1:5: parse error: error parsing regexp: invalid nested repetition operator: `**`'],
  ['foo{a=~"("}', '1:5: parse error: error parsing regexp: missing closing ): `(`'],
  ['foo[5mm]', '1:5: parse error: bad number or duration syntax: "5mm"'],
  ['foo[5m1]', '1:5: parse error: bad number or duration syntax: "5m1"'],
  ['foo[5m:1m1]', '1:8: parse error: bad number or duration syntax: "1m1"'],
  ['foo[5y1hs]', '1:5: parse error: unknown unit "hs" in duration "5y1hs"'],
  ['foo[5m1h]', '1:5: parse error: not a valid duration string: "5m1h"'],
  ['foo[5m1m]', '1:5: parse error: not a valid duration string: "5m1m"'],
  ['foo[0m]', '1:5: parse error: duration must be greater than 0'],
  ['foo[-1]', '1:5: parse error: duration must be greater than 0'],
  ['foo[]', '1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'],
  ['some_metric[5m] OFFSET 1mm', '1:24: parse error: bad number or duration syntax: "1mm"'],
  ['some_metric[5m] OFFSET', '1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
  ['some_metric OFFSET 1m[5m]', '1:22: parse error: no offset modifiers allowed before range'],
  ['some_metric[5m] @', '1:18: parse error: unexpected end of input in @, expected timestamp'],
  ['some_metric @ 1234 [5m]', '1:20: parse error: no @ modifiers allowed before range'],
  ['(foo + bar)[5m]', '1:12: parse error: ranges only allowed for vector selectors'],
  ['foo offset 9.5e10', '1:12: parse error: duration out of range'],
  ['foo[9.5e10]', '1:5: parse error: duration out of range'],
  ['sum by ("foo)(some_metric{})', '1:9: parse error: unterminated quoted string'],
  ['sum without(==)(some_metric)', '1:13: parse error: unexpected <op:==> in grouping opts, expected label'],
  ['sum without(,)(some_metric)', '1:13: parse error: unexpected "," in grouping opts, expected label'],
  ['sum without(foo,,)(some_metric)', '1:17: parse error: unexpected "," in grouping opts, expected label'],
  ['sum by ("") (x)', '1:9: parse error: invalid label name for grouping: ""'],
  ['sum by (a:b) (x)', '1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label'],
  ['sum by (a b) (x)', '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'],
  ['sum some_metric by (test)', '1:5: parse error: unexpected identifier "some_metric"'],
  ['sum (some_metric) by test', '1:22: parse error: unexpected identifier "test" in grouping opts, expected "("'],
  ['sum () by (test)', '1:1: parse error: no arguments for aggregate expression provided'],
  ['MIN keep_common (some_metric)', '1:5: parse error: unexpected identifier "keep_common"'],
  ['MIN (some_metric) keep_common', '1:19: parse error: unexpected identifier "keep_common"'],
  ['sum (some_metric) without (test) by (test)', '1:34: parse error: unexpected <by>'],
  ['sum without (test) (some_metric) by (test)', '1:34: parse error: unexpected <by>'],
  ['sum by (a) b', '1:12: parse error: unexpected identifier "b" in aggregation'],
  ['topk(some_metric)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'],
  ['topk(some_metric,)', '1:17: parse error: trailing commas not allowed in function call args'],
  ['topk(some_metric, other_metric)', '1:6: parse error: expected type scalar in aggregation parameter, got instant vector'],
  ['count_values(5, other_metric)', '1:14: parse error: expected type string in aggregation parameter, got scalar'],
  ['sum(1)', '1:5: parse error: expected type instant vector in aggregation expression, got scalar'],
  ['rate(some_metric[5m]) @ 1234', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['floor()', '1:1: parse error: expected 1 argument(s) in call to "floor", got 0'],
  ['floor(some_metric, other_metric)', '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
  ['floor(some_metric, 1)', '1:1: parse error: expected 1 argument(s) in call to "floor", got 2'],
  ['floor(1)', '1:7: parse error: expected type instant vector in call to function "floor", got scalar'],
  ['hour(some_metric, some_metric, some_metric)', '1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3'],
  ['time(some_metric)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
  ['label_join(x, "a")', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 2'],
  ['non_existent_function_far_bar()', '1:1: parse error: unknown function with name "non_existent_function_far_bar"'],
  ['rate(some_metric)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['rate(avg)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
  ['holt_winters(x[5m], 0.5, 0.5)', '1:1: parse error: unknown function with name "holt_winters"'],
  ['label_replace(x, "a", "b", "c", 1)', '1:33: parse error: expected type string in call to function "label_replace", got scalar'],
  ['-=', '1:2: parse error: unexpected "="'],
  ['++-++-+-+-<', '1:11: parse error: unexpected <op:<>'],
  ['e-+=/(0)', '1:4: parse error: unexpected "="'],
  ['a>b()', '1:3: parse error: unknown function with name "b"'],
  ['`\\``', '1:4: parse error: unterminated raw string'],
  ['"\\', '1:1: parse error: escape sequence not terminated'],
  ['"\\c"', "1:1: parse error: unknown escape sequence U+0063 'c'"],
  ['"\\x."', "1:1: parse error: illegal character U+002E '.' in escape sequence"],
  ['test[5d] OFFSET 10s [10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['(foo + bar{nm="val"})[5m:][10m:5s]', '1:1: parse error: subquery is only allowed on instant vector, got matrix instead'],
  ['rate(food[1m])[1h] offset 1h', '1:15: parse error: ranges only allowed for vector selectors'],
  ['rate(food[1m])[1h] @ 100', '1:15: parse error: ranges only allowed for vector selectors'],
  ['1[5m:]', '1:1: parse error: subquery is only allowed on instant vector, got scalar instead'],
  ['start(1)', '1:1: parse error: expected 0 argument(s) in call to "start", got 1'],
  ['min_of(1)', '1:1: parse error: expected 2 argument(s) in call to "min_of", got 1'],
  ['histogram_quantiles(x, "q")', '1:1: parse error: expected at least 3 argument(s) in call to "histogram_quantiles", got 2'],
  ['info(rate(http_request_counter_total{}[5m]), target_info{foo="bar"})', '1:46: parse error: expected label selectors only, got vector selector instead'],
  ['info(http_request_counter_total{namespace="zzz"}, {foo="bar"} == 1)', '1:51: parse error: expected label selectors only'],
  ['sum(', '1:5: parse error: unclosed left parenthesis'],
  ['sum(rate(', '1:10: parse error: unclosed left parenthesis'],
  ['foo bar', '1:5: parse error: unexpected identifier "bar"'],
  ['(' + '-{}-1'.repeat(10000) + ')' + '[1m:]'.repeat(1000), '1:3: parse error: vector selector must contain at least one non-empty matcher'],
  ['foo[5m] [5m]', '1:9: parse error: ranges only allowed for vector selectors'],
  ['foo[5m:1m:1m]', '1:11: parse error: unexpected repeated colon in duration expression'],
  ['foo[:5m]', '1:6: parse error: unexpected colon before duration in duration expression'],
  ['foo["5m"]', `1:5: parse error: unexpected character in duration expression: '"'`],
  ['foo{bar="baz"}[', '1:16: parse error: unexpected end of input in duration expression'],
  ['foo[5s x 5s]', "1:8: parse error: unexpected character: 'x', expected ':'"],
  ['foo[5s s 5s]', "1:8: parse error: unexpected character: 's', expected ':'"],
  ['rate(foo[$__rate_interval])', "1:10: parse error: unexpected character in duration expression: '$'"],
  ['foo + fill(0) 1', '1:1: parse error: filling in missing series only allowed between instant vectors'],
  ['foo and fill(0) bar', '1:1: parse error: filling in missing series not allowed for set operators'],
  ['foo[5m] anchored smoothed', '1:1: parse error: anchored and smoothed modifiers cannot be used together'],
  ['foo[5m:] anchored', '1:1: parse error: anchored modifier is not supported for subqueries'],
  ['sum(foo) smoothed', '1:1: parse error: smoothed modifier not implemented'],
  ['foo[step()/0d]', '1:11: parse error: division by zero'],
  ['foo[5s/0d]', '1:7: parse error: division by zero'],
  ['foo offset (4d/0)', '1:15: parse error: division by zero'],
  ['foo[5s%0d]', '1:7: parse error: modulo by zero'],
  ['foo[step]', `1:5: parse error: unexpected character in duration expression: 's'`],
  ['foo[min(1s)]', '1:11: parse error: unexpected ")" in duration expression, expected ","'],
  ['foo[5m', '1:7: parse error: unexpected end of input in duration expression'],
  ['sum(x) offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'],
  ['foo offset', '1:11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
  ['foo @ bar', '1:7: parse error: unexpected identifier "bar" in @, expected timestamp'],
  ['x and on(a) group_left y', '1:1: parse error: no grouping allowed for "and" operation'],
  ['1 +\n  on(a) *', '2:9: parse error: unexpected <op:*>'],
  ['foo (1)', '1:1: parse error: unknown function with name "foo"'],
  ['foo{a="b"}\n  + bar{', '2:9: parse error: unexpected end of input inside braces'],
];

function parseError(query: string): string {
  try {
    parseExpr(query);
  } catch (err) {
    if (err instanceof ParseError) return err.message;
    throw err;
  }
  return '<no error>';
}

t.test('valid expressions print back as Prometheus does', async (t) => {
  for (const [query, printed] of VALID) {
    let got: string;
    try {
      got = formatExpr(parseExpr(query));
    } catch (err) {
      got = `<error: ${(err as Error).message}>`;
    }
    t.equal(got, printed === '' ? query : printed, JSON.stringify(query));
  }
});

t.test('invalid expressions fail with Prometheus error texts', async (t) => {
  for (const [query, error] of INVALID) t.equal(parseError(query), error, JSON.stringify(query.length > 60 ? `${query.slice(0, 60)}...` : query));
});

t.test('printing is a fixed point', async (t) => {
  for (const [query] of VALID) {
    const once = formatExpr(parseExpr(query));
    t.equal(formatExpr(parseExpr(once)), once, JSON.stringify(query));
  }
});

t.test('tree shapes', async (t) => {
  t.same(parseExpr('1m'), { type: 'NumberLiteral', val: 60, duration: true, pos: { start: 0, end: 2 } });
  const num = parseExpr('-0755') as NumberLiteral;
  t.same(num, { type: 'NumberLiteral', val: -493, pos: { start: 0, end: 5 } });

  const pow = parseExpr('-1^2') as UnaryExpr;
  t.equal(pow.type, 'UnaryExpr');
  t.equal(pow.op, '-');
  t.same((pow.expr as BinaryExpr).lhs, { type: 'NumberLiteral', val: 1, pos: { start: 1, end: 2 } });

  const unary = parseExpr(' +some_metric') as UnaryExpr;
  t.same(unary.pos, { start: 1, end: 13 });
  t.same(unary.expr.pos, { start: 2, end: 13 });

  const vs = parseExpr('foo{a="b", c!~"d"} offset 5m @ 100') as VectorSelector;
  t.equal(vs.name, 'foo');
  t.same(vs.matchers, [
    { name: 'a', type: MatchType.Equal, value: 'b' },
    { name: 'c', type: MatchType.NotRegexp, value: 'd' },
    { name: '__name__', type: MatchType.Equal, value: 'foo' },
  ]);
  t.equal(vs.offsetMs, 300000);
  t.same(vs.at, { kind: 'timestamp', ms: 100000 });
  t.same(vs.pos, { start: 0, end: 34 });

  const quoted = parseExpr('{"some.metric", "a b"="c"}') as VectorSelector;
  t.equal(quoted.name, '');
  t.same(quoted.matchers, [
    { name: '__name__', type: MatchType.Equal, value: 'some.metric' },
    { name: 'a b', type: MatchType.Equal, value: 'c' },
  ]);

  t.same((parseExpr('foo @ -3.3e1') as VectorSelector).at, { kind: 'timestamp', ms: -33000 });
  t.same((parseExpr('foo @ 3.3335') as VectorSelector).at, { kind: 'timestamp', ms: 3334 });
  t.same((parseExpr('foo @ end()') as VectorSelector).at, { kind: 'end' });
  t.equal((parseExpr('foo offset -7m') as VectorSelector).offsetMs, -420000);

  const ms = parseExpr('test{a="b"}[5y] OFFSET 3d') as MatrixSelector;
  t.equal(ms.type, 'MatrixSelector');
  t.equal(ms.rangeMs, 5 * 365 * 24 * 3600 * 1000);
  t.equal(ms.vs.offsetMs, 3 * 24 * 3600 * 1000);
  t.same(ms.vs.pos, { start: 0, end: 11 });
  t.same(ms.pos, { start: 0, end: 25 });
  t.equal((parseExpr('foo[4.018]') as MatrixSelector).rangeMs, 4018);

  const sq = parseExpr('min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]') as SubqueryExpr;
  t.equal(sq.type, 'SubqueryExpr');
  t.equal(sq.rangeMs, 240000);
  t.equal(sq.stepMs, 3000);
  t.same(sq.pos, { start: 0, end: 61 });
  const inner = (sq.expr as Call).args[0] as SubqueryExpr;
  t.equal(inner.stepMs, 0, 'default step');
  t.equal(inner.offsetMs, 240000);
  t.same(inner.pos, { start: 14, end: 53 });
  t.same((parseExpr('foo[10m:6s] @ start()') as SubqueryExpr).at, { kind: 'start' });

  const agg = parseExpr('sum (some_metric) without (foo)') as AggregateExpr;
  t.equal(agg.op, 'sum');
  t.equal(agg.without, true);
  t.same(agg.grouping, ['foo']);
  t.equal(agg.param, undefined);
  t.same(agg.pos, { start: 0, end: 31 });
  const topk = parseExpr('topk(5, some_metric)') as AggregateExpr;
  t.same(topk.param, { type: 'NumberLiteral', val: 5, pos: { start: 5, end: 6 } });
  t.same((parseExpr('count_values("value", x)') as AggregateExpr).param, { type: 'StringLiteral', val: 'value', pos: { start: 13, end: 20 } });
  t.same((parseExpr('sum by ()(x)') as AggregateExpr).grouping, []);

  const bin = parseExpr('bar + on(foo) bla / on(baz, buz) group_right(test) blub') as BinaryExpr;
  t.equal(bin.op, '+');
  t.same(bin.matching, { card: 'one-to-one', on: true, labels: ['foo'], include: [] });
  const rhs = bin.rhs as BinaryExpr;
  t.equal(rhs.op, '/');
  t.same(rhs.matching, { card: 'one-to-many', on: true, labels: ['baz', 'buz'], include: ['test'] });
  t.same((parseExpr('foo and bar') as BinaryExpr).matching, { card: 'many-to-many', on: false, labels: [], include: [] });
  t.equal((parseExpr('foo == 1') as BinaryExpr).matching, undefined, 'no matching with a scalar side');
  t.equal((parseExpr('foo > bool 1') as BinaryExpr).returnBool, true);
  const andOr = parseExpr('foo + bar or bla and blub') as BinaryExpr;
  t.equal(andOr.op, 'or');
  t.equal((andOr.lhs as BinaryExpr).op, '+');
  t.equal((andOr.rhs as BinaryExpr).op, 'and');
  const right = parseExpr('2 ^ 3 ^ 2') as BinaryExpr;
  t.equal(right.lhs.type, 'NumberLiteral', '^ is right-associative');
  const left = parseExpr('8 / 4 / 2') as BinaryExpr;
  t.equal(left.rhs.type, 'NumberLiteral', '/ is left-associative');

  const call = parseExpr('rate(some_metric[5m])') as Call;
  t.equal(call.func, 'rate');
  t.same(call.pos, { start: 0, end: 21 });
  t.same(parseExpr('time()'), { type: 'Call', func: 'time', args: [], pos: { start: 0, end: 6 } });

  const paren = parseExpr('(sum(foo) )');
  t.same(paren.pos, { start: 0, end: 11 });
  t.equal(paren.type, 'ParenExpr');
});

t.test('expression types', async (t) => {
  const cases: Array<[string, string]> = [
    ['1', 'scalar'],
    ['"a"', 'string'],
    ['foo', 'vector'],
    ['foo[5m]', 'matrix'],
    ['foo[5m:]', 'matrix'],
    ['1 + 1', 'scalar'],
    ['1 + foo', 'vector'],
    ['(1)', 'scalar'],
    ['-foo', 'vector'],
    ['scalar(foo)', 'scalar'],
    ['sum(foo)', 'vector'],
  ];
  for (const [q, typ] of cases) t.equal(exprType(parseExpr(q) as Expr), typ, q);
});

t.test('experimental functions can be switched off', async (t) => {
  const off = { experimentalFunctions: false };
  t.throws(() => parseExpr('mad_over_time(x[5m])', off), { message: '1:1: parse error: function "mad_over_time" is not enabled' });
  t.throws(() => parseExpr('limitk(1, x)', off), {
    message: '1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions',
  });
  t.doesNotThrow(() => parseExpr('rate(x[5m])', off));
});

t.test('duration expressions can be switched off', async (t) => {
  const off = { durationExpressions: false };
  const cases: Array<[string, string]> = [
    ['foo[5m+1m]', '1:5: parse error: experimental duration expression is not enabled'],
    ['foo[step()]', '1:5: parse error: experimental duration expression is not enabled'],
    ['foo[5m:1m*2]', '1:8: parse error: experimental duration expression is not enabled'],
    ['foo[-5m+10m]', '1:5: parse error: experimental duration expression is not enabled'],
    ['foo offset (5m)', '1:12: parse error: experimental duration expression is not enabled'],
    ['foo offset step()', '1:12: parse error: experimental duration expression is not enabled'],
  ];
  for (const [q, message] of cases) t.throws(() => parseExpr(q, off), { message }, q);
  t.equal(formatExpr(parseExpr('foo[5m:1m] offset -1m', off)), 'foo[5m:1m] offset -1m');
});

t.test('fill modifiers', async (t) => {
  const b = parseExpr('foo / on(label) fill_left(0) fill_right(1m) bar') as BinaryExpr;
  t.same(b.matching, { card: 'one-to-one', on: true, labels: ['label'], include: [], fill: { lhs: 0, rhs: 60 } });
  t.throws(() => parseExpr('foo + fill(0) bar', { binopFillModifiers: false }), { message: '1:1: parse error: binop fill modifiers are experimental and not enabled' });
});

t.test('extended range selectors can be switched off', async (t) => {
  t.throws(() => parseExpr('rate(foo[5m] anchored)', { extendedRangeSelectors: false }), { message: '1:6: parse error: anchored modifier is experimental and not enabled' });
  const vs = (parseExpr('rate(foo[5m] anchored)') as Call).args[0] as MatrixSelector;
  t.equal(vs.vs.anchored, true);
  t.equal((parseExpr('foo smoothed') as VectorSelector).smoothed, true);
});

t.test('duration expression trees', async (t) => {
  const m = (parseExpr('count_over_time(x[step()+1ms])') as Call).args[0] as MatrixSelector;
  t.equal(m.rangeMs, 0, 'resolved per query by the engine');
  t.same(m.rangeExpr, {
    type: 'BinaryExpr',
    op: '+',
    lhs: { type: 'Call', func: 'step', args: [], pos: { start: 18, end: 24 } },
    rhs: { type: 'NumberLiteral', val: 0.001, duration: true, pos: { start: 25, end: 28 } },
    returnBool: false,
    pos: { start: 18, end: 28 },
  });
  const folded = parseExpr('x[29s+1s:20*500ms] offset (1m)') as SubqueryExpr;
  t.equal(folded.rangeMs, 30000, 'constant range folded');
  t.equal(folded.stepMs, 10000, 'constant step folded');
  t.equal(folded.offsetMs, 60000, 'constant offset folded');
  t.ok(folded.rangeExpr && folded.stepExpr && folded.offsetExpr, 'expressions kept for printing');
  const minOf = parseExpr('x offset min(range(), 8s)') as VectorSelector;
  t.equal(minOf.offsetExpr?.type === 'Call' ? minOf.offsetExpr.func : '', 'min_of');
  t.equal((parseExpr('x offset -7m') as VectorSelector).offsetExpr, undefined, 'plain offsets have no expression');
});

t.test('string literals that are not valid UTF-8', async (t) => {
  const lit = (q: string): Expr => (parseExpr(q) as AggregateExpr).param!;
  t.match(lit('count_values("a\\xc5z", x)'), { type: 'StringLiteral', val: 'a\ufffdz', invalidUtf8: '"a\\xc5z"' });
  t.match(lit("count_values('\\xff\\xfe', x)"), { val: '\ufffd\ufffd', invalidUtf8: '"\\xff\\xfe"' });
  t.equal((lit('count_values("\\xc3\\xa9", x)') as { invalidUtf8?: string }).invalidUtf8, undefined, 'valid UTF-8 from byte escapes');
  t.equal((lit('count_values("\\ufffd", x)') as { invalidUtf8?: string }).invalidUtf8, undefined, 'a real U+FFFD is valid');
});

t.test('functions table', async (t) => {
  t.equal(FUNCTIONS.holt_winters, undefined, 'holt_winters is gone in Prometheus 3');
  t.same(FUNCTIONS.round, { name: 'round', argTypes: ['vector', 'scalar'], variadic: 1, returnType: 'vector', experimental: false });
  t.same(FUNCTIONS.label_join?.variadic, -1);
  t.equal(FUNCTIONS.info?.experimental, true);
  t.equal(FUNCTIONS.time?.returnType, 'scalar');
  for (const name of ['step', 'range', 'start', 'end', 'min_of', 'max_of', 'histogram_quantiles']) t.ok(FUNCTIONS[name], name);
  t.equal(FUNCTIONS.start?.returnType, 'scalar');
  for (const name of ['histogram_avg', 'histogram_count', 'histogram_sum', 'histogram_stddev', 'histogram_stdvar', 'histogram_fraction', 'histogram_quantile', 'sort_by_label_desc', 'double_exponential_smoothing', 'ts_of_min_over_time', 'ts_of_last_over_time', 'present_over_time', 'day_of_year']) {
    t.ok(FUNCTIONS[name], name);
  }
});

t.test('numbers and durations', async (t) => {
  t.equal(parseNumber('0x1F'), 31);
  t.equal(parseNumber('0755'), 493);
  t.equal(parseNumber('089'), 89, 'not octal: falls back to ParseFloat');
  t.equal(parseNumber('1_000.5'), 1000.5);
  t.equal(parseNumber('InF'), Infinity);
  t.ok(Number.isNaN(parseNumber('nan') as number));
  t.equal(parseDuration('1h30m'), 5400000);
  t.equal(parseDuration('1y2w3d4h5m6s7ms'), 31536000000 + 2 * 604800000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6000 + 7);
  t.equal(parseDuration('0'), 0);
  t.same(parseDuration('5m1h'), { error: 'not a valid duration string: "5m1h"' });
  t.same(parseDuration('1x'), { error: 'unknown unit "x" in duration "1x"' });
  t.same(parseDuration('300y'), { error: 'duration out of range' });
});
