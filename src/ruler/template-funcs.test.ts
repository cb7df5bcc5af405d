// template-funcs.test.ts checks Prometheus's template helpers that need no
// engine against the outputs of Prometheus's own template tests: humanize,
// humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, and
// Go's %.4g.

import t from 'tap';
import { formatG, humanize, humanize1024, humanizeDuration, humanizeTimestamp, templateFuncs } from './template-funcs.js';

const join = (f: (v: unknown) => string, input: unknown[]): string => input.map((v) => f(v) + ':').join('');

t.test('humanize family as Prometheus', async (t) => {
  t.equal(join(humanize, [0, 1, 1234567, 0.12]), '0:1:1.235M:120m:');
  t.equal(join(humanize, ['0.0', '1.0', '1234567.0', '.12']), '0:1:1.235M:120m:');
  t.equal(join(humanize, [0, -1, 1, 1234567, 9223372036854775807]), '0:-1:1:1.235M:9.223E:');
  t.throws(() => humanize('one'), { message: 'strconv.ParseFloat: parsing "one": invalid syntax' });
  t.equal(join(humanize1024, [0, 1, 1048576, 0.12]), '0:1:1Mi:0.12:');
  t.equal(join(humanize1024, [0, -1, 1, 1234567, 9223372036854775807]), '0:-1:1:1.177Mi:8Ei:');
  t.equal(join(humanizeDuration, [0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99]), '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:');
  t.equal(join(humanizeDuration, [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]), '100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:');
  t.equal(join(humanizeDuration, [0, -1, 1, 1234567]), '0s:-1s:1s:14d 6h 56m 7s:');
  for (const f of [humanize, humanize1024, humanizeDuration, humanizeTimestamp]) t.equal(join(f, [Infinity, -Infinity, NaN]), '+Inf:-Inf:NaN:');
  t.equal(join(humanizeTimestamp, [0, -1, 1, 1234567, 9223372036]), '1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:');
  t.equal(humanizeTimestamp(1.5), '1970-01-01 00:00:01.5 +0000 UTC');
});

t.test('humanizePercentage and %.4g', async (t) => {
  const f = templateFuncs({ tsMs: 1_000_000, externalURL: 'http://x.example/prom/', lookup: () => [] });
  const pct = f.humanizePercentage!;
  t.equal([-0.22222, 0, 0.1234567, 1.23456].map((v) => pct(v)).join(':'), '-22.22%:0%:12.35%:123.5%');
  t.equal([0, -1, 1, 1234567, 9223372036854775807].map((v) => pct(v)).join(':'), '0%:-100%:100%:1.235e+08%:9.223e+20%');
  t.equal(formatG(1e-7), '1e-07');
  t.equal(formatG(123456), '1.235e+05');
  t.equal(formatG(0.0001234), '0.0001234');
  t.equal(f.pathPrefix!(), '/prom');
  t.equal(f.now!(), 1000);
  t.equal(f.parseDuration!('1h30m'), 5400);
  t.equal(f.parseDuration!('-5m'), -300);
  t.equal(f.reReplaceAll!('(a+)(b)', '${2}-$1', 'xaab'), 'xb-aa');
  t.equal(f.match!('^a.c$', 'abc'), true);
  t.equal(f.title!('hello world-wide'), 'Hello World-Wide');
  t.equal(f.stripPort!('foo.example.com:9090'), 'foo.example.com');
  t.equal(f.stripDomain!('foo.example.com:9090'), 'foo:9090');
  t.equal(f.stripDomain!('192.0.2.1:9090'), '192.0.2.1:9090');
  t.equal(f.tableLink!('up == 0'), '/graph?g0.expr=up+%3D%3D+0&g0.tab=1');
  t.same(f.args!(1, 'a'), { arg0: 1, arg1: 'a' });
  t.throws(() => f.first!([]), { message: 'first() called on vector with no elements' });
  const sorted = f.sortByLabel!('i', [{ Labels: { i: 'b' }, Value: 1 }, { Labels: { i: 'a' }, Value: 2 }]) as Array<{ Value: number }>;
  t.same(sorted.map((s) => s.Value), [2, 1]);
});
