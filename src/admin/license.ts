// license.ts describes the license this process runs under, for
// /admin/api/v1/licenses, and the product and features for
// /admin/api/v1/features. With -license.path the JWT there is read (its
// claims shown as GEM shows them; the signature is not checked: there is
// no vendor key); without it the process runs under a built-in license
// for its own cluster that never expires.

import { readFileSync } from 'node:fs';
import { buildInfo } from '../ops/ops.js';

/** LicenseClaims are the claims of a GEM license token, as the licenses API lists them. */
export interface LicenseClaims {
  jti: string;
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  nbf: number;
  lexp: number;
  lid: string;
  max_users: number;
  included_admins: number;
  included_viewers: number;
  lic_exp_warn_days: number;
  prod: string[];
  company: string;
  slug: string;
}

/** LicenseInfo is what the licenses and features endpoints answer. */
export interface LicenseInfo {
  item: { name: string; display_name: string; created_at: string; token: LicenseClaims };
  features: { product: string; product_version: string; features: Record<string, string> };
}

/** FEATURES are the enterprise features this server has, as GEM names them. */
const FEATURES: Readonly<Record<string, string>> = { lbac: 'v2', admin_api: 'v1', tokengen: 'v1' };

/** loadLicense builds the license information (throws when -license.path cannot be read or decoded). */
export function loadLicense(path: string, clusterName: string, startedAtMs: number): LicenseInfo {
  const started = Math.floor(startedAtMs / 1000);
  let claims: LicenseClaims = {
    jti: `${clusterName}-builtin`,
    iss: 'self',
    sub: clusterName,
    iat: started,
    exp: 0,
    nbf: started,
    lexp: 0,
    lid: `${clusterName}-builtin`,
    max_users: 0,
    included_admins: 0,
    included_viewers: 0,
    lic_exp_warn_days: 0,
    prod: ['enterprise-metrics'],
    company: '',
    slug: clusterName,
  };
  let name = 'builtin';
  if (path !== '') {
    const jwt = readFileSync(path, 'utf8').trim();
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new Error(`license ${path}: not a JWT`);
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<LicenseClaims>;
    claims = { ...claims, ...payload };
    name = claims.lid;
  }
  const { version } = buildInfo();
  return {
    item: { name, display_name: name, created_at: new Date(claims.iat * 1000).toISOString(), token: claims },
    features: { product: 'GEM', product_version: version, features: { ...FEATURES } },
  };
}
