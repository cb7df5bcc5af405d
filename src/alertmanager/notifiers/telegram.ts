// telegram.ts is the Telegram integration: sendMessage on the Bot API (as
// the telebot client Alertmanager 0.35 uses sends it: string parameters in a
// JSON object), HTML-escaped templates when parse_mode is HTML.

import { parseDuration } from '../../config/duration.js';
import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inherit, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goDurationMs, goJson, nonEmpty, renderer, secret, send, sortedObject, truncateInRunes, urlError, timeoutError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_MESSAGE_RUNES = 4096;
const MAX_MESSAGE_BYTES = 1 << 15;

/** htmlTextRuneCount counts the characters Telegram sees in an HTML message: text outside tags, an entity as one. */
export function htmlTextRuneCount(message: string): number {
  if (/<!--|<!/i.test(message)) return [...message].length;
  let count = 0;
  for (const part of message.split(/<[^>]*>/)) {
    count += [...part.replace(/&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/g, '_')].length;
  }
  return count;
}

/** TelegramConfig is one entry of telegram_configs. */
export interface TelegramConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  bot_token?: string;
  bot_token_file?: string;
  chat_id?: number;
  chat_id_file?: string;
  message_thread_id?: number;
  message?: string;
  disable_notifications?: boolean;
  parse_mode?: string;
  timeout?: string;
}

function createTelegram(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as TelegramConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      let text: string;
      if (c.parse_mode === 'HTML') {
        text = r.html(c.message);
        if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES || htmlTextRuneCount(text) > MAX_MESSAGE_RUNES)
          text = 'Alertmanager notification could not be sent: message length exceeds Telegram limits.\n\t\t\tPlease check the template used for producing the message content.';
      } else {
        const [t, cut] = truncateInRunes(r.text(c.message), MAX_MESSAGE_RUNES);
        if (cut) ctx.logger.warn('Truncated message', { max_runes: MAX_MESSAGE_RUNES });
        text = t;
      }
      let token: string;
      let chatId: string;
      try {
        token = secret(c.bot_token, c.bot_token_file);
      } catch (err) {
        throw new NotifyError(`could not read ${c.bot_token_file}: ${(err as Error).message}`, true);
      }
      if (nonEmpty(c.chat_id_file)) {
        let raw: string;
        try {
          raw = secret(undefined, c.chat_id_file);
        } catch (err) {
          throw new NotifyError(`could not read ${c.chat_id_file}: ${(err as Error).message}`, true);
        }
        if (!/^[+-]?\d+$/.test(raw)) throw new NotifyError(`could not parse chat_id from ${c.chat_id_file}: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`, true);
        chatId = String(BigInt(raw));
      } else chatId = String(c.chat_id ?? 0);
      const params: Record<string, string> = { chat_id: chatId, text, disable_web_page_preview: 'true' };
      if (c.disable_notifications === true) params.disable_notification = 'true';
      if (nonEmpty(c.parse_mode)) params.parse_mode = c.parse_mode;
      if (c.message_thread_id !== undefined && c.message_thread_id !== 0) params.message_thread_id = String(c.message_thread_id);
      const base = (c.api_url as string).replace(/\/+$/, '');
      let res;
      try {
        res = await send(ctx, c.http_config, `${base}/bot${token}/sendMessage`, goJson(sortedObject(params)) + '\n', {
          checkUrl: deps.checkUrl,
          timeoutMs: goDurationMs(c.timeout, parseDuration),
          // telebot sets no User-Agent: Go's default goes out.
          headers: { 'User-Agent': 'Go-http-client/1.1' },
          errPrefix: `Post "${base}/bot<token>/sendMessage"`,
          details: (_s, body) => telegramError(body),
        });
      } catch (err) {
        // Every client error of the Bot API is retried, as the telebot-based notifier does.
        throw new NotifyError(err instanceof Error ? err.message : String(err), true);
      }
      const answer = telegramAnswer(res.body);
      if (answer.ok !== true) throw new NotifyError(`telegram: ${answer.description ?? 'unknown error'} (${answer.error_code ?? 0})`, true);
    },
  };
}

function telegramAnswer(body: Buffer): { ok?: boolean; description?: string; error_code?: number } {
  try {
    return JSON.parse(body.toString('utf8')) as { ok?: boolean; description?: string; error_code?: number };
  } catch {
    return { ok: false, description: body.toString('utf8') };
  }
}

function telegramError(body: Buffer): string {
  const a = telegramAnswer(body);
  return `telegram: ${a.description ?? ''} (${a.error_code ?? 0})`;
}

registerIntegration({
  key: 'telegram_configs',
  name: 'telegram',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { message: tmplRef('telegram.default.message'), parse_mode: 'HTML', disable_notifications: false });
    const c = entry as TelegramConfig;
    if (nonEmpty(c.bot_token) && nonEmpty(c.bot_token_file)) return 'at most one of bot_token & bot_token_file must be configured';
    if ((c.chat_id === undefined || c.chat_id === 0) && !nonEmpty(c.chat_id_file)) return 'missing chat_id or chat_id_file on telegram_config';
    if (c.chat_id !== undefined && c.chat_id !== 0 && nonEmpty(c.chat_id_file)) return 'at most one of chat_id & chat_id_file must be configured';
    if (c.parse_mode !== '' && c.parse_mode !== 'Markdown' && c.parse_mode !== 'MarkdownV2' && c.parse_mode !== 'HTML')
      return 'unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string';
    const te = timeoutError(c.timeout);
    if (te !== undefined) return te;
    inheritHttp(entry, global);
    inherit(entry, 'api_url', global, 'telegram_api_url');
    if (!nonEmpty(c.bot_token) && !nonEmpty(c.bot_token_file)) {
      if (!nonEmpty(global.telegram_bot_token) && !nonEmpty(global.telegram_bot_token_file)) return 'missing bot_token or bot_token_file on telegram_config';
      c.bot_token = global.telegram_bot_token as string | undefined;
      c.bot_token_file = global.telegram_bot_token_file as string | undefined;
    }
    return urlError(c.api_url, 'api_url') ?? validateHttpConfig(c.http_config);
  },
  create: createTelegram,
});
