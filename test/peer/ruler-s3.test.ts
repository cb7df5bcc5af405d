// ruler-s3.test.ts (peer suite): the rule store on -ruler-storage.backend=s3
// against a real S3-compatible server (moto): groups set through the config
// API land under rules/<tenant>/<base64url ns>/<base64url group> as Mimir
// lays them out, are read back, listed by /ruler/rule_groups and deleted.

import t from 'tap';
import { parse } from 'yaml';
import { defaultConfig } from '../../src/config/config.js';
import { rulerBucket } from '../../src/ruler/module.js';
import { encodeKeyPart } from '../../src/ruler/rule-store.js';
import { decodeRuleGroupDesc } from '../../src/ruler/rulespb.js';
import { FakeStorage } from '../../src/testing/fake-storage.js';
import { httpRequest } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3SkipReason, startS3Server } from './lib/s3-server.js';

t.test('rule groups in S3', { skip: s3SkipReason() }, async (t) => {
  const s3 = await startS3Server('ruler');
  t.teardown(() => s3.stop());
  const flags = {
    'ruler-storage.backend': 's3',
    'ruler-storage.s3.endpoint': s3.endpoint,
    'ruler-storage.s3.bucket-name': s3.bucket,
    'ruler-storage.s3.access-key-id': S3_ACCESS_KEY,
    'ruler-storage.s3.secret-access-key': S3_SECRET_KEY,
    'ruler-storage.s3.insecure': true,
  };
  const srv = await startTestServer(flags, { storage: new FakeStorage() });
  t.teardown(() => srv.close());
  const call = (method: string, path: string, body?: string): ReturnType<typeof httpRequest> =>
    httpRequest(srv.port, path, { method, headers: { 'X-Scope-OrgID': 's3-tenant' }, ...(body !== undefined ? { body } : {}) });

  const group = 'name: g/1\nrules:\n  - record: a:b\n    expr: sum(up)\n';
  t.equal((await call('POST', `/prometheus/config/v1/rules/${encodeURIComponent('ns/x')}`, group)).status, 202);
  const bucket = rulerBucket(defaultConfig(flags));
  t.teardown(() => bucket.close());
  const key = `rules/s3-tenant/${encodeKeyPart('ns/x')}/${encodeKeyPart('g/1')}`;
  t.same(await bucket.list('rules/', { recursive: true }), [key], 'Mimir layout');
  const stored = decodeRuleGroupDesc(await bucket.get(key));
  t.match(stored, { name: 'g/1', namespace: 'ns/x', user: 's3-tenant', rules: [{ record: 'a:b', expr: 'sum(up)' }] });

  const got = await call('GET', `/prometheus/config/v1/rules/${encodeURIComponent('ns/x')}/${encodeURIComponent('g/1')}`);
  t.equal(got.status, 200);
  t.match(parse(got.body), { name: 'g/1', rules: [{ record: 'a:b' }] });
  const all = parse((await call('GET', '/ruler/rule_groups')).body) as Record<string, Record<string, unknown[]>>;
  t.same(Object.keys(all['s3-tenant']!), ['ns/x']);
  t.equal((await call('DELETE', `/prometheus/config/v1/rules/${encodeURIComponent('ns/x')}`)).status, 202);
  t.same(await bucket.list('rules/', { recursive: true }), []);
});
