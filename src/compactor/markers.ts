// markers.ts writes and reads the marker objects of the bucket layout and
// deletes blocks in a crash-safe order:
//
// - a block deletion mark is `<tenant>/<ULID>/deletion-mark.json` plus the
//   global copy `<tenant>/markers/<ULID>-deletion-mark.json` Mimir reads
//   (written in that order; marking again keeps the first deletion time);
// - deleting a block removes meta.json first (the block becomes partial and
//   every reader ignores it), then its other files, then the deletion marks;
// - a tenant deletion mark is `<tenant>/markers/tenant-deletion-mark.json`.

import { type Bucket, isNotFound } from '../storage/bucket/bucket.js';
import {
  DELETION_MARK_FILE,
  type DeletionMark,
  META_FILE,
  type TenantDeletionMark,
  deletionMarkKey,
  globalDeletionMarkKey,
  isUlid,
  tenantDeletionMarkKey,
} from './meta.js';

/** readJson reads an object as JSON; undefined when it does not exist. */
async function readJson<T>(bucket: Bucket, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await bucket.get(key)).toString('utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * markForDeletion marks a block for deletion (block location, then the global markers
 * location). Returns false when it was fully marked already.
 */
export async function markForDeletion(bucket: Bucket, tenant: string, id: string, details: string, nowMs: number): Promise<boolean> {
  let mark: DeletionMark | undefined;
  try {
    mark = await readJson<DeletionMark>(bucket, deletionMarkKey(tenant, id));
  } catch {
    mark = undefined; // A corrupt mark is rewritten.
  }
  const hadLocal = mark !== undefined && typeof mark.deletion_time === 'number';
  if (!hadLocal) {
    mark = { id, deletion_time: Math.floor(nowMs / 1000), version: 1, details };
    await bucket.put(deletionMarkKey(tenant, id), Buffer.from(JSON.stringify(mark), 'utf8'));
  }
  if (hadLocal && (await bucket.exists(globalDeletionMarkKey(tenant, id)))) return false;
  await bucket.put(globalDeletionMarkKey(tenant, id), Buffer.from(JSON.stringify(mark), 'utf8'));
  return true;
}

/**
 * deleteBlock removes every object of a block, meta.json first and the deletion marks last;
 * afterMeta runs once meta.json is gone (crash tests).
 */
export async function deleteBlock(bucket: Bucket, tenant: string, id: string, afterMeta?: () => void): Promise<void> {
  const prefix = `${tenant}/${id}/`;
  await bucket.delete(`${prefix}${META_FILE}`);
  afterMeta?.();
  for (const key of await bucket.list(prefix, { recursive: true })) {
    if (key === `${prefix}${DELETION_MARK_FILE}`) continue;
    await bucket.delete(key);
  }
  await bucket.delete(deletionMarkKey(tenant, id));
  await bucket.delete(globalDeletionMarkKey(tenant, id));
}

/** listTenants lists the tenants with objects in the bucket (top-level directories), sorted. */
export async function listTenants(bucket: Bucket): Promise<string[]> {
  return (await bucket.list(''))
    .filter((k) => k.endsWith('/'))
    .map((k) => k.slice(0, -1))
    .filter((t) => t !== '' && !t.startsWith('.'));
}

/** hasBlocks says whether any block directory is left for the tenant. */
export async function hasBlocks(bucket: Bucket, tenant: string): Promise<boolean> {
  return (await bucket.list(`${tenant}/`)).some((k) => k.endsWith('/') && isUlid(k.slice(tenant.length + 1, -1)));
}

/** readTenantDeletionMark reads the tenant deletion mark (undefined: tenant not being deleted). */
export async function readTenantDeletionMark(bucket: Bucket, tenant: string): Promise<TenantDeletionMark | undefined> {
  return readJson<TenantDeletionMark>(bucket, tenantDeletionMarkKey(tenant));
}

/** writeTenantDeletionMark writes (or updates) the tenant deletion mark. */
export async function writeTenantDeletionMark(bucket: Bucket, tenant: string, mark: TenantDeletionMark): Promise<void> {
  await bucket.put(tenantDeletionMarkKey(tenant), Buffer.from(JSON.stringify(mark), 'utf8'));
}
