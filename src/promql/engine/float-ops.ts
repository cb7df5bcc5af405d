// float-ops.ts holds the float helpers the engine and its reference kernels
// (the test oracle in kernels-reference.ts) share: Prometheus's compensated
// summation step and quantile, and the staleness-marker test on raw bits.

/** isStaleAt reports whether values[i] holds the staleness marker, reading the raw bits. */
export function isStaleAt(values: Float64Array, i: number): boolean {
  const u = new Uint32Array(values.buffer, values.byteOffset + i * 8, 2);
  return u[0] === 2 && u[1] === 0x7ff00000;
}

/** kahanSumInc is Prometheus's compensated summation step. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** quantileOf is Prometheus's quantile over float values (NaN sorts first). */
export function quantileOf(q: number, vals: number[]): number {
  if (vals.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const v = [...vals].sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = v.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return v[lower] * (1 - weight) + v[upper] * weight;
}
