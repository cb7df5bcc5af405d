//! histogram_flat is the Rust side of the histogram hand-off format shared
//! with the PromQL engine (`src/promql/engine/histogram-flat.ts`): one
//! histogram is a run of f64
//! `[schema, zeroThreshold, zeroCount, count, sum, counterResetHint, isInt,
//! nPosSpans, nNegSpans, nPosBuckets, nNegBuckets, nCustomValues,
//! posSpans (offset, length)..., negSpans..., posBuckets (absolute)...,
//! negBuckets (absolute)..., customValues...]`.

use super::histogram::{CounterResetHint, FloatHistogram, Histogram, HistogramValue, Span};

/// HEADER_LEN is the number of fixed fields before the spans.
pub const HEADER_LEN: usize = 12;

/// push_float_flat appends a float histogram; `is_int` records that the
/// stored sample was an integer histogram.
pub fn push_float_flat(out: &mut Vec<f64>, h: &FloatHistogram, is_int: bool) {
    let header = FlatHeader {
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        hint: h.counter_reset_hint,
        is_int,
    };
    header.push(
        out,
        &h.positive_spans,
        &h.negative_spans,
        [
            h.positive_buckets.len(),
            h.negative_buckets.len(),
            h.custom_values.len(),
        ],
    );
    out.extend_from_slice(&h.positive_buckets);
    out.extend_from_slice(&h.negative_buckets);
    out.extend_from_slice(&h.custom_values);
}

/// FlatHeader is the fixed part of a flat histogram.
pub struct FlatHeader {
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub hint: CounterResetHint,
    pub is_int: bool,
}

impl FlatHeader {
    /// push appends the fixed fields and the spans, reserving room for the
    /// `[positive, negative, custom]` counts of values the caller appends
    /// next (positive buckets, negative buckets, custom values, absolute).
    pub fn push(&self, out: &mut Vec<f64>, pos: &[Span], neg: &[Span], counts: [usize; 3]) {
        let [n_pos, n_neg, n_custom] = counts;
        out.reserve(HEADER_LEN + 2 * (pos.len() + neg.len()) + n_pos + n_neg + n_custom);
        out.extend_from_slice(&[
            f64::from(self.schema),
            self.zero_threshold,
            self.zero_count,
            self.count,
            self.sum,
            f64::from(self.hint as u8),
            if self.is_int { 1.0 } else { 0.0 },
            pos.len() as f64,
            neg.len() as f64,
            n_pos as f64,
            n_neg as f64,
            n_custom as f64,
        ]);
        for s in pos.iter().chain(neg) {
            out.push(f64::from(s.offset));
            out.push(f64::from(s.length));
        }
    }
}

/// push_int_flat appends an integer histogram given by its parts: bucket
/// deltas (first count, then differences) become absolute counts, as
/// `Histogram::to_float` makes them.
pub fn push_int_flat(
    out: &mut Vec<f64>,
    header: &FlatHeader,
    spans: [&[Span]; 2],
    deltas: [&[i64]; 2],
    custom_values: &[f64],
) {
    header.push(
        out,
        spans[0],
        spans[1],
        [deltas[0].len(), deltas[1].len(), custom_values.len()],
    );
    for d in deltas {
        let mut cur = 0i64;
        out.extend(d.iter().map(|x| {
            cur = cur.wrapping_add(*x);
            cur as f64
        }));
    }
    out.extend_from_slice(custom_values);
}

/// push_flat appends a histogram of either kind.
pub fn push_flat(out: &mut Vec<f64>, v: &HistogramValue) {
    match v {
        HistogramValue::Int(h) => push_int_flat(
            out,
            &FlatHeader {
                schema: h.schema,
                zero_threshold: h.zero_threshold,
                zero_count: h.zero_count as f64,
                count: h.count as f64,
                sum: h.sum,
                hint: h.counter_reset_hint,
                is_int: true,
            },
            [&h.positive_spans, &h.negative_spans],
            [&h.positive_buckets, &h.negative_buckets],
            &h.custom_values,
        ),
        HistogramValue::Float(h) => push_float_flat(out, h, false),
    }
}

/// FlatError is why a flat run is not a histogram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatError(pub String);

impl std::fmt::Display for FlatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn count_field(v: f64, what: &str) -> Result<usize, FlatError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
        Ok(v as usize)
    } else {
        Err(FlatError(format!("histogram {what} {v} is not a count")))
    }
}

fn int_field(v: f64, what: &str) -> Result<i64, FlatError> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        Ok(v as i64)
    } else {
        Err(FlatError(format!("histogram {what} {v} is not an integer")))
    }
}

/// decode_flat reads one histogram from exactly `data` (a run as written
/// by `push_flat` or the TS encoder). With isInt set, counts must be
/// non-negative integers and the buckets become delta-encoded.
pub fn decode_flat(data: &[f64]) -> Result<HistogramValue, FlatError> {
    if data.len() < HEADER_LEN {
        return Err(FlatError(format!(
            "histogram run of {} values is shorter than its {HEADER_LEN} header fields",
            data.len()
        )));
    }
    let schema = int_field(data[0], "schema")?;
    let schema = i32::try_from(schema)
        .map_err(|_| FlatError(format!("histogram schema {schema} is out of range")))?;
    let hint = match int_field(data[5], "counter reset hint")? {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        x => {
            return Err(FlatError(format!(
                "histogram counter reset hint {x} is not 0..3"
            )))
        }
    };
    let is_int = data[6] == 1.0;
    let n_pos_spans = count_field(data[7], "positive span count")?;
    let n_neg_spans = count_field(data[8], "negative span count")?;
    let n_pos = count_field(data[9], "positive bucket count")?;
    let n_neg = count_field(data[10], "negative bucket count")?;
    let n_custom = count_field(data[11], "custom value count")?;
    let want = HEADER_LEN + 2 * (n_pos_spans + n_neg_spans) + n_pos + n_neg + n_custom;
    if data.len() != want {
        return Err(FlatError(format!(
            "histogram run has {} values, its header says {want}",
            data.len()
        )));
    }
    let mut at = HEADER_LEN;
    let mut spans = |n: usize| -> Result<Vec<Span>, FlatError> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let offset = int_field(data[at], "span offset")?;
            let offset = i32::try_from(offset).map_err(|_| {
                FlatError(format!("histogram span offset {offset} is out of range"))
            })?;
            let length = count_field(data[at + 1], "span length")? as u32;
            out.push(Span { offset, length });
            at += 2;
        }
        Ok(out)
    };
    let positive_spans = spans(n_pos_spans)?;
    let negative_spans = spans(n_neg_spans)?;
    let pos = &data[at..at + n_pos];
    let neg = &data[at + n_pos..at + n_pos + n_neg];
    let custom_values = data[at + n_pos + n_neg..].to_vec();
    if !is_int {
        return Ok(HistogramValue::Float(FloatHistogram {
            counter_reset_hint: hint,
            schema,
            zero_threshold: data[1],
            zero_count: data[2],
            count: data[3],
            sum: data[4],
            positive_spans,
            negative_spans,
            positive_buckets: pos.to_vec(),
            negative_buckets: neg.to_vec(),
            custom_values,
        }));
    }
    let deltas = |abs: &[f64], what: &str| -> Result<Vec<i64>, FlatError> {
        let mut prev = 0i64;
        abs.iter()
            .map(|&v| {
                let c = count_field(v, what)? as i64;
                let d = c - prev;
                prev = c;
                Ok(d)
            })
            .collect()
    };
    Ok(HistogramValue::Int(Histogram {
        counter_reset_hint: hint,
        schema,
        zero_threshold: data[1],
        zero_count: count_field(data[2], "zero count")? as u64,
        count: count_field(data[3], "count")? as u64,
        sum: data[4],
        positive_spans,
        negative_spans,
        positive_buckets: deltas(pos, "bucket count")?,
        negative_buckets: deltas(neg, "bucket count")?,
        custom_values,
    }))
}

/// decode_flat_all splits `data` by `offsets` (one more than histograms,
/// ascending, ending at `data.len()`) and decodes each run.
pub fn decode_flat_all(data: &[f64], offsets: &[u32]) -> Result<Vec<HistogramValue>, FlatError> {
    if offsets.first().is_some_and(|o| *o != 0)
        || offsets
            .last()
            .map_or(!data.is_empty(), |o| *o as usize != data.len())
    {
        return Err(FlatError(format!(
            "histogram data offsets must start at 0 and end at {}",
            data.len()
        )));
    }
    offsets
        .windows(2)
        .map(|w| {
            if w[1] < w[0] {
                return Err(FlatError("histogram data offsets must not decrease".into()));
            }
            decode_flat(&data[w[0] as usize..w[1] as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_hist() -> Histogram {
        Histogram {
            counter_reset_hint: CounterResetHint::NotCounterReset,
            schema: 1,
            zero_threshold: 0.001,
            zero_count: 2,
            count: 12,
            sum: 18.4,
            positive_spans: vec![
                Span {
                    offset: -1,
                    length: 2,
                },
                Span {
                    offset: 1,
                    length: 1,
                },
            ],
            negative_spans: vec![Span {
                offset: 0,
                length: 1,
            }],
            positive_buckets: vec![1, 2, -1],
            negative_buckets: vec![5],
            custom_values: vec![],
        }
    }

    #[test]
    fn round_trips_int_float_and_custom() {
        let ih = int_hist();
        let mut out = Vec::new();
        push_flat(&mut out, &HistogramValue::Int(ih.clone()));
        assert_eq!(
            &out[..HEADER_LEN],
            &[1.0, 0.001, 2.0, 12.0, 18.4, 2.0, 1.0, 2.0, 1.0, 3.0, 1.0, 0.0]
        );
        // Spans, then absolute bucket counts.
        assert_eq!(
            &out[HEADER_LEN..],
            &[-1.0, 2.0, 1.0, 1.0, 0.0, 1.0, 1.0, 3.0, 2.0, 5.0]
        );
        assert_eq!(decode_flat(&out).unwrap(), HistogramValue::Int(ih.clone()));

        let mut fh = ih.to_float();
        fh.schema = -53;
        fh.negative_spans.clear();
        fh.negative_buckets.clear();
        fh.custom_values = vec![0.5, 1.0, 2.5];
        fh.positive_buckets[0] = 0.25;
        let start = out.len();
        push_flat(&mut out, &HistogramValue::Float(fh.clone()));
        let offsets = [0, start as u32, out.len() as u32];
        let all = decode_flat_all(&out, &offsets).unwrap();
        assert_eq!(
            all,
            vec![HistogramValue::Int(ih), HistogramValue::Float(fh)]
        );
    }

    #[test]
    fn stale_marker_keeps_its_bits() {
        let mut out = Vec::new();
        push_flat(&mut out, &HistogramValue::Float(FloatHistogram::stale()));
        let HistogramValue::Float(back) = decode_flat(&out).unwrap() else {
            panic!("float expected")
        };
        assert!(crate::model::histogram::is_stale_nan(back.sum));
    }

    #[test]
    fn bad_runs_are_refused() {
        assert!(decode_flat(&[0.0; 3]).is_err());
        let mut out = Vec::new();
        push_flat(&mut out, &HistogramValue::Int(int_hist()));
        assert!(decode_flat(&out[..out.len() - 1]).is_err());
        let mut neg = out.clone();
        neg[2] = -1.0;
        assert!(decode_flat(&neg).is_err());
        let mut hint = out.clone();
        hint[5] = 7.0;
        assert!(decode_flat(&hint).is_err());
        assert!(decode_flat_all(&out, &[0, 3]).is_err());
    }
}
