// block-meta.ts is a block's meta.json as Mimir's compactor reads and writes
// it for the block upload API: decoding with the strictness of Go's
// encoding/json into Mimir's block.Meta (unknown fields dropped, wrong types
// refused), the sanitising and checks of an uploaded meta, and encoding in
// Go's field order (compact JSON and a newline, as json.Encoder writes).

/** META_FILENAME is the name a complete block's metadata has in the bucket. */
export const META_FILENAME = 'meta.json';

/** ALLOWED_REL_PATH matches the files an uploaded block may have besides meta.json. */
export const ALLOWED_REL_PATH = /^(index|chunks\/\d{6})$/;

/** External labels (thanos.labels) Mimir knows: the shard label kept, the deprecated ones dropped. */
export const COMPACTOR_SHARD_ID_LABEL = '__compactor_shard_id__';
const DEPRECATED_LABELS = new Set(['__org_id__', '__ingester_id__', '__shard_id__']);

/** BlockFile is one entry of thanos.files. */
export interface BlockFile {
  rel_path: string;
  size_bytes?: number;
  hash?: { func: string; value: string };
}

/** BlockMeta is Mimir's block.Meta: Prometheus's BlockMeta and the thanos section. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: Record<string, number>;
  compaction: {
    level: number;
    sources?: string[];
    parents?: Array<{ ulid: string; minTime: number; maxTime: number }>;
    failed?: boolean;
    deletable?: boolean;
    hints?: string[];
  };
  version: number;
  thanos: {
    labels: Record<string, string>;
    downsample: { resolution: number };
    source: string;
    segment_files?: string[];
    files?: BlockFile[];
    index_stats?: { series_max_size?: number; chunk_max_size?: number };
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * parseUlid returns the canonical (upper-case) form of a ULID, or undefined
 * when it is not 26 Crockford base32 characters within the 128-bit range.
 */
export function parseUlid(s: string): string | undefined {
  if (s.length !== 26) return undefined;
  const up = s.toUpperCase();
  for (const c of up) if (!CROCKFORD.includes(c)) return undefined;
  if (up[0]! > '7') return undefined;
  return up;
}

/** MalformedMeta is thrown by decodeMeta for what Go's json.Unmarshal would refuse. */
class MalformedMeta extends Error {}

function fail(what: string): never {
  throw new MalformedMeta(what);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** int reads an int64 field: absent or null is 0, a fraction or a non-number is refused. */
function int(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(what);
  return v;
}

function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(what);
  return v;
}

function ulidField(v: unknown, what: string): string {
  if (v === undefined || v === null) return '00000000000000000000000000';
  const s = str(v, what);
  return parseUlid(s) ?? fail(what);
}

function arr(v: unknown, what: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(what);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail(what);
  return v;
}

const STATS_FIELDS = ['numSamples', 'numFloatSamples', 'numHistogramSamples', 'numSeries', 'numChunks', 'numTombstones'] as const;

/** decodeMeta parses a meta.json body; undefined when Go would fail to unmarshal it into block.Meta. */
export function decodeMeta(text: string): BlockMeta | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  try {
    const m = obj(raw, 'meta');
    const stats: Record<string, number> = {};
    const rawStats = obj(m['stats'], 'stats');
    for (const f of STATS_FIELDS) {
      const n = int(rawStats[f], f);
      if (n !== 0) stats[f] = n;
    }
    const c = obj(m['compaction'], 'compaction');
    const compaction: BlockMeta['compaction'] = { level: int(c['level'], 'level') };
    const sources = arr(c['sources'], 'sources');
    if (sources !== undefined && sources.length > 0) compaction.sources = sources.map((s) => ulidField(s, 'source'));
    const parents = arr(c['parents'], 'parents');
    if (parents !== undefined && parents.length > 0) {
      compaction.parents = parents.map((p) => {
        const po = obj(p, 'parent');
        return { ulid: ulidField(po['ulid'], 'parent'), minTime: int(po['minTime'], 'parent'), maxTime: int(po['maxTime'], 'parent') };
      });
    }
    if (c['failed'] !== undefined && c['failed'] !== null) {
      if (typeof c['failed'] !== 'boolean') fail('failed');
      if (c['failed']) compaction.failed = true;
    }
    if (c['deletable'] !== undefined && c['deletable'] !== null) {
      if (typeof c['deletable'] !== 'boolean') fail('deletable');
      if (c['deletable']) compaction.deletable = true;
    }
    const hints = arr(c['hints'], 'hints');
    if (hints !== undefined && hints.length > 0) compaction.hints = hints.map((h) => str(h, 'hint'));

    const th = obj(m['thanos'], 'thanos');
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(th['labels'], 'labels'))) labels[k] = str(v, 'label');
    const thanos: BlockMeta['thanos'] = {
      labels,
      downsample: { resolution: int(obj(th['downsample'], 'downsample')['resolution'], 'resolution') },
      source: str(th['source'], 'source'),
    };
    const segments = arr(th['segment_files'], 'segment_files');
    if (segments !== undefined && segments.length > 0) thanos.segment_files = segments.map((s) => str(s, 'segment'));
    const files = arr(th['files'], 'files');
    if (files !== undefined && files.length > 0) {
      thanos.files = files.map((f) => {
        const fo = obj(f, 'file');
        const out: BlockFile = { rel_path: str(fo['rel_path'], 'rel_path') };
        const size = int(fo['size_bytes'], 'size_bytes');
        if (size !== 0) out.size_bytes = size;
        if (isObject(fo['hash'])) out.hash = { func: str(fo['hash']['func'], 'hash'), value: str(fo['hash']['value'], 'hash') };
        return out;
      });
    }
    if (th['index_stats'] !== undefined && th['index_stats'] !== null) {
      const is = obj(th['index_stats'], 'index_stats');
      const stats2: NonNullable<BlockMeta['thanos']['index_stats']> = {};
      const s = int(is['series_max_size'], 'series_max_size');
      const ch = int(is['chunk_max_size'], 'chunk_max_size');
      if (s !== 0) stats2.series_max_size = s;
      if (ch !== 0) stats2.chunk_max_size = ch;
      if (Object.keys(stats2).length > 0) thanos.index_stats = stats2;
    }
    return {
      ulid: ulidField(m['ulid'], 'ulid'),
      minTime: int(m['minTime'], 'minTime'),
      maxTime: int(m['maxTime'], 'maxTime'),
      stats,
      compaction,
      version: int(m['version'], 'version'),
      thanos,
    };
  } catch (err) {
    if (err instanceof MalformedMeta) return undefined;
    throw err;
  }
}

/** encodeMeta renders meta as Go's json.Encoder does (fields in block.Meta's order, a trailing newline). */
export function encodeMeta(meta: BlockMeta): string {
  return JSON.stringify(meta) + '\n';
}

/** blockBytes is the sum of the sizes thanos.files declares. */
export function blockBytes(meta: BlockMeta): number {
  return (meta.thanos.files ?? []).reduce((sum, f) => sum + (f.size_bytes ?? 0), 0);
}

/**
 * sanitizeForUpload brings an uploaded meta in line with what the compactor
 * stores, as Mimir does: the ULID becomes the block ID of the URL, empty
 * shard and deprecated external labels go, the block is its own only source
 * without parents, and its source is `upload`.
 */
export function sanitizeForUpload(meta: BlockMeta, blockId: string): void {
  meta.ulid = blockId;
  for (const [l, v] of Object.entries(meta.thanos.labels)) {
    if ((l === COMPACTOR_SHARD_ID_LABEL && v === '') || DEPRECATED_LABELS.has(l)) delete meta.thanos.labels[l];
  }
  delete meta.compaction.parents;
  meta.compaction.sources = [blockId];
  meta.thanos.source = 'upload';
}

/** SHARD_ID matches a valid shard label value, `<index>_of_<count>` with 1 <= index <= count. */
function validShardId(v: string): boolean {
  const m = /^(\d+)_of_(\d+)$/.exec(v);
  if (m === null) return false;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return index >= 1 && count >= 1 && index <= count;
}

/** rfc3339 formats ms as Go's time.RFC3339 in UTC. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * checkMeta returns what is wrong with a (sanitized) uploaded meta, in
 * Mimir's words, or undefined: labels, file paths and sizes, the block size
 * limit (0 = none), the version and the time range (not in the future).
 */
export function checkMeta(meta: BlockMeta, maxBlockSizeBytes: number, nowMs: number): string | undefined {
  if (meta.thanos.downsample.resolution > 0) return 'block contains downsampled data';
  for (const [l, v] of Object.entries(meta.thanos.labels)) {
    if (l === COMPACTOR_SHARD_ID_LABEL) {
      if (v !== '' && !validShardId(v)) return `invalid ${COMPACTOR_SHARD_ID_LABEL} external label: ${JSON.stringify(v)}`;
    } else if (!DEPRECATED_LABELS.has(l)) {
      return `unsupported external label: ${l}`;
    }
  }
  for (const f of meta.thanos.files ?? []) {
    if (f.rel_path === META_FILENAME) continue;
    if (!ALLOWED_REL_PATH.test(f.rel_path)) return `file with invalid path: ${f.rel_path}`;
    if ((f.size_bytes ?? 0) <= 0) return `file with invalid size: ${f.rel_path}`;
  }
  const tooBig = checkMaxBlockSize(meta, maxBlockSizeBytes);
  if (tooBig !== undefined) return tooBig;
  if (meta.version !== 1) return 'version must be 1';
  if (meta.minTime < 0 || meta.maxTime < 0 || meta.maxTime < meta.minTime) {
    return `invalid minTime/maxTime: minTime=${meta.minTime}, maxTime=${meta.maxTime}`;
  }
  if (meta.minTime > nowMs || meta.maxTime > nowMs) {
    return `block time(s) greater than the present: minTime=${meta.minTime} (${rfc3339(meta.minTime)}), maxTime=${meta.maxTime} (${rfc3339(meta.maxTime)})`;
  }
  return undefined;
}

/** checkMaxBlockSize refuses a block whose declared files add up to more than the limit (0 = none). */
export function checkMaxBlockSize(meta: BlockMeta, maxBlockSizeBytes: number): string | undefined {
  if (maxBlockSizeBytes <= 0) return undefined;
  let total = 0;
  for (const f of meta.thanos.files ?? []) {
    if ((f.size_bytes ?? 0) < 0) return 'invalid negative file size in block metadata';
    total += f.size_bytes ?? 0;
  }
  if (total > maxBlockSizeBytes) return `block exceeds the maximum block size limit of ${maxBlockSizeBytes} bytes`;
  return undefined;
}

/** goTimeString formats ms as Go's time.Time.String() of a UTC time ("2024-01-02 03:04:05.5 +0000 UTC"). */
export function goTimeString(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac === '' ? '' : '.' + frac} +0000 UTC`;
}
