// module.ts wires the query-frontend from the flags: in front of the
// queriers' executor when splitting (-query-frontend.split-queries-by-interval)
// or the results cache (-query-frontend.cache-results) is on, with Mimir's
// frontend metrics registered where the process's other metrics are.

import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { QueryExecutor } from '../querier/query-executor.js';
import type { QueryLimitsSource } from '../querier/query-limits.js';
import { QueryFrontend } from './frontend.js';

/** frontendEnabled reports whether any query-frontend feature is on. */
export function frontendEnabled(config: Config): boolean {
  return Number(config.values.get('query-frontend.split-queries-by-interval')) > 0 || config.values.get('query-frontend.cache-results') === true;
}

/** withFrontend puts the query-frontend in front of inner when enabled, else returns inner. */
export function withFrontend(config: Config, inner: QueryExecutor, limits: QueryLimitsSource, registry: Registry): QueryExecutor {
  if (!frontendEnabled(config)) return inner;
  const splitQueries = new Counter({
    name: 'cortex_frontend_split_queries_total',
    help: 'Total number of underlying query requests after the split by interval is applied.',
    registers: [registry],
  });
  return new QueryFrontend(inner, {
    splitIntervalMs: Number(config.values.get('query-frontend.split-queries-by-interval')),
    alignWithStep: config.values.get('query-frontend.align-queries-with-step') === true,
    limits,
    splitQueries,
  });
}
