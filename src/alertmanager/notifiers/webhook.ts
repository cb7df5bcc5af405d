// webhook.ts is the generic webhook integration: it posts Alertmanager's
// payload version 4 (template.Data plus version, groupKey and
// truncatedAlerts) as JSON to `url`, honouring `max_alerts` and `timeout`.

import { readFileSync } from 'node:fs';
import { goJsonString } from '../../distributor/otlp.js';
import { parseDuration } from '../../config/duration.js';
import { buildTemplateData, goTimeOf, kvJson, validateHttpConfig, type HTTPClientConfig, type Notifier, type TemplateData } from './notifier.js';
import { send, timeoutError, urlError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

/** WebhookConfig is one entry of webhook_configs. */
export interface WebhookConfig {
  send_resolved?: boolean;
  url?: string;
  url_file?: string;
  http_config?: HTTPClientConfig;
  max_alerts?: number;
  timeout?: string;
}

/** webhookPayload renders the version 4 message as Alertmanager's Go encoder writes it (field order, sorted maps). */
export function webhookPayload(data: TemplateData, maxAlerts: number): string {
  let alerts = data.Alerts as TemplateData['Alerts'] | TemplateData['Alerts'][number][];
  let truncated = 0;
  if (maxAlerts > 0 && alerts.length > maxAlerts) {
    truncated = alerts.length - maxAlerts;
    alerts = alerts.slice(0, maxAlerts);
  }
  const alertJson = alerts
    .map(
      (a) =>
        `{"status":"${a.Status}","labels":${kvJson(a.Labels)},"annotations":${kvJson(a.Annotations)},"startsAt":"${goTimeOf(a.StartsAt)}","endsAt":"${goTimeOf(a.EndsAt)}",` +
        `"generatorURL":${goJsonString(a.GeneratorURL)},"fingerprint":"${a.Fingerprint}"}`,
    )
    .join(',');
  return (
    `{"receiver":${goJsonString(data.Receiver)},"status":"${data.Status}","alerts":[${alertJson}],"groupLabels":${kvJson(data.GroupLabels)},` +
    `"commonLabels":${kvJson(data.CommonLabels)},"commonAnnotations":${kvJson(data.CommonAnnotations)},"externalURL":${goJsonString(data.ExternalURL)},` +
    `"version":"4","groupKey":${goJsonString(data.GroupKey)},"truncatedAlerts":${truncated}}\n`
  );
}

function createWebhook(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const cfg = entry as WebhookConfig;
  const timeoutMs = cfg.timeout !== undefined && cfg.timeout !== '' ? parseDuration(cfg.timeout) : 0;
  return {
    async notify(ctx, alerts) {
      const url = cfg.url_file !== undefined && cfg.url_file !== '' ? readFileSync(cfg.url_file, 'utf8').trim() : (cfg.url as string);
      deps.checkUrl(url);
      const data = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, alerts, ctx.externalURL, ctx.now);
      const body = webhookPayload(data, cfg.max_alerts ?? 0);
      await send(ctx, cfg.http_config, url, body, { timeoutMs });
    },
  };
}

registerIntegration({
  key: 'webhook_configs',
  name: 'webhook',
  sendResolvedDefault: true,
  validate(entry, global) {
    const cfg = entry as WebhookConfig;
    if (cfg.http_config === undefined && global.http_config !== undefined) cfg.http_config = global.http_config;
    const hasUrl = cfg.url !== undefined && cfg.url !== '';
    const hasFile = cfg.url_file !== undefined && cfg.url_file !== '';
    if (!hasUrl && !hasFile) return 'one of url or url_file must be configured';
    if (hasUrl && hasFile) return 'at most one of url & url_file must be configured';
    if (hasUrl) {
      const e = urlError(cfg.url, 'url');
      if (e !== undefined) return e;
    }
    if (cfg.max_alerts !== undefined && (!Number.isInteger(cfg.max_alerts) || cfg.max_alerts < 0)) return 'max_alerts must be a non-negative integer';
    const te = timeoutError(cfg.timeout);
    if (te !== undefined) return te;
    return validateHttpConfig(cfg.http_config);
  },
  create: createWebhook,
});
