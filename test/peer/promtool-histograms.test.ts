// promtool-histograms.test.ts (peer suite) checks that the native histograms
// we store reach our blocks as Prometheus 3.x reads them: a data set of
// integer and float histograms (exponential schemas, negative buckets, a
// counter reset, a gauge, custom buckets, a staleness marker, and a series
// that switches between floats and histograms) is pushed through the
// remote-write path, two 2h blocks are cut with writeBlock, and
// `promtool3 tsdb dump` must print exactly our samples (histograms as
// Histogram.String() prints them). The two blocks compacted into one must
// dump the same.

import t from 'tap';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sprintf } from '../../src/compat/gofmt.js';
import { encodeHistogramWriteRequest, type HistogramSeries, type NativeHistogram, type Span } from '../../src/remote/write-request-histograms.js';
import { loadNative, nativeBlockCompactor } from '../../src/storage/native.js';
import type { IngestLimits } from '../../src/model/limits.js';
import { defaultConfig, ingestLimits } from '../../src/config/config.js';
import { peerBinary, PEERS_INSTALL, skipUnless } from './lib/binary.js';
import { labelsKey, run } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';

const PROMTOOL3 = peerBinary('promtool3', 'PROMTOOL3_BIN', ['promtool3'], PEERS_INSTALL);
const RANGE = 2 * 3600 * 1000;
const STEP = 60_000;
const TENANT = `promtool-nh-${process.pid}`;
const STALE = 0x7ff0000000000002n;

/** Sent is one sample as sent: a float or a histogram. */
type Sent = { t: number; v: number } | { t: number; h: NativeHistogram };

/** absolute turns bucket deltas into counts. */
function absolute(deltas: number[]): number[] {
  let c = 0;
  return deltas.map((d) => (c += d));
}

/** bucketIndexes lists the bucket indexes the spans describe. */
function bucketIndexes(spans: Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const [offset, length] of spans) {
    idx += offset;
    for (let k = 0; k < length; k++) out.push(idx++);
  }
  return out;
}

/** bound is the upper bound of bucket `idx` for a schema <= 0 (a power of two, exact). */
function bound(idx: number, schema: number): number {
  return 2 ** (idx * 2 ** -schema);
}

const g = (x: number): string => sprintf('%g', [x]);

/** histogramString prints a histogram as Prometheus's Histogram.String() / FloatHistogram.String(). */
function histogramString(h: NativeHistogram): string {
  const stale = typeof h.sum === 'bigint';
  const sum = stale ? NaN : (h.sum as number);
  let out = h.kind === 'int' ? `{count:${h.count}, sum:${g(sum)}` : `{count:${g(h.count)}, sum:${g(sum)}`;
  if (stale) return out + '}';
  const counts = (b: number[]) => (h.kind === 'int' ? absolute(b) : b);
  const c = (n: number) => (h.kind === 'int' ? String(n) : g(n));
  const custom = h.schema === -53;
  const neg = bucketIndexes(h.negativeSpans).map((idx, i) => [idx, counts(h.negativeBuckets)[i]!] as const);
  for (const [idx, n] of [...neg].reverse()) {
    if (n !== 0) out += `, [${g(-bound(idx, h.schema))},${g(-bound(idx - 1, h.schema))}):${c(n)}`;
  }
  if (h.zeroCount !== 0) out += `, [${g(-h.zeroThreshold)},${g(h.zeroThreshold)}]:${c(h.zeroCount)}`;
  const pos = bucketIndexes(h.positiveSpans).map((idx, i) => [idx, counts(h.positiveBuckets)[i]!] as const);
  for (const [idx, n] of pos) {
    if (n === 0) continue;
    const [lo, hi] = custom
      ? [idx === 0 ? -Infinity : h.customValues[idx - 1]!, idx < h.customValues.length ? h.customValues[idx]! : Infinity]
      : [bound(idx - 1, h.schema), bound(idx, h.schema)];
    // The first custom bucket includes its lower bound (-Inf), as Prometheus prints it.
    out += `, ${custom && idx === 0 ? '[' : '('}${g(lo)},${g(hi)}]:${c(n)}`;
  }
  return out + '}';
}

function hist(t: number, over: Partial<NativeHistogram>): NativeHistogram {
  return { t, kind: 'int', hint: 0, schema: 0, zeroThreshold: 0.001, zeroCount: 0, count: 0, sum: 0, positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [], customValues: [], ...over };
}

/** buildData makes the data set over [base, base + 2 * RANGE), one sample a minute. */
function buildData(base: number): Map<string, { labels: Array<[string, string]>; samples: Sent[] }> {
  const data = new Map<string, { labels: Array<[string, string]>; samples: Sent[] }>();
  const add = (labels: Array<[string, string]>, s: Sent) => {
    const k = labelsKey(labels);
    const e = data.get(k) ?? { labels, samples: [] };
    e.samples.push(s);
    data.set(k, e);
  };
  const n = (2 * RANGE) / STEP;
  for (let i = 0; i < n; i++) {
    const t = base + i * STEP;
    // An integer counter, schema 0, with negative buckets and a counter reset at i = 150.
    const k = i < 150 ? i + 1 : i - 149;
    add([['__name__', 'nh_requests'], ['schema', '0']], {
      t,
      h: hist(t, { zeroCount: k, count: 7 * k, sum: 1.5 * k, positiveSpans: [[1, 3]], positiveBuckets: [k, k, -2 * k], negativeSpans: [[0, 2]], negativeBuckets: [k, k] }),
    });
    // Schema -2, buckets growing apart, some empty.
    add([['__name__', 'nh_requests'], ['schema', '-2']], {
      t,
      h: hist(t, { schema: -2, zeroThreshold: 0, count: 3 * i, sum: 100 * i, positiveSpans: [[0, 2], [2, 1]], positiveBuckets: [i, -i, 2 * i] }),
    });
    // Float counter, schema -1, fractional counts.
    add([['__name__', 'nh_float']], {
      t,
      h: hist(t, { kind: 'float', schema: -1, zeroCount: 0.5, count: 0.5 + i * 1.25, sum: i * 0.125, positiveSpans: [[2, 2]], positiveBuckets: [i * 0.75, i * 0.5] }),
    });
    // Float gauge going up and down.
    const gv = 10 + ((i * 7) % 13);
    add([['__name__', 'nh_gauge']], {
      t,
      h: hist(t, { kind: 'float', hint: 3, schema: 0, zeroCount: 1, count: 1 + gv, sum: -gv, negativeSpans: [[-1, 1]], negativeBuckets: [gv] }),
    });
    // Custom buckets; stale after i = 200.
    if (i <= 200) {
      add([['__name__', 'nh_custom']], {
        t,
        h:
          i === 200
            ? hist(t, { sum: STALE })
            : hist(t, { schema: -53, zeroThreshold: 0, count: 3 * i, sum: 3 * i, positiveSpans: [[0, 3], [1, 1]], positiveBuckets: [i, -i, i, 0], customValues: [0.25, 1, 2.5, 10] }),
      });
    }
    // Floats, then histograms, then floats again.
    const mixed: Array<[string, string]> = [['__name__', 'nh_mixed']];
    if (i < 60 || i >= 180) add(mixed, { t, v: i * 0.5 });
    else add(mixed, { t, h: hist(t, { zeroCount: i, count: i, sum: i }) });
  }
  return data;
}

/** defaultIngestLimits are Mimir's default limits at nowMs. */
function defaultIngestLimits(nowMs: number): IngestLimits {
  return ingestLimits(defaultConfig().limits, nowMs);
}

/** expectedDump is what `promtool tsdb dump` prints for the samples with from <= t < to, series in label order. */
function expectedDump(data: ReturnType<typeof buildData>, from: number, to: number): string[] {
  const lines: string[] = [];
  for (const k of [...data.keys()].sort()) {
    for (const s of data.get(k)!.samples) {
      if (s.t < from || s.t >= to) continue;
      lines.push(`${k} ${'h' in s ? histogramString(s.h) : g(s.v)} ${s.t}`);
    }
  }
  return lines;
}

/** firstDiff describes the first differing line. */
function firstDiff(got: string[], want: string[]): string {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (got[i] !== want[i]) return `line ${i}:\n got  ${got[i]}\n want ${want[i]}`;
  }
  return 'same';
}

t.test('promtool 3 dumps exactly the native histograms of our blocks', { skip: skipUnless(PROMTOOL3) }, async (t) => {
  const native = loadNative();
  native.resetTenant(TENANT);
  t.teardown(() => native.resetTenant(TENANT));
  const base = Math.floor(Date.now() / RANGE) * RANGE - 3 * RANGE;
  const data = buildData(base);

  // Pushed a minute at a time, in time order (a series changes type over time).
  let histograms = 0;
  let floats = 0;
  for (let t0 = base; t0 < base + 2 * RANGE; t0 += STEP) {
    const hs: HistogramSeries[] = [];
    const fs: Array<{ labels: Array<[string, string]>; samples: Array<[number, number]> }> = [];
    for (const { labels, samples } of data.values()) {
      for (const s of samples) {
        if (s.t !== t0) continue;
        if ('h' in s) hs.push({ labels, histograms: [s.h] });
        else fs.push({ labels, samples: [[s.t, s.v]] });
      }
    }
    const r = native.ingestWriteRequest(TENANT, encodeHistogramWriteRequest(hs, fs), defaultIngestLimits(base + 3 * RANGE));
    if (r.errorMessage) {
      t.fail(r.errorMessage);
      return;
    }
    histograms += r.acceptedHistograms ?? 0;
    floats += r.acceptedSamples;
  }
  const sentH = [...data.values()].reduce((n, s) => n + s.samples.filter((x) => 'h' in x).length, 0);
  const sentF = [...data.values()].reduce((n, s) => n + s.samples.filter((x) => !('h' in x)).length, 0);
  t.equal(histograms, sentH, 'every histogram stored');
  t.equal(floats, sentF, 'every float stored');

  const dir = await makeTempDir('promtool-nh-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const blocks = join(dir, 'blocks');
  const dirs: string[] = [];
  for (const [a, b] of [[base, base + RANGE], [base + RANGE, base + 2 * RANGE]] as const) {
    const w = native.writeBlock(TENANT, blocks, a, b);
    t.ok(w, `block [${a}, ${b})`);
    if (!w) return;
    dirs.push(join(blocks, w.ulid));
  }
  // promtool opens the directory as a TSDB: it wants a wal directory.
  await mkdir(join(blocks, 'wal'), { recursive: true });
  const dump = async (dbDir: string): Promise<string[]> => {
    const { stdout } = await run(PROMTOOL3.path, ['tsdb', 'dump', dbDir], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l !== '');
  };
  const want = expectedDump(data, base, base + 2 * RANGE);
  t.ok(want.length > 1000, `${want.length} samples expected`);
  const got = await dump(blocks);
  t.equal(got.length, want.length, 'as many samples as sent');
  t.equal(firstDiff(got, want), 'same', 'promtool 3 prints our samples exactly');
  // A histogram line looks as Prometheus prints it.
  t.ok(got.includes(`{__name__="nh_custom"} {count:3, sum:3, [-Inf,0.25]:1, (1,2.5]:1, (10,+Inf]:1} ${base + STEP}`), 'custom buckets');
  t.ok(got.includes(`{__name__="nh_custom"} {count:0, sum:NaN} ${base + 200 * STEP}`), 'the staleness marker');

  // Both blocks compacted into one dump the same.
  const compacted = join(dir, 'compacted');
  const c = await nativeBlockCompactor().compactBlocks(dirs, compacted, TENANT);
  t.ok(c, 'compacted');
  if (!c) return;
  await mkdir(join(compacted, 'wal'), { recursive: true });
  const gotC = await dump(compacted);
  t.equal(firstDiff(gotC, want), 'same', 'the compacted block dumps the same');
});
