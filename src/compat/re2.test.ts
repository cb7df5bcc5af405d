import t from 'tap';
import { compileAnchored, compileRE2, re2Source, regexpError } from './re2.js';

t.test('RE2 patterns translate to JavaScript', async (t) => {
  t.ok(compileAnchored('[[:alpha:]]+[[:digit:]]').test('abc1'), 'POSIX classes');
  t.notOk(compileAnchored('[[:alpha:]]+').test('ab1'));
  t.ok(compileAnchored('(?i)abc').test('ABC'), 'case-insensitive flag');
  t.ok(compileAnchored('(?P<x>a)b').test('ab'), 'named group');
  t.ok(compileAnchored('a\\z').test('a'), '\\z');
  t.equal(re2Source('[]a]'), '[\\]a]', 'a leading ] is literal');
});

t.test('what RE2 refuses does not compile, with Go-worded errors', async (t) => {
  for (const bad of ['[abc', 'a(b', 'a)b', '*a', '(?x)a', 'a**']) t.equal(compileRE2(bad), undefined, bad);
  t.equal(regexpError('[abc'), 'error parsing regexp: missing closing ]: `[abc`');
  t.equal(regexpError('a(b'), 'error parsing regexp: missing closing ): `a(b`');
  t.equal(regexpError('(?=a)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
  t.equal(regexpError('[[:alpha:]]'), undefined);
  t.equal(regexpError('(?i:a)b'), undefined);
});
