// labels.ts holds the label-set helpers of the engine: canonical keys used to
// identify series and join groups, Prometheus's label-set text form, ordering,
// metric-name dropping and the label hash that limit_ratio samples by.

import { compileAnchored } from '../../compat/re2.js';
import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import type { Labels } from './types.js';
import { compareGoStrings as compareStrings } from '../../compat/gostrings.js';
import { sortedNames } from '../../model/series-labels.js';

/** METRIC_NAME is the reserved label holding the metric name. */
export const METRIC_NAME = '__name__';

const SEP = '\xff';

// sortedNames (label names in Prometheus's order) and compareStrings (names and values ordered as
// Prometheus orders them, by UTF-8 bytes) have one definition each, re-exported for the engine.
export { sortedNames, compareStrings };

/** labelsKey is a canonical string identifying the whole label set. */
export function labelsKey(ls: Labels): string {
  let out = '';
  for (const n of sortedNames(ls)) out += n + SEP + ls[n] + SEP;
  return out;
}

/** keyWith identifies ls by only the given (sorted) names; absent names count as empty. */
export function keyWith(ls: Labels, names: readonly string[]): string {
  let out = '';
  for (const n of names) {
    const v = ls[n];
    if (v !== undefined && v !== '') out += n + SEP + v + SEP;
  }
  return out;
}

/** keyWithout identifies ls by every label except the given names. */
export function keyWithout(ls: Labels, exclude: ReadonlySet<string>): string {
  let out = '';
  for (const n of sortedNames(ls)) {
    if (!exclude.has(n)) out += n + SEP + ls[n] + SEP;
  }
  return out;
}

/**
 * signatureFn returns the join signature function of vector matching:
 * on(labels) keeps only those labels, ignoring(labels) (or no clause) drops
 * them and the metric name.
 */
export function signatureFn(on: boolean, names: readonly string[]): (ls: Labels) => string {
  if (on) {
    const sorted = [...names].sort(compareStrings);
    return (ls) => keyWith(ls, sorted);
  }
  const ex = new Set<string>([METRIC_NAME, ...names]);
  return (ls) => keyWithout(ls, ex);
}

/** METADATA_LABELS are the reserved labels dropped with the metric name (Prometheus's schema.IsMetadataLabel). */
export const METADATA_LABELS: ReadonlySet<string> = new Set([METRIC_NAME, '__type__', '__unit__']);

/** dropMetricName returns ls without `__name__`, `__type__` and `__unit__` (the same object when none is present). */
export function dropMetricName(ls: Labels): Labels {
  if (!(METRIC_NAME in ls) && !('__type__' in ls) && !('__unit__' in ls)) return ls;
  const out: Labels = {};
  for (const n of Object.keys(ls)) if (!METADATA_LABELS.has(n)) out[n] = ls[n];
  return out;
}

/** normalize returns ls with keys sorted and empty values removed. */
export function normalize(ls: Labels): Labels {
  const out: Labels = {};
  for (const n of sortedNames(ls)) if (ls[n] !== '') out[n] = ls[n];
  return out;
}

/** matchLabels keeps (on) or drops (ignoring, plus the name) the given labels, as Prometheus's Labels.MatchLabels. */
export function matchLabels(ls: Labels, on: boolean, names: readonly string[]): Labels {
  const set = new Set(names);
  const out: Labels = {};
  for (const n of sortedNames(ls)) {
    if (on ? set.has(n) : !set.has(n) && n !== METRIC_NAME) out[n] = ls[n];
  }
  return out;
}

/** compareLabels orders label sets as Prometheus's labels.Compare. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = sortedNames(a);
  const bn = sortedNames(b);
  const l = Math.min(an.length, bn.length);
  for (let i = 0; i < l; i++) {
    if (an[i] !== bn[i]) return compareStrings(an[i], bn[i]);
    const av = a[an[i]];
    const bv = b[bn[i]];
    if (av !== bv) return compareStrings(av, bv);
  }
  return an.length - bn.length;
}

/** quoteGo quotes s as Go's strconv.Quote does for printable text. */
export function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** labelsString renders ls as Prometheus's Labels.String: `{a="1", b="2"}`. */
export function labelsString(ls: Labels): string {
  const parts: string[] = [];
  for (const n of sortedNames(ls)) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n) ? n : quoteGo(n);
    parts.push(`${name}=${quoteGo(ls[n])}`);
  }
  return `{${parts.join(', ')}}`;
}

// xxHash64 over Prometheus's label byte layout (name 0xff value 0xff ...),
// so that limit_ratio picks the same series as Prometheus.
const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & M64;
}
function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & M64;
  acc = rotl(acc, 31n);
  return (acc * P1) & M64;
}
function mergeRound(acc: bigint, val: bigint): bigint {
  acc ^= round(0n, val);
  return (acc * P1 + P4) & M64;
}

/** xxhash64 computes XXH64 with seed 0. */
export function xxhash64(buf: Uint8Array): bigint {
  const len = buf.length;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M64;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (0n - P1) & M64;
    while (p + 32 <= len) {
      v1 = round(v1, dv.getBigUint64(p, true));
      v2 = round(v2, dv.getBigUint64(p + 8, true));
      v3 = round(v3, dv.getBigUint64(p + 16, true));
      v4 = round(v4, dv.getBigUint64(p + 24, true));
      p += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(len)) & M64;
  while (p + 8 <= len) {
    const k1 = round(0n, dv.getBigUint64(p, true));
    h ^= k1;
    h = (rotl(h, 27n) * P1 + P4) & M64;
    p += 8;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(dv.getUint32(p, true)) * P1) & M64;
    h = (rotl(h, 23n) * P2 + P3) & M64;
    p += 4;
  }
  while (p < len) {
    h ^= (BigInt(buf[p]) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
    p++;
  }
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h;
}

/** labelsHash is Prometheus's Labels.Hash. */
export function labelsHash(ls: Labels): bigint {
  const chunks: Buffer[] = [];
  const sep = Buffer.from([0xff]);
  for (const n of sortedNames(ls)) {
    chunks.push(Buffer.from(n, 'utf8'), sep, Buffer.from(ls[n], 'utf8'), sep);
  }
  return xxhash64(Buffer.concat(chunks));
}

/** compileMatcher turns a label matcher into a predicate over label values (regexps fully anchored). */
export function compileMatcher(m: LabelMatcher): (v: string) => boolean {
  switch (m.type) {
    case MatchType.Equal:
      return (v) => v === m.value;
    case MatchType.NotEqual:
      return (v) => v !== m.value;
    case MatchType.Regexp: {
      const re = compileAnchored(m.value);
      return (v) => re.test(v);
    }
    case MatchType.NotRegexp: {
      const re = compileAnchored(m.value);
      return (v) => !re.test(v);
    }
  }
}
