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

/** singleTenant is for endpoints (push, metadata reads for now) that take exactly one tenant. */
export function singleTenant(header: string | undefined, opts: TenantOptions): string {
  const ids = tenantIds(header, opts);
  if (ids.length > 1) throw new ApiError('unauthorized', 'multiple org IDs present');
  return ids[0]!;
}
