// aws-credentials.test.ts checks how the SNS integration finds its AWS
// credentials: the precedence of static keys, a named profile, the
// environment and the default profile; the shared files' format; and the
// AssumeRole request (as stscreds sends it) against a local STS stand-in,
// whose temporary credentials sign Publish and are reused until they expire;
// role chains through source_profile, credential_process and SSO profiles
// (the cached token traded at a local SSO portal stand-in).
// The same flow against moto's STS and IAM checks is test/peer/alertmanager-sns-moto.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type Test } from 'tap';
import { Logger } from '../../log.js';
import { assumeRoleBody, parseIni, processCredentials, resolveConfig, serviceEndpoint, ssoRequest } from './aws-credentials.js';
import { integrationFor } from './index.js';
import type { NotifyContext } from './notifier.js';

function files(t: Test): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'aws-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'credentials'), '[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n; comment\n[ops]\naws_access_key_id=OPS\naws_secret_access_key = opssecret\naws_session_token = tok\n');
  writeFileSync(join(dir, 'config'), '[default]\nregion = eu-west-1\n[profile ops]\nregion = ap-south-1\n[profile keysonly]\naws_access_key_id = CFG\naws_secret_access_key = cfgsecret\n');
  return { HOME: dir, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
}

test('credential and region precedence as the SDK config', async (t) => {
  const env = files(t);
  t.same(parseIni('[a]\n k = v \n# x\n[b c]\nx=1=2\n').get('b c'), { x: '1=2' });
  t.same(resolveConfig({ region: 'us-east-1', access_key: 'AK', secret_key: 'SK', profile: 'ops' }, env), { region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, source: 'sigv4 access_key' }, 'static keys first');
  t.same(resolveConfig({ profile: 'ops' }, { ...env, AWS_ACCESS_KEY_ID: 'ENV', AWS_SECRET_ACCESS_KEY: 'x' }), { region: 'ap-south-1', credentials: { accessKeyId: 'OPS', secretAccessKey: 'opssecret', sessionToken: 'tok' }, source: 'profile ops' }, 'a named profile wins over the environment; its region from the config file');
  t.same(resolveConfig({}, { ...env, AWS_PROFILE: 'keysonly' }).credentials, { accessKeyId: 'CFG', secretAccessKey: 'cfgsecret' }, 'AWS_PROFILE; keys in the config file');
  t.same(resolveConfig({}, { ...env, AWS_ACCESS_KEY_ID: 'ENV', AWS_SECRET_ACCESS_KEY: 'es', AWS_REGION: 'us-west-2' }), { region: 'us-west-2', credentials: { accessKeyId: 'ENV', secretAccessKey: 'es' }, source: 'environment' });
  t.same(resolveConfig({}, env), { region: 'eu-west-1', credentials: { accessKeyId: 'DEF', secretAccessKey: 'defsecret' }, source: 'profile default' }, 'the default profile last');
  t.throws(() => resolveConfig({ profile: 'nope' }, env), { message: 'failed to get shared config profile, nope' });
  t.equal(serviceEndpoint('sts', 'eu-west-1', {}), 'https://sts.eu-west-1.amazonaws.com/');
  t.equal(serviceEndpoint('sts', 'eu-west-1', { AWS_ENDPOINT_URL: 'http://x:1', AWS_ENDPOINT_URL_STS: 'http://sts:2' }), 'http://sts:2/');
  t.equal(serviceEndpoint('sns', 'eu-west-1', { AWS_ENDPOINT_URL: 'http://x:1/' }), 'http://x:1/');
  t.equal(serviceEndpoint('sns', 'eu-west-1', { AWS_ENDPOINT_URL: 'http://x:1/', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }), 'https://sns.eu-west-1.amazonaws.com/');
});

test('role_arn: AssumeRole as stscreds sends it, Publish signed with the role, credentials cached', async (t) => {
  const got: Array<{ url: string; auth: string; token: string; body: string }> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      got.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', token: String(req.headers['x-amz-security-token'] ?? ''), body });
      if (req.url === '/sts/') {
        if (body.includes('RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fdenied')) {
          res.statusCode = 403;
          res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed &amp; denied</Message></Error></ErrorResponse>');
          return;
        }
        const exp = new Date(Date.now() + 3_600_000).toISOString();
        res.end(`<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>tempsecret</SecretAccessKey><SessionToken>session&amp;token</SessionToken><Expiration>${exp}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`);
        return;
      }
      res.end('<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const saved = process.env['AWS_ENDPOINT_URL_STS'];
  process.env['AWS_ENDPOINT_URL_STS'] = `${base}/sts/`;
  t.teardown(() => {
    if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_STS'];
    else process.env['AWS_ENDPOINT_URL_STS'] = saved;
  });
  const def = integrationFor('sns_configs');
  if (def === undefined) throw new Error('sns_configs not registered');
  const ctx: NotifyContext = { tenant: 't', receiver: 'r', groupKey: 'g', groupLabels: {}, externalURL: '', now: Date.now(), signal: AbortSignal.timeout(20_000), expand: { text: (s) => s, html: (s) => s }, logger: new Logger() };
  const alerts = [{ labels: { alertname: 'A' }, annotations: {}, startsAt: Date.now(), endsAt: 0, generatorURL: '', updatedAt: Date.now(), timeout: false }];
  const make = (roleArn: string): ReturnType<NonNullable<typeof def>['create']> => {
    const entry: Record<string, unknown> = { api_url: `${base}/sns/`, topic_arn: 'arn:aws:sns:eu-west-1:1:t', message: 'm', sigv4: { region: 'eu-west-1', access_key: 'AKBASE', secret_key: 'base', role_arn: roleArn, external_id: 'ext id' } };
    t.equal(def.validate(entry, {}), undefined);
    return def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  };
  const n = make('arn:aws:iam::1:role/alerting');
  await n.notify(ctx, alerts);
  await n.notify(ctx, alerts);
  t.same(got.map((g) => g.url), ['/sts/', '/sns/', '/sns/'], 'one AssumeRole, then the cached credentials');
  const sts = got[0] as (typeof got)[number];
  t.match(sts.body, /^Action=AssumeRole&DurationSeconds=900&ExternalId=ext\+id&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Falerting&RoleSessionName=aws-go-sdk-\d{19}&Version=2011-06-15$/);
  t.match(sts.auth, /^AWS4-HMAC-SHA256 Credential=AKBASE\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=content-type;host;x-amz-date, /);
  for (const p of got.slice(1)) {
    t.match(p.auth, /^AWS4-HMAC-SHA256 Credential=ASIATEMP\/\d{8}\/eu-west-1\/sns\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, /);
    t.equal(p.token, 'session&token');
  }
  await t.rejects(make('arn:aws:iam::1:role/denied').notify(ctx, alerts), { message: 'failed to refresh cached credentials, operation error STS: AssumeRole, https response error StatusCode: 403, api error AccessDenied: not allowed & denied', retry: false });
});

/** chainFiles writes shared files with role chains: source_profile links, a self reference, a cycle, a credential_process. */
function chainFiles(t: Test): NodeJS.ProcessEnv & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aws-chain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'credentials'), '[base]\naws_access_key_id = BASE\naws_secret_access_key = basesecret\n[self]\naws_access_key_id = SELF\naws_secret_access_key = selfsecret\n');
  const exp = new Date(Date.now() + 3_600_000).toISOString();
  writeFileSync(join(dir, 'proc.sh'), `echo run >> "${join(dir, 'runs')}"\nprintf '{"Version": 1, "AccessKeyId": "PROC", "SecretAccessKey": "procsecret", "SessionToken": "proctoken", "Expiration": "${exp}"}'\n`);
  writeFileSync(
    join(dir, 'config'),
    [
      '[profile chained]',
      'role_arn = arn:aws:iam::1:role/a',
      'source_profile = base',
      'external_id = ext-a',
      'role_session_name = alerting',
      'duration_seconds = 3600',
      'region = eu-central-1',
      '[profile twice]',
      'role_arn = arn:aws:iam::1:role/b',
      'source_profile = chained',
      '[profile self]',
      'role_arn = arn:aws:iam::1:role/s',
      'source_profile = self',
      '[profile keyed-source]',
      'role_arn = arn:aws:iam::1:role/k',
      'source_profile = keyed',
      '[profile keyed]',
      'aws_access_key_id = KEYED',
      'aws_secret_access_key = keyedsecret',
      'role_arn = arn:aws:iam::1:role/ignored',
      '[profile loop1]',
      'role_arn = arn:aws:iam::1:role/l1',
      'source_profile = loop2',
      '[profile loop2]',
      'role_arn = arn:aws:iam::1:role/l2',
      'source_profile = loop1',
      '[profile dangling]',
      'role_arn = arn:aws:iam::1:role/d',
      'source_profile = nope',
      '[profile proc]',
      `credential_process = sh ${join(dir, 'proc.sh')}`,
      'role_arn = arn:aws:iam::1:role/p',
      '[profile two-kinds]',
      'source_profile = base',
      'credential_process = true',
      '',
    ].join('\n'),
  );
  return { dir, HOME: dir, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
}

test('role chaining through source_profile as the SDK shared config', async (t) => {
  const env = chainFiles(t);
  const base = { accessKeyId: 'BASE', secretAccessKey: 'basesecret' };
  const roleA = { roleArn: 'arn:aws:iam::1:role/a', externalId: 'ext-a', sessionName: 'alerting', durationSeconds: 3600 };
  t.same(resolveConfig({ profile: 'chained' }, env), { region: 'eu-central-1', credentials: base, roles: [roleA], source: 'profile chained' }, "the source profile's keys, then the profile's role with its options");
  t.same(resolveConfig({ region: 'r' }, { ...env, AWS_PROFILE: 'twice' }).roles, [roleA, { roleArn: 'arn:aws:iam::1:role/b' }], 'two links: the inner role first');
  t.same(resolveConfig({ region: 'r', profile: 'self' }, env), { region: 'r', credentials: { accessKeyId: 'SELF', secretAccessKey: 'selfsecret' }, roles: [{ roleArn: 'arn:aws:iam::1:role/s' }], source: 'profile self' }, "a self reference: the profile's own keys, then its role");
  t.same(resolveConfig({ region: 'r', profile: 'keyed-source' }, env).roles, [{ roleArn: 'arn:aws:iam::1:role/k' }], "a source profile with keys gives them, without its own role");
  t.throws(() => resolveConfig({ profile: 'loop1' }, env), { message: 'failed to load assume role arn:aws:iam::1:role/l2, of profile loop1, <nil>' }, 'a cycle without keys');
  t.throws(() => resolveConfig({ profile: 'dangling' }, env), { message: 'failed to load assume role arn:aws:iam::1:role/d, of profile nope, failed to get shared config profile, nope' });
  t.throws(() => resolveConfig({ profile: 'two-kinds' }, env), { message: 'only one credential type may be specified per profile: source profile, credential source, credential process, web identity token' });
  t.same(resolveConfig({ region: 'r', profile: 'proc' }, env), { region: 'r', credentials: undefined, process: `sh ${join(env.dir, 'proc.sh')}`, roles: [{ roleArn: 'arn:aws:iam::1:role/p' }], source: 'profile proc' });
  t.match(assumeRoleBody('arn:aws:iam::1:role/a', 'x', 1, { sessionName: 'alerting', durationSeconds: 3600 }), /DurationSeconds=3600&ExternalId=x&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa&RoleSessionName=alerting&/);
  t.match(assumeRoleBody('r', undefined, 1, { durationSeconds: 959 }), /DurationSeconds=900&/, 'up to 15 whole minutes: the default session length');
  await t.rejects(processCredentials('printf \'{"Version": 2}\''), { message: 'process provider error: wrong version in process output (not 1)' });
  await t.rejects(processCredentials('printf \'{"Version": 1, "SecretAccessKey": "s"}\''), { message: 'process provider error: missing AccessKeyId in process output' });
  await t.rejects(processCredentials('exit 3'), /^process provider error: error in credential_process: /);
});

test('a role chain assumes each role with the previous credentials, then signs Publish with the last', async (t) => {
  const env = chainFiles(t);
  const got: Array<{ url: string; auth: string; token: string; body: string }> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      got.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', token: String(req.headers['x-amz-security-token'] ?? ''), body });
      if (req.url === '/sts/') {
        // The temporary key names the role it was issued for, so the test can follow the chain.
        const role = /RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2F([a-z]+)/.exec(body)?.[1] ?? 'x';
        const exp = new Date(Date.now() + 3_600_000).toISOString();
        res.end(`<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA${role.toUpperCase()}</AccessKeyId><SecretAccessKey>s-${role}</SecretAccessKey><SessionToken>t-${role}</SessionToken><Expiration>${exp}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`);
        return;
      }
      res.end('<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_ENDPOINT_URL']) delete process.env[k];
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: env.AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE: env.AWS_CONFIG_FILE, AWS_ENDPOINT_URL_STS: `${url}/sts/` });
  const def = integrationFor('sns_configs');
  if (def === undefined) throw new Error('sns_configs not registered');
  const ctx: NotifyContext = { tenant: 't', receiver: 'r', groupKey: 'g', groupLabels: {}, externalURL: '', now: Date.now(), signal: AbortSignal.timeout(20_000), expand: { text: (s) => s, html: (s) => s }, logger: new Logger() };
  const alerts = [{ labels: { alertname: 'A' }, annotations: {}, startsAt: Date.now(), endsAt: 0, generatorURL: '', updatedAt: Date.now(), timeout: false }];
  const make = (sigv4: Record<string, string>): ReturnType<NonNullable<typeof def>['create']> => {
    const entry: Record<string, unknown> = { api_url: `${url}/sns/`, topic_arn: 'arn:aws:sns:eu-west-1:1:t', message: 'm', sigv4 };
    t.equal(def.validate(entry, {}), undefined);
    return def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  };
  const keyOf = (auth: string): string => /Credential=([A-Z]+)\//.exec(auth)?.[1] ?? '';

  // twice -> chained -> base, then the sigv4 role on top.
  const n = make({ region: 'eu-west-1', profile: 'twice', role_arn: 'arn:aws:iam::1:role/top', external_id: 'ext-top' });
  await n.notify(ctx, alerts);
  await n.notify(ctx, alerts);
  t.same(got.map((g) => `${g.url} ${keyOf(g.auth)} ${g.token}`), ['/sts/ BASE ', '/sts/ ASIAA t-a', '/sts/ ASIAB t-b', '/sns/ ASIATOP t-top', '/sns/ ASIATOP t-top'], 'each role assumed with the previous one, once; Publish signed by the last');
  t.match(got[0]?.body, /DurationSeconds=3600&ExternalId=ext-a&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa&RoleSessionName=alerting&Version=2011-06-15$/, "the profile's role options");
  t.match(got[1]?.body, /^Action=AssumeRole&DurationSeconds=900&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fb&RoleSessionName=aws-go-sdk-\d{19}&/);
  t.match(got[2]?.body, /ExternalId=ext-top&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Ftop&/);

  // credential_process, then the profile's role; the process's answer is reused until it expires.
  got.length = 0;
  const p = make({ region: 'eu-west-1', profile: 'proc' });
  await p.notify(ctx, alerts);
  await p.notify(ctx, alerts);
  t.same(got.map((g) => `${g.url} ${keyOf(g.auth)} ${g.token}`), ['/sts/ PROC proctoken', '/sns/ ASIAP t-p', '/sns/ ASIAP t-p']);
  t.equal(readFileSync(join(env.dir, 'runs'), 'utf8'), 'run\n', 'the process ran once');
});

test('SSO profiles: the cached token traded at the portal for the role, then a chained role; the SDK errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aws-sso-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, '.aws', 'sso', 'cache');
  mkdirSync(cache, { recursive: true });
  const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
  const later = new Date(Date.now() + 3_600_000).toISOString();
  writeFileSync(join(cache, sha1('corp') + '.json'), JSON.stringify({ accessToken: 'session-token', expiresAt: later, startUrl: 'https://corp.awsapps.com/start', region: 'eu-west-1' }));
  writeFileSync(join(cache, sha1('https://old.awsapps.com/start') + '.json'), JSON.stringify({ accessToken: 'old-token', expiresAt: new Date(Date.now() - 1000).toISOString() }));
  writeFileSync(
    join(dir, 'config'),
    [
      '[profile sso]',
      'sso_session = corp',
      'sso_account_id = 111122223333',
      'sso_role_name = Alerting',
      'region = eu-west-1',
      '[sso-session corp]',
      'sso_region = eu-west-1',
      'sso_start_url = https://corp.awsapps.com/start',
      '[profile sso-chained]',
      'role_arn = arn:aws:iam::1:role/c',
      'source_profile = sso',
      '[profile sso-expired]',
      'sso_start_url = https://old.awsapps.com/start',
      'sso_region = us-east-1',
      'sso_account_id = 1',
      'sso_role_name = R',
      '[profile sso-incomplete]',
      'sso_session = corp',
      '[profile sso-no-section]',
      'sso_session = nope',
      'sso_account_id = 1',
      'sso_role_name = R',
      '',
    ].join('\n'),
  );
  const env = { HOME: dir, AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
  const sso = { accountId: '111122223333', roleName: 'Alerting', region: 'eu-west-1', cacheKey: 'corp' };
  t.same(resolveConfig({ profile: 'sso' }, env), { region: 'eu-west-1', credentials: undefined, sso, source: 'profile sso' });
  t.same(resolveConfig({ region: 'r', profile: 'sso-chained' }, env), { region: 'r', credentials: undefined, sso, roles: [{ roleArn: 'arn:aws:iam::1:role/c' }], source: 'profile sso-chained' });
  t.throws(() => resolveConfig({ profile: 'sso-incomplete' }, env), { message: 'profile "sso-incomplete" is configured to use SSO but is missing required configuration: sso_account_id, sso_role_name' });
  t.throws(() => resolveConfig({ profile: 'sso-no-section' }, env), { message: 'failed to find SSO session section, nope' });
  t.same(ssoRequest(sso, env), { url: 'https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?account_id=111122223333&role_name=Alerting', token: 'session-token' });
  t.throws(() => ssoRequest(resolveConfig({ profile: 'sso-expired' }, env).sso as NonNullable<ReturnType<typeof resolveConfig>['sso']>, env), { message: 'the SSO session has expired or is invalid' });

  const got: Array<{ url: string; auth: string; token: string; bearer: string }> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', token: String(req.headers['x-amz-security-token'] ?? ''), bearer: String(req.headers['x-amz-sso_bearer_token'] ?? '') });
      if (req.method === 'GET' && req.url?.startsWith('/federation/credentials?')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ roleCredentials: { accessKeyId: 'ASIASSO', secretAccessKey: 'ssosecret', sessionToken: 'ssotoken', expiration: Date.now() + 3_600_000 } }));
        return;
      }
      if (req.url === '/sts/') {
        res.end(`<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAC</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t-c</SessionToken><Expiration>${later}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`);
        return;
      }
      res.end('<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_ENDPOINT_URL']) delete process.env[k];
  Object.assign(process.env, { ...env, AWS_ENDPOINT_URL_SSO: url, AWS_ENDPOINT_URL_STS: `${url}/sts/` });
  const def = integrationFor('sns_configs');
  if (def === undefined) throw new Error('sns_configs not registered');
  const ctx: NotifyContext = { tenant: 't', receiver: 'r', groupKey: 'g', groupLabels: {}, externalURL: '', now: Date.now(), signal: AbortSignal.timeout(20_000), expand: { text: (s) => s, html: (s) => s }, logger: new Logger() };
  const alerts = [{ labels: { alertname: 'A' }, annotations: {}, startsAt: Date.now(), endsAt: 0, generatorURL: '', updatedAt: Date.now(), timeout: false }];
  const make = (profile: string): ReturnType<NonNullable<typeof def>['create']> => {
    const entry: Record<string, unknown> = { api_url: `${url}/sns/`, topic_arn: 'arn:aws:sns:eu-west-1:1:t', message: 'm', sigv4: { region: 'eu-west-1', profile } };
    t.equal(def.validate(entry, {}), undefined);
    return def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  };
  const keyOf = (auth: string): string => /Credential=([A-Z]+)\//.exec(auth)?.[1] ?? '';
  const n = make('sso-chained');
  await n.notify(ctx, alerts);
  await n.notify(ctx, alerts);
  t.same(
    got.map((g) => `${g.url.split('?')[0]} ${g.bearer} ${keyOf(g.auth)} ${g.token}`),
    ['/federation/credentials session-token  ', '/sts/  ASIASSO ssotoken', '/sns/  ASIAC t-c', '/sns/  ASIAC t-c'],
    'the portal once with the cached token, the role assumed with its credentials, both cached',
  );
  t.equal(got[0]?.url, '/federation/credentials?account_id=111122223333&role_name=Alerting');
  await t.rejects(make('sso-expired').notify(ctx, alerts), { message: 'failed to refresh cached credentials, the SSO session has expired or is invalid' });
});
