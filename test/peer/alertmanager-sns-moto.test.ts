// alertmanager-sns-moto.test.ts (peer suite): the SNS integration's
// credentials against moto (PyPI `moto[server]`) with its IAM checks on
// (INITIAL_NO_AUTH_ACTION_COUNT: the setup's requests pass unchecked, every
// later one needs a valid signature and an IAM policy allowing it):
//   - `sigv4.profile` reads the keys from the AWS shared credentials file;
//   - `sigv4.role_arn` (with `external_id`) assumes the role through moto's
//     STS and signs Publish with the role's temporary credentials: the user
//     behind the base keys is denied sns:Publish, only the role may publish;
//   - a wrong secret in the profile fails with moto's signature error;
//   - role chaining in the shared config (`source_profile`): a profile's role
//     assumed with its source profile's keys, and through two links (a role
//     that may only assume the publishing role); `credential_process` keys.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Logger } from '../../src/log.js';
import { integrationFor } from '../../src/alertmanager/notifiers/index.js';
import { signV4, type Credentials } from '../../src/alertmanager/notifiers/sns.js';
import type { NotifyContext } from '../../src/alertmanager/notifiers/notifier.js';
import type { Alert } from '../../src/alertmanager/types.js';
import { failIfMissing, skipUnless } from './lib/binary.js';
import { MOTO, MOTO_SERVER_BIN } from './lib/s3-server.js';
import { freePort, makeTempDir, startServer } from './lib/server-process.js';

const REGION = 'us-east-1';
/** SETUP_ACTIONS is how many requests moto lets through unchecked: the setup below, one each. */
const SETUP_ACTIONS = 11;

const policy = (statements: Array<Record<string, unknown>>): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

t.test('SNS credentials from a profile and from STS AssumeRole, checked by moto', { skip: skipUnless(MOTO) }, async (t) => {
  if (failIfMissing(t, MOTO)) return;
  const port = await freePort();
  const dir = await makeTempDir('peer-sns-moto-');
  const moto = await startServer({
    name: 'moto_server',
    command: MOTO_SERVER_BIN,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    port,
    readyPath: '/moto-api/',
    cwd: dir,
    cleanup: [dir],
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_ACTIONS) },
  });
  t.teardown(() => moto.stop());
  const base = `http://127.0.0.1:${port}/`;

  /** call sends one query-protocol action (signed when creds are given; moto does not check the setup's). */
  let calls = 0;
  const call = async (service: string, params: Record<string, string>, creds: Credentials = { accessKeyId: 'setup', secretAccessKey: 'setup' }): Promise<string> => {
    calls++;
    const body = new URLSearchParams(params).toString();
    const contentType = 'application/x-www-form-urlencoded';
    const r = await fetch(base, { method: 'POST', headers: { ...signV4(base, body, contentType, REGION, service, creds, new Date()), 'Content-Type': contentType }, body, signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${params['Action']}: ${r.status} ${text}`);
    return text;
  };
  const tag = (xml: string, name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';
  const iam = (params: Record<string, string>): Promise<string> => call('iam', { ...params, Version: '2010-05-08' });
  const userWithKey = async (name: string, statements: Array<Record<string, unknown>>): Promise<Credentials> => {
    await iam({ Action: 'CreateUser', UserName: name });
    await iam({ Action: 'PutUserPolicy', UserName: name, PolicyName: 'p', PolicyDocument: policy(statements) });
    const key = await iam({ Action: 'CreateAccessKey', UserName: name });
    return { accessKeyId: tag(key, 'AccessKeyId'), secretAccessKey: tag(key, 'SecretAccessKey') };
  };
  // The assuming user may do anything but publish; the publisher may publish.
  const assumer = await userWithKey('assumer', [
    { Effect: 'Allow', Action: '*', Resource: '*' },
    { Effect: 'Deny', Action: 'sns:Publish', Resource: '*' },
  ]);
  const publisher = await userWithKey('publisher', [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]);
  await iam({ Action: 'CreateRole', RoleName: 'alerting', AssumeRolePolicyDocument: policy([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }]) });
  await iam({ Action: 'PutRolePolicy', RoleName: 'alerting', PolicyName: 'publish', PolicyDocument: policy([{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]) });
  // hop may only assume roles: publishing through it needs the next link.
  await iam({ Action: 'CreateRole', RoleName: 'hop', AssumeRolePolicyDocument: policy([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }]) });
  await iam({ Action: 'PutRolePolicy', RoleName: 'hop', PolicyName: 'assume', PolicyDocument: policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]) });
  const topicArn = tag(await call('sns', { Action: 'CreateTopic', Name: 'alerts', Version: '2010-03-31' }), 'TopicArn');
  t.equal(calls, SETUP_ACTIONS, 'the setup is exactly the unchecked requests');
  t.match(topicArn, /^arn:aws:sns:us-east-1:\d+:alerts$/);

  // The shared files: two good profiles and one with a wrong secret; no keys in the environment.
  const files = mkdtempSync(join(tmpdir(), 'aws-files-'));
  t.teardown(() => rmSync(files, { recursive: true, force: true }));
  writeFileSync(
    join(files, 'credentials'),
    `# shared credentials\n[assumer]\naws_access_key_id = ${assumer.accessKeyId}\naws_secret_access_key = ${assumer.secretAccessKey}\n\n[publisher]\naws_access_key_id=${publisher.accessKeyId}\naws_secret_access_key=${publisher.secretAccessKey}\n[broken]\naws_access_key_id = ${publisher.accessKeyId}\naws_secret_access_key = wrong\n`,
  );
  writeFileSync(
    join(files, 'config'),
    [
      `[profile publisher]\nregion = ${REGION}`,
      `[profile via-source]\nrole_arn = arn:aws:iam::123456789012:role/alerting\nsource_profile = assumer\nexternal_id = tenant-t\nregion = ${REGION}`,
      `[profile hop]\nrole_arn = arn:aws:iam::123456789012:role/hop\nsource_profile = assumer`,
      `[profile via-hop]\nrole_arn = arn:aws:iam::123456789012:role/alerting\nsource_profile = hop\nrole_session_name = via-hop`,
      `[profile proc]\ncredential_process = printf '{"Version": 1, "AccessKeyId": "${publisher.accessKeyId}", "SecretAccessKey": "${publisher.secretAccessKey}"}'`,
      '',
    ].join('\n'),
  );
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL']) delete process.env[k];
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(files, 'credentials');
  process.env['AWS_CONFIG_FILE'] = join(files, 'config');
  process.env['AWS_ENDPOINT_URL_STS'] = base;

  const def = integrationFor('sns_configs');
  if (def === undefined) throw new Error('sns_configs not registered');
  const ctx: NotifyContext = {
    tenant: 't',
    receiver: 'aws',
    groupKey: '{}:{alertname="Down"}',
    groupLabels: { alertname: 'Down' },
    externalURL: 'http://am',
    now: Date.now(),
    signal: AbortSignal.timeout(60_000),
    expand: { text: (s) => s, html: (s) => s },
    logger: new Logger(),
  };
  const alerts: Alert[] = [{ labels: { alertname: 'Down' }, annotations: {}, startsAt: Date.now() - 1000, endsAt: 0, generatorURL: '', updatedAt: Date.now(), timeout: false }];
  const publish = async (sigv4: Record<string, string>): Promise<void> => {
    const entry: Record<string, unknown> = { api_url: base, topic_arn: topicArn, subject: 'down', message: 'the node is down', sigv4 };
    const err = def.validate(entry, {});
    if (err !== undefined) throw new Error(`validate: ${err}`);
    await def.create(entry, { logger: new Logger(), checkUrl: () => undefined }).notify(ctx, alerts);
  };

  // The profile's keys (its region from the config file).
  await t.resolves(publish({ profile: 'publisher' }), 'published with the keys of the profile');
  await t.rejects(publish({ region: REGION, profile: 'broken' }), /unexpected status code 403: The request signature we calculated does not match/, 'a wrong secret in the profile fails at moto');
  await t.rejects(publish({ region: REGION, profile: 'missing' }), /failed to load final config for SNS: failed to get shared config profile, missing/);
  // The assuming user itself may not publish ...
  await t.rejects(publish({ region: REGION, profile: 'assumer' }), /unexpected status code 403: User: arn:aws:iam::\d+:user\/assumer is not authorized to perform: sns:Publish/, 'the base keys are denied');
  await t.rejects(publish({ region: REGION, access_key: assumer.accessKeyId, secret_key: assumer.secretAccessKey }), /not authorized to perform: sns:Publish/);
  // ... but the role it assumes may, from the profile's keys or static ones.
  await t.resolves(publish({ region: REGION, profile: 'assumer', role_arn: 'arn:aws:iam::123456789012:role/alerting', external_id: 'tenant-t' }), 'published as the assumed role (profile keys)');
  await t.resolves(publish({ region: REGION, access_key: assumer.accessKeyId, secret_key: assumer.secretAccessKey, role_arn: 'arn:aws:iam::123456789012:role/alerting' }), 'published as the assumed role (static keys)');
  // Role chaining in the shared config: the assumer's keys assume the profile's role, which may publish.
  await t.resolves(publish({ profile: 'via-source' }), 'published as the role of a source_profile chain');
  await t.rejects(publish({ region: REGION, profile: 'hop' }), /unexpected status code 403: User: arn:aws:sts::123456789012:assumed-role\/hop\/[^ ]+ is not authorized to perform: sns:Publish/, 'the first link alone may not publish');
  await t.resolves(publish({ region: REGION, profile: 'via-hop' }), 'two links: assumer -> hop -> alerting');
  await t.resolves(publish({ region: REGION, profile: 'proc' }), 'credential_process keys');
  // AssumeRole signed with a wrong secret fails at STS, not retried.
  await t.rejects(publish({ region: REGION, profile: 'broken', role_arn: 'arn:aws:iam::123456789012:role/alerting' }), /failed to refresh cached credentials, operation error STS: AssumeRole, https response error StatusCode: 403, api error SignatureDoesNotMatch/);
});
