// template-funcs.ts is the function map Alertmanager 0.35 adds to its
// notification templates (template.DefaultFuncs): string helpers, regexps,
// Go time layouts and time zones, humanizeDuration, toJson, dict/list. The
// functions take and return plain values (strings, arrays, Dates, KV maps)
// as the template engine passes them; errors are thrown.

import { SafeHtml } from '../template/index.js';
import { goRegexp, humanizeDuration, reReplaceAll } from '../template/humanize.js';
import { goJson } from './notifiers/payload.js';
import { goTimeOf, KV, type TemplateAlert } from './notifiers/notifier.js';

/** GoTime is a time with the zone `tz` put it in (Dates are UTC). */
export class GoTime {
  constructor(
    readonly ms: number,
    readonly zone: string,
  ) {}
}

type TimeArg = Date | GoTime;

function msOf(t: TimeArg): number {
  return t instanceof GoTime ? t.ms : t.getTime();
}

function zoneOf(t: TimeArg): string {
  return t instanceof GoTime ? t.zone : 'UTC';
}

/** zoneParts returns the wall clock fields, the UTC offset (minutes) and the abbreviation of ms in zone. */
function zoneParts(ms: number, zone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number; wd: number; offset: number; abbr: string } {
  if (zone === 'UTC') {
    const dt = new Date(ms);
    return { y: dt.getUTCFullYear(), mo: dt.getUTCMonth() + 1, d: dt.getUTCDate(), h: dt.getUTCHours(), mi: dt.getUTCMinutes(), s: dt.getUTCSeconds(), wd: dt.getUTCDay(), offset: 0, abbr: 'UTC' };
  }
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    weekday: 'short',
    timeZoneName: 'short',
  });
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  const y = Number(p.year);
  const mo = Number(p.month);
  const d = Number(p.day);
  const h = Number(p.hour);
  const mi = Number(p.minute);
  const s = Number(p.second);
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const offset = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
  const abbr = /^GMT[+-]/.test(p.timeZoneName ?? '') || p.timeZoneName === undefined ? goOffsetName(offset) : (p.timeZoneName as string);
  return { y, mo, d, h, mi, s, wd: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday ?? ''), offset, abbr: p.timeZoneName === 'GMT' && offset === 0 ? 'GMT' : abbr };
}

/** goOffsetName is Go's zone name for a zone without abbreviation: "+03", "-0430". */
function goOffsetName(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = String(Math.floor(a / 60)).padStart(2, '0');
  return a % 60 === 0 ? `${sign}${h}` : `${sign}${h}${String(a % 60).padStart(2, '0')}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const LAYOUT_TOKENS = [
  'January', 'Monday', '2006', '-07:00:00', 'Z07:00:00', '-07:00', 'Z07:00', '-0700', 'Z0700', '-07', 'Z07', 'Jan', 'Mon', 'MST',
  '002', '__2', '01', '02', '_2', '03', '04', '05', '06', '15', 'PM', 'pm', '1', '2', '3', '4', '5',
];

/** formatGoLayout formats a time with a Go reference layout ("2006-01-02 15:04:05 MST") as time.Time.Format. */
export function formatGoLayout(layout: string, t: TimeArg): string {
  const ms = msOf(t);
  const z = zoneParts(ms, zoneOf(t));
  const frac = ((ms % 1000) + 1000) % 1000;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h12 = z.h % 12 === 0 ? 12 : z.h % 12;
  const yday = Math.round((Date.UTC(z.y, z.mo - 1, z.d) - Date.UTC(z.y, 0, 1)) / 86400000) + 1;
  const off = (colon: boolean, zulu: boolean, short: boolean): string => {
    if (zulu && z.offset === 0) return 'Z';
    const a = Math.abs(z.offset);
    const sign = z.offset < 0 ? '-' : '+';
    if (short) return sign + pad(Math.floor(a / 60));
    return sign + pad(Math.floor(a / 60)) + (colon ? ':' : '') + pad(a % 60);
  };
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    // Fractional seconds: ".000" / ",000" keep zeros, ".999" trims them.
    const fm = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (fm !== null && (i === 0 || true)) {
      const digits = (fm[1] as string).length;
      const full = (String(frac).padStart(3, '0') + '000000').slice(0, digits);
      if ((fm[1] as string)[0] === '0') out += layout[i] + full;
      else {
        const trimmed = full.replace(/0+$/, '');
        if (trimmed !== '') out += layout[i] + trimmed;
      }
      i += fm[0].length;
      continue;
    }
    for (const tok of LAYOUT_TOKENS) {
      if (!layout.startsWith(tok, i)) continue;
      // Go requires "Jan"/"Mon" not to be followed by a lower-case letter.
      if ((tok === 'Jan' || tok === 'Mon') && /[a-z]/.test(layout[i + 3] ?? '')) continue;
      let v: string;
      switch (tok) {
        case 'January': v = MONTHS[z.mo - 1] as string; break;
        case 'Jan': v = (MONTHS[z.mo - 1] as string).slice(0, 3); break;
        case 'Monday': v = DAYS[z.wd] as string; break;
        case 'Mon': v = (DAYS[z.wd] as string).slice(0, 3); break;
        case '2006': v = pad(z.y, 4); break;
        case '06': v = pad(z.y % 100); break;
        case '01': v = pad(z.mo); break;
        case '1': v = String(z.mo); break;
        case '02': v = pad(z.d); break;
        case '2': v = String(z.d); break;
        case '_2': v = String(z.d).padStart(2, ' '); break;
        case '002': v = pad(yday, 3); break;
        case '__2': v = String(yday).padStart(3, ' '); break;
        case '15': v = pad(z.h); break;
        case '03': v = pad(h12); break;
        case '3': v = String(h12); break;
        case '04': v = pad(z.mi); break;
        case '4': v = String(z.mi); break;
        case '05': v = pad(z.s); break;
        case '5': v = String(z.s); break;
        case 'PM': v = z.h >= 12 ? 'PM' : 'AM'; break;
        case 'pm': v = z.h >= 12 ? 'pm' : 'am'; break;
        case 'MST': v = z.abbr; break;
        case '-07:00:00': v = off(true, false, false) + ':00'; break;
        case 'Z07:00:00': v = z.offset === 0 ? 'Z' : off(true, false, false) + ':00'; break;
        case '-07:00': v = off(true, false, false); break;
        case 'Z07:00': v = off(true, true, false); break;
        case '-0700': v = off(false, false, false); break;
        case 'Z0700': v = off(false, true, false); break;
        case '-07': v = off(false, false, true); break;
        case 'Z07': v = off(false, true, true); break;
        default: v = tok;
      }
      out += v;
      i += tok.length;
      continue outer;
    }
    out += layout[i];
    i++;
  }
  return out;
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
  if (v instanceof GoTime) return formatGoLayout('2006-01-02T15:04:05.999999999Z07:00', v);
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
  date: (layout: string, t: TimeArg) => formatGoLayout(layout, t),
  tz: (name: string, t: TimeArg) => {
    const zone = name === '' || name === 'UTC' ? 'UTC' : name === 'Local' ? 'UTC' : name;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
    } catch {
      throw new Error(`unknown time zone ${name}`);
    }
    return new GoTime(msOf(t), zone);
  },
  now: () => new Date(),
  since: (t: TimeArg) => (Date.now() - msOf(t)) / 1000,
  humanizeDuration: (v: unknown) => humanizeDuration(v),
  toDate: (layout: string, s: string) => parseGoLayout(layout, s) ?? new Date(-62135596800000),
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

/** parseGoLayout parses the common numeric Go layouts (time.ParseInLocation in UTC); undefined when s does not match. */
export function parseGoLayout(layout: string, s: string): Date | undefined {
  const fields: Array<[string, string]> = [
    ['2006', '(\\d{4})'],
    ['01', '(\\d{2})'],
    ['02', '(\\d{2})'],
    ['15', '(\\d{2})'],
    ['04', '(\\d{2})'],
    ['05', '(\\d{2})'],
  ];
  let re = '';
  const order: string[] = [];
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, pat] of fields) {
      if (layout.startsWith(tok, i)) {
        re += pat;
        order.push(tok);
        i += tok.length;
        continue outer;
      }
    }
    re += (layout[i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    i++;
  }
  const m = new RegExp(`^${re}$`).exec(s);
  if (m === null) return undefined;
  const v: Record<string, number> = { '2006': 1, '01': 1, '02': 1, '15': 0, '04': 0, '05': 0 };
  order.forEach((tok, k) => (v[tok] = Number(m[k + 1])));
  const d = new Date(Date.UTC(v['2006'] as number, (v['01'] as number) - 1, v['02'], v['15'], v['04'], v['05']));
  if (d.getUTCMonth() !== (v['01'] as number) - 1) return undefined;
  return d;
}
