// templates.ts is the Alertmanager's side of notification templates: its
// function map (toUpper, toLower, title, join, match, safeHtml,
// reReplaceAll, stringSlice, trimSpace, urlUnescape, date, tz, since,
// humanizeDuration, ...) on top of the shared Go template engine
// (src/template/), the tenant's template files, and the Expander the
// integrations call.

import { compileAnchored, goRegexpSource } from '../promql/engine/labels.js';
import type { AlertmanagerConfig } from './config.js';
import { ConfigError } from './config.js';
import type { Expander, TemplateData } from './notifiers/notifier.js';

/** TemplateEngine is the part of src/template's Template class used here. */
interface TemplateLike {
  parse(text: string, name?: string): TemplateLike;
  execute(data: unknown, name?: string): string;
  clone(): TemplateLike;
}

type TemplateCtor = new (name: string, options?: { funcs?: Record<string, (...args: any[]) => unknown>; html?: boolean }) => TemplateLike;

// The engine is loaded once at start; until it exists texts pass through unexpanded.
const ENGINE_PATH = '../template/index.js';
let Engine: TemplateCtor | undefined;
try {
  Engine = ((await import(ENGINE_PATH)) as { Template?: TemplateCtor }).Template;
} catch {
  Engine = undefined;
}

/** templateEngineAvailable says whether the Go template engine is present. */
export function templateEngineAvailable(): boolean {
  return Engine !== undefined;
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

/** humanizeDuration renders seconds as Prometheus's humanizeDuration ("1d 2h 3m 4s", "1.5s", "12ms"). */
export function humanizeDuration(v: unknown): string {
  const x = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(x) || !Number.isFinite(x)) return String(x);
  if (x === 0) return '0s';
  let s = Math.abs(x);
  const sign = x < 0 ? '-' : '';
  if (s >= 1) {
    const days = Math.floor(s / 86400);
    const hours = Math.floor(s / 3600) % 24;
    const minutes = Math.floor(s / 60) % 60;
    const seconds = Math.floor(s) % 60;
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${Number(s.toPrecision(4))}s`;
  }
  const units = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  let i = 0;
  while (s < 1 && i < units.length - 1) {
    s *= 1000;
    i++;
  }
  return `${sign}${Number(s.toPrecision(4))}${units[i]}s`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** goDateFormat formats a Date in UTC with a Go layout (the reference time Mon Jan 2 15:04:05 MST 2006). */
export function goDateFormat(layout: string, d: Date, zone = 'UTC', offsetMin = 0): string {
  const t = new Date(d.getTime() + offsetMin * 60_000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = (sep: string, z: boolean): string => {
    if (z && offsetMin === 0) return 'Z';
    const a = Math.abs(offsetMin);
    return (offsetMin < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + sep + pad(a % 60);
  };
  const tokens: Array<[string, () => string]> = [
    ['January', () => MONTHS[t.getUTCMonth()] as string],
    ['Monday', () => DAYS[t.getUTCDay()] as string],
    ['2006', () => pad(t.getUTCFullYear(), 4)],
    ['Z07:00', () => off(':', true)],
    ['-07:00', () => off(':', false)],
    ['Z0700', () => off('', true)],
    ['-0700', () => off('', false)],
    ['.000', () => '.' + pad(t.getUTCMilliseconds(), 3)],
    ['Jan', () => (MONTHS[t.getUTCMonth()] as string).slice(0, 3)],
    ['Mon', () => (DAYS[t.getUTCDay()] as string).slice(0, 3)],
    ['MST', () => zone],
    ['01', () => pad(t.getUTCMonth() + 1)],
    ['02', () => pad(t.getUTCDate())],
    ['_2', () => String(t.getUTCDate()).padStart(2, ' ')],
    ['15', () => pad(t.getUTCHours())],
    ['03', () => pad(t.getUTCHours() % 12 === 0 ? 12 : t.getUTCHours() % 12)],
    ['04', () => pad(t.getUTCMinutes())],
    ['05', () => pad(t.getUTCSeconds())],
    ['06', () => pad(t.getUTCFullYear() % 100)],
    ['PM', () => (t.getUTCHours() >= 12 ? 'PM' : 'AM')],
    ['pm', () => (t.getUTCHours() >= 12 ? 'pm' : 'am')],
    ['1', () => String(t.getUTCMonth() + 1)],
    ['2', () => String(t.getUTCDate())],
    ['3', () => String(t.getUTCHours() % 12 === 0 ? 12 : t.getUTCHours() % 12)],
    ['4', () => String(t.getUTCMinutes())],
    ['5', () => String(t.getUTCSeconds())],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, fn] of tokens) {
      if (layout.startsWith(tok, i)) {
        out += fn();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

/** ZonedTime is what tz returns: a time with its zone for date to format. */
class ZonedTime extends Date {
  constructor(
    ms: number,
    readonly zone: string,
    readonly offsetMin: number,
  ) {
    super(ms);
  }
}

function zoneOffset(zone: string, ms: number): { abbr: string; offsetMin: number } {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const name = f.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  const offsetMin = m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  const short = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? zone;
  return { abbr: zone === 'UTC' ? 'UTC' : short, offsetMin };
}

/** SafeHTML marks a string html/template must not escape. */
export class SafeHTML extends String {}

/** alertmanagerFuncs is template.DefaultFuncs. */
export const alertmanagerFuncs: Record<string, (...args: any[]) => unknown> = {
  toUpper: (s: string) => String(s).toUpperCase(),
  toLower: (s: string) => String(s).toLowerCase(),
  title: (s: string) => title(String(s)),
  trimSpace: (s: string) => String(s).trim(),
  join: (sep: string, list: unknown[]) => (Array.isArray(list) ? list.map(String).join(sep) : ''),
  match: (re: string, s: string) => new RegExp(goRegexpSource(re)).test(String(s)),
  safeHtml: (s: string) => new SafeHTML(String(s)),
  safeUrl: (s: string) => String(s),
  urlUnescape: (s: string) => decodeURIComponent(String(s).replace(/\+/g, ' ')),
  reReplaceAll: (pattern: string, repl: string, text: string) => String(text).replace(new RegExp(goRegexpSource(pattern), 'g'), String(repl).replace(/\$\{?(\w+)\}?/g, (_m, g: string) => (/^\d+$/.test(g) ? `$${g}` : `$<${g}>`))),
  stringSlice: (...s: unknown[]) => s.map(String),
  date: (layout: string, t: Date) => (t instanceof ZonedTime ? goDateFormat(layout, t, zoneOffset(t.zone, t.getTime()).abbr, t.offsetMin) : goDateFormat(layout, t)),
  tz: (name: string, t: Date) => {
    try {
      const { offsetMin } = zoneOffset(name, t.getTime());
      return new ZonedTime(t.getTime(), name, offsetMin);
    } catch {
      throw new Error(`unknown time zone ${name}`);
    }
  },
  since: (t: Date) => (Date.now() - t.getTime()) / 1000,
  humanizeDuration: (v: unknown) => humanizeDuration(v),
};

/** validateTemplates parses the tenant's template files (referenced by `templates:`) and throws a ConfigError on a parse error. */
export function validateTemplates(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig): void {
  if (Engine === undefined) return;
  const t = new Engine('', { funcs: alertmanagerFuncs });
  for (const f of selectTemplates(files, cfg)) {
    try {
      t.parse(f.body, f.filename);
    } catch (err) {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    }
  }
}

function globToRegExp(glob: string): RegExp {
  return compileAnchored(glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'));
}

/** selectTemplates returns the files the config's `templates:` globs name. */
function selectTemplates(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig): Array<{ filename: string; body: string }> {
  const globs = cfg.templates.map((g) => globToRegExp(g.split('/').pop() ?? g));
  return files.filter((f) => globs.some((g) => g.test(f.filename)));
}

/** makeExpander builds a tenant's Expander from its template files. */
export function makeExpander(files: Array<{ filename: string; body: string }>, cfg: AlertmanagerConfig, _externalURL: string): Expander {
  if (Engine === undefined) return { text: (s) => s, html: (s) => s };
  const E = Engine;
  const base = new E('', { funcs: alertmanagerFuncs });
  const baseHtml = new E('', { funcs: alertmanagerFuncs, html: true });
  for (const f of selectTemplates(files, cfg)) {
    base.parse(f.body, f.filename);
    baseHtml.parse(f.body, f.filename);
  }
  const expand = (root: TemplateLike, tmpl: string, data: TemplateData): string => {
    const t = root.clone();
    t.parse(tmpl, '__expand');
    return t.execute(data, '__expand');
  };
  return { text: (s, d) => expand(base, s, d), html: (s, d) => expand(baseHtml, s, d) };
}
