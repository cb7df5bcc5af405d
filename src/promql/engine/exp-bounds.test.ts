import t from 'tap';
import { SCHEMA8_FRACTIONS } from './exp-bounds.js';

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
