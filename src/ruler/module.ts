// module.ts assembles the ruler from the configuration: the rule store on
// -ruler-storage.*, the manager evaluating through the given query and push
// executors, the notifier to -ruler.alertmanager-url, and the two APIs.

import type { Registry } from 'prom-client';
import type { Config, Limits } from '../config/config.js';
import { labelMapOf } from '../config/parse.js';
import type { Labels } from '../promql/engine/types.js';
import type { PushExecutor } from '../distributor/distributor.js';
import { log } from '../log.js';
import type { QueryExecutor } from '../querier/query-executor.js';
import type { QueryLimitsSource } from '../querier/query-limits.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import { FilesystemBucket } from '../storage/bucket/filesystem.js';
import { s3ConfigFromFlags } from '../storage/bucket/index.js';
import { S3Bucket } from '../storage/bucket/s3.js';
import { RulerConfigApi } from './config-api.js';
import { executorAppender, executorQuerier, type RawIngest, type RawSelect } from './eval-io.js';
import { RulerManager } from './manager.js';
import { RulerMetrics } from './metrics.js';
import { Notifier } from './notifier.js';
import { PrometheusRulesApi, type PeerGroups } from './prometheus-api.js';
import { RuleStore } from './rule-store.js';
import type { Expander } from './rules.js';
import type { TemplateCheck } from './rulefmt.js';
import { flagBool, flagNumber, flagString } from '../config/config.js';

function str(config: Config, name: string): string {
  return flagString(config.values, name);
}

function num(config: Config, name: string): number {
  return flagNumber(config.values, name);
}

/** rulerBucket builds the -ruler-storage bucket (the s3 settings not given for the ruler are the blocks storage's). */
export function rulerBucket(config: Config): Bucket {
  const backend = str(config, 'ruler-storage.backend');
  switch (backend) {
    case 'filesystem':
      return new FilesystemBucket(str(config, 'ruler-storage.filesystem.dir'));
    case 's3': {
      const base = s3ConfigFromFlags(config);
      return new S3Bucket({
        ...base,
        endpoint: str(config, 'ruler-storage.s3.endpoint'),
        bucketName: str(config, 'ruler-storage.s3.bucket-name'),
        region: str(config, 'ruler-storage.s3.region'),
        accessKeyId: str(config, 'ruler-storage.s3.access-key-id'),
        secretAccessKey: str(config, 'ruler-storage.s3.secret-access-key'),
        insecure: flagBool(config.values, 'ruler-storage.s3.insecure'),
      });
    }
    default:
      throw new Error(`unsupported storage backend: ${backend}`);
  }
}

/** RulerModuleDeps are what the ruler uses from the rest of the process. */
export interface RulerModuleDeps {
  config: Config;
  registry: Registry;
  queryExecutor: QueryExecutor;
  pushExecutor: PushExecutor;
  limits: (tenant: string) => Limits;
  limitValues: QueryLimitsSource;
  /** writeGate names why writes are refused right now (WAL replay, shutdown). */
  writeGate?: () => string | undefined;
  bucket?: Bucket;
  expand?: Expander;
  templateCheck?: TemplateCheck;
  /** onIngested sees the samples the ruler stored per tenant (the rule ingestion rate of /api/v1/user_stats). */
  onIngested?: (tenant: string, acceptedSamples: number) => void;
  /** rawIngest appends an uncompressed rule result on this thread through the storage's ingest path (the push path minus snappy). */
  rawIngest?: RawIngest;
  /** peers gives the other rulers' groups when groups are sharded over the ruler ring (the rules API shows them all). */
  peers?: PeerGroups;
  /** rawSelect reads stored samples in this process (the ingester's storage), for restoring `for` state. */
  rawSelect?: RawSelect;
}

/** RulerModule is the assembled ruler. */
export interface RulerModule {
  store: RuleStore;
  manager: RulerManager;
  notifier: Notifier;
  configApi: RulerConfigApi;
  rulesApi: PrometheusRulesApi;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** plainExpander leaves templates as they are (used until a template engine is given). */
const plainExpander: Expander = async (text) => text;

/** newRulerModule builds the ruler. */
export function newRulerModule(deps: RulerModuleDeps): RulerModule {
  const { config } = deps;
  const logger = log.with({ component: 'ruler' });
  const bucket = deps.bucket ?? rulerBucket(config);
  const store = new RuleStore(bucket);
  const metrics = new RulerMetrics(deps.registry);
  const externalURL = str(config, 'ruler.external.url');
  const externalLabels = (tenant: string): Labels => labelMapOf(deps.limitValues.values(tenant).get('ruler.external-labels'));
  const notifier = new Notifier({
    urls: str(config, 'ruler.alertmanager-url')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
    timeoutMs: num(config, 'ruler.notification-timeout'),
    queueCapacity: num(config, 'ruler.notification-queue-capacity'),
    externalURL,
    externalLabels,
    metrics,
    logger,
  });
  const manager = new RulerManager({
    store,
    pollIntervalMs: num(config, 'ruler.poll-interval'),
    logger,
    evaluationEnabled: (tenant) => {
      const v = deps.limitValues.values(tenant);
      return { recording: flagBool(v, 'ruler.recording-rules-evaluation-enabled'), alerting: flagBool(v, 'ruler.alerting-rules-evaluation-enabled') };
    },
    group: {
      querier: executorQuerier(config, deps.queryExecutor, deps.limitValues, deps.rawSelect),
      appender: executorAppender(config, deps.pushExecutor, deps.limits, deps.writeGate, deps.onIngested, deps.rawIngest),
      expand: deps.expand ?? plainExpander,
      metrics,
      logger,
      defaultIntervalMs: num(config, 'ruler.evaluation-interval'),
      resendDelayMs: num(config, 'ruler.resend-delay'),
      outageToleranceMs: num(config, 'ruler.for-outage-tolerance'),
      forGracePeriodMs: num(config, 'ruler.for-grace-period'),
      externalURL,
      externalLabels,
      notify: (tenant, expr, alerts) => notifier.send(tenant, expr, alerts),
    },
  });
  const limitOf = (tenant: string, name: string): number => Number(deps.limitValues.values(tenant).get(name) ?? 0);
  const configApi = new RulerConfigApi({
    store,
    limits: {
      maxRulesPerRuleGroup: (t) => limitOf(t, 'ruler.max-rules-per-rule-group'),
      maxRuleGroupsPerTenant: (t) => limitOf(t, 'ruler.max-rule-groups-per-tenant'),
    },
    federation: flagBool(config.values, 'ruler.tenant-federation.enabled'),
    scheme: 'utf8',
    ...(deps.templateCheck !== undefined ? { templateCheck: deps.templateCheck } : {}),
    changed: (tenant) => void manager.syncTenant(tenant),
  });
  return {
    store,
    manager,
    notifier,
    configApi,
    rulesApi: new PrometheusRulesApi(manager, deps.peers),
    start: () => manager.start(),
    stop: async () => {
      await manager.stop();
      await notifier.flush();
      if (deps.bucket === undefined) await bucket.close();
    },
  };
}
