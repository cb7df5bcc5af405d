// sns.ts is the Amazon SNS integration: the Publish action of SNS's query
// API, signed with AWS Signature Version 4, posted to `api_url` (or the
// region's endpoint), as Alertmanager 0.35's sns notifier sends it. The
// credentials come from the sigv4 block as aws-credentials.ts resolves them
// (static keys, a shared-file profile, the environment; a role through STS).

import { createHash, createHmac } from 'node:crypto';
import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier, type NotifyContext } from './notifier.js';
import { assumeRoleBody, awsEncode, parseAssumeRole, parseSsoCredentials, processCredentials, queryBody, resolveConfig, serviceEndpoint, ssoRequest, stsErrorText, type AssumedRole, type ResolvedConfig, type RoleStep } from './aws-credentials.js';
import { inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { groupKeyHash, nonEmpty, renderer, send } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

/** SigV4Config is the sigv4 block (prometheus/sigv4). */
export interface SigV4Config {
  region?: string;
  access_key?: string;
  secret_key?: string;
  profile?: string;
  role_arn?: string;
  external_id?: string;
}

/** SNSConfig is one entry of sns_configs. */
export interface SNSConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  sigv4?: SigV4Config;
  topic_arn?: string;
  phone_number?: string;
  target_arn?: string;
  subject?: string;
  message?: string;
  attributes?: Record<string, string>;
  use_aws_http_client?: boolean;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Credentials are the AWS keys a request is signed with. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** signV4 returns the headers that sign a POST of body to url for service in region (AWS Signature Version 4). */
export function signV4(url: string, body: string, contentType: string, region: string, service: string, creds: Credentials, now: Date): Record<string, string> {
  const u = new URL(url);
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { 'content-type': contentType, host: u.host, 'x-amz-date': amzDate };
  if (creds.sessionToken !== undefined && creds.sessionToken !== '') headers['x-amz-security-token'] = creds.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalQuery = [...u.searchParams.entries()]
    .map(([k, v]) => [awsEncode(k), awsEncode(v)])
    .sort((a, b) => (a[0] === b[0] ? ((a[1] as string) < (b[1] as string) ? -1 : 1) : (a[0] as string) < (b[0] as string) ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalPath = u.pathname.split('/').map((seg) => awsEncode(decodeURIComponent(seg))).join('/') || '/';
  const canonical = ['POST', canonicalPath, canonicalQuery, names.map((n) => `${n}:${(headers[n] as string).trim()}\n`).join(''), names.join(';'), sha256Hex(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const out: Record<string, string> = {
    'X-Amz-Date': amzDate,
    Authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
  if (headers['x-amz-security-token'] !== undefined) out['X-Amz-Security-Token'] = headers['x-amz-security-token'];
  return out;
}

/** snsError extracts the Message of an SNS XML error answer. */
function snsError(body: Buffer): string {
  const m = /<Message>([\s\S]*?)<\/Message>/.exec(body.toString('utf8'));
  return m === null ? body.toString('utf8') : (m[1] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function createSNS(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as SNSConfig;
  /**
   * assumed caches each role's temporary credentials (by the credentials that
   * assumed it, the role and its options) until a minute before they expire;
   * processed caches a credential_process's answer likewise when it expires.
   */
  const assumed = new Map<string, AssumedRole>();
  let processed: { command: string; credentials: Credentials; expiresAt: number } | undefined;
  /** fromSso caches the SSO role's credentials (by account, role and token file) until a minute before they expire. */
  let fromSso: { key: string; credentials: Credentials; expiresAt: number } | undefined;
  /** firstCredentials are the chain's first credentials: the resolved keys, an SSO role's or a credential_process's. */
  const firstCredentials = async (ctx: NotifyContext, resolved: ResolvedConfig): Promise<Credentials | undefined> => {
    if (resolved.sso !== undefined) {
      const sso = resolved.sso;
      const key = `${sso.accountId}\x00${sso.roleName}\x00${sso.cacheKey}`;
      if (fromSso !== undefined && fromSso.key === key && fromSso.expiresAt - 60_000 > Date.now()) return fromSso.credentials;
      try {
        const { url, token } = ssoRequest(sso);
        // The portal goes through the integration's HTTP client, as STS does.
        const res = await send(ctx, c.http_config, url, undefined, { method: 'GET', checkUrl: deps.checkUrl, headers: { 'x-amz-sso_bearer_token': token } });
        fromSso = { key, ...parseSsoCredentials(res.body.toString('utf8')) };
      } catch (err) {
        throw new NotifyError(`failed to refresh cached credentials, ${err instanceof Error ? err.message : String(err)}`, err instanceof NotifyError ? err.retry === true : false);
      }
      return fromSso.credentials;
    }
    if (resolved.process === undefined) return resolved.credentials;
    if (processed !== undefined && processed.command === resolved.process && processed.expiresAt - 60_000 > Date.now()) return processed.credentials;
    let got: Awaited<ReturnType<typeof processCredentials>>;
    try {
      got = await processCredentials(resolved.process);
    } catch (err) {
      throw new NotifyError(`failed to refresh cached credentials, ${err instanceof Error ? err.message : String(err)}`, true);
    }
    processed = got.expiresAt === undefined ? undefined : { command: resolved.process, credentials: got.credentials, expiresAt: got.expiresAt };
    return got.credentials;
  };
  /** roleCredentials are the credentials STS AssumeRole hands out for base and one role of the chain. */
  const roleCredentials = async (ctx: NotifyContext, region: string, base: Credentials, step: RoleStep): Promise<Credentials> => {
    const key = `${base.accessKeyId}\x00${step.roleArn}\x00${step.externalId ?? ''}\x00${step.sessionName ?? ''}\x00${step.durationSeconds ?? ''}`;
    const hit = assumed.get(key);
    if (hit !== undefined && hit.expiresAt - 60_000 > Date.now()) return hit.credentials;
    const endpoint = serviceEndpoint('sts', region);
    const body = assumeRoleBody(step.roleArn, step.externalId, Date.now(), step);
    const contentType = 'application/x-www-form-urlencoded; charset=utf-8';
    let text: string;
    try {
      // STS goes through the integration's HTTP client (http_config, the receivers firewall), not api_url, as 0.35.
      const res = await send(ctx, c.http_config, endpoint, body, { checkUrl: deps.checkUrl, contentType, headers: signV4(endpoint, body, contentType, region, 'sts', base, new Date()), details: (status, b) => stsErrorText(status, b.toString('utf8')) });
      text = res.body.toString('utf8');
    } catch (err) {
      const e = err as NotifyError;
      throw new NotifyError(`failed to refresh cached credentials, ${e.message.replace(/^unexpected status code \d+: /, '')}`, e.retry === true);
    }
    let role: AssumedRole;
    try {
      role = parseAssumeRole(text);
    } catch (err) {
      throw new NotifyError(`failed to refresh cached credentials: ${err instanceof Error ? err.message : String(err)}`, true);
    }
    // Bounded: a new base key (a refreshed role earlier in the chain) makes new entries.
    for (const [k, v] of assumed) if (v.expiresAt <= Date.now() || assumed.size > 16) assumed.delete(k);
    assumed.set(key, role);
    return role.credentials;
  };
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      let resolved: ResolvedConfig;
      try {
        resolved = resolveConfig(c.sigv4);
      } catch (err) {
        throw new NotifyError(`failed to load final config for SNS: ${err instanceof Error ? err.message : String(err)}`, true);
      }
      const region = resolved.region;
      if (region === '') throw new NotifyError('region not configured in sns.sigv4.region or in default credentials chain', true);
      let creds = await firstCredentials(ctx, resolved);
      if (creds === undefined) throw new NotifyError('failed to load final config for SNS: no AWS credentials (sigv4.access_key, a profile or AWS_ACCESS_KEY_ID)', true);
      // The profiles' roles in turn (source_profile chaining), then the sigv4 block's own role_arn.
      const steps = [...(resolved.roles ?? [])];
      if (nonEmpty(c.sigv4?.role_arn)) steps.push({ roleArn: c.sigv4?.role_arn as string, ...(nonEmpty(c.sigv4?.external_id) ? { externalId: c.sigv4?.external_id as string } : {}) });
      for (const step of steps) creds = await roleCredentials(ctx, region, creds, step);
      const apiUrl = r.text(c.api_url);
      const endpoint = apiUrl !== '' ? apiUrl : serviceEndpoint('sns', region);

      // Publish's members (queryBody sorts them, with Action and Version, as the Go SDK's encoder).
      const params: Array<[string, string]> = [
        ['Action', 'Publish'],
        ['Version', '2010-03-31'],
      ];
      let limit = 256 * 1024;
      let topicArn: string | undefined;
      if (nonEmpty(c.topic_arn)) topicArn = r.text(c.topic_arn);
      let phone: string | undefined;
      if (nonEmpty(c.phone_number)) {
        phone = r.text(c.phone_number);
        limit = 1600;
      }
      const targetArn = nonEmpty(c.target_arn) ? r.text(c.target_arn) : undefined;
      let message = r.text(c.message);
      const attributes = new Map<string, string>();
      for (const [k, v] of Object.entries(c.attributes ?? {})) attributes.set(r.text(k), r.text(v));
      if (Buffer.byteLength(message) > limit) {
        // Cut at the byte limit as Go does (a rune cut in half becomes U+FFFD).
        message = Buffer.from(message).subarray(0, limit).toString('utf8');
        attributes.set('truncated', 'true');
      }
      params.push(['Message', message]);
      [...attributes.keys()].sort().forEach((k, i) => {
        params.push([`MessageAttributes.entry.${i + 1}.Name`, k], [`MessageAttributes.entry.${i + 1}.Value.DataType`, 'String'], [`MessageAttributes.entry.${i + 1}.Value.StringValue`, attributes.get(k) as string]);
      });
      if (topicArn !== undefined && topicArn.endsWith('.fifo')) {
        const key = groupKeyHash(ctx.groupKey);
        params.push(['MessageDeduplicationId', key], ['MessageGroupId', key]);
      }
      if (phone !== undefined) params.push(['PhoneNumber', phone]);
      if (nonEmpty(c.subject)) params.push(['Subject', r.text(c.subject)]);
      if (targetArn !== undefined) params.push(['TargetArn', targetArn]);
      if (topicArn !== undefined) params.push(['TopicArn', topicArn]);
      const body = queryBody(params);
      const contentType = 'application/x-www-form-urlencoded';
      await send(ctx, c.http_config, endpoint, body, {
        checkUrl: deps.checkUrl,
        contentType,
        headers: signV4(endpoint, body, contentType, region, 'sns', creds, new Date()),
        details: (_s, b) => snsError(b),
      });
    },
  };
}

registerIntegration({
  key: 'sns_configs',
  name: 'sns',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { subject: tmplRef('sns.default.subject'), message: tmplRef('sns.default.message') });
    const c = entry as SNSConfig;
    const t = !nonEmpty(c.target_arn);
    const p = !nonEmpty(c.topic_arn);
    const n = !nonEmpty(c.phone_number);
    // Go's (a != b) != c: true when an odd number of the three are empty.
    if ((t !== p) !== n) return 'must provide either a Target ARN, Topic ARN, or Phone Number for SNS config';
    if (nonEmpty(c.sigv4?.access_key) && !nonEmpty(c.sigv4?.secret_key)) return 'must provide a AWS SigV4 Access key and Secret Key if you provide one';
    if (!nonEmpty(c.sigv4?.access_key) && nonEmpty(c.sigv4?.secret_key)) return 'must provide a AWS SigV4 Access key and Secret Key if you provide one';
    if (nonEmpty(c.sigv4?.access_key) && nonEmpty(c.sigv4?.profile)) return 'can only provide a AWS SigV4 Access key or a profile, not both';
    inheritHttp(entry, global);
    return validateHttpConfig(c.http_config);
  },
  create: createSNS,
});
