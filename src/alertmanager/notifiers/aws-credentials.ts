// aws-credentials.ts resolves the AWS credentials and region of the SNS
// integration's sigv4 block as Alertmanager 0.35 loads them through the AWS
// SDK's config: static keys, else the named profile (`profile`, or
// AWS_PROFILE) from the shared credentials and config files, else the
// environment's keys, else the default profile; with `role_arn`, those
// credentials call STS AssumeRole (with `external_id`) and the role's
// temporary credentials sign the request, cached until shortly before they
// expire. STS is reached at the region's endpoint, or AWS_ENDPOINT_URL_STS /
// AWS_ENDPOINT_URL as the SDK reads them (SNS likewise when api_url is unset).

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

/** ResolvedConfig is the region and base credentials of a sigv4 block. */
export interface ResolvedConfig {
  region: string;
  credentials: Credentials | undefined;
  /** source names where the credentials came from, for errors. */
  source: string;
}

/** resolveConfig finds the region and the base credentials (before any role) as the SDK's LoadDefaultConfig. */
export function resolveConfig(sigv4: SigV4Config | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const explicit = sigv4?.profile !== undefined && sigv4.profile !== '' ? sigv4.profile : undefined;
  const profileName = explicit ?? (env['AWS_PROFILE'] !== undefined && env['AWS_PROFILE'] !== '' ? env['AWS_PROFILE'] : undefined);
  const profile = sharedProfile(profileName ?? 'default', env);
  if (profileName !== undefined && profile === undefined) throw new Error(`failed to get shared config profile, ${profileName}`);
  const region = sigv4?.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || profile?.['region'] || '';
  const fromProfile = (): Credentials | undefined => {
    const id = profile?.['aws_access_key_id'];
    if (id === undefined || id === '') return undefined;
    const token = profile?.['aws_session_token'];
    return { accessKeyId: id, secretAccessKey: profile?.['aws_secret_access_key'] ?? '', ...(token !== undefined && token !== '' ? { sessionToken: token } : {}) };
  };
  if (sigv4?.access_key !== undefined && sigv4.access_key !== '') {
    return { region, credentials: { accessKeyId: sigv4.access_key, secretAccessKey: sigv4.secret_key ?? '' }, source: 'sigv4 access_key' };
  }
  // A profile named in the config or by AWS_PROFILE wins over the environment's keys, as the SDK's credential chain.
  if (profileName !== undefined) {
    const c = fromProfile();
    if (c === undefined) throw new Error(`failed to get shared config profile, ${profileName}: no credentials in it`);
    return { region, credentials: c, source: `profile ${profileName}` };
  }
  const envId = env['AWS_ACCESS_KEY_ID'] ?? '';
  if (envId !== '') {
    const token = env['AWS_SESSION_TOKEN'];
    return { region, credentials: { accessKeyId: envId, secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '', ...(token !== undefined && token !== '' ? { sessionToken: token } : {}) }, source: 'environment' };
  }
  return { region, credentials: fromProfile(), source: 'profile default' };
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

/** assumeRoleBody is the AssumeRole query as stscreds sends it (a 15 minute session named aws-go-sdk-<unix nanoseconds>). */
export function assumeRoleBody(roleArn: string, externalId: string | undefined, now: number): string {
  const params: Array<[string, string]> = [
    ['Action', 'AssumeRole'],
    ['Version', '2011-06-15'],
    ['DurationSeconds', '900'],
  ];
  if (externalId !== undefined && externalId !== '') params.push(['ExternalId', externalId]);
  params.push(['RoleArn', roleArn], ['RoleSessionName', `aws-go-sdk-${now}000000`]);
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
