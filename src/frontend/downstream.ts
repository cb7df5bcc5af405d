// downstream.ts is the executor of a standalone query-frontend
// (-target=query-frontend): each (split, cache-missed) query is sent over
// HTTP to the queriers behind -query-frontend.downstream-url, as Mimir's
// frontend does with its downstream URL, under the query's tenant
// (X-Scope-OrgID). The querier's body is passed on as it is; its errors come
// back with their errorType and text. Series, label names and label values
// reads are forwarded as HTTP requests (downstreamMetadata). The queriers must accept the tenant
// header as sent (-auth.type trust or none behind the frontend).

import { ApiError, type ErrorKind } from '../errors.js';
import type { QueryFailureKind } from '../querier/execute.js';
import { formatTimestamp } from '../querier/format.js';
import type { QueryExecutor, WorkerAnswer } from '../querier/query-executor.js';
import type { QueryTask } from '../querier/query-params.js';
import type { MetadataApi } from '../querier/metadata.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response as HttpResponse } from '../server/response.js';

/** FAILURE_KINDS are the errorTypes a query itself fails with (passed on as query failures). */
const FAILURE_KINDS: ReadonlySet<string> = new Set<QueryFailureKind>(['bad_data', 'execution', 'timeout', 'canceled', 'internal']);

/** kindOfStatus maps a downstream HTTP status without a known errorType to an error kind. */
function kindOfStatus(status: number): ErrorKind {
  if (status === 429) return 'too_many_requests';
  if (status === 503 || status === 502 || status === 504) return 'unavailable';
  if (status === 400) return 'bad_data';
  return 'internal';
}

/** seconds renders milliseconds as the API's float seconds. */
function seconds(ms: number): string {
  return formatTimestamp(ms);
}

/** taskForm is the request form of a task. */
export function taskForm(task: QueryTask, nowMs: number): URLSearchParams {
  const form = new URLSearchParams({ query: task.query });
  if (task.kind === 'range') {
    form.set('start', seconds(task.startMs));
    form.set('end', seconds(task.endMs));
    form.set('step', seconds(task.stepMs));
  } else {
    form.set('time', seconds(task.startMs));
  }
  if (task.limit > 0) form.set('limit', String(task.limit));
  form.set('lookback_delta', seconds(task.lookbackDeltaMs));
  form.set('timeout', seconds(Math.max(1, task.deadline - nowMs)));
  return form;
}

/** downstreamExecutor forwards queries to `${url}${prefix}/api/v1/query[_range]`. */
export function downstreamExecutor(url: string, prometheusPrefix: string): QueryExecutor {
  const base = url.replace(/\/+$/, '') + prometheusPrefix;
  return {
    run: async (task: QueryTask, signal: AbortSignal): Promise<WorkerAnswer> => {
      const path = task.kind === 'range' ? '/api/v1/query_range' : '/api/v1/query';
      let res: Response;
      try {
        res = await fetch(base + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Scope-OrgID': task.tenant },
          body: taskForm(task, Date.now()).toString(),
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw new ApiError('unavailable', `query-frontend: downstream querier: ${err instanceof Error ? err.message : String(err)}`);
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status === 200) return body;
      const text = Buffer.from(body).toString('utf8');
      let parsed: { errorType?: string; error?: string } | undefined;
      try {
        parsed = JSON.parse(text) as { errorType?: string; error?: string };
      } catch {
        parsed = undefined;
      }
      const message = parsed?.error ?? text.trim();
      if (parsed?.errorType !== undefined && FAILURE_KINDS.has(parsed.errorType) && res.status !== 429 && res.status !== 503) {
        return { ok: false, kind: parsed.errorType as QueryFailureKind, message };
      }
      throw new ApiError(kindOfStatus(res.status), message);
    },
    close: async () => {},
  };
}

/** MetadataHandlers are the series, label names and label values routes (MetadataApi's, or forwarding ones). */
export type MetadataHandlers = Pick<MetadataApi, 'series' | 'labels' | 'labelValues'>;

/**
 * downstreamMetadata forwards series, label names and label values reads to the queriers at url, as
 * Mimir's frontend forwards every read to its downstream: the same path (with or without the
 * Prometheus prefix), the request's parameters as a form body, the tenant header; the querier's
 * status, content type and body come back as they are (its errors too); a querier that cannot be
 * reached is a 503, as for queries.
 */
export function downstreamMetadata(url: string): MetadataHandlers {
  const base = url.replace(/\/+$/, '');
  const forward = async (req: Request, res: HttpResponse): Promise<void> => {
    const form = new URLSearchParams();
    for (const key of req.form.keys()) for (const v of req.form.all(key)) form.append(key, v);
    const ac = new AbortController();
    res.whenDone(() => {
      if (res.aborted) ac.abort(new Error('client closed the request'));
    });
    let down: Response;
    try {
      down = await fetch(base + req.path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Scope-OrgID': req.tenant },
        body: form.toString(),
        signal: ac.signal,
      });
    } catch (err) {
      if (res.aborted) return;
      throw new ApiError('unavailable', `query-frontend: downstream querier: ${err instanceof Error ? err.message : String(err)}`);
    }
    const body = Buffer.from(await down.arrayBuffer());
    if (res.aborted) return;
    res.send(down.status, body, down.headers.get('content-type') ?? CONTENT_TYPE.text);
  };
  return { series: forward, labels: forward, labelValues: forward };
}
