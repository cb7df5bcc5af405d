// timeinterval.ts evaluates Alertmanager's time intervals (times, weekdays,
// days_of_month, months, years, location) as its timeinterval package:
// an instant is inside when every given field contains it, in the
// interval's time zone.

/** TimeInterval is one entry of a named time interval; ranges are inclusive except times (end exclusive), in minutes. */
export interface TimeInterval {
  times: Array<[number, number]>;
  weekdays: Array<[number, number]>;
  daysOfMonth: Array<[number, number]>;
  months: Array<[number, number]>;
  years: Array<[number, number]>;
  location: string;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function ranges(v: unknown, parseOne: (s: string) => number, check: (b: number, e: number, raw: string) => void): Array<[number, number]> {
  return list(v).map((raw) => {
    const parts = raw.split(':');
    if (parts.length > 2) throw new Error(`couldn't parse range ${raw}, invalid format`);
    const b = parseOne((parts[0] as string).trim());
    const e = parts.length === 2 ? parseOne((parts[1] as string).trim()) : b;
    check(b, e, raw);
    return [b, e];
  });
}

function parseClock(s: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(s);
  if (m === null) throw new Error(`couldn't parse timestamp ${s}, invalid format`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 24 || min > 59 || (h === 24 && min !== 0)) throw new Error(`timestamp ${s} out of range`);
  return h * 60 + min;
}

/** parseTimeInterval parses one `time_intervals` entry (throws with Alertmanager's texts). */
export function parseTimeInterval(raw: unknown): TimeInterval {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const times: Array<[number, number]> = [];
  if (Array.isArray(r.times)) {
    for (const t of r.times as Array<Record<string, unknown>>) {
      if (t.start_time === undefined || t.end_time === undefined) throw new Error('both start and end times must be provided');
      const b = parseClock(String(t.start_time));
      const e = parseClock(String(t.end_time));
      if (b >= e) throw new Error('start time cannot be equal or greater than end time');
      times.push([b, e]);
    }
  }
  const weekdays = ranges(
    r.weekdays,
    (s) => {
      const i = WEEKDAYS.indexOf(s.toLowerCase());
      if (i < 0) throw new Error(`${s} is not a valid weekday`);
      return i;
    },
    (b, e, raw) => {
      if (e < b) throw new Error(`start day cannot be before end day: ${raw}`);
    },
  );
  const daysOfMonth = ranges(
    r.days_of_month,
    (s) => {
      if (!/^-?\d+$/.test(s)) throw new Error(`couldn't parse range ${s}, invalid format`);
      return Number(s);
    },
    (b, e) => {
      if (b === 0 || b < -31 || b > 31) throw new Error(`${b} is not a valid day of the month: out of range`);
      if (e === 0 || e < -31 || e > 31) throw new Error(`${e} is not a valid day of the month: out of range`);
      if (b < 0 && e > 0) throw new Error('end day must be negative if start day is negative');
      if (Math.sign(b) === Math.sign(e) && e < b) throw new Error(`end day ${e} is always before start day ${b}`);
    },
  );
  const months = ranges(
    r.months,
    (s) => {
      if (/^\d+$/.test(s)) return Number(s);
      const i = MONTHS.indexOf(s.toLowerCase());
      if (i < 0) throw new Error(`${s} is not a valid month`);
      return i + 1;
    },
    (b, e) => {
      if (b < 1 || b > 12) throw new Error(`${b} is not a valid month: out of range`);
      if (e < 1 || e > 12) throw new Error(`${e} is not a valid month: out of range`);
      if (e < b) throw new Error(`end month ${MONTHS[e - 1]} is before start month ${MONTHS[b - 1]}`);
    },
  );
  const years = ranges(
    r.years,
    (s) => {
      if (!/^\d+$/.test(s)) throw new Error(`couldn't parse range ${s}, invalid format`);
      return Number(s);
    },
    (b, e) => {
      if (e < b) throw new Error(`end year ${e} is before start year ${b}`);
    },
  );
  const location = r.location === undefined ? 'UTC' : String(r.location);
  if (location !== 'UTC' && location !== 'Local') {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: location });
    } catch {
      throw new Error(`unknown time zone ${location}`);
    }
  }
  return { times, weekdays, daysOfMonth, months, years, location };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(ms: number, zone: string): { year: number; month: number; day: number; weekday: number; minutes: number; daysInMonth: number } {
  const tz = zone === 'Local' ? undefined : zone;
  const key = tz ?? '';
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'long', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  const year = Number(p.year);
  const month = Number(p.month);
  return {
    year,
    month,
    day: Number(p.day),
    weekday: WEEKDAYS.indexOf(String(p.weekday).toLowerCase()),
    minutes: Number(p.hour) * 60 + Number(p.minute),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** containsTime tells whether the instant (unix ms) is inside the interval. */
export function containsTime(ti: TimeInterval, ms: number): boolean {
  const t = localParts(ms, ti.location);
  if (ti.times.length > 0 && !ti.times.some(([b, e]) => t.minutes >= b && t.minutes < e)) return false;
  if (ti.weekdays.length > 0 && !ti.weekdays.some(([b, e]) => t.weekday >= b && t.weekday <= e)) return false;
  if (ti.daysOfMonth.length > 0) {
    const ok = ti.daysOfMonth.some(([b, e]) => {
      const begin = b < 0 ? t.daysInMonth + b + 1 : b;
      const end = e < 0 ? t.daysInMonth + e + 1 : Math.min(e, t.daysInMonth);
      return t.day >= begin && t.day <= end;
    });
    if (!ok) return false;
  }
  if (ti.months.length > 0 && !ti.months.some(([b, e]) => t.month >= b && t.month <= e)) return false;
  if (ti.years.length > 0 && !ti.years.some(([b, e]) => t.year >= b && t.year <= e)) return false;
  return true;
}

/** anyContains tells whether any of a named interval's entries contains the instant. */
export function anyContains(tis: readonly TimeInterval[], ms: number): boolean {
  return tis.some((ti) => containsTime(ti, ms));
}
