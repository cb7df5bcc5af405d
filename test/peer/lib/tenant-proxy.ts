// tenant-proxy.ts is a loopback HTTP proxy that forwards every request to our
// server with `X-Scope-OrgID` set, as an authenticating gateway in front of
// Mimir does. The peer suites need it because Debian's Prometheus 2.42 does
// not send the `headers:` configured under remote_write or remote_read (seen
// on the wire: its requests carry only the user agent and the remote
// protocol's own headers), so without the proxy a multi-tenant server would
// answer 401. It records every exchange, so a test can also check what the
// client asked for and what it got.

import http from 'node:http';
import { freePort } from './server-process.js';

/** ProxiedExchange is one request as the client sent it and our answer's status and headers. */
export interface ProxiedExchange {
  method: string;
  path: string;
  /** requestHeaders are the client's own headers (lower-case names), before the tenant is set. */
  requestHeaders: Record<string, string>;
  requestBody: Buffer;
  status: number;
  contentType: string;
  /** responseHeaders are our answer's headers (lower-case names). */
  responseHeaders: Record<string, string>;
}

/** TenantProxy is a running proxy. */
export interface TenantProxy {
  readonly port: number;
  /** url is the proxy's base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly exchanges: ProxiedExchange[];
  close(): Promise<void>;
}

/** HOP_BY_HOP are the headers a proxy does not forward. */
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/**
 * startTenantProxy forwards everything sent to it to target (a base URL, no
 * trailing slash) with `X-Scope-OrgID: tenant`, replacing any the client sent.
 */
export async function startTenantProxy(target: string, tenant: string): Promise<TenantProxy> {
  const exchanges: ProxiedExchange[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const requestHeaders: Record<string, string> = {};
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v !== 'string') continue;
        requestHeaders[k] = v;
        if (!HOP_BY_HOP.has(k)) headers[k] = v;
      }
      headers['x-scope-orgid'] = tenant;
      const method = req.method ?? 'GET';
      const init: RequestInit = { method, headers };
      if (method !== 'GET' && method !== 'HEAD') init.body = new Uint8Array(body);
      fetch(target + (req.url ?? '/'), init)
        .then(async (r) => {
          const out = Buffer.from(await r.arrayBuffer());
          const contentType = r.headers.get('content-type') ?? '';
          const responseHeaders: Record<string, string> = {};
          r.headers.forEach((value, name) => (responseHeaders[name] = value));
          exchanges.push({ method, path: req.url ?? '/', requestHeaders, requestBody: body, status: r.status, contentType, responseHeaders });
          const h: Record<string, string> = {};
          r.headers.forEach((value, name) => {
            // fetch has already undone any content encoding but snappy (which it does not know).
            if (!HOP_BY_HOP.has(name) && (name !== 'content-encoding' || value === 'snappy')) h[name] = value;
          });
          res.writeHead(r.status, h);
          res.end(out);
        })
        .catch((err: unknown) => {
          res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end(`tenant proxy: ${err instanceof Error ? err.message : String(err)}\n`);
        });
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
