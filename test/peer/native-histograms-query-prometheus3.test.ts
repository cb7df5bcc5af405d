// native-histograms-query-prometheus3.test.ts (peer suite) compares our
// PromQL answers over native histograms with a real Prometheus 3's. The same
// histogram series (integer and float, exponential schemas -2..8 with zero
// and negative buckets, custom buckets, gauges, counter resets, layout
// changes) are remote-written to both; then every query below, instant and
// range, must give the same `data` (histogram and histograms objects, floats,
// labels) and the same annotations. Among them is the query Grafana's heatmap
// panel sends for a native histogram (`sum(rate(x[$__rate_interval]))`, a
// form-encoded POST to query_range), whose `histograms` Grafana turns into
// heatmap cells.

import t from 'tap';
import { PROMETHEUS3, skipUnless } from './lib/binary.js';
import { startHistogramPeers } from './lib/histogram-peers.js';

const TENANT = 'nh-query-peer';
const JOB = 'nh_query';
/** REL_TOLERANCE is how far two numbers may differ (float summation order). */
const REL_TOLERANCE = 1e-9;

/** QUERIES run both as instant queries (at several times) and as range queries. */
const QUERIES = [
  'nh_bitexact_int_counter_15s',
  'nh_bitexact_float_gauge',
  'nh_bitexact_nhcb_counter',
  'rate(nh_bitexact_int_counter_15s[5m])',
  'increase(nh_bitexact_int_counter_5s[2m])',
  'irate(nh_bitexact_float_counter[5m])',
  'rate(nh_bitexact_nhcb_counter[5m])',
  'delta(nh_bitexact_int_gauge[5m])',
  'idelta(nh_bitexact_float_gauge[5m])',
  `sum(rate({job="${JOB}", __name__=~"nh_bitexact_.*counter.*"}[5m]))`,
  `sum by (series) (rate({job="${JOB}", __name__=~"nh_bitexact_int.*"}[5m]))`,
  `avg(rate({job="${JOB}", __name__=~"nh_bitexact_(int|float)_counter.*"}[5m]))`,
  `count(nh_bitexact_int_counter_15s)`,
  'histogram_quantile(0.9, rate(nh_bitexact_int_counter_5s[2m]))',
  'histogram_quantile(0.5, nh_bitexact_float_gauge)',
  'histogram_quantile(0.99, rate(nh_bitexact_nhcb_counter[5m]))',
  'histogram_count(rate(nh_bitexact_int_counter_15s[5m]))',
  'histogram_sum(nh_bitexact_int_gauge)',
  'histogram_avg(rate(nh_bitexact_float_counter[5m]))',
  'histogram_fraction(0, 0.5, nh_bitexact_int_gauge)',
  'histogram_stddev(nh_bitexact_float_gauge)',
  'histogram_stdvar(rate(nh_bitexact_int_counter_5s[2m]))',
  'nh_bitexact_float_gauge * 2',
  'nh_bitexact_int_gauge / 4',
  'nh_bitexact_int_counter_15s + nh_bitexact_int_counter_15s',
  'avg_over_time(nh_bitexact_float_gauge[5m])',
  'sum_over_time(nh_bitexact_int_gauge[5m])',
  'count_over_time(nh_bitexact_nhcb_float[10m])',
  'resets(nh_bitexact_int_counter_15s[30m])',
  'max_over_time(nh_bitexact_int_gauge[5m])',
  'last_over_time(nh_bitexact_nhcb_float[5m])',
];

/** Json is a parsed JSON value. */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** sameNumberText reports whether two API number strings agree within REL_TOLERANCE. */
function sameNumberText(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= REL_TOLERANCE * Math.max(Math.abs(x), Math.abs(y), 1e-300);
}

/** diff returns the first difference between got and want (numbers in strings within tolerance), or undefined. */
function diff(got: Json, want: Json, path: string): string | undefined {
  if (typeof got === 'string' && typeof want === 'string') {
    return sameNumberText(got, want) ? undefined : `${path}: ${got} vs ${want}`;
  }
  if (Array.isArray(got) && Array.isArray(want)) {
    if (got.length !== want.length) return `${path}: ${got.length} items vs ${want.length}`;
    for (let i = 0; i < got.length; i++) {
      const d = diff(got[i]!, want[i]!, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (got && want && typeof got === 'object' && typeof want === 'object' && !Array.isArray(got) && !Array.isArray(want)) {
    const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
    for (const k of keys) {
      if (!(k in got)) return `${path}.${k}: missing (Prometheus: ${JSON.stringify(want[k]).slice(0, 120)})`;
      if (!(k in want)) return `${path}.${k}: extra ${JSON.stringify(got[k]).slice(0, 120)}`;
      const d = diff(got[k]!, want[k]!, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return got === want ? undefined : `${path}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`;
}

/** sortResult orders a vector/matrix result by its labels (Prometheus sorts range results; instant vector order is unspecified). */
function sortResult(data: Json): Json {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data;
  const result = data.result;
  if (!Array.isArray(result)) return data;
  const key = (r: Json): string => JSON.stringify(r && typeof r === 'object' && !Array.isArray(r) ? r.metric : null);
  return { ...data, result: [...result].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

/** Answer is the parts of an API answer compared. */
interface Answer {
  status: number;
  data: Json;
  warnings: string[];
  infos: string[];
}

async function ask(url: string, form: Record<string, string>, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as { data?: Json; warnings?: string[]; infos?: string[]; error?: string };
  return { status: res.status, data: sortResult(body.data ?? body.error ?? null), warnings: [...(body.warnings ?? [])].sort(), infos: [...(body.infos ?? [])].sort() };
}

t.test('native-histogram PromQL answers equal Prometheus 3', { skip: skipUnless(PROMETHEUS3) }, async (t) => {
  const { layout, ref, ours } = await startHistogramPeers(t, JOB, TENANT);

  const theirs = `${ref.baseUrl}/api/v1`;
  const mine = `http://127.0.0.1:${ours.port}/prometheus/api/v1`;
  const tenant = { 'X-Scope-OrgID': TENANT };
  const sec = (ms: number): string => String(ms / 1000);
  // Instant times: inside the data, on the 2h block boundary, and just after the last sample.
  const instants = [layout.startMs + 20 * 60_000 + 7_000, layout.boundaryMs, layout.endMs - 30_000, layout.endMs + 60_000];
  const range = { start: sec(layout.startMs + 10 * 60_000), end: sec(layout.endMs), step: '60' };
  let compared = 0;
  let histogramAnswers = 0;
  for (const query of QUERIES) {
    const asks: Array<{ what: string; path: string; form: Record<string, string> }> = [
      ...instants.map((ts) => ({ what: `instant @${ts}`, path: 'query', form: { query, time: sec(ts) } })),
      { what: 'range', path: 'query_range', form: { query, ...range } },
    ];
    for (const a of asks) {
      const want = await ask(`${theirs}/${a.path}`, a.form, {});
      const got = await ask(`${mine}/${a.path}`, a.form, tenant);
      compared++;
      if (JSON.stringify(want.data).includes('"histogram')) histogramAnswers++;
      const d = got.status !== want.status ? `status ${got.status} vs ${want.status}` : diff(got.data, want.data, 'data');
      if (d) t.fail(`${query} (${a.what}): ${d}`);
      t.same({ warnings: got.warnings, infos: got.infos }, { warnings: want.warnings, infos: want.infos }, `${query} (${a.what}): annotations`);
    }
  }
  t.equal(compared, QUERIES.length * 5, 'every query compared');
  t.ok(histogramAnswers >= 20, `answers holding histograms were compared (${histogramAnswers})`);

  // Grafana's heatmap panel on a native histogram: a form POST to query_range
  // with its $__rate_interval expanded and the step it aligned start/end to.
  const step = 30;
  const end = Math.floor(layout.endMs / 1000 / step) * step;
  const form = { query: 'sum(rate(nh_bitexact_int_counter_5s[2m0s]))', start: String(end - 3600), end: String(end), step: String(step) };
  const want = await ask(`${theirs}/query_range`, form, {});
  const got = await ask(`${mine}/query_range`, form, tenant);
  t.equal(got.status, 200);
  const result = (want.data as { result: Array<{ histograms?: unknown[] }> }).result;
  t.ok(result.length === 1 && (result[0]!.histograms?.length ?? 0) > 100, 'the heatmap query returns a histogram per step');
  t.equal(diff(got.data, want.data, 'data'), undefined, 'heatmap answer as Prometheus gives it');
});
