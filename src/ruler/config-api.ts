// config-api.ts serves the ruler's configuration API as Mimir's ruler
// (pkg/ruler/api.go): list, get, set and delete rule groups of the request's
// tenant, YAML in and out, 202 with Mimir's JSON body on changes, errors in
// plain text with Mimir's texts and codes; plus the internal
// /ruler/rule_groups (every tenant) and /ruler/delete_tenant_config.

import { ApiError } from '../errors.js';
import { log } from '../log.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { RuleStore, RuleStoreError } from './rule-store.js';
import { DecodeError, parseRuleGroup, validateRuleGroup, type NameValidation, type TemplateCheck } from './rulefmt.js';
import { formattedGroup, namespacesYaml, toYaml } from './rulespb.js';

/** YAML_CONTENT_TYPE is what Mimir answers YAML with. */
export const YAML_CONTENT_TYPE = 'application/yaml';

/** ACCEPTED_BODY is Mimir's respondAccepted body (its response struct has no omitempty). */
export const ACCEPTED_BODY = '{"status":"success","data":null,"errorType":"","error":""}';

/** ERR_BAD_RULE_GROUP is Mimir's ErrBadRuleGroup text. */
export const ERR_BAD_RULE_GROUP = 'unable to decode rule group';

/** RulerLimits are the per-tenant ruler limits. */
export interface RulerLimits {
  maxRulesPerRuleGroup(tenant: string): number;
  maxRuleGroupsPerTenant(tenant: string): number;
}

/** RulerConfigApiOptions configure the API. */
export interface RulerConfigApiOptions {
  store: RuleStore;
  limits: RulerLimits;
  federation: boolean;
  scheme: NameValidation;
  templateCheck?: TemplateCheck;
  /** changed is told about a tenant whose groups changed (the manager re-syncs it). */
  changed: (tenant: string) => void;
}

function textError(res: Response, status: number, message: string): void {
  res.send(status, message + '\n', 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
}

/** RulerConfigApi holds the handlers. */
export class RulerConfigApi {
  private readonly logger = log.with({ component: 'ruler' });

  constructor(private readonly opts: RulerConfigApiOptions) {}

  private get store(): RuleStore {
    return this.opts.store;
  }

  /** listRules answers GET .../rules and .../rules/{namespace}: namespace -> groups, `{}` when none. */
  readonly listRules = async (req: Request, res: Response): Promise<void> => {
    const namespace = req.params.namespace ?? '';
    const groups = await this.store.loadGroups(req.tenant, namespace);
    res.send(200, namespacesYaml(groups), YAML_CONTENT_TYPE);
  };

  /** getRuleGroup answers GET .../rules/{namespace}/{groupName}. */
  readonly getRuleGroup = async (req: Request, res: Response): Promise<void> => {
    try {
      const g = await this.store.getGroup(req.tenant, req.params.namespace!, req.params.groupName!);
      res.send(200, toYaml(formattedGroup(g)), YAML_CONTENT_TYPE);
    } catch (err) {
      if (err instanceof RuleStoreError) return textError(res, 404, err.message);
      throw err;
    }
  };

  /** createRuleGroup answers POST .../rules/{namespace}: one group in YAML, validated, stored, 202. */
  readonly createRuleGroup = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.tenant;
    const namespace = req.params.namespace!;
    let parsed;
    try {
      parsed = parseRuleGroup(req.body.toString('utf8'));
    } catch (err) {
      if (err instanceof DecodeError) {
        this.logger.debug('unable to unmarshal rule group payload', { user: tenant, err: err.message });
        return textError(res, 400, ERR_BAD_RULE_GROUP);
      }
      throw err;
    }
    const errs = validateRuleGroup(parsed, { federation: this.opts.federation, scheme: this.opts.scheme, ...(this.opts.templateCheck !== undefined ? { templateCheck: this.opts.templateCheck } : {}) });
    if (errs.length > 0) return textError(res, 400, errs.join(', '));
    const maxRules = this.opts.limits.maxRulesPerRuleGroup(tenant);
    if (maxRules > 0 && parsed.group.rules.length > maxRules) {
      return textError(res, 400, `per-user rules per rule group limit (limit: ${maxRules} actual: ${parsed.group.rules.length}) exceeded`);
    }
    const maxGroups = this.opts.limits.maxRuleGroupsPerTenant(tenant);
    if (maxGroups > 0) {
      const existing = await this.store.listGroups(tenant);
      // As Mimir: the new group is counted on top of the existing ones, even when it replaces one of them.
      if (existing.length + 1 > maxGroups) return textError(res, 400, `per-user rule groups limit (limit: ${maxGroups} actual: ${existing.length + 1}) exceeded`);
    }
    await this.store.setGroup({ ...parsed.group, user: tenant, namespace });
    this.opts.changed(tenant);
    res.send(202, ACCEPTED_BODY, 'application/json');
  };

  /** deleteNamespace answers DELETE .../rules/{namespace}. */
  readonly deleteNamespace = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.store.deleteNamespace(req.tenant, req.params.namespace!);
    } catch (err) {
      if (err instanceof RuleStoreError) return textError(res, 404, err.message);
      throw err;
    }
    this.opts.changed(req.tenant);
    res.send(202, ACCEPTED_BODY, 'application/json');
  };

  /** deleteRuleGroup answers DELETE .../rules/{namespace}/{groupName}. */
  readonly deleteRuleGroup = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.store.deleteGroup(req.tenant, req.params.namespace!, req.params.groupName!);
    } catch (err) {
      if (err instanceof RuleStoreError) return textError(res, 404, err.message);
      throw err;
    }
    this.opts.changed(req.tenant);
    res.send(202, ACCEPTED_BODY, 'application/json');
  };

  /** deleteTenantConfig answers POST /ruler/delete_tenant_config: every group of the tenant, 200 even when none. */
  readonly deleteTenantConfig = async (req: Request, res: Response): Promise<void> => {
    try {
      await this.store.deleteNamespace(req.tenant, '');
    } catch (err) {
      if (!(err instanceof RuleStoreError)) throw new ApiError('internal', err instanceof Error ? err.message : String(err));
    }
    this.opts.changed(req.tenant);
    this.logger.info('deleted all tenant rule groups', { user: req.tenant });
    res.empty(200);
  };

  /** listAllRules answers GET /ruler/rule_groups: tenant -> namespace -> groups, for every tenant. */
  readonly listAllRules = async (_req: Request, res: Response): Promise<void> => {
    let users: string[];
    try {
      users = await this.store.listAllUsers();
    } catch (err) {
      return textError(res, 500, `unable to list the ruler users: ${err instanceof Error ? err.message : String(err)}`);
    }
    let out = '';
    for (const user of users.sort()) {
      const groups = await this.store.loadGroups(user);
      if (groups.length === 0) continue;
      const byNs: Record<string, unknown[]> = {};
      for (const g of groups) (byNs[g.namespace] ??= []).push(formattedGroup(g));
      out += toYaml({ [user]: byNs });
    }
    res.send(200, out, YAML_CONTENT_TYPE);
  };
}
