//! The head's read path for the metadata endpoints: series, label names and
//! label values, each for a union of matcher sets and a time range.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::index::{postings_for_matchers, MatchType, Matcher};

use super::json::write_json_string;
use super::series::MemSeries;
use super::Head;

/// build_matcher_sets turns `(type, name, value)` triples (type as
/// Prometheus's `labels.MatchType`: 0 `=`, 1 `!=`, 2 `=~`, 3 `!~`) into
/// matchers. Errors name the bad regexp or type.
pub fn build_matcher_sets<'a, S, M>(sets: S) -> Result<Vec<Vec<Matcher>>, String>
where
    S: IntoIterator<Item = M>,
    M: IntoIterator<Item = (u32, &'a str, &'a str)>,
{
    sets.into_iter()
        .map(|set| {
            set.into_iter()
                .map(|(kind, name, value)| {
                    let mt = match kind {
                        0 => MatchType::Equal,
                        1 => MatchType::NotEqual,
                        2 => MatchType::Regexp,
                        3 => MatchType::NotRegexp,
                        other => {
                            return Err(format!("invalid matcher type {other} for label {name:?}"))
                        }
                    };
                    Matcher::new(mt, name, value)
                })
                .collect()
        })
        .collect()
}

impl Head {
    /// overlaps reports whether the head holds samples within [mint, maxt].
    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        match (self.min_time(), self.max_time()) {
            (Some(a), Some(b)) => a <= maxt && b >= mint,
            _ => false,
        }
    }

    /// select_series returns the series matching any of the matcher sets
    /// (all series when there are none) with samples in [mint, maxt],
    /// sorted by label set as Prometheus sorts series.
    pub fn select_series(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Vec<Arc<MemSeries>> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let candidates: Vec<Arc<MemSeries>> = {
            let idx = self.index.read();
            if sets.is_empty() {
                idx.series.clone()
            } else {
                let mut refs: Vec<u32> = Vec::new();
                for set in sets {
                    refs.extend(postings_for_matchers(&idx.postings, set));
                }
                refs.sort_unstable();
                refs.dedup();
                refs.iter().filter_map(|r| idx.get(*r).cloned()).collect()
            }
        };
        let mut out: Vec<Arc<MemSeries>> = candidates
            .into_iter()
            .filter(|s| s.overlaps(mint, maxt))
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// series_json answers `/api/v1/series`: a JSON array of label objects.
    /// `limit` 0 means no limit.
    pub fn series_json(&self, sets: &[Vec<Matcher>], mint: i64, maxt: i64, limit: usize) -> String {
        let series = self.select_series(sets, mint, maxt);
        let n = if limit == 0 {
            series.len()
        } else {
            series.len().min(limit)
        };
        let mut out = String::with_capacity(2 + n * 64);
        out.push('[');
        for (i, s) in series.iter().take(n).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            for (j, (name, value)) in s.labels.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, name);
                out.push(':');
                write_json_string(&mut out, value);
            }
            out.push('}');
        }
        out.push(']');
        out
    }

    /// label_names answers `/api/v1/labels`, sorted; `limit` 0 = no limit.
    pub fn label_names(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
    ) -> Vec<String> {
        let mut names: Vec<String> = if sets.is_empty() {
            if !self.overlaps(mint, maxt) {
                return Vec::new();
            }
            let idx = self.index.read();
            idx.postings
                .label_names()
                .iter()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            let mut set = BTreeSet::new();
            for s in self.select_series(sets, mint, maxt) {
                for (n, _) in s.labels.iter() {
                    if !set.contains(n.as_str()) {
                        set.insert(n.clone());
                    }
                }
            }
            set.into_iter().collect()
        };
        names.sort_unstable();
        names.dedup();
        if limit > 0 {
            names.truncate(limit);
        }
        names
    }

    /// label_values answers `/api/v1/label/{name}/values`, sorted;
    /// `limit` 0 = no limit.
    pub fn label_values(
        &self,
        name: &str,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        limit: usize,
    ) -> Vec<String> {
        let mut values: Vec<String> = if sets.is_empty() {
            if !self.overlaps(mint, maxt) {
                return Vec::new();
            }
            let idx = self.index.read();
            idx.postings
                .label_values(name)
                .iter()
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            let mut set = BTreeSet::new();
            for s in self.select_series(sets, mint, maxt) {
                if let Some((_, v)) = s.labels.iter().find(|(n, _)| n == name) {
                    if !set.contains(v.as_str()) {
                        set.insert(v.clone());
                    }
                }
            }
            set.into_iter().collect()
        };
        values.sort_unstable();
        values.dedup();
        if limit > 0 {
            values.truncate(limit);
        }
        values
    }
}
