// blocks.test.ts drives the block lifecycle through the real server and the
// native storage: pushed samples spanning several block ranges are cut into
// blocks by /ingester/flush, shipped to the filesystem bucket, the WAL is
// checkpointed, and every sample stays queryable - after a restart too, and
// after local retention removed the ingester's copies (then served from the
// bucket by the store-gateway).

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer, type RunningServer } from '../app.js';
import { defaultConfig } from '../config/config.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { httpRequest } from '../testing/http-client.js';

const TENANT = 'blocks-test';
const HOUR = 3_600_000;
const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const dir = mkdtempSync(join(tmpdir(), 'mimir-blocks-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tsdbDir = join(dir, 'tsdb');
const bucketDir = join(dir, 'bucket');

function start(extra: Record<string, string | number | boolean> = {}): Promise<RunningServer> {
  return startServer(
    defaultConfig({
      'server.http-listen-address': '127.0.0.1',
      'server.http-listen-port': 0,
      'blocks-storage.tsdb.dir': tsdbDir,
      'blocks-storage.filesystem.dir': bucketDir,
      'blocks-storage.bucket-store.sync-dir': join(dir, 'sync'),
      'compactor.data-dir': join(dir, 'compactor'),
      'blocks-storage.tsdb.head-compaction-interval': 0,
      'blocks-storage.tsdb.ship-interval': 0,
      'blocks-storage.bucket-store.sync-interval': 0,
      'log.level': 'warn',
      ...extra,
    }),
  );
}

const now = Date.now();
// Aligned so that the samples span exactly the 2h ranges they are meant to.
const base = Math.floor((now - 5 * HOUR) / (2 * HOUR)) * 2 * HOUR;
const upSamples: Array<[number, number]> = [];
for (let ts = base; ts <= now; ts += 60_000) upSamples.push([ts, upSamples.length]);
const oldSamples: Array<[number, number]> = [];
for (let ts = base; ts < base + HOUR; ts += 60_000) oldSamples.push([ts, 1]);

async function get(port: number, path: string, headers: Record<string, string> = { 'X-Scope-OrgID': TENANT }): Promise<{ status: number; body: string }> {
  return httpRequest(port, path, { headers });
}

async function queryAll(port: number): Promise<Map<string, number[]>> {
  const q = new URLSearchParams({ query: '{__name__=~"up|old"}', start: String((base - 60_000) / 1000), end: String((now + 60_000) / 1000), step: '60' });
  const res = await get(port, `/prometheus/api/v1/query_range?${q}`);
  if (res.status !== 200) throw new Error(`query_range ${res.status}: ${res.body}`);
  const data = JSON.parse(res.body) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  const out = new Map(data.data.result.map((r) => [r.metric.__name__ ?? '', r.values.map(([, v]) => Number(v))]));
  // A range function too: the fused head-only path before a cut, head and blocks merged after.
  q.set('query', 'rate(up[5m])');
  const rate = await get(port, `/prometheus/api/v1/query_range?${q}`);
  if (rate.status !== 200) throw new Error(`query_range ${rate.status}: ${rate.body}`);
  const rr = JSON.parse(rate.body) as { data: { result: Array<{ values: Array<[number, string]> }> } };
  out.set('rate(up[5m])', rr.data.result[0]?.values.map(([, v]) => Number(v)) ?? []);
  return out;
}

function localBlocks(): string[] {
  return readdirSync(join(tsdbDir, TENANT)).filter((n) => ULID_RE.test(n));
}

t.test('flush cuts blocks, ships them and checkpoints the WAL; all samples stay queryable', async (t) => {
  let s = await start();
  const push = await httpRequest(s.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: encodeWriteRequestSnappy([
      { labels: [['__name__', 'old'], ['job', 'a']], samples: oldSamples },
      { labels: [['__name__', 'up'], ['job', 'a']], samples: upSamples },
    ]),
  });
  t.equal(push.status, 200, push.body);
  const before = await queryAll(s.port);
  t.ok((before.get('up')?.length ?? 0) >= upSamples.length, 'every sample answered');

  t.equal((await httpRequest(s.port, '/ingester/flush?wait=true', { method: 'POST' })).status, 204);
  const blocks = localBlocks();
  const ranges = new Set(upSamples.map(([ts]) => Math.floor(ts / (2 * HOUR)))).size;
  t.equal(blocks.length, ranges, 'one block per 2h range');
  for (const b of blocks) t.ok(existsSync(join(bucketDir, TENANT, b, 'meta.json')), `block ${b} shipped`);
  t.ok(existsSync(join(bucketDir, TENANT, blocks[0]!, 'index')));
  const walDir = join(tsdbDir, TENANT, 'wal');
  t.ok(
    readdirSync(walDir).some((n) => n.startsWith('checkpoint.')),
    'a checkpoint replaced the segments',
  );
  t.same(await queryAll(s.port), before, 'same answer from the blocks');
  const series = await get(s.port, `/prometheus/api/v1/series?match[]=old&start=${base / 1000}&end=${now / 1000}`);
  t.match(series.body, /"old"/);
  const labels = await get(s.port, `/prometheus/api/v1/label/__name__/values`);
  t.same(JSON.parse(labels.body).data, ['old', 'up']);

  // Pages and admin endpoints.
  const tenants = await get(s.port, '/ingester/tenants', {});
  t.equal(tenants.status, 200);
  t.match(tenants.body, TENANT);
  const tsdb = await get(s.port, `/ingester/tsdb/${TENANT}`, {});
  for (const b of blocks) t.match(tsdb.body, b);
  t.equal((await get(s.port, '/ingester/tsdb/nobody', {})).status, 404);
  const metrics = await get(s.port, '/ingester/tsdb_metrics');
  t.match(metrics.body, `prometheus_tsdb_blocks_loaded ${ranges}`);
  t.equal((await get(s.port, '/ingester/prepare-shutdown', {})).body, 'unset');
  t.equal((await httpRequest(s.port, '/ingester/prepare-shutdown', { method: 'POST' })).status, 204);
  t.equal((await get(s.port, '/ingester/prepare-shutdown', {})).body, 'set');
  t.equal((await httpRequest(s.port, '/ingester/prepare-shutdown', { method: 'DELETE' })).status, 204);
  t.equal((await get(s.port, '/ingester/prepare-shutdown', {})).body, 'unset');
  const unreg = await httpRequest(s.port, '/ingester/unregister-on-shutdown', { method: 'PUT', body: '{"unregister": false}' });
  t.same(JSON.parse(unreg.body), { unregister: false });
  t.equal((await httpRequest(s.port, '/ingester/unregister-on-shutdown', { method: 'PUT', body: 'nope' })).status, 400);
  t.same(JSON.parse((await httpRequest(s.port, '/ingester/unregister-on-shutdown', { method: 'DELETE' })).body), { unregister: true });

  // Samples before the cut are refused now (out of bounds), the rest accepted.
  const late = await httpRequest(s.port, '/api/v1/push', {
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': TENANT },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'late']], samples: [[base + 1000, 1]] }]),
  });
  t.equal(late.status, 400);
  t.match(late.body, /err-mimir-sample-timestamp-too-old/);

  // Restart: the checkpoint and the local blocks bring everything back.
  await s.close();
  s = await start();
  t.same(await queryAll(s.port), before, 'same answer after a restart');
  await s.close();

  // Local retention: shipped blocks go once the store-gateway serves them; queries read the bucket.
  s = await start({ 'blocks-storage.tsdb.retention-period': 1, 'blocks-storage.tsdb.ship-interval': 100, 'blocks-storage.bucket-store.sync-interval': 100 });
  for (let i = 0; i < 100 && localBlocks().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.same(localBlocks(), [], 'local copies removed');
  t.same(await queryAll(s.port), before, 'same answer from the bucket');
  // Each cut block is served itself or through a compacted block made from it (the compactor merges
  // 2h blocks whose 12h range has ended, e.g. just after midnight UTC).
  const sg = await get(s.port, `/store-gateway/tenant/${TENANT}/blocks`, {});
  const listed = [...new Set(sg.body.match(/[0-9A-HJKMNP-TV-Z]{26}/g) ?? [])];
  const sources = listed.flatMap((id) => {
    const meta = JSON.parse(readFileSync(join(bucketDir, TENANT, id, 'meta.json'), 'utf8')) as { compaction?: { sources?: string[] } };
    return [id, ...(meta.compaction?.sources ?? [])];
  });
  for (const b of blocks) t.ok(sources.includes(b), `block ${b} served`);
  t.match((await get(s.port, '/store-gateway/tenants', {})).body, TENANT);
  await s.close();
});
