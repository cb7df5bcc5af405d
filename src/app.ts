// app.ts assembles one process: config -> storage -> push executor ->
// components -> routes -> listening server. startServer is what main and the
// HTTP tests call (tests listen on port 0 and may pass a fake storage).

import type { IngestLimits } from './model/limits.js';
import { mkdirSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerRoutes } from './api/api.js';
import type { Config } from './config/config.js';
import { Distributor, inlineExecutor, nativeThreadsExecutor, poolExecutor, PUSH_WORKER, smallInline, type PushExecutor } from './distributor/distributor.js';
import { Piscina } from 'piscina';
import { availableParallelism } from 'node:os';
import { DistributorMetrics } from './distributor/metrics.js';
import { OtlpApi } from './distributor/otlp.js';
import { registerIngesterMetrics } from './ingester/metrics.js';
import { LimitsApi } from './limits/limits-api.js';
import { RuntimeConfigManager, runtimeConfigFiles } from './limits/runtime-config.js';
import { log, setLogLevel } from './log.js';
import { OpsApi } from './ops/ops.js';
import type { IndexLink } from './ops/pages.js';
import { MetadataApi, type MetadataRead } from './querier/metadata.js';
import { MetricMetadataApi } from './querier/exemplars.js';
import { RemoteReadApi } from './remote/read-handler.js';
import { QueryApi } from './querier/query.js';
import { poolQueryExecutor, type QueryExecutor } from './querier/query-executor.js';
import { QueryScheduler, scheduledExecutor } from './querier/scheduler.js';
import { standaloneDownstream, withFrontend } from './frontend/module.js';
import { downstreamMetadata } from './frontend/downstream.js';
import { SchedulerService } from './frontend/scheduler/scheduler.js';
import { remoteEnqueue, schedulerExecutor, type EnqueueCall } from './frontend/scheduler/frontend-client.js';
import { SchedulerWorkers } from './frontend/scheduler/worker.js';
import { addressList, discoveryMode, inUseAddresses, schedulerInstances, validateSchedulerDiscovery } from './frontend/scheduler/module.js';
import { smallestPositive } from './querier/query-limits.js';
import { splitTenants } from './tenant/tenant.js';
import { hostname } from 'node:os';
import { federatedSeriesQuerier } from './querier/tenant-federation.js';
import { PrometheusRulesApi, registerRulerInternal, ringPeerGroups } from './ruler/prometheus-api.js';
import { newRulerModule, type RulerModule } from './ruler/module.js';
import { Rings, ringNamesFor } from './ring/module.js';
import type { InMemoryKv } from './ring/kv.js';
import type { Ring } from './ring/ring.js';
import { storeGatewayShard } from './querier/blocks-store-query.js';
import { pageFor, ringRoutes } from './ring/routes.js';
import { InternalClient, registerInternalClientMetrics } from './internal/client.js';
import { registerIngesterInternal, registerReadInternal } from './internal/ingester-server.js';
import { ringPushExecutor } from './distributor/ring-push.js';
import { haKvTracker, type HaKvTracker } from './distributor/ha-kv.js';
import { ACTIVE_OWNER, BLOCKS_OWNER_SYNC, WRITE } from './ring/model.js';
import { ringQueryExecutor } from './querier/ring-query.js';
import { blockToken, fnv1aKey } from './ring/shard.js';
import { flagBool, flagNumber, flagString, ingestLimits } from './config/config.js';
import { newAlertExpander, templateCheck } from './ruler/template-funcs.js';
import { HttpServer } from './server/http.js';
import { instrumentServer } from './server/metrics.js';
import { ServiceManager, modulesForTarget, targetList } from './services/services.js';
import { loadNative, type OtlpOptions, type OtlpWriteRequest } from './storage/native.js';
import type { LabelMatcher } from './model/matchers.js';
import { missingNativeExports, nativeStorage, nativeWalStore, type Appender, type HeadStatsSource, type SeriesQuerier, type WalStore, type WalTenant } from './storage/native.js';
import { replayWal } from './ingester/wal.js';
import { IngesterBlocks } from './ingester/blocks.js';
import { IngesterApi } from './ingester/ingester-api.js';
import type { Bucket } from './storage/bucket/bucket.js';
import { nativeBlockSeriesQuerier, nativeBlockStore, nativeBucketBlockReader } from './storage/native.js';
import { QueryableBlocks } from './storage/queryable-blocks.js';
import { BucketStores, registerBucketReadMetrics } from './storegateway/bucket-stores.js';
import { storeGatewayCaches, type StoreGatewayCaches } from './storegateway/cache-config.js';
import { registerCacheMetrics, watchCacheFailures } from './storegateway/cache-metrics.js';
import { StoreGatewayApi } from './storegateway/storegateway-api.js';
import { BlockUploadApi, uploadLimitsFromValues, type BlockVerifier } from './compactor/block-upload.js';
import { createBucket } from './storage/bucket/index.js';
import { nativeBlockVerifier } from './storage/native.js';
import { nativeMetricMetadataReader, setExemplarLimit } from './storage/native.js';
import { HaTracker, haTrackerConfig, registerHaTrackerMetrics, validateHaTrackerConfig } from './distributor/ha-tracker.js';
import { IngestionRates, UserStatsApi } from './distributor/user-stats.js';
import { CardinalityApi } from './querier/cardinality.js';
import { nativeCardinality, nativeHaTracker, nativeVisibleStats } from './storage/native.js';
import { newCompactorModule, ringSharding, type CompactorModule } from './compactor/module.js';
import { newAlertmanagerModule } from './alertmanager/module.js';
import { registerAlertmanagerInternal } from './alertmanager/distributor.js';
import { startAdmin } from './admin/module.js';
import { newConfigsApi } from './configs/module.js';
import { ProfilingApi } from './ops/pprof.js';
import { OverridesExporter, enabledLimits, ringLeader, type ExporterRing } from './limits/overrides-exporter.js';
import { newProvisioningModule } from './provisioning/module.js';
import { executorAppender } from './ruler/eval-io.js';

/** RULER_INLINE_PUSH_BYTES: rule results up to this compressed size are appended on the main thread (see smallInline). */
const RULER_INLINE_PUSH_BYTES = 4096;

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
  /** blockVerifier, when given, checks uploaded blocks instead of the native verifyBlock (tests hold validations with it). */
  blockVerifier?: BlockVerifier;
  /** haClock, when given, is the HA tracker's clock (unix ms) instead of Date.now. */
  haClock?: () => number;
  /** bucket, when given, is the object storage the compactor works on instead of the configured one. */
  bucket?: Bucket;
  /** ringKv, when given, is the in-memory store of the rings (-<ring>.store=inmemory), shared with the test's other servers. */
  ringKv?: InMemoryKv;
}

/** RunningServer is a started process. */
export interface RunningServer {
  port: number;
  /** grpcPort is the internal API's port (-server.grpc-listen-port) when the process serves it, else 0. */
  grpcPort: number;
  registry: Registry;
  close(): Promise<void>;
}

/** startServer starts every module of config.target and listens. */
export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  setLogLevel(config.logLevel);
  const haConfig = haTrackerConfig(config);
  validateHaTrackerConfig(haConfig);
  validateSchedulerDiscovery(config);
  // The overrides-exporter's limits (an unknown name fails the start before anything runs).
  const exporterLimits = targetList(config.target).includes('overrides-exporter') ? enabledLimits(flagString(config.values, 'overrides-exporter.enabled-metrics')) : undefined;
  mkdirSync(config.tsdbDir, { recursive: true });
  // Per-tenant limits: a bad runtime configuration file fails the start.
  const runtimeConfig = new RuntimeConfigManager(config, {
    files: runtimeConfigFiles(flagString(config.values, 'runtime-config.file')),
    reloadPeriodMs: flagNumber(config.values, 'runtime-config.reload-period'),
  });
  runtimeConfig.start();
  // Enterprise: the admin state (read back before listening), the admin API and, with
  // -auth.type=enterprise, token auth; instance limits are a layer of the runtime config.
  const admin = await startAdmin(config, runtimeConfig);
  let storage: Storage;
  let executor: PushExecutor;
  if (deps.storage !== undefined) {
    storage = deps.storage;
    executor = inlineExecutor(storage);
  } else {
    const missing = missingNativeExports();
    if (missing.length > 0) throw new Error(`native binding is missing ${missing.join(', ')} (build it with npm run build:native)`);
    storage = nativeStorage();
    executor = storage.ingestSnappyAsync !== undefined ? nativeThreadsExecutor(storage, poolExecutor()) : poolExecutor();
  }

  const services = new ServiceManager();
  const modules = modulesForTarget(config.target);
  const monolithic = targetList(config.target).includes('all');
  // The WAL: opened before listening (a bad directory or flag fails the start), replayed after
  // (so /ready answers 503 meanwhile). Pushes are refused until replay is done and once
  // shutdown has begun.
  let wal: WalStore | undefined;
  let walTenants: WalTenant[] = [];
  if (modules.includes('ingester') && (deps.wal !== undefined || deps.storage === undefined)) {
    wal = deps.wal ?? nativeWalStore();
    walTenants = wal.openStorage({
      dir: config.tsdbDir,
      walSegmentSize: config.walSegmentSizeBytes,
      syncMode: config.walSyncMode,
      walCompression: config.walCompression,
      walCompressionType: config.walCompressionType,
      // The heads' chunk range is the block range, as in Prometheus's TSDB.
      blockRangeMs: config.blocks.blockRangeMs,
    });
  }
  // Blocks: cut from the heads, shipped to the bucket and served back by the store-gateway
  // (only over the native storage).
  const runsBlocks = deps.storage === undefined;
  let bucket: Bucket | undefined;
  let queryable: QueryableBlocks | undefined;
  let ingesterBlocks: IngesterBlocks | undefined;
  let bucketStores: BucketStores | undefined;
  let storeGatewayCacheSet: StoreGatewayCaches | undefined;
  if (runsBlocks && (modules.includes('ingester') || modules.includes('store-gateway'))) {
    bucket = createBucket(config);
    const blockStore = nativeBlockStore();
    queryable = new QueryableBlocks(blockStore.setTenantBlocks, log.with({ component: 'blocks' }));
    if (modules.includes('store-gateway')) {
      // The chunks, index and metadata caches (-blocks-storage.bucket-store.*-cache.*).
      storeGatewayCacheSet = storeGatewayCaches(config.values, bucket);
      const { bucket: sgBucket, rangeCaches } = storeGatewayCacheSet;
      const selectBlocks = loadNative().selectBlockSamplesAsync;
      const blockSeries = nativeBlockSeriesQuerier();
      bucketStores = new BucketStores(
        {
          bucket: sgBucket,
          syncDir: config.blocks.syncDir,
          syncIntervalMs: config.blocks.syncIntervalMs,
          bucketIndexMaxStaleMs: config.blocks.bucketIndexMaxStaleMs,
          reader: nativeBucketBlockReader(),
          rangeCaches,
          ...(selectBlocks !== undefined ? { selectBlocks: (t: string, ids: string[], m: LabelMatcher[], mint: number, maxt: number) => selectBlocks(t, ids, m, mint, maxt) } : {}),
          ...(blockSeries !== undefined ? { blockSeries } : {}),
        },
        queryable,
        log.with({ component: 'store-gateway' }),
      );
    }
    if (modules.includes('ingester')) {
      const stores = bucketStores;
      ingesterBlocks = new IngesterBlocks(
        { tsdbDir: config.tsdbDir, blocks: config.blocks, bucket, ...(stores !== undefined ? { servedFromBucket: (t: string, id: string) => stores.serves(t, id) } : {}) },
        blockStore,
        queryable,
        log.with({ component: 'ingester' }),
      );
    }
  }
  let writeState: 'Starting' | 'Running' | 'Stopping' = 'Starting';
  const writeGate = (): string | undefined => (writeState === 'Running' ? undefined : `ingester is unavailable (current state: ${writeState})`);
  // The compactor runs in the monolithic process too.
  if (monolithic && !modules.includes('compactor')) modules.push('compactor');
  if (monolithic && !modules.includes('ruler')) modules.push('ruler');
  // One bucket client for the ingester's shipper, the store-gateway, the compactor and block uploads.
  const compactorBucket = modules.includes('compactor') ? (deps.bucket ?? bucket ?? createBucket(config)) : undefined;
  bucket ??= compactorBucket;
  for (const m of modules) services.add(m);
  services.setAll('Starting');
  // The hash rings (src/ring/): followed before listening, joined once the components run.
  const rings = new Rings({
    values: config.values,
    ...ringNamesFor(modules, monolithic, discoveryMode(config) === 'ring', config.values.get('overrides-exporter.ring.enabled') === true),
    log: log.with({ component: 'ring' }),
    unregisterOnShutdown: { ingester: () => ingesterApi?.unregistersOnShutdown() ?? config.blocks.unregisterOnShutdown },
    ...(deps.ringKv !== undefined ? { inMemoryKv: deps.ringKv } : {}),
  });
  await rings.start();
  // In distributed mode a store-gateway loads its share of the blocks (the store-gateway ring, as Mimir's
  // BlocksOwnerSync), syncing again whenever the ring's members, states or tokens change.
  const sgRing = rings.get('store-gateway');
  if (!monolithic && bucketStores !== undefined && sgRing !== undefined) {
    const { ring, config: ringCfg } = sgRing;
    const stores = bucketStores;
    // With -store-gateway.tenant-shard-size, a tenant's blocks are owned within its shuffle shard of the ring.
    const shardOf = (tenant: string): Ring => storeGatewayShard(ring, tenant, flagNumber(runtimeConfig.values(tenant), 'store-gateway.tenant-shard-size'));
    stores.shardBy((tenant, ulid) => shardOf(tenant).replicasOf(blockToken(ulid), BLOCKS_OWNER_SYNC).some((i) => i.id === ringCfg.instanceId));
    ring.onTopologyChange(() => stores.ownershipChanged());
  }
  // Distributed mode: distributors and queriers without an ingester in the process reach the
  // ingesters of the ring through their internal API (src/internal/); ingesters serve it.
  const remoteIngesters = !monolithic && !modules.includes('ingester') && rings.get('ingester') !== undefined;
  let haKv: HaKvTracker | undefined;
  const internalClient = remoteIngesters ? new InternalClient() : undefined;
  if (internalClient !== undefined && modules.includes('distributor')) {
    // The local push pool is not used: pushes go to the ingesters.
    await executor.close();
    haKv = haConfig.enabled ? haKvTracker(config.values, log.with({ component: 'ha-tracker' })) : undefined;
    haKv?.start();
    executor = distributedPushExecutor(config, rings, internalClient, runtimeConfig, haKv, deps.storage === undefined);
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = new HttpServer();
  instrumentServer(server, registry);
  const requestLog = log.with({ component: 'server' });
  server.onRequest((method, route, status, seconds) => {
    if (requestLog.enabled('debug')) requestLog.debug('request', { method, route, status, duration: `${(seconds * 1000).toFixed(3)}ms` });
  });
  registerIngesterMetrics(registry, storage);
  if (bucketStores !== undefined) {
    registerBucketReadMetrics(registry, nativeBucketBlockReader());
    const cacheSources = { reader: nativeBucketBlockReader(), ...(storeGatewayCacheSet?.metadata !== undefined ? { metadata: storeGatewayCacheSet.metadata } : {}) };
    registerCacheMetrics(registry, cacheSources);
    watchCacheFailures(cacheSources, log.with({ component: 'store-gateway' }));
  }
  if (internalClient !== undefined) registerInternalClientMetrics(registry, internalClient);

  // The multi-tenant Alertmanager runs with -target=alertmanager or -target=all,alertmanager (Mimir's `all` leaves it out).
  const alertmanager = modules.includes('alertmanager') ? newAlertmanagerModule(config, registry, log.with({ component: 'MultiTenantAlertmanager' })) : undefined;
  // Sharded alertmanagers (microservices mode, a ring shared through etcd): each runs the tenants it is a
  // replica of and answers every tenant's API through the tenant's replicas (src/alertmanager/distributor.ts).
  const amRing = !monolithic && alertmanager !== undefined ? rings.get('alertmanager') : undefined;
  const amShard = amRing !== undefined && amRing.config.store === 'etcd' ? amRing : undefined;
  const amClient = amShard !== undefined ? (internalClient ?? new InternalClient()) : undefined;
  if (alertmanager !== undefined && amShard !== undefined && amClient !== undefined) alertmanager.shard(amShard, amClient);
  const compactor: CompactorModule | undefined = compactorBucket !== undefined ? newCompactorModule(config, compactorBucket, runtimeConfig, registry) : undefined;
  // Compactors share the work over the compactor ring as Mimir's split-and-merge compactor: each job goes to
  // the owner of its sharding key's FNV-1a hash, each tenant's cleanup and bucket index to the owner of the
  // tenant's; looked at again whenever the ring's members change.
  const compactorRing = rings.get('compactor');
  if (!monolithic && compactor !== undefined && compactorRing !== undefined) {
    const { ring, config: ringCfg } = compactorRing;
    const c = compactor.compactor;
    c.shardBy(ringSharding(ring, ringCfg.instanceId));
    ring.onTopologyChange(() => c.ownershipChanged());
  }
  let links: IndexLink[] = [];
  const ops = new OpsApi(config, registry, services, () => links);
  const runsDistributor = modules.includes('distributor');
  const runsQuerier = modules.includes('querier');
  const queryScheduler = new QueryScheduler({
    maxConcurrent: flagNumber(config.values, 'querier.max-concurrent'),
    maxOutstandingPerTenant: flagNumber(config.values, 'querier.max-outstanding-requests-per-tenant'),
  });
  // The HTTP query API goes through the per-tenant queue; the ruler evaluates on the pool directly (as Mimir's ruler, not behind the query-frontend).
  // A standalone query-frontend (-target=query-frontend) sends its queries to the queriers at -query-frontend.downstream-url.
  const runsFrontendOnly = modules.includes('query-frontend') && !runsQuerier;
  // With query-schedulers (an address, or their ring) and no downstream URL, it enqueues there (src/frontend/scheduler/); the
  // scheduler queues, so the frontend does not.
  const frontendDownstream = flagString(config.values, 'query-frontend.downstream-url');
  const frontendSchedulerInstances = runsFrontendOnly && frontendDownstream === '' ? schedulerInstances(config, rings, 'query-frontend.scheduler-address') : undefined;
  // With neither, it holds the per-tenant queues itself and queriers pull from it (-querier.frontend-address, Mimir's frontend
  // v1): the query-scheduler's service embedded, its queries enqueued in-process.
  const maxQueriers = (tenant: string): number => smallestPositive(splitTenants(tenant).map((id) => flagNumber(runtimeConfig.values(id), 'query-frontend.max-queriers-per-tenant')));
  const frontendQueue =
    runsFrontendOnly && frontendDownstream === '' && frontendSchedulerInstances === undefined
      ? new SchedulerService({
          maxOutstandingPerTenant: flagNumber(config.values, 'querier.max-outstanding-requests-per-tenant'),
          maxQueriers,
          querierForgetMs: flagNumber(config.values, 'query-frontend.querier-forget-delay'),
          role: 'query-frontend',
          registry,
          log: log.with({ component: 'frontend' }),
        })
      : undefined;
  // As Mimir's, such a frontend is ready only once a querier is connected.
  if (frontendQueue !== undefined) {
    ops.addReadinessCheck(() => {
      const n = frontendQueue.connectedWorkers();
      return n > 0 ? undefined : `Query Frontend not ready: not ready: number of queriers connected to query-frontend is ${n}`;
    });
  }
  // Each queued or running part holds its call (an HTTP/2 stream) to the scheduler open: the client
  // opens another connection only past the scheduler's concurrent-stream limit.
  const schedulerClient = frontendSchedulerInstances !== undefined ? new InternalClient({ timeoutMs: 10_000 }) : undefined;
  const frontendEnqueue: { addresses: () => string[]; enqueue: EnqueueCall } | undefined =
    schedulerClient !== undefined && frontendSchedulerInstances !== undefined
      ? { addresses: inUseAddresses(frontendSchedulerInstances), enqueue: remoteEnqueue(schedulerClient, `${hostname()}:${config.httpListenPort}`) }
      : frontendQueue !== undefined
        ? { addresses: () => ['frontend'], enqueue: (_addr, task, timeoutMs, signal) => frontendQueue.submit(task, timeoutMs, signal) }
        : undefined;
  const queryPool =
    deps.queryExecutor ??
    (frontendEnqueue !== undefined
      ? schedulerExecutor({
          ...frontendEnqueue,
          maxRetries: flagNumber(config.values, 'query-frontend.max-retries-per-request'),
          readTimeoutMs: flagNumber(config.values, 'querier.timeout'),
          log: log.with({ component: 'frontend' }),
        })
      : runsFrontendOnly
      ? standaloneDownstream(config)
      : internalClient !== undefined && runsQuerier
        ? distributedQueryExecutor(config, rings, internalClient, runtimeConfig, 'querier')
        : poolQueryExecutor());
  // The query-frontend (src/frontend/) splits and caches in front of the queue when its features are on.
  const queryExecutor = withFrontend(config, frontendEnqueue !== undefined ? queryPool : scheduledExecutor(queryPool, queryScheduler), runtimeConfig, registry);
  // The query-scheduler target: its queues, served on the internal API below.
  const scheduler = modules.includes('query-scheduler')
    ? new SchedulerService({
        maxOutstandingPerTenant: flagNumber(config.values, 'query-scheduler.max-outstanding-requests-per-tenant'),
        maxQueriers,
        querierForgetMs: flagNumber(config.values, 'query-scheduler.querier-forget-delay'),
        registry,
        log: log.with({ component: 'query-scheduler' }),
      })
    : undefined;
  // A querier with query-schedulers (or query-frontends, -querier.frontend-address) pulls their queries with
  // -querier.max-concurrent worker loops, run by its own executor.
  const frontendAddresses = addressList(flagString(config.values, 'querier.frontend-address'));
  const querierSchedulers = !runsQuerier
    ? undefined
    : frontendAddresses.length > 0
      ? () => frontendAddresses.map((addr) => ({ addr, inUse: true }))
      : schedulerInstances(config, rings, 'querier.scheduler-address');
  const workerClient = querierSchedulers !== undefined ? (internalClient ?? new InternalClient()) : undefined;
  const workers =
    querierSchedulers !== undefined && workerClient !== undefined
      ? new SchedulerWorkers({
          instances: querierSchedulers,
          concurrency: Math.max(1, flagNumber(config.values, 'querier.max-concurrent')),
          querierId: flagString(config.values, 'querier.id') || hostname(),
          executor: queryPool,
          client: workerClient,
          log: log.with({ component: 'querier-worker' }),
        })
      : undefined;
  const ingesterApi =
    ingesterBlocks !== undefined
      ? new IngesterApi(
          ingesterBlocks,
          {
            stopIngester: () => {
              writeState = 'Stopping';
              services.set('ingester', 'Stopping');
              // Distributors stop sending here: LEAVING, then out of the ring when it unregisters.
              void rings.leave('ingester');
            },
            headStats: () => storage.headStats(),
          },
          config.blocks.unregisterOnShutdown,
          config.blocks.flushOnShutdown,
        )
      : undefined;
  // The compactor's block upload API (Mimir's monolithic mode runs the compactor too).
  if (bucket === undefined && (modules.includes('compactor') || monolithic)) bucket = createBucket(config);
  const blockUpload =
    bucket === undefined
      ? undefined
      : new BlockUploadApi(bucket, {
          limits: (t) => uploadLimitsFromValues(runtimeConfig.values(t)),
          dataDir: flagString(config.values, 'compactor.data-dir'),
          maxValidationConcurrency: flagNumber(config.values, 'compactor.max-block-upload-validation-concurrency'),
          verify: deps.blockVerifier ?? ((...a) => nativeBlockVerifier()(...a)),
        });
  // HA tracker (state in Rust, shared by the push workers), tenant ingestion rates and cardinality.
  const native = deps.storage === undefined;
  const haState = native ? nativeHaTracker() : undefined;
  // Distributors apart from the ingesters elect in the KV store: their page and gauges show its elections.
  const haStatus = haKv !== undefined ? { haTrackerStatus: () => haKv.status() } : haState;
  const haTracker = new HaTracker(haConfig, haStatus, deps.haClock);
  if (haStatus !== undefined && runsDistributor) registerHaTrackerMetrics(registry, haStatus);
  const ingestionRates = new IngestionRates(flagNumber(config.values, 'ingester.rate-update-period'));
  ingestionRates.start();
  const onIngested = (tenant: string, r: { acceptedSamples: number }): void => ingestionRates.add(tenant, r.acceptedSamples);
  // The ruler (monolithic or -target=ruler): rules evaluated through the query pool, results pushed through the distributor's path.
  const ruleIngestionRates = new IngestionRates(flagNumber(config.values, 'ingester.rate-update-period'));
  ruleIngestionRates.start();
  const runsRuler = monolithic || modules.includes('ruler');
  // Sharded rulers (microservices mode): each evaluates its share of the rule groups, and the rules API
  // asks the other healthy rulers of the ring for theirs.
  const rulerRing = !monolithic && runsRuler ? rings.get('ruler') : undefined;
  const rulerPeers = rulerRing !== undefined ? ringPeerGroups(rulerRing.ring, rulerRing.config.instanceId, internalClient ?? new InternalClient()) : undefined;
  // A ruler apart from the ingesters (-target=ruler) reads and writes through them, as Mimir's ruler does with
  // its own querier and distributor: queries fan out to the ingesters and store-gateways of the rings, and
  // results go through a distributor's push path (the ring executor) unless this process runs the distributor.
  const rulerApart = runsRuler && internalClient !== undefined;
  const rulerQueries = rulerApart && !runsQuerier ? distributedQueryExecutor(config, rings, internalClient, runtimeConfig, 'ruler') : undefined;
  const rulerPushes = rulerApart && !runsDistributor ? distributedPushExecutor(config, rings, internalClient, runtimeConfig, undefined, deps.storage === undefined) : undefined;
  const ruler: RulerModule | undefined = runsRuler
    ? newRulerModule({
        config,
        registry,
        queryExecutor: rulerQueries ?? queryPool,
        // A rule's result is a few samples: appended on this thread, not through a worker.
        pushExecutor: rulerPushes ?? (rulerApart ? executor : smallInline(executor, inlineExecutor(storage), RULER_INLINE_PUSH_BYTES)),
        // Encoded rule results skip snappy: the storage's ingest of the uncompressed body, as decodeAndIngest does after it.
        ...(rulerApart ? {} : { rawIngest: (t: string, body: Uint8Array, l: IngestLimits) => storage.ingest(t, body, l) }),
        limits: (t) => runtimeConfig.limits(t),
        limitValues: runtimeConfig,
        writeGate,
        onIngested: (t, n) => ruleIngestionRates.add(t, n),
        expand: newAlertExpander(),
        templateCheck,
        ...(rulerPeers !== undefined ? { peers: rulerPeers } : {}),
        // The `for` state restore reads ALERTS_FOR_STATE's stored samples where this process holds them.
        ...(modules.includes('ingester') && deps.storage === undefined ? { rawSelect: (t: string, m: LabelMatcher[], mint: number, maxt: number) => loadNative().selectSamples(t, m, mint, maxt) } : {}),
      })
    : undefined;
  if (ruler !== undefined && rulerRing !== undefined) {
    // A group's ruler is the first ACTIVE healthy one clockwise from FNV-1a(tenant/namespace/group), as Mimir's tokenForGroup.
    const { ring, config: ringCfg } = rulerRing;
    ruler.manager.shardBy((user, namespace, group) => ring.ownerOf(fnv1aKey(user, '/', namespace, '/', group), ACTIVE_OWNER) === ringCfg.instanceId);
    ring.onTopologyChange(() => ruler.manager.ownershipChanged());
  }
  // Grafana alerting provisioning runs with the ruler (its objects live in the ruler's bucket).
  // Its recording rules write through the distributor's push path, as the ruler's do.
  const provisioning = runsRuler
    ? newProvisioningModule(config, {
        queryExecutor: queryPool,
        registry,
        appender: executorAppender(config, smallInline(executor, inlineExecutor(storage), RULER_INLINE_PUSH_BYTES), (t) => runtimeConfig.limits(t), writeGate, (t, n) => ruleIngestionRates.add(t, n)),
      })
    : undefined;
  const profiling = new ProfilingApi({ writeTimeoutMs: flagNumber(config.values, 'server.http-write-timeout') });
  links = registerRoutes({
    limits: new LimitsApi(runtimeConfig),
    config,
    server,
    ops,
    distributor: runsDistributor
      ? new Distributor(config, executor, new DistributorMetrics(registry), writeGate, (t) => runtimeConfig.limits(t), { ha: haTracker, onIngested })
      : undefined,
    haTracker: runsDistributor ? haTracker : undefined,
    userStats: runsDistributor || runsQuerier ? new UserStatsApi(ingestionRates, storage, ruleIngestionRates, native ? nativeVisibleStats() : undefined) : undefined,
    cardinality:
      runsQuerier && native
        ? new CardinalityApi(nativeCardinality(), (t) => runtimeConfig.limits(t), flagNumber(config.values, 'ingester.active-series-metrics-idle-timeout'))
        : undefined,
    // Federated reads (tenants joined by |) get past the auth middleware only with -tenant-federation.enabled.
    // A query-frontend with query-schedulers (or its own queue) sends series, labels and label values reads through
    // them to the queriers too; with a downstream URL it forwards those requests there.
    metadata: runsQuerier
      ? new MetadataApi(federatedSeriesQuerier(storage), native ? queryExecutor.readMetadata?.bind(queryExecutor) : undefined)
      : frontendEnqueue !== undefined && queryExecutor.readMetadata !== undefined
        ? new MetadataApi(federatedSeriesQuerier(storage), queryExecutor.readMetadata.bind(queryExecutor))
        : runsFrontendOnly && frontendDownstream !== ''
          ? downstreamMetadata(frontendDownstream)
          : undefined,
    query: runsQuerier || runsFrontendOnly ? new QueryApi(config, queryExecutor, undefined, undefined, runtimeConfig) : undefined,
    remoteRead: runsQuerier ? new RemoteReadApi(undefined, runtimeConfig) : undefined,
    rules: ruler?.rulesApi ?? (runsQuerier ? new PrometheusRulesApi() : undefined),
    rulerConfig: ruler?.configApi,
    rulerRing: ruler !== undefined ? pageFor(rings, 'ruler') : undefined,
    rulerApiEnabled: flagBool(config.values, 'ruler.enable-api'),
    ingester: ingesterApi,
    storeGateway: bucketStores !== undefined ? new StoreGatewayApi(bucketStores) : undefined,
    blockUpload,
    otlp: runsDistributor ? new OtlpApi(config, executor, registry, writeGate, runtimeConfig) : undefined,
    metricMetadata: runsQuerier ? new MetricMetadataApi(nativeMetricMetadataReader(), config.limits.metadataRetainPeriodMs) : undefined,
    compactor: compactor?.api,
    alertmanager: alertmanager?.api,
    admin: admin.api,
    instanceStatus: admin.instanceStatus,
    enterprise: admin.enterprise,
    configs: newConfigsApi(config, ruler, alertmanager?.manager),
    profiling,
    // Not part of -target=all, as Mimir.
    overridesExporter: exporterLimits !== undefined ? new OverridesExporter(runtimeConfig, config.values, exporterLimits, registry, exporterRing(rings)) : undefined,
    provisioning: provisioning?.api,
    rings: ringRoutes(rings, () => writeState === 'Running'),
  });

  const port = await server.listen(config.httpListenAddress, config.httpListenPort);
  // The ingester's internal API (distributed mode): pushes from distributors, reads from queriers.
  let internalServer: HttpServer | undefined;
  let internalPort = flagNumber(config.values, 'server.grpc-listen-port');
  // A store-gateway answers the same reads over the bucket blocks it loaded (its native store has no head);
  // a sharded ruler answers the other rulers' requests for its groups, a sharded alertmanager the requests
  // other alertmanagers forward and their state replication.
  if (!monolithic && (modules.includes('ingester') || modules.includes('store-gateway') || rulerRing !== undefined || scheduler !== undefined || frontendQueue !== undefined || amShard !== undefined)) {
    internalServer = new HttpServer({ http2: true });
    if (alertmanager !== undefined && amShard !== undefined) registerAlertmanagerInternal(internalServer, alertmanager.api.local, alertmanager.manager, config.maxRecvMsgSize);
    scheduler?.register(internalServer, config.maxRecvMsgSize);
    // A query-frontend holding the queues serves its queriers' polls (no enqueue from elsewhere).
    frontendQueue?.register(internalServer, config.maxRecvMsgSize, false);
    if (ruler !== undefined && rulerRing !== undefined) registerRulerInternal(internalServer, ruler.manager);
    const select = loadNative().selectSamplesAsync;
    const stores = bucketStores;
    const reads = {
      maxRecvMsgSize: config.maxRecvMsgSize,
      select: (t: string, m: LabelMatcher[], mint: number, maxt: number) => select(t, m, mint, maxt),
      series: storage,
      ...(stores !== undefined ? { blocks: (t: string, mint: number, maxt: number) => stores.hints(t, mint, maxt) } : {}),
      ...(stores !== undefined && loadNative().selectBlockSamplesAsync !== undefined
        ? { selectBlocks: (t: string, ids: readonly string[], m: LabelMatcher[], mint: number, maxt: number) => stores.select(t, ids, m, mint, maxt) }
        : {}),
      ...(stores !== undefined && nativeBlockSeriesQuerier() !== undefined ? { readBlocks: (r: MetadataRead, ids: readonly string[]) => stores.readMetadata(r, ids) } : {}),
    };
    if (modules.includes('ingester')) {
      registerIngesterInternal(internalServer, { ...reads, executor, gate: writeGate, limits: (t) => ingestLimits(runtimeConfig.limits(t), Date.now()) });
    } else if (modules.includes('store-gateway')) {
      registerReadInternal(internalServer, reads);
    }
    internalServer.notFound();
    internalPort = await internalServer.listen(flagString(config.values, 'server.grpc-listen-address'), internalPort);
  }
  if (alertmanager !== undefined) await alertmanager.start(port);
  for (const m of modules) if ((m !== 'ingester' || wal === undefined) && (m !== 'store-gateway' || bucketStores === undefined) && m !== 'ruler') services.set(m, 'Running');
  log.info('server listening', { addr: `${config.httpListenAddress}:${port}`, target: config.target });
  if (wal !== undefined) {
    // Exemplars are restored only into tenants that keep them (as sized by their limit).
    if (deps.wal === undefined) for (const t of walTenants) setExemplarLimit(t.tenant, runtimeConfig.limits(t.tenant).maxGlobalExemplarsPerUser);
    await replayWal(wal, walTenants, log.with({ component: 'ingester' }));
  }
  // Local blocks join the queried set before writes open (they hold what the WAL no longer does).
  if (ingesterBlocks !== undefined) await ingesterBlocks.start();
  if (wal !== undefined) services.set('ingester', 'Running');
  writeState = 'Running';
  if (bucketStores !== undefined) {
    const stores = bucketStores;
    void stores.start().then(
      () => services.set('store-gateway', 'Running'),
      (err: unknown) => {
        log.error('store-gateway failed to start', { err });
        services.set('store-gateway', 'Failed');
      },
    );
  }
  compactor?.compactor.start();
  // Provisioning files apply before the ruler starts; a failure is logged, never fatal.
  await provisioning?.start().catch((err: unknown) => log.error('grafana provisioning failed to start', { err }));
  if (ruler !== undefined) {
    await ruler.start().catch((err: unknown) => log.error('ruler failed to start', { err }));
    services.set('ruler', 'Running');
  }

  // Every component runs: register in the rings, at the internal API's address.
  await rings.join(internalPort);
  workers?.start();

  // Heap sampling is on from the start in every thread (as Go's heap profile), when /debug/pprof is
  // served; started once every service runs, so that it delays none of them.
  if (flagBool(config.values, 'server.register-instrumentation')) void profiling.startHeapSampling().catch((err: unknown) => log.debug('heap sampling did not start', { err }));
  let closing: Promise<void> | undefined;
  return {
    port,
    grpcPort: internalServer !== undefined ? internalPort : 0,
    registry,
    close: () => {
      closing ??= (async () => {
        services.setAll('Stopping');
        writeState = 'Stopping';
        // Leave the rings first: distributors stop sending here while requests drain.
        await rings.stop();
        // Frontends and queriers move to the other schedulers; queries running on queriers finish.
        scheduler?.stop();
        frontendQueue?.stop();
        await workers?.stop();
        await server.close(config.gracefulShutdownTimeoutMs);
        await internalServer?.close(config.gracefulShutdownTimeoutMs);
        profiling.close();
        await ruler?.stop();
        await provisioning?.stop();
        await compactor?.compactor.stop();
        await alertmanager?.stop();
        runtimeConfig.stop();
        await admin.close();
        ingestionRates.stop();
        ruleIngestionRates.stop();
        await executor.close();
        await rulerPushes?.close();
        await rulerQueries?.close();
        await queryExecutor.close();
        schedulerClient?.close();
        if (amClient !== internalClient) amClient?.close();
        if (workerClient !== internalClient) workerClient?.close();
        if (ingesterBlocks !== undefined) {
          await ingesterBlocks.stop();
          if (ingesterApi?.flushOnShutdown() === true) {
            try {
              await ingesterBlocks.flush();
            } catch (err) {
              log.error('flushing blocks on shutdown failed', { err });
            }
          }
        }
        await bucketStores?.stop();
        // The metadata cache's memcached connections (the bucket itself is closed below).
        if (storeGatewayCacheSet !== undefined && storeGatewayCacheSet.bucket !== bucket) await storeGatewayCacheSet.bucket.close();
        await blockUpload?.close();
        await bucket?.close();
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

/**
 * distributedQueryExecutor is the querier's read path when the ingesters run apart (a querier's, or
 * a standalone ruler's): PromQL over the samples of the tenant's ingesters and, past
 * -querier.query-store-after, of the store-gateways.
 */
/** exporterRing is the overrides-exporter's ring when the process joins it (-overrides-exporter.ring.enabled). */
function exporterRing(rings: Rings): ExporterRing | undefined {
  const member = rings.get('overrides-exporter');
  const page = pageFor(rings, 'overrides-exporter');
  if (member === undefined || page === undefined || !rings.joins('overrides-exporter')) return undefined;
  return { isLeader: ringLeader(member, log.with({ component: 'overrides-exporter' })), page };
}

function distributedQueryExecutor(config: Config, rings: Rings, client: InternalClient, limits: RuntimeConfigManager, component: string): QueryExecutor {
  const storeGateways = rings.get('store-gateway')?.ring;
  return ringQueryExecutor({
    ring: rings.get('ingester')!.ring,
    ...(storeGateways !== undefined ? { storeGateways } : {}),
    client,
    log: log.with({ component }),
    timeoutMs: 60_000,
    queryIngestersWithinMs: flagNumber(config.values, 'querier.query-ingesters-within'),
    queryStoreAfterMs: flagNumber(config.values, 'querier.query-store-after'),
    preferZones: flagString(config.values, 'querier.prefer-availability-zones')
      .split(',')
      .map((z) => z.trim())
      .filter((z) => z !== ''),
    storeGatewayShardSize: (t) => flagNumber(limits.values(t), 'store-gateway.tenant-shard-size'),
    // Mimir's NewBlockDiscoveryDelayMultiplier: store-gateways get three sync intervals to load a new block.
    uploadGraceMs: 3 * flagNumber(config.values, 'blocks-storage.bucket-store.sync-interval'),
    minimizeRequests: flagBool(config.values, 'querier.minimize-ingester-requests'),
    hedgingDelayMs: flagNumber(config.values, 'querier.minimize-ingester-requests-hedging-delay'),
    shardSize: (t) => flagNumber(limits.values(t), 'distributor.ingestion-tenant-shard-size'),
  });
}

/**
 * distributedPushExecutor is the distributor's push path when the ingesters run apart: the
 * ring executor with the tenant's shuffle shard, its share of the ingestion rate limit (the limit
 * divided by the healthy distributors with the global strategy), the HA tracker in the KV store
 * (ha: -distributor.ha-tracker.store) and OTLP translated here (the native core, when loaded).
 */
function distributedPushExecutor(config: Config, rings: Rings, client: InternalClient, limits: RuntimeConfigManager, ha: HaKvTracker | undefined, native: boolean): PushExecutor {
  const distributorRing = rings.get('distributor')?.ring;
  const nb = native ? loadNative() : undefined;
  const allow = nb?.allowIngestion;
  // OTLP translation costs CPU: it runs on worker threads (started on first use, stopped when idle).
  const pool = nb?.otlpWriteRequest !== undefined ? new Piscina({ filename: PUSH_WORKER, minThreads: 0, maxThreads: Math.max(1, availableParallelism()), idleTimeout: 60_000, atomics: 'disabled' }) : undefined;
  const exec = ringPushExecutor({
    ring: rings.get('ingester')!.ring,
    client,
    log: log.with({ component: 'distributor' }),
    timeoutMs: flagNumber(config.values, 'distributor.remote-timeout'),
    shardSize: (t) => flagNumber(limits.values(t), 'distributor.ingestion-tenant-shard-size'),
    ...(allow !== undefined
      ? {
          rateLimit: {
            distributors: (t: string) => (flagString(limits.values(t), 'distributor.ingestion-rate-limit-strategy') === 'local' ? 1 : (distributorRing?.healthyInstances(WRITE).length ?? 1)),
            allow: (t: string, items: number, rate: number, burst: number, limitRate: number) => allow(t, items, rate, burst, limitRate),
            // Only what passes the ingesters' validation counts, as Mimir's distributor counts after its validation.
            ...(nb?.validatedItems !== undefined ? { validated: (t: string, raw: Uint8Array, protocol: 1 | 2, l: IngestLimits) => nb.validatedItems!(t, raw, protocol === 2, l) } : {}),
          },
        }
      : {}),
    ...(ha !== undefined ? { ha } : {}),
    ...(pool !== undefined ? { otlpWriteRequest: (body: ArrayBuffer, options: OtlpOptions) => pool.run({ body, options }, { name: 'otlpTranslate' }) as Promise<OtlpWriteRequest> } : {}),
    ...(nb?.otlpValidationMessage !== undefined ? { otlpValidationMessage: nb.otlpValidationMessage.bind(nb) } : {}),
  });
  return {
    ...exec,
    close: async () => {
      await exec.close();
      await pool?.destroy();
    },
  };
}
