// webex.ts is the Cisco Webex integration: a markdown message posted to
// `api_url` with the configured authorization, as Alertmanager 0.35.

import { validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inherit, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goJson, nonEmpty, omit, renderer, send, truncateInBytes, urlError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_MESSAGE_BYTES = 7439;

/** WebexConfig is one entry of webex_configs. */
export interface WebexConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  message?: string;
  room_id?: string;
}

function createWebex(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as WebexConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const [message, cut] = truncateInBytes(r.text(c.message), MAX_MESSAGE_BYTES);
      if (cut) ctx.logger.debug('message truncated due to exceeding maximum allowed length by webex', { truncated_message: message });
      await send(ctx, c.http_config, c.api_url as string, goJson({ markdown: message, roomId: omit(r.text(c.room_id)) }) + '\n', { checkUrl: deps.checkUrl, retryCodes: [429], rateLimitedBy: 'Webex' });
    },
  };
}

registerIntegration({
  key: 'webex_configs',
  name: 'webex',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { message: tmplRef('webex.default.message') });
    const c = entry as WebexConfig;
    if (!nonEmpty(c.room_id)) return 'missing room_id on webex_config';
    if (c.http_config === undefined || c.http_config.authorization === undefined) return 'missing webex_configs.http_config.authorization';
    inheritHttp(entry, global);
    inherit(entry, 'api_url', global, 'webex_api_url');
    if (c.api_url === undefined) return 'no global Webex URL set';
    return urlError(c.api_url, 'api_url') ?? validateHttpConfig(c.http_config);
  },
  create: createWebex,
});
