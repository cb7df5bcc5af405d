//! Integer histogram chunks (`EncHistogram` = 2), bit-exact with
//! Prometheus 3.x's `tsdb/chunkenc/histogram.go`.
//!
//! After the 3-byte header (sample count, flag byte with the
//! [`CounterResetHeader`]) the first sample writes the layout
//! ([`write_layout`]), then its time, count and zero count as varbit, the
//! sum as 64 bits and every bucket (delta-encoded between buckets) as
//! varbit. Later samples write varbit delta-of-deltas of the time, count,
//! zero count and of every bucket, and the sum XOR-encoded as in XOR chunks.
//!
//! A sample whose layout differs from the chunk's is handled as Prometheus
//! does: buckets it lacks that are empty in the chunk are added to it
//! (backward inserts); buckets the chunk lacks are added to every sample
//! already in the chunk, which is rewritten (forward inserts, "recoding");
//! anything else (schema, zero threshold or custom bounds change, a count
//! going down) starts a new chunk, whose header then says why.

use super::bstream::{BitBatch, BitReader, BitWriter};
use super::histogram_meta::{
    adjust_for_inserts, expand_spans_both_ways, hint_for_sample, insert_buckets, read_layout,
    write_layout, BucketIterator, CounterResetHeader, Insert, CHUNK_ALLOCATION_SIZE,
    COUNTER_RESET_HEADER_MASK, HISTOGRAM_FLAG_POS, HISTOGRAM_HEADER_SIZE,
};
use super::varbit::{put_varbit_int, put_varbit_uint, read_varbit_int, read_varbit_uint};
use super::xor::{xor_read, xor_write, ChunkError};
use crate::model::histogram::{
    count_buckets, custom_bounds_match, is_custom_buckets_schema, is_known_schema, is_stale_nan,
    CounterResetHint, Histogram, Span, STALE_NAN_BITS,
};

/// ENCODING_HISTOGRAM is the chunk encoding byte of integer histogram chunks.
pub const ENCODING_HISTOGRAM: u8 = 2;

/// HistogramAppend says what `HistogramAppender::append` did with a sample.
#[derive(Debug)]
pub enum HistogramAppend<A> {
    /// The sample went into the chunk.
    Appended,
    /// The chunk was rewritten with a wider layout, the sample included;
    /// the appender now holds the new bytes (same time range).
    Recoded,
    /// The sample could not go into this chunk: it is the first sample of
    /// the returned chunk, which the caller makes the head chunk.
    NewChunk(A),
}

/// Appendable is the outcome of comparing a sample with a chunk's state.
#[derive(Debug, Default)]
pub(crate) struct Appendable {
    pub p_forward: Vec<Insert>,
    pub n_forward: Vec<Insert>,
    pub p_backward: Vec<Insert>,
    pub n_backward: Vec<Insert>,
    pub ok: bool,
}

/// HistogramAppender builds one integer histogram chunk; `bytes()` is a
/// valid chunk after every append.
#[derive(Debug, Clone)]
pub struct HistogramAppender {
    w: BitWriter,
    num: u16,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Vec<f64>,
    t: i64,
    cnt: u64,
    z_cnt: u64,
    t_delta: i64,
    cnt_delta: i64,
    z_cnt_delta: i64,
    p_buckets: Vec<i64>,
    n_buckets: Vec<i64>,
    p_buckets_delta: Vec<i64>,
    n_buckets_delta: Vec<i64>,
    sum: u64,
    leading: u8,
    trailing: u8,
}

impl Default for HistogramAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl HistogramAppender {
    /// new starts an empty chunk.
    pub fn new() -> Self {
        HistogramAppender {
            w: BitWriter::compact_with_header(HISTOGRAM_HEADER_SIZE, CHUNK_ALLOCATION_SIZE),
            num: 0,
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Vec::new(),
            t: i64::MIN,
            cnt: 0,
            z_cnt: 0,
            t_delta: 0,
            cnt_delta: 0,
            z_cnt_delta: 0,
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
            p_buckets_delta: Vec::new(),
            n_buckets_delta: Vec::new(),
            sum: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// num_samples is the number of samples in the chunk.
    #[inline]
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// last_t is the newest sample's time (i64::MIN while empty).
    #[inline]
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// bytes is the chunk as it stands.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// finish returns the chunk bytes without spare capacity.
    pub fn finish(mut self) -> Vec<u8> {
        self.w.shrink();
        self.w.into_bytes()
    }

    /// counter_reset_header is the chunk's header bits.
    pub fn counter_reset_header(&self) -> CounterResetHeader {
        CounterResetHeader::from_flag(self.w.bytes()[HISTOGRAM_FLAG_POS])
    }

    fn set_counter_reset_header(&mut self, h: CounterResetHeader) {
        let b = &mut self.w.bytes_mut()[HISTOGRAM_FLAG_POS];
        *b = (*b & !COUNTER_RESET_HEADER_MASK) | (h as u8);
    }

    fn set_num_samples(&mut self, n: u16) {
        self.num = n;
        self.w.bytes_mut()[..2].copy_from_slice(&n.to_be_bytes());
    }

    /// append adds a sample as the head does (`AppendHistogram` with
    /// appendOnly false). `prev` is the previous chunk's appender, given for
    /// the first sample of a new chunk only: it decides that chunk's header.
    pub fn append(
        &mut self,
        prev: Option<&HistogramAppender>,
        t: i64,
        h: &Histogram,
    ) -> HistogramAppend<HistogramAppender> {
        if self.num == 0 {
            self.append_raw(t, h);
            if h.counter_reset_hint == CounterResetHint::Gauge {
                self.set_counter_reset_header(CounterResetHeader::Gauge);
            } else if h.counter_reset_hint == CounterResetHint::CounterReset {
                self.set_counter_reset_header(CounterResetHeader::CounterReset);
            } else if let Some(p) = prev {
                let (_, header) = p.appendable(h);
                self.set_counter_reset_header(header);
            }
            return HistogramAppend::Appended;
        }
        // Borrowed unless backward inserts rewrite the sample.
        let mut h = std::borrow::Cow::Borrowed(h);
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let (ap, header) = self.appendable(&h);
            if !ap.ok || header != CounterResetHeader::NotCounterReset {
                let mut next = HistogramAppender::new();
                next.set_counter_reset_header(header);
                next.append_raw(t, &h);
                return HistogramAppend::NewChunk(next);
            }
            if !ap.p_backward.is_empty() || !ap.n_backward.is_empty() {
                let hm = h.to_mut();
                if ap.p_forward.is_empty() && ap.n_forward.is_empty() {
                    hm.positive_spans = self.p_spans.clone();
                    hm.negative_spans = self.n_spans.clone();
                } else {
                    hm.positive_spans = adjust_for_inserts(&hm.positive_spans, &ap.p_backward);
                    hm.negative_spans = adjust_for_inserts(&hm.negative_spans, &ap.n_backward);
                }
                recode_histogram(hm, &ap.p_backward, &ap.n_backward);
            }
            if !ap.p_forward.is_empty() || !ap.n_forward.is_empty() {
                let (ps, ns) = (h.positive_spans.clone(), h.negative_spans.clone());
                *self = self.recode(&ap.p_forward, &ap.n_forward, &ps, &ns);
                self.append_raw(t, &h);
                return HistogramAppend::Recoded;
            }
            self.append_raw(t, &h);
            return HistogramAppend::Appended;
        }
        let (ap, p_merged, n_merged) = self.appendable_gauge(&h);
        if !ap.ok {
            let mut next = HistogramAppender::new();
            next.set_counter_reset_header(CounterResetHeader::Gauge);
            next.append_raw(t, &h);
            return HistogramAppend::NewChunk(next);
        }
        if !ap.p_backward.is_empty() || !ap.n_backward.is_empty() {
            let hm = h.to_mut();
            hm.positive_spans = p_merged;
            hm.negative_spans = n_merged;
            recode_histogram(hm, &ap.p_backward, &ap.n_backward);
        }
        if !ap.p_forward.is_empty() || !ap.n_forward.is_empty() {
            let (ps, ns) = (h.positive_spans.clone(), h.negative_spans.clone());
            *self = self.recode(&ap.p_forward, &ap.n_forward, &ps, &ns);
            self.append_raw(t, &h);
            return HistogramAppend::Recoded;
        }
        self.append_raw(t, &h);
        HistogramAppend::Appended
    }

    /// appendable compares a counter histogram with the chunk (`appendable`):
    /// whether it fits (with which inserts) and the header a new chunk
    /// starting with it would get.
    pub(crate) fn appendable(&self, h: &Histogram) -> (Appendable, CounterResetHeader) {
        let mut ap = Appendable::default();
        if self.num > 0 && self.counter_reset_header() == CounterResetHeader::Gauge {
            return (ap, CounterResetHeader::NotCounterReset);
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            return (ap, CounterResetHeader::CounterReset);
        }
        if is_stale_nan(h.sum) {
            ap.ok = true;
            return (ap, CounterResetHeader::NotCounterReset);
        }
        if self.sum == STALE_NAN_BITS {
            return (ap, CounterResetHeader::Unknown);
        }
        if h.count < self.cnt {
            return (ap, CounterResetHeader::CounterReset);
        }
        if h.schema != self.schema || h.zero_threshold != self.z_threshold {
            return (ap, CounterResetHeader::Unknown);
        }
        if is_custom_buckets_schema(h.schema)
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            return (ap, CounterResetHeader::CounterReset);
        }
        if h.zero_count < self.z_cnt {
            return (ap, CounterResetHeader::CounterReset);
        }
        let Some((pf, pb)) = expand_int_spans_and_buckets(
            &self.p_spans,
            &h.positive_spans,
            &self.p_buckets,
            &h.positive_buckets,
        ) else {
            return (ap, CounterResetHeader::CounterReset);
        };
        let Some((nf, nb)) = expand_int_spans_and_buckets(
            &self.n_spans,
            &h.negative_spans,
            &self.n_buckets,
            &h.negative_buckets,
        ) else {
            ap.p_forward = pf;
            ap.p_backward = pb;
            return (ap, CounterResetHeader::CounterReset);
        };
        ap.p_forward = pf;
        ap.p_backward = pb;
        ap.n_forward = nf;
        ap.n_backward = nb;
        ap.ok = true;
        (ap, CounterResetHeader::NotCounterReset)
    }

    /// appendable_gauge compares a gauge histogram with the chunk
    /// (`appendableGauge`); any layout fits, merged both ways.
    fn appendable_gauge(&self, h: &Histogram) -> (Appendable, Vec<Span>, Vec<Span>) {
        let mut ap = Appendable::default();
        if self.num > 0 && self.counter_reset_header() != CounterResetHeader::Gauge {
            return (ap, Vec::new(), Vec::new());
        }
        if is_stale_nan(h.sum) {
            ap.ok = true;
            return (ap, Vec::new(), Vec::new());
        }
        if self.sum == STALE_NAN_BITS
            || h.schema != self.schema
            || h.zero_threshold != self.z_threshold
            || (is_custom_buckets_schema(h.schema)
                && !custom_bounds_match(&h.custom_values, &self.custom_values))
        {
            return (ap, Vec::new(), Vec::new());
        }
        let (pf, pb, pm) = expand_spans_both_ways(&self.p_spans, &h.positive_spans);
        let (nf, nb, nm) = expand_spans_both_ways(&self.n_spans, &h.negative_spans);
        ap.p_forward = pf;
        ap.p_backward = pb;
        ap.n_forward = nf;
        ap.n_backward = nb;
        ap.ok = true;
        (ap, pm, nm)
    }

    /// append_raw encodes one sample whose layout matches the chunk's
    /// (`appendHistogram`).
    fn append_raw(&mut self, t: i64, h: &Histogram) {
        let stale_h;
        let h = if is_stale_nan(h.sum) {
            stale_h = Histogram::stale();
            &stale_h
        } else {
            h
        };
        let (mut t_delta, mut cnt_delta, mut z_cnt_delta) = (0i64, 0i64, 0i64);
        if self.num == 0 {
            write_layout(
                &mut self.w,
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            );
            self.schema = h.schema;
            self.z_threshold = h.zero_threshold;
            self.p_spans = h.positive_spans.clone();
            self.n_spans = h.negative_spans.clone();
            self.custom_values = h.custom_values.clone();
            let (np, nn) = (
                count_buckets(&h.positive_spans),
                count_buckets(&h.negative_spans),
            );
            self.p_buckets = vec![0; np];
            self.p_buckets_delta = vec![0; np];
            self.n_buckets = vec![0; nn];
            self.n_buckets_delta = vec![0; nn];
            put_varbit_int(&mut self.w, t);
            put_varbit_uint(&mut self.w, h.count);
            put_varbit_uint(&mut self.w, h.zero_count);
            self.w.write_bits(h.sum.to_bits(), 64);
            for &b in &h.positive_buckets {
                put_varbit_int(&mut self.w, b);
            }
            for &b in &h.negative_buckets {
                put_varbit_int(&mut self.w, b);
            }
        } else {
            t_delta = t.wrapping_sub(self.t);
            cnt_delta = (h.count as i64).wrapping_sub(self.cnt as i64);
            z_cnt_delta = (h.zero_count as i64).wrapping_sub(self.z_cnt as i64);
            let mut cnt_dod = cnt_delta.wrapping_sub(self.cnt_delta);
            let mut z_cnt_dod = z_cnt_delta.wrapping_sub(self.z_cnt_delta);
            if is_stale_nan(h.sum) {
                cnt_dod = 0;
                z_cnt_dod = 0;
            }
            // One sample's fields gathered a word at a time.
            let mut w = BitBatch::new(&mut self.w);
            put_varbit_int(&mut w, t_delta.wrapping_sub(self.t_delta));
            put_varbit_int(&mut w, cnt_dod);
            put_varbit_int(&mut w, z_cnt_dod);
            xor_write(
                &mut w,
                h.sum.to_bits(),
                self.sum,
                &mut self.leading,
                &mut self.trailing,
            );
            for (i, &b) in h.positive_buckets.iter().enumerate() {
                let delta = b.wrapping_sub(self.p_buckets[i]);
                put_varbit_int(&mut w, delta.wrapping_sub(self.p_buckets_delta[i]));
                self.p_buckets_delta[i] = delta;
            }
            for (i, &b) in h.negative_buckets.iter().enumerate() {
                let delta = b.wrapping_sub(self.n_buckets[i]);
                put_varbit_int(&mut w, delta.wrapping_sub(self.n_buckets_delta[i]));
                self.n_buckets_delta[i] = delta;
            }
        }
        self.t = t;
        self.cnt = h.count;
        self.z_cnt = h.zero_count;
        self.t_delta = t_delta;
        self.cnt_delta = cnt_delta;
        self.z_cnt_delta = z_cnt_delta;
        let n = h.positive_buckets.len().min(self.p_buckets.len());
        self.p_buckets[..n].copy_from_slice(&h.positive_buckets[..n]);
        let n = h.negative_buckets.len().min(self.n_buckets.len());
        self.n_buckets[..n].copy_from_slice(&h.negative_buckets[..n]);
        self.sum = h.sum.to_bits();
        self.set_num_samples(self.num.wrapping_add(1));
    }

    /// recode rewrites the chunk with the forward inserts applied to every
    /// sample and the given layout (`recode`); the header is kept.
    fn recode(
        &self,
        p_inserts: &[Insert],
        n_inserts: &[Insert],
        p_spans: &[Span],
        n_spans: &[Span],
    ) -> HistogramAppender {
        let mut out = HistogramAppender::new();
        let (np, nn) = (count_buckets(p_spans), count_buckets(n_spans));
        let mut it = HistogramIterator::new(self.bytes());
        while it.next() {
            let (t, mut old) = it.at_histogram();
            old.positive_spans = p_spans.to_vec();
            old.negative_spans = n_spans.to_vec();
            if !p_inserts.is_empty() {
                old.positive_buckets = insert_buckets(&old.positive_buckets, np, p_inserts, true);
            }
            if !n_inserts.is_empty() {
                old.negative_buckets = insert_buckets(&old.negative_buckets, nn, n_inserts, true);
            }
            out.append_raw(t, &old);
        }
        out.set_counter_reset_header(self.counter_reset_header());
        out
    }
}

/// recode_histogram adds the backward inserts to a sample's buckets.
fn recode_histogram(h: &mut Histogram, p_backward: &[Insert], n_backward: &[Insert]) {
    if !p_backward.is_empty() {
        h.positive_buckets = insert_buckets(
            &h.positive_buckets,
            count_buckets(&h.positive_spans),
            p_backward,
            true,
        );
    }
    if !n_backward.is_empty() {
        h.negative_buckets = insert_buckets(
            &h.negative_buckets,
            count_buckets(&h.negative_spans),
            n_backward,
            true,
        );
    }
}

/// expand_int_spans_and_buckets checks that `b` can follow `a` without a
/// counter reset (`expandIntSpansAndBuckets`): every bucket of `a` is in `b`
/// with no smaller count, unless it is empty. It returns the inserts that
/// give `a` the buckets only `b` has (forward) and those that give `b` the
/// empty buckets only `a` has (backward); None means a counter reset.
pub(crate) fn expand_int_spans_and_buckets(
    a: &[Span],
    b: &[Span],
    a_buckets: &[i64],
    b_buckets: &[i64],
) -> Option<(Vec<Insert>, Vec<Insert>)> {
    expand_spans_and_buckets(a, b, |i| a_buckets[i], |i| b_buckets[i], true)
}

/// expand_spans_and_buckets is the walk shared by integer buckets (deltas,
/// accumulated) and float buckets (absolute).
pub(crate) fn expand_spans_and_buckets<
    V: Copy + PartialOrd + Default + super::histogram_meta::BucketValue,
>(
    a: &[Span],
    b: &[Span],
    a_at: impl Fn(usize) -> V,
    b_at: impl Fn(usize) -> V,
    deltas: bool,
) -> Option<(Vec<Insert>, Vec<Insert>)> {
    // The common case, the same layout as the chunk's: no inserts, a reset
    // only when a bucket's count went down.
    if a == b {
        let (mut a_count, mut b_count) = (V::default(), V::default());
        for i in 0..count_buckets(a) {
            if deltas {
                a_count = a_count.plus(a_at(i));
                b_count = b_count.plus(b_at(i));
            } else {
                a_count = a_at(i);
                b_count = b_at(i);
            }
            if a_count > b_count {
                return None;
            }
        }
        return Some((Vec::new(), Vec::new()));
    }
    let mut ai = BucketIterator::new(a);
    let mut bi = BucketIterator::new(b);
    let (mut a_inserts, mut b_inserts) = (Vec::new(), Vec::new());
    let (mut a_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut a_idx = ai.next();
    let mut b_idx = bi.next();
    let (mut a_count, mut b_count) = (V::default(), V::default());
    let (mut a_ci, mut b_ci) = (0usize, 0usize);
    if a_idx.is_some() {
        a_count = a_at(0);
    }
    if b_idx.is_some() {
        b_count = b_at(0);
    }
    fn add_insert(inserts: &mut Vec<Insert>, ins: &mut Insert, other: i64) {
        if ins.num == 0 {
            ins.bucket_idx = other;
        } else if ins.bucket_idx + ins.num as i64 != other {
            inserts.push(*ins);
            ins.num = 0;
            ins.bucket_idx = other;
        }
        ins.num += 1;
    }
    let zero = V::default();
    loop {
        match (a_idx, b_idx) {
            (Some(x), Some(y)) if x == y => {
                if a_count > b_count {
                    return None;
                }
                // advance a
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                    a_inter.num = 0;
                }
                a_idx = ai.next();
                a_inter.pos += 1;
                a_ci += 1;
                if a_idx.is_some() {
                    a_count = if deltas {
                        a_count.plus(a_at(a_ci))
                    } else {
                        a_at(a_ci)
                    };
                }
                // advance b
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                b_idx = bi.next();
                b_inter.pos += 1;
                b_ci += 1;
                if b_idx.is_some() {
                    b_count = if deltas {
                        b_count.plus(b_at(b_ci))
                    } else {
                        b_at(b_ci)
                    };
                }
            }
            (Some(x), by) if by.is_none_or(|y| x < y) => {
                // b misses a bucket of a: fine only if it is empty.
                if a_count != zero {
                    return None;
                }
                add_insert(&mut b_inserts, &mut b_inter, x);
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                    a_inter.num = 0;
                }
                a_idx = ai.next();
                a_inter.pos += 1;
                a_ci += 1;
                if a_idx.is_some() {
                    a_count = if deltas {
                        a_count.plus(a_at(a_ci))
                    } else {
                        a_at(a_ci)
                    };
                }
            }
            (Some(_), None) => unreachable!("handled by the arm above"),
            (_, Some(y)) => {
                // a misses a bucket of b.
                add_insert(&mut a_inserts, &mut a_inter, y);
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                b_idx = bi.next();
                b_inter.pos += 1;
                b_ci += 1;
                if b_idx.is_some() {
                    b_count = if deltas {
                        b_count.plus(b_at(b_ci))
                    } else {
                        b_at(b_ci)
                    };
                }
            }
            (None, None) => {
                if a_inter.num > 0 {
                    a_inserts.push(a_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                return Some((a_inserts, b_inserts));
            }
        }
    }
}

/// HistogramIterator reads an integer histogram chunk: `next()` advances,
/// `at_histogram()` / `at_float_histogram()` read the current sample.
#[derive(Debug, Clone)]
pub struct HistogramIterator<'a> {
    r: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    header: CounterResetHeader,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Vec<f64>,
    t: i64,
    cnt: u64,
    z_cnt: u64,
    t_delta: i64,
    cnt_delta: i64,
    z_cnt_delta: i64,
    p_buckets: Vec<i64>,
    n_buckets: Vec<i64>,
    p_buckets_delta: Vec<i64>,
    n_buckets_delta: Vec<i64>,
    sum: u64,
    leading: u8,
    trailing: u8,
    err: Option<ChunkError>,
}

impl<'a> HistogramIterator<'a> {
    /// new iterates over a chunk (bytes from the 3-byte header on).
    pub fn new(chunk: &'a [u8]) -> Self {
        let (num_total, header, r, err) = if chunk.len() < HISTOGRAM_HEADER_SIZE {
            let e = (!chunk.is_empty())
                .then(|| ChunkError("histogram chunk shorter than its 3-byte header".into()));
            (0, CounterResetHeader::Unknown, BitReader::new(&[], 0), e)
        } else {
            (
                u16::from_be_bytes([chunk[0], chunk[1]]),
                CounterResetHeader::from_flag(chunk[HISTOGRAM_FLAG_POS]),
                BitReader::new(chunk, HISTOGRAM_HEADER_SIZE),
                None,
            )
        };
        HistogramIterator {
            r,
            num_total,
            num_read: 0,
            header,
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Vec::new(),
            t: i64::MIN,
            cnt: 0,
            z_cnt: 0,
            t_delta: 0,
            cnt_delta: 0,
            z_cnt_delta: 0,
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
            p_buckets_delta: Vec::new(),
            n_buckets_delta: Vec::new(),
            sum: 0,
            leading: 0,
            trailing: 0,
            err,
        }
    }

    /// num_samples is the count from the chunk header.
    pub fn num_samples(&self) -> u16 {
        self.num_total
    }

    /// counter_reset_header is the chunk's header bits.
    pub fn counter_reset_header(&self) -> CounterResetHeader {
        self.header
    }

    /// err is the decoding error that stopped the iteration, if any.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// t is the current sample's time.
    #[inline]
    pub fn t(&self) -> i64 {
        self.t
    }

    fn fail(&mut self, what: &str) -> bool {
        self.err = Some(ChunkError(format!(
            "histogram chunk truncated or corrupt while reading {what} of sample {}",
            self.num_read
        )));
        false
    }

    /// next advances; false at the end or on error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        if self.err.is_some() || self.num_read == self.num_total {
            return false;
        }
        if self.num_read == 0 {
            let Some(layout) = read_layout(&mut self.r) else {
                return self.fail("layout");
            };
            if !is_known_schema(layout.schema) {
                self.err = Some(ChunkError(format!(
                    "unknown histogram schema {}",
                    layout.schema
                )));
                return false;
            }
            self.schema = layout.schema;
            self.z_threshold = layout.zero_threshold;
            let (np, nn) = (
                count_buckets(&layout.positive_spans),
                count_buckets(&layout.negative_spans),
            );
            self.p_spans = layout.positive_spans;
            self.n_spans = layout.negative_spans;
            self.custom_values = layout.custom_values;
            self.p_buckets = vec![0; np];
            self.p_buckets_delta = vec![0; np];
            self.n_buckets = vec![0; nn];
            self.n_buckets_delta = vec![0; nn];
            let (Some(t), Some(cnt), Some(zcnt), Some(sum)) = (
                read_varbit_int(&mut self.r),
                read_varbit_uint(&mut self.r),
                read_varbit_uint(&mut self.r),
                self.r.read_bits(64),
            ) else {
                return self.fail("first sample");
            };
            self.t = t;
            self.cnt = cnt;
            self.z_cnt = zcnt;
            self.sum = sum;
            for i in 0..np {
                let Some(v) = read_varbit_int(&mut self.r) else {
                    return self.fail("bucket");
                };
                self.p_buckets[i] = v;
            }
            for i in 0..nn {
                let Some(v) = read_varbit_int(&mut self.r) else {
                    return self.fail("bucket");
                };
                self.n_buckets[i] = v;
            }
            self.num_read += 1;
            return true;
        }
        let (Some(t_dod), Some(cnt_dod), Some(zcnt_dod)) = (
            read_varbit_int(&mut self.r),
            read_varbit_int(&mut self.r),
            read_varbit_int(&mut self.r),
        ) else {
            return self.fail("deltas");
        };
        self.t_delta = self.t_delta.wrapping_add(t_dod);
        self.t = self.t.wrapping_add(self.t_delta);
        self.cnt_delta = self.cnt_delta.wrapping_add(cnt_dod);
        self.cnt = (self.cnt as i64).wrapping_add(self.cnt_delta) as u64;
        self.z_cnt_delta = self.z_cnt_delta.wrapping_add(zcnt_dod);
        self.z_cnt = (self.z_cnt as i64).wrapping_add(self.z_cnt_delta) as u64;
        if let Err(what) = xor_read(
            &mut self.r,
            &mut self.sum,
            &mut self.leading,
            &mut self.trailing,
        ) {
            return self.fail(what);
        }
        if self.sum == STALE_NAN_BITS {
            self.num_read += 1;
            return true;
        }
        for i in 0..self.p_buckets.len() {
            let Some(dod) = read_varbit_int(&mut self.r) else {
                return self.fail("bucket");
            };
            self.p_buckets_delta[i] = self.p_buckets_delta[i].wrapping_add(dod);
            self.p_buckets[i] = self.p_buckets[i].wrapping_add(self.p_buckets_delta[i]);
        }
        for i in 0..self.n_buckets.len() {
            let Some(dod) = read_varbit_int(&mut self.r) else {
                return self.fail("bucket");
            };
            self.n_buckets_delta[i] = self.n_buckets_delta[i].wrapping_add(dod);
            self.n_buckets[i] = self.n_buckets[i].wrapping_add(self.n_buckets_delta[i]);
        }
        self.num_read += 1;
        true
    }

    /// at_histogram is the current sample (the staleness marker as a
    /// histogram with only its sum set).
    pub fn at_histogram(&self) -> (i64, Histogram) {
        if self.sum == STALE_NAN_BITS {
            return (self.t, Histogram::stale());
        }
        (
            self.t,
            Histogram {
                counter_reset_hint: hint_for_sample(self.header, self.num_read),
                schema: self.schema,
                zero_threshold: self.z_threshold,
                zero_count: self.z_cnt,
                count: self.cnt,
                sum: f64::from_bits(self.sum),
                positive_spans: self.p_spans.clone(),
                negative_spans: self.n_spans.clone(),
                positive_buckets: self.p_buckets.clone(),
                negative_buckets: self.n_buckets.clone(),
                custom_values: self.custom_values.clone(),
            },
        )
    }
}

impl HistogramIterator<'_> {
    /// push_flat appends the current sample in the hand-off format (what
    /// `push_flat` of `at_histogram` appends, without building it).
    pub fn push_flat(&self, out: &mut Vec<f64>) {
        use crate::model::histogram_flat::{push_flat, push_int_flat, FlatHeader};
        if self.sum == STALE_NAN_BITS {
            push_flat(
                out,
                &crate::model::histogram::HistogramValue::Int(Histogram::stale()),
            );
            return;
        }
        let header = FlatHeader {
            schema: self.schema,
            zero_threshold: self.z_threshold,
            zero_count: self.z_cnt as f64,
            count: self.cnt as f64,
            sum: f64::from_bits(self.sum),
            hint: hint_for_sample(self.header, self.num_read),
            is_int: true,
        };
        push_int_flat(
            out,
            &header,
            [&self.p_spans, &self.n_spans],
            [&self.p_buckets, &self.n_buckets],
            &self.custom_values,
        );
    }
}

/// decode_histogram_chunk decodes a whole chunk.
pub fn decode_histogram_chunk(chunk: &[u8]) -> Result<Vec<(i64, Histogram)>, ChunkError> {
    let mut it = HistogramIterator::new(chunk);
    let mut out = Vec::with_capacity(usize::from(it.num_samples()));
    while it.next() {
        out.push(it.at_histogram());
    }
    match it.err() {
        Some(e) => Err(e.clone()),
        None => Ok(out),
    }
}
