// email.ts is the email integration: an SMTP client written over node:net
// and node:tls (implicit TLS on port 465, STARTTLS when require_tls, AUTH
// CRAM-MD5 / PLAIN / LOGIN in the server's order) sending a
// multipart/alternative message with quoted-printable text and HTML parts
// and Q-encoded headers, as Alertmanager 0.35's email notifier.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { hostname } from 'node:os';
import tls from 'node:tls';
import { NotifyError, type Notifier, type TLSConfig } from './notifier.js';
import { setDefaults, tmplRef } from './defaults.js';
import { nonEmpty, renderer } from './payload.js';
import { registerIntegration } from './registry.js';

/** EmailConfig is one entry of email_configs. */
export interface EmailConfig {
  send_resolved?: boolean;
  to?: string;
  from?: string;
  hello?: string;
  smarthost?: string;
  auth_username?: string;
  auth_password?: string;
  auth_password_file?: string;
  auth_secret?: string;
  auth_secret_file?: string;
  auth_identity?: string;
  headers?: Record<string, string>;
  html?: string;
  text?: string;
  require_tls?: boolean;
  tls_config?: TLSConfig;
  force_implicit_tls?: boolean;
  threading?: { enabled?: boolean; thread_by_date?: string };
}

/** SMTP_TIMEOUT_MS bounds every wait for the server. */
const SMTP_TIMEOUT_MS = 30_000;

/** canonicalHeaderKey is textproto.CanonicalMIMEHeaderKey for valid keys ("x-foo" -> "X-Foo"). */
export function canonicalHeaderKey(k: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) return k;
  return k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
}

/** splitHostPort splits "host:port" as net.SplitHostPort; returns the error text Alertmanager's HostPort gives. */
export function splitHostPort(s: string): { host: string; port: string } | string {
  const m = /^\[([^\]]*)\]:(.*)$/.exec(s) ?? /^([^:]*):([^:]*)$/.exec(s);
  if (m === null) return s.includes(':') ? `address ${s}: too many colons in address` : `address ${s}: missing port in address`;
  const port = m[2] as string;
  if (port === '') return `address ${JSON.stringify(s)}: port cannot be empty`;
  return { host: m[1] as string, port };
}

/** qEncode encodes a header value as mime.QEncoding.Encode("utf-8", v): unchanged when printable ASCII. */
export function qEncode(v: string): string {
  if (!/[^\t\x20-\x7e]/.test(v)) return v;
  const words: string[] = [];
  let cur = '';
  const prefix = '=?utf-8?q?';
  for (const ch of v) {
    let enc = '';
    for (const b of Buffer.from(ch, 'utf8')) {
      if (b === 0x20) enc += '_';
      else if (b >= 0x21 && b <= 0x7e && b !== 0x3d && b !== 0x3f && b !== 0x5f) enc += String.fromCharCode(b);
      else enc += '=' + b.toString(16).toUpperCase().padStart(2, '0');
    }
    // An encoded word is at most 75 characters including "=?utf-8?q?" and "?=".
    if (prefix.length + cur.length + enc.length + 2 > 75) {
      words.push(prefix + cur + '?=');
      cur = '';
    }
    cur += enc;
  }
  words.push(prefix + cur + '?=');
  return words.join(' ');
}

/** quotedPrintable encodes a body as Go's mime/quotedprintable Writer (76-column soft breaks, CRLF line ends). */
export function quotedPrintable(text: string): string {
  const lines = text.split(/\r\n|\n|\r/);
  const out: string[] = [];
  lines.forEach((line, idx) => {
    const bytes = Buffer.from(line, 'utf8');
    let cur = '';
    const last = idx === lines.length - 1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const trailingSpace = (b === 0x20 || b === 0x09) && i === bytes.length - 1 && !last;
      const enc =
        (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !trailingSpace) ? String.fromCharCode(b) : '=' + b.toString(16).toUpperCase().padStart(2, '0');
      if (cur.length + enc.length > 75) {
        out.push(cur + '=');
        cur = '';
      }
      cur += enc;
    }
    out.push(cur);
  });
  return out.join('\r\n');
}

/** parseAddressList extracts the addresses of an RFC 5322 list ("A <a@x>, b@y") as mail.ParseAddressList does. */
export function parseAddressList(list: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  for (const c of list) {
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '<') angle++;
    if (!quoted && c === '>') angle--;
    if (c === ',' && !quoted && angle === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const out: string[] = [];
  for (const p of parts) {
    const s = p.trim();
    if (s === '') throw new Error('mail: no address');
    const m = /<([^<>]*)>\s*$/.exec(s);
    const addr = (m !== null ? (m[1] as string) : s).trim();
    if (!/^[^@\s<>]+@[^@\s<>]+$/.test(addr)) throw new Error(m === null ? 'mail: missing @ in addr-spec' : 'mail: invalid address');
    out.push(addr);
  }
  return out;
}

/** SmtpReply is one (possibly multi-line) server reply. */
interface SmtpReply {
  code: number;
  lines: string[];
}

/** SmtpConn reads CRLF replies and writes commands over a socket that may be upgraded to TLS. */
class SmtpConn {
  private buf = '';
  private waiters: Array<() => void> = [];
  private closed: Error | undefined;
  tlsActive: boolean;

  constructor(
    private sock: net.Socket,
    isTls: boolean,
  ) {
    this.tlsActive = isTls;
    this.attach(sock);
  }

  private attach(sock: net.Socket): void {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('error', (err) => {
      this.closed = err;
      this.wake();
    });
    sock.on('close', () => {
      this.closed ??= new Error('connection closed by the server');
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** reply reads the next reply (all its continuation lines). */
  async reply(): Promise<SmtpReply> {
    const lines: string[] = [];
    const deadline = Date.now() + SMTP_TIMEOUT_MS;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl).replace(/\r$/, '');
        this.buf = this.buf.slice(nl + 1);
        if (!/^\d{3}[ -]?/.test(line)) throw new Error(`short response: ${line}`);
        lines.push(line.slice(4));
        if (line[3] !== '-') return { code: Number(line.slice(0, 3)), lines };
        continue;
      }
      if (this.closed !== undefined) throw this.closed;
      if (Date.now() > deadline) throw new Error('i/o timeout');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(s: string): void {
    this.sock.write(s);
  }

  /** cmd sends a command and checks the reply code class (e.g. 250, or 2 for any 2xx... as textproto expectCode). */
  async cmd(line: string, expect: number): Promise<SmtpReply> {
    this.write(line + '\r\n');
    const r = await this.reply();
    const ok = expect < 10 ? Math.floor(r.code / 100) === expect : expect < 100 ? Math.floor(r.code / 10) === expect : r.code === expect;
    if (!ok) throw new Error(`${r.code} ${r.lines.join('\n')}`);
    return r;
  }

  /** startTls upgrades the connection in place. */
  async startTls(opts: tls.ConnectionOptions): Promise<void> {
    const raw = this.sock;
    raw.removeAllListeners('data');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    const sec = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...opts, socket: raw }, () => resolve(s));
      s.once('error', reject);
    });
    this.sock = sec;
    this.buf = '';
    this.closed = undefined;
    this.tlsActive = true;
    this.attach(sec);
  }

  close(): void {
    this.sock.destroy();
  }
}

function tlsOptions(t: TLSConfig | undefined, host: string): tls.ConnectionOptions {
  const c = t ?? {};
  return {
    ca: c.ca_file ? readFileSync(c.ca_file) : c.ca,
    cert: c.cert_file ? readFileSync(c.cert_file) : c.cert,
    key: c.key_file ? readFileSync(c.key_file) : c.key,
    servername: c.server_name || (net.isIP(host) === 0 ? host : undefined),
    rejectUnauthorized: c.insecure_skip_verify !== true,
  };
}

function connect(host: string, port: number, implicitTls: boolean, t: TLSConfig | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = implicitTls ? tls.connect({ host, port, ...tlsOptions(t, host) }, () => resolve(s)) : net.connect({ host, port }, () => resolve(s));
    s.setTimeout(SMTP_TIMEOUT_MS, () => s.destroy(new Error('i/o timeout')));
    s.once('error', reject);
  });
}

/** parseExtensions reads an EHLO reply's extension lines into name -> parameters. */
function parseExtensions(r: SmtpReply): Map<string, string> {
  const ext = new Map<string, string>();
  for (const line of r.lines.slice(1)) {
    const [k, ...rest] = line.split(' ');
    ext.set((k as string).toUpperCase(), rest.join(' '));
  }
  return ext;
}

function isLocalhost(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

function readPassword(c: EmailConfig): string {
  if (nonEmpty(c.auth_password_file)) {
    try {
      return readFileSync(c.auth_password_file, 'utf8').trim();
    } catch (err) {
      throw new Error(`could not read ${c.auth_password_file}: ${(err as Error).message}`);
    }
  }
  return c.auth_password ?? '';
}

/** authenticate runs AUTH with the first advertised mechanism we can serve, as the Go notifier picks it. */
async function authenticate(conn: SmtpConn, c: EmailConfig, host: string, mechs: string): Promise<void> {
  const user = c.auth_username ?? '';
  if (user === '') return;
  const errs: string[] = [];
  for (const mech of mechs.split(' ')) {
    if (mech === 'CRAM-MD5') {
      const secret = nonEmpty(c.auth_secret_file) ? readFileSync(c.auth_secret_file, 'utf8') : (c.auth_secret ?? '');
      if (secret === '') {
        errs.push('missing secret for CRAM-MD5 auth mechanism');
        continue;
      }
      const r = await conn.cmd('AUTH CRAM-MD5', 334).catch((e: Error) => Promise.reject(new Error(`*smtp.cramMD5Auth auth: ${e.message}`)));
      const challenge = Buffer.from(r.lines[0] ?? '', 'base64');
      const digest = createHmac('md5', secret).update(challenge).digest('hex');
      await conn.cmd(Buffer.from(`${user} ${digest}`).toString('base64'), 235).catch((e: Error) => Promise.reject(new Error(`*smtp.cramMD5Auth auth: ${e.message}`)));
      return;
    }
    if (mech === 'PLAIN' || mech === 'LOGIN') {
      const password = readPassword(c);
      if (password === '') {
        errs.push(`missing password for ${mech} auth mechanism`);
        continue;
      }
      if (mech === 'PLAIN') {
        if (!conn.tlsActive && !isLocalhost(host)) throw new Error('*smtp.plainAuth auth: unencrypted connection');
        const resp = Buffer.from(`${c.auth_identity ?? ''}\0${user}\0${password}`).toString('base64');
        await conn.cmd(`AUTH PLAIN ${resp}`, 235).catch((e: Error) => Promise.reject(new Error(`*smtp.plainAuth auth: ${e.message}`)));
        return;
      }
      let r = await conn.cmd('AUTH LOGIN', 3).catch((e: Error) => Promise.reject(new Error(`*email.loginAuth auth: ${e.message}`)));
      for (let step = 0; step < 3 && r.code === 334; step++) {
        const challenge = Buffer.from(r.lines[0] ?? '', 'base64').toString('utf8').toLowerCase();
        const answer = challenge === 'username:' ? user : challenge === 'password:' ? password : undefined;
        if (answer === undefined) {
          conn.write('*\r\n');
          throw new Error('*email.loginAuth auth: unexpected server challenge');
        }
        conn.write(Buffer.from(answer).toString('base64') + '\r\n');
        r = await conn.reply();
      }
      if (r.code !== 235) throw new Error(`*email.loginAuth auth: ${r.code} ${r.lines.join('\n')}`);
      return;
    }
    errs.push(`unknown auth mechanism: ${mech}`);
  }
  throw new Error(`find auth mechanism: ${errs.join('\n')}`);
}

/** rfc1123z formats a time as Go's time.RFC1123Z in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"). */
function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** dotStuff prepares message text for DATA: CRLF line ends and leading dots doubled. */
function dotStuff(msg: string): string {
  return msg
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? '.' + l : l))
    .join('\r\n');
}

/** SmtpSession is a connected, authenticated SMTP client: the envelope and the message go through it. */
export interface SmtpSession {
  /** ext are the extensions the server's EHLO advertised. */
  readonly ext: Map<string, string>;
  mail(from: string): Promise<void>;
  rcpt(to: readonly string[]): Promise<void>;
  /** data sends the whole message (header lines and body, CRLF or LF ends) and waits for the server's 250. */
  data(message: string): Promise<void>;
}

/** SmtpOptions tune withSmtp beyond an email_configs entry. */
export interface SmtpOptions {
  /** opportunisticTls upgrades with STARTTLS when the server offers it, without requiring it (Grafana's mailer). */
  opportunisticTls?: boolean;
}

/**
 * withSmtp connects to the entry's smarthost (implicit TLS on 465 or when forced, STARTTLS as require_tls says),
 * authenticates and hands the session to use, then QUITs. Errors are NotifyErrors with the stage that failed, as
 * the Go notifier words them; a NotifyError thrown by use passes through unchanged.
 */
export async function withSmtp(c: EmailConfig, use: (s: SmtpSession) => Promise<void>, opts: SmtpOptions = {}): Promise<void> {
  const hp = splitHostPort(c.smarthost ?? '');
  if (typeof hp === 'string') throw new Error(hp);
  const implicitTls = c.force_implicit_tls ?? hp.port === '465';
  let sock: net.Socket;
  try {
    sock = await connect(hp.host, Number(hp.port), implicitTls, c.tls_config);
  } catch (err) {
    throw new NotifyError(`establish ${implicitTls ? 'TLS ' : ''}connection to server: ${(err as Error).message}`, true);
  }
  const conn = new SmtpConn(sock, implicitTls);
  let stage = 'create SMTP client';
  try {
    const greeting = await conn.reply();
    if (greeting.code !== 220) throw new Error(`${greeting.code} ${greeting.lines.join('\n')}`);
    stage = 'send EHLO command';
    const helloName = nonEmpty(c.hello) ? c.hello : 'localhost';
    let ext = parseExtensions(await conn.cmd(`EHLO ${helloName}`, 250));
    const wantTls = !implicitTls && (opts.opportunisticTls === true ? ext.has('STARTTLS') : c.require_tls !== false);
    if (wantTls) {
      if (!ext.has('STARTTLS')) throw new NotifyError(`'require_tls' is true (default) but "${c.smarthost}" does not advertise the STARTTLS extension`, true);
      stage = 'send STARTTLS command';
      await conn.cmd('STARTTLS', 220);
      await conn.startTls(tlsOptions(c.tls_config, hp.host));
      ext = parseExtensions(await conn.cmd(`EHLO ${helloName}`, 250));
    }
    const mechs = ext.get('AUTH');
    if (mechs !== undefined) {
      stage = '';
      await authenticate(conn, c, hp.host, mechs);
    }
    await use({
      ext,
      async mail(from) {
        let mailCmd = `MAIL FROM:<${from}>`;
        if (ext.has('8BITMIME')) mailCmd += ' BODY=8BITMIME';
        if (ext.has('SMTPUTF8')) mailCmd += ' SMTPUTF8';
        stage = 'send MAIL command';
        await conn.cmd(mailCmd, 250);
      },
      async rcpt(to) {
        stage = 'send RCPT command';
        for (const a of to) await conn.cmd(`RCPT TO:<${a}>`, 25);
      },
      async data(message) {
        stage = 'send DATA command';
        await conn.cmd('DATA', 354);
        stage = 'delivery failure';
        conn.write(dotStuff(message) + '.\r\n');
        const done = await conn.reply();
        if (done.code !== 250) throw new Error(`${done.code} ${done.lines.join('\n')}`);
      },
    });
    await conn.cmd('QUIT', 221).catch(() => undefined);
  } catch (err) {
    if (err instanceof NotifyError) throw err;
    const msg = (err as Error).message;
    throw new NotifyError(stage === '' ? msg : `${stage}: ${msg}`, true);
  } finally {
    conn.close();
  }
}

/** LOCAL_HOST names this machine in generated Message-Ids. */
const LOCAL_HOST = hostname() || 'localhost.localdomain';

/**
 * mimeMessage writes a multipart/alternative message: the header lines as given (values Q-encoded), a Message-Id
 * unless one is among them, extra raw lines, the Date, then each part quoted-printable in UTF-8.
 */
export function mimeMessage(headers: ReadonlyArray<[string, string]>, parts: ReadonlyArray<[string, string]>, extraLines: readonly string[] = []): string {
  const head = headers.map(([name, value]) => `${name}: ${qEncode(value)}\r\n`);
  if (!headers.some(([name]) => name === 'Message-Id')) head.push(`Message-Id: <${BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)}.${randomBytes(8).readBigUInt64BE()}@${LOCAL_HOST}>\r\n`);
  for (const l of extraLines) head.push(`${l}\r\n`);
  const boundary = randomBytes(30).toString('hex');
  head.push(`Date: ${rfc1123z(Date.now())}\r\n`, `Content-Type: multipart/alternative;  boundary=${boundary}\r\n`, 'MIME-Version: 1.0\r\n\r\n');
  const body = parts.map(([type, text], i) => `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: ${type}; charset=UTF-8\r\n\r\n${quotedPrintable(text)}`);
  const tail = parts.length === 0 ? `--${boundary}--\r\n` : `\r\n--${boundary}--\r\n`;
  return head.join('') + body.join('') + tail;
}

function createEmail(entry: Record<string, unknown>): Notifier {
  const c = entry as EmailConfig;
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (!('Subject' in headers)) headers.Subject = tmplRef('email.default.subject');
  if (!('To' in headers)) headers.To = c.to ?? '';
  if (!('From' in headers)) headers.From = c.from ?? '';
  return {
    async notify(ctx, alerts) {
      await withSmtp(c, async (s) => {
        const r = renderer(ctx, alerts);
        let from: string;
        let to: string;
        try {
          from = r.text(c.from);
        } catch (err) {
          throw new NotifyError(`execute 'from' template: ${(err as Error).message}`, false);
        }
        try {
          to = r.text(c.to);
        } catch (err) {
          throw new NotifyError(`execute 'to' template: ${(err as Error).message}`, false);
        }
        let fromAddrs: string[];
        try {
          fromAddrs = parseAddressList(from);
        } catch (err) {
          throw new NotifyError(`parse 'from' addresses: ${(err as Error).message}`, false);
        }
        if (fromAddrs.length !== 1) throw new NotifyError(`must be exactly one 'from' address (got: ${fromAddrs.length})`, false);
        await s.mail(fromAddrs[0] as string);
        let toAddrs: string[];
        try {
          toAddrs = parseAddressList(to);
        } catch (err) {
          throw new NotifyError(`parse 'to' addresses: ${(err as Error).message}`, false);
        }
        await s.rcpt(toAddrs);
        // Render everything before DATA so template errors do not leave a half-sent message.
        const head: Array<[string, string]> = [];
        for (const name of Object.keys(headers).sort()) {
          try {
            head.push([name, r.text(headers[name])]);
          } catch (err) {
            throw new NotifyError(`execute ${JSON.stringify(name)} header template: ${(err as Error).message}`, false);
          }
        }
        const extra: string[] = [];
        if (c.threading?.enabled === true) {
          const threadBy = c.threading.thread_by_date !== 'none' ? new Date().toISOString().slice(0, 10) : '';
          const root = `<alert-${createHash('sha256').update(ctx.groupKey).digest('hex').slice(0, 16)}-${threadBy}@alertmanager>`;
          extra.push(`References: ${root}`, `In-Reply-To: ${root}`);
        }
        const parts: Array<[string, string]> = [];
        if (nonEmpty(c.text)) {
          try {
            parts.push(['text/plain', r.text(c.text)]);
          } catch (err) {
            throw new NotifyError(`execute text template: ${(err as Error).message}`, false);
          }
        }
        if (nonEmpty(c.html)) {
          try {
            parts.push(['text/html', r.html(c.html)]);
          } catch (err) {
            throw new NotifyError(`execute html template: ${(err as Error).message}`, false);
          }
        }
        await s.data(mimeMessage(head, parts, extra));
      });
    },
  };
}

registerIntegration({
  key: 'email_configs',
  name: 'email',
  sendResolvedDefault: false,
  validate(entry, global) {
    setDefaults(entry, { html: tmplRef('email.default.html'), text: '' });
    const c = entry as EmailConfig;
    if (!nonEmpty(c.to)) return 'missing to address in email config';
    const normalized: Record<string, string> = {};
    for (const [h, v] of Object.entries(c.headers ?? {})) {
      const k = canonicalHeaderKey(h);
      if (k in normalized) return `duplicate header ${JSON.stringify(k)} in email config`;
      normalized[k] = v;
    }
    c.headers = normalized;
    if (c.threading?.enabled === true) {
      if ('References' in normalized) return 'conflicting configuration: threading.enabled conflicts with custom References header';
      if ('In-Reply-To' in normalized) return 'conflicting configuration: threading.enabled conflicts with custom In-Reply-To header';
      if (c.threading.thread_by_date !== 'none' && c.threading.thread_by_date !== 'daily') return "threading.thread_by_date must be either 'none' or 'daily'";
    }
    if (nonEmpty(c.auth_password) && nonEmpty(c.auth_password_file)) return 'at most one of auth_password & auth_password_file must be configured';
    const g = global as Record<string, unknown>;
    if (c.tls_config === undefined && g.smtp_tls_config !== undefined) c.tls_config = g.smtp_tls_config as TLSConfig;
    if (!nonEmpty(c.smarthost) && nonEmpty(g.smtp_smarthost)) c.smarthost = g.smtp_smarthost;
    if (!nonEmpty(c.smarthost)) return 'no global SMTP smarthost set';
    const hp = splitHostPort(c.smarthost);
    if (typeof hp === 'string') return hp;
    if (!nonEmpty(c.from) && nonEmpty(g.smtp_from)) c.from = g.smtp_from;
    if (!nonEmpty(c.from)) return 'no global SMTP from set';
    if (!nonEmpty(c.hello)) c.hello = nonEmpty(g.smtp_hello) ? g.smtp_hello : 'localhost';
    if (!nonEmpty(c.auth_username) && nonEmpty(g.smtp_auth_username)) c.auth_username = g.smtp_auth_username;
    if (!nonEmpty(c.auth_password) && !nonEmpty(c.auth_password_file)) {
      if (nonEmpty(g.smtp_auth_password)) c.auth_password = g.smtp_auth_password;
      if (nonEmpty(g.smtp_auth_password_file)) c.auth_password_file = g.smtp_auth_password_file;
    }
    if (!nonEmpty(c.auth_secret) && !nonEmpty(c.auth_secret_file)) {
      if (nonEmpty(g.smtp_auth_secret)) c.auth_secret = g.smtp_auth_secret;
      if (nonEmpty(g.smtp_auth_secret_file)) c.auth_secret_file = g.smtp_auth_secret_file;
    }
    if (!nonEmpty(c.auth_identity) && nonEmpty(g.smtp_auth_identity)) c.auth_identity = g.smtp_auth_identity;
    if (c.require_tls === undefined) c.require_tls = typeof g.smtp_require_tls === 'boolean' ? g.smtp_require_tls : true;
    if (c.force_implicit_tls === undefined && typeof g.smtp_force_implicit_tls === 'boolean') c.force_implicit_tls = g.smtp_force_implicit_tls;
    return undefined;
  },
  create: createEmail,
});
