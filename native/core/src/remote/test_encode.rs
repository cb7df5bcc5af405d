//! Test-only protobuf encoding: field writers, and builders of remote
//! write 1.0 `WriteRequest` bodies on top of them (shared by the decoder,
//! ingest, WAL and OTLP tests).

/// put_varint appends a base-128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// put_key appends a field key.
pub(crate) fn put_key(out: &mut Vec<u8>, field: u64, wt: u64) {
    put_varint(out, (field << 3) | wt);
}

/// put_bytes appends a length-delimited field.
pub(crate) fn put_bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    put_key(out, field, 2);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// put_fixed64 appends a fixed64 field.
pub(crate) fn put_fixed64(out: &mut Vec<u8>, field: u64, x: u64) {
    put_key(out, field, 1);
    out.extend_from_slice(&x.to_le_bytes());
}

/// put_double appends a `double` field.
pub(crate) fn put_double(out: &mut Vec<u8>, field: u64, v: f64) {
    put_fixed64(out, field, v.to_bits());
}

/// put_uint appends a varint field.
pub(crate) fn put_uint(out: &mut Vec<u8>, field: u64, x: u64) {
    put_key(out, field, 0);
    put_varint(out, x);
}

/// put_int appends an `int64` field (negative values as ten bytes, like Go).
pub(crate) fn put_int(out: &mut Vec<u8>, field: u64, v: i64) {
    put_uint(out, field, v as u64);
}

/// label encodes a `LabelPair`.
pub(crate) fn label(name: &str, value: &str) -> Vec<u8> {
    let mut b = Vec::new();
    put_bytes(&mut b, 1, name.as_bytes());
    put_bytes(&mut b, 2, value.as_bytes());
    b
}

/// put_labels appends each label as a `LabelPair` in field 1 (the labels
/// of a `TimeSeries` and of an `Exemplar`).
pub(crate) fn put_labels<N: AsRef<str>, V: AsRef<str>>(out: &mut Vec<u8>, labels: &[(N, V)]) {
    for (n, v) in labels {
        put_bytes(out, 1, &label(n.as_ref(), v.as_ref()));
    }
}

/// sample encodes a `Sample`.
pub(crate) fn sample(value: f64, ts: i64) -> Vec<u8> {
    let mut b = Vec::new();
    put_double(&mut b, 1, value);
    put_int(&mut b, 2, ts);
    b
}

/// exemplar encodes an `Exemplar`; a zero timestamp is left out.
pub(crate) fn exemplar(labels: &[(&str, &str)], value: f64, ts: i64) -> Vec<u8> {
    let mut b = Vec::new();
    put_labels(&mut b, labels);
    put_double(&mut b, 2, value);
    if ts != 0 {
        put_int(&mut b, 3, ts);
    }
    b
}

/// metadata encodes a `MetricMetadata`.
pub(crate) fn metadata(metric_type: i32, name: &str, help: &str, unit: &str) -> Vec<u8> {
    let mut b = Vec::new();
    put_int(&mut b, 1, i64::from(metric_type));
    put_bytes(&mut b, 2, name.as_bytes());
    put_bytes(&mut b, 4, help.as_bytes());
    put_bytes(&mut b, 5, unit.as_bytes());
    b
}

/// timeseries encodes a `TimeSeries` with labels and `(t, v)` samples.
pub(crate) fn timeseries<N: AsRef<str>, V: AsRef<str>>(
    labels: &[(N, V)],
    samples: &[(i64, f64)],
) -> Vec<u8> {
    let mut b = Vec::new();
    put_labels(&mut b, labels);
    for (t, v) in samples {
        put_bytes(&mut b, 2, &sample(*v, *t));
    }
    b
}

/// write_request encodes a `WriteRequest` of `(labels, samples)` series.
pub(crate) fn write_request<L, S, N, V>(series: &[(L, S)]) -> Vec<u8>
where
    L: AsRef<[(N, V)]>,
    S: AsRef<[(i64, f64)]>,
    N: AsRef<str>,
    V: AsRef<str>,
{
    let mut b = Vec::new();
    for (labels, samples) in series {
        put_bytes(&mut b, 1, &timeseries(labels.as_ref(), samples.as_ref()));
    }
    b
}

/// histogram encodes a `prompb.Histogram` (integer or float counts) at `ts`.
pub(crate) fn histogram(v: &crate::model::histogram::HistogramValue, ts: i64) -> Vec<u8> {
    use crate::model::histogram::{HistogramValue, Span};
    fn zz(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }
    fn spans(b: &mut Vec<u8>, field: u64, spans: &[Span]) {
        for s in spans {
            let mut m = Vec::new();
            put_key(&mut m, 1, 0);
            put_varint(&mut m, zz(i64::from(s.offset)));
            put_uint(&mut m, 2, u64::from(s.length));
            put_bytes(b, field, &m);
        }
    }
    fn deltas(b: &mut Vec<u8>, field: u64, d: &[i64]) {
        if d.is_empty() {
            return;
        }
        let mut p = Vec::new();
        for x in d {
            put_varint(&mut p, zz(*x));
        }
        put_bytes(b, field, &p);
    }
    fn counts(b: &mut Vec<u8>, field: u64, c: &[f64]) {
        if c.is_empty() {
            return;
        }
        let mut p = Vec::new();
        for x in c {
            p.extend_from_slice(&x.to_le_bytes());
        }
        put_bytes(b, field, &p);
    }
    let mut b = Vec::new();
    let (schema, sum, thr, hint, custom) = match v {
        HistogramValue::Int(h) => (
            h.schema,
            h.sum,
            h.zero_threshold,
            h.counter_reset_hint,
            &h.custom_values,
        ),
        HistogramValue::Float(h) => (
            h.schema,
            h.sum,
            h.zero_threshold,
            h.counter_reset_hint,
            &h.custom_values,
        ),
    };
    match v {
        HistogramValue::Int(h) => {
            put_key(&mut b, 1, 0);
            put_varint(&mut b, h.count);
        }
        HistogramValue::Float(h) => put_double(&mut b, 2, h.count),
    }
    put_double(&mut b, 3, sum);
    put_key(&mut b, 4, 0);
    put_varint(&mut b, zz(i64::from(schema)));
    put_double(&mut b, 5, thr);
    match v {
        HistogramValue::Int(h) => {
            put_key(&mut b, 6, 0);
            put_varint(&mut b, h.zero_count);
            spans(&mut b, 8, &h.negative_spans);
            deltas(&mut b, 9, &h.negative_buckets);
            spans(&mut b, 11, &h.positive_spans);
            deltas(&mut b, 12, &h.positive_buckets);
        }
        HistogramValue::Float(h) => {
            put_double(&mut b, 7, h.zero_count);
            spans(&mut b, 8, &h.negative_spans);
            counts(&mut b, 10, &h.negative_buckets);
            spans(&mut b, 11, &h.positive_spans);
            counts(&mut b, 13, &h.positive_buckets);
        }
    }
    put_uint(&mut b, 14, hint as u64);
    put_int(&mut b, 15, ts);
    counts(&mut b, 16, custom);
    b
}

/// HistogramSeries is a test series: labels and `(t, histogram)` samples.
pub(crate) type HistogramSeries<'a> = (
    Vec<(&'a str, &'a str)>,
    Vec<(i64, crate::model::histogram::HistogramValue)>,
);

/// write_request_histograms encodes a `WriteRequest` of series with native
/// histograms `(labels, [(t, histogram)])`.
pub(crate) fn write_request_histograms(series: &[HistogramSeries<'_>]) -> Vec<u8> {
    let mut b = Vec::new();
    for (labels, hists) in series {
        let mut ts = Vec::new();
        put_labels(&mut ts, labels);
        for (t, h) in hists {
            put_bytes(&mut ts, 4, &histogram(h, *t));
        }
        put_bytes(&mut b, 1, &ts);
    }
    b
}
