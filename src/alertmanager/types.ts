// types.ts holds the alert model every part of the Alertmanager shares: label
// sets, their fingerprints (FNV-1a 64 as prometheus/common's model), alerts
// with their timing, and Go's time formatting for the JSON Alertmanager writes.

/** LabelSet is a set of label name -> value pairs. */
export type LabelSet = Record<string, string>;

/** Alert is one alert as the Alertmanager keeps it (times in unix ms; 0 = unset). */
export interface Alert {
  labels: LabelSet;
  annotations: LabelSet;
  startsAt: number;
  /** endsAt is when the alert resolves (or resolved); with timeout it was set by resolve_timeout. */
  endsAt: number;
  generatorURL: string;
  updatedAt: number;
  /** timeout is true when endsAt was not sent by the client but set from resolve_timeout. */
  timeout: boolean;
  /**
   * version counts the in-place updates of a stored alert (a re-sent alert
   * updates the one object the store, its groups and the inhibitor share, so a
   * flush tells a changed alert by its version, not by its identity).
   */
  version?: number;
  /**
   * groups are the aggregation groups holding the alert (one group, or an
   * array when it matched several routes), set by the dispatcher so that a
   * known alert is not routed again.
   */
  groups?: unknown;
}

/** sameLabelSet says whether two label sets hold the same pairs. */
export function sameLabelSet(a: LabelSet, b: LabelSet): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

const SEP = 0xff;

/** fingerprint hashes a label set as model.LabelSet.Fingerprint (sorted names, 0xff separators, FNV-1a 64). */
export function fingerprint(labels: LabelSet): bigint {
  fingerprintLimbs(labels);
  return (BigInt(LIMBS[3] as number) << 48n) | (BigInt(LIMBS[2] as number) << 32n) | (BigInt(LIMBS[1] as number) << 16n) | BigInt(LIMBS[0] as number);
}

/** LIMBS holds the running FNV-1a 64 state as four 16-bit limbs, low first (the last fingerprint when done). */
const LIMBS = new Uint16Array(4);

/*
 * One FNV-1a 64 step on the limbs: h ^= byte; h *= 2^40 + 0x1b3 (mod 2^64),
 * limb by limb (every intermediate stays a small integer).
 */

/** hashBytes feeds UTF-8 bytes to the hash. */
function hashBytes(b: Uint8Array): void {
  let h0 = LIMBS[0] as number;
  let h1 = LIMBS[1] as number;
  let h2 = LIMBS[2] as number;
  let h3 = LIMBS[3] as number;
  for (let i = 0; i < b.length; i++) {
    h0 ^= b[i] as number;
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + h0 * 256;
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + ((h1 & 0xff) << 8);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  LIMBS[0] = h0;
  LIMBS[1] = h1;
  LIMBS[2] = h2;
  LIMBS[3] = h3;
}

/** hashString feeds a string's UTF-8 bytes, then the 0xff separator, to the hash (ASCII straight from the characters). */
function hashString(s: string): void {
  let h0 = LIMBS[0] as number;
  let h1 = LIMBS[1] as number;
  let h2 = LIMBS[2] as number;
  let h3 = LIMBS[3] as number;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    let c = SEP;
    if (i < n) {
      c = s.charCodeAt(i);
      if (c >= 0x80) {
        LIMBS[0] = h0;
        LIMBS[1] = h1;
        LIMBS[2] = h2;
        LIMBS[3] = h3;
        hashBytes(utf8WithSep(s.slice(i)));
        return;
      }
    }
    h0 ^= c;
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + h0 * 256;
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + ((h1 & 0xff) << 8);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  LIMBS[0] = h0;
  LIMBS[1] = h1;
  LIMBS[2] = h2;
  LIMBS[3] = h3;
}

/** utf8WithSep is s as UTF-8 followed by the 0xff separator. */
function utf8WithSep(s: string): Uint8Array {
  const b = Buffer.allocUnsafe(Buffer.byteLength(s, 'utf8') + 1);
  const n = b.write(s, 0, 'utf8');
  b[n] = SEP;
  return b;
}

/**
 * fingerprintLimbs computes the fingerprint into LIMBS, hashing the names and
 * values as they are walked (no byte buffer, no key array, no BigInt per byte).
 */
function fingerprintLimbs(labels: LabelSet): void {
  // Senders such as Prometheus post labels sorted: the names are walked in place and sorted only when they are not
  // in order (then the hash starts again).
  resetLimbs();
  let prev = '';
  for (const name in labels) {
    if (prev > name) {
      resetLimbs();
      for (const n of Object.keys(labels).sort()) {
        hashString(n);
        hashString(labels[n] as string);
      }
      return;
    }
    prev = name;
    hashString(name);
    hashString(labels[name] as string);
  }
}

/** resetLimbs sets LIMBS to FNV-1a 64's offset basis (0xcbf29ce484222325). */
function resetLimbs(): void {
  LIMBS[0] = 0x2325;
  LIMBS[1] = 0x8422;
  LIMBS[2] = 0x9ce4;
  LIMBS[3] = 0xcbf2;
}

/** HEX holds the character codes of the lowercase hex digits. */
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** fingerprintHex renders a fingerprint as Alertmanager's API does (%016x), as one string allocation. */
export function fingerprintHex(labels: LabelSet): string {
  fingerprintLimbs(labels);
  const h3 = LIMBS[3] as number;
  const h2 = LIMBS[2] as number;
  const h1 = LIMBS[1] as number;
  const h0 = LIMBS[0] as number;
  const x = HEX;
  return String.fromCharCode(
    x[h3 >>> 12] as number, x[(h3 >>> 8) & 15] as number, x[(h3 >>> 4) & 15] as number, x[h3 & 15] as number,
    x[h2 >>> 12] as number, x[(h2 >>> 8) & 15] as number, x[(h2 >>> 4) & 15] as number, x[h2 & 15] as number,
    x[h1 >>> 12] as number, x[(h1 >>> 8) & 15] as number, x[(h1 >>> 4) & 15] as number, x[h1 & 15] as number,
    x[h0 >>> 12] as number, x[(h0 >>> 8) & 15] as number, x[(h0 >>> 4) & 15] as number, x[h0 & 15] as number,
  );
}

/** GO_ZERO_TIME is Go's zero time.Time as JSON renders it. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** goTime renders unix ms as Go's RFC3339Nano in UTC (0 = the zero time). */
export function goTime(ms: number): string {
  if (ms === 0) return GO_ZERO_TIME;
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return iso.slice(0, 19) + (frac === '' ? '' : '.' + frac) + 'Z';
}

/** goQuote quotes s as Go's time package does in its errors (non-ASCII and control bytes as \\x escapes of their bytes). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
    } else out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  }
  return out + '"';
}

/** DAYS_IN_MONTH are the days of each month in a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * STRFMT_DATE_TIME matches what one of go-openapi strfmt's DateTimeFormats
 * accepts: a date, then `T` and the time (hour of one or two digits, minutes,
 * optional seconds with an optional fraction after `.` or `,`, then `Z`,
 * `±hh:mm`, `±hhmm` or nothing; without seconds only a literal `Z` or
 * nothing), or a space and the time with seconds and no zone, or nothing.
 */
const STRFMT_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2}|[+-]\d{4})?|(Z)?)| (\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?)?$/;

/**
 * parseDateTime parses a date-time as go-openapi strfmt's ParseDateTime (what
 * Alertmanager's API decodes startsAt and endsAt with): its layouts in turn,
 * times without a zone in UTC; unix ms, or the error of the last layout
 * ("2006-01-02") as Go's time.Parse words it. The empty string is the Unix
 * epoch.
 */
export function parseDateTime(s: string): number | { error: string } {
  if (s === '') return 0;
  const m = STRFMT_DATE_TIME.exec(s);
  if (m !== null) {
    const [, y, mo, d, h1, mi1, s1, f1, zone, , h2, mi2, s2, f2] = m;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h1 ?? h2 ?? 0);
    const minute = Number(mi1 ?? mi2 ?? 0);
    const second = Number(s1 ?? s2 ?? 0);
    const frac = f1 ?? f2;
    // ±hhmm only in the layouts with exactly three or six fraction digits.
    const zoneOk = zone === undefined || zone === 'Z' || zone.length === 6 || (frac !== undefined && (frac.length === 3 || frac.length === 6));
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
    if (zoneOk && month >= 1 && month <= 12 && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59) {
      let offset = 0;
      if (zone !== undefined && zone !== 'Z') {
        const digits = zone.replace(':', '');
        offset = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
      }
      const ms = frac === undefined ? 0 : Number((frac + '00').slice(0, 3));
      const t = new Date(0);
      t.setUTCFullYear(year, month - 1, day);
      t.setUTCHours(hour, minute, second, ms);
      return t.getTime() - offset;
    }
  }
  // None parsed: the error is the last layout's, "2006-01-02".
  const fail = (valueElem: string, layoutElem: string): { error: string } => ({ error: `parsing time ${goQuote(s)} as "2006-01-02": cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}` });
  if (Buffer.byteLength(s.slice(0, 4)) < 4 || !/^[+-]?\d+$/.test(s.slice(0, 4))) return fail(s, '2006');
  let rest = s.slice(4);
  if (!rest.startsWith('-')) return fail(rest, '-');
  rest = rest.slice(1);
  if (!/^\d\d/.test(rest)) return fail(rest, '01');
  const month = Number(rest.slice(0, 2));
  if (month < 1 || month > 12) return { error: `parsing time ${goQuote(s)}: month out of range` };
  rest = rest.slice(2);
  if (!rest.startsWith('-')) return fail(rest, '-');
  rest = rest.slice(1);
  if (!/^\d\d/.test(rest)) return fail(rest, '02');
  const day = Number(rest.slice(0, 2));
  rest = rest.slice(2);
  if (rest !== '') return { error: `parsing time ${goQuote(s)}: extra text: ${goQuote(rest)}` };
  const year = Number(s.slice(0, 4));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return { error: day < 1 || day > days ? `parsing time ${goQuote(s)}: day out of range` : `parsing time ${goQuote(s)}: cannot parse` };
}

/** alertResolved says whether an alert has ended at time now. */
export function alertResolved(a: Alert, now: number): boolean {
  return a.endsAt !== 0 && a.endsAt <= now;
}

/** sortedLabelNames returns a label set's names in order. */
export function sortedLabelNames(ls: LabelSet): string[] {
  return Object.keys(ls).sort();
}

/** labelSetString renders `{a="b", c="d"}` as model.LabelSet.String. */
export function labelSetString(ls: LabelSet): string {
  return '{' + sortedLabelNames(ls).map((k) => `${k}=${JSON.stringify(ls[k])}`).join(', ') + '}';
}
