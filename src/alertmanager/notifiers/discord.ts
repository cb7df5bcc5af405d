// discord.ts is the Discord integration: one embed (title, description,
// status color) posted to a webhook URL, as Alertmanager 0.35's discord notifier.

import { alertStatus, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goJson, nonEmpty, omit, renderer, secret, send, truncateInRunes, urlError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_TITLE_RUNES = 256;
const MAX_DESCRIPTION_RUNES = 4096;
const MAX_CONTENT_RUNES = 2000;
const COLOR_RED = 0x992d22;
const COLOR_GREEN = 0x2ecc71;

/** DiscordConfig is one entry of discord_configs. */
export interface DiscordConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  webhook_url?: string;
  webhook_url_file?: string;
  content?: string;
  title?: string;
  message?: string;
  username?: string;
  avatar_url?: string;
}

/** validateWebhookUrlPair checks webhook_url / webhook_url_file as the discord, msteams and msteamsv2 configs do. */
export function validateWebhookUrlPair(c: { webhook_url?: string; webhook_url_file?: string }): string | undefined {
  if (c.webhook_url === undefined && !nonEmpty(c.webhook_url_file)) return 'one of webhook_url or webhook_url_file must be configured';
  if (c.webhook_url !== undefined && nonEmpty(c.webhook_url_file)) return 'at most one of webhook_url & webhook_url_file must be configured';
  return c.webhook_url !== undefined ? urlError(c.webhook_url, 'webhook_url') : undefined;
}

/** webhookUrl returns the configured URL or reads it from the file. */
export function webhookUrl(c: { webhook_url?: string; webhook_url_file?: string }): string {
  if (c.webhook_url !== undefined) return c.webhook_url;
  try {
    return secret(undefined, c.webhook_url_file);
  } catch (err) {
    throw new Error(`read webhook_url_file: ${(err as Error).message}`);
  }
}

function createDiscord(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as DiscordConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const [title, t1] = truncateInRunes(r.text(c.title), MAX_TITLE_RUNES);
      if (t1) ctx.logger.warn('Truncated title', { max_runes: MAX_TITLE_RUNES });
      const [description, t2] = truncateInRunes(r.text(c.message), MAX_DESCRIPTION_RUNES);
      if (t2) ctx.logger.warn('Truncated message', { max_runes: MAX_DESCRIPTION_RUNES });
      const [content, t3] = truncateInRunes(r.text(c.content), MAX_CONTENT_RUNES);
      if (t3) ctx.logger.warn('Truncated message', { max_runes: MAX_CONTENT_RUNES });
      const firing = alerts.some((a) => alertStatus(a, ctx.now) === 'firing');
      const url = webhookUrl(c);
      const w = {
        content,
        embeds: [{ title, description, color: firing ? COLOR_RED : COLOR_GREEN }],
        username: omit(c.username ?? ''),
        avatar_url: omit(c.avatar_url ?? ''),
      };
      await send(ctx, c.http_config, url, goJson(w) + '\n', { checkUrl: deps.checkUrl, retryCodes: [429] });
    },
  };
}

registerIntegration({
  key: 'discord_configs',
  name: 'discord',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { title: tmplRef('discord.default.title'), message: tmplRef('discord.default.message') });
    const e = validateWebhookUrlPair(entry as DiscordConfig);
    if (e !== undefined) return e;
    inheritHttp(entry, global);
    return validateHttpConfig((entry as DiscordConfig).http_config);
  },
  create: createDiscord,
});
