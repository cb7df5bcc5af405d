// client.ts calls the internal API of other components (the ingesters' push,
// select and metadata reads on -server.grpc-listen-port, the schedulers',
// rulers' and alertmanagers' internal routes): cleartext HTTP/2 with prior
// knowledge, one connection per address carrying every call as a stream (more
// only past the peer's concurrent-stream limit), snappy-compressed bodies, a
// deadline per call (the stream is cancelled) and one retry when the
// connection fails before an answer.

import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import snappy from '@napi-rs/snappy';
import { Counter, type Registry } from 'prom-client';
import { H2_MAX_SESSION_MEMORY, H2_SESSION_WINDOW, H2_SETTINGS } from '../server/h2c.js';

/** InternalError is a failed internal call: status 0 for transport errors. */
export class InternalError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** ConnectionFailure is a transport error before any answer, the one a call is retried for. */
class ConnectionFailure extends InternalError {}

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

/** Session is one HTTP/2 connection to an address and its open streams. */
interface Session {
  session: ClientHttp2Session;
  open: number;
}

/** FAILED_BEFORE_ANSWER are the stream and connection errors that mean the peer never took the call. */
const FAILED_BEFORE_ANSWER = /ECONNRESET|ECONNREFUSED|EPIPE|ERR_HTTP2_GOAWAY_SESSION|ERR_HTTP2_SESSION_ERROR|ERR_HTTP2_INVALID_SESSION/;

/** InternalClient posts to instances by address (host:port). */
export class InternalClient {
  /** sessions holds each address's connections; a closed or failed one is dropped and the next call connects again. */
  private readonly sessions = new Map<string, Session[]>();
  readonly stats: InternalStats = { requests: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(private readonly opts: { timeoutMs: number } = { timeoutMs: 10_000 }) {}

  /**
   * post sends body (compressed here) to addr+path with the tenant; the answer is uncompressed.
   * timeoutMs bounds the wait for the answer; signal, when given, abandons the call (the
   * stream is cancelled, which the other side sees).
   */
  async post(addr: string, path: string, tenant: string, body: Uint8Array, headers: Record<string, string> = {}, timeoutMs = this.opts.timeoutMs, signal?: AbortSignal): Promise<InternalAnswer> {
    return this.postCompressed(addr, path, tenant, snappy.compressSync(Buffer.from(body.buffer, body.byteOffset, body.byteLength)), headers, timeoutMs, signal);
  }

  /** postCompressed is post with a body already snappy-compressed (shared by several calls). */
  async postCompressed(addr: string, path: string, tenant: string, compressed: Buffer, headers: Record<string, string> = {}, timeoutMs = this.opts.timeoutMs, signal?: AbortSignal): Promise<InternalAnswer> {
    try {
      return await this.once(addr, path, tenant, compressed, headers, timeoutMs, signal);
    } catch (err) {
      // A connection refused or broken before any answer: retry once (on a fresh connection).
      if (signal?.aborted !== true && err instanceof ConnectionFailure) {
        return this.once(addr, path, tenant, compressed, headers, timeoutMs, signal);
      }
      throw err;
    }
  }

  /**
   * open starts a call whose answer is read as a stream (a query-scheduler's long poll): the
   * request headers are sent with an empty body; the caller reads the response and closes the
   * stream (close(constants.NGHTTP2_CANCEL)) to abandon it.
   */
  open(addr: string, path: string, headers: Record<string, string>): ClientHttp2Stream {
    const s = this.session(addr);
    const stream = s.session.request({ ':method': 'POST', ':path': path, 'content-length': '0', ...headers }, { endStream: true });
    this.track(s, stream);
    return stream;
  }

  private once(addr: string, path: string, tenant: string, compressed: Buffer, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<InternalAnswer> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    this.stats.requests++;
    this.stats.bytesSent += compressed.length;
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      let s: Session;
      const outgoing: OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'content-length': String(compressed.length),
        'x-scope-orgid': tenant,
      };
      for (const [k, v] of Object.entries(headers)) outgoing[k.toLowerCase()] = v;
      try {
        s = this.session(addr);
        stream = s.session.request(outgoing);
      } catch (err) {
        const msg = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` : String(err);
        reject(new ConnectionFailure(0, `${addr}: ${msg.trim()}`));
        return;
      }
      this.track(s, stream);
      let answered = false;
      let timedOut = false;
      let failure: Error | undefined;
      let status = 0;
      let answerHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.setTimeout(timeoutMs, () => {
        timedOut = true;
        stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.on('response', (h) => {
        answered = true;
        status = Number(h[':status'] ?? 0);
        answerHeaders = h;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => (failure ??= err));
      stream.on('end', () => {
        // A stream ended by a broken connection ends without an answer: 'close' fails the call.
        if (!answered) return;
        const raw = Buffer.concat(chunks);
        this.stats.bytesReceived += raw.length;
        let body: Buffer = raw;
        if (answerHeaders['content-encoding'] === 'snappy' && raw.length > 0) {
          try {
            body = snappy.uncompressSync(raw) as Buffer;
          } catch {
            reject(new InternalError(0, `${addr}: corrupt snappy answer`));
            return;
          }
        }
        const { ':status': _, ...rest } = answerHeaders;
        resolve({ status, body, headers: rest });
      });
      stream.on('close', () => {
        // After 'end' the promise is settled and these do nothing.
        if (signal?.aborted === true) {
          reject(signal.reason);
          return;
        }
        if (timedOut) {
          reject(new InternalError(0, `${addr}: deadline of ${timeoutMs}ms exceeded`));
          return;
        }
        // A stream still pending when its connection failed names the connection's error as its cause.
        const cause = (failure as { cause?: unknown } | undefined)?.cause;
        const err = cause instanceof Error ? cause : failure;
        const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
        const broken = s.session.destroyed || s.session.closed;
        const msg = err !== undefined ? err.message : broken ? 'connection closed before an answer' : `stream closed with code ${stream.rstCode ?? 0}`;
        const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
        const beforeAnswer = !answered && (broken || refused || FAILED_BEFORE_ANSWER.test(`${code} ${msg}`));
        reject(new (beforeAnswer ? ConnectionFailure : InternalError)(0, `${addr}: ${msg}`));
      });
      if (signal !== undefined) {
        const onAbort = (): void => {
          stream.close(constants.NGHTTP2_CANCEL);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        stream.on('close', () => signal.removeEventListener('abort', onAbort));
      }
      stream.end(compressed);
    });
  }

  /**
   * session is a connection to addr with room for one more stream (the peer's
   * SETTINGS_MAX_CONCURRENT_STREAMS): an open one, else a new one.
   */
  private session(addr: string): Session {
    const list = this.sessions.get(addr) ?? [];
    for (const s of list) {
      if (s.session.closed || s.session.destroyed) continue;
      const limit = s.session.remoteSettings.maxConcurrentStreams ?? Infinity;
      if (s.open < limit) return s;
    }
    const session = connect(`http://${addr}`, { settings: H2_SETTINGS, maxSessionMemory: H2_MAX_SESSION_MEMORY });
    const s: Session = { session, open: 0 };
    const drop = (): void => {
      const l = this.sessions.get(addr);
      if (l === undefined) return;
      const i = l.indexOf(s);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.sessions.delete(addr);
    };
    // A failure reaches the open streams (and the calls waiting on them); the connection is dropped.
    session.on('error', drop);
    session.on('close', drop);
    session.on('goaway', drop);
    session.on('connect', () => session.setLocalWindowSize(H2_SESSION_WINDOW));
    // An idle connection does not keep the process alive (a stream in flight does).
    session.unref();
    list.push(s);
    this.sessions.set(addr, list);
    return s;
  }

  /** track counts a stream on its session, which keeps the process alive while any is open. */
  private track(s: Session, stream: ClientHttp2Stream): void {
    if (s.open++ === 0) s.session.ref();
    stream.on('close', () => {
      if (--s.open === 0 && !s.session.destroyed) s.session.unref();
    });
  }

  /** close closes every connection (calls in flight fail; a later call connects again). */
  close(): void {
    for (const list of this.sessions.values()) for (const s of list) s.session.destroy();
    this.sessions.clear();
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
