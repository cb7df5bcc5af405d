// response.ts is the response handlers write: it remembers whether the client
// went away (never write to an aborted response) and writes through a wire,
// a uWebSockets.js HttpResponse (every write corked, big bodies streamed with
// the tryEnd/onWritable loop so a slow reader only costs the bytes it has not
// read) or an HTTP/2 stream (h2c.ts).

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

/**
 * ResponseWire is what a Response writes through: a uWebSockets.js response (uwsWire) or an
 * HTTP/2 stream (src/server/h2c.ts), so that one set of handlers serves both.
 */
export interface ResponseWire {
  /** onAborted registers fn to run once if the client goes away before the response is done. */
  onAborted(fn: () => void): void;
  /** send writes the status, headers and whole body; done runs once the body was handed over. */
  send(status: number, contentType: string, headers: Record<string, string>, body: Buffer, closeConnection: boolean, done: () => void): void;
  /** head starts a response whose body is written piece by piece. */
  head(status: number, contentType: string, headers: Record<string, string>): void;
  /** write sends one piece: true when it was taken at once, else drained runs once more can be written. */
  write(piece: Buffer, drained: () => void): boolean;
  /** end finishes a piecewise body. */
  end(): void;
}

/**
 * uwsWire writes a uWebSockets.js response: every write corked, bodies above a few KiB through the
 * tryEnd/onWritable backpressure loop.
 */
export function uwsWire(res: HttpResponse): ResponseWire {
  let aborted = false;
  // The status line and headers (inside a cork).
  const writeHead = (status: number, contentType: string, headers: Record<string, string>): void => {
    res.writeStatus(statusLine(status));
    res.writeHeader('Content-Type', contentType);
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
  };
  const stream = (buf: Buffer, done: () => void): void => {
    const total = buf.length;
    const base = res.getWriteOffset();
    const [ok, finished] = res.tryEnd(buf, total);
    if (finished || ok) {
      done();
      return;
    }
    res.onWritable((offset) => {
      if (aborted) return true;
      const [ok2, done2] = res.tryEnd(buf.subarray(offset - base), total);
      if (done2) done();
      return ok2;
    });
  };
  return {
    onAborted(fn) {
      res.onAborted(() => {
        aborted = true;
        fn();
      });
    },
    send(status, contentType, headers, body, closeConnection, done) {
      res.cork(() => {
        writeHead(status, contentType, headers);
        if (closeConnection || body.length <= 64 * 1024) {
          res.end(body, closeConnection);
          done();
          return;
        }
        stream(body, done);
      });
    },
    head(status, contentType, headers) {
      res.cork(() => writeHead(status, contentType, headers));
    },
    write(piece, drained) {
      let ok = true;
      res.cork(() => {
        ok = res.write(piece);
      });
      if (!ok)
        res.onWritable(() => {
          drained();
          return true;
        });
      return ok;
    },
    end() {
      res.cork(() => res.end());
    },
  };
}

/** Response is one HTTP response; it is finished once send() has been called. */
export class Response {
  /** aborted is set when the client went away: from then on nothing may be written. */
  aborted = false;
  /** finished is set once a response has been started. */
  finished = false;
  /** status is the status code that was (or will be) sent; read by metrics. */
  status = 0;
  private readonly onDone: Array<() => void> = [];

  constructor(private readonly wire: ResponseWire) {
    wire.onAborted(() => {
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
   * send writes a whole response; a big body is written as the client reads it. closeConnection
   * asks to close the connection after the response (used when the request body was not read).
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
    this.wire.send(status, contentType, headers, buf, closeConnection, () => this.complete());
  }

  /**
   * chunked starts a response whose body is written piece by piece (HTTP chunked encoding, or
   * DATA frames over HTTP/2) by the returned writer. Its write resolves once the connection has
   * taken the piece (at once, or once it drained after backpressure), so a producer awaiting it
   * holds at most one piece in memory beyond what the client has not read; it answers false once
   * the client went away.
   */
  chunked(status: number, contentType: string, headers: Record<string, string> = {}): ChunkedWriter {
    if (this.finished) throw new Error('response already started');
    this.finished = true;
    this.status = status;
    if (!this.aborted) this.wire.head(status, contentType, headers);
    let ended = false;
    // wake resumes a write waiting on backpressure: true when the connection drained, false on abort.
    let wake: ((writable: boolean) => void) | undefined;
    this.whenDone(() => wake?.(false));
    return {
      write: (piece: Buffer): Promise<boolean> => {
        if (this.aborted || ended) return Promise.resolve(false);
        if (this.wire.write(piece, () => wake?.(!this.aborted))) return Promise.resolve(true);
        return new Promise<boolean>((resolve) => {
          wake = (writable) => {
            wake = undefined;
            resolve(writable);
          };
        });
      },
      end: (): void => {
        if (ended) return;
        ended = true;
        if (!this.aborted) this.wire.end();
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
