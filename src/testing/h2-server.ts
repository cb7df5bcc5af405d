// h2-server.ts runs fake internal-API peers in tests: a cleartext HTTP/2
// server (node:http2, the compatibility request/response API) whose
// connections are remembered so that a test can close them all at its end
// (an open HTTP/2 connection would otherwise hold the test process).

import { createServer, type Http2Server, type ServerHttp2Session, type Settings } from 'node:http2';

const open = new WeakMap<Http2Server, Set<ServerHttp2Session>>();

/** h2FakeServer is an HTTP/2 server (with settings, when given) that remembers its connections. */
export function h2FakeServer(settings?: Settings): Http2Server {
  const server = createServer(settings !== undefined ? { settings } : {});
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  open.set(server, sessions);
  return server;
}

/** closeH2FakeServer stops listening and closes every connection at once. */
export function closeH2FakeServer(server: Http2Server): void {
  server.close();
  for (const s of open.get(server) ?? []) s.destroy();
}
