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
  /** A human-readable first difference. */
  example?: string;
}

/** compareMatrices compares got against want (the reference). */
export function compareMatrices(got: Map<string, MatrixSeries>, want: Map<string, MatrixSeries>): Comparison {
  const c: Comparison = { equal: true, missing: 0, extra: 0, timestampDiffs: 0, valueDiffs: 0, maxRelDiff: 0 };
  const note = (s: string): void => {
    c.equal = false;
    c.example ??= s;
  };
  for (const [key, w] of want) {
    const g = got.get(key);
    if (!g) {
      c.missing++;
      note(`missing series ${key}`);
      continue;
    }
    const tsEqual = g.timestamps.length === w.timestamps.length && g.timestamps.every((t, i) => t === w.timestamps[i]);
    if (!tsEqual) {
      c.timestampDiffs++;
      const inW = new Set(w.timestamps);
      const inG = new Set(g.timestamps);
      const onlyG = g.timestamps.findIndex((t) => !inW.has(t));
      const onlyW = w.timestamps.findIndex((t) => !inG.has(t));
      note(
        `${key}: ${g.timestamps.length} points, want ${w.timestamps.length}` +
          (onlyG >= 0 ? `; first extra point @${g.timestamps[onlyG]}: ${g.values[onlyG]}` : '') +
          (onlyW >= 0 ? `; first missing point @${w.timestamps[onlyW]}: ${w.values[onlyW]}` : ''),
      );
    }
    // Compare the values at the timestamps both have.
    const at = new Map<number, string>();
    w.timestamps.forEach((t, i) => at.set(t, w.values[i]!));
    g.timestamps.forEach((t, i) => {
      const wv = at.get(t);
      const gv = g.values[i]!;
      if (wv === undefined || sameValue(gv, wv)) return;
      c.valueDiffs++;
      const rel = Math.abs(Number(gv) - Number(wv)) / Math.max(Math.abs(Number(gv)), Math.abs(Number(wv)));
      if (!(rel <= c.maxRelDiff)) c.maxRelDiff = rel;
      note(`${key} @${t}: ${gv}, want ${wv}`);
    });
  }
  for (const key of got.keys()) {
    if (!want.has(key)) {
      c.extra++;
      note(`unexpected series ${key}`);
    }
  }
  return c;
}
