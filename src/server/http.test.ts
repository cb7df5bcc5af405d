// http.test.ts exercises the HTTP layer through a real uWS server on an
// ephemeral port: params, repeated query keys, forms, body limits (declared
// and streamed), big responses under backpressure, aborted requests, error
// rendering and graceful close.

import t from 'tap';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { ApiError, successEnvelope } from '../errors.js';
import { httpRequest, jsonOf } from '../testing/http-client.js';
import { HttpServer } from './http.js';

const server = new HttpServer();
const big = Buffer.alloc(24 * 1024 * 1024);
for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
let abortedSeen: Promise<boolean> = Promise.resolve(false);
let releaseSlow: () => void = () => {};

server.route('GET', '/api/v1/label/:name/values', (req, res) => {
  res.json(200, successEnvelope({ name: req.params.name, match: req.query.all('match[]'), limit: req.query.get('limit') ?? null }));
});
server.route(['GET', 'POST'], '/form', (req, res) => {
  res.json(200, successEnvelope({ match: req.form.all('match[]'), start: req.form.get('start') ?? null }));
});
server.route('POST', '/echo', (req, res) => res.text(200, `got ${req.body.length} bytes ${createHash('sha256').update(req.body).digest('hex')}`), {
  maxBodyBytes: 1000,
  tooLarge: (limit, actual) => `too big: ${actual ?? 'unknown'} > ${limit}`,
});
server.route('GET', '/big', (_req, res) => res.send(200, big, 'application/octet-stream'));
server.route('GET', '/fail-json', () => {
  throw new ApiError('execution', 'boom');
}, { errors: 'json' });
server.route('GET', '/fail-text', async () => {
  await Promise.resolve();
  throw new ApiError('unavailable', 'later');
});
server.route('GET', '/internal', () => {
  throw new Error('oops');
});
server.route('GET', '/slow-abort', (_req, res) => {
  abortedSeen = new Promise((resolve) =>
    setTimeout(() => {
      res.text(200, 'too late'); // must be a no-op on an aborted response
      resolve(res.aborted);
    }, 200),
  );
});
server.route('GET', '/slow', (_req, res) => {
  setTimeout(() => res.text(200, 'finished'), 300);
});
server.route('GET', '/held', (_req, res) => {
  releaseSlow = () => res.text(200, 'released');
});

const port = await server.listen('127.0.0.1', 0);
t.ok(port > 0, `listening on ${port}`);

t.test('path params and repeated query keys', async (t) => {
  const res = await httpRequest(port, '/api/v1/label/my%2Elabel/values?match[]=up&match%5B%5D=%7Ba%3D%22b%22%7D&limit=5');
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/json');
  t.same(jsonOf(res), { status: 'success', data: { name: 'my.label', match: ['up', '{a="b"}'], limit: '5' } });
  const bad = await httpRequest(port, '/api/v1/label/x/values?match[]=%zz');
  t.equal(bad.status, 400);
  t.match(bad.body, 'invalid URL escape "%zz"');
});

t.test('form bodies merge with the query', async (t) => {
  const res = await httpRequest(port, '/form?match[]=fromquery', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: 'match[]=a+b&match[]=%7Bx%3D%22y%22%7D&start=1.5',
  });
  t.equal(res.status, 200);
  t.same(jsonOf(res).data, { match: ['a b', '{x="y"}', 'fromquery'], start: '1.5' });
  const notForm = await httpRequest(port, '/form?start=2', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'match[]=ignored' });
  t.same(jsonOf(notForm).data, { match: [], start: '2' });
});

t.test('body limits', async (t) => {
  const ok = Buffer.alloc(1000, 7);
  let res = await httpRequest(port, '/echo', { body: ok });
  t.equal(res.status, 200);
  t.equal(res.body, `got 1000 bytes ${createHash('sha256').update(ok).digest('hex')}`);
  res = await httpRequest(port, '/echo', { body: ok, chunked: true });
  t.equal(res.status, 200, 'chunked within the limit');
  t.match(res.body, 'got 1000 bytes');
  res = await httpRequest(port, '/echo', { body: Buffer.alloc(0) });
  t.equal(res.status, 200);
  t.match(res.body, 'got 0 bytes');
  res = await httpRequest(port, '/echo', { body: Buffer.alloc(1001) });
  t.equal(res.status, 413);
  t.equal(res.body, 'too big: 1001 > 1000');
  res = await httpRequest(port, '/echo', { body: Buffer.alloc(5 * 1024 * 1024), chunked: true });
  t.equal(res.status, 413);
  t.equal(res.body, 'too big: unknown > 1000');
  res = await httpRequest(port, '/echo', { body: Buffer.alloc(10) });
  t.equal(res.status, 200, 'server still serves after 413s');
});

t.test('big responses stream under backpressure', async (t) => {
  const body = await new Promise<Buffer>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/big', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.pause();
      // Read slowly at first so the server's socket fills up.
      setTimeout(() => res.resume(), 300);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
  });
  t.equal(body.length, big.length);
  t.ok(body.equals(big), 'bytes intact');
});

t.test('errors', async (t) => {
  let res = await httpRequest(port, '/fail-json');
  t.equal(res.status, 422);
  t.same(jsonOf(res), { status: 'error', errorType: 'execution', error: 'boom' });
  res = await httpRequest(port, '/fail-text');
  t.equal(res.status, 503);
  t.equal(res.body, 'later\n');
  res = await httpRequest(port, '/internal');
  t.equal(res.status, 500);
  res = await httpRequest(port, '/nope');
  t.equal(res.status, 404);
  t.equal(res.body, '404 page not found\n');
  res = await httpRequest(port, '/echo');
  t.equal(res.status, 405, 'GET on a POST-only route');
  t.equal(res.headers.allow, 'POST');
  res = await httpRequest(port, '/api/v1/label/x/values', { method: 'DELETE' });
  t.equal(res.status, 405);
});

t.test('aborted requests are never written to', async (t) => {
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/slow-abort', agent: false });
    req.on('error', () => resolve());
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
  t.equal(await abortedSeen, true, 'handler saw the abort');
  const res = await httpRequest(port, '/api/v1/label/a/values');
  t.equal(res.status, 200, 'server healthy after abort');
});

t.test('graceful close finishes in-flight requests', async (t) => {
  const inflight = httpRequest(port, '/slow');
  await new Promise((r) => setTimeout(r, 50));
  const closed = server.close(5000);
  const res = await inflight;
  t.equal(res.status, 200);
  t.equal(res.body, 'finished');
  await closed;
  await t.rejects(httpRequest(port, '/form'), 'no longer listening');
});

t.test('close gives up after its timeout', async (t) => {
  const s2 = new HttpServer();
  s2.route('GET', '/held', (_req, res) => {
    releaseSlow = () => res.text(200, 'released');
  });
  const p2 = await s2.listen('127.0.0.1', 0);
  const held = httpRequest(p2, '/held').catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await s2.close(200);
  t.ok(Date.now() - started < 2000);
  releaseSlow();
  await held;
});
