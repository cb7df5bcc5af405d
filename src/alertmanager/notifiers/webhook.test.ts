import http from 'node:http';
import { test } from 'tap';
import { Logger } from '../../log.js';
import { fingerprint, fingerprintHex } from '../types.js';
import { NotifyError, notifyWithRetry, type NotifyContext } from './notifier.js';
import { integrationFor } from './index.js';

function refFingerprint(ls: Record<string, string>): bigint {
  let h = 0xcbf29ce484222325n;
  const add = (b: number): void => {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  };
  for (const k of Object.keys(ls).sort()) {
    for (const b of Buffer.from(k)) add(b);
    add(0xff);
    for (const b of Buffer.from(ls[k] as string)) add(b);
    add(0xff);
  }
  return h;
}

test('fingerprint is FNV-1a 64 over sorted labels', async (t) => {
  const sets: Array<Record<string, string>> = [{ alertname: 'x' }, { a: 'ü日本', b: '' }, { job: 'node', instance: 'localhost:9100', severity: 'critical' }, {}];
  // Names out of order, and integer-like names (which objects enumerate first, in numeric order).
  sets.push({ z: '1', b: '2', a: '3' }, { '10': 'x', '9': 'y', a: 'z' }, { b: 'x', '2': 'y' });
  for (let i = 0; i < 50; i++) sets.push({ [`l${i}`]: String(Math.random()), alertname: `A${i * 7919}` });
  for (const s of sets) {
    t.equal(fingerprint(s), refFingerprint(s), JSON.stringify(s));
    t.equal(fingerprintHex(s), refFingerprint(s).toString(16).padStart(16, '0'), JSON.stringify(s));
  }
});

function sink(statuses: number[]): Promise<{ url: string; bodies: Array<{ headers: http.IncomingHttpHeaders; body: string }>; close: () => void }> {
  const bodies: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.statusCode = statuses.shift() ?? 200;
      res.end('oops');
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      resolve({ url: `http://u:p@127.0.0.1:${port}/hook`, bodies, close: () => srv.close() });
    }),
  );
}

function ctx(): NotifyContext {
  return {
    tenant: 't',
    receiver: 'team-a',
    groupKey: '{}:{alertname="HighLatency"}',
    groupLabels: { alertname: 'HighLatency' },
    externalURL: 'http://am.example/alertmanager',
    now: Date.parse('2026-01-01T00:10:00Z'),
    signal: new AbortController().signal,
    expand: { text: (s) => s, html: (s) => s },
    logger: new Logger(),
  };
}

const alerts = [
  { labels: { alertname: 'HighLatency', instance: 'b<1>' }, annotations: { summary: 'slow' }, startsAt: Date.parse('2026-01-01T00:00:00.5Z'), endsAt: 0, generatorURL: 'http://prom/graph', updatedAt: 0, timeout: false },
  { labels: { alertname: 'HighLatency', instance: 'a' }, annotations: { summary: 'slow' }, startsAt: Date.parse('2026-01-01T00:00:00Z'), endsAt: Date.parse('2026-01-01T00:05:00Z'), generatorURL: '', updatedAt: 0, timeout: false },
];

test('webhook posts payload v4 with http_config, retries 5xx, truncates by max_alerts', async (t) => {
  const s = await sink([503, 200]);
  t.teardown(s.close);
  const def = integrationFor('webhook_configs');
  if (def === undefined) throw new Error('webhook not registered');
  const entry: Record<string, unknown> = { url: s.url, max_alerts: 1, http_config: { http_headers: { 'X-Test': { values: ['v'] } } } };
  t.equal(def.validate(entry, {}), undefined);
  const n = def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  const attempts = await notifyWithRetry({ name: 'webhook', index: 0, sendResolved: true, notifier: n }, ctx(), alerts, { deadline: Date.now() + 5000, initialBackoffMs: 10 });
  t.equal(attempts, 2);
  t.equal(s.bodies.length, 2);
  const got = s.bodies[1];
  if (got === undefined) throw new Error('no body');
  t.equal(got.headers['content-type'], 'application/json');
  t.equal(got.headers['user-agent'], 'Alertmanager/0.35.0');
  t.equal(got.headers['x-test'], 'v');
  t.equal(got.headers.authorization, 'Basic dTpw', 'URL credentials become basic auth, as Go');
  t.equal(
    got.body,
    '{"receiver":"team-a","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","instance":"b\\u003c1\\u003e"},"annotations":{"summary":"slow"},' +
      '"startsAt":"2026-01-01T00:00:00.5Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"' +
      refFingerprint(alerts[0]?.labels ?? {}).toString(16).padStart(16, '0') +
      // As 0.35: truncated before the template data is built (common labels of the kept alert), the reason (unknown outside the dispatcher), route labels.
      '"}],"notification_reason":"unknown","groupLabels":{"alertname":"HighLatency"},"commonLabels":{"alertname":"HighLatency","instance":"b\\u003c1\\u003e"},"commonAnnotations":{"summary":"slow"},' +
      '"routeLabels":{},"externalURL":"http://am.example/alertmanager","version":"4","groupKey":"{}:{alertname=\\"HighLatency\\"}","truncatedAlerts":1}\n',
  );
});

test('webhook: 4xx is not retried; validation texts', async (t) => {
  const s = await sink([400]);
  t.teardown(s.close);
  const def = integrationFor('webhook_configs');
  if (def === undefined) throw new Error('webhook not registered');
  const n = def.create({ url: s.url }, { logger: new Logger(), checkUrl: () => undefined });
  await t.rejects(notifyWithRetry({ name: 'webhook', index: 0, sendResolved: true, notifier: n }, ctx(), alerts, { deadline: Date.now() + 5000 }), NotifyError);
  t.equal(s.bodies.length, 1);
  t.equal(def.validate({}, {}), 'one of url or url_file must be configured');
  t.equal(def.validate({ url: 'http://a', url_file: '/x' }, {}), 'at most one of url & url_file must be configured');
  t.equal(def.validate({ url: 'ftp://a' }, {}), 'unsupported scheme "ftp" for URL');
});
