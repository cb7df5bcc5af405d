// metadata.ts answers the Prometheus metadata endpoints for one tenant:
// /api/v1/series, /api/v1/labels and /api/v1/label/{name}/values (GET or
// POST form), in the Prometheus envelope. Series JSON comes pre-encoded from
// the native core and is spliced in, not re-parsed.

import { ApiError, badData, successEnvelope, successEnvelopeRaw, type ErrorKind } from '../errors.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import type { Visibility } from '../auth/visibility.js';
import type { SeriesQuerier } from '../storage/native.js';
import type { LabelMatcher } from '../model/matchers.js';
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

/** truncateList applies the limit to a list fetched with limit+1. */
function truncateList(values: string[], limit: number): { values: string[]; warnings: string[] } {
  if (limit > 0 && values.length > limit) return { values: values.slice(0, limit), warnings: [TRUNCATED_WARNING] };
  return { values, warnings: [] };
}

/** vis carries the request's LBAC visibility (enterprise auth) into a read, when it has one. */
function vis(req: Request): { visibility?: Visibility } {
  return req.visibility !== undefined ? { visibility: req.visibility } : {};
}

/** MetadataRead is one storage read of the metadata endpoints, plain data so a worker thread can run it. */
export type MetadataRead =
  | { op: 'series'; tenant: string; sets: LabelMatcher[][]; mint: number; maxt: number; limit: number; visibility?: Visibility }
  | { op: 'labels'; tenant: string; sets: LabelMatcher[][]; mint: number; maxt: number; limit: number; visibility?: Visibility }
  | { op: 'labelValues'; tenant: string; name: string; sets: LabelMatcher[][]; mint: number; maxt: number; limit: number; visibility?: Visibility };

/** MetadataReadAnswer is a read's result: the series JSON, a sorted list, or the error's kind and text. */
export type MetadataReadAnswer = { ok: true; json: string } | { ok: true; values: string[] } | { ok: false; kind: ErrorKind; message: string };

/** MetadataOffload runs a read off the event loop (the query worker pool); the signal drops it when the client goes. */
export type MetadataOffload = (read: MetadataRead, signal: AbortSignal) => Promise<MetadataReadAnswer>;

/**
 * readMetadata runs one read against querier; what it throws becomes the answer's error (bad data
 * unless it is an ApiError). The inline path and the query worker share it.
 */
export function readMetadata(querier: SeriesQuerier, r: MetadataRead): MetadataReadAnswer {
  try {
    const limit = r.limit > 0 ? r.limit + 1 : 0;
    switch (r.op) {
      case 'series':
        return { ok: true, json: querier.seriesJson(r.tenant, r.sets, r.mint, r.maxt, limit, r.visibility) };
      case 'labels':
        return { ok: true, values: querier.labelNames(r.tenant, r.sets, r.mint, r.maxt, limit, r.visibility) };
      case 'labelValues':
        return { ok: true, values: querier.labelValues(r.tenant, r.name, r.sets, r.mint, r.maxt, limit, r.visibility) };
    }
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, kind: err.kind, message: err.message };
    return { ok: false, kind: 'bad_data', message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * MetadataApi serves the metadata endpoints over a SeriesQuerier: inline, or through offload (the
 * query worker pool, behind the per-tenant query queue) so that reads scanning many series or
 * blocks on disk leave the event loop free.
 */
export class MetadataApi {
  constructor(
    private readonly querier: SeriesQuerier,
    private readonly offload?: MetadataOffload,
  ) {}

  /** read runs r inline or offloaded; undefined when the client went away meanwhile. */
  private async read(r: MetadataRead, res: Response): Promise<MetadataReadAnswer | undefined> {
    if (this.offload === undefined) return readMetadata(this.querier, r);
    const abort = new AbortController();
    res.whenDone(() => {
      if (res.aborted) abort.abort(new Error('client closed the request'));
    });
    try {
      return await this.offload(r, abort.signal);
    } catch (err) {
      if (res.aborted) return undefined;
      throw err;
    }
  }

  /** answer unwraps a read's answer, throwing its error. */
  private static ok(a: MetadataReadAnswer): { json?: string; values?: string[] } {
    if (!a.ok) throw new ApiError(a.kind, a.message);
    return a;
  }

  /** series answers /api/v1/series. */
  readonly series = async (req: Request, res: Response): Promise<void> => {
    const matches = req.form.all('match[]');
    if (matches.length === 0) throw badData('no match[] parameter provided');
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(matches);
    const a = await this.read({ op: 'series', tenant: req.tenant, sets, mint, maxt, limit, ...vis(req) }, res);
    if (a === undefined) return;
    let json = MetadataApi.ok(a).json ?? '[]';
    const warnings: string[] = [];
    if (limit > 0) {
      const t = truncateJsonArray(json, limit);
      json = t.json;
      if (t.truncated) warnings.push(TRUNCATED_WARNING);
    }
    res.json(200, successEnvelopeRaw(json, warnings));
  };

  /** labels answers /api/v1/labels. */
  readonly labels = async (req: Request, res: Response): Promise<void> => {
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(req.form.all('match[]'));
    const a = await this.read({ op: 'labels', tenant: req.tenant, sets, mint, maxt, limit, ...vis(req) }, res);
    if (a === undefined) return;
    const { values, warnings } = truncateList(MetadataApi.ok(a).values ?? [], limit);
    res.json(200, successEnvelope(values, warnings));
  };

  /** labelValues answers /api/v1/label/{name}/values. */
  readonly labelValues = async (req: Request, res: Response): Promise<void> => {
    const raw = req.params.name ?? '';
    const name = unescapeLabelName(raw);
    if (name === '' || name.includes('\uFFFD')) throw badData(`invalid label name: ${JSON.stringify(raw)}`);
    const { mint, maxt, limit } = parseRange(req);
    const sets = parseMatchersParam(req.form.all('match[]'));
    const a = await this.read({ op: 'labelValues', tenant: req.tenant, name, sets, mint, maxt, limit, ...vis(req) }, res);
    if (a === undefined) return;
    const { values, warnings } = truncateList(MetadataApi.ok(a).values ?? [], limit);
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
