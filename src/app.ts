// app.ts assembles one process: config -> storage -> push executor ->
// components -> routes -> listening server. startServer is what main and the
// HTTP tests call (tests listen on port 0 and may pass a fake storage).

import { mkdirSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerRoutes } from './api/api.js';
import type { Config } from './config/config.js';
import { Distributor, inlineExecutor, poolExecutor, type PushExecutor } from './distributor/distributor.js';
import { DistributorMetrics } from './distributor/metrics.js';
import { registerIngesterMetrics } from './ingester/metrics.js';
import { LimitsApi } from './limits/limits-api.js';
import { RuntimeConfigManager, runtimeConfigFiles } from './limits/runtime-config.js';
import { log, setLogLevel } from './log.js';
import { OpsApi } from './ops/ops.js';
import type { IndexLink } from './ops/pages.js';
import { MetadataApi } from './querier/metadata.js';
import { RemoteReadApi } from './remote/read-handler.js';
import { QueryApi } from './querier/query.js';
import { poolQueryExecutor, type QueryExecutor } from './querier/query-executor.js';
import { federatedSeriesQuerier } from './querier/tenant-federation.js';
import { PrometheusRulesApi } from './ruler/prometheus-api.js';
import { HttpServer } from './server/http.js';
import { instrumentServer } from './server/metrics.js';
import { ServiceManager, modulesForTarget } from './services/services.js';
import { missingNativeExports, nativeStorage, nativeWalStore, type Appender, type HeadStatsSource, type SeriesQuerier, type WalStore, type WalTenant } from './storage/native.js';
import { replayWal } from './ingester/wal.js';
import type { Bucket } from './storage/bucket/bucket.js';
import { newCompactorModule, openCompactorBucket, type CompactorModule } from './compactor/module.js';

/** Storage is everything the process needs from the TSDB. */
export type Storage = Appender & SeriesQuerier & HeadStatsSource;

/** ServerDeps replaces parts of the process (tests). */
export interface ServerDeps {
  /** storage, when given, is used in-process instead of the native binding, and pushes run inline. */
  storage?: Storage;
  /** queryExecutor, when given, evaluates PromQL queries instead of the worker pool. */
  queryExecutor?: QueryExecutor;
  /** wal, when given, is the WAL replayed at start and closed at shutdown (with a fake storage too). */
  wal?: WalStore;
  /** bucket, when given, is the object storage the compactor works on instead of the configured one. */
  bucket?: Bucket;
}

/** RunningServer is a started process. */
export interface RunningServer {
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

/** startServer starts every module of config.target and listens. */
export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  setLogLevel(config.logLevel);
  mkdirSync(config.tsdbDir, { recursive: true });
  // Per-tenant limits: a bad runtime configuration file fails the start.
  const runtimeConfig = new RuntimeConfigManager(config, {
    files: runtimeConfigFiles(String(config.values.get('runtime-config.file') ?? '')),
    reloadPeriodMs: Number(config.values.get('runtime-config.reload-period') ?? 10_000),
  });
  runtimeConfig.start();
  let storage: Storage;
  let executor: PushExecutor;
  if (deps.storage !== undefined) {
    storage = deps.storage;
    executor = inlineExecutor(storage);
  } else {
    const missing = missingNativeExports();
    if (missing.length > 0) throw new Error(`native binding is missing ${missing.join(', ')} (build it with npm run build:native)`);
    storage = nativeStorage();
    executor = poolExecutor();
  }

  const services = new ServiceManager();
  const modules = modulesForTarget(config.target);
  // The WAL: opened before listening (a bad directory or flag fails the start), replayed after
  // (so /ready answers 503 meanwhile). Pushes are refused until replay is done and once
  // shutdown has begun.
  let wal: WalStore | undefined;
  let walTenants: WalTenant[] = [];
  if (modules.includes('ingester') && (deps.wal !== undefined || deps.storage === undefined)) {
    wal = deps.wal ?? nativeWalStore();
    walTenants = wal.openStorage({ dir: config.tsdbDir, walSegmentSize: config.walSegmentSizeBytes, syncMode: config.walSyncMode });
  }
  let writeState: 'Starting' | 'Running' | 'Stopping' = 'Starting';
  const writeGate = (): string | undefined => (writeState === 'Running' ? undefined : `ingester is unavailable (current state: ${writeState})`);
  // The compactor runs in the monolithic process too.
  if (config.target === 'all' && !modules.includes('compactor')) modules.push('compactor');
  const compactorBucket = modules.includes('compactor') ? (deps.bucket ?? openCompactorBucket(config)) : undefined;
  if (modules.includes('compactor') && compactorBucket === undefined) {
    log.warn('compactor not started: no bucket client for this backend here', { backend: config.blocksStorageBackend });
    modules.splice(modules.indexOf('compactor'), 1);
  }
  for (const m of modules) services.add(m);
  services.setAll('Starting');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = new HttpServer();
  instrumentServer(server, registry);
  const requestLog = log.with({ component: 'server' });
  server.onRequest((method, route, status, seconds) => {
    if (requestLog.enabled('debug')) requestLog.debug('request', { method, route, status, duration: `${(seconds * 1000).toFixed(3)}ms` });
  });
  registerIngesterMetrics(registry, storage);

  const compactor: CompactorModule | undefined = compactorBucket !== undefined ? newCompactorModule(config, compactorBucket, runtimeConfig, registry) : undefined;
  let links: IndexLink[] = [];
  const ops = new OpsApi(config, registry, services, () => links);
  const runsDistributor = modules.includes('distributor');
  const runsQuerier = modules.includes('querier');
  const queryExecutor = deps.queryExecutor ?? poolQueryExecutor();
  links = registerRoutes({
    limits: new LimitsApi(runtimeConfig),
    config,
    server,
    ops,
    distributor: runsDistributor ? new Distributor(config, executor, new DistributorMetrics(registry), writeGate, (t) => runtimeConfig.limits(t)) : undefined,
    // Federated reads (tenants joined by |) get past the auth middleware only with -tenant-federation.enabled.
    metadata: runsQuerier ? new MetadataApi(federatedSeriesQuerier(storage)) : undefined,
    query: runsQuerier ? new QueryApi(config, queryExecutor) : undefined,
    remoteRead: runsQuerier ? new RemoteReadApi() : undefined,
    rules: runsQuerier || modules.includes('ruler') ? new PrometheusRulesApi() : undefined,
    compactor: compactor?.api,
  });

  const port = await server.listen(config.httpListenAddress, config.httpListenPort);
  for (const m of modules) if (m !== 'ingester' || wal === undefined) services.set(m, 'Running');
  log.info('server listening', { addr: `${config.httpListenAddress}:${port}`, target: config.target });
  if (wal !== undefined) {
    await replayWal(wal, walTenants, log.with({ component: 'ingester' }));
    services.set('ingester', 'Running');
  }
  writeState = 'Running';
  compactor?.compactor.start();

  let closing: Promise<void> | undefined;
  return {
    port,
    registry,
    close: () => {
      closing ??= (async () => {
        services.setAll('Stopping');
        writeState = 'Stopping';
        await server.close(config.gracefulShutdownTimeoutMs);
        await compactor?.compactor.stop();
        runtimeConfig.stop();
        await executor.close();
        await queryExecutor.close();
        if (wal !== undefined) {
          try {
            wal.closeStorage();
          } catch (err) {
            log.error('closing the WAL failed', { err });
          }
        }
        services.setAll('Terminated');
      })();
      return closing;
    },
  };
}
