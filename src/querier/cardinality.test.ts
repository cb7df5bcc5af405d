// cardinality.test.ts drives the cardinality endpoints end to end through
// the real server (native head): label_names, label_values and
// active_series with GET and POST, selectors, limits and count methods, the
// per-tenant enablement, the two size limits, and every bad parameter with
// Mimir's status and text.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { nativeSkip } from '../testing/native-skip.js';
import { nativeCardinality, nativeVisibleStats } from '../storage/native.js';
import { MatchType } from '../model/matchers.js';
import { httpRequest, type ClientResponse } from '../testing/http-client.js';
import { startWithRuntimeConfig } from '../testing/runtime-config.js';

// nativeSkip: a missing binding skips by hand, never under CI (where the test runs and fails).
const skip = nativeSkip();
if (skip !== false) {
  t.plan(0, skip);
} else {
  await run();
}

async function run(): Promise<void> {
  const id = Date.now().toString(36);
  const tenant = `card-${id}`;
  const small = `card-small-${id}`;
  const off = `card-off-${id}`;
  const { srv, close } = await startWithRuntimeConfig(
    'cardinality-e2e-',
    `overrides:\n  ${off}:\n    cardinality_analysis_enabled: false\n` +
      `  ${small}:\n    label_names_and_values_results_max_size_bytes: 10\n    label_values_max_cardinality_label_names_per_request: 2\n`,
    { 'querier.cardinality-analysis-enabled': true },
  );
  t.teardown(close);

  const now = Date.now();
  const old = now - 40 * 60_000;
  const s = (labels: Array<[string, string]>, ts: number): TimeSeriesInput => ({ labels, samples: [[ts, 1]] });
  const push = (who: string, series: TimeSeriesInput[]): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestSnappy(series), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': who } });
  await t.test('push the data', async (t) => {
    // Fresh series first, so the head accepts the 40-minute-old ones after them.
    const pushes: Array<[string, TimeSeriesInput[]]> = [
      [
        tenant,
        [
          s([['__name__', 'up'], ['job', 'api'], ['pod', 'p1']], now),
          s([['__name__', 'up'], ['job', 'api'], ['pod', 'p2']], now),
          s([['__name__', 'up'], ['job', 'db'], ['pod', 'p3']], now),
          s([['__name__', 'cpu'], ['job', 'db']], now),
        ],
      ],
      [tenant, [s([['__name__', 'up'], ['job', 'old'], ['pod', 'p4']], old)]],
      [small, [s([['__name__', 'up'], ['job', 'api']], now)]],
      [off, [s([['__name__', 'up']], now)]],
    ];
    for (const [who, series] of pushes) {
      const res = await push(who, series);
      t.equal(res.status, 200, res.body);
    }
  });

  const get = (path: string, who = tenant): Promise<ClientResponse> => httpRequest(srv.port, path, { headers: { 'X-Scope-OrgID': who } });
  const post = (path: string, form: string, who = tenant): Promise<ClientResponse> =>
    httpRequest(srv.port, path, { method: 'POST', body: form, headers: { 'X-Scope-OrgID': who, 'Content-Type': 'application/x-www-form-urlencoded' } });
  const json = (res: ClientResponse): unknown => JSON.parse(res.body);
  const LN = '/prometheus/api/v1/cardinality/label_names';
  const LV = '/prometheus/api/v1/cardinality/label_values';
  const AS = '/prometheus/api/v1/cardinality/active_series';

  await t.test('label_names: counts, order, limit, selector, active', async (t) => {
    let res = await get(LN);
    t.equal(res.status, 200, res.body);
    t.match(res.headers['content-type'], 'application/json');
    t.same(json(res), {
      label_values_count_total: 9,
      label_names_count: 3,
      cardinality: [
        { label_name: 'pod', label_values_count: 4 },
        { label_name: 'job', label_values_count: 3 },
        { label_name: '__name__', label_values_count: 2 },
      ],
    });
    res = await get(`${LN}?limit=1&selector=${encodeURIComponent('{job="api"}')}`);
    t.same(json(res), { label_values_count_total: 4, label_names_count: 3, cardinality: [{ label_name: 'pod', label_values_count: 2 }] });
    res = await post(LN, 'count_method=active&limit=0');
    t.same(json(res), { label_values_count_total: 7, label_names_count: 3, cardinality: [] }, 'the 40m old series is not active');
    res = await get(LN.replace('/prometheus', ''));
    t.equal(res.status, 200, 'also without the prefix');
  });

  await t.test('label_values: series per value, sorted, limited', async (t) => {
    let res = await get(`${LV}?label_names[]=job&label_names[]=pod&label_names[]=missing&limit=2`);
    t.equal(res.status, 200, res.body);
    t.same(json(res), {
      series_count_total: 5,
      labels: [
        {
          label_name: 'job',
          label_values_count: 3,
          series_count: 5,
          cardinality: [
            { label_value: 'api', series_count: 2 },
            { label_value: 'db', series_count: 2 },
          ],
        },
        {
          label_name: 'pod',
          label_values_count: 4,
          series_count: 4,
          cardinality: [
            { label_value: 'p1', series_count: 1 },
            { label_value: 'p2', series_count: 1 },
          ],
        },
      ],
    });
    res = await post(LV, `label_names[]=job&count_method=active&selector=${encodeURIComponent('up')}`);
    t.same(json(res), {
      series_count_total: 4,
      labels: [
        {
          label_name: 'job',
          label_values_count: 2,
          series_count: 3,
          cardinality: [
            { label_value: 'api', series_count: 2 },
            { label_value: 'db', series_count: 1 },
          ],
        },
      ],
    });
  });

  await t.test('active_series: label sets of the active matching series', async (t) => {
    let res = await get(`${AS}?selector=${encodeURIComponent('up')}`);
    t.equal(res.status, 200, res.body);
    t.same(json(res), {
      data: [
        { __name__: 'up', job: 'api', pod: 'p1' },
        { __name__: 'up', job: 'api', pod: 'p2' },
        { __name__: 'up', job: 'db', pod: 'p3' },
      ],
    });
    res = await post(AS, `selector=${encodeURIComponent('{job="old"}')}`);
    t.same(json(res), { data: [] });
    res = await get(`${AS}?selector=${encodeURIComponent('up')}`, `card-none-${id}`);
    t.same(json(res), { data: [] }, 'a tenant without data');
  });

  await t.test('the counts run on the thread pool, not on the event loop', async (t) => {
    const card = nativeCardinality();
    const names = card.labelNamesCardinality(tenant, [], null, 10, 1 << 20);
    const values = card.labelValuesCardinality(tenant, ['job'], [], null, 10);
    const active = card.activeSeries(tenant, [], 0);
    t.ok(names instanceof Promise && values instanceof Promise && active instanceof Promise, 'promises, answered off the event loop');
    t.ok(JSON.parse((await names).json ?? '{}').label_names_count > 0);
    t.equal(JSON.parse(await values).labels[0].label_name, 'job');
    t.ok(JSON.parse(await active).data.length > 0);
    t.throws(() => card.activeSeries(tenant, [{ type: MatchType.Regexp, name: 'job', value: '(' }], 0), 'a bad regexp throws at once');
    const policy = [[{ type: MatchType.Equal, name: 'job', value: 'api' }]];
    const total = JSON.parse(await card.labelValuesCardinality(tenant, [], [], null, 0, policy)).series_count_total;
    t.equal(total, 2);
    t.equal(nativeVisibleStats().visibleSeries(tenant, policy), total, 'the visible-series count is the label_values total under the same policy');
  });

  await t.test('disabled for the tenant: 400', async (t) => {
    for (const path of [LN, `${LV}?label_names[]=job`, `${AS}?selector=up`]) {
      const res = await get(path, off);
      t.equal(res.status, 400, path);
      t.equal(res.body, `cardinality analysis is disabled for the tenant: ${off}\n`);
    }
  });

  await t.test('size limits', async (t) => {
    let res = await get(LN, small);
    t.equal(res.status, 500);
    t.equal(res.body, 'size of distinct label names and values is greater than 10 bytes\n');
    res = await get(`${LV}?label_names[]=a&label_names[]=b&label_names[]=c`, small);
    t.equal(res.status, 400);
    t.equal(res.body, 'label values cardinality request label names limit (limit: 2 actual: 3) exceeded');
    res = await get(`${LV}?label_names[]=job&label_names[]=__name__`, small);
    t.equal(res.status, 200, res.body);
  });

  await t.test('bad parameters: 400 with Mimir texts', async (t) => {
    const cases: Array<[string, string]> = [
      [`${LN}?limit=501`, "'limit' param cannot be greater than '500'"],
      [`${LN}?limit=-1`, "'limit' param cannot be less than '0'"],
      [`${LN}?limit=abc`, 'strconv.Atoi: parsing "abc": invalid syntax'],
      [`${LN}?limit=1&limit=2`, "multiple 'limit' params are not allowed"],
      [`${LN}?count_method=all`, "invalid 'count_method' param 'all'. valid options are: [active,inmemory]"],
      [`${LN}?selector=up&selector=down`, "multiple 'selector' params are not allowed"],
      [`${LV}`, "'label_names[]' param is required"],
      [`${LV}?label_names[]=${encodeURIComponent('bad-name')}`, "invalid 'label_names' param 'bad-name'"],
      [`${AS}`, "missing 'selector' parameter"],
    ];
    for (const [path, message] of cases) {
      const res = await get(path);
      t.equal(res.status, 400, path);
      t.equal(res.body, message + '\n', path);
    }
    const res = await get(`${LN}?selector=${encodeURIComponent('{job=}')}`);
    t.equal(res.status, 400);
    t.match(res.body, /^failed to parse selector: .*parse error/);
  });

  await t.test('needs a tenant', async (t) => {
    const res = await httpRequest(srv.port, LN);
    t.equal(res.status, 401);
  });
}
