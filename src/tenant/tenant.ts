// tenant.ts extracts and validates tenant IDs as Mimir does (dskit's tenant
// package): the X-Scope-OrgID header carries one tenant or several joined by
// `|` (federated reads). With -auth.multitenancy-enabled=false every request
// belongs to -auth.no-auth-tenant ("anonymous").

import { ApiError } from '../errors.js';

/** ORG_ID_HEADER is the header (lower-cased, as the server sees it). */
export const ORG_ID_HEADER = 'x-scope-orgid';

/** MAX_TENANT_ID_LENGTH is dskit's MaxTenantIDLength. */
export const MAX_TENANT_ID_LENGTH = 150;

/** TENANT_SEPARATOR joins tenant IDs in the header for federated requests. */
export const TENANT_SEPARATOR = '|';

/** RESERVED_TENANT_ID is used by Mimir for cluster-wide data and refused for tenants. */
export const RESERVED_TENANT_ID = '__mimir_cluster';

function isSupported(c: string): boolean {
  return /^[a-zA-Z0-9!\-_.*'()]$/.test(c);
}

/** validateTenantId returns Mimir's error text for an invalid ID, or undefined. */
export function validateTenantId(id: string): string | undefined {
  for (const c of id) {
    if (!isSupported(c)) return `tenant ID '${id}' contains unsupported character '${c}'`;
  }
  if (Buffer.byteLength(id) > MAX_TENANT_ID_LENGTH) return `tenant ID is too long: max ${MAX_TENANT_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return "tenant ID is '.' or '..'";
  if (id === RESERVED_TENANT_ID) return `tenant ID '${RESERVED_TENANT_ID}' is unsupported because its name is used internally by Mimir`;
  return undefined;
}

/** TenantOptions is what tenant resolution needs from the config. */
export interface TenantOptions {
  multitenancyEnabled: boolean;
  noAuthTenant: string;
  /** tenantFederationEnabled is -tenant-federation.enabled (absent: off). */
  tenantFederationEnabled?: boolean;
  /** tenantFederationMaxTenants is -tenant-federation.max-tenants (absent or 0: no limit). */
  tenantFederationMaxTenants?: number;
}

/** MULTIPLE_ORG_IDS is dskit's ErrTooManyOrgIDs text, for endpoints that take exactly one tenant. */
export const MULTIPLE_ORG_IDS = 'multiple org IDs present';

/** tooManyTenants is Mimir's tenant validation middleware's 422 answer. */
export function tooManyTenants(max: number, actual: number): ApiError {
  return new ApiError('too_many_tenants', `too many tenant IDs present in the request. max: ${max} actual: ${actual}`);
}

/**
 * tenantIds parses the header into sorted, de-duplicated tenant IDs.
 * Throws ApiError(unauthorized) with Mimir's message when it is missing or invalid.
 */
export function tenantIds(header: string | undefined, opts: TenantOptions): string[] {
  if (!opts.multitenancyEnabled) return [opts.noAuthTenant];
  if (header === undefined || header === '') throw new ApiError('unauthorized', 'no org id');
  const ids = [...new Set(header.split(TENANT_SEPARATOR))].sort();
  for (const id of ids) {
    if (id === '') throw new ApiError('unauthorized', 'no org id');
    const problem = validateTenantId(id);
    if (problem !== undefined) throw new ApiError('unauthorized', problem);
  }
  return ids;
}

/**
 * requestTenants is the auth middleware in front of every tenant API, as
 * Mimir's: the header parsed (401 when missing or invalid), then at most one
 * tenant unless tenant federation is on, and at most
 * -tenant-federation.max-tenants when it is (422 otherwise).
 */
export function requestTenants(header: string | undefined, opts: TenantOptions): string[] {
  const ids = tenantIds(header, opts);
  const federation = opts.tenantFederationEnabled === true;
  if (!federation && ids.length > 1) throw tooManyTenants(1, ids.length);
  const max = opts.tenantFederationMaxTenants ?? 0;
  if (federation && max > 0 && ids.length > max) throw tooManyTenants(max, ids.length);
  return ids;
}

/**
 * joinTenants is the canonical text of a tenant list (sorted IDs joined by
 * `|`), which is what Request.tenant and QueryTask.tenant carry: one ID, or
 * several for a federated read. splitTenants undoes it (IDs never contain `|`).
 */
export function joinTenants(ids: readonly string[]): string {
  return ids.join(TENANT_SEPARATOR);
}

/** splitTenants returns the IDs of a joined tenant text. */
export function splitTenants(tenant: string): string[] {
  return tenant.split(TENANT_SEPARATOR);
}

/**
 * singleTenant is for endpoints that take exactly one tenant (push): past
 * the middleware's checks, several tenants (federation on) are refused with
 * dskit's text. Mimir answers a federated push with a 5xx, which remote-write
 * clients retry forever; we answer 400, which they drop.
 */
export function singleTenant(header: string | undefined, opts: TenantOptions): string {
  const ids = requestTenants(header, opts);
  if (ids.length > 1) throw new ApiError('bad_data', MULTIPLE_ORG_IDS);
  return ids[0]!;
}
