// template-funcs.ts is the function map Alertmanager 0.35 adds to its
// notification templates (template.DefaultFuncs): string helpers, regexps,
// Go time layouts and time zones, humanizeDuration, toJson, dict/list. The
// functions take and return plain values (strings, arrays, Dates, KV maps)
// as the template engine passes them; errors are thrown.

import { SafeHtml } from '../template/index.js';
import { goRegexp, humanizeDuration, reReplaceAll } from '../template/humanize.js';
import { goJson } from './notifiers/payload.js';
import { goTimeOf, KV, type TemplateAlert } from './notifiers/notifier.js';
import { formatGoLayout, GoDuration, GoTime, GO_ZERO_MS, localZone, parseGoLayout } from '../compat/gotime.js';

export { formatGoLayout, GoTime, parseGoLayout };

type TimeArg = GoTime | Date;

function msOf(t: TimeArg): number {
  return t instanceof GoTime ? t.ms : t.getTime();
}

/** goQueryUnescape decodes as url.QueryUnescape ('+' is a space; bad escapes are errors). */
export function urlUnescape(s: string): string {
  const bad = /%(?![0-9a-fA-F]{2})(.{0,2})/.exec(s);
  if (bad !== null) throw new Error(`invalid URL escape ${JSON.stringify('%' + bad[1])}`);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '+') bytes.push(0x20);
    else for (const b of Buffer.from(c)) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** title upper-cases the first letter of every word and lower-cases the rest (cases.Title, American English). */
export function title(text: string): string {
  return text.replace(/[\p{L}\p{N}'’_]+/gu, (w) => (w[0] as string).toUpperCase() + w.slice(1).toLowerCase());
}

/** toJsonValue renders template values as Go's json.Marshal does (alerts with their JSON field names). */
function toJsonValue(v: unknown): unknown {
  if (v instanceof KV) return v.toObject();
  if (v instanceof Date) return goTimeOf(v);
  if (v instanceof GoTime) return v.toJSON();
  if (v instanceof GoDuration) return Number(v.ns);
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Fingerprint' in o && 'Labels' in o && 'Status' in o) {
      const a = o as unknown as TemplateAlert;
      // Labels come as a KV or (handed to the engine) as a plain object: a Go map either way.
      const map = (m: unknown): unknown => (m instanceof KV ? m.toObject() : toJsonValue(m));
      return {
        status: a.Status,
        labels: map(a.Labels),
        annotations: map(a.Annotations),
        startsAt: goTimeOf(a.StartsAt),
        endsAt: goTimeOf(a.EndsAt),
        generatorURL: a.GeneratorURL,
        fingerprint: a.Fingerprint,
      };
    }
    if (v instanceof Map) return Object.fromEntries([...v.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, toJsonValue(x)]));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = toJsonValue(o[k]);
    return out;
  }
  return v;
}

/** TEMPLATE_FUNCS is Alertmanager's DefaultFuncs by name. */
export const TEMPLATE_FUNCS: Readonly<Record<string, (...args: never[]) => unknown>> = {
  toUpper: (s: string) => s.toUpperCase(),
  toLower: (s: string) => s.toLowerCase(),
  title: (s: string) => title(s),
  trimSpace: (s: string) => s.replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g, ''),
  join: (sep: string, s: string[]) => s.join(sep),
  match: (pattern: string, s: string) => goRegexp(pattern, false).test(s),
  safeHtml: (s: string) => new SafeHtml(s),
  safeUrl: (s: string) => s,
  urlUnescape: (s: string) => urlUnescape(s),
  reReplaceAll: (pattern: string, repl: string, text: string) => reReplaceAll(pattern, repl, text),
  stringSlice: (...s: string[]) => s,
  // routeLabels is a placeholder so templates calling it parse; each execution binds the real one (templates.ts).
  routeLabels: (_name: string) => '',
  date: (layout: string, t: TimeArg) => formatGoLayout(layout, t),
  tz: (name: string, t: TimeArg) => {
    // time.LoadLocation: "" and "UTC" are UTC, "Local" the process's zone, else an IANA name.
    const zone = name === '' || name === 'UTC' ? 'UTC' : name === 'Local' ? localZone() : name;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
    } catch {
      throw new Error(`unknown time zone ${name}`);
    }
    return new GoTime(msOf(t), zone);
  },
  now: () => new GoTime(Date.now(), localZone()),
  since: (t: TimeArg) => new GoDuration(BigInt(Math.round(Date.now() - msOf(t))) * 1_000_000n),
  humanizeDuration: (v: unknown) => humanizeDuration(v),
  toDate: (layout: string, s: string) => parseGoLayout(layout, s) ?? new GoTime(GO_ZERO_MS),
  mustToDate: (layout: string, s: string) => {
    const d = parseGoLayout(layout, s);
    if (d === undefined) throw new Error(`parsing time ${JSON.stringify(s)} as ${JSON.stringify(layout)}: cannot parse`);
    return d;
  },
  toJson: (v: unknown) => goJson(toJsonValue(v)),
  base64encode: (s: string) => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
  base64decode: (s: string) => {
    if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) throw new Error('illegal base64 data at input byte 0');
    return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  },
  list: (...args: unknown[]) => args,
  append: (slice: unknown[], ...args: unknown[]) => [...slice, ...args],
  dict: (...values: unknown[]) => {
    if (values.length % 2 !== 0) throw new Error('dict requires an even number of arguments');
    const out = new Map<string, unknown>();
    for (let i = 0; i < values.length; i += 2) {
      const k = values[i];
      if (typeof k !== 'string') throw new Error('dict keys must be strings');
      out.set(k, values[i + 1]);
    }
    return out;
  },
};
