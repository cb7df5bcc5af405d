// read-federation.ts makes remote read federated (X-Scope-OrgID `a|b` with
// -tenant-federation.enabled), as the series and PromQL reads are in
// querier/tenant-federation.ts: matchers on `__tenant_id__` choose the
// tenants, each chosen tenant's head is selected with the other matchers,
// every series gains `__tenant_id__` (an own `__tenant_id__` is kept as
// `original___tenant_id__`), and the series of all tenants are merged in
// label order, for SAMPLES (raw samples and native histograms) and
// STREAMED_XOR_CHUNKS (chunks of every encoding, as stored) alike. The merge copies typed arrays, never one object per sample
// or chunk. A single tenant passes straight through.

import { decodeSeriesLabels, encodeSeriesLabels } from '../model/series-labels.js';
import { compareLabels } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import { selectTenants, withTenantLabel } from '../querier/tenant-federation.js';
import type { SelectedChunks, SelectedHistograms, SelectedSamples } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
import { splitTenants } from '../tenant/tenant.js';
import type { RemoteReadStorage } from './read-handler.js';

/** Part is one tenant's selection with its series relabelled. */
export interface Part<T> {
  sel: T;
  labels: Labels[];
}

/** relabelled selects from each tenant the matchers allow and adds the tenant label. */
async function relabelled<T extends { labels: Uint8Array }>(
  tenant: string,
  matchers: LabelMatcher[],
  select: (tenant: string, matchers: LabelMatcher[]) => Promise<T>,
): Promise<Array<Part<T>>> {
  const sel = selectTenants(splitTenants(tenant), matchers);
  return Promise.all(
    sel.tenants.map(async (id) => {
      const part = await select(id, sel.matchers);
      return { sel: part, labels: decodeSeriesLabels(part.labels).map((l) => withTenantLabel(l, id)) };
    }),
  );
}

/** order lists every (part, series) pair in the merged label order. */
function order<T>(parts: Array<Part<T>>): Array<{ part: Part<T>; index: number }> {
  const refs: Array<{ part: Part<T>; index: number }> = [];
  for (const part of parts) for (let i = 0; i < part.labels.length; i++) refs.push({ part, index: i });
  refs.sort((a, b) => compareLabels(a.part.labels[a.index]!, b.part.labels[b.index]!));
  return refs;
}

/** mergedLabels is the SeriesLabels buffer of the series in refs' order. */
function mergedLabels<T>(refs: Array<{ part: Part<T>; index: number }>): Buffer {
  return encodeSeriesLabels(refs.map(({ part, index }) => part.labels[index]!));
}

/** mergeSamples joins per-tenant sample selections into one, series in label order. */
export function mergeSamples(parts: Array<Part<SelectedSamples>>): SelectedSamples {
  const refs = order(parts);
  let total = 0;
  for (const p of parts) total += p.sel.timestamps.length;
  const offsets = new Uint32Array(refs.length + 1);
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  let at = 0;
  refs.forEach(({ part, index }, i) => {
    const from = part.sel.offsets[index]!;
    const to = part.sel.offsets[index + 1]!;
    timestamps.set(part.sel.timestamps.subarray(from, to), at);
    // Copied as a typed array: NaN payloads (staleness markers) keep their bits.
    values.set(part.sel.values.subarray(from, to), at);
    at += to - from;
    offsets[i + 1] = at;
  });
  const merged: SelectedSamples = { labels: mergedLabels(refs), offsets, timestamps, values };
  const histograms = mergeHistograms(refs);
  if (histograms !== undefined) merged.histograms = histograms;
  return merged;
}

/** mergeHistograms joins the native-histogram side channels of the series in refs' order (undefined when no part has any). */
function mergeHistograms(refs: Array<{ part: Part<SelectedSamples>; index: number }>): SelectedHistograms | undefined {
  let samples = 0;
  let words = 0;
  const seen = new Set<SelectedHistograms>();
  for (const { part } of refs) {
    const h = part.sel.histograms;
    if (h === undefined || seen.has(h)) continue;
    seen.add(h);
    samples += h.timestamps.length;
    words += h.data.length;
  }
  if (seen.size === 0) return undefined;
  const offsets = new Uint32Array(refs.length + 1);
  const timestamps = new Float64Array(samples);
  const dataOffsets = new Uint32Array(samples + 1);
  const data = new Float64Array(words);
  let j = 0;
  let w = 0;
  refs.forEach(({ part, index }, i) => {
    const h = part.sel.histograms;
    if (h !== undefined) {
      const from = h.offsets[index]!;
      const to = h.offsets[index + 1]!;
      timestamps.set(h.timestamps.subarray(from, to), j);
      const dataFrom = h.dataOffsets[from]!;
      const dataTo = h.dataOffsets[to]!;
      // Copied as a typed array: the staleness marker's NaN payload keeps its bits.
      data.set(h.data.subarray(dataFrom, dataTo), w);
      for (let k = from; k < to; k++) dataOffsets[j + (k - from) + 1] = w + (h.dataOffsets[k + 1]! - dataFrom);
      j += to - from;
      w += dataTo - dataFrom;
    }
    offsets[i + 1] = j;
  });
  return { offsets, timestamps, dataOffsets, data };
}

/** mergeChunks joins per-tenant chunk selections into one, series in label order. */
export function mergeChunks(parts: Array<Part<SelectedChunks>>): SelectedChunks {
  const refs = order(parts);
  let chunks = 0;
  let bytes = 0;
  for (const p of parts) {
    chunks += p.sel.minTimes.length;
    bytes += p.sel.data.length;
  }
  const seriesOffsets = new Uint32Array(refs.length + 1);
  const minTimes = new Float64Array(chunks);
  const maxTimes = new Float64Array(chunks);
  const encodings = new Uint8Array(chunks);
  const dataOffsets = new Uint32Array(chunks + 1);
  const data = Buffer.allocUnsafe(bytes);
  let c = 0;
  let b = 0;
  refs.forEach(({ part, index }, i) => {
    const s = part.sel;
    const from = s.seriesOffsets[index]!;
    const to = s.seriesOffsets[index + 1]!;
    minTimes.set(s.minTimes.subarray(from, to), c);
    maxTimes.set(s.maxTimes.subarray(from, to), c);
    encodings.set(s.encodings.subarray(from, to), c);
    const dataFrom = s.dataOffsets[from]!;
    const dataTo = s.dataOffsets[to]!;
    s.data.copy(data, b, dataFrom, dataTo);
    for (let k = from; k < to; k++) dataOffsets[c + (k - from) + 1] = b + (s.dataOffsets[k + 1]! - dataFrom);
    c += to - from;
    b += dataTo - dataFrom;
    seriesOffsets[i + 1] = c;
  });
  return { labels: mergedLabels(refs), seriesOffsets, minTimes, maxTimes, encodings, dataOffsets, data };
}

/** federatedReadStorage wraps the heads so that a joined tenant text reads every tenant it names. */
export function federatedReadStorage(inner: RemoteReadStorage): RemoteReadStorage {
  return {
    async selectSamples(tenant, matchers, mintMs, maxtMs, visibility) {
      if (!tenant.includes('|')) return inner.selectSamples(tenant, matchers, mintMs, maxtMs, visibility);
      return mergeSamples(await relabelled(tenant, matchers, (id, m) => inner.selectSamples(id, m, mintMs, maxtMs, visibility)));
    },
    async selectChunks(tenant, matchers, mintMs, maxtMs, visibility) {
      if (!tenant.includes('|')) return inner.selectChunks(tenant, matchers, mintMs, maxtMs, visibility);
      return mergeChunks(await relabelled(tenant, matchers, (id, m) => inner.selectChunks(id, m, mintMs, maxtMs, visibility)));
    },
  };
}
