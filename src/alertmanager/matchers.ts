// matchers.ts holds Alertmanager's label matchers: `name="v"`, `!=`, `=~`,
// `!~`, parsed as 0.35's fallback parser accepts them (UTF-8 names quoted or
// bare, values quoted or bare, optional braces, comma-separated), matched
// against label sets, and rendered back as Matcher.String does.

import { re2Source } from '../compat/re2.js';
import { quoteGo } from '../promql/engine/labels.js';
import type { LabelSet } from './types.js';

/** MatchType is a matcher operator. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** Matcher is one label matcher. */
export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  /** re is the anchored regexp of =~ and !~. */
  re?: RegExp;
}

/** newMatcher builds a matcher, compiling the anchored regexp (throws on a bad one, in Go's words when we can). */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  const m: Matcher = { name, type, value };
  if (type === '=~' || type === '!~') {
    try {
      m.re = new RegExp(`^(?:${re2Source(value)})$`, 'u');
    } catch (err) {
      try {
        m.re = new RegExp(`^(?:${re2Source(value)})$`);
      } catch {
        throw new Error(`error parsing regexp: ${err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err)}`);
      }
    }
  }
  return m;
}

/** matchesValue tells whether a label value satisfies the matcher (missing labels are ""). */
export function matchesValue(m: Matcher, v: string): boolean {
  switch (m.type) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return (m.re as RegExp).test(v);
    case '!~':
      return !(m.re as RegExp).test(v);
  }
}

/** matchesAll tells whether a label set satisfies every matcher. */
export function matchesAll(ms: readonly Matcher[], ls: LabelSet): boolean {
  for (const m of ms) if (!matchesValue(m, ls[m.name] ?? '')) return false;
  return true;
}

function isReserved(ch: string): boolean {
  return /\s/u.test(ch) || '{}!=~,\\"\'`'.includes(ch);
}

/** matcherString renders a matcher as Alertmanager's Matcher.String. */
export function matcherString(m: Matcher): string {
  if ([...m.name].some(isReserved)) return `${quoteGo(m.name)}${m.type}${quoteGo(m.value)}`;
  return `${m.name}${m.type}"${m.value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

/** matchersString renders `{a="b",c=~"d"}` as labels.Matchers.String. */
export function matchersString(ms: readonly Matcher[]): string {
  return '{' + ms.map(matcherString).join(',') + '}';
}

/** compareMatchers orders matchers as labels.Matchers.Less (name, value, type). */
export function compareMatchers(a: Matcher, b: Matcher): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  const order = ['=', '!=', '=~', '!~'];
  return order.indexOf(a.type) - order.indexOf(b.type);
}

/** parseMatchers parses `{a="b", c=~d}` or `a="b",c!=d` into matchers (throws with the reason). */
export function parseMatchers(input: string): Matcher[] {
  let s = input.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw new Error(`0:${s.length}: end of input: expected close brace`);
    s = s.slice(1, -1);
  } else if (s.endsWith('}')) {
    throw new Error(`${s.length - 1}:${s.length}: }: expected opening brace`);
  }
  const out: Matcher[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  const readQuoted = (): string => {
    const start = i;
    i++;
    let val = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const n = s[i + 1] as string;
        val += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        i += 2;
      } else val += s[i++];
    }
    if (i >= s.length) throw new Error(`${start}:${s.length}: ${s.slice(start)}: missing end "`);
    i++;
    return val;
  };
  for (;;) {
    skip();
    if (i >= s.length) break;
    let name: string;
    if (s[i] === '"') name = readQuoted();
    else {
      const start = i;
      while (i < s.length && !'=!~,'.includes(s[i] as string) && !/\s/.test(s[i] as string)) i++;
      name = s.slice(start, i);
      if (name === '') throw new Error(`bad matcher format: ${input}`);
    }
    skip();
    const op = s.startsWith('=~', i) ? '=~' : s.startsWith('!~', i) ? '!~' : s.startsWith('!=', i) ? '!=' : s[i] === '=' ? '=' : undefined;
    if (op === undefined) throw new Error(`bad matcher format: ${input}`);
    i += op.length;
    skip();
    let value: string;
    if (s[i] === '"') value = readQuoted();
    else {
      const start = i;
      while (i < s.length && s[i] !== ',') i++;
      value = s.slice(start, i).trim();
      if (value.includes('"')) throw new Error(`matcher value contains unescaped double quote: ${value}`);
    }
    out.push(newMatcher(op as MatchType, name, value));
    skip();
    if (i < s.length) {
      if (s[i] !== ',') throw new Error(`bad matcher format: ${input}`);
      i++;
    }
  }
  return out;
}

/** parseMatcher parses exactly one matcher. */
export function parseMatcher(input: string): Matcher {
  const ms = parseMatchers(input);
  if (ms.length !== 1) throw new Error(`bad matcher format: ${input}`);
  return ms[0] as Matcher;
}

/** ApiMatcher is a matcher in API v2 JSON. */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** toApiMatcher renders a matcher for API v2. */
export function toApiMatcher(m: Matcher): ApiMatcher {
  return { name: m.name, value: m.value, isRegex: m.type === '=~' || m.type === '!~', isEqual: m.type === '=' || m.type === '=~' };
}

/** fromApiMatcher builds a matcher from API v2 JSON (isEqual defaults to true). */
export function fromApiMatcher(a: ApiMatcher): Matcher {
  const eq = a.isEqual !== false;
  const type: MatchType = a.isRegex ? (eq ? '=~' : '!~') : eq ? '=' : '!=';
  return newMatcher(type, a.name, a.value);
}
