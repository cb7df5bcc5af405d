// hcl-receivers.ts maps a contact point integration's settings (Grafana's
// JSON names, as the provisioning API and the JSON/YAML exports carry them)
// to the Terraform provider's block for it (`grafana_contact_point`), and
// back: the attribute names, their order, their types (numbers that the JSON
// form keeps as strings, e-mail address lists kept as one string) and nested
// blocks (TLS, HMAC, OAuth2, SigV4, Opsgenie responders) are as Grafana's HCL
// exporter writes them. Settings a block does not name are not exported, as
// in Grafana; an integration type without a spec keeps its settings as they
// are (one attribute per key).

/** Obj is a JSON object. */
type Obj = Record<string, unknown>;

/** FieldKind is how a setting is written: its HCL type and, for numbers, its JSON type. */
type FieldKind =
  | 'string'
  | 'bool'
  /** number in HCL and in the JSON settings */
  | 'number'
  /** number in HCL, string in the JSON settings (Grafana's maxAlerts, qos) */
  | 'numberString'
  | 'list'
  /** list in HCL; one string of addresses separated by `;`, `,` or newlines in the JSON settings */
  | 'addresses'
  | 'map';

/** Field is one attribute, or one nested block (its own fields), of a block. */
type Field =
  | { hcl: string; json: string; kind: FieldKind }
  | { hcl: string; json: string; block: Field[]; repeated?: boolean };

/** f, nested and repeated build the spec tables below. */
function f(hcl: string, json: string = hcl, kind: FieldKind = 'string'): Field {
  return { hcl, json, kind };
}
function nested(hcl: string, json: string, block: Field[]): Field {
  return { hcl, json, block };
}
function repeated(hcl: string, json: string, block: Field[]): Field {
  return { hcl, json, block, repeated: true };
}

const TLS = [f('insecure_skip_verify', 'insecureSkipVerify', 'bool'), f('ca_certificate', 'caCertificate'), f('client_certificate', 'clientCertificate'), f('client_key', 'clientKey')];

const HTTP_CONFIG = [
  nested('oauth2', 'oauth2', [
    f('client_id'),
    f('client_secret'),
    f('token_url'),
    f('scopes', 'scopes', 'list'),
    f('endpoint_params', 'endpoint_params', 'map'),
    nested('tls_config', 'tls_config', TLS),
    nested('proxy_config', 'proxy_config', [f('proxy_url'), f('no_proxy'), f('proxy_from_environment', 'proxy_from_environment', 'bool'), f('proxy_connect_header', 'proxy_connect_header', 'map')]),
  ]),
];

/** WEBHOOK_LIKE are the fields the webhook and Grafana OnCall integrations share. */
const WEBHOOK_LIKE = [
  f('url'),
  f('http_method', 'httpMethod'),
  f('max_alerts', 'maxAlerts', 'numberString'),
  f('authorization_scheme'),
  f('authorization_credentials'),
  f('basic_auth_user', 'username'),
  f('basic_auth_password', 'password'),
  f('title'),
  f('message'),
];

/** RECEIVER_BLOCKS maps an integration type to its block name and fields, in the exporter's order. */
const RECEIVER_BLOCKS: Record<string, { block: string; fields: Field[] }> = {
  'prometheus-alertmanager': { block: 'alertmanager', fields: [f('url'), f('basic_auth_user', 'basicAuthUser'), f('basic_auth_password', 'basicAuthPassword')] },
  dingding: { block: 'dingding', fields: [f('url'), f('message_type', 'msgType'), f('title'), f('message')] },
  discord: { block: 'discord', fields: [f('url'), f('title'), f('message'), f('avatar_url'), f('use_discord_username', 'use_discord_username', 'bool')] },
  email: { block: 'email', fields: [f('addresses', 'addresses', 'addresses'), f('single_email', 'singleEmail', 'bool'), f('message'), f('subject')] },
  googlechat: { block: 'googlechat', fields: [f('url'), f('title'), f('message')] },
  jira: {
    block: 'jira',
    fields: [
      f('api_url'),
      f('project'),
      f('issue_type'),
      f('summary'),
      f('description'),
      f('labels', 'labels', 'list'),
      f('priority'),
      f('reopen_transition'),
      f('resolve_transition'),
      f('wont_fix_resolution'),
      f('reopen_duration'),
      f('dedup_key_field'),
      f('fields', 'fields', 'map'),
      f('user'),
      f('password'),
      f('api_token'),
    ],
  },
  kafka: {
    block: 'kafka',
    fields: [f('rest_proxy_url', 'kafkaRestProxy'), f('topic', 'kafkaTopic'), f('description'), f('details'), f('username'), f('password'), f('api_version', 'apiVersion'), f('cluster_id', 'kafkaClusterId')],
  },
  LINE: { block: 'line', fields: [f('token'), f('title'), f('description')] },
  mqtt: {
    block: 'mqtt',
    fields: [
      f('broker_url', 'brokerUrl'),
      f('client_id', 'clientId'),
      f('topic'),
      f('message_format', 'messageFormat'),
      f('username'),
      f('password'),
      f('qos', 'qos', 'numberString'),
      f('retain', 'retain', 'bool'),
      nested('tls_config', 'tlsConfig', TLS),
    ],
  },
  oncall: { block: 'oncall', fields: WEBHOOK_LIKE },
  opsgenie: {
    block: 'opsgenie',
    fields: [
      f('api_key', 'apiKey'),
      f('url', 'apiUrl'),
      f('message'),
      f('description'),
      f('auto_close', 'autoClose', 'bool'),
      f('override_priority', 'overridePriority', 'bool'),
      f('send_tags_as', 'sendTagsAs'),
      repeated('responders', 'responders', [f('id'), f('name'), f('username'), f('type')]),
    ],
  },
  pagerduty: {
    block: 'pagerduty',
    fields: [
      f('integration_key', 'integrationKey'),
      f('severity'),
      f('class'),
      f('component'),
      f('group'),
      f('summary'),
      f('source'),
      f('client'),
      f('client_url'),
      f('url'),
      f('details', 'details', 'map'),
    ],
  },
  pushover: {
    block: 'pushover',
    fields: [
      f('user_key', 'userKey'),
      f('api_token', 'apiToken'),
      f('priority', 'priority', 'number'),
      f('ok_priority', 'okPriority', 'number'),
      f('retry', 'retry', 'number'),
      f('expire', 'expire', 'number'),
      f('device'),
      f('sound'),
      f('ok_sound', 'okSound'),
      f('title'),
      f('message'),
      f('upload_image', 'uploadImage', 'bool'),
    ],
  },
  sensugo: { block: 'sensugo', fields: [f('url'), f('api_key', 'apikey'), f('entity'), f('check'), f('namespace'), f('handler'), f('message')] },
  slack: {
    block: 'slack',
    fields: [
      f('endpoint_url', 'endpointUrl'),
      f('url'),
      f('token'),
      f('recipient'),
      f('text'),
      f('title'),
      f('username'),
      f('icon_emoji'),
      f('icon_url'),
      f('mention_channel', 'mentionChannel'),
      f('mention_users', 'mentionUsers'),
      f('mention_groups', 'mentionGroups'),
      f('color'),
    ],
  },
  sns: {
    block: 'sns',
    fields: [
      f('api_url'),
      nested('sigv4', 'sigv4', [f('region'), f('access_key'), f('secret_key'), f('profile'), f('role_arn')]),
      f('topic_arn'),
      f('phone_number'),
      f('target_arn'),
      f('subject'),
      f('message'),
      f('attributes', 'attributes', 'map'),
    ],
  },
  teams: { block: 'teams', fields: [f('url'), f('message'), f('title'), f('section_title', 'sectiontitle')] },
  telegram: {
    block: 'telegram',
    fields: [
      f('token', 'bottoken'),
      f('chat_id', 'chatid'),
      f('message_thread_id'),
      f('message'),
      f('parse_mode'),
      f('disable_web_page_preview', 'disable_web_page_preview', 'bool'),
      f('protect_content', 'protect_content', 'bool'),
      f('disable_notifications', 'disable_notifications', 'bool'),
    ],
  },
  threema: { block: 'threema', fields: [f('gateway_id'), f('recipient_id'), f('api_secret'), f('title'), f('description')] },
  victorops: { block: 'victorops', fields: [f('url'), f('message_type', 'messageType'), f('title'), f('description')] },
  webex: { block: 'webex', fields: [f('token', 'bot_token'), f('api_url'), f('message'), f('room_id')] },
  webhook: {
    block: 'webhook',
    fields: [
      ...WEBHOOK_LIKE,
      f('headers', 'headers', 'map'),
      nested('payload', 'payload', [f('template'), f('vars', 'vars', 'map')]),
      nested('tlsConfig', 'tlsConfig', TLS),
      nested('hmacConfig', 'hmacConfig', [f('secret'), f('header'), f('timestamp_header', 'timestampHeader')]),
      nested('http_config', 'http_config', HTTP_CONFIG),
    ],
  },
  wecom: { block: 'wecom', fields: [f('url'), f('secret'), f('agent_id'), f('corp_id'), f('message'), f('title'), f('msg_type', 'msgtype'), f('to_user', 'touser')] },
};

/** TYPE_OF_BLOCK is the integration type of each block name (the inverse of RECEIVER_BLOCKS). */
const TYPE_OF_BLOCK = new Map(Object.entries(RECEIVER_BLOCKS).map(([type, spec]) => [spec.block, type]));

/** HclAttrValue is an attribute value as the HCL writer and reader handle it. */
export type HclAttrValue = string | number | boolean | HclAttrValue[] | { [k: string]: HclAttrValue };

/** HclItem is one attribute or nested block of a block body, in order. */
export type HclItem = { attr: string; value: HclAttrValue } | { block: { type: string; labels: string[]; body: HclItem[] } };

/** HclBody is a parsed block body: its attributes by name and its nested blocks in order. */
export interface HclBody {
  attrs: Map<string, unknown>;
  blocks: Array<{ type: string; labels: string[]; body: HclBody }>;
}

/** splitAddresses splits Grafana's address string as its e-mail notifier does (`;`, `,` or newlines). */
function splitAddresses(s: string): string[] {
  return s
    .split(/[;,\n]/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** toAttr converts one setting to its HCL value (undefined: not written). */
function toAttr(v: unknown, kind: FieldKind): HclAttrValue | undefined {
  if (v === undefined || v === null) return undefined;
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    case 'bool':
      return v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;
    case 'number':
    case 'numberString': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'list':
      return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined;
    case 'addresses':
      return typeof v === 'string' ? splitAddresses(v) : Array.isArray(v) ? v.map(String) : undefined;
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return undefined;
      const out: Record<string, HclAttrValue> = {};
      for (const [k, x] of Object.entries(v as Obj)) if (x !== undefined && x !== null) out[k] = String(x);
      return out;
    }
  }
}

/** fromAttr converts an HCL value back to the setting's JSON form. */
function fromAttr(v: unknown, kind: FieldKind): unknown {
  switch (kind) {
    case 'numberString':
      return typeof v === 'number' ? String(v) : v;
    case 'addresses':
      return Array.isArray(v) ? v.join(';') : v;
    default:
      return v;
  }
}

/** bodyOf writes the fields present in settings, in spec order. */
function bodyOf(fields: Field[], settings: Obj): HclItem[] {
  const body: HclItem[] = [];
  for (const fl of fields) {
    const v = settings[fl.json];
    if ('block' in fl) {
      const items = fl.repeated ? (Array.isArray(v) ? v : []) : v !== undefined && v !== null ? [v] : [];
      for (const item of items) {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
        body.push({ block: { type: fl.hcl, labels: [], body: bodyOf(fl.block, item as Obj) } });
      }
      continue;
    }
    const value = toAttr(v, fl.kind);
    if (value !== undefined) body.push({ attr: fl.hcl, value });
  }
  return body;
}

/** settingsOf reads a block body back into settings (the inverse of bodyOf). */
function settingsOf(fields: Field[], body: HclBody): Obj {
  const out: Obj = {};
  for (const fl of fields) {
    if ('block' in fl) {
      const found = body.blocks.filter((b) => b.type === fl.hcl).map((b) => settingsOf(fl.block, b.body));
      if (fl.repeated) {
        if (found.length > 0) out[fl.json] = found;
      } else if (found.length > 0) out[fl.json] = found[0];
      continue;
    }
    if (body.attrs.has(fl.hcl)) out[fl.json] = fromAttr(body.attrs.get(fl.hcl), fl.kind);
  }
  return out;
}

/** receiverBlock is the Terraform block of one integration: its name and body (disable_resolve_message only when set). */
export function receiverBlock(type: string, settings: Obj, disableResolveMessage: boolean): { type: string; body: HclItem[] } {
  const spec = RECEIVER_BLOCKS[type];
  let body: HclItem[];
  if (spec) body = bodyOf(spec.fields, settings);
  else {
    body = [];
    for (const [k, v] of Object.entries(settings)) {
      const value = toAnyAttr(v);
      if (value !== undefined) body.push({ attr: k, value });
    }
  }
  if (disableResolveMessage) body.push({ attr: 'disable_resolve_message', value: true });
  return { type: spec?.block ?? type, body };
}

/** receiverFromBlock reads an integration block back: its type, settings and disableResolveMessage. */
export function receiverFromBlock(block: string, body: HclBody): { type: string; settings: Obj; disableResolveMessage: boolean } {
  const type = TYPE_OF_BLOCK.get(block) ?? block;
  const spec = RECEIVER_BLOCKS[type];
  let settings: Obj;
  if (spec) settings = settingsOf(spec.fields, body);
  else {
    settings = {};
    for (const [k, v] of body.attrs) if (k !== 'disable_resolve_message') settings[k] = v;
  }
  return { type, settings, disableResolveMessage: body.attrs.get('disable_resolve_message') === true };
}

/** toAnyAttr writes a setting of an integration without a spec as it is. */
function toAnyAttr(v: unknown): HclAttrValue | undefined {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => toAnyAttr(x) ?? '');
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, HclAttrValue> = {};
    for (const [k, x] of Object.entries(v)) {
      const value = toAnyAttr(x);
      if (value !== undefined) o[k] = value;
    }
    return o;
  }
  return undefined;
}
