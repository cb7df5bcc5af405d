// tenant.test.ts checks tenant ID validation and header parsing against
// dskit's rules and texts.

import t from 'tap';
import { ApiError } from '../errors.js';
import { joinTenants, requestTenants, singleTenant, splitTenants, tenantIds, validateTenantId } from './tenant.js';

const on = { multitenancyEnabled: true, noAuthTenant: 'anonymous' };

t.test('valid IDs', async (t) => {
  for (const id of ['team-a', 'A_b.c', "x!-_.*'()", '1', 'a'.repeat(150), 'a.b', '...']) t.equal(validateTenantId(id), undefined, id);
});

t.test('invalid IDs with dskit texts', async (t) => {
  t.equal(validateTenantId('a/b'), "tenant ID 'a/b' contains unsupported character '/'");
  t.equal(validateTenantId('a b'), "tenant ID 'a b' contains unsupported character ' '");
  t.equal(validateTenantId('ü'), "tenant ID 'ü' contains unsupported character 'ü'");
  t.equal(validateTenantId('a'.repeat(151)), 'tenant ID is too long: max 150 characters');
  t.equal(validateTenantId('.'), "tenant ID is '.' or '..'");
  t.equal(validateTenantId('..'), "tenant ID is '.' or '..'");
  t.match(validateTenantId('__mimir_cluster'), '__mimir_cluster');
});

t.test('header parsing', async (t) => {
  t.same(tenantIds('b|a|b', on), ['a', 'b'], 'sorted and de-duplicated');
  t.equal(singleTenant('team', on), 'team');
  const unauthorized = (header: string | undefined, message: string): void => {
    try {
      tenantIds(header, on);
      t.fail(`accepted ${header}`);
    } catch (err) {
      t.ok(err instanceof ApiError);
      t.equal((err as ApiError).status, 401);
      t.match((err as ApiError).message, message);
    }
  };
  unauthorized(undefined, 'no org id');
  unauthorized('', 'no org id');
  unauthorized('a||b', 'no org id');
  unauthorized('a|b/c', "tenant ID 'b/c' contains unsupported character '/'");
  t.throws(() => singleTenant('a|b', on), ApiError);
  t.equal(singleTenant(undefined, { multitenancyEnabled: false, noAuthTenant: 'anonymous' }), 'anonymous');
  t.equal(singleTenant('ignored', { multitenancyEnabled: false, noAuthTenant: 'anonymous' }), 'anonymous');
});

t.test('tenant count as Mimir\'s validation middleware', async (t) => {
  const status = (fn: () => unknown): [number, string] => {
    try {
      fn();
    } catch (err) {
      return [(err as ApiError).status, (err as ApiError).message];
    }
    return [200, ''];
  };
  t.same(status(() => requestTenants('a|b', on)), [422, 'too many tenant IDs present in the request. max: 1 actual: 2'], 'federation off');
  t.same(requestTenants('b|a', { ...on, tenantFederationEnabled: true }), ['a', 'b']);
  t.same(status(() => requestTenants('a|b|c', { ...on, tenantFederationEnabled: true, tenantFederationMaxTenants: 2 })), [422, 'too many tenant IDs present in the request. max: 2 actual: 3']);
  t.same(status(() => singleTenant('a|b', on)), [422, 'too many tenant IDs present in the request. max: 1 actual: 2']);
  t.same(status(() => singleTenant('a|b', { ...on, tenantFederationEnabled: true })), [400, 'multiple org IDs present'], 'writes take one tenant');
  t.same(status(() => requestTenants('a|', { ...on, tenantFederationEnabled: true })), [401, 'no org id']);
  t.equal(joinTenants(['a', 'b']), 'a|b');
  t.same(splitTenants('a|b'), ['a', 'b']);
  t.same(splitTenants('a'), ['a']);
});
