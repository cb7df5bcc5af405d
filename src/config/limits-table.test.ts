// limits-table.test.ts: LIMITS is the one definition of the per-tenant
// limits. Every field is set by its flag (and so by YAML and a tenant's
// runtime overrides) and the native fields reach the appender's
// IngestLimits unchanged.

import t from 'tap';
import { defaultConfig, ingestLimits, LIMITS, type Limits } from './config.js';
import { FLAGS, type FlagValue } from './flags.js';
import { parseRuntimeConfig } from '../limits/runtime-config.js';
import { encodeWriteRequest, type MetadataInput } from '../remote/write-request.js';
import { loadNative } from '../storage/native.js';
import type { IngestLimits } from '../model/limits.js';
import { nativeSkip } from '../testing/native-skip.js';

/** changed returns a valid value of the flag's type other than its default. */
function changed(v: FlagValue): FlagValue {
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'number') return v + 7;
  return `${v}_x`;
}

t.test('every Limits field is set by its flag', async (t) => {
  for (const [field, def] of Object.entries(LIMITS)) {
    const flag = FLAGS.find((f) => f.name === def.flag);
    t.ok(flag, `${field}: flag -${def.flag} exists`);
    if (flag === undefined) continue;
    const base = defaultConfig().limits[field as keyof Limits];
    t.equal(base, flag.default, `${field}: the flag's default`);
    const v = changed(flag.default);
    t.equal(defaultConfig({ [def.flag]: v }).limits[field as keyof Limits], v, `${field}: set by -${def.flag}`);
  }
  // No flag sets two fields.
  const flags = Object.values(LIMITS).map((d) => d.flag);
  t.equal(new Set(flags).size, flags.length, 'one field per flag');
});

t.test('ingestLimits passes exactly the native fields, and the clock', async (t) => {
  const limits = defaultConfig({ 'ingester.max-global-series-per-user': 11, 'validation.max-native-histogram-buckets': 9 }).limits;
  const got = ingestLimits(limits, 1234) as unknown as Record<string, unknown>;
  const native = Object.entries(LIMITS)
    .filter(([, d]) => d.native)
    .map(([f]) => f);
  t.same(Object.keys(got).sort(), [...native, 'nowMs'].sort(), 'the native fields and nowMs');
  for (const f of native) t.equal(got[f], limits[f as keyof Limits], `${f} passed unchanged`);
  t.equal(got['nowMs'], 1234);
  t.equal(got['maxGlobalSeriesPerUser'], 11);
  t.equal(got['maxNativeHistogramBuckets'], 9);
  // What the native appender reads (napi IngestLimits, converted by core_limits) is native here.
  for (const f of ['maxLabelNamesPerSeries', 'creationGracePeriodMs', 'ingestionRate', 'ingestionBurstSize', 'maxGlobalSeriesPerUser', 'maxGlobalSeriesPerMetric', 'maxGlobalExemplarsPerUser', 'maxGlobalMetadataPerUser', 'maxMetadataLength', 'reduceNativeHistogramOverMaxBuckets']) {
    t.ok(native.includes(f), `${f} is native`);
  }
});

t.test("a tenant's runtime overrides reach the native limits", async (t) => {
  const config = defaultConfig();
  const rc = parseRuntimeConfig([{ name: 'r.yaml', text: 'overrides:\n  t1:\n    max_global_series_per_user: 5\n    ingestion_rate: 3\n    max_label_names_per_series: 4\n' }], config.values);
  const got = ingestLimits(rc.tenants.get('t1')!.limits, 0);
  t.equal(got.maxGlobalSeriesPerUser, 5);
  t.equal(got.ingestionRate, 3);
  t.equal(got.maxLabelNamesPerSeries, 4);
  t.equal(got.maxLabelNameLength, config.limits.maxLabelNameLength, 'the rest from the defaults');
});

t.test('the native appender takes every limit from the table: none missing, none defaulted in Rust', { skip: nativeSkip() }, async (t) => {
  const native = loadNative();
  const tenant = `limits-table-${process.pid}`;
  const meta = (name: string): MetadataInput => ({ type: 1, metricFamilyName: name, help: `${name} help`, unit: '' });
  const push = (name: string, limits: IngestLimits) => native.ingestWriteRequest(tenant, encodeWriteRequest([], [meta(name)]), limits);
  const t0 = Date.now();
  const limits = (retainMs: number, nowMs: number): IngestLimits =>
    ingestLimits(defaultConfig({ 'ingester.max-global-metadata-per-user': 1, 'ingester.metadata-retain-period': retainMs }).limits, nowMs);

  t.equal(push('fam_a', limits(600_000, t0)).acceptedMetadata, 1, 'the first family is stored');
  const refused = push('fam_b', limits(600_000, t0 + 2_000));
  t.equal(refused.acceptedMetadata, 0, 'within the retain period the per-user limit refuses a second family');
  const accepted = push('fam_b', limits(1_000, t0 + 2_000));
  t.equal(accepted.acceptedMetadata, 1, '-ingester.metadata-retain-period reaches the appender: the stale family is dropped first');

  const partial = { ...limits(600_000, t0) } as Partial<IngestLimits>;
  delete partial.maxMetadataLength;
  t.throws(() => native.ingestWriteRequest(tenant, encodeWriteRequest([], [meta('fam_c')]), partial as IngestLimits), 'a limit left out is an error, not a default');
});

t.test('-validation.max-label-names-per-info-series reaches the native appender', { skip: nativeSkip() }, async (t) => {
  const native = loadNative();
  const tenant = `limits-info-${process.pid}`;
  const now = Date.now();
  // 35 labels: over the per-series limit (30), under the info-series default (80).
  const labels: Array<[string, string]> = [['__name__', 'build_info'], ...Array.from({ length: 34 }, (_, i): [string, string] => [`l${String(i).padStart(2, '0')}`, 'v'])];
  const push = (flags: Record<string, number>) => native.ingestWriteRequest(tenant, encodeWriteRequest([{ labels, samples: [[now, 1]] }]), ingestLimits(defaultConfig(flags).limits, now));
  t.equal(push({}).acceptedSamples, 1, 'an info series may carry up to 80 labels by default');
  const refused = push({ 'validation.max-label-names-per-info-series': 31 });
  t.equal(refused.acceptedSamples, 0, 'the flag lowers the info-series limit');
  t.equal(refused.errorStatus, 400);
  t.match(refused.errorMessage, /info series whose number of labels exceeds the limit \(actual: 35, limit: 31\)/);
});
