// query-params.test.ts checks the query/query_range parameter rules and
// Prometheus's texts for each rejection.

import t from 'tap';
import { parseQuery } from '../server/params.js';
import { parseDurationNs, parseInstantQueryParams, parsePromDuration, parseRangeQueryParams } from './query-params.js';

const form = (qs: string) => parseQuery(qs);

t.test('durations', async (t) => {
  t.equal(parsePromDuration('15s'), 15_000);
  t.equal(parsePromDuration('1h30m'), 5_400_000);
  t.equal(parsePromDuration('1d2h'), 93_600_000);
  t.equal(parsePromDuration('100ms'), 100);
  t.equal(parsePromDuration('0'), 0);
  t.equal(parsePromDuration('30m1h'), undefined, 'units out of order');
  t.equal(parsePromDuration('1.5m'), undefined, 'no fractions');
  t.equal(parsePromDuration(''), undefined);
  t.equal(parseDurationNs('15'), 15e9);
  t.equal(parseDurationNs('0.5'), 5e8);
  t.equal(parseDurationNs('1e1'), 1e10);
  t.equal(parseDurationNs('1m'), 6e10);
  t.throws(() => parseDurationNs('abc'), { message: 'cannot parse "abc" to a valid duration' });
  t.throws(() => parseDurationNs(''), { message: 'cannot parse "" to a valid duration' });
  t.throws(() => parseDurationNs('1e300'), { message: 'cannot parse "1e300" to a valid duration. It overflows int64' });
});

t.test('instant query', async (t) => {
  const p = parseInstantQueryParams(form('query=1%2B1&time=4'), 99_000);
  t.same(p, { query: '1+1', kind: 'instant', startMs: 4000, endMs: 4000, stepMs: 0, limit: 0 });
  t.equal(parseInstantQueryParams(form('query=up'), 99_000).startMs, 99_000, 'time defaults to now');
  t.equal(parseInstantQueryParams(form('query=up&time=2015-07-01T20:10:51.781Z'), 0).startMs, 1435781451781);
  t.equal(parseInstantQueryParams(form('query=up&timeout=5s'), 0).timeoutMs, 5000);
  t.equal(parseInstantQueryParams(form('query=up&lookback_delta=1m'), 0).lookbackDeltaMs, 60_000);
  t.equal(parseInstantQueryParams(form('query=up&limit=3'), 0).limit, 3);
  const bad: Array<[string, string]> = [
    ['time=x', `invalid parameter "time": Invalid time value for 'time': cannot parse "x" to a valid timestamp`],
    ['timeout=x', 'invalid parameter "timeout": cannot parse "x" to a valid duration'],
    ['limit=-1', 'invalid parameter "limit": limit must be non-negative'],
    ['lookback_delta=x', 'error parsing lookback delta duration: cannot parse "x" to a valid duration'],
  ];
  for (const [qs, message] of bad) t.throws(() => parseInstantQueryParams(form(`query=up&${qs}`), 0), { message, kind: 'bad_data' }, qs);
});

t.test('range query', async (t) => {
  const p = parseRangeQueryParams(form('query=up&start=0&end=60&step=15s'));
  t.same(p, { query: 'up', kind: 'range', startMs: 0, endMs: 60_000, stepMs: 15_000, limit: 0 });
  t.equal(parseRangeQueryParams(form('query=up&start=0&end=60&step=0.5')).stepMs, 500);
  t.equal(parseRangeQueryParams(form('query=up&start=1.5&end=2.25&step=1')).endMs, 2250);
  t.equal(parseRangeQueryParams(form('query=up&start=0&end=11000&step=1')).endMs, 11_000_000, '11,000 steps pass');
  const bad: Array<[string, string]> = [
    ['end=10&step=1', 'invalid parameter "start": cannot parse "" to a valid timestamp'],
    ['start=x&end=10&step=1', 'invalid parameter "start": cannot parse "x" to a valid timestamp'],
    ['start=0&step=1', 'invalid parameter "end": cannot parse "" to a valid timestamp'],
    ['start=10&end=5&step=1', 'invalid parameter "end": end timestamp must not be before start time'],
    ['start=0&end=10', 'invalid parameter "step": cannot parse "" to a valid duration'],
    ['start=0&end=10&step=abc', 'invalid parameter "step": cannot parse "abc" to a valid duration'],
    ['start=0&end=10&step=0', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['start=0&end=10&step=-1', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['start=0&end=11001&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['start=0&end=100000&step=1', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'],
    ['start=0&end=10&step=1&limit=x', 'invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax'],
  ];
  for (const [qs, message] of bad) t.throws(() => parseRangeQueryParams(form(`query=up&${qs}`)), { message, kind: 'bad_data' }, qs);
});
