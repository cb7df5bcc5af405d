//! Protobuf decoder for `ExportMetricsServiceRequest` (opentelemetry-proto
//! v1, `collector/metrics/v1` + `metrics/v1` + `common/v1` +
//! `resource/v1`). Strings borrow from the body. Unknown fields are
//! skipped; exemplars, min/max and the zero threshold are skipped without
//! being kept (the translator uses a fixed zero threshold). Error texts follow the gogo-style messages the
//! remote-write decoder uses (`unexpected EOF`, `proto: wrong wireType = 2
//! for field TimeUnixNano`, ...).
//!
//! ```text
//! ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1 }
//! ResourceMetrics  { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3 }
//! Resource         { repeated KeyValue attributes = 1 }
//! ScopeMetrics     { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3 }
//! InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3 }
//! Metric           { string name = 1; string description = 2; string unit = 3; oneof data {
//!                    Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9;
//!                    ExponentialHistogram exponential_histogram = 10; Summary summary = 11 } }
//! Gauge            { repeated NumberDataPoint data_points = 1 }
//! Sum              { repeated NumberDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; bool is_monotonic = 3 }
//! Histogram        { repeated HistogramDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2 }
//! ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2 }
//! Summary          { repeated SummaryDataPoint data_points = 1 }
//! NumberDataPoint  { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
//!                    oneof value { double as_double = 4; sfixed64 as_int = 6 }; uint32 flags = 8 }
//! HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
//!                    optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; uint32 flags = 10 }
//! ExponentialHistogramDataPoint { repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
//!                    optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8;
//!                    Buckets negative = 9; uint32 flags = 10 }
//! Buckets          { sint32 offset = 1; repeated uint64 bucket_counts = 2 }
//! SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
//!                    double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8 }
//! ValueAtQuantile  { double quantile = 1; double value = 2 }
//! KeyValue         { string key = 1; AnyValue value = 2 }
//! AnyValue         { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
//!                    double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7 } }
//! ArrayValue / KeyValueList { repeated AnyValue|KeyValue values = 1 }
//! ```

use std::borrow::Cow;

use super::model::*;

use crate::remote::wire::{self, repeated_messages, Reader};

/// MAX_DEPTH bounds the nesting of attribute values (arrays and maps).
const MAX_DEPTH: usize = 64;

/// DecodeError is a malformed request body (answered with HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<wire::DecodeError> for DecodeError {
    fn from(e: wire::DecodeError) -> Self {
        DecodeError(e.into_message())
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

/// decode_export_request decodes a protobuf `ExportMetricsServiceRequest`.
pub fn decode_export_request(buf: &[u8]) -> Result<ExportRequest<'_>> {
    let resource_metrics = repeated_messages(
        buf,
        "ExportMetricsServiceRequest",
        1,
        "ResourceMetrics",
        resource_metrics,
    )?;
    Ok(ExportRequest { resource_metrics })
}

fn resource_metrics(buf: &[u8]) -> Result<ResourceMetrics<'_>> {
    let mut r = Reader::new(buf, "ResourceMetrics");
    let mut out = ResourceMetrics::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => out.resource.extend(repeated_messages(
                r.bytes_field(wt, "Resource")?,
                "Resource",
                1,
                "Attributes",
                |b| key_value(b, 0),
            )?),
            2 => out
                .scope_metrics
                .push(scope_metrics(r.bytes_field(wt, "ScopeMetrics")?)?),
            _ => r.skip(wt)?,
        }
    }
    Ok(out)
}

fn scope_metrics(buf: &[u8]) -> Result<ScopeMetrics<'_>> {
    let mut r = Reader::new(buf, "ScopeMetrics");
    let mut out = ScopeMetrics::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                let mut s = Reader::new(r.bytes_field(wt, "Scope")?, "InstrumentationScope");
                while s.more() {
                    let (f, w) = s.tag()?;
                    match f {
                        1 => out.scope_name = s.str_field(w, "Name")?.into(),
                        2 => out.scope_version = s.str_field(w, "Version")?.into(),
                        3 => out
                            .scope_attributes
                            .push(key_value(s.bytes_field(w, "Attributes")?, 0)?),
                        _ => s.skip(w)?,
                    }
                }
            }
            2 => out.metrics.push(metric(r.bytes_field(wt, "Metrics")?)?),
            3 => out.schema_url = r.str_field(wt, "SchemaUrl")?.into(),
            _ => r.skip(wt)?,
        }
    }
    Ok(out)
}

fn metric(buf: &[u8]) -> Result<Metric<'_>> {
    let mut r = Reader::new(buf, "Metric");
    let mut out = Metric::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => out.name = r.str_field(wt, "Name")?.into(),
            2 => out.description = r.str_field(wt, "Description")?.into(),
            3 => out.unit = r.str_field(wt, "Unit")?.into(),
            5 => {
                let (points, _, _) = number_points(r.bytes_field(wt, "Gauge")?, "Gauge")?;
                out.data = MetricData::Gauge(points);
            }
            7 => {
                let (points, temporality, monotonic) =
                    number_points(r.bytes_field(wt, "Sum")?, "Sum")?;
                out.data = MetricData::Sum {
                    points,
                    temporality,
                    monotonic,
                };
            }
            9 => out.data = histogram(r.bytes_field(wt, "Histogram")?)?,
            10 => out.data = exponential_histogram(r.bytes_field(wt, "ExponentialHistogram")?)?,
            11 => out.data = summary(r.bytes_field(wt, "Summary")?)?,
            _ => r.skip(wt)?,
        }
    }
    Ok(out)
}

/// number_points decodes a Gauge or Sum body: (points, temporality, is_monotonic).
fn number_points<'a>(
    buf: &'a [u8],
    message: &'static str,
) -> Result<(Vec<NumberPoint<'a>>, i32, bool)> {
    let mut r = Reader::new(buf, message);
    let (mut points, mut temporality, mut monotonic) = (Vec::new(), 0i32, false);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => points.push(number_point(r.bytes_field(wt, "DataPoints")?)?),
            2 if message == "Sum" => {
                temporality = r.varint_field(wt, "AggregationTemporality")? as i32
            }
            3 if message == "Sum" => monotonic = r.varint_field(wt, "IsMonotonic")? != 0,
            _ => r.skip(wt)?,
        }
    }
    Ok((points, temporality, monotonic))
}

fn number_point(buf: &[u8]) -> Result<NumberPoint<'_>> {
    let mut r = Reader::new(buf, "NumberDataPoint");
    let mut p = NumberPoint::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            7 => p
                .attributes
                .push(key_value(r.bytes_field(wt, "Attributes")?, 0)?),
            2 => p.start_time_unix_nano = r.fixed64_field(wt, "StartTimeUnixNano")?,
            3 => p.time_unix_nano = r.fixed64_field(wt, "TimeUnixNano")?,
            4 => p.value = r.f64_field(wt, "AsDouble")?,
            6 => p.value = r.fixed64_field(wt, "AsInt")? as i64 as f64,
            8 => p.flags = r.varint_field(wt, "Flags")? as u32,
            5 => p.exemplars.push(exemplar(r.bytes_field(wt, "Exemplars")?)?),
            _ => r.skip(wt)?,
        }
    }
    Ok(p)
}

/// exemplar decodes `Exemplar { repeated KeyValue filtered_attributes = 7;
/// fixed64 time_unix_nano = 2; oneof value { double as_double = 3;
/// sfixed64 as_int = 6 }; bytes span_id = 4; bytes trace_id = 5 }`.
fn exemplar(buf: &[u8]) -> Result<Exemplar<'_>> {
    let mut r = Reader::new(buf, "Exemplar");
    let mut e = Exemplar::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            7 => e
                .filtered_attributes
                .push(key_value(r.bytes_field(wt, "FilteredAttributes")?, 0)?),
            2 => e.time_unix_nano = r.fixed64_field(wt, "TimeUnixNano")?,
            3 => e.value = r.f64_field(wt, "AsDouble")?,
            6 => e.value = r.fixed64_field(wt, "AsInt")? as i64 as f64,
            4 => e.span_id = r.bytes_field(wt, "SpanId")?.into(),
            5 => e.trace_id = r.bytes_field(wt, "TraceId")?.into(),
            _ => r.skip(wt)?,
        }
    }
    Ok(e)
}

fn histogram(buf: &[u8]) -> Result<MetricData<'_>> {
    let mut r = Reader::new(buf, "Histogram");
    let (mut points, mut temporality) = (Vec::new(), 0i32);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => points.push(histogram_point(r.bytes_field(wt, "DataPoints")?)?),
            2 => temporality = r.varint_field(wt, "AggregationTemporality")? as i32,
            _ => r.skip(wt)?,
        }
    }
    Ok(MetricData::Histogram {
        points,
        temporality,
    })
}

fn histogram_point(buf: &[u8]) -> Result<HistogramPoint<'_>> {
    let mut r = Reader::new(buf, "HistogramDataPoint");
    let mut p = HistogramPoint::default();
    let mut bounds = Vec::new();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            9 => p
                .attributes
                .push(key_value(r.bytes_field(wt, "Attributes")?, 0)?),
            2 => p.start_time_unix_nano = r.fixed64_field(wt, "StartTimeUnixNano")?,
            3 => p.time_unix_nano = r.fixed64_field(wt, "TimeUnixNano")?,
            4 => p.count = r.fixed64_field(wt, "Count")?,
            5 => p.sum = Some(r.f64_field(wt, "Sum")?),
            6 => r.repeated_fixed64(wt, "BucketCounts", &mut p.bucket_counts)?,
            7 => r.repeated_fixed64(wt, "ExplicitBounds", &mut bounds)?,
            8 => p.exemplars.push(exemplar(r.bytes_field(wt, "Exemplars")?)?),
            10 => p.flags = r.varint_field(wt, "Flags")? as u32,
            _ => r.skip(wt)?,
        }
    }
    p.explicit_bounds = bounds.into_iter().map(f64::from_bits).collect();
    Ok(p)
}

fn exponential_histogram(buf: &[u8]) -> Result<MetricData<'_>> {
    let mut r = Reader::new(buf, "ExponentialHistogram");
    let (mut points, mut temporality) = (Vec::new(), 0i32);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => points.push(exponential_point(r.bytes_field(wt, "DataPoints")?)?),
            2 => temporality = r.varint_field(wt, "AggregationTemporality")? as i32,
            _ => r.skip(wt)?,
        }
    }
    Ok(MetricData::ExponentialHistogram {
        points,
        temporality,
    })
}

fn exponential_point(buf: &[u8]) -> Result<ExponentialHistogramPoint<'_>> {
    let mut r = Reader::new(buf, "ExponentialHistogramDataPoint");
    let mut p = ExponentialHistogramPoint::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => p
                .attributes
                .push(key_value(r.bytes_field(wt, "Attributes")?, 0)?),
            2 => p.start_time_unix_nano = r.fixed64_field(wt, "StartTimeUnixNano")?,
            3 => p.time_unix_nano = r.fixed64_field(wt, "TimeUnixNano")?,
            4 => p.count = r.fixed64_field(wt, "Count")?,
            5 => p.sum = Some(r.f64_field(wt, "Sum")?),
            6 => p.scale = zigzag32(r.varint_field(wt, "Scale")?),
            7 => p.zero_count = r.fixed64_field(wt, "ZeroCount")?,
            8 => p.positive = exponential_buckets(r.bytes_field(wt, "Positive")?)?,
            9 => p.negative = exponential_buckets(r.bytes_field(wt, "Negative")?)?,
            10 => p.flags = r.varint_field(wt, "Flags")? as u32,
            11 => p.exemplars.push(exemplar(r.bytes_field(wt, "Exemplars")?)?),
            _ => r.skip(wt)?,
        }
    }
    Ok(p)
}

fn exponential_buckets(buf: &[u8]) -> Result<ExponentialBuckets> {
    let mut r = Reader::new(buf, "ExponentialHistogramDataPoint_Buckets");
    let mut b = ExponentialBuckets::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => b.offset = zigzag32(r.varint_field(wt, "Offset")?),
            2 => r.repeated_varint(wt, "BucketCounts", &mut b.bucket_counts)?,
            _ => r.skip(wt)?,
        }
    }
    Ok(b)
}

/// zigzag32 decodes a `sint32`.
fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn summary(buf: &[u8]) -> Result<MetricData<'_>> {
    let points = repeated_messages(buf, "Summary", 1, "DataPoints", summary_point)?;
    Ok(MetricData::Summary(points))
}

fn summary_point(buf: &[u8]) -> Result<SummaryPoint<'_>> {
    let mut r = Reader::new(buf, "SummaryDataPoint");
    let mut p = SummaryPoint::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            7 => p
                .attributes
                .push(key_value(r.bytes_field(wt, "Attributes")?, 0)?),
            2 => p.start_time_unix_nano = r.fixed64_field(wt, "StartTimeUnixNano")?,
            3 => p.time_unix_nano = r.fixed64_field(wt, "TimeUnixNano")?,
            4 => p.count = r.fixed64_field(wt, "Count")?,
            5 => p.sum = r.f64_field(wt, "Sum")?,
            6 => {
                let mut q = Reader::new(
                    r.bytes_field(wt, "QuantileValues")?,
                    "SummaryDataPoint_ValueAtQuantile",
                );
                let (mut quantile, mut value) = (0.0, 0.0);
                while q.more() {
                    let (f, w) = q.tag()?;
                    match f {
                        1 => quantile = q.f64_field(w, "Quantile")?,
                        2 => value = q.f64_field(w, "Value")?,
                        _ => q.skip(w)?,
                    }
                }
                p.quantiles.push((quantile, value));
            }
            8 => p.flags = r.varint_field(wt, "Flags")? as u32,
            _ => r.skip(wt)?,
        }
    }
    Ok(p)
}

fn key_value(buf: &[u8], depth: usize) -> Result<KeyValue<'_>> {
    let mut r = Reader::new(buf, "KeyValue");
    let mut kv = KeyValue {
        key: Cow::Borrowed(""),
        value: AnyValue::Empty,
    };
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => kv.key = r.str_field(wt, "Key")?.into(),
            2 => kv.value = any_value(r.bytes_field(wt, "Value")?, depth)?,
            _ => r.skip(wt)?,
        }
    }
    Ok(kv)
}

fn any_value(buf: &[u8], depth: usize) -> Result<AnyValue<'_>> {
    if depth > MAX_DEPTH {
        return Err(DecodeError(
            "proto: AnyValue: nested too deeply".to_string(),
        ));
    }
    let mut r = Reader::new(buf, "AnyValue");
    let mut v = AnyValue::Empty;
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => v = AnyValue::String(r.str_field(wt, "StringValue")?.into()),
            2 => v = AnyValue::Bool(r.varint_field(wt, "BoolValue")? != 0),
            3 => v = AnyValue::Int(r.varint_field(wt, "IntValue")? as i64),
            4 => v = AnyValue::Double(r.f64_field(wt, "DoubleValue")?),
            5 => {
                let b = r.bytes_field(wt, "ArrayValue")?;
                let values =
                    repeated_messages(b, "ArrayValue", 1, "Values", |b| any_value(b, depth + 1))?;
                v = AnyValue::Array(values);
            }
            6 => {
                let b = r.bytes_field(wt, "KvlistValue")?;
                let values =
                    repeated_messages(b, "KeyValueList", 1, "Values", |b| key_value(b, depth + 1))?;
                v = AnyValue::KvList(values);
            }
            7 => v = AnyValue::Bytes(Cow::Borrowed(r.bytes_field(wt, "BytesValue")?)),
            _ => r.skip(wt)?,
        }
    }
    Ok(v)
}
