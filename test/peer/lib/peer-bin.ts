// peer-bin.ts finds a peer binary (amtool, alertmanager, prometheus3) for
// the peer suites: an env override, then PATH, then the cache that
// scripts/install-peers.sh fills. In CI a missing binary fails the test
// (skipReason returns false there and the spawn fails), elsewhere it skips.

import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const PEERS_DIR = '/root/.cache/mimir-native/peers/bin';

/** findPeerBin returns the path of a binary, or undefined. */
export function findPeerBin(name: string, envVar: string): string | undefined {
  const env = process.env[envVar];
  if (env !== undefined && env !== '') return env;
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), PEERS_DIR]) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** skipUnlessPeer is the tap `skip` option: a reason outside CI when the binary is missing, false otherwise. */
export function skipUnlessPeer(bin: string | undefined, name: string): string | false {
  if (bin !== undefined) return false;
  if (process.env['CI'] === 'true') return false;
  return `${name} not found (PATH, ${PEERS_DIR})`;
}
