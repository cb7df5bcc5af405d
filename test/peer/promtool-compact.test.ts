// promtool-compact.test.ts (peer suite) checks that a block our compactor
// merged is a Prometheus TSDB block as Prometheus 2.42 reads it: two
// replicas of one 2h range (overlapping chunks, some timestamps in both) and
// the next 2h block are compacted into one 4h block, then `promtool tsdb
// analyze --extended` and `promtool tsdb list` must report its counts and
// `promtool tsdb dump` must print exactly the union of the source samples,
// each timestamp once. Our reader must return the same.

import { decodeSeriesLabels } from '../../src/model/series-labels.js';
import t from 'tap';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNative, nativeBlockCompactor } from '../../src/storage/native.js';
import { makeBlock, type SeriesSamples } from '../../src/testing/blocks.js';
import { diffSeries, labelsKey, pairsOf, parseDump, PROMTOOL, promtoolSkip, run, type Sample } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';

const H = 3_600_000;

/** union merges the series by labels, one sample per timestamp. */
function union(all: SeriesSamples[]): Map<string, Sample[]> {
  const by = new Map<string, Map<number, number>>();
  for (const s of all) {
    const k = labelsKey(pairsOf(s.labels));
    const m = by.get(k) ?? new Map<number, number>();
    s.ts.forEach((ts, i) => m.set(ts, s.vs[i]!));
    by.set(k, m);
  }
  const out = new Map<string, Sample[]>();
  for (const [k, m] of by) out.set(k, [...m.entries()].sort((a, b) => a[0] - b[0]));
  return out;
}

function series(labels: string[], from: number, to: number, step: number, value: (t: number) => number): SeriesSamples {
  const ts: number[] = [];
  for (let x = from; x < to; x += step) ts.push(x);
  return { labels, ts, vs: ts.map(value) };
}

t.test('a compacted block reads back through promtool with exactly the union of the samples', { skip: promtoolSkip }, async (t) => {
  const dir = await makeTempDir('promtool-compact-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const odd = [0, -0.5, 1e300, -1e-300, 5e-324, Infinity, -Infinity, 1 / 3, 2 ** 53 + 2];
  const api = ['__name__', 'http_requests_total', 'job', 'api'];
  // Replica 1: every 30s. Replica 2: every 20s, so every 60s both have the same timestamp (same value).
  const r1 = [series(api, 0, 2 * H, 30_000, (x) => x / 1000), series(['__name__', 'odd', 'quote', 'a "b"'], 0, 2 * H, 7_000, (x) => odd[(x / 7000) % odd.length]!)];
  const r2 = [series(api, 0, 2 * H, 20_000, (x) => x / 1000), series(['__name__', 'only_r2'], H, 2 * H, 15_000, () => 7)];
  const next = [series(api, 2 * H, 4 * H, 30_000, (x) => x / 1000), series(['__name__', 'late'], 3 * H, 4 * H, 60_000, (x) => -x)];
  const scratch = join(dir, 'scratch');
  const sources = [makeBlock(scratch, r1, 0, 2 * H), makeBlock(scratch, r2, 0, 2 * H), makeBlock(scratch, next, 2 * H, 4 * H)];

  const dbDir = join(dir, 'db');
  const b = await nativeBlockCompactor().compactBlocks(sources, dbDir, 'team-a');
  t.ok(b, 'a block was written');
  const want = union([...r1, ...r2, ...next]);
  const wantSamples = [...want.values()].reduce((n, l) => n + l.length, 0);
  t.equal(b!.numSamples, wantSamples, 'meta stats count each timestamp once');
  t.equal(b!.numSeries, want.size);
  t.equal(b!.level, 2);
  const meta = JSON.parse(await readFile(join(dbDir, b!.ulid, 'meta.json'), 'utf8'));
  t.equal(meta.compaction.parents.length, 3, 'meta.json names its parents');
  t.equal(meta.thanos.source, 'compactor');

  // promtool opens the directory as a read-only TSDB, which needs a wal/.
  await mkdir(join(dbDir, 'wal'), { recursive: true });
  const { stdout: analyze } = await run(PROMTOOL, ['tsdb', 'analyze', '--extended', dbDir, b!.ulid]);
  t.match(analyze, new RegExp(`^Block ID: ${b!.ulid}$`, 'm'));
  t.match(analyze, /^Duration: 4h0m0s$/m);
  t.match(analyze, new RegExp(`^Series: ${want.size}$`, 'm'));
  t.match(analyze, /^Compaction analysis:/m, 'extended analysis read every chunk');
  const { stdout: list } = await run(PROMTOOL, ['tsdb', 'list', dbDir]);
  const cols = (list.split('\n').find((l) => l.startsWith(b!.ulid)) ?? '').trim().split(/\s+/);
  t.same(cols.slice(1, 7), ['0', String(4 * H), '4h0m0s', String(wantSamples), String(b!.numChunks), String(want.size)], 'tsdb list row');
  const { stdout: dump } = await run(PROMTOOL, ['tsdb', 'dump', dbDir], { maxBuffer: 64 << 20 });
  t.same(diffSeries(want, parseDump(dump)), [], 'promtool tsdb dump prints exactly the union, each timestamp once');

  const sel = loadNative().blockSelectSamples(join(dbDir, b!.ulid), [], -1e15, 1e15);
  const ours = new Map<string, Sample[]>();
  (decodeSeriesLabels(sel.labels) as Array<Record<string, string>>).forEach((ls, i) => {
    const samples: Sample[] = [];
    for (let j = sel.offsets[i]!; j < sel.offsets[i + 1]!; j++) samples.push([sel.timestamps[j]!, sel.values[j]!]);
    ours.set(labelsKey(Object.entries(ls)), samples);
  });
  t.same(diffSeries(want, ours), [], 'our reader returns the same');
});
