// module.ts builds the rings a process takes part in: for each ring, a client
// view (Ring) and, when the process runs the ring's component, a lifecycler
// registering it. One KV client per store is shared by the process's rings.

import type { ConfigValues } from '../config/parse.js';
import type { Logger } from '../log.js';
import { EtcdClient, InMemoryKv, type KvClient, type KvStatus } from './kv.js';
import { Lifecycler } from './lifecycler.js';
import { Ring } from './ring.js';
import { ringConfig, type RingConfig, type RingName } from './config.js';

/** RingMember is one ring of the process: its config, view and (when a member) lifecycler. */
export interface RingMember {
  config: RingConfig;
  ring: Ring;
  lifecycler?: Lifecycler;
}

/** RingsOptions say which rings the process follows and which it joins. */
export interface RingsOptions {
  values: ConfigValues;
  /** follow lists the rings whose pages and clients the process needs. */
  follow: RingName[];
  /** join lists the rings the process registers in (a subset of follow). */
  join: RingName[];
  log: Logger;
  /** unregisterOnShutdown per ring (default true). */
  unregisterOnShutdown?: Partial<Record<RingName, () => boolean>>;
  /** inMemoryKv, when given, is the in-memory store (tests share one between processes). */
  inMemoryKv?: InMemoryKv;
}

/** SelfKv wraps the in-memory store so that /memberlist shows this process as its one member. */
class SelfKv extends InMemoryKv {
  constructor(private readonly self: () => string) {
    super();
  }

  override status(): Promise<KvStatus> {
    return Promise.resolve({ store: 'inmemory', members: [{ id: '1', name: this.self(), peerUrls: [], clientUrls: [] }] });
  }
}

/** Rings holds the rings of one process. */
export class Rings {
  readonly members = new Map<RingName, RingMember>();
  private readonly kvs = new Map<string, KvClient>();
  private internalAddr = '';

  constructor(private readonly opts: RingsOptions) {
    for (const name of opts.follow) {
      const config = ringConfig(opts.values, name);
      const kv = this.kvFor(config);
      const ring = new Ring(
        kv,
        { key: config.key, replicationFactor: config.replicationFactor, zoneAwarenessEnabled: config.zoneAwarenessEnabled, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
        opts.log.with({ ring: name }),
      );
      this.members.set(name, { config, ring });
    }
  }

  /** kv is the store of the first ring (the one /memberlist shows). */
  kv(): KvClient {
    const first = this.members.values().next().value as RingMember | undefined;
    return first?.ring.kv ?? this.kvs.values().next().value ?? new InMemoryKv();
  }

  /** keys lists the KV keys of the process's rings. */
  keys(): string[] {
    return [...new Set([...this.members.values()].map((m) => m.config.key))].sort();
  }

  /** joins tells whether the process registers in the ring. */
  joins(name: RingName): boolean {
    return this.opts.join.includes(name);
  }

  /** get is a followed ring (undefined when not followed). */
  get(name: RingName): RingMember | undefined {
    return this.members.get(name);
  }

  /** start reads every ring and follows it (the lifecyclers join later, with join()). */
  async start(): Promise<void> {
    for (const m of this.members.values()) await m.ring.start();
  }

  /**
   * join registers the process in the rings it runs the component of, at
   * addr:port (port: -<ring>.instance-port, else the given internal API port).
   */
  async join(port: number, names: RingName[] = this.opts.join): Promise<void> {
    for (const name of names) {
      const m = this.members.get(name);
      if (m === undefined || m.lifecycler !== undefined) continue;
      const c = m.config;
      this.internalAddr = `${c.instanceAddr}:${c.instancePort > 0 ? c.instancePort : port}`;
      m.lifecycler = new Lifecycler(
        m.ring,
        {
          id: c.instanceId,
          addr: this.internalAddr,
          zone: c.zone,
          numTokens: c.numTokens,
          heartbeatPeriodMs: c.heartbeatPeriodMs,
          unregisterOnShutdown: this.opts.unregisterOnShutdown?.[name] ?? (() => c.family.keepOnShutdown !== true),
          autoForgetMs: (c.family.autoForgetPeriods ?? 0) * c.heartbeatTimeoutMs,
        },
        this.opts.log.with({ ring: name }),
      );
      await m.lifecycler.start();
    }
  }

  /** leave takes the process out of one ring (LEAVING, then unregistered). */
  async leave(name: RingName): Promise<void> {
    await this.members.get(name)?.lifecycler?.stop();
  }

  /** stop leaves every ring and ends the watches. */
  async stop(): Promise<void> {
    for (const m of this.members.values()) await m.lifecycler?.stop();
    for (const m of this.members.values()) m.ring.stop();
    for (const kv of this.kvs.values()) kv.close();
  }

  private kvFor(c: RingConfig): KvClient {
    const id = c.store === 'etcd' ? `etcd:${c.etcdEndpoints.join(',')}` : 'inmemory';
    let kv = this.kvs.get(id);
    if (kv === undefined) {
      kv =
        c.store === 'etcd'
          ? new EtcdClient(c.etcdEndpoints, { dialTimeoutMs: c.etcdDialTimeoutMs, maxRetries: c.etcdMaxRetries, log: this.opts.log.with({ component: 'etcd' }) })
          : (this.opts.inMemoryKv ?? new SelfKv(() => `${c.instanceId}${this.internalAddr !== '' ? ` (${this.internalAddr})` : ''}`));
      this.kvs.set(id, kv);
    }
    return kv;
  }
}

/**
 * ringNamesFor says which rings a process with these modules follows and
 * joins: each component joins its own ring; distributors, queriers and
 * rulers follow the ingester ring (they send to and read from ingesters),
 * queriers and rulers the store-gateway ring (they read blocks there);
 * with followSchedulers (-query-scheduler.service-discovery-mode=ring),
 * query-frontends and queriers follow the query-scheduler ring; with
 * exporterRing (-overrides-exporter.ring.enabled) the overrides-exporter
 * joins its ring.
 */
export function ringNamesFor(modules: readonly string[], monolithic: boolean, followSchedulers = false, exporterRing = false): { follow: RingName[]; join: RingName[] } {
  const join = new Set<RingName>();
  const follow = new Set<RingName>();
  const has = (m: string): boolean => modules.includes(m);
  for (const [module, ring] of [
    ['ingester', 'ingester'],
    ['distributor', 'distributor'],
    ['store-gateway', 'store-gateway'],
    ['compactor', 'compactor'],
    ['ruler', 'ruler'],
    ['alertmanager', 'alertmanager'],
    ['query-scheduler', 'query-scheduler'],
  ] as const) {
    if (has(module)) join.add(ring);
  }
  // The monolithic process schedules its own queries: it is the query-scheduler ring's member (not when the
  // ring lists the query-scheduler targets that frontends and queriers use).
  if (monolithic && !followSchedulers) join.add('query-scheduler');
  if (exporterRing && has('overrides-exporter')) join.add('overrides-exporter');
  for (const r of join) follow.add(r);
  if (has('distributor') || has('querier') || has('ruler')) follow.add('ingester');
  if (has('querier') || has('ruler')) follow.add('store-gateway');
  if (followSchedulers && (has('querier') || has('query-frontend'))) follow.add('query-scheduler');
  const order: RingName[] = ['distributor', 'ingester', 'store-gateway', 'compactor', 'ruler', 'alertmanager', 'query-scheduler', 'overrides-exporter'];
  return { follow: order.filter((r) => follow.has(r)), join: order.filter((r) => join.has(r)) };
}
