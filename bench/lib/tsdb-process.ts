// tsdb-process.ts runs a server for the storage benchmark: a child process
// on a data directory that outlives it (so it can be stopped and started
// again on the same WAL), whose log lines are kept as they arrive (with the
// time they arrived) and whose resident memory is sampled from /proc every
// few tens of milliseconds from the moment it is spawned until it is ready.
// It also parses the two log formats (logfmt key=value pairs, Go and our
// durations) the benchmark reads figures from.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** LogLine is one line of the child's stdout/stderr and when it arrived (ms since spawn). */
export interface LogLine {
  atMs: number;
  text: string;
}

/** RssTrace is the memory seen while the process started. */
export interface RssTrace {
  /** Highest VmRSS sampled. */
  peakSampledBytes: number;
  /** VmHWM (peak RSS as the kernel counted it) when sampling stopped. */
  hwmBytes: number;
  /** VmRSS when sampling stopped. */
  lastBytes: number;
  samples: number;
}

/** SpawnOptions describe the child and how to probe it. */
export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  baseUrl: string;
  /** Path polled with GET until 200, e.g. `/ready`. */
  readyPath: string;
  readyTimeoutMs: number;
  /** How often VmRSS is sampled and readiness polled until ready. */
  sampleMs: number;
}

/** BenchProcess is a running child with its log and start-up figures. */
export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  /** readyMs is the time from spawn until readyPath answered 200. */
  readonly readyMs: number;
  /** startRss is the memory seen from spawn until ready. */
  readonly startRss: RssTrace;
  /** lines returns the log lines so far (the whole log: the benchmark's servers log little). */
  lines(): LogLine[];
  /** sinceSpawnMs is the time since spawn, on the same clock as LogLine.atMs. */
  sinceSpawnMs(): number;
  /** stop sends the signal, waits up to graceMs, then SIGKILL. Resolves with the time it took. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

/** readStatusKb returns the named field (kB) of /proc/<pid>/status, or undefined. */
export async function readStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** spawnMeasured starts the child, samples its RSS and resolves once it is ready. */
export async function spawnMeasured(opts: SpawnOptions): Promise<BenchProcess> {
  const t0 = performance.now();
  const since = (): number => performance.now() - t0;
  const child = spawn(opts.command, opts.args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? -1;
  const log: LogLine[] = [];
  const splitter = (): ((c: Buffer) => void) => {
    let rest = '';
    return (c: Buffer) => {
      const at = since();
      const parts = (rest + c.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const text of parts) if (text !== '') log.push({ atMs: at, text });
    };
  };
  child.stdout?.on('data', splitter());
  child.stderr?.on('data', splitter());
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 60_000): Promise<number> => {
    const began = performance.now();
    if (!exited) {
      child.kill(signal);
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exitPromise;
      clearTimeout(timer);
    }
    return performance.now() - began;
  };

  // RSS sampler: runs until ready (or failure).
  const trace: RssTrace = { peakSampledBytes: 0, hwmBytes: 0, lastBytes: 0, samples: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling && !exited) {
      const kb = await readStatusKb(pid, 'VmRSS');
      if (kb !== undefined) {
        trace.samples++;
        trace.lastBytes = kb * 1024;
        trace.peakSampledBytes = Math.max(trace.peakSampledBytes, kb * 1024);
      }
      await sleep(opts.sampleMs);
    }
  })();

  let readyMs = -1;
  let lastError = '';
  while (since() < opts.readyTimeoutMs) {
    if (spawnError) break;
    if (exited) break;
    try {
      const res = await fetch(opts.baseUrl + opts.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        readyMs = since();
        break;
      }
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(opts.sampleMs);
  }
  sampling = false;
  await sampler;
  const hwm = await readStatusKb(pid, 'VmHWM');
  const rss = await readStatusKb(pid, 'VmRSS');
  if (hwm !== undefined) trace.hwmBytes = hwm * 1024;
  if (rss !== undefined) {
    trace.lastBytes = rss * 1024;
    trace.peakSampledBytes = Math.max(trace.peakSampledBytes, rss * 1024);
  }
  const tail = (): string => log.slice(-30).map((l) => l.text).join('\n');
  if (readyMs < 0) {
    await stop('SIGKILL');
    if (spawnError) throw new Error(`${opts.name}: cannot start ${opts.command}: ${spawnError.message}`);
    if (exited) throw new Error(`${opts.name} exited early (code ${exited.code}, signal ${exited.signal}):\n${tail()}`);
    throw new Error(`${opts.name} not ready after ${opts.readyTimeoutMs} ms (${lastError}):\n${tail()}`);
  }
  return { name: opts.name, child, pid, baseUrl: opts.baseUrl, readyMs, startRss: trace, lines: () => log, sinceSpawnMs: since, stop };
}

/** parseLogfmt returns the key=value pairs of a logfmt line (quoted values unescaped). */
export function parseLogfmt(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z0-9_.\-/]+)=("((?:[^"\\]|\\.)*)"|[^\s]*)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    out.set(m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!);
  }
  return out;
}

/** findLog returns the fields of the log lines whose msg is msg, with their arrival times. */
export function findLog(lines: LogLine[], msg: string, fromMs = 0): Array<{ atMs: number; fields: Map<string, string> }> {
  const out: Array<{ atMs: number; fields: Map<string, string> }> = [];
  for (const l of lines) {
    if (l.atMs < fromMs || !l.text.includes(msg)) continue;
    const fields = parseLogfmt(l.text);
    if (fields.get('msg') === msg) out.push({ atMs: l.atMs, fields });
  }
  return out;
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ns: 1e-9 };

/** parseGoDuration reads a Go time.Duration string ("1m2.5s", "53.9ms", "1.4µs") or ours ("0.123s") as seconds. */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|us|µs|μs|ns|m|s)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    at = re.lastIndex;
  }
  return total;
}
