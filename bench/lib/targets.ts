// targets.ts starts the systems under test as fresh child processes: our
// server (`node dist/src/main.js` with Mimir flags, multitenancy off),
// Prometheus with its remote-write receiver (3.x by default) and
// VictoriaMetrics single-node, and knows how each reports its number of
// in-memory series and its CPU time, and (ours and Prometheus) how to write
// its head out as a block to weigh the block's chunk files.

import { readdir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { PROMETHEUS3, VICTORIAMETRICS } from '../../test/peer/lib/binary.js';
import { startPrometheus } from '../../test/peer/lib/prometheus.js';
import { freePort, makeTempDir, scrapeMetric, startServer, type ServerProcess } from '../../test/peer/lib/server-process.js';
import type { PushTarget } from './load.js';

/** REPO_ROOT is the checkout root (this file runs from dist/bench/lib). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** TargetName names a system under test. */
export type TargetName = 'ours' | 'prometheus' | 'victoriametrics';

/** RunningTarget is a started system under test. */
export interface RunningTarget {
  name: TargetName;
  proc: ServerProcess;
  push: PushTarget;
  /** queryApi is the base of the Prometheus HTTP API (`.../api/v1`). */
  queryApi: string;
  /** headSeries asks the target how many series its head holds (undefined if it cannot tell). */
  headSeries(): Promise<number | undefined>;
  /** appendedSamples asks the target how many samples it appended (undefined if it cannot tell). */
  appendedSamples(): Promise<number | undefined>;
  /** instantQuery runs a PromQL instant query and sums the result vector (undefined on any failure). */
  instantQuery(query: string, timeMs: number): Promise<number | undefined>;
  /**
   * blockChunkBytes writes the whole head out as a block (ours: /ingester/flush?wait=true into
   * the bucket; Prometheus: an admin TSDB snapshot) and returns the bytes of that block's chunk
   * files (undefined when the target cannot).
   */
  blockChunkBytes?(): Promise<number | undefined>;
}

/** chunkFileBytes sums the sizes of the files in every `chunks` directory under root (blocks' segment files). */
export async function chunkFileBytes(root: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(root, { withFileTypes: true })) {
    const path = join(root, e.name);
    if (!e.isDirectory()) continue;
    if (e.name === 'chunks') {
      for (const f of await readdir(path, { withFileTypes: true })) {
        if (f.isFile()) total += (await stat(join(path, f.name))).size;
      }
    } else {
      total += await chunkFileBytes(path);
    }
  }
  return total;
}

/** firstMetric returns the first of the named metrics present in /metrics. */
export async function firstMetric(baseUrl: string, names: string[]): Promise<number | undefined> {
  const metrics = await getText(`${baseUrl}/metrics`);
  if (metrics === undefined) return undefined;
  for (const n of names) {
    const v = scrapeMetric(metrics, n);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** instantQuerySum runs GET <apiBase>/query and sums a vector or scalar result. */
export async function instantQuerySum(apiBase: string, query: string, timeMs: number): Promise<number | undefined> {
  const text = await getText(`${apiBase}/query?query=${encodeURIComponent(query)}&time=${timeMs / 1000}`);
  if (text === undefined) return undefined;
  try {
    const body = JSON.parse(text) as { status: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success' || !body.data) return undefined;
    if (body.data.resultType === 'scalar') return Number((body.data.result as [number, string])[1]);
    if (body.data.resultType !== 'vector') return undefined;
    return (body.data.result as Array<{ value: [number, string] }>).reduce((n, r) => n + Number(r.value[1]), 0);
  } catch {
    return undefined;
  }
}

async function getText(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    return res.ok ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * oursArgs is the command line (after the node binary) of our server on port with its data
 * under dir (tsdb/, bucket/, sync/), multitenancy off and no ingestion limit in the way.
 */
export function oursArgs(dir: string, port: number, extraArgs: string[] = [], nodeArgs: string[] = []): string[] {
  return [
    ...nodeArgs,
    join(REPO_ROOT, 'dist/src/main.js'),
    `-server.http-listen-port=${port}`,
    '-auth.multitenancy-enabled=false',
    `-blocks-storage.tsdb.dir=${join(dir, 'tsdb')}`,
    `-blocks-storage.filesystem.dir=${join(dir, 'bucket')}`,
    `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`,
    `-compactor.data-dir=${join(dir, 'compactor')}`,
    // The benchmarks measure raw ingestion: no per-tenant rate or series limit in the way.
    '-distributor.ingestion-rate-limit=1000000000000',
    '-distributor.ingestion-burst-size=1000000000000',
    '-ingester.max-global-series-per-user=0',
    ...extraArgs,
  ];
}

/** startOurs starts `node [nodeArgs] dist/src/main.js` on a free port with a fresh TSDB dir. */
export async function startOurs(extraArgs: string[] = [], nodeArgs: string[] = []): Promise<RunningTarget> {
  const dir = await makeTempDir('bench-ours-');
  const port = await freePort();
  const proc = await startServer({
    name: 'ours',
    command: process.execPath,
    args: oursArgs(dir, port, extraArgs, nodeArgs),
    cwd: REPO_ROOT,
    port,
    readyPath: '/ready',
    readyTimeoutMs: 60_000,
    cleanup: [dir],
  });
  return {
    name: 'ours',
    proc,
    push: { url: new URL(`${proc.baseUrl}/api/v1/push`), headers: { ...REMOTE_WRITE_HEADERS } },
    queryApi: `${proc.baseUrl}/prometheus/api/v1`,
    headSeries: () => firstMetric(proc.baseUrl, ['cortex_ingester_memory_series']),
    appendedSamples: () =>
      firstMetric(proc.baseUrl, ['cortex_ingester_ingested_samples_total', 'cortex_distributor_received_samples_total']),
    instantQuery: (q, t) => instantQuerySum(`${proc.baseUrl}/prometheus/api/v1`, q, t),
    blockChunkBytes: async () => {
      const res = await fetch(`${proc.baseUrl}/ingester/flush?wait=true`, { method: 'POST', signal: AbortSignal.timeout(300_000) });
      await res.arrayBuffer();
      return res.ok ? chunkFileBytes(join(dir, 'bucket')) : undefined;
    },
  };
}

/** startReference starts Prometheus (bin, by default Prometheus 3.x) as the reference receiver. */
export async function startReference(bin: string = PROMETHEUS3.path): Promise<RunningTarget> {
  const proc = await startPrometheus(['--web.enable-admin-api'], bin);
  return {
    name: 'prometheus',
    proc,
    push: { url: new URL(proc.writeUrl), headers: { ...REMOTE_WRITE_HEADERS } },
    queryApi: `${proc.baseUrl}/api/v1`,
    headSeries: () => firstMetric(proc.baseUrl, ['prometheus_tsdb_head_series']),
    appendedSamples: () => firstMetric(proc.baseUrl, ['prometheus_tsdb_head_samples_appended_total']),
    instantQuery: (q, t) => instantQuerySum(`${proc.baseUrl}/api/v1`, q, t),
    blockChunkBytes: async () => {
      const res = await fetch(`${proc.baseUrl}/api/v1/admin/tsdb/snapshot`, { method: 'POST', signal: AbortSignal.timeout(300_000) });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { data?: { name?: string } };
      const name = body.data?.name;
      return name === undefined ? undefined : chunkFileBytes(join(proc.dataDir, 'snapshots', name));
    },
  };
}

/**
 * startVictoriaMetrics starts VictoriaMetrics single-node on a free port with a fresh data dir.
 * Its series count is the number of series it created, its samples the rows it inserted.
 */
export async function startVictoriaMetrics(): Promise<RunningTarget> {
  const dir = await makeTempDir('bench-victoriametrics-');
  const port = await freePort();
  const proc = await startServer({
    name: 'victoriametrics',
    command: VICTORIAMETRICS.path,
    args: [`-storageDataPath=${join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=1y', '-search.latencyOffset=0s', '-search.disableCache', '-loggerLevel=WARN'],
    port,
    readyPath: '/health',
    readyTimeoutMs: 60_000,
    cleanup: [dir],
  });
  return {
    name: 'victoriametrics',
    proc,
    push: { url: new URL(`${proc.baseUrl}/api/v1/write`), headers: { ...REMOTE_WRITE_HEADERS } },
    queryApi: `${proc.baseUrl}/api/v1`,
    headSeries: () => firstMetric(proc.baseUrl, ['vm_new_timeseries_created_total']),
    appendedSamples: () => firstMetric(proc.baseUrl, ['vm_rows_inserted_total']),
    instantQuery: (q, t) => instantQuerySum(`${proc.baseUrl}/api/v1`, q, t),
  };
}

/** startTarget starts the named system under test (ours with the extra flags and node options). */
export function startTarget(name: TargetName, oursArgs: string[] = [], oursNodeArgs: string[] = []): Promise<RunningTarget> {
  if (name === 'ours') return startOurs(oursArgs, oursNodeArgs);
  return name === 'prometheus' ? startReference() : startVictoriaMetrics();
}

/** cpuSeconds returns user+system CPU time of a process (all its threads) from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}
