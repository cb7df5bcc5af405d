// client.ts calls the internal API of other components (the ingesters' push,
// select and metadata reads on -server.grpc-listen-port): HTTP/1.1 with
// keep-alive connections, snappy-compressed bodies, a deadline per call and
// one retry when the connection fails before an answer.

import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import snappy from '@napi-rs/snappy';
import { Counter, type Registry } from 'prom-client';

/** InternalError is a failed internal call: status 0 for transport errors. */
export class InternalError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** InternalAnswer is a call's status, headers and (uncompressed) body. */
export interface InternalAnswer {
  status: number;
  body: Buffer;
  headers: IncomingHttpHeaders;
}

/** InternalStats count what crossed the internal wire (for the write-path benchmark). */
export interface InternalStats {
  requests: number;
  bytesSent: number;
  bytesReceived: number;
}

/** InternalClient posts to instances by address (host:port). */
export class InternalClient {
  private readonly agent: Agent;
  readonly stats: InternalStats = { requests: 0, bytesSent: 0, bytesReceived: 0 };

  /** maxSockets bounds the connections per address (default 32); calls held open for long (a query-scheduler's) need more. */
  constructor(private readonly opts: { timeoutMs: number; maxSockets?: number } = { timeoutMs: 10_000 }) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32, keepAliveMsecs: 10_000 });
  }

  /**
   * post sends body (compressed here) to addr+path with the tenant; the answer is uncompressed.
   * timeoutMs bounds the wait for the answer; signal, when given, abandons the call (the
   * connection is closed, which the other side sees).
   */
  async post(addr: string, path: string, tenant: string, body: Uint8Array, headers: Record<string, string> = {}, timeoutMs = this.opts.timeoutMs, signal?: AbortSignal): Promise<InternalAnswer> {
    return this.postCompressed(addr, path, tenant, snappy.compressSync(Buffer.from(body.buffer, body.byteOffset, body.byteLength)), headers, timeoutMs, signal);
  }

  /** postCompressed is post with a body already snappy-compressed (shared by several calls). */
  async postCompressed(addr: string, path: string, tenant: string, compressed: Buffer, headers: Record<string, string> = {}, timeoutMs = this.opts.timeoutMs, signal?: AbortSignal): Promise<InternalAnswer> {
    try {
      return await this.once(addr, path, tenant, compressed, headers, timeoutMs, signal);
    } catch (err) {
      // A connection refused or reset before any answer: retry once on a fresh connection.
      if (signal?.aborted !== true && err instanceof InternalError && err.status === 0 && /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE/.test(err.message)) {
        return this.once(addr, path, tenant, compressed, headers, timeoutMs, signal);
      }
      throw err;
    }
  }

  private once(addr: string, path: string, tenant: string, compressed: Buffer, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<InternalAnswer> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const colon = addr.lastIndexOf(':');
    const host = addr.slice(0, colon);
    const port = Number(addr.slice(colon + 1));
    this.stats.requests++;
    this.stats.bytesSent += compressed.length;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'Content-Length': compressed.length, 'X-Scope-OrgID': tenant, ...headers },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(new InternalError(0, `${addr}: ${err.message}`)));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            this.stats.bytesReceived += raw.length;
            let body: Buffer = raw;
            if (res.headers['content-encoding'] === 'snappy' && raw.length > 0) {
              try {
                body = snappy.uncompressSync(raw) as Buffer;
              } catch {
                reject(new InternalError(0, `${addr}: corrupt snappy answer`));
                return;
              }
            }
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`deadline of ${timeoutMs}ms exceeded`)));
      req.on('error', (err) => reject(signal?.aborted === true ? signal.reason : new InternalError(0, `${addr}: ${err.message}`)));
      if (signal !== undefined) {
        const onAbort = (): void => {
          req.destroy();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.end(compressed);
    });
  }

  /** close drops the pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** registerInternalClientMetrics exposes what crossed the internal wire (compressed bytes, both ways). */
export function registerInternalClientMetrics(registry: Registry, client: InternalClient): void {
  const stat = (name: string, help: string, get: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(get());
      },
    });
  };
  stat('mimir_internal_client_requests_total', 'Calls made to other components over the internal API.', () => client.stats.requests);
  stat('mimir_internal_client_sent_bytes_total', 'Compressed request bytes sent over the internal API.', () => client.stats.bytesSent);
  stat('mimir_internal_client_received_bytes_total', 'Compressed answer bytes received over the internal API.', () => client.stats.bytesReceived);
}
