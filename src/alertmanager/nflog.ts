// nflog.ts is the notification log: per aggregation group and receiver
// integration, which alerts (by fingerprint) were last notified as firing and
// as resolved, and when. The dispatcher consults it so a notification is
// sent only when something changed or the repeat interval passed, and it is
// persisted so a restart does not send the same notification twice.

import { decodeNflog, encodeNflog, type NflogRecord } from './state.js';

/** NflogEntry is the last notification of one group to one integration. */
export interface NflogEntry {
  firing: string[];
  resolved: string[];
  /** timestamp is when it was sent (unix ms). */
  timestamp: number;
  /** expiresAt is when the entry is dropped (unix ms). */
  expiresAt: number;
  /** store holds what an integration keeps about the group between notifications (Slack's threadTs and channelId). */
  store?: Record<string, string>;
  /**
   * muted are the alerts a mute stage (silence, inhibition, time interval)
   * kept out of the last notification: nflogpb.Entry.muted_alerts, written by
   * Alertmanager 0.35 under --enable-feature=muted-alerts-in-nflog (off by
   * default, as here: our entries carry none, and keep what a state read holds).
   */
  muted?: string[];
}

/** NotificationLog keeps one tenant's entries. */
export class NotificationLog {
  private readonly entries = new Map<string, NflogEntry>();

  constructor(
    private readonly retentionMs: number,
    private readonly onChange: () => void = () => undefined,
    /** onLog sees each entry this log records (not merged ones): what replicas are sent. */
    private readonly onLog: (key: string, e: NflogEntry) => void = () => undefined,
  ) {}

  private static key(groupKey: string, receiver: string): string {
    return `${groupKey}\x00${receiver}`;
  }

  /** get returns the entry of a group and receiver integration (`name/integration/index`). */
  get(groupKey: string, receiver: string): NflogEntry | undefined {
    return this.entries.get(NotificationLog.key(groupKey, receiver));
  }

  /** log records a notification. */
  log(groupKey: string, receiver: string, firing: string[], resolved: string[], now: number, store?: Record<string, string>): void {
    const e: NflogEntry = { firing, resolved, timestamp: now, expiresAt: now + this.retentionMs };
    if (store !== undefined && Object.keys(store).length > 0) e.store = store;
    const key = NotificationLog.key(groupKey, receiver);
    this.entries.set(key, e);
    this.onChange();
    this.onLog(key, e);
  }

  /** gc drops expired entries. */
  gc(now = Date.now()): void {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.expiresAt < now) {
        this.entries.delete(k);
        n++;
      }
    }
    if (n > 0) this.onChange();
  }

  /** size is the number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** records lists the entries with their keys. */
  records(): NflogRecord[] {
    return [...this.entries];
  }

  /** snapshot serialises the log as nflog's MarshalBinary (MeshEntry records, see state.ts). */
  snapshot(): Buffer {
    return encodeNflog(this.records());
  }

  /** load merges a snapshot (the newer entry wins). */
  load(data: Uint8Array): void {
    this.loadRecords(decodeNflog(data));
  }

  /** loadRecords merges decoded entries (the newer entry wins); the number taken. */
  loadRecords(list: readonly NflogRecord[]): number {
    let n = 0;
    for (const [k, e] of list) {
      const prev = this.entries.get(k);
      if (prev === undefined || prev.timestamp < e.timestamp) {
        this.entries.set(k, e);
        n++;
      }
    }
    return n;
  }
}

/** needsUpdate decides as Alertmanager's DedupStage whether a group must be notified. */
export function needsUpdate(entry: NflogEntry | undefined, firing: ReadonlySet<string>, resolved: ReadonlySet<string>, sendResolved: boolean, repeatMs: number, now: number): boolean {
  return notifyReason(entry, firing, resolved, sendResolved, repeatMs, now) !== 'none';
}

/**
 * notifyReason is DedupStage.needsUpdate's NotifyReason as 0.35 names it (the
 * `notification_reason` of webhook payloads): "none" when nothing is sent.
 */
export function notifyReason(entry: NflogEntry | undefined, firing: ReadonlySet<string>, resolved: ReadonlySet<string>, sendResolved: boolean, repeatMs: number, now: number): string {
  if (entry === undefined) return firing.size > 0 ? 'first notification' : 'none';
  const prevFiring = new Set(entry.firing);
  for (const fp of firing) if (!prevFiring.has(fp)) return entry.firing.length === 0 ? 'first notification' : 'new alerts added';
  if (firing.size === 0) return entry.firing.length > 0 ? 'all alerts resolved' : 'none';
  if (sendResolved) {
    const prevResolved = new Set(entry.resolved);
    for (const fp of resolved) if (!prevResolved.has(fp)) return 'some alerts resolved';
  }
  return entry.timestamp < now - repeatMs ? 'repeat interval elapsed' : 'none';
}
