// client.test.ts checks the internal API's transport end to end over real
// cleartext HTTP/2: HttpServer's HTTP/2 mode answers every kind of route the
// internal server registers (params, query, bodies and their limit, 404 and
// 405, big and piecewise answers, request observers), and InternalClient's
// deadline, retry once on a broken connection, abort, byte counts, long-poll
// streams and extra connections past the peer's concurrent-stream limit.

import t from 'tap';
import { createHash } from 'node:crypto';
import { connect, constants, type Http2ServerRequest, type Http2ServerResponse, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import snappy from '@napi-rs/snappy';
import { HttpServer, UNMATCHED_HEADER } from '../server/http.js';
import { closeH2FakeServer, h2FakeServer } from '../testing/h2-server.js';
import { InternalClient, InternalError } from './client.js';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** raw sends one request over its own HTTP/2 connection (no InternalClient). */
function raw(addr: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${addr}`);
    session.on('error', reject);
    const req = session.request({ ':method': method, ':path': path, ...headers }, { endStream: body === undefined });
    let status = 0;
    let got: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      got = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      session.close();
      resolve({ status, headers: got, body: Buffer.concat(chunks) });
    });
    if (body !== undefined) req.end(body);
  });
}

/** rejection is the error a call fails with. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('the call did not fail');
}

t.test('the internal server (HTTP/2) answers every kind of route it answered over HTTP/1.1', async (t) => {
  const server = new HttpServer({ http2: true });
  const seen: string[] = [];
  server.onRequest((method, route, status) => seen.push(`${method} ${route} ${status}`));
  const big = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
  server.route('GET', '/items/:name', (req, res) => res.json(200, JSON.stringify({ name: req.params.name, q: req.query.all('q'), host: req.headers.get('host') !== undefined })));
  server.route('POST', '/items/static', (_req, res) => res.text(200, 'static first'));
  server.route('POST', '/echo', (req, res) => res.send(200, req.body, 'application/octet-stream', { 'Content-Encoding': 'snappy', 'X-Tenant': req.headers.get('x-scope-orgid') ?? '' }), {
    maxBodyBytes: 64 * 1024,
    tooLarge: (limit, actual) => `too big: ${actual ?? 'unknown'} > ${limit}`,
  });
  server.route('POST', '/big', (_req, res) => res.send(200, big, 'application/octet-stream'));
  server.route('POST', '/pieces', async (_req, res) => {
    const w = res.chunked(200, 'application/octet-stream', { Connection: 'keep-alive' });
    for (const p of ['one,', 'two,', 'three']) await w.write(Buffer.from(p));
    w.end();
  });
  server.route('POST', '/empty', (_req, res) => res.empty(204));
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close(1_000));
  const addr = `127.0.0.1:${port}`;
  const client = new InternalClient({ timeoutMs: 5_000 });
  t.teardown(() => client.close());

  const got = await raw(addr, 'GET', '/items/a%2Fb?q=1&q=2');
  t.equal(got.status, 200);
  t.same(JSON.parse(got.body.toString('utf8')), { name: 'a/b', q: ['1', '2'], host: true }, 'params unescaped, repeated query keys, :authority as Host');
  t.equal((await raw(addr, 'POST', '/items/static', Buffer.alloc(0))).body.toString('utf8'), 'static first', 'a static pattern is matched before a parameter one');

  const body = Buffer.from('x'.repeat(40_000));
  const echoed = await client.post(addr, '/echo', 'tenant-1', body);
  t.equal(echoed.status, 200);
  t.ok(echoed.body.equals(body), 'the body is sent compressed and its snappy answer read back');
  t.equal(echoed.headers['x-tenant'], 'tenant-1', 'X-Scope-OrgID reaches the handler');
  t.equal(echoed.headers[':status'], undefined, 'no pseudo-headers among the answer headers');
  t.equal(client.stats.requests, 1);
  t.equal(client.stats.bytesSent, snappy.compressSync(body).length, 'the compressed bytes sent are counted');
  t.equal(client.stats.bytesReceived, snappy.compressSync(body).length, 'the compressed bytes received are counted');

  const declared = await raw(addr, 'POST', '/echo', Buffer.alloc(70_000), { 'content-length': '70000' });
  t.equal(declared.status, 413);
  t.equal(declared.body.toString('utf8'), 'too big: 70000 > 65536', 'a declared body past the limit is refused before it is read');
  const streamed = await raw(addr, 'POST', '/echo', Buffer.alloc(70_000));
  t.equal(streamed.status, 413);
  t.equal(streamed.body.toString('utf8'), 'too big: unknown > 65536', 'a streamed body is refused as soon as it passes the limit');

  const notFound = await raw(addr, 'POST', '/nowhere', Buffer.alloc(0));
  t.equal(notFound.status, 404);
  t.equal(notFound.body.toString('utf8'), '404 page not found\n');
  t.equal(notFound.headers[UNMATCHED_HEADER.toLowerCase()], 'true');
  const wrongMethod = await raw(addr, 'GET', '/echo');
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.allow, 'POST');

  const bigAnswer = await client.post(addr, '/big', 't', new Uint8Array());
  t.equal(createHash('sha256').update(bigAnswer.body).digest('hex'), createHash('sha256').update(big).digest('hex'), 'a big answer arrives whole');
  t.equal((await client.post(addr, '/pieces', 't', new Uint8Array())).body.toString('utf8'), 'one,two,three', 'a piecewise answer (connection headers dropped)');
  const empty = await client.post(addr, '/empty', 't', new Uint8Array());
  t.equal(empty.status, 204);
  t.equal(empty.body.length, 0);

  t.same(seen, [
    'GET /items/:name 200',
    'POST /items/static 200',
    'POST /echo 200',
    'POST /echo 413',
    'POST /echo 413',
    'POST notfound 404',
    'GET notfound 405',
    'POST /big 200',
    'POST /pieces 200',
    'POST /empty 204',
  ], 'every request reaches the observers with its route and status');
});

t.test("a call's deadline cancels its stream; an abort cancels it too; the server sees both", async (t) => {
  const server = new HttpServer({ http2: true });
  const statuses: number[] = [];
  server.onRequest((_m, _r, status) => statuses.push(status));
  let abortedOnServer = 0;
  server.route('POST', '/hang', (_req, res) => {
    res.whenDone(() => {
      if (res.aborted) abortedOnServer++;
    });
  });
  server.route('POST', '/ok', (_req, res) => res.text(200, 'fine'));
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close(1_000));
  const addr = `127.0.0.1:${port}`;
  const client = new InternalClient({ timeoutMs: 5_000 });
  t.teardown(() => client.close());

  const started = Date.now();
  const err = await rejection(client.post(addr, '/hang', 't', new Uint8Array(), {}, 200));
  t.ok(err instanceof InternalError);
  t.equal(err.message, `${addr}: deadline of 200ms exceeded`);
  t.equal((err as InternalError).status, 0);
  t.ok(Date.now() - started < 2_000, 'not retried');
  t.equal(client.stats.requests, 1, 'one attempt');
  await t.resolveMatch(waitFor(() => abortedOnServer === 1), true, 'the server saw the stream reset');

  const ac = new AbortController();
  const call = client.post(addr, '/hang', 't', new Uint8Array(), {}, 5_000, ac.signal);
  setTimeout(() => ac.abort(new Error('caller went away')), 100);
  t.equal((await rejection(call)).message, 'caller went away', 'an aborted call fails with the signal reason');
  await t.resolveMatch(waitFor(() => abortedOnServer === 2), true, 'the server saw the aborted stream');
  t.equal(client.stats.requests, 2, 'an abort is not retried');
  t.same(statuses, [499, 499], 'both counted as closed by the client');

  // The connection carried both cancelled streams and still serves the next call.
  t.equal((await client.post(addr, '/ok', 't', new Uint8Array())).body.toString('utf8'), 'fine');
  const pre = new AbortController();
  pre.abort(new Error('already gone'));
  t.equal((await rejection(client.post(addr, '/ok', 't', new Uint8Array(), {}, 5_000, pre.signal))).message, 'already gone', 'an aborted signal sends nothing');
  t.equal(client.stats.requests, 3);
});

t.test('a call is retried once when its connection breaks before an answer, never after other failures', async (t) => {
  const server = h2FakeServer();
  // breakNext: how many of the next requests break their connection before answering.
  let breakNext = 0;
  let calls = 0;
  let reset = false;
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    calls++;
    req.resume();
    req.on('end', () => {
      if (breakNext > 0) {
        breakNext--;
        req.stream.session?.destroy();
        return;
      }
      if (reset) {
        req.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      res.writeHead(500).end('boom');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => closeH2FakeServer(server));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new InternalClient({ timeoutMs: 5_000 });
  t.teardown(() => client.close());

  breakNext = 1;
  const answer = await client.post(addr, '/x', 't', Buffer.from('payload'));
  t.equal(answer.status, 500, 'the retry on a new connection got the answer');
  t.equal(calls, 2, 'two attempts');

  calls = 0;
  breakNext = 2;
  const err = await rejection(client.post(addr, '/x', 't', Buffer.from('payload')));
  t.equal(err.message, `${addr}: connection closed before an answer`);
  t.equal(calls, 2, 'only one retry');

  calls = 0;
  t.equal((await client.post(addr, '/x', 't', Buffer.from('payload'))).status, 500);
  t.equal(calls, 1, 'an error answer is not retried');

  calls = 0;
  reset = true;
  t.match((await rejection(client.post(addr, '/x', 't', Buffer.from('payload')))).message, /NGHTTP2_INTERNAL_ERROR/);
  t.equal(calls, 1, 'a stream the peer reset (the connection fine) is not retried');

  // Nothing listens any more: refused, then refused again on the retry.
  closeH2FakeServer(server);
  const before = client.stats.requests;
  const refused = await rejection(client.post(addr, '/x', 't', Buffer.from('payload')));
  t.match(refused.message, new RegExp(`^${addr.replace(/\./g, '\\.')}: connect ECONNREFUSED`));
  t.equal(client.stats.requests - before, 2, 'a refused connection is tried twice');
});

t.test('long polls: streams share one connection up to the peer limit, then a second connection opens', async (t) => {
  const server = h2FakeServer({ maxConcurrentStreams: 2 });
  const held: Http2ServerResponse[] = [];
  const sessions = new Set<unknown>();
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    sessions.add(req.stream.session);
    req.resume();
    res.writeHead(200);
    res.write('first piece;');
    held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => closeH2FakeServer(server));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new InternalClient({ timeoutMs: 5_000 });
  t.teardown(() => client.close());

  const read = (i: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = client.open(addr, '/poll', { 'x-poll': String(i) });
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', reject);
      s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  // One at a time, so that the first connection's SETTINGS are known before the third poll.
  const polls = [read(0)];
  await waitFor(() => held.length === 1);
  polls.push(read(1));
  await waitFor(() => held.length === 2);
  polls.push(read(2));
  t.ok(await waitFor(() => held.length === 3), 'the third poll is served while two are held');
  t.equal(sessions.size, 2, 'past two open streams a second connection carries the third');
  for (const res of held) res.end('last');
  t.same(await Promise.all(polls), ['first piece;last', 'first piece;last', 'first piece;last'], 'each poll reads its answer piece by piece');
});

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
