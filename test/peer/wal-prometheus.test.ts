// wal-prometheus.test.ts (peer suite) checks that our WAL is Prometheus's
// format by having a real Prometheus 2.42 replay it: our server takes
// pushes (small segments, so records cross pages and segments), stops
// gracefully, its tenant WAL is copied to `<data>/wal` of a fresh
// Prometheus, which replays it at start; its query API must then return
// exactly the samples we acknowledged, series by series. It runs with WAL
// compression on (the default: snappy records, as Prometheus writes them) and
// off, against Debian's Prometheus 2.42 and the peers' Prometheus 3.x, and
// checks that compression shrinks the WAL.

import t, { type Test } from 'tap';
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { PROMETHEUS, PROMETHEUS3, skipUnless, type PeerBinary } from './lib/binary.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const TENANT = 'wal-peer';
const SERIES = 60;
const PUSHES = 40;

interface Matrix {
  data: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
}

/** SNAPPY is the fragment-type bit of a snappy-compressed WAL record. */
const SNAPPY = 0x08;

/** walBytes[compressed] is our WAL's size for the same pushes, as measured by the runs below. */
const walBytes = new Map<boolean, number>();

for (const [peer, label] of [
  [PROMETHEUS, 'Prometheus 2.42'],
  [PROMETHEUS3, 'Prometheus 3.x'],
] as Array<[PeerBinary, string]>) {
  for (const compressed of [true, false]) {
    t.test(`${label} replays our WAL (compression ${compressed ? 'on' : 'off'})`, { skip: skipUnless(peer) }, async (t) => {
      const bytes = await replayByPrometheus(t, peer.path, compressed);
      walBytes.set(compressed, bytes);
    });
  }
}

t.test('snappy records make the WAL smaller', { skip: skipUnless(PROMETHEUS) }, async (t) => {
  const on = walBytes.get(true);
  const off = walBytes.get(false);
  t.ok(on !== undefined && off !== undefined, 'both runs measured');
  t.ok(on! < off! * 0.75, `compressed ${on} B, plain ${off} B`);
});

/** replayByPrometheus pushes into our server, has the Prometheus at promBin replay its WAL, checks every sample, and returns our WAL's bytes. */
async function replayByPrometheus(t: Test, promBin: string, compressed: boolean): Promise<number> {
  const dir = await makeTempDir('wal-peer-');
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
      '-blocks-storage.tsdb.wal-segment-size-bytes=65536',
      `-blocks-storage.tsdb.wal-compression-enabled=${compressed}`,
    ],
    port,
    readyPath: '/ready',
  });
  const start = Date.now() - 50 * 60_000;
  const want = new Map<string, Array<[number, number]>>();
  for (let p = 0; p < PUSHES; p++) {
    const series: TimeSeriesInput[] = [];
    for (let s = 0; s < SERIES; s++) {
      const samples: Array<[number, number]> = [];
      for (let k = 0; k < 5; k++) {
        const ts = start + (p * 5 + k) * 1000;
        // Awkward values: negative, fractional, huge, zero.
        samples.push([ts, ((s - 30) * 1.25e-3 + p * k) * (s % 7 === 0 ? 1e300 : 1)]);
      }
      const key = String(s);
      want.set(key, [...(want.get(key) ?? []), ...samples]);
      series.push({ labels: [['__name__', 'wal_peer'], ['instance', `host-${s}.example:9100`], ['s', key]], samples });
    }
    const res = await fetch(`${ours.baseUrl}/api/v1/push`, {
      method: 'POST',
      body: new Uint8Array(encodeWriteRequestSnappy(series)),
      headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    });
    t.equal(res.status, 200, `push ${p}`);
    await res.arrayBuffer();
  }
  await ours.stop();
  const walDir = join(tsdbDir, TENANT, 'wal');
  const segments = (await readdir(walDir)).sort();
  t.ok(segments.length > 1, `our WAL has ${segments.length} segments`);
  let bytes = 0;
  for (const f of segments) bytes += (await stat(join(walDir, f))).size;
  // The first record (series) is snappy-compressed exactly when compression is on.
  const first = await readFile(join(walDir, segments[0]!));
  t.equal((first[0]! & SNAPPY) !== 0, compressed, `first fragment type ${first[0]}`);

  const promDir = join(dir, 'prom');
  await mkdir(join(promDir, 'data', 'wal'), { recursive: true });
  for (const f of segments) await copyFile(join(walDir, f), join(promDir, 'data', 'wal', f));
  const promPort = await freePort();
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(promDir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  const prom = await startServer({
    name: 'prometheus',
    command: promBin,
    args: [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=info',
    ],
    port: promPort,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  t.teardown(() => prom.stop());
  const end = (start + PUSHES * 5 * 1000) / 1000;
  const res = await fetch(`${prom.baseUrl}/api/v1/query?query=${encodeURIComponent('wal_peer[2h]')}&time=${end}`);
  t.equal(res.status, 200);
  const body = (await res.json()) as Matrix;
  t.equal(body.data.resultType, 'matrix');
  t.equal(body.data.result.length, SERIES, 'every series replayed by Prometheus');
  let compared = 0;
  for (const r of body.data.result) {
    const exp = want.get(r.metric['s']!)!;
    t.same(
      r.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)]),
      exp,
      `series ${r.metric['s']}`,
    );
    t.equal(r.metric['instance'], `host-${r.metric['s']}.example:9100`);
    compared += r.values.length;
  }
  t.equal(compared, SERIES * PUSHES * 5, 'every sample replayed by Prometheus');
  t.notMatch(prom.output(), /corrupt|Encountered WAL read error/i, 'Prometheus found no corruption');
  return bytes;
}
