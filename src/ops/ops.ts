// ops.ts answers the endpoints every service has: /ready, /metrics,
// /config, /services, the build information, and the index page.

import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { flagStrings, renderConfigYaml, type RenderMode } from '../config/config.js';
import { badData, successEnvelope } from '../errors.js';
import type { Request } from '../server/http.js';
import { CONTENT_TYPE, type Response } from '../server/response.js';
import type { ServiceManager } from '../services/services.js';
import { indexPage, servicesPage, type IndexLink } from './pages.js';

/** OpsApi holds what the operational endpoints read. */
export class OpsApi {
  /** checks are components' own readiness conditions: each returns why it is not ready, or undefined. */
  private readonly checks: Array<() => string | undefined> = [];

  constructor(
    private readonly config: Config,
    private readonly registry: Registry,
    private readonly services: ServiceManager,
    private readonly links: () => IndexLink[],
  ) {}

  /** ready answers /ready: 200 "ready" once every service runs. */
  readonly ready = (_req: Request, res: Response): void => {
    const waiting = this.services.notRunning();
    if (waiting.length === 0) {
      for (const check of this.checks) {
        const why = check();
        if (why !== undefined) {
          res.text(503, why + '\n');
          return;
        }
      }
      res.text(200, 'ready\n');
      return;
    }
    res.text(503, 'Some services are not Running:\n' + waiting.map(([n, s]) => `${s}: 1 (${n})`).join('\n') + '\n');
  };

  /** addReadinessCheck adds a component's condition to /ready (checked once every service runs). */
  addReadinessCheck(check: () => string | undefined): void {
    this.checks.push(check);
  }

  /** metrics answers /metrics in the Prometheus text format. */
  readonly metrics = async (_req: Request, res: Response): Promise<void> => {
    const body = await this.registry.metrics();
    res.send(200, body, this.registry.contentType);
  };

  /** config answers /config with the effective, diff or default configuration as YAML. */
  readonly configYaml = (req: Request, res: Response): void => {
    const mode = req.query.get('mode') ?? '';
    let render: RenderMode;
    if (mode === '') render = 'values';
    else if (mode === 'diff' || mode === 'defaults') render = mode;
    else throw badData(`unknown value for mode query parameter: ${mode}`);
    res.send(200, renderConfigYaml(this.config.values, render), CONTENT_TYPE.text);
  };

  /** services answers /services with every service's state. */
  readonly servicesPage = (req: Request, res: Response): void => {
    if ((req.headers.get('accept') ?? '').startsWith('text/plain')) {
      res.text(200, this.services.list().map(([n, s]) => `${n}: ${s}`).join('\n') + '\n');
      return;
    }
    res.send(200, servicesPage(this.services.list()), CONTENT_TYPE.html);
  };

  /** statusConfig answers /api/v1/status/config in Prometheus's shape: the effective configuration as YAML, secrets masked. */
  readonly statusConfig = (_req: Request, res: Response): void => {
    res.json(200, successEnvelope({ yaml: renderConfigYaml(this.config.values, 'values') }));
  };

  /** statusFlags answers /api/v1/status/flags in Prometheus's shape: every flag's effective value as a string. */
  readonly statusFlags = (_req: Request, res: Response): void => {
    res.json(200, successEnvelope(flagStrings(this.config.values)));
  };

  /** buildinfo answers /api/v1/status/buildinfo as Mimir does. */
  readonly buildinfo = (_req: Request, res: Response): void => {
    res.json(200, successEnvelope(buildInfo()));
  };

  /** index answers / with a page linking the other endpoints. */
  readonly index = (_req: Request, res: Response): void => {
    res.send(200, indexPage(this.links()), CONTENT_TYPE.html);
  };
}

/** BuildInfo is Mimir's buildinfo data object. */
export interface BuildInfo {
  application: string;
  version: string;
  revision: string;
  branch: string;
  goVersion: string;
  buildUser: string;
  buildDate: string;
  features: Record<string, string>;
}

/**
 * FEATURES says which optional APIs exist. Values are strings, as Mimir's;
 * each turns "true" only once the endpoint works (Grafana acts on them).
 */
export const FEATURES: Readonly<Record<string, string>> = {
  ruler_config_api: 'true',
  alertmanager_config_api: 'true',
  query_sharding: 'false',
  federated_rules: 'false',
};

let cached: BuildInfo | undefined;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** SEMVER matches a semantic version (2.0.0), which Grafana parses data.version as. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** isSemver tells whether s is a valid semantic version. */
export function isSemver(s: string): boolean {
  return SEMVER.test(s);
}

/** buildVersion is BUILD_VERSION (a leading v dropped) when it is semver, else package.json's version. */
function buildVersion(): string {
  const env = process.env.BUILD_VERSION?.replace(/^v/, '');
  if (env !== undefined && isSemver(env)) return env;
  const pkg = packageVersion();
  return isSemver(pkg) ? pkg : '0.0.0';
}

/** buildInfo returns the process's build information (environment overrides for packaging). */
export function buildInfo(): BuildInfo {
  cached ??= {
    application: 'Grafana Mimir',
    version: buildVersion(),
    revision: process.env.BUILD_REVISION ?? 'unknown',
    branch: process.env.BUILD_BRANCH ?? 'unknown',
    goVersion: `node${process.versions.node}`,
    buildUser: process.env.BUILD_USER ?? 'unknown',
    buildDate: process.env.BUILD_DATE ?? 'unknown',
    features: { ...FEATURES },
  };
  return cached;
}
