// wal-histograms-prometheus3.test.ts (peer suite) checks that the native
// histograms in our WAL are in Prometheus 3.x's format: the histogram series
// of the bit-exact suite (integer and float, gauges, custom buckets, counter
// resets, staleness markers) are pushed to our server (small WAL segments),
// which stops gracefully; its tenant WAL is copied to `<data>/wal` of a fresh
// Prometheus 3, which replays it at start. Its query API must then answer a
// range selector over them exactly as a reference Prometheus 3 that took the
// same remote write answers it.

import t from 'tap';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressSync } from '@napi-rs/snappy';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { buildHistogramCases, encodeHistogramWriteRequest } from './lib/histogram-write.js';
import { startPrometheus } from './lib/prometheus.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';
import { layoutNow } from './lib/xor-cases.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const TENANT = 'wal-nh-peer';
const JOB = 'wal_histograms';

t.test('Prometheus 3 replays the native histograms of our WAL', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const layout = layoutNow(Date.now());
  const cases = buildHistogramCases(layout, JOB);
  const body = new Uint8Array(compressSync(encodeHistogramWriteRequest(cases)));

  const ref = await startPrometheus([], PROMETHEUS3.path);
  t.teardown(() => ref.stop());
  const w = await fetch(ref.writeUrl, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body });
  t.equal(w.status, 204, `the reference took the histograms ${await w.text()}`);

  const dir = await makeTempDir('wal-nh-peer-');
  const tsdbDir = join(dir, 'tsdb');
  const port = await freePort();
  const ours = await startServer({
    name: 'ours',
    command: process.execPath,
    args: [
      MAIN,
      '-server.http-listen-address=127.0.0.1',
      `-server.http-listen-port=${port}`,
      `-blocks-storage.tsdb.dir=${tsdbDir}`,
      `-blocks-storage.filesystem.dir=${tsdbDir}-bucket`,
      `-blocks-storage.bucket-store.sync-dir=${tsdbDir}-sync`,
      `-compactor.data-dir=${tsdbDir}-compactor`,
      '-blocks-storage.tsdb.wal-segment-size-bytes=32768',
    ],
    port,
    readyPath: '/ready',
  });
  const res = await fetch(`${ours.baseUrl}/api/v1/push`, { method: 'POST', body, headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT } });
  t.equal(res.status, 200, `we took the histograms ${await res.text()}`);
  await ours.stop();

  const walDir = join(tsdbDir, TENANT, 'wal');
  const segments = (await readdir(walDir)).filter((f) => /^\d+$/.test(f)).sort();
  // How many segments the (compressed) records fill depends on the timestamps of the run.
  t.ok(segments.length >= 1, `our WAL has ${segments.length} segments`);
  const promDir = join(dir, 'prom');
  await mkdir(join(promDir, 'data', 'wal'), { recursive: true });
  for (const f of segments) await copyFile(join(walDir, f), join(promDir, 'data', 'wal', f));
  await writeFile(join(promDir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const promPort = await freePort();
  const prom = await startServer({
    name: 'prometheus3-replay',
    command: PROMETHEUS3.path,
    args: [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=info'],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());

  const at = Math.floor(layout.endMs / 1000) + 1;
  const window = Math.ceil((layout.endMs - layout.startMs) / 1000) + 60;
  const q = `/api/v1/query?query=${encodeURIComponent(`{job="${JOB}"}[${window}s]`)}&time=${at}`;
  const want = (await (await fetch(`${ref.baseUrl}${q}`)).json()) as { data: { result: Array<{ histograms?: unknown[] }> } };
  const got = (await (await fetch(`${prom.baseUrl}${q}`)).json()) as { data: { result: Array<{ histograms?: unknown[] }> } };
  t.equal(want.data.result.length, cases.length, 'the reference answers every series');
  // Range selectors leave staleness markers out: the reference holds what is left of those sent.
  const sent = cases.reduce((n, c) => n + c.histograms.length, 0);
  const count = (r: { data: { result: Array<{ histograms?: unknown[] }> } }) => r.data.result.reduce((n, x) => n + (x.histograms?.length ?? 0), 0);
  t.ok(count(want) > sent * 0.9 && count(want) <= sent, `the reference answers ${count(want)} of ${sent} histograms`);
  t.equal(count(got), count(want), 'every histogram replayed');
  t.same(got.data.result, want.data.result, 'Prometheus 3 answers from our WAL exactly as from its own');
  t.notMatch(prom.output(), /corrupt|Encountered WAL read error|unknown series references/i, 'Prometheus found no corruption');
});
