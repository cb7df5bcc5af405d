//! Native histograms of remote write 1.0 and 2.0 (`prompb.Histogram` and
//! `io.prometheus.write.v2.Histogram` share their field numbers), and
//! their validation as Mimir's distributor and ingester do it.
//!
//! ```text
//! Histogram { oneof count { uint64 count_int = 1; double count_float = 2; }
//!             double sum = 3; sint32 schema = 4; double zero_threshold = 5;
//!             oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
//!             repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9;
//!             repeated double negative_counts = 10; repeated BucketSpan positive_spans = 11;
//!             repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
//!             ResetHint reset_hint = 14; int64 timestamp = 15;
//!             repeated double custom_values = 16; int64 start_timestamp = 17 (2.0) }
//! BucketSpan { sint32 offset = 1; uint32 length = 2; }
//! ```
//!
//! A histogram whose count is `count_float` is a float histogram (counts
//! from `*_counts`), otherwise an integer one (deltas from `*_deltas`), as
//! Mimir's `IsFloatHistogram`.

use super::wire::{DecodeError, Reader};
pub use crate::model::histogram::HistogramValue;
use crate::model::histogram::{
    count_buckets, is_custom_buckets_schema, is_exponential_schema, CounterResetHint,
    FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX,
    EXPONENTIAL_SCHEMA_MIN,
};

/// HistogramSample is one histogram of a series with its timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    pub timestamp_ms: i64,
    /// Remote write 2.0's start (created) timestamp, 0 when absent.
    pub start_timestamp_ms: i64,
    pub value: HistogramValue,
}

fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn decode_span(buf: &[u8]) -> Result<Span, DecodeError> {
    let mut s = Span::default();
    let mut r = Reader::new(buf, "BucketSpan");
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => s.offset = zigzag32(r.varint_field(wt, "Offset")?),
            2 => s.length = r.varint_field(wt, "Length")? as u32,
            _ => r.skip(wt)?,
        }
    }
    Ok(s)
}

/// repeated_sint64 appends a packed or unpacked `repeated sint64`.
fn repeated_sint64(
    r: &mut Reader<'_>,
    wt: u8,
    field: &str,
    out: &mut Vec<i64>,
) -> Result<(), DecodeError> {
    match wt {
        0 => out.push(zigzag64(r.varint()?)),
        2 => {
            let b = r.bytes()?;
            // At most one value per byte.
            out.reserve(b.len());
            let mut p = Reader::new(b, "Histogram");
            while p.more() {
                out.push(zigzag64(p.varint()?));
            }
        }
        _ => return Err(DecodeError::wrong_wire_type(wt, field)),
    }
    Ok(())
}

fn repeated_f64(
    r: &mut Reader<'_>,
    wt: u8,
    field: &str,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    match wt {
        1 => out.push(f64::from_bits(r.fixed64()?)),
        2 => {
            let b = r.bytes()?;
            if b.len() % 8 != 0 {
                return Err(DecodeError::eof());
            }
            out.reserve(b.len() / 8);
            out.extend(
                b.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
            );
        }
        _ => return Err(DecodeError::wrong_wire_type(wt, field)),
    }
    Ok(())
}

/// decode_histogram decodes one `Histogram` message.
pub fn decode_histogram(buf: &[u8]) -> Result<HistogramSample, DecodeError> {
    let mut r = Reader::new(buf, "Histogram");
    let (mut count_int, mut count_float, mut is_float) = (0u64, 0f64, false);
    let (mut zc_int, mut zc_float) = (0u64, 0f64);
    let (mut sum, mut schema, mut zero_threshold) = (0f64, 0i32, 0f64);
    let (mut ns, mut ps) = (Vec::new(), Vec::new());
    let (mut nd, mut pd) = (Vec::new(), Vec::new());
    let (mut nc, mut pc) = (Vec::new(), Vec::new());
    let mut hint = 0u64;
    let (mut ts, mut st) = (0i64, 0i64);
    let mut custom = Vec::new();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                count_int = r.varint_field(wt, "CountInt")?;
                is_float = false;
            }
            2 => {
                count_float = r.f64_field(wt, "CountFloat")?;
                is_float = true;
            }
            3 => sum = r.f64_field(wt, "Sum")?,
            4 => schema = zigzag32(r.varint_field(wt, "Schema")?),
            5 => zero_threshold = r.f64_field(wt, "ZeroThreshold")?,
            6 => zc_int = r.varint_field(wt, "ZeroCountInt")?,
            7 => zc_float = r.f64_field(wt, "ZeroCountFloat")?,
            8 => ns.push(decode_span(r.bytes_field(wt, "NegativeSpans")?)?),
            9 => repeated_sint64(&mut r, wt, "NegativeDeltas", &mut nd)?,
            10 => repeated_f64(&mut r, wt, "NegativeCounts", &mut nc)?,
            11 => ps.push(decode_span(r.bytes_field(wt, "PositiveSpans")?)?),
            12 => repeated_sint64(&mut r, wt, "PositiveDeltas", &mut pd)?,
            13 => repeated_f64(&mut r, wt, "PositiveCounts", &mut pc)?,
            14 => hint = r.varint_field(wt, "ResetHint")?,
            15 => ts = r.varint_field(wt, "Timestamp")? as i64,
            16 => repeated_f64(&mut r, wt, "CustomValues", &mut custom)?,
            17 => st = r.varint_field(wt, "StartTimestamp")? as i64,
            _ => r.skip(wt)?,
        }
    }
    let counter_reset_hint = CounterResetHint::from_u8(hint.min(255) as u8);
    let value = if is_float {
        HistogramValue::Float(FloatHistogram {
            counter_reset_hint,
            schema,
            zero_threshold,
            zero_count: zc_float,
            count: count_float,
            sum,
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pc,
            negative_buckets: nc,
            custom_values: custom,
        })
    } else {
        HistogramValue::Int(Histogram {
            counter_reset_hint,
            schema,
            zero_threshold,
            zero_count: zc_int,
            count: count_int,
            sum,
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pd,
            negative_buckets: nd,
            custom_values: custom,
        })
    };
    Ok(HistogramSample {
        timestamp_ms: ts,
        start_timestamp_ms: st,
        value,
    })
}

/// HistogramError is a rejected histogram: the `reason` label of
/// `cortex_discarded_samples_total` and the error text without the series
/// context (see [`histogram_error_message`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramError {
    pub reason: &'static str,
    /// Mimir's error id (`err-mimir-<id>`).
    pub id: &'static str,
    pub text: String,
}

/// Discard reasons of histograms, as Mimir's label values.
pub mod histogram_reason {
    pub const INVALID_SCHEMA: &str = "invalid_native_histogram_schema";
    pub const MAX_BUCKETS: &str = "max_native_histogram_buckets";
    pub const COUNT_MISMATCH: &str = "native_histogram_count_mismatch";
    pub const COUNT_NOT_BIG_ENOUGH: &str = "native_histogram_count_not_big_enough";
    pub const NEGATIVE_BUCKET_COUNT: &str = "native_histogram_negative_bucket_count";
    pub const SPAN_NEGATIVE_OFFSET: &str = "native_histogram_span_negative_offset";
    pub const SPANS_BUCKETS_MISMATCH: &str = "native_histogram_spans_buckets_mismatch";
    pub const CUSTOM_BUCKETS_MISMATCH: &str = "native_histogram_custom_buckets_mismatch";
    pub const CUSTOM_BUCKETS_INVALID: &str = "native_histogram_custom_buckets_invalid";
    pub const CUSTOM_BUCKETS_INFINITE: &str = "native_histogram_custom_buckets_infinite";
    pub const OTHER: &str = "native_histogram_validation";
}

fn herr(reason: &'static str, id: &'static str, text: String) -> HistogramError {
    HistogramError { reason, id, text }
}

/// go_float formats a float as Go's `%f` does (6 decimals, `+Inf`, `NaN`).
fn go_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v:.6}")
    }
}

/// go_v formats a float as Go's `%v` (shortest representation, exponent
/// form for very large or small magnitudes).
fn go_v(v: f64) -> String {
    crate::limits::format_go_float(v)
}

fn check_spans(spans: &[Span], n: usize) -> Result<(), HistogramError> {
    let mut end: i64 = 0;
    let mut total = 0usize;
    for (i, s) in spans.iter().enumerate() {
        if i > 0 && s.offset < 0 {
            return Err(herr(
                histogram_reason::SPAN_NEGATIVE_OFFSET,
                "native-histogram-span-negative-offset",
                format!(
                    "span number {} with offset {}: histogram has a span whose offset is negative",
                    i + 1,
                    s.offset
                ),
            ));
        }
        if i == 0 && s.offset == i32::MIN {
            return Err(herr(
                histogram_reason::OTHER,
                "native-histogram-span-index-out-of-range",
                format!("span number {} starts at bucket index {}: histogram has a span whose bucket index is out of range", i + 1, s.offset),
            ));
        }
        total += s.length as usize;
        end += i64::from(s.offset) + i64::from(s.length);
        if end - 1 > i64::from(i32::MAX) {
            return Err(herr(
                histogram_reason::OTHER,
                "native-histogram-span-index-out-of-range",
                format!("span number {} ends at bucket index {}: histogram has a span whose bucket index is out of range", i + 1, end - 1),
            ));
        }
    }
    if total != n {
        return Err(herr(
            histogram_reason::SPANS_BUCKETS_MISMATCH,
            "native-histogram-spans-buckets-mismatch",
            format!("spans need {total} buckets, have {n} buckets: histogram spans specify different number of buckets than provided"),
        ));
    }
    Ok(())
}

fn negative_bucket(i: usize, c: String) -> HistogramError {
    herr(
        histogram_reason::NEGATIVE_BUCKET_COUNT,
        "native-histogram-negative-bucket-count",
        format!("bucket number {} has observation count of {c}: histogram has a bucket whose observation count is negative", i + 1),
    )
}

fn check_custom_bounds(bounds: &[f64], spans: &[Span], n: usize) -> Result<(), HistogramError> {
    let mut prev = f64::NEG_INFINITY;
    for (i, &b) in bounds.iter().enumerate() {
        if b.is_nan() {
            return Err(herr(
                histogram_reason::CUSTOM_BUCKETS_INVALID,
                "native-histogram-custom-buckets-nan",
                "histogram custom bounds must not be NaN".into(),
            ));
        }
        if i > 0 && b <= prev {
            return Err(herr(
                histogram_reason::CUSTOM_BUCKETS_INVALID,
                "native-histogram-custom-buckets-invalid",
                format!("previous bound is {} and current is {}: histogram custom bounds must be in strictly increasing order", go_f(prev), go_f(b)),
            ));
        }
        prev = b;
    }
    if prev == f64::INFINITY {
        return Err(herr(
            histogram_reason::CUSTOM_BUCKETS_INFINITE,
            "native-histogram-custom-buckets-infinite",
            "last +Inf bound must not be explicitly defined: histogram custom bounds must be finite".into(),
        ));
    }
    let (mut total, mut span_len) = (0usize, 0i64);
    for (i, s) in spans.iter().enumerate() {
        if s.offset < 0 {
            return Err(herr(
                histogram_reason::SPAN_NEGATIVE_OFFSET,
                "native-histogram-span-negative-offset",
                format!(
                    "span number {} with offset {}: histogram has a span whose offset is negative",
                    i + 1,
                    s.offset
                ),
            ));
        }
        total += s.length as usize;
        span_len += i64::from(s.length) + i64::from(s.offset);
    }
    if total != n {
        return Err(herr(
            histogram_reason::SPANS_BUCKETS_MISMATCH,
            "native-histogram-spans-buckets-mismatch",
            format!("spans need {total} buckets, have {n} buckets: histogram spans specify different number of buckets than provided"),
        ));
    }
    if (bounds.len() as i64) + 1 < span_len {
        return Err(herr(
            histogram_reason::CUSTOM_BUCKETS_MISMATCH,
            "native-histogram-custom-buckets-mismatch",
            format!("only {} custom bounds defined which is insufficient to cover total span length of {span_len}: histogram custom bounds are too few", bounds.len()),
        ));
    }
    Ok(())
}

fn custom_extra(
    zero_count_zero: bool,
    zero_threshold: f64,
    neg_spans: usize,
    neg_buckets: usize,
) -> Result<(), HistogramError> {
    let other = |t: &str| {
        Err(herr(
            histogram_reason::OTHER,
            "native-histogram-validation",
            t.to_string(),
        ))
    };
    if !zero_count_zero {
        return other("custom buckets: must have zero count of 0");
    }
    if zero_threshold != 0.0 {
        return other("custom buckets: must have zero threshold of 0");
    }
    if neg_spans > 0 {
        return other("custom buckets: must not have negative spans");
    }
    if neg_buckets > 0 {
        return other("custom buckets: must not have negative buckets");
    }
    Ok(())
}

fn wrap(side: &str, e: HistogramError) -> HistogramError {
    HistogramError {
        text: format!("{side}: {}", e.text),
        ..e
    }
}

/// validate_histogram checks a histogram as Prometheus's `Validate` (run
/// by Mimir's ingester): schema, spans against buckets, negative counts,
/// custom bounds, and the count against the buckets' total.
pub fn validate_histogram(v: &HistogramValue) -> Result<(), HistogramError> {
    match v {
        HistogramValue::Int(h) => {
            let (mut n_count, mut p_count) = (0u64, 0u64);
            if is_custom_buckets_schema(h.schema) {
                check_custom_bounds(
                    &h.custom_values,
                    &h.positive_spans,
                    h.positive_buckets.len(),
                )
                .map_err(|e| wrap("custom buckets", e))?;
                custom_extra(
                    h.zero_count == 0,
                    h.zero_threshold,
                    h.negative_spans.len(),
                    h.negative_buckets.len(),
                )?;
            } else if is_exponential_schema(h.schema) {
                check_spans(&h.positive_spans, h.positive_buckets.len())
                    .map_err(|e| wrap("positive side", e))?;
                check_spans(&h.negative_spans, h.negative_buckets.len())
                    .map_err(|e| wrap("negative side", e))?;
                n_count =
                    int_bucket_total(&h.negative_buckets).map_err(|e| wrap("negative side", e))?;
                if !h.custom_values.is_empty() {
                    return Err(herr(
                        histogram_reason::OTHER,
                        "native-histogram-validation",
                        "histogram with exponential schema must not have custom bounds".into(),
                    ));
                }
            } else {
                return Err(invalid_schema(h.schema));
            }
            p_count = p_count.wrapping_add(
                int_bucket_total(&h.positive_buckets).map_err(|e| wrap("positive side", e))?,
            );
            let total = n_count.wrapping_add(p_count).wrapping_add(h.zero_count);
            count_check(
                total as f64,
                h.count as f64,
                &total.to_string(),
                &h.count.to_string(),
                h.sum.is_nan(),
            )
        }
        HistogramValue::Float(h) => {
            let (mut n_count, mut p_count) = (0f64, 0f64);
            if is_custom_buckets_schema(h.schema) {
                check_custom_bounds(
                    &h.custom_values,
                    &h.positive_spans,
                    h.positive_buckets.len(),
                )
                .map_err(|e| wrap("custom buckets", e))?;
                custom_extra(
                    h.zero_count == 0.0,
                    h.zero_threshold,
                    h.negative_spans.len(),
                    h.negative_buckets.len(),
                )?;
            } else if is_exponential_schema(h.schema) {
                check_spans(&h.positive_spans, h.positive_buckets.len())
                    .map_err(|e| wrap("positive side", e))?;
                check_spans(&h.negative_spans, h.negative_buckets.len())
                    .map_err(|e| wrap("negative side", e))?;
                n_count = float_bucket_total(&h.negative_buckets)
                    .map_err(|e| wrap("negative side", e))?;
                if !h.custom_values.is_empty() {
                    return Err(herr(
                        histogram_reason::OTHER,
                        "native-histogram-validation",
                        "histogram with exponential schema must not have custom bounds".into(),
                    ));
                }
            } else {
                return Err(invalid_schema(h.schema));
            }
            p_count +=
                float_bucket_total(&h.positive_buckets).map_err(|e| wrap("positive side", e))?;
            if h.count < 0.0 {
                return Err(herr(histogram_reason::OTHER, "native-histogram-validation", format!("{} observations found in buckets, but the Count field is {}: histogram's observation count is negative", go_v(n_count + p_count + h.zero_count), go_v(h.count))));
            }
            let total = n_count + p_count + h.zero_count;
            // Float histograms only check that the count is big enough.
            if !h.count.is_nan() && !total.is_nan() && total > h.count {
                return Err(herr(
                    histogram_reason::COUNT_NOT_BIG_ENOUGH,
                    "native-histogram-count-not-big-enough",
                    format!("{} observations found in buckets, but the Count field is {}: histogram's observation count should be at least the number of observations found in the buckets", go_v(total), go_v(h.count)),
                ));
            }
            Ok(())
        }
    }
}

fn invalid_schema(schema: i32) -> HistogramError {
    herr(
        histogram_reason::INVALID_SCHEMA,
        "invalid-native-histogram-schema",
        format!("received a native histogram sample with an invalid schema: {schema}"),
    )
}

fn int_bucket_total(deltas: &[i64]) -> Result<u64, HistogramError> {
    let (mut last, mut total) = (0i64, 0u64);
    for (i, d) in deltas.iter().enumerate() {
        let c = last.wrapping_add(*d);
        if c < 0 {
            return Err(negative_bucket(i, c.to_string()));
        }
        last = c;
        total = total.wrapping_add(c as u64);
    }
    Ok(total)
}

fn float_bucket_total(counts: &[f64]) -> Result<f64, HistogramError> {
    let mut total = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        if c < 0.0 {
            return Err(negative_bucket(i, go_v(c)));
        }
        total += c;
    }
    Ok(total)
}

fn count_check(
    total: f64,
    count: f64,
    total_s: &str,
    count_s: &str,
    sum_nan: bool,
) -> Result<(), HistogramError> {
    if sum_nan {
        if total > count {
            return Err(herr(
                histogram_reason::COUNT_NOT_BIG_ENOUGH,
                "native-histogram-count-not-big-enough",
                format!("{total_s} observations found in buckets, but the Count field is {count_s}: histogram's observation count should be at least the number of observations found in the buckets"),
            ));
        }
    } else if total != count {
        return Err(herr(
            histogram_reason::COUNT_MISMATCH,
            "native-histogram-count-mismatch",
            format!("{total_s} observations found in buckets, but the Count field is {count_s}: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)"),
        ));
    }
    Ok(())
}

/// HistogramLimits are the distributor's histogram limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramLimits {
    /// `-validation.max-native-histogram-buckets` (0: no limit).
    pub max_buckets: usize,
    /// `-validation.reduce-native-histogram-over-max-buckets` (default true).
    pub reduce_over_max_buckets: bool,
}

impl Default for HistogramLimits {
    fn default() -> Self {
        HistogramLimits {
            max_buckets: 0,
            reduce_over_max_buckets: true,
        }
    }
}

/// check_histogram_limits applies the distributor's schema and bucket-limit
/// checks (`validateSampleHistogram`), reducing the resolution in place
/// when allowed. `series` gives the series as Mimir prints it in messages
/// (called only for an error). Ok(true) when the histogram was reduced.
pub fn check_histogram_limits(
    v: &mut HistogramValue,
    timestamp_ms: i64,
    series: impl Fn() -> String,
    limits: &HistogramLimits,
) -> Result<bool, HistogramError> {
    let schema = v.schema();
    if !(EXPONENTIAL_SCHEMA_MIN..=EXPONENTIAL_SCHEMA_MAX).contains(&schema)
        && schema != CUSTOM_BUCKETS_SCHEMA
    {
        return Err(invalid_schema(schema));
    }
    let limit = limits.max_buckets;
    if limit == 0 {
        return Ok(false);
    }
    let count = v.bucket_count();
    if count <= limit {
        return Ok(false);
    }
    if schema == CUSTOM_BUCKETS_SCHEMA {
        return Err(herr(
            histogram_reason::MAX_BUCKETS,
            "native-histogram-custom-buckets-not-reducible",
            format!("received a native histogram sample with more custom buckets than the limit, timestamp: {timestamp_ms} series: {}, buckets: {count}, limit: {limit}", series()),
        ));
    }
    if !limits.reduce_over_max_buckets {
        return Err(herr(
            histogram_reason::MAX_BUCKETS,
            "max-native-histogram-buckets",
            format!("received a native histogram sample with too many buckets, timestamp: {timestamp_ms} series: {}, buckets: {count}, limit: {limit}", series()),
        ));
    }
    loop {
        if v.schema() <= EXPONENTIAL_SCHEMA_MIN {
            return Err(herr(
                histogram_reason::MAX_BUCKETS,
                "not-reducible-native-histogram",
                format!("received a native histogram sample with too many buckets and cannot reduce, timestamp: {timestamp_ms} series: {}, buckets: {count}, limit: {limit}", series()),
            ));
        }
        reduce_resolution_by_one(v);
        if v.bucket_count() < limit {
            return Ok(true);
        }
    }
}

/// target_index maps a bucket index to the index at a lower schema
/// (Prometheus's `targetIdx`).
fn target_index(idx: i64, from: i32, to: i32) -> i64 {
    ((idx - 1) >> (from - to)) + 1
}

/// reduce_spans_and_buckets merges buckets into the next lower schema;
/// `counts` are absolute counts.
fn reduce_spans(spans: &[Span], counts: &[f64], from: i32, to: i32) -> (Vec<Span>, Vec<f64>) {
    let mut out_spans: Vec<Span> = Vec::new();
    let mut out: Vec<f64> = Vec::new();
    let mut last_target: Option<i64> = None;
    let mut i = 0usize;
    let mut idx: i64 = 0;
    for s in spans {
        idx += i64::from(s.offset);
        for _ in 0..s.length {
            let t = target_index(idx, from, to);
            let c = counts.get(i).copied().unwrap_or(0.0);
            match last_target {
                Some(lt) if lt == t => {
                    if let Some(x) = out.last_mut() {
                        *x += c;
                    }
                }
                Some(lt) if t == lt + 1 => {
                    if let Some(sp) = out_spans.last_mut() {
                        sp.length += 1;
                    }
                    out.push(c);
                }
                Some(lt) => {
                    out_spans.push(Span {
                        offset: (t - lt - 1) as i32,
                        length: 1,
                    });
                    out.push(c);
                }
                None => {
                    out_spans.push(Span {
                        offset: t as i32,
                        length: 1,
                    });
                    out.push(c);
                }
            }
            last_target = Some(t);
            idx += 1;
            i += 1;
        }
    }
    (out_spans, out)
}

fn absolute_from_deltas(d: &[i64]) -> Vec<f64> {
    let mut cur = 0i64;
    d.iter()
        .map(|x| {
            cur = cur.wrapping_add(*x);
            cur as f64
        })
        .collect()
}

fn deltas_from_absolute(a: &[f64]) -> Vec<i64> {
    let mut prev = 0i64;
    a.iter()
        .map(|&x| {
            let c = x as i64;
            let d = c - prev;
            prev = c;
            d
        })
        .collect()
}

/// reduce_resolution_by_one lowers the schema by one, merging buckets pairwise.
fn reduce_resolution_by_one(v: &mut HistogramValue) {
    match v {
        HistogramValue::Int(h) => {
            let to = h.schema - 1;
            let (ps, pc) = reduce_spans(
                &h.positive_spans,
                &absolute_from_deltas(&h.positive_buckets),
                h.schema,
                to,
            );
            let (ns, nc) = reduce_spans(
                &h.negative_spans,
                &absolute_from_deltas(&h.negative_buckets),
                h.schema,
                to,
            );
            h.positive_spans = ps;
            h.positive_buckets = deltas_from_absolute(&pc);
            h.negative_spans = ns;
            h.negative_buckets = deltas_from_absolute(&nc);
            h.schema = to;
        }
        HistogramValue::Float(h) => {
            let to = h.schema - 1;
            let (ps, pc) = reduce_spans(&h.positive_spans, &h.positive_buckets, h.schema, to);
            let (ns, nc) = reduce_spans(&h.negative_spans, &h.negative_buckets, h.schema, to);
            h.positive_spans = ps;
            h.positive_buckets = pc;
            h.negative_spans = ns;
            h.negative_buckets = nc;
            h.schema = to;
        }
    }
    debug_assert!(match v {
        HistogramValue::Int(h) => count_buckets(&h.positive_spans) == h.positive_buckets.len(),
        HistogramValue::Float(h) => count_buckets(&h.positive_spans) == h.positive_buckets.len(),
    });
}

/// histogram_error_message is the full text Mimir answers for a histogram
/// rejected by the ingester's validation (`nativeHistogramValidationError`):
/// `err: <text>. timestamp=<RFC 3339>, series=<labels> (err-mimir-<id>)`.
/// Distributor errors (schema, bucket limit) are `<text> (err-mimir-<id>)`.
pub fn histogram_error_message(e: &HistogramError, timestamp_ms: i64, series: &str) -> String {
    match e.reason {
        histogram_reason::INVALID_SCHEMA | histogram_reason::MAX_BUCKETS => {
            format!("{} (err-mimir-{})", e.text, e.id)
        }
        _ => format!(
            "err: {}. timestamp={}, series={} (err-mimir-{})",
            e.text,
            {
                let mut t = String::new();
                crate::head::format_rfc3339_nano(&mut t, timestamp_ms);
                t
            },
            series,
            e.id
        ),
    }
}

/// encode_histogram appends one `prompb.Histogram` message body (the
/// remote-read SAMPLES form of a stored histogram): an integer histogram
/// with `count_int`, `zero_count_int` and delta-encoded buckets, a float
/// one with `count_float`, `zero_count_float` and absolute counts; floats
/// are written by their bits (a staleness marker keeps its payload); the
/// reset hint only when not unknown; custom bounds when there are any.
pub fn encode_histogram(out: &mut Vec<u8>, timestamp_ms: i64, v: &HistogramValue) {
    fn key(out: &mut Vec<u8>, field: u32, wt: u8) {
        put_uvarint(out, u64::from(field << 3 | u32::from(wt)));
    }
    fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
        key(out, field, 0);
        put_uvarint(out, v);
    }
    fn double(out: &mut Vec<u8>, field: u32, v: f64) {
        key(out, field, 1);
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn spans(out: &mut Vec<u8>, field: u32, spans: &[Span]) {
        for s in spans {
            let mut m = Vec::with_capacity(8);
            uint(&mut m, 1, zigzag_encode(i64::from(s.offset)));
            uint(&mut m, 2, u64::from(s.length));
            key(out, field, 2);
            put_uvarint(out, m.len() as u64);
            out.extend_from_slice(&m);
        }
    }
    fn deltas(out: &mut Vec<u8>, field: u32, d: &[i64]) {
        if d.is_empty() {
            return;
        }
        let mut p = Vec::with_capacity(d.len() * 2);
        for x in d {
            put_uvarint(&mut p, zigzag_encode(*x));
        }
        key(out, field, 2);
        put_uvarint(out, p.len() as u64);
        out.extend_from_slice(&p);
    }
    fn doubles(out: &mut Vec<u8>, field: u32, c: &[f64]) {
        if c.is_empty() {
            return;
        }
        key(out, field, 2);
        put_uvarint(out, (c.len() * 8) as u64);
        for x in c {
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }
    fn tail(out: &mut Vec<u8>, hint: CounterResetHint, t: i64, custom: &[f64]) {
        if hint != CounterResetHint::Unknown {
            uint(out, 14, hint as u64);
        }
        uint(out, 15, t as u64);
        doubles(out, 16, custom);
    }
    match v {
        HistogramValue::Int(h) => {
            uint(out, 1, h.count);
            double(out, 3, h.sum);
            uint(out, 4, zigzag_encode(i64::from(h.schema)));
            double(out, 5, h.zero_threshold);
            uint(out, 6, h.zero_count);
            spans(out, 8, &h.negative_spans);
            deltas(out, 9, &h.negative_buckets);
            spans(out, 11, &h.positive_spans);
            deltas(out, 12, &h.positive_buckets);
            tail(out, h.counter_reset_hint, timestamp_ms, &h.custom_values);
        }
        HistogramValue::Float(h) => {
            double(out, 2, h.count);
            double(out, 3, h.sum);
            uint(out, 4, zigzag_encode(i64::from(h.schema)));
            double(out, 5, h.zero_threshold);
            double(out, 7, h.zero_count);
            spans(out, 8, &h.negative_spans);
            doubles(out, 10, &h.negative_buckets);
            spans(out, 11, &h.positive_spans);
            doubles(out, 13, &h.positive_buckets);
            tail(out, h.counter_reset_hint, timestamp_ms, &h.custom_values);
        }
    }
}

/// zigzag_encode is protobuf's `sint64` mapping.
fn zigzag_encode(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// put_uvarint appends a base-128 varint.
fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::decode_write_request;
    use crate::remote::test_encode::{
        put_bytes, put_double, put_key, put_labels, put_uint, put_varint,
    };

    fn zz(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    #[test]
    fn encode_histogram_round_trips() {
        let sp = |offset, length| Span { offset, length };
        let values = [
            HistogramValue::Int(Histogram {
                counter_reset_hint: CounterResetHint::NotCounterReset,
                schema: -2,
                zero_threshold: 1e-128,
                zero_count: 2,
                count: 9,
                sum: -3.25,
                positive_spans: vec![sp(-1, 2), sp(3, 1)],
                positive_buckets: vec![3, -2, 1],
                negative_spans: vec![sp(0, 1)],
                negative_buckets: vec![2],
                custom_values: vec![],
            }),
            HistogramValue::Int(Histogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: 3,
                sum: f64::from_bits(crate::model::histogram::STALE_NAN_BITS),
                positive_spans: vec![sp(0, 2)],
                positive_buckets: vec![2, -1],
                custom_values: vec![0.5, 1.0],
                ..Histogram::default()
            }),
            HistogramValue::Float(FloatHistogram {
                counter_reset_hint: CounterResetHint::Gauge,
                schema: 3,
                zero_threshold: 0.001,
                zero_count: 0.5,
                count: 3.5,
                sum: 1.0,
                positive_spans: vec![sp(1, 2)],
                positive_buckets: vec![1.25, 1.75],
                ..FloatHistogram::default()
            }),
        ];
        for (i, v) in values.iter().enumerate() {
            let mut b = Vec::new();
            encode_histogram(&mut b, -1_000 + i as i64, v);
            let back = decode_histogram(&b).unwrap();
            assert_eq!(back.timestamp_ms, -1_000 + i as i64);
            match (&back.value, v) {
                (HistogramValue::Int(a), HistogramValue::Int(b)) => {
                    assert_eq!(a.sum.to_bits(), b.sum.to_bits());
                    assert_eq!(
                        Histogram {
                            sum: 0.0,
                            ..a.clone()
                        },
                        Histogram {
                            sum: 0.0,
                            ..b.clone()
                        }
                    );
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }

    fn span(offset: i32, length: u32) -> Vec<u8> {
        let mut b = Vec::new();
        put_uint(&mut b, 1, zz(i64::from(offset)));
        put_uint(&mut b, 2, u64::from(length));
        b
    }

    /// int_histogram encodes an integer histogram, deltas packed.
    fn int_histogram(
        ts: i64,
        count: u64,
        sum: f64,
        schema: i32,
        spans: &[(i32, u32)],
        deltas: &[i64],
    ) -> Vec<u8> {
        let mut b = Vec::new();
        put_uint(&mut b, 1, count);
        put_double(&mut b, 3, sum);
        put_uint(&mut b, 4, zz(i64::from(schema)));
        put_double(&mut b, 5, 0.001);
        put_uint(&mut b, 6, 1);
        for &(o, l) in spans {
            put_bytes(&mut b, 11, &span(o, l));
        }
        let mut packed = Vec::new();
        for &d in deltas {
            put_varint(&mut packed, zz(d));
        }
        put_bytes(&mut b, 12, &packed);
        put_uint(&mut b, 14, 3);
        put_uint(&mut b, 15, ts as u64);
        b
    }

    #[test]
    fn decodes_int_and_float_histograms_in_write_requests() {
        let mut ts = Vec::new();
        put_labels(&mut ts, &[("__name__", "h")]);
        put_bytes(
            &mut ts,
            4,
            &int_histogram(1000, 6, 2.5, 1, &[(-1, 2), (3, 1)], &[2, -1, 1]),
        );
        let mut f = Vec::new();
        put_double(&mut f, 2, 3.5);
        put_uint(&mut f, 4, zz(-53));
        put_bytes(&mut f, 11, &span(0, 2));
        for c in [1.5, 2.0] {
            put_double(&mut f, 13, c); // unpacked doubles
        }
        put_double(&mut f, 16, 0.5);
        put_uint(&mut f, 15, 2000);
        put_bytes(&mut ts, 4, &f);
        let mut req = Vec::new();
        put_bytes(&mut req, 1, &ts);
        let r = decode_write_request(&req).unwrap();
        let s = r.series(0);
        assert_eq!(s.histograms, 2);
        assert_eq!(s.histogram_list.len(), 2);
        let HistogramValue::Int(h) = &s.histogram_list[0].value else {
            panic!("int expected")
        };
        assert_eq!(s.histogram_list[0].timestamp_ms, 1000);
        assert_eq!(
            (h.count, h.zero_count, h.sum, h.schema, h.zero_threshold),
            (6, 1, 2.5, 1, 0.001)
        );
        assert_eq!(
            h.positive_spans,
            vec![
                Span {
                    offset: -1,
                    length: 2
                },
                Span {
                    offset: 3,
                    length: 1
                }
            ]
        );
        assert_eq!(h.positive_buckets, vec![2, -1, 1]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert_eq!(validate_histogram(&s.histogram_list[0].value), Ok(()));
        let HistogramValue::Float(fh) = &s.histogram_list[1].value else {
            panic!("float expected")
        };
        assert_eq!(
            (fh.count, fh.schema, fh.custom_values.clone()),
            (3.5, -53, vec![0.5])
        );
        assert_eq!(fh.positive_buckets, vec![1.5, 2.0]);
        assert_eq!(validate_histogram(&s.histogram_list[1].value), Ok(()));
        // Bad wire type for a packed field names it as gogo does.
        let mut bad = Vec::new();
        put_key(&mut bad, 12, 1);
        bad.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode_histogram(&bad).unwrap_err().message(),
            "proto: wrong wireType = 1 for field PositiveDeltas"
        );
    }

    fn int(count: u64, zero: u64, spans: &[(i32, u32)], deltas: &[i64]) -> HistogramValue {
        HistogramValue::Int(Histogram {
            schema: 0,
            count,
            zero_count: zero,
            sum: 1.0,
            positive_spans: spans
                .iter()
                .map(|&(offset, length)| Span { offset, length })
                .collect(),
            positive_buckets: deltas.to_vec(),
            ..Default::default()
        })
    }

    #[test]
    fn validation_texts_are_prometheus_s() {
        let e = validate_histogram(&int(5, 0, &[(0, 2)], &[2])).unwrap_err();
        assert_eq!(e.reason, histogram_reason::SPANS_BUCKETS_MISMATCH);
        assert_eq!(e.text, "positive side: spans need 2 buckets, have 1 buckets: histogram spans specify different number of buckets than provided");
        let e = validate_histogram(&int(5, 0, &[(0, 2)], &[2, -3])).unwrap_err();
        assert_eq!(e.text, "positive side: bucket number 2 has observation count of -1: histogram has a bucket whose observation count is negative");
        let e = validate_histogram(&int(6, 1, &[(0, 2)], &[2, 0])).unwrap_err();
        assert_eq!(e.reason, histogram_reason::COUNT_MISMATCH);
        assert_eq!(e.text, "5 observations found in buckets, but the Count field is 6: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)");
        let e = validate_histogram(&int(5, 0, &[(0, 1), (-1, 1)], &[2, 1])).unwrap_err();
        assert_eq!(e.text, "positive side: span number 2 with offset -1: histogram has a span whose offset is negative");
        let mut bad = int(1, 0, &[], &[]);
        if let HistogramValue::Int(h) = &mut bad {
            h.schema = 9;
        }
        let e = validate_histogram(&bad).unwrap_err();
        assert_eq!(histogram_error_message(&e, 0, "x"), "received a native histogram sample with an invalid schema: 9 (err-mimir-invalid-native-histogram-schema)");
        let e = validate_histogram(&int(3, 0, &[(0, 1)], &[2])).unwrap_err();
        assert_eq!(
            histogram_error_message(&e, 1_700_000_000_123, "{__name__=\"h\"}"),
            "err: 2 observations found in buckets, but the Count field is 3: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN). timestamp=2023-11-14T22:13:20.123Z, series={__name__=\"h\"} (err-mimir-native-histogram-count-mismatch)"
        );
    }

    #[test]
    fn bucket_limit_reduces_resolution_or_rejects() {
        // Schema 2, buckets 0..8 (9 buckets) of 1 each.
        let mut v = HistogramValue::Int(Histogram {
            schema: 2,
            count: 9,
            sum: 3.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 9,
            }],
            positive_buckets: vec![1, 0, 0, 0, 0, 0, 0, 0, 0],
            ..Default::default()
        });
        let limits = HistogramLimits {
            max_buckets: 4,
            reduce_over_max_buckets: true,
        };
        assert_eq!(
            check_histogram_limits(&mut v, 5, || "h".into(), &limits),
            Ok(true)
        );
        let HistogramValue::Int(h) = &v else {
            unreachable!()
        };
        // Schema 2 -> 1: (0) (1,2) (3,4) (5,6) (7,8) = 5 buckets, still >= 4;
        // schema 0: (0) (1..4) (5..8) = 3 buckets.
        assert_eq!(h.schema, 0);
        assert_eq!(
            h.positive_spans,
            vec![Span {
                offset: 0,
                length: 3
            }]
        );
        assert_eq!(h.positive_buckets, vec![1, 3, 0]);
        assert_eq!(validate_histogram(&v), Ok(()));
        let mut v2 = int(3, 0, &[(0, 3)], &[1, 0, 0]);
        let strict = HistogramLimits {
            max_buckets: 2,
            reduce_over_max_buckets: false,
        };
        let e = check_histogram_limits(&mut v2, 7, || "h{a=\"b\"}".into(), &strict).unwrap_err();
        assert_eq!(
            histogram_error_message(&e, 7, ""),
            "received a native histogram sample with too many buckets, timestamp: 7 series: h{a=\"b\"}, buckets: 3, limit: 2 (err-mimir-max-native-histogram-buckets)"
        );
        let mut v3 = int(3, 0, &[(0, 3)], &[1, 0, 0]);
        if let HistogramValue::Int(h) = &mut v3 {
            h.schema = -4;
        }
        let e = check_histogram_limits(
            &mut v3,
            7,
            || "h".into(),
            &HistogramLimits {
                max_buckets: 2,
                reduce_over_max_buckets: true,
            },
        )
        .unwrap_err();
        assert_eq!(e.id, "not-reducible-native-histogram");
    }
}
