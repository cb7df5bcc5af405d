// histogram.ts computes quantiles and fractions over classic histogram
// buckets (`le` series), with Prometheus's coalescing, precision correction
// and forced monotonicity.

/** Bucket is one classic bucket: its upper bound and cumulative count. */
export interface Bucket {
  upperBound: number;
  count: number;
}

function sortAndCoalesce(buckets: Bucket[]): Bucket[] {
  const sorted = buckets.map((b) => ({ ...b })).sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  const out: Bucket[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else out.push(b);
  }
  return out;
}

function correctPrecisionErrors(buckets: Bucket[], tolerance: number): boolean {
  let fixed = false;
  let prev = buckets[0].count;
  for (let i = 1; i < buckets.length; i++) {
    const curr = buckets[i].count;
    const delta = Math.abs(curr - prev);
    if (delta === 0) continue;
    if (delta / curr <= tolerance) {
      buckets[i].count = prev;
      fixed = true;
    } else prev = curr;
  }
  return fixed;
}

function ensureMonotonic(buckets: Bucket[]): boolean {
  let forced = false;
  let max = buckets[0].count;
  for (let i = 1; i < buckets.length; i++) {
    if (buckets[i].count > max) max = buckets[i].count;
    else if (buckets[i].count < max) {
      buckets[i].count = max;
      forced = true;
    }
  }
  return forced;
}

/** bucketQuantile is Prometheus's BucketQuantile: [value, forcedMonotonicity]. */
export function bucketQuantile(q: number, input: Bucket[]): [number, boolean] {
  if (Number.isNaN(q)) return [NaN, false];
  if (q < 0) return [-Infinity, false];
  if (q > 1) return [Infinity, false];
  let buckets = sortAndCoalesce(input);
  if (buckets.length === 0 || buckets[buckets.length - 1].upperBound !== Infinity) return [NaN, false];
  correctPrecisionErrors(buckets, 1e-12);
  const forced = ensureMonotonic(buckets);
  if (buckets.length < 2) return [NaN, false];
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return [NaN, false];
  let rank = q * observations;
  let b = 0;
  {
    // first index in [0, len-1) with count >= rank, else len-1
    let lo = 0;
    let hi = buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (buckets[mid].count >= rank) hi = mid;
      else lo = mid + 1;
    }
    b = lo;
  }
  if (b === buckets.length - 1) return [buckets[buckets.length - 2].upperBound, forced];
  if (b === 0 && buckets[0].upperBound <= 0) return [buckets[0].upperBound, forced];
  let bucketStart = 0;
  const bucketEnd = buckets[b].upperBound;
  let count = buckets[b].count;
  if (b > 0) {
    bucketStart = buckets[b - 1].upperBound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  buckets = [];
  return [bucketStart + (bucketEnd - bucketStart) * (rank / count), forced];
}

/** bucketFraction is Prometheus's BucketFraction: the share of observations in [lower, upper]. */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  const buckets = sortAndCoalesce(input);
  if (buckets.length === 0 || buckets[buckets.length - 1].upperBound !== Infinity) return NaN;
  const count = buckets[buckets.length - 1].count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    const ub = b.upperBound;
    const lb = i > 0 ? buckets[i - 1].upperBound : ub > 0 ? 0 : -Infinity;
    const interpolate = (v: number): number => {
      if (lb === -Infinity) return b.count;
      if (ub === Infinity) return rank;
      return rank + ((b.count - rank) * (v - lb)) / (ub - lb);
    };
    if (!lowerSet && lb >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lb >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lb < lower && ub > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lb < upper && ub > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}
