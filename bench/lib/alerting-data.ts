// alerting-data.ts is the alerting benchmarks' input: the configuration and
// the seeded alerts that bench/alerting.ts and bench/alerting-heap.ts share.

import { Rng } from './prng.js';

/** alertingConfig is the benchmark's Alertmanager configuration: a route tree by team and severity, webhook receivers under hook, one inhibit rule. */
export function alertingConfig(hook: string): string {
  return `global: {resolve_timeout: 5m}
route:
  receiver: default
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['bench="latency"']
      receiver: latency
      group_by: ['...']
      group_wait: 0s
    - matchers: ['severity="critical"']
      receiver: pager
      routes:
        - matchers: ['team=~"db|storage"']
          receiver: db-pager
    - matchers: ['team="web"']
      receiver: web
      continue: true
    - matchers: ['team=~"web|api"', 'severity!="info"']
      receiver: api
receivers:
  - name: default
    webhook_configs: [{url: '${hook}/default'}]
  - name: latency
    webhook_configs: [{url: '${hook}/latency'}]
  - name: pager
    webhook_configs: [{url: '${hook}/pager'}]
  - name: db-pager
    webhook_configs: [{url: '${hook}/db-pager'}]
  - name: web
    webhook_configs: [{url: '${hook}/web'}]
  - name: api
    webhook_configs: [{url: '${hook}/api'}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, cluster, instance]
`;
}

/** generateAlerts makes n alerts with labels like a Prometheus fleet's (fixed seed). */
export function generateAlerts(n: number, seed: number): Array<Record<string, unknown>> {
  const rng = new Rng(seed);
  const names = ['HighLatency', 'HighErrorRate', 'DiskFull', 'NodeDown', 'TargetDown', 'CPUThrottling', 'MemoryPressure', 'CertExpiry'];
  const teams = ['db', 'storage', 'web', 'api', 'infra'];
  const sev = ['critical', 'warning', 'info'];
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const pick = <T>(xs: T[]): T => rng.pick(xs);
    out.push({
      labels: { alertname: pick(names), cluster: `c${rng.int(20)}`, instance: `10.0.${Math.floor(i / 250)}.${i % 250}:9100`, job: 'node', severity: pick(sev), team: pick(teams) },
      annotations: { summary: `alert ${i}`, runbook_url: 'https://runbooks.example/alert' },
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    });
  }
  return out;
}
