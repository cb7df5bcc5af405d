// h2c.ts serves HttpServer's routes over cleartext HTTP/2 (prior knowledge,
// node:http2), for the internal API on -server.grpc-listen-port: the response
// wire over a stream, the body reader with the same hard limit, and the
// connection settings both ends of the internal API use.

import type { Http2ServerRequest, Http2ServerResponse, Settings } from 'node:http2';
import { BodyBuffer } from './body.js';
import type { ResponseWire } from './response.js';

/**
 * H2_SETTINGS open wide flow-control windows (the internal API moves pushes and select answers
 * of many MiB between trusted peers; the protocol's 64 KiB default costs a round trip per window).
 */
export const H2_SETTINGS: Settings = { initialWindowSize: 4 * 1024 * 1024, maxFrameSize: 1024 * 1024 };
/** H2_SESSION_WINDOW is the connection-level receive window both ends set. */
export const H2_SESSION_WINDOW = 64 * 1024 * 1024;
/** H2_MAX_SESSION_MEMORY (MiB) bounds what one session buffers before refusing new streams. */
export const H2_MAX_SESSION_MEMORY = 512;

/** CONNECTION_HEADERS are HTTP/1 connection-specific headers, which HTTP/2 forbids. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** h2Headers is a response's header object for HTTP/2: lower-case names, no connection headers. */
function h2Headers(contentType: string, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { 'content-type': contentType };
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (!CONNECTION_HEADERS.has(name)) out[name] = v;
  }
  return out;
}

/** h2Wire writes a Response to an HTTP/2 stream (through node's compatibility response). */
export function h2Wire(req: Http2ServerRequest, res: Http2ServerResponse): ResponseWire {
  // ended is set once the whole response was handed to the stream (node's compatibility response
  // emits 'finish' on any close, so it cannot tell a reset stream from a finished one).
  let ended = false;
  // A bodiless answer (HEAD, 204, 304) ends the stream with its headers.
  const bodiless = (status: number): boolean => req.method === 'HEAD' || status === 204 || status === 205 || status === 304;
  return {
    onAborted(fn) {
      res.stream.on('close', () => {
        if (!ended) fn();
      });
    },
    send(status, contentType, headers, body, closeConnection, done) {
      res.writeHead(status, h2Headers(contentType, headers));
      ended = true;
      if (bodiless(status) || body.length === 0) res.end(done);
      else res.end(body, done);
      // The request body was not read: take (and drop) the rest so the stream can close.
      if (closeConnection) req.resume();
    },
    head(status, contentType, headers) {
      res.writeHead(status, h2Headers(contentType, headers));
    },
    write(piece, drained) {
      const ok = res.write(piece);
      if (!ok) res.once('drain', drained);
      return ok;
    },
    end() {
      ended = true;
      res.end();
    },
  };
}

/**
 * readH2Body collects a request body into one standalone buffer (its ArrayBuffer can be
 * transferred to a worker); done(undefined) as soon as more than limit bytes arrived (the rest is
 * read and dropped). Nothing is called when the stream is reset before its end.
 */
export function readH2Body(req: Http2ServerRequest, limit: number, declared: number | undefined, done: (body: Buffer | undefined) => void): void {
  const body = new BodyBuffer(limit, declared);
  let over = false;
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    if (!body.add(chunk)) {
      over = true;
      done(undefined);
    }
  });
  req.on('end', () => {
    if (!over) done(body.body());
  });
}
