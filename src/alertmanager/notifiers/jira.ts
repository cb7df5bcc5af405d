// jira.ts is the Jira integration: looks up the group's issue by its
// ALERT{<group key hash>} label, creates or updates it (summary,
// description, labels, priority, custom fields) and applies the resolve or
// reopen transition, as Alertmanager 0.35's jira notifier.

import { parseDuration } from '../../config/duration.js';
import { alertStatus, validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
import { globalString, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { deepCopyWithTemplate, goDurationMs, goJson, groupKeyHash, nonEmpty, renderer, send, sortedObject, truncateInRunes, urlError } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const MAX_SUMMARY_RUNES = 255;
const MAX_DESCRIPTION_RUNES = 32767;

interface FieldConfig {
  template?: string;
  enable_update?: boolean;
}

/** JiraConfig is one entry of jira_configs. */
export interface JiraConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_url?: string;
  api_type?: string;
  project?: string;
  summary?: FieldConfig | string;
  description?: FieldConfig | string;
  labels?: string[];
  priority?: string;
  issue_type?: string;
  reopen_transition?: string;
  resolve_transition?: string;
  wont_fix_resolution?: string;
  reopen_duration?: string;
  fields?: Record<string, unknown>;
}

interface Issue {
  key?: string;
  fields?: { status?: { name?: string; statusCategory?: { key?: string } } };
}

/** joinPath appends a path to a URL as url.URL.JoinPath (one slash between). */
function joinPath(base: string, p: string): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, '') + '/' + p.replace(/^\/+/, '');
  return u.toString();
}

function field(f: FieldConfig | string | undefined): FieldConfig {
  return typeof f === 'string' ? { template: f } : (f ?? {});
}

function createJira(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as JiraConfig;
  const api = c.api_url as string;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      const groupId = groupKeyHash(ctx.groupKey);
      const firing = alerts.some((a) => alertStatus(a, ctx.now) === 'firing');
      const request = async (method: string, url: string, body: unknown): Promise<Buffer> => {
        const res = await send(ctx, c.http_config, url, body === undefined ? undefined : goJson(body) + '\n', {
          method,
          checkUrl: deps.checkUrl,
          // The jira client sets no User-Agent of its own: Go's default goes out.
          headers: { 'Accept-Language': 'en', 'User-Agent': 'Go-http-client/1.1' },
          retryCodes: [429],
          contentType: 'application/json',
        });
        return res.body;
      };

      // Search the group's open (or recently resolved) issue.
      let jql = '';
      if (nonEmpty(c.wont_fix_resolution)) jql += `(resolution is EMPTY or resolution != ${JSON.stringify(c.wont_fix_resolution)}) and `;
      const reopenMinutes = Math.trunc(goDurationMs(c.reopen_duration, parseDuration) / 60000);
      if (firing && nonEmpty(c.reopen_transition) && reopenMinutes > 0) jql += `(resolutiondate is EMPTY OR resolutiondate >= -${reopenMinutes}m) and `;
      else jql += 'statusCategory != Done and ';
      const project = r.text(c.project);
      jql += `project=${JSON.stringify(project)} and labels=${JSON.stringify(`ALERT{${groupId}}`)} order by status ASC,resolutiondate DESC`;
      let searchUrl = joinPath(api, '/search');
      if (c.api_type === 'cloud' || (c.api_type === 'auto' && new URL(api).host.endsWith('atlassian.net'))) searchUrl = joinPath(api, '/search/jql').replace('/rest/api/2/', '/rest/api/3/');
      let existing: Issue | undefined;
      try {
        const found = JSON.parse((await request('POST', searchUrl, { fields: ['status'], jql, maxResults: 2 })).toString('utf8')) as { issues?: Issue[] };
        existing = found.issues?.[0];
        if ((found.issues?.length ?? 0) > 1) ctx.logger.warn('more than one issue matched, selecting the most recently resolved', { selected_issue: existing?.key });
      } catch (err) {
        const retry = err instanceof NotifyError && err.retry;
        throw new NotifyError(`failed to look up existing issues: HTTP request to JIRA API: ${(err as Error).message}`, retry);
      }
      if (existing === undefined && !firing) return;

      // The issue's fields.
      const [summary, cut] = truncateInRunes(r.text(field(c.summary).template), MAX_SUMMARY_RUNES);
      if (cut) ctx.logger.warn('Truncated summary', { max_runes: MAX_SUMMARY_RUNES });
      const [descriptionText, cutD] = truncateInRunes(r.text(field(c.description).template), MAX_DESCRIPTION_RUNES);
      if (cutD) ctx.logger.warn('Truncated description', { max_runes: MAX_DESCRIPTION_RUNES });
      let description: unknown;
      if (/\/3$/.test(new URL(api).pathname.replace(/\/+$/, ''))) {
        const d = descriptionText.trim();
        if (d !== '') {
          try {
            description = JSON.parse(d) as unknown;
          } catch {
            throw new NotifyError('description template: invalid JSON for API v3', false);
          }
        }
      } else if (descriptionText !== '') description = descriptionText;
      const labels = [...(c.labels ?? []).map((l) => r.text(l)), `ALERT{${groupId}}`].sort();
      const priority = r.text(c.priority);
      const fields: Record<string, unknown> = {
        summary,
        description,
        issuetype: { name: r.text(c.issue_type) },
        labels,
        priority: priority !== '' ? { name: priority } : undefined,
        project: { key: project },
      };
      for (const [k, v] of Object.entries(c.fields ?? {})) fields[k] = deepCopyWithTemplate(v, r);
      let method = 'POST';
      let path = 'issue';
      if (existing !== undefined) {
        method = 'PUT';
        path = `issue/${existing.key ?? ''}`;
        if (field(c.description).enable_update === false) delete fields.description;
        if (field(c.summary).enable_update === false) delete fields.summary;
      }
      try {
        await request(method, joinPath(api, path), { fields: sortedObject(fields) });
      } catch (err) {
        throw new NotifyError(`failed to ${method} request to ${JSON.stringify(path)}: ${(err as Error).message}`, err instanceof NotifyError && err.retry);
      }

      // Reopen or resolve through the configured transition.
      const category = existing?.fields?.status?.statusCategory?.key;
      if (existing?.key === undefined || existing.fields?.status === undefined) return;
      const transition = firing ? (category === 'done' ? c.reopen_transition : '') : category !== 'done' ? c.resolve_transition : '';
      if (!nonEmpty(transition)) return;
      const tpath = joinPath(api, `issue/${existing.key}/transitions`);
      const list = JSON.parse((await request('GET', tpath, undefined)).toString('utf8')) as { transitions?: Array<{ id?: string; name?: string }> };
      const id = list.transitions?.find((x) => x.name === transition)?.id;
      if (id === undefined) throw new NotifyError(`can't find transition ${transition} for issue ${existing.key}`, false);
      await request('POST', tpath, { transition: { id } });
    },
  };
}

registerIntegration({
  key: 'jira_configs',
  name: 'jira',
  sendResolvedDefault: true,
  validate(entry, global) {
    setDefaults(entry, { api_type: 'auto', priority: tmplRef('jira.default.priority') });
    const c = entry as JiraConfig;
    c.summary = { template: tmplRef('jira.default.summary'), ...field(c.summary) };
    c.description = { template: tmplRef('jira.default.description'), ...field(c.description) };
    if (!nonEmpty(c.project)) return 'missing project in jira_config';
    if (!nonEmpty(c.issue_type)) return 'missing issue_type in jira_config';
    if (c.api_type !== 'auto' && c.api_type !== 'cloud' && c.api_type !== 'datacenter') return 'unknown api_type on jira_config, must be auto, cloud or datacenter';
    inheritHttp(entry, global);
    if (c.api_url === undefined) c.api_url = globalString(global, 'jira_api_url');
    if (c.api_url === undefined) return 'no global Jira Cloud URL set';
    if (c.reopen_duration !== undefined) {
      try {
        parseDuration(String(c.reopen_duration));
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }
    return urlError(c.api_url, 'api_url') ?? validateHttpConfig(c.http_config);
  },
  create: createJira,
});
