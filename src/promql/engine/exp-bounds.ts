// exp-bounds.ts computes the fractions in [0.5, 1) of the exponential bucket
// boundaries of schema 8: entry i is 2^(i/256) / 2, correctly rounded to a
// float64. Schema s < 8 uses every 2^(8-s)-th entry. The values are computed
// once with integer arithmetic at FRACTION_BITS of precision (far beyond the
// 53 bits kept), so they do not depend on the platform's Math.pow.
//
// Prometheus does not compute its bounds: it keeps a constant table per schema
// (`exponentialBounds`), and 341 of its 511 entries are off the correctly
// rounded value: 339 by one to four units in the last place below it, two by
// one unit above.
// Bucket bounds are printed in query answers and drive histogram_quantile and
// histogram_fraction, so SCHEMA_FRACTIONS applies those offsets: answers equal
// Prometheus's to the last bit (checked against a Prometheus 3 scraping its
// own native histograms in test/peer/native-histograms-prometheus3-scrape).

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

/**
 * PROMETHEUS_OFFSETS[s][i] is 4 + how many units in the last place (2^-53 in
 * [0.5, 1)) Prometheus's table entry i of schema s lies above the correctly
 * rounded 2^(i/2^s) / 2.
 */
const PROMETHEUS_OFFSETS: readonly string[] = [
  '4',
  '43',
  '4433',
  '44443433',
  '4444444433433232',
  '44434444434443433332433232213222',
  '4444443344444444443344444434443333333322443333233322221133232322',
  '44434344434333334343434343434343444332324343444444443243434332333332323333322222434332323233223231322121222110103232213221322021',
  '4444443444344444443244333333333344344434433344334433453344334433444444333322342344344434444344444443454434224433433344343422333334343322332334333333332323222322443344343322342233223433232233233312332322122212222222111100120133233222231133222312332222012211',
];

/** SCHEMA_FRACTIONS[s][i] is the boundary fraction of bucket offset i at schema s (0..8), as Prometheus's table has it. */
export const SCHEMA_FRACTIONS: ReadonlyArray<readonly number[]> = PROMETHEUS_OFFSETS.map((offsets, schema) =>
  [...offsets].map((d, i) => SCHEMA8_FRACTIONS[i << (8 - schema)]! + (Number(d) - 4) * 2 ** -53),
);
