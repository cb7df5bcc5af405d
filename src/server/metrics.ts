// metrics.ts holds the HTTP metrics: cortex_request_duration_seconds by
// method, route (Mimir's route label: the path pattern made label-safe) and
// status code.

import { Histogram, type Registry } from 'prom-client';
import type { HttpServer } from './http.js';

/** routeLabel turns `/api/v1/label/:name/values` into `api_v1_label_name_values`, as Mimir's route names. */
export function routeLabel(pattern: string): string {
  return pattern.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase() || 'root';
}

/** instrumentServer records every request's duration in the registry. */
export function instrumentServer(server: HttpServer, registry: Registry): void {
  const duration = new Histogram({
    name: 'cortex_request_duration_seconds',
    help: 'Time (in seconds) spent serving HTTP requests.',
    labelNames: ['method', 'route', 'status_code', 'ws'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100],
    registers: [registry],
  });
  server.onRequest((method, route, status, seconds) => {
    duration.observe({ method, route: routeLabel(route), status_code: String(status), ws: 'false' }, seconds);
  });
}
