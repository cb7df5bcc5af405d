// load.ts pushes pre-encoded remote-write bodies the way Prometheus's queue
// manager does: a fixed number of shards, each owning a disjoint set of
// series and sending its requests one after another (so every series' samples
// arrive in order), all shards in flight at once over keep-alive connections.

import http from 'node:http';

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

function post(target: PushTarget, agent: http.Agent, body: Buffer): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.url.hostname,
        port: target.url.port,
        path: target.url.pathname,
        method: 'POST',
        agent,
        headers: { ...target.headers, 'Content-Length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          // Keep only the start of error bodies.
          if (chunks.length < 4) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** runShards sends every shard's bodies in order, all shards concurrently. */
export async function runShards(target: PushTarget, shards: Buffer[][]): Promise<PushStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: shards.length });
  const total = shards.reduce((n, s) => n + s.length, 0);
  const latencies = new Float64Array(total);
  const stats: PushStats = { requests: total, latenciesMs: latencies, wallMs: 0, clientCpuS: 0, errors: 0, statusCounts: new Map() };
  let done = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    shards.map(async (bodies) => {
      for (const body of bodies) {
        const t0 = process.hrtime.bigint();
        let status = 0;
        try {
          const res = await post(target, agent, body);
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
    }),
  );
  stats.wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  stats.clientCpuS = (cpu.user + cpu.system) / 1e6;
  agent.destroy();
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
