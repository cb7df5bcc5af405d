// multitenant.ts is the multi-tenant Alertmanager: it keeps one
// TenantAlertmanager per tenant with a configuration (or the fallback one),
// syncs configurations from the bucket every poll interval, persists each
// tenant's state to the bucket, and serves the configuration API
// (`/api/v1/alerts`) and the `/multitenant_alertmanager/*` pages. Sharded
// over the alertmanager ring (shardWith), it runs only the tenants this
// process is a replica of (replication.ts).

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as yamlStringify, parse as yamlParse } from 'yaml';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import { ConfigError, loadConfig, type AlertmanagerConfig } from './config.js';
import { TenantAlertmanager, type InstancePeers } from './instance.js';
import type { AlertmanagerRing } from './replication.js';
import type { Expander } from './notifiers/notifier.js';
import type { UrlChecker } from './notifiers/registry.js';
import { ERR_NOT_FOUND, type AlertConfigDesc, type AlertStore } from './store.js';
import { validateTemplates, makeExpander } from './templates.js';

/** MultitenantOptions are the -alertmanager.* settings. */
export interface MultitenantOptions {
  storagePath: string;
  retentionMs: number;
  externalURL: string;
  pollIntervalMs: number;
  persistIntervalMs: number;
  fallbackConfigFile: string;
  maxConfigSizeBytes: number;
  maxTemplatesCount: number;
  maxTemplateSizeBytes: number;
  checkUrl: UrlChecker;
  /** instanceName and address identify this process in /status and the ring page. */
  instanceName: string;
  address: string;
  /** peerTimeoutMs is -alertmanager.peer-timeout: a replica waits its position times this before it notifies. */
  peerTimeoutMs: number;
}

const FILE_KEYS = ['password_file', 'bearer_token_file', 'credentials_file'];

/** restrictedSettings rejects the settings Mimir does not let tenants use (files on the server, proxies). */
function restrictedSettings(v: unknown, path: string[] = []): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const e = restrictedSettings(x, path);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const set = x !== undefined && x !== null && x !== '';
    if (set && FILE_KEYS.includes(k)) return 'setting password_file, bearer_token_file and credentials_file is not allowed';
    if (set && k === 'client_secret_file') return 'setting OAuth2 client_secret_file is not allowed';
    if (set && k === 'proxy_url') return 'setting proxy_url is not allowed';
    if (set && ['ca_file', 'cert_file', 'key_file'].includes(k) && path[path.length - 1] === 'tls_config') return 'setting TLS ca_file, cert_file and key_file is not allowed';
    if (set && (k === 'api_url_file' || k === 'slack_api_url_file') && (path.includes('slack_configs') || path[path.length - 1] === 'global'))
      return 'setting Slack api_url_file and global slack_api_url_file is not allowed';
    if (set && k === 'api_key_file' && path.includes('victorops_configs')) return 'setting VictorOps api_key_file is not allowed';
    if (set && k === 'url_file' && path.includes('webhook_configs')) return 'setting Webhook url_file is not allowed';
    if (set && k.endsWith('_file') && path.length > 0 && !['templates'].includes(k)) {
      const owner = path.find((p) => p.endsWith('_configs'));
      if (owner !== undefined) return `setting ${k} is not allowed`;
    }
    const e = restrictedSettings(x, [...path, k]);
    if (e !== undefined) return e;
  }
  return undefined;
}

/** validateTemplateFilename refuses names that are not a plain file name, as Mimir. */
function validateTemplateFilename(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
    throw new ConfigError(`invalid template name "${name}": the template name cannot contain any path`);
  }
}

/** MultitenantAlertmanager manages every tenant's instance. */
export class MultitenantAlertmanager {
  private readonly instances = new Map<string, { am: TenantAlertmanager; desc: AlertConfigDesc; fallback: boolean }>();
  private pollTimer: NodeJS.Timeout | undefined;
  private persistTimer: NodeJS.Timeout | undefined;
  private readonly persisted = new Map<string, number>();
  private fallbackConfig = '';
  private readonly notifications: Counter<'user' | 'integration'>;
  private readonly notificationsFailed: Counter<'user' | 'integration'>;
  private readonly alertsReceived: Counter<'user'>;
  private readonly alertsInvalid: Counter<'user'>;
  private readonly state: StateMetrics;
  private readonly syncs: Counter<'reason'>;
  private lastSync = 0;
  /** shard, with sharding, is the alertmanager ring: only the tenants this process is a replica of run here. */
  private shard: AlertmanagerRing | undefined;
  /** syncing chains the syncs (the poll and ring changes): one at a time. */
  private syncing: Promise<void> = Promise.resolve();
  private started = false;

  constructor(
    readonly opts: MultitenantOptions,
    readonly store: AlertStore,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.notifications = new Counter({ name: 'cortex_alertmanager_notifications_total', help: 'The total number of attempted notifications.', labelNames: ['user', 'integration'], registers: [registry] });
    this.notificationsFailed = new Counter({ name: 'cortex_alertmanager_notifications_failed_total', help: 'The total number of failed notifications.', labelNames: ['user', 'integration'], registers: [registry] });
    this.alertsReceived = new Counter({ name: 'cortex_alertmanager_alerts_received_total', help: 'The total number of received alerts.', labelNames: ['user'], registers: [registry] });
    this.alertsInvalid = new Counter({ name: 'cortex_alertmanager_alerts_invalid_total', help: 'The total number of received alerts that were invalid.', labelNames: ['user'], registers: [registry] });
    this.state = stateMetrics(registry);
    this.syncs = new Counter({ name: 'cortex_alertmanager_sync_configs_total', help: 'Total number of times the alertmanager sync operation triggered.', labelNames: ['reason'], registers: [registry] });
    if (opts.fallbackConfigFile !== '') {
      this.fallbackConfig = readFileSync(opts.fallbackConfigFile, 'utf8');
      loadConfig(this.fallbackConfig);
    }
  }

  /**
   * shardWith makes this alertmanager one of several sharing the tenants over the ring (Mimir's
   * sharding): it runs the tenants it is a replica of, replicates their state to the other
   * replicas, and persists a tenant's state only as the first of its replicas.
   */
  shardWith(ring: AlertmanagerRing): void {
    this.shard = ring;
  }

  /** ownershipChanged re-syncs (once started): the ring's members changed, tenants may have moved to or from here. */
  ownershipChanged(): void {
    if (this.started) void this.sync('ring-change').catch((err: unknown) => this.logger.error('failed to sync alertmanager configs after a ring change', { err }));
  }

  /** start loads every configuration and starts polling. */
  async start(): Promise<void> {
    this.started = true;
    await this.sync('initial');
    this.pollTimer = setInterval(() => void this.sync('periodic').catch((err: unknown) => this.logger.error('failed to sync alertmanager configs', { err })), this.opts.pollIntervalMs);
    this.pollTimer.unref();
    this.persistTimer = setInterval(() => void this.persistAll(), this.opts.persistIntervalMs);
    this.persistTimer.unref();
  }

  /** stop halts every instance, writing state locally and to the bucket. */
  async stop(): Promise<void> {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    if (this.persistTimer !== undefined) clearInterval(this.persistTimer);
    for (const { am } of this.instances.values()) am.stop();
    await this.persistAll();
    this.instances.clear();
  }

  /** sync applies the stored configurations: new tenants start, changed ones reload, removed ones (and, sharded, those owned elsewhere) stop. */
  sync(reason: 'initial' | 'periodic' | 'ring-change' = 'periodic'): Promise<void> {
    this.syncs.inc({ reason });
    const next = this.syncing.then(() => this.syncNow());
    this.syncing = next.catch(() => undefined);
    return next;
  }

  private async syncNow(): Promise<void> {
    const shard = this.shard;
    const users = (await this.store.listUsers()).filter((u) => shard === undefined || shard.owns(u));
    const seen = new Set<string>();
    for (const user of users) {
      const desc = await this.store.get(user);
      if (desc === undefined) continue;
      seen.add(user);
      await this.applyDesc(user, desc, false);
    }
    for (const [user, inst] of this.instances) {
      if (seen.has(user) || (inst.fallback && shard === undefined)) continue;
      if (shard !== undefined) await this.persistOne(user, inst.am, true);
      this.dropInstance(user);
      this.logger.info('deactivated alertmanager for tenant', { user });
    }
    this.lastSync = Date.now();
  }

  private async applyDesc(user: string, desc: AlertConfigDesc, fallback: boolean): Promise<void> {
    const cur = this.instances.get(user);
    if (cur !== undefined && !cur.fallback && !fallback && sameDesc(cur.desc, desc)) return;
    let cfg: AlertmanagerConfig;
    try {
      cfg = loadConfig(desc.rawConfig);
    } catch (err) {
      this.logger.warn('error applying config', { user, err });
      return;
    }
    let am = cur?.am;
    if (am === undefined) {
      am = new TenantAlertmanager({
        tenant: user,
        dataDir: join(this.opts.storagePath, user),
        retentionMs: this.opts.retentionMs,
        externalURL: this.opts.externalURL,
        logger: this.logger.with({ user }),
        metrics: {
          notification: (integration, ok) => {
            this.notifications.inc({ user, integration });
            if (!ok) this.notificationsFailed.inc({ user, integration });
          },
        },
        checkUrl: this.opts.checkUrl,
        makeExpander: (templates, config): Expander => makeExpander(templates, config, this.opts.externalURL),
        ...(this.shard !== undefined ? { peers: this.peersOf(user, this.shard) } : {}),
      });
      await this.settle(user, am);
      // A sync that ran meanwhile may have started this tenant too: the first instance stays.
      const raced = this.instances.get(user);
      if (raced !== undefined) {
        am.stop();
        am = raced.am;
      }
    }
    am.applyConfig(cfg, desc.templates);
    this.instances.set(user, { am, desc, fallback });
  }

  /** peersOf is what a tenant's instance needs of its other replicas. */
  private peersOf(user: string, shard: AlertmanagerRing): InstancePeers {
    return {
      broadcast: (key, data) => {
        this.state.replication.inc({ user });
        void shard.replicate(user, key, data).then((ok) => {
          if (!ok) this.state.replicationFailed.inc({ user });
        });
      },
      notifyDelayMs: () => shard.position(user) * this.opts.peerTimeoutMs,
    };
  }

  /**
   * settle loads a starting tenant's state (Mimir's state settle): from its other replicas when
   * sharded and any of them answers, else from the bucket.
   */
  private async settle(user: string, am: TenantAlertmanager): Promise<void> {
    const m = this.state;
    m.initialSync.inc();
    const end = m.initialSyncDuration.startTimer();
    const done = (outcome: 'from-replica' | 'from-storage' | 'user-not-found' | 'failed'): void => {
      m.initialSyncCompleted.inc({ outcome });
      end();
    };
    if (this.shard !== undefined) {
      m.fetchReplicaState.inc();
      const states = await this.shard.readFullState(user);
      try {
        if (states === undefined) throw new Error('failed to read state from any replica');
        for (const st of states) am.mergeState(st);
        this.logger.info('state settled from the other replicas', { user, replicas: states.length });
        done('from-replica');
        return;
      } catch (err) {
        m.fetchReplicaStateFailed.inc();
        this.logger.info('state not settled from the other replicas, reading it from storage', { user, err });
      }
    }
    try {
      const st = await this.store.getState(user);
      if (st === undefined) {
        done('user-not-found');
        return;
      }
      am.mergeState(st);
      done('from-storage');
    } catch (err) {
      this.logger.warn('failed to read alertmanager state from the bucket', { user, err });
      done('failed');
    }
  }

  /**
   * mergePartialState merges a state part a replica of the tenant sent (the internal API's
   * UpdateState); false when the tenant does not run here. A part that cannot be merged throws.
   */
  mergePartialState(user: string, key: string, data: Uint8Array): boolean {
    const am = this.instances.get(user)?.am;
    if (am === undefined) return false;
    this.state.partialMerges.inc({ user });
    try {
      am.mergePartialState(key, data);
    } catch (err) {
      this.state.partialMergesFailed.inc({ user });
      throw err;
    }
    return true;
  }

  /** dropInstance stops a tenant's running instance (writing its state) and forgets it; no-op without one. */
  private dropInstance(user: string): void {
    const inst = this.instances.get(user);
    if (inst === undefined) return;
    inst.am.stop();
    this.instances.delete(user);
  }

  /** runningInstance returns a tenant's running instance, or undefined. */
  runningInstance(user: string): TenantAlertmanager | undefined {
    return this.instances.get(user)?.am;
  }

  /** instanceFor returns a tenant's instance, starting one with the fallback configuration if it has none. */
  async instanceFor(user: string): Promise<TenantAlertmanager | undefined> {
    const cur = this.instances.get(user);
    if (cur !== undefined) return cur.am;
    if (this.fallbackConfig === '') return undefined;
    // As Mimir: the fallback is stored as the tenant's configuration, then used.
    const desc: AlertConfigDesc = { user, rawConfig: this.fallbackConfig, templates: [] };
    await this.store.set(desc);
    await this.applyDesc(user, desc, false);
    return this.instances.get(user)?.am;
  }

  private async persistAll(): Promise<void> {
    for (const [user, { am }] of this.instances) await this.persistOne(user, am, false);
  }

  /** persistOne writes a tenant's state to the bucket when it changed; sharded, only the tenant's first replica does (unless leaving: force). */
  private async persistOne(user: string, am: TenantAlertmanager, force: boolean): Promise<void> {
    if (this.persisted.get(user) === am.stateVersion) return;
    if (!force && this.shard !== undefined && this.shard.position(user) !== 0) return;
    this.state.persist.inc();
    try {
      await this.store.setState(user, am.fullState());
      this.persisted.set(user, am.stateVersion);
    } catch (err) {
      this.state.persistFailed.inc();
      this.logger.error('failed to persist alertmanager state', { user, err });
    }
  }

  /** getUserConfig answers GET /api/v1/alerts. */
  readonly getUserConfig = async (req: Request, res: Response): Promise<void> => {
    const desc = await this.store.get(req.tenant);
    if (desc === undefined) {
      res.text(404, ERR_NOT_FOUND + '\n');
      return;
    }
    res.send(200, userConfigYaml(desc), 'application/yaml');
  };

  /** setUserConfig answers POST /api/v1/alerts. */
  readonly setUserConfig = async (req: Request, res: Response): Promise<void> => {
    const max = this.opts.maxConfigSizeBytes;
    if (max > 0 && req.body.length > max) {
      res.text(400, `Alertmanager configuration is too big, limit: ${max} bytes\n`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = yamlParse(req.body.toString('utf8'));
    } catch (err) {
      res.text(400, `error marshalling YAML Alertmanager config: yaml: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      return;
    }
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (k !== 'template_files' && k !== 'alertmanager_config') {
        res.text(400, `error marshalling YAML Alertmanager config: yaml: unmarshal errors:\n  field ${k} not found in type alertmanager.UserConfig\n`);
        return;
      }
    }
    const templates: Array<{ filename: string; body: string }> = [];
    if (typeof obj.template_files === 'object' && obj.template_files !== null) {
      for (const [filename, body] of Object.entries(obj.template_files as Record<string, unknown>)) templates.push({ filename, body: String(body ?? '') });
    }
    const desc: AlertConfigDesc = { user: req.tenant, rawConfig: typeof obj.alertmanager_config === 'string' ? obj.alertmanager_config : '', templates };
    try {
      this.validate(desc);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.warn('error validating Alertmanager config', { user: req.tenant, err: msg });
      res.text(400, `error validating Alertmanager config: ${msg}\n`);
      return;
    }
    try {
      await this.store.set(desc);
    } catch (err) {
      res.text(500, `unable to store the Alertmanager config: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    // Sharded, the tenant's replicas pick the configuration up on their next sync (as Mimir's): it runs here only if this is one.
    if (this.shard === undefined || this.shard.owns(req.tenant)) await this.applyDesc(req.tenant, desc, false);
    res.empty(201);
  };

  /** validate checks a tenant configuration as Mimir's validateUserConfig (throws). */
  validate(desc: AlertConfigDesc): void {
    if (desc.rawConfig === '') throw new ConfigError("configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint");
    const cfg = loadConfig(desc.rawConfig);
    const restricted = restrictedSettings(yamlParse(desc.rawConfig) as unknown);
    if (restricted !== undefined) throw new ConfigError(restricted);
    for (const name of cfg.templates) validateTemplateFilename(name);
    const maxCount = this.opts.maxTemplatesCount;
    if (maxCount > 0 && desc.templates.length > maxCount) throw new ConfigError(`too many templates in the configuration: ${desc.templates.length} (limit: ${maxCount})`);
    const maxSize = this.opts.maxTemplateSizeBytes;
    if (maxSize > 0) {
      for (const t of desc.templates) {
        const size = Buffer.byteLength(t.body);
        if (size > maxSize) throw new ConfigError(`template ${t.filename} is too big: ${size} bytes (limit: ${maxSize} bytes)`);
      }
    }
    for (const t of desc.templates) validateTemplateFilename(t.filename);
    validateTemplates(desc.templates, cfg);
  }

  /** deleteUserConfig answers DELETE /api/v1/alerts (200 even when there was none). */
  readonly deleteUserConfig = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.store.delete(req.tenant);
    } catch (err) {
      res.text(500, `unable to delete the Alertmanager config: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    this.dropInstance(req.tenant);
    res.empty(200);
  };

  /** deleteTenantConfig answers POST /multitenant_alertmanager/delete_tenant_config: config, state and local files go. */
  readonly deleteTenantConfig = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.store.delete(req.tenant);
      await this.store.deleteState(req.tenant);
    } catch (err) {
      res.text(500, `unable to delete the Alertmanager config: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    this.dropInstance(req.tenant);
    rmSync(join(this.opts.storagePath, req.tenant), { recursive: true, force: true });
    res.empty(200);
  };

  /** listAllConfigs answers GET /multitenant_alertmanager/configs: every tenant's config as a YAML stream. */
  readonly listAllConfigs = async (_req: Request, res: Response): Promise<void> => {
    const users = (await this.store.listUsers()).sort();
    let out = '';
    for (const u of users) {
      const d = await this.store.get(u);
      if (d === undefined) continue;
      out += '---\n' + yamlStringify({ [u]: userConfigObject(d) });
    }
    res.send(200, out, 'application/yaml');
  };

  /** statusPage answers GET /multitenant_alertmanager/status. */
  readonly statusPage = (_req: Request, res: Response): void => {
    const rows = [...this.instances.keys()].sort().map((u) => `<tr><td>${escapeHtml(u)}</td></tr>`).join('');
    res.send(
      200,
      `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Alertmanager Status</title></head><body><h1>Alertmanager Status</h1>` +
        `<p>Last configuration sync: ${new Date(this.lastSync).toISOString()}</p><h2>Tenants</h2><table border="1"><thead><tr><th>Tenant</th></tr></thead><tbody>${rows}</tbody></table>` +
        (this.shard === undefined
          ? `<h2>Cluster</h2><p>Sharding is disabled: this process serves every tenant.</p></body></html>`
          : `<h2>Cluster</h2><p>Sharding is enabled: this process runs the tenants it is a replica of on the alertmanager ring (<a href="/multitenant_alertmanager/ring">ring status</a>).</p></body></html>`),
      CONTENT_TYPE.html,
    );
  };

  /** ringPage answers GET /multitenant_alertmanager/ring: this process is the only member. */
  readonly ringPage = (_req: Request, res: Response): void => {
    res.send(
      200,
      `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Alertmanager Ring Status</title></head><body><h1>Alertmanager Ring Status</h1>` +
        `<table border="1"><thead><tr><th>Instance ID</th><th>Availability zone</th><th>State</th><th>Address</th><th>Last Heartbeat</th><th>Tokens</th><th>Ownership</th></tr></thead>` +
        `<tbody><tr><td>${escapeHtml(this.opts.instanceName)}</td><td></td><td>ACTIVE</td><td>${escapeHtml(this.opts.address)}</td><td>${new Date().toISOString()}</td><td>128</td><td>100%</td></tr></tbody></table></body></html>`,
      CONTENT_TYPE.html,
    );
  };

  /** alertMetrics counts a tenant's received and invalid alerts. */
  alertMetrics(user: string): { received(n: number, invalid: number): void } {
    return {
      received: (n, invalid) => {
        this.alertsReceived.inc({ user }, n);
        if (invalid > 0) this.alertsInvalid.inc({ user }, invalid);
      },
    };
  }

  /** tenants lists tenants with a running instance. */
  tenants(): string[] {
    return [...this.instances.keys()].sort();
  }
}

/** StateMetrics count the state's replication, initial sync and persistence, with Mimir's names. */
interface StateMetrics {
  partialMerges: Counter<'user'>;
  partialMergesFailed: Counter<'user'>;
  replication: Counter<'user'>;
  replicationFailed: Counter<'user'>;
  fetchReplicaState: Counter;
  fetchReplicaStateFailed: Counter;
  initialSync: Counter;
  initialSyncCompleted: Counter<'outcome'>;
  initialSyncDuration: Histogram;
  persist: Counter;
  persistFailed: Counter;
}

function stateMetrics(registry: Registry): StateMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> => new Counter({ name, help, labelNames, registers: [registry] });
  const initialSyncCompleted = counter('cortex_alertmanager_state_initial_sync_completed_total', 'Number of times we have completed syncing initial state for each possible outcome.', ['outcome']);
  for (const outcome of ['from-replica', 'from-storage', 'user-not-found', 'failed']) initialSyncCompleted.inc({ outcome }, 0);
  return {
    partialMerges: counter('cortex_alertmanager_partial_state_merges_total', 'Number of times we have received a partial state to merge for a key.', ['user']),
    partialMergesFailed: counter('cortex_alertmanager_partial_state_merges_failed_total', 'Number of times we have failed to merge a partial state received for a key.', ['user']),
    replication: counter('cortex_alertmanager_state_replication_total', 'Number of times we have tried to replicate a state to other alertmanagers.', ['user']),
    replicationFailed: counter('cortex_alertmanager_state_replication_failed_total', 'Number of times we have failed to replicate a state to other alertmanagers.', ['user']),
    fetchReplicaState: counter('cortex_alertmanager_state_fetch_replica_state_total', 'Number of times we have tried to read and merge the full state from another replica.'),
    fetchReplicaStateFailed: counter('cortex_alertmanager_state_fetch_replica_state_failed_total', 'Number of times we have failed to read and merge the full state from another replica.'),
    initialSync: counter('cortex_alertmanager_state_initial_sync_total', 'Number of times we have tried to sync initial state from peers or storage.'),
    initialSyncCompleted,
    initialSyncDuration: new Histogram({
      name: 'cortex_alertmanager_state_initial_sync_duration_seconds',
      help: 'Time spent syncing initial state from peers or storage.',
      buckets: [0.01, 0.1, 1, 10, 100],
      registers: [registry],
    }),
    persist: counter('cortex_alertmanager_state_persist_total', 'Number of times we have tried to persist the running state to storage.'),
    persistFailed: counter('cortex_alertmanager_state_persist_failed_total', 'Number of times we have failed to persist the running state to storage.'),
  };
}

function sameDesc(a: AlertConfigDesc, b: AlertConfigDesc): boolean {
  return a.rawConfig === b.rawConfig && JSON.stringify(a.templates) === JSON.stringify(b.templates);
}

function userConfigObject(d: AlertConfigDesc): Record<string, unknown> {
  const tf: Record<string, string> = {};
  for (const t of [...d.templates].sort((a, b) => (a.filename < b.filename ? -1 : 1))) tf[t.filename] = t.body;
  return { template_files: tf, alertmanager_config: d.rawConfig };
}

/** userConfigYaml renders UserConfig as Mimir's GET answers it. */
export function userConfigYaml(d: AlertConfigDesc): string {
  return yamlStringify(userConfigObject(d), { lineWidth: 0 });
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
