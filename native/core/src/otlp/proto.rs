//! Protobuf decoder for `ExportMetricsServiceRequest` (opentelemetry-proto
//! v1, `collector/metrics/v1` + `metrics/v1` + `common/v1` +
//! `resource/v1`). Strings borrow from the body. Unknown fields are
//! skipped; exemplars, min/max and exponential bucket layouts are skipped
//! without being kept. Error texts follow the gogo-style messages the
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
//! NumberDataPoint  { repeated KeyValue attributes = 7; fixed64 time_unix_nano = 3;
//!                    oneof value { double as_double = 4; sfixed64 as_int = 6 }; uint32 flags = 8 }
//! HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 time_unix_nano = 3; fixed64 count = 4;
//!                    optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; uint32 flags = 10 }
//! ExponentialHistogramDataPoint { fixed64 time_unix_nano = 3; ... }
//! SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 time_unix_nano = 3; fixed64 count = 4;
//!                    double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8 }
//! ValueAtQuantile  { double quantile = 1; double value = 2 }
//! KeyValue         { string key = 1; AnyValue value = 2 }
//! AnyValue         { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
//!                    double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7 } }
//! ArrayValue / KeyValueList { repeated AnyValue|KeyValue values = 1 }
//! ```

use std::borrow::Cow;

use super::model::*;

const WT_VARINT: u8 = 0;
const WT_FIXED64: u8 = 1;
const WT_LEN: u8 = 2;
const WT_START_GROUP: u8 = 3;
const WT_END_GROUP: u8 = 4;
const WT_FIXED32: u8 = 5;

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

fn eof() -> DecodeError {
    DecodeError("unexpected EOF".to_string())
}

type Result<T> = std::result::Result<T, DecodeError>;

/// Reader walks the fields of one message.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], message: &'static str) -> Self {
        Reader {
            buf,
            pos: 0,
            message,
        }
    }

    fn more(&self) -> bool {
        self.pos < self.buf.len()
    }

    fn varint(&mut self) -> Result<u64> {
        let mut x: u64 = 0;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(DecodeError("proto: integer overflow".to_string()));
            }
            let b = *self.buf.get(self.pos).ok_or_else(eof)?;
            self.pos += 1;
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
            shift += 7;
        }
    }

    /// tag reads a field key: (field number, wire type).
    fn tag(&mut self) -> Result<(u32, u8)> {
        let key = self.varint()?;
        let field = (key >> 3) as i32;
        let wt = (key & 7) as u8;
        if wt == WT_END_GROUP {
            return Err(DecodeError(format!(
                "proto: {}: wiretype end group for non-group",
                self.message
            )));
        }
        if field <= 0 {
            return Err(DecodeError(format!(
                "proto: {}: illegal tag {field} (wire type {wt})",
                self.message
            )));
        }
        Ok((field as u32, wt))
    }

    fn fixed64(&mut self) -> Result<u64> {
        let end = self.pos.checked_add(8).ok_or_else(eof)?;
        let b: [u8; 8] = self
            .buf
            .get(self.pos..end)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(eof)?;
        self.pos = end;
        Ok(u64::from_le_bytes(b))
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.varint()?;
        if len > i64::MAX as u64 {
            return Err(DecodeError(
                "proto: negative length found during unmarshaling".to_string(),
            ));
        }
        let end = self
            .pos
            .checked_add(len as usize)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(eof)?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn str(&mut self, field: &str) -> Result<Cow<'a, str>> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map(Cow::Borrowed).map_err(|_| {
            DecodeError(format!(
                "proto: {}: invalid UTF-8 in field {field}",
                self.message
            ))
        })
    }

    /// skip skips the value of a field whose key was just read.
    fn skip(&mut self, wt: u8) -> Result<()> {
        let mut depth = 0usize;
        let mut wt = wt;
        loop {
            match wt {
                WT_VARINT => {
                    self.varint()?;
                }
                WT_FIXED64 => self.pos = self.pos.saturating_add(8),
                WT_LEN => {
                    self.bytes()?;
                }
                WT_START_GROUP => depth += 1,
                WT_END_GROUP => {
                    if depth == 0 {
                        return Err(DecodeError("proto: unexpected end of group".to_string()));
                    }
                    depth -= 1;
                }
                WT_FIXED32 => self.pos = self.pos.saturating_add(4),
                other => return Err(DecodeError(format!("proto: illegal wireType {other}"))),
            }
            if self.pos > self.buf.len() {
                return Err(eof());
            }
            if depth == 0 {
                return Ok(());
            }
            wt = (self.varint()? & 7) as u8;
        }
    }

    fn expect(&self, got: u8, want: u8, field: &str) -> Result<()> {
        if got == want {
            Ok(())
        } else {
            Err(DecodeError(format!(
                "proto: wrong wireType = {got} for field {field}"
            )))
        }
    }

    /// repeated_fixed64 appends a `repeated fixed64/double` field, packed
    /// or not.
    fn repeated_fixed64(&mut self, wt: u8, field: &str, out: &mut Vec<u64>) -> Result<()> {
        match wt {
            WT_FIXED64 => out.push(self.fixed64()?),
            WT_LEN => {
                let b = self.bytes()?;
                if b.len() % 8 != 0 {
                    return Err(eof());
                }
                out.extend(
                    b.chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
                );
            }
            _ => {
                return Err(DecodeError(format!(
                    "proto: wrong wireType = {wt} for field {field}"
                )))
            }
        }
        Ok(())
    }
}

/// decode_export_request decodes a protobuf `ExportMetricsServiceRequest`.
pub fn decode_export_request(buf: &[u8]) -> Result<ExportRequest<'_>> {
    let mut r = Reader::new(buf, "ExportMetricsServiceRequest");
    let mut out = ExportRequest::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                r.expect(wt, WT_LEN, "ResourceMetrics")?;
                out.resource_metrics.push(resource_metrics(r.bytes()?)?);
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(out)
}

fn resource_metrics(buf: &[u8]) -> Result<ResourceMetrics<'_>> {
    let mut r = Reader::new(buf, "ResourceMetrics");
    let mut out = ResourceMetrics::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                r.expect(wt, WT_LEN, "Resource")?;
                let mut res = Reader::new(r.bytes()?, "Resource");
                while res.more() {
                    let (f, w) = res.tag()?;
                    if f == 1 {
                        res.expect(w, WT_LEN, "Attributes")?;
                        out.resource.push(key_value(res.bytes()?, 0)?);
                    } else {
                        res.skip(w)?;
                    }
                }
            }
            2 => {
                r.expect(wt, WT_LEN, "ScopeMetrics")?;
                out.scope_metrics.push(scope_metrics(r.bytes()?)?);
            }
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
                r.expect(wt, WT_LEN, "Scope")?;
                let mut s = Reader::new(r.bytes()?, "InstrumentationScope");
                while s.more() {
                    let (f, w) = s.tag()?;
                    match f {
                        1 => {
                            s.expect(w, WT_LEN, "Name")?;
                            out.scope_name = s.str("Name")?;
                        }
                        2 => {
                            s.expect(w, WT_LEN, "Version")?;
                            out.scope_version = s.str("Version")?;
                        }
                        3 => {
                            s.expect(w, WT_LEN, "Attributes")?;
                            out.scope_attributes.push(key_value(s.bytes()?, 0)?);
                        }
                        _ => s.skip(w)?,
                    }
                }
            }
            2 => {
                r.expect(wt, WT_LEN, "Metrics")?;
                out.metrics.push(metric(r.bytes()?)?);
            }
            3 => {
                r.expect(wt, WT_LEN, "SchemaUrl")?;
                out.schema_url = r.str("SchemaUrl")?;
            }
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
            1 => {
                r.expect(wt, WT_LEN, "Name")?;
                out.name = r.str("Name")?;
            }
            2 => {
                r.expect(wt, WT_LEN, "Description")?;
                out.description = r.str("Description")?;
            }
            3 => {
                r.expect(wt, WT_LEN, "Unit")?;
                out.unit = r.str("Unit")?;
            }
            5 => {
                r.expect(wt, WT_LEN, "Gauge")?;
                let (points, _, _) = number_points(r.bytes()?, "Gauge")?;
                out.data = MetricData::Gauge(points);
            }
            7 => {
                r.expect(wt, WT_LEN, "Sum")?;
                let (points, temporality, monotonic) = number_points(r.bytes()?, "Sum")?;
                out.data = MetricData::Sum {
                    points,
                    temporality,
                    monotonic,
                };
            }
            9 => {
                r.expect(wt, WT_LEN, "Histogram")?;
                out.data = histogram(r.bytes()?)?;
            }
            10 => {
                r.expect(wt, WT_LEN, "ExponentialHistogram")?;
                out.data = exponential_histogram(r.bytes()?)?;
            }
            11 => {
                r.expect(wt, WT_LEN, "Summary")?;
                out.data = summary(r.bytes()?)?;
            }
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
            1 => {
                r.expect(wt, WT_LEN, "DataPoints")?;
                points.push(number_point(r.bytes()?)?);
            }
            2 if message == "Sum" => {
                r.expect(wt, WT_VARINT, "AggregationTemporality")?;
                temporality = r.varint()? as i32;
            }
            3 if message == "Sum" => {
                r.expect(wt, WT_VARINT, "IsMonotonic")?;
                monotonic = r.varint()? != 0;
            }
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
            7 => {
                r.expect(wt, WT_LEN, "Attributes")?;
                p.attributes.push(key_value(r.bytes()?, 0)?);
            }
            3 => {
                r.expect(wt, WT_FIXED64, "TimeUnixNano")?;
                p.time_unix_nano = r.fixed64()?;
            }
            4 => {
                r.expect(wt, WT_FIXED64, "AsDouble")?;
                p.value = f64::from_bits(r.fixed64()?);
            }
            6 => {
                r.expect(wt, WT_FIXED64, "AsInt")?;
                p.value = r.fixed64()? as i64 as f64;
            }
            8 => {
                r.expect(wt, WT_VARINT, "Flags")?;
                p.flags = r.varint()? as u32;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(p)
}

fn histogram(buf: &[u8]) -> Result<MetricData<'_>> {
    let mut r = Reader::new(buf, "Histogram");
    let (mut points, mut temporality) = (Vec::new(), 0i32);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                r.expect(wt, WT_LEN, "DataPoints")?;
                points.push(histogram_point(r.bytes()?)?);
            }
            2 => {
                r.expect(wt, WT_VARINT, "AggregationTemporality")?;
                temporality = r.varint()? as i32;
            }
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
            9 => {
                r.expect(wt, WT_LEN, "Attributes")?;
                p.attributes.push(key_value(r.bytes()?, 0)?);
            }
            3 => {
                r.expect(wt, WT_FIXED64, "TimeUnixNano")?;
                p.time_unix_nano = r.fixed64()?;
            }
            4 => {
                r.expect(wt, WT_FIXED64, "Count")?;
                p.count = r.fixed64()?;
            }
            5 => {
                r.expect(wt, WT_FIXED64, "Sum")?;
                p.sum = Some(f64::from_bits(r.fixed64()?));
            }
            6 => r.repeated_fixed64(wt, "BucketCounts", &mut p.bucket_counts)?,
            7 => r.repeated_fixed64(wt, "ExplicitBounds", &mut bounds)?,
            10 => {
                r.expect(wt, WT_VARINT, "Flags")?;
                p.flags = r.varint()? as u32;
            }
            _ => r.skip(wt)?,
        }
    }
    p.explicit_bounds = bounds.into_iter().map(f64::from_bits).collect();
    Ok(p)
}

fn exponential_histogram(buf: &[u8]) -> Result<MetricData<'_>> {
    let mut r = Reader::new(buf, "ExponentialHistogram");
    let (mut times, mut temporality) = (Vec::new(), 0i32);
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            1 => {
                r.expect(wt, WT_LEN, "DataPoints")?;
                let mut p = Reader::new(r.bytes()?, "ExponentialHistogramDataPoint");
                let mut t = 0u64;
                while p.more() {
                    let (f, w) = p.tag()?;
                    if f == 3 {
                        p.expect(w, WT_FIXED64, "TimeUnixNano")?;
                        t = p.fixed64()?;
                    } else {
                        p.skip(w)?;
                    }
                }
                times.push(t);
            }
            2 => {
                r.expect(wt, WT_VARINT, "AggregationTemporality")?;
                temporality = r.varint()? as i32;
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(MetricData::ExponentialHistogram { times, temporality })
}

fn summary(buf: &[u8]) -> Result<MetricData<'_>> {
    let mut r = Reader::new(buf, "Summary");
    let mut points = Vec::new();
    while r.more() {
        let (field, wt) = r.tag()?;
        if field == 1 {
            r.expect(wt, WT_LEN, "DataPoints")?;
            points.push(summary_point(r.bytes()?)?);
        } else {
            r.skip(wt)?;
        }
    }
    Ok(MetricData::Summary(points))
}

fn summary_point(buf: &[u8]) -> Result<SummaryPoint<'_>> {
    let mut r = Reader::new(buf, "SummaryDataPoint");
    let mut p = SummaryPoint::default();
    while r.more() {
        let (field, wt) = r.tag()?;
        match field {
            7 => {
                r.expect(wt, WT_LEN, "Attributes")?;
                p.attributes.push(key_value(r.bytes()?, 0)?);
            }
            3 => {
                r.expect(wt, WT_FIXED64, "TimeUnixNano")?;
                p.time_unix_nano = r.fixed64()?;
            }
            4 => {
                r.expect(wt, WT_FIXED64, "Count")?;
                p.count = r.fixed64()?;
            }
            5 => {
                r.expect(wt, WT_FIXED64, "Sum")?;
                p.sum = f64::from_bits(r.fixed64()?);
            }
            6 => {
                r.expect(wt, WT_LEN, "QuantileValues")?;
                let mut q = Reader::new(r.bytes()?, "SummaryDataPoint_ValueAtQuantile");
                let (mut quantile, mut value) = (0.0, 0.0);
                while q.more() {
                    let (f, w) = q.tag()?;
                    match f {
                        1 => {
                            q.expect(w, WT_FIXED64, "Quantile")?;
                            quantile = f64::from_bits(q.fixed64()?);
                        }
                        2 => {
                            q.expect(w, WT_FIXED64, "Value")?;
                            value = f64::from_bits(q.fixed64()?);
                        }
                        _ => q.skip(w)?,
                    }
                }
                p.quantiles.push((quantile, value));
            }
            8 => {
                r.expect(wt, WT_VARINT, "Flags")?;
                p.flags = r.varint()? as u32;
            }
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
            1 => {
                r.expect(wt, WT_LEN, "Key")?;
                kv.key = r.str("Key")?;
            }
            2 => {
                r.expect(wt, WT_LEN, "Value")?;
                kv.value = any_value(r.bytes()?, depth)?;
            }
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
            1 => {
                r.expect(wt, WT_LEN, "StringValue")?;
                v = AnyValue::String(r.str("StringValue")?);
            }
            2 => {
                r.expect(wt, WT_VARINT, "BoolValue")?;
                v = AnyValue::Bool(r.varint()? != 0);
            }
            3 => {
                r.expect(wt, WT_VARINT, "IntValue")?;
                v = AnyValue::Int(r.varint()? as i64);
            }
            4 => {
                r.expect(wt, WT_FIXED64, "DoubleValue")?;
                v = AnyValue::Double(f64::from_bits(r.fixed64()?));
            }
            5 => {
                r.expect(wt, WT_LEN, "ArrayValue")?;
                let mut a = Reader::new(r.bytes()?, "ArrayValue");
                let mut values = Vec::new();
                while a.more() {
                    let (f, w) = a.tag()?;
                    if f == 1 {
                        a.expect(w, WT_LEN, "Values")?;
                        values.push(any_value(a.bytes()?, depth + 1)?);
                    } else {
                        a.skip(w)?;
                    }
                }
                v = AnyValue::Array(values);
            }
            6 => {
                r.expect(wt, WT_LEN, "KvlistValue")?;
                let mut a = Reader::new(r.bytes()?, "KeyValueList");
                let mut values = Vec::new();
                while a.more() {
                    let (f, w) = a.tag()?;
                    if f == 1 {
                        a.expect(w, WT_LEN, "Values")?;
                        values.push(key_value(a.bytes()?, depth + 1)?);
                    } else {
                        a.skip(w)?;
                    }
                }
                v = AnyValue::KvList(values);
            }
            7 => {
                r.expect(wt, WT_LEN, "BytesValue")?;
                v = AnyValue::Bytes(Cow::Borrowed(r.bytes()?));
            }
            _ => r.skip(wt)?,
        }
    }
    Ok(v)
}
