// exemplars.ts answers the Prometheus API's metric metadata and exemplar
// endpoints: /api/v1/metadata (Mimir's handler: `limit`, `limit_per_metric`,
// `metric`; errors as {"status":"error","error":...}) and
// /api/v1/query_exemplars (Prometheus's: `query`, `start`, `end`). The JSON
// of one tenant is built by the native core; a federated read (tenants
// joined by |) merges metadata in the core and exemplars here, each series
// labelled with its `__tenant_id__`, as Mimir's tenant federation does.

import { ApiError, badData, successEnvelopeRaw } from '../errors.js';
import { forEachNode, type Expr, type VectorSelector } from '../promql/parser/ast.js';
import { ParseError } from '../promql/parser/errors.js';
import { parseExpr } from '../promql/parser/parser.js';
import { compareLabels } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import { type MetricMetadataReader } from '../storage/native.js';
import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { splitTenants } from '../tenant/tenant.js';
import { visibleTo, type Visibility } from '../auth/visibility.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseTimeParam } from './params.js';
import { selectTenants, withTenantLabel } from './tenant-federation.js';

/** END_BEFORE_START is Prometheus's text for query_exemplars with end < start. */
export const END_BEFORE_START = 'end timestamp must not be before start timestamp';

/** extractSelectors returns the matchers of every vector selector of expr (those of range selectors included), as Prometheus's parser.ExtractSelectors. */
export function extractSelectors(expr: Expr): LabelMatcher[][] {
  const out: LabelMatcher[][] = [];
  // Walked with an explicit stack (forEachNode): a query of any depth needs no recursion.
  forEachNode(expr, (e) => {
    if (e.type === 'VectorSelector') out.push((e as VectorSelector).matchers);
  });
  return out;
}

/** atoi parses like Go's strconv.Atoi (an optional sign and decimal digits, int64 range); undefined when it fails. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) {
    const big = BigInt(s);
    if (big > 9223372036854775807n || big < -9223372036854775808n) return undefined;
    return big > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  }
  return n;
}

interface ExemplarSeries {
  seriesLabels: Labels;
  exemplars: unknown[];
}

/** MetricMetadataApi serves /api/v1/metadata and /api/v1/query_exemplars. */
export class MetricMetadataApi {
  constructor(
    private readonly reader: MetricMetadataReader,
    private readonly retainPeriodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** metadata answers /api/v1/metadata. */
  readonly metadata = (req: Request, res: Response): void => {
    const limits: number[] = [];
    for (const name of ['limit', 'limit_per_metric']) {
      const raw = req.form.get(name);
      const v = raw === undefined || raw === '' ? -1 : atoi(raw);
      if (v === undefined) {
        res.json(400, JSON.stringify({ status: 'error', error: `${name} must be a number` }));
        return;
      }
      limits.push(v);
    }
    const json = this.reader.metadataJson(splitTenants(req.tenant), limits[0]!, limits[1]!, req.form.get('metric') ?? '', this.retainPeriodMs, this.now());
    res.json(200, successEnvelopeRaw(req.visibility === undefined ? json : this.visibleMetadata(req.tenant, req.visibility, json)));
  };

  /** queryExemplars answers /api/v1/query_exemplars. */
  readonly queryExemplars = (req: Request, res: Response): void => {
    const start = parseTimeParam(req.form.get('start'), 'start', MIN_TIME_MS);
    const end = parseTimeParam(req.form.get('end'), 'end', MAX_TIME_MS);
    if (end < start) throw badData(END_BEFORE_START);
    let expr: Expr;
    try {
      expr = parseExpr(req.form.get('query') ?? '');
    } catch (err) {
      if (err instanceof ParseError) throw badData(err.message);
      throw err;
    }
    const sets = extractSelectors(expr);
    if (sets.length === 0) {
      // Prometheus answers a query without selectors with no data at all.
      res.json(200, successEnvelopeRaw('null'));
      return;
    }
    const ids = splitTenants(req.tenant);
    if (ids.length === 1) {
      res.json(200, successEnvelopeRaw(this.read(req.tenant, sets, start, end, req.visibility)));
      return;
    }
    const bySeries: ExemplarSeries[] = [];
    for (const [id, own] of this.setsByTenant(ids, sets)) {
      const part = JSON.parse(this.read(id, own, start, end, req.visibility)) as ExemplarSeries[];
      for (const s of part) bySeries.push({ seriesLabels: withTenantLabel(s.seriesLabels, id), exemplars: s.exemplars });
    }
    bySeries.sort((a, b) => compareLabels(a.seriesLabels, b.seriesLabels));
    res.json(200, successEnvelopeRaw(JSON.stringify(bySeries)));
  };

  /**
   * visibleMetadata keeps, for a reader limited by label policies, the metric families that have
   * a series it may see (the metric names come from the storage selection under its policies).
   */
  private visibleMetadata(tenant: string, visibility: Visibility, json: string): string {
    const names = new Set<string>();
    for (const id of splitTenants(tenant)) {
      if (visibility[id] === undefined) return json;
      for (const n of this.reader.visibleMetricNames?.(id, visibility[id]) ?? []) names.add(n);
    }
    const all = JSON.parse(json) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, entries] of Object.entries(all)) if (names.has(name)) out[name] = entries;
    return JSON.stringify(out);
  }

  private read(tenant: string, sets: LabelMatcher[][], start: number, end: number, visibility?: Visibility): string {
    try {
      return this.reader.exemplarsJson(tenant, sets, start, end, visibleTo(visibility, tenant));
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badData(err instanceof Error ? err.message : String(err));
    }
  }

  /** setsByTenant spreads the selectors over the tenants their `__tenant_id__` matchers allow. */
  private setsByTenant(ids: readonly string[], sets: LabelMatcher[][]): Map<string, LabelMatcher[][]> {
    const out = new Map<string, LabelMatcher[][]>();
    for (const set of sets) {
      const sel = selectTenants(ids, set);
      for (const id of sel.tenants) {
        const list = out.get(id) ?? [];
        // A selector that only named tenants selects all of their series.
        if (sel.matchers.length === 0) list.push([{ name: '__name__', type: MatchType.Regexp, value: '.+' }]);
        else list.push(sel.matchers);
        out.set(id, list);
      }
    }
    return new Map(ids.filter((id) => out.has(id)).map((id) => [id, out.get(id)!]));
  }
}
