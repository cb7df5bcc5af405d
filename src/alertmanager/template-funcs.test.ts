import { test } from 'tap';
import { formatG as formatG4, humanizeDuration, reReplaceAll } from '../template/humanize.js';
import { formatGoLayout, TEMPLATE_FUNCS, title, urlUnescape } from './template-funcs.js';
import { buildTemplateData } from './notifiers/notifier.js';

// Expected values below were produced by Go 1.26 (fmt, time, regexp, net/url) for the same inputs.

test('humanizeDuration as Prometheus common/templates', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0s'], [1, '1s'], [1.5, '1.5s'], [12.3456, '12.35s'], [59.99, '59.99s'], [60, '1m 0s'], [3599, '59m 59s'], [3600, '1h 0m 0s'],
    [86399, '23h 59m 59s'], [90061, '1d 1h 1m 1s'], [-90061, '-1d 1h 1m 1s'], [0.5, '500ms'], [0.012345, '12.35ms'], [1.5e-7, '150ns'],
    [123456.7, '1d 10h 17m 36s'], [1e-30, '1e-06ys'],
  ];
  for (const [v, want] of cases) t.equal(humanizeDuration(v), want, String(v));
  t.equal(humanizeDuration('90'), '1m 30s', 'numeric strings are parsed');
  t.throws(() => humanizeDuration('abc'));
  t.equal(formatG4(123456), '1.235e+05');
  t.equal(formatG4(0.0001234), '0.0001234');
});

test('date formats Go reference layouts; tz moves the zone', async (t) => {
  const d = new Date(Date.UTC(2026, 2, 5, 7, 8, 9, 12));
  const cases: Array<[string, string]> = [
    ['2006-01-02T15:04:05Z07:00', '2026-03-05T07:08:09Z'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2026-03-05T07:08:09.012Z'],
    ['Mon, 02 Jan 2006 15:04:05 -0700', 'Thu, 05 Mar 2026 07:08:09 +0000'],
    ['3:04PM', '7:08AM'],
    ['2006-01-02 15:04:05.000 MST', '2026-03-05 07:08:09.012 UTC'],
    ['Mon Jan _2 3:4:5 PM 06', 'Thu Mar  5 7:8:9 AM 26'],
    ['Monday, January 2 2006 .999', 'Thursday, March 5 2026 .012'],
    ['002 __2 -0700 Z07:00', '064  64 +0000 Z'],
  ];
  for (const [layout, want] of cases) t.equal(formatGoLayout(layout, d), want, layout);
  const tz = TEMPLATE_FUNCS.tz as (n: string, d: Date) => unknown;
  const date = TEMPLATE_FUNCS.date as (l: string, d: unknown) => string;
  t.equal(date('2006-01-02 15:04:05 MST -07:00', tz('America/New_York', d)), '2026-03-05 02:08:09 EST -05:00');
  t.throws(() => tz('Mars/Olympus', d), /unknown time zone Mars\/Olympus/);
});

test('reReplaceAll, urlUnescape, title, join, match, stringSlice', async (t) => {
  t.equal(reReplaceAll('(\\w+)@(?P<dom>[a-z.]+)', '${dom}:$1 $$ $2x $9', 'mail bob@example.org and amy@x.io'), 'mail example.org:bob $   and x.io:amy $  ');
  t.equal(urlUnescape('a%20b+c%C3%A9'), 'a b cé');
  t.throws(() => urlUnescape('bad%zz'), /invalid URL escape "%zz"/);
  t.equal(title('hello wORLD foo-bar'), 'Hello World Foo-Bar');
  const f = TEMPLATE_FUNCS as Record<string, (...a: unknown[]) => unknown>;
  t.equal(f.join?.(', ', ['a', 'b']), 'a, b');
  t.equal(f.match?.('^a.c$', 'abc'), true);
  t.equal(f.match?.('b', 'abc'), true, 'match is unanchored as regexp.MatchString');
  t.same(f.stringSlice?.('a', 'b'), ['a', 'b']);
  t.equal(f.trimSpace?.('  x \n'), 'x');
  t.equal(f.toUpper?.('ab'), 'AB');
  t.equal(f.base64encode?.('a?b>'), 'YT9iPg==');
  t.equal(f.base64decode?.('YT9iPg=='), 'a?b>');
  t.throws(() => f.dict?.('a'), /dict requires an even number of arguments/);
});

test('toJson renders alerts as json.Marshal of template.Alerts', async (t) => {
  const data = buildTemplateData('r', '{}', {}, [
    { labels: { alertname: 'A', x: '<1>' }, annotations: {}, startsAt: Date.parse('2026-01-01T00:00:00Z'), endsAt: 0, generatorURL: 'http://g', updatedAt: 0, timeout: false },
  ], 'http://am', Date.parse('2026-01-01T00:01:00Z'));
  const toJson = TEMPLATE_FUNCS.toJson as (v: unknown) => string;
  t.equal(
    toJson(data.Alerts.Firing()),
    `[{"status":"firing","labels":{"alertname":"A","x":"\\u003c1\\u003e"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g","fingerprint":"${data.Alerts[0]?.Fingerprint}"}]`,
  );
  t.equal(toJson(data.Alerts.Resolved()), '[]');
});
