// pages.ts renders the small HTML pages: the index at / and /services.

import type { ServiceState } from '../services/services.js';

/** IndexLink is one entry of the index page. */
export interface IndexLink {
  section: string;
  href: string;
  title: string;
}

/** escapeHtml escapes text for HTML content and attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** page wraps a body in the HTML document every page shares. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 1.5rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .75rem; text-align: left; }
a { color: #0b57d0; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** indexPage lists the links grouped by section. */
export function indexPage(links: IndexLink[]): string {
  const sections = new Map<string, IndexLink[]>();
  for (const l of links) {
    const list = sections.get(l.section) ?? [];
    list.push(l);
    sections.set(l.section, list);
  }
  let body = '<h1>Grafana Mimir</h1>\n<p>Admin endpoints of this process.</p>\n';
  for (const [section, list] of sections) {
    body += `<h2>${escapeHtml(section)}</h2>\n<ul>\n`;
    for (const l of list) body += `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.title)}</a></li>\n`;
    body += '</ul>\n';
  }
  return page('Grafana Mimir', body);
}

/** servicesPage renders the service states as a table. */
export function servicesPage(services: Array<[string, ServiceState]>): string {
  let rows = '';
  for (const [name, state] of services) rows += `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(state)}</td></tr>\n`;
  return page('Services', `<h1>Services</h1>\n<table>\n<thead><tr><th>Service</th><th>Status</th></tr></thead>\n<tbody>\n${rows}</tbody>\n</table>\n`);
}
