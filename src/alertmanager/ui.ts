// ui.ts renders the tenant's Alertmanager page at `<prefix>/`: its alert
// groups (labels, receiver, each alert's labels, state and start) and its
// silences (matchers, state, times, author, comment). Server-side HTML, so
// it works behind any auth proxy that adds X-Scope-OrgID.

import type { TenantAlertmanager } from './instance.js';
import { matcherString } from './matchers.js';
import { silenceState } from './silences.js';
import { labelSetString } from './types.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function labelsHtml(ls: Record<string, string>): string {
  return Object.keys(ls)
    .sort()
    .map((k) => `<span class="label">${esc(k)}="${esc(ls[k] as string)}"</span>`)
    .join(' ');
}

/** renderPage returns the tenant's page. */
export function renderPage(am: TenantAlertmanager, tenant: string): string {
  const now = Date.now();
  const groups = am
    .groups()
    .map((g) => ({ g, alerts: [...g.alerts.values()].filter((a) => a.endsAt === 0 || a.endsAt > now) }))
    .filter((x) => x.alerts.length > 0)
    .sort((a, b) => (labelSetString(a.g.labels) < labelSetString(b.g.labels) ? -1 : 1));
  let body = `<h1>Alertmanager</h1><p>Tenant: <strong id="tenant">${esc(tenant)}</strong></p>`;
  body += `<h2>Alert groups</h2>`;
  if (groups.length === 0) body += '<p id="no-alerts">No alert groups.</p>';
  for (const { g, alerts } of groups) {
    body += `<section class="group"><h3>${labelsHtml(g.labels) || '(no grouping labels)'}</h3><p>Receiver: <span class="receiver">${esc(g.route.opts.receiver)}</span></p>`;
    body += '<table border="1"><thead><tr><th>Labels</th><th>State</th><th>Started</th></tr></thead><tbody>';
    for (const a of alerts) {
      const st = am.status(a, now);
      body += `<tr class="alert"><td>${labelsHtml(a.labels)}</td><td class="state">${st.state}</td><td>${new Date(a.startsAt).toISOString()}</td></tr>`;
    }
    body += '</tbody></table></section>';
  }
  body += `<h2>Silences</h2>`;
  const sils = am.silences.all().sort((a, b) => a.endsAt - b.endsAt);
  if (sils.length === 0) body += '<p id="no-silences">No silences.</p>';
  else {
    body += '<table border="1" id="silences"><thead><tr><th>ID</th><th>Matchers</th><th>State</th><th>Starts</th><th>Ends</th><th>Created by</th><th>Comment</th></tr></thead><tbody>';
    for (const s of sils) {
      body +=
        `<tr class="silence"><td>${esc(s.id)}</td><td>${esc(s.matchers.map(matcherString).join(', '))}</td><td class="state">${silenceState(s, now)}</td>` +
        `<td>${new Date(s.startsAt).toISOString()}</td><td>${new Date(s.endsAt).toISOString()}</td><td>${esc(s.createdBy)}</td><td>${esc(s.comment)}</td></tr>`;
    }
    body += '</tbody></table>';
  }
  return `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Alertmanager</title><style>.label{background:#eee;border-radius:3px;padding:0 3px;font-family:monospace}</style></head><body>${body}</body></html>`;
}
