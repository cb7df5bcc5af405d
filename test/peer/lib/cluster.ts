// cluster.ts starts our server as separate component processes on loopback
// (distributors, ingesters, queriers), their rings in one etcd, each with its
// own temp directories, HTTP port and internal (-server.grpc-listen-port) port.

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Test } from 'tap';
import { startEtcd, type EtcdProcess } from './etcd.js';
import { freePorts, makeTempDir, startServer, type ServerProcess } from './server-process.js';

const MAIN = fileURLToPath(new URL('../../../src/main.js', import.meta.url));

/** Component is one started process of the cluster. */
export interface Component {
  name: string;
  target: string;
  proc: ServerProcess;
  port: number;
  grpcPort: number;
  dir: string;
  /** restart starts the process again with the same flags and directories (after a stop or kill). */
  restart(): Promise<void>;
}

/** ComponentOptions describe one process. */
export interface ComponentOptions {
  name: string;
  target: string;
  etcd: string;
  extra?: string[];
  /** readyPath is what answers 200 once the process started (default /ready). */
  readyPath?: string;
}

/** RING_NAMES are the flag prefixes of every ring a process may join or follow. */
const RING_NAMES = ['ingester.ring', 'distributor.ring', 'store-gateway.sharding-ring', 'compactor.ring', 'ruler.ring', 'alertmanager.sharding-ring', 'query-scheduler.ring'];

/** ringFlags points every ring of a process at etcd with short heartbeats. */
export function ringFlags(etcd: string, id: string): string[] {
  const out: string[] = [];
  for (const ring of RING_NAMES) {
    out.push(`-${ring}.store=etcd`, `-${ring}.etcd.endpoints=${etcd}`, `-${ring}.instance-id=${id}`, `-${ring}.instance-addr=127.0.0.1`, `-${ring}.heartbeat-period=1s`, `-${ring}.heartbeat-timeout=4s`);
  }
  return out;
}

/** IN_MEMORY_RINGS keep every ring of a process to itself: the flags of a monolith beside a cluster on the same etcd. */
export const IN_MEMORY_RINGS: readonly string[] = RING_NAMES.map((r) => `-${r}.store=inmemory`);

/** activeMembers lists the ACTIVE instances of a ring page (its JSON form) served by the process at port. */
export async function activeMembers(port: number, path: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { shards: Array<{ id: string; state: string }> }).shards.filter((s) => s.state === 'ACTIVE').map((s) => s.id);
}

/** startComponent starts one process and waits (bounded) until /ready answers 200. */
export async function startComponent(opts: ComponentOptions): Promise<Component> {
  const dir = await makeTempDir(`cluster-${opts.name}-`);
  const [port, grpcPort] = (await freePorts(2)) as [number, number];
  const args = [
    MAIN,
    `-target=${opts.target}`,
    '-server.http-listen-address=127.0.0.1',
    `-server.http-listen-port=${port}`,
    '-server.grpc-listen-address=127.0.0.1',
    `-server.grpc-listen-port=${grpcPort}`,
    `-blocks-storage.tsdb.dir=${join(dir, 'tsdb')}`,
    `-blocks-storage.filesystem.dir=${join(dir, 'blocks')}`,
    `-blocks-storage.bucket-store.sync-dir=${join(dir, 'sync')}`,
    `-compactor.data-dir=${join(dir, 'compactor')}`,
    `-admin.client.filesystem.dir=${join(dir, 'admin')}`,
    `-ruler-storage.filesystem.dir=${join(dir, 'ruler')}`,
    `-alertmanager.storage.path=${join(dir, 'alertmanager-local')}`,
    `-alertmanager-storage.filesystem.dir=${join(dir, 'alertmanager')}`,
    '-log.level=warn',
    ...ringFlags(opts.etcd, opts.name),
    ...(opts.extra ?? []),
  ];
  const launch = (): Promise<ServerProcess> => startServer({ name: opts.name, command: process.execPath, args, port, readyPath: opts.readyPath ?? '/ready', readyTimeoutMs: 60_000 });
  const c: Component = {
    name: opts.name,
    target: opts.target,
    proc: await launch(),
    port,
    grpcPort,
    dir,
    restart: async () => {
      c.proc = await launch();
    },
  };
  return c;
}

/** waitFor polls cond (every 200 ms, a throw counting as false) until it holds or ms pass; says whether it held. */
export async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * startCluster starts etcd for a test's cluster and returns it with the list of components the
 * test starts; at the test's end every listed component is stopped, then etcd.
 */
export async function startCluster(t: Test): Promise<{ etcd: EtcdProcess; started: Component[] }> {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const started: Component[] = [];
  t.teardown(async () => {
    for (const c of started) await c.proc.stop(5_000);
  });
  return { etcd, started };
}

/**
 * startStoreGateways starts store-gateway-1..n on the ring in etcd, each loading its share of the
 * filesystem bucket at `bucket` and syncing every second; `extra` are flags for all of them.
 */
export async function startStoreGateways(n: number, etcd: string, bucket: string, extra: string[]): Promise<Component[]> {
  const out: Component[] = [];
  for (let i = 1; i <= n; i++) {
    out.push(
      await startComponent({
        name: `store-gateway-${i}`,
        target: 'store-gateway',
        etcd,
        extra: [...extra, `-blocks-storage.filesystem.dir=${bucket}`, '-blocks-storage.bucket-store.sync-interval=1s'],
      }),
    );
  }
  return out;
}

/**
 * startAlertmanagers starts am-1..n (-target=alertmanager) on the alertmanager ring in etcd at
 * replication factor rf, sharing the filesystem bucket at `bucket`, each with its local state
 * under root/am-<i> and configs polled every second; `extra` are flags for all of them.
 */
export async function startAlertmanagers(n: number, etcd: string, bucket: string, root: string, rf: number, extra: string[] = []): Promise<Component[]> {
  const out: Component[] = [];
  for (let i = 1; i <= n; i++) {
    out.push(
      await startComponent({
        name: `am-${i}`,
        target: 'alertmanager',
        etcd,
        extra: [
          '-alertmanager-storage.backend=filesystem',
          `-alertmanager-storage.filesystem.dir=${bucket}`,
          `-alertmanager.sharding-ring.replication-factor=${rf}`,
          '-alertmanager.configs.poll-interval=1s',
          `-alertmanager.storage.path=${join(root, `am-${i}`)}`,
          ...extra,
        ],
      }),
    );
  }
  return out;
}

/** ApiAnswer is an HTTP status and the Prometheus API JSON body it came with. */
export type ApiAnswer = { status: number; body: { status: string; data?: unknown; error?: string; errorType?: string } };

/**
 * answersMatch asks every query `rounds` times on each of `lanes` concurrent lanes (calling `during`
 * once they are under way, e.g. to kill a querier) and asserts that every answer is a 200 whose
 * data equals want's for that query.
 */
export async function answersMatch(
  t: Test,
  label: string,
  queries: readonly string[],
  want: ReadonlyMap<string, unknown>,
  ask: (query: string) => Promise<ApiAnswer>,
  lanes: number,
  rounds: number,
  during?: () => void,
): Promise<void> {
  const answers: Array<[string, ApiAnswer]> = [];
  const lane = async (): Promise<void> => {
    for (let r = 0; r < rounds; r++) for (const q of queries) answers.push([q, await ask(q)]);
  };
  const running = Array.from({ length: lanes }, lane);
  during?.();
  await Promise.all(running);
  const wrong = answers.filter(([q, a]) => a.status !== 200 || JSON.stringify(a.body.data) !== JSON.stringify(want.get(q)));
  t.same(
    wrong.map(([q, a]) => `${q}: ${a.status} ${a.body.error ?? ''}`),
    [],
    `${label}: all ${answers.length} answers equal the monolith's`,
  );
}
