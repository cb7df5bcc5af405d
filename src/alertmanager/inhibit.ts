// inhibit.ts is the inhibitor: an alert is inhibited when a firing alert
// matches a rule's source matchers, the alert matches its target matchers,
// and both carry equal values for the rule's `equal` labels. An alert that
// matches both sides of a rule cannot inhibit another such alert (as
// Alertmanager's excludeTwoSidedMatch). Sources are indexed by their `equal`
// values so a check costs one map lookup per rule.

import type { InhibitRule } from './config.js';
import { matchesAll } from './matchers.js';
import { fingerprintHex, type Alert, type LabelSet } from './types.js';

interface RuleIndex {
  rule: InhibitRule;
  /** sources maps the `equal` signature to the source alerts (by fingerprint). */
  sources: Map<string, Map<string, Alert>>;
}

function signature(ls: LabelSet, names: readonly string[]): string {
  let s = '';
  for (const n of names) s += (ls[n] ?? '') + '\xff';
  return s;
}

/** Inhibitor evaluates a tenant's inhibit rules against its alerts. */
export class Inhibitor {
  private readonly rules: RuleIndex[];

  constructor(rules: readonly InhibitRule[]) {
    this.rules = rules.map((rule) => ({ rule, sources: new Map() }));
  }

  /** observe records an alert (new or updated) as a possible source. */
  observe(fp: string, alert: Alert): void {
    for (const r of this.rules) {
      if (!matchesAll(r.rule.sourceMatchers, alert.labels)) continue;
      const sig = signature(alert.labels, r.rule.equal);
      let m = r.sources.get(sig);
      if (m === undefined) {
        m = new Map();
        r.sources.set(sig, m);
      }
      m.set(fp, alert);
    }
  }

  /** forget drops an alert from the sources (garbage collected). */
  forget(fp: string, alert: Alert): void {
    for (const r of this.rules) {
      const sig = signature(alert.labels, r.rule.equal);
      const m = r.sources.get(sig);
      if (m === undefined) continue;
      m.delete(fp);
      if (m.size === 0) r.sources.delete(sig);
    }
  }

  /** inhibitedBy returns the fingerprint of a firing source alert inhibiting labels, or undefined. */
  inhibitedBy(labels: LabelSet, now: number): string | undefined {
    const fp = this.rules.length > 0 ? fingerprintHex(labels) : '';
    for (const r of this.rules) {
      if (!matchesAll(r.rule.targetMatchers, labels)) continue;
      const m = r.sources.get(signature(labels, r.rule.equal));
      if (m === undefined) continue;
      const twoSided = matchesAll(r.rule.sourceMatchers, labels);
      for (const [sfp, a] of m) {
        if (a.endsAt !== 0 && a.endsAt <= now) continue;
        if (sfp === fp) continue;
        if (twoSided && matchesAll(r.rule.targetMatchers, a.labels)) continue;
        return sfp;
      }
    }
    return undefined;
  }
}
