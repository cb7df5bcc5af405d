// tokengen.ts is -target=tokengen, as GEM's: make sure the built-in admin
// access policy exists (every scope, every instance of this cluster), create
// a token under it, print the token once on stdout, write it to
// -tokengen.token-file when given (never overwriting a file), then exit.

import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.js';
import { SCOPES } from '../auth/scopes.js';
import { log, setLogLevel } from '../log.js';
import { adminBucket, newAdminApi, openAdminStore } from './module.js';
import type { Stored } from './store.js';
import { flagString } from '../config/config.js';

/** ADMIN_POLICY is the name of the built-in admin access policy. */
export const ADMIN_POLICY = '__admin__';

/** runTokengen creates an admin token and returns it (throws when the token file exists). */
export async function runTokengen(config: Config, out: (line: string) => void = (l) => process.stdout.write(l)): Promise<string> {
  setLogLevel(config.logLevel);
  const file = flagString(config.values, 'tokengen.token-file');
  const cluster = flagString(config.values, 'cluster-name');
  const bucket = adminBucket(config);
  try {
    const store = await openAdminStore(config, bucket);
    const api = await newAdminApi(config, store);
    if (store.get('accesspolicies', ADMIN_POLICY) === undefined) {
      const policy: Stored<'accesspolicies'> = {
        version: 1,
        item: { name: ADMIN_POLICY, display_name: 'Admin', created_at: new Date().toISOString(), realms: [{ instance: '*', cluster }], scopes: [...SCOPES] },
      };
      await store.mutate(() => ({ result: undefined, put: [{ kind: 'accesspolicies', stored: policy }] }));
    }
    const name = `${ADMIN_POLICY}-${randomBytes(8).toString('hex')}`;
    const { token } = await store.mutate(() => {
      const w = api.tokenWrite(name, name, ADMIN_POLICY, undefined);
      // The file is created first (refusing to overwrite one): a token nobody can read is not stored.
      if (file !== '') writeFileSync(file, w.result.token + '\n', { flag: 'wx', mode: 0o600 });
      return { result: w.result, put: w.put };
    });
    log.info('admin token created', { token_name: name, access_policy: ADMIN_POLICY, ...(file !== '' ? { file } : {}) });
    out(`Token created: ${token}\n`);
    return token;
  } finally {
    await bucket.close();
  }
}
