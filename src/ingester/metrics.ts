// metrics.ts exposes the head's in-memory figures as Mimir's ingester
// gauges, computed at scrape time from headStats().

import { Gauge, type Registry } from 'prom-client';
import type { HeadStatsSource } from '../storage/native.js';
export type { HeadStatsSource };

/** registerIngesterMetrics adds cortex_ingester_memory_series and cortex_ingester_memory_users. */
export function registerIngesterMetrics(registry: Registry, source: HeadStatsSource): void {
  new Gauge({
    name: 'cortex_ingester_memory_series',
    help: 'The current number of series in memory.',
    registers: [registry],
    collect() {
      this.set(source.headStats().reduce((n, s) => n + s.series, 0));
    },
  });
  new Gauge({
    name: 'cortex_ingester_memory_users',
    help: 'The current number of users in memory.',
    registers: [registry],
    collect() {
      this.set(source.headStats().length);
    },
  });
}
