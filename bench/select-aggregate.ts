// select-aggregate.ts measures the native selection calls a rule like
// `sum by (job) (rate(x[5m]))` or `sum by (cluster) (x)` makes, one series
// set in one process (no server): the general path (selectSamples, its
// SeriesLabels flatbuffer decoded, next to JSON.parse of the same label sets
// as JSON, the former hand-off; instantKernel; selectRange) next to the aggregation
// pushdown (selectRangeAggregate, selectInstantAggregate). CPU and wall
// time per call, averaged over --repeat calls after one warm-up.
//
//   npm run build && node dist/bench/select-aggregate.js --series 2000
//
// Flags: --series N counter series (2000), --repeat N (200), --batch K calls of
// the selection-scope cases (2).

import { parseArgs } from 'node:util';
import { decodeSeriesLabels } from '../src/model/series-labels.js';
import { inSelectionScope, loadNative } from '../src/storage/native.js';
import type { LabelMatcher } from '../src/model/matchers.js';
import { defaultConfig, ingestLimits } from '../src/config/config.js';
import { encodeWriteRequestSnappy } from '../src/remote/write-request.js';
import { COUNTER_NAME, generateAppFamilies, stepAppFamilies } from './lib/app-series.js';
import { intOption } from './lib/cli.js';
import { Rng } from './lib/prng.js';

const { values: opts } = parseArgs({ options: { series: { type: 'string', default: '2000' }, repeat: { type: 'string', default: '200' }, batch: { type: 'string', default: '2' } } });
const N = intOption('series', opts.series, 1);
const REPEAT = intOption('repeat', opts.repeat, 1);
const STEPS = 40;

const BATCH = intOption('batch', opts.batch, 1);

const b = loadNative();
const tenant = `select-aggregate-${process.pid}`;
const fam = generateAppFamilies(N, Math.max(1, Math.floor(N / 40)), 7);
const rng = new Rng(3);
const end = Date.now() - 1000;
const limits = ingestLimits(defaultConfig({ 'ingester.max-global-series-per-user': 0, 'ingester.max-global-series-per-metric': 0 }).limits, Date.now());
for (let s = 0; s < STEPS; s++) {
  stepAppFamilies(fam, rng);
  const t = end - (STEPS - 1 - s) * 15_000;
  const series = fam.labels.map((l, i) => ({ labels: l, samples: [[t, fam.value[i]] as [number, number]] }));
  for (let i = 0; i < series.length; i += 2000) b.ingestSnappyWriteRequest(tenant, encodeWriteRequestSnappy(series.slice(i, i + 2000)), limits);
}
const m: LabelMatcher[] = [{ type: 0, name: '__name__', value: COUNTER_NAME }];
const times = new Float64Array([end]);
const mint = end - 300_000 + 1;
let sel: ReturnType<typeof b.selectSamples> | undefined;
let labelsJson: string | undefined;
const GROUPINGS = ['job', 'code', 'instance', 'cluster'];
const batch = (): void => {
  for (let k = 0; k < BATCH; k++) b.selectRangeAggregate!(tenant, m, mint, end, 'rate', times, 300_000, 'sum', false, [GROUPINGS[k % GROUPINGS.length]!], true);
};
const cases: Array<[string, () => unknown]> = [
  ['selectSamples (5m lookback)', () => (sel = b.selectSamples(tenant, m, mint, end, 0))],
  ['decoding its labels (SeriesLabels flatbuffer)', () => decodeSeriesLabels(sel!.labels)],
  ['JSON.parse of the same label sets as JSON', () => JSON.parse(labelsJson ??= JSON.stringify(decodeSeriesLabels(sel!.labels))) as unknown],
  ['instantKernel', () => b.instantKernel(sel!.offsets, sel!.timestamps, sel!.values, times, 300_000)],
  ['selectRange rate[5m]', () => b.selectRange(tenant, m, mint, end, 'rate', times, 300_000, new Float64Array(0))],
  ['selectRangeAggregate sum by (job) rate[5m]', () => b.selectRangeAggregate!(tenant, m, mint, end, 'rate', times, 300_000, 'sum', false, ['job'], true)],
  ['selectInstantAggregate sum by (cluster)', () => b.selectInstantAggregate!(tenant, m, mint, end, times, 300_000, 'sum', false, ['cluster'])],
  // A rule batch's repeats: BATCH aggregations of the same selection, inside a selection scope and without.
  [`in a selection scope: ${BATCH} sums of rate[5m] by job, code, instance, cluster in turn`, () => inSelectionScope(batch)],
  ['outside a scope: the same calls', batch],
];
console.log(`| call (${N} series, one step) | wall µs | CPU µs |\n| --- | --- | --- |`);
for (const [name, f] of cases) {
  f();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < REPEAT; i++) f();
  const c = process.cpuUsage(c0);
  console.log(`| ${name} | ${(((performance.now() - w0) / REPEAT) * 1000).toFixed(0)} | ${((c.user + c.system) / REPEAT).toFixed(0)} |`);
}
b.resetTenant(tenant);
