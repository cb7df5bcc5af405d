// promtool-block.test.ts (peer suite) checks that the blocks we cut are
// Prometheus TSDB blocks as Prometheus 2.42 reads them: known samples are
// ingested into a tenant through the remote-write path, two 2h blocks are
// cut with writeBlock, and then `promtool tsdb analyze` and `promtool tsdb
// list` must report our series/chunk/sample counts and `promtool tsdb dump`
// must print exactly the samples we sent, no more, no fewer. Our own block
// reader (blockSelectSamples) must return them too, and report a truncated
// chunk file as an error. The other way round, blocks that `promtool tsdb
// create-blocks-from openmetrics` writes must read back through our reader.
// Finally a real Prometheus is fed the same samples until it cuts its own
// first 2h block from its head: ours for that range must hold the same
// series with the same chunks, byte for byte.

import { decodeSeriesLabels } from '../../src/model/series-labels.js';
import t from 'tap';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNative, TOO_MANY_SAMPLES_MESSAGE, type SelectedSamples, type WrittenBlock } from '../../src/storage/native.js';
import { MatchType } from '../../src/model/matchers.js';
import type { IngestLimits } from '../../src/model/limits.js';
import { defaultConfig, ingestLimits } from '../../src/config/config.js';
import { encodeWriteRequest, encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../../src/remote/write-request.js';
import { prometheusSkip, startPrometheus } from './lib/prometheus.js';
import { diffSeries, labelsKey, parseDump, PROMTOOL, promtoolSkip, run, type Sample } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';

const RANGE = 2 * 3600 * 1000;
const TENANT = `promtool-block-${process.pid}`;

/** selectedToMap turns selectSamples-shaped output into samples by series key. */
function selectedToMap(sel: SelectedSamples): Map<string, Sample[]> {
  const labels = decodeSeriesLabels(sel.labels) as Array<Record<string, string>>;
  const out = new Map<string, Sample[]>();
  labels.forEach((ls, i) => {
    const samples: Sample[] = [];
    for (let j = sel.offsets[i]!; j < sel.offsets[i + 1]!; j++) samples.push([sel.timestamps[j]!, sel.values[j]!]);
    out.set(labelsKey(Object.entries(ls)), samples);
  });
  return out;
}

/** buildSeries makes the data set: regular scrapes, irregular times and odd values, and late starters. */
function buildSeries(base: number): TimeSeriesInput[] {
  const series: TimeSeriesInput[] = [];
  for (const job of ['api', 'db', 'web']) {
    const samples: Sample[] = [];
    for (let k = 0; k < 3 * 240; k++) samples.push([base + k * 15_000, k * 0.25 + job.length]);
    series.push({ labels: [['__name__', 'http_requests_total'], ['job', job], ['code', '200']], samples });
  }
  const odd = [0, -0.5, 1e300, -1e-300, 5e-324, 123456789, 0.1, Infinity, -Infinity, 42, 1 / 3, 2 ** 53 + 2];
  const irregular: Sample[] = [];
  let ts = base + 1;
  for (let k = 0; k < 500; k++) {
    ts += 1 + ((k * 7919) % 40_000);
    irregular.push([ts, odd[k % odd.length]!]);
  }
  series.push({ labels: [['__name__', 'odd_values'], ['instance', 'host:9100'], ['quote', 'a "b" \\c']], samples: irregular });
  const late: Sample[] = [];
  for (let k = 0; k < 100; k++) late.push([base + RANGE + 60_000 + k * 30_000, k]);
  series.push({ labels: [['__name__', 'late_starter'], ['job', 'api']], samples: late });
  return series;
}

/** expected returns the sent samples with from <= t < to, by series key (series without any left out). */
function expected(series: TimeSeriesInput[], from: number, to: number): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const s of series) {
    const in_ = s.samples.filter(([ts]) => ts >= from && ts < to) as Sample[];
    if (in_.length > 0) out.set(labelsKey(s.labels), in_);
  }
  return out;
}

t.test('promtool reads the blocks we write', { skip: promtoolSkip }, async (t) => {
  const native = loadNative();
  native.resetTenant(TENANT);
  t.teardown(() => native.resetTenant(TENANT));
  const base = Math.floor(Date.now() / RANGE) * RANGE - 3 * RANGE;
  const series = buildSeries(base);
  const total = series.reduce((n, s) => n + s.samples.length, 0);
  const res = native.ingestWriteRequest(TENANT, encodeWriteRequest(series), defaultIngestLimits(base + 2 * RANGE));
  t.equal(res.acceptedSamples, total, `all samples accepted (${res.errorMessage ?? 'no error'})`);

  const dataDir = await makeTempDir('promtool-block-');
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const blocksDir = join(dataDir, 'blocks');

  t.equal(native.writeBlock(TENANT, blocksDir, base - RANGE, base), null, 'no block for a range without samples');
  t.equal(native.writeBlock('no-such-tenant', blocksDir, base, base + RANGE), null, 'no block for an unknown tenant');
  const ranges: Array<[number, number]> = [
    [base, base + RANGE],
    [base + RANGE, base + 2 * RANGE],
  ];
  const blocks: WrittenBlock[] = [];
  for (const [from, to] of ranges) {
    const b = await native.writeBlockAsync(TENANT, blocksDir, from, to);
    if (!b) throw new Error(`no block written for [${from}, ${to})`);
    blocks.push(b);
    const want = expected(series, from, to);
    let chunks = 0;
    for (const s of series) {
      const in_ = s.samples.filter(([ts]) => ts >= from && ts < to);
      if (in_.length === 0) continue;
      chunks += native.encodeXorChunks(Float64Array.from(in_, (x) => x[0]), Float64Array.from(in_, (x) => x[1])).length;
    }
    const samples = [...want.values()].reduce((n, l) => n + l.length, 0);
    t.same(
      { numSeries: b.numSeries, numSamples: b.numSamples, numChunks: b.numChunks, minTime: b.minTime, maxTime: b.maxTime },
      { numSeries: want.size, numSamples: samples, numChunks: chunks, minTime: from, maxTime: to },
      `block ${b.ulid} stats`,
    );
    t.ok((await stat(join(blocksDir, b.ulid, 'chunks', '000001'))).isFile(), 'chunk segment written');
    t.notOk(existsSync(join(blocksDir, `${b.ulid}.tmp`)), 'temporary directory renamed away');

    // Our reader: the same samples, with and without matchers.
    const sel = native.blockSelectSamples(join(blocksDir, b.ulid), [], from, to - 1);
    t.same(diffSeries(want, selectedToMap(sel)), [], `blockSelectSamples returns the samples of block ${b.ulid}`);
    const api = native.blockSelectSamples(join(blocksDir, b.ulid), [{ name: 'job', type: MatchType.Regexp, value: 'api|db' }], from, to - 1);
    const wantApi = new Map([...want].filter(([k]) => /job="(api|db)"/.test(k)));
    t.same(diffSeries(wantApi, selectedToMap(api)), [], 'blockSelectSamples honours matchers');
    t.throws(() => native.blockSelectSamples(join(blocksDir, b.ulid), [], from, to - 1, 10), { message: TOO_MANY_SAMPLES_MESSAGE }, 'maxSamples enforced');
  }

  // promtool opens the directory as a read-only TSDB, which needs a wal/ (and writes chunks_head/).
  const dbDir = join(dataDir, 'db');
  await cp(blocksDir, dbDir, { recursive: true });
  await mkdir(join(dbDir, 'wal'), { recursive: true });

  for (const b of blocks) {
    const { stdout } = await run(PROMTOOL, ['tsdb', 'analyze', '--extended', dbDir, b.ulid]);
    t.match(stdout, new RegExp(`^Block ID: ${b.ulid}$`, 'm'), 'analyze finds the block');
    t.match(stdout, /^Duration: 2h0m0s$/m, 'analyze reports a 2h block');
    t.match(stdout, new RegExp(`^Series: ${b.numSeries}$`, 'm'), 'analyze counts our series');
    t.match(stdout, /^Compaction analysis:/m, 'extended analysis read every chunk');
  }
  const { stdout: list } = await run(PROMTOOL, ['tsdb', 'list', dbDir]);
  for (const b of blocks) {
    const row = list.split('\n').find((l) => l.startsWith(b.ulid));
    t.ok(row, `tsdb list shows ${b.ulid}`);
    const cols = (row ?? '').trim().split(/\s+/);
    // ULID, min time, max time, duration, samples, chunks, series, size.
    t.same(cols.slice(1, 7), [String(b.minTime), String(b.maxTime), '2h0m0s', String(b.numSamples), String(b.numChunks), String(b.numSeries)], 'tsdb list row');
  }

  for (const [from, to] of ranges) {
    const { stdout } = await run(PROMTOOL, ['tsdb', 'dump', `--min-time=${from}`, `--max-time=${to - 1}`, dbDir], { maxBuffer: 64 << 20 });
    t.same(diffSeries(expected(series, from, to), parseDump(stdout)), [], `promtool tsdb dump [${from}, ${to}) prints exactly our samples`);
  }
  const { stdout: all } = await run(PROMTOOL, ['tsdb', 'dump', dbDir], { maxBuffer: 64 << 20 });
  t.same(diffSeries(expected(series, -Infinity, Infinity), parseDump(all)), [], 'promtool tsdb dump of the whole directory prints every sample once');

  // A truncated chunk file is an error naming the file, not a crash.
  const broken = join(dataDir, 'broken');
  await cp(join(blocksDir, blocks[0]!.ulid), broken, { recursive: true });
  const seg = join(broken, 'chunks', '000001');
  await truncate(seg, (await stat(seg)).size - 64);
  t.throws(() => native.blockSelectSamples(broken, [], -Infinity, Infinity), /truncated chunk file/, 'truncated chunk file reported');
});

t.test('our reader reads the blocks promtool writes', { skip: promtoolSkip }, async (t) => {
  const native = loadNative();
  const dir = await makeTempDir('promtool-om-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const base = 1_795_420_800_000;
  const series: TimeSeriesInput[] = [
    { labels: [['__name__', 'om_gauge'], ['job', 'x']], samples: [] },
    { labels: [['__name__', 'om_gauge'], ['job', 'y'], ['path', '/a b']], samples: [] },
  ];
  const lines: string[] = [];
  for (let k = 0; k < 600; k++) {
    // OpenMetrics times are seconds; keep them exact in binary (multiples of 1/8 s).
    const ts = base + k * 15_000 + (k % 8) * 125;
    series[0]!.samples.push([ts, k * 0.5]);
    series[1]!.samples.push([ts, -k / 4 - 1]);
    lines.push(`om_gauge{job="x"} ${k * 0.5} ${ts / 1000}`);
    lines.push(`om_gauge{job="y",path="/a b"} ${-k / 4 - 1} ${ts / 1000}`);
  }
  lines.push('# EOF', '');
  const input = join(dir, 'input.om');
  await writeFile(input, lines.join('\n'));
  const out = join(dir, 'blocks');
  await mkdir(out);
  await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', input, out]);
  const got = new Map<string, Sample[]>();
  const ulids = (await readdir(out)).sort();
  t.ok(ulids.length >= 2, `promtool wrote ${ulids.length} blocks`);
  for (const u of ulids) {
    for (const [k, samples] of selectedToMap(native.blockSelectSamples(join(out, u), [], -Infinity, Infinity))) {
      got.set(k, [...(got.get(k) ?? []), ...samples]);
    }
  }
  t.same(diffSeries(expected(series, -Infinity, Infinity), got), [], 'every sample of the promtool blocks read back');
  const only = selectedToMap(native.blockSelectSamples(join(out, ulids[0]!), [{ name: 'path', type: MatchType.Equal, value: '/a b' }], base, base + 60_000));
  t.same([...only.keys()], [labelsKey(series[1]!.labels)], 'matchers select on a promtool-written index');
  t.same(only.get(labelsKey(series[1]!.labels))?.length, 4, 'time range honoured (4 samples in the first minute)');
});

/** defaultIngestLimits are Mimir's default limits, with a wall clock far enough ahead for any test sample. */
function defaultIngestLimits(nowMs: number): IngestLimits {
  return ingestLimits(defaultConfig().limits, nowMs);
}

/** waitForBlock polls a Prometheus data directory until a block directory with a meta.json appears. */
async function waitForBlock(dataDir: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const names = existsSync(dataDir) ? await readdir(dataDir) : [];
    const ulid = names.find((n) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(n) && existsSync(join(dataDir, n, 'meta.json')));
    if (ulid) return join(dataDir, ulid);
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

t.test('our block equals the block Prometheus cuts from its head', { skip: prometheusSkip }, async (t) => {
  const native = loadNative();
  const tenant = `${TENANT}-vs-prometheus`;
  native.resetTenant(tenant);
  t.teardown(() => native.resetTenant(tenant));
  const base = Math.floor(Date.now() / RANGE) * RANGE - 4 * RANGE;
  const series: TimeSeriesInput[] = [];
  for (const job of ['a', 'b']) {
    const samples: Sample[] = [];
    for (let k = 0; k < 3.5 * 240; k++) samples.push([base + k * 15_000, Math.round(Math.sin(k / 10) * 1000) / 8]);
    series.push({ labels: [['__name__', 'scraped'], ['job', job]], samples });
  }
  // Dense samples: chunks cut by the 120-sample prediction, not the range end.
  const dense: Sample[] = [];
  for (let k = 0; k < 3.5 * 3600; k++) dense.push([base + k * 1000 + (k % 5), k % 17]);
  series.push({ labels: [['__name__', 'dense']], samples: dense });
  // Starts mid-range, with gaps and a rate change.
  const late: Sample[] = [];
  for (let k = 0; k < 400; k++) late.push([base + 50 * 60_000 + k * (k < 200 ? 10_000 : 37_000), k * 1.5]);
  series.push({ labels: [['__name__', 'late'], ['zone', 'eu']], samples: late });

  const prom = await startPrometheus();
  t.teardown(() => prom.stop());
  const res = await fetch(prom.writeUrl, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body: new Uint8Array(encodeWriteRequestSnappy(series)) });
  t.equal(res.status, 204, `Prometheus accepted the samples (${await res.text()})`);
  const promBlock = await waitForBlock(prom.dataDir, 60_000);
  if (!promBlock) {
    t.fail(`Prometheus cut no block:\n${prom.output()}`);
    return;
  }

  const ing = native.ingestWriteRequest(tenant, encodeWriteRequest(series), defaultIngestLimits(base + 4 * RANGE));
  t.equal(ing.acceptedSamples, series.reduce((n, s) => n + s.samples.length, 0), 'we accepted the samples');
  const dir = await makeTempDir('vs-prometheus-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ours = native.writeBlock(tenant, dir, base, base + RANGE);
  if (!ours) throw new Error('no block written');

  const promMeta = JSON.parse(await readFile(join(promBlock, 'meta.json'), 'utf8')) as {
    minTime: number;
    maxTime: number;
    stats: { numSamples: number; numSeries: number; numChunks: number };
  };
  t.same(
    { minTime: ours.minTime, maxTime: ours.maxTime, ...{ numSamples: ours.numSamples, numSeries: ours.numSeries, numChunks: ours.numChunks } },
    { minTime: promMeta.minTime, maxTime: promMeta.maxTime, ...promMeta.stats },
    'same time range and stats as Prometheus',
  );
  t.ok(ours.numSeries === 4 && ours.numChunks >= 70, `a block worth comparing (${ours.numSeries} series, ${ours.numChunks} chunks)`);
  const want = native.blockSelectChunks(promBlock, [], -Infinity, Infinity);
  const got = native.blockSelectChunks(join(dir, ours.ulid), [], -Infinity, Infinity);
  t.same(decodeSeriesLabels(got.labels), decodeSeriesLabels(want.labels), 'same series');
  t.same(Array.from(got.seriesOffsets), Array.from(want.seriesOffsets), 'same number of chunks per series');
  t.same(Array.from(got.minTimes), Array.from(want.minTimes), 'same chunk min times');
  t.same(Array.from(got.maxTimes), Array.from(want.maxTimes), 'same chunk max times');
  t.same(Array.from(got.encodings), Array.from(want.encodings), 'same chunk encodings');
  t.same(Array.from(got.dataOffsets), Array.from(want.dataOffsets), 'same chunk sizes');
  t.ok(Buffer.compare(got.data, want.data) === 0, 'same chunk bytes');
});
