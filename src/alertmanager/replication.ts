// replication.ts places tenants on the alertmanager ring, as Mimir's sharded
// alertmanagers: a tenant's replica set is the -alertmanager.sharding-ring.
// replication-factor instances clockwise from the FNV-1a hash of its id
// (shardByUser). An alertmanager runs the tenants it is a replica of, sends
// the state changes of each (silences, notification log entries) to the
// tenant's other replicas, reads a tenant's full state from them when it
// starts running it, and knows its position in each replica set (the wait
// before notifying, and which replica persists the state to the bucket).
// The calls travel over the internal API (src/internal/client.ts).

import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { InternalClient } from '../internal/client.js';
import { ALERTMANAGER_SYNC, WRITE } from '../ring/model.js';
import type { ReplicationSet, Ring } from '../ring/ring.js';
import { fnv1aKey } from '../ring/shard.js';

/** INTERNAL_AM_REQUEST_PATH serves a tenant's API request forwarded by another alertmanager (Mimir's HandleRequest). */
export const INTERNAL_AM_REQUEST_PATH = '/internal/v1/alertmanager/request';
/** INTERNAL_AM_UPDATE_STATE_PATH merges one state part a replica broadcast (Mimir's UpdateState). */
export const INTERNAL_AM_UPDATE_STATE_PATH = '/internal/v1/alertmanager/state/update';
/** INTERNAL_AM_READ_STATE_PATH answers a tenant's full state (Mimir's ReadState). */
export const INTERNAL_AM_READ_STATE_PATH = '/internal/v1/alertmanager/state/read';
/** STATE_KEY_HEADER names the state part an update carries (`sil:<tenant>` or `nfl:<tenant>`). */
export const STATE_KEY_HEADER = 'X-Mimir-Alertmanager-State-Key';
/** METHOD_HEADER and URL_HEADER carry a forwarded request's method and path with query. */
export const METHOD_HEADER = 'X-Mimir-Alertmanager-Method';
export const URL_HEADER = 'X-Mimir-Alertmanager-Url';

/** shardByUser is a tenant's token on the alertmanager ring: FNV-1a 32 of its id, as Mimir's. */
export function shardByUser(user: string): number {
  return fnv1aKey(user);
}

/** AlertmanagerRingOptions place this process on the ring. */
export interface AlertmanagerRingOptions {
  ring: Ring;
  /** selfId is this process's instance id in the ring. */
  selfId: string;
  replicationFactor: number;
  client: InternalClient;
  /** timeoutMs bounds each call to another alertmanager (-alertmanager.alertmanager-client.remote-timeout). */
  timeoutMs: number;
  log: Logger;
  /** registry, when given, gets cortex_alertmanager_ring_check_errors_total. */
  registry?: Registry;
}

/** AlertmanagerRing answers where tenants live and talks to their replicas. */
export class AlertmanagerRing {
  private readonly ringCheckErrors: Counter;

  constructor(readonly opts: AlertmanagerRingOptions) {
    this.ringCheckErrors = new Counter({
      name: 'cortex_alertmanager_ring_check_errors_total',
      help: 'Number of errors that have occurred when checking the ring for ownership.',
      registers: opts.registry !== undefined ? [opts.registry] : [],
    });
  }

  /** replicas is a tenant's replica set for reads and writes (throws the ring's error when too few are healthy). */
  replicas(user: string): ReplicationSet {
    return this.opts.ring.get(shardByUser(user), WRITE);
  }

  /** owns says whether this process is one of the tenant's replicas (Mimir's isUserOwned: ACTIVE or JOINING instances). */
  owns(user: string): boolean {
    try {
      return this.opts.ring.get(shardByUser(user), ALERTMANAGER_SYNC).instances.some((i) => i.id === this.opts.selfId);
    } catch (err) {
      this.ringCheckErrors.inc();
      this.opts.log.error('failed to check the tenant ownership in the ring', { user, err });
      return false;
    }
  }

  /**
   * position is this process's place in the tenant's replica set (0 first); 0 when the ring
   * cannot say, so that a notification is sent twice rather than never, as Mimir.
   */
  position(user: string): number {
    if (this.opts.replicationFactor <= 1) return 0;
    try {
      const i = this.replicas(user).instances.findIndex((r) => r.id === this.opts.selfId);
      return i < 0 ? 0 : i;
    } catch (err) {
      this.opts.log.error('unable to read the ring while trying to determine the alertmanager position', { user, err });
      return 0;
    }
  }

  /** others are the tenant's other healthy replicas (none when the ring cannot say). */
  private others(user: string): Array<{ id: string; addr: string }> {
    try {
      return this.replicas(user).instances.filter((i) => i.id !== this.opts.selfId);
    } catch (err) {
      this.opts.log.warn('no replica set for the tenant', { user, err });
      return [];
    }
  }

  /**
   * replicate sends one state part to the tenant's other replicas; true when every one took it
   * (failures are logged: the next change or a full-state read repairs them).
   */
  async replicate(user: string, key: string, data: Buffer): Promise<boolean> {
    const sent = await Promise.all(
      this.others(user).map((peer) =>
        this.opts.client.post(peer.addr, INTERNAL_AM_UPDATE_STATE_PATH, user, data, { [STATE_KEY_HEADER]: key }, this.opts.timeoutMs).then(
          (a) => {
            if (a.status !== 200) this.opts.log.debug('replica did not take the state update', { user, key, replica: peer.id, status: a.status });
            return a.status === 200;
          },
          (err: unknown) => {
            this.opts.log.warn('failed to replicate the alertmanager state', { user, key, replica: peer.id, err });
            return false;
          },
        ),
      ),
    );
    return sent.every((ok) => ok);
  }

  /**
   * readFullState asks every other replica for the tenant's full state (Mimir's
   * ReadFullStateForUser): the states of those that answered, or undefined when none did.
   */
  async readFullState(user: string): Promise<Buffer[] | undefined> {
    const answers = await Promise.all(
      this.others(user).map(async (peer) => {
        try {
          const a = await this.opts.client.post(peer.addr, INTERNAL_AM_READ_STATE_PATH, user, new Uint8Array(0), {}, this.opts.timeoutMs);
          if (a.status === 200) return a.body;
          this.opts.log.debug('replica has no state for the tenant', { user, replica: peer.id, status: a.status });
        } catch (err) {
          this.opts.log.warn('failed to read the state from a replica', { user, replica: peer.id, err });
        }
        return undefined;
      }),
    );
    const states = answers.filter((a): a is Buffer => a !== undefined);
    return states.length > 0 ? states : undefined;
  }
}
