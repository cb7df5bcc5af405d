// otlp-created-timestamps.test.ts drives -distributor.otel-created-timestamp-zero-ingestion-enabled
// through POST /otlp/v1/metrics (protobuf and JSON): a counter point whose start time is shortly
// before it gets a zero sample at the start time, read back with a range selector; the same
// request to a tenant without the option stores only the points; a start time sent again with
// every push (the usual SDK behaviour) is dropped quietly once it is out of order.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { nativeSkip } from '../testing/native-skip.js';
import { startTestServer } from '../testing/server.js';
import { encodeOtlpMetrics, encodeOtlpMetricsJson, OTLP_JSON, OTLP_PROTOBUF, type NumberPoint } from './otlp-request.js';

const skip = nativeSkip();
const run = Date.now().toString(36);
const ON = `ct-on-${run}`;
const OFF = `ct-off-${run}`;

interface MatrixAnswer {
  data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

t.test('OTLP start times as zero samples', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-ct-'));
  const runtimeFile = join(dir, 'runtime.yaml');
  writeFileSync(runtimeFile, `overrides:\n  ${ON}:\n    otel_created_timestamp_zero_ingestion_enabled: true\n`);
  const server = await startTestServer({ 'runtime-config.file': runtimeFile });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const body = (name: string, points: NumberPoint[], json = false): { data: string | Buffer; type: string } => {
    const req = [{ resource: { 'service.name': 'svc' }, metrics: [{ name, sum: { points, monotonic: true, temporality: 'cumulative' as const } }] }];
    return json ? { data: encodeOtlpMetricsJson(req), type: OTLP_JSON } : { data: encodeOtlpMetrics(req), type: OTLP_PROTOBUF };
  };
  const push = async (tenant: string, b: { data: string | Buffer; type: string }): Promise<void> => {
    const res = await httpRequest(server.port, '/otlp/v1/metrics', { headers: { 'X-Scope-OrgID': tenant, 'Content-Type': b.type }, body: b.data });
    t.equal(res.status, 200, res.body);
  };
  const samples = async (tenant: string, name: string): Promise<Array<[number, string]>> => {
    const q = new URLSearchParams({ query: `${name}[1h]`, time: String((now + 120_000) / 1000) });
    const res = await httpRequest(server.port, `/prometheus/api/v1/query?${q}`, { headers: { 'X-Scope-OrgID': tenant } });
    t.equal(res.status, 200, res.body);
    return jsonOf<MatrixAnswer>(res).data.result[0]?.values ?? [];
  };
  const s = (ms: number): number => ms / 1000;

  // A first point whose start equals its time, then one 30s later started 20s before it.
  const points: NumberPoint[] = [
    { timeMs: now - 30_000, startTimeMs: now - 30_000, value: 1000 },
    { timeMs: now, startTimeMs: now - 20_000, value: 100 },
  ];
  for (const [tenant, json] of [
    [ON, false],
    [OFF, false],
    [ON, true],
  ] as const) {
    const name = json ? 'requests_json' : 'requests';
    await push(tenant, body(name, points, json));
    const got = await samples(tenant, name);
    if (tenant === ON) {
      t.same(got, [[s(now - 30_000), '1000'], [s(now - 20_000), '0'], [s(now), '100']], `zero sample at the start time (${json ? 'JSON' : 'protobuf'})`);
    } else {
      t.same(got, [[s(now - 30_000), '1000'], [s(now), '100']], 'without the option only the points');
    }
  }

  // Start times too old (over 5m before the point) or after the point: no zero sample.
  await push(ON, body('too_old', [{ timeMs: now, startTimeMs: now - 3_600_000, value: 3 }]));
  t.same(await samples(ON, 'too_old'), [[s(now), '3']], 'a start time over 5m old is ignored');
  await push(ON, body('future', [{ timeMs: now, startTimeMs: now + 30_000, value: 3 }]));
  t.same(await samples(ON, 'future'), [[s(now), '3']], 'a start time after the point is ignored');

  // The SDK sends the same start time with every point: its zero sample is out of order from the
  // second push on and dropped without an error or partial success.
  for (const [i, v] of [5, 7, 9].entries()) {
    await push(ON, body('steady', [{ timeMs: now + i * 15_000, startTimeMs: now - 60_000, value: v }]));
  }
  t.same(await samples(ON, 'steady'), [[s(now - 60_000), '0'], [s(now), '5'], [s(now + 15_000), '7'], [s(now + 30_000), '9']]);
});
