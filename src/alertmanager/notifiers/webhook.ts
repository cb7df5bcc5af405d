// webhook.ts is the generic webhook integration: it posts Alertmanager's
// payload version 4 (template.Data plus version, groupKey and
// truncatedAlerts) as JSON to `url`, honouring `max_alerts` and `timeout`.

import { readFileSync } from 'node:fs';
import { goJsonString } from '../../distributor/otlp.js';
import { parseDuration } from '../../config/duration.js';
import { buildTemplateData, goTimeOf, kvJson, validateHttpConfig, type HTTPClientConfig, type Notifier, type TemplateData } from './notifier.js';
import { goJson, send, sortedObject, timeoutError, urlError } from './payload.js';
import type { Alert } from '../types.js';
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

/** truncateAlerts keeps the first maxAlerts alerts (0: all) and counts the rest, as the webhook and incident.io notifiers do before building template data. */
export function truncateAlerts(alerts: Alert[], maxAlerts: number): [Alert[], number] {
  if (maxAlerts > 0 && alerts.length > maxAlerts) return [alerts.slice(0, maxAlerts), alerts.length - maxAlerts];
  return [alerts, 0];
}

/**
 * webhookPayload renders template.Data plus version, groupKey and
 * truncatedAlerts as Alertmanager's Go encoder writes the webhook message
 * (version "4"; incident.io's is version "1" with its metadata map after).
 */
export function webhookPayload(data: TemplateData, truncated: number, version = '4', metadata?: Record<string, string>): string {
  const alerts = data.Alerts;
  const alertJson = alerts
    .map(
      (a) =>
        `{"status":"${a.Status}","labels":${kvJson(a.Labels)},"annotations":${kvJson(a.Annotations)},"startsAt":"${goTimeOf(a.StartsAt)}","endsAt":"${goTimeOf(a.EndsAt)}",` +
        `"generatorURL":${goJsonString(a.GeneratorURL)},"fingerprint":"${a.Fingerprint}"}`,
    )
    .join(',');
  return (
    `{"receiver":${goJsonString(data.Receiver)},"status":"${data.Status}","alerts":[${alertJson}],"notification_reason":${goJsonString(data.NotificationReason)},"groupLabels":${kvJson(data.GroupLabels)},` +
    `"commonLabels":${kvJson(data.CommonLabels)},"commonAnnotations":${kvJson(data.CommonAnnotations)},"routeLabels":${kvJson(data.RouteLabels)},"externalURL":${goJsonString(data.ExternalURL)},` +
    `"version":"${version}","groupKey":${goJsonString(data.GroupKey)},"truncatedAlerts":${truncated}` +
    (metadata !== undefined && Object.keys(metadata).length > 0 ? `,"metadata":${goJson(sortedObject(metadata))}` : '') +
    '}\n'
  );
}

function createWebhook(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const cfg = entry as WebhookConfig;
  const timeoutMs = cfg.timeout !== undefined && cfg.timeout !== '' ? parseDuration(cfg.timeout) : 0;
  return {
    async notify(ctx, alerts) {
      const url = cfg.url_file !== undefined && cfg.url_file !== '' ? readFileSync(cfg.url_file, 'utf8').trim() : (cfg.url as string);
      deps.checkUrl(url);
      const [kept, truncated] = truncateAlerts(alerts, cfg.max_alerts ?? 0);
      const data = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, kept, ctx.externalURL, ctx.now, ctx.reason, ctx.routeLabels);
      const body = webhookPayload(data, truncated);
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
