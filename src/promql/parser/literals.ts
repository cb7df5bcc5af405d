// literals.ts reads number and duration literals as Prometheus does
// (strconv.ParseInt/ParseFloat, model.ParseDuration), folds constant
// duration expressions, and formats floats the way Go's %f does for error
// messages.

import type { Expr } from './ast.js';
import { goStrconvQuote } from './unquote.js';
import { formatFloat } from '../../compat/gofmt.js';

/** parseNumber reads a NUMBER token as Prometheus does: strconv.ParseInt(s, 0, 64), else ParseFloat. */
export function parseNumber(text: string): number | { error: string } {
  const s = text.replace(/_/g, '');
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(lower)) return NaN;
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else v = Number(s);
  if (Number.isNaN(v)) return { error: `strconv.ParseFloat: parsing ${goStrconvQuote(text)}: invalid syntax` };
  if (!Number.isFinite(v)) return { error: `strconv.ParseFloat: parsing ${goStrconvQuote(text)}: value out of range` };
  return v;
}

const DURATION_UNITS: Record<string, { ms: number; order: number }> = {
  y: { ms: 365 * 24 * 3600 * 1000, order: 1 },
  w: { ms: 7 * 24 * 3600 * 1000, order: 2 },
  d: { ms: 24 * 3600 * 1000, order: 3 },
  h: { ms: 3600 * 1000, order: 4 },
  m: { ms: 60 * 1000, order: 5 },
  s: { ms: 1000, order: 6 },
  ms: { ms: 1, order: 7 },
};

/** MAX_DURATION_MS is the largest Go time.Duration in milliseconds. */
const MAX_DURATION_MS = 9223372036854.775;

/** parseDuration reads a duration as Prometheus's model.ParseDuration does; returns milliseconds. */
export function parseDuration(text: string): number | { error: string } {
  if (text === '0') return 0;
  if (text === '') return { error: 'empty duration string' };
  const invalid = { error: `not a valid duration string: ${goStrconvQuote(text)}` };
  let rest = text;
  let total = 0;
  let lastOrder = 0;
  while (rest !== '') {
    const digits = /^[0-9]+/.exec(rest);
    if (digits === null) return invalid;
    rest = rest.slice(digits[0].length);
    const unitText = /^[^0-9]+/.exec(rest);
    if (unitText === null) return invalid;
    rest = rest.slice(unitText[0].length);
    const unit = DURATION_UNITS[unitText[0]];
    if (unit === undefined) return { error: `unknown unit ${goStrconvQuote(unitText[0])} in duration ${goStrconvQuote(text)}` };
    if (unit.order <= lastOrder) return invalid;
    lastOrder = unit.order;
    const v = Number(digits[0]);
    if (v > MAX_DURATION_MS / unit.ms) return { error: 'duration out of range' };
    total += v * unit.ms;
    if (total > MAX_DURATION_MS) return { error: 'duration out of range' };
  }
  return total;
}

/** secondsToMs converts float seconds to whole milliseconds as Prometheus does (round to ns, truncate to ms). */
export function secondsToMs(seconds: number): number {
  const ms = Math.trunc(Math.round(seconds * 1e9) / 1e6);
  return ms === 0 ? 0 : ms;
}

/** roundHalfAway is Go's math.Round. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** goFloatF renders a float as Go's %f does (strconv's 'f' format, six digits). */
export function goFloatF(x: number): string {
  return formatFloat(x, 'f', 6);
}

/** constantSeconds evaluates a duration expression that uses neither step() nor range(); undefined otherwise. */
export function constantSeconds(e: Expr): number | undefined {
  switch (e.type) {
    case 'NumberLiteral':
      return e.val;
    case 'ParenExpr':
      return constantSeconds(e.expr);
    case 'UnaryExpr': {
      const v = constantSeconds(e.expr);
      return v === undefined ? undefined : e.op === '-' ? -v : v;
    }
    case 'BinaryExpr': {
      const l = constantSeconds(e.lhs);
      const r = constantSeconds(e.rhs);
      if (l === undefined || r === undefined) return undefined;
      switch (e.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return l / r;
        case '%':
          return l % r;
        case '^':
          return l ** r;
        default:
          return undefined;
      }
    }
    case 'Call': {
      if (e.func !== 'min_of' && e.func !== 'max_of') return undefined;
      const [a, b] = e.args.map(constantSeconds);
      if (a === undefined || b === undefined) return undefined;
      return e.func === 'min_of' ? Math.min(a, b) : Math.max(a, b);
    }
    default:
      return undefined;
  }
}
