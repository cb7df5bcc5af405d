// http.ts is the HTTP layer over uWebSockets.js: routes with `:name` params,
// request bodies read up to a hard limit (413 as soon as Content-Length or the
// streamed bytes exceed it), query and form parsing, error rendering, and a
// graceful close that stops listening and waits for in-flight requests. One
// route table serves either transport: uWS (HTTP/1.1) or, for the internal API,
// cleartext HTTP/2 (h2c.ts).

import { createServer as createH2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { AUTH_ERROR_KINDS, ApiError, errorEnvelope, toApiError } from '../errors.js';
import { log } from '../log.js';
import type { Visibility } from '../auth/visibility.js';
import { Params, isFormContentType, parseQuery, unescapeComponent } from './params.js';
import { H2_MAX_SESSION_MEMORY, H2_SESSION_WINDOW, H2_SETTINGS, h2Wire, readH2Body } from './h2c.js';
import { BodyBuffer } from './body.js';
import { CONTENT_TYPE, Response, uwsWire } from './response.js';

/** Method is an HTTP method a route can be registered for. */
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

/** Request is everything a handler may read; it outlives the uWS callback. */
export interface Request {
  method: string;
  /** path is the URL path without the query. */
  path: string;
  /** route is the registered pattern, used as the metrics route label. */
  route: string;
  headers: Map<string, string>;
  /** params are the decoded `:name` path parameters. */
  params: Record<string, string>;
  /** query holds the query string values. */
  query: Params;
  /** form holds form body values then query values (Go's r.Form); equals query for non-form requests. */
  form: Params;
  /** body is the raw request body (empty for bodiless requests). */
  body: Buffer;
  /** tenant is set by the auth step of routes that need one ('' otherwise); a federated read's tenants are joined by `|`. */
  tenant: string;
  /** visibility, set by enterprise auth, limits each tenant's reads to its label policies (LBAC); absent: all series. */
  visibility?: Visibility;
}

/** Handler answers a request; a thrown ApiError becomes an error response. */
export type Handler = (req: Request, res: Response) => void | Promise<void>;

/** RouteOptions tune one route. */
export interface RouteOptions {
  /** maxBodyBytes is the body limit for this route (default 10 MiB). */
  maxBodyBytes?: number;
  /** tooLarge words the 413 message; actual is known when Content-Length was sent. */
  tooLarge?: (limit: number, actual?: number) => string;
  /** errors selects how thrown errors are rendered: the Prometheus JSON envelope or plain text. */
  errors?: 'json' | 'text';
  /** before runs ahead of reading the body (auth): a thrown ApiError answers without reading it. */
  before?: (req: Request) => void;
  /**
   * tooLargeResponse, when set, renders the 413 instead of plain text (and may answer with another
   * status, e.g. OTLP's 415 for an unsupported content type, checked first as Mimir does).
   */
  tooLargeResponse?: (req: Request, message: string) => { status: number; body: string | Buffer; contentType: string };
}

/** RequestObserver sees every finished request (metrics, logs). */
export type RequestObserver = (method: string, route: string, status: number, seconds: number) => void;

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/**
 * UNMATCHED_HEADER marks the router's own 404 and 405 (no route for the path or the method), so
 * that a check can tell them from a handler's 404 for an unknown object.
 */
export const UNMATCHED_HEADER = 'X-Unmatched-Route';

/** Route is one registered pattern with its handler. */
interface Route {
  pattern: string;
  /** re matches the path, capturing each `:name` segment. */
  re: RegExp;
  paramNames: string[];
  methods: Set<string>;
  handler: Handler;
  opts: RouteOptions;
}

/** Incoming is a request's head as a transport read it. */
interface Incoming {
  method: string;
  path: string;
  query: string;
  headers: Map<string, string>;
  /** params are the raw (still escaped) `:name` segments in order. */
  params: string[];
}

/** BodyReader reads a request body up to limit bytes (done(undefined) past it). */
type BodyReader = (limit: number, declared: number | undefined, done: (body: Buffer | undefined) => void) => void;

/** HttpServerOptions choose the transport. */
export interface HttpServerOptions {
  /** http2 serves cleartext HTTP/2 with prior knowledge (node:http2) in place of uWS's HTTP/1.1. */
  http2?: boolean;
}

/** HttpServer owns one route table, served by a uWS App or an HTTP/2 server. */
export class HttpServer {
  private readonly app: TemplatedApp | undefined;
  private readonly h2: Http2Server | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();
  private listenSocket: us_listen_socket | undefined;
  private inflight = 0;
  private drained: Array<() => void> = [];
  private observers: RequestObserver[] = [];
  private notFoundRegistered = false;
  /** routes are matched by uWS (HTTP/1.1) or here (HTTP/2); a wrong method answers 405 rather than 404. */
  private readonly routes: Route[] = [];

  constructor(opts: HttpServerOptions = {}) {
    if (opts.http2 !== true) {
      this.app = uWS.App();
      return;
    }
    const h2 = createH2Server({ settings: H2_SETTINGS, maxSessionMemory: H2_MAX_SESSION_MEMORY });
    h2.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', (err) => log.debug('internal API connection failed', { err }));
      session.on('connect', () => session.setLocalWindowSize(H2_SESSION_WINDOW));
    });
    h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => this.serveH2(req, res));
    this.h2 = h2;
  }

  /** observe registers a callback run when each request completes. */
  onRequest(fn: RequestObserver): void {
    this.observers.push(fn);
  }

  /** route registers handler for the given methods and pattern (`/api/v1/label/:name/values`). */
  route(methods: Method | Method[], pattern: string, handler: Handler, opts: RouteOptions = {}): void {
    const paramNames = pattern.split('/').filter((p) => p.startsWith(':')).map((p) => p.slice(1));
    const re = new RegExp('^' + pattern.split('/').map((p) => (p.startsWith(':') ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$');
    const list = Array.isArray(methods) ? methods : [methods];
    const route: Route = { pattern, re, paramNames, methods: new Set(list), handler, opts };
    this.routes.push(route);
    const app = this.app;
    if (app === undefined) return;
    const cb = (res: HttpResponse, req: HttpRequest): void => {
      const r = new Response(uwsWire(res));
      this.dispatch(r, () => uwsIncoming(req, paramNames.length), route, (limit, declared, done) => readBody(res, r, limit, declared, done));
    };
    for (const m of list) {
      switch (m) {
        case 'GET':
          app.get(pattern, cb);
          break;
        case 'POST':
          app.post(pattern, cb);
          break;
        case 'PUT':
          app.put(pattern, cb);
          break;
        case 'DELETE':
          app.del(pattern, cb);
          break;
        case 'PATCH':
          app.patch(pattern, cb);
          break;
        case 'HEAD':
          app.head(pattern, cb);
          break;
      }
    }
  }

  /**
   * notFound registers the catch-all: 405 when the path exists for another
   * method (as gorilla/mux), else 404 worded as Go's http.NotFound.
   */
  notFound(): void {
    if (this.notFoundRegistered) return;
    this.notFoundRegistered = true;
    this.app?.any('/*', (res, req) => this.unmatched(new Response(uwsWire(res)), req.getMethod().toUpperCase(), req.getUrl()));
  }

  /** unmatched answers a request no route takes: 405 with Allow when the path has other methods, else 404. */
  private unmatched(r: Response, method: string, path: string): void {
    const start = process.hrtime.bigint();
    this.track(r, method, 'notfound', start);
    const allowed = this.routes.filter((p) => p.re.test(path)).flatMap((p) => [...p.methods]);
    if (allowed.length > 0) r.send(405, '', CONTENT_TYPE.text, { Allow: [...new Set(allowed)].join(', '), [UNMATCHED_HEADER]: 'true' });
    else r.send(404, '404 page not found\n', CONTENT_TYPE.text, { [UNMATCHED_HEADER]: 'true' });
  }

  /**
   * serveH2 routes an HTTP/2 request: the first route whose pattern and method match, patterns
   * without parameters first (as uWS prefers static segments).
   */
  private serveH2(req: Http2ServerRequest, res: Http2ServerResponse): void {
    const r = new Response(h2Wire(req, res));
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method.toUpperCase();
    let found: { route: Route; m: RegExpExecArray } | undefined;
    for (const pass of [false, true]) {
      for (const route of this.routes) {
        if (route.paramNames.length > 0 !== pass || !route.methods.has(method)) continue;
        const m = route.re.exec(path);
        if (m !== null) {
          found = { route, m };
          break;
        }
      }
      if (found !== undefined) break;
    }
    if (found === undefined) {
      this.unmatched(r, method, path);
      return;
    }
    const { route, m } = found;
    const incoming = (): Incoming => {
      const headers = new Map<string, string>();
      for (const [k, v] of Object.entries(req.headers)) {
        if (k.startsWith(':') || v === undefined) continue;
        headers.set(k, Array.isArray(v) ? (v[0] ?? '') : v);
      }
      const authority = req.headers[':authority'];
      if (!headers.has('host') && typeof authority === 'string') headers.set('host', authority);
      return { method, path, query: q < 0 ? '' : url.slice(q + 1), headers, params: m.slice(1) };
    };
    this.dispatch(r, incoming, route, (limit, declared, done) => readH2Body(req, limit, declared, done));
  }

  private track(r: Response, method: string, route: string, start: bigint): void {
    this.inflight++;
    r.whenDone(() => {
      this.inflight--;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      for (const fn of this.observers) fn(method, route, r.aborted && r.status === 0 ? 499 : r.status, seconds);
      if (this.inflight === 0) for (const fn of this.drained.splice(0)) fn();
    });
  }

  /**
   * dispatch runs a matched route: incoming reads the request's head (synchronously, while the
   * transport's request is valid), readBody its body.
   */
  private dispatch(r: Response, incoming: () => Incoming, matched: Route, readBody: BodyReader): void {
    const start = process.hrtime.bigint();
    const { pattern: route, paramNames, handler, opts } = matched;
    const head = incoming();
    const method = head.method;
    this.track(r, method, route, start);
    const errors = opts.errors ?? 'text';
    const fail = (err: unknown): void => this.sendError(r, toApiError(err), errors);
    let request: Request;
    try {
      const params: Record<string, string> = {};
      paramNames.forEach((name, i) => {
        params[name] = unescapeComponent(head.params[i] ?? '');
      });
      const query = parseQuery(head.query);
      request = { method, path: head.path, route, headers: head.headers, params, query, form: query, body: EMPTY, tenant: '' };
      opts.before?.(request);
    } catch (err) {
      // The body (if any) is left unread, so the connection cannot be reused.
      const e = toApiError(err);
      if (method === 'GET' || method === 'HEAD') this.sendError(r, e, errors);
      else this.sendError(r, e, errors, true);
      return;
    }
    const run = (): void => {
      try {
        const p = handler(request, r);
        if (p !== undefined) p.catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    if (method === 'GET' || method === 'HEAD') {
      run();
      return;
    }
    const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const tooLarge = opts.tooLarge ?? ((l: number) => `request body too large: limit is ${l} bytes`);
    const lengthHeader = request.headers.get('content-length');
    const declared = lengthHeader === undefined || lengthHeader === '' ? undefined : Number(lengthHeader);
    const sendTooLarge = (actual?: number): void => {
      const message = tooLarge(limit, actual);
      const custom = opts.tooLargeResponse?.(request, message);
      if (custom !== undefined) r.send(custom.status, custom.body, custom.contentType, {}, true);
      else r.send(413, message, CONTENT_TYPE.text, {}, true);
    };
    if (declared !== undefined && declared > limit) {
      sendTooLarge(declared);
      return;
    }
    readBody(limit, declared, (body) => {
      if (body === undefined) {
        sendTooLarge();
        return;
      }
      request.body = body;
      try {
        if (body.length > 0 && isFormContentType(request.headers.get('content-type') ?? '')) {
          const form = parseQuery(body.toString('utf8'));
          form.merge(request.query);
          request.form = form;
        }
      } catch (err) {
        fail(err);
        return;
      }
      run();
    });
  }

  private sendError(r: Response, err: ApiError, format: 'json' | 'text', closeConnection = false): void {
    if (err.kind === 'internal') log.error('request failed', { err: err.message });
    if (format === 'json' && !AUTH_ERROR_KINDS.has(err.kind)) r.send(err.status, errorEnvelope(err), CONTENT_TYPE.json, err.headers, closeConnection);
    else r.send(err.status, err.message + '\n', CONTENT_TYPE.text, err.headers, closeConnection);
  }

  /** listen binds host:port (port 0 = ephemeral) and returns the bound port. */
  listen(host: string, port: number): Promise<number> {
    this.notFound();
    const h2 = this.h2;
    if (h2 !== undefined) {
      return new Promise((resolve, reject) => {
        const failed = (): void => reject(new Error(`failed to listen on ${host}:${port}`));
        h2.once('error', failed);
        h2.listen(port, host === '' ? undefined : host, () => {
          h2.off('error', failed);
          resolve((h2.address() as { port: number }).port);
        });
      });
    }
    const app = this.app!;
    return new Promise((resolve, reject) => {
      const cb = (socket: us_listen_socket | false): void => {
        if (socket === false) {
          reject(new Error(`failed to listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
      };
      if (host === '') app.listen(port, cb);
      else app.listen(host, port, cb);
    });
  }

  /** close stops listening, waits for in-flight requests (up to timeoutMs), then closes every connection. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.listenSocket !== undefined) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    // HTTP/2: no new connections; open ones may still start requests until they are closed below.
    this.h2?.close();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drained.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.app !== undefined) (this.app as unknown as { close(): void }).close();
    for (const s of this.sessions) s.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * uwsIncoming reads a uWS request's head. A header sent more than once reads as its first value,
 * as Go's Header.Get (clients such as go-openapi send one Accept header per media type).
 */
function uwsIncoming(req: HttpRequest, paramCount: number): Incoming {
  const headers = new Map<string, string>();
  req.forEach((k, v) => {
    if (!headers.has(k)) headers.set(k, v);
  });
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
  return { method: req.getMethod().toUpperCase(), path: req.getUrl(), query: req.getQuery() ?? '', headers, params };
}

/**
 * readBody collects the request body into one standalone buffer (its
 * ArrayBuffer can be transferred to a worker). It calls done(undefined) as
 * soon as more than limit bytes arrived. uWS neuters each chunk after the
 * callback, so chunks are copied.
 */
function readBody(res: HttpResponse, r: Response, limit: number, declared: number | undefined, done: (body: Buffer | undefined) => void): void {
  const body = new BodyBuffer(limit, declared);
  let over = false;
  res.onData((chunk, isLast) => {
    if (over || r.aborted) return;
    if (!body.add(new Uint8Array(chunk))) {
      over = true;
      done(undefined);
      return;
    }
    if (isLast) done(body.body());
  });
}
