// tenant-federation.test.ts checks the federation wrappers over fakes: tenant
// selection by `__tenant_id__` matchers (and the `original_` rename), the
// label added with an existing value kept, the series/labels/values merges
// with their limits, the single-tenant bypass, and the kernels' select
// concatenating and re-sorting per-tenant samples.

import t from 'tap';
import type { Kernels, Labels, SelectedSeries } from '../promql/engine/types.js';
import { type SeriesQuerier } from '../storage/native.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { federatedKernels, federatedSeriesQuerier, matcherMatches, selectTenants, withTenantLabel } from './tenant-federation.js';

const eq = (name: string, value: string): LabelMatcher => ({ name, type: MatchType.Equal, value });
const re = (name: string, value: string): LabelMatcher => ({ name, type: MatchType.Regexp, value });
const nre = (name: string, value: string): LabelMatcher => ({ name, type: MatchType.NotRegexp, value });
const neq = (name: string, value: string): LabelMatcher => ({ name, type: MatchType.NotEqual, value });

t.test('matchers on __tenant_id__ pick tenants; the others go to storage', async (t) => {
  const ids = ['a', 'b', 'c'];
  t.same(selectTenants(ids, [eq('__name__', 'up')]), { tenants: ids, matchers: [eq('__name__', 'up')] });
  t.same(selectTenants(ids, [eq('__tenant_id__', 'b'), eq('job', 'x')]), { tenants: ['b'], matchers: [eq('job', 'x')] });
  t.same(selectTenants(ids, [re('__tenant_id__', 'a|c')]).tenants, ['a', 'c']);
  t.same(selectTenants(ids, [re('__tenant_id__', 'a|c'), neq('__tenant_id__', 'a')]).tenants, ['c'], 'matchers intersect');
  t.same(selectTenants(ids, [nre('__tenant_id__', 'b.*')]).tenants, ['a', 'c']);
  t.same(selectTenants(ids, [re('__tenant_id__', 'a')]).tenants, ['a'], 'regexps are anchored');
  t.same(selectTenants(ids, [eq('__tenant_id__', 'z')]).tenants, []);
  t.same(selectTenants(ids, [eq('original___tenant_id__', 'own')]), { tenants: ids, matchers: [eq('__tenant_id__', 'own')] }, 'original_ matchers reach storage renamed');
  t.ok(matcherMatches(re('x', '(?i)AB'), 'ab'), 'RE2 inline flags');
});

t.test('the tenant label, keys sorted, an existing value kept as original___tenant_id__', async (t) => {
  t.same(Object.entries(withTenantLabel({ __name__: 'up', job: 'x' }, 'a')), [['__name__', 'up'], ['__tenant_id__', 'a'], ['job', 'x']]);
  t.same(withTenantLabel({ __name__: 'up', __tenant_id__: 'own' }, 'a'), { __name__: 'up', __tenant_id__: 'a', original___tenant_id__: 'own' });
});

/** fakeQuerier answers per tenant from fixed series, recording the calls. */
function fakeQuerier(data: Record<string, Labels[]>): SeriesQuerier & { calls: Array<{ op: string; tenant: string; sets: LabelMatcher[][]; limit: number }> } {
  const calls: Array<{ op: string; tenant: string; sets: LabelMatcher[][]; limit: number }> = [];
  const matching = (tenant: string, sets: LabelMatcher[][]): Labels[] =>
    (data[tenant] ?? []).filter((ls) => sets.length === 0 || sets.some((set) => set.every((m) => matcherMatches(m, ls[m.name] ?? ''))));
  const cut = <T>(xs: T[], limit: number): T[] => (limit > 0 ? xs.slice(0, limit) : xs);
  return {
    calls,
    seriesJson(tenant, sets, _mint, _maxt, limit) {
      calls.push({ op: 'series', tenant, sets, limit });
      return JSON.stringify(cut(matching(tenant, sets), limit));
    },
    labelNames(tenant, sets, _mint, _maxt, limit) {
      calls.push({ op: 'labels', tenant, sets, limit });
      return cut([...new Set(matching(tenant, sets).flatMap((ls) => Object.keys(ls)))].sort(), limit);
    },
    labelValues(tenant, name, sets, _mint, _maxt, limit) {
      calls.push({ op: `values:${name}`, tenant, sets, limit });
      return cut([...new Set(matching(tenant, sets).flatMap((ls) => (ls[name] === undefined ? [] : [ls[name]!])))].sort(), limit);
    },
  };
}

const DATA: Record<string, Labels[]> = {
  a: [{ __name__: 'up', job: 'api' }, { __name__: 'up', job: 'db' }],
  b: [{ __name__: 'up', job: 'api' }, { __name__: 'x', job: 'web', __tenant_id__: 'own' }],
};

t.test('series merge with the label, sorted, limited', async (t) => {
  const inner = fakeQuerier(DATA);
  const q = federatedSeriesQuerier(inner);
  t.same(JSON.parse(q.seriesJson('a|b', [[eq('__name__', 'up')]], 0, 1, 0)), [
    { __name__: 'up', __tenant_id__: 'a', job: 'api' },
    { __name__: 'up', __tenant_id__: 'a', job: 'db' },
    { __name__: 'up', __tenant_id__: 'b', job: 'api' },
  ]);
  t.same(JSON.parse(q.seriesJson('a|b', [[eq('__name__', 'up')]], 0, 1, 2)).length, 2, 'limit');
  t.same(JSON.parse(q.seriesJson('a|b', [[eq('__tenant_id__', 'b'), eq('job', 'api')]], 0, 1, 0)), [{ __name__: 'up', __tenant_id__: 'b', job: 'api' }]);
  t.same(inner.calls.at(-1), { op: 'series', tenant: 'b', sets: [[eq('job', 'api')]], limit: 0 }, 'only b read, without the tenant matcher');
  inner.calls.length = 0;
  t.same(JSON.parse(q.seriesJson('a|b', [[eq('__tenant_id__', 'a')], [eq('__tenant_id__', 'b'), eq('__name__', 'x')]], 0, 1, 0)), [
    { __name__: 'up', __tenant_id__: 'a', job: 'api' },
    { __name__: 'up', __tenant_id__: 'a', job: 'db' },
    { __name__: 'x', __tenant_id__: 'b', job: 'web', original___tenant_id__: 'own' },
  ]);
  t.same(inner.calls, [
    { op: 'series', tenant: 'a', sets: [], limit: 0 },
    { op: 'series', tenant: 'b', sets: [[eq('__name__', 'x')]], limit: 0 },
  ], 'a set naming only the tenant reads all of its series');
  t.equal(q.seriesJson('a|b', [[eq('__tenant_id__', 'c')]], 0, 1, 0), '[]', 'no tenant selected');
  t.equal(q.seriesJson('a', [[eq('__name__', 'up')]], 0, 1, 0), JSON.stringify(DATA.a), 'one tenant passes through without the label');
});

t.test('label names and values', async (t) => {
  const inner = fakeQuerier({ a: DATA.a!, b: [{ __name__: 'up', job: 'api', zone: 'eu' }] });
  const q = federatedSeriesQuerier(inner);
  t.same(q.labelNames('a|b', [], 0, 1, 0), ['__name__', '__tenant_id__', 'job', 'zone']);
  t.same(q.labelNames('a|b', [[eq('__tenant_id__', 'a')]], 0, 1, 0), ['__name__', '__tenant_id__', 'job']);
  t.same(q.labelNames('a|b', [], 0, 1, 2), ['__name__', '__tenant_id__'], 'limit after the label is added');
  t.same(federatedSeriesQuerier(fakeQuerier(DATA)).labelNames('a|b', [], 0, 1, 0), ['__name__', '__tenant_id__', 'job', 'original___tenant_id__']);
  t.same(q.labelNames('a', [], 0, 1, 0), ['__name__', 'job'], 'bypass');
  t.same(q.labelValues('a|b', '__tenant_id__', [], 0, 1, 0), ['a', 'b']);
  t.same(q.labelValues('a|b', '__tenant_id__', [[re('__tenant_id__', 'b|c')]], 0, 1, 0), ['b']);
  t.same(q.labelValues('a|b', 'job', [], 0, 1, 0), ['api', 'db']);
  t.same(q.labelValues('a|b', 'job', [[eq('__tenant_id__', 'b')]], 0, 1, 0), ['api']);
  t.same(q.labelValues('a|b', 'job', [], 0, 1, 1), ['api']);
  t.same(federatedSeriesQuerier(fakeQuerier(DATA)).labelValues('a|b', 'original___tenant_id__', [], 0, 1, 0), ['own']);
});

/** fakeKernels selects from per-tenant series with one sample each (value = index). */
function fakeKernels(data: Record<string, Labels[]>): Kernels & { selects: Array<{ tenant: string; matchers: LabelMatcher[] }> } {
  const selects: Array<{ tenant: string; matchers: LabelMatcher[] }> = [];
  return {
    selects,
    select(tenant, matchers) {
      selects.push({ tenant, matchers });
      const labels = (data[tenant] ?? []).filter((ls) => matchers.every((m) => matcherMatches(m, ls[m.name] ?? '')));
      const n = labels.length;
      const offsets = new Uint32Array(n + 1);
      const timestamps = new Float64Array(n * 2);
      const values = new Float64Array(n * 2);
      labels.forEach((ls, i) => {
        offsets[i + 1] = 2 * (i + 1);
        timestamps.set([1000, 2000], 2 * i);
        values.set([tenant.charCodeAt(0), Number(ls.v ?? 0)], 2 * i);
      });
      return { labels, offsets, timestamps, values };
    },
    instant: () => ({ values: new Float64Array(0), present: new Uint8Array(0) }),
    range: () => ({ values: new Float64Array(0), present: new Uint8Array(0) }),
  };
}

t.test('kernels select fans out, relabels and re-sorts', async (t) => {
  const inner = fakeKernels({
    a: [{ __name__: 'm', job: 'z', v: '1' }],
    b: [{ __name__: 'm', job: 'y', v: '2' }, { __name__: 'm', job: 'z', v: '3' }],
  });
  const k = federatedKernels(inner);
  const sel: SelectedSeries = k.select('a|b', [eq('__name__', 'm')], 0, 5000);
  t.same(sel.labels, [
    { __name__: 'm', __tenant_id__: 'a', job: 'z', v: '1' },
    { __name__: 'm', __tenant_id__: 'b', job: 'y', v: '2' },
    { __name__: 'm', __tenant_id__: 'b', job: 'z', v: '3' },
  ]);
  t.same([...sel.offsets], [0, 2, 4, 6]);
  t.same([...sel.values], [97, 1, 98, 2, 98, 3], 'samples follow their series');
  t.same([...sel.timestamps], [1000, 2000, 1000, 2000, 1000, 2000]);
  inner.selects.length = 0;
  const onlyB = k.select('a|b', [eq('__name__', 'm'), eq('__tenant_id__', 'b')], 0, 5000);
  t.equal(onlyB.labels.length, 2);
  t.same(inner.selects, [{ tenant: 'b', matchers: [eq('__name__', 'm')] }]);
  t.same(k.select('a', [eq('__name__', 'm')], 0, 5000).labels, [{ __name__: 'm', job: 'z', v: '1' }], 'bypass');
  t.same(k.select('a|b', [eq('__tenant_id__', 'x')], 0, 5000).labels, []);
});

t.test('kernels select carries the native histograms of every tenant with their series', async (t) => {
  const { FloatHistogram } = await import('../promql/engine/float-histogram.js');
  const { decodeFlat, encodeFlatSamples } = await import('../promql/engine/histogram-flat.js');
  const hOf = (count: number): InstanceType<typeof FloatHistogram> => FloatHistogram.fromSpans({ schema: 0, count, sum: count, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [count] });
  const per: Record<string, { labels: Labels[]; hist: number[][] }> = {
    a: { labels: [{ __name__: 'h', job: 'z' }], hist: [[1, 2]] },
    b: { labels: [{ __name__: 'h', job: 'y' }, { __name__: 'h', job: 'zz' }], hist: [[3], []] },
  };
  const inner: Kernels = {
    select(tenant) {
      const p = per[tenant]!;
      const all = p.hist.flat();
      const { data, dataOffsets } = encodeFlatSamples(all.map(hOf));
      const offsets = new Uint32Array(p.labels.length + 1);
      p.hist.forEach((hs, i) => (offsets[i + 1] = offsets[i]! + hs.length));
      return {
        labels: p.labels,
        offsets: new Uint32Array(p.labels.length + 1),
        timestamps: new Float64Array(0),
        values: new Float64Array(0),
        histograms: { offsets, timestamps: Float64Array.from(all.map((_, j) => 1000 * (j + 1))), dataOffsets, data },
      };
    },
    instant: () => ({ values: new Float64Array(0), present: new Uint8Array(0) }),
    range: () => ({ values: new Float64Array(0), present: new Uint8Array(0) }),
  };
  const sel = federatedKernels(inner).select('a|b', [eq('__name__', 'h')], 0, 5000);
  t.same(sel.labels.map((l) => `${l.__tenant_id__}/${l.job}`), ['a/z', 'b/y', 'b/zz']);
  const h = sel.histograms!;
  t.same([...h.offsets], [0, 2, 3, 3]);
  const counts = [...h.timestamps].map((_, j) => decodeFlat(h.data, h.dataOffsets[j]!, h.dataOffsets[j + 1]!).count);
  t.same(counts, [1, 2, 3], 'samples follow their series');
  t.same([...h.timestamps], [1000, 2000, 1000]);
});
