// aws-credentials.ts resolves the AWS credentials and region of the SNS
// integration's sigv4 block as Alertmanager 0.35 loads them through the AWS
// SDK's config: static keys, else the named profile (`profile`, or
// AWS_PROFILE) from the shared credentials and config files, else the
// environment's keys, else the default profile. A profile's credentials are
// its keys, a `credential_process` (run through sh, its JSON output read), or
// those of its `source_profile` (followed as the SDK's shared config does:
// a source with keys gives them, a self reference gives the profile's own
// keys, a cycle without keys is an error), or IAM Identity Center (SSO: the
// token `aws sso login` cached, traded for the role's credentials at the SSO
// portal), then its own `role_arn` (with
// `external_id`, `role_session_name`, `duration_seconds`) assumed with them:
// role chaining. With the sigv4 `role_arn`, those credentials call STS
// AssumeRole once more (with `external_id`) and the role's temporary
// credentials sign the request, cached until shortly before they expire. STS is reached at the region's endpoint, or AWS_ENDPOINT_URL_STS /
// AWS_ENDPOINT_URL as the SDK reads them (SNS likewise when api_url is unset).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials, SigV4Config } from './sns.js';

/** awsEncode percent-encodes as SigV4 does (RFC 3986 unreserved kept). */
export function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * queryBody renders query-protocol parameters as the Go SDK's query encoder:
 * every key sorted (byte order), keys and values escaped as url.QueryEscape
 * (a space is '+').
 */
export function queryBody(params: ReadonlyArray<readonly [string, string]>): string {
  const esc = (x: string): string => awsEncode(x).replace(/%20/g, '+');
  return [...params]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${esc(k)}=${esc(v)}`)
    .join('&');
}

/** SharedProfile is one profile's values from the shared files. */
interface SharedProfile {
  [key: string]: string | undefined;
}

/** parseIni reads an AWS shared file: `[section]` headers and `key = value` lines (`#` and `;` comments). */
export function parseIni(text: string): Map<string, SharedProfile> {
  const out = new Map<string, SharedProfile>();
  let current: SharedProfile | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]*)\]$/.exec(line);
    if (section !== null) {
      const name = (section[1] as string).trim();
      current = out.get(name) ?? {};
      out.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || current === undefined) continue;
    current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}

function readIni(path: string): Map<string, SharedProfile> {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

/** sharedProfile merges a profile from the config file (`[profile x]`, `[default]`) and the credentials file (`[x]`, which wins). */
export function sharedProfile(name: string, env: NodeJS.ProcessEnv = process.env): SharedProfile | undefined {
  const home = env['HOME'] ?? homedir();
  const config = readIni(env['AWS_CONFIG_FILE'] ?? join(home, '.aws', 'config'));
  const creds = readIni(env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(home, '.aws', 'credentials'));
  const fromConfig = config.get(name === 'default' ? 'default' : `profile ${name}`);
  const fromCreds = creds.get(name);
  if (fromConfig === undefined && fromCreds === undefined) return undefined;
  return { ...(fromConfig ?? {}), ...(fromCreds ?? {}) };
}

/** RoleStep is one AssumeRole of a credential chain (a profile's role_arn and its options). */
export interface RoleStep {
  roleArn: string;
  externalId?: string;
  sessionName?: string;
  durationSeconds?: number;
}

/** SsoConfig is a profile's IAM Identity Center settings (sso_session or the legacy sso_* keys). */
export interface SsoConfig {
  accountId: string;
  roleName: string;
  region: string;
  /** cacheKey names the cached token file: the sso-session's name, or the legacy start URL. */
  cacheKey: string;
}

/** ResolvedConfig is the region and base credentials of a sigv4 block. */
export interface ResolvedConfig {
  region: string;
  /** credentials are the chain's first credentials (undefined with process, or when there are none). */
  credentials: Credentials | undefined;
  /** process is a profile's credential_process, run for the first credentials. */
  process?: string;
  /** sso is a profile's IAM Identity Center role, traded for the first credentials. */
  sso?: SsoConfig;
  /** roles are the profiles' roles to assume in turn with the first credentials (source_profile chaining). */
  roles?: RoleStep[];
  /** source names where the credentials came from, for errors. */
  source: string;
}

/** ProfileChain is a profile's credential chain: where its first credentials come from, and the roles after them. */
interface ProfileChain {
  credentials?: Credentials;
  process?: string;
  sso?: SsoConfig;
  roles: RoleStep[];
}

/**
 * ssoConfig reads a profile's SSO settings as the SDK validates them: with
 * sso_session, the `[sso-session name]` section gives the region and start
 * URL; every one of region, start URL, account and role is required.
 */
function ssoConfig(name: string, p: SharedProfile, env: NodeJS.ProcessEnv): SsoConfig {
  const session = p['sso_session'] ?? '';
  let region = p['sso_region'] ?? '';
  let startUrl = p['sso_start_url'] ?? '';
  if (session !== '') {
    const home = env['HOME'] ?? homedir();
    const section = readIni(env['AWS_CONFIG_FILE'] ?? join(home, '.aws', 'config')).get(`sso-session ${session}`);
    if (section === undefined) throw new Error(`failed to find SSO session section, ${session}`);
    region = section['sso_region'] ?? '';
    startUrl = section['sso_start_url'] ?? '';
  }
  const missing = [
    ['sso_account_id', p['sso_account_id'] ?? ''],
    ['sso_region', region],
    ['sso_role_name', p['sso_role_name'] ?? ''],
    ['sso_start_url', startUrl],
  ].filter(([, v]) => v === '').map(([k]) => k);
  if (missing.length > 0) throw new Error(`profile "${name}" is configured to use SSO but is missing required configuration: ${missing.join(', ')}`);
  return { accountId: p['sso_account_id'] as string, roleName: p['sso_role_name'] as string, region, cacheKey: session !== '' ? session : startUrl };
}

/**
 * ssoRequest finds the cached SSO token of a profile (~/.aws/sso/cache/<sha1 of
 * the key>.json, as `aws sso login` writes it) and returns the portal's
 * GetRoleCredentials request: AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL or
 * portal.sso.<region>.amazonaws.com. An expired or missing token is an error
 * (refreshing it is `aws sso login`'s job).
 */
export function ssoRequest(sso: SsoConfig, env: NodeJS.ProcessEnv = process.env, now = Date.now()): { url: string; token: string } {
  const home = env['HOME'] ?? homedir();
  const file = join(home, '.aws', 'sso', 'cache', createHash('sha1').update(sso.cacheKey).digest('hex') + '.json');
  let token: { accessToken?: unknown; expiresAt?: unknown };
  try {
    token = JSON.parse(readFileSync(file, 'utf8')) as typeof token;
  } catch (err) {
    throw new Error(`the SSO session has expired or is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  const expires = typeof token.expiresAt === 'string' ? Date.parse(token.expiresAt) : Number.NaN;
  if (typeof token.accessToken !== 'string' || token.accessToken === '' || Number.isNaN(expires) || expires <= now) throw new Error('the SSO session has expired or is invalid');
  const configured = env['AWS_ENDPOINT_URL_SSO'] || env['AWS_ENDPOINT_URL'];
  const base = configured !== undefined && configured !== '' && env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] !== 'true' ? configured.replace(/\/+$/, '') : `https://portal.sso.${sso.region}.amazonaws.com`;
  return { url: `${base}/federation/credentials?account_id=${awsEncode(sso.accountId)}&role_name=${awsEncode(sso.roleName)}`, token: token.accessToken };
}

/** parseSsoCredentials reads GetRoleCredentials' JSON answer (expiration in unix ms). */
export function parseSsoCredentials(text: string): { credentials: Credentials; expiresAt: number } {
  const r = (JSON.parse(text) as { roleCredentials?: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; expiration?: number } }).roleCredentials;
  if (r === undefined || typeof r.accessKeyId !== 'string' || typeof r.secretAccessKey !== 'string') throw new Error('GetRoleCredentials answer without credentials');
  return {
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, ...(typeof r.sessionToken === 'string' && r.sessionToken !== '' ? { sessionToken: r.sessionToken } : {}) },
    expiresAt: typeof r.expiration === 'number' ? r.expiration : Date.now() + 900_000,
  };
}

function profileKeys(p: SharedProfile): Credentials | undefined {
  const id = p['aws_access_key_id'];
  const secret = p['aws_secret_access_key'];
  // HasKeys: both the ID and the secret.
  if (id === undefined || id === '' || secret === undefined || secret === '') return undefined;
  const token = p['aws_session_token'];
  return { accessKeyId: id, secretAccessKey: secret, ...(token !== undefined && token !== '' ? { sessionToken: token } : {}) };
}

function roleStep(p: SharedProfile, roleArn: string): RoleStep {
  const step: RoleStep = { roleArn };
  const ext = p['external_id'];
  if (ext !== undefined && ext !== '') step.externalId = ext;
  const session = p['role_session_name'];
  if (session !== undefined && session !== '') step.sessionName = session;
  const duration = Number(p['duration_seconds']);
  if (Number.isInteger(duration) && duration > 0) step.durationSeconds = duration;
  return step;
}

/**
 * profileChain resolves a profile's credentials as the SDK's shared config
 * (setFromIniSections, then resolveCredsFromProfile): undefined when the
 * profile names no credentials. seen holds the profiles already on the path:
 * a profile met again keeps its credentials but not its role (the self
 * reference), a source profile with keys gives them without its own role.
 */
function profileChain(name: string, env: NodeJS.ProcessEnv, seen: Set<string>): ProfileChain | undefined {
  const p = sharedProfile(name, env);
  if (p === undefined) throw new Error(`failed to get shared config profile, ${name}`);
  const again = seen.has(name);
  const roleArn = again ? '' : (p['role_arn'] ?? '');
  const source = again ? '' : (p['source_profile'] ?? '');
  const keys = profileKeys(p);
  if (seen.size > 0 && keys !== undefined) return { credentials: keys, roles: [] };
  seen.add(name);
  const process = p['credential_process'] ?? '';
  const kinds = [source, p['credential_source'] ?? '', process, p['web_identity_token_file'] ?? ''].filter((x) => x !== '').length;
  if (kinds > 1) throw new Error('only one credential type may be specified per profile: source profile, credential source, credential process, web identity token');
  let chain: ProfileChain | undefined;
  if (source !== '') {
    try {
      chain = profileChain(source, env, seen);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(msg.startsWith('failed to get shared config profile') ? `failed to load assume role ${roleArn}, of profile ${source}, ${msg}` : msg);
    }
    if (chain === undefined) throw new Error(`failed to load assume role ${roleArn}, of profile ${source}, <nil>`);
  } else if (keys !== undefined) chain = { credentials: keys, roles: [] };
  else if ((p['credential_source'] ?? '') !== '' || (p['web_identity_token_file'] ?? '') !== '') {
    throw new Error(`profile ${name}: credential_source and web_identity_token_file are not supported (keys, source_profile, SSO and credential_process are)`);
  } else if (['sso_session', 'sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'].some((k) => (p[k] ?? '') !== '')) chain = { sso: ssoConfig(name, p, env), roles: [] };
  else if (process !== '') chain = { process, roles: [] };
  if (chain === undefined) return undefined;
  if (roleArn !== '') chain.roles.push(roleStep(p, roleArn));
  return chain;
}

/** fromChain renders a profile's chain as a ResolvedConfig (the optional fields only when set). */
function fromChain(region: string, chain: ProfileChain, source: string): ResolvedConfig {
  return {
    region,
    credentials: chain.credentials,
    ...(chain.process !== undefined ? { process: chain.process } : {}),
    ...(chain.sso !== undefined ? { sso: chain.sso } : {}),
    ...(chain.roles.length > 0 ? { roles: chain.roles } : {}),
    source,
  };
}

/** resolveConfig finds the region and the base credentials (before any role) as the SDK's LoadDefaultConfig. */
export function resolveConfig(sigv4: SigV4Config | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const explicit = sigv4?.profile !== undefined && sigv4.profile !== '' ? sigv4.profile : undefined;
  const profileName = explicit ?? (env['AWS_PROFILE'] !== undefined && env['AWS_PROFILE'] !== '' ? env['AWS_PROFILE'] : undefined);
  const profile = sharedProfile(profileName ?? 'default', env);
  if (profileName !== undefined && profile === undefined) throw new Error(`failed to get shared config profile, ${profileName}`);
  const region = sigv4?.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || profile?.['region'] || '';
  if (sigv4?.access_key !== undefined && sigv4.access_key !== '') {
    return { region, credentials: { accessKeyId: sigv4.access_key, secretAccessKey: sigv4.secret_key ?? '' }, source: 'sigv4 access_key' };
  }
  // A profile named in the config or by AWS_PROFILE wins over the environment's keys, as the SDK's credential chain.
  if (profileName !== undefined) {
    const chain = profileChain(profileName, env, new Set());
    if (chain === undefined) throw new Error(`failed to get shared config profile, ${profileName}: no credentials in it`);
    return fromChain(region, chain, `profile ${profileName}`);
  }
  const envId = env['AWS_ACCESS_KEY_ID'] ?? '';
  if (envId !== '') {
    const token = env['AWS_SESSION_TOKEN'];
    return { region, credentials: { accessKeyId: envId, secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '', ...(token !== undefined && token !== '' ? { sessionToken: token } : {}) }, source: 'environment' };
  }
  const chain = profile !== undefined ? profileChain('default', env, new Set()) : undefined;
  return chain === undefined ? { region, credentials: undefined, source: 'profile default' } : fromChain(region, chain, 'profile default');
}

/**
 * processCredentials runs a credential_process as processcreds does (`sh -c`,
 * one minute at most) and reads its JSON: Version 1, AccessKeyId,
 * SecretAccessKey, SessionToken and Expiration (unix ms; undefined when it
 * never expires).
 */
export function processCredentials(command: string, env: NodeJS.ProcessEnv = process.env): Promise<{ credentials: Credentials; expiresAt: number | undefined }> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err !== null) {
        reject(new Error(`process provider error: ${err.killed ? 'credential process timed out' : 'error in credential_process'}: ${err.message}`));
        return;
      }
      let out: Record<string, unknown>;
      try {
        out = JSON.parse(stdout) as Record<string, unknown>;
      } catch (e) {
        reject(new Error(`process provider error: parse failed of process output: ${stdout}, error: ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
      if (out['Version'] !== 1) return reject(new Error('process provider error: wrong version in process output (not 1)'));
      if (typeof out['AccessKeyId'] !== 'string' || out['AccessKeyId'] === '') return reject(new Error('process provider error: missing AccessKeyId in process output'));
      if (typeof out['SecretAccessKey'] !== 'string' || out['SecretAccessKey'] === '') return reject(new Error('process provider error: missing SecretAccessKey in process output'));
      const token = out['SessionToken'];
      const expiration = typeof out['Expiration'] === 'string' ? Date.parse(out['Expiration']) : Number.NaN;
      resolve({
        credentials: { accessKeyId: out['AccessKeyId'], secretAccessKey: out['SecretAccessKey'], ...(typeof token === 'string' && token !== '' ? { sessionToken: token } : {}) },
        expiresAt: Number.isNaN(expiration) ? undefined : expiration,
      });
    });
  });
}

/**
 * serviceEndpoint is where requests to an AWS service go without a configured
 * URL: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, or the region's endpoint,
 * as the SDK resolves them (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).
 */
export function serviceEndpoint(service: 'sts' | 'sns', region: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env['AWS_ENDPOINT_URL'];
  if (configured !== undefined && configured !== '' && env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] !== 'true') return configured.endsWith('/') ? configured : configured + '/';
  return `https://${service}.${region}.amazonaws.com/`;
}

/** AssumedRole is the answer of AssumeRole: temporary credentials and their expiry (unix ms). */
export interface AssumedRole {
  credentials: Credentials;
  expiresAt: number;
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  if (m === null) return undefined;
  return (m[1] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/**
 * assumeRoleBody is the AssumeRole query as stscreds sends it: a 15 minute
 * session (a profile's duration_seconds when longer) named by the profile's
 * role_session_name or aws-go-sdk-<unix nanoseconds>.
 */
export function assumeRoleBody(roleArn: string, externalId: string | undefined, now: number, opts: { sessionName?: string; durationSeconds?: number } = {}): string {
  const duration = opts.durationSeconds !== undefined && Math.floor(opts.durationSeconds / 60) > 15 ? opts.durationSeconds : 900;
  const params: Array<[string, string]> = [
    ['Action', 'AssumeRole'],
    ['Version', '2011-06-15'],
    ['DurationSeconds', String(duration)],
  ];
  if (externalId !== undefined && externalId !== '') params.push(['ExternalId', externalId]);
  params.push(['RoleArn', roleArn], ['RoleSessionName', opts.sessionName ?? `aws-go-sdk-${now}000000`]);
  return queryBody(params);
}

/** parseAssumeRole reads AssumeRole's XML answer. */
export function parseAssumeRole(xml: string): AssumedRole {
  const id = xmlText(xml, 'AccessKeyId');
  const secret = xmlText(xml, 'SecretAccessKey');
  if (id === undefined || secret === undefined) throw new Error('AssumeRole answer without credentials');
  const token = xmlText(xml, 'SessionToken');
  const expiration = Date.parse(xmlText(xml, 'Expiration') ?? '');
  return { credentials: { accessKeyId: id, secretAccessKey: secret, ...(token !== undefined ? { sessionToken: token } : {}) }, expiresAt: Number.isNaN(expiration) ? Date.now() + 900_000 : expiration };
}

/** stsErrorText renders an STS error answer as the SDK's operation error. */
export function stsErrorText(status: number, xml: string): string {
  const code = xmlText(xml, 'Code');
  const message = xmlText(xml, 'Message');
  return `operation error STS: AssumeRole, https response error StatusCode: ${status}, api error ${code ?? 'UnknownError'}: ${message ?? xml}`;
}
