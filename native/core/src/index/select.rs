//! Series selection: the postings matching a list of label matchers, with
//! Prometheus's `PostingsForMatchers` semantics (`tsdb/querier.go`), over any
//! [`IndexReader`] (the head's `MemPostings` now, block indexes later).

use ahash::AHashSet;

use super::matcher::{MatchType, Matcher};
use super::postings::{self, BoxPostings};
use super::shard::ShardedPostings;

/// IndexReader is what series selection needs from an index.
///
/// Implementors provide the four required methods; the label-matching
/// helpers have generic defaults that an index may specialise (MemPostings
/// scans only the values sharing a regex's literal prefix).
pub trait IndexReader {
    /// postings returns the union of the postings of `name=v` for each `v` in
    /// `values` (empty postings when none exist).
    fn postings(&self, name: &str, values: &[&str]) -> BoxPostings<'_>;

    /// all_postings returns every series of the index.
    fn all_postings(&self) -> BoxPostings<'_>;

    /// label_values returns the values of label `name`, sorted.
    fn label_values(&self, name: &str) -> Vec<&str>;

    /// label_names returns the label names in use, sorted.
    fn label_names(&self) -> Vec<&str>;

    /// series_hash returns the label-set hash of series `r`
    /// (`labels::stable_hash`, Prometheus's `labels.StableHash`), by which
    /// query sharding assigns it to a shard; None when it cannot be read.
    fn series_hash(&self, r: u32) -> Option<u64>;

    /// postings_for_label_matching returns the series whose value of `name`
    /// satisfies `pred`. Every value satisfying `pred` starts with `prefix`
    /// (possibly ""), so values without it may be skipped unseen.
    fn postings_for_label_matching(
        &self,
        name: &str,
        prefix: &str,
        pred: &dyn Fn(&str) -> bool,
    ) -> BoxPostings<'_> {
        let values: Vec<&str> = self
            .label_values(name)
            .into_iter()
            .filter(|v| v.starts_with(prefix) && pred(v))
            .collect();
        self.postings(name, &values)
    }

    /// postings_for_all_label_values returns the series that have label
    /// `name` at all.
    fn postings_for_all_label_values(&self, name: &str) -> BoxPostings<'_> {
        self.postings_for_label_matching(name, "", &|_| true)
    }
}

/// postings_for_matchers returns the sorted references of the series that
/// satisfy every matcher, where a missing label reads as "" (so `{a=""}`
/// selects the series without `a`, and `{a!~"x"}` includes them).
///
/// An empty matcher list selects nothing, as in Prometheus.
pub fn postings_for_matchers<R: IndexReader + ?Sized>(ix: &R, matchers: &[Matcher]) -> Vec<u32> {
    let mut p = select_postings(ix, matchers);
    postings::expand(&mut *p)
}

/// select_postings is the lazy form of [`postings_for_matchers`].
///
/// Matchers that reject "" require their label, and are answered by
/// intersecting postings; matchers that accept "" (and negations of values
/// a required label may not take) are answered by subtracting the series
/// they reject. With nothing to intersect, subtraction starts from all
/// series.
pub fn select_postings<'a, R: IndexReader + ?Sized>(
    ix: &'a R,
    matchers: &[Matcher],
) -> BoxPostings<'a> {
    if matchers.is_empty() {
        return postings::empty();
    }
    // The query-sharding matcher is no label: the other matchers select,
    // and the shard keeps the series whose hash it owns (each hashed once).
    if let Some(at) = matchers.iter().position(|m| m.shard().is_some()) {
        let shard = matchers[at].shard().expect("shard matcher");
        let rest: Vec<Matcher> = matchers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, m)| m.clone())
            .collect();
        let inner = select_postings(ix, &rest);
        if inner.is_known_empty() {
            return inner;
        }
        return Box::new(ShardedPostings::new(
            inner,
            shard,
            Box::new(move |r| ix.series_hash(r)),
        ));
    }
    if let [m] = matchers {
        // Prometheus's all-postings shortcut, `{""=""}`.
        if m.name().is_empty() && m.value().is_empty() && m.match_type() == MatchType::Equal {
            return ix.all_postings();
        }
    }
    // Labels that must be set: some matcher rejects the empty value.
    let must_be_set: AHashSet<&str> = matchers
        .iter()
        .filter(|m| !m.matches(""))
        .map(|m| m.name())
        .collect();
    let subtracting = |m: &Matcher| {
        !must_be_set.contains(m.name()) || (m.match_type().is_negative() && m.matches(""))
    };

    let mut its: Vec<BoxPostings<'a>> = Vec::new();
    let mut not_its: Vec<BoxPostings<'a>> = Vec::new();
    if matchers.iter().all(subtracting) {
        its.push(ix.all_postings());
    }
    // Intersecting matchers first, so the base of subtraction is smallest.
    let ordered = matchers
        .iter()
        .filter(|m| !subtracting(m))
        .chain(matchers.iter().filter(|m| subtracting(m)));
    for m in ordered {
        match (m.match_type(), m.value()) {
            // Matches every value, present or not: no constraint.
            (MatchType::Regexp, ".*") => {}
            (MatchType::NotRegexp, ".*") => return postings::empty(),
            (MatchType::Regexp, ".+") => {
                let it = ix.postings_for_all_label_values(m.name());
                if it.is_known_empty() {
                    return postings::empty();
                }
                its.push(it);
            }
            (MatchType::NotRegexp, ".+") => {
                not_its.push(ix.postings_for_all_label_values(m.name()))
            }
            _ if must_be_set.contains(m.name()) => {
                let matches_empty = m.matches("");
                let is_not = m.match_type().is_negative();
                if is_not && matches_empty {
                    // l!="foo" with l required: drop the series with l="foo".
                    not_its.push(postings_for_matcher(ix, &m.inverse()));
                } else if is_not {
                    // l!="" (l!~"|x"...): the series with l set to a value
                    // the inner matcher rejects.
                    let it = inverse_postings_for_matcher(ix, &m.inverse());
                    if it.is_known_empty() {
                        return postings::empty();
                    }
                    its.push(it);
                } else {
                    // l="a", l=~"a.*"
                    let it = postings_for_matcher(ix, m);
                    if it.is_known_empty() {
                        return postings::empty();
                    }
                    its.push(it);
                }
            }
            // The matcher accepts "": it selects the series without the label
            // too, so subtract the series whose value it rejects.
            _ => not_its.push(inverse_postings_for_matcher(ix, m)),
        }
    }
    let mut it = postings::intersect(its);
    for n in not_its {
        it = postings::without(it, n);
    }
    it
}

/// non_empty drops "": no series carries a label with an empty value.
fn non_empty(values: &[String]) -> Vec<&str> {
    values
        .iter()
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .collect()
}

/// postings_for_matcher returns the series that have label `m.name()` with
/// a value `m` accepts (never series lacking the label).
fn postings_for_matcher<'a, R: IndexReader + ?Sized>(ix: &'a R, m: &Matcher) -> BoxPostings<'a> {
    match m.match_type() {
        MatchType::Equal if m.value().is_empty() => postings::empty(),
        MatchType::Equal => ix.postings(m.name(), &[m.value()]),
        MatchType::Regexp if !m.set_matches().is_empty() => {
            ix.postings(m.name(), &non_empty(m.set_matches()))
        }
        MatchType::Regexp => {
            ix.postings_for_label_matching(m.name(), m.regex_prefix(), &|v| m.matches(v))
        }
        MatchType::NotEqual | MatchType::NotRegexp => {
            ix.postings_for_label_matching(m.name(), "", &|v| m.matches(v))
        }
    }
}

/// inverse_postings_for_matcher returns the series that have label
/// `m.name()` with a value `m` rejects.
fn inverse_postings_for_matcher<'a, R: IndexReader + ?Sized>(
    ix: &'a R,
    m: &Matcher,
) -> BoxPostings<'a> {
    match m.match_type() {
        // Double negation: the values a `!~set` rejects are the set.
        MatchType::NotRegexp if !m.set_matches().is_empty() => {
            ix.postings(m.name(), &non_empty(m.set_matches()))
        }
        MatchType::NotEqual if m.value().is_empty() => postings::empty(),
        MatchType::NotEqual => ix.postings(m.name(), &[m.value()]),
        // `=""` and `=~""` reject every non-empty value.
        MatchType::Equal | MatchType::Regexp if m.value().is_empty() => {
            ix.postings_for_all_label_values(m.name())
        }
        // What `!~re` rejects, `re` accepts: it shares re's prefix.
        MatchType::NotRegexp => {
            ix.postings_for_label_matching(m.name(), m.regex_prefix(), &|v| !m.matches(v))
        }
        MatchType::Equal | MatchType::Regexp => {
            ix.postings_for_label_matching(m.name(), "", &|v| !m.matches(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::mem_postings::MemPostings;
    use crate::index::testutil::Rng;

    type Series = Vec<(String, String)>;

    fn build(series: &[(u32, Series)]) -> MemPostings {
        let mut p = MemPostings::new();
        for (r, ls) in series {
            p.add(*r, ls);
        }
        p
    }

    fn brute_force(series: &[(u32, Series)], ms: &[Matcher]) -> Vec<u32> {
        let mut out: Vec<u32> = series
            .iter()
            .filter(|(_, ls)| {
                ms.iter().all(|m| {
                    let v = ls
                        .iter()
                        .find(|(n, _)| n == m.name())
                        .map_or("", |(_, v)| v.as_str());
                    m.matches(v)
                })
            })
            .map(|(r, _)| *r)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Plain is an IndexReader with only the required methods, so the
    /// default label-matching helpers get exercised too.
    struct Plain<'a>(&'a MemPostings);

    impl IndexReader for Plain<'_> {
        fn postings(&self, name: &str, values: &[&str]) -> BoxPostings<'_> {
            let its = values
                .iter()
                .map(|v| {
                    Box::new(postings::ListPostings::new(self.0.get(name, v))) as BoxPostings<'_>
                })
                .collect();
            postings::merge(its)
        }
        fn all_postings(&self) -> BoxPostings<'_> {
            Box::new(postings::ListPostings::new(self.0.all()))
        }
        fn label_values(&self, name: &str) -> Vec<&str> {
            self.0.label_values(name)
        }
        fn label_names(&self) -> Vec<&str> {
            self.0.label_names()
        }
        fn series_hash(&self, r: u32) -> Option<u64> {
            self.0.series_hash(r)
        }
    }

    fn m(t: MatchType, n: &str, v: &str) -> Matcher {
        Matcher::new(t, n, v).unwrap()
    }

    fn ls(pairs: &[(&str, &str)]) -> Series {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn prometheus_empty_value_semantics() {
        use MatchType::*;
        let series = vec![
            (1, ls(&[("n", "1")])),
            (2, ls(&[("n", "1"), ("i", "a")])),
            (3, ls(&[("n", "1"), ("i", "b")])),
            (4, ls(&[("n", "2")])),
            (5, ls(&[("n", "2.5")])),
        ];
        let ix = build(&series);
        let cases: Vec<(Vec<Matcher>, Vec<u32>)> = vec![
            (vec![m(Equal, "n", "1")], vec![1, 2, 3]),
            (vec![m(Equal, "n", "1"), m(Equal, "i", "a")], vec![2]),
            (vec![m(Equal, "n", "1"), m(Equal, "i", "")], vec![1]),
            (vec![m(Equal, "i", "")], vec![1, 4, 5]),
            (vec![m(NotEqual, "i", "")], vec![2, 3]),
            (vec![m(Equal, "n", "1"), m(NotEqual, "i", "")], vec![2, 3]),
            (vec![m(Equal, "n", "1"), m(NotEqual, "i", "a")], vec![1, 3]),
            (vec![m(Regexp, "i", ".*")], vec![1, 2, 3, 4, 5]),
            (vec![m(Regexp, "i", ".+")], vec![2, 3]),
            (vec![m(NotRegexp, "i", ".+")], vec![1, 4, 5]),
            (vec![m(NotRegexp, "i", ".*")], vec![]),
            (vec![m(NotRegexp, "i", "a")], vec![1, 3, 4, 5]),
            (vec![m(Regexp, "i", "a|")], vec![1, 2, 4, 5]),
            (vec![m(Regexp, "n", "^1$")], vec![1, 2, 3]),
            (vec![m(Regexp, "n", "2.*")], vec![4, 5]),
            (vec![m(Regexp, "n", "1|2")], vec![1, 2, 3, 4]),
            (vec![m(NotRegexp, "n", "1|2.*")], vec![]),
            (
                vec![m(Regexp, "n", "1"), m(NotRegexp, "i", "^a$")],
                vec![1, 3],
            ),
            (vec![m(Regexp, "i", "."), m(NotEqual, "i", "a")], vec![3]),
            (vec![m(Equal, "missing", "")], vec![1, 2, 3, 4, 5]),
            (vec![m(Equal, "missing", "x")], vec![]),
            (vec![m(Equal, "", "")], vec![1, 2, 3, 4, 5]),
            (vec![m(Equal, "i", ""), m(Equal, "i", "a")], vec![]),
            (vec![], vec![]),
        ];
        for (ms, want) in cases {
            let names: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
            assert_eq!(postings_for_matchers(&ix, &ms), want, "{names:?}");
            assert_eq!(
                postings_for_matchers(&Plain(&ix), &ms),
                want,
                "plain {names:?}"
            );
        }
    }

    const NAMES: &[&str] = &["a", "b", "c", "d"];
    const VALUES: &[&str] = &["x", "y", "z", "xy", "xz", "zz", "x.y", "é", "x\ny"];
    const PLAIN_VALUES: &[&str] = &["", "x", "y", "xy", "zz", "nope", "é"];
    const REGEXES: &[&str] = &[
        "",
        ".*",
        ".+",
        "x",
        "x|y",
        "x|",
        "|zz",
        "x.*",
        ".*y",
        ".*y.*",
        "x.+",
        ".+y",
        "(x|y)z?",
        "[xy]+",
        "é|zz",
        "x\\.y",
        ".",
        "..",
        "(?i)X.*",
        "z+",
        "a|.*",
        "x.*|z",
        "(x|z)(y|z)",
        "nope",
        "x\\ny|y",
        "\\w+",
        "x.y",
        "[^x]*",
        ".*\n.*",
    ];

    fn random_series(rng: &mut Rng, n: usize) -> Vec<(u32, Series)> {
        let mut refs: Vec<u32> = (0..n as u32).map(|i| i * 3 + (i % 2)).collect();
        // Some adds arrive out of order.
        for i in 0..n / 10 {
            let j = rng.below(n as u64) as usize;
            refs.swap(i, j);
        }
        refs.into_iter()
            .map(|r| {
                let mut labels = Vec::new();
                for name in NAMES {
                    if rng.below(10) >= 3 {
                        labels.push((name.to_string(), rng.pick(VALUES).to_string()));
                    }
                }
                (r, labels)
            })
            .collect()
    }

    fn random_matcher(rng: &mut Rng) -> Matcher {
        let name = if rng.below(12) == 0 {
            "e"
        } else {
            rng.pick(NAMES)
        };
        let t = MatchType::from_u32(rng.below(4) as u32).unwrap();
        let value = match t {
            MatchType::Equal | MatchType::NotEqual => rng.pick(PLAIN_VALUES),
            MatchType::Regexp | MatchType::NotRegexp => rng.pick(REGEXES),
        };
        Matcher::new(t, name, value).unwrap()
    }

    #[test]
    fn randomized_against_brute_force() {
        let mut rng = Rng::new(20261123);
        for round in 0..30 {
            let n = 50 + rng.below(250) as usize;
            let series = random_series(&mut rng, n);
            let ix = build(&series);
            for _ in 0..300 {
                let k = 1 + rng.below(4) as usize;
                let ms: Vec<Matcher> = (0..k).map(|_| random_matcher(&mut rng)).collect();
                let want = brute_force(&series, &ms);
                let names: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                assert_eq!(
                    postings_for_matchers(&ix, &ms),
                    want,
                    "round {round} {names:?}"
                );
                assert_eq!(
                    postings_for_matchers(&Plain(&ix), &ms),
                    want,
                    "plain round {round} {names:?}"
                );
            }
        }
    }

    #[test]
    fn randomized_after_deletes() {
        let mut rng = Rng::new(5);
        let mut series = random_series(&mut rng, 300);
        let mut ix = build(&series);
        let doomed: Vec<u32> = series
            .iter()
            .map(|(r, _)| *r)
            .filter(|r| r % 5 == 0)
            .collect();
        ix.delete(&doomed);
        series.retain(|(r, _)| r % 5 != 0);
        let (first, rest) = series.split_at(10);
        for (r, labels) in first {
            ix.delete_series(*r, labels);
        }
        let series = rest.to_vec();
        for _ in 0..500 {
            let k = 1 + rng.below(3) as usize;
            let ms: Vec<Matcher> = (0..k).map(|_| random_matcher(&mut rng)).collect();
            let names: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
            assert_eq!(
                postings_for_matchers(&ix, &ms),
                brute_force(&series, &ms),
                "{names:?}"
            );
        }
    }

    /// A shard matcher keeps, of what the other matchers select, the series
    /// its label-set hash puts in the shard: over random matchers, the
    /// shards of each count are disjoint and their union is the unsharded
    /// selection (through MemPostings and through the trait's defaults).
    #[test]
    fn randomized_shards_partition_the_selection() {
        let mut rng = Rng::new(11);
        let series = random_series(&mut rng, 300);
        let ix = build(&series);
        let hash_of = |r: u32| {
            let (_, ls) = series.iter().find(|(x, _)| *x == r).unwrap();
            let mut pairs: Vec<(&str, &str)> =
                ls.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            pairs.sort();
            crate::labels::stable_hash(pairs.iter())
        };
        for _ in 0..200 {
            let k = 1 + rng.below(3) as usize;
            let ms: Vec<Matcher> = (0..k).map(|_| random_matcher(&mut rng)).collect();
            let all = postings_for_matchers(&ix, &ms);
            for count in [1u64, 2, 3, 5] {
                let mut union = Vec::new();
                for n in 1..=count {
                    let mut sharded = ms.clone();
                    sharded.push(m(
                        MatchType::Equal,
                        "__query_shard__",
                        &format!("{n}_of_{count}"),
                    ));
                    let got = postings_for_matchers(&ix, &sharded);
                    assert_eq!(got, postings_for_matchers(&Plain(&ix), &sharded));
                    for &r in &got {
                        assert_eq!(
                            hash_of(r) % count,
                            n - 1,
                            "series {r} in shard {n} of {count}"
                        );
                    }
                    union.extend(got);
                }
                union.sort_unstable();
                let before = union.len();
                union.dedup();
                assert_eq!(union.len(), before, "shards of {count} are disjoint");
                assert_eq!(union, all, "shards of {count} cover the selection");
            }
        }
    }
}
