// printer.ts renders a syntax tree back to PromQL: formatExpr is
// Prometheus's Expr.String() (one line, canonical spacing, sorted matchers),
// prettify is Expr.Pretty(0) as /api/v1/format_query returns it (prettier.go:
// a node longer than 100 bytes is split over indented lines).

import { MatchType, type LabelMatcher } from '../../model/matchers.js';
import type { AggregateExpr, AtModifier, BinaryExpr, Expr, SubqueryExpr, VectorSelector } from './ast.js';
import { METRIC_NAME_LABEL } from './selector.js';
import { goStrconvQuote } from './unquote.js';
import { formatFloatF } from '../../compat/gofmt.js';
import { compareGoStrings } from '../../compat/gostrings.js';

export { goStrconvQuote };

/** MAX_CHARACTERS_PER_LINE is prettier.go's maxCharactersPerLine. */
const MAX_CHARACTERS_PER_LINE = 100;
const INDENT = '  ';

/** formatExpr renders an expression as Prometheus's String() does. */
export function formatExpr(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      if (e.duration === true) return e.val < 0 ? `-${formatDuration(secondsToDurationMs(-e.val))}` : formatDuration(secondsToDurationMs(e.val));
      return formatFloat(e.val);
    case 'StringLiteral':
      return e.invalidUtf8 ?? goStrconvQuote(e.val);
    case 'VectorSelector':
      return formatSelector(e, true);
    case 'MatrixSelector': {
      const range = e.rangeExpr !== undefined ? formatDurationExpr(e.rangeExpr) : formatDuration(e.rangeMs);
      return `${formatSelector(e.vs, false)}[${range}]${extendedSuffix(e.vs)}${atSuffix(e.vs.at)}${offsetSuffix(e.vs.offsetMs, e.vs.offsetExpr)}`;
    }
    case 'SubqueryExpr':
      return formatExpr(e.expr) + subquerySuffix(e);
    case 'ParenExpr':
      return `(${formatExpr(e.expr)})`;
    case 'UnaryExpr':
      return e.op + formatExpr(e.expr);
    case 'BinaryExpr': {
      // Walk left-deep chains (a + b + c ...) without recursing down them.
      const spine: BinaryExpr[] = [];
      let n: Expr = e;
      while (n.type === 'BinaryExpr') {
        spine.push(n);
        n = n.lhs;
      }
      let s = formatExpr(n);
      for (let i = spine.length - 1; i >= 0; i--) {
        const b = spine[i]!;
        s += ` ${b.op}${b.returnBool ? ' bool' : ''}${matchingString(b)} ${formatExpr(b.rhs)}`;
      }
      return s;
    }
    case 'AggregateExpr':
      return `${aggregateOpString(e)}(${e.param !== undefined ? `${formatExpr(e.param)}, ` : ''}${formatExpr(e.expr)})`;
    case 'Call':
      return `${e.func}(${e.args.map(formatExpr).join(', ')})`;
  }
}

/**
 * prettify renders an expression as Prometheus's Pretty(0), for
 * format_query; maxWidth is prettier.go's maxCharactersPerLine (tests lower it).
 */
export function prettify(e: Expr, maxWidth = MAX_CHARACTERS_PER_LINE): string {
  return new Prettier(maxWidth).pretty(e, 0);
}

function indent(level: number): string {
  return INDENT.repeat(level);
}

/** Prettier splits nodes whose one-line form is longer than maxWidth bytes. */
class Prettier {
  constructor(private readonly maxWidth: number) {}

  private needsSplit(e: Expr): boolean {
    return Buffer.byteLength(formatExpr(e)) > this.maxWidth;
  }

  pretty(e: Expr, level: number): string {
    const needsSplit = (n: Expr): boolean => this.needsSplit(n);
    const pretty = (n: Expr, l: number): string => this.pretty(n, l);
    switch (e.type) {
      case 'AggregateExpr': {
        if (!needsSplit(e)) return indent(level) + formatExpr(e);
        let s = `${indent(level)}${aggregateOpString(e)}(\n`;
        if (e.param !== undefined) s += `${pretty(e.param, level + 1)},\n`;
        return `${s}${pretty(e.expr, level + 1)}\n${indent(level)})`;
      }
      case 'BinaryExpr': {
        if (!needsSplit(e)) return indent(level) + formatExpr(e);
        const op = `${e.op}${e.returnBool ? ' bool' : ''}${matchingString(e)}`;
        return `${pretty(e.lhs, level + 1)}\n${indent(level)}${op}\n${pretty(e.rhs, level + 1)}`;
      }
      case 'Call': {
        if (!needsSplit(e)) return indent(level) + formatExpr(e);
        const args = e.args.map((a) => pretty(a, level + 1)).join(',\n');
        return `${indent(level)}${e.func}(\n${args}\n${indent(level)})`;
      }
      case 'ParenExpr':
        if (!needsSplit(e)) return indent(level) + formatExpr(e);
        return `${indent(level)}(\n${pretty(e.expr, level + 1)}\n${indent(level)})`;
      case 'SubqueryExpr':
        // As in prettier.go, an unsplit subquery carries no indentation.
        if (!needsSplit(e)) return formatExpr(e);
        return pretty(e.expr, level) + subquerySuffix(e);
      case 'UnaryExpr':
        return `${indent(level)}${e.op}${pretty(e.expr, level).trim()}`;
      case 'VectorSelector':
      case 'MatrixSelector':
      case 'NumberLiteral':
      case 'StringLiteral':
        return indent(level) + formatExpr(e);
    }
  }
}

// ---------------------------------------------------------------------------
// Pieces.

function aggregateOpString(e: AggregateExpr): string {
  if (e.without) return `${e.op} without (${formatLabelList(e.grouping)}) `;
  if (e.grouping.length > 0) return `${e.op} by (${formatLabelList(e.grouping)}) `;
  return e.op;
}

/** formatLabelList joins grouping labels, quoting those that are not legacy metric names. */
function formatLabelList(labels: string[]): string {
  return labels.map((l) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(l) ? l : goStrconvQuote(l))).join(', ');
}

function matchingString(e: BinaryExpr): string {
  const m = e.matching;
  if (m === undefined) return '';
  let s = '';
  if (m.labels.length > 0 || m.on) {
    s = ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
    if (m.card === 'many-to-one' || m.card === 'one-to-many') {
      s += ` group_${m.card === 'many-to-one' ? 'left' : 'right'} (${m.include.join(', ')})`;
    }
  }
  const fill = m.fill;
  if (fill !== undefined) {
    if (fill.lhs !== undefined && fill.rhs !== undefined && Object.is(fill.lhs, fill.rhs)) s += ` fill (${formatFloat(fill.lhs)})`;
    else {
      if (fill.lhs !== undefined) s += ` fill_left (${formatFloat(fill.lhs)})`;
      if (fill.rhs !== undefined) s += ` fill_right (${formatFloat(fill.rhs)})`;
    }
  }
  return s;
}

const MATCH_OP_STRINGS: Record<MatchType, string> = {
  [MatchType.Equal]: '=',
  [MatchType.NotEqual]: '!=',
  [MatchType.Regexp]: '=~',
  [MatchType.NotRegexp]: '!~',
};

/** formatMatcher renders a matcher as labels.Matcher.String(): the name quoted unless a plain identifier. */
export function formatMatcher(m: LabelMatcher): string {
  const plain = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name);
  return `${plain ? m.name : goStrconvQuote(m.name)}${MATCH_OP_STRINGS[m.type]}${goStrconvQuote(m.value)}`;
}

function formatSelector(vs: VectorSelector, withModifiers: boolean): string {
  const labels: string[] = [];
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME_LABEL && m.type === MatchType.Equal && m.value === vs.name && m.value !== '') continue;
    labels.push(formatMatcher(m));
  }
  let s = vs.name;
  if (labels.length > 0) s += `{${labels.sort(compareGoStrings).join(',')}}`;
  if (withModifiers) s += atSuffix(vs.at) + extendedSuffix(vs) + offsetSuffix(vs.offsetMs, vs.offsetExpr);
  return s;
}

function extendedSuffix(vs: VectorSelector): string {
  if (vs.anchored === true) return ' anchored';
  if (vs.smoothed === true) return ' smoothed';
  return '';
}

function atSuffix(at: AtModifier | undefined): string {
  if (at === undefined) return '';
  if (at.kind === 'start') return ' @ start()';
  if (at.kind === 'end') return ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetSuffix(offsetMs: number, offsetExpr?: Expr): string {
  if (offsetExpr !== undefined) return ` offset ${formatDurationExpr(offsetExpr)}`;
  if (offsetMs > 0) return ` offset ${formatDuration(offsetMs)}`;
  if (offsetMs < 0) return ` offset -${formatDuration(-offsetMs)}`;
  return '';
}

function subquerySuffix(e: SubqueryExpr): string {
  const range = e.rangeExpr !== undefined ? formatDurationExpr(e.rangeExpr) : formatDuration(e.rangeMs);
  const step = e.stepExpr !== undefined ? formatDurationExpr(e.stepExpr) : e.stepMs !== 0 ? formatDuration(e.stepMs) : '';
  return `[${range}:${step}]${atSuffix(e.at)}${offsetSuffix(e.offsetMs, e.offsetExpr)}`;
}

/**
 * formatDurationExpr renders a duration expression as Prometheus's
 * DurationExpr.String(): step(), range(), min(a, b), max(a, b), and a unary
 * plus dropped.
 */
export function formatDurationExpr(e: Expr): string {
  switch (e.type) {
    case 'Call':
      if (e.func === 'min_of' || e.func === 'max_of') return `${e.func.slice(0, 3)}(${e.args.map(formatDurationExpr).join(', ')})`;
      return `${e.func}()`;
    case 'ParenExpr':
      return `(${formatDurationExpr(e.expr)})`;
    case 'UnaryExpr':
      return e.op === '-' ? `-${formatDurationExpr(e.expr)}` : formatDurationExpr(e.expr);
    case 'BinaryExpr':
      return `${formatDurationExpr(e.lhs)} ${e.op} ${formatDurationExpr(e.rhs)}`;
    default:
      return formatExpr(e);
  }
}

const DURATION_STEPS: Array<[unit: string, ms: number, exact: boolean]> = [
  ['y', 365 * 24 * 3600 * 1000, true],
  ['w', 7 * 24 * 3600 * 1000, true],
  ['d', 24 * 3600 * 1000, false],
  ['h', 3600 * 1000, false],
  ['m', 60 * 1000, false],
  ['s', 1000, false],
  ['ms', 1, false],
];

/** secondsToDurationMs is model.Duration(seconds * 1e9) in whole milliseconds. */
function secondsToDurationMs(seconds: number): number {
  return Math.trunc(Math.round(seconds * 1e9) / 1e6);
}

/** formatDuration renders milliseconds as Prometheus's model.Duration.String(): 1h30m, 90d, 1y, 0s. */
export function formatDuration(ms: number): string {
  let rest = Math.trunc(ms);
  if (rest === 0) return '0s';
  let s = '';
  for (const [unit, mult, exact] of DURATION_STEPS) {
    if (exact && rest % mult !== 0) continue;
    const v = Math.trunc(rest / mult);
    if (v > 0) {
      s += `${v}${unit}`;
      rest -= v * mult;
    }
  }
  return s;
}

/** formatFloat renders a float as Go's strconv.FormatFloat(v, 'f', -1, 64), as the printer writes numbers. */
export const formatFloat = formatFloatF;
