// metadata.ts answers the Prometheus metadata endpoints for one tenant:
// /api/v1/series, /api/v1/labels and /api/v1/label/{name}/values (GET or
// POST form), in the Prometheus envelope. Series JSON comes pre-encoded from
// the native core and is spliced in, not re-parsed.

import { ApiError, badData, successEnvelope, successEnvelopeRaw } from '../errors.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import type { SeriesQuerier } from '../storage/native.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseLimitParam, parseMatchersParam, parseTimeParam, unescapeLabelName } from './params.js';

/** TRUNCATED_WARNING is Prometheus 3's warning when `limit` cut the result. */
export const TRUNCATED_WARNING = 'results truncated due to limit';

interface Range {
  mint: number;
  maxt: number;
  limit: number;
}

function parseRange(req: Request): Range {
  const mint = parseTimeParam(req.form.get('start'), 'start', MIN_TIME_MS);
  const maxt = parseTimeParam(req.form.get('end'), 'end', MAX_TIME_MS);
  const limit = parseLimitParam(req.form.get('limit'));
  return { mint, maxt, limit };
}

/** storageCall runs a native read; a thrown error (e.g. a bad regexp) is bad data. */
function storageCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badData(err instanceof Error ? err.message : String(err));
  }
}

/** truncateList applies the limit to a list fetched with limit+1. */
function truncateList(values: string[], limit: number): { values: string[]; warnings: string[] } {
  if (limit > 0 && values.length > limit) return { values: values.slice(0, limit), warnings: [TRUNCATED_WARNING] };
  return { values, warnings: [] };
}

/** MetadataApi serves the metadata endpoints over a SeriesQuerier. */
export class MetadataApi {
  constructor(private readonly querier: SeriesQuerier) {}

  /** series answers /api/v1/series. */
  readonly series = (req: Request, res: Response): void => {
    const matches = req.form.all('match[]');
    if (matches.length === 0) throw badData('no match[] parameter provided');
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(matches);
    const fetchLimit = limit > 0 ? limit + 1 : 0;
    let json = storageCall(() => this.querier.seriesJson(req.tenant, sets, mint, maxt, fetchLimit, req.visibility));
    const warnings: string[] = [];
    if (limit > 0) {
      const t = truncateJsonArray(json, limit);
      json = t.json;
      if (t.truncated) warnings.push(TRUNCATED_WARNING);
    }
    res.json(200, successEnvelopeRaw(json, warnings));
  };

  /** labels answers /api/v1/labels. */
  readonly labels = (req: Request, res: Response): void => {
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(req.form.all('match[]'));
    const names = storageCall(() => this.querier.labelNames(req.tenant, sets, mint, maxt, limit > 0 ? limit + 1 : 0, req.visibility));
    const { values, warnings } = truncateList(names, limit);
    res.json(200, successEnvelope(values, warnings));
  };

  /** labelValues answers /api/v1/label/{name}/values. */
  readonly labelValues = (req: Request, res: Response): void => {
    const raw = req.params.name ?? '';
    const name = unescapeLabelName(raw);
    if (name === '' || name.includes('\uFFFD')) throw badData(`invalid label name: ${JSON.stringify(raw)}`);
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(req.form.all('match[]'));
    const list = storageCall(() => this.querier.labelValues(req.tenant, name, sets, mint, maxt, limit > 0 ? limit + 1 : 0, req.visibility));
    const { values, warnings } = truncateList(list, limit);
    res.json(200, successEnvelope(values, warnings));
  };
}

/** truncateJsonArray keeps the first n top-level elements; truncated says whether any were dropped. */
export function truncateJsonArray(json: string, n: number): { json: string; truncated: boolean } {
  if (n <= 0) return { json, truncated: false };
  let depth = 0;
  let inString = false;
  let commas = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      // The n-th separator ends the n-th element: everything after it goes.
      if (++commas === n) return { json: json.slice(0, i) + ']', truncated: true };
    }
  }
  return { json, truncated: false };
}
