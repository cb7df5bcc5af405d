// distributor.ts answers remote-write pushes (`/api/v1/push`, legacy
// `/api/prom/push`): the tenant and body size were checked by the route
// options before the body was read; here the body goes to the push executor
// (a Piscina worker), and the IngestResult comes back to update the metrics
// and choose the status: 200 with an empty body, or the first error as
// plain text (400 for bad data; the valid series were stored anyway).
// Remote write 2.0 bodies (by Content-Type, see remote-write-v2.ts) take the
// same path through the 2.0 decoder and are answered 204 with the counts of
// what was written in the X-Prometheus-Remote-Write-*-Written headers.
// Pushes run in the Piscina pool (production: CPU work off the main thread,
// body transferred, not copied) or inline against a given Appender (tests
// with a fake storage, which lives in one thread).

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Config, Limits } from '../config/config.js';
import { ingestLimits } from '../config/config.js';
import { ApiError } from '../errors.js';
import { log } from '../log.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { Appender, IngestResult } from '../storage/native.js';
import { decodeAndIngest, decodeAndIngestAsync, type PushOutcome, type PushTask } from './push.js';
import type { DistributorMetrics } from './metrics.js';
import { negotiateRemoteWrite, writtenHeaders } from './remote-write-v2.js';
import { ingestOtlpTask, type OtlpOutcome, type OtlpTask } from './otlp-push.js';
import type { HaTracker } from './ha-tracker.js';
import { retryAfterHeaders } from './retry-after.js';

/** DistributorExtras are the optional parts of the push path. */
export interface DistributorExtras {
  /** ha, when given, adds each tenant's HA tracker settings to its pushes. */
  ha?: HaTracker;
  /** onIngested sees every push's result (the per-tenant ingestion rates). */
  onIngested?: (tenant: string, result: IngestResult) => void;
}

/** maxWriteMessageSizeMessage is Mimir's distributorMaxWriteMessageSizeErr text. */
export function maxWriteMessageSizeMessage(limit: number, actual?: number, uncompressed = false): string {
  const size = actual === undefined ? '' : ` of ${actual} bytes${uncompressed ? ' (uncompressed)' : ''}`;
  return (
    `the incoming push request has been rejected because its message size${size} is larger than the allowed limit of ${limit} bytes ` +
    '(err-mimir-distributor-max-write-message-size). To adjust the related limit, configure -distributor.max-recv-msg-size, or contact your service administrator.'
  );
}

/** standaloneArrayBuffer returns an ArrayBuffer holding exactly buf's bytes, safe to transfer. */
function standaloneArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.length > 0 && buf.byteOffset === 0 && buf.buffer.byteLength === buf.length && buf.buffer instanceof ArrayBuffer) return buf.buffer;
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}

/** Distributor handles pushes for every tenant. */
export class Distributor {
  private readonly logger = log.with({ component: 'distributor' });

  /**
   * The gate, when given, names why writes are refused right now (the ingester is replaying its
   * WAL or shutting down): pushes then get a 503 with that text. limitsFor gives a tenant's
   * current limits (its runtime overrides on top of the defaults).
   */
  constructor(
    private readonly config: Config,
    private readonly executor: PushExecutor,
    private readonly metrics: DistributorMetrics,
    private readonly gate: () => string | undefined = () => undefined,
    private readonly limitsFor: (tenant: string) => Limits = () => config.limits,
    private readonly extras: DistributorExtras = {},
  ) {}

  /** tooLarge words the 413 for the HTTP layer's body limit. */
  readonly tooLarge = (limit: number, actual?: number): string => maxWriteMessageSizeMessage(limit, actual);

  /** handlePush is the route handler. */
  readonly handlePush = async (req: Request, res: Response): Promise<void> => {
    const tenant = req.tenant;
    this.metrics.requestsIn.inc({ user: tenant });
    const closed = this.gate();
    if (closed !== undefined) {
      // As the thrown ApiError would answer, with Retry-After (a 5xx the client should retry).
      res.send(503, closed + '\n', CONTENT_TYPE.text, retryAfterHeaders(this.config.values, 503, req.headers.get('retry-attempt')));
      return;
    }
    const negotiated = negotiateRemoteWrite(req.headers.get('content-type'), req.headers.get('content-encoding'));
    if (!negotiated.ok) throw new ApiError('unsupported_media_type', negotiated.message);
    const protocol = negotiated.protocol;
    const tenantLimits = this.limitsFor(tenant);
    const limits = ingestLimits(tenantLimits, Date.now());
    if (this.extras.ha !== undefined) Object.assign(limits, this.extras.ha.pushLimits(tenantLimits));
    const outcome = await this.executor.run({
      tenant,
      body: standaloneArrayBuffer(req.body),
      limits,
      maxRecvMsgSize: this.config.maxRecvMsgSize,
      ...(protocol === 2 ? { protocol } : {}),
    });
    switch (outcome.kind) {
      case 'unsupported':
        throw new ApiError('unsupported_media_type', outcome.message);
      case 'bad_snappy':
        throw new ApiError('bad_data', outcome.message);
      case 'too_large':
        throw new ApiError('too_large', maxWriteMessageSizeMessage(this.config.maxRecvMsgSize, outcome.uncompressedSize, true));
      case 'ingested': {
        const r = outcome.result;
        this.metrics.observe(tenant, r);
        // Metadata over the limits does not fail the push; Mimir's ingester logs it.
        if (r.metadataWarning !== undefined) this.logger.warn('failed to ingest some metadata', { user: tenant, err: r.metadataWarning });
        const headers = protocol === 2 ? writtenHeaders(r) : {};
        this.extras.onIngested?.(tenant, r);
        if (r.errorMessage !== undefined && r.errorMessage !== '') {
          const status = r.errorStatus ?? 400;
          this.logger.debug('push rejected', { user: tenant, status, err: r.errorMessage });
          res.send(status, r.errorMessage + '\n', CONTENT_TYPE.text, { ...headers, ...retryAfterHeaders(this.config.values, status, req.headers.get('retry-attempt')) });
          return;
        }
        // 1.0: Mimir's 200 with an empty body; 2.0: the spec's 204 with the written counts.
        if (protocol === 2) res.send(204, '', CONTENT_TYPE.text, headers);
        else res.empty(200);
      }
    }
  };
}

/** PushExecutor runs one push task. */
export interface PushExecutor {
  run(task: PushTask): Promise<PushOutcome>;
  /** runOtlp runs one OTLP push (absent: the executor cannot). */
  runOtlp?(task: OtlpTask): Promise<OtlpOutcome>;
  close(): Promise<void>;
}

/** inlineExecutor runs pushes on the calling thread. */
export function inlineExecutor(appender: Appender): PushExecutor {
  return {
    run: async (task) => decodeAndIngest(appender, task),
    runOtlp: async (task) => ingestOtlpTask(appender, task),
    close: async () => {},
  };
}

/**
 * smallInline runs pushes whose compressed body is at most maxBytes on the calling thread
 * (inline) and the rest through pool: for the ruler's own results, a handful of samples
 * per rule, where a worker round trip costs more CPU than the append. close closes pool.
 */
export function smallInline(pool: PushExecutor, inline: PushExecutor, maxBytes: number): PushExecutor {
  return {
    run: (task) => (task.body.byteLength <= maxBytes ? inline.run(task) : pool.run(task)),
    runOtlp: pool.runOtlp === undefined ? undefined : (task) => pool.runOtlp!(task),
    close: () => pool.close(),
  };
}

/**
 * nativeThreadsExecutor appends remote-write pushes on the native module's threads (the libuv
 * pool, ingestSnappyWriteRequestAsync): the main thread reads the snappy header and hands the
 * body over, with no JavaScript worker round trip per push (which cost more CPU than the
 * append of a histogram push). OTLP pushes, translated in a worker, go to `otlp`.
 */
export function nativeThreadsExecutor(appender: Appender, otlp: PushExecutor): PushExecutor {
  return {
    run: (task) => decodeAndIngestAsync(appender, task),
    ...(otlp.runOtlp === undefined ? {} : { runOtlp: (task: OtlpTask) => otlp.runOtlp!(task) }),
    close: () => otlp.close(),
  };
}

/** PUSH_WORKER is the compiled worker entrypoint (dist/workers/push.js). */
export const PUSH_WORKER = fileURLToPath(new URL('../../workers/push.js', import.meta.url));

/**
 * poolExecutor runs pushes in a Piscina pool of worker threads, one per core:
 * the main thread only moves bytes, the workers do the decoding and appending.
 * Atomics are disabled so that idle workers return to their event loop, where
 * the finalizers of native buffers (snappy output) run; with Piscina's default
 * `atomics: 'sync'` a parked worker never frees them and RSS grows by about one
 * request body per push.
 */
export function poolExecutor(threads = Math.max(1, availableParallelism())): PushExecutor {
  const pool = new Piscina({ filename: PUSH_WORKER, minThreads: 1, maxThreads: threads, idleTimeout: 60_000, atomics: 'disabled' });
  return {
    run: (task) => pool.run(task, { transferList: [task.body] }) as Promise<PushOutcome>,
    runOtlp: (task) => pool.run(task, { name: 'otlp', transferList: [task.body] }) as Promise<OtlpOutcome>,
    close: () => pool.destroy(),
  };
}
