// group.ts runs one rule group as Prometheus 3.x's rules.Group does: the
// first evaluation at the group's slot (its interval, offset by a hash of
// file and name, or aligned on the interval), then one per interval; an
// evaluation that overruns skips the slots it missed (counted, never
// bunched). Rules run in order; each rule's results are appended for the
// tenant, series that a rule stopped returning get a stale marker, alerts
// due are handed to the notifier, and after the first evaluation the `for`
// state of alerting rules is restored from ALERTS_FOR_STATE.

import { labelsKey, xxhash64 } from '../promql/engine/labels.js';
import type { Labels } from '../promql/engine/types.js';
import type { Logger } from '../log.js';
import { failureError } from '../querier/query.js';
import { histogramBodies, planBatches, type RecordedHistograms, type RuleQueryAnswer, type RuleQueryItem } from './batch-eval.js';
import type { OutSample, RuleAppender, RuleQuerier, Sample } from './eval-io.js';
import type { RuleGroupDef } from './rulefmt.js';
import { AlertingRule, newRule, type Alert, type EvalContext, type Expander, type Rule } from './rules.js';
import type { RulerMetrics } from './metrics.js';
import { encodeKeyedSamples, labelsOfKey, seriesKey, type SeriesKey } from './series-key.js';

/** GroupOptions are the ruler-wide settings a group runs with. */
export interface GroupOptions {
  querier: RuleQuerier;
  appender: RuleAppender;
  expand: Expander;
  metrics: RulerMetrics;
  logger: Logger;
  defaultIntervalMs: number;
  resendDelayMs: number;
  outageToleranceMs: number;
  forGracePeriodMs: number;
  externalURL: string;
  /** externalLabels are the tenant's external labels (`ruler_external_labels`), for $externalLabels. */
  externalLabels: (tenant: string) => Labels;
  /** notify receives the alerts due for the Alertmanager (with the expression they come from). */
  notify: (tenant: string, expr: string, alerts: Alert[]) => void;
  now?: () => number;
}

/** groupSlotOffset is Prometheus's Group.hash() % interval: xxhash of the labels {file, name} in the stringlabels layout. */
export function groupSlotOffsetMs(file: string, name: string, intervalMs: number): number {
  const parts: Buffer[] = [];
  for (const s of ['file', file, 'name', name]) {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 255) parts.push(Buffer.from([b.length]));
    else parts.push(Buffer.from([255, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff]));
    parts.push(b);
  }
  const h = xxhash64(Buffer.concat(parts));
  const intervalNs = BigInt(Math.round(intervalMs)) * 1_000_000n;
  return Number(h % intervalNs) / 1e6;
}

/** evalTimestamp is the group's last slot at or before nowMs (Prometheus's EvalTimestamp, in ms). */
export function evalTimestamp(nowMs: number, intervalMs: number, offsetMs: number): number {
  const adj = nowMs - offsetMs;
  const base = adj - (((adj % intervalMs) + intervalMs) % intervalMs);
  return base + offsetMs;
}

/** RuleGroup is a running group of one tenant. */
export class RuleGroup {
  readonly rules: Rule[];
  readonly intervalMs: number;
  /** seriesInPreviousEval holds, per rule, the keys of the series appended by its last successful evaluation. */
  private seriesInPreviousEval: Array<Set<SeriesKey>>;
  /** batches are the runs of rules evaluated in one worker task (planBatches), computed once per group version. */
  private readonly batches: number[][];
  /** items are the rules' queries as batch items, built once per group version. */
  private readonly items: RuleQueryItem[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private shouldRestore = true;
  /** staleSeries are series of rules removed by a reload, marked stale after the next evaluation (Prometheus's cleanupStaleSeries). */
  private staleSeries: SeriesKey[] = [];
  /** lastEvaluation is the wall-clock start of the last iteration (ms, 0 = never). */
  lastEvaluation = 0;
  /** evaluationSeconds is how long the last iteration took. */
  evaluationSeconds = 0;
  /** lastEvalTimestamp is the slot time of the last iteration. */
  lastEvalTimestamp = 0;
  private readonly now: () => number;

  constructor(
    readonly tenant: string,
    readonly namespace: string,
    readonly def: RuleGroupDef,
    private readonly opts: GroupOptions,
    /** restoreFrom carries the state of the group this one replaces (same file and name). */
    previous?: RuleGroup,
  ) {
    this.intervalMs = def.intervalMs > 0 ? def.intervalMs : opts.defaultIntervalMs;
    this.rules = def.rules.map(newRule);
    this.seriesInPreviousEval = this.rules.map(() => new Set());
    this.batches = planBatches(this.rules.map((r) => ({ expr: r.def.expr, writes: r instanceof AlertingRule ? ['ALERTS', 'ALERTS_FOR_STATE'] : [r.def.record] })));
    this.items = this.rules.map((r) =>
      r instanceof AlertingRule
        ? { query: r.def.expr }
        : { query: r.def.expr, record: r.def.record, labels: Object.keys(r.def.labels).sort().map((k) => [k, r.def.labels[k]!] as [string, string]) },
    );
    this.now = opts.now ?? Date.now;
    if (previous !== undefined) this.copyState(previous);
  }

  /** key is `<namespace>;<name>`, the rule_group label of the ruler metrics (Prometheus's GroupKey). */
  get key(): string {
    return `${this.namespace};${this.def.name}`;
  }

  get queryOffsetMs(): number {
    return this.def.queryOffsetMs ?? this.def.evaluationDelayMs ?? 0;
  }

  /** copyState takes over alert state and appended series of rules that stayed the same (Prometheus's CopyState). */
  private copyState(from: RuleGroup): void {
    this.shouldRestore = from.shouldRestore;
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationSeconds = from.evaluationSeconds;
    const byIdentity = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const id = ruleIdentity(r);
      byIdentity.set(id, [...(byIdentity.get(id) ?? []), i]);
    });
    const taken = new Set<number>();
    this.rules.forEach((r, i) => {
      const list = byIdentity.get(ruleIdentity(r));
      if (list === undefined || list.length === 0) return;
      const j = list.shift()!;
      taken.add(j);
      const old = from.rules[j]!;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[j]!;
      r.health = old.health;
      r.lastError = old.lastError;
      r.lastEvaluation = old.lastEvaluation;
      r.evaluationSeconds = old.evaluationSeconds;
      if (r instanceof AlertingRule && old instanceof AlertingRule) {
        r.active = old.active;
        r.restored = old.restored;
      }
    });
    from.rules.forEach((_, j) => {
      if (!taken.has(j)) for (const k of from.seriesInPreviousEval[j]!) this.staleSeries.push(k);
    });
  }

  private offsetMs(): number {
    if (this.def.alignEvaluationTimeOnInterval) return 0;
    return groupSlotOffsetMs(this.namespace, this.def.name, this.intervalMs);
  }

  /** start schedules the first evaluation at the group's next slot. */
  start(): void {
    const offset = this.offsetMs();
    // lastTs is the slot of the last evaluation; the first one runs at the group's next slot.
    let lastTs = evalTimestamp(this.now(), this.intervalMs, offset);
    let first = true;
    const tick = (): void => {
      if (this.stopped) return;
      let ts = lastTs + this.intervalMs;
      if (!first) {
        // As Prometheus's ticker loop: the slots that passed while the last evaluation ran are skipped.
        const missed = Math.floor((this.now() - lastTs) / this.intervalMs) - 1;
        if (missed > 0) {
          this.opts.metrics.iterationsMissed.inc({ user: this.tenant, rule_group: this.key }, missed);
          this.opts.metrics.iterationsScheduled.inc({ user: this.tenant, rule_group: this.key }, missed);
          ts = lastTs + (missed + 1) * this.intervalMs;
        }
      }
      first = false;
      lastTs = ts;
      this.running = this.iterate(ts)
        .catch((err: unknown) => this.opts.logger.error('rule group evaluation failed', { user: this.tenant, group: this.def.name, err: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          this.timer = setTimeout(tick, Math.max(0, lastTs + this.intervalMs - this.now()));
        });
    };
    this.timer = setTimeout(tick, Math.max(0, lastTs + this.intervalMs - this.now()));
  }

  /** iterate runs one evaluation at slot ts (tests call it directly). */
  async iterate(ts: number): Promise<void> {
    const labels = { user: this.tenant, rule_group: this.key };
    this.opts.metrics.iterationsScheduled.inc(labels);
    const start = this.now();
    await this.eval(ts);
    this.evaluationSeconds = (this.now() - start) / 1000;
    this.lastEvaluation = start;
    this.lastEvalTimestamp = ts;
    this.opts.metrics.lastDuration.set(labels, this.evaluationSeconds);
    this.opts.metrics.lastEvaluation.set(labels, ts / 1000);
    this.opts.metrics.iterations.inc(labels);
    if (this.shouldRestore) {
      this.shouldRestore = false;
      await this.restoreForState(this.now());
    }
  }

  /** evalContext is what the group's rules evaluate with. */
  private evalContext(): EvalContext {
    return {
      tenant: this.tenant,
      queryTenant: this.def.sourceTenants.length > 0 ? [...this.def.sourceTenants].sort().join('|') : this.tenant,
      querier: this.opts.querier,
      queryOffsetMs: this.queryOffsetMs,
      limit: this.def.limit,
      externalLabels: this.opts.externalLabels(this.tenant),
      externalURL: this.opts.externalURL,
      expand: this.opts.expand,
    };
  }

  /**
   * eval evaluates every rule in order at ts: in batches of rules (one worker task each) when the
   * querier and appender can, else rule by rule.
   */
  async eval(ts: number): Promise<void> {
    const ctx = this.evalContext();
    if (this.opts.querier.batch !== undefined && this.opts.appender.appendEncoded !== undefined) await this.evalBatches(ts, ctx);
    else await this.evalEach(ts, ctx);
    if (this.staleSeries.length > 0 && !this.stopped) {
      const stale = this.staleSeries;
      this.staleSeries = [];
      try {
        await this.appendKeyed([], [], ts - this.queryOffsetMs, stale);
      } catch (err) {
        this.opts.logger.warn('Adding stale sample failed', { user: this.tenant, group: this.def.name, err: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** evalEach evaluates the rules one query at a time (a querier without batches). */
  private async evalEach(ts: number, ctx: EvalContext): Promise<void> {
    const metricLabels = { user: this.tenant, rule_group: this.key };
    for (let i = 0; i < this.rules.length; i++) {
      if (this.stopped) return;
      const rule = this.rules[i]!;
      const started = this.now();
      this.opts.metrics.evaluations.inc(metricLabels);
      let samples: OutSample[];
      try {
        samples = await rule.eval(ts, ctx);
      } catch (err) {
        this.ruleFailed(rule, i, err, 'Evaluating rule failed');
        this.finishRule(rule, started);
        continue;
      }
      await this.written(rule, i, ts, samples.map((s) => s.key ?? seriesKey(s.metric)), samples.map((s) => s.value));
      this.finishRule(rule, started);
    }
  }

  /** evalBatches evaluates the rules batch by batch: one worker task per batch, then each rule's result in order. */
  private async evalBatches(ts: number, ctx: EvalContext): Promise<void> {
    const queryTs = ts - this.queryOffsetMs;
    for (const batch of this.batches) {
      if (this.stopped) return;
      let clock = this.now();
      let answers: RuleQueryAnswer[];
      try {
        answers = await this.opts.querier.batch!(ctx.queryTenant, batch.map((i) => this.items[i]!), queryTs);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        answers = batch.map(() => ({ ms: 0, error }));
      }
      let evaluated = 0;
      for (let j = 0; j < batch.length; j++) {
        if (this.stopped) break;
        const i = batch[j]!;
        const rule = this.rules[i]!;
        const a = answers[j]!;
        const t0 = this.now();
        evaluated++;
        try {
          if ('failure' in a) throw new Error(failureError(a.failure).message);
          if ('error' in a) throw new Error(a.error);
          if ('keys' in a) {
            if (ctx.limit > 0 && a.keys.length > ctx.limit) throw new Error(`exceeded limit of ${ctx.limit} with ${a.keys.length} series`);
            await this.written(rule, i, ts, a.keys, a.values, a.histograms);
          } else {
            const samples: Sample[] = a.metrics.map((metric, k) => ({ metric, value: a.values[k]!, tsMs: queryTs }));
            const out = await (rule as AlertingRule).process(ts, ctx, samples);
            await this.written(rule, i, ts, out.map((s) => s.key ?? seriesKey(s.metric)), out.map((s) => s.value));
          }
        } catch (err) {
          this.ruleFailed(rule, i, err, 'Evaluating rule failed');
        }
        // The rule's time is its query's in the worker plus its handling here.
        rule.lastEvaluation = clock;
        rule.evaluationSeconds = (a.ms + (this.now() - t0)) / 1000;
        clock += a.ms;
      }
      this.opts.metrics.evaluations.inc({ user: this.tenant, rule_group: this.key }, evaluated);
    }
  }

  /** ruleFailed records a rule's failed evaluation. */
  private ruleFailed(rule: Rule, index: number, err: unknown, what: string): void {
    rule.health = 'err';
    rule.lastError = err instanceof Error ? err.message : String(err);
    this.opts.metrics.evaluationFailures.inc({ user: this.tenant, rule_group: this.key });
    this.opts.logger.warn(what, { user: this.tenant, group: this.def.name, rule: rule.name, index, err: rule.lastError });
  }

  /**
   * written finishes a successful evaluation of rule i: health, alerts due to the Alertmanager, and the
   * samples (keys with values at ts minus the query offset) appended with stale markers for the series
   * the rule no longer returns.
   */
  private async written(rule: Rule, i: number, ts: number, keys: SeriesKey[], values: ArrayLike<number>, histograms?: RecordedHistograms): Promise<void> {
    rule.health = 'ok';
    rule.lastError = '';
    if (rule instanceof AlertingRule) {
      const due = rule.alertsToSend(ts, this.opts.resendDelayMs, this.intervalMs);
      if (due.length > 0) this.opts.notify(this.tenant, rule.def.expr, due);
    }
    const returned = new Set(keys);
    const stale: SeriesKey[] = [];
    for (const k of this.seriesInPreviousEval[i]!) if (!returned.has(k)) stale.push(k);
    try {
      await this.appendKeyed(keys, values, ts - this.queryOffsetMs, stale, histograms);
      this.seriesInPreviousEval[i] = returned;
    } catch (err) {
      this.ruleFailed(rule, i, err, 'Rule sample appending failed');
      // What was written still counts (a push stores its valid series); stale markers follow next time.
      for (const k of this.seriesInPreviousEval[i]!) returned.add(k);
      this.seriesInPreviousEval[i] = returned;
    }
  }

  /**
   * appendKeyed appends samples (keys with values, or the recorded native histograms) and stale markers
   * (staleKeys) at tsMs. Histograms need the encoded path (the batch path only hands them over).
   */
  private async appendKeyed(keys: SeriesKey[], values: ArrayLike<number>, tsMs: number, staleKeys: SeriesKey[], histograms?: RecordedHistograms): Promise<void> {
    const appender = this.opts.appender;
    if (appender.appendEncoded !== undefined) {
      if (keys.length + staleKeys.length === 0) return;
      const hs = histograms !== undefined ? histogramBodies(histograms, tsMs) : undefined;
      await appender.appendEncoded(this.tenant, encodeKeyedSamples(keys, values, tsMs, staleKeys, hs));
      return;
    }
    const samples: OutSample[] = keys.map((k, j) => ({ metric: labelsOfKey(k), tsMs, value: values[j]! }));
    for (const k of staleKeys) samples.push({ metric: labelsOfKey(k), tsMs, value: NaN, stale: true });
    await appender.append(this.tenant, samples);
  }

  private finishRule(rule: Rule, started: number): void {
    rule.lastEvaluation = started;
    rule.evaluationSeconds = (this.now() - started) / 1000;
  }

  /**
   * restoreForState sets the activeAt of pending and firing alerts from the last ALERTS_FOR_STATE
   * sample within -ruler.for-outage-tolerance, shifted by the time the ruler was down, as
   * Prometheus's RestoreForState (a series whose last sample is a staleness marker is not restored);
   * rules whose `for` is under -ruler.for-grace-period are not restored.
   */
  async restoreForState(ts: number): Promise<void> {
    for (const rule of this.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      const hold = rule.def.forMs;
      if (hold < this.opts.forGracePeriodMs || (this.opts.querier.series === undefined && this.opts.querier.rawSeries === undefined)) {
        rule.restored = true;
        continue;
      }
      for (const a of rule.active.values()) {
        const series = rule.alertSeries(a, 'ALERTS_FOR_STATE');
        const selector = `${selectorOf(series)}[${Math.max(1, Math.round(this.opts.outageToleranceMs / 1000))}s]`;
        const q = this.opts.querier;
        let found;
        try {
          // The stored samples, stale markers included, as Prometheus reads them; PromQL (which hides
          // stale markers) only where the storage is not in this process.
          found = q.rawSeries !== undefined ? await q.rawSeries(this.tenant, series, ts - this.opts.outageToleranceMs, ts) : await q.series!(this.tenant, selector, ts);
        } catch (err) {
          this.opts.logger.error('Failed to restore for state', { user: this.tenant, group: this.def.name, alert: rule.name, err: err instanceof Error ? err.message : String(err) });
          continue;
        }
        const s = found.find((f) => labelsKey(f.metric) === labelsKey(series));
        const last = s?.samples[s.samples.length - 1];
        // A series whose last sample is a staleness marker: the alert was not active (not restored).
        if (last === undefined || last[2] === true || Number.isNaN(last[1])) continue;
        const downAt = Math.floor(last[0] / 1000) * 1000;
        let activeAt = last[1] * 1000;
        const remaining = hold - (downAt - activeAt);
        if (remaining <= 0) {
          // It had already been pending long enough: it fires at once.
        } else if (remaining < this.opts.forGracePeriodMs) {
          activeAt = ts + this.opts.forGracePeriodMs - hold;
        } else {
          activeAt += ts - downAt;
        }
        a.activeAt = activeAt;
      }
      rule.restored = true;
    }
  }

  /** stop ends the timer, waits for a running evaluation and, with markStale, writes stale markers for every series the group wrote. */
  async stop(markStale: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    if (!markStale || this.lastEvalTimestamp === 0) return;
    const ts = this.now() - this.queryOffsetMs;
    const stale: SeriesKey[] = [];
    for (const m of this.seriesInPreviousEval) for (const k of m) stale.push(k);
    try {
      await this.appendKeyed([], [], ts, stale);
    } catch (err) {
      this.opts.logger.warn('Adding stale sample failed', { user: this.tenant, group: this.def.name, err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** alertingRules lists the group's alerting rules. */
  alertingRules(): AlertingRule[] {
    return this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule);
  }
}

/** ruleIdentity is what makes two rules "the same" across a reload: name and labels (Prometheus's nameAndLabels) plus the query. */
function ruleIdentity(r: Rule): string {
  return `${r.name}\x00${labelsKey(r.def.labels)}\x00${r.def.expr}`;
}

/** selectorOf writes a series selector matching exactly the given labels. */
export function selectorOf(ls: Labels): string {
  const parts: string[] = [];
  for (const k of Object.keys(ls).sort()) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) ? k : JSON.stringify(k);
    parts.push(`${name}=${JSON.stringify(ls[k])}`);
  }
  return `{${parts.join(',')}}`;
}
