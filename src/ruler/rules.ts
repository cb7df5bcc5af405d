// rules.ts evaluates one recording or alerting rule as Prometheus 3.x's
// rules package does (rules/recording.go, rules/alerting.go): the query runs
// at the evaluation time minus the group's query offset; recording rules
// rename and relabel the vector; alerting rules keep a state per label set
// (inactive -> pending -> firing, `for`, `keep_firing_for`, resolved alerts
// kept 15 minutes) and produce the ALERTS and ALERTS_FOR_STATE samples.

import { labelsKey } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import type { OutSample, RuleQuerier, Sample } from './eval-io.js';
import type { RuleDef } from './rulefmt.js';
import { seriesKey, type SeriesKey } from './series-key.js';

/** RESOLVED_RETENTION_MS is how long a resolved alert is kept (and re-sent as resolved). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** AlertState is an alert's state, ordered as Prometheus's (inactive < pending < firing). */
export type AlertState = 'inactive' | 'pending' | 'firing';
const STATE_ORDER: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/** RuleHealth is a rule's health as the API reports it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** Alert is one alert of an alerting rule (times in unix ms, 0 = unset). */
export interface Alert {
  labels: Labels;
  annotations: Labels;
  state: AlertState;
  value: number;
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
}

/** TemplateData is what label and annotation templates see. */
export interface TemplateData {
  labels: Labels;
  externalLabels: Labels;
  externalURL: string;
  value: number;
}

/** Expander expands a label or annotation template; it throws with the engine's text on failure. */
export type Expander = (text: string, ctx: { alertName: string; data: TemplateData; tsMs: number; query: (q: string) => Promise<Sample[]> }) => Promise<string>;

/** EvalContext is what a rule evaluation needs from its group. */
export interface EvalContext {
  tenant: string;
  /** queryTenant is the tenant queried: the tenant, or the source tenants joined by `|`. */
  queryTenant: string;
  querier: RuleQuerier;
  queryOffsetMs: number;
  limit: number;
  externalLabels: Labels;
  externalURL: string;
  expand: Expander;
}

/** NOT_A_VECTOR is Prometheus's EngineQueryFunc error for other result types. */
export const NOT_A_VECTOR = 'rule result is not a vector or scalar';

/** ERR_DUPLICATE_RECORDING and ERR_DUPLICATE_ALERT are Prometheus's texts. */
export const ERR_DUPLICATE_RECORDING = 'vector contains metrics with the same labelset after applying rule labels';
export const ERR_DUPLICATE_ALERT = 'vector contains metrics with the same labelset after applying alert labels';

/** BaseRule holds what both kinds share: health, last error, timings. */
abstract class BaseRule {
  health: RuleHealth = 'unknown';
  lastError = '';
  /** lastEvaluation is the wall-clock start of the last evaluation (ms, 0 = never). */
  lastEvaluation = 0;
  /** evaluationSeconds is how long the last evaluation took. */
  evaluationSeconds = 0;

  constructor(readonly def: RuleDef) {}

  abstract get name(): string;

  /** eval runs the rule at the group's evaluation time ts and returns the samples to append. */
  abstract eval(ts: number, ctx: EvalContext): Promise<OutSample[]>;
}

/** RecordingRule writes its expression's result under a new metric name. */
export class RecordingRule extends BaseRule {
  get name(): string {
    return this.def.record;
  }

  async eval(ts: number, ctx: EvalContext): Promise<OutSample[]> {
    const vector = await ctx.querier.instant(ctx.queryTenant, this.def.expr, ts - ctx.queryOffsetMs);
    const out: OutSample[] = [];
    const seen = new Set<string>();
    for (const s of vector) {
      // This per-rule path (queriers without batch support, as in unit tests) leaves native histogram
      // results out; the batch path (batch-eval.ts) records them.
      if (s.histogram === true) continue;
      const metric: Labels = { ...s.metric, __name__: this.def.record, ...this.def.labels };
      for (const [k, v] of Object.entries(metric)) if (v === '') delete metric[k];
      const key = labelsKey(metric);
      if (seen.has(key)) throw new Error(ERR_DUPLICATE_RECORDING);
      seen.add(key);
      out.push({ metric, tsMs: s.tsMs, value: s.value });
    }
    if (ctx.limit > 0 && out.length > ctx.limit) throw new Error(`exceeded limit of ${ctx.limit} with ${out.length} series`);
    return out;
  }
}

/** AlertingRule tracks the alerts its expression raises. */
export class AlertingRule extends BaseRule {
  /** active maps each alert's label-set key to the alert. */
  active = new Map<string, Alert>();
  /** restored turns true once the `for` state was restored (until then no ALERTS series are written). */
  restored = false;
  /** labelNames and annotationNames are the definition's template names, sorted once. */
  private readonly labelNames = Object.keys(this.def.labels).sort();
  private readonly annotationNames = Object.keys(this.def.annotations).sort();
  /** written caches each alert's ALERTS and ALERTS_FOR_STATE series (an alert's labels never change; its state does). */
  private written = new WeakMap<Alert, { state: AlertState; alerts: Labels; alertsKey: SeriesKey; forState: Labels; forStateKey: SeriesKey }>();

  get name(): string {
    return this.def.alert;
  }

  /** state is the rule's state: the highest of its alerts'. */
  get state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) if (STATE_ORDER[a.state] > STATE_ORDER[s]) s = a.state;
    return s;
  }

  async eval(ts: number, ctx: EvalContext): Promise<OutSample[]> {
    return this.process(ts, ctx, await ctx.querier.instant(ctx.queryTenant, this.def.expr, ts - ctx.queryOffsetMs));
  }

  /** process updates the alerts from the expression's result res (evaluated at ts minus the query offset) and returns the ALERTS samples. */
  async process(ts: number, ctx: EvalContext, res: Sample[]): Promise<OutSample[]> {
    const queryTs = ts - ctx.queryOffsetMs;
    const query = (q: string): Promise<Sample[]> => ctx.querier.instant(ctx.queryTenant, q, ts);
    const alerts = new Map<string, Alert>();
    for (const smpl of res) {
      const data: TemplateData = { labels: smpl.metric, externalLabels: ctx.externalLabels, externalURL: ctx.externalURL, value: smpl.value };
      const expand = async (text: string): Promise<string> => {
        try {
          return await ctx.expand(text, { alertName: this.def.alert, data, tsMs: ts, query });
        } catch (err) {
          return `<error expanding template: ${err instanceof Error ? err.message : String(err)}>`;
        }
      };
      const labels: Labels = { ...smpl.metric };
      delete labels.__name__;
      for (const k of this.labelNames) labels[k] = await expand(this.def.labels[k]!);
      labels.alertname = this.def.alert;
      for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
      const annotations: Labels = {};
      for (const k of this.annotationNames) annotations[k] = await expand(this.def.annotations[k]!);
      const key = labelsKey(labels);
      if (alerts.has(key)) throw new Error(ERR_DUPLICATE_ALERT);
      alerts.set(key, { labels, annotations, state: 'pending', value: smpl.value, activeAt: ts, firedAt: 0, resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0 });
    }
    for (const [key, a] of alerts) {
      const existing = this.active.get(key);
      if (existing !== undefined && existing.state !== 'inactive') {
        existing.value = a.value;
        existing.annotations = a.annotations;
        continue;
      }
      this.active.set(key, a);
    }
    const out: OutSample[] = [];
    let numActivePending = 0;
    const holdMs = this.def.forMs;
    for (const [key, a] of [...this.active]) {
      if (!alerts.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.def.keepFiringForMs > 0) {
          if (a.keepFiringSince === 0) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.def.keepFiringForMs) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) this.active.delete(key);
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = 0;
      }
      numActivePending++;
      if (a.state === 'pending' && ts - a.activeAt >= holdMs) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      if (a.state === 'firing' && ts - a.activeAt < holdMs) {
        a.state = 'pending';
        a.firedAt = 0;
        a.lastSentAt = 0;
        a.keepFiringSince = 0;
      }
      if (this.restored) {
        let w = this.written.get(a);
        if (w === undefined || w.state !== a.state) {
          const alerts = this.alertSeries(a, 'ALERTS', a.state);
          const forState = w?.forState ?? this.alertSeries(a, 'ALERTS_FOR_STATE');
          w = { state: a.state, alerts, alertsKey: seriesKey(alerts), forState, forStateKey: w?.forStateKey ?? seriesKey(forState) };
          this.written.set(a, w);
        }
        out.push({ metric: w.alerts, key: w.alertsKey, tsMs: queryTs, value: 1 });
        out.push({ metric: w.forState, key: w.forStateKey, tsMs: queryTs, value: Math.floor(a.activeAt / 1000) });
      }
    }
    if (ctx.limit > 0 && numActivePending > ctx.limit) {
      this.active = new Map();
      throw new Error(`exceeded limit of ${ctx.limit} with ${numActivePending} alerts`);
    }
    return out;
  }

  /** alertSeries is the labels of an ALERTS (with alertstate) or ALERTS_FOR_STATE sample. */
  alertSeries(a: Alert, metric: 'ALERTS' | 'ALERTS_FOR_STATE', state?: AlertState): Labels {
    const ls: Labels = { ...this.def.labels, ...a.labels, __name__: metric, alertname: this.def.alert };
    if (state !== undefined) ls.alertstate = state;
    for (const [k, v] of Object.entries(ls)) if (v === '') delete ls[k];
    return ls;
  }

  /**
   * alertsToSend marks and returns the alerts due to the Alertmanager at ts: firing ones not sent
   * within resendDelay, and ones resolved since they were last sent.
   */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      const due = a.resolvedAt > a.lastSentAt || a.lastSentAt === 0 || a.lastSentAt + resendDelayMs < ts;
      if (!due) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * Math.max(resendDelayMs, intervalMs);
      out.push({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } });
    }
    return out;
  }
}

/** Rule is either kind. */
export type Rule = RecordingRule | AlertingRule;

/** newRule builds the rule a definition describes. */
export function newRule(def: RuleDef): Rule {
  return def.alert !== '' ? new AlertingRule(def) : new RecordingRule(def);
}
