// gotime.ts is Go's time.Time and time.Duration as template values: a
// GoTime carries unix milliseconds and the IANA zone it is shown in, with the
// methods templates call (Format, Unix, UTC, In via tz, Add, Sub, Before, ...)
// and Go's String(); formatting follows time.Format's reference layouts and
// prints zone abbreviations as Go does, from the system tz database
// (/usr/share/zoneinfo, which Go reads too): the footer TZ rule of each zone
// file names its standard and daylight abbreviations ("CET-1CEST,..."), and
// zones without letters print as numeric offsets ("+03").

import { readFileSync } from 'node:fs';

/** GO_ZERO_MS is Go's zero time.Time (0001-01-01T00:00:00Z) in unix ms. */
export const GO_ZERO_MS = -62135596800000;

/** GoDuration is time.Duration (nanoseconds): it prints as Go's Duration.String ("1h2m3.5s"). */
export class GoDuration {
  constructor(readonly ns: bigint) {}

  /** String is Duration.String. */
  String(): string {
    return durationString(this.ns);
  }

  /** goString is what fmt prints (a Stringer). */
  goString(): string {
    return durationString(this.ns);
  }

  Seconds(): number {
    return Number(this.ns) / 1e9;
  }

  Minutes(): number {
    return Number(this.ns) / 6e10;
  }

  Hours(): number {
    return Number(this.ns) / 3.6e12;
  }

  Milliseconds(): bigint {
    return this.ns / 1_000_000n;
  }

  Microseconds(): bigint {
    return this.ns / 1000n;
  }

  Nanoseconds(): bigint {
    return this.ns;
  }
}

/** durationString is time.Duration.String: "72h3m0.5s", "1.5ms", "0s". */
export function durationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    // Below a second: one unit with a fraction.
    let unit: string;
    let scale: bigint;
    if (u < 1000n) {
      return (neg ? '-' : '') + `${u}ns`;
    } else if (u < 1_000_000n) {
      unit = '\u00b5s';
      scale = 1000n;
    } else {
      unit = 'ms';
      scale = 1_000_000n;
    }
    out = fraction(u, scale) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = fraction(u, 1_000_000_000n) + 's';
    if (h > 0n || m > 0n) out = `${m}m` + out;
    if (h > 0n) out = `${h}h` + out;
  }
  return (neg ? '-' : '') + out;
}

function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  const frac = v % scale;
  if (frac === 0n) return String(whole);
  const digits = String(frac).padStart(String(scale).length - 1, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}

/** GoMonth is time.Month: it prints as the month's name. */
export class GoMonth {
  constructor(readonly n: number) {}

  goString(): string {
    return MONTHS[this.n - 1] as string;
  }

  String(): string {
    return this.goString();
  }
}

/** GoWeekday is time.Weekday: it prints as the day's name. */
export class GoWeekday {
  constructor(readonly n: number) {}

  goString(): string {
    return DAYS[this.n] as string;
  }

  String(): string {
    return this.goString();
  }
}

/** GoTime is a time.Time: unix ms shown in an IANA zone ('UTC' unless put elsewhere by In / tz). */
export class GoTime {
  constructor(
    readonly ms: number,
    readonly zone: string = 'UTC',
  ) {}

  /** fromDate wraps a Date (UTC); 0 or the year-1 Date is Go's zero time. */
  static fromDate(d: Date): GoTime {
    return new GoTime(d.getTime());
  }

  /** fromMs wraps unix ms, 0 being the zero time (as the Alertmanager keeps unset times). */
  static fromMs(ms: number): GoTime {
    return new GoTime(ms === 0 ? GO_ZERO_MS : ms);
  }

  /** Format is time.Time.Format with a reference layout. */
  Format(layout: string): string {
    return formatGoLayout(layout, this);
  }

  /** String is time.Time.String: "2006-01-02 15:04:05.999999999 -0700 MST". */
  String(): string {
    return formatGoLayout('2006-01-02 15:04:05.999999999 -0700 MST', this);
  }

  /** goString is what fmt prints (a Stringer). */
  goString(): string {
    return this.String();
  }

  /** toJSON is time.Time.MarshalJSON's RFC 3339 text. */
  toJSON(): string {
    return formatGoLayout('2006-01-02T15:04:05.999999999Z07:00', this);
  }

  IsZero(): boolean {
    return this.ms === GO_ZERO_MS;
  }

  Unix(): bigint {
    return BigInt(Math.floor(this.ms / 1000));
  }

  UnixMilli(): bigint {
    return BigInt(Math.floor(this.ms));
  }

  UnixMicro(): bigint {
    return BigInt(Math.floor(this.ms)) * 1000n;
  }

  UnixNano(): bigint {
    return BigInt(Math.floor(this.ms)) * 1_000_000n;
  }

  UTC(): GoTime {
    return new GoTime(this.ms, 'UTC');
  }

  /** Local is the time in this process's zone (TZ, else the system's). */
  Local(): GoTime {
    return new GoTime(this.ms, localZone());
  }

  Year(): bigint {
    return BigInt(this.parts().y);
  }

  Month(): GoMonth {
    return new GoMonth(this.parts().mo);
  }

  Day(): bigint {
    return BigInt(this.parts().d);
  }

  Hour(): bigint {
    return BigInt(this.parts().h);
  }

  Minute(): bigint {
    return BigInt(this.parts().mi);
  }

  Second(): bigint {
    return BigInt(this.parts().s);
  }

  Nanosecond(): bigint {
    return BigInt((((this.ms % 1000) + 1000) % 1000) * 1_000_000);
  }

  Weekday(): GoWeekday {
    return new GoWeekday(this.parts().wd);
  }

  YearDay(): bigint {
    const p = this.parts();
    return BigInt(Math.round((Date.UTC(p.y, p.mo - 1, p.d) - Date.UTC(p.y, 0, 1)) / 86400000) + 1);
  }

  /** Add adds a duration (a Duration or integer nanoseconds). */
  Add(d: GoDuration | bigint | number): GoTime {
    const ns = d instanceof GoDuration ? d.ns : BigInt(d);
    return new GoTime(this.ms + Number(ns / 1_000_000n), this.zone);
  }

  Sub(u: GoTime): GoDuration {
    return new GoDuration(BigInt(Math.round(this.ms - u.ms)) * 1_000_000n);
  }

  Before(u: GoTime): boolean {
    return this.ms < u.ms;
  }

  After(u: GoTime): boolean {
    return this.ms > u.ms;
  }

  Equal(u: GoTime): boolean {
    return this.ms === u.ms;
  }

  private parts(): ReturnType<typeof zoneParts> {
    return zoneParts(this.ms, this.zone);
  }
}

/** localZone is the zone Go's time.Local would be: $TZ, else the system's (UTC when unknown). */
export function localZone(): string {
  const tz = process.env.TZ;
  if (tz !== undefined && tz !== '') return tz.replace(/^:/, '');
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** ZONEINFO_DIRS are where Go (and we) look for the tz database. */
const ZONEINFO_DIRS = [process.env.ZONEINFO, '/usr/share/zoneinfo', '/usr/share/lib/zoneinfo', '/usr/lib/locale/TZ'].filter((d): d is string => d !== undefined && d !== '');

const footerCache = new Map<string, { std: string; stdOffset: number; dst?: string; dstOffset?: number } | null>();

/** zoneRule reads the POSIX TZ footer of a zone file ("CET-1CEST,M3.5.0,M10.5.0/3"): names and offsets (minutes east). */
function zoneRule(zone: string): { std: string; stdOffset: number; dst?: string; dstOffset?: number } | null {
  const cached = footerCache.get(zone);
  if (cached !== undefined) return cached;
  let rule: { std: string; stdOffset: number; dst?: string; dstOffset?: number } | null = null;
  if (/^[A-Za-z0-9_+\-/]+$/.test(zone) && !zone.includes('..')) {
    for (const dir of ZONEINFO_DIRS) {
      let buf: Buffer;
      try {
        buf = readFileSync(`${dir}/${zone}`);
      } catch {
        continue;
      }
      const text = buf.toString('latin1');
      const end = text.endsWith('\n') ? text.length - 1 : text.length;
      const start = text.lastIndexOf('\n', end - 1);
      if (text.startsWith('TZif') && start >= 0) rule = parsePosixTZ(text.slice(start + 1, end));
      break;
    }
  }
  footerCache.set(zone, rule);
  return rule;
}

/** parsePosixTZ reads the names and offsets of a POSIX TZ string (std offset [dst [offset]] [,rules]). */
export function parsePosixTZ(s: string): { std: string; stdOffset: number; dst?: string; dstOffset?: number } | null {
  let i = 0;
  const name = (): string | undefined => {
    if (s[i] === '<') {
      const close = s.indexOf('>', i);
      if (close < 0) return undefined;
      const n = s.slice(i + 1, close);
      i = close + 1;
      return n;
    }
    const m = /^[A-Za-z]{3,}/.exec(s.slice(i));
    if (m === null) return undefined;
    i += m[0].length;
    return m[0];
  };
  const offset = (): number | undefined => {
    const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?/.exec(s.slice(i));
    if (m === null) return undefined;
    i += m[0].length;
    // POSIX offsets are hours west of UTC.
    const west = Number(m[2]) * 60 + Number(m[3] ?? 0);
    return m[1] === '-' ? west : -west;
  };
  const std = name();
  if (std === undefined) return null;
  const stdOffset = offset();
  if (stdOffset === undefined) return null;
  if (i >= s.length || s[i] === ',') return { std, stdOffset };
  const dst = name();
  if (dst === undefined) return { std, stdOffset };
  let dstOffset = stdOffset + 60;
  if (i < s.length && s[i] !== ',') dstOffset = offset() ?? dstOffset;
  return { std, stdOffset, dst, dstOffset };
}

/** zoneAbbreviation names a zone at a UTC offset (minutes east) as Go prints it ("CEST", "EST", "+03"). */
export function zoneAbbreviation(zone: string, offset: number): string {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
  const rule = zoneRule(zone);
  if (rule !== null) {
    if (rule.dst !== undefined && offset === rule.dstOffset) return rule.dst;
    if (offset === rule.stdOffset) return rule.std;
  }
  return goOffsetName(offset);
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
  return { y, mo, d, h, mi, s, wd: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday ?? ''), offset, abbr: zoneAbbreviation(zone, offset) };
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
export function formatGoLayout(layout: string, t: GoTime | Date): string {
  const gt = t instanceof GoTime ? t : GoTime.fromDate(t);
  const ms = gt.ms;
  const z = zoneParts(ms, gt.zone);
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

/** parseGoLayout parses the common numeric Go layouts (time.ParseInLocation in UTC); undefined when s does not match. */
export function parseGoLayout(layout: string, s: string): GoTime | undefined {
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
  return new GoTime(d.getTime());
}
