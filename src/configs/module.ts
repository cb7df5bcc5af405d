// module.ts builds the configs API from the flags and the components whose
// stores it writes into (the ruler and the multi-tenant Alertmanager).

import type { MultitenantAlertmanager } from '../alertmanager/multitenant.js';
import type { Config } from '../config/config.js';
import type { RulerModule } from '../ruler/module.js';
import { ConfigsApi } from './configs-api.js';
import { flagBool } from '../config/config.js';

/** newConfigsApi wires the configs API; undefined when neither the ruler nor the Alertmanager runs. */
export function newConfigsApi(config: Config, ruler: RulerModule | undefined, alertmanager: MultitenantAlertmanager | undefined): ConfigsApi | undefined {
  const bucket = ruler?.store.bucket ?? alertmanager?.store.bucket;
  if (bucket === undefined) return undefined;
  return new ConfigsApi({
    bucket,
    ...(ruler !== undefined ? { ruler: { store: ruler.store, changed: (t: string) => void ruler.manager.syncTenant(t) } } : {}),
    ...(alertmanager !== undefined
      ? {
          alertmanager: {
            validate: (d) => alertmanager.validate(d),
            set: async (d) => {
              await alertmanager.store.set(d);
              await alertmanager.sync();
            },
            remove: async (user) => {
              await alertmanager.store.delete(user);
              await alertmanager.sync();
            },
          },
        }
      : {}),
    disableEmail: flagBool(config.values, 'configs.notifications.disable-email'),
    disableWebhook: flagBool(config.values, 'configs.notifications.disable-webhook'),
  });
}
