// histogram-peers.ts starts the two sides of a native-histogram peer test: a
// Prometheus 3 remote-write receiver and our server, both holding the same
// histogram cases (histogram-write.ts) laid out around now, each write
// checked.

import type { Test } from 'tap';
import { compressSync } from '@napi-rs/snappy';
import { REMOTE_WRITE_HEADERS } from '../../../src/remote/write-request.js';
import type { HistogramSeries } from '../../../src/remote/write-request-histograms.js';
import { startTestServer, type TestServer } from '../../../src/testing/server.js';
import { PROMETHEUS3 } from './binary.js';
import { buildHistogramCases, encodeHistogramWriteRequest } from './histogram-write.js';
import { startPrometheus, type PrometheusProcess } from './prometheus.js';
import { layoutNow, type CaseLayout } from './xor-cases.js';


/** HistogramPeers are both servers with the cases they hold. */
export interface HistogramPeers {
  layout: CaseLayout;
  cases: HistogramSeries[];
  ref: PrometheusProcess;
  ours: TestServer;
}

/** startHistogramPeers writes the job's histogram cases to a fresh Prometheus 3 and to us (as tenant); both stop at teardown. */
export async function startHistogramPeers(t: Test, job: string, tenant: string): Promise<HistogramPeers> {
  const layout = layoutNow(Date.now());
  const cases = buildHistogramCases(layout, job);
  const body = new Uint8Array(compressSync(encodeHistogramWriteRequest(cases)));
  const ref = await startPrometheus([], PROMETHEUS3.path);
  t.teardown(() => ref.stop());
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const w1 = await fetch(ref.writeUrl, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body });
  t.equal(w1.status, 204, `Prometheus took the histograms ${await w1.text()}`);
  const w2 = await fetch(`http://127.0.0.1:${ours.port}/api/v1/push`, { method: 'POST', headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': tenant }, body });
  t.equal(w2.status, 200, `we took the histograms ${await w2.text()}`);
  return { layout, cases, ref, ours };
}
