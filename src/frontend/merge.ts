// merge.ts joins the answers of a range query's sub-queries (time slices of
// one query, in time order) into the answer of the whole query: each series'
// points concatenated across the slices, the series sorted by their labels
// as Prometheus sorts a matrix, and the warnings and infos of every slice
// kept once each, in the order first seen, except that a warning counted
// in occurrences (`... (n occurrences) (1:6)`) is one warning with the
// occurrences of every slice added up. Bodies are the API's JSON.

import { compareLabels } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import { encodeLabels, formatTimestamp, jsonString, SUCCESS_PREFIX } from '../querier/format.js';

/** SampleJson is one `[seconds, "value"]` point as decoded. */
type SampleJson = [number, string];

/** SeriesJson is one matrix series as decoded. */
interface SeriesJson {
  metric: Labels;
  values?: SampleJson[];
  histograms?: Array<[number, unknown]>;
}

/** BodyJson is a success body as decoded. */
interface BodyJson {
  status: string;
  data: { resultType: string; result: unknown };
  warnings?: string[];
  infos?: string[];
}

/** MergedSeries collects one series' points over the slices. */
interface MergedSeries {
  metric: Labels;
  values: SampleJson[];
  histograms: Array<[number, unknown]>;
}

/** seriesKey identifies a label set regardless of the order of its names. */
function seriesKey(labels: Labels): string {
  return encodeLabels(labels);
}

/** decodeSuccess parses a success body; throws when it is not a matrix answer. */
export function decodeMatrixBody(body: string): BodyJson {
  const parsed = JSON.parse(body) as BodyJson;
  if (parsed.status !== 'success' || parsed.data.resultType !== 'matrix' || !Array.isArray(parsed.data.result)) {
    throw new Error(`unexpected sub-query answer: ${body.slice(0, 200)}`);
  }
  return parsed;
}

/** encodeSample renders a point as the API does (the seconds re-encoded from whole milliseconds). */
function encodeSample(t: number, rest: string): string {
  return `[${formatTimestamp(Math.round(t * 1000))},${rest}]`;
}

/**
 * mergeMatrixBodies joins the slices' bodies (in time order, not
 * overlapping) into one body; with a window, only the points within
 * [window[0], window[1]] (ms) are kept, and series left without any dropped.
 */
export function mergeMatrixBodies(bodies: string[], window?: [number, number]): string {
  if (bodies.length === 1 && window === undefined) return bodies[0]!;
  const inWindow = window === undefined ? () => true : (t: number) => t * 1000 >= window[0] - 0.5 && t * 1000 <= window[1] + 0.5;
  const series = new Map<string, MergedSeries>();
  const warnings: string[] = [];
  const infos: string[] = [];
  for (const body of bodies) {
    const b = decodeMatrixBody(body);
    warnings.push(...(b.warnings ?? []));
    infos.push(...(b.infos ?? []));
    for (const s of b.data.result as SeriesJson[]) {
      const key = seriesKey(s.metric);
      let m = series.get(key);
      if (m === undefined) {
        m = { metric: s.metric, values: [], histograms: [] };
        series.set(key, m);
      }
      if (s.values !== undefined) for (const p of s.values) if (inWindow(p[0])) m.values.push(p);
      if (s.histograms !== undefined) for (const p of s.histograms) if (inWindow(p[0])) m.histograms.push(p);
    }
  }
  const sorted = [...series.values()].sort((a, b) => compareLabels(a.metric, b.metric));
  const parts: string[] = [];
  for (const s of sorted) {
    if (window !== undefined && s.values.length === 0 && s.histograms.length === 0) continue;
    let out = `{"metric":${encodeLabels(s.metric)}`;
    if (s.values.length > 0 || s.histograms.length === 0) out += `,"values":[${s.values.map(([t, v]) => encodeSample(t, jsonString(v))).join(',')}]`;
    if (s.histograms.length > 0) out += `,"histograms":[${s.histograms.map(([t, h]) => encodeSample(t, JSON.stringify(h))).join(',')}]`;
    parts.push(out + '}');
  }
  let out = `${SUCCESS_PREFIX}{"resultType":"matrix","result":[${parts.join(',')}]}`;
  const w = mergeAnnotations(warnings);
  const i = mergeAnnotations(infos);
  if (w.length > 0) out += ',"warnings":[' + w.map(jsonString).join(',') + ']';
  if (i.length > 0) out += ',"infos":[' + i.map(jsonString).join(',') + ']';
  return out + '}';
}

/** OCCURRENCES splits an annotation into its text, its `(n occurrences)` count and its ` (line:col)` position. */
const OCCURRENCES = /^(.*?)(?: \((\d+) occurrences\))?( \(\d+:\d+\))?$/s;

/**
 * mergeAnnotations joins the annotations of answers over parts of the data
 * (time slices, shards): each text once, in the order first seen; a text
 * that some part counts in occurrences (as the engine words them) takes the
 * sum of every part's count (1 where a part shows none).
 */
export function mergeAnnotations(texts: string[]): string[] {
  const byKey = new Map<string, { base: string; pos: string; counts: number[]; counted: boolean }>();
  const seen = new Set<string>();
  for (const text of texts) {
    const m = OCCURRENCES.exec(text)!;
    const base = m[1]!;
    const pos = m[3] ?? '';
    const key = base + pos;
    let a = byKey.get(key);
    if (a === undefined) {
      a = { base, pos, counts: [], counted: false };
      byKey.set(key, a);
    }
    if (m[2] !== undefined) a.counted = true;
    // The same text twice (two slices seeing the same series) is one annotation unless counted.
    if (m[2] === undefined && seen.has(text) && !a.counted) continue;
    seen.add(text);
    a.counts.push(m[2] !== undefined ? Number(m[2]) : 1);
  }
  return [...byKey.values()].map((a) => {
    const n = a.counts.reduce((x, y) => x + y, 0);
    return a.counted && n > 1 ? `${a.base} (${n} occurrences)${a.pos}` : a.base + a.pos;
  });
}
