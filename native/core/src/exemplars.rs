//! exemplars is each tenant's exemplar storage, as Prometheus's
//! `CircularExemplarStorage` (the one Mimir's ingester runs): one bounded
//! ring of exemplars per tenant, its size the tenant's
//! `-ingester.max-global-exemplars-per-user` (0 disables exemplars). A new
//! exemplar overwrites the oldest of the tenant. Each series' exemplars are
//! chained through the ring in arrival order (oldest -> newest), so a
//! series' exemplars are found without scanning the ring, and a new one is
//! checked against the series' newest only: an exact repeat is a no-op
//! (`duplicate exemplar`, not an error), an older one is
//! `out of order exemplar`.
//!
//! Exemplars are keyed by the head's series ref: the series must exist
//! (Mimir refuses exemplars of series it has not ingested). Queries select
//! series with the head's postings and answer Prometheus's
//! `/api/v1/query_exemplars` JSON.
//!
//! # Locks
//!
//! Each ring has its own mutex, the innermost lock: it is taken after the
//! head's locks were released (queries resolve series first) or while
//! none of them is held (ingest), and nothing is locked under it.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::head::{write_labels_json, Head};
use crate::index::Matcher;
use crate::labels::Labels;

const NONE: u32 = u32::MAX;

/// OUT_OF_ORDER_EXEMPLAR is Prometheus's `storage.ErrOutOfOrderExemplar` text.
pub const OUT_OF_ORDER_EXEMPLAR: &str = "out of order exemplar";

/// Added is what happened to an exemplar given to [`ExemplarRing::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Stored,
    /// Equal to the series' newest exemplar: nothing stored.
    Duplicate,
}

/// OutOfOrder is the error of an exemplar older than its series' newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfOrder;

#[derive(Debug, Clone)]
struct Slot {
    series_ref: u32,
    ts: i64,
    value: f64,
    labels: Labels,
    /// Next (newer) exemplar of the same series, NONE for the newest.
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct Chain {
    oldest: u32,
    newest: u32,
}

/// ExemplarRing is one tenant's bounded exemplar storage.
#[derive(Debug, Default)]
pub struct ExemplarRing {
    slots: Vec<Option<Slot>>,
    /// Slot the next exemplar goes to (the oldest one once full).
    next: usize,
    chains: HashMap<u32, Chain, ahash::RandomState>,
}

/// normalize sorts exemplar labels by name and drops empty values (the
/// TSDB ignores those).
fn normalize<'a>(labels: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

impl ExemplarRing {
    /// new creates an empty ring of `capacity` exemplars.
    pub fn new(capacity: usize) -> Self {
        ExemplarRing {
            slots: vec![None; capacity],
            next: 0,
            chains: HashMap::default(),
        }
    }

    /// capacity is the most exemplars the ring holds.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// len counts the stored exemplars.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// is_empty reports a ring without exemplars.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }

    /// series_count is the number of series with exemplars.
    pub fn series_count(&self) -> usize {
        self.chains.len()
    }

    /// add stores an exemplar of a series (labels in any order).
    pub fn add(
        &mut self,
        series_ref: u32,
        labels: &[(&str, &str)],
        ts: i64,
        value: f64,
    ) -> Result<Added, OutOfOrder> {
        if self.slots.is_empty() {
            return Ok(Added::Duplicate);
        }
        let labels = normalize(labels);
        if let Some(c) = self.chains.get(&series_ref) {
            let newest = self.slots[c.newest as usize]
                .as_ref()
                .expect("chained slot is occupied");
            let newest_labels: Vec<(&str, &str)> = newest.labels.iter().collect();
            if newest.ts == ts && newest.value == value && newest_labels == labels {
                return Ok(Added::Duplicate);
            }
            if ts < newest.ts
                || (ts == newest.ts && value < newest.value)
                || (ts == newest.ts && value == newest.value && labels < newest_labels)
            {
                return Err(OutOfOrder);
            }
        }
        self.store(series_ref, Labels::from_pairs(labels.iter()), ts, value);
        Ok(Added::Stored)
    }

    /// store writes an exemplar into the next slot, evicting the oldest.
    fn store(&mut self, series_ref: u32, labels: Labels, ts: i64, value: f64) {
        let at = self.next;
        if let Some(old) = self.slots[at].take() {
            // The globally oldest exemplar is its series' oldest.
            let c = self
                .chains
                .get_mut(&old.series_ref)
                .expect("evicted slot is chained");
            if old.next == NONE {
                self.chains.remove(&old.series_ref);
            } else {
                c.oldest = old.next;
            }
        }
        self.slots[at] = Some(Slot {
            series_ref,
            ts,
            value,
            labels,
            next: NONE,
        });
        match self.chains.get_mut(&series_ref) {
            Some(c) => {
                let prev = c.newest as usize;
                c.newest = at as u32;
                self.slots[prev]
                    .as_mut()
                    .expect("chained slot is occupied")
                    .next = at as u32;
            }
            None => {
                self.chains.insert(
                    series_ref,
                    Chain {
                        oldest: at as u32,
                        newest: at as u32,
                    },
                );
            }
        }
        self.next = (at + 1) % self.slots.len();
    }

    /// resize changes the capacity, keeping the newest exemplars that fit.
    pub fn resize(&mut self, capacity: usize) {
        if capacity == self.slots.len() {
            return;
        }
        let n = self.slots.len();
        let mut kept: Vec<Slot> = (0..n)
            .filter_map(|i| self.slots[(self.next + i) % n].take())
            .collect();
        if kept.len() > capacity {
            kept.drain(..kept.len() - capacity);
        }
        *self = ExemplarRing::new(capacity);
        for s in kept {
            self.store(s.series_ref, s.labels, s.ts, s.value);
        }
    }

    /// for_series calls `f` with each exemplar of a series, oldest first.
    pub fn for_series<F>(&self, series_ref: u32, mut f: F)
    where
        F: FnMut(i64, f64, &Labels),
    {
        let Some(c) = self.chains.get(&series_ref) else {
            return;
        };
        let mut at = c.oldest;
        while at != NONE {
            let s = self.slots[at as usize]
                .as_ref()
                .expect("chained slot is occupied");
            f(s.ts, s.value, &s.labels);
            at = s.next;
        }
    }

    /// write_series_json appends the exemplars of a series within
    /// [start, end] as a JSON array's elements (no brackets); returns how
    /// many it wrote.
    fn write_series_json(&self, series_ref: u32, start: i64, end: i64, out: &mut String) -> usize {
        let mut n = 0;
        self.for_series(series_ref, |ts, value, labels| {
            if ts < start || ts > end {
                return;
            }
            if n > 0 {
                out.push(',');
            }
            out.push_str("{\"labels\":");
            write_labels_json(out, labels.iter());
            out.push_str(",\"value\":\"");
            write_prom_float(out, value);
            out.push_str("\",\"timestamp\":");
            write_prom_timestamp(out, ts);
            out.push('}');
            n += 1;
        });
        n
    }
}

/// write_prom_float writes a value as Prometheus's API does
/// (`strconv.FormatFloat(v, 'f', -1, 64)`, `+Inf`, `-Inf`, `NaN`).
pub fn write_prom_float(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// write_prom_timestamp writes a ms time as Prometheus's API does: seconds,
/// then the milliseconds as three digits when not zero.
pub fn write_prom_timestamp(out: &mut String, ms: i64) {
    use std::fmt::Write;
    let (sign, abs) = if ms < 0 {
        ("-", ms.unsigned_abs())
    } else {
        ("", ms as u64)
    };
    let _ = write!(out, "{sign}{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// exemplars_json answers `/api/v1/query_exemplars` for one tenant: the
/// exemplars within [start, end] of the series matching any of the sets,
/// as the JSON array of the `data` field (series sorted by labels, each
/// series' exemplars oldest first; series without any left out).
pub fn exemplars_json(
    head: Option<&Head>,
    ring: Option<&Mutex<ExemplarRing>>,
    sets: &[Vec<Matcher>],
    start: i64,
    end: i64,
) -> String {
    let (Some(head), Some(ring)) = (head, ring) else {
        return "[]".to_string();
    };
    let refs = head.series_refs_matching(sets);
    let mut parts: Vec<(u32, String)> = Vec::new();
    {
        let ring = ring.lock();
        for r in refs {
            let mut s = String::new();
            if ring.write_series_json(r, start, end, &mut s) > 0 {
                parts.push((r, s));
            }
        }
    }
    let mut series: Vec<(Labels, String)> = parts
        .into_iter()
        .filter_map(|(r, s)| Some((head.series_by_ref(r)?.labels.clone(), s)))
        .collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::from("[");
    for (i, (labels, ex)) in series.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"seriesLabels\":");
        write_labels_json(&mut out, labels.iter());
        out.push_str(",\"exemplars\":[");
        out.push_str(ex);
        out.push_str("]}");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::MatchType;

    fn collect(r: &ExemplarRing, series_ref: u32) -> Vec<(i64, f64)> {
        let mut v = Vec::new();
        r.for_series(series_ref, |t, x, _| v.push((t, x)));
        v
    }

    #[test]
    fn ring_evicts_oldest_across_series() {
        let mut r = ExemplarRing::new(3);
        let l: &[(&str, &str)] = &[("trace_id", "a")];
        assert_eq!(r.add(1, l, 10, 1.0), Ok(Added::Stored));
        assert_eq!(r.add(2, l, 11, 2.0), Ok(Added::Stored));
        assert_eq!(r.add(1, l, 12, 3.0), Ok(Added::Stored));
        assert_eq!(r.add(2, l, 13, 4.0), Ok(Added::Stored));
        // Series 1 lost its oldest, series 2 keeps both.
        assert_eq!(collect(&r, 1), vec![(12, 3.0)]);
        assert_eq!(collect(&r, 2), vec![(11, 2.0), (13, 4.0)]);
        assert_eq!(r.add(3, l, 1, 5.0), Ok(Added::Stored));
        assert_eq!(r.add(3, l, 2, 6.0), Ok(Added::Stored));
        assert_eq!(collect(&r, 1), vec![]);
        assert_eq!(collect(&r, 2), vec![(13, 4.0)]);
        assert_eq!((r.len(), r.series_count()), (3, 2));
    }

    #[test]
    fn duplicates_and_out_of_order() {
        let mut r = ExemplarRing::new(10);
        let a: &[(&str, &str)] = &[("trace_id", "a"), ("empty", "")];
        let b: &[(&str, &str)] = &[("trace_id", "b")];
        assert_eq!(r.add(1, a, 10, 1.0), Ok(Added::Stored));
        // Same after normalisation (empty value dropped): a duplicate.
        assert_eq!(
            r.add(1, &[("trace_id", "a")], 10, 1.0),
            Ok(Added::Duplicate)
        );
        assert_eq!(r.add(1, a, 9, 1.0), Err(OutOfOrder));
        assert_eq!(r.add(1, a, 10, 0.5), Err(OutOfOrder));
        // Same time and value, other labels: ordered by labels.
        assert_eq!(r.add(1, b, 10, 1.0), Ok(Added::Stored));
        assert_eq!(r.add(1, a, 10, 1.0), Err(OutOfOrder));
        assert_eq!(r.add(2, a, 5, 1.0), Ok(Added::Stored), "other series");
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn resize_keeps_newest() {
        let mut r = ExemplarRing::new(4);
        let l: &[(&str, &str)] = &[("t", "x")];
        for i in 0..6 {
            r.add(1 + (i % 2) as u32, l, i, i as f64).unwrap();
        }
        r.resize(2);
        assert_eq!(r.capacity(), 2);
        assert_eq!(collect(&r, 1), vec![(4, 4.0)]);
        assert_eq!(collect(&r, 2), vec![(5, 5.0)]);
        r.resize(5);
        r.add(1, l, 6, 6.0).unwrap();
        assert_eq!(collect(&r, 1), vec![(4, 4.0), (6, 6.0)]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn formats_like_prometheus() {
        let f = |v| {
            let mut s = String::new();
            write_prom_float(&mut s, v);
            s
        };
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(1e21), "1000000000000000000000");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        let t = |ms| {
            let mut s = String::new();
            write_prom_timestamp(&mut s, ms);
            s
        };
        assert_eq!(t(1_700_000_000_123), "1700000000.123");
        assert_eq!(t(1_700_000_000_120), "1700000000.120");
        assert_eq!(t(1_700_000_000_005), "1700000000.005");
        assert_eq!(t(1_700_000_000_000), "1700000000");
        assert_eq!(t(-1500), "-1.500");
    }

    #[test]
    fn query_json() {
        let reg = crate::tsdb::Registry::new();
        let s = reg.tenant("t");
        let h = s.head();
        let (a, _) = h.get_or_create(&[("__name__", "req"), ("job", "b")]);
        let (b, _) = h.get_or_create(&[("__name__", "req"), ("job", "a")]);
        let (c, _) = h.get_or_create(&[("__name__", "other")]);
        let ring = s.exemplar_ring(10).unwrap();
        {
            let mut r = ring.lock();
            r.add(a.series_ref, &[("trace_id", "1")], 1_000, 1.5)
                .unwrap();
            r.add(a.series_ref, &[("trace_id", "2")], 2_500, 2.0)
                .unwrap();
            r.add(b.series_ref, &[("trace_id", "3")], 3_000, 3.0)
                .unwrap();
            r.add(c.series_ref, &[("trace_id", "4")], 1_000, 4.0)
                .unwrap();
        }
        let req = vec![vec![
            Matcher::new(MatchType::Equal, "__name__", "req").unwrap()
        ]];
        assert_eq!(
            exemplars_json(Some(h), s.exemplars().as_deref(), &req, 0, 2_000),
            r#"[{"seriesLabels":{"__name__":"req","job":"b"},"exemplars":[{"labels":{"trace_id":"1"},"value":"1.5","timestamp":1}]}]"#
        );
        assert_eq!(
            exemplars_json(Some(h), s.exemplars().as_deref(), &req, 0, 10_000),
            r#"[{"seriesLabels":{"__name__":"req","job":"a"},"exemplars":[{"labels":{"trace_id":"3"},"value":"3","timestamp":3}]},{"seriesLabels":{"__name__":"req","job":"b"},"exemplars":[{"labels":{"trace_id":"1"},"value":"1.5","timestamp":1},{"labels":{"trace_id":"2"},"value":"2","timestamp":2.500}]}]"#
        );
        assert_eq!(exemplars_json(None, None, &req, 0, 10_000), "[]");
        assert!(s.exemplar_ring(0).is_none());
        assert_eq!(
            exemplars_json(Some(h), s.exemplars().as_deref(), &req, 0, 10_000),
            "[]"
        );
    }
}
