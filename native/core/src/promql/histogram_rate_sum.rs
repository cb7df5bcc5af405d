//! histogram_rate_sum.rs: `sum by|without (...) (rate|increase(h[r]))`
//! over native-histogram series, evaluated natively so that only the
//! groups' histograms cross into the TypeScript engine (the float
//! aggregation pushdown's counterpart, see `aggregate.rs`).
//!
//! The arithmetic is the engine's (`histogram-range.ts` `histogramRate` /
//! `histogramIncrease`, `float-histogram.ts` `FloatHistogram.add` and
//! `KahanHistogramSum`, `aggregate.ts` `mergeHistogramGroups`), operation
//! for operation, so that answers are bit-identical. It covers the shape
//! real counters have; anything else makes `add_series` answer false and
//! the engine takes its general path, which also raises the annotations:
//! - a non-stale float sample in a series (mixed windows, mixed groups);
//! - a gauge histogram (`rate` warns about it);
//! - a series mixing exponential and custom buckets, or custom bounds;
//!   custom buckets with negative buckets;
//! - zero thresholds that differ (widening the zero bucket);
//! - a bucket that might lie inside the zero bucket;
//! - a group whose series differ in schema, bucket kind or custom bounds
//!   (the sum's compensation would have to follow a layout change).
//!
//! Counter resets are detected once per pair of neighbouring samples (the
//! engine detects them again for every window that holds the pair; the
//! answer is the same).

use super::aggregate::Grouper;
use super::kahan::kahan_inc;
use crate::head::SelectedHistograms;
use crate::model::histogram::{is_stale_nan, CounterResetHint, Span};
use crate::model::histogram_flat::{FlatHeader, HEADER_LEN};

/// CUSTOM_SCHEMA is the schema of native histograms with custom buckets.
const CUSTOM_SCHEMA: i32 = -53;
const HINT_UNKNOWN: u8 = CounterResetHint::Unknown as u8;
const HINT_COUNTER_RESET: u8 = CounterResetHint::CounterReset as u8;
const HINT_NOT_COUNTER_RESET: u8 = CounterResetHint::NotCounterReset as u8;
const HINT_GAUGE: u8 = CounterResetHint::Gauge as u8;

/// Sample is one decoded histogram sample: its header and the ranges of
/// its buckets in the series' arenas.
#[derive(Clone, Copy, Debug)]
struct Sample {
    t: i64,
    schema: i32,
    zc: f64,
    count: f64,
    sum: f64,
    hint: u8,
    pos: (usize, usize),
    neg: (usize, usize),
}

/// View is a histogram to read: a sample, an accumulator, or the empty
/// histogram a counter starts from after a reset.
#[derive(Clone, Copy)]
struct View<'a> {
    schema: i32,
    zc: f64,
    count: f64,
    sum: f64,
    pos_idx: &'a [i32],
    pos_cnt: &'a [f64],
    neg_idx: &'a [i32],
    neg_cnt: &'a [f64],
}

impl View<'_> {
    /// empty is a histogram without observations (the engine's
    /// `new FloatHistogram(schema)`, zero threshold 0).
    fn empty(schema: i32) -> View<'static> {
        View {
            schema,
            zc: 0.0,
            count: 0.0,
            sum: 0.0,
            pos_idx: &[],
            pos_cnt: &[],
            neg_idx: &[],
            neg_cnt: &[],
        }
    }
}

/// Hist is an owned histogram the kernel computes on. Its zero threshold
/// is the selection's (one for all, see the module comment).
#[derive(Clone, Debug, Default)]
struct Hist {
    schema: i32,
    zc: f64,
    count: f64,
    sum: f64,
    pos_idx: Vec<i32>,
    pos_cnt: Vec<f64>,
    neg_idx: Vec<i32>,
    neg_cnt: Vec<f64>,
}

/// Merge are reusable buffers for a bucket merge or reduction.
#[derive(Default)]
struct Merge {
    idx: Vec<i32>,
    cnt: Vec<f64>,
    idx2: Vec<i32>,
    cnt2: Vec<f64>,
}

/// target_idx maps a bucket index of `origin` to its bucket in the coarser
/// `target` schema (the shift floors negative indices).
#[inline]
fn target_idx(idx: i32, origin: i32, target: i32) -> i32 {
    ((idx - 1) >> (origin - target)) + 1
}

/// reduce_into merges ascending buckets of `origin` into `target`, in order.
fn reduce_into(
    idx: &[i32],
    cnt: &[f64],
    origin: i32,
    target: i32,
    oi: &mut Vec<i32>,
    oc: &mut Vec<f64>,
) {
    oi.clear();
    oc.clear();
    for (&x, &c) in idx.iter().zip(cnt) {
        let t = target_idx(x, origin, target);
        match (oi.last(), oc.last_mut()) {
            (Some(&l), Some(lc)) if l == t => *lc += c,
            _ => {
                oi.push(t);
                oc.push(c);
            }
        }
    }
}

/// merge_into adds `sign * b` into `a` (ascending, same schema) as new
/// buckets in (oi, oc).
fn merge_into(
    ai: &[i32],
    ac: &[f64],
    bi: &[i32],
    bc: &[f64],
    sign: f64,
    oi: &mut Vec<i32>,
    oc: &mut Vec<f64>,
) {
    oi.clear();
    oc.clear();
    if ai == bi {
        oi.extend_from_slice(ai);
        oc.extend(ac.iter().zip(bc).map(|(&a, &b)| a + sign * b));
        return;
    }
    let (mut i, mut j) = (0, 0);
    while i < ai.len() || j < bi.len() {
        if j >= bi.len() || (i < ai.len() && ai[i] < bi[j]) {
            oi.push(ai[i]);
            oc.push(ac[i]);
            i += 1;
        } else if i >= ai.len() || bi[j] < ai[i] {
            oi.push(bi[j]);
            oc.push(sign * bc[j]);
            j += 1;
        } else {
            oi.push(ai[i]);
            oc.push(ac[i] + sign * bc[j]);
            i += 1;
            j += 1;
        }
    }
}

/// drop_empty removes the buckets with a zero count.
fn drop_empty(idx: &mut Vec<i32>, cnt: &mut Vec<f64>) {
    let mut k = 0;
    for i in 0..idx.len() {
        if cnt[i] != 0.0 {
            idx[k] = idx[i];
            cnt[k] = cnt[i];
            k += 1;
        }
    }
    idx.truncate(k);
    cnt.truncate(k);
}

impl Hist {
    /// set_reduced makes self a copy of v at the coarser `schema` (custom
    /// buckets are never reduced).
    fn set_reduced(&mut self, v: &View<'_>, schema: i32) {
        self.zc = v.zc;
        self.count = v.count;
        self.sum = v.sum;
        if v.schema == CUSTOM_SCHEMA || schema >= v.schema {
            self.schema = v.schema;
            self.pos_idx.clear();
            self.pos_idx.extend_from_slice(v.pos_idx);
            self.pos_cnt.clear();
            self.pos_cnt.extend_from_slice(v.pos_cnt);
            self.neg_idx.clear();
            self.neg_idx.extend_from_slice(v.neg_idx);
            self.neg_cnt.clear();
            self.neg_cnt.extend_from_slice(v.neg_cnt);
            return;
        }
        self.schema = schema;
        reduce_into(
            v.pos_idx,
            v.pos_cnt,
            v.schema,
            schema,
            &mut self.pos_idx,
            &mut self.pos_cnt,
        );
        reduce_into(
            v.neg_idx,
            v.neg_cnt,
            v.schema,
            schema,
            &mut self.neg_idx,
            &mut self.neg_cnt,
        );
    }

    /// reduce lowers self to the coarser `schema`, in place.
    fn reduce(&mut self, schema: i32, m: &mut Merge) {
        if self.schema == CUSTOM_SCHEMA || schema >= self.schema {
            return;
        }
        reduce_into(
            &self.pos_idx,
            &self.pos_cnt,
            self.schema,
            schema,
            &mut m.idx,
            &mut m.cnt,
        );
        std::mem::swap(&mut self.pos_idx, &mut m.idx);
        std::mem::swap(&mut self.pos_cnt, &mut m.cnt);
        reduce_into(
            &self.neg_idx,
            &self.neg_cnt,
            self.schema,
            schema,
            &mut m.idx,
            &mut m.cnt,
        );
        std::mem::swap(&mut self.neg_idx, &mut m.idx);
        std::mem::swap(&mut self.neg_cnt, &mut m.cnt);
        self.schema = schema;
    }

    /// add adds `sign * o` (the engine's `FloatHistogram.add`) where the
    /// zero thresholds agree or `o` is empty: either way o's zero count
    /// at self's threshold is its own.
    fn add(&mut self, o: &View<'_>, sign: f64, m: &mut Merge) {
        let custom = self.schema == CUSTOM_SCHEMA;
        let ozc = if custom { 0.0 } else { o.zc };
        self.zc += sign * ozc;
        self.count += sign * o.count;
        self.sum += sign * o.sum;
        if custom {
            merge_into(
                &self.pos_idx,
                &self.pos_cnt,
                o.pos_idx,
                o.pos_cnt,
                sign,
                &mut m.idx,
                &mut m.cnt,
            );
            std::mem::swap(&mut self.pos_idx, &mut m.idx);
            std::mem::swap(&mut self.pos_cnt, &mut m.cnt);
            return;
        }
        if o.schema < self.schema {
            self.reduce(o.schema, m);
        }
        for positive in [true, false] {
            let (oi, oc) = if positive {
                (o.pos_idx, o.pos_cnt)
            } else {
                (o.neg_idx, o.neg_cnt)
            };
            let (oi, oc): (&[i32], &[f64]) = if o.schema > self.schema {
                reduce_into(oi, oc, o.schema, self.schema, &mut m.idx2, &mut m.cnt2);
                (&m.idx2, &m.cnt2)
            } else {
                (oi, oc)
            };
            let (si, sc) = if positive {
                (&mut self.pos_idx, &mut self.pos_cnt)
            } else {
                (&mut self.neg_idx, &mut self.neg_cnt)
            };
            merge_into(si, sc, oi, oc, sign, &mut m.idx, &mut m.cnt);
            std::mem::swap(si, &mut m.idx);
            std::mem::swap(sc, &mut m.cnt);
        }
    }

    fn compact(&mut self) {
        drop_empty(&mut self.pos_idx, &mut self.pos_cnt);
        drop_empty(&mut self.neg_idx, &mut self.neg_cnt);
    }

    fn mul(&mut self, f: f64) {
        self.zc *= f;
        self.count *= f;
        self.sum *= f;
        self.pos_cnt.iter_mut().for_each(|c| *c *= f);
        self.neg_cnt.iter_mut().for_each(|c| *c *= f);
    }
}

/// buckets_reset compares one side of the current and previous histogram
/// (previous reduced to the current schema): a populated previous bucket
/// missing now, or a count that went down, is a reset.
fn buckets_reset(
    ci: &[i32],
    cc: &[f64],
    c_schema: i32,
    pi: &[i32],
    pc: &[f64],
    p_schema: i32,
    m: &mut Merge,
) -> bool {
    let (pi, pc): (&[i32], &[f64]) = if p_schema != c_schema && c_schema != CUSTOM_SCHEMA {
        reduce_into(pi, pc, p_schema, c_schema, &mut m.idx2, &mut m.cnt2);
        (&m.idx2, &m.cnt2)
    } else {
        (pi, pc)
    };
    if ci == pi {
        return cc.iter().zip(pc).any(|(c, p)| c < p);
    }
    let mut i = 0;
    for (j, &b) in pi.iter().enumerate() {
        while i < ci.len() && ci[i] < b {
            i += 1;
        }
        if i < ci.len() && ci[i] == b {
            if cc[i] < pc[j] {
                return true;
            }
        } else if pc[j] != 0.0 {
            return true;
        }
    }
    false
}

/// detect_reset is the engine's `detectReset` for histograms of one series
/// (same bucket kind and bounds, same zero threshold, or p empty).
fn detect_reset(c: &View<'_>, c_hint: u8, p: &View<'_>, m: &mut Merge) -> bool {
    match c_hint {
        HINT_COUNTER_RESET => return true,
        HINT_NOT_COUNTER_RESET => return false,
        _ => {}
    }
    if c.count < p.count || c.schema > p.schema || c.zc < p.zc {
        return true;
    }
    buckets_reset(
        c.pos_idx, c.pos_cnt, c.schema, p.pos_idx, p.pos_cnt, p.schema, m,
    ) || buckets_reset(
        c.neg_idx, c.neg_cnt, c.schema, p.neg_idx, p.neg_cnt, p.schema, m,
    )
}

/// KahanCell is one group and step's running sum with Kahan–Neumaier
/// compensation per count and bucket (the engine's `KahanHistogramSum`
/// while the layout stays the same).
struct KahanCell {
    h: Hist,
    c_count: f64,
    c_sum: f64,
    c_zero: f64,
    c_pos: Vec<f64>,
    c_neg: Vec<f64>,
}

/// kahan_merge adds x's buckets into the sum's: buckets both have are
/// compensated, new ones start without compensation.
fn kahan_merge(
    si: &mut Vec<i32>,
    sc: &mut Vec<f64>,
    comp: &mut Vec<f64>,
    xi: &[i32],
    xc: &[f64],
    m: &mut Merge,
) {
    if si.as_slice() == xi {
        for ((s, c), &x) in sc.iter_mut().zip(comp.iter_mut()).zip(xc) {
            (*s, *c) = kahan_inc(0.0 + x, *s, *c);
        }
        return;
    }
    m.idx.clear();
    m.cnt.clear();
    m.cnt2.clear();
    let (mut i, mut j) = (0, 0);
    while i < si.len() || j < xi.len() {
        if j >= xi.len() || (i < si.len() && si[i] < xi[j]) {
            m.idx.push(si[i]);
            m.cnt.push(sc[i]);
            m.cnt2.push(comp[i]);
            i += 1;
        } else if i >= si.len() || xi[j] < si[i] {
            m.idx.push(xi[j]);
            m.cnt.push(xc[j]);
            m.cnt2.push(0.0);
            j += 1;
        } else {
            let (t, c) = kahan_inc(0.0 + xc[j], sc[i], comp[i]);
            m.idx.push(si[i]);
            m.cnt.push(t);
            m.cnt2.push(c);
            i += 1;
            j += 1;
        }
    }
    std::mem::swap(si, &mut m.idx);
    std::mem::swap(sc, &mut m.cnt);
    std::mem::swap(comp, &mut m.cnt2);
}

impl KahanCell {
    fn new(h: &Hist) -> Self {
        KahanCell {
            h: h.clone(),
            c_count: 0.0,
            c_sum: 0.0,
            c_zero: 0.0,
            c_pos: vec![0.0; h.pos_idx.len()],
            c_neg: vec![0.0; h.neg_idx.len()],
        }
    }

    /// add adds x; false when the schemas differ (a layout change).
    fn add(&mut self, x: &Hist, m: &mut Merge) -> bool {
        if x.schema != self.h.schema {
            return false;
        }
        let s = &mut self.h;
        (s.count, self.c_count) = kahan_inc(x.count, s.count, self.c_count);
        (s.sum, self.c_sum) = kahan_inc(x.sum, s.sum, self.c_sum);
        (s.zc, self.c_zero) = kahan_inc(x.zc, s.zc, self.c_zero);
        kahan_merge(
            &mut s.pos_idx,
            &mut s.pos_cnt,
            &mut self.c_pos,
            &x.pos_idx,
            &x.pos_cnt,
            m,
        );
        if s.schema != CUSTOM_SCHEMA {
            kahan_merge(
                &mut s.neg_idx,
                &mut s.neg_cnt,
                &mut self.c_neg,
                &x.neg_idx,
                &x.neg_cnt,
                m,
            );
        }
        true
    }

    /// result is the compensated sum, empty buckets dropped.
    fn result(mut self) -> Hist {
        let s = &mut self.h;
        s.count += self.c_count;
        s.sum += self.c_sum;
        s.zc += self.c_zero;
        s.pos_cnt
            .iter_mut()
            .zip(&self.c_pos)
            .for_each(|(v, c)| *v += c);
        s.neg_cnt
            .iter_mut()
            .zip(&self.c_neg)
            .for_each(|(v, c)| *v += c);
        s.compact();
        self.h
    }
}

/// GroupLayout is what every series of a group must share.
#[derive(Clone, PartialEq)]
enum GroupLayout {
    Exponential,
    Custom(Vec<f64>),
}

/// HistogramGroups is the kernel's answer: the groups in order of first
/// appearance, row-major `groups × steps`.
#[derive(Debug, Default, PartialEq)]
pub struct HistogramGroups {
    /// The groups' label sets (a SeriesLabels flatbuffer).
    pub labels: Vec<u8>,
    /// 1 where the cell has a histogram.
    pub present: Vec<u8>,
    /// Cell x's histogram (the hand-off format, see `model::histogram_flat`)
    /// is `data[offsets[x]..offsets[x + 1]]` (empty where absent).
    pub offsets: Vec<u32>,
    pub data: Vec<f64>,
}

/// HistogramRateSum accumulates the series of a selection.
pub struct HistogramRateSum<'e> {
    is_rate: bool,
    /// Only the count, sum and zero count are computed (the engine's
    /// histogram_count/histogram_sum/histogram_avg read nothing else, as
    /// Prometheus's HistogramStatsIterator); resets are still detected on
    /// the buckets.
    stats_only: bool,
    range_ms: f64,
    eval_times: &'e [f64],
    grouper: Grouper,
    layouts: Vec<GroupLayout>,
    cells: Vec<Option<KahanCell>>,
    /// The selection's zero threshold (the first histogram's).
    zero_threshold: Option<f64>,
    // Per-series scratch.
    samples: Vec<Sample>,
    idx: Vec<i32>,
    cnt: Vec<f64>,
    custom: Vec<f64>,
    resets: Vec<bool>,
    h: Hist,
    m: Merge,
}

impl<'e> HistogramRateSum<'e> {
    /// new prepares `sum by|without (grouping) (rate(h[range]))` (or
    /// `increase` when not `is_rate`) at `eval_times` (ms); with
    /// `stats_only` the answers have no buckets.
    pub fn new(
        is_rate: bool,
        stats_only: bool,
        range_ms: f64,
        eval_times: &'e [f64],
        without: bool,
        grouping: &[String],
    ) -> Self {
        HistogramRateSum {
            is_rate,
            stats_only,
            range_ms,
            eval_times,
            grouper: Grouper::new(without, grouping),
            layouts: Vec::new(),
            cells: Vec::new(),
            zero_threshold: None,
            samples: Vec::new(),
            idx: Vec::new(),
            cnt: Vec::new(),
            custom: Vec::new(),
            resets: Vec::new(),
            h: Hist::default(),
            m: Merge::default(),
        }
    }

    /// add_series adds one series (labels sorted by name; its float values
    /// and its histogram samples, ascending in time, stale markers
    /// included). Series must come in label order. False when the series
    /// needs the engine's general path (see the module comment).
    pub fn add_series<'a, I>(
        &mut self,
        labels: I,
        floats: &[f64],
        hists: &SelectedHistograms,
    ) -> bool
    where
        I: Iterator<Item = (&'a str, &'a str)> + Clone,
    {
        if floats.iter().any(|&v| !crate::promql::is_stale(v)) {
            return false;
        }
        if !self.decode(hists) {
            return false;
        }
        if self.samples.is_empty() {
            return true;
        }
        self.find_resets();
        let layout = if self.samples[0].schema == CUSTOM_SCHEMA {
            GroupLayout::Custom(self.custom.clone())
        } else {
            GroupLayout::Exponential
        };
        let n = self.eval_times.len();
        let mut group: Option<usize> = None;
        for i in 0..n {
            let t = self.eval_times[i];
            let lo = self
                .samples
                .partition_point(|s| (s.t as f64) <= t - self.range_ms);
            let hi = self.samples.partition_point(|s| (s.t as f64) <= t);
            if hi < lo + 2 {
                continue;
            }
            self.rate(lo, hi - 1, t);
            let g = match group {
                Some(g) => g,
                None => {
                    let g = self.grouper.group_of(labels.clone());
                    if g == self.layouts.len() {
                        self.layouts.push(layout.clone());
                        self.cells.resize_with((g + 1) * n, || None);
                    } else if self.layouts[g] != layout {
                        return false;
                    }
                    group = Some(g);
                    g
                }
            };
            match &mut self.cells[g * n + i] {
                Some(cell) => {
                    if !cell.add(&self.h, &mut self.m) {
                        return false;
                    }
                }
                slot @ None => *slot = Some(KahanCell::new(&self.h)),
            }
        }
        true
    }

    /// decode reads the series' non-stale histograms into the scratch;
    /// false when one is outside what the kernel covers.
    fn decode(&mut self, hists: &SelectedHistograms) -> bool {
        self.samples.clear();
        self.idx.clear();
        self.cnt.clear();
        self.custom.clear();
        for j in 0..hists.len() {
            let d = &hists.data[hists.data_offsets[j] as usize..hists.data_offsets[j + 1] as usize];
            if is_stale_nan(d[4]) {
                continue;
            }
            let schema = d[0] as i32;
            let zt = d[1];
            let hint = d[5] as u8;
            if hint == HINT_GAUGE || *self.zero_threshold.get_or_insert(zt) != zt {
                return false;
            }
            let (n_ps, n_ns) = (d[7] as usize, d[8] as usize);
            let (n_p, n_n, n_c) = (d[9] as usize, d[10] as usize, d[11] as usize);
            let custom = schema == CUSTOM_SCHEMA;
            if let Some(first) = self.samples.first() {
                if (first.schema == CUSTOM_SCHEMA) != custom {
                    return false;
                }
            }
            let bounds = &d[d.len() - n_c..];
            if custom {
                if n_n > 0 {
                    return false;
                }
                if self.samples.is_empty() {
                    self.custom.extend_from_slice(bounds);
                } else if !crate::model::histogram::custom_bounds_match(&self.custom, bounds) {
                    return false;
                }
            }
            let mut at = HEADER_LEN;
            let mut side = |n_spans: usize, idx: &mut Vec<i32>| -> (usize, usize) {
                let start = idx.len();
                let mut x = 0i32;
                for _ in 0..n_spans {
                    x += d[at] as i32;
                    for _ in 0..d[at + 1] as u32 {
                        idx.push(x);
                        x += 1;
                    }
                    at += 2;
                }
                (start, idx.len())
            };
            let pos = side(n_ps, &mut self.idx);
            let neg = side(n_ns, &mut self.idx);
            if pos.1 - pos.0 != n_p || neg.1 - neg.0 != n_n {
                return false;
            }
            let c0 = self.cnt.len();
            self.cnt.extend_from_slice(&d[at..at + n_p + n_n]);
            if !custom && zt > 0.0 {
                // The engine skips buckets whose upper bound is at most the
                // threshold; stay clear of them (a bucket near it is rare).
                let near = |x: i32| (x as f64 / f64::from(schema).exp2()).exp2() <= 2.0 * zt;
                if (pos.1 > pos.0 && near(self.idx[pos.0]))
                    || (neg.1 > neg.0 && near(self.idx[neg.0]))
                {
                    return false;
                }
            }
            self.samples.push(Sample {
                t: hists.timestamps[j] as i64,
                schema,
                zc: d[2],
                count: d[3],
                sum: d[4],
                hint,
                pos: (c0, c0 + n_p),
                neg: (c0 + n_p, c0 + n_p + n_n),
            });
            // The bucket ranges index both arenas alike.
            debug_assert_eq!(self.idx.len(), self.cnt.len());
        }
        true
    }

    /// view is sample k (without its buckets when only stats are computed).
    fn view(&self, k: usize) -> View<'_> {
        let v = self.full_view(k);
        if self.stats_only {
            return View {
                pos_idx: &[],
                pos_cnt: &[],
                neg_idx: &[],
                neg_cnt: &[],
                ..v
            };
        }
        v
    }

    /// full_view is sample k with its buckets (for reset detection).
    fn full_view(&self, k: usize) -> View<'_> {
        let s = &self.samples[k];
        View {
            schema: s.schema,
            zc: s.zc,
            count: s.count,
            sum: s.sum,
            pos_idx: &self.idx[s.pos.0..s.pos.1],
            pos_cnt: &self.cnt[s.pos.0..s.pos.1],
            neg_idx: &self.idx[s.neg.0..s.neg.1],
            neg_cnt: &self.cnt[s.neg.0..s.neg.1],
        }
    }

    /// find_resets detects the counter reset between each pair of
    /// neighbouring samples (`resets[k]`: sample k against k - 1).
    fn find_resets(&mut self) {
        self.resets.clear();
        self.resets.push(false);
        let mut m = std::mem::take(&mut self.m);
        for k in 1..self.samples.len() {
            let r = detect_reset(
                &self.full_view(k),
                self.samples[k].hint,
                &self.full_view(k - 1),
                &mut m,
            );
            self.resets.push(r);
        }
        self.m = m;
    }

    /// rate computes the window of samples a..=b (two or more) ending at t
    /// into `self.h`: `histogramIncrease` then `histogramRate`'s
    /// extrapolation.
    fn rate(&mut self, a: usize, b: usize, t: f64) {
        let mut h = std::mem::take(&mut self.h);
        let mut m = std::mem::take(&mut self.m);
        let first_reset = self.resets[a + 1];
        let prev_schema = if first_reset {
            self.samples[a + 1].schema
        } else {
            self.samples[a].schema
        };
        let mut min_schema = self.samples[b].schema.min(prev_schema);
        for s in &self.samples[a + 1..b] {
            min_schema = min_schema.min(s.schema);
        }
        h.set_reduced(&self.view(b), min_schema);
        let empty = View::empty(prev_schema);
        if first_reset {
            h.add(&empty, -1.0, &mut m);
            // The second sample against the empty start (hint, or negative counts).
            // For stats the engine resolved unknown hints first (withDetectedHints):
            // this sample's says reset.
            let hint = self.samples[a + 1].hint;
            if (self.stats_only && hint == HINT_UNKNOWN)
                || detect_reset(&self.full_view(a + 1), hint, &empty, &mut m)
            {
                h.add(&empty, 1.0, &mut m);
            }
        } else {
            h.add(&self.view(a), -1.0, &mut m);
        }
        for k in a + 2..=b {
            if self.resets[k] {
                h.add(&self.view(k - 1), 1.0, &mut m);
            }
        }
        h.compact();

        // Extrapolation as for floats (promql/functions.go extrapolatedRate).
        let range_start = t - self.range_ms;
        let first_t = self.samples[a].t as f64;
        let last_t = self.samples[b].t as f64;
        let mut to_start = (first_t - range_start) / 1000.0;
        let mut to_end = (t - last_t) / 1000.0;
        let sampled = (last_t - first_t) / 1000.0;
        let avg = sampled / (b - a) as f64;
        let threshold = avg * 1.1;
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        let mut to_zero = to_start;
        if h.count > 0.0 && self.samples[a].count >= 0.0 {
            to_zero = sampled * (self.samples[a].count / h.count);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
        if to_end >= threshold {
            to_end = avg / 2.0;
        }
        let mut factor = if sampled != 0.0 {
            (sampled + to_start + to_end) / sampled
        } else {
            1.0
        };
        if self.is_rate {
            factor /= self.range_ms / 1000.0;
        }
        h.mul(factor);
        self.h = h;
        self.m = m;
    }

    /// finish returns the groups with a histogram at some step.
    pub fn finish(self) -> HistogramGroups {
        let n = self.eval_times.len();
        let zt = self.zero_threshold.unwrap_or(0.0);
        let mut out = HistogramGroups {
            labels: self.grouper.finish(),
            present: vec![0; self.cells.len()],
            offsets: Vec::with_capacity(self.cells.len() + 1),
            data: Vec::new(),
        };
        out.offsets.push(0);
        for (x, cell) in self.cells.into_iter().enumerate() {
            if let Some(cell) = cell {
                let h = cell.result();
                let custom_values: &[f64] = match &self.layouts[x / n] {
                    GroupLayout::Custom(b) => b,
                    GroupLayout::Exponential => &[],
                };
                let header = FlatHeader {
                    schema: h.schema,
                    zero_threshold: zt,
                    zero_count: h.zc,
                    count: h.count,
                    sum: h.sum,
                    hint: CounterResetHint::Gauge,
                    is_int: false,
                };
                let counts = [h.pos_cnt.len(), h.neg_cnt.len(), custom_values.len()];
                header.push(
                    &mut out.data,
                    &spans_of(&h.pos_idx),
                    &spans_of(&h.neg_idx),
                    counts,
                );
                out.data.extend_from_slice(&h.pos_cnt);
                out.data.extend_from_slice(&h.neg_cnt);
                out.data.extend_from_slice(custom_values);
                out.present[x] = 1;
            }
            out.offsets.push(out.data.len() as u32);
        }
        out
    }
}

/// spans_of turns ascending bucket indices into spans (adjacent indices
/// share a span).
fn spans_of(idx: &[i32]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut next = 0i32;
    for &x in idx {
        match spans.last_mut() {
            Some(s) if x == next => s.length += 1,
            _ => {
                let offset = if spans.is_empty() { x } else { x - next };
                spans.push(Span { offset, length: 1 });
            }
        }
        next = x + 1;
    }
    spans
}
