// metrics.ts declares the ruler's metrics under Mimir's names (Prometheus's
// rule manager metrics with the cortex_ prefix and a `user` label).

import { Counter, Gauge, type Registry } from 'prom-client';

/** RulerMetrics are the ruler's counters and gauges. */
export class RulerMetrics {
  readonly evaluations: Counter<'user' | 'rule_group'>;
  readonly evaluationFailures: Counter<'user' | 'rule_group'>;
  readonly iterationsMissed: Counter<'user' | 'rule_group'>;
  readonly iterationsScheduled: Counter<'user' | 'rule_group'>;
  readonly iterations: Counter<'user' | 'rule_group'>;
  readonly lastDuration: Gauge<'user' | 'rule_group'>;
  readonly lastEvaluation: Gauge<'user' | 'rule_group'>;
  readonly groupRules: Gauge<'user' | 'rule_group'>;
  readonly groupInterval: Gauge<'user' | 'rule_group'>;
  readonly notificationsSent: Counter<'user'>;
  readonly notificationsErrors: Counter<'user'>;
  readonly notificationsDropped: Counter<'user'>;
  readonly syncs: Counter<'reason'>;

  constructor(registry: Registry) {
    const labelNames = ['user', 'rule_group'] as const;
    this.evaluations = new Counter({ name: 'cortex_prometheus_rule_evaluations_total', help: 'The total number of rule evaluations.', labelNames, registers: [registry] });
    this.evaluationFailures = new Counter({ name: 'cortex_prometheus_rule_evaluation_failures_total', help: 'The total number of rule evaluation failures.', labelNames, registers: [registry] });
    this.iterationsMissed = new Counter({ name: 'cortex_prometheus_rule_group_iterations_missed_total', help: 'The total number of rule group evaluations missed due to slow rule group evaluation.', labelNames, registers: [registry] });
    this.iterationsScheduled = new Counter({ name: 'cortex_prometheus_rule_group_iterations_total', help: 'The total number of scheduled rule group evaluations, whether executed or missed.', labelNames, registers: [registry] });
    this.iterations = new Counter({ name: 'cortex_prometheus_rule_group_evaluations_total', help: 'The total number of rule group evaluations run.', labelNames, registers: [registry] });
    this.lastDuration = new Gauge({ name: 'cortex_prometheus_rule_group_last_duration_seconds', help: 'The duration of the last rule group evaluation.', labelNames, registers: [registry] });
    this.lastEvaluation = new Gauge({ name: 'cortex_prometheus_rule_group_last_evaluation_timestamp_seconds', help: 'The timestamp of the last rule group evaluation in seconds.', labelNames, registers: [registry] });
    this.groupRules = new Gauge({ name: 'cortex_prometheus_rule_group_rules', help: 'The number of rules.', labelNames, registers: [registry] });
    this.groupInterval = new Gauge({ name: 'cortex_prometheus_rule_group_interval_seconds', help: 'The interval of a rule group.', labelNames, registers: [registry] });
    this.notificationsSent = new Counter({ name: 'cortex_prometheus_notifications_sent_total', help: 'Total number of alerts sent.', labelNames: ['user'], registers: [registry] });
    this.notificationsErrors = new Counter({ name: 'cortex_prometheus_notifications_errors_total', help: 'Total number of errors sending alert notifications.', labelNames: ['user'], registers: [registry] });
    this.notificationsDropped = new Counter({ name: 'cortex_prometheus_notifications_dropped_total', help: 'Total number of alerts dropped due to errors when sending to Alertmanager.', labelNames: ['user'], registers: [registry] });
    this.syncs = new Counter({ name: 'cortex_ruler_sync_rules_total', help: 'Total number of times the ruler sync operation triggered.', labelNames: ['reason'], registers: [registry] });
  }

  /** forget drops a removed group's series. */
  forget(user: string, ruleGroup: string): void {
    const l = { user, rule_group: ruleGroup };
    for (const m of [this.evaluations, this.evaluationFailures, this.iterationsMissed, this.iterationsScheduled, this.iterations]) m.remove(l);
    for (const m of [this.lastDuration, this.lastEvaluation, this.groupRules, this.groupInterval]) m.remove(l);
  }
}
