// go-format.ts renders values as Go does where the ruler's answers need it:
// time.Time in JSON (RFC 3339 with nanoseconds, trailing zeros dropped), the
// zero time and strconv.FormatFloat(v, 'e', -1, 64).

/** GO_ZERO_TIME is Go's time.Time{} as JSON writes it. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** goTime formats unix ms as Go's time.Time MarshalJSON (UTC); 0 is the zero time. */
export function goTime(ms: number): string {
  if (ms === 0) return GO_ZERO_TIME;
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString();
  const frac = Math.round((ms - whole) * 1e6) + (whole % 1000) * 1e6;
  const base = iso.slice(0, 19);
  if (frac === 0) return base + 'Z';
  return `${base}.${String(frac).padStart(9, '0').replace(/0+$/, '')}Z`;
}

