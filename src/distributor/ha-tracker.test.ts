// ha-tracker.test.ts drives the HA tracker end to end through the real
// server (Piscina push workers, election state in Rust) with a fake clock:
// the first replica of a cluster is elected and stored without its replica
// label, the other replica is answered 202 with Mimir's text and dropped,
// failover after the timeout, pushes without both labels untouched, the
// clusters limit (400), a tenant without accept_ha_samples, the metrics,
// the /distributor/ha_tracker page (HTML and JSON) and the config check.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { nativeSkip } from '../testing/native-skip.js';
import { httpRequest, type ClientResponse } from '../testing/http-client.js';
import { startWithRuntimeConfig } from '../testing/runtime-config.js';
import { startTestServer } from '../testing/server.js';
import { formatGoDuration, formatGoTime, formatTableTime, goRfc3339Nano } from './ha-tracker.js';

t.test('Go-style time and duration formatting', async (t) => {
  t.equal(formatGoDuration(0), '0s');
  t.equal(formatGoDuration(500), '500ms');
  t.equal(formatGoDuration(14_500), '14.5s');
  t.equal(formatGoDuration(90_000), '1m30s');
  t.equal(formatGoDuration(-2_000), '-2s');
  t.equal(formatGoDuration(3_600_000 + 1000), '1h0m1s');
  t.equal(formatGoTime(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), '2024-01-02 03:04:05.12 +0000 UTC');
  t.equal(goRfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02T03:04:05Z');
  t.equal(formatTableTime(Date.UTC(2024, 0, 2, 3, 4, 5, 999)), '2024-01-02 03:04:05 UTC');
});

t.test('failover timeout shorter than update timeout + jitter + 1s is refused at start', async (t) => {
  await t.rejects(startTestServer({ 'distributor.ha-tracker.failover-timeout': 10_000 }), {
    message: 'HA Tracker failover timeout (10s) must be at least 1s greater than update timeout - max jitter (21s)',
  });
});

// nativeSkip: a missing binding skips by hand, never under CI (where the test runs and fails).
const skip = nativeSkip();
if (skip !== false) {
  t.plan(2, skip);
} else {
  await run();
}

async function run(): Promise<void> {
  const id = Date.now().toString(36);
  const tenant = `ha-${id}`;
  const plainTenant = `ha-off-${id}`;
  let clock = Date.UTC(2030, 0, 1);
  const { srv, close } = await startWithRuntimeConfig(
    'ha-e2e-',
    `overrides:\n  ${plainTenant}:\n    accept_ha_samples: false\n  ${tenant}:\n    ha_max_clusters: 2\n`,
    {
      'distributor.ha-tracker.enable': true,
      'distributor.ha-tracker.enable-for-all-users': true,
      'distributor.ha-tracker.update-timeout-jitter-max': 0,
    },
    { haClock: () => clock },
  );
  t.teardown(close);

  const now = Date.now();
  const series = (name: string, cluster: string | undefined, replica: string | undefined, ts: number, v: number): TimeSeriesInput => {
    const labels: Array<[string, string]> = [['__name__', name]];
    if (cluster !== undefined) labels.push(['cluster', cluster]);
    if (replica !== undefined) labels.push(['__replica__', replica]);
    return { labels, samples: [[ts, v]] };
  };
  const push = (who: string, s: TimeSeriesInput[]): Promise<ClientResponse> =>
    httpRequest(srv.port, '/api/v1/push', { body: encodeWriteRequestSnappy(s), headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': who } });
  const stored = async (who: string): Promise<string[]> => {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/series?match[]=${encodeURIComponent('{__name__!=""}')}`, { headers: { 'X-Scope-OrgID': who } });
    const body = JSON.parse(res.body) as { data: Array<Record<string, string>> };
    return body.data.map((l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')).sort();
  };

  await t.test('the first replica is elected; the other is answered 202 and dropped', async (t) => {
    let res = await push(tenant, [series('from_a', 'prom', 'a', now, 1), series('shared', 'prom', 'a', now, 1)]);
    t.equal(res.status, 200, res.body);
    clock += 1000;
    res = await push(tenant, [series('from_b', 'prom', 'b', now, 2), series('shared', 'prom', 'b', now + 1, 2)]);
    t.equal(res.status, 202);
    t.equal(res.body, 'replicas did not match, rejecting sample: replica=b, elected=a\n');
    t.same(await stored(tenant), ['__name__=from_a,cluster=prom', '__name__=shared,cluster=prom'], 'replica label stripped, b dropped');
  });

  await t.test('failover after the failover timeout without samples from the elected replica', async (t) => {
    // a keeps pushing 20s later: it stays elected and its last-seen time is refreshed.
    clock += 19_000;
    let res = await push(tenant, [series('shared', 'prom', 'a', now + 2, 3)]);
    t.equal(res.status, 200, res.body);
    clock += 29_000;
    res = await push(tenant, [series('from_b', 'prom', 'b', now + 3, 4)]);
    t.equal(res.status, 202, 'within 30s of the last sample of a');
    clock += 1_000;
    res = await push(tenant, [series('from_b', 'prom', 'b', now + 3, 4)]);
    t.equal(res.status, 200, `b takes over 30s after a was last seen: ${res.body}`);
    clock += 1_000;
    res = await push(tenant, [series('from_a', 'prom', 'a', now + 4, 5)]);
    t.equal(res.status, 202);
    t.equal(res.body, 'replicas did not match, rejecting sample: replica=a, elected=b\n');
    t.same(await stored(tenant), ['__name__=from_a,cluster=prom', '__name__=from_b,cluster=prom', '__name__=shared,cluster=prom']);
  });

  await t.test('pushes without both HA labels are stored as sent', async (t) => {
    let res = await push(tenant, [series('no_cluster', undefined, 'a', now, 1)]);
    t.equal(res.status, 200, res.body);
    res = await push(tenant, [series('no_replica', 'prom', undefined, now, 1)]);
    t.equal(res.status, 200, res.body);
    const got = await stored(tenant);
    t.ok(got.includes('__name__=no_cluster,__replica__=a'), 'replica label kept without a cluster label');
    t.ok(got.includes('__name__=no_replica,cluster=prom'));
  });

  await t.test('clusters limit per tenant: 400 with Mimir text', async (t) => {
    let res = await push(tenant, [series('second', 'other', 'x', now, 1)]);
    t.equal(res.status, 200, res.body);
    res = await push(tenant, [series('third', 'third', 'x', now, 1), series('third2', 'third', 'x', now, 1)]);
    t.equal(res.status, 400);
    t.equal(
      res.body,
      'the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: 2) (err-mimir-tenant-too-many-ha-clusters). ' +
        'To adjust the related per-tenant limit, configure -distributor.ha-tracker.max-clusters, or contact your service administrator.\n',
    );
    t.notOk((await stored(tenant)).some((s) => s.includes('third')));
  });

  await t.test('a tenant without accept_ha_samples keeps every replica', async (t) => {
    let res = await push(plainTenant, [series('up', 'prom', 'a', now, 1)]);
    t.equal(res.status, 200, res.body);
    res = await push(plainTenant, [series('up', 'prom', 'b', now, 1)]);
    t.equal(res.status, 200, res.body);
    t.same(await stored(plainTenant), ['__name__=up,__replica__=a,cluster=prom', '__name__=up,__replica__=b,cluster=prom']);
  });

  await t.test('metrics', async (t) => {
    const m = (await httpRequest(srv.port, '/metrics')).body;
    t.match(m, `cortex_distributor_deduped_samples_total{user="${tenant}",cluster="prom"} 4`);
    t.match(m, `cortex_discarded_samples_total{reason="too_many_ha_clusters",user="${tenant}"} 2`);
    t.match(m, `cortex_distributor_non_ha_samples_received_total{user="${tenant}"} 2`);
    t.match(m, `cortex_ha_tracker_reelections_total{user="${tenant}",cluster="prom"} 1`);
    t.match(m, `cortex_ha_tracker_reelections_total{user="${tenant}",cluster="other"} 0`);
    t.match(m, `cortex_ha_tracker_last_election_timestamp_seconds{user="${tenant}",cluster="prom"} ${Math.floor((clock - 1000) / 1000)}`);
  });

  await t.test('/distributor/ha_tracker lists the elected replicas', async (t) => {
    let res = await httpRequest(srv.port, '/distributor/ha_tracker');
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], 'text/html');
    t.match(res.body, '<title>HA Tracker Status</title>');
    t.match(res.body, `<td>${tenant}</td><td>other</td><td>x</td>`);
    // b was elected at (failover) and last seen at the same fake time; clock has moved on by 1s since.
    t.match(res.body, `<td>${tenant}</td><td>prom</td><td>b</td><td>${formatTableTime(clock - 1000)}</td><td>${formatTableTime(clock - 1000)}</td><td>14s</td><td>29s</td>`);
    res = await httpRequest(srv.port, '/distributor/ha_tracker', { headers: { Accept: 'application/json' } });
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], 'application/json');
    const body = JSON.parse(res.body) as { now: string; elected: Array<Record<string, unknown>> };
    t.equal(body.now, goRfc3339Nano(clock));
    const prom = body.elected.find((e) => e.userID === tenant && e.cluster === 'prom');
    t.same(prom, {
      userID: tenant,
      cluster: 'prom',
      replica: 'b',
      lastElectionTime: goRfc3339Nano(clock - 1000),
      electedLastSeenTime: goRfc3339Nano(clock - 1000),
      updateDuration: 14e9,
      failoverDuration: 29e9,
    });
  });
}
