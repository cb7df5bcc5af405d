// tenant-federation.ts merges reads across the tenants of a federated
// request (X-Scope-OrgID `a|b|c` with -tenant-federation.enabled), as Mimir's
// tenantfederation package does: every series gains a `__tenant_id__` label
// naming its tenant (an existing `__tenant_id__` is kept as
// `original___tenant_id__`), and matchers on `__tenant_id__` choose which
// tenants are read instead of going to storage. A request naming one tenant
// passes straight through, without the label.
//
// Both wrappers take the joined tenant text (see tenant/tenant.ts) where the
// wrapped interface takes one tenant, so the metadata API and the PromQL
// engine need no change: the series querier for /api/v1/series, labels and
// label values, and the kernels' select for PromQL.

import { compareLabels, compileMatcher } from '../promql/engine/labels.js';
import type { Kernels, Labels, SelectedSeries } from '../promql/engine/types.js';
import { type SeriesQuerier } from '../storage/native.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { splitTenants } from '../tenant/tenant.js';

/** TENANT_ID_LABEL is the label naming a series' tenant in federated results. */
export const TENANT_ID_LABEL = '__tenant_id__';

/** ORIGINAL_TENANT_ID_LABEL keeps a series' own `__tenant_id__` value when the federation label replaces it. */
export const ORIGINAL_TENANT_ID_LABEL = 'original_' + TENANT_ID_LABEL;

/** matcherMatches tells whether a label value satisfies a matcher (regexps anchored, as Prometheus's). */
export function matcherMatches(m: LabelMatcher, value: string): boolean {
  return compileMatcher(m)(value);
}

/** TenantSelection is which tenants a matcher set reads, and the matchers left for storage. */
export interface TenantSelection {
  /** tenants keeps the order of the request's (sorted) IDs. */
  tenants: string[];
  matchers: LabelMatcher[];
}

/**
 * selectTenants applies the matchers on `__tenant_id__` to the tenant IDs and
 * returns the rest for storage; a matcher on `original___tenant_id__` goes to
 * storage renamed to `__tenant_id__`.
 */
export function selectTenants(ids: readonly string[], matchers: readonly LabelMatcher[]): TenantSelection {
  let tenants = [...ids];
  const rest: LabelMatcher[] = [];
  for (const m of matchers) {
    if (m.name === TENANT_ID_LABEL) tenants = tenants.filter((id) => matcherMatches(m, id));
    else if (m.name === ORIGINAL_TENANT_ID_LABEL) rest.push({ ...m, name: TENANT_ID_LABEL });
    else rest.push(m);
  }
  return { tenants, matchers: rest };
}

/** withTenantLabel returns the labels with `__tenant_id__` set to tenant, keys sorted. */
export function withTenantLabel(labels: Labels, tenant: string): Labels {
  const merged: Labels = { ...labels, [TENANT_ID_LABEL]: tenant };
  const own = labels[TENANT_ID_LABEL];
  if (own !== undefined && own !== '') merged[ORIGINAL_TENANT_ID_LABEL] = own;
  const out: Labels = {};
  for (const name of Object.keys(merged).sort()) out[name] = merged[name]!;
  return out;
}

/**
 * setsByTenant spreads the match[] sets over the tenants: for each tenant,
 * the storage matcher sets that select it. An empty result for a tenant
 * means it is not read at all; a set left with no matchers (it only named
 * the tenant) reads every series, which storage spells as no sets.
 */
function setsByTenant(ids: readonly string[], sets: readonly LabelMatcher[][]): Map<string, LabelMatcher[][]> {
  const out = new Map<string, LabelMatcher[][]>();
  if (sets.length === 0) {
    for (const id of ids) out.set(id, []);
    return out;
  }
  const everything = new Set<string>();
  for (const set of sets) {
    const sel = selectTenants(ids, set);
    for (const id of sel.tenants) {
      if (sel.matchers.length === 0) everything.add(id);
      const list = out.get(id) ?? [];
      list.push(sel.matchers);
      out.set(id, list);
    }
  }
  for (const id of everything) out.set(id, []);
  // Keep the request's tenant order.
  return new Map(ids.filter((id) => out.has(id)).map((id) => [id, out.get(id)!]));
}

/** mergeSorted unions sorted string lists into one sorted, de-duplicated list cut at limit (0 = none). */
function mergeSorted(lists: string[][], limit: number): string[] {
  const all = [...new Set(lists.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return limit > 0 ? all.slice(0, limit) : all;
}

/**
 * federatedSeriesQuerier wraps a single-tenant SeriesQuerier so that a
 * joined tenant text reads every named tenant (see the file comment).
 */
export function federatedSeriesQuerier(inner: SeriesQuerier): SeriesQuerier {
  return {
    seriesJson(tenant, matcherSets, mint, maxt, limit, visibility) {
      const ids = splitTenants(tenant);
      if (ids.length === 1) return inner.seriesJson(tenant, matcherSets, mint, maxt, limit, visibility);
      const series: Labels[] = [];
      for (const [id, sets] of setsByTenant(ids, matcherSets)) {
        const own = JSON.parse(inner.seriesJson(id, sets, mint, maxt, limit, visibility)) as Labels[];
        for (const labels of own) series.push(withTenantLabel(labels, id));
      }
      series.sort(compareLabels);
      return JSON.stringify(limit > 0 ? series.slice(0, limit) : series);
    },

    labelNames(tenant, matcherSets, mint, maxt, limit, visibility) {
      const ids = splitTenants(tenant);
      if (ids.length === 1) return inner.labelNames(tenant, matcherSets, mint, maxt, limit, visibility);
      const lists: string[][] = [];
      for (const [id, sets] of setsByTenant(ids, matcherSets)) lists.push(inner.labelNames(id, sets, mint, maxt, limit, visibility));
      const names = mergeSorted(lists, 0);
      // Mimir adds the federation label whether or not any tenant matched.
      names.push(names.includes(TENANT_ID_LABEL) ? ORIGINAL_TENANT_ID_LABEL : TENANT_ID_LABEL);
      return mergeSorted([names], limit);
    },

    labelValues(tenant, name, matcherSets, mint, maxt, limit, visibility) {
      const ids = splitTenants(tenant);
      if (ids.length === 1) return inner.labelValues(tenant, name, matcherSets, mint, maxt, limit, visibility);
      const selected = setsByTenant(ids, matcherSets);
      if (name === TENANT_ID_LABEL) return mergeSorted([[...selected.keys()]], limit);
      const storageName = name === ORIGINAL_TENANT_ID_LABEL ? TENANT_ID_LABEL : name;
      const lists: string[][] = [];
      for (const [id, sets] of selected) lists.push(inner.labelValues(id, storageName, sets, mint, maxt, limit, visibility));
      return mergeSorted(lists, limit);
    },
  };
}

/** concatSelections joins per-tenant selections, series re-sorted by their (relabelled) labels. */
function concatSelections(parts: SelectedSeries[]): SelectedSeries {
  const refs: Array<{ part: SelectedSeries; index: number }> = [];
  for (const part of parts) for (let i = 0; i < part.labels.length; i++) refs.push({ part, index: i });
  refs.sort((a, b) => compareLabels(a.part.labels[a.index]!, b.part.labels[b.index]!));
  let samples = 0;
  for (const part of parts) samples += part.timestamps.length;
  const labels: Labels[] = new Array<Labels>(refs.length);
  const offsets = new Uint32Array(refs.length + 1);
  const timestamps = new Float64Array(samples);
  const values = new Float64Array(samples);
  let at = 0;
  refs.forEach(({ part, index }, i) => {
    const from = part.offsets[index]!;
    const to = part.offsets[index + 1]!;
    labels[i] = part.labels[index]!;
    timestamps.set(part.timestamps.subarray(from, to), at);
    values.set(part.values.subarray(from, to), at);
    at += to - from;
    offsets[i + 1] = at;
  });
  const out: SelectedSeries = { labels, offsets, timestamps, values };
  if (parts.some((p) => p.startTimestamps !== undefined)) {
    out.startTimestamps = concatStarts(refs, samples, (p) => p.offsets, (p) => p.startTimestamps);
  }
  if (parts.some((p) => p.histograms !== undefined)) out.histograms = concatHistograms(refs);
  return out;
}

/** concatStarts concatenates the parts' start timestamps in the series order of refs (0 where a part has none). */
function concatStarts(
  refs: Array<{ part: SelectedSeries; index: number }>,
  samples: number,
  offsetsOf: (p: SelectedSeries) => Uint32Array | undefined,
  startsOf: (p: SelectedSeries) => Float64Array | undefined,
): Float64Array {
  const out = new Float64Array(samples);
  let at = 0;
  for (const { part, index } of refs) {
    const offsets = offsetsOf(part);
    if (offsets === undefined) continue;
    const from = offsets[index]!;
    const to = offsets[index + 1]!;
    const sts = startsOf(part);
    if (sts !== undefined) out.set(sts.subarray(from, to), at);
    at += to - from;
  }
  return out;
}

/** concatHistograms concatenates the parts' native-histogram side channels in the series order of refs. */
function concatHistograms(refs: Array<{ part: SelectedSeries; index: number }>): NonNullable<SelectedSeries['histograms']> {
  let samples = 0;
  let words = 0;
  for (const { part, index } of refs) {
    const h = part.histograms;
    if (h === undefined) continue;
    const from = h.offsets[index]!;
    const to = h.offsets[index + 1]!;
    samples += to - from;
    words += h.dataOffsets[to]! - h.dataOffsets[from]!;
  }
  const offsets = new Uint32Array(refs.length + 1);
  const timestamps = new Float64Array(samples);
  const dataOffsets = new Uint32Array(samples + 1);
  const data = new Float64Array(words);
  let at = 0;
  let dat = 0;
  refs.forEach(({ part, index }, i) => {
    const h = part.histograms;
    if (h !== undefined) {
      const from = h.offsets[index]!;
      const to = h.offsets[index + 1]!;
      timestamps.set(h.timestamps.subarray(from, to), at);
      const d0 = h.dataOffsets[from]!;
      // The flat runs are copied as they are (stale-marker bits included).
      data.set(h.data.subarray(d0, h.dataOffsets[to]!), dat);
      for (let j = from; j < to; j++) dataOffsets[at + (j - from) + 1] = dat + (h.dataOffsets[j + 1]! - d0);
      at += to - from;
      dat += h.dataOffsets[to]! - d0;
    }
    offsets[i + 1] = at;
  });
  const out: NonNullable<SelectedSeries['histograms']> = { offsets, timestamps, dataOffsets, data };
  if (refs.some(({ part }) => part.histograms?.startTimestamps !== undefined)) {
    out.startTimestamps = concatStarts(refs, samples, (p) => p.histograms?.offsets, (p) => p.histograms?.startTimestamps);
  }
  return out;
}

/**
 * federatedKernels wraps the engine's kernels so that select with a joined
 * tenant text selects from every tenant the matchers allow and concatenates
 * the results, each series labelled with its tenant.
 */
export function federatedKernels(inner: Kernels): Kernels {
  return {
    select(tenant, matchers, mintMs, maxtMs, maxSamples = 0) {
      const ids = splitTenants(tenant);
      if (ids.length === 1) return inner.select(tenant, matchers, mintMs, maxtMs, maxSamples);
      const sel = selectTenants(ids, matchers);
      const parts: SelectedSeries[] = [];
      let loaded = 0;
      for (const id of sel.tenants) {
        // The tenants share the query's budget: each gets what the ones before it left.
        const left = maxSamples > 0 ? maxSamples - loaded : 0;
        const part = inner.select(id, sel.matchers, mintMs, maxtMs, left);
        loaded += part.values.length;
        parts.push({ ...part, labels: part.labels.map((l) => withTenantLabel(l, id)) });
      }
      return concatSelections(parts);
    },
    instant: (data, evalTimesMs, lookbackMs) => inner.instant(data, evalTimesMs, lookbackMs),
    range: (fn, data, evalTimesMs, rangeMs, params) => inner.range(fn, data, evalTimesMs, rangeMs, params),
    ...(inner.rangeStartTimes ? { rangeStartTimes: inner.rangeStartTimes.bind(inner) } : {}),
    // One tenant: the inner fused path; several: select (which adds __tenant_id__) then range.
    selectRange: (tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, maxSamples) =>
      inner.selectRange && splitTenants(tenant).length === 1
        ? inner.selectRange(tenant, matchers, mintMs, maxtMs, fn, evalTimesMs, rangeMs, params, maxSamples)
        : undefined,
    // One tenant: the inner aggregate pushdown; several: the general path (labels need __tenant_id__).
    selectAggregate: (tenant, matchers, mintMs, maxtMs, agg, evalTimesMs, op, without, grouping, maxSamples) =>
      inner.selectAggregate && splitTenants(tenant).length === 1
        ? inner.selectAggregate(tenant, matchers, mintMs, maxtMs, agg, evalTimesMs, op, without, grouping, maxSamples)
        : undefined,
  };
}
