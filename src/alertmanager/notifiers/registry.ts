// registry.ts maps each receiver configuration key (`webhook_configs`,
// `slack_configs`, ...) to its integration: how a config entry is defaulted and
// validated when a tenant's configuration is accepted, and how a Notifier is
// built from it when the configuration is applied. Integrations register
// themselves at import (see notifiers/index.ts).

import type { Logger } from '../../log.js';
import type { HTTPClientConfig, Notifier } from './notifier.js';

/** GlobalConfig is the `global:` block of an Alertmanager configuration (defaults shared by receivers). */
export type GlobalConfig = Record<string, unknown> & {
  resolve_timeout?: string;
  http_config?: HTTPClientConfig;
};

/** UrlChecker refuses receiver URLs blocked by the -alertmanager.receivers-firewall-* flags (throws with the reason). */
export type UrlChecker = (url: string) => void;

/** IntegrationDeps is what a factory may use. */
export interface IntegrationDeps {
  logger: Logger;
  /** checkUrl is the receiver firewall, applied before every request. */
  checkUrl: UrlChecker;
}

/** IntegrationDef describes one integration kind. */
export interface IntegrationDef {
  /** key is the receiver's YAML key, e.g. `webhook_configs`. */
  key: string;
  /** name is the integration's name in metrics and logs, e.g. `webhook`. */
  name: string;
  /** sendResolvedDefault is send_resolved when the entry does not set it. */
  sendResolvedDefault: boolean;
  /**
   * validate fills the entry's defaults (from global where Alertmanager does)
   * in place and returns the error text Alertmanager's config loader gives, or
   * undefined when the entry is valid.
   */
  validate(entry: Record<string, unknown>, global: GlobalConfig): string | undefined;
  /** create builds a notifier from a validated entry. */
  create(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier;
}

const DEFS = new Map<string, IntegrationDef>();

/** registerIntegration adds an integration kind (one call per notifiers/<name>.ts). */
export function registerIntegration(def: IntegrationDef): void {
  DEFS.set(def.key, def);
}

/** integrationFor returns the integration of a receiver key, if any is registered. */
export function integrationFor(key: string): IntegrationDef | undefined {
  return DEFS.get(key);
}

/** RECEIVER_KEYS are every `*_configs` key Alertmanager 0.35's receiver accepts. */
export const RECEIVER_KEYS: readonly string[] = [
  'discord_configs',
  'email_configs',
  'incidentio_configs',
  'jira_configs',
  'msteams_configs',
  'msteamsv2_configs',
  'mattermost_configs',
  'opsgenie_configs',
  'pagerduty_configs',
  'pushover_configs',
  'rocketchat_configs',
  'slack_configs',
  'sns_configs',
  'telegram_configs',
  'victorops_configs',
  'webex_configs',
  'webhook_configs',
  'wechat_configs',
];
