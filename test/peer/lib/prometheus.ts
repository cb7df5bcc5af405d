// prometheus.ts starts a real Prometheus (the Debian 2.42 package by default)
// as a remote-write receiver with no scrape jobs, for the peer suites and the
// ingestion benchmark.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROMETHEUS, skipUnless } from './binary.js';
import { freePort, makeTempDir, startServer, type ServerProcess } from './server-process.js';

/** PROMETHEUS_BIN is the binary used (found on PATH, overridable with PROMETHEUS_BIN; see lib/binary.ts). */
export const PROMETHEUS_BIN = PROMETHEUS.path;

/** prometheusSkip is the tap `skip` option of a test that runs Prometheus (never a skip under CI). */
export const prometheusSkip = skipUnless(PROMETHEUS);

/** PrometheusProcess is a running Prometheus with its data directory. */
export interface PrometheusProcess extends ServerProcess {
  readonly dataDir: string;
  /** writeUrl is the remote-write receiver endpoint. */
  readonly writeUrl: string;
  /** readUrl is the remote-read endpoint. */
  readonly readUrl: string;
}

/** MINIMAL_CONFIG has no scrape jobs, so the head holds only what is remote-written. */
const MINIMAL_CONFIG = ['global:', '  scrape_interval: 15s', '  evaluation_interval: 15s', 'scrape_configs: []', ''].join('\n');

/** startPrometheus starts Prometheus (bin, PROMETHEUS_BIN by default) with the remote-write receiver on a free port. */
export async function startPrometheus(extraArgs: string[] = [], bin: string = PROMETHEUS_BIN): Promise<PrometheusProcess> {
  const dir = await makeTempDir('peer-prometheus-');
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, MINIMAL_CONFIG);
  const port = await freePort();
  const proc = await startServer({
    name: 'prometheus',
    command: bin,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
      ...extraArgs,
    ],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
  return {
    ...proc,
    stop: proc.stop,
    output: proc.output,
    dataDir,
    writeUrl: `${proc.baseUrl}/api/v1/write`,
    readUrl: `${proc.baseUrl}/api/v1/read`,
  };
}

/** RemoteWriteTarget is one remote_write section: a push URL and the tenant it writes as. */
export interface RemoteWriteTarget {
  url: string;
  tenant: string;
  /** v2 sends remote write 2.0 (io.prometheus.write.v2.Request) instead of 1.0. */
  v2?: boolean;
}

/**
 * startSelfScrapingPrometheus starts Prometheus (bin) scraping itself every second and
 * remote-writing every sample to each target (short batch deadline and backoffs, so data flows
 * within a second or two). Stopping it flushes what is queued.
 */
export async function startSelfScrapingPrometheus(bin: string, targets: RemoteWriteTarget[]): Promise<ServerProcess> {
  const dir = await makeTempDir('peer-prometheus-scrape-');
  const port = await freePort();
  const rw = targets.map(
    (w) => `  - url: ${w.url}\n    headers:\n      X-Scope-OrgID: ${w.tenant}\n${w.v2 === true ? '    protobuf_message: io.prometheus.write.v2.Request\n' : ''}    queue_config:\n      batch_send_deadline: 500ms\n      min_backoff: 100ms\n      max_backoff: 500ms\n`,
  );
  const cfg = `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\nremote_write:\n${rw.join('')}`;
  await writeFile(join(dir, 'prometheus.yml'), cfg);
  return startServer({
    name: 'prometheus',
    command: bin,
    args: [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    readyPath: '/-/ready',
    cleanup: [dir],
  });
}
