// process.ts starts the real server (dist/src/main.js) as a child process
// for the crash tests and waits for it to listen and to be ready.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpRequest } from '../../../src/testing/http-client.js';

const MAIN = fileURLToPath(new URL('../../../src/main.js', import.meta.url));

/** ServerProcess is a running server child. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** startProcess spawns the server with flags and resolves once it listens (it may still be replaying). */
export async function startProcess(flags: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /msg="server listening" addr=127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr, exited };
}

/** waitReady polls /ready until 200. */
export async function waitReady(s: ServerProcess): Promise<void> {
  for (let i = 0; i < 800; i++) {
    const res = await httpRequest(s.port, '/ready').catch(() => undefined);
    if (res?.status === 200) return;
    await sleep(25);
  }
  throw new Error(`not ready: ${s.stderr()}`);
}

/** Rng is a fixed-seed xorshift32. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s ^= this.s << 13;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    return (this.s >>> 0) / 4294967296;
  }
}
