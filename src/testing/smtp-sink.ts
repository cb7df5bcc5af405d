// smtp-sink.ts is an SMTP server for tests (EHLO, MAIL, RCPT, DATA, QUIT;
// no TLS, no AUTH) that keeps what it receives, and a reader of the
// multipart/alternative messages our email integrations write.

import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SmtpMail {
  from: string;
  to: string[];
  data: string;
  ehlo: string;
}

/** startSmtpSink is a minimal SMTP server: EHLO, MAIL, RCPT, DATA (dot-terminated), QUIT. */
export async function startSmtpSink(): Promise<{ port: number; mails: SmtpMail[]; close: () => void }> {
  const mails: SmtpMail[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.setEncoding('utf8');
    let buf = '';
    let inData = false;
    let cur: SmtpMail = { from: '', to: [], data: '', ehlo: '' };
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (d: string) => {
      buf += d;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end + 2).replace(/^\.\./gm, '.');
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { from: '', to: [], data: '', ehlo: cur.ehlo };
          sock.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          cur.ehlo = line.slice(5);
          sock.write('250-sink\r\n250 8BITMIME\r\n');
        } else if (verb === 'MAIL') {
          cur.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          sock.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          cur.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          sock.write('250 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          sock.end('221 bye\r\n');
        } else sock.write('502 unknown\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    mails,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** decodeQP undoes quoted-printable (soft breaks and =XX bytes, UTF-8). */
export function decodeQP(s: string): string {
  const bytes: number[] = [];
  const text = s.replace(/=\r\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i] as string, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** parseMimeMessage splits a multipart/alternative message into its header lines and decoded parts by content type. */
export function parseMimeMessage(data: string): { headers: Map<string, string>; parts: Map<string, string> } {
  const [head, ...rest] = data.split('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const l of (head as string).split('\r\n')) {
    const i = l.indexOf(': ');
    headers.set(l.slice(0, i), l.slice(i + 2));
  }
  const boundary = /boundary=(\S+)/.exec(headers.get('Content-Type') ?? '')?.[1] ?? '';
  const body = rest.join('\r\n\r\n');
  const parts = new Map<string, string>();
  for (const chunk of body.split(`--${boundary}`)) {
    const m = /Content-Type: ([^;]+); charset=UTF-8\r\n\r\n([\s\S]*)$/.exec(chunk);
    if (m !== null) parts.set(m[1] as string, decodeQP((m[2] as string).replace(/\r\n$/, '')).replace(/\r\n/g, '\n'));
  }
  return { headers, parts };
}

