//! MemPostings: the head block's inverted index, label pair -> series refs.

use std::collections::BTreeMap;

use ahash::AHashMap;

use super::postings::{self, BoxPostings, ListPostings, VecPostings};
use super::select::IndexReader;
use crate::labels::LabelPair;

/// MemPostings maps every `(label name, label value)` pair to the sorted list
/// of series references carrying it, plus the list of all series.
///
/// Values per name are kept in a `BTreeMap`, so label values come out sorted
/// and a regex with a literal prefix scans only the values with that prefix.
/// Not synchronized: the owner (the head) wraps it in its lock.
#[derive(Debug, Default)]
pub struct MemPostings {
    by_name: AHashMap<String, BTreeMap<String, Vec<u32>>>,
    all: Vec<u32>,
    /// hashes holds each series' label-set hash (`labels::stable_hash`) at
    /// its reference, computed once when the series is added, for query
    /// sharding (as Prometheus's head keeps `memSeries.shardHash`).
    hashes: Vec<u64>,
}

impl MemPostings {
    pub fn new() -> Self {
        Self::default()
    }

    /// add indexes series `series_ref` under each of its labels. Labels with
    /// an empty value are skipped: in Prometheus an empty value means "label
    /// absent". References normally arrive increasing (an O(1) append);
    /// out-of-order and repeated adds are still placed correctly.
    /// `labels` is any sequence of pairs: a head series'
    /// [`Labels`](crate::labels::Labels), borrowed or owned pairs.
    pub fn add<I>(&mut self, series_ref: u32, labels: I)
    where
        I: IntoIterator,
        I::Item: LabelPair,
    {
        let mut hash = crate::model::xxhash::Xxh64::new();
        for p in labels {
            let (name, value) = (p.name(), p.value());
            hash.write(name.as_bytes());
            hash.write(&[0xff]);
            hash.write(value.as_bytes());
            hash.write(&[0xff]);
            if value.is_empty() {
                continue;
            }
            let values = match self.by_name.get_mut(name) {
                Some(v) => v,
                None => self.by_name.entry(name.to_string()).or_default(),
            };
            let list = match values.get_mut(value) {
                Some(l) => l,
                None => values.entry(value.to_string()).or_default(),
            };
            postings::insert_sorted(list, series_ref);
        }
        postings::insert_sorted(&mut self.all, series_ref);
        let at = series_ref as usize;
        if self.hashes.len() <= at {
            self.hashes.resize(at + 1, 0);
        }
        self.hashes[at] = hash.finish();
    }

    /// series_hash is the label-set hash of an indexed series.
    pub fn series_hash(&self, series_ref: u32) -> Option<u64> {
        self.hashes.get(series_ref as usize).copied()
    }

    /// delete removes the given series references from every list, dropping
    /// label values (and names) left without series. Costs a pass over the
    /// whole index; prefer `delete_series` when the labels are known.
    pub fn delete(&mut self, refs: &[u32]) {
        if refs.is_empty() {
            return;
        }
        let mut sorted = refs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for values in self.by_name.values_mut() {
            values.retain(|_, list| {
                *list = postings::without_sorted(list, &sorted);
                !list.is_empty()
            });
        }
        self.by_name.retain(|_, values| !values.is_empty());
        self.all = postings::without_sorted(&self.all, &sorted);
    }

    /// delete_series removes one series, touching only its own lists.
    pub fn delete_series<I>(&mut self, series_ref: u32, labels: I)
    where
        I: IntoIterator,
        I::Item: LabelPair,
    {
        for p in labels {
            let (name, value) = (p.name(), p.value());
            let Some(values) = self.by_name.get_mut(name) else {
                continue;
            };
            if let Some(list) = values.get_mut(value) {
                if let Ok(i) = list.binary_search(&series_ref) {
                    list.remove(i);
                }
                if list.is_empty() {
                    values.remove(value);
                }
            }
            if values.is_empty() {
                self.by_name.remove(name);
            }
        }
        if let Ok(i) = self.all.binary_search(&series_ref) {
            self.all.remove(i);
        }
    }

    /// get returns the series with label `name="value"`, or an empty slice.
    /// `("", "")` is Prometheus's all-postings key and returns `all()`.
    pub fn get(&self, name: &str, value: &str) -> &[u32] {
        if name.is_empty() && value.is_empty() {
            return &self.all;
        }
        self.by_name
            .get(name)
            .and_then(|values| values.get(value))
            .map_or(&[], |l| l.as_slice())
    }

    /// all returns every indexed series reference, sorted.
    pub fn all(&self) -> &[u32] {
        &self.all
    }

    /// num_series returns how many series are indexed.
    pub fn num_series(&self) -> usize {
        self.all.len()
    }

    /// label_names returns the label names in use, sorted.
    pub fn label_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// label_values returns the values of label `name`, sorted.
    pub fn label_values(&self, name: &str) -> Vec<&str> {
        self.by_name
            .get(name)
            .map(|values| values.keys().map(|s| s.as_str()).collect())
            .unwrap_or_default()
    }

    /// label_value_count returns how many distinct values label `name` has.
    pub fn label_value_count(&self, name: &str) -> usize {
        self.by_name.get(name).map_or(0, |v| v.len())
    }

    /// for_each_value calls `f(value, refs)` for the values of `name` that
    /// start with `prefix`, in sorted order.
    pub fn for_each_value<'a>(
        &'a self,
        name: &str,
        prefix: &str,
        mut f: impl FnMut(&'a str, &'a [u32]),
    ) {
        let Some(values) = self.by_name.get(name) else {
            return;
        };
        let range = values.range::<str, _>((
            std::ops::Bound::Included(prefix),
            std::ops::Bound::Unbounded,
        ));
        for (v, list) in range {
            if !v.starts_with(prefix) {
                break;
            }
            f(v, list);
        }
    }
}

impl IndexReader for MemPostings {
    fn postings(&self, name: &str, values: &[&str]) -> BoxPostings<'_> {
        match values {
            [] => postings::empty(),
            [v] => Box::new(ListPostings::new(self.get(name, v))),
            _ => {
                let lists: Vec<&[u32]> = values.iter().map(|v| self.get(name, v)).collect();
                Box::new(VecPostings::new(postings::merge_sorted(&lists)))
            }
        }
    }

    fn all_postings(&self) -> BoxPostings<'_> {
        Box::new(ListPostings::new(&self.all))
    }

    fn series_hash(&self, r: u32) -> Option<u64> {
        MemPostings::series_hash(self, r)
    }

    fn label_values(&self, name: &str) -> Vec<&str> {
        MemPostings::label_values(self, name)
    }

    fn label_names(&self) -> Vec<&str> {
        MemPostings::label_names(self)
    }

    fn postings_for_label_matching(
        &self,
        name: &str,
        prefix: &str,
        pred: &dyn Fn(&str) -> bool,
    ) -> BoxPostings<'_> {
        let mut lists: Vec<&[u32]> = Vec::new();
        self.for_each_value(name, prefix, |v, list| {
            if pred(v) {
                lists.push(list);
            }
        });
        match lists.as_slice() {
            [] => postings::empty(),
            [one] => Box::new(ListPostings::new(one)),
            _ => Box::new(VecPostings::new(postings::merge_sorted(&lists))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn add_get_names_values() {
        let mut p = MemPostings::new();
        p.add(1, &ls(&[("__name__", "up"), ("job", "a")]));
        p.add(2, &ls(&[("__name__", "up"), ("job", "b"), ("empty", "")]));
        p.add(3, &ls(&[("__name__", "down"), ("job", "a")]));
        assert_eq!(p.get("__name__", "up"), &[1, 2]);
        assert_eq!(p.get("job", "a"), &[1, 3]);
        assert_eq!(p.get("job", "zzz"), &[] as &[u32]);
        assert_eq!(p.get("nope", "a"), &[] as &[u32]);
        assert_eq!(p.get("", ""), &[1, 2, 3]);
        assert_eq!(p.all(), &[1, 2, 3]);
        assert_eq!(p.label_names(), vec!["__name__", "job"]);
        assert_eq!(p.label_values("__name__"), vec!["down", "up"]);
        assert!(p.label_values("empty").is_empty());
        assert_eq!(p.label_value_count("job"), 2);
    }

    #[test]
    fn out_of_order_and_repeated_adds_stay_sorted() {
        let mut p = MemPostings::new();
        for r in [5, 3, 9, 3, 1, 7, 9] {
            p.add(r, &ls(&[("a", "x")]));
        }
        assert_eq!(p.get("a", "x"), &[1, 3, 5, 7, 9]);
        assert_eq!(p.all(), &[1, 3, 5, 7, 9]);
    }

    #[test]
    fn delete_drops_refs_and_empty_values() {
        let mut p = MemPostings::new();
        p.add(1, &ls(&[("a", "x"), ("b", "y")]));
        p.add(2, &ls(&[("a", "x")]));
        p.add(3, &ls(&[("a", "z")]));
        p.delete(&[3, 1]);
        assert_eq!(p.get("a", "x"), &[2]);
        assert!(p.label_values("a") == vec!["x"]);
        assert_eq!(p.label_names(), vec!["a"]);
        assert_eq!(p.all(), &[2]);
        p.delete_series(2, &ls(&[("a", "x")]));
        assert!(p.label_names().is_empty());
        assert!(p.all().is_empty());
    }

    #[test]
    fn prefix_scan_stops_at_prefix_end() {
        let mut p = MemPostings::new();
        for (i, v) in ["fo", "foo", "foo1", "foob", "fop", "g"].iter().enumerate() {
            p.add(i as u32, &ls(&[("a", v)]));
        }
        let mut seen = Vec::new();
        p.for_each_value("a", "foo", |v, _| seen.push(v));
        assert_eq!(seen, vec!["foo", "foo1", "foob"]);
    }
}
