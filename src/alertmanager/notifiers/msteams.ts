// msteams.ts is the Microsoft Teams integrations: the legacy MessageCard
// (msteams_configs) and the Adaptive Card for Workflows (msteamsv2_configs),
// as Alertmanager 0.35's msteams and msteamsv2 notifiers.

import { alertStatus, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { validateWebhookUrlPair, webhookUrl } from './discord.js';
import { goJson, renderer, send } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

/** MSTeamsConfig is one entry of msteams_configs (msteamsv2_configs has no summary). */
export interface MSTeamsConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  webhook_url?: string;
  webhook_url_file?: string;
  title?: string;
  summary?: string;
  text?: string;
}

function createMSTeams(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as MSTeamsConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const title = r.text(c.title);
      const text = r.text(c.text);
      const summary = r.text(c.summary);
      const firing = alerts.some((a) => alertStatus(a, ctx.now) === 'firing');
      const msg = { '@context': 'http://schema.org/extensions', type: 'MessageCard', title, summary, text, themeColor: firing ? '8C1A1A' : '2DC72D' };
      await send(ctx, c.http_config, webhookUrl(c), goJson(msg) + '\n', { checkUrl: deps.checkUrl });
    },
  };
}

function createMSTeamsV2(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as MSTeamsConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const title = r.text(c.title);
      const text = r.text(c.text);
      const firing = alerts.some((a) => alertStatus(a, ctx.now) === 'firing');
      const msg = {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.2',
              body: [
                { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true, style: 'heading', color: firing ? 'Attention' : 'Good' },
                { type: 'TextBlock', text, wrap: true },
              ],
              msteams: { width: 'full' },
            },
          },
        ],
      };
      await send(ctx, c.http_config, webhookUrl(c), goJson(msg) + '\n', { checkUrl: deps.checkUrl });
    },
  };
}

registerIntegration({
  key: 'msteams_configs',
  name: 'msteams',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { title: tmplRef('msteams.default.title'), summary: tmplRef('msteams.default.summary'), text: tmplRef('msteams.default.text') });
    const e = validateWebhookUrlPair(entry as MSTeamsConfig);
    if (e !== undefined) return e;
    inheritHttp(entry, global);
    return validateHttpConfig((entry as MSTeamsConfig).http_config);
  },
  create: createMSTeams,
});

registerIntegration({
  key: 'msteamsv2_configs',
  name: 'msteamsv2',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { title: tmplRef('msteamsv2.default.title'), text: tmplRef('msteamsv2.default.text') });
    const e = validateWebhookUrlPair(entry as MSTeamsConfig);
    if (e !== undefined) return e;
    const c = entry as MSTeamsConfig;
    const g = global.http_config;
    if (c.http_config === undefined && g !== undefined) c.http_config = { ...g };
    else if (c.http_config !== undefined && c.http_config.proxy_url === undefined && g?.proxy_url !== undefined) c.http_config.proxy_url = g.proxy_url;
    return validateHttpConfig(c.http_config);
  },
  create: createMSTeamsV2,
});
