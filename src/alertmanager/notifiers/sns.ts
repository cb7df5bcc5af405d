// sns.ts is the Amazon SNS integration: the Publish action of SNS's query
// API, signed with AWS Signature Version 4, posted to `api_url` (or the
// region's endpoint), as Alertmanager 0.35's sns notifier sends it.

import { createHash, createHmac } from 'node:crypto';
import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
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

/** awsEncode percent-encodes as SigV4 and the AWS query protocol do (RFC 3986 unreserved kept). */
function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
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
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const region = c.sigv4?.region || process.env['AWS_REGION'] || process.env['AWS_DEFAULT_REGION'] || '';
      if (region === '') throw new NotifyError('region not configured in sns.sigv4.region or in default credentials chain', true);
      const creds: Credentials = nonEmpty(c.sigv4?.access_key)
        ? { accessKeyId: c.sigv4?.access_key as string, secretAccessKey: c.sigv4?.secret_key ?? '' }
        : { accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '', sessionToken: process.env['AWS_SESSION_TOKEN'] };
      if (creds.accessKeyId === '') throw new NotifyError('failed to load final config for SNS: no AWS credentials (sigv4.access_key or AWS_ACCESS_KEY_ID)', true);
      const apiUrl = r.text(c.api_url);
      const endpoint = apiUrl !== '' ? apiUrl : `https://sns.${region}.amazonaws.com/`;

      // Publish's members, serialised in the model's (alphabetical) order after Action and Version.
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
      const body = params.map(([k, v]) => `${awsEncode(k)}=${awsEncode(v)}`).join('&');
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
