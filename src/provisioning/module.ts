// module.ts assembles Grafana alerting provisioning: the per-organisation
// store on the ruler's bucket (-ruler-storage.*) and the API handlers.

import type { Config } from '../config/config.js';
import { log } from '../log.js';
import { rulerBucket } from '../ruler/module.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import { ProvisioningApi } from './http.js';
import { provisionFromDir } from './import.js';
import { ProvisioningStore } from './store.js';

/** ProvisioningModule is the running component. */
export interface ProvisioningModule {
  api: ProvisioningApi;
  store: ProvisioningStore;
  /** start applies the provisioning files (-grafana-provisioning.alerting-dir). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** newProvisioningModule builds the provisioning store and API (bucket: the ruler storage unless given). */
export function newProvisioningModule(config: Config, bucket?: Bucket): ProvisioningModule {
  const b = bucket ?? rulerBucket(config);
  const store = new ProvisioningStore(b);
  return {
    api: new ProvisioningApi(store),
    store,
    start: () => provisionFromDir(String(config.values.get('grafana-provisioning.alerting-dir') ?? ''), store, log.with({ component: 'provisioning' })),
    stop: async () => {
      if (bucket === undefined) await b.close();
    },
  };
}
