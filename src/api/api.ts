// api.ts registers every HTTP route of the process, one function per
// component, with the cross-cutting pieces (tenant auth, body limits, error
// format) attached here and nowhere else.

import { MAX_META_BYTES, type BlockUploadApi } from '../compactor/block-upload.js';
import type { CompactorApi } from '../compactor/http.js';
import type { Config } from '../config/config.js';
import type { Distributor } from '../distributor/distributor.js';
import type { IngesterApi } from '../ingester/ingester-api.js';
import type { StoreGatewayApi } from '../storegateway/storegateway-api.js';
import type { HaTracker } from '../distributor/ha-tracker.js';
import type { UserStatsApi } from '../distributor/user-stats.js';
import type { LimitsApi } from '../limits/limits-api.js';
import type { OpsApi } from '../ops/ops.js';
import { OTLP_PATH, type OtlpApi } from '../distributor/otlp.js';
import type { IndexLink } from '../ops/pages.js';
import type { CardinalityApi } from '../querier/cardinality.js';
import type { MetadataHandlers } from '../frontend/downstream.js';
import type { MetricMetadataApi } from '../querier/exemplars.js';
import type { QueryApi } from '../querier/query.js';
import type { RemoteReadApi } from '../remote/read-handler.js';
import type { PrometheusRulesApi } from '../ruler/prometheus-api.js';
import type { RulerConfigApi } from '../ruler/config-api.js';
import type { Handler, HttpServer, Request, RouteOptions } from '../server/http.js';
import type { Scope } from '../auth/scopes.js';
import type { AlertmanagerApi } from '../alertmanager/http.js';
import { ORG_ID_HEADER, joinTenants, requestTenants, singleTenant, splitTenants } from '../tenant/tenant.js';
import { ApiError } from '../errors.js';
import type { EnterpriseAuth } from '../auth/enterprise.js';
import type { AdminApi } from '../admin/admin-api.js';
import type { ConfigsApi } from '../configs/configs-api.js';
import type { ProfilingApi } from '../ops/pprof.js';
import type { OverridesExporter } from '../limits/overrides-exporter.js';
import type { ProvisioningApi } from '../provisioning/http.js';
import type { RingRoutes } from '../ring/routes.js';
import { flagBool, flagString } from '../config/config.js';

/** Api is the set of components whose routes get registered. */
export interface Api {
  config: Config;
  server: HttpServer;
  distributor?: Distributor;
  /** metadata serves series, label names and label values (a querier's reads, or a downstream-url frontend forwarding them). */
  metadata?: MetadataHandlers;
  query?: QueryApi;
  remoteRead?: RemoteReadApi;
  rules?: PrometheusRulesApi;
  rulerConfig?: RulerConfigApi;
  /** rulerRing answers /ruler/ring (when the ruler runs). */
  rulerRing?: Handler;
  /** rulerApiEnabled is -ruler.enable-api: the configuration API routes exist. */
  rulerApiEnabled?: boolean;
  ops: OpsApi;
  limits?: LimitsApi;
  ingester?: IngesterApi;
  storeGateway?: StoreGatewayApi;
  blockUpload?: BlockUploadApi;
  otlp?: OtlpApi;
  metricMetadata?: MetricMetadataApi;
  haTracker?: HaTracker;
  userStats?: UserStatsApi;
  cardinality?: CardinalityApi;
  compactor?: CompactorApi;
  alertmanager?: AlertmanagerApi;
  /** admin is GEM's admin API; with instanceStatus, inactive instances are refused. */
  admin?: AdminApi;
  instanceStatus?: InstanceStatus;
  /** enterprise, when set, is the auth of every tenant route (-auth.type=enterprise). */
  enterprise?: EnterpriseAuth;
  /** configs is Cortex's deprecated configs API (over the ruler's and alertmanager's stores). */
  configs?: ConfigsApi;
  /** profiling answers /debug/pprof/* (with -server.register-instrumentation) and /debug/fgprof. */
  profiling?: ProfilingApi;
  /** overridesExporter runs with -target=overrides-exporter. */
  overridesExporter?: OverridesExporter;
  /** provisioning is Grafana's alerting provisioning API (an organisation is a tenant). */
  provisioning?: ProvisioningApi;
  /** rings are the hash rings' pages, /memberlist and the ingester's downscale preparation. */
  rings?: RingRoutes;
}

/**
 * AUTH holds each server's enterprise auth and admin state (keyed by its Config, so that the
 * route middleware below finds them without another parameter).
 */
const AUTH = new WeakMap<Config, { enterprise?: EnterpriseAuth; instances?: InstanceStatus }>();

/** InstanceStatus tells the status of an instance the admin API knows (undefined: unknown). */
export type InstanceStatus = (name: string) => string | undefined;

/** inactiveRefused refuses a request to an instance the admin API marked inactive (trust mode too). */
function inactiveRefused(config: Config, tenant: string): void {
  const status = AUTH.get(config)?.instances;
  if (status === undefined) return;
  for (const id of splitTenants(tenant)) {
    const s = status(id);
    if (s !== undefined && s !== 'active') throw new ApiError('forbidden', `instance "${id}" is ${s}`);
  }
}

/**
 * authSingleTenant is the auth middleware of routes that take exactly one tenant (401/422/400
 * otherwise); scope is what the route needs. With -auth.type=enterprise the token decides the
 * tenant and must hold the scope and a realm for it (401/403 otherwise).
 */
function authSingleTenant(config: Config, scope: Scope): (req: Request) => void {
  return (req) => {
    const enterprise = AUTH.get(config)?.enterprise;
    if (enterprise !== undefined) {
      const a = enterprise.data(req, scope, true);
      req.tenant = a.tenant;
      if (a.visibility !== undefined) req.visibility = a.visibility;
      return;
    }
    req.tenant = singleTenant(req.headers.get(ORG_ID_HEADER), config);
    inactiveRefused(config, req.tenant);
  };
}

/**
 * authTenants is the auth middleware of reads: one tenant, or several joined
 * by `|` when -tenant-federation.enabled is set (401 or 422 otherwise). With
 * enterprise auth, the token needs a realm for every tenant, and the realms'
 * label policies limit what each tenant's reads see.
 */
function authTenants(config: Config, scope: Scope): (req: Request) => void {
  return (req) => {
    const enterprise = AUTH.get(config)?.enterprise;
    if (enterprise !== undefined) {
      const a = enterprise.data(req, scope, false);
      req.tenant = a.tenant;
      if (a.visibility !== undefined) req.visibility = a.visibility;
      return;
    }
    req.tenant = joinTenants(requestTenants(req.headers.get(ORG_ID_HEADER), config));
    inactiveRefused(config, req.tenant);
  };
}

/** authAdmin is the auth middleware of the admin API: with enterprise auth, a token with the admin scope. */
function authAdmin(config: Config): (req: Request) => void {
  return (req) => {
    AUTH.get(config)?.enterprise?.admin(req);
  };
}

/**
 * authOperator is the auth middleware of operator actions and pages that reach
 * every tenant (all tenants' stats, rule groups and Alertmanager configs, the
 * ingester's and store-gateway's tenant pages and shutdown/flush actions,
 * profiling): with enterprise auth, a token with the admin scope (401 without
 * credentials, 403 without the scope), as the admin API. Trust mode: open, as Mimir.
 */
function authOperator(config: Config): (req: Request) => void {
  return authAdmin(config);
}

/** legacyPrefix is -http.legacy-http-prefix (Cortex's older prefix of the Prometheus API), without a trailing slash. */
function legacyPrefix(config: Config): string {
  return flagString(config.values, 'http.legacy-http-prefix').replace(/\/$/, '');
}

/** registerRoutes registers every route and returns the links for the index page. */
export function registerRoutes(api: Api): IndexLink[] {
  const links: IndexLink[] = [];
  AUTH.set(api.config, { ...(api.enterprise !== undefined ? { enterprise: api.enterprise } : {}), ...(api.instanceStatus !== undefined ? { instances: api.instanceStatus } : {}) });
  registerOps(api, links);
  if (api.admin !== undefined) registerAdmin(api, api.admin, links);
  if (api.limits !== undefined) registerLimits(api, api.limits, links);
  if (api.distributor !== undefined) registerDistributor(api, api.distributor, links);
  if (api.metadata !== undefined) registerQuerier(api, api.metadata, links);
  if (api.query !== undefined) registerPromQL(api, api.query, links);
  if (api.remoteRead !== undefined) registerRemoteRead(api, api.remoteRead);
  if (api.rules !== undefined) registerRuler(api, api.rules, links);
  if (api.rulerConfig !== undefined) registerRulerConfig(api, api.rulerConfig, links);
  if (api.ingester !== undefined) registerIngester(api, api.ingester, links);
  if (api.storeGateway !== undefined) registerStoreGateway(api, api.storeGateway, links);
  if (api.blockUpload !== undefined) registerBlockUpload(api, api.blockUpload);
  if (api.otlp !== undefined) registerOtlp(api, api.otlp, links);
  if (api.metricMetadata !== undefined) registerMetricMetadata(api, api.metricMetadata);
  if (api.haTracker !== undefined) registerHaTracker(api, api.haTracker, links);
  if (api.userStats !== undefined) registerUserStats(api, api.userStats, links);
  if (api.cardinality !== undefined) registerCardinality(api, api.cardinality, links);
  if (api.compactor !== undefined) registerCompactor(api, api.compactor, links);
  if (api.alertmanager !== undefined) registerAlertmanager(api, api.alertmanager, links);
  if (api.configs !== undefined) registerConfigs(api, api.configs);
  if (api.profiling !== undefined) registerProfiling(api, api.profiling, links);
  if (api.overridesExporter !== undefined) registerOverridesExporter(api, api.overridesExporter, links);
  if (api.provisioning !== undefined) registerProvisioning(api, api.provisioning);
  if (api.rings !== undefined) registerRings(api, api.rings, links);
  api.server.notFound();
  return links;
}

function registerOps(api: Api, links: IndexLink[]): void {
  const { server, ops, config } = api;
  const prefix = config.prometheusHttpPrefix;
  server.route('GET', '/', ops.index);
  server.route('GET', '/ready', ops.ready);
  server.route('GET', '/metrics', ops.metrics);
  server.route('GET', '/config', ops.configYaml);
  server.route('GET', '/services', ops.servicesPage);
  server.route('GET', '/api/v1/status/buildinfo', ops.buildinfo, { errors: 'json' });
  server.route('GET', `${prefix}/api/v1/status/buildinfo`, ops.buildinfo, { errors: 'json' });
  server.route('GET', '/api/v1/status/config', ops.statusConfig, { errors: 'json' });
  server.route('GET', `${prefix}/api/v1/status/config`, ops.statusConfig, { errors: 'json' });
  // Only at the root, as Mimir: Grafana takes a data source (<prefix>) that answers status/flags for Thanos.
  server.route('GET', '/api/v1/status/flags', ops.statusFlags, { errors: 'json' });
  links.push(
    { section: 'Admin endpoints', href: '/config', title: 'Current config' },
    { section: 'Admin endpoints', href: '/config?mode=diff', title: 'Current config (including only values that differ from the defaults)' },
    { section: 'Admin endpoints', href: '/config?mode=defaults', title: 'Default config' },
    { section: 'Admin endpoints', href: '/services', title: 'Services status' },
    { section: 'Admin endpoints', href: '/ready', title: 'Readiness' },
    { section: 'Admin endpoints', href: '/metrics', title: 'Metrics' },
    { section: 'Admin endpoints', href: '/api/v1/status/buildinfo', title: 'Build information' },
    { section: 'Admin endpoints', href: '/api/v1/status/config', title: 'Current config (Prometheus API)' },
    { section: 'Admin endpoints', href: '/api/v1/status/flags', title: 'Flags (Prometheus API)' },
  );
}

function registerLimits(api: Api, limits: LimitsApi, links: IndexLink[]): void {
  api.server.route('GET', '/runtime_config', limits.runtimeConfig);
  api.server.route('GET', '/api/v1/user_limits', limits.userLimits, { before: authSingleTenant(api.config, 'metrics:read'), errors: 'text' });
  links.push(
    { section: 'Admin endpoints', href: '/runtime_config', title: 'Runtime config' },
    { section: 'Admin endpoints', href: '/runtime_config?mode=diff', title: 'Runtime config (including only values that differ from the defaults)' },
  );
}

function registerDistributor(api: Api, distributor: Distributor, links: IndexLink[]): void {
  const opts: RouteOptions = {
    before: authSingleTenant(api.config, 'metrics:write'),
    maxBodyBytes: api.config.maxRecvMsgSize,
    tooLarge: distributor.tooLarge,
    errors: 'text',
  };
  api.server.route('POST', '/api/v1/push', distributor.handlePush, opts);
  api.server.route('POST', `${legacyPrefix(api.config)}/push`, distributor.handlePush, opts);
  links.push({ section: 'Distributor', href: '/api/v1/push', title: 'Remote write endpoint (POST)' });
}

function registerQuerier(api: Api, metadata: MetadataHandlers, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config, 'metrics:read'), errors: 'json' };
  // Mimir serves the Prometheus API under the prefix and, for compatibility, without it.
  for (const base of [api.config.prometheusHttpPrefix, '', legacyPrefix(api.config)]) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/series`, metadata.series, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/labels`, metadata.labels, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/label/:name/values`, metadata.labelValues, opts);
  }
  links.push({ section: 'Querier', href: `${api.config.prometheusHttpPrefix}/api/v1/labels`, title: 'Label names (needs X-Scope-OrgID)' });
}

function registerPromQL(api: Api, query: QueryApi, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config, 'metrics:read'), errors: 'json' };
  for (const base of [api.config.prometheusHttpPrefix, '', legacyPrefix(api.config)]) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/query`, query.query, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/query_range`, query.queryRange, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/format_query`, query.formatQuery, opts);
  }
  links.push({ section: 'Querier', href: `${api.config.prometheusHttpPrefix}/api/v1/query?query=vector(1)`, title: 'PromQL instant query, e.g. vector(1) (needs X-Scope-OrgID)' });
}

function registerRemoteRead(api: Api, remoteRead: RemoteReadApi): void {
  // Errors in plain text, as Prometheus's remote-read handler (http.Error).
  const opts: RouteOptions = { before: authTenants(api.config, 'metrics:read'), maxBodyBytes: api.config.maxRecvMsgSize, errors: 'text' };
  for (const base of [api.config.prometheusHttpPrefix, '', legacyPrefix(api.config)]) {
    api.server.route('POST', `${base}/api/v1/read`, remoteRead.read, opts);
  }
}

function registerRuler(api: Api, rules: PrometheusRulesApi, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config, 'rules:read'), errors: 'json' };
  const prefix = api.config.prometheusHttpPrefix;
  // Only under the prefix: the unprefixed /api/v1/rules and /api/v1/alerts are the
  // ruler's and Alertmanager's configuration APIs.
  api.server.route('GET', `${prefix}/api/v1/rules`, rules.rules, opts);
  api.server.route('GET', `${prefix}/api/v1/alerts`, rules.alerts, opts);
  // The legacy prefix of Cortex's Prometheus API.
  api.server.route('GET', `${legacyPrefix(api.config)}/api/v1/rules`, rules.rules, opts);
  api.server.route('GET', `${legacyPrefix(api.config)}/api/v1/alerts`, rules.alerts, opts);
  links.push({ section: 'Ruler', href: `${prefix}/api/v1/rules`, title: 'Rules (needs X-Scope-OrgID)' });
}

function registerRulerConfig(api: Api, cfg: RulerConfigApi, links: IndexLink[]): void {
  const { server, config } = api;
  // Errors in plain text (http.Error), as Mimir's ruler API.
  const read: RouteOptions = { before: authSingleTenant(config, 'rules:read'), errors: 'text' };
  const write: RouteOptions = { before: authSingleTenant(config, 'rules:write'), errors: 'text', maxBodyBytes: 10 * 1024 * 1024 };
  if (api.rulerApiEnabled !== false) {
    // <prefix>/config/v1/rules is Mimir's; /api/v1/rules and <prefix>/rules its deprecated paths; /api/prom/rules Cortex's.
    for (const base of [`${config.prometheusHttpPrefix}/config/v1/rules`, '/api/v1/rules', `${config.prometheusHttpPrefix}/rules`, `${legacyPrefix(config)}/rules`]) {
      server.route('GET', base, cfg.listRules, read);
      server.route('GET', `${base}/:namespace`, cfg.listRules, read);
      server.route('GET', `${base}/:namespace/:groupName`, cfg.getRuleGroup, read);
      server.route('POST', `${base}/:namespace`, cfg.createRuleGroup, write);
      server.route('DELETE', `${base}/:namespace`, cfg.deleteNamespace, write);
      server.route('DELETE', `${base}/:namespace/:groupName`, cfg.deleteRuleGroup, write);
    }
  }
  // Operator actions and pages over every tenant: the admin scope under enterprise auth.
  server.route('POST', '/ruler/delete_tenant_config', cfg.deleteTenantConfig, { ...write, before: authSingleTenant(config, 'admin') });
  server.route('GET', '/ruler/rule_groups', cfg.listAllRules, { errors: 'text', before: authOperator(config) });
  if (api.rulerRing !== undefined) {
    // POST forgets an instance: an operator action like the other ring pages' forget buttons.
    server.route('GET', '/ruler/ring', api.rulerRing, { errors: 'text' });
    server.route('GET', '/ruler_ring', api.rulerRing, { errors: 'text' });
    server.route('POST', '/ruler/ring', api.rulerRing, { errors: 'text', before: authOperator(api.config) });
    server.route('POST', '/ruler_ring', api.rulerRing, { errors: 'text', before: authOperator(api.config) });
    links.push({ section: 'Ruler', href: '/ruler/ring', title: 'Ring status' });
  }
  links.push({ section: 'Ruler', href: '/ruler/rule_groups', title: 'All tenants\' rule groups' });
}

function registerIngester(api: Api, ingester: IngesterApi, links: IndexLink[]): void {
  const { server } = api;
  // /flush and /shutdown are Cortex's older paths; Cortex also takes GET on the shutdown paths.
  server.route(['GET', 'POST'], '/ingester/flush', ingester.flush, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'POST'], '/flush', ingester.flush, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'POST'], '/ingester/shutdown', ingester.shutdown, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'POST'], '/shutdown', ingester.shutdown, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'POST', 'DELETE'], '/ingester/prepare-shutdown', ingester.prepareShutdown, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'PUT', 'DELETE'], '/ingester/unregister-on-shutdown', ingester.unregisterOnShutdown, { errors: 'text', before: authOperator(api.config) });
  server.route('GET', '/ingester/tsdb_metrics', ingester.tsdbMetrics, { before: authSingleTenant(api.config, 'metrics:read'), errors: 'text' });
  server.route('GET', '/ingester/tenants', ingester.tenantsPage, { errors: 'text', before: authOperator(api.config) });
  server.route('GET', '/ingester/tsdb/:tenant', ingester.tenantPage, { errors: 'text', before: authOperator(api.config) });
  links.push(
    { section: 'Ingester', href: '/ingester/tenants', title: 'Ingester tenants' },
    { section: 'Ingester', href: '/ingester/flush', title: 'Trigger a flush of the in-memory time series data to long-term storage' },
    { section: 'Ingester', href: '/ingester/prepare-shutdown', title: 'Prepare for shutdown (GET status, POST set, DELETE unset)' },
  );
}

function registerStoreGateway(api: Api, sg: StoreGatewayApi, links: IndexLink[]): void {
  const { server } = api;
  server.route('GET', '/store-gateway/tenants', sg.tenantsPage, { errors: 'text', before: authOperator(api.config) });
  server.route('GET', '/store-gateway/tenant/:tenant/blocks', sg.blocksPage, { errors: 'text', before: authOperator(api.config) });
  server.route(['GET', 'POST', 'DELETE'], '/store-gateway/prepare-shutdown', sg.prepareShutdown, { errors: 'text', before: authOperator(api.config) });
  links.push({ section: 'Store-gateway', href: '/store-gateway/tenants', title: 'Tenants' });
}

function registerBlockUpload(api: Api, upload: BlockUploadApi): void {
  const tenant = authSingleTenant(api.config, 'metrics:write');
  const auth = (req: Request): void => {
    tenant(req);
    upload.precheck(req);
  };
  const base = '/api/v1/upload/block/:block';
  // Errors in plain text (http.Error), as Mimir's compactor. Block files are held in memory
  // while they are stored, up to 2 GiB each (Prometheus cuts chunk segments at 512 MiB).
  api.server.route('POST', `${base}/start`, upload.start, {
    before: auth,
    errors: 'text',
    maxBodyBytes: MAX_META_BYTES,
    tooLarge: (limit) => `The block metadata was too large (maximum size allowed is ${limit} bytes)\n`,
  });
  api.server.route('POST', `${base}/files`, upload.files, { before: auth, errors: 'text', maxBodyBytes: 2 * 1024 ** 3 });
  api.server.route('POST', `${base}/finish`, upload.finish, { before: auth, errors: 'text' });
  api.server.route('GET', `${base}/check`, upload.check, { before: auth, errors: 'text' });
}

function registerOtlp(api: Api, otlp: OtlpApi, links: IndexLink[]): void {
  // Errors are google.rpc.Status messages in the request's encoding (the handler and the 413 render
  // them); auth errors stay plain text, as Mimir's auth middleware answers them.
  api.server.route('POST', OTLP_PATH, otlp.handle, {
    before: authSingleTenant(api.config, 'metrics:write'),
    maxBodyBytes: otlp.maxRequestSize,
    tooLarge: otlp.tooLarge,
    tooLargeResponse: otlp.tooLargeResponse,
    errors: 'text',
  });
  links.push({ section: 'Distributor', href: OTLP_PATH, title: 'OTLP metrics endpoint (POST)' });
}

function registerMetricMetadata(api: Api, m: MetricMetadataApi): void {
  const opts: RouteOptions = { before: authTenants(api.config, 'metrics:read'), errors: 'json' };
  for (const base of [api.config.prometheusHttpPrefix, '', legacyPrefix(api.config)]) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/metadata`, m.metadata, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/query_exemplars`, m.queryExemplars, opts);
  }
}

function registerHaTracker(api: Api, ha: HaTracker, links: IndexLink[]): void {
  api.server.route('GET', '/distributor/ha_tracker', ha.status, { before: authOperator(api.config) });
  api.server.route('GET', '/ha-tracker', ha.status, { before: authOperator(api.config) });
  links.push({ section: 'Distributor', href: '/distributor/ha_tracker', title: 'HA tracker status' });
}

function registerUserStats(api: Api, stats: UserStatsApi, links: IndexLink[]): void {
  api.server.route('GET', '/distributor/all_user_stats', stats.allUserStats, { before: authOperator(api.config) });
  api.server.route('GET', '/all_user_stats', stats.allUserStats, { before: authOperator(api.config) });
  api.server.route('GET', '/api/v1/user_stats', stats.userStats, { before: authSingleTenant(api.config, 'metrics:read'), errors: 'text' });
  api.server.route('GET', `${legacyPrefix(api.config)}/user_stats`, stats.userStats, { before: authSingleTenant(api.config, 'metrics:read'), errors: 'text' });
  links.push(
    { section: 'Distributor', href: '/distributor/all_user_stats', title: 'Usage statistics' },
    { section: 'Querier', href: '/api/v1/user_stats', title: 'Tenant ingestion stats (needs X-Scope-OrgID)' },
  );
}

function registerCardinality(api: Api, cardinality: CardinalityApi, links: IndexLink[]): void {
  // Errors in plain text, as Mimir's cardinality handlers (http.Error); one tenant only.
  const opts: RouteOptions = { before: authSingleTenant(api.config, 'metrics:read'), errors: 'text' };
  for (const base of [api.config.prometheusHttpPrefix, '']) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/cardinality/label_names`, cardinality.labelNames, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/cardinality/label_values`, cardinality.labelValues, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/cardinality/active_series`, cardinality.activeSeries, opts);
  }
}

function registerCompactor(api: Api, compactor: CompactorApi, links: IndexLink[]): void {
  // Tenant deletion: plain-text errors, as Mimir's handlers (http.Error); /purger/* are the older paths.
  const opts: RouteOptions = { before: authSingleTenant(api.config, 'metrics:delete'), errors: 'text' };
  for (const base of ['/compactor', '/purger']) {
    api.server.route('POST', `${base}/delete_tenant`, compactor.deleteTenant, opts);
    api.server.route('GET', `${base}/delete_tenant_status`, compactor.deleteTenantStatus, opts);
  }
  api.server.route('GET', '/compactor/tenants', compactor.tenants, { before: authOperator(api.config) });
  api.server.route('GET', '/compactor/tenant/:tenant/planned_jobs', compactor.plannedJobs, { before: authOperator(api.config) });
  links.push({ section: 'Compactor', href: '/compactor/tenants', title: 'Tenants & compaction jobs' });
}

function registerAlertmanager(api: Api, am: AlertmanagerApi, links: IndexLink[]): void {
  const { server, config } = api;
  const m = am.manager;
  const read: RouteOptions = { before: authSingleTenant(config, 'alerts:read'), errors: 'text' };
  const write: RouteOptions = { before: authSingleTenant(config, 'alerts:write'), errors: 'text' };
  // The configuration API (errors in plain text, as Mimir's http.Error).
  server.route('GET', '/api/v1/alerts', m.getUserConfig, read);
  server.route('POST', '/api/v1/alerts', m.setUserConfig, write);
  server.route('DELETE', '/api/v1/alerts', m.deleteUserConfig, write);
  server.route('GET', '/multitenant_alertmanager/status', m.statusPage);
  server.route('GET', '/multitenant_alertmanager/configs', m.listAllConfigs, { before: authOperator(config) });
  // The ring page is the alertmanager ring's (registerRings) when this process follows it.
  if (api.rings?.pages.some((p) => p.paths.includes('/multitenant_alertmanager/ring')) !== true) server.route('GET', '/multitenant_alertmanager/ring', m.ringPage);
  server.route('POST', '/multitenant_alertmanager/delete_tenant_config', m.deleteTenantConfig, { ...write, before: authSingleTenant(config, 'admin') });
  // The tenant's Alertmanager: API v2 and its page.
  const p = flagString(config.values, 'http.alertmanager-http-prefix').replace(/\/$/, '');
  const v2 = `${p}/api/v2`;
  server.route('GET', `${v2}/status`, am.getStatus, read);
  server.route('GET', `${v2}/receivers`, am.getReceivers, read);
  server.route('GET', `${v2}/alerts`, am.getAlerts, read);
  server.route('POST', `${v2}/alerts`, am.postAlerts, write);
  server.route('GET', `${v2}/alerts/groups`, am.getAlertGroups, read);
  server.route('GET', `${v2}/silences`, am.getSilences, read);
  server.route('POST', `${v2}/silences`, am.postSilences, write);
  server.route('GET', `${v2}/silence/:id`, am.getSilence, read);
  server.route('DELETE', `${v2}/silence/:id`, am.deleteSilence, write);
  server.route('GET', `${p}/`, am.page, read);
  server.route('GET', p, am.page, read);
  server.route('GET', `${p}/api/v1/status/buildinfo`, api.ops.buildinfo, { errors: 'json' });
  // Cortex's older paths (its microservices mode): the status page at /status, the UI at the legacy prefix.
  server.route('GET', '/status', m.statusPage);
  server.route('GET', legacyPrefix(config), am.page, read);
  links.push(
    { section: 'Alertmanager', href: '/multitenant_alertmanager/status', title: 'Status' },
    { section: 'Alertmanager', href: '/multitenant_alertmanager/ring', title: 'Ring status' },
    { section: 'Alertmanager', href: `${p}/`, title: 'Alertmanager UI (needs X-Scope-OrgID)' },
  );
}

function registerAdmin(api: Api, admin: AdminApi, links: IndexLink[]): void {
  // GEM's admin API: errors in plain text; with enterprise auth, a token with the admin scope.
  const opts: RouteOptions = { before: authAdmin(api.config), errors: 'text' };
  const base = '/admin/api/v1';
  const { server } = api;
  server.route('GET', `${base}/clusters`, admin.listClusters, opts);
  server.route('GET', `${base}/clusters/:name`, admin.getCluster, opts);
  server.route('GET', `${base}/instances`, admin.listInstances, opts);
  server.route('POST', `${base}/instances`, admin.createInstance, opts);
  server.route('GET', `${base}/instances/:name`, admin.getInstance, opts);
  server.route('PUT', `${base}/instances/:name`, admin.updateInstance, opts);
  server.route('DELETE', `${base}/instances/:name`, admin.deleteInstance, opts);
  server.route('GET', `${base}/accesspolicies`, admin.listAccessPolicies, opts);
  server.route('POST', `${base}/accesspolicies`, admin.createAccessPolicy, opts);
  server.route('GET', `${base}/accesspolicies/:name`, admin.getAccessPolicy, opts);
  server.route('PUT', `${base}/accesspolicies/:name`, admin.updateAccessPolicy, opts);
  server.route('DELETE', `${base}/accesspolicies/:name`, admin.deleteAccessPolicy, opts);
  server.route('GET', `${base}/tokens`, admin.listTokens, opts);
  server.route('POST', `${base}/tokens`, admin.createToken, opts);
  server.route('GET', `${base}/tokens/:name`, admin.getToken, opts);
  server.route('DELETE', `${base}/tokens/:name`, admin.deleteToken, opts);
  server.route('GET', `${base}/licenses`, admin.licenses, opts);
  server.route('GET', `${base}/features`, admin.features, opts);
  links.push({ section: 'Admin API', href: `${base}/instances`, title: 'Instances (GEM admin API)' });
}

function registerConfigs(api: Api, configs: ConfigsApi): void {
  // Cortex's deprecated configs API: every path needs a tenant; errors in plain text (http.Error).
  const base = `${legacyPrefix(api.config)}/configs`;
  const rulesRead: RouteOptions = { before: authSingleTenant(api.config, 'rules:read'), errors: 'text' };
  const rulesWrite: RouteOptions = { before: authSingleTenant(api.config, 'rules:write'), errors: 'text' };
  const alertsRead: RouteOptions = { before: authSingleTenant(api.config, 'alerts:read'), errors: 'text' };
  const alertsWrite: RouteOptions = { before: authSingleTenant(api.config, 'alerts:write'), errors: 'text' };
  api.server.route('GET', `${base}/rules`, configs.getConfig, rulesRead);
  api.server.route('POST', `${base}/rules`, configs.setConfig, rulesWrite);
  api.server.route('GET', `${base}/templates`, configs.getConfig, alertsRead);
  api.server.route('POST', `${base}/templates`, configs.setConfig, alertsWrite);
  api.server.route('GET', `${base}/alertmanager`, configs.getConfig, alertsRead);
  api.server.route('POST', `${base}/alertmanager`, configs.setConfig, alertsWrite);
  api.server.route('POST', `${base}/alertmanager/validate`, configs.validateAlertmanagerConfig, alertsRead);
  api.server.route('DELETE', `${base}/deactivate`, configs.deactivateConfig, rulesWrite);
  api.server.route('POST', `${base}/restore`, configs.restoreConfig, rulesWrite);
}

function registerProfiling(api: Api, p: ProfilingApi, links: IndexLink[]): void {
  const { server } = api;
  const operator: RouteOptions = { before: authOperator(api.config) };
  // As Mimir: /debug/pprof with the instrumentation handlers (-server.register-instrumentation), /debug/fgprof always.
  if (flagBool(api.config.values, 'server.register-instrumentation')) {
    server.route('GET', '/debug/pprof', p.index, operator);
    server.route('GET', '/debug/pprof/', p.index, operator);
    server.route('GET', '/debug/pprof/cmdline', p.cmdline, operator);
    server.route('GET', '/debug/pprof/profile', p.profile, operator);
    server.route('GET', '/debug/pprof/trace', p.trace, operator);
    server.route('GET', '/debug/pprof/heap', p.heap, operator);
    server.route('GET', '/debug/pprof/allocs', p.heap, operator);
    server.route('GET', '/debug/pprof/goroutine', p.goroutine, operator);
    server.route('GET', '/debug/pprof/block', p.block, operator);
    server.route('GET', '/debug/pprof/mutex', p.mutex, operator);
    links.push({ section: 'Admin endpoints', href: '/debug/pprof/', title: 'Profiling (pprof)' });
  }
  server.route('GET', '/debug/fgprof', p.fgprof, operator);
}

function registerOverridesExporter(api: Api, exporter: OverridesExporter, links: IndexLink[]): void {
  api.server.route('GET', '/overrides-exporter/ring', exporter.ringPage);
  links.push({ section: 'Overrides-exporter', href: '/overrides-exporter/ring', title: 'Ring status' });
}

function registerProvisioning(api: Api, p: ProvisioningApi): void {
  const { server, config } = api;
  // Grafana's alerting provisioning API: the organisation is the tenant; rules need the rules
  // scopes, notification objects the alerts scopes. Handlers answer Grafana's JSON errors.
  const rulesRead: RouteOptions = { before: authSingleTenant(config, 'rules:read'), errors: 'text' };
  const rulesWrite: RouteOptions = { before: authSingleTenant(config, 'rules:write'), errors: 'text' };
  const alertsRead: RouteOptions = { before: authSingleTenant(config, 'alerts:read'), errors: 'text' };
  const alertsWrite: RouteOptions = { before: authSingleTenant(config, 'alerts:write'), errors: 'text' };
  const base = '/api/v1/provisioning';
  server.route('GET', `${base}/alert-rules`, p.getAlertRules, rulesRead);
  server.route('POST', `${base}/alert-rules`, p.postAlertRule, rulesWrite);
  server.route('GET', `${base}/alert-rules/export`, p.getAlertRulesExport, rulesRead);
  server.route('GET', `${base}/alert-rules/:uid`, p.getAlertRule, rulesRead);
  server.route('PUT', `${base}/alert-rules/:uid`, p.putAlertRule, rulesWrite);
  server.route('DELETE', `${base}/alert-rules/:uid`, p.deleteAlertRule, rulesWrite);
  server.route('GET', `${base}/alert-rules/:uid/export`, p.getAlertRuleExport, rulesRead);
  server.route('GET', `${base}/folder/:folderUid/rule-groups/:group`, p.getRuleGroup, rulesRead);
  server.route('PUT', `${base}/folder/:folderUid/rule-groups/:group`, p.putRuleGroup, rulesWrite);
  server.route('DELETE', `${base}/folder/:folderUid/rule-groups/:group`, p.deleteRuleGroup, rulesWrite);
  server.route('GET', `${base}/folder/:folderUid/rule-groups/:group/export`, p.getRuleGroupExport, rulesRead);
  server.route('GET', `${base}/contact-points`, p.getContactPoints, alertsRead);
  server.route('POST', `${base}/contact-points`, p.postContactPoint, alertsWrite);
  server.route('GET', `${base}/contact-points/export`, p.getContactPointsExport, alertsRead);
  server.route('PUT', `${base}/contact-points/:uid`, p.putContactPoint, alertsWrite);
  server.route('DELETE', `${base}/contact-points/:uid`, p.deleteContactPoint, alertsWrite);
  server.route('GET', `${base}/policies`, p.getPolicyTree, alertsRead);
  server.route('PUT', `${base}/policies`, p.putPolicyTree, alertsWrite);
  server.route('DELETE', `${base}/policies`, p.resetPolicyTree, alertsWrite);
  server.route('GET', `${base}/policies/export`, p.getPolicyTreeExport, alertsRead);
  server.route('GET', `${base}/templates`, p.getTemplates, alertsRead);
  server.route('GET', `${base}/templates/:name`, p.getTemplate, alertsRead);
  server.route('PUT', `${base}/templates/:name`, p.putTemplate, alertsWrite);
  server.route('DELETE', `${base}/templates/:name`, p.deleteTemplate, alertsWrite);
  server.route('GET', `${base}/mute-timings`, p.getMuteTimings, alertsRead);
  server.route('POST', `${base}/mute-timings`, p.postMuteTiming, alertsWrite);
  server.route('GET', `${base}/mute-timings/export`, p.getMuteTimingsExport, alertsRead);
  server.route('GET', `${base}/mute-timings/:name`, p.getMuteTiming, alertsRead);
  server.route('PUT', `${base}/mute-timings/:name`, p.putMuteTiming, alertsWrite);
  server.route('DELETE', `${base}/mute-timings/:name`, p.deleteMuteTiming, alertsWrite);
  server.route('GET', `${base}/mute-timings/:name/export`, p.getMuteTimingExport, alertsRead);
}

function registerRings(api: Api, rings: RingRoutes, links: IndexLink[]): void {
  const { server, config } = api;
  // Ring pages: GET shows the ring (HTML or JSON); POST forget=<id> removes an instance, an operator action.
  for (const p of rings.pages) {
    for (const path of p.paths) {
      server.route('GET', path, p.handler, { errors: 'text' });
      server.route('POST', path, p.handler, { errors: 'text', before: authOperator(config) });
    }
    links.push({ section: p.section, href: p.paths[0]!, title: 'Ring status' });
  }
  server.route('GET', '/memberlist', rings.memberlist, { errors: 'text' });
  links.push({ section: 'Admin endpoints', href: '/memberlist', title: 'Memberlist cluster (the KV store of the rings)' });
  if (rings.instanceRingDownscale !== undefined) {
    server.route(['GET', 'POST', 'DELETE'], '/ingester/prepare-instance-ring-downscale', rings.instanceRingDownscale, { errors: 'text', before: authOperator(config) });
    server.route(['GET', 'POST', 'DELETE'], '/ingester/prepare-partition-downscale', rings.partitionDownscale, { errors: 'text', before: authOperator(config) });
  }
}
