// configs-api.ts is Cortex's deprecated configs API
// (`/api/prom/configs/{rules,templates,alertmanager}`, `alertmanager/validate`,
// `deactivate`, `restore`). The versioned document of each tenant is kept in
// the ruler's bucket (`configs/<tenant>`); its rule files become rule groups
// of the ruler's store (one namespace per file) and its Alertmanager
// configuration and templates the tenant's configuration in the
// alertmanager's store, so what is posted here is evaluated and routed by the
// same components as the newer APIs, and shows in their APIs.

import type { AlertConfigDesc } from '../alertmanager/store.js';
import { loadConfig, type AlertmanagerConfig } from '../alertmanager/config.js';
import { validateTemplates } from '../alertmanager/templates.js';
import { log } from '../log.js';
import { DecodeError, parseRuleFile, validateRuleFile, type NameValidation } from '../ruler/rulefmt.js';
import { RuleStoreError, type RuleStore } from '../ruler/rule-store.js';
import type { ParsedGroup } from '../ruler/rulefmt.js';
import { isNotFound, type Bucket } from '../storage/bucket/bucket.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import {
  ConfigDecodeError,
  configFormat,
  decodeStoredView,
  encodeStoredView,
  parseUserConfig,
  viewJson,
  viewYaml,
  type ConfigView,
  type UserConfig,
} from './userconfig.js';

/** CONFIGS_PREFIX is where each tenant's versioned document lives in the bucket. */
export const CONFIGS_PREFIX = 'configs/';

/** NO_CONFIGURATION is Cortex's answer for a tenant without a document (404). */
export const NO_CONFIGURATION = 'No configuration';

/** ConfigsRuler is what the configs API uses of the ruler. */
export interface ConfigsRuler {
  store: RuleStore;
  /** changed re-syncs a tenant's evaluation after its groups changed. */
  changed(tenant: string): void;
}

/** ConfigsAlertmanager is what the configs API uses of the multi-tenant Alertmanager. */
export interface ConfigsAlertmanager {
  /** validate throws when the Alertmanager could not run a configuration. */
  validate(desc: AlertConfigDesc): void;
  /** set stores a tenant's configuration and applies it. */
  set(desc: AlertConfigDesc): Promise<void>;
  /** remove deletes a tenant's configuration and stops its Alertmanager. */
  remove(user: string): Promise<void>;
}

/** ConfigsApiOptions configure the API. */
export interface ConfigsApiOptions {
  /** bucket keeps the versioned documents. */
  bucket: Bucket;
  ruler?: ConfigsRuler;
  alertmanager?: ConfigsAlertmanager;
  /** disableEmail and disableWebhook are -configs.notifications.disable-{email,webhook}. */
  disableEmail: boolean;
  disableWebhook: boolean;
  scheme?: NameValidation;
}

function textError(res: Response, status: number, message: string): void {
  res.send(status, message + '\n', 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
}

/** ConfigsApi holds the handlers. */
export class ConfigsApi {
  private readonly logger = log.with({ component: 'configs' });
  /** queues serialises the changes of each tenant (read, apply, write back). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: ConfigsApiOptions) {}

  private key(tenant: string): string {
    return `${CONFIGS_PREFIX}${tenant}`;
  }

  /** view reads a tenant's stored document (undefined: none). */
  async view(tenant: string): Promise<ConfigView | undefined> {
    try {
      return decodeStoredView(await this.opts.bucket.get(this.key(tenant)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private serial<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(tenant) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(tenant, tail);
    void tail.then(() => {
      if (this.queues.get(tenant) === tail) this.queues.delete(tenant);
    });
    return next;
  }

  /** getConfig answers GET /api/prom/configs/{rules,templates,alertmanager}: the tenant's view, JSON or YAML per Accept. */
  readonly getConfig = async (req: Request, res: Response): Promise<void> => {
    const view = await this.view(req.tenant);
    if (view === undefined) return textError(res, 404, NO_CONFIGURATION);
    if (configFormat(req.headers.get('accept')) === 'yaml') res.send(200, viewYaml(view), 'application/yaml');
    else res.send(200, viewJson(view), 'application/json');
  };

  /** setConfig answers POST /api/prom/configs/{rules,templates,alertmanager}: the whole document replaced, 204. */
  readonly setConfig = async (req: Request, res: Response): Promise<void> => {
    let cfg: UserConfig;
    try {
      cfg = parseUserConfig(req.body.toString('utf8'), configFormat(req.headers.get('content-type')));
    } catch (err) {
      if (err instanceof ConfigDecodeError) return textError(res, 400, err.message);
      throw err;
    }
    if (cfg.alertmanagerConfig !== '') {
      const err = this.alertmanagerError(cfg.alertmanagerConfig) ?? this.tenantAlertmanagerError(req.tenant, cfg);
      if (err !== undefined) {
        this.logger.error('invalid Alertmanager config', { user: req.tenant, err });
        return textError(res, 400, `Invalid Alertmanager config: ${err}`);
      }
    }
    let groups: Map<string, ParsedGroup[]>;
    try {
      groups = this.parseRules(cfg);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.error('invalid rules', { user: req.tenant, err: msg });
      return textError(res, 400, `Invalid rules: ${msg}`);
    }
    const templateErr = templateFilesError(cfg);
    if (templateErr !== undefined) {
      this.logger.error('invalid templates', { user: req.tenant, err: templateErr });
      return textError(res, 400, `Invalid templates: ${templateErr}`);
    }
    await this.serial(req.tenant, async () => {
      const prev = await this.view(req.tenant);
      const next: ConfigView = { id: (prev?.id ?? 0) + 1, config: cfg, deletedAt: 0 };
      await this.unapply(req.tenant, prev);
      await this.apply(req.tenant, cfg, groups);
      await this.opts.bucket.put(this.key(req.tenant), encodeStoredView(next));
    });
    res.empty(204);
  };

  /** validateAlertmanagerConfig answers POST /api/prom/configs/alertmanager/validate (the body is the configuration's YAML). */
  readonly validateAlertmanagerConfig = (req: Request, res: Response): void => {
    const err = this.alertmanagerError(req.body.toString('utf8'));
    if (err !== undefined) res.send(400, JSON.stringify({ error: err, status: 'error' }), 'application/json');
    else res.send(200, JSON.stringify({ status: 'success' }), 'application/json');
  };

  /** deactivateConfig answers DELETE /api/prom/configs/deactivate: rules and Alertmanager stop; the document stays. */
  readonly deactivateConfig = async (req: Request, res: Response): Promise<void> => {
    const found = await this.serial(req.tenant, async () => {
      const prev = await this.view(req.tenant);
      if (prev === undefined) return false;
      await this.unapply(req.tenant, prev);
      await this.opts.bucket.put(this.key(req.tenant), encodeStoredView({ ...prev, id: prev.id + 1, deletedAt: Date.now() }));
      return true;
    });
    if (!found) {
      this.logger.info('deactivate config - no configuration', { userID: req.tenant });
      return textError(res, 404, NO_CONFIGURATION);
    }
    this.logger.info('config deactivated', { userID: req.tenant });
    res.empty(200);
  };

  /** restoreConfig answers POST /api/prom/configs/restore: a deactivated document applies again. */
  readonly restoreConfig = async (req: Request, res: Response): Promise<void> => {
    const found = await this.serial(req.tenant, async () => {
      const prev = await this.view(req.tenant);
      if (prev === undefined) return false;
      await this.unapply(req.tenant, prev);
      await this.apply(req.tenant, prev.config, this.parseRules(prev.config));
      await this.opts.bucket.put(this.key(req.tenant), encodeStoredView({ ...prev, id: prev.id + 1, deletedAt: 0 }));
      return true;
    });
    if (!found) {
      this.logger.info('restore config - no configuration', { userID: req.tenant });
      return textError(res, 404, NO_CONFIGURATION);
    }
    this.logger.info('config restored', { userID: req.tenant });
    res.empty(200);
  };

  /** alertmanagerError checks a configuration as Cortex's configs API does (Alertmanager's loader, the disabled integrations). */
  private alertmanagerError(text: string): string | undefined {
    let cfg: AlertmanagerConfig;
    try {
      cfg = loadConfig(text);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    for (const r of cfg.receivers) {
      const has = (key: string): boolean => r.integrations.some((i) => i.key === key && i.entries.length > 0);
      if (this.opts.disableEmail && has('email_configs')) return 'email notifications are disabled';
      if (this.opts.disableWebhook && has('webhook_configs')) return 'webhook notifications are disabled';
    }
    return undefined;
  }

  /** tenantAlertmanagerError checks what the tenant's Alertmanager would refuse to run (its limits, its templates). */
  private tenantAlertmanagerError(tenant: string, cfg: UserConfig): string | undefined {
    if (this.opts.alertmanager === undefined) return undefined;
    try {
      this.opts.alertmanager.validate(alertConfigDesc(tenant, cfg));
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** parseRules parses and checks the rule files (Prometheus 2.x format only, as Cortex). */
  private parseRules(cfg: UserConfig): Map<string, ParsedGroup[]> {
    if (cfg.ruleFormatVersion === 1) throw new Error('unsupported rule format version 0');
    const out = new Map<string, ParsedGroup[]>();
    for (const [file, text] of Object.entries(cfg.rulesFiles ?? {})) {
      let groups: ParsedGroup[];
      try {
        groups = parseRuleFile(text);
      } catch (err) {
        if (err instanceof DecodeError) throw new Error(`error parsing ${file}: ${err.message}`);
        throw err;
      }
      const errs = validateRuleFile(groups, { scheme: this.opts.scheme ?? 'utf8' });
      if (errs.length > 0) throw new Error(`error parsing ${file}: ${errs[0]}`);
      out.set(file, groups);
    }
    return out;
  }

  /** apply writes a document's rule groups and Alertmanager configuration into their components' stores. */
  private async apply(tenant: string, cfg: UserConfig, groups: Map<string, ParsedGroup[]>): Promise<void> {
    const ruler = this.opts.ruler;
    if (ruler !== undefined && groups.size > 0) {
      for (const [file, parsed] of groups) for (const p of parsed) await ruler.store.setGroup({ ...p.group, user: tenant, namespace: file });
      ruler.changed(tenant);
    }
    if (this.opts.alertmanager !== undefined && cfg.alertmanagerConfig !== '') await this.opts.alertmanager.set(alertConfigDesc(tenant, cfg));
  }

  /** unapply removes what a document put into the stores (its rule files' namespaces, its Alertmanager configuration). */
  private async unapply(tenant: string, view: ConfigView | undefined): Promise<void> {
    if (view === undefined || view.deletedAt !== 0) return;
    const ruler = this.opts.ruler;
    const files = Object.keys(view.config.rulesFiles ?? {});
    if (ruler !== undefined && files.length > 0) {
      for (const file of files) {
        try {
          await ruler.store.deleteNamespace(tenant, file);
        } catch (err) {
          if (!(err instanceof RuleStoreError)) throw err;
        }
      }
      ruler.changed(tenant);
    }
    if (this.opts.alertmanager !== undefined && view.config.alertmanagerConfig !== '') await this.opts.alertmanager.remove(tenant);
  }
}

/** alertConfigDesc is the alertmanager store's form of a document's configuration and templates (sorted by name). */
function alertConfigDesc(user: string, cfg: UserConfig): AlertConfigDesc {
  const templates = Object.keys(cfg.templateFiles ?? {})
    .sort()
    .map((filename) => ({ filename, body: cfg.templateFiles![filename]! }));
  return { user, rawConfig: cfg.alertmanagerConfig, templates };
}

/** ALL_TEMPLATES selects every template file (Cortex parses each of them, referenced or not). */
const ALL_TEMPLATES = { templates: ['*'] } as Pick<AlertmanagerConfig, 'templates'> as AlertmanagerConfig;

/** templateFilesError parses every template file with Alertmanager's function map. */
function templateFilesError(cfg: UserConfig): string | undefined {
  const files = Object.entries(cfg.templateFiles ?? {}).map(([filename, body]) => ({ filename, body }));
  try {
    validateTemplates(files, ALL_TEMPLATES);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
