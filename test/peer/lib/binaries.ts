// binaries.ts is the ruler suites' view of the peer binaries (prometheus3,
// promtool3, alertmanager, amtool): the lookup itself (environment variable,
// then PATH; never a fixed path) is binary.ts's peerBinary.

import { peerBinary, PEERS_INSTALL } from './binary.js';

/** findBinary returns the binary's path: $envVar when set, else the first `name` on PATH; undefined when absent. */
export function findBinary(name: string, envVar: string): string | undefined {
  const b = peerBinary(name, envVar, [name], PEERS_INSTALL);
  return b.found ? b.path : undefined;
}

/** requireBinary returns the binary, or: in CI throws (the suite fails), elsewhere returns undefined (the caller skips). */
export function requireBinary(name: string, envVar: string): string | undefined {
  const b = peerBinary(name, envVar, [name], PEERS_INSTALL);
  if (!b.found && process.env['CI'] === 'true') throw new Error(b.missing);
  return b.found ? b.path : undefined;
}
