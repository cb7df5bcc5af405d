// remote-read-histograms-prometheus3.test.ts (peer suite) proves native
// histograms over remote read against a real Prometheus 3.x. The same
// histogram series (integer and float, gauges, custom buckets, counter
// resets, staleness markers) are remote-written to us and to a Prometheus 3
// remote-write receiver. As a reference server: STREAMED_XOR_CHUNKS answers
// of both hold the same chunks, byte for byte (histogram and float-histogram
// encodings, the open head chunk included). As a client: a second Prometheus 3
// with `remote_read` pointed at us answers a range selector over the
// histograms exactly as the reference Prometheus answers it from its own TSDB.

import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { startHistogramPeers } from './lib/histogram-peers.js';
import { mergeChunkedSeries, parseChunkedReadBody, postRemoteRead, ReadMatchType, ResponseType, type ChunkedSeries } from './lib/remote-read.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';
import { startTenantProxy } from './lib/tenant-proxy.js';
import { CHUNK_RANGE_MS } from './lib/xor-cases.js';

const TENANT = 'rr-nh-peer';
const JOB = 'rr_histograms';

function bySeries(list: ChunkedSeries[]): Map<string, ChunkedSeries> {
  return new Map(list.map((s) => [JSON.stringify(s.labels), s]));
}

t.test('native histograms over remote read, against Prometheus 3', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const { layout, cases, ref, ours } = await startHistogramPeers(t, JOB, TENANT);

  // Reference server: the same chunks, byte for byte.
  const query = [{ startMs: 0, endMs: layout.nowMs + CHUNK_RANGE_MS, matchers: [{ type: ReadMatchType.EQ, name: 'job', value: JOB }] }];
  const theirs = await postRemoteRead(ref.readUrl, query, [ResponseType.STREAMED_XOR_CHUNKS]);
  const mine = await postRemoteRead(`http://127.0.0.1:${ours.port}/prometheus/api/v1/read`, query, [ResponseType.STREAMED_XOR_CHUNKS], { 'X-Scope-OrgID': TENANT });
  t.equal(mine.status, 200);
  const want = bySeries(mergeChunkedSeries(parseChunkedReadBody(theirs.body)));
  const got = bySeries(mergeChunkedSeries(parseChunkedReadBody(mine.body)));
  t.equal(want.size, cases.length, 'Prometheus holds every series');
  t.same([...got.keys()], [...want.keys()], 'the same series, in the same order');
  let chunks = 0;
  let problems = 0;
  for (const [k, ws] of want) {
    const gs = got.get(k);
    if (!gs) continue;
    if (gs.chunks.length !== ws.chunks.length) {
      t.fail(`${k}: ${gs.chunks.length} chunks, Prometheus ${ws.chunks.length}`);
      continue;
    }
    for (const [i, wc] of ws.chunks.entries()) {
      const gc = gs.chunks[i]!;
      chunks++;
      if (gc.type !== wc.type || gc.minTimeMs !== wc.minTimeMs || gc.maxTimeMs !== wc.maxTimeMs || Buffer.compare(Buffer.from(gc.data), Buffer.from(wc.data)) !== 0) {
        if (++problems <= 3) t.fail(`${k} chunk ${i}: ours enc ${gc.type} [${gc.minTimeMs}, ${gc.maxTimeMs}] ${gc.data.length}B, Prometheus enc ${wc.type} [${wc.minTimeMs}, ${wc.maxTimeMs}] ${wc.data.length}B`);
      }
    }
  }
  t.equal(problems, 0, `all ${chunks} chunks byte-identical`);
  t.ok(chunks > cases.length, 'several chunks per series on average');

  // Client: a Prometheus 3 reading from us answers as the reference does.
  const proxy = await startTenantProxy(`http://127.0.0.1:${ours.port}`, TENANT);
  t.teardown(() => proxy.close());
  const dir = await makeTempDir('rr-nh-peer-');
  await writeFile(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 15s', 'scrape_configs: []', 'remote_read:', `  - url: ${proxy.url}/prometheus/api/v1/read`, '    read_recent: true', ''].join('\n'),
  );
  const port = await freePort();
  const client = await startServer({
    name: 'prometheus3-remote-read',
    command: PROMETHEUS3.path,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => client.stop());
  const at = Math.floor(layout.endMs / 1000) + 1;
  const window = Math.ceil((layout.endMs - layout.startMs) / 1000) + 60;
  const q = `/api/v1/query?query=${encodeURIComponent(`{job="${JOB}"}[${window}s]`)}&time=${at}`;
  const refAnswer = (await (await fetch(`${ref.baseUrl}${q}`)).json()) as { data: { result: unknown[] } };
  const clientAnswer = (await (await fetch(`${client.baseUrl}${q}`)).json()) as { data: { result: unknown[] } };
  t.equal(refAnswer.data.result.length, cases.length, 'the reference answers every series');
  t.same(clientAnswer.data.result, refAnswer.data.result, 'Prometheus 3 reading from us answers exactly as from its own TSDB');
  t.ok(proxy.exchanges.length > 0 && proxy.exchanges.every((x) => x.status === 200), 'it read from us');
  t.comment(`Prometheus 3 asked for response types ${JSON.stringify(proxy.exchanges.map((x) => x.contentType))}`);
});
