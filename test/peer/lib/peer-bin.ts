// peer-bin.ts keeps the names the alertmanager and admin suites call; the
// lookup itself (environment variable, then PATH; never a fixed path) and the
// skip-or-fail rule are binary.ts's.

import { inCi, lookPath } from './binary.js';

/** findPeerBin returns the binary's path: $envVar (a path or a command), else name on PATH; undefined when absent. */
export function findPeerBin(name: string, envVar: string): string | undefined {
  const env = process.env[envVar];
  return lookPath(env !== undefined && env !== '' ? env : name);
}

/** findBin is findPeerBin. */
export const findBin = findPeerBin;

/** skipUnlessPeer is the tap `skip` option: false when found or under CI (a missing binary then fails), else the reason. */
export function skipUnlessPeer(bin: string | undefined, name: string): string | false {
  if (bin !== undefined || inCi()) return false;
  return `${name} not found on PATH; run scripts/install-peers.sh and put its bin directory on PATH`;
}

/** binSkip is skipUnlessPeer naming the environment variable too. */
export function binSkip(bin: string | undefined, name: string, envVar: string): string | false {
  if (bin !== undefined || inCi()) return false;
  return `${name} not found on PATH (or ${envVar}); run scripts/install-peers.sh and put its bin directory on PATH`;
}
