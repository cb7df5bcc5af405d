import t from 'tap';
import { SCHEMA8_FRACTIONS, SCHEMA_FRACTIONS } from './exp-bounds.js';

t.test('schema 8 fractions are 2^(i/256)/2 correctly rounded', async (t) => {
  t.equal(SCHEMA8_FRACTIONS.length, 256);
  t.equal(SCHEMA8_FRACTIONS[0], 0.5);
  // sqrt is correctly rounded in IEEE 754, so these are exact references.
  t.equal(SCHEMA8_FRACTIONS[128], Math.sqrt(0.5));
  t.equal(SCHEMA8_FRACTIONS[128], Math.SQRT1_2);
  for (let i = 1; i < 256; i++) {
    const v = SCHEMA8_FRACTIONS[i]!;
    const approx = Math.pow(2, i / 256) / 2;
    // Within one unit in the last place (2^-53 in [0.5, 1)) of the platform's pow.
    if (Math.abs(v - approx) > 2 ** -53) t.fail(`entry ${i}: ${v} vs ${approx}`);
    if (!(v > SCHEMA8_FRACTIONS[i - 1]!)) t.fail(`entry ${i} not increasing`);
  }
  // The fractions of schema 1 square to the ones of schema 0 (1/2 -> 1/4 after doubling the exponent).
  t.ok(Math.abs(SCHEMA8_FRACTIONS[128]! ** 2 - 0.5) < 2 ** -52);
});

t.test("each schema's fractions are Prometheus's table entries", async (t) => {
  t.same(
    SCHEMA_FRACTIONS.map((f) => f.length),
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  // Entries of Prometheus's exponentialBounds, as its Go literals read.
  t.same(SCHEMA_FRACTIONS[1], [0.5, 0.7071067811865475]);
  t.same(SCHEMA_FRACTIONS[2], [0.5, 0.5946035575013605, 0.7071067811865475, 0.8408964152537144]);
  t.same(SCHEMA_FRACTIONS[3], [0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048, 0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711]);
  for (let s = 0; s <= 8; s++) {
    const f = SCHEMA_FRACTIONS[s]!;
    for (let i = 0; i < f.length; i++) {
      // At most four units in the last place from the correctly rounded value, and increasing.
      if (Math.abs(f[i]! - SCHEMA8_FRACTIONS[i << (8 - s)]!) > 4 * 2 ** -53) t.fail(`schema ${s} entry ${i}: ${f[i]}`);
      if (i > 0 && !(f[i]! > f[i - 1]!)) t.fail(`schema ${s} entry ${i} not increasing`);
    }
  }
});
