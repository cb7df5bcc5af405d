// distributed-write.test.ts (peer suite) runs the distributed write path as
// separate processes on loopback: etcd (the rings and the HA tracker), 4
// ingesters, 2 distributors and a querier, RF=3. It checks what a distributor
// decides before the fan-out: a tenant's shuffle shard (its series land only on
// shard-size ingesters), read-only ingesters (prepare-instance-ring-downscale)
// taking no writes, OTLP translated and forwarded, HA replica election shared
// by both distributors through etcd, and the ingestion rate limit divided by
// the healthy distributors of the distributor ring.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { ETCD, failIfMissing, skipUnless } from './lib/binary.js';
import { encodeWriteRequestV2Snappy } from '../../src/remote/write-request-v2.js';
import { startComponent, type Component, waitFor, startCluster } from './lib/cluster.js';
import { makeTempDir } from './lib/server-process.js';

async function push(port: number, tenant: string, series: TimeSeriesInput[]): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/push`, {
    method: 'POST',
    body: new Uint8Array(encodeWriteRequestSnappy(series)),
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

async function query(port: number, tenant: string, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${port}/prometheus/api/v1/query?query=${encodeURIComponent(q)}&time=${Date.now() / 1000}`, {
    headers: { 'X-Scope-OrgID': tenant },
    signal: AbortSignal.timeout(10_000),
  });
  return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

/** gauge reads one unlabelled gauge from a process's /metrics. */
async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

async function activeIds(port: number, path: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { shards: Array<{ id: string; state: string }> }).shards.filter((s) => s.state === 'ACTIVE').map((s) => s.id);
}

const series = (n: number, name: string, extra: Array<[string, string]> = [], at = Date.now()): TimeSeriesInput[] =>
  Array.from({ length: n }, (_, i) => ({ labels: [['__name__', name], ['s', String(i)], ...extra], samples: [[at, i]] }));

t.test('distributors shard, dedupe, translate and rate-limit before the fan-out', { skip: skipUnless(ETCD) }, async (t) => {
  if (failIfMissing(t, ETCD)) return;
  const { etcd, started } = await startCluster(t);
  const dir = await makeTempDir('distw-');
  const runtime = join(dir, 'runtime.yaml');
  await writeFile(
    runtime,
    'overrides:\n' +
      '  sharded:\n    ingestion_tenant_shard_size: 3\n' +
      '  ha-tenant:\n    accept_ha_samples: true\n' +
      '  limited:\n    ingestion_rate: 10\n    ingestion_burst_size: 100\n' +
      '  otlp-strict:\n    max_label_value_length: 5\n',
  );
  const common = [`-runtime-config.file=${runtime}`];
  const ingesters: Component[] = [];
  for (const i of [1, 2, 3, 4]) ingesters.push(await startComponent({ name: `ingester-${i}`, target: 'ingester', etcd: etcd.endpoint, extra: common }));
  started.push(...ingesters);
  const haFlags = ['-distributor.ha-tracker.enable=true', '-distributor.ha-tracker.store=etcd', `-distributor.ha-tracker.etcd.endpoints=${etcd.endpoint}`];
  const distributors: Component[] = [];
  for (const i of [1, 2]) distributors.push(await startComponent({ name: `distributor-${i}`, target: 'distributor', etcd: etcd.endpoint, extra: [...common, ...haFlags] }));
  started.push(...distributors);
  const querier = await startComponent({ name: 'querier-1', target: 'querier', etcd: etcd.endpoint, extra: [...common, '-querier.use-start-timestamps=true'] });
  started.push(querier);
  const [d1, d2] = [distributors[0]!, distributors[1]!];
  t.ok(await waitFor(async () => (await activeIds(d1.port, '/ingester/ring')).length === 4 && (await activeIds(d2.port, '/ingester/ring')).length === 4, 15_000), 'four ACTIVE ingesters');
  t.ok(await waitFor(async () => (await activeIds(d1.port, '/distributor/ring')).length === 2, 15_000), 'two distributors in their ring');

  // Shuffle sharding: the first tenant written, with a shard of 3 of the 4 ingesters.
  t.equal((await push(d1.port, 'sharded', series(50, 'sharded_a'))).status, 200);
  const seriesOf = async (): Promise<number[]> => Promise.all(ingesters.map((i) => gauge(i.port, 'cortex_ingester_memory_series')));
  let held: number[] = [];
  t.ok(await waitFor(async () => (held = await seriesOf()).filter((n) => n === 50).length === 3, 5_000), `three ingesters hold the tenant's 50 series (${held.join(',')})`);
  t.same(held.filter((n) => n === 0).length, 1, 'the fourth holds none of them');
  const outside = held.indexOf(0);
  t.equal((await query(querier.port, 'sharded', 'count(sharded_a)'))[0]?.value[1], '50', 'the querier reads them all');

  // A read-only ingester of the shard takes no more writes: the tenant's shard moves past it.
  const readOnly = ingesters[(outside + 1) % 4]!;
  const ro = await fetch(`http://127.0.0.1:${readOnly.port}/ingester/prepare-instance-ring-downscale`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  t.equal(ro.status, 200, 'prepare-instance-ring-downscale sets it read-only');
  t.ok(((await ro.json()) as { timestamp: number }).timestamp > 0);
  const seesReadOnly = async (port: number): Promise<boolean> => {
    const res = await fetch(`http://127.0.0.1:${port}/ingester/ring`, { headers: { Accept: 'application/json' } });
    return ((await res.json()) as { shards: Array<{ id: string; read_only: boolean }> }).shards.some((s) => s.id === readOnly.name && s.read_only);
  };
  t.ok(await waitFor(async () => (await seesReadOnly(d1.port)) && (await seesReadOnly(d2.port)), 10_000), 'both distributors see it read-only');
  t.equal((await push(d2.port, 'sharded', series(50, 'sharded_b'))).status, 200, 'writes go on with a read-only ingester');
  let after: number[] = [];
  t.ok(await waitFor(async () => (after = await seriesOf())[outside] === 50, 5_000), `the ingester outside the shard took the new series (${after.join(',')})`);
  t.equal(after[(outside + 1) % 4], 50, 'the read-only ingester received nothing new');
  t.equal(after.filter((n) => n === 100).length, 2, 'the other two shard members took the new series too');
  const undo = await fetch(`http://127.0.0.1:${readOnly.port}/ingester/prepare-instance-ring-downscale`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  t.same(await undo.json(), { timestamp: 0 }, 'DELETE makes it writable again');
  t.ok(await waitFor(async () => !(await seesReadOnly(d1.port)) && !(await seesReadOnly(d2.port)), 10_000), 'both distributors see it writable');

  // Remote write 2.0 start timestamps through a distributor: stored by the ingesters beside their
  // samples, and read by the querier (-querier.use-start-timestamps) through the select frames.
  const stNow = Date.now();
  const v2 = encodeWriteRequestV2Snappy([
    {
      labels: [['__name__', 'st_requests_total'], ['job', 'api']],
      samples: [
        [stNow - 20_000, 3, stNow - 60_000],
        [stNow - 10_000, 5, stNow - 60_000],
        [stNow, 7, stNow - 5_000],
      ],
    },
  ]);
  const v2Res = await fetch(`http://127.0.0.1:${d1.port}/api/v1/push`, {
    method: 'POST',
    body: new Uint8Array(v2),
    headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request', 'X-Prometheus-Remote-Write-Version': '2.0.0', 'X-Scope-OrgID': 'st' },
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(v2Res.status, 204, 'a 2.0 request with start timestamps through a distributor');
  const st = await query(querier.port, 'st', 'start_timestamp(st_requests_total)');
  t.same(st.map((r) => r.value[1]), [String((stNow - 5_000) / 1000)], "the querier reads the last sample's start timestamp");
  const resets = await query(querier.port, 'st', 'resets(st_requests_total[1m])');
  t.same(resets.map((r) => r.value[1]), ['1'], 'a start past the previous sample counts as a reset (the values only grow)');

  // OTLP through a distributor: translated, forwarded to RF ingesters, readable.
  const nowNs = `${Date.now()}000000`;
  const otlp = JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
        scopeMetrics: [{ metrics: [{ name: 'otel_requests', gauge: { dataPoints: [{ asDouble: 7.5, timeUnixNano: nowNs, attributes: [{ key: 'route', value: { stringValue: '/x' } }] }] } }] }],
      },
    ],
  });
  const otlpRes = await fetch(`http://127.0.0.1:${d1.port}/otlp/v1/metrics`, { method: 'POST', body: otlp, headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'otlp' }, signal: AbortSignal.timeout(10_000) });
  t.equal(otlpRes.status, 200, 'OTLP through a distributor is accepted');
  t.equal(await otlpRes.text(), '{}', 'an empty ExportMetricsServiceResponse');
  const read = await query(querier.port, 'otlp', 'otel_requests');
  t.same(read.map((r) => [r.metric, r.value[1]]), [[{ __name__: 'otel_requests', job: 'api', route: '/x' }, '7.5']], 'the querier reads the translated series');
  // The ingesters' validation applies to OTLP too: 400 with InvalidArgument (3).
  const strict = await fetch(`http://127.0.0.1:${d2.port}/otlp/v1/metrics`, { method: 'POST', body: otlp, headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'otlp-strict' }, signal: AbortSignal.timeout(10_000) });
  t.equal(strict.status, 400, 'a label value over the limit is refused');
  const strictBody = (await strict.json()) as { code: number; message: string };
  t.equal(strictBody.code, 3, 'InvalidArgument');
  t.match(strictBody.message, /^received a metric whose attribute value length of 13 exceeds the limit of 5, attribute: '__name__', value: 'otel_requests' \(truncated\) metric: 'otel_requests\{job="api", route="\/x"\}'/, 'worded as the monolith words it');
  const badOtlp = await fetch(`http://127.0.0.1:${d2.port}/otlp/v1/metrics`, { method: 'POST', body: '{"resourceMetrics":', headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'otlp' }, signal: AbortSignal.timeout(10_000) });
  t.equal(badOtlp.status, 400, 'an undecodable OTLP body is a 400');
  t.match(((await badOtlp.json()) as { code: number }).code, 400);

  // HA: both distributors accept the replica elected in etcd.
  const ha = (replica: string, at: number): TimeSeriesInput[] => [{ labels: [['__name__', 'ha_metric'], ['cluster', 'c1'], ['__replica__', replica]], samples: [[at, replica === 'r1' ? 1 : 2]] }];
  const t0 = Date.now() - 10_000;
  t.equal((await push(d1.port, 'ha-tenant', ha('r1', t0))).status, 200, 'r1 elected through distributor 1');
  const dup = await push(d2.port, 'ha-tenant', ha('r2', t0 + 1_000));
  t.equal(dup.status, 202, 'distributor 2 drops r2');
  t.equal(dup.body, 'replicas did not match, rejecting sample: replica=r2, elected=r1\n');
  t.equal((await push(d2.port, 'ha-tenant', ha('r1', t0 + 2_000))).status, 200, 'distributor 2 accepts r1');
  t.equal((await push(d1.port, 'ha-tenant', ha('r2', t0 + 3_000))).status, 202, 'distributor 1 drops r2');
  const haRead = await query(querier.port, 'ha-tenant', 'count_over_time(ha_metric[1m])');
  t.same(haRead.map((r) => [r.metric, r.value[1]]), [[{ cluster: 'c1' }, '2']], "only r1's samples, without the replica label");
  // A cluster elected through distributor 1 only shows on distributor 2's page too (it re-reads the store).
  t.equal((await push(d1.port, 'ha-tenant', [{ labels: [['__name__', 'ha_metric'], ['cluster', 'c2'], ['__replica__', 'x']], samples: [[t0, 5]] }])).status, 200);
  const elected = async (): Promise<string[][]> => {
    const page = (await (await fetch(`http://127.0.0.1:${d2.port}/distributor/ha_tracker`, { headers: { Accept: 'application/json' } })).json()) as { elected: Array<{ userID: string; cluster: string; replica: string }> };
    return page.elected.map((e) => [e.userID, e.cluster, e.replica]);
  };
  let seen: string[][] = [];
  t.ok(await waitFor(async () => (seen = await elected()).length === 2, 12_000), "distributor 2's HA tracker page shows every election");
  t.same(seen, [['ha-tenant', 'c1', 'r1'], ['ha-tenant', 'c2', 'x']]);

  // The rate limit: 10 items/s for the tenant, 5/s per distributor while two are healthy.
  const drain = async (port: number): Promise<boolean> => {
    for (let i = 0; i < 400; i++) if ((await push(port, 'limited', series(1, 'drain', [], Date.now() - 5_000 + i))).status === 429) return true;
    return false;
  };
  t.ok(await drain(d1.port), 'distributor 1 runs out of tokens');
  const limited = await push(d1.port, 'limited', series(12, 'limited_m'));
  t.equal(limited.status, 429);
  t.match(limited.body, /^the request has been rejected because the tenant exceeded the ingestion rate limit, set to 10 items\/s with a maximum allowed burst of 100\./, 'the message names the tenant limit');
  t.equal((await push(d2.port, 'limited', series(12, 'limited_m'))).status, 200, "distributor 2's bucket is its own");
  // 20 data points: more than the tokens a drained bucket refills meanwhile.
  const otlpMany = JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
        scopeMetrics: [{ metrics: [{ name: 'otel_many', gauge: { dataPoints: Array.from({ length: 20 }, (_, i) => ({ asDouble: i, timeUnixNano: `${Date.now()}000000`, attributes: [{ key: 'i', value: { stringValue: String(i) } }] })) } }] }],
      },
    ],
  });
  const otlpLimited = await fetch(`http://127.0.0.1:${d1.port}/otlp/v1/metrics`, { method: 'POST', body: otlpMany, headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'limited' }, signal: AbortSignal.timeout(10_000) });
  t.equal(otlpLimited.status, 429, 'OTLP takes from the same bucket');
  t.equal(((await otlpLimited.json()) as { code: number }).code, 8, 'ResourceExhausted');
  t.ok(await drain(d1.port));
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal((await push(d1.port, 'limited', series(12, 'limited_m'))).status, 429, 'two distributors: 1.5 s refill 7.5 tokens, fewer than 12');
  // Distributor 2 leaves: distributor 1 enforces the whole limit.
  await d2.proc.stop(10_000);
  started.splice(started.indexOf(d2), 1);
  t.ok(await waitFor(async () => (await activeIds(d1.port, '/distributor/ring')).length === 1, 15_000), 'one distributor left in the ring');
  t.ok(await drain(d1.port));
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal((await push(d1.port, 'limited', series(12, 'limited_m'))).status, 200, 'one distributor: 1.5 s refill 15 tokens');
});
