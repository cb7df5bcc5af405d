// enterprise.ts is enterprise authentication (-auth.type=enterprise): every
// data request carries a token, as HTTP Basic auth (user: the instance, or
// instances joined by `|` for a federated read; password: the token) or as
// `Authorization: Bearer <token>` with X-Scope-OrgID naming the instance.
// The token's access policy must hold the route's scope (403 otherwise) and
// a realm for each instance in this cluster (403 otherwise); missing,
// unknown, expired or deleted tokens get 401 with WWW-Authenticate. The
// tenant is what the credentials say: an X-Scope-OrgID sent alongside Basic
// auth is replaced. A realm's label policies become the request's
// visibility (LBAC). Tokens are verified against salted hashes in constant
// time. What a request's credentials allow (its tenant and label policies,
// per scope) is remembered for -auth.token-cache-ttl, at most until the
// token or its policy expires, and forgotten on every change of the admin
// state (a mutation through the admin API here, or a sync bringing another
// process's changes, every -auth.token-cache-ttl), so a token or policy
// changed or deleted through the admin API takes effect at once.

import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Request } from '../server/http.js';
import { ORG_ID_HEADER, requestTenants, joinTenants, MULTIPLE_ORG_IDS, type TenantOptions } from '../tenant/tenant.js';
import type { AdminStore } from '../admin/store.js';
import { isExpired, type AccessPolicy, type Realm } from '../admin/model.js';
import type { Scope } from './scopes.js';
import { parseToken, secretMatches } from './token.js';
import { policySelectors, type Visibility } from './visibility.js';
import type { LabelMatcher } from '../model/matchers.js';

/** WWW_AUTHENTICATE is sent with every 401 of enterprise auth. */
export const WWW_AUTHENTICATE = 'Basic realm="Grafana Enterprise Metrics"';

/** MAX_CACHED_TOKENS bounds the verified-token cache and the decision cache. */
const MAX_CACHED_TOKENS = 10_000;

/** Grant is a verified token's live access policy and the token's expiration. */
interface Grant {
  policy: AccessPolicy;
  tokenExpiration?: string;
}

/** Decision is a cached answer of data() or admin() for one set of credentials. */
interface Decision {
  auth: Authenticated;
  /** expires is when the entry stops being used (ms): -auth.token-cache-ttl after it was made, or the token's or policy's expiration. */
  expires: number;
}

function unauthorized(message: string): ApiError {
  return new ApiError('unauthorized', message, { 'WWW-Authenticate': WWW_AUTHENTICATE });
}

/** Credentials are what the Authorization header carried. */
interface Credentials {
  /** user is Basic auth's user name (the instance), undefined for a Bearer token. */
  user?: string;
  token: string;
}

/** credentials reads Basic or Bearer credentials; undefined when there are none. */
function credentials(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const h = header.trim();
  const space = h.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = h.slice(0, space).toLowerCase();
  const rest = h.slice(space + 1).trim();
  if (scheme === 'bearer') return rest === '' ? undefined : { token: rest };
  if (scheme !== 'basic') return undefined;
  const text = Buffer.from(rest, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), token: text.slice(colon + 1) };
}

/** EnterpriseAuthOptions configure EnterpriseAuth. */
export interface EnterpriseAuthOptions {
  clusterName: string;
  /** tokenCacheTtlMs is -auth.token-cache-ttl (0: no cache). */
  tokenCacheTtlMs: number;
  tenants: TenantOptions;
  now?: () => number;
}

/** Authenticated is what a data request's credentials allow. */
export interface Authenticated {
  /** tenant is the instance, or the instances joined by `|`. */
  tenant: string;
  /** visibility holds the label policies of the instances the token is limited on. */
  visibility?: Visibility;
}

/** EnterpriseAuth checks tokens against the admin state. */
export class EnterpriseAuth {
  /** verified maps a SHA-256 of a presented token to the token's name and when it was verified. */
  private readonly verified = new Map<string, { name: string; at: number }>();
  /** decisions maps the route kind and the request's credentials (hashed) to what they allow; cleared on every admin state change. */
  private readonly decisions = new Map<string, Decision>();
  private readonly now: () => number;

  constructor(
    private readonly store: AdminStore,
    private readonly opts: EnterpriseAuthOptions,
  ) {
    this.now = opts.now ?? Date.now;
    store.onChange(() => {
      this.decisions.clear();
      this.verified.clear();
    });
  }

  /** cachedDecisions is the number of cached decisions (for tests). */
  get cachedDecisions(): number {
    return this.decisions.size;
  }

  /** decisionKey identifies a request's credentials for a route kind; undefined when decisions are not cached. */
  private decisionKey(req: Request, kind: string): string | undefined {
    if (!(this.opts.tokenCacheTtlMs > 0)) return undefined;
    const header = req.headers.get('authorization');
    if (header === undefined) return undefined;
    const h = createHash('sha256').update(header).update('\0').update(req.headers.get(ORG_ID_HEADER) ?? '').digest('base64');
    return `${kind}\0${h}`;
  }

  private cached(key: string | undefined): Authenticated | undefined {
    if (key === undefined) return undefined;
    const d = this.decisions.get(key);
    if (d === undefined) return undefined;
    if (this.now() >= d.expires) {
      this.decisions.delete(key);
      return undefined;
    }
    return d.auth;
  }

  private remember(key: string | undefined, auth: Authenticated, grant: Grant): void {
    if (key === undefined) return;
    let expires = this.now() + this.opts.tokenCacheTtlMs;
    for (const exp of [grant.policy.expiration, grant.tokenExpiration]) {
      const t = exp === undefined ? NaN : Date.parse(exp);
      if (Number.isFinite(t) && t < expires) expires = t;
    }
    if (this.decisions.size >= MAX_CACHED_TOKENS) {
      // Drop the oldest entry (insertion order).
      const first = this.decisions.keys().next();
      if (first.done !== true) this.decisions.delete(first.value);
    }
    this.decisions.set(key, { auth, expires });
  }

  /** policyOf returns the live access policy of a presented token (401 when unknown, deleted or expired). */
  policyOf(presented: string): AccessPolicy {
    return this.grantOf(presented).policy;
  }

  /** grantOf returns the live access policy of a presented token and the token's expiration (401 when unknown, deleted or expired). */
  private grantOf(presented: string): Grant {
    const now = this.now();
    const key = createHash('sha256').update(presented).digest('base64');
    let name: string | undefined;
    const hit = this.verified.get(key);
    if (hit !== undefined && now - hit.at < this.opts.tokenCacheTtlMs) name = hit.name;
    const parsed = name === undefined ? parseToken(presented) : undefined;
    if (name === undefined) {
      const stored = parsed === undefined ? undefined : this.store.get('tokens', parsed.name);
      if (parsed === undefined || stored?.secret === undefined || !secretMatches(parsed.secret, stored.secret)) {
        this.verified.delete(key);
        throw unauthorized('invalid token');
      }
      name = parsed.name;
      if (this.opts.tokenCacheTtlMs > 0) {
        if (this.verified.size >= MAX_CACHED_TOKENS) this.verified.clear();
        this.verified.set(key, { name, at: now });
      }
    }
    const token = this.store.get('tokens', name);
    if (token === undefined) throw unauthorized('invalid token');
    if (isExpired(token.item.expiration, now)) throw unauthorized('token has expired');
    const policy = this.store.get('accesspolicies', token.item.access_policy);
    if (policy === undefined) throw unauthorized('invalid token');
    if (isExpired(policy.item.expiration, now)) throw unauthorized('access policy has expired');
    return token.item.expiration === undefined ? { policy: policy.item } : { policy: policy.item, tokenExpiration: token.item.expiration };
  }

  private policyWithScope(req: Request, scope: Scope): { grant: Grant; creds: Credentials } {
    const creds = credentials(req.headers.get('authorization'));
    if (creds === undefined || creds.token === '') throw unauthorized('no credentials provided: use HTTP Basic auth with the instance as user and a token as password');
    const grant = this.grantOf(creds.token);
    const policy = grant.policy;
    if (!policy.scopes.includes(scope)) throw new ApiError('forbidden', `access policy "${policy.name}" does not have the scope ${scope}`);
    return { grant, creds };
  }

  /** admin checks an admin API request: any user (GEM's `-u :TOKEN`), a token with the admin scope. */
  admin(req: Request): void {
    const key = this.decisionKey(req, 'admin');
    if (this.cached(key) !== undefined) return;
    const { grant } = this.policyWithScope(req, 'admin');
    this.remember(key, { tenant: '' }, grant);
  }

  /**
   * data checks a data request needing scope: single for routes that take one instance (a
   * federated tenant list is refused), else up to what tenant federation allows.
   */
  data(req: Request, scope: Scope, single: boolean): Authenticated {
    const key = this.decisionKey(req, `${scope}\0${single ? 1 : 0}`);
    const hit = this.cached(key);
    if (hit !== undefined) {
      req.headers.set(ORG_ID_HEADER, hit.tenant);
      return hit;
    }
    const { grant, creds } = this.policyWithScope(req, scope);
    const policy = grant.policy;
    const named = creds.user !== undefined && creds.user !== '' ? creds.user : req.headers.get(ORG_ID_HEADER);
    const ids = requestTenants(named, { ...this.opts.tenants, multitenancyEnabled: true });
    if (single && ids.length > 1) throw new ApiError('bad_data', MULTIPLE_ORG_IDS);
    const visibility: Record<string, LabelMatcher[][]> = {};
    for (const id of ids) {
      const realms = policy.realms.filter((r) => (r.instance === id || r.instance === '*') && r.cluster === this.opts.clusterName);
      if (realms.length === 0) throw new ApiError('forbidden', `access policy "${policy.name}" has no realm for instance "${id}" in cluster "${this.opts.clusterName}"`);
      const inst = this.store.get('instances', id);
      if (inst === undefined) throw new ApiError('forbidden', `instance "${id}" not found`);
      if (inst.item.status !== 'active') throw new ApiError('forbidden', `instance "${id}" is ${inst.item.status}`);
      const sets = realmSelectors(realms);
      if (sets !== undefined) visibility[id] = sets;
    }
    const tenant = joinTenants(ids);
    // The credentials decide the tenant: whatever X-Scope-OrgID said is replaced.
    req.headers.set(ORG_ID_HEADER, tenant);
    const auth: Authenticated = Object.keys(visibility).length > 0 ? { tenant, visibility } : { tenant };
    this.remember(key, auth, grant);
    return auth;
  }
}

/** realmSelectors unions the label policies of the realms that match an instance (undefined: one allows everything). */
function realmSelectors(realms: readonly Realm[]): LabelMatcher[][] | undefined {
  const out: LabelMatcher[][] = [];
  for (const r of realms) {
    const sets = policySelectors(r.label_policies);
    if (sets === undefined) return undefined;
    out.push(...sets);
  }
  return out;
}
