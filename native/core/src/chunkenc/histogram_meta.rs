//! What histogram and float-histogram chunks share
//! (`tsdb/chunkenc/histogram_meta.go` and the header of `histogram.go`):
//! the 3-byte header with its counter-reset bits, the layout written before
//! the first sample (zero threshold, schema, spans, custom bounds), and the
//! bucket arithmetic an appender needs when a sample's layout differs from
//! the chunk's (inserts, span merging).

use super::bstream::{BitReader, BitWriter};
use super::varbit::{put_varbit_int, put_varbit_uint, read_varbit_int, read_varbit_uint};
use crate::model::histogram::{is_custom_buckets_schema, CounterResetHint, Span};

/// HISTOGRAM_HEADER_SIZE is the sample count (2 bytes) and the flag byte.
pub const HISTOGRAM_HEADER_SIZE: usize = 3;

/// HISTOGRAM_FLAG_POS is the offset of the flag byte.
pub const HISTOGRAM_FLAG_POS: usize = 2;

/// CHUNK_ALLOCATION_SIZE is the initial buffer of a new chunk.
pub const CHUNK_ALLOCATION_SIZE: usize = 128;

/// CounterResetHeader is the top two bits of a histogram chunk's flag byte
/// (`CounterResetHeader`): what is known about a counter reset between the
/// previous chunk and this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CounterResetHeader {
    Unknown = 0b0000_0000,
    CounterReset = 0b1000_0000,
    NotCounterReset = 0b0100_0000,
    Gauge = 0b1100_0000,
}

/// COUNTER_RESET_HEADER_MASK selects the header bits of the flag byte.
pub const COUNTER_RESET_HEADER_MASK: u8 = 0b1100_0000;

impl CounterResetHeader {
    /// from_flag reads the header from a chunk's flag byte.
    pub fn from_flag(b: u8) -> Self {
        match b & COUNTER_RESET_HEADER_MASK {
            0b1000_0000 => CounterResetHeader::CounterReset,
            0b0100_0000 => CounterResetHeader::NotCounterReset,
            0b1100_0000 => CounterResetHeader::Gauge,
            _ => CounterResetHeader::Unknown,
        }
    }
}

/// hint_for_sample is the counter-reset hint a reader reports for the
/// `num_read`-th sample of a chunk (`counterResetHint`): gauge chunks say
/// gauge, samples after the first are not resets, and the first is unknown.
#[inline]
pub fn hint_for_sample(h: CounterResetHeader, num_read: u16) -> CounterResetHint {
    if h == CounterResetHeader::Gauge {
        CounterResetHint::Gauge
    } else if num_read > 1 {
        CounterResetHint::NotCounterReset
    } else {
        CounterResetHint::Unknown
    }
}

/// Layout is what the first sample of a chunk fixes for all of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub schema: i32,
    pub zero_threshold: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    pub custom_values: Vec<f64>,
}

/// write_layout writes the layout (`writeHistogramChunkLayout`).
pub fn write_layout(
    w: &mut BitWriter,
    schema: i32,
    zero_threshold: f64,
    positive: &[Span],
    negative: &[Span],
    custom_values: &[f64],
) {
    put_zero_threshold(w, zero_threshold);
    put_varbit_int(w, i64::from(schema));
    put_spans(w, positive);
    put_spans(w, negative);
    if is_custom_buckets_schema(schema) {
        put_varbit_uint(w, custom_values.len() as u64);
        for &b in custom_values {
            put_custom_bound(w, b);
        }
    }
}

/// read_layout reads what `write_layout` wrote.
pub fn read_layout(r: &mut BitReader<'_>) -> Option<Layout> {
    let zero_threshold = read_zero_threshold(r)?;
    let schema = read_varbit_int(r)? as i32;
    let positive_spans = read_spans(r)?;
    let negative_spans = read_spans(r)?;
    let mut custom_values = Vec::new();
    if is_custom_buckets_schema(schema) {
        let n = read_varbit_uint(r)?;
        for _ in 0..n {
            custom_values.push(read_custom_bound(r)?);
        }
    }
    Some(Layout {
        schema,
        zero_threshold,
        positive_spans,
        negative_spans,
        custom_values,
    })
}

fn put_spans(w: &mut BitWriter, spans: &[Span]) {
    put_varbit_uint(w, spans.len() as u64);
    for s in spans {
        put_varbit_uint(w, u64::from(s.length));
        put_varbit_int(w, i64::from(s.offset));
    }
}

fn read_spans(r: &mut BitReader<'_>) -> Option<Vec<Span>> {
    let n = read_varbit_uint(r)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let length = read_varbit_uint(r)? as u32;
        let offset = read_varbit_int(r)? as i32;
        out.push(Span { offset, length });
    }
    Some(out)
}

/// put_zero_threshold writes 0 as byte 0, a power of two 2^-243..=2^10 as
/// one byte (exponent + 243, with the fraction 0.5 of Go's `Frexp`), and
/// anything else as 255 followed by the 64 float bits.
fn put_zero_threshold(w: &mut BitWriter, threshold: f64) {
    if threshold == 0.0 {
        w.write_byte(0);
        return;
    }
    let bits = threshold.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let power_of_two =
        bits >> 63 == 0 && bits & ((1u64 << 52) - 1) == 0 && biased != 0 && biased != 0x7ff;
    // Frexp's exponent for 2^k is k + 1.
    let exp = biased - 1022;
    if !power_of_two || !(-242..=11).contains(&exp) {
        w.write_byte(255);
        w.write_bits(bits, 64);
        return;
    }
    w.write_byte((exp + 243) as u8);
}

fn read_zero_threshold(r: &mut BitReader<'_>) -> Option<f64> {
    match r.read_byte()? {
        0 => Some(0.0),
        255 => r.read_bits(64).map(f64::from_bits),
        b => {
            // 0.5 * 2^(b-243) = 2^(b-244), always a normal float here.
            let e = i64::from(b) - 244 + 1023;
            Some(f64::from_bits((e as u64) << 52))
        }
    }
}

/// put_custom_bound writes bounds that are whole thousandths in
/// 0..=33554.430 as varbit (thousandths + 1), anything else as a 0 bit and
/// the 64 float bits.
fn put_custom_bound(w: &mut BitWriter, f: f64) {
    let tf = f * 1000.0;
    let whole = ((tf.round() as u64) as f64) / 1000.0 == f;
    if !(0.0..=33_554_430.0).contains(&tf) || !whole {
        w.write_bit(false);
        w.write_bits(f.to_bits(), 64);
        return;
    }
    put_varbit_uint(w, tf.round() as u64 + 1);
}

fn read_custom_bound(r: &mut BitReader<'_>) -> Option<f64> {
    match read_varbit_uint(r)? {
        0 => r.read_bits(64).map(f64::from_bits),
        b => Some((b - 1) as f64 / 1000.0),
    }
}

/// BucketIterator yields the bucket indexes the spans cover, in order.
pub struct BucketIterator<'a> {
    spans: &'a [Span],
    span: usize,
    bucket: i64,
    idx: i64,
}

impl<'a> BucketIterator<'a> {
    /// new starts before the first bucket.
    pub fn new(spans: &'a [Span]) -> Self {
        let idx = spans.first().map_or(-1, |s| i64::from(s.offset) - 1);
        BucketIterator {
            spans,
            span: 0,
            bucket: -1,
            idx,
        }
    }
}

impl Iterator for BucketIterator<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        if self.span >= self.spans.len() {
            return None;
        }
        if self.bucket < i64::from(self.spans[self.span].length) - 1 {
            self.bucket += 1;
            self.idx += 1;
            return Some(self.idx);
        }
        while self.span + 1 < self.spans.len() {
            self.span += 1;
            self.idx += i64::from(self.spans[self.span].offset) + 1;
            self.bucket = 0;
            if self.spans[self.span].length == 0 {
                self.idx -= 1;
                continue;
            }
            return Some(self.idx);
        }
        None
    }
}

/// Insert says that `num` buckets go in before position `pos` of a bucket
/// list; `bucket_idx` is the index of the first of them (`Insert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insert {
    pub pos: usize,
    pub num: usize,
    pub bucket_idx: i64,
}

/// SpanBuilder appends bucket indexes (increasing) and builds spans.
#[derive(Default)]
struct SpanBuilder {
    spans: Vec<Span>,
    last: i64,
}

impl SpanBuilder {
    fn add(&mut self, b: i64) {
        let mut offset = b - self.last - 1;
        if offset == 0 && !self.spans.is_empty() {
            if let Some(s) = self.spans.last_mut() {
                s.length += 1;
            }
        } else {
            if self.spans.is_empty() {
                offset += 1;
            }
            self.spans.push(Span {
                offset: offset as i32,
                length: 1,
            });
        }
        self.last = b;
    }
}

/// expand_spans_both_ways merges two layouts (`expandSpansBothWays`): the
/// inserts that turn `a`'s buckets into the merged layout (forward), those
/// that turn `b`'s into it (backward), and the merged spans.
pub fn expand_spans_both_ways(a: &[Span], b: &[Span]) -> (Vec<Insert>, Vec<Insert>, Vec<Span>) {
    let mut ai = BucketIterator::new(a);
    let mut bi = BucketIterator::new(b);
    let (mut f_inserts, mut b_inserts) = (Vec::new(), Vec::new());
    let mut merged = SpanBuilder::default();
    let (mut f_inter, mut b_inter) = (Insert::default(), Insert::default());
    let mut av = ai.next();
    let mut bv = bi.next();
    loop {
        match (av, bv) {
            (Some(x), Some(y)) if x == y => {
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                    f_inter.num = 0;
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                merged.add(x);
                av = ai.next();
                bv = bi.next();
                f_inter.pos += 1;
                b_inter.pos += 1;
            }
            (Some(x), Some(_y)) if x < _y => {
                b_inter.num += 1;
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                    f_inter.num = 0;
                }
                merged.add(x);
                f_inter.pos += 1;
                av = ai.next();
            }
            (Some(_), Some(y)) => {
                f_inter.num += 1;
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                    b_inter.num = 0;
                }
                merged.add(y);
                b_inter.pos += 1;
                bv = bi.next();
            }
            (Some(x), None) => {
                b_inter.num += 1;
                merged.add(x);
                av = ai.next();
            }
            (None, Some(y)) => {
                f_inter.num += 1;
                merged.add(y);
                bv = bi.next();
            }
            (None, None) => {
                if f_inter.num > 0 {
                    f_inserts.push(f_inter);
                }
                if b_inter.num > 0 {
                    b_inserts.push(b_inter);
                }
                break;
            }
        }
    }
    (f_inserts, b_inserts, merged.spans)
}

/// BucketValue is an integer (delta-encoded) or float (absolute) count.
pub trait BucketValue: Copy + Default + std::ops::Neg<Output = Self> {
    fn plus(self, o: Self) -> Self;
}

impl BucketValue for i64 {
    #[inline]
    fn plus(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
}

impl BucketValue for f64 {
    #[inline]
    fn plus(self, o: Self) -> Self {
        self + o
    }
}

/// insert_buckets returns `input` with the inserts' empty buckets added
/// (`insert`). With `deltas`, the values are delta-encoded and an inserted
/// empty bucket takes the negated running total so later deltas still add up.
pub fn insert_buckets<V: BucketValue>(
    input: &[V],
    out_len: usize,
    inserts: &[Insert],
    deltas: bool,
) -> Vec<V> {
    let mut out = vec![V::default(); out_len];
    let mut oi = 0usize;
    let mut v = V::default();
    let mut ii = 0usize;
    for (i, &d) in input.iter().enumerate() {
        if ii >= inserts.len() || i != inserts[ii].pos {
            out[oi] = d;
            oi += 1;
            v = v.plus(d);
            continue;
        }
        let mut first = true;
        while ii < inserts.len() && i == inserts[ii].pos {
            if deltas && first {
                out[oi] = -v;
                first = false;
            } else {
                out[oi] = V::default();
            }
            oi += 1;
            for _ in 1..inserts[ii].num {
                out[oi] = V::default();
                oi += 1;
            }
            ii += 1;
        }
        out[oi] = if deltas { d.plus(v) } else { d };
        oi += 1;
        v = v.plus(d);
    }
    while ii < inserts.len() {
        out[oi] = if deltas { -v } else { V::default() };
        oi += 1;
        for _ in 1..inserts[ii].num {
            out[oi] = V::default();
            oi += 1;
        }
        ii += 1;
        v = V::default();
    }
    out
}

/// adjust_for_inserts adds the inserted buckets to a layout (`adjustForInserts`).
pub fn adjust_for_inserts(spans: &[Span], inserts: &[Insert]) -> Vec<Span> {
    if inserts.is_empty() {
        return spans.to_vec();
    }
    let mut merged = SpanBuilder::default();
    let mut i = 0usize;
    let mut insert_idx = inserts[0].bucket_idx;
    let mut insert_num = inserts[0].num;
    let consume = |i: &mut usize, insert_idx: &mut i64, insert_num: &mut usize| {
        *insert_num -= 1;
        if *insert_num == 0 {
            *i += 1;
            if *i < inserts.len() {
                *insert_idx = inserts[*i].bucket_idx;
                *insert_num = inserts[*i].num;
            }
        } else {
            *insert_idx += 1;
        }
    };
    let mut it = BucketIterator::new(spans);
    let mut bucket = it.next();
    while let Some(b) = bucket {
        if i < inserts.len() && insert_idx < b {
            merged.add(insert_idx);
            consume(&mut i, &mut insert_idx, &mut insert_num);
        } else {
            merged.add(b);
            bucket = it.next();
        }
    }
    while i < inserts.len() {
        merged.add(insert_idx);
        consume(&mut i, &mut insert_idx, &mut insert_num);
    }
    merged.spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(v: &[(i32, u32)]) -> Vec<Span> {
        v.iter()
            .map(|&(offset, length)| Span { offset, length })
            .collect()
    }

    #[test]
    fn bucket_iterator_walks_spans() {
        let s = sp(&[(-2, 2), (0, 0), (3, 1)]);
        let got: Vec<i64> = BucketIterator::new(&s).collect();
        assert_eq!(got, vec![-2, -1, 3]);
    }

    #[test]
    fn zero_threshold_and_bounds_round_trip() {
        for zt in [
            0.0,
            0.001,
            2f64.powi(-128),
            2f64.powi(10),
            2f64.powi(11),
            1e-300,
            -0.5,
        ] {
            let mut w = BitWriter::compact_with_header(0, 16);
            put_zero_threshold(&mut w, zt);
            let mut r = BitReader::new(w.bytes(), 0);
            assert_eq!(
                read_zero_threshold(&mut r).map(f64::to_bits),
                Some(zt.to_bits()),
                "{zt}"
            );
        }
        // 2^-128: Frexp gives exponent -127, written as 116.
        let mut w = BitWriter::compact_with_header(0, 4);
        put_zero_threshold(&mut w, 2f64.powi(-128));
        assert_eq!(w.bytes(), &[116]);
        for b in [0.0, 0.001, 2.5, 33554.43, 33554.431, 1e9, 0.0001234, -1.0] {
            let mut w = BitWriter::compact_with_header(0, 16);
            put_custom_bound(&mut w, b);
            let mut r = BitReader::new(w.bytes(), 0);
            assert_eq!(read_custom_bound(&mut r), Some(b));
        }
    }

    #[test]
    fn spans_merge_both_ways() {
        let a = sp(&[(0, 2), (2, 1)]); // 0 1 4
        let b = sp(&[(1, 2), (2, 1)]); // 1 2 5
        let (f, bw, merged) = expand_spans_both_ways(&a, &b);
        assert_eq!(merged, sp(&[(0, 3), (1, 2)])); // 0 1 2 4 5
        let fa = insert_buckets(&[1.0, 2.0, 3.0], 5, &f, false);
        assert_eq!(fa, vec![1.0, 2.0, 0.0, 3.0, 0.0]);
        let bb = insert_buckets(&[7.0, 8.0, 9.0], 5, &bw, false);
        assert_eq!(bb, vec![0.0, 7.0, 8.0, 0.0, 9.0]);
        // Delta-encoded: absolute [1, 3] with an empty bucket between.
        let d = insert_buckets(
            &[1i64, 2],
            3,
            &[Insert {
                pos: 1,
                num: 1,
                bucket_idx: 0,
            }],
            true,
        );
        assert_eq!(d, vec![1, -1, 3]);
        let adj = adjust_for_inserts(
            &sp(&[(0, 1), (1, 1)]),
            &[Insert {
                pos: 1,
                num: 1,
                bucket_idx: 1,
            }],
        );
        assert_eq!(adj, sp(&[(0, 3)]));
    }
}
