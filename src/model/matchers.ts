// matchers.ts holds the label matchers of series selectors: what the PromQL
// parser produces, the engine, querier and access control pass around, and
// the native storage resolves (storage/native.ts checks that these stay
// assignable to the binding's generated LabelMatcher).

/** MatchType is a matcher's operator, numbered as Prometheus's labels.MatchType. */
export const enum MatchType {
  /** Equal is `=`. */
  Equal = 0,
  /** NotEqual is `!=`. */
  NotEqual = 1,
  /** Regexp is `=~`, anchored at both ends (RE2 syntax). */
  Regexp = 2,
  /** NotRegexp is `!~`. */
  NotRegexp = 3,
}

/** LabelMatcher is one `name op "value"` term of a series selector. */
export interface LabelMatcher {
  /** The label name. */
  name: string;
  /** The operator. */
  type: MatchType;
  /** The value, or the regexp for Regexp and NotRegexp. */
  value: string;
}
