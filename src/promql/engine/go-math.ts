// go-math.ts computes log2 and 2^x step for step as Go's math package does on
// amd64 (math.Log2 over the assembly Log, math.Exp2 in Go), the functions
// Prometheus's histogram_quantile and histogram_fraction interpolate with on
// exponential buckets. JavaScript's Math.log2 and `2 ** x` are accurate too,
// but round differently in the last bit for some inputs, and query answers are
// compared with Prometheus's to the bit (Grafana shows them side by side).
// Every operation below is one IEEE 754 double operation in the order Go's
// code does them (Go does not fuse multiply-adds on amd64).

const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.66666666666673513e-1;
const L2 = 3.999999999940941908e-1;
const L3 = 2.857142874366239149e-1;
const L4 = 2.222219843214978396e-1;
const L5 = 1.818357216161805012e-1;
const L6 = 1.531383769920937332e-1;
const L7 = 1.479819860511658591e-1;
const P1 = 1.66666666666666657415e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.6533902205465251539e-6;
const P5 = 4.13813679705723846039e-8;
const HALF_SQRT2 = Math.SQRT1_2;

/** ldexp is frac * 2^exp with a single rounding (Go's math.Ldexp for the values used here). */
export function ldexp(frac: number, exp: number): number {
  if (exp > 1023) return frac * 2 ** 1023 * 2 ** (exp - 1023);
  if (exp < -1022) return frac * 2 ** -1022 * 2 ** (exp + 1022);
  return frac * 2 ** exp;
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * frexp splits a finite non-zero x into a fraction in [0.5, 1) and a power of
 * two (Go's math.Frexp, subnormals included).
 */
export function frexp(x: number): { frac: number; exp: number } {
  if (x === 0 || !Number.isFinite(x)) return { frac: x, exp: 0 };
  let shift = 0;
  if (Math.abs(x) < 2.2250738585072014e-308) {
    x *= 2 ** 52;
    shift = -52;
  }
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const exp = ((hi >>> 20) & 0x7ff) - 1022 + shift;
  scratch.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return { frac: scratch.getFloat64(0), exp };
}

/**
 * goLog is Go's amd64 math.Log (its assembly): the fraction and exponent are
 * taken from the bits as they are, subnormals included.
 */
export function goLog(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  let ki = ((hi >>> 20) & 0x7ff) - 0x3fe;
  scratch.setUint32(0, (hi & 0x000fffff) | (0x3fe << 20));
  let f1 = scratch.getFloat64(0);
  if (f1 < HALF_SQRT2) {
    f1 *= 2;
    ki--;
  }
  const f = f1 - 1;
  const k = ki;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const r = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - (hfsq - (s * (hfsq + r) + k * LN2_LO) - f);
}

/** goLog2 is Go's math.Log2: exact for powers of two, else Log(frac)/ln 2 + exp. */
export function goLog2(x: number): number {
  const { frac, exp } = frexp(x);
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * Math.LOG2E + exp;
}

/** goExp2 is Go's math.Exp2 (argument reduction to |r| <= ln(2)/2, then expmulti). */
export function goExp2(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x > 1.0239999999999999e3) return Infinity;
  if (x < -1.074e3) return 0;
  const k = x > 0 ? Math.trunc(x + 0.5) : x < 0 ? Math.trunc(x - 0.5) : 0;
  const t = x - k;
  const hi = t * LN2_HI;
  const lo = -t * LN2_LO;
  const r = hi - lo;
  const tt = r * r;
  const c = r - tt * (P1 + tt * (P2 + tt * (P3 + tt * (P4 + tt * P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  return ldexp(y, k);
}
