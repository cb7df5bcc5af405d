// format.test.ts checks the result encoding against what Prometheus writes:
// Go's FormatFloat 'f'/-1 with 'e' below 1e-6 and from 1e21 (two-digit
// exponents), timestamps with three fraction digits, and the four result types.

import t from 'tap';
import { encodeLabels, encodeQueryData, encodeQuerySuccess, formatFloat, formatTimestamp, jsonString, parseFloatValue } from './format.js';

t.test('formatFloat matches strconv.FormatFloat as jsonutil.MarshalFloat uses it', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1, '-1'],
    [0.1, '0.1'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1.5, '1.5'],
    [100, '100'],
    [123456789, '123456789'],
    [1e20, '100000000000000000000'],
    [123456789012345680000, '123456789012345680000'],
    [1e21, '1e+21'],
    [-1e21, '-1e+21'],
    [1.5e21, '1.5e+21'],
    [1e100, '1e+100'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [-1.7976931348623157e308, '-1.7976931348623157e+308'],
    [0.000001, '0.000001'],
    [0.0000015, '0.0000015'],
    [1e-7, '1e-07'],
    [-1e-7, '-1e-07'],
    [1.5e-7, '1.5e-07'],
    [9.99e-7, '9.99e-07'],
    [1e-10, '1e-10'],
    [1e-100, '1e-100'],
    [5e-324, '5e-324'],
    [2.2250738585072014e-308, '2.2250738585072014e-308'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [0.3333333333333333, '0.3333333333333333'],
    [2 / 3, '0.6666666666666666'],
    [1435781451.781, '1435781451.781'],
  ];
  for (const [v, want] of cases) t.equal(formatFloat(v), want, `${v}`);
});

t.test('parseFloatValue reads formatFloat back', async (t) => {
  for (const v of [0, 1, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, Infinity, -Infinity, -2.5]) t.equal(parseFloatValue(formatFloat(v)), v);
  t.ok(Number.isNaN(parseFloatValue('NaN')));
});

t.test('formatTimestamp matches jsonutil.MarshalTimestamp', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [1000, '1'],
    [4000, '4'],
    [1435781451781, '1435781451.781'],
    [1435781451780, '1435781451.780'],
    [1500, '1.500'],
    [1005, '1.005'],
    [1050, '1.050'],
    [-500, '-0.500'],
    [-1500, '-1.500'],
    [-1000, '-1'],
    [-1, '-0.001'],
    [1, '0.001'],
  ];
  for (const [ms, want] of cases) t.equal(formatTimestamp(ms), want, `${ms}`);
});

t.test('strings and labels are escaped as Go encoding/json does', async (t) => {
  t.equal(jsonString('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  t.equal(jsonString('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
  t.equal(jsonString('\u2028'), '"\\u2028"');
  t.equal(encodeLabels({ job: 'x', __name__: 'up', A: 'y' }), '{"A":"y","__name__":"up","job":"x"}');
  t.equal(encodeLabels({}), '{}');
});

t.test('result types', async (t) => {
  t.equal(
    encodeQueryData({
      resultType: 'matrix',
      series: [{ labels: { __name__: 'up', job: 'a' }, timestamps: Float64Array.from([1435781451781, 1435781466781]), values: Float64Array.from([1, NaN]) }],
    }),
    '{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[1435781451.781,"1"],[1435781466.781,"NaN"]]}]}',
  );
  t.equal(
    encodeQueryData({ resultType: 'vector', timestampMs: 1000, series: [{ labels: { a: 'b' }, value: -Infinity }, { labels: {}, value: 2 }] }),
    '{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"-Inf"]},{"metric":{},"value":[1,"2"]}]}',
  );
  t.equal(encodeQueryData({ resultType: 'vector', timestampMs: 1000, series: [] }), '{"resultType":"vector","result":[]}');
  t.equal(encodeQueryData({ resultType: 'matrix', series: [] }), '{"resultType":"matrix","result":[]}');
  t.equal(encodeQueryData({ resultType: 'scalar', timestampMs: 4000, value: 2 }), '{"resultType":"scalar","result":[4,"2"]}');
  t.equal(encodeQueryData({ resultType: 'string', timestampMs: 1500, value: 'a"b' }), '{"resultType":"string","result":[1.500,"a\\"b"]}');
});

t.test('envelope: warnings and infos only when non-empty', async (t) => {
  const value = { resultType: 'scalar', timestampMs: 0, value: 1 } as const;
  t.equal(encodeQuerySuccess({ value, warnings: [], infos: [] }), '{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}');
  t.equal(
    encodeQuerySuccess({ value, warnings: ['w1'], infos: ['i1', 'i2'] }),
    '{"status":"success","data":{"resultType":"scalar","result":[0,"1"]},"warnings":["w1"],"infos":["i1","i2"]}',
  );
  t.equal(encodeQuerySuccess({ value, warnings: [], infos: ['i'] }), '{"status":"success","data":{"resultType":"scalar","result":[0,"1"]},"infos":["i"]}');
});
