//! Decoder for the OTLP/JSON encoding of `ExportMetricsServiceRequest`
//! (protobuf JSON mapping: lowerCamelCase field names, snake_case accepted
//! too; 64-bit integers as strings or numbers; enums as numbers or names;
//! bytes in base64; doubles may be "NaN", "Infinity", "-Infinity").
//! Unknown fields are ignored.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::model::*;
use super::names::base64_decode;
use super::proto::DecodeError;

type Result<T> = std::result::Result<T, DecodeError>;
type Obj = Map<String, Value>;

fn err(msg: String) -> DecodeError {
    DecodeError(msg)
}

/// field finds a field by its JSON name or its proto name.
fn field<'v>(o: &'v Obj, camel: &str, snake: &str) -> Option<&'v Value> {
    o.get(camel)
        .or_else(|| o.get(snake))
        .filter(|v| !v.is_null())
}

fn object<'v>(v: &'v Value, what: &str) -> Result<&'v Obj> {
    v.as_object()
        .ok_or_else(|| err(format!("{what}: expected an object")))
}

fn array<'v>(o: &'v Obj, camel: &str, snake: &str) -> Result<&'v [Value]> {
    match field(o, camel, snake) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(err(format!("{camel}: expected an array"))),
    }
}

fn string(o: &Obj, camel: &str, snake: &str) -> Result<String> {
    match field(o, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(err(format!("{camel}: expected a string"))),
    }
}

/// uint64 reads a (fixed)64-bit unsigned integer sent as a string or number.
fn uint64(o: &Obj, camel: &str, snake: &str) -> Result<u64> {
    field(o, camel, snake).map_or(Ok(0), |v| uint64_value(v, camel))
}

fn uint64_value(v: &Value, what: &str) -> Result<u64> {
    match v {
        Value::String(s) => s
            .parse::<u64>()
            .map_err(|_| err(format!("{what}: invalid unsigned integer {s:?}"))),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| err(format!("{what}: invalid unsigned integer {n}"))),
        _ => Err(err(format!("{what}: expected an integer"))),
    }
}

fn int64_value(v: &Value, what: &str) -> Result<i64> {
    match v {
        Value::String(s) => s
            .parse::<i64>()
            .map_err(|_| err(format!("{what}: invalid integer {s:?}"))),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| err(format!("{what}: invalid integer {n}"))),
        _ => Err(err(format!("{what}: expected an integer"))),
    }
}

fn double_value(v: &Value, what: &str) -> Result<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| err(format!("{what}: invalid number {n}"))),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse::<f64>()
                .map_err(|_| err(format!("{what}: invalid number {other:?}"))),
        },
        _ => Err(err(format!("{what}: expected a number"))),
    }
}

fn double(o: &Obj, camel: &str, snake: &str) -> Result<Option<f64>> {
    field(o, camel, snake)
        .map(|v| double_value(v, camel))
        .transpose()
}

fn uint32(o: &Obj, camel: &str, snake: &str) -> Result<u32> {
    Ok(uint64(o, camel, snake)? as u32)
}

fn temporality(o: &Obj) -> Result<i32> {
    match field(o, "aggregationTemporality", "aggregation_temporality") {
        None => Ok(0),
        Some(Value::Number(n)) => Ok(n.as_i64().unwrap_or(0) as i32),
        Some(Value::String(s)) => Ok(match s.as_str() {
            "AGGREGATION_TEMPORALITY_DELTA" => TEMPORALITY_DELTA,
            "AGGREGATION_TEMPORALITY_CUMULATIVE" => TEMPORALITY_CUMULATIVE,
            "AGGREGATION_TEMPORALITY_UNSPECIFIED" => 0,
            other => other
                .parse::<i32>()
                .map_err(|_| err(format!("aggregationTemporality: unknown value {other:?}")))?,
        }),
        Some(_) => Err(err("aggregationTemporality: expected an enum".to_string())),
    }
}

/// decode_export_request_json decodes an OTLP/JSON body.
pub fn decode_export_request_json(body: &[u8]) -> Result<ExportRequest<'static>> {
    let root: Value = serde_json::from_slice(body).map_err(|e| err(format!("{e}")))?;
    let root = object(&root, "ExportMetricsServiceRequest")?;
    let mut out = ExportRequest::default();
    for rm in array(root, "resourceMetrics", "resource_metrics")? {
        let rm = object(rm, "resourceMetrics")?;
        let mut r = ResourceMetrics::default();
        if let Some(res) = field(rm, "resource", "resource") {
            r.resource = key_values(object(res, "resource")?, 0)?;
        }
        for sm in array(rm, "scopeMetrics", "scope_metrics")? {
            r.scope_metrics
                .push(scope_metrics(object(sm, "scopeMetrics")?)?);
        }
        out.resource_metrics.push(r);
    }
    Ok(out)
}

fn scope_metrics(o: &Obj) -> Result<ScopeMetrics<'static>> {
    let mut s = ScopeMetrics {
        schema_url: Cow::Owned(string(o, "schemaUrl", "schema_url")?),
        ..ScopeMetrics::default()
    };
    if let Some(scope) = field(o, "scope", "scope") {
        let scope = object(scope, "scope")?;
        s.scope_name = Cow::Owned(string(scope, "name", "name")?);
        s.scope_version = Cow::Owned(string(scope, "version", "version")?);
        s.scope_attributes = key_values(scope, 0)?;
    }
    for m in array(o, "metrics", "metrics")? {
        s.metrics.push(metric(object(m, "metrics")?)?);
    }
    Ok(s)
}

fn metric(o: &Obj) -> Result<Metric<'static>> {
    let mut m = Metric {
        name: Cow::Owned(string(o, "name", "name")?),
        description: Cow::Owned(string(o, "description", "description")?),
        unit: Cow::Owned(string(o, "unit", "unit")?),
        data: MetricData::Empty,
    };
    if let Some(g) = field(o, "gauge", "gauge") {
        m.data = MetricData::Gauge(number_points(object(g, "gauge")?)?);
    }
    if let Some(s) = field(o, "sum", "sum") {
        let s = object(s, "sum")?;
        let monotonic = match field(s, "isMonotonic", "is_monotonic") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err("isMonotonic: expected a boolean".to_string())),
        };
        m.data = MetricData::Sum {
            points: number_points(s)?,
            temporality: temporality(s)?,
            monotonic,
        };
    }
    if let Some(h) = field(o, "histogram", "histogram") {
        let h = object(h, "histogram")?;
        let mut points = Vec::new();
        for p in array(h, "dataPoints", "data_points")? {
            points.push(histogram_point(object(p, "dataPoints")?)?);
        }
        m.data = MetricData::Histogram {
            points,
            temporality: temporality(h)?,
        };
    }
    if let Some(h) = field(o, "exponentialHistogram", "exponential_histogram") {
        let h = object(h, "exponentialHistogram")?;
        let mut points = Vec::new();
        for p in array(h, "dataPoints", "data_points")? {
            points.push(exponential_point(object(p, "dataPoints")?)?);
        }
        m.data = MetricData::ExponentialHistogram {
            points,
            temporality: temporality(h)?,
        };
    }
    if let Some(s) = field(o, "summary", "summary") {
        let s = object(s, "summary")?;
        let mut points = Vec::new();
        for p in array(s, "dataPoints", "data_points")? {
            let p = object(p, "dataPoints")?;
            let mut quantiles = Vec::new();
            for q in array(p, "quantileValues", "quantile_values")? {
                let q = object(q, "quantileValues")?;
                quantiles.push((
                    double(q, "quantile", "quantile")?.unwrap_or(0.0),
                    double(q, "value", "value")?.unwrap_or(0.0),
                ));
            }
            points.push(SummaryPoint {
                attributes: key_values(p, 0)?,
                time_unix_nano: uint64(p, "timeUnixNano", "time_unix_nano")?,
                start_time_unix_nano: uint64(p, "startTimeUnixNano", "start_time_unix_nano")?,
                count: uint64(p, "count", "count")?,
                sum: double(p, "sum", "sum")?.unwrap_or(0.0),
                quantiles,
                flags: uint32(p, "flags", "flags")?,
            });
        }
        m.data = MetricData::Summary(points);
    }
    Ok(m)
}

fn number_points(o: &Obj) -> Result<Vec<NumberPoint<'static>>> {
    let mut out = Vec::new();
    for p in array(o, "dataPoints", "data_points")? {
        let p = object(p, "dataPoints")?;
        let mut value = 0.0;
        if let Some(v) = field(p, "asDouble", "as_double") {
            value = double_value(v, "asDouble")?;
        }
        if let Some(v) = field(p, "asInt", "as_int") {
            value = int64_value(v, "asInt")? as f64;
        }
        out.push(NumberPoint {
            attributes: key_values(p, 0)?,
            time_unix_nano: uint64(p, "timeUnixNano", "time_unix_nano")?,
            start_time_unix_nano: uint64(p, "startTimeUnixNano", "start_time_unix_nano")?,
            value,
            flags: uint32(p, "flags", "flags")?,
            exemplars: exemplars(p)?,
        });
    }
    Ok(out)
}

fn histogram_point(p: &Obj) -> Result<HistogramPoint<'static>> {
    let mut bucket_counts = Vec::new();
    for v in array(p, "bucketCounts", "bucket_counts")? {
        bucket_counts.push(int64_value(v, "bucketCounts")? as u64);
    }
    let mut explicit_bounds = Vec::new();
    for v in array(p, "explicitBounds", "explicit_bounds")? {
        explicit_bounds.push(double_value(v, "explicitBounds")?);
    }
    Ok(HistogramPoint {
        attributes: key_values(p, 0)?,
        time_unix_nano: uint64(p, "timeUnixNano", "time_unix_nano")?,
        start_time_unix_nano: uint64(p, "startTimeUnixNano", "start_time_unix_nano")?,
        count: uint64(p, "count", "count")?,
        sum: double(p, "sum", "sum")?,
        bucket_counts,
        explicit_bounds,
        flags: uint32(p, "flags", "flags")?,
        exemplars: exemplars(p)?,
    })
}

fn exponential_point(p: &Obj) -> Result<ExponentialHistogramPoint<'static>> {
    let scale = match field(p, "scale", "scale") {
        None => 0,
        Some(v) => i32::try_from(int64_value(v, "scale")?)
            .map_err(|_| err(format!("scale: invalid integer {v}")))?,
    };
    Ok(ExponentialHistogramPoint {
        attributes: key_values(p, 0)?,
        time_unix_nano: uint64(p, "timeUnixNano", "time_unix_nano")?,
        start_time_unix_nano: uint64(p, "startTimeUnixNano", "start_time_unix_nano")?,
        count: uint64(p, "count", "count")?,
        sum: double(p, "sum", "sum")?,
        scale,
        zero_count: uint64(p, "zeroCount", "zero_count")?,
        positive: exponential_buckets(p, "positive")?,
        negative: exponential_buckets(p, "negative")?,
        flags: uint32(p, "flags", "flags")?,
        exemplars: exemplars(p)?,
    })
}

/// exponential_buckets reads the `positive` or `negative` buckets of a point.
fn exponential_buckets(p: &Obj, side: &str) -> Result<ExponentialBuckets> {
    let Some(b) = field(p, side, side) else {
        return Ok(ExponentialBuckets::default());
    };
    let b = object(b, side)?;
    let offset = match field(b, "offset", "offset") {
        None => 0,
        Some(v) => i32::try_from(int64_value(v, "offset")?)
            .map_err(|_| err(format!("offset: invalid integer {v}")))?,
    };
    let mut bucket_counts = Vec::new();
    for v in array(b, "bucketCounts", "bucket_counts")? {
        bucket_counts.push(uint64_value(v, "bucketCounts")?);
    }
    Ok(ExponentialBuckets {
        offset,
        bucket_counts,
    })
}

/// exemplars reads a point's `exemplars` (trace and span IDs in hex, as
/// OTLP/JSON writes them).
fn exemplars(p: &Obj) -> Result<Vec<Exemplar<'static>>> {
    let mut out = Vec::new();
    for e in array(p, "exemplars", "exemplars")? {
        let e = object(e, "exemplars")?;
        let mut value = 0.0;
        if let Some(v) = field(e, "asDouble", "as_double") {
            value = double_value(v, "asDouble")?;
        }
        if let Some(v) = field(e, "asInt", "as_int") {
            value = int64_value(v, "asInt")? as f64;
        }
        let mut attrs = Vec::new();
        for kv in array(e, "filteredAttributes", "filtered_attributes")? {
            attrs.push(key_value(object(kv, "filteredAttributes")?, 0)?);
        }
        out.push(Exemplar {
            filtered_attributes: attrs,
            time_unix_nano: uint64(e, "timeUnixNano", "time_unix_nano")?,
            value,
            span_id: Cow::Owned(hex_id(e, "spanId", "span_id")?),
            trace_id: Cow::Owned(hex_id(e, "traceId", "trace_id")?),
        });
    }
    Ok(out)
}

/// hex_id decodes a hex trace or span ID (empty when absent).
fn hex_id(o: &Obj, camel: &str, snake: &str) -> Result<Vec<u8>> {
    let s = string(o, camel, snake)?;
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(format!("{camel}: invalid hex id {s:?}")));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect())
}

/// key_values reads the `attributes` array of an object.
fn key_values(o: &Obj, depth: usize) -> Result<Vec<KeyValue<'static>>> {
    let mut out = Vec::new();
    for kv in array(o, "attributes", "attributes")? {
        out.push(key_value(object(kv, "attributes")?, depth)?);
    }
    Ok(out)
}

fn key_value(kv: &Obj, depth: usize) -> Result<KeyValue<'static>> {
    let value = match field(kv, "value", "value") {
        None => AnyValue::Empty,
        Some(v) => any_value(object(v, "value")?, depth)?,
    };
    Ok(KeyValue {
        key: Cow::Owned(string(kv, "key", "key")?),
        value,
    })
}

fn any_value(o: &Obj, depth: usize) -> Result<AnyValue<'static>> {
    if depth > 64 {
        return Err(err("AnyValue: nested too deeply".to_string()));
    }
    if let Some(v) = field(o, "stringValue", "string_value") {
        return match v {
            Value::String(s) => Ok(AnyValue::String(Cow::Owned(s.clone()))),
            _ => Err(err("stringValue: expected a string".to_string())),
        };
    }
    if let Some(v) = field(o, "boolValue", "bool_value") {
        return match v {
            Value::Bool(b) => Ok(AnyValue::Bool(*b)),
            _ => Err(err("boolValue: expected a boolean".to_string())),
        };
    }
    if let Some(v) = field(o, "intValue", "int_value") {
        return Ok(AnyValue::Int(int64_value(v, "intValue")?));
    }
    if let Some(v) = field(o, "doubleValue", "double_value") {
        return Ok(AnyValue::Double(double_value(v, "doubleValue")?));
    }
    if let Some(v) = field(o, "arrayValue", "array_value") {
        let a = object(v, "arrayValue")?;
        let mut values = Vec::new();
        for item in array(a, "values", "values")? {
            values.push(any_value(object(item, "values")?, depth + 1)?);
        }
        return Ok(AnyValue::Array(values));
    }
    if let Some(v) = field(o, "kvlistValue", "kvlist_value") {
        let a = object(v, "kvlistValue")?;
        let mut values = Vec::new();
        for item in array(a, "values", "values")? {
            values.push(key_value(object(item, "values")?, depth + 1)?);
        }
        return Ok(AnyValue::KvList(values));
    }
    if let Some(v) = field(o, "bytesValue", "bytes_value") {
        let s = v
            .as_str()
            .ok_or_else(|| err("bytesValue: expected a base64 string".to_string()))?;
        let b = base64_decode(s).ok_or_else(|| err(format!("bytesValue: invalid base64 {s:?}")))?;
        return Ok(AnyValue::Bytes(Cow::Owned(b)));
    }
    Ok(AnyValue::Empty)
}
