// module.ts builds the Alertmanager component from the flags: its bucket
// store, the multi-tenant manager and its HTTP handlers; start() runs once
// the server listens (the default external URL needs the port).

import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { createAlertmanagerBucket } from '../storage/bucket/index.js';
import { receiverFirewall } from './firewall.js';
import type { InternalClient } from '../internal/client.js';
import type { RingConfig } from '../ring/config.js';
import type { Ring } from '../ring/ring.js';
import { AlertmanagerDistributor } from './distributor.js';
import { AlertmanagerApi } from './http.js';
import { AlertmanagerRing } from './replication.js';
import { MultitenantAlertmanager, type MultitenantOptions } from './multitenant.js';
import { AlertStore } from './store.js';

/** AlertmanagerModule is the running component. */
export interface AlertmanagerModule {
  api: AlertmanagerApi;
  manager: MultitenantAlertmanager;
  /**
   * shard makes this alertmanager one of the sharded alertmanagers of the ring (a ring shared
   * through etcd): tenants run on their replicas, the tenant API goes through the distributor,
   * re-synced whenever the ring's members change. Call before start.
   */
  shard(member: { ring: Ring; config: RingConfig }, client: InternalClient): void;
  start(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** newAlertmanagerModule reads the -alertmanager.* flags (throws on a bad fallback configuration). */
export function newAlertmanagerModule(config: Config, registry: Registry, logger: Logger): AlertmanagerModule {
  const v = (name: string): string | number | boolean => {
    const x = config.values.get(name);
    if (x === undefined) throw new Error(`config: no flag ${name}`);
    return x;
  };
  const prefix = String(v('http.alertmanager-http-prefix')).replace(/\/$/, '');
  const bucket = createAlertmanagerBucket(config);
  const opts: MultitenantOptions = {
    storagePath: resolve(String(v('alertmanager.storage.path'))),
    retentionMs: Number(v('alertmanager.storage.retention')),
    externalURL: String(v('alertmanager.web.external-url')),
    pollIntervalMs: Number(v('alertmanager.configs.poll-interval')),
    persistIntervalMs: Number(v('alertmanager.persist-interval')),
    fallbackConfigFile: String(v('alertmanager.configs.fallback')),
    maxConfigSizeBytes: Number(v('alertmanager.max-config-size-bytes')),
    maxTemplatesCount: Number(v('alertmanager.max-templates-count')),
    maxTemplateSizeBytes: Number(v('alertmanager.max-template-size-bytes')),
    checkUrl: receiverFirewall(String(v('alertmanager.receivers-firewall-block-cidr-networks')), v('alertmanager.receivers-firewall-block-private-addresses') === true),
    instanceName: hostname(),
    address: '',
    peerTimeoutMs: Number(v('alertmanager.peer-timeout')),
  };
  const manager = new MultitenantAlertmanager(opts, new AlertStore(bucket), logger, registry);
  const api = new AlertmanagerApi(manager);
  return {
    api,
    manager,
    shard(member, client) {
      const timeoutMs = Number(v('alertmanager.alertmanager-client.remote-timeout'));
      const ring = new AlertmanagerRing({
        ring: member.ring,
        selfId: member.config.instanceId,
        replicationFactor: member.config.replicationFactor,
        client,
        timeoutMs,
        log: logger.with({ component: 'alertmanager-ring' }),
        registry,
      });
      manager.shardWith(ring);
      api.distributeWith(new AlertmanagerDistributor(ring, client, timeoutMs, logger.with({ component: 'alertmanager-distributor' })));
      member.ring.onTopologyChange(() => manager.ownershipChanged());
    },
    async start(port) {
      if (opts.externalURL === '') opts.externalURL = `http://localhost:${port}${prefix}`;
      opts.address = `${config.httpListenAddress === '' ? '0.0.0.0' : config.httpListenAddress}:${port}`;
      await manager.start();
    },
    async stop() {
      await manager.stop();
      await bucket.close();
    },
  };
}
