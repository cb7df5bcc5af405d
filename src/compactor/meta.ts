// meta.ts reads the parts of a block's meta.json the compactor plans with
// (Prometheus's block meta plus Thanos's section, as Mimir stores them) and
// names the objects of the bucket layout: `<tenant>/<ULID>/meta.json`,
// `<tenant>/<ULID>/deletion-mark.json`, `<tenant>/markers/...`.

/** ULID_RE matches a block ID (26 characters of Crockford's base32). */
export const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** isUlid tells a block directory name from other objects. */
export function isUlid(s: string): boolean {
  return ULID_RE.test(s);
}

/** BlockMeta is what the compactor reads from meta.json. */
export interface BlockMeta {
  ulid: string;
  /** minTime is the first millisecond covered (inclusive). */
  minTime: number;
  /** maxTime is the end of the covered range (exclusive). */
  maxTime: number;
  level: number;
  /** sources are the level-1 blocks merged into this one (itself for a level-1 block). */
  sources: string[];
  /** labels are thanos.labels (external labels). */
  labels: Record<string, string>;
  /** resolution is thanos.downsample.resolution (0 for raw data). */
  resolution: number;
  /** source is thanos.source (ingester, compactor, ...). */
  source: string;
  /** files are thanos.files rel_paths, when listed. */
  files: string[];
  stats: { numSamples: number; numSeries: number; numChunks: number };
}

/** META_FILE, DELETION_MARK_FILE, MARKERS_DIR are the fixed names of the layout. */
export const META_FILE = 'meta.json';
export const DELETION_MARK_FILE = 'deletion-mark.json';
export const MARKERS_DIR = 'markers';
/** TENANT_DELETION_MARK is relative to the tenant's prefix. */
export const TENANT_DELETION_MARK = `${MARKERS_DIR}/tenant-deletion-mark.json`;

/** metaKey, deletionMarkKey, globalDeletionMarkKey locate a block's objects. */
export const metaKey = (tenant: string, id: string): string => `${tenant}/${id}/${META_FILE}`;
export const deletionMarkKey = (tenant: string, id: string): string => `${tenant}/${id}/${DELETION_MARK_FILE}`;
export const globalDeletionMarkKey = (tenant: string, id: string): string => `${tenant}/${MARKERS_DIR}/${id}-${DELETION_MARK_FILE}`;
export const tenantDeletionMarkKey = (tenant: string): string => `${tenant}/${TENANT_DELETION_MARK}`;

/** parseGlobalDeletionMark returns the block ID of a `markers/<ULID>-deletion-mark.json` name. */
export function parseGlobalDeletionMark(name: string): string | undefined {
  const suffix = `-${DELETION_MARK_FILE}`;
  if (!name.endsWith(suffix)) return undefined;
  const id = name.slice(0, -suffix.length);
  return isUlid(id) ? id : undefined;
}

/** MetaError is a meta.json that is not a version-1 block meta. */
export class MetaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaError';
  }
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MetaError(`meta.json: missing or invalid ${what}`);
  return v;
}

/** parseMeta parses meta.json, throwing a MetaError when it is corrupt. */
export function parseMeta(text: string): BlockMeta {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MetaError(`meta.json: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null) throw new MetaError('meta.json: not an object');
  if (v.version !== 1) throw new MetaError(`meta.json: unexpected meta file version ${String(v.version)}`);
  const ulid = v.ulid;
  if (typeof ulid !== 'string' || !isUlid(ulid)) throw new MetaError('meta.json: missing or invalid ulid');
  const comp = (v.compaction ?? {}) as Record<string, unknown>;
  const thanos = (v.thanos ?? {}) as Record<string, unknown>;
  const stats = (v.stats ?? {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  for (const [k, val] of Object.entries((thanos.labels ?? {}) as Record<string, unknown>)) if (typeof val === 'string') labels[k] = val;
  const sources = Array.isArray(comp.sources) ? comp.sources.filter((s): s is string => typeof s === 'string') : [];
  const files = Array.isArray(thanos.files)
    ? (thanos.files as Array<Record<string, unknown>>).map((f) => f?.rel_path).filter((p): p is string => typeof p === 'string')
    : [];
  return {
    ulid,
    minTime: num(v.minTime, 'minTime'),
    maxTime: num(v.maxTime, 'maxTime'),
    level: typeof comp.level === 'number' ? comp.level : 1,
    sources: sources.length > 0 ? sources : [ulid],
    labels,
    resolution: Number(((thanos.downsample ?? {}) as Record<string, unknown>).resolution ?? 0),
    source: typeof thanos.source === 'string' ? thanos.source : '',
    files,
    stats: {
      numSamples: Number(stats.numSamples ?? 0),
      numSeries: Number(stats.numSeries ?? 0),
      numChunks: Number(stats.numChunks ?? 0),
    },
  };
}

/** DeletionMark is a block's `deletion-mark.json` (Thanos's format). */
export interface DeletionMark {
  id: string;
  /** deletion_time in unix seconds. */
  deletion_time: number;
  version: 1;
  details?: string;
}

/** TenantDeletionMark is `markers/tenant-deletion-mark.json` (unix seconds). */
export interface TenantDeletionMark {
  deletion_time: number;
  finished_time?: number;
}
