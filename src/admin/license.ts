// license.ts describes the license this process runs under, for
// /admin/api/v1/licenses, and the product and features for
// /admin/api/v1/features.
//
// GEM licenses are JWTs signed by Grafana Labs. With -license.path the token
// there is checked for everything that can be checked without Grafana's
// public key, and the process refuses to start otherwise:
// - the format: three base64url parts, a JSON header naming a signing
//   algorithm (`alg`, never `none`), a JSON object of claims, a non-empty
//   signature;
// - the times: `nbf` not in the future, `exp` (the token) and `lexp` (the
//   license) not in the past, when set (0 means unset, as GEM writes them);
// - the cluster: a `cluster` claim, when present, must name -cluster-name
//   (GEM ties a license to the cluster it was issued for).
// The signature itself is NOT verified: Grafana's public key is not
// distributed with this project, so a forged token with well-formed claims
// is accepted. The licenses API shows the token's claims exactly as signed
// (nothing added), so what it lists is what the license says.
// Without -license.path the process runs under a built-in license for its
// own cluster that never expires.

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
  item: { name: string; display_name: string; created_at: string; token: Partial<LicenseClaims> & Record<string, unknown> };
  features: { product: string; product_version: string; features: Record<string, string> };
}

/** FEATURES are the enterprise features this server has, as GEM names them. */
const FEATURES: Readonly<Record<string, string>> = { lbac: 'v2', admin_api: 'v1', tokengen: 'v1' };

/** NUMERIC_CLAIMS are the claims that must be numbers (seconds since the epoch, or counts) when present. */
const NUMERIC_CLAIMS = ['iat', 'exp', 'nbf', 'lexp', 'max_users', 'included_admins', 'included_viewers', 'lic_exp_warn_days'] as const;

/** decodePart decodes one base64url JSON part of a JWT (throws naming the part). */
function decodePart(part: string, what: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new Error(`its ${what} is not base64url`);
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`its ${what} is not JSON`);
  }
}

/** isObject reports whether v is a plain JSON object. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** rfc3339 formats seconds since the epoch. */
function rfc3339(sec: number): string {
  return new Date(sec * 1000).toISOString();
}

/**
 * parseLicenseToken checks a license JWT (see the file comment) at nowMs for clusterName and
 * returns its claims; throws a message saying what is wrong.
 */
export function parseLicenseToken(jwt: string, clusterName: string, nowMs: number): Record<string, unknown> {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3) throw new Error(`not a JWT (${parts.length} dot-separated parts, want 3)`);
  const header = decodePart(parts[0]!, 'header');
  if (!isObject(header) || typeof header['alg'] !== 'string' || header['alg'] === '') throw new Error('its header names no signing algorithm (alg)');
  if (header['alg'].toLowerCase() === 'none') throw new Error('it is not signed (alg "none")');
  const claims = decodePart(parts[1]!, 'payload');
  if (!isObject(claims)) throw new Error('its payload is not a JSON object of claims');
  if (parts[2] === '' || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) throw new Error('its signature is missing or not base64url');
  for (const k of NUMERIC_CLAIMS) {
    if (claims[k] !== undefined && (typeof claims[k] !== 'number' || !Number.isFinite(claims[k]))) throw new Error(`claim ${k} is not a number`);
  }
  if (claims['prod'] !== undefined && (!Array.isArray(claims['prod']) || claims['prod'].some((p) => typeof p !== 'string'))) throw new Error('claim prod is not a list of strings');
  const now = nowMs / 1000;
  const at = (k: string): number => (typeof claims[k] === 'number' ? (claims[k] as number) : 0);
  if (at('nbf') > 0 && at('nbf') > now) throw new Error(`it is not valid before ${rfc3339(at('nbf'))} (nbf)`);
  if (at('exp') > 0 && at('exp') <= now) throw new Error(`the token expired at ${rfc3339(at('exp'))} (exp)`);
  if (at('lexp') > 0 && at('lexp') <= now) throw new Error(`the license expired at ${rfc3339(at('lexp'))} (lexp)`);
  if (claims['cluster'] !== undefined && claims['cluster'] !== clusterName) {
    throw new Error(`it was issued for cluster ${JSON.stringify(claims['cluster'])}, not ${JSON.stringify(clusterName)} (-cluster-name)`);
  }
  return claims;
}

/** loadLicense builds the license information (throws when -license.path cannot be read or fails a check). */
export function loadLicense(path: string, clusterName: string, startedAtMs: number): LicenseInfo {
  const { version } = buildInfo();
  const features = { product: 'GEM', product_version: version, features: { ...FEATURES } };
  if (path !== '') {
    let claims: Record<string, unknown>;
    try {
      claims = parseLicenseToken(readFileSync(path, 'utf8'), clusterName, startedAtMs);
    } catch (e) {
      throw new Error(`license ${path}: ${(e as Error).message}`);
    }
    const name = typeof claims['lid'] === 'string' && claims['lid'] !== '' ? claims['lid'] : typeof claims['jti'] === 'string' ? claims['jti'] : 'license';
    const iat = typeof claims['iat'] === 'number' ? claims['iat'] : startedAtMs / 1000;
    return { item: { name, display_name: name, created_at: rfc3339(iat), token: claims }, features };
  }
  const started = Math.floor(startedAtMs / 1000);
  const token: LicenseClaims & Record<string, unknown> = {
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
  return { item: { name: 'builtin', display_name: 'builtin', created_at: rfc3339(started), token }, features };
}
