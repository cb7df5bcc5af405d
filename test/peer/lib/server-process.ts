// server-process.ts starts a server binary as a child process on a free
// port, waits until it answers its readiness URL, and stops it again. Shared
// by the peer suites (a real Prometheus) and the benchmarks (ours and
// Prometheus), which also read the child's resident memory from /proc.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** freePort asks the kernel for an unused TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * freePorts returns n distinct free loopback ports: every listener stays open until all n are
 * bound, so two calls in a row cannot hand out the same port twice.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      srv.unref();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((srv) => {
      const addr = srv.address();
      return typeof addr === 'object' && addr ? addr.port : 0;
    });
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}

/** makeTempDir creates a fresh temporary directory with the given prefix. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** ServerProcess is a running child server. */
export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  /** output returns the last captured stdout+stderr (for failure messages). */
  output(): string;
  /** stop sends SIGTERM, waits up to graceMs, then SIGKILL; removes dirs listed in cleanup. */
  stop(graceMs?: number): Promise<void>;
}

/** StartOptions describe how to launch and probe a server. */
export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  /** Path polled with GET until it answers 200, e.g. `/-/ready`. */
  readyPath: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Directories removed after the process exits. */
  cleanup?: string[];
}

const OUTPUT_KEEP = 64 * 1024;

/** startServer spawns the process and resolves once readyPath answers 200. */
export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));

  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const proc: ServerProcess = {
    name: opts.name,
    child,
    pid: child.pid ?? -1,
    baseUrl,
    output: () => out.slice(-OUTPUT_KEEP),
    stop: async (graceMs = 10_000) => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, graceMs);
        await exitPromise;
        clearTimeout(timer);
      }
      for (const dir of opts.cleanup ?? []) await rm(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let lastError = '';
  while (Date.now() < deadline) {
    if (exited) {
      await proc.stop();
      throw new Error(`${opts.name} exited early (code ${exited.code}, signal ${exited.signal}):\n${proc.output()}`);
    }
    const err = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 0, undefined))]);
    if (err) throw new Error(`${opts.name}: cannot start ${opts.command}: ${err.message}`);
    try {
      const res = await fetch(baseUrl + opts.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return proc;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`${opts.name} not ready after ${opts.readyTimeoutMs ?? 30_000} ms (${lastError}):\n${proc.output()}`);
}

/** readRssBytes returns VmRSS of a pid from /proc/<pid>/status (threads included). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** scrapeMetric returns the sum of a metric's samples from a Prometheus text exposition, or undefined. */
export function scrapeMetric(text: string, name: string): number | undefined {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    // "{labels} value [ts]" or " value [ts]".
    const tail = rest.startsWith('{') ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = tail.trim().split(/\s+/)[0];
    if (value === undefined) continue;
    sum += Number(value);
    found = true;
  }
  return found ? sum : undefined;
}
