// annotations.ts collects the warnings and infos of a query with the texts of
// Prometheus's util/annotations, positions rendered as `(line:col)` of the
// query text.

import type { PosRange } from '../parser/ast.js';

/** formatGo renders x as Go's strconv 'g' shortest format with the given exponent threshold (6 for %g, 21 for %v). */
export function formatGo(x: number, eprec = 6): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const e = x.toExponential(); // shortest round-trip digits: d.ddde±x
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e);
  if (!m) return String(x);
  const [, sign, d0, rest = '', expStr] = m;
  const exp = Number(expStr);
  const digits = d0 + rest;
  if (exp < -4 || exp >= eprec) {
    const mant = rest ? `${d0}.${rest}` : d0;
    const ae = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' + ae : ae}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** quoteQ renders s as Go's %q. */
export function quoteQ(s: string): string {
  return JSON.stringify(s);
}

/** Annotations accumulates deduplicated warnings and infos. */
export class Annotations {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();

  constructor(private readonly query: string) {}

  /** pos renders a position range (byte offsets) as ` (line:col)`, columns in bytes as Go counts them, or nothing without a query text. */
  pos(p: PosRange | undefined): string {
    if (!p || !this.query) return '';
    const bytes = Buffer.from(this.query, 'utf8');
    let line = 1;
    let col = 1;
    const upto = Math.min(p.start, bytes.length);
    for (let i = 0; i < upto; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        col = 1;
      } else col++;
    }
    return ` (${line}:${col})`;
  }

  warn(msg: string, p?: PosRange): void {
    this.warnings.add(`PromQL warning: ${msg}${this.pos(p)}`);
  }

  info(msg: string, p?: PosRange): void {
    this.infos.add(`PromQL info: ${msg}${this.pos(p)}`);
  }

  possibleNonCounter(metric: string, p?: PosRange): void {
    this.info(`metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${quoteQ(metric)}`, p);
  }

  invalidQuantile(q: number, p?: PosRange): void {
    this.warn(`quantile value should be between 0 and 1, got ${formatGo(q)}`, p);
  }

  invalidRatio(r: number, cap: number, p?: PosRange): void {
    this.warn(`ratio value should be between -1 and 1, got ${formatGo(r)}, capping to ${formatGo(cap)}`, p);
  }

  badBucketLabel(metric: string, le: string, p?: PosRange): void {
    this.warn(`bucket label "le" is missing or has a malformed value of ${quoteQ(le)} for metric name ${quoteQ(metric)}`, p);
  }

  forcedMonotonicity(metric: string, p?: PosRange): void {
    this.info(
      `input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${quoteQ(metric)}`,
      p,
    );
  }

  sortInRangeQuery(p?: PosRange): void {
    this.warn('sort is ineffective for range queries since results are always ordered by labels', p);
  }

  nativeHistogramsUnsupported(fn: string, p?: PosRange): void {
    this.warn(`native histograms are not supported by this engine yet (${fn})`, p);
  }
}

/** formatFloatF renders x as Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) return String(x);
  const [, sign, d0, rest = '', expStr] = m;
  const exp = Number(expStr);
  const digits = d0 + rest;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
