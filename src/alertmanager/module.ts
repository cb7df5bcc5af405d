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
import { AlertmanagerApi } from './http.js';
import { MultitenantAlertmanager, type MultitenantOptions } from './multitenant.js';
import { AlertStore } from './store.js';

/** AlertmanagerModule is the running component. */
export interface AlertmanagerModule {
  api: AlertmanagerApi;
  manager: MultitenantAlertmanager;
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
  };
  const manager = new MultitenantAlertmanager(opts, new AlertStore(bucket), logger, registry);
  return {
    api: new AlertmanagerApi(manager),
    manager,
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
