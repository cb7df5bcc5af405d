//! Float histogram chunks (`EncFloatHistogram` = 3), bit-exact with
//! Prometheus 3.x's `tsdb/chunkenc/float_histogram.go`.
//!
//! Same header and layout as integer histogram chunks
//! ([`super::histogram_meta`]); the first sample writes its time as varbit
//! and count, zero count, sum and every (absolute) bucket count as 64 raw
//! bits; later samples write the time's varbit delta-of-delta and every
//! float XOR-encoded against its previous value, each with its own window.
//! Layout changes and counter resets follow the integer chunk's rules.

use super::bstream::{BitBatch, BitReader, BitSink, BitWriter};
use super::histogram::{expand_spans_and_buckets, Appendable, HistogramAppend};
use super::histogram_meta::{
    adjust_for_inserts, expand_spans_both_ways, hint_for_sample, insert_buckets, read_layout,
    write_layout, CounterResetHeader, Insert, CHUNK_ALLOCATION_SIZE, COUNTER_RESET_HEADER_MASK,
    HISTOGRAM_FLAG_POS, HISTOGRAM_HEADER_SIZE,
};
use super::varbit::{put_varbit_int, read_varbit_int};
use super::xor::{xor_read, xor_write, ChunkError};
use crate::model::histogram::{
    count_buckets, custom_bounds_match, is_custom_buckets_schema, is_known_schema, is_stale_nan,
    CounterResetHint, FloatHistogram, Span, STALE_NAN_BITS,
};

/// ENCODING_FLOAT_HISTOGRAM is the chunk encoding byte of float histogram chunks.
pub const ENCODING_FLOAT_HISTOGRAM: u8 = 3;

/// XorValue is one XOR-encoded float with its leading/trailing window.
#[derive(Debug, Clone, Copy)]
struct XorValue {
    bits: u64,
    leading: u8,
    trailing: u8,
}

impl XorValue {
    fn new(v: f64) -> Self {
        XorValue {
            bits: v.to_bits(),
            leading: 0xff,
            trailing: 0,
        }
    }

    fn value(&self) -> f64 {
        f64::from_bits(self.bits)
    }
}

/// FloatHistogramAppender builds one float histogram chunk; `bytes()` is a
/// valid chunk after every append.
#[derive(Debug, Clone)]
pub struct FloatHistogramAppender {
    w: BitWriter,
    num: u16,
    schema: i32,
    z_threshold: f64,
    p_spans: Vec<Span>,
    n_spans: Vec<Span>,
    custom_values: Vec<f64>,
    t: i64,
    t_delta: i64,
    sum: XorValue,
    cnt: XorValue,
    z_cnt: XorValue,
    p_buckets: Vec<XorValue>,
    n_buckets: Vec<XorValue>,
}

impl Default for FloatHistogramAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl FloatHistogramAppender {
    /// new starts an empty chunk.
    pub fn new() -> Self {
        FloatHistogramAppender {
            w: BitWriter::compact_with_header(HISTOGRAM_HEADER_SIZE, CHUNK_ALLOCATION_SIZE),
            num: 0,
            schema: 0,
            z_threshold: 0.0,
            p_spans: Vec::new(),
            n_spans: Vec::new(),
            custom_values: Vec::new(),
            t: i64::MIN,
            t_delta: 0,
            sum: XorValue::new(0.0),
            cnt: XorValue::new(0.0),
            z_cnt: XorValue::new(0.0),
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
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

    /// append adds a sample as the head does (`AppendFloatHistogram` with
    /// appendOnly false); `prev` as in [`super::HistogramAppender::append`].
    pub fn append(
        &mut self,
        prev: Option<&FloatHistogramAppender>,
        t: i64,
        h: &FloatHistogram,
    ) -> HistogramAppend<FloatHistogramAppender> {
        if self.num == 0 {
            self.append_raw(t, h);
            if h.counter_reset_hint == CounterResetHint::Gauge {
                self.set_counter_reset_header(CounterResetHeader::Gauge);
            } else if h.counter_reset_hint == CounterResetHint::CounterReset {
                self.set_counter_reset_header(CounterResetHeader::CounterReset);
            } else if let Some(p) = prev {
                let (_, reset) = p.appendable(h);
                self.set_counter_reset_header(if reset {
                    CounterResetHeader::CounterReset
                } else {
                    CounterResetHeader::NotCounterReset
                });
            }
            return HistogramAppend::Appended;
        }
        // Borrowed unless backward inserts rewrite the sample.
        let mut h = std::borrow::Cow::Borrowed(h);
        if h.counter_reset_hint != CounterResetHint::Gauge {
            let (ap, reset) = self.appendable(&h);
            if !ap.ok || reset {
                let mut next = FloatHistogramAppender::new();
                if reset {
                    next.set_counter_reset_header(CounterResetHeader::CounterReset);
                }
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
                recode_float_histogram(hm, &ap.p_backward, &ap.n_backward);
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
            let mut next = FloatHistogramAppender::new();
            next.set_counter_reset_header(CounterResetHeader::Gauge);
            next.append_raw(t, &h);
            return HistogramAppend::NewChunk(next);
        }
        if !ap.p_backward.is_empty() || !ap.n_backward.is_empty() {
            let hm = h.to_mut();
            hm.positive_spans = p_merged;
            hm.negative_spans = n_merged;
            recode_float_histogram(hm, &ap.p_backward, &ap.n_backward);
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

    /// appendable compares a counter histogram with the chunk: whether it
    /// fits (with which inserts) and whether it is a counter reset.
    fn appendable(&self, h: &FloatHistogram) -> (Appendable, bool) {
        let mut ap = Appendable::default();
        if self.num > 0 && self.counter_reset_header() == CounterResetHeader::Gauge {
            return (ap, false);
        }
        if h.counter_reset_hint == CounterResetHint::CounterReset {
            return (ap, true);
        }
        if is_stale_nan(h.sum) {
            ap.ok = true;
            return (ap, false);
        }
        if self.sum.bits == STALE_NAN_BITS {
            return (ap, false);
        }
        if h.count < self.cnt.value() {
            return (ap, true);
        }
        if h.schema != self.schema || h.zero_threshold != self.z_threshold {
            return (ap, false);
        }
        if is_custom_buckets_schema(h.schema)
            && !custom_bounds_match(&h.custom_values, &self.custom_values)
        {
            return (ap, true);
        }
        if h.zero_count < self.z_cnt.value() {
            return (ap, true);
        }
        let Some((pf, pb)) = expand_spans_and_buckets(
            &self.p_spans,
            &h.positive_spans,
            |i| self.p_buckets[i].value(),
            |i| h.positive_buckets[i],
            false,
        ) else {
            return (ap, true);
        };
        let Some((nf, nb)) = expand_spans_and_buckets(
            &self.n_spans,
            &h.negative_spans,
            |i| self.n_buckets[i].value(),
            |i| h.negative_buckets[i],
            false,
        ) else {
            return (ap, true);
        };
        ap.p_forward = pf;
        ap.p_backward = pb;
        ap.n_forward = nf;
        ap.n_backward = nb;
        ap.ok = true;
        (ap, false)
    }

    fn appendable_gauge(&self, h: &FloatHistogram) -> (Appendable, Vec<Span>, Vec<Span>) {
        let mut ap = Appendable::default();
        if self.num > 0 && self.counter_reset_header() != CounterResetHeader::Gauge {
            return (ap, Vec::new(), Vec::new());
        }
        if is_stale_nan(h.sum) {
            ap.ok = true;
            return (ap, Vec::new(), Vec::new());
        }
        if self.sum.bits == STALE_NAN_BITS
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
    /// (`appendFloatHistogram`).
    fn append_raw(&mut self, t: i64, h: &FloatHistogram) {
        let stale_h;
        let h = if is_stale_nan(h.sum) {
            stale_h = FloatHistogram::stale();
            &stale_h
        } else {
            h
        };
        let mut t_delta = 0i64;
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
            self.p_buckets = h.positive_buckets[..np]
                .iter()
                .map(|&v| XorValue::new(v))
                .collect();
            self.n_buckets = h.negative_buckets[..nn]
                .iter()
                .map(|&v| XorValue::new(v))
                .collect();
            put_varbit_int(&mut self.w, t);
            self.w.write_bits(h.count.to_bits(), 64);
            self.w.write_bits(h.zero_count.to_bits(), 64);
            self.w.write_bits(h.sum.to_bits(), 64);
            self.cnt.bits = h.count.to_bits();
            self.z_cnt.bits = h.zero_count.to_bits();
            self.sum.bits = h.sum.to_bits();
            for &b in &h.positive_buckets {
                self.w.write_bits(b.to_bits(), 64);
            }
            for &b in &h.negative_buckets {
                self.w.write_bits(b.to_bits(), 64);
            }
        } else {
            t_delta = t.wrapping_sub(self.t);
            // One sample's fields gathered a word at a time.
            let mut w = BitBatch::new(&mut self.w);
            put_varbit_int(&mut w, t_delta.wrapping_sub(self.t_delta));
            write_xor_value(&mut w, &mut self.cnt, h.count);
            write_xor_value(&mut w, &mut self.z_cnt, h.zero_count);
            write_xor_value(&mut w, &mut self.sum, h.sum);
            for (i, &b) in h.positive_buckets.iter().enumerate() {
                write_xor_value(&mut w, &mut self.p_buckets[i], b);
            }
            for (i, &b) in h.negative_buckets.iter().enumerate() {
                write_xor_value(&mut w, &mut self.n_buckets[i], b);
            }
        }
        self.t = t;
        self.t_delta = t_delta;
        self.set_num_samples(self.num.wrapping_add(1));
    }

    fn recode(
        &self,
        p_inserts: &[Insert],
        n_inserts: &[Insert],
        p_spans: &[Span],
        n_spans: &[Span],
    ) -> FloatHistogramAppender {
        let mut out = FloatHistogramAppender::new();
        let (np, nn) = (count_buckets(p_spans), count_buckets(n_spans));
        let mut it = FloatHistogramIterator::new(self.bytes());
        while it.next() {
            let (t, mut old) = it.at_float_histogram();
            old.positive_spans = p_spans.to_vec();
            old.negative_spans = n_spans.to_vec();
            if !p_inserts.is_empty() {
                old.positive_buckets = insert_buckets(&old.positive_buckets, np, p_inserts, false);
            }
            if !n_inserts.is_empty() {
                old.negative_buckets = insert_buckets(&old.negative_buckets, nn, n_inserts, false);
            }
            out.append_raw(t, &old);
        }
        out.set_counter_reset_header(self.counter_reset_header());
        out
    }
}

fn write_xor_value<W: BitSink>(w: &mut W, old: &mut XorValue, v: f64) {
    xor_write(
        w,
        v.to_bits(),
        old.bits,
        &mut old.leading,
        &mut old.trailing,
    );
    old.bits = v.to_bits();
}

fn recode_float_histogram(h: &mut FloatHistogram, p_backward: &[Insert], n_backward: &[Insert]) {
    if !p_backward.is_empty() {
        h.positive_buckets = insert_buckets(
            &h.positive_buckets,
            count_buckets(&h.positive_spans),
            p_backward,
            false,
        );
    }
    if !n_backward.is_empty() {
        h.negative_buckets = insert_buckets(
            &h.negative_buckets,
            count_buckets(&h.negative_spans),
            n_backward,
            false,
        );
    }
}

/// FloatHistogramIterator reads a float histogram chunk.
#[derive(Debug, Clone)]
pub struct FloatHistogramIterator<'a> {
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
    t_delta: i64,
    sum: XorValue,
    cnt: XorValue,
    z_cnt: XorValue,
    p_buckets: Vec<XorValue>,
    n_buckets: Vec<XorValue>,
    err: Option<ChunkError>,
}

impl<'a> FloatHistogramIterator<'a> {
    /// new iterates over a chunk (bytes from the 3-byte header on).
    pub fn new(chunk: &'a [u8]) -> Self {
        let (num_total, header, r, err) = if chunk.len() < HISTOGRAM_HEADER_SIZE {
            let e = (!chunk.is_empty())
                .then(|| ChunkError("float histogram chunk shorter than its 3-byte header".into()));
            (0, CounterResetHeader::Unknown, BitReader::new(&[], 0), e)
        } else {
            (
                u16::from_be_bytes([chunk[0], chunk[1]]),
                CounterResetHeader::from_flag(chunk[HISTOGRAM_FLAG_POS]),
                BitReader::new(chunk, HISTOGRAM_HEADER_SIZE),
                None,
            )
        };
        let zero = XorValue {
            bits: 0,
            leading: 0,
            trailing: 0,
        };
        FloatHistogramIterator {
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
            t_delta: 0,
            sum: zero,
            cnt: zero,
            z_cnt: zero,
            p_buckets: Vec::new(),
            n_buckets: Vec::new(),
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
            "float histogram chunk truncated or corrupt while reading {what} of sample {}",
            self.num_read
        )));
        false
    }

    fn read_xor(&mut self, which: XorField) -> bool {
        let v = match which {
            XorField::Count => &mut self.cnt,
            XorField::ZeroCount => &mut self.z_cnt,
            XorField::Sum => &mut self.sum,
            XorField::Positive(i) => &mut self.p_buckets[i],
            XorField::Negative(i) => &mut self.n_buckets[i],
        };
        match xor_read(&mut self.r, &mut v.bits, &mut v.leading, &mut v.trailing) {
            Ok(()) => true,
            Err(what) => self.fail(what),
        }
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
            let Some(t) = read_varbit_int(&mut self.r) else {
                return self.fail("first time");
            };
            self.t = t;
            let (Some(c), Some(z), Some(s)) = (
                self.r.read_bits(64),
                self.r.read_bits(64),
                self.r.read_bits(64),
            ) else {
                return self.fail("first sample");
            };
            self.cnt.bits = c;
            self.z_cnt.bits = z;
            self.sum.bits = s;
            let zero = XorValue {
                bits: 0,
                leading: 0,
                trailing: 0,
            };
            self.p_buckets = vec![zero; np];
            self.n_buckets = vec![zero; nn];
            for i in 0..np + nn {
                let Some(b) = self.r.read_bits(64) else {
                    return self.fail("bucket");
                };
                if i < np {
                    self.p_buckets[i].bits = b;
                } else {
                    self.n_buckets[i - np].bits = b;
                }
            }
            self.num_read += 1;
            return true;
        }
        let Some(t_dod) = read_varbit_int(&mut self.r) else {
            return self.fail("time");
        };
        self.t_delta = self.t_delta.wrapping_add(t_dod);
        self.t = self.t.wrapping_add(self.t_delta);
        if !self.read_xor(XorField::Count)
            || !self.read_xor(XorField::ZeroCount)
            || !self.read_xor(XorField::Sum)
        {
            return false;
        }
        if self.sum.bits == STALE_NAN_BITS {
            self.num_read += 1;
            return true;
        }
        for i in 0..self.p_buckets.len() {
            if !self.read_xor(XorField::Positive(i)) {
                return false;
            }
        }
        for i in 0..self.n_buckets.len() {
            if !self.read_xor(XorField::Negative(i)) {
                return false;
            }
        }
        self.num_read += 1;
        true
    }

    /// at_float_histogram is the current sample.
    pub fn at_float_histogram(&self) -> (i64, FloatHistogram) {
        if self.sum.bits == STALE_NAN_BITS {
            return (self.t, FloatHistogram::stale());
        }
        (
            self.t,
            FloatHistogram {
                counter_reset_hint: hint_for_sample(self.header, self.num_read),
                schema: self.schema,
                zero_threshold: self.z_threshold,
                zero_count: self.z_cnt.value(),
                count: self.cnt.value(),
                sum: self.sum.value(),
                positive_spans: self.p_spans.clone(),
                negative_spans: self.n_spans.clone(),
                positive_buckets: self.p_buckets.iter().map(XorValue::value).collect(),
                negative_buckets: self.n_buckets.iter().map(XorValue::value).collect(),
                custom_values: self.custom_values.clone(),
            },
        )
    }
}

#[derive(Clone, Copy)]
enum XorField {
    Count,
    ZeroCount,
    Sum,
    Positive(usize),
    Negative(usize),
}

/// decode_float_histogram_chunk decodes a whole chunk.
pub fn decode_float_histogram_chunk(
    chunk: &[u8],
) -> Result<Vec<(i64, FloatHistogram)>, ChunkError> {
    let mut it = FloatHistogramIterator::new(chunk);
    let mut out = Vec::with_capacity(usize::from(it.num_samples()));
    while it.next() {
        out.push(it.at_float_histogram());
    }
    match it.err() {
        Some(e) => Err(e.clone()),
        None => Ok(out),
    }
}
