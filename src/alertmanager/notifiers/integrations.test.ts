import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { test } from 'tap';
import { Logger } from '../../log.js';
import type { Alert } from '../types.js';
import { integrationFor } from './index.js';
import { notifyWithRetry, NotifyError, type NotifyContext, type TemplateData } from './notifier.js';
import { PAGERDUTY_ENDPOINTS } from './pagerduty.js';
import { parseRetryAfter } from './payload.js';
import { SLACK_ENDPOINTS } from './slack.js';
import { PUSHOVER_ENDPOINTS } from './pushover.js';

interface Got {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status?: number;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** sink answers each request with the next scripted reply (default 200 "ok" as text/plain). */
async function sink(replies: Reply[] = []): Promise<{ base: string; got: Got[]; close: () => void }> {
  const got: Got[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const r = replies.shift() ?? {};
      res.statusCode = r.status ?? 200;
      res.setHeader('Content-Type', r.type ?? 'text/plain');
      for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
      res.end(r.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  return { base: `http://127.0.0.1:${port}`, got, close: () => srv.close() };
}

const GROUP_KEY = '{}:{alertname="HighLatency"}';
const KEY_HASH = createHash('sha256').update(GROUP_KEY).digest('hex');
const NOW = Date.parse('2026-01-01T00:10:00Z');

/** ctx marks every template with actions as T[<template>|status] so the tests see which field got which template. */
function ctx(): NotifyContext {
  return {
    tenant: 't',
    receiver: 'team-a',
    groupKey: GROUP_KEY,
    groupLabels: { alertname: 'HighLatency' },
    externalURL: 'http://am.example',
    now: NOW,
    signal: new AbortController().signal,
    // Text without actions renders as itself, as in Go; anything with an action is marked.
    expand: { text: (s: string, d: TemplateData) => (s.includes('{{') ? `T[${s}|${d.Status}]` : s), html: (s: string, d: TemplateData) => (s.includes('{{') ? `H[${s}|${d.Status}]` : s) },
    logger: new Logger(),
  };
}

const firing: Alert[] = [
  { labels: { alertname: 'HighLatency', instance: 'a', severity: 'critical' }, annotations: { summary: 'slow' }, startsAt: Date.parse('2026-01-01T00:00:00Z'), endsAt: 0, generatorURL: 'http://prom/graph', updatedAt: 0, timeout: false },
  { labels: { alertname: 'HighLatency', instance: 'b', severity: 'critical' }, annotations: { summary: 'slow' }, startsAt: Date.parse('2026-01-01T00:01:00Z'), endsAt: Date.parse('2026-01-01T00:05:00Z'), generatorURL: '', updatedAt: 0, timeout: false },
];
const resolved: Alert[] = [{ ...(firing[1] as Alert) }];

/** deliver validates an entry the way the config loader does and sends one notification with retries. */
async function deliver(key: string, entry: Record<string, unknown>, alerts: Alert[], global: Record<string, unknown> = {}): Promise<number> {
  const def = integrationFor(key);
  if (def === undefined) throw new Error(`${key} not registered`);
  const err = def.validate(entry, global);
  if (err !== undefined) throw new Error(`validate: ${err}`);
  const n = def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  return notifyWithRetry({ name: def.name, index: 0, sendResolved: true, notifier: n }, ctx(), alerts, { deadline: Date.now() + 5000, initialBackoffMs: 5, maxBackoffMs: 20 });
}

function validate(key: string, entry: Record<string, unknown>, global: Record<string, unknown> = {}): string | undefined {
  const def = integrationFor(key);
  if (def === undefined) throw new Error(`${key} not registered`);
  return def.validate(entry, global);
}

const t = (name: string): string => `T[{{ template "${name}" . }}|firing]`;
/** tj is t(name) as it appears inside a JSON string. */
const tj = (name: string): string => JSON.stringify(t(name)).slice(1, -1);

test('slack: attachment field for field, defaults from the templates, 5xx retried', async (tt) => {
  const s = await sink([{ status: 503 }, { status: 200, body: 'ok' }]);
  tt.teardown(s.close);
  const attempts = await deliver(
    'slack_configs',
    { api_url: `${s.base}/hook`, channel: '#alerts', fields: [{ title: 'f', value: 'v' }], actions: [{ type: 'button', text: 'Go', url: 'http://x' }], http_config: { bearer_token: 'tok' } },
    firing,
  );
  tt.equal(attempts, 2);
  const g = s.got[1] as Got;
  tt.equal(g.headers.authorization, 'Bearer tok');
  tt.equal(g.headers['content-type'], 'application/json');
  tt.equal(g.headers['user-agent'], 'Alertmanager/0.35.0');
  tt.equal(
    g.body,
    '{"username":"' + tj('slack.default.username') + '","icon_emoji":"' + tj('slack.default.iconemoji') + '","icon_url":"' + tj('slack.default.iconurl') + '",' +
      '"attachments":[{"title":"' + tj('slack.default.title') + '","title_link":"' + tj('slack.default.titlelink') + '","pretext":"' + tj('slack.default.pretext') + '",' +
      '"text":"' + tj('slack.default.text') + '","fallback":"' + tj('slack.default.fallback') + '","callback_id":"' + tj('slack.default.callbackid') + '",' +
      '"fields":[{"title":"f","value":"v","short":false}],"actions":[{"type":"button","text":"Go","url":"http://x"}],' +
      '"footer":"' + tj('slack.default.footer') + '","color":"' + tj('slack.default.color') + '","mrkdwn_in":["fallback","pretext","text"]}],"channel":"#alerts"}\n',
  );
});

test('slack: app token goes to chat.postMessage as a bearer; API errors are not retried', async (tt) => {
  const s = await sink([{ status: 200, type: 'application/json', body: '{"ok":false,"error":"channel_not_found"}' }]);
  tt.teardown(s.close);
  await tt.rejects(deliver('slack_configs', { app_token: 'xoxb-1', app_url: `${s.base}/api/chat.postMessage`, channel: 'c' }, firing), /channel "c": error response from Slack: channel_not_found/);
  tt.equal(s.got.length, 1);
  tt.equal(s.got[0]?.url, '/api/chat.postMessage');
  tt.equal(s.got[0]?.headers.authorization, 'Bearer xoxb-1');
  tt.equal(validate('slack_configs', {}), 'no Slack API URL nor App token set either inline or in a file');
  tt.equal(validate('slack_configs', { api_url: 'http://a', api_url_file: '/f' }), 'at most one of api_url & api_url_file must be configured');
  tt.equal(validate('slack_configs', { api_url: 'http://a', app_token: 'x' }), 'at most one of api_url/api_url_file & app_token/app_token_file must be configured');
  tt.equal(validate('slack_configs', { api_url: 'http://a', fields: [{ title: 'x' }] }), 'missing value in Slack field configuration');
  tt.equal(validate('slack_configs', { api_url: 'http://a', actions: [{ type: 'b', text: 't' }] }), 'missing name or url in Slack action configuration');
  tt.equal(validate('slack_configs', { app_token: 'x', http_config: { authorization: { credentials: 'y' } } }), "http authorization can't be set when using Slack App tokens");
  tt.equal(validate('slack_configs', {}, { slack_api_url: 'http://global/hook' }), undefined, 'global slack_api_url fills in');
});

test('pagerduty v2: event payload, dedup key, 429 retried, 400 details', async (tt) => {
  const s = await sink([{ status: 429 }, { status: 202, type: 'application/json', body: '{"status":"success"}' }]);
  tt.teardown(s.close);
  const attempts = await deliver('pagerduty_configs', { routing_key: 'rk', url: `${s.base}/v2/enqueue`, severity: 'critical', class: 'c', links: [{ href: 'http://l', text: 'L' }] }, firing);
  tt.equal(attempts, 2);
  const body = JSON.parse(s.got[1]?.body ?? '') as Record<string, unknown>;
  tt.same(Object.keys(body), ['routing_key', 'dedup_key', 'event_action', 'payload', 'client', 'client_url', 'links']);
  tt.equal(body.routing_key, 'rk');
  tt.equal(body.dedup_key, KEY_HASH);
  tt.equal(body.event_action, 'trigger');
  tt.same(body.payload, {
    summary: t('pagerduty.default.description'),
    source: t('pagerduty.default.client'),
    severity: 'critical',
    class: 'c',
    custom_details: {
      firing: 'T[{{ .Alerts.Firing | toJson }}|firing]',
      num_firing: 'T[{{ .Alerts.Firing | len }}|firing]',
      num_resolved: 'T[{{ .Alerts.Resolved | len }}|firing]',
      resolved: 'T[{{ .Alerts.Resolved | toJson }}|firing]',
    },
  });
  tt.equal(body.client, t('pagerduty.default.client'));
  tt.equal(body.client_url, t('pagerduty.default.clientURL'));
  tt.same(body.links, [{ href: 'http://l', text: 'L' }]);

  const bad = await sink([{ status: 400, type: 'application/json', body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of routing_key is incorrect"]}' }]);
  tt.teardown(bad.close);
  await tt.rejects(deliver('pagerduty_configs', { routing_key: 'rk', url: `${bad.base}/v2/enqueue` }, resolved), /unexpected status code 400: Event object is invalid: Length of routing_key is incorrect/);
  tt.equal(bad.got.length, 1, '400 is not retried');
  tt.equal((JSON.parse(bad.got[0]?.body ?? '') as { event_action: string }).event_action, 'resolve');
  tt.equal(validate('pagerduty_configs', {}), 'missing service or routing key in PagerDuty config');
  tt.equal(validate('pagerduty_configs', { routing_key: 'a', routing_key_file: '/f' }), 'at most one of routing_key & routing_key_file must be configured');
});

test('pagerduty v1: service_key event to the generic API, 403 retried', async (tt) => {
  const s = await sink([{ status: 403 }, { status: 200 }]);
  tt.teardown(s.close);
  const saved = PAGERDUTY_ENDPOINTS.v1;
  PAGERDUTY_ENDPOINTS.v1 = `${s.base}/generic/2010-04-15/create_event.json`;
  tt.teardown(() => (PAGERDUTY_ENDPOINTS.v1 = saved));
  tt.equal(await deliver('pagerduty_configs', { service_key: 'sk', details: { a: 'b' } }, firing), 2);
  const g = s.got[1] as Got;
  tt.equal(g.url, '/generic/2010-04-15/create_event.json');
  tt.equal(
    g.body,
    `{"service_key":"sk","incident_key":"${KEY_HASH}","event_type":"trigger","description":"T[{{ template \\"pagerduty.default.description\\" . }}|firing]","event_action":"","payload":null,` +
      `"client":"${t('pagerduty.default.client').replace(/"/g, '\\"')}","client_url":"${t('pagerduty.default.clientURL').replace(/"/g, '\\"')}",` +
      '"details":{"a":"b","firing":"T[{{ .Alerts.Firing | toJson }}|firing]","num_firing":"T[{{ .Alerts.Firing | len }}|firing]","num_resolved":"T[{{ .Alerts.Resolved | len }}|firing]","resolved":"T[{{ .Alerts.Resolved | toJson }}|firing]"}}\n',
  );
});

test('opsgenie: create with GenieKey, teams split, update_alerts; close when resolved', async (tt) => {
  const s = await sink();
  tt.teardown(s.close);
  await deliver(
    'opsgenie_configs',
    { api_key: 'k', api_url: `${s.base}/og`, tags: 'a, b,,', responders: [{ name: 'x,y', type: 'teams' }, { id: 'u1', type: 'User' }], details: { d: 'v' }, update_alerts: true },
    firing,
  );
  tt.equal(s.got.length, 3);
  const create = s.got[0] as Got;
  tt.equal(create.method, 'POST');
  tt.equal(create.url, '/og/v2/alerts');
  tt.equal(create.headers.authorization, 'GenieKey k');
  tt.same(JSON.parse(create.body), {
    alias: KEY_HASH,
    message: t('opsgenie.default.message'),
    description: t('opsgenie.default.description'),
    details: { alertname: 'HighLatency', d: 'v', severity: 'critical' },
    source: t('opsgenie.default.source'),
    responders: [
      { name: 'x', type: 'team' },
      { name: 'y', type: 'team' },
      { id: 'u1', type: 'user' },
    ],
    tags: ['a', ' b'],
  });
  tt.equal(s.got[1]?.method, 'PUT');
  tt.equal(s.got[1]?.url, `/og/v2/alerts/${KEY_HASH}/message?identifierType=alias`);
  tt.equal(s.got[2]?.url, `/og/v2/alerts/${KEY_HASH}/description?identifierType=alias`);

  const c = await sink();
  tt.teardown(c.close);
  await deliver('opsgenie_configs', { api_key: 'k', api_url: `${c.base}/` }, resolved);
  tt.equal(c.got[0]?.url, `/v2/alerts/${KEY_HASH}/close?identifierType=alias`);
  tt.equal(c.got[0]?.body, `{"source":"T[{{ template \\"opsgenie.default.source\\" . }}|resolved]"}\n`);
  tt.equal(validate('opsgenie_configs', {}), 'no global OpsGenie API Key set either inline or in a file');
  tt.equal(validate('opsgenie_configs', { api_key: 'a', responders: [{ type: 'team' }] }), 'opsGenieConfig responder {   team} has to have at least one of id, username or name specified');
  tt.equal(validate('opsgenie_configs', { api_key: 'a', responders: [{ id: 'x', type: 'group' }] }), 'opsGenieConfig responder {x   group} type does not match valid options ^(team|teams|user|escalation|schedule)$');
});

test('discord, msteams, msteamsv2, webex: payloads', async (tt) => {
  const s = await sink();
  tt.teardown(s.close);
  await deliver('discord_configs', { webhook_url: `${s.base}/discord`, username: 'bot' }, firing);
  tt.equal(s.got[0]?.body, `{"content":"","embeds":[{"title":"${t('discord.default.title').replace(/"/g, '\\"')}","description":"${t('discord.default.message').replace(/"/g, '\\"')}","color":10038562}],"username":"bot"}\n`);
  await deliver('msteams_configs', { webhook_url: `${s.base}/teams` }, resolved);
  tt.same(JSON.parse(s.got[1]?.body ?? ''), {
    '@context': 'http://schema.org/extensions',
    type: 'MessageCard',
    title: 'T[{{ template "msteams.default.title" . }}|resolved]',
    summary: 'T[{{ template "msteams.default.summary" . }}|resolved]',
    text: 'T[{{ template "msteams.default.text" . }}|resolved]',
    themeColor: '2DC72D',
  });
  await deliver('msteamsv2_configs', { webhook_url: `${s.base}/teams2` }, firing);
  tt.equal(
    s.got[2]?.body,
    '{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.2",' +
      `"body":[{"type":"TextBlock","text":"${t('msteamsv2.default.title').replace(/"/g, '\\"')}","weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Attention"},` +
      `{"type":"TextBlock","text":"${t('msteamsv2.default.text').replace(/"/g, '\\"')}","wrap":true}],"msteams":{"width":"full"}}}]}\n`,
  );
  await deliver('webex_configs', { api_url: `${s.base}/webex`, room_id: 'r1', http_config: { authorization: { credentials: 'wx' } } }, firing);
  tt.equal(s.got[3]?.headers.authorization, 'Bearer wx');
  tt.equal(s.got[3]?.body, `{"markdown":"${t('webex.default.message').replace(/"/g, '\\"')}","roomId":"r1"}\n`);
  tt.equal(validate('discord_configs', {}), 'one of webhook_url or webhook_url_file must be configured');
  tt.equal(validate('msteams_configs', { webhook_url: 'http://a', webhook_url_file: '/x' }), 'at most one of webhook_url & webhook_url_file must be configured');
  tt.equal(validate('webex_configs', { room_id: 'r' }), 'missing webex_configs.http_config.authorization');
  tt.equal(validate('webex_configs', {}), 'missing room_id on webex_config');
});

test('telegram: sendMessage parameters; pushover: query parameters', async (tt) => {
  const s = await sink([{ status: 200, type: 'application/json', body: '{"ok":true,"result":{}}' }, { status: 200 }]);
  tt.teardown(s.close);
  await deliver('telegram_configs', { api_url: s.base, bot_token: 'bt', chat_id: -100123, message_thread_id: 7 }, firing);
  tt.equal(s.got[0]?.url, '/botbt/sendMessage');
  tt.same(JSON.parse(s.got[0]?.body ?? ''), {
    chat_id: '-100123',
    disable_web_page_preview: 'true',
    message_thread_id: '7',
    parse_mode: 'HTML',
    text: 'H[{{ template "telegram.default.message" . }}|firing]',
  });
  const saved = PUSHOVER_ENDPOINTS.api;
  PUSHOVER_ENDPOINTS.api = `${s.base}/1/messages.json`;
  tt.teardown(() => (PUSHOVER_ENDPOINTS.api = saved));
  await deliver('pushover_configs', { user_key: 'u', token: 'tk', ttl: '1h' }, firing);
  const u = new URL(`http://x${s.got[1]?.url ?? ''}`);
  tt.equal(u.pathname, '/1/messages.json');
  tt.same([...u.searchParams.keys()], ['device', 'expire', 'message', 'priority', 'retry', 'sound', 'title', 'token', 'ttl', 'url', 'url_title', 'user']);
  tt.equal(u.searchParams.get('expire'), '3600');
  tt.equal(u.searchParams.get('retry'), '60');
  tt.equal(u.searchParams.get('ttl'), '3600');
  tt.equal(u.searchParams.get('priority'), 'T[{{ if eq .Status "firing" }}2{{ else }}0{{ end }}|firing]');
  tt.equal(u.searchParams.get('message'), t('pushover.default.message'));
  tt.equal(u.searchParams.get('token'), 'tk');
  tt.equal(validate('telegram_configs', { bot_token: 'x' }), 'missing chat_id or chat_id_file on telegram_config');
  tt.equal(validate('telegram_configs', { chat_id: 1 }), 'missing bot_token or bot_token_file on telegram_config');
  tt.equal(validate('telegram_configs', { chat_id: 1, bot_token: 'x', parse_mode: 'md' }), 'unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string');
  tt.equal(validate('pushover_configs', { user_key: 'u' }), 'one of token or token_file must be configured');
  tt.equal(validate('pushover_configs', { user_key: 'u', token: 't', html: true, monospace: true }), 'at most one of monospace & html must be configured');
});

test('victorops, wechat, rocketchat: payloads and auth', async (tt) => {
  const s = await sink([
    {},
    { type: 'application/json', body: '{"access_token":"AT"}' },
    { type: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' },
    { type: 'application/json', body: '{"success":true}' },
  ]);
  tt.teardown(s.close);
  await deliver('victorops_configs', { api_key: 'ak', api_url: `${s.base}/vo`, routing_key: 'rk', custom_fields: { team: 'x' } }, resolved);
  tt.equal(s.got[0]?.url, '/vo/ak/rk');
  tt.same(JSON.parse(s.got[0]?.body ?? ''), {
    entity_display_name: 'T[{{ template "victorops.default.entity_display_name" . }}|resolved]',
    entity_id: KEY_HASH,
    message_type: 'RECOVERY',
    monitoring_tool: 'T[{{ template "victorops.default.monitoring_tool" . }}|resolved]',
    state_message: 'T[{{ template "victorops.default.state_message" . }}|resolved]',
    team: 'x',
  });
  await deliver('wechat_configs', { api_url: `${s.base}/wx/`, api_secret: 'sec', corp_id: 'corp', to_user: '@all' }, firing);
  tt.equal(s.got[1]?.method, 'GET');
  tt.equal(s.got[1]?.url, '/wx/gettoken?corpid=corp&corpsecret=sec');
  tt.equal(s.got[2]?.url, '/wx/message/send?access_token=AT');
  tt.equal(
    s.got[2]?.body,
    `{"text":{"content":"${t('wechat.default.message').replace(/"/g, '\\"')}"},"touser":"@all","toparty":"${t('wechat.default.to_party').replace(/"/g, '\\"')}",` +
      `"totag":"${t('wechat.default.to_tag').replace(/"/g, '\\"')}","agentid":"${t('wechat.default.agent_id').replace(/"/g, '\\"')}","safe":"0","msgtype":"text","markdown":{"content":""}}\n`,
  );
  await deliver('rocketchat_configs', { api_url: s.base, token: 'tok', token_id: 'uid', channel: '#c' }, firing);
  tt.equal(s.got[3]?.url, '/api/v1/chat.postMessage');
  tt.equal(s.got[3]?.headers['x-auth-token'], 'tok');
  tt.equal(s.got[3]?.headers['x-user-id'], 'uid');
  tt.same(JSON.parse(s.got[3]?.body ?? ''), {
    channel: '#c',
    emoji: t('rocketchat.default.emoji'),
    avatar: t('rocketchat.default.iconurl'),
    attachments: [
      {
        title: t('rocketchat.default.title'),
        title_link: t('rocketchat.default.titlelink'),
        text: t('rocketchat.default.text'),
        color: 'T[{{ if eq .Status "firing" }}red{{ else }}green{{ end }}|firing]',
      },
    ],
  });
  tt.equal(validate('victorops_configs', { api_key: 'a' }), 'missing Routing key in VictorOps config');
  tt.equal(validate('victorops_configs', { routing_key: 'r' }), 'no global VictorOps API Key set');
  tt.equal(validate('victorops_configs', { routing_key: 'r', api_key: 'a', custom_fields: { entity_id: 'x' } }), 'victorOps config contains custom field entity_id which cannot be used as it conflicts with the fixed/static fields');
  tt.equal(validate('wechat_configs', { corp_id: 'c' }), 'no global Wechat Api Secret set either inline or in a file');
  tt.equal(validate('wechat_configs', { api_secret: 's' }), 'no global Wechat CorpID set');
  tt.equal(validate('wechat_configs', { message_type: 'html' }), 'weChat message type "html" does not match valid options ^(text|markdown)$');
  tt.equal(validate('rocketchat_configs', { token: 'x' }), 'no global Rocketchat TokenID set either inline or in a file');
});

test('retry: 4xx other than the retry codes fails at once; network errors are retried', async (tt) => {
  const s = await sink([{ status: 404, body: 'no such hook' }]);
  tt.teardown(s.close);
  await tt.rejects(deliver('discord_configs', { webhook_url: `${s.base}/x` }, firing), /discord\/0: notify retry canceled after 1 attempts: unexpected status code 404: no such hook/);
  const def = integrationFor('msteams_configs');
  if (def === undefined) throw new Error('msteams not registered');
  const entry = { webhook_url: 'http://127.0.0.1:1/closed' };
  tt.equal(def.validate(entry, {}), undefined);
  const n = def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  const err = await notifyWithRetry({ name: 'msteams', index: 0, sendResolved: true, notifier: n }, ctx(), firing, { deadline: Date.now() + 150, initialBackoffMs: 10, maxBackoffMs: 20 }).catch((e: unknown) => e);
  tt.ok(err instanceof NotifyError);
  const attempts = Number(/after (\d+) attempts/.exec((err as Error).message)?.[1]);
  tt.ok(attempts >= 2, `connection refused retried (${attempts} attempts)`);
});

test('receivers firewall: a blocked URL is refused before any request, for every HTTP integration', async (tt) => {
  const s = await sink();
  tt.teardown(s.close);
  const entries: Array<[string, Record<string, unknown>]> = [
    ['slack_configs', { api_url: `${s.base}/x` }],
    ['pagerduty_configs', { routing_key: 'k', url: `${s.base}/x` }],
    ['opsgenie_configs', { api_key: 'k', api_url: `${s.base}/` }],
    ['discord_configs', { webhook_url: `${s.base}/x` }],
    ['msteams_configs', { webhook_url: `${s.base}/x` }],
    ['msteamsv2_configs', { webhook_url: `${s.base}/x` }],
    ['webex_configs', { api_url: `${s.base}/x`, room_id: 'r', http_config: { authorization: { credentials: 'c' } } }],
    ['victorops_configs', { api_key: 'k', api_url: `${s.base}/`, routing_key: 'r' }],
    ['rocketchat_configs', { api_url: s.base, token: 't', token_id: 'i' }],
  ];
  for (const [key, entry] of entries) {
    const def = integrationFor(key);
    if (def === undefined) throw new Error(`${key} not registered`);
    tt.equal(def.validate(entry, {}), undefined, key);
    const n = def.create(entry, {
      logger: new Logger(),
      checkUrl: (u) => {
        if (u.startsWith(s.base)) throw new Error('firewall blocked');
      },
    });
    await tt.rejects(n.notify(ctx(), firing), /firewall blocked/, key);
  }
  tt.equal(s.got.length, 0, 'nothing reached the sink');
});

test('jira: search by the group label, create, then update and resolve through the transition', async (tt) => {
  const s = await sink([{ type: 'application/json', body: '{"issues":[]}' }, { status: 201, type: 'application/json', body: '{"key":"OPS-1"}' }]);
  tt.teardown(s.close);
  const entry = { api_url: `${s.base}/rest/api/2`, project: 'OPS', issue_type: 'Bug', labels: ['zeta', 'alpha'], resolve_transition: 'Done', fields: { customfield_1: '{{ x }}', customfield_2: 7 } };
  await deliver('jira_configs', { ...entry }, firing);
  tt.equal(s.got[0]?.url, '/rest/api/2/search');
  tt.equal(s.got[0]?.headers['accept-language'], 'en');
  tt.same(JSON.parse(s.got[0]?.body ?? ''), { fields: ['status'], jql: `statusCategory != Done and project="OPS" and labels="ALERT{${KEY_HASH}}" order by status ASC,resolutiondate DESC`, maxResults: 2 });
  tt.equal(s.got[1]?.method, 'POST');
  tt.equal(s.got[1]?.url, '/rest/api/2/issue');
  tt.equal(
    s.got[1]?.body,
    `{"fields":{"customfield_1":"T[{{ x }}|firing]","customfield_2":7,"description":"${tj('jira.default.description')}","issuetype":{"name":"Bug"},` +
      `"labels":["ALERT{${KEY_HASH}}","alpha","zeta"],"priority":{"name":"${tj('jira.default.priority')}"},"project":{"key":"OPS"},"summary":"${tj('jira.default.summary')}"}}\n`,
  );

  const u = await sink([
    { type: 'application/json', body: '{"issues":[{"key":"OPS-1","fields":{"status":{"name":"Open","statusCategory":{"key":"new"}}}}]}' },
    { status: 204, body: '' },
    { type: 'application/json', body: '{"transitions":[{"id":"11","name":"Start"},{"id":"31","name":"Done"}]}' },
    { status: 204, body: '' },
  ]);
  tt.teardown(u.close);
  await deliver('jira_configs', { ...entry, api_url: `${u.base}/rest/api/2`, summary: { enable_update: false } }, resolved);
  tt.same(
    u.got.map((g) => `${g.method} ${g.url}`),
    ['POST /rest/api/2/search', 'PUT /rest/api/2/issue/OPS-1', 'GET /rest/api/2/issue/OPS-1/transitions', 'POST /rest/api/2/issue/OPS-1/transitions'],
  );
  tt.notOk('summary' in (JSON.parse(u.got[1]?.body ?? '{}') as { fields: Record<string, unknown> }).fields, 'summary not updated when enable_update is false');
  tt.equal(u.got[3]?.body, '{"transition":{"id":"31"}}\n');
  tt.equal(validate('jira_configs', { issue_type: 'Bug' }), 'missing project in jira_config');
  tt.equal(validate('jira_configs', { project: 'P' }), 'missing issue_type in jira_config');
  tt.equal(validate('jira_configs', { project: 'P', issue_type: 'Bug' }), 'no global Jira Cloud URL set');
  tt.equal(validate('jira_configs', { project: 'P', issue_type: 'Bug', api_type: 'server' }), 'unknown api_type on jira_config, must be auto, cloud or datacenter');
});

test('sns: Publish query signed with SigV4 (checked against @smithy/signature-v4), XML errors', async (tt) => {
  const s = await sink([{ status: 200, type: 'text/xml', body: '<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>' }, { status: 400, type: 'text/xml', body: '<ErrorResponse><Error><Code>InvalidParameter</Code><Message>Invalid parameter: TopicArn</Message></Error></ErrorResponse>' }]);
  tt.teardown(s.close);
  const entry = { api_url: `${s.base}/`, topic_arn: 'arn:aws:sns:eu-west-1:1:alerts.fifo', sigv4: { region: 'eu-west-1', access_key: 'AKID', secret_key: 'SECRET' }, attributes: { team: 'db', env: 'prod' } };
  await deliver('sns_configs', { ...entry }, firing);
  const g = s.got[0] as Got;
  tt.equal(g.headers['content-type'], 'application/x-www-form-urlencoded');
  const params = [...new URLSearchParams(g.body).entries()];
  tt.same(
    params.map(([k]) => k),
    [
      'Action', 'Message',
      'MessageAttributes.entry.1.Name', 'MessageAttributes.entry.1.Value.DataType', 'MessageAttributes.entry.1.Value.StringValue',
      'MessageAttributes.entry.2.Name', 'MessageAttributes.entry.2.Value.DataType', 'MessageAttributes.entry.2.Value.StringValue',
      'MessageDeduplicationId', 'MessageGroupId', 'Subject', 'TopicArn', 'Version',
    ],
    'every key sorted, as the Go SDK query encoder',
  );
  tt.notMatch(g.body, /%20/, 'spaces are + as url.QueryEscape');
  const p = new Map(params);
  tt.equal(p.get('Action'), 'Publish');
  tt.equal(p.get('Message'), t('sns.default.message'));
  tt.equal(p.get('MessageAttributes.entry.1.Name'), 'env');
  tt.equal(p.get('MessageAttributes.entry.2.Value.StringValue'), 'db');
  tt.equal(p.get('MessageGroupId'), KEY_HASH);
  tt.equal(p.get('Subject'), t('sns.default.subject'));

  // The same request signed by the AWS SDK's signer gives the same Authorization.
  const { SignatureV4 } = (await import('@smithy/signature-v4')) as unknown as {
    SignatureV4: new (o: unknown) => { sign(req: unknown, o: unknown): Promise<{ headers: Record<string, string> }> };
  };
  class Sha256 {
    private h: import('node:crypto').Hash | import('node:crypto').Hmac;
    constructor(secret?: string | Uint8Array) {
      this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
    }
    update(d: string | Uint8Array): void {
      this.h.update(d);
    }
    digest(): Promise<Uint8Array> {
      return Promise.resolve(new Uint8Array(this.h.digest()));
    }
  }
  const amzDate = String(g.headers['x-amz-date']);
  const when = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const signer = new SignatureV4({ service: 'sns', region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  const host = new URL(s.base).host;
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: host.split(':')[0], port: Number(host.split(':')[1]), path: '/', query: {}, headers: { 'content-type': 'application/x-www-form-urlencoded', host }, body: g.body },
    { signingDate: when, unsignableHeaders: new Set(['content-length']) },
  );
  tt.equal(g.headers.authorization, signed.headers.authorization);

  await tt.rejects(deliver('sns_configs', { ...entry }, firing), /unexpected status code 400: Invalid parameter: TopicArn/);
  tt.equal(validate('sns_configs', {}), 'must provide either a Target ARN, Topic ARN, or Phone Number for SNS config');
  tt.equal(validate('sns_configs', { topic_arn: 'a', phone_number: '1' }), 'must provide either a Target ARN, Topic ARN, or Phone Number for SNS config');
});

test('Retry-After: Slack and Webex wait for it on 429 and 5xx as 0.35; other receivers keep their backoff', async (tt) => {
  const received = Date.parse('2026-01-01T00:00:00Z');
  tt.equal(parseRetryAfter({ 'retry-after': '3' }, received), 3000, 'whole seconds');
  tt.equal(parseRetryAfter({ 'retry-after': '-3' }, received), 0, 'a negative number is malformed');
  tt.equal(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, received), 7000, 'HTTP date against the arrival time');
  tt.equal(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT', date: 'Thu, 01 Jan 2026 00:00:05 GMT' }, received), 2000, "HTTP date against the server's Date");
  tt.equal(parseRetryAfter({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, received), 0, 'a past date is no wait');
  tt.equal(parseRetryAfter({ 'retry-after': 'soon' }, received), 0, 'garbage is ignored');
  tt.equal(parseRetryAfter({}, received), 0, 'absent');

  const gaps = async (key: string, entry: (base: string) => Record<string, unknown>, first: Reply): Promise<number> => {
    const s = await sink([first, { status: 200, type: 'application/json', body: '{"ok":true}' }]);
    const at: number[] = [];
    const orig = s.got.push.bind(s.got);
    s.got.push = (...items: Got[]) => {
      at.push(Date.now());
      return orig(...items);
    };
    try {
      const attempts = await deliver(key, entry(s.base), firing);
      tt.equal(attempts, 2, `${key}: one retry`);
      return (at[1] as number) - (at[0] as number);
    } finally {
      s.close();
    }
  };
  const slack = (base: string): Record<string, unknown> => ({ api_url: `${base}/slack`, channel: '#c' });
  const webex = (base: string): Record<string, unknown> => ({ api_url: `${base}/webex`, room_id: 'r', http_config: { authorization: { credentials: 'x' } } });
  const webhook = (base: string): Record<string, unknown> => ({ url: `${base}/hook` });
  tt.ok((await gaps('slack_configs', slack, { status: 429, body: 'slow down', headers: { 'Retry-After': '1' } })) >= 950, 'slack 429 waits for Retry-After: 1');
  tt.ok((await gaps('webex_configs', webex, { status: 503, body: 'busy', headers: { 'Retry-After': '1' } })) >= 950, 'webex 503 waits for Retry-After: 1');
  tt.ok((await gaps('slack_configs', slack, { status: 429, body: 'slow down' })) < 500, 'slack without Retry-After keeps the short backoff');
  tt.ok((await gaps('webhook_configs', webhook, { status: 503, body: 'busy', headers: { 'Retry-After': '1' } })) < 500, "webhook ignores Retry-After (0.35's webhook passes no delay)");
});

test('slack: update_message edits and post_updates_to_thread answers the first message, ids kept in the nflog store', async (tt) => {
  const s = await sink([
    { type: 'application/json', body: '{"ok":true,"channel":"C42","ts":"1700000000.000100"}' },
    { type: 'application/json', body: '{"ok":true}' },
    { type: 'application/json', body: '{"ok":true}' },
  ]);
  tt.teardown(s.close);
  const saved = SLACK_ENDPOINTS.update;
  SLACK_ENDPOINTS.update = `${s.base}/api/chat.update`;
  tt.teardown(() => (SLACK_ENDPOINTS.update = saved));
  const def = integrationFor('slack_configs');
  if (def === undefined) throw new Error('slack not registered');
  const entry: Record<string, unknown> = { app_token: 'xoxb-1', channel: '#alerts', update_message: true, post_updates_to_thread: true, title: 'T', text: 'x' };
  tt.equal(def.validate(entry, { slack_app_url: `${s.base}/api/chat.postMessage` }), undefined);
  const n = def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  const store: Record<string, string> = {};
  await n.notify({ ...ctx(), nflogStore: store }, firing);
  tt.same(store, { threadTs: '1700000000.000100', channelId: 'C42' }, "the first message's ids are kept");
  await n.notify({ ...ctx(), nflogStore: { ...store } }, firing);
  tt.same(
    s.got.map((g) => g.url),
    ['/api/chat.postMessage', '/api/chat.update', '/api/chat.postMessage'],
  );
  const bodies = s.got.map((g) => JSON.parse(g.body) as Record<string, unknown>);
  tt.equal(bodies[0]?.channel, '#alerts');
  tt.equal(bodies[0]?.ts, undefined);
  tt.match(bodies[1], { channel: 'C42', ts: '1700000000.000100' }, 'chat.update targets the first message');
  tt.equal(bodies[1]?.thread_ts, undefined);
  tt.match(bodies[2], { channel: 'C42', thread_ts: '1700000000.000100' }, 'the update goes to the thread');
  tt.ok(s.got[1]?.body.endsWith('"channel":"C42","ts":"1700000000.000100"}\n'), 'channel and ts after the message fields, as Go encodes the request');
  tt.equal(s.got[1]?.headers.authorization, 'Bearer xoxb-1');
  // Validation as 0.35.
  tt.equal(validate('slack_configs', { api_url: 'https://hooks.slack.com/x', update_message: true }), 'update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage');
  tt.equal(validate('slack_configs', { api_url_file: '/f', post_updates_to_thread: true }), "post_updates_to_thread can't be used with api_url_file");
  tt.equal(validate('slack_configs', { api_url: 'https://slack.com/api/chat.postMessage', update_message: true, http_config: { authorization: { credentials: 'x' } } }), undefined);
});
