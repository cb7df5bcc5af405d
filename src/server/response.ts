// response.ts wraps a uWebSockets.js HttpResponse: it remembers whether the
// client went away (never write to an aborted response), corks every write
// made outside the route callback, and streams big bodies with the
// tryEnd/onWritable loop so a slow reader only costs the bytes it has not read.

import type { HttpResponse } from 'uWebSockets.js';

/** STATUS_TEXT gives the reason phrase uWS needs in the status line. */
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** statusLine renders "413 Request Entity Too Large". */
export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Unknown'}`;
}

/** CONTENT_TYPE holds the content types the API uses. */
export const CONTENT_TYPE = {
  json: 'application/json',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  yaml: 'text/yaml; charset=utf-8',
} as const;

/** Response is one HTTP response; it is finished once send() has been called. */
export class Response {
  /** aborted is set by uWS's onAborted: from then on nothing may be written. */
  aborted = false;
  /** finished is set once a response has been started. */
  finished = false;
  /** status is the status code that was (or will be) sent; read by metrics. */
  status = 0;
  private readonly onDone: Array<() => void> = [];

  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
      this.complete();
    });
  }

  /** whenDone registers fn to run once the response is fully written or aborted. */
  whenDone(fn: () => void): void {
    this.onDone.push(fn);
  }

  private complete(): void {
    const fns = this.onDone.splice(0);
    for (const fn of fns) fn();
  }

  /**
   * send writes a whole response. Bodies above a few KiB go through the
   * backpressure loop. closeConnection asks uWS to close after the response
   * (used when the request body was not read).
   */
  send(status: number, body: string | Buffer, contentType: string = CONTENT_TYPE.text, headers: Record<string, string> = {}, closeConnection = false): void {
    if (this.finished) return;
    this.finished = true;
    this.status = status;
    if (this.aborted) {
      this.complete();
      return;
    }
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.res.writeHeader('Content-Type', contentType);
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      if (closeConnection || buf.length <= 64 * 1024) {
        this.res.end(buf, closeConnection);
        this.complete();
        return;
      }
      this.stream(buf);
    });
  }

  /** stream ends the response with buf, resuming on onWritable while the socket is full. */
  private stream(buf: Buffer): void {
    const total = buf.length;
    const base = this.res.getWriteOffset();
    const [ok, done] = this.res.tryEnd(buf, total);
    if (done) {
      this.complete();
      return;
    }
    if (ok) {
      this.complete();
      return;
    }
    this.res.onWritable((offset) => {
      if (this.aborted) return true;
      const [ok2, done2] = this.res.tryEnd(buf.subarray(offset - base), total);
      if (done2) this.complete();
      return ok2;
    });
  }

  /**
   * chunked starts a response whose body is written piece by piece (HTTP chunked encoding) by the
   * returned writer. Its write resolves once the socket has taken the piece (at once, or on
   * onWritable after backpressure), so a producer awaiting it holds at most one piece in memory
   * beyond what the client has not read; it answers false once the client went away.
   */
  chunked(status: number, contentType: string, headers: Record<string, string> = {}): ChunkedWriter {
    if (this.finished) throw new Error('response already started');
    this.finished = true;
    this.status = status;
    if (!this.aborted) {
      this.res.cork(() => {
        this.res.writeStatus(statusLine(status));
        this.res.writeHeader('Content-Type', contentType);
        for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      });
    }
    let ended = false;
    // wake resumes a write waiting on backpressure: true when the socket drained, false on abort.
    let wake: ((writable: boolean) => void) | undefined;
    this.whenDone(() => wake?.(false));
    return {
      write: (piece: Buffer): Promise<boolean> => {
        if (this.aborted || ended) return Promise.resolve(false);
        let ok = true;
        this.res.cork(() => {
          ok = this.res.write(piece);
        });
        if (ok) return Promise.resolve(true);
        // uWS buffered the piece; wait until the socket drains before producing the next one.
        return new Promise<boolean>((resolve) => {
          wake = (writable) => {
            wake = undefined;
            resolve(writable);
          };
          this.res.onWritable(() => {
            wake?.(!this.aborted);
            return true;
          });
        });
      },
      end: (): void => {
        if (ended) return;
        ended = true;
        if (!this.aborted) this.res.cork(() => this.res.end());
        this.complete();
      },
    };
  }

  /** text sends a plain-text body. */
  text(status: number, body: string): void {
    this.send(status, body, CONTENT_TYPE.text);
  }

  /** json sends a body that is already JSON. */
  json(status: number, body: string): void {
    this.send(status, body, CONTENT_TYPE.json);
  }

  /** empty sends a status with no body. */
  empty(status: number): void {
    this.send(status, '', CONTENT_TYPE.text);
  }
}

/** ChunkedWriter writes a response body piece by piece (Response.chunked). */
export interface ChunkedWriter {
  /** write sends one piece; it resolves true once the socket took it, false once the client went away. */
  write(piece: Buffer): Promise<boolean>;
  /** end finishes the response. */
  end(): void;
}
