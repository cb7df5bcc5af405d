// mattermost.ts is the Mattermost integration: an incoming-webhook message
// with one attachment built from the entry's fields (or the configured
// attachments), priority and card props, as Alertmanager 0.35's mattermost
// notifier sends it.

import { NotifyError, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goJson, nonEmpty, omit, renderer, secret, send, truncateInRunes, urlError, type Renderer } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_TEXT_RUNES = 16383;

interface MattermostField {
  title?: string;
  value?: string;
  short?: boolean;
}

interface MattermostAttachment {
  fallback?: string;
  color?: string;
  pretext?: string;
  text?: string;
  author_name?: string;
  author_link?: string;
  author_icon?: string;
  title?: string;
  title_link?: string;
  fields?: MattermostField[];
  thumb_url?: string;
  footer?: string;
  footer_icon?: string;
  image_url?: string;
}

/** MattermostConfig is one entry of mattermost_configs. */
export interface MattermostConfig extends MattermostAttachment {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  webhook_url?: string;
  webhook_url_file?: string;
  channel?: string;
  username?: string;
  icon_url?: string;
  icon_emoji?: string;
  attachments?: MattermostAttachment[];
  type?: string;
  props?: { card?: string };
  priority?: { priority?: string; requested_ack?: boolean; persistent_notifications?: boolean };
}

function validateMattermost(entry: Record<string, unknown>, global: Record<string, unknown>): string | undefined {
  setDefaults(entry, {
    username: tmplRef('mattermost.default.username'),
    color: tmplRef('mattermost.default.color'),
    text: tmplRef('mattermost.default.text'),
    title: tmplRef('mattermost.default.title'),
    title_link: tmplRef('mattermost.default.titlelink'),
    fallback: tmplRef('mattermost.default.fallback'),
  });
  const c = entry as MattermostConfig;
  for (const f of [...(c.fields ?? []), ...(c.attachments ?? []).flatMap((a) => a.fields ?? [])]) {
    if (!nonEmpty(f.title)) return 'missing title in Mattermost field configuration';
    if (!nonEmpty(f.value)) return 'missing value in Mattermost field configuration';
  }
  if (c.webhook_url !== undefined && nonEmpty(c.webhook_url_file)) return 'at most one of webhook_url & webhook_url_file must be configured';
  inheritHttp(entry, global);
  if (c.webhook_url === undefined && !nonEmpty(c.webhook_url_file)) {
    if (global.mattermost_webhook_url === undefined && !nonEmpty(global.mattermost_webhook_url_file)) return 'missing webhook_url or webhook_url_file on mattermost_config';
    if (global.mattermost_webhook_url !== undefined) c.webhook_url = String(global.mattermost_webhook_url);
    if (nonEmpty(global.mattermost_webhook_url_file)) c.webhook_url_file = global.mattermost_webhook_url_file;
  }
  if (c.webhook_url !== undefined) {
    const e = urlError(c.webhook_url, 'webhook_url');
    if (e !== undefined) return e;
  }
  return validateHttpConfig(c.http_config);
}

function attachment(a: MattermostAttachment, r: Renderer, text: string): Record<string, unknown> {
  return {
    fallback: omit(r.text(a.fallback)),
    color: omit(r.text(a.color)),
    pretext: omit(r.text(a.pretext)),
    text: omit(text),
    author_name: omit(r.text(a.author_name)),
    author_link: omit(r.text(a.author_link)),
    author_icon: omit(r.text(a.author_icon)),
    title: omit(r.text(a.title)),
    title_link: omit(r.text(a.title_link)),
    fields: omit((a.fields ?? []).map((f) => ({ title: omit(r.text(f.title)), value: omit(r.text(f.value)), short: f.short }))),
    thumb_url: omit(r.text(a.thumb_url)),
    footer: omit(r.text(a.footer)),
    footer_icon: omit(r.text(a.footer_icon)),
    image_url: omit(r.text(a.image_url)),
  };
}

const PRIORITIES = ['urgent', 'important', 'standard'];

function createMattermost(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as MattermostConfig;
  return {
    async notify(ctx, alerts) {
      const url = c.webhook_url !== undefined ? c.webhook_url : secret(undefined, c.webhook_url_file);
      if (url === '') throw new Error('webhook url missing');
      const r = renderer(ctx, alerts);
      const text = r.text(c.text);
      const configured = c.attachments ?? [];
      // With attachments configured each renders its own text and the message carries the text; else one attachment holds it.
      let msgText = '';
      const attachments = configured.length > 0 ? configured.map((a) => attachment(a, r, r.text(a.text))) : [attachment(c, r, text)];
      if (configured.length > 0) msgText = text;
      const [cut, truncated] = truncateInRunes(msgText, MAX_TEXT_RUNES);
      if (truncated) {
        ctx.logger.warn('Truncated text', { key: ctx.groupKey, max_runes: MAX_TEXT_RUNES });
        msgText = cut;
      }
      let priority: Record<string, unknown> | undefined;
      if (c.priority !== undefined && nonEmpty(c.priority.priority)) {
        let p = r.text(c.priority.priority).toLowerCase();
        let ack = c.priority.requested_ack === true;
        let persistent = c.priority.persistent_notifications === true;
        if (!PRIORITIES.includes(p)) {
          ctx.logger.warn('Priority is set to standard due to invalid value', { key: ctx.groupKey, priority: p });
          p = 'standard';
        }
        if (ack && p === 'standard') {
          ctx.logger.warn('RequestedAck is set to false due to priority is standard', { key: ctx.groupKey });
          ack = false;
        }
        if (persistent && p !== 'urgent') {
          ctx.logger.warn('PersistentNotifications is set to false due to priority is not urgent', { key: ctx.groupKey });
          persistent = false;
        }
        priority = { priority: p, requested_ack: omit(ack), persistent_notifications: omit(persistent) };
      }
      const channel = r.text(c.channel);
      const req = {
        text: omit(msgText),
        channel: omit(channel),
        username: omit(r.text(c.username)),
        icon_url: omit(r.text(c.icon_url)),
        icon_emoji: omit(r.text(c.icon_emoji)),
        attachments: omit(attachments),
        type: omit(r.text(c.type)),
        props: c.props !== undefined && nonEmpty(c.props.card) ? { card: omit(r.text(c.props.card)) } : undefined,
        priority,
      };
      try {
        await send(ctx, c.http_config, url, goJson(req) + '\n', { checkUrl: deps.checkUrl });
      } catch (err) {
        if (err instanceof NotifyError && err.message.startsWith('unexpected status')) throw new NotifyError(`channel ${JSON.stringify(channel)}: ${err.message}`, err.retry, err.retryAfterMs);
        throw err;
      }
    },
  };
}

registerIntegration({ key: 'mattermost_configs', name: 'mattermost', sendResolvedDefault: true, validate: validateMattermost, create: createMattermost });
