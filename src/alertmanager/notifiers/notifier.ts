// notifier.ts is what every receiver integration shares: the Notifier
// interface, the template data Alertmanager hands to templates
// (template.Data, field for field), retries with backoff, and the
// `http_config` block (basic auth, authorization, bearer token, TLS, proxy,
// headers) applied to every outgoing HTTP request.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { goJsonString } from '../../distributor/otlp.js';
import type { Logger } from '../../log.js';
import { GoTime } from '../../compat/gotime.js';
import { fingerprintHex, goTime, type Alert, type LabelSet } from '../types.js';

/** ALERTMANAGER_VERSION is the Alertmanager release whose behaviour (and User-Agent) we follow. */
export const ALERTMANAGER_VERSION = '0.35.0';

/** USER_AGENT is sent on every notification request, as Alertmanager does. */
export const USER_AGENT = `Alertmanager/${ALERTMANAGER_VERSION}`;

/** Secret marks configuration values shown as `<secret>` when the config is rendered. */
export type Secret = string;

/** TLSConfig is Prometheus common's tls_config. */
export interface TLSConfig {
  ca?: string;
  ca_file?: string;
  cert?: string;
  cert_file?: string;
  key?: Secret;
  key_file?: string;
  server_name?: string;
  insecure_skip_verify?: boolean;
  min_version?: string;
  max_version?: string;
}

/** HTTPClientConfig is Prometheus common's http_config as receivers take it. */
export interface HTTPClientConfig {
  basic_auth?: { username?: string; username_file?: string; password?: Secret; password_file?: string };
  authorization?: { type?: string; credentials?: Secret; credentials_file?: string };
  bearer_token?: Secret;
  bearer_token_file?: string;
  tls_config?: TLSConfig;
  proxy_url?: string;
  no_proxy?: string;
  proxy_from_environment?: boolean;
  proxy_connect_header?: Record<string, string[]>;
  follow_redirects?: boolean;
  enable_http2?: boolean;
  http_headers?: Record<string, { values?: string[]; secrets?: Secret[]; files?: string[] }>;
  oauth2?: Record<string, unknown>;
}

/** validateHttpConfig checks an http_config as common's HTTPClientConfig.Validate; returns the error text or undefined. */
export function validateHttpConfig(c: HTTPClientConfig | undefined): string | undefined {
  if (c === undefined) return undefined;
  const bearer = c.bearer_token !== undefined && c.bearer_token !== '';
  const bearerFile = c.bearer_token_file !== undefined && c.bearer_token_file !== '';
  if (bearer && bearerFile) return 'at most one of bearer_token & bearer_token_file must be configured';
  if (c.basic_auth !== undefined && (bearer || bearerFile)) return 'at most one of basic_auth, bearer_token & bearer_token_file must be configured';
  if (c.basic_auth !== undefined) {
    if (c.basic_auth.username !== undefined && c.basic_auth.username !== '' && c.basic_auth.username_file !== undefined && c.basic_auth.username_file !== '')
      return 'at most one of basic_auth username & username_file must be configured';
    if (c.basic_auth.password !== undefined && c.basic_auth.password !== '' && c.basic_auth.password_file !== undefined && c.basic_auth.password_file !== '')
      return 'at most one of basic_auth password & password_file must be configured';
  }
  if (c.authorization !== undefined) {
    if (bearer || bearerFile) return 'authorization is not compatible with bearer_token & bearer_token_file';
    if (c.authorization.credentials !== undefined && c.authorization.credentials !== '' && c.authorization.credentials_file !== undefined && c.authorization.credentials_file !== '')
      return 'at most one of authorization credentials & credentials_file must be configured';
    if ((c.authorization.type ?? '').toLowerCase() === 'basic') return `authorization type cannot be set to "basic", use "basic_auth" instead`;
  }
  if (c.basic_auth !== undefined && c.authorization !== undefined) return 'at most one of basic_auth, oauth2 & authorization must be configured';
  if (c.oauth2 !== undefined && (c.basic_auth !== undefined || c.authorization !== undefined)) return 'at most one of basic_auth, oauth2 & authorization must be configured';
  if (c.tls_config !== undefined) {
    const t = c.tls_config;
    if (nonEmpty(t.ca) && nonEmpty(t.ca_file)) return 'at most one of ca and ca_file must be configured';
    if (nonEmpty(t.cert) && nonEmpty(t.cert_file)) return 'at most one of cert and cert_file must be configured';
    if (nonEmpty(t.key) && nonEmpty(t.key_file)) return 'at most one of key and key_file must be configured';
    const hasCert = nonEmpty(t.cert) || nonEmpty(t.cert_file);
    const hasKey = nonEmpty(t.key) || nonEmpty(t.key_file);
    if (hasCert !== hasKey) return hasCert ? 'exactly one of key or key_file must be configured when a client certificate is configured' : 'exactly one of cert or cert_file must be configured when a client key is configured';
  }
  return undefined;
}

function nonEmpty(s: string | undefined): boolean {
  return s !== undefined && s !== '';
}

/** HttpResponse is what an outgoing request returned. */
export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** KEEP_ALIVE keeps connections to receivers open between notifications (as Go's transport). */
const KEEP_ALIVE = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** MAX_RESPONSE_BODY bounds how much of a receiver's answer is read (for error messages). */
const MAX_RESPONSE_BODY = 1 << 20;

/** httpRequest sends one request with http_config applied; rejects on network errors and aborts. */
export function httpRequest(
  cfg: HTTPClientConfig | undefined,
  method: string,
  url: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<HttpResult> {
  const u = new URL(url);
  const h: Record<string, string> = { 'User-Agent': USER_AGENT, ...headers };
  const c = cfg ?? {};
  if (c.basic_auth !== undefined) {
    const user = c.basic_auth.username_file ? readFileSync(c.basic_auth.username_file, 'utf8').trim() : (c.basic_auth.username ?? '');
    const pass = c.basic_auth.password_file ? readFileSync(c.basic_auth.password_file, 'utf8').trim() : (c.basic_auth.password ?? '');
    h.Authorization = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  } else if (c.authorization !== undefined) {
    const cred = c.authorization.credentials_file ? readFileSync(c.authorization.credentials_file, 'utf8').trim() : (c.authorization.credentials ?? '');
    h.Authorization = `${c.authorization.type || 'Bearer'} ${cred}`;
  } else if (nonEmpty(c.bearer_token) || nonEmpty(c.bearer_token_file)) {
    const tok = nonEmpty(c.bearer_token_file) ? readFileSync(c.bearer_token_file as string, 'utf8').trim() : (c.bearer_token as string);
    h.Authorization = `Bearer ${tok}`;
  }
  // Go's client turns URL credentials into basic auth when nothing else set Authorization.
  if (h.Authorization === undefined && (u.username !== '' || u.password !== '')) {
    h.Authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  }
  for (const [name, v] of Object.entries(c.http_headers ?? {})) {
    const vals = [...(v.values ?? []), ...(v.secrets ?? []), ...(v.files ?? []).map((f) => readFileSync(f, 'utf8').trim())];
    if (vals.length > 0) h[name] = vals.join(', ');
  }
  const data = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  if (data !== undefined) h['Content-Length'] = String(data.length);
  const t = c.tls_config ?? {};
  const tlsOpts: https.RequestOptions =
    u.protocol === 'https:'
      ? {
          ca: t.ca_file ? readFileSync(t.ca_file) : t.ca,
          cert: t.cert_file ? readFileSync(t.cert_file) : t.cert,
          key: t.key_file ? readFileSync(t.key_file) : t.key,
          servername: t.server_name || undefined,
          rejectUnauthorized: t.insecure_skip_verify !== true,
        }
      : {};
  let target = u;
  let path = u.pathname + u.search;
  if (nonEmpty(c.proxy_url)) {
    // Plain-HTTP forward proxy: absolute URI in the request line.
    target = new URL(c.proxy_url as string);
    const bare = new URL(u.toString());
    bare.username = '';
    bare.password = '';
    path = bare.toString();
  }
  const mod = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        method,
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port || (target.protocol === 'https:' ? 443 : 80),
        path,
        headers: h,
        signal,
        ...(target.protocol === 'http:' ? { agent: KEEP_ALIVE } : {}),
        ...tlsOpts,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          if (size < MAX_RESPONSE_BODY) chunks.push(d);
          size += d.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * NotifyError is a failed delivery (notify.NotifyVerdict): retry says whether
 * trying again may succeed, retryAfterMs the least wait before that attempt
 * (a receiver's Retry-After; 0 leaves the wait to the backoff).
 */
export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs = 0,
  ) {
    super(message);
    this.name = 'NotifyError';
  }
}

/** redactURL hides a URL's password as Go's url.Redacted. */
export function redactURL(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = 'xxxxx';
    return u.toString();
  } catch {
    return url;
  }
}

/** KV is Alertmanager's template.KV: a label or annotation map with sorted accessors. */
export class KV extends Map<string, string> {
  /** SortedPairs returns the pairs sorted by name, alertname first (as Alertmanager). */
  SortedPairs(): Array<{ Name: string; Value: string }> {
    const names = [...this.keys()].sort((a, b) => {
      if (a === 'alertname') return b === 'alertname' ? 0 : -1;
      if (b === 'alertname') return 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
    const pairs = names.map((n) => ({ Name: n, Value: this.get(n) as string }));
    // template.Pairs has Names() and Values() (templates call .SortedPairs.Values).
    Object.defineProperty(pairs, 'Names', { value: () => pairs.map((p) => p.Name), enumerable: false });
    Object.defineProperty(pairs, 'Values', { value: () => pairs.map((p) => p.Value), enumerable: false });
    return pairs;
  }

  /** Names returns the sorted names. */
  Names(): string[] {
    return this.SortedPairs().map((p) => p.Name);
  }

  /** Values returns the values in the order of the sorted names. */
  Values(): string[] {
    return this.SortedPairs().map((p) => p.Value);
  }

  /** Remove returns a copy without the given names. */
  Remove(keys: string[]): KV {
    const out = new KV(this);
    for (const k of keys) out.delete(k);
    return out;
  }

  /** toObject returns the pairs as a plain object with sorted keys. */
  toObject(): LabelSet {
    const out: LabelSet = {};
    for (const k of [...this.keys()].sort()) out[k] = this.get(k) as string;
    return out;
  }

  /** from builds a KV from a label set. */
  static from(ls: LabelSet): KV {
    return new KV(Object.entries(ls));
  }
}

/** TemplateAlert is Alertmanager's template.Alert. */
export interface TemplateAlert {
  Status: 'firing' | 'resolved';
  Labels: KV;
  Annotations: KV;
  /** StartsAt and EndsAt are Go time.Time values (Format, Unix, ...); EndsAt is the zero time (year 1) when unset. */
  StartsAt: GoTime;
  EndsAt: GoTime;
  GeneratorURL: string;
  Fingerprint: string;
}

/** TemplateAlerts is template.Alerts: a list with Firing() and Resolved(). */
export type TemplateAlerts = TemplateAlert[] & { Firing(): TemplateAlerts; Resolved(): TemplateAlerts };

/** TemplateData is Alertmanager's template.Data, the dot of every notification template. */
export interface TemplateData {
  Receiver: string;
  Status: 'firing' | 'resolved';
  Alerts: TemplateAlerts;
  GroupLabels: KV;
  CommonLabels: KV;
  CommonAnnotations: KV;
  ExternalURL: string;
  /** NotificationReason is the dedup stage's reason for this notification (0.35's template.Data). */
  NotificationReason: string;
  /** RouteLabels are the route's labels (0.35): rendered for a notification, raw while the dispatcher renders them. */
  RouteLabels: KV;
  /** routeLabelsRendered says RouteLabels are rendered: the routeLabels function returns them verbatim (template.MarkRouteLabelsRendered). */
  routeLabelsRendered?: boolean;
  /** GroupKey is not part of template.Data in Go; integrations read it from here. */
  GroupKey: string;
}


/** templateAlerts adds Firing() and Resolved() to a list. */
export function templateAlerts(list: TemplateAlert[]): TemplateAlerts {
  const out = list as TemplateAlerts;
  Object.defineProperty(out, 'Firing', { value: () => templateAlerts(list.filter((a) => a.Status === 'firing')), enumerable: false });
  Object.defineProperty(out, 'Resolved', { value: () => templateAlerts(list.filter((a) => a.Status === 'resolved')), enumerable: false });
  return out;
}

/** alertStatus is "resolved" once endsAt has passed, else "firing". */
export function alertStatus(a: Alert, now: number): 'firing' | 'resolved' {
  return a.endsAt !== 0 && a.endsAt <= now ? 'resolved' : 'firing';
}

/** buildTemplateData builds template.Data for alerts of one group as Alertmanager's template.Data(). */
export function buildTemplateData(receiver: string, groupKey: string, groupLabels: LabelSet, alerts: Alert[], externalURL: string, now: number, reason = 'unknown', routeLabels?: LabelSet): TemplateData {
  const list: TemplateAlert[] = alerts.map((a) => {
    const status = alertStatus(a, now);
    return {
      Status: status,
      Labels: KV.from(a.labels),
      Annotations: KV.from(a.annotations),
      StartsAt: GoTime.fromMs(a.startsAt),
      // Alertmanager does not expose an end time that is not reached yet (types.Alerts): zero while firing.
      EndsAt: GoTime.fromMs(status === 'firing' ? 0 : a.endsAt),
      GeneratorURL: a.generatorURL,
      Fingerprint: fingerprintHex(a.labels),
    };
  });
  const common = (pick: (a: Alert) => LabelSet): KV => {
    const out = new KV();
    if (alerts.length === 0) return out;
    for (const [k, v] of Object.entries(pick(alerts[0] as Alert))) out.set(k, v);
    for (const a of alerts.slice(1)) {
      const ls = pick(a);
      for (const [k, v] of out) if (ls[k] !== v) out.delete(k);
    }
    return out;
  };
  return {
    Receiver: receiver,
    Status: list.some((a) => a.Status === 'firing') ? 'firing' : 'resolved',
    Alerts: templateAlerts(list),
    GroupLabels: KV.from(groupLabels),
    CommonLabels: common((a) => a.labels),
    CommonAnnotations: common((a) => a.annotations),
    ExternalURL: externalURL,
    NotificationReason: reason,
    RouteLabels: KV.from(routeLabels ?? {}),
    // The dispatcher renders route labels before notifying; a notification's data carries them rendered.
    routeLabelsRendered: routeLabels !== undefined,
    GroupKey: groupKey,
  };
}

/** goTimeOf renders a template time (year 1 = zero) as Go's RFC3339Nano in UTC, as the webhook payload carries it. */
export function goTimeOf(d: GoTime | Date): string {
  const ms = d instanceof GoTime ? d.ms : d.getTime();
  return new Date(ms).getUTCFullYear() === 1 ? '0001-01-01T00:00:00Z' : goTime(ms);
}

/** kvJson renders a KV as Go's encoding/json renders a map (keys sorted, HTML escaped). */
export function kvJson(kv: KV): string {
  const keys = [...kv.keys()].sort();
  return '{' + keys.map((k) => `${goJsonString(k)}:${goJsonString(kv.get(k) as string)}`).join(',') + '}';
}

/** Expander renders the tenant's templates for a notification; integrations call it for their text fields. */
export interface Expander {
  /** text expands a text/template string against data (throws on template errors). */
  text(tmpl: string, data: TemplateData): string;
  /** html expands with html/template escaping (email bodies). */
  html(tmpl: string, data: TemplateData): string;
  /** view is the data integrations read directly (labels copied into payloads); the data itself when absent. */
  view?(data: TemplateData): TemplateData;
  /**
   * routeLabels renders every label of data.RouteLabels (raw templates) with
   * one shared resolver, as template.RouteLabelRenderer: a label that fails is
   * reported through onError and left out.
   */
  routeLabels?(data: TemplateData, onError: (label: string, err: unknown) => void): LabelSet;
}

/** NotifyContext is what one delivery of one aggregation group carries. */
export interface NotifyContext {
  tenant: string;
  receiver: string;
  groupKey: string;
  groupLabels: LabelSet;
  externalURL: string;
  /** now is the flush time (ms) used to decide firing vs resolved. */
  now: number;
  signal: AbortSignal;
  /** expand renders the tenant's templates. */
  expand: Expander;
  logger: Logger;
  /** reason is why the group is notified ("first notification", "repeat interval elapsed", ...; "unknown" when unset, as 0.35). */
  reason?: string;
  /** nflogStore is the group's notification-log store for this integration (kept after a successful notification). */
  nflogStore?: Record<string, string>;
  /** routeLabels are the route's labels rendered against this flush's alerts (0.35's notify.RouteLabels). */
  routeLabels?: LabelSet;
}

/** Notifier is one configured integration instance (one entry of e.g. webhook_configs). */
export interface Notifier {
  /**
   * notify delivers alerts; it throws NotifyError (retry true when trying again may
   * succeed) or any other error (not retried).
   */
  notify(ctx: NotifyContext, alerts: Alert[]): Promise<void>;
}

/** Integration is a notifier with its identity inside a receiver. */
export interface Integration {
  /** name is the integration kind as Alertmanager labels metrics: webhook, email, slack, ... */
  name: string;
  /** index is the position within its *_configs list. */
  index: number;
  /** sendResolved is the config's send_resolved. */
  sendResolved: boolean;
  notifier: Notifier;
}

/** RetryOptions bound a delivery's retries. */
export interface RetryOptions {
  /** initialBackoffMs is the first wait (doubles up to maxBackoffMs, with jitter). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** deadline is the unix ms after which no further attempt starts. */
  deadline: number;
}

/** notifyWithRetry delivers until success, a non-retryable error, or the deadline; returns the attempts made. */
export async function notifyWithRetry(integration: Integration, ctx: NotifyContext, alerts: Alert[], opts: RetryOptions): Promise<number> {
  let backoff = opts.initialBackoffMs ?? 100;
  const max = opts.maxBackoffMs ?? 10_000;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await integration.notifier.notify(ctx, alerts);
      return attempts;
    } catch (err) {
      const retry = err instanceof NotifyError && err.retry;
      const msg = err instanceof Error ? err.message : String(err);
      // As RetryStage: the next attempt waits for the backoff or the receiver's Retry-After, whichever is longer.
      const wait = Math.max(Math.min(max, backoff) * (0.5 + Math.random() / 2), err instanceof NotifyError ? err.retryAfterMs : 0);
      if (!retry || ctx.signal.aborted || Date.now() + wait > opts.deadline) {
        throw new NotifyError(`${integration.name}/${integration.index}: notify retry canceled after ${attempts} attempts: ${msg}`, false);
      }
      ctx.logger.warn('Notify attempt failed, will retry later', { receiver: ctx.receiver, integration: `${integration.name}[${integration.index}]`, attempts, err: msg });
      await sleep(wait, ctx.signal);
      backoff *= 2;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
