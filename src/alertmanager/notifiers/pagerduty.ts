// pagerduty.ts is the PagerDuty integration: Events API v2 (routing_key)
// and the v1 generic API (service_key), with templated details, images and
// links, as Alertmanager 0.35's pagerduty notifier.

import { parseDuration } from '../../config/duration.js';
import { alertStatus, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inherit, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { deepCopyWithTemplate, goDurationMs, goJson, groupKeyHash, nonEmpty, omit, renderer, secret, send, sortedObject, truncateInRunes, urlError, timeoutError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_EVENT_SIZE = 512000;
const MAX_V1_DESCRIPTION_RUNES = 1024;
const MAX_V2_SUMMARY_RUNES = 1024;

/** PAGERDUTY_ENDPOINTS holds the fixed v1 endpoint (tests point it at a local sink). */
export const PAGERDUTY_ENDPOINTS = { v1: 'https://events.pagerduty.com/generic/2010-04-15/create_event.json' };

/** PagerdutyConfig is one entry of pagerduty_configs. */
export interface PagerdutyConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  service_key?: string;
  service_key_file?: string;
  routing_key?: string;
  routing_key_file?: string;
  url?: string;
  client?: string;
  client_url?: string;
  description?: string;
  details?: Record<string, unknown>;
  images?: Array<{ src?: string; alt?: string; href?: string }>;
  links?: Array<{ href?: string; text?: string }>;
  source?: string;
  severity?: string;
  class?: string;
  component?: string;
  group?: string;
  timeout?: string;
}

const DEFAULT_DETAILS: Record<string, string> = {
  firing: '{{ .Alerts.Firing | toJson }}',
  resolved: '{{ .Alerts.Resolved | toJson }}',
  num_firing: '{{ .Alerts.Firing | len }}',
  num_resolved: '{{ .Alerts.Resolved | len }}',
};

function validatePagerduty(entry: Record<string, unknown>, global: Record<string, unknown>): string | undefined {
  setDefaults(entry, { description: tmplRef('pagerduty.default.description'), client: tmplRef('pagerduty.default.client'), client_url: tmplRef('pagerduty.default.clientURL') });
  const c = entry as PagerdutyConfig;
  if (!nonEmpty(c.routing_key) && !nonEmpty(c.service_key) && !nonEmpty(c.routing_key_file) && !nonEmpty(c.service_key_file))
    return 'missing service or routing key in PagerDuty config';
  if (nonEmpty(c.routing_key) && nonEmpty(c.routing_key_file)) return 'at most one of routing_key & routing_key_file must be configured';
  if (nonEmpty(c.service_key) && nonEmpty(c.service_key_file)) return 'at most one of service_key & service_key_file must be configured';
  c.details = { ...(c.details ?? {}) };
  if (!nonEmpty(c.source)) c.source = c.client;
  for (const [k, v] of Object.entries(DEFAULT_DETAILS)) if (!(k in c.details)) c.details[k] = v;
  inheritHttp(entry, global);
  inherit(entry, 'url', global, 'pagerduty_url');
  if (c.url === undefined) return 'no global PagerDuty URL set';
  const e = urlError(c.url, 'url');
  if (e !== undefined) return e;
  const te = timeoutError(c.timeout);
  if (te !== undefined) return te;
  return validateHttpConfig(c.http_config);
}

function createPagerduty(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as PagerdutyConfig;
  const v1 = nonEmpty(c.service_key) || nonEmpty(c.service_key_file);
  const timeoutMs = goDurationMs(c.timeout, parseDuration);
  const retryCodes = v1 ? [403] : [429];
  const details = (status: number, body: Buffer): string => {
    if (status !== 400) return '';
    try {
      const p = JSON.parse(body.toString('utf8')) as { message?: string; errors?: string[] };
      return `${p.message ?? ''}: ${(p.errors ?? []).join(',')}`;
    } catch {
      return '';
    }
  };
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const resolved = alerts.every((a) => alertStatus(a, ctx.now) === 'resolved');
      const eventType = resolved ? 'resolve' : 'trigger';
      const rendered = sortedObject(Object.fromEntries(Object.entries(c.details ?? {}).map(([k, v]) => [k, deepCopyWithTemplate(v, r)])));
      const key = groupKeyHash(ctx.groupKey);
      let msg: Record<string, unknown>;
      let url: string;
      if (v1) {
        const [description, cut] = truncateInRunes(r.text(c.description), MAX_V1_DESCRIPTION_RUNES);
        if (cut) ctx.logger.warn('Truncated description', { key: ctx.groupKey, max_runes: MAX_V1_DESCRIPTION_RUNES });
        const serviceKey = r.text(secret(c.service_key, c.service_key_file));
        if (serviceKey === '') throw new Error('service key cannot be empty');
        msg = {
          service_key: serviceKey,
          incident_key: key,
          event_type: eventType,
          description: omit(description),
          event_action: '',
          payload: null,
          client: eventType === 'trigger' ? omit(r.text(c.client)) : undefined,
          client_url: eventType === 'trigger' ? omit(r.text(c.client_url)) : undefined,
          details: omit(rendered),
        };
        url = PAGERDUTY_ENDPOINTS.v1;
      } else {
        const [summary, cut] = truncateInRunes(r.text(c.description), MAX_V2_SUMMARY_RUNES);
        if (cut) ctx.logger.warn('Truncated summary', { key: ctx.groupKey, max_runes: MAX_V2_SUMMARY_RUNES });
        const routingKey = r.text(secret(c.routing_key, c.routing_key_file));
        const payload = {
          summary,
          source: r.text(c.source),
          severity: r.text(nonEmpty(c.severity) ? c.severity : 'error'),
          class: omit(r.text(c.class)),
          component: omit(r.text(c.component)),
          group: omit(r.text(c.group)),
          custom_details: omit(rendered),
        };
        const images = (c.images ?? []).map((i) => ({ src: r.text(i.src), alt: r.text(i.alt), href: r.text(i.href) })).filter((i) => i.src !== '');
        const links = (c.links ?? []).map((l) => ({ href: r.text(l.href), text: r.text(l.text) })).filter((l) => l.href !== '');
        if (routingKey === '') throw new Error('routing key cannot be empty');
        msg = {
          routing_key: routingKey,
          dedup_key: key,
          event_action: eventType,
          payload,
          client: omit(r.text(c.client)),
          client_url: omit(r.text(c.client_url)),
          images: omit(images),
          links: omit(links),
        };
        url = c.url as string;
      }
      let body = goJson(msg) + '\n';
      if (Buffer.byteLength(body) > MAX_EVENT_SIZE) {
        const note = { error: 'Custom details have been removed because the original event exceeds the maximum size of 512kB' };
        ctx.logger.warn(`Truncated Details because message of size ${Math.round(Buffer.byteLength(body) / 1000)}kB exceeds limit 512kB`);
        if (v1) msg.details = note;
        else (msg.payload as Record<string, unknown>).custom_details = note;
        body = goJson(msg) + '\n';
      }
      await send(ctx, c.http_config, url, body, { checkUrl: deps.checkUrl, retryCodes, details, timeoutMs });
    },
  };
}

registerIntegration({ key: 'pagerduty_configs', name: 'pagerduty', sendResolvedDefault: true, validate: validatePagerduty, create: createPagerduty });
