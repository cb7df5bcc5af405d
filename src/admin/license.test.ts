// license.test.ts checks what is verifiable of a GEM license JWT without
// Grafana's public key (format, nbf/exp/lexp, the cluster claim), that the
// licenses API shows the token's claims exactly as signed, and that a server
// refuses to start under a license that fails a check.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadLicense, parseLicenseToken } from './license.js';
import { AdminClient } from '../testing/admin-client.js';
import { jsonOf } from '../testing/http-client.js';
import { startTestServer } from '../testing/server.js';

const CLUSTER = 'lic-cluster';
const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const SEC = NOW / 1000;

/** jwt builds a token from a header and claims with a placeholder signature. */
function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }, signature = 'c2lnbmF0dXJl'): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part(header)}.${part(claims)}.${signature}`;
}

const CLAIMS = {
  jti: 'abc',
  iss: 'https://grafana.com',
  sub: 'https://grafana.com/orgs/example',
  iat: SEC - 86_400,
  exp: SEC + 86_400,
  nbf: SEC - 86_400,
  lexp: SEC + 30 * 86_400,
  lid: '1234',
  max_users: 0,
  included_admins: 0,
  included_viewers: 0,
  lic_exp_warn_days: 30,
  prod: ['enterprise-metrics'],
  company: 'Example',
  slug: 'example',
  cluster: CLUSTER,
};

t.test('parseLicenseToken accepts a well-formed, current license for this cluster', async (t) => {
  t.same(parseLicenseToken(jwt(CLAIMS) + '\n', CLUSTER, NOW), CLAIMS);
  const { cluster: _, ...noCluster } = CLAIMS;
  t.same(parseLicenseToken(jwt({ ...noCluster, exp: 0, lexp: 0 }), CLUSTER, NOW), { ...noCluster, exp: 0, lexp: 0 }, 'no cluster claim; 0 times are unset');
});

t.test('parseLicenseToken refuses what it can tell is wrong', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['two parts', 'a.b', /not a JWT \(2 dot-separated parts/],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.${jwt(CLAIMS).split('.')[1]}.c2ln`, /header is not JSON/],
    ['no alg', jwt(CLAIMS, { typ: 'JWT' }), /names no signing algorithm/],
    ['alg none', jwt(CLAIMS, { alg: 'none' }), /not signed/],
    ['payload an array', jwt([1, 2] as unknown as Record<string, unknown>), /not a JSON object of claims/],
    ['no signature', jwt(CLAIMS, undefined, ''), /signature is missing/],
    ['exp a string', jwt({ ...CLAIMS, exp: 'tomorrow' }), /claim exp is not a number/],
    ['prod not strings', jwt({ ...CLAIMS, prod: [1] }), /claim prod is not a list of strings/],
    ['token expired', jwt({ ...CLAIMS, exp: SEC - 1 }), /the token expired at 2026-12-04T11:59:59.000Z \(exp\)/],
    ['license expired', jwt({ ...CLAIMS, lexp: SEC - 60 }), /the license expired at 2026-12-04T11:59:00.000Z \(lexp\)/],
    ['not yet valid', jwt({ ...CLAIMS, nbf: SEC + 3600 }), /not valid before 2026-12-04T13:00:00.000Z \(nbf\)/],
    ['another cluster', jwt({ ...CLAIMS, cluster: 'other' }), /issued for cluster "other", not "lic-cluster" \(-cluster-name\)/],
  ];
  for (const [name, token, want] of cases) t.throws(() => parseLicenseToken(token, CLUSTER, NOW), want, name);
});

t.test('loadLicense: the file license as signed, or the built-in one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'license-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'license.jwt');
  writeFileSync(path, jwt(CLAIMS));
  const lic = loadLicense(path, CLUSTER, NOW);
  t.same(lic.item, { name: '1234', display_name: '1234', created_at: new Date((SEC - 86_400) * 1000).toISOString(), token: CLAIMS }, 'claims shown exactly as in the token');
  t.throws(() => loadLicense(path, 'elsewhere', NOW), new RegExp(`^license ${path}: it was issued for cluster`));
  t.throws(() => loadLicense(join(dir, 'missing.jwt'), CLUSTER, NOW), /ENOENT/);
  const builtin = loadLicense('', CLUSTER, NOW);
  t.match(builtin.item, { name: 'builtin', token: { sub: CLUSTER, exp: 0, lexp: 0, prod: ['enterprise-metrics'] } });
  t.equal(builtin.features.product, 'GEM');
});

t.test('the licenses API lists the file license; an expired one stops the start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'license-srv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const now = Math.floor(Date.now() / 1000);
  const claims = { ...CLAIMS, iat: now - 60, nbf: now - 60, exp: now + 3600, lexp: now + 86_400 };
  const good = join(dir, 'good.jwt');
  writeFileSync(good, jwt(claims));
  const srv = await startTestServer({ 'cluster-name': CLUSTER, 'license.path': good });
  t.teardown(() => srv.close());
  const res = await new AdminClient(srv.port).call('GET', 'licenses');
  t.equal(res.status, 200);
  t.same(jsonOf(res), { items: [{ name: '1234', display_name: '1234', created_at: new Date((now - 60) * 1000).toISOString(), token: claims }], type: 'license' });

  const expired = join(dir, 'expired.jwt');
  writeFileSync(expired, jwt({ ...claims, lexp: now - 1 }));
  await t.rejects(startTestServer({ 'cluster-name': CLUSTER, 'license.path': expired }), /the license expired at/);
});
