// retry-after.test.ts: the Retry-After header of push answers a client should
// retry, as Mimir's distributor computes it (min-backoff doubled per
// Retry-Attempt, capped, 50% jitter, clamped), and through the real server:
// on a 429 from the ingestion rate limit (remote write and OTLP), not on a
// 400, and not at all with -distributor.retry-after-header.enabled=false.

import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { httpRequest } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';
import { retryAfterSeconds } from './retry-after.js';
import { nativeSkip } from '../testing/native-skip.js';

t.test('backoff per attempt', async (t) => {
  const low = (): number => 0;
  const high = (): number => 0.999999;
  const mid = (): number => 0.5;
  // Attempt 1: 6s with jitter of 3 either way, clamped at the 6s minimum.
  t.equal(retryAfterSeconds(undefined, 6000, 96_000, mid), '6');
  t.equal(retryAfterSeconds('1', 6000, 96_000, low), '6', 'jitter below the minimum is clamped');
  t.equal(retryAfterSeconds('1', 6000, 96_000, high), '9');
  // Attempt 3: 24s +- 12.
  t.equal(retryAfterSeconds('3', 6000, 96_000, mid), '24');
  t.equal(retryAfterSeconds('3', 6000, 96_000, low), '12');
  t.equal(retryAfterSeconds('3', 6000, 96_000, high), '36');
  // Attempt 10: capped at 96s, jitter cannot exceed it.
  t.equal(retryAfterSeconds('10', 6000, 96_000, high), '96');
  t.equal(retryAfterSeconds('10', 6000, 96_000, low), '48');
  for (const bad of ['', 'x', '2.5', '0', '-3']) t.equal(retryAfterSeconds(bad, 6000, 96_000, mid), '6', `Retry-Attempt ${JSON.stringify(bad)} counts as 1`);
  t.equal(retryAfterSeconds('1', 1000, 1000, high), '1', 'no jitter under 2s');
});

const skip = nativeSkip();
const run = Date.now().toString(36);

t.test('Retry-After on pushes', { skip }, async (t) => {
  const limited = { 'distributor.ingestion-rate-limit': 1, 'distributor.ingestion-burst-size': 2 };
  const body = encodeWriteRequestSnappy(
    Array.from({ length: 5 }, (_, i) => ({ labels: [['__name__', 'ra_metric'], ['i', String(i)]] as Array<[string, string]>, samples: [[Date.now(), 1]] as Array<[number, number]> })),
  );
  const srv = await startTestServer(limited);
  t.teardown(() => srv.close());

  let res = await httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': `ra-${run}` }, body });
  t.equal(res.status, 429, res.body);
  t.match(res.body, /err-mimir-tenant-max-ingestion-rate/);
  const first = Number(res.headers['retry-after']);
  t.ok(first >= 6 && first <= 9, `first attempt: Retry-After ${res.headers['retry-after']} in [6, 9]`);

  res = await httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': `ra-${run}`, 'Retry-Attempt': '4' }, body });
  t.equal(res.status, 429);
  const fourth = Number(res.headers['retry-after']);
  t.ok(fourth >= 24 && fourth <= 72, `Retry-Attempt 4: Retry-After ${res.headers['retry-after']} in [24, 72]`);

  res = await httpRequest(srv.port, '/otlp/v1/metrics', { headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': `ra-${run}` }, body: otlpGauges(5) });
  t.equal(res.status, 429, res.body);
  t.ok(Number(res.headers['retry-after']) >= 6, `OTLP 429 has Retry-After ${res.headers['retry-after']}`);

  res = await httpRequest(srv.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': `ra-bad-${run}` }, body: encodeWriteRequestSnappy([{ labels: [['__name__', 'bad name']], samples: [[Date.now(), 1]] }]) });
  t.equal(res.status, 400, res.body);
  t.equal(res.headers['retry-after'], undefined, 'no Retry-After on a 400');

  const off = await startTestServer({ ...limited, 'distributor.retry-after-header.enabled': false });
  t.teardown(() => off.close());
  res = await httpRequest(off.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': `ra-off-${run}` }, body });
  t.equal(res.status, 429);
  t.equal(res.headers['retry-after'], undefined, 'disabled: no header');
});

/** otlpGauges is an OTLP/JSON request with n gauge points. */
function otlpGauges(n: number): string {
  const now = String(Date.now() * 1_000_000);
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ra' } }] },
        scopeMetrics: [{ metrics: [{ name: 'ra_gauge', gauge: { dataPoints: Array.from({ length: n }, (_, i) => ({ timeUnixNano: now, asDouble: i, attributes: [{ key: 'i', value: { stringValue: String(i) } }] })) } }] }],
      },
    ],
  });
}
