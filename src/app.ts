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
import { log, setLogLevel } from './log.js';
import { OpsApi } from './ops/ops.js';
import type { IndexLink } from './ops/pages.js';
import { MetadataApi } from './querier/metadata.js';
import { QueryApi } from './querier/query.js';
import { poolQueryExecutor, type QueryExecutor } from './querier/query-executor.js';
import { HttpServer } from './server/http.js';
import { instrumentServer } from './server/metrics.js';
import { ServiceManager, modulesForTarget } from './services/services.js';
import { missingNativeExports, nativeStorage, type Appender, type HeadStatsSource, type SeriesQuerier } from './storage/native.js';

/** Storage is everything the process needs from the TSDB. */
export type Storage = Appender & SeriesQuerier & HeadStatsSource;

/** ServerDeps replaces parts of the process (tests). */
export interface ServerDeps {
  /** storage, when given, is used in-process instead of the native binding, and pushes run inline. */
  storage?: Storage;
  /** queryExecutor, when given, evaluates PromQL queries instead of the worker pool. */
  queryExecutor?: QueryExecutor;
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

  let links: IndexLink[] = [];
  const ops = new OpsApi(config, registry, services, () => links);
  const runsDistributor = modules.includes('distributor');
  const runsQuerier = modules.includes('querier');
  const queryExecutor = deps.queryExecutor ?? poolQueryExecutor();
  links = registerRoutes({
    config,
    server,
    ops,
    distributor: runsDistributor ? new Distributor(config, executor, new DistributorMetrics(registry)) : undefined,
    metadata: runsQuerier ? new MetadataApi(storage) : undefined,
    query: runsQuerier ? new QueryApi(config, queryExecutor) : undefined,
  });

  const port = await server.listen(config.httpListenAddress, config.httpListenPort);
  services.setAll('Running');
  log.info('server listening', { addr: `${config.httpListenAddress}:${port}`, target: config.target });

  let closing: Promise<void> | undefined;
  return {
    port,
    registry,
    close: () => {
      closing ??= (async () => {
        services.setAll('Stopping');
        await server.close(config.gracefulShutdownTimeoutMs);
        await executor.close();
        await queryExecutor.close();
        services.setAll('Terminated');
      })();
      return closing;
    },
  };
}
