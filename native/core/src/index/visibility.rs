//! Label-based access control (GEM's LBAC): a reader may be limited to the
//! series matching at least one of its policies' selectors. The policies
//! travel with every selection as extra matcher sets (`visible`) and are
//! applied where the selection's matcher sets are resolved, so no read path
//! (PromQL, series, labels, remote read, exemplars, cardinality) sees a
//! hidden series or is computed from one.

use super::Matcher;

/// restrict is the selection `sets` (a union of matcher sets, every series
/// when empty) limited to the series matching one of `visible` (no limit
/// when empty): the union over each query set and each policy of both
/// sets' matchers together.
pub fn restrict(sets: &[Vec<Matcher>], visible: &[Vec<Matcher>]) -> Vec<Vec<Matcher>> {
    if visible.is_empty() {
        return sets.to_vec();
    }
    if sets.is_empty() {
        return visible.to_vec();
    }
    let mut out = Vec::with_capacity(sets.len() * visible.len());
    for set in sets {
        for policy in visible {
            let mut both = set.clone();
            both.extend(policy.iter().cloned());
            out.push(both);
        }
    }
    out
}

/// is_visible reports whether a series (its labels read through `get`, a
/// missing label being "") matches one of `visible` (true when empty).
pub fn is_visible<'a>(get: impl Fn(&str) -> Option<&'a str>, visible: &[Vec<Matcher>]) -> bool {
    visible.is_empty()
        || visible.iter().any(|policy| {
            policy
                .iter()
                .all(|m| m.matches(get(m.name()).unwrap_or("")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::MatchType;

    fn m(t: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(t, n, v).unwrap()
    }

    #[test]
    fn restrict_crosses_sets_and_policies() {
        let q = vec![vec![m(MatchType::Equal, "__name__", "up")]];
        let p = vec![
            vec![m(MatchType::Equal, "env", "prod")],
            vec![m(MatchType::Regexp, "team", "a|b")],
        ];
        let r = restrict(&q, &p);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), 2);
        assert_eq!(r[1][1].name(), "team");
        assert_eq!(restrict(&[], &p).len(), 2);
        assert_eq!(restrict(&q, &[]).len(), 1);
    }

    #[test]
    fn is_visible_needs_one_whole_policy() {
        let p = vec![vec![
            m(MatchType::Equal, "env", "prod"),
            m(MatchType::NotEqual, "team", "x"),
        ]];
        let labels = [("env", "prod"), ("team", "y")];
        let get = |n: &str| labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert!(is_visible(get, &p));
        let hidden = [("env", "prod"), ("team", "x")];
        let get = |n: &str| hidden.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert!(!is_visible(get, &p));
        assert!(is_visible(|_| None, &[]));
    }
}
