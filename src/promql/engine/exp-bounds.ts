// exp-bounds.ts computes the fractions in [0.5, 1) of the exponential bucket
// boundaries of schema 8: entry i is 2^(i/256) / 2, correctly rounded to a
// float64. Schema s < 8 uses every 2^(8-s)-th entry. The values are computed
// once with integer arithmetic at FRACTION_BITS of precision (far beyond the
// 53 bits kept), so they do not depend on the platform's Math.pow. Prometheus
// keeps a constant table whose last bit differs for some entries; answers
// therefore agree with it to within one unit in the last place of a bucket
// bound, well inside the tolerance its own tests compare with.

/** FRACTION_BITS is the fixed-point precision of the computation. */
const FRACTION_BITS = 256n;

/** isqrt is floor(sqrt(n)) for a non-negative bigint (Newton's iteration from above). */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << (BigInt(n.toString(2).length) / 2n + 1n);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** toFraction rounds a fixed-point value v / 2^FRACTION_BITS in [0.5, 1) to the nearest float64 (ties to even). */
function toFraction(v: bigint): number {
  // A float64 in [0.5, 1) is m / 2^53 with 2^52 <= m < 2^53.
  const shift = FRACTION_BITS - 53n;
  let m = v >> shift;
  const rest = v - (m << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  return Number(m) / 2 ** 53;
}

/** schema8Fractions computes the 256 fractions: 2^(1/256) by eight square roots, then its powers. */
function schema8Fractions(): number[] {
  const one = 1n << FRACTION_BITS;
  // Each of the 255 products below truncates by less than 2^-256: far below the 53 bits kept.
  let root = 2n * one;
  for (let k = 0; k < 8; k++) root = isqrt(root << FRACTION_BITS);
  const out: number[] = [];
  let value = one >> 1n;
  for (let i = 0; i < 256; i++) {
    out.push(toFraction(value));
    value = (value * root) >> FRACTION_BITS;
  }
  return out;
}

/** SCHEMA8_FRACTIONS[i] is the boundary fraction of bucket offset i at schema 8. */
export const SCHEMA8_FRACTIONS: readonly number[] = schema8Fractions();
