// distributed-flags.ts declares the flags of the distributed write path
// (src/distributor/ring-push.ts, ha-kv.ts), with Mimir's (and Cortex's)
// names: the tenant shard size, the rate limit strategy and the HA tracker's
// KV store. Kept apart from the code so that the flag table loads nothing else.

import type { FlagDef } from '../config/flags.js';

/** WRITE_FLAGS are the distributed write path's settings, with Mimir's (and Cortex's) names. */
const WRITE_FLAGS: readonly FlagDef[] = [
  {
    name: 'distributor.ingestion-tenant-shard-size',
    yaml: 'limits.ingestion_tenant_shard_size',
    type: 'int',
    default: 0,
    help: "The tenant's shard size when shuffle sharding is used for ingestion: its series go only to this many ingesters (per zone: divided by the zones, rounded up). 0 disables shuffle sharding.",
  },
  {
    name: 'distributor.ingestion-rate-limit-strategy',
    yaml: 'limits.ingestion_rate_strategy',
    type: 'string',
    default: 'global',
    choices: ['local', 'global'],
    help: "Whether the ingestion rate limit applies to each distributor (local) or to the cluster (global: each distributor enforces the limit divided by the healthy distributors in the distributor ring).",
  },
];

/** HA_KV_FLAGS are the HA tracker's KV store flags, with Mimir's names (-distributor.ha-tracker.*). */
const HA_KV_FLAGS: readonly FlagDef[] = [
  {
    name: 'distributor.ha-tracker.store',
    yaml: 'distributor.ha_tracker.kvstore.store',
    type: 'string',
    default: 'memberlist',
    choices: ['consul', 'etcd', 'inmemory', 'memberlist', 'multi'],
    help: 'Backend storage of the HA tracker in distributed mode: etcd, or inmemory (this process only; memberlist is served as inmemory, consul and multi are not supported).',
  },
  { name: 'distributor.ha-tracker.prefix', yaml: 'distributor.ha_tracker.kvstore.prefix', type: 'string', default: 'ha-tracker/', help: "Prefix of the HA tracker's keys in the KV store." },
  { name: 'distributor.ha-tracker.etcd.endpoints', yaml: 'distributor.ha_tracker.kvstore.etcd.endpoints', type: 'string', list: true, default: '', help: 'The etcd endpoints to connect to (host:port or URLs, comma-separated).' },
  { name: 'distributor.ha-tracker.etcd.dial-timeout', yaml: 'distributor.ha_tracker.kvstore.etcd.dial_timeout', type: 'duration', default: 10_000, help: 'The dial timeout of the etcd connection.' },
  { name: 'distributor.ha-tracker.etcd.max-retries', yaml: 'distributor.ha_tracker.kvstore.etcd.max_retries', type: 'int', default: 10, help: 'The maximum number of retries of an etcd operation.' },
];

/** DISTRIBUTED_WRITE_FLAGS are every flag of the distributed write path. */
export const DISTRIBUTED_WRITE_FLAGS: readonly FlagDef[] = [...WRITE_FLAGS, ...HA_KV_FLAGS];
