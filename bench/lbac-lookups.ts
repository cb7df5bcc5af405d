// lbac-lookups.ts times the native look-ups that label-based access control
// (GEM LBAC) makes more expensive: label names, label values, cardinality and
// a PromQL selection, each without a policy and under a policy matching every
// series, a policy matching 4/7 of them, and a range that does not cover the
// head (per-series time checks). No HTTP: the binding is called directly on a
// synthetic head of node_exporter-like shape (instances x metrics).
//
//   npm run build && node dist/bench/lbac-lookups.js --series 100000

import { parseArgs } from 'node:util';
import { loadNative } from '../src/storage/native.js';
import { MatchType, type LabelMatcher } from '../src/model/matchers.js';
import { intOption } from './lib/cli.js';

const { values } = parseArgs({ options: { series: { type: 'string' }, runs: { type: 'string' } } });
const series = intOption('series', values.series ?? '100000', 1);
const runs = intOption('runs', values.runs ?? '50', 1);
const METRICS = 500;

const b = loadNative();
if (b.appendSamplesUnchecked === undefined || b.labelValuesCardinality === undefined) throw new Error('native binding predates appendSamplesUnchecked/labelValuesCardinality (npm run build:native)');
const tenant = `lbac-bench-${Date.now().toString(36)}`;
const t0 = Date.now() - 60_000;
for (let i = 0; i < series; i++) {
  const labels = ['__name__', `m_${i % METRICS}`, 'instance', `host-${Math.floor(i / METRICS)}:9100`, 'job', 'integrations/node_exporter', 'cluster', `c${i % 7}`];
  b.appendSamplesUnchecked(tenant, labels, new Float64Array([t0, t0 + 15_000]), new Float64Array([1, 2]));
}
const m = (type: MatchType, name: string, value: string): LabelMatcher => ({ type, name, value });
const all = [[m(MatchType.Regexp, 'job', 'integrations/.*')]];
const part = [[m(MatchType.Regexp, 'cluster', 'c[0-3]')]];
const mint = t0 - 120_000;
const maxt = t0 + 60_000;

/** time prints the median of runs calls of f in milliseconds. */
function time(name: string, f: () => unknown): void {
  f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    f();
    xs.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  xs.sort((a, c) => a - c);
  process.stdout.write(`| ${name} | ${xs[runs >> 1]!.toFixed(3)} |\n`);
}

process.stdout.write(`${series} series, median of ${runs} calls (ms)\n\n| call | ms |\n| --- | ---: |\n`);
const card = b.labelValuesCardinality.bind(b);
for (const [label, vis] of [['no policy', undefined], ['policy: every series', all], ['policy: 4/7 of series', part]] as const) {
  const v = vis === undefined ? undefined : vis.map((s) => [...s]);
  time(`label names, ${label}`, () => b.labelNames(tenant, [], mint, maxt, 0, v));
  time(`label values __name__, ${label}`, () => b.labelValues(tenant, '__name__', [], mint, maxt, 0, v));
  time(`label values instance, ${label}`, () => b.labelValues(tenant, 'instance', [], mint, maxt, 0, v));
  time(`label names with match[], range not covering the head, ${label}`, () => b.labelNames(tenant, [[m(MatchType.Regexp, '__name__', 'm_.*')]], t0 + 10_000, maxt, 0, v));
  time(`cardinality label_values instance, ${label}`, () => card(tenant, ['instance'], [], null, 10, v));
  time(`select m_1, ${label}`, () => b.selectSamples(tenant, [m(MatchType.Equal, '__name__', 'm_1')], mint, maxt, undefined, v));
}
