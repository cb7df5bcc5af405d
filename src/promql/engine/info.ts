// info.ts evaluates info(v, {data selector}): it enriches every series of v
// with the data labels of the info series (target_info by default) that share
// its identifying labels (instance, job), read at the same reference time as
// the base samples (so @ and offset pin the enrichment too).

import { overlayInstantHistograms } from './histogram-select.js';
import type { Expr, VectorSelector } from '../parser/ast.js';
import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import type { Evaluator } from './engine.js';
import { compileMatcher, labelsKey, METRIC_NAME } from './labels.js';
import { EngineError, type Labels, type StepGrid } from './types.js';
import { Collector, gridTimes, vectorOf, type Value } from './value.js';

const IDENTIFYING = ['instance', 'job'];

/** refTimes returns, per step, the time at which expr reads its samples (@ and offset applied, through subqueries). */
function refTimes(ev: Evaluator, e: Expr, times: Float64Array): Float64Array {
  switch (e.type) {
    case 'VectorSelector': {
      const fixed = ev.atMs(e.at);
      return times.map((t) => (fixed ?? t) - e.offsetMs);
    }
    case 'MatrixSelector':
      return refTimes(ev, e.vs, times);
    case 'SubqueryExpr': {
      const fixed = ev.atMs(e.at);
      return refTimes(ev, e.expr, times.map((t) => (fixed ?? t) - e.offsetMs));
    }
    case 'ParenExpr':
    case 'UnaryExpr':
      return refTimes(ev, e.expr, times);
    case 'AggregateExpr':
      return refTimes(ev, e.expr, times);
    case 'BinaryExpr':
      return refTimes(ev, e.lhs, times);
    case 'Call': {
      const arg = e.args.find((a) => a.type !== 'NumberLiteral' && a.type !== 'StringLiteral');
      return arg ? refTimes(ev, arg, times) : times;
    }
    default:
      return times;
  }
}

/** evalInfo evaluates info(). */
export function evalInfo(ev: Evaluator, args: Expr[], grid: StepGrid): Value {
  const base = vectorOf(ev.eval(args[0], grid), 'info');
  const selector = args[1] as VectorSelector | undefined;
  const matchers: LabelMatcher[] = selector?.matchers ?? [];
  let nameMatchers = matchers.filter((m) => m.name === METRIC_NAME);
  const dataMatchers = matchers.filter((m) => m.name !== METRIC_NAME);
  if (nameMatchers.length === 0) nameMatchers = [{ name: METRIC_NAME, type: MatchType.Equal, value: 'target_info' }];
  else if (!nameMatchers.some((m) => m.type === MatchType.Equal || m.type === MatchType.Regexp)) {
    // Only negative name matchers: info series are still the `_info` metrics.
    nameMatchers = [...nameMatchers, { name: METRIC_NAME, type: MatchType.Regexp, value: '.+_info' }];
  }
  const nameTests = nameMatchers.map(compileMatcher);
  const dataNames = new Set(dataMatchers.map((m) => m.name));
  const emptyOk = dataMatchers.every((m) => compileMatcher(m)(''));

  const n = grid.n;
  const refs = refTimes(ev, args[0], gridTimes(grid));
  const lookback = ev.lookbackMs;
  let min = Infinity;
  let max = -Infinity;
  for (const t of refs) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  const data = n > 0 ? ev.kernels.select(ev.opts.tenant, [...nameMatchers, ...dataMatchers], min - lookback + 1, max) : undefined;
  const inst = data ? ev.kernels.instant(data, refs, lookback) : undefined;
  const lastTs = data ? ev.kernels.range('ts_of_last_over_time', data, refs, lookback, new Float64Array(0)) : undefined;
  ev.addSamples(data?.values.length ?? 0);
  if (data?.histograms !== undefined && inst !== undefined) {
    // Info samples must be floats: a histogram among the selected info samples where there is a base sample is an error.
    const cols = overlayInstantHistograms(data, refs, lookback, inst.values, inst.present);
    for (let step = 0; step < n; step++) {
      if (!base.some((b) => b.present[step])) continue;
      if (cols.some((c, k) => c?.[step] !== undefined && inst.present[k * n + step] === 1)) throw new EngineError('execution', 'info sample should be float');
    }
  }

  // Info series by identifying-label key.
  const infos = (data?.labels ?? []).map((labels, idx) => ({ labels, idx }));

  const col = new Collector(n);
  for (const s of base) {
    const name = s.labels[METRIC_NAME];
    const isInfo = name !== undefined && nameTests.every((test) => test(name));
    const ids = IDENTIFYING.filter((l) => s.labels[l] !== undefined && s.labels[l] !== '');
    const candidates = isInfo || ids.length === 0 ? [] : infos.filter((i) => ids.every((l) => i.labels[l] === s.labels[l]));
    for (let step = 0; step < n; step++) {
      if (!s.present[step]) continue;
      if (isInfo) {
        col.add(s.labels, s.dropName, step, s.values[step]);
        continue;
      }
      // Per info metric name, the series with the latest sample wins.
      const byName = new Map<string, { labels: Labels; ts: number }>();
      for (const c of candidates) {
        const x = c.idx * n + step;
        if (!inst!.present[x]) continue;
        const ts = lastTs!.present[x] ? lastTs!.values[x] : -Infinity;
        const key = c.labels[METRIC_NAME] ?? '';
        const prev = byName.get(key);
        if (!prev || ts > prev.ts) byName.set(key, { labels: c.labels, ts });
      }
      if (byName.size === 0) {
        if (emptyOk) col.add(s.labels, s.dropName, step, s.values[step]);
        continue;
      }
      const out: Labels = { ...s.labels };
      const added: Labels = {};
      for (const { labels } of byName.values()) {
        for (const [k, v] of Object.entries(labels)) {
          if (k === METRIC_NAME || IDENTIFYING.includes(k)) continue;
          if (dataNames.size > 0 && !dataNames.has(k)) continue;
          if (k in s.labels) continue;
          if (k in added && added[k] !== v) throw new EngineError('execution', `conflicting label: ${k}`);
          added[k] = v;
        }
      }
      Object.assign(out, added);
      const sorted: Labels = {};
      for (const k of Object.keys(out).sort()) sorted[k] = out[k];
      col.add(sorted, s.dropName, step, s.values[step], labelsKey(sorted));
    }
  }
  return { type: 'vector', series: col.series() };
}
