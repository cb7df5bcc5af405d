// go-rand.ts is Go's math/rand generator (rand.New(rand.NewSource(seed))),
// value for value: dskit's ShuffleShard draws a tenant's instances from it,
// so the same seed must give the same draws here for a shard to hold the
// instances Mimir would pick.
//
// The source is an additive lagged Fibonacci generator over 64-bit words
// (algorithm by DP Mitchell and JA Reeds): a register of RNG_LEN words, each
// draw x[n] = x[n-RNG_LEN] + x[n-RNG_TAP] (mod 2^64). Seeding fills the
// register from a Lehmer generator (seedrand) XORed with the "cooked"
// table, which Go's gen_cooked.go defines as the register of a generator
// seeded with 1 (its srand) after 7.8e12 draws. That many draws are not
// run here: the register is jumped ahead by polynomial arithmetic (the
// n-th term of the recurrence is x^n mod its characteristic polynomial
// applied to the first terms), computed once, on first use (some 50 to 150
// ms of CPU).

/** RNG_LEN and RNG_TAP are Go's rngLen and rngTap: the register's length and the second lag. */
const RNG_LEN = 607;
const RNG_TAP = 273;
/** INT32_MAX is Go's int32max, the modulus of seedrand. */
const INT32_MAX = 2147483647;
/** COOKED_DRAWS is how many draws gen_cooked.go runs before it prints the register. */
export const COOKED_DRAWS = 7.8e12;

/** seedrand is Go's seed generator: x[n+1] = 48271 * x[n] mod (2^31 - 1), by Schrage's method. */
function seedrand(x: number): number {
  const hi = Math.trunc(x / 44488);
  const lo = x % 44488;
  let next = 48271 * lo - 3399 * hi;
  if (next < 0) next += INT32_MAX;
  return next;
}

/** Words are 64-bit values as two arrays of 32-bit halves. */
export interface Words {
  hi: Uint32Array;
  lo: Uint32Array;
}

/**
 * genCookedSeed is the register gen_cooked.go's srand(1) leaves (its own shifts, 20 and 10,
 * not Seed's), with its feed and tap at RNG_LEN - RNG_TAP and 0 as Seed leaves them.
 */
function genCookedSeed(): Words {
  const out: Words = { hi: new Uint32Array(RNG_LEN), lo: new Uint32Array(RNG_LEN) };
  seedWords(1, (i, a, b, x) => {
    // (a << 20) ^ (b << 10) ^ x: a and b are below 2^31, so the value fits in 51 bits.
    out.hi[i] = ((a >>> 12) ^ (b >>> 22)) >>> 0;
    out.lo[i] = ((a << 20) ^ (b << 10) ^ x) >>> 0;
  });
  return out;
}

/**
 * seedWords is the seeding loop both Seed and gen_cooked.go run from x: 20 seedrand values
 * dropped, then for each of the RNG_LEN words the next three (a, b, x), which each combine
 * with their own shifts.
 */
function seedWords(x: number, word: (i: number, a: number, b: number, x: number) => void): void {
  for (let i = -20; i < RNG_LEN; i++) {
    x = seedrand(x);
    if (i < 0) continue;
    const a = x;
    x = seedrand(x);
    const b = x;
    x = seedrand(x);
    word(i, a, b, x);
  }
}

// Jumping ahead. Index the values the register ever holds as z[0], z[1], ...: z[0..606] the
// seeded register and z[m + 607] the m-th draw. A draw adds the word written 607 draws ago to
// the one written 273 draws ago, so z[j + 607] = z[j + 334] + z[j], and z[j] = sum c_i z[i] for
// x^j mod (x^607 - x^334 - 1) = sum c_i x^i. Coefficients are kept as four 16-bit limbs (exact
// in doubles: sums of limb products stay far below 2^53), arithmetic is mod 2^64.

/** LIMBS per 64-bit coefficient. */
const LIMBS = 4;
const LIMB = 65536;
/** LAG_DIFF is RNG_LEN - RNG_TAP: z[j + 607] = z[j + LAG_DIFF] + z[j]. */
const LAG_DIFF = RNG_LEN - RNG_TAP;

/** mulAcc adds a * b (limbs at ai, bi) to the unnormalised limbs of acc at ci, mod 2^64. */
function mulAcc(acc: Float64Array, ci: number, a: Float64Array, ai: number, b: Float64Array, bi: number): void {
  const a0 = a[ai]!;
  const a1 = a[ai + 1]!;
  const a2 = a[ai + 2]!;
  const a3 = a[ai + 3]!;
  const b0 = b[bi]!;
  const b1 = b[bi + 1]!;
  const b2 = b[bi + 2]!;
  const b3 = b[bi + 3]!;
  acc[ci] = acc[ci]! + a0 * b0;
  acc[ci + 1] = acc[ci + 1]! + a0 * b1 + a1 * b0;
  acc[ci + 2] = acc[ci + 2]! + a0 * b2 + a1 * b1 + a2 * b0;
  acc[ci + 3] = acc[ci + 3]! + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
}

/** normalize carries n unnormalised (non-negative) coefficients of acc into 16-bit limbs, mod 2^64. */
function normalize(acc: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * LIMBS);
  for (let k = 0; k < n; k++) {
    let carry = 0;
    for (let l = 0; l < LIMBS; l++) {
      const v = acc[k * LIMBS + l]! + carry;
      const limb = v % LIMB;
      out[k * LIMBS + l] = limb;
      carry = (v - limb) / LIMB;
    }
  }
  return out;
}

/** reduce folds the coefficients of degree RNG_LEN and above of acc (degree < top) with x^607 = x^334 + 1. */
function reduce(acc: Float64Array, top: number): void {
  for (let k = top - 1; k >= RNG_LEN; k--) {
    for (let l = 0; l < LIMBS; l++) {
      const v = acc[k * LIMBS + l]!;
      if (v === 0) continue;
      acc[(k - RNG_LEN) * LIMBS + l] += v;
      acc[(k - RNG_TAP) * LIMBS + l] += v;
    }
  }
}

/** squareMod is p^2 mod (x^607 - x^334 - 1): each product of two different coefficients once, doubled. */
function squareMod(p: Float64Array): Float64Array {
  const acc = new Float64Array((2 * RNG_LEN - 1) * LIMBS);
  for (let i = 0; i < RNG_LEN; i++) {
    const ai = i * LIMBS;
    if (p[ai] === 0 && p[ai + 1] === 0 && p[ai + 2] === 0 && p[ai + 3] === 0) continue;
    for (let j = i + 1; j < RNG_LEN; j++) mulAcc(acc, (i + j) * LIMBS, p, ai, p, j * LIMBS);
  }
  for (let k = 0; k < acc.length; k++) acc[k] = 2 * acc[k]!;
  for (let i = 0; i < RNG_LEN; i++) mulAcc(acc, 2 * i * LIMBS, p, i * LIMBS, p, i * LIMBS);
  reduce(acc, 2 * RNG_LEN - 1);
  return normalize(acc, RNG_LEN);
}

/** timesXMod is p * x mod (x^607 - x^334 - 1). */
function timesXMod(p: Float64Array): Float64Array {
  const acc = new Float64Array((RNG_LEN + 1) * LIMBS);
  acc.set(p, LIMBS);
  reduce(acc, RNG_LEN + 1);
  return normalize(acc, RNG_LEN);
}

/** xPowMod is x^n mod (x^607 - x^334 - 1), n a non-negative integer below 2^53. */
function xPowMod(n: number): Float64Array {
  let p: Float64Array = new Float64Array(RNG_LEN * LIMBS);
  p[0] = 1;
  const bits = n.toString(2);
  for (let i = 0; i < bits.length; i++) {
    if (i > 0) p = squareMod(p);
    if (bits[i] === '1') p = timesXMod(p);
  }
  return p;
}

/** toLimbs splits words into 16-bit limbs. */
function toLimbs(w: Words, n: number): Float64Array {
  const out = new Float64Array(n * LIMBS);
  for (let k = 0; k < n; k++) {
    out[k * LIMBS] = w.lo[k]! & 0xffff;
    out[k * LIMBS + 1] = w.lo[k]! >>> 16;
    out[k * LIMBS + 2] = w.hi[k]! & 0xffff;
    out[k * LIMBS + 3] = w.hi[k]! >>> 16;
  }
  return out;
}

/**
 * cookedRegister is the register of gen_cooked.go's generator after draws calls to its vrand
 * (register positions as Go's rngVec; draws a non-negative integer below 2^53). Go's rngCooked
 * is cookedRegister(COOKED_DRAWS).
 */
export function cookedRegister(draws: number): Words {
  const seeded = genCookedSeed();
  // z[0..1212]: the seeded register in draw order, then 606 draws. The first draw writes
  // position 333 (feed is decremented first), each next one the position below: z[j] lives at
  // position (333 - j) mod 607, for the register (j < 607) and the draws alike.
  const posOf = (j: number): number => (((RNG_LEN - RNG_TAP - 1 - j) % RNG_LEN) + RNG_LEN) % RNG_LEN;
  const zLen = 2 * RNG_LEN - 1;
  const z: Words = { hi: new Uint32Array(zLen), lo: new Uint32Array(zLen) };
  for (let j = 0; j < zLen; j++) {
    if (j < RNG_LEN) {
      z.hi[j] = seeded.hi[posOf(j)]!;
      z.lo[j] = seeded.lo[posOf(j)]!;
      continue;
    }
    const lo = z.lo[j - RNG_LEN]! + z.lo[j - RNG_TAP]!;
    z.lo[j] = lo >>> 0;
    z.hi[j] = (z.hi[j - RNG_LEN]! + z.hi[j - RNG_TAP]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  }
  // After `draws` draws the register holds z[draws .. draws + 606]; z[draws + k] = sum c_i z[i + k].
  const c = xPowMod(draws);
  const zl = toLimbs(z, zLen);
  const acc = new Float64Array(RNG_LEN * LIMBS);
  for (let i = 0; i < RNG_LEN; i++) {
    const ci = i * LIMBS;
    if (c[ci] === 0 && c[ci + 1] === 0 && c[ci + 2] === 0 && c[ci + 3] === 0) continue;
    for (let k = 0; k < RNG_LEN; k++) mulAcc(acc, k * LIMBS, c, ci, zl, (i + k) * LIMBS);
  }
  const terms = normalize(acc, RNG_LEN);
  const out: Words = { hi: new Uint32Array(RNG_LEN), lo: new Uint32Array(RNG_LEN) };
  for (let k = 0; k < RNG_LEN; k++) {
    const pos = posOf(draws + k);
    out.lo[pos] = terms[k * LIMBS]! + terms[k * LIMBS + 1]! * LIMB;
    out.hi[pos] = terms[k * LIMBS + 2]! + terms[k * LIMBS + 3]! * LIMB;
  }
  return out;
}

/** cooked is Go's rngCooked, computed on first use. */
let cooked: Words | undefined;

/** GoRand is rand.New(rand.NewSource(seed)) of Go's math/rand, for the draws dskit makes. */
export class GoRand {
  private readonly hi = new Uint32Array(RNG_LEN);
  private readonly lo = new Uint32Array(RNG_LEN);
  private tap = 0;
  private feed = RNG_LEN - RNG_TAP;

  /** The seed is Go's int64 (values outside it are taken modulo 2^64, as a conversion would). */
  constructor(seed: bigint) {
    cooked ??= cookedRegister(COOKED_DRAWS);
    // rngSource.Seed: the seed modulo 2^31 - 1 (Go's remainder takes the dividend's sign), never 0.
    let s = Number(BigInt.asIntN(64, seed) % BigInt(INT32_MAX));
    if (s < 0) s += INT32_MAX;
    if (s === 0) s = 89482311;
    const c = cooked;
    seedWords(s, (i, a, b, x) => {
      // int64(a) << 40 ^ int64(b) << 20 ^ int64(x), truncated to 64 bits, then XOR the cooked word.
      this.hi[i] = ((a << 8) ^ (b >>> 12) ^ c.hi[i]!) >>> 0;
      this.lo[i] = ((b << 20) ^ x ^ c.lo[i]!) >>> 0;
    });
  }

  /** next draws the next 64-bit word and leaves it at the feed position. */
  private next(): number {
    if (--this.tap < 0) this.tap += RNG_LEN;
    if (--this.feed < 0) this.feed += RNG_LEN;
    const f = this.feed;
    const t = this.tap;
    const lo = this.lo[f]! + this.lo[t]!;
    this.lo[f] = lo >>> 0;
    this.hi[f] = (this.hi[f]! + this.hi[t]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return f;
  }

  /** uint32 is Rand.Uint32: bits 31 to 62 of the next word (uint32(Int63() >> 31)). */
  uint32(): number {
    const f = this.next();
    return ((this.hi[f]! << 1) | (this.lo[f]! >>> 31)) >>> 0;
  }

  /** uint64 is the source's Uint64 (Rand.Uint64 with this Source64): the next word whole. */
  uint64(): bigint {
    const f = this.next();
    return (BigInt(this.hi[f]!) << 32n) | BigInt(this.lo[f]!);
  }

  /** int31 is Rand.Int31: bits 32 to 62 of the next word (int32(Int63() >> 32)). */
  int31(): number {
    const f = this.next();
    return this.hi[f]! & 0x7fffffff;
  }

  /** intn is Rand.Intn for 0 < n < 2^31 (Int31n: a mask for powers of two, else rejection of the top remainder). */
  intn(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > INT32_MAX) throw new RangeError(`invalid argument to intn: ${n}`);
    if ((n & (n - 1)) === 0) return this.int31() & (n - 1);
    const max = INT32_MAX - (2 ** 31 % n);
    let v = this.int31();
    while (v > max) v = this.int31();
    return v % n;
  }

  /** int63 is Rand.Int63: the next word without its top bit. */
  int63(): bigint {
    return this.uint64() & 0x7fffffffffffffffn;
  }
}
