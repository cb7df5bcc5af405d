// merge.ts joins the answers of a range query's sub-queries (time slices of
// one query, in time order) into the answer of the whole query: each series'
// points concatenated across the slices, the series sorted by their labels
// as Prometheus sorts a matrix, and the warnings and infos of every slice
// kept once each, in the order first seen. Bodies are the API's JSON.

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
  const warnings = new Set<string>();
  const infos = new Set<string>();
  for (const body of bodies) {
    const b = decodeMatrixBody(body);
    for (const w of b.warnings ?? []) warnings.add(w);
    for (const i of b.infos ?? []) infos.add(i);
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
  if (warnings.size > 0) out += ',"warnings":[' + [...warnings].map(jsonString).join(',') + ']';
  if (infos.size > 0) out += ',"infos":[' + [...infos].map(jsonString).join(',') + ']';
  return out + '}';
}
