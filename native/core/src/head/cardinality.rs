//! The head's cardinality analysis, for Mimir's
//! `/api/v1/cardinality/{label_names,label_values,active_series}`: distinct
//! values per label name, series per label value, and the label sets of the
//! active series, over the series matching a selector (all series without
//! one). Answers are JSON in Mimir's shapes, built here.
//!
//! Counting methods: `inmemory` counts every series of the head; `active`
//! only the series with a sample at or after `since_ms` (the caller passes
//! now minus -ingester.active-series-metrics-idle-timeout). Mimir tracks
//! activity by the time a series was last written; here it is the newest
//! sample's timestamp, which matches for live remote-write traffic.
//!
//! Without a selector, `inmemory` answers come straight from the postings
//! index (no series is visited).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use crate::index::visibility::RefSet;
use crate::index::{postings_for_matchers, Matcher, MemPostings};

use super::json::write_json_string;
use super::series::MemSeries;
use super::Head;

/// CountMethod selects the series that cardinality answers count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMethod {
    /// Every series in the head.
    InMemory,
    /// Series with a sample at or after `since_ms`.
    Active { since_ms: i64 },
}

/// label_names_size_message is Mimir's error when the distinct label names
/// and values exceed -querier.label-names-and-values-results-max-size-bytes.
pub fn label_names_size_message(limit: u64) -> String {
    format!("size of distinct label names and values is greater than {limit} bytes")
}

/// is_active reports whether the series has a sample at or after since_ms.
fn is_active(s: &MemSeries, since_ms: i64) -> bool {
    let st = s.state.lock();
    st.chunks.max_time().is_some_and(|t| t >= since_ms)
}

/// NameValues are distinct values per label name, with series counts.
type NameValues = BTreeMap<String, BTreeMap<String, u64>>;

/// visible_refs is the set of series matching every one of `matchers`
/// (all series for none) and one of the `visible` policies, resolved from
/// postings once.
fn visible_refs(postings: &MemPostings, matchers: &[Matcher], visible: &[Vec<Matcher>]) -> RefSet {
    let mut refs: Vec<u32> = Vec::new();
    for policy in visible {
        refs.extend(postings_for_matchers(postings, policy));
    }
    refs.sort_unstable();
    if matchers.is_empty() {
        return RefSet::from_sorted(&refs);
    }
    let shown = RefSet::from_sorted(&refs);
    let selected: Vec<u32> = postings_for_matchers(postings, matchers)
        .into_iter()
        .filter(|&r| shown.contains(r))
        .collect();
    RefSet::from_sorted(&selected)
}

impl Head {
    /// counted_series returns the series counted for the matchers and method,
    /// None when that is every series of the head (the postings fast path).
    /// Only the series matching one of `visible` (label-based access
    /// control; none when empty) are counted.
    fn counted_series(
        &self,
        matchers: &[Matcher],
        method: CountMethod,
        visible: &[Vec<Matcher>],
    ) -> Option<Vec<Arc<MemSeries>>> {
        if matchers.is_empty() && method == CountMethod::InMemory && visible.is_empty() {
            return None;
        }
        let candidates: Vec<Arc<MemSeries>> = {
            let idx = self.index.read();
            // The visible series resolved once, as postings, into a bitmap.
            let shown = (!visible.is_empty()).then(|| {
                let mut refs: Vec<u32> = Vec::new();
                for policy in visible {
                    refs.extend(postings_for_matchers(&idx.postings, policy));
                }
                refs.sort_unstable();
                RefSet::from_sorted(&refs)
            });
            let keep = |r: u32| shown.as_ref().is_none_or(|s| s.contains(r));
            if matchers.is_empty() {
                match &shown {
                    None => idx.all(),
                    Some(_) => idx
                        .postings
                        .all()
                        .iter()
                        .filter(|&&r| keep(r))
                        .filter_map(|r| idx.get(*r).cloned())
                        .collect(),
                }
            } else {
                postings_for_matchers(&idx.postings, matchers)
                    .iter()
                    .filter(|&&r| keep(r))
                    .filter_map(|r| idx.get(*r).cloned())
                    .collect()
            }
        };
        Some(match method {
            CountMethod::InMemory => candidates,
            CountMethod::Active { since_ms } => candidates
                .into_iter()
                .filter(|s| is_active(s, since_ms))
                .collect(),
        })
    }

    /// num_series_counted is the tenant's series total for the method
    /// (Mimir's user stats `numSeries`).
    pub fn num_series_counted(&self, method: CountMethod) -> u64 {
        self.num_series_visible(method, &[])
    }

    /// num_series_visible is [`Head::num_series_counted`] over the series
    /// matching one of `visible` (all when empty).
    pub fn num_series_visible(&self, method: CountMethod, visible: &[Vec<Matcher>]) -> u64 {
        if method == CountMethod::InMemory && !visible.is_empty() {
            let idx = self.index.read();
            return visible_refs(&idx.postings, &[], visible).len() as u64;
        }
        match self.counted_series(&[], method, visible) {
            None => self.num_series() as u64,
            Some(v) => v.len() as u64,
        }
    }

    /// name_values gathers, for the label names `only` allows (every name
    /// when None), each value's series count.
    fn name_values(
        &self,
        matchers: &[Matcher],
        method: CountMethod,
        only: Option<&BTreeSet<String>>,
        visible: &[Vec<Matcher>],
    ) -> NameValues {
        let mut out: NameValues = BTreeMap::new();
        if method == CountMethod::InMemory && !visible.is_empty() {
            // Label policies: the counted series as a bitmap, each value's
            // postings counted against it (no walk over series' labels).
            let idx = self.index.read();
            let counted = visible_refs(&idx.postings, matchers, visible);
            let names: Vec<&str> = match only {
                Some(set) => set.iter().map(String::as_str).collect(),
                None => idx.postings.label_names(),
            };
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                let mut values = BTreeMap::new();
                idx.postings.for_each_value(name, "", |v, refs| {
                    let c = refs.iter().filter(|&&r| counted.contains(r)).count() as u64;
                    if !v.is_empty() && c > 0 {
                        values.insert(v.to_string(), c);
                    }
                });
                if !values.is_empty() {
                    out.insert(name.to_string(), values);
                }
            }
            return out;
        }
        match self.counted_series(matchers, method, visible) {
            None => {
                let idx = self.index.read();
                let names: Vec<String> = match only {
                    Some(set) => set.iter().cloned().collect(),
                    None => idx
                        .postings
                        .label_names()
                        .into_iter()
                        .filter(|n| !n.is_empty())
                        .map(str::to_string)
                        .collect(),
                };
                for name in names {
                    let mut values = BTreeMap::new();
                    idx.postings.for_each_value(&name, "", |v, refs| {
                        if !v.is_empty() && !refs.is_empty() {
                            values.insert(v.to_string(), refs.len() as u64);
                        }
                    });
                    if !values.is_empty() {
                        out.insert(name, values);
                    }
                }
            }
            Some(series) => {
                let mut counts: HashMap<(&str, &str), u64> = HashMap::new();
                for s in &series {
                    for (n, v) in s.labels.iter() {
                        if only.is_some_and(|set| !set.contains(n)) {
                            continue;
                        }
                        *counts.entry((n, v)).or_insert(0) += 1;
                    }
                }
                for ((n, v), c) in counts {
                    out.entry(n.to_string())
                        .or_default()
                        .insert(v.to_string(), c);
                }
            }
        }
        out
    }

    /// label_names_cardinality answers `/api/v1/cardinality/label_names`:
    /// distinct values per label name, names sorted by that count (desc)
    /// then name, the first `limit` listed. Err is Mimir's message when
    /// the distinct names and values take more than `max_size_bytes`.
    pub fn label_names_cardinality(
        &self,
        matchers: &[Matcher],
        method: CountMethod,
        limit: usize,
        max_size_bytes: u64,
        visible: &[Vec<Matcher>],
    ) -> Result<String, String> {
        let nv = self.name_values(matchers, method, None, visible);
        let mut size = 0u64;
        let mut total = 0u64;
        let mut items: Vec<(&str, u64)> = Vec::with_capacity(nv.len());
        for (name, values) in &nv {
            size += name.len() as u64;
            size += values.keys().map(|v| v.len() as u64).sum::<u64>();
            total += values.len() as u64;
            items.push((name, values.len() as u64));
        }
        if size > max_size_bytes {
            return Err(label_names_size_message(max_size_bytes));
        }
        items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut out = String::with_capacity(96 + items.len().min(limit) * 48);
        let _ = write!(
            out,
            "{{\"label_values_count_total\":{total},\"label_names_count\":{},\"cardinality\":[",
            nv.len()
        );
        for (i, (name, count)) in items.iter().take(limit).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"label_name\":");
            write_json_string(&mut out, name);
            let _ = write!(out, ",\"label_values_count\":{count}}}");
        }
        out.push_str("]}");
        Ok(out)
    }

    /// label_values_cardinality answers `/api/v1/cardinality/label_values`
    /// for the given label names: per name its values' series counts
    /// (values sorted by count desc then value, the first `limit` listed),
    /// names sorted by their series total desc then name; names without
    /// values are left out. `series_count_total` is every series the method
    /// counts, selector or not (as Mimir).
    pub fn label_values_cardinality(
        &self,
        names: &[&str],
        matchers: &[Matcher],
        method: CountMethod,
        limit: usize,
        visible: &[Vec<Matcher>],
    ) -> String {
        let only: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        let nv = self.name_values(matchers, method, Some(&only), visible);
        let total = self.num_series_visible(method, visible);
        struct Item<'a> {
            name: &'a str,
            series: u64,
            values: Vec<(&'a str, u64)>,
        }
        let mut items: Vec<Item<'_>> = nv
            .iter()
            .map(|(name, values)| {
                let mut vs: Vec<(&str, u64)> =
                    values.iter().map(|(v, c)| (v.as_str(), *c)).collect();
                vs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                Item {
                    name,
                    series: vs.iter().map(|(_, c)| c).sum(),
                    values: vs,
                }
            })
            .collect();
        items.sort_by(|a, b| b.series.cmp(&a.series).then_with(|| a.name.cmp(b.name)));
        let mut out = String::with_capacity(64 + items.len() * 128);
        let _ = write!(out, "{{\"series_count_total\":{total},\"labels\":[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"label_name\":");
            write_json_string(&mut out, item.name);
            let _ = write!(
                out,
                ",\"label_values_count\":{},\"series_count\":{},\"cardinality\":[",
                item.values.len(),
                item.series
            );
            for (j, (value, count)) in item.values.iter().take(limit).enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str("{\"label_value\":");
                write_json_string(&mut out, value);
                let _ = write!(out, ",\"series_count\":{count}}}");
            }
            out.push_str("]}");
        }
        out.push_str("]}");
        out
    }

    /// active_series_json answers `/api/v1/cardinality/active_series`:
    /// `{"data":[...]}` with the label sets of the active series matching
    /// the matchers, sorted by labels.
    pub fn active_series_json(
        &self,
        matchers: &[Matcher],
        since_ms: i64,
        visible: &[Vec<Matcher>],
    ) -> String {
        let mut series = self
            .counted_series(matchers, CountMethod::Active { since_ms }, visible)
            .unwrap_or_default();
        series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        let mut out = String::with_capacity(16 + series.len() * 64);
        out.push_str("{\"data\":[");
        for (i, s) in series.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            for (j, (n, v)) in s.labels.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, n);
                out.push(':');
                write_json_string(&mut out, v);
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::DEFAULT_CHUNK_RANGE;
    use crate::index::MatchType;

    fn head() -> Head {
        let h = Head::new("t", DEFAULT_CHUNK_RANGE);
        let add = |labels: &[(&str, &str)], t: i64| {
            let (s, _) = h.get_or_create(labels);
            let mut app = h.appender();
            app.append_series(&s, [(t, 1.0)]);
            app.commit();
        };
        add(&[("__name__", "up"), ("job", "a"), ("pod", "1")], 1000);
        add(&[("__name__", "up"), ("job", "a"), ("pod", "2")], 1000);
        add(&[("__name__", "up"), ("job", "b"), ("pod", "3")], 5000);
        add(&[("__name__", "cpu"), ("job", "b")], 5000);
        h
    }

    #[test]
    fn label_names_sorted_by_count_then_name() {
        let h = head();
        let all = h
            .label_names_cardinality(&[], CountMethod::InMemory, 20, u64::MAX, &[])
            .unwrap();
        assert_eq!(
            all,
            r#"{"label_values_count_total":7,"label_names_count":3,"cardinality":[{"label_name":"pod","label_values_count":3},{"label_name":"__name__","label_values_count":2},{"label_name":"job","label_values_count":2}]}"#
        );
        let m = Matcher::new(MatchType::Equal, "job", "a").unwrap();
        let a = h
            .label_names_cardinality(&[m], CountMethod::InMemory, 1, u64::MAX, &[])
            .unwrap();
        assert_eq!(
            a,
            r#"{"label_values_count_total":4,"label_names_count":3,"cardinality":[{"label_name":"pod","label_values_count":2}]}"#
        );
        // Sizes: names 8+3+3, values 2+3+1+1+1+1+1 = 24 bytes.
        assert!(h
            .label_names_cardinality(&[], CountMethod::InMemory, 20, 24, &[])
            .is_ok());
        assert_eq!(
            h.label_names_cardinality(&[], CountMethod::InMemory, 20, 23, &[]),
            Err("size of distinct label names and values is greater than 23 bytes".to_string())
        );
        // Active: only the series with a sample at or after 5000.
        let act = h
            .label_names_cardinality(
                &[],
                CountMethod::Active { since_ms: 5000 },
                20,
                u64::MAX,
                &[],
            )
            .unwrap();
        assert!(
            act.starts_with(r#"{"label_values_count_total":4,"label_names_count":3,"#),
            "{act}"
        );
    }

    #[test]
    fn label_values_and_active_series() {
        let h = head();
        let got =
            h.label_values_cardinality(&["job", "pod", "nope"], &[], CountMethod::InMemory, 1, &[]);
        assert_eq!(
            got,
            r#"{"series_count_total":4,"labels":[{"label_name":"job","label_values_count":2,"series_count":4,"cardinality":[{"label_value":"a","series_count":2}]},{"label_name":"pod","label_values_count":3,"series_count":3,"cardinality":[{"label_value":"1","series_count":1}]}]}"#
        );
        let m = Matcher::new(MatchType::Equal, "__name__", "up").unwrap();
        let got = h.label_values_cardinality(
            &["job"],
            std::slice::from_ref(&m),
            CountMethod::Active { since_ms: 2000 },
            20,
            &[],
        );
        assert_eq!(
            got,
            r#"{"series_count_total":2,"labels":[{"label_name":"job","label_values_count":1,"series_count":1,"cardinality":[{"label_value":"b","series_count":1}]}]}"#
        );
        assert_eq!(
            h.active_series_json(&[m], 0, &[]),
            r#"{"data":[{"__name__":"up","job":"a","pod":"1"},{"__name__":"up","job":"a","pod":"2"},{"__name__":"up","job":"b","pod":"3"}]}"#
        );
        let m = Matcher::new(MatchType::Equal, "job", "b").unwrap();
        assert_eq!(h.active_series_json(&[m], 6000, &[]), r#"{"data":[]}"#);
        assert_eq!(
            h.num_series_counted(CountMethod::Active { since_ms: 2000 }),
            2
        );
    }

    #[test]
    fn visible_series_are_counted_as_the_policy_check_counts_them() {
        use crate::index::visibility::is_visible;
        let h = head();
        let policies = [
            vec![vec![Matcher::new(MatchType::Equal, "job", "a").unwrap()]],
            vec![
                vec![Matcher::new(MatchType::Equal, "pod", "3").unwrap()],
                vec![Matcher::new(MatchType::NotRegexp, "pod", "1|3").unwrap()],
            ],
            vec![vec![Matcher::new(MatchType::Equal, "job", "nope").unwrap()]],
        ];
        for visible in &policies {
            let want = h
                .index
                .read()
                .all()
                .iter()
                .filter(|s| is_visible(|n| s.labels.get(n), visible))
                .count() as u64;
            assert_eq!(h.num_series_visible(CountMethod::InMemory, visible), want);
            let up = Matcher::new(MatchType::Equal, "__name__", "up").unwrap();
            let want_up = h
                .index
                .read()
                .all()
                .iter()
                .filter(|s| s.labels.get("__name__") == Some("up") && is_visible(|n| s.labels.get(n), visible))
                .count();
            let json = h.active_series_json(std::slice::from_ref(&up), 0, visible);
            assert_eq!(json.matches("\"__name__\"").count(), want_up, "{json}");
            // Per value counts: the bitmap path against the policy check.
            let got = h.label_values_cardinality(&["pod", "job"], std::slice::from_ref(&up), CountMethod::InMemory, 10, visible);
            for (name, value) in [("pod", "1"), ("pod", "2"), ("pod", "3"), ("job", "a"), ("job", "b")] {
                let n = h
                    .index
                    .read()
                    .all()
                    .iter()
                    .filter(|s| s.labels.get("__name__") == Some("up") && s.labels.get(name) == Some(value) && is_visible(|n| s.labels.get(n), visible))
                    .count();
                let item = format!("{{\"label_value\":\"{value}\",\"series_count\":{n}}}");
                assert_eq!(got.contains(&item), n > 0, "{name}={value} {n} in {got}");
            }
        }
        assert_eq!(h.num_series_visible(CountMethod::InMemory, &policies[0]), 2);
    }
}
