// blocks.ts builds real TSDB blocks for tests (through the native head and
// block writer), ships them into a bucket as the ingester does (files
// first, meta.json last), and reads a tenant's bucket back the way a
// store-gateway does: complete blocks only, marked blocks and blocks whose
// sources another block covers left out.

import { decodeSeriesLabels } from '../model/series-labels.js';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Bucket } from '../storage/bucket/bucket.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { sourcesOf } from '../storage/block-meta.js';
import { Logger } from '../log.js';
import { visibleBucketBlocks } from '../storegateway/bucket-stores.js';
import { loadNative } from '../storage/native.js';

/** SeriesSamples is one series (flat [name, value, ...] labels) and its samples. */
export interface SeriesSamples {
  labels: string[];
  ts: number[];
  vs: number[];
}

let scratch = 0;

/** makeBlock writes a block of these series covering [mint, maxt) under dir and returns its path. */
export function makeBlock(dir: string, series: SeriesSamples[], mint: number, maxt: number): string {
  const b = loadNative();
  const tenant = `test-block-${process.pid}-${scratch++}`;
  for (const s of series) b.appendSamplesUnchecked(tenant, s.labels, Float64Array.from(s.ts), Float64Array.from(s.vs));
  const written = b.writeBlock(tenant, dir, mint, maxt);
  if (written === null) throw new Error('makeBlock: no samples in range');
  return join(dir, written.ulid);
}

/** listFiles lists the files under dir as `/`-separated relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  }
  return out.sort();
}

/** uploadBlock ships a block directory to `<tenant>/<ULID>/`, meta.json last; returns the ULID. */
export async function uploadBlock(bucket: Bucket, tenant: string, blockDir: string): Promise<string> {
  const id = blockDir.split(sep).pop()!;
  for (const f of await listFiles(blockDir)) {
    if (f !== 'meta.json') await bucket.upload(`${tenant}/${id}/${f}`, join(blockDir, ...f.split('/')));
  }
  await bucket.upload(`${tenant}/${id}/meta.json`, join(blockDir, 'meta.json'));
  return id;
}

/** VisibleBlock is a block a reader would query. */
export interface VisibleBlock {
  id: string;
  level: number;
  minTime: number;
  maxTime: number;
  sources: string[];
}

/**
 * visibleBlocks lists what a store-gateway reading the filesystem bucket at root would query: the
 * store-gateway's own rule (visibleBucketBlocks), so tests check the product's visibility, not a copy.
 */
export async function visibleBlocks(root: string, tenant: string): Promise<VisibleBlock[]> {
  const blocks = await visibleBucketBlocks(new FilesystemBucket(root), tenant, new Logger());
  return blocks.map(({ meta }) => ({
    id: meta.ulid,
    level: meta.compaction?.level ?? 1,
    minTime: meta.minTime,
    maxTime: meta.maxTime,
    sources: sourcesOf(meta),
  }));
}

/** readVisibleSamples reads every visible block: `labels@t` -> value, and the keys seen more than once. */
export async function readVisibleSamples(root: string, tenant: string): Promise<{ samples: Map<string, number>; duplicates: string[]; blocks: VisibleBlock[] }> {
  const b = loadNative();
  const blocks = await visibleBlocks(root, tenant);
  const samples = new Map<string, number>();
  const duplicates: string[] = [];
  for (const blk of blocks) {
    const sel = b.blockSelectSamples(join(root, tenant, blk.id), [], -1e15, 1e15);
    const labels = decodeSeriesLabels(sel.labels);
    labels.forEach((l, i) => {
      const key = JSON.stringify(l);
      for (let k = sel.offsets[i]!; k < sel.offsets[i + 1]!; k++) {
        const sk = `${key}@${sel.timestamps[k]}`;
        if (samples.has(sk)) duplicates.push(sk);
        samples.set(sk, sel.values[k]!);
      }
    });
  }
  return { samples, duplicates, blocks };
}

/** expectedSamples is the `labels@t` -> value map of series as readVisibleSamples renders it. */
export function expectedSamples(series: SeriesSamples[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of series) {
    const l: Record<string, string> = {};
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < s.labels.length; i += 2) pairs.push([s.labels[i]!, s.labels[i + 1]!]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [n, v] of pairs) l[n] = v;
    const key = JSON.stringify(l);
    s.ts.forEach((t, k) => out.set(`${key}@${t}`, s.vs[k]!));
  }
  return out;
}
