// remote-read-prometheus.test.ts (peer suite) proves remote read against a
// real Prometheus 2.42 two ways. As a client: a Prometheus with `remote_read`
// (read_recent: true) pointed at us, through a recording proxy, answers
// PromQL over our data exactly, and the proxy shows which response type it
// asked for and got (2.42's client sends no accepted_response_types, so
// SAMPLES; it also leaves out the configured `headers`, so the proxy sets
// X-Scope-OrgID). As a reference server: the same samples pushed to us and
// to a Prometheus remote-write receiver give the same remote-read answers, for
// SAMPLES and for STREAMED_XOR_CHUNKS (the same raw XOR chunk bytes for whole
// chunks; Prometheus trims the chunks at the edges of the range, we do not).

import snappy from '@napi-rs/snappy';
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeReadRequest, negotiateResponseType } from '../../src/remote/read-handler.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { startTestServer } from '../../src/testing/server.js';
import { PROMETHEUS_BIN, prometheusSkip, startPrometheus } from './lib/prometheus.js';
import { chunkedSamplesInRange, decodeSamplesBody, mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, STREAMED_CONTENT_TYPE } from './lib/remote-read.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';

const TENANT = 'rr-peer';
const skip = prometheusSkip;
const start = Math.floor(Date.now() / 1000) * 1000 - 40 * 60_000;

/** series: 5 series, 400 samples each 5s apart (several chunks each, the last one open). */
function series(): TimeSeriesInput[] {
  return Array.from({ length: 5 }, (_, s) => ({
    labels: [['__name__', 'rr_peer'], ['instance', `host-${s}:9100`], ['s', String(s)]] as Array<[string, string]>,
    samples: Array.from({ length: 400 }, (_, i) => [start + i * 5000, (s - 2) * 0.37 + i * (s % 2 === 0 ? 1 : 1e-3)] as [number, number]),
  }));
}

async function push(url: string, tenant?: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, ...(tenant === undefined ? {} : { 'X-Scope-OrgID': tenant }) },
    body: new Uint8Array(encodeWriteRequestSnappy(series())),
  });
  if (res.status >= 300) throw new Error(`push to ${url}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

interface Matrix {
  data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

t.test('Prometheus 2.42 remote_read against us', { skip }, async (t) => {
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  await push(`http://127.0.0.1:${ours.port}/api/v1/push`, TENANT);

  // The tenant proxy between Prometheus and us records the accepted types asked and the content
  // type answered; it sets X-Scope-OrgID, which Prometheus 2.42 leaves out (see lib/tenant-proxy.ts).
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());

  const dir = await makeTempDir('rr-peer-');
  const config = [
    'global:',
    '  scrape_interval: 15s',
    'scrape_configs: []',
    'remote_read:',
    `  - url: ${proxy.url}/prometheus/api/v1/read`,
    '    read_recent: true',
    '    headers:',
    `      X-Scope-OrgID: ${TENANT}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const promPort = await freePort();
  const prom = await startServer({
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());

  const end = (start + 400 * 5000) / 1000;
  const res = await fetch(`${prom.baseUrl}/api/v1/query?query=${encodeURIComponent('rr_peer[1h]')}&time=${end}`);
  t.equal(res.status, 200);
  const body = (await res.json()) as Matrix;
  t.equal(body.data.resultType, 'matrix');
  const want = series();
  t.same(
    body.data.result.map((r) => r.metric['s']),
    want.map((s) => s.labels[2]![1]),
    'every series through remote read',
  );
  for (const r of body.data.result) {
    const exp = want[Number(r.metric['s'])]!;
    t.same(r.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)]), exp.samples, `series ${r.metric['s']} samples exact`);
  }
  const sum = await fetch(`${prom.baseUrl}/api/v1/query?query=${encodeURIComponent('count(rr_peer{s=~"[0-2]"})')}&time=${end}`);
  t.same(((await sum.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]!.value[1], '3', 'matchers pushed down');

  const seen = proxy.exchanges.map((x) => ({
    tenantSent: x.requestHeaders['x-scope-orgid'],
    accepted: decodeReadRequest(snappy.uncompressSync(x.requestBody) as Buffer).acceptedResponseTypes,
    contentType: x.contentType,
    status: x.status,
  }));
  t.ok(seen.length > 0, 'Prometheus called our remote read');
  for (const s of seen) {
    t.equal(s.status, 200);
    const chosen = negotiateResponseType(s.accepted);
    t.equal(s.contentType, chosen === ResponseType.STREAMED_XOR_CHUNKS ? STREAMED_CONTENT_TYPE : 'application/x-protobuf', `accepted ${JSON.stringify(s.accepted)} answered ${s.contentType}`);
  }
  t.comment(`Prometheus 2.42 sent accepted_response_types ${JSON.stringify(seen[0]?.accepted)}, X-Scope-OrgID ${JSON.stringify(seen[0]?.tenantSent)}`);
});

t.test('our remote read answers as Prometheus 2.42 does for the same samples', { skip }, async (t) => {
  const ours = await startTestServer();
  t.teardown(() => ours.close());
  const prom = await startPrometheus();
  t.teardown(() => prom.stop());
  // Another tenant than the first test's: the native heads are process-global.
  const tenant = `${TENANT}-ref`;
  await push(`http://127.0.0.1:${ours.port}/api/v1/push`, tenant);
  await push(prom.writeUrl);

  const queries = [
    { startMs: start, endMs: start + 400 * 5000, matchers: [{ type: ReadMatchType.EQ, name: '__name__', value: 'rr_peer' }] },
    { startMs: start + 600_000, endMs: start + 900_000, matchers: [{ type: ReadMatchType.RE, name: 's', value: '[13]' }, { type: ReadMatchType.NEQ, name: '__name__', value: 'x' }] },
  ];
  const ourUrl = `http://127.0.0.1:${ours.port}/prometheus/api/v1/read`;
  const hdr = { 'X-Scope-OrgID': tenant };

  const a = await postRemoteRead(ourUrl, queries, [ResponseType.SAMPLES], hdr);
  const b = await postRemoteRead(prom.readUrl, queries, [ResponseType.SAMPLES]);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  t.equal(a.contentType, b.contentType);
  t.same(decodeSamplesBody(a.body), decodeSamplesBody(b.body), 'SAMPLES: same series and sample bits');

  const c = await postRemoteRead(ourUrl, queries, [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES], hdr);
  const d = await postRemoteRead(prom.readUrl, queries, [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES]);
  t.equal(c.status, 200);
  t.equal(d.status, 200);
  t.equal(c.contentType, d.contentType);
  const ourFrames = parseChunkedReadBody(c.body);
  const theirFrames = parseChunkedReadBody(d.body);
  // Query 0 covers whole chunks: Prometheus sends them as stored, as we do, byte for byte.
  t.same(mergeChunkedSeries(ourFrames, 0), mergeChunkedSeries(theirFrames, 0), 'STREAMED_XOR_CHUNKS, whole chunks: same series and chunk bytes');
  // Query 1 cuts chunks: Prometheus 2.42 re-encodes the chunks at the edges trimmed to the range,
  // we send them whole (clients filter by time); the samples within the range are the same.
  const ours1 = chunkedSamplesInRange(ourFrames, 1, queries[1]!.startMs, queries[1]!.endMs);
  t.equal(ours1.length, 2, 'query 1 selects two series');
  t.same(ours1, chunkedSamplesInRange(theirFrames, 1, queries[1]!.startMs, queries[1]!.endMs), 'STREAMED_XOR_CHUNKS, partial range: same series and samples');
});
