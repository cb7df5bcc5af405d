// defaults.ts names the vendor endpoints Alertmanager's DefaultGlobalConfig
// fills in, and reads a global setting with that fallback.

import type { GlobalConfig } from './registry.js';

/** GLOBAL_DEFAULTS are the `global:` URLs and values Alertmanager 0.35 defaults. */
export const GLOBAL_DEFAULTS: Readonly<Record<string, string | boolean>> = {
  smtp_hello: 'localhost',
  smtp_require_tls: true,
  pagerduty_url: 'https://events.pagerduty.com/v2/enqueue',
  opsgenie_api_url: 'https://api.opsgenie.com/',
  wechat_api_url: 'https://qyapi.weixin.qq.com/cgi-bin/',
  victorops_api_url: 'https://alert.victorops.com/integrations/generic/20131114/alert/',
  telegram_api_url: 'https://api.telegram.org',
  webex_api_url: 'https://webexapis.com/v1/messages',
  rocketchat_api_url: 'https://open.rocket.chat/',
  slack_app_url: 'https://slack.com/api/chat.postMessage',
};

/** globalString returns a global setting, its Alertmanager default, or undefined. */
export function globalString(global: GlobalConfig, key: string): string | undefined {
  const v = global[key];
  if (typeof v === 'string' && v !== '') return v;
  const d = GLOBAL_DEFAULTS[key];
  return typeof d === 'string' ? d : undefined;
}

/** inherit sets entry[key] from global[gkey] (or its default) when the entry leaves it unset. */
export function inherit(entry: Record<string, unknown>, key: string, global: GlobalConfig, gkey: string): void {
  if (entry[key] === undefined || entry[key] === '') {
    const v = globalString(global, gkey);
    if (v !== undefined) entry[key] = v;
  }
}

/** inheritHttp gives an entry the global http_config when it has none (as cmp.Or in the config loader). */
export function inheritHttp(entry: Record<string, unknown>, global: GlobalConfig): void {
  if (entry.http_config === undefined && global.http_config !== undefined) entry.http_config = global.http_config;
}

/** setDefaults fills template and value defaults an entry leaves unset. */
export function setDefaults(entry: Record<string, unknown>, defaults: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(defaults)) if (entry[k] === undefined) entry[k] = v;
}

/** tmplRef is the `{{ template "name" . }}` string Alertmanager's config defaults use. */
export function tmplRef(name: string): string {
  return `{{ template "${name}" . }}`;
}
