// grafana-email.ts is Grafana's email contact point: the subject and message
// settings rendered with Grafana's template data, an HTML and a plain-text
// body laid out as Grafana's alert notification email (counts, group,
// each alert's summary, description, values, labels, annotations and links,
// or the custom message in their place), sent through the SMTP client of the
// Alertmanager's email integration with Grafana's [smtp] settings: one
// message per address unless singleEmail is set.

import { withSmtp, mimeMessage, type EmailConfig } from '../alertmanager/notifiers/email.js';
import { NotifyError, type Notifier } from '../alertmanager/notifiers/notifier.js';
import { alertmanagerFuncs, engineKV } from '../alertmanager/templates.js';
import { goStruct, Template } from '../template/index.js';
import { DEFAULT_TITLE, engineAlerts, extendData, GRAFANA_VERSION, GrafanaTemplates, registerGrafanaIntegration, renderSetting, type GrafanaEntry } from './grafana-notify.js';

/** GrafanaSmtp is Grafana's [smtp] section (flags -grafana-provisioning.smtp.*). */
export interface GrafanaSmtp {
  host: string;
  user: string;
  password: string;
  fromAddress: string;
  fromName: string;
  ehloIdentity: string;
  skipVerify: boolean;
  startTlsPolicy: 'OpportunisticStartTLS' | 'MandatoryStartTLS' | 'NoStartTLS';
}

/** DEFAULT_SMTP is Grafana's default [smtp] section. */
export const DEFAULT_SMTP: GrafanaSmtp = {
  host: 'localhost:25',
  user: '',
  password: '',
  fromAddress: 'admin@grafana.localhost',
  fromName: 'Grafana',
  ehloIdentity: '',
  skipVerify: false,
  startTlsPolicy: 'OpportunisticStartTLS',
};

/** EMAIL_TEMPLATES are the HTML body (`grafana.email.html`) and the plain-text body (`grafana.email.text`). */
const EMAIL_TEMPLATES = `
{{- define "grafana.email.count" }}{{ . }} {{ if eq . 1 }}instance{{ else }}instances{{ end }}{{ end }}
{{- define "grafana.email.group" }}
  {{- if eq (.SortedPairs.Names | join ",") "alertname,grafana_folder" }}{{ .grafana_folder }} / {{ .alertname }}
  {{- else }}{{ range $i, $p := .SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}={{ $p.Value }}{{ end }}{{ end }}
{{- end }}
{{- define "grafana.email.html.alert" }}
<tr><td style="padding:14px 24px;border-bottom:1px solid #e4e7eb">
<p style="margin:0;font-size:15px;font-weight:600">{{ .Labels.alertname }}{{ if .GeneratorURL }} <a href="{{ .GeneratorURL }}" style="margin-left:8px;font-size:13px;font-weight:400;color:#3d71d9">View alert rule</a>{{ end }}</p>
{{- if .Annotations.summary }}
<p style="margin:8px 0 0;font-size:14px">{{ .Annotations.summary }}</p>
{{- end }}
{{- if .Annotations.description }}
<p style="margin:8px 0 0;font-size:14px;white-space:pre-wrap">{{ .Annotations.description }}</p>
{{- end }}
{{- if .ImageURL }}
<p style="margin:8px 0 0"><img src="{{ .ImageURL }}" alt="" width="552" style="max-width:100%;border:1px solid #e4e7eb"></p>
{{- end }}
{{- if .Values }}
<p style="margin:10px 0 0;font-size:13px;font-weight:600">Values</p>
<p style="margin:4px 0 0;padding:8px;background:#f4f5f5;font-family:Menlo,Consolas,monospace;font-size:12px">{{ range $ref, $v := .Values }}{{ $ref }}={{ $v }}<br>{{ end }}</p>
{{- end }}
{{- if gt (len .Labels) 0 }}
<p style="margin:10px 0 0;font-size:13px;font-weight:600">Labels</p>
<p style="margin:4px 0 0;font-size:13px">{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}</p>
{{- end }}
{{- $others := .Annotations.Remove (stringSlice "summary" "description") }}
{{- if gt (len $others) 0 }}
<p style="margin:10px 0 0;font-size:13px;font-weight:600">Annotations</p>
<p style="margin:4px 0 0;font-size:13px">{{ range $others.SortedPairs }}{{ .Name }} = {{ .Value }}<br>{{ end }}</p>
{{- end }}
<p style="margin:10px 0 0;font-size:13px">
{{- if .SilenceURL }}<a href="{{ .SilenceURL }}" style="color:#3d71d9;margin-right:12px">Silence</a>{{ end }}
{{- if .DashboardURL }}<a href="{{ .DashboardURL }}" style="color:#3d71d9;margin-right:12px">Go to dashboard</a>{{ end }}
{{- if .PanelURL }}<a href="{{ .PanelURL }}" style="color:#3d71d9">Go to panel</a>{{ end }}</p>
</td></tr>
{{- end }}
{{- define "grafana.email.html" -}}
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ .Title }}</title></head>
<body style="margin:0;padding:0;background:#f4f5f5;font-family:Inter,Helvetica,Arial,sans-serif;color:#24292e">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f5"><tr><td align="center" style="padding:24px 8px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border:1px solid #dce1e6;border-radius:4px">
<tr><td style="padding:20px 24px;border-bottom:1px solid #dce1e6">
{{- $firing := len .Alerts.Firing }}{{ $resolved := len .Alerts.Resolved }}
<p style="margin:0 0 8px;font-size:14px">
{{- if $firing }}<span style="color:#d10e5c;font-weight:600">{{ template "grafana.email.count" $firing }} firing</span>{{ end }}
{{- if and $firing $resolved }} and {{ end }}
{{- if $resolved }}<span style="color:#1b855e;font-weight:600">{{ template "grafana.email.count" $resolved }} resolved</span>{{ end }}</p>
<h1 style="margin:0;font-size:18px;font-weight:600">{{ .Title }}</h1>
{{- if gt (len .GroupLabels) 0 }}
<p style="margin:8px 0 0;font-size:13px;color:#6e7781">{{ template "grafana.email.group" .GroupLabels }}</p>
{{- end }}
</td></tr>
{{- if .Message }}
<tr><td style="padding:20px 24px;font-size:14px;white-space:pre-wrap">{{ .Message }}</td></tr>
{{- else }}
{{- if .Alerts.Firing }}
<tr><td style="padding:16px 24px 0;font-size:15px;font-weight:600;color:#d10e5c">Firing</td></tr>
{{- range .Alerts.Firing }}{{ template "grafana.email.html.alert" . }}{{ end }}
{{- end }}
{{- if .Alerts.Resolved }}
<tr><td style="padding:16px 24px 0;font-size:15px;font-weight:600;color:#1b855e">Resolved</td></tr>
{{- range .Alerts.Resolved }}{{ template "grafana.email.html.alert" . }}{{ end }}
{{- end }}
{{- end }}
<tr><td style="padding:16px 24px;font-size:13px"><a href="{{ .AlertPageUrl }}" style="color:#3d71d9">View firing alerts</a> &middot; <a href="{{ .RuleUrl }}" style="color:#3d71d9">Alert rules</a></td></tr>
</table>
<p style="margin:12px 0 0;font-size:12px;color:#6e7781">Sent by {{ .SentBy }}</p>
</td></tr></table>
</body></html>
{{ end }}
{{- define "grafana.email.text.alert" }}
{{ with .Labels.alertname }}Alert: {{ . }}
{{ end }}
{{- with .Annotations.summary }}Summary: {{ . }}
{{ end }}
{{- with .Annotations.description }}Description: {{ . }}
{{ end }}
{{- if .Values }}Values:{{ range $ref, $v := .Values }} {{ $ref }}={{ $v }}{{ end }}
{{ end }}
{{- if gt (len .Labels) 0 }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}{{ end }}
{{- $others := .Annotations.Remove (stringSlice "summary" "description") }}
{{- if gt (len $others) 0 }}Annotations:
{{ range $others.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}{{ end }}
{{- with .GeneratorURL }}Source: {{ . }}
{{ end }}
{{- with .SilenceURL }}Silence: {{ . }}
{{ end }}
{{- with .DashboardURL }}Dashboard: {{ . }}
{{ end }}
{{- with .PanelURL }}Panel: {{ . }}
{{ end }}
{{- end }}
{{- define "grafana.email.text" -}}
{{ .Title }}
{{ if .Message }}
{{ .Message }}
{{ else }}
{{ len .Alerts.Firing }} firing and {{ len .Alerts.Resolved }} resolved alert instance(s){{ if gt (len .GroupLabels) 0 }} for {{ template "grafana.email.group" .GroupLabels }}{{ end }}
{{ if .Alerts.Firing }}
FIRING ({{ len .Alerts.Firing }})
{{ range .Alerts.Firing }}{{ template "grafana.email.text.alert" . }}{{ end }}{{ end }}
{{- if .Alerts.Resolved }}
RESOLVED ({{ len .Alerts.Resolved }})
{{ range .Alerts.Resolved }}{{ template "grafana.email.text.alert" . }}{{ end }}{{ end }}
Firing alerts: {{ .AlertPageUrl }}
{{ end }}
Sent by {{ .SentBy }}
{{ end }}`;

const htmlBodies = new Template('', { funcs: alertmanagerFuncs, html: true, missingKey: 'zero' });
htmlBodies.parse(EMAIL_TEMPLATES, 'grafana-email');
const textBodies = new Template('', { funcs: alertmanagerFuncs, missingKey: 'zero' });
textBodies.parse(EMAIL_TEMPLATES, 'grafana-email');

/** splitAddresses splits Grafana's addresses setting at commas, semicolons and newlines. */
export function splitAddresses(s: string): string[] {
  return s
    .split(/[,;\n]/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** alertingLinks are the rule list and firing-alerts page under the external URL, as Grafana's email notifier builds them. */
function alertingLinks(externalURL: string): { ruleUrl: string; alertPageUrl: string } {
  try {
    const u = new URL(externalURL);
    const path = (u.pathname.replace(/\/+$/, '') + '/alerting/list').replace(/\/{2,}/g, '/');
    return { ruleUrl: `${u.origin}${path}${u.search}`, alertPageUrl: `${u.origin}${path}?alertState=firing&view=state` };
  } catch {
    return { ruleUrl: externalURL, alertPageUrl: externalURL };
  }
}

/** quoteName writes a display name as Go's mail.Address.String does for plain ASCII names. */
function fromHeader(name: string, address: string): string {
  return name === '' ? `<${address}>` : `"${name.replace(/["\\]/g, (c) => '\\' + c)}" <${address}>`;
}

/** createGrafanaEmail is the notifier of one Grafana email contact point. */
export function createGrafanaEmail(entry: Record<string, unknown>): Notifier {
  const e = entry as GrafanaEntry;
  const st = e.settings;
  const smtp = e.smtp ?? DEFAULT_SMTP;
  const tmpl = new GrafanaTemplates(e.templates);
  const addresses = splitAddresses(typeof st.addresses === 'string' ? st.addresses : '');
  const single = st.singleEmail === true;
  const transport: EmailConfig = {
    smarthost: smtp.host,
    auth_username: smtp.user,
    auth_password: smtp.password,
    hello: smtp.ehloIdentity,
    require_tls: smtp.startTlsPolicy === 'MandatoryStartTLS',
    tls_config: { insecure_skip_verify: smtp.skipVerify },
  };
  return {
    async notify(ctx, alerts) {
      const data = extendData(ctx, alerts);
      const subject = renderSetting(ctx, tmpl, typeof st.subject === 'string' && st.subject !== '' ? st.subject : DEFAULT_TITLE, data, 'email subject');
      const message = renderSetting(ctx, tmpl, typeof st.message === 'string' ? st.message : '', data, 'email message');
      const links = alertingLinks(ctx.externalURL);
      const view = goStruct(
        {
          Title: subject,
          Message: message,
          Status: data.Status,
          Alerts: engineAlerts(data.Alerts),
          GroupLabels: engineKV(data.GroupLabels),
          CommonLabels: engineKV(data.CommonLabels),
          CommonAnnotations: engineKV(data.CommonAnnotations),
          ExternalURL: data.ExternalURL,
          RuleUrl: links.ruleUrl,
          AlertPageUrl: links.alertPageUrl,
          SentBy: `Grafana v${GRAFANA_VERSION}`,
        },
        'map[string]interface {}',
      );
      let html: string;
      let text: string;
      try {
        html = htmlBodies.execute(view, 'grafana.email.html');
        text = textBodies.execute(view, 'grafana.email.text');
      } catch (err) {
        throw new NotifyError(`failed to render the email body: ${(err as Error).message}`, false);
      }
      const from = fromHeader(smtp.fromName, smtp.fromAddress);
      for (const to of single ? [addresses] : addresses.map((a) => [a])) {
        await withSmtp(
          transport,
          async (s) => {
            await s.mail(smtp.fromAddress);
            await s.rcpt(to);
            const headers: Array<[string, string]> = [
              ['From', from],
              ['Subject', subject],
              ['To', to.join(', ')],
            ];
            await s.data(mimeMessage(headers, [['text/plain', text], ['text/html', html]]));
          },
          { opportunisticTls: smtp.startTlsPolicy === 'OpportunisticStartTLS' },
        );
      }
    },
  };
}

registerGrafanaIntegration('email', { key: 'grafana_email_configs', name: 'email', create: (entry) => createGrafanaEmail(entry) });
