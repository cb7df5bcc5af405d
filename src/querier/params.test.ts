// params.test.ts checks the Prometheus API parameter parsing (times, limit,
// match[], U__ label names) and the pre-encoded JSON truncation.

import t from 'tap';
import { ApiError } from '../errors.js';
import { truncateJsonArray } from './metadata.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseLimitParam, parseMatchersParam, parseTime, parseTimeParam, unescapeLabelName } from './params.js';

t.test('times', async (t) => {
  t.equal(parseTime('1700000000'), 1_700_000_000_000);
  t.equal(parseTime('1700000000.123'), 1_700_000_000_123);
  t.equal(parseTime('1700000000.1234'), 1_700_000_000_123, 'rounded to ms');
  t.equal(parseTime('-1.5'), -1500);
  t.equal(parseTime('1e3'), 1_000_000);
  t.equal(parseTime('2026-01-02T03:04:05Z'), Date.UTC(2026, 0, 2, 3, 4, 5));
  t.equal(parseTime('2026-01-02T03:04:05.678+01:00'), Date.UTC(2026, 0, 2, 2, 4, 5, 678));
  t.equal(parseTime('-292273086-05-16T16:47:06Z'), MIN_TIME_MS);
  t.equal(parseTime('292277025-08-18T07:12:54.999999999Z'), MAX_TIME_MS);
  t.throws(() => parseTime('yesterday'), { message: 'cannot parse "yesterday" to a valid timestamp' });
  t.throws(() => parseTime('2026-01-02'));
  t.equal(parseTimeParam(undefined, 'start', 5), 5);
  t.equal(parseTimeParam('', 'start', 5), 5);
  t.throws(() => parseTimeParam('x', 'end', 0), { message: `invalid parameter "end": Invalid time value for 'end': cannot parse "x" to a valid timestamp` });
});

t.test('limit', async (t) => {
  t.equal(parseLimitParam(undefined), 0);
  t.equal(parseLimitParam('10'), 10);
  t.equal(parseLimitParam('0'), 0);
  t.throws(() => parseLimitParam('-1'), { message: 'invalid parameter "limit": limit must be non-negative' });
  t.throws(() => parseLimitParam('ten'), { message: 'invalid parameter "limit": strconv.Atoi: parsing "ten": invalid syntax' });
});

t.test('match[]', async (t) => {
  t.same(parseMatchersParam([]), []);
  t.equal(parseMatchersParam(['up', '{a="b"}']).length, 2);
  for (const [input, message] of [
    ['{a=""}', 'match[] must contain at least one non-empty matcher'],
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
  ] as const) {
    let err: unknown;
    try {
      parseMatchersParam(['up', input]);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ApiError);
    t.equal((err as ApiError).status, 400);
    t.equal((err as ApiError).message, message);
  }
});

t.test('U__ label names', async (t) => {
  t.equal(unescapeLabelName('job'), 'job');
  t.equal(unescapeLabelName('U__my_2e_label'), 'my.label');
  t.equal(unescapeLabelName('U__a__b'), 'a_b');
  t.equal(unescapeLabelName('U___1f600_'), '😀');
});

t.test('truncateJsonArray', async (t) => {
  const json = '[{"a":"x,}]\\"{"},{"b":"[["},{"c":"d"}]';
  t.same(truncateJsonArray(json, 1), { json: '[{"a":"x,}]\\"{"}]', truncated: true });
  t.same(truncateJsonArray(json, 2), { json: '[{"a":"x,}]\\"{"},{"b":"[["}]', truncated: true });
  t.same(truncateJsonArray(json, 3), { json, truncated: false });
  t.same(truncateJsonArray(json, 4), { json, truncated: false });
  t.same(truncateJsonArray('[]', 1), { json: '[]', truncated: false });
  t.same(truncateJsonArray('["a","b"]', 1), { json: '["a"]', truncated: true });
});
