// default-tmpl.ts is the template set every tenant's notification templates
// are parsed on top of: the names Alertmanager 0.35 ships (`__subject`,
// `__text_alert_list`, `slack.default.title`, `email.default.html`, ...),
// written here from scratch so that each text template renders the same
// bytes as Alertmanager's own for the same data. Shared pieces (the
// "Alerts Firing / Alerts Resolved" sections) are factored into `__am_*`
// helpers; the integrations' defaults only name the public templates.

/** firingResolved renders the two alert sections in one of the layouts Alertmanager's integrations use. */
function sections(name: string, list: string, heading: string, pad: boolean): string {
  const part = (which: 'Firing' | 'Resolved'): string =>
    pad
      ? `{{- with .Alerts.${which} }}{{ "\\n" }}${heading}Alerts ${which}:{{ "\\n" }}{{ template "${list}" . }}{{ "\\n" }}{{ end -}}`
      : `{{- with .Alerts.${which} }}Alerts ${which}:{{ "\\n" }}{{ template "${list}" . }}{{ end -}}`;
  return `{{ define "${name}" }}${part('Firing')}{{ "\\n" }}${part('Resolved')}${pad ? '{{ "\\n" }}' : ''}{{ end }}`;
}

/** JIRA_SEVERITY raises $p by one alert's severity label: critical > warning > info. */
const JIRA_SEVERITY =
  '{{ $s := index .Labels "severity" }}' +
  '{{ if eq $s "critical" }}{{ $p = "High" }}' +
  '{{ else if and (eq $s "warning") (ne $p "High") }}{{ $p = "Medium" }}' +
  '{{ else if and (eq $s "info") (eq $p "") }}{{ $p = "Low" }}{{ end }}';

/** DEFAULT_TEMPLATES is the default template text (Go text/template syntax). */
export const DEFAULT_TEMPLATES: string = [
  // Identity and links.
  '{{ define "__alertmanager" }}Alertmanager{{ end }}',
  '{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}{{ end }}',
  // [FIRING:2] group label values (other common label values)
  '{{ define "__subject" -}}' +
    '[{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}] ' +
    '{{ join " " .GroupLabels.SortedPairs.Values }} ' +
    '{{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ join " " .Values }}{{ end }}){{ end }}' +
    '{{- end }}',
  '{{ define "__description" }}{{ end }}',
  // One block per alert: its labels, annotations and source.
  '{{ define "__text_alert_list" }}{{ range . -}}' +
    'Labels:{{ "\\n" }}{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}{{ "\\n" }}{{ end -}}' +
    'Annotations:{{ "\\n" }}{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}{{ "\\n" }}{{ end -}}' +
    'Source: {{ .GeneratorURL }}{{ "\\n" }}' +
    '{{- end }}{{ end }}',
  '{{ define "__text_alert_list_markdown" }}{{ range . -}}' +
    '{{ "\\n" }}Labels:{{ "\\n" }}{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}{{ "\\n" }}{{ end -}}' +
    '{{ "\\n" }}Annotations:{{ "\\n" }}{{ range .Annotations.SortedPairs }}  - {{ .Name }} = {{ .Value }}{{ "\\n" }}{{ end -}}' +
    '{{ "\\n" }}Source: {{ .GeneratorURL }}{{ "\\n" }}' +
    '{{- end }}{{ "\\n" }}{{ end }}',
  // Section layouts shared by the integrations below.
  sections('__am_sections_tight', '__text_alert_list', '', false),
  sections('__am_sections', '__text_alert_list', '', true),
  sections('__am_sections_markdown', '__text_alert_list_markdown', '# ', true),
  '{{ define "__am_common_annotations" }}{{ join " " .CommonAnnotations.SortedPairs.Values }}{{ end }}',

  // Slack.
  '{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}',
  '{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}',
  '{{ define "slack.default.callbackid" }}{{ end }}',
  '{{ define "slack.default.pretext" }}{{ end }}',
  '{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "slack.default.iconemoji" }}{{ end }}',
  '{{ define "slack.default.iconurl" }}{{ end }}',
  '{{ define "slack.default.text" }}{{ end }}',
  '{{ define "slack.default.footer" }}{{ end }}',
  '{{ define "slack.default.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}',

  // PagerDuty.
  '{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}',
  '{{ define "pagerduty.default.clientURL" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}',

  // OpsGenie.
  '{{ define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "opsgenie.default.description" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}{{ template "__am_sections_tight" . }}{{ end }}',
  '{{ define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }}',

  // WeChat.
  '{{ define "wechat.default.message" }}{{ template "__subject" . }}{{ "\\n" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}' +
    '{{ template "__am_sections_tight" . }}{{ "\\n" }}AlertmanagerUrl:{{ "\\n" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "wechat.default.to_user" }}{{ end }}',
  '{{ define "wechat.default.to_party" }}{{ end }}',
  '{{ define "wechat.default.to_tag" }}{{ end }}',
  '{{ define "wechat.default.agent_id" }}{{ end }}',

  // VictorOps.
  '{{ define "victorops.default.state_message" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}{{ template "__am_sections_tight" . }}{{ end }}',
  '{{ define "victorops.default.entity_display_name" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "victorops.default.monitoring_tool" }}{{ template "__alertmanager" . }}{{ end }}',

  // Pushover, SNS, Webex: annotations then the padded sections.
  '{{ define "pushover.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "pushover.default.message" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}{{ template "__am_sections" . }}{{ end }}',
  '{{ define "pushover.default.url" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "sns.default.subject" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "sns.default.message" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}{{ template "__am_sections" . }}{{ end }}',
  '{{ define "webex.default.message" }}{{ template "__am_common_annotations" . }}{{ "\\n" }}{{ template "__am_sections" . }}{{ end }}',

  // Telegram and Discord: the padded sections alone.
  '{{ define "telegram.default.message" }}{{ "\\n" }}{{ template "__am_sections" . }}{{ end }}',
  '{{ define "discord.default.content" }}{{ end }}',
  '{{ define "discord.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "discord.default.message" }}{{ "\\n" }}{{ template "__am_sections" . }}{{ end }}',

  // Microsoft Teams, Jira, Mattermost: markdown sections.
  '{{ define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "msteams.default.text" }}{{ "\\n" }}{{ template "__am_sections_markdown" . }}{{ end }}',
  '{{ define "msteamsv2.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "msteamsv2.default.text" }}{{ "\\n" }}{{ template "__am_sections_markdown" . }}{{ end }}',
  '{{ define "jira.default.summary" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "jira.default.description" }}{{ "\\n" }}{{ template "__am_sections_markdown" . }}{{ end }}',
  // The highest severity among firing alerts (else among resolved ones) as a Jira priority.
  '{{ define "jira.default.priority" }}{{ $p := "" }}' +
    `{{- range .Alerts.Firing }}${JIRA_SEVERITY}{{ end }}` +
    `{{- if eq $p "" }}{{ range .Alerts.Resolved }}${JIRA_SEVERITY}{{ end }}{{ end }}` +
    '{{- $p }}{{ end }}',
  '{{ define "mattermost.default.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}',
  '{{ define "mattermost.default.username" }}{{ template "__alertmanager" . }}{{ end }}',
  '{{ define "mattermost.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "mattermost.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "mattermost.default.fallback" }}{{ template "mattermost.default.title" . }} | {{ template "mattermost.default.titlelink" . }}{{ end }}',
  '{{ define "mattermost.default.text" }}{{ "\\n" }}{{ template "__am_sections_markdown" . }}{{ end }}',

  // Rocket.Chat.
  '{{ define "rocketchat.default.title" }}{{ template "__subject" . }}{{ end }}',
  '{{ define "rocketchat.default.alias" }}{{ template "__alertmanager" . }}{{ end }}',
  '{{ define "rocketchat.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}',
  '{{ define "rocketchat.default.emoji" }}{{ end }}',
  '{{ define "rocketchat.default.iconurl" }}{{ end }}',
  '{{ define "rocketchat.default.text" }}{{ end }}',

  // Email: subject as everywhere, and an HTML body of our own design.
  '{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}',
  EMAIL_HTML(),
].join('\n');

/** EMAIL_HTML is the `email.default.html` body: a summary header, one card per alert, a link back to Alertmanager. */
function EMAIL_HTML(): string {
  const card = (which: 'Firing' | 'Resolved', color: string): string =>
    `{{ with .Alerts.${which} }}` +
    `<tr><td style="padding:8px 16px;font-weight:bold;color:${color}">[{{ len . }}] ${which}</td></tr>` +
    '{{ range . }}<tr><td style="padding:8px 16px;border-top:1px solid #eee">' +
    '<strong>Labels</strong><br />{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br />{{ end }}' +
    '{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br />{{ end }}{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br />{{ end }}' +
    '<a href="{{ .GeneratorURL }}">Source</a></td></tr>{{ end }}{{ end }}';
  return (
    '{{ define "email.default.html" }}<!DOCTYPE html>\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml"><head>' +
    '<meta name="viewport" content="width=device-width" /><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />' +
    '<title>{{ template "__subject" . }}</title></head>\n' +
    '<body style="margin:0;padding:0;background-color:#f6f6f6;font-family:Helvetica,Arial,sans-serif;font-size:14px;line-height:1.6em">' +
    '<table width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;background:#fff;border:1px solid #e9e9e9;border-radius:3px">' +
    '<tr><td style="padding:20px;color:#fff;font-size:16px;text-align:center;background-color:{{ if eq .Status "firing" }}#E6522C{{ else }}#68B90F{{ end }}">' +
    '{{ len .Alerts }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for {{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</td></tr>' +
    '<tr><td style="padding:16px"><a href="{{ template "__alertmanagerURL" . }}" style="display:inline-block;padding:8px 16px;background:#348eda;color:#fff;text-decoration:none;border-radius:5px">View in {{ template "__alertmanager" . }}</a></td></tr>' +
    card('Firing', '#E6522C') +
    card('Resolved', '#68B90F') +
    '</table>' +
    '<p style="text-align:center;color:#999;font-size:12px">Sent by <a href="{{ .ExternalURL }}" style="color:#999">{{ template "__alertmanager" . }}</a></p>' +
    '</body></html>{{ end }}'
  );
}
