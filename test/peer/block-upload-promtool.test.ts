// block-upload-promtool.test.ts (peer suite): a block written by Prometheus's
// own tooling (`promtool tsdb create-blocks-from openmetrics`) is uploaded
// through the block upload API, as mimirtool backfill does, into the S3
// backend talking to a real S3-compatible server (moto) on loopback. It must
// validate and complete, and then sit in the bucket as the store-gateway
// reads blocks: `<tenant>/<ULID>/{meta.json,index,chunks/000001}`, markers
// gone, meta.json sanitized by Mimir's rules, every sample readable.
// Then the ingester cuts a block from pushed samples and ships it to the same
// S3 bucket, and queries still answer every sample.

import { decodeSeriesLabels } from '../../src/model/series-labels.js';
import t from 'tap';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/config.js';
import { createBucket } from '../../src/storage/bucket/index.js';
import { loadNative } from '../../src/storage/native.js';
import { BlockUploadClient } from '../../src/testing/block-upload-client.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { PROMTOOL, promtoolSkip, run } from './lib/promtool.js';
import { makeTempDir } from './lib/server-process.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3SkipReason, startS3Server } from './lib/s3-server.js';

const HOUR = 3600_000;

function skipReason(): string | false {
  return promtoolSkip || s3SkipReason();
}

t.test('a promtool block uploads through the API into S3 and completes', { skip: skipReason() }, async (t) => {
  const dir = await makeTempDir('block-upload-peer-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s3 = await startS3Server('uploads');
  t.teardown(() => s3.stop());
  const flags = {
    'blocks-storage.backend': 's3',
    'blocks-storage.s3.endpoint': s3.endpoint,
    'blocks-storage.s3.bucket-name': s3.bucket,
    'blocks-storage.s3.access-key-id': S3_ACCESS_KEY,
    'blocks-storage.s3.secret-access-key': S3_SECRET_KEY,
    'blocks-storage.s3.insecure': true,
    'compactor.block-upload-enabled': true,
    'compactor.data-dir': join(dir, 'compactor'),
    // The store-gateway picks the uploaded block up quickly.
    'blocks-storage.bucket-store.sync-interval': 100,
    'blocks-storage.bucket-store.sync-dir': join(dir, 'sync'),
  };
  const srv = await startTestServer(flags);
  t.teardown(() => srv.close());

  // One hour of 15s samples of two series, inside one 2h window a few hours ago.
  const base = Math.floor((Date.now() - 8 * HOUR) / (2 * HOUR)) * 2 * HOUR;
  const lines: string[] = [];
  const want = new Map<string, number[]>([
    ['x', []],
    ['y', []],
  ]);
  for (let k = 0; k < 240; k++) {
    const ts = base + k * 15_000;
    lines.push(`backfill_gauge{job="x"} ${k * 0.5} ${ts / 1000}`);
    lines.push(`backfill_gauge{job="y"} ${-k} ${ts / 1000}`);
    want.get('x')!.push(k * 0.5);
    want.get('y')!.push(-k);
  }
  lines.push('# EOF', '');
  await writeFile(join(dir, 'input.om'), lines.join('\n'));
  const out = join(dir, 'blocks');
  await mkdir(out);
  await run(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'input.om'), out]);
  const ulids = (await readdir(out)).filter((n) => /^[0-9A-Z]{26}$/.test(n));
  t.equal(ulids.length, 1, 'promtool wrote one block');
  const ulid = ulids[0]!;

  const client = new BlockUploadClient(srv.port, 'backfill-tenant');
  t.same(await client.upload(ulid, join(out, ulid)), { result: 'complete' });

  const bucket = createBucket(defaultConfig(flags));
  t.teardown(() => bucket.close());
  t.same(await bucket.list('backfill-tenant/'), [`backfill-tenant/${ulid}/`]);
  t.same(await bucket.list(`backfill-tenant/${ulid}/`, { recursive: true }), [
    `backfill-tenant/${ulid}/chunks/000001`,
    `backfill-tenant/${ulid}/index`,
    `backfill-tenant/${ulid}/meta.json`,
  ]);
  const meta = JSON.parse((await bucket.get(`backfill-tenant/${ulid}/meta.json`)).toString('utf8')) as Record<string, any>;
  t.equal(meta['ulid'], ulid);
  t.equal(meta['version'], 1);
  t.equal(meta['minTime'], base);
  t.equal(meta['maxTime'], base + 239 * 15_000 + 1, "promtool's range kept");
  t.same(meta['stats'], { numSamples: 480, numSeries: 2, numChunks: 4 }, "promtool's stats kept");
  t.same(meta['compaction'], { level: 1, sources: [ulid] });
  t.same(meta['thanos']['labels'], {});
  t.equal(meta['thanos']['source'], 'upload');
  t.same(
    meta['thanos']['files'].map((f: { rel_path: string }) => f.rel_path),
    ['chunks/000001', 'index', 'meta.json'],
  );

  // What the store-gateway will do: fetch the block and read it.
  const local = join(dir, 'fetched', ulid);
  for (const key of await bucket.list(`backfill-tenant/${ulid}/`, { recursive: true })) {
    await bucket.download(key, join(local, key.slice(`backfill-tenant/${ulid}/`.length)));
  }
  const got = loadNative().blockSelectSamples(local, [], -Infinity, Infinity);
  const labels = decodeSeriesLabels(got.labels) as Array<Record<string, string>>;
  t.same(
    labels.map((l) => l['job']),
    ['x', 'y'],
  );
  for (let i = 0; i < labels.length; i++) {
    const values = Array.from(got.values.subarray(got.offsets[i]!, got.offsets[i + 1]!));
    t.same(values, want.get(labels[i]!['job']!), `every sample of job ${labels[i]!['job']}`);
  }

  // Then it is queryable through the query API (served by the store-gateway).
  const q = new URLSearchParams({ query: 'backfill_gauge', start: String(base / 1000), end: String((base + 239 * 15_000) / 1000), step: '15' });
  let result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> = [];
  for (let i = 0; i < 100 && result.length < 2; i++) {
    const res = await httpRequest(srv.port, `/prometheus/api/v1/query_range?${q}`, { headers: { 'X-Scope-OrgID': 'backfill-tenant' } });
    t.equal(res.status, 200, res.body);
    result = (JSON.parse(res.body) as { data: { result: typeof result } }).data.result;
    if (result.length < 2) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(
    result.map((r) => [r.metric['job'], r.values.map(([, v]) => Number(v))]),
    [
      ['x', want.get('x')],
      ['y', want.get('y')],
    ],
    'the uploaded block answers queries',
  );
  // The store-gateway reads the block from S3 by range: its sync dir keeps the small files and
  // the index-header, never the index or the chunks, and the bytes it fetched are counted.
  t.same((await readdir(join(dir, 'sync', 'backfill-tenant', ulid))).sort(), ['bucket-block.json', 'index-header', 'meta.json'], 'the sync dir holds no index or chunks');
  const metrics = (await httpRequest(srv.port, '/metrics')).body;
  const fetched = Number(/^cortex_bucket_store_get_range_fetched_bytes_total (\S+)$/m.exec(metrics)?.[1]);
  t.ok(fetched > 0, `ranged reads fetched ${fetched} bytes`);
  t.match(metrics, /^thanos_objstore_bucket_operations_total\{bucket="store-gateway",operation="get_range"\} [1-9]/m);

  t.equal((await client.start(ulid, {})).status, 409, 'a second upload of the block is refused');

  // The ingester ships the blocks it cuts to the same S3 bucket, and they are queried back.
  const pushed: Array<[number, number]> = [];
  const from = base + 2 * HOUR;
  for (let ts = from; ts < from + 2 * HOUR; ts += 60_000) pushed.push([ts, pushed.length]);
  const push = await httpRequest(srv.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'shipper-tenant' },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'shipped_gauge']], samples: pushed }]),
  });
  t.equal(push.status, 200, push.body);
  t.equal((await httpRequest(srv.port, '/ingester/flush?tenant=shipper-tenant&wait=true', { method: 'POST' })).status, 204);
  const shipped = (await bucket.list('shipper-tenant/')).filter((k) => /\/[0-9A-HJKMNP-TV-Z]{26}\/$/.test(k));
  t.equal(shipped.length, 1, 'the cut block is in S3');
  const files = await bucket.list(shipped[0]!, { recursive: true });
  t.same(
    files.map((k) => k.slice(shipped[0]!.length)),
    ['chunks/000001', 'index', 'meta.json', 'tombstones'],
    'with all its files',
  );
  const qs = new URLSearchParams({ query: 'count_over_time(shipped_gauge[2h])', time: String((from + 2 * HOUR - 1) / 1000) });
  const counted = await httpRequest(srv.port, `/prometheus/api/v1/query?${qs}`, { headers: { 'X-Scope-OrgID': 'shipper-tenant' } });
  t.match(counted.body, `"${pushed.length}"`, 'every pushed sample is answered after the cut');
});
