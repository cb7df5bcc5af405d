// memcached.ts starts a real memcached (Debian `memcached`, found on PATH or
// through MEMCACHED_BIN) on a free loopback port, for the results-cache tests
// and the cluster peer test. Under CI a missing memcached is a failure.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { peerBinary } from './binary.js';
import { freePort } from './server-process.js';

/** MEMCACHED is Debian's memcached (.ci/run installs it), MEMCACHED_BIN overrides it. */
export const MEMCACHED = peerBinary('memcached', 'MEMCACHED_BIN', ['memcached'], 'Debian package (apt-get install memcached; .ci/run installs it)');

/** MemcachedProcess is a running memcached and its address (host:port). */
export interface MemcachedProcess {
  proc: ChildProcess;
  address: string;
  /** stop kills memcached. */
  stop(): void;
}

/** startMemcached starts memcached (16 MiB, TCP only) and waits (up to 5 s) until it accepts connections. */
export async function startMemcached(): Promise<MemcachedProcess> {
  const port = await freePort();
  const proc = spawn(MEMCACHED.path, ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '16', '-u', 'nobody'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return { proc, address: `127.0.0.1:${port}`, stop: () => void proc.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error('memcached did not start');
}

/** memcachedStats reads the general statistics (`stats`) of the memcached at address. */
export async function memcachedStats(address: string): Promise<Map<string, string>> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect({ host: host!, port: Number(port) }, () => s.write('stats\r\n'));
    s.setTimeout(5_000, () => s.destroy(new Error('memcached stats timed out')));
    s.on('error', reject);
    s.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (!text.endsWith('END\r\n')) return;
      s.destroy();
      const out = new Map<string, string>();
      for (const line of text.split('\r\n')) {
        const [tag, key, value] = line.split(' ');
        if (tag === 'STAT' && key !== undefined && value !== undefined) out.set(key, value);
      }
      resolve(out);
    });
  });
}
