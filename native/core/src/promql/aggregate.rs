//! aggregate.rs: the aggregation operators without a parameter (`sum`,
//! `avg`, `count`, `min`, `max`, `group`, `stddev`, `stdvar`) with
//! `by`/`without` grouping, accumulated over evaluated rows (one row of
//! values and presence bytes per input series and step) so a fused
//! selection can return only the groups, not every series.
//!
//! The arithmetic is the TypeScript engine's (`aggregate.ts`
//! `aggregateFloat`), operation for operation, so that results are
//! bit-identical: series are added in the order given (sorted by labels),
//! cell by cell; `sum` is Kahan–Neumaier compensated, `avg` switches to an
//! incremental mean once the sum overflows, `stddev`/`stdvar` use
//! Welford's update.

use std::collections::HashMap;

use super::kahan::kahan_inc;
use crate::model::series_labels::SeriesLabelsBuilder;

/// METRIC_NAME is the label `without` always drops.
const METRIC_NAME: &str = "__name__";

/// KEY_SEP separates names and values in a group key: 0xff never occurs in
/// UTF-8, so keys are unambiguous.
const KEY_SEP: u8 = 0xff;

/// AggOp is an aggregation operator the fused path computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
}

impl AggOp {
    /// from_name returns the operator of a PromQL aggregation name.
    pub fn from_name(name: &str) -> Option<AggOp> {
        Some(match name {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            _ => return None,
        })
    }
}

/// Aggregated is the answer of an aggregation: the groups in order of
/// first appearance, row-major `groups × steps`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregated {
    /// The groups' label sets (a SeriesLabels flatbuffer, see
    /// `model::series_labels`).
    pub labels: Vec<u8>,
    /// Meaningful where `present` is 1.
    pub values: Vec<f64>,
    pub present: Vec<u8>,
    /// The distinct `__name__` values of the input series that have a
    /// value at some step, in order of first appearance (when asked for).
    pub metric_names: Vec<String>,
    /// Samples the selection loaded (filled by the caller).
    pub samples: u64,
    /// Input cells with a value (series with a value at some step).
    pub cells: u64,
}

/// Grouper assigns label sets to the groups of a `by`/`without` grouping,
/// in order of first sight, and writes each group's labels once.
pub struct Grouper {
    without: bool,
    /// `by`: the grouping labels in output order, without duplicates;
    /// `without`: the labels dropped besides `__name__`.
    names: Vec<String>,
    key: Vec<u8>,
    index: HashMap<Vec<u8>, usize, ahash::RandomState>,
    groups: usize,
    labels: SeriesLabelsBuilder,
}

impl Grouper {
    /// new groups by (or, with `without`, without) `names`. A `by` list's
    /// output labels come in the order given (the caller sorts it).
    pub fn new(without: bool, names: &[String]) -> Self {
        let mut uniq: Vec<String> = Vec::with_capacity(names.len());
        for n in names {
            if !uniq.contains(n) {
                uniq.push(n.clone());
            }
        }
        Grouper {
            without,
            names: uniq,
            key: Vec::with_capacity(128),
            index: HashMap::default(),
            groups: 0,
            labels: SeriesLabelsBuilder::new(),
        }
    }

    /// len is the number of groups seen.
    pub fn len(&self) -> usize {
        self.groups
    }

    /// is_empty reports no group seen.
    pub fn is_empty(&self) -> bool {
        self.groups == 0
    }

    /// group_of returns the group of a label set (sorted by name), creating
    /// it (and writing its labels) on first sight.
    pub fn group_of<'a, I>(&mut self, labels: I) -> usize
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        self.key.clear();
        if self.without {
            for (n, v) in labels.clone() {
                if n == METRIC_NAME || self.names.iter().any(|x| x == n) {
                    continue;
                }
                push_key(&mut self.key, n, v);
            }
        } else {
            for name in &self.names {
                if let Some((n, v)) = labels.clone().find(|(n, _)| *n == name.as_str()) {
                    if !v.is_empty() {
                        push_key(&mut self.key, n, v);
                    }
                }
            }
        }
        if let Some(&g) = self.index.get(self.key.as_slice()) {
            return g;
        }
        let g = self.groups;
        self.groups += 1;
        self.index.insert(self.key.clone(), g);
        if self.without {
            let names = &self.names;
            self.labels
                .push(labels.filter(|(n, _)| *n != METRIC_NAME && !names.iter().any(|x| x == n)));
        } else {
            let mut kept: Vec<(&str, &str)> = Vec::with_capacity(self.names.len());
            for name in &self.names {
                if let Some((n, v)) = labels.clone().find(|(n, _)| *n == name.as_str()) {
                    if !v.is_empty() {
                        kept.push((n, v));
                    }
                }
            }
            self.labels.push(kept);
        }
        g
    }

    /// finish returns the groups' labels (a SeriesLabels flatbuffer).
    pub fn finish(self) -> Vec<u8> {
        self.labels.finish()
    }
}

/// Aggregator accumulates rows into groups.
pub struct Aggregator {
    op: AggOp,
    grouper: Grouper,
    n_steps: usize,
    seen: Vec<u8>,
    value: Vec<f64>,
    comp: Vec<f64>,
    mean: Vec<f64>,
    count: Vec<f64>,
    incremental: Vec<u8>,
    metric_names: Option<Vec<String>>,
    cells: u64,
}

impl Aggregator {
    /// new prepares `op` grouped by (or, with `without`, without) `names`
    /// over `n_steps` steps (see `Grouper::new`). With `metric_names` the
    /// distinct metric names of the input are collected.
    pub fn new(
        op: AggOp,
        without: bool,
        names: &[String],
        n_steps: usize,
        metric_names: bool,
    ) -> Self {
        Aggregator {
            op,
            grouper: Grouper::new(without, names),
            n_steps,
            seen: Vec::new(),
            value: Vec::new(),
            comp: Vec::new(),
            mean: Vec::new(),
            count: Vec::new(),
            incremental: Vec::new(),
            metric_names: metric_names.then(Vec::new),
            cells: 0,
        }
    }

    /// group_of returns the group of a label set, sizing the cells of a new one.
    fn group_of<'a, I>(&mut self, labels: I) -> usize
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        let g = self.grouper.group_of(labels);
        let cells = self.grouper.len() * self.n_steps;
        if self.seen.len() < cells {
            self.seen.resize(cells, 0);
            self.value.resize(cells, 0.0);
            self.comp.resize(cells, 0.0);
            self.mean.resize(cells, 0.0);
            self.count.resize(cells, 0.0);
            self.incremental.resize(cells, 0);
        }
        g
    }

    /// add_series adds one evaluated row (a value per step where `present`
    /// is 1) of the series with these labels (sorted by name). Rows
    /// without any value are ignored, as the engine drops such series
    /// before aggregating.
    pub fn add_series<'a, I>(&mut self, labels: I, values: &[f64], present: &[u8])
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        if !present.contains(&1) {
            return;
        }
        if let Some(names) = self.metric_names.as_mut() {
            if let Some((_, m)) = labels.clone().find(|(n, _)| *n == METRIC_NAME) {
                if !names.iter().any(|x| x == m) {
                    names.push(m.to_string());
                }
            }
        }
        let base = self.group_of(labels) * self.n_steps;
        for (i, (&f, &p)) in values.iter().zip(present).enumerate() {
            if p == 0 {
                continue;
            }
            self.cells += 1;
            self.add(base + i, f);
        }
    }

    /// add accumulates f into cell x.
    #[inline]
    fn add(&mut self, x: usize, f: f64) {
        if self.seen[x] == 0 {
            self.seen[x] = 1;
            self.value[x] = f;
            self.mean[x] = f;
            self.count[x] = 1.0;
            match self.op {
                AggOp::Stddev | AggOp::Stdvar => {
                    self.value[x] = if f.is_finite() { 0.0 } else { f64::NAN };
                }
                AggOp::Group => self.value[x] = 1.0,
                _ => {}
            }
            return;
        }
        match self.op {
            AggOp::Sum => {
                let (t, c) = kahan_inc(f, self.value[x], self.comp[x]);
                self.value[x] = t;
                self.comp[x] = c;
            }
            AggOp::Avg => {
                self.count[x] += 1.0;
                let c = self.count[x];
                if self.incremental[x] == 0 {
                    let (nv, nc) = kahan_inc(f, self.value[x], self.comp[x]);
                    if !nv.is_infinite() {
                        self.value[x] = nv;
                        self.comp[x] = nc;
                        return;
                    }
                    self.incremental[x] = 1;
                    self.mean[x] = self.value[x] / (c - 1.0);
                    self.comp[x] /= c - 1.0;
                }
                let q = (c - 1.0) / c;
                let (m, k) = kahan_inc(f / c, q * self.mean[x], q * self.comp[x]);
                self.mean[x] = m;
                self.comp[x] = k;
            }
            AggOp::Group => {}
            AggOp::Max => {
                if self.value[x] < f || self.value[x].is_nan() {
                    self.value[x] = f;
                }
            }
            AggOp::Min => {
                if self.value[x] > f || self.value[x].is_nan() {
                    self.value[x] = f;
                }
            }
            AggOp::Count => self.count[x] += 1.0,
            AggOp::Stddev | AggOp::Stdvar => {
                self.count[x] += 1.0;
                let delta = f - self.mean[x];
                self.mean[x] += delta / self.count[x];
                self.value[x] += delta * (f - self.mean[x]);
            }
        }
    }

    /// finish returns the groups' labels and per-step results.
    pub fn finish(self, samples: u64) -> Aggregated {
        let cells = self.grouper.len() * self.n_steps;
        let mut values = vec![0.0; cells];
        for (x, v) in values.iter_mut().enumerate() {
            if self.seen[x] == 0 {
                continue;
            }
            let (value, comp, count) = (self.value[x], self.comp[x], self.count[x]);
            *v = match self.op {
                AggOp::Sum => value + comp,
                AggOp::Avg if self.incremental[x] == 1 => self.mean[x] + comp,
                AggOp::Avg => value / count + comp / count,
                AggOp::Count => count,
                AggOp::Stdvar => value / count,
                AggOp::Stddev => (value / count).sqrt(),
                AggOp::Min | AggOp::Max | AggOp::Group => value,
            };
        }
        Aggregated {
            labels: self.grouper.finish(),
            values,
            present: self.seen,
            metric_names: self.metric_names.unwrap_or_default(),
            samples,
            cells: self.cells,
        }
    }
}

/// push_key appends one label to a group key.
#[inline]
fn push_key(key: &mut Vec<u8>, name: &str, value: &str) {
    key.extend_from_slice(name.as_bytes());
    key.push(KEY_SEP);
    key.extend_from_slice(value.as_bytes());
    key.push(KEY_SEP);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::series_labels::labels_json;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn groups_by_and_without() {
        let a = [("__name__", "x"), ("job", "a"), ("pod", "1")];
        let b = [("__name__", "x"), ("job", "a"), ("pod", "2")];
        let c = [("__name__", "x"), ("job", "b"), ("pod", "1")];
        let mut agg = Aggregator::new(AggOp::Sum, false, &names(&["job"]), 2, true);
        agg.add_series(a.iter().copied(), &[1.0, 2.0], &[1, 1]);
        agg.add_series(b.iter().copied(), &[3.0, 0.0], &[1, 0]);
        agg.add_series(c.iter().copied(), &[5.0, 6.0], &[0, 1]);
        agg.add_series(c.iter().copied(), &[7.0, 8.0], &[0, 0]);
        let out = agg.finish(9);
        assert_eq!(labels_json(&out.labels), r#"[{"job":"a"},{"job":"b"}]"#);
        assert_eq!(out.values, vec![4.0, 2.0, 0.0, 6.0]);
        assert_eq!(out.present, vec![1, 1, 0, 1]);
        assert_eq!(out.metric_names, vec!["x".to_string()]);
        assert_eq!(out.samples, 9);

        let mut agg = Aggregator::new(AggOp::Count, true, &names(&["pod"]), 1, false);
        agg.add_series(a.iter().copied(), &[1.0], &[1]);
        agg.add_series(b.iter().copied(), &[1.0], &[1]);
        agg.add_series(c.iter().copied(), &[1.0], &[1]);
        let out = agg.finish(0);
        assert_eq!(labels_json(&out.labels), r#"[{"job":"a"},{"job":"b"}]"#);
        assert_eq!(out.values, vec![2.0, 1.0]);
    }

    #[test]
    fn sum_is_compensated_and_avg_survives_overflow() {
        let l = [("a", "1")];
        let mut agg = Aggregator::new(AggOp::Sum, false, &[], 1, false);
        for v in [1e100, 1.0, -1e100] {
            agg.add_series(l.iter().copied(), &[v], &[1]);
        }
        assert_eq!(agg.finish(0).values, vec![1.0]);
        let mut agg = Aggregator::new(AggOp::Avg, false, &[], 1, false);
        for v in [f64::MAX, f64::MAX, -f64::MAX] {
            agg.add_series(l.iter().copied(), &[v], &[1]);
        }
        let v = agg.finish(0).values[0];
        assert!(v.is_finite() && v > 0.0, "{v}");
    }
}
