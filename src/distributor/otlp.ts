// otlp.ts answers OTLP/HTTP metrics pushes (`POST /otlp/v1/metrics`) as
// Mimir's distributor does: the body is protobuf (application/x-protobuf)
// or OTLP/JSON (application/json), optionally gzip-compressed; the Rust core
// decodes it, translates the metrics into Prometheus series (Mimir's OTLP
// translator) and ingests them through the remote-write path. The answer is
// in the request's encoding: an empty ExportMetricsServiceResponse (200),
// one with partial_success (200, samples the head refused), or a
// google.rpc.Status with Mimir's gRPC code and message (4xx/5xx).

import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { flagBool, flagNumber, flagString, ingestLimits } from '../config/config.js';
import type { LimitsSource } from '../limits/runtime-config.js';
import { log } from '../log.js';
import { ProtoWriter } from '../remote/protobuf-writer.js';
import type { Request } from '../server/http.js';
import type { Response } from '../server/response.js';
import type { OtlpIngestResult, OtlpOptions } from '../storage/native.js';
import type { PushExecutor } from './distributor.js';
import { DistributorMetrics } from './metrics.js';
import { OTLP_JSON, OTLP_PROTOBUF } from './otlp-request.js';
import { retryAfterHeaders } from './retry-after.js';

/** OTLP_PATH is the route of OTLP/HTTP metrics. */
export const OTLP_PATH = '/otlp/v1/metrics';

/** gRPC status codes used in error bodies. */
const GRPC_INTERNAL = 13;

/** REASON_OTLP_PARSE_ERROR is the discarded-samples reason of metrics the translator dropped. */
const REASON_OTLP_PARSE_ERROR = 'otlp_parse_error';

/** maxOtlpRequestSizeMessage is Mimir's distributorMaxOTLPRequestSizeErr text (actual unknown after decompression). */
export function maxOtlpRequestSizeMessage(limit: number, actual?: number): string {
  const size = actual === undefined ? '' : ` of ${actual} bytes`;
  return (
    `the incoming OTLP request has been rejected because its message size${size} is larger than the allowed limit of ${limit} bytes ` +
    '(err-mimir-distributor-max-otlp-request-size). To adjust the related limit, configure -distributor.max-otlp-request-size, or contact your service administrator.'
  );
}

/** goJsonString quotes s as Go's encoding/json does (HTML characters escaped as \u003c etc.). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** responseType mirrors the request's Content-Type, protobuf for anything unsupported (as Mimir). */
export function responseType(contentType: string): string {
  return contentType === OTLP_JSON ? OTLP_JSON : OTLP_PROTOBUF;
}

/** encodeStatus renders a google.rpc.Status {code, message} in the response type. */
export function encodeStatus(type: string, code: number, message: string): Buffer {
  if (type === OTLP_JSON) {
    const fields: string[] = [];
    if (code !== 0) fields.push(`"code":${code}`);
    if (message !== '') fields.push(`"message":${goJsonString(message)}`);
    return Buffer.from(`{${fields.join(',')}}`);
  }
  const w = new ProtoWriter(64 + message.length * 3);
  if (code !== 0) w.uintField(1, code);
  if (message !== '') w.string(2, message);
  return Buffer.from(w.finish());
}

/** encodeExportResponse renders an ExportMetricsServiceResponse, with partial_success when a message is given. */
export function encodeExportResponse(type: string, partialMessage?: string): Buffer {
  if (type === OTLP_JSON) {
    return Buffer.from(partialMessage === undefined ? '{}' : `{"partial_success":{${partialMessage === '' ? '' : `"error_message":${goJsonString(partialMessage)}`}}}`);
  }
  if (partialMessage === undefined) return Buffer.alloc(0);
  const w = new ProtoWriter(64 + partialMessage.length * 3);
  w.message(1, (p) => {
    if (partialMessage !== '') p.string(2, partialMessage);
  });
  return Buffer.from(w.finish());
}

/** unsupportedMediaType is Mimir's 415 text for the request's encoding or type, undefined when both are supported. */
export function unsupportedMediaType(contentType: string, contentEncoding: string): string | undefined {
  if (contentEncoding !== '' && contentEncoding !== 'gzip') return `unsupported compression: ${contentEncoding}. Only "gzip" or no compression supported`;
  if (contentType !== OTLP_PROTOBUF && contentType !== OTLP_JSON) return `unsupported content type: ${contentType}, supported: [${OTLP_JSON}, ${OTLP_PROTOBUF}]`;
  return undefined;
}

/** transferable returns an ArrayBuffer holding exactly buf's bytes (the body itself when it owns its memory). */
function transferable(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length && buf.buffer instanceof ArrayBuffer) return buf.buffer;
  return new Uint8Array(buf).buffer;
}

/** OtlpApi is the OTLP/HTTP metrics endpoint. */
export class OtlpApi {
  private readonly logger = log.with({ component: 'distributor' });
  private readonly metrics: DistributorMetrics;
  private readonly otlpRequests: Counter<'user'>;

  /**
   * The gate, when given, names why writes are refused right now (WAL replay, shutdown): the push
   * then gets a 503. limits gives a tenant's limits and flag values (its runtime overrides).
   */
  constructor(
    private readonly config: Config,
    private readonly executor: PushExecutor,
    registry: Registry,
    private readonly gate: () => string | undefined,
    private readonly limits: LimitsSource,
  ) {
    this.metrics = DistributorMetrics.of(registry);
    this.otlpRequests = new Counter({
      name: 'cortex_distributor_otlp_requests_total',
      help: 'The total number of OTLP requests that have come in to the distributor.',
      labelNames: ['user'],
      registers: [registry],
    });
  }

  /** maxRequestSize is -distributor.max-otlp-request-size. */
  get maxRequestSize(): number {
    return flagNumber(this.config.values, 'distributor.max-otlp-request-size');
  }

  /** tooLarge words the HTTP layer's 413 (Content-Length or streamed bytes over the limit). */
  readonly tooLarge = (limit: number, actual?: number): string => maxOtlpRequestSizeMessage(limit, actual);

  /** tooLargeResponse renders that 413 as a Status, after the 415 checks that Mimir makes first. */
  readonly tooLargeResponse = (req: Request, message: string): { status: number; body: Buffer; contentType: string } => {
    const contentType = req.headers.get('content-type') ?? '';
    const type = responseType(contentType);
    const unsupported = unsupportedMediaType(contentType, req.headers.get('content-encoding') ?? '');
    if (unsupported !== undefined) return { status: 415, body: encodeStatus(type, 415, unsupported), contentType: type };
    return { status: 413, body: encodeStatus(type, 413, message), contentType: type };
  };

  /** handle is the route handler. */
  readonly handle = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.tenant;
    const contentType = req.headers.get('content-type') ?? '';
    const type = responseType(contentType);
    const fail = (status: number, code: number, message: string): void => {
      const level = status >= 500 ? 'error' : 'warn';
      this.logger[level]('detected an error while ingesting OTLP metrics request (the request may have been partially ingested)', {
        user: tenant,
        httpCode: status,
        err: message,
        ...(status < 500 ? { insight: true } : {}),
      });
      res.send(status, encodeStatus(type, code, message), type, { 'X-Content-Type-Options': 'nosniff', ...retryAfterHeaders(this.config.values, status, req.headers.get('retry-attempt')) });
    };
    this.metrics.requestsIn.inc({ user: tenant });
    const unsupported = unsupportedMediaType(contentType, req.headers.get('content-encoding') ?? '');
    if (unsupported !== undefined) return fail(415, 415, unsupported);
    const closed = this.gate();
    if (closed !== undefined) return fail(503, GRPC_INTERNAL, closed);
    if (this.executor.runOtlp === undefined) return fail(503, GRPC_INTERNAL, 'OTLP ingestion is not available in this process');
    this.otlpRequests.inc({ user: tenant });
    const values = this.limits.values(tenant);
    const options: OtlpOptions = {
      json: contentType === OTLP_JSON,
      gzip: req.headers.get('content-encoding') === 'gzip',
      maxSize: this.maxRequestSize,
      addSuffixes: flagBool(values, 'distributor.otel-metric-suffixes-enabled'),
      promoteResourceAttributes: flagString(values, 'distributor.otel-promote-resource-attributes')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      keepIdentifyingResourceAttributes: flagBool(values, 'distributor.otel-keep-identifying-resource-attributes'),
      promoteScopeMetadata: flagBool(values, 'distributor.otel-promote-scope-metadata'),
      convertHistogramsToNhcb: flagBool(values, 'distributor.otel-convert-histograms-to-nhcb'),
      nativeDeltaIngestion: flagBool(values, 'distributor.otel-native-delta-ingestion'),
      createdTimestampZeroIngestion: flagBool(values, 'distributor.otel-created-timestamp-zero-ingestion-enabled'),
    };
    const outcome = await this.executor.runOtlp({ tenant, body: transferable(req.body), limits: ingestLimits(this.limits.limits(tenant), Date.now()), options });
    if (outcome.kind === 'unsupported') return fail(503, GRPC_INTERNAL, 'OTLP ingestion is not available in this process');
    const r = outcome.result;
    this.observe(tenant, r);
    if (r.status === 413) return fail(413, 413, maxOtlpRequestSizeMessage(this.maxRequestSize));
    if (r.status === 200) {
      res.send(200, encodeExportResponse(type, r.partialSuccess ? r.message : undefined), type, { 'X-Content-Type-Options': 'nosniff' });
      return;
    }
    fail(r.status, r.grpcCode, r.message);
  };

  /** observe folds the push into the distributor's counters. */
  private observe(tenant: string, r: OtlpIngestResult): void {
    // Dropped metrics are counted apart: they are not among the request's samples.
    const discarded: Array<string | number> = [];
    for (let i = 0; i + 1 < r.ingest.discarded.length; i += 2) {
      if (r.ingest.discarded[i] === REASON_OTLP_PARSE_ERROR) {
        this.metrics.discardedSamples.inc({ reason: REASON_OTLP_PARSE_ERROR, user: tenant }, Number(r.ingest.discarded[i + 1]));
      } else {
        discarded.push(r.ingest.discarded[i]!, r.ingest.discarded[i + 1]!);
      }
    }
    this.metrics.observe(tenant, { ...r.ingest, discarded });
  }
}
