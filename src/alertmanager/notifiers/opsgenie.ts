// opsgenie.ts is the OpsGenie integration: creates an alert aliased by the
// group key hash while firing (optionally updating message and description)
// and closes it once resolved, as Alertmanager 0.35's opsgenie notifier.

import { alertStatus, validateHttpConfig, type HTTPClientConfig, type Notifier } from './notifier.js';
import { inherit, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goJson, groupKeyHash, nonEmpty, omit, renderer, send, sortedObject, truncateInRunes, urlError, withSlash } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';
import { readFileSync } from 'node:fs';

const MAX_MESSAGE_RUNES = 130;
const RESPONDER_TYPES = /^(team|teams|user|escalation|schedule)$/;

interface Responder {
  id?: string;
  name?: string;
  username?: string;
  type?: string;
}

/** OpsGenieConfig is one entry of opsgenie_configs. */
export interface OpsGenieConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_key?: string;
  api_key_file?: string;
  api_url?: string;
  message?: string;
  description?: string;
  source?: string;
  details?: Record<string, string>;
  entity?: string;
  responders?: Responder[];
  actions?: string;
  tags?: string;
  note?: string;
  priority?: string;
  update_alerts?: boolean;
}

function responderText(r: Responder): string {
  return `{${r.id ?? ''} ${r.name ?? ''} ${r.username ?? ''} ${r.type ?? ''}}`;
}

function validateOpsGenie(entry: Record<string, unknown>, global: Record<string, unknown>): string | undefined {
  setDefaults(entry, { message: tmplRef('opsgenie.default.message'), description: tmplRef('opsgenie.default.description'), source: tmplRef('opsgenie.default.source') });
  const c = entry as OpsGenieConfig;
  if (nonEmpty(c.api_key) && nonEmpty(c.api_key_file)) return 'at most one of api_key & api_key_file must be configured';
  for (const r of c.responders ?? []) {
    if (!nonEmpty(r.id) && !nonEmpty(r.username) && !nonEmpty(r.name))
      return `opsGenieConfig responder ${responderText(r)} has to have at least one of id, username or name specified`;
    if (!(r.type ?? '').includes('{{')) {
      r.type = (r.type ?? '').toLowerCase();
      if (!RESPONDER_TYPES.test(r.type)) return `opsGenieConfig responder ${responderText(r)} type does not match valid options ^(team|teams|user|escalation|schedule)$`;
    }
  }
  inheritHttp(entry, global);
  inherit(entry, 'api_url', global, 'opsgenie_api_url');
  if (c.api_url === undefined) return 'no global OpsGenie URL set';
  const e = urlError(c.api_url, 'api_url');
  if (e !== undefined) return e;
  c.api_url = withSlash(c.api_url);
  if (!nonEmpty(c.api_key) && nonEmpty(global.opsgenie_api_key)) c.api_key = global.opsgenie_api_key;
  if (!nonEmpty(c.api_key_file) && nonEmpty(global.opsgenie_api_key_file)) c.api_key_file = global.opsgenie_api_key_file;
  if (!nonEmpty(c.api_key) && !nonEmpty(c.api_key_file)) return 'no global OpsGenie API Key set either inline or in a file';
  return validateHttpConfig(c.http_config);
}

function safeSplit(s: string): string[] {
  return s
    .trim()
    .split(',')
    .filter((x) => x !== '');
}

function createOpsGenie(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as OpsGenieConfig;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const alias = groupKeyHash(ctx.groupKey);
      const base = c.api_url as string;
      const reqs: Array<{ method: string; url: string; body: string }> = [];
      const aliasUrl = (suffix: string): string => {
        const u = new URL(base);
        u.pathname += `v2/alerts/${alias}/${suffix}`;
        u.searchParams.set('identifierType', 'alias');
        return u.toString();
      };
      if (alerts.every((a) => alertStatus(a, ctx.now) === 'resolved')) {
        reqs.push({ method: 'POST', url: aliasUrl('close'), body: goJson({ source: r.text(c.source) }) + '\n' });
      } else {
        const [message, cut] = truncateInRunes(r.text(c.message), MAX_MESSAGE_RUNES);
        if (cut) ctx.logger.warn('Truncated message', { alert: ctx.groupKey, max_runes: MAX_MESSAGE_RUNES });
        const details: Record<string, string> = r.data.CommonLabels.toObject();
        for (const [k, v] of Object.entries(c.details ?? {})) details[k] = r.text(v);
        const responders: Responder[] = [];
        for (const x of c.responders ?? []) {
          const resp = { id: r.text(x.id), name: r.text(x.name), username: r.text(x.username), type: r.text(x.type) };
          if (resp.id === '' && resp.name === '' && resp.username === '' && resp.type === '') continue;
          if (resp.type === 'teams') {
            for (const team of safeSplit(resp.name)) responders.push({ name: r.text(team), type: 'team' });
            continue;
          }
          responders.push(resp);
        }
        const description = r.text(c.description);
        const msg = {
          alias,
          message,
          description: omit(description),
          details: sortedObject(details),
          source: r.text(c.source),
          responders: omit(responders.map((x) => ({ id: omit(x.id), name: omit(x.name), username: omit(x.username), type: x.type ?? '' }))),
          tags: omit(safeSplit(r.text(c.tags))),
          note: omit(r.text(c.note)),
          priority: omit(r.text(c.priority)),
          entity: omit(r.text(c.entity)),
          actions: omit(safeSplit(r.text(c.actions))),
        };
        const u = new URL(base);
        u.pathname += 'v2/alerts';
        reqs.push({ method: 'POST', url: u.toString(), body: goJson(msg) + '\n' });
        if (c.update_alerts === true) {
          reqs.push({ method: 'PUT', url: aliasUrl('message'), body: goJson({ message: omit(message) }) + '\n' });
          reqs.push({ method: 'PUT', url: aliasUrl('description'), body: goJson({ description: omit(description) }) + '\n' });
        }
      }
      let apiKey: string;
      if (nonEmpty(c.api_key)) apiKey = r.text(c.api_key);
      else {
        try {
          apiKey = r.text(readFileSync(c.api_key_file as string, 'utf8')).trim();
        } catch (err) {
          throw new Error(`read key_file error: ${(err as Error).message}`);
        }
      }
      for (const q of reqs) {
        await send(ctx, c.http_config, q.url, q.body, { checkUrl: deps.checkUrl, method: q.method, headers: { Authorization: `GenieKey ${apiKey}` }, retryCodes: [429] });
      }
    },
  };
}

registerIntegration({ key: 'opsgenie_configs', name: 'opsgenie', sendResolvedDefault: true, validate: validateOpsGenie, create: createOpsGenie });
