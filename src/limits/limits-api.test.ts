// limits-api.test.ts drives the per-tenant limits end to end through the real
// server (Piscina workers, native binding): a runtime configuration file with
// overrides for some tenants, the ingestion rate limit (429, Mimir's text,
// nothing stored, accepted again after the bucket refills), the series limits
// (400 for new series while existing ones keep accepting), a reload without a
// restart, and the /runtime_config and /api/v1/user_limits answers.

import { writeFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { nativeSkip } from '../testing/native-skip.js';
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
  const rated = `rated-${id}`;
  const capped = `capped-${id}`;
  const perMetric = `per-metric-${id}`;
  const free = `free-${id}`;
  const overrides = (ratedRate: number, ratedBurst: number): string =>
    `overrides:\n  ${rated}:\n    ingestion_rate: ${ratedRate}\n    ingestion_burst_size: ${ratedBurst}\n` +
    `  ${capped}:\n    max_global_series_per_user: 2\n` +
    `  ${perMetric}:\n    max_global_series_per_metric: 1\n    max_label_names_per_series: 3\n`;
  const { srv, file, close } = await startWithRuntimeConfig('limits-e2e-', overrides(2, 4), { 'runtime-config.reload-period': 50 });
  t.teardown(close);

  const now = Date.now();
  const s = (labels: Array<[string, string]>, ...samples: Array<[number, number]>): TimeSeriesInput => ({ labels, samples });
  const push = (tenant: string, series: TimeSeriesInput[]): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestSnappy(series), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant } });
  const get = (path: string, tenant?: string): Promise<ClientResponse> =>
    httpRequest(srv.port, path, { headers: tenant === undefined ? {} : { 'X-Scope-OrgID': tenant } });
  const seriesNames = async (tenant: string): Promise<string[]> => {
    const res = await get(`/prometheus/api/v1/series?match[]=${encodeURIComponent('{__name__!=""}')}`, tenant);
    const body = JSON.parse(res.body) as { data: Array<Record<string, string>> };
    return body.data.map((l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')).sort();
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  await t.test('ingestion rate limit: 429 with Mimir text, nothing stored, accepted after refill', async (t) => {
    let res = await push(rated, [s([['__name__', 'r1']], [now, 1], [now + 1, 2]), s([['__name__', 'r2']], [now, 1], [now + 1, 2])]);
    t.equal(res.status, 200, res.body);
    res = await push(rated, [s([['__name__', 'refused']], [now, 1])]);
    t.equal(res.status, 429);
    t.equal(
      res.body,
      'the request has been rejected because the tenant exceeded the ingestion rate limit, set to 2 items/s with a maximum allowed burst of 4. ' +
        'This limit is applied on the total number of samples, exemplars and metadata received across all distributors (err-mimir-tenant-max-ingestion-rate). ' +
        'To adjust the related per-tenant limits, configure -distributor.ingestion-rate-limit and -distributor.ingestion-burst-size, or contact your service administrator.\n',
    );
    res = await push(rated, [s([['__name__', 'too_big']], [now, 1], [now + 1, 1], [now + 2, 1], [now + 3, 1], [now + 4, 1])]);
    t.equal(res.status, 429);
    t.match(res.body, /^the request has been rejected because the tenant exceeded the ingestion burst size limit, set to 4, with 5 items\. .*\(err-mimir-tenant-max-ingestion-rate\)/);
    t.same(await seriesNames(rated), ['__name__=r1', '__name__=r2'], 'nothing of the refused requests is stored');
    await sleep(700);
    res = await push(rated, [s([['__name__', 'after_refill']], [now, 1])]);
    t.equal(res.status, 200, `accepted after the refill: ${res.body}`);
    // Other tenants keep the default limits.
    res = await push(free, Array.from({ length: 20 }, (_, i) => s([['__name__', `f${i}`]], [now, i])));
    t.equal(res.status, 200, res.body);
    const metrics = await get('/metrics');
    t.match(metrics.body, `cortex_discarded_samples_total{reason="rate_limited",user="${rated}"} 6`);
  });

  await t.test('max series per user: new series refused with 400, existing ones accept', async (t) => {
    let res = await push(capped, [s([['__name__', 'a']], [now, 1]), s([['__name__', 'b']], [now, 1])]);
    t.equal(res.status, 200, res.body);
    res = await push(capped, [s([['__name__', 'c']], [now + 1000, 1]), s([['__name__', 'a']], [now + 1000, 2])]);
    t.equal(res.status, 400);
    t.equal(
      res.body,
      'per-user series limit of 2 exceeded (err-mimir-max-series-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-user, or contact your service administrator.\n',
    );
    t.same(await seriesNames(capped), ['__name__=a', '__name__=b']);
    const q = await get(`/prometheus/api/v1/query?query=a&time=${(now + 1000) / 1000}`, capped);
    t.match(q.body, '"2"', 'the existing series took its new sample');
    // Unlimited for the other tenants.
    res = await push(free, [s([['__name__', 'c']], [now, 1])]);
    t.equal(res.status, 200);
  });

  await t.test('max series per metric and per-tenant label limits', async (t) => {
    let res = await push(perMetric, [s([['__name__', 'up'], ['i', '1']], [now, 1])]);
    t.equal(res.status, 200, res.body);
    res = await push(perMetric, [s([['__name__', 'up'], ['i', '2']], [now, 1]), s([['__name__', 'down'], ['i', '1']], [now, 1])]);
    t.equal(res.status, 400);
    t.equal(
      res.body,
      'per-metric series limit of 1 exceeded (err-mimir-max-series-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-series-per-metric, or contact your service administrator. This is for series up{i="2"}\n',
    );
    t.same(await seriesNames(perMetric), ['__name__=down,i=1', '__name__=up,i=1']);
    // max_label_names_per_series: 3 for this tenant only.
    const wide = s([['__name__', 'wide'], ['a', '1'], ['b', '2'], ['c', '3']], [now, 1]);
    res = await push(perMetric, [wide]);
    t.equal(res.status, 400);
    t.match(res.body, '(err-mimir-max-label-names-per-series)');
    t.match(res.body, /limit: 3/);
    res = await push(free, [wide]);
    t.equal(res.status, 200, res.body);
  });

  await t.test('/runtime_config and /api/v1/user_limits', async (t) => {
    let res = await get('/runtime_config');
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], 'application/yaml');
    const all = parse(res.body) as { overrides: Record<string, Record<string, unknown>> };
    t.same(Object.keys(all.overrides).sort(), [capped, perMetric, rated].sort());
    t.equal(all.overrides[rated]!.ingestion_rate, 2);
    t.equal(all.overrides[rated]!.max_global_series_per_user, 150000, 'every value, defaults included');
    t.equal(all.overrides[rated]!.creation_grace_period, '10m');
    res = await get('/runtime_config?mode=diff');
    t.same(parse(res.body), {
      overrides: {
        [rated]: { ingestion_rate: 2, ingestion_burst_size: 4 },
        [capped]: { max_global_series_per_user: 2 },
        [perMetric]: { max_label_names_per_series: 3, max_global_series_per_metric: 1 },
      },
    });

    res = await get('/api/v1/user_limits', rated);
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], 'application/json');
    const limits = JSON.parse(res.body) as Record<string, number>;
    t.equal(limits.ingestion_rate, 2);
    t.equal(limits.ingestion_burst_size, 4);
    t.equal(limits.max_global_series_per_user, 150000);
    t.equal(limits.max_global_series_per_metric, 0);
    t.equal(limits.max_fetched_chunks_per_query, 2000000);
    t.equal((JSON.parse((await get('/api/v1/user_limits', free)).body) as Record<string, number>).ingestion_rate, 10000);
    res = await get('/api/v1/user_limits');
    t.equal(res.status, 401);
  });

  await t.test('a changed file applies without a restart', async (t) => {
    writeFileSync(file, overrides(1000, 1000));
    let rate = 0;
    for (let i = 0; i < 100 && rate !== 1000; i++) {
      await sleep(20);
      rate = (JSON.parse((await get('/api/v1/user_limits', rated)).body) as Record<string, number>).ingestion_rate!;
    }
    t.equal(rate, 1000);
    // As with Mimir's limiter, the bucket takes the new limits at its next use (the time before
    // that earned tokens at the old rate); from then on the new rate refills the larger bucket.
    await push(rated, [s([['__name__', 'probe']], [now, 1])]);
    await sleep(200);
    const res = await push(rated, Array.from({ length: 100 }, (_, i) => s([['__name__', `many${i}`]], [now, i])));
    t.equal(res.status, 200, res.body);
  });
}
