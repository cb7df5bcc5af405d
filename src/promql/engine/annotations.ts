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
  /** overlaps are the start-time overlap warnings so far, by metric and position, with their counts. */
  private readonly overlaps = new Map<string, { count: number; text: string }>();

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

  /** forMetric is Prometheus's maybeAddMetricName: ` for metric name "x"` when there is a name. */
  private forMetric(metric: string): string {
    return metric === '' ? '' : ` for metric name ${quoteQ(metric)}`;
  }

  mixedClassicNativeHistograms(metric: string, p?: PosRange): void {
    this.warn(`vector contains a mix of classic and native histograms${this.forMetric(metric)}`, p);
  }

  quantileNaNResult(metric: string, p?: PosRange): void {
    this.info(`input to histogram_quantile has NaN observations, result is NaN${this.forMetric(metric)}`, p);
  }

  quantileNaNSkew(metric: string, p?: PosRange): void {
    this.info(`input to histogram_quantile has NaN observations, result is skewed higher${this.forMetric(metric)}`, p);
  }

  fractionNaNs(metric: string, p?: PosRange): void {
    this.info(`input to histogram_fraction has NaN observations, which are excluded from all fractions${this.forMetric(metric)}`, p);
  }

  mixedFloatsHistograms(metric: string, p?: PosRange): void {
    this.warn(`encountered a mix of histograms and floats for metric name ${quoteQ(metric)}`, p);
  }

  mixedFloatsHistogramsAggregation(p?: PosRange): void {
    this.warn('encountered a mix of histograms and floats for aggregation', p);
  }

  /**
   * startTimeOverlap notes a sample whose start time reaches back before the previous sample
   * (rate/increase with start timestamps). As Prometheus merges these per metric, repeats count
   * as occurrences: `(n occurrences)` once there are several.
   */
  startTimeOverlap(metric: string, p?: PosRange): void {
    const key = `${metric}\u0000${p?.start ?? ''}`;
    const prev = this.overlaps.get(key);
    const count = (prev?.count ?? 0) + 1;
    const base = `PromQL warning: sample has start time that overlaps with previous sample timestamp for metric ${quoteQ(metric)}`;
    const text = `${base}${count > 1 ? ` (${count} occurrences)` : ''}${this.pos(p)}`;
    if (prev !== undefined) this.warnings.delete(prev.text);
    this.warnings.add(text);
    this.overlaps.set(key, { count, text });
  }

  histogramNotCounter(metric: string, p?: PosRange): void {
    this.warn(`this native histogram metric is not a counter: ${quoteQ(metric)}`, p);
  }

  histogramNotGauge(metric: string, p?: PosRange): void {
    this.warn(`this native histogram metric is not a gauge: ${quoteQ(metric)}`, p);
  }

  mixedExponentialCustomHistograms(metric: string, p?: PosRange): void {
    this.warn(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${quoteQ(metric)}`, p);
  }

  incompatibleTypesInBinOp(op: string, lhs: string, rhs: string, p?: PosRange): void {
    this.info(`incompatible sample types encountered for binary operator ${quoteQ(op)}: ${lhs} ${op} ${rhs}`, p);
  }

  histogramIgnoredInAggregation(agg: string, p?: PosRange): void {
    this.info(`ignored histogram in ${agg} aggregation`, p);
  }

  histogramIgnoredInMixedRange(metric: string, p?: PosRange): void {
    this.info(`ignored histograms in a range containing both floats and histograms for metric name ${quoteQ(metric)}`, p);
  }

  incompatibleBucketLayoutInBinOp(op: string, p?: PosRange): void {
    this.warn(`incompatible bucket layout encountered for binary operator ${op}`, p);
  }

  /** counterResetCollision: op is addition, subtraction or aggregation. */
  counterResetCollision(op: string, p?: PosRange): void {
    this.warn(`conflicting counter resets during histogram ${op}`, p);
  }

  mismatchedCustomBuckets(op: string, p?: PosRange): void {
    this.info(`mismatched custom buckets were reconciled during ${op}`, p);
  }
}

