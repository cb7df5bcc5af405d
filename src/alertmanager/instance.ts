// instance.ts is one tenant's Alertmanager: its alerts (merged as
// Alertmanager's in-memory provider does), silences, notification log,
// inhibitor and dispatcher, built from the tenant's configuration and
// rebuilt when it changes. State (silences and notification log) is written
// to the local data directory shortly after each change (the `notifications`
// and `silences` snapshot files, as Mimir's) and kept in the bucket by the
// multi-tenant manager (FullStateDesc, see state.ts).

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { AlertmanagerConfig } from './config.js';
import { Dispatcher, type DispatchMetrics } from './dispatch.js';
import { Inhibitor } from './inhibit.js';
import { NotificationLog } from './nflog.js';
import { integrationFor } from './notifiers/index.js';
import type { Expander, Integration } from './notifiers/notifier.js';
import type { UrlChecker } from './notifiers/registry.js';
import { Silences, type Silence } from './silences.js';
import { NFLOG_KEY_PREFIX, SILENCES_KEY_PREFIX, decodeNflog, decodeSilences, decodeTenantState, encodeFullState, encodeNflog, encodeSilences } from './state.js';
import { fingerprintHex, sameLabelSet, type Alert, type LabelSet } from './types.js';

/** InstanceOptions configure a tenant instance. */
export interface InstanceOptions {
  tenant: string;
  /** dataDir is this tenant's state directory (`<-alertmanager.storage.path>/<tenant>`). */
  dataDir: string;
  retentionMs: number;
  externalURL: string;
  logger: Logger;
  metrics: DispatchMetrics;
  checkUrl: UrlChecker;
  /** makeExpander builds the template expander for the tenant's template files. */
  makeExpander: (templates: Array<{ filename: string; body: string }>, config: AlertmanagerConfig) => Expander;
  maxSilences?: () => number;
  /** peers, for a tenant replicated over several alertmanagers: where its state changes go and how long to wait before notifying. */
  peers?: InstancePeers;
}

/** InstancePeers is what a replicated tenant instance needs of its replicas (state_replication.go's role). */
export interface InstancePeers {
  /** broadcast sends one state part (key `sil:<tenant>` or `nfl:<tenant>`, data a run of delimited records) to the other replicas. */
  broadcast(key: string, data: Buffer): void;
  /** notifyDelayMs is how long a flush waits before it reads the notification log: the replica's position times the peer timeout. */
  notifyDelayMs(): number;
}

/** AlertStatus is an alert's status as API v2 reports it. */
export interface AlertStatus {
  state: 'unprocessed' | 'active' | 'suppressed';
  silencedBy: string[];
  inhibitedBy: string[];
}

/** NFLOG_FILE and SILENCES_FILE are the tenant's local snapshot files, named as Mimir's. */
const NFLOG_FILE = 'notifications';
const SILENCES_FILE = 'silences';
/** MIN_WRITE_DELAY_MS and MAX_WRITE_DELAY_MS bound the wait between a state change and the snapshot write. */
const MIN_WRITE_DELAY_MS = 100;
const MAX_WRITE_DELAY_MS = 60_000;
/** LEGACY_STATE_FILE is the JSON state file of older versions of ours. */
const LEGACY_STATE_FILE = 'state.json';

/** TenantAlertmanager is one tenant's Alertmanager. */
export class TenantAlertmanager {
  readonly alerts = new Map<string, Alert>();
  readonly silences: Silences;
  readonly nflog: NotificationLog;
  config!: AlertmanagerConfig;
  templates: Array<{ filename: string; body: string }> = [];
  private inhibitor!: Inhibitor;
  private dispatcher: Dispatcher | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  /** writeDelayMs is how long after a change the snapshot files are written (see localFiles). */
  private writeDelayMs = MIN_WRITE_DELAY_MS;
  /** writing is set while an asynchronous snapshot write runs; rewrite asks for another after it. */
  private writing = false;
  private rewrite = false;
  private stopped = false;
  private gcTimer: NodeJS.Timeout;
  /** stateVersion changes whenever silences or the notification log change (the bucket sync reads it). */
  stateVersion = 0;
  readonly started = Date.now();

  constructor(readonly opts: InstanceOptions) {
    const onChange = (): void => this.stateChanged();
    const peers = opts.peers;
    // A replicated tenant sends every silence it writes and every notification it logs to its other replicas.
    const onWrite = peers !== undefined ? (s: Silence): void => peers.broadcast(SILENCES_KEY_PREFIX + opts.tenant, encodeSilences([s], opts.retentionMs)) : undefined;
    this.silences = new Silences({ retentionMs: opts.retentionMs, onChange, ...(opts.maxSilences !== undefined ? { maxSilences: opts.maxSilences } : {}), ...(onWrite !== undefined ? { onWrite } : {}) });
    this.nflog = new NotificationLog(
      opts.retentionMs,
      onChange,
      peers !== undefined ? (key, e) => peers.broadcast(NFLOG_KEY_PREFIX + opts.tenant, encodeNflog([[key, e]])) : undefined,
    );
    mkdirSync(opts.dataDir, { recursive: true });
    this.loadLocalState();
    this.gcTimer = setInterval(() => this.gc(), 60_000);
    this.gcTimer.unref();
  }

  /** applyConfig (re)builds integrations, inhibitor and dispatcher; alerts, silences and the log are kept. */
  applyConfig(config: AlertmanagerConfig, templates: Array<{ filename: string; body: string }>): void {
    const integrations = new Map<string, Integration[]>();
    for (const r of config.receivers) {
      const list: Integration[] = [];
      for (const { key, entries } of r.integrations) {
        const def = integrationFor(key);
        if (def === undefined) {
          this.opts.logger.warn('receiver integration not supported, notifications to it are dropped', { receiver: r.name, integration: key });
          continue;
        }
        entries.forEach((e, i) => {
          list.push({ name: def.name, index: i, sendResolved: e.send_resolved === true, notifier: def.create(e, { logger: this.opts.logger, checkUrl: this.opts.checkUrl }) });
        });
      }
      integrations.set(r.name, list);
    }
    this.dispatcher?.stop();
    this.config = config;
    this.templates = templates;
    this.inhibitor = new Inhibitor(config.inhibitRules);
    this.dispatcher = new Dispatcher({
      tenant: this.opts.tenant,
      config,
      integrations,
      silences: this.silences,
      inhibitor: this.inhibitor,
      nflog: this.nflog,
      externalURL: this.opts.externalURL,
      expand: this.opts.makeExpander(templates, config),
      logger: this.opts.logger,
      metrics: this.opts.metrics,
      ...(this.opts.peers !== undefined ? { notifyDelayMs: this.opts.peers.notifyDelayMs.bind(this.opts.peers) } : {}),
    });
    for (const [fp, a] of this.alerts) {
      a.groups = undefined;
      this.inhibitor.observe(fp, a);
      this.dispatcher.process(fp, a);
    }
  }

  /** putAlerts stores alerts (merging with what is known) and dispatches them. */
  putAlerts(alerts: Alert[]): void {
    const now = Date.now();
    for (let alert of alerts) {
      const fp = fingerprintHex(alert.labels);
      const old = this.alerts.get(fp);
      if (old !== undefined) {
        const overlap = (alert.endsAt > old.startsAt && alert.endsAt < old.endsAt) || (alert.startsAt > old.startsAt && alert.startsAt < old.endsAt);
        if (overlap) alert = mergeAlerts(old, alert, true);
        // The known object takes the new values: the posted copy dies young (no old-generation garbage per re-send).
        updateInPlace(old, alert);
        alert = old;
      } else {
        alert = storedAlert(alert);
        this.alerts.set(fp, alert);
      }
      this.inhibitor.observe(fp, alert);
      this.dispatcher?.process(fp, alert, now);
    }
  }

  /** status computes an alert's status now (silences and inhibition as they stand). */
  status(a: Alert, now: number): AlertStatus {
    const silencedBy = this.silences.mutedBy(a.labels, now);
    const inh = this.inhibitor.inhibitedBy(a.labels, now);
    const inhibitedBy = inh === undefined ? [] : [inh];
    return { state: silencedBy.length > 0 || inhibitedBy.length > 0 ? 'suppressed' : 'active', silencedBy, inhibitedBy };
  }

  /** receiversOf names the receivers an alert routes to. */
  receiversOf(a: Alert): string[] {
    return this.config.route.match(a.labels).map((r) => r.opts.receiver);
  }

  /** groups returns the dispatcher's aggregation groups. */
  groups(): ReturnType<Dispatcher['allGroups']> {
    return this.dispatcher?.allGroups() ?? [];
  }

  /** routeLabels are a group's route labels rendered against its alerts now. */
  routeLabels(group: ReturnType<Dispatcher['allGroups']>[number]): LabelSet {
    return this.dispatcher?.routeLabels(group) ?? {};
  }

  /** mutedBy names the time intervals muting a group's route now. */
  mutedBy(group: ReturnType<Dispatcher['allGroups']>[number], now: number): string[] {
    return this.dispatcher?.mutedByTimeIntervals(group.route, now) ?? [];
  }

  private gc(): void {
    const now = Date.now();
    for (const [fp, a] of this.alerts) {
      if (a.endsAt !== 0 && a.endsAt <= now) {
        if (this.dispatcher?.holds(fp, a) === true) continue;
        this.alerts.delete(fp);
        this.inhibitor.forget(fp, a);
      }
    }
    this.silences.gc();
    this.nflog.gc(now);
  }

  private stateChanged(): void {
    this.stateVersion++;
    if (this.writeTimer !== undefined) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.writeLocalStateAsync();
    }, this.writeDelayMs);
    this.writeTimer.unref();
  }

  /** fullState serialises silences and the notification log as Mimir's FullStateDesc (see state.ts). */
  fullState(): Buffer {
    return encodeFullState(this.opts.tenant, this.nflog.snapshot(), this.silences.snapshot());
  }

  /** mergeState merges a full state (a replica's or the bucket's: FullStateDesc, or the JSON of older versions) into this one. */
  mergeState(buf: Buffer): void {
    const st = decodeTenantState(buf, this.opts.tenant);
    const n = this.silences.loadList(st.silences, true) + this.nflog.loadRecords(st.nflog);
    if (n > 0) this.stateChanged();
  }

  /**
   * mergePartialState merges one state part a replica broadcast (Alertmanager's MergePartialState):
   * silences and entries newer than what is held replace it; nothing is sent on. An unknown key throws.
   */
  mergePartialState(key: string, data: Uint8Array): void {
    let n: number;
    if (key === SILENCES_KEY_PREFIX + this.opts.tenant) n = this.silences.loadList(decodeSilences(data), true);
    else if (key === NFLOG_KEY_PREFIX + this.opts.tenant) n = this.nflog.loadRecords(decodeNflog(data));
    else throw new Error(`unknown state key ${key}`);
    if (n > 0) this.stateChanged();
  }

  /** localFiles are the snapshot files in the tenant's directory, named as Mimir's, with their contents now. */
  private localFiles(): Array<[string, Buffer]> {
    const start = performance.now();
    const files: Array<[string, Buffer]> = [
      [join(this.opts.dataDir, NFLOG_FILE), this.nflog.snapshot()],
      [join(this.opts.dataDir, SILENCES_FILE), this.silences.snapshot()],
    ];
    // Encoding is on the event loop and grows with the state: the next write waits 50 times as long as this
    // one's encoding took (at least 100 ms), so snapshots never take more than about 2% of the loop.
    this.writeDelayMs = Math.max(MIN_WRITE_DELAY_MS, Math.min(MAX_WRITE_DELAY_MS, 50 * (performance.now() - start)));
    return files;
  }

  /** writeLocalState writes the snapshot files atomically (synchronously: used on stop). */
  writeLocalState(): void {
    try {
      for (const [path, data] of this.localFiles()) {
        writeFileSync(path + '.tmp', data);
        renameSync(path + '.tmp', path);
      }
    } catch (err) {
      this.opts.logger.error('failed to write alertmanager state', { err });
    }
  }

  /**
   * writeLocalStateAsync writes the snapshot files off the event loop (the
   * periodic write after a change must not stall request handling). One write
   * at a time; a change meanwhile schedules the next. Should stop() have
   * written the final state while this one was in flight, that final state is
   * written again so an older snapshot cannot land last.
   */
  private async writeLocalStateAsync(): Promise<void> {
    if (this.writing) {
      this.rewrite = true;
      return;
    }
    this.writing = true;
    try {
      for (const [path, data] of this.localFiles()) {
        await writeFile(path + '.tmp-async', data);
        await rename(path + '.tmp-async', path);
      }
    } catch (err) {
      this.opts.logger.error('failed to write alertmanager state', { err });
    } finally {
      this.writing = false;
    }
    if (this.stopped) this.writeLocalState();
    else if (this.rewrite) {
      this.rewrite = false;
      this.stateChanged();
    }
  }

  private loadLocalState(): void {
    // Older versions of ours kept one JSON file; it is read once and replaced by the snapshot files.
    const legacy = join(this.opts.dataDir, LEGACY_STATE_FILE);
    if (existsSync(legacy)) {
      try {
        this.mergeState(readFileSync(legacy));
        this.writeLocalState();
        rmSync(legacy, { force: true });
      } catch (err) {
        this.opts.logger.warn('ignoring unreadable alertmanager state', { file: legacy, err });
      }
    }
    for (const [file, load] of [
      [NFLOG_FILE, (b: Buffer) => this.nflog.load(b)],
      [SILENCES_FILE, (b: Buffer) => this.silences.load(b, true)],
    ] as const) {
      let buf: Buffer;
      try {
        buf = readFileSync(join(this.opts.dataDir, file));
      } catch {
        continue;
      }
      try {
        load(buf);
      } catch (err) {
        this.opts.logger.warn('ignoring unreadable alertmanager state', { file, err });
      }
    }
  }

  /** stop halts the dispatcher and writes the state. */
  stop(): void {
    this.stopped = true;
    this.dispatcher?.stop();
    this.dispatcher = undefined;
    clearInterval(this.gcTimer);
    if (this.writeTimer !== undefined) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.writeLocalState();
  }
}

/**
 * storedAlert copies a posted alert into the objects the store keeps. The copy
 * is made here, at allocation sites of its own: V8 pretenures what a site
 * makes once most of it survives, so if the store kept the objects the API
 * parser allocates, every later request's parse would be allocated straight
 * into the old generation and die there (about 0.5 KB of old-generation
 * garbage per re-sent alert). Labels are copied with their shape (spread).
 */
function storedAlert(a: Alert): Alert {
  return {
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    generatorURL: a.generatorURL,
    updatedAt: a.updatedAt,
    timeout: a.timeout,
    version: 0,
    groups: undefined,
  };
}

/** updateInPlace copies a new version of an alert into the stored object, keeping its labels and unchanged strings and maps. */
function updateInPlace(dst: Alert, src: Alert): void {
  if (dst === src) return;
  dst.startsAt = src.startsAt;
  dst.endsAt = src.endsAt;
  dst.updatedAt = src.updatedAt;
  dst.timeout = src.timeout;
  if (!sameLabelSet(dst.annotations, src.annotations)) dst.annotations = { ...src.annotations };
  if (dst.generatorURL !== src.generatorURL) dst.generatorURL = src.generatorURL;
  dst.version = (dst.version ?? 0) + 1;
}

/**
 * mergeAlerts merges two versions of an alert as Alert.Merge. With ownsO the
 * caller hands over o (a freshly posted copy) and, when o is the newer one,
 * it is updated and returned instead of copied.
 */
export function mergeAlerts(a: Alert, o: Alert, ownsO = false): Alert {
  if (o.updatedAt < a.updatedAt) return mergeAlerts(o, a);
  const res = ownsO ? o : { ...o };
  if (a.startsAt < o.startsAt) res.startsAt = a.startsAt;
  const now = Date.now();
  const oResolved = o.endsAt !== 0 && o.endsAt <= now;
  const aResolved = a.endsAt !== 0 && a.endsAt <= now;
  if (oResolved) {
    if (aResolved && a.endsAt > o.endsAt) res.endsAt = a.endsAt;
  } else if (a.endsAt > o.endsAt && !a.timeout) {
    res.endsAt = a.endsAt;
  }
  return res;
}
