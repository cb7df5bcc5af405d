// silences.ts keeps one tenant's silences as Alertmanager 0.35's silence
// package: validation, in-place update when the history allows it (else the
// old silence is expired and a new ID created), expiry, queries by state and
// the mute check. The state is snapshotted as Alertmanager's silencepb
// records (local file and bucket, see state.ts).

import { randomUUID } from 'node:crypto';
import { matchesAll, matcherString, type Matcher } from './matchers.js';
import { decodeSilences, encodeSilences } from './state.js';
import type { LabelSet } from './types.js';

/** SilenceState is a silence's state at a time. */
export type SilenceState = 'active' | 'pending' | 'expired';

/** Silence is one silence (times in unix ms). */
export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  updatedAt: number;
  createdBy: string;
  comment: string;
  /** annotations are the silence's free-form pairs (0.35's silencepb annotations; absent when none). */
  annotations?: LabelSet;
}

/** SilenceNotFound is ErrNotFound. */
export class SilenceNotFound extends Error {
  constructor() {
    super('silence not found');
  }
}

/** silenceState is the state of s at now. */
export function silenceState(s: Silence, now: number): SilenceState {
  if (s.endsAt <= now) return 'expired';
  if (s.startsAt <= now) return 'active';
  return 'pending';
}

function matchesEmpty(m: Matcher): boolean {
  switch (m.type) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return (m.re as RegExp).test('');
    case '!~':
      return !(m.re as RegExp).test('');
  }
}

/** validateSilence checks a silence as silence.validateSilence (throws with its text). */
export function validateSilence(s: Silence): void {
  if (s.matchers.length === 0) throw new Error('at least one matcher set required');
  s.matchers.forEach((m, i) => {
    if (m.name === '') throw new Error(`invalid label matcher ${i} in set 0: invalid label name ""`);
  });
  if (s.matchers.every(matchesEmpty)) throw new Error('matcher set 0: at least one matcher must not match the empty string');
  if (s.startsAt === 0) throw new Error('invalid zero start timestamp');
  if (s.endsAt === 0) throw new Error('invalid zero end timestamp');
  if (s.endsAt < s.startsAt) throw new Error('end time must not be before start time');
}

function sameMatchers(a: Matcher[], b: Matcher[]): boolean {
  return a.length === b.length && a.every((m, i) => matcherString(m) === matcherString(b[i] as Matcher));
}

/** Silences is one tenant's silence store. */
export class Silences {
  private readonly byId = new Map<string, Silence>();
  /** version changes on every modification (callers cache mute results by it). */
  version = 0;

  constructor(
    private readonly opts: {
      retentionMs: number;
      maxSilences?: () => number;
      onChange?: () => void;
      /** onWrite sees each silence this store writes (created, updated, expired), not merged ones: what replicas are sent. */
      onWrite?: (s: Silence) => void;
      now?: () => number;
    } = { retentionMs: 120 * 3_600_000 },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private changed(): void {
    this.version++;
    this.opts.onChange?.();
  }

  /** get returns a silence by ID. */
  get(id: string): Silence | undefined {
    return this.byId.get(id);
  }

  /** all returns every silence (expired ones until retention removes them). */
  all(): Silence[] {
    return [...this.byId.values()];
  }

  /** set creates or updates a silence and returns its (possibly new) ID. */
  set(input: Omit<Silence, 'id' | 'updatedAt'> & { id?: string }): string {
    const now = this.now();
    const sil: Silence = { ...input, id: input.id ?? '', updatedAt: now };
    if (sil.startsAt === 0) sil.startsAt = now;
    try {
      validateSilence(sil);
    } catch (err) {
      throw new Error(`invalid silence: ${err instanceof Error ? err.message : String(err)}`);
    }
    const prev = sil.id !== '' ? this.byId.get(sil.id) : undefined;
    if (sil.id !== '' && prev === undefined) throw new SilenceNotFound();
    if (prev !== undefined && this.canUpdate(prev, sil, now)) {
      this.byId.set(sil.id, sil);
      this.changed();
      this.opts.onWrite?.(sil);
      return sil.id;
    }
    const max = this.opts.maxSilences?.() ?? 0;
    if (max > 0 && this.byId.size + 1 > max) throw new Error(`exceeded maximum number of silences: ${this.byId.size} (limit: ${max})`);
    sil.id = randomUUID();
    if (sil.startsAt < now) sil.startsAt = now;
    if (prev !== undefined && silenceState(prev, now) !== 'expired') this.expireAt(prev.id, now);
    this.byId.set(sil.id, sil);
    this.changed();
    this.opts.onWrite?.(sil);
    return sil.id;
  }

  private canUpdate(a: Silence, b: Silence, now: number): boolean {
    if (!sameMatchers(a.matchers, b.matchers)) return false;
    switch (silenceState(a, now)) {
      case 'active':
        if (Math.floor(a.startsAt / 1000) !== Math.floor(b.startsAt / 1000)) return false;
        if (b.endsAt < now) return false;
        return true;
      case 'pending':
        return b.startsAt >= now;
      case 'expired':
        return false;
    }
  }

  /** expire ends a silence now (a pending one gets start = end = now). */
  expire(id: string): void {
    this.expireAt(id, this.now());
  }

  private expireAt(id: string, now: number): void {
    const s = this.byId.get(id);
    if (s === undefined) throw new SilenceNotFound();
    const state = silenceState(s, now);
    if (state === 'expired') return;
    const next = { ...s, updatedAt: now, endsAt: now };
    if (state === 'pending') next.startsAt = now;
    this.byId.set(id, next);
    this.changed();
    this.opts.onWrite?.(next);
  }

  /** mutedBy returns the IDs of active silences matching the labels, sorted. */
  mutedBy(labels: LabelSet, now = this.now()): string[] {
    const out: string[] = [];
    for (const s of this.byId.values()) {
      if (silenceState(s, now) !== 'active') continue;
      if (matchesAll(s.matchers, labels)) out.push(s.id);
    }
    return out.sort();
  }

  /** gc drops silences expired longer than the retention ago. */
  gc(): number {
    const cutoff = this.now() - this.opts.retentionMs;
    let n = 0;
    for (const [id, s] of this.byId) {
      if (s.endsAt < cutoff) {
        this.byId.delete(id);
        n++;
      }
    }
    if (n > 0) this.changed();
    return n;
  }

  /** snapshot serialises the silences as Alertmanager's MarshalBinary (MeshSilence records, see state.ts). */
  snapshot(): Buffer {
    return encodeSilences(this.all(), this.opts.retentionMs);
  }

  /** load replaces the state from a snapshot, or merges it (a newer updatedAt wins per ID). */
  load(data: Uint8Array, merge = false): void {
    this.loadList(decodeSilences(data), merge);
  }

  /** loadList replaces or merges decoded silences (a newer updatedAt wins per ID when merging); the number taken. */
  loadList(list: readonly Silence[], merge = false): number {
    if (!merge) this.byId.clear();
    let n = 0;
    for (const s of list) {
      const prev = this.byId.get(s.id);
      if (prev !== undefined && prev.updatedAt >= s.updatedAt) continue;
      this.byId.set(s.id, s);
      n++;
    }
    this.version++;
    return n;
  }
}
