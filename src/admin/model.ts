// model.ts holds the GEM admin API's resources as its JSON writes them
// (clusters, instances, access policies, tokens) and the validation of
// create and update bodies, with a 400 and a message for anything invalid.

import { badData } from '../errors.js';
import { SCOPES, type Scope } from '../auth/scopes.js';
import { POLICY_MATCH_TYPES, type LabelPolicy } from '../auth/visibility.js';

/** Cluster is this process's cluster (-cluster-name): immutable, kind cortex. */
export interface Cluster {
  name: string;
  display_name: string;
  created_at: string;
  kind: 'cortex';
  base_url: string;
}

/** INSTANCE_STATUSES are the values of an instance's status. */
export const INSTANCE_STATUSES = ['active', 'inactive', 'unknown'] as const;

/** Instance is one tenant of the cluster; limits (Mimir limit names) apply as its overrides. */
export interface Instance {
  name: string;
  display_name: string;
  created_at: string;
  status: (typeof INSTANCE_STATUSES)[number];
  cluster: string;
  limits?: Record<string, unknown>;
}

/** Realm is one instance/cluster pair an access policy allows, with optional label policies (LBAC). */
export interface Realm {
  instance: string;
  cluster: string;
  label_policies?: LabelPolicy[];
}

/** AccessPolicy grants scopes on realms to the tokens made under it. */
export interface AccessPolicy {
  name: string;
  display_name: string;
  created_at: string;
  realms: Realm[];
  expiration?: string;
  scopes: Scope[];
}

/** Token is a credential under an access policy (its secret is never shown again after creation). */
export interface Token {
  name: string;
  display_name: string;
  created_at: string;
  expiration?: string;
  access_policy: string;
}

/** NAME_RULE is GEM's rule for resource names. */
const NAME_RULE = /^[a-z0-9_-]{3,64}$/;

/** Body is a parsed JSON request body. */
export type Body = Record<string, unknown>;

/** parseBody parses a JSON object body (400 otherwise). */
export function parseBody(raw: Buffer): Body {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badData(`invalid request body: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badData('invalid request body: expected a JSON object');
  return v as Body;
}

/** validateName checks a resource name against GEM's rule. */
export function validateName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw badData(`${kind} name is required`);
  if (!NAME_RULE.test(name)) throw badData(`invalid ${kind} name "${name}": it must be between 3 and 64 characters and only include the following characters, [a-z0-9-_]`);
  return name;
}

function optString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badData(`invalid ${field}: expected a string`);
  return v;
}

/** parseTime checks an RFC 3339 time field and returns it normalised (undefined when absent or empty). */
export function parseTime(body: Body, field: string): string | undefined {
  const v = optString(body, field);
  if (v === undefined || v === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) || Number.isNaN(Date.parse(v))) {
    throw badData(`invalid ${field} "${v}": expected an RFC 3339 time`);
  }
  return new Date(Date.parse(v)).toISOString();
}

/** instanceFromBody builds an instance from a create (name taken from the body) or update (name kept) body. */
export function instanceFromBody(body: Body, name: string, createdAt: string, defaults: { cluster: string; status?: Instance['status'] }): Instance {
  const status = optString(body, 'status') ?? defaults.status ?? 'active';
  if (!(INSTANCE_STATUSES as readonly string[]).includes(status)) throw badData(`invalid status "${status}": expected one of ${INSTANCE_STATUSES.join(', ')}`);
  const out: Instance = {
    name,
    display_name: optString(body, 'display_name') ?? name,
    created_at: createdAt,
    status: status as Instance['status'],
    cluster: optString(body, 'cluster') ?? defaults.cluster,
  };
  const limits = body['limits'];
  if (limits !== undefined && limits !== null) {
    if (typeof limits !== 'object' || Array.isArray(limits)) throw badData('invalid limits: expected a JSON object of limit names and values');
    out.limits = limits as Record<string, unknown>;
  }
  return out;
}

function parseLabelPolicies(v: unknown, at: string): LabelPolicy[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badData(`invalid ${at}.label_policies: expected a list`);
  return v.map((p: unknown, i) => {
    const sel = (p as { selector?: unknown } | null)?.selector;
    if (!Array.isArray(sel)) throw badData(`invalid ${at}.label_policies[${i}]: expected a selector list`);
    return {
      selector: sel.map((m: unknown, j) => {
        const { type, name, value } = (m ?? {}) as Record<string, unknown>;
        const where = `${at}.label_policies[${i}].selector[${j}]`;
        if (typeof type !== 'string' || POLICY_MATCH_TYPES[type] === undefined) throw badData(`invalid ${where}.type ${JSON.stringify(type)}: expected one of EQ, NEQ, RE, NRE`);
        if (typeof name !== 'string' || name === '') throw badData(`invalid ${where}.name: expected a label name`);
        if (typeof value !== 'string') throw badData(`invalid ${where}.value: expected a string`);
        if (type === 'RE' || type === 'NRE') {
          try {
            new RegExp(`^(?:${value})$`, 'u');
          } catch (err) {
            throw badData(`invalid ${where}.value: ${(err as Error).message}`);
          }
        }
        return { type, name, value };
      }),
    };
  });
}

/** parseRealms checks a policy's realms: a list of {instance, cluster, label_policies?}. */
export function parseRealms(body: Body): Realm[] {
  const v = body['realms'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badData('invalid realms: expected a list');
  return v.map((r: unknown, i) => {
    const o = (r ?? {}) as Record<string, unknown>;
    if (typeof o['instance'] !== 'string' || o['instance'] === '') throw badData(`invalid realms[${i}].instance: expected an instance name or *`);
    if (typeof o['cluster'] !== 'string' || o['cluster'] === '') throw badData(`invalid realms[${i}].cluster: expected a cluster name`);
    const realm: Realm = { instance: o['instance'], cluster: o['cluster'] };
    const lp = parseLabelPolicies(o['label_policies'], `realms[${i}]`);
    if (lp !== undefined) realm.label_policies = lp;
    return realm;
  });
}

/** parseScopes checks a policy's scopes against the known ones. */
export function parseScopes(body: Body): Scope[] {
  const v = body['scopes'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badData('invalid scopes: expected a list');
  return v.map((s: unknown) => {
    if (typeof s !== 'string' || !(SCOPES as readonly string[]).includes(s)) throw badData(`invalid scope ${JSON.stringify(s)}: expected one of ${SCOPES.join(', ')}`);
    return s as Scope;
  });
}

/** displayName reads display_name, defaulting to the name. */
export function displayName(body: Body, fallback: string): string {
  return optString(body, 'display_name') ?? fallback;
}

/** stringField reads an optional string field. */
export function stringField(body: Body, field: string): string | undefined {
  return optString(body, field);
}

/** isExpired says whether an RFC 3339 expiration (absent: never) has passed at nowMs. */
export function isExpired(expiration: string | undefined, nowMs: number): boolean {
  return expiration !== undefined && Date.parse(expiration) <= nowMs;
}
