// grafana-notify.ts is the Grafana side of notifications: Grafana's template
// data (ExtendedData: each alert with its values, value string, silence,
// dashboard and panel links, private `__x__` labels and annotations removed),
// Grafana's default templates (`default.title`, `default.message`) next to
// Alertmanager's, and the integrations whose payload Grafana writes itself
// (webhook with Grafana's extended payload, Google Chat, WeCom, email).
// They register in the Alertmanager's integration registry under `grafana_*`
// keys; delivery.ts attaches them to the receivers it builds.

import { createHmac } from 'node:crypto';
import { GO_ZERO_MS, GoTime } from '../compat/gotime.js';
import { goJsonString } from '../distributor/otlp.js';
import { buildTemplateData, goTimeOf, KV, NotifyError, type Expander, type HTTPClientConfig, type Notifier, type NotifyContext, type TemplateData, type TLSConfig } from '../alertmanager/notifiers/notifier.js';
import { goJson, send } from '../alertmanager/notifiers/payload.js';
import { registerIntegration } from '../alertmanager/notifiers/registry.js';
import { alertmanagerFuncs, engineKV } from '../alertmanager/templates.js';
import { DEFAULT_TEMPLATES } from '../alertmanager/templates/default-tmpl.js';
import type { Alert } from '../alertmanager/types.js';
import { goStringMap, goStruct, Template } from '../template/index.js';
import { isRestrictedHeader, orgNumber } from './codec.js';
import { gomplateFuncs } from './gomplate.js';
import type { GrafanaSmtp } from './grafana-email.js';

/** Labels and annotations Grafana's state manager puts on the alerts it sends (alerting models). */
export const RULE_UID_LABEL = '__alert_rule_uid__';
export const NAMESPACE_UID_LABEL = '__alert_rule_namespace_uid__';
export const ORG_ID_ANNOTATION = '__orgId__';
export const VALUES_ANNOTATION = '__values__';
export const VALUE_STRING_ANNOTATION = '__value_string__';
export const DASHBOARD_UID_ANNOTATION = '__dashboardUid__';
export const PANEL_ID_ANNOTATION = '__panelId__';

/** GRAFANA_VERSION is the Grafana release whose notification texts we follow (version info in Google Chat). */
export const GRAFANA_VERSION = '12.3.0';

/** DEFAULT_TITLE and DEFAULT_MESSAGE are Grafana's default title and message settings of every integration. */
export const DEFAULT_TITLE = '{{ template "default.title" . }}';
export const DEFAULT_MESSAGE = '{{ template "default.message" . }}';

/**
 * GRAFANA_TEMPLATES define Grafana's default notification texts: the subject
 * line (status, firing and resolved counts, group label values, then the other
 * common label values), and per alert its values, labels, annotations and
 * links, firing alerts first.
 */
const GRAFANA_TEMPLATES = [
  '{{ define "__subject" }}[{{ .Status | toUpper }}',
  '{{- if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ if gt (.Alerts.Resolved | len) 0 }}, RESOLVED:{{ .Alerts.Resolved | len }}{{ end }}{{ end -}}',
  '] {{ .GroupLabels.SortedPairs.Values | join " " }} ',
  '{{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}',
  '{{ define "__text_values_list" }}{{ if len .Values }}{{ $first := true }}{{ range $refID, $value := .Values }}',
  '{{- if $first }}{{ $first = false }}{{ else }}, {{ end }}{{ $refID }}={{ $value }}{{ end }}',
  '{{- else }}[no value]{{ end }}{{ end }}',
  '{{ define "__text_alert_list" }}{{ range . }}\nValue: {{ template "__text_values_list" . }}\nLabels:\n',
  '{{- range .Labels.SortedPairs }}\n - {{ .Name }} = {{ .Value }}{{ end }}\nAnnotations:\n',
  '{{- range .Annotations.SortedPairs }}\n - {{ .Name }} = {{ .Value }}{{ end }}\n',
  '{{ if gt (len .GeneratorURL) 0 }}Source: {{ .GeneratorURL }}\n{{ end }}',
  '{{ if gt (len .SilenceURL) 0 }}Silence: {{ .SilenceURL }}\n{{ end }}',
  '{{ if gt (len .DashboardURL) 0 }}Dashboard: {{ .DashboardURL }}\n{{ end }}',
  '{{ if gt (len .PanelURL) 0 }}Panel: {{ .PanelURL }}\n{{ end }}{{ end }}{{ end }}',
  '{{ define "default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "default.message" }}',
  '{{- if gt (len .Alerts.Firing) 0 }}**Firing**\n{{ template "__text_alert_list" .Alerts.Firing }}{{ if gt (len .Alerts.Resolved) 0 }}\n\n{{ end }}{{ end }}',
  '{{- if gt (len .Alerts.Resolved) 0 }}**Resolved**\n{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}{{ end }}',
].join('');

/** ExtendedAlert is Grafana's templates.ExtendedAlert. */
export interface ExtendedAlert {
  Status: 'firing' | 'resolved';
  Labels: KV;
  Annotations: KV;
  StartsAt: GoTime;
  EndsAt: GoTime;
  GeneratorURL: string;
  Fingerprint: string;
  SilenceURL: string;
  DashboardURL: string;
  PanelURL: string;
  RuleUID: string;
  Values: Record<string, number> | undefined;
  ValueString: string;
  OrgID: number | undefined;
}

/** ExtendedData is Grafana's templates.ExtendedData, the dot of Grafana's notification templates. */
export interface ExtendedData {
  Receiver: string;
  Status: 'firing' | 'resolved';
  Alerts: ExtendedAlert[];
  GroupLabels: KV;
  CommonLabels: KV;
  CommonAnnotations: KV;
  ExternalURL: string;
  GroupKey: string;
  TruncatedAlerts: number;
  /** Vars are the webhook custom payload's variables (`.Vars.<key>`). */
  Vars?: Record<string, string>;
}

/** isPrivate tells Grafana's private keys (`__name__` style) that templates and payloads never show. */
function isPrivate(k: string): boolean {
  return k.length >= 4 && k.startsWith('__') && k.endsWith('__');
}

function withoutPrivate(kv: KV): KV {
  const out = new KV();
  for (const [k, v] of kv) if (!isPrivate(k)) out.set(k, v);
  return out;
}

/** goQueryEscape escapes as Go's url.QueryEscape (space as '+'). */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/** encodeQuery writes query values as Go's url.Values.Encode: keys sorted, each key's values in order. */
function encodeQuery(q: Array<[string, string]>): string {
  const keys = [...new Set(q.map(([k]) => k))].sort();
  const out: string[] = [];
  for (const k of keys) for (const [kk, v] of q) if (kk === k) out.push(`${goQueryEscape(k)}=${goQueryEscape(v)}`);
  return out.join('&');
}

function parseQuery(search: string): Array<[string, string]> {
  return [...new URLSearchParams(search)];
}

/** withParam sets one query parameter (url.Values.Set, then Encode). */
function withParam(raw: string, key: string, value: string): string {
  try {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(raw);
    const u = new URL(raw, 'http://relative.invalid');
    const q = parseQuery(u.search).filter(([k]) => k !== key);
    q.push([key, value]);
    return `${absolute ? u.origin : ''}${u.pathname}?${encodeQuery(q)}${u.hash}`;
  } catch {
    return raw;
  }
}

/** joinPath appends a path as Go's url.JoinPath (one slash between, query kept). */
function joinPath(base: URL, ...parts: string[]): { path: string; query: Array<[string, string]>; origin: string } {
  const segs = [base.pathname, ...parts].join('/').split('/').filter((s) => s !== '');
  return { origin: base.origin, path: '/' + segs.join('/'), query: parseQuery(base.search) };
}

/** extendAlert adds Grafana's fields to one alert as templates.extendAlert. */
function extendAlert(a: TemplateData['Alerts'][number], externalURL: string, now: number): ExtendedAlert {
  const orgId = a.Annotations.get(ORG_ID_ANNOTATION) ?? '';
  const ruleUID = a.Labels.get(RULE_UID_LABEL) ?? '';
  let values: Record<string, number> | undefined;
  const rawValues = a.Annotations.get(VALUES_ANNOTATION);
  if (rawValues !== undefined) {
    try {
      values = JSON.parse(rawValues) as Record<string, number>;
    } catch {
      values = undefined;
    }
  }
  const out: ExtendedAlert = {
    Status: a.Status,
    Labels: withoutPrivate(a.Labels),
    Annotations: withoutPrivate(a.Annotations),
    StartsAt: a.StartsAt,
    // Zero while firing: buildTemplateData hides an end not reached yet, as types.Alerts does.
    EndsAt: a.EndsAt,
    GeneratorURL: orgId !== '' && a.GeneratorURL !== '' ? withParam(a.GeneratorURL, 'orgId', orgId) : a.GeneratorURL,
    Fingerprint: a.Fingerprint,
    SilenceURL: '',
    DashboardURL: '',
    PanelURL: '',
    RuleUID: ruleUID,
    Values: values,
    ValueString: a.Annotations.get(VALUE_STRING_ANNOTATION) ?? '',
    OrgID: /^-?[0-9]+$/.test(orgId) ? Number(orgId) : undefined,
  };
  if (externalURL === '') return out;
  let base: URL;
  try {
    base = new URL(externalURL);
  } catch {
    return out;
  }
  const baseQuery = parseQuery(base.search).filter(([k]) => orgId === '' || k !== 'orgId');
  if (orgId !== '') baseQuery.push(['orgId', orgId]);
  const dashboardUid = a.Annotations.get(DASHBOARD_UID_ANNOTATION) ?? '';
  if (dashboardUid !== '') {
    const d = joinPath(base, 'd', dashboardUid);
    const q: Array<[string, string]> = [...baseQuery];
    if (a.StartsAt.ms !== GO_ZERO_MS) {
      const to = out.EndsAt.ms === GO_ZERO_MS ? now : out.EndsAt.ms;
      q.push(['from', String(a.StartsAt.ms - 3_600_000)], ['to', String(to)]);
    }
    out.DashboardURL = `${d.origin}${d.path}${q.length > 0 ? '?' + encodeQuery(q) : ''}`;
    const panelId = a.Annotations.get(PANEL_ID_ANNOTATION) ?? '';
    if (panelId !== '') out.PanelURL = withParam(out.DashboardURL, 'viewPanel', panelId);
  }
  const s = joinPath(base, 'alerting/silence/new');
  const q: Array<[string, string]> = [...baseQuery, ['alertmanager', 'grafana']];
  if (ruleUID !== '') q.push(['matcher', `${RULE_UID_LABEL}=${ruleUID}`]);
  for (const p of a.Labels.SortedPairs()) {
    if (isPrivate(p.Name)) continue;
    if (ruleUID !== '' && (p.Name === 'grafana_folder' || p.Name === 'alertname')) continue;
    q.push(['matcher', `${p.Name}=${p.Value}`]);
  }
  out.SilenceURL = `${s.origin}${s.path}?${encodeQuery(q)}`;
  return out;
}

/** extendData builds Grafana's ExtendedData for one notification (templates.ExtendData). */
export function extendData(ctx: NotifyContext, alerts: Alert[], truncated = 0): ExtendedData {
  const d = buildTemplateData(ctx.receiver, ctx.groupKey, ctx.groupLabels, alerts, ctx.externalURL, ctx.now, ctx.reason);
  return extendTemplateData(d, ctx.now, truncated);
}

/** extendTemplateData turns Alertmanager's template data into Grafana's (the Alertmanager's integrations render through it). */
export function extendTemplateData(d: TemplateData, now: number, truncated = 0): ExtendedData {
  return {
    Receiver: d.Receiver,
    Status: d.Status,
    Alerts: d.Alerts.map((a) => extendAlert(a, d.ExternalURL, now)),
    GroupLabels: d.GroupLabels,
    CommonLabels: withoutPrivate(d.CommonLabels),
    CommonAnnotations: withoutPrivate(d.CommonAnnotations),
    ExternalURL: d.ExternalURL,
    GroupKey: d.GroupKey,
    TruncatedAlerts: truncated,
  };
}

function method(o: object, name: string, fn: (...a: any[]) => unknown): void {
  Object.defineProperty(o, name, { value: fn, enumerable: false });
}

/** engineAlerts converts alerts into the template engine's Go values, with the Firing and Resolved methods. */
export function engineAlerts(list: ExtendedAlert[]): unknown[] {
  const out = list.map((a) =>
    goStruct(
      {
        Status: a.Status,
        Labels: engineKV(a.Labels),
        Annotations: engineKV(a.Annotations),
        StartsAt: a.StartsAt,
        EndsAt: a.EndsAt,
        GeneratorURL: a.GeneratorURL,
        Fingerprint: a.Fingerprint,
        SilenceURL: a.SilenceURL,
        DashboardURL: a.DashboardURL,
        PanelURL: a.PanelURL,
        RuleUID: a.RuleUID,
        Values: { ...(a.Values ?? {}) },
        ValueString: a.ValueString,
        ImageURL: '',
        EmbeddedImage: '',
        OrgID: a.OrgID,
      },
      'templates.ExtendedAlert',
    ),
  );
  method(out, 'Firing', () => engineAlerts(list.filter((a) => a.Status === 'firing')));
  method(out, 'Resolved', () => engineAlerts(list.filter((a) => a.Status === 'resolved')));
  return out;
}

/** engineExtendedData converts ExtendedData into the template engine's Go value model. */
function engineExtendedData(d: ExtendedData): unknown {
  return goStruct(
    {
      Receiver: d.Receiver,
      Status: d.Status,
      Alerts: engineAlerts(d.Alerts),
      GroupLabels: engineKV(d.GroupLabels),
      CommonLabels: engineKV(d.CommonLabels),
      CommonAnnotations: engineKV(d.CommonAnnotations),
      ExternalURL: d.ExternalURL,
      AppVersion: GRAFANA_VERSION,
      GroupKey: d.GroupKey,
      TruncatedAlerts: BigInt(d.TruncatedAlerts),
      Vars: goStringMap({ ...(d.Vars ?? {}) }),
    },
    'templates.ExtendedData',
  );
}

/**
 * grafanaTemplateSet is an empty template set as Grafana makes one: Alertmanager's functions and Grafana's
 * (gomplate's namespaces), then Alertmanager's and Grafana's default templates. current gives the set a call of
 * tmpl.Exec or tmpl.Inline works in (the clone being executed).
 */
export function grafanaTemplateSet(html: boolean, current?: () => Template): Template {
  let self: Template | undefined;
  const t = new Template('', { funcs: { ...alertmanagerFuncs, ...gomplateFuncs(() => current?.() ?? (self as Template)) }, missingKey: 'zero', html });
  self = t;
  t.parse(DEFAULT_TEMPLATES, 'default.tmpl');
  t.parse(GRAFANA_TEMPLATES, '__grafana_default');
  return t;
}

/** GrafanaTemplates renders texts with Grafana's and Alertmanager's default templates plus the organisation's. */
export class GrafanaTemplates {
  private readonly base: Template;
  /** running is the clone being executed (for tmpl.Exec and tmpl.Inline). */
  private running: Template | undefined;

  constructor(orgTemplates: readonly string[], html = false) {
    const t = grafanaTemplateSet(html, () => this.running ?? this.base);
    for (const [i, text] of orgTemplates.entries()) t.parse(text, `__org_${i}`);
    this.base = t;
  }

  /** expand renders one text against the data (throws the template error). */
  expand(text: string, data: ExtendedData): string {
    if (text === '') return '';
    const t = this.base.clone();
    t.parse(text, '__text');
    const outer = this.running;
    this.running = t;
    try {
      return t.execute(engineExtendedData(data), '__text');
    } finally {
      this.running = outer;
    }
  }
}

/**
 * grafanaExpander renders the Alertmanager integrations' texts (Slack, PagerDuty, email, SNS, ...) as Grafana does:
 * with Grafana's template data and default templates next to the organisation's.
 */
export function grafanaExpander(orgTemplates: readonly string[]): Expander {
  const text = new GrafanaTemplates(orgTemplates);
  const html = new GrafanaTemplates(orgTemplates, true);
  return {
    text: (s, d) => text.expand(s, extendTemplateData(d, Date.now())),
    html: (s, d) => html.expand(s, extendTemplateData(d, Date.now())),
    // Labels an integration copies into its payload (Opsgenie's details) leave Grafana's private ones out, as ExtendedData does.
    view: (d) => ({ ...d, CommonLabels: withoutPrivate(d.CommonLabels), CommonAnnotations: withoutPrivate(d.CommonAnnotations) }),
  };
}

/** renderSetting renders a setting's template text, '' (logged) on a template error, as Grafana's tmpl helper. */
export function renderSetting(ctx: NotifyContext, tmpl: GrafanaTemplates, text: string, data: ExtendedData, what: string): string {
  try {
    return tmpl.expand(text, data);
  } catch (err) {
    ctx.logger.warn(`failed to template ${what}`, { err: err instanceof Error ? err.message : String(err) });
    return '';
  }
}

function str(v: unknown, dflt = ''): string {
  return typeof v === 'string' && v !== '' ? v : v === undefined || v === null || v === '' ? dflt : String(v);
}

/** alertJson writes one ExtendedAlert as Go's encoding/json (field order and omitempty as the struct tags). */
function alertJson(a: ExtendedAlert): string {
  const kv = (m: KV): string => goJson(Object.fromEntries([...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))));
  const parts = [
    `"status":"${a.Status}"`,
    `"labels":${kv(a.Labels)}`,
    `"annotations":${kv(a.Annotations)}`,
    `"startsAt":"${goTimeOf(a.StartsAt)}"`,
    `"endsAt":"${goTimeOf(a.EndsAt)}"`,
    `"generatorURL":${goJsonString(a.GeneratorURL)}`,
    `"fingerprint":"${a.Fingerprint}"`,
    `"silenceURL":${goJsonString(a.SilenceURL)}`,
    `"dashboardURL":${goJsonString(a.DashboardURL)}`,
    `"panelURL":${goJsonString(a.PanelURL)}`,
  ];
  if (a.RuleUID !== '') parts.push(`"ruleUID":${goJsonString(a.RuleUID)}`);
  parts.push(`"values":${a.Values === undefined ? 'null' : goJson(Object.fromEntries(Object.keys(a.Values).sort().map((k) => [k, a.Values![k]])))}`);
  parts.push(`"valueString":${goJsonString(a.ValueString)}`);
  if (a.OrgID !== undefined) parts.push(`"orgId":${a.OrgID}`);
  return '{' + parts.join(',') + '}';
}

/** grafanaWebhookPayload writes Grafana's webhook message (ExtendedData's fields, then version, groupKey, truncatedAlerts, orgId, title, state, message). */
export function grafanaWebhookPayload(d: ExtendedData, orgId: number, title: string, message: string): string {
  const kv = (m: KV): string => goJson(Object.fromEntries([...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))));
  const state = d.Alerts.some((a) => a.Status === 'firing') ? 'alerting' : 'ok';
  return (
    `{"receiver":${goJsonString(d.Receiver)},"status":"${d.Status}","alerts":[${d.Alerts.map(alertJson).join(',')}],` +
    `"groupLabels":${kv(d.GroupLabels)},"commonLabels":${kv(d.CommonLabels)},"commonAnnotations":${kv(d.CommonAnnotations)},"externalURL":${goJsonString(d.ExternalURL)},` +
    `"version":"1","groupKey":${goJsonString(d.GroupKey)},"truncatedAlerts":${d.TruncatedAlerts},"orgId":${orgId},` +
    `"title":${goJsonString(title)},"state":"${state}","message":${goJsonString(message)}}`
  );
}

/** NOOP_URL is the webhook URL that makes Grafana skip the request and count the notification as sent. */
const NOOP_URL = 'grafana://noop';


/** GrafanaEntry is one Grafana integration attached to a receiver: its settings and the organisation's templates. */
export interface GrafanaEntry extends Record<string, unknown> {
  send_resolved: boolean;
  settings: Record<string, unknown>;
  templates: string[];
  /** smtp is Grafana's [smtp] section, for email contact points. */
  smtp?: GrafanaSmtp;
}

/** grafanaSend posts a body as Grafana's webhook sender (User-Agent Grafana, any 2xx is success, 5xx retried). */
async function grafanaSend(
  ctx: NotifyContext,
  url: string,
  body: string,
  opts: { method?: string; headers?: Record<string, string>; user?: string; password?: string; contentType?: string; tls?: TLSConfig },
): Promise<void> {
  const headers: Record<string, string> = { 'User-Agent': 'Grafana' };
  let contentType = opts.contentType ?? 'application/json';
  // Custom headers are set after Grafana's own, so a Content-Type among them wins.
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (k.toLowerCase() === 'content-type') contentType = v;
    else headers[k] = v;
  }
  let cfg: HTTPClientConfig | undefined;
  if (opts.user !== undefined && opts.user !== '') cfg = { basic_auth: { username: opts.user, password: opts.password ?? '' } };
  if (opts.tls !== undefined) cfg = { ...cfg, tls_config: opts.tls };
  await send(ctx, cfg, url, body, { method: opts.method ?? 'POST', headers, contentType });
}

/** HMAC_SIGNATURE_HEADER is the header Grafana's webhook signs into by default. */
const HMAC_SIGNATURE_HEADER = 'X-Grafana-Alerting-Signature';

/**
 * signWebhook adds Grafana's webhook HMAC signature when hmacConfig has a secret: the lowercase hex
 * HMAC-SHA256 of the body, or of `<unix seconds>:<body>` when a timestamp header is named (that
 * header then carries the seconds).
 */
export function signWebhook(headers: Record<string, string>, body: string, hmacConfig: unknown, nowMs: number): void {
  if (typeof hmacConfig !== 'object' || hmacConfig === null) return;
  const c = hmacConfig as Record<string, unknown>;
  const secret = str(c.secret);
  if (secret === '') return;
  const tsHeader = str(c.timestampHeader);
  const ts = String(Math.floor(nowMs / 1000));
  const mac = createHmac('sha256', secret);
  if (tsHeader !== '') {
    headers[tsHeader] = ts;
    mac.update(`${ts}:`);
  }
  headers[str(c.header, HMAC_SIGNATURE_HEADER)] = mac.update(body).digest('hex');
}

/** webhookTls maps Grafana's webhook tlsConfig (PEM texts) to the HTTP client's tls_config; undefined without one. */
function webhookTls(tlsConfig: unknown): TLSConfig | undefined {
  if (typeof tlsConfig !== 'object' || tlsConfig === null) return undefined;
  const c = tlsConfig as Record<string, unknown>;
  const out: TLSConfig = {};
  if (str(c.caCertificate) !== '') out.ca = str(c.caCertificate);
  if (str(c.clientCertificate) !== '') out.cert = str(c.clientCertificate);
  if (str(c.clientKey) !== '') out.key = str(c.clientKey);
  if (c.insecureSkipVerify === true) out.insecure_skip_verify = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

function createWebhook(entry: Record<string, unknown>, checkUrl: (u: string) => void): Notifier {
  const e = entry as GrafanaEntry;
  const st = e.settings;
  const tmpl = new GrafanaTemplates(e.templates);
  const payload = typeof st.payload === 'object' && st.payload !== null ? (st.payload as Record<string, unknown>) : {};
  const payloadTemplate = str(payload.template);
  const vars: Record<string, string> = {};
  if (typeof payload.vars === 'object' && payload.vars !== null) for (const [k, v] of Object.entries(payload.vars)) vars[k] = String(v);
  return {
    async notify(ctx, alerts) {
      const max = Number(st.maxAlerts ?? 0);
      const kept = max > 0 && alerts.length > max ? alerts.slice(0, max) : alerts;
      const data = extendData(ctx, kept, alerts.length - kept.length);
      data.Vars = vars;
      const url = renderSetting(ctx, tmpl, str(st.url), data, 'webhook url');
      let body: string;
      if (payloadTemplate !== '') {
        // A custom payload that fails to render fails the notification (Grafana has no fallback to the default payload).
        try {
          body = tmpl.expand(payloadTemplate, data);
        } catch (err) {
          throw new NotifyError(`failed to template webhook payload: ${(err as Error).message}`, false);
        }
      } else {
        const title = renderSetting(ctx, tmpl, str(st.title, DEFAULT_TITLE), data, 'webhook title');
        const message = renderSetting(ctx, tmpl, str(st.message, DEFAULT_MESSAGE), data, 'webhook message');
        body = grafanaWebhookPayload(data, orgNumber(ctx.tenant), title, message);
      }
      if (url === NOOP_URL) return;
      checkUrl(url);
      const headers: Record<string, string> = {};
      const extra = st.headers;
      if (typeof extra === 'object' && extra !== null) for (const [k, v] of Object.entries(extra)) if (!isRestrictedHeader(k)) headers[k] = String(v);
      if (str(st.authorization_credentials) !== '') headers.Authorization = `${str(st.authorization_scheme, 'Bearer')} ${str(st.authorization_credentials)}`;
      signWebhook(headers, body, st.hmacConfig, ctx.now);
      await grafanaSend(ctx, url, body, { method: str(st.httpMethod, 'POST'), headers, user: str(st.username), password: str(st.password), tls: webhookTls(st.tlsConfig) });
    },
  };
}

function createGoogleChat(entry: Record<string, unknown>, checkUrl: (u: string) => void): Notifier {
  const e = entry as GrafanaEntry;
  const st = e.settings;
  const tmpl = new GrafanaTemplates(e.templates);
  return {
    async notify(ctx, alerts) {
      const data = extendData(ctx, alerts);
      const widgets: unknown[] = [];
      const msg = renderSetting(ctx, tmpl, str(st.message, DEFAULT_MESSAGE), data, 'Google Chat message');
      if (msg !== '') widgets.push({ textParagraph: { text: msg } });
      if (st.hide_open_button !== true) {
        const ruleURL = `${ctx.externalURL.replace(/\/+$/, '')}/alerting/list`;
        if (/^[a-z][a-z0-9+.-]*:/i.test(ruleURL)) widgets.push({ buttons: [{ textButton: { text: 'OPEN IN GRAFANA', onClick: { openLink: { url: ruleURL } } } }] });
      }
      if (st.hide_version_info !== true) widgets.push({ textParagraph: { text: `Grafana v${GRAFANA_VERSION} | ${rfc822(ctx.now)}` } });
      const title = renderSetting(ctx, tmpl, str(st.title, DEFAULT_TITLE), data, 'Google Chat title');
      const body = goJson({ previewText: title, fallbackText: title, cards: [{ header: { title }, sections: [{ widgets }] }] });
      const url = renderSetting(ctx, tmpl, str(st.url), data, 'Google Chat url') || str(st.url);
      checkUrl(url);
      await grafanaSend(ctx, url, body, { contentType: 'application/json; charset=UTF-8' });
    },
  };
}

/** rfc822 formats a time as Go's time.RFC822 ("02 Jan 06 15:04 UTC"). */
function rfc822(ms: number): string {
  const d = new Date(ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

function createWeCom(entry: Record<string, unknown>, checkUrl: (u: string) => void): Notifier {
  const e = entry as GrafanaEntry;
  const st = e.settings;
  const tmpl = new GrafanaTemplates(e.templates);
  const msgType = st.msgtype === 'text' ? 'text' : 'markdown';
  const apiApp = str(st.url) === '' && str(st.secret) !== '';
  const endpoint = str(st.endpointUrl, 'https://qyapi.weixin.qq.com');
  let token: { value: string; expiresAt: number } | undefined;
  return {
    async notify(ctx, alerts) {
      const data = extendData(ctx, alerts);
      const title = renderSetting(ctx, tmpl, str(st.title, DEFAULT_TITLE), data, 'WeCom title');
      const message = renderSetting(ctx, tmpl, str(st.message, DEFAULT_MESSAGE), data, 'WeCom message');
      const content = msgType === 'markdown' ? `# ${title}\n${message}\n` : `${title}\n${message}`;
      // Go marshals the map with its keys sorted.
      const body: Record<string, unknown> = { [msgType]: { content }, msgtype: msgType };
      let url = str(st.url);
      if (apiApp) {
        body.agentid = str(st.agent_id);
        body.touser = str(st.touser, '@all');
        if (token === undefined || token.expiresAt < Date.now()) {
          const tokenUrl = `${endpoint}/cgi-bin/gettoken?corpid=${str(st.corp_id)}&corpsecret=${str(st.secret)}`;
          checkUrl(tokenUrl);
          const res = await fetch(tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'Grafana' }, signal: ctx.signal });
          if (Math.floor(res.status / 100) !== 2) throw new NotifyError(`WeCom returned statuscode invalid status code: ${res.status} ${res.statusText}`, true);
          const t = (await res.json()) as { access_token?: string; errcode?: number; errmsg?: string; expire_in?: number };
          if ((t.errcode ?? 0) !== 0) throw new NotifyError(`WeCom returned errmsg: ${t.errmsg ?? ''}`, false);
          token = { value: t.access_token ?? '', expiresAt: Date.now() + ((t.expire_in ?? 0) - 300) * 1000 };
        }
        url = `${endpoint}/cgi-bin/message/send?access_token=${token.value}`;
      }
      checkUrl(url);
      await grafanaSend(ctx, url, goJson(Object.fromEntries(Object.keys(body).sort().map((k) => [k, body[k]]))), {});
    },
  };
}

/** GrafanaIntegration is one integration whose payload Grafana writes itself, attached to receivers under its key. */
export interface GrafanaIntegration {
  key: string;
  name: string;
  create: (entry: Record<string, unknown>, checkUrl: (u: string) => void) => Notifier;
}

/** GRAFANA_INTEGRATIONS are the integrations registered by registerGrafanaIntegration, by Grafana integration type. */
export const GRAFANA_INTEGRATIONS: Record<string, GrafanaIntegration> = {};

/** registerGrafanaIntegration adds a Grafana integration type and registers it in the Alertmanager's integration registry. */
export function registerGrafanaIntegration(type: string, def: GrafanaIntegration): void {
  GRAFANA_INTEGRATIONS[type] = def;
  registerIntegration({
    key: def.key,
    name: def.name,
    sendResolvedDefault: true,
    validate: () => undefined,
    create: (entry, deps) => def.create(entry, deps.checkUrl),
  });
}

registerGrafanaIntegration('webhook', { key: 'grafana_webhook_configs', name: 'webhook', create: createWebhook });
registerGrafanaIntegration('googlechat', { key: 'grafana_googlechat_configs', name: 'googlechat', create: createGoogleChat });
registerGrafanaIntegration('wecom', { key: 'grafana_wecom_configs', name: 'wecom', create: createWeCom });
