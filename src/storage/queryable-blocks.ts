// queryable-blocks.ts owns the set of block directories each tenant's
// queries read besides its head: the ingester's local blocks and the
// store-gateway's copies of bucket blocks. Both report their blocks here;
// the union (one copy per ULID, the local one first, compacted replacements
// in place of their sources) goes to the native store.

import type { BlockMeta } from './block-meta.js';
import { dedupBlocks } from './block-meta.js';
import type { Logger } from '../log.js';
import type { BlockOpenFailure } from './native.js';

/** BlockRef is one block directory and its meta. */
export interface BlockRef {
  dir: string;
  meta: BlockMeta;
}

/** QueryableBlocks merges the block sources of each tenant. */
export class QueryableBlocks {
  private readonly sources = new Map<string, Map<string, BlockRef[]>>();

  constructor(
    private readonly setTenantBlocks: (tenant: string, dirs: string[]) => BlockOpenFailure[],
    private readonly logger: Logger,
  ) {}

  /** set replaces what `source` ('ingester' or 'store-gateway') offers for a tenant and publishes the union. */
  set(source: string, tenant: string, blocks: BlockRef[]): void {
    let bySource = this.sources.get(tenant);
    if (bySource === undefined) {
      bySource = new Map();
      this.sources.set(tenant, bySource);
    }
    bySource.set(source, blocks);
    this.publish(tenant);
  }

  /** blocks returns a tenant's queried blocks. */
  blocks(tenant: string): BlockRef[] {
    const bySource = this.sources.get(tenant);
    if (bySource === undefined) return [];
    // The ingester's local copy comes first, so it wins over the synced one.
    const all = [...(bySource.get('ingester') ?? []), ...[...bySource].filter(([s]) => s !== 'ingester').flatMap(([, b]) => b)];
    return dedupBlocks(all).sort((a, b) => a.meta.minTime - b.meta.minTime || a.meta.ulid.localeCompare(b.meta.ulid));
  }

  /** tenants lists tenants with blocks from any source. */
  tenants(): string[] {
    return [...this.sources.keys()].sort();
  }

  private publish(tenant: string): void {
    const dirs = this.blocks(tenant).map((b) => b.dir);
    for (const f of this.setTenantBlocks(tenant, dirs)) {
      this.logger.error('block could not be opened, it is not queried', { tenant, dir: f.dir, err: f.error });
    }
  }
}
