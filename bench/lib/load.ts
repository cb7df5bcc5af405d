// load.ts pushes pre-encoded remote-write bodies the way Prometheus's queue
// manager does: a fixed number of shards, each owning a disjoint set of
// series and sending its requests one after another (so every series' samples
// arrive in order), all shards in flight at once over keep-alive connections.

import { connect as netConnect, type Socket } from 'node:net';

/** PushTarget is where and how to post. */
export interface PushTarget {
  url: URL;
  headers: Record<string, string>;
}

/** PushStats is the outcome of one phase. */
export interface PushStats {
  requests: number;
  /** Per-request latency in ms, in completion order. */
  latenciesMs: Float64Array;
  wallMs: number;
  /** clientCpuS is the CPU seconds the sending process (this one) used while sending. */
  clientCpuS: number;
  /** Requests answered with something other than 2xx, or failed. */
  errors: number;
  statusCounts: Map<number, number>;
  firstError?: string;
}

interface PostResult {
  status: number;
  body: string;
}

/**
 * PushConnection is one shard's keep-alive HTTP/1.1 connection, written and read by hand: the
 * request is a pre-built head and the pre-encoded body, the answer is parsed only for its status,
 * length and the start of an error body. Node's http client spent about a third of a millisecond
 * of CPU per request, which on a 2-CPU machine is taken from the server under test, and the more
 * so the faster that server answers.
 */
class PushConnection {
  private socket: Socket | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private waiter: { resolve: (r: PostResult) => void; reject: (e: Error) => void } | undefined;
  private readonly prefix: string;

  constructor(private readonly target: PushTarget) {
    const headers = Object.entries(target.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    this.prefix = `POST ${target.url.pathname} HTTP/1.1\r\nHost: ${target.url.host}\r\n${headers}`;
  }

  /** post sends one request and resolves with its answer; one request at a time. */
  async post(body: Buffer): Promise<PostResult> {
    const socket = this.socket ?? (await this.connect());
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      socket.cork();
      socket.write(`${this.prefix}Content-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: this.target.url.hostname, port: Number(this.target.url.port) }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.fail(err));
        resolve(socket);
      });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.fail(new Error('connection closed before the answer'));
      });
      this.socket = socket;
      this.pending = [];
      this.pendingBytes = 0;
    });
  }

  private fail(err: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  /** onData collects the answer until its head and body are in, then hands it to the waiter. */
  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      this.pending = [buf];
      return;
    }
    const head = buf.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
    const bodyStart = headEnd + 4;
    let end: number;
    if (length !== null) end = bodyStart + Number(length[1]);
    else if (chunked) {
      const last = buf.indexOf('0\r\n\r\n', bodyStart);
      end = last < 0 ? Infinity : last + 5;
    } else end = bodyStart;
    if (buf.length < end) {
      this.pending = [buf];
      return;
    }
    const rest = buf.subarray(end);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ status, body: buf.toString('utf8', bodyStart, Math.min(end, bodyStart + 300)) });
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
  }
}

/** runShards sends every shard's bodies in order, all shards concurrently. */
export async function runShards(target: PushTarget, shards: Buffer[][]): Promise<PushStats> {
  const total = shards.reduce((n, s) => n + s.length, 0);
  const latencies = new Float64Array(total);
  const stats: PushStats = { requests: total, latenciesMs: latencies, wallMs: 0, clientCpuS: 0, errors: 0, statusCounts: new Map() };
  let done = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    shards.map(async (bodies) => {
      const conn = new PushConnection(target);
      for (const body of bodies) {
        const t0 = process.hrtime.bigint();
        let status = 0;
        try {
          const res = await conn.post(body);
          status = res.status;
          if (status < 200 || status >= 300) {
            stats.errors++;
            stats.firstError ??= `HTTP ${status}: ${res.body}`;
          }
        } catch (e) {
          stats.errors++;
          stats.firstError ??= (e as Error).message;
        }
        latencies[done++] = Number(process.hrtime.bigint() - t0) / 1e6;
        stats.statusCounts.set(status, (stats.statusCounts.get(status) ?? 0) + 1);
      }
      conn.close();
    }),
  );
  stats.wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  stats.clientCpuS = (cpu.user + cpu.system) / 1e6;
  return stats;
}

/**
 * runWaves runs each wave with runShards, one after the other, and merges the
 * stats. A wave ends when its slowest shard is done, so shards never drift
 * apart by more than one wave: used to push a day of samples in time order
 * without any shard racing past the head's appendable window.
 */
export async function runWaves(target: PushTarget, waves: Buffer[][][]): Promise<PushStats> {
  const parts: PushStats[] = [];
  for (const wave of waves) parts.push(await runShards(target, wave));
  const total = parts.reduce((n, p) => n + p.requests, 0);
  const latencies = new Float64Array(total);
  const merged: PushStats = { requests: total, latenciesMs: latencies, wallMs: 0, clientCpuS: 0, errors: 0, statusCounts: new Map() };
  let at = 0;
  for (const p of parts) {
    latencies.set(p.latenciesMs, at);
    at += p.requests;
    merged.wallMs += p.wallMs;
    merged.clientCpuS += p.clientCpuS;
    merged.errors += p.errors;
    merged.firstError ??= p.firstError;
    for (const [s, n] of p.statusCounts) merged.statusCounts.set(s, (merged.statusCounts.get(s) ?? 0) + n);
  }
  return merged;
}

/** percentile returns the p-th percentile (0..100) of values by nearest rank. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}
