// query-client.ts runs Prometheus HTTP API range queries for the query
// benchmark, timing each request until its last body byte (JSON parsing is
// left out of the timing), and compares two matrix results series by series.

import http from 'node:http';

/** RangeQuery is one /api/v1/query_range call. */
export interface RangeQuery {
  query: string;
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** RangeAnswer is one response with its latency. */
export interface RangeAnswer {
  ms: number;
  status: number;
  body: Buffer;
}

/** QueryClient sends GET requests to one API base (e.g. http://h:p/api/v1) over keep-alive. */
export class QueryClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;

  constructor(apiBase: string) {
    this.base = new URL(apiBase);
  }

  /**
   * retries counts requests sent again because the server had closed the
   * kept-alive connection just as it was reused (as browsers and Grafana do).
   */
  retries = 0;

  /** queryRange runs q; extra are additional URL parameters (e.g. stats=all). */
  async queryRange(q: RangeQuery, extra: Record<string, string> = {}): Promise<RangeAnswer> {
    const params = new URLSearchParams({
      query: q.query,
      start: String(q.startMs / 1000),
      end: String(q.endMs / 1000),
      step: String(q.stepMs / 1000),
      ...extra,
    });
    const path = `${this.base.pathname}/query_range?${params}`;
    try {
      return await this.get(path);
    } catch (e) {
      if (!(e as { reusedSocket?: boolean }).reusedSocket) throw e;
      this.retries++;
      return this.get(path);
    }
  }

  private get(path: string): Promise<RangeAnswer> {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host: this.base.hostname, port: this.base.port, path, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.setTimeout(300_000, () => req.destroy(new Error('query timed out after 300 s')));
      req.on('error', (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** MatrixSeries is one series of a matrix result, keyed by its label set. */
export interface MatrixSeries {
  key: string;
  timestamps: Float64Array;
  values: string[];
}

/** Matrix is a parsed matrix result, or the error the API returned. */
export type Matrix =
  | { ok: true; series: Map<string, MatrixSeries>; totalQueriedSamples?: number }
  | { ok: false; error: string };

/** seriesKey renders a label set in sorted order, as `{a="x", b="y"}`. */
function seriesKey(metric: Record<string, string>): string {
  const names = Object.keys(metric).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(metric[n])}`).join(', ')}}`;
}

/** parseMatrix parses a query_range response body. */
export function parseMatrix(a: RangeAnswer): Matrix {
  let body: {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>; stats?: { samples?: { totalQueryableSamples?: number; totalQueriedSamples?: number } } };
  };
  try {
    body = JSON.parse(a.body.toString('utf8')) as typeof body;
  } catch {
    return { ok: false, error: `HTTP ${a.status}: unparsable body ${JSON.stringify(a.body.subarray(0, 200).toString('utf8'))}` };
  }
  if (body.status !== 'success' || !body.data) {
    return { ok: false, error: `HTTP ${a.status} ${body.errorType ?? ''}: ${body.error ?? 'no data'}` };
  }
  if (body.data.resultType !== 'matrix' || !Array.isArray(body.data.result)) {
    return { ok: false, error: `resultType ${body.data.resultType}, want matrix` };
  }
  const series = new Map<string, MatrixSeries>();
  for (const r of body.data.result) {
    const key = seriesKey(r.metric);
    series.set(key, { key, timestamps: Float64Array.from(r.values, (p) => p[0]), values: r.values.map((p) => p[1]) });
  }
  // Prometheus 2.42 names the figure totalQueryableSamples.
  const samples = body.data.stats?.samples;
  return { ok: true, series, totalQueriedSamples: samples?.totalQueriedSamples ?? samples?.totalQueryableSamples };
}

/** REL_TOLERANCE is the relative difference two values may have and still agree. */
export const REL_TOLERANCE = 1e-6;
/** ABS_TOLERANCE lets values that should be 0 differ by float rounding noise. */
export const ABS_TOLERANCE = 1e-12;

/** sameValue compares two API sample values (strings: NaN, ±Inf spelled as Prometheus does). */
export function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) return false;
  const d = Math.abs(x - y);
  return d <= ABS_TOLERANCE || d <= REL_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/** Comparison summarises how `got` differs from `want`. */
export interface Comparison {
  equal: boolean;
  /** Series only in want / only in got. */
  missing: number;
  extra: number;
  /** Series present in both whose timestamps differ. */
  timestampDiffs: number;
  /** Points (same series, same timestamp) whose values differ. */
  valueDiffs: number;
  maxRelDiff: number;
  /** Points only one side has but whose value ties the other side's lowest at that step (topk). */
  ties: number;
  /** A human-readable first difference. */
  example?: string;
}

/** minPerStep returns, per timestamp, the lowest value any series has there. */
function minPerStep(m: Map<string, MatrixSeries>): Map<number, string> {
  const out = new Map<number, string>();
  for (const s of m.values()) {
    s.timestamps.forEach((t, i) => {
      const cur = out.get(t);
      if (cur === undefined || Number(s.values[i]) < Number(cur)) out.set(t, s.values[i]!);
    });
  }
  return out;
}

/**
 * compareMatrices compares got against want (the reference). With
 * topkTies, a point that only one side has is accepted when its value equals
 * the lowest value the other side selected at that step: topk's choice
 * among series tied for the k-th place is unspecified.
 */
export function compareMatrices(got: Map<string, MatrixSeries>, want: Map<string, MatrixSeries>, topkTies = false): Comparison {
  const c: Comparison = { equal: true, missing: 0, extra: 0, timestampDiffs: 0, valueDiffs: 0, maxRelDiff: 0, ties: 0 };
  const note = (s: string): void => {
    c.equal = false;
    c.example ??= s;
  };
  const gotMin = topkTies ? minPerStep(got) : new Map<number, string>();
  const wantMin = topkTies ? minPerStep(want) : new Map<number, string>();
  const empty: MatrixSeries = { key: '', timestamps: new Float64Array(0), values: [] };
  for (const key of new Set([...want.keys(), ...got.keys()])) {
    const w = want.get(key) ?? empty;
    const g = got.get(key) ?? empty;
    const wAt = new Map<number, string>();
    w.timestamps.forEach((t, i) => wAt.set(t, w.values[i]!));
    const gAt = new Map<number, string>();
    g.timestamps.forEach((t, i) => gAt.set(t, g.values[i]!));
    let onlyOne = 0;
    let firstOnly = '';
    const oneSided = (t: number, v: string, otherMin: Map<number, string>, side: string): void => {
      const m = otherMin.get(t);
      if (topkTies && m !== undefined && sameValue(v, m)) {
        c.ties++;
        return;
      }
      onlyOne++;
      firstOnly ||= `${side} point @${t}: ${v}`;
    };
    for (const [t, gv] of gAt) {
      const wv = wAt.get(t);
      if (wv === undefined) {
        oneSided(t, gv, wantMin, 'first extra');
        continue;
      }
      if (sameValue(gv, wv)) continue;
      c.valueDiffs++;
      const rel = Math.abs(Number(gv) - Number(wv)) / Math.max(Math.abs(Number(gv)), Math.abs(Number(wv)));
      if (!(rel <= c.maxRelDiff)) c.maxRelDiff = rel;
      note(`${key} @${t}: ${gv}, want ${wv}`);
    }
    for (const [t, wv] of wAt) if (!gAt.has(t)) oneSided(t, wv, gotMin, 'first missing');
    if (onlyOne === 0) continue;
    if (!got.has(key)) c.missing++;
    else if (!want.has(key)) c.extra++;
    else c.timestampDiffs++;
    note(`${key}: ${g.timestamps.length} points, want ${w.timestamps.length}; ${firstOnly}`);
  }
  return c;
}
