// binaries.ts finds the Go-built peer binaries (prometheus3, promtool3,
// alertmanager, amtool) on PATH, overridable by an environment variable; in
// CI a missing binary fails the suite, elsewhere it is skipped with a reason.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** findBinary returns the binary's path: $envVar when set, else the first `name` on PATH; undefined when absent. */
export function findBinary(name: string, envVar: string): string | undefined {
  const override = process.env[envVar];
  if (override !== undefined && override !== '') return override;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
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

/** requireBinary returns the binary, or: in CI throws (the suite fails), elsewhere returns undefined (the caller skips). */
export function requireBinary(name: string, envVar: string): string | undefined {
  const bin = findBinary(name, envVar);
  if (bin === undefined && process.env['CI'] === 'true') throw new Error(`${name} not found on PATH (set ${envVar})`);
  return bin;
}
