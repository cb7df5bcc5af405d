// selector.test.ts checks series selector parsing: metric names, the four
// matcher operators, quoted UTF-8 names, PromQL string escapes, and error
// texts with Prometheus's line:column positions.

import t from 'tap';
import { MatchType } from '../../model/matchers.js';
import { ParseError } from './errors.js';
import { Lexer } from './lexer.js';
import { parseMetricSelector, parseVectorSelector } from './selector.js';
import { unquoteString } from './unquote.js';

const m = (name: string, type: MatchType, value: string): { name: string; type: MatchType; value: string } => ({ name, type, value });

t.test('selectors', async (t) => {
  t.same(parseMetricSelector('up'), [m('__name__', MatchType.Equal, 'up')]);
  t.same(parseMetricSelector('job:rate5m:sum'), [m('__name__', MatchType.Equal, 'job:rate5m:sum')]);
  t.same(parseMetricSelector('up{job="a", instance!="b", path=~"/api.*", code!~"5.."}'), [
    m('__name__', MatchType.Equal, 'up'),
    m('job', MatchType.Equal, 'a'),
    m('instance', MatchType.NotEqual, 'b'),
    m('path', MatchType.Regexp, '/api.*'),
    m('code', MatchType.NotRegexp, '5..'),
  ]);
  t.same(parseMetricSelector('{a="b",}'), [m('a', MatchType.Equal, 'b')], 'trailing comma');
  t.same(parseMetricSelector('  {a="b"}  # comment'), [m('a', MatchType.Equal, 'b')]);
  t.same(parseMetricSelector('{"my.metric", "a.b"="c"}'), [m('__name__', MatchType.Equal, 'my.metric'), m('a.b', MatchType.Equal, 'c')]);
  t.same(parseMetricSelector('{"ünïcødé"="✓"}'), [m('ünïcødé', MatchType.Equal, '✓')]);
  t.same(parseMetricSelector('sum{by="x"}'), [m('__name__', MatchType.Equal, 'sum'), m('by', MatchType.Equal, 'x')], 'keywords as names');
  t.same(parseMetricSelector('{a=""}'), [m('a', MatchType.Equal, '')], 'ParseMetricSelector leaves the emptiness check to the API');
});

t.test('string escapes', async (t) => {
  t.equal(unquoteString('"a\\nb\\t\\"q\\"\\\\"'), 'a\nb\t"q"\\');
  t.equal(unquoteString("'it\\'s'"), "it's");
  t.equal(unquoteString('`raw\\n`'), 'raw\\n');
  t.equal(unquoteString('"\\x41\\101\\u00e9\\U0001F600"'), 'AAé😀');
  t.equal(unquoteString('"\\xc3\\xa9"'), 'é', 'byte escapes form UTF-8');
  t.same(parseMetricSelector('{a=`x\\d+`}'), [m('a', MatchType.Equal, 'x\\d+')]);
  t.same(parseMetricSelector("{a='single \"q\"'}"), [m('a', MatchType.Equal, 'single "q"')]);
});

t.test('errors with positions', async (t) => {
  const fails = (input: string, message: string): void => {
    let err: unknown;
    try {
      parseMetricSelector(input);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ParseError, `${input} fails`);
    t.equal((err as Error | undefined)?.message, message, input);
  };
  fails('{a="b"', '1:7: parse error: unexpected end of input inside braces');
  fails('foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator');
  fails('foo{a="b" c="d"}', '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"');
  fails('foo{a=b}', '1:7: parse error: unexpected identifier "b" in label matching, expected string');
  fails('foo{=a}', '1:5: parse error: unexpected "=" in label matching, expected identifier or "}"');
  fails('foo{a="b}', '1:7: parse error: unterminated quoted string');
  fails('foo{a="\\q"}', "1:7: parse error: unknown escape sequence U+0071 'q'");
  fails('foo{a=`b}', '1:7: parse error: unterminated raw string');
  fails('foo{a@"b"}', "1:6: parse error: unexpected character inside braces: '@'");
  fails('foo bar', '1:5: parse error: unexpected identifier "bar"');
  fails('{ü="b"}', "1:2: parse error: unexpected character inside braces: 'ü'");
  fails('foo}', "1:4: parse error: unexpected character: '}'");
  fails('foo{"bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"');
  fails('{"a", "b"}', '1:7: parse error: metric name must not be set twice: "a" or "b"');
  fails('foo{\na="b",\nc}', '3:2: parse error: unexpected "}" in label matching, expected label matching operator');
  fails('{"ü"="b" x}', '1:11: parse error: unexpected identifier "x" in label matching, expected "," or "}"');
});

t.test('expression checks apply to vector selectors only', async (t) => {
  t.same(parseMetricSelector('foo{__name__="bar"}'), [m('__name__', MatchType.Equal, 'foo'), m('__name__', MatchType.Equal, 'bar')]);
  t.throws(() => parseVectorSelector('foo{__name__=~"bar"}'), { message: '1:1: parse error: metric name must not be set twice: "foo" or "bar"' });
});

t.test('vector selectors need a non-empty matcher', async (t) => {
  for (const q of ['{}', '{a=""}', '{a=~".*"}', '{a!~".+"}']) {
    t.throws(() => parseVectorSelector(q), { message: '1:1: parse error: vector selector must contain at least one non-empty matcher' }, q);
  }
  for (const q of ['up', '{a!=""}', '{a=~".+"}', '{a!~""}']) t.doesNotThrow(() => parseVectorSelector(q), q);
});

t.test('lexer tokens carry byte positions', async (t) => {
  const toks = new Lexer('rate(up{job="é"}[5m]) > 0.5').all();
  t.same(
    toks.map((x) => [x.type, x.value, x.pos]),
    [
      ['IDENTIFIER', 'rate', 0],
      ['LEFT_PAREN', '(', 4],
      ['IDENTIFIER', 'up', 5],
      ['LEFT_BRACE', '{', 7],
      ['IDENTIFIER', 'job', 8],
      ['EQL', '=', 11],
      ['STRING', '"é"', 12],
      ['RIGHT_BRACE', '}', 16],
      ['LEFT_BRACKET', '[', 17],
      ['DURATION', '5m', 18],
      ['RIGHT_BRACKET', ']', 20],
      ['RIGHT_PAREN', ')', 21],
      ['GTR', '>', 23],
      ['NUMBER', '0.5', 25],
      ['EOF', '', 28],
    ],
  );
  t.same(
    new Lexer('sum by (a) (x) offset 1h30m and on() y == bool 1e3').all().map((x) => x.type),
    ['SUM', 'BY', 'LEFT_PAREN', 'IDENTIFIER', 'RIGHT_PAREN', 'LEFT_PAREN', 'IDENTIFIER', 'RIGHT_PAREN', 'OFFSET', 'DURATION', 'LAND', 'ON', 'LEFT_PAREN', 'RIGHT_PAREN', 'IDENTIFIER', 'EQLC', 'BOOL', 'NUMBER', 'EOF'],
  );
  t.same(new Lexer('x[5m:1m] @ 1 Inf NaN 0x1F').all().map((x) => x.type), ['IDENTIFIER', 'LEFT_BRACKET', 'DURATION', 'COLON', 'DURATION', 'RIGHT_BRACKET', 'AT', 'NUMBER', 'NUMBER', 'NUMBER', 'NUMBER', 'EOF']);
});
