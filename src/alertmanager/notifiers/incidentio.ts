// incidentio.ts is the incident.io integration: the webhook message
// (template.Data, version "1", groupKey, truncatedAlerts) plus templated
// metadata, posted with the alert source token as a bearer, as Alertmanager
// 0.35's incidentio notifier.

import { validateHttpConfig, buildTemplateData, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp } from './defaults.js';
import { goDurationMs, nonEmpty, renderer, secret, send, timeoutError, urlError } from './payload.js';
import { parseDuration } from '../../config/duration.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';
import { truncateAlerts, webhookPayload } from './webhook.js';

/** MAX_PAYLOAD_BYTES is incident.io's message limit: beyond it only the first alert is sent. */
const MAX_PAYLOAD_BYTES = 512 * 1024;

/** IncidentioConfig is one entry of incidentio_configs. */
export interface IncidentioConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  url?: string;
  url_file?: string;
  alert_source_token?: string;
  alert_source_token_file?: string;
  max_alerts?: number;
  timeout?: string;
  metadata?: Record<string, string>;
}

function validateIncidentio(entry: Record<string, unknown>, global: Record<string, unknown>): string | undefined {
  const c = entry as IncidentioConfig;
  if (c.url === undefined && !nonEmpty(c.url_file)) return 'one of url or url_file must be configured';
  if (c.url !== undefined && nonEmpty(c.url_file)) return 'at most one of url & url_file must be configured';
  const hasToken = nonEmpty(c.alert_source_token) || nonEmpty(c.alert_source_token_file);
  if (nonEmpty(c.alert_source_token) && nonEmpty(c.alert_source_token_file)) return 'at most one of alert_source_token & alert_source_token_file must be configured';
  if (c.http_config?.authorization !== undefined && hasToken) return 'cannot specify alert_source_token or alert_source_token_file when using http_config.authorization';
  // As 0.35, only an http_config given on the entry itself must then carry the credentials.
  if (c.http_config !== undefined && c.http_config.authorization === undefined && !hasToken)
    return 'at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured';
  if (c.url !== undefined) {
    const e = urlError(c.url, 'url');
    if (e !== undefined) return e;
  }
  if (c.max_alerts !== undefined && (!Number.isInteger(c.max_alerts) || c.max_alerts < 0)) return 'max_alerts must be a non-negative integer';
  const te = timeoutError(c.timeout);
  if (te !== undefined) return te;
  inheritHttp(entry, global);
  return validateHttpConfig(c.http_config);
}

function createIncidentio(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as IncidentioConfig;
  const timeoutMs = goDurationMs(c.timeout, parseDuration);
  let http = c.http_config;
  const token = nonEmpty(c.alert_source_token_file) ? secret(undefined, c.alert_source_token_file) : (c.alert_source_token ?? '');
  if (token !== '') http = { ...(http ?? {}), authorization: { type: 'Bearer', credentials: token } };
  const details = (_status: number, body: Buffer): string => {
    try {
      const p = JSON.parse(body.toString('utf8')) as { message?: string; error?: string; errors?: string[] };
      return [p.message ?? '', p.error ?? '', (p.errors ?? []).join(', ')].filter((x) => x !== '').join(': ');
    } catch {
      return '';
    }
  };
  return {
    async notify(ctx, alerts) {
      const [kept, truncated] = truncateAlerts(alerts, c.max_alerts ?? 0);
      const data = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, kept, ctx.externalURL, ctx.now, ctx.reason, ctx.routeLabels);
      let metadata: Record<string, string> | undefined;
      if (c.metadata !== undefined && Object.keys(c.metadata).length > 0) {
        const r = renderer(ctx, kept);
        metadata = {};
        for (const [k, v] of Object.entries(c.metadata)) {
          try {
            metadata[k] = r.text(String(v));
          } catch (err) {
            throw new Error(`failed to render metadata templates: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
      let body = webhookPayload(data, truncated, '1', metadata);
      if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
        const original = Buffer.byteLength(body);
        const one = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, kept, ctx.externalURL, ctx.now, ctx.reason, ctx.routeLabels);
        one.Alerts.splice(1);
        body = webhookPayload(one, truncated, '1', metadata);
        const fields = { original_size: original, final_size: Buffer.byteLength(body), max_size: MAX_PAYLOAD_BYTES };
        if (Buffer.byteLength(body) <= MAX_PAYLOAD_BYTES) ctx.logger.warn('Truncated alert content due to incident.io payload size limit', fields);
        else ctx.logger.error('Truncated alert content due to incident.io payload size limit, but still exceeds limit', fields);
      }
      const url = c.url !== undefined ? c.url : secret(undefined, c.url_file);
      await send(ctx, http, url, body, { checkUrl: deps.checkUrl, timeoutMs, retryCodes: [429], details });
    },
  };
}

registerIntegration({ key: 'incidentio_configs', name: 'incidentio', sendResolvedDefault: true, validate: validateIncidentio, create: createIncidentio });
