// module.ts assembles the enterprise pieces of a process: the admin state
// (from its own bucket, loaded before the server listens), the admin API,
// enterprise auth when -auth.type=enterprise, and the instance limits layer
// of the runtime configuration.

import type { Config } from '../config/config.js';
import { createBackendBucket } from '../storage/bucket/index.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import { EnterpriseAuth } from '../auth/enterprise.js';
import { checkInstanceLimits, type RuntimeConfigManager } from '../limits/runtime-config.js';
import { log } from '../log.js';
import { AdminApi } from './admin-api.js';
import { loadLicense } from './license.js';
import { AdminStore } from './store.js';
import { flagNumber, flagString } from '../config/config.js';

/** AdminModule is the enterprise part of a running process. */
export interface AdminModule {
  store: AdminStore;
  api: AdminApi;
  /** enterprise is set with -auth.type=enterprise. */
  enterprise?: EnterpriseAuth;
  /** instanceStatus tells an instance's status (undefined when the admin API does not know it). */
  instanceStatus(name: string): string | undefined;
  close(): Promise<void>;
}

function str(config: Config, name: string): string {
  return flagString(config.values, name);
}

/** adminBucket builds the bucket of the admin state from the -admin.client.* flags. */
export function adminBucket(config: Config): Bucket {
  return createBackendBucket(config, str(config, 'admin.client.backend'), str(config, 'admin.client.filesystem.dir'), str(config, 'admin.client.s3.bucket-name'));
}

/** openAdminStore opens and loads the admin state (throws when the bucket cannot be read). */
export async function openAdminStore(config: Config, bucket: Bucket): Promise<AdminStore> {
  const store = new AdminStore(bucket, str(config, 'admin.client.storage-prefix'), log.with({ component: 'admin' }));
  await store.load();
  return store;
}

/** newAdminApi builds the admin API over a store and records this cluster. */
export async function newAdminApi(config: Config, store: AdminStore): Promise<AdminApi> {
  const clusterName = str(config, 'cluster-name');
  const licensePath = str(config, 'license.path');
  const license = loadLicense(licensePath, clusterName, Date.now());
  if (licensePath !== '') {
    log.warn('license checked for format, times and cluster; its signature is not verified (no Grafana Labs public key here)', { component: 'admin', path: licensePath, lid: String(license.item.token['lid'] ?? '') });
  }
  const api = new AdminApi(store, {
    clusterName,
    license,
    checkLimits: (limits) => checkInstanceLimits(limits, config.values),
  });
  await api.ensureCluster();
  return api;
}

/** startAdmin opens the admin state and wires it to the runtime configuration and auth. */
export async function startAdmin(config: Config, runtimeConfig: RuntimeConfigManager): Promise<AdminModule> {
  const bucket = adminBucket(config);
  const store = await openAdminStore(config, bucket);
  const ttl = flagNumber(config.values, 'auth.token-cache-ttl');
  const applyLimits = (): void => {
    const layer = new Map<string, Record<string, unknown>>();
    for (const s of store.list('instances')) if (s.item.limits !== undefined) layer.set(s.item.name, s.item.limits);
    runtimeConfig.setInstanceLimits(layer);
  };
  store.onChange(applyLimits);
  applyLimits();
  const api = await newAdminApi(config, store);
  store.startSync(ttl);
  const enterprise =
    str(config, 'auth.type') === 'enterprise'
      ? new EnterpriseAuth(store, {
          clusterName: str(config, 'cluster-name'),
          tokenCacheTtlMs: ttl,
          tenants: {
            multitenancyEnabled: true,
            noAuthTenant: config.noAuthTenant,
            tenantFederationEnabled: config.tenantFederationEnabled,
            tenantFederationMaxTenants: config.tenantFederationMaxTenants,
          },
        })
      : undefined;
  return {
    store,
    api,
    ...(enterprise !== undefined ? { enterprise } : {}),
    instanceStatus: (name) => store.get('instances', name)?.item.status,
    close: async () => {
      await store.stop();
      await bucket.close();
    },
  };
}
