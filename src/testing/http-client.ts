// http-client.ts is the tests' HTTP client: node:http rather than fetch, so a
// response the server sends before it has read the body (413) and then
// closes the connection is still observed.

import http from 'node:http';

/** ClientResponse is what a test asserts on. */
export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** raw is the body's bytes (binary answers: protobuf). */
  raw: Buffer;
}

/** RequestOptions for one request. */
export interface ClientRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** chunked sends the body in two chunks without Content-Length. */
  chunked?: boolean;
}

/** httpRequest sends one request to 127.0.0.1:port. */
export function httpRequest(port: number, path: string, opts: ClientRequestOptions = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    if (body !== undefined && opts.chunked !== true) headers['Content-Length'] = String(body.length);
    let gotResponse = false;
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? (body ? 'POST' : 'GET'), headers, agent: false }, (res) => {
      gotResponse = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    // The server may answer and close before the whole body is written: that
    // is fine as long as a response arrives; a close without one is a failure.
    let lastError: Error | undefined;
    req.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err;
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    req.on('close', () => {
      if (!gotResponse) reject(lastError ?? new Error('connection closed without a response'));
    });
    if (body !== undefined) {
      if (opts.chunked === true) {
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));
        req.write(body.subarray(half));
      } else {
        req.write(body);
      }
    }
    req.end();
  });
}

/** jsonOf parses a response body as JSON. */
export function jsonOf<T = Record<string, unknown>>(res: ClientResponse): T {
  return JSON.parse(res.body) as T;
}
