// float-histogram.ts is the engine's native-histogram value: Prometheus's
// FloatHistogram semantics (model/histogram) over a sparse bucket layout.
// Buckets are kept as ascending bucket indices with absolute counts (no
// spans): spans are derived when a histogram leaves the engine (the hand-off
// format, the JSON answer). Operations follow Prometheus: addition and
// subtraction reduce to the coarser schema and the wider zero bucket,
// histograms with custom buckets (NHCB, schema -53) only combine with each
// other (mismatched bounds are reconciled to their intersection), quantiles
// and fractions interpolate exponentially within exponential buckets and
// linearly within the zero bucket and custom buckets.

import { SCHEMA_FRACTIONS } from './exp-bounds.js';
import { goExp2, goLog2, ldexp } from './go-math.js';
import { kahanSumInc } from './float-ops.js';
import { formatGo } from './annotations.js';

/** CounterResetHint values as Prometheus numbers them. */
export const UNKNOWN_COUNTER_RESET = 0;
export const COUNTER_RESET = 1;
export const NOT_COUNTER_RESET = 2;
export const GAUGE_TYPE = 3;

/** CUSTOM_BUCKETS_SCHEMA is the schema of native histograms with custom buckets (NHCB). */
export const CUSTOM_BUCKETS_SCHEMA = -53;
export const EXPONENTIAL_SCHEMA_MIN = -4;
export const EXPONENTIAL_SCHEMA_MAX = 8;

/** Span is one run of consecutive buckets: offset from the end of the previous span (from 0 for the first), length. */
export interface Span {
  offset: number;
  length: number;
}

/** Bucket is one bucket as Prometheus's bucket iterators yield it. */
export interface Bucket {
  lower: number;
  upper: number;
  lowerInclusive: boolean;
  upperInclusive: boolean;
  count: number;
  index: number;
}

/** IncompatibleSchemaError is Prometheus's ErrHistogramsIncompatibleSchema. */
export const INCOMPATIBLE_SCHEMA_MESSAGE = 'cannot apply this operation on histograms with a mix of exponential and custom bucket schemas';

/** HistogramOpError is an operation Prometheus refuses (mixing exponential and custom buckets). */
export class HistogramOpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistogramOpError';
  }
}

/** boundExponential is the upper bound of bucket idx in an exponential schema (Prometheus's getBoundExponential). */
export function boundExponential(idx: number, schema: number): number {
  if (schema < 0) {
    const exp = idx * 2 ** -schema;
    if (exp === 1024) return Number.MAX_VALUE;
    return ldexp(1, exp);
  }
  const n = 1 << schema;
  const fracIdx = ((idx % n) + n) % n;
  const frac = SCHEMA_FRACTIONS[schema]![fracIdx]!;
  const exp = Math.floor(idx / n) + 1;
  if (frac === 0.5 && exp === 1025) return Number.MAX_VALUE;
  return ldexp(frac, exp);
}

/** bound is the upper bound of bucket idx (custom buckets: customValues[idx], +Inf past the last, -Inf at -1). */
export function bound(idx: number, schema: number, customValues: readonly number[]): number {
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    if (idx === customValues.length) return Infinity;
    if (idx === -1) return -Infinity;
    return customValues[idx] ?? Infinity;
  }
  return boundExponential(idx, schema);
}

/** targetIdx maps a bucket index of originSchema to the index of its bucket in the coarser targetSchema. */
export function targetIdx(idx: number, originSchema: number, targetSchema: number): number {
  return Math.floor((idx - 1) / 2 ** (originSchema - targetSchema)) + 1;
}

/** customBoundsMatch reports whether two custom bound lists are equal. */
export function customBoundsMatch(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** spansToIndices expands spans into the absolute bucket indices they cover. */
export function spansToIndices(spans: readonly Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (let s = 0; s < spans.length; s++) {
    idx += spans[s]!.offset;
    for (let j = 0; j < spans[s]!.length; j++) out.push(idx++);
  }
  return out;
}

/** indicesToSpans turns ascending bucket indices into spans (adjacent indices share a span). */
export function indicesToSpans(idx: readonly number[]): Span[] {
  const spans: Span[] = [];
  let next = 0;
  for (let i = 0; i < idx.length; i++) {
    const x = idx[i]!;
    const last = spans[spans.length - 1];
    if (last !== undefined && x === next) last.length++;
    else spans.push({ offset: spans.length === 0 ? x : x - next, length: 1 });
    next = x + 1;
  }
  return spans;
}

/** FloatHistogram is a native histogram with float counts. */
export class FloatHistogram {
  constructor(
    public schema = 0,
    public zeroThreshold = 0,
    public zeroCount = 0,
    public count = 0,
    public sum = 0,
    public counterResetHint = UNKNOWN_COUNTER_RESET,
    /** posIdx are the positive buckets' indices, ascending; posCnt their absolute counts. */
    public posIdx: number[] = [],
    public posCnt: number[] = [],
    public negIdx: number[] = [],
    public negCnt: number[] = [],
    /** customValues are the upper bounds of custom buckets (schema -53); empty otherwise. */
    public customValues: readonly number[] = [],
  ) {}

  /** fromSpans builds a histogram from Prometheus's span layout. */
  static fromSpans(h: {
    schema: number;
    zeroThreshold?: number;
    zeroCount?: number;
    count: number;
    sum: number;
    counterResetHint?: number;
    positiveSpans?: readonly Span[];
    positiveBuckets?: readonly number[];
    negativeSpans?: readonly Span[];
    negativeBuckets?: readonly number[];
    customValues?: readonly number[];
  }): FloatHistogram {
    const posIdx = spansToIndices(h.positiveSpans ?? []);
    const negIdx = spansToIndices(h.negativeSpans ?? []);
    const posCnt = (h.positiveBuckets ?? []).slice(0, posIdx.length);
    const negCnt = (h.negativeBuckets ?? []).slice(0, negIdx.length);
    posIdx.length = posCnt.length;
    negIdx.length = negCnt.length;
    return new FloatHistogram(
      h.schema,
      h.zeroThreshold ?? 0,
      h.zeroCount ?? 0,
      h.count,
      h.sum,
      h.counterResetHint ?? UNKNOWN_COUNTER_RESET,
      posIdx,
      posCnt,
      negIdx,
      negCnt,
      h.customValues ?? [],
    );
  }

  get usesCustomBuckets(): boolean {
    return this.schema === CUSTOM_BUCKETS_SCHEMA;
  }

  /** copy is a deep copy (custom values are shared: they are never changed in place). */
  copy(): FloatHistogram {
    return new FloatHistogram(
      this.schema,
      this.zeroThreshold,
      this.zeroCount,
      this.count,
      this.sum,
      this.counterResetHint,
      this.posIdx.slice(),
      this.posCnt.slice(),
      this.negIdx.slice(),
      this.negCnt.slice(),
      this.customValues,
    );
  }

  get positiveSpans(): Span[] {
    return indicesToSpans(this.posIdx);
  }

  get negativeSpans(): Span[] {
    return indicesToSpans(this.negIdx);
  }

  /** mul scales every count and the sum by factor, in place; a negative factor makes it a gauge. */
  mul(factor: number): this {
    this.zeroCount *= factor;
    this.count *= factor;
    this.sum *= factor;
    for (let i = 0; i < this.posCnt.length; i++) this.posCnt[i]! *= factor;
    for (let i = 0; i < this.negCnt.length; i++) this.negCnt[i]! *= factor;
    if (factor < 0) this.counterResetHint = GAUGE_TYPE;
    return this;
  }

  /** div divides every count and the sum by scalar, in place; division by zero drops the buckets. */
  div(scalar: number): this {
    this.zeroCount /= scalar;
    this.count /= scalar;
    this.sum /= scalar;
    if (scalar === 0) {
      this.posIdx = [];
      this.posCnt = [];
      this.negIdx = [];
      this.negCnt = [];
      return this;
    }
    for (let i = 0; i < this.posCnt.length; i++) this.posCnt[i]! /= scalar;
    for (let i = 0; i < this.negCnt.length; i++) this.negCnt[i]! /= scalar;
    if (scalar < 0) this.counterResetHint = GAUGE_TYPE;
    return this;
  }

  /** compact drops the empty buckets (Prometheus's Compact(0), as far as the bucket content goes). */
  compact(): this {
    [this.posIdx, this.posCnt] = dropEmpty(this.posIdx, this.posCnt);
    [this.negIdx, this.negCnt] = dropEmpty(this.negIdx, this.negCnt);
    return this;
  }

  /** reduceResolution merges the buckets into the coarser targetSchema, in place. */
  reduceResolution(targetSchema: number): this {
    if (this.usesCustomBuckets || targetSchema >= this.schema) return this;
    [this.posIdx, this.posCnt] = reduceBuckets(this.posIdx, this.posCnt, this.schema, targetSchema);
    [this.negIdx, this.negCnt] = reduceBuckets(this.negIdx, this.negCnt, this.schema, targetSchema);
    this.schema = targetSchema;
    return this;
  }

  /**
   * add adds other into this histogram (sub: subtracts), as Prometheus's Add/Sub: schemas reduced
   * to the coarser one, zero buckets widened to cover both, custom bounds intersected when they
   * differ. Returns whether the counter reset hints collided and whether custom bounds were
   * reconciled; throws HistogramOpError when mixing exponential and custom buckets.
   */
  add(other: FloatHistogram, sub = false): { counterResetCollision: boolean; nhcbBoundsReconciled: boolean } {
    if (this.usesCustomBuckets !== other.usesCustomBuckets) throw new HistogramOpError(INCOMPATIBLE_SCHEMA_MESSAGE);
    const counterResetCollision = this.adjustCounterReset(other);
    const sign = sub ? -1 : 1;
    let otherZeroCount = 0;
    if (!this.usesCustomBuckets) otherZeroCount = this.reconcileZeroBuckets(other);
    this.zeroCount += sign * otherZeroCount;
    this.count += sign * other.count;
    this.sum += sign * other.sum;
    if (this.usesCustomBuckets) {
      if (customBoundsMatch(this.customValues, other.customValues)) {
        [this.posIdx, this.posCnt] = mergeBuckets(this.posIdx, this.posCnt, other.posIdx, other.posCnt, sign, -Infinity);
        return { counterResetCollision, nhcbBoundsReconciled: false };
      }
      const bounds = intersectBounds(this.customValues, other.customValues);
      const target = new Array<number>(bounds.length + 1).fill(0);
      mapCustom(this.posIdx, this.posCnt, this.customValues, bounds, target, 1);
      mapCustom(other.posIdx, other.posCnt, other.customValues, bounds, target, sign);
      const idx: number[] = [];
      const cnt: number[] = [];
      for (let i = 0; i < target.length; i++) {
        if (target[i] === 0) continue;
        idx.push(i);
        cnt.push(target[i]!);
      }
      this.posIdx = idx;
      this.posCnt = cnt;
      this.customValues = bounds;
      return { counterResetCollision, nhcbBoundsReconciled: true };
    }
    let oPosIdx = other.posIdx;
    let oPosCnt = other.posCnt;
    let oNegIdx = other.negIdx;
    let oNegCnt = other.negCnt;
    if (other.schema < this.schema) {
      this.reduceResolution(other.schema);
    } else if (other.schema > this.schema) {
      [oPosIdx, oPosCnt] = reduceBuckets(oPosIdx, oPosCnt, other.schema, this.schema);
      [oNegIdx, oNegCnt] = reduceBuckets(oNegIdx, oNegCnt, other.schema, this.schema);
    }
    // Buckets of other that lie within the (reconciled) zero bucket are already in its zero count.
    const threshold = this.zeroThreshold;
    [this.posIdx, this.posCnt] = mergeBuckets(this.posIdx, this.posCnt, oPosIdx, oPosCnt, sign, threshold, this.schema);
    [this.negIdx, this.negCnt] = mergeBuckets(this.negIdx, this.negCnt, oNegIdx, oNegCnt, sign, threshold, this.schema);
    return { counterResetCollision, nhcbBoundsReconciled: false };
  }

  /** adjustCounterReset is Prometheus's hint combination for add/sub; true on a CounterReset/NotCounterReset collision. */
  private adjustCounterReset(other: FloatHistogram): boolean {
    const a = this.counterResetHint;
    const b = other.counterResetHint;
    if (a === b || a === GAUGE_TYPE) return false;
    if (b === GAUGE_TYPE) {
      this.counterResetHint = GAUGE_TYPE;
      return false;
    }
    if (a === UNKNOWN_COUNTER_RESET) return false;
    this.counterResetHint = UNKNOWN_COUNTER_RESET;
    return b !== UNKNOWN_COUNTER_RESET;
  }

  /**
   * zeroCountForLargerThreshold is the zero count this histogram would have with a zero bucket of
   * at least largerThreshold, and the threshold actually needed (widened to the upper bound of a
   * populated bucket the threshold would cut).
   */
  zeroCountForLargerThreshold(largerThreshold: number): [number, number] {
    if (largerThreshold === this.zeroThreshold) return [this.zeroCount, largerThreshold];
    for (;;) {
      let zc = this.zeroCount;
      let restart = false;
      for (let i = 0; i < this.posIdx.length; i++) {
        const upper = bound(this.posIdx[i]!, this.schema, this.customValues);
        const lower = bound(this.posIdx[i]! - 1, this.schema, this.customValues);
        if (lower >= largerThreshold) break;
        zc += this.posCnt[i]!;
        if (upper > largerThreshold) {
          if (this.posCnt[i] !== 0) largerThreshold = upper;
          break;
        }
      }
      for (let i = 0; i < this.negIdx.length; i++) {
        const upper = -bound(this.negIdx[i]! - 1, this.schema, this.customValues);
        const lower = -bound(this.negIdx[i]!, this.schema, this.customValues);
        if (upper <= -largerThreshold) break;
        zc += this.negCnt[i]!;
        if (lower < -largerThreshold) {
          if (this.negCnt[i] !== 0) {
            largerThreshold = -lower;
            restart = true;
          }
          break;
        }
      }
      if (!restart) return [zc, largerThreshold];
    }
  }

  /** reconcileZeroBuckets widens this zero bucket to cover other's and returns other's zero count at that width. */
  private reconcileZeroBuckets(other: FloatHistogram): number {
    let otherZeroCount = other.zeroCount;
    let otherThreshold = other.zeroThreshold;
    while (otherThreshold !== this.zeroThreshold) {
      if (this.zeroThreshold > otherThreshold) [otherZeroCount, otherThreshold] = other.zeroCountForLargerThreshold(this.zeroThreshold);
      if (otherThreshold > this.zeroThreshold) {
        [this.zeroCount, this.zeroThreshold] = this.zeroCountForLargerThreshold(otherThreshold);
        this.trimBucketsInZeroBucket();
      }
    }
    return otherZeroCount;
  }

  /** trimBucketsInZeroBucket drops the buckets inside the zero bucket (their counts are in the zero count). */
  private trimBucketsInZeroBucket(): void {
    const t = this.zeroThreshold;
    let p = 0;
    while (p < this.posIdx.length && bound(this.posIdx[p]! - 1, this.schema, this.customValues) < t) p++;
    this.posIdx = this.posIdx.slice(p);
    this.posCnt = this.posCnt.slice(p);
    let n = 0;
    while (n < this.negIdx.length && -bound(this.negIdx[n]! - 1, this.schema, this.customValues) > -t) n++;
    this.negIdx = this.negIdx.slice(n);
    this.negCnt = this.negCnt.slice(n);
    this.compact();
  }

  /**
   * detectReset is Prometheus's DetectReset: whether this histogram, following previous, starts
   * a new counter (a hint decides when set; otherwise any count going down, a bucket lost, a finer
   * schema or a narrower zero bucket).
   */
  detectReset(previous: FloatHistogram): boolean {
    if (this.counterResetHint === COUNTER_RESET) return true;
    if (this.counterResetHint === NOT_COUNTER_RESET) return false;
    if (this.count < previous.count) return true;
    if (this.usesCustomBuckets) {
      if (!previous.usesCustomBuckets) return true;
      if (!customBoundsMatch(this.customValues, previous.customValues)) return this.resetWithMismatchedBounds(previous);
    } else if (previous.usesCustomBuckets) {
      return true;
    }
    if (this.schema > previous.schema) return true;
    if (this.zeroThreshold < previous.zeroThreshold) return true;
    const [prevZero, newThreshold] = previous.zeroCountForLargerThreshold(this.zeroThreshold);
    if (newThreshold !== this.zeroThreshold) return true;
    if (this.zeroCount < prevZero) return true;
    const start = this.usesCustomBuckets ? -Infinity : this.zeroThreshold;
    return (
      bucketsReset(this.posIdx, this.posCnt, this.schema, previous.posIdx, previous.posCnt, previous.schema, start, this.customValues) ||
      bucketsReset(this.negIdx, this.negCnt, this.schema, previous.negIdx, previous.negCnt, previous.schema, start, this.customValues)
    );
  }

  private resetWithMismatchedBounds(previous: FloatHistogram): boolean {
    const bounds = intersectBounds(this.customValues, previous.customValues);
    const cur = new Array<number>(bounds.length + 1).fill(0);
    const prev = new Array<number>(bounds.length + 1).fill(0);
    mapCustom(this.posIdx, this.posCnt, this.customValues, bounds, cur, 1);
    mapCustom(previous.posIdx, previous.posCnt, previous.customValues, bounds, prev, 1);
    for (let i = 0; i < cur.length; i++) if (cur[i]! < prev[i]!) return true;
    return false;
  }

  /** positiveBuckets lists the positive buckets ascending (custom buckets included), with their bounds. */
  positiveBuckets(): Bucket[] {
    const out: Bucket[] = [];
    const custom = this.usesCustomBuckets;
    for (let i = 0; i < this.posIdx.length; i++) {
      const idx = this.posIdx[i]!;
      const lower = bound(idx - 1, this.schema, this.customValues);
      const upper = bound(idx, this.schema, this.customValues);
      out.push({
        lower,
        upper,
        lowerInclusive: custom ? idx === 0 : lower < 0,
        upperInclusive: custom ? true : upper > 0,
        count: this.posCnt[i]!,
        index: idx,
      });
    }
    return out;
  }

  /** negativeBuckets lists the negative buckets from the zero bucket outwards (descending values). */
  negativeBuckets(): Bucket[] {
    const out: Bucket[] = [];
    for (let i = 0; i < this.negIdx.length; i++) {
      const idx = this.negIdx[i]!;
      const lower = -bound(idx, this.schema, this.customValues);
      const upper = -bound(idx - 1, this.schema, this.customValues);
      out.push({ lower, upper, lowerInclusive: lower < 0, upperInclusive: upper > 0, count: this.negCnt[i]!, index: idx });
    }
    return out;
  }

  /** zeroBucket is the zero bucket [-threshold, threshold]. */
  zeroBucket(): Bucket {
    return { lower: -this.zeroThreshold, upper: this.zeroThreshold, lowerInclusive: true, upperInclusive: true, count: this.zeroCount, index: 0 };
  }

  /**
   * allBuckets lists every bucket in ascending order (Prometheus's AllBucketIterator): negative
   * buckets, the zero bucket when populated, positive buckets; a bucket overlapping the zero
   * bucket is clipped at the zero threshold.
   */
  allBuckets(): Bucket[] {
    const out: Bucket[] = [];
    const neg = this.negativeBuckets();
    for (let i = neg.length - 1; i >= 0; i--) out.push(this.clip(neg[i]!));
    if (this.zeroCount > 0) out.push(this.zeroBucket());
    for (const b of this.positiveBuckets()) out.push(this.clip(b));
    return out;
  }

  /** allBucketsReverse lists every bucket in descending order (AllReverseBucketIterator). */
  allBucketsReverse(): Bucket[] {
    const out: Bucket[] = [];
    const pos = this.positiveBuckets();
    for (let i = pos.length - 1; i >= 0; i--) out.push(this.clip(pos[i]!));
    if (this.zeroCount > 0) out.push(this.zeroBucket());
    for (const b of this.negativeBuckets()) out.push(this.clip(b));
    return out;
  }

  private clip(b: Bucket): Bucket {
    const t = this.zeroThreshold;
    if (b.upper < 0 && b.upper > -t) b.upper = -t;
    else if (b.lower > 0 && b.lower < t) b.lower = t;
    return b;
  }

  /** hasOverflow reports whether a count, the sum or a bound is infinite. */
  hasOverflow(): boolean {
    if (!Number.isFinite(this.zeroCount) && !Number.isNaN(this.zeroCount)) return true;
    if (!Number.isFinite(this.count) && !Number.isNaN(this.count)) return true;
    if (!Number.isFinite(this.sum) && !Number.isNaN(this.sum)) return true;
    for (const v of this.posCnt) if (v === Infinity || v === -Infinity) return true;
    for (const v of this.negCnt) if (v === Infinity || v === -Infinity) return true;
    return false;
  }

  /** equals compares two histograms as promqltest does after compacting both: counts within a relative epsilon. */
  equalsApprox(o: FloatHistogram, eq: (a: number, b: number) => boolean, compareHint: boolean): boolean {
    const a = this.copy().compact();
    const b = o.copy().compact();
    if (a.schema !== b.schema || !eq(a.count, b.count) || !eq(a.sum, b.sum)) return false;
    if (a.usesCustomBuckets && !customBoundsMatch(a.customValues, b.customValues)) return false;
    if (a.zeroThreshold !== b.zeroThreshold || !eq(a.zeroCount, b.zeroCount)) return false;
    if (!sameBuckets(a.negIdx, a.negCnt, b.negIdx, b.negCnt, eq) || !sameBuckets(a.posIdx, a.posCnt, b.posIdx, b.posCnt, eq)) return false;
    return !compareHint || a.counterResetHint === b.counterResetHint;
  }

  /** goString renders the histogram as Prometheus's FloatHistogram.String (count_values' label value). */
  goString(): string {
    const bucket = (b: Bucket): string =>
      `${b.lowerInclusive ? '[' : '('}${formatGo(b.lower)},${formatGo(b.upper)}${b.upperInclusive ? ']' : ')'}:${formatGo(b.count, 21)}`;
    let out = `{count:${formatGo(this.count)}, sum:${formatGo(this.sum)}`;
    const neg = this.negativeBuckets().filter((b) => b.count !== 0);
    for (let i = neg.length - 1; i >= 0; i--) out += `, ${bucket(neg[i]!)}`;
    if (this.zeroCount !== 0) out += `, ${bucket(this.zeroBucket())}`;
    for (const b of this.positiveBuckets()) if (b.count !== 0) out += `, ${bucket(b)}`;
    return out + '}';
  }

  /** toString renders the histogram as promqltest's series notation (`{{schema:0 count:2 ...}}`). */
  toString(): string {
    const parts: string[] = [];
    if (this.schema !== 0) parts.push(`schema:${this.schema}`);
    if (this.count !== 0) parts.push(`count:${fmt(this.count)}`);
    if (this.sum !== 0) parts.push(`sum:${fmt(this.sum)}`);
    if (this.zeroCount !== 0) parts.push(`z_bucket:${fmt(this.zeroCount)}`);
    if (this.zeroThreshold !== 0) parts.push(`z_bucket_w:${fmt(this.zeroThreshold)}`);
    if (this.customValues.length > 0) parts.push(`custom_values:[${this.customValues.map(fmt).join(' ')}]`);
    const hints = ['', 'counter_reset_hint:reset', 'counter_reset_hint:not_reset', 'counter_reset_hint:gauge'];
    if (this.counterResetHint !== UNKNOWN_COUNTER_RESET) parts.push(hints[this.counterResetHint]!);
    const dense = (idx: number[], cnt: number[]): [number, number[]] | undefined => {
      if (idx.length === 0) return undefined;
      const first = idx[0]!;
      const out = new Array<number>(idx[idx.length - 1]! - first + 1).fill(0);
      for (let i = 0; i < idx.length; i++) out[idx[i]! - first] = cnt[i]!;
      return [first, out];
    };
    const p = dense(this.posIdx, this.posCnt);
    if (p !== undefined) {
      if (p[0] !== 0) parts.push(`offset:${p[0]}`);
      parts.push(`buckets:[${p[1].map(fmt).join(' ')}]`);
    }
    const n = dense(this.negIdx, this.negCnt);
    if (n !== undefined) {
      if (n[0] !== 0) parts.push(`n_offset:${n[0]}`);
      parts.push(`n_buckets:[${n[1].map(fmt).join(' ')}]`);
    }
    return `{{${parts.join(' ')}}}`;
  }
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sameBuckets(ai: number[], ac: number[], bi: number[], bc: number[], eq: (a: number, b: number) => boolean): boolean {
  if (ai.length !== bi.length) return false;
  for (let i = 0; i < ai.length; i++) if (ai[i] !== bi[i] || !eq(ac[i]!, bc[i]!)) return false;
  return true;
}

function dropEmpty(idx: number[], cnt: number[]): [number[], number[]] {
  let any = false;
  for (const c of cnt) if (c === 0) any = true;
  if (!any) return [idx, cnt];
  const ni: number[] = [];
  const nc: number[] = [];
  for (let i = 0; i < idx.length; i++) {
    if (cnt[i] === 0) continue;
    ni.push(idx[i]!);
    nc.push(cnt[i]!);
  }
  return [ni, nc];
}

/** reduceBuckets merges ascending buckets of originSchema into targetSchema. */
export function reduceBuckets(idx: number[], cnt: number[], originSchema: number, targetSchema: number): [number[], number[]] {
  const ni: number[] = [];
  const nc: number[] = [];
  for (let i = 0; i < idx.length; i++) {
    const t = targetIdx(idx[i]!, originSchema, targetSchema);
    if (ni.length > 0 && ni[ni.length - 1] === t) nc[nc.length - 1]! += cnt[i]!;
    else {
      ni.push(t);
      nc.push(cnt[i]!);
    }
  }
  return [ni, nc];
}

/**
 * mergeBuckets adds sign * b into a (both ascending, same schema). Buckets of b whose absolute
 * upper bound is at most threshold are skipped (they belong to the zero bucket).
 */
function mergeBuckets(ai: number[], ac: number[], bi: number[], bc: number[], sign: number, threshold: number, schema = 0): [number[], number[]] {
  const ni: number[] = [];
  const nc: number[] = [];
  let i = 0;
  let j = 0;
  while (j < bi.length && threshold > 0 && boundExponential(bi[j]!, schema) <= threshold) j++;
  while (i < ai.length || j < bi.length) {
    if (j >= bi.length || (i < ai.length && ai[i]! < bi[j]!)) {
      ni.push(ai[i]!);
      nc.push(ac[i]!);
      i++;
    } else if (i >= ai.length || bi[j]! < ai[i]!) {
      ni.push(bi[j]!);
      nc.push(sign * bc[j]!);
      j++;
    } else {
      ni.push(ai[i]!);
      nc.push(ac[i]! + sign * bc[j]!);
      i++;
      j++;
    }
  }
  return [ni, nc];
}

/** intersectBounds is the sorted intersection of two custom bound lists. */
export function intersectBounds(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]!);
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return out;
}

/** mapCustom adds sign * each custom bucket into target, the bucket of the intersected bounds that holds it. */
function mapCustom(idx: number[], cnt: number[], boundsFrom: readonly number[], bounds: readonly number[], target: number[], sign: number): void {
  let k = 0;
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i]!;
    let t = target.length - 1;
    if (src < boundsFrom.length) {
      const b = boundsFrom[src]!;
      while (k < bounds.length) {
        if (bounds[k]! >= b) {
          t = k;
          break;
        }
        k++;
      }
    }
    target[t]! += sign * cnt[i]!;
  }
}

/**
 * bucketsReset compares one side's buckets of the current and previous histogram (previous
 * merged to the current schema, buckets at or below start skipped): a populated previous bucket
 * missing now, or a count that went down, is a reset.
 */
function bucketsReset(
  ci: number[],
  cc: number[],
  cSchema: number,
  pi: number[],
  pc: number[],
  pSchema: number,
  start: number,
  customValues: readonly number[],
): boolean {
  const skip = (idx: number[], cnt: number[], schema: number): [number[], number[]] => {
    let [i2, c2] = schema !== cSchema && cSchema !== CUSTOM_BUCKETS_SCHEMA ? reduceBuckets(idx, cnt, schema, cSchema) : [idx, cnt];
    if (start > 0 && cSchema !== CUSTOM_BUCKETS_SCHEMA) {
      let k = 0;
      while (k < i2.length && bound(i2[k]!, cSchema, customValues) <= start) k++;
      if (k > 0) {
        i2 = i2.slice(k);
        c2 = c2.slice(k);
      }
    }
    return [i2, c2];
  };
  const [a, ac] = skip(ci, cc, cSchema);
  const [b, bc] = skip(pi, pc, pSchema);
  let i = 0;
  for (let j = 0; j < b.length; j++) {
    while (i < a.length && a[i]! < b[j]!) i++;
    if (i < a.length && a[i] === b[j]) {
      if (ac[i]! < bc[j]!) return true;
    } else if (bc[j] !== 0) {
      return true;
    }
  }
  return false;
}

/** QuantileResult is a quantile or fraction with the info annotation Prometheus would add, if any. */
export interface HistogramEstimate {
  value: number;
  /** info names the annotation: 'quantile-nan-result', 'quantile-nan-skew' or 'fraction-nans'. */
  info?: 'quantile-nan-result' | 'quantile-nan-skew' | 'fraction-nans';
}

/** histogramQuantile is Prometheus's HistogramQuantile for native histograms. */
export function histogramQuantile(q: number, h: FloatHistogram): HistogramEstimate {
  if (q < 0) return { value: -Infinity };
  if (q > 1) return { value: Infinity };
  if (h.count === 0 || Number.isNaN(q)) return { value: NaN };
  const forward = Number.isNaN(h.sum) || q < 0.5;
  const buckets = forward ? h.allBuckets() : h.allBucketsReverse();
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let k = 0;
  let bucket: Bucket | undefined;
  for (; k < buckets.length; k++) {
    bucket = buckets[k]!;
    if (bucket.count === 0) continue;
    count += bucket.count;
    if (count >= rank) break;
  }
  if (bucket === undefined) bucket = { lower: 0, upper: 0, lowerInclusive: false, upperInclusive: false, count: 0, index: 0 };
  else bucket = { ...bucket };
  if (!h.usesCustomBuckets && bucket.lower < 0 && bucket.upper > 0) {
    if (h.negIdx.length === 0 && h.posIdx.length > 0) bucket.lower = 0;
    else if (h.posIdx.length === 0 && h.negIdx.length > 0) bucket.upper = 0;
  } else if (h.usesCustomBuckets) {
    if (bucket.lower === -Infinity) {
      if (bucket.upper <= 0) return { value: bucket.upper };
      bucket.lower = 0;
    } else if (bucket.upper === Infinity) {
      return { value: bucket.lower };
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) {
    if (Number.isNaN(h.sum)) return { value: NaN, info: 'quantile-nan-result' };
    return { value: bucket.upper };
  }
  if (forward) rank -= count - bucket.count;
  else rank = count - rank;
  let info: HistogramEstimate['info'];
  if (Number.isNaN(h.sum)) {
    for (k++; k < buckets.length; k++) count += buckets[k]!.count;
    if (count < h.count) info = 'quantile-nan-skew';
  }
  const fraction = rank / bucket.count;
  if (h.usesCustomBuckets || (bucket.lower <= 0 && bucket.upper >= 0)) {
    return { value: bucket.lower + (bucket.upper - bucket.lower) * fraction, info };
  }
  const logLower = goLog2(Math.abs(bucket.lower));
  const logUpper = goLog2(Math.abs(bucket.upper));
  if (bucket.lower > 0) return { value: goExp2(logLower + (logUpper - logLower) * fraction), info };
  return { value: -goExp2(logUpper + (logLower - logUpper) * (1 - fraction)), info };
}

/** fractionBelow is the share of a bucket's width at or below v (linear or on a log scale). */
function fractionBelow(b: Bucket, v: number, linear: boolean): number {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  const logLower = goLog2(Math.abs(b.lower));
  const logUpper = goLog2(Math.abs(b.upper));
  const logV = goLog2(Math.abs(v));
  if (v > 0) return (logV - logLower) / (logUpper - logLower);
  return 1 - (logV - logUpper) / (logLower - logUpper);
}

/** histogramFraction is Prometheus's HistogramFraction: the estimated share of observations in [lower, upper]. */
export function histogramFraction(lower: number, upper: number, h: FloatHistogram): HistogramEstimate {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return { value: NaN };
  if (lower >= upper) return { value: 0 };
  let count = 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  const buckets = h.allBuckets();
  let k = 0;
  for (; k < buckets.length; k++) {
    const b = { ...buckets[k]! };
    count += b.count;
    let zero = false;
    if (b.lower <= 0 && b.upper >= 0) {
      zero = true;
      if (h.negIdx.length === 0 && h.posIdx.length > 0) b.lower = 0;
      else if (h.posIdx.length === 0 && h.negIdx.length > 0) b.upper = 0;
    }
    const linear = h.usesCustomBuckets || zero;
    const interpolate = (v: number): number => {
      if (linear) {
        if (b.lower === -Infinity) return b.count;
        return rank + b.count * fractionBelow(b, v, true);
      }
      return rank + b.count * fractionBelow(b, v, false);
    };
    if (!lowerSet && b.lower >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && b.lower >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && b.lower < lower && b.upper > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && b.lower < upper && b.upper > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank += b.count;
  }
  let info: HistogramEstimate['info'];
  if (Number.isNaN(h.sum)) {
    for (k++; k < buckets.length; k++) count += buckets[k]!.count;
    if (count < h.count) info = 'fraction-nans';
  } else {
    count = h.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return { value: (upperRank - lowerRank) / h.count, info };
}

/**
 * histogramStdVar is Prometheus's estimate of the variance of the observations: each populated
 * bucket's observations taken at its midpoint (arithmetic mean for custom buckets, 0 in the zero
 * bucket, geometric mean for exponential buckets), around the mean sum/count.
 */
export function histogramStdVar(h: FloatHistogram): number {
  const mean = h.sum / h.count;
  let variance = 0;
  let comp = 0;
  for (const b of h.allBuckets()) {
    if (b.count === 0) continue;
    let val: number;
    if (h.usesCustomBuckets) val = (b.upper + b.lower) / 2;
    else if (b.lower <= 0 && b.upper >= 0) val = 0;
    else {
      val = Math.sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    const delta = val - mean;
    [variance, comp] = kahanSumInc(b.count * delta * delta, variance, comp);
  }
  return (variance + comp) / h.count;
}

/**
 * KahanHistogramSum adds histograms with Kahan-Neumaier compensation on every count, the sum and
 * each bucket (Prometheus's KahanAdd): the compensation terms follow the sum's layout through
 * schema reductions; where the zero bucket must widen, the terms are folded into the sum first.
 */
export class KahanHistogramSum {
  /** sum is the running sum (compensation not applied). */
  sum: FloatHistogram;
  private cCount = 0;
  private cSum = 0;
  private cZero = 0;
  private cPos = new Map<number, number>();
  private cNeg = new Map<number, number>();

  constructor(first: FloatHistogram) {
    this.sum = first.copy();
  }

  /** add adds h; throws HistogramOpError on a mix of exponential and custom buckets. */
  add(h: FloatHistogram): { counterResetCollision: boolean; nhcbBoundsReconciled: boolean } {
    const s = this.sum;
    if (s.usesCustomBuckets !== h.usesCustomBuckets) throw new HistogramOpError(INCOMPATIBLE_SCHEMA_MESSAGE);
    const layoutChanges =
      (s.usesCustomBuckets && !customBoundsMatch(s.customValues, h.customValues)) || (!s.usesCustomBuckets && s.zeroThreshold !== h.zeroThreshold);
    if (layoutChanges) {
      this.fold();
      return s.add(h);
    }
    if (!s.usesCustomBuckets && h.schema < s.schema) {
      this.cPos = reduceMap(this.cPos, s.schema, h.schema);
      this.cNeg = reduceMap(this.cNeg, s.schema, h.schema);
    }
    // The plain add reconciles layouts and hints; the compensation is then redone on top of it.
    const before = s.copy();
    const r = s.add(h);
    [s.count, this.cCount] = kahanSumInc(h.count, before.count, this.cCount);
    [s.sum, this.cSum] = kahanSumInc(h.sum, before.sum, this.cSum);
    [s.zeroCount, this.cZero] = kahanSumInc(h.zeroCount, before.zeroCount, this.cZero);
    const redo = (idx: number[], cnt: number[], bIdx: number[], bCnt: number[], bSchema: number, comp: Map<number, number>, prevIdx: number[], prevCnt: number[]): void => {
      let hi = bIdx;
      let hc = bCnt;
      if (bSchema > s.schema && !s.usesCustomBuckets) [hi, hc] = reduceBuckets(bIdx, bCnt, bSchema, s.schema);
      const prev = new Map<number, number>();
      for (let k = 0; k < prevIdx.length; k++) prev.set(prevIdx[k]!, prevCnt[k]!);
      const inc = new Map<number, number>();
      for (let k = 0; k < hi.length; k++) inc.set(hi[k]!, (inc.get(hi[k]!) ?? 0) + hc[k]!);
      for (let k = 0; k < idx.length; k++) {
        const x = idx[k]!;
        const a = inc.get(x);
        const p = prev.get(x);
        if (a === undefined || p === undefined) continue;
        const [t, c] = kahanSumInc(a, p, comp.get(x) ?? 0);
        cnt[k] = t;
        comp.set(x, c);
      }
    };
    const prevPos = before.schema === s.schema ? [before.posIdx, before.posCnt] : reduceBuckets(before.posIdx, before.posCnt, before.schema, s.schema);
    const prevNeg = before.schema === s.schema ? [before.negIdx, before.negCnt] : reduceBuckets(before.negIdx, before.negCnt, before.schema, s.schema);
    redo(s.posIdx, s.posCnt, h.posIdx, h.posCnt, h.schema, this.cPos, prevPos[0]!, prevPos[1]!);
    redo(s.negIdx, s.negCnt, h.negIdx, h.negCnt, h.schema, this.cNeg, prevNeg[0]!, prevNeg[1]!);
    return r;
  }

  /** fold applies the compensation terms to the sum and clears them. */
  private fold(): void {
    const s = this.sum;
    s.count += this.cCount;
    s.sum += this.cSum;
    s.zeroCount += this.cZero;
    for (let k = 0; k < s.posIdx.length; k++) s.posCnt[k]! += this.cPos.get(s.posIdx[k]!) ?? 0;
    for (let k = 0; k < s.negIdx.length; k++) s.negCnt[k]! += this.cNeg.get(s.negIdx[k]!) ?? 0;
    this.cCount = this.cSum = this.cZero = 0;
    this.cPos.clear();
    this.cNeg.clear();
  }

  /** clone is an independent copy of the running sum and its compensation. */
  clone(): KahanHistogramSum {
    const k = new KahanHistogramSum(this.sum);
    k.cCount = this.cCount;
    k.cSum = this.cSum;
    k.cZero = this.cZero;
    k.cPos = new Map(this.cPos);
    k.cNeg = new Map(this.cNeg);
    return k;
  }

  /** scale multiplies (divide: divides) the running sum and its compensation terms by factor (> 0), in place. */
  scale(factor: number, divide = false): this {
    const f = (v: number): number => (divide ? v / factor : v * factor);
    if (divide) this.sum.div(factor);
    else this.sum.mul(factor);
    this.cCount = f(this.cCount);
    this.cSum = f(this.cSum);
    this.cZero = f(this.cZero);
    for (const [k, v] of this.cPos) this.cPos.set(k, f(v));
    for (const [k, v] of this.cNeg) this.cNeg.set(k, f(v));
    return this;
  }

  /** result is the compensated sum (a new histogram). */
  result(): FloatHistogram {
    const keep = this.sum.copy();
    this.fold();
    const out = this.sum;
    this.sum = keep;
    return out;
  }
}

function reduceMap(m: Map<number, number>, from: number, to: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of m) {
    const t = targetIdx(k, from, to);
    out.set(t, (out.get(t) ?? 0) + v);
  }
  return out;
}

/**
 * HistogramMean averages histograms as Prometheus's avg and avg_over_time do: a compensated sum
 * divided by the count, switching to an incremental mean once the sum would overflow.
 */
export class HistogramMean {
  private acc: KahanHistogramSum;
  private mean: KahanHistogramSum | undefined;
  private n = 1;

  constructor(first: FloatHistogram) {
    this.acc = new KahanHistogramSum(first);
  }

  /** add adds h; throws HistogramOpError on a mix of exponential and custom buckets. */
  add(h: FloatHistogram): { counterResetCollision: boolean; nhcbBoundsReconciled: boolean } {
    this.n++;
    const n = this.n;
    if (this.mean === undefined) {
      const trial = this.acc.clone();
      const r = trial.add(h);
      if (!trial.sum.hasOverflow()) {
        this.acc = trial;
        return r;
      }
      this.mean = this.acc.clone().scale(n - 1, true);
    }
    const q = (n - 1) / n;
    this.mean.scale(q);
    return this.mean.add(h.copy().div(n));
  }

  result(): FloatHistogram {
    return this.mean !== undefined ? this.mean.result() : this.acc.result().div(this.n);
  }
}

/**
 * trimBuckets is Prometheus's TrimBuckets (the `</` and `>/` operators): it keeps the
 * observations at or below rhs (upper trim) or at or above it (lower trim), splitting the bucket
 * rhs falls in by interpolation (linear in custom buckets and the zero bucket, on a log scale in
 * exponential buckets) and re-estimating the sum from bucket midpoints. Works on a copy.
 */
export function trimBuckets(input: FloatHistogram, rhs: number, upperTrim: boolean): FloatHistogram {
  const h = input.copy();
  const custom = h.usesCustomBuckets;
  let count = 0;
  let sum = 0;
  let trimmed = false;
  let hasPositive = false;
  let hasNegative = false;
  const side = (buckets: Bucket[], cnt: number[], positive: boolean): void => {
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (b.count === 0) continue;
      if (positive) hasPositive = true;
      else hasNegative = true;
      const whole = upperTrim ? b.upper <= rhs : b.lower >= rhs;
      const part = upperTrim ? b.lower < rhs : b.upper > rhs;
      if (whole) {
        count += b.count;
        sum += trimMidpoint(b.lower, b.upper, positive, custom) * b.count;
      } else if (part) {
        const [keep, mid] = bucketTrim(b, rhs, upperTrim, positive, custom);
        count += keep;
        sum += mid * keep;
        if (cnt[i] !== keep) {
          cnt[i] = keep;
          trimmed = true;
        }
      } else {
        cnt[i] = 0;
        trimmed = true;
      }
    }
  };
  side(h.positiveBuckets(), h.posCnt, true);
  side(h.negativeBuckets(), h.negCnt, false);
  if (h.zeroCount > 0) {
    const [keep, mid] = zeroBucketTrim(h.zeroBucket(), rhs, hasNegative, hasPositive, upperTrim);
    if (h.zeroCount !== keep) {
      h.zeroCount = keep;
      trimmed = true;
    }
    sum += mid * keep;
    count += keep;
  }
  if (trimmed) {
    h.count = count;
    h.sum = sum;
    h.compact();
  }
  return h;
}

function trimMidpoint(lower: number, upper: number, positive: boolean, linear: boolean): number {
  const lowerInf = lower === Infinity || lower === -Infinity;
  const upperInf = upper === Infinity || upper === -Infinity;
  if (lowerInf) {
    if (upperInf) return 0;
    return upper > 0 ? upper / 2 : upper;
  }
  if (upperInf) return lower;
  if (linear) return (lower + upper) / 2;
  const g = Math.sqrt(Math.abs(lower * upper));
  return positive ? g : -g;
}

function infiniteBucketTrim(upperTrim: boolean, b: Bucket, rhs: number): [number, number] {
  const zeroIfInf = (x: number): number => (x === Infinity || x === -Infinity ? 0 : x);
  if (b.lower === -Infinity) {
    if (upperTrim) {
      if (rhs >= b.upper) return [b.count, 0];
      if (rhs > 0 && b.upper > 0 && b.upper !== Infinity) return [(b.count * rhs) / b.upper, rhs / 2];
      if (b.upper <= 0) return [b.count, rhs];
      return [0, zeroIfInf(b.upper)];
    }
    if (rhs <= b.lower) return [b.count, 0];
    if (rhs >= 0 && b.upper > rhs && b.upper !== Infinity) return [b.count * (1 - rhs / b.upper), (rhs + b.upper) / 2];
    return [0, zeroIfInf(b.upper)];
  }
  if (upperTrim) return [0, zeroIfInf(b.lower)];
  if (rhs >= b.lower) return [b.count, rhs];
  return [0, zeroIfInf(b.lower)];
}

function bucketTrim(b: Bucket, rhs: number, upperTrim: boolean, positive: boolean, custom: boolean): [number, number] {
  if (b.lower === -Infinity || b.upper === Infinity) return infiniteBucketTrim(upperTrim, b, rhs);
  let under: number;
  if (rhs <= b.lower) under = 0;
  else if (rhs >= b.upper) under = b.count;
  else under = b.count * fractionBelow(b, rhs, custom);
  if (upperTrim) return [under, trimMidpoint(b.lower, rhs, positive, custom)];
  return [b.count - under, trimMidpoint(rhs, b.upper, positive, custom)];
}

function zeroBucketTrim(z: Bucket, rhs: number, hasNegative: boolean, hasPositive: boolean, upperTrim: boolean): [number, number] {
  let lower = z.lower;
  let upper = z.upper;
  if (hasNegative && !hasPositive) upper = 0;
  if (hasPositive && !hasNegative) lower = 0;
  if (upperTrim) {
    if (rhs <= lower) return [0, 0];
    if (rhs >= upper) return [z.count, (lower + upper) / 2];
    return [(z.count * (rhs - lower)) / (upper - lower), (lower + rhs) / 2];
  }
  if (rhs <= lower) return [z.count, (lower + upper) / 2];
  if (rhs >= upper) return [0, 0];
  return [(z.count * (upper - rhs)) / (upper - lower), (rhs + upper) / 2];
}
