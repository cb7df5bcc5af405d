// duration.ts parses and formats durations the way Go's time.ParseDuration
// and Prometheus's model.Duration do: "10m", "1h30m", "1.5h", "300ms", "0s",
// "0", plus Prometheus's d, w and y units. Values are kept in milliseconds.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const TERM = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/;

/** parseDuration returns milliseconds, or throws on malformed input. */
export function parseDuration(text: string): number {
  let s = text.trim();
  if (s === '') throw new Error(`invalid duration "${text}"`);
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`invalid duration "${text}"`);
  let total = 0;
  while (s.length > 0) {
    const m = TERM.exec(s);
    if (m === null) {
      if (/^\d/.test(s) && !/[a-zµμ]/i.test(s)) throw new Error(`missing unit in duration "${text}"`);
      throw new Error(`invalid duration "${text}"`);
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** formatDuration renders milliseconds as Prometheus's model.Duration does ("1h30m", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = Math.abs(ms);
  if (ms < 0) out = '-';
  const parts: Array<[string, number]> = [
    ['y', UNIT_MS.y!],
    ['w', UNIT_MS.w!],
    ['d', UNIT_MS.d!],
    ['h', UNIT_MS.h!],
    ['m', UNIT_MS.m!],
    ['s', UNIT_MS.s!],
    ['ms', 1],
  ];
  for (const [unit, size] of parts) {
    // As model.Duration.String: years and weeks only when exact ("90d", not "12w6d").
    if ((unit === 'y' || unit === 'w') && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${Math.round(rest * 1e6)}ns`;
  return out;
}
