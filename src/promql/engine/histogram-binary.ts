// histogram-binary.ts is Prometheus's vectorElemBinop for pairs where a side
// is a native histogram: `+`/`-` between histograms, `*` by a scalar on
// either side, `/` by a scalar on the right, `==`/`!=` between histograms;
// every other combination drops the pair with the incompatible-types info.

import type { BinaryOp, PosRange } from '../parser/ast.js';
import type { Evaluator } from './engine.js';
import { GAUGE_TYPE, HistogramOpError, trimBuckets, type FloatHistogram } from './float-histogram.js';

/** ElemResult is an operation's outcome: the float or histogram value, and whether a comparison keeps it. */
export interface ElemResult {
  f: number;
  h?: FloatHistogram;
  keep: boolean;
}

/** histogramsEqual is FloatHistogram.Equals (exact counts, same non-empty buckets). */
export function histogramsEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  const x = a.copy().compact();
  const y = b.copy().compact();
  if (x.schema !== y.schema || !Object.is(x.count, y.count) || !Object.is(x.sum, y.sum)) return false;
  if (x.zeroThreshold !== y.zeroThreshold || !Object.is(x.zeroCount, y.zeroCount)) return false;
  if (x.usesCustomBuckets && (x.customValues.length !== y.customValues.length || x.customValues.some((v, i) => v !== y.customValues[i]))) return false;
  const same = (ai: number[], ac: number[], bi: number[], bc: number[]): boolean =>
    ai.length === bi.length && ai.every((v, i) => v === bi[i] && Object.is(ac[i], bc[i]));
  return same(x.posIdx, x.posCnt, y.posIdx, y.posCnt) && same(x.negIdx, x.negCnt, y.negIdx, y.negCnt);
}

/**
 * histogramElem applies op where hl or hr is a histogram (fl/fr the float sides). Undefined when
 * the pair yields nothing: incompatible types (info), a mix of exponential and custom buckets
 * (warning), or, with dropOnWarning (vector/vector), conflicting counter resets (warning).
 */
export function histogramElem(
  ev: Evaluator,
  op: BinaryOp,
  fl: number,
  fr: number,
  hl: FloatHistogram | undefined,
  hr: FloatHistogram | undefined,
  pos: PosRange | undefined,
  dropOnWarning: boolean,
): ElemResult | undefined {
  const incompatible = (): undefined => {
    ev.ann.incompatibleTypesInBinOp(op, hl !== undefined ? 'histogram' : 'float', hr !== undefined ? 'histogram' : 'float', pos);
    return undefined;
  };
  if (hl === undefined && hr !== undefined) {
    if (op === '*') return { f: 0, h: hr.copy().mul(fl).compact(), keep: true };
    return incompatible();
  }
  if (hl !== undefined && hr === undefined) {
    if (op === '*') return { f: 0, h: hl.copy().mul(fr).compact(), keep: true };
    if (op === '/') return { f: 0, h: hl.copy().div(fr).compact(), keep: true };
    if (op === '</' || op === '>/') return { f: 0, h: trimBuckets(hl, fr, op === '</'), keep: true };
    return incompatible();
  }
  if (hl === undefined && hr === undefined) return incompatible();
  if (hl === undefined || hr === undefined) return incompatible();
  switch (op) {
    case '+':
    case '-': {
      const res = hl.copy();
      let r;
      try {
        r = res.add(hr, op === '-');
      } catch (err) {
        if (!(err instanceof HistogramOpError)) throw err;
        ev.ann.incompatibleBucketLayoutInBinOp(op, pos);
        return undefined;
      }
      if (op === '-') res.counterResetHint = GAUGE_TYPE;
      const name = op === '+' ? 'addition' : 'subtraction';
      if (r.nhcbBoundsReconciled) ev.ann.mismatchedCustomBuckets(name, pos);
      if (r.counterResetCollision) {
        ev.ann.counterResetCollision(name, pos);
        if (dropOnWarning) return undefined;
      }
      return { f: 0, h: res.compact(), keep: true };
    }
    case '==':
      return { f: 0, h: hl, keep: histogramsEqual(hl, hr) };
    case '!=':
      return { f: 0, h: hl, keep: !histogramsEqual(hl, hr) };
    default:
      return incompatible();
  }
}
