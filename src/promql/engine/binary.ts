// binary.ts evaluates binary operators: scalar/scalar, vector/scalar and
// vector/vector with one-to-one, many-to-one and one-to-many matching, the set
// operators and/or/unless, with Prometheus's result labels and errors.

import type { BinaryExpr, BinaryOp, VectorMatching } from '../parser/ast.js';
import type { Evaluator } from './engine.js';
import { compareLabels, labelsKey, labelsString, matchLabels, METRIC_NAME, signatureFn } from './labels.js';
import { EngineError, type Labels, type StepGrid } from './types.js';
import { DUPLICATE_LABELSET, newSeries, type Series, type Value } from './value.js';
import type { FloatHistogram } from './float-histogram.js';
import { histogramElem } from './histogram-binary.js';

const COMPARISON = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
const ARITHMETIC = new Set<BinaryOp>(['+', '-', '*', '/', '%', '^', 'atan2']);
const SET_OPS = new Set<BinaryOp>(['and', 'or', 'unless']);
/** TRIM_OPS are the native-histogram trim operators; between floats they yield nothing (with an info). */
const TRIM_OPS = new Set<BinaryOp>(['</', '>/']);

/** isComparison reports whether op is a comparison operator. */
export function isComparison(op: BinaryOp): boolean {
  return COMPARISON.has(op);
}

/** goPow is math.Pow with Go's special cases where they differ from JavaScript. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if ((x === -1) && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}

/** arith applies an arithmetic operator. */
export function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      throw new EngineError('execution', `operator "${op}" not allowed for arithmetic`);
  }
}

/** compare applies a comparison operator. */
export function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      throw new EngineError('execution', `operator "${op}" is not a comparison`);
  }
}

/** elemBinop evaluates op on two floats: the value and whether a filtering comparison keeps it. */
function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  if (COMPARISON.has(op)) return [l, compare(op, l, r)];
  return [arith(op, l, r), true];
}

function scalarBinop(op: BinaryOp, l: number, r: number): number {
  if (COMPARISON.has(op)) return compare(op, l, r) ? 1 : 0;
  return arith(op, l, r);
}

/** evalBinary evaluates a binary expression over the grid. */
export function evalBinary(ev: Evaluator, e: BinaryExpr, grid: StepGrid): Value {
  const lhs = ev.eval(e.lhs, grid);
  const rhs = ev.eval(e.rhs, grid);
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const out = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) out[i] = scalarBinop(e.op, lhs.values[i], rhs.values[i]);
    return { type: 'scalar', values: out };
  }
  if (lhs.type === 'vector' && rhs.type === 'scalar') {
    return { type: 'vector', series: vectorScalar(e.op, lhs.series, rhs.values, false, e.returnBool, ev, e) };
  }
  if (lhs.type === 'scalar' && rhs.type === 'vector') {
    return { type: 'vector', series: vectorScalar(e.op, rhs.series, lhs.values, true, e.returnBool, ev, e) };
  }
  if (lhs.type !== 'vector' || rhs.type !== 'vector') {
    throw new EngineError('execution', `binary expression must contain only scalar and instant vector types`);
  }
  const matching: VectorMatching = e.matching ?? {
    card: SET_OPS.has(e.op) ? 'many-to-many' : 'one-to-one',
    on: false,
    labels: [],
    include: [],
  };
  switch (e.op) {
    case 'and':
    case 'unless':
      return { type: 'vector', series: andUnless(e.op, lhs.series, rhs.series, matching, grid.n) };
    case 'or':
      return { type: 'vector', series: or(lhs.series, rhs.series, matching, grid.n) };
    default:
      return { type: 'vector', series: vectorVector(e.op, lhs.series, rhs.series, matching, e.returnBool, grid.n, ev, e) };
  }
}

function vectorScalar(op: BinaryOp, vec: Series[], scalar: Float64Array, swap: boolean, returnBool: boolean, ev: Evaluator, e: BinaryExpr): Series[] {
  const out: Series[] = [];
  const comparison = COMPARISON.has(op);
  for (const s of vec) {
    const n = s.values.length;
    const values = new Float64Array(n);
    const present = new Uint8Array(n);
    let histograms: Array<FloatHistogram | undefined> | undefined;
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const h = s.histograms?.[i];
      if (h !== undefined || TRIM_OPS.has(op)) {
        const r = swap ? histogramElem(ev, op, scalar[i], s.values[i], undefined, h, e.pos, false) : histogramElem(ev, op, s.values[i], scalar[i], h, undefined, e.pos, false);
        if (r === undefined) continue;
        let keep = r.keep;
        let rh = r.h;
        let v = r.f;
        if (comparison && swap) rh = h;
        if (returnBool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (!keep) continue;
        present[i] = 1;
        values[i] = v;
        if (rh !== undefined) (histograms ??= new Array<FloatHistogram | undefined>(n))[i] = rh;
        any = true;
        continue;
      }
      const lf = swap ? scalar[i] : s.values[i];
      const rf = swap ? s.values[i] : scalar[i];
      let [v, keep] = elemBinop(op, lf, rf);
      if (comparison && swap) v = rf;
      if (returnBool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      values[i] = v;
      present[i] = 1;
      any = true;
    }
    if (!any) continue;
    const r: Series = { labels: s.labels, values, present, dropName: s.dropName || ARITHMETIC.has(op) || returnBool };
    if (histograms !== undefined) r.histograms = histograms;
    out.push(r);
  }
  return out;
}

function signatures(series: Series[], matching: VectorMatching): string[] {
  const sig = signatureFn(matching.on, matching.labels);
  return series.map((s) => sig(s.labels));
}

function andUnless(op: 'and' | 'unless', lhs: Series[], rhs: Series[], matching: VectorMatching, n: number): Series[] {
  const ls = signatures(lhs, matching);
  const rs = signatures(rhs, matching);
  // For every signature, the steps at which some rhs series is present.
  const rhsPresent = new Map<string, Uint8Array>();
  rhs.forEach((s, j) => {
    let m = rhsPresent.get(rs[j]);
    if (!m) rhsPresent.set(rs[j], (m = new Uint8Array(n)));
    for (let i = 0; i < n; i++) m[i] |= s.present[i];
  });
  const out: Series[] = [];
  lhs.forEach((s, j) => {
    const m = rhsPresent.get(ls[j]);
    const present = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const has = m ? m[i] === 1 : false;
      if (s.present[i] && (op === 'and' ? has : !has)) {
        present[i] = 1;
        any = true;
      }
    }
    if (any) out.push(withColumn({ labels: s.labels, values: s.values, present, dropName: s.dropName }, s.histograms));
  });
  return out;
}

/** withColumn sets a series' histogram column when there is one. */
function withColumn(s: Series, histograms: Array<FloatHistogram | undefined> | undefined): Series {
  if (histograms !== undefined) s.histograms = histograms;
  return s;
}

function or(lhs: Series[], rhs: Series[], matching: VectorMatching, n: number): Series[] {
  const ls = signatures(lhs, matching);
  const rs = signatures(rhs, matching);
  const lhsPresent = new Map<string, Uint8Array>();
  lhs.forEach((s, j) => {
    let m = lhsPresent.get(ls[j]);
    if (!m) lhsPresent.set(ls[j], (m = new Uint8Array(n)));
    for (let i = 0; i < n; i++) m[i] |= s.present[i];
  });
  const byKey = new Map<string, Series>();
  const out: Series[] = [];
  const put = (s: Series): void => {
    const key = labelsKey(s.labels);
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, s);
      out.push(s);
      return;
    }
    const values = prev.values.slice();
    const present = prev.present.slice();
    let histograms = prev.histograms?.slice();
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      values[i] = s.values[i];
      present[i] = 1;
      const h = s.histograms?.[i];
      if (h !== undefined) (histograms ??= new Array<FloatHistogram | undefined>(n))[i] = h;
      else if (histograms !== undefined) histograms[i] = undefined;
    }
    prev.values = values;
    prev.present = present;
    if (histograms !== undefined) prev.histograms = histograms;
  };
  for (const s of lhs) put({ ...s });
  rhs.forEach((s, j) => {
    const m = lhsPresent.get(rs[j]);
    const present = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (s.present[i] && !(m && m[i])) {
        present[i] = 1;
        any = true;
      }
    }
    if (any) put(withColumn({ labels: s.labels, values: s.values, present, dropName: s.dropName }, s.histograms));
  });
  return out;
}

function resultLabels(op: BinaryOp, l: Labels, r: Labels, matching: VectorMatching): Labels {
  const out: Labels = { ...l };
  if (ARITHMETIC.has(op)) {
    delete out[METRIC_NAME];
    delete out.__type__;
    delete out.__unit__;
  }
  if (matching.card === 'one-to-one') {
    if (matching.on) {
      const keep = new Set(matching.labels);
      for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
    } else {
      for (const k of matching.labels) delete out[k];
    }
  }
  for (const name of matching.include) {
    const v = r[name];
    if (v !== undefined && v !== '') out[name] = v;
    else delete out[name];
  }
  const sorted: Labels = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return sorted;
}

interface PairOut {
  labels: Labels;
  key: string;
  keyId: number;
  slot: Series | undefined;
}

function vectorVector(
  op: BinaryOp,
  lhsIn: Series[],
  rhsIn: Series[],
  matching: VectorMatching,
  returnBool: boolean,
  n: number,
  ev: Evaluator,
  e: BinaryExpr,
): Series[] {
  if (matching.card === 'many-to-many') throw new EngineError('execution', 'many-to-many only allowed for set operators');
  const withHistograms = TRIM_OPS.has(op) || lhsIn.some((s) => s.histograms !== undefined) || rhsIn.some((s) => s.histograms !== undefined);
  const swapped = matching.card === 'one-to-many';
  const oneToOne = matching.card === 'one-to-one';
  const comparison = COMPARISON.has(op);
  const lhs = swapped ? rhsIn : lhsIn;
  const rhs = swapped ? lhsIn : rhsIn;
  const ls = signatures(lhs, matching);
  const rs = signatures(rhs, matching);
  // The pairing structure is computed once: signatures become small integers.
  const sigIds = new Map<string, number>();
  const intern = (sig: string): number => {
    let id = sigIds.get(sig);
    if (id === undefined) sigIds.set(sig, (id = sigIds.size));
    return id;
  };
  const lId = new Int32Array(lhs.length);
  for (let j = 0; j < lhs.length; j++) lId[j] = intern(ls[j]);
  const rId = new Int32Array(rhs.length);
  for (let k = 0; k < rhs.length; k++) rId[k] = intern(rs[k]);
  const nSig = sigIds.size;
  // Signatures with more than one lhs series are the only ones where a step can see duplicate matches.
  const lhsCount = new Int32Array(nSig);
  for (let j = 0; j < lhs.length; j++) lhsCount[lId[j]]++;
  // Per-step state, stamped with step+1 so it never needs clearing.
  const rightStamp = new Int32Array(nSig);
  const rightAt = new Int32Array(nSig);
  const matchedStamp = new Int32Array(nSig);
  const keyIds = new Map<string, number>();
  let keyStamp = new Int32Array(16);
  const byKey = new Map<string, Series>();
  const fillL = matching.fill?.lhs;
  const fillR = matching.fill?.rhs;
  const filling = fillL !== undefined || fillR !== undefined;
  const nR = rhs.length;
  // Output labels per (lhs, rhs) pair, cached once; lastK/lastOut memoise the pair each lhs series used last.
  const pairCache = new Map<number, PairOut>();
  const lastK = new Int32Array(lhs.length).fill(-2);
  const lastOut: (PairOut | undefined)[] = new Array(lhs.length);
  const fillLCache: (PairOut | undefined)[] = new Array(rhs.length);

  // pointValue applies op to one matched pair given as (lhs side, rhs side) of
  // the loop (swapped back to the query's order); undefined when a filtering
  // comparison drops the point.
  const pointValue = (a: number, b: number): number | undefined => {
    const fl = swapped ? b : a;
    const fr = swapped ? a : b;
    if (!comparison) return returnBool ? 1 : arith(op, fl, fr);
    const keep = compare(op, fl, fr);
    if (returnBool) return keep ? 1 : 0;
    return keep ? fl : undefined;
  };

  const makeOut = (lLabels: Labels, rLabels: Labels, sigId: number): PairOut => {
    const labels = resultLabels(op, lLabels, rLabels, matching);
    const key = labelsKey(labels);
    const scoped = `${sigId}\x00${key}`;
    let keyId = keyIds.get(scoped);
    if (keyId === undefined) {
      keyIds.set(scoped, (keyId = keyIds.size));
      if (keyId >= keyStamp.length) {
        const grown = new Int32Array(keyStamp.length * 2);
        grown.set(keyStamp);
        keyStamp = grown;
      }
    }
    return { labels, key, keyId, slot: undefined };
  };

  if (!filling && !withHistograms) {
    const fast = fixedPairs();
    if (fast) return fast;
  }

  // pairValue is pointValue for cells where a side may be a histogram (a, b as for pointValue).
  const pairValue = (a: number, ah: FloatHistogram | undefined, b: number, bh: FloatHistogram | undefined): { f: number; h?: FloatHistogram } | undefined => {
    if (ah === undefined && bh === undefined && !TRIM_OPS.has(op)) {
      const v = pointValue(a, b);
      return v === undefined ? undefined : { f: v };
    }
    const r = swapped ? histogramElem(ev, op, b, a, bh, ah, e.pos, true) : histogramElem(ev, op, a, b, ah, bh, e.pos, true);
    if (r === undefined) return undefined;
    if (returnBool) return { f: r.keep ? 1 : 0 };
    if (!r.keep) return undefined;
    return r.h === undefined ? { f: r.f } : { f: r.f, h: r.h };
  };

  for (let i = 0; i < n; i++) {
    const stamp = i + 1;
    let anyL = false;
    for (const s of lhs) if (s.present[i]) { anyL = true; break; }
    let anyR = false;
    for (const s of rhs) if (s.present[i]) { anyR = true; break; }
    if (!anyL && !anyR) continue;
    if ((!anyL || !anyR) && !filling) continue;
    for (let k = 0; k < nR; k++) {
      if (!rhs[k].present[i]) continue;
      const sid = rId[k];
      if (rightStamp[sid] === stamp) {
        const dup = rightAt[sid];
        const oneSide = swapped ? 'left' : 'right';
        const group = labelsString(matchLabels(rhs[k].labels, matching.on, matching.labels));
        const pair = [rhs[k].labels, rhs[dup].labels].sort(compareLabels).map(labelsString);
        throw new EngineError(
          'execution',
          `found duplicate series for the match group ${group} on the ${oneSide} hand-side of the operation: [${pair[0]}, ${pair[1]}]` +
            ';many-to-many matching not allowed: matching labels must be unique on one side',
        );
      }
      rightStamp[sid] = stamp;
      rightAt[sid] = k;
    }
    for (let j = 0; j < lhs.length; j++) {
      const l = lhs[j];
      if (!l.present[i]) continue;
      const sid = lId[j];
      let k = -1;
      let rv: number;
      if (rightStamp[sid] === stamp) {
        k = rightAt[sid];
        rv = rhs[k].values[i];
      } else {
        if (fillR === undefined) continue;
        rv = fillR;
      }
      let out: PairOut | undefined;
      if (lastK[j] === k) out = lastOut[j];
      if (out === undefined) {
        const ck = j * (nR + 1) + (k + 1);
        out = pairCache.get(ck);
        if (out === undefined) {
          out =
            k < 0
              ? makeOut(l.labels, matchLabels(l.labels, matching.on, matching.labels), sid)
              : makeOut(l.labels, rhs[k].labels, sid);
          pairCache.set(ck, out);
        }
        lastK[j] = k;
        lastOut[j] = out;
      }
      if (oneToOne) {
        if (matchedStamp[sid] === stamp) {
          throw new EngineError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        }
      } else if (lhsCount[sid] > 1) {
        if (keyStamp[out.keyId] === stamp) {
          throw new EngineError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
        }
        keyStamp[out.keyId] = stamp;
      }
      matchedStamp[sid] = stamp;
      if (withHistograms) {
        const r = pairValue(l.values[i], l.histograms?.[i], rv, k < 0 ? undefined : rhs[k].histograms?.[i]);
        if (r !== undefined) add(out, i, r.f, r.h);
        continue;
      }
      const v = pointValue(l.values[i], rv);
      if (v !== undefined) add(out, i, v);
    }
    if (fillL !== undefined) {
      for (let k = 0; k < nR; k++) {
        const r = rhs[k];
        if (!r.present[i]) continue;
        const sid = rId[k];
        if (matchedStamp[sid] === stamp) continue;
        matchedStamp[sid] = stamp;
        let out = fillLCache[k];
        if (out === undefined) {
          out = makeOut(matchLabels(r.labels, matching.on, matching.labels), r.labels, sid);
          fillLCache[k] = out;
        }
        if (withHistograms) {
          const x = pairValue(fillL, undefined, r.values[i], r.histograms?.[i]);
          if (x !== undefined) add(out, i, x.f, x.h);
          continue;
        }
        const v = pointValue(fillL, r.values[i]);
        if (v !== undefined) add(out, i, v);
      }
    }
  }
  return [...byKey.values()];

  // fixedPairs is the common case computed series by series instead of step by step: every
  // signature has at most one series on the "one" side, so each series of the other side always
  // pairs with the same one, and the pairs' output label sets are all different (and, one-to-one,
  // no two lhs series share a signature), so no step can raise a matching error. Undefined when
  // that does not hold (the step loop then decides, errors included). The series come in the
  // step loop's order: by the first step with a value, then by lhs index.
  function fixedPairs(): Series[] | undefined {
    const rhsOfSig = new Int32Array(nSig).fill(-1);
    for (let k = 0; k < nR; k++) {
      if (rhsOfSig[rId[k]] >= 0) return undefined;
      rhsOfSig[rId[k]] = k;
    }
    const outs: (PairOut | undefined)[] = new Array(lhs.length);
    const keys = new Set<string>();
    const sigTaken = new Uint8Array(nSig);
    for (let j = 0; j < lhs.length; j++) {
      const k = rhsOfSig[lId[j]];
      if (k < 0) continue;
      if (oneToOne) {
        if (sigTaken[lId[j]]) return undefined;
        sigTaken[lId[j]] = 1;
      }
      const out = makeOut(lhs[j].labels, rhs[k].labels, lId[j]);
      if (keys.has(out.key)) return undefined;
      keys.add(out.key);
      outs[j] = out;
    }
    const res: Array<{ s: Series; first: number; j: number }> = [];
    for (let j = 0; j < lhs.length; j++) {
      const out = outs[j];
      if (out === undefined) continue;
      const l = lhs[j];
      const r = rhs[rhsOfSig[lId[j]]];
      const lp = l.present;
      const rp = r.present;
      const lv = l.values;
      const rv = r.values;
      let s: Series | undefined;
      let first = 0;
      for (let i = 0; i < n; i++) {
        if (!lp[i] || !rp[i]) continue;
        const v = pointValue(lv[i], rv[i]);
        if (v === undefined) continue;
        if (s === undefined) {
          s = newSeries(out.labels, n, returnBool);
          first = i;
        }
        s.values[i] = v;
        s.present[i] = 1;
      }
      if (s !== undefined) res.push({ s, first, j });
    }
    res.sort((a, b) => a.first - b.first || a.j - b.j);
    return res.map((x) => x.s);
  }

  // add is Collector.add with the output series resolved once per pair.
  function add(out: PairOut, step: number, value: number, h?: FloatHistogram): void {
    let s = out.slot;
    if (s === undefined) {
      s = byKey.get(out.key);
      if (!s) {
        s = newSeries(out.labels, n, returnBool);
        byKey.set(out.key, s);
      }
      out.slot = s;
    }
    if (s.present[step]) throw new EngineError('execution', DUPLICATE_LABELSET);
    s.values[step] = value;
    s.present[step] = 1;
    if (h !== undefined) (s.histograms ??= new Array<FloatHistogram | undefined>(n))[step] = h;
  }
}
