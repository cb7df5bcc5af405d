// cardinality.ts answers Mimir's cardinality analysis endpoints for one
// tenant: <prefix>/api/v1/cardinality/label_names, /label_values and
// /active_series (GET or POST form), when the tenant has
// cardinality_analysis_enabled. Parameters are checked in Mimir's order
// with its texts; errors are plain text (Go's http.Error). The counting
// runs in Rust over the head's postings and comes back as JSON.

import type { Limits } from '../config/config.js';
import { badData } from '../errors.js';
import { ParseError } from '../promql/parser/errors.js';
import { parseMetricSelector } from '../promql/parser/selector.js';
import type { Params } from '../server/params.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import type { CardinalitySource } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';

/** Mimir's bounds and default of the `limit` parameter. */
const MIN_LIMIT = 0;
const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 20;

/** CountMethod is the `count_method` parameter. */
export type CountMethod = 'inmemory' | 'active';

/** LEGACY_LABEL_NAME is Prometheus's classic label name syntax (model.LabelName.IsValid). */
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** disabledMessage is Mimir's answer when the tenant may not use these endpoints. */
export function disabledMessage(tenant: string): string {
  return `cardinality analysis is disabled for the tenant: ${tenant}`;
}

/** goAtoi parses like Go's strconv.Atoi, throwing its error texts. */
export function goAtoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw badData(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) throw badData(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** parseSelector reads the optional `selector` parameter (at most one). */
export function parseSelector(form: Params): LabelMatcher[] {
  const values = form.all('selector');
  if (values.length === 0) return [];
  if (values.length > 1) throw badData("multiple 'selector' params are not allowed");
  try {
    return parseMetricSelector(values[0]!);
  } catch (err) {
    if (err instanceof ParseError) throw badData(`failed to parse selector: ${err.message}`);
    throw err;
  }
}

/** parseLimit reads `limit`: default 20, from 0 to 500. */
export function parseLimit(form: Params): number {
  const values = form.all('limit');
  if (values.length === 0) return DEFAULT_LIMIT;
  if (values.length > 1) throw badData("multiple 'limit' params are not allowed");
  const limit = goAtoi(values[0]!);
  if (limit < MIN_LIMIT) throw badData(`'limit' param cannot be less than '${MIN_LIMIT}'`);
  if (limit > MAX_LIMIT) throw badData(`'limit' param cannot be greater than '${MAX_LIMIT}'`);
  return limit;
}

/** parseCountMethod reads `count_method`: inmemory (default) or active. */
export function parseCountMethod(form: Params): CountMethod {
  const v = form.get('count_method');
  if (v === undefined) return 'inmemory';
  if (v === 'inmemory' || v === 'active') return v;
  throw badData(`invalid 'count_method' param '${v}'. valid options are: [active,inmemory]`);
}

/** parseLabelNames reads the required `label_names[]`, sorted. */
export function parseLabelNames(form: Params): string[] {
  const names = form.all('label_names[]');
  if (names.length === 0) throw badData("'label_names[]' param is required");
  for (const n of names) if (!LEGACY_LABEL_NAME.test(n)) throw badData(`invalid 'label_names' param '${n}'`);
  return [...names].sort();
}

/** labelNamesLimitMessage is Mimir's text when label_values asks for too many names. */
export function labelNamesLimitMessage(limit: number, actual: number): string {
  return `label values cardinality request label names limit (limit: ${limit} actual: ${actual}) exceeded`;
}

/** storageCall runs a native call; a thrown or rejected error (an invalid regexp) is a selector error. */
async function storageCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw badData(`failed to parse selector: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** CardinalityApi serves the cardinality endpoints over a CardinalitySource. */
export class CardinalityApi {
  constructor(
    private readonly source: CardinalitySource,
    private readonly limitsFor: (tenant: string) => Limits,
    /** activeIdleTimeoutMs is -ingester.active-series-metrics-idle-timeout. */
    private readonly activeIdleTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** enabled checks the tenant's cardinality_analysis_enabled (400 otherwise). */
  private limits(tenant: string): Limits {
    const l = this.limitsFor(tenant);
    if (!l.cardinalityAnalysisEnabled) throw badData(disabledMessage(tenant));
    return l;
  }

  private activeSince(method: CountMethod): number | null {
    return method === 'active' ? this.now() - this.activeIdleTimeoutMs : null;
  }

  /** labelNames answers /api/v1/cardinality/label_names. */
  readonly labelNames = async (req: Request, res: Response): Promise<void> => {
    const limits = this.limits(req.tenant);
    const matchers = parseSelector(req.form);
    const limit = parseLimit(req.form);
    const method = parseCountMethod(req.form);
    const answer = await storageCall(() =>
      this.source.labelNamesCardinality(req.tenant, matchers, this.activeSince(method), limit, limits.labelNamesAndValuesResultsMaxSizeBytes, req.visibility?.[req.tenant]),
    );
    if (answer.sizeError !== undefined && answer.sizeError !== null) {
      res.text(500, answer.sizeError + '\n');
      return;
    }
    res.json(200, answer.json ?? '{}');
  };

  /** labelValues answers /api/v1/cardinality/label_values. */
  readonly labelValues = async (req: Request, res: Response): Promise<void> => {
    const limits = this.limits(req.tenant);
    const names = parseLabelNames(req.form);
    const matchers = parseSelector(req.form);
    const limit = parseLimit(req.form);
    const method = parseCountMethod(req.form);
    const max = limits.labelValuesMaxCardinalityLabelNamesPerRequest;
    if (names.length > max) {
      // Mimir answers this one through httpgrpc: the body has no trailing newline.
      res.text(400, labelNamesLimitMessage(max, names.length));
      return;
    }
    res.json(200, await storageCall(() => this.source.labelValuesCardinality(req.tenant, names, matchers, this.activeSince(method), limit, req.visibility?.[req.tenant])));
  };

  /** activeSeries answers /api/v1/cardinality/active_series. */
  readonly activeSeries = async (req: Request, res: Response): Promise<void> => {
    this.limits(req.tenant);
    if (!req.form.has('selector')) throw badData("missing 'selector' parameter");
    const matchers = parseSelector(req.form);
    res.json(200, await storageCall(() => this.source.activeSeries(req.tenant, matchers, this.now() - this.activeIdleTimeoutMs, req.visibility?.[req.tenant])));
  };
}
