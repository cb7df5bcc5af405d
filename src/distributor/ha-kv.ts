// ha-kv.ts is the HA tracker of distributors that run apart from the
// ingesters (distributed mode): the elected replica of each tenant's
// Prometheus HA cluster lives in the KV store (-distributor.ha-tracker.store:
// etcd, or inmemory for one process), under <prefix><tenant>/<cluster>, so
// every distributor accepts the same replica. As Mimir's tracker, each
// distributor keeps the descriptors it read or wrote: a push from the elected
// replica within the update timeout, or from another replica within the
// failover timeout, is decided without a KV call; otherwise the decision is a
// compare-and-swap on the key (elect, refresh the last-seen time, or fail
// over), the same rules as the in-process tracker (native ha_tracker.rs).

import type { ConfigValues } from '../config/parse.js';
import type { Logger } from '../log.js';
import { EtcdClient, InMemoryKv, type KvClient } from '../ring/kv.js';
import type { ElectedReplica } from '../storage/native.js';
import { flagNumber, flagString } from '../config/config.js';

/** ReplicaDesc is a cluster's election, as stored (unix ms). */
export interface ReplicaDesc {
  replica: string;
  receivedAt: number;
  electedAt: number;
  electedChanges: number;
}

/** HaCheckSettings are a tenant's HA settings for one push. */
export interface HaCheckSettings {
  updateTimeoutMs: number;
  failoverTimeoutMs: number;
  /** maxClusters is the tenant's ha_max_clusters (0: no limit). */
  maxClusters: number;
  nowMs: number;
}

/** HaDecision is whether a push is accepted, else its status and Mimir's text. */
export type HaDecision = { ok: true } | { ok: false; status: number; message: string };

/** notElectedMessage is Mimir's replicasDidNotMatchError text (answered 202). */
export function notElectedMessage(replica: string, elected: string): string {
  return `replicas did not match, rejecting sample: replica=${replica}, elected=${elected}`;
}

/** tooManyClustersMessage is Mimir's tooManyClustersError text (answered 400). */
export function tooManyClustersMessage(limit: number): string {
  return (
    `the write request has been rejected because the maximum number of high-availability (HA) clusters has been reached for this tenant (limit: ${limit}) ` +
    '(err-mimir-tenant-too-many-ha-clusters). To adjust the related per-tenant limit, configure -distributor.ha-tracker.max-clusters, or contact your service administrator.'
  );
}

/** decodeDesc parses a stored descriptor (undefined when absent or unparsable). */
function decodeDesc(v: string | undefined): ReplicaDesc | undefined {
  if (v === undefined || v === '') return undefined;
  try {
    const d = JSON.parse(v) as Partial<ReplicaDesc>;
    if (typeof d.replica !== 'string') return undefined;
    return { replica: d.replica, receivedAt: Number(d.receivedAt ?? 0), electedAt: Number(d.electedAt ?? 0), electedChanges: Number(d.electedChanges ?? 0) };
  } catch {
    return undefined;
  }
}

/** HaKvTracker elects replicas through a KV store shared by the distributors. */
export class HaKvTracker {
  /** cache holds the last descriptor read or written, by tenant then cluster. */
  private readonly cache = new Map<string, Map<string, ReplicaDesc>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly kv: KvClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /**
   * start re-reads every election in the store every periodMs (as Mimir's tracker follows the
   * store): the status page and gauges show every distributor's elections, and the cache follows
   * failovers made elsewhere.
   */
  start(periodMs = 5_000): void {
    const run = (): void => {
      this.sync().catch((err: unknown) => this.log.debug('reading the HA tracker store failed', { err }));
    };
    run();
    this.timer = setInterval(run, periodMs);
    this.timer.unref();
  }

  /** sync reads every election under the prefix into the cache (a newer one than cached wins). */
  async sync(): Promise<void> {
    const kv = this.kv as KvClient & { list?: (prefix: string) => Promise<Array<[string, string]>> };
    if (kv.list === undefined) return;
    for (const [key, value] of await kv.list(this.prefix)) {
      const rest = key.slice(this.prefix.length);
      const slash = rest.indexOf('/');
      const d = decodeDesc(value);
      if (slash <= 0 || d === undefined) continue;
      this.remember(rest.slice(0, slash), rest.slice(slash + 1), d);
    }
  }

  /** remember caches d unless the cached descriptor is newer (elected later, or seen later). */
  private remember(tenant: string, cluster: string, d: ReplicaDesc): void {
    let m = this.cache.get(tenant);
    if (m === undefined) {
      m = new Map();
      this.cache.set(tenant, m);
    }
    const cur = m.get(cluster);
    if (cur !== undefined && (cur.electedAt > d.electedAt || (cur.electedAt === d.electedAt && cur.receivedAt > d.receivedAt))) return;
    m.set(cluster, d);
  }

  /** key is the KV key of a tenant's cluster. */
  key(tenant: string, cluster: string): string {
    return `${this.prefix}${tenant}/${cluster}`;
  }

  /** check decides a push from (cluster, replica) of tenant, electing, refreshing or failing over in the store. */
  async check(tenant: string, cluster: string, replica: string, s: HaCheckSettings): Promise<HaDecision> {
    const clusters = this.cache.get(tenant);
    const cached = clusters?.get(cluster);
    if (cached !== undefined) {
      if (cached.replica === replica && s.nowMs - cached.receivedAt < s.updateTimeoutMs) return { ok: true };
      if (cached.replica !== replica && s.nowMs - cached.receivedAt < s.failoverTimeoutMs) return { ok: false, status: 202, message: notElectedMessage(replica, cached.replica) };
    } else if (s.maxClusters > 0 && (await this.clusterCount(tenant, cluster)) >= s.maxClusters) {
      // A cluster new to this distributor: the limit counts every distributor's clusters of the tenant.
      return { ok: false, status: 400, message: tooManyClustersMessage(s.maxClusters) };
    }
    // Set by the CAS function (its last run is the one that counted).
    const out: { decision: HaDecision; seen?: ReplicaDesc } = { decision: { ok: true } };
    await this.kv.cas(this.key(tenant, cluster), (current) => {
      out.decision = { ok: true };
      const d = decodeDesc(current);
      out.seen = d;
      let next: ReplicaDesc | undefined;
      if (d === undefined) next = { replica, receivedAt: s.nowMs, electedAt: s.nowMs, electedChanges: 0 };
      else if (d.replica === replica) next = s.nowMs - d.receivedAt < s.updateTimeoutMs ? undefined : { ...d, receivedAt: s.nowMs };
      else if (s.nowMs - d.receivedAt < s.failoverTimeoutMs) out.decision = { ok: false, status: 202, message: notElectedMessage(replica, d.replica) };
      else {
        next = { replica, receivedAt: s.nowMs, electedAt: s.nowMs, electedChanges: d.electedChanges + 1 };
        this.log.info('HA tracker failover', { user: tenant, cluster, replica, previous: d.replica });
      }
      if (next !== undefined) out.seen = next;
      return next === undefined ? undefined : JSON.stringify(next);
    });
    if (out.seen !== undefined) this.cache.set(tenant, (this.cache.get(tenant) ?? new Map<string, ReplicaDesc>()).set(cluster, out.seen));
    return out.decision;
  }

  /**
   * clusterCount is how many other clusters the tenant has: the keys under its prefix in the
   * store when it can list them (every distributor's elections), else the ones this one knows.
   */
  private async clusterCount(tenant: string, cluster: string): Promise<number> {
    const known = this.cache.get(tenant)?.size ?? 0;
    const kv = this.kv as KvClient & { keys?: (prefix: string) => Promise<string[]> };
    if (kv.keys === undefined) return known;
    const own = this.key(tenant, cluster);
    const keys = await kv.keys(`${this.prefix}${tenant}/`);
    return keys.filter((k) => k !== own && !k.slice(this.prefix.length + tenant.length + 1).includes('/')).length;
  }

  /** status lists the elected replicas this distributor knows, sorted by tenant then cluster (the status page). */
  status(): ElectedReplica[] {
    const out: ElectedReplica[] = [];
    for (const [tenant, m] of this.cache) {
      for (const [cluster, d] of m) out.push({ tenant, cluster, replica: d.replica, electedAtMs: d.electedAt, receivedAtMs: d.receivedAt, electedChanges: d.electedChanges });
    }
    return out.sort((a, b) => (a.tenant === b.tenant ? (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0) : a.tenant < b.tenant ? -1 : 1));
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.kv.close();
  }
}

/** haKvTracker builds the tracker from the -distributor.ha-tracker.* store flags (an unsupported store fails). */
export function haKvTracker(values: ConfigValues, log: Logger, inMemory?: InMemoryKv): HaKvTracker {
  const store = flagString(values, 'distributor.ha-tracker.store');
  if (store === 'consul' || store === 'multi') throw new Error(`-distributor.ha-tracker.store=${store} is not supported: use etcd (or inmemory for a single process)`);
  const prefix = flagString(values, 'distributor.ha-tracker.prefix');
  if (store !== 'etcd') return new HaKvTracker(inMemory ?? new InMemoryKv(), prefix, log);
  const endpoints = flagString(values, 'distributor.ha-tracker.etcd.endpoints')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (endpoints.length === 0) throw new Error('-distributor.ha-tracker.etcd.endpoints must be set when -distributor.ha-tracker.store=etcd');
  const kv = new EtcdClient(endpoints, {
    dialTimeoutMs: flagNumber(values, 'distributor.ha-tracker.etcd.dial-timeout'),
    maxRetries: flagNumber(values, 'distributor.ha-tracker.etcd.max-retries'),
    log: log.with({ component: 'etcd' }),
  });
  return new HaKvTracker(kv, prefix, log);
}
