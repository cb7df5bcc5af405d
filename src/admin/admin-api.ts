// admin-api.ts answers GEM's admin API (/admin/api/v1/*): clusters (this
// one, read-only), instances, access policies and tokens (CRUD), licenses
// and features. Write consistency as GEM documents it: every GET or PUT of
// one resource answers an ETag with its version, and every mutation of an
// existing resource needs If-Match with that version (quoted) or `*`.
// A missing If-Match is refused with 428 Precondition Required and a stale
// one with 412 Precondition Failed (RFC 6585 / RFC 9110: GEM's docs require
// the header but do not give the statuses).
//
// Success statuses: every call that succeeds answers 200, creates included
// (with the created resource as body, and its ETag). Neither the seed nor
// GEM's published admin API pages show or name a 201 (their create examples
// pipe the answer into jq as the resource); 200 is what Mimir/Cortex JSON
// handlers answer, and what a client checking for 2xx or 200 accepts.
// GEM's handler code is not public, so this is a documented choice, not a
// verified match. Deletes answer 200 with an empty body.

import { ApiError, badData } from '../errors.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { hashSecret, newToken } from '../auth/token.js';
import {
  displayName,
  instanceFromBody,
  parseBody,
  parseRealms,
  parseScopes,
  parseTime,
  stringField,
  validateName,
  type AccessPolicy,
  type Instance,
  type Token,
} from './model.js';
import type { AdminStore, Kind, KindItems, Stored } from './store.js';
import type { LicenseInfo } from './license.js';

/** LIST_TYPES is the `type` of each kind's list envelope, as GEM writes it. */
const LIST_TYPES: Readonly<Record<Kind, string>> = { clusters: 'cluster', instances: 'instance', accesspolicies: 'key', tokens: 'key' };

/** SINGULAR names a kind in messages. */
const SINGULAR: Readonly<Record<Kind, string>> = { clusters: 'cluster', instances: 'instance', accesspolicies: 'access policy', tokens: 'token' };

/** AdminApiOptions are what the admin API needs besides the store. */
export interface AdminApiOptions {
  clusterName: string;
  license: LicenseInfo;
  /** checkLimits validates an instance's limits (throws a message for a 400). */
  checkLimits: (limits: Record<string, unknown>) => void;
  now?: () => number;
}

function etag(version: number): Record<string, string> {
  return { ETag: `"${version}"` };
}

/** checkIfMatch enforces GEM's write consistency against the resource's current version. */
export function checkIfMatch(header: string | undefined, version: number): void {
  const h = header?.trim();
  if (h === undefined || h === '') {
    throw new ApiError('precondition_required', 'an If-Match header with the current version (from the ETag header) or * is required');
  }
  if (h === '*') return;
  const tags = h.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
  if (!tags.includes(String(version))) {
    throw new ApiError('precondition_failed', `If-Match ${h} does not match the current version "${version}"`);
  }
}

/** AdminApi holds the admin API's handlers. */
export class AdminApi {
  private readonly now: () => number;

  constructor(
    private readonly store: AdminStore,
    private readonly opts: AdminApiOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  private nowText(): string {
    return new Date(this.now()).toISOString();
  }

  /** ensureCluster records this process's cluster on first start (its created_at then stays). */
  async ensureCluster(): Promise<void> {
    const name = this.opts.clusterName;
    if (this.store.get('clusters', name) !== undefined) return;
    await this.store.mutate(() => ({
      result: undefined,
      put: [{ kind: 'clusters', stored: { version: 1, item: { name, display_name: name, created_at: this.nowText(), kind: 'cortex', base_url: '' } } }],
    }));
  }

  private sendOne<K extends Kind>(res: Response, status: number, stored: Stored<K>, withEtag = true, extra: Record<string, unknown> = {}): void {
    res.send(status, JSON.stringify({ ...stored.item, ...extra }), 'application/json', withEtag ? etag(stored.version) : {});
  }

  private mustGet<K extends Kind>(kind: K, name: string): Stored<K> {
    const s = this.store.get(kind, name);
    if (s === undefined) throw new ApiError('not_found', `${SINGULAR[kind]} "${name}" not found`);
    return s;
  }

  private list<K extends Kind>(kind: K): (req: Request, res: Response) => void {
    return (_req, res) => {
      const items: Array<KindItems[K]> = this.store.list(kind).map((s) => s.item);
      res.json(200, JSON.stringify({ items, type: LIST_TYPES[kind] }));
    };
  }

  private getOne<K extends Kind>(kind: K): (req: Request, res: Response) => void {
    // Clusters are immutable: no ETag.
    return (req, res) => this.sendOne(res, 200, this.mustGet(kind, req.params['name']!), kind !== 'clusters');
  }

  private remove<K extends Kind>(kind: K, onDelete?: (name: string) => void): (req: Request, res: Response) => Promise<void> {
    return async (req, res) => {
      const name = req.params['name']!;
      await this.store.mutate(() => {
        const cur = this.mustGet(kind, name);
        checkIfMatch(req.headers.get('if-match'), cur.version);
        onDelete?.(name);
        return { result: undefined, del: [{ kind, name }] };
      });
      res.empty(200);
    };
  }

  readonly listClusters = this.list('clusters');
  readonly getCluster = this.getOne('clusters');
  readonly listInstances = this.list('instances');
  readonly getInstance = this.getOne('instances');
  readonly listAccessPolicies = this.list('accesspolicies');
  readonly getAccessPolicy = this.getOne('accesspolicies');
  readonly listTokens = this.list('tokens');
  readonly getToken = this.getOne('tokens');

  private checkCluster(cluster: string): void {
    if (this.store.get('clusters', cluster) === undefined) throw badData(`cluster "${cluster}" not found`);
  }

  private checkInstance(inst: Instance): void {
    this.checkCluster(inst.cluster);
    if (inst.limits !== undefined) {
      try {
        this.opts.checkLimits(inst.limits);
      } catch (err) {
        throw badData(`invalid limits: ${(err as Error).message}`);
      }
    }
  }

  /** createInstance answers POST /admin/api/v1/instances. */
  readonly createInstance = async (req: Request, res: Response): Promise<void> => {
    const body = parseBody(req.body);
    const name = validateName('instance', body['name']);
    const inst = instanceFromBody(body, name, this.nowText(), { cluster: this.opts.clusterName });
    this.checkInstance(inst);
    const stored = await this.store.mutate(() => {
      if (this.store.get('instances', name) !== undefined) throw new ApiError('conflict', `instance "${name}" already exists`);
      const s: Stored<'instances'> = { version: 1, item: inst };
      return { result: s, put: [{ kind: 'instances', stored: s }] };
    });
    this.sendOne(res, 200, stored);
  };

  /** updateInstance answers PUT /admin/api/v1/instances/{name}: the body's name and created_at are ignored. */
  readonly updateInstance = async (req: Request, res: Response): Promise<void> => {
    const name = req.params['name']!;
    const body = parseBody(req.body);
    const stored = await this.store.mutate(() => {
      const cur = this.mustGet('instances', name);
      checkIfMatch(req.headers.get('if-match'), cur.version);
      const inst = instanceFromBody(body, name, cur.item.created_at, { cluster: cur.item.cluster, status: cur.item.status });
      if (body['display_name'] === undefined) inst.display_name = cur.item.display_name;
      this.checkInstance(inst);
      const s: Stored<'instances'> = { version: cur.version + 1, item: inst };
      return { result: s, put: [{ kind: 'instances', stored: s }] };
    });
    this.sendOne(res, 200, stored);
  };

  readonly deleteInstance = this.remove('instances');

  private checkRealms(policy: AccessPolicy): void {
    for (const r of policy.realms) {
      this.checkCluster(r.cluster);
      if (r.instance !== '*' && this.store.get('instances', r.instance) === undefined) throw badData(`instance "${r.instance}" not found`);
    }
  }

  /** createAccessPolicy answers POST /admin/api/v1/accesspolicies. */
  readonly createAccessPolicy = async (req: Request, res: Response): Promise<void> => {
    const body = parseBody(req.body);
    const name = validateName('access policy', body['name']);
    const policy: AccessPolicy = { name, display_name: displayName(body, name), created_at: this.nowText(), realms: parseRealms(body), scopes: parseScopes(body) };
    const exp = parseTime(body, 'expiration');
    if (exp !== undefined) policy.expiration = exp;
    const stored = await this.store.mutate(() => {
      this.checkRealms(policy);
      if (this.store.get('accesspolicies', name) !== undefined) throw new ApiError('conflict', `access policy "${name}" already exists`);
      const s: Stored<'accesspolicies'> = { version: 1, item: policy };
      return { result: s, put: [{ kind: 'accesspolicies', stored: s }] };
    });
    this.sendOne(res, 200, stored);
  };

  /** updateAccessPolicy answers PUT /admin/api/v1/accesspolicies/{name}: only display_name, realms and scopes change. */
  readonly updateAccessPolicy = async (req: Request, res: Response): Promise<void> => {
    const name = req.params['name']!;
    const body = parseBody(req.body);
    const stored = await this.store.mutate(() => {
      const cur = this.mustGet('accesspolicies', name);
      checkIfMatch(req.headers.get('if-match'), cur.version);
      const policy: AccessPolicy = { ...cur.item };
      if (body['display_name'] !== undefined) policy.display_name = displayName(body, cur.item.display_name);
      if (body['realms'] !== undefined) policy.realms = parseRealms(body);
      if (body['scopes'] !== undefined) policy.scopes = parseScopes(body);
      this.checkRealms(policy);
      const s: Stored<'accesspolicies'> = { version: cur.version + 1, item: policy };
      return { result: s, put: [{ kind: 'accesspolicies', stored: s }] };
    });
    this.sendOne(res, 200, stored);
  };

  readonly deleteAccessPolicy = this.remove('accesspolicies');

  /** createToken answers POST /admin/api/v1/tokens: the answer's `token` is the only time the secret is shown. */
  readonly createToken = async (req: Request, res: Response): Promise<void> => {
    const body = parseBody(req.body);
    const name = validateName('token', body['name']);
    const policyName = stringField(body, 'access_policy');
    if (policyName === undefined || policyName === '') throw badData('access_policy is required');
    const exp = parseTime(body, 'expiration');
    const { stored, token } = await this.store.mutate(() => this.tokenWrite(name, displayName(body, name), policyName, exp));
    this.sendOne(res, 200, stored, true, { token });
  };

  /** tokenWrite prepares a new token's write (also used by tokengen). */
  tokenWrite(name: string, display: string, policyName: string, expiration: string | undefined) {
    if (this.store.get('accesspolicies', policyName) === undefined) throw badData(`access policy "${policyName}" not found`);
    if (this.store.get('tokens', name) !== undefined) throw new ApiError('conflict', `token "${name}" already exists`);
    const item: Token = { name, display_name: display, created_at: this.nowText(), access_policy: policyName };
    if (expiration !== undefined) item.expiration = expiration;
    const { token, secret } = newToken(name);
    const stored: Stored<'tokens'> = { version: 1, item, secret: hashSecret(secret) };
    return { result: { stored, token }, put: [{ kind: 'tokens' as const, stored }] };
  }

  readonly deleteToken = this.remove('tokens');

  /** licenses answers GET /admin/api/v1/licenses. */
  readonly licenses = (_req: Request, res: Response): void => {
    res.json(200, JSON.stringify({ items: [this.opts.license.item], type: 'license' }));
  };

  /** features answers GET /admin/api/v1/features. */
  readonly features = (_req: Request, res: Response): void => {
    res.json(200, JSON.stringify(this.opts.license.features));
  };
}
