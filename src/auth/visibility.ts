// visibility.ts is label-based access control (GEM's LBAC) as the read path
// carries it: for each tenant a reader is limited on, the selectors of its
// realm's label policies (a series is visible when it matches at least one).
// They travel with the request (Request.visibility) down to the native
// storage, which applies them where every selection's matchers are resolved
// (native/core/src/index/visibility.rs): no answer is post-filtered.

import { MatchType, type LabelMatcher } from '../model/matchers.js';

/** Visibility maps a tenant ID to its visible-series selectors; a tenant without an entry sees every series. */
export type Visibility = Readonly<Record<string, LabelMatcher[][]>>;

/** LabelPolicyMatcher is one matcher of a label policy as the admin API writes it. */
export interface LabelPolicyMatcher {
  type: string;
  name: string;
  value: string;
}

/** LabelPolicy is one selector of a realm (GEM's `label_policies[]`). */
export interface LabelPolicy {
  selector: LabelPolicyMatcher[];
}

/** POLICY_MATCH_TYPES maps the admin API's matcher types (NE is the spelling of GEM's own example) to PromQL's. */
export const POLICY_MATCH_TYPES: Readonly<Record<string, MatchType>> = {
  EQ: MatchType.Equal,
  NEQ: MatchType.NotEqual,
  NE: MatchType.NotEqual,
  RE: MatchType.Regexp,
  NRE: MatchType.NotRegexp,
};

/**
 * policySelectors turns label policies into matcher sets; undefined when
 * they leave every series visible (no policies, or one with an empty selector).
 */
export function policySelectors(policies: readonly LabelPolicy[] | undefined): LabelMatcher[][] | undefined {
  if (policies === undefined || policies.length === 0) return undefined;
  const sets: LabelMatcher[][] = [];
  for (const p of policies) {
    if (p.selector.length === 0) return undefined;
    sets.push(p.selector.map((m) => ({ name: m.name, type: POLICY_MATCH_TYPES[m.type] ?? MatchType.Equal, value: m.value })));
  }
  return sets;
}

/** visibleTo returns the selectors limiting a tenant's reads (undefined: every series). */
export function visibleTo(visibility: Visibility | undefined, tenant: string): LabelMatcher[][] | undefined {
  return visibility?.[tenant];
}
