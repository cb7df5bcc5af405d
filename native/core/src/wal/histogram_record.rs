//! Histogram WAL records, as Prometheus's `tsdb/record` writes them (the
//! "v1" layouts, without start timestamps):
//!
//! - HistogramSamples (type 7) and CustomBucketsHistogramSamples (type 9):
//!   the batch's first ref and time as big-endian u64s, then per sample the
//!   ref and time as signed varint deltas from them and the histogram:
//!   reset hint byte, schema varint, zero threshold (BE float bits), zero
//!   count and count uvarints, sum (BE float bits), positive then negative
//!   spans (uvarint count, per span offset varint and length uvarint),
//!   positive then negative bucket deltas (uvarint count, varints), and for
//!   the custom-bucket schema the bounds (uvarint count, BE floats).
//! - FloatHistogramSamples (type 8) and CustomBucketsFloatHistogramSamples
//!   (type 10): the same with every count a BE float.
//!
//! Like Prometheus, a batch is split: exponential histograms go to a type 7
//! (8) record whose base is the batch's first sample even when that one has
//! custom buckets, the custom-bucket ones to a type 9 (10) record after it;
//! no type 7 (8) record is written when every histogram has custom buckets.

use super::record::{put_uvarint, put_varint, Decbuf, DecodeError};
use super::st_record::{
    decode_st_entries, StRecords, FLOAT_HISTOGRAM_SAMPLES_V2, HISTOGRAM_SAMPLES_V2,
};
use crate::model::histogram::{
    is_custom_buckets_schema, CounterResetHint, FloatHistogram, Histogram, HistogramValue, Span,
};

/// HISTOGRAM_SAMPLES is the type byte of integer histogram records.
pub const HISTOGRAM_SAMPLES: u8 = 7;
/// FLOAT_HISTOGRAM_SAMPLES is the type byte of float histogram records.
pub const FLOAT_HISTOGRAM_SAMPLES: u8 = 8;
/// CUSTOM_BUCKETS_HISTOGRAM_SAMPLES is the type byte of integer NHCB records.
pub const CUSTOM_BUCKETS_HISTOGRAM_SAMPLES: u8 = 9;
/// CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES is the type byte of float NHCB records.
pub const CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES: u8 = 10;

fn put_spans(b: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(b, spans.len() as u64);
    for s in spans {
        put_varint(b, i64::from(s.offset));
        put_uvarint(b, u64::from(s.length));
    }
}

fn put_bounds(b: &mut Vec<u8>, schema: i32, bounds: &[f64]) {
    if is_custom_buckets_schema(schema) {
        put_uvarint(b, bounds.len() as u64);
        for v in bounds {
            b.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }
}

/// put_histogram appends an integer histogram (`EncodeHistogram`).
pub fn put_histogram(b: &mut Vec<u8>, h: &Histogram) {
    // Small deltas and spans take a byte or two each: one reservation
    // covers the usual record.
    let spans = h.positive_spans.len() + h.negative_spans.len();
    b.reserve(40 + 4 * spans + 2 * (h.positive_buckets.len() + h.negative_buckets.len()));
    b.push(h.counter_reset_hint as u8);
    put_varint(b, i64::from(h.schema));
    b.extend_from_slice(&h.zero_threshold.to_bits().to_be_bytes());
    put_uvarint(b, h.zero_count);
    put_uvarint(b, h.count);
    b.extend_from_slice(&h.sum.to_bits().to_be_bytes());
    put_spans(b, &h.positive_spans);
    put_spans(b, &h.negative_spans);
    for list in [&h.positive_buckets, &h.negative_buckets] {
        put_uvarint(b, list.len() as u64);
        for &d in list.iter() {
            put_varint(b, d);
        }
    }
    put_bounds(b, h.schema, &h.custom_values);
}

/// put_float_histogram appends a float histogram (`EncodeFloatHistogram`).
pub fn put_float_histogram(b: &mut Vec<u8>, h: &FloatHistogram) {
    b.push(h.counter_reset_hint as u8);
    put_varint(b, i64::from(h.schema));
    for v in [h.zero_threshold, h.zero_count, h.count, h.sum] {
        b.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    put_spans(b, &h.positive_spans);
    put_spans(b, &h.negative_spans);
    for list in [&h.positive_buckets, &h.negative_buckets] {
        put_uvarint(b, list.len() as u64);
        for v in list.iter() {
            b.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }
    put_bounds(b, h.schema, &h.custom_values);
}

/// encode_batch writes one batch as Prometheus's encoder pair does: the
/// exponential entries in a `kind` record based on the batch's first
/// entry, the custom-bucket ones in a `custom_kind` record after it.
fn encode_batch<H>(
    batch: &[(u64, i64, &H)],
    kind: u8,
    custom_kind: u8,
    is_custom: impl Fn(&H) -> bool,
    put: impl Fn(&mut Vec<u8>, &H),
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(&(base_ref, base_t, _)) = batch.first() else {
        return out;
    };
    let record =
        |kind: u8, entries: &mut dyn Iterator<Item = &(u64, i64, &H)>, base: (u64, i64)| {
            let mut b = vec![kind];
            b.extend_from_slice(&base.0.to_be_bytes());
            b.extend_from_slice(&base.1.to_be_bytes());
            for (r, t, h) in entries {
                put_varint(&mut b, (*r as i64).wrapping_sub(base.0 as i64));
                put_varint(&mut b, t.wrapping_sub(base.1));
                put(&mut b, h);
            }
            b
        };
    if batch.iter().any(|(_, _, h)| !is_custom(h)) {
        out.push(record(
            kind,
            &mut batch.iter().filter(|(_, _, h)| !is_custom(h)),
            (base_ref, base_t),
        ));
    }
    if let Some(&(r, t, _)) = batch.iter().find(|(_, _, h)| is_custom(h)) {
        out.push(record(
            custom_kind,
            &mut batch.iter().filter(|(_, _, h)| is_custom(h)),
            (r, t),
        ));
    }
    out
}

/// RecordStream builds the records of one kind of histogram (integer or
/// float) sample by sample, as [`encode_batch`] would write the whole
/// batch: exponential entries against the batch's first sample, the
/// custom-bucket ones against the first custom-bucket sample. Each record
/// is built in place in a buffer of the thread's (`buffers`): its header
/// (type, then the base series and time) is written before its first
/// entry, the type byte set on finish.
#[derive(Debug, Default)]
struct RecordStream {
    first: Option<(u64, i64)>,
    exponential: Vec<u8>,
    custom_first: Option<(u64, i64)>,
    custom: Vec<u8>,
}

/// RECORD_HEADER is a record's type byte, base series reference and base time.
const RECORD_HEADER: usize = 17;

impl RecordStream {
    fn push(&mut self, r: u64, t: i64, custom: bool, put: impl FnOnce(&mut Vec<u8>)) {
        let first = *self.first.get_or_insert((r, t));
        let (base, b) = if custom {
            (*self.custom_first.get_or_insert((r, t)), &mut self.custom)
        } else {
            (first, &mut self.exponential)
        };
        if b.is_empty() {
            *b = super::buffers::take_buffer();
            b.push(0);
            b.extend_from_slice(&base.0.to_be_bytes());
            b.extend_from_slice(&base.1.to_be_bytes());
        }
        put_varint(b, (r as i64).wrapping_sub(base.0 as i64));
        put_varint(b, t.wrapping_sub(base.1));
        put(b);
    }

    fn finish(mut self, kind: u8, custom_kind: u8, out: &mut Vec<Vec<u8>>) {
        for (b, kind) in [
            (&mut self.exponential, kind),
            (&mut self.custom, custom_kind),
        ] {
            if b.len() > RECORD_HEADER {
                b[0] = kind;
                out.push(std::mem::take(b));
            }
        }
    }
}

/// HistogramLogEncoder encodes the WAL records of histogram samples as
/// they are appended (no copy of the histograms is kept): on finish, the
/// records [`encode_histograms`] and then [`encode_float_histograms`] give
/// for the same samples; the v2 records (types 12 and 13, see `st_record`)
/// once a sample comes with a start timestamp.
#[derive(Debug, Default)]
pub struct HistogramLogEncoder {
    ints: RecordStream,
    floats: RecordStream,
    /// The integer and float v2 records, once a start timestamp was seen.
    v2: Option<Box<(StRecords, StRecords)>>,
}

impl HistogramLogEncoder {
    /// push adds one sample of series `r` at `t` without a start timestamp.
    pub fn push(&mut self, r: u64, t: i64, v: &HistogramValue) {
        self.push_st(r, t, v, 0);
    }

    /// push_st adds one sample of series `r` at `t` with start timestamp
    /// `st` (0: unknown).
    pub fn push_st(&mut self, r: u64, t: i64, v: &HistogramValue, st: i64) {
        if st == 0 && self.v2.is_none() {
            match v {
                HistogramValue::Int(h) => {
                    self.ints
                        .push(r, t, is_custom_buckets_schema(h.schema), |b| {
                            put_histogram(b, h)
                        })
                }
                HistogramValue::Float(h) => {
                    self.floats
                        .push(r, t, is_custom_buckets_schema(h.schema), |b| {
                            put_float_histogram(b, h)
                        })
                }
            }
            return;
        }
        if self.v2.is_none() {
            // The first start timestamp of the batch: what was built so far
            // becomes v2 entries.
            let mut ints = StRecords::new(HISTOGRAM_SAMPLES_V2, usize::MAX);
            let mut floats = StRecords::new(FLOAT_HISTOGRAM_SAMPLES_V2, usize::MAX);
            for rec in std::mem::take(self).finish() {
                let ok = match rec[0] {
                    HISTOGRAM_SAMPLES | CUSTOM_BUCKETS_HISTOGRAM_SAMPLES => {
                        decode_histograms(&rec, |r, t, h| {
                            ints.push(r, t, 0, |b| put_histogram(b, &h))
                        })
                    }
                    _ => decode_float_histograms(&rec, |r, t, h| {
                        floats.push(r, t, 0, |b| put_float_histogram(b, &h))
                    }),
                };
                ok.expect("records built by this encoder decode");
            }
            self.v2 = Some(Box::new((ints, floats)));
        }
        let v2 = self.v2.as_deref_mut().expect("v2 records");
        match v {
            HistogramValue::Int(h) => v2.0.push(r, t, st, |b| put_histogram(b, h)),
            HistogramValue::Float(h) => v2.1.push(r, t, st, |b| put_float_histogram(b, h)),
        }
    }

    /// is_empty reports no sample pushed.
    pub fn is_empty(&self) -> bool {
        self.ints.first.is_none() && self.floats.first.is_none() && self.v2.is_none()
    }

    /// finish returns the records: integer ones (type 7, 9; or 12), then
    /// float ones (8, 10; or 13).
    pub fn finish(self) -> Vec<Vec<u8>> {
        if let Some(v2) = self.v2 {
            let (ints, floats) = *v2;
            let mut out = ints.finish();
            out.extend(floats.finish());
            return out;
        }
        let mut out = Vec::new();
        self.ints.finish(
            HISTOGRAM_SAMPLES,
            CUSTOM_BUCKETS_HISTOGRAM_SAMPLES,
            &mut out,
        );
        self.floats.finish(
            FLOAT_HISTOGRAM_SAMPLES,
            CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES,
            &mut out,
        );
        out
    }
}

/// decode_any_histograms calls `f(ref, t, histogram, st)` for every sample
/// of a histogram record of any type (7 to 10: st 0; 12, 13).
pub fn decode_any_histograms(
    rec: &[u8],
    mut f: impl FnMut(u64, i64, HistogramValue, i64),
) -> Result<usize, DecodeError> {
    match rec.first() {
        Some(&HISTOGRAM_SAMPLES_V2) => {
            decode_st_entries(rec, HISTOGRAM_SAMPLES_V2, |d, r, t, st| {
                f(r, t, HistogramValue::Int(get_histogram(d)?), st);
                Ok(())
            })
        }
        Some(&FLOAT_HISTOGRAM_SAMPLES_V2) => {
            decode_st_entries(rec, FLOAT_HISTOGRAM_SAMPLES_V2, |d, r, t, st| {
                f(r, t, HistogramValue::Float(get_float_histogram(d)?), st);
                Ok(())
            })
        }
        Some(&HISTOGRAM_SAMPLES | &CUSTOM_BUCKETS_HISTOGRAM_SAMPLES) => {
            decode_histograms(rec, |r, t, h| f(r, t, HistogramValue::Int(h), 0))
        }
        _ => decode_float_histograms(rec, |r, t, h| f(r, t, HistogramValue::Float(h), 0)),
    }
}

/// encode_histograms returns the records (type 7, then type 9) of a batch
/// of integer histogram samples `(ref, t, histogram)`.
pub fn encode_histograms(batch: &[(u64, i64, &Histogram)]) -> Vec<Vec<u8>> {
    encode_batch(
        batch,
        HISTOGRAM_SAMPLES,
        CUSTOM_BUCKETS_HISTOGRAM_SAMPLES,
        |h| is_custom_buckets_schema(h.schema),
        put_histogram,
    )
}

/// encode_float_histograms returns the records (type 8, then type 10) of a
/// batch of float histogram samples.
pub fn encode_float_histograms(batch: &[(u64, i64, &FloatHistogram)]) -> Vec<Vec<u8>> {
    encode_batch(
        batch,
        FLOAT_HISTOGRAM_SAMPLES,
        CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES,
        |h| is_custom_buckets_schema(h.schema),
        put_float_histogram,
    )
}

fn get_spans(d: &mut Decbuf<'_>) -> Result<Vec<Span>, DecodeError> {
    let n = d.uvarint()?;
    let mut out = Vec::with_capacity(n.min(1024) as usize);
    for _ in 0..n {
        let offset = d.varint()? as i32;
        let length = d.uvarint()? as u32;
        out.push(Span { offset, length });
    }
    Ok(out)
}

fn get_f64(d: &mut Decbuf<'_>) -> Result<f64, DecodeError> {
    Ok(f64::from_bits(d.be64()?))
}

fn get_bounds(d: &mut Decbuf<'_>, schema: i32) -> Result<Vec<f64>, DecodeError> {
    let mut out = Vec::new();
    if is_custom_buckets_schema(schema) {
        let n = d.uvarint()?;
        for _ in 0..n {
            out.push(get_f64(d)?);
        }
    }
    Ok(out)
}

/// get_histogram reads what `put_histogram` wrote.
pub fn get_histogram(d: &mut Decbuf<'_>) -> Result<Histogram, DecodeError> {
    let counter_reset_hint = CounterResetHint::from_u8(d.byte()?);
    let schema = d.varint()? as i32;
    let zero_threshold = get_f64(d)?;
    let zero_count = d.uvarint()?;
    let count = d.uvarint()?;
    let sum = get_f64(d)?;
    let positive_spans = get_spans(d)?;
    let negative_spans = get_spans(d)?;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let n = d.uvarint()?;
        for _ in 0..n {
            list.push(d.varint()?);
        }
    }
    let [positive_buckets, negative_buckets] = lists;
    let custom_values = get_bounds(d, schema)?;
    Ok(Histogram {
        counter_reset_hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans,
        negative_spans,
        positive_buckets,
        negative_buckets,
        custom_values,
    })
}

/// get_float_histogram reads what `put_float_histogram` wrote.
pub fn get_float_histogram(d: &mut Decbuf<'_>) -> Result<FloatHistogram, DecodeError> {
    let counter_reset_hint = CounterResetHint::from_u8(d.byte()?);
    let schema = d.varint()? as i32;
    let zero_threshold = get_f64(d)?;
    let zero_count = get_f64(d)?;
    let count = get_f64(d)?;
    let sum = get_f64(d)?;
    let positive_spans = get_spans(d)?;
    let negative_spans = get_spans(d)?;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let n = d.uvarint()?;
        for _ in 0..n {
            list.push(get_f64(d)?);
        }
    }
    let [positive_buckets, negative_buckets] = lists;
    let custom_values = get_bounds(d, schema)?;
    Ok(FloatHistogram {
        counter_reset_hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans,
        negative_spans,
        positive_buckets,
        negative_buckets,
        custom_values,
    })
}

fn decode_entries<H>(
    rec: &[u8],
    kinds: [u8; 2],
    get: impl Fn(&mut Decbuf<'_>) -> Result<H, DecodeError>,
    mut f: impl FnMut(u64, i64, H),
) -> Result<usize, DecodeError> {
    let mut d = Decbuf::new(rec);
    let kind = d.byte()?;
    if !kinds.contains(&kind) {
        return Err(DecodeError(format!(
            "not a histogram record of type {} or {}",
            kinds[0], kinds[1]
        )));
    }
    if d.is_empty() {
        return Ok(0);
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    let mut n = 0;
    while !d.is_empty() {
        let dr = d.varint()?;
        let dt = d.varint()?;
        let h = get(&mut d)?;
        f(base_ref.wrapping_add(dr) as u64, base_t.wrapping_add(dt), h);
        n += 1;
    }
    Ok(n)
}

/// decode_histograms calls `f(ref, t, histogram)` for every sample of a
/// type 7 or 9 record (type byte included), in record order.
pub fn decode_histograms(
    rec: &[u8],
    f: impl FnMut(u64, i64, Histogram),
) -> Result<usize, DecodeError> {
    decode_entries(
        rec,
        [HISTOGRAM_SAMPLES, CUSTOM_BUCKETS_HISTOGRAM_SAMPLES],
        get_histogram,
        f,
    )
}

/// decode_float_histograms calls `f(ref, t, histogram)` for every sample
/// of a type 8 or 10 record.
pub fn decode_float_histograms(
    rec: &[u8],
    f: impl FnMut(u64, i64, FloatHistogram),
) -> Result<usize, DecodeError> {
    decode_entries(
        rec,
        [
            FLOAT_HISTOGRAM_SAMPLES,
            CUSTOM_BUCKETS_FLOAT_HISTOGRAM_SAMPLES,
        ],
        get_float_histogram,
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::histogram::STALE_NAN_BITS;

    const GOLDEN: &str = include_str!("testdata/histogram_records.json");

    fn golden(key: &str) -> Vec<u8> {
        let v: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
        let s = v[key].as_str().unwrap();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn sp(v: &[(i32, u32)]) -> Vec<Span> {
        v.iter()
            .map(|&(offset, length)| Span { offset, length })
            .collect()
    }

    fn samples() -> (Histogram, Histogram, Histogram, Histogram) {
        let exp = Histogram {
            counter_reset_hint: CounterResetHint::NotCounterReset,
            schema: 3,
            zero_threshold: 0.001,
            zero_count: 2,
            count: 9,
            sum: 12.25,
            positive_spans: sp(&[(-2, 2), (1, 1)]),
            positive_buckets: vec![1, 2, -1],
            negative_spans: sp(&[(0, 1)]),
            negative_buckets: vec![2],
            custom_values: vec![],
        };
        let custom = Histogram {
            schema: -53,
            count: 4,
            sum: 1.5,
            positive_spans: sp(&[(0, 3)]),
            positive_buckets: vec![1, 1, -1],
            custom_values: vec![0.1, 0.5, 2.5],
            ..Default::default()
        };
        let mut gauge = exp.clone();
        gauge.counter_reset_hint = CounterResetHint::Gauge;
        (exp, custom, gauge, Histogram::stale())
    }

    #[test]
    fn records_match_prometheus() {
        let (exp, custom, gauge, stale) = samples();
        let batch = [
            (12u64, 1_700_000_000_000i64, &exp),
            (9, 1_700_000_015_000, &custom),
            (40, 1_699_999_990_000, &gauge),
            (12, 1_700_000_030_000, &stale),
        ];
        let recs = encode_histograms(&batch);
        assert_eq!(recs, vec![golden("r7"), golden("r9")]);
        assert!(encode_histograms(&batch[1..2]).len() == 1 && golden("r7_all_custom").is_empty());

        let mut fexp = exp.to_float();
        fexp.count = 9.5;
        let fcustom = custom.to_float();
        let fbatch = [
            (3u64, 1_700_000_000_500i64, &fexp),
            (5, 1_700_000_001_000, &fcustom),
        ];
        assert_eq!(
            encode_float_histograms(&fbatch),
            vec![golden("r8"), golden("r10")]
        );

        // Decoding gives the samples back, staleness marker included.
        let mut got = Vec::new();
        for rec in &recs {
            decode_histograms(rec, |r, t, h| got.push((r, t, h))).unwrap();
        }
        assert_eq!(got.len(), 4);
        assert_eq!(
            (got[0].0, got[0].1, &got[0].2),
            (12, 1_700_000_000_000, &exp)
        );
        assert_eq!(
            (got[1].0, got[1].1, &got[1].2),
            (40, 1_699_999_990_000, &gauge)
        );
        assert_eq!(got[2].2.sum.to_bits(), STALE_NAN_BITS);
        assert_eq!(
            (got[3].0, got[3].1, &got[3].2),
            (9, 1_700_000_015_000, &custom)
        );
        let mut fgot = Vec::new();
        for rec in [golden("r8"), golden("r10")] {
            decode_float_histograms(&rec, |r, t, h| fgot.push((r, t, h))).unwrap();
        }
        assert_eq!(
            fgot,
            vec![
                (3, 1_700_000_000_500, fexp),
                (5, 1_700_000_001_000, fcustom)
            ]
        );
        assert!(decode_float_histograms(&golden("r7"), |_, _, _| {}).is_err());
    }

    #[test]
    fn log_encoder_writes_the_batch_records() {
        use crate::model::histogram::HistogramValue;
        let (exp, custom, gauge, stale) = samples();
        let mut fexp = exp.to_float();
        fexp.count = 9.5;
        let fcustom = custom.to_float();
        // Mixed kinds, a custom-bucket one first (the exponential record's base).
        let mixed: Vec<(u64, i64, HistogramValue)> = vec![
            (9, 1_700_000_015_000, HistogramValue::Int(custom.clone())),
            (5, 1_700_000_001_000, HistogramValue::Float(fcustom.clone())),
            (12, 1_700_000_000_000, HistogramValue::Int(exp.clone())),
            (3, 1_700_000_000_500, HistogramValue::Float(fexp.clone())),
            (40, 1_699_999_990_000, HistogramValue::Int(gauge.clone())),
            (12, 1_700_000_030_000, HistogramValue::Int(stale.clone())),
        ];
        let mut enc = HistogramLogEncoder::default();
        assert!(enc.is_empty());
        for (r, t, v) in &mixed {
            enc.push(*r, *t, v);
        }
        assert!(!enc.is_empty());
        let ints: Vec<(u64, i64, &Histogram)> = mixed
            .iter()
            .filter_map(|(r, t, v)| match v {
                HistogramValue::Int(h) => Some((*r, *t, h)),
                HistogramValue::Float(_) => None,
            })
            .collect();
        let floats: Vec<(u64, i64, &FloatHistogram)> = mixed
            .iter()
            .filter_map(|(r, t, v)| match v {
                HistogramValue::Float(h) => Some((*r, *t, h)),
                HistogramValue::Int(_) => None,
            })
            .collect();
        let mut want = encode_histograms(&ints);
        want.extend(encode_float_histograms(&floats));
        assert_eq!(want.len(), 4);
        assert_eq!(enc.finish(), want);
        // Only custom buckets: no exponential record.
        let mut enc = HistogramLogEncoder::default();
        enc.push(9, 1, &HistogramValue::Int(custom.clone()));
        assert_eq!(enc.finish(), encode_histograms(&[(9, 1, &custom)]));
    }
}
