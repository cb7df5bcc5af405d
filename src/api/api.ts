// api.ts registers every HTTP route of the process, one function per
// component, with the cross-cutting pieces (tenant auth, body limits, error
// format) attached here and nowhere else.

import type { CompactorApi } from '../compactor/http.js';
import type { Config } from '../config/config.js';
import type { Distributor } from '../distributor/distributor.js';
import type { LimitsApi } from '../limits/limits-api.js';
import type { OpsApi } from '../ops/ops.js';
import type { IndexLink } from '../ops/pages.js';
import type { MetadataApi } from '../querier/metadata.js';
import type { QueryApi } from '../querier/query.js';
import type { RemoteReadApi } from '../remote/read-handler.js';
import type { PrometheusRulesApi } from '../ruler/prometheus-api.js';
import type { HttpServer, Request, RouteOptions } from '../server/http.js';
import { ORG_ID_HEADER, joinTenants, requestTenants, singleTenant } from '../tenant/tenant.js';

/** Api is the set of components whose routes get registered. */
export interface Api {
  config: Config;
  server: HttpServer;
  distributor?: Distributor;
  metadata?: MetadataApi;
  query?: QueryApi;
  remoteRead?: RemoteReadApi;
  rules?: PrometheusRulesApi;
  ops: OpsApi;
  limits?: LimitsApi;
  compactor?: CompactorApi;
}

/** authSingleTenant is the auth middleware of writes: exactly one tenant, or 401/422/400. */
function authSingleTenant(config: Config): (req: Request) => void {
  return (req) => {
    req.tenant = singleTenant(req.headers.get(ORG_ID_HEADER), config);
  };
}

/**
 * authTenants is the auth middleware of reads: one tenant, or several joined
 * by `|` when -tenant-federation.enabled is set (401 or 422 otherwise).
 */
function authTenants(config: Config): (req: Request) => void {
  return (req) => {
    req.tenant = joinTenants(requestTenants(req.headers.get(ORG_ID_HEADER), config));
  };
}

/** registerRoutes registers every route and returns the links for the index page. */
export function registerRoutes(api: Api): IndexLink[] {
  const links: IndexLink[] = [];
  registerOps(api, links);
  if (api.limits !== undefined) registerLimits(api, api.limits, links);
  if (api.distributor !== undefined) registerDistributor(api, api.distributor, links);
  if (api.metadata !== undefined) registerQuerier(api, api.metadata, links);
  if (api.query !== undefined) registerPromQL(api, api.query, links);
  if (api.remoteRead !== undefined) registerRemoteRead(api, api.remoteRead);
  if (api.rules !== undefined) registerRuler(api, api.rules, links);
  if (api.compactor !== undefined) registerCompactor(api, api.compactor, links);
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
  api.server.route('GET', '/api/v1/user_limits', limits.userLimits, { before: authSingleTenant(api.config), errors: 'text' });
  links.push(
    { section: 'Admin endpoints', href: '/runtime_config', title: 'Runtime config' },
    { section: 'Admin endpoints', href: '/runtime_config?mode=diff', title: 'Runtime config (including only values that differ from the defaults)' },
  );
}

function registerDistributor(api: Api, distributor: Distributor, links: IndexLink[]): void {
  const opts: RouteOptions = {
    before: authSingleTenant(api.config),
    maxBodyBytes: api.config.maxRecvMsgSize,
    tooLarge: distributor.tooLarge,
    errors: 'text',
  };
  api.server.route('POST', '/api/v1/push', distributor.handlePush, opts);
  api.server.route('POST', '/api/prom/push', distributor.handlePush, opts);
  links.push({ section: 'Distributor', href: '/api/v1/push', title: 'Remote write endpoint (POST)' });
}

function registerQuerier(api: Api, metadata: MetadataApi, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config), errors: 'json' };
  // Mimir serves the Prometheus API under the prefix and, for compatibility, without it.
  for (const base of [api.config.prometheusHttpPrefix, '']) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/series`, metadata.series, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/labels`, metadata.labels, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/label/:name/values`, metadata.labelValues, opts);
  }
  links.push({ section: 'Querier', href: `${api.config.prometheusHttpPrefix}/api/v1/labels`, title: 'Label names (needs X-Scope-OrgID)' });
}

function registerPromQL(api: Api, query: QueryApi, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config), errors: 'json' };
  for (const base of [api.config.prometheusHttpPrefix, '']) {
    api.server.route(['GET', 'POST'], `${base}/api/v1/query`, query.query, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/query_range`, query.queryRange, opts);
    api.server.route(['GET', 'POST'], `${base}/api/v1/format_query`, query.formatQuery, opts);
  }
  links.push({ section: 'Querier', href: `${api.config.prometheusHttpPrefix}/api/v1/query?query=vector(1)`, title: 'PromQL instant query, e.g. vector(1) (needs X-Scope-OrgID)' });
}

function registerRemoteRead(api: Api, remoteRead: RemoteReadApi): void {
  // Errors in plain text, as Prometheus's remote-read handler (http.Error).
  const opts: RouteOptions = { before: authTenants(api.config), maxBodyBytes: api.config.maxRecvMsgSize, errors: 'text' };
  for (const base of [api.config.prometheusHttpPrefix, '']) {
    api.server.route('POST', `${base}/api/v1/read`, remoteRead.read, opts);
  }
}

function registerRuler(api: Api, rules: PrometheusRulesApi, links: IndexLink[]): void {
  const opts: RouteOptions = { before: authTenants(api.config), errors: 'json' };
  const prefix = api.config.prometheusHttpPrefix;
  // Only under the prefix: the unprefixed /api/v1/rules and /api/v1/alerts are the
  // ruler's and Alertmanager's configuration APIs.
  api.server.route('GET', `${prefix}/api/v1/rules`, rules.rules, opts);
  api.server.route('GET', `${prefix}/api/v1/alerts`, rules.alerts, opts);
  links.push({ section: 'Ruler', href: `${prefix}/api/v1/rules`, title: 'Rules (needs X-Scope-OrgID)' });
}

function registerCompactor(api: Api, compactor: CompactorApi, links: IndexLink[]): void {
  // Tenant deletion: plain-text errors, as Mimir's handlers (http.Error); /purger/* are the older paths.
  const opts: RouteOptions = { before: authSingleTenant(api.config), errors: 'text' };
  for (const base of ['/compactor', '/purger']) {
    api.server.route('POST', `${base}/delete_tenant`, compactor.deleteTenant, opts);
    api.server.route('GET', `${base}/delete_tenant_status`, compactor.deleteTenantStatus, opts);
  }
  api.server.route('GET', '/compactor/tenants', compactor.tenants);
  api.server.route('GET', '/compactor/tenant/:tenant/planned_jobs', compactor.plannedJobs);
  links.push({ section: 'Compactor', href: '/compactor/tenants', title: 'Tenants & compaction jobs' });
}
