// etcd.ts starts a one-member etcd (Debian `etcd-server`) on loopback with a
// temp data dir and free ports, for the rings' tests (bounded readiness wait).

import { ETCD } from './binary.js';
import { freePorts, makeTempDir, startServer, type ServerProcess } from './server-process.js';

/** EtcdProcess is a running etcd and its client endpoint (host:port). */
export interface EtcdProcess {
  proc: ServerProcess;
  endpoint: string;
  /** stop kills etcd and removes its data (unless keepData). */
  stop(keepData?: boolean): Promise<void>;
  /** restart stops etcd and starts it again on the same ports and data (after downMs, default 0). */
  restart(downMs?: number): Promise<void>;
}

/**
 * startEtcd starts etcd and waits (up to 20 s) until /health answers. A port taken between
 * choosing it and etcd binding it makes etcd exit at once: it is started again on fresh ports
 * (three attempts).
 */
export async function startEtcd(): Promise<EtcdProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEtcdOnce();
    } catch (e) {
      if (attempt >= 3 || !/exited early/.test((e as Error).message)) throw e;
    }
  }
}

async function startEtcdOnce(): Promise<EtcdProcess> {
  const dir = await makeTempDir('etcd-');
  const [client, peer] = (await freePorts(2)) as [number, number];
  const launch = (): Promise<ServerProcess> =>
    startServer({
      name: 'etcd',
      command: ETCD.path,
      args: [
        '--name', 'default',
        '--data-dir', dir,
        '--listen-client-urls', `http://127.0.0.1:${client}`,
        '--advertise-client-urls', `http://127.0.0.1:${client}`,
        '--listen-peer-urls', `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
        '--initial-cluster', `default=http://127.0.0.1:${peer}`,
        '--log-level', 'error',
      ],
      port: client,
      readyPath: '/health',
      readyTimeoutMs: 20_000,
    });
  let proc = await launch();
  const out: EtcdProcess = {
    proc,
    endpoint: `127.0.0.1:${client}`,
    stop: async (keepData = false) => {
      await proc.stop(2_000);
      if (!keepData) {
        const { rm } = await import('node:fs/promises');
        await rm(dir, { recursive: true, force: true });
      }
    },
    restart: async (downMs = 0) => {
      await proc.stop(2_000);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      proc = await launch();
      out.proc = proc;
    },
  };
  return out;
}
