// module.ts wires the query-scheduler into a process from the flags: the
// scheduler itself (-target=query-scheduler), and how query-frontends and
// queriers find the schedulers, as Mimir's
// -query-scheduler.service-discovery-mode: `dns` (the default) uses
// -query-frontend.scheduler-address / -querier.scheduler-address (host:port,
// one address or a comma-separated list; names are resolved at connect time,
// not expanded to every address they resolve to), `ring` uses the ACTIVE
// healthy members of the query-scheduler ring (every one, not only
// -query-scheduler.max-used-instances of them).

import type { Config } from '../../config/config.js';
import { flagString } from '../../config/config.js';
import type { Rings } from '../../ring/module.js';
import { ACTIVE_OWNER } from '../../ring/model.js';

/** DiscoveryMode is -query-scheduler.service-discovery-mode. */
export type DiscoveryMode = 'dns' | 'ring';

/** discoveryMode reads -query-scheduler.service-discovery-mode. */
export function discoveryMode(config: Config): DiscoveryMode {
  return flagString(config.values, 'query-scheduler.service-discovery-mode') === 'ring' ? 'ring' : 'dns';
}

/** validateSchedulerDiscovery fails the start as Mimir does when an address is set in ring mode. */
export function validateSchedulerDiscovery(config: Config): void {
  if (discoveryMode(config) !== 'ring') return;
  if (flagString(config.values, 'query-frontend.scheduler-address') !== '') throw new Error("scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'");
  if (flagString(config.values, 'querier.scheduler-address') !== '') throw new Error("frontend address and scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'");
}

/**
 * schedulerAddresses lists the schedulers a query-frontend (flag query-frontend.scheduler-address)
 * or a querier (querier.scheduler-address) uses, read again at each call; undefined when it uses
 * none (no address in dns mode).
 */
export function schedulerAddresses(config: Config, rings: Rings, flag: 'query-frontend.scheduler-address' | 'querier.scheduler-address'): (() => string[]) | undefined {
  if (discoveryMode(config) === 'ring') {
    const m = rings.get('query-scheduler');
    if (m === undefined) return undefined;
    return () =>
      m.ring
        .healthyInstances(ACTIVE_OWNER)
        .map((i) => i.addr)
        .sort();
  }
  const list = flagString(config.values, flag)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  return list.length > 0 ? () => list : undefined;
}
