// peer-bin.ts finds a peer binary for a test: an environment variable, else
// the name on PATH (CI puts the peers' directory there). Outside CI a test
// whose binary is missing is skipped with a reason; under CI it runs and fails.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** findBin returns the binary's path: $envVar, else name found on PATH, else undefined. */
export function findBin(name: string, envVar: string): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** binSkip is the tap `skip` option: false when found or under CI (a missing binary then fails), else the reason. */
export function binSkip(bin: string | undefined, name: string, envVar: string): string | false {
  if (bin !== undefined || process.env['CI'] === 'true') return false;
  return `${name} not found on PATH (or ${envVar}); run scripts/install-peers.sh and put its bin directory on PATH`;
}
