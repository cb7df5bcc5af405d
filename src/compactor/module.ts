// module.ts builds the compactor component from the configuration: the
// bucket, the flag values (read by Mimir flag name) and the per-tenant
// limits, and the HTTP API over it.

import type { Config } from '../config/config.js';
import { parseDuration } from '../config/duration.js';
import type { LimitsSource } from '../limits/runtime-config.js';
import type { Registry } from 'prom-client';
import type { Bucket } from '../storage/bucket/bucket.js';
import { nativeBlockCompactor, type BlockCompactor } from '../storage/native.js';
import { Compactor, type CompactorSharding } from './compactor.js';
import { ACTIVE_OWNER } from '../ring/model.js';
import type { Ring } from '../ring/ring.js';
import { fnv1aKey } from '../ring/shard.js';
import { CompactorApi } from './http.js';
import { CompactorMetrics } from './metrics.js';
import { parseBlockRanges } from './planner.js';
import { flagString } from '../config/config.js';

/** CompactorModule is a configured compactor and its HTTP handlers. */
export interface CompactorModule {
  compactor: Compactor;
  api: CompactorApi;
  bucket: Bucket;
}

function num(values: Config['values'], name: string): number {
  const v = values.get(name);
  if (typeof v !== 'number') throw new Error(`config: no numeric flag ${name}`);
  return v;
}

/**
 * CRASH_ENV names the crash point at which a crash test wants the process killed (see
 * CompactorOptions.fault); unset in production.
 */
export const CRASH_ENV = 'MIMIR_COMPACTOR_CRASH_AT';

/** faultFromEnv kills the process with SIGKILL at the crash point CRASH_ENV names. */
function faultFromEnv(): { fault?: (point: string) => void } {
  const at = process.env[CRASH_ENV];
  if (at === undefined || at === '') return {};
  return {
    fault: (point) => {
      if (point === at) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** newCompactorModule configures the compactor over bucket with the process's limits. */
export function newCompactorModule(config: Config, bucket: Bucket, limits: LimitsSource, registry?: Registry, blockCompactor?: BlockCompactor): CompactorModule {
  const v = config.values;
  const blockRanges = parseBlockRanges(flagString(v, 'compactor.block-ranges'), parseDuration);
  if (blockRanges.length === 0) throw new Error('invalid value for flag -compactor.block-ranges: at least one range is needed');
  const compactor = new Compactor({
    bucket,
    // The binding is loaded when the first job runs, so a process without blocks never needs it.
    blockCompactor: blockCompactor ?? { compactBlocks: (dirs, out, tenant) => nativeBlockCompactor().compactBlocks(dirs, out, tenant) },
    dataDir: flagString(v, 'compactor.data-dir'),
    blockRanges,
    compactionIntervalMs: num(v, 'compactor.compaction-interval'),
    cleanupIntervalMs: num(v, 'compactor.cleanup-interval'),
    deletionDelayMs: num(v, 'compactor.deletion-delay'),
    tenantCleanupDelayMs: num(v, 'compactor.tenant-cleanup-delay'),
    firstLevelWaitMs: num(v, 'compactor.first-level-compaction-wait-period'),
    retentionMs: (tenant) => num(limits.values(tenant), 'compactor.blocks-retention-period'),
    partialDeletionDelayMs: (tenant) => num(limits.values(tenant), 'compactor.partial-block-deletion-delay'),
    ...(registry !== undefined ? { metrics: new CompactorMetrics(registry) } : {}),
    ...faultFromEnv(),
  });
  return { compactor, api: new CompactorApi(compactor), bucket };
}

/**
 * ringSharding shares the work over the compactor ring as Mimir's split-and-merge compactor (with
 * the whole ring as every tenant's shard): a key (a tenant, or a job's sharding key) belongs to the
 * ACTIVE instance owning its FNV-1a hash, and to nobody while that instance is unhealthy.
 */
export function ringSharding(ring: Ring, instanceId: string): CompactorSharding {
  const owns = (key: string): boolean => ring.ownerOf(fnv1aKey(key), ACTIVE_OWNER) === instanceId;
  return { ownsTenant: owns, ownsJob: owns };
}
