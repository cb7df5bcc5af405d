// lifecycler.ts keeps this process's entry in one ring: it registers PENDING
// without tokens, joins with random tokens (JOINING, then ACTIVE), heartbeats every heartbeat period, and on
// shutdown goes LEAVING and, when asked to, removes itself.

import type { Logger } from '../log.js';
import { generateTokens, takenTokens, type InstanceDesc, type InstanceState } from './model.js';
import type { Ring } from './ring.js';

/** LifecyclerOptions name and address this instance in the ring. */
export interface LifecyclerOptions {
  id: string;
  addr: string;
  zone: string;
  numTokens: number;
  heartbeatPeriodMs: number;
  /** unregisterOnShutdown removes the instance from the ring when it stops (else it stays LEAVING). */
  unregisterOnShutdown: () => boolean;
  /** autoForgetMs: each heartbeat removes the other members whose last heartbeat is older than this (0: never), as dskit's AutoForgetDelegate. */
  autoForgetMs?: number;
  /** joinState is the state right after joining (ACTIVE unless the component activates itself later). */
  joinState?: InstanceState;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Lifecycler registers one instance in a ring and keeps its heartbeat. */
export class Lifecycler {
  private timer: NodeJS.Timeout | undefined;
  private state: InstanceState = 'PENDING';
  private stopped = false;

  constructor(
    readonly ring: Ring,
    readonly opts: LifecyclerOptions,
    private readonly log: Logger,
  ) {}

  /**
   * start joins the ring as dskit's lifecycler: an instance not in the ring (or found JOINING, a
   * start that did not finish) registers PENDING without tokens, then draws its missing tokens and
   * goes JOINING, then joinState; one found ACTIVE or LEAVING with tokens (a restart) keeps them
   * and goes straight to joinState.
   */
  async start(): Promise<void> {
    let resumed = false;
    let kept: number[] = [];
    await this.update((cur) => {
      const now = nowSec();
      resumed = cur !== undefined && cur.tokens.length > 0 && (cur.state === 'ACTIVE' || cur.state === 'LEAVING');
      // A fresh or unfinished join starts over from PENDING; a restart keeps its tokens for now.
      this.state = resumed ? cur!.state : 'PENDING';
      // A PENDING instance owns no tokens: those of an unfinished join come back when it goes JOINING.
      kept = resumed ? [] : (cur?.tokens ?? []);
      return {
        addr: this.opts.addr,
        timestamp: now,
        state: this.state,
        tokens: resumed ? cur!.tokens : [],
        zone: this.opts.zone,
        registered_timestamp: cur !== undefined && cur.registered_timestamp > 0 ? cur.registered_timestamp : now,
        read_only: cur?.read_only ?? false,
        read_only_updated_timestamp: cur?.read_only_updated_timestamp ?? 0,
      };
    });
    if (!resumed) this.log.info('instance registered in the ring without tokens', { ring: this.ring.opts.key, instance: this.opts.id, state: this.state });
    // Tokens: what the instance had, topped up with random ones none of the others hold.
    if (!resumed) this.state = 'JOINING';
    await this.update((cur, all) => {
      if (cur === undefined) return undefined;
      const others = { ...all };
      delete others[this.opts.id];
      const taken = takenTokens({ ingesters: others });
      let tokens = resumed ? cur.tokens : kept.filter((t) => !taken.has(t));
      if (tokens.length < this.opts.numTokens) {
        tokens = [...tokens, ...generateTokens(this.opts.numTokens - tokens.length, taken)].sort((a, b) => a - b);
      }
      return { ...cur, tokens, state: this.state, timestamp: nowSec() };
    });
    await this.changeState(this.opts.joinState ?? 'ACTIVE');
    this.log.info('instance joined the ring', { ring: this.ring.opts.key, instance: this.opts.id, addr: this.opts.addr, state: this.state });
    if (this.opts.heartbeatPeriodMs > 0) {
      this.timer = setInterval(() => {
        this.heartbeat().catch((err: unknown) => this.log.warn('ring heartbeat failed', { ring: this.ring.opts.key, err }));
      }, this.opts.heartbeatPeriodMs);
      this.timer.unref();
    }
  }

  /** getState is this instance's state. */
  getState(): InstanceState {
    return this.state;
  }

  /** changeState moves this instance to state. */
  async changeState(state: InstanceState): Promise<void> {
    this.state = state;
    await this.update((cur) => (cur === undefined ? undefined : { ...cur, state, timestamp: nowSec() }));
  }

  /** setReadOnly marks this instance read-only (or not), with the time of the change. */
  async setReadOnly(readOnly: boolean): Promise<void> {
    await this.update((cur) => (cur === undefined || cur.read_only === readOnly ? undefined : { ...cur, read_only: readOnly, read_only_updated_timestamp: nowSec() }));
  }

  /** readOnly tells whether this instance is read-only, and since when (unix seconds). */
  readOnly(): { readOnly: boolean; since: number } {
    const d = this.ring.getDesc().ingesters[this.opts.id];
    return { readOnly: d?.read_only ?? false, since: d?.read_only_updated_timestamp ?? 0 };
  }

  /** heartbeat refreshes the timestamp (re-registering the instance if it was forgotten). */
  async heartbeat(): Promise<void> {
    if (this.stopped) return;
    let missing = false;
    await this.update((cur) => {
      if (cur === undefined) {
        missing = true;
        return undefined;
      }
      return { ...cur, timestamp: nowSec(), state: this.state };
    });
    if (!missing && (this.opts.autoForgetMs ?? 0) > 0) await this.forgetUnhealthy(this.opts.autoForgetMs!);
    if (missing && !this.stopped) {
      this.log.warn('instance missing from the ring, joining again', { ring: this.ring.opts.key, instance: this.opts.id });
      await this.update(() => ({
        addr: this.opts.addr,
        timestamp: nowSec(),
        state: this.state,
        tokens: generateTokens(this.opts.numTokens, takenTokens(this.ring.getDesc())),
        zone: this.opts.zone,
        registered_timestamp: nowSec(),
        read_only: false,
        read_only_updated_timestamp: 0,
      }));
    }
  }

  /** forgetUnhealthy removes the other members that missed heartbeats for longer than periodMs. */
  private async forgetUnhealthy(periodMs: number): Promise<void> {
    const cutoff = Date.now() - periodMs;
    const stale = (id: string, i: InstanceDesc): boolean => id !== this.opts.id && i.timestamp * 1000 < cutoff;
    if (!Object.entries(this.ring.getDesc().ingesters).some(([id, i]) => stale(id, i))) return;
    const forgotten: string[] = [];
    await this.ring.casRing((d) => {
      forgotten.length = 0;
      for (const [id, i] of Object.entries(d.ingesters)) {
        if (stale(id, i)) {
          delete d.ingesters[id];
          forgotten.push(id);
        }
      }
      return forgotten.length > 0 ? d : undefined;
    });
    for (const id of forgotten) this.log.info('auto-forgetting instance from the ring because it is unhealthy for a long time', { ring: this.ring.opts.key, instance: id });
  }

  /** stop leaves the ring: LEAVING, then removed when unregistering on shutdown. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      await this.changeState('LEAVING');
      if (this.opts.unregisterOnShutdown()) {
        await this.ring.casRing((d) => {
          if (d.ingesters[this.opts.id] === undefined) return undefined;
          delete d.ingesters[this.opts.id];
          return d;
        });
      }
    } catch (err) {
      this.log.warn('leaving the ring failed', { ring: this.ring.opts.key, err });
    }
  }

  /** update rewrites this instance's entry (undefined from f: no change). */
  private async update(f: (cur: InstanceDesc | undefined, all: Record<string, InstanceDesc>) => InstanceDesc | undefined): Promise<void> {
    await this.ring.casRing((d) => {
      const next = f(d.ingesters[this.opts.id], d.ingesters);
      if (next === undefined) return undefined;
      d.ingesters[this.opts.id] = next;
      return d;
    });
  }
}
