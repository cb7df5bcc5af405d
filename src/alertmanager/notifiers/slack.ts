// slack.ts is the Slack integration: one attachment (title, text, fields,
// actions, color ...) posted to an incoming-webhook URL or, with an app
// token, to chat.postMessage, as Alertmanager 0.35's slack notifier.

import { parseDuration } from '../../config/duration.js';
import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inherit, setDefaults, tmplRef } from './defaults.js';
import { goDurationMs, goJson, nonEmpty, omit, renderer, secret, send, truncateInRunes, urlError, timeoutError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_TITLE_RUNES = 1024;

interface SlackField {
  title?: string;
  value?: string;
  short?: boolean;
}

interface SlackAction {
  type?: string;
  text?: string;
  url?: string;
  style?: string;
  name?: string;
  value?: string;
  confirm?: { text?: string; title?: string; ok_text?: string; dismiss_text?: string };
}

/** SlackConfig is one entry of slack_configs. */
export interface SlackConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  api_url_file?: string;
  app_token?: string;
  app_token_file?: string;
  app_url?: string;
  channel?: string;
  username?: string;
  color?: string;
  title?: string;
  title_link?: string;
  pretext?: string;
  text?: string;
  message_text?: string;
  fields?: SlackField[];
  short_fields?: boolean;
  footer?: string;
  fallback?: string;
  callback_id?: string;
  icon_emoji?: string;
  icon_url?: string;
  image_url?: string;
  thumb_url?: string;
  link_names?: boolean;
  mrkdwn_in?: string[];
  actions?: SlackAction[];
  update_message?: boolean;
  timeout?: string;
}

const SLACK_DEFAULTS: Record<string, unknown> = {
  color: tmplRef('slack.default.color'),
  username: tmplRef('slack.default.username'),
  title: tmplRef('slack.default.title'),
  title_link: tmplRef('slack.default.titlelink'),
  icon_emoji: tmplRef('slack.default.iconemoji'),
  icon_url: tmplRef('slack.default.iconurl'),
  pretext: tmplRef('slack.default.pretext'),
  text: tmplRef('slack.default.text'),
  fallback: tmplRef('slack.default.fallback'),
  callback_id: tmplRef('slack.default.callbackid'),
  footer: tmplRef('slack.default.footer'),
};

function validateSlack(entry: Record<string, unknown>, global: Record<string, unknown>): string | undefined {
  setDefaults(entry, SLACK_DEFAULTS);
  const c = entry as SlackConfig;
  for (const f of c.fields ?? []) {
    if (!nonEmpty(f.title)) return 'missing title in Slack field configuration';
    if (!nonEmpty(f.value)) return 'missing value in Slack field configuration';
  }
  for (const a of c.actions ?? []) {
    if (!nonEmpty(a.type)) return 'missing type in Slack action configuration';
    if (!nonEmpty(a.text)) return 'missing text in Slack action configuration';
    if (nonEmpty(a.url)) {
      delete a.name;
      delete a.value;
      delete a.confirm;
    } else if (!nonEmpty(a.name)) return 'missing name or url in Slack action configuration';
    if (a.confirm !== undefined && !nonEmpty(a.confirm.text)) return 'missing text in Slack confirmation configuration';
  }
  if (c.api_url !== undefined && nonEmpty(c.api_url_file)) return 'at most one of api_url & api_url_file must be configured';
  if (nonEmpty(c.app_token) && nonEmpty(c.app_token_file)) return 'at most one of app_token & app_token_file must be configured';
  if ((c.api_url !== undefined || nonEmpty(c.api_url_file)) && (nonEmpty(c.app_token) || nonEmpty(c.app_token_file)))
    return 'at most one of api_url/api_url_file & app_token/app_token_file must be configured';
  if (c.update_message === true && c.api_url !== 'https://slack.com/api/chat.postMessage')
    return 'update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage';
  inherit(entry, 'app_url', global, 'slack_app_url');
  const hasAuthorization = c.http_config?.authorization !== undefined;
  if (!nonEmpty(c.app_token) && !nonEmpty(c.app_token_file) && !hasAuthorization && c.api_url === undefined) {
    if (nonEmpty(global.slack_app_token)) c.app_token = global.slack_app_token;
    if (nonEmpty(global.slack_app_token_file)) c.app_token_file = global.slack_app_token_file;
  }
  if (c.api_url === undefined && !nonEmpty(c.api_url_file)) {
    if (nonEmpty(global.slack_api_url)) c.api_url = global.slack_api_url;
    if (nonEmpty(global.slack_api_url_file)) c.api_url_file = global.slack_api_url_file;
  }
  if (c.api_url === undefined && !nonEmpty(c.api_url_file) && !nonEmpty(c.app_token) && !nonEmpty(c.app_token_file))
    return 'no Slack API URL nor App token set either inline or in a file';
  if (c.http_config === undefined && global.http_config !== undefined) c.http_config = { ...(global.http_config as HTTPClientConfig) };
  if (nonEmpty(c.app_token) || nonEmpty(c.app_token_file)) {
    if (c.http_config?.authorization !== undefined) return "http authorization can't be set when using Slack App tokens";
    c.http_config = { ...(c.http_config ?? {}), authorization: { type: 'Bearer', credentials: c.app_token ?? '', credentials_file: c.app_token_file } };
    c.api_url = c.app_url;
  }
  if (c.api_url !== undefined) {
    const e = urlError(c.api_url, 'api_url');
    if (e !== undefined) return e;
  }
  const te = timeoutError(c.timeout);
  if (te !== undefined) return te;
  return validateHttpConfig(c.http_config);
}

function createSlack(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as SlackConfig;
  const timeoutMs = goDurationMs(c.timeout, parseDuration);
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const [title, cut] = truncateInRunes(r.text(c.title), MAX_TITLE_RUNES);
      if (cut) ctx.logger.warn('Truncated title', { max_runes: MAX_TITLE_RUNES });
      const attachment = {
        title: omit(title),
        title_link: omit(r.text(c.title_link)),
        pretext: omit(r.text(c.pretext)),
        text: r.text(c.text),
        fallback: r.text(c.fallback),
        callback_id: r.text(c.callback_id),
        fields: omit(
          (c.fields ?? []).map((f) => ({ title: omit(r.text(f.title)), value: omit(r.text(f.value)), short: f.short ?? c.short_fields === true })),
        ),
        actions: omit(
          (c.actions ?? []).map((a) => ({
            type: omit(r.text(a.type)),
            text: omit(r.text(a.text)),
            url: omit(r.text(a.url)),
            style: omit(r.text(a.style)),
            name: omit(r.text(a.name)),
            value: omit(r.text(a.value)),
            confirm:
              a.confirm === undefined
                ? undefined
                : { text: omit(r.text(a.confirm.text)), title: omit(r.text(a.confirm.title)), ok_text: omit(r.text(a.confirm.ok_text)), dismiss_text: omit(r.text(a.confirm.dismiss_text)) },
          })),
        ),
        image_url: omit(r.text(c.image_url)),
        thumb_url: omit(r.text(c.thumb_url)),
        footer: r.text(c.footer),
        color: omit(r.text(c.color)),
        mrkdwn_in: c.mrkdwn_in !== undefined && c.mrkdwn_in.length > 0 ? c.mrkdwn_in : ['fallback', 'pretext', 'text'],
      };
      const channel = r.text(c.channel);
      // The message fields, then the channel (0.35 embeds the message struct before channel).
      const req = {
        username: omit(r.text(c.username)),
        icon_emoji: omit(r.text(c.icon_emoji)),
        icon_url: omit(r.text(c.icon_url)),
        link_names: omit(c.link_names === true),
        text: omit(r.text(c.message_text)),
        attachments: [attachment],
        channel: omit(channel),
      };
      const url = c.api_url !== undefined ? c.api_url : secret(undefined, c.api_url_file);
      let res;
      try {
        res = await send(ctx, c.http_config, url, goJson(req) + '\n', { checkUrl: deps.checkUrl, timeoutMs, retryCodes: [429], rateLimitedBy: 'Slack' });
      } catch (err) {
        if (err instanceof NotifyError && err.message.startsWith('unexpected status')) throw new NotifyError(`channel ${JSON.stringify(channel)}: ${err.message}`, err.retry, err.retryAfterMs);
        throw err;
      }
      const body = res.body.toString('utf8');
      if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) {
        if (body !== 'ok') throw new NotifyError(`channel ${JSON.stringify(channel)}: received an error response from Slack: ${body}`, false);
        return;
      }
      let parsed: { ok?: boolean; error?: string };
      try {
        parsed = JSON.parse(body) as { ok?: boolean; error?: string };
      } catch (err) {
        throw new NotifyError(`channel ${JSON.stringify(channel)}: could not unmarshal JSON response ${JSON.stringify(body)}: ${(err as Error).message}`, true);
      }
      if (parsed.ok !== true) throw new NotifyError(`channel ${JSON.stringify(channel)}: error response from Slack: ${parsed.error ?? ''}`, false);
    },
  };
}

registerIntegration({ key: 'slack_configs', name: 'slack', sendResolvedDefault: false, validate: validateSlack, create: createSlack });
