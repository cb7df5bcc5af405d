// pushover.ts is the Pushover integration: the message as form parameters
// in the query of a POST to the messages API, as Alertmanager 0.35.

import { parseDuration } from '../../config/duration.js';
import { validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goDurationMs, nonEmpty, renderer, secret, send, truncateInRunes } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_TITLE_RUNES = 250;
const MAX_MESSAGE_RUNES = 1024;
const MAX_URL_RUNES = 512;

/** PUSHOVER_ENDPOINTS holds the fixed API URL (tests point it at a local sink). */
export const PUSHOVER_ENDPOINTS = { api: 'https://api.pushover.net/1/messages.json' };

/** PushoverConfig is one entry of pushover_configs. */
export interface PushoverConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  user_key?: string;
  user_key_file?: string;
  token?: string;
  token_file?: string;
  title?: string;
  message?: string;
  url?: string;
  url_title?: string;
  device?: string;
  sound?: string;
  priority?: string;
  retry?: string;
  expire?: string;
  ttl?: string;
  html?: boolean;
  monospace?: boolean;
}

/** goQueryEscape encodes as Go's url.QueryEscape (space as +). */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

function createPushover(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as PushoverConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const p: Array<[string, string]> = [];
      p.push(['token', r.text(secret(c.token, c.token_file, false))]);
      p.push(['user', r.text(secret(c.user_key, c.user_key_file, false))]);
      const [title, t1] = truncateInRunes(r.text(c.title), MAX_TITLE_RUNES);
      if (t1) ctx.logger.warn('Truncated title', { incident: ctx.groupKey, max_runes: MAX_TITLE_RUNES });
      p.push(['title', title]);
      let message: string;
      if (c.html === true) {
        p.push(['html', '1']);
        message = r.html(c.message);
      } else message = r.text(c.message);
      if (c.monospace === true) p.push(['monospace', '1']);
      const [m, t2] = truncateInRunes(message, MAX_MESSAGE_RUNES);
      if (t2) ctx.logger.warn('Truncated message', { incident: ctx.groupKey, max_runes: MAX_MESSAGE_RUNES });
      message = m.trim();
      p.push(['message', message === '' ? '(no details)' : message]);
      const [url, t3] = truncateInRunes(r.text(c.url), MAX_URL_RUNES);
      if (t3) ctx.logger.warn('Truncated URL', { incident: ctx.groupKey, max_runes: MAX_URL_RUNES });
      p.push(['url', url]);
      p.push(['url_title', r.text(c.url_title)]);
      p.push(['priority', r.text(c.priority)]);
      p.push(['retry', String(Math.trunc(goDurationMs(c.retry, parseDuration) / 1000))]);
      p.push(['expire', String(Math.trunc(goDurationMs(c.expire, parseDuration) / 1000))]);
      p.push(['device', r.text(c.device)]);
      p.push(['sound', r.text(c.sound)]);
      const ttl = Math.trunc(goDurationMs(c.ttl, parseDuration) / 1000);
      if (ttl > 0) p.push(['ttl', String(ttl)]);
      // url.Values.Encode sorts by key.
      p.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const u = new URL(PUSHOVER_ENDPOINTS.api);
      const query = p.map(([k, v]) => `${goQueryEscape(k)}=${goQueryEscape(v)}`).join('&');
      await send(ctx, c.http_config, `${u.origin}${u.pathname}?${query}`, undefined, { checkUrl: deps.checkUrl, contentType: 'text/plain' });
    },
  };
}

registerIntegration({
  key: 'pushover_configs',
  name: 'pushover',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, {
      title: tmplRef('pushover.default.title'),
      message: tmplRef('pushover.default.message'),
      url: tmplRef('pushover.default.url'),
      priority: '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}',
      retry: '1m',
      expire: '1h',
      html: false,
    });
    const c = entry as PushoverConfig;
    if (!nonEmpty(c.user_key) && !nonEmpty(c.user_key_file)) return 'one of user_key or user_key_file must be configured';
    if (nonEmpty(c.user_key) && nonEmpty(c.user_key_file)) return 'at most one of user_key & user_key_file must be configured';
    if (!nonEmpty(c.token) && !nonEmpty(c.token_file)) return 'one of token or token_file must be configured';
    if (nonEmpty(c.token) && nonEmpty(c.token_file)) return 'at most one of token & token_file must be configured';
    if (c.html === true && c.monospace === true) return 'at most one of monospace & html must be configured';
    for (const k of ['retry', 'expire', 'ttl'] as const) {
      if (c[k] === undefined) continue;
      try {
        parseDuration(String(c[k]));
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }
    inheritHttp(entry, global);
    return validateHttpConfig(c.http_config);
  },
  create: createPushover,
});
