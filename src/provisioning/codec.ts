// codec.ts reads the provisioning API's request bodies into the stored
// models (checking each field's shape and wording errors as Grafana does) and
// writes the models back as the JSON Grafana answers with.

import { formatDuration, parseDuration } from '../config/duration.js';
import { parseTimeInterval } from '../alertmanager/timeinterval.js';
import { badRequest, invalidObject, invalidRule, ProvisioningError } from './errors.js';
import { MIMIR_DATASOURCE_UID, type AlertQuery, type AlertRule, type ContactPoint, type MuteTiming, type NotificationSettings, type ObjectMatcher, type Route, type RuleRecord, type Template, type TimeInterval } from './model.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** parseBody reads a JSON request body; malformed JSON is Grafana's "bad request data" (400). */
export function parseBody(body: Buffer): Obj {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('bad request data');
  }
  if (!isObj(v)) throw badRequest('bad request data');
  return v;
}

function str(o: Obj, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw badRequest('bad request data');
  return v;
}

function bool(o: Obj, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw badRequest('bad request data');
  return v;
}

function strMap(o: Obj, key: string): Record<string, string> {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw badRequest('bad request data');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw badRequest('bad request data');
    out[k] = x;
  }
  return out;
}

function strList(o: Obj, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest('bad request data');
  return v as string[];
}

/** durationMs parses a model.Duration (a string; Go clients may send "5m0s"); a malformed one is a 400. */
function durationMs(o: Obj, key: string, fail: (reason: string) => ProvisioningError): number {
  const v = o[key];
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v !== 'string') throw badRequest('bad request data');
  try {
    return parseDuration(v);
  } catch {
    throw fail(`invalid duration ${JSON.stringify(v)} in field ${key}`);
  }
}

/** normDuration canonicalises a duration string as model.Duration prints it (undefined stays undefined). */
function normDuration(v: string | undefined, what: string): string | undefined {
  if (v === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    throw invalidObject(`invalid ${what} ${JSON.stringify(v)}`);
  }
  if (ms < 0) throw invalidObject(`${what} cannot be negative`);
  return formatDuration(ms);
}

const UID_RE = /^[a-zA-Z0-9\-_]+$/;
const NO_DATA_STATES = ['NoData', 'Alerting', 'OK', 'KeepLast'];
const EXEC_ERR_STATES = ['Error', 'Alerting', 'OK', 'KeepLast'];

/** RuleInput is a decoded ProvisionedAlertRule without the server-owned fields. */
export type RuleInput = Omit<AlertRule, 'id' | 'updated' | 'provenance'>;

function decodeQuery(raw: unknown): AlertQuery {
  if (!isObj(raw)) throw badRequest('bad request data');
  const rtr = raw.relativeTimeRange;
  let from = 0;
  let to = 0;
  if (rtr !== undefined && rtr !== null) {
    if (!isObj(rtr)) throw badRequest('bad request data');
    from = Number(rtr.from ?? 0);
    to = Number(rtr.to ?? 0);
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw badRequest('bad request data');
  }
  const model = raw.model;
  if (model !== undefined && model !== null && !isObj(model)) throw badRequest('bad request data');
  return {
    refId: str(raw, 'refId'),
    queryType: str(raw, 'queryType'),
    relativeTimeRange: { from: Math.trunc(from), to: Math.trunc(to) },
    datasourceUid: str(raw, 'datasourceUid'),
    model: (model as Obj | undefined) ?? {},
  };
}

function decodeNotificationSettings(raw: unknown): NotificationSettings | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw badRequest('bad request data');
  const ns: NotificationSettings = { receiver: str(raw, 'receiver') };
  if (ns.receiver === '') throw invalidRule('receiver must be specified');
  const gb = strList(raw, 'group_by');
  if (gb !== undefined) ns.group_by = gb;
  for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) {
    const v = raw[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw badRequest('bad request data');
    ns[k] = normDuration(v, k.replace('_', ' '))!;
  }
  const mti = strList(raw, 'mute_time_intervals');
  if (mti !== undefined && mti.length > 0) ns.mute_time_intervals = mti;
  const ati = strList(raw, 'active_time_intervals');
  if (ati !== undefined && ati.length > 0) ns.active_time_intervals = ati;
  return ns;
}

/** decodeRule reads a ProvisionedAlertRule body and checks it as Grafana's ValidateAlertRule (throws 400s). */
export function decodeRule(o: Obj): RuleInput {
  const dataRaw = o.data;
  if (dataRaw !== undefined && dataRaw !== null && !Array.isArray(dataRaw)) throw badRequest('bad request data');
  const data = ((dataRaw as unknown[] | undefined) ?? []).map(decodeQuery);
  const rule: RuleInput = {
    uid: str(o, 'uid'),
    folderUID: str(o, 'folderUID'),
    ruleGroup: str(o, 'ruleGroup'),
    title: str(o, 'title'),
    condition: str(o, 'condition'),
    data,
    noDataState: str(o, 'noDataState') || 'NoData',
    execErrState: str(o, 'execErrState') || 'Error',
    forMs: durationMs(o, 'for', invalidRule),
    keepFiringForMs: durationMs(o, 'keep_firing_for', invalidRule),
    annotations: strMap(o, 'annotations'),
    labels: strMap(o, 'labels'),
    isPaused: bool(o, 'isPaused'),
  };
  const ns = decodeNotificationSettings(o.notification_settings);
  if (ns !== undefined) rule.notificationSettings = ns;
  const rec = decodeRecord(o.record);
  if (rec !== undefined) {
    rule.record = rec;
    // As Grafana's ClearRecordingRuleIgnoredFields: what only alerting rules use is dropped.
    rule.condition = '';
    rule.noDataState = '';
    rule.execErrState = '';
    rule.forMs = 0;
    rule.keepFiringForMs = 0;
    delete rule.notificationSettings;
  }
  return rule;
}

/** decodeRecord reads a rule's `record` object ({metric, from, target_datasource_uid}; the file format's targetDatasourceUid too). */
function decodeRecord(raw: unknown): RuleRecord | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw badRequest('bad request data');
  for (const k of ['metric', 'from', 'target_datasource_uid', 'targetDatasourceUid']) if (raw[k] !== undefined && raw[k] !== null && typeof raw[k] !== 'string') throw badRequest('bad request data');
  return { metric: str(raw, 'metric'), from: str(raw, 'from'), targetDatasourceUid: str(raw, 'target_datasource_uid') || str(raw, 'targetDatasourceUid') || MIMIR_DATASOURCE_UID };
}

/** METRIC_NAME_RE is Prometheus's legacy metric name syntax. */
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** checkRule validates a decoded rule that has its folder and group set. */
export function checkRule(r: RuleInput): void {
  if (r.uid !== '' && (r.uid.length > 40 || !UID_RE.test(r.uid))) throw invalidRule(`cannot create rule with UID '${r.uid}': UID must be at most 40 characters long and contain only letters, digits, '-' and '_'`);
  if (r.title === '') throw invalidRule('title is empty');
  if (r.title.length > 190) throw invalidRule('name length should not be greater than 190');
  if (r.folderUID === '') throw invalidRule('folderUID must be set');
  if (r.ruleGroup === '') throw invalidRule('rule group name must be set');
  if (r.ruleGroup.length > 190) throw invalidRule('rule group name is too long. Max length is 190');
  if (r.data.length === 0) throw invalidRule('no queries or expressions are found');
  const refs = new Set<string>();
  for (const q of r.data) {
    if (q.refId === '') throw invalidRule('refID is not specified for data query/expression');
    if (refs.has(q.refId)) throw invalidRule(`refID '${q.refId}' is already used by query/expression at index ${[...refs].indexOf(q.refId)}`);
    refs.add(q.refId);
    if (q.datasourceUid === '') throw invalidRule(`datasourceUID is not specified for query/expression '${q.refId}'`);
  }
  if (r.record !== undefined) {
    if (r.record.metric === '') throw invalidRule('metric name for recording rule must be a valid utf8 string');
    if (!METRIC_NAME_RE.test(r.record.metric)) throw invalidRule('metric name for recording rule must be a valid Prometheus metric name');
    if (r.record.from === '') throw invalidRule('from is empty');
    if (!refs.has(r.record.from)) throw invalidRule(`from ${r.record.from} does not exist, must be one of [${[...refs].join(',')}]`);
    if (r.record.targetDatasourceUid !== '' && r.record.targetDatasourceUid !== MIMIR_DATASOURCE_UID) throw invalidRule(`target data source '${r.record.targetDatasourceUid}' does not exist: recording rules write to '${MIMIR_DATASOURCE_UID}'`);
  } else {
    if (r.condition === '') throw invalidRule('condition is empty');
    if (!refs.has(r.condition)) throw invalidRule(`condition ${r.condition} does not exist, must be one of [${[...refs].join(',')}]`);
    if (!NO_DATA_STATES.includes(r.noDataState)) throw invalidRule(`unknown NoData state option ${r.noDataState}`);
    if (!EXEC_ERR_STATES.includes(r.execErrState)) throw invalidRule(`unknown Exec Error state option ${r.execErrState}`);
  }
  if (r.forMs < 0) throw invalidRule('field `for` cannot be negative');
  if (r.keepFiringForMs < 0) throw invalidRule('field `keep_firing_for` cannot be negative');
  for (const k of Object.keys(r.labels)) if (k === '' || k === '__alert_rule_uid__' || k === '__alert_rule_namespace_uid__') throw invalidRule(`label ${JSON.stringify(k)} is reserved or empty`);
}

/** orgNumber is the organisation id shown for a tenant: the tenant itself when numeric, else 1. */
export function orgNumber(tenant: string): number {
  return /^[0-9]{1,15}$/.test(tenant) ? Number(tenant) : 1;
}

function encodeQuery(q: AlertQuery): Obj {
  return { refId: q.refId, queryType: q.queryType, relativeTimeRange: { from: q.relativeTimeRange.from, to: q.relativeTimeRange.to }, datasourceUid: q.datasourceUid, model: q.model };
}

/** encodeRule writes a ProvisionedAlertRule in Grafana's field order. */
export function encodeRule(r: AlertRule, orgID: number): Obj {
  const out: Obj = {
    id: r.id,
    uid: r.uid,
    orgID,
    folderUID: r.folderUID,
    ruleGroup: r.ruleGroup,
    title: r.title,
    condition: r.condition,
    data: r.data.map(encodeQuery),
    updated: r.updated,
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: formatDuration(r.forMs),
    keep_firing_for: formatDuration(r.keepFiringForMs),
  };
  if (Object.keys(r.annotations).length > 0) out.annotations = r.annotations;
  if (Object.keys(r.labels).length > 0) out.labels = r.labels;
  if (r.provenance !== '') out.provenance = r.provenance;
  out.isPaused = r.isPaused;
  out.notification_settings = r.notificationSettings ?? null;
  out.record = r.record !== undefined ? { metric: r.record.metric, from: r.record.from, target_datasource_uid: r.record.targetDatasourceUid } : null;
  return out;
}

/** SECURE_SETTINGS names each integration's secret settings, which answers redact. */
export const SECURE_SETTINGS: Record<string, string[]> = {
  webhook: ['password', 'authorization_credentials', 'tlsConfig.caCertificate', 'tlsConfig.clientCertificate', 'tlsConfig.clientKey', 'hmacConfig.secret'],
  slack: ['token', 'url'],
  pagerduty: ['integrationKey'],
  opsgenie: ['apiKey'],
  telegram: ['bottoken'],
  discord: ['url'],
  teams: ['url'],
  webex: ['bot_token'],
  pushover: ['apiToken', 'userKey'],
  victorops: ['url'],
  email: [],
  googlechat: ['url'],
  sns: ['sigv4.access_key', 'sigv4.secret_key'],
  wecom: ['url', 'secret'],
};

/** REDACTED replaces a secret in answers; sent back on update it keeps the stored value. */
export const REDACTED = '[REDACTED]';

/** REQUIRED_SETTINGS is each supported integration type with the settings it cannot do without. */
const REQUIRED_SETTINGS: Record<string, string[][]> = {
  webhook: [['url']],
  email: [['addresses']],
  slack: [['url', 'token']],
  pagerduty: [['integrationKey']],
  opsgenie: [['apiKey']],
  telegram: [['bottoken'], ['chatid']],
  discord: [['url']],
  teams: [['url']],
  webex: [['bot_token'], ['room_id']],
  pushover: [['userKey'], ['apiToken']],
  victorops: [['url']],
  googlechat: [['url']],
  sns: [['topic_arn', 'phone_number', 'target_arn']],
  wecom: [['url', 'secret']],
};

/** CONTACT_TYPES lists the integration types a contact point may have. */
export const CONTACT_TYPES = Object.keys(REQUIRED_SETTINGS);

/** RESTRICTED_HEADERS are the custom headers Grafana's webhook refuses (canonical forms, lower-cased). */
const RESTRICTED_HEADERS = new Set(
  [
    'Host', 'Accept-Encoding', 'Accept-Charset', 'Content-Encoding', 'Content-Length', 'Authorization', 'User-Agent', 'Transfer-Encoding',
    'Connection', 'Upgrade', 'Trailer', 'Te', 'Proxy-Authorization', 'Proxy-Authenticate', 'Cookie', 'Set-Cookie', 'Referer', 'Origin',
    'X-Forwarded-For', 'X-Real-Ip', 'Via', 'Forwarded', 'Expect', 'Keep-Alive', 'Date', 'Max-Forwards',
  ].map((h) => h.toLowerCase()),
);

/** restrictedHeaders names the custom webhook headers (settings.headers) Grafana refuses, sorted. */
export function restrictedHeaders(headers: unknown): string[] {
  if (typeof headers !== 'object' || headers === null) return [];
  return Object.keys(headers)
    .filter((k) => isRestrictedHeader(k))
    .sort();
}

/** isRestrictedHeader tells a custom webhook header Grafana refuses. */
export function isRestrictedHeader(name: string): boolean {
  return RESTRICTED_HEADERS.has(name.toLowerCase());
}

/** decodeContactPoint reads an EmbeddedContactPoint body and checks its type and settings. */
export function decodeContactPoint(o: Obj): Omit<ContactPoint, 'provenance'> {
  const settings = o.settings;
  if (settings !== undefined && settings !== null && !isObj(settings)) throw badRequest('bad request data');
  const cp = { uid: str(o, 'uid'), name: str(o, 'name'), type: str(o, 'type'), settings: (settings as Obj | undefined) ?? {}, disableResolveMessage: bool(o, 'disableResolveMessage') };
  if (cp.uid !== '' && (cp.uid.length > 40 || !UID_RE.test(cp.uid))) throw invalidObject('uid: UID must be at most 40 characters long and contain only letters, digits, \'-\' and \'_\'');
  if (cp.name === '') throw invalidObject('name should not be empty');
  if (cp.type === '') throw invalidObject('type should not be an empty string');
  const required = REQUIRED_SETTINGS[cp.type];
  if (required === undefined) throw invalidObject(`notifier type ${JSON.stringify(cp.type)} is not supported`);
  if (settings === undefined || settings === null) throw invalidObject('settings should not be empty');
  for (const alternatives of required) {
    if (!alternatives.some((k) => typeof cp.settings[k] === 'string' && cp.settings[k] !== '')) {
      throw invalidObject(`failed to validate integration "${cp.name}" (UID ${cp.uid}) of type "${cp.type}": could not find ${alternatives.join(' or ')} property in settings`);
    }
  }
  if (cp.type === 'webhook' || cp.type === 'slack' || cp.type === 'discord' || cp.type === 'teams' || cp.type === 'googlechat') {
    for (const k of ['url']) {
      const u = cp.settings[k];
      if (typeof u === 'string' && u !== '' && u !== REDACTED && !/^https?:\/\/[^/]/.test(u)) throw invalidObject(`failed to validate integration "${cp.name}" (UID ${cp.uid}) of type "${cp.type}": invalid URL ${JSON.stringify(u)}`);
    }
  }
  if (cp.type === 'webhook') {
    const invalid = (why: string): ProvisioningError => invalidObject(`failed to validate integration "${cp.name}" (UID ${cp.uid}) of type "webhook": ${why}`);
    const refused = restrictedHeaders(cp.settings.headers);
    // Go's %q of a []string: ["A" "B"].
    if (refused.length > 0) throw invalid(`custom headers [${refused.map((h) => JSON.stringify(h)).join(' ')}] are not allowed`);
    const set = (k: string): boolean => typeof cp.settings[k] === 'string' && cp.settings[k] !== '';
    if (set('username') && set('password') && set('authorization_credentials')) throw invalid('both HTTP Basic Authentication and Authorization Header are set, only 1 is permitted');
    const payload = cp.settings.payload;
    if (payload !== undefined && payload !== null && !isObj(payload)) throw invalid('failed to unmarshal settings: payload must be an object');
  }
  if (cp.type === 'webhook' && cp.settings.httpMethod !== undefined && !['POST', 'PUT', ''].includes(String(cp.settings.httpMethod))) {
    throw invalidObject(`failed to validate integration "${cp.name}" (UID ${cp.uid}) of type "webhook": the HTTP method ${String(cp.settings.httpMethod)} is not supported. Only POST and PUT are supported`);
  }
  return cp;
}

/** settingAt reads a setting by its dotted path (`sigv4.secret_key`). */
export function settingAt(settings: Obj, path: string): unknown {
  let v: unknown = settings;
  for (const part of path.split('.')) v = isObj(v) ? v[part] : undefined;
  return v;
}

/** withSetting returns settings with the dotted path set to v (objects on the way copied, never modified). */
export function withSetting(settings: Obj, path: string, v: unknown): Obj {
  const [head, ...rest] = path.split('.');
  const out: Obj = { ...settings };
  out[head!] = rest.length === 0 ? v : withSetting(isObj(settings[head!]) ? (settings[head!] as Obj) : {}, rest.join('.'), v);
  return out;
}

/** redactSettings returns settings with each secret set replaced by [REDACTED]. */
export function redactSettings(type: string, settings: Obj): Obj {
  let out: Obj = { ...settings };
  for (const k of SECURE_SETTINGS[type] ?? []) {
    const v = settingAt(out, k);
    if (typeof v === 'string' && v !== '') out = withSetting(out, k, REDACTED);
  }
  return out;
}

/** encodeContactPoint writes an EmbeddedContactPoint (secrets redacted unless decrypt). */
export function encodeContactPoint(cp: ContactPoint, decrypt = false): Obj {
  const out: Obj = { uid: cp.uid, name: cp.name, type: cp.type, settings: decrypt ? cp.settings : redactSettings(cp.type, cp.settings), disableResolveMessage: cp.disableResolveMessage };
  if (cp.provenance !== '') out.provenance = cp.provenance;
  return out;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCH_OPS = ['=', '!=', '=~', '!~'];

function checkMatcher(m: ObjectMatcher): void {
  const [name, op, value] = m;
  if (!MATCH_OPS.includes(op)) throw badRequest(`bad request data`);
  if (name === '') throw invalidObject('invalid label name ""');
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch {
      throw invalidObject(`invalid regular expression ${JSON.stringify(value)} in matcher for label ${JSON.stringify(name)}`);
    }
  }
}

/** parseMatcherString reads one `matchers` entry ("name=value", "name=~\"re\"") into an object matcher. */
function parseMatcherString(s: string): ObjectMatcher {
  const m = /^\s*([^!=~\s]+|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(s);
  if (m === null) throw badRequest('bad request data');
  let name = m[1]!;
  let value = m[3]!;
  if (name.startsWith('"')) name = JSON.parse(name) as string;
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = JSON.parse(value) as string;
  return [name, m[2]!, value];
}

/** decodeRoute reads a Route (object_matchers, matchers, match, match_re all become object_matchers). */
export function decodeRoute(o: Obj, depth = 0): Route {
  if (depth > 100) throw invalidObject('notification policy tree is too deep');
  const r: Route = {};
  const receiver = str(o, 'receiver');
  if (receiver !== '') r.receiver = receiver;
  const gb = strList(o, 'group_by');
  if (gb !== undefined && gb.length > 0) {
    for (const l of gb) if (l !== '...' && !LABEL_NAME.test(l)) throw invalidObject(`invalid label name ${JSON.stringify(l)} in group_by list`);
    if (gb.includes('...') && gb.length > 1) throw invalidObject('cannot have wildcard group_by (`...`) and other labels at the same time');
    r.group_by = gb;
  }
  const ms: ObjectMatcher[] = [];
  if (o.object_matchers !== undefined && o.object_matchers !== null) {
    if (!Array.isArray(o.object_matchers)) throw badRequest('bad request data');
    for (const m of o.object_matchers as unknown[]) {
      if (!Array.isArray(m) || m.length !== 3 || m.some((x) => typeof x !== 'string')) throw badRequest('bad request data');
      ms.push([m[0] as string, m[1] as string, m[2] as string]);
    }
  }
  for (const s of strList(o, 'matchers') ?? []) ms.push(parseMatcherString(s));
  for (const [k, v] of Object.entries(strMap(o, 'match'))) ms.push([k, '=', v]);
  for (const [k, v] of Object.entries(strMap(o, 'match_re'))) ms.push([k, '=~', v]);
  for (const m of ms) checkMatcher(m);
  if (ms.length > 0) r.object_matchers = ms;
  const mti = strList(o, 'mute_time_intervals');
  if (mti !== undefined && mti.length > 0) r.mute_time_intervals = mti;
  const ati = strList(o, 'active_time_intervals');
  if (ati !== undefined && ati.length > 0) r.active_time_intervals = ati;
  if (bool(o, 'continue')) r.continue = true;
  if (o.routes !== undefined && o.routes !== null) {
    if (!Array.isArray(o.routes)) throw badRequest('bad request data');
    const routes = (o.routes as unknown[]).map((c) => {
      if (!isObj(c)) throw badRequest('bad request data');
      return decodeRoute(c, depth + 1);
    });
    if (routes.length > 0) r.routes = routes;
  }
  for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) {
    const v = o[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw badRequest('bad request data');
    r[k] = normDuration(v, k.replace('_', ' '))!;
  }
  if (r.group_interval === '0s') throw invalidObject('group_interval cannot be zero');
  if (r.repeat_interval === '0s') throw invalidObject('repeat_interval cannot be zero');
  return r;
}

/** encodeRoute writes a Route in Grafana's field order (provenance on the root only). */
export function encodeRoute(r: Route, provenance?: string): Obj {
  const out: Obj = {};
  if (r.receiver !== undefined) out.receiver = r.receiver;
  if (r.group_by !== undefined) out.group_by = r.group_by;
  if (r.object_matchers !== undefined) out.object_matchers = r.object_matchers;
  if (r.mute_time_intervals !== undefined) out.mute_time_intervals = r.mute_time_intervals;
  if (r.active_time_intervals !== undefined) out.active_time_intervals = r.active_time_intervals;
  if (r.continue === true) out.continue = true;
  if (r.routes !== undefined) out.routes = r.routes.map((c) => encodeRoute(c));
  if (r.group_wait !== undefined) out.group_wait = r.group_wait;
  if (r.group_interval !== undefined) out.group_interval = r.group_interval;
  if (r.repeat_interval !== undefined) out.repeat_interval = r.repeat_interval;
  if (provenance !== undefined && provenance !== '') out.provenance = provenance;
  return out;
}

/** decodeTemplateContent reads a NotificationTemplateContent body: the text and the caller's version. */
export function decodeTemplateContent(o: Obj): { template: string; version: string } {
  return { template: str(o, 'template'), version: str(o, 'version') };
}

/** encodeTemplate writes a NotificationTemplate with its version. */
export function encodeTemplate(t: Template, version: string): Obj {
  const out: Obj = { name: t.name, template: t.template };
  if (t.provenance !== '') out.provenance = t.provenance;
  out.version = version;
  return out;
}

function decodeTimeInterval(raw: unknown): TimeInterval {
  if (!isObj(raw)) throw badRequest('bad request data');
  const ti: TimeInterval = {};
  if (raw.times !== undefined && raw.times !== null) {
    if (!Array.isArray(raw.times)) throw badRequest('bad request data');
    ti.times = (raw.times as unknown[]).map((t) => {
      if (!isObj(t)) throw badRequest('bad request data');
      return { start_time: str(t, 'start_time'), end_time: str(t, 'end_time') };
    });
    if (ti.times.length === 0) delete ti.times;
  }
  for (const k of ['weekdays', 'days_of_month', 'months', 'years'] as const) {
    const l = strList(raw, k);
    if (l !== undefined && l.length > 0) ti[k] = l;
  }
  const loc = str(raw, 'location');
  if (loc !== '') ti.location = loc;
  try {
    parseTimeInterval(ti);
    if (loc !== '') new Intl.DateTimeFormat('en-US', { timeZone: loc });
  } catch (err) {
    throw invalidObject(err instanceof RangeError ? `unknown time zone ${JSON.stringify(loc)}` : err instanceof Error ? err.message : String(err));
  }
  return ti;
}

/** decodeMuteTiming reads a MuteTimeInterval body (name, time_intervals, version). */
export function decodeMuteTiming(o: Obj): { name: string; time_intervals: TimeInterval[]; version: string } {
  const name = str(o, 'name');
  const raw = o.time_intervals;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw badRequest('bad request data');
  const time_intervals = ((raw as unknown[] | undefined) ?? []).map(decodeTimeInterval);
  return { name, time_intervals, version: str(o, 'version') };
}

/** encodeMuteTiming writes a MuteTimeInterval with its version. */
export function encodeMuteTiming(m: MuteTiming, version: string): Obj {
  const out: Obj = { name: m.name, time_intervals: m.time_intervals, version };
  if (m.provenance !== '') out.provenance = m.provenance;
  return out;
}

/** hashVersion is a resource version: a short stable hash of the object's content. */
export function hashVersion(v: unknown): string {
  // FNV-1a 64 over the canonical JSON, as hex (Grafana hashes its models the same way).
  const s = JSON.stringify(v);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
