// module.ts wires the query-scheduler into a process from the flags: the
// scheduler itself (-target=query-scheduler), and how query-frontends and
// queriers find the schedulers, as Mimir's
// -query-scheduler.service-discovery-mode: `dns` (the default) uses
// -query-frontend.scheduler-address / -querier.scheduler-address (host:port,
// one address or a comma-separated list; names are resolved at connect time,
// not expanded to every address they resolve to), `ring` uses the ACTIVE
// healthy members of the query-scheduler ring, of which only the first
// -query-scheduler.max-used-instances by address are in use (as dskit's ring
// service discovery): frontends enqueue to those, queriers pull from every
// one (a single loop from each one not in use, to drain it).

import type { Config } from '../../config/config.js';
import { flagNumber, flagString } from '../../config/config.js';
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
  const maxUsed = flagNumber(config.values, 'query-scheduler.max-used-instances');
  if (maxUsed > 0 && discoveryMode(config) !== 'ring') throw new Error("the query-scheduler max used instances can be set only when -query-scheduler.service-discovery-mode is set to 'ring'");
  if (maxUsed < 0) throw new Error("the query-scheduler max used instances can't be negative");
  if (flagString(config.values, 'querier.frontend-address') !== '' && flagString(config.values, 'querier.scheduler-address') !== '') throw new Error('frontend address and scheduler address are mutually exclusive, please use only one');
  if (discoveryMode(config) !== 'ring') return;
  if (flagString(config.values, 'querier.frontend-address') !== '') throw new Error("frontend address and scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'");
  if (flagString(config.values, 'query-frontend.scheduler-address') !== '') throw new Error("scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'");
  if (flagString(config.values, 'querier.scheduler-address') !== '') throw new Error("frontend address and scheduler address cannot be specified when query-scheduler service discovery mode is set to 'ring'");
}

/** SchedulerInstance is a discovered query-scheduler (or, for -querier.frontend-address, query-frontend): its internal address and whether it is in use. */
export interface SchedulerInstance {
  addr: string;
  /** inUse: frontends enqueue only to in-use schedulers; queriers pull from every one, with one loop each from those not in use. */
  inUse: boolean;
}

/**
 * selectInUse marks the first max instances by address (a string sort, as dskit's ring.ByAddr) in
 * use and the others not (dskit's selectInUseInstances); max 0 or at least their number: all in use.
 */
export function selectInUse(addrs: readonly string[], max: number): SchedulerInstance[] {
  const sorted = [...new Set(addrs)].sort();
  return sorted.map((addr, i) => ({ addr, inUse: max <= 0 || i < max }));
}

/**
 * schedulerInstances lists the schedulers a query-frontend (flag query-frontend.scheduler-address)
 * or a querier (querier.scheduler-address) knows, read again at each call; undefined when it uses
 * none (no address in dns mode). In ring mode only -query-scheduler.max-used-instances of them are
 * in use.
 */
export function schedulerInstances(config: Config, rings: Rings, flag: 'query-frontend.scheduler-address' | 'querier.scheduler-address'): (() => SchedulerInstance[]) | undefined {
  if (discoveryMode(config) === 'ring') {
    const m = rings.get('query-scheduler');
    if (m === undefined) return undefined;
    const max = flagNumber(config.values, 'query-scheduler.max-used-instances');
    return () =>
      selectInUse(
        m.ring.healthyInstances(ACTIVE_OWNER).map((i) => i.addr),
        max,
      );
  }
  const list = addressList(flagString(config.values, flag));
  return list.length > 0 ? () => list.map((addr) => ({ addr, inUse: true })) : undefined;
}

/** inUseAddresses are the addresses of the in-use instances (where a frontend enqueues). */
export function inUseAddresses(instances: () => SchedulerInstance[]): () => string[] {
  return () => instances().filter((i) => i.inUse).map((i) => i.addr);
}

/** addressList splits a comma-separated list of host:port addresses. */
export function addressList(value: string): string[] {
  return value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}
