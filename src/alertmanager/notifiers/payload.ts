// payload.ts holds what the vendor integrations (slack, pagerduty, opsgenie,
// ...) share beyond notifier.ts: Go's encoding/json output for ordered
// payload structs, Alertmanager's rune/byte truncation, the group key hash,
// secrets read from files, and one request helper whose retry codes each
// integration chooses as its Go Retrier does.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../../config/duration.js';
import { goJsonString } from '../../distributor/otlp.js';
import { buildTemplateData, httpRequest, NotifyError, redactURL, type HTTPClientConfig, type HttpResult, type NotifyContext, type TemplateData } from './notifier.js';
import type { Alert } from '../types.js';

/** goJson encodes a value as Go's json.Encoder: object keys in insertion order, undefined members omitted, HTML escaped. */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => goJson(x)).join(',') + ']';
  if (v instanceof Map) return goJson(sortedObject(Object.fromEntries(v) as Record<string, unknown>));
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    parts.push(goJsonString(k) + ':' + goJson(x));
  }
  return '{' + parts.join(',') + '}';
}

/** sortedObject copies an object with its keys sorted (Go encodes maps in key order). */
export function sortedObject<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as T;
  return out;
}

/** omit returns undefined for Go's empty values (omitempty): '', false, 0, empty arrays and maps. */
export function omit<T>(v: T): T | undefined {
  if (v === '' || v === false || v === 0 || v === undefined || v === null) return undefined;
  if (Array.isArray(v) && v.length === 0) return undefined;
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) return undefined;
  return v;
}

const TRUNCATION_MARKER = '…';

/** truncateInRunes cuts s to n code points, the last one replaced by "…", as notify.TruncateInRunes. */
export function truncateInRunes(s: string, n: number): [string, boolean] {
  const r = [...s];
  if (r.length <= n) return [s, false];
  if (n <= 3) return [r.slice(0, n).join(''), true];
  return [r.slice(0, n - 1).join('') + TRUNCATION_MARKER, true];
}

/** truncateInBytes cuts s to at most n UTF-8 bytes ending in "…", as notify.TruncateInBytes. */
export function truncateInBytes(s: string, n: number): [string, boolean] {
  if (Buffer.byteLength(s) <= n) return [s, false];
  if (n <= 3) return [n === 3 ? TRUNCATION_MARKER : '.'.repeat(n), true];
  const target = n - 3;
  const r = [...s].slice(0, target);
  while (Buffer.byteLength(r.join('')) > target) r.pop();
  return [r.join('') + TRUNCATION_MARKER, true];
}

/** groupKeyHash is notify.Key.Hash: the hex SHA-256 of the group key (PagerDuty dedup key, OpsGenie alias, ...). */
export function groupKeyHash(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

/** secret returns the inline value, or the file's content trimmed when only a file is configured. */
export function secret(inline: string | undefined, file: string | undefined, trim = true): string {
  if (inline !== undefined && inline !== '') return inline;
  if (file !== undefined && file !== '') {
    const text = readFileSync(file, 'utf8');
    return trim ? text.trim() : text;
  }
  return '';
}

/** nonEmpty says whether a config string is set. */
export function nonEmpty(s: unknown): s is string {
  return typeof s === 'string' && s !== '';
}

/** Renderer expands one notification's templates; text and html throw on template errors. */
export interface Renderer {
  data: TemplateData;
  text(tmpl: string | undefined): string;
  html(tmpl: string | undefined): string;
}

/** renderer builds template.Data for the alerts and binds the tenant's expander to it. */
export function renderer(ctx: NotifyContext, alerts: Alert[]): Renderer {
  const data = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, alerts, ctx.externalURL, ctx.now, ctx.reason, ctx.routeLabels);
  return {
    data: ctx.expand.view?.(data) ?? data,
    text: (t) => (t === undefined || t === '' ? '' : ctx.expand.text(t, data)),
    html: (t) => (t === undefined || t === '' ? '' : ctx.expand.html(t, data)),
  };
}

/** SendOptions tune one request. */
export interface SendOptions {
  method?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** retryCodes are the non-5xx statuses retried (Go's Retrier.RetryCodes). */
  retryCodes?: number[];
  /** details turns an error answer into the text after "unexpected status code N: " (default: the body). */
  details?: (status: number, body: Buffer) => string;
  /** timeoutMs aborts the request after this long (0: no limit beyond the context). */
  timeoutMs?: number;
  /** checkUrl is the receivers firewall, applied before the request is made. */
  checkUrl?: (url: string) => void;
  /** errPrefix wraps a network error as Go's notifiers do (default `Post "<url>"`). */
  errPrefix?: string;
  /**
   * rateLimitedBy names the service (Slack, Webex) whose `Retry-After` answer
   * header delays the next attempt of a retried failure, as those 0.35 notifiers.
   */
  rateLimitedBy?: string;
}

/**
 * parseRetryAfter reads a Retry-After header as notify.ParseRetryAfter: whole
 * seconds, or an HTTP date measured against the answer's Date header (else the
 * time the answer arrived); 0 when absent, malformed or in the past.
 */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, receivedMs: number): number {
  const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
  const val = first(headers['retry-after']).trim();
  if (val === '') return 0;
  if (/^[+-]?\d+$/.test(val)) return Math.max(0, Number(val) * 1000);
  const at = parseHttpDate(val);
  if (at === undefined) return 0;
  const serverNow = parseHttpDate(first(headers.date));
  return Math.max(0, at - (serverNow ?? receivedMs));
}

/** parseHttpDate parses the three date forms of http.ParseTime (RFC 1123 with GMT, RFC 850, asctime). */
function parseHttpDate(s: string): number | undefined {
  const rfc1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
  const rfc850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
  const asctime = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;
  if (!rfc1123.test(s) && !rfc850.test(s) && !asctime.test(s)) return undefined;
  const ms = Date.parse(asctime.test(s) ? s + ' GMT' : s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** send issues one request with http_config, failing with a NotifyError as Alertmanager's Retrier decides. */
export async function send(ctx: NotifyContext, cfg: HTTPClientConfig | undefined, url: string, body: string | Buffer | undefined, opts: SendOptions = {}): Promise<HttpResult> {
  const method = opts.method ?? 'POST';
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (body !== undefined || method === 'POST') headers['Content-Type'] = opts.contentType ?? 'application/json';
  const signal = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? AbortSignal.any([ctx.signal, AbortSignal.timeout(opts.timeoutMs)]) : ctx.signal;
  if (opts.checkUrl !== undefined) {
    try {
      opts.checkUrl(url);
    } catch (err) {
      throw new NotifyError(`${method.charAt(0)}${method.slice(1).toLowerCase()} "${redactURL(url)}": ${err instanceof Error ? err.message : String(err)}`, false);
    }
  }
  let res: HttpResult;
  try {
    res = await httpRequest(cfg, method, url, body, headers, signal);
  } catch (err) {
    const what = opts.errPrefix ?? `${method.charAt(0)}${method.slice(1).toLowerCase()} "${redactURL(url)}"`;
    throw new NotifyError(`${what}: ${err instanceof Error ? err.message : String(err)}`, true);
  }
  const received = Date.now();
  if (res.status >= 200 && res.status < 300) return res;
  const retry = Math.floor(res.status / 100) === 5 || (opts.retryCodes ?? []).includes(res.status);
  const details = opts.details !== undefined ? opts.details(res.status, res.body) : res.body.toString('utf8');
  let retryAfterMs = 0;
  if (retry && opts.rateLimitedBy !== undefined) {
    retryAfterMs = parseRetryAfter(res.headers, received);
    if (retryAfterMs > 0) ctx.logger.warn(`Rate limited by ${opts.rateLimitedBy}, delaying retry`, { retry_after_secs: retryAfterMs / 1000 });
  }
  throw new NotifyError(`unexpected status code ${res.status}${details !== '' ? `: ${details}` : ''}`, retry, retryAfterMs);
}

/** urlError checks a receiver URL as Alertmanager's config URL types (absolute http(s) URL with a host). */
export function urlError(raw: unknown, field: string): string | undefined {
  if (typeof raw !== 'string') return `${field}: expected a URL string`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `parse "${raw}": invalid URI for request`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `unsupported scheme "${u.protocol.replace(/:$/, '')}" for URL`;
  if (u.hostname === '') return 'host is missing from URL';
  return undefined;
}

/** timeoutError checks an integration's `timeout` as a Go duration; returns the parse error text or undefined. */
export function timeoutError(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  try {
    parseDuration(String(v));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** withSlash appends "/" to a URL's path when missing (as the config loader does for OpsGenie, VictorOps, WeChat). */
export function withSlash(raw: string): string {
  const u = new URL(raw);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.toString();
}

/** durationSeconds parses a Go duration string into whole seconds (0 when unset). */
export function goDurationMs(text: unknown, parse: (s: string) => number): number {
  if (text === undefined || text === null || text === '') return 0;
  if (typeof text === 'number') return text;
  return parse(String(text));
}

/** normalizeYaml turns parsed YAML into JSON data with map keys sorted (Go encodes maps in key order). */
function normalizeYaml(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeYaml);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = normalizeYaml((v as Record<string, unknown>)[k]);
    return out;
  }
  return v === undefined ? null : v;
}

/**
 * deepCopyWithTemplate templates every string of a config value (PagerDuty
 * details, Jira fields) as template.DeepCopyWithTemplate: a rendered string
 * that reads as YAML data (numbers, booleans, lists, maps, JSON) becomes that
 * data; a JSON string literal is unquoted; other text stays as rendered.
 */
export function deepCopyWithTemplate(v: unknown, r: Renderer): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    const text = r.text(v);
    let y: unknown;
    try {
      y = parseYaml(text, { version: '1.1' }) as unknown;
    } catch {
      return text;
    }
    if (typeof y === 'string') {
      try {
        JSON.parse(text);
        return y;
      } catch {
        return text;
      }
    }
    return normalizeYaml(y);
  }
  if (Array.isArray(v)) return v.map((x) => deepCopyWithTemplate(x, r));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[r.text(k)] = deepCopyWithTemplate(x, r);
    return sortedObject(out);
  }
  return v;
}
