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

/** ExitStatus is how a child ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** SpawnedServer is a server child that may not listen yet. */
export interface SpawnedServer {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<ExitStatus>;
}

/** spawnServer spawns the server on 127.0.0.1 (ephemeral port) with flags and, if given, env instead of this process's environment. */
export function spawnServer(flags: string[], env?: NodeJS.ProcessEnv): SpawnedServer {
  const child = spawn(process.execPath, [MAIN, '-server.http-listen-address=127.0.0.1', '-server.http-listen-port=0', ...flags], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<ExitStatus>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => stderr, exited };
}

/** startProcess spawns the server with flags (and env, if given) and resolves once it listens (it may still be replaying). */
export async function startProcess(flags: string[], env?: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const s = spawnServer(flags, env);
  const exited = s.exited.then((e) => e.code);
  const port = await new Promise<number>((resolve, reject) => {
    s.child.stderr!.on('data', () => {
      const m = /msg="server listening" addr=127\.0\.0\.1:(\d+)/.exec(s.stderr());
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`server exited ${code}: ${s.stderr()}`)));
  });
  return { child: s.child, port, stderr: s.stderr, exited };
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
