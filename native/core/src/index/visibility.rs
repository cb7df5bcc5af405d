//! Label-based access control (GEM's LBAC): a reader may be limited to the
//! series matching at least one of its policies' selectors. The policies
//! travel with every selection as extra matcher sets (`visible`) and are
//! applied where the selection's matcher sets are resolved, so no read path
//! (PromQL, series, labels, remote read, exemplars, cardinality) sees a
//! hidden series or is computed from one.
//!
//! Look-ups that walk label values rather than series (label names, label
//! values) resolve the selection's postings once per request into a
//! [`RefSet`] and test each value's postings against it, so a policy costs
//! one postings union and a bitmap, not a matcher check per series.

use super::Matcher;

/// RefSet is a set of series references as a bitmap, built once per request
/// from a selection's sorted postings: membership is one shift and mask,
/// whatever the size of the selection.
#[derive(Debug)]
pub struct RefSet {
    words: Vec<u64>,
    len: usize,
}

impl RefSet {
    /// from_sorted builds the set of `refs` (sorted, duplicates allowed).
    pub fn from_sorted(refs: &[u32]) -> Self {
        let words = refs.last().map_or(0, |&max| max as usize / 64 + 1);
        let mut bits = vec![0u64; words];
        let mut len = 0;
        for &r in refs {
            let (w, b) = (r as usize / 64, r % 64);
            if bits[w] & (1 << b) == 0 {
                bits[w] |= 1 << b;
                len += 1;
            }
        }
        RefSet { words: bits, len }
    }

    /// contains reports whether `r` is in the set.
    #[inline]
    pub fn contains(&self, r: u32) -> bool {
        self.words
            .get(r as usize / 64)
            .is_some_and(|w| w & (1 << (r % 64)) != 0)
    }

    /// len is the number of references in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// is_empty reports whether the set holds no reference.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// any_in reports whether one of `refs` is in the set.
    #[inline]
    pub fn any_in(&self, refs: &[u32]) -> bool {
        refs.iter().any(|&r| self.contains(r))
    }

    /// filter returns the references of `refs` in the set, in their order.
    pub fn filter(&self, refs: &[u32]) -> Vec<u32> {
        refs.iter().copied().filter(|&r| self.contains(r)).collect()
    }
}

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
    fn ref_set_membership() {
        let s = RefSet::from_sorted(&[0, 3, 3, 64, 130]);
        assert_eq!(s.len(), 4);
        assert!(s.contains(0) && s.contains(3) && s.contains(64) && s.contains(130));
        assert!(!s.contains(1) && !s.contains(63) && !s.contains(129) && !s.contains(131));
        assert!(!s.contains(u32::MAX));
        assert!(s.any_in(&[5, 64]));
        assert!(!s.any_in(&[5, 65, 1000]));
        assert_eq!(s.filter(&[1, 3, 64, 65, 130]), vec![3, 64, 130]);
        let e = RefSet::from_sorted(&[]);
        assert!(e.is_empty() && !e.contains(0));
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
