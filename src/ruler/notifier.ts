// notifier.ts sends alerts to Alertmanagers as Prometheus's notifier does:
// one queue per tenant (oldest dropped beyond -ruler.notification-queue-capacity),
// drained in batches of up to 64 alerts POSTed as JSON to
// `<url>/api/v2/alerts` of every -ruler.alertmanager-url, with the tenant in
// X-Scope-OrgID (so the multi-tenant Alertmanager files them under it).

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Labels } from '../promql/engine/types.js';
import type { Logger } from '../log.js';
import { queryEscape } from '../template/index.js';
import { goTime } from './go-format.js';
import type { RulerMetrics } from './metrics.js';
import type { Alert } from './rules.js';

/** PostableAlert is Alertmanager API v2's postableAlert as Prometheus sends it. */
export interface PostableAlert {
  annotations: Labels;
  endsAt: string;
  startsAt: string;
  generatorURL: string;
  labels: Labels;
}

/** MAX_BATCH is Prometheus's maxBatchSize. */
const MAX_BATCH = 64;

/** generatorURL is Prometheus's TableLinkForExpression under the external URL. */
export function generatorURL(externalURL: string, expr: string): string {
  return `${externalURL.replace(/\/$/, '')}/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`;
}

/** toPostable converts a rule's alert as Prometheus's SendAlerts does. */
export function toPostable(a: Alert, expr: string, externalURL: string, externalLabels: Labels): PostableAlert {
  const labels: Labels = { ...a.labels };
  for (const [k, v] of Object.entries(externalLabels)) if (labels[k] === undefined) labels[k] = v;
  return {
    annotations: a.annotations,
    endsAt: goTime(a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil),
    startsAt: goTime(a.firedAt),
    generatorURL: generatorURL(externalURL, expr),
    labels,
  };
}

/** NotifierOptions configure the notifier. */
export interface NotifierOptions {
  urls: string[];
  timeoutMs: number;
  queueCapacity: number;
  externalURL: string;
  /** externalLabels are a tenant's external labels, added to its alerts that lack them. */
  externalLabels: (tenant: string) => Labels;
  metrics: RulerMetrics;
  logger: Logger;
}

/** Notifier queues and delivers alerts per tenant. */
export class Notifier {
  private readonly queues = new Map<string, PostableAlert[]>();
  private readonly draining = new Map<string, Promise<void>>();

  constructor(private readonly opts: NotifierOptions) {}

  /** enabled says whether any Alertmanager is configured. */
  get enabled(): boolean {
    return this.opts.urls.length > 0;
  }

  /** send queues a rule's due alerts for the tenant and starts delivery. */
  send(tenant: string, expr: string, alerts: Alert[]): void {
    if (!this.enabled || alerts.length === 0) return;
    const q = this.queues.get(tenant) ?? [];
    const external = this.opts.externalLabels(tenant);
    for (const a of alerts) q.push(toPostable(a, expr, this.opts.externalURL, external));
    const over = q.length - this.opts.queueCapacity;
    if (over > 0) {
      q.splice(0, over);
      this.opts.metrics.notificationsDropped.inc({ user: tenant }, over);
    }
    this.queues.set(tenant, q);
    if (!this.draining.has(tenant)) {
      const p = this.drain(tenant).finally(() => this.draining.delete(tenant));
      this.draining.set(tenant, p);
    }
  }

  private async drain(tenant: string): Promise<void> {
    for (let rounds = 0; rounds < 1_000_000; rounds++) {
      const q = this.queues.get(tenant);
      if (q === undefined || q.length === 0) return;
      const batch = q.splice(0, MAX_BATCH);
      const body = JSON.stringify(batch);
      let delivered = false;
      for (const url of this.opts.urls) {
        try {
          await this.post(`${url.replace(/\/$/, '')}/api/v2/alerts`, tenant, body);
          delivered = true;
        } catch (err) {
          this.opts.metrics.notificationsErrors.inc({ user: tenant });
          this.opts.logger.error('Error sending alerts', { user: tenant, alertmanager: url, count: batch.length, err: err instanceof Error ? err.message : String(err) });
        }
      }
      if (delivered) this.opts.metrics.notificationsSent.inc({ user: tenant }, batch.length);
      else this.opts.metrics.notificationsDropped.inc({ user: tenant }, batch.length);
    }
  }

  private post(url: string, tenant: string, body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-Scope-OrgID': tenant, 'User-Agent': 'mimir-ruler' },
          timeout: this.opts.timeoutMs,
          ...(u.username !== '' ? { auth: `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`bad response status ${res.statusMessage ?? status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** flush waits until every queue is drained (shutdown, tests). */
  async flush(): Promise<void> {
    for (let i = 0; i < 100 && this.draining.size > 0; i++) await Promise.all([...this.draining.values()]);
  }
}
