// go-rand.test.ts checks the port of Go's math/rand: the cooked table jumped
// ahead by polynomial arithmetic equals gen_cooked.go's generator run draw by
// draw (for counts small enough to run), and seeded generators give the values
// Go 1.26 gives. The expected values were printed by a Go program run once
// (not part of the tests):
//
//   r := rand.New(rand.NewSource(seed)); r.Uint32() ...         (the Uint32 sequences)
//   src := rand.NewSource(seed).(rand.Source64); src.Uint64()   (2000 words, each as
//     8 little-endian bytes, into sha256: the digests)
//
// Each word of the cooked table enters one of the first 607 draws, so the digests pin
// the whole table.

import { createHash } from 'node:crypto';
import t from 'tap';
import { cookedRegister, GoRand } from './go-rand.js';
import { shuffleShardSeed } from './shard.js';

/** genCooked runs gen_cooked.go's srand(1) and n calls to its vrand, one by one (the reference). */
function genCooked(n: number): bigint[] {
  const m = 2147483647;
  const seedrand = (x: number): number => {
    const hi = Math.trunc(x / 44488);
    let next = 48271 * (x % 44488) - 3399 * hi;
    if (next < 0) next += m;
    return next;
  };
  const vec: bigint[] = new Array<bigint>(607).fill(0n);
  let x = 1;
  for (let i = -20; i < 607; i++) {
    x = seedrand(x);
    if (i >= 0) {
      let u = BigInt(x) << 20n;
      x = seedrand(x);
      u ^= BigInt(x) << 10n;
      x = seedrand(x);
      u ^= BigInt(x);
      vec[i] = u;
    }
  }
  let tap = 0;
  let feed = 607 - 273;
  for (let i = 0; i < n; i++) {
    if (--tap < 0) tap += 607;
    if (--feed < 0) feed += 607;
    vec[feed] = BigInt.asUintN(64, vec[feed]! + vec[tap]!);
  }
  return vec;
}

t.test('the jumped-ahead register equals the generator run draw by draw', async (t) => {
  for (const n of [0, 1, 2, 272, 273, 333, 334, 606, 607, 608, 1213, 5000, 123_457]) {
    const want = genCooked(n);
    const got = cookedRegister(n);
    const words = Array.from(got.hi, (hi, i) => (BigInt(hi) << 32n) | BigInt(got.lo[i]!));
    t.same(words, want, `after ${n} draws`);
  }
});

t.test('Uint32 draws equal Go math/rand for the same seed', async (t) => {
  const cases: Array<[bigint, number[]]> = [
    [0n, [4059586549, 1052117029, 2817310706, 233405013, 1578775030]],
    [1n, [2596996162, 4039455774, 2854263694, 1879968118, 1823804162]],
    [-1n, [1697317822, 256193504, 1440782448, 2414742152, 2469727486]],
    [42n, [1602144611, 283469975, 2594563336, 896869500, 188198846]],
    [2147483646n, [1697317822, 256193504, 1440782448, 2414742152, 2469727486]],
    [2147483647n, [4059586549, 1052117029, 2817310706, 233405013, 1578775030]],
    [-9223372036854775808n, [3576951867, 3155860137, 4073607750, 3782561357, 1656804655]],
    [9223372036854775807n, [2596996162, 4039455774, 2854263694, 1879968118, 1823804162]],
    // dskit's ShuffleShardSeed of "tenant-a", of "tenant-a" in "zone-a" (see shard.test.ts).
    [-3380867882834763730n, [1913576699, 2843220078, 645972876, 1885440912, 1375293726, 973077783, 771357266, 3650788577]],
    [-3896296730063314590n, [2158430385, 1243598516, 2559769728, 250926700, 165353546, 3217593638, 2090016298, 2118898621]],
  ];
  for (const [seed, want] of cases) {
    const r = new GoRand(seed);
    t.same(
      want.map(() => r.uint32()),
      want,
      `seed ${seed}`,
    );
  }
  const r = new GoRand(1n);
  let v = 0;
  for (let i = 0; i < 1000; i++) v = r.uint32();
  t.equal(v, 1935624125, 'the 1000th draw (the register turned over)');
});

t.test('the first 2000 words equal Go (every cooked word)', async (t) => {
  const digests: Array<[bigint, string]> = [
    [1n, 'cda56408b223d334167921c0971bb2b3931725c4dfd96977b076e6eaee630d09'],
    [42n, 'dbb46fbc4e15869cb4848e5e4d343d6fe7fd803076768c7104c3e0bfa9f78e25'],
    [-7n, '8be7b2bc28e218f9449ff75b94f42aeb633864606c2c9c1d1a56737075a21c9d'],
  ];
  for (const [seed, want] of digests) {
    const r = new GoRand(seed);
    const h = createHash('sha256');
    const b = Buffer.alloc(8);
    for (let i = 0; i < 2000; i++) {
      b.writeBigUInt64LE(r.uint64());
      h.update(b);
    }
    t.equal(h.digest('hex'), want, `seed ${seed}`);
  }
  const r = new GoRand(1n);
  const first = r.uint64();
  t.equal(new GoRand(1n).int63(), first & 0x7fffffffffffffffn, 'Int63 is the word without its top bit');
});

t.test('Intn draws equal Go math/rand for the same seed', async (t) => {
  // Go: r := rand.New(rand.NewSource(seed)); r.Intn(7), r.Intn(1000000), r.Intn(5), r.Intn(1<<20), r.Intn(3)
  // with seed = dskit's ShuffleShardSeed("team-a", "").
  const r = new GoRand(shuffleShardSeed('team-a', ''));
  t.same([r.intn(7), r.intn(1_000_000), r.intn(5), r.intn(1 << 20), r.intn(3)], [5, 510957, 3, 51710, 0]);
  t.throws(() => r.intn(0), RangeError);
});
