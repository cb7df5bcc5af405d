// module.ts assembles Grafana alerting provisioning: the per-organisation
// store on the ruler's bucket (-ruler-storage.*), the API handlers, the
// provisioning files applied at start, and (with a query executor) the
// evaluation of provisioned rules with delivery through each organisation's
// Alertmanager built from its policy tree and contact points.

import { join, resolve } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { receiverFirewall } from '../alertmanager/firewall.js';
import { log } from '../log.js';
import type { QueryExecutor } from '../querier/query-executor.js';
import type { RuleAppender } from '../ruler/eval-io.js';
import { rulerBucket } from '../ruler/module.js';
import type { Bucket } from '../storage/bucket/bucket.js';
import type { GrafanaSmtp } from './grafana-email.js';
import { OrgAlertmanagers } from './delivery.js';
import { executorRunner, GrafanaEvaluator, type QueryRunner } from './evaluator.js';
import { ProvisioningApi } from './http.js';
import { provisionFromDir } from './import.js';
import { ProvisioningStore } from './store.js';

/** ProvisioningModule is the running component. */
export interface ProvisioningModule {
  api: ProvisioningApi;
  store: ProvisioningStore;
  evaluator?: GrafanaEvaluator;
  alertmanagers?: OrgAlertmanagers;
  /** start applies the provisioning files (-grafana-provisioning.alerting-dir) and starts evaluating. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** ProvisioningDeps are what the module uses from the rest of the process. */
export interface ProvisioningDeps {
  bucket?: Bucket;
  /** queryExecutor runs the rules' PromQL; without it (or runner) rules are stored but not evaluated. */
  queryExecutor?: QueryExecutor;
  runner?: QueryRunner;
  /** appender writes Grafana recording rules' results (the distributor's push path); without it they fail to evaluate. */
  appender?: RuleAppender;
  /** registry gets the evaluation metrics. */
  registry?: Registry;
}

/** newProvisioningModule builds the provisioning store, API and evaluator. */
export function newProvisioningModule(config: Config, deps: ProvisioningDeps = {}): ProvisioningModule {
  const v = (name: string): string | number | boolean => config.values.get(name) ?? '';
  const logger = log.with({ component: 'provisioning' });
  const b = deps.bucket ?? rulerBucket(config);
  const store = new ProvisioningStore(b);
  const baseIntervalSeconds = Math.max(1, Math.round(Number(v('grafana-provisioning.base-interval')) / 1000));
  const api = new ProvisioningApi(store, { baseIntervalSeconds });
  const runner = deps.runner ?? (deps.queryExecutor !== undefined ? executorRunner(config, deps.queryExecutor) : undefined);
  let evaluator: GrafanaEvaluator | undefined;
  let alertmanagers: OrgAlertmanagers | undefined;
  if (runner !== undefined && v('grafana-provisioning.evaluation-enabled') !== false) {
    const externalURL = String(v('ruler.external.url'));
    const ams = new OrgAlertmanagers({
      dataDir: join(resolve(String(v('alertmanager.storage.path'))), 'grafana'),
      retentionMs: Number(v('alertmanager.storage.retention')),
      externalURL,
      checkUrl: receiverFirewall(String(v('alertmanager.receivers-firewall-block-cidr-networks')), v('alertmanager.receivers-firewall-block-private-addresses') === true),
      logger,
      smtp: {
        host: String(v('grafana-provisioning.smtp.host')),
        user: String(v('grafana-provisioning.smtp.user')),
        password: String(v('grafana-provisioning.smtp.password')),
        fromAddress: String(v('grafana-provisioning.smtp.from-address')),
        fromName: String(v('grafana-provisioning.smtp.from-name')),
        ehloIdentity: String(v('grafana-provisioning.smtp.ehlo-identity')),
        skipVerify: v('grafana-provisioning.smtp.skip-verify') === true,
        startTlsPolicy: String(v('grafana-provisioning.smtp.starttls-policy')) as GrafanaSmtp['startTlsPolicy'],
      },
    });
    alertmanagers = ams;
    const registers = deps.registry !== undefined ? [deps.registry] : [];
    // As Grafana's grafana_alerting_rule_evaluations_total and ..._failures_total (per organisation).
    const evals = new Counter({ name: 'grafana_alerting_rule_evaluations_total', help: 'The total number of rule evaluations.', labelNames: ['org'], registers });
    const failures = new Counter({ name: 'grafana_alerting_rule_evaluation_failures_total', help: 'The total number of rule evaluation failures.', labelNames: ['org'], registers });
    evaluator = new GrafanaEvaluator({
      runner,
      deliver: (tenant, alerts) => ams.put(tenant, alerts),
      ...(deps.appender !== undefined ? { appender: deps.appender } : {}),
      externalURL,
      logger,
      onEvaluated: (tenant, _rule, _ms, failed) => {
        evals.inc({ org: tenant });
        if (failed) failures.inc({ org: tenant });
      },
    });
    const ev = evaluator;
    store.onChange((tenant, st) => {
      ams.apply(tenant, st);
      ev.sync(tenant, st);
    });
  }
  return {
    api,
    store,
    ...(evaluator !== undefined ? { evaluator } : {}),
    ...(alertmanagers !== undefined ? { alertmanagers } : {}),
    start: async () => {
      await provisionFromDir(String(v('grafana-provisioning.alerting-dir')), store, logger);
      if (evaluator === undefined || alertmanagers === undefined) return;
      for (const tenant of await store.tenants()) {
        const st = await store.get(tenant);
        alertmanagers.apply(tenant, st);
        evaluator.sync(tenant, st);
      }
    },
    stop: async () => {
      evaluator?.stop();
      alertmanagers?.stop();
      if (deps.bucket === undefined) await b.close();
    },
  };
}
