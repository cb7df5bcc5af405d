// blocks-short-range.test.ts runs the ingester with a 10 s block range
// (-blocks-storage.tsdb.block-ranges-period=10s), as Mimir's tests run
// short ranges: the heads' chunk range follows the block range (as a
// Prometheus head's does), so a sample more than half a range older than the
// head's newest is out of bounds; blocks are cut every head compaction
// interval at 10 s boundaries while the head spans more than 15 s, and every
// sample stays queryable.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../app.js';
import { defaultConfig } from '../config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS, type TimeSeriesInput } from '../remote/write-request.js';
import { httpRequest } from '../testing/http-client.js';

const TENANT = 'short-range';
const RANGE = 10_000;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

t.test('a short block range: chunk range, out-of-bounds window and cuts follow it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mimir-short-range-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startServer(
    defaultConfig({
      'server.http-listen-address': '127.0.0.1',
      'server.http-listen-port': 0,
      'blocks-storage.tsdb.dir': join(dir, 'tsdb'),
      'blocks-storage.filesystem.dir': join(dir, 'bucket'),
      'blocks-storage.bucket-store.sync-dir': join(dir, 'sync'),
      'compactor.data-dir': join(dir, 'compactor'),
      'blocks-storage.tsdb.block-ranges-period': RANGE,
      'blocks-storage.tsdb.head-compaction-interval': 100,
      'blocks-storage.tsdb.ship-interval': 0,
      'blocks-storage.bucket-store.sync-interval': 0,
      'log.level': 'warn',
    }),
  );
  t.teardown(() => s.close());
  const push = (series: TimeSeriesInput[]): Promise<{ status: number; body: string }> =>
    httpRequest(s.port, '/api/v1/push', { headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT }, body: encodeWriteRequestSnappy(series) });

  // 40 s of one series, a second apart, one push per second of data.
  const base = Math.floor((Date.now() - 60_000) / RANGE) * RANGE;
  for (let k = 0; k < 40; k++) t.equal((await push([{ labels: [['__name__', 'm']], samples: [[base + k * 1000, k]] }])).status, 200);
  const maxT = base + 39_000;

  // Half a range (5 s) before the newest sample is the oldest a new series may start at.
  const old = await push([{ labels: [['__name__', 'late']], samples: [[maxT - 6_000, 1]] }]);
  t.equal(old.status, 400, 'six seconds before the newest: out of bounds');
  t.match(old.body, /the sample has been rejected because its timestamp is too old \(err-mimir-sample-timestamp-too-old\)/);
  t.equal((await push([{ labels: [['__name__', 'late']], samples: [[maxT - 4_000, 1]] }])).status, 200, 'four seconds before: accepted');

  // The head spans 39 s: the compaction cuts the ranges until it spans 15 s or less.
  const blocksDir = join(dir, 'tsdb', TENANT);
  const blocks = (): string[] => readdirSync(blocksDir).filter((n) => ULID_RE.test(n));
  for (let i = 0; i < 100 && blocks().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
  const metas = blocks()
    .map((b) => JSON.parse(readFileSync(join(blocksDir, b, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number; stats: { numSamples: number } })
    .sort((a, b) => a.minTime - b.minTime);
  t.same(
    metas.map((m) => [m.minTime - base, m.maxTime - base, m.stats.numSamples]),
    [
      [0, RANGE, 10],
      [RANGE, 2 * RANGE, 10],
      [2 * RANGE, 3 * RANGE, 10],
    ],
    'three 10 s blocks of ten samples each; the last 10 s stay in the head',
  );

  // Every sample still answers once, from the blocks and the head.
  const q = new URLSearchParams({ query: 'count_over_time(m[1m])', time: String((maxT + 1000) / 1000) });
  const res = await httpRequest(s.port, `/prometheus/api/v1/query?${q}`, { headers: { 'X-Scope-OrgID': TENANT } });
  t.equal(res.status, 200, res.body);
  t.equal((JSON.parse(res.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1], '40');
});
