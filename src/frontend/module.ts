// module.ts wires the query-frontend from the flags: in front of the
// queriers' executor when splitting (-query-frontend.split-queries-by-interval),
// the results cache (-query-frontend.cache-results) or query sharding
// (-query-frontend.parallelize-shardable-queries) is on, with Mimir's
// frontend metrics registered where the process's other metrics are.

import { Counter, Histogram, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { QueryExecutor } from '../querier/query-executor.js';
import type { QueryLimitsSource } from '../querier/query-limits.js';
import { InMemoryCache, type Cache } from './cache.js';
import { QueryFrontend } from './frontend.js';
import { downstreamExecutor } from './downstream.js';
import { MemcachedClient } from './memcache.js';
import { QuerySharding, type QueryShardingMetrics } from './query-sharding.js';
import { ResultsCache } from './results-cache.js';
import { flagBool, flagNumber, flagString } from '../config/config.js';

/** frontendEnabled reports whether any query-frontend feature is on. */
export function frontendEnabled(config: Config): boolean {
  return (
    flagNumber(config.values, 'query-frontend.split-queries-by-interval') > 0 ||
    flagBool(config.values, 'query-frontend.cache-results') ||
    flagBool(config.values, 'query-frontend.parallelize-shardable-queries')
  );
}

/** withFrontend puts the query-frontend in front of inner when enabled, else returns inner. */
export function withFrontend(config: Config, inner: QueryExecutor, limits: QueryLimitsSource, registry: Registry): QueryExecutor {
  if (!frontendEnabled(config)) return inner;
  const splitQueries = new Counter({
    name: 'cortex_frontend_split_queries_total',
    help: 'Total number of underlying query requests after the split by interval is applied.',
    registers: [registry],
  });
  const splitIntervalMs = flagNumber(config.values, 'query-frontend.split-queries-by-interval');
  const cache = resultsCacheBackend(config);
  const resultsCache =
    cache === undefined
      ? undefined
      : new ResultsCache({
          cache,
          splitIntervalMs,
          limits,
          requests: new Counter({ name: 'cortex_frontend_query_result_cache_requests_total', help: 'Total number of requests (or partial requests) looked up in the results cache.', labelNames: ['request_type'], registers: [registry] }).labels('query_range'),
          hits: new Counter({ name: 'cortex_frontend_query_result_cache_hits_total', help: 'Total number of requests (or partial requests) fetched from the results cache.', labelNames: ['request_type'], registers: [registry] }).labels('query_range'),
        });
  const sharding = flagBool(config.values, 'query-frontend.parallelize-shardable-queries') ? new QuerySharding({ limits, metrics: shardingMetrics(registry) }) : undefined;
  const frontend = new QueryFrontend(inner, {
    splitIntervalMs,
    alignWithStep: flagBool(config.values, 'query-frontend.align-queries-with-step'),
    limits,
    splitQueries,
    ...(resultsCache !== undefined ? { resultsCache } : {}),
    ...(sharding !== undefined ? { sharding } : {}),
  });
  if (cache !== undefined) {
    const close = frontend.close.bind(frontend);
    frontend.close = async () => {
      await cache.close();
      await close();
    };
  }
  return frontend;
}

/** shardingMetrics registers Mimir's query sharding metrics. */
function shardingMetrics(registry: Registry): QueryShardingMetrics {
  return {
    attempts: new Counter({ name: 'cortex_frontend_query_sharding_rewrites_attempted_total', help: 'Total number of queries the query-frontend attempted to shard.', registers: [registry] }),
    successes: new Counter({ name: 'cortex_frontend_query_sharding_rewrites_succeeded_total', help: 'Total number of queries the query-frontend successfully rewritten in a shardable way.', registers: [registry] }),
    shardedQueries: new Counter({ name: 'cortex_frontend_sharded_queries_total', help: 'Total number of sharded queries.', registers: [registry] }),
    perQuery: new Histogram({ name: 'cortex_frontend_sharded_queries_per_query', help: 'Number of sharded queries a single query has been rewritten to.', buckets: [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [registry] }),
  };
}

/** resultsCacheBackend builds the configured results cache backend, or undefined when caching is off. */
export function resultsCacheBackend(config: Config): Cache | undefined {
  if (!flagBool(config.values, 'query-frontend.cache-results')) return undefined;
  const backend = flagString(config.values, 'query-frontend.results-cache.backend');
  if (backend === 'inmemory') return new InMemoryCache(flagNumber(config.values, 'query-frontend.results-cache.inmemory.max-size-bytes'));
  if (backend === 'memcached') {
    const addresses = flagString(config.values, 'query-frontend.results-cache.memcached.addresses')
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (addresses.length === 0) throw new Error('-query-frontend.results-cache.memcached.addresses must be set when the results cache backend is memcached');
    return new MemcachedClient({
      addresses,
      timeoutMs: flagNumber(config.values, 'query-frontend.results-cache.memcached.timeout'),
      maxIdleConnections: flagNumber(config.values, 'query-frontend.results-cache.memcached.max-idle-connections'),
      maxItemSize: flagNumber(config.values, 'query-frontend.results-cache.memcached.max-item-size'),
    });
  }
  throw new Error('-query-frontend.cache-results needs -query-frontend.results-cache.backend (memcached or inmemory)');
}

/** standaloneDownstream is the executor of -target=query-frontend: the queriers at -query-frontend.downstream-url. */
export function standaloneDownstream(config: Config): QueryExecutor {
  const url = flagString(config.values, 'query-frontend.downstream-url');
  if (url === '') throw new Error('-target=query-frontend needs -query-frontend.downstream-url (the queriers\' HTTP address) or query-schedulers (-query-frontend.scheduler-address, or -query-scheduler.service-discovery-mode=ring)');
  return downstreamExecutor(url, config.prometheusHttpPrefix);
}
