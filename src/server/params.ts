// params.ts parses query strings and application/x-www-form-urlencoded bodies
// as Go's url.ParseQuery does: repeated keys keep every value in order
// (`match[]=a&match[]=b`), `+` is a space, and a malformed %-escape is a
// bad_data error naming it.

import { badData } from '../errors.js';

/** Params holds the values of a query string and/or form body. */
export class Params {
  private readonly map = new Map<string, string[]>();

  /** add appends a value for key. */
  add(key: string, value: string): void {
    const list = this.map.get(key);
    if (list === undefined) this.map.set(key, [value]);
    else list.push(value);
  }

  /** get returns the first value of key, or undefined. */
  get(key: string): string | undefined {
    return this.map.get(key)?.[0];
  }

  /** all returns every value of key (empty if none). */
  all(key: string): string[] {
    return this.map.get(key) ?? [];
  }

  /** has reports whether key was given at all. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** keys lists the keys in first-seen order. */
  keys(): string[] {
    return [...this.map.keys()];
  }

  /** merge appends every value of other (Go puts form values before query values). */
  merge(other: Params): void {
    for (const key of other.keys()) for (const v of other.all(key)) this.add(key, v);
  }
}

/** unescapeComponent decodes %XX escapes and `+`; throws bad_data on malformed input. */
export function unescapeComponent(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const plus = s.replace(/\+/g, ' ');
  const bad = /%(?![0-9a-fA-F]{2})(.{0,2})/.exec(plus);
  if (bad !== null) throw badData(`invalid URL escape "${bad[0]}"`);
  try {
    return decodeURIComponent(plus);
  } catch {
    // Valid %XX escapes that are not UTF-8: decode byte-wise like Go does.
    const bytes: number[] = [];
    for (let i = 0; i < plus.length; i++) {
      if (plus[i] === '%') {
        bytes.push(parseInt(plus.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(plus[i]!, 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

/** parseQuery parses a raw query string or form body (no leading '?'). */
export function parseQuery(raw: string, into: Params = new Params()): Params {
  if (raw === '') return into;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) throw badData('invalid semicolon separator in query');
    const eq = part.indexOf('=');
    const key = unescapeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : unescapeComponent(part.slice(eq + 1));
    into.add(key, value);
  }
  return into;
}

/** isFormContentType reports whether a Content-Type is a urlencoded form. */
export function isFormContentType(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}
