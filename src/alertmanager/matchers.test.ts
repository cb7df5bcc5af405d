import { test } from 'tap';
import { matchersString, matchesAll, parseMatcher, parseMatchers } from './matchers.js';

test('parseMatchers accepts what 0.35 accepts', async (t) => {
  t.same(
    parseMatchers('{alertname="Foo", instance=~"a|b", job!=x,  env !~ "dev.*"}').map((m) => [m.name, m.type, m.value]),
    [
      ['alertname', '=', 'Foo'],
      ['instance', '=~', 'a|b'],
      ['job', '!=', 'x'],
      ['env', '!~', 'dev.*'],
    ],
  );
  t.same(parseMatchers('foo=bar baz').map((m) => m.value), ['bar baz'], 'bare values run to the comma');
  const utf8 = parseMatcher('"service.name 🙂"="api \\"v2\\""');
  t.equal(utf8.name, 'service.name 🙂');
  t.equal(utf8.value, 'api "v2"');
  t.equal(matchersString([utf8]), '{"service.name 🙂"="api \\"v2\\""}');
  t.equal(matchersString(parseMatchers('a="x\\ny"')), '{a="x\\ny"}');
  t.throws(() => parseMatchers('a'), /bad matcher format/);
  t.throws(() => parseMatchers('{a="b"'), /expected close brace/);
  t.throws(() => parseMatchers('a=~"("'), /error parsing regexp/);
});

test('matching is anchored; missing labels are empty', async (t) => {
  const ms = parseMatchers('job=~"api|web", env!="prod", missing=""');
  t.ok(matchesAll(ms, { job: 'api', env: 'dev' }));
  t.notOk(matchesAll(ms, { job: 'apiserver', env: 'dev' }), 'regexps are anchored');
  t.notOk(matchesAll(ms, { job: 'web', env: 'prod' }));
  t.notOk(matchesAll(ms, { job: 'web', missing: 'x' }));
});
