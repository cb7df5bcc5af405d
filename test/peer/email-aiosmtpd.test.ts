// email-aiosmtpd.test.ts delivers the email integration's messages to a real
// SMTP server (Python's aiosmtpd): plain delivery, AUTH PLAIN, AUTH LOGIN,
// STARTTLS, and a refused login, checking envelope, headers and MIME parts.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Logger } from '../../src/log.js';
import { integrationFor } from '../../src/alertmanager/notifiers/index.js';
import { notifyWithRetry, type NotifyContext, type TemplateData } from '../../src/alertmanager/notifiers/notifier.js';
import type { Alert } from '../../src/alertmanager/types.js';
import { decodeQP } from '../../src/testing/smtp-sink.js';

const PYTHON = process.env['AIOSMTPD_PYTHON'] ?? 'python3';
const HERE = dirname(fileURLToPath(import.meta.url));
// Compiled into dist/test/peer; the fixture stays in the source tree.
const SCRIPT = [join(HERE, '../fixtures/smtp_sink.py'), join(HERE, '../../../test/fixtures/smtp_sink.py')].find((p) => existsSync(p)) ?? '';

function aiosmtpdMissing(): string | false {
  try {
    execFileSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} cannot import aiosmtpd (pip install aiosmtpd)`;
  }
  return SCRIPT === '' ? 'test/fixtures/smtp_sink.py not found' : false;
}

const missing = aiosmtpdMissing();
if (missing !== false && process.env['CI'] === 'true') {
  t.fail(`aiosmtpd is required in CI: ${missing}`);
}
const skip = missing;

interface Sink {
  port: number;
  messages: () => Array<{ mail_from: string; rcpt_tos: string[]; data: string; auth_login: string | null }>;
  stop: () => void;
}

async function startSink(mode: string, extra: string[] = []): Promise<Sink> {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-sink-'));
  const out = join(dir, 'out.jsonl');
  const proc = spawn(PYTHON, [SCRIPT, out, mode, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`aiosmtpd did not start: ${stderr}`)), 15_000);
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\d+)/.exec(buf);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`aiosmtpd exited ${code}: ${stderr}`)));
  });
  return {
    port,
    messages: () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as { mail_from: string; rcpt_tos: string[]; data: string; auth_login: string | null })
        : [],
    stop: () => {
      proc.stdin.end();
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ctx(): NotifyContext {
  return {
    tenant: 't',
    receiver: 'ops',
    groupKey: '{}:{alertname="DiskFull"}',
    groupLabels: { alertname: 'DiskFull' },
    externalURL: 'http://am.example',
    now: Date.parse('2026-01-01T00:10:00Z'),
    signal: new AbortController().signal,
    // Text without actions renders as itself; anything with actions is marked with the data's status.
    expand: {
      text: (s: string, d: TemplateData) => (s.includes('{{') ? `T[${s}|${d.Status}]` : s),
      html: (s: string, d: TemplateData) => (s.includes('{{') ? `<p>H[${s}|${d.Status}]</p>` : s),
    },
    logger: new Logger(),
  };
}

const alerts: Alert[] = [
  { labels: { alertname: 'DiskFull', instance: 'db1' }, annotations: { summary: 'disk 99% full' }, startsAt: Date.parse('2026-01-01T00:00:00Z'), endsAt: 0, generatorURL: 'http://prom/g', updatedAt: 0, timeout: false },
];

async function send(entry: Record<string, unknown>, attemptsDeadlineMs = 5000): Promise<number> {
  const def = integrationFor('email_configs');
  if (def === undefined) throw new Error('email not registered');
  const err = def.validate(entry, {});
  if (err !== undefined) throw new Error(`validate: ${err}`);
  const n = def.create(entry, { logger: new Logger(), checkUrl: () => undefined });
  return notifyWithRetry({ name: 'email', index: 0, sendResolved: false, notifier: n }, ctx(), alerts, { deadline: Date.now() + attemptsDeadlineMs, initialBackoffMs: 20, maxBackoffMs: 50 });
}


/** parseMessage splits a message into its headers and MIME parts. */
function parseMessage(data: string): { headers: Map<string, string>; parts: Array<{ headers: Map<string, string>; body: string }> } {
  const norm = data.replace(/\r?\n/g, '\r\n');
  const cut = norm.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of norm.slice(0, cut).split('\r\n')) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const boundary = /boundary=(\S+)/.exec(headers.get('Content-Type') ?? '')?.[1] ?? '';
  const parts = norm
    .slice(cut + 4)
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((raw) => {
      const p = raw.replace(/^\r\n/, '').replace(/\r\n$/, '');
      const c = p.indexOf('\r\n\r\n');
      const h = new Map<string, string>();
      for (const line of p.slice(0, c).split('\r\n')) {
        const i = line.indexOf(':');
        h.set(line.slice(0, i), line.slice(i + 1).trim());
      }
      return { headers: h, body: p.slice(c + 4) };
    });
  return { headers, parts };
}

t.test('email: plain delivery, envelope, Q-encoded headers, quoted-printable parts', { skip }, async (t) => {
  const sink = await startSink('plain');
  t.teardown(sink.stop);
  const longLine = 'x'.repeat(100) + ' = ünï';
  await send({
    to: 'ops@example.org, Dev Team <dev@example.org>',
    from: 'Alertmanager <am@example.org>',
    smarthost: `127.0.0.1:${sink.port}`,
    require_tls: false,
    headers: { subject: 'Disk voll: Größe', 'x-team': 'storage' },
    text: `text {{ .Status }}\n${longLine}\n.leading dot`,
  });
  const msgs = sink.messages();
  t.equal(msgs.length, 1);
  const m = msgs[0];
  if (m === undefined) return;
  t.equal(m.mail_from, 'am@example.org');
  t.same(m.rcpt_tos, ['ops@example.org', 'dev@example.org']);
  const { headers, parts } = parseMessage(m.data);
  t.equal(headers.get('Subject'), '=?utf-8?q?Disk_voll:_Gr=C3=B6=C3=9Fe?=', 'non-ASCII header is Q-encoded');
  t.equal(headers.get('X-Team'), 'storage', 'header keys canonicalised');
  t.equal(headers.get('To'), 'ops@example.org, Dev Team <dev@example.org>');
  t.equal(headers.get('From'), 'Alertmanager <am@example.org>');
  t.equal(headers.get('MIME-Version'), '1.0');
  t.match(headers.get('Message-Id') ?? '', /^<\d+\.\d+@.+>$/);
  t.match(headers.get('Date') ?? '', /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  t.match(headers.get('Content-Type') ?? '', /^multipart\/alternative;  boundary=[0-9a-f]{60}$/);
  t.equal(parts.length, 2, 'text and html parts');
  t.equal(parts[0]?.headers.get('Content-Type'), 'text/plain; charset=UTF-8');
  t.equal(parts[0]?.headers.get('Content-Transfer-Encoding'), 'quoted-printable');
  t.equal(decodeQP(parts[0]?.body ?? ''), `T[text {{ .Status }}\n${longLine}\n.leading dot|firing]`.replace(/\n/g, '\r\n'));
  t.ok((parts[0]?.body ?? '').split('\r\n').every((l) => l.length <= 76), 'quoted-printable lines at most 76 columns');
  t.equal(parts[1]?.headers.get('Content-Type'), 'text/html; charset=UTF-8');
  t.equal(decodeQP(parts[1]?.body ?? ''), '<p>H[{{ template "email.default.html" . }}|firing]</p>', 'default html body template');
});

t.test('email: AUTH PLAIN and AUTH LOGIN; a refused login is retried then reported', { skip }, async (t) => {
  for (const mode of ['auth-plain', 'auth-login']) {
    const sink = await startSink(mode);
    await send({ to: 'ops@example.org', from: 'am@example.org', smarthost: `127.0.0.1:${sink.port}`, require_tls: false, auth_username: 'am', auth_password: 'secret' });
    const msgs = sink.messages();
    t.equal(msgs.length, 1, `${mode}: delivered`);
    t.equal(msgs[0]?.auth_login, 'am', `${mode}: authenticated as am`);
    sink.stop();
  }
  const sink = await startSink('auth-plain');
  t.teardown(sink.stop);
  await t.rejects(
    send({ to: 'ops@example.org', from: 'am@example.org', smarthost: `127.0.0.1:${sink.port}`, require_tls: false, auth_username: 'am', auth_password: 'wrong' }, 300),
    /email\/0: notify retry canceled after \d+ attempts: \*smtp\.plainAuth auth: 535/,
  );
  t.equal(sink.messages().length, 0);
  await t.rejects(
    send({ to: 'ops@example.org', from: 'am@example.org', smarthost: `127.0.0.1:${sink.port}`, auth_username: 'am', auth_password: 'secret' }, 100),
    /'require_tls' is true \(default\) but "127\.0\.0\.1:\d+" does not advertise the STARTTLS extension/,
  );
});

t.test('email: STARTTLS then AUTH PLAIN over TLS', { skip: skip || (existsSync('/usr/bin/openssl') ? false : 'no openssl') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const sink = await startSink('starttls', [cert, key]);
  t.teardown(sink.stop);
  await send({ to: 'ops@example.org', from: 'am@example.org', smarthost: `localhost:${sink.port}`, auth_username: 'am', auth_password: 'secret', tls_config: { ca_file: cert } });
  const msgs = sink.messages();
  t.equal(msgs.length, 1);
  t.equal(msgs[0]?.auth_login, 'am');
});

t.test('email: config validation texts', async (t) => {
  const def = integrationFor('email_configs');
  if (def === undefined) throw new Error('email not registered');
  t.equal(def.validate({}, {}), 'missing to address in email config');
  t.equal(def.validate({ to: 'a@b' }, {}), 'no global SMTP smarthost set');
  t.equal(def.validate({ to: 'a@b', smarthost: 'h:25' }, {}), 'no global SMTP from set');
  t.equal(def.validate({ to: 'a@b', smarthost: 'h:' }, { smtp_from: 'x@y' }), 'address "h:": port cannot be empty');
  t.equal(def.validate({ to: 'a@b', headers: { subject: 'a', Subject: 'b' } }, {}), 'duplicate header "Subject" in email config');
  const e: Record<string, unknown> = { to: 'a@b' };
  t.equal(def.validate(e, { smtp_smarthost: 'mail:587', smtp_from: 'am@x', smtp_auth_username: 'u', smtp_auth_password: 'p' }), undefined);
  t.same([e.smarthost, e.from, e.hello, e.auth_username, e.auth_password, e.require_tls, e.html], ['mail:587', 'am@x', 'localhost', 'u', 'p', true, '{{ template "email.default.html" . }}']);
});
