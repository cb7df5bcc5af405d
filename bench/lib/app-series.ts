// app-series.ts generates the application families that dashboards query, on
// top of the node_exporter fleet: a request counter with job/instance/method/
// code labels and a classic latency histogram (`_bucket{le}`, `_sum`,
// `_count`) per job/instance, as a Prometheus client library exposes them.
// Everything is seeded, so both systems under test get the same values.

import type { Labels } from './node-exporter.js';
import { Rng } from './prng.js';

/** COUNTER_NAME is the counter family ("x" in the query mix). */
export const COUNTER_NAME = 'bench_requests_total';
/** HISTOGRAM_NAME is the histogram family's base name ("b" is HISTOGRAM_NAME + '_bucket'). */
export const HISTOGRAM_NAME = 'bench_request_duration_seconds';

const JOBS = ['api', 'web', 'worker', 'auth', 'billing'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const CODES = ['200', '201', '404', '500', '503'];
/** SERIES_PER_INSTANCE is the counter's method × code combinations per instance. */
const SERIES_PER_INSTANCE = METHODS.length * CODES.length;
/** BUCKETS are the client libraries' default upper bounds (+Inf added). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** HISTOGRAM_SERIES is buckets incl. +Inf, plus _sum and _count. */
export const HISTOGRAM_SERIES = BUCKETS.length + 3;

/** AppFamilies holds the two families' series and their current values. */
export interface AppFamilies {
  labels: Labels[];
  value: Float64Array;
  counterSeries: number;
  histograms: number;
  /** Per counter series: increase per 15s step (never 0, so topk has no ties at the top). */
  counterRate: Float64Array;
  /** Per histogram: observations per step and median latency (log-logistic). */
  histRate: Float64Array;
  histMedian: Float64Array;
}

function sortLabels(l: Labels): Labels {
  return l.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function instanceLabels(i: number): Labels {
  return [
    ['cluster', `prod-${i % 3}`],
    ['instance', `10.64.${(i >> 8) & 255}.${i & 255}:8080`],
    ['job', JOBS[i % JOBS.length]!],
    ['namespace', 'shop'],
  ];
}

/** formatLe renders a bucket bound as Go's client does (shortest float, +Inf). */
const formatLe = (le: number): string => (le === Infinity ? '+Inf' : String(le));

/**
 * generateAppFamilies returns counterSeries counter series (20 per instance)
 * and `histograms` histograms (one per instance, on the first instances).
 */
export function generateAppFamilies(counterSeries: number, histograms: number, seed: number): AppFamilies {
  const rng = new Rng(seed ^ 0xa99);
  const n = counterSeries + histograms * HISTOGRAM_SERIES;
  const fam: AppFamilies = {
    labels: new Array<Labels>(n),
    value: new Float64Array(n),
    counterSeries,
    histograms,
    counterRate: new Float64Array(counterSeries),
    histRate: new Float64Array(histograms),
    histMedian: new Float64Array(histograms),
  };
  for (let i = 0; i < counterSeries; i++) {
    const inst = Math.floor(i / SERIES_PER_INSTANCE);
    const combo = i % SERIES_PER_INSTANCE;
    fam.labels[i] = sortLabels([
      ['__name__', COUNTER_NAME],
      ...instanceLabels(inst),
      ['method', METHODS[combo % METHODS.length]!],
      ['code', CODES[Math.floor(combo / METHODS.length)]!],
    ]);
    fam.value[i] = Math.floor(rng.next() * 1e7);
    fam.counterRate[i] = 1 + rng.next() * 10 ** rng.int(4);
  }
  let s = counterSeries;
  for (let h = 0; h < histograms; h++) {
    const common = instanceLabels(h);
    for (const le of [...BUCKETS, Infinity]) {
      fam.labels[s++] = sortLabels([['__name__', `${HISTOGRAM_NAME}_bucket`], ...common, ['le', formatLe(le)]]);
    }
    fam.labels[s++] = sortLabels([['__name__', `${HISTOGRAM_NAME}_sum`], ...common]);
    fam.labels[s++] = sortLabels([['__name__', `${HISTOGRAM_NAME}_count`], ...common]);
    fam.histRate[h] = 10 + rng.next() * 500;
    fam.histMedian[h] = 0.02 + rng.next() * 0.4;
  }
  return fam;
}

/** stepAppFamilies advances every series by one 15s scrape. */
export function stepAppFamilies(fam: AppFamilies, rng: Rng): void {
  const { value } = fam;
  for (let i = 0; i < fam.counterSeries; i++) {
    value[i] = value[i]! + Math.round(fam.counterRate[i]! * (0.5 + rng.next()));
  }
  let s = fam.counterSeries;
  for (let h = 0; h < fam.histograms; h++) {
    const n = Math.round(fam.histRate[h]! * (0.5 + rng.next()));
    const m = fam.histMedian[h]!;
    let below = 0;
    let sum = 0;
    for (let b = 0; b < BUCKETS.length; b++) {
      const le = BUCKETS[b]!;
      // Log-logistic CDF with a little noise, kept cumulative and <= n.
      const cdf = 1 / (1 + (m / le) ** 2);
      const upTo = Math.min(n, Math.max(below, Math.round(n * cdf * (0.95 + 0.1 * rng.next()))));
      const lower = b === 0 ? 0 : BUCKETS[b - 1]!;
      sum += (upTo - below) * (lower + le) / 2;
      below = upTo;
      value[s + b] = value[s + b]! + upTo;
    }
    sum += (n - below) * BUCKETS[BUCKETS.length - 1]! * 1.5;
    value[s + BUCKETS.length] = value[s + BUCKETS.length]! + n; // +Inf
    value[s + BUCKETS.length + 1] = value[s + BUCKETS.length + 1]! + sum; // _sum
    value[s + BUCKETS.length + 2] = value[s + BUCKETS.length + 2]! + n; // _count
    s += HISTOGRAM_SERIES;
  }
}
