// wal-prometheus.test.ts (peer suite) checks that our WAL is Prometheus's
// format by having a real Prometheus 2.42 replay it: our server takes
// pushes (small segments, so records cross pages and segments), stops
// gracefully, its tenant WAL is copied to `<data>/wal` of a fresh
// Prometheus, which replays it at start; its query API must then return
// exactly the samples we acknowledged, series by series. Our head chunk
// files (chunks_head) go with the WAL: Prometheus loads those chunks and
// skips their samples in the WAL. It runs with WAL
// compression on (the default: snappy records, as Prometheus writes them) and
// off, against Debian's Prometheus 2.42 and the peers' Prometheus 3.x, with
// zstd records (-blocks-storage.tsdb.wal-compression-type=zstd) against
// Prometheus 3.x (2.42 predates zstd WALs), and checks that compression
// shrinks the WAL.

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

/** SNAPPY and ZSTD are the fragment-type bits of a compressed WAL record. */
const SNAPPY = 0x08;
const ZSTD = 0x10;

/** Compression is how our server is told to write its WAL. */
type Compression = 'snappy' | 'zstd' | 'off';

/** walBytes[compression] is our WAL's size for the same pushes, as measured by the runs below. */
const walBytes = new Map<Compression, number>();

for (const [peer, label, kinds] of [
  [PROMETHEUS, 'Prometheus 2.42', ['snappy', 'off']],
  [PROMETHEUS3, 'Prometheus 3.x', ['snappy', 'zstd', 'off']],
] as Array<[PeerBinary, string, Compression[]]>) {
  for (const compression of kinds) {
    t.test(`${label} replays our WAL (compression ${compression})`, { skip: skipUnless(peer) }, async (t) => {
      const bytes = await replayByPrometheus(t, peer.path, compression);
      walBytes.set(compression, bytes);
    });
  }
}

t.test('snappy and zstd records make the WAL smaller', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const off = walBytes.get('off');
  for (const kind of ['snappy', 'zstd'] as const) {
    const on = walBytes.get(kind);
    t.ok(on !== undefined && off !== undefined, `${kind} and plain runs measured`);
    t.ok(on! < off! * 0.75, `${kind} ${on} B, plain ${off} B`);
  }
});

/** startOurs starts our server on port with its storage under tsdbDir, plus extra flags. */
function startOurs(tsdbDir: string, port: number, extra: string[], cleanup?: string[]): ReturnType<typeof startServer> {
  return startServer({
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
      ...extra,
    ],
    port,
    readyPath: '/ready',
    cleanup,
  });
}

/** replayByPrometheus pushes into our server, has the Prometheus at promBin replay its WAL, checks every sample, and returns our WAL's bytes. */
async function replayByPrometheus(t: Test, promBin: string, compression: Compression): Promise<number> {
  const dir = await makeTempDir('wal-peer-');
  const tsdbDir = join(dir, 'tsdb');
  const port = await freePort();
  const ours = await startOurs(tsdbDir, port, [
    '-blocks-storage.tsdb.wal-segment-size-bytes=65536',
    `-blocks-storage.tsdb.wal-compression-enabled=${compression !== 'off'}`,
    `-blocks-storage.tsdb.wal-compression-type=${compression === 'zstd' ? 'zstd' : 'snappy'}`,
  ]);
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
  // The first record (series) is compressed exactly as asked.
  const first = await readFile(join(walDir, segments[0]!));
  const bits = first[0]! & (SNAPPY | ZSTD);
  t.equal(bits, compression === 'snappy' ? SNAPPY : compression === 'zstd' ? ZSTD : 0, `first fragment type ${first[0]}`);

  // Full chunks (120 samples at 1 s) are in our head chunk files: Prometheus loads them too and
  // skips their samples in the WAL, so a wrong chunk, ref or order would change its answers.
  const chunksDir = join(tsdbDir, TENANT, 'chunks_head');
  const chunkFiles = (await readdir(chunksDir)).sort();
  let chunkBytes = 0;
  for (const f of chunkFiles) chunkBytes += (await stat(join(chunksDir, f))).size;
  t.ok(chunkFiles.length > 0 && chunkBytes > SERIES * 100, `our head chunk files hold the full chunks (${chunkFiles.join(', ')}: ${chunkBytes} bytes)`);

  const promDir = join(dir, 'prom');
  await mkdir(join(promDir, 'data', 'wal'), { recursive: true });
  await mkdir(join(promDir, 'data', 'chunks_head'), { recursive: true });
  for (const f of segments) await copyFile(join(walDir, f), join(promDir, 'data', 'wal', f));
  for (const f of chunkFiles) await copyFile(join(chunksDir, f), join(promDir, 'data', 'chunks_head', f));
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
  t.notMatch(prom.output(), /corrupt|Encountered WAL read error|Loading on-disk chunks failed/i, 'Prometheus found no corruption');
  const metrics = await (await fetch(`${prom.baseUrl}/metrics`)).text();
  t.match(metrics, /^prometheus_tsdb_mmap_chunk_corruptions_total 0$/m, 'Prometheus read our head chunk files without corruption');
  return bytes;
}

// The other way round: a Prometheus 3.x writing zstd WAL records (scraping itself every 200 ms)
// is stopped, its WAL becomes a tenant's WAL of ours, and our server replays it at start: the
// samples of a query over its series are the ones Prometheus itself answered before stopping.
t.test('we replay a zstd WAL written by Prometheus 3.x', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const dir = await makeTempDir('wal-zstd-');
  const promDir = join(dir, 'prom');
  await mkdir(promDir, { recursive: true });
  const promPort = await freePort();
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    join(promDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 200ms\n  scrape_timeout: 100ms\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:${promPort}']\n`,
  );
  const prom = await startServer({
    name: 'prometheus',
    command: PROMETHEUS3.path,
    args: [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.wal-compression-type=zstd',
      '--log.level=warn',
    ],
    port: promPort,
    readyPath: '/-/ready',
  });
  // Targets reach the scrape loop after discovery's first update (up to 5 s); then a few
  // seconds of scrapes give several hundred series with a dozen samples each.
  const count = `/api/v1/query?query=${encodeURIComponent('count({job="self"})')}`;
  for (let i = 0; i < 150; i++) {
    const v = (await (await fetch(`${prom.baseUrl}${count}`)).json()) as { data: { result: unknown[] } };
    if (v.data.result.length > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 2500));
  const end = Date.now() / 1000;
  const q = `/api/v1/query?query=${encodeURIComponent('{job="self"}[1h]')}&time=${end}`;
  const theirs = (await (await fetch(`${prom.baseUrl}${q}`)).json()) as Matrix;
  await prom.stop();
  const promWal = join(promDir, 'data', 'wal');
  const segments = (await readdir(promWal)).filter((f) => /^\d+$/.test(f)).sort();
  t.ok(segments.length >= 1, `Prometheus wrote ${segments.length} segments`);
  const first = await readFile(join(promWal, segments[0]!));
  t.ok(first.length > 0 && (first[0]! & ZSTD) !== 0, `Prometheus's first record is zstd (type ${first[0]})`);

  const tsdbDir = join(dir, 'tsdb');
  const walDir = join(tsdbDir, TENANT, 'wal');
  await mkdir(walDir, { recursive: true });
  for (const f of segments) await copyFile(join(promWal, f), join(walDir, f));
  const port = await freePort();
  const ours = await startOurs(tsdbDir, port, [], [dir]);
  t.teardown(() => ours.stop());
  const mine = (await (await fetch(`${ours.baseUrl}/prometheus${q}`, { headers: { 'X-Scope-OrgID': TENANT } })).json()) as Matrix;
  const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());
  const byKey = new Map(mine.data.result.map((r) => [key(r.metric), r.values]));
  t.ok(theirs.data.result.length > 100, `Prometheus answered ${theirs.data.result.length} series`);
  let samples = 0;
  for (const r of theirs.data.result) {
    // What Prometheus answered before stopping was in its WAL; a scrape may have landed after the query.
    const got = byKey.get(key(r.metric));
    if (got === undefined) {
      t.fail(`series ${key(r.metric)} missing after our replay`);
      continue;
    }
    t.same(got.slice(0, r.values.length), r.values, key(r.metric));
    samples += r.values.length;
  }
  t.ok(samples > 1000, `${samples} samples compared`);
  t.notMatch(ours.output(), /corruption|corruptSegments=[1-9]|failedSegments=[1-9]/i, 'our replay found no corruption');
});
