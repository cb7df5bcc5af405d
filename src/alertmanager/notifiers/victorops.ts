// victorops.ts is the VictorOps (Splunk On-Call) integration: the REST
// endpoint's alert object (message_type, entity_id ...) posted to
// `api_url/<api_key>/<routing_key>`, as Alertmanager 0.35.

import { alertStatus, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inheritHttp, globalString, setDefaults, tmplRef } from './defaults.js';
import { goJson, groupKeyHash, nonEmpty, renderer, secret, send, sortedObject, truncateInRunes, urlError, withSlash } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_MESSAGE_RUNES = 20480;
const RESERVED = ['routing_key', 'message_type', 'state_message', 'entity_display_name', 'monitoring_tool', 'entity_id', 'entity_state'];
const ALLOWED_EVENTS = new Set(['INFO', 'WARNING', 'CRITICAL']);

/** VictorOpsConfig is one entry of victorops_configs. */
export interface VictorOpsConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_key?: string;
  api_key_file?: string;
  api_url?: string;
  routing_key?: string;
  message_type?: string;
  state_message?: string;
  entity_display_name?: string;
  monitoring_tool?: string;
  custom_fields?: Record<string, string>;
}

function createVictorOps(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as VictorOpsConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      let apiKey: string;
      try {
        apiKey = secret(c.api_key, c.api_key_file);
      } catch (err) {
        throw new Error(`failed to read API key from file: ${(err as Error).message}`);
      }
      const u = new URL(c.api_url as string);
      u.pathname += `${apiKey}/${r.text(c.routing_key)}`;
      const firing = alerts.some((a) => alertStatus(a, ctx.now) === 'firing');
      let messageType = r.text(c.message_type);
      if (firing && !ALLOWED_EVENTS.has(messageType)) messageType = 'CRITICAL';
      if (!firing) messageType = 'RECOVERY';
      const [stateMessage, cut] = truncateInRunes(r.text(c.state_message), MAX_MESSAGE_RUNES);
      if (cut) ctx.logger.warn('Truncated state_message', { group_key: ctx.groupKey, max_runes: MAX_MESSAGE_RUNES });
      const msg: Record<string, string> = {
        message_type: messageType,
        entity_id: groupKeyHash(ctx.groupKey),
        entity_display_name: r.text(c.entity_display_name),
        state_message: stateMessage,
        monitoring_tool: r.text(c.monitoring_tool),
      };
      for (const [k, v] of Object.entries(c.custom_fields ?? {})) msg[k] = r.text(v);
      await send(ctx, c.http_config, u.toString(), goJson(sortedObject(msg)) + '\n', { checkUrl: deps.checkUrl });
    },
  };
}

registerIntegration({
  key: 'victorops_configs',
  name: 'victorops',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, {
      message_type: 'CRITICAL',
      state_message: tmplRef('victorops.default.state_message'),
      entity_display_name: tmplRef('victorops.default.entity_display_name'),
      monitoring_tool: tmplRef('victorops.default.monitoring_tool'),
    });
    const c = entry as VictorOpsConfig;
    if (!nonEmpty(c.routing_key)) return 'missing Routing key in VictorOps config';
    if (nonEmpty(c.api_key) && nonEmpty(c.api_key_file)) return 'at most one of api_key & api_key_file must be configured';
    for (const f of RESERVED) {
      if (c.custom_fields !== undefined && f in c.custom_fields)
        return `victorOps config contains custom field ${f} which cannot be used as it conflicts with the fixed/static fields`;
    }
    inheritHttp(entry, global);
    if (c.api_url === undefined) c.api_url = globalString(global, 'victorops_api_url');
    if (c.api_url === undefined) return 'no global VictorOps URL set';
    const e = urlError(c.api_url, 'api_url');
    if (e !== undefined) return e;
    c.api_url = withSlash(c.api_url);
    if (!nonEmpty(c.api_key) && nonEmpty(global.victorops_api_key)) c.api_key = global.victorops_api_key;
    if (!nonEmpty(c.api_key_file) && nonEmpty(global.victorops_api_key_file)) c.api_key_file = global.victorops_api_key_file;
    if (!nonEmpty(c.api_key) && !nonEmpty(c.api_key_file)) return 'no global VictorOps API Key set';
    return validateHttpConfig(c.http_config);
  },
  create: createVictorOps,
});
