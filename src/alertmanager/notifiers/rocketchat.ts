// rocketchat.ts is the Rocket.Chat integration: chat.postMessage with one
// attachment, authenticated by X-Auth-Token / X-User-Id, as Alertmanager 0.35.

import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, globalString, setDefaults, tmplRef } from './defaults.js';
import { goJson, nonEmpty, omit, renderer, secret, send, truncateInRunes, urlError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_TITLE_RUNES = 1024;

/** RocketchatConfig is one entry of rocketchat_configs. */
export interface RocketchatConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  token_id?: string;
  token_id_file?: string;
  token?: string;
  token_file?: string;
  channel?: string;
  color?: string;
  title?: string;
  title_link?: string;
  text?: string;
  fields?: Array<{ short?: boolean; title?: string; value?: string }>;
  short_fields?: boolean;
  emoji?: string;
  icon_url?: string;
  image_url?: string;
  thumb_url?: string;
  link_names?: boolean;
  actions?: Array<{ text?: string; url?: string; msg?: string }>;
}

function createRocketchat(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as RocketchatConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const token = secret(c.token, c.token_file);
      const tokenId = secret(c.token_id, c.token_id_file);
      const [title, cut] = truncateInRunes(r.text(c.title), MAX_TITLE_RUNES);
      if (cut) ctx.logger.warn('Truncated title', { max_runes: MAX_TITLE_RUNES });
      const action = (a: { text?: string; url?: string; msg?: string }): Record<string, unknown> => ({
        type: 'button',
        text: omit(r.text(a.text)),
        url: omit(r.text(a.url)),
        is_webview: false,
        msg: omit(r.text(a.msg)),
        msg_in_chat_window: false,
      });
      const att = {
        title: omit(title),
        title_link: omit(r.text(c.title_link)),
        text: omit(r.text(c.text)),
        image_url: omit(r.text(c.image_url)),
        thumb_url: omit(r.text(c.thumb_url)),
        color: omit(r.text(c.color)),
        fields: omit((c.fields ?? []).map((f) => ({ short: f.short ?? c.short_fields === true, title: omit(r.text(f.title)), value: omit(r.text(f.value)) }))),
        actions: omit((c.actions ?? []).map(action)),
      };
      const channel = r.text(c.channel);
      const body = { channel: omit(channel), emoji: omit(r.text(c.emoji)), avatar: omit(r.text(c.icon_url)), attachments: [att] };
      const url = new URL('api/v1/chat.postMessage', (c.api_url as string).endsWith('/') ? c.api_url : `${c.api_url}/`).toString();
      let res;
      try {
        res = await send(ctx, c.http_config, url, goJson(body) + '\n', { checkUrl: deps.checkUrl, headers: { 'X-Auth-Token': token, 'X-User-Id': tokenId } });
      } catch (err) {
        if (err instanceof NotifyError && err.message.startsWith('unexpected status')) throw new NotifyError(`channel ${JSON.stringify(channel)}: ${err.message}`, err.retry);
        throw err;
      }
      const text = res.body.toString('utf8');
      let answer: { success?: boolean; error?: string };
      try {
        answer = JSON.parse(text) as { success?: boolean; error?: string };
      } catch (err) {
        throw new NotifyError(`channel ${JSON.stringify(channel)}: could not unmarshal JSON response ${JSON.stringify(text)}: ${(err as Error).message}`, true);
      }
      if (answer.success !== true) throw new NotifyError(`channel ${JSON.stringify(channel)}: error response from Rocketchat: ${answer.error ?? ''}`, false);
    },
  };
}

registerIntegration({
  key: 'rocketchat_configs',
  name: 'rocketchat',
  sendResolvedDefault: false,
  validate(entry, global) {
    setDefaults(entry, {
      color: '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}',
      emoji: tmplRef('rocketchat.default.emoji'),
      icon_url: tmplRef('rocketchat.default.iconurl'),
      text: tmplRef('rocketchat.default.text'),
      title: tmplRef('rocketchat.default.title'),
      title_link: tmplRef('rocketchat.default.titlelink'),
    });
    const c = entry as RocketchatConfig;
    if (c.token !== undefined && nonEmpty(c.token_file)) return 'at most one of token & token_file must be configured';
    if (c.token_id !== undefined && nonEmpty(c.token_id_file)) return 'at most one of token_id & token_id_file must be configured';
    inheritHttp(entry, global);
    if (c.api_url === undefined) c.api_url = globalString(global, 'rocketchat_api_url');
    const e = urlError(c.api_url, 'api_url');
    if (e !== undefined) return e;
    if (c.token_id === undefined && nonEmpty(global.rocketchat_token_id)) c.token_id = global.rocketchat_token_id;
    if (!nonEmpty(c.token_id_file) && nonEmpty(global.rocketchat_token_id_file)) c.token_id_file = global.rocketchat_token_id_file;
    if (c.token_id === undefined && !nonEmpty(c.token_id_file)) return 'no global Rocketchat TokenID set either inline or in a file';
    if (c.token === undefined && nonEmpty(global.rocketchat_token)) c.token = global.rocketchat_token;
    if (!nonEmpty(c.token_file) && nonEmpty(global.rocketchat_token_file)) c.token_file = global.rocketchat_token_file;
    if (c.token === undefined && !nonEmpty(c.token_file)) return 'no global Rocketchat Token set either inline or in a file';
    return validateHttpConfig(c.http_config);
  },
  create: createRocketchat,
});
