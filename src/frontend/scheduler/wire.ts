// wire.ts is the query-scheduler's internal API (on -server.grpc-listen-port),
// HTTP/2 streams in place of Mimir's gRPC streams, shared by the scheduler, the
// query-frontends and the querier workers:
//
// - POST ENQUEUE_PATH (frontend -> scheduler): body snappy(JSON SchedulerTask:
//   a QueryTask, or a series / labels / label values read),
//   X-Scope-OrgID the task's tenant, FRONTEND_HEADER the frontend's id. The
//   request is held open until the query's answer, which comes back as the
//   body (snappy, ANSWER_HEADER says `body` or `failure`). 429 "too many
//   outstanding requests" when the tenant's queue is full; 500 when the
//   querier running it went away (the frontend retries); closing the request
//   (the frontend's client cancelled) takes the query out of the queue or
//   stops the querier running it.
// - POST NEXT_PATH (querier worker -> scheduler, long poll): QUERIER_HEADER the
//   querier's id. 204 when no query came within the poll period; else 200 with
//   a body written piecewise whose first piece is one frame (a 4-byte big-endian length,
//   then snappy(JSON NextTask)). The scheduler keeps that response open while
//   the querier runs the query: the open stream is the querier's lease (a
//   querier that dies closes it and the scheduler gives the query back to its
//   frontend as failed), and the scheduler ends it early when the frontend
//   cancelled (the worker then stops the query).
// - POST RESULT_PATH (querier worker -> scheduler): QUERY_ID_HEADER and the
//   answer as ENQUEUE_PATH's answer (snappy body, ANSWER_HEADER); the scheduler
//   passes it on to the frontend unchanged and ends the worker's lease.
// - POST SHUTDOWN_PATH (querier -> scheduler, on a graceful stop): QUERIER_HEADER;
//   the querier leaves the tenants' shards as soon as its last poll closes,
//   without the forget delay (Mimir's NotifyQuerierShutdown). 200, empty.

import { ApiError, type ErrorKind } from '../../errors.js';
import type { QueryFailure } from '../../querier/execute.js';
import type { MetadataRead, MetadataReadAnswer } from '../../querier/metadata.js';
import type { WorkerAnswer } from '../../querier/query-executor.js';
import type { QueryTask } from '../../querier/query-params.js';

export const ENQUEUE_PATH = '/internal/v1/scheduler/enqueue';
export const NEXT_PATH = '/internal/v1/scheduler/next';
export const RESULT_PATH = '/internal/v1/scheduler/result';
export const SHUTDOWN_PATH = '/internal/v1/scheduler/querier-shutdown';
/** FRONTEND_HEADER names the query-frontend that enqueued (counted as connected frontends). */
export const FRONTEND_HEADER = 'X-Mimir-Frontend-ID';
/** QUERIER_HEADER names the querier a worker belongs to. */
export const QUERIER_HEADER = 'X-Mimir-Querier-ID';
/** QUERY_ID_HEADER names the query a result answers. */
export const QUERY_ID_HEADER = 'X-Mimir-Query-ID';
/**
 * ANSWER_HEADER tells an encoded body (`body`) from a query failure (`failure`, JSON QueryFailure)
 * and from an error of the querier's read path (`error`, JSON {kind, message} of an ApiError, e.g.
 * 503 when too many ingesters are down), and from a metadata read's answer (`metadata`, JSON
 * MetadataReadAnswer).
 */
export const ANSWER_HEADER = 'X-Mimir-Answer';

/** MetadataTask is a series / labels / label values read sent through the schedulers, dropped from the queue past its deadline. */
export type MetadataTask = MetadataRead & { deadline: number };

/** SchedulerTask is what a query-frontend enqueues: a query or a metadata read. */
export type SchedulerTask = QueryTask | MetadataTask;

/** isMetadataTask tells a metadata read from a query. */
export function isMetadataTask(t: SchedulerTask): t is MetadataTask {
  return 'op' in t;
}

/** NextTask is what a worker receives: the task and its id at the scheduler. */
export interface NextTask {
  id: number;
  task: SchedulerTask;
}

/** encodeAnswer is an answer's body (uncompressed) and its kind. */
export function encodeAnswer(a: WorkerAnswer): { kind: 'body' | 'failure'; body: Uint8Array } {
  if (a instanceof Uint8Array) return { kind: 'body', body: a };
  return { kind: 'failure', body: Buffer.from(JSON.stringify(a), 'utf8') };
}

/** encodeMetadataAnswer is a metadata read's answer as a body (ANSWER_HEADER `metadata`). */
export function encodeMetadataAnswer(a: MetadataReadAnswer): { kind: 'metadata'; body: Uint8Array } {
  return { kind: 'metadata', body: Buffer.from(JSON.stringify(a), 'utf8') };
}

/** decodeMetadataAnswer reads a metadata read's answer back; an `error` answer is thrown as its ApiError. */
export function decodeMetadataAnswer(kind: string | undefined, body: Buffer): MetadataReadAnswer {
  if (kind === 'metadata') return JSON.parse(body.toString('utf8')) as MetadataReadAnswer;
  const a = decodeAnswer(kind, body);
  throw new ApiError('internal', `query-scheduler: a metadata read was answered as a query (${a instanceof Uint8Array ? 'body' : 'failure'})`);
}

/** encodeError is a querier's error as an answer body (ANSWER_HEADER `error`). */
export function encodeError(err: ApiError): Buffer {
  return Buffer.from(JSON.stringify({ kind: err.kind, message: err.message }), 'utf8');
}

/** decodeAnswer reads an answer back (body uncompressed); an `error` answer is thrown as its ApiError. */
export function decodeAnswer(kind: string | undefined, body: Buffer): WorkerAnswer {
  if (kind === 'failure') return JSON.parse(body.toString('utf8')) as QueryFailure;
  if (kind === 'error') {
    const e = JSON.parse(body.toString('utf8')) as { kind: ErrorKind; message: string };
    throw new ApiError(e.kind, e.message);
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** frame prefixes a payload with its 4-byte big-endian length. */
export function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** FrameReader collects stream chunks until one whole frame arrived. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** push adds a chunk; it returns the frame's payload once complete (and undefined before). */
  push(chunk: Buffer): Buffer | undefined {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.buf.length < 4) return undefined;
    const n = this.buf.readUInt32BE(0);
    if (this.buf.length < 4 + n) return undefined;
    return this.buf.subarray(4, 4 + n);
  }
}
