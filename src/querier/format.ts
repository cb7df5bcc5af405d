// format.ts encodes PromQL results as the Prometheus HTTP API writes them
// (web/api/v1 json codec and util/jsonutil): sample values as strings in the
// shortest form that round-trips (Go's FormatFloat 'f', switching to 'e' when
// |v| < 1e-6 or |v| >= 1e21), "NaN"/"+Inf"/"-Inf", and timestamps as unix
// seconds written from integer milliseconds with the fraction kept to three
// digits ("1435781451.781", "1.500", "-0.500", "7"). The API worker and the
// conformance runner both encode through here.

import { sortedNames } from '../model/series-labels.js';
import type { Labels, QueryResult, QueryValue } from '../promql/engine/types.js';
import type { FloatHistogram } from '../promql/engine/float-histogram.js';

/**
 * formatFloat renders v as Prometheus's jsonutil.MarshalFloat does (without
 * the quotes). JavaScript's shortest round-trip digits and its switch to
 * exponent form are the same as Go's here; only the exponent is padded to two
 * digits (Go writes 1e-07) and negative zero keeps its sign.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // "1.5e-7" -> "1.5e-07"; "1e+21" stays.
  const digits = s.slice(e + 2);
  return digits.length === 1 ? `${s.slice(0, e + 2)}0${digits}` : s;
}

/**
 * formatTimestamp renders integer milliseconds as Prometheus's
 * jsonutil.MarshalTimestamp: seconds, then '.' and exactly three fraction
 * digits when the fraction is not zero.
 */
export function formatTimestamp(ms: number): string {
  let t = Math.trunc(ms);
  let sign = '';
  if (t < 0) {
    sign = '-';
    t = -t;
  }
  const secs = Math.floor(t / 1000);
  const frac = t - secs * 1000;
  if (frac === 0) return `${sign}${secs}`;
  return `${sign}${secs}.${String(frac).padStart(3, '0')}`;
}

/**
 * jsonString encodes s as Go's encoding/json does: JSON.stringify, plus the
 * HTML-safe escapes of <, > and & and the escapes of U+2028 and U+2029.
 */
export function jsonString(s: string): string {
  const out = JSON.stringify(s);
  if (!/[<>&\u2028\u2029]/.test(out)) return out;
  return out.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** encodeLabels renders a label set as a JSON object with names in Prometheus's order. */
export function encodeLabels(labels: Labels): string {
  const names = sortedNames(labels);
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) out += ',';
    out += jsonString(names[i]!) + ':' + jsonString(labels[names[i]!]!);
  }
  return out + '}';
}

/** encodePoint renders `[<seconds>,"<value>"]`. */
function encodePoint(ms: number, v: number): string {
  return `[${formatTimestamp(ms)},"${formatFloat(v)}"]`;
}

/**
 * encodeHistogram renders a native histogram as Prometheus's jsonutil.MarshalHistogram:
 * `{"count":"..","sum":"..","buckets":[[boundaryRule,"lower","upper","count"],...]}`, the buckets
 * in ascending order without the empty ones (no `buckets` member when none is left). The boundary
 * rule is 0 for (lower, upper], 1 for [lower, upper), 2 for (lower, upper), 3 for [lower, upper].
 */
export function encodeHistogram(h: FloatHistogram): string {
  let out = `{"count":"${formatFloat(h.count)}","sum":"${formatFloat(h.sum)}"`;
  let first = true;
  for (const b of h.allBuckets()) {
    if (b.count === 0) continue;
    out += first ? ',"buckets":[' : ',';
    first = false;
    const rule = b.lowerInclusive ? (b.upperInclusive ? 3 : 1) : b.upperInclusive ? 0 : 2;
    out += `[${rule},"${formatFloat(b.lower)}","${formatFloat(b.upper)}","${formatFloat(b.count)}"]`;
  }
  if (!first) out += ']';
  return out + '}';
}

/** encodeHistogramPoint renders `[<seconds>,{histogram}]`. */
function encodeHistogramPoint(ms: number, h: FloatHistogram): string {
  return `[${formatTimestamp(ms)},${encodeHistogram(h)}]`;
}

/**
 * encodeQueryData renders the `data` member of a query response:
 * `{"resultType":"...","result":...}`. Series are written in the order given.
 */
export function encodeQueryData(value: QueryValue): string {
  const parts: string[] = [];
  switch (value.resultType) {
    case 'matrix':
      for (const s of value.series) {
        const points: string[] = new Array<string>(s.timestamps.length);
        for (let i = 0; i < s.timestamps.length; i++) points[i] = encodePoint(s.timestamps[i]!, s.values[i]!);
        // As Prometheus: `values` only with float points, `histograms` only with histogram points.
        let body = `{"metric":${encodeLabels(s.labels)}`;
        if (points.length > 0 || s.histograms === undefined) body += `,"values":[${points.join(',')}]`;
        if (s.histograms !== undefined && s.histograms.timestamps.length > 0) {
          const hs = s.histograms;
          const hp: string[] = new Array<string>(hs.timestamps.length);
          for (let i = 0; i < hs.timestamps.length; i++) hp[i] = encodeHistogramPoint(hs.timestamps[i]!, hs.values[i]!);
          body += `,"histograms":[${hp.join(',')}]`;
        }
        parts.push(body + '}');
      }
      return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
    case 'vector':
      for (const s of value.series) {
        if (s.histogram !== undefined) parts.push(`{"metric":${encodeLabels(s.labels)},"histogram":${encodeHistogramPoint(value.timestampMs, s.histogram)}}`);
        else parts.push(`{"metric":${encodeLabels(s.labels)},"value":${encodePoint(value.timestampMs, s.value)}}`);
      }
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    case 'scalar':
      return `{"resultType":"scalar","result":${encodePoint(value.timestampMs, value.value)}}`;
    case 'string':
      return `{"resultType":"string","result":[${formatTimestamp(value.timestampMs)},${jsonString(value.value)}]}`;
  }
}

/** encodeQuerySuccess renders a whole success body: data, then warnings and infos when non-empty. */
export function encodeQuerySuccess(result: QueryResult): string {
  return SUCCESS_PREFIX + encodeQueryData(result.value) + encodeSuccessEnd(result);
}

/** SUCCESS_PREFIX opens a success body, up to the `data` member's value. */
export const SUCCESS_PREFIX = '{"status":"success","data":';

/** encodeSuccessEnd renders what follows `data` in a success body: warnings and infos when non-empty, and the closing brace. */
export function encodeSuccessEnd(result: QueryResult): string {
  let out = '';
  if (result.warnings.length > 0) out += ',"warnings":[' + result.warnings.map(jsonString).join(',') + ']';
  if (result.infos.length > 0) out += ',"infos":[' + result.infos.map(jsonString).join(',') + ']';
  return out + '}';
}

/** parseFloatValue reads a value string back ("NaN", "+Inf", "1e-07"). */
export function parseFloatValue(s: string): number {
  switch (s) {
    case 'NaN':
      return NaN;
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return Number(s);
  }
}

/** parseTimestampValue reads an encoded timestamp back to integer milliseconds. */
export function parseTimestampValue(seconds: number): number {
  return Math.round(seconds * 1000);
}
